//! Server-rendered pages. Plain HTML forms and links, no script: they work on
//! old phones and slow connections.

use askama::Template;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::handler::Handler;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use komlang_core::validate::{OrgInput, WorkerInput, SELF_EDITABLE_FIELDS};
use komlang_core::*;
use komlang_store::{
    AdminUnitQuery, AuditEntry, AuditQuery, LoginOutcome, OrgQuery, OrgRow, Page, StoreError, WorkerChange,
    WorkerQuery, WorkerRow,
};
use serde::Deserialize;
use std::collections::HashMap;

use crate::common::errors::store_errors;
use crate::common::extract::{random_token, CSRF_KEY, USER_KEY};
use crate::common::forms::{choices, show_form, FieldView, FormBuilder};
use crate::common::layout::ErrorPage;
use crate::common::names::{org_display, province_choices, unit_name};
use crate::common::{
    flash, layout, render, render_status, today, Choice, CsrfForm, Ctx, I18n, Layout, Locale, PageError, PageResult,
};
use crate::common::{Gate, Routes};
use crate::imports;
use crate::AppState;

pub fn routes(r: Routes) -> Routes {
    r.get("/", Gate::Action(Action::ReadWorkers), home)
        .get("/login", Gate::Public, login_form)
        .post("/login", Gate::Public, login)
        .post("/logout", Gate::Public, logout)
        .get("/lang/{code}", Gate::Public, set_lang)
        .get("/me", Gate::SignedIn, me)
        .get("/workers", Gate::Action(Action::ReadWorkers), workers)
        .post("/workers", Gate::Action(Action::CreateWorker), create_worker)
        .get("/workers/new", Gate::Action(Action::CreateWorker), new_worker)
        .get("/workers/export.csv", Gate::Action(Action::ReadWorkers), imports::export_csv)
        .get("/workers/export.xlsx", Gate::Action(Action::ReadWorkers), imports::export_xlsx)
        .get("/workers/{id}", Gate::Action(Action::ReadWorkers), worker)
        // EditWorker or EditOwnContact: checked per record, after the scope (404 first).
        .post("/workers/{id}", Gate::Action(Action::ReadWorkers), update_worker)
        // EditWorker or EditOwnContact: checked per record, after the scope (404 first).
        .get("/workers/{id}/edit", Gate::Action(Action::ReadWorkers), edit_worker)
        // DeleteWorker: checked per record, after the scope (404 first).
        .post("/workers/{id}/delete", Gate::Action(Action::ReadWorkers), delete_worker)
        .get("/organizations", Gate::Action(Action::ReadOrgs), orgs)
        .post("/organizations", Gate::Action(Action::EditOrg), create_org)
        .get("/organizations/new", Gate::Action(Action::EditOrg), new_org)
        .get("/organizations/{id}", Gate::Action(Action::ReadOrgs), org)
        // EditOrg: checked per record, after the scope (404 first).
        .post("/organizations/{id}", Gate::Action(Action::ReadOrgs), update_org)
        // EditOrg: checked per record, after the scope (404 first).
        .get("/organizations/{id}/edit", Gate::Action(Action::ReadOrgs), edit_org)
        // DeleteOrg: checked per record, after the scope (404 first).
        .post("/organizations/{id}/delete", Gate::Action(Action::ReadOrgs), delete_org)
        .get("/admin-units", Gate::SignedIn, units)
        .get("/admin-units/{code}", Gate::SignedIn, unit)
        .get("/imports", Gate::Action(Action::ImportWorkers), imports::list)
        .post(
            "/imports",
            Gate::Action(Action::ImportWorkers),
            imports::upload.layer(DefaultBodyLimit::max(imports::MAX_UPLOAD + 65536)),
        )
        .get("/imports/new", Gate::Action(Action::ImportWorkers), imports::new_form)
        .get("/imports/files/{id}/mapping", Gate::Action(Action::ImportWorkers), imports::mapping)
        .post("/imports/files/{id}/mapping", Gate::Action(Action::ImportWorkers), imports::save_mapping)
        .get("/imports/files/{id}/preview", Gate::Action(Action::ImportWorkers), imports::preview)
        .post("/imports/files/{id}/commit", Gate::Action(Action::ImportWorkers), imports::commit)
        .get("/imports/{id}", Gate::Action(Action::ImportWorkers), imports::result)
        .get("/imports/{id}/rejected.csv", Gate::Action(Action::ImportWorkers), imports::rejected_csv)
        .get("/audit", Gate::Action(Action::ReadAudit), audit)
        .get("/about", Gate::Public, about)
}

