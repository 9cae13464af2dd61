//! Who imports which kind of file, and reading an uploaded file as a table.

use komlang_core::NonBlank;
use std::collections::{BTreeSet, HashMap};

use komlang_core::*;
use komlang_io::ReadLimits;
use komlang_store::StoreError;

pub use crate::common::uploads::{
    check_table, io_error_text, open_table_within, sha256_hex, store_rows_in, MAX_UPLOAD, MAX_UPLOAD_MB,
};
use crate::common::{store_err, Ctx, I18n, PageError};
use crate::AppState;

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

/// A file as a table: its headers and every data row (row number, cells).
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
}

/// Opens an uploaded file as a table reader, within the default upload limits.
pub fn open_table(name: &str, bytes: &[u8]) -> Result<komlang_io::TableReader, komlang_io::IoError> {
    open_table_within(&ReadLimits::default(), name, bytes)
}

/// The rows of a reader as the store's imports take them.
pub fn store_rows(r: komlang_io::TableReader) -> impl Iterator<Item = Result<(u64, Vec<String>), String>> {
    r.map(|row| row.map_err(|e| e.to_string()))
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
