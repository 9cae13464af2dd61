//! Signing in with a password, and the lockout that slows guessing without letting anyone
//! lock the owner out (docs/security.md, "Sessions, tokens and disabled accounts").
//!
//! Failed attempts are kept in the database, so every app server counts the same ones. A
//! browser that has signed in to an account before carries a *device cookie* (a random
//! value, kept here as its SHA-256, per account: OWASP's "device cookies"). Then:
//!
//! - From a known device, only that device's own failures count: it is locked after
//!   [`MAX_FAILURES_PER_DEVICE`] within [`LOCK_WINDOW_SECS`], and nothing else locks it.
//! - From any other client, the account is locked *for that client address* after
//!   [`MAX_FAILURES_PER_USER`] failures from it, the address for every account after
//!   [`MAX_FAILURES_PER_IP`], and the account for every unknown client after
//!   [`MAX_FAILURES_PER_ACCOUNT`] failures from all addresses together (a guessing attack
//!   spread over many addresses).
//!
//! So someone who types wrong passwords for the national administrator locks only their own
//! address out, and even an attack from many addresses leaves the owner's known browsers in.

use komlang_core::Principal;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::users::{verify_password_blocking, DUMMY_HASH};
use crate::{now_text, Result, Store, StoreError};

/// Failed logins allowed, within [`LOCK_WINDOW_SECS`], for one account from one client
/// address (without a device cookie of the account).
pub const MAX_FAILURES_PER_USER: i64 = 5;
/// … from one client address, whatever the accounts (without a device cookie).
pub const MAX_FAILURES_PER_IP: i64 = 20;
/// … for one account from all clients without its device cookie together.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 20;
/// … for one account from one of its known devices.
pub const MAX_FAILURES_PER_DEVICE: i64 = 5;
pub const LOCK_WINDOW_SECS: i64 = 15 * 60;
/// A device cookie is honoured this long after the device last signed in (and kept as long).
pub const DEVICE_MAX_AGE_SECS: i64 = 180 * 24 * 3600;
/// Failed and successful attempts are kept this long (for the lockout, and to look into).
pub const ATTEMPTS_KEPT_SECS: i64 = 30 * 24 * 3600;

#[derive(Debug, Clone, PartialEq)]
pub enum LoginOutcome {
    Ok(Principal),
    Invalid,
    /// Too many failures: try again after this many seconds.
    Locked(i64),
}

/// One attempt to sign in.
#[derive(Debug, Clone, Copy)]
pub struct LoginRequest<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// The client address.
    pub ip: &'a str,
    /// The browser's device cookie, if it sent one.
    pub device: Option<&'a str>,
    /// Unix seconds.
    pub now: i64,
}

