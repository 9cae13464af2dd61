//! Performance management in the JSON API, with its part of the OpenAPI document
//! ([`PerformanceApiDoc`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use komlang_core::performance::{
    ActionKind, AppraisalForm, AppraisalSettings, AppraisalStatus, DueState, JobDescriptionInput, KeyFunction,
    OverallResult,
};
use komlang_core::NonBlank;
use komlang_store::performance::{
    ActionInput, AgreedAction, Appraisal, AppraisalBrief, AppraisalUpdate, CourseRef, FunctionRating, JobDescription,
    JobFunction, PerformanceList, PerformanceListRow, PerformanceReport, PerformanceRow, RatedFunction, SelfAppraisal,
    StartAppraisal, TrainingSuggestion, WorkerAppraisals,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::common::errors::{store, ApiError};
use crate::common::export::{download, format_param};
use crate::common::extract::{area_level, body, level_below, level_param, query};
use crate::common::versions::{IfMatchHeader, VersionedWrite};
use crate::common::{today, ApiErrorBody, ApiResult, ApiUser, ExportFormat, IfMatch, Tagged};
use crate::AppState;

/// A worker's appraisals (`items`, latest first) and when the next is due.
#[utoipa::path(get, path = "/api/v1/workers/{id}/appraisals", tag = "performance", params(("id" = i64, Path)),
    responses((status = 200, body = WorkerAppraisals),
        (status = 404, description = "No such worker, or outside the caller's scope (and not one they supervise)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn worker_appraisals(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<WorkerAppraisals>> {
    Ok(Json(app.store.worker_appraisals(&p, id, today()).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/workers/{id}/appraisals", tag = "performance", params(("id" = i64, Path)),
    request_body = StartAppraisal,
    responses((status = 201, body = Appraisal, headers(("ETag" = String, description = "The appraisal's version"))),
        (status = 400, body = ApiErrorBody),
        (status = 403, description = "The caller does not appraise this worker (a worker: only as their supervisor, never themself)", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "`cycle` (`invalid_cycle`, `duplicate_cycle`), `period_end` (`before_start`), `period_start` (`date_in_future`), `role` (`no_job_description`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn start(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<StartAppraisal>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<Appraisal>)> {
    let input = body(b)?;
    let a = app.store.start_appraisal(&p, id, &input, today()).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Tagged(a)))
}

#[utoipa::path(get, path = "/api/v1/appraisals/{id}", tag = "performance", params(("id" = i64, Path)),
    responses((status = 200, body = Appraisal, headers(("ETag" = String, description = "The appraisal's version: send it as If-Match to change it"))),
        (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn get(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Tagged<Appraisal>> {
    Ok(Tagged(app.store.appraisal(&p, id).await.map_err(store(&i))?))
}

#[utoipa::path(put, path = "/api/v1/appraisals/{id}", tag = "performance", params(("id" = i64, Path), IfMatchHeader),
    request_body(content = AppraisalUpdate, description = "The supervisor's part: the ratings given replace those of the functions they name; `complete` closes the appraisal (every function rated, `overall` given)"),
    responses(VersionedWrite, (status = 200, body = Appraisal), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "`ratings[N].function` (`unknown_function`, `duplicate_function`), `ratings[N].rating` (`out_of_range`), `ratings` (`function_not_rated`), `overall` (`required`), `status` (`appraisal_completed`), `too_long`", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn update(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<AppraisalUpdate>, JsonRejection>,
) -> ApiResult<Tagged<Appraisal>> {
    let input = body(b)?;
    Ok(Tagged(app.store.update_appraisal(&p, id, &input, expected, today()).await.map_err(store(&i))?))
}

#[utoipa::path(put, path = "/api/v1/appraisals/{id}/self", tag = "performance", params(("id" = i64, Path), IfMatchHeader),
    request_body(content = SelfAppraisal, description = "The worker's own ratings and comment (the worker's account, while the appraisal is open)"),
    responses(VersionedWrite, (status = 200, body = Appraisal), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn self_appraise(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<SelfAppraisal>, JsonRejection>,
) -> ApiResult<Tagged<Appraisal>> {
    let input = body(b)?;
    Ok(Tagged(app.store.self_appraise(&p, id, &input, expected).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/appraisals/{id}/actions", tag = "performance", params(("id" = i64, Path)),
    request_body = ActionInput,
    responses((status = 201, body = Appraisal), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "`description` (`required`, `too_long`), `follow_up_on` (`required` of a corrective action, `date_in_past`), `competency_code` (`unknown_competency`), `course_id` (`unknown_course`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn add_action(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<ActionInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<Appraisal>)> {
    let input = body(b)?;
    let a = app.store.add_appraisal_action(&p, id, &input, today()).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Tagged(a)))
}

/// When an action was done.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionDone {
    /// Default: today.
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub done_on: Option<NaiveDate>,
}

#[utoipa::path(post, path = "/api/v1/appraisal-actions/{id}/done", tag = "performance", params(("id" = i64, Path)),
    request_body = ActionDone,
    responses((status = 200, body = Appraisal), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, description = "`done_on` (`date_in_future`, `already_done`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn action_done(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<ActionDone>, JsonRejection>,
) -> ApiResult<Tagged<Appraisal>> {
    let input = body(b)?;
    let on = input.done_on.unwrap_or_else(today);
    Ok(Tagged(app.store.close_appraisal_action(&p, id, on, today()).await.map_err(store(&i))?))
}

/// The levels the figures are shown by.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum PerformanceLevel {
    Province,
    District,
    Commune,
}

/// Which figures.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// Default: the level below the caller's area (or below `parent`).
    #[param(value_type = Option<PerformanceLevel>, inline)]
    pub level: Option<String>,
    /// Only units within this admin unit (in the caller's scope).
    pub parent: Option<String>,
    /// `csv` or `xlsx`: the units' rows (and the total) as a file.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

pub(super) async fn summary_report(
    app: &AppState,
    p: &komlang_core::Principal,
    level: &Option<String>,
    parent: &Option<String>,
) -> ApiResult<Result<PerformanceReport, komlang_store::StoreError>> {
    let parent = parent.non_blank().map(String::from);
    let area = area_level(app, p, parent.as_deref()).await;
    let level = level_param(level, level_below(area))?;
    Ok(app.store.performance_summary(p, level, parent.as_deref(), today()).await)
}

#[utoipa::path(get, path = "/api/v1/appraisals/summary", tag = "performance", params(SummaryParams),
    responses((status = 200, description = "Per unit of the level in the caller's area: active workers, those due an appraisal within the settings' days, overdue, never dated, completed within the cycle, with open corrective actions (and those past their follow-up date), and the overdue share (JSON, or with `format` the units' rows as a CSV or XLSX file)",
            content((PerformanceReport = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 403, description = "Not an account whose scope holds workers (a worker's account)", body = ApiErrorBody),
        (status = 404, description = "`parent` is not in the caller's scope", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn summary(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<SummaryParams>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let format = format_param(&q.format)?;
    let report = summary_report(&app, &p, &q.level, &q.parent).await?.map_err(store(&i))?;
    match format {
        None => Ok(Json(report).into_response()),
        Some(f) => download(&i, "komlang-appraisals", f, super::SUMMARY_COLUMNS, super::summary_cells(&report)).await,
    }
}

/// Whose list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only workers within this admin unit (in the caller's scope).
    pub unit: Option<String>,
}

/// Workers of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListAnswer {
    pub kind: PerformanceList,
    /// At most 1,000, the longest waiting (or the earliest follow-up) first.
    pub items: Vec<PerformanceListRow>,
}

#[utoipa::path(get, path = "/api/v1/appraisals/lists/{kind}", tag = "performance",
    params(("kind" = PerformanceList, Path), ListParams),
    responses((status = 200, body = ListAnswer), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, description = "Unknown list, or `unit` not in the caller's scope", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(kind): Path<String>,
    q: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Json<ListAnswer>> {
    let q = query(q)?;
    let Some(kind) = PerformanceList::parse(&kind) else {
        return Err(ApiError::from_store(&i, komlang_store::StoreError::NotFound));
    };
    let items = app.store.performance_list(&p, kind, q.unit.non_blank(), today()).await.map_err(store(&i))?;
    Ok(Json(ListAnswer { kind, items }))
}

#[utoipa::path(get, path = "/api/v1/appraisals/settings", tag = "performance",
    responses((status = 200, body = AppraisalSettings)), security(("bearer" = [])))]
pub(super) async fn settings(
    State(app): State<AppState>,
    ApiUser(_p, i): ApiUser,
) -> ApiResult<Json<AppraisalSettings>> {
    Ok(Json(app.store.appraisal_settings().await.map_err(store(&i))?))
}

#[utoipa::path(put, path = "/api/v1/appraisals/settings", tag = "performance", request_body = AppraisalSettings,
    responses((status = 200, body = AppraisalSettings), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`cycle_months` (1 to 36), `due_within_days` (0 to 180): `out_of_range`", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn set_settings(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<AppraisalSettings>, JsonRejection>,
) -> ApiResult<Json<AppraisalSettings>> {
    let s = body(b)?;
    Ok(Json(app.store.set_appraisal_settings(&p, &s).await.map_err(store(&i))?))
}

/// Which descriptions.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobParams {
    /// Only each role's current version.
    pub current: Option<bool>,
}

/// Job descriptions.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobDescriptions {
    pub items: Vec<JobDescription>,
}

#[utoipa::path(get, path = "/api/v1/job-descriptions", tag = "performance", params(JobParams),
    responses((status = 200, body = JobDescriptions), (status = 400, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn job_descriptions(
    State(app): State<AppState>,
    ApiUser(_p, i): ApiUser,
    q: Result<Query<JobParams>, QueryRejection>,
) -> ApiResult<Json<JobDescriptions>> {
    let q = query(q)?;
    let items = app.store.job_descriptions(q.current.unwrap_or(false)).await.map_err(store(&i))?;
    Ok(Json(JobDescriptions { items }))
}

/// Descriptions to load: each becomes its role's new current version.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobDescriptionLoad {
    pub descriptions: Vec<JobDescriptionInput>,
}

#[utoipa::path(post, path = "/api/v1/job-descriptions", tag = "performance", request_body = JobDescriptionLoad,
    responses((status = 201, body = JobDescriptions), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "One entry per bad field (`descriptions[N].functions[M].code`: `invalid_code`, `duplicate_code`; `required`; `too_long`; `too_many`); nothing is loaded", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn load_job_descriptions(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<JobDescriptionLoad>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<JobDescriptions>)> {
    let input = body(b)?;
    let items = app.store.load_job_descriptions(&p, &input.descriptions).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(JobDescriptions { items })))
}

#[derive(OpenApi)]
#[openapi(
    paths(worker_appraisals, start, get, update, self_appraise, add_action, action_done, summary, list, settings,
        set_settings, job_descriptions, load_job_descriptions),
    components(schemas(WorkerAppraisals, AppraisalBrief, Appraisal, RatedFunction, AgreedAction, CourseRef,
        TrainingSuggestion, StartAppraisal, AppraisalUpdate, FunctionRating, SelfAppraisal, ActionInput, ActionDone,
        PerformanceReport, PerformanceRow, PerformanceList, PerformanceListRow, ListAnswer, AppraisalSettings,
        JobDescriptions, JobDescription, JobFunction, JobDescriptionLoad, JobDescriptionInput, KeyFunction,
        AppraisalForm, AppraisalStatus, OverallResult, ActionKind, DueState, komlang_store::caseloads::Productivity)),
    tags((name = "performance", description = "Job descriptions as versioned data; appraisals against them (ratings of each key function, self-appraisal, overall result, agreed training, rewards and corrective actions); who is due, overdue or has open corrective actions."))
)]
pub struct PerformanceApiDoc;
