//! A worker's assessments: the list and progress, one assessment, deleting one, and setting
//! the worker's supervisor.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::competency::{AssessmentKind, Framework, Rating};
use komlang_core::*;
use komlang_store::{Assessment, AssessmentAccess, StoreError, SupervisorInfo, WorkerBrief};
use serde::Deserialize;

use super::labels::{framework_of, group_label, opt_rating, rating_class, rating_label};
use crate::common::names::pick;
use crate::common::{
    flash, layout, render, render_status, store_err, Choice, CsrfForm, Ctx, Layout, PageError, PageResult,
};
use crate::AppState;

pub(super) async fn access_or_404(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    worker_id: i64,
) -> Result<AssessmentAccess, PageError> {
    app.store.assessment_access(p, worker_id).await.map_err(|e| store_err(ctx, e))?.ok_or_else(|| ctx.not_found())
}

pub struct AssessmentLine {
    pub id: i64,
    pub date: String,
    pub kind: String,
    pub assessor: String,
    pub version: String,
    pub rated: usize,
    /// Mean score of each area (one decimal), in area order.
    pub area_means: Vec<String>,
}

pub struct ProgressRow {
    pub area: String,
    pub code: String,
    pub name: String,
    pub cells: Vec<(String, String)>,
    pub change: String,
}

#[derive(Template)]
#[template(path = "competency/assessments.html")]
struct AssessmentsPage {
    l: Layout,
    w: WorkerBrief,
    in_scope: bool,
    supervisor: Option<SupervisorInfo>,
    new_kinds: Vec<Choice>,
    lines: Vec<AssessmentLine>,
    area_names: Vec<String>,
    progress_heads: Vec<String>,
    progress: Vec<ProgressRow>,
    version: String,
}

fn area_means(fw: &Framework, a: &Assessment) -> Vec<String> {
    fw.areas
        .iter()
        .map(|area| {
            let (sum, n) = a
                .scores
                .iter()
                .filter(|s| s.area_code == area.code)
                .filter_map(|s| s.score)
                .fold((0u32, 0u32), |(s, n), r| (s + u32::from(r.value()), n + 1));
            if n == 0 {
                "—".to_string()
            } else {
                format!("{:.1}", f64::from(sum) / f64::from(n))
            }
        })
        .collect()
}

/// Up to this many of the latest assessments are shown side by side in the progress table.
const PROGRESS_COLUMNS: usize = 6;

pub(super) async fn assessments_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let access = access_or_404(&app, &ctx, &p, id).await?;
    let list = app.store.list_assessments(&p, id).await.map_err(|e| store_err(&ctx, e))?;
    let supervisor = app.store.worker_supervisor(&p, id).await.map_err(|e| store_err(&ctx, e))?;
    let fw = app.store.current_framework().await?;
    let i = ctx.i;
    let mut frameworks: HashMap<String, Framework> = HashMap::new();
    frameworks.insert(fw.version.clone(), fw.clone());
    let mut lines = Vec::new();
    for a in list.iter().rev() {
        if !frameworks.contains_key(&a.framework_version) {
            if let Some(f) = app.store.framework(&a.framework_version).await? {
                frameworks.insert(a.framework_version.clone(), f);
            }
        }
        let means = frameworks.get(&a.framework_version).map(|f| area_means(f, a)).unwrap_or_default();
        lines.push(AssessmentLine {
            id: a.id,
            date: a.assessed_on.to_string(),
            kind: i.label(a.kind),
            assessor: a.assessor.clone(),
            version: a.framework_version.clone(),
            rated: a.ratings.len(),
            area_means: means,
        });
    }
    // Progress: the latest assessments in the current version, oldest first.
    let current: Vec<&Assessment> = list.iter().filter(|a| a.framework_version == fw.version).collect();
    let shown = &current[current.len().saturating_sub(PROGRESS_COLUMNS)..];
    let progress_heads = shown.iter().map(|a| format!("{} · {}", a.assessed_on, i.label(a.kind))).collect();
    let mut progress = Vec::new();
    let mut last_area = String::new();
    for (area, c) in fw.competencies() {
        let scores: Vec<Option<Rating>> =
            shown.iter().map(|a| a.scores.iter().find(|s| s.competency_code == c.code).and_then(|s| s.score)).collect();
        if scores.iter().all(Option::is_none) {
            continue;
        }
        // Like with like: the latest score against the previous one of the same kind.
        let scored: Vec<(AssessmentKind, Rating)> =
            shown.iter().zip(&scores).filter_map(|(a, s)| Some((a.kind, (*s)?))).collect();
        let change = match scored.split_last() {
            Some(((kind, last), earlier)) => match earlier.iter().rev().find(|(k, _)| k == kind) {
                Some((_, before)) => {
                    let d = i16::from(last.value()) - i16::from(before.value());
                    if d > 0 {
                        format!("+{d}")
                    } else {
                        d.to_string()
                    }
                }
                None => String::new(),
            },
            None => String::new(),
        };
        progress.push(ProgressRow {
            area: if area.code != last_area { pick(&i, &area.name_en, &area.name_km) } else { String::new() },
            code: c.code.clone(),
            name: pick(&i, &c.name_en, &c.name_km),
            cells: scores.iter().map(|s| (opt_rating(&i, *s), rating_class(*s))).collect(),
            change,
        });
        last_area = area.code.clone();
    }
    let new_kinds = access
        .kinds()
        .into_iter()
        .map(|k| Choice { value: k.code().to_string(), label: i.label(k), selected: false })
        .collect();
    let l = layout(&ctx, "workers").await?;
    render(&AssessmentsPage {
        area_names: fw.areas.iter().map(|a| pick(&i, &a.name_en, &a.name_km)).collect(),
        version: fw.version.clone(),
        w: access.worker,
        in_scope: access.in_scope,
        supervisor,
        new_kinds,
        lines,
        progress_heads,
        progress,
        l,
    })
}

