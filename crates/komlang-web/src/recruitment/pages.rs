//! The recruitment page: each unit's need for a year, with its download, and (for national
//! administrators) the form of the retirement age and the exit rates per cadre.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use chrono::Datelike;
use komlang_core::recruitment::ExitRates;
use komlang_core::*;
use komlang_store::recruitment::{NeedReport, RecruitmentSettings};
use komlang_store::StoreError;
use serde::Deserialize;

use crate::common::export::{export_format, page_download, FormatParam};
use crate::common::form_box::messages;
use crate::common::names::pick;
use crate::common::{flash, layout, render_status, store_err, today, Choice, Ctx, Layout, PageResult};
use crate::AppState;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct NeedFilters {
    pub year: String,
    pub level: String,
    pub parent: String,
    pub plan: String,
}

impl NeedFilters {
    fn year(&self) -> i32 {
        self.year.trim().parse().ok().filter(|y| (1900..=2100).contains(y)).unwrap_or_else(|| today().year() + 1)
    }
    fn level(&self) -> Option<String> {
        self.level.non_blank().map(String::from)
    }
    fn parent(&self) -> Option<String> {
        self.parent.non_blank().map(String::from)
    }
    fn plan(&self) -> Option<i64> {
        self.plan.trim().parse().ok()
    }
}

pub struct Line {
    pub unit: String,
    pub name: String,
    pub need: komlang_core::recruitment::Need,
    pub other: String,
}

pub struct RateLine {
    pub code: String,
    pub name: String,
    pub incapacity: String,
    pub death: String,
}

#[derive(Template)]
#[template(path = "recruitment/need.html")]
struct NeedPage {
    l: Layout,
    year: i32,
    levels: Vec<Choice>,
    plans: Vec<Choice>,
    parent: String,
    lines: Vec<Line>,
    total: Line,
    retirement_age: u32,
    rates: Vec<RateLine>,
    can_keep: bool,
    problems: Vec<String>,
    query: String,
}

async fn report(app: &AppState, ctx: &Ctx, p: &Principal, f: &NeedFilters) -> Result<NeedReport, PageResult> {
    match super::api::need_report(app, p, Some(f.year()), &f.level(), &f.parent(), f.plan()).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(Err(store_err(ctx, e))),
        // A level or year the page's own form cannot send: the defaults instead.
        Err(_) => match super::api::need_report(app, p, Some(today().year() + 1), &None, &f.parent(), f.plan()).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(Err(store_err(ctx, e))),
            Err(_) => Err(Err(store_err(ctx, StoreError::NotFound))),
        },
    }
}

async fn need_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: &NeedFilters,
    problems: Vec<String>,
    shown: Option<&RecruitmentSettings>,
) -> PageResult {
    let i = ctx.i;
    let r = match report(app, ctx, p, f).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let settings = match shown {
        Some(s) => s.clone(),
        None => app.store.recruitment_settings().await.map_err(|e| store_err(ctx, e))?,
    };
    let other = |n: &komlang_core::recruitment::Need| format!("{:.1}", n.other_exits);
    let lines = r
        .items
        .iter()
        .map(|u| Line {
            unit: u.unit.clone(),
            name: pick(&i, &u.name_en, &u.name_km),
            other: other(&u.need),
            need: u.need.clone(),
        })
        .collect();
    let total = Line { unit: String::new(), name: i.t("costs.total"), other: other(&r.total), need: r.total.clone() };
    let levels = [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune]
        .iter()
        .map(|lv| Choice { value: lv.code().into(), label: i.label(*lv), selected: *lv == r.level })
        .collect();
    let rates = Cadre::ALL
        .iter()
        .map(|c| {
            let set = settings.exit_rates.iter().find(|x| x.cadre == *c);
            RateLine {
                code: c.code().into(),
                name: i.label(*c),
                incapacity: set.map(|x| x.incapacity_per_1000.to_string()).unwrap_or_else(|| "0".into()),
                death: set.map(|x| x.death_per_1000.to_string()).unwrap_or_else(|| "0".into()),
            }
        })
        .collect();
    let parent = r.parent.clone().unwrap_or_default();
    let plans = app
        .store
        .saved_plans(p)
        .await
        .map_err(|e| store_err(ctx, e))?
        .into_iter()
        .map(|x| Choice {
            value: x.id.to_string(),
            label: format!("{} ({}–{})", x.name, x.start_year, x.target_year),
            selected: r.plan == Some(x.id),
        })
        .collect();
    let plan = r.plan.map(|id| id.to_string()).unwrap_or_default();
    let l = layout(ctx, "recruitment").await?;
    render_status(
        if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &NeedPage {
            year: r.year,
            levels,
            plans,
            query: crate::common::form_box::query_string(&[
                ("year", &r.year.to_string()),
                ("level", r.level.code()),
                ("parent", &parent),
                ("plan", &plan),
            ]),
            parent,
            lines,
            total,
            retirement_age: settings.retirement_age,
            rates,
            can_keep: p.may(Action::KeepNorms),
            problems,
            l,
        },
    )
}

pub(super) async fn need_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<NeedFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    need_view(&app, &ctx, &p, &f, Vec::new(), None).await
}

/// The need shown (same year, level and parent) as a CSV or XLSX file.
pub(super) async fn export(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<NeedFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let r = match report(&app, &ctx, &p, &f).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    page_download(&ctx, "komlang-recruitment-need", format, super::NEED_COLUMNS, super::need_cells(&r)).await
}

/// The settings form: the retirement age, and per cadre `incapacity_<cadre>` and `death_<cadre>`.
pub(super) async fn save_settings(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    ctx.check_csrf(&get("csrf"))?;
    let mut errs = ValidationErrors::default();
    let retirement_age = get("retirement_age").parse::<u32>().unwrap_or_else(|_| {
        errs.push(FieldError::new("retirement_age", "retirement_age_range"));
        0
    });
    let mut exit_rates = Vec::new();
    for c in Cadre::ALL {
        let num = |field: &str, errs: &mut ValidationErrors| {
            let v = get(&format!("{field}_{}", c.code()));
            if v.is_empty() {
                return Some(0.0);
            }
            v.replace(',', ".").parse::<f64>().ok().or_else(|| {
                errs.push(FieldError::new(&format!("{field}_per_1000"), "rate_range"));
                None
            })
        };
        let inc = num("incapacity", &mut errs);
        let death = num("death", &mut errs);
        if let (Some(inc), Some(death)) = (inc, death) {
            exit_rates.push(ExitRates { cadre: *c, incapacity_per_1000: inc, death_per_1000: death });
        }
    }
    let settings = RecruitmentSettings { retirement_age, exit_rates };
    let result = if errs.is_empty() {
        app.store.set_recruitment_settings(&p, &settings).await
    } else {
        Err(StoreError::Invalid(errs))
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/recruitment#settings").into_response())
        }
        Err(StoreError::Invalid(e)) => {
            need_view(&app, &ctx, &p, &NeedFilters::default(), messages(&ctx.i, &e), Some(&settings)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}