// ---------- language, login, logout ----------

#[derive(Deserialize)]
struct NextParam {
    next: Option<String>,
}

/// Only same-site paths are followed after login or a language switch.
fn safe_next(next: Option<String>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") => n,
        _ => "/".into(),
    }
}

async fn set_lang(Path(code): Path<String>, Query(q): Query<NextParam>) -> Response {
    let locale = Locale::parse(&code).unwrap_or(Locale::Km);
    let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", locale.code());
    ([(header::SET_COOKIE, cookie)], Redirect::to(&safe_next(q.next))).into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    next: String,
    error: Option<String>,
    username: String,
}

async fn login_form(ctx: Ctx, Query(q): Query<NextParam>) -> PageResult {
    if ctx.user.is_some() {
        return Ok(Redirect::to(&safe_next(q.next)).into_response());
    }
    let l = layout(&ctx, "login").await?;
    render(&LoginPage { l, next: safe_next(q.next), error: None, username: String::new() })
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    csrf: String,
}

async fn login(State(app): State<AppState>, ctx: Ctx, Form(f): Form<LoginForm>) -> PageResult {
    let next = safe_next(f.next.clone());
    let again = |ctx: &Ctx, error: String| {
        let l = Layout {
            i: ctx.i,
            user: None,
            csrf: ctx.csrf.clone(),
            here: ctx.here.clone(),
            section: "login",
            flash: None,
        };
        render_status(
            StatusCode::UNAUTHORIZED,
            &LoginPage { l, next: next.clone(), error: Some(error), username: f.username.clone() },
        )
    };
    if ctx.check_csrf(&f.csrf).is_err() {
        return again(&ctx, ctx.i.t("login.expired"));
    }
    let now = chrono::Utc::now().timestamp();
    match app.store.login(f.username.trim(), &f.password, &ctx.client_ip, now).await? {
        LoginOutcome::Ok(p) => {
            ctx.session.cycle_id().await?;
            ctx.session.insert(USER_KEY, p.user_id).await?;
            ctx.session.insert(CSRF_KEY, random_token()).await?;
            Ok(Redirect::to(&next).into_response())
        }
        LoginOutcome::Invalid => again(&ctx, ctx.i.t("login.invalid")),
        LoginOutcome::Locked(secs) => {
            let minutes = ((secs + 59) / 60).to_string();
            again(&ctx, ctx.i.tp("login.locked", &[("minutes", minutes)]))
        }
    }
}

async fn logout(ctx: Ctx, Form(f): Form<CsrfForm>) -> PageResult {
    ctx.check_csrf(&f.csrf)?;
    ctx.session.flush().await?;
    Ok(Redirect::to("/login").into_response())
}

// ---------- home ----------

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    l: Layout,
    scope: String,
    total: i64,
    groups: Vec<(String, Vec<Bar>)>,
    /// Workers in post with a valid certificate, and with a valid licence.
    certified: i64,
    licensed: i64,
}

pub struct Bar {
    pub label: String,
    pub count: i64,
    pub max: i64,
    pub href: String,
}

