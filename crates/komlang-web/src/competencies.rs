//! Pages of the national competency framework: browsing the framework, the levels each cadre
//! and role requires, a worker's assessments (list and progress, recording, viewing, changing),
//! a worker's gaps, and the gap heat map and training needs of a scope, with their exports.
//!
//! Every page goes through the store, which decides who sees and records what (see
//! `komlang_store::competencies`): a worker's assessments are shown to the worker, their
//! supervisor and the accounts whose scope includes them; to anyone else they answer 404.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use komlang_core::competency::{
    training_needs, validate_assessment, AggregateCell, AssessmentInput, AssessmentKind, CompetencyGroup, Framework,
    Rating, RatingInput, RequirementFor,
};
use komlang_core::*;
use komlang_store::{
    parse_requirement_target, requirement_target_code, Assessment, AssessmentAccess, FrameworkVersion, GapQuery,
    GapReport, StoreError, SupervisorInfo, WorkerBrief, ASSESSMENT_EXPORT_COLUMNS,
};
use serde::Deserialize;

use crate::common::export::table_file;
use crate::common::i18n::Labeled;
use crate::common::names::pick;
use crate::common::{
    flash, layout, render, render_status, store_err, today, trimmed, Choice, CsrfForm, Ctx, ExportFormat, I18n, Layout,
    PageError, PageResult,
};
use crate::common::{Gate, Routes};
use crate::AppState;

