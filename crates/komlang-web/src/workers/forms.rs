//! Adding, changing and deleting a worker's record through the pages. A worker's own account
//! changes only its contact details and education.

use komlang_core::NonBlank;
use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::validate::{WorkerInput, SELF_EDITABLE_FIELDS};
use komlang_core::*;
use komlang_store::{OrgQuery, StoreError, WorkerChange};

use crate::common::conflict::{as_sent, opened_at, stale_form};
use crate::common::errors::store_errors;
use crate::common::extract::store_err;
use crate::common::forms::{show_edit_form, show_form, FieldView, FormBuilder};
use crate::common::names::org_display;
use crate::common::versions::{form_version, VERSION_FIELD};
use crate::common::{flash, layout, today, Choice, CsrfForm, Ctx, I18n, PageError, PageResult};
use crate::AppState;

fn worker_values(w: &WorkerInput) -> HashMap<String, String> {
    let v = serde_json::to_value(w).unwrap_or_default();
    let mut m = HashMap::new();
    if let Some(obj) = v.as_object() {
        for (k, v) in obj {
            let s = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            m.insert(k.clone(), s);
        }
    }
    m
}

async fn worker_fields(
    app: &AppState,
    i: &I18n,
    p: &Principal,
    values: &HashMap<String, String>,
    errors: &ValidationErrors,
    editing: bool,
) -> Result<Vec<FieldView>, PageError> {
    let mut b = FormBuilder::new(i, "worker", values, errors);
    // Without the right to change the whole record, only one's own contact details.
    let self_only = !p.may(Action::EditWorker);
    if !self_only {
        b.field("name_km", "text", true);
        b.field("name_latin", "text", true);
        b.select("sex", Sex::ALL, Sex::code, true);
        b.field("date_of_birth", "date", false);
        b.field("national_id", "text", false);
    }
    b.field("phone", "tel", false);
    b.field("email", "email", false);
    if !self_only {
        b.select("cadre", Cadre::ALL, Cadre::code, true);
        b.select("role", WorkerRole::ALL, WorkerRole::code, true);
        b.select("sector", Sector::ALL, Sector::code, true);
        let orgs = app.store.list_orgs(p, &OrgQuery { per_page: 500, ..Default::default() }).await?;
        let current = values.get("org_id").cloned().unwrap_or_default();
        let mut opts = vec![Choice { value: String::new(), label: i.t("common.none"), selected: current.is_empty() }];
        opts.extend(orgs.items.iter().map(|o| Choice {
            value: o.org.id.to_string(),
            label: org_display(i, &o.org),
            selected: o.org.id.to_string() == current,
        }));
        b.field("org_id", "select", false).options = opts;
        b.field("position_title", "text", false);
        b.field("workplace_code", "text", true).hint = i.t("worker.workplace_hint");
        b.select("status", EmploymentStatus::ALL, EmploymentStatus::code, true);
        b.field("start_date", "date", false);
        b.field("end_date", "date", false);
    }
    b.select("education_level", EducationLevel::ALL, EducationLevel::code, false);
    b.select("education_field", EducationField::ALL, EducationField::code, false);
    if editing && !self_only {
        b.field("effective_date", "date", false);
        b.field("note", "text", false);
    }
    // Optional selects start with an empty choice.
    for f in b.fields.iter_mut().filter(|f| f.kind == "select" && !f.required && f.name != "org_id") {
        let empty = f.value.is_empty();
        f.options.insert(0, Choice { value: String::new(), label: "—".into(), selected: empty });
    }
    for f in b.fields.iter_mut().filter(|f| f.kind == "select" && f.required) {
        if f.value.is_empty() {
            f.options.insert(0, Choice { value: String::new(), label: "—".into(), selected: true });
        }
    }
    Ok(b.fields)
}

pub(super) async fn new_worker(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    let mut values = HashMap::new();
    values.insert("status".to_string(), "active".to_string());
    if let Scope::Unit { code, .. } = &p.scope {
        values.insert("workplace_code".to_string(), code.clone());
    }
    let fields = worker_fields(&app, &ctx.i, &p, &values, &ValidationErrors::default(), false).await?;
    let l = layout(&ctx, "workers").await?;
    show_form(l, ctx.i.t("worker.new"), "/workers".into(), fields, false)
}

/// A submitted worker form: every field as text.
fn worker_input_from_form(form: &HashMap<String, String>) -> (WorkerInput, ValidationErrors) {
    WorkerInput::from_text(|k| form.get(k).cloned())
}