async fn scope_name(app: &AppState, i: &I18n, p: &Principal) -> Result<String, PageError> {
    Ok(match &p.scope {
        Scope::Nation => i.t("home.nation"),
        Scope::Unit { code, .. } => match app.store.admin_unit(code).await? {
            Some(u) => format!("{} ({})", unit_name(i, &u.name_km, &u.name_en), i.label(u.level)),
            None => code.clone(),
        },
    })
}

async fn home(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    // A worker's account reads only its own record: its home is its profile.
    if !p.may_in_scope(Action::ReadWorkers) {
        return Ok(Redirect::to("/me").into_response());
    }
    let i = ctx.i;
    let mut groups = Vec::new();
    let mut total = 0;
    for (col, title) in [("cadre", "home.by_cadre"), ("sector", "home.by_sector"), ("status", "home.by_status")] {
        let counts = app.store.count_workers_by(&p, col).await?;
        total = counts.iter().map(|(_, n)| n).sum();
        let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
        let bars = counts
            .into_iter()
            .map(|(code, count)| Bar {
                label: i.code_label(col, &code),
                count,
                max,
                href: format!("/workers?{}", serde_urlencoded::to_string([(col, &code)]).unwrap_or_default()),
            })
            .collect();
        groups.push((i.t(title), bars));
    }
    let scope = scope_name(&app, &i, &p).await?;
    let (certified, licensed) = app.store.certified_and_licensed(&p, today()).await?;
    let l = layout(&ctx, "home").await?;
    render(&HomePage { l, scope, total, groups, certified, licensed })
}

async fn me(ctx: Ctx) -> PageResult {
    let p = ctx.require()?;
    match p.worker_id {
        Some(id) => Ok(Redirect::to(&format!("/workers/{id}")).into_response()),
        None => Ok(Redirect::to("/").into_response()),
    }
}

// ---------- workers ----------

/// Worker list filters as they appear in the query string.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct WorkerFilters {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub commune: String,
    #[serde(default)]
    pub cadre: String,
    #[serde(default)]
    pub sector: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub org_id: String,
    #[serde(default)]
    pub page: String,
}

impl WorkerFilters {
    pub fn query(&self) -> WorkerQuery {
        let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        WorkerQuery {
            q: opt(&self.q),
            province: opt(&self.province),
            district: opt(&self.district),
            commune: opt(&self.commune),
            cadre: Cadre::parse(&self.cadre),
            sector: Sector::parse(&self.sector),
            status: EmploymentStatus::parse(&self.status),
            role: WorkerRole::parse(&self.role),
            org_id: self.org_id.trim().parse().ok(),
            page: self.page.parse().unwrap_or(1),
            per_page: 50,
        }
    }

    /// Query string of these filters without the page (for the export links).
    pub fn export_query(&self) -> String {
        let link = self.link(1);
        match link.strip_suffix("page=1") {
            Some(rest) => rest.trim_end_matches('&').to_string(),
            None => link,
        }
        .trim_end_matches('?')
        .to_string()
    }

