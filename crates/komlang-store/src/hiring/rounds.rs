//! Recruitment rounds and the posts they open.

use chrono::NaiveDate;
use komlang_core::hiring::{RankingRule, Requirements, RoundKind, RoundStatus};
use komlang_core::{Action, AdminLevel, Cadre, FieldError, Principal, Scope, Target, ValidationErrors, WorkerRole};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::candidates::{candidates_of, CandidateView};
use crate::common::audit::record_audit;
use crate::common::rows::parse_col;
use crate::common::sql::check_version;
use crate::{now_text, Result, Store, StoreError};

/// Longest name of a round.
pub const ROUND_NAME_MAX: usize = 200;

/// A round to open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundInput {
    pub name: String,
    pub kind: RoundKind,
    /// The province of a provincial round (its code); none for a national round.
    #[serde(default)]
    pub province: Option<String>,
    #[schema(value_type = String, format = Date)]
    pub opens_on: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub closes_on: NaiveDate,
    /// Default: exam 0.7, interview 0.3.
    #[serde(default)]
    pub ranking: Option<RankingRule>,
}

/// A round in a list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RoundBrief {
    pub id: i64,
    pub name: String,
    pub kind: RoundKind,
    pub province: Option<String>,
    pub opens_on: String,
    pub closes_on: String,
    pub status: RoundStatus,
    pub posts: u32,
    pub candidates: u32,
    pub appointed: u32,
}

/// A post a round opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoundPost {
    pub post_id: i64,
    pub admin_code: String,
    pub unit_name_en: String,
    pub unit_name_km: String,
    pub cadre: Cadre,
    pub role: WorkerRole,
    pub requirements: Requirements,
    /// No current posting fills it.
    pub vacant: bool,
    /// The candidate appointed to it in this round.
    pub appointed_candidate: Option<i64>,
    /// The round's [`RequirementSet`] its requirements belong to.
    pub requirement_set: u32,
}

/// The posts of a round that require the same: a candidate's fit is told once per set, not once
/// per post (a national round opens hundreds of posts, most of them alike).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RequirementSet {
    /// 1, 2, … in the order of the posts.
    pub set: u32,
    pub requirements: Requirements,
    pub post_ids: Vec<i64>,
}

/// Groups the posts by their requirements (each post told its set).
pub(crate) fn requirement_sets(posts: &mut [RoundPost]) -> Vec<RequirementSet> {
    let mut sets: Vec<RequirementSet> = Vec::new();
    for post in posts.iter_mut() {
        let n = match sets.iter_mut().find(|s| s.requirements == post.requirements) {
            Some(s) => {
                s.post_ids.push(post.post_id);
                s.set
            }
            None => {
                let n = sets.len() as u32 + 1;
                sets.push(RequirementSet {
                    set: n,
                    requirements: post.requirements.clone(),
                    post_ids: vec![post.post_id],
                });
                n
            }
        };
        post.requirement_set = n;
    }
    sets
}

/// A round, whole: its posts and its candidates in ranked order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Round {
    pub id: i64,
    pub name: String,
    pub kind: RoundKind,
    pub province: Option<String>,
    pub opens_on: String,
    pub closes_on: String,
    pub status: RoundStatus,
    pub ranking: RankingRule,
    pub posts: Vec<RoundPost>,
    /// The posts grouped by what they require; each candidate's `fit` is per set.
    pub requirement_sets: Vec<RequirementSet>,
    pub candidates: Vec<CandidateView>,
    /// The caller may change the round (enter candidates, scores, appoint).
    pub may_run: bool,
    pub version: i64,
    pub created_by: String,
    pub created_at: String,
}

komlang_core::versioned!(Round);

impl Round {
    /// The posts of the round a candidate meets every requirement of (vacant or not).
    pub fn eligible_posts<'a>(&'a self, c: &'a CandidateView) -> impl Iterator<Item = i64> + 'a {
        self.requirement_sets
            .iter()
            .filter(move |s| c.fit.iter().any(|f| f.set == s.set && f.unmet.is_empty()))
            .flat_map(|s| s.post_ids.iter().copied())
    }
}

/// A post to open in a round, with what it requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundPostInput {
    pub post_id: i64,
    #[serde(default)]
    pub requirements: Requirements,
}

