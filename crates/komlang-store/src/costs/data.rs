//! The data costs are computed from, read and kept (national administrators; a worker's rank by
//! whoever changes the worker's record).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use komlang_core::costs::{Allowance, CadreCosting, Rates, ScaleRow, TrainingCost};
use komlang_core::training::CertificateLevel;
use komlang_core::{Action, Cadre, FieldError, Principal, Target, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::rows::{date_col, parse_col};
use crate::common::sql::lock_key;
use crate::{now_text, Result, Store, StoreError};

/// A currency's rate for a year: units per US dollar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CurrencyRate {
    pub currency: String,
    pub year: i32,
    pub per_usd: f64,
}

/// Everything costs are computed from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CostData {
    /// Currency codes known (`USD`, `KHR`, ...).
    #[serde(default)]
    pub currencies: Vec<String>,
    pub rates: Vec<CurrencyRate>,
    pub scales: Vec<ScaleRow>,
    pub allowances: Vec<Allowance>,
    pub cadres: Vec<CadreCosting>,
    /// Training to each certificate level, per person.
    #[serde(default)]
    pub training: Vec<TrainingCost>,
}

impl CostData {
    pub fn rate_table(&self) -> Rates {
        Rates(self.rates.iter().map(|r| ((r.currency.clone(), r.year), r.per_usd)).collect())
    }

    pub fn costing(&self, cadre: Cadre) -> Option<&CadreCosting> {
        self.cadres.iter().find(|c| c.cadre == cadre)
    }

    /// What training to a level costs, per person (None: not given).
    pub fn training_cost(&self, level: CertificateLevel) -> Option<&TrainingCost> {
        self.training.iter().find(|t| t.level == level)
    }

