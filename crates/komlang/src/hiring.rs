//! `komlang recruitment-rounds`: the rounds, one round's ranked candidates, and an import of
//! candidates into a round (docs/hiring.md).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Subcommand;
use komlang_core::FieldError;
use komlang_store::system_principal;

use crate::{open, store_err, BadInput};

#[derive(Subcommand, Debug)]
pub enum RoundCommand {
    /// Lists the recruitment rounds, the latest first.
    List,
    /// Prints a round's candidates in ranked order (csv) or the whole round (json).
    Show {
        id: i64,
        #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
        format: String,
    },
    /// Imports candidates into an open round from a CSV or XLSX file (one row per candidate:
    /// worker_id, or name_km, name_latin, sex, national_id, cadre, education_level, …): all or
    /// nothing, every problem named by row and field.
    ImportCandidates {
        #[arg(long)]
        round: i64,
        file: PathBuf,
    },
}

pub async fn run(url: &str, command: RoundCommand) -> Result<()> {
    let store = open(url).await?;
    let p = system_principal("cli");
    let today = chrono::Local::now().date_naive();
    let mut out = std::io::stdout().lock();
    match command {
        RoundCommand::List => {
            writeln!(out, "ID\tKIND\tPROVINCE\tSTATUS\tOPENS\tCLOSES\tPOSTS\tCANDIDATES\tAPPOINTED\tNAME")?;
            for r in store.recruitment_rounds(&p).await.map_err(store_err)? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.id,
                    r.kind,
                    r.province.unwrap_or_default(),
                    r.status,
                    r.opens_on,
                    r.closes_on,
                    r.posts,
                    r.candidates,
                    r.appointed,
                    r.name
                )?;
            }
        }
        RoundCommand::Show { id, format } => {
            let r = store.recruitment_round(&p, id, today).await.map_err(store_err)?;
            if format == "json" {
                writeln!(out, "{}", serde_json::to_string_pretty(&r)?)?;
            } else {
                let mut buf = Vec::new();
                komlang_io::write_csv(
                    &mut buf,
                    komlang_web::recruitment::CANDIDATE_COLUMNS,
                    komlang_web::recruitment::candidate_cells(&r).into_iter(),
                )?;
                out.write_all(buf.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&buf))?;
            }
        }
        RoundCommand::ImportCandidates { round, file } => {
            let bad = |m: String| BadInput(vec![FieldError::new("file", "invalid_file").with("message", m)]);
            let bytes = std::fs::read(&file).map_err(|e| bad(format!("{}: {e}", file.display())))?;
            let name = file.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            let reader = komlang_io::TableReader::from_bytes(&name, bytes).map_err(|e| bad(e.to_string()))?;
            let headers = reader.headers().to_vec();
            let mut rows = Vec::new();
            for r in reader {
                rows.push(r.map_err(|e| bad(e.to_string()))?);
            }
            let n = rows.len();
            let r = store.import_candidates(&p, round, &headers, rows, today).await.map_err(store_err)?;
            writeln!(out, "Imported {n} candidate(s) into round {} ({} in all).", r.id, r.candidates.len())?;
        }
    }
    Ok(())
}
