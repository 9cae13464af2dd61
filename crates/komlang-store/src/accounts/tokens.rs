//! API tokens: issued to an account with an optional label and expiry, listed without their
//! secret (only a prefix identifies them), revoked one by one or all at once. Only the
//! SHA-256 of a token is kept; an expired or revoked token, or one of a disabled account,
//! stands for nobody.

use chrono::{DateTime, Utc};
use komlang_core::*;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use super::users::{principal_from_row, rfc3339, PRINCIPAL_COLUMNS, SCOPE_UNIT};
use crate::common::audit::record_audit;
use crate::common::principal::system_principal;
use crate::{now_text, Result, Store, StoreError};

/// Characters of a token kept to tell it apart in lists (`kml_` and 8 hexadecimal digits).
pub const TOKEN_PREFIX_LEN: usize = 12;
/// The longest label.
pub const TOKEN_LABEL_MAX: usize = 100;
/// A token's "last used" is written at most this often (seconds).
const LAST_USED_EVERY_SECS: i64 = 60;

/// A token to issue.
#[derive(Debug, Clone, Default)]
pub struct NewToken {
    /// What the token is for (a program, a person), shown in lists.
    pub label: Option<String>,
    /// When it stops working; none: when revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Whether a token works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenState {
    Active,
    Expired,
    Revoked,
}

impl TokenState {
    pub const ALL: [TokenState; 3] = [TokenState::Active, TokenState::Expired, TokenState::Revoked];

    pub fn code(self) -> &'static str {
        match self {
            TokenState::Active => "active",
            TokenState::Expired => "expired",
            TokenState::Revoked => "revoked",
        }
    }
}

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub label: Option<String>,
    /// The token's first characters (`kml_1a2b3c4d`); absent for tokens issued before version 7.
    pub prefix: Option<String>,
    /// RFC 3339, UTC, like every time below.
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub state: TokenState,
}

/// A token just issued: its secret, shown this once, and how it is listed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IssuedToken {
    /// The bearer token. It is not kept and cannot be shown again.
    pub token: String,
    #[serde(flatten)]
    pub info: ApiToken,
}

const TOKEN_COLUMNS: &str = "id, user_id, label, prefix, created_at, last_used_at, expires_at, revoked_at";

fn token_from_row(r: &AnyRow, now: &str) -> Result<ApiToken> {
    let expires_at: Option<String> = r.try_get("expires_at")?;
    let revoked_at: Option<String> = r.try_get("revoked_at")?;
    let state = if revoked_at.is_some() {
        TokenState::Revoked
    } else if expires_at.as_deref().is_some_and(|e| e <= now) {
        TokenState::Expired
    } else {
        TokenState::Active
    };
    Ok(ApiToken {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        label: r.try_get("label")?,
        prefix: r.try_get("prefix")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        expires_at,
        revoked_at,
        state,
    })
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[derive(Serialize)]
struct AuditedToken<'a> {
    user_id: i64,
    username: &'a str,
    label: &'a Option<String>,
    prefix: &'a str,
    expires_at: &'a Option<String>,
}

