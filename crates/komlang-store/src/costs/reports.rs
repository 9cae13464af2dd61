//! The cost of the current workforce and of deployment plans.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use komlang_core::costs::{cents, CostBook, CostError};
use komlang_core::{Action, AdminLevel, Cadre, FieldError, Principal, Sector, Target};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::data::{cost_data_on, CostData};
use crate::common::rows;
use crate::common::scope::{level_column, push_area, push_worker_scope};
use crate::common::sql::Sql;
use crate::{Result, Store, StoreError};

/// One year of a plan's cost.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlanCostYear {
    pub year: i32,
    /// New posts placed in the year.
    pub posts: u32,
    /// Salaries and allowances of every post placed so far, and the training of the year's new ones.
    pub cost: f64,
    /// Of which training.
    pub training: f64,
}

/// A deployment plan's cost, year by year.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlanCost {
    pub plan_id: i64,
    pub currency: String,
    pub years: Vec<PlanCostYear>,
    pub total: f64,
}

/// What a group of workers costs a year.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CostGroup {
    pub key: String,
    pub name_en: String,
    pub name_km: String,
    pub workers: u32,
    pub cost: f64,
}

/// The current workforce's yearly cost by unit, sector and funding source.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkforceCost {
    pub currency: String,
    pub year: i32,
    pub by_unit: Vec<CostGroup>,
    pub by_sector: Vec<CostGroup>,
    pub by_funding: Vec<CostGroup>,
    pub total: f64,
    pub workers: u32,
    /// Workers whose grade and step have no salary scale (not costed).
    pub not_costed: u32,
}

/// Workers in post alike for their cost: the unit of the level, the province and district of
/// their workplace (for allowances kept by place), sector, cadre, the funding of the post they
/// fill, their rank on the day (absent: their cadre's), and how many they are (negative for a
/// correction).
struct CostKind {
    unit: Option<String>,
    prov: Option<String>,
    dist: Option<String>,
    sector: String,
    cadre: String,
    funding: String,
    rank: Option<(String, u32)>,
    n: i64,
}

fn cost_kind(r: &sqlx::any::AnyRow, grade: &str, step: &str) -> Result<CostKind> {
    let rank = match r.try_get::<Option<String>, _>(grade)?.filter(|g| !g.is_empty()) {
        Some(g) => Some((g, r.try_get::<Option<i64>, _>(step)?.unwrap_or(0).max(0) as u32)),
        None => None,
    };
    Ok(CostKind {
        unit: r.try_get("k")?,
        prov: r.try_get("prov")?,
        dist: r.try_get("dist")?,
        sector: r.try_get("sector")?,
        cadre: r.try_get("cadre")?,
        funding: r.try_get("funding")?,
        rank,
        n: r.try_get::<i64, _>("n")?,
    })
}

fn cost_error(e: CostError) -> StoreError {
    let (field, code, value) = match &e {
        CostError::NoScale { grade, step, .. } => ("scales", "no_salary_scale", format!("{grade} {step}")),
        CostError::NoRate { currency, year } => ("rates", "no_rate", format!("{currency} {year}")),
        CostError::NoCadreCosting(c) => ("cadres", "no_cadre_costing", c.clone()),
        CostError::NoTrainingCost(l) => ("training", "no_training_cost", l.clone()),
    };
    StoreError::Invalid(komlang_core::ValidationErrors::single(FieldError::new(field, code).with("value", value)))
}

/// The codes of a unit and the units enclosing it (for allowances kept by place).
fn places(u: &komlang_core::AdminUnit) -> Vec<&str> {
    [Some(u.code.as_str()), u.province_code.as_deref(), u.district_code.as_deref(), u.commune_code.as_deref()]
        .into_iter()
        .flatten()
        .collect()
}

