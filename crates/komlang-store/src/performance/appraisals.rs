//! Appraisals: started by a worker's supervisor (or an account whose scope holds the worker)
//! against the current job description of the worker's role; each key function rated with
//! comments by the supervisor and in the worker's self-appraisal; completed with an overall
//! result; the actions agreed (training, rewards, corrective actions with follow-up dates).
//! Seen by the worker, their supervisor and accounts whose scope holds the worker; audited.

use chrono::NaiveDate;
use komlang_core::performance::{
    cycle_ok, due_on, due_state, rating_ok, suggested_overall, ActionKind, AppraisalForm, AppraisalStatus, DueState,
    OverallResult, ACTIONS_MAX, COMMENT_MAX, TEXT_MAX,
};
use komlang_core::{Action, FieldError, Principal, Target, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::jobs::{current_on, job_description_on, JobFunction};
use super::settings::settings_on;
use crate::common::audit::record_audit;
use crate::common::rows::{opt_date, parse_col};
use crate::common::scope::worker_in_reach;
use crate::common::sql::{check_version, engine_of};
use crate::workers::{brief_from_row, WorkerBrief, BRIEF_COLS};
use crate::{now_text, Result, Store, StoreError};

/// What the caller may do with one worker's appraisals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Access {
    pub worker: WorkerBrief,
    pub appraises: bool,
    pub self_appraises: bool,
}

/// Whether the caller supervises the worker: as the worker's current supervisor (a worker who
/// supervises), or as the account set as the worker's supervisor.
async fn supervises(conn: &mut AnyConnection, p: &Principal, worker_id: i64) -> Result<bool> {
    Ok(sqlx::query(
        "SELECT 1 AS x WHERE EXISTS (SELECT 1 FROM supervision_assignments WHERE supervisee_id = $1 \
         AND supervisor_id = $2 AND end_date IS NULL) \
         OR EXISTS (SELECT 1 FROM worker_supervisors WHERE worker_id = $3 AND supervisor_user_id = $4)",
    )
    .bind(worker_id)
    .bind(p.worker_id.unwrap_or(-1))
    .bind(worker_id)
    .bind(p.user_id)
    .fetch_optional(&mut *conn)
    .await?
    .is_some())
}

/// What the caller may do with a worker's appraisals; `None` when they may not see them (the
/// worker is outside their scope and they do not supervise them).
pub(crate) async fn access_on(conn: &mut AnyConnection, p: &Principal, worker_id: i64) -> Result<Option<Access>> {
    let in_reach = worker_in_reach(conn, p, worker_id).await?;
    let supervised = supervises(conn, p, worker_id).await?;
    let target = Target::Worker { id: worker_id, supervised };
    let reads =
        (in_reach && p.allows(Action::ReadAppraisals, target)) || (supervised && p.allows(Action::Appraise, target));
    if !reads {
        return Ok(None);
    }
    let Some(row) = sqlx::query(&format!("SELECT {BRIEF_COLS} FROM workers w WHERE w.id = $1"))
        .bind(worker_id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let own = p.worker_id == Some(worker_id);
    Ok(Some(Access {
        worker: brief_from_row(&row)?,
        appraises: !own && (in_reach || supervised) && p.allows(Action::Appraise, target),
        self_appraises: own && p.allows(Action::SelfAppraise, target),
    }))
}

/// One appraisal in a worker's list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AppraisalBrief {
    pub id: i64,
    /// The cycle's name (`2026`).
    pub cycle: String,
    pub status: AppraisalStatus,
    /// Given when it is completed.
    pub overall: Option<OverallResult>,
    pub form: AppraisalForm,
    pub period_start: String,
    pub period_end: String,
    /// The account that started it (the supervisor).
    pub appraiser: String,
    pub completed_on: Option<String>,
    /// The worker's self-appraisal was submitted.
    pub self_appraised: bool,
    /// Corrective actions not yet followed up.
    pub open_corrective: u32,
}

