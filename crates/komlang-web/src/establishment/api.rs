//! The establishment in the JSON API, with its part of the OpenAPI document
//! ([`EstablishmentApiDoc`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use komlang_core::establishment::{FundingSource, PostCounts};
use komlang_core::{Cadre, NonBlank, WorkerRole};
use komlang_store::establishment::{
    EstablishmentQuery, EstablishmentRecord, EstablishmentReport, EstablishmentRow, NewPosts, PlanApproval, Post,
    PostHolder, PostKind, PostQuery, PostState, RecordInput, YearCounts,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{establishment_cells, ESTABLISHMENT_COLUMNS};
use crate::common::errors::store;
use crate::common::export::{download, format_param};
use crate::common::extract::{area_level, body, code_param, date_param, level_below, level_param, query, year_param};
use crate::common::versions::{IfMatchHeader, VersionedWrite};
use crate::common::{today, ApiErrorBody, ApiResult, ApiUser, ExportFormat, IfMatch, Paged, Tagged};
use crate::AppState;

/// The levels the establishment is shown by (the OpenAPI document's schema of `level`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum EstablishmentLevel {
    Province,
    District,
    Commune,
}

/// Which establishment to count.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EstablishmentParams {
    /// Default: the level below the caller's area (or below `parent`).
    #[param(value_type = Option<EstablishmentLevel>, inline)]
    pub level: Option<String>,
    /// Counted for this year (default: this year): posts approved in it, filled on its last
    /// day (this year: today).
    #[param(minimum = 1900, maximum = 2100)]
    pub year: Option<i32>,
    /// Only units within this admin unit (in the caller's scope).
    pub parent: Option<String>,
    #[param(value_type = Option<Cadre>)]
    pub cadre: Option<String>,
    #[param(value_type = Option<FundingSource>)]
    pub funding: Option<String>,
    /// `csv` or `xlsx`: the units' rows as a file.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

/// The query of the establishment from the parameters (the parent's level read from the store).
pub(super) async fn establishment_query(
    app: &AppState,
    p: &komlang_core::Principal,
    level: &Option<String>,
    year: Option<i32>,
    parent: &Option<String>,
    cadre: &Option<String>,
    funding: &Option<String>,
) -> ApiResult<EstablishmentQuery> {
    let parent = parent.non_blank().map(String::from);
    let area_level = area_level(app, p, parent.as_deref()).await;
    Ok(EstablishmentQuery {
        level: level_param(level, level_below(area_level))?,
        parent,
        year: year_param(year)?,
        cadre: code_param("cadre", cadre, Cadre::parse, &Cadre::codes())?,
        funding: code_param("funding", funding, FundingSource::parse, &FundingSource::codes())?,
    })
}

