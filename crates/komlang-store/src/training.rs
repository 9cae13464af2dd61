//! Training (institutions, programmes, modules and courses, events, participants, RPL/RCC),
//! transcripts and certificate progress, certificates with public verification, training
//! targets (seed 001 Table 11 by default), and licensing with a public register.
//!
//! Who does what:
//! - Everybody signed in reads the catalogue; a national administrator keeps it, the targets
//!   and the licensing rules ([`Permission::ManageTrainingCatalogue`]).
//! - Training events are seen by every account except `worker` whose geographic scope holds
//!   the event's place; they are run (created, changed, participants, attendance) by national
//!   administrators and by provincial and district officers for places in their scope
//!   ([`Permission::RunTraining`]). Participants are workers of the registry the caller sees;
//!   a participant list only shows the workers the caller sees.
//! - A transcript, its recognitions, certificates and licences follow the worker's record:
//!   whoever sees the worker ([`Store::get_worker`]) sees them; nobody else (404).
//! - RPL/RCC grants are recorded by those who run training, for workers they see.
//! - Certificates are issued and revoked, and licence applications decided, by national
//!   administrators ([`Permission::Certify`]). A licence is applied for by the worker
//!   themself or by an account that may change the worker's record.
//! - Anyone, without signing in, may verify a certificate number and search the public
//!   register of valid licences; both show the holder's name and nothing else about them.
//!
//! Credits and eligibility are computed from hours by the credit rule, never stored.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use komlang_core::training::*;
use komlang_core::*;
use rand::RngCore;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::audit::record_audit;
use crate::competencies::{brief_from_row, date_col, parse_col, WorkerBrief, BRIEF_COLS};
use crate::sql::{like_pattern, Sql};
use crate::workers::{push_area, push_attribute_filters, push_worker_scope, AttributeFilter};
use crate::{now_text, Page, Result, Store, StoreError};

/// Meta keys of the licensing rules.
const RULES_TERM_KEY: &str = "licensing.term_years";
const RULES_CE_KEY: &str = "licensing.renewal_ce_hours";
/// Meta key recording that the default catalogue and Table 11 targets were written.
const DEFAULTS_KEY: &str = "training_defaults_version";

// ---------------------------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Institution {
    pub id: i64,
    pub code: String,
    pub name_en: String,
    pub name_km: String,
    pub kind: InstitutionKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Programme {
    pub id: i64,
    pub code: String,
    pub title_en: String,
    pub title_km: String,
    pub level: CertificateLevel,
    pub institution_id: i64,
    pub institution_code: String,
    pub credits_required: u32,
    /// Modules in the programme.
    pub modules: i64,
    /// Credits the modules plan, by the credit rule.
    pub planned_credits: f64,
}

/// A module of a programme, or a course on its own (`programme_id` none).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Course {
    pub id: i64,
    pub code: String,
    pub title_en: String,
    pub title_km: String,
    pub programme_id: Option<i64>,
    pub programme_code: Option<String>,
    pub hours: Hours,
    pub credits: f64,
    /// Framework competency codes the module covers.
    pub competencies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TrainingEvent {
    pub id: i64,
    pub course_id: i64,
    pub course_code: String,
    pub course_title_en: String,
    pub course_title_km: String,
    pub programme_id: Option<i64>,
    pub programme_code: Option<String>,
    pub institution_id: Option<i64>,
    pub institution_code: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub starts_on: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub ends_on: NaiveDate,
    /// Days from start to end, both included.
    pub days: u32,
    pub place_code: String,
    pub place_name_en: String,
    pub place_name_km: String,
    pub venue: Option<String>,
    pub trainers: Option<String>,
    /// What a full attendance earns.
    pub hours: Hours,
    pub credits: f64,
    /// Participants the caller sees.
    pub participants: i64,
    /// Of those, who passed.
    pub passed: i64,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Participant {
    pub event_id: i64,
    pub worker: WorkerBrief,
    pub days_attended: Option<u32>,
    pub hours: Hours,
    /// By the credit rule; only a passed result earns them.
    pub credits: f64,
    pub result: TrainingResult,
    pub updated_by: String,
    pub updated_at: String,
}

/// Which events a list shows. Empty fields mean "no filter".
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct EventQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Province or district code: events placed there.
    pub place: Option<String>,
    pub programme_id: Option<i64>,
    pub course_id: Option<i64>,
    pub page: i64,
    pub per_page: i64,
}

/// One training of a worker's transcript.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TranscriptEntry {
    pub event_id: i64,
    pub course_code: String,
    pub course_title_en: String,
    pub course_title_km: String,
    pub programme_code: Option<String>,
    pub institution_code: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub starts_on: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub ends_on: NaiveDate,
    pub place_code: String,
    pub result: TrainingResult,
    /// Hours attended by type.
    pub hours: Hours,
    pub total_hours: f64,
    /// Credits this training earned (none unless passed).
    pub credits: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Recognition {
    pub id: i64,
    pub worker_id: i64,
    pub kind: RecognitionKind,
    pub programme_id: i64,
    pub programme_code: String,
    pub hours: Hours,
    pub credits: f64,
    pub evidence: String,
    pub assessor: String,
    #[schema(value_type = String, format = Date)]
    pub assessed_on: NaiveDate,
    pub recorded_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Certificate {
    pub id: i64,
    /// Unique, random: `C-XXXX-XXXX-XXXX-K`.
    pub number: String,
    pub worker_id: i64,
    pub programme_id: i64,
    pub programme_code: String,
    pub programme_title_en: String,
    pub programme_title_km: String,
    pub institution_code: String,
    pub level: CertificateLevel,
    #[schema(value_type = String, format = Date)]
    pub issued_on: NaiveDate,
    pub issued_by: String,
    #[schema(value_type = Option<String>, format = Date)]
    pub revoked_on: Option<NaiveDate>,
    pub revoke_reason: Option<String>,
    /// Not revoked.
    pub valid: bool,
}

/// A worker's whole training record.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Transcript {
    pub worker: WorkerBrief,
    /// Every training event the worker took part in, newest first.
    pub trainings: Vec<TranscriptEntry>,
    /// Hours of passed trainings, by type.
    pub hours: Hours,
    pub total_hours: f64,
    /// Credits of passed trainings and recognitions, by the credit rule.
    pub total_credits: f64,
    pub recognitions: Vec<Recognition>,
    pub certificates: Vec<Certificate>,
    /// Progress toward each programme's certificate.
    pub progress: Vec<ProgrammeProgress>,
}

/// Which certificates the register lists. Empty fields mean "no filter".
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CertificateQuery {
    pub level: Option<CertificateLevel>,
    pub programme_id: Option<i64>,
    /// Issued on or after.
    pub from: Option<NaiveDate>,
    /// Issued on or before.
    pub to: Option<NaiveDate>,
    /// Province or district code of the holder's workplace.
    pub province: Option<String>,
    pub district: Option<String>,
    /// Holder's name or the certificate number.
    pub q: Option<String>,
    /// Only valid (true) or only revoked (false) certificates.
    pub valid: Option<bool>,
    pub page: i64,
    pub per_page: i64,
}

/// A line of the certificate register: the certificate and its holder.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CertificateRow {
    pub certificate: Certificate,
    pub holder: WorkerBrief,
}

pub const CERTIFICATE_EXPORT_COLUMNS: &[&str] = &[
    "certificate_number",
    "level",
    "programme",
    "institution",
    "issued_on",
    "issued_by",
    "valid",
    "revoked_on",
    "revoke_reason",
    "worker_id",
    "name_latin",
    "name_km",
    "workplace_code",
];

/// What the public verification page and API show: the certificate and its holder's name only.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicCertificate {
    pub number: String,
    pub valid: bool,
    pub holder_name_km: String,
    pub holder_name_latin: String,
    pub level: CertificateLevel,
    pub programme_title_en: String,
    pub programme_title_km: String,
    pub institution_code: String,
    #[schema(value_type = String, format = Date)]
    pub issued_on: NaiveDate,
    #[schema(value_type = Option<String>, format = Date)]
    pub revoked_on: Option<NaiveDate>,
}

/// Which workers the progress report counts. Empty fields mean "no filter".
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProgressQuery {
    pub province: Option<String>,
    pub district: Option<String>,
    pub cadre: Option<Cadre>,
    pub role: Option<WorkerRole>,
    pub sector: Option<Sector>,
    pub org_id: Option<i64>,
    pub programme_id: Option<i64>,
}

/// Progress of a group of workers toward one programme's certificate.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupProgress {
    pub programme_id: i64,
    pub programme_code: String,
    pub level: CertificateLevel,
    pub credits_required: u32,
    /// Workers with any credit toward it.
    pub started: i64,
    /// Workers with at least half the credits.
    pub halfway: i64,
    /// Enough credits, no certificate yet.
    pub eligible: i64,
    /// Holding a valid certificate of it.
    pub certified: i64,
}

/// A worker eligible for a certificate.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EligibleWorker {
    pub worker: WorkerBrief,
    pub programme_id: i64,
    pub programme_code: String,
    pub level: CertificateLevel,
    pub credits_earned: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ProgressReport {
    pub programmes: Vec<GroupProgress>,
    /// Workers eligible for a certificate (at most [`ELIGIBLE_LIMIT`]).
    pub eligible: Vec<EligibleWorker>,
    pub eligible_total: i64,
}

/// Most eligible workers a progress report lists.
pub const ELIGIBLE_LIMIT: usize = 500;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TrainingTarget {
    pub id: i64,
    pub group_code: String,
    pub group_en: String,
    pub level: CertificateLevel,
    pub year: i32,
    pub target: i64,
    /// Roles whose workers count toward the group.
    pub roles: Vec<WorkerRole>,
    /// Workers of those roles in the caller's scope holding a valid certificate of the level
    /// issued by the end of the year; none when the registry does not tell the group apart.
    pub completed: Option<i64>,
    pub percent: Option<u32>,
}

/// A target as submitted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct TargetInput {
    pub group_code: String,
    pub group_en: String,
    pub level: String,
    pub year: i32,
    pub target: i64,
    /// Role codes whose workers count toward the group.
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LicenceActionRow {
    pub action: String,
    #[schema(value_type = String, format = Date)]
    pub on_date: NaiveDate,
    pub by_user: String,
    pub reason: Option<String>,
    /// For a renewal: the continuing-education hours counted.
    pub ce_hours: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Licence {
    pub id: i64,
    pub worker: WorkerBrief,
    /// Set when approved: `L-XXXX-XXXX-XXXX-K`.
    pub number: Option<String>,
    /// As stored.
    pub status: LicenceStatus,
    /// On today: an active licence past its expiry has lapsed.
    pub effective_status: LicenceStatus,
    #[schema(value_type = String, format = Date)]
    pub applied_on: NaiveDate,
    pub application_note: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub decided_on: Option<NaiveDate>,
    pub decided_by: Option<String>,
    /// Reason of the last rejection, suspension, lapse or revocation.
    pub reason: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub issued_on: Option<NaiveDate>,
    /// Start of the current term (continuing-education hours count from here).
    #[schema(value_type = Option<String>, format = Date)]
    pub term_start: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub expires_on: Option<NaiveDate>,
    pub renewals: i64,
    /// Days from today to the expiry (negative once past).
    pub days_to_expiry: Option<i64>,
}

/// A licence with its history and continuing-education standing.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LicenceDetail {
    pub licence: Licence,
    pub actions: Vec<LicenceActionRow>,
    /// Continuing-education hours (passed training) since the term started.
    pub ce_hours_in_term: f64,
    /// Hours the rules require to renew.
    pub ce_hours_required: u32,
}

/// Which licences a list shows. Empty fields mean "no filter".
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LicenceQuery {
    /// Effective status.
    pub status: Option<LicenceStatus>,
    /// Active licences expiring within this many days from today.
    pub expiring_within_days: Option<i64>,
    /// Name or licence number.
    pub q: Option<String>,
    pub province: Option<String>,
    pub district: Option<String>,
    pub page: i64,
    pub per_page: i64,
}

/// A valid licence as the public register shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicLicence {
    pub number: String,
    pub name_km: String,
    pub name_latin: String,
    #[schema(value_type = String, format = Date)]
    pub expires_on: NaiveDate,
}

