//! The planning index and the coverage of a norm (table, chart, exports).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use komlang_core::planning::{Coverage, CoverageTotals, INVESTMENT_CASE};
use komlang_core::NonBlank;
use komlang_core::{Action, AdminLevel};
use komlang_store::planning::{FactsQuery, PlanSummary};
use komlang_store::StoreError;
use serde::Deserialize;

use super::charts::{bar_chart, ChartBar};
use super::shared::{
    default_level, error_text, level_choices, norm_choices, plan_level, store_error, this_year, unit_name, Choice,
};
use super::tables::{coverage_cells, opt, ratio_text, sort_coverage, table_file, COVERAGE_COLUMNS};
use crate::common::{layout, render, render_status, Ctx, Layout, PageError, PageResult};
use crate::AppState;

const CSS: &str = include_str!("../../static/planning.css");

pub(super) async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")], CSS)
}

#[derive(Template)]
#[template(path = "planning/index.html")]
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

pub(super) async fn index(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    let plans = app.store.saved_plans(&p).await.map_err(|e| store_error(&ctx, e))?;
    let l = layout(&ctx, "planning").await?;
    render(&IndexPage { l, plans, can_plan: p.may(Action::MakePlans) })
}

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
#[template(path = "planning/coverage.html")]
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

pub(super) async fn coverage_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(f): Query<CoverageParams>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let parent = f.parent.non_blank().map(String::from);
    let (_, area) = app.store.planning_area(&p, parent.as_deref()).await.map_err(|e| store_error(&ctx, e))?;
    let level = f.level.as_deref().and_then(plan_level).unwrap_or_else(|| default_level(area.as_ref()));
    let norm_name = f.norm.non_blank().map(String::from).unwrap_or_else(|| INVESTMENT_CASE.to_string());
    let year = f.year.as_deref().and_then(|y| y.trim().parse().ok()).unwrap_or_else(this_year);
    let sort = f.sort.non_blank().map(String::from).unwrap_or_else(|| "code".into());
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