    /// Query string of these filters on another page.
    pub fn link(&self, page: i64) -> String {
        let pairs: Vec<(&str, String)> = [
            ("q", &self.q),
            ("province", &self.province),
            ("district", &self.district),
            ("commune", &self.commune),
            ("cadre", &self.cadre),
            ("sector", &self.sector),
            ("status", &self.status),
            ("role", &self.role),
            ("org_id", &self.org_id),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .chain(std::iter::once(("page", page.to_string())))
        .collect();
        format!("?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    }
}

#[derive(Template)]
#[template(path = "workers.html")]
struct WorkersPage {
    l: Layout,
    f: WorkerFilters,
    page: Page<WorkerRow>,
    provinces: Vec<Choice>,
    cadres: Vec<Choice>,
    sectors: Vec<Choice>,
    statuses: Vec<Choice>,
    roles: Vec<Choice>,
}

impl WorkersPage {
    fn prev(&self) -> Option<String> {
        (self.page.page > 1).then(|| self.f.link(self.page.page - 1))
    }
    fn next(&self) -> Option<String> {
        (self.page.page < self.page.pages()).then(|| self.f.link(self.page.page + 1))
    }
    fn page_of(&self) -> String {
        self.l.i.tp("common.page_of", &[("page", self.page.page.to_string()), ("pages", self.page.pages().to_string())])
    }
    fn results(&self) -> String {
        self.l.i.tp("common.results", &[("total", self.page.total.to_string())])
    }
    fn place(&self, w: &WorkerRow) -> String {
        unit_name(&self.l.i, &w.workplace_name_km, &w.workplace_name_en)
    }
}

async fn workers(State(app): State<AppState>, ctx: Ctx, Query(f): Query<WorkerFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    let i = ctx.i;
    let page = app.store.list_workers(&p, &f.query()).await?;
    let provinces = province_choices(&app, &i, &p, &f.province).await?;
    let l = layout(&ctx, "workers").await?;
    render(&WorkersPage {
        cadres: choices(&i, Cadre::ALL, Cadre::code, &f.cadre),
        sectors: choices(&i, Sector::ALL, Sector::code, &f.sector),
        statuses: choices(&i, EmploymentStatus::ALL, EmploymentStatus::code, &f.status),
        roles: choices(&i, WorkerRole::ALL, WorkerRole::code, &f.role),
        provinces,
        l,
        f,
        page,
    })
}

#[derive(Template)]
#[template(path = "worker.html")]
struct WorkerPage {
    l: Layout,
    w: Worker,
    org: Option<OrgRow>,
    place: Vec<AdminUnit>,
    postings: Vec<Posting>,
    statuses: Vec<StatusChange>,
    can_edit: bool,
    /// Username of the worker's supervisor (competency assessments).
    supervisor: String,
    can_set_supervisor: bool,
}

impl WorkerPage {
    fn place_text(&self) -> String {
        self.place
            .iter()
            .filter(|u| u.level != AdminLevel::Country)
            .map(|u| unit_name(&self.l.i, &u.name_km, &u.name_en))
            .collect::<Vec<_>>()
            .join(" › ")
    }
    fn org_name(&self) -> String {
        self.org.as_ref().map(|o| org_display(&self.l.i, &o.org)).unwrap_or_default()
    }
    fn date(d: &Option<chrono::NaiveDate>) -> String {
        d.map(|d| d.to_string()).unwrap_or_default()
    }
    fn posting_place(&self, p: &Posting) -> String {
        match self.l.i.locale {
            Locale::Km => p.workplace_name_km.clone(),
            Locale::En => p.workplace_name_en.clone(),
        }
        .unwrap_or_else(|| p.workplace_code.clone())
    }
}

async fn worker(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(w) = app.store.get_worker(&p, id).await? else { return Err(ctx.not_found()) };
    let org = match w.org_id {
        Some(o) => app.store.get_org(&p, o).await?,
        None => None,
    };
    let place = app.store.admin_path(&w.workplace_code).await?;
    let postings = app.store.worker_postings(&p, id).await?;
    let statuses = app.store.worker_status_history(&p, id).await?;
    let supervisor = app.store.worker_supervisor(&p, id).await?.map(|s| s.username).unwrap_or_default();
    let can_set_supervisor = p.allows(Action::SetSupervisor, Target::worker(id));
    let l = layout(&ctx, "workers").await?;
    render(&WorkerPage {
        can_edit: may_edit_worker(&p, id),
        l,
        w,
        org,
        place,
        postings,
        statuses,
        supervisor,
        can_set_supervisor,
    })
}

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
    current_employer: Option<i64>,
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
        // Keep the current employer selectable even when it lies outside the
        // editor's scope, so saving the form never drops it silently.
        if let Some(id) = current_employer {
            if !orgs.items.iter().any(|o| o.org.id == id) {
                if let Some(org) = app.store.get_org_unscoped(id).await? {
                    opts.push(Choice {
                        value: id.to_string(),
                        label: org_display(i, &org),
                        selected: current == id.to_string(),
                    });
                }
            }
        }
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

async fn new_worker(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    let mut values = HashMap::new();
    values.insert("status".to_string(), "active".to_string());
    if let Scope::Unit { code, .. } = &p.scope {
        values.insert("workplace_code".to_string(), code.clone());
    }
    let fields = worker_fields(&app, &ctx.i, &p, &values, &ValidationErrors::default(), false, None).await?;
    let l = layout(&ctx, "workers").await?;
    show_form(l, ctx.i.t("worker.new"), "/workers".into(), fields, false)
}

/// A submitted worker form: every field as text.
fn worker_input_from_form(form: &HashMap<String, String>) -> (WorkerInput, ValidationErrors) {
    let mut errs = ValidationErrors::default();
    let get = |k: &str| form.get(k).cloned();
    let org_id = match form.get("org_id").map(|s| s.trim()) {
        None => None,
        Some("") => Some(0),
        Some(s) => match s.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                errs.push(FieldError::new("org_id", "invalid_number"));
                None
            }
        },
    };
    let input = WorkerInput {
        name_km: get("name_km"),
        name_latin: get("name_latin"),
        sex: get("sex"),
        date_of_birth: get("date_of_birth"),
        national_id: get("national_id"),
        phone: get("phone"),
        email: get("email"),
        cadre: get("cadre"),
        role: get("role"),
        sector: get("sector"),
        org_id,
        position_title: get("position_title"),
        workplace_code: get("workplace_code"),
        status: get("status"),
        start_date: get("start_date"),
        end_date: get("end_date"),
        education_level: get("education_level"),
        education_field: get("education_field"),
    };
    (input, errs)
}

async fn create_worker(State(app): State<AppState>, ctx: Ctx, Form(form): Form<HashMap<String, String>>) -> PageResult {
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
            let fields = worker_fields(&app, &ctx.i, &p, &form, &errors, false, None).await?;
            let l = layout(&ctx, "workers").await?;
            show_form(l, ctx.i.t("worker.new"), "/workers".into(), fields, true)
        }
    }
}

