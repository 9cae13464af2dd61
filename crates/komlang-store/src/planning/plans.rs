//! Deployment plans: generated from a request, saved as named scenarios (audited).

use std::collections::{BTreeMap, BTreeSet};

use komlang_core::planning::{
    coverage, plan, Norm, Plan, PlanError, PlanParams, PlannedPosts, Weights, INVESTMENT_CASE, PLAN_LEVELS,
};
use komlang_core::{Action, Target};
use komlang_core::{AdminLevel, Principal, Scope, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::facts::{FactsQuery, UnitName};
use super::{depth, field_error, invalid};
use crate::common::audit::record_audit;
use crate::common::scope::push_area;
use crate::common::sql::Sql;
use crate::{now_text, Result, Store, StoreError};

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

impl Store {
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
        p.require(Action::MakePlans, Target::Any)?;
        let mut errs = ValidationErrors::default();
        if req.target_year < req.start_year {
            errs.push(field_error("target_year", "target_before_start"));
        } else if i64::from(req.target_year) - i64::from(req.start_year) >= i64::from(PLAN_YEARS_MAX) {
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
        p.require(Action::MakePlans, Target::Any)?;
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
        let mut tx = self.begin_write().await?;
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
        p.require(Action::ReadPlanning, Target::Any)?;
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
        p.require(Action::ReadPlanning, Target::Any)?;
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
