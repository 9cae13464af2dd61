//! The dry-run preview of an import (problems, likely duplicates side by side, a decision
//! for each) and the commit.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::import::{check_mapping, ColumnMapping, ImportField};
use komlang_core::*;
use komlang_store::{
    DupDecision, DupTarget, DuplicateFound, ImportOptions, ImportReport, StoreError, WorkerImportOptions,
};

use super::files::{
    kind_of, load_file, open_table_within, read_table_within, rows_by_number, store_rows_in, ImportKind, LoadedFile,
};
use super::mapping::{mapping_from_params, mapping_params};
use super::upload::new_page;
use crate::common::import_report::{counts, decision_code, decision_parse, explanation, problems, Counts, ProblemView};
use crate::common::{flash, layout, render, render_status, today, Choice, Ctx, I18n, Layout, PageError, PageResult};
use crate::AppState;

/// Score from which a likely duplicate is skipped unless the user decides otherwise.
pub const SKIP_FROM_SCORE: u8 = 95;

/// `d12=merge&d15=keep_both…`: the decision for the duplicate found at a row.
fn decisions_from_params(params: &[(String, String)]) -> BTreeMap<u64, DupDecision> {
    params
        .iter()
        .filter_map(|(k, v)| {
            let row = k.strip_prefix('d')?.parse::<u64>().ok()?;
            Some((row, decision_parse(v)?))
        })
        .collect()
}

/// Skip a near-certain duplicate, keep both otherwise, unless the user chose.
pub fn default_decision(score: u8) -> DupDecision {
    if score >= SKIP_FROM_SCORE {
        DupDecision::Skip
    } else {
        DupDecision::KeepBoth
    }
}

pub struct DupView {
    pub row: u64,
    pub title: String,
    pub explanation: String,
    pub likeness: String,
    pub left_title: String,
    pub right_title: String,
    pub right_link: Option<String>,
    /// (field label, value in the file, value of the other record)
    pub lines: Vec<(String, String, String)>,
    pub choices: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "imports/preview.html")]
struct PreviewPage {
    l: Layout,
    file_id: i64,
    file_name: String,
    kind: String,
    kind_label: String,
    counts: Counts,
    problems: Vec<ProblemView>,
    more_problems: usize,
    more_text: String,
    duplicates: Vec<DupView>,
    hidden: Vec<(String, String)>,
    partial: bool,
    back: Option<String>,
    error: Option<String>,
}

/// What a flow's forms and links carry: the kind, the matching and the decisions.
struct FlowParams {
    kind: ImportKind,
    mapping: ColumnMapping,
    decisions: BTreeMap<u64, DupDecision>,
    partial: bool,
}

/// The fields compared side by side for a likely duplicate.
const SIDE_BY_SIDE: [ImportField; 7] = [
    ImportField::NameKm,
    ImportField::NameLatin,
    ImportField::Sex,
    ImportField::DateOfBirth,
    ImportField::NationalId,
    ImportField::Phone,
    ImportField::WorkplaceCode,
];

fn worker_value(w: &Worker, f: ImportField, i: &I18n) -> String {
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    match f {
        ImportField::NameKm => w.name_km.clone(),
        ImportField::NameLatin => w.name_latin.clone(),
        ImportField::Sex => i.label(w.sex),
        ImportField::DateOfBirth => date(w.date_of_birth),
        ImportField::NationalId => w.national_id.clone().unwrap_or_default(),
        ImportField::Phone => w.phone.clone().unwrap_or_default(),
        ImportField::WorkplaceCode => w.workplace_code.clone(),
        _ => String::new(),
    }
}

