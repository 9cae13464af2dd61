//! Training in the JSON API: the catalogue, events and their participants, transcripts,
//! RPL/RCC, certificates, progress and targets, with their part of the OpenAPI document
//! ([`TrainingApiDoc`]).
//!
//! Who may do what is decided by the gates and the store (see `komlang_store::training`):
//! everybody signed in reads the catalogue and the targets, and a national administrator keeps
//! them; events are seen by every role but `worker` (403) in its geographic scope and run by
//! national administrators and provincial and district officers for places in theirs;
//! transcripts and certificates follow the worker's record (404 outside the caller's scope);
//! certificates are issued and revoked by national administrators.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::training::{
    AttendanceInput, CertificateLevel, CourseInput, EventInput, Hours, InstitutionInput, InstitutionKind,
    ProgrammeInput, ProgrammeProgress, RecognitionInput, RecognitionKind, TrainingResult,
};
use komlang_core::*;
use komlang_store::{
    Certificate, CertificateQuery, CertificateRow, Course, EligibleWorker, EventQuery, GroupProgress, Institution,
    Participant, Programme, ProgressQuery, ProgressReport, Recognition, TargetInput, TrainingEvent, TrainingTarget,
    Transcript, TranscriptEntry, WorkerBrief, CERTIFICATE_EXPORT_COLUMNS, EVENT_EXPORT_COLUMNS,
    TRANSCRIPT_EXPORT_COLUMNS,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::common::errors::{not_found, store};
use crate::common::export::download;
use crate::common::export::format_param;
use crate::common::extract::{body, code_param, date_param, query};
use crate::common::versions::{IfMatchHeader, VersionedWrite};
use crate::common::{today, ApiError, ApiErrorBody, ApiFieldError, ApiResult, ApiUser, ExportFormat, Paged};
use crate::common::{IfMatch, Tagged};
use crate::AppState;

#[utoipa::path(get, path = "/api/v1/training/institutions", tag = "training",
    responses((status = 200, description = "Training institutions, by code", body = Vec<Institution>),
        (status = 401, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_institutions(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
) -> ApiResult<Json<Vec<Institution>>> {
    Ok(Json(app.store.institutions().await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/training/institutions", tag = "training", request_body = InstitutionInput,
    responses((status = 201, body = Institution), (status = 400, body = ApiErrorBody),
        (status = 403, description = "Only national administrators keep the catalogue", body = ApiErrorBody),
        (status = 422, description = "`code` (missing, not a code, `duplicate_code`), `name_en`, `kind`", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_institution(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<InstitutionInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<Institution>)> {
    let input = body(b)?;
    let r = app.store.create_institution(&p, &input).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Tagged(r)))
}

#[utoipa::path(put, path = "/api/v1/training/institutions/{id}", tag = "training", params(("id" = i64, Path), IfMatchHeader),
    request_body = InstitutionInput,
    responses(VersionedWrite, (status = 200, body = Institution), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn update_institution(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<InstitutionInput>, JsonRejection>,
) -> ApiResult<Tagged<Institution>> {
    let input = body(b)?;
    Ok(Tagged(app.store.update_institution(&p, id, &input, expected).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/training/programmes", tag = "training",
    responses((status = 200, description = "Certificate programmes (and continuing education) with their modules' planned credits", body = Vec<Programme>),
        (status = 401, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_programmes(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
) -> ApiResult<Json<Vec<Programme>>> {
    Ok(Json(app.store.programmes().await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/training/programmes", tag = "training", request_body = ProgrammeInput,
    responses((status = 201, body = Programme), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`code`, `title_en`, `level`, `institution_id` (`unknown_institution`), `credits_required`", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_programme(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<ProgrammeInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<Programme>)> {
    let input = body(b)?;
    let r = app.store.create_programme(&p, &input).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Tagged(r)))
}

#[utoipa::path(put, path = "/api/v1/training/programmes/{id}", tag = "training", params(("id" = i64, Path), IfMatchHeader),
    request_body = ProgrammeInput,
    responses(VersionedWrite, (status = 200, description = "The programme as changed; eligibility follows its required credits", body = Programme),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn update_programme(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<ProgrammeInput>, JsonRejection>,
) -> ApiResult<Tagged<Programme>> {
    let input = body(b)?;
    Ok(Tagged(app.store.update_programme(&p, id, &input, expected).await.map_err(store(&i))?))
}

/// A programme with its modules.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeDetail {
    pub programme: Programme,
    /// The programme's modules, by code.
    pub modules: Vec<Course>,
}

impl komlang_core::Versioned for ProgrammeDetail {
    fn version(&self) -> i64 {
        self.programme.version
    }
}

#[utoipa::path(get, path = "/api/v1/training/programmes/{id}", tag = "training", params(("id" = i64, Path)),
    responses((status = 200, body = ProgrammeDetail, headers(("ETag" = String, description = "The record's version: send it as If-Match to change it"))), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn get_programme(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Tagged<ProgrammeDetail>> {
    let programme = app.store.programme(id).await.map_err(store(&i))?.ok_or_else(|| not_found(&i))?;
    let modules = app.store.courses(Some(Some(id))).await.map_err(store(&i))?;
    Ok(Tagged(ProgrammeDetail { programme, modules }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CourseParams {
    /// Only the modules of this programme.
    pub programme_id: Option<i64>,
    /// `true`: only courses on their own (no programme: continuing education).
    pub standalone: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/training/courses", tag = "training", params(CourseParams),
    responses((status = 200, description = "Modules and courses, by programme and code", body = Vec<Course>),
        (status = 400, body = ApiErrorBody),
        (status = 422, description = "`standalone` (`programme_or_standalone`): both `programme_id` and `standalone=true`", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_courses(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
    q: Result<Query<CourseParams>, QueryRejection>,
) -> ApiResult<Json<Vec<Course>>> {
    let q = query(q)?;
    let filter = match (q.programme_id, q.standalone.unwrap_or(false)) {
        (Some(_), true) => {
            let e = FieldError::new("standalone", "programme_or_standalone");
            return Err(ApiError::validation(&i, ValidationErrors::single(e)));
        }
        (Some(id), false) => Some(Some(id)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    Ok(Json(app.store.courses(filter).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/training/courses", tag = "training", request_body = CourseInput,
    responses((status = 201, body = Course), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`code`, `title_en`, `hours.teaching`/`hours.lab`/`hours.field` (negative or too many), `programme_id` (`unknown_programme`), `competencies` (`unknown_competency_code`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_course(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<CourseInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<Course>)> {
    let input = body(b)?;
    let r = app.store.create_course(&p, &input).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Tagged(r)))
}

#[utoipa::path(get, path = "/api/v1/training/courses/{id}", tag = "training", params(("id" = i64, Path)),
    responses((status = 200, body = Course, headers(("ETag" = String, description = "The record's version: send it as If-Match to change it"))), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn get_course(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Tagged<Course>> {
    Ok(Tagged(app.store.course(id).await.map_err(store(&i))?.ok_or_else(|| not_found(&i))?))
}

#[utoipa::path(put, path = "/api/v1/training/courses/{id}", tag = "training", params(("id" = i64, Path), IfMatchHeader),
    request_body = CourseInput,
    responses(VersionedWrite, (status = 200, description = "The module or course as changed; events already held keep their hours", body = Course),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn update_course(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<CourseInput>, JsonRejection>,
) -> ApiResult<Tagged<Course>> {
    let input = body(b)?;
    Ok(Tagged(app.store.update_course(&p, id, &input, expected).await.map_err(store(&i))?))
}

/// Filters of the event list and export.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Events ending on or after this date (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Events starting on or before this date (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// Province, district or commune code of where events take place.
    pub place: Option<String>,
    pub programme_id: Option<i64>,
    pub course_id: Option<i64>,
    /// 1-based page number (list only).
    pub page: Option<i64>,
    /// Items per page (default 50, at most 500; list only).
    pub per_page: Option<i64>,
}

fn event_query(q: &EventParams) -> ApiResult<EventQuery> {
    let from = date_param("from", &q.from)?;
    let to = date_param("to", &q.to)?;
    Ok(EventQuery {
        from,
        to,
        place: q.place.non_blank().map(String::from),
        programme_id: q.programme_id,
        course_id: q.course_id,
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(50),
    })
}

#[utoipa::path(get, path = "/api/v1/training/events", tag = "training", params(EventParams),
    responses((status = 200, description = "Events placed in the caller's scope, latest first; participant counts are of the workers the caller sees", body = Paged<TrainingEvent>),
        (status = 400, body = ApiErrorBody), (status = 403, description = "The `worker` role", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_events(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<EventParams>, QueryRejection>,
) -> ApiResult<Json<Paged<TrainingEvent>>> {
    let q = event_query(&query(q)?)?;
    Ok(Json(app.store.training_events(&p, &q).await.map_err(store(&i))?.into()))
}

#[utoipa::path(post, path = "/api/v1/training/events", tag = "training", request_body = EventInput,
    responses((status = 201, body = TrainingEvent), (status = 400, body = ApiErrorBody),
        (status = 403, description = "Only national administrators and provincial and district officers run training", body = ApiErrorBody),
        (status = 422, description = "`course_id`, `starts_on`, `ends_on` (`ends_before_start`), `place_code` (`unknown_admin_unit`, `outside_scope`), `hours.*`", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_event(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<EventInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<TrainingEvent>)> {
    let input = body(b)?;
    let e = app.store.create_training_event(&p, &input).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Tagged(e)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParams {
    /// `csv` (default) or `xlsx`.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/training/events/export", tag = "training", params(FormatParams, EventParams),
    responses((status = 200, description = "CSV (UTF-8 with BOM) or XLSX: one row per event and participant the caller sees (an event without one gives one row)",
        content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn export_events(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    f: Result<Query<FormatParams>, QueryRejection>,
    q: Result<Query<EventParams>, QueryRejection>,
) -> ApiResult<Response> {
    let format = format_param(&query(f)?.format)?.unwrap_or(ExportFormat::Csv);
    let q = event_query(&query(q)?)?;
    let rows = app.store.event_export_rows(&p, &q).await.map_err(store(&i))?;
    download(&i, "komlang-training-events", format, EVENT_EXPORT_COLUMNS, rows).await
}

#[utoipa::path(get, path = "/api/v1/training/events/{id}", tag = "training", params(("id" = i64, Path)),
    responses((status = 200, body = TrainingEvent, headers(("ETag" = String, description = "The record's version: send it as If-Match to change it"))), (status = 403, body = ApiErrorBody),
        (status = 404, description = "No such event, or placed outside the caller's scope", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn get_event(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Tagged<TrainingEvent>> {
    let e = app.store.training_event(&p, id).await.map_err(store(&i))?.ok_or_else(|| not_found(&i))?;
    Ok(Tagged(e))
}

#[utoipa::path(put, path = "/api/v1/training/events/{id}", tag = "training", params(("id" = i64, Path), IfMatchHeader),
    request_body(content = EventInput, description = "The whole event; hours absent: the course's"),
    responses(VersionedWrite, (status = 200, body = TrainingEvent), (status = 400, body = ApiErrorBody),
        (status = 403, description = "The caller sees the event but does not run training there", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn update_event(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<EventInput>, JsonRejection>,
) -> ApiResult<Tagged<TrainingEvent>> {
    let input = body(b)?;
    Ok(Tagged(app.store.update_training_event(&p, id, &input, expected).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/training/events/{id}/participants", tag = "training", params(("id" = i64, Path)),
    responses((status = 200, description = "The participants the caller sees, by name", body = Vec<Participant>),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_participants(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Participant>>> {
    Ok(Json(app.store.event_participants(&p, id).await.map_err(store(&i))?))
}

/// Workers of the registry to add to an event.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ParticipantsInput {
    pub worker_ids: Vec<i64>,
}

/// How many participants were added (those already there are left as they are).
#[derive(Debug, Serialize, ToSchema)]
pub struct Added {
    pub added: usize,
}

#[utoipa::path(post, path = "/api/v1/training/events/{id}/participants", tag = "training", params(("id" = i64, Path)),
    request_body = ParticipantsInput,
    responses((status = 201, body = Added), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "`worker_ids`: empty (`required`), or a worker not in the registry or not in the caller's scope (`not_in_registry`, with `value`); nobody was added", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn add_participants(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<ParticipantsInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Added>)> {
    let input = body(b)?;
    let added = app.store.add_participants(&p, id, &input.worker_ids).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(Added { added })))
}

/// How many pending participants were recorded as passed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Passed {
    pub passed: usize,
}

#[utoipa::path(post, path = "/api/v1/training/events/{id}/pass-pending", tag = "training", params(("id" = i64, Path)),
    responses((status = 200, description = "Every participant still `pending` (of those the caller sees) recorded as passed with the event's hours and days", body = Passed),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn pass_pending(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Passed>> {
    let passed = app.store.pass_pending(&p, id).await.map_err(store(&i))?;
    Ok(Json(Passed { passed }))
}

#[utoipa::path(put, path = "/api/v1/training/events/{id}/participants/{worker_id}", tag = "training",
    params(("id" = i64, Path), ("worker_id" = i64, Path), IfMatchHeader),
    request_body(content = AttendanceInput, description = "Days attended, hours by type (absent and `passed`: the event's hours) and the result"),
    responses(VersionedWrite, (status = 200, body = Participant), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, description = "No such event or participant in the caller's scope", body = ApiErrorBody),
        (status = 422, description = "`result`, `days_attended` (`more_days_than_event`), `hours.*` (`negative_hours`, `too_many_hours`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn record_attendance(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path((id, worker_id)): Path<(i64, i64)>,
    IfMatch(expected): IfMatch,
    b: Result<Json<AttendanceInput>, JsonRejection>,
) -> ApiResult<Tagged<Participant>> {
    let input = body(b)?;
    Ok(Tagged(app.store.record_attendance(&p, id, worker_id, &input, expected).await.map_err(store(&i))?))
}

#[utoipa::path(delete, path = "/api/v1/training/events/{id}/participants/{worker_id}", tag = "training",
    params(("id" = i64, Path), ("worker_id" = i64, Path), IfMatchHeader),
    responses(VersionedWrite, (status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn remove_participant(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path((id, worker_id)): Path<(i64, i64)>,
    IfMatch(expected): IfMatch,
) -> ApiResult<StatusCode> {
    app.store.remove_participant(&p, id, worker_id, expected).await.map_err(store(&i))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/transcript", tag = "training", params(("id" = i64, Path), FormatParams),
    responses((status = 200, description = "The worker's trainings (hours by type, credits each), `total_credits`, recognitions, certificates (each with its `number`) and progress toward each programme; with `format`, the same as a CSV or XLSX file",
            content((Transcript = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody),
        (status = 404, description = "No such worker, or not the caller's to see", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn transcript(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    f: Result<Query<FormatParams>, QueryRejection>,
) -> ApiResult<Response> {
    match format_param(&query(f)?.format)? {
        None => Ok(Json(app.store.transcript(&p, id).await.map_err(store(&i))?).into_response()),
        Some(format) => {
            let rows = app.store.transcript_export_rows(&p, id).await.map_err(store(&i))?;
            download(&i, &format!("komlang-transcript-{id}"), format, TRANSCRIPT_EXPORT_COLUMNS, rows).await
        }
    }
}

#[utoipa::path(post, path = "/api/v1/workers/{id}/recognitions", tag = "training", params(("id" = i64, Path)),
    request_body = RecognitionInput,
    responses((status = 201, body = Recognition), (status = 400, body = ApiErrorBody),
        (status = 403, description = "Only those who run training record RPL/RCC", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "`kind`, `programme_id` (`unknown_programme`, `no_certificate_programme`), `hours.*` (`no_hours`), `evidence`, `assessor`, `assessed_on` (`future_date`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn add_recognition(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<RecognitionInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Recognition>)> {
    let input = body(b)?;
    let r = app.store.add_recognition(&p, id, &input, today()).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/certificates", tag = "training", params(("id" = i64, Path)),
    responses((status = 200, description = "The worker's certificates, latest first (revoked ones with `valid: false`)", body = Vec<Certificate>),
        (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_certificates(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Certificate>>> {
    Ok(Json(app.store.worker_certificates(&p, id).await.map_err(store(&i))?))
}

/// The programme whose certificate to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueInput {
    pub programme_id: i64,
}

#[utoipa::path(post, path = "/api/v1/workers/{id}/certificates", tag = "training", params(("id" = i64, Path)),
    request_body = IssueInput,
    responses((status = 201, description = "Issued, with a new random number", body = Certificate),
        (status = 400, body = ApiErrorBody),
        (status = 403, description = "Only national administrators issue certificates", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "`programme_id`: `not_eligible` (params `have` and `need` credits), `already_certified` (`number`), `unknown_programme`", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn issue_certificate(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<IssueInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Certificate>)> {
    let input = body(b)?;
    let c = app.store.issue_certificate(&p, id, input.programme_id, today()).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// Why a certificate or licence is withdrawn.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/certificates/{number}/revoke", tag = "training",
    params(("number" = String, Path, description = "`C-XXXX-XXXX-XXXX-K` (case, spaces and dashes are forgiven)")),
    request_body = ReasonInput,
    responses((status = 200, description = "Revoked: `valid` is false", body = Certificate), (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 404, description = "No such certificate, or its holder is not the caller's to see", body = ApiErrorBody),
        (status = 422, description = "`reason` (`reason_required`), `number` (`already_revoked`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn revoke_certificate(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(number): Path<String>,
    b: Result<Json<ReasonInput>, JsonRejection>,
) -> ApiResult<Json<Certificate>> {
    let input = body(b)?;
    Ok(Json(app.store.revoke_certificate(&p, &number, &input.reason, today()).await.map_err(store(&i))?))
}

/// Which workers the progress report counts (within the caller's scope).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressParams {
    pub province: Option<String>,
    pub district: Option<String>,
    #[param(value_type = Option<Cadre>)]
    pub cadre: Option<String>,
    #[param(value_type = Option<WorkerRole>)]
    pub role: Option<String>,
    #[param(value_type = Option<Sector>)]
    pub sector: Option<String>,
    pub org_id: Option<i64>,
    /// One programme only.
    pub programme_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/training/progress", tag = "training", params(ProgressParams),
    responses((status = 200, description = "Per certificate programme: workers started, halfway, eligible and certified; and the eligible workers", body = ProgressReport),
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn progress(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<ProgressParams>, QueryRejection>,
) -> ApiResult<Json<ProgressReport>> {
    let q = query(q)?;
    let pq = ProgressQuery {
        province: q.province.non_blank().map(String::from),
        district: q.district.non_blank().map(String::from),
        cadre: code_param("cadre", &q.cadre, Cadre::parse, &Cadre::codes())?,
        role: code_param("role", &q.role, WorkerRole::parse, &WorkerRole::codes())?,
        sector: code_param("sector", &q.sector, Sector::parse, &Sector::codes())?,
        org_id: q.org_id,
        programme_id: q.programme_id,
    };
    Ok(Json(app.store.training_progress(&p, &pq).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/training/targets", tag = "training",
    responses((status = 200, description = "Training targets (Table 11 of the NISA Strategic Plan by default) with completions in the caller's scope", body = Vec<TrainingTarget>)),
    security(("bearer" = [])))]
pub(super) async fn list_targets(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
) -> ApiResult<Json<Vec<TrainingTarget>>> {
    Ok(Json(app.store.training_targets(&p).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/training/targets", tag = "training", request_body = TargetInput,
    responses((status = 200, description = "Added, or replaced the target of the same group, level and year", body = TrainingTarget),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`group_code`, `group_en`, `level`, `year`, `target`, `roles`", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn set_target(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<TargetInput>, JsonRejection>,
) -> ApiResult<Json<TrainingTarget>> {
    let input = body(b)?;
    app.store.set_training_target(&p, &input).await.map_err(store(&i))?;
    let level = CertificateLevel::parse(&input.level);
    let code = input.group_code.trim();
    let saved = app
        .store
        .training_targets(&p)
        .await
        .map_err(store(&i))?
        .into_iter()
        .find(|t| t.group_code == code && Some(t.level) == level && t.year == input.year);
    saved.map(Json).ok_or_else(|| not_found(&i))
}

/// Filters of the certificate register and its export.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CertificateParams {
    #[param(value_type = Option<CertificateLevel>)]
    pub level: Option<String>,
    pub programme_id: Option<i64>,
    /// Issued on or after this date (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Issued on or before this date (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    pub province: Option<String>,
    pub district: Option<String>,
    /// Text in the holder's name, or a certificate number.
    pub q: Option<String>,
    /// `true`: only valid certificates; `false`: only revoked ones.
    pub valid: Option<bool>,
    pub page: Option<i64>,
    /// Items per page (default 50).
    pub per_page: Option<i64>,
    /// `csv` or `xlsx`: every matching certificate as a file instead of a page.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/certificates", tag = "training", params(CertificateParams),
    responses((status = 200, description = "The certificate register: certificates of workers in the caller's scope, latest first (a page; or, with `format`, a CSV or XLSX file of every match)",
            content((Paged<CertificateRow> = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_certificate_register(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<CertificateParams>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let cq = CertificateQuery {
        level: code_param("level", &q.level, CertificateLevel::parse, &CertificateLevel::codes())?,
        programme_id: q.programme_id,
        from: date_param("from", &q.from)?,
        to: date_param("to", &q.to)?,
        province: q.province.non_blank().map(String::from),
        district: q.district.non_blank().map(String::from),
        q: q.q.non_blank().map(String::from),
        valid: q.valid,
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(50),
    };
    match format_param(&q.format)? {
        None => {
            let page: Paged<CertificateRow> = app.store.certificates(&p, &cq).await.map_err(store(&i))?.into();
            Ok(Json(page).into_response())
        }
        Some(format) => {
            let rows = app.store.certificate_export_rows(&p, &cq).await.map_err(store(&i))?;
            download(&i, "komlang-certificates", format, CERTIFICATE_EXPORT_COLUMNS, rows).await
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    paths(list_institutions, create_institution, update_institution, list_programmes, create_programme, get_programme,
          update_programme, list_courses, create_course, get_course, update_course, list_events, create_event,
          export_events, get_event, update_event, list_participants, add_participants, pass_pending, record_attendance,
          remove_participant, transcript, add_recognition, list_certificates, issue_certificate,
          list_certificate_register, revoke_certificate, progress, list_targets, set_target),
    components(schemas(Institution, InstitutionInput, InstitutionKind, Programme, ProgrammeInput, ProgrammeDetail,
        CertificateLevel, Course, CourseInput, Hours, TrainingEvent, EventInput, Participant, ParticipantsInput, Added, Passed,
        AttendanceInput, TrainingResult, WorkerBrief, Transcript, TranscriptEntry, Recognition, RecognitionInput,
        RecognitionKind, Certificate, CertificateRow, IssueInput, ReasonInput, ProgrammeProgress, ProgressReport,
        GroupProgress, EligibleWorker, TrainingTarget, TargetInput, ApiErrorBody, ApiFieldError)),
    tags((name = "training", description = "Training institutions, programmes and modules, events and their participants, transcripts with credits by the credit rule (1 credit = 15 h teaching, 30 h lab/workshop or 45 h field work), recognition of prior learning (RPL/RCC), certificates and their public verification, progress and targets."))
)]
pub struct TrainingApiDoc;
