//! Workforce planning pages: coverage of a norm (table, chart, exports),
//! deployment plans (form, saved scenarios, printable page, exports,
//! comparison), the supply projection, norms, and the data planning uses
//! (indicators, caseloads, vacancies). No script: charts are SVG drawn here.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use askama::Template;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use chrono::Datelike;
use komlang_core::planning::{
    project_supply, year_norm_met, Coverage, CoverageTotals, NormRule, PlannedPosts, Reason, SupplyParams, SupplyYear,
    Weights, WorkerFilter, DEFAULT_ATTRITION, DEFAULT_GRADUATES_PER_YEAR, DEFAULT_UPTAKE, INVESTMENT_CASE, PLAN_LEVELS,
};
use komlang_core::{AdminLevel, AdminUnit, Cadre, FieldError, Principal, Sector, ValidationErrors};
use komlang_store::planning::{
    BlockedUnitYear, CaseloadRow, CoverageReport, FactsQuery, IndicatorRow, NewNorm, NormRecord, PlanOutcome,
    PlanRequest, PlanSummary, SavedPlan, VacancyRow, PLANNING_ERROR_CODES,
};
use komlang_store::StoreError;
use serde::{Deserialize, Serialize};

use crate::common::export::XLSX_TYPE;
use crate::common::{flash, layout, render, render_status, today, Ctx, I18n, Layout, Locale, PageError, PageResult};
use crate::common::{Gate, Routes};
use crate::AppState;
use komlang_core::Action;

pub fn routes(r: Routes) -> Routes {
    r.get("/planning", Gate::Action(Action::ReadPlanning), index)
        .get("/planning/coverage", Gate::Action(Action::ReadPlanning), coverage_page)
        .get("/planning/norms", Gate::Action(Action::ReadPlanning), norms_page)
        .post("/planning/norms", Gate::Action(Action::KeepNorms), add_norm)
        .post("/planning/plans", Gate::Action(Action::MakePlans), create_plan)
        .get("/planning/plans/new", Gate::Action(Action::MakePlans), new_plan)
        .get("/planning/plans/{id}", Gate::Action(Action::ReadPlanning), plan_page)
        .get("/planning/plans/{id}/print", Gate::Action(Action::ReadPlanning), plan_print)
        .get("/planning/compare", Gate::Action(Action::ReadPlanning), compare_page)
        .get("/planning/supply", Gate::Action(Action::ReadPlanning), supply_page)
        .get("/planning/data", Gate::Action(Action::ReadPlanning), data_page)
        .post("/planning/data", Gate::Action(Action::KeepNorms), upload_data)
        .get("/static/planning.css", Gate::Public, css)
}

const CSS: &str = include_str!("../static/planning.css");

async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")], CSS)
}

// ---------------------------------------------------------------------------
// Shared by the pages and the API
// ---------------------------------------------------------------------------

/// A planning error in the caller's language: `planning.error.<code>` for
/// the codes of planning, the common `error.<code>` otherwise; the row of a
/// file or list first when there is one.
pub fn error_text(i: &I18n, e: &FieldError) -> String {
    let key = format!("planning.error.{}", e.code);
    let text = if i.has(&key) {
        let params: Vec<(&str, String)> = e.params.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        i.tp(&key, &params)
    } else {
        i.field_error(e)
    };
    match e.params.get("row") {
        Some(row) => i.tp("planning.row_error", &[("row", row.clone()), ("field", e.field.clone()), ("message", text)]),
        None => text,
    }
}

/// A plan level from its code (provinces, districts and communes only).
pub fn plan_level(s: &str) -> Option<AdminLevel> {
    AdminLevel::parse(s).filter(|l| PLAN_LEVELS.contains(l))
}

/// The current year (the default year of population figures and plans).
pub fn this_year() -> i32 {
    today().year()
}

/// The level shown by default: the one below the caller's area.
pub fn default_level(area: Option<&AdminUnit>) -> AdminLevel {
    match area.map(|u| u.level) {
        Some(AdminLevel::Province) => AdminLevel::District,
        Some(AdminLevel::District) | Some(AdminLevel::Commune) | Some(AdminLevel::Village) => AdminLevel::Commune,
        _ => AdminLevel::Province,
    }
}

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

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn ratio_text(v: Option<f64>) -> String {
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

fn plan_cells(p: &SavedPlan) -> impl Iterator<Item = Vec<String>> + '_ {
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

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// One bar of a chart: what is there, what is needed.
pub struct ChartBar {
    pub label: String,
    pub value: f64,
    /// The target drawn as an outline (e.g. posts required).
    pub target: Option<f64>,
    pub href: Option<String>,
}

/// A horizontal bar chart as SVG (presentation attributes only: the
/// content security policy allows no inline style).
pub fn bar_chart(title: &str, value_label: &str, target_label: &str, bars: &[ChartBar]) -> String {
    let row = 22.0;
    let label_w = 210.0;
    let bar_w = 420.0;
    let num_w = 90.0;
    let width = label_w + bar_w + num_w;
    let height = 30.0 + row * bars.len() as f64 + 24.0;
    let max = bars.iter().map(|b| b.value.max(b.target.unwrap_or(0.0))).fold(0.0, f64::max).max(1.0);
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" viewBox=\"0 0 {width} {height}\" \
         width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" aria-labelledby=\"chart-title\">\
         <title id=\"chart-title\">{}</title>",
        xml(title)
    );
    // Legend.
    let _ = write!(
        s,
        "<rect x=\"{label_w}\" y=\"4\" width=\"12\" height=\"12\" fill=\"#0b5d8c\"/>\
         <text x=\"{}\" y=\"14\" font-size=\"12\" fill=\"#1b2330\">{}</text>\
         <rect x=\"{}\" y=\"4\" width=\"12\" height=\"12\" fill=\"none\" stroke=\"#a31515\" stroke-width=\"1.5\"/>\
         <text x=\"{}\" y=\"14\" font-size=\"12\" fill=\"#1b2330\">{}</text>",
        label_w + 16.0,
        xml(value_label),
        label_w + 170.0,
        label_w + 186.0,
        xml(target_label)
    );
    for (n, b) in bars.iter().enumerate() {
        let y = 30.0 + row * n as f64;
        let w = (b.value / max * bar_w).max(0.0);
        let label = xml(&b.label);
        let label_el = format!(
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\" fill=\"#1b2330\">{label}</text>",
            label_w - 6.0,
            y + 14.0
        );
        match &b.href {
            Some(h) => {
                let _ = write!(s, "<a href=\"{}\">{label_el}</a>", xml(h));
            }
            None => s.push_str(&label_el),
        }
        let _ = write!(
            s,
            "<rect x=\"{label_w}\" y=\"{}\" width=\"{w:.1}\" height=\"14\" fill=\"#0b5d8c\"><title>{label}: {}</title></rect>",
            y + 3.0,
            b.value
        );
        if let Some(t) = b.target {
            let tw = (t / max * bar_w).max(1.0);
            let _ = write!(
                s,
                "<rect x=\"{label_w}\" y=\"{}\" width=\"{tw:.1}\" height=\"18\" fill=\"none\" stroke=\"#a31515\" stroke-width=\"1.5\"/>",
                y + 1.0
            );
        }
        let text = match b.target {
            Some(t) => format!("{} / {}", b.value, t),
            None => b.value.to_string(),
        };
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#1b2330\">{}</text>",
            label_w + bar_w + 6.0,
            y + 14.0,
            xml(&text)
        );
    }
    s.push_str("</svg>");
    s
}

