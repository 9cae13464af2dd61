//! What an import found, in the user's language: the problems of rows, the likely
//! duplicates, the counts; as pages show it and as the API answers it (shared by the features
//! that import: `imports`, `caseloads`).

use komlang_core::dedup::DupReason;
use komlang_core::import::RowError;
use komlang_core::*;
use komlang_store::{DupDecision, ImportReport, RejectedRow};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::common::{ApiError, ApiResult, I18n};
use crate::AppState;

/// Problems listed on a page (all of them are in the rejected-rows file).
const MAX_PROBLEMS_SHOWN: usize = 500;

/// A problem of one cell as a sentence in the user's language.
pub fn row_error_text(i: &I18n, e: &RowError) -> String {
    let mut fe = FieldError::new(&e.field, &e.code);
    fe.params = e.params.clone();
    let text = i.field_error(&fe);
    // A placeholder the error carries no value for is dropped from the sentence.
    if text.contains("%{") {
        let mut out = String::new();
        let mut rest = text.as_str();
        while let Some(a) = rest.find("%{") {
            out.push_str(&rest[..a]);
            out.push('…');
            rest = rest[a..].find('}').map(|b| &rest[a + b + 1..]).unwrap_or("");
        }
        out.push_str(rest);
        return out;
    }
    text
}

