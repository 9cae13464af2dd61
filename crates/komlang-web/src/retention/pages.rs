//! The retention page: turnover in a year with reasons and tenure, cohorts of starters, the CCWC
//! term, the reasons for leaving (and, for national administrators, forms to add one and to set
//! the term's end); and a worker's reason for leaving, from the worker's page.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use chrono::{Datelike, NaiveDate};
use komlang_core::*;
use komlang_store::retention::{CcwcTerm, Cohort, ExitReason, Grouping, Turnover};
use komlang_store::StoreError;
use serde::Deserialize;

use crate::common::export::{export_format, page_download, FormatParam};
use crate::common::form_box::messages;
use crate::common::names::pick;
use crate::common::{flash, layout, render_status, store_err, today, Choice, Ctx, I18n, Layout, PageResult};
use crate::AppState;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct RetentionFilters {
    pub year: String,
    pub by: String,
}

impl RetentionFilters {
    /// The year (this year unless a valid one is given) and grouping (sector unless given).
    fn chosen(&self) -> (i32, Grouping) {
        let year =
            self.year.trim().parse().ok().filter(|y| (1900..=2100).contains(y)).unwrap_or_else(|| today().year());
        (year, Grouping::parse(&self.by).unwrap_or(Grouping::Sector))
    }
}

pub struct Line {
    pub name: String,
    pub start: u32,
    pub end: u32,
    pub leavers: u32,
    pub rate: String,
    pub tenure: String,
}

#[derive(Template)]
#[template(path = "retention/retention.html")]
struct RetentionPage {
    l: Layout,
    year: i32,
    groupings: Vec<Choice>,
    lines: Vec<Line>,
    total: Line,
    reasons: Vec<(String, u32)>,
    cohorts: Vec<Cohort>,
    term: CcwcTerm,
    all_reasons: Vec<(String, String)>,
    can_keep: bool,
    problems: Vec<String>,
    /// The filters' query, for the download links.
    query: String,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}%")).unwrap_or_else(|| "—".into())
}

fn group_name(i: &I18n, by: Grouping, key: &str, provinces: &[(String, String, String)]) -> String {
    match by {
        Grouping::Sector => i.code_label("sector", key),
        Grouping::Cadre => i.code_label("cadre", key),
        Grouping::Province => provinces
            .iter()
            .find(|(c, _, _)| c == key)
            .map(|(_, en, km)| pick(i, en, km))
            .unwrap_or_else(|| key.to_string()),
    }
}

fn reason_name(i: &I18n, reasons: &[ExitReason], code: &str) -> String {
    match reasons.iter().find(|r| r.code == code) {
        Some(r) => pick(i, &r.name_en, &r.name_km),
        None => i.t("retention.not_given"),
    }
}

async fn retention_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: &RetentionFilters,
    problems: Vec<String>,
) -> PageResult {
    let i = ctx.i;
    let (year, by) = f.chosen();
    let t: Turnover = app.store.turnover(p, year, by, today()).await.map_err(|e| store_err(ctx, e))?;
    let cohorts = app.store.survival(p, today()).await.map_err(|e| store_err(ctx, e))?;
    let term = app.store.ccwc_term(p).await.map_err(|e| store_err(ctx, e))?;
    let reasons = app.store.exit_reasons().await?;
    let provinces: Vec<(String, String, String)> = if by == Grouping::Province {
        match app.store.country().await? {
            Some(c) => {
                app.store.admin_children(&c.code).await?.into_iter().map(|u| (u.code, u.name_en, u.name_km)).collect()
            }
            None => Vec::new(),
        }
    } else {
        Vec::new()
    };
    let line = |r: &komlang_store::retention::TurnoverRow, name: String| Line {
        name,
        start: r.start,
        end: r.end,
        leavers: r.leavers,
        rate: pct(r.rate),
        tenure: r.average_tenure.map(|v| format!("{v:.1}")).unwrap_or_else(|| "—".into()),
    };
    let lines = t.rows.iter().map(|r| line(r, group_name(&i, by, &r.key, &provinces))).collect();
    let total = line(&t.total, i.t("costs.total"));
    let groupings = Grouping::ALL
        .iter()
        .map(|g| Choice {
            value: g.code().into(),
            label: i.t(&format!("retention.by_{}", g.code())),
            selected: *g == by,
        })
        .collect();
    let l = layout(ctx, "retention").await?;
    render_status(
        if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &RetentionPage {
            year,
            groupings,
            lines,
            total,
            reasons: t.reasons.iter().map(|(code, n)| (reason_name(&i, &reasons, code), *n)).collect(),
            cohorts,
            term,
            all_reasons: reasons.iter().map(|r| (r.code.clone(), pick(&i, &r.name_en, &r.name_km))).collect(),
            can_keep: p.may(Action::KeepNorms),
            query: crate::common::form_box::query_string(&[("year", &year.to_string()), ("by", by.code())]),
            problems,
            l,
        },
    )
}

/// The turnover shown (same year and grouping) as a CSV or XLSX file.
pub(super) async fn export(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<RetentionFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let (year, by) = f.chosen();
    let t = app.store.turnover(&p, year, by, today()).await.map_err(|e| store_err(&ctx, e))?;
    page_download(&ctx, "komlang-turnover", format, super::TURNOVER_COLUMNS, super::turnover_cells(&t)).await
}

pub(super) async fn retention_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(f): Query<RetentionFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    retention_view(&app, &ctx, &p, &f, Vec::new()).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct ReasonForm {
    pub csrf: String,
    pub code: String,
    pub name_en: String,
    pub name_km: String,
}

pub(super) async fn add_reason(State(app): State<AppState>, ctx: Ctx, Form(form): Form<ReasonForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let r = ExitReason { code: form.code, name_en: form.name_en, name_km: form.name_km, builtin: false };
    match app.store.add_exit_reason(&p, &r).await {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/retention#reasons").into_response())
        }
        Err(StoreError::Invalid(e)) => {
            retention_view(&app, &ctx, &p, &RetentionFilters::default(), messages(&ctx.i, &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct TermForm {
    pub csrf: String,
    pub term_end: String,
}

pub(super) async fn set_term(State(app): State<AppState>, ctx: Ctx, Form(form): Form<TermForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let end = match form.term_end.non_blank() {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| StoreError::Invalid(ValidationErrors::single(FieldError::new("term_end", "invalid_date")))),
    };
    let result = match end {
        Ok(end) => app.store.set_ccwc_term_end(&p, end).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/retention#ccwc").into_response())
        }
        Err(StoreError::Invalid(e)) => {
            retention_view(&app, &ctx, &p, &RetentionFilters::default(), messages(&ctx.i, &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct GiveReasonForm {
    pub csrf: String,
    pub reason: String,
}

pub(super) async fn give_reason(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<GiveReasonForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    match app.store.set_exit_reason(&p, id, &form.reason).await {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/workers/{id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            // Back to the worker's page, which says what was wrong (a stale page: the worker came back).
            let key =
                e.errors.first().map(|f| format!("error.{}", f.code)).unwrap_or_else(|| "error.invalid_choice".into());
            flash(&ctx, &key).await?;
            Ok(Redirect::to(&format!("/workers/{id}")).into_response())
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}
