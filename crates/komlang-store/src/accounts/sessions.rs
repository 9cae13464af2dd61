//! Session records, kept in the database so that several app servers share them.

use sqlx::Row;

use crate::{Result, Store};

/// A stored session: its serialized data and expiry (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub data: String,
    pub expires_at: i64,
}

impl Store {
    pub async fn session_load(&self, id: &str, now: i64) -> Result<Option<SessionRecord>> {
        let row = sqlx::query("SELECT data, expires_at FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(SessionRecord { data: r.try_get(0)?, expires_at: r.try_get(1)? })).transpose()
    }

    /// Inserts or replaces a session.
    pub async fn session_save(&self, id: &str, rec: &SessionRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(id)
        .bind(&rec.data)
        .bind(rec.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Inserts a session only if the id is unused; false when it was taken.
    pub async fn session_create(&self, id: &str, rec: &SessionRecord) -> Result<bool> {
        let r =
            sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
                .bind(id)
                .bind(&rec.data)
                .bind(rec.expires_at)
                .execute(&self.pool)
                .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn session_delete(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    pub async fn session_delete_expired(&self, now: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}
