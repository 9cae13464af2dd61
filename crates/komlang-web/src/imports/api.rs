//! Imports in the API: a worker file in one call (dry run or for real), the list of imports
//! and one import with its report.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::files::{check_table, io_error_text, open_table_within, sha256_hex, store_rows_in, MAX_UPLOAD_MB};
use super::mapping::apply_saved;
use super::report::explanation;
use super::report::{decision_code, row_error_text};
use crate::common::extract::query;
use crate::common::{today, ApiError, ApiErrorBody, ApiResult, ApiUser, I18n, Paged};
use crate::AppState;
use komlang_store::StoreError;

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
    /// Rows rejected, all of them.
    pub rejected_count: u64,
    /// The first rejected rows (at most 1,000, and at most 4 MiB of echoed text; every
    /// echoed cell or value cut at 500 characters, ending in `…`).
    pub rejected: Vec<RejectedRowView>,
    /// Rejected rows counted in `rejected_count` but not listed in `rejected`.
    pub rejected_not_shown: u64,
    /// Duplicates found, all of them.
    pub duplicates_count: u64,
    /// The first duplicates found (at most 1,000).
    pub duplicates: Vec<DuplicateView>,
    /// Duplicates counted in `duplicates_count` but not listed in `duplicates`.
    pub duplicates_not_shown: u64,
    /// "12 more rejected rows not shown", in the caller's language, when some are not listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_shown: Option<String>,
}

/// Duplicates listed in a report view (the counts are exact).
const DUPLICATES_SHOWN: usize = komlang_store::STORED_REPORT_LIMIT;

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

fn reason_view(r: &dedup::DupReason) -> DupReasonView {
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
    for d in r.duplicates.iter().take(DUPLICATES_SHOWN) {
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
            explanation: explanation(i, &d.reasons),
            decision: decision_code(d.decision).into(),
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
                    message: row_error_text(i, e),
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
        rejected_count: r.rejected_total(),
        rejected,
        rejected_not_shown: r.rejected_not_shown(),
        duplicates_count: r.duplicates.len() as u64,
        duplicates_not_shown: r.duplicates.len().saturating_sub(DUPLICATES_SHOWN) as u64,
        not_shown: (r.rejected_not_shown() > 0)
            .then(|| i.tp("import.rejected_not_shown", &[("count", r.rejected_not_shown().to_string())])),
        duplicates,
    })
}

/// 413 for a file past a limit (the code names it: `too_many_rows`, `too_many_cells`,
/// `cell_too_long`, `unzips_too_large`, `too_many_parts`), 400 for a file that cannot be read.
fn bad_file(i: &I18n, e: &komlang_io::IoError) -> ApiError {
    match e {
        komlang_io::IoError::TooLarge { limit, .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, limit.code(), io_error_text(i, e))
        }
        _ => ApiError::new(StatusCode::BAD_REQUEST, "bad_file", io_error_text(i, e)),
    }
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
            i.tp("import.error_too_large", &[("max", MAX_UPLOAD_MB.to_string())]),
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

/// The uploaded file ([`uploaded_file`]) as a table: its name, its bytes and a reader of its
/// rows. It is read whole once first, keeping no row, so that a file past a limit is refused
/// before any import begins.
pub(crate) async fn uploaded_table(
    app: &AppState,
    i: &I18n,
    req: axum::extract::Request,
    name_param: Option<String>,
) -> ApiResult<(String, Vec<u8>, komlang_io::TableReader)> {
    let (name, bytes) = uploaded_file(app, i, req, name_param).await?;
    if bytes.is_empty() {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "bad_file", i.t("import.error_empty")));
    }
    let limits = &app.config.upload_limits;
    check_table(limits, &name, &bytes).map_err(|e| bad_file(i, &e))?;
    let reader = open_table_within(limits, &name, &bytes).map_err(|e| bad_file(i, &e))?;
    Ok((name, bytes, reader))
}

