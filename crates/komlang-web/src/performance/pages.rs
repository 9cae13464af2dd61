//! Performance management's pages: the figures by unit with the appraisal settings, the lists
//! behind them, a worker's appraisals with the form that starts one, one appraisal with the
//! supervisor's and the worker's forms and its actions, and the job descriptions.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::performance::{
    ActionKind, AppraisalForm, AppraisalSettings, AppraisalStatus, DueState, OverallResult, RATINGS,
};
use komlang_core::*;
use komlang_store::performance::{
    ActionInput, Appraisal, AppraisalUpdate, FunctionRating, JobDescription, PerformanceList, PerformanceReport,
    PerformanceRow, SelfAppraisal, StartAppraisal,
};
use komlang_store::StoreError;
use serde::Deserialize;

use crate::common::export::{export_format, page_download, FormatParam};
use crate::common::form_box::{messages, query_string};
use crate::common::names::pick;
use crate::common::{flash, layout, render_status, store_err, today, Choice, Ctx, I18n, Layout, PageResult, Posted};
use crate::AppState;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct SummaryFilters {
    pub level: String,
    pub parent: String,
}

pub struct UnitLine {
    pub row: PerformanceRow,
    pub name: String,
    pub href: String,
    pub share: String,
}

#[derive(Template)]
#[template(path = "performance/summary.html")]
struct SummaryPage {
    l: Layout,
    levels: Vec<Choice>,
    parent: String,
    lines: Vec<UnitLine>,
    total: UnitLine,
    settings: AppraisalSettings,
    can_keep: bool,
    problems: Vec<String>,
    query: String,
}

fn share(s: Option<f64>) -> String {
    s.map(|v| format!("{:.0}%", v * 100.0)).unwrap_or_default()
}

async fn report(app: &AppState, ctx: &Ctx, p: &Principal, f: &SummaryFilters) -> Result<PerformanceReport, PageResult> {
    let level = f.level.non_blank().map(String::from);
    let parent = f.parent.non_blank().map(String::from);
    match super::api::summary_report(app, p, &level, &parent).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(Err(store_err(ctx, e))),
        // A level the page's own form cannot send: the default instead.
        Err(_) => match super::api::summary_report(app, p, &None, &parent).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(e)) => Err(Err(store_err(ctx, e))),
            Err(_) => Err(Err(store_err(ctx, StoreError::NotFound))),
        },
    }
}

async fn summary_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: &SummaryFilters,
    problems: Vec<String>,
    shown: Option<AppraisalSettings>,
) -> PageResult {
    let i = ctx.i;
    let r = match report(app, ctx, p, f).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let next = match r.level {
        AdminLevel::Province => Some(AdminLevel::District),
        AdminLevel::District => Some(AdminLevel::Commune),
        _ => None,
    };
    let lines = r
        .items
        .iter()
        .map(|x| UnitLine {
            name: pick(&i, &x.name_en, &x.name_km),
            href: next
                .map(|n| format!("/appraisals?{}", query_string(&[("level", n.code()), ("parent", &x.unit)])))
                .unwrap_or_default(),
            share: share(x.overdue_share),
            row: x.clone(),
        })
        .collect();
    let total = UnitLine {
        name: i.t("costs.total"),
        href: String::new(),
        share: share(r.total.overdue_share),
        row: r.total.clone(),
    };
    let levels = [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune]
        .iter()
        .map(|lv| Choice { value: lv.code().into(), label: i.label(*lv), selected: *lv == r.level })
        .collect();
    let parent = f.parent.trim().to_string();
    let l = layout(ctx, "appraisals").await?;
    render_status(
        if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &SummaryPage {
            levels,
            query: query_string(&[("level", r.level.code()), ("parent", &parent)]),
            parent,
            lines,
            total,
            settings: shown.unwrap_or(r.settings),
            can_keep: p.may(Action::KeepNorms),
            problems,
            l,
        },
    )
}

