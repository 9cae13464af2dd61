//! Costs of the workforce and of deployment plans, from data: salary scales by grade and step
//! from a date, allowances (for every post, or only in some units: remote posts), the grade and
//! training cost of a new post of each cadre, currencies with a rate for each year. Pure: the
//! store reads the data, this computes.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The currency amounts are converted through (each rate is units of a currency per US dollar).
pub const BASE_CURRENCY: &str = "USD";

/// A monthly salary of a grade and step, from a day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScaleRow {
    pub grade: String,
    pub step: u32,
    #[schema(value_type = String, format = Date)]
    pub effective_from: NaiveDate,
    pub monthly: f64,
    pub currency: String,
}

/// A monthly allowance from a day, for every post or only for posts in the units listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Allowance {
    pub code: String,
    pub name_en: String,
    #[serde(default)]
    pub name_km: String,
    #[schema(value_type = String, format = Date)]
    pub effective_from: NaiveDate,
    pub monthly: f64,
    pub currency: String,
    /// Admin unit codes (provinces, districts, communes) where it is paid; empty: every post.
    #[serde(default)]
    pub units: Vec<String>,
}

/// How a post of a cadre is costed when no rank says otherwise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CadreCosting {
    pub cadre: crate::Cadre,
    pub grade: String,
    pub step: u32,
    /// The certificate a new worker of the cadre is trained to (once, in the year the post is
    /// filled); none: no training is costed.
    #[serde(default)]
    pub certificate: Option<crate::training::CertificateLevel>,
}

/// What training to a certificate level costs, per person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TrainingCost {
    pub level: crate::training::CertificateLevel,
    pub cost: f64,
    pub currency: String,
}

/// Units of a currency per US dollar, by currency and year.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rates(pub BTreeMap<(String, i32), f64>);

/// Why an amount cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    #[error("no salary for grade {grade} step {step} on {on}")]
    NoScale { grade: String, step: u32, on: NaiveDate },
    #[error("no rate of {currency} for {year} or before")]
    NoRate { currency: String, year: i32 },
    #[error("no costing of cadre {0}")]
    NoCadreCosting(String),
    #[error("no cost of training to {0}")]
    NoTrainingCost(String),
}

impl Rates {
    /// Units of `currency` per US dollar in `year`: that year's rate, else the latest before.
    pub fn per_usd(&self, currency: &str, year: i32) -> Result<f64, CostError> {
        if currency == BASE_CURRENCY {
            return Ok(1.0);
        }
        self.0
            .range((currency.to_string(), i32::MIN)..=(currency.to_string(), year))
            .next_back()
            .map(|(_, r)| *r)
            .filter(|r| *r > 0.0)
            .ok_or_else(|| CostError::NoRate { currency: currency.into(), year })
    }

    /// `amount` of `from` in `to`, at the rates of `year`.
    pub fn convert(&self, amount: f64, from: &str, to: &str, year: i32) -> Result<f64, CostError> {
        if from == to {
            return Ok(amount);
        }
        Ok(amount / self.per_usd(from, year)? * self.per_usd(to, year)?)
    }
}

/// The monthly salary of a grade and step on a day (the latest scale row from that day or before).
pub fn monthly_pay<'a>(
    scales: &'a [ScaleRow],
    grade: &str,
    step: u32,
    on: NaiveDate,
) -> Result<(f64, &'a str), CostError> {
    scales
        .iter()
        .filter(|s| s.grade == grade && s.step == step && s.effective_from <= on)
        .max_by_key(|s| s.effective_from)
        .map(|s| (s.monthly, s.currency.as_str()))
        .ok_or_else(|| CostError::NoScale { grade: grade.into(), step, on })
}

/// The allowances in force on a day for a post in a unit whose own and enclosing codes are
/// `places`, summed in `currency` (each allowance code once: its latest row from that day or before).
pub fn monthly_allowances(
    allowances: &[Allowance],
    places: &[&str],
    on: NaiveDate,
    rates: &Rates,
    currency: &str,
) -> Result<f64, CostError> {
    let mut latest: BTreeMap<&str, &Allowance> = BTreeMap::new();
    for a in allowances.iter().filter(|a| a.effective_from <= on) {
        match latest.get(a.code.as_str()) {
            Some(b) if b.effective_from >= a.effective_from => {}
            _ => {
                latest.insert(&a.code, a);
            }
        }
    }
    let mut sum = 0.0;
    for a in latest.values() {
        if a.units.is_empty() || a.units.iter().any(|u| places.contains(&u.as_str())) {
            sum += rates.convert(a.monthly, &a.currency, currency, on.year())?;
        }
    }
    Ok(sum)
}

