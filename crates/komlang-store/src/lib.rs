//! Komlang storage. One code path over SQLite (the default, an embedded file)
//! and PostgreSQL (a national deployment with several app servers), through
//! sqlx's `Any` driver. SQL is written once in the dialect both engines share;
//! only the migrations are spelled per engine, with the same versions.
//!
//! The code is a folder per feature over `common`, which holds what they share (the [`Store`]
//! handle, its errors, the SQL builder, scope helpers, the audit writer) and uses no feature:
//! `workers`, `organizations`, `units` (admin units), `imports` (imports and the worker export),
//! `competency`, `planning`, `training`, `licensing`, `accounts` (users and sessions) and
//! `audit` (reading the log). `demo` loads the demo data set through them. `backup` copies the whole
//! instance to a file and back, on either engine (docs/backup.md).

mod accounts;
mod audit;
pub mod backup;
pub mod caseloads;
mod common;
mod competency;
pub mod costs;
pub mod demo;
pub mod establishment;
pub mod fhir;
mod field;
pub mod hiring;
mod imports;
mod licensing;
mod limits;
mod organizations;
pub mod performance;
pub mod planning;
pub mod recruitment;
pub mod retention;
pub mod supervision;
pub mod testing;
mod training;
mod units;
mod workers;

pub use accounts::{
    hash_password, is_device_value, AccountRow, ApiToken, IssuedToken, LoginOutcome, LoginRequest, NewToken, NewUser,
    SessionRecord, TokenState, UserRow, DEVICE_MAX_AGE_SECS, LOCK_WINDOW_SECS, MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_DEVICE, MAX_FAILURES_PER_IP, MAX_FAILURES_PER_USER, TOKEN_LABEL_MAX,
};
pub use audit::{AuditEntry, AuditQuery};
pub use common::principal::system_principal;
pub use common::store::{
    database_errors, now_text, Engine, Page, PoolStatus, ReferenceData, Result, Store, StoreError,
};
pub use competency::{
    parse_requirement_target, requirement_target_code, Assessment, AssessmentAccess, AssessmentExportRow,
    CompetencyStanding, FrameworkVersion, GapQuery, GapReport, SupervisorInfo, WorkerGaps, ASSESSMENT_EXPORT_COLUMNS,
    FRAMEWORK_SYSTEM_LOADER,
};
pub use demo::{DemoSummary, DEMO_ACCOUNTS, DEMO_PASSWORD};
pub use imports::{
    sha256_hex, DupDecision, DupTarget, DuplicateFound, ImportFileMeta, ImportOptions, ImportRecord, ImportReport,
    ImportSummary, RejectedRow, ReportLimits, SavedMapping, WorkerImportOptions, BLOOM_AFTER_ROWS, BLOOM_BYTES,
    DEFERRED_IMPORT_INDEXES, DEFER_INDEXES_AFTER, EXPORT_COLUMNS, IMPORT_KINDS, MAPPING_NAME_MAX, READ_BATCH,
    SQLITE_IMPORT_CACHE_KIB, STORED_REPORT_LIMIT,
};
pub use licensing::{
    Licence, LicenceActionRow, LicenceDetail, LicenceQuery, PublicLicence, LICENCE_EXPORT_COLUMNS, REGISTER_LIMIT,
};
pub use organizations::{OrgQuery, OrgRow, ORG_COLUMNS};
pub use planning::population::{PopulationRow, POPULATION_COLUMNS};
pub use training::{
    Certificate, CertificateQuery, CertificateRow, Course, EligibleWorker, EventQuery, GroupProgress, Institution,
    Participant, Programme, ProgressQuery, ProgressReport, PublicCertificate, Recognition, TargetInput, TrainingEvent,
    TrainingTarget, Transcript, TranscriptEntry, CERTIFICATE_EXPORT_COLUMNS, ELIGIBLE_LIMIT, EVENT_EXPORT_COLUMNS,
    TRANSCRIPT_EXPORT_COLUMNS,
};
pub use units::{bundled_cambodia_units, load_admin_dir, AdminUnitQuery};
pub use workers::{
    search_rank_sql, TallyCompaction, WorkerBrief, WorkerChange, WorkerProfile, WorkerQuery, WorkerRow, COUNT_LIMIT,
    DEDUP_KEYS_FINGERPRINT_KEY, SEARCH_KEY_VERSION_KEY, SEARCH_WINDOWS,
};