/// "same date of birth, names 92% alike".
pub fn explanation(i: &I18n, reasons: &[DupReason]) -> String {
    reasons
        .iter()
        .map(|r| match r {
            DupReason::SameNationalId => i.t("dup_reason.same_national_id"),
            DupReason::SameDateOfBirth => i.t("dup_reason.same_date_of_birth"),
            DupReason::SameKhmerName => i.t("dup_reason.same_khmer_name"),
            DupReason::SameLatinName => i.t("dup_reason.same_latin_name"),
            DupReason::SimilarNames(p) => i.tp("dup_reason.similar_names", &[("percent", p.to_string())]),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The reason column of the rejected-rows file: every problem of the row.
pub fn reason_text(i: &I18n, r: &RejectedRow) -> String {
    r.errors
        .iter()
        .map(|e| {
            let text = row_error_text(i, e);
            if e.column.is_empty() {
                text
            } else {
                format!("{}: {text}", e.column)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One problem as the tables show it.
pub struct ProblemView {
    pub row: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// The problems of the first rejected rows, and how many more rows were rejected (also
/// those the report itself did not keep, [`ImportReport::rejected_not_shown`]).
pub fn problems(i: &I18n, report: &ImportReport) -> (Vec<ProblemView>, usize) {
    let mut out = Vec::new();
    let mut more = usize::try_from(report.rejected_not_shown()).unwrap_or(usize::MAX);
    for r in &report.rejected {
        if out.len() >= MAX_PROBLEMS_SHOWN {
            more = more.saturating_add(1);
            continue;
        }
        for e in &r.errors {
            out.push(ProblemView {
                row: r.row,
                column: if e.column.is_empty() { i.t("import.whole_row") } else { e.column.clone() },
                value: e.value.clone(),
                reason: row_error_text(i, e),
            });
        }
    }
    (out, more)
}

pub struct Counts {
    pub rows_total: u64,
    pub added: u64,
    pub merged: u64,
    pub skipped: u64,
    pub rejected: u64,
}

pub fn counts(r: &ImportReport) -> Counts {
    Counts {
        rows_total: r.rows_total,
        added: r.added,
        merged: r.merged,
        skipped: r.duplicates_skipped,
        rejected: r.rejected_total(),
    }
}

pub fn decision_code(d: DupDecision) -> &'static str {
    match d {
        DupDecision::Merge => "merge",
        DupDecision::KeepBoth => "keep_both",
        DupDecision::Skip => "skip",
    }
}

pub fn decision_parse(s: &str) -> Option<DupDecision> {
    match s.trim() {
        "merge" => Some(DupDecision::Merge),
        "keep_both" => Some(DupDecision::KeepBoth),
        "skip" => Some(DupDecision::Skip),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::Locale;

    #[test]
    fn row_errors_keep_their_numbers() {
        let mut e = RowError {
            row: 3,
            column: "Name".into(),
            field: "name_km".into(),
            value: "x".into(),
            code: "too_long".into(),
            params: Default::default(),
        };
        e.params.insert("max".into(), "200".into());
        assert!(row_error_text(&I18n::new(Locale::En), &e).contains("200"));
        e.params.clear();
        assert!(!row_error_text(&I18n::new(Locale::En), &e).contains("%{"));
    }
}

/// One problem of one cell (or of a whole row, with an empty `column`).
#[derive(Debug, Serialize, ToSchema)]
pub struct RowErrorView {
    /// Row number as a spreadsheet program shows it (the header is row 1).
    pub row: u64,
    pub column: String,
    pub field: String,
    pub value: String,
    pub code: String,
    /// The problem in the caller's language (Accept-Language: km or en).
    pub message: String,
}

/// A row that was not imported, with its cells as in the file.
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedRowView {
    pub row: u64,
    pub cells: Vec<String>,
    pub errors: Vec<RowErrorView>,
}

/// Why two records look like one person.
#[derive(Debug, Serialize, ToSchema)]
pub struct DupReasonView {
    /// `same_national_id`, `same_date_of_birth`, `same_khmer_name`, `same_latin_name` or `similar_names`.
    pub code: String,
    /// For `similar_names`: how alike, in percent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percent: Option<u8>,
}

/// A likely duplicate of a row: a worker of the registry or another row of the file.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateView {
    pub row: u64,
    /// The existing worker (only when it is in the caller's scope).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worker_id: Option<i64>,
    /// True when the match is a worker of the registry (whether or not in the caller's scope).
    pub existing: bool,
    /// The other row of the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_row: Option<u64>,
    /// 0 to 100.
    pub score: u8,
    pub reasons: Vec<DupReasonView>,
    /// E.g. "same date of birth, names 92% alike", in the caller's language.
    pub explanation: String,
    /// `merge`, `keep_both` or `skip`: what was (or, in a dry run, would be) done.
    pub decision: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportView {
    /// The audited import event; absent for a dry run or when nothing was written.
    pub import_id: Option<i64>,
    /// True when rows were written.
    pub committed: bool,
    pub dry_run: bool,
    pub rows_total: u64,
    pub added: u64,
    pub merged: u64,
    pub duplicates_skipped: u64,
    /// Rows rejected, all of them.
    pub rejected_count: u64,
    /// The first rejected rows (at most 1,000, and at most 4 MiB of echoed text; every
    /// echoed cell or value cut at 500 characters, ending in `…`).
    pub rejected: Vec<RejectedRowView>,
    /// Rejected rows counted in `rejected_count` but not listed in `rejected`.
    pub rejected_not_shown: u64,
    /// Duplicates found, all of them.
    pub duplicates_count: u64,
    /// The first duplicates found (at most 1,000).
    pub duplicates: Vec<DuplicateView>,
    /// Duplicates counted in `duplicates_count` but not listed in `duplicates`.
    pub duplicates_not_shown: u64,
    /// "12 more rejected rows not shown", in the caller's language, when some are not listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_shown: Option<String>,
}

/// Duplicates listed in a report view (the counts are exact).
const DUPLICATES_SHOWN: usize = komlang_store::STORED_REPORT_LIMIT;

fn reason_view(r: &dedup::DupReason) -> DupReasonView {
    use komlang_core::dedup::DupReason as R;
    let (code, percent) = match r {
        R::SameNationalId => ("same_national_id", None),
        R::SameDateOfBirth => ("same_date_of_birth", None),
        R::SameKhmerName => ("same_khmer_name", None),
        R::SameLatinName => ("same_latin_name", None),
        R::SimilarNames(p) => ("similar_names", Some(*p)),
    };
    DupReasonView { code: code.into(), percent }
}

/// The report as the API shows it: messages in the caller's language, and
/// existing workers named only when they are in the caller's scope.
pub async fn report_view(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    r: &komlang_store::ImportReport,
    dry_run: bool,
) -> ApiResult<ImportReportView> {
    let mut visible = std::collections::HashMap::new();
    let mut duplicates = Vec::new();
    for d in r.duplicates.iter().take(DUPLICATES_SHOWN) {
        let (worker_id, existing, other_row) = match &d.target {
            komlang_store::DupTarget::Existing { worker_id, .. } => {
                let seen = match visible.get(worker_id) {
                    Some(v) => *v,
                    None => {
                        let v = app
                            .store
                            .get_worker(p, *worker_id)
                            .await
                            .map_err(|e| ApiError::from_store(i, e))?
                            .is_some();
                        visible.insert(*worker_id, v);
                        v
                    }
                };
                (seen.then_some(*worker_id), true, None)
            }
            komlang_store::DupTarget::Row(n) => (None, false, Some(*n)),
        };
        duplicates.push(DuplicateView {
            row: d.row,
            worker_id,
            existing,
            other_row,
            score: d.score,
            reasons: d.reasons.iter().map(reason_view).collect(),
            explanation: explanation(i, &d.reasons),
            decision: decision_code(d.decision).into(),
        });
    }
    let rejected = r
        .rejected
        .iter()
        .map(|row| RejectedRowView {
            row: row.row,
            cells: row.cells.clone(),
            errors: row
                .errors
                .iter()
                .map(|e| RowErrorView {
                    row: e.row,
                    column: e.column.clone(),
                    field: e.field.clone(),
                    value: e.value.clone(),
                    code: e.code.clone(),
                    message: row_error_text(i, e),
                })
                .collect(),
        })
        .collect();
    Ok(ImportReportView {
        import_id: r.import_id,
        committed: r.committed,
        dry_run,
        rows_total: r.rows_total,
        added: r.added,
        merged: r.merged,
        duplicates_skipped: r.duplicates_skipped,
        rejected_count: r.rejected_total(),
        rejected,
        rejected_not_shown: r.rejected_not_shown(),
        duplicates_count: r.duplicates.len() as u64,
        duplicates_not_shown: r.duplicates.len().saturating_sub(DUPLICATES_SHOWN) as u64,
        not_shown: (r.rejected_not_shown() > 0)
            .then(|| i.tp("import.rejected_not_shown", &[("count", r.rejected_not_shown().to_string())])),
        duplicates,
    })
}

/// An import's answer: 422 when rows were refused and nothing was written, else 200; the
/// report in the caller's language.
pub async fn report_response(
    app: &AppState,
    p: &Principal,
    i: &I18n,
    report: &komlang_store::ImportReport,
    dry_run: bool,
) -> ApiResult<Response> {
    let view = report_view(app, p, i, report, dry_run).await?;
    let status =
        if !report.committed && !report.all_valid() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Json(view)).into_response())
}

/// A 422 of an import (the OpenAPI document's schema): the report of the rejected rows, or
/// the error body naming each missing required column.
pub struct ImportRefusal;

impl utoipa::PartialSchema for ImportRefusal {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::OneOfBuilder;
        use utoipa::openapi::Ref;
        OneOfBuilder::new()
            .item(Ref::from_schema_name("ImportReportView"))
            .item(Ref::from_schema_name("ApiErrorBody"))
            .into()
    }
}

impl ToSchema for ImportRefusal {}
