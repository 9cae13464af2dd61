//! Workforce planning data: staffing norms (the built-in investment case and
//! norms added by national administrators), per-unit indicators, caseloads
//! and vacancies, the facts planning needs about every unit of a level
//! (built with one grouped query per table, not one per unit), and saved
//! deployment plans (named scenarios, audited).
//!
//! The arithmetic lives in `komlang_core::planning`; this module reads and
//! writes what it works on.
//!
//! Population figures by unit, year, sex and age group are imported from a file
//! (`population.rs`).

mod facts;
mod norms;
mod plans;
pub(crate) mod population;

use komlang_core::{AdminLevel, FieldError, ValidationErrors};

use crate::StoreError;

pub use facts::{CoverageReport, FactsQuery, UnitName};
pub use norms::{norm_error_code, CaseloadRow, IndicatorRow, NewNorm, NormRecord, VacancyRow};
pub use plans::{BlockedUnitYear, PlanOutcome, PlanRequest, PlanSummary, SavedPlan, PLAN_NAME_MAX, PLAN_YEARS_MAX};

/// A field error. Codes of planning are translated by the web layer
/// (`planning.error.<code>`, or the common `error.<code>`).
fn field_error(field: &str, code: &str) -> FieldError {
    FieldError::new(field, code)
}

fn invalid(field: &str, code: &str) -> StoreError {
    StoreError::Invalid(ValidationErrors::single(field_error(field, code)))
}

/// Error codes of planning that are not among the common `error.*` codes:
/// the web layer translates each as `planning.error.<code>` (checked by its tests).
pub const PLANNING_ERROR_CODES: &[&str] = &[
    "norm_name_format",
    "norm_name_taken",
    "norm_rule_missing",
    "norm_level_twice",
    "norm_level_not_planned",
    "norm_ratio_bad",
    "norm_missing",
    "level_above_parent",
    "level_not_planned",
    "indicator_name_format",
    "target_before_start",
    "weight_negative",
    "plan_too_long",
    "plan_missing",
];

/// Depth of a level (the country is 0).
pub(crate) fn depth(l: AdminLevel) -> usize {
    AdminLevel::ALL.iter().position(|x| *x == l).unwrap_or(0)
}
