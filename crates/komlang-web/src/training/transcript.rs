//! A worker's transcript: trainings with credits, RPL/RCC, certificates (issuing and revoking),
//! progress toward programmes and licences (applying for one), with its export.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::training::{normalize_number, CertificateLevel, NumberKind, RecognitionInput, RecognitionKind};
use komlang_core::*;
use komlang_store::{StoreError, WorkerBrief, TRANSCRIPT_EXPORT_COLUMNS};

use serde::{Deserialize, Serialize};

use super::shared::{hours_fields, hours_of, programme_title, visible_worker, HoursForm};
use crate::common::export::{export_format, page_download, FormatParam};
use crate::common::form_box::{integer, messages, no_errors, num, values_of, vchoices, Fb, FormBox, FormMap};
use crate::common::names::pick;
use crate::common::{flash, layout, render_status, store_err, today, Ctx, Layout, PageResult};
use crate::AppState;

pub struct TrainingRow {
    pub event_id: i64,
    pub starts_on: String,
    pub ends_on: String,
    pub course_code: String,
    pub course_title: String,
    pub programme_code: String,
    pub institution_code: String,
    pub result: String,
    pub teaching: String,
    pub lab: String,
    pub field: String,
    pub total_hours: String,
    pub credits: String,
}

pub struct RecognitionRow {
    pub kind: String,
    pub programme_code: String,
    pub teaching: String,
    pub lab: String,
    pub field: String,
    pub credits: String,
    pub evidence: String,
    pub assessor: String,
    pub assessed_on: String,
    pub recorded_by: String,
}

pub struct CertRow {
    pub number: String,
    pub programme_code: String,
    pub programme_title: String,
    pub level: String,
    pub issued_on: String,
    pub issued_by: String,
    pub valid: bool,
    pub revoked_on: String,
    pub revoke_reason: String,
    pub can_revoke: bool,
    pub errors: Vec<String>,
    pub reason_value: String,
}

pub struct ProgressLine {
    pub programme_id: i64,
    pub code: String,
    pub title: String,
    pub level: String,
    pub earned: String,
    pub recognized: String,
    pub required: u32,
    pub percent: u32,
    pub eligible: bool,
    pub certificate: Option<String>,
    pub can_issue: bool,
}

pub struct LicenceLine {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub status_code: &'static str,
    pub applied_on: String,
    pub expires_on: String,
}

#[derive(Template)]
#[template(path = "training/transcript.html")]
struct TranscriptPage {
    l: Layout,
    w: WorkerBrief,
    trainings: Vec<TrainingRow>,
    teaching: String,
    lab: String,
    field: String,
    total_hours: String,
    total_credits: String,
    recognitions: Vec<RecognitionRow>,
    certificates: Vec<CertRow>,
    progress: Vec<ProgressLine>,
    licences: Vec<LicenceLine>,
    show_event_links: bool,
    recognition_form: Option<FormBox>,
    issue_errors: Vec<String>,
    apply_form: Option<FormBox>,
}

/// A recognition of prior learning, as posted (numbers as typed).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct RecognitionForm {
    pub csrf: String,
    pub kind: String,
    pub programme_id: String,
    #[serde(flatten)]
    pub hours: HoursForm,
    pub evidence: String,
    pub assessor: String,
    pub assessed_on: String,
}

/// Issuing a certificate of a programme.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct IssueForm {
    pub csrf: String,
    pub programme_id: String,
}

/// Revoking a certificate; `worker_id` says on whose transcript the form was.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RevokeForm {
    pub csrf: String,
    pub reason: String,
    pub worker_id: String,
}

/// Applying for a licence.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct ApplyForm {
    pub csrf: String,
    pub note: String,
}

