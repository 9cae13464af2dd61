//! Supervision in the JSON API, with its part of the OpenAPI document ([`SupervisionApiDoc`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::supervision::{Ineligible, SupervisionFunction, SupervisionModel, SupervisionNorms};
use komlang_core::{AdminLevel, NonBlank};
use komlang_store::supervision::{
    Assignment, ListKind, ListRow, Session, SessionInput, SummaryQuery, SummaryRow, WorkerSupervision,
};
use komlang_store::WorkerBrief;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::common::errors::{bad_request, not_found, store};
use crate::common::export::{download, format_param};
use crate::common::extract::{body, date_param, query};
use crate::common::{today, ApiErrorBody, ApiResult, ApiUser, ExportFormat};
use crate::AppState;

/// The levels supervision is counted by.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum SupervisionLevel {
    Province,
    District,
    Commune,
}

/// Which units.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryParams {
    /// Default: province.
    #[param(value_type = Option<SupervisionLevel>, inline)]
    pub level: Option<String>,
    /// Only units within this admin unit (in the caller's scope).
    pub parent: Option<String>,
    /// `csv` or `xlsx`: the units' rows as a file.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

/// The units' rows.
#[derive(Debug, Serialize, ToSchema)]
pub struct SummaryAnswer {
    pub items: Vec<SummaryRow>,
}

pub(super) fn level_of(v: Option<&str>) -> Option<AdminLevel> {
    match v {
        None => Some(AdminLevel::Province),
        Some(s) => AdminLevel::parse(s)
            .filter(|l| matches!(l, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune)),
    }
}

