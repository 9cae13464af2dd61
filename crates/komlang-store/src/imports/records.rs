//! Imports as records: the types every import reports with, the `imports`
//! table (one audited row per committed import), uploaded files kept in the
//! database, and saved column mappings.
//!
//! The imports themselves are in `imports/worker_import` (workers),
//! `organizations/org_import.rs` (organizations) and `planning/population.rs`
//! (population figures).

use std::collections::BTreeMap;

use komlang_core::dedup::DupReason;
use komlang_core::import::{ColumnMapping, RowError};
use komlang_core::Action;
use komlang_core::{FieldError, Principal, ValidationErrors};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::common::audit::record_audit;
use crate::{now_text, Page, Result, Store, StoreError};

/// What to do with a row that looks like a worker already in the registry
/// (or an earlier row of the same file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DupDecision {
    /// The row updates the record it duplicates: its non-empty cells replace
    /// the record's values; a change of posting or status is added to the
    /// record's history (nothing of either is lost).
    Merge,
    /// The row is written as a new worker. Refused (the row is rejected with
    /// `duplicate_national_id`) when both carry the same national ID.
    KeepBoth,
    /// The row is not written (the default).
    #[default]
    Skip,
}

impl DupDecision {
    pub fn code(self) -> &'static str {
        match self {
            DupDecision::Merge => "merge",
            DupDecision::KeepBoth => "keepboth",
            DupDecision::Skip => "skip",
        }
    }

    /// Parses `merge`, `keepboth` (also `keep_both`, `keep-both`) or `skip`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "merge" => Some(DupDecision::Merge),
            "keepboth" | "keep_both" | "keep-both" => Some(DupDecision::KeepBoth),
            "skip" => Some(DupDecision::Skip),
            _ => None,
        }
    }
}

/// How to run a worker import ([`Store::import_workers`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerImportOptions {
    /// Do everything, report what would happen, write nothing.
    pub dry_run: bool,
    /// Write the valid rows even when some are rejected (the default is all
    /// or nothing: one rejected row and nothing is written).
    pub partial: bool,
    /// Decision for the duplicate found at a row (by row number); rows not
    /// listed get [`WorkerImportOptions::default_decision`].
    pub decisions: BTreeMap<u64, DupDecision>,
    pub default_decision: DupDecision,
    /// Name of the imported file, as the user gave it (recorded with the import).
    pub file_name: String,
    /// SHA-256 of the file, lowercase hex (recorded with the import); see [`sha256_hex`].
    pub file_sha256: String,
    /// How much of the rejected rows the report keeps.
    #[serde(default)]
    pub report: ReportLimits,
}

/// How to run an organization or population import.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOptions {
    pub dry_run: bool,
    /// Organizations only: write the valid rows even when some are rejected.
    /// Population figures are always all or nothing.
    pub partial: bool,
    pub file_name: String,
    pub file_sha256: String,
    /// How much of the rejected rows the report keeps.
    #[serde(default)]
    pub report: ReportLimits,
}

/// How much of the rejected rows a report keeps: the report of a file of many bad rows,
/// each echoing its cells, must not take the memory (and make the answer) of the whole
/// file again. The counts are always exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportLimits {
    /// Rejected rows kept in full (their cells and errors): the first ones, by row number.
    pub rows: usize,
    /// Characters of one echoed text (a cell, a value, a column's header); longer ones are
    /// cut and end in `…`.
    pub chars: usize,
    /// Bytes of echoed text the rows kept may hold together (fewer rows are kept past it).
    pub bytes: usize,
}

impl ReportLimits {
    /// The report of every import: the first 1,000 rejected rows, texts cut at 500
    /// characters (more than any field holds), 4 MiB of them at most.
    pub const DEFAULT: ReportLimits = ReportLimits { rows: 1_000, chars: 500, bytes: 4 * 1024 * 1024 };
}

impl Default for ReportLimits {
    fn default() -> Self {
        ReportLimits::DEFAULT
    }
}

/// `s` cut to `max` characters, ending in `…` when it was longer.
fn cut(s: &mut String, max: usize) {
    if let Some((at, _)) = s.char_indices().nth(max) {
        s.truncate(at);
        s.push('…');
    }
}

/// The rejected rows of an import as they come (in any order): counted, each cut to the
/// limits, and the first ones by row number kept within them.
#[derive(Debug, Default)]
pub(crate) struct RejectedRows {
    limits: ReportLimits,
    kept: BTreeMap<u64, (RejectedRow, usize)>,
    bytes: usize,
    count: u64,
}

