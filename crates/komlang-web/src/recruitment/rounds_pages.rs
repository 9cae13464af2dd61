//! The pages of recruitment rounds (the list with the form that opens one; one round with its
//! posts, its ranked candidates and the forms that run it) and of field placements.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::hiring::{
    CandidateSource, CandidateStatus, PlacementKind, RankingRule, RequiredCompetency, Requirements, RoundKind,
    RoundStatus, Unmet,
};
use komlang_core::*;
use komlang_store::hiring::{
    AppointInput, CandidateInput, Placement, PlacementInput, Round, RoundBrief, RoundInput, RoundPostInput, ScoresInput,
};
use komlang_store::StoreError;
use serde::Deserialize;

use crate::common::export::{export_format, page_download, FormatParam};
use crate::common::form_box::messages;
use crate::common::forms::choices;
use crate::common::names::pick;
use crate::common::{flash, layout, render_status, store_err, today, Choice, Ctx, I18n, Layout, PageResult, Posted};
use crate::AppState;

pub struct RoundLine {
    pub r: RoundBrief,
    pub kind: String,
    pub status: String,
}

#[derive(Template)]
#[template(path = "recruitment/rounds.html")]
struct RoundsPage {
    l: Layout,
    lines: Vec<RoundLine>,
    can_run: bool,
    kinds: Vec<Choice>,
    problems: Vec<String>,
    today: String,
}

async fn rounds_view(app: &AppState, ctx: &Ctx, p: &Principal, problems: Vec<String>) -> PageResult {
    let i = ctx.i;
    let lines = app
        .store
        .recruitment_rounds(p)
        .await
        .map_err(|e| store_err(ctx, e))?
        .into_iter()
        .map(|r| RoundLine { kind: i.label(r.kind), status: i.label(r.status), r })
        .collect();
    let kinds = choices(&i, RoundKind::ALL, RoundKind::code, "provincial");
    let l = layout(ctx, "recruitment").await?;
    render_status(
        if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &RoundsPage {
            lines,
            can_run: p.may_in_scope(Action::RunRecruitment),
            kinds,
            problems,
            today: today().to_string(),
            l,
        },
    )
}

pub(super) async fn rounds_page(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    rounds_view(&app, &ctx, &p, Vec::new()).await
}

