//! The training catalogue: the hub (institutions, programmes, modules and courses), a
//! programme's page, and adding to the catalogue (national administrators).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::training::{CertificateLevel, CourseInput, InstitutionInput, InstitutionKind, ProgrammeInput};
use komlang_core::*;
use komlang_store::{Course, Institution, Programme, StoreError};

use serde::{Deserialize, Serialize};

use super::shared::{hours_fields, hours_of, programme_title, HoursForm};
use crate::common::form_box::{integer, no_errors, num, values_of, vchoices, Fb, FormBox, FormMap};
use crate::common::names::pick;
use crate::common::{flash, layout, render, render_status, store_err, Ctx, I18n, Layout, PageResult};
use crate::AppState;

/// The form of an institution, as posted.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct InstitutionForm {
    pub csrf: String,
    /// The record's version and values when the form was opened (changing a record).
    #[serde(skip_serializing)]
    pub record_version: String,
    #[serde(skip_serializing)]
    pub base: String,
    pub code: String,
    pub name_en: String,
    pub name_km: String,
    pub kind: String,
}

/// The form of a programme, as posted (numbers as typed).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct ProgrammeForm {
    pub csrf: String,
    /// The record's version and values when the form was opened (changing a record).
    #[serde(skip_serializing)]
    pub record_version: String,
    #[serde(skip_serializing)]
    pub base: String,
    pub code: String,
    pub title_en: String,
    pub title_km: String,
    pub level: String,
    pub institution_id: String,
    pub credits_required: String,
}

/// The form of a course or module, as posted (numbers as typed); `back` is `programme` when
/// posted from a programme's page.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct CourseForm {
    pub csrf: String,
    /// The record's version and values when the form was opened (changing a record).
    #[serde(skip_serializing)]
    pub record_version: String,
    #[serde(skip_serializing)]
    pub base: String,
    pub programme_id: String,
    pub back: String,
    pub code: String,
    pub title_en: String,
    pub title_km: String,
    #[serde(flatten)]
    pub hours: HoursForm,
    pub competencies: String,
}

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
    pub teaching: String,
    pub lab: String,
    pub field: String,
    pub credits: String,
    /// (code, name) of the competencies covered.
    pub competencies: Vec<(String, String)>,
}

pub(super) fn institution_view(i: &I18n, x: &Institution) -> InstitutionView {
    InstitutionView {
        id: x.id,
        code: x.code.clone(),
        name: if x.name_km.is_empty() { x.name_en.clone() } else { pick(i, &x.name_en, &x.name_km) },
        kind: i.t(&x.kind.label_key()),
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

fn course_view(i: &I18n, fw: &competency::Framework, c: &Course) -> CourseView {
    CourseView {
        id: c.id,
        code: c.code.clone(),
        title: if c.title_km.is_empty() { c.title_en.clone() } else { pick(i, &c.title_en, &c.title_km) },
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

pub(super) fn institution_form(i: &I18n, values: &FormMap, errors: &ValidationErrors) -> FormBox {
    let mut b = Fb::new(i, "institution", values, errors);
    b.add("code", "training.code", "text", true).hint = i.t("training.code_hint");
    b.add("name_en", "training.name_en", "text", true);
    b.add("name_km", "training.name_km", "text", false);
    let kinds = vchoices(i, InstitutionKind::ALL, InstitutionKind::code, InstitutionKind::label_key);
    b.select("kind", "training.institution_kind", &kinds, true);
    b.finish(i.t("training.add_institution"), "/training/institutions".into(), i.t("common.create"))
}

pub(super) fn programme_form(
    i: &I18n,
    institutions: &[Institution],
    values: &FormMap,
    errors: &ValidationErrors,
) -> FormBox {
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
pub(super) fn course_form(
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
    hours_fields(&mut b);
    b.add("competencies", "training.competencies", "text", false).hint = i.t("training.competencies_hint");
    let title = if programme.is_some() { i.t("training.add_module") } else { i.t("training.add_course") };
    b.finish(title, "/training/courses".into(), i.t("common.create"))
}

#[derive(Template)]
#[template(path = "training/hub.html")]
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

pub(super) async fn hub(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    hub_view(&app, &ctx, &p, None).await
}

pub(super) async fn create_institution(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(form): Form<InstitutionForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    match app.store.create_institution(&p, &institution_input(&form)).await {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/training#institutions").into_response())
        }
        Err(StoreError::Invalid(e)) => {
            hub_view(&app, &ctx, &p, Some((HubForm::Institution, &values_of(&form), &e))).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

pub(super) async fn create_programme(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(form): Form<ProgrammeForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let mut pre = no_errors();
    let input = programme_input(&form, &mut pre);
    let result =
        if pre.is_empty() { app.store.create_programme(&p, &input).await } else { Err(StoreError::Invalid(pre)) };
    match result {
        Ok(pr) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/training/programmes/{}", pr.id)).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            hub_view(&app, &ctx, &p, Some((HubForm::Programme, &values_of(&form), &e))).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Template)]
#[template(path = "training/programme.html")]
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

pub(super) async fn programme_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(pr) = app.store.programme(id).await? else { return Err(ctx.not_found()) };
    programme_view_page(&app, &ctx, &p, &pr, None).await
}

pub(super) async fn create_course(State(app): State<AppState>, ctx: Ctx, Form(form): Form<CourseForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
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
                Some(pid) if form.back.trim() == "programme" => app.store.programme(pid).await?,
                _ => None,
            };
            let values = values_of(&form);
            match programme {
                Some(pr) => programme_view_page(&app, &ctx, &p, &pr, Some((&values, &e))).await,
                None => hub_view(&app, &ctx, &p, Some((HubForm::Course, &values, &e))).await,
            }
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

pub(super) fn institution_input(form: &InstitutionForm) -> InstitutionInput {
    InstitutionInput {
        code: form.code.trim().to_string(),
        name_en: form.name_en.trim().to_string(),
        name_km: form.name_km.trim().to_string(),
        kind: form.kind.trim().to_string(),
    }
}

pub(super) fn programme_input(form: &ProgrammeForm, pre: &mut ValidationErrors) -> ProgrammeInput {
    let credits = integer("credits_required", &form.credits_required, pre);
    let credits_required = match credits {
        Some(c) if !(0..=400).contains(&c) => {
            pre.push(FieldError::new("credits_required", "out_of_range").with("min", 0).with("max", 400));
            None
        }
        c => c.map(|c| c as u32),
    };
    ProgrammeInput {
        code: form.code.trim().to_string(),
        title_en: form.title_en.trim().to_string(),
        title_km: form.title_km.trim().to_string(),
        level: form.level.trim().to_string(),
        institution_id: integer("institution_id", &form.institution_id, pre).unwrap_or(0),
        credits_required,
    }
}

pub(super) fn course_input(form: &CourseForm, pre: &mut ValidationErrors) -> CourseInput {
    let programme_id = integer("programme_id", &form.programme_id, pre);
    let hours = hours_of(&form.hours, pre).unwrap_or_default();
    let competencies = form
        .competencies
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    CourseInput {
        code: form.code.trim().to_string(),
        title_en: form.title_en.trim().to_string(),
        title_km: form.title_km.trim().to_string(),
        programme_id,
        hours,
        competencies,
    }
}
