//! Recruitment need: how many people a unit must recruit in a year (seed 002: national
//! recruitment is by exam, sized each year by how many officials "retire, … lose their working
//! ability, and … pass away"; provincial recruitment is decentralised).
//!
//! For a unit and a year: the posts vacant now, plus the filled posts expected to fall vacant by
//! the end of the year — their holder reaches the retirement age in the year or has passed it,
//! or is expected to leave for incapacity or death at the yearly rates kept per cadre:
//!
//! ```text
//! expected_exits = retiring + round(Σ over the other holders of (incapacity + death rate of their cadre))
//! to_recruit     = vacant + planned + expected_exits
//! ```
//!
//! where `planned` is, when a deployment plan is chosen, its new posts in the year not yet
//! approved as posts (0 otherwise).
//!
//! A holder without a date of birth is not counted as retiring (the figure says how many such
//! holders there are). docs/recruitment.md.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::validate::FieldError;
use crate::Cadre;

/// The retirement age of civil servants unless the settings say otherwise.
pub const DEFAULT_RETIREMENT_AGE: u32 = 60;
/// The range of retirement ages the settings take.
pub const RETIREMENT_AGES: std::ops::RangeInclusive<u32> = 40..=80;
/// The highest yearly exit rate the settings take (per 1,000 holders).
pub const RATE_MAX_PER_1000: f64 = 1000.0;

/// Yearly exit rates of a cadre's post holders for incapacity and death, per 1,000.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ExitRates {
    pub cadre: Cadre,
    /// Holders a year who lose their working ability, per 1,000.
    pub incapacity_per_1000: f64,
    /// Holders a year who die in service, per 1,000.
    pub death_per_1000: f64,
}

impl ExitRates {
    /// The rates, checked: each a number from 0 to 1,000.
    pub fn checked(cadre: Cadre, incapacity: f64, death: f64) -> Result<ExitRates, FieldError> {
        for (field, v) in [("incapacity_per_1000", incapacity), ("death_per_1000", death)] {
            if !v.is_finite() || !(0.0..=RATE_MAX_PER_1000).contains(&v) {
                return Err(FieldError::new(field, "rate_range"));
            }
        }
        Ok(ExitRates { cadre, incapacity_per_1000: incapacity, death_per_1000: death })
    }

    /// The expected share of the cadre's holders leaving in a year for either reason.
    pub fn yearly_share(&self) -> f64 {
        (self.incapacity_per_1000 + self.death_per_1000) / 1000.0
    }
}

/// Checks a retirement age.
pub fn check_retirement_age(age: u32) -> Result<u32, FieldError> {
    if RETIREMENT_AGES.contains(&age) {
        Ok(age)
    } else {
        Err(FieldError::new("retirement_age", "retirement_age_range"))
    }
}

/// Whether a holder born on `born` reaches the retirement age `age` in `year` or did before.
pub fn retires_by(born: NaiveDate, age: u32, year: i32) -> bool {
    i64::from(born.year()) + i64::from(age) <= i64::from(year)
}

/// A post holder as the need counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holder {
    pub cadre: Cadre,
    pub born: Option<NaiveDate>,
}

/// A unit's recruitment need for a year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Need {
    /// Posts vacant now.
    pub vacant: u32,
    /// Posts filled now.
    pub filled: u32,
    /// Of the holders, those reaching the retirement age by the end of the year.
    pub retiring: u32,
    /// Of the holders, those without a date of birth (not counted as retiring).
    pub birth_unknown: u32,
    /// The holders expected to leave for incapacity or death (not rounded).
    pub other_exits: f64,
    /// `retiring + round(other_exits)`.
    pub expected_exits: u32,
    /// New posts of the chosen deployment plan in the year, not yet approved as posts (0 without
    /// a plan).
    #[serde(default)]
    pub planned: u32,
    /// `vacant + planned + expected_exits`.
    pub to_recruit: u32,
}

impl Need {
    /// The need with a deployment plan's `planned` new posts added.
    pub fn with_planned(mut self, planned: u32) -> Need {
        self.planned = planned;
        self.to_recruit = self.vacant.saturating_add(planned).saturating_add(self.expected_exits);
        self
    }
}

/// The need of a unit with `vacant` posts held by `holders`, in `year`.
pub fn need(vacant: u32, holders: &[Holder], year: i32, retirement_age: u32, rates: &[ExitRates]) -> Need {
    let mut retiring = 0u32;
    let mut birth_unknown = 0u32;
    let mut other = 0.0;
    for h in holders {
        match h.born {
            Some(b) if retires_by(b, retirement_age, year) => retiring += 1,
            born => {
                if born.is_none() {
                    birth_unknown += 1;
                }
                other += rates.iter().find(|r| r.cadre == h.cadre).map_or(0.0, ExitRates::yearly_share);
            }
        }
    }
    let rounded = other.round().clamp(0.0, f64::from(u32::MAX)) as u32;
    let expected_exits = retiring.saturating_add(rounded);
    Need {
        vacant,
        filled: u32::try_from(holders.len()).unwrap_or(u32::MAX),
        retiring,
        birth_unknown,
        // Shown to the thousandth (the sum of many rates carries float noise).
        other_exits: (other * 1000.0).round() / 1000.0,
        expected_exits,
        planned: 0,
        to_recruit: vacant.saturating_add(expected_exits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn holders_retire_in_the_year_they_reach_the_age_or_after() {
        assert!(retires_by(d("1967-12-31"), 60, 2027));
        assert!(retires_by(d("1960-01-01"), 60, 2027), "past the age and still in post");
        assert!(!retires_by(d("1968-01-01"), 60, 2027));
    }

    #[test]
    fn need_adds_vacancies_retirements_and_rounded_other_exits() {
        let rates = [ExitRates::checked(Cadre::ParaSocialWorker, 150.0, 100.0).unwrap()];
        let h = |born: Option<&str>| Holder { cadre: Cadre::ParaSocialWorker, born: born.map(d) };
        let holders = [h(Some("1960-05-01")), h(Some("1990-01-01")), h(None), h(Some("1985-03-03"))];
        let n = need(4, &holders, 2027, 60, &rates);
        // One retires; the other three each leave with a chance of 0.25: 0.75, rounded to 1.
        assert_eq!((n.retiring, n.birth_unknown, n.filled), (1, 1, 4));
        assert!((n.other_exits - 0.75).abs() < 1e-9);
        assert_eq!((n.expected_exits, n.to_recruit), (2, 6));
        let p = n.with_planned(3);
        assert_eq!((p.planned, p.to_recruit), (3, 9));
        // Without rates, only retirements: at 70, the holder born in 1960 retires in 2030.
        let n = need(0, &holders, 2027, 70, &[]);
        assert_eq!((n.retiring, n.expected_exits, n.to_recruit), (0, 0, 0));
        let n = need(0, &holders, 2030, 70, &[]);
        assert_eq!((n.retiring, n.expected_exits, n.to_recruit), (1, 1, 1));
    }

    #[test]
    fn settings_are_checked() {
        assert!(ExitRates::checked(Cadre::Allied, -1.0, 0.0).is_err());
        assert!(ExitRates::checked(Cadre::Allied, 0.0, f64::NAN).is_err());
        assert!(ExitRates::checked(Cadre::Allied, 0.0, 1000.5).is_err());
        assert!(check_retirement_age(39).is_err() && check_retirement_age(60).is_ok());
    }
}