fn unit_name(i: &I18n, km: &str, en: &str) -> String {
    match i.locale {
        Locale::Km if !km.is_empty() => km.to_string(),
        _ => en.to_string(),
    }
}

/// The reason of a planned post in the caller's language.
pub fn reason_text(i: &I18n, r: &Reason) -> String {
    let mut parts = vec![i.tp(
        "planning.reason",
        &[
            ("gap", r.gap.to_string()),
            ("required", r.required.to_string()),
            ("rank", r.rank.to_string()),
            ("of", r.of.to_string()),
        ],
    )];
    if let Some(n) = r.children {
        parts.push(i.tp("planning.reason_children", &[("n", n.to_string())]));
    }
    if let Some(n) = r.caseload {
        parts.push(i.tp("planning.reason_caseload", &[("n", format!("{n:.1}"))]));
    }
    for (k, v) in &r.indicators {
        parts.push(i.tp("planning.reason_indicator", &[("name", k.clone()), ("value", v.to_string())]));
    }
    parts.join("; ")
}

/// A norm's title in the caller's language.
pub fn norm_title(i: &I18n, n: &NormRecord) -> String {
    unit_name(i, &n.title_km, &n.title_en)
}

/// A rule in words.
pub fn rule_text(i: &I18n, r: &NormRule) -> String {
    let counts = filter_text(i, r.counts());
    let level = i.label(r.level());
    match r {
        NormRule::PerUnit { posts, .. } => {
            i.tp("planning.rule_per_unit", &[("posts", posts.to_string()), ("level", level), ("counts", counts)])
        }
        NormRule::Ratio { workers, per, children, .. } => {
            let key = if *children { "planning.rule_ratio_children" } else { "planning.rule_ratio_population" };
            i.tp(
                key,
                &[("workers", workers.to_string()), ("per", per.to_string()), ("level", level), ("counts", counts)],
            )
        }
    }
}

fn filter_text(i: &I18n, f: &WorkerFilter) -> String {
    let mut parts = Vec::new();
    parts.extend(f.sectors.iter().map(|v| i.label(*v)));
    parts.extend(f.cadres.iter().map(|v| i.label(*v)));
    parts.extend(f.roles.iter().map(|v| i.label(*v)));
    if parts.is_empty() {
        i.t("planning.any_worker")
    } else {
        parts.join(", ")
    }
}

fn store_error(ctx: &Ctx, e: StoreError) -> PageError {
    match e {
        StoreError::NotFound => ctx.not_found(),
        StoreError::Forbidden => ctx.forbidden(),
        other => other.into(),
    }
}

fn nonempty(s: &Option<String>) -> Option<String> {
    s.as_ref().map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

fn level_choices(i: &I18n, area: Option<&AdminUnit>, current: AdminLevel) -> Vec<Choice> {
    let depth = |l: AdminLevel| AdminLevel::ALL.iter().position(|x| *x == l).unwrap_or(0);
    PLAN_LEVELS
        .iter()
        .filter(|l| area.is_none_or(|u| depth(**l) >= depth(u.level)))
        .map(|l| Choice { value: l.code().into(), label: i.label(*l), selected: *l == current })
        .collect()
}

fn norm_choices(i: &I18n, norms: &[NormRecord], current: &str) -> Vec<Choice> {
    norms
        .iter()
        .map(|n| Choice { value: n.name.clone(), label: norm_title(i, n), selected: n.name == current })
        .collect()
}

// ---------------------------------------------------------------------------
// Index
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "planning_index.html")]
struct IndexPage {
    l: Layout,
    plans: Vec<PlanSummary>,
    can_plan: bool,
}

impl IndexPage {
    fn area(&self, p: &PlanSummary) -> String {
        p.scope_code.clone().unwrap_or_else(|| self.l.t("planning.nation"))
    }
}

async fn index(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    let plans = app.store.saved_plans(&p).await.map_err(|e| store_error(&ctx, e))?;
    let l = layout(&ctx, "planning").await?;
    render(&IndexPage { l, plans, can_plan: p.may(Action::MakePlans) })
}

// ---------------------------------------------------------------------------
// Coverage
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Clone, Deserialize)]
pub struct CoverageParams {
    #[serde(default)]
    pub level: Option<String>,
    #[serde(default)]
    pub norm: Option<String>,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub year: Option<String>,
    #[serde(default)]
    pub sort: Option<String>,
    #[serde(default)]
    pub dir: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
}

/// A coverage row as the page shows it.
pub struct CovRow {
    pub code: String,
    pub name: String,
    pub drill: Option<String>,
    pub in_post: u32,
    pub required: String,
    pub gap: u32,
    pub vacancies: u32,
    pub government_workers: u32,
    pub population: String,
    pub children: String,
    pub per_10k: String,
    pub per_100k: String,
}

#[derive(Template)]
#[template(path = "planning_coverage.html")]
struct CoveragePage {
    l: Layout,
    levels: Vec<Choice>,
    norms: Vec<Choice>,
    parent: String,
    parent_name: String,
    up: Option<String>,
    year: i32,
    /// (level, norm) of the report shown.
    shown: Option<(AdminLevel, String)>,
    totals: Option<CoverageTotals>,
    rows: Vec<CovRow>,
    errors: Vec<String>,
    sort: String,
    desc: bool,
    chart: String,
    chart_note: String,
    can_plan: bool,
}

