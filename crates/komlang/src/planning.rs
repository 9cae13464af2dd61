//! `komlang coverage` and `komlang plan`: the coverage of a staffing norm and
//! a prioritized deployment plan, from the command line (as a national
//! administrator sees them).

use std::io::Write;

use anyhow::Result;
use clap::Args;
use komlang_core::planning::INVESTMENT_CASE;
use komlang_core::AdminLevel;
use komlang_store::planning::{FactsQuery, PlanRequest};
use komlang_store::system_principal;

use crate::{bad, open, store_err};

#[derive(Args, Debug)]
pub struct CoverageArgs {
    /// province, district or commune.
    #[arg(long, value_parser = ["province", "district", "commune"])]
    level: String,
    /// Name of the norm.
    #[arg(long, default_value = INVESTMENT_CASE)]
    norm: String,
    /// Only units within this admin unit (e.g. 02).
    #[arg(long)]
    parent: Option<String>,
    /// Population of the latest year up to this one (default: this year).
    #[arg(long)]
    year: Option<i32>,
    /// csv (one row per unit) or json.
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    format: String,
}

#[derive(Args, Debug)]
pub struct EstablishmentArgs {
    /// province, district or commune.
    #[arg(long, value_parser = ["province", "district", "commune"])]
    level: String,
    /// Only units within this admin unit (e.g. 02).
    #[arg(long)]
    parent: Option<String>,
    /// Posts approved in this year, filled on its last day (this year: today). Default: this year.
    #[arg(long)]
    year: Option<i32>,
    /// csv (one row per unit) or json.
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    format: String,
}

#[derive(Args, Debug)]
pub struct NeedArgs {
    /// province, district or commune.
    #[arg(long, value_parser = ["province", "district", "commune"])]
    level: String,
    /// Only units within this admin unit (e.g. 02).
    #[arg(long)]
    parent: Option<String>,
    /// The year recruited for (default: next year).
    #[arg(long)]
    year: Option<i32>,
    /// A saved deployment plan's id: its new posts in the year (not yet approved) are added.
    #[arg(long)]
    plan: Option<i64>,
    /// csv (one row per unit, then the total) or json.
    #[arg(long, default_value = "csv", value_parser = ["csv", "json"])]
    format: String,
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// New posts to place (default: the whole gap of the norm).
    #[arg(long)]
    posts: Option<u32>,
    /// Last year of recruitment (default: 2027, or this year when later).
    #[arg(long)]
    target_year: Option<i32>,
    /// First year of recruitment (default: this year).
    #[arg(long)]
    start_year: Option<i32>,
    /// Name of the norm.
    #[arg(long, default_value = INVESTMENT_CASE)]
    norm: String,
    /// Only units within this admin unit (e.g. 02).
    #[arg(long)]
    parent: Option<String>,
    /// Posts that can be recruited in one year (default: no limit).
    #[arg(long)]
    capacity: Option<u32>,
    /// At most this many new posts in one unit.
    #[arg(long)]
    cap_per_unit: Option<u32>,
    /// Levels served one after another, e.g. province,district,commune (default: all together).
    #[arg(long, value_delimiter = ',')]
    level_order: Vec<String>,
    /// Also save the plan as a named scenario (audited, user `cli`).
    #[arg(long)]
    save: Option<String>,
    /// json.
    #[arg(long, default_value = "json", value_parser = ["json"])]
    format: String,
}

fn level(field: &str, s: &str) -> Result<AdminLevel> {
    komlang_web::planning::plan_level(s).ok_or_else(|| bad(field, "invalid_choice"))
}