#[utoipa::path(get, path = "/api/v1/supervision/summary", tag = "supervision", params(SummaryParams),
    responses((status = 200, description = "Every unit of the level in the caller's reach: supervisors, supervisees, workers without a supervisor, supervisors over the ratio or not eligible, supervisees overdue (JSON, or with `format` a CSV or XLSX file)",
            content((SummaryAnswer = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 404, description = "The parent is not in the caller's scope", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn summary(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<SummaryParams>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let level =
        level_of(q.level.non_blank()).ok_or_else(|| bad_request("unknown level: use province, district or commune"))?;
    let format = format_param(&q.format)?;
    let sq = SummaryQuery { level, parent: q.parent.non_blank().map(String::from) };
    let items = app.store.supervision_summary(&p, &sq, today()).await.map_err(store(&i))?;
    let Some(f) = format else { return Ok(Json(SummaryAnswer { items }).into_response()) };
    download(&i, "komlang-supervision", f, super::SUMMARY_COLUMNS, super::summary_cells(&items)).await
}

/// Within which unit.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Only workers within this admin unit (in the caller's scope).
    pub unit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/supervision/lists/{kind}", tag = "supervision",
    params(("kind" = ListKind, Path), ListParams),
    responses((status = 200, description = "The workers of the list in the caller's reach, by name (at most 1,000)", body = Vec<ListRow>),
        (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(kind): Path<String>,
    q: Result<Query<ListParams>, QueryRejection>,
) -> ApiResult<Json<Vec<ListRow>>> {
    let q = query(q)?;
    let kind = ListKind::parse(&kind)
        .ok_or_else(|| bad_request("unknown list: use without_supervisor, overdue, over_ratio or not_eligible"))?;
    Ok(Json(app.store.supervision_list(&p, kind, q.unit.non_blank(), today()).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/supervision/norms", tag = "supervision",
    responses((status = 200, body = SupervisionNorms)), security(("bearer" = [])))]
pub(super) async fn norms(State(app): State<AppState>, ApiUser(_p, i): ApiUser) -> ApiResult<Json<SupervisionNorms>> {
    Ok(Json(app.store.supervision_norms().await.map_err(store(&i))?))
}

#[utoipa::path(put, path = "/api/v1/supervision/norms", tag = "supervision", request_body = SupervisionNorms,
    responses((status = 200, body = SupervisionNorms), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`out_of_range` with `min` and `max`; `qualified_cadres` (`required`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn set_norms(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<SupervisionNorms>, JsonRejection>,
) -> ApiResult<Json<SupervisionNorms>> {
    let n = body(b)?;
    Ok(Json(app.store.set_supervision_norms(&p, &n).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/supervision", tag = "supervision", params(("id" = i64, Path)),
    responses((status = 200, description = "The worker's supervisor now and before, whom they supervise, the ratio and eligibility, their sessions", body = WorkerSupervision),
        (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn worker_supervision(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<WorkerSupervision>> {
    match app.store.worker_supervision(&p, id, today()).await.map_err(store(&i))? {
        Some(s) => Ok(Json(s)),
        None => Err(not_found(&i)),
    }
}

/// A worker's supervisor from a day.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    pub supervisor_id: i64,
    /// The supervisor supervises as their main work (the dedicated ratio applies).
    #[serde(default)]
    pub dedicated: bool,
    /// From this day (default: today; `YYYY-MM-DD`).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub on: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/workers/{id}/supervision", tag = "supervision", params(("id" = i64, Path)),
    request_body = AssignInput,
    responses((status = 200, description = "The worker's supervision from that day (the one before ends that day)", body = Assignment),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`supervisor_id` (`supervises_self`, `unknown_worker`, `supervisor_left`), `on` (`before_current_supervision`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn assign(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<AssignInput>, JsonRejection>,
) -> ApiResult<Json<Assignment>> {
    let input = body(b)?;
    let on = date_param("on", &input.on)?.unwrap_or_else(today);
    Ok(Json(app.store.assign_supervisor(&p, id, input.supervisor_id, input.dedicated, on).await.map_err(store(&i))?))
}

/// When a supervision ends.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EndParams {
    /// The day (default: today; `YYYY-MM-DD`).
    #[param(value_type = Option<String>, format = Date)]
    pub on: Option<String>,
}

#[utoipa::path(delete, path = "/api/v1/workers/{id}/supervision", tag = "supervision", params(("id" = i64, Path), EndParams),
    responses((status = 204, description = "The worker's supervision ended"), (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`supervisor_id` (`no_supervisor`), `on` (`before_current_supervision`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn end(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    q: Result<Query<EndParams>, QueryRejection>,
) -> ApiResult<StatusCode> {
    let q = query(q)?;
    let on = date_param("on", &q.on)?.unwrap_or_else(today);
    app.store.end_supervision(&p, id, on).await.map_err(store(&i))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/supervision/sessions", tag = "supervision", request_body = SessionInput,
    responses((status = 201, description = "Recorded", body = Session), (status = 400, body = ApiErrorBody),
        (status = 403, description = "A worker records only sessions they held", body = ApiErrorBody),
        (status = 404, description = "The supervisor is not in the caller's reach", body = ApiErrorBody),
        (status = 422, description = "`held_on` (`date_in_future`), `functions` (`required`), `supervisee_ids` (`required`, `too_many`, `individual_one_supervisee`, `supervises_self`, `unknown_worker`), `notes` (`too_long`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn record_session(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<SessionInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Session>)> {
    let input = body(b)?;
    let s = app.store.record_session(&p, &input, today()).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(s)))
}

#[derive(OpenApi)]
#[openapi(
    paths(summary, list, norms, set_norms, worker_supervision, assign, end, record_session),
    components(schemas(SummaryAnswer, SummaryRow, ListKind, ListRow, SupervisionNorms, WorkerSupervision, Assignment,
        AssignInput, Session, SessionInput, SupervisionModel, SupervisionFunction, Ineligible, WorkerBrief)),
    tags((name = "supervision", description = "Supervision (seed 004): who supervises whom, sessions, the norms of supervision, and who has no supervisor, is overdue, or supervises over the ratio or without the experience and qualification required."))
)]
pub struct SupervisionApiDoc;
