//! An import as recorded (audited): its counts, problems and duplicates, and the file of its
//! rejected rows to correct and import again.

use askama::Template;
use axum::extract::{Path, Query, State};
use komlang_core::*;
use komlang_store::{DupTarget, ImportRecord, ImportReport};

use super::files::{read_table_within, ImportKind, LoadedFile};
use crate::common::export::{attachment, CSV_TYPE};
use crate::common::import_report::{decision_code, explanation, problems, reason_text, Counts, ProblemView};
use crate::common::{layout, render, store_err, Ctx, I18n, Layout, PageError, PageResult};
use crate::AppState;

pub struct DupLine {
    pub row: u64,
    pub target: String,
    pub link: Option<String>,
    pub explanation: String,
    pub decision: String,
}

#[derive(Template)]
#[template(path = "imports/result.html")]
struct ResultPage {
    l: Layout,
    title: String,
    username: String,
    at: String,
    kind_label: String,
    file_name: String,
    sha256: String,
    mode: String,
    outcome: String,
    counts: Counts,
    problems: Vec<ProblemView>,
    more_problems: usize,
    more_text: String,
    duplicates: Vec<DupLine>,
    rejected_link: Option<String>,
    /// Said beside the link when the report (and so the file) lacks some rejected rows.
    rejected_partial: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub struct FileParam {
    #[serde(default)]
    pub(super) file: Option<i64>,
}

/// The stored file an import was made from: `file` names an uploaded file,
/// which counts only when the caller may see it and it is the very file of
/// the import (same SHA-256).
async fn file_of_import(
    app: &AppState,
    p: &Principal,
    rec: &ImportRecord,
    file: Option<i64>,
) -> Result<Option<LoadedFile>, PageError> {
    let Some(fid) = file else { return Ok(None) };
    match app.store.import_file(p, fid).await? {
        Some((meta, bytes)) if meta.sha256 == rec.summary.file_sha256 => {
            Ok(Some(LoadedFile { name: meta.file_name, bytes, sha256: meta.sha256 }))
        }
        _ => Ok(None),
    }
}

pub async fn result(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<FileParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(rec) = app.store.get_import(&p, id).await.map_err(|e| store_err(&ctx, e))? else {
        return Err(ctx.not_found());
    };
    let i = ctx.i;
    let report = rec.report.clone().unwrap_or_default();
    let (problems, more) = problems(&i, &report);
    let mut duplicates = Vec::new();
    for d in &report.duplicates {
        let (target, link) = match &d.target {
            DupTarget::Existing { worker_id, .. } => match app.store.get_worker(&p, *worker_id).await? {
                Some(w) => (format!("{} · {}", w.name_km, w.name_latin), Some(format!("/workers/{worker_id}"))),
                None => (i.t("common.not_found"), None),
            },
            DupTarget::Row(r) => (i.tp("import.other_row", &[("row", r.to_string())]), None),
        };
        duplicates.push(DupLine {
            row: d.row,
            target,
            link,
            explanation: explanation(&i, &d.reasons),
            decision: i.t(&format!("decision.{}", decision_code(d.decision))),
        });
    }
    let s = &rec.summary;
    let partial = s.mode == "partial";
    let rejected_link = (partial && s.rows_rejected > 0).then(|| match q.file {
        Some(f) => format!("/imports/{id}/rejected.csv?file={f}"),
        None => format!("/imports/{id}/rejected.csv"),
    });
    let rejected_partial = (rejected_link.is_some() && report.rejected_not_shown() > 0).then(|| {
        i.tp(
            "import.rejected_file_partial",
            &[("shown", report.rejected.len().to_string()), ("count", report.rejected_not_shown().to_string())],
        )
    });
    let l = layout(&ctx, "imports").await?;
    render(&ResultPage {
        title: i.tp("import.result_title", &[("id", id.to_string())]),
        username: s.username.clone(),
        at: s.at.clone(),
        kind_label: ImportKind::parse(&s.kind).map(|k| k.label(&i)).unwrap_or_else(|| s.kind.clone()),
        file_name: s.file_name.clone(),
        sha256: s.file_sha256.clone(),
        mode: if partial { i.t("import.mode_partial_short") } else { i.t("import.mode_all_short") },
        outcome: i.t("import.committed"),
        counts: Counts {
            rows_total: s.rows_total as u64,
            added: s.rows_added as u64,
            merged: s.rows_merged as u64,
            skipped: s.rows_duplicate_skipped as u64,
            rejected: s.rows_rejected as u64,
        },
        more_text: i.tp("import.more_problems", &[("count", more.to_string())]),
        problems,
        more_problems: more,
        duplicates,
        rejected_link,
        rejected_partial,
        l,
    })
}

/// Exactly the rejected rows of an import, as the file had them, with a
/// `reason` column: corrected, the file can be imported again.
pub async fn rejected_csv(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Query(q): Query<FileParam>,
) -> PageResult {
    let p = ctx.require()?.clone();
    let Some(rec) = app.store.get_import(&p, id).await.map_err(|e| store_err(&ctx, e))? else {
        return Err(ctx.not_found());
    };
    let report = rec.report.clone().unwrap_or_default();
    // The header row of the file, when the file is at hand; else generic names.
    let width = report.rejected.iter().map(|r| r.cells.len()).max().unwrap_or(0);
    let headers = if !report.headers.is_empty() {
        report.headers.clone()
    } else {
        match file_of_import(&app, &p, &rec, q.file).await? {
            Some(f) => read_table_within(&app.config.upload_limits, &f.name, &f.bytes, Some(0))
                .map(|t| t.headers)
                .unwrap_or_default(),
            None => Vec::new(),
        }
    };
    let headers = if headers.is_empty() { (1..=width).map(|n| format!("column {n}")).collect() } else { headers };
    let body = rejected_rows_csv(&ctx.i, &headers, &report).map_err(|e| PageError::Internal(e.to_string()))?;
    let name = format!("import-{id}-rejected.csv");
    Ok(attachment(CSV_TYPE, &name, body))
}

/// The rejected rows of a report as CSV (UTF-8 with BOM), headers plus `reason`.
pub fn rejected_rows_csv(i: &I18n, headers: &[String], report: &ImportReport) -> Result<Vec<u8>, komlang_io::IoError> {
    let mut h = headers.to_vec();
    h.push("reason".into());
    let width = headers.len();
    let rows: Vec<Vec<String>> = report
        .rejected
        .iter()
        .map(|r| {
            let mut cells = r.cells.clone();
            cells.resize(width.max(cells.len()), String::new());
            cells.push(reason_text(i, r));
            cells
        })
        .collect();
    let h: Vec<&str> = h.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    komlang_io::write_csv(&mut out, &h, rows.into_iter())?;
    Ok(out)
}