/// May change the worker's record: every field, or (a worker's account) its own contact details.
fn may_edit_worker(p: &Principal, id: i64) -> bool {
    p.allows(Action::EditWorker, Target::worker(id)) || p.allows(Action::EditOwnContact, Target::worker(id))
}

async fn edit_worker(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(w) = app.store.get_worker(&p, id).await? else { return Err(ctx.not_found()) };
    if !may_edit_worker(&p, id) {
        return Err(ctx.forbidden());
    }
    let values = worker_values(&WorkerInput::from_draft(&w.draft()));
    let fields = worker_fields(&app, &ctx.i, &p, &values, &ValidationErrors::default(), true, w.org_id).await?;
    let l = layout(&ctx, "workers").await?;
    show_form(l, format!("{} — {}", ctx.i.t("worker.edit_title"), w.name_km), format!("/workers/{id}"), fields, false)
}

async fn update_worker(
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
    let effective = form.get("effective_date").map(|s| s.trim()).filter(|s| !s.is_empty());
    let effective_date = match effective.map(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")) {
        None => None,
        Some(Ok(d)) => Some(d),
        Some(Err(_)) => {
            pre.push(FieldError::new("effective_date", "invalid_date"));
            None
        }
    };
    let change = WorkerChange { effective_date, note: form.get("note").cloned() };
    let result = if pre.is_empty() {
        app.store.update_worker(&p, id, &patch, &change, today()).await
    } else {
        Err(StoreError::Invalid(pre))
    };
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/workers/{id}")).into_response())
        }
        Err(StoreError::NotFound) => Err(ctx.not_found()),
        Err(StoreError::Forbidden) => Err(ctx.forbidden()),
        Err(e) => {
            let errors = store_errors(e)?;
            let fields = worker_fields(&app, &ctx.i, &p, &form, &errors, true, existing.org_id).await?;
            let l = layout(&ctx, "workers").await?;
            show_form(
                l,
                format!("{} — {}", ctx.i.t("worker.edit_title"), existing.name_km),
                format!("/workers/{id}"),
                fields,
                true,
            )
        }
    }
}

