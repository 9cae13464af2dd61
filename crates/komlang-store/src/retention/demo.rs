//! Demo retention: a reason for each demo worker's separation (drawn from the worker's id, NGO
//! workers mostly to government or resigned, government workers mostly retired or transferred),
//! and an illustrative end of the CCWC members' term. Loaded once (a meta row records it).

use sqlx::Row;

use crate::common::meta::meta_insert_new;
use crate::{Result, Store};

const DEMO_RETENTION_KEY: &str = "demo_retention_version";

impl Store {
    pub(crate) async fn load_demo_retention(&self) -> Result<()> {
        if self.meta_get(DEMO_RETENTION_KEY).await?.is_some() {
            return Ok(());
        }
        let rows = sqlx::query(
            "SELECT sc.id, sc.status, w.sector, w.id AS worker_id FROM status_changes sc JOIN workers w ON w.id = sc.worker_id \
             WHERE w.synthetic = 1 AND sc.status IN ('left', 'retired', 'deceased', 'transferred') ORDER BY sc.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut tx = self.begin_write().await?;
        if !meta_insert_new(&mut tx, DEMO_RETENTION_KEY, "1").await? {
            tx.rollback().await?;
            return Ok(());
        }
        for r in &rows {
            let id: i64 = r.try_get("id")?;
            let status: String = r.try_get("status")?;
            let sector: String = r.try_get("sector")?;
            let n = r.try_get::<i64, _>("worker_id")?.rem_euclid(10);
            let reason = match (status.as_str(), sector.as_str()) {
                ("retired", _) => "retirement",
                ("deceased", _) => "death",
                ("transferred", _) => "moved_to_government",
                (_, "ngo") => {
                    ["moved_to_government", "resigned", "end_of_contract", "moved_to_private", "family"][n as usize % 5]
                }
                (_, "volunteer") => ["end_of_term", "resigned", "family"][n as usize % 3],
                _ => ["resigned", "moved_to_ngo", "health", "family", "other"][n as usize % 5],
            };
            // One worker in ten gave no reason.
            if n == 7 {
                continue;
            }
            sqlx::query("UPDATE status_changes SET reason = $1 WHERE id = $2")
                .bind(reason)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("UPDATE retention_settings SET ccwc_term_end = '2027-06-30', updated_by = 'demo' WHERE id = 1")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
