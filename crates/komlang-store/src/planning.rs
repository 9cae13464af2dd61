//! Workforce planning data: staffing norms (the built-in investment case and
//! norms added by national administrators), per-unit indicators, caseloads
//! and vacancies, the facts planning needs about every unit of a level
//! (built with one grouped query per table, not one per unit), and saved
//! deployment plans (named scenarios, audited).
//!
//! The arithmetic lives in `komlang_core::planning`; this module reads and
//! writes what it works on.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use komlang_core::planning::{
    can_make_plans, can_manage_planning, can_read_planning, coverage, plan, tally_workers, totals, Coverage,
    CoverageTotals, Norm, NormError, Plan, PlanError, PlanParams, PlannedPosts, UnitFacts, Weights, WorkerGroup,
    INVESTMENT_CASE, PLAN_LEVELS,
};
use komlang_core::{AdminLevel, AdminUnit, Cadre, FieldError, Principal, Scope, Sector, ValidationErrors, WorkerRole};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use crate::audit::record_audit;
use crate::sql::Sql;
use crate::workers::{level_column, push_area};
use crate::{now_text, Result, Store, StoreError};

/// A field error. Codes of planning are translated by the web layer
/// (`planning.error.<code>`, or the common `error.<code>`).
fn field_error(field: &str, code: &str) -> FieldError {
    FieldError::new(field, code)
}

fn invalid(field: &str, code: &str) -> StoreError {
    StoreError::Invalid(ValidationErrors::single(field_error(field, code)))
}

/// Error codes of planning that are not among the common `error.*` codes:
/// the web layer translates each as `planning.error.<code>` (checked by its tests).
pub const PLANNING_ERROR_CODES: &[&str] = &[
    "norm_name_format",
    "norm_name_taken",
    "norm_rule_missing",
    "norm_level_twice",
    "norm_level_not_planned",
    "norm_ratio_bad",
    "norm_missing",
    "level_above_parent",
    "level_not_planned",
    "indicator_name_format",
    "target_before_start",
    "weight_negative",
    "plan_too_long",
    "plan_missing",
];

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

/// Which units planning looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsQuery {
    pub level: AdminLevel,
    /// Only units within this one (None: the caller's whole scope).
    pub parent: Option<String>,
    /// Population figures of the latest year up to this one; caseloads and
    /// vacancies as of the end of it at the latest; indicators of the
    /// latest year up to it.
    pub year: i32,
}

/// A unit a plan or a coverage table names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnitName {
    pub name_en: String,
    pub name_km: String,
}

/// A unit that cannot take a post in a year.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub struct BlockedUnitYear {
    pub admin_code: String,
    pub year: i32,
}

/// What a deployment plan is asked for (kept with the saved plan).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlanRequest {
    /// Name of the scenario.
    pub name: String,
    /// Name of the norm (default: the investment case).
    #[serde(default = "default_norm")]
    pub norm: String,
    /// Plan only for units within this one (default: the caller's scope).
    #[serde(default)]
    pub parent: Option<String>,
    /// New posts to place (default: the whole gap).
    #[serde(default)]
    pub posts: Option<u32>,
    /// First year of recruitment; also the year of the population figures and caseloads used.
    pub start_year: i32,
    pub target_year: i32,
    /// Posts that can be recruited in one year (default: no limit).
    #[serde(default)]
    pub yearly_capacity: Option<u32>,
    #[serde(default)]
    pub weights: Weights,
    /// At most this many new posts in one unit.
    #[serde(default)]
    pub cap_per_unit: Option<u32>,
    /// Levels served one after another; empty: all together.
    #[serde(default)]
    pub level_order: Vec<AdminLevel>,
    /// Units that cannot take a post in a year.
    #[serde(default)]
    pub blocked: Vec<BlockedUnitYear>,
}

fn default_norm() -> String {
    INVESTMENT_CASE.to_string()
}