    /// The problems of data as entered: known currencies, positive amounts and rates, one row
    /// per key, a costing for a cadre at most once.
    pub fn check(&self) -> std::result::Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        let known = |c: &str, field: String, errs: &mut ValidationErrors| {
            if !self.currencies.iter().any(|k| k == c) {
                errs.push(FieldError::new(&field, "unknown_currency").with("value", c));
            }
        };
        let mut keys = BTreeMap::new();
        for (n, r) in self.rates.iter().enumerate() {
            known(&r.currency, format!("rates[{n}].currency"), &mut errs);
            if !(r.per_usd.is_finite() && r.per_usd > 0.0) {
                errs.push(FieldError::new(&format!("rates[{n}].per_usd"), "must_be_positive"));
            }
            if keys.insert(format!("rate {} {}", r.currency, r.year), n).is_some() {
                errs.push(FieldError::new(&format!("rates[{n}]"), "duplicate_row"));
            }
        }
        for (n, s) in self.scales.iter().enumerate() {
            known(&s.currency, format!("scales[{n}].currency"), &mut errs);
            if !(s.monthly.is_finite() && s.monthly >= 0.0) {
                errs.push(FieldError::new(&format!("scales[{n}].monthly"), "must_be_positive"));
            }
            if s.grade.trim().is_empty() || s.grade.chars().count() > 20 {
                errs.push(FieldError::new(&format!("scales[{n}].grade"), "required"));
            }
            if keys.insert(format!("scale {} {} {}", s.grade, s.step, s.effective_from), n).is_some() {
                errs.push(FieldError::new(&format!("scales[{n}]"), "duplicate_row"));
            }
        }
        for (n, a) in self.allowances.iter().enumerate() {
            known(&a.currency, format!("allowances[{n}].currency"), &mut errs);
            if !(a.monthly.is_finite() && a.monthly >= 0.0) {
                errs.push(FieldError::new(&format!("allowances[{n}].monthly"), "must_be_positive"));
            }
            if a.code.trim().is_empty() || a.name_en.trim().is_empty() {
                errs.push(FieldError::new(&format!("allowances[{n}].code"), "required"));
            }
            if keys.insert(format!("allowance {} {}", a.code, a.effective_from), n).is_some() {
                errs.push(FieldError::new(&format!("allowances[{n}]"), "duplicate_row"));
            }
        }
        for (n, c) in self.cadres.iter().enumerate() {
            if c.grade.trim().is_empty() || c.grade.chars().count() > 20 {
                errs.push(FieldError::new(&format!("cadres[{n}].grade"), "required"));
            }
            if keys.insert(format!("cadre {}", c.cadre.code()), n).is_some() {
                errs.push(FieldError::new(&format!("cadres[{n}]"), "duplicate_row"));
            }
        }
        for (n, t) in self.training.iter().enumerate() {
            known(&t.currency, format!("training[{n}].currency"), &mut errs);
            if !(t.cost.is_finite() && t.cost >= 0.0) {
                errs.push(FieldError::new(&format!("training[{n}].cost"), "must_be_positive"));
            }
            if keys.insert(format!("training {}", t.level.code()), n).is_some() {
                errs.push(FieldError::new(&format!("training[{n}]"), "duplicate_row"));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// A worker's rank from a day.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkerRank {
    pub grade: String,
    pub step: u32,
    pub from_date: String,
    pub recorded_by: String,
}

/// A rank to record.
#[derive(Debug, Clone, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RankInput {
    pub grade: String,
    pub step: u32,
    #[schema(value_type = String, format = Date)]
    pub from_date: NaiveDate,
}

pub(crate) async fn cost_data_on(conn: &mut AnyConnection) -> Result<CostData> {
    let currencies = sqlx::query("SELECT code FROM currencies ORDER BY code")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| Ok(r.try_get::<String, _>("code")?))
        .collect::<Result<_>>()?;
    let rates = sqlx::query("SELECT currency, year, per_usd FROM exchange_rates ORDER BY currency, year")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(CurrencyRate {
                currency: r.try_get("currency")?,
                year: r.try_get::<i64, _>("year")? as i32,
                per_usd: r.try_get("per_usd")?,
            })
        })
        .collect::<Result<_>>()?;
    let scales = sqlx::query(
        "SELECT grade, step, effective_from, monthly, currency FROM salary_scales ORDER BY grade, step, effective_from",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(ScaleRow {
            grade: r.try_get("grade")?,
            step: r.try_get::<i64, _>("step")? as u32,
            effective_from: date_col(r, "effective_from")?,
            monthly: r.try_get("monthly")?,
            currency: r.try_get("currency")?,
        })
    })
    .collect::<Result<_>>()?;
    let allowances = sqlx::query(
        "SELECT code, effective_from, name_en, name_km, monthly, currency, units FROM allowances \
         ORDER BY code, effective_from",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(Allowance {
            code: r.try_get("code")?,
            name_en: r.try_get("name_en")?,
            name_km: r.try_get("name_km")?,
            effective_from: date_col(r, "effective_from")?,
            monthly: r.try_get("monthly")?,
            currency: r.try_get("currency")?,
            units: r.try_get::<String, _>("units")?.split_whitespace().map(String::from).collect(),
        })
    })
    .collect::<Result<_>>()?;
    let cadres = sqlx::query("SELECT cadre, grade, step, certificate_level FROM cadre_costing ORDER BY cadre")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(CadreCosting {
                cadre: parse_col(r, "cadre", Cadre::parse)?,
                grade: r.try_get("grade")?,
                step: r.try_get::<i64, _>("step")? as u32,
                certificate: r
                    .try_get::<Option<String>, _>("certificate_level")?
                    .as_deref()
                    .and_then(CertificateLevel::parse),
            })
        })
        .collect::<Result<_>>()?;
    let training = sqlx::query("SELECT level, cost, currency FROM training_costs ORDER BY level")
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| {
            Ok(TrainingCost {
                level: parse_col(r, "level", CertificateLevel::parse)?,
                cost: r.try_get("cost")?,
                currency: r.try_get("currency")?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(CostData { currencies, rates, scales, allowances, cadres, training })
}

impl Store {
    /// The data costs are computed from.
    pub async fn cost_data(&self, p: &Principal) -> Result<CostData> {
        p.require(Action::ReadPlanning, Target::Any)?;
        cost_data_on(&mut *self.pool.acquire().await?).await
    }

    /// Replaces the data costs are computed from (rates, scales, allowances, cadre costing; the
    /// currencies are kept, with any new three-letter code added). Audited with what it replaced.
    pub async fn set_cost_data(&self, p: &Principal, new: &CostData) -> Result<CostData> {
        self.change_cost_data(p, |d| *d = new.clone()).await
    }

    /// Changes the data costs are computed from as `change` says, applied to what is stored
    /// (under a lock: two changes at once each apply to the other's result). Audited.
    pub async fn change_cost_data(&self, p: &Principal, change: impl FnOnce(&mut CostData)) -> Result<CostData> {
        p.require(Action::KeepCosts, Target::Any)?;
        let mut tx = self.begin_write().await?;
        lock_key(&mut tx, "cost-data").await?;
        let before = cost_data_on(&mut tx).await?;
        let mut new = before.clone();
        change(&mut new);
        for c in &before.currencies {
            if !new.currencies.contains(c) {
                new.currencies.push(c.clone());
            }
        }
        new.currencies.retain(|c| c.len() == 3 && c.chars().all(|ch| ch.is_ascii_uppercase()));
        if let Err(e) = new.check() {
            sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
            return Err(StoreError::Invalid(e));
        }
        let now = now_text();
        for c in new.currencies.iter().filter(|c| !before.currencies.contains(c)) {
            sqlx::query("INSERT INTO currencies (code, name_en, name_km) VALUES ($1, $2, $3)")
                .bind(c)
                .bind(c)
                .bind(c)
                .execute(&mut *tx)
                .await?;
        }
        for t in ["exchange_rates", "salary_scales", "allowances", "cadre_costing", "training_costs"] {
            sqlx::query(&format!("DELETE FROM {t}")).execute(&mut *tx).await?;
        }
        for r in &new.rates {
            sqlx::query(
                "INSERT INTO exchange_rates (currency, year, per_usd, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&r.currency)
            .bind(i64::from(r.year))
            .bind(r.per_usd)
            .bind(&p.username)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for s in &new.scales {
            sqlx::query(
                "INSERT INTO salary_scales (grade, step, effective_from, monthly, currency, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(s.grade.trim())
            .bind(i64::from(s.step))
            .bind(s.effective_from.to_string())
            .bind(s.monthly)
            .bind(&s.currency)
            .bind(&p.username)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for a in &new.allowances {
            sqlx::query(
                "INSERT INTO allowances (code, effective_from, name_en, name_km, monthly, currency, units, recorded_by, \
                 recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(a.code.trim())
            .bind(a.effective_from.to_string())
            .bind(a.name_en.trim())
            .bind(a.name_km.trim())
            .bind(a.monthly)
            .bind(&a.currency)
            .bind(a.units.join(" "))
            .bind(&p.username)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for c in &new.cadres {
            sqlx::query(
                "INSERT INTO cadre_costing (cadre, grade, step, certificate_level, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(c.cadre.code())
            .bind(c.grade.trim())
            .bind(i64::from(c.step))
            .bind(c.certificate.map(|l| l.code()))
            .bind(&p.username)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for t in &new.training {
            sqlx::query(
                "INSERT INTO training_costs (level, cost, currency, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(t.level.code())
            .bind(t.cost)
            .bind(&t.currency)
            .bind(&p.username)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        record_audit(&mut tx, p, "update", "cost_data", "1", Some(&before), Some(&new)).await?;
        let stored = cost_data_on(&mut tx).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// A worker's rank history, latest first (None: not in the caller's reach).
    pub async fn worker_ranks(&self, p: &Principal, worker_id: i64) -> Result<Option<Vec<WorkerRank>>> {
        if self.get_worker(p, worker_id).await?.is_none() {
            return Ok(None);
        }
        let rows = sqlx::query(
            "SELECT grade, step, from_date, recorded_by FROM worker_ranks WHERE worker_id = $1 \
             ORDER BY from_date DESC, id DESC",
        )
        .bind(worker_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WorkerRank {
                    grade: r.try_get("grade")?,
                    step: r.try_get::<i64, _>("step")? as u32,
                    from_date: r.try_get("from_date")?,
                    recorded_by: r.try_get("recorded_by")?,
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    /// Records a worker's rank from a day (audited).
    pub async fn add_worker_rank(&self, p: &Principal, worker_id: i64, input: &RankInput) -> Result<Vec<WorkerRank>> {
        p.require(Action::EditWorker, Target::worker(worker_id))?;
        if self.get_worker(p, worker_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let grade = input.grade.trim();
        let mut errs = ValidationErrors::default();
        if grade.is_empty() {
            errs.push(FieldError::new("grade", "required"));
        } else if grade.chars().count() > 20 {
            errs.push(FieldError::new("grade", "too_long").with("max", 20));
        }
        if input.step > 100 {
            errs.push(FieldError::new("step", "out_of_range").with("min", 0).with("max", 100));
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let mut tx = self.begin_write().await?;
        crate::common::sql::lock_beside(&mut tx, "workers", worker_id).await?;
        sqlx::query(
            "INSERT INTO worker_ranks (worker_id, grade, step, from_date, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(worker_id)
        .bind(grade)
        .bind(i64::from(input.step))
        .bind(input.from_date.to_string())
        .bind(&p.username)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        let after = serde_json::json!({"grade": grade, "step": input.step, "from_date": input.from_date});
        record_audit(&mut tx, p, "create", "worker_rank", &worker_id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        Ok(self.worker_ranks(p, worker_id).await?.unwrap_or_default())
    }
}
