//! `POST /field/changes`: one change queued on a device while it had no connection, sent when
//! the connection returned, in the order it was made. Each names the version of the record it
//! was made on; the answer says whether it was saved (with the record as saved, and its new
//! version), refused (with the same field problems as the pages, in the account's language) or
//! in conflict (someone else changed the record meanwhile: each field either side changed, and
//! the record with the user's changes on top, for the user to send again or drop). A change sent
//! again with the same id (its answer was lost on the way) is answered again, not made twice.
//! The signed-in session's CSRF token comes in the `X-CSRF-Token` header.

use std::collections::HashMap;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::competency::{AssessmentInput, AssessmentKind, RatingInput};
use komlang_core::training::{AttendanceInput, Hours};
use komlang_core::validate::WorkerInput;
use komlang_core::*;
use komlang_store::{StoreError, WorkerChange};
use serde::Deserialize;
use serde_json::{json, Value};

use super::data::{FieldParticipant, FieldWorker};
use crate::common::conflict::merge;
use crate::common::form_box::count;
use crate::common::{today, Ctx, I18n, PageError};
use crate::AppState;

/// One queued change.
#[derive(Debug, Deserialize)]
pub(super) struct FieldChange {
    /// Made by the device, unique among the account's changes.
    id: String,
    /// `add_worker`, `update_worker`, `attendance` or `self_assessment`.
    kind: String,
    #[serde(default)]
    worker_id: Option<i64>,
    #[serde(default)]
    event_id: Option<i64>,
    /// The version of the record the change was made on (none for a new record).
    #[serde(default)]
    version: Option<i64>,
    /// The fields changed, as text.
    #[serde(default)]
    fields: HashMap<String, String>,
    /// The same fields as they were when the change was made (to show what changed meanwhile).
    #[serde(default)]
    base: HashMap<String, String>,
}

/// The fields a device may change of a worker: contact details and status.
const WORKER_FIELDS: &[&str] = &["phone", "email", "status"];
/// The fields of a new worker.
pub(super) const NEW_WORKER_FIELDS: &[&str] = &[
    "name_km",
    "name_latin",
    "sex",
    "date_of_birth",
    "national_id",
    "phone",
    "email",
    "cadre",
    "role",
    "sector",
    "workplace_code",
    "status",
    "start_date",
];

fn answer(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn refused(i: &I18n, errs: &ValidationErrors) -> Value {
    let errors: Vec<Value> =
        errs.errors.iter().map(|e| json!({"field": e.field, "message": i.field_error(e)})).collect();
    json!({"state": "refused", "errors": errors})
}

fn refused_with(message: String) -> Value {
    json!({"state": "refused", "errors": [{"field": "", "message": message}]})
}

pub(super) async fn apply_change(
    State(app): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let p = ctx.require()?.clone();
    // The token before the body: nothing of a forged request is read.
    let token = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
    ctx.check_csrf(token)?;
    let i = ctx.i;
    let change: FieldChange = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(e) => return Ok(answer(StatusCode::BAD_REQUEST, refused_with(format!("not a change: {e}")))),
    };
    if change.id.is_empty() || change.id.len() > 100 {
        return Ok(answer(StatusCode::BAD_REQUEST, refused_with("a change needs an id of 1 to 100 characters".into())));
    }
    if let Some(given) = app.store.field_change_answer(p.user_id, &change.id).await? {
        return Ok(answer(StatusCode::OK, given));
    }
    let (status, body) = match change.kind.as_str() {
        "add_worker" => add_worker(&app, &p, &i, &change).await?,
        "update_worker" => update_worker(&app, &p, &i, &change).await?,
        "attendance" => attendance(&app, &p, &i, &change).await?,
        "self_assessment" => self_assessment(&app, &p, &i, &change).await?,
        other => (StatusCode::BAD_REQUEST, refused_with(format!("unknown kind of change `{other}`"))),
    };
    if body["state"] == "saved" {
        app.store.keep_field_change_answer(p.user_id, &change.id, &body).await?;
    }
    Ok(answer(status, body))
}

