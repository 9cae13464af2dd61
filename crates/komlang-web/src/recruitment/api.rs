//! Recruitment in the JSON API, with its part of the OpenAPI document ([`RecruitmentApiDoc`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::recruitment::{ExitRates, Need};
use komlang_core::NonBlank;
use komlang_store::recruitment::{NeedReport, NeedRow, RecruitmentSettings};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::common::errors::store;
use crate::common::export::{download, format_param};
use crate::common::extract::{area_level, body, level_below, level_param, query, year_param};
use crate::common::{today, ApiErrorBody, ApiResult, ApiUser, ExportFormat};
use crate::AppState;

/// The levels the need is shown by (the OpenAPI document's schema of `level`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum NeedLevel {
    Province,
    District,
    Commune,
}

/// Which need.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NeedParams {
    /// The year recruited for (default: this year).
    #[param(minimum = 1900, maximum = 2100)]
    pub year: Option<i32>,
    /// Default: the level below the caller's area (or below `parent`).
    #[param(value_type = Option<NeedLevel>, inline)]
    pub level: Option<String>,
    /// Only units within this admin unit (in the caller's scope).
    pub parent: Option<String>,
    /// A saved deployment plan (`GET /api/v1/planning/plans`): its new posts in the year, not yet
    /// approved as posts, are added to the need (`planned`).
    pub plan: Option<i64>,
    /// `csv` or `xlsx`: the units' rows (and the total) as a file.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

/// The need of the units the parameters name.
pub(super) async fn need_report(
    app: &AppState,
    p: &komlang_core::Principal,
    year: Option<i32>,
    level: &Option<String>,
    parent: &Option<String>,
    plan: Option<i64>,
) -> ApiResult<Result<NeedReport, komlang_store::StoreError>> {
    let parent = parent.non_blank().map(String::from);
    let area_level = area_level(app, p, parent.as_deref()).await;
    let level = level_param(level, level_below(area_level))?;
    let year = year_param(year)?;
    Ok(app.store.recruitment_need(p, level, parent.as_deref(), year, plan, today()).await)
}

#[utoipa::path(get, path = "/api/v1/recruitment/need", tag = "recruitment", params(NeedParams),
    responses((status = 200, description = "Per unit of the level in the caller's area: the vacant posts, the filled ones expected to fall vacant in the year (holders reaching the retirement age, and the exit rates for incapacity and death per cadre), and `to_recruit = vacant + planned + expected_exits`, `planned` the chosen plan's new posts (JSON, or with `format` the units' rows as a CSV or XLSX file)",
            content((NeedReport = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 404, description = "`parent` is not in the caller's scope, or `plan` is not a plan the caller sees", body = ApiErrorBody),
        (status = 422, description = "`level` (`level_above_parent`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn need(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<NeedParams>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let format = format_param(&q.format)?;
    let report = need_report(&app, &p, q.year, &q.level, &q.parent, q.plan).await?.map_err(store(&i))?;
    match format {
        None => Ok(Json(report).into_response()),
        Some(f) => download(&i, "komlang-recruitment-need", f, super::NEED_COLUMNS, super::need_cells(&report)).await,
    }
}

#[utoipa::path(get, path = "/api/v1/recruitment/settings", tag = "recruitment",
    responses((status = 200, body = RecruitmentSettings)), security(("bearer" = [])))]
pub(super) async fn settings(
    State(app): State<AppState>,
    ApiUser(_p, i): ApiUser,
) -> ApiResult<Json<RecruitmentSettings>> {
    Ok(Json(app.store.recruitment_settings().await.map_err(store(&i))?))
}

#[utoipa::path(put, path = "/api/v1/recruitment/settings", tag = "recruitment", request_body = RecruitmentSettings,
    responses((status = 200, body = RecruitmentSettings), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`retirement_age` (`retirement_age_range`: 40 to 80), `incapacity_per_1000`, `death_per_1000` (`rate_range`: 0 to 1000)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn set_settings(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<RecruitmentSettings>, JsonRejection>,
) -> ApiResult<Json<RecruitmentSettings>> {
    let s = body(b)?;
    app.store.set_recruitment_settings(&p, &s).await.map_err(store(&i))?;
    Ok(Json(app.store.recruitment_settings().await.map_err(store(&i))?))
}

#[derive(OpenApi)]
#[openapi(
    paths(need, settings, set_settings),
    components(schemas(NeedReport, NeedRow, Need, RecruitmentSettings, ExitRates)),
    tags((name = "recruitment", description = "How many people each unit must recruit in a year: the vacant posts plus the filled ones expected to fall vacant (retirement, incapacity, death)."))
)]
pub struct RecruitmentApiDoc;