impl CoveragePage {
    /// Link sorting by `key` (the other direction when it is the current sort).
    fn sort_link(&self, key: &str) -> String {
        let dir = if self.sort == key && !self.desc { "desc" } else { "asc" };
        let mut pairs: Vec<(&str, String)> = self.base_pairs();
        pairs.push(("sort", key.to_string()));
        pairs.push(("dir", dir.to_string()));
        format!("?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    }
    fn sort_mark(&self, key: &str) -> &'static str {
        match (self.sort == key, self.desc) {
            (true, false) => " ▲",
            (true, true) => " ▼",
            _ => "",
        }
    }
    fn aria_sort(&self, key: &str) -> &'static str {
        match (self.sort == key, self.desc) {
            (true, false) => "ascending",
            (true, true) => "descending",
            _ => "none",
        }
    }
    fn base_pairs(&self) -> Vec<(&'static str, String)> {
        let Some((level, norm)) = &self.shown else { return Vec::new() };
        let mut v = vec![("level", level.code().to_string()), ("norm", norm.clone()), ("year", self.year.to_string())];
        if !self.parent.is_empty() {
            v.push(("parent", self.parent.clone()));
        }
        v
    }
    fn export(&self, format: &str) -> String {
        let mut pairs = self.base_pairs();
        pairs.push(("sort", self.sort.clone()));
        pairs.push(("dir", if self.desc { "desc" } else { "asc" }.into()));
        pairs.push(("format", format.to_string()));
        format!("/planning/coverage?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    }
    fn new_plan_link(&self) -> String {
        let norm = self.shown.as_ref().map(|s| s.1.clone()).unwrap_or_default();
        format!(
            "/planning/plans/new?{}",
            serde_urlencoded::to_string([("norm", norm), ("parent", self.parent.clone())]).unwrap_or_default()
        )
    }
    fn level_label(&self) -> String {
        self.shown.as_ref().map(|s| self.l.i.label(s.0)).unwrap_or_default()
    }
    fn t_ratio(&self, children: bool) -> String {
        self.totals
            .as_ref()
            .map(|t| ratio_text(if children { t.per_100k_children } else { t.per_10k_population }))
            .unwrap_or_default()
    }
}

/// The next level down, for drilling into a unit.
fn drill_link(c: &Coverage, norm: &str, year: i32) -> Option<String> {
    let next = match c.level {
        AdminLevel::Province => AdminLevel::District,
        AdminLevel::District => AdminLevel::Commune,
        _ => return None,
    };
    Some(format!(
        "?{}",
        serde_urlencoded::to_string([
            ("level", next.code().to_string()),
            ("norm", norm.to_string()),
            ("parent", c.code.clone()),
            ("year", year.to_string()),
        ])
        .unwrap_or_default()
    ))
}

/// Most bars the coverage chart draws (the first rows in the table's order).
const CHART_BARS: usize = 40;

async fn coverage_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<CoverageParams>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let parent = nonempty(&f.parent);
    let (_, area) = app.store.planning_area(&p, parent.as_deref()).await.map_err(|e| store_error(&ctx, e))?;
    let level = f.level.as_deref().and_then(plan_level).unwrap_or_else(|| default_level(area.as_ref()));
    let norm_name = nonempty(&f.norm).unwrap_or_else(|| INVESTMENT_CASE.to_string());
    let year = f.year.as_deref().and_then(|y| y.trim().parse().ok()).unwrap_or_else(this_year);
    let sort = nonempty(&f.sort).unwrap_or_else(|| "code".into());
    let desc = f.dir.as_deref() == Some("desc");
    let q = FactsQuery { level, parent: parent.clone(), year };
    let norms = app.store.planning_norms(&p).await.map_err(|e| store_error(&ctx, e))?;
    let (report, errors) = match app.store.coverage_report(&p, &norm_name, &q).await {
        Ok(mut r) => {
            sort_coverage(&mut r.units, &sort, desc, i.locale);
            (Some(r), Vec::new())
        }
        Err(StoreError::Invalid(v)) => (None, v.errors.iter().map(|e| error_text(&i, e)).collect()),
        Err(e) => return Err(store_error(&ctx, e)),
    };
    if let (Some(r), Some(format)) = (&report, f.format.as_deref().filter(|f| matches!(*f, "csv" | "xlsx"))) {
        let name = format!("komlang-coverage-{}-{}-{}", r.norm, r.level.code(), r.year);
        return table_file(format, &name, COVERAGE_COLUMNS, r.units.iter().map(coverage_cells))
            .map_err(PageError::Internal);
    }
    let (chart, chart_note) = match &report {
        Some(r) if !r.units.is_empty() => {
            let bars: Vec<ChartBar> = r
                .units
                .iter()
                .take(CHART_BARS)
                .map(|c| ChartBar {
                    label: format!("{} {}", c.code, unit_name(&i, &c.name_km, &c.name_en)),
                    value: c.in_post as f64,
                    target: c.required.map(f64::from),
                    href: None,
                })
                .collect();
            let note = if r.units.len() > CHART_BARS {
                i.tp("planning.chart_first", &[("n", CHART_BARS.to_string()), ("total", r.units.len().to_string())])
            } else {
                String::new()
            };
            (bar_chart(&i.t("planning.chart_title"), &i.t("planning.in_post"), &i.t("planning.required"), &bars), note)
        }
        _ => (String::new(), String::new()),
    };
    // The parent unit among its siblings (its own parent's units), when a parent is shown.
    let up = area.as_ref().filter(|_| parent.is_some()).map(|u| {
        let mut pairs =
            vec![("level", u.level.code().to_string()), ("norm", norm_name.clone()), ("year", year.to_string())];
        if let Some(grand) = u.parent_code.as_ref().filter(|_| u.level != AdminLevel::Province) {
            pairs.push(("parent", grand.clone()));
        }
        format!("?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    });
    let parent_name =
        area.as_ref().map(|u| unit_name(&i, &u.name_km, &u.name_en)).unwrap_or_else(|| i.t("planning.nation"));
    let rows = report
        .as_ref()
        .map(|r| {
            r.units
                .iter()
                .map(|c| CovRow {
                    code: c.code.clone(),
                    name: unit_name(&i, &c.name_km, &c.name_en),
                    drill: drill_link(c, &r.norm, year),
                    in_post: c.in_post,
                    required: opt(c.required),
                    gap: c.gap,
                    vacancies: c.vacancies,
                    government_workers: c.government_workers,
                    population: opt(c.population),
                    children: opt(c.children),
                    per_10k: ratio_text(c.per_10k_population),
                    per_100k: ratio_text(c.per_100k_children),
                })
                .collect()
        })
        .unwrap_or_default();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let l = layout(&ctx, "planning").await?;
    let page = CoveragePage {
        levels: level_choices(&i, area.as_ref(), level),
        norms: norm_choices(&i, &norms, &norm_name),
        parent: parent.unwrap_or_default(),
        parent_name,
        up,
        year,
        shown: report.as_ref().map(|r| (r.level, r.norm.clone())),
        totals: report.map(|r| r.totals),
        rows,
        errors,
        sort,
        desc,
        chart,
        chart_note,
        can_plan: p.may(Action::MakePlans),
        l,
    };
    render_status(status, &page)
}

// ---------------------------------------------------------------------------
// Norms
// ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "planning_norms.html")]
struct NormsPage {
    l: Layout,
    norms: Vec<NormRecord>,
    can_manage: bool,
    form: HashMap<String, String>,
    errors: Vec<String>,
}

impl NormsPage {
    fn title(&self, n: &NormRecord) -> String {
        norm_title(&self.l.i, n)
    }
    fn rule(&self, r: &NormRule) -> String {
        rule_text(&self.l.i, r)
    }
    fn value(&self, k: &str) -> String {
        self.form.get(k).cloned().unwrap_or_default()
    }
    fn selected(&self, k: &str, v: &str) -> bool {
        self.form.get(k).map(String::as_str) == Some(v)
    }
    fn levels(&self) -> Vec<(String, String)> {
        PLAN_LEVELS.iter().map(|l| (l.code().to_string(), self.l.i.label(*l))).collect()
    }
}

async fn norms_page(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    let norms = app.store.planning_norms(&p).await.map_err(|e| store_error(&ctx, e))?;
    let form: HashMap<String, String> =
        [("level", "province"), ("workers", "1"), ("per", "10000"), ("base", "population"), ("counts", "government")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let l = layout(&ctx, "planning").await?;
    render(&NormsPage { l, norms, can_manage: p.may(Action::KeepNorms), form, errors: Vec::new() })
}

/// The workers a norm form counts.
fn counts_of(code: &str) -> WorkerFilter {
    match code {
        "all" => WorkerFilter::default(),
        "government_professional" => {
            WorkerFilter { sectors: vec![Sector::Government], cadres: vec![Cadre::Professional], roles: vec![] }
        }
        _ => WorkerFilter::government(),
    }
}

async fn add_norm(State(app): State<AppState>, ctx: Ctx, Form(form): Form<HashMap<String, String>>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let i = ctx.i;
    let get = |k: &str| form.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut errs = ValidationErrors::default();
    let level = plan_level(&get("level"));
    if level.is_none() {
        errs.push(FieldError::new("level", "invalid_choice"));
    }
    let workers: Option<f64> = get("workers").replace(',', ".").parse().ok().filter(|v: &f64| v.is_finite());
    if workers.is_none() {
        errs.push(FieldError::new("workers", "invalid_number"));
    }
    let per: Option<u64> = get("per").replace([',', ' '], "").parse().ok();
    if per.is_none() {
        errs.push(FieldError::new("per", "invalid_number"));
    }
    let result = match (level, workers, per) {
        (Some(level), Some(workers), Some(per)) if errs.is_empty() => {
            let input = NewNorm {
                name: get("name"),
                title_en: get("title_en"),
                title_km: get("title_km"),
                rules: vec![NormRule::Ratio {
                    level,
                    workers,
                    per,
                    children: get("base") == "children",
                    counts: counts_of(&get("counts")),
                }],
            };
            app.store.add_planning_norm(&p, &input).await
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/planning/norms").into_response())
        }
        Err(StoreError::Invalid(v)) => {
            let norms = app.store.planning_norms(&p).await.map_err(|e| store_error(&ctx, e))?;
            let errors =
                v.errors.iter().map(|e| format!("{}: {}", field_label(&i, &e.field), error_text(&i, e))).collect();
            let l = layout(&ctx, "planning").await?;
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &NormsPage { l, norms, can_manage: true, form, errors })
        }
        Err(e) => Err(store_error(&ctx, e)),
    }
}

fn field_label(i: &I18n, field: &str) -> String {
    let key = format!("planning.field.{field}");
    if i.has(&key) {
        i.t(&key)
    } else {
        field.to_string()
    }
}

// ---------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------

/// Level orders offered by the plan form.
const LEVEL_ORDERS: &[(&str, &[AdminLevel])] = &[
    ("together", &[]),
    ("province_first", &[AdminLevel::Province, AdminLevel::District, AdminLevel::Commune]),
    ("commune_first", &[AdminLevel::Commune, AdminLevel::District, AdminLevel::Province]),
    ("district_first", &[AdminLevel::District, AdminLevel::Commune, AdminLevel::Province]),
];

#[derive(Template)]
#[template(path = "planning_plan_form.html")]
struct PlanFormPage {
    l: Layout,
    norms: Vec<Choice>,
    orders: Vec<Choice>,
    indicators: Vec<(String, String)>,
    form: HashMap<String, String>,
    errors: Vec<String>,
    gap: u64,
    posts_hint: String,
    area: String,
}

impl PlanFormPage {
    fn value(&self, k: &str) -> String {
        self.form.get(k).cloned().unwrap_or_default()
    }
}

async fn plan_form(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    form: HashMap<String, String>,
    errors: Vec<String>,
) -> PageResult {
    let i = ctx.i;
    let norms = app.store.planning_norms(p).await.map_err(|e| store_error(ctx, e))?;
    let current = form.get("norm").cloned().unwrap_or_else(|| INVESTMENT_CASE.into());
    let norm = norms.iter().find(|n| n.name == current).or(norms.first()).map(|n| n.norm.clone());
    let parent = form.get("parent").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let (gap, area) = match (&norm, app.store.planning_area(p, parent.as_deref()).await) {
        (Some(norm), Ok((_, area))) => {
            let t = app
                .store
                .norm_totals(p, norm, parent.as_deref(), this_year())
                .await
                .map_err(|e| store_error(ctx, e))?;
            (t.gap, area.map(|u| unit_name(&i, &u.name_km, &u.name_en)).unwrap_or_else(|| i.t("planning.nation")))
        }
        _ => (0, String::new()),
    };
    let order = form.get("level_order").cloned().unwrap_or_else(|| "together".into());
    let orders = LEVEL_ORDERS
        .iter()
        .map(|(code, _)| Choice {
            value: code.to_string(),
            label: i.t(&format!("planning.order_{code}")),
            selected: *code == order,
        })
        .collect();
    let indicators = app
        .store
        .indicator_names()
        .await
        .map_err(|e| store_error(ctx, e))?
        .into_iter()
        .map(|n| {
            let v = form.get(&format!("w_ind_{n}")).cloned().unwrap_or_else(|| "0".into());
            (n, v)
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let l = layout(ctx, "planning").await?;
    render_status(
        status,
        &PlanFormPage {
            l,
            norms: norm_choices(&i, &norms, &current),
            orders,
            indicators,
            form,
            errors,
            gap,
            posts_hint: i.tp("planning.posts_hint", &[("n", gap.to_string())]),
            area,
        },
    )
}

async fn new_plan(State(app): State<AppState>, ctx: Ctx, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let p = ctx.require()?.clone();
    let y = this_year();
    let mut form: HashMap<String, String> = [
        ("start_year", y.to_string()),
        ("target_year", y.max(2027).to_string()),
        ("w_gap", "1".to_string()),
        ("w_children", "1".to_string()),
        ("w_caseload", "0".to_string()),
        ("level_order", "together".to_string()),
        ("norm", INVESTMENT_CASE.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for k in ["norm", "parent"] {
        if let Some(v) = q.get(k) {
            form.insert(k.to_string(), v.clone());
        }
    }
    plan_form(&app, &ctx, &p, form, Vec::new()).await
}

/// Blocked unit-years typed one per line: `CODE YEAR`, `CODE YEAR-YEAR` or
/// `CODE YEAR, YEAR` (commas, semicolons, colons and spaces separate).
pub fn parse_blocked(text: &str) -> Result<Vec<BlockedUnitYear>, Vec<FieldError>> {
    let mut out = BTreeSet::new();
    let mut errs = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let parts: Vec<&str> =
            line.split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':')).filter(|s| !s.is_empty()).collect();
        let Some((code, years)) = parts.split_first() else { continue };
        let bad = || FieldError::new("blocked", "invalid_year").with("row", n + 1).with("value", line.trim());
        if years.is_empty() {
            errs.push(bad());
            continue;
        }
        for y in years {
            let range = match y.split_once('-') {
                Some((a, b)) => a.parse::<i32>().ok().zip(b.parse::<i32>().ok()),
                None => y.parse::<i32>().ok().map(|v| (v, v)),
            };
            match range {
                Some((a, b)) if a <= b && (1900..=2100).contains(&a) && (1900..=2100).contains(&b) => {
                    for year in a..=b {
                        out.insert(BlockedUnitYear { admin_code: code.to_string(), year });
                    }
                }
                _ => errs.push(bad()),
            }
        }
    }
    if errs.is_empty() {
        Ok(out.into_iter().collect())
    } else {
        Err(errs)
    }
}

/// The plan request of a submitted form, or the problems of its fields.
fn plan_request_of(form: &HashMap<String, String>) -> Result<PlanRequest, Vec<FieldError>> {
    let get = |k: &str| form.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut errs = Vec::new();
    let mut num_u32 = |k: &str| -> Option<u32> {
        let v = get(k).replace([',', ' '], "");
        if v.is_empty() {
            return None;
        }
        v.parse().map_err(|_| errs.push(FieldError::new(k, "invalid_number"))).ok()
    };
    let posts = num_u32("posts");
    let yearly_capacity = num_u32("yearly_capacity");
    let cap_per_unit = num_u32("cap_per_unit");
    let mut year = |k: &str| -> i32 {
        match get(k).parse::<i32>() {
            Ok(y) if (1900..=2100).contains(&y) => y,
            _ => {
                errs.push(FieldError::new(k, "invalid_year"));
                0
            }
        }
    };
    let start_year = year("start_year");
    let target_year = year("target_year");
    let mut weight = |k: &str| -> f64 {
        let v = get(k).replace(',', ".");
        if v.is_empty() {
            return 0.0;
        }
        match v.parse::<f64>() {
            Ok(w) if w.is_finite() && w >= 0.0 => w,
            _ => {
                errs.push(FieldError::new(k, "weight_negative"));
                0.0
            }
        }
    };
    let mut weights = Weights {
        gap: weight("w_gap"),
        children: weight("w_children"),
        caseload: weight("w_caseload"),
        indicators: BTreeMap::new(),
    };
    let mut ind: Vec<(&String, &String)> = form.iter().filter(|(k, _)| k.starts_with("w_ind_")).collect();
    ind.sort();
    for (k, _) in ind {
        let w = weight(k);
        if w > 0.0 {
            weights.indicators.insert(k["w_ind_".len()..].to_string(), w);
        }
    }
    let order = get("level_order");
    let level_order = match LEVEL_ORDERS.iter().find(|(c, _)| *c == order) {
        Some((_, levels)) => levels.to_vec(),
        None => {
            errs.push(FieldError::new("level_order", "invalid_choice"));
            Vec::new()
        }
    };
    let blocked = match parse_blocked(&get("blocked")) {
        Ok(b) => b,
        Err(e) => {
            errs.extend(e);
            Vec::new()
        }
    };
    if get("name").is_empty() {
        errs.push(FieldError::new("name", "required"));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(PlanRequest {
        name: get("name"),
        norm: Some(get("norm")).filter(|s| !s.is_empty()).unwrap_or_else(|| INVESTMENT_CASE.into()),
        parent: Some(get("parent")).filter(|s| !s.is_empty()),
        posts,
        start_year,
        target_year,
        yearly_capacity,
        weights,
        cap_per_unit,
        level_order,
        blocked,
    })
}

async fn create_plan(State(app): State<AppState>, ctx: Ctx, Form(form): Form<HashMap<String, String>>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let i = ctx.i;
    let describe = |errs: &[FieldError]| -> Vec<String> {
        errs.iter().map(|e| format!("{}: {}", field_label(&i, &e.field), error_text(&i, e))).collect()
    };
    let req = match plan_request_of(&form) {
        Ok(r) => r,
        Err(errs) => return plan_form(&app, &ctx, &p, form, describe(&errs)).await,
    };
    match app.store.create_plan(&p, &req).await {
        Ok(saved) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/planning/plans/{}", saved.id)).into_response())
        }
        Err(StoreError::Invalid(v)) => plan_form(&app, &ctx, &p, form, describe(&v.errors)).await,
        // A parent outside the caller's scope is named like an unknown one.
        Err(StoreError::NotFound) => {
            let e = FieldError::new("parent", "unknown_admin_unit");
            plan_form(&app, &ctx, &p, form, describe(&[e])).await
        }
        Err(e) => Err(store_error(&ctx, e)),
    }
}

/// A plan as its pages show it: posts by unit and year.
pub struct PlanView {
    pub plan: SavedPlan,
    pub years: Vec<i32>,
    pub rows: Vec<PlanRow>,
    pub per_year: Vec<u32>,
    pub norm_title: String,
    pub area: String,
    pub order_text: String,
    pub weights_text: String,
    pub blocked_text: String,
    pub posts_text: String,
    pub capacity_text: String,
    pub cap_text: String,
}

pub struct PlanRow {
    pub code: String,
    pub level: String,
    pub name: String,
    /// Posts per year of the plan ("" for none).
    pub by_year: Vec<String>,
    pub total: u32,
    pub reason: String,
    pub rank: u32,
}

async fn plan_view(app: &AppState, ctx: &Ctx, p: &Principal, id: i64) -> Result<PlanView, PageError> {
    let i = ctx.i;
    let Some(plan) = app.store.saved_plan(p, id).await.map_err(|e| store_error(ctx, e))? else {
        return Err(ctx.not_found());
    };
    let years: Vec<i32> = (plan.request.start_year..=plan.request.target_year).collect();
    let mut by_unit: BTreeMap<&str, (&PlannedPosts, Vec<u32>)> = BTreeMap::new();
    for x in &plan.result.posts {
        let e = by_unit.entry(&x.admin_code).or_insert_with(|| (x, vec![0; years.len()]));
        if let Some(k) = years.iter().position(|y| *y == x.year) {
            e.1[k] += x.count;
        }
    }
    let mut rows: Vec<PlanRow> = by_unit
        .into_iter()
        .map(|(code, (x, by_year))| {
            let name = plan.result.units.get(code).map(|n| unit_name(&i, &n.name_km, &n.name_en)).unwrap_or_default();
            PlanRow {
                code: code.to_string(),
                level: i.label(x.level),
                name,
                total: by_year.iter().sum(),
                by_year: by_year.iter().map(|n| if *n > 0 { n.to_string() } else { String::new() }).collect(),
                reason: reason_text(&i, &x.why),
                rank: x.why.rank,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.code.cmp(&b.code)));
    let per_year =
        years.iter().map(|y| plan.result.posts.iter().filter(|x| x.year == *y).map(|x| x.count).sum()).collect();
    let norm_title = match app.store.planning_norm(p, &plan.norm).await.map_err(|e| store_error(ctx, e))? {
        Some(n) => norm_title(&i, &n),
        None => plan.norm.clone(),
    };
    let area = match &plan.scope_code {
        None => i.t("planning.nation"),
        Some(code) => match app.store.admin_unit(code).await? {
            Some(u) => format!("{} ({code})", unit_name(&i, &u.name_km, &u.name_en)),
            None => code.clone(),
        },
    };
    let r = &plan.request;
    let order_text = if r.level_order.is_empty() {
        i.t("planning.order_together")
    } else {
        r.level_order.iter().map(|l| i.label(*l)).collect::<Vec<_>>().join(" → ")
    };
    let w = &r.weights;
    let mut weights = vec![
        format!("{} {}", i.t("planning.w_gap"), w.gap),
        format!("{} {}", i.t("planning.w_children"), w.children),
        format!("{} {}", i.t("planning.w_caseload"), w.caseload),
    ];
    weights.extend(w.indicators.iter().map(|(k, v)| format!("{k} {v}")));
    let blocked_text = if r.blocked.is_empty() {
        "—".to_string()
    } else {
        r.blocked.iter().map(|x| format!("{} {}", x.admin_code, x.year)).collect::<Vec<_>>().join(", ")
    };
    let posts_text = match r.posts {
        Some(n) => n.to_string(),
        None => i.tp("planning.whole_gap", &[("n", plan.result.total_gap.to_string())]),
    };
    let none = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_else(|| i.t("planning.no_limit"));
    Ok(PlanView {
        capacity_text: none(r.yearly_capacity),
        cap_text: none(r.cap_per_unit),
        order_text,
        weights_text: weights.join(" · "),
        blocked_text,
        posts_text,
        plan,
        years,
        rows,
        per_year,
        norm_title,
        area,
    })
}

#[derive(Template)]
#[template(path = "planning_plan.html")]
struct PlanPage {
    l: Layout,
    v: PlanView,
    chart: String,
}

fn year_chart(i: &I18n, v: &PlanView) -> String {
    let bars: Vec<ChartBar> = v
        .years
        .iter()
        .zip(&v.per_year)
        .map(|(y, n)| ChartBar { label: y.to_string(), value: *n as f64, target: None, href: None })
        .collect();
    bar_chart(&i.t("planning.posts_by_year"), &i.t("planning.new_posts"), "", &bars)
}

#[derive(Debug, Default, Deserialize)]
struct FormatParam {
    #[serde(default)]
    format: Option<String>,
}

async fn plan_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(f): Query<FormatParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let v = plan_view(&app, &ctx, &p, id).await?;
    if let Some(format) = f.format.as_deref().filter(|f| matches!(*f, "csv" | "xlsx")) {
        let name = format!("komlang-plan-{id}");
        return table_file(format, &name, PLAN_COLUMNS, plan_cells(&v.plan)).map_err(PageError::Internal);
    }
    let chart = year_chart(&ctx.i, &v);
    let l = layout(&ctx, "planning").await?;
    render(&PlanPage { l, v, chart })
}

async fn plan_print(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let v = plan_view(&app, &ctx, &p, id).await?;
    let chart = year_chart(&ctx.i, &v);
    let l = layout(&ctx, "planning").await?;
    render(&PlanPrintPage { l, v, chart })
}

#[derive(Template)]
#[template(path = "planning_plan_print.html")]
struct PlanPrintPage {
    l: Layout,
    v: PlanView,
    chart: String,
}

// ---------------------------------------------------------------------------
// Compare
// ---------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct CompareParams {
    #[serde(default)]
    a: Option<String>,
    #[serde(default)]
    b: Option<String>,
}

pub struct CompareRow {
    pub code: String,
    pub name: String,
    pub a: u32,
    pub b: u32,
    pub diff: i64,
    /// The difference with its sign (`+2`, `-1`, `0`).
    pub diff_text: String,
}

#[derive(Template)]
#[template(path = "planning_compare.html")]
struct ComparePage {
    l: Layout,
    plans: Vec<PlanSummary>,
    pair: Option<(PlanView, PlanView)>,
    a_id: String,
    b_id: String,
    years: Vec<(i32, u32, u32)>,
    rows: Vec<CompareRow>,
}

async fn compare_page(State(app): State<AppState>, ctx: Ctx, Query(q): Query<CompareParams>) -> PageResult {
    let p = ctx.require()?.clone();
    let plans = app.store.saved_plans(&p).await.map_err(|e| store_error(&ctx, e))?;
    let id = |s: &Option<String>| -> Result<Option<i64>, PageError> {
        match nonempty(s) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| ctx.not_found()),
        }
    };
    let (a_id, b_id) = (id(&q.a)?, id(&q.b)?);
    let a = match a_id {
        Some(id) => Some(plan_view(&app, &ctx, &p, id).await?),
        None => None,
    };
    let b = match b_id {
        Some(id) => Some(plan_view(&app, &ctx, &p, id).await?),
        None => None,
    };
    let mut years = Vec::new();
    let mut rows = Vec::new();
    if let (Some(a), Some(b)) = (&a, &b) {
        let all_years: BTreeSet<i32> = a.years.iter().chain(&b.years).copied().collect();
        let sum =
            |v: &PlanView, y: i32| -> u32 { v.plan.result.posts.iter().filter(|x| x.year == y).map(|x| x.count).sum() };
        years = all_years.into_iter().map(|y| (y, sum(a, y), sum(b, y))).collect();
        let mut units: BTreeMap<String, (String, u32, u32)> = BTreeMap::new();
        for (k, v) in [(0, a), (1, b)] {
            for r in &v.rows {
                let e = units.entry(r.code.clone()).or_insert_with(|| (r.name.clone(), 0, 0));
                if k == 0 {
                    e.1 += r.total;
                } else {
                    e.2 += r.total;
                }
            }
        }
        rows = units
            .into_iter()
            .map(|(code, (name, x, y))| {
                let diff = y as i64 - x as i64;
                let diff_text = if diff > 0 { format!("+{diff}") } else { diff.to_string() };
                CompareRow { code, name, a: x, b: y, diff, diff_text }
            })
            .collect();
        rows.sort_by(|x, y| y.diff.abs().cmp(&x.diff.abs()).then_with(|| x.code.cmp(&y.code)));
    }
    let l = layout(&ctx, "planning").await?;
    let pair = match (a, b) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    render(&ComparePage {
        l,
        plans,
        pair,
        a_id: a_id.map(|v| v.to_string()).unwrap_or_default(),
        b_id: b_id.map(|v| v.to_string()).unwrap_or_default(),
        years,
        rows,
    })
}

// ---------------------------------------------------------------------------
// Supply
// ---------------------------------------------------------------------------

/// Assumptions of a supply projection as typed (API query or page form).
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SupplyForm {
    /// A norm's name (default: every norm).
    pub norm: Option<String>,
    /// Only units within this one (default: the caller's scope).
    pub parent: Option<String>,
    /// First year (default: this year).
    pub start_year: Option<String>,
    /// Last year (default: 20 years on).
    pub end_year: Option<String>,
    /// Share of the workforce leaving each year, in percent (default 5).
    pub attrition: Option<String>,
    /// New social work graduates a year (default 45: RUPP about 32 and NISA about 13, seed 002 Figure 7).
    pub graduates: Option<String>,
    /// Other numbers for some years: `2026:50, 2027:60`.
    pub graduates_by_year: Option<String>,
    /// Share of graduates taking a government post, in percent (default 20: seed 001, 20 of NISA's 93 graduates).
    pub uptake: Option<String>,
}

/// The projection of one norm.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NormSupply {
    pub norm: String,
    pub title: String,
    /// Posts the norm requires in the area.
    pub required: u64,
    /// Posts filled today (a surplus in one unit fills no other).
    pub filled: u64,
    pub gap: u64,
    /// First year the projected workforce reaches the requirement (absent: not within the projection).
    pub year_met: Option<i32>,
    pub years: Vec<SupplyYear>,
}

/// A supply projection with its assumptions.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupplyReport {
    pub start_year: i32,
    pub end_year: i32,
    /// Share leaving each year (0.05 = 5%).
    pub attrition: f64,
    pub graduates_per_year: u32,
    pub graduates_by_year: BTreeMap<i32, u32>,
    /// Share of graduates taking a government post (0..1).
    pub uptake: f64,
    pub parent: Option<String>,
    pub norms: Vec<NormSupply>,
}

