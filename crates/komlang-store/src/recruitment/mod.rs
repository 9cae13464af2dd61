//! Recruitment need by year (`komlang_core::recruitment`): per unit of a level, the vacant posts
//! of the establishment plus the filled posts expected to fall vacant (holders reaching the
//! retirement age, and the yearly exit rates for incapacity and death kept per cadre); and those
//! settings, kept by national administrators and audited. docs/recruitment.md.

mod demo;

use std::collections::HashMap;

use chrono::NaiveDate;
use komlang_core::recruitment::{check_retirement_age, need, ExitRates, Holder, Need};
use komlang_core::{Action, AdminLevel, Cadre, Principal, Target, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::rows::opt_date;
use crate::common::scope::{level_column, push_area};
use crate::common::sql::{lock_key, Sql};
use crate::establishment::EstablishmentQuery;
use crate::{now_text, Result, Store, StoreError};

/// A unit's recruitment need for the year.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NeedRow {
    /// The unit's code.
    pub unit: String,
    pub name_en: String,
    pub name_km: String,
    #[serde(flatten)]
    pub need: Need,
}

/// The need of every unit of a level in the caller's area (or `parent`'s).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NeedReport {
    pub year: i32,
    pub level: AdminLevel,
    pub parent: Option<String>,
    pub retirement_age: u32,
    /// The deployment plan whose new posts are added, if one was chosen.
    pub plan: Option<i64>,
    pub items: Vec<NeedRow>,
    /// The whole area's need (posts of units above the level, such as the ministry's, included).
    pub total: Need,
}

/// What sizes the need besides the vacancies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecruitmentSettings {
    pub retirement_age: u32,
    /// Rates per cadre (a cadre without rates: none expected to leave but by retirement).
    pub exit_rates: Vec<ExitRates>,
}

impl Store {
    /// The recruitment settings.
    pub async fn recruitment_settings(&self) -> Result<RecruitmentSettings> {
        let mut conn = self.pool.acquire().await?;
        settings_in(&mut conn).await
    }

