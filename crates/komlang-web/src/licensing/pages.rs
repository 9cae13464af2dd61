//! Licences: the list with filters (expiring within so many days), export, the licensing
//! rules, and one licence with its history and the decisions of national administrators.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::training::{effective_status, DecisionInput, LicenceAction, LicenceStatus, LicensingRules};
use komlang_core::*;
use komlang_store::{LicenceDetail, LicenceQuery, StoreError, LICENCE_EXPORT_COLUMNS};
use serde::{Deserialize, Serialize};

use crate::common::conflict::{changed_meanwhile, opened_at};
use crate::common::export::{export_format, page_download, FormatParam};
use crate::common::form_box::{
    integer, messages, no_errors, num, query_string, select_choices, values_of, vchoices, Fb, FormBox, FormMap,
};
use crate::common::names::province_choices;
use crate::common::pagination::page_link;
use crate::common::versions::form_version;
use crate::common::{
    flash, layout, render, render_status, store_err, today, Choice, CsrfForm, Ctx, I18n, Layout, PageResult,
};
use crate::AppState;

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
            q: self.q.non_blank().map(str::to_string),
            province: self.province.non_blank().map(str::to_string),
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
#[template(path = "licensing/licences.html")]
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

pub(super) async fn licences_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(f): Query<LicenceFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    licences_view(&app, &ctx, &p, f, None).await
}

pub(super) async fn export_licences(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(fmt): Query<FormatParam>,
    Query(f): Query<LicenceFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let format = export_format(&ctx, &fmt.format)?;
    let rows = app.store.licence_export_rows(&p, &f.query(), today()).await.map_err(|e| store_err(&ctx, e))?;
    page_download(&ctx, "komlang-licences", format, LICENCE_EXPORT_COLUMNS, rows).await
}

/// The licensing rules, as posted (numbers as typed).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct RulesForm {
    pub csrf: String,
    pub term_years: String,
    pub renewal_ce_hours: String,
}

pub(super) async fn set_rules(State(app): State<AppState>, ctx: Ctx, Form(form): Form<RulesForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let mut pre = no_errors();
    let term = integer("term_years", &form.term_years, &mut pre);
    let hours = integer("renewal_ce_hours", &form.renewal_ce_hours, &mut pre);
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
            licences_view(&app, &ctx, &p, LicenceFilters::default(), Some((&values_of(&form), &e))).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

pub struct ActionRow {
    pub action: String,
    pub on_date: String,
    pub by_user: String,
    pub reason: String,
    pub ce_hours: String,
}

#[derive(Template)]
#[template(path = "licensing/licence.html")]
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
        let mut fb = b.finish(i.t("training.decide"), format!("/licences/{id}/decision"), i.t("common.save"));
        fb.edit = opened_at(d.licence.version, &fb.fields);
        Some(fb)
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

pub(super) async fn licence_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    licence_view(&app, &ctx, &p, id, LicenceFailure::None).await
}

/// A decision on a licence, as posted.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct DecisionForm {
    pub csrf: String,
    /// The licence's version when the page was opened.
    #[serde(skip_serializing)]
    pub record_version: String,
    pub action: String,
    #[serde(deserialize_with = "crate::common::forms::non_blank")]
    pub reason: Option<String>,
}

pub(super) async fn decide_licence(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let input = DecisionInput { action: form.action.trim().to_string(), reason: form.reason.clone() };
    match app.store.decide_licence(&p, id, &input, today(), form_version(Some(&form.record_version))).await {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/licences/{id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            licence_view(&app, &ctx, &p, id, LicenceFailure::Decision(&values_of(&form), &e)).await
        }
        Err(StoreError::Stale { .. }) => {
            // Shown as it is now (its history lists what was done meanwhile), the entry kept.
            let e = changed_meanwhile(&app, "licence", &id.to_string()).await?;
            licence_view(&app, &ctx, &p, id, LicenceFailure::Decision(&values_of(&form), &e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

pub(super) async fn renew_licence(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    match app.store.renew_licence(&p, id, today(), f.record_version).await {
        Ok(_) => {
            flash(&ctx, "training.licence_renewed").await?;
            Ok(Redirect::to(&format!("/licences/{id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => licence_view(&app, &ctx, &p, id, LicenceFailure::Renew(&e)).await,
        Err(StoreError::Stale { .. }) => {
            let e = changed_meanwhile(&app, "licence", &id.to_string()).await?;
            licence_view(&app, &ctx, &p, id, LicenceFailure::Renew(&e)).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}