pub(super) async fn create_round(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let mut errs = ValidationErrors::default();
    let kind = RoundKind::parse(form.get("kind"));
    if kind.is_none() {
        errs.push(FieldError::new("kind", "required"));
    }
    let opens = form.date("opens_on", true, &mut errs);
    let closes = form.date("closes_on", true, &mut errs);
    let exam: Option<f64> = form.number("exam_weight", &mut errs);
    let result = match (kind, opens, closes) {
        (Some(kind), Some(opens_on), Some(closes_on)) if errs.is_empty() => {
            let input = RoundInput {
                name: form.get("name").to_string(),
                kind,
                province: form.opt("province"),
                opens_on,
                closes_on,
                ranking: exam.map(|e| RankingRule { exam_weight: e, interview_weight: 1.0 - e }),
            };
            app.store.create_round(&p, &input, today()).await
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    match result {
        Ok(r) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/recruitment/rounds/{}", r.id)).into_response())
        }
        Err(StoreError::Invalid(e)) => rounds_view(&app, &ctx, &p, messages(&ctx.i, &e)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

pub struct PostLine {
    pub id: i64,
    pub unit: String,
    pub cadre: String,
    pub role: String,
    pub requires: String,
    pub vacant: bool,
}

pub struct CandidateLine {
    pub id: i64,
    pub rank: String,
    pub name: String,
    pub source: String,
    pub facts: String,
    pub exam: String,
    pub interview: String,
    pub total: String,
    pub status: String,
    pub in_running: bool,
    pub why_not: Vec<String>,
    pub eligible_posts: Vec<Choice>,
    pub version: i64,
}

#[derive(Template)]
#[template(path = "recruitment/round.html")]
struct RoundPage {
    l: Layout,
    r: Round,
    kind: String,
    status: String,
    open: bool,
    posts: Vec<PostLine>,
    candidates: Vec<CandidateLine>,
    pool: Vec<Choice>,
    cadres: Vec<Choice>,
    educations: Vec<Choice>,
    sexes: Vec<Choice>,
    problems: Vec<String>,
    today: String,
    /// "Page 2 of 37" when the candidates take more than a page.
    page_of: Option<String>,
    prev: Option<String>,
    next: Option<String>,
}

/// Candidates on one page of a round (a national round has thousands).
pub const CANDIDATES_PER_PAGE: usize = 50;

/// `?page=` of a round's page.
#[derive(Debug, Deserialize)]
pub(super) struct RoundPageQuery {
    /// 1, 2, …; out of range: the nearest page.
    pub page: Option<String>,
}

fn requires_text(i: &I18n, r: &Requirements) -> String {
    let mut parts = Vec::new();
    if let Some(c) = r.cadre {
        parts.push(i.label(c));
    }
    if let Some(e) = r.education_min {
        parts.push(format!("≥ {}", i.label(e)));
    }
    if r.years_min > 0 {
        parts.push(i.tp("hiring.years_min_text", &[("n", r.years_min.to_string())]));
    }
    for c in &r.competencies {
        parts.push(format!("{} ≥ {}", c.code, c.level));
    }
    if parts.is_empty() {
        i.t("hiring.no_requirement")
    } else {
        parts.join(" · ")
    }
}

fn unmet_text(i: &I18n, u: &Unmet) -> String {
    let none = || i.t("hiring.unknown");
    match u {
        Unmet::Cadre { required, actual } => i.tp(
            "hiring.unmet.cadre",
            &[("required", i.label(*required)), ("actual", actual.map(|a| i.label(a)).unwrap_or_else(none))],
        ),
        Unmet::Education { required, actual } => i.tp(
            "hiring.unmet.education",
            &[("required", i.label(*required)), ("actual", actual.map(|a| i.label(a)).unwrap_or_else(none))],
        ),
        Unmet::Experience { required, actual } => i.tp(
            "hiring.unmet.experience",
            &[("required", required.to_string()), ("actual", actual.map(|a| a.to_string()).unwrap_or_else(none))],
        ),
        Unmet::Competency { code, required, actual } => i.tp(
            "hiring.unmet.competency",
            &[
                ("code", code.clone()),
                ("required", required.to_string()),
                ("actual", actual.map(|a| a.to_string()).unwrap_or_else(none)),
            ],
        ),
    }
}

/// Posts of a requirement set as a candidate's "why not" names them: every id up to a few,
/// then the first few and how many in all.
fn posts_text(ids: &[i64]) -> String {
    const SHOWN: usize = 5;
    let first: Vec<String> = ids.iter().take(SHOWN).map(i64::to_string).collect();
    if ids.len() <= SHOWN {
        first.join(", ")
    } else {
        format!("{} … ({})", first.join(", "), ids.len())
    }
}

fn score(s: Option<f64>) -> String {
    s.map(|v| format!("{v:.1}")).unwrap_or_default()
}

async fn round_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    page: usize,
    problems: Vec<String>,
) -> PageResult {
    let i = ctx.i;
    let r = app.store.recruitment_round(p, id, today()).await.map_err(|e| store_err(ctx, e))?;
    let pages = r.candidates.len().div_ceil(CANDIDATES_PER_PAGE).max(1);
    let page = page.clamp(1, pages);
    let link = |n: i64| format!("/recruitment/rounds/{id}?page={n}#candidates");
    let (prev, next) = crate::common::pagination::prev_next(page as i64, pages as i64, link);
    let page_of =
        (pages > 1).then(|| i.tp("common.page_of", &[("page", page.to_string()), ("pages", pages.to_string())]));
    let posts: Vec<PostLine> = r
        .posts
        .iter()
        .map(|x| PostLine {
            id: x.post_id,
            unit: format!("{} {}", x.admin_code, pick(&i, &x.unit_name_en, &x.unit_name_km)),
            cadre: i.label(x.cadre),
            role: i.label(x.role),
            requires: requires_text(&i, &x.requirements),
            vacant: x.vacant,
        })
        .collect();
    let vacant: std::collections::HashSet<i64> = r.posts.iter().filter(|x| x.vacant).map(|x| x.post_id).collect();
    let candidates = r
        .candidates
        .iter()
        .skip((page - 1) * CANDIDATES_PER_PAGE)
        .take(CANDIDATES_PER_PAGE)
        .map(|c| {
            let why_not = c
                .fit
                .iter()
                .filter(|f| !f.unmet.is_empty())
                .map(|f| {
                    let reasons: Vec<String> = f.unmet.iter().map(|u| unmet_text(&i, u)).collect();
                    let posts = r.requirement_sets.iter().find(|s| s.set == f.set).map(|s| posts_text(&s.post_ids));
                    format!("{} {}: {}", i.t("hiring.post"), posts.unwrap_or_default(), reasons.join("; "))
                })
                .collect();
            let eligible_posts = r
                .eligible_posts(c)
                .filter(|p| vacant.contains(p))
                .map(|p| Choice { value: p.to_string(), label: format!("{} {p}", i.t("hiring.post")), selected: false })
                .collect();
            let facts = [
                c.cadre.map(|x| i.label(x)).unwrap_or_default(),
                c.education_level.map(|x| i.label(x)).unwrap_or_default(),
                c.years.map(|y| i.tp("hiring.years_text", &[("n", y.to_string())])).unwrap_or_default(),
                c.institution.clone().unwrap_or_default(),
            ]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" · ");
            CandidateLine {
                id: c.id,
                rank: c.rank.map(|x| x.to_string()).unwrap_or_default(),
                name: format!("{} · {}", c.name_km, c.name_latin),
                source: i.label(c.source),
                facts,
                exam: score(c.exam_score),
                interview: score(c.interview_score),
                total: score(c.total),
                status: i.label(c.status),
                in_running: c.status == CandidateStatus::Applied,
                why_not,
                eligible_posts,
                version: c.version,
            }
        })
        .collect();
    let pool = if r.may_run {
        app.store
            .placements(p, true, today())
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|x: Placement| Choice {
                value: x.id.to_string(),
                label: format!(
                    "{} · {} ({} {})",
                    x.name_km,
                    x.name_latin,
                    x.institution,
                    x.graduated_year.map(|y| y.to_string()).unwrap_or_default()
                ),
                selected: false,
            })
            .collect()
    } else {
        Vec::new()
    };
    let l = layout(ctx, "recruitment").await?;
    render_status(
        if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &RoundPage {
            kind: i.label(r.kind),
            status: i.label(r.status),
            open: r.status == RoundStatus::Open,
            posts,
            candidates,
            pool,
            cadres: choices(&i, Cadre::ALL, Cadre::code, ""),
            educations: choices(&i, EducationLevel::ALL, EducationLevel::code, ""),
            sexes: choices(&i, Sex::ALL, Sex::code, ""),
            problems,
            today: today().to_string(),
            page_of,
            prev,
            next,
            r,
            l,
        },
    )
}

pub(super) async fn round_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<RoundPageQuery>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let page = q.page.as_deref().and_then(|s| s.trim().parse::<usize>().ok()).unwrap_or(1);
    round_view(&app, &ctx, &p, id, page, Vec::new()).await
}