pub(super) async fn summary_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<SummaryFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    if !p.may_in_scope(Action::ReadAppraisals) {
        // A worker: their own appraisals.
        return match p.worker_id {
            Some(w) => Ok(Redirect::to(&format!("/appraisals/workers/{w}")).into_response()),
            None => Err(ctx.forbidden()),
        };
    }
    summary_view(&app, &ctx, &p, &f, Vec::new(), None).await
}

/// The figures shown as a CSV or XLSX file.
pub(super) async fn export(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<SummaryFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let r = match report(&app, &ctx, &p, &f).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    page_download(&ctx, "komlang-appraisals", format, super::SUMMARY_COLUMNS, super::summary_cells(&r)).await
}

pub(super) async fn save_settings(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let mut errs = ValidationErrors::default();
    let mut num = |k: &str| {
        form.get(k).parse::<u32>().unwrap_or_else(|_| {
            errs.push(FieldError::new(k, "out_of_range"));
            u32::MAX
        })
    };
    let s = AppraisalSettings { cycle_months: num("cycle_months"), due_within_days: num("due_within_days") };
    let result =
        if errs.is_empty() { app.store.set_appraisal_settings(&p, &s).await } else { Err(StoreError::Invalid(errs)) };
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/appraisals#settings").into_response())
        }
        Err(StoreError::Invalid(e)) => {
            summary_view(&app, &ctx, &p, &SummaryFilters::default(), messages(&ctx.i, &e), Some(s)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct ListFilters {
    pub kind: String,
    pub unit: String,
}

pub struct ListLine {
    pub id: i64,
    pub name: String,
    pub cadre: String,
    pub place: String,
    pub due_on: String,
    pub state: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "performance/list.html")]
struct ListPage {
    l: Layout,
    title: String,
    kinds: Vec<Choice>,
    unit: String,
    lines: Vec<ListLine>,
}

fn due_text(i: &I18n, d: DueState) -> String {
    i.t(&format!("performance.due_state.{}", d.code()))
}

pub(super) async fn list_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<ListFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let kind = PerformanceList::parse(&f.kind).unwrap_or(PerformanceList::Overdue);
    let rows =
        app.store.performance_list(&p, kind, f.unit.non_blank(), today()).await.map_err(|e| store_err(&ctx, e))?;
    let lines = rows
        .into_iter()
        .map(|r| ListLine {
            id: r.worker.id,
            name: pick(&i, &r.worker.name_latin, &r.worker.name_km),
            cadre: i.label(r.worker.cadre),
            place: r.worker.workplace_code.clone(),
            due_on: r.due_on.clone().unwrap_or_default(),
            state: due_text(&i, r.due),
            detail: if kind == PerformanceList::Corrective {
                i.tp(
                    "performance.corrective_detail",
                    &[("n", r.open_corrective.to_string()), ("on", r.next_follow_up.clone().unwrap_or_default())],
                )
            } else {
                String::new()
            },
        })
        .collect();
    let kinds = PerformanceList::ALL
        .iter()
        .map(|k| Choice {
            value: k.code().into(),
            label: i.t(&format!("performance.list.{}", k.code())),
            selected: *k == kind,
        })
        .collect();
    let l = layout(&ctx, "appraisals").await?;
    render_status(
        StatusCode::OK,
        &ListPage {
            title: i.t(&format!("performance.list.{}", kind.code())),
            kinds,
            unit: f.unit.trim().into(),
            lines,
            l,
        },
    )
}

pub struct BriefLine {
    pub id: i64,
    pub cycle: String,
    pub period: String,
    pub status: String,
    pub overall: String,
    pub appraiser: String,
    pub self_appraised: bool,
    pub open_corrective: u32,
}

#[derive(Template)]
#[template(path = "performance/worker.html")]
struct WorkerPage {
    l: Layout,
    worker_id: i64,
    name: String,
    due: String,
    overdue: bool,
    due_on: String,
    lines: Vec<BriefLine>,
    may_start: bool,
    no_description: bool,
    forms: Vec<Choice>,
    start: HashMap<String, String>,
    problems: Vec<String>,
}

