//! Training, credits, certification and licensing: the rules, without I/O.
//!
//! - The credit rule of the Cambodia Qualifications Framework (NISA Strategic Plan 2021-2025,
//!   section 1.4.2): 1 credit is 15 hours of teaching and instruction, or 30 hours of
//!   laboratory/workshop activity, or 45 hours of field work or internship. Hours are kept
//!   in whole minutes, so credits are exact: `credits = (6·teaching + 3·lab + 2·field) / 5400`
//!   with every term in minutes.
//! - Certificate levels (Table 11): the Vocational Certificate for para social workers,
//!   Technical and Vocational Certificates 1-3 for para-professionals, a certificate for
//!   allied workers, and degrees for professional social workers.
//! - Licences: application, review and decision, expiry, renewal on continuing-education
//!   hours, suspension and lapse.
//! - Certificate and licence numbers: random, with a check character, so that one number
//!   tells nothing about another.

use crate::text::NonBlank;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::{vocabulary, WorkerRole};
use crate::validate::{FieldError, ValidationErrors};

vocabulary!(
    /// Certificate levels of the social service workforce (NISA Strategic Plan, Table 11).
    CertificateLevel, "cert_level" {
        VocationalCertificate => "vocational_certificate",
        Tvc1 => "tvc1",
        Tvc2 => "tvc2",
        Tvc3 => "tvc3",
        AlliedCertificate => "allied_certificate",
        Degree => "degree",
        Continuing => "continuing_education",
    }
);

impl CertificateLevel {
    /// The minimum credits of a programme at this level, as the plan sets them: 30 for the
    /// Vocational Certificate and each Technical and Vocational Certificate; 6 (15 days of
    /// 6 teaching hours) for the allied workers' certificate; 120 for a bachelor degree;
    /// none for continuing education, which leads to no certificate.
    pub fn default_credits(self) -> u32 {
        match self {
            Self::VocationalCertificate | Self::Tvc1 | Self::Tvc2 | Self::Tvc3 => 30,
            Self::AlliedCertificate => 6,
            Self::Degree => 120,
            Self::Continuing => 0,
        }
    }
}

vocabulary!(
    /// Kinds of training institution.
    InstitutionKind, "institution_kind" {
        Government => "government",
        University => "university",
        Ngo => "ngo",
        Other => "other",
    }
);

vocabulary!(
    /// How a participant finished a training event. Only `passed` earns credits and
    /// continuing-education hours.
    TrainingResult, "training_result" {
        Pending => "pending",
        Passed => "passed",
        Failed => "failed",
        Absent => "absent",
    }
);

vocabulary!(
    /// Recognition of prior learning (RPL) and of current competency (RCC).
    RecognitionKind, "recognition_kind" { Rpl => "rpl", Rcc => "rcc" }
);

vocabulary!(
    /// The state of a licence as stored. What a licence is worth today is
    /// [`effective_status`]: an active licence past its expiry date has lapsed.
    LicenceStatus, "licence_status" {
        Applied => "applied",
        Active => "active",
        Rejected => "rejected",
        Suspended => "suspended",
        Lapsed => "lapsed",
        Revoked => "revoked",
    }
);

/// The status a licence has on `today`: an active licence whose expiry date has passed has lapsed.
pub fn effective_status(status: LicenceStatus, expires_on: Option<NaiveDate>, today: NaiveDate) -> LicenceStatus {
    match (status, expires_on) {
        (LicenceStatus::Active, Some(exp)) if exp < today => LicenceStatus::Lapsed,
        (s, _) => s,
    }
}

/// Hours by type, in whole minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minutes {
    pub teaching: i64,
    pub lab: i64,
    pub field: i64,
}

impl Minutes {
    pub fn total(&self) -> i64 {
        self.teaching + self.lab + self.field
    }

    pub fn add(&mut self, o: &Minutes) {
        self.teaching += o.teaching;
        self.lab += o.lab;
        self.field += o.field;
    }

    /// Credits by the credit rule, exact, as 1/5400ths of a credit.
    pub fn credit_units(&self) -> i64 {
        6 * self.teaching + 3 * self.lab + 2 * self.field
    }

    /// Credits by the credit rule, rounded to two decimals.
    pub fn credits(&self) -> f64 {
        round2(self.credit_units() as f64 / CREDIT_UNITS as f64)
    }

    pub fn hours(&self) -> Hours {
        Hours { teaching: to_hours(self.teaching), lab: to_hours(self.lab), field: to_hours(self.field) }
    }
}

/// 1/5400ths of a credit in one credit.
pub const CREDIT_UNITS: i64 = 5400;

/// True when `m` earns at least `credits` credits (exactly, without rounding).
pub fn reaches_credits(m: &Minutes, credits: u32) -> bool {
    m.credit_units() >= credits as i64 * CREDIT_UNITS
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn to_hours(minutes: i64) -> f64 {
    round2(minutes as f64 / 60.0)
}

/// Hours by type as users give and read them (decimal hours: 7.5 is seven and a half hours).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Hours {
    /// Teaching and instruction (15 hours = 1 credit).
    #[serde(default)]
    pub teaching: f64,
    /// Laboratory or workshop (30 hours = 1 credit).
    #[serde(default)]
    pub lab: f64,
    /// Field work or internship (45 hours = 1 credit).
    #[serde(default)]
    pub field: f64,
}

