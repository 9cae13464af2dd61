//! JSON API under `/api/v1`, authenticated with `Authorization: Bearer <token>`,
//! described by the OpenAPI document at `/api/openapi.json`.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::validate::{OrgInput, WorkerInput};
use komlang_core::*;
use komlang_store::{
    AdminUnitQuery, AuditEntry, AuditQuery, OrgQuery, OrgRow, StoreError, WorkerChange, WorkerQuery, WorkerRow,
};
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};

use crate::common::extract::{body, parse_opt, query};
use crate::common::{today, ApiError, ApiErrorBody, ApiFieldError, ApiResult, ApiUser, ExportFormat, I18n, Paged};
use crate::common::{Gate, Routes};
use crate::imports::{self, MAX_UPLOAD};
use crate::AppState;

pub fn routes(r: Routes) -> Routes {
    r.get("/api/openapi.json", Gate::Public, openapi)
        .get("/api/v1/me", Gate::SignedIn, me)
        .get("/api/v1/workers", Gate::Action(Action::ReadWorkers), list_workers)
        .post("/api/v1/workers", Gate::Action(Action::CreateWorker), create_worker)
        .get("/api/v1/workers/export", Gate::Action(Action::ReadWorkers), export_workers)
        .get("/api/v1/workers/{id}", Gate::Action(Action::ReadWorkers), get_worker)
        // EditWorker or EditOwnContact: checked per record, after the scope (404 first).
        .patch("/api/v1/workers/{id}", Gate::Action(Action::ReadWorkers), update_worker)
        // DeleteWorker: checked per record, after the scope (404 first).
        .delete("/api/v1/workers/{id}", Gate::Action(Action::ReadWorkers), delete_worker)
        .get("/api/v1/workers/{id}/postings", Gate::Action(Action::ReadWorkers), worker_postings)
        .get("/api/v1/workers/{id}/status-history", Gate::Action(Action::ReadWorkers), worker_statuses)
        .get("/api/v1/organizations", Gate::Action(Action::ReadOrgs), list_orgs)
        .post("/api/v1/organizations", Gate::Action(Action::EditOrg), create_org)
        .get("/api/v1/organizations/{id}", Gate::Action(Action::ReadOrgs), get_org)
        // EditOrg: checked per record, after the scope (404 first).
        .patch("/api/v1/organizations/{id}", Gate::Action(Action::ReadOrgs), update_org)
        // DeleteOrg: checked per record, after the scope (404 first).
        .delete("/api/v1/organizations/{id}", Gate::Action(Action::ReadOrgs), delete_org)
        .get("/api/v1/admin-units", Gate::SignedIn, list_units)
        .get("/api/v1/admin-units/{code}", Gate::SignedIn, get_unit)
        .get("/api/v1/imports", Gate::Action(Action::ImportWorkers), list_imports)
        .post(
            "/api/v1/imports/workers",
            Gate::Action(Action::ImportWorkers),
            import_workers.layer(DefaultBodyLimit::max(MAX_UPLOAD + 65536)),
        )
        .get("/api/v1/imports/{id}", Gate::Action(Action::ImportWorkers), get_import)
        .get("/api/v1/audit", Gate::Action(Action::ReadAudit), list_audit)
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
        return Err(ApiError::validation(&i, errs).with_status(StatusCode::BAD_REQUEST));
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
        return Err(ApiError::validation(&i, errs).with_status(StatusCode::BAD_REQUEST));
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

// ---------- import and export ----------

/// The export format (the worker list filters come beside it).
#[derive(Debug, Default, Deserialize)]
pub struct FormatParam {
    /// `csv` (UTF-8 with BOM, the default) or `xlsx`.
    pub format: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/workers/export", tag = "workers",
    params(("format" = Option<String>, Query, description = "`csv` (default, UTF-8 with BOM) or `xlsx`"), WorkerParams),
    responses(
        (status = 200, description = "Every worker of the filtered list in the caller's scope (all pages), one column per WorkerInput field plus id, org_name, org_registration_no and workplace names",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn export_workers(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    f: Result<Query<FormatParam>, QueryRejection>,
    q: Result<Query<WorkerParams>, QueryRejection>,
) -> ApiResult<Response> {
    let f = query(f)?;
    let q = query(q)?;
    let format = match f.format.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => ExportFormat::Csv,
        Some(f) => ExportFormat::parse(f).ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_request", format!("unknown format `{f}`: use csv or xlsx"))
        })?,
    };
    let mut wq = worker_query(&i, &q)?;
    wq.page = 1;
    imports::export_response(&app, &p, &wq, format).await.map_err(|e| ApiError::from_store(&i, e))
}

/// How to import a file.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// Check only, write nothing (default false).
    pub dry_run: Option<bool>,
    /// Write the valid rows even when others are rejected (default false: all or nothing).
    pub partial: Option<bool>,
    /// Name of a saved column mapping; without it the columns are recognized from their headers.
    pub mapping: Option<String>,
    /// Name of the file, recorded with the import (a multipart upload gives its own).
    pub file_name: Option<String>,
}