#[utoipa::path(post, path = "/api/v1/imports/workers", tag = "imports", params(ImportParams),
    request_body(description = "The file: raw CSV or XLSX bytes, or a multipart form with one file field",
        content(("text/csv"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), ("application/octet-stream"), ("multipart/form-data"))),
    responses(
        (status = 200, description = "Imported (or, in a dry run, every row would be)", body = ImportReportView),
        (status = 400, description = "Not a CSV/XLSX file, not UTF-8, empty, or an unknown mapping name", body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 413, description = "The body is over 64 MB, or the table goes past a limit of rows, cells per row, characters per cell or what a workbook unzips to (the code names it)", body = ApiErrorBody),
        (status = 422, description = "Rows were rejected and nothing was written (the report lists them), or a required column is missing (the error body, one entry per column)", body = ImportRefusal)),
    security(("bearer" = [])))]
pub(super) async fn import_workers(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<ImportParams>, QueryRejection>,
    req: axum::extract::Request,
) -> ApiResult<Response> {
    let q = query(q)?;
    let (name, bytes, reader) = uploaded_table(&app, &i, req, q.file_name.clone()).await?;
    let headers = reader.headers().to_vec();
    let mapping = match q.mapping.non_blank() {
        Some(m) => match app.store.mapping(m).await.map_err(|e| ApiError::from_store(&i, e))? {
            Some(saved) => apply_saved(&headers, &saved.headers, &saved.mapping),
            None => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_request",
                    i.tp("import.unknown_mapping", &[("name", m.to_string())]),
                ))
            }
        },
        None => import::guess_mapping(&headers),
    };
    if let Err(problems) = import::check_mapping(&mapping) {
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
        file_sha256: sha256_hex(&bytes),
        report: app.config.report_limits,
    };
    let report = app
        .store
        .import_workers(&p, &headers, store_rows_in(i, reader), &mapping, &opts, today())
        .await
        .map_err(|e| ApiError::from_store(&i, e))?;
    report_response(&app, &p, &i, &report, dry_run).await
}

/// An import's answer: 422 when rows were refused and nothing was written, else 200; the
/// report in the caller's language.
pub(crate) async fn report_response(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    report: &komlang_store::ImportReport,
    dry_run: bool,
) -> ApiResult<Response> {
    let view = report_view(app, p, i, report, dry_run).await?;
    let status =
        if !report.committed && !report.all_valid() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
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
pub(super) async fn list_imports(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    q: Result<Query<ImportListParams>, QueryRejection>,
) -> ApiResult<Json<Paged<ImportView>>> {
    let q = query(q)?;
    let page = app.store.list_imports(&p, q.page.unwrap_or(1)).await.map_err(|e| ApiError::from_store(&i, e))?;
    Ok(Json(Paged {
        items: page.items.iter().map(import_view).collect(),
        total: page.total,
        total_is_lower_bound: page.total_is_lower_bound,
        page: page.page,
        per_page: page.per_page,
    }))
}

#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", params(("id" = i64, Path)),
    responses((status = 200, body = ImportView), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn get_import(
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

/// A 422 of an import (the OpenAPI document's schema): the report of the rejected rows, or
/// the error body naming each missing required column.
pub struct ImportRefusal;

impl utoipa::PartialSchema for ImportRefusal {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::OneOfBuilder;
        use utoipa::openapi::Ref;
        OneOfBuilder::new()
            .item(Ref::from_schema_name("ImportReportView"))
            .item(Ref::from_schema_name("ApiErrorBody"))
            .into()
    }
}

impl ToSchema for ImportRefusal {}

#[derive(OpenApi)]
#[openapi(
    paths(import_workers, list_imports, get_import),
    components(schemas(
        ImportRefusal,
        ImportReportView,
        RejectedRowView,
        RowErrorView,
        DuplicateView,
        DupReasonView,
        ImportView,
        import::ImportField
    ))
)]
pub struct ImportsApiDoc;