impl Store {
    /// Issues an API token to an account (audited); the token is returned this once, and
    /// only its SHA-256 is kept. `label`: at most [`TOKEN_LABEL_MAX`] characters
    /// (`too_long`); `expires_at` must lie ahead (`expiry_in_past`).
    pub async fn issue_token(&self, actor: &Principal, user_id: i64, t: &NewToken) -> Result<IssuedToken> {
        actor.require(Action::ManageAccounts, Target::Any)?;
        let user = self.user_by_id(user_id).await?.ok_or(StoreError::NotFound)?;
        let label = t.label.non_blank().map(str::to_string);
        let mut errs = ValidationErrors::default();
        if label.as_ref().is_some_and(|l| l.chars().count() > TOKEN_LABEL_MAX) {
            errs.push(FieldError::new("label", "too_long").with("max", TOKEN_LABEL_MAX));
        }
        if t.expires_at.is_some_and(|e| e <= Utc::now()) {
            errs.push(FieldError::new("expires", "expiry_in_past"));
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = format!("kml_{}", hex::encode(bytes));
        let prefix = token[..TOKEN_PREFIX_LEN].to_string();
        let expires_at = t.expires_at.map(|e| rfc3339(e.timestamp()));
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO api_tokens (user_id, token_hash, created_at, label, prefix, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user.id)
        .bind(token_hash(&token))
        .bind(now_text())
        .bind(&label)
        .bind(&prefix)
        .bind(&expires_at)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        let audited = AuditedToken {
            user_id: user.id,
            username: &user.username,
            label: &label,
            prefix: &prefix,
            expires_at: &expires_at,
        };
        record_audit(&mut tx, actor, "create", "api_token", &id.to_string(), None, Some(&audited)).await?;
        let row = sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let info = token_from_row(&row, &now_text())?;
        tx.commit().await?;
        Ok(IssuedToken { token, info })
    }

    /// Issues a token without label or expiry to the account named (tests and tools).
    pub async fn create_token(&self, username: &str) -> Result<String> {
        let user = self.user_by_name(username).await?.ok_or(StoreError::NotFound)?;
        Ok(self.issue_token(&system_principal("system"), user.id, &NewToken::default()).await?.token)
    }

    /// An account's tokens, the newest first, revoked and expired ones included.
    pub async fn tokens_of(&self, actor: &Principal, user_id: i64) -> Result<Vec<ApiToken>> {
        actor.require(Action::ManageAccounts, Target::Any)?;
        self.user_by_id(user_id).await?.ok_or(StoreError::NotFound)?;
        let rows = sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1 ORDER BY id DESC"))
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        let now = now_text();
        rows.iter().map(|r| token_from_row(r, &now)).collect()
    }

    /// Revokes one token of an account (audited); revoking it again changes nothing.
    pub async fn revoke_token(&self, actor: &Principal, user_id: i64, token_id: i64) -> Result<ApiToken> {
        actor.require(Action::ManageAccounts, Target::Any)?;
        let mut tx = self.begin_write().await?;
        let now = now_text();
        let n =
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
                .bind(&now)
                .bind(token_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let row = sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1 AND user_id = $2"))
            .bind(token_id)
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let token = token_from_row(&row, &now)?;
        if n > 0 {
            let before = serde_json::json!({ "revoked_at": null });
            let after = serde_json::json!({ "revoked_at": now, "user_id": user_id });
            record_audit(&mut tx, actor, "revoke", "api_token", &token_id.to_string(), Some(&before), Some(&after))
                .await?;
        }
        tx.commit().await?;
        Ok(token)
    }

    /// Revokes every token of an account that is not revoked yet (audited, one entry each);
    /// the number revoked.
    pub async fn revoke_all_tokens(&self, actor: &Principal, user_id: i64) -> Result<u64> {
        actor.require(Action::ManageAccounts, Target::Any)?;
        self.user_by_id(user_id).await?.ok_or(StoreError::NotFound)?;
        let mut tx = self.begin_write().await?;
        let now = now_text();
        // The tokens this statement revoked (not those a concurrent revocation took first).
        let mut ids: Vec<i64> =
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL RETURNING id")
                .bind(&now)
                .bind(user_id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
        ids.sort_unstable();
        for id in &ids {
            let before = serde_json::json!({ "revoked_at": null });
            let after = serde_json::json!({ "revoked_at": now, "user_id": user_id });
            record_audit(&mut tx, actor, "revoke", "api_token", &id.to_string(), Some(&before), Some(&after)).await?;
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }

    /// The principal a bearer token stands for: none when the token is unknown, revoked or
    /// expired, or its account disabled. Notes when the token was used (at most once a minute).
    pub async fn principal_for_token(&self, token: &str) -> Result<Option<Principal>> {
        let now = chrono::Utc::now().timestamp();
        // The token, its account (active) and the account's scope, in one read.
        let row = sqlx::query(&format!(
            "SELECT t.id AS token_id, t.last_used_at, {PRINCIPAL_COLUMNS} FROM api_tokens t \
             JOIN users u ON u.id = t.user_id {SCOPE_UNIT} WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
             AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.active = 1"
        ))
        .bind(token_hash(token))
        .bind(rfc3339(now))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get("token_id")?;
        let last_used: Option<String> = row.try_get("last_used_at")?;
        let principal = principal_from_row(&row)?;
        // Written only when the note is a minute old: a write on every request would take
        // SQLite's one write lock for each API call, and every call would queue behind it.
        let stale = rfc3339(now - LAST_USED_EVERY_SECS);
        if last_used.is_none_or(|t| t < stale) {
            sqlx::query(
                "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
            )
            .bind(rfc3339(now))
            .bind(id)
            .bind(&stale)
            .execute(&self.pool)
            .await?;
        }
        Ok(Some(principal))
    }
}
