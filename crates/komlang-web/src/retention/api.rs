//! Retention in the JSON API, with its part of the OpenAPI document ([`RetentionApiDoc`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Datelike;
use komlang_core::NonBlank;
use komlang_store::retention::{CcwcTerm, Cohort, ExitReason, Grouping, Turnover, TurnoverRow};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::common::errors::{bad_request, store};
use crate::common::export::{download, format_param};
use crate::common::extract::{body, date_param, query};
use crate::common::{today, ApiErrorBody, ApiResult, ApiUser, ExportFormat};
use crate::AppState;

/// Which turnover.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TurnoverParams {
    /// Default: this year.
    #[param(minimum = 1900, maximum = 2100)]
    pub year: Option<i32>,
    /// sector (default), cadre or province.
    #[param(value_type = Option<Grouping>)]
    pub by: Option<String>,
    /// `csv` or `xlsx`: the groups' rows as a file.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/retention/turnover", tag = "retention", params(TurnoverParams),
    responses((status = 200, description = "Headcounts at the year's start and end, leavers, the turnover rate and leavers' average tenure by group, in the caller's reach; leavers by reason (JSON, or with `format` the groups' rows as a CSV or XLSX file)",
            content((Turnover = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn turnover(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<TurnoverParams>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let year = q.year.unwrap_or_else(|| today().year());
    if !(1900..=2100).contains(&year) {
        return Err(bad_request("year must be from 1900 to 2100"));
    }
    let by = match q.by.non_blank() {
        None => Grouping::Sector,
        Some(s) => Grouping::parse(s).ok_or_else(|| bad_request("by must be sector, cadre or province"))?,
    };
    let format = format_param(&q.format)?;
    let t = app.store.turnover(&p, year, by, today()).await.map_err(store(&i))?;
    let Some(f) = format else { return Ok(Json(t).into_response()) };
    download(&i, "komlang-turnover", f, super::TURNOVER_COLUMNS, super::turnover_cells(&t)).await
}

#[utoipa::path(get, path = "/api/v1/retention/survival", tag = "retention",
    responses((status = 200, description = "Each of the last ten years' starters in the caller's reach, and the share still in post after 1, 2, 3 and 5 years", body = Vec<Cohort>)),
    security(("bearer" = [])))]
pub(super) async fn survival(State(app): State<AppState>, ApiUser(p, i): ApiUser) -> ApiResult<Json<Vec<Cohort>>> {
    Ok(Json(app.store.survival(&p, today()).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/retention/ccwc-term", tag = "retention",
    responses((status = 200, body = CcwcTerm)), security(("bearer" = [])))]
pub(super) async fn ccwc_term(State(app): State<AppState>, ApiUser(p, i): ApiUser) -> ApiResult<Json<CcwcTerm>> {
    Ok(Json(app.store.ccwc_term(&p).await.map_err(store(&i))?))
}

/// The end of the CCWC members' term.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TermInput {
    /// `YYYY-MM-DD`; absent or null: not known.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub term_end: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/retention/ccwc-term", tag = "retention", request_body = TermInput,
    responses((status = 200, body = CcwcTerm), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn set_ccwc_term(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<TermInput>, JsonRejection>,
) -> ApiResult<Json<CcwcTerm>> {
    let input = body(b)?;
    let end = date_param("term_end", &input.term_end)?;
    app.store.set_ccwc_term_end(&p, end).await.map_err(store(&i))?;
    Ok(Json(app.store.ccwc_term(&p).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/retention/reasons", tag = "retention",
    responses((status = 200, body = Vec<ExitReason>)), security(("bearer" = [])))]
pub(super) async fn reasons(State(app): State<AppState>, ApiUser(_p, i): ApiUser) -> ApiResult<Json<Vec<ExitReason>>> {
    Ok(Json(app.store.exit_reasons().await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/retention/reasons", tag = "retention", request_body = ExitReason,
    responses((status = 201, body = ExitReason), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`code` (`code_format`, `duplicate_code`), `name_en` (`required`, `too_long`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn add_reason(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<ExitReason>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<ExitReason>)> {
    let r = body(b)?;
    Ok((StatusCode::CREATED, Json(app.store.add_exit_reason(&p, &r).await.map_err(store(&i))?)))
}

/// Why a worker left.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    /// A reason's code (`GET /api/v1/retention/reasons`).
    pub reason: String,
}

#[utoipa::path(put, path = "/api/v1/workers/{id}/exit-reason", tag = "retention", params(("id" = i64, Path)),
    request_body = ReasonInput,
    responses((status = 204, description = "Given for the worker's latest separation"), (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`reason` (`invalid_choice`; `not_separated`: the worker has not left)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn give_reason(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<ReasonInput>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let r = body(b)?;
    app.store.set_exit_reason(&p, id, &r.reason).await.map_err(store(&i))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(OpenApi)]
#[openapi(
    paths(turnover, survival, ccwc_term, set_ccwc_term, reasons, add_reason, give_reason),
    components(schemas(Turnover, TurnoverRow, Grouping, Cohort, CcwcTerm, TermInput, ExitReason, ReasonInput)),
    tags((name = "retention", description = "Why workers leave, turnover and tenure by sector, cadre or province, how many of each year's starters stay, and the CCWC members' elected term."))
)]
pub struct RetentionApiDoc;
