//! The search keys stored with every worker (`workers.search_key`, `workers.search_km`):
//! written with the record ([`super::registry::draft_args`]), and filled in here for rows
//! that have none (written before the keys existed, or by a tool that writes SQL) or whose
//! keys an earlier version of the rules computed.

use komlang_core::search::SEARCH_KEY_VERSION;
use komlang_core::{search_key, worker_search_key};
use sqlx::Row;

use crate::{Result, Store};

/// The `meta` entry holding the [`SEARCH_KEY_VERSION`] the stored keys follow.
pub const SEARCH_KEY_VERSION_KEY: &str = "search_key_version";

/// Workers updated per transaction of the backfill.
const BATCH: i64 = 2000;

impl Store {
    /// Gives every worker their search keys: the workers without keys, or every worker when
    /// the rules changed ([`SEARCH_KEY_VERSION`]). Idempotent; when every key is there it
    /// costs one `meta` read and one index lookup. Returns how many workers got keys.
    pub async fn ensure_search_keys(&self) -> Result<u64> {
        let current = self.meta_get(SEARCH_KEY_VERSION_KEY).await?;
        let all = current.as_deref() != Some(SEARCH_KEY_VERSION);
        let mut last = 0i64;
        let mut done = 0u64;
        loop {
            // Every worker in id order when the rules changed; else those without a key
            // (found through the `workers_search_key` index).
            let sql = if all {
                "SELECT id, name_latin, name_km, phone FROM workers WHERE id > $1 ORDER BY id LIMIT $2"
            } else {
                "SELECT id, name_latin, name_km, phone FROM workers WHERE search_key IS NULL AND id > $1 \
                 ORDER BY id LIMIT $2"
            };
            // Read outside the transaction: a database with every key takes no write lock.
            let rows = sqlx::query(sql).bind(last).bind(BATCH).fetch_all(&self.pool).await?;
            let Some(r) = rows.last() else { break };
            last = r.try_get("id")?;
            let mut tx = self.begin_write().await?;
            for r in &rows {
                let latin: String = r.try_get("name_latin")?;
                let km: String = r.try_get("name_km")?;
                let phone: Option<String> = r.try_get("phone")?;
                // Only while the fields are those read: a writer that changed them since
                // wrote their keys itself.
                sqlx::query(
                    "UPDATE workers SET search_key = $1, search_km = $2 WHERE id = $3 AND name_latin = $4 \
                     AND name_km = $5 AND COALESCE(phone, '') = $6",
                )
                .bind(worker_search_key(&latin, &km, phone.as_deref()))
                .bind(search_key(&km))
                .bind(r.try_get::<i64, _>("id")?)
                .bind(&latin)
                .bind(&km)
                .bind(phone.as_deref().unwrap_or(""))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            done += rows.len() as u64;
        }
        if all {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(SEARCH_KEY_VERSION_KEY)
            .bind(SEARCH_KEY_VERSION)
            .execute(&self.pool)
            .await?;
        }
        if done > 0 {
            tracing::info!(workers = done, "search keys computed");
        }
        Ok(done)
    }
}