impl RejectedRows {
    pub(crate) fn new(limits: ReportLimits) -> Self {
        RejectedRows { limits, ..Default::default() }
    }

    pub(crate) fn push(&mut self, mut r: RejectedRow) {
        self.count += 1;
        let max = self.limits.chars;
        let mut size = 0;
        for c in &mut r.cells {
            cut(c, max);
            size += c.len();
        }
        for e in &mut r.errors {
            cut(&mut e.value, max);
            cut(&mut e.column, max);
            for v in e.params.values_mut() {
                cut(v, max);
            }
            size += e.value.len() + e.column.len() + e.params.values().map(String::len).sum::<usize>();
        }
        self.bytes += size;
        if let Some((_, old)) = self.kept.insert(r.row, (r, size)) {
            self.bytes -= old;
        }
        while self.kept.len() > self.limits.rows.max(1) || (self.bytes > self.limits.bytes && self.kept.len() > 1) {
            if let Some((_, (_, size))) = self.kept.pop_last() {
                self.bytes -= size;
            }
        }
    }

    /// Takes in the rows another list counted (a batch read beside the import's work).
    pub(crate) fn merge(&mut self, other: RejectedRows) {
        self.count += other.count - other.kept.len() as u64;
        for (_, (r, _)) in other.kept {
            self.push(r);
        }
    }

    /// Puts the rows kept (in row order) and the count into the report.
    pub(crate) fn finish(self, report: &mut ImportReport) {
        report.rejected_count = self.count;
        report.rejected = self.kept.into_values().map(|(r, _)| r).collect();
    }
}

/// A row that was not imported, with its cells as read and every problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedRow {
    /// Row number as a spreadsheet program shows it (the header is row 1).
    pub row: u64,
    pub cells: Vec<String>,
    pub errors: Vec<RowError>,
}

/// What a row duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DupTarget {
    /// A worker already in the registry (and in the caller's scope).
    Existing { worker_id: i64, name_km: String, name_latin: String },
    /// An earlier row of the same file (its row number).
    Row(u64),
}

/// A row that looks like a worker already in the registry or an earlier row
/// of the file: the best match, why, and what was done with the row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DuplicateFound {
    pub row: u64,
    pub target: DupTarget,
    /// 0 to 100; always 100 for the same national ID.
    pub score: u8,
    pub reasons: Vec<DupReason>,
    /// In English, e.g. "same date of birth, names 92% alike".
    pub explanation: String,
    pub decision: DupDecision,
}

/// What an import did (or, for a dry run or an import that was rolled back,
/// would have done).
///
/// Counts are over the file's non-empty rows: every row is exactly one of
/// added, merged, skipped as a duplicate, or rejected. For organizations,
/// `duplicates_skipped` counts rows whose registration number is already
/// known; for population figures, `merged` counts figures that replaced a
/// stored one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    /// Id of the `imports` row; None unless committed.
    pub import_id: Option<i64>,
    /// True when the rows were written.
    pub committed: bool,
    pub dry_run: bool,
    /// The file's header row, so rejected rows can be given back under it.
    #[serde(default)]
    pub headers: Vec<String>,
    /// Non-empty rows read.
    pub rows_total: u64,
    /// Rows written as new records (including rows kept beside a duplicate).
    pub added: u64,
    /// Rows merged into the record they duplicate.
    pub merged: u64,
    /// Duplicate rows skipped.
    pub duplicates_skipped: u64,
    /// The rejected rows, in file order: the first ones, within [`ReportLimits`] (their texts
    /// cut to its length); [`ImportReport::rejected_count`] counts them all.
    pub rejected: Vec<RejectedRow>,
    /// Rows rejected, all of them (also those not in `rejected`).
    #[serde(default)]
    pub rejected_count: u64,
    /// Every duplicate found, in file order (at most one per row: the best match).
    pub duplicates: Vec<DuplicateFound>,
}

impl ImportReport {
    /// True when no row was rejected.
    pub fn all_valid(&self) -> bool {
        self.rejected_total() == 0
    }

    /// Rows rejected (reports stored before the count was kept listed every one).
    pub fn rejected_total(&self) -> u64 {
        self.rejected_count.max(self.rejected.len() as u64)
    }

    /// Rejected rows counted but not listed in [`ImportReport::rejected`].
    pub fn rejected_not_shown(&self) -> u64 {
        self.rejected_total() - self.rejected.len() as u64
    }
}

/// How many duplicates the stored copy of a report keeps (the counts are
/// always exact; the rejected rows are those of the report, within [`ReportLimits`]).
pub const STORED_REPORT_LIMIT: usize = 1000;