/// A refusal the account can read: field problems, or why the record cannot be reached.
fn refusal(i: &I18n, e: StoreError) -> Result<(StatusCode, Value), PageError> {
    match e {
        StoreError::Invalid(errs) => Ok((StatusCode::UNPROCESSABLE_ENTITY, refused(i, &errs))),
        StoreError::NotFound => Ok((StatusCode::NOT_FOUND, refused_with(i.t("common.not_found")))),
        StoreError::Forbidden => Ok((StatusCode::FORBIDDEN, refused_with(i.t("common.forbidden")))),
        other => Err(other.into()),
    }
}

fn only(fields: &HashMap<String, String>, allowed: &[&str]) -> Result<(), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    for k in fields.keys().filter(|k| !allowed.contains(&k.as_str())) {
        errs.push(FieldError::new(k, "not_editable"));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

/// The fields as a worker's input (the caller has checked which fields are sent: no `org_id`).
fn worker_input(fields: &HashMap<String, String>) -> WorkerInput {
    WorkerInput::from_text(|k| fields.get(k).cloned()).0
}

async fn add_worker(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    c: &FieldChange,
) -> Result<(StatusCode, Value), PageError> {
    if let Err(errs) = only(&c.fields, NEW_WORKER_FIELDS) {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, refused(i, &errs)));
    }
    match app.store.create_worker(p, &worker_input(&c.fields), today()).await {
        Ok(w) => Ok((StatusCode::OK, json!({"state": "saved", "worker": FieldWorker::of(&w)}))),
        Err(e) => refusal(i, e),
    }
}

/// A worker's values as the device's form has them.
fn worker_values(w: &Worker) -> HashMap<String, String> {
    let f = FieldWorker::of(w);
    HashMap::from([("phone".into(), f.phone), ("email".into(), f.email), ("status".into(), f.status)])
}

async fn update_worker(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    c: &FieldChange,
) -> Result<(StatusCode, Value), PageError> {
    let Some(id) = c.worker_id else {
        return Ok((StatusCode::BAD_REQUEST, refused_with("worker_id is required".into())));
    };
    if let Err(errs) = only(&c.fields, WORKER_FIELDS) {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, refused(i, &errs)));
    }
    let patch = worker_input(&c.fields);
    match app.store.update_worker(p, id, &patch, &WorkerChange::default(), today(), c.version).await {
        Ok(w) => Ok((StatusCode::OK, json!({"state": "saved", "worker": FieldWorker::of(&w)}))),
        Err(StoreError::Stale { .. }) => {
            let Some(now) = app.store.get_worker(p, id).await? else {
                return refusal(i, StoreError::NotFound);
            };
            let label = |k: &str| i.field_label("worker", k);
            Ok(conflict(&worker_values(&now), c, label, json!({"worker": FieldWorker::of(&now)}), now.version))
        }
        Err(e) => refusal(i, e),
    }
}

/// The answer to a change made on a record someone else changed meanwhile: each field either
/// side changed (as it was, as saved meanwhile, as the user entered it) and the user's changes
/// on the record as it is now.
fn conflict(
    theirs: &HashMap<String, String>,
    c: &FieldChange,
    label: impl Fn(&str) -> String,
    current: Value,
    version: i64,
) -> (StatusCode, Value) {
    let mut names: Vec<&str> = c.fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    let (merged, changed) = merge(&names, &c.base, theirs, &c.fields);
    let rows: Vec<Value> = changed
        .iter()
        .map(|(name, clash)| {
            json!({"field": name, "label": label(name), "base": c.base.get(name), "theirs": theirs.get(name),
                   "yours": c.fields.get(name), "clash": clash})
        })
        .collect();
    let mine: HashMap<&String, &String> = merged.iter().filter(|(k, _)| c.fields.contains_key(*k)).collect();
    let mut body = json!({"state": "conflict", "version": version, "changed": rows, "merged": mine});
    if let (Some(b), Some(cur)) = (body.as_object_mut(), current.as_object()) {
        b.extend(cur.clone());
    }
    (StatusCode::CONFLICT, body)
}

