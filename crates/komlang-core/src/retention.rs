//! Retention: turnover in a year (leavers ÷ the average of the headcounts at its start and its
//! end), how long workers stayed, and how many of those who started in a year are still in post
//! after so many years (seed 002: NGO staff leave within two to three years). Pure.

use chrono::{Datelike, NaiveDate};

/// Leavers per 100 workers of the average headcount (None without workers).
pub fn turnover_rate(leavers: u32, start: u32, end: u32) -> Option<f64> {
    let avg = (f64::from(start) + f64::from(end)) / 2.0;
    (avg > 0.0).then(|| (f64::from(leavers) * 100.0 / avg * 10.0).round() / 10.0)
}

/// Years (with a decimal) from `start` to `end`.
pub fn tenure_years(start: NaiveDate, end: NaiveDate) -> f64 {
    ((end - start).num_days().max(0) as f64 / 365.25 * 10.0).round() / 10.0
}

/// The day `years` after `start` (29 February becomes 28 February when needed).
pub fn anniversary(start: NaiveDate, years: u32) -> NaiveDate {
    let y = start.year() + years as i32;
    NaiveDate::from_ymd_opt(y, start.month(), start.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, start.month(), 28))
        .unwrap_or(start)
}

/// Of a cohort (each group of workers with the same start and, once they left, the same day
/// they left, with their number), the share in percent still in post `years` after their
/// start, among those whose anniversary has come by `today` (None when nobody's has).
pub fn still_in_post(cohort: &[(NaiveDate, Option<NaiveDate>, u32)], years: u32, today: NaiveDate) -> Option<f64> {
    let (mut due, mut stayed) = (0u64, 0u64);
    for (s, left, n) in cohort.iter().filter(|(s, _, _)| anniversary(*s, years) <= today) {
        due += u64::from(*n);
        if left.is_none_or(|l| l >= anniversary(*s, years)) {
            stayed += u64::from(*n);
        }
    }
    (due > 0).then(|| (stayed as f64 * 1000.0 / due as f64).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn turnover_is_leavers_over_the_average_headcount() {
        assert_eq!(turnover_rate(10, 90, 110), Some(10.0));
        assert_eq!(turnover_rate(1, 2, 1), Some(66.7));
        assert_eq!(turnover_rate(0, 0, 0), None);
    }

    #[test]
    fn a_cohort_is_counted_only_once_its_anniversary_has_come() {
        let cohort = vec![
            (d("2022-03-01"), None, 1),
            (d("2022-06-01"), Some(d("2023-01-10")), 1),
            (d("2022-09-01"), Some(d("2024-10-01")), 1),
            (d("2022-12-20"), None, 1),
        ];
        let today = d("2024-12-06");
        assert_eq!(still_in_post(&cohort, 1, today), Some(75.0));
        // Two years: the December starter's anniversary has not come; one of three left before theirs.
        assert_eq!(still_in_post(&cohort, 2, today), Some(66.7));
        assert_eq!(still_in_post(&cohort, 3, today), None);
        // Workers counted together weigh as many: three who stayed beside the one who left.
        let grouped = vec![(d("2022-03-01"), None, 3), (d("2022-06-01"), Some(d("2023-01-10")), 1)];
        assert_eq!(still_in_post(&grouped, 1, today), Some(75.0));
        assert_eq!(anniversary(d("2024-02-29"), 1), d("2025-02-28"));
        assert_eq!(tenure_years(d("2020-01-01"), d("2022-07-02")), 2.5);
    }
}
