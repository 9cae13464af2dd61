//! Staffing norms: the list, and adding one (national administrators).

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::planning::{NormRule, WorkerFilter, PLAN_LEVELS};
use komlang_core::{Action, Cadre, FieldError, Sector, ValidationErrors};
use komlang_store::planning::{NewNorm, NormRecord};
use komlang_store::StoreError;
use serde::{Deserialize, Serialize};

use super::shared::{error_text, field_label, norm_title, plan_level, rule_text, store_error};
use crate::common::form_box::values_of;
use crate::common::{flash, layout, render, render_status, Ctx, Layout, PageResult};
use crate::AppState;

#[derive(Template)]
#[template(path = "planning/norms.html")]
struct NormsPage {
    l: Layout,
    norms: Vec<NormRecord>,
    can_manage: bool,
    form: HashMap<String, String>,
    errors: Vec<String>,
}

impl NormsPage {
    fn title(&self, n: &NormRecord) -> String {
        norm_title(&self.l.i, n)
    }
    fn rule(&self, r: &NormRule) -> String {
        rule_text(&self.l.i, r)
    }
    fn value(&self, k: &str) -> String {
        self.form.get(k).cloned().unwrap_or_default()
    }
    fn selected(&self, k: &str, v: &str) -> bool {
        self.form.get(k).map(String::as_str) == Some(v)
    }
    fn levels(&self) -> Vec<(String, String)> {
        PLAN_LEVELS.iter().map(|l| (l.code().to_string(), self.l.i.label(*l))).collect()
    }
}

pub(super) async fn norms_page(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    let norms = app.store.planning_norms(&p).await.map_err(|e| store_error(&ctx, e))?;
    let form: HashMap<String, String> =
        [("level", "province"), ("workers", "1"), ("per", "10000"), ("base", "population"), ("counts", "government")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let l = layout(&ctx, "planning").await?;
    render(&NormsPage { l, norms, can_manage: p.may(Action::KeepNorms), form, errors: Vec::new() })
}

/// The workers a norm form counts.
fn counts_of(code: &str) -> WorkerFilter {
    match code {
        "all" => WorkerFilter::default(),
        "government_professional" => {
            WorkerFilter { sectors: vec![Sector::Government], cadres: vec![Cadre::Professional], roles: vec![] }
        }
        _ => WorkerFilter::government(),
    }
}

/// The form of a staffing norm (one ratio), as posted (numbers as typed).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct NormForm {
    pub csrf: String,
    pub name: String,
    pub title_en: String,
    pub title_km: String,
    pub level: String,
    pub workers: String,
    pub per: String,
    /// `population` or `children`.
    pub base: String,
    /// `government`, `government_professional` or `all`.
    pub counts: String,
}

pub(super) async fn add_norm(State(app): State<AppState>, ctx: Ctx, Form(form): Form<NormForm>) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&form.csrf)?;
    let i = ctx.i;
    let mut errs = ValidationErrors::default();
    let level = plan_level(form.level.trim());
    if level.is_none() {
        errs.push(FieldError::new("level", "invalid_choice"));
    }
    let workers: Option<f64> = form.workers.trim().replace(',', ".").parse().ok().filter(|v: &f64| v.is_finite());
    if workers.is_none() {
        errs.push(FieldError::new("workers", "invalid_number"));
    }
    let per: Option<u64> = form.per.trim().replace([',', ' '], "").parse().ok();
    if per.is_none() {
        errs.push(FieldError::new("per", "invalid_number"));
    }
    let result = match (level, workers, per) {
        (Some(level), Some(workers), Some(per)) if errs.is_empty() => {
            let input = NewNorm {
                name: form.name.trim().to_string(),
                title_en: form.title_en.trim().to_string(),
                title_km: form.title_km.trim().to_string(),
                rules: vec![NormRule::Ratio {
                    level,
                    workers,
                    per,
                    children: form.base.trim() == "children",
                    counts: counts_of(form.counts.trim()),
                }],
            };
            app.store.add_planning_norm(&p, &input).await
        }
        _ => Err(StoreError::Invalid(errs)),
    };
    match result {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to("/planning/norms").into_response())
        }
        Err(StoreError::Invalid(v)) => {
            let norms = app.store.planning_norms(&p).await.map_err(|e| store_error(&ctx, e))?;
            let errors =
                v.errors.iter().map(|e| format!("{}: {}", field_label(&i, &e.field), error_text(&i, e))).collect();
            let l = layout(&ctx, "planning").await?;
            let form = values_of(&form);
            render_status(StatusCode::UNPROCESSABLE_ENTITY, &NormsPage { l, norms, can_manage: true, form, errors })
        }
        Err(e) => Err(store_error(&ctx, e)),
    }
}
