//! Gaps: a worker's standing against the required levels, and the heat map and training needs
//! of the caller's scope (or team), with their filters.

use askama::Template;
use axum::extract::{Path, Query, State};
use komlang_core::competency::{training_needs, AggregateCell, AssessmentKind, Framework};
use komlang_core::*;
use komlang_store::{GapQuery, GapReport, WorkerBrief};
use serde::Deserialize;

use super::assessments::access_or_404;
use super::labels::{framework_of, group_label, opt_rating, rating_class, rating_label, version_choices, VersionParam};
use crate::common::forms::choices;
use crate::common::names::pick;
use crate::common::{layout, render, store_err, Choice, Ctx, I18n, Layout, PageError, PageResult};
use crate::AppState;

pub struct StandingLine {
    pub area: String,
    pub code: String,
    pub name: String,
    pub required: String,
    pub latest: String,
    pub latest_class: String,
    /// The assessment the latest score comes from: (id, date).
    pub latest_from: Option<(i64, String)>,
    pub self_score: String,
    pub supervisor_score: String,
    pub training_score: String,
    pub gap: bool,
}

pub struct DiffLine {
    pub name: String,
    pub self_score: String,
    pub supervisor_score: String,
    pub difference: String,
    pub indicators: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "competency/worker_gaps.html")]
struct WorkerGapsPage {
    l: Layout,
    w: WorkerBrief,
    version: String,
    versions: Vec<Choice>,
    assessments: u32,
    gap_count: usize,
    lines: Vec<StandingLine>,
    diffs: Vec<DiffLine>,
    has_self_and_supervisor: bool,
    self_label: String,
    supervisor_label: String,
    training_label: String,
}

pub(super) async fn worker_gaps_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<VersionParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let access = access_or_404(&app, &ctx, &p, id).await?;
    let fw = framework_of(&app, &ctx, q.version.non_blank().map(String::from).as_deref()).await?;
    let g = app.store.worker_gaps(&p, id, Some(&fw.version)).await.map_err(|e| store_err(&ctx, e))?;
    let i = ctx.i;
    let name_of = |code: &str| fw.competency(code).map(|c| pick(&i, &c.name_en, &c.name_km)).unwrap_or_default();
    let mut lines = Vec::new();
    let mut last_area = String::new();
    for s in &g.competencies {
        let area = fw.area(&s.area_code).map(|a| pick(&i, &a.name_en, &a.name_km)).unwrap_or_default();
        lines.push(StandingLine {
            area: if s.area_code != last_area { area } else { String::new() },
            code: s.competency_code.clone(),
            name: name_of(&s.competency_code),
            required: opt_rating(&i, s.required),
            latest: opt_rating(&i, s.latest),
            latest_class: rating_class(s.latest),
            latest_from: s.latest_assessment_id.zip(s.latest_on).map(|(id, on)| (id, on.to_string())),
            self_score: opt_rating(&i, s.self_score),
            supervisor_score: opt_rating(&i, s.supervisor_score),
            training_score: opt_rating(&i, s.training_score),
            gap: s.gap,
        });
        last_area = s.area_code.clone();
    }
    let text_of = |code: &str| fw.indicator(code).map(|x| pick(&i, &x.text_en, &x.text_km)).unwrap_or_default();
    let diffs = g
        .self_supervisor_differences
        .iter()
        .map(|d| DiffLine {
            name: name_of(&d.competency_code),
            self_score: rating_label(&i, d.self_score),
            supervisor_score: rating_label(&i, d.supervisor_score),
            difference: if d.difference > 0 { format!("+{}", d.difference) } else { d.difference.to_string() },
            indicators: d
                .indicators
                .iter()
                .map(|x| {
                    (text_of(&x.indicator_code), rating_label(&i, x.self_rating), rating_label(&i, x.supervisor_rating))
                })
                .collect(),
        })
        .collect();
    let versions = app.store.framework_versions().await?;
    let l = layout(&ctx, "workers").await?;
    render(&WorkerGapsPage {
        w: access.worker,
        version: fw.version.clone(),
        versions: version_choices(&versions, &fw.version, &i),
        assessments: g.assessments,
        gap_count: g.gaps.len(),
        lines,
        diffs,
        has_self_and_supervisor: g.latest_self_id.is_some() && g.latest_supervisor_id.is_some(),
        self_label: i.label(AssessmentKind::SelfAssessment),
        supervisor_label: i.label(AssessmentKind::Supervisor),
        training_label: i.label(AssessmentKind::Training),
        l,
    })
}