/// The kinds of import.
pub const IMPORT_KINDS: &[&str] = &["workers", "organizations", "population", "caseload"];

/// One committed import, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportSummary {
    pub id: i64,
    /// RFC 3339, UTC.
    pub at: String,
    pub user_id: Option<i64>,
    pub username: String,
    /// `workers`, `organizations` or `population`.
    pub kind: String,
    pub file_name: String,
    pub file_sha256: String,
    /// `all_or_nothing` or `partial`.
    pub mode: String,
    pub rows_total: i64,
    pub rows_added: i64,
    pub rows_merged: i64,
    pub rows_duplicate_skipped: i64,
    pub rows_rejected: i64,
}

/// One committed import with its report (every rejected row; at most
/// [`STORED_REPORT_LIMIT`] duplicates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRecord {
    #[serde(flatten)]
    pub summary: ImportSummary,
    pub report: Option<ImportReport>,
}

/// An uploaded file kept for an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportFileMeta {
    pub id: i64,
    pub created_at: String,
    pub user_id: Option<i64>,
    pub username: String,
    pub file_name: String,
    pub sha256: String,
    pub size: i64,
}

/// A saved column mapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedMapping {
    pub name: String,
    /// The headers of the file the mapping was made for.
    pub headers: Vec<String>,
    pub mapping: ColumnMapping,
    pub created_by: String,
    pub created_at: String,
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// True when the principal may import (and so upload files and save mappings).
pub(crate) fn may_import(p: &Principal) -> bool {
    [Action::ImportWorkers, Action::ImportOrgs, Action::ImportPopulation].into_iter().any(|a| p.may(a))
}

/// What the audit entry of an import records.
#[derive(Serialize)]
struct ImportAudit<'a> {
    kind: &'a str,
    file_name: &'a str,
    file_sha256: &'a str,
    mode: &'a str,
    rows_total: u64,
    added: u64,
    merged: u64,
    duplicates_skipped: u64,
    rejected: u64,
}

/// What an `imports` row says of the import besides its counts.
pub(crate) struct ImportHead<'a> {
    pub kind: &'a str,
    pub file_name: &'a str,
    pub file_sha256: &'a str,
    pub partial: bool,
}

impl ImportHead<'_> {
    fn mode(&self) -> &'static str {
        if self.partial {
            "partial"
        } else {
            "all_or_nothing"
        }
    }
}

