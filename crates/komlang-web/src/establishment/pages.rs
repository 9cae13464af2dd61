//! The establishment's pages: the summary of a level's units for a year (with the years side by
//! side and the totals recorded), the posts of an area with who fills them and what can be done
//! to each, and the approval of a deployment plan's posts.

use std::collections::BTreeSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use chrono::{Datelike, NaiveDate};
use komlang_core::establishment::{FundingSource, PostCounts};
use komlang_core::*;
use komlang_store::establishment::{
    EstablishmentQuery, EstablishmentReport, NewPosts, PlanApproval, Post, PostQuery, PostState, RecordInput,
    YearCounts,
};
use komlang_store::StoreError;
use serde::{Deserialize, Serialize};

use super::{establishment_cells, ESTABLISHMENT_COLUMNS};
use crate::common::export::{export_format, page_download, FormatParam};
use crate::common::extract::level_below;
use crate::common::form_box::{
    count, integer, messages, no_errors, query_string, values_of, vchoices, Fb, FormBox, FormMap,
};
use crate::common::names::pick;
use crate::common::pagination::{page_link, prev_next};
use crate::common::versions::form_version;
use crate::common::{flash, layout, render_status, store_err, today, Choice, Ctx, I18n, Layout, PageResult};
use crate::AppState;

/// Filters of the summary, as in the query string (anything unreadable is no filter).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct SummaryFilters {
    pub level: String,
    pub year: String,
    pub parent: String,
    pub cadre: String,
    pub funding: String,
}

fn year_of(s: &str) -> i32 {
    s.trim().parse().ok().filter(|y| komlang_core::establishment::YEARS.contains(y)).unwrap_or_else(|| today().year())
}

impl SummaryFilters {
    async fn query(&self, app: &AppState, p: &Principal) -> EstablishmentQuery {
        let parent = self.parent.non_blank().map(String::from);
        let area_level = match &parent {
            Some(code) => app.store.admin_unit(code).await.ok().flatten().map(|u| u.level),
            None => match &p.scope {
                Scope::Nation => None,
                Scope::Unit { level, .. } => Some(*level),
            },
        };
        let below = level_below(area_level);
        let level = AdminLevel::parse(&self.level)
            .filter(|l| matches!(l, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune))
            .filter(|l| depth(*l) >= depth(below))
            .unwrap_or(below);
        EstablishmentQuery {
            level,
            parent,
            year: year_of(&self.year),
            cadre: Cadre::parse(&self.cadre),
            funding: FundingSource::parse(&self.funding),
        }
    }

    fn query_string(&self) -> String {
        query_string(&[
            ("level", &self.level),
            ("year", &self.year),
            ("parent", &self.parent),
            ("cadre", &self.cadre),
            ("funding", &self.funding),
        ])
    }
}

fn depth(l: AdminLevel) -> usize {
    AdminLevel::ALL.iter().position(|x| *x == l).unwrap_or(0)
}

fn rate(r: Option<f64>) -> String {
    r.map(|v| format!("{v:.1}%")).unwrap_or_else(|| "—".into())
}

/// One line of a table of counts.
pub struct CountRow {
    pub label: String,
    /// Where the label leads (none: plain text).
    pub href: String,
    pub posts_href: String,
    pub approved: u32,
    pub filled: u32,
    pub vacant: u32,
    pub rate: String,
}

fn count_row(label: String, href: String, posts_href: String, c: PostCounts) -> CountRow {
    CountRow {
        label,
        href,
        posts_href,
        approved: c.approved,
        filled: c.filled,
        vacant: c.vacant,
        rate: rate(c.vacancy_rate()),
    }
}

pub struct YearRow {
    pub year: i32,
    pub counted: PostCounts,
    pub recorded_approved: String,
    pub recorded_filled: String,
    pub source: String,
}

