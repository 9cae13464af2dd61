//! Who imports which kind of file, and reading an uploaded file as a table.

use komlang_core::NonBlank;
use std::collections::{BTreeSet, HashMap};

use komlang_core::*;
use komlang_io::ReadLimits;
use komlang_store::StoreError;

use crate::common::{store_err, Ctx, I18n, PageError};
use crate::AppState;

/// Largest file accepted for an import.
pub const MAX_UPLOAD_MB: usize = 64;

pub const MAX_UPLOAD: usize = MAX_UPLOAD_MB * 1024 * 1024;

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Workers,
    Organizations,
    Population,
}

impl ImportKind {
    pub const ALL: [ImportKind; 3] = [ImportKind::Workers, ImportKind::Organizations, ImportKind::Population];

    pub fn code(self) -> &'static str {
        match self {
            ImportKind::Workers => "workers",
            ImportKind::Organizations => "organizations",
            ImportKind::Population => "population",
        }
    }

    pub fn parse(s: &str) -> Option<ImportKind> {
        ImportKind::ALL.into_iter().find(|k| k.code() == s.trim())
    }

    pub fn label(self, i: &I18n) -> String {
        i.code_label("import_kind", self.code())
    }

    /// The action of importing this kind of file (`docs/access.md`): workers are imported by
    /// whoever adds workers, organizations by whoever adds organizations (each row inside the
    /// importer's scope), population figures by national administrators.
    pub fn action(self) -> Action {
        match self {
            ImportKind::Workers => Action::ImportWorkers,
            ImportKind::Organizations => Action::ImportOrgs,
            ImportKind::Population => Action::ImportPopulation,
        }
    }

    pub fn allowed(self, p: &Principal) -> bool {
        p.may(self.action())
    }
}

pub(super) fn kind_of(ctx: &Ctx, p: &Principal, s: Option<&String>) -> Result<ImportKind, PageError> {
    let k = match s.non_blank() {
        None => ImportKind::Workers,
        Some(s) => ImportKind::parse(s).ok_or_else(|| ctx.not_found())?,
    };
    if k.allowed(p) {
        Ok(k)
    } else {
        Err(ctx.forbidden())
    }
}

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

/// A file as a table: its headers and every data row (row number, cells).
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Opens an uploaded file as a table reader, within the default upload limits.
pub fn open_table(name: &str, bytes: &[u8]) -> Result<komlang_io::TableReader, komlang_io::IoError> {
    open_table_within(&ReadLimits::default(), name, bytes)
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

/// The rows of a reader as the store's imports take them.
pub fn store_rows(r: komlang_io::TableReader) -> impl Iterator<Item = Result<(u64, Vec<String>), String>> {
    r.map(|row| row.map_err(|e| e.to_string()))
}

/// The rows of a reader as the store's imports take them, a file that breaks further down
/// explained in the user's language.
pub fn store_rows_in(i: I18n, r: komlang_io::TableReader) -> impl Iterator<Item = Result<(u64, Vec<String>), String>> {
    r.map(move |row| row.map_err(|e| io_error_text(&i, &e)))
}

/// The headers and the first `limit` data rows (all with `None`), within the default limits.
pub fn read_table(name: &str, bytes: &[u8], limit: Option<usize>) -> Result<Table, komlang_io::IoError> {
    read_table_within(&ReadLimits::default(), name, bytes, limit)
}

/// The headers and the first `limit` data rows (all with `None`), within `limits`.
pub fn read_table_within(
    limits: &ReadLimits,
    name: &str,
    bytes: &[u8],
    limit: Option<usize>,
) -> Result<Table, komlang_io::IoError> {
    let mut r = open_table_within(limits, name, bytes)?;
    let headers = r.headers().to_vec();
    let mut rows = Vec::new();
    for row in r.by_ref() {
        if limit.is_some_and(|n| rows.len() >= n) {
            break;
        }
        rows.push(row?);
    }
    Ok(Table { headers, rows })
}

/// The cells of the given rows of a file.
pub(super) fn rows_by_number(
    limits: &ReadLimits,
    name: &str,
    bytes: &[u8],
    wanted: &BTreeSet<u64>,
) -> HashMap<u64, Vec<String>> {
    let mut out = HashMap::new();
    if wanted.is_empty() {
        return out;
    }
    if let Ok(mut r) = open_table_within(limits, name, bytes) {
        for (n, cells) in r.by_ref().flatten() {
            if wanted.contains(&n) {
                out.insert(n, cells);
                if out.len() == wanted.len() {
                    break;
                }
            }
        }
    }
    out
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

pub(super) struct LoadedFile {
    pub(super) name: String,
    pub(super) bytes: Vec<u8>,
    pub(super) sha256: String,
}

pub(super) async fn load_file(app: &AppState, ctx: &Ctx, p: &Principal, id: i64) -> Result<LoadedFile, PageError> {
    match app.store.import_file(p, id).await {
        Ok(Some((meta, bytes))) => Ok(LoadedFile { name: meta.file_name, bytes, sha256: meta.sha256 }),
        Ok(None) | Err(StoreError::NotFound) => Err(ctx.not_found()),
        Err(e) => Err(store_err(ctx, e)),
    }
}
