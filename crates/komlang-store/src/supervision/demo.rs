//! Demo supervision in the demo province: in each of its districts, the most experienced
//! professional or para-professional supervises up to eight community-level workers of the
//! district (every other one as a dedicated supervisor), with a group session a month ago for
//! half of them and none for the rest. Loaded once (a meta row records it); the same on both
//! engines.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sqlx::Row;

use crate::common::audit::record_audit;
use crate::common::demo::DEMO_PROVINCE;
use crate::common::meta::meta_insert_new;
use crate::common::principal::system_principal;
use crate::{now_text, Result, Store};

const DEMO_SUPERVISION_KEY: &str = "demo_supervision_version";

impl Store {
    pub(crate) async fn load_demo_supervision(&self, today: NaiveDate) -> Result<usize> {
        if self.meta_get(DEMO_SUPERVISION_KEY).await?.is_some() {
            return Ok(0);
        }
        let rows = sqlx::query(
            "SELECT w.id, w.cadre, u.district_code FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
             WHERE w.synthetic = 1 AND u.province_code = $1 AND u.district_code IS NOT NULL \
             AND w.status IN ('active', 'on_leave') ORDER BY u.district_code, w.start_date, w.id",
        )
        .bind(DEMO_PROVINCE)
        .fetch_all(&self.pool)
        .await?;
        // district → (supervisor, community-level workers)
        let mut districts: BTreeMap<String, (Option<i64>, Vec<i64>)> = BTreeMap::new();
        for r in &rows {
            let district: String = r.try_get("district_code")?;
            let cadre: String = r.try_get("cadre")?;
            let id: i64 = r.try_get("id")?;
            let d = districts.entry(district).or_default();
            match cadre.as_str() {
                "professional_social_worker" | "para_professional" if d.0.is_none() => d.0 = Some(id),
                "para_social_worker" => d.1.push(id),
                _ => {}
            }
        }
        let mut tx = self.begin_write().await?;
        if !meta_insert_new(&mut tx, DEMO_SUPERVISION_KEY, "1").await? {
            tx.rollback().await?;
            return Ok(0);
        }
        let now = now_text();
        let start = (today - chrono::Days::new(400)).to_string();
        let (mut assignments, mut sessions) = (0usize, 0usize);
        for (n, (_, (supervisor, team))) in districts.iter().enumerate() {
            let Some(sup) = supervisor else { continue };
            let team: Vec<i64> = team.iter().copied().take(8).collect();
            for w in &team {
                sqlx::query(
                    "INSERT INTO supervision_assignments (supervisor_id, supervisee_id, dedicated, start_date, \
                     created_by, created_at) VALUES ($1, $2, $3, $4, 'demo', $5)",
                )
                .bind(sup)
                .bind(w)
                .bind(i64::from(n % 2 == 0))
                .bind(&start)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
                assignments += 1;
            }
            let attended: Vec<i64> = team.iter().copied().take(team.len() / 2).collect();
            if attended.is_empty() {
                continue;
            }
            let id: i64 = sqlx::query(
                "INSERT INTO supervision_sessions (supervisor_id, held_on, model, functions, notes, recorded_by, \
                 recorded_at) VALUES ($1, $2, 'group', 'educational supportive', $3, 'demo', $4) RETURNING id",
            )
            .bind(sup)
            .bind((today - chrono::Days::new(30)).to_string())
            .bind("Case reviews of the month; referral pathways for children without parental care.")
            .bind(&now)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            for w in attended {
                sqlx::query("INSERT INTO supervision_attendees (session_id, worker_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(w)
                    .execute(&mut *tx)
                    .await?;
            }
            sessions += 1;
        }
        let after = serde_json::json!({ "assignments": assignments, "sessions": sessions });
        record_audit(&mut tx, &system_principal("demo"), "import", "supervision", "demo-v1", None, Some(&after))
            .await?;
        tx.commit().await?;
        Ok(assignments)
    }
}