/// A worker's appraisals, latest first, and when the next is due.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkerAppraisals {
    pub worker: WorkerBrief,
    /// Where the worker stands for their next appraisal.
    pub due: DueState,
    /// The day the next appraisal falls due (from the last completed one's period, or the day
    /// the worker started).
    pub due_on: Option<String>,
    pub items: Vec<AppraisalBrief>,
    /// The caller may start an appraisal of this worker.
    pub may_appraise: bool,
    /// The current job description of the worker's role (an appraisal is made against it);
    /// none: the role has no description yet and no appraisal can be started.
    pub job_description_id: Option<i64>,
}

/// A key function rated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RatedFunction {
    pub function: JobFunction,
    /// The supervisor's rating, 1 (unsatisfactory) to 4 (exceeds expectations).
    pub rating: Option<u8>,
    pub comment: Option<String>,
    /// The worker's own rating.
    pub self_rating: Option<u8>,
    pub self_comment: Option<String>,
}

/// A module of the training catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CourseRef {
    pub id: i64,
    pub code: String,
    pub title_en: String,
    pub title_km: String,
}

/// Training suggested for a competency: it is called on by a key function rated 1 or 2, or the
/// worker's competency assessments put it below the level required of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TrainingSuggestion {
    pub competency_code: String,
    /// `rating` (a low-rated function), `assessment` (a competency gap) or both.
    pub because: Vec<String>,
    /// Modules of the catalogue covering it.
    pub courses: Vec<CourseRef>,
}

/// An action agreed in an appraisal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AgreedAction {
    pub id: i64,
    pub kind: ActionKind,
    pub description: String,
    pub competency_code: Option<String>,
    pub course: Option<CourseRef>,
    /// When it is followed up (required of a corrective action).
    pub follow_up_on: Option<String>,
    /// When it was done or followed up; open until then.
    pub done_on: Option<String>,
    pub created_by: String,
    pub created_at: String,
}

/// One appraisal, whole.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Appraisal {
    pub id: i64,
    pub worker: WorkerBrief,
    pub cycle: String,
    pub status: AppraisalStatus,
    pub form: AppraisalForm,
    pub period_start: String,
    pub period_end: String,
    pub job_description_id: i64,
    pub job_description_version: i64,
    pub job_title_en: String,
    pub job_title_km: String,
    pub appraiser: String,
    pub ratings: Vec<RatedFunction>,
    /// The supervisor's comment on the whole.
    pub comment: Option<String>,
    pub self_comment: Option<String>,
    pub self_submitted_at: Option<String>,
    pub overall: Option<OverallResult>,
    /// What the supervisor's ratings point to (their mean); the supervisor decides `overall`.
    pub suggested_overall: Option<OverallResult>,
    pub completed_on: Option<String>,
    pub actions: Vec<AgreedAction>,
    pub training_suggestions: Vec<TrainingSuggestion>,
    /// The worker's cases opened and closed in the appraisal's period, from the case systems
    /// (when a user of one is linked to the worker): shown beside the ratings, never as the
    /// only measure.
    pub productivity: Option<crate::caseloads::Productivity>,
    /// Raised by every change: send it back (`If-Match`, the form's `version`).
    pub version: i64,
    /// The caller may change it (the supervisor's part, the actions).
    pub may_appraise: bool,
    /// The caller may write the self-appraisal (the worker, while it is open).
    pub may_self_appraise: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// An appraisal to start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartAppraisal {
    /// The cycle's name, one appraisal per worker and cycle (`2026`, `2026-H1`).
    pub cycle: String,
    #[schema(value_type = String, format = Date)]
    pub period_start: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub period_end: NaiveDate,
    pub form: AppraisalForm,
}

/// A rating of one key function (by its code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FunctionRating {
    pub function: String,
    /// 1 to 4; absent: not rated.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 4)]
    pub rating: Option<u8>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// The supervisor's part of an open appraisal. Ratings replace those of the functions they
/// name; `complete` closes the appraisal (it then needs every function rated and `overall`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppraisalUpdate {
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    pub form: Option<AppraisalForm>,
    #[serde(default)]
    pub ratings: Vec<FunctionRating>,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    pub overall: Option<OverallResult>,
    #[serde(default)]
    pub complete: bool,
}

