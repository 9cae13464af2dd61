//! Turning what a user typed into validated drafts, with one specific error
//! per bad field. Messages are codes (`required`, `invalid_date`, ...) that the
//! web layer translates into the user's language.

use crate::text::{clean_text, has_letter, NonBlank};
use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::*;

/// One problem with one field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// The field's name as it appears in forms and the API (e.g. `date_of_birth`).
    pub field: String,
    /// Machine-readable reason, e.g. `required`, `invalid_date`, `duplicate_national_id`.
    pub code: String,
    /// Values the message refers to (e.g. `max`, `existing_id`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
}

impl FieldError {
    pub fn new(field: &str, code: &str) -> Self {
        Self { field: field.to_string(), code: code.to_string(), params: BTreeMap::new() }
    }

    pub fn with(mut self, key: &str, value: impl ToString) -> Self {
        self.params.insert(key.to_string(), value.to_string());
        self
    }
}

/// Every problem found in one submission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ValidationErrors {
    pub errors: Vec<FieldError>,
}

impl ValidationErrors {
    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
    pub fn for_field(&self, field: &str) -> Option<&FieldError> {
        self.errors.iter().find(|e| e.field == field)
    }
    pub fn single(e: FieldError) -> Self {
        Self { errors: vec![e] }
    }
}

impl std::fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.errors.iter().map(|e| format!("{}: {}", e.field, e.code)).collect();
        f.write_str(&parts.join(", "))
    }
}

impl std::error::Error for ValidationErrors {}

/// A worker record as submitted (form or API): text fields, all optional, so
/// that every problem can be reported at once. (The OpenAPI schema says what a valid record
/// is: the required fields, the codes and the dates; a blank optional field means none.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkerInput {
    #[schema(value_type = String, required = true)]
    pub name_km: Option<String>,
    /// In Latin letters.
    #[schema(value_type = String, required = true)]
    pub name_latin: Option<String>,
    #[schema(value_type = Sex, required = true)]
    pub sex: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<String>,
    pub national_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    #[schema(value_type = Cadre, required = true)]
    pub cadre: Option<String>,
    #[schema(value_type = WorkerRole, required = true)]
    pub role: Option<String>,
    #[schema(value_type = Sector, required = true)]
    pub sector: Option<String>,
    /// The employer (an organization in the caller's scope).
    pub org_id: Option<i64>,
    pub position_title: Option<String>,
    /// Admin unit code of the workplace (a commune, district or province in the caller's scope).
    #[schema(value_type = String, required = true)]
    pub workplace_code: Option<String>,
    #[schema(value_type = EmploymentStatus, required = true)]
    pub status: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<String>,
    #[schema(value_type = Option<EducationLevel>)]
    pub education_level: Option<String>,
    #[schema(value_type = Option<EducationField>)]
    pub education_field: Option<String>,
}

