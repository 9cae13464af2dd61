//! Caseloads from the child-protection case systems: Primero (MoSVY's case management) and
//! OSCaR (the NGOs'). Komlang keeps no child's personal data: of each case only its id in the
//! source system, its status, its owners (the source system's user names or staff names),
//! the agency, the location and the days it opened and closed.
//!
//! Each source's export is read through a saved mapping of its columns ([`mapping_of`]): the
//! headers Primero's and OSCaR's exports write, as their public code writes them (see
//! `docs/caseloads.md`). A user may name other headers field by field.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::import::match_key;

/// A case management system whose case lists Komlang reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseSource {
    Primero,
    Oscar,
}

impl CaseSource {
    pub const ALL: [CaseSource; 2] = [CaseSource::Primero, CaseSource::Oscar];

    pub fn code(self) -> &'static str {
        match self {
            CaseSource::Primero => "primero",
            CaseSource::Oscar => "oscar",
        }
    }

    /// The system's name as its users write it.
    pub fn label(self) -> &'static str {
        match self {
            CaseSource::Primero => "Primero",
            CaseSource::Oscar => "OSCaR",
        }
    }

    pub fn parse(s: &str) -> Option<CaseSource> {
        match s.trim().to_ascii_lowercase().as_str() {
            "primero" => Some(CaseSource::Primero),
            "oscar" => Some(CaseSource::Oscar),
            _ => None,
        }
    }
}

/// What Komlang reads of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseField {
    /// The case's id in the source system (required).
    CaseId,
    /// Open or closed (required).
    Status,
    /// Who holds the case: user names (Primero) or staff names (OSCaR, several separated by commas).
    Owner,
    Agency,
    /// A location code (Primero) or name.
    Location,
    /// Province, district and commune names (OSCaR's address columns).
    Province,
    District,
    Commune,
    Opened,
    Closed,
}

impl CaseField {
    pub const ALL: [CaseField; 10] = [
        CaseField::CaseId,
        CaseField::Status,
        CaseField::Owner,
        CaseField::Agency,
        CaseField::Location,
        CaseField::Province,
        CaseField::District,
        CaseField::Commune,
        CaseField::Opened,
        CaseField::Closed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            CaseField::CaseId => "case_id",
            CaseField::Status => "status",
            CaseField::Owner => "owner",
            CaseField::Agency => "agency",
            CaseField::Location => "location",
            CaseField::Province => "province",
            CaseField::District => "district",
            CaseField::Commune => "commune",
            CaseField::Opened => "opened_on",
            CaseField::Closed => "closed_on",
        }
    }

    pub fn parse(s: &str) -> Option<CaseField> {
        CaseField::ALL.into_iter().find(|f| f.code() == s.trim())
    }

    /// Required in every file.
    pub fn is_required(self) -> bool {
        matches!(self, CaseField::CaseId | CaseField::Status)
    }
}