fn cell_value(mapping: &ColumnMapping, cells: Option<&Vec<String>>, f: ImportField) -> String {
    let Some(cells) = cells else { return String::new() };
    mapping.columns.iter().position(|c| *c == Some(f)).and_then(|n| cells.get(n)).cloned().unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
async fn dup_views(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    file: &LoadedFile,
    mapping: &ColumnMapping,
    found: &[DuplicateFound],
    chosen: &BTreeMap<u64, DupDecision>,
) -> Result<Vec<DupView>, PageError> {
    let mut wanted: BTreeSet<u64> = found.iter().map(|d| d.row).collect();
    wanted.extend(found.iter().filter_map(|d| match d.target {
        DupTarget::Row(r) => Some(r),
        _ => None,
    }));
    let cells = rows_by_number(&app.config.upload_limits, &file.name, &file.bytes, &wanted);
    let mut out = Vec::new();
    for d in found {
        let decision = chosen.get(&d.row).copied().unwrap_or_else(|| default_decision(d.score));
        let mine = cells.get(&d.row);
        let (right_title, right_link, right): (String, Option<String>, Vec<String>) = match &d.target {
            DupTarget::Existing { worker_id, .. } => {
                // Only what the user may see of the existing record is shown.
                match app.store.get_worker(p, *worker_id).await? {
                    Some(w) => (
                        i.t("import.existing"),
                        Some(format!("/workers/{worker_id}")),
                        SIDE_BY_SIDE.iter().map(|f| worker_value(&w, *f, i)).collect(),
                    ),
                    None => (i.t("import.existing"), None, vec![i.t("common.not_found")]),
                }
            }
            DupTarget::Row(r) => (
                i.tp("import.other_row", &[("row", r.to_string())]),
                None,
                SIDE_BY_SIDE.iter().map(|f| cell_value(mapping, cells.get(r), *f)).collect(),
            ),
        };
        let lines = SIDE_BY_SIDE
            .iter()
            .enumerate()
            .map(|(n, f)| (i.label(*f), cell_value(mapping, mine, *f), right.get(n).cloned().unwrap_or_default()))
            .collect();
        let choices = [DupDecision::Merge, DupDecision::KeepBoth, DupDecision::Skip]
            .into_iter()
            // Merging is into a record of the registry, not into another row.
            .filter(|c| *c != DupDecision::Merge || matches!(d.target, DupTarget::Existing { .. }))
            .map(|c| Choice {
                value: decision_code(c).into(),
                label: i.t(&format!("decision.{}", decision_code(c))),
                selected: c == decision,
            })
            .collect();
        out.push(DupView {
            row: d.row,
            title: i.tp("import.in_file", &[("row", d.row.to_string())]),
            explanation: explanation(i, &d.reasons),
            likeness: i.tp("import.likeness", &[("score", d.score.to_string())]),
            left_title: i.tp("import.in_file", &[("row", d.row.to_string())]),
            right_title,
            right_link,
            lines,
            choices,
        });
    }
    Ok(out)
}

fn flow_params(ctx: &Ctx, p: &Principal, params: &[(String, String)], columns: usize) -> Result<FlowParams, PageError> {
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let kind = kind_of(ctx, p, get("kind").as_ref())?;
    Ok(FlowParams {
        kind,
        mapping: mapping_from_params(params, columns).unwrap_or_default(),
        decisions: decisions_from_params(params),
        partial: get("mode").as_deref() == Some("partial"),
    })
}

/// Runs the import (or its dry run) of a stored file: the report, or why the
/// file as a whole cannot be imported.
async fn run_import(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    file: &LoadedFile,
    flow: &FlowParams,
    dry_run: bool,
) -> Result<Result<ImportReport, Vec<String>>, PageError> {
    let reader = open_table_within(&app.config.upload_limits, &file.name, &file.bytes)
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let headers = reader.headers().to_vec();
    let rows = store_rows_in(*i, reader);
    let opts = WorkerImportOptions {
        dry_run,
        partial: flow.partial,
        decisions: flow.decisions.clone(),
        default_decision: DupDecision::Skip,
        file_name: file.name.clone(),
        file_sha256: file.sha256.clone(),
        report: app.config.report_limits,
    };
    let other_opts = ImportOptions {
        dry_run,
        partial: flow.partial,
        file_name: file.name.clone(),
        file_sha256: file.sha256.clone(),
        report: app.config.report_limits,
    };
    let report = match flow.kind {
        ImportKind::Workers => app.store.import_workers(p, &headers, rows, &flow.mapping, &opts, today()).await,
        ImportKind::Organizations => app.store.import_orgs(p, &headers, rows, &other_opts).await,
        ImportKind::Population => app.store.import_population(p, &headers, rows, &other_opts).await,
    };
    match report {
        Ok(r) => Ok(Ok(r)),
        // The file lacks a column the kind needs (organizations, population).
        Err(StoreError::Invalid(errs)) => Ok(Err(errs
            .errors
            .iter()
            .map(|e| {
                if e.code == "missing_required_column" {
                    i.tp("import.missing_column", &[("column", e.field.clone())])
                } else {
                    format!("{}: {}", e.field, i.field_error(e))
                }
            })
            .collect())),
        Err(StoreError::Forbidden) => Err(PageError::Forbidden(i.locale)),
        Err(e) => Err(e.into()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn preview_page(
    app: &AppState,
    ctx: &Ctx,
    p: &Principal,
    file_id: i64,
    file: &LoadedFile,
    flow: &FlowParams,
    report: &ImportReport,
    error: Option<String>,
) -> PageResult {
    let i = ctx.i;
    let (problems, more) = problems(&i, report);
    let duplicates = dup_views(app, p, &i, file, &flow.mapping, &report.duplicates, &flow.decisions).await?;
    let mut hidden = vec![("kind".to_string(), flow.kind.code().to_string())];
    if flow.kind == ImportKind::Workers {
        hidden.extend(mapping_params(&flow.mapping));
    }
    let back = (flow.kind == ImportKind::Workers).then(|| {
        format!("/imports/files/{file_id}/mapping?{}", serde_urlencoded::to_string(&hidden).unwrap_or_default())
    });
    let l = layout(ctx, "imports").await?;
    let page = PreviewPage {
        l,
        file_id,
        file_name: file.name.clone(),
        kind: flow.kind.code().into(),
        kind_label: flow.kind.label(&i),
        counts: counts(report),
        more_text: i.tp("import.more_problems", &[("count", more.to_string())]),
        problems,
        more_problems: more,
        duplicates,
        hidden,
        partial: flow.partial,
        back,
        error: error.clone(),
    };
    if error.is_some() {
        render_status(StatusCode::UNPROCESSABLE_ENTITY, &page)
    } else {
        render(&page)
    }
}

/// Fills in the default decision (by score) of every duplicate the user has
/// not decided on yet, so that the counts and the form agree.
fn with_defaults(found: &[DuplicateFound], chosen: &BTreeMap<u64, DupDecision>) -> BTreeMap<u64, DupDecision> {
    let mut all = chosen.clone();
    for d in found {
        all.entry(d.row).or_insert_with(|| default_decision(d.score));
    }
    all
}

pub async fn preview(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let p = ctx.require()?.clone();
    let params: Vec<(String, String)> = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).unwrap_or_default();
    let file = load_file(&app, &ctx, &p, id).await?;
    let table = read_table_within(&app.config.upload_limits, &file.name, &file.bytes, Some(0))
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let mut flow = flow_params(&ctx, &p, &params, table.headers.len())?;
    if flow.kind == ImportKind::Workers && check_mapping(&flow.mapping).is_err() {
        let mut q = vec![("kind".to_string(), "workers".to_string())];
        if mapping_from_params(&params, table.headers.len()).is_some() {
            q.extend(mapping_params(&flow.mapping));
        }
        let q = serde_urlencoded::to_string(&q).unwrap_or_default();
        return Ok(Redirect::to(&format!("/imports/files/{id}/mapping?{q}")).into_response());
    }
    let mut report = match run_import(&app, &p, &ctx.i, &file, &flow, true).await? {
        Ok(r) => r,
        Err(problems) => return new_page(&ctx, &p, flow.kind, Some(problems.join(" "))).await,
    };
    let decided = with_defaults(&report.duplicates, &flow.decisions);
    if report.duplicates.iter().any(|d| decided.get(&d.row) != Some(&d.decision)) {
        flow.decisions = decided;
        report = match run_import(&app, &p, &ctx.i, &file, &flow, true).await? {
            Ok(r) => r,
            Err(problems) => return new_page(&ctx, &p, flow.kind, Some(problems.join(" "))).await,
        };
    } else {
        flow.decisions = decided;
    }
    preview_page(&app, &ctx, &p, id, &file, &flow, &report, None).await
}

pub async fn commit(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(form): Form<Vec<(String, String)>>,
) -> PageResult {
    let csrf = form.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str()).unwrap_or("");
    let p = ctx.require()?.clone();
    ctx.check_csrf(csrf)?;
    if form.iter().any(|(k, v)| k == "action" && v == "recheck") {
        // Check again with the decisions and mode chosen on the page.
        let keep: Vec<&(String, String)> = form.iter().filter(|(k, _)| k != "csrf" && k != "action").collect();
        let q = serde_urlencoded::to_string(&keep).unwrap_or_default();
        return Ok(Redirect::to(&format!("/imports/files/{id}/preview?{q}")).into_response());
    }
    let file = load_file(&app, &ctx, &p, id).await?;
    let table = read_table_within(&app.config.upload_limits, &file.name, &file.bytes, Some(0))
        .map_err(|e| PageError::Internal(e.to_string()))?;
    let mut flow = flow_params(&ctx, &p, &form, table.headers.len())?;
    if flow.kind == ImportKind::Workers && check_mapping(&flow.mapping).is_err() {
        let mut q = vec![("kind".to_string(), "workers".to_string())];
        q.extend(mapping_params(&flow.mapping));
        let q = serde_urlencoded::to_string(&q).unwrap_or_default();
        return Ok(Redirect::to(&format!("/imports/files/{id}/mapping?{q}")).into_response());
    }
    let report = match run_import(&app, &p, &ctx.i, &file, &flow, false).await? {
        Ok(r) => r,
        Err(problems) => return new_page(&ctx, &p, flow.kind, Some(problems.join(" "))).await,
    };
    match report.import_id {
        Some(import_id) if report.committed => {
            flash(&ctx, "import.done").await?;
            Ok(Redirect::to(&format!("/imports/{import_id}?file={id}")).into_response())
        }
        _ => {
            flow.decisions = with_defaults(&report.duplicates, &flow.decisions);
            let error = ctx.i.tp("import.nothing_written", &[("count", report.rejected_total().to_string())]);
            preview_page(&app, &ctx, &p, id, &file, &flow, &report, Some(error)).await
        }
    }
}