/// Filters of the aggregate pages, as they appear in the query string.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct GapFilters {
    #[serde(default)]
    pub version: String,
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
    pub sex: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub team: String,
}

impl GapFilters {
    /// The store query (unknown codes are ignored, as on the worker list).
    pub fn query(&self) -> GapQuery {
        GapQuery {
            version: self.version.non_blank().map(String::from),
            province: self.province.non_blank().map(String::from),
            district: self.district.non_blank().map(String::from),
            cadre: Cadre::parse(&self.cadre),
            role: WorkerRole::parse(&self.role),
            sector: Sector::parse(&self.sector),
            sex: Sex::parse(&self.sex),
            status: EmploymentStatus::parse(&self.status),
            org_id: None,
            kind: AssessmentKind::parse(&self.kind),
            team: matches!(self.team.trim(), "1" | "true" | "on"),
        }
    }

    /// The filters as a query string (for links to the other aggregate pages and exports).
    pub fn query_string(&self) -> String {
        let pairs: Vec<(&str, &String)> = [
            ("version", &self.version),
            ("province", &self.province),
            ("district", &self.district),
            ("cadre", &self.cadre),
            ("role", &self.role),
            ("sector", &self.sector),
            ("sex", &self.sex),
            ("status", &self.status),
            ("kind", &self.kind),
            ("team", &self.team),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }

    pub fn team(&self) -> bool {
        self.query().team
    }
}

/// CSS class of a heat map cell by the share of workers below the required level.
pub fn heat_class(c: &AggregateCell) -> &'static str {
    match c.share_below {
        None => "heat-none",
        Some(s) if s <= 0.0 => "heat-0",
        Some(s) if s < 0.10 => "heat-1",
        Some(s) if s < 0.25 => "heat-2",
        Some(s) if s < 0.50 => "heat-3",
        Some(s) if s < 0.75 => "heat-4",
        Some(_) => "heat-5",
    }
}

pub fn share_text(c: &AggregateCell) -> String {
    c.share_below.map(|s| format!("{:.0}%", s * 100.0)).unwrap_or_else(|| "—".into())
}

pub struct HeatCell {
    pub code: String,
    /// The competency's number within its area (`01`, `theories.04`), for the compact map.
    pub short: String,
    pub name: String,
    pub group: String,
    pub assessed: u32,
    pub with_requirement: u32,
    pub below: u32,
    pub share: String,
    pub class: &'static str,
}

pub struct HeatArea {
    pub name: String,
    pub cells: Vec<HeatCell>,
}

fn heat_areas(i: &I18n, fw: &Framework, report: &GapReport) -> Vec<HeatArea> {
    fw.areas
        .iter()
        .map(|area| HeatArea {
            name: pick(i, &area.name_en, &area.name_km),
            cells: report
                .cells
                .iter()
                .filter(|c| c.area_code == area.code)
                .map(|c| {
                    let comp = fw.competency(&c.competency_code);
                    HeatCell {
                        code: c.competency_code.clone(),
                        short: c.competency_code.strip_prefix(&format!("{}.", area.code)).unwrap_or("").to_string(),
                        name: comp.map(|x| pick(i, &x.name_en, &x.name_km)).unwrap_or_default(),
                        group: comp.map(|x| group_label(i, &x.group)).unwrap_or_default(),
                        assessed: c.assessed,
                        with_requirement: c.with_requirement,
                        below: c.below_required,
                        share: share_text(c),
                        class: heat_class(c),
                    }
                })
                .collect(),
        })
        .collect()
}

/// The choices of the filter form.
pub struct FilterChoices {
    pub versions: Vec<Choice>,
    pub provinces: Vec<Choice>,
    pub cadres: Vec<Choice>,
    pub roles: Vec<Choice>,
    pub sectors: Vec<Choice>,
    pub sexes: Vec<Choice>,
    pub statuses: Vec<Choice>,
    pub kinds: Vec<Choice>,
}

