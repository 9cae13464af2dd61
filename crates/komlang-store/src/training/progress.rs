//! Progress of groups of workers toward each programme's certificate, who is eligible, and the
//! training targets.

use std::collections::{BTreeMap, HashMap};

use komlang_core::training::*;
use komlang_core::*;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::catalogue::Programme;
use super::minutes;
use crate::common::audit::record_audit;
use crate::common::rows::parse_col;
use crate::common::scope::{push_attribute_filters, push_worker_scope, AttributeFilter};
use crate::common::sql::{lock_key, Sql};
use crate::workers::{brief_from_row, WorkerBrief, BRIEF_COLS};
use crate::{Result, Store};

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

impl Store {
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
        p.require(Action::ReadWorkers, Target::Any)?;
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
        p.require(Action::ReadWorkers, Target::Any)?;
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
        p.require(Action::KeepTrainingCatalogue, Target::Any)?;
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
        let key = format!("{code}/{}/{}", level.code(), input.year);
        let mut tx = self.begin_write().await?;
        // Locked, then read: the audit's "before" is the target as stored (none for a new one).
        lock_key(&mut tx, &format!("training_target:{key}")).await?;
        let before = sqlx::query(
            "SELECT group_code, group_en, level, year, target, roles FROM training_targets \
             WHERE group_code = $1 AND level = $2 AND year = $3",
        )
        .bind(code)
        .bind(level.code())
        .bind(input.year as i64)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| -> Result<TargetInput> {
            let roles: String = r.try_get("roles")?;
            Ok(TargetInput {
                group_code: r.try_get("group_code")?,
                group_en: r.try_get("group_en")?,
                level: r.try_get("level")?,
                year: r.try_get::<i64, _>("year")? as i32,
                target: r.try_get("target")?,
                roles: roles.split_whitespace().map(str::to_string).collect(),
            })
        })
        .transpose()?;
        let after = TargetInput {
            group_code: code.to_string(),
            group_en: input.group_en.trim().to_string(),
            level: level.code().to_string(),
            year: input.year,
            target: input.target,
            roles: roles.iter().map(|r| r.to_string()).collect(),
        };
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
        let action = if before.is_some() { "update" } else { "create" };
        record_audit(&mut tx, p, action, "training_target", &key, before.as_ref(), Some(&after)).await?;
        tx.commit().await?;
        Ok(())
    }
}
