//! The filtered worker list (every page of it, in the caller's scope) as a CSV or XLSX file.

use axum::extract::{Query, State};
use axum::response::Response;
use komlang_core::*;
use komlang_store::{StoreError, WorkerQuery};

use super::pages::WorkerFilters;
use crate::common::export::{attachment, streamed_attachment, Piece, CSV_TYPE, XLSX_TYPE};
use crate::common::extract::store_err;
use crate::common::{today, Ctx, ExportFormat, PageResult};
use crate::AppState;

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
            let (tx, mut rx) = tokio::sync::mpsc::channel::<Piece>(4);
            let (store, p, q) = (app.store.clone(), p.clone(), q.clone());
            tokio::spawn(async move {
                let mut pages = store.export_pages(&p, &q);
                loop {
                    let piece = match pages.next_page().await {
                        Ok(Some(rows)) => match komlang_io::csv_rows(rows.iter()) {
                            Ok(bytes) => Piece::Bytes(bytes),
                            Err(e) => Piece::Failed(e.to_string()),
                        },
                        Ok(None) => Piece::End,
                        Err(e) => Piece::Failed(e.to_string()),
                    };
                    let last = !matches!(piece, Piece::Bytes(_));
                    if let Piece::Failed(e) = &piece {
                        tracing::error!("the worker export failed after it started: {e}");
                    }
                    // A client that went away closes the channel: stop reading.
                    if tx.send(piece).await.is_err() || last {
                        break;
                    }
                }
            });
            // The first page is read before answering, so that a failing query is an error
            // page rather than a download that fails at once.
            match rx.recv().await {
                Some(Piece::Bytes(first)) => head.extend(first),
                Some(Piece::Failed(e)) => return Err(StoreError::Io(std::io::Error::other(e))),
                Some(Piece::End) => return Ok(attachment(CSV_TYPE, &format!("komlang-workers-{stamp}.csv"), head)),
                None => return Err(StoreError::Io(std::io::Error::other("the export stopped before its first page"))),
            }
            Ok(streamed_attachment(CSV_TYPE, &format!("komlang-workers-{stamp}.csv"), head, rx))
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
