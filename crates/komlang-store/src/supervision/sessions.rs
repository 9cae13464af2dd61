//! Supervision sessions.

use chrono::NaiveDate;
use komlang_core::supervision::{SupervisionFunction, SupervisionModel};
use komlang_core::{Action, FieldError, Principal, Target, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::assignments::side_brief;
use super::{in_reach, redact};
use crate::common::audit::record_audit;
use crate::common::rows::parse_col;
use crate::workers::WorkerBrief;
use crate::{now_text, Result, Store, StoreError};

/// Longest notes of a session.
pub const NOTES_MAX: usize = 4000;
/// Most supervisees in one session.
pub const SESSION_SUPERVISEES_MAX: usize = 50;

/// A session to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionInput {
    pub supervisor_id: i64,
    /// The day it was held (`YYYY-MM-DD`, not after today).
    #[schema(value_type = String, format = Date)]
    pub held_on: NaiveDate,
    pub model: SupervisionModel,
    /// At least one.
    pub functions: Vec<SupervisionFunction>,
    /// One for an individual session; at most 50.
    pub supervisee_ids: Vec<i64>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// A session held.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Session {
    pub id: i64,
    pub supervisor: WorkerBrief,
    pub held_on: String,
    pub model: SupervisionModel,
    pub functions: Vec<SupervisionFunction>,
    pub supervisees: Vec<WorkerBrief>,
    /// Shown to the supervisor, the supervisees and those who manage them; absent for others.
    pub notes: Option<String>,
    /// The session has notes the caller may not read.
    pub notes_withheld: bool,
    pub recorded_by: String,
    pub recorded_at: String,
}

const S_COLS: &str = "s.id AS s_id, s.name_km AS s_name_km, s.name_latin AS s_name_latin, s.sex AS s_sex, \
    s.cadre AS s_cadre, s.role AS s_role, s.sector AS s_sector, s.workplace_code AS s_workplace_code";
const E_COLS: &str = "e.id AS e_id, e.name_km AS e_name_km, e.name_latin AS e_name_latin, e.sex AS e_sex, \
    e.cadre AS e_cadre, e.role AS e_role, e.sector AS e_sector, e.workplace_code AS e_workplace_code";

/// Whether the caller reads a session's notes: those who manage workers (in scope: the session
/// is shown to them only through a worker in their reach), its supervisor, its supervisees.
fn reads_notes(p: &Principal, supervisor: i64, supervisees: &[WorkerBrief]) -> bool {
    p.may_in_scope(Action::SetSupervisor)
        || p.worker_id.is_some_and(|me| me == supervisor || supervisees.iter().any(|w| w.id == me))
}

impl Store {
    /// Sessions a worker held or attended, latest first (at most 100).
    pub(crate) async fn sessions_on(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        worker_id: i64,
    ) -> Result<Vec<Session>> {
        let rows = sqlx::query(&format!(
            "SELECT ss.id, ss.held_on, ss.model, ss.functions, ss.notes, ss.recorded_by, ss.recorded_at, {S_COLS} \
             FROM supervision_sessions ss JOIN workers s ON s.id = ss.supervisor_id \
             WHERE ss.supervisor_id = $1 OR ss.id IN (SELECT session_id FROM supervision_attendees WHERE worker_id = $2) \
             ORDER BY ss.held_on DESC, ss.id DESC LIMIT 100"
        ))
        .bind(worker_id)
        .bind(worker_id)
        .fetch_all(&mut *conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let supervisees = sqlx::query(&format!(
                "SELECT {E_COLS} FROM supervision_attendees at JOIN workers e ON e.id = at.worker_id \
                 WHERE at.session_id = $1 ORDER BY e.name_latin, e.id"
            ))
            .bind(id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| side_brief(r, "e"))
            .collect::<Result<Vec<_>>>()?;
            let supervisor = side_brief(r, "s")?;
            let notes: Option<String> = r.try_get("notes")?;
            let readable = reads_notes(p, supervisor.id, &supervisees);
            let functions: String = r.try_get("functions")?;
            out.push(Session {
                id,
                held_on: r.try_get("held_on")?,
                model: parse_col(r, "model", SupervisionModel::parse)?,
                functions: functions.split_whitespace().filter_map(SupervisionFunction::parse).collect(),
                notes_withheld: notes.is_some() && !readable,
                notes: notes.filter(|_| readable),
                supervisor,
                supervisees,
                recorded_by: r.try_get("recorded_by")?,
                recorded_at: r.try_get("recorded_at")?,
            });
        }
        Ok(out)
    }

