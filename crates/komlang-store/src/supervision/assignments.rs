//! Who supervises whom, with the history.

use chrono::NaiveDate;
use komlang_core::supervision::{whole_years, Ineligible};
use komlang_core::{Action, Cadre, FieldError, Principal, Target, ValidationErrors};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::norms::norms_on;
use super::sessions::Session;
use super::{in_reach, redact};
use crate::common::audit::record_audit;
use crate::common::rows::{opt_date, parse_col};
use crate::common::sql::lock_beside;
use crate::common::store::invalid;
use crate::workers::{brief_from_row, WorkerBrief, BRIEF_COLS};
use crate::{now_text, Result, Store, StoreError};

/// One worker supervising another, from a day (until a day, once it ended).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Assignment {
    pub id: i64,
    pub supervisor: WorkerBrief,
    pub supervisee: WorkerBrief,
    /// The supervisor supervises as their main work (the dedicated ratio applies).
    pub dedicated: bool,
    pub start_date: String,
    pub end_date: Option<String>,
    pub created_by: String,
}

/// A worker's supervision: their supervisor now and before, whom they supervise, whether they
/// are over the ratio or not eligible to supervise, and their sessions.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkerSupervision {
    pub worker: WorkerBrief,
    pub supervisor: Option<Assignment>,
    /// Earlier supervisors, latest first.
    pub history: Vec<Assignment>,
    /// Whom the worker supervises now.
    pub supervisees: Vec<Assignment>,
    /// Supervisees the worker may have under the norms.
    pub limit: u32,
    pub over_ratio: bool,
    /// Why the worker is not eligible to supervise their supervisees (empty: eligible, or no supervisees).
    pub ineligible: Vec<Ineligible>,
    /// Years since the worker started (none without a start date).
    pub experience_years: Option<u32>,
    /// Sessions the worker held or attended, latest first (at most 100).
    pub sessions: Vec<Session>,
}

/// The columns of a worker's brief record.
const BRIEF: [&str; 8] = ["id", "name_km", "name_latin", "sex", "cadre", "role", "sector", "workplace_code"];

/// The columns of an assignment with both workers (`s` the supervisor, `e` the supervisee).
fn assignment_cols() -> String {
    let side = |p: &str| BRIEF.iter().map(|c| format!("{p}.{c} AS {p}_{c}")).collect::<Vec<_>>().join(", ");
    format!("a.id AS a_id, a.dedicated, a.start_date, a.end_date, a.created_by, {}, {}", side("s"), side("e"))
}

const ASSIGNMENT_FROM: &str = " FROM supervision_assignments a JOIN workers s ON s.id = a.supervisor_id \
    JOIN workers e ON e.id = a.supervisee_id";

/// A worker's brief record from the columns of one side (`s` or `e`).
pub(crate) fn side_brief(r: &AnyRow, side: &str) -> Result<WorkerBrief> {
    let col = |c: &str| format!("{side}_{c}");
    Ok(WorkerBrief {
        id: r.try_get(col("id").as_str())?,
        name_km: r.try_get(col("name_km").as_str())?,
        name_latin: r.try_get(col("name_latin").as_str())?,
        sex: parse_col(r, &col("sex"), komlang_core::Sex::parse)?,
        cadre: parse_col(r, &col("cadre"), Cadre::parse)?,
        role: parse_col(r, &col("role"), komlang_core::WorkerRole::parse)?,
        sector: parse_col(r, &col("sector"), komlang_core::Sector::parse)?,
        workplace_code: r.try_get(col("workplace_code").as_str())?,
    })
}

fn assignment_from_row(r: &AnyRow) -> Result<Assignment> {
    Ok(Assignment {
        id: r.try_get("a_id")?,
        supervisor: side_brief(r, "s")?,
        supervisee: side_brief(r, "e")?,
        dedicated: r.try_get::<i64, _>("dedicated")? != 0,
        start_date: r.try_get("start_date")?,
        end_date: r.try_get("end_date")?,
        created_by: r.try_get("created_by")?,
    })
}

pub(crate) async fn assignments_where(conn: &mut AnyConnection, cond: &str, id: i64) -> Result<Vec<Assignment>> {
    let sql =
        format!("SELECT {}{ASSIGNMENT_FROM} WHERE {cond} ORDER BY a.start_date DESC, a.id DESC", assignment_cols());
    sqlx::query(&sql).bind(id).fetch_all(&mut *conn).await?.iter().map(assignment_from_row).collect()
}