/// The headers each source's exports write for each field, best first (the first found in a
/// file is used): Primero's full CSV (field names), its list-view CSV and XLSX (labels);
/// OSCaR's client report (labels, English).
pub fn mapping_of(source: CaseSource) -> &'static [(CaseField, &'static [&'static str])] {
    match source {
        CaseSource::Primero => &[
            (CaseField::CaseId, &["case_id_display", "Case ID", "ID#", "short_id", "ID", "case_id", "id"]),
            (CaseField::Status, &["status", "Case Status", "Status"]),
            (CaseField::Owner, &["owned_by", "Record Owner", "Social Worker", "Case Worker", "owner"]),
            (CaseField::Agency, &["owned_by_agency_id", "Record Owner Agency", "Case Manager's Agency", "Agency"]),
            (
                CaseField::Location,
                &["location_current", "Location", "owned_by_location", "Case Manager's Location", "location"],
            ),
            (CaseField::Province, &["province"]),
            (CaseField::District, &["district"]),
            (CaseField::Commune, &["commune"]),
            (
                CaseField::Opened,
                &["registration_date", "Registration Date", "created_at", "Case Open Date", "opened_on"],
            ),
            (CaseField::Closed, &["date_closure", "Date of Closure", "Closure Date", "closed_on"]),
        ],
        CaseSource::Oscar => &[
            (CaseField::CaseId, &["ID", "Client ID", "slug", "case_id"]),
            (CaseField::Status, &["Status", "status"]),
            (CaseField::Owner, &["Case Worker", "Case Worker / Staff", "case_worker", "owner"]),
            (CaseField::Agency, &["Organization", "agency"]),
            (CaseField::Location, &["location"]),
            (CaseField::Province, &["Current Province (English)", "Current Province", "Province", "province"]),
            (CaseField::District, &["Address - District/Khan (English)", "District/Khan", "District", "district"]),
            (CaseField::Commune, &["Address - Commune/Sangkat (English)", "Commune/Sangkat", "Commune", "commune"]),
            (CaseField::Opened, &["NGO Accept Date", "Initial Referral Date", "Created Date", "opened_on"]),
            (CaseField::Closed, &["NGO Exit Date", "Exit Date", "closed_on"]),
        ],
    }
}

/// The column of each field of [`CaseField::ALL`] in a file with these headers: the header a
/// user named for the field (`overrides`), else the first of the source's headers found.
/// Headers are compared with [`match_key`] (case, spaces and punctuation do not matter).
/// An override naming a header the file lacks is an error: `(field, header)`.
pub fn find_case_columns(
    source: CaseSource,
    headers: &[String],
    overrides: &[(CaseField, String)],
) -> Result<Vec<Option<usize>>, (CaseField, String)> {
    let keys: Vec<String> = headers.iter().map(|h| match_key(h)).collect();
    let find = |name: &str| {
        let k = match_key(name);
        keys.iter().position(|h| !h.is_empty() && *h == k)
    };
    let mut out = Vec::with_capacity(CaseField::ALL.len());
    for field in CaseField::ALL {
        if let Some((_, header)) = overrides.iter().find(|(f, _)| *f == field) {
            match find(header) {
                Some(i) => out.push(Some(i)),
                None => return Err((field, header.clone())),
            }
            continue;
        }
        let names = mapping_of(source).iter().find(|(f, _)| *f == field).map(|(_, n)| *n).unwrap_or(&[]);
        out.push(names.iter().find_map(|n| find(n)));
    }
    Ok(out)
}

/// Headers named for fields, written `field:Header` and separated by `;` (the API's
/// `columns`; the command line's `--column field=Header`, each turned into this form).
pub fn parse_columns(s: &str) -> Result<Vec<(CaseField, String)>, String> {
    let mut out = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((f, h)) = part.split_once(':') else {
            return Err(format!("`{part}`: write field:Header"));
        };
        let field = CaseField::parse(f).ok_or_else(|| format!("unknown field `{}`", f.trim()))?;
        if h.trim().is_empty() {
            return Err(format!("`{part}`: no header"));
        }
        out.push((field, h.trim().to_string()));
    }
    Ok(out)
}

/// A case's status, as Komlang counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CaseStatus {
    Open,
    Closed,
}

impl CaseStatus {
    pub fn code(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Closed => "closed",
        }
    }
}

/// A source's status as open or closed: Primero `open`, `closed` (and `transferred`: no
/// longer this owner's); OSCaR `Active`, `Accepted`, `Referred` (open) and `Exited`.
/// Either's words in any case; `open`/`closed` from any source.
pub fn parse_case_status(source: CaseSource, s: &str) -> Option<CaseStatus> {
    let k = match_key(s);
    match (source, k.as_str()) {
        (_, "open" | "opened") => Some(CaseStatus::Open),
        (_, "closed") => Some(CaseStatus::Closed),
        (CaseSource::Primero, "transferred") => Some(CaseStatus::Closed),
        (CaseSource::Oscar, "active" | "accepted" | "referred") => Some(CaseStatus::Open),
        (CaseSource::Oscar, "exited") => Some(CaseStatus::Closed),
        _ => None,
    }
}