/// One problem of one cell (or of a whole row, with an empty `column`).
#[derive(Debug, Serialize, ToSchema)]
pub struct RowErrorView {
    /// Row number as a spreadsheet program shows it (the header is row 1).
    pub row: u64,
    pub column: String,
    pub field: String,
    pub value: String,
    pub code: String,
    /// The problem in the caller's language (Accept-Language: km or en).
    pub message: String,
}

/// A row that was not imported, with its cells as in the file.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRowView {
    pub row: u64,
    pub cells: Vec<String>,
    pub errors: Vec<RowErrorView>,
}

/// Why two records look like one person.
#[derive(Debug, Serialize, ToSchema)]
pub struct DupReasonView {
    /// `same_national_id`, `same_date_of_birth`, `same_khmer_name`, `same_latin_name` or `similar_names`.
    pub code: String,
    /// For `similar_names`: how alike, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<u8>,
}

/// A likely duplicate of a row: a worker of the registry or another row of the file.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateView {
    pub row: u64,
    /// The existing worker (only when it is in the caller's scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<i64>,
    /// True when the match is a worker of the registry (whether or not in the caller's scope).
    pub existing: bool,
    /// The other row of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_row: Option<u64>,
    /// 0 to 100.
    pub score: u8,
    pub reasons: Vec<DupReasonView>,
    /// E.g. "same date of birth, names 92% alike", in the caller's language.
    pub explanation: String,
    /// `merge`, `keep_both` or `skip`: what was (or, in a dry run, would be) done.
    pub decision: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportView {
    /// The audited import event; absent for a dry run or when nothing was written.
    pub import_id: Option<i64>,
    /// True when rows were written.
    pub committed: bool,
    pub dry_run: bool,
    pub rows_total: u64,
    pub added: u64,
    pub merged: u64,
    pub duplicates_skipped: u64,
    pub rejected_count: u64,
    pub rejected: Vec<RejectedRowView>,
    pub duplicates: Vec<DuplicateView>,
}

/// An import as recorded: who, when, which file, the counts and the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportView {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub username: String,
    /// `workers`, `organizations` or `population`.
    pub kind: String,
    pub file_name: String,
    pub file_sha256: String,
    /// `all_or_nothing` or `partial`.
    pub mode: String,
    pub rows_total: i64,
    pub added: i64,
    pub merged: i64,
    pub duplicates_skipped: i64,
    pub rejected: i64,
    /// The full report (in `GET /api/v1/imports/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ImportReportView>,
}

fn reason_view(r: &komlang_core::dedup::DupReason) -> DupReasonView {
    use komlang_core::dedup::DupReason as R;
    let (code, percent) = match r {
        R::SameNationalId => ("same_national_id", None),
        R::SameDateOfBirth => ("same_date_of_birth", None),
        R::SameKhmerName => ("same_khmer_name", None),
        R::SameLatinName => ("same_latin_name", None),
        R::SimilarNames(p) => ("similar_names", Some(*p)),
    };
    DupReasonView { code: code.into(), percent }
}

