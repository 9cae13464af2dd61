//! The `meta` table: small named values (versions of loaded data, settings).

use sqlx::{Any, AnyConnection, Row, Transaction};

use crate::{Result, Store};

/// Inserts a meta row unless the key is taken; true when it was inserted.
pub(crate) async fn meta_insert_new(tx: &mut Transaction<'_, Any>, key: &str, value: &str) -> Result<bool> {
    let r = sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
        .bind(key)
        .bind(value)
        .execute(&mut **tx)
        .await?;
    Ok(r.rows_affected() == 1)
}

/// A meta value, read on a connection (inside a transaction).
pub(crate) async fn meta_get_on(conn: &mut AnyConnection, key: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT value FROM meta WHERE key = $1").bind(key).fetch_optional(&mut *conn).await?;
    Ok(row.map(|r| r.get::<String, _>(0)))
}

impl Store {
    pub async fn meta_get(&self, key: &str) -> Result<Option<String>> {
        meta_get_on(&mut *self.pool.acquire().await?, key).await
    }

    /// Sets a meta value, replacing any earlier one.
    pub async fn meta_set(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
