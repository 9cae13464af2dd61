//! Performance management (seed 002 L853, L2473-2476): job descriptions as versioned data (each
//! role's key functions), and appraisals against them — a cycle per worker, the supervisor's
//! rating of each key function with the worker's self-appraisal, formal or informal, an overall
//! result, and the actions agreed (training linked to competency gaps, rewards and recognition,
//! corrective actions with follow-up dates).
//!
//! When an appraisal is due is decided here ([`due_state`]): a worker's next appraisal falls
//! `cycle_months` after the end of the period their last completed appraisal covered (or after
//! they started, if never appraised). docs/performance.md.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::vocabulary;
use crate::validate::{FieldError, ValidationErrors};
use crate::WorkerRole;

/// The job descriptions Komlang ships (the focal points' first).
pub const BUNDLED_JOB_DESCRIPTIONS: &str = include_str!("../../../data/job-descriptions/focal-points.json");

/// Most key functions in one job description.
pub const FUNCTIONS_MAX: usize = 30;
/// Longest name of a key function, title or source.
pub const TEXT_MAX: usize = 2000;
/// Longest comment (of a rating or of the whole appraisal).
pub const COMMENT_MAX: usize = 4000;
/// Most actions agreed in one appraisal.
pub const ACTIONS_MAX: usize = 50;
/// The rating scale of a key function: 1 (unsatisfactory) to 4 (exceeds expectations).
pub const RATINGS: std::ops::RangeInclusive<u8> = 1..=4;

vocabulary!(
    /// How the appraisal was held (seed 002 L2474: "form (formal or informal)").
    AppraisalForm, "appraisal_form" { Formal => "formal", Informal => "informal" }
);

vocabulary!(
    /// Where an appraisal stands: open while it is filled in; completed once the supervisor has
    /// given the overall result (it is then read-only).
    AppraisalStatus, "appraisal_status" { Open => "open", Completed => "completed" }
);

vocabulary!(
    /// The overall result of an appraisal.
    OverallResult, "appraisal_overall" {
        Exceeds => "exceeds",
        Meets => "meets",
        NeedsImprovement => "needs_improvement",
        Unsatisfactory => "unsatisfactory",
    }
);

vocabulary!(
    /// What an agreed action is (seed 002 L2476: "rewards or corrective actions"; training to
    /// close competency gaps).
    ActionKind, "appraisal_action" { Training => "training", Reward => "reward", Corrective => "corrective" }
);

/// One key function of a job description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyFunction {
    /// Unique within the description (letters, digits, `_`, `-`, `.`).
    pub code: String,
    pub name_en: String,
    pub name_km: String,
    /// Competency codes of the framework the function calls on (training for a low rating is
    /// suggested from them).
    #[serde(default)]
    pub competencies: Vec<String>,
}

/// A role's job description as loaded (one version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobDescriptionInput {
    pub role: WorkerRole,
    pub title_en: String,
    pub title_km: String,
    /// Where the text comes from.
    #[serde(default)]
    pub source: Option<String>,
    pub functions: Vec<KeyFunction>,
}

/// A file of job descriptions: a shared source and one or more descriptions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobDescriptionFile {
    #[serde(default)]
    pub source: Option<String>,
    pub descriptions: Vec<JobDescriptionInput>,
}

fn done(errs: ValidationErrors) -> Result<(), ValidationErrors> {
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

fn code_ok(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn text_field(errs: &mut ValidationErrors, field: &str, v: &str) {
    let v = crate::clean_text(v);
    if v.is_empty() || !crate::has_letter(&v) {
        errs.push(FieldError::new(field, "required"));
    } else if v.chars().count() > TEXT_MAX {
        errs.push(FieldError::new(field, "too_long").with("max", TEXT_MAX));
    }
}

impl JobDescriptionInput {
    /// Checks the description, naming each field that is wrong (`functions[2].code`).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        text_field(&mut errs, "title_en", &self.title_en);
        text_field(&mut errs, "title_km", &self.title_km);
        if let Some(s) = &self.source {
            if s.chars().count() > TEXT_MAX {
                errs.push(FieldError::new("source", "too_long").with("max", TEXT_MAX));
            }
        }
        if self.functions.is_empty() {
            errs.push(FieldError::new("functions", "required"));
        } else if self.functions.len() > FUNCTIONS_MAX {
            errs.push(FieldError::new("functions", "too_many").with("max", FUNCTIONS_MAX));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, f) in self.functions.iter().enumerate().take(FUNCTIONS_MAX) {
            let at = |field: &str| format!("functions[{i}].{field}");
            if !code_ok(&f.code) {
                errs.push(FieldError::new(&at("code"), "invalid_code").with("value", &f.code));
            } else if !seen.insert(f.code.as_str()) {
                errs.push(FieldError::new(&at("code"), "duplicate_code").with("value", &f.code));
            }
            text_field(&mut errs, &at("name_en"), &f.name_en);
            text_field(&mut errs, &at("name_km"), &f.name_km);
            if f.competencies.len() > 50 {
                errs.push(FieldError::new(&at("competencies"), "too_many").with("max", 50));
            }
            for c in &f.competencies {
                if !code_ok(c) {
                    errs.push(FieldError::new(&at("competencies"), "invalid_code").with("value", c));
                }
            }
        }
        done(errs)
    }
}

/// Reads a file of job descriptions (JSON), each checked; the file's source is each
/// description's unless it has its own.
pub fn parse_job_descriptions(text: &str) -> Result<Vec<JobDescriptionInput>, ValidationErrors> {
    let file: JobDescriptionFile = serde_json::from_str(text)
        .map_err(|e| ValidationErrors::single(FieldError::new("file", "invalid_json").with("detail", e.to_string())))?;
    if file.descriptions.is_empty() {
        return Err(ValidationErrors::single(FieldError::new("descriptions", "required")));
    }
    let mut out = Vec::new();
    let mut errs = ValidationErrors::default();
    for (i, mut d) in file.descriptions.into_iter().enumerate() {
        if d.source.is_none() {
            d.source.clone_from(&file.source);
        }
        if let Err(e) = d.validate() {
            for f in e.errors {
                errs.push(FieldError { field: format!("descriptions[{i}].{}", f.field), ..f });
            }
        }
        out.push(d);
    }
    done(errs).map(|()| out)
}

/// When appraisals fall due, kept as data by national administrators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppraisalSettings {
    /// Months between a worker's appraisals (1–36; 12: yearly).
    pub cycle_months: u32,
    /// A worker is listed as due this many days before the appraisal falls due (0–180).
    pub due_within_days: u32,
}

