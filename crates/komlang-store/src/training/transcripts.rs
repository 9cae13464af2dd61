//! A worker's transcript: trainings, RPL/RCC recognitions, certificates and progress toward
//! every programme; recognitions recorded; the transcript export.

use std::collections::HashMap;

use chrono::NaiveDate;
use komlang_core::training::*;
use komlang_core::*;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::certificates::Certificate;
use super::{h, minutes};
use crate::common::audit::record_audit;
use crate::common::rows::{date_col, parse_col};
use crate::common::store::invalid;
use crate::workers::WorkerBrief;
use crate::{now_text, Result, Store, StoreError};

/// One training of a worker's transcript.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TranscriptEntry {
    pub event_id: i64,
    pub course_code: String,
    pub course_title_en: String,
    pub course_title_km: String,
    pub programme_code: Option<String>,
    pub institution_code: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub starts_on: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub ends_on: NaiveDate,
    pub place_code: String,
    pub result: TrainingResult,
    /// Hours attended by type.
    pub hours: Hours,
    pub total_hours: f64,
    /// Credits this training earned (none unless passed).
    pub credits: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Recognition {
    pub id: i64,
    pub worker_id: i64,
    pub kind: RecognitionKind,
    pub programme_id: i64,
    pub programme_code: String,
    pub hours: Hours,
    pub credits: f64,
    pub evidence: String,
    pub assessor: String,
    #[schema(value_type = String, format = Date)]
    pub assessed_on: NaiveDate,
    pub recorded_by: String,
}

/// A worker's whole training record.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Transcript {
    pub worker: WorkerBrief,
    /// Every training event the worker took part in, newest first.
    pub trainings: Vec<TranscriptEntry>,
    /// Hours of passed trainings, by type.
    pub hours: Hours,
    pub total_hours: f64,
    /// Credits of passed trainings and recognitions, by the credit rule.
    pub total_credits: f64,
    pub recognitions: Vec<Recognition>,
    pub certificates: Vec<Certificate>,
    /// Progress toward each programme's certificate.
    pub progress: Vec<ProgrammeProgress>,
}

/// Columns of the exports, in order.
pub const TRANSCRIPT_EXPORT_COLUMNS: &[&str] = &[
    "worker_id",
    "name_latin",
    "name_km",
    "kind",
    "code",
    "title_en",
    "programme",
    "starts_on",
    "ends_on",
    "result",
    "teaching_hours",
    "lab_hours",
    "field_hours",
    "credits",
    "certificate_number",
];

