//! The demo establishment: a post for each demo government worker's posting (filled, or vacant
//! since the worker left), the investment case's new district posts approved this year and still
//! vacant, a few communes' posts paid by a development partner, and the national totals of 2019
//! and 2020 that seed 002 reports. Loaded once (a meta row records it); the same on both engines.

use chrono::{Datelike, NaiveDate};
use sqlx::Row;

use crate::common::audit::record_audit;
use crate::common::meta::meta_insert_new;
use crate::common::principal::system_principal;
use crate::{now_text, Result, Store};

const DEMO_ESTABLISHMENT_KEY: &str = "demo_establishment_version";

/// Seed 002's totals of government social service posts (national).
const SEED_TOTALS: [(i64, i64); 2] = [(2019, 3_764), (2020, 4_272)];
const SEED_SOURCE: &str = "Investments in Strengthening the Social Service Workforce, Cambodia (2024)";

impl Store {
    pub(crate) async fn load_demo_establishment(&self, today: NaiveDate) -> Result<usize> {
        if self.meta_get(DEMO_ESTABLISHMENT_KEY).await?.is_some() {
            return Ok(0);
        }
        // The last posting of each demo government worker: current, or ended when they left.
        let rows = sqlx::query(
            "SELECT pg.id, pg.worker_id, pg.workplace_code, pg.org_id, pg.role, pg.start_date, pg.end_date, w.cadre \
             FROM postings pg JOIN workers w ON w.id = pg.worker_id \
             WHERE w.synthetic = 1 AND w.sector = 'government' AND pg.id = \
             (SELECT MAX(l.id) FROM postings l WHERE l.worker_id = pg.worker_id) ORDER BY pg.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut tx = self.begin_write().await?;
        if !meta_insert_new(&mut tx, DEMO_ESTABLISHMENT_KEY, "1").await? {
            tx.rollback().await?;
            return Ok(0);
        }
        let now = now_text();
        let this_year = today.year();
        let mut posts = 0usize;
        for r in &rows {
            let posting: i64 = r.try_get("id")?;
            let role: String = r.try_get("role")?;
            let start: String = r.try_get("start_date")?;
            let year = start.get(..4).and_then(|y| y.parse::<i32>().ok()).unwrap_or(this_year).clamp(2015, this_year);
            let funding = if role.starts_with("ccwc") { "subnational_budget" } else { "mosvy_payroll" };
            let id: i64 = sqlx::query(
                "INSERT INTO posts (admin_code, org_id, cadre, role, funding, approved_year, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'demo', $7) RETURNING id",
            )
            .bind(r.try_get::<String, _>("workplace_code")?)
            .bind(r.try_get::<Option<i64>, _>("org_id")?)
            .bind(r.try_get::<String, _>("cadre")?)
            .bind(&role)
            .bind(funding)
            .bind(i64::from(year))
            .bind(&now)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            sqlx::query("UPDATE postings SET post_id = $1 WHERE id = $2")
                .bind(id)
                .bind(posting)
                .execute(&mut *tx)
                .await?;
            posts += 1;
        }
        // The investment case's district posts, approved this year, not yet filled; and a post in
        // one commune of three, paid by a development partner.
        let units =
            sqlx::query("SELECT code, level FROM admin_units WHERE level IN ('district', 'commune') ORDER BY code")
                .fetch_all(&self.pool)
                .await?;
        for (n, u) in units.iter().enumerate() {
            let code: String = u.try_get("code")?;
            let level: String = u.try_get("level")?;
            let (count, cadre, role, funding) = match level.as_str() {
                "district" => (2, "para_professional", "district_social_worker", "mosvy_payroll"),
                _ if n % 3 == 0 => (1, "para_professional", "social_work_agent", "development_partner"),
                _ => continue,
            };
            for _ in 0..count {
                sqlx::query(
                    "INSERT INTO posts (admin_code, cadre, role, funding, approved_year, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, 'demo', $6)",
                )
                .bind(&code)
                .bind(cadre)
                .bind(role)
                .bind(funding)
                .bind(i64::from(this_year))
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                posts += 1;
            }
        }
        let country: Option<String> = sqlx::query("SELECT code FROM admin_units WHERE level = 'country'")
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?;
        if let Some(country) = country {
            for (year, approved) in SEED_TOTALS {
                sqlx::query(
                    "INSERT INTO establishment_records (admin_code, year, approved, filled, source, recorded_by, \
                     recorded_at) VALUES ($1, $2, $3, NULL, $4, 'demo', $5)",
                )
                .bind(&country)
                .bind(year)
                .bind(approved)
                .bind(SEED_SOURCE)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            }
        }
        let after = serde_json::json!({ "posts": posts, "records": SEED_TOTALS.len() });
        record_audit(&mut tx, &system_principal("demo"), "import", "establishment", "demo-v1", None, Some(&after))
            .await?;
        tx.commit().await?;
        Ok(posts)
    }
}