async fn filter_choices(
    app: &AppState,
    i: &I18n,
    p: &Principal,
    f: &GapFilters,
    version: &str,
) -> Result<FilterChoices, PageError> {
    let versions = app.store.framework_versions().await?;
    let mut provinces = Vec::new();
    if let Some(country) = app.store.country().await? {
        let own = match &p.scope {
            Scope::Nation => None,
            Scope::Unit { code, .. } => app.store.admin_unit(code).await?.and_then(|u| u.province_code),
        };
        for u in app.store.admin_children(&country.code).await? {
            if p.scope == Scope::Nation || own.as_deref() == Some(u.code.as_str()) {
                provinces.push(Choice {
                    selected: u.code == f.province,
                    label: pick(i, &u.name_en, &u.name_km),
                    value: u.code,
                });
            }
        }
    }
    Ok(FilterChoices {
        versions: version_choices(&versions, version, i),
        provinces,
        cadres: choices(i, Cadre::ALL, Cadre::code, &f.cadre),
        roles: choices(i, WorkerRole::ALL, WorkerRole::code, &f.role),
        sectors: choices(i, Sector::ALL, Sector::code, &f.sector),
        sexes: choices(i, Sex::ALL, Sex::code, &f.sex),
        statuses: choices(i, EmploymentStatus::ALL, EmploymentStatus::code, &f.status),
        kinds: choices(i, AssessmentKind::ALL, AssessmentKind::code, &f.kind),
    })
}

#[derive(Template)]
#[template(path = "competency/gaps.html")]
struct GapsPage {
    l: Layout,
    f: GapFilters,
    c: FilterChoices,
    version: String,
    workers_assessed: u32,
    areas: Vec<HeatArea>,
    query: String,
    supervises: bool,
    filter_action: &'static str,
}

/// What the gap pages share: the framework, the gap report of the caller's
/// scope with the filters, the filter choices and the layout.
async fn gap_view(
    app: &AppState,
    ctx: &Ctx,
    f: &GapFilters,
) -> Result<(Framework, GapReport, FilterChoices, bool, Layout), PageError> {
    let p = ctx.require()?.clone();
    let fw = framework_of(app, ctx, f.version.non_blank().map(String::from).as_deref()).await?;
    let mut q = f.query();
    q.version = Some(fw.version.clone());
    let report = app.store.competency_gaps(&p, &q).await.map_err(|e| store_err(ctx, e))?;
    let c = filter_choices(app, &ctx.i, &p, f, &fw.version).await?;
    let supervises = !app.store.supervised_worker_ids(&p).await?.is_empty();
    let l = layout(ctx, "competency_gaps").await?;
    Ok((fw, report, c, supervises, l))
}

pub(super) async fn gaps_page(State(app): State<AppState>, ctx: Ctx, Query(f): Query<GapFilters>) -> PageResult {
    let (fw, report, c, supervises, l) = gap_view(&app, &ctx, &f).await?;
    let i = ctx.i;
    render(&GapsPage {
        version: fw.version.clone(),
        workers_assessed: report.workers_assessed,
        areas: heat_areas(&i, &fw, &report),
        query: f.query_string(),
        c,
        f,
        supervises,
        filter_action: "/competency/gaps",
        l,
    })
}

pub struct NeedLine {
    pub rank: usize,
    pub code: String,
    pub name: String,
    pub area: String,
    pub group: String,
    pub below: u32,
    pub assessed: u32,
    pub share: String,
    pub class: &'static str,
}

fn need_lines(i: &I18n, fw: &Framework, report: &GapReport) -> Vec<NeedLine> {
    training_needs(&report.cells)
        .into_iter()
        .enumerate()
        .map(|(n, c)| {
            let comp = fw.competency(&c.competency_code);
            NeedLine {
                rank: n + 1,
                code: c.competency_code.clone(),
                name: comp.map(|x| pick(i, &x.name_en, &x.name_km)).unwrap_or_default(),
                area: fw.area(&c.area_code).map(|a| pick(i, &a.name_en, &a.name_km)).unwrap_or_default(),
                group: comp.map(|x| group_label(i, &x.group)).unwrap_or_default(),
                below: c.below_required,
                assessed: c.assessed,
                share: share_text(c),
                class: heat_class(c),
            }
        })
        .collect()
}

#[derive(Template)]
#[template(path = "competency/training_needs.html")]
struct TrainingNeedsPage {
    l: Layout,
    f: GapFilters,
    c: FilterChoices,
    version: String,
    workers_assessed: u32,
    needs: Vec<NeedLine>,
    query: String,
    supervises: bool,
    filter_action: &'static str,
}

pub(super) async fn training_needs_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(f): Query<GapFilters>,
) -> PageResult {
    let (fw, report, c, supervises, l) = gap_view(&app, &ctx, &f).await?;
    let i = ctx.i;
    render(&TrainingNeedsPage {
        version: fw.version.clone(),
        workers_assessed: report.workers_assessed,
        needs: need_lines(&i, &fw, &report),
        query: f.query_string(),
        c,
        f,
        supervises,
        filter_action: "/competency/training-needs",
        l,
    })
}