/// The worker's self-appraisal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfAppraisal {
    #[serde(default)]
    pub ratings: Vec<FunctionRating>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// An action to agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    pub kind: ActionKind,
    pub description: String,
    /// A competency of the framework the training is for.
    #[serde(default)]
    pub competency_code: Option<String>,
    /// A module of the training catalogue.
    #[serde(default)]
    pub course_id: Option<i64>,
    /// Required of a corrective action.
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub follow_up_on: Option<NaiveDate>,
}

fn comment(errs: &mut ValidationErrors, field: &str, v: &Option<String>) -> Option<String> {
    let v = v.as_deref().map(komlang_core::clean_text).filter(|s| !s.trim().is_empty());
    if v.as_ref().is_some_and(|s| s.chars().count() > COMMENT_MAX) {
        errs.push(FieldError::new(field, "too_long").with("max", COMMENT_MAX));
    }
    v
}

/// The ratings given, checked against the description's functions: (function id, rating,
/// comment) per entry.
fn checked_ratings(
    errs: &mut ValidationErrors,
    functions: &[JobFunction],
    ratings: &[FunctionRating],
) -> Vec<(i64, Option<u8>, Option<String>)> {
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, r) in ratings.iter().enumerate() {
        let at = |f: &str| format!("ratings[{i}].{f}");
        let Some(f) = functions.iter().find(|f| f.code == r.function.trim()) else {
            let field = at("function");
            errs.push(FieldError::new(&field, "unknown_function").with("value", r.function.trim()));
            continue;
        };
        if !seen.insert(f.id) {
            let field = at("function");
            errs.push(FieldError::new(&field, "duplicate_function").with("value", &f.code));
        }
        if !rating_ok(r.rating) {
            let field = at("rating");
            errs.push(FieldError::new(&field, "out_of_range").with("min", 1).with("max", 4));
        }
        let c = comment(errs, &at("comment"), &r.comment);
        out.push((f.id, r.rating, c));
    }
    out
}

fn not_open() -> StoreError {
    StoreError::Invalid(ValidationErrors::single(FieldError::new("status", "appraisal_completed")))
}

async fn course_ref(conn: &mut AnyConnection, id: i64) -> Result<Option<CourseRef>> {
    let r = sqlx::query("SELECT id, code, title_en, title_km FROM training_courses WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    r.map(|r| {
        Ok(CourseRef {
            id: r.try_get("id")?,
            code: r.try_get("code")?,
            title_en: r.try_get("title_en")?,
            title_km: r.try_get("title_km")?,
        })
    })
    .transpose()
}

/// The day a worker's next appraisal is counted from: the end of the period of their last
/// completed appraisal, or the day they started.
pub(crate) async fn due_base(conn: &mut AnyConnection, worker_id: i64) -> Result<Option<NaiveDate>> {
    let r = sqlx::query(
        "SELECT COALESCE((SELECT MAX(a.period_end) FROM appraisals a WHERE a.worker_id = w.id AND a.status = 'completed'), \
         w.start_date) AS base FROM workers w WHERE w.id = $1",
    )
    .bind(worker_id)
    .fetch_optional(&mut *conn)
    .await?;
    match r {
        Some(r) => opt_date(&r, "base"),
        None => Ok(None),
    }
}

