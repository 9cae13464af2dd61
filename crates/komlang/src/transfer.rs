//! `komlang import workers|organizations|population FILE` and
//! `komlang export workers|organizations`: files in, files out, through the same store
//! calls as the web pages.
//!
//! Exit codes: 0 when every row was (or, with `--dry-run`, would be)
//! imported; 1 when a row is rejected (each printed with its row number,
//! column, value and reason) or something failed; 2 on bad input (a file
//! that is not CSV/XLSX, a missing required column, an unknown option value).

use komlang_core::NonBlank;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use komlang_core::import::{check_mapping, guess_mapping, ColumnMapping, RowError};
use komlang_core::{Cadre, EmploymentStatus, FieldError, Principal, Sector, WorkerRole};
use komlang_io::{ReadLimits, TableReader};
use komlang_store::{
    system_principal, DupDecision, DupTarget, ImportOptions, ImportReport, Store, WorkerImportOptions, WorkerQuery,
    EXPORT_COLUMNS,
};
use sha2::{Digest, Sha256};

use crate::{bad, open, store_err, BadInput};

#[derive(Subcommand, Debug)]
pub enum ImportCommand {
    /// Imports workers from a CSV (UTF-8) or XLSX file. Columns are recognized
    /// by their headers (Khmer or English) or a saved mapping. All or nothing
    /// unless --partial; duplicates of registered workers are reported and
    /// skipped unless --duplicates says otherwise.
    Workers(ImportWorkersArgs),
    /// Imports organizations (columns name_en, name_km, kind, registration_no,
    /// admin_code, phone, email); known registration numbers are skipped.
    Organizations(ImportTableArgs),
    /// Imports population figures (columns admin unit code, year, sex, age
    /// group, count), replacing stored figures. All or nothing.
    Population(ImportTableArgs),
}

#[derive(Args, Debug)]
pub struct ImportWorkersArgs {
    /// The file to import (.csv in UTF-8, or .xlsx).
    pub file: PathBuf,
    /// Check every row and report what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the valid rows even when some are rejected, and save the
    /// rejected ones beside the file as FILE.rejected.csv (with a reason column).
    #[arg(long)]
    pub partial: bool,
    /// Use the column mapping saved under this name.
    #[arg(long)]
    pub mapping: Option<String>,
    /// Save the column mapping used under this name.
    #[arg(long)]
    pub save_mapping: Option<String>,
    /// What to do with a row that duplicates a registered worker or an earlier
    /// row: skip, merge (the row updates the record, history kept) or keepboth.
    #[arg(long, default_value = "skip")]
    pub duplicates: String,
    /// Import as this account (its role and scope apply); default: the
    /// command line's national administrator.
    #[arg(long = "as", value_name = "USERNAME")]
    pub as_user: Option<String>,
}

#[derive(Args, Debug)]
pub struct ImportTableArgs {
    /// The file to import (.csv in UTF-8, or .xlsx).
    pub file: PathBuf,
    /// Check every row and report what would happen; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Organizations only: write the valid rows even when some are rejected.
    #[arg(long)]
    pub partial: bool,
    /// Import as this account; default: the command line's national administrator.
    #[arg(long = "as", value_name = "USERNAME")]
    pub as_user: Option<String>,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant, reason = "command-line arguments, parsed once per run")]
pub enum ExportCommand {
    /// Exports workers (every worker, or those matching the filters) to CSV
    /// (UTF-8 with BOM) or XLSX, in the shape `import workers` reads back.
    Workers(ExportWorkersArgs),
    /// Exports organizations to CSV (UTF-8 with BOM) or XLSX, in the shape
    /// `import organizations` reads back (import them before their workers).
    Organizations(crate::backup::ExportOrgsArgs),
}

#[derive(Args, Debug)]
pub struct ExportWorkersArgs {
    /// csv or xlsx (default: from the --out extension, else csv).
    #[arg(long)]
    pub format: Option<String>,
    /// The file to write (replaced when it exists).
    #[arg(long)]
    pub out: PathBuf,
    /// Province code, e.g. 12.
    #[arg(long)]
    pub province: Option<String>,
    /// District code, e.g. 1201.
    #[arg(long)]
    pub district: Option<String>,
    /// Commune code, e.g. 120101.
    #[arg(long)]
    pub commune: Option<String>,
    /// Cadre code, e.g. para_social_worker.
    #[arg(long)]
    pub cadre: Option<String>,
    /// Role code, e.g. ccwc_focal_point.
    #[arg(long)]
    pub role: Option<String>,
    /// Sector code: government, ngo, private or volunteer.
    #[arg(long)]
    pub sector: Option<String>,
    /// Status code, e.g. active.
    #[arg(long)]
    pub status: Option<String>,
    /// Organization id.
    #[arg(long)]
    pub org: Option<i64>,
    /// Search text (name, national ID, phone).
    #[arg(long)]
    pub q: Option<String>,
    /// Export as this account (only what it may see); default: everything.
    #[arg(long = "as", value_name = "USERNAME")]
    pub as_user: Option<String>,
}