/// The report as the API shows it: messages in the caller's language, and
/// existing workers named only when they are in the caller's scope.
async fn report_view(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    r: &komlang_store::ImportReport,
    dry_run: bool,
) -> ApiResult<ImportReportView> {
    let mut visible = std::collections::HashMap::new();
    let mut duplicates = Vec::new();
    for d in &r.duplicates {
        let (worker_id, existing, other_row) = match &d.target {
            komlang_store::DupTarget::Existing { worker_id, .. } => {
                let seen = match visible.get(worker_id) {
                    Some(v) => *v,
                    None => {
                        let v = app
                            .store
                            .get_worker(p, *worker_id)
                            .await
                            .map_err(|e| ApiError::from_store(i, e))?
                            .is_some();
                        visible.insert(*worker_id, v);
                        v
                    }
                };
                (seen.then_some(*worker_id), true, None)
            }
            komlang_store::DupTarget::Row(n) => (None, false, Some(*n)),
        };
        duplicates.push(DuplicateView {
            row: d.row,
            worker_id,
            existing,
            other_row,
            score: d.score,
            reasons: d.reasons.iter().map(reason_view).collect(),
            explanation: imports::explanation(i, &d.reasons),
            decision: imports::decision_code(d.decision).into(),
        });
    }
    let rejected = r
        .rejected
        .iter()
        .map(|row| RejectedRowView {
            row: row.row,
            cells: row.cells.clone(),
            errors: row
                .errors
                .iter()
                .map(|e| RowErrorView {
                    row: e.row,
                    column: e.column.clone(),
                    field: e.field.clone(),
                    value: e.value.clone(),
                    code: e.code.clone(),
                    message: imports::row_error_text(i, e),
                })
                .collect(),
        })
        .collect();
    Ok(ImportReportView {
        import_id: r.import_id,
        committed: r.committed,
        dry_run,
        rows_total: r.rows_total,
        added: r.added,
        merged: r.merged,
        duplicates_skipped: r.duplicates_skipped,
        rejected_count: r.rejected.len() as u64,
        rejected,
        duplicates,
    })
}

fn bad_file(i: &I18n, e: &komlang_io::IoError) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "bad_file", imports::io_error_text(i, e))
}

/// The uploaded file: the raw body (`text/csv`, the XLSX type or
/// `application/octet-stream`), or the first file of a multipart form.
async fn uploaded_file(
    app: &AppState,
    i: &I18n,
    req: axum::extract::Request,
    name_param: Option<String>,
) -> ApiResult<(String, Vec<u8>)> {
    use axum::extract::FromRequest;
    let content_type = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            i.tp("import.error_too_large", &[("max", imports::MAX_UPLOAD_MB.to_string())]),
        )
    };
    if content_type.starts_with("multipart/form-data") {
        let mut mp = axum::extract::Multipart::from_request(req, app)
            .await
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text()))?;
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(e) => return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text())),
            };
            let Some(file_name) = field.file_name().map(str::to_string) else { continue };
            let bytes = match field.bytes().await {
                Ok(b) => b,
                Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
                Err(e) => return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text())),
            };
            return Ok((name_param.unwrap_or(file_name), bytes.to_vec()));
        }
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_request", i.t("import.error_no_file")));
    }
    let bytes = axum::body::Bytes::from_request(req, app).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            too_large()
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text())
        }
    })?;
    let default_name =
        if content_type.starts_with(crate::common::export::XLSX_TYPE) { "upload.xlsx" } else { "upload.csv" };
    Ok((name_param.unwrap_or_else(|| default_name.to_string()), bytes.to_vec()))
}

#[utoipa::path(post, path = "/api/v1/imports/workers", tag = "imports", params(ImportParams),
    request_body(description = "The file: raw CSV or XLSX bytes, or a multipart form with one file field",
        content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("multipart/form-data"))),
    responses(
        (status = 200, description = "Imported (or, in a dry run, every row would be)", body = ImportReportView),
        (status = 400, description = "Not a CSV/XLSX file, not UTF-8, empty, or an unknown mapping name", body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 413, body = ApiErrorBody),
        (status = 422, description = "Rows were rejected and nothing was written (the report lists them), or a required column is missing", body = ImportReportView)),
    security(("bearer" = [])))]
