//! Recruitment rounds (seed 002 L658-662: national recruitment by exam, provincial recruitment
//! decentralised): what a post in a round requires of a candidate, why a candidate does not
//! meet it, and the published rule that ranks the candidates. docs/hiring.md.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::vocabulary;
use crate::validate::{FieldError, ValidationErrors};
use crate::{Cadre, EducationLevel};

vocabulary!(
    /// Who recruits: the ministry by national exam, or a province (decentralised).
    RoundKind, "round_kind" { National => "national", Provincial => "provincial" }
);

vocabulary!(
    /// A round takes candidates while open; closed, it only ranks and appoints.
    RoundStatus, "round_status" { Open => "open", Closed => "closed" }
);

vocabulary!(
    /// Where a candidate comes from.
    CandidateSource, "candidate_source" {
        Registry => "registry",
        Graduate => "graduate",
        Intern => "intern",
        External => "external",
    }
);

vocabulary!(
    /// Where a candidate stands.
    CandidateStatus, "candidate_status" {
        Applied => "applied",
        Appointed => "appointed",
        AppointedElsewhere => "appointed_elsewhere",
        Withdrawn => "withdrawn",
    }
);

vocabulary!(
    /// A student's placement: a field placement during studies, or an internship after them.
    PlacementKind, "placement_kind" { FieldPlacement => "field_placement", Internship => "internship" }
);

/// The highest score of the exam and of the interview.
pub const SCORE_MAX: f64 = 100.0;

/// A competency a post requires, at a level of the framework's scale (1–4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequiredCompetency {
    pub code: String,
    /// 1 to 4.
    #[schema(minimum = 1, maximum = 4)]
    pub level: u8,
}

/// What a post in a round requires of a candidate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirements {
    /// The cadre the candidate must belong to (by their qualification); none: any.
    #[serde(default, deserialize_with = "crate::text::blank_as_none")]
    pub cadre: Option<Cadre>,
    /// The lowest education or certificate level.
    #[serde(default, deserialize_with = "crate::text::blank_as_none")]
    pub education_min: Option<EducationLevel>,
    /// Whole years of experience in the workforce.
    #[serde(default)]
    pub years_min: u32,
    /// Competencies at a required level (the latest assessment's score).
    #[serde(default)]
    pub competencies: Vec<RequiredCompetency>,
}

impl Requirements {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.years_min > 50 {
            errs.push(FieldError::new("years_min", "out_of_range").with("min", 0).with("max", 50));
        }
        if self.competencies.len() > 60 {
            errs.push(FieldError::new("competencies", "too_many").with("max", 60));
        }
        for (i, c) in self.competencies.iter().enumerate() {
            if !(1..=4).contains(&c.level) {
                errs.push(
                    FieldError::new(&format!("competencies[{i}].level"), "out_of_range").with("min", 1).with("max", 4),
                );
            }
            if c.code.trim().is_empty() || c.code.len() > 64 {
                errs.push(FieldError::new(&format!("competencies[{i}].code"), "invalid_code"));
            }
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }
}

/// What is known of a candidate for the requirements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CandidateFacts {
    pub cadre: Option<Cadre>,
    pub education: Option<EducationLevel>,
    pub years: Option<u32>,
    /// Latest score per competency code.
    pub competencies: BTreeMap<String, u8>,
}

/// A requirement a candidate does not meet, with what they have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Unmet {
    Cadre { required: Cadre, actual: Option<Cadre> },
    Education { required: EducationLevel, actual: Option<EducationLevel> },
    Experience { required: u32, actual: Option<u32> },
    Competency { code: String, required: u8, actual: Option<u8> },
}

/// Every requirement the candidate does not meet (none: eligible). Something not known (no
/// education recorded, a competency never assessed) does not meet a requirement.
pub fn unmet(r: &Requirements, f: &CandidateFacts) -> Vec<Unmet> {
    let mut out = Vec::new();
    if let Some(c) = r.cadre {
        if f.cadre != Some(c) {
            out.push(Unmet::Cadre { required: c, actual: f.cadre });
        }
    }
    if let Some(e) = r.education_min {
        if f.education.is_none_or(|x| x < e) {
            out.push(Unmet::Education { required: e, actual: f.education });
        }
    }
    if r.years_min > 0 && f.years.is_none_or(|y| y < r.years_min) {
        out.push(Unmet::Experience { required: r.years_min, actual: f.years });
    }
    for c in &r.competencies {
        let actual = f.competencies.get(&c.code).copied();
        if actual.is_none_or(|a| a < c.level) {
            out.push(Unmet::Competency { code: c.code.clone(), required: c.level, actual });
        }
    }
    out
}

/// Whole years between two days (experience from a start date).
pub fn years_between(from: NaiveDate, to: NaiveDate) -> Option<u32> {
    to.years_since(from)
}

/// How a round ranks its candidates: `total = exam × exam_weight + interview × interview_weight`
/// (scores 0–100; the weights add up to 1); ties go to the higher exam score, then the earlier
/// application, then the earlier entry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RankingRule {
    pub exam_weight: f64,
    pub interview_weight: f64,
}

impl Default for RankingRule {
    fn default() -> Self {
        RankingRule { exam_weight: 0.7, interview_weight: 0.3 }
    }
}

