//! Progress toward certificates by group, the workers eligible for one, and the training
//! targets (national administrators set them).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::training::CertificateLevel;
use komlang_core::*;
use komlang_store::{ProgressQuery, StoreError, TargetInput};
use serde::{Deserialize, Serialize};

use super::shared::programme_title;
use crate::common::form_box::{integer, no_errors, num, typed_with_list, values_of, vchoices, Fb, FormBox, FormMap};
use crate::common::forms::choices;
use crate::common::names::province_choices;
use crate::common::{flash, layout, render, render_status, store_err, Choice, Ctx, Layout, PageResult};
use crate::AppState;

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
            province: self.province.non_blank().map(str::to_string),
            district: self.district.non_blank().map(str::to_string),
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
#[template(path = "training/progress.html")]
struct ProgressPage {
    l: Layout,
    f: ProgressFilters,
    c: ProgressChoices,
    groups: Vec<GroupRow>,
    eligible: Vec<EligibleRow>,
    eligible_total: i64,
    truncated: bool,
}

pub(super) async fn progress_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(f): Query<ProgressFilters>,
) -> PageResult {
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
        cadres: choices(&i, Cadre::ALL, Cadre::code, &f.cadre),
        roles: choices(&i, WorkerRole::ALL, WorkerRole::code, &f.role),
        sectors: choices(&i, Sector::ALL, Sector::code, &f.sector),
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
#[template(path = "training/targets.html")]
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

pub(super) async fn targets_page(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    targets_view(&app, &ctx, &p, None).await
}

/// The form of a training target, as posted (numbers as typed); `roles` are the ticked boxes.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct TargetForm {
    pub csrf: String,
    pub group_code: String,
    pub group_en: String,
    pub level: String,
    pub year: String,
    pub target: String,
    #[serde(skip_deserializing)]
    pub roles: Vec<String>,
}

pub(super) async fn set_target(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let (mut form, roles): (TargetForm, _) = typed_with_list(pairs, "roles");
    form.roles = roles;
    ctx.check_csrf(&form.csrf)?;
    let mut pre = no_errors();
    let year = integer("year", &form.year, &mut pre).unwrap_or(0);
    let target = integer("target", &form.target, &mut pre).unwrap_or(-1);
    let input = TargetInput {
        group_code: form.group_code.trim().to_string(),
        group_en: form.group_en.trim().to_string(),
        level: form.level.trim().to_string(),
        year: i32::try_from(year).unwrap_or(0),
        target,
        roles: form.roles.clone(),
    };
    let result =
        if pre.is_empty() { app.store.set_training_target(&p, &input).await } else { Err(StoreError::Invalid(pre)) };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/training/targets").into_response())
        }
        Err(StoreError::Invalid(e)) => targets_view(&app, &ctx, &p, Some((&values_of(&form), &e))).await,
        Err(e) => Err(store_err(&ctx, e)),
    }
}
