//! The establishment: approved posts, who fills them, and the vacancies that follow.
//!
//! A post is approved for a unit (optionally an organization), a cadre and a role, paid from
//! a funding source, from a year until the year it ends. A worker's current posting fills at
//! most one post; a post is vacant when no current posting fills it. Counted for a year, the
//! establishment is the posts approved in it, filled as of the year's end (or today, for the
//! current year), so a past year's figures do not change when someone leaves today.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::vocabulary;

vocabulary!(
    /// Who pays for a post (seed 002: MoSVY's payroll, the sub-national budgets such as the
    /// commune or Sangkat fund, development partners, NGOs' donors).
    FundingSource, "funding" {
        MosvyPayroll => "mosvy_payroll",
        SubnationalBudget => "subnational_budget",
        DevelopmentPartner => "development_partner",
        NgoDonor => "ngo_donor",
        Other => "other",
    }
);

/// Most posts approved in one action.
pub const POSTS_AT_ONCE_MAX: u32 = 5_000;
/// Years a post can be approved for (inclusive).
pub const YEARS: std::ops::RangeInclusive<i32> = 1900..=2100;

/// The day a year's establishment is counted on: its last day, or `today` while it lasts
/// (a year still to come is counted as today).
pub fn counted_on(year: i32, today: NaiveDate) -> NaiveDate {
    let end = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today);
    if year >= today.year() {
        today
    } else {
        end
    }
}

/// Whether a post approved in `approved` and ended in `ended` (from the start of that year)
/// is approved in `year`.
pub fn approved_in(approved: i32, ended: Option<i32>, year: i32) -> bool {
    approved <= year && ended.is_none_or(|e| e > year)
}

/// Approved, filled and vacant posts of one group (a unit, a cadre, a funding source).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PostCounts {
    pub approved: u32,
    pub filled: u32,
    pub vacant: u32,
}

impl PostCounts {
    /// Counts of `approved` posts of which `filled` are filled (a post is filled once at
    /// most, so filled never passes approved; a count that does is held to it).
    pub fn new(approved: u32, filled: u32) -> Self {
        let filled = filled.min(approved);
        PostCounts { approved, filled, vacant: approved - filled }
    }

    /// Vacant posts as a share of approved posts, in percent (None without posts).
    pub fn vacancy_rate(&self) -> Option<f64> {
        (self.approved > 0).then(|| f64::from(self.vacant) * 100.0 / f64::from(self.approved))
    }

    pub fn add(&mut self, other: PostCounts) {
        self.approved += other.approved;
        self.filled += other.filled;
        self.vacant += other.vacant;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_past_year_is_counted_on_its_last_day_the_current_one_today() {
        let today = d(2026, 12, 6);
        assert_eq!(counted_on(2025, today), d(2025, 12, 31));
        assert_eq!(counted_on(2026, today), today);
        assert_eq!(counted_on(2030, today), today);
    }

    #[test]
    fn a_post_is_approved_from_its_year_until_the_year_it_ends() {
        assert!(!approved_in(2024, None, 2023));
        assert!(approved_in(2024, None, 2024));
        assert!(approved_in(2024, None, 2040));
        assert!(approved_in(2024, Some(2026), 2025));
        assert!(!approved_in(2024, Some(2026), 2026));
    }

    #[test]
    fn vacancies_follow_from_approved_and_filled() {
        let c = PostCounts::new(10, 7);
        assert_eq!((c.approved, c.filled, c.vacant), (10, 7, 3));
        assert_eq!(c.vacancy_rate(), Some(30.0));
        assert_eq!(PostCounts::new(0, 0).vacancy_rate(), None);
        assert_eq!(PostCounts::new(2, 5), PostCounts { approved: 2, filled: 2, vacant: 0 });
        let mut t = PostCounts::default();
        t.add(c);
        t.add(PostCounts::new(4, 4));
        assert_eq!(t, PostCounts { approved: 14, filled: 11, vacant: 3 });
    }
}
