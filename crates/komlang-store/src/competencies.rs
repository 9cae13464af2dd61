//! The national competency framework as versioned reference data, the levels each cadre and
//! role requires, workers' supervisors, competency assessments (audited), and the gaps and
//! training needs computed from them.
//!
//! Who sees an assessment: the assessed worker (their `worker` account), their supervisor (an
//! account set on the worker, [`Store::set_worker_supervisor`]) and every account whose scope
//! includes the worker ([`Store::get_worker`] answers the worker). Nobody else: for them a
//! worker's assessments, gaps and the assessments themselves do not exist (404).
//!
//! Who records one: the worker themself, a self-assessment only; the supervisor and accounts
//! that may change the worker's record, supervisor and training assessments. The same rule
//! governs changing and deleting an assessment (a national administrator may also delete any).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use komlang_core::competency::{
    bundled, check_framework, compare_self_supervisor, competency_scores, default_requirements, latest_by_competency,
    required_levels, validate_assessment, AggregateCell, AssessmentDraft, AssessmentInput, AssessmentKind,
    CompetencyScore, Framework, Gap, IndicatorRating, RatedIndicator, Rating, RatingDifference, RequiredLevel,
    RequirementFor,
};
use komlang_core::*;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::audit::record_audit;
use crate::sql::{engine_of, Sql};
use crate::users::system_principal;
use crate::workers::{push_attribute_filters, push_worker_scope, AttributeFilter};
use crate::{now_text, Result, Store, StoreError};

/// Name recorded as the loader of the framework shipped with Komlang.
pub const FRAMEWORK_SYSTEM_LOADER: &str = "komlang";

/// A version of the competency framework as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FrameworkVersion {
    pub version: String,
    pub title_en: String,
    pub title_km: String,
    pub competencies: i64,
    pub indicators: i64,
    /// RFC 3339, UTC.
    pub loaded_at: String,
    pub loaded_by: String,
    /// The version new assessments use.
    pub current: bool,
}

/// A worker's supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SupervisorInfo {
    pub user_id: i64,
    pub username: String,
    pub role: UserRole,
    pub set_at: String,
    pub set_by: String,
}

/// What an assessment page shows of the assessed worker (also to a supervisor whose scope does
/// not include the worker's record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WorkerBrief {
    pub id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub sex: Sex,
    pub cadre: Cadre,
    pub role: WorkerRole,
    pub sector: Sector,
    pub workplace_code: String,
}

/// What the caller may do with one worker's assessments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentAccess {
    pub worker: WorkerBrief,
    /// The worker's record is in the caller's scope.
    pub in_scope: bool,
    /// The caller is the worker's supervisor.
    pub supervisor: bool,
    /// The caller is the worker (their `worker` account).
    pub is_self: bool,
    /// The caller may change the worker's record (and so set the supervisor).
    pub writes_worker: bool,
}

impl AssessmentAccess {
    /// The kinds of assessment the caller may record (and change) for this worker.
    pub fn kinds(&self) -> Vec<AssessmentKind> {
        let mut out = Vec::new();
        if self.is_self {
            out.push(AssessmentKind::SelfAssessment);
        }
        if self.supervisor || self.writes_worker {
            out.extend([AssessmentKind::Supervisor, AssessmentKind::Training]);
        }
        out
    }

    pub fn may_record(&self, kind: AssessmentKind) -> bool {
        self.kinds().contains(&kind)
    }
}

/// An assessment with its ratings and the scores of the competencies it rates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Assessment {
    pub id: i64,
    pub worker_id: i64,
    /// The framework version its indicator codes belong to.
    pub framework_version: String,
    pub kind: AssessmentKind,
    #[schema(value_type = String, format = Date)]
    pub assessed_on: NaiveDate,
    pub assessor: String,
    pub notes: Option<String>,
    /// The account that recorded it.
    pub recorded_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// Rated indicators, in framework order.
    pub ratings: Vec<RatedIndicator>,
    /// The competencies with at least one rated indicator, in framework order.
    pub scores: Vec<CompetencyScore>,
}

impl Assessment {
    pub fn plain_ratings(&self) -> Vec<IndicatorRating> {
        self.ratings.iter().map(RatedIndicator::plain).collect()
    }
}

/// One competency of a worker's gap report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CompetencyStanding {
    pub area_code: String,
    pub competency_code: String,
    /// The level the worker's cadre and role require (the higher of the two); none when neither sets one.
    pub required: Option<Rating>,
    /// The latest score: from the most recent assessment (any kind) that rates this competency.
    pub latest: Option<Rating>,
    /// That assessment.
    pub latest_assessment_id: Option<i64>,
    #[schema(value_type = Option<String>, format = Date)]
    pub latest_on: Option<NaiveDate>,
    pub self_score: Option<Rating>,
    pub supervisor_score: Option<Rating>,
    pub training_score: Option<Rating>,
    /// `latest` is below `required`.
    pub gap: bool,
}

/// A worker's competencies against the levels required of them (in one framework version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WorkerGaps {
    pub worker_id: i64,
    pub framework_version: String,
    pub cadre: Cadre,
    pub role: WorkerRole,
    /// The worker's assessments in this version.
    pub assessments: u32,
    /// The most recent assessment of each kind in this version.
    pub latest_self_id: Option<i64>,
    pub latest_supervisor_id: Option<i64>,
    pub latest_training_id: Option<i64>,
    /// Competencies whose latest score is below the required level.
    pub gaps: Vec<Gap>,
    /// Competencies the worker's latest self-assessment scores and the supervisor's latest
    /// scores differ in.
    pub self_supervisor_differences: Vec<RatingDifference>,
    /// Every competency of the version.
    pub competencies: Vec<CompetencyStanding>,
}

/// Which workers and assessments an aggregate counts. Empty fields mean "no filter".
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GapQuery {
    /// Framework version; the current one when absent.
    pub version: Option<String>,
    pub province: Option<String>,
    pub district: Option<String>,
    pub cadre: Option<Cadre>,
    pub role: Option<WorkerRole>,
    pub sector: Option<Sector>,
    pub sex: Option<Sex>,
    pub status: Option<EmploymentStatus>,
    pub org_id: Option<i64>,
    /// Count only assessments of this kind (each worker's latest of that kind).
    pub kind: Option<AssessmentKind>,
    /// The caller's team: the workers they supervise, instead of the workers in their scope.
    pub team: bool,
}

/// The area x competency table of a scope: per competency, the workers assessed and below the
/// required level (each worker's latest assessment in the version counts).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GapReport {
    pub framework_version: String,
    /// Workers with an assessment counted.
    pub workers_assessed: u32,
    pub cells: Vec<AggregateCell>,
}

/// One rating of one assessment, with the worker it is about, for exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentExportRow {
    pub assessment_id: i64,
    pub worker_id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub sex: String,
    pub cadre: String,
    pub role: String,
    pub sector: String,
    pub province_code: Option<String>,
    pub district_code: Option<String>,
    pub workplace_code: String,
    pub framework_version: String,
    pub kind: String,
    pub assessed_on: String,
    pub assessor: String,
    pub recorded_by: String,
    pub indicator_code: String,
    pub rating: i64,
    pub evidence: Option<String>,
}

