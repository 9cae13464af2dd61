//! Licences in the JSON API: the list, a worker's licences, applying, deciding and renewing,
//! and the licensing rules, with their part of the OpenAPI document ([`LicensingApiDoc`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::training::{DecisionInput, LicenceStatus, LicensingRules};
use komlang_core::NonBlank;
use komlang_store::{Licence, LicenceActionRow, LicenceDetail, LicenceQuery, LICENCE_EXPORT_COLUMNS};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::common::errors::{bad_request, store};
use crate::common::export::download;
use crate::common::export::format_param;
use crate::common::extract::{body, code_param, query};
use crate::common::versions::{IfMatchHeader, VersionedWrite};
use crate::common::{today, ApiErrorBody, ApiResult, ApiUser, ExportFormat, Paged};
use crate::common::{IfMatch, Tagged};
use crate::AppState;

/// Filters of the licence list and export.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LicenceParams {
    /// Effective status (`lapsed` includes active licences past their expiry).
    #[param(value_type = Option<LicenceStatus>)]
    pub status: Option<String>,
    /// Active licences expiring within this many days from today, soonest first.
    #[param(minimum = 0, maximum = 36500)]
    pub expiring_within_days: Option<i64>,
    /// Text in the holder's name, or a licence number.
    pub q: Option<String>,
    pub province: Option<String>,
    pub district: Option<String>,
    pub page: Option<i64>,
    /// Items per page (default 50).
    pub per_page: Option<i64>,
    /// `csv` or `xlsx`: every matching licence as a file instead of a page.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/licences", tag = "licensing", params(LicenceParams),
    responses((status = 200, description = "Licences of workers in the caller's scope (a page; or, with `format`, a CSV or XLSX file of every match)",
            content((Paged<Licence> = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_licences(
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
        q: q.q.non_blank().map(String::from),
        province: q.province.non_blank().map(String::from),
        district: q.district.non_blank().map(String::from),
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
pub(super) async fn worker_licences(
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
pub(super) async fn apply_licence(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<ApplyInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<Licence>)> {
    let input = body(b)?;
    let l = app.store.apply_licence(&p, id, input.note.as_deref(), today()).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Tagged(l)))
}

#[utoipa::path(get, path = "/api/v1/licences/{id}", tag = "licensing", params(("id" = i64, Path)),
    responses((status = 200, description = "The licence, its history and the continuing-education hours of its term", body = LicenceDetail,
            headers(("ETag" = String, description = "The licence's version: send it as If-Match to decide on or renew it"))),
        (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn get_licence(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Tagged<LicenceDetail>> {
    Ok(Tagged(app.store.licence(&p, id, today()).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/licences/{id}/decision", tag = "licensing", params(("id" = i64, Path), IfMatchHeader),
    request_body = DecisionInput,
    responses(VersionedWrite, (status = 200, body = Licence), (status = 400, body = ApiErrorBody),
        (status = 403, description = "Only national administrators decide", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "`action` (`invalid_choice`, `action_not_allowed` with `action` and `status`), `reason` (`reason_required`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn decide_licence(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<DecisionInput>, JsonRejection>,
) -> ApiResult<Tagged<Licence>> {
    let input = body(b)?;
    Ok(Tagged(app.store.decide_licence(&p, id, &input, today(), expected).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/licences/{id}/renew", tag = "licensing", params(("id" = i64, Path), IfMatchHeader),
    responses(VersionedWrite, (status = 200, description = "Renewed for another term (from the expiry, or from today once expired)", body = Licence),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`ce_hours`: `insufficient_ce_hours` with `have` and `need` hours; `action`: `action_not_allowed` for a licence that is not active", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn renew_licence(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
) -> ApiResult<Tagged<Licence>> {
    Ok(Tagged(app.store.renew_licence(&p, id, today(), expected).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/licensing/rules", tag = "licensing",
    responses((status = 200, body = LicensingRules)), security(("bearer" = [])))]
pub(super) async fn get_rules(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
) -> ApiResult<Json<LicensingRules>> {
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
pub(super) async fn set_rules(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<RulesInput>, JsonRejection>,
) -> ApiResult<Json<LicensingRules>> {
    let input = body(b)?;
    let r = app.store.set_licensing_rules(&p, input.term_years, input.renewal_ce_hours).await.map_err(store(&i))?;
    Ok(Json(r))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_licences, worker_licences, apply_licence, get_licence, decide_licence, renew_licence, get_rules, set_rules),
    components(schemas(Licence, LicenceStatus, LicenceDetail, LicenceActionRow, ApplyInput, DecisionInput, LicensingRules,
        RulesInput)),
    tags((name = "licensing", description = "Licences of social service workers: application, decision, renewal on continuing-education hours, suspension, lapse and revocation; the licensing rules; the public register of valid licences."))
)]
pub struct LicensingApiDoc;