async fn attendance(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    c: &FieldChange,
) -> Result<(StatusCode, Value), PageError> {
    let (Some(event_id), Some(worker_id)) = (c.event_id, c.worker_id) else {
        return Ok((StatusCode::BAD_REQUEST, refused_with("event_id and worker_id are required".into())));
    };
    if let Err(errs) = only(&c.fields, &["days_attended", "result"]) {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, refused(i, &errs)));
    }
    let mut errs = ValidationErrors::default();
    let days = count("days_attended", c.fields.get("days_attended").map(String::as_str).unwrap_or(""), &mut errs);
    if !errs.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, refused(i, &errs)));
    }
    let input = AttendanceInput {
        days_attended: days,
        hours: None::<Hours>,
        result: c.fields.get("result").cloned().unwrap_or_default(),
    };
    match app.store.record_attendance(p, event_id, worker_id, &input, c.version).await {
        Ok(x) => Ok((StatusCode::OK, json!({"state": "saved", "participant": FieldParticipant::of(&x)}))),
        Err(StoreError::Stale { .. }) => {
            let now = app.store.event_participants(p, event_id).await.map_err(PageError::from)?;
            let Some(x) = now.into_iter().find(|x| x.worker.id == worker_id) else {
                return refusal(i, StoreError::NotFound);
            };
            let f = FieldParticipant::of(&x);
            let theirs = HashMap::from([
                ("days_attended".to_string(), f.days_attended.clone()),
                ("result".to_string(), f.result.clone()),
            ]);
            let label = |k: &str| i.t(&format!("training.{k}"));
            Ok(conflict(&theirs, c, label, json!({"participant": f}), x.version))
        }
        Err(e) => refusal(i, e),
    }
}

/// A self-assessment filled on the device: `assessed_on`, `notes`, `framework_version` and one
/// field `r.<indicator code>` per rating (1 to 4).
async fn self_assessment(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    c: &FieldChange,
) -> Result<(StatusCode, Value), PageError> {
    let Some(worker_id) = c.worker_id else {
        return Ok((StatusCode::BAD_REQUEST, refused_with("worker_id is required".into())));
    };
    let mut errs = ValidationErrors::default();
    let mut ratings = Vec::new();
    for (k, v) in &c.fields {
        match k.strip_prefix("r.") {
            Some(code) => match v.trim().parse::<i64>() {
                Ok(rating) => ratings.push(RatingInput { indicator_code: code.to_string(), rating, evidence: None }),
                Err(_) => errs.push(FieldError::new(&format!("rating.{code}"), "invalid_number").with("value", v)),
            },
            None if ["assessed_on", "notes", "framework_version"].contains(&k.as_str()) => {}
            None => errs.push(FieldError::new(k, "not_editable")),
        }
    }
    if !errs.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, refused(i, &errs)));
    }
    ratings.sort_by(|a, b| a.indicator_code.cmp(&b.indicator_code));
    let input = AssessmentInput {
        kind: Some(AssessmentKind::SelfAssessment.code().into()),
        assessed_on: c.fields.get("assessed_on").cloned(),
        assessor: None,
        notes: c.fields.get("notes").cloned(),
        framework_version: c.fields.get("framework_version").cloned(),
        ratings,
    };
    match app.store.create_assessment(p, worker_id, &input, today()).await {
        Ok(a) => Ok((StatusCode::OK, json!({"state": "saved", "assessment": {"id": a.id, "version": a.version}}))),
        Err(e) => refusal(i, e),
    }
}