/// Columns of the assessments export (one row per rating).
pub const ASSESSMENT_EXPORT_COLUMNS: &[&str] = &[
    "assessment_id",
    "worker_id",
    "name_km",
    "name_latin",
    "sex",
    "cadre",
    "role",
    "sector",
    "province_code",
    "district_code",
    "workplace_code",
    "framework_version",
    "kind",
    "assessed_on",
    "assessor",
    "recorded_by",
    "area_code",
    "competency_code",
    "indicator_code",
    "rating",
    "evidence",
];

pub(crate) fn parse_col<T>(r: &AnyRow, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let s: String = r.try_get(col)?;
    parse(&s).ok_or_else(|| StoreError::Corrupt(format!("{col} = {s}")))
}

pub(crate) fn date_col(r: &AnyRow, col: &str) -> Result<NaiveDate> {
    let s: String = r.try_get(col)?;
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| StoreError::Corrupt(format!("{col} = {s}")))
}

fn applies_parts(a: RequirementFor) -> (&'static str, &'static str) {
    match a {
        RequirementFor::Cadre(c) => ("cadre", c.code()),
        RequirementFor::Role(r) => ("role", r.code()),
    }
}

/// `cadre:para_social_worker` / `role:ccwc_focal_point`.
pub fn requirement_target_code(a: RequirementFor) -> String {
    let (k, c) = applies_parts(a);
    format!("{k}:{c}")
}

/// The target of a `cadre:…` / `role:…` code.
pub fn parse_requirement_target(s: &str) -> Option<RequirementFor> {
    let (kind, code) = s.trim().split_once(':')?;
    match kind {
        "cadre" => Cadre::parse(code).map(RequirementFor::Cadre),
        "role" => WorkerRole::parse(code).map(RequirementFor::Role),
        _ => None,
    }
}

fn unique_to_conflict(e: sqlx::Error, message: String) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Conflict(message);
        }
    }
    StoreError::Db(e)
}

const ASSESSMENT_COLS: &str = "a.id, a.worker_id, a.framework_version, a.kind, a.assessed_on, a.assessor, a.notes, \
     a.recorded_by, a.created_at, a.updated_at";

pub(crate) const BRIEF_COLS: &str = "w.id, w.name_km, w.name_latin, w.sex, w.cadre, w.role, w.sector, w.workplace_code";

pub(crate) fn brief_from_row(r: &AnyRow) -> Result<WorkerBrief> {
    Ok(WorkerBrief {
        id: r.try_get("id")?,
        name_km: r.try_get("name_km")?,
        name_latin: r.try_get("name_latin")?,
        sex: parse_col(r, "sex", Sex::parse)?,
        cadre: parse_col(r, "cadre", Cadre::parse)?,
        role: parse_col(r, "role", WorkerRole::parse)?,
        sector: parse_col(r, "sector", Sector::parse)?,
        workplace_code: r.try_get("workplace_code")?,
    })
}

/// An assessment as the audit log keeps it: one field per rating and evidence note, so that
/// the log shows exactly what changed.
fn audited(worker_id: i64, d: &AssessmentDraft, assessor: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("worker_id".into(), worker_id.into());
    m.insert("framework_version".into(), d.framework_version.clone().into());
    m.insert("kind".into(), d.kind.code().into());
    m.insert("assessed_on".into(), d.assessed_on.to_string().into());
    m.insert("assessor".into(), assessor.into());
    m.insert("notes".into(), d.notes.clone().map(Into::into).unwrap_or(serde_json::Value::Null));
    for r in &d.ratings {
        m.insert(format!("rating.{}", r.indicator_code), r.rating.value().into());
        if let Some(e) = &r.evidence {
            m.insert(format!("evidence.{}", r.indicator_code), e.clone().into());
        }
    }
    m
}

fn draft_of(a: &Assessment) -> AssessmentDraft {
    AssessmentDraft {
        kind: a.kind,
        assessed_on: a.assessed_on,
        assessor: Some(a.assessor.clone()),
        notes: a.notes.clone(),
        framework_version: a.framework_version.clone(),
        ratings: a.ratings.clone(),
    }
}