impl WorkerPage {
    fn value(&self, k: &str) -> String {
        self.start.get(k).cloned().unwrap_or_default()
    }
}

async fn worker_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    problems: Vec<String>,
    start: HashMap<String, String>,
) -> PageResult {
    let i = ctx.i;
    let w = app.store.worker_appraisals(p, id, today()).await.map_err(|e| store_err(ctx, e))?;
    let lines = w
        .items
        .iter()
        .map(|a| BriefLine {
            id: a.id,
            cycle: a.cycle.clone(),
            period: format!("{} – {}", a.period_start, a.period_end),
            status: i.label(a.status),
            overall: a.overall.map(|o| i.label(o)).unwrap_or_default(),
            appraiser: a.appraiser.clone(),
            self_appraised: a.self_appraised,
            open_corrective: a.open_corrective,
        })
        .collect();
    let chosen = start.get("form").cloned().unwrap_or_else(|| "formal".into());
    let forms = AppraisalForm::ALL
        .iter()
        .map(|f| Choice { value: f.code().into(), label: i.label(*f), selected: f.code() == chosen })
        .collect();
    let mut start = start;
    if start.is_empty() {
        let year = chrono::Datelike::year(&today());
        start.insert("cycle".into(), year.to_string());
        start.insert("period_start".into(), format!("{year}-01-01"));
        start.insert("period_end".into(), format!("{year}-12-31"));
    }
    let appraiser = p.may(Action::Appraise) && p.worker_id != Some(id);
    let l = layout(ctx, "appraisals").await?;
    render_status(
        if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &WorkerPage {
            worker_id: id,
            name: format!("{} · {}", w.worker.name_km, w.worker.name_latin),
            due: due_text(&i, w.due),
            overdue: w.due == DueState::Overdue,
            due_on: w.due_on.clone().unwrap_or_default(),
            lines,
            may_start: w.may_appraise,
            no_description: appraiser && w.job_description_id.is_none(),
            forms,
            start,
            problems,
            l,
        },
    )
}

pub(super) async fn worker_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    worker_view(&app, &ctx, &p, id, Vec::new(), HashMap::new()).await
}

