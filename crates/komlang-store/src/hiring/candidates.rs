//! A round's candidates: entered from the registry, the pool of placements, or as new people;
//! checked against each post's requirements; scored; ranked by the round's published rule.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use komlang_core::competency::Rating;
use komlang_core::hiring::{
    rank, score_ok, unmet, CandidateFacts, CandidateSource, CandidateStatus, Contender, RankingRule, RoundStatus, Unmet,
};
use komlang_core::{Cadre, EducationLevel, FieldError, Principal, Sex, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::rounds::{bump, round_to_run, RequirementSet};
use crate::common::audit::record_audit;
use crate::common::rows::{opt_date, parse_col};
use crate::common::scope::worker_in_reach;
use crate::common::sql::check_version;
use crate::{now_text, Result, Store, StoreError};

/// What a candidate does not meet of the posts of one requirement set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SetFit {
    /// The round's requirement set (`requirement_sets`).
    pub set: u32,
    /// Empty: eligible for the set's posts.
    pub unmet: Vec<Unmet>,
}

/// A candidate as a round shows them.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CandidateView {
    pub id: i64,
    /// The worker record (a registry candidate, or the record an appointment made).
    pub worker_id: Option<i64>,
    pub placement_id: Option<i64>,
    pub source: CandidateSource,
    pub name_km: String,
    pub name_latin: String,
    pub sex: Sex,
    pub cadre: Option<Cadre>,
    pub education_level: Option<EducationLevel>,
    /// Whole years of experience today.
    pub years: Option<u32>,
    pub institution: Option<String>,
    pub graduated_year: Option<i32>,
    pub status: CandidateStatus,
    pub exam_score: Option<f64>,
    pub interview_score: Option<f64>,
    pub interview_notes: Option<String>,
    pub applied_on: String,
    /// By the round's rule; none until eligible for a post with both scores.
    pub total: Option<f64>,
    /// 1 = best.
    pub rank: Option<u32>,
    /// Per requirement set of the round: what the candidate does not meet.
    pub fit: Vec<SetFit>,
    pub appointed_post_id: Option<i64>,
    pub version: i64,
}

/// A candidate to enter: a worker of the registry (`worker_id`), a person of the pool of
/// placements (`placement_id`), or a new person with the facts the requirements need.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidateInput {
    #[serde(default)]
    pub worker_id: Option<i64>,
    #[serde(default)]
    pub placement_id: Option<i64>,
    /// For a new person: graduate, intern or external (default external).
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    pub source: Option<CandidateSource>,
    #[serde(default)]
    pub name_km: Option<String>,
    #[serde(default)]
    pub name_latin: Option<String>,
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    pub sex: Option<Sex>,
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub date_of_birth: Option<NaiveDate>,
    #[serde(default)]
    pub national_id: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// The cadre their qualification puts them in.
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    pub cadre: Option<Cadre>,
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    pub education_level: Option<EducationLevel>,
    /// The day their experience in the workforce began.
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub experience_since: Option<NaiveDate>,
    #[serde(default)]
    pub institution: Option<String>,
    #[serde(default)]
    pub graduated_year: Option<i32>,
    /// Default: today.
    #[serde(default, deserialize_with = "komlang_core::text::blank_as_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub applied_on: Option<NaiveDate>,
}

/// Exam and interview scores (0–100), and the interview's notes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoresInput {
    #[serde(default)]
    pub exam_score: Option<f64>,
    #[serde(default)]
    pub interview_score: Option<f64>,
    #[serde(default)]
    pub interview_notes: Option<String>,
}

/// Most candidates in one imported file.
pub const IMPORT_MAX: usize = 5000;

/// Longest notes of an interview.
pub const NOTES_MAX: usize = 4000;