async fn import_workers(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<ImportParams>, QueryRejection>,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    let q = query(q)?;
    let (name, bytes) = uploaded_file(&app, &i, req, q.file_name.clone()).await?;
    if bytes.is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_file", i.t("import.error_empty")));
    }
    let reader = imports::open_table(&name, &bytes).map_err(|e| bad_file(&i, &e))?;
    let headers = reader.headers().to_vec();
    let mapping = match q.mapping.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(m) => match app.store.mapping(m).await.map_err(|e| ApiError::from_store(&i, e))? {
            Some(saved) => imports::apply_saved(&headers, &saved.headers, &saved.mapping),
            None => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    i.tp("import.unknown_mapping", &[("name", m.to_string())]),
                ))
            }
        },
        None => komlang_core::import::guess_mapping(&headers),
    };
    if let Err(problems) = komlang_core::import::check_mapping(&mapping) {
        let errs =
            ValidationErrors { errors: problems.iter().map(|e| FieldError::new(e.field.code(), &e.code)).collect() };
        return Err(ApiError::validation(&i, errs));
    }
    let dry_run = q.dry_run.unwrap_or(false);
    let opts = komlang_store::WorkerImportOptions {
        dry_run,
        partial: q.partial.unwrap_or(false),
        decisions: Default::default(),
        default_decision: komlang_store::DupDecision::Skip,
        file_name: name.clone(),
        file_sha256: imports::sha256_hex(&bytes),
    };
    let report = app
        .store
        .import_workers(&p, &headers, imports::store_rows(reader), &mapping, &opts, today())
        .await
        .map_err(|e| ApiError::from_store(&i, e))?;
    let view = report_view(&app, &p, &i, &report, dry_run).await?;
    let status = if !report.committed && !report.rejected.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view)).into_response())
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportListParams {
    pub page: Option<i64>,
}

fn import_view(r: &komlang_store::ImportSummary) -> ImportView {
    ImportView {
        id: r.id,
        at: r.at.clone(),
        username: r.username.clone(),
        kind: r.kind.clone(),
        file_name: r.file_name.clone(),
        file_sha256: r.file_sha256.clone(),
        mode: r.mode.clone(),
        rows_total: r.rows_total,
        added: r.rows_added,
        merged: r.rows_merged,
        duplicates_skipped: r.rows_duplicate_skipped,
        rejected: r.rows_rejected,
        report: None,
    }
}

#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", params(ImportListParams),
    responses((status = 200, description = "Imports: a national administrator sees all, others their own", body = Paged<ImportView>),
        (status = 403, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn list_imports(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<ImportListParams>, QueryRejection>,
) -> ApiResult<Json<Paged<ImportView>>> {
    let q = query(q)?;
    let page = app.store.list_imports(&p, q.page.unwrap_or(1)).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok(Json(Paged {
        items: page.items.iter().map(import_view).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", params(("id" = i64, Path)),
    responses((status = 200, body = ImportView), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
async fn get_import(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<ImportView>> {
    let Some(rec) = app.store.get_import(&p, id).await.map_err(|e| ApiError::from_store(&i, e))? else {
        return Err(ApiError::from_store(&i, StoreError::NotFound));
    };
    let mut v = import_view(&rec.summary);
    if let Some(r) = &rec.report {
        v.report = Some(report_view(&app, &p, &i, r, false).await?);
    }
    Ok(Json(v))
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
    paths(me, list_workers, export_workers, get_worker, create_worker, update_worker, delete_worker, worker_postings, worker_statuses,
          list_orgs, get_org, create_org, update_org, delete_org, list_units, get_unit, list_audit,
          import_workers, list_imports, get_import),
    components(schemas(ApiErrorBody, ApiFieldError, Me, Worker, WorkerRow, WorkerInput, WorkerPatch, Posting, StatusChange,
        Organization, OrgRow, OrgInput, AdminUnit, AuditEntry, Sex, Cadre, WorkerRole, Sector, EmploymentStatus,
        EducationLevel, EducationField, OrgKind, AdminLevel, UserRole, ImportReportView, RejectedRowView, RowErrorView,
        DuplicateView, DupReasonView, ImportView, komlang_core::import::ImportField)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ApiDoc::openapi();
    // The competency paths and schemas (not `.merge(`: that would read as a sub-router to the route tests).
    utoipa::openapi::OpenApi::merge(&mut doc, crate::competencies_api::CompetencyApiDoc::openapi());
    utoipa::openapi::OpenApi::merge(&mut doc, crate::planning_api::PlanningApiDoc::openapi());
    utoipa::openapi::OpenApi::merge(&mut doc, crate::training_api::TrainingApiDoc::openapi());
    Json(doc)
}