#[derive(Template)]
#[template(path = "establishment/summary.html")]
struct SummaryPage {
    l: Layout,
    level_label: String,
    counted_on: String,
    year: i32,
    levels: Vec<Choice>,
    cadres: Vec<Choice>,
    fundings: Vec<Choice>,
    parent: String,
    rows: Vec<CountRow>,
    total: CountRow,
    by_cadre: Vec<CountRow>,
    by_funding: Vec<CountRow>,
    years: Vec<YearRow>,
    query: String,
    posts_href: String,
    record_form: Option<FormBox>,
}

fn choices_with_any(i: &I18n, options: Vec<(String, String)>, current: &str) -> Vec<Choice> {
    let mut out = vec![Choice { value: String::new(), label: i.t("establishment.any"), selected: current.is_empty() }];
    out.extend(options.into_iter().map(|(v, l)| Choice { selected: v == current, value: v, label: l }));
    out
}

async fn summary_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: &SummaryFilters,
    failed: Option<(&FormMap, &komlang_core::ValidationErrors)>,
) -> PageResult {
    let i = ctx.i;
    let q = f.query(app, p).await;
    let report: EstablishmentReport = app.store.establishment(p, &q, today()).await.map_err(|e| store_err(ctx, e))?;
    let years: Vec<YearCounts> = app
        .store
        .establishment_years(p, q.parent.as_deref(), q.year - 10, q.year, today())
        .await
        .map_err(|e| store_err(ctx, e))?;
    let next = match q.level {
        AdminLevel::Province => Some(AdminLevel::District),
        AdminLevel::District => Some(AdminLevel::Commune),
        _ => None,
    };
    let with = |k: &str, v: &str| {
        let mut g = f.clone();
        match k {
            "parent" => g.parent = v.to_string(),
            _ => g.level = v.to_string(),
        }
        if k == "parent" {
            g.level = next.map(|l| l.code().to_string()).unwrap_or_default();
        }
        format!("/establishment?{}", g.query_string())
    };
    let posts_link = |unit: &str| {
        format!(
            "/establishment/posts?{}",
            query_string(&[
                ("unit", unit),
                ("year", &q.year.to_string()),
                ("cadre", &f.cadre),
                ("funding", &f.funding)
            ])
        )
    };
    let rows = report
        .items
        .iter()
        .map(|x| {
            let c = PostCounts { approved: x.approved, filled: x.filled, vacant: x.vacant };
            let href = if next.is_some() { with("parent", &x.unit) } else { String::new() };
            count_row(pick(&i, &x.name_en, &x.name_km), href, posts_link(&x.unit), c)
        })
        .collect();
    let area = q.parent.clone().unwrap_or_default();
    let by_cadre =
        report.by_cadre.iter().map(|g| count_row(i.label(g.key), String::new(), String::new(), g.counts)).collect();
    let by_funding =
        report.by_funding.iter().map(|g| count_row(i.label(g.key), String::new(), String::new(), g.counts)).collect();
    let years = years
        .into_iter()
        .rev()
        .map(|y| YearRow {
            year: y.year,
            counted: y.counted,
            recorded_approved: y.recorded.as_ref().map(|r| r.approved.to_string()).unwrap_or_default(),
            recorded_filled: y.recorded.as_ref().and_then(|r| r.filled).map(|v| v.to_string()).unwrap_or_default(),
            source: y.recorded.map(|r| r.source).unwrap_or_default(),
        })
        .collect();
    let record_form = if p.may(Action::KeepEstablishment) {
        let mut defaults = FormMap::new();
        defaults.insert("year".into(), (q.year - 1).to_string());
        defaults.insert("admin_code".into(), area.clone());
        let none = no_errors();
        let (v, e) = failed.unwrap_or((&defaults, &none));
        let mut b = Fb::new(&i, "record", v, e);
        b.add("admin_code", "establishment.admin_code", "text", false).hint = i.t("establishment.history_intro");
        b.add("year", "establishment.year", "number", true);
        b.add("approved", "establishment.approved", "number", true);
        b.add("filled", "establishment.filled", "number", false);
        b.add("source", "establishment.source", "text", true);
        Some(b.finish(i.t("establishment.record_title"), "/establishment/records".into(), i.t("establishment.record")))
    } else {
        None
    };
    let levels = [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune]
        .iter()
        .map(|l| Choice { value: l.code().into(), label: i.label(*l), selected: *l == q.level })
        .collect();
    let l = layout(ctx, "establishment").await?;
    let view = SummaryPage {
        level_label: i.label(q.level),
        counted_on: i.tp("establishment.counted_on", &[("date", report.counted_on.clone())]),
        year: q.year,
        levels,
        cadres: choices_with_any(&i, vchoices(&i, Cadre::ALL, Cadre::code, Cadre::label_key), &f.cadre),
        fundings: choices_with_any(
            &i,
            vchoices(&i, FundingSource::ALL, FundingSource::code, FundingSource::label_key),
            &f.funding,
        ),
        parent: area.clone(),
        total: count_row(i.t("establishment.total"), String::new(), posts_link(&area), report.total),
        rows,
        by_cadre,
        by_funding,
        years,
        query: f.query_string(),
        posts_href: posts_link(&area),
        record_form,
        l,
    };
    render_status(if failed.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK }, &view)
}