/// Longest scenario name.
pub const PLAN_NAME_MAX: usize = 200;
/// Longest span of a plan, in years.
pub const PLAN_YEARS_MAX: i32 = 30;

/// A generated plan with what it was computed on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlanOutcome {
    pub posts: Vec<PlannedPosts>,
    pub total: u32,
    pub unplaced: u32,
    /// Posts asked (the whole gap when none were given).
    pub asked: u32,
    /// The gap of the norm over the units planned for.
    pub total_gap: u32,
    /// Names of the units that get posts.
    pub units: BTreeMap<String, UnitName>,
}

/// A saved plan.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SavedPlan {
    pub id: i64,
    pub name: String,
    pub norm: String,
    /// The unit the plan covers (absent: the whole country).
    pub scope_code: Option<String>,
    pub request: PlanRequest,
    pub result: PlanOutcome,
    pub created_by: String,
    pub created_at: String,
}

/// A saved plan in a list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlanSummary {
    pub id: i64,
    pub name: String,
    pub norm: String,
    pub scope_code: Option<String>,
    pub total: i64,
    pub start_year: i32,
    pub target_year: i32,
    pub created_by: String,
    pub created_at: String,
}

/// The coverage of every unit of a level under a norm, with totals.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CoverageReport {
    pub norm: String,
    pub level: AdminLevel,
    /// Year of the population figures (latest up to it), caseloads and vacancies.
    pub year: i32,
    /// The unit whose units are shown (absent: the caller's scope).
    pub parent: Option<String>,
    pub units: Vec<Coverage>,
    pub totals: CoverageTotals,
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

/// Depth of a level (the country is 0).
fn depth(l: AdminLevel) -> usize {
    AdminLevel::ALL.iter().position(|x| *x == l).unwrap_or(0)
}

fn level_of(r: &AnyRow, col: &str) -> Result<AdminLevel> {
    let s: String = r.try_get(col)?;
    AdminLevel::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("admin level {s}")))
}

/// Figures of units within the units planned for, summed up to them: a
/// unit's own figure when it has one, else the sum over the level closest
/// below it that has figures (so communes and villages are not both counted).
#[derive(Default)]
struct RollUp {
    /// target → (own figure, figures by source depth).
    by_target: HashMap<String, (Option<f64>, BTreeMap<usize, f64>)>,
}

impl RollUp {
    fn add(&mut self, target: &str, source: &str, source_level: AdminLevel, value: f64) {
        let e = self.by_target.entry(target.to_string()).or_default();
        if source == target {
            e.0 = Some(e.0.unwrap_or(0.0) + value);
        } else {
            *e.1.entry(depth(source_level)).or_insert(0.0) += value;
        }
    }

    fn get(&self, target: &str) -> Option<f64> {
        let (own, below) = self.by_target.get(target)?;
        own.or_else(|| below.values().next().copied())
    }
}

/// The children among population rows of one unit and year: the `0-17`
/// group, else the sum of non-overlapping groups within 0-17.
fn children_of(groups: &BTreeMap<String, i64>) -> Option<i64> {
    if let Some(n) = groups.get("0-17") {
        return Some(*n);
    }
    let mut ranges: Vec<(u32, u32, i64)> = groups
        .iter()
        .filter_map(|(g, n)| {
            let (a, b) = g.split_once('-')?;
            let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
            (b <= 17).then_some((a, b, *n))
        })
        .collect();
    ranges.sort();
    let mut next = 0u32;
    let mut sum = None;
    for (a, b, n) in ranges {
        if a >= next {
            *sum.get_or_insert(0) += n;
            next = b + 1;
        }
    }
    sum
}

impl Store {
    // ---------- norms ----------

