//! Accounts: creating them, their passwords, disabling and enabling them.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use komlang_core::*;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use super::sessions::delete_sessions;
use crate::common::audit::record_audit;
use crate::{now_text, Result, Store, StoreError};

/// The columns [`user_from_row`] reads.
const USER_COLUMNS: &str = "id, username, role, scope_code, org_id, worker_id, active, created_at, last_login_at";

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
    /// False when the account is disabled: it cannot sign in, and its tokens are refused.
    pub active: bool,
    pub created_at: String,
    /// When the account last signed in (RFC 3339, UTC).
    pub last_login_at: Option<String>,
}

/// An account as the accounts page and the API list it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub role: UserRole,
    /// Admin unit code of the scope; absent for the whole country.
    pub scope_code: Option<String>,
    pub org_id: Option<i64>,
    pub worker_id: Option<i64>,
    /// False when the account is disabled.
    pub active: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
    /// Unexpired sessions (browsers signed in).
    pub sessions: i64,
    /// Tokens neither revoked nor expired.
    pub tokens: i64,
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
        last_login_at: r.try_get("last_login_at")?,
    })
}

/// What [`principal_from_row`] reads, over `users u` [`SCOPE_UNIT`]: an account and the
/// level of the unit its scope names (a request's principal is read in one statement).
pub(super) const PRINCIPAL_COLUMNS: &str =
    "u.id, u.username, u.role, u.scope_code, a.level AS scope_level, u.org_id, u.worker_id";
pub(super) const SCOPE_UNIT: &str = "LEFT JOIN admin_units a ON a.code = u.scope_code";

/// The principal of an account read with [`PRINCIPAL_COLUMNS`]: the nation when its scope
/// names no unit, or the country ([`Scope::of`]). A scope naming a unit the database lacks
/// (which its foreign key forbids) is refused rather than read as the nation.
pub(super) fn principal_from_row(r: &AnyRow) -> Result<Principal> {
    let role: String = r.try_get("role")?;
    let code: Option<String> = r.try_get("scope_code")?;
    let level: Option<String> = r.try_get("scope_level")?;
    let scope = match (code, level) {
        (Some(code), Some(level)) => {
            let level = AdminLevel::parse(&level).ok_or_else(|| StoreError::Corrupt(format!("admin level {level}")))?;
            if level == AdminLevel::Country {
                Scope::Nation
            } else {
                Scope::Unit { code, level }
            }
        }
        (Some(code), None) => return Err(StoreError::Corrupt(format!("account scope {code}: no such unit"))),
        (None, _) => Scope::Nation,
    };
    Ok(Principal {
        user_id: r.try_get("id")?,
        username: r.try_get("username")?,
        role: UserRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("role {role}")))?,
        scope,
        org_id: r.try_get("org_id")?,
        worker_id: r.try_get("worker_id")?,
    })
}

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok()).unwrap_or(false)
}

/// Verifies a password off the async threads (Argon2 is deliberately slow).
pub(super) async fn verify_password_blocking(password: &str, hash: String) -> bool {
    let pw = password.to_string();
    tokio::task::spawn_blocking(move || verify_password(&pw, &hash)).await.unwrap_or(false)
}

fn check_password(errs: &mut ValidationErrors, password: &str) {
    if password.chars().count() < 8 {
        errs.push(FieldError::new("password", "password_too_short").with("min", 8));
    }
}

