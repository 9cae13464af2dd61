//! Organizations as pages: the list, one organization with its staff, adding, changing and
//! deleting.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::validate::OrgInput;
use komlang_core::*;
use komlang_store::{OrgQuery, OrgRow, Page, StoreError, WorkerQuery, WorkerRow};
use serde::Deserialize;

use crate::common::conflict::{as_sent, opened_at, stale_form};
use crate::common::errors::store_errors;
use crate::common::extract::store_err;
use crate::common::forms::{choices, show_edit_form, show_form, FieldView, FormBuilder};
use crate::common::layout::ErrorPage;
use crate::common::names::{org_display, unit_name};
use crate::common::versions::{form_version, VERSION_FIELD};
use crate::common::{flash, layout, render, render_status, Choice, CsrfForm, Ctx, I18n, Layout, PageResult};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub(super) struct OrgFilters {
    #[serde(default)]
    pub(super) q: String,
    #[serde(default)]
    pub(super) kind: String,
    #[serde(default)]
    pub(super) page: String,
}

#[derive(Template)]
#[template(path = "organizations/list.html")]
struct OrgsPage {
    l: Layout,
    q: String,
    kinds: Vec<Choice>,
    page: Page<OrgRow>,
    prev: Option<String>,
    next: Option<String>,
}

impl OrgsPage {
    fn name(&self, o: &OrgRow) -> String {
        org_display(&self.l.i, &o.org)
    }
    fn place(&self, o: &OrgRow) -> String {
        unit_name(&self.l.i, &o.admin_name_km, &o.admin_name_en)
    }
    fn results(&self) -> String {
        self.l.i.tp("common.results", &[("total", self.page.total.to_string())])
    }
}

pub(super) async fn orgs(State(app): State<AppState>, ctx: Ctx, Query(f): Query<OrgFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    let q = OrgQuery {
        q: Some(f.q.clone()),
        kind: OrgKind::parse(&f.kind),
        province: None,
        page: f.page.parse().unwrap_or(1),
        per_page: 50,
    };
    let page = app.store.list_orgs(&p, &q).await?;
    let link = |n: i64| {
        format!(
            "?{}",
            serde_urlencoded::to_string([("q", f.q.clone()), ("kind", f.kind.clone()), ("page", n.to_string())])
                .unwrap_or_default()
        )
    };
    let prev = (page.page > 1).then(|| link(page.page - 1));
    let next = (page.page < page.pages()).then(|| link(page.page + 1));
    let l = layout(&ctx, "organizations").await?;
    render(&OrgsPage { kinds: choices(&ctx.i, OrgKind::ALL, OrgKind::code, &f.kind), q: f.q, page, prev, next, l })
}

#[derive(Template)]
#[template(path = "organizations/organization.html")]
struct OrgPage {
    l: Layout,
    o: OrgRow,
    staff: Page<WorkerRow>,
    can_edit: bool,
    can_delete: bool,
}

impl OrgPage {
    fn name(&self) -> String {
        org_display(&self.l.i, &self.o.org)
    }
    fn place(&self) -> String {
        unit_name(&self.l.i, &self.o.admin_name_km, &self.o.admin_name_en)
    }
}

pub(super) async fn org(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(o) = app.store.get_org(&p, id).await? else { return Err(ctx.not_found()) };
    let staff =
        app.store.list_workers(&p, &WorkerQuery { org_id: Some(id), per_page: 20, ..Default::default() }).await?;
    let l = layout(&ctx, "organizations").await?;
    render(&OrgPage { can_edit: p.may(Action::EditOrg), can_delete: p.may(Action::DeleteOrg), l, o, staff })
}

fn org_fields(i: &I18n, values: &HashMap<String, String>, errors: &ValidationErrors) -> Vec<FieldView> {
    let mut b = FormBuilder::new(i, "org", values, errors);
    b.field("name_en", "text", true);
    b.field("name_km", "text", false);
    b.select("kind", OrgKind::ALL, OrgKind::code, true);
    b.field("registration_no", "text", false);
    b.field("admin_code", "text", true).hint = i.t("worker.workplace_hint");
    b.field("phone", "tel", false);
    b.field("email", "email", false);
    for f in b.fields.iter_mut().filter(|f| f.kind == "select" && f.value.is_empty()) {
        f.options.insert(0, Choice { value: String::new(), label: "—".into(), selected: true });
    }
    b.fields
}