    /// Sets the retirement age and the exit rates of the cadres given (others kept), audited.
    pub async fn set_recruitment_settings(&self, p: &Principal, new: &RecruitmentSettings) -> Result<()> {
        p.require(Action::KeepNorms, Target::Any)?;
        let mut errs = ValidationErrors::default();
        if let Err(e) = check_retirement_age(new.retirement_age) {
            errs.push(e);
        }
        for r in &new.exit_rates {
            if let Err(e) = ExitRates::checked(r.cadre, r.incapacity_per_1000, r.death_per_1000) {
                errs.push(e);
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let mut tx = self.begin_write().await?;
        lock_key(&mut tx, "recruitment-settings").await?;
        // Read under the lock: what the audit says was there is what this write replaced.
        let before = settings_in(&mut tx).await?;
        let now = now_text();
        sqlx::query(
            "UPDATE recruitment_settings SET retirement_age = $1, updated_by = $2, updated_at = $3 WHERE id = 1",
        )
        .bind(i64::from(new.retirement_age))
        .bind(&p.username)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        for r in &new.exit_rates {
            sqlx::query("DELETE FROM exit_rates WHERE cadre = $1").bind(r.cadre.code()).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO exit_rates (cadre, incapacity_per_1000, death_per_1000, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(r.cadre.code())
            .bind(r.incapacity_per_1000)
            .bind(r.death_per_1000)
            .bind(&p.username)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        record_audit(&mut tx, p, "update", "recruitment_settings", "1", Some(&before), Some(new)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The recruitment need in `year` of every unit of `level` in the caller's area (or within
    /// `parent`): the establishment's vacant posts (counted as the establishment counts them) and
    /// the holders of the posts filled now.
    ///
    /// With `plan` (a saved deployment plan the caller sees; `NotFound` otherwise), each unit's
    /// need also counts the plan's new posts in the year that are not yet approved as posts (an
    /// approved plan's posts are in the establishment, counted as vacant until filled).
    pub async fn recruitment_need(
        &self,
        p: &Principal,
        level: AdminLevel,
        parent: Option<&str>,
        year: i32,
        plan: Option<i64>,
        today: NaiveDate,
    ) -> Result<NeedReport> {
        let q = EstablishmentQuery { level, parent: parent.map(str::to_string), year, cadre: None, funding: None };
        let est = self.establishment(p, &q, today).await?;
        let (area, _) = self.planning_area(p, parent).await?;
        let settings = self.recruitment_settings().await?;
        let col = level_column(level);
        // The holders of the posts approved in the year and filled now, with the unit at the
        // level their post is in (none for a post above the level).
        let mut sql = Sql::new(&format!(
            "SELECT {col} AS unit, w.cadre, w.date_of_birth FROM postings ps JOIN posts po ON po.id = ps.post_id \
             JOIN workers w ON w.id = ps.worker_id JOIN admin_units u ON u.code = po.admin_code \
             WHERE ps.end_date IS NULL AND po.approved_year <= "
        ));
        sql.int(year.into()).push(" AND (po.ended_year IS NULL OR po.ended_year > ").int(year.into()).push(")");
        push_area(&mut sql, &area);
        let mut by_unit: HashMap<Option<String>, Vec<Holder>> = HashMap::new();
        let mut all = Vec::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            let code: String = r.try_get("cadre")?;
            let cadre = Cadre::parse(&code).ok_or_else(|| StoreError::Corrupt(format!("workers.cadre = {code}")))?;
            let h = Holder { cadre, born: opt_date(&r, "date_of_birth")? };
            by_unit.entry(r.try_get::<Option<String>, _>("unit")?).or_default().push(h);
            all.push(h);
        }
        let planned = match plan {
            Some(id) => self.planned_by_unit(p, id, year, level, &area).await?,
            None => HashMap::new(),
        };
        let age = settings.retirement_age;
        let items = est
            .items
            .iter()
            .map(|e| NeedRow {
                unit: e.unit.clone(),
                name_en: e.name_en.clone(),
                name_km: e.name_km.clone(),
                need: need(
                    e.vacant,
                    by_unit.get(&Some(e.unit.clone())).map_or(&[][..], Vec::as_slice),
                    year,
                    age,
                    &settings.exit_rates,
                )
                .with_planned(planned.get(&Some(e.unit.clone())).copied().unwrap_or(0)),
            })
            .collect();
        let planned_total = planned.values().copied().fold(0u32, u32::saturating_add);
        Ok(NeedReport {
            year,
            level,
            parent: est.parent.clone(),
            retirement_age: age,
            plan,
            items,
            total: need(est.total.vacant, &all, year, age, &settings.exit_rates).with_planned(planned_total),
        })
    }

    /// A saved plan's new posts in `year` within `area`, not yet approved as posts, by the unit
    /// at `level` they are in (None: a unit above the level).
    async fn planned_by_unit(
        &self,
        p: &Principal,
        plan: i64,
        year: i32,
        level: AdminLevel,
        area: &komlang_core::Scope,
    ) -> Result<HashMap<Option<String>, u32>> {
        let saved = self.saved_plan(p, plan).await?.ok_or(StoreError::NotFound)?;
        let units = self.units_by_code().await?;
        let mut approved: HashMap<String, u32> = HashMap::new();
        for r in sqlx::query(
            "SELECT admin_code, COUNT(*) AS n FROM posts WHERE plan_id = $1 AND approved_year = $2 GROUP BY admin_code",
        )
        .bind(plan)
        .bind(i64::from(year))
        .fetch_all(&self.pool)
        .await?
        {
            approved.insert(r.try_get("admin_code")?, crate::common::rows::count(r.try_get("n")?));
        }
        let mut out: HashMap<Option<String>, u32> = HashMap::new();
        for posts in saved.result.posts.iter().filter(|x| x.year == year) {
            let Some(u) = units.get(&posts.admin_code) else { continue };
            if !area.contains(u) {
                continue;
            }
            let taken = approved.get_mut(&posts.admin_code);
            let already = taken.as_ref().map_or(0, |n| (**n).min(posts.count));
            if let Some(n) = taken {
                *n -= already;
            }
            let at = match level {
                AdminLevel::Province => u.province_code.clone(),
                AdminLevel::District => u.district_code.clone(),
                AdminLevel::Commune => u.commune_code.clone(),
                _ => None,
            };
            let e = out.entry(at).or_default();
            *e = e.saturating_add(posts.count - already);
        }
        Ok(out)
    }
}

/// The recruitment settings, read on `conn`.
async fn settings_in(conn: &mut sqlx::AnyConnection) -> Result<RecruitmentSettings> {
    let age: i64 = sqlx::query("SELECT retirement_age FROM recruitment_settings WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?
        .unwrap_or(i64::from(komlang_core::recruitment::DEFAULT_RETIREMENT_AGE));
    let mut exit_rates = Vec::new();
    for r in sqlx::query("SELECT cadre, incapacity_per_1000, death_per_1000 FROM exit_rates ORDER BY cadre")
        .fetch_all(&mut *conn)
        .await?
    {
        let code: String = r.try_get(0)?;
        let cadre = Cadre::parse(&code).ok_or_else(|| StoreError::Corrupt(format!("exit_rates.cadre = {code}")))?;
        exit_rates.push(ExitRates { cadre, incapacity_per_1000: r.try_get(1)?, death_per_1000: r.try_get(2)? });
    }
    exit_rates.sort_by_key(|r| Cadre::ALL.iter().position(|c| *c == r.cadre));
    Ok(RecruitmentSettings { retirement_age: u32::try_from(age).unwrap_or(0), exit_rates })
}
