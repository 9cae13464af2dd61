//! Reading a FHIR search's parameters (ITI-90's for the registry's resources): each parameter
//! checked against the ones the resource type supports, each value by its FHIR type (token,
//! reference, string with `:contains` and `:exact`, date with `eq/gt/ge/lt/le`), with a
//! specific `OperationOutcome` for anything else.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use komlang_store::fhir::{NameMatch, Updated};

use crate::common::fhir_outcome::FhirError;

/// Results on a page unless `_count` says otherwise, and the most `_count` may ask for.
pub const DEFAULT_COUNT: u64 = 50;
pub const MAX_COUNT: u64 = 500;

/// One parameter as sent: its name, its modifier (after `:`) and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub modifier: Option<String>,
    pub value: String,
}

/// A search's parameters, each known to the resource type.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub params: Vec<Param>,
    pub count: u64,
    pub offset: u64,
    /// `_after`: the page after this id (the registry's own paging by key, in its next links).
    pub after: Option<i64>,
    /// `_total=none`: no total (a page is then cheaper); `accurate` or `estimate` (the default):
    /// the total.
    pub total: bool,
}

/// The most values one parameter may list (comma-separated), and the most `_lastUpdated`
/// conditions a search may repeat: beyond them a search is refused (400), never sent on.
pub const MAX_VALUES: usize = 100;
pub const MAX_LAST_UPDATED: usize = 4;

/// Parameters every search takes (besides the resource's own).
const COMMON: &[&str] = &["_id", "_lastUpdated", "_count", "_offset", "_after", "_total", "_format", "_pretty"];

/// Reads the query string of a search of `resource`, which supports `supported` (and
/// [`COMMON`]); `modifiers` lists, per parameter, the modifiers it takes.
pub fn parse(
    resource: &str,
    query: Option<&str>,
    supported: &[&str],
    modifiers: &[(&str, &[&str])],
) -> Result<Search, FhirError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or(""))
        .map_err(|e| FhirError::invalid(format!("the query string could not be read: {e}")))?;
    let mut s = Search { params: Vec::new(), count: DEFAULT_COUNT, offset: 0, after: None, total: true };
    for (key, value) in pairs {
        let (name, modifier) = match key.split_once(':') {
            Some((n, m)) => (n.to_string(), Some(m.to_string())),
            None => (key.clone(), None),
        };
        if !COMMON.contains(&name.as_str()) && !supported.contains(&name.as_str()) {
            let mut all: Vec<&str> = COMMON.to_vec();
            all.extend_from_slice(supported);
            return Err(FhirError::invalid(format!(
                "unknown search parameter '{name}' for {resource} (supported: {})",
                all.join(", ")
            )));
        }
        if let Some(m) = &modifier {
            let allowed = modifiers.iter().find(|(n, _)| *n == name).map(|(_, m)| *m).unwrap_or(&[]);
            if !allowed.contains(&m.as_str()) {
                return Err(FhirError::invalid(format!("the modifier ':{m}' is not supported on '{name}'")));
            }
        }
        match name.as_str() {
            "_count" => {
                s.count = value.trim().parse::<u64>().ok().filter(|c| *c <= MAX_COUNT).ok_or_else(|| {
                    FhirError::invalid(format!("_count must be a whole number from 0 to {MAX_COUNT}, not '{value}'"))
                })?;
            }
            "_offset" => {
                s.offset = value.trim().parse::<u64>().ok().filter(|o| *o <= i64::MAX as u64).ok_or_else(|| {
                    FhirError::invalid(format!("_offset must be a whole number of results to skip, not '{value}'"))
                })?;
            }
            "_after" => {
                s.after =
                    Some(value.trim().parse::<i64>().ok().filter(|a| *a >= 0).ok_or_else(|| {
                        FhirError::invalid(format!("_after is the id a next link gives, not '{value}'"))
                    })?);
            }
            "_total" => {
                s.total = match value.trim() {
                    "none" => false,
                    "estimate" | "accurate" => true,
                    other => {
                        return Err(FhirError::invalid(format!("_total is none, estimate or accurate, not '{other}'")))
                    }
                };
            }
            "_format" => {
                if !matches!(value.trim(), "json" | "application/json" | "application/fhir+json") {
                    return Err(FhirError::invalid(format!(
                        "_format '{value}' is not served: the registry answers FHIR JSON only"
                    )));
                }
            }
            "_pretty" => {}
            _ => {
                if s.params.iter().any(|p| p.name == name && name != "_lastUpdated") {
                    return Err(FhirError::invalid(format!(
                        "'{name}' is given twice: give one, with its values separated by commas"
                    )));
                }
                if value.trim().is_empty() {
                    return Err(FhirError::invalid(format!("'{name}' has no value")));
                }
                if value.split(',').count() > MAX_VALUES {
                    return Err(FhirError::invalid(format!("'{name}' lists more than {MAX_VALUES} values")));
                }
                if name == "_lastUpdated" && s.params.iter().filter(|p| p.name == name).count() >= MAX_LAST_UPDATED {
                    return Err(FhirError::invalid(format!(
                        "_lastUpdated is given more than {MAX_LAST_UPDATED} times"
                    )));
                }
                s.params.push(Param { name, modifier, value });
            }
        }
    }
    if s.after.is_some() && s.offset > 0 {
        return Err(FhirError::invalid("give _after or _offset, not both"));
    }
    Ok(s)
}

