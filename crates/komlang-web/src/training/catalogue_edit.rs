//! Changing an institution, a programme or a module of the catalogue (national administrators).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::*;
use komlang_store::{Course, Institution, Programme, StoreError};

use super::catalogue::{
    course_form, course_input, institution_form, institution_input, programme_form, programme_input, CourseForm,
    InstitutionForm, ProgrammeForm,
};
use crate::common::conflict::{as_sent, opened_at, stale_form};
use crate::common::form_box::{no_errors, num, values_of, FormBox, FormMap};
use crate::common::versions::{form_version, VERSION_FIELD};
use crate::common::{flash, layout, render, render_status, store_err, Ctx, Layout, PageError, PageResult};
use crate::AppState;

#[derive(Template)]
#[template(path = "training/edit.html")]
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
    fn version(&self) -> i64 {
        match self {
            Editing::Institution(x) => x.version,
            Editing::Programme(x) => x.version,
            Editing::Course(x) => x.version,
        }
    }

    /// The audit log's name of the record and its id.
    fn audited(&self) -> (&'static str, String) {
        match self {
            Editing::Institution(x) => ("training_institution", x.id.to_string()),
            Editing::Programme(x) => ("training_programme", x.id.to_string()),
            Editing::Course(x) => ("training_course", x.id.to_string()),
        }
    }

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

/// How the form is shown: as opened, sent back with problems, or sent against a record that
/// someone else changed meanwhile (with the form as sent).
enum Shown<'a> {
    Opened,
    Failed(&'a FormMap, &'a ValidationErrors),
    Stale(&'a FormMap),
}

async fn edit_view(app: &AppState, ctx: &Ctx, editing: &Editing, shown: Shown<'_>) -> PageResult {
    let i = ctx.i;
    let current = editing.values();
    let none = no_errors();
    let (values, errors) = match shown {
        Shown::Failed(values, errors) => (values, errors),
        _ => (&current, &none),
    };
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
    let status = match shown {
        Shown::Opened => {
            fb.edit = opened_at(editing.version(), &fb.fields);
            StatusCode::OK
        }
        Shown::Failed(sent, _) => {
            fb.edit = as_sent(sent);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Shown::Stale(sent) => {
            let (entity, key) = editing.audited();
            fb.edit = stale_form(app, &i, entity, &key, editing.version(), &mut fb.fields, sent, back.clone()).await?;
            StatusCode::CONFLICT
        }
    };
    let l = layout(ctx, "training").await?;
    let page = EditPage { l, title, back, fb };
    if status == StatusCode::OK {
        render(&page)
    } else {
        render_status(status, &page)
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

pub(super) async fn edit_institution(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let e = editing(&app, &ctx, "institution", id).await?;
    edit_view(&app, &ctx, &e, Shown::Opened).await
}

pub(super) async fn edit_programme(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let e = editing(&app, &ctx, "programme", id).await?;
    edit_view(&app, &ctx, &e, Shown::Opened).await
}

pub(super) async fn edit_course(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let e = editing(&app, &ctx, "course", id).await?;
    edit_view(&app, &ctx, &e, Shown::Opened).await
}

/// The changed record's form, as posted.
enum Submitted {
    Institution(InstitutionForm),
    Programme(ProgrammeForm),
    Course(CourseForm),
}

impl Submitted {
    fn csrf(&self) -> &str {
        match self {
            Submitted::Institution(f) => &f.csrf,
            Submitted::Programme(f) => &f.csrf,
            Submitted::Course(f) => &f.csrf,
        }
    }

    fn values(&self) -> FormMap {
        match self {
            Submitted::Institution(f) => values_of(f),
            Submitted::Programme(f) => values_of(f),
            Submitted::Course(f) => values_of(f),
        }
    }

    /// The form as sent, with the version and values it was opened with.
    fn sent(&self) -> FormMap {
        let (version, base) = match self {
            Submitted::Institution(f) => (&f.record_version, &f.base),
            Submitted::Programme(f) => (&f.record_version, &f.base),
            Submitted::Course(f) => (&f.record_version, &f.base),
        };
        let mut v = self.values();
        v.insert(VERSION_FIELD.into(), version.clone());
        v.insert("base".into(), base.clone());
        v
    }
}

/// Saves a changed institution, programme or course; the form again, with its problems, when refused.
async fn save_edit(app: &AppState, ctx: &Ctx, kind: &str, id: i64, submitted: &Submitted) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(submitted.csrf())?;
    let e = editing(app, ctx, kind, id).await?;
    let sent = submitted.sent();
    let expected = form_version(sent.get(VERSION_FIELD).map(String::as_str));
    let mut pre = no_errors();
    let result = match submitted {
        Submitted::Institution(form) => {
            app.store.update_institution(&p, id, &institution_input(form), expected).await.map(|_| ())
        }
        Submitted::Programme(form) => {
            let input = programme_input(form, &mut pre);
            if pre.is_empty() {
                app.store.update_programme(&p, id, &input, expected).await.map(|_| ())
            } else {
                Err(StoreError::Invalid(pre))
            }
        }
        Submitted::Course(form) => {
            let input = course_input(form, &mut pre);
            if pre.is_empty() {
                app.store.update_course(&p, id, &input, expected).await.map(|_| ())
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
        Err(StoreError::Invalid(errs)) => edit_view(app, ctx, &e, Shown::Failed(&sent, &errs)).await,
        Err(StoreError::Stale { .. }) => {
            // Shown again on the record as it is now, with this form's changes on top.
            let now = editing(app, ctx, kind, id).await?;
            edit_view(app, ctx, &now, Shown::Stale(&sent)).await
        }
        Err(other) => Err(store_err(ctx, other)),
    }
}

pub(super) async fn update_institution(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<InstitutionForm>,
) -> PageResult {
    save_edit(&app, &ctx, "institution", id, &Submitted::Institution(form)).await
}

pub(super) async fn update_programme(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<ProgrammeForm>,
) -> PageResult {
    save_edit(&app, &ctx, "programme", id, &Submitted::Programme(form)).await
}

pub(super) async fn update_course(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<CourseForm>,
) -> PageResult {
    save_edit(&app, &ctx, "course", id, &Submitted::Course(form)).await
}
