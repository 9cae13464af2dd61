//! When an API token stops working, as people write it: a number of days or weeks from now
//! (`90d`, `12w`) or a date (`2026-12-31`, at 00:00 UTC). Pure: the caller passes `now`.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::validate::FieldError;

/// The longest lifetime accepted (ten years), so that the date stays representable.
pub const MAX_EXPIRY_DAYS: i64 = 3650;

/// Reads an expiry for `field`: `Nd` (days), `Nw` (weeks) or `YYYY-MM-DD`. Errors:
/// `invalid_expiry` (not one of these), `expiry_in_past` (not after `now`), `out_of_range`
/// (more than [`MAX_EXPIRY_DAYS`] ahead).
pub fn parse_expiry(field: &str, text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, FieldError> {
    let t = text.trim().to_ascii_lowercase();
    let invalid = || FieldError::new(field, "invalid_expiry").with("value", text.trim());
    let at = if let Ok(d) = NaiveDate::parse_from_str(&t, "%Y-%m-%d") {
        d.and_hms_opt(0, 0, 0).ok_or_else(invalid)?.and_utc()
    } else {
        let days = if let Some(n) = t.strip_suffix('d') {
            n.parse::<i64>().map_err(|_| invalid())?
        } else if let Some(n) = t.strip_suffix('w') {
            n.parse::<i64>().map_err(|_| invalid())?.saturating_mul(7)
        } else {
            return Err(invalid());
        };
        if !(1..=MAX_EXPIRY_DAYS).contains(&days) {
            return Err(FieldError::new(field, "out_of_range")
                .with("min", "1d")
                .with("max", format!("{MAX_EXPIRY_DAYS}d")));
        }
        now + Duration::days(days)
    };
    if at <= now {
        return Err(FieldError::new(field, "expiry_in_past"));
    }
    if at > now + Duration::days(MAX_EXPIRY_DAYS) {
        return Err(FieldError::new(field, "out_of_range")
            .with("min", "1d")
            .with("max", format!("{MAX_EXPIRY_DAYS}d")));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]
    use super::*;

    fn now() -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(2026, 1, 10).unwrap().and_hms_opt(12, 0, 0).unwrap().and_utc()
    }

    #[test]
    fn days_weeks_and_dates() {
        assert_eq!(parse_expiry("e", "90d", now()).unwrap(), now() + Duration::days(90));
        assert_eq!(parse_expiry("e", " 2W ", now()).unwrap(), now() + Duration::days(14));
        let d = parse_expiry("e", "2026-03-01", now()).unwrap();
        assert_eq!(d.to_rfc3339(), "2026-03-01T00:00:00+00:00");
        for bad in ["", "d", "90", "90m", "tomorrow", "2026-02-30", "9ថ", "ថd"] {
            assert_eq!(parse_expiry("e", bad, now()).unwrap_err().code, "invalid_expiry", "{bad}");
        }
        assert_eq!(parse_expiry("e", "0d", now()).unwrap_err().code, "out_of_range");
        assert_eq!(parse_expiry("e", "-3d", now()).unwrap_err().code, "out_of_range");
        assert_eq!(parse_expiry("e", "99999999999999d", now()).unwrap_err().code, "out_of_range");
        assert_eq!(parse_expiry("e", "99999999999999999999999d", now()).unwrap_err().code, "invalid_expiry");
        assert_eq!(parse_expiry("e", "5000d", now()).unwrap_err().code, "out_of_range");
        assert_eq!(parse_expiry("e", "2026-01-10", now()).unwrap_err().code, "expiry_in_past");
        assert_eq!(parse_expiry("e", "2040-01-10", now()).unwrap_err().code, "out_of_range");
    }
}