/// Most rows the public register answers.
pub const REGISTER_LIMIT: i64 = 50;

// ---------------------------------------------------------------------------------------------
// Row readers
// ---------------------------------------------------------------------------------------------

fn minutes(r: &AnyRow, prefix: &str) -> Result<Minutes> {
    Ok(Minutes {
        teaching: r.try_get(format!("{prefix}teaching_minutes").as_str())?,
        lab: r.try_get(format!("{prefix}lab_minutes").as_str())?,
        field: r.try_get(format!("{prefix}field_minutes").as_str())?,
    })
}

fn opt_date(r: &AnyRow, col: &str) -> Result<Option<NaiveDate>> {
    let s: Option<String> = r.try_get(col)?;
    s.map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("{col} = {s}"))))
        .transpose()
}

fn invalid(field: &str, code: &str) -> StoreError {
    StoreError::Invalid(ValidationErrors::single(FieldError::new(field, code)))
}

/// Appends "the holder's name (Khmer or Latin) contains `text`, or `number_col` is the number
/// `text` spells" (over `workers w`).
fn push_name_or_number(sql: &mut Sql, text: &str, kind: NumberKind, number_col: &str) {
    let pat = like_pattern(text);
    sql.push(" AND (LOWER(w.name_latin) LIKE ").text(pat.clone()).push(" ESCAPE '\\'");
    sql.push(" OR LOWER(w.name_km) LIKE ").text(pat).push(" ESCAPE '\\'");
    let n = normalize_number(kind, text).unwrap_or_else(|| text.to_uppercase());
    sql.push(" OR ").push(number_col).push(" = ").text(n).push(")");
}

fn duplicate_code(code: &str) -> StoreError {
    StoreError::Invalid(ValidationErrors::single(FieldError::new("code", "duplicate_code").with("value", code)))
}