impl Default for AppraisalSettings {
    fn default() -> Self {
        AppraisalSettings { cycle_months: 12, due_within_days: 60 }
    }
}

impl AppraisalSettings {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if !(1..=36).contains(&self.cycle_months) {
            errs.push(FieldError::new("cycle_months", "out_of_range").with("min", 1).with("max", 36));
        }
        if self.due_within_days > 180 {
            errs.push(FieldError::new("due_within_days", "out_of_range").with("min", 0).with("max", 180));
        }
        done(errs)
    }

    /// A worker whose base date (the end of their last completed appraisal's period, or the day
    /// they started) is before this day is overdue.
    pub fn overdue_before(&self, today: NaiveDate) -> NaiveDate {
        today.checked_sub_months(Months::new(self.cycle_months)).unwrap_or(NaiveDate::MIN)
    }

    /// A worker whose base date is before this day (and not overdue) is due.
    pub fn due_before(&self, today: NaiveDate) -> NaiveDate {
        self.overdue_before(today) + chrono::Days::new(u64::from(self.due_within_days)) + chrono::Days::new(1)
    }
}

/// Where a worker stands for their next appraisal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DueState {
    /// Not yet within the days before it falls due.
    NotDue,
    /// Falls due within the settings' days (or today).
    Due,
    /// Past the day it fell due.
    Overdue,
    /// No date to count from (never appraised, no start date).
    Unknown,
}

impl DueState {
    pub const ALL: [DueState; 4] = [DueState::NotDue, DueState::Due, DueState::Overdue, DueState::Unknown];

    pub fn code(self) -> &'static str {
        match self {
            DueState::NotDue => "not_due",
            DueState::Due => "due",
            DueState::Overdue => "overdue",
            DueState::Unknown => "unknown",
        }
    }
}

/// Whether a worker's appraisal is due: `base` is the end of the period their last completed
/// appraisal covered, or the day they started if they were never appraised. The next appraisal
/// falls due `cycle_months` after `base`: overdue when that day is past (`base <
/// today − cycle`), due when it falls within `due_within_days` from today.
pub fn due_state(base: Option<NaiveDate>, s: &AppraisalSettings, today: NaiveDate) -> DueState {
    match base {
        None => DueState::Unknown,
        Some(b) if b < s.overdue_before(today) => DueState::Overdue,
        Some(b) if b < s.due_before(today) => DueState::Due,
        Some(_) => DueState::NotDue,
    }
}

/// The day an appraisal falls due after `base`.
pub fn due_on(base: NaiveDate, s: &AppraisalSettings) -> Option<NaiveDate> {
    base.checked_add_months(Months::new(s.cycle_months))
}

/// A cycle's name: letters, digits, `-`, `/` and spaces, 1–32 characters (`2026`, `2026-H1`).
pub fn cycle_ok(cycle: &str) -> bool {
    let c = cycle.trim();
    !c.is_empty()
        && c.chars().count() <= 32
        && c.chars().all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '/' | ' ' | '_'))
}

/// A rating of a key function, checked against [`RATINGS`].
pub fn rating_ok(r: Option<u8>) -> bool {
    r.is_none_or(|r| RATINGS.contains(&r))
}