pub(super) async fn summary_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<SummaryFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    summary_view(&app, &ctx, &p, &f, None).await
}

pub(super) async fn export(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<SummaryFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let q = f.query(&app, &p).await;
    let report = app.store.establishment(&p, &q, today()).await.map_err(|e| store_err(&ctx, e))?;
    page_download(&ctx, "komlang-establishment", format, ESTABLISHMENT_COLUMNS, establishment_cells(&report)).await
}

/// A year's total, as posted.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct RecordForm {
    pub csrf: String,
    pub admin_code: String,
    pub year: String,
    pub approved: String,
    pub filled: String,
    pub source: String,
}

pub(super) async fn record_total(State(app): State<AppState>, ctx: Ctx, Form(form): Form<RecordForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let mut errs = no_errors();
    let year = integer("year", &form.year, &mut errs);
    let approved = count("approved", &form.approved, &mut errs);
    let filled = count("filled", &form.filled, &mut errs);
    for (k, v) in [("year", year.is_some()), ("approved", approved.is_some())] {
        if !v && errs.for_field(k).is_none() {
            errs.push(FieldError::new(k, "required"));
        }
    }
    let code = match form.admin_code.non_blank() {
        Some(c) => c.to_string(),
        None => app.store.country().await.ok().flatten().map(|u| u.code).unwrap_or_default(),
    };
    let result = match (year, approved) {
        (Some(y), Some(a)) if errs.is_empty() => {
            let input = RecordInput {
                admin_code: code,
                year: i32::try_from(y).unwrap_or(0),
                approved: a,
                filled,
                source: form.source.clone(),
            };
            app.store.record_establishment(&p, &input).await.map(|_| ())
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/establishment#history").into_response())
        }
        Err(StoreError::Invalid(e)) => {
            summary_view(&app, &ctx, &p, &SummaryFilters::default(), Some((&values_of(&form), &e))).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

/// Filters of the posts list, as in the query string.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(super) struct PostFilters {
    pub unit: String,
    pub year: String,
    pub state: String,
    pub cadre: String,
    pub funding: String,
    pub page: String,
}

impl PostFilters {
    fn query(&self) -> PostQuery {
        PostQuery {
            unit: self.unit.non_blank().map(String::from),
            year: year_of(&self.year),
            state: match self.state.trim() {
                "filled" => Some(PostState::Filled),
                "vacant" => Some(PostState::Vacant),
                _ => None,
            },
            cadre: Cadre::parse(&self.cadre),
            funding: FundingSource::parse(&self.funding),
            page: self.page.trim().parse().unwrap_or(1),
            per_page: 50,
        }
    }

    fn query_string(&self) -> String {
        query_string(&[
            ("unit", &self.unit),
            ("year", &self.year),
            ("state", &self.state),
            ("cadre", &self.cadre),
            ("funding", &self.funding),
        ])
    }

    /// This list's address (where a change on it returns).
    fn here(&self) -> String {
        let q = self.query_string();
        let page = self.page.trim().parse::<i64>().unwrap_or(1);
        if page > 1 {
            format!("/establishment/posts{}", page_link(&q, page))
        } else if q.is_empty() {
            "/establishment/posts".into()
        } else {
            format!("/establishment/posts?{q}")
        }
    }
}

pub struct PostRow {
    pub post: Post,
    pub unit: String,
    pub cadre: String,
    pub role: String,
    pub funding: String,
    pub holder: String,
    pub since: String,
    pub from_plan: String,
    pub candidates: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "establishment/posts.html")]
struct PostsPage {
    l: Layout,
    title: String,
    year: i32,
    rows: Vec<PostRow>,
    results: String,
    page_of: String,
    prev: Option<String>,
    next: Option<String>,
    states: Vec<Choice>,
    cadres: Vec<Choice>,
    fundings: Vec<Choice>,
    unit: String,
    back: String,
    can_fill: bool,
    can_keep: bool,
    problems: Vec<String>,
    add_form: Option<FormBox>,
    today: String,
    next_year: i32,
}

enum PostsFailure<'a> {
    None,
    /// A change of one post was refused.
    Change(&'a komlang_core::ValidationErrors),
    /// The form approving posts had problems.
    Add(&'a FormMap, &'a komlang_core::ValidationErrors),
}

async fn posts_view(app: &AppState, ctx: &Ctx, p: &Principal, f: &PostFilters, failed: PostsFailure<'_>) -> PageResult {
    let i = ctx.i;
    let q = f.query();
    let page = app.store.posts(p, &q).await.map_err(|e| store_err(ctx, e))?;
    let can_fill = p.may(Action::FillPosts);
    let can_keep = p.may(Action::KeepEstablishment);
    let vacant_units: BTreeSet<String> =
        page.items.iter().filter(|x| x.holder.is_none()).map(|x| x.admin_code.clone()).collect();
    let candidates = if can_fill {
        app.store
            .post_candidates(p, &vacant_units.into_iter().collect::<Vec<_>>())
            .await
            .map_err(|e| store_err(ctx, e))?
    } else {
        Vec::new()
    };
    let rows = page
        .items
        .iter()
        .map(|x| PostRow {
            unit: pick(&i, &x.unit_name_en, &x.unit_name_km),
            cadre: i.label(x.cadre),
            role: i.label(x.role),
            funding: i.label(x.funding),
            holder: x.holder.as_ref().map(|h| pick(&i, &h.name_latin, &h.name_km)).unwrap_or_default(),
            since: x
                .holder
                .as_ref()
                .map(|h| i.tp("establishment.since", &[("date", h.since.clone())]))
                .unwrap_or_default(),
            from_plan: x
                .plan_id
                .map(|id| i.tp("establishment.from_plan", &[("id", id.to_string())]))
                .unwrap_or_default(),
            candidates: candidates
                .iter()
                .filter(|c| x.holder.is_none() && c.fits(x))
                .take(200)
                .map(|c| Choice {
                    value: c.worker_id.to_string(),
                    label: format!("{} · {}", c.name_km, c.name_latin),
                    selected: false,
                })
                .collect(),
            post: x.clone(),
        })
        .collect();
    let (problems, add_failed) = match failed {
        PostsFailure::None => (Vec::new(), None),
        PostsFailure::Change(e) => (messages(&i, e), None),
        PostsFailure::Add(v, e) => (Vec::new(), Some((v, e))),
    };
    let add_form = if can_keep {
        let mut defaults = FormMap::new();
        defaults.insert("admin_code".into(), f.unit.trim().to_string());
        defaults.insert("approved_year".into(), q.year.to_string());
        defaults.insert("count".into(), "1".into());
        defaults.insert("funding".into(), FundingSource::MosvyPayroll.code().into());
        let none = no_errors();
        let (v, e) = add_failed.unwrap_or((&defaults, &none));
        let mut b = Fb::new(&i, "add-posts", v, e);
        b.add("admin_code", "establishment.admin_code", "text", true);
        b.select("cadre", "establishment.cadre", &vchoices(&i, Cadre::ALL, Cadre::code, Cadre::label_key), true);
        b.select(
            "role",
            "establishment.role",
            &vchoices(&i, WorkerRole::ALL, WorkerRole::code, WorkerRole::label_key),
            true,
        );
        b.select(
            "funding",
            "establishment.funding",
            &vchoices(&i, FundingSource::ALL, FundingSource::code, FundingSource::label_key),
            true,
        );
        b.add("org_id", "establishment.org", "number", false);
        b.add("approved_year", "establishment.approved_year", "number", true);
        b.add("count", "establishment.count", "number", true);
        b.add("note", "establishment.note", "text", false);
        Some(b.finish(i.t("establishment.add_posts"), "/establishment/posts".into(), i.t("establishment.create")))
    } else {
        None
    };
    let title = match q.unit.as_deref() {
        Some(code) => match app.store.admin_unit(code).await? {
            Some(u) => i.tp("establishment.posts_of", &[("unit", pick(&i, &u.name_en, &u.name_km))]),
            None => i.t("establishment.posts_title"),
        },
        None => i.t("establishment.posts_title"),
    };
    let (prev, next) = prev_next(page.page, page.pages(), |n| page_link(&f.query_string(), n));
    let states = vec![
        Choice { value: String::new(), label: i.t("establishment.any"), selected: q.state.is_none() },
        Choice {
            value: "vacant".into(),
            label: i.t("establishment.state_vacant"),
            selected: q.state == Some(PostState::Vacant),
        },
        Choice {
            value: "filled".into(),
            label: i.t("establishment.state_filled"),
            selected: q.state == Some(PostState::Filled),
        },
    ];
    let status =
        if add_failed.is_none() && problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let l = layout(ctx, "establishment").await?;
    render_status(
        status,
        &PostsPage {
            title,
            year: q.year,
            rows,
            results: i.tp("common.results", &[("total", page.total.to_string())]),
            page_of: i.tp("common.page_of", &[("page", page.page.to_string()), ("pages", page.pages().to_string())]),
            prev,
            next,
            states,
            cadres: choices_with_any(&i, vchoices(&i, Cadre::ALL, Cadre::code, Cadre::label_key), &f.cadre),
            fundings: choices_with_any(
                &i,
                vchoices(&i, FundingSource::ALL, FundingSource::code, FundingSource::label_key),
                &f.funding,
            ),
            unit: f.unit.trim().to_string(),
            back: f.here(),
            can_fill,
            can_keep,
            problems,
            add_form,
            today: today().to_string(),
            next_year: today().year() + 1,
            l,
        },
    )
}

pub(super) async fn posts_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<PostFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    posts_view(&app, &ctx, &p, &f, PostsFailure::None).await
}

