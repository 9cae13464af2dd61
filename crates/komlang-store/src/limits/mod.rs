//! Request counters for rate limits, kept in the database so that every app server counts
//! the same requests.

use sqlx::Row;

use crate::{Result, Store};

impl Store {
    /// Counts one request of `bucket` (e.g. `public:203.0.113.7`) in the window that starts
    /// at `window_start` (seconds), and returns the requests counted in it so far, this one
    /// included.
    pub async fn rate_limit_hit(&self, bucket: &str, window_start: i64) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) \
             ON CONFLICT (bucket, window_start) DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits",
        )
        .bind(bucket)
        .bind(window_start)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Forgets the counts of windows that started before `before` (seconds).
    pub async fn rate_limit_sweep(&self, before: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM rate_limits WHERE window_start < $1")
            .bind(before)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }
}