pub fn routes(r: Routes) -> Routes {
    r.get("/competencies", Gate::SignedIn, framework_page)
        .get("/competencies/requirements", Gate::SignedIn, requirements_page)
        .post("/competencies/requirements", Gate::Action(Action::KeepFramework), save_requirements)
        .get("/workers/{id}/assessments", Gate::Action(Action::ReadWorkers), assessments_page)
        .post("/workers/{id}/assessments", Gate::Action(Action::AssessWorker), create_assessment)
        .get("/workers/{id}/assessments/new", Gate::Action(Action::AssessWorker), new_assessment)
        // SetSupervisor: checked per record, after the scope (404 first).
        .post("/workers/{id}/supervisor", Gate::Action(Action::ReadWorkers), set_supervisor)
        .get("/workers/{id}/competency-gaps", Gate::Action(Action::ReadWorkers), worker_gaps_page)
        .get("/assessments/{id}", Gate::Action(Action::ReadWorkers), assessment_page)
        .post("/assessments/{id}", Gate::Action(Action::AssessWorker), update_assessment)
        .get("/assessments/{id}/edit", Gate::Action(Action::AssessWorker), edit_assessment)
        .post("/assessments/{id}/delete", Gate::Action(Action::AssessWorker), delete_assessment)
        .get("/competency/gaps", Gate::Action(Action::ReadWorkers), gaps_page)
        .get("/competency/training-needs", Gate::Action(Action::ReadWorkers), training_needs_page)
        .get("/competency/export", Gate::Action(Action::ReadWorkers), export_page)
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// "3 · Competent".
pub fn rating_label(i: &I18n, r: Rating) -> String {
    format!("{} · {}", r.value(), i.label(r))
}

fn opt_rating(i: &I18n, r: Option<Rating>) -> String {
    r.map(|r| rating_label(i, r)).unwrap_or_default()
}

/// CSS class of a rating cell.
fn rating_class(r: Option<Rating>) -> String {
    r.map(|r| format!("rating-{}", r.value())).unwrap_or_default()
}

fn group_label(i: &I18n, group: &str) -> String {
    CompetencyGroup::parse(group).map(|g| i.label(g)).unwrap_or_default()
}

fn worker_title(w: &WorkerBrief) -> String {
    format!("{} · {}", w.name_km, w.name_latin)
}

/// The framework named by `version` (or the current one), 404 when there is no such version.
async fn framework_of(app: &AppState, ctx: &Ctx, version: Option<&str>) -> Result<Framework, PageError> {
    app.store.framework_or_current(version).await.map_err(|e| store_err(ctx, e))?.ok_or_else(|| ctx.not_found())
}

fn version_choices(versions: &[FrameworkVersion], current: &str, i: &I18n) -> Vec<Choice> {
    versions
        .iter()
        .map(|v| Choice {
            value: v.version.clone(),
            label: if v.current {
                format!("{} ({})", v.version, i.t("competency.current_version"))
            } else {
                v.version.clone()
            },
            selected: v.version == current,
        })
        .collect()
}

fn vocab_choices<T: Copy + Labeled>(i: &I18n, all: &[T], code: fn(T) -> &'static str, current: &str) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice { value: code(*v).to_string(), label: i.label(*v), selected: code(*v) == current })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The framework
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct VersionParam {
    #[serde(default)]
    pub version: String,
}

pub struct IndicatorView {
    pub code: String,
    pub text: String,
}

pub struct CompetencyView {
    pub code: String,
    pub name: String,
    pub indicators: Vec<IndicatorView>,
}

pub struct GroupView {
    /// Empty outside the knowledge area.
    pub label: String,
    pub competencies: Vec<CompetencyView>,
}

pub struct AreaView {
    pub code: String,
    pub name: String,
    pub competency_count: usize,
    pub indicator_count: usize,
    pub groups: Vec<GroupView>,
}

/// The framework by area and knowledge group, in the interface language.
fn area_views(i: &I18n, fw: &Framework) -> Vec<AreaView> {
    fw.areas
        .iter()
        .map(|a| {
            let mut groups: Vec<GroupView> = Vec::new();
            for c in &a.competencies {
                let label = group_label(i, &c.group);
                if groups.last().is_none_or(|g| g.label != label) {
                    groups.push(GroupView { label, competencies: Vec::new() });
                }
                let view = CompetencyView {
                    code: c.code.clone(),
                    name: pick(i, &c.name_en, &c.name_km),
                    indicators: c
                        .indicators
                        .iter()
                        .map(|x| IndicatorView { code: x.code.clone(), text: pick(i, &x.text_en, &x.text_km) })
                        .collect(),
                };
                if let Some(g) = groups.last_mut() {
                    g.competencies.push(view);
                }
            }
            AreaView {
                code: a.code.clone(),
                name: pick(i, &a.name_en, &a.name_km),
                competency_count: a.competencies.len(),
                indicator_count: a.competencies.iter().map(|c| c.indicators.len()).sum(),
                groups,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "competencies.html")]
struct FrameworkPage {
    l: Layout,
    title: String,
    version: String,
    current: bool,
    versions: Vec<Choice>,
    competency_count: usize,
    indicator_count: usize,
    source: String,
    translation_note: String,
    areas: Vec<AreaView>,
}

async fn framework_page(State(app): State<AppState>, ctx: Ctx, Query(q): Query<VersionParam>) -> PageResult {
    ctx.require()?;
    let fw = framework_of(&app, &ctx, trimmed(&q.version).as_deref()).await?;
    let versions = app.store.framework_versions().await?;
    let i = ctx.i;
    let current = versions.iter().any(|v| v.current && v.version == fw.version);
    let l = layout(&ctx, "competencies").await?;
    render(&FrameworkPage {
        title: pick(&i, &fw.title_en, &fw.title_km),
        version: fw.version.clone(),
        current,
        versions: version_choices(&versions, &fw.version, &i),
        competency_count: fw.competency_count(),
        indicator_count: fw.indicator_count(),
        source: fw.source.clone(),
        translation_note: fw.translation_note.clone(),
        areas: area_views(&i, &fw),
        l,
    })
}

// ---------------------------------------------------------------------------------------------
// Required levels
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct RequirementParams {
    #[serde(default)]
    pub version: String,
    #[serde(default, rename = "for")]
    pub target: String,
}

pub struct LevelRow {
    /// The area's name on the first row of an area, else empty.
    pub area: String,
    pub group: String,
    pub code: String,
    pub name: String,
    pub level: String,
    pub options: Vec<Choice>,
    pub error: String,
}

#[derive(Template)]
#[template(path = "competency_requirements.html")]
struct RequirementsPage {
    l: Layout,
    version: String,
    versions: Vec<Choice>,
    cadres: Vec<Choice>,
    roles: Vec<Choice>,
    target: String,
    target_label: String,
    rows: Vec<LevelRow>,
    can_edit: bool,
    has_errors: bool,
}

fn target_label(i: &I18n, t: RequirementFor) -> String {
    match t {
        RequirementFor::Cadre(c) => format!("{}: {}", i.t("worker.cadre"), i.label(c)),
        RequirementFor::Role(r) => format!("{}: {}", i.t("worker.role"), i.label(r)),
    }
}

#[allow(clippy::too_many_arguments)]
async fn requirements_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    fw: &Framework,
    target: RequirementFor,
    submitted: Option<&HashMap<String, String>>,
    errors: &ValidationErrors,
    status: StatusCode,
) -> PageResult {
    let i = ctx.i;
    let reqs = app.store.competency_requirements(&fw.version).await?;
    let levels: HashMap<String, Rating> =
        reqs.into_iter().filter(|r| r.applies_to == target).map(|r| (r.competency_code, r.level)).collect();
    let mut rows = Vec::new();
    let mut last_area = String::new();
    let mut last_group = String::new();
    for (area, c) in fw.competencies() {
        let current = match submitted {
            Some(form) => form.get(&format!("level.{}", c.code)).cloned().unwrap_or_default(),
            None => levels.get(&c.code).map(|r| r.value().to_string()).unwrap_or_default(),
        };
        let mut options = vec![Choice {
            value: String::new(),
            label: i.t("competency.no_requirement"),
            selected: current.is_empty(),
        }];
        options.extend(Rating::ALL.iter().map(|r| Choice {
            value: r.value().to_string(),
            label: rating_label(&i, *r),
            selected: r.value().to_string() == current,
        }));
        let group = group_label(&i, &c.group);
        rows.push(LevelRow {
            area: if area.code != last_area { pick(&i, &area.name_en, &area.name_km) } else { String::new() },
            group: if group != last_group || area.code != last_area { group.clone() } else { String::new() },
            code: c.code.clone(),
            name: pick(&i, &c.name_en, &c.name_km),
            level: levels.get(&c.code).map(|r| rating_label(&i, *r)).unwrap_or_default(),
            options,
            error: errors.for_field(&format!("level.{}", c.code)).map(|e| i.field_error(e)).unwrap_or_default(),
        });
        last_area = area.code.clone();
        last_group = group;
    }
    let versions = app.store.framework_versions().await?;
    let code = requirement_target_code(target);
    let cadres = Cadre::ALL
        .iter()
        .map(|c| {
            let v = requirement_target_code(RequirementFor::Cadre(*c));
            Choice { selected: v == code, value: v, label: i.label(*c) }
        })
        .collect();
    let roles = WorkerRole::ALL
        .iter()
        .map(|r| {
            let v = requirement_target_code(RequirementFor::Role(*r));
            Choice { selected: v == code, value: v, label: i.label(*r) }
        })
        .collect();
    let l = layout(ctx, "competencies").await?;
    render_status(
        status,
        &RequirementsPage {
            version: fw.version.clone(),
            versions: version_choices(&versions, &fw.version, &i),
            cadres,
            roles,
            target: code,
            target_label: target_label(&i, target),
            rows,
            can_edit: p.may(Action::KeepFramework),
            has_errors: !errors.is_empty(),
            l,
        },
    )
}

async fn requirements_page(State(app): State<AppState>, ctx: Ctx, Query(q): Query<RequirementParams>) -> PageResult {
    let p = ctx.require()?.clone();
    let fw = framework_of(&app, &ctx, trimmed(&q.version).as_deref()).await?;
    let target = match trimmed(&q.target) {
        None => RequirementFor::Cadre(Cadre::ParaSocialWorker),
        Some(t) => parse_requirement_target(&t).ok_or_else(|| ctx.not_found())?,
    };
    requirements_view(&app, &ctx, &p, &fw, target, None, &ValidationErrors::default(), StatusCode::OK).await
}

async fn save_requirements(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let version = form.get("version").cloned().unwrap_or_default();
    let fw = framework_of(&app, &ctx, trimmed(&version).as_deref()).await?;
    let target = form.get("for").and_then(|t| parse_requirement_target(t)).ok_or_else(|| ctx.not_found())?;
    let mut levels = BTreeMap::new();
    let mut errs = ValidationErrors::default();
    for (k, v) in &form {
        let Some(code) = k.strip_prefix("level.") else { continue };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        match Rating::parse(v) {
            Some(r) => {
                levels.insert(code.to_string(), r);
            }
            None => errs.push(FieldError::new(k, "rating_out_of_scale").with("value", v).with("min", 1).with("max", 4)),
        }
    }
    let result = if errs.is_empty() {
        app.store.set_competency_requirements(&p, &fw.version, target, &levels).await
    } else {
        Err(StoreError::Invalid(errs))
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            let q = serde_urlencoded::to_string([
                ("version", fw.version.clone()),
                ("for", requirement_target_code(target)),
            ])
            .unwrap_or_default();
            Ok(Redirect::to(&format!("/competencies/requirements?{q}")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            requirements_view(&app, &ctx, &p, &fw, target, Some(&form), &e, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

// ---------------------------------------------------------------------------------------------
// A worker's assessments
// ---------------------------------------------------------------------------------------------

async fn access_or_404(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    worker_id: i64,
) -> Result<AssessmentAccess, PageError> {
    app.store.assessment_access(p, worker_id).await.map_err(|e| store_err(ctx, e))?.ok_or_else(|| ctx.not_found())
}

pub struct AssessmentLine {
    pub id: i64,
    pub date: String,
    pub kind: String,
    pub assessor: String,
    pub version: String,
    pub rated: usize,
    /// Mean score of each area (one decimal), in area order.
    pub area_means: Vec<String>,
}

pub struct ProgressRow {
    pub area: String,
    pub code: String,
    pub name: String,
    pub cells: Vec<(String, String)>,
    pub change: String,
}

#[derive(Template)]
#[template(path = "assessments.html")]
struct AssessmentsPage {
    l: Layout,
    w: WorkerBrief,
    in_scope: bool,
    supervisor: Option<SupervisorInfo>,
    new_kinds: Vec<Choice>,
    lines: Vec<AssessmentLine>,
    area_names: Vec<String>,
    progress_heads: Vec<String>,
    progress: Vec<ProgressRow>,
    version: String,
}

fn area_means(fw: &Framework, a: &Assessment) -> Vec<String> {
    fw.areas
        .iter()
        .map(|area| {
            let (sum, n) = a
                .scores
                .iter()
                .filter(|s| s.area_code == area.code)
                .filter_map(|s| s.score)
                .fold((0u32, 0u32), |(s, n), r| (s + u32::from(r.value()), n + 1));
            if n == 0 {
                "—".to_string()
            } else {
                format!("{:.1}", f64::from(sum) / f64::from(n))
            }
        })
        .collect()
}

/// Up to this many of the latest assessments are shown side by side in the progress table.
const PROGRESS_COLUMNS: usize = 6;

async fn assessments_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let access = access_or_404(&app, &ctx, &p, id).await?;
    let list = app.store.list_assessments(&p, id).await.map_err(|e| store_err(&ctx, e))?;
    let supervisor = app.store.worker_supervisor(&p, id).await.map_err(|e| store_err(&ctx, e))?;
    let fw = app.store.current_framework().await?;
    let i = ctx.i;
    let mut frameworks: HashMap<String, Framework> = HashMap::new();
    frameworks.insert(fw.version.clone(), fw.clone());
    let mut lines = Vec::new();
    for a in list.iter().rev() {
        if !frameworks.contains_key(&a.framework_version) {
            if let Some(f) = app.store.framework(&a.framework_version).await? {
                frameworks.insert(a.framework_version.clone(), f);
            }
        }
        let means = frameworks.get(&a.framework_version).map(|f| area_means(f, a)).unwrap_or_default();
        lines.push(AssessmentLine {
            id: a.id,
            date: a.assessed_on.to_string(),
            kind: i.label(a.kind),
            assessor: a.assessor.clone(),
            version: a.framework_version.clone(),
            rated: a.ratings.len(),
            area_means: means,
        });
    }
    // Progress: the latest assessments in the current version, oldest first.
    let current: Vec<&Assessment> = list.iter().filter(|a| a.framework_version == fw.version).collect();
    let shown = &current[current.len().saturating_sub(PROGRESS_COLUMNS)..];
    let progress_heads = shown.iter().map(|a| format!("{} · {}", a.assessed_on, i.label(a.kind))).collect();
    let mut progress = Vec::new();
    let mut last_area = String::new();
    for (area, c) in fw.competencies() {
        let scores: Vec<Option<Rating>> =
            shown.iter().map(|a| a.scores.iter().find(|s| s.competency_code == c.code).and_then(|s| s.score)).collect();
        if scores.iter().all(Option::is_none) {
            continue;
        }
        // Like with like: the latest score against the previous one of the same kind.
        let scored: Vec<(AssessmentKind, Rating)> =
            shown.iter().zip(&scores).filter_map(|(a, s)| Some((a.kind, (*s)?))).collect();
        let change = match scored.split_last() {
            Some(((kind, last), earlier)) => match earlier.iter().rev().find(|(k, _)| k == kind) {
                Some((_, before)) => {
                    let d = i16::from(last.value()) - i16::from(before.value());
                    if d > 0 {
                        format!("+{d}")
                    } else {
                        d.to_string()
                    }
                }
                None => String::new(),
            },
            None => String::new(),
        };
        progress.push(ProgressRow {
            area: if area.code != last_area { pick(&i, &area.name_en, &area.name_km) } else { String::new() },
            code: c.code.clone(),
            name: pick(&i, &c.name_en, &c.name_km),
            cells: scores.iter().map(|s| (opt_rating(&i, *s), rating_class(*s))).collect(),
            change,
        });
        last_area = area.code.clone();
    }
    let new_kinds = access
        .kinds()
        .into_iter()
        .map(|k| Choice { value: k.code().to_string(), label: i.label(k), selected: false })
        .collect();
    let l = layout(&ctx, "workers").await?;
    render(&AssessmentsPage {
        area_names: fw.areas.iter().map(|a| pick(&i, &a.name_en, &a.name_km)).collect(),
        version: fw.version.clone(),
        w: access.worker,
        in_scope: access.in_scope,
        supervisor,
        new_kinds,
        lines,
        progress_heads,
        progress,
        l,
    })
}

#[derive(Deserialize)]
struct SupervisorForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    supervisor: String,
}

async fn set_supervisor(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<SupervisorForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    match app.store.set_worker_supervisor(&p, id, Some(f.supervisor.as_str())).await {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/workers/{id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            let message = e.errors.first().map(|e| ctx.i.field_error(e)).unwrap_or_default();
            let l = layout(&ctx, "workers").await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &MessagePage { l, title: ctx.i.t("competency.supervisor"), message, back: format!("/workers/{id}") },
            )
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Template)]
#[template(path = "competency_message.html")]
struct MessagePage {
    l: Layout,
    title: String,
    message: String,
    back: String,
}

// ----- the assessment form -----

pub struct FormIndicator {
    pub code: String,
    pub text: String,
    pub options: Vec<Choice>,
    pub evidence: String,
    pub error: String,
}

pub struct FormCompetency {
    pub code: String,
    pub name: String,
    pub group: String,
    pub indicators: Vec<FormIndicator>,
    pub rated: usize,
}

pub struct FormArea {
    pub name: String,
    pub competencies: Vec<FormCompetency>,
}

#[derive(Template)]
#[template(path = "assessment_form.html")]
struct AssessmentFormPage {
    l: Layout,
    title: String,
    w: WorkerBrief,
    action: String,
    cancel: String,
    version: String,
    kinds: Vec<Choice>,
    assessed_on: String,
    assessor: String,
    notes: String,
    /// Errors of the fields above the ratings (field label, message).
    top_errors: Vec<(String, String)>,
    kind_error: String,
    date_error: String,
    assessor_error: String,
    notes_error: String,
    ratings_error: String,
    has_errors: bool,
    areas: Vec<FormArea>,
}

/// The values of a form: from a stored assessment, or as submitted.
struct FormValues {
    kind: String,
    assessed_on: String,
    assessor: String,
    notes: String,
    ratings: HashMap<String, String>,
    evidence: HashMap<String, String>,
}

impl FormValues {
    fn of_assessment(a: &Assessment) -> Self {
        FormValues {
            kind: a.kind.code().to_string(),
            assessed_on: a.assessed_on.to_string(),
            assessor: a.assessor.clone(),
            notes: a.notes.clone().unwrap_or_default(),
            ratings: a.ratings.iter().map(|r| (r.indicator_code.clone(), r.rating.value().to_string())).collect(),
            evidence: a.ratings.iter().filter_map(|r| Some((r.indicator_code.clone(), r.evidence.clone()?))).collect(),
        }
    }

    fn of_form(form: &HashMap<String, String>) -> Self {
        let prefixed = |prefix: &str| -> HashMap<String, String> {
            form.iter().filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_string(), v.clone()))).collect()
        };
        FormValues {
            kind: form.get("kind").cloned().unwrap_or_default(),
            assessed_on: form.get("assessed_on").cloned().unwrap_or_default(),
            assessor: form.get("assessor").cloned().unwrap_or_default(),
            notes: form.get("notes").cloned().unwrap_or_default(),
            ratings: prefixed("r."),
            evidence: prefixed("e."),
        }
    }
}

/// The assessment a submitted form describes, and the problems only the form can see: a
/// rating that is not a number, evidence without a rating.
fn input_of_form(form: &HashMap<String, String>, version: &str) -> (AssessmentInput, ValidationErrors) {
    let v = FormValues::of_form(form);
    let mut errs = ValidationErrors::default();
    let mut codes: Vec<&String> = v.ratings.keys().chain(v.evidence.keys()).collect();
    codes.sort();
    codes.dedup();
    let mut ratings = Vec::new();
    for code in codes {
        let rating = v.ratings.get(code).map(|s| s.trim()).unwrap_or("");
        let evidence = v.evidence.get(code).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        if rating.is_empty() {
            if evidence.is_some() {
                errs.push(FieldError::new(&format!("rating.{code}"), "rating_required"));
            }
            continue;
        }
        match rating.parse::<i64>() {
            Ok(n) => ratings.push(RatingInput { indicator_code: code.clone(), rating: n, evidence }),
            Err(_) => errs.push(FieldError::new(&format!("rating.{code}"), "invalid_number")),
        }
    }
    let input = AssessmentInput {
        kind: trimmed(&v.kind),
        assessed_on: trimmed(&v.assessed_on),
        assessor: trimmed(&v.assessor),
        notes: trimmed(&v.notes),
        framework_version: Some(version.to_string()),
        ratings,
    };
    (input, errs)
}

/// The assessment form again, with the submitted values and their problems (422).
async fn invalid_form(
    ctx: &Ctx,
    fw: &Framework,
    access: AssessmentAccess,
    title_key: &str,
    action: String,
    form: &HashMap<String, String>,
    errors: &ValidationErrors,
) -> PageResult {
    let i = ctx.i;
    let title = format!("{} — {}", i.t(title_key), worker_title(&access.worker));
    let l = layout(ctx, "workers").await?;
    let kinds = access.kinds();
    let page =
        form_page(&i, l, fw, access.worker, title, action.clone(), action, &kinds, &FormValues::of_form(form), errors);
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    i: &I18n,
    l: Layout,
    fw: &Framework,
    w: WorkerBrief,
    title: String,
    action: String,
    cancel: String,
    kinds: &[AssessmentKind],
    v: &FormValues,
    errors: &ValidationErrors,
) -> AssessmentFormPage {
    let err = |field: &str| errors.for_field(field).map(|e| i.field_error(e)).unwrap_or_default();
    let mut areas = Vec::new();
    for area in &fw.areas {
        let mut comps = Vec::new();
        let mut last_group = String::new();
        for c in &area.competencies {
            let group = group_label(i, &c.group);
            let mut rated = 0;
            let indicators = c
                .indicators
                .iter()
                .map(|x| {
                    let current = v.ratings.get(&x.code).map(|s| s.trim().to_string()).unwrap_or_default();
                    if !current.is_empty() {
                        rated += 1;
                    }
                    let mut options = vec![Choice {
                        value: String::new(),
                        label: i.t("competency.not_rated"),
                        selected: current.is_empty(),
                    }];
                    options.extend(Rating::ALL.iter().map(|r| Choice {
                        value: r.value().to_string(),
                        label: rating_label(i, *r),
                        selected: r.value().to_string() == current,
                    }));
                    let mut error = err(&format!("rating.{}", x.code));
                    let ev_error = err(&format!("evidence.{}", x.code));
                    if !ev_error.is_empty() {
                        error = if error.is_empty() { ev_error } else { format!("{error} {ev_error}") };
                    }
                    FormIndicator {
                        code: x.code.clone(),
                        text: pick(i, &x.text_en, &x.text_km),
                        options,
                        evidence: v.evidence.get(&x.code).cloned().unwrap_or_default(),
                        error,
                    }
                })
                .collect();
            comps.push(FormCompetency {
                code: c.code.clone(),
                name: pick(i, &c.name_en, &c.name_km),
                group: if group != last_group { group.clone() } else { String::new() },
                indicators,
                rated,
            });
            last_group = group;
        }
        areas.push(FormArea { name: pick(i, &area.name_en, &area.name_km), competencies: comps });
    }
    let kinds = kinds
        .iter()
        .map(|k| Choice { value: k.code().to_string(), label: i.label(*k), selected: k.code() == v.kind })
        .collect();
    // Errors on indicators the form does not show (another version's codes): listed on top.
    let shown: std::collections::HashSet<&str> = fw.indicators().map(|(_, _, x)| x.code.as_str()).collect();
    let top_errors = errors
        .errors
        .iter()
        .filter(|e| {
            let code = e.field.strip_prefix("rating.").or_else(|| e.field.strip_prefix("evidence."));
            e.field == "framework_version" || code.is_some_and(|c| !shown.contains(c))
        })
        .map(|e| (e.field.clone(), i.field_error(e)))
        .collect();
    AssessmentFormPage {
        title,
        version: fw.version.clone(),
        w,
        action,
        cancel,
        kinds,
        assessed_on: v.assessed_on.clone(),
        assessor: v.assessor.clone(),
        notes: v.notes.clone(),
        top_errors,
        kind_error: err("kind"),
        date_error: err("assessed_on"),
        assessor_error: err("assessor"),
        notes_error: err("notes"),
        ratings_error: err("ratings"),
        has_errors: !errors.is_empty(),
        areas,
        l,
    }
}

#[derive(Debug, Default, Deserialize)]
struct NewParams {
    #[serde(default)]
    kind: String,
}

async fn new_assessment(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<NewParams>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let access = access_or_404(&app, &ctx, &p, id).await?;
    let kinds = access.kinds();
    if kinds.is_empty() {
        return Err(ctx.forbidden());
    }
    let fw = app.store.current_framework().await?;
    let kind = AssessmentKind::parse(&q.kind).filter(|k| kinds.contains(k)).unwrap_or(kinds[0]);
    let v = FormValues {
        kind: kind.code().to_string(),
        assessed_on: today().to_string(),
        assessor: if kind == AssessmentKind::Training { String::new() } else { p.username.clone() },
        notes: String::new(),
        ratings: HashMap::new(),
        evidence: HashMap::new(),
    };
    let i = ctx.i;
    let title = format!("{} — {}", i.t("competency.new_assessment"), worker_title(&access.worker));
    let l = layout(&ctx, "workers").await?;
    let page = form_page(
        &i,
        l,
        &fw,
        access.worker,
        title,
        format!("/workers/{id}/assessments"),
        format!("/workers/{id}/assessments"),
        &kinds,
        &v,
        &ValidationErrors::default(),
    );
    render(&page)
}

/// Adds to the form's own problems those of the assessment itself (without saving anything).
fn all_problems(fw: &Framework, input: &AssessmentInput, mut pre: ValidationErrors) -> ValidationErrors {
    if let Err(e) = validate_assessment(fw, input, today()) {
        pre.errors.extend(e.errors.into_iter().filter(|e| e.code != "no_ratings"));
    }
    pre
}

async fn create_assessment(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let access = access_or_404(&app, &ctx, &p, id).await?;
    if access.kinds().is_empty() {
        return Err(ctx.forbidden());
    }
    let version = form.get("version").cloned().unwrap_or_default();
    let fw = framework_of(&app, &ctx, trimmed(&version).as_deref()).await?;
    let (input, pre) = input_of_form(&form, &fw.version);
    let result = if pre.is_empty() {
        app.store.create_assessment(&p, id, &input, today()).await
    } else {
        Err(StoreError::Invalid(all_problems(&fw, &input, pre)))
    };
    match result {
        Ok(a) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/assessments/{}", a.id)).into_response())
        }
        Err(StoreError::Invalid(errors)) => {
            invalid_form(
                &ctx,
                &fw,
                access,
                "competency.new_assessment",
                format!("/workers/{id}/assessments"),
                &form,
                &errors,
            )
            .await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

// ----- one assessment -----

pub struct ViewIndicator {
    pub code: String,
    pub text: String,
    pub rating: String,
    pub class: String,
    pub evidence: String,
}

pub struct ViewCompetency {
    pub code: String,
    pub name: String,
    pub group: String,
    pub score: String,
    pub class: String,
    pub mean: String,
    pub rated: String,
    pub indicators: Vec<ViewIndicator>,
}

pub struct ViewArea {
    pub name: String,
    pub competencies: Vec<ViewCompetency>,
}

#[derive(Template)]
#[template(path = "assessment.html")]
struct AssessmentPage {
    l: Layout,
    a: Assessment,
    w: WorkerBrief,
    kind: String,
    current_version: bool,
    can_edit: bool,
    can_delete: bool,
    areas: Vec<ViewArea>,
}

async fn assessment_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(a) = app.store.get_assessment(&p, id).await.map_err(|e| store_err(&ctx, e))? else {
        return Err(ctx.not_found());
    };
    let access = access_or_404(&app, &ctx, &p, a.worker_id).await?;
    let fw = framework_of(&app, &ctx, Some(&a.framework_version)).await?;
    let current = app.store.current_framework().await?.version == fw.version;
    let i = ctx.i;
    let ratings: HashMap<&str, &komlang_core::competency::RatedIndicator> =
        a.ratings.iter().map(|r| (r.indicator_code.as_str(), r)).collect();
    let mut areas = Vec::new();
    for area in &fw.areas {
        let mut comps = Vec::new();
        let mut last_group = String::new();
        for c in &area.competencies {
            let Some(score) = a.scores.iter().find(|s| s.competency_code == c.code) else { continue };
            let group = group_label(&i, &c.group);
            comps.push(ViewCompetency {
                code: c.code.clone(),
                name: pick(&i, &c.name_en, &c.name_km),
                group: if group != last_group { group.clone() } else { String::new() },
                score: opt_rating(&i, score.score),
                class: rating_class(score.score),
                mean: score.mean().map(|m| format!("{m:.2}")).unwrap_or_default(),
                rated: i.tp(
                    "competency.rated_of",
                    &[("rated", score.rated.to_string()), ("total", score.indicators.to_string())],
                ),
                indicators: c
                    .indicators
                    .iter()
                    .filter_map(|x| {
                        let r = ratings.get(x.code.as_str())?;
                        Some(ViewIndicator {
                            code: x.code.clone(),
                            text: pick(&i, &x.text_en, &x.text_km),
                            rating: rating_label(&i, r.rating),
                            class: rating_class(Some(r.rating)),
                            evidence: r.evidence.clone().unwrap_or_default(),
                        })
                    })
                    .collect(),
            });
            last_group = group;
        }
        if !comps.is_empty() {
            areas.push(ViewArea { name: pick(&i, &area.name_en, &area.name_km), competencies: comps });
        }
    }
    let can_edit = access.may_record(a.kind);
    let l = layout(&ctx, "workers").await?;
    render(&AssessmentPage {
        kind: i.label(a.kind),
        current_version: current,
        can_edit,
        can_delete: can_edit || p.may(Action::DeleteAnyAssessment),
        w: access.worker,
        a,
        areas,
        l,
    })
}

async fn edit_assessment(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(a) = app.store.get_assessment(&p, id).await.map_err(|e| store_err(&ctx, e))? else {
        return Err(ctx.not_found());
    };
    let access = access_or_404(&app, &ctx, &p, a.worker_id).await?;
    if !access.may_record(a.kind) {
        return Err(ctx.forbidden());
    }
    let fw = framework_of(&app, &ctx, Some(&a.framework_version)).await?;
    let i = ctx.i;
    let title = format!("{} — {}", i.t("competency.edit_assessment"), worker_title(&access.worker));
    let l = layout(&ctx, "workers").await?;
    let kinds = access.kinds();
    let page = form_page(
        &i,
        l,
        &fw,
        access.worker,
        title,
        format!("/assessments/{id}"),
        format!("/assessments/{id}"),
        &kinds,
        &FormValues::of_assessment(&a),
        &ValidationErrors::default(),
    );
    render(&page)
}

async fn update_assessment(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let Some(a) = app.store.get_assessment(&p, id).await.map_err(|e| store_err(&ctx, e))? else {
        return Err(ctx.not_found());
    };
    let access = access_or_404(&app, &ctx, &p, a.worker_id).await?;
    if !access.may_record(a.kind) {
        return Err(ctx.forbidden());
    }
    let fw = framework_of(&app, &ctx, Some(&a.framework_version)).await?;
    let (input, pre) = input_of_form(&form, &fw.version);
    let result = if pre.is_empty() {
        app.store.update_assessment(&p, id, &input, today()).await
    } else {
        Err(StoreError::Invalid(all_problems(&fw, &input, pre)))
    };
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/assessments/{id}")).into_response())
        }
        Err(StoreError::Invalid(errors)) => {
            invalid_form(&ctx, &fw, access, "competency.edit_assessment", format!("/assessments/{id}"), &form, &errors)
                .await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

async fn delete_assessment(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    let Some(a) = app.store.get_assessment(&p, id).await.map_err(|e| store_err(&ctx, e))? else {
        return Err(ctx.not_found());
    };
    app.store.delete_assessment(&p, id).await.map_err(|e| store_err(&ctx, e))?;
    flash(&ctx, "common.deleted").await?;
    Ok(Redirect::to(&format!("/workers/{}/assessments", a.worker_id)).into_response())
}

// ----- a worker's gaps -----

pub struct StandingLine {
    pub area: String,
    pub code: String,
    pub name: String,
    pub required: String,
    pub latest: String,
    pub latest_class: String,
    /// The assessment the latest score comes from: (id, date).
    pub latest_from: Option<(i64, String)>,
    pub self_score: String,
    pub supervisor_score: String,
    pub training_score: String,
    pub gap: bool,
}

pub struct DiffLine {
    pub code: String,
    pub name: String,
    pub self_score: String,
    pub supervisor_score: String,
    pub difference: String,
    pub indicators: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "competency_worker_gaps.html")]
struct WorkerGapsPage {
    l: Layout,
    w: WorkerBrief,
    version: String,
    versions: Vec<Choice>,
    assessments: u32,
    gap_count: usize,
    lines: Vec<StandingLine>,
    diffs: Vec<DiffLine>,
    has_self_and_supervisor: bool,
    self_label: String,
    supervisor_label: String,
    training_label: String,
}

async fn worker_gaps_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<VersionParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let access = access_or_404(&app, &ctx, &p, id).await?;
    let fw = framework_of(&app, &ctx, trimmed(&q.version).as_deref()).await?;
    let g = app.store.worker_gaps(&p, id, Some(&fw.version)).await.map_err(|e| store_err(&ctx, e))?;
    let i = ctx.i;
    let name_of = |code: &str| fw.competency(code).map(|c| pick(&i, &c.name_en, &c.name_km)).unwrap_or_default();
    let mut lines = Vec::new();
    let mut last_area = String::new();
    for s in &g.competencies {
        let area = fw.area(&s.area_code).map(|a| pick(&i, &a.name_en, &a.name_km)).unwrap_or_default();
        lines.push(StandingLine {
            area: if s.area_code != last_area { area } else { String::new() },
            code: s.competency_code.clone(),
            name: name_of(&s.competency_code),
            required: opt_rating(&i, s.required),
            latest: opt_rating(&i, s.latest),
            latest_class: rating_class(s.latest),
            latest_from: s.latest_assessment_id.zip(s.latest_on).map(|(id, on)| (id, on.to_string())),
            self_score: opt_rating(&i, s.self_score),
            supervisor_score: opt_rating(&i, s.supervisor_score),
            training_score: opt_rating(&i, s.training_score),
            gap: s.gap,
        });
        last_area = s.area_code.clone();
    }
    let text_of = |code: &str| fw.indicator(code).map(|x| pick(&i, &x.text_en, &x.text_km)).unwrap_or_default();
    let diffs = g
        .self_supervisor_differences
        .iter()
        .map(|d| DiffLine {
            code: d.competency_code.clone(),
            name: name_of(&d.competency_code),
            self_score: rating_label(&i, d.self_score),
            supervisor_score: rating_label(&i, d.supervisor_score),
            difference: if d.difference > 0 { format!("+{}", d.difference) } else { d.difference.to_string() },
            indicators: d
                .indicators
                .iter()
                .map(|x| {
                    (text_of(&x.indicator_code), rating_label(&i, x.self_rating), rating_label(&i, x.supervisor_rating))
                })
                .collect(),
        })
        .collect();
    let versions = app.store.framework_versions().await?;
    let l = layout(&ctx, "workers").await?;
    render(&WorkerGapsPage {
        w: access.worker,
        version: fw.version.clone(),
        versions: version_choices(&versions, &fw.version, &i),
        assessments: g.assessments,
        gap_count: g.gaps.len(),
        lines,
        diffs,
        has_self_and_supervisor: g.latest_self_id.is_some() && g.latest_supervisor_id.is_some(),
        self_label: i.label(AssessmentKind::SelfAssessment),
        supervisor_label: i.label(AssessmentKind::Supervisor),
        training_label: i.label(AssessmentKind::Training),
        l,
    })
}

// ---------------------------------------------------------------------------------------------
// Aggregates: the heat map, training needs, exports
// ---------------------------------------------------------------------------------------------

/// Filters of the aggregate pages, as they appear in the query string.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct GapFilters {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub cadre: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub sector: String,
    #[serde(default)]
    pub sex: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub team: String,
}

impl GapFilters {
    /// The store query (unknown codes are ignored, as on the worker list).
    pub fn query(&self) -> GapQuery {
        GapQuery {
            version: trimmed(&self.version),
            province: trimmed(&self.province),
            district: trimmed(&self.district),
            cadre: Cadre::parse(&self.cadre),
            role: WorkerRole::parse(&self.role),
            sector: Sector::parse(&self.sector),
            sex: Sex::parse(&self.sex),
            status: EmploymentStatus::parse(&self.status),
            org_id: None,
            kind: AssessmentKind::parse(&self.kind),
            team: matches!(self.team.trim(), "1" | "true" | "on"),
        }
    }

    /// The filters as a query string (for links to the other aggregate pages and exports).
    pub fn query_string(&self) -> String {
        let pairs: Vec<(&str, &String)> = [
            ("version", &self.version),
            ("province", &self.province),
            ("district", &self.district),
            ("cadre", &self.cadre),
            ("role", &self.role),
            ("sector", &self.sector),
            ("sex", &self.sex),
            ("status", &self.status),
            ("kind", &self.kind),
            ("team", &self.team),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    pub fn team(&self) -> bool {
        self.query().team
    }
}

/// CSS class of a heat map cell by the share of workers below the required level.
pub fn heat_class(c: &AggregateCell) -> &'static str {
    match c.share_below {
        None => "heat-none",
        Some(s) if s <= 0.0 => "heat-0",
        Some(s) if s < 0.10 => "heat-1",
        Some(s) if s < 0.25 => "heat-2",
        Some(s) if s < 0.50 => "heat-3",
        Some(s) if s < 0.75 => "heat-4",
        Some(_) => "heat-5",
    }
}

pub fn share_text(c: &AggregateCell) -> String {
    c.share_below.map(|s| format!("{:.0}%", s * 100.0)).unwrap_or_else(|| "—".into())
}

pub struct HeatCell {
    pub code: String,
    /// The competency's number within its area (`01`, `theories.04`), for the compact map.
    pub short: String,
    pub name: String,
    pub group: String,
    pub assessed: u32,
    pub with_requirement: u32,
    pub below: u32,
    pub share: String,
    pub class: &'static str,
}

pub struct HeatArea {
    pub name: String,
    pub cells: Vec<HeatCell>,
}

fn heat_areas(i: &I18n, fw: &Framework, report: &GapReport) -> Vec<HeatArea> {
    fw.areas
        .iter()
        .map(|area| HeatArea {
            name: pick(i, &area.name_en, &area.name_km),
            cells: report
                .cells
                .iter()
                .filter(|c| c.area_code == area.code)
                .map(|c| {
                    let comp = fw.competency(&c.competency_code);
                    HeatCell {
                        code: c.competency_code.clone(),
                        short: c.competency_code.strip_prefix(&format!("{}.", area.code)).unwrap_or("").to_string(),
                        name: comp.map(|x| pick(i, &x.name_en, &x.name_km)).unwrap_or_default(),
                        group: comp.map(|x| group_label(i, &x.group)).unwrap_or_default(),
                        assessed: c.assessed,
                        with_requirement: c.with_requirement,
                        below: c.below_required,
                        share: share_text(c),
                        class: heat_class(c),
                    }
                })
                .collect(),
        })
        .collect()
}

/// The choices of the filter form.
pub struct FilterChoices {
    pub versions: Vec<Choice>,
    pub provinces: Vec<Choice>,
    pub cadres: Vec<Choice>,
    pub roles: Vec<Choice>,
    pub sectors: Vec<Choice>,
    pub sexes: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub kinds: Vec<Choice>,
}

async fn filter_choices(
    app: &AppState,
    i: &I18n,
    p: &Principal,
    f: &GapFilters,
    version: &str,
) -> Result<FilterChoices, PageError> {
    let versions = app.store.framework_versions().await?;
    let mut provinces = Vec::new();
    if let Some(country) = app.store.country().await? {
        let own = match &p.scope {
            Scope::Nation => None,
            Scope::Unit { code, .. } => app.store.admin_unit(code).await?.and_then(|u| u.province_code),
        };
        for u in app.store.admin_children(&country.code).await? {
            if p.scope == Scope::Nation || own.as_deref() == Some(u.code.as_str()) {
                provinces.push(Choice {
                    selected: u.code == f.province,
                    label: pick(i, &u.name_en, &u.name_km),
                    value: u.code,
                });
            }
        }
    }
    Ok(FilterChoices {
        versions: version_choices(&versions, version, i),
        provinces,
        cadres: vocab_choices(i, Cadre::ALL, Cadre::code, &f.cadre),
        roles: vocab_choices(i, WorkerRole::ALL, WorkerRole::code, &f.role),
        sectors: vocab_choices(i, Sector::ALL, Sector::code, &f.sector),
        sexes: vocab_choices(i, Sex::ALL, Sex::code, &f.sex),
        statuses: vocab_choices(i, EmploymentStatus::ALL, EmploymentStatus::code, &f.status),
        kinds: vocab_choices(i, AssessmentKind::ALL, AssessmentKind::code, &f.kind),
    })
}

#[derive(Template)]
#[template(path = "competency_gaps.html")]
struct GapsPage {
    l: Layout,
    f: GapFilters,
    c: FilterChoices,
    version: String,
    workers_assessed: u32,
    areas: Vec<HeatArea>,
    query: String,
    supervises: bool,
    filter_action: &'static str,
}

/// What the gap pages share: the framework, the gap report of the caller's
/// scope with the filters, the filter choices and the layout.
async fn gap_view(
    app: &AppState,
    ctx: &Ctx,
    f: &GapFilters,
) -> Result<(Framework, GapReport, FilterChoices, bool, Layout), PageError> {
    let p = ctx.require()?.clone();
    let fw = framework_of(app, ctx, trimmed(&f.version).as_deref()).await?;
    let mut q = f.query();
    q.version = Some(fw.version.clone());
    let report = app.store.competency_gaps(&p, &q).await.map_err(|e| store_err(ctx, e))?;
    let c = filter_choices(app, &ctx.i, &p, f, &fw.version).await?;
    let supervises = !app.store.supervised_worker_ids(&p).await?.is_empty();
    let l = layout(ctx, "competency_gaps").await?;
    Ok((fw, report, c, supervises, l))
}

async fn gaps_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<GapFilters>) -> PageResult {
    let (fw, report, c, supervises, l) = gap_view(&app, &ctx, &f).await?;
    let i = ctx.i;
    render(&GapsPage {
        version: fw.version.clone(),
        workers_assessed: report.workers_assessed,
        areas: heat_areas(&i, &fw, &report),
        query: f.query_string(),
        c,
        f,
        supervises,
        filter_action: "/competency/gaps",
        l,
    })
}

pub struct NeedLine {
    pub rank: usize,
    pub code: String,
    pub name: String,
    pub area: String,
    pub group: String,
    pub below: u32,
    pub assessed: u32,
    pub share: String,
    pub class: &'static str,
}

fn need_lines(i: &I18n, fw: &Framework, report: &GapReport) -> Vec<NeedLine> {
    training_needs(&report.cells)
        .into_iter()
        .enumerate()
        .map(|(n, c)| {
            let comp = fw.competency(&c.competency_code);
            NeedLine {
                rank: n + 1,
                code: c.competency_code.clone(),
                name: comp.map(|x| pick(i, &x.name_en, &x.name_km)).unwrap_or_default(),
                area: fw.area(&c.area_code).map(|a| pick(i, &a.name_en, &a.name_km)).unwrap_or_default(),
                group: comp.map(|x| group_label(i, &x.group)).unwrap_or_default(),
                below: c.below_required,
                assessed: c.assessed,
                share: share_text(c),
                class: heat_class(c),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "training_needs.html")]
struct TrainingNeedsPage {
    l: Layout,
    f: GapFilters,
    c: FilterChoices,
    version: String,
    workers_assessed: u32,
    needs: Vec<NeedLine>,
    query: String,
    supervises: bool,
    filter_action: &'static str,
}

async fn training_needs_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<GapFilters>) -> PageResult {
    let (fw, report, c, supervises, l) = gap_view(&app, &ctx, &f).await?;
    let i = ctx.i;
    render(&TrainingNeedsPage {
        version: fw.version.clone(),
        workers_assessed: report.workers_assessed,
        needs: need_lines(&i, &fw, &report),
        query: f.query_string(),
        c,
        f,
        supervises,
        filter_action: "/competency/training-needs",
        l,
    })
}

// ----- exports -----

/// What an export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTable {
    /// Every rating of every assessment in scope.
    Assessments,
    /// The area x competency gap table.
    Gaps,
    /// The training-needs list.
    TrainingNeeds,
}

impl ExportTable {
    pub fn parse(s: &str) -> Option<ExportTable> {
        match s.trim() {
            "assessments" => Some(ExportTable::Assessments),
            "gaps" => Some(ExportTable::Gaps),
            "training-needs" | "training_needs" => Some(ExportTable::TrainingNeeds),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ExportTable::Assessments => "assessments",
            ExportTable::Gaps => "gaps",
            ExportTable::TrainingNeeds => "training-needs",
        }
    }
}

/// Columns of the gap table export.
pub const GAP_EXPORT_COLUMNS: &[&str] = &[
    "framework_version",
    "area_code",
    "area_name_en",
    "area_name_km",
    "competency_code",
    "group",
    "competency_name_en",
    "competency_name_km",
    "workers_assessed",
    "with_requirement",
    "below_required",
    "share_below",
];

/// Columns of the training-needs export: the gap table's, ranked.
pub const NEEDS_EXPORT_COLUMNS: &[&str] = &[
    "rank",
    "framework_version",
    "area_code",
    "area_name_en",
    "area_name_km",
    "competency_code",
    "group",
    "competency_name_en",
    "competency_name_km",
    "workers_assessed",
    "with_requirement",
    "below_required",
    "share_below",
];

fn gap_row(fw: &Framework, c: &AggregateCell) -> Vec<String> {
    let area = fw.area(&c.area_code);
    let comp = fw.competency(&c.competency_code);
    vec![
        fw.version.clone(),
        c.area_code.clone(),
        area.map(|a| a.name_en.clone()).unwrap_or_default(),
        area.map(|a| a.name_km.clone()).unwrap_or_default(),
        c.competency_code.clone(),
        comp.map(|x| x.group.clone()).unwrap_or_default(),
        comp.map(|x| x.name_en.clone()).unwrap_or_default(),
        comp.map(|x| x.name_km.clone()).unwrap_or_default(),
        c.assessed.to_string(),
        c.with_requirement.to_string(),
        c.below_required.to_string(),
        c.share_below.map(|s| format!("{s:.4}")).unwrap_or_default(),
    ]
}

/// The rows of an export (in the caller's scope or team, with the filters), and its columns.
pub async fn export_rows(
    app: &AppState,
    p: &Principal,
    table: ExportTable,
    q: &GapQuery,
) -> Result<(&'static [&'static str], Vec<Vec<String>>), StoreError> {
    match table {
        ExportTable::Assessments => {
            let rows = app.store.assessment_export_rows(p, q).await?;
            let mut frameworks: HashMap<String, Option<Framework>> = HashMap::new();
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                if !frameworks.contains_key(&r.framework_version) {
                    let fw = app.store.framework(&r.framework_version).await?;
                    frameworks.insert(r.framework_version.clone(), fw);
                }
                let fw = frameworks.get(&r.framework_version).and_then(|f| f.as_ref());
                let comp = fw.and_then(|f| f.competency_of_indicator(&r.indicator_code));
                let area = comp.map(|c| c.code.split('.').next().unwrap_or("").to_string()).unwrap_or_default();
                out.push(vec![
                    r.assessment_id.to_string(),
                    r.worker_id.to_string(),
                    r.name_km,
                    r.name_latin,
                    r.sex,
                    r.cadre,
                    r.role,
                    r.sector,
                    r.province_code.unwrap_or_default(),
                    r.district_code.unwrap_or_default(),
                    r.workplace_code,
                    r.framework_version,
                    r.kind,
                    r.assessed_on,
                    r.assessor,
                    r.recorded_by,
                    area,
                    comp.map(|c| c.code.clone()).unwrap_or_default(),
                    r.indicator_code,
                    r.rating.to_string(),
                    r.evidence.unwrap_or_default(),
                ]);
            }
            Ok((ASSESSMENT_EXPORT_COLUMNS, out))
        }
        ExportTable::Gaps | ExportTable::TrainingNeeds => {
            let fw = app.store.framework_or_current(q.version.as_deref()).await?.ok_or(StoreError::NotFound)?;
            let mut q = q.clone();
            q.version = Some(fw.version.clone());
            let report = app.store.competency_gaps(p, &q).await?;
            if table == ExportTable::Gaps {
                Ok((GAP_EXPORT_COLUMNS, report.cells.iter().map(|c| gap_row(&fw, c)).collect()))
            } else {
                let rows = training_needs(&report.cells)
                    .into_iter()
                    .enumerate()
                    .map(|(n, c)| {
                        let mut row = vec![(n + 1).to_string()];
                        row.extend(gap_row(&fw, c));
                        row
                    })
                    .collect();
                Ok((NEEDS_EXPORT_COLUMNS, rows))
            }
        }
    }
}

/// An export as a file to download.
pub async fn export_file(
    app: &AppState,
    p: &Principal,
    table: ExportTable,
    format: ExportFormat,
    q: &GapQuery,
) -> Result<Response, StoreError> {
    let (columns, rows) = export_rows(app, p, table, q).await?;
    table_file(&format!("komlang-competency-{}", table.code()), format, columns, rows).await
}

#[derive(Debug, Default, Deserialize)]
struct ExportParams {
    #[serde(default)]
    table: String,
    #[serde(default)]
    format: String,
}

async fn export_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(e): Query<ExportParams>,
    Query(f): Query<GapFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let table = ExportTable::parse(&e.table).ok_or_else(|| ctx.not_found())?;
    let format = if e.format.trim().is_empty() {
        ExportFormat::Csv
    } else {
        ExportFormat::parse(&e.format).ok_or_else(|| ctx.not_found())?
    };
    export_file(&app, &p, table, format, &f.query()).await.map_err(|e| store_err(&ctx, e))
}
