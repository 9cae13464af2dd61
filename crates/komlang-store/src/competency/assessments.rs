//! Competency assessments of a worker: recorded, changed and deleted (audited), with their
//! ratings and the scores of the competencies they rate.

use std::collections::HashMap;

use chrono::NaiveDate;
use komlang_core::competency::{
    competency_scores, validate_assessment, AssessmentDraft, AssessmentInput, AssessmentKind, CompetencyScore,
    Framework, IndicatorRating, RatedIndicator, Rating,
};
use komlang_core::*;
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::supervisors::AssessmentAccess;
use crate::common::audit::record_audit;
use crate::common::rows::{date_col, parse_col};
use crate::common::sql::{check_version, engine_of, lock_existing, Sql};
use crate::{now_text, Result, Store, StoreError};

/// An assessment with its ratings and the scores of the competencies it rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Assessment {
    pub id: i64,
    pub worker_id: i64,
    /// The framework version its indicator codes belong to.
    pub framework_version: String,
    pub kind: AssessmentKind,
    #[schema(value_type = String, format = Date)]
    pub assessed_on: NaiveDate,
    pub assessor: String,
    pub notes: Option<String>,
    /// The account that recorded it.
    pub recorded_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// Raised by every change: send it back (`If-Match`, a form's `version`) to change the
    /// record only if nobody else has changed it meanwhile.
    pub version: i64,
    /// Rated indicators, in framework order.
    pub ratings: Vec<RatedIndicator>,
    /// The competencies with at least one rated indicator, in framework order.
    pub scores: Vec<CompetencyScore>,
}

impl Assessment {
    pub fn plain_ratings(&self) -> Vec<IndicatorRating> {
        self.ratings.iter().map(RatedIndicator::plain).collect()
    }
}

const ASSESSMENT_COLS: &str = "a.id, a.worker_id, a.framework_version, a.kind, a.assessed_on, a.assessor, a.notes, \
     a.recorded_by, a.created_at, a.updated_at, a.version";

/// An assessment as the audit log keeps it: one field per rating and evidence note, so that
/// the log shows exactly what changed.
fn audited(worker_id: i64, d: &AssessmentDraft, assessor: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("worker_id".into(), worker_id.into());
    m.insert("framework_version".into(), d.framework_version.clone().into());
    m.insert("kind".into(), d.kind.code().into());
    m.insert("assessed_on".into(), d.assessed_on.to_string().into());
    m.insert("assessor".into(), assessor.into());
    m.insert("notes".into(), d.notes.clone().map(Into::into).unwrap_or(serde_json::Value::Null));
    for r in &d.ratings {
        m.insert(format!("rating.{}", r.indicator_code), r.rating.value().into());
        if let Some(e) = &r.evidence {
            m.insert(format!("evidence.{}", r.indicator_code), e.clone().into());
        }
    }
    m
}

fn draft_of(a: &Assessment) -> AssessmentDraft {
    AssessmentDraft {
        kind: a.kind,
        assessed_on: a.assessed_on,
        assessor: Some(a.assessor.clone()),
        notes: a.notes.clone(),
        framework_version: a.framework_version.clone(),
        ratings: a.ratings.clone(),
    }
}

