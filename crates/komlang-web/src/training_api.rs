//! Training, certification and licensing in the JSON API (under `/api`), with their part of
//! the OpenAPI document ([`TrainingApiDoc`], merged into `/api/openapi.json`).
//!
//! Who may do what is decided by the store (see `komlang_store::training`): everybody signed
//! in reads the catalogue, the targets and the licensing rules, and a national administrator
//! keeps them; events are seen by every role but `worker` (403 here) in its geographic scope
//! and run by national administrators and provincial and district officers for places in
//! theirs; transcripts, certificates and licences follow the worker's record (404 outside
//! the caller's scope); certificates are issued and revoked, and licences decided and
//! renewed, by national administrators. Two routes need no token: certificate verification
//! and the public register of valid licences.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use komlang_core::training::{
    AttendanceInput, CertificateLevel, CourseInput, DecisionInput, EventInput, Hours, InstitutionInput,
    InstitutionKind, LicenceStatus, LicensingRules, ProgrammeInput, ProgrammeProgress, RecognitionInput,
    RecognitionKind, TrainingResult,
};
use komlang_core::*;
use komlang_store::{
    Certificate, CertificateQuery, CertificateRow, Course, EligibleWorker, EventQuery, GroupProgress, Institution,
    Licence, LicenceActionRow, LicenceDetail, LicenceQuery, Participant, Programme, ProgressQuery, ProgressReport,
    PublicCertificate, PublicLicence, Recognition, TargetInput, TrainingEvent, TrainingTarget, Transcript,
    TranscriptEntry, WorkerBrief, CERTIFICATE_EXPORT_COLUMNS, EVENT_EXPORT_COLUMNS, LICENCE_EXPORT_COLUMNS,
    TRANSCRIPT_EXPORT_COLUMNS,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::common::errors::{bad_request, not_found, store};
use crate::common::export::table_file;
use crate::common::extract::{body, query};
use crate::common::{
    today, ApiError, ApiErrorBody, ApiFieldError, ApiResult, ApiUser, ExportFormat, I18n, Locale, Paged,
};
use crate::common::{Gate, Routes};
use crate::AppState;

pub fn routes(r: Routes) -> Routes {
    r.get("/api/v1/training/institutions", Gate::SignedIn, list_institutions)
        .post("/api/v1/training/institutions", Gate::Action(Action::KeepTrainingCatalogue), create_institution)
        .put("/api/v1/training/institutions/{id}", Gate::Action(Action::KeepTrainingCatalogue), update_institution)
        .get("/api/v1/training/programmes", Gate::SignedIn, list_programmes)
        .post("/api/v1/training/programmes", Gate::Action(Action::KeepTrainingCatalogue), create_programme)
        .get("/api/v1/training/programmes/{id}", Gate::SignedIn, get_programme)
        .put("/api/v1/training/programmes/{id}", Gate::Action(Action::KeepTrainingCatalogue), update_programme)
        .get("/api/v1/training/courses", Gate::SignedIn, list_courses)
        .post("/api/v1/training/courses", Gate::Action(Action::KeepTrainingCatalogue), create_course)
        .get("/api/v1/training/courses/{id}", Gate::SignedIn, get_course)
        .put("/api/v1/training/courses/{id}", Gate::Action(Action::KeepTrainingCatalogue), update_course)
        .get("/api/v1/training/events", Gate::Action(Action::ReadTrainingEvents), list_events)
        .post("/api/v1/training/events", Gate::Action(Action::RunTraining), create_event)
        .get("/api/v1/training/events/export", Gate::Action(Action::ReadTrainingEvents), export_events)
        .get("/api/v1/training/events/{id}", Gate::Action(Action::ReadTrainingEvents), get_event)
        .put("/api/v1/training/events/{id}", Gate::Action(Action::RunTraining), update_event)
        .get("/api/v1/training/events/{id}/participants", Gate::Action(Action::ReadTrainingEvents), list_participants)
        .post("/api/v1/training/events/{id}/participants", Gate::Action(Action::RunTraining), add_participants)
        .post("/api/v1/training/events/{id}/pass-pending", Gate::Action(Action::RunTraining), pass_pending)
        .put(
            "/api/v1/training/events/{id}/participants/{worker_id}",
            Gate::Action(Action::RunTraining),
            record_attendance,
        )
        .delete(
            "/api/v1/training/events/{id}/participants/{worker_id}",
            Gate::Action(Action::RunTraining),
            remove_participant,
        )
        .get("/api/v1/training/progress", Gate::Action(Action::ReadWorkers), progress)
        .get("/api/v1/training/targets", Gate::SignedIn, list_targets)
        .post("/api/v1/training/targets", Gate::Action(Action::KeepTrainingCatalogue), set_target)
        .get("/api/v1/workers/{id}/transcript", Gate::Action(Action::ReadWorkers), transcript)
        // RunTraining: checked per record, after the scope (404 first).
        .post("/api/v1/workers/{id}/recognitions", Gate::Action(Action::ReadWorkers), add_recognition)
        .get("/api/v1/workers/{id}/certificates", Gate::Action(Action::ReadWorkers), list_certificates)
        // IssueCertificate: checked per record, after the scope (404 first).
        .post("/api/v1/workers/{id}/certificates", Gate::Action(Action::ReadWorkers), issue_certificate)
        .get("/api/v1/certificates", Gate::Action(Action::ReadWorkers), list_certificate_register)
        // IssueCertificate: checked per record, after the scope (404 first).
        .post("/api/v1/certificates/{number}/revoke", Gate::Action(Action::ReadWorkers), revoke_certificate)
        .get("/api/v1/public/certificates/{number}", Gate::Public, public_certificate)
        .get("/api/v1/licences", Gate::Action(Action::ReadWorkers), list_licences)
        .get("/api/v1/workers/{id}/licences", Gate::Action(Action::ReadWorkers), worker_licences)
        .post("/api/v1/workers/{id}/licences", Gate::Action(Action::ApplyLicence), apply_licence)
        .get("/api/v1/licences/{id}", Gate::Action(Action::ReadWorkers), get_licence)
        // DecideLicence: checked per record, after the scope (404 first).
        .post("/api/v1/licences/{id}/decision", Gate::Action(Action::ReadWorkers), decide_licence)
        // DecideLicence: checked per record, after the scope (404 first).
        .post("/api/v1/licences/{id}/renew", Gate::Action(Action::ReadWorkers), renew_licence)
        .get("/api/v1/licensing/rules", Gate::SignedIn, get_rules)
        .put("/api/v1/licensing/rules", Gate::Action(Action::KeepTrainingCatalogue), set_rules)
        .get("/api/v1/public/licences", Gate::Public, public_register)
}

/// The language of a call without a token: `Accept-Language`, else English.
fn anonymous_i18n(headers: &HeaderMap) -> I18n {
    I18n::new(Locale::from_accept_language(headers).unwrap_or(Locale::En))
}

fn clean(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn clean_owned(v: &Option<String>) -> Option<String> {
    clean(v).map(String::from)
}

/// A coded filter: 400 naming the accepted codes when unknown.
fn code_param<T>(name: &str, v: &Option<String>, parse: fn(&str) -> Option<T>, codes: &[&str]) -> ApiResult<Option<T>> {
    match clean(v) {
        None => Ok(None),
        Some(s) => parse(s)
            .map(Some)
            .ok_or_else(|| bad_request(format!("unknown {name} `{s}`: use one of {}", codes.join(", ")))),
    }
}

fn date_param(name: &str, v: &Option<String>) -> ApiResult<Option<NaiveDate>> {
    match clean(v) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| bad_request(format!("{name} `{s}` is not a date: use YYYY-MM-DD"))),
    }
}

