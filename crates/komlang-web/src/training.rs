//! Pages of training, certification and licensing: the catalogue (institutions, programmes,
//! modules and courses), training events with their participants and attendance, a worker's
//! transcript (trainings, RPL/RCC, certificates, progress, licences), group progress and the
//! Table 11 targets, licences and licensing rules, and two public pages that need no login:
//! certificate verification and the register of valid licences.
//!
//! Every page goes through the store, which decides who sees and does what (see
//! `komlang_store::training`): records outside the caller's scope answer 404, actions the
//! caller may not take 403. Refusals of the store are shown on the form that was sent, in the
//! interface language, with what was typed kept.

use std::collections::{HashMap, HashSet};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::training::{
    effective_status, normalize_number, AttendanceInput, CertificateLevel, CourseInput, DecisionInput, EventInput,
    Hours, InstitutionInput, InstitutionKind, LicenceAction, LicenceStatus, LicensingRules, NumberKind, ProgrammeInput,
    RecognitionInput, RecognitionKind, TrainingResult,
};
use komlang_core::*;
use komlang_store::{
    CertificateQuery, Course, EventQuery, Institution, LicenceDetail, LicenceQuery, Page, Programme, ProgressQuery,
    StoreError, TargetInput, TrainingEvent, WorkerBrief, CERTIFICATE_EXPORT_COLUMNS, EVENT_EXPORT_COLUMNS,
    LICENCE_EXPORT_COLUMNS, TRANSCRIPT_EXPORT_COLUMNS,
};
use serde::Deserialize;

use crate::common::export::table_file;
use crate::common::i18n::Labeled;
use crate::common::names::{pick, province_choices};
use crate::common::{
    flash, layout, render, render_status, store_err, today, trimmed, Choice, CsrfForm, Ctx, ExportFormat, I18n, Layout,
    PageError, PageResult,
};
use crate::common::{Gate, Routes};
use crate::AppState;

pub fn routes(r: Routes) -> Routes {
    r.get("/training", Gate::SignedIn, hub)
        .post("/training/institutions", Gate::Action(Action::KeepTrainingCatalogue), create_institution)
        .post("/training/institutions/{id}", Gate::Action(Action::KeepTrainingCatalogue), update_institution)
        .get("/training/institutions/{id}/edit", Gate::Action(Action::KeepTrainingCatalogue), edit_institution)
        .post("/training/programmes", Gate::Action(Action::KeepTrainingCatalogue), create_programme)
        .get("/training/programmes/{id}", Gate::SignedIn, programme_page)
        .post("/training/programmes/{id}", Gate::Action(Action::KeepTrainingCatalogue), update_programme)
        .get("/training/programmes/{id}/edit", Gate::Action(Action::KeepTrainingCatalogue), edit_programme)
        .post("/training/courses", Gate::Action(Action::KeepTrainingCatalogue), create_course)
        .post("/training/courses/{id}", Gate::Action(Action::KeepTrainingCatalogue), update_course)
        .get("/training/courses/{id}/edit", Gate::Action(Action::KeepTrainingCatalogue), edit_course)
        .get("/training/events", Gate::Action(Action::ReadTrainingEvents), events_page)
        .post("/training/events", Gate::Action(Action::RunTraining), create_event)
        .get("/training/events/new", Gate::Action(Action::RunTraining), new_event)
        .get("/training/events/export", Gate::Action(Action::ReadTrainingEvents), export_events)
        .get("/training/events/{id}", Gate::Action(Action::ReadTrainingEvents), event_page)
        .post("/training/events/{id}", Gate::Action(Action::RunTraining), update_event)
        .get("/training/events/{id}/edit", Gate::Action(Action::RunTraining), edit_event)
        .post("/training/events/{id}/participants", Gate::Action(Action::RunTraining), add_participants)
        .post("/training/events/{id}/pass-pending", Gate::Action(Action::RunTraining), pass_pending)
        .post("/training/events/{id}/participants/{worker_id}", Gate::Action(Action::RunTraining), record_attendance)
        .post(
            "/training/events/{id}/participants/{worker_id}/delete",
            Gate::Action(Action::RunTraining),
            remove_participant,
        )
        .get("/training/progress", Gate::Action(Action::ReadWorkers), progress_page)
        .get("/training/targets", Gate::SignedIn, targets_page)
        .post("/training/targets", Gate::Action(Action::KeepTrainingCatalogue), set_target)
        .get("/workers/{id}/transcript", Gate::Action(Action::ReadWorkers), transcript_page)
        .get("/workers/{id}/transcript/export", Gate::Action(Action::ReadWorkers), export_transcript)
        // RunTraining: checked per record, after the scope (404 first).
        .post("/workers/{id}/recognitions", Gate::Action(Action::ReadWorkers), add_recognition)
        // IssueCertificate: checked per record, after the scope (404 first).
        .post("/workers/{id}/certificates", Gate::Action(Action::ReadWorkers), issue_certificate)
        .get("/certificates", Gate::Action(Action::ReadWorkers), certificates_page)
        .get("/certificates/export", Gate::Action(Action::ReadWorkers), export_certificates)
        .get("/certificates/{number}/print", Gate::Action(Action::ReadWorkers), print_certificate)
        // IssueCertificate: checked per record, after the scope (404 first).
        .post("/certificates/{number}/revoke", Gate::Action(Action::ReadWorkers), revoke_certificate)
        .post("/workers/{id}/licences", Gate::Action(Action::ApplyLicence), apply_licence)
        .get("/licences", Gate::Action(Action::ReadWorkers), licences_page)
        .get("/licences/export", Gate::Action(Action::ReadWorkers), export_licences)
        .post("/licences/rules", Gate::Action(Action::KeepTrainingCatalogue), set_rules)
        .get("/licences/{id}", Gate::Action(Action::ReadWorkers), licence_page)
        // DecideLicence: checked per record, after the scope (404 first).
        .post("/licences/{id}/decision", Gate::Action(Action::ReadWorkers), decide_licence)
        // DecideLicence: checked per record, after the scope (404 first).
        .post("/licences/{id}/renew", Gate::Action(Action::ReadWorkers), renew_licence)
        .get("/verify", Gate::Public, verify_form)
        .get("/verify/{number}", Gate::Public, verify_page)
        .get("/register", Gate::Public, register_page)
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

type FormMap = HashMap<String, String>;

/// A number as people read it: 6, 7.5, 1.17.
fn num(v: f64) -> String {
    format!("{v}")
}

fn csrf_of(form: &FormMap) -> &str {
    form.get("csrf").map(String::as_str).unwrap_or("")
}

fn val(form: &FormMap, k: &str) -> String {
    form.get(k).map(|s| s.trim().to_string()).unwrap_or_default()
}

/// A decimal number of a form (empty: 0).
fn decimal(form: &FormMap, k: &str, errs: &mut ValidationErrors) -> f64 {
    let v = val(form, k).replace(',', ".");
    if v.is_empty() {
        return 0.0;
    }
    v.parse().unwrap_or_else(|_| {
        errs.push(FieldError::new(k, "invalid_number").with("value", &v));
        0.0
    })
}

/// A whole number of a form (empty: none).
fn integer(form: &FormMap, k: &str, errs: &mut ValidationErrors) -> Option<i64> {
    let v = val(form, k);
    if v.is_empty() {
        return None;
    }
    match v.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(FieldError::new(k, "invalid_number").with("value", &v));
            None
        }
    }
}

/// Hours by type of a form: none when all three are empty.
fn hours_of(form: &FormMap, errs: &mut ValidationErrors) -> Option<Hours> {
    if ["hours.teaching", "hours.lab", "hours.field"].iter().all(|k| val(form, k).is_empty()) {
        return None;
    }
    Some(Hours {
        teaching: decimal(form, "hours.teaching", errs),
        lab: decimal(form, "hours.lab", errs),
        field: decimal(form, "hours.field", errs),
    })
}

fn hours_values(values: &mut FormMap, h: &Hours) {
    values.insert("hours.teaching".into(), num(h.teaching));
    values.insert("hours.lab".into(), num(h.lab));
    values.insert("hours.field".into(), num(h.field));
}

fn vchoices<T: Copy>(i: &I18n, all: &[T], code: fn(T) -> &'static str, key: fn(T) -> String) -> Vec<(String, String)> {
    all.iter().map(|v| (code(*v).to_string(), i.t(&key(*v)))).collect()
}

fn select_choices(options: &[(String, String)], current: &str) -> Vec<Choice> {
    options.iter().map(|(v, l)| Choice { value: v.clone(), label: l.clone(), selected: v == current }).collect()
}

/// The link to another page of a list, keeping its filters.
fn page_link(query: &str, page: i64) -> String {
    if query.is_empty() {
        format!("?page={page}")
    } else {
        format!("?{query}&page={page}")
    }
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs.iter().copied().filter(|(_, v)| !v.trim().is_empty()).collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

fn export_format(ctx: &Ctx, format: &str) -> Result<ExportFormat, PageError> {
    if format.trim().is_empty() {
        Ok(ExportFormat::Csv)
    } else {
        ExportFormat::parse(format).ok_or_else(|| ctx.not_found())
    }
}

fn messages(i: &I18n, errors: &ValidationErrors) -> Vec<String> {
    errors.errors.iter().map(|e| i.field_error(e)).collect()
}

// ----- forms -----

/// One field of a form as the template draws it.
pub struct Field {
    pub id: String,
    pub name: String,
    pub label: String,
    pub value: String,
    pub error: String,
    /// `text`, `date`, `number`, `select`, `textarea`, `checkboxes` or `hidden`.
    pub kind: &'static str,
    pub required: bool,
    pub hint: String,
    pub options: Vec<Choice>,
}

/// A whole form: where it posts, its fields, and the problems of the last attempt.
pub struct FormBox {
    pub id: &'static str,
    pub title: String,
    pub action: String,
    pub submit: String,
    pub fields: Vec<Field>,
    pub has_errors: bool,
    /// Messages of problems that belong to no field of the form.
    pub other_errors: Vec<String>,
}

struct Fb<'a> {
    i: &'a I18n,
    id: &'static str,
    values: &'a FormMap,
    errors: &'a ValidationErrors,
    fields: Vec<Field>,
}

impl<'a> Fb<'a> {
    fn new(i: &'a I18n, id: &'static str, values: &'a FormMap, errors: &'a ValidationErrors) -> Self {
        Fb { i, id, values, errors, fields: Vec::new() }
    }

    fn add(&mut self, name: &str, label_key: &str, kind: &'static str, required: bool) -> &mut Field {
        let error = self
            .errors
            .errors
            .iter()
            .filter(|e| e.field == name)
            .map(|e| self.i.field_error(e))
            .collect::<Vec<_>>()
            .join(" ");
        self.fields.push(Field {
            id: format!("{}-{}", self.id, name.replace('.', "-")),
            name: name.to_string(),
            label: if label_key.is_empty() { String::new() } else { self.i.t(label_key) },
            value: self.values.get(name).cloned().unwrap_or_default(),
            error,
            kind,
            required,
            hint: String::new(),
            options: Vec::new(),
        });
        self.fields.last_mut().expect("just pushed")
    }

    fn hidden(&mut self, name: &str, value: &str) {
        self.add(name, "", "hidden", false).value = value.to_string();
    }

