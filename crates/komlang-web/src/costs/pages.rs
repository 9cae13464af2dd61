//! Costs' pages: the workforce's cost with the data it comes from (and, for national
//! administrators, forms to add or change a row of it), and two plans' costs side by side.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use chrono::NaiveDate;
use komlang_core::costs::{Allowance, CadreCosting, ScaleRow, TrainingCost};
use komlang_core::training::CertificateLevel;
use komlang_core::*;
use komlang_store::costs::{CostData, CostGroup, CurrencyRate, PlanCost, WorkforceCost};
use komlang_store::StoreError;
use serde::Deserialize;

use crate::common::form_box::{decimal, integer, messages, no_errors};
use crate::common::names::pick;
use crate::common::pagination::grouped;
use crate::common::{flash, layout, render_status, store_err, today, Choice, Ctx, I18n, Layout, PageResult};
use crate::AppState;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct CostFilters {
    pub level: String,
    pub currency: String,
}

pub struct GroupLine {
    pub name: String,
    pub workers: u32,
    pub cost: String,
}

#[derive(Template)]
#[template(path = "costs/costs.html")]
struct CostsPage {
    l: Layout,
    levels: Vec<Choice>,
    currencies: Vec<Choice>,
    currency: String,
    report: WorkforceCost,
    total: String,
    by_unit: Vec<GroupLine>,
    by_sector: Vec<GroupLine>,
    by_funding: Vec<GroupLine>,
    data: CostData,
    can_keep: bool,
    problems: Vec<String>,
    cadres: Vec<Choice>,
    levels_of_training: Vec<Choice>,
    level_code: &'static str,
}

/// An amount as the pages write it: whole units, thousands grouped.
pub(super) fn money(v: f64) -> String {
    grouped(v.round() as i64)
}

fn lines(i: &I18n, groups: &[CostGroup], name: impl Fn(&CostGroup) -> String) -> Vec<GroupLine> {
    let _ = i;
    groups.iter().map(|g| GroupLine { name: name(g), workers: g.workers, cost: money(g.cost) }).collect()
}

async fn costs_view(app: &AppState, ctx: &Ctx, p: &Principal, f: &CostFilters, problems: Vec<String>) -> PageResult {
    let i = ctx.i;
    let level = AdminLevel::parse(&f.level)
        .filter(|l| matches!(l, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune))
        .unwrap_or(AdminLevel::Province);
    let data = app.store.cost_data(p).await.map_err(|e| store_err(ctx, e))?;
    let currency = data.currencies.iter().find(|c| **c == f.currency.trim()).cloned().unwrap_or_else(|| "USD".into());
    let report = app.store.workforce_cost(p, level, &currency, today()).await.map_err(|e| store_err(ctx, e))?;
    let by_unit = lines(&i, &report.by_unit, |g| pick(&i, &g.name_en, &g.name_km));
    let by_sector = lines(&i, &report.by_sector, |g| i.code_label("sector", &g.key));
    let by_funding = lines(&i, &report.by_funding, |g| {
        if g.key == "none" {
            i.t("costs.no_post")
        } else {
            i.code_label("funding", &g.key)
        }
    });
    let levels = [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune]
        .iter()
        .map(|l| Choice { value: l.code().into(), label: i.label(*l), selected: *l == level })
        .collect();
    let currencies = data
        .currencies
        .iter()
        .map(|c| Choice { value: c.clone(), label: c.clone(), selected: *c == currency })
        .collect();
    let cadres =
        Cadre::ALL.iter().map(|c| Choice { value: c.code().into(), label: i.label(*c), selected: false }).collect();
    let levels_of_training = CertificateLevel::ALL
        .iter()
        .map(|l| Choice { value: l.code().into(), label: i.t(&l.label_key()), selected: false })
        .collect();
    let l = layout(ctx, "costs").await?;
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render_status(
        status,
        &CostsPage {
            levels,
            currencies,
            total: money(report.total),
            currency,
            by_unit,
            by_sector,
            by_funding,
            report,
            data,
            can_keep: p.may(Action::KeepCosts),
            problems,
            cadres,
            levels_of_training,
            level_code: level.code(),
            l,
        },
    )
}

pub(super) async fn costs_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<CostFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    costs_view(&app, &ctx, &p, &f, Vec::new()).await
}

/// A row of the cost data, as posted: `kind` is rate, scale, allowance or cadre.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RowForm {
    pub csrf: String,
    pub kind: String,
    pub currency: String,
    pub year: String,
    pub per_usd: String,
    pub grade: String,
    pub step: String,
    pub effective_from: String,
    pub monthly: String,
    pub code: String,
    pub name_en: String,
    pub name_km: String,
    pub units: String,
    pub cadre: String,
    pub certificate: String,
    pub level: String,
    pub cost: String,
}