impl RankingRule {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let ok = |w: f64| w.is_finite() && (0.0..=1.0).contains(&w);
        let mut errs = ValidationErrors::default();
        if !ok(self.exam_weight) {
            errs.push(FieldError::new("exam_weight", "out_of_range").with("min", 0).with("max", 1));
        }
        if !ok(self.interview_weight) {
            errs.push(FieldError::new("interview_weight", "out_of_range").with("min", 0).with("max", 1));
        }
        if errs.is_empty() && ((self.exam_weight + self.interview_weight) - 1.0).abs() > 1e-9 {
            errs.push(FieldError::new("interview_weight", "weights_not_one"));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    pub fn total(&self, exam: f64, interview: f64) -> f64 {
        exam * self.exam_weight + interview * self.interview_weight
    }
}

/// A score checked against 0–100.
pub fn score_ok(s: Option<f64>) -> bool {
    s.is_none_or(|v| v.is_finite() && (0.0..=SCORE_MAX).contains(&v))
}

/// A candidate as the ranking sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Contender {
    pub id: i64,
    /// Meets every requirement and is still in the running (applied).
    pub eligible: bool,
    pub exam: Option<f64>,
    pub interview: Option<f64>,
    pub applied_on: NaiveDate,
}

/// The rank (1 = best) and total of each contender, in ranked order; those not eligible or
/// without both scores are not ranked and come last (by entry).
pub fn rank(rule: &RankingRule, contenders: &[Contender]) -> Vec<(i64, Option<u32>, Option<f64>)> {
    let mut ranked: Vec<(&Contender, f64, f64)> = contenders
        .iter()
        .filter(|c| c.eligible)
        .filter_map(|c| match (c.exam, c.interview) {
            (Some(e), Some(i)) => Some((c, rule.total(e, i), e)),
            _ => None,
        })
        .collect();
    ranked.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(b.2.total_cmp(&a.2))
            .then(a.0.applied_on.cmp(&b.0.applied_on))
            .then(a.0.id.cmp(&b.0.id))
    });
    let mut out: Vec<(i64, Option<u32>, Option<f64>)> =
        ranked.iter().enumerate().map(|(n, (c, t, _))| (c.id, Some(n as u32 + 1), Some(*t))).collect();
    let mut rest: Vec<&Contender> = contenders.iter().filter(|c| !out.iter().any(|o| o.0 == c.id)).collect();
    rest.sort_by_key(|c| c.id);
    out.extend(rest.into_iter().map(|c| (c.id, None, None)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn each_unmet_requirement_is_named_with_what_the_candidate_has() {
        let r = Requirements {
            cadre: Some(Cadre::Professional),
            education_min: Some(EducationLevel::Bachelor),
            years_min: 3,
            competencies: vec![RequiredCompetency { code: "skills.02".into(), level: 3 }],
        };
        let mut f = CandidateFacts {
            cadre: Some(Cadre::ParaProfessional),
            education: Some(EducationLevel::Tvc3),
            years: Some(1),
            competencies: BTreeMap::new(),
        };
        assert_eq!(
            unmet(&r, &f),
            vec![
                Unmet::Cadre { required: Cadre::Professional, actual: Some(Cadre::ParaProfessional) },
                Unmet::Education { required: EducationLevel::Bachelor, actual: Some(EducationLevel::Tvc3) },
                Unmet::Experience { required: 3, actual: Some(1) },
                Unmet::Competency { code: "skills.02".into(), required: 3, actual: None },
            ]
        );
        f = CandidateFacts {
            cadre: Some(Cadre::Professional),
            education: Some(EducationLevel::Master),
            years: Some(3),
            competencies: [("skills.02".to_string(), 3)].into(),
        };
        assert!(unmet(&r, &f).is_empty());
        assert!(unmet(&Requirements::default(), &CandidateFacts::default()).is_empty());
    }

    #[test]
    fn the_ranking_follows_the_published_rule() {
        let rule = RankingRule::default();
        let c = |id, eligible, exam, interview, on| Contender { id, eligible, exam, interview, applied_on: d(on) };
        let list = [
            c(1, true, Some(80.0), Some(60.0), "2026-01-05"), // 74
            c(2, true, Some(70.0), Some(80.0), "2026-01-04"), // 73
            c(3, true, Some(74.0), Some(74.0), "2026-01-06"), // 74, lower exam than 1
            c(4, false, Some(100.0), Some(100.0), "2026-01-01"),
            c(5, true, Some(90.0), None, "2026-01-01"),
            c(6, true, Some(80.0), Some(60.0), "2026-01-02"), // 74, as 1, applied earlier
        ];
        let ranked: Vec<(i64, Option<u32>)> = rank(&rule, &list).into_iter().map(|(id, r, _)| (id, r)).collect();
        assert_eq!(ranked, vec![(6, Some(1)), (1, Some(2)), (3, Some(3)), (2, Some(4)), (4, None), (5, None)]);
        assert!(RankingRule { exam_weight: 0.5, interview_weight: 0.4 }.validate().is_err());
        assert!(RankingRule { exam_weight: 1.0, interview_weight: 0.0 }.validate().is_ok());
        assert!(score_ok(Some(100.0)) && !score_ok(Some(100.5)) && !score_ok(Some(f64::NAN)) && score_ok(None));
    }
}