#[utoipa::path(get, path = "/api/v1/establishment", tag = "establishment", params(EstablishmentParams),
    responses(
        (status = 200, description = "Approved, filled and vacant posts of every unit of the level in the caller's area, with totals by cadre and funding source (JSON, or with `format` a CSV or XLSX file of the units)",
            content((EstablishmentReport = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, description = "The parent is not an admin unit in the caller's scope", body = ApiErrorBody),
        (status = 422, description = "`level` above the parent's", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn establishment(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<EstablishmentParams>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let eq = establishment_query(&app, &p, &q.level, q.year, &q.parent, &q.cadre, &q.funding).await?;
    let format = format_param(&q.format)?;
    let report = app.store.establishment(&p, &eq, today()).await.map_err(store(&i))?;
    match format {
        None => Ok(Json(report).into_response()),
        Some(f) => download(&i, "komlang-establishment", f, ESTABLISHMENT_COLUMNS, establishment_cells(&report)).await,
    }
}

/// Which years to compare.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearsParams {
    /// The unit (default: the caller's area).
    pub unit: Option<String>,
    /// First year (default: ten years before `to`).
    #[param(minimum = 1900, maximum = 2100)]
    pub from: Option<i32>,
    /// Last year (default: this year).
    #[param(minimum = 1900, maximum = 2100)]
    pub to: Option<i32>,
}

#[utoipa::path(get, path = "/api/v1/establishment/years", tag = "establishment", params(YearsParams),
    responses((status = 200, description = "The unit's posts counted for each year from `from` to `to`, beside the totals recorded for it (none when `from` is after `to`)", body = Vec<YearCounts>),
        (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn years(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<YearsParams>, QueryRejection>,
) -> ApiResult<Json<Vec<YearCounts>>> {
    let q = query(q)?;
    let to = year_param(q.to)?;
    let from = year_param(Some(q.from.unwrap_or((to - 10).max(1900))))?;
    // From after to: no years (1900 to 2100 at most: two hundred years).
    let years = app.store.establishment_years(&p, q.unit.non_blank(), from, to, today()).await.map_err(store(&i))?;
    Ok(Json(years))
}

/// Whose recorded totals.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecordsParams {
    /// One unit's (default: every unit in the caller's scope).
    pub unit: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/establishment/records", tag = "establishment", params(RecordsParams),
    responses((status = 200, description = "Totals recorded from other sources, by unit and year", body = Vec<EstablishmentRecord>),
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn records(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<RecordsParams>, QueryRejection>,
) -> ApiResult<Json<Vec<EstablishmentRecord>>> {
    let q = query(q)?;
    Ok(Json(app.store.establishment_records(&p, q.unit.non_blank()).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/establishment/records", tag = "establishment", request_body = RecordInput,
    responses((status = 200, description = "Recorded (replacing the unit's total of that year)", body = EstablishmentRecord),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`admin_code` (`unknown_admin_unit`), `year` (`invalid_year`), `filled` (`filled_over_approved`), `source` (`required`, `too_long`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn record_total(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<RecordInput>, JsonRejection>,
) -> ApiResult<Json<EstablishmentRecord>> {
    let input = body(b)?;
    Ok(Json(app.store.record_establishment(&p, &input).await.map_err(store(&i))?))
}

/// Which posts to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PostParams {
    /// Posts within this admin unit (default: the caller's area).
    pub unit: Option<String>,
    /// Posts approved in this year (default: this year).
    #[param(minimum = 1900, maximum = 2100)]
    pub year: Option<i32>,
    #[param(value_type = Option<PostState>)]
    pub state: Option<String>,
    #[param(value_type = Option<Cadre>)]
    pub cadre: Option<String>,
    #[param(value_type = Option<FundingSource>)]
    pub funding: Option<String>,
    pub page: Option<i64>,
    /// Items per page (default 50, at most 500).
    pub per_page: Option<i64>,
}

fn state_parse(s: &str) -> Option<PostState> {
    match s {
        "filled" => Some(PostState::Filled),
        "vacant" => Some(PostState::Vacant),
        _ => None,
    }
}

/// The post query from the parameters.
pub(super) fn post_query(q: &PostParams) -> ApiResult<PostQuery> {
    Ok(PostQuery {
        unit: q.unit.non_blank().map(String::from),
        year: year_param(q.year)?,
        state: code_param("state", &q.state, state_parse, &["filled", "vacant"])?,
        cadre: code_param("cadre", &q.cadre, Cadre::parse, &Cadre::codes())?,
        funding: code_param("funding", &q.funding, FundingSource::parse, &FundingSource::codes())?,
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(50),
    })
}

#[utoipa::path(get, path = "/api/v1/establishment/posts", tag = "establishment", params(PostParams),
    responses((status = 200, description = "Posts approved in the year in the area, by unit, with who fills them", body = Paged<Post>),
        (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_posts(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<PostParams>, QueryRejection>,
) -> ApiResult<Json<Paged<Post>>> {
    let q = post_query(&query(q)?)?;
    Ok(Json(app.store.posts(&p, &q).await.map_err(store(&i))?.into()))
}

/// The posts approved.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedPosts {
    pub ids: Vec<i64>,
}

#[utoipa::path(post, path = "/api/v1/establishment/posts", tag = "establishment", request_body = NewPosts,
    responses((status = 201, description = "The posts approved, each audited", body = CreatedPosts),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`admin_code` (`unknown_admin_unit`), `org_id` (`unknown_organization`), `approved_year` (`invalid_year`), `count` (`count_range`), `note` (`too_long`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_posts(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<NewPosts>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<CreatedPosts>)> {
    let n = body(b)?;
    let ids = app.store.create_posts(&p, &n).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(CreatedPosts { ids })))
}

#[utoipa::path(get, path = "/api/v1/establishment/posts/{id}", tag = "establishment", params(("id" = i64, Path)),
    responses((status = 200, description = "The post and who fills it", body = Post,
            headers(("ETag" = String, description = "The post's version: send it as If-Match to change it"))),
        (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn get_post(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Tagged<Post>> {
    match app.store.post(&p, id).await.map_err(store(&i))? {
        Some(post) => Ok(Tagged(post)),
        None => Err(crate::common::errors::not_found(&i)),
    }
}

/// A worker to fill a post with.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FillInput {
    pub worker_id: i64,
    /// From this day (default: today; `YYYY-MM-DD`).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub on: Option<String>,
}

/// When a post falls vacant.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VacateInput {
    /// From this day (default: today; `YYYY-MM-DD`).
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub on: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/establishment/posts/{id}/fill", tag = "establishment", params(("id" = i64, Path), IfMatchHeader),
    request_body = FillInput,
    responses(VersionedWrite, (status = 200, body = Post), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "`post` (`post_filled`, `post_ended`), `worker_id` (`unknown_worker`, `no_current_posting`, `worker_holds_post`, `not_posted_there`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn fill_post(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<FillInput>, JsonRejection>,
) -> ApiResult<Tagged<Post>> {
    let input = body(b)?;
    let on = date_param("on", &input.on)?.unwrap_or_else(today);
    Ok(Tagged(app.store.fill_post(&p, id, input.worker_id, on, expected).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/establishment/posts/{id}/vacate", tag = "establishment", params(("id" = i64, Path), IfMatchHeader),
    request_body = VacateInput,
    responses(VersionedWrite, (status = 200, description = "Vacant (its holder stays posted at the unit, filling no post)", body = Post),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn vacate_post(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<VacateInput>, JsonRejection>,
) -> ApiResult<Tagged<Post>> {
    let input = body(b)?;
    let on = date_param("on", &input.on)?.unwrap_or_else(today);
    Ok(Tagged(app.store.vacate_post(&p, id, on, expected).await.map_err(store(&i))?))
}

/// The year a post ends from.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndInput {
    /// Not approved from the start of this year on.
    pub year: i32,
}

#[utoipa::path(post, path = "/api/v1/establishment/posts/{id}/end", tag = "establishment", params(("id" = i64, Path), IfMatchHeader),
    request_body = EndInput,
    responses(VersionedWrite, (status = 200, body = Post), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, body = ApiErrorBody),
        (status = 422, description = "`ended_year` (`invalid_year`, `end_before_approval`), `post` (`post_filled`: leave it vacant first)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn end_post(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<EndInput>, JsonRejection>,
) -> ApiResult<Tagged<Post>> {
    let input = body(b)?;
    Ok(Tagged(app.store.end_post(&p, id, input.year, today(), expected).await.map_err(store(&i))?))
}

#[utoipa::path(post, path = "/api/v1/planning/plans/{id}/approve", tag = "establishment", params(("id" = i64, Path)),
    request_body = PlanApproval,
    responses((status = 201, description = "Every post the plan places approved into the establishment, in its unit and year", body = CreatedPosts),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`plan` (`plan_approved`: once per plan)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn approve_plan(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<PlanApproval>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<CreatedPosts>)> {
    let a = body(b)?;
    let ids = app.store.approve_plan_posts(&p, id, &a).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, Json(CreatedPosts { ids })))
}

#[derive(OpenApi)]
#[openapi(
    paths(establishment, years, records, record_total, list_posts, create_posts, get_post, fill_post, vacate_post,
        end_post, approve_plan),
    components(schemas(EstablishmentReport, EstablishmentRow, PostCounts, EstablishmentRecord, RecordInput, YearCounts,
        Post, PostHolder, PostState, NewPosts, CreatedPosts, FillInput, VacateInput, EndInput, PlanApproval, PostKind,
        FundingSource, Cadre, WorkerRole)),
    tags((name = "establishment", description = "Approved posts, who fills them and the vacancies that follow, by unit, cadre and funding source, for any year; a deployment plan's posts approved in one action; totals of past years recorded from other sources."))
)]
pub struct EstablishmentApiDoc;