pub(super) async fn start(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let mut errs = ValidationErrors::default();
    let from = form.date("period_start", true, &mut errs);
    let to = form.date("period_end", true, &mut errs);
    let kind = AppraisalForm::parse(form.get("form"));
    if kind.is_none() {
        errs.push(FieldError::new("form", "required"));
    }
    let result = match (from, to, kind) {
        (Some(period_start), Some(period_end), Some(form_kind)) if errs.is_empty() => {
            let input =
                StartAppraisal { cycle: form.get("cycle").to_string(), period_start, period_end, form: form_kind };
            app.store.start_appraisal(&p, id, &input, today()).await
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    match result {
        Ok(a) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/appraisals/{}", a.id)).into_response())
        }
        Err(StoreError::Invalid(e)) => worker_view(&app, &ctx, &p, id, messages(&ctx.i, &e), kept(&form)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

pub struct RatingLine {
    pub code: String,
    pub name: String,
    pub rating: String,
    pub rating_text: String,
    pub comment: String,
    pub self_rating: String,
    pub self_rating_text: String,
    pub self_comment: String,
}

pub struct ActionLine {
    pub id: i64,
    pub kind: String,
    pub description: String,
    pub detail: String,
    pub follow_up_on: String,
    pub late: bool,
    pub done_on: String,
}

pub struct SuggestionLine {
    pub competency: String,
    pub because: String,
    pub courses: String,
}

#[derive(Template)]
#[template(path = "performance/appraisal.html")]
struct AppraisalPage {
    l: Layout,
    a: Appraisal,
    name: String,
    job_title: String,
    status: String,
    form_label: String,
    overall: String,
    suggested: String,
    productivity: String,
    open: bool,
    lines: Vec<RatingLine>,
    actions: Vec<ActionLine>,
    suggestions: Vec<SuggestionLine>,
    ratings: Vec<Choice>,
    overalls: Vec<Choice>,
    forms: Vec<Choice>,
    kinds: Vec<Choice>,
    competencies: Vec<Choice>,
    courses: Vec<Choice>,
    posted: HashMap<String, String>,
    problems: Vec<String>,
    today: String,
}

impl AppraisalPage {
    fn value(&self, k: &str) -> String {
        self.posted.get(k).cloned().unwrap_or_default()
    }
}

fn rating_text(i: &I18n, r: Option<u8>) -> String {
    r.map(|v| format!("{v} · {}", i.t(&format!("performance.rating_{v}")))).unwrap_or_default()
}

async fn appraisal_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    problems: Vec<String>,
    posted: Option<HashMap<String, String>>,
) -> PageResult {
    let i = ctx.i;
    let a = app.store.appraisal(p, id).await.map_err(|e| store_err(ctx, e))?;
    let posted_form = posted.is_some();
    let posted = posted.unwrap_or_default();
    let kept =
        |k: String, stored: String| if posted_form { posted.get(&k).cloned().unwrap_or_default() } else { stored };
    let lines = a
        .ratings
        .iter()
        .map(|r| {
            let c = &r.function.code;
            RatingLine {
                name: pick(&i, &r.function.name_en, &r.function.name_km),
                rating: kept(format!("rating_{c}"), r.rating.map(|v| v.to_string()).unwrap_or_default()),
                rating_text: rating_text(&i, r.rating),
                comment: kept(format!("comment_{c}"), r.comment.clone().unwrap_or_default()),
                self_rating: kept(format!("self_rating_{c}"), r.self_rating.map(|v| v.to_string()).unwrap_or_default()),
                self_rating_text: rating_text(&i, r.self_rating),
                self_comment: kept(format!("self_comment_{c}"), r.self_comment.clone().unwrap_or_default()),
                code: c.clone(),
            }
        })
        .collect();
    let t = today().to_string();
    let actions = a
        .actions
        .iter()
        .map(|x| ActionLine {
            id: x.id,
            kind: i.label(x.kind),
            description: x.description.clone(),
            detail: [
                x.competency_code.clone().unwrap_or_default(),
                x.course
                    .as_ref()
                    .map(|c| format!("{} {}", c.code, pick(&i, &c.title_en, &c.title_km)))
                    .unwrap_or_default(),
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · "),
            late: x.done_on.is_none() && x.follow_up_on.as_deref().is_some_and(|f| f < t.as_str()),
            follow_up_on: x.follow_up_on.clone().unwrap_or_default(),
            done_on: x.done_on.clone().unwrap_or_default(),
        })
        .collect();
    let suggestions = a
        .training_suggestions
        .iter()
        .map(|s| SuggestionLine {
            competency: s.competency_code.clone(),
            because: s.because.iter().map(|b| i.t(&format!("performance.because.{b}"))).collect::<Vec<_>>().join(", "),
            courses: s
                .courses
                .iter()
                .map(|c| format!("{} {}", c.code, pick(&i, &c.title_en, &c.title_km)))
                .collect::<Vec<_>>()
                .join("; "),
        })
        .collect();
    let ratings =
        RATINGS.map(|v| Choice { value: v.to_string(), label: rating_text(&i, Some(v)), selected: false }).collect();
    let chosen_overall = if posted_form {
        posted.get("overall").cloned().unwrap_or_default()
    } else {
        a.overall.map(|o| o.code().to_string()).unwrap_or_default()
    };
    let overalls = OverallResult::ALL
        .iter()
        .map(|o| Choice { value: o.code().into(), label: i.label(*o), selected: o.code() == chosen_overall })
        .collect();
    let forms = AppraisalForm::ALL
        .iter()
        .map(|f| Choice { value: f.code().into(), label: i.label(*f), selected: *f == a.form })
        .collect();
    let chosen_kind = posted.get("kind").cloned().unwrap_or_default();
    let kinds = ActionKind::ALL
        .iter()
        .map(|k| Choice { value: k.code().into(), label: i.label(*k), selected: k.code() == chosen_kind })
        .collect();
    let competencies = a
        .training_suggestions
        .iter()
        .map(|s| Choice { value: s.competency_code.clone(), label: s.competency_code.clone(), selected: false })
        .collect();
    let courses = a
        .training_suggestions
        .iter()
        .flat_map(|s| s.courses.iter())
        .map(|c| Choice {
            value: c.id.to_string(),
            label: format!("{} {}", c.code, pick(&i, &c.title_en, &c.title_km)),
            selected: false,
        })
        .fold(Vec::<Choice>::new(), |mut v, c| {
            if !v.iter().any(|x| x.value == c.value) {
                v.push(c);
            }
            v
        });
    let l = layout(ctx, "appraisals").await?;
    render_status(
        if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &AppraisalPage {
            name: format!("{} · {}", a.worker.name_km, a.worker.name_latin),
            job_title: format!("{} (v{})", pick(&i, &a.job_title_en, &a.job_title_km), a.job_description_version),
            status: i.label(a.status),
            form_label: i.label(a.form),
            overall: a.overall.map(|o| i.label(o)).unwrap_or_default(),
            suggested: a.suggested_overall.map(|o| i.label(o)).unwrap_or_default(),
            productivity: a
                .productivity
                .as_ref()
                .map(|x| {
                    i.tp(
                        "performance.productivity_text",
                        &[
                            ("opened", x.opened.to_string()),
                            ("closed", x.closed.to_string()),
                            ("open", x.open_now.to_string()),
                            ("snapshots", x.snapshots.join(", ")),
                        ],
                    )
                })
                .unwrap_or_default(),
            open: a.status == AppraisalStatus::Open,
            lines,
            actions,
            suggestions,
            ratings,
            overalls,
            forms,
            kinds,
            competencies,
            courses,
            posted,
            problems,
            today: t,
            a,
            l,
        },
    )
}

pub(super) async fn appraisal_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    appraisal_view(&app, &ctx, &p, id, Vec::new(), None).await
}

/// The ratings a form holds (`<prefix>rating_<code>`, `<prefix>comment_<code>`) for the
/// appraisal's functions; a rating that is not a number is refused by its function's code.
fn posted_ratings(a: &Appraisal, form: &Posted<'_>, prefix: &str, errs: &mut ValidationErrors) -> Vec<FunctionRating> {
    a.ratings
        .iter()
        .map(|r| {
            let c = &r.function.code;
            let typed = form.get(&format!("{prefix}rating_{c}"));
            let rating = if typed.is_empty() {
                None
            } else {
                typed.parse::<u8>().ok().or_else(|| {
                    errs.push(
                        FieldError::new(&format!("{prefix}rating_{c}"), "out_of_range").with("min", 1).with("max", 4),
                    );
                    None
                })
            };
            let comment = form.get(&format!("{prefix}comment_{c}"));
            FunctionRating { function: c.clone(), rating, comment: (!comment.is_empty()).then(|| comment.to_string()) }
        })
        .collect()
}

async fn after_write(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    form: &Posted<'_>,
    result: Result<Appraisal, StoreError>,
) -> PageResult {
    match result {
        Ok(a) => {
            flash(ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/appraisals/{}", a.id)).into_response())
        }
        Err(StoreError::Invalid(e)) => appraisal_view(app, ctx, p, id, messages(&ctx.i, &e), Some(kept(form))).await,
        Err(StoreError::Stale { .. }) => {
            appraisal_view(app, ctx, p, id, vec![ctx.i.t("performance.stale")], Some(kept(form))).await
        }
        Err(e) => Err(store_err(ctx, e)),
    }
}

/// What a refused form held, to show it again (not its CSRF token).
fn kept(form: &Posted<'_>) -> HashMap<String, String> {
    form.0.iter().filter(|(k, _)| k != "csrf").cloned().collect()
}

fn version_of(form: &Posted<'_>) -> Option<i64> {
    crate::common::versions::form_version(Some(form.get(crate::common::versions::VERSION_FIELD)))
}

pub(super) async fn update(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let a = app.store.appraisal(&p, id).await.map_err(|e| store_err(&ctx, e))?;
    let mut errs = ValidationErrors::default();
    let ratings = posted_ratings(&a, &form, "", &mut errs);
    let overall = form.get("overall");
    let input = AppraisalUpdate {
        form: AppraisalForm::parse(form.get("form")),
        ratings,
        comment: Some(form.get("comment").to_string()).filter(|c| !c.is_empty()),
        overall: OverallResult::parse(overall),
        complete: form.get("complete") == "1",
    };
    if !overall.is_empty() && input.overall.is_none() {
        errs.push(FieldError::new("overall", "required"));
    }
    let result = if errs.is_empty() {
        app.store.update_appraisal(&p, id, &input, version_of(&form), today()).await
    } else {
        Err(StoreError::Invalid(errs))
    };
    after_write(&app, &ctx, &p, id, &form, result).await
}

pub(super) async fn self_appraise(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let a = app.store.appraisal(&p, id).await.map_err(|e| store_err(&ctx, e))?;
    let mut errs = ValidationErrors::default();
    let ratings = posted_ratings(&a, &form, "self_", &mut errs);
    let input =
        SelfAppraisal { ratings, comment: Some(form.get("self_comment").to_string()).filter(|c| !c.is_empty()) };
    let result = if errs.is_empty() {
        app.store.self_appraise(&p, id, &input, version_of(&form)).await
    } else {
        Err(StoreError::Invalid(errs))
    };
    after_write(&app, &ctx, &p, id, &form, result).await
}

pub(super) async fn add_action(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let mut errs = ValidationErrors::default();
    let kind = ActionKind::parse(form.get("kind"));
    if kind.is_none() {
        errs.push(FieldError::new("kind", "required"));
    }
    let follow_up_on = form.date("follow_up_on", false, &mut errs);
    let course_id = form.number::<i64>("course_id", &mut errs);
    let result = match kind {
        Some(kind) if errs.is_empty() => {
            let input = ActionInput {
                kind,
                description: form.get("description").to_string(),
                competency_code: Some(form.get("competency_code").to_string()).filter(|c| !c.is_empty()),
                course_id,
                follow_up_on,
            };
            app.store.add_appraisal_action(&p, id, &input, today()).await
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    after_write(&app, &ctx, &p, id, &form, result).await
}

pub(super) async fn action_done(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(action): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let appraisal: i64 = form.get("appraisal_id").parse().map_err(|_| ctx.not_found())?;
    let mut errs = ValidationErrors::default();
    let on = form.date("done_on", false, &mut errs).or_else(|| errs.is_empty().then(today));
    let result = match on {
        Some(on) if errs.is_empty() => app.store.close_appraisal_action(&p, action, on, today()).await,
        _ => Err(StoreError::Invalid(errs)),
    };
    after_write(&app, &ctx, &p, appraisal, &form, result).await
}

#[derive(Template)]
#[template(path = "performance/jobs.html")]
struct JobsPage {
    l: Layout,
    items: Vec<JobLine>,
}

pub struct JobLine {
    pub d: JobDescription,
    pub role: String,
    pub title: String,
    pub functions: Vec<(String, String, String)>,
}

pub(super) async fn job_descriptions(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    ctx.require()?;
    let i = ctx.i;
    let items = app
        .store
        .job_descriptions(false)
        .await
        .map_err(|e| store_err(&ctx, e))?
        .into_iter()
        .map(|d| JobLine {
            role: i.label(d.role),
            title: pick(&i, &d.title_en, &d.title_km),
            functions: d
                .functions
                .iter()
                .map(|f| (f.code.clone(), pick(&i, &f.name_en, &f.name_km), f.competencies.join(", ")))
                .collect(),
            d,
        })
        .collect();
    let l = layout(&ctx, "appraisals").await?;
    render_status(StatusCode::OK, &JobsPage { items, l })
}