/// Supply assumptions as read.
pub struct Assumptions {
    pub start: i32,
    pub end: i32,
    pub attrition: f64,
    pub graduates: u32,
    pub by_year: BTreeMap<i32, u32>,
    pub uptake: f64,
}

/// Reads the assumptions (defaults for what is left empty).
pub fn supply_params(f: &SupplyForm) -> Result<Assumptions, Vec<FieldError>> {
    let mut errs = Vec::new();
    let text = |v: &Option<String>| v.as_ref().map(|s| s.trim().replace(',', ".")).filter(|s| !s.is_empty());
    let start = match text(&f.start_year) {
        None => this_year(),
        Some(s) => s.parse().ok().filter(|y| (1900..=2100).contains(y)).unwrap_or_else(|| {
            errs.push(FieldError::new("start_year", "invalid_year"));
            0
        }),
    };
    let end = match text(&f.end_year) {
        None => start + 20,
        Some(s) => s.parse().ok().filter(|y| (1900..=2100).contains(y)).unwrap_or_else(|| {
            errs.push(FieldError::new("end_year", "invalid_year"));
            0
        }),
    };
    if errs.is_empty() && (end < start || end - start > 50) {
        errs.push(FieldError::new("end_year", "invalid_year"));
    }
    let mut percent = |k: &str, v: &Option<String>, default: f64| -> f64 {
        match text(v) {
            None => default,
            Some(s) => match s.parse::<f64>() {
                Ok(p) if (0.0..=100.0).contains(&p) => p / 100.0,
                _ => {
                    errs.push(FieldError::new(k, "invalid_number"));
                    default
                }
            },
        }
    };
    let attrition = percent("attrition", &f.attrition, DEFAULT_ATTRITION);
    let uptake = percent("uptake", &f.uptake, DEFAULT_UPTAKE);
    let graduates = match text(&f.graduates) {
        None => DEFAULT_GRADUATES_PER_YEAR,
        Some(s) => s.parse().unwrap_or_else(|_| {
            errs.push(FieldError::new("graduates", "invalid_number"));
            0
        }),
    };
    let mut by_year = BTreeMap::new();
    if let Some(s) = f.graduates_by_year.as_deref() {
        for item in s.split([',', ';', '\n']).map(str::trim).filter(|s| !s.is_empty()) {
            let parsed = item
                .split_once([':', '='])
                .and_then(|(y, n)| Some((y.trim().parse::<i32>().ok()?, n.trim().parse::<u32>().ok()?)));
            match parsed {
                Some((y, n)) => {
                    by_year.insert(y, n);
                }
                None => errs.push(FieldError::new("graduates_by_year", "invalid_number").with("value", item)),
            }
        }
    }
    if errs.is_empty() {
        Ok(Assumptions { start, end, attrition, graduates, by_year, uptake })
    } else {
        Err(errs)
    }
}

