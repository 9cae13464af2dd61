//! Exports: every rating, the gap table and the training needs, as CSV or XLSX.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use komlang_core::competency::{training_needs, AggregateCell, Framework};
use komlang_core::*;
use komlang_store::{GapQuery, StoreError, ASSESSMENT_EXPORT_COLUMNS};
use serde::Deserialize;

use super::gaps::GapFilters;
use crate::common::export::table_file;
use crate::common::{store_err, Ctx, ExportFormat, PageResult};
use crate::AppState;

/// What an export holds: `assessments`, `gaps` or `training-needs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, utoipa::ToSchema)]
#[schema(rename_all = "kebab-case")]
pub enum ExportTable {
    /// Every rating of every assessment in scope.
    Assessments,
    /// The area x competency gap table.
    Gaps,
    /// The training-needs list.
    TrainingNeeds,
}

impl ExportTable {
    pub fn parse(s: &str) -> Option<ExportTable> {
        match s.trim() {
            "assessments" => Some(ExportTable::Assessments),
            "gaps" => Some(ExportTable::Gaps),
            "training-needs" | "training_needs" => Some(ExportTable::TrainingNeeds),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            ExportTable::Assessments => "assessments",
            ExportTable::Gaps => "gaps",
            ExportTable::TrainingNeeds => "training-needs",
        }
    }
}

/// Columns of the gap table export.
pub const GAP_EXPORT_COLUMNS: &[&str] = &[
    "framework_version",
    "area_code",
    "area_name_en",
    "area_name_km",
    "competency_code",
    "group",
    "competency_name_en",
    "competency_name_km",
    "workers_assessed",
    "with_requirement",
    "below_required",
    "share_below",
];

/// Columns of the training-needs export: the gap table's, ranked.
pub const NEEDS_EXPORT_COLUMNS: &[&str] = &[
    "rank",
    "framework_version",
    "area_code",
    "area_name_en",
    "area_name_km",
    "competency_code",
    "group",
    "competency_name_en",
    "competency_name_km",
    "workers_assessed",
    "with_requirement",
    "below_required",
    "share_below",
];

fn gap_row(fw: &Framework, c: &AggregateCell) -> Vec<String> {
    let area = fw.area(&c.area_code);
    let comp = fw.competency(&c.competency_code);
    vec![
        fw.version.clone(),
        c.area_code.clone(),
        area.map(|a| a.name_en.clone()).unwrap_or_default(),
        area.map(|a| a.name_km.clone()).unwrap_or_default(),
        c.competency_code.clone(),
        comp.map(|x| x.group.clone()).unwrap_or_default(),
        comp.map(|x| x.name_en.clone()).unwrap_or_default(),
        comp.map(|x| x.name_km.clone()).unwrap_or_default(),
        c.assessed.to_string(),
        c.with_requirement.to_string(),
        c.below_required.to_string(),
        c.share_below.map(|s| format!("{s:.4}")).unwrap_or_default(),
    ]
}

/// The rows of an export (in the caller's scope or team, with the filters), and its columns.
pub async fn export_rows(
    app: &AppState,
    p: &Principal,
    table: ExportTable,
    q: &GapQuery,
) -> Result<(&'static [&'static str], Vec<Vec<String>>), StoreError> {
    match table {
        ExportTable::Assessments => {
            let rows = app.store.assessment_export_rows(p, q).await?;
            let mut frameworks: HashMap<String, Option<Framework>> = HashMap::new();
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                if !frameworks.contains_key(&r.framework_version) {
                    let fw = app.store.framework(&r.framework_version).await?;
                    frameworks.insert(r.framework_version.clone(), fw);
                }
                let fw = frameworks.get(&r.framework_version).and_then(|f| f.as_ref());
                let comp = fw.and_then(|f| f.competency_of_indicator(&r.indicator_code));
                let area = comp.map(|c| c.code.split('.').next().unwrap_or("").to_string()).unwrap_or_default();
                out.push(vec![
                    r.assessment_id.to_string(),
                    r.worker_id.to_string(),
                    r.name_km,
                    r.name_latin,
                    r.sex,
                    r.cadre,
                    r.role,
                    r.sector,
                    r.province_code.unwrap_or_default(),
                    r.district_code.unwrap_or_default(),
                    r.workplace_code,
                    r.framework_version,
                    r.kind,
                    r.assessed_on,
                    r.assessor,
                    r.recorded_by,
                    area,
                    comp.map(|c| c.code.clone()).unwrap_or_default(),
                    r.indicator_code,
                    r.rating.to_string(),
                    r.evidence.unwrap_or_default(),
                ]);
            }
            Ok((ASSESSMENT_EXPORT_COLUMNS, out))
        }
        ExportTable::Gaps | ExportTable::TrainingNeeds => {
            let fw = app.store.framework_or_current(q.version.as_deref()).await?.ok_or(StoreError::NotFound)?;
            let mut q = q.clone();
            q.version = Some(fw.version.clone());
            let report = app.store.competency_gaps(p, &q).await?;
            if table == ExportTable::Gaps {
                Ok((GAP_EXPORT_COLUMNS, report.cells.iter().map(|c| gap_row(&fw, c)).collect()))
            } else {
                let rows = training_needs(&report.cells)
                    .into_iter()
                    .enumerate()
                    .map(|(n, c)| {
                        let mut row = vec![(n + 1).to_string()];
                        row.extend(gap_row(&fw, c));
                        row
                    })
                    .collect();
                Ok((NEEDS_EXPORT_COLUMNS, rows))
            }
        }
    }
}

/// An export as a file to download.
pub async fn export_file(
    app: &AppState,
    p: &Principal,
    table: ExportTable,
    format: ExportFormat,
    q: &GapQuery,
) -> Result<Response, StoreError> {
    let (columns, rows) = export_rows(app, p, table, q).await?;
    table_file(&format!("komlang-competency-{}", table.code()), format, columns, rows).await
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct ExportParams {
    #[serde(default)]
    pub(super) table: String,
    #[serde(default)]
    pub(super) format: String,
}

pub(super) async fn export_page(
    State(app): State<AppState>,
    ctx: Ctx,
    Query(e): Query<ExportParams>,
    Query(f): Query<GapFilters>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let table = ExportTable::parse(&e.table).ok_or_else(|| ctx.not_found())?;
    let format = if e.format.trim().is_empty() {
        ExportFormat::Csv
    } else {
        ExportFormat::parse(&e.format).ok_or_else(|| ctx.not_found())?
    };
    export_file(&app, &p, table, format, &f.query()).await.map_err(|e| store_err(&ctx, e))
}