impl Store {
    /// The workers in post in `p`'s reach, by what their cost depends on (`col`: the unit of the
    /// level, over `admin_units u`), on `today`. Summed from the staff tallies (migration 0017)
    /// where they answer for the caller, corrected for the few workers whose latest rank starts
    /// after today (the tallies hold their latest); counted from the records otherwise.
    async fn cost_groups(&self, p: &Principal, col: &str, today: NaiveDate) -> Result<Vec<CostKind>> {
        let day = today.to_string();
        let place = format!("{col} AS k, u.province_code AS prov, u.district_code AS dist");
        let Some(area) = crate::workers::tally_area(p) else {
            let mut sql = Sql::new(&format!(
                "SELECT {place}, w.sector, w.cadre, COALESCE(f.funding, 'none') AS funding, r.grade AS r_grade, \
                 r.step AS r_step, COUNT(*) AS n \
                 FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
                 LEFT JOIN worker_ranks r ON r.id = (SELECT r2.id FROM worker_ranks r2 WHERE r2.worker_id = w.id \
                 AND r2.from_date <= "
            ));
            sql.text(day);
            sql.push(
                " ORDER BY r2.from_date DESC, r2.id DESC LIMIT 1) \
                 LEFT JOIN postings pg ON pg.worker_id = w.id AND pg.end_date IS NULL AND pg.post_id IS NOT NULL \
                 LEFT JOIN posts f ON f.id = pg.post_id WHERE w.status IN ('active', 'on_leave')",
            );
            push_worker_scope(&mut sql, &p.worker_scope());
            sql.push(&format!(
                " GROUP BY {col}, u.province_code, u.district_code, w.sector, w.cadre, COALESCE(f.funding, 'none'), r.grade, r.step"
            ));
            return sql
                .query()
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|r| cost_kind(r, "r_grade", "r_step"))
                .collect();
        };
        let mut sql = Sql::new(&format!(
            "SELECT {place}, t.sector, t.cadre, t.funding, t.grade, t.step, CAST(SUM(t.n) AS BIGINT) AS n \
             FROM staff_tallies t JOIN admin_units u ON u.code = t.workplace_code \
             WHERE t.status IN ('active', 'on_leave')"
        ));
        push_area(&mut sql, &area);
        sql.push(&format!(
            " GROUP BY {col}, u.province_code, u.district_code, t.sector, t.cadre, t.funding, t.grade, t.step \
             HAVING SUM(t.n) <> 0"
        ));
        let mut out: Vec<CostKind> = sql
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| cost_kind(r, "grade", "step"))
            .collect::<Result<_>>()?;
        // Workers with a rank still to come: out of the group of their latest rank, into that of
        // their rank today.
        let mut sql = Sql::new(&format!(
            "SELECT {place}, w.sector, w.cadre, w.post_funding AS funding, w.rank_grade, w.rank_step, CAST(1 AS BIGINT) AS n"
        ));
        for c in ["grade", "step"] {
            sql.push(&format!(", (SELECT r2.{c} FROM worker_ranks r2 WHERE r2.worker_id = w.id AND r2.from_date <= "));
            sql.text(day.clone()).push(&format!(" ORDER BY r2.from_date DESC, r2.id DESC LIMIT 1) AS a_{c}"));
        }
        sql.push(
            " FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
             WHERE w.status IN ('active', 'on_leave') AND w.id IN (SELECT worker_id FROM worker_ranks WHERE from_date > ",
        );
        sql.text(day.clone()).push(")");
        push_area(&mut sql, &area);
        for r in sql.query().fetch_all(&self.pool).await? {
            let mut kept = cost_kind(&r, "rank_grade", "rank_step")?;
            let now = cost_kind(&r, "a_grade", "a_step")?;
            kept.n = -1;
            out.push(kept);
            out.push(now);
        }
        Ok(out)
    }

    /// A saved plan's cost in `currency`, year by year: each year pays every post placed so
    /// far (twelve months of the grade its cadre is costed at, and the allowances of its place),
    /// and trains the year's new ones.
    pub async fn plan_cost(&self, p: &Principal, plan_id: i64, currency: &str) -> Result<PlanCost> {
        let Some(plan) = self.saved_plan(p, plan_id).await? else { return Err(StoreError::NotFound) };
        let data: CostData = cost_data_on(&mut *self.pool.acquire().await?).await?;
        if !data.currencies.iter().any(|c| c == currency) {
            return Err(StoreError::Invalid(komlang_core::ValidationErrors::single(
                FieldError::new("currency", "unknown_currency").with("value", currency),
            )));
        }
        let rates = data.rate_table();
        let book = CostBook { scales: &data.scales, allowances: &data.allowances, rates: &rates };
        let norm = self.planning_norm(p, &plan.norm).await?.map(|n| n.norm);
        let units: BTreeMap<String, komlang_core::AdminUnit> = {
            let mut m = BTreeMap::new();
            for x in &plan.result.posts {
                if !m.contains_key(&x.admin_code) {
                    if let Some(u) = self.admin_unit(&x.admin_code).await? {
                        m.insert(x.admin_code.clone(), u);
                    }
                }
            }
            m
        };
        let first = plan.request.start_year.min(plan.result.posts.iter().map(|x| x.year).min().unwrap_or(i32::MAX));
        let last = plan.request.target_year.max(plan.result.posts.iter().map(|x| x.year).max().unwrap_or(i32::MIN));
        let mut years = Vec::new();
        let mut total = 0.0;
        for year in first..=last {
            let (mut cost, mut training, mut posts) = (0.0, 0.0, 0u32);
            for x in plan.result.posts.iter().filter(|x| x.year <= year) {
                let cadre = match &norm {
                    Some(n) => crate::establishment::post_kind(n, x.level).0,
                    None => Cadre::ParaProfessional,
                };
                let c =
                    data.costing(cadre).ok_or_else(|| cost_error(CostError::NoCadreCosting(cadre.code().into())))?;
                let place = units.get(&x.admin_code).map(places).unwrap_or_default();
                let one = book.annual_post_cost(&c.grade, c.step, &place, year, currency).map_err(cost_error)?;
                cost += one * f64::from(x.count);
                if x.year == year {
                    posts += x.count;
                    if let Some(level) = c.certificate {
                        let t = data
                            .training_cost(level)
                            .ok_or_else(|| cost_error(CostError::NoTrainingCost(level.code().into())))?;
                        let t = rates.convert(t.cost, &t.currency, currency, year).map_err(cost_error)?;
                        training += t * f64::from(x.count);
                    }
                }
            }
            cost += training;
            total += cost;
            years.push(PlanCostYear { year, posts, cost: cents(cost), training: cents(training) });
        }
        Ok(PlanCost { plan_id, currency: currency.into(), years, total: cents(total) })
    }

