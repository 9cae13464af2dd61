//! Posts: approved one by one or a plan's at once, filled by a worker's posting, left vacant,
//! ended.

use chrono::NaiveDate;
use komlang_core::establishment::{approved_in, FundingSource, POSTS_AT_ONCE_MAX, YEARS};
use komlang_core::{Action, AdminLevel, Cadre, FieldError, Principal, Target, ValidationErrors, WorkerRole};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::rows::parse_col;
use crate::common::scope::{push_area, push_worker_scope, worker_in_reach};
use crate::common::sql::{lock_existing, offset, Sql};
use crate::common::store::invalid;
use crate::{now_text, Page, Result, Store, StoreError};

/// Longest note on a post.
pub const POST_NOTE_MAX: usize = 500;

/// Posts to approve: `count` alike.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewPosts {
    /// The admin unit the posts are in (any level; in the caller's scope).
    pub admin_code: String,
    /// The organization the posts belong to, if any (in the caller's reach).
    #[serde(default)]
    pub org_id: Option<i64>,
    pub cadre: Cadre,
    pub role: WorkerRole,
    pub funding: FundingSource,
    pub approved_year: i32,
    /// How many posts alike (1 to 5,000).
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub note: Option<String>,
}

fn one() -> u32 {
    1
}

/// The worker whose current posting fills a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PostHolder {
    pub worker_id: i64,
    pub name_latin: String,
    pub name_km: String,
    /// The day the posting that fills the post began.
    pub since: String,
}

/// A post, as approved, with who fills it now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Post {
    pub id: i64,
    pub admin_code: String,
    pub unit_name_en: String,
    pub unit_name_km: String,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub cadre: Cadre,
    pub role: WorkerRole,
    pub funding: FundingSource,
    pub approved_year: i32,
    /// Ended from the start of this year (absent: still approved).
    pub ended_year: Option<i32>,
    /// The deployment plan the post was approved from.
    pub plan_id: Option<i64>,
    pub note: Option<String>,
    pub holder: Option<PostHolder>,
    pub version: i64,
    pub created_by: String,
    pub created_at: String,
}

komlang_core::versioned!(Post);

/// A worker who may fill a post: posted at its unit, filling no post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PostCandidate {
    pub worker_id: i64,
    pub name_latin: String,
    pub name_km: String,
    pub workplace_code: String,
    pub org_id: Option<i64>,
}

impl PostCandidate {
    /// Whether this worker may fill `post` (same unit, and organization when the post names one).
    pub fn fits(&self, post: &Post) -> bool {
        self.workplace_code == post.admin_code && post.org_id.is_none_or(|o| self.org_id == Some(o))
    }
}

/// Filled or vacant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PostState {
    Filled,
    Vacant,
}

impl PostState {
    pub const ALL: [PostState; 2] = [PostState::Filled, PostState::Vacant];
}

/// Which posts to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PostQuery {
    /// Posts within this admin unit (default: the caller's scope).
    pub unit: Option<String>,
    /// Posts approved in this year (default: every post not ended by this year).
    pub year: i32,
    pub state: Option<PostState>,
    pub cadre: Option<Cadre>,
    pub funding: Option<FundingSource>,
    pub page: i64,
    pub per_page: i64,
}

/// How a deployment plan's posts enter the establishment: who pays for them, and the cadre and
/// role of the posts at each level (default: what the plan's norm counts, else para
/// professional social work agents).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlanApproval {
    pub funding: FundingSource,
    #[serde(default)]
    pub province: Option<PostKind>,
    #[serde(default)]
    pub district: Option<PostKind>,
    #[serde(default)]
    pub commune: Option<PostKind>,
}

/// The cadre and role of posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PostKind {
    pub cadre: Cadre,
    pub role: WorkerRole,
}

impl PlanApproval {
    fn kind_at(&self, level: AdminLevel) -> Option<(Cadre, WorkerRole)> {
        match level {
            AdminLevel::Province => self.province,
            AdminLevel::District => self.district,
            AdminLevel::Commune => self.commune,
            _ => None,
        }
        .map(|k| (k.cadre, k.role))
    }
}