/// Whether the caller sees a round of this area (none: national).
pub(crate) fn sees(p: &Principal, province: Option<&str>) -> bool {
    if !p.may_in_scope(Action::ReadRecruitment) {
        return false;
    }
    match (&p.scope, province) {
        (Scope::Nation, _) => true,
        (Scope::Unit { code, level: AdminLevel::Province }, Some(pr)) => code == pr,
        _ => false,
    }
}

/// Whether the caller runs a round of this area.
pub(crate) fn runs(p: &Principal, province: Option<&str>) -> bool {
    p.may_in_scope(Action::RunRecruitment) && sees(p, province)
}

pub(crate) struct RoundRow {
    pub province: Option<String>,
    pub status: RoundStatus,
    pub version: i64,
}

/// A round's area, status and version, when the caller sees it.
pub(crate) async fn round_row(conn: &mut AnyConnection, p: &Principal, id: i64) -> Result<RoundRow> {
    let r = sqlx::query("SELECT admin_code, status, version FROM recruitment_rounds WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let province: Option<String> = r.try_get("admin_code")?;
    if !sees(p, province.as_deref()) {
        return Err(StoreError::NotFound);
    }
    Ok(RoundRow { status: parse_col(&r, "status", RoundStatus::parse)?, version: r.try_get("version")?, province })
}

/// A round the caller runs (else 403, or 404 when they do not see it), locked for a change on
/// PostgreSQL.
pub(crate) async fn round_to_run(conn: &mut AnyConnection, p: &Principal, id: i64) -> Result<RoundRow> {
    if crate::common::sql::engine_of(conn) == crate::Engine::Postgres {
        sqlx::query("SELECT id FROM recruitment_rounds WHERE id = $1 FOR UPDATE").bind(id).execute(&mut *conn).await?;
    }
    let r = round_row(conn, p, id).await?;
    if !runs(p, r.province.as_deref()) {
        return Err(StoreError::Forbidden);
    }
    Ok(r)
}

pub(crate) async fn bump(conn: &mut AnyConnection, id: i64) -> Result<()> {
    sqlx::query("UPDATE recruitment_rounds SET version = version + 1 WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The posts of a round.
pub(crate) async fn posts_of(conn: &mut AnyConnection, round: i64) -> Result<Vec<RoundPost>> {
    let rows = sqlx::query(
        "SELECT rp.post_id, rp.requirements, po.admin_code, u.name_en, u.name_km, po.cadre, po.role, \
         (SELECT COUNT(*) FROM postings ps WHERE ps.post_id = po.id AND ps.end_date IS NULL) AS held, \
         (SELECT MIN(c.id) FROM candidates c WHERE c.round_id = rp.round_id AND c.appointed_post_id = po.id) AS appointed \
         FROM round_posts rp JOIN posts po ON po.id = rp.post_id JOIN admin_units u ON u.code = po.admin_code \
         WHERE rp.round_id = $1 ORDER BY po.admin_code, po.id",
    )
    .bind(round)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let req: String = r.try_get("requirements")?;
            Ok(RoundPost {
                post_id: r.try_get("post_id")?,
                admin_code: r.try_get("admin_code")?,
                unit_name_en: r.try_get("name_en")?,
                unit_name_km: r.try_get("name_km")?,
                cadre: parse_col(r, "cadre", Cadre::parse)?,
                role: parse_col(r, "role", WorkerRole::parse)?,
                requirements: serde_json::from_str(&req).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                vacant: r.try_get::<i64, _>("held")? == 0,
                appointed_candidate: r.try_get("appointed")?,
                requirement_set: 0,
            })
        })
        .collect()
}

impl Store {
    /// The rounds the caller sees, the latest first.
    pub async fn recruitment_rounds(&self, p: &Principal) -> Result<Vec<RoundBrief>> {
        p.require(Action::ReadRecruitment, Target::Any)?;
        let rows = sqlx::query(
            "SELECT r.id, r.name, r.kind, r.admin_code, r.opens_on, r.closes_on, r.status, \
             (SELECT COUNT(*) FROM round_posts rp WHERE rp.round_id = r.id) AS posts, \
             (SELECT COUNT(*) FROM candidates c WHERE c.round_id = r.id) AS candidates, \
             (SELECT COUNT(*) FROM candidates c WHERE c.round_id = r.id AND c.status = 'appointed') AS appointed \
             FROM recruitment_rounds r ORDER BY r.opens_on DESC, r.id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let province: Option<String> = r.try_get("admin_code")?;
            if !sees(p, province.as_deref()) {
                continue;
            }
            let n = |c: &str| -> Result<u32> { Ok(crate::common::rows::count(r.try_get(c)?)) };
            out.push(RoundBrief {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                kind: parse_col(r, "kind", RoundKind::parse)?,
                opens_on: r.try_get("opens_on")?,
                closes_on: r.try_get("closes_on")?,
                status: parse_col(r, "status", RoundStatus::parse)?,
                posts: n("posts")?,
                candidates: n("candidates")?,
                appointed: n("appointed")?,
                province,
            });
        }
        Ok(out)
    }

    /// One round: its posts, its candidates ranked, each candidate's eligibility per set of
    /// posts that require the same.
    pub async fn recruitment_round(&self, p: &Principal, id: i64, today: NaiveDate) -> Result<Round> {
        let mut conn = self.pool.acquire().await?;
        let row = round_row(&mut conn, p, id).await?;
        let r = sqlx::query("SELECT * FROM recruitment_rounds WHERE id = $1").bind(id).fetch_one(&mut *conn).await?;
        let mut posts = posts_of(&mut conn, id).await?;
        let requirement_sets = requirement_sets(&mut posts);
        let ranking =
            RankingRule { exam_weight: r.try_get("exam_weight")?, interview_weight: r.try_get("interview_weight")? };
        drop(conn);
        let candidates = candidates_of(self, id, &requirement_sets, &ranking, today).await?;
        Ok(Round {
            id,
            name: r.try_get("name")?,
            kind: parse_col(&r, "kind", RoundKind::parse)?,
            opens_on: r.try_get("opens_on")?,
            closes_on: r.try_get("closes_on")?,
            status: row.status,
            ranking,
            posts,
            requirement_sets,
            candidates,
            may_run: runs(p, row.province.as_deref()),
            version: row.version,
            created_by: r.try_get("created_by")?,
            created_at: r.try_get("created_at")?,
            province: row.province,
        })
    }

    /// Opens a round (audited): national rounds by national administrators, a province's by
    /// those who run recruitment there.
    pub async fn create_round(&self, p: &Principal, input: &RoundInput, today: NaiveDate) -> Result<Round> {
        p.require(Action::RunRecruitment, Target::Any)?;
        let mut errs = ValidationErrors::default();
        let name = komlang_core::clean_text(&input.name);
        if name.trim().is_empty() {
            errs.push(FieldError::new("name", "required"));
        } else if name.chars().count() > ROUND_NAME_MAX {
            errs.push(FieldError::new("name", "too_long").with("max", ROUND_NAME_MAX));
        }
        if input.closes_on < input.opens_on {
            errs.push(FieldError::new("closes_on", "before_start"));
        }
        let ranking = input.ranking.unwrap_or_default();
        if let Err(e) = ranking.validate() {
            errs.errors.extend(e.errors.into_iter().map(|f| FieldError { field: format!("ranking.{}", f.field), ..f }));
        }
        let province = input.province.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        match (input.kind, &province) {
            (RoundKind::National, Some(_)) => errs.push(FieldError::new("province", "national_round_has_no_province")),
            (RoundKind::Provincial, None) => errs.push(FieldError::new("province", "required")),
            (RoundKind::Provincial, Some(code)) => match self.admin_unit(code).await? {
                Some(u) if u.level == AdminLevel::Province => {}
                _ => errs.push(FieldError::new("province", "unknown_admin_unit").with("value", code)),
            },
            _ => {}
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        if !runs(p, province.as_deref()) {
            return Err(StoreError::Forbidden);
        }
        let _ = today;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO recruitment_rounds (name, kind, admin_code, opens_on, closes_on, status, exam_weight, \
             interview_weight, created_by, created_at) VALUES ($1, $2, $3, $4, $5, 'open', $6, $7, $8, $9) RETURNING id",
        )
        .bind(&name)
        .bind(input.kind.code())
        .bind(&province)
        .bind(input.opens_on.to_string())
        .bind(input.closes_on.to_string())
        .bind(ranking.exam_weight)
        .bind(ranking.interview_weight)
        .bind(&p.username)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let after = serde_json::json!({
            "name": name, "kind": input.kind, "province": province, "opens_on": input.opens_on,
            "closes_on": input.closes_on, "ranking": ranking,
        });
        record_audit(&mut tx, p, "create", "recruitment_round", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.recruitment_round(p, id, today).await
    }

    /// Closes a round to new candidates (ranking and appointment go on). Audited.
    pub async fn close_round(&self, p: &Principal, id: i64, expected: Option<i64>, today: NaiveDate) -> Result<Round> {
        let mut tx = self.begin_write().await?;
        let r = round_to_run(&mut tx, p, id).await?;
        check_version(r.version, expected)?;
        if r.status == RoundStatus::Closed {
            return Err(crate::common::store::invalid("status", "round_closed"));
        }
        sqlx::query("UPDATE recruitment_rounds SET status = 'closed', version = version + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let after = serde_json::json!({ "status": "closed" });
        record_audit(&mut tx, p, "update", "recruitment_round", &id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.recruitment_round(p, id, today).await
    }

    /// Opens a vacant post in a round with what it requires: a post in the round's area (a
    /// province's for a provincial round) and the caller's, approved and not filled. Audited.
    pub async fn add_round_post(
        &self,
        p: &Principal,
        round: i64,
        input: &RoundPostInput,
        today: NaiveDate,
    ) -> Result<Round> {
        let framework = self.current_framework().await?;
        let mut tx = self.begin_write().await?;
        let r = round_to_run(&mut tx, p, round).await?;
        let mut errs = ValidationErrors::default();
        if let Err(e) = input.requirements.validate() {
            errs.errors
                .extend(e.errors.into_iter().map(|f| FieldError { field: format!("requirements.{}", f.field), ..f }));
        }
        for (i, c) in input.requirements.competencies.iter().enumerate() {
            if !framework.areas.iter().any(|a| a.competencies.iter().any(|x| x.code == c.code)) {
                errs.push(
                    FieldError::new(&format!("requirements.competencies[{i}].code"), "unknown_competency")
                        .with("value", &c.code),
                );
            }
        }
        let post = sqlx::query(
            "SELECT po.admin_code, u.province_code, po.approved_year, po.ended_year, \
             (SELECT COUNT(*) FROM postings ps WHERE ps.post_id = po.id AND ps.end_date IS NULL) AS held \
             FROM posts po JOIN admin_units u ON u.code = po.admin_code WHERE po.id = $1",
        )
        .bind(input.post_id)
        .fetch_optional(&mut *tx)
        .await?;
        let year = chrono::Datelike::year(&today);
        match post {
            None => errs.push(FieldError::new("post_id", "unknown_post").with("value", input.post_id)),
            Some(post) => {
                let admin: String = post.try_get("admin_code")?;
                let province: Option<String> = post.try_get("province_code")?;
                let unit = self.admin_unit(&admin).await?;
                let in_area = r.province.as_deref().is_none_or(|pr| province.as_deref() == Some(pr));
                if !in_area || !unit.is_some_and(|u| p.scope.contains(&u)) {
                    errs.push(FieldError::new("post_id", "post_outside_round").with("value", input.post_id));
                } else if post.try_get::<i64, _>("held")? > 0 {
                    errs.push(FieldError::new("post_id", "post_filled"));
                } else if post.try_get::<Option<i64>, _>("ended_year")?.is_some_and(|e| e <= i64::from(year)) {
                    errs.push(FieldError::new("post_id", "post_ended"));
                }
            }
        }
        let taken = sqlx::query("SELECT 1 AS x FROM round_posts WHERE round_id = $1 AND post_id = $2")
            .bind(round)
            .bind(input.post_id)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            errs.push(FieldError::new("post_id", "post_in_round"));
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let req = serde_json::to_string(&input.requirements).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("INSERT INTO round_posts (round_id, post_id, requirements) VALUES ($1, $2, $3)")
            .bind(round)
            .bind(input.post_id)
            .bind(&req)
            .execute(&mut *tx)
            .await?;
        bump(&mut tx, round).await?;
        let after = serde_json::json!({ "post_id": input.post_id, "requirements": input.requirements });
        record_audit(&mut tx, p, "add_post", "recruitment_round", &round.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        self.recruitment_round(p, round, today).await
    }
}