/// Some rows were rejected: exit code 1.
#[derive(Debug)]
pub struct RowsRejected {
    pub rejected: usize,
    pub written: bool,
}

impl std::fmt::Display for RowsRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let rows = if self.rejected == 1 { "row" } else { "rows" };
        if self.written {
            write!(f, "{} {rows} rejected; the valid rows were imported", self.rejected)
        } else {
            write!(f, "{} {rows} rejected; nothing was written", self.rejected)
        }
    }
}

impl std::error::Error for RowsRejected {}

/// Rows read between two progress messages (`KOMLANG_PROGRESS_ROWS`, default 100,000).
fn progress_every() -> u64 {
    std::env::var("KOMLANG_PROGRESS_ROWS").ok().and_then(|v| v.parse().ok()).filter(|n| *n > 0).unwrap_or(100_000)
}

pub(crate) async fn principal(store: &Store, as_user: Option<&str>) -> Result<Principal> {
    let Some(name) = as_user else { return Ok(system_principal("cli")) };
    let user = store.user_by_name(name).await?.ok_or_else(|| bad("as", "unknown_user"))?;
    store.principal_for_user(user.id).await?.ok_or_else(|| bad("as", "unknown_user"))
}

/// Opens a file to read; a file that is missing or unreadable is bad input (exit 2).
fn open_file(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| {
        BadInput(vec![FieldError::new("file", "invalid_file").with("message", format!("{}: {e}", path.display()))])
            .into()
    })
}