    fn select(&mut self, name: &str, label_key: &str, options: &[(String, String)], required: bool) -> &mut Field {
        let current = self.values.get(name).cloned().unwrap_or_default();
        let mut opts = Vec::new();
        if !required || current.is_empty() {
            opts.push(Choice { value: String::new(), label: "—".into(), selected: current.is_empty() });
        }
        opts.extend(select_choices(options, &current));
        let f = self.add(name, label_key, "select", required);
        f.options = opts;
        f
    }

    fn checkboxes(&mut self, name: &str, label_key: &str, options: &[(String, String)]) -> &mut Field {
        let current = self.values.get(name).cloned().unwrap_or_default();
        let chosen: HashSet<&str> = current.split_whitespace().collect();
        let opts = options
            .iter()
            .map(|(v, l)| Choice { value: v.clone(), label: l.clone(), selected: chosen.contains(v.as_str()) })
            .collect();
        let f = self.add(name, label_key, "checkboxes", false);
        f.options = opts;
        f
    }

    fn hours(&mut self) {
        self.add("hours.teaching", "training.hours_teaching", "number", false);
        self.add("hours.lab", "training.hours_lab", "number", false);
        self.add("hours.field", "training.hours_field", "number", false);
    }

    fn finish(self, title: String, action: String, submit: String) -> FormBox {
        let names: HashSet<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        let other_errors = self
            .errors
            .errors
            .iter()
            .filter(|e| !names.contains(e.field.as_str()))
            .map(|e| self.i.field_error(e))
            .collect();
        FormBox {
            id: self.id,
            title,
            action,
            submit,
            has_errors: !self.errors.is_empty(),
            other_errors,
            fields: self.fields,
        }
    }
}

fn no_errors() -> ValidationErrors {
    ValidationErrors::default()
}

// ---------------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------------

pub struct InstitutionView {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub kind: String,
}

pub struct ProgrammeView {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub level: String,
    pub institution_code: String,
    pub credits_required: u32,
    pub modules: i64,
    pub planned_credits: String,
}

pub struct CourseView {
    pub id: i64,
    pub code: String,
    pub title: String,
    pub programme_id: Option<i64>,
    pub programme_code: String,
    pub teaching: String,
    pub lab: String,
    pub field: String,
    pub credits: String,
    /// (code, name) of the competencies covered.
    pub competencies: Vec<(String, String)>,
}

fn institution_view(i: &I18n, x: &Institution) -> InstitutionView {
    InstitutionView {
        id: x.id,
        code: x.code.clone(),
        name: if x.name_km.is_empty() { x.name_en.clone() } else { pick(i, &x.name_en, &x.name_km) },
        kind: i.t(&x.kind.label_key()),
    }
}

fn programme_title(i: &I18n, p: &Programme) -> String {
    if p.title_km.is_empty() {
        p.title_en.clone()
    } else {
        pick(i, &p.title_en, &p.title_km)
    }
}

fn programme_view(i: &I18n, p: &Programme) -> ProgrammeView {
    ProgrammeView {
        id: p.id,
        code: p.code.clone(),
        title: programme_title(i, p),
        level: i.t(&p.level.label_key()),
        institution_code: p.institution_code.clone(),
        credits_required: p.credits_required,
        modules: p.modules,
        planned_credits: num(p.planned_credits),
    }
}

fn course_view(i: &I18n, fw: &komlang_core::competency::Framework, c: &Course) -> CourseView {
    CourseView {
        id: c.id,
        code: c.code.clone(),
        title: if c.title_km.is_empty() { c.title_en.clone() } else { pick(i, &c.title_en, &c.title_km) },
        programme_id: c.programme_id,
        programme_code: c.programme_code.clone().unwrap_or_default(),
        teaching: num(c.hours.teaching),
        lab: num(c.hours.lab),
        field: num(c.hours.field),
        credits: num(c.credits),
        competencies: c
            .competencies
            .iter()
            .map(|code| {
                let name = fw.competency(code).map(|x| pick(i, &x.name_en, &x.name_km)).unwrap_or_default();
                (code.clone(), name)
            })
            .collect(),
    }
}

fn institution_form(i: &I18n, values: &FormMap, errors: &ValidationErrors) -> FormBox {
    let mut b = Fb::new(i, "institution", values, errors);
    b.add("code", "training.code", "text", true).hint = i.t("training.code_hint");
    b.add("name_en", "training.name_en", "text", true);
    b.add("name_km", "training.name_km", "text", false);
    let kinds = vchoices(i, InstitutionKind::ALL, InstitutionKind::code, InstitutionKind::label_key);
    b.select("kind", "training.institution_kind", &kinds, true);
    b.finish(i.t("training.add_institution"), "/training/institutions".into(), i.t("common.create"))
}

fn programme_form(i: &I18n, institutions: &[Institution], values: &FormMap, errors: &ValidationErrors) -> FormBox {
    let mut b = Fb::new(i, "programme", values, errors);
    b.add("code", "training.code", "text", true).hint = i.t("training.code_hint");
    b.add("title_en", "training.title_en", "text", true);
    b.add("title_km", "training.title_km", "text", false);
    let levels = vchoices(i, CertificateLevel::ALL, CertificateLevel::code, CertificateLevel::label_key);
    b.select("level", "training.level", &levels, true);
    let insts: Vec<(String, String)> = institutions
        .iter()
        .map(|x| (x.id.to_string(), format!("{} · {}", x.code, institution_view(i, x).name)))
        .collect();
    b.select("institution_id", "training.institution", &insts, true);
    b.add("credits_required", "training.credits_required", "number", false).hint = i.t("training.credits_hint");
    b.finish(i.t("training.add_programme"), "/training/programmes".into(), i.t("common.create"))
}

/// The form of a module (with `programme` fixed) or of a course (with a choice of programme).
fn course_form(
    i: &I18n,
    programme: Option<&Programme>,
    programmes: &[Programme],
    values: &FormMap,
    errors: &ValidationErrors,
) -> FormBox {
    let mut b = Fb::new(i, "course", values, errors);
    match programme {
        Some(p) => {
            b.hidden("programme_id", &p.id.to_string());
            b.hidden("back", "programme");
        }
        None => {
            let progs: Vec<(String, String)> = programmes
                .iter()
                .map(|p| (p.id.to_string(), format!("{} · {}", p.code, programme_title(i, p))))
                .collect();
            b.select("programme_id", "training.programme", &progs, false).hint = i.t("training.programme_none_hint");
        }
    }
    b.add("code", "training.code", "text", true).hint = i.t("training.code_hint");
    b.add("title_en", "training.title_en", "text", true);
    b.add("title_km", "training.title_km", "text", false);
    b.hours();
    b.add("competencies", "training.competencies", "text", false).hint = i.t("training.competencies_hint");
    let title = if programme.is_some() { i.t("training.add_module") } else { i.t("training.add_course") };
    b.finish(title, "/training/courses".into(), i.t("common.create"))
}

#[derive(Template)]
#[template(path = "training_hub.html")]
struct HubPage {
    l: Layout,
    institutions: Vec<InstitutionView>,
    programmes: Vec<ProgrammeView>,
    courses: Vec<CourseView>,
    may_run: bool,
    sees_events: bool,
    institution_form: Option<FormBox>,
    programme_form: Option<FormBox>,
    course_form: Option<FormBox>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum HubForm {
    Institution,
    Programme,
    Course,
}

async fn hub_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    failed: Option<(HubForm, &FormMap, &ValidationErrors)>,
) -> PageResult {
    let i = ctx.i;
    let institutions = app.store.institutions().await?;
    let programmes = app.store.programmes().await?;
    let courses = app.store.courses(Some(None)).await?;
    let fw = app.store.current_framework().await?;
    let empty = FormMap::new();
    let none = no_errors();
    let pick_form = |which: HubForm| match failed {
        Some((w, v, e)) if w == which => (v, e),
        _ => (&empty, &none),
    };
    let admin = p.may(Action::KeepTrainingCatalogue);
    let (institution_form, programme_form, course_form) = if admin {
        let (v, e) = pick_form(HubForm::Institution);
        let a = institution_form(&i, v, e);
        let (v, e) = pick_form(HubForm::Programme);
        let b = programme_form(&i, &institutions, v, e);
        let (v, e) = pick_form(HubForm::Course);
        let c = course_form(&i, None, &programmes, v, e);
        (Some(a), Some(b), Some(c))
    } else {
        (None, None, None)
    };
    let l = layout(ctx, "training").await?;
    let page = HubPage {
        institutions: institutions.iter().map(|x| institution_view(&i, x)).collect(),
        programmes: programmes.iter().map(|x| programme_view(&i, x)).collect(),
        courses: courses.iter().map(|c| course_view(&i, &fw, c)).collect(),
        may_run: p.may(Action::RunTraining),
        sees_events: p.may(Action::ReadTrainingEvents),
        institution_form,
        programme_form,
        course_form,
        l,
    };
    if failed.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    }
}

async fn hub(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    hub_view(&app, &ctx, &p, None).await
}

async fn create_institution(State(app): State<AppState>, ctx: Ctx, Form(form): Form<FormMap>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    match app.store.create_institution(&p, &institution_input(&form)).await {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/training#institutions").into_response())
        }
        Err(StoreError::Invalid(e)) => hub_view(&app, &ctx, &p, Some((HubForm::Institution, &form, &e))).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

async fn create_programme(State(app): State<AppState>, ctx: Ctx, Form(form): Form<FormMap>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    let mut pre = no_errors();
    let input = programme_input(&form, &mut pre);
    let result =
        if pre.is_empty() { app.store.create_programme(&p, &input).await } else { Err(StoreError::Invalid(pre)) };
    match result {
        Ok(pr) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/training/programmes/{}", pr.id)).into_response())
        }
        Err(StoreError::Invalid(e)) => hub_view(&app, &ctx, &p, Some((HubForm::Programme, &form, &e))).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Template)]
#[template(path = "training_programme.html")]
struct ProgrammePage {
    l: Layout,
    prog: ProgrammeView,
    institution: String,
    modules: Vec<CourseView>,
    course_form: Option<FormBox>,
    sees_events: bool,
}

async fn programme_view_page(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    pr: &Programme,
    failed: Option<(&FormMap, &ValidationErrors)>,
) -> PageResult {
    let i = ctx.i;
    let fw = app.store.current_framework().await?;
    let modules = app.store.courses(Some(Some(pr.id))).await?;
    let institution = app
        .store
        .institutions()
        .await?
        .iter()
        .find(|x| x.id == pr.institution_id)
        .map(|x| institution_view(&i, x).name)
        .unwrap_or_default();
    let course_form = if p.may(Action::KeepTrainingCatalogue) {
        let empty = FormMap::new();
        let none = no_errors();
        let (v, e) = failed.unwrap_or((&empty, &none));
        Some(course_form(&i, Some(pr), &[], v, e))
    } else {
        None
    };
    let l = layout(ctx, "training").await?;
    let page = ProgrammePage {
        prog: programme_view(&i, pr),
        institution,
        modules: modules.iter().map(|c| course_view(&i, &fw, c)).collect(),
        course_form,
        sees_events: p.may(Action::ReadTrainingEvents),
        l,
    };
    if failed.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    }
}

