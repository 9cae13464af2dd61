//! Staffing norms, and the figures planning is given per unit: indicators, open caseloads and
//! vacancies.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use komlang_core::planning::{Norm, NormError};
use komlang_core::{Action, Target};
use komlang_core::{Principal, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use super::{field_error, invalid, PLAN_NAME_MAX};
use crate::common::audit::record_audit;
use crate::common::sql::Sql;
use crate::{now_text, Result, Store, StoreError};

/// The code of a norm's problem.
pub fn norm_error_code(e: NormError) -> &'static str {
    match e {
        NormError::BadName => "norm_name_format",
        NormError::NoRule => "norm_rule_missing",
        NormError::DuplicateLevel => "norm_level_twice",
        NormError::BadLevel => "norm_level_not_planned",
        NormError::BadRatio => "norm_ratio_bad",
    }
}

/// A norm as stored.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NormRecord {
    pub id: i64,
    pub name: String,
    pub title_en: String,
    pub title_km: String,
    pub norm: Norm,
    /// The investment case, shipped with Komlang (cannot be changed).
    pub builtin: bool,
    pub created_by: String,
    pub created_at: String,
}

/// A norm to add.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
pub struct NewNorm {
    pub name: String,
    #[serde(default)]
    pub title_en: String,
    #[serde(default)]
    pub title_km: String,
    pub rules: Vec<komlang_core::planning::NormRule>,
}

/// One indicator value of a unit in a year (e.g. a poverty index).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IndicatorRow {
    pub admin_code: String,
    /// Lowercase letters, digits, `_`, `-` and `.`, e.g. `poverty_index`.
    pub name: String,
    pub year: i32,
    pub value: f64,
}

/// Open cases of a unit on a day, from the case management systems.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseloadRow {
    pub admin_code: String,
    pub open_cases: u64,
    /// YYYY-MM-DD.
    #[schema(value_type = String, format = Date)]
    pub as_of: NaiveDate,
}

/// Approved posts not filled in a unit on a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VacancyRow {
    pub admin_code: String,
    pub vacancies: u32,
    /// YYYY-MM-DD.
    #[schema(value_type = String, format = Date)]
    pub as_of: NaiveDate,
}

