//! Uploaded files, shared by the features that import them (workers, organizations and
//! population in `imports`, case lists in `caseloads`): the size limit of a body, reading a
//! multipart form and a raw API body, opening a CSV or XLSX file as a table within the server's
//! limits, and a file's problems in the user's language.

use axum::extract::Multipart;
use axum::http::StatusCode;
use komlang_io::ReadLimits;

use crate::common::{ApiError, ApiResult, I18n};
use crate::AppState;

/// Largest file accepted for an import.
pub const MAX_UPLOAD_MB: usize = 64;
pub const MAX_UPLOAD: usize = MAX_UPLOAD_MB * 1024 * 1024;

/// Why a file cannot be imported, as a sentence in the user's language.
pub fn io_error_text(i: &I18n, e: &komlang_io::IoError) -> String {
    use komlang_io::{IoError as E, Limit};
    match e {
        E::NotATable(_) => i.t("import.error_not_table"),
        E::Encoding { .. } => i.t("import.error_encoding"),
        E::Empty => i.t("import.error_empty"),
        E::TooLarge { limit, max, row } => {
            let max = if *limit == Limit::Unzipped { max / (1024 * 1024) } else { *max };
            let key = match limit {
                Limit::Rows => "import.error_limit_rows",
                Limit::CellsPerRow => "import.error_limit_cells",
                Limit::CellChars => "import.error_limit_chars",
                Limit::Unzipped => "import.error_limit_unzipped",
                Limit::ZipEntries => "import.error_limit_parts",
            };
            i.tp(key, &[("max", max.to_string()), ("row", row.unwrap_or_default().to_string())])
        }
        other => i.tp("import.error_read", &[("detail", other.to_string())]),
    }
}

/// Opens an uploaded file as a table reader, within `limits` (the server's
/// [`crate::WebConfig::upload_limits`]).
pub fn open_table_within(
    limits: &ReadLimits,
    name: &str,
    bytes: &[u8],
) -> Result<komlang_io::TableReader, komlang_io::IoError> {
    komlang_io::TableReader::from_bytes_with(name, bytes.to_vec(), *limits)
}

/// Reads every row of an uploaded file, keeping none: whether it can be read whole within
/// `limits` (so that a file past a limit is refused at once, the limit named).
pub fn check_table(limits: &ReadLimits, name: &str, bytes: &[u8]) -> Result<(), komlang_io::IoError> {
    for row in open_table_within(limits, name, bytes)? {
        row?;
    }
    Ok(())
}

/// The rows of a reader as the store's imports take them, a file that breaks further down
/// explained in the user's language.
pub fn store_rows_in(i: I18n, r: komlang_io::TableReader) -> impl Iterator<Item = Result<(u64, Vec<String>), String>> {
    r.map(move |row| row.map_err(|e| io_error_text(&i, &e)))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// An upload form as read: its text fields, its `file` (name and bytes), and whether a part
/// went past the body's limit (the fields after it are not read).
pub struct UploadForm {
    pub fields: std::collections::HashMap<String, String>,
    pub file: Option<(String, Vec<u8>)>,
    pub too_large: bool,
}

/// Reads a multipart form: every text field, and the part named `file`.
pub async fn read_upload_form(mp: &mut Multipart) -> UploadForm {
    let mut form = UploadForm { fields: Default::default(), file: None, too_large: false };
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or("").to_string();
                if name == "file" {
                    let file_name = field.file_name().unwrap_or("").to_string();
                    match field.bytes().await {
                        Ok(b) => form.file = Some((file_name, b.to_vec())),
                        Err(e) => {
                            form.too_large = e.status() == StatusCode::PAYLOAD_TOO_LARGE;
                            break;
                        }
                    }
                } else {
                    let text = field.text().await.unwrap_or_default();
                    form.fields.insert(name, text);
                }
            }
            Ok(None) => break,
            Err(e) => {
                form.too_large = e.status() == StatusCode::PAYLOAD_TOO_LARGE;
                break;
            }
        }
    }
    form
}

/// 413 for a file past a limit (the code names it: `too_many_rows`, `too_many_cells`,
/// `cell_too_long`, `unzips_too_large`, `too_many_parts`), 400 for a file that cannot be read.
pub fn bad_file(i: &I18n, e: &komlang_io::IoError) -> ApiError {
    match e {
        komlang_io::IoError::TooLarge { limit, .. } => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, limit.code(), io_error_text(i, e))
        }
        _ => ApiError::new(StatusCode::BAD_REQUEST, "bad_file", io_error_text(i, e)),
    }
}

/// The uploaded file: the raw body (`text/csv`, the XLSX type or
/// `application/octet-stream`), or the first file of a multipart form.
pub async fn uploaded_file(
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
pub async fn uploaded_table(
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
