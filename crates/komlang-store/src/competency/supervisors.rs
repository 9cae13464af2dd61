//! Workers' supervisors, and what a caller may do with a worker's assessments.

use komlang_core::competency::AssessmentKind;
use komlang_core::*;
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::rows::parse_col;
use crate::common::sql::lock_beside;
use crate::workers::{brief_from_row, WorkerBrief, BRIEF_COLS};
use crate::{now_text, Result, Store, StoreError};

/// A worker's supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SupervisorInfo {
    pub user_id: i64,
    pub username: String,
    pub role: UserRole,
    pub set_at: String,
    pub set_by: String,
}

/// What the caller may do with one worker's assessments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentAccess {
    pub worker: WorkerBrief,
    /// The worker's record is in the caller's scope.
    pub in_scope: bool,
    /// The caller is the worker's supervisor.
    pub supervisor: bool,
    /// The caller is the worker (their `worker` account).
    pub is_self: bool,
    /// The caller may record supervisor's and end-of-training assessments of the worker
    /// ([`Action::AssessWorker`]: in scope, or as the worker's supervisor).
    pub assesses: bool,
}

impl AssessmentAccess {
    /// The kinds of assessment the caller may record (and change) for this worker.
    pub fn kinds(&self) -> Vec<AssessmentKind> {
        let mut out = Vec::new();
        if self.is_self {
            out.push(AssessmentKind::SelfAssessment);
        }
        if self.assesses {
            out.extend([AssessmentKind::Supervisor, AssessmentKind::Training]);
        }
        out
    }

    pub fn may_record(&self, kind: AssessmentKind) -> bool {
        self.kinds().contains(&kind)
    }
}

impl Store {
    pub(crate) async fn supervisor_row(&self, worker_id: i64) -> Result<Option<SupervisorInfo>> {
        supervisor_on(&mut *self.pool.acquire().await?, worker_id).await
    }