/// The most hours of one type a single record may carry (a 4-year degree is about 6,000).
pub const MAX_HOURS: f64 = 10_000.0;

impl Hours {
    /// Checks the hours (none negative, none absurd) and converts them to minutes;
    /// `prefix` names the fields in errors (`hours.teaching`, ...).
    pub fn to_minutes(&self, prefix: &str, errs: &mut ValidationErrors) -> Minutes {
        let mut one = |name: &str, v: f64| -> i64 {
            let field = format!("{prefix}{name}");
            if !v.is_finite() {
                errs.push(FieldError::new(&field, "invalid_number"));
                0
            } else if v < 0.0 {
                errs.push(FieldError::new(&field, "negative_hours").with("value", v));
                0
            } else if v > MAX_HOURS {
                errs.push(FieldError::new(&field, "too_many_hours").with("max", MAX_HOURS));
                0
            } else {
                (v * 60.0).round() as i64
            }
        };
        Minutes { teaching: one("teaching", self.teaching), lab: one("lab", self.lab), field: one("field", self.field) }
    }
}

// ---------------------------------------------------------------------------------------------
// Catalogue and events: what a form or API call submits, checked.
// ---------------------------------------------------------------------------------------------

/// A coded value; `invalid_choice` (with the value) when it is none of the codes.
fn choice<T>(field: &str, v: &str, parse: fn(&str) -> Option<T>, errs: &mut ValidationErrors) -> Option<T> {
    let parsed = parse(v);
    if parsed.is_none() {
        errs.push(FieldError::new(field, "invalid_choice").with("value", v));
    }
    parsed
}

fn required_text(field: &str, v: &str, max: usize, errs: &mut ValidationErrors) -> String {
    let t = crate::clean_text(v);
    if t.is_empty() {
        errs.push(FieldError::new(field, "required"));
    } else {
        check_text(field, &t, max, errs);
    }
    t
}

fn optional_text(field: &str, v: &Option<String>, max: usize, errs: &mut ValidationErrors) -> Option<String> {
    let t = crate::clean_text(v.non_blank()?);
    if t.is_empty() {
        return None;
    }
    check_text(field, &t, max, errs);
    Some(t)
}

/// Length and characters of text: no control characters but line breaks and tabs.
fn check_text(field: &str, t: &str, max: usize, errs: &mut ValidationErrors) {
    if t.chars().count() > max {
        errs.push(FieldError::new(field, "too_long").with("max", max));
    } else if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        errs.push(FieldError::new(field, "invalid_characters"));
    }
}

fn code_text(field: &str, v: &str, errs: &mut ValidationErrors) -> String {
    let t = required_text(field, v, 40, errs);
    if !t.is_empty() && !t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.') {
        errs.push(FieldError::new(field, "invalid_code"));
    }
    t
}

/// A training institution as submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InstitutionInput {
    /// Short unique code, e.g. `NISA`.
    pub code: String,
    pub name_en: String,
    #[serde(default)]
    pub name_km: String,
    #[schema(value_type = InstitutionKind)]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstitutionDraft {
    pub code: String,
    pub name_en: String,
    pub name_km: String,
    pub kind: InstitutionKind,
}

pub fn validate_institution(i: &InstitutionInput) -> Result<InstitutionDraft, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let code = code_text("code", &i.code, &mut errs).to_uppercase();
    let name_en = required_text("name_en", &i.name_en, 200, &mut errs);
    let name_km = i.name_km.trim().to_string();
    let kind = choice("kind", &i.kind, InstitutionKind::parse, &mut errs);
    match kind {
        Some(kind) if errs.is_empty() => Ok(InstitutionDraft { code, name_en, name_km, kind }),
        _ => Err(errs),
    }
}

/// A programme as submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProgrammeInput {
    pub code: String,
    pub title_en: String,
    #[serde(default)]
    pub title_km: String,
    #[schema(value_type = CertificateLevel)]
    pub level: String,
    pub institution_id: i64,
    /// Credits the certificate requires; the level's default when absent.
    #[serde(default)]
    pub credits_required: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeDraft {
    pub code: String,
    pub title_en: String,
    pub title_km: String,
    pub level: CertificateLevel,
    pub institution_id: i64,
    pub credits_required: u32,
}

pub fn validate_programme(i: &ProgrammeInput) -> Result<ProgrammeDraft, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let code = code_text("code", &i.code, &mut errs).to_uppercase();
    let title_en = required_text("title_en", &i.title_en, 200, &mut errs);
    let title_km = i.title_km.trim().to_string();
    let level = choice("level", &i.level, CertificateLevel::parse, &mut errs);
    if i.institution_id <= 0 {
        errs.push(FieldError::new("institution_id", "required"));
    }
    if let Some(c) = i.credits_required {
        if c > 400 {
            errs.push(FieldError::new("credits_required", "out_of_range").with("min", 0).with("max", 400));
        }
    }
    match level {
        Some(level) if errs.is_empty() => Ok(ProgrammeDraft {
            code,
            title_en,
            title_km,
            level,
            institution_id: i.institution_id,
            credits_required: i.credits_required.unwrap_or(level.default_credits()),
        }),
        _ => Err(errs),
    }
}