/// Longest case id, owner, agency or location kept.
pub const CASE_TEXT_MAX: usize = 200;
/// Most owners of one case.
pub const CASE_OWNERS_MAX: usize = 10;

/// A case's owners: Primero's one user name; OSCaR's staff names, separated by commas (its
/// export joins them). Trimmed, empty ones dropped, each once, in the file's order.
pub fn split_owners(source: CaseSource, s: &str) -> Vec<String> {
    let parts: Vec<&str> = match source {
        CaseSource::Primero => vec![s],
        CaseSource::Oscar => s.split([',', ';']).collect(),
    };
    let mut out: Vec<String> = Vec::new();
    for p in parts {
        let p = crate::clean_text(p);
        if !p.is_empty() && !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// The key an owner is known by across imports: the name as [`match_key`] writes it (case,
/// spaces and punctuation do not matter), so that `Sok Dara` and `sok.dara` are not one but
/// `Sok Dara` and `sok  dara` are.
pub fn owner_key(owner: &str) -> String {
    let lower: String = owner.trim().to_lowercase();
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The caseload threshold used where no setting names a cadre and role: open cases a worker
/// carries before the lists flag them. The seeds give no standard (seed 004 lists eight
/// factors instead); national administrators set their own per cadre and role.
pub const DEFAULT_THRESHOLD: u32 = 25;

/// One threshold setting: a cadre, a role, or both (`None`: any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Threshold {
    pub cadre: Option<String>,
    pub role: Option<String>,
    pub max_open: u32,
}

/// The threshold of a worker of this cadre and role: the setting naming both, else the one
/// naming the role, else the cadre, else the one naming neither, else [`DEFAULT_THRESHOLD`].
pub fn threshold_for(settings: &[Threshold], cadre: &str, role: &str) -> u32 {
    let fits = |t: &&Threshold, c: bool, r: bool| {
        t.cadre.as_deref().map(|x| x == cadre) == c.then_some(true)
            && t.role.as_deref().map(|x| x == role) == r.then_some(true)
    };
    for (c, r) in [(true, true), (false, true), (true, false), (false, false)] {
        if let Some(t) = settings.iter().find(|t| fits(t, c, r)) {
            return t.max_open;
        }
    }
    DEFAULT_THRESHOLD
}

/// A case read from a row, ready to be kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRow {
    pub case_id: String,
    pub status: CaseStatus,
    pub owners: Vec<String>,
    pub agency: Option<String>,
    pub location: Option<String>,
    /// The admin unit the location names, when Komlang knows it.
    pub admin_code: Option<String>,
    pub opened_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(h: &[&str]) -> Vec<String> {
        h.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_sources_export_is_read_by_its_saved_mapping() {
        // Primero's full CSV: `id` (the record's UUID) comes first, but the case id users know is
        // `case_id_display`.
        let h =
            headers(&["id", "name", "case_id_display", "status", "owned_by", "location_current", "registration_date"]);
        let c = find_case_columns(CaseSource::Primero, &h, &[]).unwrap();
        assert_eq!(c[0], Some(2));
        assert_eq!(c[1], Some(3));
        assert_eq!(c[2], Some(4));
        assert_eq!(c[4], Some(5));
        assert_eq!(c[8], Some(6));
        assert_eq!(c[9], None);
        // Primero's list view: labels.
        let h = headers(&["ID#", "Name", "Social Worker", "Location", "Registration Date", "Status"]);
        let c = find_case_columns(CaseSource::Primero, &h, &[]).unwrap();
        assert_eq!((c[0], c[1], c[2], c[4], c[8]), (Some(0), Some(5), Some(2), Some(3), Some(4)));
        // OSCaR's client report.
        let h = headers(&[
            "ID",
            "Given Name (Latin)",
            "Status",
            "Case Worker",
            "Current Province (English)",
            "Address - District/Khan (English)",
            "Address - Commune/Sangkat (English)",
            "NGO Accept Date",
            "NGO Exit Date",
        ]);
        let c = find_case_columns(CaseSource::Oscar, &h, &[]).unwrap();
        assert_eq!(c, vec![Some(0), Some(2), Some(3), None, None, Some(4), Some(5), Some(6), Some(7), Some(8)]);
        // A user's own header for a field; one the file lacks is an error.
        let c = find_case_columns(CaseSource::Oscar, &h, &[(CaseField::Owner, "given name (latin)".into())]).unwrap();
        assert_eq!(c[2], Some(1));
        assert_eq!(
            find_case_columns(CaseSource::Oscar, &h, &[(CaseField::Agency, "NGO".into())]),
            Err((CaseField::Agency, "NGO".into()))
        );
    }

    #[test]
    fn columns_named_by_the_user() {
        assert_eq!(
            parse_columns(" owner:Case worker ; status:State;"),
            Ok(vec![(CaseField::Owner, "Case worker".into()), (CaseField::Status, "State".into())])
        );
        assert_eq!(parse_columns(""), Ok(vec![]));
        assert!(parse_columns("owner").is_err());
        assert!(parse_columns("child_name:Name").is_err());
        assert!(parse_columns("owner: ").is_err());
    }

    #[test]
    fn statuses_of_both_systems() {
        assert_eq!(parse_case_status(CaseSource::Primero, "open"), Some(CaseStatus::Open));
        assert_eq!(parse_case_status(CaseSource::Primero, " Closed "), Some(CaseStatus::Closed));
        assert_eq!(parse_case_status(CaseSource::Primero, "transferred"), Some(CaseStatus::Closed));
        assert_eq!(parse_case_status(CaseSource::Primero, "Active"), None);
        for s in ["Active", "Accepted", "Referred"] {
            assert_eq!(parse_case_status(CaseSource::Oscar, s), Some(CaseStatus::Open), "{s}");
        }
        assert_eq!(parse_case_status(CaseSource::Oscar, "Exited"), Some(CaseStatus::Closed));
        assert_eq!(parse_case_status(CaseSource::Oscar, ""), None);
    }

    #[test]
    fn owners_are_split_where_the_source_joins_them() {
        assert_eq!(split_owners(CaseSource::Oscar, "Sok Dara, Jane Doe,, Sok Dara"), vec!["Sok Dara", "Jane Doe"]);
        assert_eq!(split_owners(CaseSource::Primero, " cp_worker1 "), vec!["cp_worker1"]);
        assert_eq!(split_owners(CaseSource::Primero, "a, b"), vec!["a, b"]);
        assert!(split_owners(CaseSource::Oscar, " , ").is_empty());
        assert_eq!(owner_key("  Sok   DARA "), "sok dara");
    }

    #[test]
    fn the_most_specific_threshold_applies() {
        let t = |c: Option<&str>, r: Option<&str>, n| Threshold {
            cadre: c.map(String::from),
            role: r.map(String::from),
            max_open: n,
        };
        assert_eq!(threshold_for(&[], "para_social_worker", "ccwc_focal_point"), DEFAULT_THRESHOLD);
        let s = vec![
            t(None, None, 30),
            t(Some("para_social_worker"), None, 15),
            t(None, Some("ccwc_focal_point"), 12),
            t(Some("para_social_worker"), Some("social_worker"), 20),
        ];
        assert_eq!(threshold_for(&s, "para_social_worker", "social_worker"), 20);
        assert_eq!(threshold_for(&s, "para_social_worker", "ccwc_focal_point"), 12);
        assert_eq!(threshold_for(&s, "para_social_worker", "other"), 15);
        assert_eq!(threshold_for(&s, "professional_social_worker", "other"), 30);
    }
}