/// Posts to approve, as posted.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct NewPostsForm {
    pub csrf: String,
    pub admin_code: String,
    pub cadre: String,
    pub role: String,
    pub funding: String,
    pub org_id: String,
    pub approved_year: String,
    pub count: String,
    pub note: String,
}

pub(super) async fn create_posts(State(app): State<AppState>, ctx: Ctx, Form(form): Form<NewPostsForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let mut errs = no_errors();
    let cadre = Cadre::parse(&form.cadre);
    let role = WorkerRole::parse(&form.role);
    let funding = FundingSource::parse(&form.funding);
    for (k, ok) in [("cadre", cadre.is_some()), ("role", role.is_some()), ("funding", funding.is_some())] {
        if !ok {
            errs.push(FieldError::new(k, "required"));
        }
    }
    let org_id = integer("org_id", &form.org_id, &mut errs);
    let year = integer("approved_year", &form.approved_year, &mut errs);
    let n = count("count", &form.count, &mut errs);
    for (k, ok) in [("approved_year", year.is_some()), ("count", n.is_some())] {
        if !ok && errs.for_field(k).is_none() {
            errs.push(FieldError::new(k, "required"));
        }
    }
    let result = match (cadre, role, funding, year, n) {
        (Some(cadre), Some(role), Some(funding), Some(year), Some(count)) if errs.is_empty() => {
            let new = NewPosts {
                admin_code: form.admin_code.trim().to_string(),
                org_id,
                cadre,
                role,
                funding,
                approved_year: i32::try_from(year).unwrap_or(0),
                count,
                note: form.note.non_blank().map(String::from),
            };
            app.store.create_posts(&p, &new).await.map(|_| ())
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    // Back to the unit's posts, or (a unit that does not exist) to every post.
    let unit = match app.store.admin_unit(form.admin_code.trim()).await? {
        Some(u) if p.scope.contains(&u) => u.code,
        _ => String::new(),
    };
    let f = PostFilters { unit, ..Default::default() };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&f.here()).into_response())
        }
        Err(StoreError::Invalid(e)) => posts_view(&app, &ctx, &p, &f, PostsFailure::Add(&values_of(&form), &e)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

/// A change of one post from the list, as posted: the post's version as the page showed it,
/// and where the list was.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PostChangeForm {
    pub csrf: String,
    pub record_version: String,
    pub worker_id: String,
    pub on: String,
    pub year: String,
    pub back: String,
}