async fn programme_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(pr) = app.store.programme(id).await? else { return Err(ctx.not_found()) };
    programme_view_page(&app, &ctx, &p, &pr, None).await
}

async fn create_course(State(app): State<AppState>, ctx: Ctx, Form(form): Form<FormMap>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    let mut pre = no_errors();
    let input = course_input(&form, &mut pre);
    let programme_id = input.programme_id;
    let result = if pre.is_empty() { app.store.create_course(&p, &input).await } else { Err(StoreError::Invalid(pre)) };
    match result {
        Ok(c) => {
            flash(&ctx, "common.saved").await?;
            let to = match c.programme_id {
                Some(pid) => format!("/training/programmes/{pid}#modules"),
                None => "/training#courses".to_string(),
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            let programme = match programme_id {
                Some(pid) if val(&form, "back") == "programme" => app.store.programme(pid).await?,
                _ => None,
            };
            match programme {
                Some(pr) => programme_view_page(&app, &ctx, &p, &pr, Some((&form, &e))).await,
                None => hub_view(&app, &ctx, &p, Some((HubForm::Course, &form, &e))).await,
            }
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

fn institution_input(form: &FormMap) -> InstitutionInput {
    InstitutionInput {
        code: val(form, "code"),
        name_en: val(form, "name_en"),
        name_km: val(form, "name_km"),
        kind: val(form, "kind"),
    }
}

fn programme_input(form: &FormMap, pre: &mut ValidationErrors) -> ProgrammeInput {
    let credits = integer(form, "credits_required", pre);
    let credits_required = match credits {
        Some(c) if !(0..=400).contains(&c) => {
            pre.push(FieldError::new("credits_required", "out_of_range").with("min", 0).with("max", 400));
            None
        }
        c => c.map(|c| c as u32),
    };
    ProgrammeInput {
        code: val(form, "code"),
        title_en: val(form, "title_en"),
        title_km: val(form, "title_km"),
        level: val(form, "level"),
        institution_id: integer(form, "institution_id", pre).unwrap_or(0),
        credits_required,
    }
}

fn course_input(form: &FormMap, pre: &mut ValidationErrors) -> CourseInput {
    let programme_id = integer(form, "programme_id", pre);
    let hours = hours_of(form, pre).unwrap_or_default();
    let competencies = val(form, "competencies")
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    CourseInput {
        code: val(form, "code"),
        title_en: val(form, "title_en"),
        title_km: val(form, "title_km"),
        programme_id,
        hours,
        competencies,
    }
}

// ---------------------------------------------------------------------------------------------
// Changing the catalogue
// ---------------------------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "training_edit.html")]
struct EditPage {
    l: Layout,
    title: String,
    back: String,
    fb: FormBox,
}

/// What is being changed, with the values its form shows.
enum Editing {
    Institution(Institution),
    Programme(Programme),
    Course(Course),
}

impl Editing {
    fn values(&self) -> FormMap {
        let mut v = FormMap::new();
        let mut put = |k: &str, x: String| {
            v.insert(k.to_string(), x);
        };
        match self {
            Editing::Institution(x) => {
                put("code", x.code.clone());
                put("name_en", x.name_en.clone());
                put("name_km", x.name_km.clone());
                put("kind", x.kind.code().into());
            }
            Editing::Programme(x) => {
                put("code", x.code.clone());
                put("title_en", x.title_en.clone());
                put("title_km", x.title_km.clone());
                put("level", x.level.code().into());
                put("institution_id", x.institution_id.to_string());
                put("credits_required", x.credits_required.to_string());
            }
            Editing::Course(x) => {
                put("code", x.code.clone());
                put("title_en", x.title_en.clone());
                put("title_km", x.title_km.clone());
                put("programme_id", x.programme_id.map(|p| p.to_string()).unwrap_or_default());
                put("hours.teaching", num(x.hours.teaching));
                put("hours.lab", num(x.hours.lab));
                put("hours.field", num(x.hours.field));
                put("competencies", x.competencies.join(" "));
            }
        }
        v
    }

    /// (path of the record's form, page to return to)
    fn paths(&self) -> (String, String) {
        match self {
            Editing::Institution(x) => (format!("/training/institutions/{}", x.id), "/training#institutions".into()),
            Editing::Programme(x) => {
                (format!("/training/programmes/{}", x.id), format!("/training/programmes/{}", x.id))
            }
            Editing::Course(x) => (
                format!("/training/courses/{}", x.id),
                match x.programme_id {
                    Some(pid) => format!("/training/programmes/{pid}#modules"),
                    None => "/training#courses".into(),
                },
            ),
        }
    }
}

async fn edit_view(
    app: &AppState,
    ctx: &Ctx,
    editing: &Editing,
    failed: Option<(&FormMap, &ValidationErrors)>,
) -> PageResult {
    let i = ctx.i;
    let current = editing.values();
    let none = no_errors();
    let (values, errors) = failed.unwrap_or((&current, &none));
    let (action, back) = editing.paths();
    let mut fb = match editing {
        Editing::Institution(_) => institution_form(&i, values, errors),
        Editing::Programme(_) => programme_form(&i, &app.store.institutions().await?, values, errors),
        Editing::Course(_) => course_form(&i, None, &app.store.programmes().await?, values, errors),
    };
    let title = match editing {
        Editing::Institution(x) => format!("{} · {}", i.t("training.edit_institution"), x.code),
        Editing::Programme(x) => format!("{} · {}", i.t("training.edit_programme"), x.code),
        Editing::Course(x) => format!("{} · {}", i.t("training.edit_course"), x.code),
    };
    fb.title = String::new();
    fb.action = action;
    fb.submit = i.t("common.save");
    let l = layout(ctx, "training").await?;
    let page = EditPage { l, title, back, fb };
    if failed.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    }
}

/// The record to change (404 when unknown; the routes are for those who keep the catalogue).
async fn editing(app: &AppState, ctx: &Ctx, kind: &str, id: i64) -> Result<Editing, PageError> {
    let found = match kind {
        "institution" => app.store.institution(id).await?.map(Editing::Institution),
        "programme" => app.store.programme(id).await?.map(Editing::Programme),
        _ => app.store.course(id).await?.map(Editing::Course),
    };
    found.ok_or_else(|| ctx.not_found())
}

async fn edit_institution(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let e = editing(&app, &ctx, "institution", id).await?;
    edit_view(&app, &ctx, &e, None).await
}

async fn edit_programme(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let e = editing(&app, &ctx, "programme", id).await?;
    edit_view(&app, &ctx, &e, None).await
}

async fn edit_course(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let e = editing(&app, &ctx, "course", id).await?;
    edit_view(&app, &ctx, &e, None).await
}

/// Saves a changed institution, programme or course; the form again, with its problems, when refused.
async fn save_edit(app: &AppState, ctx: &Ctx, kind: &str, id: i64, form: &FormMap) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(form))?;
    let e = editing(app, ctx, kind, id).await?;
    let mut pre = no_errors();
    let result = match &e {
        Editing::Institution(_) => app.store.update_institution(&p, id, &institution_input(form)).await.map(|_| ()),
        Editing::Programme(_) => {
            let input = programme_input(form, &mut pre);
            if pre.is_empty() {
                app.store.update_programme(&p, id, &input).await.map(|_| ())
            } else {
                Err(StoreError::Invalid(pre))
            }
        }
        Editing::Course(_) => {
            let input = course_input(form, &mut pre);
            if pre.is_empty() {
                app.store.update_course(&p, id, &input).await.map(|_| ())
            } else {
                Err(StoreError::Invalid(pre))
            }
        }
    };
    match result {
        Ok(()) => {
            flash(ctx, "common.saved").await?;
            // Back to where the record is listed (a course may have moved to another programme).
            let back = match kind {
                "course" => match app.store.course(id).await? {
                    Some(c) => Editing::Course(c).paths().1,
                    None => e.paths().1,
                },
                _ => e.paths().1,
            };
            Ok(Redirect::to(&back).into_response())
        }
        Err(StoreError::Invalid(errs)) => edit_view(app, ctx, &e, Some((form, &errs))).await,
        Err(other) => Err(store_err(ctx, other)),
    }
}

async fn update_institution(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<FormMap>,
) -> PageResult {
    save_edit(&app, &ctx, "institution", id, &form).await
}

async fn update_programme(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<FormMap>,
) -> PageResult {
    save_edit(&app, &ctx, "programme", id, &form).await
}

async fn update_course(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<FormMap>,
) -> PageResult {
    save_edit(&app, &ctx, "course", id, &form).await
}

// ---------------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------------

/// Event list filters as they appear in the query string.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct EventFilters {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub place: String,
    #[serde(default)]
    pub programme: String,
    #[serde(default)]
    pub page: String,
}

fn date_of(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

impl EventFilters {
    pub fn query(&self) -> EventQuery {
        EventQuery {
            from: date_of(&self.from),
            to: date_of(&self.to),
            place: trimmed(&self.place),
            programme_id: self.programme.trim().parse().ok(),
            course_id: None,
            page: self.page.trim().parse().unwrap_or(1),
            per_page: 50,
        }
    }

    pub fn query_string(&self) -> String {
        query_string(&[("from", &self.from), ("to", &self.to), ("place", &self.place), ("programme", &self.programme)])
    }

    fn link(&self, page: i64) -> String {
        page_link(&self.query_string(), page)
    }
}

pub struct EventRow {
    pub id: i64,
    pub starts_on: String,
    pub ends_on: String,
    pub course_code: String,
    pub course_title: String,
    pub programme_code: String,
    pub institution_code: String,
    pub place: String,
    pub place_code: String,
    pub participants: i64,
    pub passed: i64,
}

fn event_row(i: &I18n, e: &TrainingEvent) -> EventRow {
    EventRow {
        id: e.id,
        starts_on: e.starts_on.to_string(),
        ends_on: e.ends_on.to_string(),
        course_code: e.course_code.clone(),
        course_title: course_title(i, e),
        programme_code: e.programme_code.clone().unwrap_or_default(),
        institution_code: e.institution_code.clone().unwrap_or_default(),
        place: pick(i, &e.place_name_en, &e.place_name_km),
        place_code: e.place_code.clone(),
        participants: e.participants,
        passed: e.passed,
    }
}

fn course_title(i: &I18n, e: &TrainingEvent) -> String {
    if e.course_title_km.is_empty() {
        e.course_title_en.clone()
    } else {
        pick(i, &e.course_title_en, &e.course_title_km)
    }
}

#[derive(Template)]
#[template(path = "training_events.html")]
struct EventsPage {
    l: Layout,
    f: EventFilters,
    programmes: Vec<Choice>,
    rows: Vec<EventRow>,
    page: Page<TrainingEvent>,
    may_run: bool,
    query: String,
    prev: Option<String>,
    next: Option<String>,
}

impl EventsPage {
    fn results(&self) -> String {
        self.l.i.tp("common.results", &[("total", self.page.total.to_string())])
    }
    fn page_of(&self) -> String {
        self.l.i.tp("common.page_of", &[("page", self.page.page.to_string()), ("pages", self.page.pages().to_string())])
    }
}

async fn events_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<EventFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let page = app.store.training_events(&p, &f.query()).await.map_err(|e| store_err(&ctx, e))?;
    let programmes = app
        .store
        .programmes()
        .await?
        .iter()
        .map(|x| Choice { value: x.id.to_string(), label: x.code.clone(), selected: x.id.to_string() == f.programme })
        .collect();
    let l = layout(&ctx, "training").await?;
    render(&EventsPage {
        rows: page.items.iter().map(|e| event_row(&i, e)).collect(),
        prev: (page.page > 1).then(|| f.link(page.page - 1)),
        next: (page.page < page.pages()).then(|| f.link(page.page + 1)),
        query: f.query_string(),
        may_run: p.may(Action::RunTraining),
        programmes,
        page,
        f,
        l,
    })
}