/// The round's candidates as a file.
pub(super) async fn round_export(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(fmt): Query<FormatParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let r = app.store.recruitment_round(&p, id, today()).await.map_err(|e| store_err(&ctx, e))?;
    page_download(&ctx, "komlang-recruitment-round", format, super::CANDIDATE_COLUMNS, super::candidate_cells(&r)).await
}

async fn after(app: &AppState, ctx: &Ctx, p: &Principal, round: i64, result: Result<Round, StoreError>) -> PageResult {
    match result {
        Ok(r) => {
            flash(ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/recruitment/rounds/{}", r.id)).into_response())
        }
        Err(StoreError::Invalid(e)) => round_view(app, ctx, p, round, 1, messages(&ctx.i, &e)).await,
        Err(StoreError::Stale { .. }) => round_view(app, ctx, p, round, 1, vec![ctx.i.t("hiring.stale")]).await,
        Err(e) => Err(store_err(ctx, e)),
    }
}

pub(super) async fn add_post(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let mut errs = ValidationErrors::default();
    let post: Option<i64> = form.number("post_id", &mut errs);
    if post.is_none() && errs.is_empty() {
        errs.push(FieldError::new("post_id", "required"));
    }
    let years: Option<u32> = form.number("years_min", &mut errs);
    let mut competencies = Vec::new();
    for part in form.get("competencies").split_whitespace() {
        match part.split_once(':').and_then(|(c, l)| l.parse::<u8>().ok().map(|l| (c, l))) {
            Some((code, level)) => competencies.push(RequiredCompetency { code: code.to_string(), level }),
            None => errs.push(FieldError::new("competencies", "invalid_competency_level").with("value", part)),
        }
    }
    let result = match post {
        Some(post_id) if errs.is_empty() => {
            let requirements = Requirements {
                cadre: Cadre::parse(form.get("cadre")),
                education_min: EducationLevel::parse(form.get("education_min")),
                years_min: years.unwrap_or(0),
                competencies,
            };
            app.store.add_round_post(&p, id, &RoundPostInput { post_id, requirements }, today()).await
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    after(&app, &ctx, &p, id, result).await
}

pub(super) async fn add_candidate(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let mut errs = ValidationErrors::default();
    let input = CandidateInput {
        worker_id: form.number("worker_id", &mut errs),
        placement_id: form.number("placement_id", &mut errs),
        source: CandidateSource::parse(form.get("source")),
        name_km: form.opt("name_km"),
        name_latin: form.opt("name_latin"),
        sex: Sex::parse(form.get("sex")),
        date_of_birth: form.date("date_of_birth", false, &mut errs),
        national_id: form.opt("national_id"),
        phone: form.opt("phone"),
        cadre: Cadre::parse(form.get("cadre")),
        education_level: EducationLevel::parse(form.get("education_level")),
        experience_since: form.date("experience_since", false, &mut errs),
        institution: form.opt("institution"),
        graduated_year: form.number("graduated_year", &mut errs),
        applied_on: form.date("applied_on", false, &mut errs),
    };
    let result = if errs.is_empty() {
        app.store.add_candidate(&p, id, &input, today()).await
    } else {
        Err(StoreError::Invalid(errs))
    };
    after(&app, &ctx, &p, id, result).await
}

pub(super) async fn close_round(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let result = app.store.close_round(&p, id, None, today()).await;
    after(&app, &ctx, &p, id, result).await
}

/// The round a candidate is in (the form's `round_id`), for the redirect and the page shown again.
fn round_of(ctx: &Ctx, form: &Posted<'_>) -> Result<i64, crate::common::PageError> {
    form.get("round_id").parse::<i64>().map_err(|_| ctx.not_found())
}

pub(super) async fn scores(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let round = round_of(&ctx, &form)?;
    let mut errs = ValidationErrors::default();
    let input = ScoresInput {
        exam_score: form.number("exam_score", &mut errs),
        interview_score: form.number("interview_score", &mut errs),
        interview_notes: form.opt("interview_notes"),
    };
    let version = crate::common::versions::form_version(Some(form.get(crate::common::versions::VERSION_FIELD)));
    let result = if errs.is_empty() {
        app.store.set_candidate_scores(&p, id, &input, version, today()).await
    } else {
        Err(StoreError::Invalid(errs))
    };
    after(&app, &ctx, &p, round, result).await
}

pub(super) async fn appoint(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let round = round_of(&ctx, &form)?;
    let mut errs = ValidationErrors::default();
    let post: Option<i64> = form.number("post_id", &mut errs);
    let start = form.date("start_date", true, &mut errs);
    if post.is_none() && errs.for_field("post_id").is_none() {
        errs.push(FieldError::new("post_id", "required"));
    }
    let result = match (post, start) {
        (Some(post_id), Some(start_date)) if errs.is_empty() => {
            app.store.appoint_candidate(&p, id, &AppointInput { post_id, start_date }, today()).await
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    after(&app, &ctx, &p, round, result).await
}

pub(super) async fn withdraw(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let round = round_of(&ctx, &form)?;
    let result = app.store.withdraw_candidate(&p, id, today()).await;
    after(&app, &ctx, &p, round, result).await
}

pub struct PlacementLine {
    pub x: Placement,
    pub kind: String,
    pub sex: String,
}

#[derive(Template)]
#[template(path = "recruitment/placements.html")]
struct PlacementsPage {
    l: Layout,
    lines: Vec<PlacementLine>,
    pool: bool,
    can_keep: bool,
    kinds: Vec<Choice>,
    sexes: Vec<Choice>,
    educations: Vec<Choice>,
    problems: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct PlacementFilters {
    pub pool: String,
}

async fn placements_view(app: &AppState, ctx: &Ctx, p: &Principal, pool: bool, problems: Vec<String>) -> PageResult {
    let i = ctx.i;
    let lines = app
        .store
        .placements(p, pool, today())
        .await
        .map_err(|e| store_err(ctx, e))?
        .into_iter()
        .map(|x| PlacementLine { kind: i.label(x.kind), sex: i.label(x.sex), x })
        .collect();
    let l = layout(ctx, "recruitment").await?;
    render_status(
        if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY },
        &PlacementsPage {
            lines,
            pool,
            can_keep: p.may(Action::KeepPlacements),
            kinds: choices(&i, PlacementKind::ALL, PlacementKind::code, ""),
            sexes: choices(&i, Sex::ALL, Sex::code, ""),
            educations: choices(&i, EducationLevel::ALL, EducationLevel::code, "bachelor"),
            problems,
            l,
        },
    )
}

pub(super) async fn placements_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(f): Query<PlacementFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    placements_view(&app, &ctx, &p, f.pool == "1", Vec::new()).await
}

pub(super) async fn create_placement(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form = Posted(&pairs);
    ctx.check_csrf(form.get("csrf"))?;
    let mut errs = ValidationErrors::default();
    let kind = PlacementKind::parse(form.get("kind"));
    let sex = Sex::parse(form.get("sex"));
    for (k, missing) in [("kind", kind.is_none()), ("sex", sex.is_none())] {
        if missing {
            errs.push(FieldError::new(k, "required"));
        }
    }
    let start = form.date("start_date", true, &mut errs);
    let end = form.date("end_date", true, &mut errs);
    let input = match (kind, sex, start, end) {
        (Some(kind), Some(sex), Some(start_date), Some(end_date)) => Some(PlacementInput {
            kind,
            name_km: form.get("name_km").into(),
            name_latin: form.get("name_latin").into(),
            sex,
            date_of_birth: form.date("date_of_birth", false, &mut errs),
            national_id: form.opt("national_id"),
            phone: form.opt("phone"),
            institution: form.get("institution").into(),
            programme: form.opt("programme"),
            education_level: EducationLevel::parse(form.get("education_level")),
            host_admin_code: form.get("host_admin_code").into(),
            host_org_id: form.number("host_org_id", &mut errs),
            supervisor_worker_id: form.number("supervisor_worker_id", &mut errs),
            start_date,
            end_date,
            graduated_year: form.number("graduated_year", &mut errs),
            notes: form.opt("notes"),
        }),
        _ => None,
    };
    let result = match input {
        Some(input) if errs.is_empty() => app.store.create_placement(&p, &input).await,
        _ => Err(StoreError::Invalid(errs)),
    };
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/recruitment/placements").into_response())
        }
        Err(StoreError::Invalid(e)) => placements_view(&app, &ctx, &p, false, messages(&ctx.i, &e)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}
