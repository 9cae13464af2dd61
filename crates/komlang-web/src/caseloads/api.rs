//! Caseloads in the JSON API, with their part of the OpenAPI document ([`CaseloadsApiDoc`]).

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::caseload::CaseSource;
use komlang_core::{AdminLevel, Cadre, NonBlank, WorkerRole};
use komlang_store::caseloads::{
    CaseOwner, CaseloadImportOptions, CaseloadSnapshot, Mover, OverThreshold, ReassignmentHint, ThresholdRow,
    UnitCaseload, UnitLoad, WorkerCaseload,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::common::errors::{bad_request, store};
use crate::common::export::{download, format_param};
use crate::common::extract::{body, date_param, query};
use crate::common::import_report::{report_response, ImportRefusal, ImportReportView};
use crate::common::uploads::{sha256_hex, store_rows_in, uploaded_table};
use crate::common::{today, ApiErrorBody, ApiResult, ApiUser, ExportFormat};
use crate::AppState;

/// The levels caseloads are counted by (the OpenAPI document's schema of `level`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum CaseloadLevel {
    Province,
    District,
    Commune,
}

/// The case management systems whose lists are read (the schema of `source`).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum CaseSystem {
    Primero,
    Oscar,
}

/// A list of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// Which units.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitParams {
    /// province (default), district or commune.
    #[param(value_type = Option<CaseloadLevel>, inline)]
    pub level: Option<String>,
    /// Only units inside this one (an admin unit code).
    pub parent: Option<String>,
    /// `csv` or `xlsx`: the units' rows as a file.
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

/// The level asked (province by default); 400 for another.
pub(super) fn level_of(v: &Option<String>) -> ApiResult<AdminLevel> {
    match v.non_blank() {
        None => Ok(AdminLevel::Province),
        Some(s) => AdminLevel::parse(s)
            .filter(|l| matches!(l, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune))
            .ok_or_else(|| bad_request(format!("unknown level `{s}`: use province, district or commune"))),
    }
}