    /// Every norm, the built-in one first.
    pub async fn planning_norms(&self, p: &Principal) -> Result<Vec<NormRecord>> {
        if !can_read_planning(p) {
            return Err(StoreError::Forbidden);
        }
        let rows = sqlx::query(&format!("SELECT {NORM_COLS} FROM planning_norms ORDER BY builtin DESC, name"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(norm_from_row).collect()
    }

    /// One norm by name.
    pub async fn planning_norm(&self, p: &Principal, name: &str) -> Result<Option<NormRecord>> {
        if !can_read_planning(p) {
            return Err(StoreError::Forbidden);
        }
        let row = sqlx::query(&format!("SELECT {NORM_COLS} FROM planning_norms WHERE name = $1"))
            .bind(name.trim())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(norm_from_row).transpose()
    }

    /// Adds a norm (national administrators only), audited.
    pub async fn add_planning_norm(&self, p: &Principal, input: &NewNorm) -> Result<NormRecord> {
        if !can_manage_planning(p) {
            return Err(StoreError::Forbidden);
        }
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
        let mut tx = self.pool.begin().await?;
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
            _ => StoreError::Db(e),
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
        if !can_manage_planning(p) {
            return Err(StoreError::Forbidden);
        }
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
        let mut tx = self.pool.begin().await?;
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
        if !can_manage_planning(p) {
            return Err(StoreError::Forbidden);
        }
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
        let mut tx = self.pool.begin().await?;
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

    // ---------- facts per unit ----------

    /// The area a query covers: the parent unit (which must be in the
    /// caller's scope, else `NotFound`), or the caller's scope.
    pub async fn planning_area(&self, p: &Principal, parent: Option<&str>) -> Result<(Scope, Option<AdminUnit>)> {
        if !can_read_planning(p) {
            return Err(StoreError::Forbidden);
        }
        match parent.map(str::trim).filter(|s| !s.is_empty()) {
            None => match &p.scope {
                Scope::Nation => Ok((Scope::Nation, None)),
                Scope::Unit { code, .. } => {
                    let u = self.admin_unit(code).await?;
                    Ok((p.scope.clone(), u))
                }
            },
            Some(code) => {
                let Some(u) = self.admin_unit(code).await? else { return Err(StoreError::NotFound) };
                if !p.scope.contains(&u) {
                    return Err(StoreError::NotFound);
                }
                Ok((Scope::of(Some(&u)), Some(u)))
            }
        }
    }

    /// What planning knows of every unit of `q.level` in the area: workers
    /// in post under `norm` (government workers of the rule's kind whose
    /// workplace lies in the unit and who are active or on leave), all
    /// government workers, population and children, open cases, vacancies
    /// and indicators. One grouped query per table whatever the number of units.
    pub async fn unit_facts(&self, p: &Principal, norm: &Norm, q: &FactsQuery) -> Result<Vec<UnitFacts>> {
        let (area, parent) = self.planning_area(p, q.parent.as_deref()).await?;
        if !PLAN_LEVELS.contains(&q.level) {
            return Err(invalid("level", "level_not_planned"));
        }
        if let Some(u) = &parent {
            if depth(q.level) < depth(u.level) {
                return Err(invalid("level", "level_above_parent"));
            }
        }
        let col = level_column(q.level);
        let year_end = format!("{:04}-12-31", q.year);

        let mut sql = Sql::new("SELECT u.code, u.name_en, u.name_km FROM admin_units u WHERE u.level = ");
        sql.text(q.level.code());
        push_area(&mut sql, &area);
        sql.push(" ORDER BY u.code");
        let mut units: Vec<UnitFacts> = sql
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(UnitFacts {
                    code: r.try_get("code")?,
                    level: Some(q.level),
                    name_en: r.try_get("name_en")?,
                    name_km: r.try_get("name_km")?,
                    ..Default::default()
                })
            })
            .collect::<Result<_>>()?;
        if units.is_empty() {
            return Ok(units);
        }

        // Workers, grouped by unit and kind.
        let mut sql = Sql::new(&format!(
            "SELECT {col} AS k, w.sector, w.cadre, w.role, COUNT(*) AS n FROM workers w \
             JOIN admin_units u ON u.code = w.workplace_code \
             WHERE w.status IN ('active', 'on_leave') AND {col} IS NOT NULL"
        ));
        push_area(&mut sql, &area);
        sql.push(&format!(" GROUP BY {col}, w.sector, w.cadre, w.role"));
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut groups: Vec<(String, Sector, Cadre, WorkerRole, u32)> = Vec::with_capacity(rows.len());
        for r in &rows {
            let text = |c: &str| -> Result<String> { Ok(r.try_get::<String, _>(c)?) };
            let (s, c, ro) = (text("sector")?, text("cadre")?, text("role")?);
            let bad = |what: &str, v: &str| StoreError::Corrupt(format!("worker {what} {v}"));
            groups.push((
                text("k")?,
                Sector::parse(&s).ok_or_else(|| bad("sector", &s))?,
                Cadre::parse(&c).ok_or_else(|| bad("cadre", &c))?,
                WorkerRole::parse(&ro).ok_or_else(|| bad("role", &ro))?,
                r.try_get::<i64, _>("n")? as u32,
            ));
        }
        tally_workers(
            norm,
            q.level,
            &mut units,
            groups.iter().map(|(code, sector, cadre, role, count)| WorkerGroup {
                code,
                sector: *sector,
                cadre: *cadre,
                role: *role,
                count: *count,
            }),
        );

        // Population: each source unit's latest year up to q.year, then rolled up.
        let mut sql = Sql::new(&format!(
            "SELECT {col} AS k, p.admin_code, u.level, p.year, p.sex, p.age_group, p.count FROM population p \
             JOIN admin_units u ON u.code = p.admin_code WHERE {col} IS NOT NULL AND p.year <= "
        ));
        sql.int(q.year as i64);
        push_area(&mut sql, &area);
        // source → (target, level, year → sex → age group → count)
        type Figures = BTreeMap<i64, BTreeMap<String, BTreeMap<String, i64>>>;
        let mut pop: HashMap<String, (String, AdminLevel, Figures)> = HashMap::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            let source: String = r.try_get("admin_code")?;
            let e = pop.entry(source).or_insert_with(|| (String::new(), AdminLevel::Village, BTreeMap::new()));
            e.0 = r.try_get("k")?;
            e.1 = level_of(&r, "level")?;
            e.2.entry(r.try_get("year")?)
                .or_default()
                .entry(r.try_get("sex")?)
                .or_default()
                .insert(r.try_get("age_group")?, r.try_get("count")?);
        }
        let (mut total_up, mut children_up) = (RollUp::default(), RollUp::default());
        for (source, (target, level, years)) in &pop {
            let Some((_, sexes)) = years.iter().next_back() else { continue };
            // Both sexes: the `total` rows, else female + male.
            let both = |f: &dyn Fn(&BTreeMap<String, i64>) -> Option<i64>| -> Option<i64> {
                sexes.get("total").and_then(f).or_else(|| match (sexes.get("female"), sexes.get("male")) {
                    (Some(a), Some(b)) => Some(f(a)? + f(b)?),
                    _ => None,
                })
            };
            if let Some(n) = both(&|g| g.get("total").copied()) {
                total_up.add(target, source, *level, n as f64);
            }
            if let Some(n) = both(&children_of) {
                children_up.add(target, source, *level, n as f64);
            }
        }

        // Open cases and vacancies: each source unit's latest figure, rolled up.
        let latest = |table: &str, value: &str| {
            let mut sql = Sql::new(&format!(
                "SELECT {col} AS k, t.admin_code, u.level, t.as_of, t.{value} AS v FROM {table} t \
                 JOIN admin_units u ON u.code = t.admin_code WHERE {col} IS NOT NULL AND t.as_of <= "
            ));
            sql.text(year_end.clone());
            push_area(&mut sql, &area);
            sql
        };
        let mut rolled = Vec::new();
        for (table, value) in [("planning_caseloads", "open_cases"), ("planning_vacancies", "vacancies")] {
            let mut last: HashMap<String, (String, AdminLevel, String, i64)> = HashMap::new();
            for r in latest(table, value).query().fetch_all(&self.pool).await? {
                let source: String = r.try_get("admin_code")?;
                let as_of: String = r.try_get("as_of")?;
                if last.get(&source).is_some_and(|e| e.2 >= as_of) {
                    continue;
                }
                last.insert(source, (r.try_get("k")?, level_of(&r, "level")?, as_of, r.try_get("v")?));
            }
            let mut up = RollUp::default();
            for (source, (target, level, _, v)) in &last {
                up.add(target, source, *level, *v as f64);
            }
            rolled.push(up);
        }

        // Indicators of the units themselves, latest year up to q.year.
        let mut sql = Sql::new(
            "SELECT i.admin_code, i.name, i.year, i.value FROM planning_indicators i \
             JOIN admin_units u ON u.code = i.admin_code WHERE u.level = ",
        );
        sql.text(q.level.code()).push(" AND i.year <= ").int(q.year as i64);
        push_area(&mut sql, &area);
        sql.push(" ORDER BY i.year");
        let mut indicators: HashMap<String, BTreeMap<String, f64>> = HashMap::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            indicators.entry(r.try_get("admin_code")?).or_default().insert(r.try_get("name")?, r.try_get("value")?);
        }

