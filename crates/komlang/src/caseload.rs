//! `komlang caseload`: a case list from Primero or OSCaR imported as that system's snapshot of
//! a day, and the systems' users linked to workers (docs/caseloads.md).

use std::path::PathBuf;

use anyhow::Result;
use chrono::NaiveDate;
use clap::{Args, Subcommand};
use komlang_core::caseload::CaseSource;
use komlang_store::caseloads::CaseloadImportOptions;

use crate::transfer::{file_name, file_sha256, finish_rows, open_table, principal, print_report, rows_of};
use crate::{bad, open, store_err};

#[derive(Subcommand, Debug)]
pub enum CaseloadCommand {
    /// Imports a case list exported from Primero or OSCaR (CSV or XLSX) as that system's
    /// snapshot of a day, replacing the one of the same day. Exit 0: every row read; 1: some
    /// refused (listed; nothing written unless --partial); 2: the file could not be read.
    Import(ImportArgs),
    /// Lists the users holding cases in each system's latest case list, and the worker each is.
    Owners {
        /// primero or oscar (default: both).
        #[arg(long)]
        source: Option<String>,
        /// Only the users linked to no worker.
        #[arg(long)]
        unlinked: bool,
    },
    /// Links a case system's user to the worker they are (kept for the next imports).
    Link {
        #[arg(long)]
        source: String,
        /// The user name (Primero) or staff name (OSCaR) as the case list writes it.
        #[arg(long)]
        owner: String,
        /// The worker's number.
        #[arg(long)]
        worker: i64,
    },
    /// Removes a user's link.
    Unlink {
        #[arg(long)]
        source: String,
        #[arg(long)]
        owner: String,
    },
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The case list (.csv in UTF-8, or .xlsx).
    pub file: PathBuf,
    /// primero or oscar.
    #[arg(long)]
    pub source: String,
    /// The day the list was exported (YYYY-MM-DD; default: today).
    #[arg(long)]
    pub as_of: Option<String>,
    /// Check every row and report; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Import the valid rows when some are refused.
    #[arg(long)]
    pub partial: bool,
    /// A header for a field instead of the system's own: FIELD=HEADER (fields: case_id, status,
    /// owner, agency, location, province, district, commune, opened_on, closed_on); repeatable.
    #[arg(long = "column", value_name = "FIELD=HEADER")]
    pub columns: Vec<String>,
    /// Import as this account; default: the command line's national administrator.
    #[arg(long = "as", value_name = "USERNAME")]
    pub as_user: Option<String>,
}

fn source_of(s: &str) -> Result<CaseSource> {
    CaseSource::parse(s).ok_or_else(|| bad("source", "invalid_choice"))
}

pub async fn run(url: &str, command: CaseloadCommand) -> Result<()> {
    match command {
        CaseloadCommand::Import(a) => {
            let source = source_of(&a.source)?;
            let as_of = match a.as_of.as_deref() {
                None => chrono::Utc::now().date_naive(),
                Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad("as_of", "invalid_date"))?,
            };
            let columns = a.columns.iter().map(|c| c.replacen('=', ":", 1)).collect::<Vec<_>>().join(";");
            let columns = komlang_core::caseload::parse_columns(&columns).map_err(|m| {
                crate::BadInput(vec![komlang_core::FieldError::new("column", "invalid_format").with("message", m)])
            })?;
            let sha = file_sha256(&a.file)?;
            let reader = open_table(&a.file)?;
            let headers = reader.headers().to_vec();
            let store = open(url).await?;
            let p = principal(&store, a.as_user.as_deref()).await?;
            let opts = CaseloadImportOptions {
                source,
                as_of,
                dry_run: a.dry_run,
                partial: a.partial,
                file_name: file_name(&a.file),
                file_sha256: sha,
                columns,
                report: Default::default(),
            };
            let r = store.import_caseload(&p, &headers, rows_of(reader), &opts).await.map_err(store_err)?;
            print_report(&r, "case");
            finish_rows(&r)
        }
        CaseloadCommand::Owners { source, unlinked } => {
            let source = source.as_deref().map(source_of).transpose()?;
            let store = open(url).await?;
            let p = principal(&store, None).await?;
            for o in store.case_owners(&p, source, unlinked).await.map_err(store_err)? {
                let worker = match (o.worker_id, o.worker_name) {
                    (Some(id), Some(n)) => format!("worker {id} ({n})"),
                    _ => "not linked".to_string(),
                };
                println!("{}\t{}\t{} open\t{worker}", o.source, o.owner, o.open_cases);
            }
            Ok(())
        }
        CaseloadCommand::Link { source, owner, worker } => {
            let source = source_of(&source)?;
            let store = open(url).await?;
            let p = principal(&store, None).await?;
            store.link_case_owner(&p, source, &owner, worker).await.map_err(store_err)?;
            println!("{} user \"{}\" linked to worker {worker}.", source.label(), owner.trim());
            Ok(())
        }
        CaseloadCommand::Unlink { source, owner } => {
            let source = source_of(&source)?;
            let store = open(url).await?;
            let p = principal(&store, None).await?;
            store.unlink_case_owner(&p, source, &owner).await.map_err(store_err)?;
            println!("{} user \"{}\" unlinked.", source.label(), owner.trim());
            Ok(())
        }
    }
}
