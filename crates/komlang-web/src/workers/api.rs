//! Workers in the API: the list with its filters, a record, its postings and statuses,
//! adding, changing, deleting and exporting.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use komlang_core::validate::WorkerInput;
use komlang_core::*;
use komlang_store::{StoreError, WorkerChange, WorkerQuery, WorkerRow};
use serde::Deserialize;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::export::export_response;
use crate::common::extract::{body, parse_opt, query};
use crate::common::schema::{nullable, patch_of};
use crate::common::versions::{IfMatchHeader, VersionedWrite};
use crate::common::{today, ApiError, ApiErrorBody, ApiResult, ApiUser, ExportFormat, I18n, IfMatch, Paged, Tagged};
use crate::AppState;

/// Filters of the worker list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkerParams {
    /// Text in the Khmer or Latin name, a national ID or a phone number.
    pub q: Option<String>,
    /// Province code, e.g. `12`.
    pub province: Option<String>,
    pub district: Option<String>,
    pub commune: Option<String>,
    #[param(value_type = Option<Cadre>)]
    pub cadre: Option<String>,
    #[param(value_type = Option<Sector>)]
    pub sector: Option<String>,
    #[param(value_type = Option<EmploymentStatus>)]
    pub status: Option<String>,
    #[param(value_type = Option<WorkerRole>)]
    pub role: Option<String>,
    pub org_id: Option<i64>,
    /// 1-based page number.
    pub page: Option<i64>,
    /// Items per page (default 50, at most 500).
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/workers", tag = "workers", params(WorkerParams),
    responses((status = 200, body = Paged<WorkerRow>), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_workers(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<WorkerParams>, QueryRejection>,
) -> ApiResult<Json<Paged<WorkerRow>>> {
    let q = query(q)?;
    let wq = worker_query(&i, &q)?;
    let page = app.store.list_workers(&p, &wq).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok(Json(page.into()))
}

/// The store query of the worker list filters (400 for an unknown code).
fn worker_query(i: &I18n, q: &WorkerParams) -> ApiResult<WorkerQuery> {
    let mut errs = ValidationErrors::default();
    let wq = WorkerQuery {
        q: q.q.clone(),
        province: q.province.clone(),
        district: q.district.clone(),
        commune: q.commune.clone(),
        cadre: parse_opt("cadre", &q.cadre, Cadre::parse, &mut errs),
        sector: parse_opt("sector", &q.sector, Sector::parse, &mut errs),
        status: parse_opt("status", &q.status, EmploymentStatus::parse, &mut errs),
        role: parse_opt("role", &q.role, WorkerRole::parse, &mut errs),
        org_id: q.org_id,
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(50),
    };
    if !errs.is_empty() {
        return Err(ApiError::validation(i, errs).with_status(StatusCode::BAD_REQUEST));
    }
    Ok(wq)
}

#[utoipa::path(get, path = "/api/v1/workers/{id}", tag = "workers", params(("id" = i64, Path)),
    responses((status = 200, body = Worker, headers(("ETag" = String, description = "The record's version: send it as If-Match to change it"))),
        (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn get_worker(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Tagged<Worker>> {
    match app.store.get_worker(&p, id).await.map_err(|e| ApiError::from_store(&i, e))? {
        Some(w) => Ok(Tagged(w)),
        None => Err(ApiError::from_store(&i, StoreError::NotFound)),
    }
}

#[utoipa::path(post, path = "/api/v1/workers", tag = "workers", request_body = WorkerInput,
    responses((status = 201, body = Worker), (status = 400, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn create_worker(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<WorkerInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Tagged<Worker>)> {
    let input = body(b)?;
    let w = app.store.create_worker(&p, &input, today()).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok((StatusCode::CREATED, Tagged(w)))
}

/// The body of `PATCH /api/v1/workers/{id}`, which `update_worker` reads field by field: the
/// fields of [`WorkerInput`] to change, with when the change takes effect and why.
pub struct WorkerPatch;

impl utoipa::PartialSchema for WorkerPatch {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        let text =
            |description: &str| ObjectBuilder::new().schema_type(Type::String).description(Some(description)).into();
        let date = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .description(Some("When a transfer or status change takes effect (default today)"))
            .into();
        patch_of(
            <WorkerInput as utoipa::PartialSchema>::schema(),
            "Fields to change: absent (or null) fields are kept, an empty string clears an optional field, \
             `org_id: 0` removes the employer; `effective_date` and `note` describe the change.",
            vec![("effective_date", nullable(date)), ("note", nullable(text("Why (kept in the history)")))],
        )
    }
}

impl ToSchema for WorkerPatch {}

#[utoipa::path(patch, path = "/api/v1/workers/{id}", tag = "workers", params(("id" = i64, Path), IfMatchHeader), request_body = WorkerPatch,
    responses((status = 200, body = Worker), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody), VersionedWrite),
    security(("bearer" = [])))]
pub(super) async fn update_worker(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
    b: Result<Json<serde_json::Map<String, serde_json::Value>>, JsonRejection>,
) -> ApiResult<Tagged<Worker>> {
    let mut map = body(b)?;
    let text = |v: Option<serde_json::Value>| -> ApiResult<Option<String>> {
        match v {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(serde_json::Value::String(s)) => Ok(Some(s)),
            Some(_) => {
                Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", "effective_date and note must be strings"))
            }
        }
    };
    let effective = text(map.remove("effective_date"))?;
    let note = text(map.remove("note"))?;
    let fields: WorkerInput = serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string()))?;
    let effective_date = match effective.non_blank() {
        None => None,
        Some(s) => Some(chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
            ApiError::validation(
                &i,
                ValidationErrors::single(FieldError::new("effective_date", "invalid_date").with("value", s)),
            )
        })?),
    };
    let w = app
        .store
        .update_worker(&p, id, &fields, &WorkerChange { effective_date, note }, today(), expected)
        .await
        .map_err(|e| ApiError::from_store(&i, e))?;
    Ok(Tagged(w))
}