#[derive(Deserialize)]
pub(super) struct SupervisorForm {
    #[serde(default)]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) supervisor: String,
}

pub(super) async fn set_supervisor(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<SupervisorForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    match app.store.set_worker_supervisor(&p, id, Some(f.supervisor.as_str())).await {
        Ok(_) => {
            flash(&ctx, "common.saved").await?;
            Ok(Redirect::to(&format!("/workers/{id}")).into_response())
        }
        Err(StoreError::Invalid(e)) => {
            let message = e.errors.first().map(|e| ctx.i.field_error(e)).unwrap_or_default();
            let l = layout(&ctx, "workers").await?;
            render_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &MessagePage { l, title: ctx.i.t("competency.supervisor"), message, back: format!("/workers/{id}") },
            )
        }
        Err(e) => Err(store_err(&ctx, e)),
    }
}

#[derive(Template)]
#[template(path = "competency/message.html")]
struct MessagePage {
    l: Layout,
    title: String,
    message: String,
    back: String,
}

pub struct ViewIndicator {
    pub text: String,
    pub rating: String,
    pub class: String,
    pub evidence: String,
}

pub struct ViewCompetency {
    pub code: String,
    pub name: String,
    pub group: String,
    pub score: String,
    pub class: String,
    pub mean: String,
    pub rated: String,
    pub indicators: Vec<ViewIndicator>,
}

pub struct ViewArea {
    pub name: String,
    pub competencies: Vec<ViewCompetency>,
}

#[derive(Template)]
#[template(path = "competency/assessment.html")]
struct AssessmentPage {
    l: Layout,
    a: Assessment,
    w: WorkerBrief,
    kind: String,
    current_version: bool,
    can_edit: bool,
    can_delete: bool,
    areas: Vec<ViewArea>,
}

pub(super) async fn assessment_page(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(a) = app.store.get_assessment(&p, id).await.map_err(|e| store_err(&ctx, e))? else {
        return Err(ctx.not_found());
    };
    let access = access_or_404(&app, &ctx, &p, a.worker_id).await?;
    let fw = framework_of(&app, &ctx, Some(&a.framework_version)).await?;
    let current = app.store.current_framework().await?.version == fw.version;
    let i = ctx.i;
    let ratings: HashMap<&str, &competency::RatedIndicator> =
        a.ratings.iter().map(|r| (r.indicator_code.as_str(), r)).collect();
    let mut areas = Vec::new();
    for area in &fw.areas {
        let mut comps = Vec::new();
        let mut last_group = String::new();
        for c in &area.competencies {
            let Some(score) = a.scores.iter().find(|s| s.competency_code == c.code) else { continue };
            let group = group_label(&i, &c.group);
            comps.push(ViewCompetency {
                code: c.code.clone(),
                name: pick(&i, &c.name_en, &c.name_km),
                group: if group != last_group { group.clone() } else { String::new() },
                score: opt_rating(&i, score.score),
                class: rating_class(score.score),
                mean: score.mean().map(|m| format!("{m:.2}")).unwrap_or_default(),
                rated: i.tp(
                    "competency.rated_of",
                    &[("rated", score.rated.to_string()), ("total", score.indicators.to_string())],
                ),
                indicators: c
                    .indicators
                    .iter()
                    .filter_map(|x| {
                        let r = ratings.get(x.code.as_str())?;
                        Some(ViewIndicator {
                            text: pick(&i, &x.text_en, &x.text_km),
                            rating: rating_label(&i, r.rating),
                            class: rating_class(Some(r.rating)),
                            evidence: r.evidence.clone().unwrap_or_default(),
                        })
                    })
                    .collect(),
            });
            last_group = group;
        }
        if !comps.is_empty() {
            areas.push(ViewArea { name: pick(&i, &area.name_en, &area.name_km), competencies: comps });
        }
    }
    let can_edit = access.may_record(a.kind);
    let l = layout(&ctx, "workers").await?;
    render(&AssessmentPage {
        kind: i.label(a.kind),
        current_version: current,
        can_edit,
        can_delete: can_edit || p.may(Action::DeleteAnyAssessment),
        w: access.worker,
        a,
        areas,
        l,
    })
}

pub(super) async fn delete_assessment(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    let Some(a) = app.store.get_assessment(&p, id).await.map_err(|e| store_err(&ctx, e))? else {
        return Err(ctx.not_found());
    };
    app.store.delete_assessment(&p, id, f.record_version).await.map_err(|e| store_err(&ctx, e))?;
    flash(&ctx, "common.deleted").await?;
    Ok(Redirect::to(&format!("/workers/{}/assessments", a.worker_id)).into_response())
}
