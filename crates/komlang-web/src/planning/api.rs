//! Workforce planning in the JSON API: coverage, norms, plans, the supply projection and the
//! data planning uses, with their part of the OpenAPI document ([`PlanningApiDoc`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::planning::{
    Coverage, CoverageTotals, Norm, NormRule, PlannedPosts, Reason, SupplyYear, Weights, WorkerFilter, INVESTMENT_CASE,
};
use komlang_core::NonBlank;
use komlang_core::{AdminLevel, FieldError, Principal};
use komlang_store::planning::{
    BlockedUnitYear, CaseloadRow, CoverageReport, FactsQuery, IndicatorRow, NewNorm, NormRecord, PlanOutcome,
    PlanRequest, PlanSummary, SavedPlan, UnitName, VacancyRow,
};
use komlang_store::StoreError;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::data::{save_data, DataRows};
use super::shared::{default_level, error_text, plan_level, this_year};
use super::supply::{supply_report, NormSupply, SupplyForm, SupplyReport};
use super::tables::{coverage_cells, sort_coverage, table_file, COVERAGE_COLUMNS, PLAN_COLUMNS};
use crate::common::{ApiError, ApiErrorBody, ApiFieldError, ApiUser, I18n};
use crate::AppState;

/// An error answer (boxed: a response is large).
pub struct Failure(Box<Response>);

impl From<Response> for Failure {
    fn from(r: Response) -> Self {
        Failure(Box::new(r))
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        *self.0
    }
}

type ApiResult<T> = Result<T, Failure>;

/// A store error as an API answer; validation messages in the caller's language.
pub(super) fn fail(i: &I18n, e: StoreError) -> Failure {
    match e {
        StoreError::Invalid(v) => validation(i, &v.errors, StatusCode::UNPROCESSABLE_ENTITY),
        other => ApiError::from_store(i, other).into_response().into(),
    }
}

fn validation(i: &I18n, errs: &[FieldError], status: StatusCode) -> Failure {
    let fields = errs
        .iter()
        .map(|e| ApiFieldError {
            field: e.field.clone(),
            code: e.code.clone(),
            message: error_text(i, e),
            params: e.params.clone(),
        })
        .collect();
    let message =
        if status == StatusCode::BAD_REQUEST { "bad query parameters" } else { "invalid input; nothing was saved" };
    (status, Json(ApiErrorBody { error: "validation".into(), message: message.into(), fields })).into_response().into()
}

fn bad_request(message: impl Into<String>) -> Failure {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message).into_response().into()
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(v)| v).map_err(|e| bad_request(e.body_text()))
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    b.map(|Json(v)| v).map_err(|e| bad_request(e.body_text()))
}

/// A planning answer's format (the OpenAPI document's schema of `format`): `json` (the
/// default), `csv` or `xlsx`.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum PlanningFormat {
    Json,
    Csv,
    Xlsx,
}

/// The levels coverage is shown by (the OpenAPI document's schema of `level`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum CoverageLevel {
    Province,
    District,
    Commune,
}

