//! Recording and changing an assessment: the form of every indicator of the framework, with
//! the problems of the last attempt.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::competency::{validate_assessment, AssessmentInput, AssessmentKind, Framework, Rating, RatingInput};
use komlang_core::*;
use komlang_store::{Assessment, AssessmentAccess, StoreError, WorkerBrief};
use serde::Deserialize;

use super::assessments::access_or_404;
use super::labels::{framework_of, group_label, rating_label, worker_title};
use crate::common::conflict::{as_sent, base_from, base_text, stale_form, PlainField};
use crate::common::forms::Versioning;
use crate::common::names::pick;
use crate::common::versions::{form_version, VERSION_FIELD};
use crate::common::{flash, layout, render, render_status, store_err, today, Choice, Ctx, I18n, Layout, PageResult};
use crate::AppState;

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
#[template(path = "competency/assessment_form.html")]
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
    /// A stored assessment's version as read, and what changed meanwhile.
    edit: Versioning,
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

    /// The values as the form's fields name them.
    fn to_map(&self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        m.insert("kind".to_string(), self.kind.clone());
        m.insert("assessed_on".to_string(), self.assessed_on.clone());
        m.insert("assessor".to_string(), self.assessor.clone());
        m.insert("notes".to_string(), self.notes.clone());
        m.extend(self.ratings.iter().map(|(k, v)| (format!("r.{k}"), v.clone())));
        m.extend(self.evidence.iter().map(|(k, v)| (format!("e.{k}"), v.clone())));
        m
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
        let evidence = v.evidence.get(code).non_blank().map(String::from);
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
        kind: v.kind.non_blank().map(String::from),
        assessed_on: v.assessed_on.non_blank().map(String::from),
        assessor: v.assessor.non_blank().map(String::from),
        notes: v.notes.non_blank().map(String::from),
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
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &AssessmentFormPage { edit: as_sent(form), ..page })
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
        edit: Versioning::default(),
        l,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NewParams {
    #[serde(default)]
    pub(super) kind: String,
}

pub(super) async fn new_assessment(
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

pub(super) async fn create_assessment(
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
    let fw = framework_of(&app, &ctx, version.non_blank().map(String::from).as_deref()).await?;
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

pub(super) async fn edit_assessment(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
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
    let base = base_text(&FormValues::of_assessment(&a).to_map());
    let page = AssessmentFormPage { edit: Versioning { version: Some(a.version), base, conflict: None }, ..page };
    render(&page)
}

pub(super) async fn update_assessment(
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
    let expected = form_version(form.get(VERSION_FIELD).map(String::as_str));
    let result = if pre.is_empty() {
        app.store.update_assessment(&p, id, &input, today(), expected).await
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
        Err(StoreError::Stale { .. }) => stale_assessment(&app, &ctx, &p, id, &fw, access, &form).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

/// An assessment's form sent against an assessment someone else changed meanwhile: shown again
/// on the assessment as it is now, with this form's changes on top and what changed listed.
async fn stale_assessment(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    fw: &Framework,
    access: AssessmentAccess,
    form: &HashMap<String, String>,
) -> PageResult {
    let i = ctx.i;
    let Some(now) = app.store.get_assessment(p, id).await.map_err(|e| store_err(ctx, e))? else {
        return Err(ctx.not_found());
    };
    let theirs = FormValues::of_assessment(&now).to_map();
    let base = base_from(form.get("base").map(String::as_str));
    let texts: HashMap<&str, &str> = fw.indicators().map(|(_, _, x)| (x.code.as_str(), x.text_en.as_str())).collect();
    let ratings: Vec<Choice> = Rating::ALL
        .iter()
        .map(|r| Choice { value: r.value().to_string(), label: rating_label(&i, *r), selected: false })
        .collect();
    // Every field any of the three holds: the assessment's own, then its ratings and evidence.
    let mut names: Vec<&String> = theirs.keys().chain(base.keys()).chain(form.keys()).collect();
    names.sort_by_key(|n| (n.contains('.'), (*n).clone()));
    names.dedup();
    let mut fields: Vec<PlainField> = names
        .into_iter()
        .filter_map(|name| {
            let (label, options) = match name.split_once('.') {
                None if ["kind", "assessed_on", "assessor", "notes"].contains(&name.as_str()) => {
                    (i.t(&format!("competency.{name}")), Vec::new())
                }
                Some(("r", code)) => {
                    (format!("{code} {} · {}", texts.get(code)?, i.t("competency.rating")), ratings.clone())
                }
                Some(("e", code)) => {
                    (format!("{code} {} · {}", texts.get(code)?, i.t("competency.evidence")), Vec::new())
                }
                _ => return None,
            };
            let value = theirs.get(name.as_str()).cloned().unwrap_or_default();
            Some(PlainField { name: name.clone(), label, value, options })
        })
        .collect();
    let back = format!("/assessments/{id}");
    let edit =
        stale_form(app, &i, "competency_assessment", &id.to_string(), now.version, &mut fields, form, back).await?;
    let merged: HashMap<String, String> = fields.into_iter().map(|f| (f.name, f.value)).collect();
    let title = format!("{} — {}", i.t("competency.edit_assessment"), worker_title(&access.worker));
    let l = layout(ctx, "workers").await?;
    let kinds = access.kinds();
    let action = format!("/assessments/{id}");
    let v = FormValues::of_form(&merged);
    let page =
        form_page(&i, l, fw, access.worker, title, action.clone(), action, &kinds, &v, &ValidationErrors::default());
    render_status(StatusCode::CONFLICT, &AssessmentFormPage { edit, ..page })
}
