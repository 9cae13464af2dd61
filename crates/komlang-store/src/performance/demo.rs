//! Demo appraisals in the demo province, for the roles with a job description (CCWC focal
//! points, district social workers): of every four such workers, one was appraised for last
//! year (due again within weeks), one was last appraised 18 months ago (overdue), one has this
//! year's appraisal open with the self-appraisal written, one was never appraised; corrective
//! actions with follow-ups (one past its date), training agreed against a competency, a
//! certificate of appreciation. The demo `worker` account's own appraisal is open and waits for
//! their self-appraisal. Loaded once (a meta row records it); the same on both engines.

use chrono::{Datelike, Days, NaiveDate};
use sqlx::{AnyConnection, Row};

use super::jobs::current_on;
use crate::common::audit::record_audit;
use crate::common::demo::DEMO_PROVINCE;
use crate::common::meta::meta_insert_new;
use crate::common::principal::system_principal;
use crate::{now_text, Result, Store};

const DEMO_PERFORMANCE_KEY: &str = "demo_performance_version";

/// Ratings the demo gives, cycled over the functions.
const RATINGS: [i64; 7] = [3, 3, 2, 4, 3, 2, 3];

struct Appraisal<'a> {
    worker: i64,
    cycle: String,
    start: NaiveDate,
    end: NaiveDate,
    completed: Option<NaiveDate>,
    self_written: bool,
    overall: Option<&'a str>,
    shift: usize,
}

async fn insert(conn: &mut AnyConnection, jd: i64, functions: &[i64], a: &Appraisal<'_>) -> Result<i64> {
    let now = now_text();
    let id: i64 = sqlx::query(
        "INSERT INTO appraisals (worker_id, cycle, period_start, period_end, job_description_id, form, status, overall, \
         supervisor_comment, self_comment, self_submitted_at, appraiser, completed_on, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'demo', $12, $13, $14) RETURNING id",
    )
    .bind(a.worker)
    .bind(&a.cycle)
    .bind(a.start.to_string())
    .bind(a.end.to_string())
    .bind(jd)
    .bind(if a.shift.is_multiple_of(3) { "informal" } else { "formal" })
    .bind(if a.completed.is_some() { "completed" } else { "open" })
    .bind(a.overall)
    .bind(a.completed.map(|_| "Good relations with the families of the commune; referrals followed up late."))
    .bind(a.self_written.then_some("I need more training on assessments of children at risk."))
    .bind(a.self_written.then(|| now.clone()))
    .bind(a.completed.map(|d| d.to_string()))
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    for (i, f) in functions.iter().enumerate() {
        let rating = RATINGS[(i + a.shift) % RATINGS.len()];
        sqlx::query(
            "INSERT INTO appraisal_ratings (appraisal_id, function_id, rating, self_rating) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(f)
        .bind(a.completed.map(|_| rating))
        .bind(a.self_written.then_some((rating + 1).min(4)))
        .execute(&mut *conn)
        .await?;
    }
    Ok(id)
}

async fn action(
    conn: &mut AnyConnection,
    appraisal: i64,
    kind: &str,
    text: &str,
    competency: Option<&str>,
    follow_up: Option<NaiveDate>,
) -> Result<()> {
    let course: Option<i64> = match competency {
        Some(c) => sqlx::query("SELECT id, competencies FROM training_courses ORDER BY id")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .find(|r| r.try_get::<String, _>("competencies").is_ok_and(|s| s.split_whitespace().any(|x| x == c)))
            .map(|r| r.try_get("id"))
            .transpose()?,
        None => None,
    };
    sqlx::query(
        "INSERT INTO appraisal_actions (appraisal_id, kind, description, competency_code, course_id, follow_up_on, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'demo', $7)",
    )
    .bind(appraisal)
    .bind(kind)
    .bind(text)
    .bind(competency)
    .bind(course)
    .bind(follow_up.map(|d| d.to_string()))
    .bind(now_text())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    pub(crate) async fn load_demo_performance(&self, today: NaiveDate) -> Result<usize> {
        if self.meta_get(DEMO_PERFORMANCE_KEY).await?.is_some() {
            return Ok(0);
        }
        let own: Option<i64> = sqlx::query("SELECT worker_id FROM users WHERE username = 'worker'")
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get::<Option<i64>, _>(0))
            .transpose()?
            .flatten();
        let mut tx = self.begin_write().await?;
        if !meta_insert_new(&mut tx, DEMO_PERFORMANCE_KEY, "1").await? {
            tx.rollback().await?;
            return Ok(0);
        }
        let year = today.year();
        let date = |y: i32, m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(today);
        let mut written = 0usize;
        for role in [komlang_core::WorkerRole::CcwcFocalPoint, komlang_core::WorkerRole::DistrictSocialWorker] {
            let Some(jd) = current_on(&mut tx, role).await? else { continue };
            let functions: Vec<i64> = jd.functions.iter().map(|f| f.id).collect();
            let workers: Vec<i64> = sqlx::query(
                "SELECT w.id FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
                 WHERE w.synthetic = 1 AND w.status = 'active' AND w.role = $1 AND u.province_code = $2 ORDER BY w.id",
            )
            .bind(role.code())
            .bind(DEMO_PROVINCE)
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
            for (i, w) in workers.iter().enumerate() {
                let kind = if Some(*w) == own { 2 } else { i % 4 };
                let a = match kind {
                    0 => Appraisal {
                        worker: *w,
                        cycle: (year - 1).to_string(),
                        start: date(year - 1, 1, 1),
                        end: date(year - 1, 12, 31),
                        completed: Some(date(year, 1, 25)),
                        self_written: true,
                        overall: Some(["meets", "exceeds", "needs_improvement"][i % 3]),
                        shift: i,
                    },
                    1 => {
                        let end = today - Days::new(548);
                        Appraisal {
                            worker: *w,
                            cycle: end.year().to_string(),
                            start: end - Days::new(364),
                            end,
                            completed: Some(end + Days::new(20)),
                            self_written: false,
                            overall: Some("meets"),
                            shift: i,
                        }
                    }
                    2 => Appraisal {
                        worker: *w,
                        cycle: year.to_string(),
                        start: date(year, 1, 1),
                        end: date(year, 12, 31),
                        completed: None,
                        self_written: Some(*w) != own,
                        overall: None,
                        shift: i,
                    },
                    _ => continue,
                };
                let id = insert(&mut tx, jd.id, &functions, &a).await?;
                written += 1;
                if kind == 0 && i % 3 == 2 {
                    action(
                        &mut tx,
                        id,
                        "corrective",
                        "Follow up every referral within two weeks and record it in the case system.",
                        None,
                        Some(if i % 2 == 0 { today - Days::new(10) } else { today + Days::new(30) }),
                    )
                    .await?;
                    action(&mut tx, id, "training", "Assessment of children at risk.", Some("skills.02"), None).await?;
                }
                if kind == 0 && i % 3 == 1 {
                    action(&mut tx, id, "reward", "Certificate of appreciation from the DoSVY.", None, None).await?;
                }
            }
        }
        let after = serde_json::json!({ "appraisals": written });
        record_audit(&mut tx, &system_principal("demo"), "import", "appraisals", "demo-v1", None, Some(&after)).await?;
        tx.commit().await?;
        Ok(written)
    }
}