/// Projects supply for one norm or every norm in the caller's area.
pub async fn supply_report(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    f: &SupplyForm,
) -> Result<SupplyReport, StoreError> {
    let Assumptions { start, end, attrition, graduates, by_year, uptake } =
        supply_params(f).map_err(|e| StoreError::Invalid(ValidationErrors { errors: e }))?;
    let parent = nonempty(&f.parent);
    let mut norms = app.store.planning_norms(p).await?;
    if let Some(n) = nonempty(&f.norm) {
        norms.retain(|x| x.name == n);
        if norms.is_empty() {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("norm", "norm_missing").with("value", n),
            )));
        }
    }
    let mut out = Vec::new();
    for n in &norms {
        let t = app.store.norm_totals(p, &n.norm, parent.as_deref(), start).await?;
        let params = SupplyParams {
            in_post: t.filled.min(u32::MAX as u64) as u32,
            required: t.required.min(u32::MAX as u64) as u32,
            start_year: start,
            end_year: end,
            attrition,
            graduates: by_year.clone(),
            default_graduates: graduates,
            uptake,
        };
        out.push(NormSupply {
            norm: n.name.clone(),
            title: norm_title(i, n),
            required: t.required,
            filled: t.filled,
            gap: t.gap,
            year_met: year_norm_met(&params),
            years: project_supply(&params),
        });
    }
    Ok(SupplyReport {
        start_year: start,
        end_year: end,
        attrition,
        graduates_per_year: graduates,
        graduates_by_year: by_year,
        uptake,
        parent,
        norms: out,
    })
}

