//! The filtered worker list (every page of it, in the caller's scope) as a CSV or XLSX file.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use komlang_core::*;
use komlang_store::{StoreError, WorkerQuery};

use super::pages::WorkerFilters;
use crate::common::export::{attachment, CSV_TYPE, XLSX_TYPE};
use crate::common::extract::store_err;
use crate::common::{today, Ctx, ExportFormat, PageResult};
use crate::AppState;

/// Rows as CSV lines, as [`komlang_io::write_csv`] writes them (after its BOM and header).
fn csv_lines(rows: &[Vec<String>]) -> std::io::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new().flexible(true).terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    for r in rows {
        w.write_record(r)?;
    }
    w.into_inner().map_err(|e| std::io::Error::other(e.to_string()))
}

fn export_error(e: komlang_io::IoError) -> StoreError {
    StoreError::Io(std::io::Error::other(e.to_string()))
}

/// Every worker of a filtered list (all pages) in the caller's scope, as a
/// file to download: CSV (UTF-8 with BOM, streamed page by page) or XLSX.
pub(super) async fn export_response(
    app: &AppState,
    p: &Principal,
    q: &WorkerQuery,
    format: ExportFormat,
) -> Result<Response, StoreError> {
    let stamp = today().format("%Y-%m-%d").to_string();
    let columns = komlang_store::EXPORT_COLUMNS;
    match format {
        ExportFormat::Csv => {
            let mut head = Vec::new();
            komlang_io::write_csv(&mut head, columns, std::iter::empty()).map_err(export_error)?;
            let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
            let (store, p, q) = (app.store.clone(), p.clone(), q.clone());
            tokio::spawn(async move {
                let mut pages = store.export_pages(&p, &q);
                loop {
                    let chunk = match pages.next_page().await {
                        Ok(Some(rows)) => csv_lines(&rows),
                        Ok(None) => break,
                        Err(e) => Err(std::io::Error::other(e.to_string())),
                    };
                    let failed = chunk.is_err();
                    if tx.send(chunk).await.is_err() || failed {
                        break;
                    }
                }
            });
            // The first page is read before answering, so that a failing
            // query is an error rather than a cut-off download.
            if let Some(first) = rx.recv().await {
                head.extend(first?);
            }
            let rest = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
            let body = futures_util::StreamExt::chain(futures_util::stream::once(async move { Ok(head) }), rest);
            let disposition = format!("attachment; filename=\"komlang-workers-{stamp}.csv\"");
            Ok((
                [
                    (header::CONTENT_TYPE, CSV_TYPE.to_string()),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, "no-store".to_string()),
                ],
                axum::body::Body::from_stream(body),
            )
                .into_response())
        }
        ExportFormat::Xlsx => {
            let mut rows = Vec::new();
            let mut pages = app.store.export_pages(p, q);
            while let Some(page) = pages.next_page().await? {
                rows.extend(page);
            }
            let bytes = tokio::task::spawn_blocking(move || {
                let mut out = std::io::Cursor::new(Vec::new());
                komlang_io::write_xlsx(&mut out, columns, rows.into_iter()).map(|_| out.into_inner())
            })
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?
            .map_err(export_error)?;
            Ok(attachment(XLSX_TYPE, &format!("komlang-workers-{stamp}.xlsx"), bytes))
        }
    }
}

async fn export(app: AppState, ctx: Ctx, f: WorkerFilters, format: ExportFormat) -> PageResult {
    let p = ctx.require()?.clone();
    let mut q = f.query();
    q.page = 1;
    export_response(&app, &p, &q, format).await.map_err(|e| store_err(&ctx, e))
}

pub async fn export_csv(State(app): State<AppState>, ctx: Ctx, Query(f): Query<WorkerFilters>) -> PageResult {
    export(app, ctx, f, ExportFormat::Csv).await
}

pub async fn export_xlsx(State(app): State<AppState>, ctx: Ctx, Query(f): Query<WorkerFilters>) -> PageResult {
    export(app, ctx, f, ExportFormat::Xlsx).await
}
