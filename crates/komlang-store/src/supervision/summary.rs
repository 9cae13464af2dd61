//! Supervision by unit, and the lists behind the figures: who has no supervisor, who was not
//! supervised lately, supervisors over the ratio or not eligible.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use komlang_core::supervision::{whole_years, Ineligible, SupervisionNorms};
use komlang_core::{Action, AdminLevel, Cadre, Principal, Scope, Target};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::norms::norms_on;
use crate::common::rows;
use crate::common::rows::opt_date;
use crate::common::scope::{level_column, push_within, push_worker_scope};
use crate::common::sql::Sql;
use crate::workers::{brief_from_row, WorkerBrief, BRIEF_COLS};
use crate::{Result, Store, StoreError};

/// Which units to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryQuery {
    pub level: AdminLevel,
    /// Only units within this one (in the caller's scope).
    pub parent: Option<String>,
}

/// Supervision in one unit (workers by their workplace).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SummaryRow {
    /// The unit's code.
    pub unit: String,
    pub name_en: String,
    pub name_km: String,
    /// Workers supervising someone now.
    pub supervisors: u32,
    /// Workers (active or on leave) with a supervisor now.
    pub supervisees: u32,
    /// Workers (active or on leave) without one.
    pub without_supervisor: u32,
    /// Supervisors with more supervisees than the norms allow.
    pub over_ratio: u32,
    /// Supervisors not eligible to supervise their supervisees.
    pub not_eligible: u32,
    /// Supervisees with no session within the norms' days.
    pub overdue: u32,
}

/// The lists behind the figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListKind {
    WithoutSupervisor,
    Overdue,
    OverRatio,
    NotEligible,
}

impl ListKind {
    pub const ALL: [ListKind; 4] =
        [ListKind::WithoutSupervisor, ListKind::Overdue, ListKind::OverRatio, ListKind::NotEligible];

    pub fn code(self) -> &'static str {
        match self {
            ListKind::WithoutSupervisor => "without_supervisor",
            ListKind::Overdue => "overdue",
            ListKind::OverRatio => "over_ratio",
            ListKind::NotEligible => "not_eligible",
        }
    }

    pub fn parse(s: &str) -> Option<ListKind> {
        ListKind::ALL.into_iter().find(|k| k.code() == s.trim())
    }
}

/// One worker of a list, with what puts them on it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ListRow {
    pub worker: WorkerBrief,
    /// Supervisees now (supervisors' lists).
    pub supervisees: Option<u32>,
    /// The most the norms allow them (supervisors' lists).
    pub limit: Option<u32>,
    /// Why they may not supervise (`not_eligible`).
    pub ineligible: Vec<Ineligible>,
    /// The last session they attended (`overdue`; absent: never).
    pub last_session: Option<String>,
}

/// A current supervisor in the area, with their supervisees.
struct SupervisorFacts {
    brief: WorkerBrief,
    cadre: Cadre,
    started: Option<NaiveDate>,
    /// How many workers they supervise.
    supervisees: u32,
    /// The cadres among their supervisees (each once).
    cadres: Vec<Cadre>,
    dedicated: bool,
}

impl SupervisorFacts {
    fn over(&self, n: &SupervisionNorms) -> bool {
        self.supervisees > n.limit(self.dedicated)
    }

    fn ineligible(&self, n: &SupervisionNorms, today: NaiveDate) -> Vec<Ineligible> {
        n.ineligible(self.cadre, self.started.and_then(|s| whole_years(s, today)), &self.cadres)
    }
}