/// The data a post's cost is computed from.
#[derive(Debug, Clone, Copy)]
pub struct CostBook<'a> {
    pub scales: &'a [ScaleRow],
    pub allowances: &'a [Allowance],
    pub rates: &'a Rates,
}

impl CostBook<'_> {
    /// The cost of one post for a year: twelve months of the grade's pay and the allowances of
    /// its place (as in force on the year's first day), in `currency`.
    pub fn annual_post_cost(
        &self,
        grade: &str,
        step: u32,
        places: &[&str],
        year: i32,
        currency: &str,
    ) -> Result<f64, CostError> {
        let on = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(NaiveDate::MIN);
        let (pay, pay_currency) = monthly_pay(self.scales, grade, step, on)?;
        let pay = self.rates.convert(pay, pay_currency, currency, year)?;
        Ok(12.0 * (pay + monthly_allowances(self.allowances, places, on, self.rates, currency)?))
    }
}

/// Money rounded to the cent.
pub fn cents(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn scales() -> Vec<ScaleRow> {
        vec![
            ScaleRow {
                grade: "C".into(),
                step: 1,
                effective_from: d("2024-01-01"),
                monthly: 800_000.0,
                currency: "KHR".into(),
            },
            ScaleRow {
                grade: "C".into(),
                step: 1,
                effective_from: d("2026-01-01"),
                monthly: 820_000.0,
                currency: "KHR".into(),
            },
        ]
    }

    fn rates() -> Rates {
        Rates([(("KHR".to_string(), 2024), 4_000.0), (("KHR".to_string(), 2026), 4_100.0)].into_iter().collect())
    }

    #[test]
    fn the_scale_in_force_on_a_day_is_its_latest_row() {
        assert_eq!(monthly_pay(&scales(), "C", 1, d("2025-06-01")).unwrap().0, 800_000.0);
        assert_eq!(monthly_pay(&scales(), "C", 1, d("2026-01-01")).unwrap().0, 820_000.0);
        assert!(matches!(monthly_pay(&scales(), "C", 2, d("2026-01-01")), Err(CostError::NoScale { .. })));
        assert!(monthly_pay(&scales(), "C", 1, d("2023-12-31")).is_err());
    }

    #[test]
    fn rates_carry_forward_and_convert_through_the_dollar() {
        let r = rates();
        assert_eq!(r.per_usd("KHR", 2025).unwrap(), 4_000.0);
        assert_eq!(r.convert(8_200.0, "KHR", "USD", 2026).unwrap(), 2.0);
        assert_eq!(r.convert(2.0, "USD", "KHR", 2024).unwrap(), 8_000.0);
        assert!(matches!(r.per_usd("KHR", 2020), Err(CostError::NoRate { .. })));
        assert!(matches!(r.per_usd("EUR", 2026), Err(CostError::NoRate { .. })));
    }

    #[test]
    fn a_posts_year_is_twelve_months_of_pay_and_its_places_allowances() {
        let allowances = vec![
            Allowance {
                code: "transport".into(),
                name_en: "Transport".into(),
                name_km: String::new(),
                effective_from: d("2024-01-01"),
                monthly: 20.0,
                currency: "USD".into(),
                units: vec![],
            },
            Allowance {
                code: "remote".into(),
                name_en: "Remote post".into(),
                name_km: String::new(),
                effective_from: d("2024-01-01"),
                monthly: 30.0,
                currency: "USD".into(),
                units: vec!["11".into()],
            },
        ];
        let (r, scales) = (rates(), scales());
        let book = CostBook { scales: &scales, allowances: &allowances, rates: &r };
        // 820,000 riel at 4,100 = $200; + $20 transport = $220 a month.
        let here = book.annual_post_cost("C", 1, &["02", "0208"], 2026, "USD").unwrap();
        assert_eq!(cents(here), 2_640.0);
        let remote = book.annual_post_cost("C", 1, &["11", "1101"], 2026, "USD").unwrap();
        assert_eq!(cents(remote), 3_000.0);
        let riel = book.annual_post_cost("C", 1, &["02"], 2026, "KHR").unwrap();
        assert_eq!(cents(riel), 12.0 * (820_000.0 + 82_000.0));
    }
}