#[derive(Debug, Default, Deserialize)]
struct FormatParam {
    #[serde(default)]
    format: String,
}

async fn export_events(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<EventFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let rows = app.store.event_export_rows(&p, &f.query()).await.map_err(|e| store_err(&ctx, e))?;
    table_file("komlang-training-events", format, EVENT_EXPORT_COLUMNS, rows).await.map_err(|e| store_err(&ctx, e))
}

fn event_form(
    i: &I18n,
    courses: &[Course],
    institutions: &[Institution],
    values: &FormMap,
    errors: &ValidationErrors,
    action: String,
    title: String,
) -> FormBox {
    let mut b = Fb::new(i, "event", values, errors);
    let course_opts: Vec<(String, String)> = courses
        .iter()
        .map(|c| {
            let prog = c.programme_code.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
            let title = if c.title_km.is_empty() { c.title_en.clone() } else { pick(i, &c.title_en, &c.title_km) };
            (c.id.to_string(), format!("{} · {title}{prog}", c.code))
        })
        .collect();
    b.select("course_id", "training.course", &course_opts, true);
    let insts: Vec<(String, String)> = institutions
        .iter()
        .map(|x| (x.id.to_string(), format!("{} · {}", x.code, institution_view(i, x).name)))
        .collect();
    b.select("institution_id", "training.institution", &insts, false);
    b.add("starts_on", "training.starts_on", "date", true);
    b.add("ends_on", "training.ends_on", "date", true);
    b.add("place_code", "training.place_code", "text", true).hint = i.t("training.place_hint");
    b.add("venue", "training.venue", "text", false);
    b.add("trainers", "training.trainers", "text", false);
    b.hours();
    if let Some(f) = b.fields.iter_mut().find(|f| f.name == "hours.teaching") {
        f.hint = i.t("training.event_hours_hint");
    }
    b.finish(title, action, i.t("common.save"))
}

fn event_input(form: &FormMap) -> (EventInput, ValidationErrors) {
    let mut errs = no_errors();
    let input = EventInput {
        course_id: integer(form, "course_id", &mut errs).unwrap_or(0),
        institution_id: integer(form, "institution_id", &mut errs),
        starts_on: val(form, "starts_on"),
        ends_on: val(form, "ends_on"),
        place_code: val(form, "place_code"),
        venue: trimmed(&val(form, "venue")),
        trainers: trimmed(&val(form, "trainers")),
        hours: hours_of(form, &mut errs),
    };
    (input, errs)
}

#[derive(Template)]
#[template(path = "training_event_form.html")]
struct EventFormPage {
    l: Layout,
    fb: FormBox,
    cancel: String,
}

async fn show_event_form(
    app: &AppState,
    ctx: &Ctx,
    values: &FormMap,
    errors: &ValidationErrors,
    action: String,
    title: String,
    cancel: String,
) -> PageResult {
    let courses = app.store.courses(None).await?;
    let institutions = app.store.institutions().await?;
    let fb = event_form(&ctx.i, &courses, &institutions, values, errors, action, title);
    let l = layout(ctx, "training").await?;
    let page = EventFormPage { l, fb, cancel };
    if errors.is_empty() {
        render(&page)
    } else {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    }
}

async fn new_event(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    let mut values = FormMap::new();
    if let Scope::Unit { code, .. } = &p.scope {
        values.insert("place_code".into(), code.clone());
    }
    let t = today().to_string();
    values.insert("starts_on".into(), t.clone());
    values.insert("ends_on".into(), t);
    show_event_form(
        &app,
        &ctx,
        &values,
        &no_errors(),
        "/training/events".into(),
        ctx.i.t("training.new_event"),
        "/training/events".into(),
    )
    .await
}