#[derive(Template)]
#[template(path = "planning_supply.html")]
struct SupplyPage {
    l: Layout,
    f: SupplyForm,
    report: Option<SupplyReport>,
    errors: Vec<String>,
    chart: String,
}

impl SupplyPage {
    fn val(&self, k: &str) -> String {
        let f = &self.f;
        match k {
            "parent" => &f.parent,
            "start_year" => &f.start_year,
            "end_year" => &f.end_year,
            "attrition" => &f.attrition,
            "graduates" => &f.graduates,
            "graduates_by_year" => &f.graduates_by_year,
            "uptake" => &f.uptake,
            _ => &None,
        }
        .clone()
        .unwrap_or_default()
    }
    fn met(&self, n: &NormSupply) -> String {
        match (n.year_met, &self.report) {
            (Some(y), _) => y.to_string(),
            (None, Some(r)) => self.l.i.tp("planning.not_met_by", &[("year", r.end_year.to_string())]),
            (None, None) => String::new(),
        }
    }
    fn workforce(y: &SupplyYear) -> String {
        format!("{:.0}", y.workforce)
    }
    fn pct(v: f64) -> String {
        komlang_io::format_number((v * 1000.0).round() / 10.0)
    }
}

async fn supply_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<SupplyForm>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let (report, errors) = match supply_report(&app, &p, &i, &f).await {
        Ok(r) => (Some(r), Vec::new()),
        Err(StoreError::Invalid(v)) => {
            (None, v.errors.iter().map(|e| format!("{}: {}", field_label(&i, &e.field), error_text(&i, e))).collect())
        }
        Err(e) => return Err(store_error(&ctx, e)),
    };
    let chart = match &report {
        Some(r) => {
            let bars: Vec<ChartBar> = r
                .norms
                .iter()
                .map(|n| ChartBar {
                    label: n.title.chars().take(34).collect(),
                    value: n.filled as f64,
                    target: Some(n.required as f64),
                    href: None,
                })
                .collect();
            bar_chart(&i.t("planning.supply_chart"), &i.t("planning.filled"), &i.t("planning.required"), &bars)
        }
        None => String::new(),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let l = layout(&ctx, "planning").await?;
    render_status(status, &SupplyPage { l, f, report, errors, chart })
}