impl Search {
    /// The parameter `name`, if given.
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    /// The `_lastUpdated` conditions.
    pub fn updated(&self) -> Result<Vec<Updated>, FhirError> {
        let mut out = Vec::new();
        for p in self.params.iter().filter(|p| p.name == "_lastUpdated") {
            out.extend(last_updated(&p.value)?);
        }
        Ok(out)
    }

    /// The query string of this search at another offset (for the Bundle's links).
    pub fn query_at(&self, offset: u64) -> String {
        self.query_with("_offset", offset.to_string())
    }

    /// The query string of this search after another id (for the Bundle's links).
    pub fn query_after(&self, after: i64) -> String {
        self.query_with("_after", after.to_string())
    }

    fn query_with(&self, key: &str, value: String) -> String {
        let mut pairs: Vec<(String, String)> = self
            .params
            .iter()
            .map(|p| {
                let key = match &p.modifier {
                    Some(m) => format!("{}:{m}", p.name),
                    None => p.name.clone(),
                };
                (key, p.value.clone())
            })
            .collect();
        pairs.push(("_count".into(), self.count.to_string()));
        if !self.total {
            pairs.push(("_total".into(), "none".into()));
        }
        pairs.push((key.into(), value));
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

/// The values of a parameter (a comma separates values any of which may match).
pub fn values(p: &Param) -> Vec<String> {
    p.value.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect()
}

/// A token's values as (system, code): `system|code`, `|code` (no system), or `code` (any).
pub fn tokens(p: &Param) -> Vec<(Option<String>, String)> {
    values(p)
        .into_iter()
        .map(|v| match v.split_once('|') {
            Some((sys, code)) => (Some(sys.to_string()), code.to_string()),
            None => (None, v),
        })
        .collect()
}

/// The codes of a token parameter in `system` (values of other systems match nothing).
pub fn codes_in(p: &Param, system: &str) -> Vec<String> {
    tokens(p).into_iter().filter(|(s, _)| s.as_deref().is_none_or(|s| s == system)).map(|(_, c)| c).collect()
}

/// The ids a reference parameter names for `resource` (`Practitioner/42`, `42`, or a full URL
/// ending in `Practitioner/42`); a reference to another resource type is an error.
pub fn references(p: &Param, resource: &str) -> Result<Vec<String>, FhirError> {
    let mut out = Vec::new();
    for v in values(p) {
        let parts: Vec<&str> = v.trim_end_matches('/').rsplitn(3, '/').collect();
        let id = match parts.as_slice() {
            [id] => *id,
            [id, kind, ..] if *kind == resource => *id,
            _ => {
                return Err(FhirError::invalid(format!(
                    "'{}' refers to {resource} resources: '{v}' is not one ({resource}/id)",
                    p.name
                )))
            }
        };
        out.push(id.to_string());
    }
    Ok(out)
}

/// Whole-number ids (others match nothing: ids here are numbers).
pub fn numeric(ids: &[String]) -> Vec<i64> {
    ids.iter().filter_map(|i| i.parse::<i64>().ok()).collect()
}

/// A boolean parameter.
pub fn boolean(p: &Param) -> Result<bool, FhirError> {
    match p.value.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        other => Err(FhirError::invalid(format!("'{}' is true or false, not '{other}'", p.name))),
    }
}

/// A string parameter: how it matches and what.
pub fn name(p: &Param) -> (NameMatch, String) {
    let how = match p.modifier.as_deref() {
        Some("contains") => NameMatch::Contains,
        Some("exact") => NameMatch::Exact,
        _ => NameMatch::Starts,
    };
    (how, p.value.trim().to_string())
}

/// Whether `text` matches a string parameter as the store's search does (FHIR's string search:
/// a word starts with it, ignoring case; `:contains`; `:exact`).
pub fn name_matches(how: NameMatch, wanted: &str, text: &str) -> bool {
    let wanted_l = komlang_core::clean_text(wanted).to_lowercase();
    let text_l = text.to_lowercase();
    match how {
        NameMatch::Exact => text == komlang_core::clean_text(wanted),
        NameMatch::Contains => text_l.contains(&wanted_l),
        NameMatch::Starts => text_l.starts_with(&wanted_l) || text_l.contains(&format!(" {wanted_l}")),
    }
}

/// A time as the change feed writes it.
pub fn feed_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The range a date or instant value covers, at its precision: `[start, end)`.
fn range(value: &str) -> Result<(DateTime<Utc>, DateTime<Utc>), FhirError> {
    let bad = || {
        FhirError::invalid(format!(
            "'{value}' is not a FHIR date or instant (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.sss]Z/±hh:mm)"
        ))
    };
    let day = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(0, 0, 0));
    let utc = |n: chrono::NaiveDateTime| Utc.from_utc_datetime(&n);
    match value.len() {
        4 => {
            let y: i32 = value.parse().map_err(|_| bad())?;
            let start = day(y, 1, 1).ok_or_else(bad)?;
            let end = day(y + 1, 1, 1).ok_or_else(bad)?;
            Ok((utc(start), utc(end)))
        }
        7 => {
            let d = NaiveDate::parse_from_str(&format!("{value}-01"), "%Y-%m-%d").map_err(|_| bad())?;
            let (ny, nm) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
            let start = d.and_hms_opt(0, 0, 0).ok_or_else(bad)?;
            Ok((utc(start), utc(day(ny, nm, 1).ok_or_else(bad)?)))
        }
        10 => {
            let d = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| bad())?;
            let start = d.and_hms_opt(0, 0, 0).ok_or_else(bad)?;
            Ok((utc(start), utc(start) + Duration::days(1)))
        }
        _ => {
            let t = DateTime::parse_from_rfc3339(value).map_err(|_| bad())?.with_timezone(&Utc);
            let step = if value.contains('.') { Duration::milliseconds(1) } else { Duration::seconds(1) };
            Ok((t, t + step))
        }
    }
}