async fn delete_worker(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    match app.store.delete_worker(&p, id).await {
        Ok(()) => {
            flash(&ctx, "common.deleted").await?;
            Ok(Redirect::to("/workers").into_response())
        }
        Err(StoreError::NotFound) => Err(ctx.not_found()),
        Err(StoreError::Forbidden) => Err(ctx.forbidden()),
        Err(e) => Err(e.into()),
    }
}

// ---------- organizations ----------

#[derive(Debug, Default, Deserialize)]
struct OrgFilters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    page: String,
}

#[derive(Template)]
#[template(path = "orgs.html")]
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

async fn orgs(State(app): State<AppState>, ctx: Ctx, Query(f): Query<OrgFilters>) -> PageResult {
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
#[template(path = "org.html")]
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

async fn org(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
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

async fn new_org(ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    let mut values = HashMap::new();
    if let Scope::Unit { code, .. } = &p.scope {
        values.insert("admin_code".to_string(), code.clone());
    }
    let fields = org_fields(&ctx.i, &values, &ValidationErrors::default());
    let l = layout(&ctx, "organizations").await?;
    show_form(l, ctx.i.t("org.new"), "/organizations".into(), fields, false)
}

async fn create_org(State(app): State<AppState>, ctx: Ctx, Form(form): Form<HashMap<String, String>>) -> PageResult {
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

async fn edit_org(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(o) = app.store.get_org(&p, id).await? else { return Err(ctx.not_found()) };
    if !p.may(Action::EditOrg) {
        return Err(ctx.forbidden());
    }
    let input = OrgInput::from_draft(&o.org.draft());
    let values: HashMap<String, String> = serde_json::to_value(&input)
        .ok()
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string())))
        .collect();
    let fields = org_fields(&ctx.i, &values, &ValidationErrors::default());
    let l = layout(&ctx, "organizations").await?;
    show_form(
        l,
        format!("{} — {}", ctx.i.t("org.edit_title"), o.org.name_en),
        format!("/organizations/{id}"),
        fields,
        false,
    )
}

async fn update_org(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    match app.store.update_org(&p, id, &org_input_from_form(&form)).await {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/organizations/{id}")).into_response())
        }
        Err(StoreError::NotFound) => Err(ctx.not_found()),
        Err(StoreError::Forbidden) => Err(ctx.forbidden()),
        Err(e) => {
            let errors = store_errors(e)?;
            let fields = org_fields(&ctx.i, &form, &errors);
            let l = layout(&ctx, "organizations").await?;
            show_form(l, ctx.i.t("org.edit_title"), format!("/organizations/{id}"), fields, true)
        }
    }
}

async fn delete_org(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>, Form(f): Form<CsrfForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    match app.store.delete_org(&p, id).await {
        Ok(()) => {
            flash(&ctx, "common.deleted").await?;
            Ok(Redirect::to("/organizations").into_response())
        }
        Err(StoreError::NotFound) => Err(ctx.not_found()),
        Err(StoreError::Forbidden) => Err(ctx.forbidden()),
        Err(StoreError::Conflict(m)) => {
            let l = layout(&ctx, "organizations").await?;
            let message = ctx.i.tp("common.conflict", &[("message", m)]);
            render_status(StatusCode::CONFLICT, &ErrorPage { l, message })
        }
        Err(e) => Err(e.into()),
    }
}

// ---------- administrative units ----------