/// Inserts the `imports` row of an import that is starting (in its transaction).
pub(crate) async fn begin_import_row(conn: &mut AnyConnection, p: &Principal, h: &ImportHead<'_>) -> Result<i64> {
    let (kind, file_name, file_sha256) = (h.kind, h.file_name, h.file_sha256);
    let row = sqlx::query(
        "INSERT INTO imports (at, user_id, username, kind, file_name, file_sha256, mode) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(now_text())
    .bind(if p.user_id > 0 { Some(p.user_id) } else { None })
    .bind(&p.username)
    .bind(kind)
    .bind(file_name)
    .bind(file_sha256)
    .bind(h.mode())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}

/// Completes the `imports` row with the counts and the report, and writes the
/// audit entry (in the import's transaction).
pub(crate) async fn finish_import_row(
    conn: &mut AnyConnection,
    p: &Principal,
    id: i64,
    h: &ImportHead<'_>,
    report: &ImportReport,
) -> Result<()> {
    let mut stored = report.clone();
    stored.import_id = Some(id);
    stored.committed = true;
    stored.duplicates.truncate(STORED_REPORT_LIMIT);
    let json = to_json(&stored)?;
    let rejected = report.rejected_total();
    sqlx::query(
        "UPDATE imports SET rows_total = $1, rows_added = $2, rows_merged = $3, rows_duplicate_skipped = $4, \
         rows_rejected = $5, report_json = $6 WHERE id = $7",
    )
    .bind(report.rows_total as i64)
    .bind(report.added as i64)
    .bind(report.merged as i64)
    .bind(report.duplicates_skipped as i64)
    .bind(rejected as i64)
    .bind(json)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    let audit = ImportAudit {
        kind: h.kind,
        file_name: h.file_name,
        file_sha256: h.file_sha256,
        mode: h.mode(),
        rows_total: report.rows_total,
        added: report.added,
        merged: report.merged,
        duplicates_skipped: report.duplicates_skipped,
        rejected,
    };
    record_audit(&mut *conn, p, "import", "import", &id.to_string(), None, Some(&audit)).await
}

const SUMMARY_COLS: &str = "id, at, user_id, username, kind, file_name, file_sha256, mode, rows_total, rows_added, \
    rows_merged, rows_duplicate_skipped, rows_rejected";

fn summary_from_row(r: &AnyRow) -> Result<ImportSummary> {
    Ok(ImportSummary {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        user_id: r.try_get("user_id")?,
        username: r.try_get("username")?,
        kind: r.try_get("kind")?,
        file_name: r.try_get("file_name")?,
        file_sha256: r.try_get("file_sha256")?,
        mode: r.try_get("mode")?,
        rows_total: r.try_get("rows_total")?,
        rows_added: r.try_get("rows_added")?,
        rows_merged: r.try_get("rows_merged")?,
        rows_duplicate_skipped: r.try_get("rows_duplicate_skipped")?,
        rows_rejected: r.try_get("rows_rejected")?,
    })
}

const FILE_META_COLS: &str = "id, created_at, user_id, username, file_name, sha256, size";

fn file_meta_from_row(r: &AnyRow) -> Result<ImportFileMeta> {
    Ok(ImportFileMeta {
        id: r.try_get("id")?,
        created_at: r.try_get("created_at")?,
        user_id: r.try_get("user_id")?,
        username: r.try_get("username")?,
        file_name: r.try_get("file_name")?,
        sha256: r.try_get("sha256")?,
        size: r.try_get("size")?,
    })
}

/// Longest name of a saved mapping.
pub const MAPPING_NAME_MAX: usize = 100;

impl Store {
    /// Committed imports, newest first, 50 a page: every import for national
    /// administrators, one's own imports for everyone else.
    pub async fn list_imports(&self, p: &Principal, page: i64) -> Result<Page<ImportSummary>> {
        let all = p.may(Action::ReadAllImports);
        let per_page = 50;
        let page = page.max(1);
        let count = if all {
            sqlx::query("SELECT COUNT(*) FROM imports")
        } else {
            sqlx::query("SELECT COUNT(*) FROM imports WHERE user_id = $1").bind(p.user_id)
        };
        let total: i64 = count.fetch_one(&self.pool).await?.try_get(0)?;
        let filter = if all { "" } else { " WHERE user_id = $3" };
        let text = format!("SELECT {SUMMARY_COLS} FROM imports{filter} ORDER BY id DESC LIMIT $1 OFFSET $2");
        let rows = sqlx::query(&text).bind(per_page).bind(crate::common::sql::offset(page, per_page));
        let rows = if all { rows } else { rows.bind(p.user_id) };
        let rows = rows.fetch_all(&self.pool).await?;
        Ok(Page {
            items: rows.iter().map(summary_from_row).collect::<Result<_>>()?,
            total,
            total_is_lower_bound: false,
            page,
            per_page,
        })
    }

    /// One committed import with its report (None when absent or not the
    /// caller's to see).
    pub async fn get_import(&self, p: &Principal, id: i64) -> Result<Option<ImportRecord>> {
        let row = sqlx::query(&format!("SELECT {SUMMARY_COLS}, report_json FROM imports WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let summary = summary_from_row(&row)?;
        if !p.may(Action::ReadAllImports) && (p.user_id <= 0 || summary.user_id != Some(p.user_id)) {
            return Ok(None);
        }
        let json: Option<String> = row.try_get("report_json")?;
        let report = json.and_then(|j| serde_json::from_str(&j).ok());
        Ok(Some(ImportRecord { summary, report }))
    }

    /// Keeps an uploaded file in the database (so that every app server sees
    /// it) and returns its id.
    pub async fn save_import_file(&self, p: &Principal, file_name: &str, bytes: &[u8]) -> Result<i64> {
        if !may_import(p) {
            return Err(StoreError::Forbidden);
        }
        let row = sqlx::query(
            "INSERT INTO import_files (created_at, user_id, username, file_name, sha256, size, bytes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(now_text())
        .bind(if p.user_id > 0 { Some(p.user_id) } else { None })
        .bind(&p.username)
        .bind(file_name)
        .bind(sha256_hex(bytes))
        .bind(bytes.len() as i64)
        .bind(bytes)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// An uploaded file and its bytes, for its uploader or a national
    /// administrator (None otherwise, or when absent).
    pub async fn import_file(&self, p: &Principal, id: i64) -> Result<Option<(ImportFileMeta, Vec<u8>)>> {
        let row = sqlx::query(&format!("SELECT {FILE_META_COLS}, bytes FROM import_files WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let meta = file_meta_from_row(&row)?;
        if !self.may_see_file(p, &meta) {
            return Ok(None);
        }
        Ok(Some((meta, row.try_get("bytes")?)))
    }

    fn may_see_file(&self, p: &Principal, meta: &ImportFileMeta) -> bool {
        if p.may(Action::ReadAllImports) {
            return true;
        }
        match meta.user_id {
            Some(u) => p.user_id > 0 && u == p.user_id,
            None => p.user_id <= 0 && meta.username == p.username,
        }
    }

    /// Deletes an uploaded file (its uploader or a national administrator).
    pub async fn delete_import_file(&self, p: &Principal, id: i64) -> Result<()> {
        let row = sqlx::query(&format!("SELECT {FILE_META_COLS} FROM import_files WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) if self.may_see_file(p, &file_meta_from_row(&r)?) => {
                sqlx::query("DELETE FROM import_files WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(())
            }
            _ => Err(StoreError::NotFound),
        }
    }

    /// Deletes uploaded files created before `before` (RFC 3339); returns how many.
    pub async fn purge_import_files(&self, before: &str) -> Result<u64> {
        let r = sqlx::query("DELETE FROM import_files WHERE created_at < $1").bind(before).execute(&self.pool).await?;
        Ok(r.rows_affected())
    }

    /// Saves a column mapping under `name` for the next file from the same
    /// source (replacing a mapping of that name).
    pub async fn save_mapping(
        &self,
        p: &Principal,
        name: &str,
        headers: &[String],
        mapping: &ColumnMapping,
    ) -> Result<()> {
        if !may_import(p) {
            return Err(StoreError::Forbidden);
        }
        let name = name.trim();
        if name.is_empty() {
            return Err(ValidationErrors::single(FieldError::new("name", "required")).into());
        }
        if name.chars().count() > MAPPING_NAME_MAX || name.chars().any(|c| c.is_control()) {
            return Err(
                ValidationErrors::single(FieldError::new("name", "too_long").with("max", MAPPING_NAME_MAX)).into()
            );
        }
        sqlx::query(
            "INSERT INTO import_mappings (name, headers_json, mapping_json, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET headers_json = excluded.headers_json, \
             mapping_json = excluded.mapping_json, created_by = excluded.created_by, created_at = excluded.created_at",
        )
        .bind(name)
        .bind(to_json(headers)?)
        .bind(to_json(mapping)?)
        .bind(&p.username)
        .bind(now_text())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every saved mapping, by name.
    pub async fn mappings(&self) -> Result<Vec<SavedMapping>> {
        let rows = sqlx::query(
            "SELECT name, headers_json, mapping_json, created_by, created_at FROM import_mappings ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(mapping_from_row).collect()
    }

    /// The saved mapping called `name`.
    pub async fn mapping(&self, name: &str) -> Result<Option<SavedMapping>> {
        let row = sqlx::query(
            "SELECT name, headers_json, mapping_json, created_by, created_at FROM import_mappings WHERE name = $1",
        )
        .bind(name.trim())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(mapping_from_row).transpose()
    }
}

fn mapping_from_row(r: &AnyRow) -> Result<SavedMapping> {
    let headers: String = r.try_get("headers_json")?;
    let mapping: String = r.try_get("mapping_json")?;
    let bad = |e: serde_json::Error| StoreError::Corrupt(format!("saved mapping: {e}"));
    Ok(SavedMapping {
        name: r.try_get("name")?,
        headers: serde_json::from_str(&headers).map_err(bad)?,
        mapping: serde_json::from_str(&mapping).map_err(bad)?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

pub(crate) fn to_json<T: Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The column of each wanted field, recognized by header: its code or one
/// of its aliases, compared with [`komlang_core::import::match_key`] (case,
/// spaces, punctuation and Khmer digits do not matter). The first matching
/// column wins.
pub(crate) fn find_columns(headers: &[String], wanted: &[(&str, &[&str])]) -> Vec<Option<usize>> {
    use komlang_core::import::match_key;
    let keys: Vec<String> = headers.iter().map(|h| match_key(h)).collect();
    wanted
        .iter()
        .map(|(code, aliases)| {
            let names: Vec<String> = std::iter::once(*code).chain(aliases.iter().copied()).map(match_key).collect();
            keys.iter().position(|k| !k.is_empty() && names.contains(k))
        })
        .collect()
}

/// The `invalid_file` error of a file that cannot be read further.
pub(crate) fn file_error(message: String) -> StoreError {
    StoreError::Invalid(ValidationErrors::single(FieldError::new("file", "invalid_file").with("message", message)))
}

/// The cell of a row in column `col`, trimmed (empty when absent).
pub(crate) fn cell(cells: &[String], col: Option<usize>) -> &str {
    col.and_then(|i| cells.get(i)).map(|s| s.trim()).unwrap_or("")
}