/// The facts of a candidate for the requirements: a registry candidate's from their record
/// (cadre, education, years since they started, latest competency scores), a new person's as
/// entered. `workers` holds the registry candidates' records and `scores` their competency
/// scores, each read once for the whole round.
fn facts_of(
    r: &sqlx::any::AnyRow,
    today: NaiveDate,
    workers: &HashMap<i64, sqlx::any::AnyRow>,
    scores: &HashMap<i64, BTreeMap<String, Rating>>,
) -> Result<CandidateFacts> {
    let worker: Option<i64> = r.try_get("worker_id")?;
    let status: String = r.try_get("status")?;
    match worker.filter(|_| status != "appointed") {
        Some(w) => {
            let Some(row) = workers.get(&w) else { return Ok(CandidateFacts::default()) };
            let cadre: String = row.try_get("cadre")?;
            let education: Option<String> = row.try_get("education_level")?;
            Ok(CandidateFacts {
                cadre: Cadre::parse(&cadre),
                education: education.as_deref().and_then(EducationLevel::parse),
                years: opt_date(row, "start_date")?.and_then(|s| komlang_core::hiring::years_between(s, today)),
                competencies: scores
                    .get(&w)
                    .map(|s| s.iter().map(|(code, level)| (code.clone(), *level as u8)).collect())
                    .unwrap_or_default(),
            })
        }
        None => {
            let cadre: Option<String> = r.try_get("cadre")?;
            let education: Option<String> = r.try_get("education_level")?;
            Ok(CandidateFacts {
                cadre: cadre.as_deref().and_then(Cadre::parse),
                education: education.as_deref().and_then(EducationLevel::parse),
                years: opt_date(r, "experience_since")?.and_then(|s| komlang_core::hiring::years_between(s, today)),
                competencies: BTreeMap::new(),
            })
        }
    }
}

/// A round's candidates with their fit to each post, in ranked order.
pub(crate) async fn candidates_of(
    store: &Store,
    round: i64,
    sets: &[RequirementSet],
    rule: &RankingRule,
    today: NaiveDate,
) -> Result<Vec<CandidateView>> {
    let rows = sqlx::query("SELECT * FROM candidates WHERE round_id = $1 ORDER BY id")
        .bind(round)
        .fetch_all(&store.pool)
        .await?;
    // The registry candidates' records and competency scores, each in one read for the round.
    const IN_ROUND: &str = "SELECT worker_id FROM candidates WHERE round_id = $1 AND worker_id IS NOT NULL";
    let workers: HashMap<i64, sqlx::any::AnyRow> =
        sqlx::query(&format!("SELECT id, cadre, education_level, start_date FROM workers WHERE id IN ({IN_ROUND})"))
            .bind(round)
            .fetch_all(&store.pool)
            .await?
            .into_iter()
            .map(|w| Ok((w.try_get::<i64, _>("id")?, w)))
            .collect::<Result<_>>()?;
    let scores = if sets.iter().any(|s| !s.requirements.competencies.is_empty()) {
        store.latest_competency_scores(&format!("a.worker_id IN ({IN_ROUND})"), round).await?
    } else {
        HashMap::new()
    };
    let mut views = HashMap::new();
    let mut contenders = Vec::new();
    for r in &rows {
        let facts = facts_of(r, today, &workers, &scores)?;
        let fit: Vec<SetFit> =
            sets.iter().map(|s| SetFit { set: s.set, unmet: unmet(&s.requirements, &facts) }).collect();
        let status = parse_col(r, "status", CandidateStatus::parse)?;
        let applied_on = crate::common::rows::date_col(r, "applied_on")?;
        let id: i64 = r.try_get("id")?;
        let exam: Option<f64> = r.try_get("exam_score")?;
        let interview: Option<f64> = r.try_get("interview_score")?;
        let eligible = fit.iter().any(|f| f.unmet.is_empty());
        contenders.push(Contender {
            id,
            eligible: eligible && matches!(status, CandidateStatus::Applied | CandidateStatus::Appointed),
            exam,
            interview,
            applied_on,
        });
        let source = parse_col(r, "source", CandidateSource::parse)?;
        let sex = parse_col(r, "sex", Sex::parse)?;
        let graduated: Option<i64> = r.try_get("graduated_year")?;
        views.insert(
            id,
            CandidateView {
                id,
                worker_id: r.try_get::<Option<i64>, _>("worker_id")?.or(r.try_get("appointed_worker_id")?),
                placement_id: r.try_get("placement_id")?,
                source,
                name_km: r.try_get("name_km")?,
                name_latin: r.try_get("name_latin")?,
                sex,
                cadre: facts.cadre,
                education_level: facts.education,
                years: facts.years,
                institution: r.try_get("institution")?,
                graduated_year: graduated.and_then(|y| i32::try_from(y).ok()),
                status,
                exam_score: exam,
                interview_score: interview,
                interview_notes: r.try_get("interview_notes")?,
                applied_on: applied_on.to_string(),
                total: None,
                rank: None,
                fit,
                appointed_post_id: r.try_get("appointed_post_id")?,
                version: r.try_get("version")?,
            },
        );
    }
    let mut out = Vec::new();
    for (id, place, total) in rank(rule, &contenders) {
        if let Some(mut v) = views.remove(&id) {
            v.rank = place;
            v.total = total;
            out.push(v);
        }
    }
    Ok(out)
}

