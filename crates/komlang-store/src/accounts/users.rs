//! Accounts, password login with rate limiting, and API tokens.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use komlang_core::*;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::common::audit::record_audit;
use crate::{now_text, Result, Store, StoreError};

/// Failed logins allowed per username, and per client address, within [`LOCK_WINDOW_SECS`].
pub const MAX_FAILURES_PER_USER: i64 = 5;
pub const MAX_FAILURES_PER_IP: i64 = 20;
pub const LOCK_WINDOW_SECS: i64 = 15 * 60;

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password: String,
    pub role: UserRole,
    pub scope_code: Option<String>,
    pub org_id: Option<i64>,
    pub worker_id: Option<i64>,
}

/// An account as listed (never with its password hash).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub role: UserRole,
    pub scope_code: Option<String>,
    pub org_id: Option<i64>,
    pub worker_id: Option<i64>,
    pub active: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LoginOutcome {
    Ok(Principal),
    Invalid,
    /// Too many failures: try again after this many seconds.
    Locked(i64),
}

#[derive(Serialize)]
struct AuditedUser<'a> {
    username: &'a str,
    role: &'a str,
    scope_code: &'a Option<String>,
    org_id: Option<i64>,
    worker_id: Option<i64>,
}

fn user_from_row(r: &AnyRow) -> Result<UserRow> {
    let role: String = r.try_get("role")?;
    Ok(UserRow {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        role: UserRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        scope_code: r.try_get("scope_code")?,
        org_id: r.try_get("org_id")?,
        worker_id: r.try_get("worker_id")?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn check_password(errs: &mut ValidationErrors, password: &str) {
    if password.chars().count() < 8 {
        errs.push(FieldError::new("password", "password_too_short").with("min", 8));
    }
}

impl Store {
    async fn principal_of(&self, u: &UserRow) -> Result<Principal> {
        let unit = match &u.scope_code {
            Some(c) => self.admin_unit(c).await?,
            None => None,
        };
        Ok(Principal {
            user_id: u.id,
            username: u.username.clone(),
            role: u.role,
            scope: Scope::of(unit.as_ref()),
            org_id: u.org_id,
            worker_id: u.worker_id,
        })
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query(
            "SELECT id, username, role, scope_code, org_id, worker_id, active, created_at FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The principal of an active account.
    pub async fn principal_for_user(&self, id: i64) -> Result<Option<Principal>> {
        let row = sqlx::query(
            "SELECT id, username, role, scope_code, org_id, worker_id, active, created_at FROM users \
             WHERE id = $1 AND active = 1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row.as_ref().map(user_from_row).transpose()? {
            Some(u) => Ok(Some(self.principal_of(&u).await?)),
            None => Ok(None),
        }
    }

    pub async fn list_users(&self) -> Result<Vec<UserRow>> {
        let rows = sqlx::query(
            "SELECT id, username, role, scope_code, org_id, worker_id, active, created_at FROM users ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Creates an account after checking that its scope fits its role.
    pub async fn create_user(&self, actor: &Principal, u: &NewUser) -> Result<UserRow> {
        actor.require(Action::ManageAccounts, Target::Any)?;
        let mut errs = ValidationErrors::default();
        let name_ok = (3..=64).contains(&u.username.len())
            && u.username.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if !name_ok {
            errs.push(FieldError::new("username", "invalid_username"));
        } else if self.user_by_name(&u.username).await?.is_some() {
            errs.push(FieldError::new("username", "duplicate_username"));
        }
        check_password(&mut errs, &u.password);
        let unit = match &u.scope_code {
            Some(c) => match self.admin_unit(c).await? {
                Some(unit) => Some(unit),
                None => {
                    errs.push(FieldError::new("scope", "unknown_admin_unit").with("value", c));
                    None
                }
            },
            None => None,
        };
        match (u.role.required_scope_level(), &unit) {
            (Some(level), Some(unit)) if unit.level != level => {
                errs.push(FieldError::new("scope", "wrong_scope_level").with("level", level.code()));
            }
            (Some(level), None) if u.scope_code.is_none() => {
                errs.push(FieldError::new("scope", "required").with("level", level.code()));
            }
            (None, Some(unit))
                if matches!(u.role, UserRole::NationalAdmin | UserRole::NationalViewer)
                    && unit.level != AdminLevel::Country =>
            {
                errs.push(FieldError::new("scope", "national_role_has_no_scope"));
            }
            _ => {}
        }
        if u.role == UserRole::OrgHrManager && u.org_id.is_none() {
            errs.push(FieldError::new("org", "required"));
        }
        if let Some(org) = u.org_id {
            if self.get_org(actor, org).await?.is_none() {
                errs.push(FieldError::new("org", "unknown_organization"));
            }
        }
        if u.role == UserRole::Worker && u.worker_id.is_none() {
            errs.push(FieldError::new("worker", "required"));
        }
        let mut org_id = u.org_id;
        if let Some(w) = u.worker_id {
            match sqlx::query("SELECT org_id FROM workers WHERE id = $1").bind(w).fetch_optional(&self.pool).await? {
                None => errs.push(FieldError::new("worker", "unknown_worker")),
                Some(r) if u.role == UserRole::Worker && org_id.is_none() => org_id = r.try_get(0)?,
                Some(_) => {}
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let hash = hash_password(&u.password)?;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "INSERT INTO users (username, password_hash, role, scope_code, org_id, worker_id, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7) RETURNING id",
        )
        .bind(&u.username)
        .bind(&hash)
        .bind(u.role.code())
        .bind(&u.scope_code)
        .bind(org_id)
        .bind(u.worker_id)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        let audited = AuditedUser {
            username: &u.username,
            role: u.role.code(),
            scope_code: &u.scope_code,
            org_id,
            worker_id: u.worker_id,
        };
        record_audit(&mut tx, actor, "create", "user", &id.to_string(), None, Some(&audited)).await?;
        tx.commit().await?;
        self.user_by_name(&u.username).await?.ok_or(StoreError::NotFound)
    }

    pub async fn set_password(&self, actor: &Principal, username: &str, password: &str) -> Result<()> {
        // An unknown name is "not found" only to those who manage accounts.
        let Some(user) = self.user_by_name(username).await? else {
            actor.require(Action::ManageAccounts, Target::Any)?;
            return Err(StoreError::NotFound);
        };
        actor.require(Action::ChangePassword, Target::Account(user.id))?;
        let mut errs = ValidationErrors::default();
        check_password(&mut errs, password);
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let hash = hash_password(password)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        let after = serde_json::json!({ "password": "changed" });
        record_audit(&mut tx, actor, "update", "user", &user.id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Checks a password, refusing when the account or address has failed too
    /// often recently. Every attempt is recorded.
    pub async fn login(&self, username: &str, password: &str, ip: &str, now: i64) -> Result<LoginOutcome> {
        let since = now - LOCK_WINDOW_SECS;
        let fails = |col: &'static str, v: String| {
            let pool = self.pool.clone();
            async move {
                let r = sqlx::query(&format!(
                    "SELECT COUNT(*), MIN(at) FROM login_attempts WHERE {col} = $1 AND at > $2 AND success = 0"
                ))
                .bind(v)
                .bind(since)
                .fetch_one(&pool)
                .await?;
                Ok::<(i64, Option<i64>), StoreError>((r.try_get(0)?, r.try_get(1)?))
            }
        };
        let (user_fails, user_first) = fails("username", username.to_string()).await?;
        let (ip_fails, ip_first) = fails("ip", ip.to_string()).await?;
        if user_fails >= MAX_FAILURES_PER_USER || ip_fails >= MAX_FAILURES_PER_IP {
            let first = if user_fails >= MAX_FAILURES_PER_USER { user_first } else { ip_first };
            return Ok(LoginOutcome::Locked((first.unwrap_or(now) + LOCK_WINDOW_SECS - now).max(1)));
        }
        let row = sqlx::query("SELECT id, password_hash FROM users WHERE username = $1 AND active = 1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        let (id, hash) = match row {
            Some(r) => (Some(r.try_get::<i64, _>(0)?), r.try_get::<String, _>(1)?),
            // Verify against a fixed hash anyway so timing does not reveal unknown names.
            None => (None, DUMMY_HASH.to_string()),
        };
        let pw = password.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_password(&pw, &hash)).await.unwrap_or(false);
        let success = ok && id.is_some();
        sqlx::query("INSERT INTO login_attempts (username, ip, at, success) VALUES ($1, $2, $3, $4)")
            .bind(username)
            .bind(ip)
            .bind(now)
            .bind(success as i64)
            .execute(&self.pool)
            .await?;
        match (success, id) {
            (true, Some(id)) => {
                Ok(self.principal_for_user(id).await?.map(LoginOutcome::Ok).unwrap_or(LoginOutcome::Invalid))
            }
            _ => Ok(LoginOutcome::Invalid),
        }
    }

    /// Creates an API token for a user and returns it (only its hash is kept).
    pub async fn create_token(&self, username: &str) -> Result<String> {
        let user = self.user_by_name(username).await?.ok_or(StoreError::NotFound)?;
        let mut bytes = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut bytes);
        let token = format!("kml_{}", hex::encode(bytes));
        sqlx::query("INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user.id)
            .bind(token_hash(&token))
            .bind(now_text())
            .execute(&self.pool)
            .await?;
        Ok(token)
    }

    /// The principal a bearer token stands for.
    pub async fn principal_for_token(&self, token: &str) -> Result<Option<Principal>> {
        let row = sqlx::query("SELECT user_id FROM api_tokens WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => self.principal_for_user(r.try_get(0)?).await,
            None => Ok(None),
        }
    }
}

/// Argon2id hash of a random string, verified when the username is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Xg8lJ0Ytj6aG7Yl2yY3xH9Tq3pD5i0M1kqW0f7Zq4aE";
