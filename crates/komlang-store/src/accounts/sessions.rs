//! Session records, kept in the database so that several app servers share them. Each names
//! the account signed in with it, so that a password change, a disabled account or "end
//! sessions" deletes every one of them at once, whichever app server made them.

use komlang_core::{Action, Principal, Target};
use sqlx::Row;

use crate::common::audit::record_audit;
use crate::{Result, Store, StoreError};

/// A stored session: its serialized data, its expiry (Unix seconds) and its account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub data: String,
    pub expires_at: i64,
    /// The account signed in with this session (none before signing in).
    pub user_id: Option<i64>,
}

impl Store {
    pub async fn session_load(&self, id: &str, now: i64) -> Result<Option<SessionRecord>> {
        let row = sqlx::query("SELECT data, expires_at, user_id FROM sessions WHERE id = $1 AND expires_at > $2")
            .bind(id)
            .bind(now)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(SessionRecord { data: r.try_get(0)?, expires_at: r.try_get(1)?, user_id: r.try_get(2)? }))
            .transpose()
    }

    /// Updates a stored session. A session deleted meanwhile (ended by a password change, a
    /// disabled account, "end sessions" or logging out) stays deleted: a request that was
    /// already running when it ended cannot bring it back.
    pub async fn session_save(&self, id: &str, rec: &SessionRecord) -> Result<()> {
        sqlx::query("UPDATE sessions SET data = $2, expires_at = $3, user_id = $4 WHERE id = $1")
            .bind(id)
            .bind(&rec.data)
            .bind(rec.expires_at)
            .bind(rec.user_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Inserts a session only if the id is unused; false when it was taken.
    pub async fn session_create(&self, id: &str, rec: &SessionRecord) -> Result<bool> {
        let r = sqlx::query(
            "INSERT INTO sessions (id, data, expires_at, user_id) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(&rec.data)
        .bind(rec.expires_at)
        .bind(rec.user_id)
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

    /// How many sessions are stored (signed in or not, expired or not).
    pub async fn session_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM sessions").fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// How many unexpired sessions an account has.
    pub async fn sessions_of(&self, user_id: i64, now: i64) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2")
            .bind(user_id)
            .bind(now)
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }

    /// Ends every session of an account (signs it out everywhere), audited; the number ended.
    /// `keep`: the caller's own session, which stays when the account is the caller's.
    pub async fn end_sessions(&self, actor: &Principal, user_id: i64, keep: Option<&str>) -> Result<u64> {
        actor.require(Action::ManageAccounts, Target::Any)?;
        let own = actor.user_id == user_id;
        let mut tx = self.begin_write().await?;
        if sqlx::query("SELECT id FROM users WHERE id = $1").bind(user_id).fetch_optional(&mut *tx).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let n = delete_sessions(&mut tx, user_id, if own { keep } else { None }).await?;
        let after = serde_json::json!({ "sessions_ended": n });
        record_audit(&mut tx, actor, "end_sessions", "user", &user_id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// Deletes an account's sessions but `keep`, on `conn`; the number deleted.
pub(crate) async fn delete_sessions(conn: &mut sqlx::AnyConnection, user_id: i64, keep: Option<&str>) -> Result<u64> {
    let r = match keep {
        Some(keep) => {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
                .bind(user_id)
                .bind(keep)
                .execute(conn)
                .await?
        }
        None => sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(conn).await?,
    };
    Ok(r.rows_affected())
}