fn text(v: &Option<String>) -> Option<String> {
    v.as_deref().map(komlang_core::clean_text).map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

impl Store {
    /// Enters a candidate in an open round (audited). A worker of the registry must be in the
    /// caller's reach; a person of the pool brings their placement's details; a new person needs
    /// names and sex. One candidacy per worker (or national ID) and round.
    pub async fn add_candidate(
        &self,
        p: &Principal,
        round: i64,
        input: &CandidateInput,
        today: NaiveDate,
    ) -> Result<super::Round> {
        let mut tx = self.begin_write().await?;
        let r = round_to_run(&mut tx, p, round).await?;
        self.insert_candidate(&mut tx, p, round, &r, input, today).await?;
        tx.commit().await?;
        self.recruitment_round(p, round, today).await
    }

    /// Imports candidates from a table (CSV or XLSX, one row per candidate; columns as
    /// [`CandidateInput`]'s fields: `worker_id` for a worker of the registry, or `name_km`,
    /// `name_latin`, `sex`, …): all or nothing, every problem named by row and field.
    pub async fn import_candidates(
        &self,
        p: &Principal,
        round: i64,
        headers: &[String],
        rows: Vec<(u64, Vec<String>)>,
        today: NaiveDate,
    ) -> Result<super::Round> {
        let mut errs = ValidationErrors::default();
        if rows.is_empty() {
            return Err(StoreError::Invalid(ValidationErrors::single(FieldError::new("file", "no_rows"))));
        }
        if rows.len() > IMPORT_MAX {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("file", "too_many_rows").with("max", IMPORT_MAX),
            )));
        }
        let known = [
            "worker_id",
            "source",
            "name_km",
            "name_latin",
            "sex",
            "date_of_birth",
            "national_id",
            "phone",
            "cadre",
            "education_level",
            "experience_since",
            "institution",
            "graduated_year",
            "applied_on",
        ];
        for h in headers.iter().filter(|h| !h.trim().is_empty()) {
            if !known.contains(&h.trim()) {
                errs.push(FieldError::new("file", "unknown_column").with("value", h.trim()));
            }
        }
        let col = |name: &str| headers.iter().position(|h| h.trim() == name);
        let mut inputs = Vec::new();
        for (n, cells) in &rows {
            let get = |name: &str| col(name).and_then(|i| cells.get(i)).map(|v| v.trim()).filter(|v| !v.is_empty());
            let at = |f: &str| format!("row {n}: {f}");
            let mut bad = |f: &str, code: &str, v: &str| errs.push(FieldError::new(&at(f), code).with("value", v));
            let date = |f: &str, bad: &mut dyn FnMut(&str, &str, &str)| {
                get(f)
                    .and_then(|v| NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| bad(f, "invalid_date", v)).ok())
            };
            let input = CandidateInput {
                worker_id: get("worker_id")
                    .and_then(|v| v.parse().map_err(|_| bad("worker_id", "invalid_number", v)).ok()),
                placement_id: None,
                source: get("source").and_then(|v| {
                    CandidateSource::parse(v).or_else(|| {
                        bad("source", "invalid_choice", v);
                        None
                    })
                }),
                name_km: get("name_km").map(String::from),
                name_latin: get("name_latin").map(String::from),
                sex: get("sex").and_then(|v| {
                    Sex::parse(v).or_else(|| {
                        bad("sex", "invalid_choice", v);
                        None
                    })
                }),
                date_of_birth: date("date_of_birth", &mut bad),
                national_id: get("national_id").map(String::from),
                phone: get("phone").map(String::from),
                cadre: get("cadre").and_then(|v| {
                    Cadre::parse(v).or_else(|| {
                        bad("cadre", "invalid_choice", v);
                        None
                    })
                }),
                education_level: get("education_level").and_then(|v| {
                    EducationLevel::parse(v).or_else(|| {
                        bad("education_level", "invalid_choice", v);
                        None
                    })
                }),
                experience_since: date("experience_since", &mut bad),
                institution: get("institution").map(String::from),
                graduated_year: get("graduated_year")
                    .and_then(|v| v.parse().map_err(|_| bad("graduated_year", "invalid_year", v)).ok()),
                applied_on: date("applied_on", &mut bad),
            };
            inputs.push((*n, input));
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let mut tx = self.begin_write().await?;
        let r = round_to_run(&mut tx, p, round).await?;
        for (n, input) in &inputs {
            match self.insert_candidate(&mut tx, p, round, &r, input, today).await {
                Ok(_) => {}
                Err(StoreError::Invalid(e)) => errs
                    .errors
                    .extend(e.errors.into_iter().map(|f| FieldError { field: format!("row {n}: {}", f.field), ..f })),
                Err(e) => return Err(e),
            }
        }
        if !errs.is_empty() {
            tx.rollback().await?;
            return Err(StoreError::Invalid(errs));
        }
        tx.commit().await?;
        self.recruitment_round(p, round, today).await
    }

    /// Enters a candidate in an open round (audited), in the caller's transaction. A worker of
    /// the registry must be in the caller's reach; a person of the pool brings their placement's
    /// details; a new person needs names and sex. One candidacy per worker (or national ID) and
    /// round.
    pub(crate) async fn insert_candidate(
        &self,
        tx: &mut sqlx::AnyConnection,
        p: &Principal,
        round: i64,
        r: &super::rounds::RoundRow,
        input: &CandidateInput,
        today: NaiveDate,
    ) -> Result<i64> {
        let mut errs = ValidationErrors::default();
        if r.status != RoundStatus::Open {
            errs.push(FieldError::new("status", "round_closed"));
        }
        let applied_on = input.applied_on.unwrap_or(today);
        if applied_on > today {
            errs.push(FieldError::new("applied_on", "date_in_future"));
        }
        // (source, names, sex, birth, national id, phone, cadre, education, since, institution, year)
        let mut c = input.clone();
        if let Some(w) = input.worker_id {
            if !worker_in_reach(&mut *tx, p, w).await? {
                return Err(StoreError::Invalid(ValidationErrors::single(
                    FieldError::new("worker_id", "unknown_worker").with("value", w),
                )));
            }
            let row = sqlx::query(
                "SELECT name_km, name_latin, sex, date_of_birth, national_id, phone, cadre, education_level, start_date \
                 FROM workers WHERE id = $1",
            )
            .bind(w)
            .fetch_one(&mut *tx)
            .await?;
            c.source = Some(CandidateSource::Registry);
            c.name_km = row.try_get("name_km")?;
            c.name_latin = row.try_get("name_latin")?;
            c.sex = Sex::parse(&row.try_get::<String, _>("sex")?);
            c.date_of_birth = opt_date(&row, "date_of_birth")?;
            c.national_id = row.try_get("national_id")?;
            c.phone = row.try_get("phone")?;
            c.cadre = Cadre::parse(&row.try_get::<String, _>("cadre")?);
            c.education_level =
                row.try_get::<Option<String>, _>("education_level")?.as_deref().and_then(EducationLevel::parse);
            c.experience_since = opt_date(&row, "start_date")?;
        } else if let Some(pl) = input.placement_id {
            let Some(row) = super::placements::placement_row(&mut *tx, p, pl).await? else {
                return Err(StoreError::Invalid(ValidationErrors::single(
                    FieldError::new("placement_id", "unknown_placement").with("value", pl),
                )));
            };
            let kind: String = row.try_get("kind")?;
            c.source = Some(if kind == "internship" { CandidateSource::Intern } else { CandidateSource::Graduate });
            c.name_km = row.try_get("name_km")?;
            c.name_latin = row.try_get("name_latin")?;
            c.sex = Sex::parse(&row.try_get::<String, _>("sex")?);
            c.date_of_birth = opt_date(&row, "date_of_birth")?;
            c.national_id = row.try_get("national_id")?;
            c.phone = row.try_get("phone")?;
            c.institution = row.try_get("institution")?;
            c.education_level =
                row.try_get::<Option<String>, _>("education_level")?.as_deref().and_then(EducationLevel::parse);
            c.graduated_year = row.try_get::<Option<i64>, _>("graduated_year")?.and_then(|y| i32::try_from(y).ok());
            c.cadre = input.cadre;
            c.experience_since = input.experience_since;
        } else {
            if c.source == Some(CandidateSource::Registry) {
                errs.push(FieldError::new("worker_id", "required"));
            }
            c.source = Some(c.source.unwrap_or(CandidateSource::External));
        }
        let (name_km, name_latin) = komlang_core::validate::person_names(&mut errs, &c.name_km, &c.name_latin);
        if c.sex.is_none() {
            errs.push(FieldError::new("sex", "required"));
        }
        if c.graduated_year.is_some_and(|y| !(1950..=2100).contains(&y)) {
            errs.push(FieldError::new("graduated_year", "invalid_year"));
        }
        if c.experience_since.is_some_and(|d| d > today) {
            errs.push(FieldError::new("experience_since", "date_in_future"));
        }
        let nid = text(&c.national_id);
        if nid.as_deref().is_some_and(|n| !komlang_core::validate::is_national_id(n)) {
            errs.push(FieldError::new("national_id", "invalid_national_id"));
        }
        let dup = sqlx::query(
            "SELECT id FROM candidates WHERE round_id = $1 AND ((worker_id IS NOT NULL AND worker_id = $2) \
             OR (national_id IS NOT NULL AND national_id = $3))",
        )
        .bind(round)
        .bind(input.worker_id.unwrap_or(-1))
        .bind(nid.clone())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(d) = dup {
            errs.push(FieldError::new("candidate", "duplicate_candidate").with("existing_id", d.try_get::<i64, _>(0)?));
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO candidates (round_id, worker_id, placement_id, source, name_km, name_latin, sex, date_of_birth, \
             national_id, phone, cadre, education_level, experience_since, institution, graduated_year, status, \
             applied_on, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, 'applied', $16, $17, $18) RETURNING id",
        )
        .bind(round)
        .bind(input.worker_id)
        .bind(input.placement_id.filter(|_| input.worker_id.is_none()))
        .bind(c.source.unwrap_or(CandidateSource::External).code())
        .bind(&name_km)
        .bind(&name_latin)
        .bind(c.sex.map(|s| s.code()))
        .bind(c.date_of_birth.map(|d| d.to_string()))
        .bind(&nid)
        .bind(text(&c.phone))
        .bind(c.cadre.map(|x| x.code()))
        .bind(c.education_level.map(|x| x.code()))
        .bind(c.experience_since.map(|d| d.to_string()))
        .bind(text(&c.institution))
        .bind(c.graduated_year.map(i64::from))
        .bind(applied_on.to_string())
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        bump(&mut *tx, round).await?;
        let after = serde_json::json!({
            "round_id": round, "worker_id": input.worker_id, "placement_id": input.placement_id,
            "source": c.source, "name_latin": name_latin, "national_id": nid,
        });
        record_audit(&mut *tx, p, "create", "candidate", &id.to_string(), None, Some(&after)).await?;
        Ok(id)
    }

    /// The round a candidate is in, and the candidate's status and version, for a change by
    /// one who runs the round.
    pub(crate) async fn candidate_to_change(
        &self,
        conn: &mut sqlx::AnyConnection,
        p: &Principal,
        id: i64,
    ) -> Result<(i64, CandidateStatus, i64, super::rounds::RoundRow)> {
        let row = sqlx::query("SELECT round_id, status, version FROM candidates WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        let round: i64 = row.try_get("round_id")?;
        let r = round_to_run(conn, p, round).await?;
        Ok((round, parse_col(&row, "status", CandidateStatus::parse)?, row.try_get("version")?, r))
    }

    /// Records a candidate's exam and interview scores (audited with the scores replaced).
    pub async fn set_candidate_scores(
        &self,
        p: &Principal,
        id: i64,
        input: &ScoresInput,
        expected: Option<i64>,
        today: NaiveDate,
    ) -> Result<super::Round> {
        let mut tx = self.begin_write().await?;
        let (round, status, version, _) = self.candidate_to_change(&mut tx, p, id).await?;
        check_version(version, expected)?;
        let mut errs = ValidationErrors::default();
        for (f, v) in [("exam_score", input.exam_score), ("interview_score", input.interview_score)] {
            if !score_ok(v) {
                errs.push(FieldError::new(f, "out_of_range").with("min", 0).with("max", 100));
            }
        }
        let notes = text(&input.interview_notes);
        if notes.as_ref().is_some_and(|n| n.chars().count() > NOTES_MAX) {
            errs.push(FieldError::new("interview_notes", "too_long").with("max", NOTES_MAX));
        }
        if status != CandidateStatus::Applied {
            errs.push(FieldError::new("status", "candidate_not_in_running").with("value", status.code()));
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let before = sqlx::query("SELECT exam_score, interview_score FROM candidates WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let before = serde_json::json!({
            "exam_score": before.try_get::<Option<f64>, _>("exam_score")?,
            "interview_score": before.try_get::<Option<f64>, _>("interview_score")?,
        });
        sqlx::query(
            "UPDATE candidates SET exam_score = $1, interview_score = $2, interview_notes = $3, version = version + 1 \
             WHERE id = $4",
        )
        .bind(input.exam_score)
        .bind(input.interview_score)
        .bind(&notes)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        bump(&mut tx, round).await?;
        let after = serde_json::json!({ "exam_score": input.exam_score, "interview_score": input.interview_score });
        record_audit(&mut tx, p, "score", "candidate", &id.to_string(), Some(&before), Some(&after)).await?;
        tx.commit().await?;
        self.recruitment_round(p, round, today).await
    }

    /// Withdraws a candidate who is still in the running (audited).
    pub async fn withdraw_candidate(&self, p: &Principal, id: i64, today: NaiveDate) -> Result<super::Round> {
        let mut tx = self.begin_write().await?;
        let (round, status, _, _) = self.candidate_to_change(&mut tx, p, id).await?;
        if status != CandidateStatus::Applied {
            return Err(crate::common::store::invalid("status", "candidate_not_in_running"));
        }
        sqlx::query("UPDATE candidates SET status = 'withdrawn', version = version + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        bump(&mut tx, round).await?;
        let after = serde_json::json!({ "status": "withdrawn" });
        record_audit(&mut tx, p, "withdraw", "candidate", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.recruitment_round(p, round, today).await
    }
}