impl WorkerInput {
    /// The input of a form or a device's change, whose fields are all text (`get` answers a
    /// field by name, none when absent). `org_id` is a number; blank asks to remove the
    /// employer (`Some(0)`), as in a PATCH; one that is not a number is a problem.
    pub fn from_text(get: impl Fn(&str) -> Option<String>) -> (Self, ValidationErrors) {
        let mut errs = ValidationErrors::default();
        let org_id = match get("org_id").as_deref().map(str::trim) {
            None => None,
            Some("") => Some(0),
            Some(s) => match s.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    errs.push(FieldError::new("org_id", "invalid_number"));
                    None
                }
            },
        };
        let input = WorkerInput {
            name_km: get("name_km"),
            name_latin: get("name_latin"),
            sex: get("sex"),
            date_of_birth: get("date_of_birth"),
            national_id: get("national_id"),
            phone: get("phone"),
            email: get("email"),
            cadre: get("cadre"),
            role: get("role"),
            sector: get("sector"),
            org_id,
            position_title: get("position_title"),
            workplace_code: get("workplace_code"),
            status: get("status"),
            start_date: get("start_date"),
            end_date: get("end_date"),
            education_level: get("education_level"),
            education_field: get("education_field"),
        };
        (input, errs)
    }

    /// The input that reproduces an existing record (the base for edits).
    pub fn from_draft(d: &WorkerDraft) -> Self {
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string());
        Self {
            name_km: Some(d.name_km.clone()),
            name_latin: Some(d.name_latin.clone()),
            sex: Some(d.sex.code().into()),
            date_of_birth: date(d.date_of_birth),
            national_id: d.national_id.clone(),
            phone: d.phone.clone(),
            email: d.email.clone(),
            cadre: Some(d.cadre.code().into()),
            role: Some(d.role.code().into()),
            sector: Some(d.sector.code().into()),
            org_id: d.org_id,
            position_title: d.position_title.clone(),
            workplace_code: Some(d.workplace_code.clone()),
            status: Some(d.status.code().into()),
            start_date: date(d.start_date),
            end_date: date(d.end_date),
            education_level: d.education_level.map(|v| v.code().into()),
            education_field: d.education_field.map(|v| v.code().into()),
        }
    }

    /// Overlays the fields present in `patch` (JSON merge-patch semantics for
    /// present keys; an empty string clears an optional field).
    pub fn overlay(mut self, patch: WorkerInput) -> Self {
        macro_rules! take {
            ($($f:ident),*) => { $( if patch.$f.is_some() { self.$f = patch.$f; } )* };
        }
        take!(
            name_km,
            name_latin,
            sex,
            date_of_birth,
            national_id,
            phone,
            email,
            cadre,
            role,
            sector,
            org_id,
            position_title,
            workplace_code,
            status,
            start_date,
            end_date,
            education_level,
            education_field
        );
        if self.org_id == Some(0) {
            // `org_id: 0` in a patch removes the employer.
            self.org_id = None;
        }
        self
    }

    /// Names of the fields this input sets.
    pub fn present_fields(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        macro_rules! check {
            ($($f:ident),*) => { $( if self.$f.is_some() { v.push(stringify!($f)); } )* };
        }
        check!(
            name_km,
            name_latin,
            sex,
            date_of_birth,
            national_id,
            phone,
            email,
            cadre,
            role,
            sector,
            org_id,
            position_title,
            workplace_code,
            status,
            start_date,
            end_date,
            education_level,
            education_field
        );
        v
    }
}

/// Fields a worker may change on their own profile.
pub const SELF_EDITABLE_FIELDS: &[&str] = &["phone", "email", "education_level", "education_field"];

const MAX_TEXT: usize = 200;

/// The value composed and without invisible characters ([`clean_text`]); none when blank.
fn clean(v: &Option<String>) -> Option<String> {
    v.non_blank().map(clean_text).filter(|s| !s.is_empty())
}

/// A name: text that holds at least one letter (not only digits, dots or characters that
/// show nothing).
fn name(errs: &mut ValidationErrors, field: &str, v: &Option<String>, required: bool) -> Option<String> {
    let invisible_only = v.non_blank().is_some() && clean(v).is_none();
    let n = text(errs, field, v, required && !invisible_only);
    if invisible_only || n.as_deref().is_some_and(|n| !has_letter(n)) {
        errs.push(FieldError::new(field, "no_letter"));
    }
    n
}

fn text(errs: &mut ValidationErrors, field: &str, v: &Option<String>, required: bool) -> Option<String> {
    let v = clean(v);
    match &v {
        None if required => errs.push(FieldError::new(field, "required")),
        Some(s) if s.chars().count() > MAX_TEXT => errs.push(FieldError::new(field, "too_long").with("max", MAX_TEXT)),
        Some(s) if s.chars().any(|c| c.is_control()) => errs.push(FieldError::new(field, "invalid_characters")),
        _ => {}
    }
    v
}

fn choice<T>(
    errs: &mut ValidationErrors,
    field: &str,
    v: &Option<String>,
    required: bool,
    parse: fn(&str) -> Option<T>,
) -> Option<T> {
    match clean(v) {
        None => {
            if required {
                errs.push(FieldError::new(field, "required"));
            }
            None
        }
        Some(s) => {
            let parsed = parse(&s);
            if parsed.is_none() {
                errs.push(FieldError::new(field, "invalid_choice").with("value", s));
            }
            parsed
        }
    }
}

fn date(errs: &mut ValidationErrors, field: &str, v: &Option<String>, today: NaiveDate) -> Option<NaiveDate> {
    let s = clean(v)?;
    match NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
        Ok(d) if d > today => {
            errs.push(FieldError::new(field, "future_date"));
            None
        }
        Ok(d) => Some(d),
        Err(_) => {
            errs.push(FieldError::new(field, "invalid_date").with("value", s));
            None
        }
    }
}

/// Latin letters (with accents), spaces, and `.`, `-`, `'`.
pub fn is_latin_name(s: &str) -> bool {
    s.chars().any(|c| c.is_alphabetic())
        && s.chars().all(|c| (c.is_alphabetic() && (c as u32) < 0x0250) || matches!(c, ' ' | '.' | '-' | '\''))
}