impl PostChangeForm {
    /// The list the change was made from (only a posts list of this site).
    fn filters(&self) -> PostFilters {
        let query = self.back.strip_prefix("/establishment/posts").unwrap_or("");
        let query = query.strip_prefix('?').unwrap_or("");
        serde_urlencoded::from_str(query).unwrap_or_default()
    }

    fn on(&self, errs: &mut komlang_core::ValidationErrors) -> NaiveDate {
        match self.on.non_blank() {
            None => today(),
            Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|_| {
                errs.push(FieldError::new("on", "invalid_date"));
                today()
            }),
        }
    }
}

/// Where a change of a post leads: back to the list, or the list with the problem shown.
async fn after_change(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    form: &PostChangeForm,
    result: Result<Post, StoreError>,
) -> PageResult {
    let f = form.filters();
    match result {
        Ok(_) => {
            flash(ctx, "common.saved").await?;
            Ok(Redirect::to(&f.here()).into_response())
        }
        Err(StoreError::Invalid(e)) => posts_view(app, ctx, p, &f, PostsFailure::Change(&e)).await,
        Err(StoreError::Stale { .. }) => {
            let e = crate::common::conflict::changed_meanwhile(app, "post", &id.to_string()).await?;
            posts_view(app, ctx, p, &f, PostsFailure::Change(&e)).await
        }
        Err(e) => Err(store_err(ctx, e)),
    }
}