        for u in &mut units {
            u.population = total_up.get(&u.code).map(|v| v as u64);
            u.children = children_up.get(&u.code).map(|v| v as u64);
            u.set_open_cases(rolled[0].get(&u.code).map(|v| v as u64));
            u.vacancies = rolled[1].get(&u.code).map(|v| v as u32).unwrap_or(0);
            u.indicators = indicators.remove(&u.code).unwrap_or_default();
        }
        Ok(units)
    }

    /// The coverage of every unit of `q.level` in the area under the norm named `norm`.
    pub async fn coverage_report(&self, p: &Principal, norm: &str, q: &FactsQuery) -> Result<CoverageReport> {
        let norm = self.norm_for(p, norm).await?;
        let units = self.unit_facts(p, &norm, q).await?;
        let units = coverage(&norm, &units);
        Ok(CoverageReport {
            norm: norm.name,
            level: q.level,
            year: q.year,
            parent: q.parent.clone().filter(|s| !s.trim().is_empty()),
            totals: totals(&units),
            units,
        })
    }

    /// Totals of a norm over every level it has a rule for, in the area
    /// (the supply projection starts from them).
    pub async fn norm_totals(
        &self,
        p: &Principal,
        norm: &Norm,
        parent: Option<&str>,
        year: i32,
    ) -> Result<CoverageTotals> {
        let (_, area) = self.planning_area(p, parent).await?;
        let mut all = Vec::new();
        for level in PLAN_LEVELS {
            if norm.rule(level).is_none() || area.as_ref().is_some_and(|u| depth(level) < depth(u.level)) {
                continue;
            }
            let q = FactsQuery { level, parent: parent.map(String::from), year };
            all.extend(coverage(norm, &self.unit_facts(p, norm, &q).await?));
        }
        Ok(totals(&all))
    }

    // ---------- plans ----------

    /// The norm named `name`, or `norm_missing`.
    pub async fn norm_for(&self, p: &Principal, name: &str) -> Result<Norm> {
        match self.planning_norm(p, name).await? {
            Some(n) => Ok(n.norm),
            None => Err(StoreError::Invalid(ValidationErrors::single(
                field_error("norm", "norm_missing").with("value", name),
            ))),
        }
    }

    /// Generates a plan (not saved) over every province, district and commune
    /// of the request's area that the caller may plan for.
    pub async fn generate_plan(&self, p: &Principal, req: &PlanRequest) -> Result<PlanOutcome> {
        if !can_make_plans(p) {
            return Err(StoreError::Forbidden);
        }
        let mut errs = ValidationErrors::default();
        if req.target_year < req.start_year {
            errs.push(field_error("target_year", "target_before_start"));
        } else if req.target_year - req.start_year >= PLAN_YEARS_MAX {
            errs.push(field_error("target_year", "plan_too_long").with("max", PLAN_YEARS_MAX));
        }
        for (field, y) in [("start_year", req.start_year), ("target_year", req.target_year)] {
            if !(1900..=2100).contains(&y) {
                errs.push(field_error(field, "invalid_year"));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let norm = self.norm_for(p, &req.norm).await?;
        let mut units = Vec::new();
        let (_, parent) = self.planning_area(p, req.parent.as_deref()).await?;
        for level in PLAN_LEVELS {
            if parent.as_ref().is_some_and(|u| depth(level) < depth(u.level)) {
                continue;
            }
            let q = FactsQuery { level, parent: req.parent.clone(), year: req.start_year };
            units.extend(self.unit_facts(p, &norm, &q).await?);
        }
        let params = PlanParams {
            posts: req.posts,
            start_year: req.start_year,
            target_year: req.target_year,
            yearly_capacity: req.yearly_capacity,
            weights: req.weights.clone(),
            cap_per_unit: req.cap_per_unit,
            level_order: req.level_order.clone(),
            blocked: req.blocked.iter().map(|b| (b.admin_code.clone(), b.year)).collect(),
        };
        let result: Plan = plan(&norm, &units, &params).map_err(|e| match e {
            PlanError::TargetBeforeStart => invalid("target_year", "target_before_start"),
            PlanError::BadWeight => invalid("weights", "weight_negative"),
        })?;
        let total_gap: u64 = coverage(&norm, &units).iter().map(|c| c.gap as u64).sum();
        let used: BTreeSet<&str> = result.posts.iter().map(|x| x.admin_code.as_str()).collect();
        let names = units
            .iter()
            .filter(|u| used.contains(u.code.as_str()))
            .map(|u| (u.code.clone(), UnitName { name_en: u.name_en.clone(), name_km: u.name_km.clone() }))
            .collect();
        Ok(PlanOutcome {
            asked: req.posts.unwrap_or(total_gap.min(u32::MAX as u64) as u32),
            total_gap: total_gap.min(u32::MAX as u64) as u32,
            posts: result.posts,
            total: result.total,
            unplaced: result.unplaced,
            units: names,
        })
    }

    /// Generates a plan and saves it as a named scenario, audited. Returns its id.
    pub async fn create_plan(&self, p: &Principal, req: &PlanRequest) -> Result<SavedPlan> {
        if !can_make_plans(p) {
            return Err(StoreError::Forbidden);
        }
        let name = req.name.trim();
        if name.is_empty() {
            return Err(invalid("name", "required"));
        }
        if name.chars().count() > PLAN_NAME_MAX {
            return Err(StoreError::Invalid(ValidationErrors::single(
                field_error("name", "too_long").with("max", PLAN_NAME_MAX),
            )));
        }
        let outcome = self.generate_plan(p, req).await?;
        let (_, area) = self.planning_area(p, req.parent.as_deref()).await?;
        let scope_code = area.map(|u| u.code);
        let mut req = req.clone();
        req.name = name.to_string();
        let params_json = serde_json::to_string(&req).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let result_json = serde_json::to_string(&outcome).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO planning_plans (name, norm_name, scope_code, start_year, target_year, params_json, \
             result_json, total_posts, created_by_user_id, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(name)
        .bind(&req.norm)
        .bind(&scope_code)
        .bind(req.start_year as i64)
        .bind(req.target_year as i64)
        .bind(&params_json)
        .bind(&result_json)
        .bind(outcome.total as i64)
        .bind(if p.user_id > 0 { Some(p.user_id) } else { None })
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        let after = serde_json::json!({
            "name": name, "norm": req.norm, "scope": scope_code, "total": outcome.total, "request": req,
        });
        record_audit(&mut tx, p, "create", "plan", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.saved_plan(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// Conditions keeping plans to those whose area lies in the caller's scope.
    fn plan_scope(p: &Principal, sql: &mut Sql) {
        if let Scope::Unit { .. } = &p.scope {
            sql.push(" AND pl.scope_code IS NOT NULL");
            push_area(sql, &p.scope);
        }
    }

    /// A saved plan the caller may see (None: absent or outside their scope).
    pub async fn saved_plan(&self, p: &Principal, id: i64) -> Result<Option<SavedPlan>> {
        if !can_read_planning(p) {
            return Err(StoreError::Forbidden);
        }
        let mut sql = Sql::new(
            "SELECT pl.id, pl.name, pl.norm_name, pl.scope_code, pl.params_json, pl.result_json, pl.created_by, \
             pl.created_at FROM planning_plans pl LEFT JOIN admin_units u ON u.code = pl.scope_code WHERE pl.id = ",
        );
        sql.int(id);
        Self::plan_scope(p, &mut sql);
        let Some(r) = sql.query().fetch_optional(&self.pool).await? else { return Ok(None) };
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("plan {id}: {e}"));
        Ok(Some(SavedPlan {
            id: r.try_get("id")?,
            name: r.try_get("name")?,
            norm: r.try_get("norm_name")?,
            scope_code: r.try_get("scope_code")?,
            request: serde_json::from_str(&r.try_get::<String, _>("params_json")?).map_err(corrupt)?,
            result: serde_json::from_str(&r.try_get::<String, _>("result_json")?).map_err(corrupt)?,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
        }))
    }

    /// Saved plans the caller may see, newest first.
    pub async fn saved_plans(&self, p: &Principal) -> Result<Vec<PlanSummary>> {
        if !can_read_planning(p) {
            return Err(StoreError::Forbidden);
        }
        let mut sql = Sql::new(
            "SELECT pl.id, pl.name, pl.norm_name, pl.scope_code, pl.total_posts, pl.start_year, pl.target_year, \
             pl.created_by, pl.created_at FROM planning_plans pl LEFT JOIN admin_units u ON u.code = pl.scope_code \
             WHERE 1 = 1",
        );
        Self::plan_scope(p, &mut sql);
        sql.push(" ORDER BY pl.id DESC LIMIT 500");
        sql.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(PlanSummary {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    norm: r.try_get("norm_name")?,
                    scope_code: r.try_get("scope_code")?,
                    total: r.try_get("total_posts")?,
                    start_year: r.try_get::<i64, _>("start_year")? as i32,
                    target_year: r.try_get::<i64, _>("target_year")? as i32,
                    created_by: r.try_get("created_by")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_from_the_groups_a_file_has() {
        let g = |pairs: &[(&str, i64)]| pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>();
        assert_eq!(children_of(&g(&[("0-17", 40), ("0-4", 10), ("total", 100)])), Some(40));
        assert_eq!(children_of(&g(&[("0-4", 10), ("5-9", 11), ("10-14", 12), ("15-17", 7), ("18-24", 9)])), Some(40));
        assert_eq!(children_of(&g(&[("0-4", 10), ("0-14", 30), ("15-17", 5)])), Some(15), "overlaps skipped");
        assert_eq!(children_of(&g(&[("total", 100), ("65+", 3)])), None);
    }

    #[test]
    fn roll_up_prefers_own_figures_then_the_closest_level() {
        let mut r = RollUp::default();
        r.add("02", "0201", AdminLevel::District, 10.0);
        r.add("02", "0202", AdminLevel::District, 5.0);
        r.add("02", "020101", AdminLevel::Commune, 99.0);
        assert_eq!(r.get("02"), Some(15.0));
        r.add("02", "02", AdminLevel::Province, 20.0);
        assert_eq!(r.get("02"), Some(20.0));
        assert_eq!(r.get("03"), None);
    }
}