/// A `_lastUpdated` value (`[eq|gt|ge|lt|le]` then a date or instant) as conditions.
pub fn last_updated(value: &str) -> Result<Vec<Updated>, FhirError> {
    let v = value.trim();
    let (prefix, rest) = match v.get(..2) {
        Some(p @ ("eq" | "gt" | "ge" | "lt" | "le" | "ne" | "sa" | "eb" | "ap")) => (p, &v[2..]),
        _ => ("eq", v),
    };
    let (start, end) = range(rest)?;
    let (start, end) = (feed_time(start), feed_time(end));
    Ok(match prefix {
        "eq" => vec![Updated::AtOrAfter(start), Updated::Before(end)],
        "gt" => vec![Updated::AtOrAfter(end)],
        "ge" => vec![Updated::AtOrAfter(start)],
        "lt" => vec![Updated::Before(start)],
        "le" => vec![Updated::Before(end)],
        other => {
            return Err(FhirError::invalid(format!(
                "the prefix '{other}' is not supported on _lastUpdated (eq, gt, ge, lt, le are)"
            )))
        }
    })
}

/// A `_since` value: an instant (with its time zone).
pub fn since(value: &str) -> Result<String, FhirError> {
    let t = DateTime::parse_from_rfc3339(value.trim()).map_err(|_| {
        FhirError::invalid(format!("_since is an instant (YYYY-MM-DDThh:mm:ss[.sss]Z or ±hh:mm), not '{value}'"))
    })?;
    Ok(feed_time(t.with_timezone(&Utc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_updated_prefixes_cover_the_value_at_its_precision() {
        let day = last_updated("2026-12-07").unwrap();
        assert_eq!(
            day,
            vec![
                Updated::AtOrAfter("2026-12-07T00:00:00.000Z".into()),
                Updated::Before("2026-12-08T00:00:00.000Z".into())
            ]
        );
        assert_eq!(last_updated("gt2026-12").unwrap(), vec![Updated::AtOrAfter("2027-01-01T00:00:00.000Z".into())]);
        assert_eq!(
            last_updated("le2026-12-07T10:00:00+07:00").unwrap(),
            vec![Updated::Before("2026-12-07T03:00:01.000Z".into())]
        );
        assert_eq!(last_updated("lt2026").unwrap(), vec![Updated::Before("2026-01-01T00:00:00.000Z".into())]);
        assert!(last_updated("ne2026").is_err());
        assert!(last_updated("2026-13-01").is_err());
        assert!(last_updated("yesterday").is_err());
    }

    #[test]
    fn unknown_parameters_and_modifiers_are_refused_by_name() {
        let e = parse("Practitioner", Some("nam=x"), &["name"], &[]).unwrap_err();
        assert!(e.diagnostics.contains("unknown search parameter 'nam'"), "{e:?}");
        let e = parse("Practitioner", Some("name:above=x"), &["name"], &[("name", &["contains"])]).unwrap_err();
        assert!(e.diagnostics.contains(":above"), "{e:?}");
        let e = parse("Practitioner", Some("_count=501"), &[], &[]).unwrap_err();
        assert!(e.diagnostics.contains("_count"), "{e:?}");
        let many = (0..=MAX_VALUES).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let e = parse("Practitioner", Some(&format!("_id={many}")), &[], &[]).unwrap_err();
        assert!(e.diagnostics.contains("more than 100 values"), "{e:?}");
        let e = parse("Practitioner", Some(&"_lastUpdated=ge2020&".repeat(5)), &[], &[]).unwrap_err();
        assert!(e.diagnostics.contains("_lastUpdated"), "{e:?}");
        let s =
            parse("Practitioner", Some("name:contains=so&_count=2&_offset=4"), &["name"], &[("name", &["contains"])])
                .unwrap();
        assert_eq!((s.count, s.offset), (2, 4));
        assert_eq!(s.query_at(6), "name%3Acontains=so&_count=2&_offset=6");
    }

    #[test]
    fn references_name_their_type() {
        let p = Param {
            name: "practitioner".into(),
            modifier: None,
            value: "Practitioner/4,5,http://x/fhir/r4/Practitioner/6".into(),
        };
        assert_eq!(references(&p, "Practitioner").unwrap(), vec!["4", "5", "6"]);
        let p = Param { name: "practitioner".into(), modifier: None, value: "Organization/4".into() };
        assert!(references(&p, "Practitioner").is_err());
    }

    #[test]
    fn names_match_as_fhir_strings() {
        assert!(name_matches(NameMatch::Starts, "so", "Chan Sophea"));
        assert!(!name_matches(NameMatch::Starts, "phea", "Chan Sophea"));
        assert!(name_matches(NameMatch::Contains, "PHEA", "Chan Sophea"));
        assert!(name_matches(NameMatch::Exact, "Chan Sophea", "Chan Sophea"));
        assert!(!name_matches(NameMatch::Exact, "chan sophea", "Chan Sophea"));
    }
}