/// A module of a programme, or a course on its own (no programme), as submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CourseInput {
    pub code: String,
    pub title_en: String,
    #[serde(default)]
    pub title_km: String,
    /// The programme this module belongs to; none for a course on its own (continuing education).
    #[serde(default)]
    pub programme_id: Option<i64>,
    /// The hours the module plans, by type.
    #[serde(default)]
    pub hours: Hours,
    /// Codes of the framework competencies the module covers (e.g. `S1`).
    #[serde(default)]
    pub competencies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CourseDraft {
    pub code: String,
    pub title_en: String,
    pub title_km: String,
    pub programme_id: Option<i64>,
    pub minutes: Minutes,
    pub competencies: Vec<String>,
}

/// Checks a course; `known_competency` says whether a competency code exists in the current framework.
pub fn validate_course(
    i: &CourseInput,
    known_competency: impl Fn(&str) -> bool,
) -> Result<CourseDraft, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let code = code_text("code", &i.code, &mut errs).to_uppercase();
    let title_en = required_text("title_en", &i.title_en, 200, &mut errs);
    let minutes = i.hours.to_minutes("hours.", &mut errs);
    let mut competencies: Vec<String> = Vec::new();
    for c in &i.competencies {
        let c = c.trim();
        if c.is_empty() {
            continue;
        }
        if !known_competency(c) {
            errs.push(FieldError::new("competencies", "unknown_competency_code").with("value", c));
        } else if !competencies.iter().any(|x| x == c) {
            competencies.push(c.to_string());
        }
    }
    if errs.is_empty() {
        Ok(CourseDraft {
            code,
            title_en,
            title_km: i.title_km.trim().to_string(),
            programme_id: i.programme_id.filter(|p| *p > 0),
            minutes,
            competencies,
        })
    } else {
        Err(errs)
    }
}

/// A training event as submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventInput {
    pub course_id: i64,
    #[serde(default)]
    pub institution_id: Option<i64>,
    #[schema(value_type = String, format = Date)]
    pub starts_on: String,
    #[schema(value_type = String, format = Date)]
    pub ends_on: String,
    /// Admin unit code of where it takes place (its scope decides who runs it).
    pub place_code: String,
    /// Venue, free text.
    #[serde(default)]
    pub venue: Option<String>,
    /// Trainers, free text.
    #[serde(default)]
    pub trainers: Option<String>,
    /// Hours each participant who attends the whole event receives; the course's when absent.
    #[serde(default)]
    pub hours: Option<Hours>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDraft {
    pub course_id: i64,
    pub institution_id: Option<i64>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub place_code: String,
    pub venue: Option<String>,
    pub trainers: Option<String>,
    /// None: the course's hours.
    pub minutes: Option<Minutes>,
}

fn date_field(field: &str, v: &str, errs: &mut ValidationErrors) -> Option<NaiveDate> {
    let t = v.trim();
    if t.is_empty() {
        errs.push(FieldError::new(field, "required"));
        return None;
    }
    match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errs.push(FieldError::new(field, "invalid_date").with("value", t));
            None
        }
    }
}

pub fn validate_event(i: &EventInput) -> Result<EventDraft, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    if i.course_id <= 0 {
        errs.push(FieldError::new("course_id", "required"));
    }
    let starts = date_field("starts_on", &i.starts_on, &mut errs);
    let ends = date_field("ends_on", &i.ends_on, &mut errs);
    if let (Some(s), Some(e)) = (starts, ends) {
        if e < s {
            errs.push(FieldError::new("ends_on", "ends_before_start").with("start", s).with("end", e));
        }
    }
    let place_code = i.place_code.trim().to_string();
    if place_code.is_empty() {
        errs.push(FieldError::new("place_code", "required"));
    }
    let venue = optional_text("venue", &i.venue, 200, &mut errs);
    let trainers = optional_text("trainers", &i.trainers, 500, &mut errs);
    let minutes = i.hours.map(|h| h.to_minutes("hours.", &mut errs));
    match (starts, ends) {
        (Some(starts_on), Some(ends_on)) if errs.is_empty() => Ok(EventDraft {
            course_id: i.course_id,
            institution_id: i.institution_id.filter(|x| *x > 0),
            starts_on,
            ends_on,
            place_code,
            venue,
            trainers,
            minutes,
        }),
        _ => Err(errs),
    }
}

/// One participant's attendance and result, as submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AttendanceInput {
    /// Days attended (free of the hours: for attendance sheets).
    #[serde(default)]
    pub days_attended: Option<u32>,
    /// Hours attended by type; the event's hours when absent and the result is `passed`.
    #[serde(default)]
    pub hours: Option<Hours>,
    #[schema(value_type = TrainingResult)]
    pub result: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceDraft {
    pub days_attended: Option<u32>,
    pub minutes: Minutes,
    pub result: TrainingResult,
}