    /// What the caller may do with a worker's assessments; `None` when they may not see them.
    pub async fn assessment_access(&self, p: &Principal, worker_id: i64) -> Result<Option<AssessmentAccess>> {
        let scoped = self.get_worker(p, worker_id).await?;
        let supervisor = p.user_id > 0
            && sqlx::query("SELECT 1 FROM worker_supervisors WHERE worker_id = $1 AND supervisor_user_id = $2")
                .bind(worker_id)
                .bind(p.user_id)
                .fetch_optional(&self.pool)
                .await?
                .is_some();
        let worker = match &scoped {
            Some(w) => WorkerBrief {
                id: w.id,
                name_km: w.name_km.clone(),
                name_latin: w.name_latin.clone(),
                sex: w.sex,
                cadre: w.cadre,
                role: w.role,
                sector: w.sector,
                workplace_code: w.workplace_code.clone(),
            },
            None if supervisor => {
                let row = sqlx::query(&format!("SELECT {BRIEF_COLS} FROM workers w WHERE w.id = $1"))
                    .bind(worker_id)
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    Some(r) => brief_from_row(&r)?,
                    None => return Ok(None),
                }
            }
            None => return Ok(None),
        };
        let in_scope = scoped.is_some();
        Ok(Some(AssessmentAccess {
            worker,
            in_scope,
            supervisor,
            is_self: p.allows(Action::SelfAssess, Target::worker(worker_id)),
            assesses: (in_scope || supervisor)
                && p.allows(Action::AssessWorker, Target::Worker { id: worker_id, supervised: supervisor }),
        }))
    }

    /// The worker's supervisor, for those who may see the worker's assessments.
    pub async fn worker_supervisor(&self, p: &Principal, worker_id: i64) -> Result<Option<SupervisorInfo>> {
        if self.assessment_access(p, worker_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        self.supervisor_row(worker_id).await
    }

    /// Sets (a username) or removes (`None` or empty) a worker's supervisor. Needs the right to
    /// change the worker's record; the supervisor must be an active account other than the
    /// worker's own. Audited.
    pub async fn set_worker_supervisor(
        &self,
        p: &Principal,
        worker_id: i64,
        username: Option<&str>,
    ) -> Result<Option<SupervisorInfo>> {
        if self.get_worker(p, worker_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        p.require(Action::SetSupervisor, Target::worker(worker_id))?;
        let username = username.non_blank();
        let user = match username {
            None => None,
            Some(name) => {
                let u = self.user_by_name(name).await?.filter(|u| u.active);
                let Some(u) = u else {
                    return Err(StoreError::Invalid(ValidationErrors::single(
                        FieldError::new("supervisor", "unknown_user").with("value", name),
                    )));
                };
                if u.worker_id == Some(worker_id) {
                    return Err(StoreError::Invalid(ValidationErrors::single(FieldError::new(
                        "supervisor",
                        "self_supervision",
                    ))));
                }
                Some(u)
            }
        };
        // The worker's row is locked, then its supervisor read: the audit's "before" is what a
        // concurrent change stored.
        let mut tx = self.begin_write().await?;
        lock_beside(&mut tx, "workers", worker_id).await?;
        let before = supervisor_on(&mut tx, worker_id).await?;
        if before.as_ref().map(|s| s.user_id) == user.as_ref().map(|u| u.id) {
            tx.rollback().await?;
            return Ok(before);
        }
        sqlx::query("DELETE FROM worker_supervisors WHERE worker_id = $1").bind(worker_id).execute(&mut *tx).await?;
        if let Some(u) = &user {
            sqlx::query(
                "INSERT INTO worker_supervisors (worker_id, supervisor_user_id, set_at, set_by) VALUES ($1, $2, $3, $4)",
            )
            .bind(worker_id)
            .bind(u.id)
            .bind(now_text())
            .bind(&p.username)
            .execute(&mut *tx)
            .await?;
        }
        let field = |name: Option<String>| {
            let mut m = serde_json::Map::new();
            m.insert("supervisor".into(), name.map(Into::into).unwrap_or(serde_json::Value::Null));
            m
        };
        let (b, a) = (field(before.map(|s| s.username)), field(user.map(|u| u.username)));
        record_audit(&mut tx, p, "update", "worker_supervisor", &worker_id.to_string(), Some(&b), Some(&a)).await?;
        tx.commit().await?;
        self.supervisor_row(worker_id).await
    }

    /// Ids of the workers an account supervises.
    pub async fn supervised_worker_ids(&self, p: &Principal) -> Result<Vec<i64>> {
        let rows =
            sqlx::query("SELECT worker_id FROM worker_supervisors WHERE supervisor_user_id = $1 ORDER BY worker_id")
                .bind(p.user_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
    }

    /// The workers an account supervises (their brief records), by Latin name.
    pub async fn supervised_workers(&self, p: &Principal) -> Result<Vec<WorkerBrief>> {
        let rows = sqlx::query(&format!(
            "SELECT {BRIEF_COLS} FROM workers w JOIN worker_supervisors s ON s.worker_id = w.id \
             WHERE s.supervisor_user_id = $1 ORDER BY w.name_latin, w.id"
        ))
        .bind(p.user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(brief_from_row).collect()
    }
}

/// A worker's supervisor, read on a connection.
async fn supervisor_on(conn: &mut AnyConnection, worker_id: i64) -> Result<Option<SupervisorInfo>> {
    let row = sqlx::query(
        "SELECT s.supervisor_user_id, u.username, u.role, s.set_at, s.set_by FROM worker_supervisors s \
         JOIN users u ON u.id = s.supervisor_user_id WHERE s.worker_id = $1",
    )
    .bind(worker_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(SupervisorInfo {
            user_id: r.try_get("supervisor_user_id")?,
            username: r.try_get("username")?,
            role: parse_col(&r, "role", UserRole::parse)?,
            set_at: r.try_get("set_at")?,
            set_by: r.try_get("set_by")?,
        })
    })
    .transpose()
}