async fn create_event(State(app): State<AppState>, ctx: Ctx, Form(form): Form<FormMap>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    let (input, pre) = event_input(&form);
    let result =
        if pre.is_empty() { app.store.create_training_event(&p, &input).await } else { Err(StoreError::Invalid(pre)) };
    match result {
        Ok(ev) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/training/events/{}", ev.id)).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            show_event_form(
                &app,
                &ctx,
                &form,
                &e,
                "/training/events".into(),
                ctx.i.t("training.new_event"),
                "/training/events".into(),
            )
            .await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

/// The event, if the caller sees events and this one (404 otherwise).
async fn visible_event(app: &AppState, ctx: &Ctx, p: &Principal, id: i64) -> Result<TrainingEvent, PageError> {
    app.store.training_event(p, id).await.map_err(|e| store_err(ctx, e))?.ok_or_else(|| ctx.not_found())
}

/// The event, if the caller may also run it (403 otherwise).
async fn runnable_event(app: &AppState, ctx: &Ctx, p: &Principal, id: i64) -> Result<TrainingEvent, PageError> {
    app.store.runnable_event(p, id).await.map_err(|e| store_err(ctx, e))
}

async fn edit_event(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let ev = runnable_event(&app, &ctx, &p, id).await?;
    let mut values = FormMap::new();
    values.insert("course_id".into(), ev.course_id.to_string());
    values.insert("institution_id".into(), ev.institution_id.map(|x| x.to_string()).unwrap_or_default());
    values.insert("starts_on".into(), ev.starts_on.to_string());
    values.insert("ends_on".into(), ev.ends_on.to_string());
    values.insert("place_code".into(), ev.place_code.clone());
    values.insert("venue".into(), ev.venue.clone().unwrap_or_default());
    values.insert("trainers".into(), ev.trainers.clone().unwrap_or_default());
    hours_values(&mut values, &ev.hours);
    show_event_form(
        &app,
        &ctx,
        &values,
        &no_errors(),
        format!("/training/events/{id}"),
        ctx.i.t("training.edit_event"),
        format!("/training/events/{id}"),
    )
    .await
}

async fn update_event(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<FormMap>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    runnable_event(&app, &ctx, &p, id).await?;
    let (input, pre) = event_input(&form);
    let result = if pre.is_empty() {
        app.store.update_training_event(&p, id, &input).await
    } else {
        Err(StoreError::Invalid(pre))
    };
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/training/events/{id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            show_event_form(
                &app,
                &ctx,
                &form,
                &e,
                format!("/training/events/{id}"),
                ctx.i.t("training.edit_event"),
                format!("/training/events/{id}"),
            )
            .await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

pub struct ParticipantRow {
    pub worker_id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub days: String,
    pub teaching: String,
    pub lab: String,
    pub field: String,
    pub credits: String,
    pub result: String,
    pub result_code: &'static str,
    /// The attendance form's values.
    pub f_days: String,
    pub f_teaching: String,
    pub f_lab: String,
    pub f_field: String,
    pub results: Vec<Choice>,
    pub errors: Vec<String>,
}

#[derive(Template)]
#[template(path = "training_event.html")]
struct EventPage {
    l: Layout,
    ev: TrainingEvent,
    course_title: String,
    place: String,
    teaching: String,
    lab: String,
    field: String,
    credits: String,
    may_run: bool,
    rows: Vec<ParticipantRow>,
    /// Participants still pending (the "all passed" button is offered when there are some).
    pending: usize,
    add_value: String,
    add_errors: Vec<String>,
    /// The search for workers to add, and the workers it found (not yet participants).
    find: String,
    found: Vec<WorkerRowView>,
}

/// A worker found to be added to an event.
pub struct WorkerRowView {
    pub id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub role: String,
    pub workplace: String,
}

/// Most workers the search of the event page lists.
const FIND_LIMIT: i64 = 30;

#[derive(Debug, Default, Deserialize)]
struct FindParam {
    #[serde(default)]
    find: String,
}

enum EventFailure<'a> {
    None,
    Add(&'a str, &'a ValidationErrors),
    Attendance(i64, &'a FormMap, &'a ValidationErrors),
}

async fn event_view(app: &AppState, ctx: &Ctx, p: &Principal, id: i64, failed: EventFailure<'_>) -> PageResult {
    event_view_finding(app, ctx, p, id, failed, "").await
}

async fn event_view_finding(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    failed: EventFailure<'_>,
    find: &str,
) -> PageResult {
    let i = ctx.i;
    let ev = visible_event(app, ctx, p, id).await?;
    let may_run = app.store.may_run_training_at(p, &ev.place_code).await?;
    let participants = app.store.event_participants(p, id).await.map_err(|e| store_err(ctx, e))?;
    let find = find.trim();
    let found = if may_run && find.chars().count() >= 2 {
        let q = komlang_store::WorkerQuery {
            q: Some(find.to_string()),
            page: 1,
            per_page: FIND_LIMIT,
            ..Default::default()
        };
        let already: HashSet<i64> = participants.iter().map(|x| x.worker.id).collect();
        app.store
            .list_workers(p, &q)
            .await?
            .items
            .into_iter()
            .filter(|w| !already.contains(&w.id))
            .map(|w| WorkerRowView {
                id: w.id,
                name_km: w.name_km,
                name_latin: w.name_latin,
                role: i.t(&w.role.label_key()),
                workplace: pick(&i, &w.workplace_name_en, &w.workplace_name_km),
            })
            .collect()
    } else {
        Vec::new()
    };
    let pending = participants.iter().filter(|x| x.result == TrainingResult::Pending).count();
    let results = vchoices(&i, TrainingResult::ALL, TrainingResult::code, TrainingResult::label_key);
    let rows = participants
        .iter()
        .map(|x| {
            let recorded = x.result != TrainingResult::Pending || x.hours.teaching + x.hours.lab + x.hours.field > 0.0;
            let (mut f_days, mut f_teaching, mut f_lab, mut f_field, mut f_result) = (
                x.days_attended.map(|d| d.to_string()).unwrap_or_default(),
                if recorded { num(x.hours.teaching) } else { String::new() },
                if recorded { num(x.hours.lab) } else { String::new() },
                if recorded { num(x.hours.field) } else { String::new() },
                x.result.code().to_string(),
            );
            let mut errors = Vec::new();
            if let EventFailure::Attendance(wid, form, e) = &failed {
                if *wid == x.worker.id {
                    f_days = val(form, "days_attended");
                    f_teaching = val(form, "hours.teaching");
                    f_lab = val(form, "hours.lab");
                    f_field = val(form, "hours.field");
                    f_result = val(form, "result");
                    errors = messages(&i, e);
                }
            }
            ParticipantRow {
                worker_id: x.worker.id,
                name_km: x.worker.name_km.clone(),
                name_latin: x.worker.name_latin.clone(),
                days: x.days_attended.map(|d| d.to_string()).unwrap_or_default(),
                teaching: num(x.hours.teaching),
                lab: num(x.hours.lab),
                field: num(x.hours.field),
                credits: num(x.credits),
                result: i.t(&x.result.label_key()),
                result_code: x.result.code(),
                f_days,
                f_teaching,
                f_lab,
                f_field,
                results: select_choices(&results, &f_result),
                errors,
            }
        })
        .collect();
    let (add_value, add_errors, status) = match &failed {
        EventFailure::Add(text, e) => (text.to_string(), messages(&i, e), StatusCode::UNPROCESSABLE_ENTITY),
        EventFailure::Attendance(..) => (String::new(), Vec::new(), StatusCode::UNPROCESSABLE_ENTITY),
        EventFailure::None => (String::new(), Vec::new(), StatusCode::OK),
    };
    let l = layout(ctx, "training").await?;
    render_status(
        status,
        &EventPage {
            course_title: course_title(&i, &ev),
            place: pick(&i, &ev.place_name_en, &ev.place_name_km),
            teaching: num(ev.hours.teaching),
            lab: num(ev.hours.lab),
            field: num(ev.hours.field),
            credits: num(ev.credits),
            may_run,
            rows,
            pending,
            add_value,
            add_errors,
            find: find.to_string(),
            found,
            ev,
            l,
        },
    )
}

async fn event_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(f): Query<FindParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    event_view_finding(&app, &ctx, &p, id, EventFailure::None, &f.find).await
}

async fn pass_pending(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    runnable_event(&app, &ctx, &p, id).await?;
    app.store.pass_pending(&p, id).await.map_err(|e| store_err(&ctx, e))?;
    flash(&ctx, "training.pending_passed").await?;
    Ok(Redirect::to(&format!("/training/events/{id}#participants")).into_response())
}

async fn add_participants(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let form: FormMap = pairs.iter().filter(|(k, _)| k != "worker_id").cloned().collect();
    ctx.check_csrf(csrf_of(&form))?;
    runnable_event(&app, &ctx, &p, id).await?;
    // Ids typed in `worker_ids`, and the workers ticked in the search results (`worker_id`).
    let ticked = pairs.iter().filter(|(k, _)| k == "worker_id").map(|(_, v)| v.trim());
    let text = std::iter::once(val(&form, "worker_ids").as_str())
        .chain(ticked)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let mut pre = no_errors();
    let mut ids: Vec<i64> = Vec::new();
    for tok in text.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|t| !t.is_empty()) {
        match tok.parse::<i64>() {
            Ok(n) if n > 0 => {
                if !ids.contains(&n) {
                    ids.push(n);
                }
            }
            _ => pre.push(FieldError::new("worker_ids", "not_in_registry").with("value", tok)),
        }
    }
    if ids.is_empty() && pre.is_empty() {
        pre.push(FieldError::new("worker_ids", "required"));
    }
    let result =
        if pre.is_empty() { app.store.add_participants(&p, id, &ids).await } else { Err(StoreError::Invalid(pre)) };
    match result {
        Ok(_) => {
            flash(&ctx, "training.participants_added").await?;
            Ok(Redirect::to(&format!("/training/events/{id}#participants")).into_response())
        }
        Err(StoreError::Invalid(e)) => event_view(&app, &ctx, &p, id, EventFailure::Add(&text, &e)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

async fn record_attendance(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((id, worker_id)): Path<(i64, i64)>,
    Form(form): Form<FormMap>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    runnable_event(&app, &ctx, &p, id).await?;
    let mut pre = no_errors();
    let days = integer(&form, "days_attended", &mut pre);
    let days_attended = match days {
        Some(d) if d < 0 || d > u32::MAX as i64 => {
            pre.push(FieldError::new("days_attended", "invalid_number").with("value", d));
            None
        }
        d => d.map(|d| d as u32),
    };
    let input = AttendanceInput { days_attended, hours: hours_of(&form, &mut pre), result: val(&form, "result") };
    let result = if pre.is_empty() {
        app.store.record_attendance(&p, id, worker_id, &input).await
    } else {
        let seen = app.store.event_participants(&p, id).await.map_err(|e| store_err(&ctx, e))?;
        if !seen.iter().any(|x| x.worker.id == worker_id) {
            return Err(ctx.not_found());
        }
        Err(StoreError::Invalid(pre))
    };
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/training/events/{id}#p-{worker_id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            event_view(&app, &ctx, &p, id, EventFailure::Attendance(worker_id, &form, &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

async fn remove_participant(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((id, worker_id)): Path<(i64, i64)>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    app.store.remove_participant(&p, id, worker_id).await.map_err(|e| store_err(&ctx, e))?;
    flash(&ctx, "common.deleted").await?;
    Ok(Redirect::to(&format!("/training/events/{id}#participants")).into_response())
}

// ---------------------------------------------------------------------------------------------
// Progress and targets
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default, Clone, Deserialize)]
pub struct ProgressFilters {
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
    pub programme: String,
}

impl ProgressFilters {
    pub fn query(&self) -> ProgressQuery {
        ProgressQuery {
            province: trimmed(&self.province),
            district: trimmed(&self.district),
            cadre: Cadre::parse(&self.cadre),
            role: WorkerRole::parse(&self.role),
            sector: Sector::parse(&self.sector),
            org_id: None,
            programme_id: self.programme.trim().parse().ok(),
        }
    }
}

pub struct GroupRow {
    pub programme_id: i64,
    pub code: String,
    pub title: String,
    pub level: String,
    pub credits_required: u32,
    pub started: i64,
    pub halfway: i64,
    pub eligible: i64,
    pub certified: i64,
}

pub struct EligibleRow {
    pub worker_id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub programme_code: String,
    pub level: String,
    pub credits: String,
}

pub struct ProgressChoices {
    pub provinces: Vec<Choice>,
    pub cadres: Vec<Choice>,
    pub roles: Vec<Choice>,
    pub sectors: Vec<Choice>,
    pub programmes: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "training_progress.html")]
struct ProgressPage {
    l: Layout,
    f: ProgressFilters,
    c: ProgressChoices,
    groups: Vec<GroupRow>,
    eligible: Vec<EligibleRow>,
    eligible_total: i64,
    truncated: bool,
}

fn labeled_choices<T: Copy + Labeled>(i: &I18n, all: &[T], code: fn(T) -> &'static str, current: &str) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice { value: code(*v).to_string(), label: i.label(*v), selected: code(*v) == current })
        .collect()
}

async fn progress_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<ProgressFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let report = app.store.training_progress(&p, &f.query()).await.map_err(|e| store_err(&ctx, e))?;
    let programmes = app.store.programmes().await?;
    let title_of = |id: i64| programmes.iter().find(|x| x.id == id).map(|x| programme_title(&i, x)).unwrap_or_default();
    let groups = report
        .programmes
        .iter()
        .map(|g| GroupRow {
            programme_id: g.programme_id,
            code: g.programme_code.clone(),
            title: title_of(g.programme_id),
            level: i.t(&g.level.label_key()),
            credits_required: g.credits_required,
            started: g.started,
            halfway: g.halfway,
            eligible: g.eligible,
            certified: g.certified,
        })
        .collect();
    let eligible: Vec<EligibleRow> = report
        .eligible
        .iter()
        .map(|e| EligibleRow {
            worker_id: e.worker.id,
            name_km: e.worker.name_km.clone(),
            name_latin: e.worker.name_latin.clone(),
            programme_code: e.programme_code.clone(),
            level: i.t(&e.level.label_key()),
            credits: num(e.credits_earned),
        })
        .collect();
    let c = ProgressChoices {
        provinces: province_choices(&app, &i, &p, &f.province).await?,
        cadres: labeled_choices(&i, Cadre::ALL, Cadre::code, &f.cadre),
        roles: labeled_choices(&i, WorkerRole::ALL, WorkerRole::code, &f.role),
        sectors: labeled_choices(&i, Sector::ALL, Sector::code, &f.sector),
        programmes: programmes
            .iter()
            .filter(|x| x.level != CertificateLevel::Continuing)
            .map(|x| Choice {
                value: x.id.to_string(),
                label: x.code.clone(),
                selected: x.id.to_string() == f.programme,
            })
            .collect(),
    };
    let l = layout(&ctx, "training").await?;
    let truncated = (eligible.len() as i64) < report.eligible_total;
    render(&ProgressPage { l, f, c, groups, eligible, eligible_total: report.eligible_total, truncated })
}

pub struct TargetRow {
    pub group_code: String,
    pub group_en: String,
    pub level: String,
    pub year: i32,
    pub target: i64,
    pub roles: String,
    pub completed: Option<i64>,
    pub percent: Option<u32>,
    /// The percent for a bar (at most 100).
    pub bar: u32,
}

#[derive(Template)]
#[template(path = "training_targets.html")]
struct TargetsPage {
    l: Layout,
    rows: Vec<TargetRow>,
    target_form: Option<FormBox>,
}

async fn targets_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    failed: Option<(&FormMap, &ValidationErrors)>,
) -> PageResult {
    let i = ctx.i;
    let targets = app.store.training_targets(p).await.map_err(|e| store_err(ctx, e))?;
    let rows = targets
        .iter()
        .map(|t| TargetRow {
            group_code: t.group_code.clone(),
            group_en: t.group_en.clone(),
            level: i.t(&t.level.label_key()),
            year: t.year,
            target: t.target,
            roles: t.roles.iter().map(|r| i.label(*r)).collect::<Vec<_>>().join(", "),
            completed: t.completed,
            percent: t.percent,
            bar: t.percent.unwrap_or(0).min(100),
        })
        .collect();
    let target_form = if p.may(Action::KeepTrainingCatalogue) {
        let mut defaults = FormMap::new();
        defaults.insert("year".into(), "2025".into());
        let none = no_errors();
        let (v, e) = failed.unwrap_or((&defaults, &none));
        let mut b = Fb::new(&i, "target", v, e);
        b.add("group_code", "training.group_code", "text", true).hint = i.t("training.group_code_hint");
        b.add("group_en", "training.group_en", "text", true);
        let levels = vchoices(&i, CertificateLevel::ALL, CertificateLevel::code, CertificateLevel::label_key);
        b.select("level", "training.level", &levels, true);
        b.add("year", "training.year", "number", true);
        b.add("target", "training.target", "number", true);
        let roles: Vec<(String, String)> =
            WorkerRole::ALL.iter().map(|r| (r.code().to_string(), i.label(*r))).collect();
        b.checkboxes("roles", "training.target_roles", &roles).hint = i.t("training.target_roles_hint");
        Some(b.finish(i.t("training.set_target"), "/training/targets".into(), i.t("common.save")))
    } else {
        None
    };
    let l = layout(ctx, "training").await?;
    let page = TargetsPage { l, rows, target_form };
    if failed.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    }
}

async fn targets_page(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    targets_view(&app, &ctx, &p, None).await
}