#[utoipa::path(delete, path = "/api/v1/workers/{id}", tag = "workers", params(("id" = i64, Path), IfMatchHeader),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), VersionedWrite), security(("bearer" = [])))]
pub(super) async fn delete_worker(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    IfMatch(expected): IfMatch,
) -> ApiResult<StatusCode> {
    app.store.delete_worker(&p, id, expected).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/postings", tag = "workers", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Posting>), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn worker_postings(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Posting>>> {
    Ok(Json(app.store.worker_postings(&p, id).await.map_err(|e| ApiError::from_store(&i, e))?))
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/status-history", tag = "workers", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<StatusChange>), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
pub(super) async fn worker_statuses(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<StatusChange>>> {
    Ok(Json(app.store.worker_status_history(&p, id).await.map_err(|e| ApiError::from_store(&i, e))?))
}

/// The export format (the worker list filters come beside it).
#[derive(Debug, Default, Deserialize)]
pub struct FormatParam {
    /// `csv` (UTF-8 with BOM, the default) or `xlsx`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workers/export", tag = "workers",
    params(("format" = inline(Option<ExportFormat>), Query, description = "`csv` (default, UTF-8 with BOM) or `xlsx`"), WorkerParams),
    responses(
        (status = 200, description = "Every worker of the filtered list in the caller's scope (all pages), one column per WorkerInput field plus id, org_name, org_registration_no and workplace names",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn export_workers(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    f: Result<Query<FormatParam>, QueryRejection>,
    q: Result<Query<WorkerParams>, QueryRejection>,
) -> ApiResult<Response> {
    let f = query(f)?;
    let q = query(q)?;
    let format = match f.format.non_blank() {
        None => ExportFormat::Csv,
        Some(f) => ExportFormat::parse(f).ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("unknown format `{f}`: use csv or xlsx"))
        })?,
    };
    let mut wq = worker_query(&i, &q)?;
    wq.page = 1;
    export_response(&app, &p, &wq, format).await.map_err(|e| ApiError::from_store(&i, e))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        list_workers,
        export_workers,
        get_worker,
        create_worker,
        update_worker,
        delete_worker,
        worker_postings,
        worker_statuses
    ),
    components(schemas(
        Worker,
        WorkerRow,
        WorkerInput,
        WorkerPatch,
        Posting,
        StatusChange,
        Sex,
        Cadre,
        WorkerRole,
        Sector,
        EmploymentStatus,
        EducationLevel,
        EducationField
    ))
)]
pub struct WorkersApiDoc;
