//! `komlang backup --out FILE`, `komlang restore FILE` (docs/backup.md) and
//! `komlang export organizations --out FILE`.
//!
//! Exit codes: 0 done; 1 refused or failed (a target database that is not empty, a damaged
//! backup, one of a newer Komlang, the database unreachable); 2 when FILE is missing or is no
//! Komlang backup at all.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use komlang_core::FieldError;
use komlang_store::backup::{verify_backup, BackupError, BackupManifest, BackupOptions};
use komlang_store::{Store, ORG_COLUMNS};

use crate::{bad, redact, store_err, BadInput};

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The backup file to write (a zip; replaced when it exists, only once complete).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The backup file (written by `komlang backup`).
    pub file: PathBuf,
    /// Only check the file (checksums, row counts, versions) and print what it holds;
    /// no database is opened.
    #[arg(long)]
    pub check: bool,
}

#[derive(Args, Debug)]
pub struct ExportOrgsArgs {
    /// csv or xlsx (default: from the --out extension, else csv).
    #[arg(long)]
    pub format: Option<String>,
    /// The file to write (replaced when it exists).
    #[arg(long)]
    pub out: PathBuf,
    /// Export as this account (only the organizations it may see); default: every one.
    #[arg(long = "as", value_name = "USERNAME")]
    pub as_user: Option<String>,
}

/// The file of an `sqlite:` URL, when it names one.
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// A backup error as the command line reports it: a file that is missing or no backup at
/// all is bad input (exit 2).
fn backup_err(file: &Path, e: BackupError) -> anyhow::Error {
    match e {
        BackupError::NotABackup(_) => invalid_file(file, &e.to_string()),
        BackupError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => invalid_file(file, &io.to_string()),
        BackupError::Store(s) => store_err(s),
        other => anyhow::Error::new(other),
    }
}

fn invalid_file(file: &Path, message: &str) -> anyhow::Error {
    let message = if message.contains(&file.display().to_string()) {
        message.to_string()
    } else {
        format!("{}: {message}", file.display())
    };
    BadInput(vec![FieldError::new("file", "invalid_file").with("message", message)]).into()
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The tables and their row counts, one a line.
fn print_tables(tables: impl Iterator<Item = (String, u64)>) {
    for (name, rows) in tables {
        println!("  {name:<26} {:>12}", thousands(rows));
    }
}

fn describe(m: &BackupManifest) -> String {
    format!(
        "a backup of a {} database at schema version {}, taken {} by Komlang {} (format {}): {} tables, {} rows",
        m.engine,
        m.schema_version,
        m.created_at,
        m.komlang_version,
        m.format_version,
        m.tables.len(),
        thousands(m.total_rows())
    )
}

/// True when writing `out` would replace one of the files of the SQLite database at `db`.
fn is_database_file(db: &Path, out: &Path) -> bool {
    // `out` may not exist yet (a `-wal` file comes and goes): its directory does.
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let (Ok(db), Ok(dir), Some(name)) = (db.canonicalize(), dir.canonicalize(), out.file_name()) else {
        return false;
    };
    let out = dir.join(name);
    ["", "-wal", "-shm", "-journal", ".lock"].iter().any(|suffix| {
        let mut name = db.clone().into_os_string();
        name.push(suffix);
        name == out.as_os_str()
    })
}

pub async fn backup(url: &str, a: BackupArgs) -> Result<()> {
    if let Some(path) = sqlite_path(url) {
        if !path.exists() {
            anyhow::bail!("no database at {}", path.display());
        }
        if is_database_file(&path, &a.out) {
            anyhow::bail!("{} is a file of the database itself: write the backup elsewhere", a.out.display());
        }
    }
    let store = Store::connect(url).await.with_context(|| format!("cannot open the database {}", redact(url)))?;
    let started = std::time::Instant::now();
    let m = store
        .backup(&a.out, &BackupOptions::default())
        .await
        .with_context(|| format!("cannot back up {} to {}", redact(url), a.out.display()))?;
    store.close().await;
    let size = std::fs::metadata(&a.out).map(|m| m.len()).unwrap_or(0);
    println!("Backed up {} to {}:", redact(url), a.out.display());
    print_tables(m.tables.iter().map(|t| (t.name.clone(), t.rows)));
    println!(
        "{} tables, {} rows at one moment ({}), {} bytes, in {:.1} s. Not carried: {}.",
        m.tables.len(),
        thousands(m.total_rows()),
        m.created_at,
        thousands(size),
        started.elapsed().as_secs_f64(),
        m.not_carried.join(", ")
    );
    Ok(())
}

pub async fn restore(url: &str, a: RestoreArgs) -> Result<()> {
    if a.check {
        let file = a.file.clone();
        let m = tokio::task::spawn_blocking(move || verify_backup(&file)).await?.map_err(|e| backup_err(&a.file, e))?;
        println!("{} is {}; every checksum and count matches:", a.file.display(), describe(&m));
        print_tables(m.tables.iter().map(|t| (t.name.clone(), t.rows)));
        return Ok(());
    }
    if !a.file.exists() {
        return Err(invalid_file(&a.file, "no such file"));
    }
    let store = Store::connect(url).await.with_context(|| format!("cannot open the database {}", redact(url)))?;
    let started = std::time::Instant::now();
    let done = store.restore(&a.file).await;
    store.close().await;
    let s = done
        .map_err(|e| backup_err(&a.file, e))
        .with_context(|| format!("nothing was restored into {}", redact(url)))?;
    println!("Restored {} into {}:", describe(&s.manifest), redact(url));
    print_tables(s.tables.into_iter());
    println!(
        "Every table holds the backup's row count ({:.1} s). Sessions are not carried: everyone signs in again.",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub async fn export_orgs(url: &str, a: ExportOrgsArgs) -> Result<()> {
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
    let store = crate::open(url).await?;
    let p = match a.as_user.as_deref() {
        None => komlang_store::system_principal("cli"),
        Some(name) => {
            let user = store.user_by_name(name).await?.ok_or_else(|| bad("as", "unknown_user"))?;
            store.principal_for_user(user.id).await?.ok_or_else(|| bad("as", "unknown_user"))?
        }
    };
    // Organizations number in the thousands at most: read them, then write the file under a
    // temporary name, renamed when complete.
    let mut rows = Vec::new();
    let n = store
        .export_orgs(&p, |r| {
            rows.push(r);
            Ok(())
        })
        .await
        .map_err(store_err)?;
    let mut part = a.out.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let written = File::create(&part).map_err(anyhow::Error::from).and_then(|f| {
        let out = BufWriter::with_capacity(1 << 16, f);
        if format == "xlsx" {
            komlang_io::write_xlsx(out, ORG_COLUMNS, rows.into_iter())?;
        } else {
            komlang_io::write_csv(out, ORG_COLUMNS, rows.into_iter())?;
        }
        Ok(())
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&part, &a.out).map_err(anyhow::Error::from)) {
        let _ = std::fs::remove_file(&part);
        return Err(e.context(format!("cannot write {}", a.out.display())));
    }
    println!("Exported {n} organizations to {} ({format}).", a.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_with_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(192_343), "192,343");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn sqlite_files_of_urls() {
        assert_eq!(sqlite_path("sqlite:///var/lib/k.db?mode=rwc"), Some(PathBuf::from("/var/lib/k.db")));
        assert_eq!(sqlite_path("sqlite://k.db"), Some(PathBuf::from("k.db")));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://db/k"), None);
    }
}
