//! Demo caseloads: a Primero case list (government workers: social workers and CCWC focal
//! points) and an OSCaR one (NGO staff), as of the demo's day, drawn from the workers' ids; most
//! users linked to their workers, a few left for the linking page, one worker far above the
//! threshold. Loaded once (a meta row records it). Case ids are made up; no child is named.

use chrono::NaiveDate;
use komlang_core::caseload::{owner_key, CaseSource};
use sqlx::Row;

use super::day_text;
use crate::common::meta::meta_insert_new;
use crate::{now_text, Result, Store};

const DEMO_CASELOADS_KEY: &str = "demo_caseloads_version";

impl Store {
    pub(crate) async fn load_demo_caseloads(&self, today: NaiveDate) -> Result<()> {
        if self.meta_get(DEMO_CASELOADS_KEY).await?.is_some() {
            return Ok(());
        }
        let rows = sqlx::query(
            "SELECT id, sector, workplace_code, name_latin FROM workers WHERE synthetic = 1 AND status = 'active' \
             AND role IN ('ccwc_focal_point', 'district_social_worker', 'dosvy_case_management_officer', \
             'social_work_agent', 'ngo_case_worker', 'ngo_social_worker') \
             ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut tx = self.begin_write().await?;
        if !meta_insert_new(&mut tx, DEMO_CASELOADS_KEY, "1").await? {
            tx.rollback().await?;
            return Ok(());
        }
        let day = day_text(today);
        let now = now_text();
        for source in CaseSource::ALL {
            let mut cases: Vec<(String, &str, String, String)> = Vec::new();
            let mut links: Vec<(String, i64)> = Vec::new();
            for (k, r) in rows.iter().enumerate() {
                let id: i64 = r.try_get("id")?;
                let sector: String = r.try_get("sector")?;
                let ngo = sector == "ngo";
                if ngo != (source == CaseSource::Oscar) {
                    continue;
                }
                let place: String = r.try_get("workplace_code")?;
                let owner = match source {
                    CaseSource::Primero => format!("cp_{id}"),
                    CaseSource::Oscar => r.try_get("name_latin")?,
                };
                // 0 to 14 open cases and a few closed; the first worker far above any threshold.
                let open = if k == 0 { 42 } else { (id * 7 % 15) as usize };
                for n in 0..open + 2 {
                    let status = if n < open { "open" } else { "closed" };
                    cases.push((format!("{}-{id}-{n}", source.code()), status, owner.clone(), place.clone()));
                }
                // One user in eight is left for the linking page.
                if id % 8 != 3 {
                    links.push((owner, id));
                }
            }
            if cases.is_empty() {
                continue;
            }
            let open = cases.iter().filter(|c| c.1 == "open").count() as i64;
            let snapshot: i64 = sqlx::query(
                "INSERT INTO caseload_snapshots (source, as_of, cases, open_cases, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, 'demo', $5) RETURNING id",
            )
            .bind(source.code())
            .bind(&day)
            .bind(cases.len() as i64)
            .bind(open)
            .bind(&now)
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            for (case, status, owner, place) in &cases {
                sqlx::query(
                    "INSERT INTO caseload_cases (snapshot_id, case_ref, status, owner, owner_key, location, admin_code, \
                     opened_on) VALUES ($1, $2, $3, $4, $5, $6, $6, $7)",
                )
                .bind(snapshot)
                .bind(case)
                .bind(*status)
                .bind(owner)
                .bind(owner_key(owner))
                .bind(place)
                .bind("2025-01-15")
                .execute(&mut *tx)
                .await?;
            }
            for (owner, worker) in &links {
                sqlx::query(
                    "INSERT INTO case_owner_links (source, owner_key, owner, worker_id, linked_by, linked_at) \
                     VALUES ($1, $2, $3, $4, 'demo', $5) ON CONFLICT DO NOTHING",
                )
                .bind(source.code())
                .bind(owner_key(owner))
                .bind(owner)
                .bind(worker)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }
}