impl Store {
    /// A worker's appraisals (latest first) and when the next is due; not found outside the
    /// caller's reach.
    pub async fn worker_appraisals(&self, p: &Principal, worker_id: i64, today: NaiveDate) -> Result<WorkerAppraisals> {
        let mut conn = self.pool.acquire().await?;
        let a = access_on(&mut conn, p, worker_id).await?.ok_or(StoreError::NotFound)?;
        let rows = sqlx::query(
            "SELECT a.id, a.cycle, a.status, a.overall, a.form, a.period_start, a.period_end, a.appraiser, a.completed_on, \
             a.self_submitted_at, (SELECT COUNT(*) FROM appraisal_actions x WHERE x.appraisal_id = a.id \
             AND x.kind = 'corrective' AND x.done_on IS NULL) AS open_corrective \
             FROM appraisals a WHERE a.worker_id = $1 ORDER BY a.period_end DESC, a.id DESC",
        )
        .bind(worker_id)
        .fetch_all(&mut *conn)
        .await?;
        let items = rows
            .iter()
            .map(|r| {
                let overall: Option<String> = r.try_get("overall")?;
                Ok(AppraisalBrief {
                    id: r.try_get("id")?,
                    cycle: r.try_get("cycle")?,
                    status: parse_col(r, "status", AppraisalStatus::parse)?,
                    overall: overall.as_deref().and_then(OverallResult::parse),
                    form: parse_col(r, "form", AppraisalForm::parse)?,
                    period_start: r.try_get("period_start")?,
                    period_end: r.try_get("period_end")?,
                    appraiser: r.try_get("appraiser")?,
                    completed_on: r.try_get("completed_on")?,
                    self_appraised: r.try_get::<Option<String>, _>("self_submitted_at")?.is_some(),
                    open_corrective: crate::common::rows::count(r.try_get("open_corrective")?),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let settings = settings_on(&mut conn).await?;
        let base = due_base(&mut conn, worker_id).await?;
        let jd = current_on(&mut conn, a.worker.role).await?;
        Ok(WorkerAppraisals {
            due: due_state(base, &settings, today),
            due_on: base.and_then(|b| due_on(b, &settings)).map(|d| d.to_string()),
            items,
            may_appraise: a.appraises && jd.is_some(),
            job_description_id: jd.map(|j| j.id),
            worker: a.worker,
        })
    }

    /// One appraisal; not found outside the caller's reach.
    pub async fn appraisal(&self, p: &Principal, id: i64) -> Result<Appraisal> {
        let mut conn = self.pool.acquire().await?;
        let mut a = self.appraisal_on(&mut conn, p, id).await?;
        drop(conn);
        a.training_suggestions = self.training_suggestions(p, a.worker.id, &a.ratings).await?;
        if let (Ok(from), Ok(to)) = (
            NaiveDate::parse_from_str(&a.period_start, "%Y-%m-%d"),
            NaiveDate::parse_from_str(&a.period_end, "%Y-%m-%d"),
        ) {
            a.productivity = self.case_productivity(a.worker.id, from, to).await?;
        }
        Ok(a)
    }

    async fn appraisal_on(&self, conn: &mut AnyConnection, p: &Principal, id: i64) -> Result<Appraisal> {
        let row = sqlx::query("SELECT * FROM appraisals WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let worker_id: i64 = row.try_get("worker_id")?;
        let access = access_on(conn, p, worker_id).await?.ok_or(StoreError::NotFound)?;
        let jd_id: i64 = row.try_get("job_description_id")?;
        let jd =
            job_description_on(conn, jd_id).await?.ok_or_else(|| StoreError::Corrupt(format!("appraisal {id}")))?;
        let rated = sqlx::query(
            "SELECT function_id, rating, comment, self_rating, self_comment FROM appraisal_ratings WHERE appraisal_id = $1",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let mut ratings = Vec::new();
        for f in &jd.functions {
            let r = rated.iter().find(|r| r.try_get::<i64, _>("function_id").ok() == Some(f.id));
            let get = |col: &str| -> Result<Option<u8>> {
                Ok(match r {
                    Some(r) => r.try_get::<Option<i64>, _>(col)?.and_then(|v| u8::try_from(v).ok()),
                    None => None,
                })
            };
            let text = |col: &str| -> Result<Option<String>> {
                Ok(match r {
                    Some(r) => r.try_get(col)?,
                    None => None,
                })
            };
            ratings.push(RatedFunction {
                function: f.clone(),
                rating: get("rating")?,
                comment: text("comment")?,
                self_rating: get("self_rating")?,
                self_comment: text("self_comment")?,
            });
        }
        let given: Vec<u8> = ratings.iter().filter_map(|r| r.rating).collect();
        let action_rows = sqlx::query(
            "SELECT id, kind, description, competency_code, course_id, follow_up_on, done_on, created_by, created_at \
             FROM appraisal_actions WHERE appraisal_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await?;
        let mut actions = Vec::new();
        for r in &action_rows {
            let course = match r.try_get::<Option<i64>, _>("course_id")? {
                Some(c) => course_ref(conn, c).await?,
                None => None,
            };
            actions.push(AgreedAction {
                id: r.try_get("id")?,
                kind: parse_col(r, "kind", ActionKind::parse)?,
                description: r.try_get("description")?,
                competency_code: r.try_get("competency_code")?,
                course,
                follow_up_on: r.try_get("follow_up_on")?,
                done_on: r.try_get("done_on")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
            });
        }
        let status = parse_col(&row, "status", AppraisalStatus::parse)?;
        let overall: Option<String> = row.try_get("overall")?;
        Ok(Appraisal {
            id,
            cycle: row.try_get("cycle")?,
            status,
            form: parse_col(&row, "form", AppraisalForm::parse)?,
            period_start: row.try_get("period_start")?,
            period_end: row.try_get("period_end")?,
            job_description_id: jd.id,
            job_description_version: jd.version,
            job_title_en: jd.title_en,
            job_title_km: jd.title_km,
            appraiser: row.try_get("appraiser")?,
            ratings,
            comment: row.try_get("supervisor_comment")?,
            self_comment: row.try_get("self_comment")?,
            self_submitted_at: row.try_get("self_submitted_at")?,
            overall: overall.as_deref().and_then(OverallResult::parse),
            suggested_overall: suggested_overall(&given),
            completed_on: row.try_get("completed_on")?,
            actions,
            training_suggestions: Vec::new(),
            productivity: None,
            version: row.try_get("version")?,
            may_appraise: access.appraises,
            may_self_appraise: access.self_appraises && status == AppraisalStatus::Open,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
            worker: access.worker,
        })
    }

    /// Training for the competencies of the functions rated 1 or 2 and the worker's competency
    /// gaps (when the caller reads the worker's assessments), with the catalogue's modules
    /// covering each.
    async fn training_suggestions(
        &self,
        p: &Principal,
        worker_id: i64,
        ratings: &[RatedFunction],
    ) -> Result<Vec<TrainingSuggestion>> {
        let mut wanted: std::collections::BTreeMap<String, Vec<String>> = std::collections::BTreeMap::new();
        for r in ratings.iter().filter(|r| r.rating.is_some_and(|v| v <= 2)) {
            for c in &r.function.competencies {
                let because = wanted.entry(c.clone()).or_default();
                if !because.iter().any(|b| b == "rating") {
                    because.push("rating".into());
                }
            }
        }
        match self.worker_gaps(p, worker_id, None).await {
            Ok(g) => {
                for gap in g.gaps {
                    wanted.entry(gap.competency_code).or_default().push("assessment".into());
                }
            }
            Err(StoreError::NotFound | StoreError::Forbidden) => {}
            Err(e) => return Err(e),
        }
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let courses =
            sqlx::query("SELECT id, code, title_en, title_km, competencies FROM training_courses ORDER BY code")
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::new();
        for (code, because) in wanted {
            let mut list = Vec::new();
            for r in &courses {
                let covers: String = r.try_get("competencies")?;
                if covers.split_whitespace().any(|c| c == code) {
                    list.push(CourseRef {
                        id: r.try_get("id")?,
                        code: r.try_get("code")?,
                        title_en: r.try_get("title_en")?,
                        title_km: r.try_get("title_km")?,
                    });
                }
            }
            out.push(TrainingSuggestion { competency_code: code, because, courses: list });
        }
        Ok(out)
    }

    /// Starts an appraisal of a worker against the current job description of their role
    /// (audited).
    pub async fn start_appraisal(
        &self,
        p: &Principal,
        worker_id: i64,
        input: &StartAppraisal,
        today: NaiveDate,
    ) -> Result<Appraisal> {
        if !p.may(Action::Appraise) {
            return Err(StoreError::Forbidden);
        }
        let mut errs = ValidationErrors::default();
        let cycle = input.cycle.trim().to_string();
        if !cycle_ok(&cycle) {
            errs.push(FieldError::new("cycle", "invalid_cycle"));
        }
        if input.period_end < input.period_start {
            errs.push(FieldError::new("period_end", "before_start"));
        }
        if input.period_start > today {
            errs.push(FieldError::new("period_start", "date_in_future"));
        }
        let mut tx = self.begin_write().await?;
        let access = access_on(&mut tx, p, worker_id).await?.ok_or(StoreError::NotFound)?;
        if !access.appraises {
            return Err(StoreError::Forbidden);
        }
        let jd = current_on(&mut tx, access.worker.role).await?;
        if jd.is_none() {
            errs.push(FieldError::new("role", "no_job_description").with("value", access.worker.role.code()));
        }
        let taken = sqlx::query("SELECT id FROM appraisals WHERE worker_id = $1 AND cycle = $2")
            .bind(worker_id)
            .bind(&cycle)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(r) = taken {
            errs.push(FieldError::new("cycle", "duplicate_cycle").with("existing_id", r.try_get::<i64, _>(0)?));
        }
        let (Some(jd), true) = (jd, errs.is_empty()) else {
            return Err(StoreError::Invalid(errs));
        };
        let now = now_text();
        let id: i64 = sqlx::query(
            "INSERT INTO appraisals (worker_id, cycle, period_start, period_end, job_description_id, form, status, \
             appraiser, appraiser_worker_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, $9, $10) \
             RETURNING id",
        )
        .bind(worker_id)
        .bind(&cycle)
        .bind(input.period_start.to_string())
        .bind(input.period_end.to_string())
        .bind(jd.id)
        .bind(input.form.code())
        .bind(&p.username)
        .bind(p.worker_id)
        .bind(&now)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let after = serde_json::json!({
            "worker_id": worker_id, "cycle": cycle, "period_start": input.period_start,
            "period_end": input.period_end, "form": input.form, "job_description_id": jd.id,
        });
        record_audit(&mut tx, p, "create", "appraisal", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.appraisal(p, id).await
    }

    /// Ends a change of an appraisal: audits it (the appraisal before and as the change left it),
    /// commits, and answers the appraisal as the caller reads it.
    async fn commit_audited(
        &self,
        mut tx: sqlx::Transaction<'static, sqlx::Any>,
        p: &Principal,
        id: i64,
        action: &str,
        before: &Appraisal,
    ) -> Result<Appraisal> {
        let after = self.appraisal_on(&mut tx, p, id).await?;
        record_audit(&mut tx, p, action, "appraisal", &id.to_string(), Some(&audited(before)), Some(&audited(&after)))
            .await?;
        tx.commit().await?;
        self.appraisal(p, id).await
    }

    /// Locks an appraisal for a change: its worker's access, its status and version checked.
    async fn appraisal_for_change(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        id: i64,
        expected: Option<i64>,
    ) -> Result<(Access, Appraisal)> {
        if engine_of(conn) == crate::Engine::Postgres {
            sqlx::query("SELECT id FROM appraisals WHERE id = $1 FOR UPDATE").bind(id).execute(&mut *conn).await?;
        }
        let before = self.appraisal_on(conn, p, id).await?;
        let access = access_on(conn, p, before.worker.id).await?.ok_or(StoreError::NotFound)?;
        check_version(before.version, expected)?;
        Ok((access, before))
    }

    /// The supervisor's part of an open appraisal: form, ratings, comment, overall; `complete`
    /// closes it (every function rated and an overall result given). Audited with what changed.
    pub async fn update_appraisal(
        &self,
        p: &Principal,
        id: i64,
        input: &AppraisalUpdate,
        expected: Option<i64>,
        today: NaiveDate,
    ) -> Result<Appraisal> {
        let mut tx = self.begin_write().await?;
        let (access, before) = self.appraisal_for_change(&mut tx, p, id, expected).await?;
        if !access.appraises {
            return Err(StoreError::Forbidden);
        }
        if before.status != AppraisalStatus::Open {
            return Err(not_open());
        }
        let mut errs = ValidationErrors::default();
        let functions: Vec<JobFunction> = before.ratings.iter().map(|r| r.function.clone()).collect();
        let ratings = checked_ratings(&mut errs, &functions, &input.ratings);
        let note = comment(&mut errs, "comment", &input.comment);
        if input.complete {
            let rated: std::collections::BTreeSet<i64> = before
                .ratings
                .iter()
                .filter(|r| r.rating.is_some())
                .map(|r| r.function.id)
                .chain(ratings.iter().filter(|r| r.1.is_some()).map(|r| r.0))
                .filter(|f| !ratings.iter().any(|r| r.0 == *f && r.1.is_none()))
                .collect();
            for f in &functions {
                if !rated.contains(&f.id) {
                    errs.push(FieldError::new("ratings", "function_not_rated").with("value", &f.code));
                }
            }
            if input.overall.is_none() && before.overall.is_none() {
                errs.push(FieldError::new("overall", "required"));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        for (f, rating, c) in &ratings {
            upsert_rating(&mut tx, id, *f, "rating", "comment", *rating, c).await?;
        }
        let status = if input.complete { AppraisalStatus::Completed } else { AppraisalStatus::Open };
        sqlx::query(
            "UPDATE appraisals SET form = COALESCE($1, form), supervisor_comment = COALESCE($2, supervisor_comment), \
             overall = COALESCE($3, overall), status = $4, completed_on = $5, version = version + 1, updated_at = $6 \
             WHERE id = $7",
        )
        .bind(input.form.map(|f| f.code()))
        .bind(&note)
        .bind(input.overall.map(|o| o.code()))
        .bind(status.code())
        .bind(input.complete.then(|| today.to_string()))
        .bind(now_text())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.commit_audited(tx, p, id, "update", &before).await
    }

    /// The worker's self-appraisal of an open appraisal (their own; audited).
    pub async fn self_appraise(
        &self,
        p: &Principal,
        id: i64,
        input: &SelfAppraisal,
        expected: Option<i64>,
    ) -> Result<Appraisal> {
        let mut tx = self.begin_write().await?;
        let (access, before) = self.appraisal_for_change(&mut tx, p, id, expected).await?;
        if !access.self_appraises {
            return Err(StoreError::Forbidden);
        }
        if before.status != AppraisalStatus::Open {
            return Err(not_open());
        }
        let mut errs = ValidationErrors::default();
        let functions: Vec<JobFunction> = before.ratings.iter().map(|r| r.function.clone()).collect();
        let ratings = checked_ratings(&mut errs, &functions, &input.ratings);
        let note = comment(&mut errs, "comment", &input.comment);
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        for (f, rating, c) in &ratings {
            upsert_rating(&mut tx, id, *f, "self_rating", "self_comment", *rating, c).await?;
        }
        let now = now_text();
        sqlx::query(
            "UPDATE appraisals SET self_comment = COALESCE($1, self_comment), self_submitted_at = $2, \
             version = version + 1, updated_at = $3 WHERE id = $4",
        )
        .bind(&note)
        .bind(&now)
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        self.commit_audited(tx, p, id, "self_appraise", &before).await
    }

    /// Agrees an action in an appraisal (open or completed: actions are agreed at the end of an
    /// appraisal and followed up after it). Audited.
    pub async fn add_appraisal_action(
        &self,
        p: &Principal,
        appraisal_id: i64,
        input: &ActionInput,
        today: NaiveDate,
    ) -> Result<Appraisal> {
        let competency = input.competency_code.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let known = match competency {
            Some(c) => self.current_framework().await?.areas.iter().any(|a| a.competencies.iter().any(|x| x.code == c)),
            None => true,
        };
        let mut tx = self.begin_write().await?;
        let (access, before) = self.appraisal_for_change(&mut tx, p, appraisal_id, None).await?;
        if !access.appraises {
            return Err(StoreError::Forbidden);
        }
        let mut errs = ValidationErrors::default();
        let description = komlang_core::clean_text(&input.description);
        if description.trim().is_empty() {
            errs.push(FieldError::new("description", "required"));
        } else if description.chars().count() > TEXT_MAX {
            errs.push(FieldError::new("description", "too_long").with("max", TEXT_MAX));
        }
        if before.actions.len() >= ACTIONS_MAX {
            errs.push(FieldError::new("actions", "too_many").with("max", ACTIONS_MAX));
        }
        if input.kind == ActionKind::Corrective && input.follow_up_on.is_none() {
            errs.push(FieldError::new("follow_up_on", "required"));
        }
        if input.follow_up_on.is_some_and(|d| d < today) {
            errs.push(FieldError::new("follow_up_on", "date_in_past"));
        }
        if let (Some(c), false) = (competency, known) {
            errs.push(FieldError::new("competency_code", "unknown_competency").with("value", c));
        }
        if let Some(cid) = input.course_id {
            if course_ref(&mut tx, cid).await?.is_none() {
                errs.push(FieldError::new("course_id", "unknown_course").with("value", cid));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let action_id: i64 = sqlx::query(
            "INSERT INTO appraisal_actions (appraisal_id, kind, description, competency_code, course_id, follow_up_on, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(appraisal_id)
        .bind(input.kind.code())
        .bind(&description)
        .bind(competency)
        .bind(input.course_id)
        .bind(input.follow_up_on.map(|d| d.to_string()))
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        bump(&mut tx, appraisal_id).await?;
        let after = serde_json::json!({
            "appraisal_id": appraisal_id, "kind": input.kind, "description": description,
            "competency_code": competency, "course_id": input.course_id, "follow_up_on": input.follow_up_on,
        });
        record_audit(&mut tx, p, "create", "appraisal_action", &action_id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.appraisal(p, appraisal_id).await
    }

    /// Marks an agreed action done (followed up) on a day. Audited.
    pub async fn close_appraisal_action(
        &self,
        p: &Principal,
        action_id: i64,
        done_on: NaiveDate,
        today: NaiveDate,
    ) -> Result<Appraisal> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT appraisal_id, done_on FROM appraisal_actions WHERE id = $1")
            .bind(action_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let appraisal_id: i64 = row.try_get("appraisal_id")?;
        let (access, _) = self.appraisal_for_change(&mut tx, p, appraisal_id, None).await?;
        if !access.appraises {
            return Err(StoreError::Forbidden);
        }
        if done_on > today {
            return Err(crate::common::store::invalid("done_on", "date_in_future"));
        }
        if row.try_get::<Option<String>, _>("done_on")?.is_some() {
            return Err(crate::common::store::invalid("done_on", "already_done"));
        }
        sqlx::query("UPDATE appraisal_actions SET done_on = $1 WHERE id = $2")
            .bind(done_on.to_string())
            .bind(action_id)
            .execute(&mut *tx)
            .await?;
        bump(&mut tx, appraisal_id).await?;
        let after = serde_json::json!({ "done_on": done_on });
        record_audit(&mut tx, p, "update", "appraisal_action", &action_id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.appraisal(p, appraisal_id).await
    }
}

async fn bump(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("UPDATE appraisals SET version = version + 1, updated_at = $1 WHERE id = $2")
        .bind(now_text())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

async fn upsert_rating(
    conn: &mut AnyConnection,
    appraisal: i64,
    function: i64,
    rating_col: &str,
    comment_col: &str,
    rating: Option<u8>,
    comment: &Option<String>,
) -> Result<()> {
    sqlx::query("INSERT INTO appraisal_ratings (appraisal_id, function_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(appraisal)
        .bind(function)
        .execute(&mut *conn)
        .await?;
    sqlx::query(&format!(
        "UPDATE appraisal_ratings SET {rating_col} = $1, {comment_col} = $2 WHERE appraisal_id = $3 AND function_id = $4"
    ))
    .bind(rating.map(i64::from))
    .bind(comment)
    .bind(appraisal)
    .bind(function)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What the audit keeps of an appraisal: its status, result and ratings (function code →
/// [supervisor's, worker's]), the comments' presence.
fn audited(a: &Appraisal) -> serde_json::Value {
    let ratings: serde_json::Map<String, serde_json::Value> =
        a.ratings.iter().map(|r| (r.function.code.clone(), serde_json::json!([r.rating, r.self_rating]))).collect();
    serde_json::json!({
        "worker_id": a.worker.id, "cycle": a.cycle, "status": a.status, "form": a.form, "overall": a.overall,
        "completed_on": a.completed_on, "ratings": ratings, "comment": a.comment, "self_comment": a.self_comment,
        "version": a.version,
    })
}
komlang_core::versioned!(Appraisal);