/// The cadre and role a norm's rule counts at a level, for its posts (default: para-professional
/// social work agents at communes, district social workers, DoSVY officers at provinces).
pub(crate) fn post_kind(norm: &komlang_core::planning::Norm, level: AdminLevel) -> (Cadre, WorkerRole) {
    use komlang_core::planning::NormRule;
    let counts = norm.rules.iter().find_map(|r| match r {
        NormRule::PerUnit { level: l, counts, .. } | NormRule::Ratio { level: l, counts, .. } if *l == level => {
            Some(counts)
        }
        _ => None,
    });
    let cadre = counts.and_then(|c| c.cadres.first().copied()).unwrap_or(Cadre::ParaProfessional);
    let role = counts.and_then(|c| c.roles.first().copied()).unwrap_or(match level {
        AdminLevel::Province => WorkerRole::DosvyOfficer,
        AdminLevel::District => WorkerRole::DistrictSocialWorker,
        _ => WorkerRole::SocialWorkAgent,
    });
    (cadre, role)
}

const POST_COLS: &str = "p.id, p.admin_code, u.name_en AS unit_name_en, u.name_km AS unit_name_km, p.org_id, \
    o.name_en AS org_name, p.cadre, p.role, p.funding, p.approved_year, p.ended_year, p.plan_id, p.note, p.version, \
    p.created_by, p.created_at, h.worker_id AS holder_id, hw.name_latin AS holder_latin, hw.name_km AS holder_km, \
    h.start_date AS holder_since";

/// Posts with their unit, organization and current holder: `posts p`, `admin_units u`.
const POST_FROM: &str = " FROM posts p JOIN admin_units u ON u.code = p.admin_code \
    LEFT JOIN organizations o ON o.id = p.org_id \
    LEFT JOIN postings h ON h.post_id = p.id AND h.end_date IS NULL \
    LEFT JOIN workers hw ON hw.id = h.worker_id";

