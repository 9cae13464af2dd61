//! The national competency framework (areas, competencies, indicators) and the levels each
//! cadre and role requires; national administrators set the levels.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::competency::{Framework, Rating, RequirementFor};
use komlang_core::*;
use komlang_store::{parse_requirement_target, requirement_target_code, StoreError};
use serde::Deserialize;

use super::labels::{framework_of, group_label, rating_label, version_choices, VersionParam};
use crate::common::names::pick;
use crate::common::{flash, layout, render, render_status, store_err, Choice, Ctx, I18n, Layout, PageResult};
use crate::AppState;

pub struct IndicatorView {
    pub code: String,
    pub text: String,
}

pub struct CompetencyView {
    pub code: String,
    pub name: String,
    pub indicators: Vec<IndicatorView>,
}

pub struct GroupView {
    /// Empty outside the knowledge area.
    pub label: String,
    pub competencies: Vec<CompetencyView>,
}

pub struct AreaView {
    pub code: String,
    pub name: String,
    pub competency_count: usize,
    pub indicator_count: usize,
    pub groups: Vec<GroupView>,
}

/// The framework by area and knowledge group, in the interface language.
fn area_views(i: &I18n, fw: &Framework) -> Vec<AreaView> {
    fw.areas
        .iter()
        .map(|a| {
            let mut groups: Vec<GroupView> = Vec::new();
            for c in &a.competencies {
                let label = group_label(i, &c.group);
                if groups.last().is_none_or(|g| g.label != label) {
                    groups.push(GroupView { label, competencies: Vec::new() });
                }
                let view = CompetencyView {
                    code: c.code.clone(),
                    name: pick(i, &c.name_en, &c.name_km),
                    indicators: c
                        .indicators
                        .iter()
                        .map(|x| IndicatorView { code: x.code.clone(), text: pick(i, &x.text_en, &x.text_km) })
                        .collect(),
                };
                if let Some(g) = groups.last_mut() {
                    g.competencies.push(view);
                }
            }
            AreaView {
                code: a.code.clone(),
                name: pick(i, &a.name_en, &a.name_km),
                competency_count: a.competencies.len(),
                indicator_count: a.competencies.iter().map(|c| c.indicators.len()).sum(),
                groups,
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "competency/framework.html")]
struct FrameworkPage {
    l: Layout,
    title: String,
    version: String,
    current: bool,
    versions: Vec<Choice>,
    competency_count: usize,
    indicator_count: usize,
    source: String,
    translation_note: String,
    areas: Vec<AreaView>,
}

pub(super) async fn framework_page(State(app): State<AppState>, ctx: Ctx, Query(q): Query<VersionParam>) -> PageResult {
    ctx.require()?;
    let fw = framework_of(&app, &ctx, q.version.non_blank().map(String::from).as_deref()).await?;
    let versions = app.store.framework_versions().await?;
    let i = ctx.i;
    let current = versions.iter().any(|v| v.current && v.version == fw.version);
    let l = layout(&ctx, "competencies").await?;
    render(&FrameworkPage {
        title: pick(&i, &fw.title_en, &fw.title_km),
        version: fw.version.clone(),
        current,
        versions: version_choices(&versions, &fw.version, &i),
        competency_count: fw.competency_count(),
        indicator_count: fw.indicator_count(),
        source: fw.source.clone(),
        translation_note: fw.translation_note.clone(),
        areas: area_views(&i, &fw),
        l,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct RequirementParams {
    #[serde(default)]
    pub version: String,
    #[serde(default, rename = "for")]
    pub target: String,
}

pub struct LevelRow {
    /// The area's name on the first row of an area, else empty.
    pub area: String,
    pub group: String,
    pub code: String,
    pub name: String,
    pub level: String,
    pub options: Vec<Choice>,
    pub error: String,
}

#[derive(Template)]
#[template(path = "competency/requirements.html")]
struct RequirementsPage {
    l: Layout,
    version: String,
    versions: Vec<Choice>,
    cadres: Vec<Choice>,
    roles: Vec<Choice>,
    target: String,
    target_label: String,
    rows: Vec<LevelRow>,
    can_edit: bool,
    has_errors: bool,
}

fn target_label(i: &I18n, t: RequirementFor) -> String {
    match t {
        RequirementFor::Cadre(c) => format!("{}: {}", i.t("worker.cadre"), i.label(c)),
        RequirementFor::Role(r) => format!("{}: {}", i.t("worker.role"), i.label(r)),
    }
}

#[allow(clippy::too_many_arguments)]
async fn requirements_view(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    fw: &Framework,
    target: RequirementFor,
    submitted: Option<&HashMap<String, String>>,
    errors: &ValidationErrors,
    status: StatusCode,
) -> PageResult {
    let i = ctx.i;
    let reqs = app.store.competency_requirements(&fw.version).await?;
    let levels: HashMap<String, Rating> =
        reqs.into_iter().filter(|r| r.applies_to == target).map(|r| (r.competency_code, r.level)).collect();
    let mut rows = Vec::new();
    let mut last_area = String::new();
    let mut last_group = String::new();
    for (area, c) in fw.competencies() {
        let current = match submitted {
            Some(form) => form.get(&format!("level.{}", c.code)).cloned().unwrap_or_default(),
            None => levels.get(&c.code).map(|r| r.value().to_string()).unwrap_or_default(),
        };
        let mut options = vec![Choice {
            value: String::new(),
            label: i.t("competency.no_requirement"),
            selected: current.is_empty(),
        }];
        options.extend(Rating::ALL.iter().map(|r| Choice {
            value: r.value().to_string(),
            label: rating_label(&i, *r),
            selected: r.value().to_string() == current,
        }));
        let group = group_label(&i, &c.group);
        rows.push(LevelRow {
            area: if area.code != last_area { pick(&i, &area.name_en, &area.name_km) } else { String::new() },
            group: if group != last_group || area.code != last_area { group.clone() } else { String::new() },
            code: c.code.clone(),
            name: pick(&i, &c.name_en, &c.name_km),
            level: levels.get(&c.code).map(|r| rating_label(&i, *r)).unwrap_or_default(),
            options,
            error: errors.for_field(&format!("level.{}", c.code)).map(|e| i.field_error(e)).unwrap_or_default(),
        });
        last_area = area.code.clone();
        last_group = group;
    }
    let versions = app.store.framework_versions().await?;
    let code = requirement_target_code(target);
    let cadres = Cadre::ALL
        .iter()
        .map(|c| {
            let v = requirement_target_code(RequirementFor::Cadre(*c));
            Choice { selected: v == code, value: v, label: i.label(*c) }
        })
        .collect();
    let roles = WorkerRole::ALL
        .iter()
        .map(|r| {
            let v = requirement_target_code(RequirementFor::Role(*r));
            Choice { selected: v == code, value: v, label: i.label(*r) }
        })
        .collect();
    let l = layout(ctx, "competencies").await?;
    render_status(
        status,
        &RequirementsPage {
            version: fw.version.clone(),
            versions: version_choices(&versions, &fw.version, &i),
            cadres,
            roles,
            target: code,
            target_label: target_label(&i, target),
            rows,
            can_edit: p.may(Action::KeepFramework),
            has_errors: !errors.is_empty(),
            l,
        },
    )
}

pub(super) async fn requirements_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(q): Query<RequirementParams>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let fw = framework_of(&app, &ctx, q.version.non_blank().map(String::from).as_deref()).await?;
    let target = match q.target.non_blank().map(String::from) {
        None => RequirementFor::Cadre(Cadre::ParaSocialWorker),
        Some(t) => parse_requirement_target(&t).ok_or_else(|| ctx.not_found())?,
    };
    requirements_view(&app, &ctx, &p, &fw, target, None, &ValidationErrors::default(), StatusCode::OK).await
}

pub(super) async fn save_requirements(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(form): Form<HashMap<String, String>>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(form.get("csrf").map(String::as_str).unwrap_or(""))?;
    let version = form.get("version").cloned().unwrap_or_default();
    let fw = framework_of(&app, &ctx, version.non_blank().map(String::from).as_deref()).await?;
    let target = form.get("for").and_then(|t| parse_requirement_target(t)).ok_or_else(|| ctx.not_found())?;
    let mut levels = BTreeMap::new();
    let mut errs = ValidationErrors::default();
    for (k, v) in &form {
        let Some(code) = k.strip_prefix("level.") else { continue };
        let v = v.trim();
        if v.is_empty() {
            continue;
        }
        match Rating::parse(v) {
            Some(r) => {
                levels.insert(code.to_string(), r);
            }
            None => errs.push(FieldError::new(k, "rating_out_of_scale").with("value", v).with("min", 1).with("max", 4)),
        }
    }
    let result = if errs.is_empty() {
        app.store.set_competency_requirements(&p, &fw.version, target, &levels).await
    } else {
        Err(StoreError::Invalid(errs))
    };
    match result {
        Ok(()) => {
            flash(&ctx, "common.saved").await?;
            let q = serde_urlencoded::to_string([
                ("version", fw.version.clone()),
                ("for", requirement_target_code(target)),
            ])
            .unwrap_or_default();
            Ok(Redirect::to(&format!("/competencies/requirements?{q}")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            requirements_view(&app, &ctx, &p, &fw, target, Some(&form), &e, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}
