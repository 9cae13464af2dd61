//! Coverage and plans as tables: the columns of the exports, the cells of a row, the CSV or
//! XLSX file, and the JSON the CLI prints.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use komlang_core::planning::Coverage;
use komlang_core::AdminLevel;
use komlang_store::planning::{CoverageReport, PlanOutcome, SavedPlan};
use serde::Serialize;

use crate::common::export::XLSX_TYPE;
use crate::common::Locale;

/// Sorts coverage rows by a column (`code`, `name`, `in_post`, `required`,
/// `gap`, `vacancies`, `government_workers`, `population`, `children`,
/// `per_10k`, `per_100k`); unknown columns sort by code.
pub fn sort_coverage(rows: &mut [Coverage], key: &str, desc: bool, locale: Locale) {
    let num = |c: &Coverage| -> Option<f64> {
        Some(match key {
            "in_post" => c.in_post as f64,
            "required" => c.required? as f64,
            "gap" => c.gap as f64,
            "vacancies" => c.vacancies as f64,
            "government_workers" => c.government_workers as f64,
            "population" => c.population? as f64,
            "children" => c.children? as f64,
            "per_10k" => c.per_10k_population?,
            "per_100k" => c.per_100k_children?,
            _ => return None,
        })
    };
    rows.sort_by(|a, b| {
        let o = match key {
            "name" => match locale {
                Locale::Km => a.name_km.cmp(&b.name_km),
                Locale::En => a.name_en.cmp(&b.name_en),
            },
            "code" => a.code.cmp(&b.code),
            // Units without the figure go last whatever the direction.
            _ => match (num(a), num(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => return std::cmp::Ordering::Less,
                (None, Some(_)) => return std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            },
        };
        let o = if desc { o.reverse() } else { o };
        o.then_with(|| a.code.cmp(&b.code))
    });
}

/// Columns of the coverage exports.
pub const COVERAGE_COLUMNS: &[&str] = &[
    "admin_code",
    "level",
    "name_en",
    "name_km",
    "in_post",
    "required",
    "gap",
    "vacancies",
    "government_workers",
    "population",
    "children",
    "open_cases",
    "per_10k_population",
    "per_100k_children",
];

pub(super) fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

pub(super) fn ratio_text(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.2}")).unwrap_or_default()
}

/// One coverage row as export cells.
pub fn coverage_cells(c: &Coverage) -> Vec<String> {
    vec![
        c.code.clone(),
        c.level.code().to_string(),
        c.name_en.clone(),
        c.name_km.clone(),
        c.in_post.to_string(),
        opt(c.required),
        c.gap.to_string(),
        c.vacancies.to_string(),
        c.government_workers.to_string(),
        opt(c.population),
        opt(c.children),
        opt(c.open_cases),
        ratio_text(c.per_10k_population),
        ratio_text(c.per_100k_children),
    ]
}

/// Columns of the plan exports.
pub const PLAN_COLUMNS: &[&str] =
    &["admin_code", "level", "name_en", "name_km", "year", "count", "rank", "gap", "required", "reason"];

pub(super) fn plan_cells(p: &SavedPlan) -> impl Iterator<Item = Vec<String>> + '_ {
    p.result.posts.iter().map(move |x| {
        let n = p.result.units.get(&x.admin_code);
        vec![
            x.admin_code.clone(),
            x.level.code().to_string(),
            n.map(|n| n.name_en.clone()).unwrap_or_default(),
            n.map(|n| n.name_km.clone()).unwrap_or_default(),
            x.year.to_string(),
            x.count.to_string(),
            x.why.rank.to_string(),
            x.why.gap.to_string(),
            x.why.required.to_string(),
            x.reason.clone(),
        ]
    })
}

/// A downloadable table: CSV (UTF-8 with BOM) or XLSX.
pub fn table_file(
    format: &str,
    base_name: &str,
    headers: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<Response, String> {
    let (mime, ext, bytes) = match format {
        "xlsx" => {
            let mut out = std::io::Cursor::new(Vec::new());
            komlang_io::write_xlsx(&mut out, headers, rows).map_err(|e| e.to_string())?;
            (XLSX_TYPE, "xlsx", out.into_inner())
        }
        _ => {
            let mut out = Vec::new();
            komlang_io::write_csv(&mut out, headers, rows).map_err(|e| e.to_string())?;
            ("text/csv; charset=utf-8", "csv", out)
        }
    };
    let disposition = format!("attachment; filename=\"{base_name}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// A plan as `komlang plan` prints it:
/// `{"posts": [{"admin_code", "level", "year", "count", "reason"}...], "total": N}`.
pub fn plan_posts_json(o: &PlanOutcome) -> String {
    #[derive(Serialize)]
    struct Line<'a> {
        admin_code: &'a str,
        level: AdminLevel,
        year: i32,
        count: u32,
        reason: &'a str,
    }
    #[derive(Serialize)]
    struct Out<'a> {
        posts: Vec<Line<'a>>,
        total: u32,
    }
    let posts = o
        .posts
        .iter()
        .map(|x| Line { admin_code: &x.admin_code, level: x.level, year: x.year, count: x.count, reason: &x.reason })
        .collect();
    serde_json::to_string(&Out { posts, total: o.total }).unwrap_or_default()
}

/// A coverage report as JSON (what the API answers, for `komlang coverage --format json`).
pub fn coverage_json(r: &CoverageReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_default()
}