fn post_from_row(r: &AnyRow) -> Result<Post> {
    let holder = match r.try_get::<Option<i64>, _>("holder_id")? {
        Some(worker_id) => Some(PostHolder {
            worker_id,
            name_latin: r.try_get::<Option<String>, _>("holder_latin")?.unwrap_or_default(),
            name_km: r.try_get::<Option<String>, _>("holder_km")?.unwrap_or_default(),
            since: r.try_get::<Option<String>, _>("holder_since")?.unwrap_or_default(),
        }),
        None => None,
    };
    Ok(Post {
        id: r.try_get("id")?,
        admin_code: r.try_get("admin_code")?,
        unit_name_en: r.try_get("unit_name_en")?,
        unit_name_km: r.try_get("unit_name_km")?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        cadre: parse_col(r, "cadre", Cadre::parse)?,
        role: parse_col(r, "role", WorkerRole::parse)?,
        funding: parse_col(r, "funding", FundingSource::parse)?,
        approved_year: r.try_get::<i64, _>("approved_year")? as i32,
        ended_year: r.try_get::<Option<i64>, _>("ended_year")?.map(|y| y as i32),
        plan_id: r.try_get("plan_id")?,
        note: r.try_get("note")?,
        holder,
        version: r.try_get("version")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

fn year_error(field: &str, year: i32, errs: &mut ValidationErrors) {
    if !YEARS.contains(&year) {
        errs.push(FieldError::new(field, "invalid_year"));
    }
}

/// What an audit entry keeps of a post.
fn audited(post: &Post) -> serde_json::Value {
    serde_json::json!({
        "admin_code": post.admin_code, "org_id": post.org_id, "cadre": post.cadre, "role": post.role,
        "funding": post.funding, "approved_year": post.approved_year, "ended_year": post.ended_year,
        "plan_id": post.plan_id, "note": post.note,
        "holder": post.holder.as_ref().map(|h| h.worker_id),
    })
}

impl Store {
    /// One post the caller reaches (None: absent or outside the caller's scope).
    pub async fn post(&self, p: &Principal, id: i64) -> Result<Option<Post>> {
        p.require(Action::ReadPlanning, Target::Any)?;
        self.post_on(&mut *self.pool.acquire().await?, p, id).await
    }

    async fn post_on(&self, conn: &mut AnyConnection, p: &Principal, id: i64) -> Result<Option<Post>> {
        let mut sql = Sql::new(&format!("SELECT {POST_COLS}{POST_FROM} WHERE p.id = "));
        sql.int(id);
        push_area(&mut sql, &p.scope);
        sql.query().fetch_optional(&mut *conn).await?.as_ref().map(post_from_row).transpose()
    }

    /// Takes a post's lock (checked against the version its writer read) and reads it as locked:
    /// NotFound outside the caller's scope, before anything is locked.
    async fn lock_post(
        &self,
        conn: &mut AnyConnection,
        p: &Principal,
        post_id: i64,
        expected: Option<i64>,
    ) -> Result<Post> {
        if self.post_on(&mut *conn, p, post_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        lock_existing(&mut *conn, "posts", post_id, expected).await?;
        let mut post = self.post_on(&mut *conn, p, post_id).await?.ok_or(StoreError::NotFound)?;
        // As the writer read it: the version before this change's own raise.
        post.version -= 1;
        Ok(post)
    }

    /// Posts in the caller's scope (or within `q.unit`), approved in `q.year`, by unit and id.
    pub async fn posts(&self, p: &Principal, q: &PostQuery) -> Result<Page<Post>> {
        p.require(Action::ReadPlanning, Target::Any)?;
        let (area, _) = self.planning_area(p, q.unit.as_deref()).await?;
        let mut filter = Sql::new(" WHERE p.approved_year <= ");
        filter.int(q.year.into()).push(" AND (p.ended_year IS NULL OR p.ended_year > ").int(q.year.into()).push(")");
        push_area(&mut filter, &area);
        if let Some(c) = q.cadre {
            filter.push(" AND p.cadre = ").text(c.code());
        }
        if let Some(f) = q.funding {
            filter.push(" AND p.funding = ").text(f.code());
        }
        match q.state {
            Some(PostState::Filled) => filter.push(" AND h.worker_id IS NOT NULL"),
            Some(PostState::Vacant) => filter.push(" AND h.worker_id IS NULL"),
            None => &mut filter,
        };
        let mut count = Sql::new(&format!("SELECT COUNT(*) AS n{POST_FROM}"));
        count.append(&filter);
        let total: i64 = count.query().fetch_one(&self.pool).await?.try_get("n")?;
        let per_page = q.per_page.clamp(1, 500);
        let mut sql = Sql::new(&format!("SELECT {POST_COLS}{POST_FROM}"));
        sql.append(&filter);
        sql.push(" ORDER BY p.admin_code, p.id LIMIT ").int(per_page).push(" OFFSET ").int(offset(q.page, per_page));
        let items = sql.query().fetch_all(&self.pool).await?.iter().map(post_from_row).collect::<Result<_>>()?;
        Ok(Page { items, total, total_is_lower_bound: false, page: q.page.max(1), per_page })
    }

    /// Workers in the caller's reach whose current posting is at one of `codes` and fills no
    /// post (at most 2,000, by name).
    pub async fn post_candidates(&self, p: &Principal, codes: &[String]) -> Result<Vec<PostCandidate>> {
        p.require(Action::FillPosts, Target::Any)?;
        if codes.is_empty() {
            return Ok(Vec::new());
        }
        let mut sql = Sql::new(
            "SELECT w.id, w.name_latin, w.name_km, pg.workplace_code, pg.org_id FROM postings pg \
             JOIN workers w ON w.id = pg.worker_id JOIN admin_units u ON u.code = w.workplace_code \
             WHERE pg.end_date IS NULL AND pg.post_id IS NULL AND pg.workplace_code IN (",
        );
        for (i, c) in codes.iter().take(500).enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.text(c.clone());
        }
        sql.push(")");
        push_worker_scope(&mut sql, &p.worker_scope());
        sql.push(" ORDER BY w.name_latin, w.id LIMIT 2000");
        sql.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(PostCandidate {
                    worker_id: r.try_get("id")?,
                    name_latin: r.try_get("name_latin")?,
                    name_km: r.try_get("name_km")?,
                    workplace_code: r.try_get("workplace_code")?,
                    org_id: r.try_get("org_id")?,
                })
            })
            .collect()
    }

    /// Approves `n.count` posts alike, each audited. Answers their ids.
    pub async fn create_posts(&self, p: &Principal, n: &NewPosts) -> Result<Vec<i64>> {
        p.require(Action::KeepEstablishment, Target::Any)?;
        let mut errs = ValidationErrors::default();
        year_error("approved_year", n.approved_year, &mut errs);
        if n.count == 0 || n.count > POSTS_AT_ONCE_MAX {
            errs.push(FieldError::new("count", "count_range").with("max", POSTS_AT_ONCE_MAX));
        }
        let note = n.note.as_deref().map(komlang_core::clean_text).filter(|s| !s.trim().is_empty());
        if note.as_ref().is_some_and(|s| s.chars().count() > POST_NOTE_MAX) {
            errs.push(FieldError::new("note", "too_long").with("max", POST_NOTE_MAX));
        }
        match self.admin_unit(n.admin_code.trim()).await? {
            Some(u) if p.scope.contains(&u) => {}
            _ => errs.push(FieldError::new("admin_code", "unknown_admin_unit").with("value", n.admin_code.trim())),
        }
        if let Some(org) = n.org_id {
            if self.get_org(p, org).await?.is_none() {
                errs.push(FieldError::new("org_id", "unknown_organization").with("value", org));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let mut tx = self.begin_write().await?;
        let ids = insert_posts(&mut tx, p, n, note.as_deref(), None).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Approves a saved deployment plan's posts into the establishment in one action: each
    /// planned post becomes a post of its unit, approved in its year. Once per plan.
    pub async fn approve_plan_posts(&self, p: &Principal, plan_id: i64, a: &PlanApproval) -> Result<Vec<i64>> {
        p.require(Action::KeepEstablishment, Target::Any)?;
        let Some(plan) = self.saved_plan(p, plan_id).await? else { return Err(StoreError::NotFound) };
        let norm = self.planning_norm(p, &plan.norm).await?.map(|n| n.norm);
        let mut tx = self.begin_write().await?;
        // One approval at a time per plan: the second finds the first's posts.
        crate::common::sql::lock_key(&mut tx, &format!("plan-approval-{plan_id}")).await?;
        let done: i64 = sqlx::query("SELECT COUNT(*) AS n FROM posts WHERE plan_id = $1")
            .bind(plan_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if done > 0 {
            sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
            return Err(invalid("plan", "plan_approved"));
        }
        let mut ids = Vec::new();
        for planned in &plan.result.posts {
            let (cadre, role) = a.kind_at(planned.level).unwrap_or_else(|| match &norm {
                Some(n) => post_kind(n, planned.level),
                None => (Cadre::ParaProfessional, WorkerRole::SocialWorkAgent),
            });
            let n = NewPosts {
                admin_code: planned.admin_code.clone(),
                org_id: None,
                cadre,
                role,
                funding: a.funding,
                approved_year: planned.year,
                count: planned.count,
                note: None,
            };
            ids.extend(insert_posts(&mut tx, p, &n, None, Some(plan_id)).await?);
        }
        let after = serde_json::json!({ "posts": ids.len(), "approval": a });
        record_audit(&mut tx, p, "approve_posts", "plan", &plan_id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Fills a post with the worker whose current posting is at the post's unit (and
    /// organization, when the post names one), from `on`: the worker's posting from that day
    /// names the post. Refused when the post is filled or ended, or the worker fills another.
    pub async fn fill_post(
        &self,
        p: &Principal,
        post_id: i64,
        worker_id: i64,
        on: NaiveDate,
        expected: Option<i64>,
    ) -> Result<Post> {
        p.require(Action::FillPosts, Target::Any)?;
        p.require(Action::EditWorker, Target::worker(worker_id))?;
        let mut tx = self.begin_write().await?;
        let before = self.lock_post(&mut tx, p, post_id, expected).await?;
        if !worker_in_reach(&mut tx, p, worker_id).await? {
            sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("worker_id", "unknown_worker").with("value", worker_id),
            )));
        }
        let year = chrono::Datelike::year(&on);
        let refusal = if before.holder.is_some() {
            Some(invalid("post", "post_filled"))
        } else if !approved_in(before.approved_year, before.ended_year, year) {
            Some(invalid("post", "post_ended"))
        } else {
            None
        };
        if let Some(e) = refusal {
            sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
            return Err(e);
        }
        let current = sqlx::query(
            "SELECT id, org_id, workplace_code, post_id, start_date FROM postings \
             WHERE worker_id = $1 AND end_date IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(worker_id)
        .fetch_optional(&mut *tx)
        .await?;
        let refusal = match &current {
            None => Some(invalid("worker_id", "no_current_posting")),
            Some(c) if c.try_get::<Option<i64>, _>("post_id")?.is_some() => {
                Some(invalid("worker_id", "worker_holds_post"))
            }
            Some(c)
                if c.try_get::<String, _>("workplace_code")? != before.admin_code
                    || before
                        .org_id
                        .is_some_and(|o| c.try_get::<Option<i64>, _>("org_id").ok().flatten() != Some(o)) =>
            {
                Some(invalid("worker_id", "not_posted_there"))
            }
            _ => None,
        };
        if let Some(e) = refusal {
            sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
            return Err(e);
        }
        repost(&mut tx, worker_id, Some(post_id), on).await?;
        let after = self.post_on(&mut tx, p, post_id).await?.ok_or(StoreError::NotFound)?;
        record_audit(&mut tx, p, "fill", "post", &post_id.to_string(), Some(&audited(&before)), Some(&audited(&after)))
            .await?;
        tx.commit().await?;
        self.post(p, post_id).await?.ok_or(StoreError::NotFound)
    }

    /// Leaves a post vacant from `on`: its holder stays at the same place on a posting that
    /// fills no post.
    pub async fn vacate_post(&self, p: &Principal, post_id: i64, on: NaiveDate, expected: Option<i64>) -> Result<Post> {
        p.require(Action::FillPosts, Target::Any)?;
        let mut tx = self.begin_write().await?;
        let before = self.lock_post(&mut tx, p, post_id, expected).await?;
        if let Some(h) = &before.holder {
            repost(&mut tx, h.worker_id, None, on).await?;
        }
        let after = self.post_on(&mut tx, p, post_id).await?.ok_or(StoreError::NotFound)?;
        record_audit(
            &mut tx,
            p,
            "vacate",
            "post",
            &post_id.to_string(),
            Some(&audited(&before)),
            Some(&audited(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Ends a post from the start of `year` (a vacant post, or one filled only until then).
    pub async fn end_post(
        &self,
        p: &Principal,
        post_id: i64,
        year: i32,
        today: NaiveDate,
        expected: Option<i64>,
    ) -> Result<Post> {
        p.require(Action::KeepEstablishment, Target::Any)?;
        let mut errs = ValidationErrors::default();
        year_error("ended_year", year, &mut errs);
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let mut tx = self.begin_write().await?;
        let before = self.lock_post(&mut tx, p, post_id, expected).await?;
        let refusal = if year <= before.approved_year {
            Some(invalid("ended_year", "end_before_approval"))
        } else if before.holder.is_some() && year <= chrono::Datelike::year(&today) {
            Some(invalid("post", "post_filled"))
        } else {
            None
        };
        if let Some(e) = refusal {
            sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
            return Err(e);
        }
        sqlx::query("UPDATE posts SET ended_year = $1 WHERE id = $2")
            .bind(i64::from(year))
            .bind(post_id)
            .execute(&mut *tx)
            .await?;
        let after = self.post_on(&mut tx, p, post_id).await?.ok_or(StoreError::NotFound)?;
        record_audit(&mut tx, p, "end", "post", &post_id.to_string(), Some(&audited(&before)), Some(&audited(&after)))
            .await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// Inserts `n.count` posts (checked by the caller), each audited.
async fn insert_posts(
    conn: &mut AnyConnection,
    p: &Principal,
    n: &NewPosts,
    note: Option<&str>,
    plan_id: Option<i64>,
) -> Result<Vec<i64>> {
    let now = now_text();
    let mut ids = Vec::with_capacity(n.count as usize);
    for _ in 0..n.count {
        let id: i64 = sqlx::query(
            "INSERT INTO posts (admin_code, org_id, cadre, role, funding, approved_year, plan_id, note, created_by, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(n.admin_code.trim())
        .bind(n.org_id)
        .bind(n.cadre.code())
        .bind(n.role.code())
        .bind(n.funding.code())
        .bind(i64::from(n.approved_year))
        .bind(plan_id)
        .bind(note)
        .bind(&p.username)
        .bind(&now)
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
        let after = serde_json::json!({
            "admin_code": n.admin_code.trim(), "org_id": n.org_id, "cadre": n.cadre, "role": n.role,
            "funding": n.funding, "approved_year": n.approved_year, "plan_id": plan_id, "note": note,
        });
        record_audit(&mut *conn, p, "create", "post", &id.to_string(), None, Some(&after)).await?;
        ids.push(id);
    }
    Ok(ids)
}

/// The worker's current posting names `post_id` (None: no post) from `on`: the posting is
/// changed when it began that day or later, else it ends on `on` and a copy begins.
pub(crate) async fn repost(
    conn: &mut AnyConnection,
    worker_id: i64,
    post_id: Option<i64>,
    on: NaiveDate,
) -> Result<()> {
    let Some(cur) = sqlx::query(
        "SELECT id, start_date FROM postings WHERE worker_id = $1 AND end_date IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(worker_id)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(());
    };
    let id: i64 = cur.try_get("id")?;
    let start: String = cur.try_get("start_date")?;
    let on_text = on.to_string();
    if start >= on_text {
        sqlx::query("UPDATE postings SET post_id = $1 WHERE id = $2")
            .bind(post_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
        return Ok(());
    }
    sqlx::query("UPDATE postings SET end_date = $1 WHERE id = $2").bind(&on_text).bind(id).execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO postings (worker_id, org_id, role, position_title, workplace_code, start_date, end_date, post_id) \
         SELECT worker_id, org_id, role, position_title, workplace_code, $1, NULL, $2 FROM postings WHERE id = $3",
    )
    .bind(&on_text)
    .bind(post_id)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The post a worker's current posting fills, when their change keeps it: a new title or role at
/// the same place and employer keeps the post; moving, leaving or coming back does not (the
/// posting ends and the post falls vacant).
pub(crate) async fn post_kept(
    conn: &mut AnyConnection,
    worker_id: i64,
    before: &komlang_core::WorkerDraft,
    after: &komlang_core::WorkerDraft,
) -> Result<Option<i64>> {
    let moved = after.workplace_code != before.workplace_code || after.org_id != before.org_id;
    if moved || after.status.is_separated() != before.status.is_separated() {
        return Ok(None);
    }
    Ok(sqlx::query("SELECT post_id FROM postings WHERE worker_id = $1 AND end_date IS NULL AND post_id IS NOT NULL")
        .bind(worker_id)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?)
}

/// The worker's new current posting fills `post` (kept by [`post_kept`]).
pub(crate) async fn refill(conn: &mut AnyConnection, worker_id: i64, post: Option<i64>) -> Result<()> {
    if let Some(post) = post {
        sqlx::query("UPDATE postings SET post_id = $1 WHERE worker_id = $2 AND end_date IS NULL")
            .bind(post)
            .bind(worker_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}