fn norm_from_row(r: &AnyRow) -> Result<NormRecord> {
    let name: String = r.try_get("name")?;
    let rules_json: String = r.try_get("rules_json")?;
    let rules = serde_json::from_str(&rules_json).map_err(|e| StoreError::Corrupt(format!("norm {name}: {e}")))?;
    Ok(NormRecord {
        id: r.try_get("id")?,
        norm: Norm { name: name.clone(), rules },
        name,
        title_en: r.try_get("title_en")?,
        title_km: r.try_get("title_km")?,
        builtin: r.try_get::<i64, _>("builtin")? != 0,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

const NORM_COLS: &str = "id, name, title_en, title_km, rules_json, builtin, created_by, created_at";

impl Store {
    // ---------- norms ----------

    /// Every norm, the built-in one first.
    pub async fn planning_norms(&self, p: &Principal) -> Result<Vec<NormRecord>> {
        p.require(Action::ReadPlanning, Target::Any)?;
        let rows = sqlx::query(&format!("SELECT {NORM_COLS} FROM planning_norms ORDER BY builtin DESC, name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(norm_from_row).collect()
    }

    /// One norm by name.
    pub async fn planning_norm(&self, p: &Principal, name: &str) -> Result<Option<NormRecord>> {
        p.require(Action::ReadPlanning, Target::Any)?;
        let row = sqlx::query(&format!("SELECT {NORM_COLS} FROM planning_norms WHERE name = $1"))
            .bind(name.trim())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(norm_from_row).transpose()
    }

    /// Adds a norm (national administrators only), audited.
    pub async fn add_planning_norm(&self, p: &Principal, input: &NewNorm) -> Result<NormRecord> {
        p.require(Action::KeepNorms, Target::Any)?;
        let norm = Norm { name: input.name.trim().to_string(), rules: input.rules.clone() };
        let mut errs = ValidationErrors::default();
        if let Err(e) = norm.validate() {
            let field = if e == NormError::BadName { "name" } else { "rules" };
            errs.push(field_error(field, norm_error_code(e)));
        }
        for (field, v) in [("title_en", &input.title_en), ("title_km", &input.title_km)] {
            if v.chars().count() > PLAN_NAME_MAX {
                errs.push(field_error(field, "too_long").with("max", PLAN_NAME_MAX));
            }
        }
        if errs.is_empty() && self.planning_norm(p, &norm.name).await?.is_some() {
            errs.push(field_error("name", "norm_name_taken"));
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let title = |s: &str| if s.trim().is_empty() { norm.name.clone() } else { s.trim().to_string() };
        let rules_json = serde_json::to_string(&norm.rules).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO planning_norms (name, title_en, title_km, rules_json, builtin, created_by, created_at) \
             VALUES ($1, $2, $3, $4, 0, $5, $6) RETURNING id",
        )
        .bind(&norm.name)
        .bind(title(&input.title_en))
        .bind(title(&input.title_km))
        .bind(&rules_json)
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => invalid("name", "norm_name_taken"),
            _ => StoreError::from(e),
        })?;
        let id: i64 = row.try_get(0)?;
        let after = serde_json::json!({"name": norm.name, "rules": norm.rules});
        record_audit(&mut tx, p, "create", "planning_norm", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.planning_norm(p, &norm.name).await?.ok_or(StoreError::NotFound)
    }

    // ---------- indicators, caseloads, vacancies ----------

    /// The codes among `codes` that are no admin unit.
    async fn unknown_codes(&self, codes: &BTreeSet<&str>) -> Result<BTreeSet<String>> {
        let mut known = BTreeSet::new();
        let list: Vec<&str> = codes.iter().copied().collect();
        for chunk in list.chunks(500) {
            let mut sql = Sql::new("SELECT code FROM admin_units WHERE code IN (");
            for (i, c) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.text(*c);
            }
            sql.push(")");
            for r in sql.query().fetch_all(&self.pool).await? {
                known.insert(r.try_get::<String, _>(0)?);
            }
        }
        Ok(codes.iter().filter(|c| !known.contains(**c)).map(|c| c.to_string()).collect())
    }

    /// Row errors for unknown admin codes (rows numbered from 1).
    async fn check_codes<'a>(
        &self,
        codes: impl Iterator<Item = &'a str> + Clone,
        errs: &mut ValidationErrors,
    ) -> Result<()> {
        let set: BTreeSet<&str> = codes.clone().collect();
        let unknown = self.unknown_codes(&set).await?;
        for (i, c) in codes.enumerate() {
            if c.is_empty() {
                errs.push(field_error("admin_code", "required").with("row", i + 1));
            } else if unknown.contains(c) {
                errs.push(field_error("admin_code", "unknown_admin_unit").with("row", i + 1).with("value", c));
            }
        }
        Ok(())
    }

    /// Saves indicator values, replacing those of the same unit, name and
    /// year (national administrators only). All or nothing; audited once.
    pub async fn save_indicators(&self, p: &Principal, rows: &[IndicatorRow]) -> Result<usize> {
        p.require(Action::KeepNorms, Target::Any)?;
        let mut errs = ValidationErrors::default();
        self.check_codes(rows.iter().map(|r| r.admin_code.as_str()), &mut errs).await?;
        for (i, r) in rows.iter().enumerate() {
            let ok_name = !r.name.is_empty()
                && r.name.len() <= 64
                && r.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '-' | '.'));
            if !ok_name {
                errs.push(field_error("name", "indicator_name_format").with("row", i + 1).with("value", &r.name));
            }
            if !(1900..=2100).contains(&r.year) {
                errs.push(field_error("year", "invalid_year").with("row", i + 1));
            }
            if !r.value.is_finite() {
                errs.push(field_error("value", "invalid_number").with("row", i + 1));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let now = now_text();
        let mut tx = self.begin_write().await?;
        for r in rows {
            sqlx::query(
                "INSERT INTO planning_indicators (admin_code, name, year, value, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (admin_code, name, year) DO UPDATE SET \
                 value = excluded.value, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
            )
            .bind(&r.admin_code)
            .bind(&r.name)
            .bind(r.year as i64)
            .bind(r.value)
            .bind(&p.username)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        let names: BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let after = serde_json::json!({"rows": rows.len(), "names": names});
        record_audit(&mut tx, p, "import", "planning_indicators", &now, None, Some(&after)).await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Saves open caseloads (national administrators only), replacing those
    /// of the same unit and day. All or nothing; audited once.
    pub async fn save_caseloads(&self, p: &Principal, rows: &[CaseloadRow]) -> Result<usize> {
        let too_big = rows.iter().any(|r| r.open_cases > i64::MAX as u64);
        let counts = rows.iter().map(|r| (r.admin_code.as_str(), r.as_of, r.open_cases as i64));
        self.save_unit_counts(p, "planning_caseloads", "open_cases", counts.collect(), too_big).await
    }

    /// Saves vacancies (national administrators only), replacing those of
    /// the same unit and day. All or nothing; audited once.
    pub async fn save_vacancies(&self, p: &Principal, rows: &[VacancyRow]) -> Result<usize> {
        let counts = rows.iter().map(|r| (r.admin_code.as_str(), r.as_of, r.vacancies as i64));
        self.save_unit_counts(p, "planning_vacancies", "vacancies", counts.collect(), false).await
    }

    /// Upserts one count per unit and day into `table` (`planning_caseloads` or
    /// `planning_vacancies`, whose count column is `column`), all or nothing, audited once.
    async fn save_unit_counts(
        &self,
        p: &Principal,
        table: &'static str,
        column: &'static str,
        rows: Vec<(&str, NaiveDate, i64)>,
        count_too_big: bool,
    ) -> Result<usize> {
        p.require(Action::KeepNorms, Target::Any)?;
        let mut errs = ValidationErrors::default();
        self.check_codes(rows.iter().map(|r| r.0), &mut errs).await?;
        if count_too_big {
            errs.push(field_error(column, "invalid_number"));
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let now = now_text();
        let sql = format!(
            "INSERT INTO {table} (admin_code, as_of, {column}, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (admin_code, as_of) DO UPDATE SET \
             {column} = excluded.{column}, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at"
        );
        let mut tx = self.begin_write().await?;
        for (code, as_of, count) in &rows {
            sqlx::query(&sql)
                .bind(*code)
                .bind(as_of.to_string())
                .bind(*count)
                .bind(&p.username)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
        }
        let after = serde_json::json!({"rows": rows.len()});
        record_audit(&mut tx, p, "import", table, &now, None, Some(&after)).await?;
        tx.commit().await?;
        Ok(rows.len())
    }

    /// Names of the indicators entered, in order.
    pub async fn indicator_names(&self) -> Result<Vec<String>> {
        let rows =
            sqlx::query("SELECT DISTINCT name FROM planning_indicators ORDER BY name").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
    }
}