/// SHA-256 of a file, read in chunks.
pub(crate) fn file_sha256(path: &Path) -> Result<String> {
    let mut f = open_file(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Opens a table file, refusing what is not CSV/XLSX with a message to act on. The
/// command line's limits are those of files its operator chooses
/// ([`ReadLimits::COMMAND_LINE`]: any number of CSV rows).
pub(crate) fn open_table(path: &Path) -> Result<TableReader> {
    let f = open_file(path)?;
    let limits = ReadLimits::COMMAND_LINE;
    TableReader::open_with(&file_name(path), BufReader::with_capacity(1 << 16, f), limits).map_err(|e| {
        BadInput(vec![FieldError::new("file", "invalid_file").with("message", format!("{}: {e}", path.display()))])
            .into()
    })
}

/// The rows of a table as the store reads them, with a progress message now and then.
pub(crate) fn rows_of(reader: TableReader) -> impl Iterator<Item = std::result::Result<(u64, Vec<String>), String>> {
    let every = progress_every();
    let mut n = 0u64;
    reader.map(move |r| {
        n += 1;
        if n.is_multiple_of(every) {
            tracing::info!(rows = n, "rows read");
        }
        r.map_err(|e| e.to_string())
    })
}

/// A readable English reason for a row error.
fn reason(e: &RowError) -> String {
    let why = match e.code.as_str() {
        "required" => "a value is required",
        "invalid_date" => "not a date (use 2024-03-01, 01/03/2024 or an Excel date)",
        "future_date" => "the date is in the future",
        "invalid_choice" => "not one of the accepted values",
        "invalid_number" => "not a number",
        "invalid_national_id" => "a national ID has 6 to 20 letters and digits",
        "invalid_phone" => "a phone number has 8 to 15 digits",
        "invalid_email" => "not an e-mail address",
        "invalid_latin_name" => "use Latin letters",
        "too_long" => "too long",
        "unknown_admin_unit" => "no administrative unit has this code",
        "unknown_organization" => "no organization (that you may name) has this name, registration number or id",
        "ambiguous_organization" => "several organizations have this name: use the registration number",
        "out_of_scope" => "outside your scope",
        "must_be_own_organization" => "you may only import your own organization's staff",
        "duplicate_national_id" => "another worker has this national ID",
        "age_out_of_range" => "the age is out of range",
        "end_before_start" => "the end date is before the start date",
        "end_date_not_allowed" => "only a worker who left has an end date",
        "before_birth" => "the date is before the date of birth",
        "invalid_year" => "a year from 1900 to 2100",
        "invalid_age_group" => "an age group is `total`, a range like `0-17` or `65+`",
        "duplicate_row" => "the same figure is on an earlier row",
        "duplicate_case" => "the same case id is on an earlier row",
        "too_many" => "too many values",
        other => return other.replace('_', " "),
    };
    why.to_string()
}

fn describe(e: &RowError) -> String {
    let mut s = String::new();
    if !e.column.is_empty() {
        s.push_str(&format!("column \"{}\"", e.column));
        if !e.field.is_empty() && e.field != e.column {
            s.push_str(&format!(" ({})", e.field));
        }
        s.push_str(&format!(", value \"{}\": ", e.value));
    } else if !e.field.is_empty() {
        s.push_str(&format!("{}: ", e.field));
    }
    s.push_str(&format!("{} ({})", e.code, reason(e)));
    s
}

/// Prints the rejected rows, the duplicates and the counts.
pub(crate) fn print_report(r: &ImportReport, kind: &str) {
    for rej in &r.rejected {
        for e in &rej.errors {
            println!("row {}: rejected: {}", rej.row, describe(e));
        }
    }
    if r.rejected_not_shown() > 0 {
        println!("{} more rejected rows not shown", r.rejected_not_shown());
    }
    for d in &r.duplicates {
        let target = match &d.target {
            DupTarget::Existing { worker_id, name_km, name_latin } => {
                format!("worker {worker_id} ({name_latin} / {name_km})")
            }
            DupTarget::Row(n) => format!("row {n}"),
        };
        let done = match d.decision {
            DupDecision::Skip => "skipped",
            DupDecision::Merge => "merged",
            DupDecision::KeepBoth => "kept as a new worker",
        };
        println!("row {}: duplicate of {target}: {} (score {}); {done}", d.row, d.explanation, d.score);
    }
    let outcome = if r.committed {
        format!("import {} committed", r.import_id.unwrap_or_default())
    } else if r.dry_run {
        "dry run: nothing was written".to_string()
    } else {
        "nothing was written".to_string()
    };
    println!(
        "{} {kind} rows: {} added, {} merged, {} duplicates skipped, {} rejected; {outcome}.",
        r.rows_total,
        r.added,
        r.merged,
        r.duplicates_skipped,
        r.rejected_total()
    );
}

/// The mapping saved for other headers, applied to these by header text.
fn apply_saved(saved_headers: &[String], saved: &ColumnMapping, headers: &[String]) -> ColumnMapping {
    ColumnMapping {
        columns: headers
            .iter()
            .map(|h| {
                saved_headers
                    .iter()
                    .position(|s| s.trim() == h.trim())
                    .and_then(|i| saved.columns.get(i).copied().flatten())
            })
            .collect(),
    }
}

/// Writes the rejected rows beside the input: the original cells plus a `reason` column.
fn write_rejected(path: &Path, headers: &[String], r: &ImportReport) -> Result<()> {
    let mut head: Vec<&str> = headers.iter().map(String::as_str).collect();
    head.push("reason");
    let rows = r.rejected.iter().map(|rej| {
        let mut cells = rej.cells.clone();
        cells.resize(headers.len().max(cells.len()), String::new());
        cells.truncate(headers.len());
        let reasons: Vec<String> = rej.errors.iter().map(describe).collect();
        cells.push(format!("row {}: {}", rej.row, reasons.join("; ")));
        cells
    });
    let out = BufWriter::new(File::create(path).with_context(|| format!("cannot write {}", path.display()))?);
    komlang_io::write_csv(out, &head, rows).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn rejected_path(file: &Path) -> PathBuf {
    let mut s = file.as_os_str().to_owned();
    s.push(".rejected.csv");
    PathBuf::from(s)
}

pub async fn import(url: &str, command: ImportCommand) -> Result<()> {
    let today = chrono::Local::now().date_naive();
    match command {
        ImportCommand::Workers(a) => {
            let default_decision =
                DupDecision::parse(&a.duplicates).ok_or_else(|| bad("duplicates", "invalid_choice"))?;
            let sha = file_sha256(&a.file)?;
            let reader = open_table(&a.file)?;
            let headers = reader.headers().to_vec();
            let store = open(url).await?;
            let p = principal(&store, a.as_user.as_deref()).await?;
            let mapping = match &a.mapping {
                Some(name) => {
                    let saved = store.mapping(name).await?.ok_or_else(|| bad("mapping", "unknown_mapping"))?;
                    apply_saved(&saved.headers, &saved.mapping, &headers)
                }
                None => guess_mapping(&headers),
            };
            for (h, f) in headers.iter().zip(&mapping.columns) {
                match f {
                    Some(f) => tracing::debug!(column = %h, field = f.code(), "mapped"),
                    None => println!("column \"{h}\" is not imported (no registry field recognized)"),
                }
            }
            if let Err(errs) = check_mapping(&mapping) {
                return Err(BadInput(errs.iter().map(|e| FieldError::new(e.field.code(), &e.code)).collect()).into());
            }
            if let Some(name) = &a.save_mapping {
                store.save_mapping(&p, name, &headers, &mapping).await.map_err(store_err)?;
                println!("Column mapping saved as \"{}\".", name.trim());
            }
            let opts = WorkerImportOptions {
                dry_run: a.dry_run,
                partial: a.partial,
                default_decision,
                file_name: file_name(&a.file),
                file_sha256: sha,
                ..Default::default()
            };
            let started = std::time::Instant::now();
            let r =
                store.import_workers(&p, &headers, rows_of(reader), &mapping, &opts, today).await.map_err(store_err)?;
            tracing::info!(rows = r.rows_total, elapsed_ms = started.elapsed().as_millis() as u64, "import done");
            print_report(&r, "worker");
            if !r.all_valid() {
                if a.partial && !a.dry_run {
                    let path = rejected_path(&a.file);
                    write_rejected(&path, &headers, &r)?;
                    saved_rejected(&path, &r);
                }
                return Err(RowsRejected { rejected: r.rejected_total() as usize, written: r.committed }.into());
            }
        }
        ImportCommand::Organizations(a) => {
            let (store, p, headers, reader, opts) = table_import(url, &a).await?;
            let r = store.import_orgs(&p, &headers, rows_of(reader), &opts).await.map_err(store_err)?;
            print_report(&r, "organization");
            finish_table(&a, &headers, &r)?;
        }
        ImportCommand::Population(a) => {
            let (store, p, headers, reader, opts) = table_import(url, &a).await?;
            let opts = ImportOptions { partial: false, ..opts };
            let r = store.import_population(&p, &headers, rows_of(reader), &opts).await.map_err(store_err)?;
            print_report(&r, "population");
            finish_table(&a, &headers, &r)?;
        }
    }
    Ok(())
}

async fn table_import(
    url: &str,
    a: &ImportTableArgs,
) -> Result<(Store, Principal, Vec<String>, TableReader, ImportOptions)> {
    let sha = file_sha256(&a.file)?;
    let reader = open_table(&a.file)?;
    let headers = reader.headers().to_vec();
    let store = open(url).await?;
    let p = principal(&store, a.as_user.as_deref()).await?;
    let opts = ImportOptions {
        dry_run: a.dry_run,
        partial: a.partial,
        file_name: file_name(&a.file),
        file_sha256: sha,
        ..Default::default()
    };
    Ok((store, p, headers, reader, opts))
}

/// Exit 1 when rows were refused (after the report is printed).
pub(crate) fn finish_rows(r: &ImportReport) -> Result<()> {
    if r.all_valid() {
        return Ok(());
    }
    Err(RowsRejected { rejected: r.rejected_total() as usize, written: r.committed }.into())
}

fn finish_table(a: &ImportTableArgs, headers: &[String], r: &ImportReport) -> Result<()> {
    if r.all_valid() {
        return Ok(());
    }
    if a.partial && r.committed {
        let path = rejected_path(&a.file);
        write_rejected(&path, headers, r)?;
        saved_rejected(&path, r);
    }
    Err(RowsRejected { rejected: r.rejected_total() as usize, written: r.committed }.into())
}

/// Says where the rejected rows went, and which are not there (past the report's limits).
fn saved_rejected(path: &Path, r: &ImportReport) {
    println!("Rejected rows saved to {}.", path.display());
    if r.rejected_not_shown() > 0 {
        println!(
            "It holds the first {} rejected rows; {} more are not in it: correct them in the original file and \
             import it again (the rows already imported are then skipped as duplicates).",
            r.rejected.len(),
            r.rejected_not_shown()
        );
    }
}

fn vocab<T>(field: &str, v: Option<String>, parse: fn(&str) -> Option<T>) -> Result<Option<T>> {
    match v.non_blank().map(String::from) {
        None => Ok(None),
        Some(s) => parse(&s).map(Some).ok_or_else(|| bad(field, "invalid_choice")),
    }
}

pub async fn export(url: &str, command: ExportCommand) -> Result<()> {
    let a = match command {
        ExportCommand::Workers(a) => a,
        ExportCommand::Organizations(a) => return crate::backup::export_orgs(url, a).await,
    };
    let format = match a.format.as_deref().map(str::to_ascii_lowercase) {
        Some(f) => f,
        None => {
            let ext = a.out.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
            if ext == "xlsx" {
                "xlsx".into()
            } else {
                "csv".into()
            }
        }
    };
    if format != "csv" && format != "xlsx" {
        return Err(bad("format", "invalid_choice"));
    }
    let q = WorkerQuery {
        q: a.q,
        province: a.province,
        district: a.district,
        commune: a.commune,
        cadre: vocab("cadre", a.cadre, Cadre::parse)?,
        sector: vocab("sector", a.sector, Sector::parse)?,
        status: vocab("status", a.status, EmploymentStatus::parse)?,
        role: vocab("role", a.role, WorkerRole::parse)?,
        org_id: a.org,
        ..Default::default()
    };
    let store = open(url).await?;
    let p = principal(&store, a.as_user.as_deref()).await?;

    // The file is written by a thread fed through a bounded channel, so that
    // rows stream from the database to the file without piling up; it is
    // written under a temporary name and renamed when complete.
    let mut part = a.out.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let file = File::create(&part).with_context(|| format!("cannot write {}", part.display()))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<String>>(4096);
    let xlsx = format == "xlsx";
    let writer = std::thread::spawn(move || {
        let out = BufWriter::with_capacity(1 << 16, file);
        if xlsx {
            komlang_io::write_xlsx(out, EXPORT_COLUMNS, rx.into_iter())
        } else {
            komlang_io::write_csv(out, EXPORT_COLUMNS, rx.into_iter())
        }
    });
    let sent = store
        .export_workers(&p, &q, |row| {
            tx.send(row).map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the file writer stopped"))
        })
        .await;
    drop(tx);
    let written = writer.join().map_err(|_| anyhow::anyhow!("the file writer panicked"))?;
    let result = match (sent, written) {
        (_, Err(e)) => Err(anyhow::Error::new(e).context(format!("cannot write {}", a.out.display()))),
        (Err(e), Ok(())) => Err(anyhow::Error::new(e)),
        (Ok(n), Ok(())) => Ok(n),
    };
    match result {
        Ok(n) => {
            std::fs::rename(&part, &a.out).with_context(|| format!("cannot write {}", a.out.display()))?;
            println!("Exported {n} workers to {} ({format}).", a.out.display());
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use komlang_core::import::ImportField;

    #[test]
    fn a_saved_mapping_follows_the_headers_wherever_they_are() {
        let saved_headers: Vec<String> = ["Name", "ឈ្មោះ", "Notes"].iter().map(|s| s.to_string()).collect();
        let saved = ColumnMapping { columns: vec![Some(ImportField::NameLatin), Some(ImportField::NameKm), None] };
        let headers: Vec<String> = ["ឈ្មោះ", "Other", " Name "].iter().map(|s| s.to_string()).collect();
        let m = apply_saved(&saved_headers, &saved, &headers);
        assert_eq!(m.columns, vec![Some(ImportField::NameKm), None, Some(ImportField::NameLatin)]);
    }

    #[test]
    fn rejected_rows_go_beside_the_file() {
        assert_eq!(rejected_path(Path::new("/data/staff.xlsx")), PathBuf::from("/data/staff.xlsx.rejected.csv"));
    }

    #[test]
    fn reasons_read_as_sentences() {
        let e = RowError {
            params: Default::default(),
            row: 3,
            column: "Date of birth".into(),
            field: "date_of_birth".into(),
            value: "31/02/1990".into(),
            code: "invalid_date".into(),
        };
        let d = describe(&e);
        assert!(d.starts_with("column \"Date of birth\" (date_of_birth), value \"31/02/1990\": invalid_date ("), "{d}");
        let e = RowError { column: String::new(), field: String::new(), code: "some_new_code".into(), ..e };
        assert_eq!(describe(&e), "some_new_code (some new code)");
    }
}
