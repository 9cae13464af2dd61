//! JSON API under `/api/v1`, authenticated with `Authorization: Bearer <token>`,
//! described by the OpenAPI document at `/api/openapi.json`.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use komlang_core::validate::{OrgInput, WorkerInput};
use komlang_core::*;
use komlang_store::{
    AdminUnitQuery, AuditEntry, AuditQuery, OrgQuery, OrgRow, StoreError, WorkerChange, WorkerQuery, WorkerRow,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::auth::ApiUser;
use crate::i18n::I18n;
use crate::pages::today;
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/v1/me", get(me))
        .route("/v1/workers", get(list_workers).post(create_worker))
        .route("/v1/workers/{id}", get(get_worker).patch(update_worker).delete(delete_worker))
        .route("/v1/workers/{id}/postings", get(worker_postings))
        .route("/v1/workers/{id}/status-history", get(worker_statuses))
        .route("/v1/organizations", get(list_orgs).post(create_org))
        .route("/v1/organizations/{id}", get(get_org).patch(update_org).delete(delete_org))
        .route("/v1/admin-units", get(list_units))
        .route("/v1/admin-units/{code}", get(get_unit))
        .route("/v1/audit", get(list_audit))
        .fallback(not_found)
}

/// Error body of every failed API call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiErrorBody {
    /// Machine-readable kind: `validation`, `not_found`, `unauthorized`, `forbidden`, `bad_request`, `conflict`, `internal`.
    pub error: String,
    pub message: String,
    /// One entry per bad field (validation errors).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<ApiFieldError>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiFieldError {
    pub field: String,
    pub code: String,
    /// The problem in the caller's language (Accept-Language: km or en).
    pub message: String,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub params: std::collections::BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ApiErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &str, message: impl Into<String>) -> Self {
        ApiError { status, body: ApiErrorBody { error: error.into(), message: message.into(), fields: Vec::new() } }
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }

    fn validation(i: &I18n, errs: ValidationErrors) -> Self {
        let fields = errs
            .errors
            .iter()
            .map(|e| ApiFieldError {
                field: e.field.clone(),
                code: e.code.clone(),
                message: i.field_error(e),
                params: e.params.clone(),
            })
            .collect();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: ApiErrorBody {
                error: "validation".into(),
                message: "invalid input; nothing was saved".into(),
                fields,
            },
        }
    }

    fn from_store(i: &I18n, e: StoreError) -> Self {
        match e {
            StoreError::Invalid(v) => ApiError::validation(i, v),
            StoreError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such record in your scope"),
            StoreError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, "forbidden", "your role does not allow this"),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            other => ApiError::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body)).into_response()
    }
}

type ApiResult<T> = Result<T, ApiError>;

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    b.map(|Json(v)| v).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(v)| v).map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))
}

/// A page of results; `total` counts every match in the caller's scope.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> From<komlang_store::Page<T>> for Paged<T> {
    fn from(p: komlang_store::Page<T>) -> Self {
        Paged { items: p.items, total: p.total, page: p.page, per_page: p.per_page }
    }
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub role: UserRole,
    /// Admin unit code of the scope; absent for the whole country.
    pub scope: Option<String>,
    pub org_id: Option<i64>,
    pub worker_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Me)), security(("bearer" = [])))]
async fn me(ApiUser(p, _): ApiUser) -> Json<Me> {
    Json(Me {
        username: p.username,
        role: p.role,
        scope: match p.scope {
            Scope::Nation => None,
            Scope::Unit { code, .. } => Some(code),
        },
        org_id: p.org_id,
        worker_id: p.worker_id,
    })
}

fn parse_opt<T>(
    field: &str,
    v: &Option<String>,
    parse: fn(&str) -> Option<T>,
    errs: &mut ValidationErrors,
) -> Option<T> {
    let v = v.as_ref().map(|s| s.trim()).filter(|s| !s.is_empty())?;
    let r = parse(v);
    if r.is_none() {
        errs.push(FieldError::new(field, "invalid_choice").with("value", v));
    }
    r
}

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
    pub cadre: Option<String>,
    pub sector: Option<String>,
    pub status: Option<String>,
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
async fn list_workers(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<WorkerParams>, QueryRejection>,
) -> ApiResult<Json<Paged<WorkerRow>>> {
    let q = query(q)?;
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
        let mut e = ApiError::validation(&i, errs);
        e.status = StatusCode::BAD_REQUEST;
        return Err(e);
    }
    let page = app.store.list_workers(&p, &wq).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok(Json(page.into()))
}

