//! Files to download: CSV (UTF-8 with a byte-order mark, so that spreadsheet programs read
//! Khmer) or XLSX, named after what they hold and the day.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use komlang_core::NonBlank;
use komlang_store::StoreError;
use serde::Deserialize;

use super::errors::{bad_request, store, ApiResult, PageError};
use super::extract::Ctx;
use super::i18n::I18n;
use super::today;

pub const CSV_TYPE: &str = "text/csv; charset=utf-8";
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file format to download: `csv` (UTF-8 with a byte-order mark) or `xlsx`.
#[derive(Clone, Copy, PartialEq, Eq, Debug, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    Xlsx,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<ExportFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(ExportFormat::Csv),
            "xlsx" => Some(ExportFormat::Xlsx),
            _ => None,
        }
    }
}

/// A file to download (never cached).
pub fn attachment(content_type: &str, file_name: &str, body: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        body,
    )
        .into_response()
}

/// One piece of a streamed download, as its producer (a task reading page after page)
/// hands it to [`streamed_attachment`].
#[derive(Debug)]
pub enum Piece {
    /// The next bytes of the file.
    Bytes(Vec<u8>),
    /// The producer failed: the download must end as a failed one.
    Failed(String),
    /// The file is complete.
    End,
}

/// A download streamed from `first` and then what `rest` hands over (never cached).
///
/// The body ends normally only after [`Piece::End`]. A [`Piece::Failed`], or a producer that
/// stops without sending `End` (it failed or panicked), ends the body with an error: hyper
/// then drops the connection without the last chunk of the chunked transfer (and a
/// compressed body without the end of its gzip stream), so the client sees a failed
/// download, never a cut-off file that looks complete. The stream may be polled again after
/// it ended (the compression layer does), and answers `None` then.
pub fn streamed_attachment(
    content_type: &str,
    file_name: &str,
    first: Vec<u8>,
    rest: tokio::sync::mpsc::Receiver<Piece>,
) -> Response {
    use futures_util::StreamExt;
    let rest = futures_util::stream::unfold(Some(rest), |rx| async move {
        let mut rx = rx?;
        match rx.recv().await {
            Some(Piece::Bytes(b)) => Some((Ok(b), Some(rx))),
            Some(Piece::End) => None,
            Some(Piece::Failed(e)) => Some((Err(std::io::Error::other(e)), None)),
            None => Some((Err(std::io::Error::other("the download stopped before its end")), None)),
        }
    });
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(first) }).chain(rest).fuse();
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// Rows under their column names as a CSV (with BOM) or XLSX file to download, named
/// `{name}-{today}.csv|xlsx`.
pub async fn table_file(
    name: &str,
    format: ExportFormat,
    columns: &'static [&'static str],
    rows: Vec<Vec<String>>,
) -> Result<Response, StoreError> {
    let stamp = today().format("%Y-%m-%d").to_string();
    let name = format!("{name}-{stamp}");
    let io = |e: komlang_io::IoError| StoreError::Io(std::io::Error::other(e.to_string()));
    match format {
        ExportFormat::Csv => {
            let mut out = Vec::new();
            komlang_io::write_csv(&mut out, columns, rows.into_iter()).map_err(io)?;
            Ok(attachment(CSV_TYPE, &format!("{name}.csv"), out))
        }
        ExportFormat::Xlsx => {
            let bytes = tokio::task::spawn_blocking(move || {
                let mut out = std::io::Cursor::new(Vec::new());
                komlang_io::write_xlsx(&mut out, columns, rows.into_iter()).map(|_| out.into_inner())
            })
            .await
            .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))?
            .map_err(io)?;
            Ok(attachment(XLSX_TYPE, &format!("{name}.xlsx"), bytes))
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct FormatParam {
    #[serde(default)]
    pub format: String,
}

pub fn export_format(ctx: &Ctx, format: &str) -> Result<ExportFormat, PageError> {
    if format.trim().is_empty() {
        Ok(ExportFormat::Csv)
    } else {
        ExportFormat::parse(format).ok_or_else(|| ctx.not_found())
    }
}

/// A page's table as a file to download (a failure shown as the page's error).
pub async fn page_download(
    ctx: &Ctx,
    name: &str,
    format: ExportFormat,
    columns: &'static [&'static str],
    rows: Vec<Vec<String>>,
) -> Result<Response, PageError> {
    table_file(name, format, columns, rows).await.map_err(|e| super::extract::store_err(ctx, e))
}

pub async fn download(
    i: &I18n,
    name: &str,
    format: ExportFormat,
    columns: &'static [&'static str],
    rows: Vec<Vec<String>>,
) -> ApiResult<Response> {
    table_file(name, format, columns, rows).await.map_err(store(i))
}

/// `format=csv|xlsx`; None when absent.
pub fn format_param(v: &Option<String>) -> ApiResult<Option<ExportFormat>> {
    match v.non_blank() {
        None => Ok(None),
        Some(f) => ExportFormat::parse(f)
            .map(Some)
            .ok_or_else(|| bad_request(format!("unknown format `{f}`: use csv or xlsx"))),
    }
}