pub(super) async fn fill_post(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<PostChangeForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let mut errs = no_errors();
    let on = form.on(&mut errs);
    let worker = integer("worker_id", &form.worker_id, &mut errs);
    if worker.is_none() && errs.for_field("worker_id").is_none() {
        errs.push(FieldError::new("worker_id", "required"));
    }
    let result = match worker {
        Some(w) if errs.is_empty() => {
            app.store.fill_post(&p, id, w, on, form_version(Some(&form.record_version))).await
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    after_change(&app, &ctx, &p, id, &form, result).await
}

pub(super) async fn vacate_post(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<PostChangeForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let mut errs = no_errors();
    let on = form.on(&mut errs);
    let result = if errs.is_empty() {
        app.store.vacate_post(&p, id, on, form_version(Some(&form.record_version))).await
    } else {
        Err(StoreError::Invalid(errs))
    };
    after_change(&app, &ctx, &p, id, &form, result).await
}

pub(super) async fn end_post(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<PostChangeForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let mut errs = no_errors();
    let year = integer("ended_year", &form.year, &mut errs);
    let result = match year {
        Some(y) if errs.is_empty() => {
            let y = i32::try_from(y).unwrap_or(0);
            app.store.end_post(&p, id, y, today(), form_version(Some(&form.record_version))).await
        }
        _ => {
            if errs.is_empty() {
                errs.push(FieldError::new("ended_year", "required"));
            }
            Err(StoreError::Invalid(errs))
        }
    };
    after_change(&app, &ctx, &p, id, &form, result).await
}

/// Which plan to approve.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PlanParam {
    pub plan: String,
}

pub struct LevelPosts {
    pub level: String,
    pub posts: u32,
}

#[derive(Template)]
#[template(path = "establishment/approve.html")]
struct ApprovePage {
    l: Layout,
    plan_id: i64,
    plan_name: String,
    by_level: Vec<LevelPosts>,
    total: u32,
    form: FormBox,
}

const APPROVE_LEVELS: [AdminLevel; 3] = [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune];

async fn approve_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    plan_id: i64,
    failed: Option<(&FormMap, &komlang_core::ValidationErrors)>,
) -> PageResult {
    let i = ctx.i;
    let Some(plan) = app.store.saved_plan(p, plan_id).await.map_err(|e| store_err(ctx, e))? else {
        return Err(ctx.not_found());
    };
    let by_level = APPROVE_LEVELS
        .iter()
        .map(|l| LevelPosts {
            level: i.label(*l),
            posts: plan.result.posts.iter().filter(|x| x.level == *l).map(|x| x.count).sum(),
        })
        .collect();
    let mut defaults = FormMap::new();
    defaults.insert("funding".into(), FundingSource::MosvyPayroll.code().into());
    let none = no_errors();
    let (v, e) = failed.unwrap_or((&defaults, &none));
    let mut b = Fb::new(&i, "approve", v, e);
    b.hidden("plan", &plan_id.to_string());
    b.select(
        "funding",
        "establishment.funding",
        &vchoices(&i, FundingSource::ALL, FundingSource::code, FundingSource::label_key),
        true,
    );
    let cadres = vchoices(&i, Cadre::ALL, Cadre::code, Cadre::label_key);
    let roles = vchoices(&i, WorkerRole::ALL, WorkerRole::code, WorkerRole::label_key);
    for l in APPROVE_LEVELS {
        let title = i.tp("establishment.kind_at", &[("level", i.label(l))]);
        b.select(&format!("{}_cadre", l.code()), "establishment.cadre", &cadres, false).hint = title.clone();
        b.select(&format!("{}_role", l.code()), "establishment.role", &roles, false).hint = title;
    }
    let form =
        b.finish(i.t("establishment.approve_plan"), "/establishment/approve".into(), i.t("establishment.create"));
    let l = layout(ctx, "establishment").await?;
    render_status(
        if failed.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK },
        &ApprovePage { plan_id, plan_name: plan.name, by_level, total: plan.result.total, form, l },
    )
}

