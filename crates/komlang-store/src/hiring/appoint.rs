//! Appointment: one action that fills a round's post with a ranked candidate — a registry
//! worker is posted there (their posting history keeps where they were), a new person becomes a
//! worker record — and takes the person out of the other rounds' lists.

use chrono::NaiveDate;
use komlang_core::hiring::CandidateStatus;
use komlang_core::validate::{validate_worker, WorkerInput};
use komlang_core::{Action, EmploymentStatus, FieldError, Principal, Sector, Target, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::rounds::bump;
use crate::common::audit::record_audit;
use crate::establishment::repost;
use crate::workers::{insert_posting, insert_status, insert_worker, worker_in, write_worker_update};
use crate::{Result, Store, StoreError};

/// An appointment: the post (of the candidate's round) and the day it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppointInput {
    pub post_id: i64,
    #[schema(value_type = String, format = Date)]
    pub start_date: NaiveDate,
}

impl Store {
    /// Appoints a candidate to a post of their round (audited, all in one transaction): the
    /// candidate must be in the running, eligible for the post and ranked (both scores); the
    /// post vacant. A worker of the registry is posted at the post's unit, organization and
    /// role from the start date (the move is in their posting history); a new person becomes a
    /// worker record (active, government). The posting fills the post. The person's other
    /// candidacies still in the running (same worker, or same national ID) become
    /// `appointed_elsewhere`.
    pub async fn appoint_candidate(
        &self,
        p: &Principal,
        candidate: i64,
        input: &AppointInput,
        today: NaiveDate,
    ) -> Result<super::Round> {
        p.require(Action::RunRecruitment, Target::Any)?;
        let round_id: i64 = sqlx::query("SELECT round_id FROM candidates WHERE id = $1")
            .bind(candidate)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?
            .try_get(0)?;
        // The ranking and fit as the round shows them now (read before the write lock; checked
        // again under it below for what can change: status, post, scores).
        let view = self.recruitment_round(p, round_id, today).await?;
        if !view.may_run {
            return Err(StoreError::Forbidden);
        }
        let c = view.candidates.iter().find(|c| c.id == candidate).ok_or(StoreError::NotFound)?.clone();
        let mut errs = ValidationErrors::default();
        let post = view.posts.iter().find(|x| x.post_id == input.post_id);
        match post {
            None => errs.push(FieldError::new("post_id", "post_not_in_round").with("value", input.post_id)),
            Some(x) if !x.vacant => errs.push(FieldError::new("post_id", "post_filled")),
            Some(x) => {
                if c.fit.iter().find(|f| f.set == x.requirement_set).is_none_or(|f| !f.unmet.is_empty()) {
                    errs.push(FieldError::new("candidate", "not_eligible_for_post"));
                }
            }
        }
        if c.status != CandidateStatus::Applied {
            errs.push(FieldError::new("status", "candidate_not_in_running").with("value", c.status.code()));
        } else if c.rank.is_none() {
            errs.push(FieldError::new("candidate", "not_ranked"));
        }
        if input.start_date > today + chrono::Days::new(366) {
            errs.push(FieldError::new("start_date", "out_of_range"));
        }
        let Some(post) = post.filter(|_| errs.is_empty()) else {
            return Err(StoreError::Invalid(errs));
        };
        let org: Option<i64> = sqlx::query("SELECT org_id FROM posts WHERE id = $1")
            .bind(post.post_id)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;

        let mut tx = self.begin_write().await?;
        let (_, status, version, _) = self.candidate_to_change(&mut tx, p, candidate).await?;
        let held = sqlx::query("SELECT 1 AS x FROM postings WHERE post_id = $1 AND end_date IS NULL")
            .bind(post.post_id)
            .fetch_optional(&mut *tx)
            .await?;
        if status != CandidateStatus::Applied || version != c.version || held.is_some() {
            return Err(StoreError::Stale { current: version });
        }
        let system = crate::system_principal(&p.username);
        let worker_id = match c.worker_id {
            Some(w) => {
                let current = worker_in(&mut tx, &system, w).await?.ok_or(StoreError::NotFound)?;
                let before = current.draft();
                let mut draft = before.clone();
                draft.workplace_code = post.admin_code.clone();
                draft.org_id = org;
                draft.role = post.role;
                draft.status = EmploymentStatus::Active;
                draft.end_date = None;
                if draft != before {
                    let note = format!("appointed in recruitment round {round_id}");
                    write_worker_update(&mut tx, p, w, &before, &draft, input.start_date, Some(&note)).await?;
                }
                w
            }
            None => {
                let r =
                    sqlx::query("SELECT * FROM candidates WHERE id = $1").bind(candidate).fetch_one(&mut *tx).await?;
                let input_w = WorkerInput {
                    name_km: r.try_get("name_km")?,
                    name_latin: r.try_get("name_latin")?,
                    sex: r.try_get("sex")?,
                    date_of_birth: r.try_get("date_of_birth")?,
                    national_id: r.try_get("national_id")?,
                    phone: r.try_get("phone")?,
                    cadre: Some(c.cadre.unwrap_or(post.cadre).code().to_string()),
                    role: Some(post.role.code().to_string()),
                    sector: Some(Sector::Government.code().to_string()),
                    org_id: org,
                    workplace_code: Some(post.admin_code.clone()),
                    status: Some("active".into()),
                    start_date: Some(input.start_date.to_string()),
                    education_level: c.education_level.map(|e| e.code().to_string()),
                    ..Default::default()
                };
                let draft = validate_worker(&input_w, today.max(input.start_date))?;
                if let Some(nid) = &draft.national_id {
                    let taken = sqlx::query("SELECT id FROM workers WHERE national_id = $1")
                        .bind(nid)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if taken.is_some() {
                        return Err(StoreError::Invalid(ValidationErrors::single(FieldError::new(
                            "national_id",
                            "duplicate_national_id",
                        ))));
                    }
                }
                let id = insert_worker(&mut tx, &draft, false).await?;
                insert_posting(&mut tx, id, &draft, input.start_date, None).await?;
                insert_status(&mut tx, id, draft.status, input.start_date, None, Some(&p.username)).await?;
                record_audit(&mut tx, p, "create", "worker", &id.to_string(), None, Some(&draft)).await?;
                id
            }
        };
        repost(&mut tx, worker_id, Some(post.post_id), input.start_date).await?;
        sqlx::query(
            "UPDATE candidates SET status = 'appointed', appointed_post_id = $1, appointed_worker_id = $2, \
             version = version + 1 WHERE id = $3",
        )
        .bind(post.post_id)
        .bind(worker_id)
        .bind(candidate)
        .execute(&mut *tx)
        .await?;
        let nid: Option<String> = sqlx::query("SELECT national_id FROM candidates WHERE id = $1")
            .bind(candidate)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        let elsewhere = sqlx::query(
            "UPDATE candidates SET status = 'appointed_elsewhere', version = version + 1 \
             WHERE id <> $1 AND status = 'applied' AND ((worker_id IS NOT NULL AND worker_id = $2) \
             OR (national_id IS NOT NULL AND national_id = $3))",
        )
        .bind(candidate)
        .bind(c.worker_id.unwrap_or(-1))
        .bind(nid)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        bump(&mut tx, round_id).await?;
        let after = serde_json::json!({
            "round_id": round_id, "post_id": post.post_id, "worker_id": worker_id, "start_date": input.start_date,
            "rank": c.rank, "total": c.total, "other_candidacies_closed": elsewhere,
        });
        record_audit(&mut tx, p, "appoint", "candidate", &candidate.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.recruitment_round(p, round_id, today).await
    }
}
