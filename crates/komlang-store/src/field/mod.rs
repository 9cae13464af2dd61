//! Changes sent from the field: a phone that worked without a connection sends its queued
//! changes when the connection returns, each with an id it made. The answer to each is kept
//! (`field_changes`), so that a change sent again because its answer was lost on the way is
//! answered again, not made twice.

use sqlx::Row;

use crate::{now_text, Result, Store};

/// How long the answers are kept.
pub const FIELD_ANSWER_DAYS: i64 = 90;

impl Store {
    /// The answer already given to the account's change `change_id`, if it was made.
    pub async fn field_change_answer(&self, user_id: i64, change_id: &str) -> Result<Option<serde_json::Value>> {
        let row = sqlx::query("SELECT answer_json FROM field_changes WHERE user_id = $1 AND change_id = $2")
            .bind(user_id)
            .bind(change_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| r.try_get::<String, _>(0).ok()).and_then(|t| serde_json::from_str(&t).ok()))
    }

    /// Keeps the answer to a change that was made (a second keeper of the same id is ignored:
    /// the first answer stands).
    pub async fn keep_field_change_answer(
        &self,
        user_id: i64,
        change_id: &str,
        answer: &serde_json::Value,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO field_changes (user_id, change_id, answer_json, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, change_id) DO NOTHING",
        )
        .bind(user_id)
        .bind(change_id)
        .bind(answer.to_string())
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Forgets the answers older than [`FIELD_ANSWER_DAYS`] (the server's hourly sweep);
    /// answers how many.
    pub async fn prune_field_change_answers(&self) -> Result<u64> {
        let cutoff = (chrono::Utc::now() - chrono::Duration::days(FIELD_ANSWER_DAYS))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM field_changes WHERE at < $1").bind(cutoff).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(n.rows_affected())
    }
}