    /// The yearly cost of the workers (active or on leave) in the caller's reach, by unit of a
    /// level, sector and funding source (of the post a worker fills; `none` without one). A
    /// worker is costed at their latest rank, else at their cadre's; one whose grade has no
    /// salary scale is counted in `not_costed`.
    pub async fn workforce_cost(
        &self,
        p: &Principal,
        level: AdminLevel,
        currency: &str,
        today: NaiveDate,
    ) -> Result<WorkforceCost> {
        p.require(Action::ReadPlanning, Target::Any)?;
        if !matches!(level, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune) {
            return Err(crate::common::store::invalid("level", "level_not_planned"));
        }
        let data = cost_data_on(&mut *self.pool.acquire().await?).await?;
        if !data.currencies.iter().any(|c| c == currency) {
            return Err(StoreError::Invalid(komlang_core::ValidationErrors::single(
                FieldError::new("currency", "unknown_currency").with("value", currency),
            )));
        }
        let rates = data.rate_table();
        let book = CostBook { scales: &data.scales, allowances: &data.allowances, rates: &rates };
        let col = level_column(level);
        let year = today.year();
        let (mut by_unit, mut by_sector, mut by_funding) = (
            BTreeMap::<String, (i64, f64)>::new(),
            BTreeMap::<String, (i64, f64)>::new(),
            BTreeMap::<String, (i64, f64)>::new(),
        );
        let (mut total, mut workers, mut not_costed) = (0.0, 0i64, 0i64);
        for g in self.cost_groups(p, col, today).await? {
            workers += g.n;
            let rank = match g.rank {
                Some(r) => Some(r),
                None => Cadre::parse(&g.cadre).and_then(|c| data.costing(c)).map(|c| (c.grade.clone(), c.step)),
            };
            let place: Vec<&str> = [g.prov.as_deref(), g.dist.as_deref()].into_iter().flatten().collect();
            let one = match rank {
                Some((grade, step)) => book.annual_post_cost(&grade, step, &place, year, currency).ok(),
                None => None,
            };
            let Some(one) = one else {
                not_costed += g.n;
                continue;
            };
            let cost = one * g.n as f64;
            total += cost;
            for (m, key) in
                [(&mut by_unit, g.unit.unwrap_or_default()), (&mut by_sector, g.sector), (&mut by_funding, g.funding)]
            {
                let e = m.entry(key).or_default();
                e.0 += g.n;
                e.1 += cost;
            }
        }
        // The names of the level's units, in one read.
        let mut names = BTreeMap::new();
        for r in sqlx::query("SELECT code, name_en, name_km FROM admin_units WHERE level = $1")
            .bind(level.code())
            .fetch_all(&self.pool)
            .await?
        {
            names.insert(r.try_get::<String, _>("code")?, (r.try_get("name_en")?, r.try_get("name_km")?));
        }
        let group = |m: BTreeMap<String, (i64, f64)>, name: &dyn Fn(&str) -> (String, String)| {
            m.into_iter()
                .map(|(k, (n, c))| {
                    let (en, km) = name(&k);
                    CostGroup { key: k, name_en: en, name_km: km, workers: rows::count(n), cost: cents(c) }
                })
                .collect::<Vec<_>>()
        };
        let unit_name = |k: &str| names.get(k).cloned().unwrap_or_default();
        let code_name = |k: &str| {
            let en = Sector::parse(k).map(|s| s.code().to_string()).unwrap_or_else(|| k.to_string());
            (en.clone(), en)
        };
        Ok(WorkforceCost {
            currency: currency.into(),
            year,
            by_unit: group(by_unit, &unit_name),
            by_sector: group(by_sector, &code_name),
            by_funding: group(by_funding, &code_name),
            total: cents(total),
            workers: rows::count(workers),
            not_costed: rows::count(not_costed),
        })
    }
}