/// Whether a row of `table` other than `except` has this code.
async fn code_taken(conn: &mut AnyConnection, table: &str, code: &str, except: Option<i64>) -> Result<bool> {
    let row = sqlx::query(&format!("SELECT 1 FROM {table} WHERE code = $1 AND id <> $2"))
        .bind(code)
        .bind(except.unwrap_or(0))
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

async fn exists(conn: &mut AnyConnection, table: &str, id: i64) -> Result<bool> {
    let row = sqlx::query(&format!("SELECT 1 FROM {table} WHERE id = $1")).bind(id).fetch_optional(&mut *conn).await?;
    Ok(row.is_some())
}

fn random_number(kind: NumberKind) -> String {
    make_number(kind, rand::rngs::OsRng.next_u64())
}

const INSTITUTION_COLS: &str = "id, code, name_en, name_km, kind";

fn institution_from_row(r: &AnyRow) -> Result<Institution> {
    Ok(Institution {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name_en: r.try_get("name_en")?,
        name_km: r.try_get("name_km")?,
        kind: parse_col(r, "kind", InstitutionKind::parse)?,
    })
}

const PROGRAMME_SELECT: &str = "SELECT p.id, p.code, p.title_en, p.title_km, p.level, p.institution_id, \
     i.code AS institution_code, p.credits_required, \
     (SELECT COUNT(*) FROM training_courses c WHERE c.programme_id = p.id) AS modules, \
     (SELECT CAST(COALESCE(SUM(c.teaching_minutes), 0) AS BIGINT) FROM training_courses c WHERE c.programme_id = p.id) AS teaching_minutes, \
     (SELECT CAST(COALESCE(SUM(c.lab_minutes), 0) AS BIGINT) FROM training_courses c WHERE c.programme_id = p.id) AS lab_minutes, \
     (SELECT CAST(COALESCE(SUM(c.field_minutes), 0) AS BIGINT) FROM training_courses c WHERE c.programme_id = p.id) AS field_minutes \
     FROM training_programmes p JOIN training_institutions i ON i.id = p.institution_id";

fn programme_from_row(r: &AnyRow) -> Result<Programme> {
    let credits: i64 = r.try_get("credits_required")?;
    Ok(Programme {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        title_en: r.try_get("title_en")?,
        title_km: r.try_get("title_km")?,
        level: parse_col(r, "level", CertificateLevel::parse)?,
        institution_id: r.try_get("institution_id")?,
        institution_code: r.try_get("institution_code")?,
        credits_required: credits.max(0) as u32,
        modules: r.try_get("modules")?,
        planned_credits: minutes(r, "")?.credits(),
    })
}

const COURSE_SELECT: &str = "SELECT c.id, c.code, c.title_en, c.title_km, c.programme_id, p.code AS programme_code, \
     c.teaching_minutes, c.lab_minutes, c.field_minutes, c.competencies \
     FROM training_courses c LEFT JOIN training_programmes p ON p.id = c.programme_id";

fn course_from_row(r: &AnyRow) -> Result<Course> {
    let m = minutes(r, "")?;
    let comps: String = r.try_get("competencies")?;
    Ok(Course {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        title_en: r.try_get("title_en")?,
        title_km: r.try_get("title_km")?,
        programme_id: r.try_get("programme_id")?,
        programme_code: r.try_get("programme_code")?,
        hours: m.hours(),
        credits: m.credits(),
        competencies: comps.split_whitespace().map(str::to_string).collect(),
    })
}

/// Events (`e`) with their course, programme, institution and place (`u`, for scope filters).
const EVENT_FROM: &str = "FROM training_events e JOIN training_courses c ON c.id = e.course_id \
     LEFT JOIN training_programmes p ON p.id = c.programme_id \
     LEFT JOIN training_institutions i ON i.id = e.institution_id \
     JOIN admin_units u ON u.code = e.place_code";

const EVENT_COLS: &str = "e.id, e.course_id, c.code AS course_code, c.title_en AS course_title_en, \
     c.title_km AS course_title_km, c.programme_id, p.code AS programme_code, e.institution_id, \
     i.code AS institution_code, e.starts_on, e.ends_on, e.place_code, u.name_en AS place_name_en, \
     u.name_km AS place_name_km, e.venue, e.trainers, e.teaching_minutes, e.lab_minutes, e.field_minutes, \
     e.created_by, e.created_at, e.updated_at";

fn event_from_row(r: &AnyRow, participants: i64, passed: i64) -> Result<TrainingEvent> {
    let m = minutes(r, "")?;
    let starts_on = date_col(r, "starts_on")?;
    let ends_on = date_col(r, "ends_on")?;
    Ok(TrainingEvent {
        id: r.try_get("id")?,
        course_id: r.try_get("course_id")?,
        course_code: r.try_get("course_code")?,
        course_title_en: r.try_get("course_title_en")?,
        course_title_km: r.try_get("course_title_km")?,
        programme_id: r.try_get("programme_id")?,
        programme_code: r.try_get("programme_code")?,
        institution_id: r.try_get("institution_id")?,
        institution_code: r.try_get("institution_code")?,
        starts_on,
        ends_on,
        days: ((ends_on - starts_on).num_days() + 1).max(1) as u32,
        place_code: r.try_get("place_code")?,
        place_name_en: r.try_get("place_name_en")?,
        place_name_km: r.try_get("place_name_km")?,
        venue: r.try_get("venue")?,
        trainers: r.try_get("trainers")?,
        hours: m.hours(),
        credits: m.credits(),
        participants,
        passed,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const CERT_SELECT: &str = "SELECT ce.id, ce.number, ce.worker_id, ce.programme_id, p.code AS programme_code, \
     p.title_en AS programme_title_en, p.title_km AS programme_title_km, i.code AS institution_code, ce.level, \
     ce.issued_on, ce.issued_by, ce.revoked_on, ce.revoke_reason \
     FROM certificates ce JOIN training_programmes p ON p.id = ce.programme_id \
     JOIN training_institutions i ON i.id = p.institution_id";

fn certificate_from_row(r: &AnyRow) -> Result<Certificate> {
    let revoked_on = opt_date(r, "revoked_on")?;
    Ok(Certificate {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        worker_id: r.try_get("worker_id")?,
        programme_id: r.try_get("programme_id")?,
        programme_code: r.try_get("programme_code")?,
        programme_title_en: r.try_get("programme_title_en")?,
        programme_title_km: r.try_get("programme_title_km")?,
        institution_code: r.try_get("institution_code")?,
        level: parse_col(r, "level", CertificateLevel::parse)?,
        issued_on: date_col(r, "issued_on")?,
        issued_by: r.try_get("issued_by")?,
        revoked_on,
        revoke_reason: r.try_get("revoke_reason")?,
        valid: revoked_on.is_none(),
    })
}

const LICENCE_COLS: &str = "l.id AS licence_id, l.number, l.status, l.applied_on, l.application_note, l.decided_on, \
     l.decided_by, l.reason, l.issued_on, l.term_start, l.expires_on, l.renewals";

fn licence_from_row(r: &AnyRow, today: NaiveDate) -> Result<Licence> {
    let status = parse_col(r, "status", LicenceStatus::parse)?;
    let expires_on = opt_date(r, "expires_on")?;
    Ok(Licence {
        id: r.try_get("licence_id")?,
        worker: brief_from_row(r)?,
        number: r.try_get("number")?,
        status,
        effective_status: effective_status(status, expires_on, today),
        applied_on: date_col(r, "applied_on")?,
        application_note: r.try_get("application_note")?,
        decided_on: opt_date(r, "decided_on")?,
        decided_by: r.try_get("decided_by")?,
        reason: r.try_get("reason")?,
        issued_on: opt_date(r, "issued_on")?,
        term_start: opt_date(r, "term_start")?,
        expires_on,
        renewals: r.try_get("renewals")?,
        days_to_expiry: expires_on.map(|d| (d - today).num_days()),
    })
}

/// Inserts a row of `licence_actions`.
async fn licence_action(
    conn: &mut AnyConnection,
    licence_id: i64,
    action: &str,
    on: NaiveDate,
    by: &str,
    reason: Option<&str>,
    ce_minutes: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO licence_actions (licence_id, action, on_date, by_user, reason, ce_minutes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(licence_id)
    .bind(action)
    .bind(on.to_string())
    .bind(by)
    .bind(reason)
    .bind(ce_minutes)
    .bind(now_text())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Columns of the exports, in order.
pub const TRANSCRIPT_EXPORT_COLUMNS: &[&str] = &[
    "worker_id",
    "name_latin",
    "name_km",
    "kind",
    "code",
    "title_en",
    "programme",
    "starts_on",
    "ends_on",
    "result",
    "teaching_hours",
    "lab_hours",
    "field_hours",
    "credits",
    "certificate_number",
];
pub const EVENT_EXPORT_COLUMNS: &[&str] = &[
    "event_id",
    "course_code",
    "course_title_en",
    "programme",
    "institution",
    "starts_on",
    "ends_on",
    "place_code",
    "place_name_en",
    "venue",
    "trainers",
    "worker_id",
    "name_latin",
    "name_km",
    "days_attended",
    "teaching_hours",
    "lab_hours",
    "field_hours",
    "credits",
    "result",
];
pub const LICENCE_EXPORT_COLUMNS: &[&str] = &[
    "licence_number",
    "worker_id",
    "name_latin",
    "name_km",
    "workplace_code",
    "status",
    "applied_on",
    "issued_on",
    "term_start",
    "expires_on",
    "days_to_expiry",
    "renewals",
    "reason",
];

fn h(v: f64) -> String {
    format!("{v}")
}

impl Store {
    // -----------------------------------------------------------------------------------------
    // Reference data
    // -----------------------------------------------------------------------------------------

    /// Writes the default institutions, certificate programmes and the Table 11 targets once
    /// (called by [`Store::migrate`]); later changes by users are kept.
    pub(crate) async fn ensure_training_defaults(&self) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let claimed = crate::demo::meta_insert_new(&mut tx, DEFAULTS_KEY, "1").await?;
        if !claimed {
            return Ok(());
        }
        let now = now_text();
        let mut inst_ids = HashMap::new();
        for i in default_institutions() {
            let row = sqlx::query(
                "INSERT INTO training_institutions (code, name_en, name_km, kind, created_at) VALUES ($1, $2, $3, $4, $5) \
                 RETURNING id",
            )
            .bind(i.code)
            .bind(i.name_en)
            .bind(i.name_km)
            .bind(i.kind.code())
            .bind(&now)
            .fetch_one(&mut *tx)
            .await?;
            inst_ids.insert(i.code, row.try_get::<i64, _>(0)?);
        }
        for p in default_programmes() {
            let inst = *inst_ids.get(p.institution).ok_or_else(|| StoreError::Corrupt(p.institution.into()))?;
            sqlx::query(
                "INSERT INTO training_programmes (code, title_en, title_km, level, institution_id, credits_required, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(p.code)
            .bind(p.title_en)
            .bind(p.title_km)
            .bind(p.level.code())
            .bind(inst)
            .bind(p.level.default_credits() as i64)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for t in table11_targets() {
            let roles: Vec<&str> = t.roles.iter().map(|r| r.code()).collect();
            sqlx::query(
                "INSERT INTO training_targets (group_code, group_en, level, year, target, roles) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(t.group_code)
            .bind(t.group_en)
            .bind(t.level.code())
            .bind(t.year as i64)
            .bind(t.target as i64)
            .bind(roles.join(" "))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Catalogue
    // -----------------------------------------------------------------------------------------

    pub async fn institutions(&self) -> Result<Vec<Institution>> {
        let rows = sqlx::query(&format!("SELECT {INSTITUTION_COLS} FROM training_institutions ORDER BY code"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(institution_from_row).collect()
    }

    pub async fn institution(&self, id: i64) -> Result<Option<Institution>> {
        let row = sqlx::query(&format!("SELECT {INSTITUTION_COLS} FROM training_institutions WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(institution_from_row).transpose()
    }

    pub async fn create_institution(&self, p: &Principal, input: &InstitutionInput) -> Result<Institution> {
        self.save_institution(p, None, input).await
    }

    pub async fn update_institution(&self, p: &Principal, id: i64, input: &InstitutionInput) -> Result<Institution> {
        self.save_institution(p, Some(id), input).await
    }

    async fn save_institution(&self, p: &Principal, id: Option<i64>, input: &InstitutionInput) -> Result<Institution> {
        if !p.can(Permission::ManageTrainingCatalogue) {
            return Err(StoreError::Forbidden);
        }
        let before = match id {
            Some(id) => {
                let x = self.institution(id).await?.ok_or(StoreError::NotFound)?;
                Some(InstitutionDraft { code: x.code, name_en: x.name_en, name_km: x.name_km, kind: x.kind })
            }
            None => None,
        };
        let d = validate_institution(input)?;
        let mut tx = self.pool.begin().await?;
        if code_taken(&mut tx, "training_institutions", &d.code, id).await? {
            return Err(duplicate_code(&d.code));
        }
        let id = match id {
            None => {
                let row = sqlx::query(
                    "INSERT INTO training_institutions (code, name_en, name_km, kind, created_at) \
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&d.code)
                .bind(&d.name_en)
                .bind(&d.name_km)
                .bind(d.kind.code())
                .bind(now_text())
                .fetch_one(&mut *tx)
                .await?;
                row.try_get(0)?
            }
            Some(id) => {
                sqlx::query(
                    "UPDATE training_institutions SET code = $1, name_en = $2, name_km = $3, kind = $4 WHERE id = $5",
                )
                .bind(&d.code)
                .bind(&d.name_en)
                .bind(&d.name_km)
                .bind(d.kind.code())
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let action = if before.is_some() { "update" } else { "create" };
        record_audit(&mut tx, p, action, "training_institution", &id.to_string(), before.as_ref(), Some(&d)).await?;
        tx.commit().await?;
        Ok(Institution { id, code: d.code, name_en: d.name_en, name_km: d.name_km, kind: d.kind })
    }

    pub async fn programmes(&self) -> Result<Vec<Programme>> {
        let rows = sqlx::query(&format!("{PROGRAMME_SELECT} ORDER BY p.id")).fetch_all(&self.pool).await?;
        rows.iter().map(programme_from_row).collect()
    }

    pub async fn programme(&self, id: i64) -> Result<Option<Programme>> {
        let row =
            sqlx::query(&format!("{PROGRAMME_SELECT} WHERE p.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(programme_from_row).transpose()
    }

    pub async fn create_programme(&self, p: &Principal, input: &ProgrammeInput) -> Result<Programme> {
        self.save_programme(p, None, input).await
    }

    /// Changes a programme; a change of its required credits changes who is eligible (computed).
    pub async fn update_programme(&self, p: &Principal, id: i64, input: &ProgrammeInput) -> Result<Programme> {
        self.save_programme(p, Some(id), input).await
    }

    async fn save_programme(&self, p: &Principal, id: Option<i64>, input: &ProgrammeInput) -> Result<Programme> {
        if !p.can(Permission::ManageTrainingCatalogue) {
            return Err(StoreError::Forbidden);
        }
        let before = match id {
            Some(id) => {
                let x = self.programme(id).await?.ok_or(StoreError::NotFound)?;
                Some(ProgrammeDraft {
                    code: x.code,
                    title_en: x.title_en,
                    title_km: x.title_km,
                    level: x.level,
                    institution_id: x.institution_id,
                    credits_required: x.credits_required,
                })
            }
            None => None,
        };
        let d = validate_programme(input)?;
        let mut tx = self.pool.begin().await?;
        let mut errs = ValidationErrors::default();
        if code_taken(&mut tx, "training_programmes", &d.code, id).await? {
            errs.push(FieldError::new("code", "duplicate_code").with("value", &d.code));
        }
        if !exists(&mut tx, "training_institutions", d.institution_id).await? {
            errs.push(FieldError::new("institution_id", "unknown_institution").with("value", d.institution_id));
        }
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let id = match id {
            None => {
                let row = sqlx::query(
                    "INSERT INTO training_programmes (code, title_en, title_km, level, institution_id, credits_required, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(&d.code)
                .bind(&d.title_en)
                .bind(&d.title_km)
                .bind(d.level.code())
                .bind(d.institution_id)
                .bind(d.credits_required as i64)
                .bind(now_text())
                .fetch_one(&mut *tx)
                .await?;
                row.try_get(0)?
            }
            Some(id) => {
                sqlx::query(
                    "UPDATE training_programmes SET code = $1, title_en = $2, title_km = $3, level = $4, \
                     institution_id = $5, credits_required = $6 WHERE id = $7",
                )
                .bind(&d.code)
                .bind(&d.title_en)
                .bind(&d.title_km)
                .bind(d.level.code())
                .bind(d.institution_id)
                .bind(d.credits_required as i64)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let action = if before.is_some() { "update" } else { "create" };
        record_audit(&mut tx, p, action, "training_programme", &id.to_string(), before.as_ref(), Some(&d)).await?;
        tx.commit().await?;
        self.programme(id).await?.ok_or(StoreError::NotFound)
    }

    /// Modules and courses: of one programme (`Some(Some(id))`), on their own (`Some(None)`), or all.
    pub async fn courses(&self, programme: Option<Option<i64>>) -> Result<Vec<Course>> {
        let mut sql = Sql::for_engine(&format!("{COURSE_SELECT} WHERE 1 = 1"), self.engine);
        match programme {
            Some(Some(id)) => {
                sql.push(" AND c.programme_id = ").int(id);
            }
            Some(None) => {
                sql.push(" AND c.programme_id IS NULL");
            }
            None => {}
        }
        sql.push(" ORDER BY c.programme_id, c.code");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(course_from_row).collect()
    }

    pub async fn course(&self, id: i64) -> Result<Option<Course>> {
        let row = sqlx::query(&format!("{COURSE_SELECT} WHERE c.id = $1")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(course_from_row).transpose()
    }

    /// Adds a module to a programme, or a course on its own. Competency codes must be of the
    /// current framework.
    pub async fn create_course(&self, p: &Principal, input: &CourseInput) -> Result<Course> {
        self.save_course(p, None, input).await
    }

    /// Changes a module or course. Events already held keep the hours they were given, and
    /// participants the hours recorded for them.
    pub async fn update_course(&self, p: &Principal, id: i64, input: &CourseInput) -> Result<Course> {
        self.save_course(p, Some(id), input).await
    }

    async fn save_course(&self, p: &Principal, id: Option<i64>, input: &CourseInput) -> Result<Course> {
        if !p.can(Permission::ManageTrainingCatalogue) {
            return Err(StoreError::Forbidden);
        }
        let before = match id {
            Some(id) => {
                let x = self.course(id).await?.ok_or(StoreError::NotFound)?;
                Some(CourseDraft {
                    code: x.code,
                    title_en: x.title_en,
                    title_km: x.title_km,
                    programme_id: x.programme_id,
                    minutes: x.hours.to_minutes("", &mut ValidationErrors::default()),
                    competencies: x.competencies,
                })
            }
            None => None,
        };
        let fw = self.current_framework().await?;
        let known: std::collections::HashSet<String> =
            fw.areas.iter().flat_map(|a| a.competencies.iter().map(|c| c.code.clone())).collect();
        let d = validate_course(input, |c| known.contains(c))?;
        let mut tx = self.pool.begin().await?;
        let mut errs = ValidationErrors::default();
        if code_taken(&mut tx, "training_courses", &d.code, id).await? {
            errs.push(FieldError::new("code", "duplicate_code").with("value", &d.code));
        }
        if let Some(pid) = d.programme_id {
            if !exists(&mut tx, "training_programmes", pid).await? {
                errs.push(FieldError::new("programme_id", "unknown_programme").with("value", pid));
            }
        }
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let id = match id {
            None => insert_course(&mut tx, &d).await?,
            Some(id) => {
                sqlx::query(
                    "UPDATE training_courses SET code = $1, title_en = $2, title_km = $3, programme_id = $4, \
                     teaching_minutes = $5, lab_minutes = $6, field_minutes = $7, competencies = $8 WHERE id = $9",
                )
                .bind(&d.code)
                .bind(&d.title_en)
                .bind(&d.title_km)
                .bind(d.programme_id)
                .bind(d.minutes.teaching)
                .bind(d.minutes.lab)
                .bind(d.minutes.field)
                .bind(d.competencies.join(" "))
                .bind(id)
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        let action = if before.is_some() { "update" } else { "create" };
        record_audit(&mut tx, p, action, "training_course", &id.to_string(), before.as_ref(), Some(&d)).await?;
        tx.commit().await?;
        self.course(id).await?.ok_or(StoreError::NotFound)
    }

    // -----------------------------------------------------------------------------------------
    // Events
    // -----------------------------------------------------------------------------------------

    pub async fn training_events(&self, p: &Principal, q: &EventQuery) -> Result<Page<TrainingEvent>> {
        let per_page = q.per_page.clamp(1, 500);
        let page = q.page.max(1);
        if !p.sees_training_events() {
            return Err(StoreError::Forbidden);
        }
        let mut f = Sql::for_engine(" WHERE 1 = 1", self.engine);
        push_area(&mut f, &p.scope);
        if let Some(d) = q.from {
            f.push(" AND e.ends_on >= ").text(d.to_string());
        }
        if let Some(d) = q.to {
            f.push(" AND e.starts_on <= ").text(d.to_string());
        }
        if let Some(place) = q.place.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            f.push(" AND (u.province_code = ").text(place).push(" OR u.district_code = ").text(place);
            f.push(" OR u.code = ").text(place).push(")");
        }
        if let Some(id) = q.programme_id {
            f.push(" AND c.programme_id = ").int(id);
        }
        if let Some(id) = q.course_id {
            f.push(" AND e.course_id = ").int(id);
        }
        let mut count = Sql::for_engine(&format!("SELECT COUNT(*) {EVENT_FROM}"), self.engine);
        count.append(&f);
        let total: i64 = count.query().fetch_one(&self.pool).await?.try_get(0)?;
        let mut sql = Sql::for_engine(&format!("SELECT {EVENT_COLS} {EVENT_FROM}"), self.engine);
        sql.append(&f);
        sql.push(" ORDER BY e.starts_on DESC, e.id DESC LIMIT ")
            .int(per_page)
            .push(" OFFSET ")
            .int((page - 1) * per_page);
        let rows = sql.query().fetch_all(&self.pool).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.try_get("id")).collect::<std::result::Result<_, _>>()?;
        let counts = self.participant_counts(p, &ids).await?;
        let items = rows
            .iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let (n, passed) = counts.get(&id).copied().unwrap_or((0, 0));
                event_from_row(r, n, passed)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, page, per_page })
    }

    /// Participants and passes per event, counting only the workers the caller sees.
    async fn participant_counts(&self, p: &Principal, ids: &[i64]) -> Result<HashMap<i64, (i64, i64)>> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let mut sql = Sql::for_engine(
            "SELECT tp.event_id, COUNT(*) AS n, CAST(SUM(CASE WHEN tp.result = 'passed' THEN 1 ELSE 0 END) AS BIGINT) AS passed \
             FROM training_participants tp JOIN workers w ON w.id = tp.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code WHERE tp.event_id IN (",
            self.engine,
        );
        for (k, id) in ids.iter().enumerate() {
            if k > 0 {
                sql.push(", ");
            }
            sql.int(*id);
        }
        sql.push(")");
        push_worker_scope(&mut sql, &p.worker_scope());
        sql.push(" GROUP BY tp.event_id");
        for r in sql.query().fetch_all(&self.pool).await? {
            let passed: Option<i64> = r.try_get("passed")?;
            out.insert(r.try_get::<i64, _>("event_id")?, (r.try_get("n")?, passed.unwrap_or(0)));
        }
        Ok(out)
    }

    /// The event if it is placed in the caller's scope; Forbidden for accounts that see no
    /// events ([`Principal::sees_training_events`]).
    pub async fn training_event(&self, p: &Principal, id: i64) -> Result<Option<TrainingEvent>> {
        if !p.sees_training_events() {
            return Err(StoreError::Forbidden);
        }
        let mut sql = Sql::for_engine(&format!("SELECT {EVENT_COLS} {EVENT_FROM} WHERE e.id = "), self.engine);
        sql.int(id);
        push_area(&mut sql, &p.scope);
        let Some(row) = sql.query().fetch_optional(&self.pool).await? else {
            return Ok(None);
        };
        let counts = self.participant_counts(p, &[id]).await?;
        let (n, passed) = counts.get(&id).copied().unwrap_or((0, 0));
        Ok(Some(event_from_row(&row, n, passed)?))
    }

    /// Whether the caller may run events placed at `place_code`.
    pub async fn may_run_training_at(&self, p: &Principal, place_code: &str) -> Result<bool> {
        if !p.can(Permission::RunTraining) {
            return Ok(false);
        }
        let mut sql = Sql::for_engine("SELECT 1 FROM admin_units u WHERE u.code = ", self.engine);
        sql.text(place_code);
        push_area(&mut sql, &p.scope);
        Ok(sql.query().fetch_optional(&self.pool).await?.is_some())
    }

    async fn check_event(&self, p: &Principal, input: &EventInput) -> Result<(EventDraft, Minutes)> {
        let d = validate_event(input)?;
        let mut errs = ValidationErrors::default();
        let course = self.course(d.course_id).await?;
        if course.is_none() {
            errs.push(FieldError::new("course_id", "unknown_course").with("value", d.course_id));
        }
        if let Some(i) = d.institution_id {
            if sqlx::query("SELECT 1 FROM training_institutions WHERE id = $1")
                .bind(i)
                .fetch_optional(&self.pool)
                .await?
                .is_none()
            {
                errs.push(FieldError::new("institution_id", "unknown_institution").with("value", i));
            }
        }
        if sqlx::query("SELECT 1 FROM admin_units WHERE code = $1")
            .bind(&d.place_code)
            .fetch_optional(&self.pool)
            .await?
            .is_none()
        {
            errs.push(FieldError::new("place_code", "unknown_admin_unit").with("value", &d.place_code));
        } else if !self.may_run_training_at(p, &d.place_code).await? {
            errs.push(FieldError::new("place_code", "outside_scope").with("value", &d.place_code));
        }
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let minutes = match (d.minutes, course) {
            (Some(m), _) => m,
            (None, Some(c)) => c.hours.to_minutes("hours.", &mut ValidationErrors::default()),
            (None, None) => Minutes::default(),
        };
        Ok((d, minutes))
    }

    pub async fn create_training_event(&self, p: &Principal, input: &EventInput) -> Result<TrainingEvent> {
        if !p.can(Permission::RunTraining) {
            return Err(StoreError::Forbidden);
        }
        let (d, m) = self.check_event(p, input).await?;
        let now = now_text();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO training_events (course_id, institution_id, starts_on, ends_on, place_code, venue, trainers, \
             teaching_minutes, lab_minutes, field_minutes, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(d.course_id)
        .bind(d.institution_id)
        .bind(d.starts_on.to_string())
        .bind(d.ends_on.to_string())
        .bind(&d.place_code)
        .bind(&d.venue)
        .bind(&d.trainers)
        .bind(m.teaching)
        .bind(m.lab)
        .bind(m.field)
        .bind(&p.username)
        .bind(&now)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        let after = EventDraft { minutes: Some(m), ..d };
        record_audit(&mut tx, p, "create", "training_event", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.training_event(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// The event if the caller may run it; NotFound when they do not see it, Forbidden when
    /// they see it but may not run it (or see no events at all).
    pub async fn runnable_event(&self, p: &Principal, id: i64) -> Result<TrainingEvent> {
        let ev = self.training_event(p, id).await?.ok_or(StoreError::NotFound)?;
        if !self.may_run_training_at(p, &ev.place_code).await? {
            return Err(StoreError::Forbidden);
        }
        Ok(ev)
    }

    pub async fn update_training_event(&self, p: &Principal, id: i64, input: &EventInput) -> Result<TrainingEvent> {
        let before = self.runnable_event(p, id).await?;
        let (d, m) = self.check_event(p, input).await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE training_events SET course_id = $1, institution_id = $2, starts_on = $3, ends_on = $4, \
             place_code = $5, venue = $6, trainers = $7, teaching_minutes = $8, lab_minutes = $9, field_minutes = $10, \
             updated_at = $11 WHERE id = $12",
        )
        .bind(d.course_id)
        .bind(d.institution_id)
        .bind(d.starts_on.to_string())
        .bind(d.ends_on.to_string())
        .bind(&d.place_code)
        .bind(&d.venue)
        .bind(&d.trainers)
        .bind(m.teaching)
        .bind(m.lab)
        .bind(m.field)
        .bind(now_text())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let after = EventDraft { minutes: Some(m), ..d };
        let before = EventDraft {
            course_id: before.course_id,
            institution_id: before.institution_id,
            starts_on: before.starts_on,
            ends_on: before.ends_on,
            place_code: before.place_code,
            venue: before.venue,
            trainers: before.trainers,
            minutes: Some(before.hours.to_minutes("", &mut ValidationErrors::default())),
        };
        record_audit(&mut tx, p, "update", "training_event", &id.to_string(), Some(&before), Some(&after)).await?;
        tx.commit().await?;
        self.training_event(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// The event's participants the caller sees, by name.
    pub async fn event_participants(&self, p: &Principal, event_id: i64) -> Result<Vec<Participant>> {
        self.training_event(p, event_id).await?.ok_or(StoreError::NotFound)?;
        self.participants_of(p, event_id).await
    }

    /// The participants of an event the caller is known to see, among the workers they see.
    async fn participants_of(&self, p: &Principal, event_id: i64) -> Result<Vec<Participant>> {
        let mut sql = Sql::for_engine(
            &format!(
                "SELECT {BRIEF_COLS}, tp.event_id, tp.days_attended, tp.teaching_minutes, tp.lab_minutes, \
                 tp.field_minutes, tp.result, tp.updated_by, tp.updated_at FROM training_participants tp \
                 JOIN workers w ON w.id = tp.worker_id JOIN admin_units u ON u.code = w.workplace_code \
                 WHERE tp.event_id = "
            ),
            self.engine,
        );
        sql.int(event_id);
        push_worker_scope(&mut sql, &p.worker_scope());
        sql.push(" ORDER BY w.name_latin, w.id");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(participant_from_row).collect()
    }

    /// Adds workers of the registry to an event (result `pending`). A worker the caller does
    /// not see is refused as not in the registry; one already there is left as is.
    pub async fn add_participants(&self, p: &Principal, event_id: i64, worker_ids: &[i64]) -> Result<usize> {
        self.runnable_event(p, event_id).await?;
        let mut errs = ValidationErrors::default();
        if worker_ids.is_empty() {
            errs.push(FieldError::new("worker_ids", "required"));
        }
        for id in worker_ids {
            if self.get_worker(p, *id).await?.is_none() {
                errs.push(FieldError::new("worker_ids", "not_in_registry").with("value", id));
            }
        }
        if !errs.is_empty() {
            return Err(errs.into());
        }
        let now = now_text();
        let mut tx = self.pool.begin().await?;
        let mut added = 0;
        for id in worker_ids {
            let r = sqlx::query(
                "INSERT INTO training_participants (event_id, worker_id, days_attended, teaching_minutes, lab_minutes, \
                 field_minutes, result, updated_by, updated_at) VALUES ($1, $2, NULL, 0, 0, 0, 'pending', $3, $4) \
                 ON CONFLICT (event_id, worker_id) DO NOTHING",
            )
            .bind(event_id)
            .bind(id)
            .bind(&p.username)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            if r.rows_affected() == 1 {
                added += 1;
                let after = serde_json::json!({"event_id": event_id, "worker_id": id, "result": "pending"});
                record_audit(
                    &mut tx,
                    p,
                    "create",
                    "training_participant",
                    &format!("{event_id}/{id}"),
                    None,
                    Some(&after),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(added)
    }

    /// Records a participant's attendance, hours and result.
    pub async fn record_attendance(
        &self,
        p: &Principal,
        event_id: i64,
        worker_id: i64,
        input: &AttendanceInput,
    ) -> Result<Participant> {
        let ev = self.runnable_event(p, event_id).await?;
        let before = self
            .participants_of(p, event_id)
            .await?
            .into_iter()
            .find(|x| x.worker.id == worker_id)
            .ok_or(StoreError::NotFound)?;
        let mut e = ValidationErrors::default();
        let event_minutes = ev.hours.to_minutes("", &mut e);
        let d = validate_attendance(input, &event_minutes, ev.days)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE training_participants SET days_attended = $1, teaching_minutes = $2, lab_minutes = $3, \
             field_minutes = $4, result = $5, updated_by = $6, updated_at = $7 WHERE event_id = $8 AND worker_id = $9",
        )
        .bind(d.days_attended.map(|x| x as i64))
        .bind(d.minutes.teaching)
        .bind(d.minutes.lab)
        .bind(d.minutes.field)
        .bind(d.result.code())
        .bind(&p.username)
        .bind(now_text())
        .bind(event_id)
        .bind(worker_id)
        .execute(&mut *tx)
        .await?;
        let key = format!("{event_id}/{worker_id}");
        let b =
            serde_json::json!({"days_attended": before.days_attended, "hours": before.hours, "result": before.result});
        let a = serde_json::json!({"days_attended": d.days_attended, "hours": d.minutes.hours(), "result": d.result});
        record_audit(&mut tx, p, "update", "training_participant", &key, Some(&b), Some(&a)).await?;
        tx.commit().await?;
        self.participants_of(p, event_id)
            .await?
            .into_iter()
            .find(|x| x.worker.id == worker_id)
            .ok_or(StoreError::NotFound)
    }

    /// Records every participant still `pending` (among those the caller sees) as passed, with
    /// the event's hours and days: what an organizer does after an event, before correcting the
    /// exceptions one by one. Answers how many were recorded.
    pub async fn pass_pending(&self, p: &Principal, event_id: i64) -> Result<usize> {
        let ev = self.runnable_event(p, event_id).await?;
        let pending: Vec<Participant> = self
            .participants_of(p, event_id)
            .await?
            .into_iter()
            .filter(|x| x.result == TrainingResult::Pending)
            .collect();
        let m = ev.hours.to_minutes("", &mut ValidationErrors::default());
        let now = now_text();
        let mut tx = self.pool.begin().await?;
        for x in &pending {
            sqlx::query(
                "UPDATE training_participants SET days_attended = $1, teaching_minutes = $2, lab_minutes = $3, \
                 field_minutes = $4, result = 'passed', updated_by = $5, updated_at = $6 \
                 WHERE event_id = $7 AND worker_id = $8 AND result = 'pending'",
            )
            .bind(ev.days as i64)
            .bind(m.teaching)
            .bind(m.lab)
            .bind(m.field)
            .bind(&p.username)
            .bind(&now)
            .bind(event_id)
            .bind(x.worker.id)
            .execute(&mut *tx)
            .await?;
            let key = format!("{event_id}/{}", x.worker.id);
            let b = serde_json::json!({"days_attended": x.days_attended, "hours": x.hours, "result": x.result});
            let a = serde_json::json!({"days_attended": ev.days, "hours": ev.hours, "result": TrainingResult::Passed});
            record_audit(&mut tx, p, "update", "training_participant", &key, Some(&b), Some(&a)).await?;
        }
        tx.commit().await?;
        Ok(pending.len())
    }

    pub async fn remove_participant(&self, p: &Principal, event_id: i64, worker_id: i64) -> Result<()> {
        self.runnable_event(p, event_id).await?;
        let before = self
            .participants_of(p, event_id)
            .await?
            .into_iter()
            .find(|x| x.worker.id == worker_id)
            .ok_or(StoreError::NotFound)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM training_participants WHERE event_id = $1 AND worker_id = $2")
            .bind(event_id)
            .bind(worker_id)
            .execute(&mut *tx)
            .await?;
        record_audit(
            &mut tx,
            p,
            "delete",
            "training_participant",
            &format!("{event_id}/{worker_id}"),
            Some(&before),
            None::<&Participant>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Transcripts, recognitions, certificates
    // -----------------------------------------------------------------------------------------

    async fn brief(&self, p: &Principal, worker_id: i64) -> Result<WorkerBrief> {
        let w = self.get_worker(p, worker_id).await?.ok_or(StoreError::NotFound)?;
        Ok(WorkerBrief {
            id: w.id,
            name_km: w.name_km,
            name_latin: w.name_latin,
            sex: w.sex,
            cadre: w.cadre,
            role: w.role,
            sector: w.sector,
            workplace_code: w.workplace_code,
        })
    }

    pub async fn worker_certificates(&self, p: &Principal, worker_id: i64) -> Result<Vec<Certificate>> {
        self.brief(p, worker_id).await?;
        self.certificates_of(worker_id).await
    }

    /// The certificates of a worker the caller is known to see.
    async fn certificates_of(&self, worker_id: i64) -> Result<Vec<Certificate>> {
        let rows =
            sqlx::query(&format!("{CERT_SELECT} WHERE ce.worker_id = $1 ORDER BY ce.issued_on DESC, ce.id DESC"))
                .bind(worker_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(certificate_from_row).collect()
    }

    async fn recognitions_of(&self, worker_id: i64) -> Result<Vec<Recognition>> {
        let rows = sqlx::query(
            "SELECT r.id, r.worker_id, r.kind, r.programme_id, p.code AS programme_code, r.teaching_minutes, \
             r.lab_minutes, r.field_minutes, r.evidence, r.assessor, r.assessed_on, r.recorded_by \
             FROM training_recognitions r JOIN training_programmes p ON p.id = r.programme_id \
             WHERE r.worker_id = $1 ORDER BY r.assessed_on, r.id",
        )
        .bind(worker_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let m = minutes(r, "")?;
                Ok(Recognition {
                    id: r.try_get("id")?,
                    worker_id: r.try_get("worker_id")?,
                    kind: parse_col(r, "kind", RecognitionKind::parse)?,
                    programme_id: r.try_get("programme_id")?,
                    programme_code: r.try_get("programme_code")?,
                    hours: m.hours(),
                    credits: m.credits(),
                    evidence: r.try_get("evidence")?,
                    assessor: r.try_get("assessor")?,
                    assessed_on: date_col(r, "assessed_on")?,
                    recorded_by: r.try_get("recorded_by")?,
                })
            })
            .collect()
    }

    /// A worker's transcript: trainings with hours by type and credits, recognitions,
    /// certificates and progress toward every programme.
    pub async fn transcript(&self, p: &Principal, worker_id: i64) -> Result<Transcript> {
        let worker = self.brief(p, worker_id).await?;
        let rows = sqlx::query(
            "SELECT tp.event_id, c.code AS course_code, c.title_en AS course_title_en, c.title_km AS course_title_km, \
             c.programme_id, p.code AS programme_code, i.code AS institution_code, e.starts_on, e.ends_on, \
             e.place_code, tp.result, tp.teaching_minutes, tp.lab_minutes, tp.field_minutes \
             FROM training_participants tp JOIN training_events e ON e.id = tp.event_id \
             JOIN training_courses c ON c.id = e.course_id LEFT JOIN training_programmes p ON p.id = c.programme_id \
             LEFT JOIN training_institutions i ON i.id = e.institution_id \
             WHERE tp.worker_id = $1 ORDER BY e.starts_on DESC, e.id DESC",
        )
        .bind(worker_id)
        .fetch_all(&self.pool)
        .await?;
        let mut trainings = Vec::new();
        let mut passed_total = Minutes::default();
        let mut by_programme: HashMap<i64, Minutes> = HashMap::new();
        for r in &rows {
            let m = minutes(r, "")?;
            let result = parse_col(r, "result", TrainingResult::parse)?;
            let passed = result == TrainingResult::Passed;
            if passed {
                passed_total.add(&m);
                if let Some(pid) = r.try_get::<Option<i64>, _>("programme_id")? {
                    by_programme.entry(pid).or_default().add(&m);
                }
            }
            trainings.push(TranscriptEntry {
                event_id: r.try_get("event_id")?,
                course_code: r.try_get("course_code")?,
                course_title_en: r.try_get("course_title_en")?,
                course_title_km: r.try_get("course_title_km")?,
                programme_code: r.try_get("programme_code")?,
                institution_code: r.try_get("institution_code")?,
                starts_on: date_col(r, "starts_on")?,
                ends_on: date_col(r, "ends_on")?,
                place_code: r.try_get("place_code")?,
                result,
                hours: m.hours(),
                total_hours: Minutes { teaching: m.total(), lab: 0, field: 0 }.hours().teaching,
                credits: if passed { m.credits() } else { 0.0 },
            });
        }
        let recognitions = self.recognitions_of(worker_id).await?;
        let mut recognized: HashMap<i64, Minutes> = HashMap::new();
        let mut all = passed_total;
        for rc in &recognitions {
            let mut e = ValidationErrors::default();
            let m = rc.hours.to_minutes("", &mut e);
            recognized.entry(rc.programme_id).or_default().add(&m);
            all.add(&m);
        }
        let certificates = self.certificates_of(worker_id).await?;
        let progress = self
            .programmes()
            .await?
            .into_iter()
            .filter(|pr| pr.level != CertificateLevel::Continuing)
            .map(|pr| {
                let cert = certificates.iter().find(|c| c.valid && c.programme_id == pr.id).map(|c| c.number.clone());
                programme_progress(
                    pr.id,
                    &pr.code,
                    pr.level,
                    pr.credits_required,
                    &by_programme.get(&pr.id).copied().unwrap_or_default(),
                    &recognized.get(&pr.id).copied().unwrap_or_default(),
                    cert,
                )
            })
            .collect();
        Ok(Transcript {
            worker,
            trainings,
            hours: passed_total.hours(),
            total_hours: Minutes { teaching: passed_total.total(), lab: 0, field: 0 }.hours().teaching,
            total_credits: all.credits(),
            recognitions,
            certificates,
            progress,
        })
    }

    /// Records an RPL/RCC grant toward a programme, with its evidence.
    pub async fn add_recognition(
        &self,
        p: &Principal,
        worker_id: i64,
        input: &RecognitionInput,
        today: NaiveDate,
    ) -> Result<Recognition> {
        self.brief(p, worker_id).await?;
        if !p.can(Permission::RunTraining) {
            return Err(StoreError::Forbidden);
        }
        let d = validate_recognition(input, today)?;
        let Some(prog) = self.programme(d.programme_id).await? else {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("programme_id", "unknown_programme").with("value", d.programme_id),
            )));
        };
        if prog.level == CertificateLevel::Continuing {
            return Err(invalid("programme_id", "no_certificate_programme"));
        }
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO training_recognitions (worker_id, kind, programme_id, teaching_minutes, lab_minutes, \
             field_minutes, evidence, assessor, assessed_on, recorded_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(worker_id)
        .bind(d.kind.code())
        .bind(d.programme_id)
        .bind(d.minutes.teaching)
        .bind(d.minutes.lab)
        .bind(d.minutes.field)
        .bind(&d.evidence)
        .bind(&d.assessor)
        .bind(d.assessed_on.to_string())
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        let after = serde_json::json!({"worker_id": worker_id, "draft": d});
        record_audit(&mut tx, p, "create", "training_recognition", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.recognitions_of(worker_id).await?.into_iter().find(|r| r.id == id).ok_or(StoreError::NotFound)
    }

    /// Issues a certificate of a programme to a worker whose computed credits reach it.
    pub async fn issue_certificate(
        &self,
        p: &Principal,
        worker_id: i64,
        programme_id: i64,
        today: NaiveDate,
    ) -> Result<Certificate> {
        let t = self.transcript(p, worker_id).await?;
        if !p.can(Permission::Certify) {
            return Err(StoreError::Forbidden);
        }
        let Some(pr) = t.progress.iter().find(|x| x.programme_id == programme_id) else {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("programme_id", "unknown_programme").with("value", programme_id),
            )));
        };
        if let Some(n) = &pr.certificate {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("programme_id", "already_certified").with("number", n),
            )));
        }
        if !pr.eligible {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("programme_id", "not_eligible")
                    .with("have", pr.credits_earned)
                    .with("need", pr.credits_required),
            )));
        }
        let mut tx = self.pool.begin().await?;
        let number = loop {
            let n = random_number(NumberKind::Certificate);
            if sqlx::query("SELECT 1 FROM certificates WHERE number = $1")
                .bind(&n)
                .fetch_optional(&mut *tx)
                .await?
                .is_none()
            {
                break n;
            }
        };
        let row = sqlx::query(
            "INSERT INTO certificates (number, worker_id, programme_id, level, issued_on, issued_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&number)
        .bind(worker_id)
        .bind(programme_id)
        .bind(pr.level.code())
        .bind(today.to_string())
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        let after = serde_json::json!({"number": number, "worker_id": worker_id, "programme_id": programme_id,
            "level": pr.level, "credits": pr.credits_earned, "issued_on": today});
        record_audit(&mut tx, p, "create", "certificate", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.certificates_of(worker_id).await?.into_iter().find(|c| c.id == id).ok_or(StoreError::NotFound)
    }

    /// Revokes a certificate, with the reason.
    pub async fn revoke_certificate(
        &self,
        p: &Principal,
        number: &str,
        reason: &str,
        today: NaiveDate,
    ) -> Result<Certificate> {
        let n = normalize_number(NumberKind::Certificate, number).ok_or(StoreError::NotFound)?;
        let row = sqlx::query(&format!("{CERT_SELECT} WHERE ce.number = $1"))
            .bind(&n)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let cert = certificate_from_row(&row)?;
        self.brief(p, cert.worker_id).await?;
        if !p.can(Permission::Certify) {
            return Err(StoreError::Forbidden);
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(invalid("reason", "reason_required"));
        }
        if !cert.valid {
            return Err(invalid("number", "already_revoked"));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE certificates SET revoked_on = $1, revoke_reason = $2 WHERE id = $3")
            .bind(today.to_string())
            .bind(reason)
            .bind(cert.id)
            .execute(&mut *tx)
            .await?;
        let before = serde_json::json!({"number": cert.number, "revoked_on": null, "revoke_reason": null});
        let after = serde_json::json!({"number": cert.number, "revoked_on": today, "revoke_reason": reason});
        record_audit(&mut tx, p, "revoke", "certificate", &cert.id.to_string(), Some(&before), Some(&after)).await?;
        tx.commit().await?;
        self.certificates_of(cert.worker_id).await?.into_iter().find(|c| c.id == cert.id).ok_or(StoreError::NotFound)
    }

    fn certificate_filter(&self, p: &Principal, q: &CertificateQuery) -> Sql {
        let mut f = Sql::for_engine("", self.engine);
        push_worker_scope(&mut f, &p.worker_scope());
        push_attribute_filters(
            &mut f,
            &AttributeFilter { province: q.province.as_deref(), district: q.district.as_deref(), ..Default::default() },
        );
        if let Some(l) = q.level {
            f.push(" AND ce.level = ").text(l.code());
        }
        if let Some(id) = q.programme_id {
            f.push(" AND ce.programme_id = ").int(id);
        }
        if let Some(d) = q.from {
            f.push(" AND ce.issued_on >= ").text(d.to_string());
        }
        if let Some(d) = q.to {
            f.push(" AND ce.issued_on <= ").text(d.to_string());
        }
        match q.valid {
            Some(true) => {
                f.push(" AND ce.revoked_on IS NULL");
            }
            Some(false) => {
                f.push(" AND ce.revoked_on IS NOT NULL");
            }
            None => {}
        }
        if let Some(t) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            push_name_or_number(&mut f, t, NumberKind::Certificate, "ce.number");
        }
        f
    }

    /// The certificate register: certificates of the workers in the caller's scope, latest first.
    pub async fn certificates(&self, p: &Principal, q: &CertificateQuery) -> Result<Page<CertificateRow>> {
        let per_page = q.per_page.clamp(1, 10_000);
        let page = q.page.max(1);
        if !p.can(Permission::ReadWorkers) {
            return Ok(Page { items: vec![], total: 0, page, per_page });
        }
        let from = " FROM certificates ce JOIN training_programmes p ON p.id = ce.programme_id \
             JOIN training_institutions i ON i.id = p.institution_id JOIN workers w ON w.id = ce.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1";
        let f = self.certificate_filter(p, q);
        let mut count = Sql::for_engine(&format!("SELECT COUNT(*){from}"), self.engine);
        count.append(&f);
        let total: i64 = count.query().fetch_one(&self.pool).await?.try_get(0)?;
        let mut sql = Sql::for_engine(
            &format!(
                "SELECT ce.id, ce.number, ce.worker_id, ce.programme_id, p.code AS programme_code, \
                 p.title_en AS programme_title_en, p.title_km AS programme_title_km, i.code AS institution_code, \
                 ce.level, ce.issued_on, ce.issued_by, ce.revoked_on, ce.revoke_reason, {BRIEF_COLS}{from}"
            ),
            self.engine,
        );
        sql.append(&f);
        sql.push(" ORDER BY ce.issued_on DESC, ce.id DESC LIMIT ")
            .int(per_page)
            .push(" OFFSET ")
            .int((page - 1) * per_page);
        let rows = sql.query().fetch_all(&self.pool).await?;
        let items = rows
            .iter()
            .map(|r| Ok(CertificateRow { certificate: certificate_from_row(r)?, holder: brief_from_row(r)? }))
            .collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, page, per_page })
    }

    /// The register of the query as rows of [`CERTIFICATE_EXPORT_COLUMNS`].
    pub async fn certificate_export_rows(&self, p: &Principal, q: &CertificateQuery) -> Result<Vec<Vec<String>>> {
        let mut q = q.clone();
        q.page = 1;
        q.per_page = 10_000;
        let mut out = Vec::new();
        loop {
            let page = self.certificates(p, &q).await?;
            for r in &page.items {
                let c = &r.certificate;
                out.push(vec![
                    c.number.clone(),
                    c.level.code().into(),
                    c.programme_code.clone(),
                    c.institution_code.clone(),
                    c.issued_on.to_string(),
                    c.issued_by.clone(),
                    if c.valid { "yes".into() } else { "no".into() },
                    c.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
                    c.revoke_reason.clone().unwrap_or_default(),
                    r.holder.id.to_string(),
                    r.holder.name_latin.clone(),
                    r.holder.name_km.clone(),
                    r.holder.workplace_code.clone(),
                ]);
            }
            if q.page >= page.pages() {
                break;
            }
            q.page += 1;
        }
        Ok(out)
    }

    /// Workers in the caller's scope holding a valid certificate, and holding a valid licence on
    /// `today` (for the overview; the UNICEF indicators count workers by whether they are
    /// certified or licensed).
    pub async fn certified_and_licensed(&self, p: &Principal, today: NaiveDate) -> Result<(i64, i64)> {
        if !p.can(Permission::ReadWorkers) {
            return Ok((0, 0));
        }
        let mut out = [0i64; 2];
        for (k, cond) in [
            "EXISTS (SELECT 1 FROM certificates ce WHERE ce.worker_id = w.id AND ce.revoked_on IS NULL)",
            "EXISTS (SELECT 1 FROM licences l WHERE l.worker_id = w.id AND l.status = 'active' AND l.expires_on >= ",
        ]
        .into_iter()
        .enumerate()
        {
            let mut sql = Sql::for_engine(
                "SELECT COUNT(*) FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE ",
                self.engine,
            );
            sql.push(cond);
            if k == 1 {
                sql.text(today.to_string()).push(")");
            }
            sql.push(" AND w.status IN ('active', 'on_leave')");
            push_worker_scope(&mut sql, &p.worker_scope());
            out[k] = sql.query().fetch_one(&self.pool).await?.try_get(0)?;
        }
        Ok((out[0], out[1]))
    }

    /// Public verification: the certificate and its holder's name, or none for an unknown number.
    pub async fn public_certificate(&self, number: &str) -> Result<Option<PublicCertificate>> {
        let Some(n) = normalize_number(NumberKind::Certificate, number) else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT ce.number, ce.level, ce.issued_on, ce.revoked_on, p.title_en, p.title_km, i.code AS institution_code, \
             w.name_km, w.name_latin FROM certificates ce JOIN workers w ON w.id = ce.worker_id \
             JOIN training_programmes p ON p.id = ce.programme_id JOIN training_institutions i ON i.id = p.institution_id \
             WHERE ce.number = $1",
        )
        .bind(&n)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let revoked_on = opt_date(&r, "revoked_on")?;
        Ok(Some(PublicCertificate {
            number: r.try_get("number")?,
            valid: revoked_on.is_none(),
            holder_name_km: r.try_get("name_km")?,
            holder_name_latin: r.try_get("name_latin")?,
            level: parse_col(&r, "level", CertificateLevel::parse)?,
            programme_title_en: r.try_get("title_en")?,
            programme_title_km: r.try_get("title_km")?,
            institution_code: r.try_get("institution_code")?,
            issued_on: date_col(&r, "issued_on")?,
            revoked_on,
        }))
    }

    // -----------------------------------------------------------------------------------------
    // Progress, eligibility, targets
    // -----------------------------------------------------------------------------------------

    fn progress_filter(&self, p: &Principal, q: &ProgressQuery) -> Sql {
        let mut f = Sql::for_engine("", self.engine);
        push_worker_scope(&mut f, &p.worker_scope());
        push_attribute_filters(
            &mut f,
            &AttributeFilter {
                province: q.province.as_deref(),
                district: q.district.as_deref(),
                cadre: q.cadre,
                sector: q.sector,
                role: q.role,
                org_id: q.org_id,
                ..Default::default()
            },
        );
        f
    }

    /// Progress toward each programme's certificate of the workers in the caller's scope
    /// (and the filters), and who is eligible for which certificate.
    pub async fn training_progress(&self, p: &Principal, q: &ProgressQuery) -> Result<ProgressReport> {
        if !p.can(Permission::ReadWorkers) {
            return Err(StoreError::Forbidden);
        }
        let programmes: Vec<Programme> = self
            .programmes()
            .await?
            .into_iter()
            .filter(|x| x.level != CertificateLevel::Continuing && q.programme_id.is_none_or(|id| id == x.id))
            .collect();
        let f = self.progress_filter(p, q);
        // Minutes per (worker, programme): passed trainings, then recognitions.
        let mut per: BTreeMap<(i64, i64), Minutes> = BTreeMap::new();
        for sql_head in [
            "SELECT tp.worker_id, c.programme_id, CAST(SUM(tp.teaching_minutes) AS BIGINT) AS teaching_minutes, \
             CAST(SUM(tp.lab_minutes) AS BIGINT) AS lab_minutes, CAST(SUM(tp.field_minutes) AS BIGINT) AS field_minutes \
             FROM training_participants tp JOIN training_events e ON e.id = tp.event_id \
             JOIN training_courses c ON c.id = e.course_id JOIN workers w ON w.id = tp.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code \
             WHERE tp.result = 'passed' AND c.programme_id IS NOT NULL",
            "SELECT r.worker_id, r.programme_id, CAST(SUM(r.teaching_minutes) AS BIGINT) AS teaching_minutes, \
             CAST(SUM(r.lab_minutes) AS BIGINT) AS lab_minutes, CAST(SUM(r.field_minutes) AS BIGINT) AS field_minutes \
             FROM training_recognitions r JOIN workers w ON w.id = r.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1",
        ] {
            let mut sql = Sql::for_engine(sql_head, self.engine);
            sql.append(&f);
            sql.push(if sql_head.contains("tp.worker_id") {
                " GROUP BY tp.worker_id, c.programme_id"
            } else {
                " GROUP BY r.worker_id, r.programme_id"
            });
            for r in sql.query().fetch_all(&self.pool).await? {
                let key = (r.try_get::<i64, _>(0)?, r.try_get::<i64, _>(1)?);
                per.entry(key).or_default().add(&minutes(&r, "")?);
            }
        }
        let mut certified: BTreeMap<(i64, i64), ()> = BTreeMap::new();
        let mut sql = Sql::for_engine(
            "SELECT ce.worker_id, ce.programme_id FROM certificates ce JOIN workers w ON w.id = ce.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code WHERE ce.revoked_on IS NULL",
            self.engine,
        );
        sql.append(&f);
        for r in sql.query().fetch_all(&self.pool).await? {
            certified.insert((r.try_get(0)?, r.try_get(1)?), ());
        }
        let mut out = Vec::new();
        let mut eligible_keys: Vec<(i64, i64, f64)> = Vec::new();
        for pr in &programmes {
            let mut g = GroupProgress {
                programme_id: pr.id,
                programme_code: pr.code.clone(),
                level: pr.level,
                credits_required: pr.credits_required,
                started: 0,
                halfway: 0,
                eligible: 0,
                certified: certified.keys().filter(|(_, pid)| *pid == pr.id).count() as i64,
            };
            for ((wid, pid), m) in &per {
                if *pid != pr.id || m.credit_units() == 0 {
                    continue;
                }
                g.started += 1;
                if m.credit_units() * 2 >= pr.credits_required as i64 * CREDIT_UNITS {
                    g.halfway += 1;
                }
                if reaches_credits(m, pr.credits_required) && !certified.contains_key(&(*wid, *pid)) {
                    g.eligible += 1;
                    eligible_keys.push((*wid, *pid, m.credits()));
                }
            }
            out.push(g);
        }
        let eligible_total = eligible_keys.len() as i64;
        let mut eligible = Vec::new();
        let wanted: Vec<i64> = eligible_keys.iter().take(ELIGIBLE_LIMIT).map(|k| k.0).collect();
        let briefs = self.briefs(&wanted).await?;
        for (wid, pid, credits) in eligible_keys.into_iter().take(ELIGIBLE_LIMIT) {
            let (Some(w), Some(pr)) = (briefs.get(&wid), programmes.iter().find(|x| x.id == pid)) else {
                continue;
            };
            eligible.push(EligibleWorker {
                worker: w.clone(),
                programme_id: pid,
                programme_code: pr.code.clone(),
                level: pr.level,
                credits_earned: credits,
            });
        }
        eligible.sort_by(|a, b| (a.programme_id, &a.worker.name_latin).cmp(&(b.programme_id, &b.worker.name_latin)));
        Ok(ProgressReport { programmes: out, eligible, eligible_total })
    }

    async fn briefs(&self, ids: &[i64]) -> Result<HashMap<i64, WorkerBrief>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(200) {
            let mut sql = Sql::for_engine(&format!("SELECT {BRIEF_COLS} FROM workers w WHERE w.id IN ("), self.engine);
            for (k, id) in chunk.iter().enumerate() {
                if k > 0 {
                    sql.push(", ");
                }
                sql.int(*id);
            }
            sql.push(")");
            for r in sql.query().fetch_all(&self.pool).await? {
                let b = brief_from_row(&r)?;
                out.insert(b.id, b);
            }
        }
        Ok(out)
    }

    /// Training targets against completions in the caller's scope.
    pub async fn training_targets(&self, p: &Principal) -> Result<Vec<TrainingTarget>> {
        if !p.can(Permission::ReadWorkers) {
            return Err(StoreError::Forbidden);
        }
        let rows = sqlx::query(
            "SELECT id, group_code, group_en, level, year, target, roles FROM training_targets ORDER BY year, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let level = parse_col(r, "level", CertificateLevel::parse)?;
            let roles_text: String = r.try_get("roles")?;
            let roles: Vec<WorkerRole> = roles_text.split_whitespace().filter_map(WorkerRole::parse).collect();
            let year: i64 = r.try_get("year")?;
            let target: i64 = r.try_get("target")?;
            let completed = if roles.is_empty() {
                None
            } else {
                let mut sql = Sql::for_engine(
                    "SELECT COUNT(DISTINCT ce.worker_id) FROM certificates ce JOIN workers w ON w.id = ce.worker_id \
                     JOIN admin_units u ON u.code = w.workplace_code WHERE ce.revoked_on IS NULL AND ce.level = ",
                    self.engine,
                );
                sql.text(level.code()).push(" AND ce.issued_on <= ").text(format!("{year:04}-12-31"));
                sql.push(" AND w.role IN (");
                for (k, role) in roles.iter().enumerate() {
                    if k > 0 {
                        sql.push(", ");
                    }
                    sql.text(role.code());
                }
                sql.push(")");
                push_worker_scope(&mut sql, &p.worker_scope());
                Some(sql.query().fetch_one(&self.pool).await?.try_get::<i64, _>(0)?)
            };
            out.push(TrainingTarget {
                id: r.try_get("id")?,
                group_code: r.try_get("group_code")?,
                group_en: r.try_get("group_en")?,
                level,
                year: year as i32,
                target,
                roles,
                completed,
                percent: completed.map(|c| if target > 0 { ((c * 100) / target).min(999) as u32 } else { 100 }),
            });
        }
        Ok(out)
    }

    /// Adds a target, or replaces the one of the same group, level and year.
    pub async fn set_training_target(&self, p: &Principal, input: &TargetInput) -> Result<()> {
        if !p.can(Permission::ManageTrainingCatalogue) {
            return Err(StoreError::Forbidden);
        }
        let mut errs = ValidationErrors::default();
        let code = input.group_code.trim();
        if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            errs.push(FieldError::new("group_code", "invalid_code"));
        }
        if input.group_en.trim().is_empty() {
            errs.push(FieldError::new("group_en", "required"));
        }
        let level = CertificateLevel::parse(&input.level);
        if level.is_none() {
            errs.push(FieldError::new("level", "invalid_choice").with("value", &input.level));
        }
        if !(2000..=2100).contains(&input.year) {
            errs.push(FieldError::new("year", "out_of_range").with("min", 2000).with("max", 2100));
        }
        if !(0..=1_000_000).contains(&input.target) {
            errs.push(FieldError::new("target", "out_of_range").with("min", 0).with("max", 1_000_000));
        }
        let mut roles = Vec::new();
        for r in &input.roles {
            match WorkerRole::parse(r) {
                Some(role) => roles.push(role.code()),
                None => errs.push(FieldError::new("roles", "invalid_choice").with("value", r)),
            }
        }
        let Some(level) = level.filter(|_| errs.is_empty()) else {
            return Err(errs.into());
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO training_targets (group_code, group_en, level, year, target, roles) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (group_code, level, year) DO UPDATE SET \
             group_en = excluded.group_en, target = excluded.target, roles = excluded.roles",
        )
        .bind(code)
        .bind(input.group_en.trim())
        .bind(level.code())
        .bind(input.year as i64)
        .bind(input.target)
        .bind(roles.join(" "))
        .execute(&mut *tx)
        .await?;
        let key = format!("{code}/{}/{}", level.code(), input.year);
        record_audit(&mut tx, p, "update", "training_target", &key, None, Some(input)).await?;
        tx.commit().await?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // Licensing
    // -----------------------------------------------------------------------------------------

    pub async fn licensing_rules(&self) -> Result<LicensingRules> {
        let d = LicensingRules::default();
        let get = |v: Option<String>, dflt: u32| v.and_then(|s| s.parse().ok()).unwrap_or(dflt);
        Ok(LicensingRules {
            term_years: get(self.meta_get(RULES_TERM_KEY).await?, d.term_years),
            renewal_ce_hours: get(self.meta_get(RULES_CE_KEY).await?, d.renewal_ce_hours),
        })
    }

    pub async fn set_licensing_rules(
        &self,
        p: &Principal,
        term_years: i64,
        renewal_ce_hours: i64,
    ) -> Result<LicensingRules> {
        if !p.can(Permission::ManageTrainingCatalogue) {
            return Err(StoreError::Forbidden);
        }
        let rules = LicensingRules::validate(term_years, renewal_ce_hours)?;
        let before = self.licensing_rules().await?;
        let mut tx = self.pool.begin().await?;
        for (k, v) in [(RULES_TERM_KEY, rules.term_years), (RULES_CE_KEY, rules.renewal_ce_hours)] {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(k)
            .bind(v.to_string())
            .execute(&mut *tx)
            .await?;
        }
        record_audit(&mut tx, p, "update", "licensing_rules", "rules", Some(&before), Some(&rules)).await?;
        tx.commit().await?;
        Ok(rules)
    }

    fn licence_select(&self) -> Sql {
        Sql::for_engine(
            &format!(
                "SELECT {LICENCE_COLS}, {BRIEF_COLS} FROM licences l JOIN workers w ON w.id = l.worker_id \
                 JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1"
            ),
            self.engine,
        )
    }

    fn licence_filter(&self, p: &Principal, q: &LicenceQuery, today: NaiveDate) -> Sql {
        let mut f = Sql::for_engine("", self.engine);
        push_worker_scope(&mut f, &p.worker_scope());
        push_attribute_filters(
            &mut f,
            &AttributeFilter { province: q.province.as_deref(), district: q.district.as_deref(), ..Default::default() },
        );
        let t = today.to_string();
        match q.status {
            Some(LicenceStatus::Active) => {
                f.push(" AND l.status = 'active' AND l.expires_on >= ").text(t.clone());
            }
            Some(LicenceStatus::Lapsed) => {
                f.push(" AND (l.status = 'lapsed' OR (l.status = 'active' AND l.expires_on < ").text(t.clone());
                f.push("))");
            }
            Some(s) => {
                f.push(" AND l.status = ").text(s.code());
            }
            None => {}
        }
        if let Some(n) = q.expiring_within_days {
            let until = today + chrono::Days::new(n.max(0) as u64);
            f.push(" AND l.status = 'active' AND l.expires_on >= ").text(t);
            f.push(" AND l.expires_on <= ").text(until.to_string());
        }
        if let Some(s) = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            push_name_or_number(&mut f, s, NumberKind::Licence, "l.number");
        }
        f
    }

    /// Licences in the caller's scope; with `expiring_within_days`, soonest expiry first.
    pub async fn licences(&self, p: &Principal, q: &LicenceQuery, today: NaiveDate) -> Result<Page<Licence>> {
        let per_page = q.per_page.clamp(1, 10_000);
        let page = q.page.max(1);
        if !p.can(Permission::ReadWorkers) {
            return Ok(Page { items: vec![], total: 0, page, per_page });
        }
        let f = self.licence_filter(p, q, today);
        let mut count = Sql::for_engine(
            "SELECT COUNT(*) FROM licences l JOIN workers w ON w.id = l.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1",
            self.engine,
        );
        count.append(&f);
        let total: i64 = count.query().fetch_one(&self.pool).await?.try_get(0)?;
        let mut sql = self.licence_select();
        sql.append(&f);
        if q.expiring_within_days.is_some() {
            sql.push(" ORDER BY l.expires_on, l.id");
        } else {
            sql.push(" ORDER BY l.applied_on DESC, l.id DESC");
        }
        sql.push(" LIMIT ").int(per_page).push(" OFFSET ").int((page - 1) * per_page);
        let rows = sql.query().fetch_all(&self.pool).await?;
        let items = rows.iter().map(|r| licence_from_row(r, today)).collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, page, per_page })
    }

    pub async fn worker_licences(&self, p: &Principal, worker_id: i64, today: NaiveDate) -> Result<Vec<Licence>> {
        self.brief(p, worker_id).await?;
        let mut sql = self.licence_select();
        sql.push(" AND l.worker_id = ").int(worker_id).push(" ORDER BY l.applied_on DESC, l.id DESC");
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| licence_from_row(r, today)).collect()
    }

    async fn licence_row(&self, p: &Principal, id: i64, today: NaiveDate) -> Result<Licence> {
        let mut sql = self.licence_select();
        sql.push(" AND l.id = ").int(id);
        push_worker_scope(&mut sql, &p.worker_scope());
        if !p.can(Permission::ReadWorkers) {
            return Err(StoreError::NotFound);
        }
        let row = sql.query().fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)?;
        licence_from_row(&row, today)
    }

    /// Continuing-education minutes: passed training of the worker in events ending in `[from, to]`.
    async fn ce_minutes(&self, worker_id: i64, from: NaiveDate, to: NaiveDate) -> Result<i64> {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(tp.teaching_minutes + tp.lab_minutes + tp.field_minutes), 0) AS BIGINT) \
             FROM training_participants tp JOIN training_events e ON e.id = tp.event_id \
             WHERE tp.worker_id = $1 AND tp.result = 'passed' AND e.ends_on >= $2 AND e.ends_on <= $3",
        )
        .bind(worker_id)
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    pub async fn licence(&self, p: &Principal, id: i64, today: NaiveDate) -> Result<LicenceDetail> {
        let licence = self.licence_row(p, id, today).await?;
        let rows = sqlx::query(
            "SELECT action, on_date, by_user, reason, ce_minutes FROM licence_actions WHERE licence_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let actions = rows
            .iter()
            .map(|r| {
                let ce: Option<i64> = r.try_get("ce_minutes")?;
                Ok(LicenceActionRow {
                    action: r.try_get("action")?,
                    on_date: date_col(r, "on_date")?,
                    by_user: r.try_get("by_user")?,
                    reason: r.try_get("reason")?,
                    ce_hours: ce.map(|m| Minutes { teaching: m, lab: 0, field: 0 }.hours().teaching),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let rules = self.licensing_rules().await?;
        let ce = match licence.term_start {
            Some(start) => self.ce_minutes(licence.worker.id, start, today).await?,
            None => 0,
        };
        Ok(LicenceDetail {
            licence,
            actions,
            ce_hours_in_term: Minutes { teaching: ce, lab: 0, field: 0 }.hours().teaching,
            ce_hours_required: rules.renewal_ce_hours,
        })
    }

    /// Applies for a licence for a worker: by the worker themself or an account that may change
    /// the worker's record. The worker must hold a valid certificate or a degree in social work,
    /// and have no open (applied, active or suspended) licence.
    pub async fn apply_licence(
        &self,
        p: &Principal,
        worker_id: i64,
        note: Option<&str>,
        today: NaiveDate,
    ) -> Result<Licence> {
        let w = self.get_worker(p, worker_id).await?.ok_or(StoreError::NotFound)?;
        let is_self = p.worker_id == Some(worker_id);
        if !is_self && (!p.can(Permission::WriteWorkers) || p.self_service_only()) {
            return Err(StoreError::Forbidden);
        }
        let degree = matches!(
            w.education_level,
            Some(EducationLevel::Bachelor | EducationLevel::Master | EducationLevel::Doctorate)
        ) && w.education_field == Some(EducationField::SocialWork);
        let certified = self.certificates_of(worker_id).await?.iter().any(|c| c.valid);
        if !degree && !certified {
            return Err(invalid("worker_id", "no_qualification"));
        }
        let open = sqlx::query(
            "SELECT id FROM licences WHERE worker_id = $1 AND status IN ('applied', 'active', 'suspended')",
        )
        .bind(worker_id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(r) = open {
            let id: i64 = r.try_get(0)?;
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("worker_id", "licence_open").with("licence_id", id),
            )));
        }
        let note = note.map(str::trim).filter(|s| !s.is_empty());
        if note.is_some_and(|n| n.chars().count() > 1000) {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("note", "too_long").with("max", 1000),
            )));
        }
        let now = now_text();
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO licences (worker_id, status, applied_on, application_note, created_at, updated_at) \
             VALUES ($1, 'applied', $2, $3, $4, $5) RETURNING id",
        )
        .bind(worker_id)
        .bind(today.to_string())
        .bind(note)
        .bind(&now)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        licence_action(&mut tx, id, "apply", today, &p.username, note, None).await?;
        let after = serde_json::json!({"worker_id": worker_id, "status": "applied", "applied_on": today, "note": note});
        record_audit(&mut tx, p, "create", "licence", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.licence_row(p, id, today).await
    }

    /// Approves or rejects an application; suspends, reinstates, lapses or revokes a licence.
    pub async fn decide_licence(
        &self,
        p: &Principal,
        id: i64,
        input: &DecisionInput,
        today: NaiveDate,
    ) -> Result<Licence> {
        let before = self.licence_row(p, id, today).await?;
        if !p.can(Permission::Certify) {
            return Err(StoreError::Forbidden);
        }
        let (action, reason) = validate_decision(input)?;
        let to = action.apply(before.effective_status).map_err(ValidationErrors::single)?;
        let rules = self.licensing_rules().await?;
        let mut tx = self.pool.begin().await?;
        match action {
            LicenceAction::Approve => {
                let number = loop {
                    let n = random_number(NumberKind::Licence);
                    if sqlx::query("SELECT 1 FROM licences WHERE number = $1")
                        .bind(&n)
                        .fetch_optional(&mut *tx)
                        .await?
                        .is_none()
                    {
                        break n;
                    }
                };
                sqlx::query(
                    "UPDATE licences SET status = 'active', number = $1, decided_on = $2, decided_by = $3, \
                     issued_on = $2, term_start = $2, expires_on = $4, reason = NULL, updated_at = $5 WHERE id = $6",
                )
                .bind(&number)
                .bind(today.to_string())
                .bind(&p.username)
                .bind(rules.expiry(today).to_string())
                .bind(now_text())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            _ => {
                let decided = matches!(action, LicenceAction::Reject);
                let mut sql = Sql::for_engine("UPDATE licences SET status = ", self.engine);
                sql.text(to.code()).push(", reason = ").opt_text(reason.clone());
                sql.push(", updated_at = ").text(now_text());
                if decided {
                    sql.push(", decided_on = ").text(today.to_string()).push(", decided_by = ").text(&p.username);
                }
                sql.push(" WHERE id = ").int(id);
                sql.query().execute(&mut *tx).await?;
            }
        }
        licence_action(&mut tx, id, action.code(), today, &p.username, reason.as_deref(), None).await?;
        let after = serde_json::json!({"status": to, "reason": reason});
        let b = serde_json::json!({"status": before.effective_status, "reason": before.reason});
        record_audit(&mut tx, p, action.code(), "licence", &id.to_string(), Some(&b), Some(&after)).await?;
        tx.commit().await?;
        self.licence_row(p, id, today).await
    }

    /// Renews a licence for another term when the worker's continuing-education hours in the
    /// current term reach the rules'; refused with the hours had and needed otherwise. A licence
    /// still in its term is renewed from its expiry; one that has run out, from today.
    pub async fn renew_licence(&self, p: &Principal, id: i64, today: NaiveDate) -> Result<Licence> {
        let before = self.licence_row(p, id, today).await?;
        if !p.can(Permission::Certify) {
            return Err(StoreError::Forbidden);
        }
        if before.status != LicenceStatus::Active {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("action", "action_not_allowed")
                    .with("action", "renew")
                    .with("status", before.effective_status.code()),
            )));
        }
        let rules = self.licensing_rules().await?;
        let start = before.term_start.or(before.issued_on).unwrap_or(before.applied_on);
        let ce = self.ce_minutes(before.worker.id, start, today).await?;
        rules.check_renewal(ce).map_err(ValidationErrors::single)?;
        let next_start = match before.expires_on {
            Some(exp) if exp >= today => exp.succ_opt().unwrap_or(exp),
            _ => today,
        };
        let expires = rules.expiry(next_start);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE licences SET term_start = $1, expires_on = $2, renewals = renewals + 1, updated_at = $3 WHERE id = $4",
        )
        .bind(next_start.to_string())
        .bind(expires.to_string())
        .bind(now_text())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        licence_action(&mut tx, id, "renew", today, &p.username, None, Some(ce)).await?;
        let b = serde_json::json!({"term_start": before.term_start, "expires_on": before.expires_on});
        let a = serde_json::json!({"term_start": next_start, "expires_on": expires, "ce_minutes": ce});
        record_audit(&mut tx, p, "renew", "licence", &id.to_string(), Some(&b), Some(&a)).await?;
        tx.commit().await?;
        self.licence_row(p, id, today).await
    }

    /// The public register: valid licences whose holder's name or number matches `q`
    /// (at least two characters), at most [`REGISTER_LIMIT`].
    pub async fn public_register(&self, q: &str, today: NaiveDate) -> Result<Vec<PublicLicence>> {
        let q = q.trim();
        if q.chars().count() < 2 {
            return Ok(vec![]);
        }
        let mut sql = Sql::for_engine(
            "SELECT l.number, l.expires_on, w.name_km, w.name_latin FROM licences l JOIN workers w ON w.id = l.worker_id \
             WHERE l.status = 'active' AND l.expires_on >= ",
            self.engine,
        );
        sql.text(today.to_string());
        push_name_or_number(&mut sql, q, NumberKind::Licence, "l.number");
        sql.push(" ORDER BY w.name_latin, l.id LIMIT ").int(REGISTER_LIMIT);
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(PublicLicence {
                    number: r.try_get("number")?,
                    name_km: r.try_get("name_km")?,
                    name_latin: r.try_get("name_latin")?,
                    expires_on: date_col(r, "expires_on")?,
                })
            })
            .collect()
    }

    // -----------------------------------------------------------------------------------------
    // Exports
    // -----------------------------------------------------------------------------------------

    /// A worker's transcript as rows of [`TRANSCRIPT_EXPORT_COLUMNS`]: trainings, then
    /// recognitions, then certificates.
    pub async fn transcript_export_rows(&self, p: &Principal, worker_id: i64) -> Result<Vec<Vec<String>>> {
        let t = self.transcript(p, worker_id).await?;
        let base = |kind: &str| {
            vec![t.worker.id.to_string(), t.worker.name_latin.clone(), t.worker.name_km.clone(), kind.into()]
        };
        let mut out = Vec::new();
        for e in t.trainings.iter().rev() {
            let mut r = base("training");
            r.extend([
                e.course_code.clone(),
                e.course_title_en.clone(),
                e.programme_code.clone().unwrap_or_default(),
                e.starts_on.to_string(),
                e.ends_on.to_string(),
                e.result.code().into(),
                h(e.hours.teaching),
                h(e.hours.lab),
                h(e.hours.field),
                h(e.credits),
                String::new(),
            ]);
            out.push(r);
        }
        for rc in &t.recognitions {
            let mut r = base(rc.kind.code());
            r.extend([
                String::new(),
                rc.evidence.clone(),
                rc.programme_code.clone(),
                rc.assessed_on.to_string(),
                rc.assessed_on.to_string(),
                "recognized".into(),
                h(rc.hours.teaching),
                h(rc.hours.lab),
                h(rc.hours.field),
                h(rc.credits),
                String::new(),
            ]);
            out.push(r);
        }
        for c in &t.certificates {
            let mut r = base("certificate");
            r.extend([
                c.level.code().into(),
                c.programme_title_en.clone(),
                c.programme_code.clone(),
                c.issued_on.to_string(),
                c.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
                if c.valid { "valid".into() } else { "revoked".into() },
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                c.number.clone(),
            ]);
            out.push(r);
        }
        Ok(out)
    }

    /// Events of the query with every participant the caller sees, as rows of
    /// [`EVENT_EXPORT_COLUMNS`] (an event without visible participants gives one row).
    pub async fn event_export_rows(&self, p: &Principal, q: &EventQuery) -> Result<Vec<Vec<String>>> {
        let mut q = q.clone();
        q.page = 1;
        q.per_page = 500;
        let mut out = Vec::new();
        loop {
            let page = self.training_events(p, &q).await?;
            for e in &page.items {
                let head = vec![
                    e.id.to_string(),
                    e.course_code.clone(),
                    e.course_title_en.clone(),
                    e.programme_code.clone().unwrap_or_default(),
                    e.institution_code.clone().unwrap_or_default(),
                    e.starts_on.to_string(),
                    e.ends_on.to_string(),
                    e.place_code.clone(),
                    e.place_name_en.clone(),
                    e.venue.clone().unwrap_or_default(),
                    e.trainers.clone().unwrap_or_default(),
                ];
                let parts = self.participants_of(p, e.id).await?;
                if parts.is_empty() {
                    let mut r = head.clone();
                    r.extend(std::iter::repeat_n(String::new(), 9));
                    out.push(r);
                }
                for x in parts {
                    let mut r = head.clone();
                    r.extend([
                        x.worker.id.to_string(),
                        x.worker.name_latin.clone(),
                        x.worker.name_km.clone(),
                        x.days_attended.map(|d| d.to_string()).unwrap_or_default(),
                        h(x.hours.teaching),
                        h(x.hours.lab),
                        h(x.hours.field),
                        h(x.credits),
                        x.result.code().into(),
                    ]);
                    out.push(r);
                }
            }
            if q.page >= page.pages() {
                break;
            }
            q.page += 1;
        }
        Ok(out)
    }

    /// The licences of the query as rows of [`LICENCE_EXPORT_COLUMNS`].
    pub async fn licence_export_rows(
        &self,
        p: &Principal,
        q: &LicenceQuery,
        today: NaiveDate,
    ) -> Result<Vec<Vec<String>>> {
        let mut q = q.clone();
        q.page = 1;
        q.per_page = 10_000;
        let mut out = Vec::new();
        loop {
            let page = self.licences(p, &q, today).await?;
            for l in &page.items {
                out.push(vec![
                    l.number.clone().unwrap_or_default(),
                    l.worker.id.to_string(),
                    l.worker.name_latin.clone(),
                    l.worker.name_km.clone(),
                    l.worker.workplace_code.clone(),
                    l.effective_status.code().into(),
                    l.applied_on.to_string(),
                    l.issued_on.map(|d| d.to_string()).unwrap_or_default(),
                    l.term_start.map(|d| d.to_string()).unwrap_or_default(),
                    l.expires_on.map(|d| d.to_string()).unwrap_or_default(),
                    l.days_to_expiry.map(|d| d.to_string()).unwrap_or_default(),
                    l.renewals.to_string(),
                    l.reason.clone().unwrap_or_default(),
                ]);
            }
            if q.page >= page.pages() {
                break;
            }
            q.page += 1;
        }
        Ok(out)
    }
}

fn participant_from_row(r: &AnyRow) -> Result<Participant> {
    let m = minutes(r, "")?;
    let result = parse_col(r, "result", TrainingResult::parse)?;
    let days: Option<i64> = r.try_get("days_attended")?;
    Ok(Participant {
        event_id: r.try_get("event_id")?,
        worker: brief_from_row(r)?,
        days_attended: days.map(|d| d.max(0) as u32),
        hours: m.hours(),
        credits: if result == TrainingResult::Passed { m.credits() } else { 0.0 },
        result,
        updated_by: r.try_get("updated_by")?,
        updated_at: r.try_get("updated_at")?,
    })
}

pub(crate) async fn insert_course(conn: &mut AnyConnection, d: &CourseDraft) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO training_courses (code, title_en, title_km, programme_id, teaching_minutes, lab_minutes, \
         field_minutes, competencies, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(&d.code)
    .bind(&d.title_en)
    .bind(&d.title_km)
    .bind(d.programme_id)
    .bind(d.minutes.teaching)
    .bind(d.minutes.lab)
    .bind(d.minutes.field)
    .bind(d.competencies.join(" "))
    .bind(now_text())
    .fetch_one(&mut *conn)
    .await?;
    Ok(row.try_get(0)?)
}
