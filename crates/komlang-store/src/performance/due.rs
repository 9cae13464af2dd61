//! Who is due an appraisal, overdue, or has open corrective actions: figures by unit and the
//! lists behind them.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use komlang_core::performance::{due_on, due_state, AppraisalSettings, DueState};
use komlang_core::{Action, AdminLevel, AdminUnit, Principal, Scope, Target};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::settings::settings_on;
use crate::common::rows::{count, opt_date};
use crate::common::scope::{level_column, push_within, push_worker_scope};
use crate::common::sql::Sql;
use crate::workers::{brief_from_row, WorkerBrief, BRIEF_COLS};
use crate::{Result, Store, StoreError};

/// The day a worker's next appraisal is counted from: the end of their last completed appraisal
/// period (kept on the worker by migration 0028's triggers), else their start date.
const BASE: &str = "COALESCE(w.appraisal_last, w.start_date)";

/// Appraisals in one unit (active workers by their workplace).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct PerformanceRow {
    /// The unit's code (empty in the total).
    pub unit: String,
    pub name_en: String,
    pub name_km: String,
    /// Active workers.
    pub workers: u32,
    /// Their appraisal falls due within the settings' days.
    pub due: u32,
    /// Past the day it fell due.
    pub overdue: u32,
    /// Never appraised and no start date recorded: when they are due is not known.
    pub unknown: u32,
    /// Appraisals completed within the last cycle.
    pub completed: u32,
    /// Workers with corrective actions not yet followed up.
    pub open_corrective: u32,
    /// Of them, those whose follow-up date has passed.
    pub corrective_late: u32,
    /// `overdue ÷ workers`, for the indicators (none without workers).
    pub overdue_share: Option<f64>,
}

/// Appraisals by unit of a level, with the total.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PerformanceReport {
    pub level: AdminLevel,
    pub settings: AppraisalSettings,
    pub items: Vec<PerformanceRow>,
    pub total: PerformanceRow,
}

/// The lists behind the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PerformanceList {
    Due,
    Overdue,
    Corrective,
}

impl PerformanceList {
    pub const ALL: [PerformanceList; 3] = [PerformanceList::Due, PerformanceList::Overdue, PerformanceList::Corrective];

    pub fn code(self) -> &'static str {
        match self {
            PerformanceList::Due => "due",
            PerformanceList::Overdue => "overdue",
            PerformanceList::Corrective => "corrective",
        }
    }

    pub fn parse(s: &str) -> Option<PerformanceList> {
        PerformanceList::ALL.into_iter().find(|k| k.code() == s.trim())
    }
}

/// One worker of a list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PerformanceListRow {
    pub worker: WorkerBrief,
    pub due: DueState,
    /// The day their next appraisal falls due.
    pub due_on: Option<String>,
    /// Open corrective actions (`corrective`).
    pub open_corrective: u32,
    /// The earliest follow-up date among them.
    pub next_follow_up: Option<String>,
}

/// The most rows a list answers.
pub const LIST_MAX: i64 = 1000;