/// Checks an attendance record; `event_minutes` are the event's hours (what a full attendance earns)
/// and `event_days` its length in days.
pub fn validate_attendance(
    i: &AttendanceInput,
    event_minutes: &Minutes,
    event_days: u32,
) -> Result<AttendanceDraft, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let result = choice("result", &i.result, TrainingResult::parse, &mut errs);
    if let Some(d) = i.days_attended {
        if d > event_days {
            errs.push(FieldError::new("days_attended", "more_days_than_event").with("max", event_days));
        }
    }
    let minutes = match (&i.hours, result) {
        (Some(h), _) => h.to_minutes("hours.", &mut errs),
        (None, Some(TrainingResult::Passed)) => *event_minutes,
        _ => Minutes::default(),
    };
    if result == Some(TrainingResult::Absent) && minutes.total() > 0 {
        errs.push(FieldError::new("result", "absent_with_hours"));
    }
    match result {
        Some(result) if errs.is_empty() => Ok(AttendanceDraft { days_attended: i.days_attended, minutes, result }),
        _ => Err(errs),
    }
}

/// A recognition of prior learning or of current competency, as submitted: the hours by type it
/// recognizes toward a programme (credits follow by the credit rule) and its evidence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecognitionInput {
    #[schema(value_type = RecognitionKind)]
    pub kind: String,
    pub programme_id: i64,
    pub hours: Hours,
    /// What the assessment rested on (documents, observation, portfolio...).
    pub evidence: String,
    pub assessor: String,
    #[schema(value_type = String, format = Date)]
    pub assessed_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecognitionDraft {
    pub kind: RecognitionKind,
    pub programme_id: i64,
    pub minutes: Minutes,
    pub evidence: String,
    pub assessor: String,
    pub assessed_on: NaiveDate,
}

pub fn validate_recognition(i: &RecognitionInput, today: NaiveDate) -> Result<RecognitionDraft, ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let kind = choice("kind", &i.kind, RecognitionKind::parse, &mut errs);
    if i.programme_id <= 0 {
        errs.push(FieldError::new("programme_id", "required"));
    }
    let minutes = i.hours.to_minutes("hours.", &mut errs);
    if errs.for_field("hours.teaching").is_none() && minutes.total() == 0 {
        errs.push(FieldError::new("hours.teaching", "no_hours"));
    }
    let evidence = required_text("evidence", &i.evidence, 2000, &mut errs);
    let assessor = required_text("assessor", &i.assessor, 200, &mut errs);
    let on = date_field("assessed_on", &i.assessed_on, &mut errs);
    if let Some(d) = on {
        if d > today {
            errs.push(FieldError::new("assessed_on", "future_date"));
        }
    }
    match (kind, on) {
        (Some(kind), Some(assessed_on)) if errs.is_empty() => {
            Ok(RecognitionDraft { kind, programme_id: i.programme_id, minutes, evidence, assessor, assessed_on })
        }
        _ => Err(errs),
    }
}

// ---------------------------------------------------------------------------------------------
// Progress and eligibility
// ---------------------------------------------------------------------------------------------

/// A worker's standing toward one programme's certificate.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProgrammeProgress {
    pub programme_id: i64,
    pub programme_code: String,
    pub level: CertificateLevel,
    pub credits_required: u32,
    /// Credits from passed modules of the programme and from its recognitions (RPL/RCC).
    pub credits_earned: f64,
    /// Of those, credits recognized (RPL/RCC).
    pub credits_recognized: f64,
    /// Percent of the required credits, at most 100.
    pub percent: u32,
    /// Enough credits and no certificate of this programme yet.
    pub eligible: bool,
    /// The number of the worker's valid certificate of this programme, if any.
    pub certificate: Option<String>,
}

/// Computes progress toward a programme from the minutes earned in its modules and recognized.
pub fn programme_progress(
    programme_id: i64,
    programme_code: &str,
    level: CertificateLevel,
    credits_required: u32,
    trained: &Minutes,
    recognized: &Minutes,
    certificate: Option<String>,
) -> ProgrammeProgress {
    let mut all = *trained;
    all.add(recognized);
    let percent = if credits_required == 0 {
        100
    } else {
        ((all.credit_units() * 100) / (credits_required as i64 * CREDIT_UNITS)).clamp(0, 100) as u32
    };
    let earned_enough = credits_required > 0 && reaches_credits(&all, credits_required);
    ProgrammeProgress {
        programme_id,
        programme_code: programme_code.to_string(),
        level,
        credits_required,
        credits_earned: all.credits(),
        credits_recognized: recognized.credits(),
        percent,
        eligible: earned_enough && certificate.is_none() && level != CertificateLevel::Continuing,
        certificate,
    }
}

/// A training institution shipped as reference data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultInstitution {
    pub code: &'static str,
    pub name_en: &'static str,
    pub name_km: &'static str,
    pub kind: InstitutionKind,
}

/// The institutions seed 001 names as implementing agencies of the training (NISA, RUPP, SPI)
/// and one entry for NGO trainers; more are added through the application.
pub fn default_institutions() -> Vec<DefaultInstitution> {
    use InstitutionKind::*;
    let i = |code, name_en, name_km, kind| DefaultInstitution { code, name_en, name_km, kind };
    vec![
        i("NISA", "National Institute of Social Affairs", "វិទ្យាស្ថានជាតិសង្គមកិច្ច", Government),
        i(
            "RUPP",
            "Royal University of Phnom Penh, Department of Social Work",
            "សាកលវិទ្យាល័យភូមិន្ទភ្នំពេញ ដេប៉ាតឺម៉ង់សង្គមកិច្ច",
            University,
        ),
        i("SPI", "Saint Paul Institute", "វិទ្យាស្ថានសាំងប៉ូល", University),
        i("NGO", "NGO training partners", "ដៃគូបណ្តុះបណ្តាលអង្គការមិនមែនរដ្ឋាភិបាល", Ngo),
    ]
}

