//! Deployment plans: the form, saved scenarios, the plan's page and printable page with
//! exports, and comparing two plans.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::planning::{PlannedPosts, Weights, INVESTMENT_CASE};
use komlang_core::{Action, AdminLevel, FieldError, NonBlank, Principal};
use komlang_store::planning::{BlockedUnitYear, PlanRequest, PlanSummary, SavedPlan};
use komlang_store::StoreError;
use serde::{Deserialize, Serialize};

use super::charts::{bar_chart, ChartBar};
use super::shared::{
    error_text, field_label, norm_choices, norm_title, reason_text, store_error, this_year, unit_name, Choice,
};
use super::tables::{plan_cells, table_file, PLAN_COLUMNS};
use crate::common::form_box::values_of;
use crate::common::{flash, layout, render, render_status, Ctx, I18n, Layout, PageError, PageResult};
use crate::AppState;

/// Level orders offered by the plan form.
pub(super) const LEVEL_ORDERS: &[(&str, &[AdminLevel])] = &[
    ("together", &[]),
    ("province_first", &[AdminLevel::Province, AdminLevel::District, AdminLevel::Commune]),
    ("commune_first", &[AdminLevel::Commune, AdminLevel::District, AdminLevel::Province]),
    ("district_first", &[AdminLevel::District, AdminLevel::Commune, AdminLevel::Province]),
];

#[derive(Template)]
#[template(path = "planning/plan_form.html")]
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
    let parent = form.get("parent").non_blank().map(String::from);
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

/// What a link to the plan form may choose beforehand.
#[derive(Debug, Default, Deserialize)]
pub(super) struct NewPlanParams {
    pub norm: Option<String>,
    pub parent: Option<String>,
}

/// The plan form, as posted (numbers as typed). `norm` and `level_order` are none when not
/// posted at all (the form shown again then offers the defaults); the weights of indicators
/// come as `w_ind_<name>` fields, kept with any other field in `indicators`.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct PlanForm {
    pub csrf: String,
    pub name: String,
    pub norm: Option<String>,
    pub parent: String,
    pub posts: String,
    pub start_year: String,
    pub target_year: String,
    pub yearly_capacity: String,
    pub cap_per_unit: String,
    pub w_gap: String,
    pub w_children: String,
    pub w_caseload: String,
    pub level_order: Option<String>,
    pub blocked: String,
    #[serde(flatten)]
    pub indicators: BTreeMap<String, String>,
}

pub(super) async fn new_plan(State(app): State<AppState>, ctx: Ctx, Query(q): Query<NewPlanParams>) -> PageResult {
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
    for (k, v) in [("norm", q.norm), ("parent", q.parent)] {
        if let Some(v) = v {
            form.insert(k.to_string(), v);
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
pub(super) fn plan_request_of(form: &PlanForm) -> Result<PlanRequest, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut num_u32 = |k: &str, typed: &str| -> Option<u32> {
        let v = typed.trim().replace([',', ' '], "");
        if v.is_empty() {
            return None;
        }
        v.parse().map_err(|_| errs.push(FieldError::new(k, "invalid_number"))).ok()
    };
    let posts = num_u32("posts", &form.posts);
    let yearly_capacity = num_u32("yearly_capacity", &form.yearly_capacity);
    let cap_per_unit = num_u32("cap_per_unit", &form.cap_per_unit);
    let mut year = |k: &str, typed: &str| -> i32 {
        match typed.trim().parse::<i32>() {
            Ok(y) if (1900..=2100).contains(&y) => y,
            _ => {
                errs.push(FieldError::new(k, "invalid_year"));
                0
            }
        }
    };
    let start_year = year("start_year", &form.start_year);
    let target_year = year("target_year", &form.target_year);
    let mut weight = |k: &str, typed: &str| -> f64 {
        let v = typed.trim().replace(',', ".");
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
        gap: weight("w_gap", &form.w_gap),
        children: weight("w_children", &form.w_children),
        caseload: weight("w_caseload", &form.w_caseload),
        indicators: BTreeMap::new(),
    };
    for (k, v) in form.indicators.iter().filter(|(k, _)| k.starts_with("w_ind_")) {
        let w = weight(k, v);
        if w > 0.0 {
            weights.indicators.insert(k["w_ind_".len()..].to_string(), w);
        }
    }
    let order = form.level_order.as_deref().unwrap_or("").trim();
    let level_order = match LEVEL_ORDERS.iter().find(|(c, _)| *c == order) {
        Some((_, levels)) => levels.to_vec(),
        None => {
            errs.push(FieldError::new("level_order", "invalid_choice"));
            Vec::new()
        }
    };
    let blocked = match parse_blocked(form.blocked.trim()) {
        Ok(b) => b,
        Err(e) => {
            errs.extend(e);
            Vec::new()
        }
    };
    let name = form.name.non_blank();
    if name.is_none() {
        errs.push(FieldError::new("name", "required"));
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(PlanRequest {
        name: name.unwrap_or_default().to_string(),
        norm: form.norm.non_blank().unwrap_or(INVESTMENT_CASE).to_string(),
        parent: form.parent.non_blank().map(str::to_string),
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

pub(super) async fn create_plan(State(app): State<AppState>, ctx: Ctx, Form(form): Form<PlanForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let i = ctx.i;
    let describe = |errs: &[FieldError]| -> Vec<String> {
        errs.iter().map(|e| format!("{}: {}", field_label(&i, &e.field), error_text(&i, e))).collect()
    };
    let req = plan_request_of(&form);
    let form = values_of(&form);
    let req = match req {
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
#[template(path = "planning/plan.html")]
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
pub(super) struct FormatParam {
    #[serde(default)]
    pub(super) format: Option<String>,
}

pub(super) async fn plan_page(
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

pub(super) async fn plan_print(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let v = plan_view(&app, &ctx, &p, id).await?;
    let chart = year_chart(&ctx.i, &v);
    let l = layout(&ctx, "planning").await?;
    render(&PlanPrintPage { l, v, chart })
}

#[derive(Template)]
#[template(path = "planning/plan_print.html")]
struct PlanPrintPage {
    l: Layout,
    v: PlanView,
    chart: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct CompareParams {
    #[serde(default)]
    pub(super) a: Option<String>,
    #[serde(default)]
    pub(super) b: Option<String>,
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
#[template(path = "planning/compare.html")]
struct ComparePage {
    l: Layout,
    plans: Vec<PlanSummary>,
    pair: Option<(PlanView, PlanView)>,
    a_id: String,
    b_id: String,
    years: Vec<(i32, u32, u32)>,
    rows: Vec<CompareRow>,
}

pub(super) async fn compare_page(State(app): State<AppState>, ctx: Ctx, Query(q): Query<CompareParams>) -> PageResult {
    let p = ctx.require()?.clone();
    let plans = app.store.saved_plans(&p).await.map_err(|e| store_error(&ctx, e))?;
    let id = |s: &Option<String>| -> Result<Option<i64>, PageError> {
        match s.non_blank().map(String::from) {
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