pub(super) async fn create_worker(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let (mut input, pre) = worker_input_from_form(&form);
    if input.org_id == Some(0) {
        input.org_id = None;
    }
    let result =
        if pre.is_empty() { app.store.create_worker(&p, &input, today()).await } else { Err(StoreError::Invalid(pre)) };
    match result {
        Ok(w) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/workers/{}", w.id)).into_response())
        }
        Err(e) => {
            let errors = store_errors(e)?;
            let fields = worker_fields(&app, &ctx.i, &p, &form, &errors, false).await?;
            let l = layout(&ctx, "workers").await?;
            show_form(l, ctx.i.t("worker.new"), "/workers".into(), fields, true)
        }
    }
}

/// May change the worker's record: every field, or (a worker's account) its own contact details.
pub(super) fn may_edit_worker(p: &Principal, id: i64) -> bool {
    p.allows(Action::EditWorker, Target::worker(id)) || p.allows(Action::EditOwnContact, Target::worker(id))
}

pub(super) async fn edit_worker(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(w) = app.store.get_worker(&p, id).await? else { return Err(ctx.not_found()) };
    if !may_edit_worker(&p, id) {
        return Err(ctx.forbidden());
    }
    let values = worker_values(&WorkerInput::from_draft(&w.draft()));
    let fields = worker_fields(&app, &ctx.i, &p, &values, &ValidationErrors::default(), true).await?;
    let l = layout(&ctx, "workers").await?;
    let opened = opened_at(w.version, &fields);
    let title = format!("{} — {}", ctx.i.t("worker.edit_title"), w.name_km);
    show_edit_form(l, title, format!("/workers/{id}"), fields, false, opened)
}

pub(super) async fn update_worker(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let Some(existing) = app.store.get_worker(&p, id).await? else { return Err(ctx.not_found()) };
    if !may_edit_worker(&p, id) {
        return Err(ctx.forbidden());
    }
    let (mut patch, mut pre) = worker_input_from_form(&form);
    if patch.org_id == Some(0) {
        patch.org_id = None;
        if existing.org_id.is_some() && form.contains_key("org_id") {
            // The employer was cleared on the form.
            patch.org_id = Some(0);
        }
    }
    if !p.allows(Action::EditWorker, Target::worker(id)) {
        // Only the fields a worker may change are taken from the form.
        let keep: HashMap<String, String> = form
            .iter()
            .filter(|(k, _)| SELF_EDITABLE_FIELDS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        patch = worker_input_from_form(&keep).0;
    }
    let effective = form.get("effective_date").and_then(|s| s.non_blank());
    let effective_date = match effective.map(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            pre.push(FieldError::new("effective_date", "invalid_date"));
            None
        }
    };
    let change = WorkerChange { effective_date, note: form.get("note").cloned() };
    let expected = form_version(form.get(VERSION_FIELD).map(String::as_str));
    let result = if pre.is_empty() {
        app.store.update_worker(&p, id, &patch, &change, today(), expected).await
    } else {
        Err(StoreError::Invalid(pre))
    };
    let title = format!("{} — {}", ctx.i.t("worker.edit_title"), existing.name_km);
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/workers/{id}")).into_response())
        }
        Err(StoreError::NotFound) => Err(ctx.not_found()),
        Err(StoreError::Forbidden) => Err(ctx.forbidden()),
        Err(StoreError::Stale { .. }) => {
            // Shown again on the record as it is now, with this form's changes on top.
            let Some(now) = app.store.get_worker(&p, id).await? else { return Err(ctx.not_found()) };
            let values = worker_values(&WorkerInput::from_draft(&now.draft()));
            let mut fields = worker_fields(&app, &ctx.i, &p, &values, &ValidationErrors::default(), true).await?;
            let back = format!("/workers/{id}");
            let edit =
                stale_form(&app, &ctx.i, "worker", &id.to_string(), now.version, &mut fields, &form, back).await?;
            let l = layout(&ctx, "workers").await?;
            show_edit_form(l, title, format!("/workers/{id}"), fields, true, edit)
        }
        Err(e) => {
            let errors = store_errors(e)?;
            let fields = worker_fields(&app, &ctx.i, &p, &form, &errors, true).await?;
            let l = layout(&ctx, "workers").await?;
            show_edit_form(l, title, format!("/workers/{id}"), fields, true, as_sent(&form))
        }
    }
}

pub(super) async fn delete_worker(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    match app.store.delete_worker(&p, id, f.record_version).await {
        Ok(()) => {
            flash(&ctx, "common.deleted").await?;
            Ok(Redirect::to("/workers").into_response())
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}
