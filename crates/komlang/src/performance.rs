//! `komlang job-descriptions` (versions of each role's job description) and `komlang appraisals`
//! (who is due, overdue or has open corrective actions, by unit or as a list). docs/performance.md.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use komlang_core::performance::parse_job_descriptions;
use komlang_core::FieldError;
use komlang_store::performance::PerformanceList;
use komlang_store::system_principal;

use crate::{bad, open, store_err, BadInput};

#[derive(Subcommand, Debug)]
pub enum JobCommand {
    /// Loads job descriptions from a JSON file (the shape of
    /// data/job-descriptions/focal-points.json): each becomes its role's new current version.
    /// All or nothing; appraisals made against older versions keep them.
    Load {
        /// The file (JSON).
        file: PathBuf,
    },
    /// Lists every version of every role's description, the current ones marked.
    List,
}

pub async fn jobs(url: &str, command: JobCommand) -> Result<()> {
    let store = open(url).await?;
    match command {
        JobCommand::Load { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                BadInput(vec![
                    FieldError::new("file", "invalid_file").with("message", format!("{}: {e}", file.display()))
                ])
            })?;
            let descriptions = parse_job_descriptions(&text).map_err(|e| BadInput(e.errors))?;
            let loaded =
                store.load_job_descriptions(&system_principal("cli"), &descriptions).await.map_err(store_err)?;
            for d in loaded {
                println!(
                    "Loaded the job description of {} version {} ({} key functions); it is now current.",
                    d.role,
                    d.version,
                    d.functions.len()
                );
            }
        }
        JobCommand::List => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "ROLE\tVERSION\tCURRENT\tFUNCTIONS\tTITLE")?;
            for d in store.job_descriptions(false).await? {
                let current = if d.current { "yes" } else { "" };
                writeln!(out, "{}\t{}\t{current}\t{}\t{}", d.role, d.version, d.functions.len(), d.title_en)?;
            }
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct AppraisalArgs {
    /// province, district or commune: the figures of every unit of the level.
    #[arg(long, value_parser = ["province", "district", "commune"], conflicts_with = "list")]
    level: Option<String>,
    /// due, overdue or corrective: the workers of that list instead of the figures.
    #[arg(long, value_parser = ["due", "overdue", "corrective"])]
    list: Option<String>,
    /// Only units (or workers) within this admin unit (e.g. 02).
    #[arg(long)]
    parent: Option<String>,
    /// csv (one row per unit, then the total; or per worker) or json.
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    format: String,
}

pub async fn appraisals(url: &str, a: AppraisalArgs) -> Result<()> {
    let store = open(url).await?;
    let p = system_principal("cli");
    let today = chrono::Local::now().date_naive();
    let mut out = std::io::stdout().lock();
    if let Some(kind) = &a.list {
        let kind = PerformanceList::parse(kind).ok_or_else(|| bad("list", "invalid_choice"))?;
        let rows = store.performance_list(&p, kind, a.parent.as_deref(), today).await.map_err(store_err)?;
        if a.format == "json" {
            writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
        } else {
            let cells = rows.iter().map(|r| {
                vec![
                    r.worker.id.to_string(),
                    r.worker.name_latin.clone(),
                    r.worker.name_km.clone(),
                    r.worker.workplace_code.clone(),
                    r.due.code().to_string(),
                    r.due_on.clone().unwrap_or_default(),
                    r.open_corrective.to_string(),
                    r.next_follow_up.clone().unwrap_or_default(),
                ]
            });
            let columns = [
                "worker_id",
                "name_latin",
                "name_km",
                "workplace",
                "due",
                "due_on",
                "open_corrective",
                "next_follow_up",
            ];
            let mut buf = Vec::new();
            komlang_io::write_csv(&mut buf, &columns, cells)?;
            out.write_all(buf.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&buf))?;
        }
        return Ok(());
    }
    let level = komlang_web::planning::plan_level(a.level.as_deref().unwrap_or("province"))
        .ok_or_else(|| bad("level", "invalid_choice"))?;
    let report = store.performance_summary(&p, level, a.parent.as_deref(), today).await.map_err(store_err)?;
    if a.format == "json" {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        let mut buf = Vec::new();
        komlang_io::write_csv(
            &mut buf,
            komlang_web::performance::SUMMARY_COLUMNS,
            komlang_web::performance::summary_cells(&report).into_iter(),
        )?;
        out.write_all(buf.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&buf))?;
    }
    Ok(())
}