fn sha256(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A device cookie's value: 64 hexadecimal digits (anything else is ignored).
pub fn is_device_value(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Store {
    /// Checks a password from a client without a device cookie (see [`Store::login_from`]).
    pub async fn login(&self, username: &str, password: &str, ip: &str, now: i64) -> Result<LoginOutcome> {
        self.login_from(&LoginRequest { username, password, ip, device: None, now }).await
    }

    /// Checks a password, refusing while the client is locked out (see the module's
    /// documentation). Every attempt that is not refused is recorded; a success sets the
    /// account's last sign-in.
    pub async fn login_from(&self, r: &LoginRequest<'_>) -> Result<LoginOutcome> {
        let since = r.now - LOCK_WINDOW_SECS;
        let row = sqlx::query("SELECT id, password_hash, active FROM users WHERE username = $1")
            .bind(r.username)
            .fetch_optional(&self.pool)
            .await?;
        let user: Option<(i64, String, bool)> = match row {
            Some(row) => Some((row.try_get(0)?, row.try_get(1)?, row.try_get::<i64, _>(2)? != 0)),
            None => None,
        };
        // The device counts only if it signed in to this very account, recently enough.
        let device = match (r.device.filter(|d| is_device_value(d)), &user) {
            (Some(d), Some((id, _, _))) => {
                let h = sha256(d);
                let known = sqlx::query(
                    "SELECT 1 FROM known_devices WHERE device_hash = $1 AND user_id = $2 AND last_used_at > $3",
                )
                .bind(&h)
                .bind(*id)
                .bind(r.now - DEVICE_MAX_AGE_SECS)
                .fetch_optional(&self.pool)
                .await?
                .is_some();
                known.then_some(h)
            }
            _ => None,
        };
        let limits: Vec<(i64, &str, Vec<&str>)> = match &device {
            Some(h) => vec![(MAX_FAILURES_PER_DEVICE, "username = $1 AND device = $2", vec![r.username, h.as_str()])],
            None => vec![
                (MAX_FAILURES_PER_USER, "username = $1 AND ip = $2 AND device IS NULL", vec![r.username, r.ip]),
                (MAX_FAILURES_PER_IP, "ip = $1 AND device IS NULL", vec![r.ip]),
                (MAX_FAILURES_PER_ACCOUNT, "username = $1 AND device IS NULL", vec![r.username]),
            ],
        };
        for (max, filter, values) in limits {
            let n = values.len() + 1;
            let sql =
                format!("SELECT COUNT(*), MIN(at) FROM login_attempts WHERE {filter} AND success = 0 AND at > ${n}");
            let mut q = sqlx::query(&sql);
            for v in values {
                q = q.bind(v);
            }
            let row = q.bind(since).fetch_one(&self.pool).await?;
            let (fails, first): (i64, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
            if fails >= max {
                return Ok(LoginOutcome::Locked((first.unwrap_or(r.now) + LOCK_WINDOW_SECS - r.now).max(1)));
            }
        }
        // Verify against a fixed hash when the name is unknown, so that timing does not tell.
        let hash = user.as_ref().map(|u| u.1.clone()).unwrap_or_else(|| DUMMY_HASH.to_string());
        let ok = verify_password_blocking(r.password, hash).await;
        // A disabled account cannot sign in, even with its password.
        let id = user.as_ref().filter(|u| ok && u.2).map(|u| u.0);
        sqlx::query("INSERT INTO login_attempts (username, ip, at, success, device) VALUES ($1, $2, $3, $4, $5)")
            .bind(r.username)
            .bind(r.ip)
            .bind(r.now)
            .bind(id.is_some() as i64)
            .bind(&device)
            .execute(&self.pool)
            .await?;
        let Some(id) = id else { return Ok(LoginOutcome::Invalid) };
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(now_text())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(self.principal_for_user(id).await?.map(LoginOutcome::Ok).unwrap_or(LoginOutcome::Invalid))
    }

    /// Remembers the browser that just signed in to an account as one of its known devices,
    /// and returns the device cookie to give it: the one it sent if Komlang issued it (a
    /// browser shared by several accounts keeps one cookie, known to each), or a new random
    /// one (a value planted in the browser by someone else is never adopted).
    pub async fn remember_device(&self, user_id: i64, sent: Option<&str>, now: i64) -> Result<String> {
        let issued = match sent.filter(|d| is_device_value(d)) {
            Some(d) => sqlx::query("SELECT 1 FROM known_devices WHERE device_hash = $1")
                .bind(sha256(d))
                .fetch_optional(&self.pool)
                .await?
                .map(|_| d.to_string()),
            None => None,
        };
        let value = issued.unwrap_or_else(|| {
            let mut b = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut b);
            hex::encode(b)
        });
        sqlx::query(
            "INSERT INTO known_devices (user_id, device_hash, created_at, last_used_at) VALUES ($1, $2, $3, $3) \
             ON CONFLICT (device_hash, user_id) DO UPDATE SET last_used_at = excluded.last_used_at",
        )
        .bind(user_id)
        .bind(sha256(&value))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(StoreError::from)?;
        Ok(value)
    }

    /// Deletes sign-in attempts older than [`ATTEMPTS_KEPT_SECS`] and devices unused for
    /// [`DEVICE_MAX_AGE_SECS`]; the number of rows deleted.
    pub async fn prune_sign_in_records(&self, now: i64) -> Result<u64> {
        let a = sqlx::query("DELETE FROM login_attempts WHERE at < $1")
            .bind(now - ATTEMPTS_KEPT_SECS)
            .execute(&self.pool)
            .await?
            .rows_affected();
        let d = sqlx::query("DELETE FROM known_devices WHERE last_used_at < $1")
            .bind(now - DEVICE_MAX_AGE_SECS)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(a + d)
    }
}