enum TranscriptFailure<'a> {
    None,
    Recognition(&'a FormMap, &'a ValidationErrors),
    Issue(&'a ValidationErrors),
    Revoke(&'a str, &'a RevokeForm, &'a ValidationErrors),
    Apply(&'a FormMap, &'a ValidationErrors),
}

fn may_apply(p: &Principal, worker_id: i64) -> bool {
    p.allows(Action::ApplyLicence, Target::worker(worker_id))
}

async fn transcript_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    failed: TranscriptFailure<'_>,
) -> PageResult {
    let i = ctx.i;
    let t = app.store.transcript(p, id).await.map_err(|e| store_err(ctx, e))?;
    let licences = app.store.worker_licences(p, id, today()).await.map_err(|e| store_err(ctx, e))?;
    let programmes = app.store.programmes().await?;
    let certify = p.may(Action::IssueCertificate);
    let title_of = |id: i64| programmes.iter().find(|x| x.id == id).map(|x| programme_title(&i, x)).unwrap_or_default();
    let trainings = t
        .trainings
        .iter()
        .map(|e| TrainingRow {
            event_id: e.event_id,
            starts_on: e.starts_on.to_string(),
            ends_on: e.ends_on.to_string(),
            course_code: e.course_code.clone(),
            course_title: if e.course_title_km.is_empty() {
                e.course_title_en.clone()
            } else {
                pick(&i, &e.course_title_en, &e.course_title_km)
            },
            programme_code: e.programme_code.clone().unwrap_or_default(),
            institution_code: e.institution_code.clone().unwrap_or_default(),
            result: i.t(&e.result.label_key()),
            teaching: num(e.hours.teaching),
            lab: num(e.hours.lab),
            field: num(e.hours.field),
            total_hours: num(e.total_hours),
            credits: num(e.credits),
        })
        .collect();
    let recognitions = t
        .recognitions
        .iter()
        .map(|r| RecognitionRow {
            kind: i.t(&r.kind.label_key()),
            programme_code: r.programme_code.clone(),
            teaching: num(r.hours.teaching),
            lab: num(r.hours.lab),
            field: num(r.hours.field),
            credits: num(r.credits),
            evidence: r.evidence.clone(),
            assessor: r.assessor.clone(),
            assessed_on: r.assessed_on.to_string(),
            recorded_by: r.recorded_by.clone(),
        })
        .collect();
    let certificates = t
        .certificates
        .iter()
        .map(|c| {
            let (errors, reason_value) = match &failed {
                TranscriptFailure::Revoke(n, form, e)
                    if normalize_number(NumberKind::Certificate, n).as_deref() == Some(c.number.as_str()) =>
                {
                    (messages(&i, e), form.reason.trim().to_string())
                }
                _ => (Vec::new(), String::new()),
            };
            CertRow {
                number: c.number.clone(),
                programme_code: c.programme_code.clone(),
                programme_title: if c.programme_title_km.is_empty() {
                    c.programme_title_en.clone()
                } else {
                    pick(&i, &c.programme_title_en, &c.programme_title_km)
                },
                level: i.t(&c.level.label_key()),
                issued_on: c.issued_on.to_string(),
                issued_by: c.issued_by.clone(),
                valid: c.valid,
                revoked_on: c.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
                revoke_reason: c.revoke_reason.clone().unwrap_or_default(),
                can_revoke: certify && c.valid,
                errors,
                reason_value,
            }
        })
        .collect();
    let progress = t
        .progress
        .iter()
        .map(|x| ProgressLine {
            programme_id: x.programme_id,
            code: x.programme_code.clone(),
            title: title_of(x.programme_id),
            level: i.t(&x.level.label_key()),
            earned: num(x.credits_earned),
            recognized: num(x.credits_recognized),
            required: x.credits_required,
            percent: x.percent,
            eligible: x.eligible,
            certificate: x.certificate.clone(),
            can_issue: certify && x.eligible,
        })
        .collect();
    let licence_lines = licences
        .iter()
        .map(|l| LicenceLine {
            id: l.id,
            number: l.number.clone().unwrap_or_default(),
            status: i.t(&l.effective_status.label_key()),
            status_code: l.effective_status.code(),
            applied_on: l.applied_on.to_string(),
            expires_on: l.expires_on.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    let empty = FormMap::new();
    let none = no_errors();
    let recognition_form = if p.may(Action::RunTraining) {
        let mut defaults = FormMap::new();
        defaults.insert("assessed_on".into(), today().to_string());
        defaults.insert("assessor".into(), p.username.clone());
        let (v, e) = match &failed {
            TranscriptFailure::Recognition(v, e) => (*v, *e),
            _ => (&defaults, &none),
        };
        let mut b = Fb::new(&i, "recognition", v, e);
        let kinds = vchoices(&i, RecognitionKind::ALL, RecognitionKind::code, RecognitionKind::label_key);
        b.select("kind", "training.recognition_kind", &kinds, true);
        let progs: Vec<(String, String)> = programmes
            .iter()
            .filter(|x| x.level != CertificateLevel::Continuing)
            .map(|x| (x.id.to_string(), format!("{} · {}", x.code, programme_title(&i, x))))
            .collect();
        b.select("programme_id", "training.programme", &progs, true);
        hours_fields(&mut b);
        b.add("evidence", "training.evidence", "textarea", true).hint = i.t("training.evidence_hint");
        b.add("assessor", "training.assessor", "text", true);
        b.add("assessed_on", "training.assessed_on", "date", true);
        Some(b.finish(i.t("training.add_recognition"), format!("/workers/{id}/recognitions"), i.t("common.save")))
    } else {
        None
    };
    let apply_form = if may_apply(p, id) {
        let (v, e) = match &failed {
            TranscriptFailure::Apply(v, e) => (*v, *e),
            _ => (&empty, &none),
        };
        let mut b = Fb::new(&i, "apply", v, e);
        b.add("note", "training.application_note", "textarea", false).hint = i.t("training.application_note_hint");
        Some(b.finish(i.t("training.apply_licence"), format!("/workers/{id}/licences"), i.t("training.apply")))
    } else {
        None
    };
    let issue_errors = match &failed {
        TranscriptFailure::Issue(e) => messages(&i, e),
        _ => Vec::new(),
    };
    let status =
        if matches!(failed, TranscriptFailure::None) { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let l = layout(ctx, "workers").await?;
    render_status(
        status,
        &TranscriptPage {
            teaching: num(t.hours.teaching),
            lab: num(t.hours.lab),
            field: num(t.hours.field),
            total_hours: num(t.total_hours),
            total_credits: num(t.total_credits),
            w: t.worker.clone(),
            trainings,
            recognitions,
            certificates,
            progress,
            licences: licence_lines,
            show_event_links: p.may(Action::ReadTrainingEvents),
            recognition_form,
            issue_errors,
            apply_form,
            l,
        },
    )
}

pub(super) async fn transcript_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    transcript_view(&app, &ctx, &p, id, TranscriptFailure::None).await
}

pub(super) async fn export_transcript(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(fmt): Query<FormatParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let rows = app.store.transcript_export_rows(&p, id).await.map_err(|e| store_err(&ctx, e))?;
    page_download(&ctx, &format!("komlang-transcript-{id}"), format, TRANSCRIPT_EXPORT_COLUMNS, rows).await
}

pub(super) async fn add_recognition(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<RecognitionForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    visible_worker(&app, &ctx, &p, id).await?;
    if !p.may(Action::RunTraining) {
        return Err(ctx.forbidden());
    }
    let mut pre = no_errors();
    let input = RecognitionInput {
        kind: form.kind.trim().to_string(),
        programme_id: integer("programme_id", &form.programme_id, &mut pre).unwrap_or(0),
        hours: hours_of(&form.hours, &mut pre).unwrap_or_default(),
        evidence: form.evidence.trim().to_string(),
        assessor: form.assessor.trim().to_string(),
        assessed_on: form.assessed_on.trim().to_string(),
    };
    let result = if pre.is_empty() {
        app.store.add_recognition(&p, id, &input, today()).await
    } else {
        Err(StoreError::Invalid(pre))
    };
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/workers/{id}/transcript#recognitions")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            transcript_view(&app, &ctx, &p, id, TranscriptFailure::Recognition(&values_of(&form), &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

pub(super) async fn issue_certificate(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<IssueForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    visible_worker(&app, &ctx, &p, id).await?;
    if !p.may(Action::IssueCertificate) {
        return Err(ctx.forbidden());
    }
    let mut pre = no_errors();
    let programme_id = integer("programme_id", &form.programme_id, &mut pre);
    if programme_id.is_none() && pre.is_empty() {
        pre.push(FieldError::new("programme_id", "required"));
    }
    let result = match programme_id {
        Some(pid) if pre.is_empty() => app.store.issue_certificate(&p, id, pid, today()).await,
        _ => Err(StoreError::Invalid(pre)),
    };
    match result {
        Ok(_) => {
            flash(&ctx, "training.certificate_issued").await?;
            Ok(Redirect::to(&format!("/workers/{id}/transcript#certificates")).into_response())
        }
        Err(StoreError::Invalid(e)) => transcript_view(&app, &ctx, &p, id, TranscriptFailure::Issue(&e)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Template)]
#[template(path = "training/message.html")]
struct MessagePage {
    l: Layout,
    title: String,
    messages: Vec<String>,
    back: String,
}

pub(super) async fn revoke_certificate(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(form): Form<RevokeForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    match app.store.revoke_certificate(&p, &number, form.reason.trim(), today()).await {
        Ok(c) => {
            flash(&ctx, "training.certificate_revoked").await?;
            Ok(Redirect::to(&format!("/workers/{}/transcript#certificates", c.worker_id)).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            // Back on the holder's transcript when the form says whose it is and it is theirs.
            let worker_id: Option<i64> = form.worker_id.trim().parse().ok();
            let canonical = normalize_number(NumberKind::Certificate, &number);
            if let Some(wid) = worker_id {
                if let Ok(certs) = app.store.worker_certificates(&p, wid).await {
                    if certs.iter().any(|c| Some(&c.number) == canonical.as_ref()) {
                        return transcript_view(&app, &ctx, &p, wid, TranscriptFailure::Revoke(&number, &form, &e))
                            .await;
                    }
                }
            }
            let l = layout(&ctx, "workers").await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &MessagePage {
                    title: ctx.i.t("training.revoke_certificate"),
                    messages: messages(&ctx.i, &e),
                    back: worker_id.map(|w| format!("/workers/{w}/transcript")).unwrap_or_else(|| "/training".into()),
                    l,
                },
            )
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

pub(super) async fn apply_licence(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ApplyForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    match app.store.apply_licence(&p, id, Some(form.note.trim()), today()).await {
        Ok(_) => {
            flash(&ctx, "training.licence_applied").await?;
            Ok(Redirect::to(&format!("/workers/{id}/transcript#licences")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            transcript_view(&app, &ctx, &p, id, TranscriptFailure::Apply(&values_of(&form), &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}
