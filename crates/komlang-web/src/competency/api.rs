//! The competency framework, assessments, gaps and training needs in the JSON API, with their
//! part of the OpenAPI document ([`CompetencyApiDoc`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use komlang_core::competency::{
    training_needs, AggregateCell, Area, AssessmentInput, AssessmentKind, CompetencyScore, Gap, Indicator,
    IndicatorDifference, RatedIndicator, Rating, RatingDifference, RatingInput,
};
use komlang_core::*;
use komlang_store::{Assessment, CompetencyStanding, FrameworkVersion, GapQuery, GapReport, StoreError, WorkerGaps};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::export::{export_file, ExportTable};
use crate::common::errors::{bad_request, store};
use crate::common::extract::{body, query};
use crate::common::versions::{IfMatchHeader, VersionedWrite};
use crate::common::{today, ApiError, ApiErrorBody, ApiResult, ApiUser, ExportFormat, I18n};
use crate::common::{IfMatch, Tagged};
use crate::AppState;

/// A whole framework version: its areas, their competencies (with the knowledge sub-group in
/// `group`, empty elsewhere) and every indicator, in English and Khmer.
#[derive(Debug, Serialize, ToSchema)]
pub struct FrameworkDoc {
    pub version: String,
    pub areas: Vec<Area>,
}

#[utoipa::path(get, path = "/api/v1/competency-frameworks", tag = "competencies",
    responses((status = 200, description = "Every framework version, the current one first", body = Vec<FrameworkVersion>)),
    security(("bearer" = [])))]