async fn set_target(State(app): State<AppState>, ctx: Ctx, Form(pairs): Form<Vec<(String, String)>>) -> PageResult {
    let p = ctx.require()?.clone();
    let mut form = FormMap::new();
    let mut roles = Vec::new();
    for (k, v) in pairs {
        if k == "roles" {
            roles.push(v);
        } else {
            form.insert(k, v);
        }
    }
    form.insert("roles".into(), roles.join(" "));
    ctx.check_csrf(csrf_of(&form))?;
    let mut pre = no_errors();
    let year = integer(&form, "year", &mut pre).unwrap_or(0);
    let target = integer(&form, "target", &mut pre).unwrap_or(-1);
    let input = TargetInput {
        group_code: val(&form, "group_code"),
        group_en: val(&form, "group_en"),
        level: val(&form, "level"),
        year: i32::try_from(year).unwrap_or(0),
        target,
        roles,
    };
    let result =
        if pre.is_empty() { app.store.set_training_target(&p, &input).await } else { Err(StoreError::Invalid(pre)) };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/training/targets").into_response())
        }
        Err(StoreError::Invalid(e)) => targets_view(&app, &ctx, &p, Some((&form, &e))).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

// ---------------------------------------------------------------------------------------------
// A worker's transcript: recognitions, certificates, licences
// ---------------------------------------------------------------------------------------------

pub struct TrainingRow {
    pub event_id: i64,
    pub starts_on: String,
    pub ends_on: String,
    pub course_code: String,
    pub course_title: String,
    pub programme_code: String,
    pub institution_code: String,
    pub place_code: String,
    pub result: String,
    pub passed: bool,
    pub teaching: String,
    pub lab: String,
    pub field: String,
    pub total_hours: String,
    pub credits: String,
}

pub struct RecognitionRow {
    pub kind: String,
    pub programme_code: String,
    pub teaching: String,
    pub lab: String,
    pub field: String,
    pub credits: String,
    pub evidence: String,
    pub assessor: String,
    pub assessed_on: String,
    pub recorded_by: String,
}

pub struct CertRow {
    pub number: String,
    pub programme_code: String,
    pub programme_title: String,
    pub level: String,
    pub institution_code: String,
    pub issued_on: String,
    pub issued_by: String,
    pub valid: bool,
    pub revoked_on: String,
    pub revoke_reason: String,
    pub can_revoke: bool,
    pub errors: Vec<String>,
    pub reason_value: String,
}

pub struct ProgressLine {
    pub programme_id: i64,
    pub code: String,
    pub title: String,
    pub level: String,
    pub earned: String,
    pub recognized: String,
    pub required: u32,
    pub percent: u32,
    pub eligible: bool,
    pub certificate: Option<String>,
    pub can_issue: bool,
}

pub struct LicenceLine {
    pub id: i64,
    pub number: String,
    pub status: String,
    pub status_code: &'static str,
    pub applied_on: String,
    pub expires_on: String,
}

#[derive(Template)]
#[template(path = "training_transcript.html")]
struct TranscriptPage {
    l: Layout,
    w: WorkerBrief,
    trainings: Vec<TrainingRow>,
    teaching: String,
    lab: String,
    field: String,
    total_hours: String,
    total_credits: String,
    recognitions: Vec<RecognitionRow>,
    certificates: Vec<CertRow>,
    progress: Vec<ProgressLine>,
    licences: Vec<LicenceLine>,
    show_event_links: bool,
    recognition_form: Option<FormBox>,
    issue_errors: Vec<String>,
    apply_form: Option<FormBox>,
}