#[utoipa::path(get, path = "/api/v1/caseloads", tag = "caseloads", params(UnitParams),
    responses((status = 200, description = "Open cases per unit of the level in the caller's scope, from each case system's latest snapshot (units without cases left out); with `format` the rows as a CSV or XLSX file",
            content((Items<UnitCaseload> = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ApiErrorBody), (status = 404, description = "The parent is not a unit in the caller's scope", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn by_unit(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<UnitParams>, QueryRejection>,
) -> ApiResult<Response> {
    let q = query(q)?;
    let level = level_of(&q.level)?;
    let format = format_param(&q.format)?;
    let rows = app.store.caseloads_by_unit(&p, level, q.parent.non_blank()).await.map_err(store(&i))?;
    let Some(f) = format else { return Ok(Json(Items { items: rows }).into_response()) };
    download(&i, "komlang-caseloads", f, super::CASELOAD_COLUMNS, super::caseload_cells(&rows)).await
}

#[utoipa::path(get, path = "/api/v1/caseloads/snapshots", tag = "caseloads",
    responses((status = 200, description = "Every case list imported, newest first; `current` marks each source's latest, the one counted", body = Items<CaseloadSnapshot>)),
    security(("bearer" = [])))]
pub(super) async fn snapshots(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
) -> ApiResult<Json<Items<CaseloadSnapshot>>> {
    Ok(Json(Items { items: app.store.caseload_snapshots(&p).await.map_err(store(&i))? }))
}

/// Inside which unit.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ParentParams {
    /// An admin unit code (default: the caller's whole scope).
    pub parent: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/caseloads/over-threshold", tag = "caseloads", params(ParentParams),
    responses((status = 200, description = "Workers in the caller's scope holding more open cases than their cadre's and role's threshold, most first", body = Items<OverThreshold>),
        (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn over_threshold(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<ParentParams>, QueryRejection>,
) -> ApiResult<Json<Items<OverThreshold>>> {
    let q = query(q)?;
    Ok(Json(Items { items: app.store.workers_over_threshold(&p, q.parent.non_blank()).await.map_err(store(&i))? }))
}

/// The levels re-assignments are looked for at.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum HintLevel {
    District,
    Commune,
}

/// Where to look for re-assignments.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HintParams {
    /// `district` (default: districts compared within their province) or `commune` (communes
    /// within their district).
    #[param(value_type = Option<HintLevel>, inline)]
    pub level: Option<String>,
    /// An admin unit code (default: the caller's whole scope).
    pub parent: Option<String>,
}

pub(super) async fn hints_for(
    app: &AppState,
    p: &komlang_core::Principal,
    level: Option<&str>,
    parent: Option<&str>,
) -> ApiResult<Result<Vec<ReassignmentHint>, komlang_store::StoreError>> {
    let level = match level.map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("district") => AdminLevel::District,
        Some("commune") => AdminLevel::Commune,
        Some(other) => return Err(bad_request(format!("unknown level `{other}`: use district or commune"))),
    };
    Ok(app.store.reassignment_hints(p, level, parent).await)
}

#[utoipa::path(get, path = "/api/v1/caseloads/reassignment", tag = "caseloads", params(HintParams),
    responses((status = 200, description = "Units far above their caseload capacity (open cases ÷ the sum of their linked workers' thresholds ≥ 1.5) next to units of the same parent far below it (≤ 0.5), with the workers who could move (most spare capacity first), the post each holds and the vacant posts of their cadre in the unit above. Suggestions: nothing is moved.", body = Items<ReassignmentHint>),
        (status = 400, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn reassignment(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<HintParams>, QueryRejection>,
) -> ApiResult<Json<Items<ReassignmentHint>>> {
    let q = query(q)?;
    let items = hints_for(&app, &p, q.level.as_deref(), q.parent.non_blank()).await?.map_err(store(&i))?;
    Ok(Json(Items { items }))
}

#[utoipa::path(get, path = "/api/v1/workers/{id}/caseload", tag = "caseloads", params(("id" = i64, Path)),
    responses((status = 200, description = "The worker's open cases in each case system's latest snapshot, with the system's user names linked to them", body = Items<WorkerCaseload>),
        (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn worker_caseload(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Items<WorkerCaseload>>> {
    Ok(Json(Items { items: app.store.worker_caseload(&p, id).await.map_err(store(&i))? }))
}

/// How to import a case list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseImportParams {
    /// `primero` or `oscar`.
    #[param(required = true, value_type = CaseSystem, inline)]
    pub source: Option<String>,
    /// The day the list was exported (default: today). A list of the same source and day
    /// replaces the one imported before.
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<String>,
    /// Check only, write nothing (default false).
    pub dry_run: Option<bool>,
    /// Keep the valid rows when others are refused (default false: all or nothing).
    pub partial: Option<bool>,
    /// Headers for fields instead of the source's own, as `field:Header` pairs separated by
    /// `;` (fields: case_id, status, owner, agency, location, province, district, commune,
    /// opened_on, closed_on).
    pub columns: Option<String>,
    /// Name of the file, recorded with the import (a multipart upload gives its own).
    pub file_name: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/caseloads/import", tag = "caseloads", params(CaseImportParams),
    request_body(description = "The case list exported from Primero or OSCaR: raw CSV or XLSX bytes, or a multipart form with one file field",
        content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("application/octet-stream"), ("multipart/form-data"))),
    responses(
        (status = 200, description = "Imported (or, in a dry run, every row would be)", body = ImportReportView),
        (status = 400, description = "Not a CSV/XLSX file, an unknown source or day", body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 413, body = ApiErrorBody),
        (status = 422, description = "Rows were refused and nothing was written (the report lists them, with the mapped columns only), a required column is missing, a header named in `columns` is not in the file, or `columns` is not written field:Header (`invalid_format`)", body = ImportRefusal)),
    security(("bearer" = [])))]
pub(super) async fn import(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<CaseImportParams>, QueryRejection>,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    let q = query(q)?;
    let source = CaseSource::parse(q.source.as_deref().unwrap_or(""))
        .ok_or_else(|| bad_request("source must be primero or oscar"))?;
    let as_of = date_param("as_of", &q.as_of)?.unwrap_or_else(today);
    let columns = komlang_core::caseload::parse_columns(q.columns.as_deref().unwrap_or("")).map_err(|m| {
        let e = komlang_core::FieldError::new("columns", "invalid_format").with("message", m);
        crate::common::ApiError::validation(&i, komlang_core::ValidationErrors::single(e))
    })?;
    let (name, bytes, reader) = uploaded_table(&app, &i, req, q.file_name.clone()).await?;
    let headers = reader.headers().to_vec();
    let dry_run = q.dry_run.unwrap_or(false);
    let opts = CaseloadImportOptions {
        source,
        as_of,
        dry_run,
        partial: q.partial.unwrap_or(false),
        file_name: name,
        file_sha256: sha256_hex(&bytes),
        columns,
        report: app.config.report_limits,
    };
    let report = app.store.import_caseload(&p, &headers, store_rows_in(i, reader), &opts).await.map_err(store(&i))?;
    report_response(&app, &p, &i, &report, dry_run).await
}

/// Whose users.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OwnerParams {
    /// `primero` or `oscar` (default: both).
    #[param(value_type = Option<CaseSystem>, inline)]
    pub source: Option<String>,
    /// Only the users linked to no worker (default false).
    pub unlinked: Option<bool>,
}

fn source_param(v: &Option<String>) -> ApiResult<Option<CaseSource>> {
    match v.non_blank() {
        None => Ok(None),
        Some(s) => CaseSource::parse(s).map(Some).ok_or_else(|| bad_request("source must be primero or oscar")),
    }
}

#[utoipa::path(get, path = "/api/v1/caseloads/owners", tag = "caseloads", params(OwnerParams),
    responses((status = 200, description = "The case systems' users holding cases in their latest snapshots, with their open cases and the worker each is linked to (users linked to workers outside the caller's scope left out)", body = Items<CaseOwner>),
        (status = 400, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn owners(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<OwnerParams>, QueryRejection>,
) -> ApiResult<Json<Items<CaseOwner>>> {
    let q = query(q)?;
    let source = source_param(&q.source)?;
    Ok(Json(Items { items: app.store.case_owners(&p, source, q.unlinked.unwrap_or(false)).await.map_err(store(&i))? }))
}

/// A case system's user and the worker they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkInput {
    /// `primero` or `oscar`.
    #[schema(value_type = CaseSystem, inline)]
    pub source: String,
    /// The user name (Primero) or staff name (OSCaR) as the case list writes it.
    pub owner: String,
    pub worker_id: i64,
}

#[utoipa::path(put, path = "/api/v1/caseloads/owners", tag = "caseloads", request_body = LinkInput,
    responses((status = 204, description = "Linked (replacing the user's earlier link)"), (status = 400, body = ApiErrorBody),
        (status = 403, body = ApiErrorBody), (status = 404, description = "The user is linked to a worker outside the caller's scope", body = ApiErrorBody),
        (status = 422, description = "`owner` (`required`, `too_long`), `worker_id` (`unknown_worker`: not a worker in the caller's scope)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn link(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<LinkInput>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let input = body(b)?;
    let source = CaseSource::parse(&input.source).ok_or_else(|| bad_request("source must be primero or oscar"))?;
    app.store.link_case_owner(&p, source, &input.owner, input.worker_id).await.map_err(store(&i))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which user to unlink.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnlinkParams {
    /// `primero` or `oscar`.
    #[param(required = true, value_type = CaseSystem, inline)]
    pub source: Option<String>,
    #[param(required = true, min_length = 1)]
    pub owner: Option<String>,
}

#[utoipa::path(delete, path = "/api/v1/caseloads/owners", tag = "caseloads", params(UnlinkParams),
    responses((status = 204, description = "Unlinked"), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 404, description = "No such link, or one to a worker outside the caller's scope", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn unlink(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<UnlinkParams>, QueryRejection>,
) -> ApiResult<StatusCode> {
    let q = query(q)?;
    let source = source_param(&q.source)?.ok_or_else(|| bad_request("source must be primero or oscar"))?;
    let owner = q.owner.non_blank().ok_or_else(|| bad_request("owner is required"))?;
    app.store.unlink_case_owner(&p, source, owner).await.map_err(store(&i))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The thresholds set, and the default where none fits.
#[derive(Debug, Serialize, ToSchema)]
pub struct Thresholds {
    pub items: Vec<ThresholdRow>,
    /// Applies to a worker no setting fits.
    pub default: u32,
}

#[utoipa::path(get, path = "/api/v1/caseloads/thresholds", tag = "caseloads",
    responses((status = 200, body = Thresholds)), security(("bearer" = [])))]
pub(super) async fn thresholds(State(app): State<AppState>, ApiUser(_p, i): ApiUser) -> ApiResult<Json<Thresholds>> {
    Ok(Json(Thresholds {
        items: app.store.caseload_thresholds().await.map_err(store(&i))?,
        default: komlang_core::caseload::DEFAULT_THRESHOLD,
    }))
}

/// A threshold to set or remove.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdInput {
    /// A cadre code; absent: any cadre.
    #[serde(default)]
    #[schema(value_type = Option<komlang_core::Cadre>)]
    pub cadre: Option<String>,
    /// A role code; absent: any role.
    #[serde(default)]
    #[schema(value_type = Option<komlang_core::WorkerRole>)]
    pub role: Option<String>,
    /// Open cases, 1 to 10,000; null: remove the setting.
    pub max_open: Option<u32>,
}

#[utoipa::path(put, path = "/api/v1/caseloads/thresholds", tag = "caseloads", request_body = ThresholdInput,
    responses((status = 200, body = Thresholds), (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody),
        (status = 422, description = "`max_open` (`out_of_range`)", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn set_threshold(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    b: Result<Json<ThresholdInput>, JsonRejection>,
) -> ApiResult<Json<Thresholds>> {
    let input = body(b)?;
    let cadre = match input.cadre.non_blank() {
        None => None,
        Some(c) => Some(Cadre::parse(c).ok_or_else(|| bad_request(format!("unknown cadre `{c}`")))?),
    };
    let role = match input.role.non_blank() {
        None => None,
        Some(r) => Some(WorkerRole::parse(r).ok_or_else(|| bad_request(format!("unknown role `{r}`")))?),
    };
    app.store.set_caseload_threshold(&p, cadre, role, input.max_open).await.map_err(store(&i))?;
    thresholds(State(app), ApiUser(p, i)).await
}

#[derive(OpenApi)]
#[openapi(
    paths(by_unit, snapshots, over_threshold, reassignment, worker_caseload, import, owners, link, unlink, thresholds, set_threshold),
    components(schemas(
        Items<UnitCaseload>,
        Items<CaseloadSnapshot>,
        Items<OverThreshold>,
        Items<WorkerCaseload>,
        Items<CaseOwner>,
        Items<ReassignmentHint>,
        ReassignmentHint,
        UnitLoad,
        Mover,
        UnitCaseload,
        CaseloadSnapshot,
        OverThreshold,
        WorkerCaseload,
        CaseOwner,
        LinkInput,
        Thresholds,
        ThresholdRow,
        ThresholdInput
    )),
    tags((name = "caseloads", description = "Caseloads from the case systems (Primero, OSCaR): case lists imported as snapshots, their users linked to workers, open cases per unit and per worker, and the workers above their caseload threshold. No child's personal data is kept."))
)]
pub struct CaseloadsApiDoc;