impl Store {
    /// The area a summary covers, checked against the caller's scope.
    async fn supervision_area(&self, p: &Principal, parent: Option<&str>) -> Result<Option<komlang_core::AdminUnit>> {
        match parent.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(code) => match self.admin_unit(code).await? {
                Some(u) if p.scope.contains(&u) => Ok(Some(u)),
                _ => Err(StoreError::NotFound),
            },
        }
    }

    /// Current supervisors of workers in reach (within `parent`), by name, each with the number
    /// of their supervisees and the cadres among them (kept on their rows, migration 0018); only
    /// those over the ratio when `over` gives the norms.
    async fn supervisor_facts(
        &self,
        p: &Principal,
        parent: &Option<komlang_core::AdminUnit>,
        over: Option<&SupervisionNorms>,
    ) -> Result<Vec<SupervisorFacts>> {
        let mut sql = Sql::new(&format!(
            "SELECT {BRIEF_COLS}, w.cadre AS s_cadre, w.start_date AS started, w.supervisees AS n, \
             w.supervisor_dedicated AS dedicated, w.supervisee_cadres AS cadres \
             FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE w.supervisees > 0"
        ));
        push_worker_scope(&mut sql, &p.worker_scope());
        push_within(&mut sql, parent.as_ref());
        if let Some(n) = over {
            // Over the ratio: more supervisees than the limit of a dedicated supervisor or another.
            sql.push(" AND w.supervisees > CASE WHEN w.supervisor_dedicated = 1 THEN ")
                .int(i64::from(n.limit(true)))
                .push(" ELSE ")
                .int(i64::from(n.limit(false)))
                .push(" END");
        }
        sql.push(" ORDER BY w.name_latin, w.id");
        let mut out = Vec::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            let cadres = cadres_of(r.try_get("cadres")?);
            out.push(SupervisorFacts {
                started: opt_date(&r, "started")?,
                supervisees: r.try_get::<i64, _>("n")? as u32,
                dedicated: r.try_get::<i64, _>("dedicated")? != 0,
                brief: brief_from_row(&r)?,
                cadre: crate::common::rows::parse_col(&r, "s_cadre", Cadre::parse)?,
                cadres,
            });
        }
        Ok(out)
    }

    /// Supervision by unit of a level, in the caller's reach.
    /// Supervisors by unit (`col`), with those over the ratio and those not eligible: their kept
    /// facts grouped in the database (their experience as two flags, enough for either number
    /// of years the norms ask), judged a group at a time.
    async fn supervisor_counts(
        &self,
        p: &Principal,
        parent: &Option<komlang_core::AdminUnit>,
        col: &str,
        norms: &SupervisionNorms,
        today: NaiveDate,
    ) -> Result<BTreeMap<String, (u32, u32, u32)>> {
        let mut sql = Sql::new(&format!(
            "SELECT {col} AS k, w.cadre AS s_cadre, w.supervisees AS n, w.supervisor_dedicated AS dedicated, \
             w.supervisee_cadres AS cadres, CASE WHEN w.start_date <= "
        ));
        sql.text(started_by(today, norms.years_required));
        sql.push(" THEN 1 ELSE 0 END AS experienced, CASE WHEN w.start_date <= ");
        sql.text(started_by(today, norms.years_required_community));
        sql.push(
            " THEN 1 ELSE 0 END AS experienced_community, COUNT(*) AS c \
             FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE w.supervisees > 0",
        );
        push_worker_scope(&mut sql, &p.worker_scope());
        push_within(&mut sql, parent.as_ref());
        sql.push(&format!(
            " GROUP BY {col}, w.cadre, w.supervisees, w.supervisor_dedicated, w.supervisee_cadres, \
             experienced, experienced_community"
        ));
        let mut out: BTreeMap<String, (u32, u32, u32)> = BTreeMap::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            let Some(k) = r.try_get::<Option<String>, _>("k")? else { continue };
            let c = rows::count(r.try_get::<i64, _>("c")?);
            let cadre = crate::common::rows::parse_col(&r, "s_cadre", Cadre::parse)?;
            let cadres = cadres_of(r.try_get("cadres")?);
            let need = norms.years_needed(&cadres);
            let flag = if need == norms.years_required { "experienced" } else { "experienced_community" };
            let experience = (r.try_get::<i64, _>(flag)? != 0).then_some(need);
            let over = r.try_get::<i64, _>("n")? > i64::from(norms.limit(r.try_get::<i64, _>("dedicated")? != 0));
            let e = out.entry(k).or_default();
            e.0 += c;
            e.1 += if over { c } else { 0 };
            e.2 += if norms.ineligible(cadre, experience, &cadres).is_empty() { 0 } else { c };
        }
        Ok(out)
    }

    pub async fn supervision_summary(
        &self,
        p: &Principal,
        q: &SummaryQuery,
        today: NaiveDate,
    ) -> Result<Vec<SummaryRow>> {
        p.require(Action::ReadSupervision, Target::Any)?;
        if !matches!(q.level, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune) {
            return Err(crate::common::store::invalid("level", "level_not_planned"));
        }
        let parent = self.supervision_area(p, q.parent.as_deref()).await?;
        let col = level_column(q.level);
        let norms = norms_on(&mut *self.pool.acquire().await?).await?;
        let mut units = Sql::new("SELECT u.code, u.name_en, u.name_km FROM admin_units u WHERE u.level = ");
        units.text(q.level.code());
        if let Scope::Unit { code, level } = &p.scope {
            units.push(" AND ").push(level_column(*level)).push(" = ").text(code.clone());
        }
        push_within(&mut units, parent.as_ref());
        units.push(" ORDER BY u.code");
        let mut rows: BTreeMap<String, SummaryRow> = BTreeMap::new();
        for r in units.query().fetch_all(&self.pool).await? {
            let unit: String = r.try_get("code")?;
            rows.insert(
                unit.clone(),
                SummaryRow {
                    unit,
                    name_en: r.try_get("name_en")?,
                    name_km: r.try_get("name_km")?,
                    ..Default::default()
                },
            );
        }
        // Workers in post by unit, and of them those with a supervisor: summed from the staff
        // tallies where they answer for the caller (the cost of the number of groups), counted
        // from the records otherwise.
        let mut sql = match crate::workers::tally_area(p) {
            Some(area) => {
                let area = match &parent {
                    Some(u) => Scope::Unit { code: u.code.clone(), level: u.level },
                    None => area,
                };
                let mut sql = Sql::new(&format!(
                    "SELECT {col} AS k, CAST(SUM(t.n) AS BIGINT) AS n, \
                     CAST(SUM(CASE WHEN t.supervised = 1 THEN t.n ELSE 0 END) AS BIGINT) AS s FROM staff_tallies t \
                     JOIN admin_units u ON u.code = t.workplace_code \
                     WHERE t.status IN ('active', 'on_leave') AND {col} IS NOT NULL"
                ));
                crate::common::scope::push_area(&mut sql, &area);
                sql
            }
            None => {
                let mut sql = Sql::new(&format!(
                    "SELECT {col} AS k, COUNT(*) AS n, CAST(SUM(w.supervised) AS BIGINT) AS s \
                     FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
                     WHERE w.status IN ('active', 'on_leave') AND {col} IS NOT NULL"
                ));
                push_worker_scope(&mut sql, &p.worker_scope());
                push_within(&mut sql, parent.as_ref());
                sql
            }
        };
        sql.push(&format!(" GROUP BY {col}"));
        for r in sql.query().fetch_all(&self.pool).await? {
            let Some(k) = r.try_get::<Option<String>, _>("k")? else { continue };
            if let Some(row) = rows.get_mut(&k) {
                let n: i64 = r.try_get("n")?;
                let s: i64 = r.try_get::<Option<i64>, _>("s")?.unwrap_or(0);
                row.supervisees = rows::count(s);
                row.without_supervisor = rows::count(n - s);
            }
        }
        for (k, c) in self.supervisor_counts(p, &parent, col, &norms, today).await? {
            if let Some(row) = rows.get_mut(&k) {
                (row.supervisors, row.over_ratio, row.not_eligible) = c;
            }
        }
        // Supervisees not supervised since the norm's days, counted by unit: by workplace first
        // (through the index of the day they are due) where the area alone bounds the reader's
        // reach, then by unit.
        let mut sql = match crate::workers::tally_area(p) {
            Some(area) => {
                let mut sql = Sql::new(&format!(
                    "SELECT {col} AS k, CAST(SUM(x.n) AS BIGINT) AS n FROM (SELECT w.workplace_code, COUNT(*) AS n \
                     FROM workers w WHERE w.supervision_due <= "
                ));
                sql.text(overdue_since(&norms, today));
                sql.push(" GROUP BY w.workplace_code) x JOIN admin_units u ON u.code = x.workplace_code WHERE 1 = 1");
                crate::common::scope::push_area(&mut sql, &area);
                sql
            }
            None => {
                let mut sql = Sql::new(&format!("SELECT {col} AS k, COUNT(*) AS n"));
                overdue_where(&mut sql, &norms, today);
                push_worker_scope(&mut sql, &p.worker_scope());
                sql
            }
        };
        push_within(&mut sql, parent.as_ref());
        for (k, n) in self.counts_by(sql, col).await? {
            if let Some(row) = rows.get_mut(&k) {
                row.overdue = n as u32;
            }
        }
        Ok(rows.into_values().collect())
    }

    /// Current supervisees in reach (within `parent`) with no session within the norms' days (and
    /// a supervision older than that), by name, at most 1,000.
    async fn overdue(
        &self,
        p: &Principal,
        parent: &Option<komlang_core::AdminUnit>,
        norms: &SupervisionNorms,
        today: NaiveDate,
    ) -> Result<Vec<ListRow>> {
        let mut sql = Sql::new(&format!(
            "SELECT {BRIEF_COLS}, (SELECT MAX(ss.held_on) FROM supervision_attendees at \
             JOIN supervision_sessions ss ON ss.id = at.session_id WHERE at.worker_id = w.id) AS last_session"
        ));
        overdue_where(&mut sql, norms, today);
        push_worker_scope(&mut sql, &p.worker_scope());
        push_within(&mut sql, parent.as_ref());
        sql.push(" ORDER BY w.name_latin, w.id LIMIT 1000");
        self.worker_list(&sql, true).await
    }

    /// Counts (`n`) by unit (`k`) read by `sql`, grouped here by `col`.
    async fn counts_by(&self, mut sql: Sql, col: &str) -> Result<BTreeMap<String, i64>> {
        sql.push(&format!(" GROUP BY {col}"));
        let mut out = BTreeMap::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            if let Some(k) = r.try_get::<Option<String>, _>("k")? {
                out.insert(k, r.try_get::<i64, _>("n")?);
            }
        }
        Ok(out)
    }

    /// The rows of a list of workers read by `sql` (`BRIEF_COLS`, and `last_session` when asked).
    async fn worker_list(&self, sql: &Sql, last_session: bool) -> Result<Vec<ListRow>> {
        sql.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(ListRow {
                    worker: brief_from_row(r)?,
                    supervisees: None,
                    limit: None,
                    ineligible: Vec::new(),
                    last_session: if last_session { r.try_get("last_session")? } else { None },
                })
            })
            .collect()
    }

    /// The workers of one list, in the caller's reach (within `unit` when given), by name; at most 1,000.
    pub async fn supervision_list(
        &self,
        p: &Principal,
        kind: ListKind,
        unit: Option<&str>,
        today: NaiveDate,
    ) -> Result<Vec<ListRow>> {
        p.require(Action::ReadSupervision, Target::Any)?;
        let parent = self.supervision_area(p, unit).await?;
        let norms = norms_on(&mut *self.pool.acquire().await?).await?;
        let mut out = match kind {
            ListKind::WithoutSupervisor => {
                let mut sql = Sql::new(&format!(
                    "SELECT {BRIEF_COLS} FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
                     WHERE w.status IN ('active', 'on_leave') AND w.supervised = 0"
                ));
                push_worker_scope(&mut sql, &p.worker_scope());
                push_within(&mut sql, parent.as_ref());
                sql.push(" ORDER BY w.name_latin, w.id LIMIT 1000");
                self.worker_list(&sql, false).await?
            }
            ListKind::Overdue => self.overdue(p, &parent, &norms, today).await?,
            ListKind::OverRatio | ListKind::NotEligible => self
                .supervisor_facts(p, &parent, (kind == ListKind::OverRatio).then_some(&norms))
                .await?
                .into_iter()
                .filter_map(|s| {
                    let ineligible = s.ineligible(&norms, today);
                    let keep = match kind {
                        ListKind::OverRatio => s.over(&norms),
                        _ => !ineligible.is_empty(),
                    };
                    let worker = keep.then_some(s.brief)?;
                    Some(ListRow {
                        supervisees: Some(s.supervisees),
                        limit: Some(norms.limit(s.dedicated)),
                        ineligible,
                        last_session: None,
                        worker,
                    })
                })
                .collect(),
        };
        out.truncate(1000);
        Ok(out)
    }
}

/// The supervisees (`workers w` of `admin_units u`) overdue: due a session (the day kept on them,
/// migration 0018: their supervision's start or the day after their last session) since before
/// the norms' days, read through the partial index of that day.
fn overdue_where(sql: &mut Sql, norms: &SupervisionNorms, today: NaiveDate) {
    sql.push(" FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE w.supervision_due <= ")
        .text(overdue_since(norms, today));
}

/// The cadres of a supervisor's supervisees, from the bits kept on them (migration 0018).
fn cadres_of(bits: i64) -> Vec<Cadre> {
    Cadre::ALL.iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, c)| *c).collect()
}

/// The last day a supervisee may have been due a session and not be overdue.
fn overdue_since(norms: &SupervisionNorms, today: NaiveDate) -> String {
    (today - chrono::Days::new(u64::from(norms.overdue_days))).to_string()
}

/// The day before which a worker must have started to have `years` whole years of experience
/// today (dates compare as text, 29 February too).
fn started_by(today: NaiveDate, years: u32) -> String {
    format!("{:04}-{:02}-{:02}", today.year() - years as i32, today.month(), today.day())
}
