//! Imports in the API: a worker file in one call (dry run or for real), the list of imports
//! and one import with its report.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use komlang_core::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::files::{sha256_hex, store_rows_in};
use super::mapping::apply_saved;
use crate::common::extract::query;
use crate::common::import_report::{
    report_response, report_view, DupReasonView, DuplicateView, ImportRefusal, ImportReportView, RejectedRowView,
    RowErrorView,
};
use crate::common::uploads::uploaded_table;
use crate::common::{today, ApiError, ApiErrorBody, ApiResult, ApiUser, Paged};
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