/// Writes the ratings of an assessment (multi-row inserts), each with its indicator's
/// competency in `fw`, the assessment's framework version.
pub(crate) async fn insert_ratings(
    conn: &mut AnyConnection,
    fw: &Framework,
    assessment_id: i64,
    ratings: &[RatedIndicator],
) -> Result<()> {
    let engine = engine_of(conn);
    let competency_of: HashMap<&str, &str> =
        fw.indicators().map(|(_, c, i)| (i.code.as_str(), c.code.as_str())).collect();
    for chunk in ratings.chunks(200) {
        let mut sql = Sql::for_engine(
            "INSERT INTO competency_ratings (assessment_id, indicator_code, competency_code, rating, evidence) VALUES ",
            engine,
        );
        for (n, r) in chunk.iter().enumerate() {
            if n > 0 {
                sql.push(", ");
            }
            let competency = competency_of.get(r.indicator_code.as_str()).ok_or_else(|| {
                StoreError::Corrupt(format!("indicator {} is not in {}", r.indicator_code, fw.version))
            })?;
            sql.push("(")
                .int(assessment_id)
                .push(", ")
                .text(r.indicator_code.clone())
                .push(", ")
                .text(*competency)
                .push(", ")
                .int(i64::from(r.rating.value()))
                .push(", ")
                .opt_text(r.evidence.clone())
                .push(")");
        }
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Inserts an assessment row and its ratings (`fw`: the draft's framework version); returns its id.
pub(crate) async fn insert_assessment(
    conn: &mut AnyConnection,
    fw: &Framework,
    worker_id: i64,
    d: &AssessmentDraft,
    assessor: &str,
    recorded_by: (Option<i64>, &str),
    now: &str,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO competency_assessments (worker_id, framework_version, kind, assessed_on, assessor, notes, \
         recorded_by_user_id, recorded_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         RETURNING id",
    )
    .bind(worker_id)
    .bind(&d.framework_version)
    .bind(d.kind.code())
    .bind(d.assessed_on.to_string())
    .bind(assessor)
    .bind(&d.notes)
    .bind(recorded_by.0)
    .bind(recorded_by.1)
    .bind(now)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let id: i64 = row.try_get(0)?;
    insert_ratings(conn, fw, id, &d.ratings).await?;
    Ok(id)
}

/// Writes a framework version (and its required levels); makes it current when asked.
async fn insert_framework(
    conn: &mut AnyConnection,
    fw: &Framework,
    loaded_by: &str,
    make_current: bool,
    requirements: &[RequiredLevel],
) -> Result<()> {
    let json = serde_json::to_string(fw).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if make_current {
        sqlx::query("UPDATE competency_frameworks SET is_current = 0 WHERE is_current = 1").execute(&mut *conn).await?;
    }
    sqlx::query(
        "INSERT INTO competency_frameworks (version, title_en, title_km, framework_json, competency_count, \
         indicator_count, loaded_at, loaded_by, is_current) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&fw.version)
    .bind(&fw.title_en)
    .bind(&fw.title_km)
    .bind(json)
    .bind(fw.competency_count() as i64)
    .bind(fw.indicator_count() as i64)
    .bind(now_text())
    .bind(loaded_by)
    .bind(i64::from(make_current))
    .execute(&mut *conn)
    .await
    .map_err(|e| unique_to_conflict(e, format!("framework version {} is already loaded", fw.version)))?;
    write_requirements(conn, &fw.version, requirements).await
}

async fn write_requirements(conn: &mut AnyConnection, version: &str, reqs: &[RequiredLevel]) -> Result<()> {
    let engine = engine_of(conn);
    for chunk in reqs.chunks(200) {
        let mut sql = Sql::for_engine(
            "INSERT INTO competency_requirements (framework_version, applies_kind, applies_code, competency_code, \
             level) VALUES ",
            engine,
        );
        for (n, r) in chunk.iter().enumerate() {
            if n > 0 {
                sql.push(", ");
            }
            let (kind, code) = applies_parts(r.applies_to);
            sql.push("(")
                .text(version)
                .push(", ")
                .text(kind)
                .push(", ")
                .text(code)
                .push(", ")
                .text(r.competency_code.clone())
                .push(", ")
                .int(i64::from(r.level.value()))
                .push(")");
        }
        sql.query().execute(&mut *conn).await?;
    }
    Ok(())
}

fn version_from_row(r: &AnyRow) -> Result<FrameworkVersion> {
    Ok(FrameworkVersion {
        version: r.try_get("version")?,
        title_en: r.try_get("title_en")?,
        title_km: r.try_get("title_km")?,
        competencies: r.try_get("competency_count")?,
        indicators: r.try_get("indicator_count")?,
        loaded_at: r.try_get("loaded_at")?,
        loaded_by: r.try_get("loaded_by")?,
        current: r.try_get::<i64, _>("is_current")? != 0,
    })
}

#[derive(Serialize)]
struct AuditedFramework<'a> {
    version: &'a str,
    title_en: &'a str,
    title_km: &'a str,
    competencies: usize,
    indicators: usize,
    required_levels: usize,
}

impl Store {
    // ------------------------------------------------------------------------------------------
    // The framework
    // ------------------------------------------------------------------------------------------

    /// Loads the framework shipped with Komlang, with the default required levels, when the
    /// database has no framework yet. True when it was loaded. Safe to call from several servers.
    pub async fn ensure_competency_framework(&self) -> Result<bool> {
        let n: i64 =
            sqlx::query("SELECT COUNT(*) FROM competency_frameworks").fetch_one(&self.pool).await?.try_get(0)?;
        if n > 0 {
            return Ok(false);
        }
        let fw = bundled();
        let reqs = default_requirements(&fw);
        let mut tx = self.pool.begin().await?;
        match insert_framework(&mut tx, &fw, FRAMEWORK_SYSTEM_LOADER, true, &reqs).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(false),
            Err(e) => return Err(e),
        }
        let after = AuditedFramework {
            version: &fw.version,
            title_en: &fw.title_en,
            title_km: &fw.title_km,
            competencies: fw.competency_count(),
            indicators: fw.indicator_count(),
            required_levels: reqs.len(),
        };
        let p = system_principal(FRAMEWORK_SYSTEM_LOADER);
        record_audit(&mut tx, &p, "import", "competency_framework", &fw.version, None, Some(&after)).await?;
        match tx.commit().await {
            Ok(()) => Ok(true),
            Err(e) => match unique_to_conflict(e, String::new()) {
                StoreError::Conflict(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    /// Loads a revised framework version (national administrators) and makes it current.
    /// The required levels of the previous current version carry over for the competency codes
    /// the new version keeps. Assessments keep pointing to the version they were made against.
    pub async fn load_competency_framework(&self, p: &Principal, fw: &Framework) -> Result<FrameworkVersion> {
        if !p.can(Permission::ManageUsers) {
            return Err(StoreError::Forbidden);
        }
        let problems = check_framework(fw);
        if !problems.is_empty() {
            let text = problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; ");
            return Err(StoreError::Conflict(format!("the framework is not valid: {text}")));
        }
        self.ensure_competency_framework().await?;
        let previous = self.current_framework_version().await?;
        let mut reqs = match &previous {
            Some(v) => self.competency_requirements(&v.version).await?,
            None => default_requirements(fw),
        };
        reqs.retain(|r| fw.competency(&r.competency_code).is_some());
        let mut tx = self.pool.begin().await?;
        insert_framework(&mut tx, fw, &p.username, true, &reqs).await?;
        let after = AuditedFramework {
            version: &fw.version,
            title_en: &fw.title_en,
            title_km: &fw.title_km,
            competencies: fw.competency_count(),
            indicators: fw.indicator_count(),
            required_levels: reqs.len(),
        };
        record_audit(&mut tx, p, "import", "competency_framework", &fw.version, None, Some(&after)).await?;
        tx.commit().await?;
        self.framework_versions().await?.into_iter().find(|v| v.version == fw.version).ok_or(StoreError::NotFound)
    }

    /// Every framework version, the current one first, then the newest loaded.
    pub async fn framework_versions(&self) -> Result<Vec<FrameworkVersion>> {
        self.ensure_competency_framework().await?;
        let rows = sqlx::query(
            "SELECT version, title_en, title_km, competency_count, indicator_count, loaded_at, loaded_by, is_current \
             FROM competency_frameworks ORDER BY is_current DESC, id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(version_from_row).collect()
    }

    async fn current_framework_version(&self) -> Result<Option<FrameworkVersion>> {
        let row = sqlx::query(
            "SELECT version, title_en, title_km, competency_count, indicator_count, loaded_at, loaded_by, is_current \
             FROM competency_frameworks WHERE is_current = 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(version_from_row).transpose()
    }

    /// The current framework (the bundled one is loaded first when there is none).
    pub async fn current_framework(&self) -> Result<Framework> {
        let read = || async {
            let row = sqlx::query("SELECT framework_json FROM competency_frameworks WHERE is_current = 1")
                .fetch_optional(&self.pool)
                .await?;
            row.map(|r| r.try_get::<String, _>(0)).transpose().map_err(StoreError::from)
        };
        let json = match read().await? {
            Some(j) => j,
            None => {
                self.ensure_competency_framework().await?;
                read().await?.ok_or_else(|| StoreError::Corrupt("no current competency framework".into()))?
            }
        };
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("stored competency framework: {e}")))
    }

    /// One framework version; `None` when there is no such version.
    pub async fn framework(&self, version: &str) -> Result<Option<Framework>> {
        self.ensure_competency_framework().await?;
        let row = sqlx::query("SELECT framework_json FROM competency_frameworks WHERE version = $1")
            .bind(version)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            None => Ok(None),
            Some(r) => {
                let json: String = r.try_get(0)?;
                serde_json::from_str(&json)
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt(format!("stored competency framework {version}: {e}")))
            }
        }
    }

    /// The named version, or the current one.
    pub async fn framework_or_current(&self, version: Option<&str>) -> Result<Option<Framework>> {
        match version.map(str::trim).filter(|v| !v.is_empty()) {
            Some(v) => self.framework(v).await,
            None => self.current_framework().await.map(Some),
        }
    }

    // ------------------------------------------------------------------------------------------
    // Required levels
    // ------------------------------------------------------------------------------------------

    /// Every required level set for a framework version.
    pub async fn competency_requirements(&self, version: &str) -> Result<Vec<RequiredLevel>> {
        let rows = sqlx::query(
            "SELECT applies_kind, applies_code, competency_code, level FROM competency_requirements \
             WHERE framework_version = $1 ORDER BY applies_kind, applies_code, competency_code",
        )
        .bind(version)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("applies_kind")?;
                let code: String = r.try_get("applies_code")?;
                let applies_to = parse_requirement_target(&format!("{kind}:{code}"))
                    .ok_or_else(|| StoreError::Corrupt(format!("requirement for {kind}:{code}")))?;
                let level: i64 = r.try_get("level")?;
                Ok(RequiredLevel {
                    applies_to,
                    competency_code: r.try_get("competency_code")?,
                    level: Rating::from_value(level).ok_or_else(|| StoreError::Corrupt(format!("level {level}")))?,
                })
            })
            .collect()
    }

    /// Replaces the levels one cadre or role requires in a framework version (national
    /// administrators): `levels` maps competency codes to a level; competencies left out
    /// require nothing. Audited with the levels before and after.
    pub async fn set_competency_requirements(
        &self,
        p: &Principal,
        version: &str,
        applies_to: RequirementFor,
        levels: &BTreeMap<String, Rating>,
    ) -> Result<()> {
        if !p.can(Permission::ManageUsers) {
            return Err(StoreError::Forbidden);
        }
        let fw = self.framework(version).await?.ok_or(StoreError::NotFound)?;
        let mut errs = ValidationErrors::default();
        for code in levels.keys() {
            if fw.competency(code).is_none() {
                errs.push(FieldError::new(&format!("level.{code}"), "unknown_competency").with("version", &fw.version));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let before: BTreeMap<String, u8> = self
            .competency_requirements(version)
            .await?
            .into_iter()
            .filter(|r| r.applies_to == applies_to)
            .map(|r| (r.competency_code, r.level.value()))
            .collect();
        let after: BTreeMap<String, u8> = levels.iter().map(|(k, v)| (k.clone(), v.value())).collect();
        if before == after {
            return Ok(());
        }
        let (kind, code) = applies_parts(applies_to);
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "DELETE FROM competency_requirements WHERE framework_version = $1 AND applies_kind = $2 \
             AND applies_code = $3",
        )
        .bind(version)
        .bind(kind)
        .bind(code)
        .execute(&mut *tx)
        .await?;
        let reqs: Vec<RequiredLevel> =
            levels.iter().map(|(c, l)| RequiredLevel { applies_to, competency_code: c.clone(), level: *l }).collect();
        write_requirements(&mut tx, version, &reqs).await?;
        let id = format!("{version}/{kind}:{code}");
        record_audit(&mut tx, p, "update", "competency_requirement", &id, Some(&before), Some(&after)).await?;
        tx.commit().await?;
        Ok(())
    }

    // ------------------------------------------------------------------------------------------
    // Supervisors and access
    // ------------------------------------------------------------------------------------------

    async fn supervisor_row(&self, worker_id: i64) -> Result<Option<SupervisorInfo>> {
        let row = sqlx::query(
            "SELECT s.supervisor_user_id, u.username, u.role, s.set_at, s.set_by FROM worker_supervisors s \
             JOIN users u ON u.id = s.supervisor_user_id WHERE s.worker_id = $1",
        )
        .bind(worker_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SupervisorInfo {
                user_id: r.try_get("supervisor_user_id")?,
                username: r.try_get("username")?,
                role: parse_col(&r, "role", UserRole::parse)?,
                set_at: r.try_get("set_at")?,
                set_by: r.try_get("set_by")?,
            })
        })
        .transpose()
    }

    /// What the caller may do with a worker's assessments; `None` when they may not see them.
    pub async fn assessment_access(&self, p: &Principal, worker_id: i64) -> Result<Option<AssessmentAccess>> {
        let scoped = self.get_worker(p, worker_id).await?;
        let supervisor = p.user_id > 0
            && sqlx::query("SELECT 1 FROM worker_supervisors WHERE worker_id = $1 AND supervisor_user_id = $2")
                .bind(worker_id)
                .bind(p.user_id)
                .fetch_optional(&self.pool)
                .await?
                .is_some();
        let worker = match &scoped {
            Some(w) => WorkerBrief {
                id: w.id,
                name_km: w.name_km.clone(),
                name_latin: w.name_latin.clone(),
                sex: w.sex,
                cadre: w.cadre,
                role: w.role,
                sector: w.sector,
                workplace_code: w.workplace_code.clone(),
            },
            None if supervisor => {
                let row = sqlx::query(&format!("SELECT {BRIEF_COLS} FROM workers w WHERE w.id = $1"))
                    .bind(worker_id)
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    Some(r) => brief_from_row(&r)?,
                    None => return Ok(None),
                }
            }
            None => return Ok(None),
        };
        let in_scope = scoped.is_some();
        Ok(Some(AssessmentAccess {
            worker,
            in_scope,
            supervisor,
            is_self: p.role == UserRole::Worker && p.worker_id == Some(worker_id),
            writes_worker: in_scope && p.can(Permission::WriteWorkers) && !p.self_service_only(),
        }))
    }

    /// The worker's supervisor, for those who may see the worker's assessments.
    pub async fn worker_supervisor(&self, p: &Principal, worker_id: i64) -> Result<Option<SupervisorInfo>> {
        if self.assessment_access(p, worker_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        self.supervisor_row(worker_id).await
    }

    /// Sets (a username) or removes (`None` or empty) a worker's supervisor. Needs the right to
    /// change the worker's record; the supervisor must be an active account other than the
    /// worker's own. Audited.
    pub async fn set_worker_supervisor(
        &self,
        p: &Principal,
        worker_id: i64,
        username: Option<&str>,
    ) -> Result<Option<SupervisorInfo>> {
        if self.get_worker(p, worker_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        if !p.can(Permission::WriteWorkers) || p.self_service_only() {
            return Err(StoreError::Forbidden);
        }
        let username = username.map(str::trim).filter(|u| !u.is_empty());
        let user = match username {
            None => None,
            Some(name) => {
                let u = self.user_by_name(name).await?.filter(|u| u.active);
                let Some(u) = u else {
                    return Err(StoreError::Invalid(ValidationErrors::single(
                        FieldError::new("supervisor", "unknown_user").with("value", name),
                    )));
                };
                if u.worker_id == Some(worker_id) {
                    return Err(StoreError::Invalid(ValidationErrors::single(FieldError::new(
                        "supervisor",
                        "self_supervision",
                    ))));
                }
                Some(u)
            }
        };
        let before = self.supervisor_row(worker_id).await?;
        if before.as_ref().map(|s| s.user_id) == user.as_ref().map(|u| u.id) {
            return Ok(before);
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM worker_supervisors WHERE worker_id = $1").bind(worker_id).execute(&mut *tx).await?;
        if let Some(u) = &user {
            sqlx::query(
                "INSERT INTO worker_supervisors (worker_id, supervisor_user_id, set_at, set_by) VALUES ($1, $2, $3, $4)",
            )
            .bind(worker_id)
            .bind(u.id)
            .bind(now_text())
            .bind(&p.username)
            .execute(&mut *tx)
            .await?;
        }
        let field = |name: Option<String>| {
            let mut m = serde_json::Map::new();
            m.insert("supervisor".into(), name.map(Into::into).unwrap_or(serde_json::Value::Null));
            m
        };
        let (b, a) = (field(before.map(|s| s.username)), field(user.map(|u| u.username)));
        record_audit(&mut tx, p, "update", "worker_supervisor", &worker_id.to_string(), Some(&b), Some(&a)).await?;
        tx.commit().await?;
        self.supervisor_row(worker_id).await
    }

    /// Ids of the workers an account supervises.
    pub async fn supervised_worker_ids(&self, p: &Principal) -> Result<Vec<i64>> {
        let rows =
            sqlx::query("SELECT worker_id FROM worker_supervisors WHERE supervisor_user_id = $1 ORDER BY worker_id")
                .bind(p.user_id)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
    }

    /// The workers an account supervises (their brief records), by Latin name.
    pub async fn supervised_workers(&self, p: &Principal) -> Result<Vec<WorkerBrief>> {
        let rows = sqlx::query(&format!(
            "SELECT {BRIEF_COLS} FROM workers w JOIN worker_supervisors s ON s.worker_id = w.id \
             WHERE s.supervisor_user_id = $1 ORDER BY w.name_latin, w.id"
        ))
        .bind(p.user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(brief_from_row).collect()
    }

    // ------------------------------------------------------------------------------------------
    // Assessments
    // ------------------------------------------------------------------------------------------

    /// Reads assessments (with their ratings) matching a `WHERE` clause over `competency_assessments a`.
    async fn read_assessments(&self, filter: &str, id: i64) -> Result<Vec<Assessment>> {
        let rows = sqlx::query(&format!(
            "SELECT {ASSESSMENT_COLS} FROM competency_assessments a WHERE {filter} ORDER BY a.assessed_on, a.id"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let ratings = sqlx::query(&format!(
            "SELECT r.assessment_id, r.indicator_code, r.rating, r.evidence FROM competency_ratings r \
             JOIN competency_assessments a ON a.id = r.assessment_id WHERE {filter}"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let mut by_assessment: HashMap<i64, Vec<RatedIndicator>> = HashMap::new();
        for r in &ratings {
            let value: i64 = r.try_get("rating")?;
            by_assessment.entry(r.try_get("assessment_id")?).or_default().push(RatedIndicator {
                indicator_code: r.try_get("indicator_code")?,
                rating: Rating::from_value(value).ok_or_else(|| StoreError::Corrupt(format!("rating {value}")))?,
                evidence: r.try_get("evidence")?,
            });
        }
        let mut frameworks: HashMap<String, Framework> = HashMap::new();
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let version: String = r.try_get("framework_version")?;
            if !frameworks.contains_key(&version) {
                let fw = self
                    .framework(&version)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt(format!("assessment {id}: no framework {version}")))?;
                frameworks.insert(version.clone(), fw);
            }
            let fw = &frameworks[&version];
            let order: HashMap<&str, usize> =
                fw.indicators().enumerate().map(|(n, (_, _, i))| (i.code.as_str(), n)).collect();
            let mut ratings = by_assessment.remove(&id).unwrap_or_default();
            ratings.sort_by_key(|x| order.get(x.indicator_code.as_str()).copied().unwrap_or(usize::MAX));
            let plain: Vec<_> = ratings.iter().map(RatedIndicator::plain).collect();
            let scores = competency_scores(fw, &plain).into_iter().filter(|s| s.rated > 0).collect();
            out.push(Assessment {
                id,
                worker_id: r.try_get("worker_id")?,
                framework_version: version,
                kind: parse_col(r, "kind", AssessmentKind::parse)?,
                assessed_on: date_col(r, "assessed_on")?,
                assessor: r.try_get("assessor")?,
                notes: r.try_get("notes")?,
                recorded_by: r.try_get("recorded_by")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
                ratings,
                scores,
            });
        }
        Ok(out)
    }

    /// A worker's assessments, oldest first (404 for those who may not see them).
    pub async fn list_assessments(&self, p: &Principal, worker_id: i64) -> Result<Vec<Assessment>> {
        if self.assessment_access(p, worker_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        self.read_assessments("a.worker_id = $1", worker_id).await
    }

    /// One assessment, when the caller may see it.
    pub async fn get_assessment(&self, p: &Principal, id: i64) -> Result<Option<Assessment>> {
        let Some(a) = self.read_assessments("a.id = $1", id).await?.pop() else { return Ok(None) };
        if self.assessment_access(p, a.worker_id).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(a))
    }

    /// Validates an assessment for a worker: the framework version exists, the fields are
    /// right and the caller may record this kind.
    async fn check_assessment(
        &self,
        access: &AssessmentAccess,
        input: &AssessmentInput,
        fixed_version: Option<&str>,
        today: NaiveDate,
    ) -> Result<(AssessmentDraft, Framework)> {
        let asked = input.framework_version.as_deref().map(str::trim).filter(|v| !v.is_empty());
        let mut pre = ValidationErrors::default();
        if let (Some(fixed), Some(asked)) = (fixed_version, asked) {
            if fixed != asked {
                pre.push(FieldError::new("framework_version", "version_fixed").with("version", fixed));
            }
        }
        let fw = match self.framework_or_current(fixed_version.or(asked)).await? {
            Some(fw) => fw,
            None => {
                let v = asked.unwrap_or_default();
                return Err(StoreError::Invalid(ValidationErrors::single(
                    FieldError::new("framework_version", "unknown_framework_version").with("value", v),
                )));
            }
        };
        if let Some(kind) = input.kind.as_deref().and_then(AssessmentKind::parse) {
            if !access.may_record(kind) {
                pre.push(FieldError::new("kind", "kind_not_allowed").with("kind", kind.code()));
            }
        }
        match validate_assessment(&fw, input, today) {
            Ok(d) if pre.is_empty() => Ok((d, fw)),
            Ok(_) => Err(StoreError::Invalid(pre)),
            Err(mut errs) => {
                errs.errors.extend(pre.errors);
                Err(StoreError::Invalid(errs))
            }
        }
    }

    /// Records an assessment of a worker. 404 when the caller may not see the worker's
    /// assessments, 403 when they may record none, 422 with one error per field otherwise.
    pub async fn create_assessment(
        &self,
        p: &Principal,
        worker_id: i64,
        input: &AssessmentInput,
        today: NaiveDate,
    ) -> Result<Assessment> {
        let access = self.assessment_access(p, worker_id).await?.ok_or(StoreError::NotFound)?;
        if access.kinds().is_empty() {
            return Err(StoreError::Forbidden);
        }
        let (d, fw) = self.check_assessment(&access, input, None, today).await?;
        let assessor = d.assessor.clone().unwrap_or_else(|| p.username.clone());
        let mut tx = self.pool.begin().await?;
        let uid = (p.user_id > 0).then_some(p.user_id);
        let id = insert_assessment(&mut tx, &fw, worker_id, &d, &assessor, (uid, &p.username), &now_text()).await?;
        let after = audited(worker_id, &d, &assessor);
        record_audit(&mut tx, p, "create", "competency_assessment", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.get_assessment(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// Replaces an assessment's fields and ratings (its framework version stays). The caller
    /// must be allowed to record both its kind and the new kind.
    pub async fn update_assessment(
        &self,
        p: &Principal,
        id: i64,
        input: &AssessmentInput,
        today: NaiveDate,
    ) -> Result<Assessment> {
        let existing = self.get_assessment(p, id).await?.ok_or(StoreError::NotFound)?;
        let access = self.assessment_access(p, existing.worker_id).await?.ok_or(StoreError::NotFound)?;
        if !access.may_record(existing.kind) {
            return Err(StoreError::Forbidden);
        }
        let (d, fw) = self.check_assessment(&access, input, Some(&existing.framework_version), today).await?;
        let assessor = d.assessor.clone().unwrap_or_else(|| existing.assessor.clone());
        let before = audited(existing.worker_id, &draft_of(&existing), &existing.assessor);
        let after = audited(existing.worker_id, &d, &assessor);
        if before == after {
            return Ok(existing);
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE competency_assessments SET kind = $1, assessed_on = $2, assessor = $3, notes = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(d.kind.code())
        .bind(d.assessed_on.to_string())
        .bind(&assessor)
        .bind(&d.notes)
        .bind(now_text())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM competency_ratings WHERE assessment_id = $1").bind(id).execute(&mut *tx).await?;
        insert_ratings(&mut tx, &fw, id, &d.ratings).await?;
        record_audit(&mut tx, p, "update", "competency_assessment", &id.to_string(), Some(&before), Some(&after))
            .await?;
        tx.commit().await?;
        self.get_assessment(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// Deletes an assessment entered by mistake: whoever may record its kind for the worker,
    /// or a national administrator. Audited with the whole assessment.
    pub async fn delete_assessment(&self, p: &Principal, id: i64) -> Result<()> {
        let existing = self.get_assessment(p, id).await?.ok_or(StoreError::NotFound)?;
        let access = self.assessment_access(p, existing.worker_id).await?.ok_or(StoreError::NotFound)?;
        if !access.may_record(existing.kind) && !p.can(Permission::DeleteWorkers) {
            return Err(StoreError::Forbidden);
        }
        let before = audited(existing.worker_id, &draft_of(&existing), &existing.assessor);
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM competency_ratings WHERE assessment_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM competency_assessments WHERE id = $1").bind(id).execute(&mut *tx).await?;
        record_audit(&mut tx, p, "delete", "competency_assessment", &id.to_string(), Some(&before), None).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A worker's competencies against the levels their cadre and role require, in one
    /// framework version (the current one by default). Each competency is measured on its
    /// latest score: the most recent assessment (of any kind) that rates it; likewise for the
    /// self, supervisor and training columns and the self/supervisor comparison, each within
    /// its kind.
    pub async fn worker_gaps(&self, p: &Principal, worker_id: i64, version: Option<&str>) -> Result<WorkerGaps> {
        let access = self.assessment_access(p, worker_id).await?.ok_or(StoreError::NotFound)?;
        let fw = self.framework_or_current(version).await?.ok_or(StoreError::NotFound)?;
        let reqs = self.competency_requirements(&fw.version).await?;
        let required = required_levels(&reqs, Some(access.worker.cadre), Some(access.worker.role));
        // Oldest first (by date, then as recorded), as the aggregates take them.
        let all: Vec<Assessment> = self
            .read_assessments("a.worker_id = $1", worker_id)
            .await?
            .into_iter()
            .filter(|a| a.framework_version == fw.version)
            .collect();
        let plain: Vec<Vec<IndicatorRating>> = all.iter().map(Assessment::plain_ratings).collect();
        let merged = |kind: Option<AssessmentKind>| -> (Vec<IndicatorRating>, HashMap<String, i64>) {
            let picked: Vec<usize> = (0..all.len()).filter(|&n| kind.is_none_or(|k| all[n].kind == k)).collect();
            let latest = latest_by_competency(&fw, picked.iter().map(|&n| plain[n].as_slice()));
            let mut source = HashMap::new();
            let ratings = latest
                .into_iter()
                .map(|(n, r)| {
                    if let Some(c) = fw.competency_of_indicator(&r.indicator_code) {
                        source.insert(c.code.clone(), all[picked[n]].id);
                    }
                    r
                })
                .collect();
            (ratings, source)
        };
        let scores = |ratings: &[IndicatorRating]| -> HashMap<String, Rating> {
            competency_scores(&fw, ratings).into_iter().filter_map(|s| Some((s.competency_code, s.score?))).collect()
        };
        let (latest, source) = merged(None);
        let (own, _) = merged(Some(AssessmentKind::SelfAssessment));
        let (sup, _) = merged(Some(AssessmentKind::Supervisor));
        let (training, _) = merged(Some(AssessmentKind::Training));
        let (m_latest, m_self, m_sup, m_training) = (scores(&latest), scores(&own), scores(&sup), scores(&training));
        let gaps = komlang_core::competency::gaps(&fw, &required, &latest);
        let differences = compare_self_supervisor(&fw, &own, &sup);
        let by_id: HashMap<i64, &Assessment> = all.iter().map(|a| (a.id, a)).collect();
        let competencies = fw
            .competencies()
            .map(|(area, c)| {
                let req = required.get(&c.code).copied();
                let score = m_latest.get(&c.code).copied();
                let from = source.get(&c.code).and_then(|id| by_id.get(id));
                CompetencyStanding {
                    area_code: area.code.clone(),
                    competency_code: c.code.clone(),
                    required: req,
                    latest: score,
                    latest_assessment_id: from.map(|a| a.id),
                    latest_on: from.map(|a| a.assessed_on),
                    self_score: m_self.get(&c.code).copied(),
                    supervisor_score: m_sup.get(&c.code).copied(),
                    training_score: m_training.get(&c.code).copied(),
                    gap: matches!((score, req), (Some(s), Some(r)) if s < r),
                }
            })
            .collect();
        let last_of = |k: AssessmentKind| all.iter().rev().find(|a| a.kind == k).map(|a| a.id);
        Ok(WorkerGaps {
            worker_id,
            framework_version: fw.version.clone(),
            cadre: access.worker.cadre,
            role: access.worker.role,
            assessments: all.len() as u32,
            latest_self_id: last_of(AssessmentKind::SelfAssessment),
            latest_supervisor_id: last_of(AssessmentKind::Supervisor),
            latest_training_id: last_of(AssessmentKind::Training),
            gaps,
            self_supervisor_differences: differences,
            competencies,
        })
    }

    // ------------------------------------------------------------------------------------------
    // Aggregates and exports
    // ------------------------------------------------------------------------------------------

    /// `WHERE` conditions selecting the workers an aggregate or export counts (over
    /// `workers w JOIN admin_units u`): the caller's scope (or team) and the filters.
    fn gap_population(&self, p: &Principal, q: &GapQuery, sql: &mut Sql) {
        if q.team {
            sql.push(" AND w.id IN (SELECT s.worker_id FROM worker_supervisors s WHERE s.supervisor_user_id = ")
                .int(p.user_id)
                .push(")");
        } else {
            if !p.can(Permission::ReadWorkers) {
                sql.push(" AND 1 = 0");
            }
            push_worker_scope(sql, &p.worker_scope());
        }
        push_attribute_filters(
            sql,
            &AttributeFilter {
                province: q.province.as_deref(),
                district: q.district.as_deref(),
                commune: None,
                cadre: q.cadre,
                sector: q.sector,
                status: q.status,
                role: q.role,
                sex: q.sex,
                org_id: q.org_id,
            },
        );
    }

    /// The area x competency gap table of the caller's scope (or team) with the filters of `q`.
    /// Each worker counts with their latest score in each competency: from the most recent
    /// assessment in the framework version (of the kind asked, if any) that rates it, measured
    /// against the level the worker's current cadre and role require.
    pub async fn competency_gaps(&self, p: &Principal, q: &GapQuery) -> Result<GapReport> {
        let fw = self.framework_or_current(q.version.as_deref()).await?.ok_or(StoreError::NotFound)?;
        let reqs = self.competency_requirements(&fw.version).await?;
        // Per worker and competency, the sum and count of the ratings of the latest assessment
        // that rates the competency: ratings grouped by assessment and competency, ranked by
        // date then id within each worker and competency (rank 1: the latest).
        let mut sql = Sql::new(
            "SELECT worker_id, cadre, role, competency_code, s, n FROM (SELECT a.worker_id, w.cadre, w.role, \
             r.competency_code, CAST(SUM(r.rating) AS BIGINT) AS s, COUNT(*) AS n, ROW_NUMBER() OVER \
             (PARTITION BY a.worker_id, r.competency_code ORDER BY a.assessed_on DESC, a.id DESC) AS latest \
             FROM competency_ratings r JOIN competency_assessments a ON a.id = r.assessment_id \
             JOIN workers w ON w.id = a.worker_id JOIN admin_units u ON u.code = w.workplace_code \
             WHERE a.framework_version = ",
        );
        sql.text(fw.version.clone());
        if let Some(k) = q.kind {
            sql.push(" AND a.kind = ").text(k.code());
        }
        self.gap_population(p, q, &mut sql);
        sql.push(
            " GROUP BY a.worker_id, w.cadre, w.role, r.competency_code, a.id, a.assessed_on) ranked WHERE latest = 1",
        );
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut cells: Vec<AggregateCell> = fw
            .competencies()
            .map(|(a, c)| AggregateCell {
                area_code: a.code.clone(),
                competency_code: c.code.clone(),
                assessed: 0,
                with_requirement: 0,
                below_required: 0,
                share_below: None,
            })
            .collect();
        let index: HashMap<&str, usize> =
            fw.competencies().enumerate().map(|(n, (_, c))| (c.code.as_str(), n)).collect();
        let mut levels: HashMap<(Cadre, WorkerRole), BTreeMap<String, Rating>> = HashMap::new();
        let mut workers = std::collections::BTreeSet::new();
        for r in &rows {
            let code: String = r.try_get("competency_code")?;
            let Some(&n) = index.get(code.as_str()) else { continue };
            let (sum, count): (i64, i64) = (r.try_get("s")?, r.try_get("n")?);
            let Some(score) = Rating::floor_of_mean(sum as u32, count as u32) else { continue };
            let cadre = parse_col(r, "cadre", Cadre::parse)?;
            let role = parse_col(r, "role", WorkerRole::parse)?;
            workers.insert(r.try_get::<i64, _>("worker_id")?);
            let required = levels
                .entry((cadre, role))
                .or_insert_with(|| required_levels(&reqs, Some(cadre), Some(role)))
                .get(&code)
                .copied();
            let cell = &mut cells[n];
            cell.assessed += 1;
            if let Some(level) = required {
                cell.with_requirement += 1;
                if score < level {
                    cell.below_required += 1;
                }
            }
        }
        for cell in &mut cells {
            cell.share_below = (cell.assessed > 0).then(|| f64::from(cell.below_required) / f64::from(cell.assessed));
        }
        Ok(GapReport { framework_version: fw.version.clone(), workers_assessed: workers.len() as u32, cells })
    }

    /// Every rating of every assessment of the workers an aggregate would count (all
    /// assessments, not only the latest; every version unless `q.version` names one), for
    /// export. Ordered by assessment, then framework order.
    pub async fn assessment_export_rows(&self, p: &Principal, q: &GapQuery) -> Result<Vec<AssessmentExportRow>> {
        let mut sql = Sql::new(
            "SELECT a.id AS assessment_id, a.worker_id, w.name_km, w.name_latin, w.sex, w.cadre, w.role, w.sector, \
             u.province_code, u.district_code, w.workplace_code, a.framework_version, a.kind, a.assessed_on, \
             a.assessor, a.recorded_by, r.indicator_code, r.rating, r.evidence \
             FROM competency_assessments a JOIN workers w ON w.id = a.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code \
             JOIN competency_ratings r ON r.assessment_id = a.id WHERE 1 = 1",
        );
        if let Some(v) = q.version.as_ref().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            sql.push(" AND a.framework_version = ").text(v);
        }
        if let Some(k) = q.kind {
            sql.push(" AND a.kind = ").text(k.code());
        }
        self.gap_population(p, q, &mut sql);
        sql.push(" ORDER BY a.worker_id, a.assessed_on, a.id");
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(AssessmentExportRow {
                assessment_id: r.try_get("assessment_id")?,
                worker_id: r.try_get("worker_id")?,
                name_km: r.try_get("name_km")?,
                name_latin: r.try_get("name_latin")?,
                sex: r.try_get("sex")?,
                cadre: r.try_get("cadre")?,
                role: r.try_get("role")?,
                sector: r.try_get("sector")?,
                province_code: r.try_get("province_code")?,
                district_code: r.try_get("district_code")?,
                workplace_code: r.try_get("workplace_code")?,
                framework_version: r.try_get("framework_version")?,
                kind: r.try_get("kind")?,
                assessed_on: r.try_get("assessed_on")?,
                assessor: r.try_get("assessor")?,
                recorded_by: r.try_get("recorded_by")?,
                indicator_code: r.try_get("indicator_code")?,
                rating: r.try_get("rating")?,
                evidence: r.try_get("evidence")?,
            });
        }
        // Framework order within each assessment.
        let mut orders: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for v in out.iter().map(|r| r.framework_version.clone()).collect::<std::collections::BTreeSet<_>>() {
            if let Some(fw) = self.framework(&v).await? {
                orders.insert(v, fw.indicators().enumerate().map(|(n, (_, _, i))| (i.code.clone(), n)).collect());
            }
        }
        out.sort_by_cached_key(|r| {
            let pos = orders.get(&r.framework_version).and_then(|o| o.get(&r.indicator_code)).copied();
            (r.worker_id, r.assessed_on.clone(), r.assessment_id, pos.unwrap_or(usize::MAX))
        });
        Ok(out)
    }
}

// ---------------------------------------------------------------------------------------------
// Demo assessments
// ---------------------------------------------------------------------------------------------

/// Meta key recording that the demo assessments were loaded (once, like the demo data set).
pub const DEMO_COMPETENCIES_KEY: &str = "demo_competencies_version";
const DEMO_COMPETENCIES_VERSION: &str = "1";

/// splitmix64 over a few numbers: deterministic noise for the demo ratings.
pub(crate) fn mix(values: &[u64]) -> u64 {
    let mut x: u64 = 0x6b6f_6d70_6574_656e; // "kompeten"
    for v in values {
        x ^= v.wrapping_add(0x9e37_79b9_7f4a_7c15);
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
    }
    x
}

/// FNV-1a of a code.
fn code_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// One synthetic assessment: its kind, day and ratings.
fn demo_assessment(
    fw: &Framework,
    worker_id: i64,
    cadre: Cadre,
    kind: AssessmentKind,
    round: u64,
    assessed_on: NaiveDate,
    rated: impl Fn(&str, &str) -> bool,
) -> AssessmentDraft {
    let w = worker_id as u64;
    // Levels in tenths of a rating: the cadre's training, the area, the person, the competency.
    let base: i64 = match cadre {
        Cadre::Professional => 33,
        Cadre::ParaProfessional => 28,
        Cadre::ParaSocialWorker => 24,
        Cadre::Allied => 21,
    };
    let ability = (mix(&[w, 1]) % 13) as i64 - 6;
    let growth = if round == 0 { -6 } else { 0 };
    let bias = if kind == AssessmentKind::SelfAssessment { 4 } else { 0 };
    let mut ratings = Vec::new();
    for (n, (area, comp, ind)) in fw.indicators().enumerate() {
        if !rated(&area.code, &comp.group) {
            continue;
        }
        let area_adj = match (area.code.as_str(), comp.group.as_str()) {
            ("values", _) => 4,
            ("knowledge", "practice_models") => -1,
            ("knowledge", "theories") => -6,
            ("knowledge", _) => -4,
            _ => 0,
        };
        let comp_adj = (mix(&[code_hash(&comp.code)]) % 9) as i64 - 4;
        let noise = (mix(&[w, n as u64, round, kind as u64 + 7]) % 11) as i64 - 5;
        let tenths = base + area_adj + comp_adj + ability + growth + bias + noise;
        let value = ((tenths + 5) / 10).clamp(1, 4);
        let rating = Rating::from_value(value).unwrap_or(Rating::NotYet);
        ratings.push(RatedIndicator { indicator_code: ind.code.clone(), rating, evidence: None });
    }
    AssessmentDraft { kind, assessed_on, assessor: None, notes: None, framework_version: fw.version.clone(), ratings }
}

#[derive(Serialize)]
struct DemoAssessmentCounts {
    workers: usize,
    assessments: usize,
    ratings: usize,
}

impl Store {
    /// Synthetic assessments for the demo workers of the demo province (self and supervisor,
    /// some a year apart to show progress, some at the end of a training), and the demo
    /// `worker` account's supervisor: the `sangke` account. Loaded once (a meta row records it);
    /// the same data on both engines. Returns the number of assessments written.
    pub(crate) async fn load_demo_competencies(&self, today: NaiveDate) -> Result<usize> {
        if self.meta_get(DEMO_COMPETENCIES_KEY).await?.is_some() {
            return Ok(0);
        }
        self.ensure_competency_framework().await?;
        let fw = self.current_framework().await?;
        let rows = sqlx::query(
            "SELECT w.id, w.cadre FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
             WHERE w.synthetic = 1 AND u.province_code = $1 AND w.status IN ('active', 'on_leave') ORDER BY w.id",
        )
        .bind(crate::demo::DEMO_PROVINCE)
        .fetch_all(&self.pool)
        .await?;
        let workers: Vec<(i64, Cadre)> =
            rows.iter().map(|r| Ok((r.try_get("id")?, parse_col(r, "cadre", Cadre::parse)?))).collect::<Result<_>>()?;
        let account = |name: &'static str, role: UserRole| async move {
            let u = self.user_by_name(name).await?;
            Ok::<_, StoreError>(u.filter(|u| u.role == role))
        };
        let worker_account = account("worker", UserRole::Worker).await?;
        let sangke = account("sangke", UserRole::DistrictOfficer).await?;
        let focal = worker_account.as_ref().and_then(|u| u.worker_id);

        let mut tx = self.pool.begin().await?;
        let claimed = crate::demo::meta_insert_new(&mut tx, DEMO_COMPETENCIES_KEY, DEMO_COMPETENCIES_VERSION).await?;
        if !claimed {
            tx.rollback().await?;
            return Ok(0);
        }
        let now = now_text();
        if let (Some(worker_id), Some(sup)) = (focal, &sangke) {
            sqlx::query(
                "INSERT INTO worker_supervisors (worker_id, supervisor_user_id, set_at, set_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (worker_id) DO NOTHING",
            )
            .bind(worker_id)
            .bind(sup.id)
            .bind(&now)
            .bind("demo")
            .execute(&mut *tx)
            .await?;
        }
        let days = |n: u64| today - chrono::Days::new(n);
        let all = |_: &str, _: &str| true;
        let (mut assessments, mut ratings) = (0usize, 0usize);
        for &(id, cadre) in &workers {
            let h = mix(&[id as u64, 99]);
            // One worker in three has an older assessment, one in five a training one.
            let (earlier_round, trained) = (h % 3, h % 5);
            let recent = days(12 + (h >> 16) % 150);
            let mut plan = Vec::new();
            if earlier_round == 0 {
                // A year earlier, on the older paper form: values and skills only.
                let earlier = days(380 + (h >> 8) % 40);
                let older_form = |area: &str, _: &str| area != "knowledge";
                plan.push(demo_assessment(&fw, id, cadre, AssessmentKind::Supervisor, 0, earlier, older_form));
            }
            if h % 4 != 3 || Some(id) == focal {
                let own_day = recent - chrono::Days::new(3);
                plan.push(demo_assessment(&fw, id, cadre, AssessmentKind::SelfAssessment, 1, own_day, all));
            }
            plan.push(demo_assessment(&fw, id, cadre, AssessmentKind::Supervisor, 1, recent, all));
            if trained == 0 {
                // At the end of a case management training: practice models and skills.
                let trained = days((h >> 24) % 10);
                let taught = |area: &str, group: &str| area == "skills" || group == "practice_models";
                plan.push(demo_assessment(&fw, id, cadre, AssessmentKind::Training, 1, trained, taught));
            }
            for d in plan {
                let by_sangke = Some(id) == focal && d.kind == AssessmentKind::Supervisor;
                let (assessor, recorder) = match (d.kind, by_sangke, &sangke) {
                    (AssessmentKind::Supervisor, true, Some(s)) => {
                        (s.username.clone(), (Some(s.id), s.username.as_str()))
                    }
                    (AssessmentKind::SelfAssessment, _, _) => {
                        let name = if Some(id) == focal { "worker" } else { "demo" };
                        (name.to_string(), (None, "demo"))
                    }
                    (AssessmentKind::Training, _, _) => ("NISA training (demo)".to_string(), (None, "demo")),
                    _ => ("DoSVY supervisor (demo)".to_string(), (None, "demo")),
                };
                insert_assessment(&mut tx, &fw, id, &d, &assessor, recorder, &now).await?;
                assessments += 1;
                ratings += d.ratings.len();
            }
        }
        let counts = DemoAssessmentCounts { workers: workers.len(), assessments, ratings };
        let p = system_principal("demo");
        record_audit(&mut tx, &p, "import", "competency_assessment", "demo", None, Some(&counts)).await?;
        tx.commit().await?;
        tracing::info!(workers = workers.len(), assessments, ratings, "demo competency assessments loaded");
        Ok(assessments)
    }
}