fn org_input_from_form(form: &HashMap<String, String>) -> OrgInput {
    let get = |k: &str| form.get(k).cloned();
    OrgInput {
        name_km: get("name_km"),
        name_en: get("name_en"),
        kind: get("kind"),
        registration_no: get("registration_no"),
        admin_code: get("admin_code"),
        phone: get("phone"),
        email: get("email"),
    }
}

pub(super) async fn new_org(ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    let mut values = HashMap::new();
    if let Scope::Unit { code, .. } = &p.scope {
        values.insert("admin_code".to_string(), code.clone());
    }
    let fields = org_fields(&ctx.i, &values, &ValidationErrors::default());
    let l = layout(&ctx, "organizations").await?;
    show_form(l, ctx.i.t("org.new"), "/organizations".into(), fields, false)
}

pub(super) async fn create_org(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    match app.store.create_org(&p, &org_input_from_form(&form)).await {
        Ok(o) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/organizations/{}", o.org.id)).into_response())
        }
        Err(StoreError::Forbidden) => Err(ctx.forbidden()),
        Err(e) => {
            let errors = store_errors(e)?;
            let fields = org_fields(&ctx.i, &form, &errors);
            let l = layout(&ctx, "organizations").await?;
            show_form(l, ctx.i.t("org.new"), "/organizations".into(), fields, true)
        }
    }
}

pub(super) async fn edit_org(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(o) = app.store.get_org(&p, id).await? else { return Err(ctx.not_found()) };
    if !p.may(Action::EditOrg) {
        return Err(ctx.forbidden());
    }
    let fields = org_fields(&ctx.i, &org_values(&o), &ValidationErrors::default());
    let l = layout(&ctx, "organizations").await?;
    let opened = opened_at(o.org.version, &fields);
    let title = format!("{} — {}", ctx.i.t("org.edit_title"), o.org.name_en);
    show_edit_form(l, title, format!("/organizations/{id}"), fields, false, opened)
}

/// An organization's record as its form's values.
fn org_values(o: &OrgRow) -> HashMap<String, String> {
    let input = OrgInput::from_draft(&o.org.draft());
    serde_json::to_value(&input)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
        .collect()
}

pub(super) async fn update_org(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let expected = form_version(form.get(VERSION_FIELD).map(String::as_str));
    match app.store.update_org(&p, id, &org_input_from_form(&form), expected).await {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/organizations/{id}")).into_response())
        }
        Err(StoreError::NotFound) => Err(ctx.not_found()),
        Err(StoreError::Forbidden) => Err(ctx.forbidden()),
        Err(StoreError::Stale { .. }) => {
            // Shown again on the record as it is now, with this form's changes on top.
            let Some(now) = app.store.get_org(&p, id).await? else { return Err(ctx.not_found()) };
            let mut fields = org_fields(&ctx.i, &org_values(&now), &ValidationErrors::default());
            let back = format!("/organizations/{id}");
            let (entity, key) = ("organization", id.to_string());
            let edit = stale_form(&app, &ctx.i, entity, &key, now.org.version, &mut fields, &form, back).await?;
            let l = layout(&ctx, "organizations").await?;
            show_edit_form(l, ctx.i.t("org.edit_title"), format!("/organizations/{id}"), fields, true, edit)
        }
        Err(e) => {
            let errors = store_errors(e)?;
            let fields = org_fields(&ctx.i, &form, &errors);
            let l = layout(&ctx, "organizations").await?;
            show_edit_form(l, ctx.i.t("org.edit_title"), format!("/organizations/{id}"), fields, true, as_sent(&form))
        }
    }
}

pub(super) async fn delete_org(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    match app.store.delete_org(&p, id, f.record_version).await {
        Ok(()) => {
            flash(&ctx, "common.deleted").await?;
            Ok(Redirect::to("/organizations").into_response())
        }
        Err(StoreError::Conflict(m)) => {
            let l = layout(&ctx, "organizations").await?;
            let message = ctx.i.tp("common.conflict", &[("message", m)]);
            render_status(StatusCode::CONFLICT, &ErrorPage { l, message })
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}
