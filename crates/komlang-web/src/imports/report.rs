//! What an import found, in the user's language: the problems of rows, the likely
//! duplicates, the counts.

use komlang_core::dedup::DupReason;
use komlang_core::import::RowError;
use komlang_core::*;
use komlang_store::{DupDecision, ImportReport, RejectedRow};

use crate::common::I18n;

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
pub(super) fn problems(i: &I18n, report: &ImportReport) -> (Vec<ProblemView>, usize) {
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

pub(super) fn counts(r: &ImportReport) -> Counts {
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
