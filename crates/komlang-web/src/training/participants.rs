//! One training event with its participants: finding and adding workers, attendance and
//! results, passing every pending participant, removing one.

use std::collections::HashSet;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::training::{AttendanceInput, TrainingResult};
use komlang_core::*;
use komlang_store::{StoreError, TrainingEvent};
use serde::Deserialize;

use super::events::{runnable_event, visible_event};
use super::shared::{course_title, hours_of, HoursForm};
use crate::common::conflict::changed_meanwhile;
use crate::common::form_box::{count, messages, no_errors, num, select_choices, typed_with_list, vchoices};
use crate::common::names::pick;
use crate::common::versions::form_version;
use crate::common::{flash, layout, render_status, store_err, Choice, CsrfForm, Ctx, Layout, PageResult};
use crate::AppState;

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
    /// The participant's record version, which the row's forms send back.
    pub version: i64,
}

#[derive(Template)]
#[template(path = "training/event.html")]
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
pub(super) struct FindParam {
    #[serde(default)]
    pub(super) find: String,
}

enum EventFailure<'a> {
    None,
    Add(&'a str, &'a ValidationErrors),
    Attendance(i64, &'a AttendanceForm, &'a ValidationErrors),
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
                    f_days = form.days_attended.trim().to_string();
                    f_teaching = form.hours.teaching.trim().to_string();
                    f_lab = form.hours.lab.trim().to_string();
                    f_field = form.hours.field.trim().to_string();
                    f_result = form.result.trim().to_string();
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
                version: x.version,
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

pub(super) async fn event_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(f): Query<FindParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    event_view_finding(&app, &ctx, &p, id, EventFailure::None, &f.find).await
}

pub(super) async fn pass_pending(
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

/// The form adding participants, as posted, but for the workers ticked in the search results
/// (`worker_id`, repeated).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AddParticipantsForm {
    pub csrf: String,
    /// Ids typed in.
    pub worker_ids: String,
}

/// The attendance and result of one participant, as posted (numbers as typed).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct AttendanceForm {
    pub csrf: String,
    /// The participant's version when the page was opened.
    #[serde(skip_serializing)]
    pub record_version: String,
    pub days_attended: String,
    #[serde(flatten)]
    pub hours: HoursForm,
    pub result: String,
}

pub(super) async fn add_participants(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let (form, ticked): (AddParticipantsForm, _) = typed_with_list(pairs, "worker_id");
    ctx.check_csrf(&form.csrf)?;
    runnable_event(&app, &ctx, &p, id).await?;
    // Ids typed in `worker_ids`, and the workers ticked in the search results (`worker_id`).
    let ticked = ticked.iter().map(|v| v.trim());
    let text =
        std::iter::once(form.worker_ids.trim()).chain(ticked).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
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

pub(super) async fn record_attendance(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((id, worker_id)): Path<(i64, i64)>,
    Form(form): Form<AttendanceForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    runnable_event(&app, &ctx, &p, id).await?;
    let mut pre = no_errors();
    let days_attended = count("days_attended", &form.days_attended, &mut pre);
    let input = AttendanceInput {
        days_attended,
        hours: hours_of(&form.hours, &mut pre),
        result: form.result.trim().to_string(),
    };
    let result = if pre.is_empty() {
        app.store.record_attendance(&p, id, worker_id, &input, form_version(Some(&form.record_version))).await
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
        Err(StoreError::Stale { .. }) => {
            // The row shows what is saved now beside the user's entry, kept in its form.
            let e = changed_meanwhile(&app, "training_participant", &format!("{id}/{worker_id}")).await?;
            event_view(&app, &ctx, &p, id, EventFailure::Attendance(worker_id, &form, &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

pub(super) async fn remove_participant(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((id, worker_id)): Path<(i64, i64)>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    app.store.remove_participant(&p, id, worker_id, f.record_version).await.map_err(|e| store_err(&ctx, e))?;
    flash(&ctx, "common.deleted").await?;
    Ok(Redirect::to(&format!("/training/events/{id}#participants")).into_response())
}