enum TranscriptFailure<'a> {
    None,
    Recognition(&'a FormMap, &'a ValidationErrors),
    Issue(&'a ValidationErrors),
    Revoke(&'a str, &'a FormMap, &'a ValidationErrors),
    Apply(&'a FormMap, &'a ValidationErrors),
}

fn may_apply(p: &Principal, worker_id: i64) -> bool {
    p.allows(Action::ApplyLicence, Target::worker(worker_id))
}

async fn transcript_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    failed: TranscriptFailure<'_>,
) -> PageResult {
    let i = ctx.i;
    let t = app.store.transcript(p, id).await.map_err(|e| store_err(ctx, e))?;
    let licences = app.store.worker_licences(p, id, today()).await.map_err(|e| store_err(ctx, e))?;
    let programmes = app.store.programmes().await?;
    let certify = p.may(Action::IssueCertificate);
    let title_of = |id: i64| programmes.iter().find(|x| x.id == id).map(|x| programme_title(&i, x)).unwrap_or_default();
    let trainings = t
        .trainings
        .iter()
        .map(|e| TrainingRow {
            event_id: e.event_id,
            starts_on: e.starts_on.to_string(),
            ends_on: e.ends_on.to_string(),
            course_code: e.course_code.clone(),
            course_title: if e.course_title_km.is_empty() {
                e.course_title_en.clone()
            } else {
                pick(&i, &e.course_title_en, &e.course_title_km)
            },
            programme_code: e.programme_code.clone().unwrap_or_default(),
            institution_code: e.institution_code.clone().unwrap_or_default(),
            place_code: e.place_code.clone(),
            result: i.t(&e.result.label_key()),
            passed: e.result == TrainingResult::Passed,
            teaching: num(e.hours.teaching),
            lab: num(e.hours.lab),
            field: num(e.hours.field),
            total_hours: num(e.total_hours),
            credits: num(e.credits),
        })
        .collect();
    let recognitions = t
        .recognitions
        .iter()
        .map(|r| RecognitionRow {
            kind: i.t(&r.kind.label_key()),
            programme_code: r.programme_code.clone(),
            teaching: num(r.hours.teaching),
            lab: num(r.hours.lab),
            field: num(r.hours.field),
            credits: num(r.credits),
            evidence: r.evidence.clone(),
            assessor: r.assessor.clone(),
            assessed_on: r.assessed_on.to_string(),
            recorded_by: r.recorded_by.clone(),
        })
        .collect();
    let certificates = t
        .certificates
        .iter()
        .map(|c| {
            let (errors, reason_value) = match &failed {
                TranscriptFailure::Revoke(n, form, e)
                    if normalize_number(NumberKind::Certificate, n).as_deref() == Some(c.number.as_str()) =>
                {
                    (messages(&i, e), val(form, "reason"))
                }
                _ => (Vec::new(), String::new()),
            };
            CertRow {
                number: c.number.clone(),
                programme_code: c.programme_code.clone(),
                programme_title: if c.programme_title_km.is_empty() {
                    c.programme_title_en.clone()
                } else {
                    pick(&i, &c.programme_title_en, &c.programme_title_km)
                },
                level: i.t(&c.level.label_key()),
                institution_code: c.institution_code.clone(),
                issued_on: c.issued_on.to_string(),
                issued_by: c.issued_by.clone(),
                valid: c.valid,
                revoked_on: c.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
                revoke_reason: c.revoke_reason.clone().unwrap_or_default(),
                can_revoke: certify && c.valid,
                errors,
                reason_value,
            }
        })
        .collect();
    let progress = t
        .progress
        .iter()
        .map(|x| ProgressLine {
            programme_id: x.programme_id,
            code: x.programme_code.clone(),
            title: title_of(x.programme_id),
            level: i.t(&x.level.label_key()),
            earned: num(x.credits_earned),
            recognized: num(x.credits_recognized),
            required: x.credits_required,
            percent: x.percent,
            eligible: x.eligible,
            certificate: x.certificate.clone(),
            can_issue: certify && x.eligible,
        })
        .collect();
    let licence_lines = licences
        .iter()
        .map(|l| LicenceLine {
            id: l.id,
            number: l.number.clone().unwrap_or_default(),
            status: i.t(&l.effective_status.label_key()),
            status_code: l.effective_status.code(),
            applied_on: l.applied_on.to_string(),
            expires_on: l.expires_on.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    let empty = FormMap::new();
    let none = no_errors();
    let recognition_form = if p.may(Action::RunTraining) {
        let mut defaults = FormMap::new();
        defaults.insert("assessed_on".into(), today().to_string());
        defaults.insert("assessor".into(), p.username.clone());
        let (v, e) = match &failed {
            TranscriptFailure::Recognition(v, e) => (*v, *e),
            _ => (&defaults, &none),
        };
        let mut b = Fb::new(&i, "recognition", v, e);
        let kinds = vchoices(&i, RecognitionKind::ALL, RecognitionKind::code, RecognitionKind::label_key);
        b.select("kind", "training.recognition_kind", &kinds, true);
        let progs: Vec<(String, String)> = programmes
            .iter()
            .filter(|x| x.level != CertificateLevel::Continuing)
            .map(|x| (x.id.to_string(), format!("{} · {}", x.code, programme_title(&i, x))))
            .collect();
        b.select("programme_id", "training.programme", &progs, true);
        b.hours();
        b.add("evidence", "training.evidence", "textarea", true).hint = i.t("training.evidence_hint");
        b.add("assessor", "training.assessor", "text", true);
        b.add("assessed_on", "training.assessed_on", "date", true);
        Some(b.finish(i.t("training.add_recognition"), format!("/workers/{id}/recognitions"), i.t("common.save")))
    } else {
        None
    };
    let apply_form = if may_apply(p, id) {
        let (v, e) = match &failed {
            TranscriptFailure::Apply(v, e) => (*v, *e),
            _ => (&empty, &none),
        };
        let mut b = Fb::new(&i, "apply", v, e);
        b.add("note", "training.application_note", "textarea", false).hint = i.t("training.application_note_hint");
        Some(b.finish(i.t("training.apply_licence"), format!("/workers/{id}/licences"), i.t("training.apply")))
    } else {
        None
    };
    let issue_errors = match &failed {
        TranscriptFailure::Issue(e) => messages(&i, e),
        _ => Vec::new(),
    };
    let status =
        if matches!(failed, TranscriptFailure::None) { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let l = layout(ctx, "workers").await?;
    render_status(
        status,
        &TranscriptPage {
            teaching: num(t.hours.teaching),
            lab: num(t.hours.lab),
            field: num(t.hours.field),
            total_hours: num(t.total_hours),
            total_credits: num(t.total_credits),
            w: t.worker.clone(),
            trainings,
            recognitions,
            certificates,
            progress,
            licences: licence_lines,
            show_event_links: p.may(Action::ReadTrainingEvents),
            recognition_form,
            issue_errors,
            apply_form,
            l,
        },
    )
}

async fn transcript_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    transcript_view(&app, &ctx, &p, id, TranscriptFailure::None).await
}

async fn export_transcript(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(fmt): Query<FormatParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let rows = app.store.transcript_export_rows(&p, id).await.map_err(|e| store_err(&ctx, e))?;
    table_file(&format!("komlang-transcript-{id}"), format, TRANSCRIPT_EXPORT_COLUMNS, rows)
        .await
        .map_err(|e| store_err(&ctx, e))
}

/// 404 unless the caller sees the worker.
async fn visible_worker(app: &AppState, ctx: &Ctx, p: &Principal, id: i64) -> Result<(), PageError> {
    match app.store.get_worker(p, id).await? {
        Some(_) => Ok(()),
        None => Err(ctx.not_found()),
    }
}

async fn add_recognition(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<FormMap>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    visible_worker(&app, &ctx, &p, id).await?;
    if !p.may(Action::RunTraining) {
        return Err(ctx.forbidden());
    }
    let mut pre = no_errors();
    let input = RecognitionInput {
        kind: val(&form, "kind"),
        programme_id: integer(&form, "programme_id", &mut pre).unwrap_or(0),
        hours: hours_of(&form, &mut pre).unwrap_or_default(),
        evidence: val(&form, "evidence"),
        assessor: val(&form, "assessor"),
        assessed_on: val(&form, "assessed_on"),
    };
    let result = if pre.is_empty() {
        app.store.add_recognition(&p, id, &input, today()).await
    } else {
        Err(StoreError::Invalid(pre))
    };
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/workers/{id}/transcript#recognitions")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            transcript_view(&app, &ctx, &p, id, TranscriptFailure::Recognition(&form, &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

async fn issue_certificate(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<FormMap>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    visible_worker(&app, &ctx, &p, id).await?;
    if !p.may(Action::IssueCertificate) {
        return Err(ctx.forbidden());
    }
    let mut pre = no_errors();
    let programme_id = integer(&form, "programme_id", &mut pre);
    if programme_id.is_none() && pre.is_empty() {
        pre.push(FieldError::new("programme_id", "required"));
    }
    let result = match programme_id {
        Some(pid) if pre.is_empty() => app.store.issue_certificate(&p, id, pid, today()).await,
        _ => Err(StoreError::Invalid(pre)),
    };
    match result {
        Ok(_) => {
            flash(&ctx, "training.certificate_issued").await?;
            Ok(Redirect::to(&format!("/workers/{id}/transcript#certificates")).into_response())
        }
        Err(StoreError::Invalid(e)) => transcript_view(&app, &ctx, &p, id, TranscriptFailure::Issue(&e)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Template)]
#[template(path = "training_message.html")]
struct MessagePage {
    l: Layout,
    title: String,
    messages: Vec<String>,
    back: String,
}

async fn revoke_certificate(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
    Form(form): Form<FormMap>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    match app.store.revoke_certificate(&p, &number, &val(&form, "reason"), today()).await {
        Ok(c) => {
            flash(&ctx, "training.certificate_revoked").await?;
            Ok(Redirect::to(&format!("/workers/{}/transcript#certificates", c.worker_id)).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            // Back on the holder's transcript when the form says whose it is and it is theirs.
            let worker_id: Option<i64> = val(&form, "worker_id").parse().ok();
            let canonical = normalize_number(NumberKind::Certificate, &number);
            if let Some(wid) = worker_id {
                if let Ok(certs) = app.store.worker_certificates(&p, wid).await {
                    if certs.iter().any(|c| Some(&c.number) == canonical.as_ref()) {
                        return transcript_view(&app, &ctx, &p, wid, TranscriptFailure::Revoke(&number, &form, &e))
                            .await;
                    }
                }
            }
            let l = layout(&ctx, "workers").await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &MessagePage {
                    title: ctx.i.t("training.revoke_certificate"),
                    messages: messages(&ctx.i, &e),
                    back: worker_id.map(|w| format!("/workers/{w}/transcript")).unwrap_or_else(|| "/training".into()),
                    l,
                },
            )
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

async fn apply_licence(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<FormMap>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    let note = val(&form, "note");
    match app.store.apply_licence(&p, id, Some(note.as_str()), today()).await {
        Ok(_) => {
            flash(&ctx, "training.licence_applied").await?;
            Ok(Redirect::to(&format!("/workers/{id}/transcript#licences")).into_response())
        }
        Err(StoreError::Invalid(e)) => transcript_view(&app, &ctx, &p, id, TranscriptFailure::Apply(&form, &e)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Licences
// ---------------------------------------------------------------------------------------------

/// Licence list filters as they appear in the query string.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct LicenceFilters {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub expiring_within_days: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub page: String,
}

impl LicenceFilters {
    pub fn query(&self) -> LicenceQuery {
        LicenceQuery {
            status: LicenceStatus::parse(&self.status),
            expiring_within_days: self.expiring_within_days.trim().parse().ok().filter(|d: &i64| *d >= 0),
            q: trimmed(&self.q),
            province: trimmed(&self.province),
            district: None,
            page: self.page.trim().parse().unwrap_or(1),
            per_page: 50,
        }
    }

    pub fn query_string(&self) -> String {
        query_string(&[
            ("status", &self.status),
            ("expiring_within_days", &self.expiring_within_days),
            ("q", &self.q),
            ("province", &self.province),
        ])
    }

    fn link(&self, page: i64) -> String {
        page_link(&self.query_string(), page)
    }
}

pub struct LicenceRow {
    pub id: i64,
    pub number: String,
    pub worker_id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub workplace_code: String,
    pub status: String,
    pub status_code: &'static str,
    pub applied_on: String,
    pub expires_on: String,
    pub days_to_expiry: String,
}

#[derive(Template)]
#[template(path = "licences.html")]
struct LicencesPage {
    l: Layout,
    f: LicenceFilters,
    statuses: Vec<Choice>,
    provinces: Vec<Choice>,
    rows: Vec<LicenceRow>,
    total: i64,
    page_of: String,
    prev: Option<String>,
    next: Option<String>,
    query: String,
    rules: LicensingRules,
    rules_form: Option<FormBox>,
}

async fn licences_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    f: LicenceFilters,
    failed: Option<(&FormMap, &ValidationErrors)>,
) -> PageResult {
    let i = ctx.i;
    let page = app.store.licences(p, &f.query(), today()).await.map_err(|e| store_err(ctx, e))?;
    let rules = app.store.licensing_rules().await?;
    let rows = page
        .items
        .iter()
        .map(|x| LicenceRow {
            id: x.id,
            number: x.number.clone().unwrap_or_default(),
            worker_id: x.worker.id,
            name_km: x.worker.name_km.clone(),
            name_latin: x.worker.name_latin.clone(),
            workplace_code: x.worker.workplace_code.clone(),
            status: i.t(&x.effective_status.label_key()),
            status_code: x.effective_status.code(),
            applied_on: x.applied_on.to_string(),
            expires_on: x.expires_on.map(|d| d.to_string()).unwrap_or_default(),
            days_to_expiry: x.days_to_expiry.map(|d| d.to_string()).unwrap_or_default(),
        })
        .collect();
    let rules_form = if p.may(Action::KeepTrainingCatalogue) {
        let mut current = FormMap::new();
        current.insert("term_years".into(), rules.term_years.to_string());
        current.insert("renewal_ce_hours".into(), rules.renewal_ce_hours.to_string());
        let none = no_errors();
        let (v, e) = failed.unwrap_or((&current, &none));
        let mut b = Fb::new(&i, "rules", v, e);
        b.add("term_years", "training.term_years", "number", true);
        b.add("renewal_ce_hours", "training.renewal_ce_hours", "number", true);
        Some(b.finish(i.t("training.licensing_rules"), "/licences/rules".into(), i.t("common.save")))
    } else {
        None
    };
    let statuses = vchoices(&i, LicenceStatus::ALL, LicenceStatus::code, LicenceStatus::label_key);
    let l = layout(ctx, "licences").await?;
    let view = LicencesPage {
        statuses: select_choices(&statuses, &f.status),
        provinces: province_choices(app, &i, p, &f.province).await?,
        rows,
        total: page.total,
        page_of: i.tp("common.page_of", &[("page", page.page.to_string()), ("pages", page.pages().to_string())]),
        prev: (page.page > 1).then(|| f.link(page.page - 1)),
        next: (page.page < page.pages()).then(|| f.link(page.page + 1)),
        query: f.query_string(),
        rules,
        rules_form,
        f,
        l,
    };
    if failed.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &view)
    } else {
        render(&view)
    }
}

impl LicencesPage {
    fn results(&self) -> String {
        self.l.i.tp("common.results", &[("total", self.total.to_string())])
    }
    fn rules_text(&self) -> String {
        self.l.i.tp(
            "training.rules_text",
            &[("years", self.rules.term_years.to_string()), ("hours", self.rules.renewal_ce_hours.to_string())],
        )
    }
}

async fn licences_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<LicenceFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    licences_view(&app, &ctx, &p, f, None).await
}

async fn export_licences(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<LicenceFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let rows = app.store.licence_export_rows(&p, &f.query(), today()).await.map_err(|e| store_err(&ctx, e))?;
    table_file("komlang-licences", format, LICENCE_EXPORT_COLUMNS, rows).await.map_err(|e| store_err(&ctx, e))
}

async fn set_rules(State(app): State<AppState>, ctx: Ctx, Form(form): Form<FormMap>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    let mut pre = no_errors();
    let term = integer(&form, "term_years", &mut pre);
    let hours = integer(&form, "renewal_ce_hours", &mut pre);
    if term.is_none() && pre.for_field("term_years").is_none() {
        pre.push(FieldError::new("term_years", "required"));
    }
    if hours.is_none() && pre.for_field("renewal_ce_hours").is_none() {
        pre.push(FieldError::new("renewal_ce_hours", "required"));
    }
    let result = match (term, hours) {
        (Some(t), Some(h)) if pre.is_empty() => app.store.set_licensing_rules(&p, t, h).await.map(|_| ()),
        _ => Err(StoreError::Invalid(pre)),
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/licences#rules").into_response())
        }
        Err(StoreError::Invalid(e)) => {
            licences_view(&app, &ctx, &p, LicenceFilters::default(), Some((&form, &e))).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

// ---------------------------------------------------------------------------------------------
// The certificate register
// ---------------------------------------------------------------------------------------------

/// Certificate register filters as they appear in the query string.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CertificateFilters {
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub programme: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub q: String,
    /// `valid`, `revoked` or empty.
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub page: String,
}

impl CertificateFilters {
    pub fn query(&self) -> CertificateQuery {
        CertificateQuery {
            level: CertificateLevel::parse(&self.level),
            programme_id: self.programme.trim().parse().ok(),
            from: date_of(&self.from),
            to: date_of(&self.to),
            province: trimmed(&self.province),
            district: None,
            q: trimmed(&self.q),
            valid: match self.state.trim() {
                "valid" => Some(true),
                "revoked" => Some(false),
                _ => None,
            },
            page: self.page.trim().parse().unwrap_or(1),
            per_page: 50,
        }
    }

    pub fn query_string(&self) -> String {
        query_string(&[
            ("level", &self.level),
            ("programme", &self.programme),
            ("from", &self.from),
            ("to", &self.to),
            ("province", &self.province),
            ("q", &self.q),
            ("state", &self.state),
        ])
    }

    fn link(&self, page: i64) -> String {
        page_link(&self.query_string(), page)
    }
}

pub struct CertificateLine {
    pub number: String,
    pub level: String,
    pub programme_code: String,
    pub issued_on: String,
    pub valid: bool,
    pub revoked_on: String,
    pub worker_id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub workplace_code: String,
}

#[derive(Template)]
#[template(path = "certificates.html")]
struct CertificatesPage {
    l: Layout,
    f: CertificateFilters,
    levels: Vec<Choice>,
    programmes: Vec<Choice>,
    provinces: Vec<Choice>,
    states: Vec<Choice>,
    rows: Vec<CertificateLine>,
    total: i64,
    page_of: String,
    prev: Option<String>,
    next: Option<String>,
    query: String,
}

impl CertificatesPage {
    fn results(&self) -> String {
        self.l.i.tp("common.results", &[("total", self.total.to_string())])
    }
}

async fn certificates_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<CertificateFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let page = app.store.certificates(&p, &f.query()).await.map_err(|e| store_err(&ctx, e))?;
    let rows = page
        .items
        .iter()
        .map(|r| CertificateLine {
            number: r.certificate.number.clone(),
            level: i.t(&r.certificate.level.label_key()),
            programme_code: r.certificate.programme_code.clone(),
            issued_on: r.certificate.issued_on.to_string(),
            valid: r.certificate.valid,
            revoked_on: r.certificate.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
            worker_id: r.holder.id,
            name_km: r.holder.name_km.clone(),
            name_latin: r.holder.name_latin.clone(),
            workplace_code: r.holder.workplace_code.clone(),
        })
        .collect();
    let levels = vchoices(&i, CertificateLevel::ALL, CertificateLevel::code, CertificateLevel::label_key);
    let programmes: Vec<(String, String)> = app
        .store
        .programmes()
        .await?
        .iter()
        .filter(|x| x.level != CertificateLevel::Continuing)
        .map(|x| (x.id.to_string(), format!("{} · {}", x.code, programme_title(&i, x))))
        .collect();
    let states = vec![("valid".to_string(), i.t("training.valid")), ("revoked".to_string(), i.t("training.revoked"))];
    let l = layout(&ctx, "training").await?;
    render(&CertificatesPage {
        levels: select_choices(&levels, &f.level),
        programmes: select_choices(&programmes, &f.programme),
        provinces: province_choices(&app, &i, &p, &f.province).await?,
        states: select_choices(&states, &f.state),
        rows,
        total: page.total,
        page_of: i.tp("common.page_of", &[("page", page.page.to_string()), ("pages", page.pages().to_string())]),
        prev: (page.page > 1).then(|| f.link(page.page - 1)),
        next: (page.page < page.pages()).then(|| f.link(page.page + 1)),
        query: f.query_string(),
        f,
        l,
    })
}

#[derive(Template)]
#[template(path = "certificate_print.html")]
struct CertificatePrint {
    l: Layout,
    c: komlang_store::CertificateRow,
    level: String,
    programme: String,
    institution: String,
    credits: String,
    /// Where anyone checks it.
    verify_path: String,
}

/// A certificate laid out for printing, for whoever sees its holder's record.
async fn print_certificate(State(app): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let Some(canonical) = normalize_number(NumberKind::Certificate, &number) else { return Err(ctx.not_found()) };
    let q = CertificateQuery { q: Some(canonical.clone()), page: 1, per_page: 5, ..Default::default() };
    let found = app.store.certificates(&p, &q).await.map_err(|e| store_err(&ctx, e))?;
    let Some(c) = found.items.into_iter().find(|r| r.certificate.number == canonical) else {
        return Err(ctx.not_found());
    };
    let institution = app
        .store
        .institutions()
        .await?
        .into_iter()
        .find(|x| x.code == c.certificate.institution_code)
        .map(|x| institution_view(&i, &x).name)
        .unwrap_or_else(|| c.certificate.institution_code.clone());
    let credits = match app.store.programme(c.certificate.programme_id).await? {
        Some(pr) => pr.credits_required.to_string(),
        None => String::new(),
    };
    let l = layout(&ctx, "training").await?;
    render(&CertificatePrint {
        level: i.t(&c.certificate.level.label_key()),
        programme: pick(&i, &c.certificate.programme_title_en, &c.certificate.programme_title_km),
        institution,
        credits,
        verify_path: format!("/verify/{}", c.certificate.number),
        c,
        l,
    })
}

async fn export_certificates(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<CertificateFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let rows = app.store.certificate_export_rows(&p, &f.query()).await.map_err(|e| store_err(&ctx, e))?;
    table_file("komlang-certificates", format, CERTIFICATE_EXPORT_COLUMNS, rows).await.map_err(|e| store_err(&ctx, e))
}

pub struct ActionRow {
    pub action: String,
    pub on_date: String,
    pub by_user: String,
    pub reason: String,
    pub ce_hours: String,
}

#[derive(Template)]
#[template(path = "licence.html")]
struct LicencePage {
    l: Layout,
    d: LicenceDetail,
    status: String,
    status_code: &'static str,
    stored_status: String,
    actions: Vec<ActionRow>,
    ce_hours: String,
    ce_percent: u32,
    decision_form: Option<FormBox>,
    can_renew: bool,
    renew_errors: Vec<String>,
}

enum LicenceFailure<'a> {
    None,
    Decision(&'a FormMap, &'a ValidationErrors),
    Renew(&'a ValidationErrors),
}

fn action_label(i: &I18n, code: &str) -> String {
    match code {
        "apply" => i.t("training.action_apply"),
        "renew" => i.t("training.action_renew"),
        other => i.code_label("licence_action", other),
    }
}

async fn licence_view(app: &AppState, ctx: &Ctx, p: &Principal, id: i64, failed: LicenceFailure<'_>) -> PageResult {
    let i = ctx.i;
    let d = app.store.licence(p, id, today()).await.map_err(|e| store_err(ctx, e))?;
    let decide = p.may(Action::DecideLicence);
    let effective = effective_status(d.licence.status, d.licence.expires_on, today());
    let allowed: Vec<(String, String)> = LicenceAction::ALL
        .iter()
        .filter(|a| a.apply(effective).is_ok())
        .map(|a| (a.code().to_string(), i.t(&a.label_key())))
        .collect();
    let decision_form = if decide && !allowed.is_empty() {
        let empty = FormMap::new();
        let none = no_errors();
        let (v, e) = match &failed {
            LicenceFailure::Decision(v, e) => (*v, *e),
            _ => (&empty, &none),
        };
        let mut b = Fb::new(&i, "decision", v, e);
        b.select("action", "training.decision_action", &allowed, true);
        b.add("reason", "training.reason", "textarea", false).hint = i.t("training.reason_hint");
        Some(b.finish(i.t("training.decide"), format!("/licences/{id}/decision"), i.t("common.save")))
    } else {
        None
    };
    let renew_errors = match &failed {
        LicenceFailure::Renew(e) => messages(&i, e),
        _ => Vec::new(),
    };
    let actions = d
        .actions
        .iter()
        .map(|a| ActionRow {
            action: action_label(&i, &a.action),
            on_date: a.on_date.to_string(),
            by_user: a.by_user.clone(),
            reason: a.reason.clone().unwrap_or_default(),
            ce_hours: a.ce_hours.map(num).unwrap_or_default(),
        })
        .collect();
    let ce_percent = if d.ce_hours_required == 0 {
        100
    } else {
        ((d.ce_hours_in_term / d.ce_hours_required as f64) * 100.0).clamp(0.0, 100.0) as u32
    };
    let status = if matches!(failed, LicenceFailure::None) { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let l = layout(ctx, "licences").await?;
    render_status(
        status,
        &LicencePage {
            status: i.t(&effective.label_key()),
            status_code: effective.code(),
            stored_status: if effective != d.licence.status {
                i.t(&d.licence.status.label_key())
            } else {
                String::new()
            },
            actions,
            ce_hours: num(d.ce_hours_in_term),
            ce_percent,
            decision_form,
            can_renew: decide && d.licence.status == LicenceStatus::Active,
            renew_errors,
            d,
            l,
        },
    )
}

async fn licence_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    licence_view(&app, &ctx, &p, id, LicenceFailure::None).await
}

async fn decide_licence(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<FormMap>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf_of(&form))?;
    let input = DecisionInput { action: val(&form, "action"), reason: trimmed(&val(&form, "reason")) };
    match app.store.decide_licence(&p, id, &input, today()).await {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/licences/{id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => licence_view(&app, &ctx, &p, id, LicenceFailure::Decision(&form, &e)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

async fn renew_licence(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    match app.store.renew_licence(&p, id, today()).await {
        Ok(_) => {
            flash(&ctx, "training.licence_renewed").await?;
            Ok(Redirect::to(&format!("/licences/{id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => licence_view(&app, &ctx, &p, id, LicenceFailure::Renew(&e)).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}

// ---------------------------------------------------------------------------------------------
// Public pages: certificate verification and the licence register
// ---------------------------------------------------------------------------------------------

pub struct PublicCertView {
    pub number: String,
    pub valid: bool,
    pub holder_name_km: String,
    pub holder_name_latin: String,
    pub level: String,
    pub programme: String,
    pub institution: String,
    pub issued_on: String,
    pub revoked_on: String,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    l: Layout,
    number: String,
    cert: Option<PublicCertView>,
    not_found: bool,
}

#[derive(Debug, Default, Deserialize)]
struct NumberParam {
    #[serde(default)]
    number: String,
}

async fn verify_form(ctx: Ctx, Query(q): Query<NumberParam>) -> PageResult {
    let typed = q.number.trim().to_string();
    if !typed.is_empty() {
        if let Some(n) = normalize_number(NumberKind::Certificate, &typed) {
            return Ok(Redirect::to(&format!("/verify/{n}")).into_response());
        }
    }
    let l = layout(&ctx, "verify").await?;
    let not_found = !typed.is_empty();
    let page = VerifyPage { l, number: typed, cert: None, not_found };
    if not_found {
        render_status(StatusCode::NOT_FOUND, &page)
    } else {
        render(&page)
    }
}

async fn verify_page(State(app): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> PageResult {
    let i = ctx.i;
    let found = app.store.public_certificate(&number).await?;
    let l = layout(&ctx, "verify").await?;
    match found {
        Some(c) => {
            let institution = app
                .store
                .institutions()
                .await?
                .iter()
                .find(|x| x.code == c.institution_code)
                .map(|x| format!("{} ({})", institution_view(&i, x).name, x.code))
                .unwrap_or_else(|| c.institution_code.clone());
            let view = PublicCertView {
                number: c.number.clone(),
                valid: c.valid,
                holder_name_km: c.holder_name_km.clone(),
                holder_name_latin: c.holder_name_latin.clone(),
                level: i.t(&c.level.label_key()),
                programme: if c.programme_title_km.is_empty() {
                    c.programme_title_en.clone()
                } else {
                    pick(&i, &c.programme_title_en, &c.programme_title_km)
                },
                institution,
                issued_on: c.issued_on.to_string(),
                revoked_on: c.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
            };
            render(&VerifyPage { l, number: c.number, cert: Some(view), not_found: false })
        }
        None => render_status(StatusCode::NOT_FOUND, &VerifyPage { l, number, cert: None, not_found: true }),
    }
}

pub struct RegisterRow {
    pub number: String,
    pub name_km: String,
    pub name_latin: String,
    pub expires_on: String,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    l: Layout,
    q: String,
    searched: bool,
    too_short: bool,
    rows: Vec<RegisterRow>,
}

#[derive(Debug, Default, Deserialize)]
struct RegisterParam {
    #[serde(default)]
    q: String,
}

async fn register_page(State(app): State<AppState>, ctx: Ctx, Query(q): Query<RegisterParam>) -> PageResult {
    let text = q.q.trim().to_string();
    let too_short = !text.is_empty() && text.chars().count() < 2;
    let searched = !text.is_empty() && !too_short;
    let rows = if searched {
        app.store
            .public_register(&text, today())
            .await?
            .into_iter()
            .map(|x| RegisterRow {
                number: x.number,
                name_km: x.name_km,
                name_latin: x.name_latin,
                expires_on: x.expires_on.to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let l = layout(&ctx, "register").await?;
    render(&RegisterPage { l, q: text, searched, too_short, rows })
}