#[derive(Deserialize, Default)]
struct UnitFilters {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "units.html")]
struct UnitsPage {
    l: Layout,
    q: String,
    unit: Option<AdminUnit>,
    path: Vec<AdminUnit>,
    units: Vec<AdminUnit>,
}

impl UnitsPage {
    fn name(&self, u: &AdminUnit) -> String {
        unit_name(&self.l.i, &u.name_km, &u.name_en)
    }
    fn other_name(&self, u: &AdminUnit) -> String {
        match self.l.i.locale {
            Locale::Km => u.name_en.clone(),
            Locale::En => u.name_km.clone(),
        }
    }
}

async fn units(State(app): State<AppState>, ctx: Ctx, Query(f): Query<UnitFilters>) -> PageResult {
    ctx.require()?;
    let units = if f.q.trim().is_empty() {
        match app.store.country().await? {
            Some(c) => app.store.admin_children(&c.code).await?,
            None => Vec::new(),
        }
    } else {
        app.store
            .admin_units(&AdminUnitQuery { q: Some(f.q.clone()), page: 1, per_page: 200, ..Default::default() })
            .await?
            .items
    };
    let l = layout(&ctx, "units").await?;
    render(&UnitsPage { l, q: f.q, unit: None, path: Vec::new(), units })
}

async fn unit(State(app): State<AppState>, ctx: Ctx, Path(code): Path<String>) -> PageResult {
    ctx.require()?;
    let Some(u) = app.store.admin_unit(&code).await? else { return Err(ctx.not_found()) };
    let path = app.store.admin_path(&code).await?;
    let units = app.store.admin_children(&code).await?;
    let l = layout(&ctx, "units").await?;
    render(&UnitsPage { l, q: String::new(), unit: Some(u), path, units })
}

// ---------- audit ----------

#[derive(Debug, Default, Deserialize)]
struct AuditFilters {
    #[serde(default)]
    entity: String,
    #[serde(default)]
    entity_id: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    l: Layout,
    f: AuditFilters,
    page: Page<AuditEntry>,
    prev: Option<String>,
    next: Option<String>,
}

impl AuditPage {
    fn show(v: &Option<serde_json::Value>) -> String {
        match v {
            None | Some(serde_json::Value::Null) => "—".into(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    }
    fn link(&self, e: &AuditEntry) -> Option<String> {
        match e.entity.as_str() {
            "worker" => Some(format!("/workers/{}", e.entity_id)),
            "organization" => Some(format!("/organizations/{}", e.entity_id)),
            _ => None,
        }
    }
}

async fn audit(State(app): State<AppState>, ctx: Ctx, Query(f): Query<AuditFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    let q = AuditQuery {
        entity: Some(f.entity.clone()),
        entity_id: Some(f.entity_id.clone()),
        username: Some(f.username.clone()),
        action: Some(f.action.clone()),
        from: Some(f.from.clone()),
        to: Some(f.to.clone()),
        page: f.page.parse().unwrap_or(1),
        per_page: 50,
    };
    let page = app.store.list_audit(&p, &q).await?;
    let link = |n: i64| {
        let pairs = [
            ("entity", f.entity.clone()),
            ("entity_id", f.entity_id.clone()),
            ("username", f.username.clone()),
            ("action", f.action.clone()),
            ("from", f.from.clone()),
            ("to", f.to.clone()),
            ("page", n.to_string()),
        ];
        format!("?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    };
    let prev = (page.page > 1).then(|| link(page.page - 1));
    let next = (page.page < page.pages()).then(|| link(page.page + 1));
    let l = layout(&ctx, "audit").await?;
    render(&AuditPage { l, f, page, prev, next })
}

// ---------- about ----------

#[derive(Template)]
#[template(path = "about.html")]
struct AboutPage {
    l: Layout,
    version: &'static str,
}

async fn about(ctx: Ctx) -> PageResult {
    let l = layout(&ctx, "about").await?;
    render(&AboutPage { l, version: env!("CARGO_PKG_VERSION") })
}
