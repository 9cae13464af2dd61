//! `komlang training`: licences about to expire (for reminder jobs), certificate verification,
//! exports of training events and licences, and the licensing rules. Acts as the command
//! line's national administrator.

use komlang_core::NonBlank;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::NaiveDate;
use clap::{Subcommand, ValueEnum};
use komlang_core::training::{normalize_number, LicenceStatus, NumberKind};
use komlang_core::FieldError;
use komlang_store::{
    system_principal, CertificateQuery, EventQuery, LicenceQuery, CERTIFICATE_EXPORT_COLUMNS, EVENT_EXPORT_COLUMNS,
    LICENCE_EXPORT_COLUMNS,
};

use crate::{bad, open, store_err, BadInput};

#[derive(Subcommand, Debug)]
pub enum TrainingCommand {
    /// Lists the active licences expiring within N days, soonest first (a table; or, with
    /// --out or --format csv, the licence export columns).
    LicencesExpiring {
        /// Days from today.
        #[arg(long)]
        days: u32,
        /// csv or xlsx (default: from the --out extension; without --out, a table on stdout).
        #[arg(long)]
        format: Option<String>,
        /// Write the list to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Verifies a certificate number. Exit code 0: valid; 1: revoked; 2: no such certificate.
    Verify {
        /// The number printed on the certificate, e.g. C-7K2M-Q9XD-4HTR-5.
        number: String,
    },
    /// Exports training events (one row per participant), the certificate register or licences
    /// to a CSV or XLSX file.
    Export {
        /// events, certificates or licences.
        #[arg(value_enum)]
        table: ExportTable,
        /// csv or xlsx (default: from the --out extension, else csv).
        #[arg(long)]
        format: Option<String>,
        /// The file to write (replaced when it exists).
        #[arg(long)]
        out: PathBuf,
        /// Events: ending on or after this date; certificates: issued on or after it (YYYY-MM-DD).
        #[arg(long)]
        from: Option<String>,
        /// Events: starting on or before this date; certificates: issued on or before it (YYYY-MM-DD).
        #[arg(long)]
        to: Option<String>,
        /// Events: province, district or commune code of the place.
        #[arg(long)]
        place: Option<String>,
        /// Licences: applied, active, rejected, suspended, lapsed or revoked.
        #[arg(long)]
        status: Option<String>,
    },
    /// Prints the licensing rules; with --term-years or --ce-hours, changes them first.
    Rules {
        /// Years a licence (or a renewal) is valid: 1 to 10.
        #[arg(long)]
        term_years: Option<i64>,
        /// Continuing-education hours needed in a term to renew: 0 to 1000.
        #[arg(long)]
        ce_hours: Option<i64>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportTable {
    Events,
    Certificates,
    Licences,
}

/// A certificate that was revoked: exit code 1.
#[derive(Debug)]
pub struct Revoked(pub String);

impl std::fmt::Display for Revoked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Revoked {}

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

/// `csv` or `xlsx`: the option, else the file's extension, else csv.
fn file_format(format: Option<&str>, out: Option<&Path>) -> Result<&'static str> {
    let f = match format {
        Some(f) => f.trim().to_ascii_lowercase(),
        None => match out.and_then(|o| o.extension()) {
            Some(e) if e.eq_ignore_ascii_case("xlsx") => "xlsx".into(),
            _ => "csv".into(),
        },
    };
    match f.as_str() {
        "csv" => Ok("csv"),
        "xlsx" => Ok("xlsx"),
        _ => Err(bad("format", "invalid_choice")),
    }
}

/// Writes rows under their columns to `out` (under a temporary name, renamed when complete).
fn write_file(out: &Path, format: &str, columns: &[&str], rows: Vec<Vec<String>>) -> Result<()> {
    let mut part = out.as_os_str().to_owned();
    part.push(".part");
    let part = PathBuf::from(part);
    let file = File::create(&part).with_context(|| format!("cannot write {}", part.display()))?;
    let w = BufWriter::new(file);
    let written = if format == "xlsx" {
        komlang_io::write_xlsx(w, columns, rows.into_iter())
    } else {
        komlang_io::write_csv(w, columns, rows.into_iter())
    };
    if let Err(e) = written {
        let _ = std::fs::remove_file(&part);
        return Err(anyhow::anyhow!("cannot write {}: {e}", out.display()));
    }
    std::fs::rename(&part, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}

fn date_arg(field: &str, v: Option<String>) -> Result<Option<NaiveDate>> {
    match v.non_blank() {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| BadInput(vec![FieldError::new(field, "invalid_date").with("value", s)]).into()),
    }
}

fn print_rows(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(headers.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

pub async fn run(url: &str, command: TrainingCommand) -> Result<()> {
    let store = open(url).await?;
    let p = system_principal("cli");
    let today = today();
    match command {
        TrainingCommand::LicencesExpiring { days, format, out } => {
            let q = LicenceQuery {
                expiring_within_days: Some(days as i64),
                page: 1,
                per_page: 10_000,
                ..Default::default()
            };
            if out.is_some() || format.is_some() {
                let format = file_format(format.as_deref(), out.as_deref())?;
                let rows = store.licence_export_rows(&p, &q, today).await.map_err(store_err)?;
                let n = rows.len();
                match out {
                    Some(out) => {
                        write_file(&out, format, LICENCE_EXPORT_COLUMNS, rows)?;
                        println!("{n} licence(s) expire within {days} days; written to {}.", out.display());
                    }
                    None if format == "csv" => {
                        let stdout = std::io::stdout();
                        let mut lock = stdout.lock();
                        komlang_io::write_csv(&mut lock, LICENCE_EXPORT_COLUMNS, rows.into_iter())
                            .map_err(|e| anyhow::anyhow!("cannot write to stdout: {e}"))?;
                        lock.flush()?;
                    }
                    None => return Err(bad("out", "required")),
                }
            } else {
                let page = store.licences(&p, &q, today).await.map_err(store_err)?;
                let rows: Vec<Vec<String>> = page
                    .items
                    .iter()
                    .map(|l| {
                        vec![
                            l.number.clone().unwrap_or_default(),
                            l.worker.id.to_string(),
                            l.worker.name_latin.clone(),
                            l.worker.workplace_code.clone(),
                            l.expires_on.map(|d| d.to_string()).unwrap_or_default(),
                            l.days_to_expiry.map(|d| d.to_string()).unwrap_or_default(),
                        ]
                    })
                    .collect();
                print_rows(&["NUMBER", "WORKER", "NAME", "WORKPLACE", "EXPIRES", "DAYS"], &rows);
                println!("{} licence(s) expire within {days} days.", page.total);
            }
        }
        TrainingCommand::Verify { number } => {
            if normalize_number(NumberKind::Certificate, &number).is_none() {
                return Err(BadInput(vec![
                    FieldError::new("number", "not_a_certificate_number").with("value", &number)
                ])
                .into());
            }
            let Some(c) = store.public_certificate(&number).await.map_err(store_err)? else {
                return Err(
                    BadInput(vec![FieldError::new("number", "unknown_certificate").with("value", &number)]).into()
                );
            };
            println!("{}  {}", c.number, if c.valid { "VALID" } else { "REVOKED" });
            println!("holder:      {} ({})", c.holder_name_latin, c.holder_name_km);
            println!("programme:   {} ({})", c.programme_title_en, c.level.code());
            println!("institution: {}", c.institution_code);
            println!("issued on:   {}", c.issued_on);
            if let Some(d) = c.revoked_on {
                println!("revoked on:  {d}");
                return Err(Revoked(format!("certificate {} was revoked on {d}", c.number)).into());
            }
        }
        TrainingCommand::Export { table, format, out, from, to, place, status } => {
            let format = file_format(format.as_deref(), Some(&out))?;
            let (columns, rows) = match table {
                ExportTable::Events => {
                    let q = EventQuery {
                        from: date_arg("from", from)?,
                        to: date_arg("to", to)?,
                        place: place.non_blank().map(String::from),
                        page: 1,
                        per_page: 500,
                        ..Default::default()
                    };
                    (EVENT_EXPORT_COLUMNS, store.event_export_rows(&p, &q).await.map_err(store_err)?)
                }
                ExportTable::Certificates => {
                    let q = CertificateQuery {
                        from: date_arg("from", from)?,
                        to: date_arg("to", to)?,
                        page: 1,
                        per_page: 10_000,
                        ..Default::default()
                    };
                    (CERTIFICATE_EXPORT_COLUMNS, store.certificate_export_rows(&p, &q).await.map_err(store_err)?)
                }
                ExportTable::Licences => {
                    let status = match status.non_blank() {
                        None => None,
                        Some(s) => Some(LicenceStatus::parse(s).ok_or_else(|| bad("status", "invalid_choice"))?),
                    };
                    let q = LicenceQuery { status, page: 1, per_page: 10_000, ..Default::default() };
                    (LICENCE_EXPORT_COLUMNS, store.licence_export_rows(&p, &q, today).await.map_err(store_err)?)
                }
            };
            let n = rows.len();
            write_file(&out, format, columns, rows)?;
            println!("Exported {n} row(s) to {}.", out.display());
        }
        TrainingCommand::Rules { term_years, ce_hours } => {
            let mut rules = store.licensing_rules().await?;
            if term_years.is_some() || ce_hours.is_some() {
                rules = store
                    .set_licensing_rules(
                        &p,
                        term_years.unwrap_or(rules.term_years as i64),
                        ce_hours.unwrap_or(rules.renewal_ce_hours as i64),
                    )
                    .await
                    .map_err(store_err)?;
            }
            println!("term_years: {}", rules.term_years);
            println!("renewal_ce_hours: {}", rules.renewal_ce_hours);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::{Cli, Command};

    #[test]
    fn training_commands_parse() {
        let c = Cli::try_parse_from(["komlang", "training", "licences-expiring", "--days", "60"]).unwrap();
        assert!(matches!(
            c.command,
            Command::Training { command: TrainingCommand::LicencesExpiring { days: 60, format: None, out: None } }
        ));
        let c = Cli::try_parse_from(["komlang", "training", "export", "licences", "--out", "l.xlsx"]).unwrap();
        assert!(matches!(
            c.command,
            Command::Training { command: TrainingCommand::Export { table: ExportTable::Licences, .. } }
        ));
        assert!(Cli::try_parse_from(["komlang", "training", "export", "workers", "--out", "x.csv"]).is_err());
        assert!(Cli::try_parse_from(["komlang", "training", "licences-expiring", "--days", "-1"]).is_err());
    }

    #[test]
    fn the_format_follows_the_option_then_the_extension() {
        assert_eq!(file_format(None, Some(Path::new("a.XLSX"))).unwrap(), "xlsx");
        assert_eq!(file_format(None, Some(Path::new("a.txt"))).unwrap(), "csv");
        assert_eq!(file_format(Some("xlsx"), Some(Path::new("a.csv"))).unwrap(), "xlsx");
        assert!(file_format(Some("pdf"), None).is_err());
    }
}