/// The overall result a set of ratings points to (their mean: ≥3.5 exceeds, ≥2.5 meets, ≥1.5
/// needs improvement, else unsatisfactory); the supervisor decides the overall result, this is a
/// suggestion shown beside it. None without ratings.
pub fn suggested_overall(ratings: &[u8]) -> Option<OverallResult> {
    if ratings.is_empty() {
        return None;
    }
    let mean = ratings.iter().map(|r| f64::from(*r)).sum::<f64>() / ratings.len() as f64;
    Some(if mean >= 3.5 {
        OverallResult::Exceeds
    } else if mean >= 2.5 {
        OverallResult::Meets
    } else if mean >= 1.5 {
        OverallResult::NeedsImprovement
    } else {
        OverallResult::Unsatisfactory
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_bundled_descriptions_are_valid_and_start_with_the_focal_point() {
        let all = parse_job_descriptions(BUNDLED_JOB_DESCRIPTIONS).unwrap();
        assert_eq!(all[0].role, WorkerRole::CcwcFocalPoint);
        assert!(all.iter().all(|j| j.source.as_deref().is_some_and(|s| s.contains("seed 002"))));
        let framework = crate::competency::bundled();
        let known: std::collections::BTreeSet<String> =
            framework.areas.iter().flat_map(|a| a.competencies.iter().map(|c| c.code.clone())).collect();
        for j in &all {
            for f in &j.functions {
                for c in &f.competencies {
                    assert!(known.contains(c), "{}: {c} is a competency of the framework", f.code);
                }
            }
        }
    }

    #[test]
    fn a_bad_description_names_each_field() {
        let text = r#"{"descriptions":[{"role":"ccwc_focal_point","title_en":"","title_km":"x",
            "functions":[{"code":"a","name_en":"A","name_km":"ក"},{"code":"a","name_en":"B","name_km":""},
            {"code":"bad code","name_en":"C","name_km":"គ","competencies":["x y"]}]}]}"#;
        let e = parse_job_descriptions(text).unwrap_err();
        let fields: Vec<(&str, &str)> = e.errors.iter().map(|f| (f.field.as_str(), f.code.as_str())).collect();
        assert_eq!(
            fields,
            [
                ("descriptions[0].title_en", "required"),
                ("descriptions[0].functions[1].code", "duplicate_code"),
                ("descriptions[0].functions[1].name_km", "required"),
                ("descriptions[0].functions[2].code", "invalid_code"),
                ("descriptions[0].functions[2].competencies", "invalid_code"),
            ]
        );
        assert_eq!(parse_job_descriptions("{").unwrap_err().errors[0].code, "invalid_json");
        let invisible = r#"{"descriptions":[{"role":"ccwc_focal_point","title_en":"\u0000\u200b","title_km":"x",
            "functions":[{"code":"a","name_en":"A","name_km":"ក"}]}]}"#;
        assert_eq!(parse_job_descriptions(invisible).unwrap_err().errors[0].field, "descriptions[0].title_en");
        let role = r#"{"descriptions":[{"role":"king","title_en":"a","title_km":"b","functions":[]}]}"#;
        assert_eq!(parse_job_descriptions(role).unwrap_err().errors[0].field, "file");
    }

    #[test]
    fn appraisals_fall_due_a_cycle_after_the_last() {
        let s = AppraisalSettings::default();
        let today = d("2026-12-07");
        assert_eq!(due_state(None, &s, today), DueState::Unknown);
        // A year and a day ago: overdue; exactly a year ago: due today.
        assert_eq!(due_state(Some(d("2025-12-06")), &s, today), DueState::Overdue);
        assert_eq!(due_state(Some(d("2025-12-07")), &s, today), DueState::Due);
        // Falls due in 60 days: due; in 61: not yet.
        assert_eq!(due_on(d("2026-02-05"), &s), Some(d("2027-02-05")));
        assert_eq!(due_state(Some(d("2026-02-05")), &s, today), DueState::Due);
        assert_eq!(due_state(Some(d("2026-02-06")), &s, today), DueState::NotDue);
        let six = AppraisalSettings { cycle_months: 6, due_within_days: 0 };
        assert_eq!(due_state(Some(d("2026-06-07")), &six, today), DueState::Due);
        assert_eq!(due_state(Some(d("2026-06-08")), &six, today), DueState::NotDue);
        assert!(AppraisalSettings { cycle_months: 0, due_within_days: 0 }.validate().is_err());
        assert!(AppraisalSettings { cycle_months: 12, due_within_days: 181 }.validate().is_err());
    }

    #[test]
    fn the_suggested_overall_follows_the_mean() {
        assert_eq!(suggested_overall(&[]), None);
        assert_eq!(suggested_overall(&[4, 3]), Some(OverallResult::Exceeds));
        assert_eq!(suggested_overall(&[3, 2]), Some(OverallResult::Meets));
        assert_eq!(suggested_overall(&[2, 1]), Some(OverallResult::NeedsImprovement));
        assert_eq!(suggested_overall(&[1, 1, 2]), Some(OverallResult::Unsatisfactory));
        assert!(cycle_ok("2026") && cycle_ok("2026-H1") && !cycle_ok("") && !cycle_ok("<script>"));
        assert!(rating_ok(Some(4)) && rating_ok(None) && !rating_ok(Some(0)) && !rating_ok(Some(5)));
    }
}