/// A certificate programme shipped as reference data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultProgramme {
    pub code: &'static str,
    pub title_en: &'static str,
    pub title_km: &'static str,
    pub level: CertificateLevel,
    pub institution: &'static str,
}

/// The certificate programmes of seed 001 (Table 11; section 2.3 of the action plan), each with
/// its level's minimum credits; their modules are added through the application.
pub fn default_programmes() -> Vec<DefaultProgramme> {
    use CertificateLevel::*;
    let p = |code, title_en, title_km, level, institution| DefaultProgramme {
        code,
        title_en,
        title_km,
        level,
        institution,
    };
    vec![
        p(
            "VC-PSW",
            "Vocational Certificate for para social workers",
            "វិញ្ញាបនបត្រវិជ្ជាជីវៈ សម្រាប់បុគ្គលិកសង្គមកិច្ចជំនួយ",
            VocationalCertificate,
            "NISA",
        ),
        p(
            "TVC1-PP",
            "Technical and Vocational Certificate 1 for para-professionals",
            "វិញ្ញាបនបត្របច្ចេកទេស និងវិជ្ជាជីវៈ ១ សម្រាប់អ្នកជំនាញពាក់កណ្តាល",
            Tvc1,
            "NISA",
        ),
        p(
            "TVC2-PP",
            "Technical and Vocational Certificate 2 for para-professionals",
            "វិញ្ញាបនបត្របច្ចេកទេស និងវិជ្ជាជីវៈ ២ សម្រាប់អ្នកជំនាញពាក់កណ្តាល",
            Tvc2,
            "NISA",
        ),
        p(
            "TVC3-PP",
            "Technical and Vocational Certificate 3 for para-professionals",
            "វិញ្ញាបនបត្របច្ចេកទេស និងវិជ្ជាជីវៈ ៣ សម្រាប់អ្នកជំនាញពាក់កណ្តាល",
            Tvc3,
            "NISA",
        ),
        p(
            "CERT-ALLIED",
            "Certificate on child protection for allied workers",
            "វិញ្ញាបនបត្រស្តីពីកិច្ចការពារកុមារ សម្រាប់បុគ្គលិកពាក់ព័ន្ធ",
            AlliedCertificate,
            "NISA",
        ),
        p("BSW", "Bachelor of Arts in Social Work", "បរិញ្ញាបត្រសង្គមកិច្ច", Degree, "RUPP"),
        p("CE", "Continuing education", "ការអប់រំបន្ត", Continuing, "NISA"),
    ]
}

// ---------------------------------------------------------------------------------------------
// Targets (Table 11)
// ---------------------------------------------------------------------------------------------

/// A default training target: by the end of `year`, `target` people of the group hold the level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DefaultTarget {
    pub group_code: &'static str,
    pub group_en: &'static str,
    pub level: CertificateLevel,
    pub year: i32,
    pub target: u32,
    /// The registry roles whose workers count toward the group (empty: the registry does not
    /// tell the group apart, so completions are not counted).
    pub roles: &'static [WorkerRole],
}

/// Seed 001, Table 11 ("Proposed types and certification levels required for social service
/// workforce in Cambodia"), as targets for the end of the plan (2025).
pub fn table11_targets() -> Vec<DefaultTarget> {
    use CertificateLevel::*;
    use WorkerRole::*;
    let t = |group_code, group_en, level, target, roles| DefaultTarget {
        group_code,
        group_en,
        level,
        year: 2025,
        target,
        roles,
    };
    vec![
        t(
            "mosvy_officials",
            "Ministry officials (incl. 118 child protection officers)",
            Tvc3,
            500,
            &[MosvyOfficer, MosvyChildProtectionOfficer, NisaLecturer][..],
        ),
        t(
            "dosvy_officials",
            "DoSVY officials (incl. 125 child protection officers)",
            Tvc2,
            471,
            &[DosvyCaseManagementOfficer, DosvyChildProtectionOfficer, DosvyOfficer][..],
        ),
        t(
            "district_offices",
            "District/municipal/khan offices of social affairs",
            Tvc1,
            406,
            &[DistrictSocialWorker, DistrictOfficer][..],
        ),
        t("ccwc", "CCWC commune/sangkat members", VocationalCertificate, 3292, &[CcwcFocalPoint, CcwcMember][..]),
        t("district_wccc", "Municipal/district/khan WCCC", VocationalCertificate, 609, &[][..]),
        t("provincial_wccc", "Capital/provincial WCCC", VocationalCertificate, 125, &[][..]),
        t(
            "allied_cp_officers",
            "Allied officers in charge of child protection",
            AlliedCertificate,
            250,
            &[AlliedPolice, AlliedTeacher, AlliedHealth][..],
        ),
        t("national_committees", "National committees (NCCL, NCECD, NCCT, NCATVIP)", AlliedCertificate, 40, &[][..]),
        t("ministry_working_groups", "Working groups for children in ministries", AlliedCertificate, 27, &[][..]),
    ]
}