impl Store {
    /// A worker's supervision (None: not in the caller's reach).
    pub async fn worker_supervision(
        &self,
        p: &Principal,
        worker_id: i64,
        today: NaiveDate,
    ) -> Result<Option<WorkerSupervision>> {
        p.require(Action::ReadSupervision, Target::worker(worker_id))?;
        let mut conn = self.pool.acquire().await?;
        if !in_reach(&mut conn, p, worker_id).await? {
            return Ok(None);
        }
        let r = sqlx::query(&format!("SELECT {BRIEF_COLS}, w.start_date AS started FROM workers w WHERE w.id = $1"))
            .bind(worker_id)
            .fetch_one(&mut *conn)
            .await?;
        let worker = brief_from_row(&r)?;
        let started = opt_date(&r, "started")?;
        let mut mine = assignments_where(&mut conn, "a.supervisee_id = $1", worker_id).await?;
        let supervisor = mine.iter().position(|a| a.end_date.is_none()).map(|i| mine.remove(i));
        let supervisees =
            assignments_where(&mut conn, "a.supervisor_id = $1 AND a.end_date IS NULL", worker_id).await?;
        let norms = norms_on(&mut conn).await?;
        let dedicated = supervisees.iter().any(|a| a.dedicated);
        let limit = norms.limit(dedicated);
        let experience_years = started.and_then(|s| whole_years(s, today));
        let ineligible = if supervisees.is_empty() {
            Vec::new()
        } else {
            let cadres: Vec<Cadre> = supervisees.iter().map(|a| a.supervisee.cadre).collect();
            norms.ineligible(worker.cadre, experience_years, &cadres)
        };
        let sessions = self.sessions_on(&mut conn, p, worker_id).await?;
        let mut view = WorkerSupervision {
            over_ratio: supervisees.len() as u32 > limit,
            worker,
            supervisor,
            history: mine,
            supervisees,
            limit,
            ineligible,
            experience_years,
            sessions,
        };
        let WorkerSupervision { supervisor, history, supervisees, sessions, .. } = &mut view;
        let people: Vec<&mut WorkerBrief> = supervisor
            .iter_mut()
            .chain(history.iter_mut())
            .chain(supervisees.iter_mut())
            .flat_map(|a| [&mut a.supervisor, &mut a.supervisee])
            .chain(sessions.iter_mut().flat_map(|s| std::iter::once(&mut s.supervisor).chain(s.supervisees.iter_mut())))
            .collect();
        redact(&mut conn, p, people).await?;
        Ok(Some(view))
    }

    /// Sets a worker's supervisor (another worker) from a day: the current supervision, if any,
    /// ends that day. Audited.
    pub async fn assign_supervisor(
        &self,
        p: &Principal,
        supervisee_id: i64,
        supervisor_id: i64,
        dedicated: bool,
        on: NaiveDate,
    ) -> Result<Assignment> {
        p.require(Action::SetSupervisor, Target::worker(supervisee_id))?;
        let mut tx = self.begin_write().await?;
        if !in_reach(&mut tx, p, supervisee_id).await? {
            return Err(StoreError::NotFound);
        }
        let mut errs = ValidationErrors::default();
        if supervisor_id == supervisee_id {
            errs.push(FieldError::new("supervisor_id", "supervises_self"));
        } else if !in_reach(&mut tx, p, supervisor_id).await? {
            errs.push(FieldError::new("supervisor_id", "unknown_worker").with("value", supervisor_id));
        } else {
            let status: String = sqlx::query("SELECT status FROM workers WHERE id = $1")
                .bind(supervisor_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            if komlang_core::EmploymentStatus::parse(&status).is_some_and(|s| s.is_separated()) {
                errs.push(FieldError::new("supervisor_id", "supervisor_left"));
            }
        }
        if !errs.is_empty() {
            sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
            return Err(StoreError::Invalid(errs));
        }
        // One change of a worker's supervision at a time.
        lock_beside(&mut tx, "workers", supervisee_id).await?;
        let before = assignments_where(&mut tx, "a.supervisee_id = $1 AND a.end_date IS NULL", supervisee_id).await?;
        let on_text = on.to_string();
        if let Some(cur) = before.first() {
            if cur.start_date.as_str() > on_text.as_str() {
                sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
                return Err(invalid("on", "before_current_supervision"));
            }
        }
        sqlx::query("UPDATE supervision_assignments SET end_date = $1 WHERE supervisee_id = $2 AND end_date IS NULL")
            .bind(&on_text)
            .bind(supervisee_id)
            .execute(&mut *tx)
            .await?;
        let id: i64 = sqlx::query(
            "INSERT INTO supervision_assignments (supervisor_id, supervisee_id, dedicated, start_date, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(supervisor_id)
        .bind(supervisee_id)
        .bind(i64::from(dedicated))
        .bind(&on_text)
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let brief = |a: &Assignment| serde_json::json!({"supervisor_id": a.supervisor.id, "dedicated": a.dedicated, "start_date": a.start_date});
        let after = serde_json::json!({"supervisor_id": supervisor_id, "dedicated": dedicated, "start_date": on_text});
        record_audit(
            &mut tx,
            p,
            "update",
            "supervision",
            &supervisee_id.to_string(),
            before.first().map(brief).as_ref(),
            Some(&after),
        )
        .await?;
        let a = assignments_where(&mut tx, "a.id = $1", id).await?.pop().ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok(a)
    }

    /// Ends a worker's current supervision on a day (nothing to end: `no_supervisor`). Audited.
    pub async fn end_supervision(&self, p: &Principal, supervisee_id: i64, on: NaiveDate) -> Result<()> {
        p.require(Action::SetSupervisor, Target::worker(supervisee_id))?;
        let mut tx = self.begin_write().await?;
        if !in_reach(&mut tx, p, supervisee_id).await? {
            return Err(StoreError::NotFound);
        }
        lock_beside(&mut tx, "workers", supervisee_id).await?;
        let before = assignments_where(&mut tx, "a.supervisee_id = $1 AND a.end_date IS NULL", supervisee_id).await?;
        let Some(cur) = before.first() else {
            sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
            return Err(invalid("supervisor_id", "no_supervisor"));
        };
        let on_text = on.to_string();
        if cur.start_date.as_str() > on_text.as_str() {
            sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
            return Err(invalid("on", "before_current_supervision"));
        }
        sqlx::query("UPDATE supervision_assignments SET end_date = $1 WHERE id = $2")
            .bind(&on_text)
            .bind(cur.id)
            .execute(&mut *tx)
            .await?;
        let before = serde_json::json!({"supervisor_id": cur.supervisor.id, "dedicated": cur.dedicated, "start_date": cur.start_date});
        let after = serde_json::json!({"supervisor_id": null, "ended": on_text});
        record_audit(&mut tx, p, "update", "supervision", &supervisee_id.to_string(), Some(&before), Some(&after))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