// ---------------------------------------------------------------------------
// Data: indicators, caseloads, vacancies
// ---------------------------------------------------------------------------

/// Kinds of per-unit data and the columns of their files.
pub const DATA_KINDS: &[(&str, &[&str])] = &[
    ("indicators", &["admin_code", "name", "year", "value"]),
    ("caseloads", &["admin_code", "open_cases", "as_of"]),
    ("vacancies", &["admin_code", "vacancies", "as_of"]),
];

/// Rows of a data file, checked cell by cell (row numbers as a spreadsheet shows them).
pub enum DataRows {
    Indicators(Vec<IndicatorRow>),
    Caseloads(Vec<CaseloadRow>),
    Vacancies(Vec<VacancyRow>),
}

/// Reads a CSV or XLSX file of one kind of data.
pub fn read_data(kind: &str, file_name: &str, bytes: Vec<u8>) -> Result<DataRows, Vec<FieldError>> {
    let Some((_, columns)) = DATA_KINDS.iter().find(|(k, _)| *k == kind) else {
        return Err(vec![FieldError::new("kind", "invalid_choice")]);
    };
    let reader = komlang_io::TableReader::from_bytes(file_name, bytes)
        .map_err(|e| vec![FieldError::new("file", "invalid_file").with("message", e.to_string())])?;
    let headers: Vec<String> = reader.headers().iter().map(|h| h.trim().to_lowercase()).collect();
    let mut idx = Vec::new();
    let mut errs = Vec::new();
    for c in columns.iter() {
        match headers.iter().position(|h| h == c) {
            Some(i) => idx.push(i),
            None => errs.push(FieldError::new(c, "missing_required_column")),
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    let mut ind = Vec::new();
    let mut cases = Vec::new();
    let mut vac = Vec::new();
    for item in reader {
        let (row, cells) =
            item.map_err(|e| vec![FieldError::new("file", "invalid_file").with("message", e.to_string())])?;
        let cell = |k: usize| cells.get(idx[k]).map(|s| s.trim().to_string()).unwrap_or_default();
        let mut bad = |field: &str, code: &str, v: String| {
            errs.push(FieldError::new(field, code).with("row", row).with("value", v))
        };
        match kind {
            "indicators" => {
                let year = cell(2).parse::<i32>();
                let value = cell(3).replace(',', ".").parse::<f64>().ok().filter(|v| v.is_finite());
                if year.is_err() {
                    bad("year", "invalid_year", cell(2));
                }
                if value.is_none() {
                    bad("value", "invalid_number", cell(3));
                }
                if let (Ok(year), Some(value)) = (year, value) {
                    ind.push(IndicatorRow { admin_code: cell(0), name: cell(1), year, value });
                }
            }
            "caseloads" => {
                let n = cell(1).replace([',', ' '], "").parse::<u64>();
                let d = parse_date(&cell(2));
                if n.is_err() {
                    bad("open_cases", "invalid_number", cell(1));
                }
                if d.is_none() {
                    bad("as_of", "invalid_date", cell(2));
                }
                if let (Ok(open_cases), Some(as_of)) = (n, d) {
                    cases.push(CaseloadRow { admin_code: cell(0), open_cases, as_of });
                }
            }
            _ => {
                let n = cell(1).replace([',', ' '], "").parse::<u32>();
                let d = parse_date(&cell(2));
                if n.is_err() {
                    bad("vacancies", "invalid_number", cell(1));
                }
                if d.is_none() {
                    bad("as_of", "invalid_date", cell(2));
                }
                if let (Ok(vacancies), Some(as_of)) = (n, d) {
                    vac.push(VacancyRow { admin_code: cell(0), vacancies, as_of });
                }
            }
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(match kind {
        "indicators" => DataRows::Indicators(ind),
        "caseloads" => DataRows::Caseloads(cases),
        _ => DataRows::Vacancies(vac),
    })
}

fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Saves rows of per-unit data; how many.
pub async fn save_data(app: &AppState, p: &Principal, rows: &DataRows) -> Result<usize, StoreError> {
    match rows {
        DataRows::Indicators(r) => app.store.save_indicators(p, r).await,
        DataRows::Caseloads(r) => app.store.save_caseloads(p, r).await,
        DataRows::Vacancies(r) => app.store.save_vacancies(p, r).await,
    }
}

#[derive(Template)]
#[template(path = "planning_data.html")]
struct DataPage {
    l: Layout,
    can_manage: bool,
    indicators: Vec<String>,
    kinds: Vec<(String, String, String)>,
    kind: String,
    errors: Vec<String>,
    saved: Option<String>,
}

impl DataPage {
    fn is_kind(&self, code: &str) -> bool {
        self.kind == code
    }
}

async fn data_page_with(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    kind: String,
    errors: Vec<String>,
    saved: Option<String>,
) -> PageResult {
    let i = ctx.i;
    let indicators = app.store.indicator_names().await.map_err(|e| store_error(ctx, e))?;
    let kinds = DATA_KINDS
        .iter()
        .map(|(k, cols)| (k.to_string(), i.t(&format!("planning.data_{k}")), cols.join(",")))
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let l = layout(ctx, "planning").await?;
    render_status(status, &DataPage { l, can_manage: p.may(Action::KeepNorms), indicators, kinds, kind, errors, saved })
}

async fn data_page(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    data_page_with(&app, &ctx, &p, "indicators".into(), Vec::new(), None).await
}

/// Largest data file accepted (the body limit of the router is 2 MB).
const MAX_DATA_FILE: usize = 2 * 1024 * 1024;

async fn upload_data(State(app): State<AppState>, ctx: Ctx, mp: Result<Multipart, MultipartRejection>) -> PageResult {
    let p = ctx.require()?.clone();
    // A post that is not a readable multipart form has no readable CSRF token.
    let Ok(mut mp) = mp else { return Err(ctx.forbidden()) };
    let mut csrf = String::new();
    let mut kind = String::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut too_large = false;
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => match field.name().unwrap_or("") {
                "csrf" => csrf = field.text().await.unwrap_or_default(),
                "kind" => kind = field.text().await.unwrap_or_default(),
                "file" => {
                    let name = field.file_name().unwrap_or("").to_string();
                    match field.bytes().await {
                        Ok(b) if b.len() <= MAX_DATA_FILE => file = Some((name, b.to_vec())),
                        _ => {
                            too_large = true;
                            break;
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) => {
                too_large = true;
                break;
            }
        }
    }
    ctx.check_csrf(&csrf)?;
    let i = ctx.i;
    if !DATA_KINDS.iter().any(|(k, _)| *k == kind) {
        kind = "indicators".into();
    }
    let fail = |errs: Vec<FieldError>| {
        errs.iter().map(|e| format!("{}: {}", field_label(&i, &e.field), error_text(&i, e))).collect::<Vec<_>>()
    };
    if too_large {
        return data_page_with(&app, &ctx, &p, kind, vec![i.t("planning.file_too_large")], None).await;
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return data_page_with(&app, &ctx, &p, kind, vec![i.t("planning.no_file")], None).await;
    };
    let rows = match read_data(&kind, &name, bytes) {
        Ok(r) => r,
        Err(errs) => return data_page_with(&app, &ctx, &p, kind, fail(errs), None).await,
    };
    match save_data(&app, &p, &rows).await {
        Ok(n) => {
            let msg = i.tp("planning.data_saved", &[("n", n.to_string())]);
            data_page_with(&app, &ctx, &p, kind, Vec::new(), Some(msg)).await
        }
        Err(StoreError::Invalid(v)) => data_page_with(&app, &ctx, &p, kind, fail(v.errors), None).await,
        Err(e) => Err(store_error(&ctx, e)),
    }
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

/// Every error code planning reports, for the translation tests.
pub fn error_codes() -> &'static [&'static str] {
    PLANNING_ERROR_CODES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_unit_years_are_read_line_by_line() {
        let b = parse_blocked("020101 2025\n0201: 2026-2027\n\n12 2025, 2027").unwrap();
        let pairs: Vec<(&str, i32)> = b.iter().map(|x| (x.admin_code.as_str(), x.year)).collect();
        assert_eq!(pairs, vec![("0201", 2026), ("0201", 2027), ("020101", 2025), ("12", 2025), ("12", 2027)]);
        let e = parse_blocked("020101\n0201 2027-2026\n02 soon").unwrap_err();
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].params.get("row").map(String::as_str), Some("1"));
    }

    #[test]
    fn every_planning_text_exists_in_both_languages() {
        let sources = [
            include_str!("planning.rs"),
            include_str!("planning_api.rs"),
            include_str!("../templates/planning_index.html"),
            include_str!("../templates/planning_coverage.html"),
            include_str!("../templates/planning_norms.html"),
            include_str!("../templates/planning_plan_form.html"),
            include_str!("../templates/planning_plan.html"),
            include_str!("../templates/planning_plan_body.html"),
            include_str!("../templates/planning_plan_print.html"),
            include_str!("../templates/planning_compare.html"),
            include_str!("../templates/planning_supply.html"),
            include_str!("../templates/planning_data.html"),
        ];
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for src in sources {
            for part in src.split(".t(\"").skip(1).chain(src.split(".tp(\"").skip(1)) {
                keys.insert(part.split('"').next().unwrap().to_string());
            }
        }
        for code in error_codes() {
            keys.insert(format!("planning.error.{code}"));
        }
        for (k, _) in LEVEL_ORDERS {
            keys.insert(format!("planning.order_{k}"));
        }
        for (k, _) in DATA_KINDS {
            keys.insert(format!("planning.data_{k}"));
        }
        for f in ["name", "norm", "parent", "posts", "start_year", "target_year", "yearly_capacity", "cap_per_unit"] {
            keys.insert(format!("planning.field.{f}"));
        }
        let mut missing = Vec::new();
        for l in Locale::ALL {
            for k in &keys {
                if !I18n::new(l).has(k) {
                    missing.push(format!("{}:{k}", l.code()));
                }
            }
        }
        assert!(missing.is_empty(), "missing translations: {missing:?}");
        assert_ne!(I18n::new(Locale::Km).t("planning.title"), I18n::new(Locale::En).t("planning.title"));
    }

    #[test]
    fn charts_escape_their_labels() {
        let svg =
            bar_chart("t<", "a", "b", &[ChartBar { label: "<x>&".into(), value: 2.0, target: Some(3.0), href: None }]);
        assert!(svg.contains("&lt;x&gt;&amp;") && !svg.contains("<x>"));
        assert!(!svg.contains("style="), "no inline style (CSP)");
    }
}
