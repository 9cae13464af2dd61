//! Reading stored values (codes, dates) from result rows.

use chrono::NaiveDate;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{Result, StoreError};

pub(crate) fn opt_date(r: &AnyRow, col: &str) -> Result<Option<NaiveDate>> {
    let s: Option<String> = r.try_get(col)?;
    match s {
        None => Ok(None),
        Some(s) => {
            NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(Some).map_err(|_| StoreError::Corrupt(format!("{col} = {s}")))
        }
    }
}

pub(crate) fn parse_col<T>(r: &AnyRow, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let s: String = r.try_get(col)?;
    parse(&s).ok_or_else(|| StoreError::Corrupt(format!("{col} = {s}")))
}

pub(crate) fn date_col(r: &AnyRow, col: &str) -> Result<NaiveDate> {
    let s: String = r.try_get(col)?;
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("{col} = {s}")))
}

/// A count summed in the database (or from tallies with their deltas) as a report's number:
/// never below zero, held at `u32::MAX`.
pub(crate) fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}