impl Store {
    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn user_by_id(&self, id: i64) -> Result<Option<UserRow>> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The principal of an active account: one read of the account and its scope's unit.
    pub async fn principal_for_user(&self, id: i64) -> Result<Option<Principal>> {
        let row = sqlx::query(&format!(
            "SELECT {PRINCIPAL_COLUMNS} FROM users u {SCOPE_UNIT} WHERE u.id = $1 AND u.active = 1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(principal_from_row).transpose()
    }

    pub async fn list_users(&self) -> Result<Vec<UserRow>> {
        let rows =
            sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY username")).fetch_all(&self.pool).await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Every account with its sessions and live tokens counted (for those who manage accounts).
    pub async fn accounts(&self, actor: &Principal, now: i64) -> Result<Vec<AccountRow>> {
        actor.require(Action::ManageAccounts, Target::Any)?;
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, \
             (SELECT COUNT(*) FROM sessions s WHERE s.user_id = users.id AND s.expires_at > $1) AS sessions, \
             (SELECT COUNT(*) FROM api_tokens t WHERE t.user_id = users.id AND t.revoked_at IS NULL \
              AND (t.expires_at IS NULL OR t.expires_at > $2)) AS tokens \
             FROM users ORDER BY username"
        ))
        .bind(now)
        .bind(rfc3339(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(account_row(user_from_row(r)?, r.try_get("sessions")?, r.try_get("tokens")?))).collect()
    }

    /// One account as [`Store::accounts`] lists it.
    pub async fn account(&self, actor: &Principal, id: i64, now: i64) -> Result<AccountRow> {
        actor.require(Action::ManageAccounts, Target::Any)?;
        let u = self.user_by_id(id).await?.ok_or(StoreError::NotFound)?;
        let tokens: i64 = sqlx::query(
            "SELECT COUNT(*) FROM api_tokens WHERE user_id = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(id)
        .bind(rfc3339(now))
        .fetch_one(&self.pool)
        .await?
        .try_get(0)?;
        let sessions = self.sessions_of(id, now).await?;
        Ok(account_row(u, sessions, tokens))
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
        let mut tx = self.begin_write().await?;
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

    /// Sets an account's password (audited) and ends its sessions; the number ended. When the
    /// account is the caller's own, `keep` (the caller's session) stays signed in; an
    /// administrator setting another account's password ends all of that account's sessions.
    pub async fn change_password(
        &self,
        actor: &Principal,
        username: &str,
        password: &str,
        keep: Option<&str>,
    ) -> Result<u64> {
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
        let keep = if actor.user_id == user.id { keep } else { None };
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(&hash)
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        let ended = delete_sessions(&mut tx, user.id, keep).await?;
        let after = serde_json::json!({ "password": "changed", "sessions_ended": ended });
        record_audit(&mut tx, actor, "update", "user", &user.id.to_string(), None, Some(&after)).await?;
        tx.commit().await?;
        Ok(ended)
    }

    /// Sets an account's password and ends all its sessions (the command line).
    pub async fn set_password(&self, actor: &Principal, username: &str, password: &str) -> Result<()> {
        self.change_password(actor, username, password, None).await.map(|_| ())
    }

    /// Whether `password` is the account's current password (an account changing its own
    /// password gives the current one first).
    pub async fn check_own_password(&self, user_id: i64, password: &str) -> Result<bool> {
        let row = sqlx::query("SELECT password_hash FROM users WHERE id = $1 AND active = 1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(false) };
        Ok(verify_password_blocking(password, row.try_get(0)?).await)
    }

    /// Disables (`active` false) or enables an account, audited. A disabled account cannot
    /// sign in, its sessions are ended at once and its tokens are refused (they are kept, and
    /// work again if it is enabled, unless revoked or expired meanwhile). Nobody disables
    /// their own account (`cannot_disable_self`), nor the last active national administrator
    /// (`last_national_admin`): someone must be left who can enable accounts from the pages.
    pub async fn set_active(&self, actor: &Principal, user_id: i64, active: bool) -> Result<UserRow> {
        actor.require(Action::ManageAccounts, Target::Any)?;
        let mut tx = self.begin_write().await?;
        // Taking the national administrators' rows first serializes concurrent changes, so
        // that two administrators disabling each other cannot leave none.
        sqlx::query("UPDATE users SET active = active WHERE role = $1")
            .bind(UserRole::NationalAdmin.code())
            .execute(&mut *tx)
            .await?;
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?;
        let user = row.as_ref().map(user_from_row).transpose()?.ok_or(StoreError::NotFound)?;
        if user.active == active {
            return Ok(user);
        }
        if !active {
            let refuse = |code: &str| {
                let mut errs = ValidationErrors::default();
                let field = "active";
                errs.push(FieldError::new(field, code));
                Err(StoreError::Invalid(errs))
            };
            if actor.user_id == user.id {
                return refuse("cannot_disable_self");
            }
            if user.role == UserRole::NationalAdmin {
                let others: i64 = sqlx::query("SELECT COUNT(*) FROM users WHERE role = $1 AND active = 1 AND id <> $2")
                    .bind(UserRole::NationalAdmin.code())
                    .bind(user.id)
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get(0)?;
                if others == 0 {
                    return refuse("last_national_admin");
                }
            }
        }
        sqlx::query("UPDATE users SET active = $1 WHERE id = $2")
            .bind(active as i64)
            .bind(user.id)
            .execute(&mut *tx)
            .await?;
        let ended = if active { 0 } else { delete_sessions(&mut tx, user.id, None).await? };
        let before = serde_json::json!({ "active": user.active });
        let mut after = serde_json::json!({ "active": active });
        if !active {
            after["sessions_ended"] = ended.into();
        }
        record_audit(&mut tx, actor, "update", "user", &user.id.to_string(), Some(&before), Some(&after)).await?;
        tx.commit().await?;
        Ok(UserRow { active, ..user })
    }
}

fn account_row(u: UserRow, sessions: i64, tokens: i64) -> AccountRow {
    AccountRow {
        id: u.id,
        username: u.username,
        role: u.role,
        scope_code: u.scope_code,
        org_id: u.org_id,
        worker_id: u.worker_id,
        active: u.active,
        created_at: u.created_at,
        last_login_at: u.last_login_at,
        sessions,
        tokens,
    }
}

/// Unix seconds as the RFC 3339 text timestamps are kept in (UTC, whole seconds).
pub(crate) fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Argon2id hash of a random string, verified when the username is unknown.
pub(super) const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Xg8lJ0Ytj6aG7Yl2yY3xH9Tq3pD5i0M1kqW0f7Zq4aE";