pub(super) async fn approve_page(State(app): State<AppState>, ctx: Ctx, Query(q): Query<PlanParam>) -> PageResult {
    let p = ctx.require()?.clone();
    let Ok(id) = q.plan.trim().parse::<i64>() else { return Err(ctx.not_found()) };
    approve_view(&app, &ctx, &p, id, None).await
}

/// A plan's approval, as posted.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct ApproveForm {
    pub csrf: String,
    pub plan: String,
    pub funding: String,
    pub province_cadre: String,
    pub province_role: String,
    pub district_cadre: String,
    pub district_role: String,
    pub commune_cadre: String,
    pub commune_role: String,
}

fn kind(cadre: &str, role: &str) -> Option<komlang_store::establishment::PostKind> {
    Some(komlang_store::establishment::PostKind { cadre: Cadre::parse(cadre)?, role: WorkerRole::parse(role)? })
}

pub(super) async fn approve_plan(State(app): State<AppState>, ctx: Ctx, Form(form): Form<ApproveForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let Ok(id) = form.plan.trim().parse::<i64>() else { return Err(ctx.not_found()) };
    let result = match FundingSource::parse(&form.funding) {
        Some(funding) => {
            let a = PlanApproval {
                funding,
                province: kind(&form.province_cadre, &form.province_role),
                district: kind(&form.district_cadre, &form.district_role),
                commune: kind(&form.commune_cadre, &form.commune_role),
            };
            app.store.approve_plan_posts(&p, id, &a).await.map(|_| ())
        }
        None => {
            Err(StoreError::Invalid(komlang_core::ValidationErrors::single(FieldError::new("funding", "required"))))
        }
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/establishment").into_response())
        }
        Err(StoreError::Invalid(e)) => approve_view(&app, &ctx, &p, id, Some((&values_of(&form), &e))).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}