/// The registry roles of a Table 11 group (empty for groups the registry does not tell apart,
/// and for groups not in Table 11).
pub fn group_roles(group_code: &str) -> Vec<WorkerRole> {
    table11_targets().into_iter().find(|t| t.group_code == group_code).map(|t| t.roles.to_vec()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Licensing
// ---------------------------------------------------------------------------------------------

/// Licensing rules a ministry sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LicensingRules {
    /// Years a licence (or its renewal) is valid.
    pub term_years: u32,
    /// Continuing-education hours (passed training) needed in a licence's term to renew it.
    pub renewal_ce_hours: u32,
}

impl Default for LicensingRules {
    fn default() -> Self {
        LicensingRules { term_years: 3, renewal_ce_hours: 30 }
    }
}

impl LicensingRules {
    pub fn validate(term_years: i64, renewal_ce_hours: i64) -> Result<LicensingRules, ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if !(1..=10).contains(&term_years) {
            errs.push(FieldError::new("term_years", "out_of_range").with("min", 1).with("max", 10));
        }
        if !(0..=1000).contains(&renewal_ce_hours) {
            errs.push(FieldError::new("renewal_ce_hours", "out_of_range").with("min", 0).with("max", 1000));
        }
        if errs.is_empty() {
            Ok(LicensingRules { term_years: term_years as u32, renewal_ce_hours: renewal_ce_hours as u32 })
        } else {
            Err(errs)
        }
    }

    /// The expiry of a licence granted or renewed from `from`: the day before the same date
    /// `term_years` later.
    pub fn expiry(&self, from: NaiveDate) -> NaiveDate {
        from.checked_add_months(chrono::Months::new(self.term_years * 12))
            .and_then(|d| d.pred_opt())
            .unwrap_or(NaiveDate::MAX)
    }

    /// Refuses a renewal when the continuing-education minutes fall short.
    pub fn check_renewal(&self, ce_minutes: i64) -> Result<(), FieldError> {
        let need = self.renewal_ce_hours as i64 * 60;
        if ce_minutes >= need {
            Ok(())
        } else {
            Err(FieldError::new("ce_hours", "insufficient_ce_hours")
                .with("have", round2(ce_minutes as f64 / 60.0))
                .with("need", self.renewal_ce_hours))
        }
    }
}

/// A licensing decision as submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DecisionInput {
    /// `approve` or `reject` (an application); `suspend`, `reinstate`, `lapse` or `revoke` (a licence).
    #[schema(value_type = LicenceAction)]
    pub action: String,
    /// Why: required to reject, suspend, lapse or revoke.
    #[serde(default)]
    pub reason: Option<String>,
}

vocabulary!(
    /// What a licensing officer does with an application or a licence.
    LicenceAction, "licence_action" {
        Approve => "approve",
        Reject => "reject",
        Suspend => "suspend",
        Reinstate => "reinstate",
        Lapse => "lapse",
        Revoke => "revoke",
    }
);

impl LicenceAction {
    /// The status the action leads to, from the licence's effective status, or the error.
    pub fn apply(self, from: LicenceStatus) -> Result<LicenceStatus, FieldError> {
        use LicenceAction as A;
        use LicenceStatus as S;
        let to = match (self, from) {
            (A::Approve, S::Applied) => S::Active,
            (A::Reject, S::Applied) => S::Rejected,
            (A::Suspend, S::Active) => S::Suspended,
            (A::Reinstate, S::Suspended) => S::Active,
            (A::Lapse, S::Active | S::Suspended) => S::Lapsed,
            (A::Revoke, S::Active | S::Suspended | S::Lapsed) => S::Revoked,
            _ => {
                return Err(FieldError::new("action", "action_not_allowed")
                    .with("action", self.code())
                    .with("status", from.code()))
            }
        };
        Ok(to)
    }

    pub fn needs_reason(self) -> bool {
        !matches!(self, Self::Approve | Self::Reinstate)
    }
}

pub fn validate_decision(i: &DecisionInput) -> Result<(LicenceAction, Option<String>), ValidationErrors> {
    let mut errs = ValidationErrors::default();
    let action = choice("action", &i.action, LicenceAction::parse, &mut errs);
    let reason = optional_text("reason", &i.reason, 1000, &mut errs);
    if let Some(a) = action {
        if a.needs_reason() && reason.is_none() {
            errs.push(FieldError::new("reason", "reason_required"));
        }
    }
    match action {
        Some(a) if errs.is_empty() => Ok((a, reason)),
        _ => Err(errs),
    }
}

// ---------------------------------------------------------------------------------------------
// Certificate and licence numbers
// ---------------------------------------------------------------------------------------------

/// Crockford's base-32 alphabet: no I, L, O or U, so numbers read aloud or typed stay unambiguous.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The Luhn mod 32 check symbol of symbol values (each 0..32): catches every single wrong
/// symbol and almost every swap of two adjacent ones.
fn check_symbol(values: &[u64]) -> u8 {
    let n = 32u64;
    let mut factor = 2;
    let mut sum = 0;
    for v in values.iter().rev() {
        let addend = factor * v;
        factor = if factor == 2 { 1 } else { 2 };
        sum += addend / n + addend % n;
    }
    ALPHABET[((n - sum % n) % n) as usize]
}

/// A number's prefix says what it numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    Certificate,
    Licence,
}

impl NumberKind {
    pub fn prefix(self) -> &'static str {
        match self {
            NumberKind::Certificate => "C",
            NumberKind::Licence => "L",
        }
    }
}