fn date(k: &str, v: &str, errs: &mut ValidationErrors) -> NaiveDate {
    NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").unwrap_or_else(|_| {
        errs.push(FieldError::new(k, "invalid_date"));
        NaiveDate::MIN
    })
}

pub(super) async fn add_row(State(app): State<AppState>, ctx: Ctx, Form(form): Form<RowForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let mut errs = no_errors();
    let currency = form.currency.trim().to_string();
    let whole = |k: &str, v: &str, errs: &mut ValidationErrors| -> u32 {
        match integer(k, v, errs) {
            Some(n) if (0..=100_000).contains(&n) => n as u32,
            Some(_) => {
                errs.push(FieldError::new(k, "out_of_range").with("min", 0).with("max", 100_000));
                0
            }
            None => {
                if errs.for_field(k).is_none() {
                    errs.push(FieldError::new(k, "required"));
                }
                0
            }
        }
    };
    let change: Box<dyn FnOnce(&mut CostData) + Send> = match form.kind.as_str() {
        "rate" => {
            let year = whole("year", &form.year, &mut errs) as i32;
            let per_usd = decimal("per_usd", &form.per_usd, &mut errs);
            let row = CurrencyRate { currency: currency.clone(), year, per_usd };
            Box::new(move |d: &mut CostData| {
                d.rates.retain(|r| !(r.currency == row.currency && r.year == row.year));
                if !d.currencies.contains(&row.currency) {
                    d.currencies.push(row.currency.clone());
                }
                d.rates.push(row);
            })
        }
        "scale" => {
            let row = ScaleRow {
                grade: form.grade.trim().to_string(),
                step: whole("step", &form.step, &mut errs),
                effective_from: date("effective_from", &form.effective_from, &mut errs),
                monthly: decimal("monthly", &form.monthly, &mut errs),
                currency,
            };
            Box::new(move |d: &mut CostData| {
                d.scales.retain(|s| {
                    !(s.grade == row.grade && s.step == row.step && s.effective_from == row.effective_from)
                });
                d.scales.push(row);
            })
        }
        "allowance" => {
            let row = Allowance {
                code: form.code.trim().to_string(),
                name_en: form.name_en.trim().to_string(),
                name_km: form.name_km.trim().to_string(),
                effective_from: date("effective_from", &form.effective_from, &mut errs),
                monthly: decimal("monthly", &form.monthly, &mut errs),
                currency,
                units: form.units.split([' ', ',']).filter(|s| !s.is_empty()).map(String::from).collect(),
            };
            Box::new(move |d: &mut CostData| {
                d.allowances.retain(|a| !(a.code == row.code && a.effective_from == row.effective_from));
                d.allowances.push(row);
            })
        }
        "cadre" => {
            let Some(cadre) = Cadre::parse(&form.cadre) else { return Err(ctx.not_found()) };
            let row = CadreCosting {
                cadre,
                grade: form.grade.trim().to_string(),
                step: whole("step", &form.step, &mut errs),
                certificate: CertificateLevel::parse(&form.certificate),
            };
            Box::new(move |d: &mut CostData| {
                d.cadres.retain(|c| c.cadre != row.cadre);
                d.cadres.push(row);
            })
        }
        "training" => {
            let Some(level) = CertificateLevel::parse(&form.level) else { return Err(ctx.not_found()) };
            let row = TrainingCost { level, cost: decimal("cost", &form.cost, &mut errs), currency };
            Box::new(move |d: &mut CostData| {
                d.training.retain(|t| t.level != row.level);
                d.training.push(row);
            })
        }
        _ => return Err(ctx.not_found()),
    };
    let result = if errs.is_empty() {
        app.store.change_cost_data(&p, change).await.map(|_| ())
    } else {
        Err(StoreError::Invalid(errs))
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/costs#data").into_response())
        }
        Err(StoreError::Invalid(e)) => {
            let f = CostFilters::default();
            costs_view(&app, &ctx, &p, &f, messages(&ctx.i, &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct PlansFilters {
    pub a: String,
    pub b: String,
    pub currency: String,
}

pub struct YearLine {
    pub year: i32,
    pub a_posts: String,
    pub a_cost: String,
    pub b_posts: String,
    pub b_cost: String,
}

#[derive(Template)]
#[template(path = "costs/plans.html")]
struct PlansPage {
    l: Layout,
    plans_a: Vec<Choice>,
    plans_b: Vec<Choice>,
    currencies: Vec<Choice>,
    currency: String,
    names: (String, String),
    years: Vec<YearLine>,
    totals: (String, String),
    problems: Vec<String>,
}

pub(super) async fn plans_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<PlansFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let plans = app.store.saved_plans(&p).await.map_err(|e| store_err(&ctx, e))?;
    let data = app.store.cost_data(&p).await.map_err(|e| store_err(&ctx, e))?;
    let currency = data.currencies.iter().find(|c| **c == f.currency.trim()).cloned().unwrap_or_else(|| "USD".into());
    let pick_plan = |v: &str| v.trim().parse::<i64>().ok().filter(|id| plans.iter().any(|x| x.id == *id));
    let (a, b) = (pick_plan(&f.a), pick_plan(&f.b));
    let choices = |chosen: Option<i64>| {
        let mut out = vec![Choice { value: String::new(), label: "—".into(), selected: chosen.is_none() }];
        out.extend(plans.iter().map(|x| Choice {
            value: x.id.to_string(),
            label: x.name.clone(),
            selected: Some(x.id) == chosen,
        }));
        out
    };
    let mut problems = Vec::new();
    let cost_of = |id: Option<i64>| {
        let app = app.clone();
        let (p, currency) = (p.clone(), currency.clone());
        async move {
            match id {
                None => Ok(None),
                Some(id) => match app.store.plan_cost(&p, id, &currency).await {
                    Ok(c) => Ok(Some(c)),
                    Err(StoreError::Invalid(e)) => Err(e),
                    Err(_) => Ok(None),
                },
            }
        }
    };
    let ca: Option<PlanCost> = cost_of(a).await.unwrap_or_else(|e| {
        problems.extend(messages(&i, &e));
        None
    });
    let cb: Option<PlanCost> = cost_of(b).await.unwrap_or_else(|e| {
        problems.extend(messages(&i, &e));
        None
    });
    let mut years: Vec<i32> = ca.iter().chain(cb.iter()).flat_map(|c| c.years.iter().map(|y| y.year)).collect();
    years.sort_unstable();
    years.dedup();
    let cell = |c: &Option<PlanCost>, y: i32| {
        c.as_ref()
            .and_then(|c| c.years.iter().find(|x| x.year == y))
            .map(|x| (x.posts.to_string(), money(x.cost)))
            .unwrap_or_default()
    };
    let years = years
        .into_iter()
        .map(|y| {
            let (a_posts, a_cost) = cell(&ca, y);
            let (b_posts, b_cost) = cell(&cb, y);
            YearLine { year: y, a_posts, a_cost, b_posts, b_cost }
        })
        .collect();
    let name = |id: Option<i64>| {
        id.and_then(|id| plans.iter().find(|x| x.id == id)).map(|x| x.name.clone()).unwrap_or_default()
    };
    let total = |c: &Option<PlanCost>| c.as_ref().map(|c| money(c.total)).unwrap_or_default();
    let currencies = data
        .currencies
        .iter()
        .map(|c| Choice { value: c.clone(), label: c.clone(), selected: *c == currency })
        .collect();
    let l = layout(&ctx, "costs").await?;
    render_status(
        StatusCode::OK,
        &PlansPage {
            plans_a: choices(a),
            plans_b: choices(b),
            currencies,
            currency,
            names: (name(a), name(b)),
            years,
            totals: (total(&ca), total(&cb)),
            problems,
            l,
        },
    )
}

/// A worker's rank, as posted from their page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct RankForm {
    pub csrf: String,
    pub grade: String,
    pub step: String,
    pub from_date: String,
}

pub(super) async fn add_rank(
    State(app): State<AppState>,
    ctx: Ctx,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Form(form): Form<RankForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let mut errs = no_errors();
    let step = integer("step", &form.step, &mut errs).and_then(|s| u32::try_from(s).ok());
    let from = date("from_date", &form.from_date, &mut errs);
    let result = match step {
        Some(step) if errs.is_empty() => {
            let input = komlang_store::costs::RankInput { grade: form.grade.clone(), step, from_date: from };
            app.store.add_worker_rank(&p, id, &input).await.map(|_| ())
        }
        _ => {
            if errs.is_empty() {
                errs.push(FieldError::new("step", "required"));
            }
            Err(StoreError::Invalid(errs))
        }
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/workers/{id}#ranks")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            // Back to the worker's page, which says what was wrong.
            let key = e.errors.first().map(|f| format!("error.{}", f.code)).unwrap_or_else(|| "error.required".into());
            flash(&ctx, &key).await?;
            Ok(Redirect::to(&format!("/workers/{id}#ranks")).into_response())
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

/// The workforce's cost by unit as a file (`format=csv|xlsx`).
pub(super) async fn export(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<crate::common::export::FormatParam>,
    Query(f): Query<CostFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = crate::common::export::export_format(&ctx, &fmt.format)?;
    let level = AdminLevel::parse(&f.level)
        .filter(|l| matches!(l, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune))
        .unwrap_or(AdminLevel::Province);
    let currency = if f.currency.trim().is_empty() { "USD".to_string() } else { f.currency.trim().to_string() };
    let w = app.store.workforce_cost(&p, level, &currency, today()).await.map_err(|e| store_err(&ctx, e))?;
    crate::common::export::page_download(
        &ctx,
        "komlang-workforce-cost",
        format,
        super::WORKFORCE_COLUMNS,
        super::workforce_cells(&w),
    )
    .await
}