/// `format=csv|xlsx`; None when absent.
fn format_param(v: &Option<String>) -> ApiResult<Option<ExportFormat>> {
    match clean(v) {
        None => Ok(None),
        Some(f) => ExportFormat::parse(f)
            .map(Some)
            .ok_or_else(|| bad_request(format!("unknown format `{f}`: use csv or xlsx"))),
    }
}

async fn download(
    i: &I18n,
    name: &str,
    format: ExportFormat,
    columns: &'static [&'static str],
    rows: Vec<Vec<String>>,
) -> ApiResult<Response> {
    table_file(name, format, columns, rows).await.map_err(store(i))
}

// ---------------------------------------------------------------------------------------------
// Catalogue
// ---------------------------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/training/institutions", tag = "training",
    responses((status = 200, description = "Training institutions, by code", body = Vec<Institution>),
        (status = 401, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn list_institutions(
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
async fn create_institution(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<InstitutionInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Institution>)> {
    let input = body(b)?;
    let r = app.store.create_institution(&p, &input).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[utoipa::path(put, path = "/api/v1/training/institutions/{id}", tag = "training", params(("id" = i64, Path)),
    request_body = InstitutionInput,
    responses((status = 200, body = Institution), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn update_institution(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<InstitutionInput>, JsonRejection>,
) -> ApiResult<Json<Institution>> {
    let input = body(b)?;
    Ok(Json(app.store.update_institution(&p, id, &input).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/training/programmes", tag = "training",
    responses((status = 200, description = "Certificate programmes (and continuing education) with their modules' planned credits", body = Vec<Programme>),
        (status = 401, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn list_programmes(State(app): State<AppState>, ApiUser(_caller, i): ApiUser) -> ApiResult<Json<Vec<Programme>>> {
    Ok(Json(app.store.programmes().await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/training/programmes", tag = "training", request_body = ProgrammeInput,
    responses((status = 201, body = Programme), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`code`, `title_en`, `level`, `institution_id` (`unknown_institution`), `credits_required`", body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn create_programme(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<ProgrammeInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Programme>)> {
    let input = body(b)?;
    let r = app.store.create_programme(&p, &input).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[utoipa::path(put, path = "/api/v1/training/programmes/{id}", tag = "training", params(("id" = i64, Path)),
    request_body = ProgrammeInput,
    responses((status = 200, description = "The programme as changed; eligibility follows its required credits", body = Programme),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn update_programme(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<ProgrammeInput>, JsonRejection>,
) -> ApiResult<Json<Programme>> {
    let input = body(b)?;
    Ok(Json(app.store.update_programme(&p, id, &input).await.map_err(store(&i))?))
}

/// A programme with its modules.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeDetail {
    pub programme: Programme,
    /// The programme's modules, by code.
    pub modules: Vec<Course>,
}

#[utoipa::path(get, path = "/api/v1/training/programmes/{id}", tag = "training", params(("id" = i64, Path)),
    responses((status = 200, body = ProgrammeDetail), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn get_programme(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<ProgrammeDetail>> {
    let programme = app.store.programme(id).await.map_err(store(&i))?.ok_or_else(|| not_found(&i))?;
    let modules = app.store.courses(Some(Some(id))).await.map_err(store(&i))?;
    Ok(Json(ProgrammeDetail { programme, modules }))
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
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn list_courses(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
    q: Result<Query<CourseParams>, QueryRejection>,
) -> ApiResult<Json<Vec<Course>>> {
    let q = query(q)?;
    let filter = match (q.programme_id, q.standalone.unwrap_or(false)) {
        (Some(_), true) => return Err(bad_request("give programme_id or standalone=true, not both")),
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
async fn create_course(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<CourseInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Course>)> {
    let input = body(b)?;
    let r = app.store.create_course(&p, &input).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(r)))
}

#[utoipa::path(get, path = "/api/v1/training/courses/{id}", tag = "training", params(("id" = i64, Path)),
    responses((status = 200, body = Course), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn get_course(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Course>> {
    Ok(Json(app.store.course(id).await.map_err(store(&i))?.ok_or_else(|| not_found(&i))?))
}

#[utoipa::path(put, path = "/api/v1/training/courses/{id}", tag = "training", params(("id" = i64, Path)),
    request_body = CourseInput,
    responses((status = 200, description = "The module or course as changed; events already held keep their hours", body = Course),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn update_course(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<CourseInput>, JsonRejection>,
) -> ApiResult<Json<Course>> {
    let input = body(b)?;
    Ok(Json(app.store.update_course(&p, id, &input).await.map_err(store(&i))?))
}

// ---------------------------------------------------------------------------------------------
// Events and participants
// ---------------------------------------------------------------------------------------------

/// Filters of the event list and export.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    /// Events ending on or after this date (YYYY-MM-DD).
    pub from: Option<String>,
    /// Events starting on or before this date (YYYY-MM-DD).
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
        place: clean_owned(&q.place),
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
async fn list_events(
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
async fn create_event(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<EventInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<TrainingEvent>)> {
    let input = body(b)?;
    let e = app.store.create_training_event(&p, &input).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(e)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParams {
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/training/events/export", tag = "training", params(FormatParams, EventParams),
    responses((status = 200, description = "CSV (UTF-8 with BOM) or XLSX: one row per event and participant the caller sees (an event without one gives one row)",
        content_type = "text/csv", body = String),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn export_events(
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
    responses((status = 200, body = TrainingEvent), (status = 403, body = ApiErrorBody),
        (status = 404, description = "No such event, or placed outside the caller's scope", body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn get_event(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<TrainingEvent>> {
    let e = app.store.training_event(&p, id).await.map_err(store(&i))?.ok_or_else(|| not_found(&i))?;
    Ok(Json(e))
}

#[utoipa::path(put, path = "/api/v1/training/events/{id}", tag = "training", params(("id" = i64, Path)),
    request_body(content = EventInput, description = "The whole event; hours absent: the course's"),
    responses((status = 200, body = TrainingEvent), (status = 400, body = ApiErrorBody),
        (status = 403, description = "The caller sees the event but does not run training there", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn update_event(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<EventInput>, JsonRejection>,
) -> ApiResult<Json<TrainingEvent>> {
    let input = body(b)?;
    Ok(Json(app.store.update_training_event(&p, id, &input).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/training/events/{id}/participants", tag = "training", params(("id" = i64, Path)),
    responses((status = 200, description = "The participants the caller sees, by name", body = Vec<Participant>),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn list_participants(
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
async fn add_participants(
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
async fn pass_pending(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Passed>> {
    let passed = app.store.pass_pending(&p, id).await.map_err(store(&i))?;
    Ok(Json(Passed { passed }))
}

#[utoipa::path(put, path = "/api/v1/training/events/{id}/participants/{worker_id}", tag = "training",
    params(("id" = i64, Path), ("worker_id" = i64, Path)),
    request_body(content = AttendanceInput, description = "Days attended, hours by type (absent and `passed`: the event's hours) and the result"),
    responses((status = 200, body = Participant), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, description = "No such event or participant in the caller's scope", body = ApiErrorBody),
        (status = 422, description = "`result`, `days_attended` (`more_days_than_event`), `hours.*` (`negative_hours`, `too_many_hours`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn record_attendance(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path((id, worker_id)): Path<(i64, i64)>,
    b: Result<Json<AttendanceInput>, JsonRejection>,
) -> ApiResult<Json<Participant>> {
    let input = body(b)?;
    Ok(Json(app.store.record_attendance(&p, id, worker_id, &input).await.map_err(store(&i))?))
}

#[utoipa::path(delete, path = "/api/v1/training/events/{id}/participants/{worker_id}", tag = "training",
    params(("id" = i64, Path), ("worker_id" = i64, Path)),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn remove_participant(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path((id, worker_id)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    app.store.remove_participant(&p, id, worker_id).await.map_err(store(&i))?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------------------------------------
// Transcripts, recognitions, certificates
// ---------------------------------------------------------------------------------------------

#[utoipa::path(get, path = "/api/v1/workers/{id}/transcript", tag = "training", params(("id" = i64, Path), FormatParams),
    responses((status = 200, description = "The worker's trainings (hours by type, credits each), `total_credits`, recognitions, certificates (each with its `number`) and progress toward each programme; with `format`, the same as a CSV or XLSX file",
            body = Transcript),
        (status = 400, body = ApiErrorBody),
        (status = 404, description = "No such worker, or not the caller's to see", body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn transcript(
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
async fn add_recognition(
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
async fn list_certificates(
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
async fn issue_certificate(
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
async fn revoke_certificate(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(number): Path<String>,
    b: Result<Json<ReasonInput>, JsonRejection>,
) -> ApiResult<Json<Certificate>> {
    let input = body(b)?;
    Ok(Json(app.store.revoke_certificate(&p, &number, &input.reason, today()).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/public/certificates/{number}", tag = "training",
    params(("number" = String, Path, description = "The number printed on the certificate")),
    responses((status = 200, description = "The certificate and its holder's name (as the /verify page shows it); `valid` false once revoked", body = PublicCertificate),
        (status = 404, description = "No certificate has this number", body = ApiErrorBody)))]
async fn public_certificate(
    State(app): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> ApiResult<Json<PublicCertificate>> {
    let i = anonymous_i18n(&headers);
    match app.store.public_certificate(&number).await.map_err(store(&i))? {
        Some(c) => Ok(Json(c)),
        None => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no certificate has this number")),
    }
}

// ---------------------------------------------------------------------------------------------
// Progress and targets
// ---------------------------------------------------------------------------------------------

/// Which workers the progress report counts (within the caller's scope).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressParams {
    pub province: Option<String>,
    pub district: Option<String>,
    pub cadre: Option<String>,
    pub role: Option<String>,
    pub sector: Option<String>,
    pub org_id: Option<i64>,
    /// One programme only.
    pub programme_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/training/progress", tag = "training", params(ProgressParams),
    responses((status = 200, description = "Per certificate programme: workers started, halfway, eligible and certified; and the eligible workers", body = ProgressReport),
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn progress(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<ProgressParams>, QueryRejection>,
) -> ApiResult<Json<ProgressReport>> {
    let q = query(q)?;
    let pq = ProgressQuery {
        province: clean_owned(&q.province),
        district: clean_owned(&q.district),
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
async fn list_targets(State(app): State<AppState>, ApiUser(p, i): ApiUser) -> ApiResult<Json<Vec<TrainingTarget>>> {
    Ok(Json(app.store.training_targets(&p).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/training/targets", tag = "training", request_body = TargetInput,
    responses((status = 200, description = "Added, or replaced the target of the same group, level and year", body = TrainingTarget),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`group_code`, `group_en`, `level`, `year`, `target`, `roles`", body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn set_target(
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

// ---------------------------------------------------------------------------------------------
// Licensing
// ---------------------------------------------------------------------------------------------

/// Filters of the certificate register and its export.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CertificateParams {
    /// A certificate level code (`vocational_certificate`, `tvc1`, ...).
    pub level: Option<String>,
    pub programme_id: Option<i64>,
    /// Issued on or after this date (YYYY-MM-DD).
    pub from: Option<String>,
    /// Issued on or before this date (YYYY-MM-DD).
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
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/certificates", tag = "training", params(CertificateParams),
    responses((status = 200, description = "The certificate register: certificates of workers in the caller's scope, latest first (a page; or, with `format`, a CSV or XLSX file of every match)", body = Paged<CertificateRow>),
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn list_certificate_register(
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
        province: clean_owned(&q.province),
        district: clean_owned(&q.district),
        q: clean_owned(&q.q),
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

/// Filters of the licence list and export.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LicenceParams {
    /// Effective status: `applied`, `active`, `rejected`, `suspended`, `lapsed` (including active
    /// licences past their expiry) or `revoked`.
    pub status: Option<String>,
    /// Active licences expiring within this many days from today (0 or more), soonest first.
    pub expiring_within_days: Option<i64>,
    /// Text in the holder's name, or a licence number.
    pub q: Option<String>,
    pub province: Option<String>,
    pub district: Option<String>,
    pub page: Option<i64>,
    /// Items per page (default 50).
    pub per_page: Option<i64>,
    /// `csv` or `xlsx`: every matching licence as a file instead of a page.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/licences", tag = "licensing", params(LicenceParams),
    responses((status = 200, description = "Licences of workers in the caller's scope (a page; or, with `format`, a CSV or XLSX file of every match)", body = Paged<Licence>),
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn list_licences(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<LicenceParams>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    if let Some(n) = q.expiring_within_days {
        if !(0..=36_500).contains(&n) {
            return Err(bad_request("expiring_within_days must be a number of days from 0 to 36500"));
        }
    }
    let lq = LicenceQuery {
        status: code_param("status", &q.status, LicenceStatus::parse, &LicenceStatus::codes())?,
        expiring_within_days: q.expiring_within_days,
        q: clean_owned(&q.q),
        province: clean_owned(&q.province),
        district: clean_owned(&q.district),
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(50),
    };
    let today = today();
    match format_param(&q.format)? {
        None => {
            let page: Paged<Licence> = app.store.licences(&p, &lq, today).await.map_err(store(&i))?.into();
            Ok(Json(page).into_response())
        }
        Some(format) => {
            let rows = app.store.licence_export_rows(&p, &lq, today).await.map_err(store(&i))?;
            download(&i, "komlang-licences", format, LICENCE_EXPORT_COLUMNS, rows).await
        }
    }
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/licences", tag = "licensing", params(("id" = i64, Path)),
    responses((status = 200, description = "The worker's licences and applications, latest first", body = Vec<Licence>),
        (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn worker_licences(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Licence>>> {
    Ok(Json(app.store.worker_licences(&p, id, today()).await.map_err(store(&i))?))
}

/// A licence application.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyInput {
    /// Anything the applicant wants the licensing officer to know (at most 1,000 characters).
    #[serde(default)]
    pub note: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/workers/{id}/licences", tag = "licensing", params(("id" = i64, Path)),
    request_body = ApplyInput,
    responses((status = 201, description = "Applied (status `applied`)", body = Licence), (status = 400, body = ApiErrorBody),
        (status = 403, description = "Only the worker themself or an account that may change the worker's record applies", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "`worker_id`: `no_qualification` (no valid certificate and no degree in social work), `licence_open` (`licence_id`); `note` (`too_long`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn apply_licence(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<ApplyInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Licence>)> {
    let input = body(b)?;
    let l = app.store.apply_licence(&p, id, input.note.as_deref(), today()).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(l)))
}

#[utoipa::path(get, path = "/api/v1/licences/{id}", tag = "licensing", params(("id" = i64, Path)),
    responses((status = 200, description = "The licence, its history and the continuing-education hours of its term", body = LicenceDetail),
        (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn get_licence(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<LicenceDetail>> {
    Ok(Json(app.store.licence(&p, id, today()).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/licences/{id}/decision", tag = "licensing", params(("id" = i64, Path)),
    request_body = DecisionInput,
    responses((status = 200, body = Licence), (status = 400, body = ApiErrorBody),
        (status = 403, description = "Only national administrators decide", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "`action` (`invalid_choice`, `action_not_allowed` with `action` and `status`), `reason` (`reason_required`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn decide_licence(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<DecisionInput>, JsonRejection>,
) -> ApiResult<Json<Licence>> {
    let input = body(b)?;
    Ok(Json(app.store.decide_licence(&p, id, &input, today()).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/licences/{id}/renew", tag = "licensing", params(("id" = i64, Path)),
    responses((status = 200, description = "Renewed for another term (from the expiry, or from today once expired)", body = Licence),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`ce_hours`: `insufficient_ce_hours` with `have` and `need` hours; `action`: `action_not_allowed` for a licence that is not active", body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn renew_licence(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Licence>> {
    Ok(Json(app.store.renew_licence(&p, id, today()).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/licensing/rules", tag = "licensing",
    responses((status = 200, body = LicensingRules)), security(("bearer" = [])))]
async fn get_rules(State(app): State<AppState>, ApiUser(_caller, i): ApiUser) -> ApiResult<Json<LicensingRules>> {
    Ok(Json(app.store.licensing_rules().await.map_err(store(&i))?))
}

/// New licensing rules.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RulesInput {
    /// Years a licence or renewal is valid (1-10).
    pub term_years: i64,
    /// Continuing-education hours needed in a term to renew (0-1000).
    pub renewal_ce_hours: i64,
}

#[utoipa::path(put, path = "/api/v1/licensing/rules", tag = "licensing", request_body = RulesInput,
    responses((status = 200, body = LicensingRules), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`term_years`, `renewal_ce_hours` (`out_of_range`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn set_rules(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<RulesInput>, JsonRejection>,
) -> ApiResult<Json<LicensingRules>> {
    let input = body(b)?;
    let r = app.store.set_licensing_rules(&p, input.term_years, input.renewal_ce_hours).await.map_err(store(&i))?;
    Ok(Json(r))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RegisterParams {
    /// At least two characters of the holder's name (Khmer or Latin), or a licence number.
    pub q: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/public/licences", tag = "licensing", params(RegisterParams),
    responses((status = 200, description = "The public register: valid licences (active, not expired) matching `q`, at most 50, with the holder's name and the expiry only", body = Vec<PublicLicence>),
        (status = 400, description = "`q` missing or shorter than two characters", body = ApiErrorBody)))]
async fn public_register(
    State(app): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<RegisterParams>, QueryRejection>,
) -> ApiResult<Json<Vec<PublicLicence>>> {
    let i = anonymous_i18n(&headers);
    let q = query(q)?;
    let text = clean(&q.q).unwrap_or_default();
    if text.chars().count() < 2 {
        return Err(bad_request("give q= with at least two characters of a name, or a licence number"));
    }
    Ok(Json(app.store.public_register(text, today()).await.map_err(store(&i))?))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_institutions, create_institution, update_institution, list_programmes, create_programme, get_programme,
          update_programme, list_courses, create_course, get_course, update_course, list_events, create_event, export_events, get_event, update_event, list_participants,
          add_participants, pass_pending, record_attendance, remove_participant, transcript, add_recognition, list_certificates,
          issue_certificate, list_certificate_register, revoke_certificate, public_certificate, progress, list_targets, set_target,
          list_licences, worker_licences, apply_licence, get_licence, decide_licence, renew_licence, get_rules,
          set_rules, public_register),
    components(schemas(Institution, InstitutionInput, InstitutionKind, Programme, ProgrammeInput, ProgrammeDetail,
        CertificateLevel, Course, CourseInput, Hours, TrainingEvent, EventInput, Participant, ParticipantsInput, Added, Passed,
        AttendanceInput, TrainingResult, WorkerBrief, Transcript, TranscriptEntry, Recognition, RecognitionInput,
        RecognitionKind, Certificate, CertificateRow, IssueInput, ReasonInput, PublicCertificate, ProgrammeProgress, ProgressReport,
        GroupProgress, EligibleWorker, TrainingTarget, TargetInput, Licence, LicenceStatus, LicenceDetail,
        LicenceActionRow, ApplyInput, DecisionInput, LicensingRules, RulesInput, PublicLicence, ApiErrorBody,
        ApiFieldError)),
    tags((name = "training", description = "Training institutions, programmes and modules, events and their participants, transcripts with credits by the credit rule (1 credit = 15 h teaching, 30 h lab/workshop or 45 h field work), recognition of prior learning (RPL/RCC), certificates and their public verification, progress and targets."),
         (name = "licensing", description = "Licences of social service workers: application, decision, renewal on continuing-education hours, suspension, lapse and revocation; the licensing rules; the public register of valid licences."))
)]
pub struct TrainingApiDoc;