/// Writes the ratings of an assessment (multi-row inserts), each with its indicator's
/// competency in `fw`, the assessment's framework version.
pub(crate) async fn insert_ratings(
    conn: &mut AnyConnection,
    fw: &Framework,
    assessment_id: i64,
    ratings: &[RatedIndicator],
) -> Result<()> {
    let engine = engine_of(conn);
    let competency_of: HashMap<&str, &str> =
        fw.indicators().map(|(_, c, i)| (i.code.as_str(), c.code.as_str())).collect();
    for chunk in ratings.chunks(200) {
        let mut sql = Sql::for_engine(
            "INSERT INTO competency_ratings (assessment_id, indicator_code, competency_code, rating, evidence) VALUES ",
            engine,
        );
        for (n, r) in chunk.iter().enumerate() {
            if n > 0 {
                sql.push(", ");
            }
            let competency = competency_of.get(r.indicator_code.as_str()).ok_or_else(|| {
                StoreError::Corrupt(format!("indicator {} is not in {}", r.indicator_code, fw.version))
            })?;
            sql.push("(")
                .int(assessment_id)
                .push(", ")
                .text(r.indicator_code.clone())
                .push(", ")
                .text(*competency)
                .push(", ")
                .int(i64::from(r.rating.value()))
                .push(", ")
                .opt_text(r.evidence.clone())
                .push(")");
        }
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts an assessment row and its ratings (`fw`: the draft's framework version); returns its id.
pub(crate) async fn insert_assessment(
    conn: &mut AnyConnection,
    fw: &Framework,
    worker_id: i64,
    d: &AssessmentDraft,
    assessor: &str,
    recorded_by: (Option<i64>, &str),
    now: &str,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO competency_assessments (worker_id, framework_version, kind, assessed_on, assessor, notes, \
         recorded_by_user_id, recorded_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         RETURNING id",
    )
    .bind(worker_id)
    .bind(&d.framework_version)
    .bind(d.kind.code())
    .bind(d.assessed_on.to_string())
    .bind(assessor)
    .bind(&d.notes)
    .bind(recorded_by.0)
    .bind(recorded_by.1)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let id: i64 = row.try_get(0)?;
    insert_ratings(conn, fw, id, &d.ratings).await?;
    Ok(id)
}

impl Store {
    /// Reads assessments (with their ratings) matching a `WHERE` clause over `competency_assessments a`.
    pub(super) async fn read_assessments(&self, filter: &str, id: i64) -> Result<Vec<Assessment>> {
        self.read_assessments_on(&mut *self.pool.acquire().await?, filter, id).await
    }

    /// [`Store::read_assessments`] on a connection (inside a transaction that locked them).
    async fn read_assessments_on(&self, conn: &mut AnyConnection, filter: &str, id: i64) -> Result<Vec<Assessment>> {
        let rows = sqlx::query(&format!(
            "SELECT {ASSESSMENT_COLS} FROM competency_assessments a WHERE {filter} ORDER BY a.assessed_on, a.id"
        ))
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let ratings = sqlx::query(&format!(
            "SELECT r.assessment_id, r.indicator_code, r.rating, r.evidence FROM competency_ratings r \
             JOIN competency_assessments a ON a.id = r.assessment_id WHERE {filter}"
        ))
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let mut by_assessment: HashMap<i64, Vec<RatedIndicator>> = HashMap::new();
        for r in &ratings {
            let value: i64 = r.try_get("rating")?;
            by_assessment.entry(r.try_get("assessment_id")?).or_default().push(RatedIndicator {
                indicator_code: r.try_get("indicator_code")?,
                rating: Rating::from_value(value).ok_or_else(|| StoreError::Corrupt(format!("rating {value}")))?,
                evidence: r.try_get("evidence")?,
            });
        }
        let mut frameworks: HashMap<String, Framework> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let version: String = r.try_get("framework_version")?;
            if !frameworks.contains_key(&version) {
                let fw = super::framework::framework_on(&mut *conn, &version)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("assessment {id}: no framework {version}")))?;
                frameworks.insert(version.clone(), fw);
            }
            let fw = &frameworks[&version];
            let order: HashMap<&str, usize> =
                fw.indicators().enumerate().map(|(n, (_, _, i))| (i.code.as_str(), n)).collect();
            let mut ratings = by_assessment.remove(&id).unwrap_or_default();
            ratings.sort_by_key(|x| order.get(x.indicator_code.as_str()).copied().unwrap_or(usize::MAX));
            let plain: Vec<_> = ratings.iter().map(RatedIndicator::plain).collect();
            let scores = competency_scores(fw, &plain).into_iter().filter(|s| s.rated > 0).collect();
            out.push(Assessment {
                id,
                worker_id: r.try_get("worker_id")?,
                framework_version: version,
                kind: parse_col(r, "kind", AssessmentKind::parse)?,
                assessed_on: date_col(r, "assessed_on")?,
                assessor: r.try_get("assessor")?,
                notes: r.try_get("notes")?,
                recorded_by: r.try_get("recorded_by")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
                version: r.try_get("version")?,
                ratings,
                scores,
            });
        }
        Ok(out)
    }

    /// A worker's assessments, oldest first (404 for those who may not see them).
    pub async fn list_assessments(&self, p: &Principal, worker_id: i64) -> Result<Vec<Assessment>> {
        if self.assessment_access(p, worker_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        self.read_assessments("a.worker_id = $1", worker_id).await
    }

    /// One assessment, when the caller may see it.
    pub async fn get_assessment(&self, p: &Principal, id: i64) -> Result<Option<Assessment>> {
        let Some(a) = self.read_assessments("a.id = $1", id).await?.pop() else { return Ok(None) };
        if self.assessment_access(p, a.worker_id).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(a))
    }

    /// Validates an assessment for a worker: the framework version exists, the fields are
    /// right and the caller may record this kind.
    async fn check_assessment(
        &self,
        access: &AssessmentAccess,
        input: &AssessmentInput,
        fixed_version: Option<&str>,
        today: NaiveDate,
    ) -> Result<(AssessmentDraft, Framework)> {
        let asked = input.framework_version.non_blank();
        let mut pre = ValidationErrors::default();
        if let (Some(fixed), Some(asked)) = (fixed_version, asked) {
            if fixed != asked {
                pre.push(FieldError::new("framework_version", "version_fixed").with("version", fixed));
            }
        }
        let Some(fw) = self.framework_or_current(fixed_version.or(asked)).await? else {
            let v = asked.unwrap_or_default();
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("framework_version", "unknown_framework_version").with("value", v),
            )));
        };
        if let Some(kind) = input.kind.as_deref().and_then(AssessmentKind::parse) {
            if !access.may_record(kind) {
                pre.push(FieldError::new("kind", "kind_not_allowed").with("kind", kind.code()));
            }
        }
        match validate_assessment(&fw, input, today) {
            Ok(d) if pre.is_empty() => Ok((d, fw)),
            Ok(_) => Err(StoreError::Invalid(pre)),
            Err(mut errs) => {
                errs.errors.extend(pre.errors);
                Err(StoreError::Invalid(errs))
            }
        }
    }

    /// Records an assessment of a worker. 404 when the caller may not see the worker's
    /// assessments, 403 when they may record none, 422 with one error per field otherwise.
    pub async fn create_assessment(
        &self,
        p: &Principal,
        worker_id: i64,
        input: &AssessmentInput,
        today: NaiveDate,
    ) -> Result<Assessment> {
        let access = self.assessment_access(p, worker_id).await?.ok_or(StoreError::NotFound)?;
        if access.kinds().is_empty() {
            return Err(StoreError::Forbidden);
        }
        let (d, fw) = self.check_assessment(&access, input, None, today).await?;
        let assessor = d.assessor.clone().unwrap_or_else(|| p.username.clone());
        let mut tx = self.begin_write().await?;
        let uid = (p.user_id > 0).then_some(p.user_id);
        let id = insert_assessment(&mut tx, &fw, worker_id, &d, &assessor, (uid, &p.username), &now_text()).await?;
        let after = audited(worker_id, &d, &assessor);
        record_audit(&mut tx, p, "create", "competency_assessment", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.get_assessment(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// Replaces an assessment's fields and ratings (its framework version stays). The caller
    /// must be allowed to record both its kind and the new kind. With `expected`, only if the
    /// assessment is still at that version.
    pub async fn update_assessment(
        &self,
        p: &Principal,
        id: i64,
        input: &AssessmentInput,
        today: NaiveDate,
        expected: Option<i64>,
    ) -> Result<Assessment> {
        let existing = self.get_assessment(p, id).await?.ok_or(StoreError::NotFound)?;
        check_version(existing.version, expected)?;
        let access = self.assessment_access(p, existing.worker_id).await?.ok_or(StoreError::NotFound)?;
        if !access.may_record(existing.kind) {
            return Err(StoreError::Forbidden);
        }
        let (d, fw) = self.check_assessment(&access, input, Some(&existing.framework_version), today).await?;
        // Locked, then read again: the audit's "before" is what a concurrent change stored.
        let mut tx = self.begin_write().await?;
        let existing = self.locked_assessment(&mut tx, id, expected).await?;
        if !access.may_record(existing.kind) {
            return Err(StoreError::Forbidden);
        }
        let assessor = d.assessor.clone().unwrap_or_else(|| existing.assessor.clone());
        let before = audited(existing.worker_id, &draft_of(&existing), &existing.assessor);
        let after = audited(existing.worker_id, &d, &assessor);
        if before == after {
            tx.rollback().await?;
            return Ok(existing);
        }
        sqlx::query(
            "UPDATE competency_assessments SET kind = $1, assessed_on = $2, assessor = $3, notes = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(d.kind.code())
        .bind(d.assessed_on.to_string())
        .bind(&assessor)
        .bind(&d.notes)
        .bind(now_text())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM competency_ratings WHERE assessment_id = $1").bind(id).execute(&mut *tx).await?;
        insert_ratings(&mut tx, &fw, id, &d.ratings).await?;
        record_audit(&mut tx, p, "update", "competency_assessment", &id.to_string(), Some(&before), Some(&after))
            .await?;
        tx.commit().await?;
        self.get_assessment(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// Deletes an assessment entered by mistake: whoever may record its kind for the worker,
    /// or a national administrator. Audited with the whole assessment. With `expected`, only if
    /// the assessment is still at that version.
    pub async fn delete_assessment(&self, p: &Principal, id: i64, expected: Option<i64>) -> Result<()> {
        let existing = self.get_assessment(p, id).await?.ok_or(StoreError::NotFound)?;
        let access = self.assessment_access(p, existing.worker_id).await?.ok_or(StoreError::NotFound)?;
        if !access.may_record(existing.kind) && !p.may(Action::DeleteAnyAssessment) {
            return Err(StoreError::Forbidden);
        }
        let mut tx = self.begin_write().await?;
        let existing = self.locked_assessment(&mut tx, id, expected).await?;
        if !access.may_record(existing.kind) && !p.may(Action::DeleteAnyAssessment) {
            return Err(StoreError::Forbidden);
        }
        let before = audited(existing.worker_id, &draft_of(&existing), &existing.assessor);
        sqlx::query("DELETE FROM competency_ratings WHERE assessment_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM competency_assessments WHERE id = $1").bind(id).execute(&mut *tx).await?;
        record_audit(&mut tx, p, "delete", "competency_assessment", &id.to_string(), Some(&before), None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Locks an assessment's row and reads it again with its ratings; NotFound when it was
    /// deleted meanwhile, Stale when changed meanwhile and `expected` is given.
    async fn locked_assessment(&self, conn: &mut AnyConnection, id: i64, expected: Option<i64>) -> Result<Assessment> {
        lock_existing(conn, "competency_assessments", id, expected).await?;
        self.read_assessments_on(conn, "a.id = $1", id).await?.pop().ok_or(StoreError::NotFound)
    }
}

komlang_core::versioned!(Assessment);
