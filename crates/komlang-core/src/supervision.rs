//! Supervision (seed 004: supervision and support): who supervises whom, the norms a
//! supervisor is held to (how many supervisees, the experience and qualification needed to
//! supervise), and the sessions held. Pure: the store keeps the records, this decides.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{vocabulary, Cadre};
use crate::validate::{FieldError, ValidationErrors};

vocabulary!(
    /// How a session was held.
    SupervisionModel, "supervision_model" {
        Individual => "individual",
        Group => "group",
        Peer => "peer",
    }
);

vocabulary!(
    /// The functions of supervision a session covered.
    SupervisionFunction, "supervision_function" {
        Administrative => "administrative",
        Educational => "educational",
        Supportive => "supportive",
        Mediation => "mediation",
    }
);

/// The norms of supervision, kept as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SupervisionNorms {
    /// Supervisees one dedicated supervisor supervises at most (seed 004's framework: 10).
    pub dedicated_ratio: u32,
    /// Supervisees any other supervisor supervises at most (6).
    pub other_ratio: u32,
    /// Years of experience needed to supervise (5).
    pub years_required: u32,
    /// Years needed to supervise only community-level and auxiliary workers (3).
    pub years_required_community: u32,
    /// The cadres of community-level and auxiliary workers.
    pub community_cadres: Vec<Cadre>,
    /// The cadres that may supervise (their qualification).
    pub qualified_cadres: Vec<Cadre>,
    /// A supervisee not supervised in this many days is listed as overdue.
    pub overdue_days: u32,
}

impl Default for SupervisionNorms {
    fn default() -> Self {
        SupervisionNorms {
            dedicated_ratio: 10,
            other_ratio: 6,
            years_required: 5,
            years_required_community: 3,
            community_cadres: vec![Cadre::ParaSocialWorker, Cadre::Allied],
            qualified_cadres: vec![Cadre::Professional, Cadre::ParaProfessional],
            overdue_days: 90,
        }
    }
}

impl SupervisionNorms {
    /// The problems of norms as entered (ratios 1-100, years 0-50, days 1-3650, a cadre that
    /// may supervise).
    pub fn check(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        for (field, v, min, max) in [
            ("dedicated_ratio", self.dedicated_ratio, 1, 100),
            ("other_ratio", self.other_ratio, 1, 100),
            ("years_required", self.years_required, 0, 50),
            ("years_required_community", self.years_required_community, 0, 50),
            ("overdue_days", self.overdue_days, 1, 3650),
        ] {
            if !(min..=max).contains(&v) {
                errs.push(FieldError::new(field, "out_of_range").with("min", min).with("max", max));
            }
        }
        if self.qualified_cadres.is_empty() {
            errs.push(FieldError::new("qualified_cadres", "required"));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(errs)
        }
    }

    /// Supervisees a supervisor may have.
    pub fn limit(&self, dedicated: bool) -> u32 {
        if dedicated {
            self.dedicated_ratio
        } else {
            self.other_ratio
        }
    }

    /// Years of experience a supervisor of these cadres needs: fewer when every supervisee is a
    /// community-level or auxiliary worker.
    pub fn years_needed(&self, supervisees: &[Cadre]) -> u32 {
        if !supervisees.is_empty() && supervisees.iter().all(|c| self.community_cadres.contains(c)) {
            self.years_required_community
        } else {
            self.years_required
        }
    }

    /// Why a supervisor is not eligible to supervise these cadres (empty: eligible).
    pub fn ineligible(&self, supervisor: Cadre, experience: Option<u32>, supervisees: &[Cadre]) -> Vec<Ineligible> {
        let mut out = Vec::new();
        if !self.qualified_cadres.contains(&supervisor) {
            out.push(Ineligible::Qualification);
        }
        let need = self.years_needed(supervisees);
        match experience {
            Some(have) if have >= need => {}
            have => out.push(Ineligible::Experience { have, need }),
        }
        out
    }
}

/// Why a supervisor is not eligible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Ineligible {
    /// The supervisor's cadre is not among those that may supervise.
    Qualification,
    /// Too few years of experience (`have` absent: no start date recorded).
    Experience { have: Option<u32>, need: u32 },
}

/// Whole years from `start` to `today` (0 before the first anniversary; None for a start after today).
pub fn whole_years(start: NaiveDate, today: NaiveDate) -> Option<u32> {
    if start > today {
        return None;
    }
    let mut years = today.year() - start.year();
    if (today.month(), today.day()) < (start.month(), start.day()) {
        years -= 1;
    }
    u32::try_from(years).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_defaults_are_the_framework_seed_004_cites() {
        let n = SupervisionNorms::default();
        assert_eq!((n.limit(true), n.limit(false)), (10, 6));
        assert_eq!(n.years_needed(&[Cadre::ParaSocialWorker, Cadre::Allied]), 3);
        assert_eq!(n.years_needed(&[Cadre::ParaSocialWorker, Cadre::ParaProfessional]), 5);
        assert_eq!(n.years_needed(&[]), 5);
        assert!(n.check().is_ok());
    }

    #[test]
    fn eligibility_names_each_reason() {
        let n = SupervisionNorms::default();
        assert!(n.ineligible(Cadre::Professional, Some(5), &[Cadre::ParaProfessional]).is_empty());
        assert_eq!(
            n.ineligible(Cadre::Professional, Some(4), &[Cadre::ParaProfessional]),
            vec![Ineligible::Experience { have: Some(4), need: 5 }]
        );
        assert!(n.ineligible(Cadre::ParaProfessional, Some(3), &[Cadre::ParaSocialWorker]).is_empty());
        assert_eq!(
            n.ineligible(Cadre::ParaSocialWorker, None, &[Cadre::ParaSocialWorker]),
            vec![Ineligible::Qualification, Ineligible::Experience { have: None, need: 3 }]
        );
    }

    #[test]
    fn years_are_whole_years() {
        assert_eq!(whole_years(d("2020-06-15"), d("2025-06-14")), Some(4));
        assert_eq!(whole_years(d("2020-06-15"), d("2025-06-15")), Some(5));
        assert_eq!(whole_years(d("2026-01-01"), d("2025-06-15")), None);
    }

    #[test]
    fn norms_out_of_range_are_named() {
        let n =
            SupervisionNorms { dedicated_ratio: 0, overdue_days: 0, qualified_cadres: vec![], ..Default::default() };
        let fields: Vec<String> = n.check().unwrap_err().errors.into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["dedicated_ratio", "overdue_days", "qualified_cadres"]);
    }
}