    /// Records a session (audited; the audit keeps that there were notes, not what they say).
    /// The supervisor must be in the caller's reach (a worker: themself); each supervisee in the
    /// caller's reach or supervised now by the supervisor.
    pub async fn record_session(&self, p: &Principal, input: &SessionInput, today: NaiveDate) -> Result<Session> {
        p.require(Action::RecordSupervision, Target::worker(input.supervisor_id))?;
        let mut errs = ValidationErrors::default();
        if input.held_on > today {
            errs.push(FieldError::new("held_on", "date_in_future"));
        }
        if input.functions.is_empty() {
            errs.push(FieldError::new("functions", "required"));
        }
        let mut ids = input.supervisee_ids.clone();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            errs.push(FieldError::new("supervisee_ids", "required"));
        } else if ids.len() > SESSION_SUPERVISEES_MAX {
            errs.push(FieldError::new("supervisee_ids", "too_many").with("max", SESSION_SUPERVISEES_MAX));
        } else if input.model == SupervisionModel::Individual && ids.len() != 1 {
            errs.push(FieldError::new("supervisee_ids", "individual_one_supervisee"));
        }
        if ids.contains(&input.supervisor_id) {
            errs.push(FieldError::new("supervisee_ids", "supervises_self"));
        }
        let notes = input.notes.as_deref().map(komlang_core::clean_text).filter(|s| !s.trim().is_empty());
        if notes.as_ref().is_some_and(|n| n.chars().count() > NOTES_MAX) {
            errs.push(FieldError::new("notes", "too_long").with("max", NOTES_MAX));
        }
        let mut tx = self.begin_write().await?;
        if !in_reach(&mut tx, p, input.supervisor_id).await? {
            return Err(StoreError::NotFound);
        }
        for id in &ids {
            let supervised = sqlx::query(
                "SELECT 1 FROM supervision_assignments WHERE supervisor_id = $1 AND supervisee_id = $2 AND end_date IS NULL",
            )
            .bind(input.supervisor_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
            if !supervised && !in_reach(&mut tx, p, *id).await? {
                errs.push(FieldError::new("supervisee_ids", "unknown_worker").with("value", id));
            }
        }
        if !errs.is_empty() {
            sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
            return Err(StoreError::Invalid(errs));
        }
        let functions = input.functions.iter().map(|f| f.code()).collect::<Vec<_>>().join(" ");
        let id: i64 = sqlx::query(
            "INSERT INTO supervision_sessions (supervisor_id, held_on, model, functions, notes, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(input.supervisor_id)
        .bind(input.held_on.to_string())
        .bind(input.model.code())
        .bind(&functions)
        .bind(&notes)
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        for w in &ids {
            sqlx::query("INSERT INTO supervision_attendees (session_id, worker_id) VALUES ($1, $2)")
                .bind(id)
                .bind(w)
                .execute(&mut *tx)
                .await?;
        }
        let after = serde_json::json!({
            "supervisor_id": input.supervisor_id, "held_on": input.held_on, "model": input.model,
            "functions": functions, "supervisee_ids": ids, "notes": notes.is_some(),
        });
        record_audit(&mut tx, p, "create", "supervision_session", &id.to_string(), None, Some(&after)).await?;
        let mut session = self
            .sessions_on(&mut tx, p, input.supervisor_id)
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or(StoreError::NotFound)?;
        let Session { supervisor, supervisees, .. } = &mut session;
        redact(&mut tx, p, std::iter::once(supervisor).chain(supervisees.iter_mut()).collect()).await?;
        tx.commit().await?;
        Ok(session)
    }
}