pub async fn coverage(url: &str, a: CoverageArgs) -> Result<()> {
    let level = level("level", &a.level)?;
    let store = open(url).await?;
    let p = system_principal("cli");
    let q = FactsQuery { level, parent: a.parent, year: a.year.unwrap_or_else(komlang_web::planning::this_year) };
    let report = store.coverage_report(&p, &a.norm, &q).await.map_err(store_err)?;
    let mut out = std::io::stdout().lock();
    if a.format == "json" {
        writeln!(out, "{}", komlang_web::planning::coverage_json(&report))?;
    } else {
        let mut buf = Vec::new();
        komlang_io::write_csv(
            &mut buf,
            komlang_web::planning::COVERAGE_COLUMNS,
            report.units.iter().map(komlang_web::planning::coverage_cells),
        )?;
        // No byte-order mark on a terminal or in a pipe.
        out.write_all(buf.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&buf))?;
    }
    Ok(())
}

pub async fn establishment(url: &str, a: EstablishmentArgs) -> Result<()> {
    let level = level("level", &a.level)?;
    let store = open(url).await?;
    let q = komlang_store::establishment::EstablishmentQuery {
        level,
        parent: a.parent,
        year: a.year.unwrap_or_else(komlang_web::planning::this_year),
        cadre: None,
        funding: None,
    };
    let today = chrono::Local::now().date_naive();
    let report = store.establishment(&system_principal("cli"), &q, today).await.map_err(store_err)?;
    let cells = komlang_web::establishment::establishment_cells(&report);
    print_report(&a.format, &report, komlang_web::establishment::ESTABLISHMENT_COLUMNS, cells)
}

/// Prints a report as JSON (`format` json) or as its download's CSV rows (without the BOM).
fn print_report<T: serde::Serialize>(
    format: &str,
    report: &T,
    columns: &[&str],
    cells: Vec<Vec<String>>,
) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if format == "json" {
        writeln!(out, "{}", serde_json::to_string_pretty(report)?)?;
    } else {
        let mut buf = Vec::new();
        komlang_io::write_csv(&mut buf, columns, cells.into_iter())?;
        out.write_all(buf.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&buf))?;
    }
    Ok(())
}

pub async fn recruitment_need(url: &str, a: NeedArgs) -> Result<()> {
    let level = level("level", &a.level)?;
    let year = a.year.unwrap_or_else(|| komlang_web::planning::this_year() + 1);
    if !komlang_core::establishment::YEARS.contains(&year) {
        return Err(bad("year", "invalid_year"));
    }
    let store = open(url).await?;
    let today = chrono::Local::now().date_naive();
    let report = store
        .recruitment_need(&system_principal("cli"), level, a.parent.as_deref(), year, a.plan, today)
        .await
        .map_err(store_err)?;
    print_report(
        &a.format,
        &report,
        komlang_web::recruitment::NEED_COLUMNS,
        komlang_web::recruitment::need_cells(&report),
    )
}

pub async fn plan(url: &str, a: PlanArgs) -> Result<()> {
    debug_assert_eq!(a.format, "json");
    let level_order = a.level_order.iter().map(|l| level("level_order", l.trim())).collect::<Result<Vec<_>>>()?;
    let start_year = a.start_year.unwrap_or_else(komlang_web::planning::this_year);
    let req = PlanRequest {
        name: a.save.clone().unwrap_or_else(|| "cli".into()),
        norm: a.norm,
        parent: a.parent,
        posts: a.posts,
        start_year,
        target_year: a.target_year.unwrap_or(start_year.max(2027)),
        yearly_capacity: a.capacity,
        weights: Default::default(),
        cap_per_unit: a.cap_per_unit,
        level_order,
        blocked: Vec::new(),
    };
    let store = open(url).await?;
    let p = system_principal("cli");
    let outcome = match &a.save {
        Some(_) => {
            let saved = store.create_plan(&p, &req).await.map_err(store_err)?;
            eprintln!("Saved as plan {} ({}).", saved.id, saved.name);
            saved.result
        }
        None => store.generate_plan(&p, &req).await.map_err(store_err)?,
    };
    writeln!(std::io::stdout().lock(), "{}", komlang_web::planning::plan_posts_json(&outcome))?;
    Ok(())
}