pub(super) async fn list_frameworks(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
) -> ApiResult<Json<Vec<FrameworkVersion>>> {
    Ok(Json(app.store.framework_versions().await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/competency-frameworks/current", tag = "competencies",
    responses((status = 200, description = "The current framework, whole", body = FrameworkDoc)),
    security(("bearer" = [])))]
pub(super) async fn current_framework(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
) -> ApiResult<Json<FrameworkDoc>> {
    let fw = app.store.current_framework().await.map_err(store(&i))?;
    Ok(Json(FrameworkDoc { version: fw.version, areas: fw.areas }))
}

#[utoipa::path(get, path = "/api/v1/competency-frameworks/{version}", tag = "competencies",
    params(("version" = String, Path, description = "A version code, e.g. `mosvy-2019`")),
    responses((status = 200, body = FrameworkDoc), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn framework_version(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
    Path(version): Path<String>,
) -> ApiResult<Json<FrameworkDoc>> {
    match app.store.framework(&version).await.map_err(store(&i))? {
        Some(fw) => Ok(Json(FrameworkDoc { version: fw.version, areas: fw.areas })),
        None => Err(ApiError::from_store(&i, StoreError::NotFound)),
    }
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/assessments", tag = "competencies", params(("id" = i64, Path)),
    responses((status = 200, description = "The worker's assessments, oldest first", body = Vec<Assessment>),
        (status = 404, description = "No such worker, or not the caller's to see", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_assessments(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Assessment>>> {
    Ok(Json(app.store.list_assessments(&p, id).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/workers/{id}/assessments", tag = "competencies", params(("id" = i64, Path)),
    request_body = AssessmentInput,
    responses((status = 201, body = Assessment), (status = 400, body = ApiErrorBody),
        (status = 403, description = "The caller may record no assessment of this worker", body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "One entry per bad field: `rating.<indicator>` for a rating outside 1-4 or an indicator of another version, `assessed_on` for a future date, `kind` for a kind the caller may not record", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_assessment(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<AssessmentInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<Assessment>)> {
    let input = body(b)?;
    let a = app.store.create_assessment(&p, id, &input, today()).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Tagged(a)))
}

#[utoipa::path(get, path = "/api/v1/assessments/{id}", tag = "competencies", params(("id" = i64, Path)),
    responses((status = 200, body = Assessment, headers(("ETag" = String, description = "The record's version: send it as If-Match to change it"))), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn get_assessment(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Tagged<Assessment>> {
    match app.store.get_assessment(&p, id).await.map_err(store(&i))? {
        Some(a) => Ok(Tagged(a)),
        None => Err(ApiError::from_store(&i, StoreError::NotFound)),
    }
}

#[utoipa::path(put, path = "/api/v1/assessments/{id}", tag = "competencies", params(("id" = i64, Path), IfMatchHeader),
    request_body(content = AssessmentInput, description = "The whole assessment: its ratings replace the stored ones; the framework version stays"),
    responses(VersionedWrite, (status = 200, body = Assessment), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn update_assessment(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<AssessmentInput>, JsonRejection>,
) -> ApiResult<Tagged<Assessment>> {
    let input = body(b)?;
    Ok(Tagged(app.store.update_assessment(&p, id, &input, today(), expected).await.map_err(store(&i))?))
}

#[utoipa::path(delete, path = "/api/v1/assessments/{id}", tag = "competencies", params(("id" = i64, Path), IfMatchHeader),
    responses(VersionedWrite, (status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn delete_assessment(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
) -> ApiResult<StatusCode> {
    app.store.delete_assessment(&p, id, expected).await.map_err(store(&i))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionParams {
    /// Framework version (default: the current one).
    pub version: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/competency-gaps", tag = "competencies",
    params(("id" = i64, Path), VersionParams),
    responses((status = 200, body = WorkerGaps), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn worker_gaps(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    q: Result<Query<VersionParams>, QueryRejection>,
) -> ApiResult<Json<WorkerGaps>> {
    let q = query(q)?;
    let version = q.version.non_blank();
    Ok(Json(app.store.worker_gaps(&p, id, version).await.map_err(store(&i))?))
}

/// Filters of the aggregates and exports: the caller's scope (or team), narrowed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GapParams {
    /// Framework version (default: the current one; for the assessments export: every version).
    pub version: Option<String>,
    /// Province code, within the caller's scope.
    pub province: Option<String>,
    /// District code, within the caller's scope.
    pub district: Option<String>,
    #[param(value_type = Option<Cadre>)]
    pub cadre: Option<String>,
    #[param(value_type = Option<WorkerRole>)]
    pub role: Option<String>,
    #[param(value_type = Option<Sector>)]
    pub sector: Option<String>,
    #[param(value_type = Option<Sex>)]
    pub sex: Option<String>,
    #[param(value_type = Option<EmploymentStatus>)]
    pub status: Option<String>,
    pub org_id: Option<i64>,
    /// Count each worker's latest assessment of this kind.
    #[param(value_type = Option<AssessmentKind>)]
    pub kind: Option<String>,
    /// `true`: the workers the caller supervises instead of the workers in their scope.
    pub team: Option<bool>,
}

fn gap_query(i: &I18n, q: &GapParams) -> ApiResult<GapQuery> {
    let mut errs = ValidationErrors::default();
    fn opt<T>(field: &str, v: &Option<String>, parse: fn(&str) -> Option<T>, errs: &mut ValidationErrors) -> Option<T> {
        let v = v.non_blank()?;
        let r = parse(v);
        if r.is_none() {
            errs.push(FieldError::new(field, "invalid_choice").with("value", v));
        }
        r
    }
    let gq = GapQuery {
        version: q.version.non_blank().map(String::from),
        province: q.province.non_blank().map(String::from),
        district: q.district.non_blank().map(String::from),
        cadre: opt("cadre", &q.cadre, Cadre::parse, &mut errs),
        role: opt("role", &q.role, WorkerRole::parse, &mut errs),
        sector: opt("sector", &q.sector, Sector::parse, &mut errs),
        sex: opt("sex", &q.sex, Sex::parse, &mut errs),
        status: opt("status", &q.status, EmploymentStatus::parse, &mut errs),
        org_id: q.org_id,
        kind: opt("kind", &q.kind, AssessmentKind::parse, &mut errs),
        team: q.team.unwrap_or(false),
    };
    if !errs.is_empty() {
        return Err(ApiError::validation(i, errs).with_status(StatusCode::BAD_REQUEST));
    }
    Ok(gq)
}

#[utoipa::path(get, path = "/api/v1/competency/gaps", tag = "competencies", params(GapParams),
    responses((status = 200, description = "Per competency (framework order): workers assessed, with a required level, below it, and the share below", body = GapReport),
        (status = 400, body = ApiErrorBody), (status = 404, description = "No such framework version", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn gaps(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<GapParams>, QueryRejection>,
) -> ApiResult<Json<GapReport>> {
    let q = gap_query(&i, &query(q)?)?;
    Ok(Json(app.store.competency_gaps(&p, &q).await.map_err(store(&i))?))
}

/// A competency many workers lack.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingNeed {
    pub rank: usize,
    pub area_code: String,
    pub competency_code: String,
    /// Knowledge sub-group, empty elsewhere.
    pub group: String,
    pub name_en: String,
    pub name_km: String,
    pub assessed: u32,
    pub with_requirement: u32,
    pub below_required: u32,
    pub share_below: Option<f64>,
}

/// The training-needs list of a scope: competencies with workers below the required level,
/// most such workers first.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrainingNeeds {
    pub framework_version: String,
    pub workers_assessed: u32,
    pub items: Vec<TrainingNeed>,
}

#[utoipa::path(get, path = "/api/v1/competency/training-needs", tag = "competencies", params(GapParams),
    responses((status = 200, body = TrainingNeeds), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn needs(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<GapParams>, QueryRejection>,
) -> ApiResult<Json<TrainingNeeds>> {
    let q = gap_query(&i, &query(q)?)?;
    let fw = app.store.framework_or_current(q.version.as_deref()).await.map_err(store(&i))?;
    let fw = fw.ok_or_else(|| ApiError::from_store(&i, StoreError::NotFound))?;
    let report = app.store.competency_gaps(&p, &q).await.map_err(store(&i))?;
    let items = training_needs(&report.cells)
        .into_iter()
        .enumerate()
        .map(|(n, c)| {
            let comp = fw.competency(&c.competency_code);
            TrainingNeed {
                rank: n + 1,
                area_code: c.area_code.clone(),
                competency_code: c.competency_code.clone(),
                group: comp.map(|x| x.group.clone()).unwrap_or_default(),
                name_en: comp.map(|x| x.name_en.clone()).unwrap_or_default(),
                name_km: comp.map(|x| x.name_km.clone()).unwrap_or_default(),
                assessed: c.assessed,
                with_requirement: c.with_requirement,
                below_required: c.below_required,
                share_below: c.share_below,
            }
        })
        .collect();
    Ok(Json(TrainingNeeds {
        framework_version: report.framework_version,
        workers_assessed: report.workers_assessed,
        items,
    }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `assessments` (every rating of every assessment), `gaps` or `training-needs`.
    #[param(value_type = ExportTable, required = true, inline)]
    pub table: Option<String>,
    /// `csv` (default) or `xlsx`.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/competency/export", tag = "competencies", params(ExportParams, GapParams),
    responses((status = 200, description = "CSV (UTF-8 with BOM) or XLSX file of the caller's scope or team",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 404, description = "No such framework version", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn export(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    e: Result<Query<ExportParams>, QueryRejection>,
    q: Result<Query<GapParams>, QueryRejection>,
) -> ApiResult<Response> {
    let e = query(e)?;
    let q = gap_query(&i, &query(q)?)?;
    let table = match e.table.non_blank() {
        None => return Err(bad_request("give table=assessments, gaps or training-needs")),
        Some(t) => ExportTable::parse(t)
            .ok_or_else(|| bad_request(format!("unknown table `{t}`: use assessments, gaps or training-needs")))?,
    };
    let format = match e.format.non_blank() {
        None => ExportFormat::Csv,
        Some(f) => {
            ExportFormat::parse(f).ok_or_else(|| bad_request(format!("unknown format `{f}`: use csv or xlsx")))?
        }
    };
    export_file(&app, &p, table, format, &q).await.map_err(store(&i))
}

#[derive(OpenApi)]
#[openapi(
    paths(list_frameworks, current_framework, framework_version, list_assessments, create_assessment, get_assessment,
          update_assessment, delete_assessment, worker_gaps, gaps, needs, export),
    components(schemas(FrameworkDoc, FrameworkVersion, Area, competency::Competency, Indicator,
        AssessmentInput, RatingInput, Assessment, RatedIndicator, CompetencyScore, Rating, AssessmentKind, WorkerGaps,
        CompetencyStanding, Gap, RatingDifference, IndicatorDifference, GapReport, AggregateCell, TrainingNeeds,
        TrainingNeed, ApiErrorBody)),
    tags((name = "competencies", description = "The national competency framework (MoSVY), assessments of workers against it, gaps and training needs. An assessment is visible to the assessed worker, their supervisor and accounts whose scope includes the worker; to anyone else it answers 404."))
)]
pub struct CompetencyApiDoc;
