//! The supply projection: graduates, uptake and attrition against the norms, year by year.

use komlang_core::NonBlank;
use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use komlang_core::planning::{
    project_supply, year_norm_met, SupplyParams, SupplyYear, DEFAULT_ATTRITION, DEFAULT_GRADUATES_PER_YEAR,
    DEFAULT_UPTAKE,
};
use komlang_core::{Action, FieldError, Principal, ValidationErrors};
use komlang_store::StoreError;
use serde::{Deserialize, Serialize};

use super::charts::{bar_chart, ChartBar};
use super::shared::{error_text, field_label, norm_title, store_error, this_year};
use crate::common::{layout, render_status, Ctx, I18n, Layout, PageResult};
use crate::AppState;

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
    let parent = f.parent.non_blank().map(String::from);
    let mut norms = app.store.planning_norms(p).await?;
    if let Some(n) = f.norm.non_blank().map(String::from) {
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
#[template(path = "planning/supply.html")]
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

pub(super) async fn supply_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<SupplyForm>) -> PageResult {
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
