//! Training events: the list with filters and export, adding and changing an event (accounts
//! that run training, for places in their area).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::training::EventInput;
use komlang_core::*;
use komlang_store::{Course, EventQuery, Institution, Page, StoreError, TrainingEvent, EVENT_EXPORT_COLUMNS};
use serde::{Deserialize, Serialize};

use super::catalogue::institution_view;
use super::shared::{course_title, hours_fields, hours_of, hours_values, HoursForm};
use crate::common::conflict::{as_sent, opened_at, stale_form};
use crate::common::export::{export_format, page_download, FormatParam};
use crate::common::form_box::{integer, no_errors, query_string, values_of, Fb, FormBox, FormMap};
use crate::common::names::pick;
use crate::common::pagination::page_link;
use crate::common::versions::{form_version, VERSION_FIELD};
use crate::common::{
    flash, layout, render, render_status, store_err, today, Choice, Ctx, I18n, Layout, PageError, PageResult,
};
use crate::AppState;

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

pub(super) fn date_of(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

impl EventFilters {
    pub fn query(&self) -> EventQuery {
        EventQuery {
            from: date_of(&self.from),
            to: date_of(&self.to),
            place: self.place.non_blank().map(str::to_string),
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
        place: pick(i, &e.place_name_en, &e.place_name_km),
        place_code: e.place_code.clone(),
        participants: e.participants,
        passed: e.passed,
    }
}

#[derive(Template)]
#[template(path = "training/events.html")]
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

pub(super) async fn events_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<EventFilters>) -> PageResult {
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

pub(super) async fn export_events(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<EventFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let rows = app.store.event_export_rows(&p, &f.query()).await.map_err(|e| store_err(&ctx, e))?;
    page_download(&ctx, "komlang-training-events", format, EVENT_EXPORT_COLUMNS, rows).await
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
    hours_fields(&mut b);
    if let Some(f) = b.fields.iter_mut().find(|f| f.name == "hours.teaching") {
        f.hint = i.t("training.event_hours_hint");
    }
    b.finish(title, action, i.t("common.save"))
}

/// The form of a training event, as posted (numbers and dates as typed).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct EventForm {
    csrf: String,
    /// The event's version and values when the form was opened (changing an event).
    #[serde(skip_serializing)]
    record_version: String,
    #[serde(skip_serializing)]
    base: String,
    course_id: String,
    institution_id: String,
    starts_on: String,
    ends_on: String,
    place_code: String,
    #[serde(deserialize_with = "crate::common::forms::non_blank")]
    venue: Option<String>,
    #[serde(deserialize_with = "crate::common::forms::non_blank")]
    trainers: Option<String>,
    #[serde(flatten)]
    hours: HoursForm,
}

fn event_input(form: &EventForm) -> (EventInput, ValidationErrors) {
    let mut errs = no_errors();
    let input = EventInput {
        course_id: integer("course_id", &form.course_id, &mut errs).unwrap_or(0),
        institution_id: integer("institution_id", &form.institution_id, &mut errs),
        starts_on: form.starts_on.trim().to_string(),
        ends_on: form.ends_on.trim().to_string(),
        place_code: form.place_code.trim().to_string(),
        venue: form.venue.clone(),
        trainers: form.trainers.clone(),
        hours: hours_of(&form.hours, &mut errs),
    };
    (input, errs)
}

#[derive(Template)]
#[template(path = "training/event_form.html")]
struct EventFormPage {
    l: Layout,
    title: String,
    fb: FormBox,
}

/// Which event form is shown.
enum EventEdit<'a> {
    /// A new event's.
    New,
    /// A stored event's, at this version.
    Opened(i64),
    /// Sent back with problems (the form as sent).
    Failed(&'a FormMap),
    /// Sent against an event someone else changed meanwhile (now at this version).
    Stale(i64, &'a FormMap),
}

/// The event form; `action` is also where "cancel" leads.
async fn show_event_form(
    app: &AppState,
    ctx: &Ctx,
    values: &FormMap,
    errors: &ValidationErrors,
    action: String,
    title: String,
    edit: EventEdit<'_>,
) -> PageResult {
    let courses = app.store.courses(None).await?;
    let institutions = app.store.institutions().await?;
    let mut fb = event_form(&ctx.i, &courses, &institutions, values, errors, action.clone(), title);
    let status = match edit {
        EventEdit::New if errors.is_empty() => StatusCode::OK,
        EventEdit::New => StatusCode::UNPROCESSABLE_ENTITY,
        EventEdit::Opened(version) => {
            fb.edit = opened_at(version, &fb.fields);
            StatusCode::OK
        }
        EventEdit::Failed(sent) => {
            fb.edit = as_sent(sent);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        EventEdit::Stale(version, sent) => {
            let id = action.rsplit('/').next().unwrap_or_default().to_string();
            fb.edit =
                stale_form(app, &ctx.i, "training_event", &id, version, &mut fb.fields, sent, action.clone()).await?;
            StatusCode::CONFLICT
        }
    };
    let l = layout(ctx, "training").await?;
    let title = std::mem::take(&mut fb.title);
    fb.cancel = action;
    let page = EventFormPage { l, title, fb };
    if status == StatusCode::OK {
        render(&page)
    } else {
        render_status(status, &page)
    }
}

/// An event's values as its form shows them.
fn event_values(ev: &TrainingEvent) -> FormMap {
    let mut values = FormMap::new();
    values.insert("course_id".into(), ev.course_id.to_string());
    values.insert("institution_id".into(), ev.institution_id.map(|x| x.to_string()).unwrap_or_default());
    values.insert("starts_on".into(), ev.starts_on.to_string());
    values.insert("ends_on".into(), ev.ends_on.to_string());
    values.insert("place_code".into(), ev.place_code.clone());
    values.insert("venue".into(), ev.venue.clone().unwrap_or_default());
    values.insert("trainers".into(), ev.trainers.clone().unwrap_or_default());
    hours_values(&mut values, &ev.hours);
    values
}

pub(super) async fn new_event(State(app): State<AppState>, ctx: Ctx) -> PageResult {
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
        EventEdit::New,
    )
    .await
}

pub(super) async fn create_event(State(app): State<AppState>, ctx: Ctx, Form(form): Form<EventForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
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
                &values_of(&form),
                &e,
                "/training/events".into(),
                ctx.i.t("training.new_event"),
                EventEdit::New,
            )
            .await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

/// The event, if the caller sees events and this one (404 otherwise).
pub(super) async fn visible_event(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
) -> Result<TrainingEvent, PageError> {
    app.store.training_event(p, id).await.map_err(|e| store_err(ctx, e))?.ok_or_else(|| ctx.not_found())
}

/// The event, if the caller may also run it (403 otherwise).
pub(super) async fn runnable_event(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
) -> Result<TrainingEvent, PageError> {
    app.store.runnable_event(p, id).await.map_err(|e| store_err(ctx, e))
}

pub(super) async fn edit_event(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let ev = runnable_event(&app, &ctx, &p, id).await?;
    show_event_form(
        &app,
        &ctx,
        &event_values(&ev),
        &no_errors(),
        format!("/training/events/{id}"),
        ctx.i.t("training.edit_event"),
        EventEdit::Opened(ev.version),
    )
    .await
}

pub(super) async fn update_event(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<EventForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    runnable_event(&app, &ctx, &p, id).await?;
    let (input, pre) = event_input(&form);
    let mut sent = values_of(&form);
    sent.insert(VERSION_FIELD.into(), form.record_version.clone());
    sent.insert("base".into(), form.base.clone());
    let result = if pre.is_empty() {
        app.store.update_training_event(&p, id, &input, form_version(Some(&form.record_version))).await
    } else {
        Err(StoreError::Invalid(pre))
    };
    let (action, title) = (format!("/training/events/{id}"), ctx.i.t("training.edit_event"));
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/training/events/{id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            show_event_form(&app, &ctx, &sent, &e, action, title, EventEdit::Failed(&sent)).await
        }
        Err(StoreError::Stale { .. }) => {
            // Shown again on the event as it is now, with this form's changes on top.
            let now = runnable_event(&app, &ctx, &p, id).await?;
            let values = event_values(&now);
            show_event_form(&app, &ctx, &values, &no_errors(), action, title, EventEdit::Stale(now.version, &sent))
                .await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}