/// Makes a number from 60 random bits: `C-XXXX-XXXX-XXXX-K` (certificate) or `L-...` (licence),
/// where K is a Luhn mod 32 check symbol over the 12 random symbols. The caller passes the randomness (from
/// the operating system's generator), so numbers cannot be guessed from one another.
pub fn make_number(kind: NumberKind, random: u64) -> String {
    let mut v = random & ((1u64 << 60) - 1);
    let mut values = [0u64; 12];
    for x in values.iter_mut().rev() {
        *x = v & 31;
        v >>= 5;
    }
    let syms: Vec<u8> = values.iter().map(|x| ALPHABET[*x as usize]).collect();
    let check = check_symbol(&values) as char;
    let s = |r: std::ops::Range<usize>| std::str::from_utf8(&syms[r]).unwrap_or_default().to_string();
    format!("{}-{}-{}-{}-{}", kind.prefix(), s(0..4), s(4..8), s(8..12), check)
}

/// Puts a typed number in canonical form (upper case, dashes where they belong, O read as 0
/// and I/L as 1 in the random part) and checks its check symbol. None when it cannot be one.
pub fn normalize_number(kind: NumberKind, input: &str) -> Option<String> {
    let mut chars: Vec<char> =
        input.trim().chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
    if chars.first() != Some(&kind.prefix().chars().next()?) || chars.len() != 14 {
        return None;
    }
    chars.remove(0);
    let check = chars.pop()?;
    let mut values = Vec::with_capacity(12);
    let mut syms = String::new();
    for c in chars {
        let c = match c {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        values.push(ALPHABET.iter().position(|a| *a as char == c)? as u64);
        syms.push(c);
    }
    let check = match check {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    if check_symbol(&values) as char != check {
        return None;
    }
    Some(format!("{}-{}-{}-{}-{}", kind.prefix(), &syms[0..4], &syms[4..8], &syms[8..12], check))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(teaching: f64, lab: f64, field: f64) -> Minutes {
        let mut e = ValidationErrors::default();
        let m = Hours { teaching, lab, field }.to_minutes("hours.", &mut e);
        assert!(e.is_empty(), "{e:?}");
        m
    }

    #[test]
    fn credit_rule_on_each_type_of_hours() {
        assert_eq!(h(15.0, 0.0, 0.0).credits(), 1.0);
        assert_eq!(h(0.0, 30.0, 0.0).credits(), 1.0);
        assert_eq!(h(0.0, 0.0, 45.0).credits(), 1.0);
        assert_eq!(h(450.0, 0.0, 0.0).credits(), 30.0);
    }

    #[test]
    fn credit_rule_on_mixed_hours() {
        // 30 h teaching (2) + 45 h workshop (1.5) + 90 h field (2) = 5.5 credits.
        assert_eq!(h(30.0, 45.0, 90.0).credits(), 5.5);
        // 7.5 h teaching (0.5) + 10 h lab (1/3) + 15 h field (1/3) = 1.1666... → 1.17.
        assert_eq!(h(7.5, 10.0, 15.0).credits(), 1.17);
        // Exactness: 20 h lab + 30 h field = 2/3 + 2/3 = 4/3, and three such = 4 exactly.
        let mut m = Minutes::default();
        for _ in 0..3 {
            m.add(&h(0.0, 20.0, 30.0));
        }
        assert!(reaches_credits(&m, 4));
        assert!(!reaches_credits(&m, 5));
        assert_eq!(m.credits(), 4.0);
    }

    #[test]
    fn negative_and_absurd_hours_are_refused_by_field() {
        let mut e = ValidationErrors::default();
        Hours { teaching: -1.0, lab: f64::NAN, field: 20_000.0 }.to_minutes("hours.", &mut e);
        let codes: Vec<_> = e.errors.iter().map(|x| (x.field.as_str(), x.code.as_str())).collect();
        assert_eq!(
            codes,
            vec![
                ("hours.teaching", "negative_hours"),
                ("hours.lab", "invalid_number"),
                ("hours.field", "too_many_hours")
            ]
        );
    }

    #[test]
    fn an_event_ending_before_it_starts_is_refused() {
        let i = EventInput {
            course_id: 1,
            starts_on: "2026-03-10".into(),
            ends_on: "2026-03-09".into(),
            place_code: "02".into(),
            ..Default::default()
        };
        let e = validate_event(&i).unwrap_err();
        assert_eq!(e.for_field("ends_on").map(|x| x.code.as_str()), Some("ends_before_start"));
        let ok = EventInput { ends_on: "2026-03-10".into(), ..i };
        assert!(validate_event(&ok).is_ok());
    }

    #[test]
    fn attendance_defaults_to_the_event_hours_when_passed() {
        let ev = h(12.0, 6.0, 0.0);
        let a =
            validate_attendance(&AttendanceInput { result: "passed".into(), ..Default::default() }, &ev, 2).unwrap();
        assert_eq!(a.minutes, ev);
        let f =
            validate_attendance(&AttendanceInput { result: "failed".into(), ..Default::default() }, &ev, 2).unwrap();
        assert_eq!(f.minutes, Minutes::default());
        let bad = AttendanceInput {
            result: "absent".into(),
            days_attended: Some(3),
            hours: Some(Hours { teaching: 2.0, ..Default::default() }),
        };
        let e = validate_attendance(&bad, &ev, 2).unwrap_err();
        assert!(e.for_field("days_attended").is_some() && e.for_field("result").is_some(), "{e:?}");
    }

    #[test]
    fn progress_is_computed_and_eligibility_needs_every_credit() {
        let trained = h(420.0, 0.0, 0.0); // 28 credits
        let p = programme_progress(
            1,
            "VC",
            CertificateLevel::VocationalCertificate,
            30,
            &trained,
            &h(0.0, 0.0, 45.0),
            None,
        );
        assert_eq!((p.credits_earned, p.credits_recognized, p.percent, p.eligible), (29.0, 1.0, 96, false));
        let p = programme_progress(
            1,
            "VC",
            CertificateLevel::VocationalCertificate,
            30,
            &trained,
            &h(0.0, 60.0, 0.0),
            None,
        );
        assert_eq!((p.credits_earned, p.percent, p.eligible), (30.0, 100, true));
        let p = programme_progress(
            1,
            "VC",
            CertificateLevel::VocationalCertificate,
            30,
            &trained,
            &h(0.0, 60.0, 0.0),
            Some("C-X".into()),
        );
        assert!(!p.eligible, "a holder is not eligible again");
    }

    #[test]
    fn table11_targets_add_up_to_the_plan_footnotes() {
        let t = table11_targets();
        let sum = |l: CertificateLevel| t.iter().filter(|x| x.level == l).map(|x| x.target).sum::<u32>();
        // Footnotes 67-71 of seed 001: 4,026 vocational, 406 / 471 / 500 TVC, 317 allied trainees.
        assert_eq!(sum(CertificateLevel::VocationalCertificate), 4026);
        assert_eq!(sum(CertificateLevel::Tvc1), 406);
        assert_eq!(sum(CertificateLevel::Tvc2), 471);
        assert_eq!(sum(CertificateLevel::Tvc3), 500);
        assert_eq!(sum(CertificateLevel::AlliedCertificate), 317);
        assert_eq!(group_roles("ccwc"), vec![WorkerRole::CcwcFocalPoint, WorkerRole::CcwcMember]);
    }

    #[test]
    fn licence_life_cycle() {
        use LicenceAction as A;
        use LicenceStatus as S;
        assert_eq!(A::Approve.apply(S::Applied), Ok(S::Active));
        assert_eq!(A::Suspend.apply(S::Active), Ok(S::Suspended));
        assert_eq!(A::Reinstate.apply(S::Suspended), Ok(S::Active));
        assert!(A::Approve.apply(S::Active).is_err());
        assert!(A::Reinstate.apply(S::Revoked).is_err());
        let d = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(effective_status(S::Active, Some(d), d), S::Active);
        assert_eq!(effective_status(S::Active, Some(d), d.succ_opt().unwrap()), S::Lapsed);
        let rules = LicensingRules::default();
        assert_eq!(rules.expiry(d), NaiveDate::from_ymd_opt(2029, 2, 28).unwrap());
        assert!(rules.check_renewal(30 * 60).is_ok());
        let e = rules.check_renewal(29 * 60 + 30).unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.params["have"].as_str(), e.params["need"].as_str()),
            ("insufficient_ce_hours", "29.5", "30")
        );
        let e = validate_decision(&DecisionInput { action: "suspend".into(), reason: None }).unwrap_err();
        assert_eq!(e.errors[0].code, "reason_required");
    }

    #[test]
    fn numbers_round_trip_and_reject_typos() {
        let n = make_number(NumberKind::Certificate, 0x0123_4567_89ab_cdef);
        assert_eq!(n.len(), "C-XXXX-XXXX-XXXX-K".len());
        assert_eq!(normalize_number(NumberKind::Certificate, &n).as_deref(), Some(n.as_str()));
        assert_eq!(
            normalize_number(NumberKind::Certificate, &n.to_lowercase().replace('-', " ")).as_deref(),
            Some(n.as_str())
        );
        assert_eq!(normalize_number(NumberKind::Licence, &n), None, "a certificate number is not a licence number");
        // Changing one symbol breaks the check.
        let mut typo: Vec<char> = n.chars().collect();
        typo[2] = if typo[2] == '7' { '8' } else { '7' };
        let typo: String = typo.into_iter().collect();
        assert_eq!(normalize_number(NumberKind::Certificate, &typo), None, "{typo}");
        // Swapping two adjacent different symbols breaks it too.
        let mut swapped: Vec<char> = n.chars().collect();
        let pos = (2..5).find(|&i| swapped[i] != swapped[i + 1]).unwrap();
        swapped.swap(pos, pos + 1);
        let swapped: String = swapped.into_iter().collect();
        assert_eq!(normalize_number(NumberKind::Certificate, &swapped), None, "{swapped}");
        // Every check symbol is of the alphabet, so numbers are safe in links and easy to type.
        for r in 0..2000u64 {
            let x = make_number(NumberKind::Licence, r.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            assert!(x.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-'), "{x}");
            assert_eq!(normalize_number(NumberKind::Licence, &x).as_deref(), Some(x.as_str()));
        }
        // Consecutive random values give unrelated numbers.
        let a = make_number(NumberKind::Licence, 1 << 40);
        let b = make_number(NumberKind::Licence, (1 << 40) + 1);
        assert_ne!(a, b);
    }
}
