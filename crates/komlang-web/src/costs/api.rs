//! Costs in the JSON API, with their part of the OpenAPI document ([`CostsApiDoc`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::costs::{Allowance, CadreCosting, ScaleRow, TrainingCost};
use komlang_core::{AdminLevel, NonBlank};
use komlang_store::costs::{
    CostData, CostGroup, CurrencyRate, PlanCost, PlanCostYear, RankInput, WorkerRank, WorkforceCost,
};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi};

use super::{workforce_cells, WORKFORCE_COLUMNS};
use crate::common::errors::{bad_request, not_found, store};
use crate::common::export::{download, format_param};
use crate::common::extract::{body, query};
use crate::common::{today, ApiErrorBody, ApiResult, ApiUser, ExportFormat};
use crate::AppState;

/// The currency asked (default `USD`): three capital letters.
pub(super) fn currency_of(v: Option<&str>) -> ApiResult<String> {
    let c = v.unwrap_or("USD").trim();
    if c.len() == 3 && c.chars().all(|x| x.is_ascii_uppercase()) {
        Ok(c.to_string())
    } else {
        Err(bad_request("currency must be a three-letter code such as USD or KHR"))
    }
}

#[utoipa::path(get, path = "/api/v1/costs", tag = "costs",
    responses((status = 200, description = "The data costs are computed from", body = CostData)), security(("bearer" = [])))]
pub(super) async fn get_data(State(app): State<AppState>, ApiUser(p, i): ApiUser) -> ApiResult<Json<CostData>> {
    Ok(Json(app.store.cost_data(&p).await.map_err(store(&i))?))
}

#[utoipa::path(put, path = "/api/v1/costs", tag = "costs", request_body = CostData,
    responses((status = 200, description = "Replaced (audited with what it replaced)", body = CostData),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`<list>[n].<field>`: `unknown_currency`, `must_be_positive`, `duplicate_row`, `required`", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn put_data(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<CostData>, JsonRejection>,
) -> ApiResult<Json<CostData>> {
    let d = body(b)?;
    Ok(Json(app.store.set_cost_data(&p, &d).await.map_err(store(&i))?))
}

/// The levels the workforce's cost is shown by (the OpenAPI document's schema of `level`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum CostLevel {
    Province,
    District,
    Commune,
}

/// Which costs.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkforceParams {
    /// Default: province.
    #[param(value_type = Option<CostLevel>, inline)]
    pub level: Option<String>,
    /// Default `USD`.
    #[param(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// `csv` or `xlsx`: the units' rows as a file.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/costs/workforce", tag = "costs", params(WorkforceParams),
    responses((status = 200, description = "The yearly cost of the workers in the caller's reach by unit, sector and funding source (JSON, or with `format` the units' rows as a CSV or XLSX file)",
            content((WorkforceCost = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 422, description = "`currency` (`unknown_currency`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn workforce(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<WorkforceParams>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let level = match q.level.non_blank() {
        None => AdminLevel::Province,
        Some(s) => AdminLevel::parse(s)
            .filter(|l| matches!(l, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune))
            .ok_or_else(|| bad_request("unknown level: use province, district or commune"))?,
    };
    let currency = currency_of(q.currency.non_blank())?;
    let format = format_param(&q.format)?;
    let w = app.store.workforce_cost(&p, level, &currency, today()).await.map_err(store(&i))?;
    let Some(f) = format else { return Ok(Json(w).into_response()) };
    download(&i, "komlang-workforce-cost", f, WORKFORCE_COLUMNS, workforce_cells(&w)).await
}

/// In which currency.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CurrencyParams {
    /// Default `USD`.
    #[param(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/planning/plans/{id}/cost", tag = "costs", params(("id" = i64, Path), CurrencyParams),
    responses((status = 200, description = "The plan's cost year by year: salaries and allowances of every post placed so far, and the training of the year's new ones", body = PlanCost),
        (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`currency` (`unknown_currency`); the data lacks a scale (`scales`: `no_salary_scale`), a rate (`rates`: `no_rate`) a cadre's costing (`cadres`: `no_cadre_costing`) or a training cost (`training`: `no_training_cost`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn plan_cost(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    q: Result<Query<CurrencyParams>, QueryRejection>,
) -> ApiResult<Json<PlanCost>> {
    let q = query(q)?;
    let currency = currency_of(q.currency.non_blank())?;
    Ok(Json(app.store.plan_cost(&p, id, &currency).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/ranks", tag = "costs", params(("id" = i64, Path)),
    responses((status = 200, description = "The worker's rank history, latest first", body = Vec<WorkerRank>), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn ranks(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<WorkerRank>>> {
    match app.store.worker_ranks(&p, id).await.map_err(store(&i))? {
        Some(r) => Ok(Json(r)),
        None => Err(not_found(&i)),
    }
}

#[utoipa::path(post, path = "/api/v1/workers/{id}/ranks", tag = "costs", params(("id" = i64, Path)), request_body = RankInput,
    responses((status = 201, description = "Recorded; the history", body = Vec<WorkerRank>), (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`grade` (`required`, `too_long`), `step` (`out_of_range`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn add_rank(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<RankInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Vec<WorkerRank>>)> {
    let input = body(b)?;
    Ok((StatusCode::CREATED, Json(app.store.add_worker_rank(&p, id, &input).await.map_err(store(&i))?)))
}

#[derive(OpenApi)]
#[openapi(
    paths(get_data, put_data, workforce, plan_cost, ranks, add_rank),
    components(schemas(CostData, CurrencyRate, ScaleRow, Allowance, CadreCosting, TrainingCost, WorkforceCost, CostGroup, PlanCost,
        PlanCostYear, WorkerRank, RankInput)),
    tags((name = "costs", description = "Costs of the workforce and of deployment plans, from salary scales, allowances, currencies and rates kept as data."))
)]
pub struct CostsApiDoc;