/// Phone numbers: digits with optional leading `+`, spaces and dashes; 8 to 15 digits.
pub fn is_phone(s: &str) -> bool {
    let digits = s.chars().filter(|c| c.is_ascii_digit()).count();
    let allowed =
        s.chars().enumerate().all(|(i, c)| c.is_ascii_digit() || c == ' ' || c == '-' || (c == '+' && i == 0));
    allowed && (8..=15).contains(&digits)
}

/// E-mail addresses as people have them: `local@domain`, where the local part is letters,
/// digits and `!#$%&'*+/=?^_`{|}~.-` (no quotes, brackets, spaces or markup), and the
/// domain is two or more labels of letters, digits and inner hyphens.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else { return false };
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
    let local_ok =
        (1..=64).contains(&local.len()) && local.split('.').all(|part| !part.is_empty() && part.chars().all(atext));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            (1..=63).contains(&l.chars().count())
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        });
    local_ok && domain_ok
}

/// National ID numbers: 6 to 20 letters and digits.
pub fn is_national_id(s: &str) -> bool {
    (6..=20).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric())
}

fn checked(
    errs: &mut ValidationErrors,
    field: &str,
    v: &Option<String>,
    ok: fn(&str) -> bool,
    code: &str,
) -> Option<String> {
    let v = clean(v)?;
    if !ok(&v) {
        errs.push(FieldError::new(field, code));
    }
    Some(v)
}

/// Youngest and oldest age accepted for a worker.
pub const MIN_AGE: i32 = 15;
pub const MAX_AGE: i32 = 100;

fn age_on(dob: NaiveDate, day: NaiveDate) -> i32 {
    let mut age = day.year() - dob.year();
    if (day.month(), day.day()) < (dob.month(), dob.day()) {
        age -= 1;
    }
    age
}

/// A person's Khmer and Latin names checked by the worker record's rules (each required, with
/// a letter, no control character; the Latin one in Latin letters): the names cleaned. Used by
/// every record that may become a worker (a candidate, a placed student).
pub fn person_names(
    e: &mut ValidationErrors,
    name_km: &Option<String>,
    name_latin: &Option<String>,
) -> (Option<String>, Option<String>) {
    let km = name(e, "name_km", name_km, true);
    let latin = name(e, "name_latin", name_latin, true);
    if let Some(n) = &latin {
        if n.chars().count() <= MAX_TEXT && !is_latin_name(n) {
            e.push(FieldError::new("name_latin", "invalid_latin_name"));
        }
    }
    (km, latin)
}

/// Validates a worker submission. Checks needing the database (that the
/// workplace and organization exist and are in scope, that the national ID is
/// unique) are the store's; this covers everything else.
pub fn validate_worker(input: &WorkerInput, today: NaiveDate) -> Result<WorkerDraft, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let (name_km, name_latin) = person_names(&mut e, &input.name_km, &input.name_latin);
    let sex = choice(&mut e, "sex", &input.sex, true, Sex::parse);
    let date_of_birth = date(&mut e, "date_of_birth", &input.date_of_birth, today);
    if let Some(dob) = date_of_birth {
        let age = age_on(dob, today);
        if !(MIN_AGE..=MAX_AGE).contains(&age) {
            e.push(FieldError::new("date_of_birth", "age_out_of_range").with("min", MIN_AGE).with("max", MAX_AGE));
        }
    }
    let national_id = checked(&mut e, "national_id", &input.national_id, is_national_id, "invalid_national_id");
    let phone = checked(&mut e, "phone", &input.phone, is_phone, "invalid_phone");
    let email = checked(&mut e, "email", &input.email, is_email, "invalid_email");
    let cadre = choice(&mut e, "cadre", &input.cadre, true, Cadre::parse);
    let role = choice(&mut e, "role", &input.role, true, WorkerRole::parse);
    let sector = choice(&mut e, "sector", &input.sector, true, Sector::parse);
    if let Some(id) = input.org_id {
        if id <= 0 {
            e.push(FieldError::new("org_id", "unknown_organization"));
        }
    }
    let position_title = text(&mut e, "position_title", &input.position_title, false);
    let workplace_code = text(&mut e, "workplace_code", &input.workplace_code, true);
    let status = choice(&mut e, "status", &input.status, true, EmploymentStatus::parse);
    let start_date = date(&mut e, "start_date", &input.start_date, today);
    let end_date = date(&mut e, "end_date", &input.end_date, today);
    if let (Some(s), Some(end)) = (start_date, end_date) {
        if end < s {
            e.push(FieldError::new("end_date", "end_before_start"));
        }
    }
    if let (Some(st), Some(_)) = (status, end_date) {
        if !st.is_separated() {
            e.push(FieldError::new("end_date", "end_date_not_allowed"));
        }
    }
    if let (Some(dob), Some(s)) = (date_of_birth, start_date) {
        if s < dob {
            e.push(FieldError::new("start_date", "before_birth"));
        }
    }
    let education_level = choice(&mut e, "education_level", &input.education_level, false, EducationLevel::parse);
    let education_field = choice(&mut e, "education_field", &input.education_field, false, EducationField::parse);

    if !e.is_empty() {
        return Err(e);
    }
    // Every required field is Some when no error was recorded.
    match (name_km, name_latin, sex, cadre, role, sector, workplace_code, status) {
        (
            Some(name_km),
            Some(name_latin),
            Some(sex),
            Some(cadre),
            Some(role),
            Some(sector),
            Some(workplace_code),
            Some(status),
        ) => Ok(WorkerDraft {
            name_km,
            name_latin,
            sex,
            date_of_birth,
            national_id,
            phone,
            email,
            cadre,
            role,
            sector,
            org_id: input.org_id,
            position_title,
            workplace_code,
            status,
            start_date,
            end_date,
            education_level,
            education_field,
        }),
        _ => Err(ValidationErrors::single(FieldError::new("", "required"))),
    }
}