fn share(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

impl Store {
    async fn performance_area(&self, p: &Principal, parent: Option<&str>) -> Result<Option<AdminUnit>> {
        p.require(Action::ReadAppraisals, Target::Any)?;
        if !p.may_in_scope(Action::ReadAppraisals) {
            return Err(StoreError::Forbidden);
        }
        match parent.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(code) => match self.admin_unit(code).await? {
                Some(u) if p.scope.contains(&u) => Ok(Some(u)),
                _ => Err(StoreError::NotFound),
            },
        }
    }

    /// Appraisals by unit of `level` (within `parent`) in the caller's reach: who is due,
    /// overdue, never dated, completed within the cycle, with open corrective actions.
    pub async fn performance_summary(
        &self,
        p: &Principal,
        level: AdminLevel,
        parent: Option<&str>,
        today: NaiveDate,
    ) -> Result<PerformanceReport> {
        let parent = self.performance_area(p, parent).await?;
        if !matches!(level, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune) {
            return Err(crate::common::store::invalid("level", "level_not_planned"));
        }
        let col = level_column(level);
        let settings = settings_on(&mut *self.pool.acquire().await?).await?;
        let mut units = Sql::new("SELECT u.code, u.name_en, u.name_km FROM admin_units u WHERE u.level = ");
        units.text(level.code());
        if let Scope::Unit { code, level } = &p.scope {
            units.push(" AND ").push(level_column(*level)).push(" = ").text(code.clone());
        }
        push_within(&mut units, parent.as_ref());
        units.push(" ORDER BY u.code");
        let mut rows: BTreeMap<String, PerformanceRow> = BTreeMap::new();
        for r in units.query().fetch_all(&self.pool).await? {
            let unit: String = r.try_get("code")?;
            let row = PerformanceRow {
                unit: unit.clone(),
                name_en: r.try_get("name_en")?,
                name_km: r.try_get("name_km")?,
                ..Default::default()
            };
            rows.insert(unit, row);
        }
        let overdue = settings.overdue_before(today).to_string();
        let due = settings.due_before(today).to_string();
        let mut sql = Sql::new(&format!(
            "SELECT {col} AS k, COUNT(*) AS n, CAST(SUM(CASE WHEN {BASE} IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS unknown, \
             CAST(SUM(CASE WHEN {BASE} < "
        ));
        sql.text(overdue.clone())
            .push(&format!(" THEN 1 ELSE 0 END) AS BIGINT) AS overdue, CAST(SUM(CASE WHEN {BASE} >= "));
        sql.text(overdue).push(&format!(" AND {BASE} < ")).text(due);
        sql.push(" THEN 1 ELSE 0 END) AS BIGINT) AS due, CAST(SUM(CASE WHEN w.appraisal_last >= ");
        sql.text(settings.overdue_before(today).to_string());
        sql.push(&format!(
            " THEN 1 ELSE 0 END) AS BIGINT) AS completed FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
             WHERE w.status = 'active' AND {col} IS NOT NULL"
        ));
        push_worker_scope(&mut sql, &p.worker_scope());
        push_within(&mut sql, parent.as_ref());
        sql.push(&format!(" GROUP BY {col}"));
        for r in sql.query().fetch_all(&self.pool).await? {
            let Some(k) = r.try_get::<Option<String>, _>("k")? else { continue };
            if let Some(row) = rows.get_mut(&k) {
                let n = |c: &str| -> Result<u32> { Ok(count(r.try_get::<Option<i64>, _>(c)?.unwrap_or(0))) };
                row.workers = n("n")?;
                row.unknown = n("unknown")?;
                row.overdue = n("overdue")?;
                row.due = n("due")?;
                row.completed = n("completed")?;
            }
        }
        let mut sql = Sql::new(&format!("SELECT {col} AS k, COUNT(*) AS n, CAST(SUM(CASE WHEN c.first < "));
        sql.text(today.to_string());
        sql.push(&format!(
            " THEN 1 ELSE 0 END) AS BIGINT) AS late FROM (SELECT a.worker_id, MIN(x.follow_up_on) AS first \
             FROM appraisal_actions x JOIN appraisals a ON a.id = x.appraisal_id \
             WHERE x.kind = 'corrective' AND x.done_on IS NULL GROUP BY a.worker_id) c \
             JOIN workers w ON w.id = c.worker_id JOIN admin_units u ON u.code = w.workplace_code \
             WHERE {col} IS NOT NULL"
        ));
        push_worker_scope(&mut sql, &p.worker_scope());
        push_within(&mut sql, parent.as_ref());
        sql.push(&format!(" GROUP BY {col}"));
        for r in sql.query().fetch_all(&self.pool).await? {
            let Some(k) = r.try_get::<Option<String>, _>("k")? else { continue };
            if let Some(row) = rows.get_mut(&k) {
                row.open_corrective = count(r.try_get("n")?);
                row.corrective_late = count(r.try_get::<Option<i64>, _>("late")?.unwrap_or(0));
            }
        }
        let mut total =
            PerformanceRow { name_en: "Total".into(), name_km: "សរុប".into(), ..Default::default() };
        let mut items: Vec<PerformanceRow> = rows.into_values().collect();
        for r in &mut items {
            r.overdue_share = share(r.overdue, r.workers);
            total.workers += r.workers;
            total.due += r.due;
            total.overdue += r.overdue;
            total.unknown += r.unknown;
            total.completed += r.completed;
            total.open_corrective += r.open_corrective;
            total.corrective_late += r.corrective_late;
        }
        total.overdue_share = share(total.overdue, total.workers);
        Ok(PerformanceReport { level, settings, items, total })
    }

    /// The workers of a list (within `parent`) in the caller's reach: due or overdue (the
    /// longest waiting first), or with open corrective actions (the earliest follow-up first);
    /// at most [`LIST_MAX`].
    pub async fn performance_list(
        &self,
        p: &Principal,
        kind: PerformanceList,
        parent: Option<&str>,
        today: NaiveDate,
    ) -> Result<Vec<PerformanceListRow>> {
        let parent = self.performance_area(p, parent).await?;
        let settings = settings_on(&mut *self.pool.acquire().await?).await?;
        let mut sql = match kind {
            PerformanceList::Due | PerformanceList::Overdue => {
                let mut sql = Sql::new(&format!(
                    "SELECT {BRIEF_COLS}, {BASE} AS base, CAST(0 AS BIGINT) AS n, CAST(NULL AS TEXT) AS next FROM workers w \
                     JOIN admin_units u ON u.code = w.workplace_code WHERE w.status = 'active' AND {BASE} < "
                ));
                if kind == PerformanceList::Overdue {
                    sql.text(settings.overdue_before(today).to_string());
                } else {
                    sql.text(settings.due_before(today).to_string());
                    sql.push(&format!(" AND {BASE} >= ")).text(settings.overdue_before(today).to_string());
                }
                sql
            }
            PerformanceList::Corrective => Sql::new(&format!(
                "SELECT {BRIEF_COLS}, {BASE} AS base, c.n, c.next FROM (SELECT a.worker_id, COUNT(*) AS n, \
                 MIN(x.follow_up_on) AS next FROM appraisal_actions x JOIN appraisals a ON a.id = x.appraisal_id \
                 WHERE x.kind = 'corrective' AND x.done_on IS NULL GROUP BY a.worker_id) c \
                 JOIN workers w ON w.id = c.worker_id JOIN admin_units u ON u.code = w.workplace_code \
                 WHERE 1 = 1"
            )),
        };
        push_worker_scope(&mut sql, &p.worker_scope());
        push_within(&mut sql, parent.as_ref());
        let order = match kind {
            PerformanceList::Corrective => " ORDER BY c.next, w.name_latin, w.id LIMIT ".to_string(),
            _ => format!(" ORDER BY {BASE}, w.name_latin, w.id LIMIT "),
        };
        sql.push(&order);
        sql.int(LIST_MAX);
        let mut out = Vec::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            let base = opt_date(&r, "base")?;
            out.push(PerformanceListRow {
                worker: brief_from_row(&r)?,
                due: due_state(base, &settings, today),
                due_on: base.and_then(|b| due_on(b, &settings)).map(|d| d.to_string()),
                open_corrective: count(r.try_get::<Option<i64>, _>("n")?.unwrap_or(0)),
                next_follow_up: r.try_get("next")?,
            });
        }
        Ok(out)
    }
}