impl Store {
    async fn recognitions_of(&self, worker_id: i64) -> Result<Vec<Recognition>> {
        let rows = sqlx::query(
            "SELECT r.id, r.worker_id, r.kind, r.programme_id, p.code AS programme_code, r.teaching_minutes, \
             r.lab_minutes, r.field_minutes, r.evidence, r.assessor, r.assessed_on, r.recorded_by \
             FROM training_recognitions r JOIN training_programmes p ON p.id = r.programme_id \
             WHERE r.worker_id = $1 ORDER BY r.assessed_on, r.id",
        )
        .bind(worker_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let m = minutes(r, "")?;
                Ok(Recognition {
                    id: r.try_get("id")?,
                    worker_id: r.try_get("worker_id")?,
                    kind: parse_col(r, "kind", RecognitionKind::parse)?,
                    programme_id: r.try_get("programme_id")?,
                    programme_code: r.try_get("programme_code")?,
                    hours: m.hours(),
                    credits: m.credits(),
                    evidence: r.try_get("evidence")?,
                    assessor: r.try_get("assessor")?,
                    assessed_on: date_col(r, "assessed_on")?,
                    recorded_by: r.try_get("recorded_by")?,
                })
            })
            .collect()
    }

    /// A worker's transcript: trainings with hours by type and credits, recognitions,
    /// certificates and progress toward every programme.
    pub async fn transcript(&self, p: &Principal, worker_id: i64) -> Result<Transcript> {
        let worker = self.brief(p, worker_id).await?;
        let rows = sqlx::query(
            "SELECT tp.event_id, c.code AS course_code, c.title_en AS course_title_en, c.title_km AS course_title_km, \
             c.programme_id, p.code AS programme_code, i.code AS institution_code, e.starts_on, e.ends_on, \
             e.place_code, tp.result, tp.teaching_minutes, tp.lab_minutes, tp.field_minutes \
             FROM training_participants tp JOIN training_events e ON e.id = tp.event_id \
             JOIN training_courses c ON c.id = e.course_id LEFT JOIN training_programmes p ON p.id = c.programme_id \
             LEFT JOIN training_institutions i ON i.id = e.institution_id \
             WHERE tp.worker_id = $1 ORDER BY e.starts_on DESC, e.id DESC",
        )
        .bind(worker_id)
        .fetch_all(&self.pool)
        .await?;
        let mut trainings = Vec::new();
        let mut passed_total = Minutes::default();
        let mut by_programme: HashMap<i64, Minutes> = HashMap::new();
        for r in &rows {
            let m = minutes(r, "")?;
            let result = parse_col(r, "result", TrainingResult::parse)?;
            let passed = result == TrainingResult::Passed;
            if passed {
                passed_total.add(&m);
                if let Some(pid) = r.try_get::<Option<i64>, _>("programme_id")? {
                    by_programme.entry(pid).or_default().add(&m);
                }
            }
            trainings.push(TranscriptEntry {
                event_id: r.try_get("event_id")?,
                course_code: r.try_get("course_code")?,
                course_title_en: r.try_get("course_title_en")?,
                course_title_km: r.try_get("course_title_km")?,
                programme_code: r.try_get("programme_code")?,
                institution_code: r.try_get("institution_code")?,
                starts_on: date_col(r, "starts_on")?,
                ends_on: date_col(r, "ends_on")?,
                place_code: r.try_get("place_code")?,
                result,
                hours: m.hours(),
                total_hours: Minutes { teaching: m.total(), lab: 0, field: 0 }.hours().teaching,
                credits: if passed { m.credits() } else { 0.0 },
            });
        }
        let recognitions = self.recognitions_of(worker_id).await?;
        let mut recognized: HashMap<i64, Minutes> = HashMap::new();
        let mut all = passed_total;
        for rc in &recognitions {
            let mut e = ValidationErrors::default();
            let m = rc.hours.to_minutes("", &mut e);
            recognized.entry(rc.programme_id).or_default().add(&m);
            all.add(&m);
        }
        let certificates = self.certificates_of(worker_id).await?;
        let progress = self
            .programmes()
            .await?
            .into_iter()
            .filter(|pr| pr.level != CertificateLevel::Continuing)
            .map(|pr| {
                let cert = certificates.iter().find(|c| c.valid && c.programme_id == pr.id).map(|c| c.number.clone());
                programme_progress(
                    pr.id,
                    &pr.code,
                    pr.level,
                    pr.credits_required,
                    &by_programme.get(&pr.id).copied().unwrap_or_default(),
                    &recognized.get(&pr.id).copied().unwrap_or_default(),
                    cert,
                )
            })
            .collect();
        Ok(Transcript {
            worker,
            trainings,
            hours: passed_total.hours(),
            total_hours: Minutes { teaching: passed_total.total(), lab: 0, field: 0 }.hours().teaching,
            total_credits: all.credits(),
            recognitions,
            certificates,
            progress,
        })
    }

    /// Records an RPL/RCC grant toward a programme, with its evidence.
    pub async fn add_recognition(
        &self,
        p: &Principal,
        worker_id: i64,
        input: &RecognitionInput,
        today: NaiveDate,
    ) -> Result<Recognition> {
        self.brief(p, worker_id).await?;
        p.require(Action::RunTraining, Target::Any)?;
        let d = validate_recognition(input, today)?;
        let Some(prog) = self.programme(d.programme_id).await? else {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("programme_id", "unknown_programme").with("value", d.programme_id),
            )));
        };
        if prog.level == CertificateLevel::Continuing {
            return Err(invalid("programme_id", "no_certificate_programme"));
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO training_recognitions (worker_id, kind, programme_id, teaching_minutes, lab_minutes, \
             field_minutes, evidence, assessor, assessed_on, recorded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(worker_id)
        .bind(d.kind.code())
        .bind(d.programme_id)
        .bind(d.minutes.teaching)
        .bind(d.minutes.lab)
        .bind(d.minutes.field)
        .bind(&d.evidence)
        .bind(&d.assessor)
        .bind(d.assessed_on.to_string())
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        let after = serde_json::json!({"worker_id": worker_id, "draft": d});
        record_audit(&mut tx, p, "create", "training_recognition", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.recognitions_of(worker_id).await?.into_iter().find(|r| r.id == id).ok_or(StoreError::NotFound)
    }

    /// A worker's transcript as rows of [`TRANSCRIPT_EXPORT_COLUMNS`]: trainings, then
    /// recognitions, then certificates.
    pub async fn transcript_export_rows(&self, p: &Principal, worker_id: i64) -> Result<Vec<Vec<String>>> {
        let t = self.transcript(p, worker_id).await?;
        let base = |kind: &str| {
            vec![t.worker.id.to_string(), t.worker.name_latin.clone(), t.worker.name_km.clone(), kind.into()]
        };
        let mut out = Vec::new();
        for e in t.trainings.iter().rev() {
            let mut r = base("training");
            r.extend([
                e.course_code.clone(),
                e.course_title_en.clone(),
                e.programme_code.clone().unwrap_or_default(),
                e.starts_on.to_string(),
                e.ends_on.to_string(),
                e.result.code().into(),
                h(e.hours.teaching),
                h(e.hours.lab),
                h(e.hours.field),
                h(e.credits),
                String::new(),
            ]);
            out.push(r);
        }
        for rc in &t.recognitions {
            let mut r = base(rc.kind.code());
            r.extend([
                String::new(),
                rc.evidence.clone(),
                rc.programme_code.clone(),
                rc.assessed_on.to_string(),
                rc.assessed_on.to_string(),
                "recognized".into(),
                h(rc.hours.teaching),
                h(rc.hours.lab),
                h(rc.hours.field),
                h(rc.credits),
                String::new(),
            ]);
            out.push(r);
        }
        for c in &t.certificates {
            let mut r = base("certificate");
            r.extend([
                c.level.code().into(),
                c.programme_title_en.clone(),
                c.programme_code.clone(),
                c.issued_on.to_string(),
                c.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
                if c.valid { "valid".into() } else { "revoked".into() },
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                c.number.clone(),
            ]);
            out.push(r);
        }
        Ok(out)
    }
}