#[utoipa::path(get, path = "/api/v1/workers/{id}", tag = "workers", params(("id" = i64, Path)),
    responses((status = 200, body = Worker), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
async fn get_worker(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Worker>> {
    match app.store.get_worker(&p, id).await.map_err(|e| ApiError::from_store(&i, e))? {
        Some(w) => Ok(Json(w)),
        None => Err(ApiError::from_store(&i, StoreError::NotFound)),
    }
}

#[utoipa::path(post, path = "/api/v1/workers", tag = "workers", request_body = WorkerInput,
    responses((status = 201, body = Worker), (status = 400, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn create_worker(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<WorkerInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<Worker>)> {
    let input = body(b)?;
    let w = app.store.create_worker(&p, &input, today()).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok((StatusCode::CREATED, Json(w)))
}

/// Fields to change (absent fields are kept; an empty string clears an
/// optional field; `org_id: 0` removes the employer), with when the change
/// takes effect (default today) and why.
#[derive(Debug, Deserialize, ToSchema)]
pub struct WorkerPatch {
    #[serde(flatten)]
    pub fields: WorkerInput,
    /// Date a transfer or status change takes effect (YYYY-MM-DD).
    pub effective_date: Option<String>,
    pub note: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/workers/{id}", tag = "workers", params(("id" = i64, Path)), request_body = WorkerPatch,
    responses((status = 200, body = Worker), (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn update_worker(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<serde_json::Map<String, serde_json::Value>>, JsonRejection>,
) -> ApiResult<Json<Worker>> {
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
    let effective_date = match effective.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
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
        .update_worker(&p, id, &fields, &WorkerChange { effective_date, note }, today())
        .await
        .map_err(|e| ApiError::from_store(&i, e))?;
    Ok(Json(w))
}

#[utoipa::path(delete, path = "/api/v1/workers/{id}", tag = "workers", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
async fn delete_worker(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    app.store.delete_worker(&p, id).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/postings", tag = "workers", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Posting>), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
async fn worker_postings(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<Posting>>> {
    Ok(Json(app.store.worker_postings(&p, id).await.map_err(|e| ApiError::from_store(&i, e))?))
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/status-history", tag = "workers", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<StatusChange>), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
async fn worker_statuses(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<StatusChange>>> {
    Ok(Json(app.store.worker_status_history(&p, id).await.map_err(|e| ApiError::from_store(&i, e))?))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrgParams {
    /// Text in the name, or a registration number.
    pub q: Option<String>,
    pub kind: Option<String>,
    pub province: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", params(OrgParams),
    responses((status = 200, body = Paged<OrgRow>), (status = 400, body = ApiErrorBody)), security(("bearer" = [])))]
async fn list_orgs(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<OrgParams>, QueryRejection>,
) -> ApiResult<Json<Paged<OrgRow>>> {
    let q = query(q)?;
    let mut errs = ValidationErrors::default();
    let kind = parse_opt("kind", &q.kind, OrgKind::parse, &mut errs);
    if !errs.is_empty() {
        let mut e = ApiError::validation(&i, errs);
        e.status = StatusCode::BAD_REQUEST;
        return Err(e);
    }
    let oq =
        OrgQuery { q: q.q, kind, province: q.province, page: q.page.unwrap_or(1), per_page: q.per_page.unwrap_or(50) };
    Ok(Json(app.store.list_orgs(&p, &oq).await.map_err(|e| ApiError::from_store(&i, e))?.into()))
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = i64, Path)),
    responses((status = 200, body = OrgRow), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
async fn get_org(State(app): State<AppState>, ApiUser(p, i): ApiUser, Path(id): Path<i64>) -> ApiResult<Json<OrgRow>> {
    match app.store.get_org(&p, id).await.map_err(|e| ApiError::from_store(&i, e))? {
        Some(o) => Ok(Json(o)),
        None => Err(ApiError::from_store(&i, StoreError::NotFound)),
    }
}

#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = OrgInput,
    responses((status = 201, body = OrgRow), (status = 400, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn create_org(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<OrgInput>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<OrgRow>)> {
    let input = body(b)?;
    let o = app.store.create_org(&p, &input).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok((StatusCode::CREATED, Json(o)))
}

#[utoipa::path(patch, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = i64, Path)), request_body = OrgInput,
    responses((status = 200, body = OrgRow), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn update_org(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<OrgInput>, JsonRejection>,
) -> ApiResult<Json<OrgRow>> {
    let input = body(b)?;
    Ok(Json(app.store.update_org(&p, id, &input).await.map_err(|e| ApiError::from_store(&i, e))?))
}

#[utoipa::path(delete, path = "/api/v1/organizations/{id}", tag = "organizations", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ApiErrorBody), (status = 409, body = ApiErrorBody)), security(("bearer" = [])))]
async fn delete_org(State(app): State<AppState>, ApiUser(p, i): ApiUser, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    app.store.delete_org(&p, id).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitParams {
    /// Code of the parent unit (e.g. `12` lists Phnom Penh's khans).
    pub parent: Option<String>,
    /// `country`, `province`, `district`, `commune` or `village`.
    pub level: Option<String>,
    /// Text in the Khmer or English name, or an exact code.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/admin-units", tag = "admin units", params(UnitParams),
    responses((status = 200, body = Paged<AdminUnit>), (status = 400, body = ApiErrorBody)), security(("bearer" = [])))]
async fn list_units(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
    q: Result<Query<UnitParams>, QueryRejection>,
) -> ApiResult<Json<Paged<AdminUnit>>> {
    let q = query(q)?;
    let mut errs = ValidationErrors::default();
    let level = parse_opt("level", &q.level, AdminLevel::parse, &mut errs);
    if !errs.is_empty() {
        let mut e = ApiError::validation(&i, errs);
        e.status = StatusCode::BAD_REQUEST;
        return Err(e);
    }
    let uq = AdminUnitQuery {
        parent: q.parent,
        level,
        q: q.q,
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(100),
    };
    Ok(Json(app.store.admin_units(&uq).await.map_err(|e| ApiError::from_store(&i, e))?.into()))
}

#[utoipa::path(get, path = "/api/v1/admin-units/{code}", tag = "admin units", params(("code" = String, Path)),
    responses((status = 200, body = AdminUnit), (status = 404, body = ApiErrorBody)), security(("bearer" = [])))]
async fn get_unit(
    State(app): State<AppState>,
    ApiUser(_caller, i): ApiUser,
    Path(code): Path<String>,
) -> ApiResult<Json<AdminUnit>> {
    match app.store.admin_unit(&code).await.map_err(|e| ApiError::from_store(&i, e))? {
        Some(u) => Ok(Json(u)),
        None => Err(ApiError::from_store(&i, StoreError::NotFound)),
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// `worker`, `organization`, `user`, `demo`.
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub username: Option<String>,
    /// `create`, `update`, `delete`, `import`.
    pub action: Option<String>,
    /// First day (YYYY-MM-DD).
    pub from: Option<String>,
    /// Last day (YYYY-MM-DD).
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams),
    responses((status = 200, body = Paged<AuditEntry>), (status = 403, body = ApiErrorBody)), security(("bearer" = [])))]
async fn list_audit(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<AuditParams>, QueryRejection>,
) -> ApiResult<Json<Paged<AuditEntry>>> {
    let q = query(q)?;
    let aq = AuditQuery {
        entity: q.entity,
        entity_id: q.entity_id,
        username: q.username,
        action: q.action,
        from: q.from,
        to: q.to,
        page: q.page.unwrap_or(1),
        per_page: q.per_page.unwrap_or(50),
    };
    Ok(Json(app.store.list_audit(&p, &aq).await.map_err(|e| ApiError::from_store(&i, e))?.into()))
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Komlang API", description = "Registry of the social service workforce. Every call is limited to the caller's role and geographic scope: records outside it answer 404."),
    paths(me, list_workers, get_worker, create_worker, update_worker, delete_worker, worker_postings, worker_statuses,
          list_orgs, get_org, create_org, update_org, delete_org, list_units, get_unit, list_audit),
    components(schemas(ApiErrorBody, ApiFieldError, Me, Worker, WorkerRow, WorkerInput, WorkerPatch, Posting, StatusChange,
        Organization, OrgRow, OrgInput, AdminUnit, AuditEntry, Sex, Cadre, WorkerRole, Sector, EmploymentStatus,
        EducationLevel, EducationField, OrgKind, AdminLevel, UserRole)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