/// Which coverage to show.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CoverageParams {
    /// Default: the level below the caller's area.
    #[param(value_type = Option<CoverageLevel>, inline)]
    pub level: Option<String>,
    /// A norm's name (default `investment-case-2023`).
    pub norm: Option<String>,
    /// Only units within this admin unit (it must be in the caller's scope; default: the caller's scope).
    pub parent: Option<String>,
    /// Population of the latest year up to this one; caseloads and vacancies up to its end (default: this year).
    pub year: Option<i32>,
    /// Column to sort by: `code` (default), `name`, `in_post`, `required`, `gap`, `vacancies`,
    /// `government_workers`, `population`, `children`, `per_10k`, `per_100k`.
    pub sort: Option<String>,
    /// `asc` (default) or `desc`.
    pub dir: Option<String>,
    #[param(value_type = Option<PlanningFormat>, inline)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/planning/coverage", tag = "planning", params(CoverageParams),
    responses(
        (status = 200, description = "Every unit of the level in the area: workers in post, the norm, the gap, vacancies and ratios (JSON, or with `format` a CSV or XLSX file)",
            content((CoverageReport = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, description = "The parent is not an admin unit in the caller's scope", body = ApiErrorBody),
        (status = 422, description = "Unknown norm, or a level above the parent", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn coverage(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<CoverageParams>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let parent = q.parent.clone().filter(|s| !s.trim().is_empty());
    let level = match q.level.non_blank() {
        Some(l) => plan_level(l).ok_or_else(|| {
            validation(&i, &[FieldError::new("level", "invalid_choice").with("value", l)], StatusCode::BAD_REQUEST)
        })?,
        None => {
            let (_, area) = app.store.planning_area(&p, parent.as_deref()).await.map_err(|e| fail(&i, e))?;
            default_level(area.as_ref())
        }
    };
    let format = q.format.non_blank().unwrap_or("json");
    if !matches!(format, "json" | "csv" | "xlsx") {
        return Err(bad_request(format!("unknown format `{format}`: use json, csv or xlsx")));
    }
    let norm = q.norm.clone().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| INVESTMENT_CASE.into());
    let fq = FactsQuery { level, parent, year: q.year.unwrap_or_else(this_year) };
    let mut r = app.store.coverage_report(&p, &norm, &fq).await.map_err(|e| fail(&i, e))?;
    if let Some(sort) = q.sort.as_deref() {
        sort_coverage(&mut r.units, sort, q.dir.as_deref() == Some("desc"), i.locale);
    }
    if format == "json" {
        return Ok(Json(r).into_response());
    }
    let name = format!("komlang-coverage-{}-{}-{}", r.norm, r.level.code(), r.year);
    table_file(format, &name, COVERAGE_COLUMNS, r.units.iter().map(coverage_cells))
        .map_err(|e| Failure::from(ApiError::internal(e).into_response()))
}

#[utoipa::path(get, path = "/api/v1/planning/norms", tag = "planning",
    responses((status = 200, description = "Every norm, the built-in investment case first", body = Vec<NormRecord>),
        (status = 403, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_norms(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
) -> ApiResult<Json<Vec<NormRecord>>> {
    Ok(Json(app.store.planning_norms(&p).await.map_err(|e| fail(&i, e))?))
}

#[utoipa::path(post, path = "/api/v1/planning/norms", tag = "planning", request_body = NewNorm,
    responses((status = 201, body = NormRecord), (status = 400, body = ApiErrorBody),
        (status = 403, description = "Only national administrators add norms", body = ApiErrorBody),
        (status = 422, description = "Bad name, a name taken, no rule, two rules for a level, a bad ratio", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn add_norm(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<NewNorm>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<NormRecord>)> {
    let input = body(b)?;
    let rec = app.store.add_planning_norm(&p, &input).await.map_err(|e| fail(&i, e))?;
    Ok((StatusCode::CREATED, Json(rec)))
}

#[utoipa::path(get, path = "/api/v1/planning/plans", tag = "planning",
    responses((status = 200, description = "Saved plans whose area lies in the caller's scope, newest first", body = Vec<PlanSummary>),
        (status = 403, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_plans(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
) -> ApiResult<Json<Vec<PlanSummary>>> {
    Ok(Json(app.store.saved_plans(&p).await.map_err(|e| fail(&i, e))?))
}

#[utoipa::path(post, path = "/api/v1/planning/plans", tag = "planning", request_body = PlanRequest,
    responses((status = 201, description = "The plan, generated and saved as a named scenario (audited)", body = SavedPlan),
        (status = 400, body = ApiErrorBody),
        (status = 403, description = "National viewers and other roles do not make plans", body = ApiErrorBody),
        (status = 404, description = "The parent is not an admin unit in the caller's scope", body = ApiErrorBody),
        (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_plan(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<PlanRequest>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<SavedPlan>)> {
    let req = body(b)?;
    let saved = app.store.create_plan(&p, &req).await.map_err(|e| fail(&i, e))?;
    Ok((StatusCode::CREATED, Json(saved)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanFormat {
    /// `csv` and `xlsx`: posts by unit and year with their reasons.
    #[param(value_type = Option<PlanningFormat>, inline)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/planning/plans/{id}", tag = "planning", params(("id" = i64, Path), PlanFormat),
    responses((status = 200, description = "The plan (JSON, or with `format` a CSV or XLSX file)",
            content((SavedPlan = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 403, body = ApiErrorBody),
        (status = 404, description = "No such plan in the caller's scope", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn get_plan(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    q: Result<Query<PlanFormat>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let Some(plan) = app.store.saved_plan(&p, id).await.map_err(|e| fail(&i, e))? else {
        return Err(fail(&i, StoreError::NotFound));
    };
    match q.format.non_blank().unwrap_or("json") {
        "json" => Ok(Json(plan).into_response()),
        f @ ("csv" | "xlsx") => {
            let rows = plan.result.posts.iter().map(|x| {
                let n = plan.result.units.get(&x.admin_code);
                vec![
                    x.admin_code.clone(),
                    x.level.code().to_string(),
                    n.map(|n| n.name_en.clone()).unwrap_or_default(),
                    n.map(|n| n.name_km.clone()).unwrap_or_default(),
                    x.year.to_string(),
                    x.count.to_string(),
                    x.why.rank.to_string(),
                    x.why.gap.to_string(),
                    x.why.required.to_string(),
                    x.reason.clone(),
                ]
            });
            table_file(f, &format!("komlang-plan-{id}"), PLAN_COLUMNS, rows)
                .map_err(|e| Failure::from(ApiError::internal(e).into_response()))
        }
        other => Err(bad_request(format!("unknown format `{other}`: use json, csv or xlsx"))),
    }
}

#[utoipa::path(get, path = "/api/v1/planning/supply", tag = "planning", params(SupplyForm),
    responses((status = 200, description = "The workforce projected year by year for each norm, and the year it is met", body = SupplyReport),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn supply(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<SupplyForm>, QueryRejection>,
) -> ApiResult<Json<SupplyReport>> {
    let q = query(q)?;
    Ok(Json(supply_report(&app, &p, &i, &q).await.map_err(|e| fail(&i, e))?))
}

/// How many rows were saved.
#[derive(Debug, Serialize, ToSchema)]
pub struct Saved {
    pub saved: usize,
}

async fn save(app: &AppState, p: &Principal, i: &I18n, rows: DataRows) -> ApiResult<Json<Saved>> {
    let n = save_data(app, p, &rows).await.map_err(|e| fail(i, e))?;
    Ok(Json(Saved { saved: n }))
}

#[utoipa::path(post, path = "/api/v1/planning/indicators", tag = "planning", request_body = Vec<IndicatorRow>,
    responses((status = 200, description = "Saved, replacing values of the same unit, name and year (all or nothing)", body = Saved),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn save_indicators(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<Vec<IndicatorRow>>, JsonRejection>,
) -> ApiResult<Json<Saved>> {
    save(&app, &p, &i, DataRows::Indicators(body(b)?)).await
}

#[utoipa::path(post, path = "/api/v1/planning/caseloads", tag = "planning", request_body = Vec<CaseloadRow>,
    responses((status = 200, description = "Saved, replacing figures of the same unit and day (all or nothing)", body = Saved),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn save_caseloads(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<Vec<CaseloadRow>>, JsonRejection>,
) -> ApiResult<Json<Saved>> {
    save(&app, &p, &i, DataRows::Caseloads(body(b)?)).await
}

#[utoipa::path(post, path = "/api/v1/planning/vacancies", tag = "planning", request_body = Vec<VacancyRow>,
    responses((status = 200, description = "Saved, replacing figures of the same unit and day (all or nothing)", body = Saved),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn save_vacancies(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<Vec<VacancyRow>>, JsonRejection>,
) -> ApiResult<Json<Saved>> {
    save(&app, &p, &i, DataRows::Vacancies(body(b)?)).await
}

#[derive(OpenApi)]
#[openapi(
    paths(coverage, list_norms, add_norm, list_plans, create_plan, get_plan, supply, save_indicators, save_caseloads,
          save_vacancies),
    components(schemas(CoverageReport, Coverage, CoverageTotals, NormRecord, NewNorm, Norm, NormRule, WorkerFilter,
        PlanRequest, Weights, BlockedUnitYear, SavedPlan, PlanOutcome, PlannedPosts, Reason, UnitName, PlanSummary,
        SupplyReport, NormSupply, SupplyYear, IndicatorRow, CaseloadRow, VacancyRow, Saved, AdminLevel)),
    tags((name = "planning", description = "Staffing norms, coverage and gaps, deployment plans, supply projection"))
)]
pub struct PlanningApiDoc;