/// An organization as submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgInput {
    pub name_km: Option<String>,
    #[schema(value_type = String, required = true)]
    pub name_en: Option<String>,
    #[schema(value_type = OrgKind, required = true)]
    pub kind: Option<String>,
    pub registration_no: Option<String>,
    /// Admin unit code of where the organization is (in the caller's scope).
    #[schema(value_type = String, required = true)]
    pub admin_code: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

impl OrgInput {
    pub fn from_draft(d: &OrgDraft) -> Self {
        Self {
            name_km: d.name_km.clone(),
            name_en: Some(d.name_en.clone()),
            kind: Some(d.kind.code().into()),
            registration_no: d.registration_no.clone(),
            admin_code: Some(d.admin_code.clone()),
            phone: d.phone.clone(),
            email: d.email.clone(),
        }
    }

    pub fn overlay(mut self, p: OrgInput) -> Self {
        macro_rules! take {
            ($($f:ident),*) => { $( if p.$f.is_some() { self.$f = p.$f; } )* };
        }
        take!(name_km, name_en, kind, registration_no, admin_code, phone, email);
        self
    }
}

pub fn validate_org(input: &OrgInput) -> Result<OrgDraft, ValidationErrors> {
    let mut e = ValidationErrors::default();
    let name_km = name(&mut e, "name_km", &input.name_km, false);
    let name_en = name(&mut e, "name_en", &input.name_en, true);
    let kind = choice(&mut e, "kind", &input.kind, true, OrgKind::parse);
    let registration_no = text(&mut e, "registration_no", &input.registration_no, false);
    let admin_code = text(&mut e, "admin_code", &input.admin_code, true);
    let phone = checked(&mut e, "phone", &input.phone, is_phone, "invalid_phone");
    let email = checked(&mut e, "email", &input.email, is_email, "invalid_email");
    match (name_en, kind, admin_code) {
        (Some(name_en), Some(kind), Some(admin_code)) if e.is_empty() => {
            Ok(OrgDraft { name_km, name_en, kind, registration_no, admin_code, phone, email })
        }
        _ => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    fn good() -> WorkerInput {
        WorkerInput {
            name_km: Some("សុខ ចាន់ធា".into()),
            name_latin: Some("Sok Chantha".into()),
            sex: Some("female".into()),
            date_of_birth: Some("1990-04-13".into()),
            cadre: Some("para_social_worker".into()),
            role: Some("ccwc_focal_point".into()),
            sector: Some("government".into()),
            workplace_code: Some("010201".into()),
            status: Some("active".into()),
            ..Default::default()
        }
    }

    #[test]
    fn valid_input_becomes_a_draft() {
        let d = validate_worker(&good(), today()).unwrap();
        assert_eq!(d.name_km, "សុខ ចាន់ធា");
        assert_eq!(d.cadre, Cadre::ParaSocialWorker);
        assert_eq!(d.date_of_birth, NaiveDate::from_ymd_opt(1990, 4, 13));
    }

    #[test]
    fn every_bad_field_is_reported_by_name() {
        let input = WorkerInput {
            name_km: Some("  ".into()),
            name_latin: Some("សុខ".into()),
            sex: Some("x".into()),
            date_of_birth: Some("1990-13-01".into()),
            national_id: Some("12".into()),
            phone: Some("abc".into()),
            email: Some("nobody".into()),
            cadre: None,
            status: Some("active".into()),
            end_date: Some("2020-01-01".into()),
            ..good()
        };
        let errs = validate_worker(&input, today()).unwrap_err();
        let got: Vec<(&str, &str)> = errs.errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        for expected in [
            ("name_km", "required"),
            ("name_latin", "invalid_latin_name"),
            ("sex", "invalid_choice"),
            ("date_of_birth", "invalid_date"),
            ("national_id", "invalid_national_id"),
            ("phone", "invalid_phone"),
            ("email", "invalid_email"),
            ("cadre", "required"),
            ("end_date", "end_date_not_allowed"),
        ] {
            assert!(got.contains(&expected), "missing {expected:?} in {got:?}");
        }
    }

    #[test]
    fn dates_are_checked_against_today() {
        let mut i = good();
        i.date_of_birth = Some("2020-01-01".into());
        let e = validate_worker(&i, today()).unwrap_err();
        assert_eq!(e.for_field("date_of_birth").unwrap().code, "age_out_of_range");
        i.date_of_birth = Some("2027-01-01".into());
        let e = validate_worker(&i, today()).unwrap_err();
        assert_eq!(e.for_field("date_of_birth").unwrap().code, "future_date");
        let mut i = good();
        i.status = Some("left".into());
        i.start_date = Some("2020-05-01".into());
        i.end_date = Some("2019-05-01".into());
        let e = validate_worker(&i, today()).unwrap_err();
        assert_eq!(e.for_field("end_date").unwrap().code, "end_before_start");
    }

    #[test]
    fn overlay_keeps_absent_fields() {
        let base = good();
        let patch = WorkerInput { phone: Some("012 345 678".into()), ..Default::default() };
        let merged = base.clone().overlay(patch);
        assert_eq!(merged.phone.as_deref(), Some("012 345 678"));
        assert_eq!(merged.name_km, base.name_km);
        assert!(validate_worker(&merged, today()).is_ok());
    }

    #[test]
    fn small_checks() {
        assert!(is_phone("+855 12 345 678"));
        assert!(!is_phone("12-34"));
        assert!(is_email("a@b.org"));
        assert!(is_email("sok.dara+hr@mosvy.gov.kh"));
        assert!(is_email("o'brien@xn--p1ai.example"));
        for bad in [
            "a@b",
            "a\"><script>@x.org",
            "<a>@x.org",
            "a b@x.org",
            "a@x..org",
            ".a@x.org",
            "a@-x.org",
            "a@@x.org",
            "@x.org",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(is_latin_name("Sok Chan-Tha"));
        assert!(!is_latin_name("Sok1"));
    }

    #[test]
    fn names_are_stored_clean_and_need_a_letter() {
        let mut w = WorkerInput {
            name_km: Some("ចាន់\u{200B}សុភា\u{202E}".into()),
            name_latin: Some("Chan Sophea".into()),
            sex: Some("female".into()),
            cadre: Some("para_social_worker".into()),
            role: Some("ccwc_focal_point".into()),
            sector: Some("government".into()),
            workplace_code: Some("020101".into()),
            status: Some("active".into()),
            ..Default::default()
        };
        assert_eq!(validate_worker(&w, today()).unwrap().name_km, "ចាន់សុភា");
        for hidden in ["\u{200B}\u{200B}\u{200D}", "\u{202E}", "१२३ ..."] {
            w.name_km = Some(hidden.into());
            let e = validate_worker(&w, today()).unwrap_err();
            let codes: Vec<&str> = e.errors.iter().filter(|e| e.field == "name_km").map(|e| e.code.as_str()).collect();
            assert_eq!(codes, vec!["no_letter"], "{hidden:?}");
        }
        let e = validate_org(&OrgInput { name_en: Some("\u{200B}".into()), ..Default::default() }).unwrap_err();
        assert_eq!(e.for_field("name_en").map(|e| e.code.as_str()), Some("no_letter"));
    }

    #[test]
    fn org_requires_name_kind_and_unit() {
        let e = validate_org(&OrgInput::default()).unwrap_err();
        let fields: Vec<&str> = e.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["name_en", "kind", "admin_code"]);
    }
}
