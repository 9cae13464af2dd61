//! Writing the audit log (reading it is the `audit` feature).

use komlang_core::Principal;
use serde::Serialize;
use sqlx::AnyConnection;

use crate::{now_text, Result, StoreError};

/// Writes an audit entry on `conn` (a transaction's connection: `&mut tx`
/// coerces to it).
pub(crate) async fn record_audit<T: Serialize>(
    conn: &mut AnyConnection,
    p: &Principal,
    action: &str,
    entity: &str,
    entity_id: &str,
    before: Option<&T>,
    after: Option<&T>,
) -> Result<()> {
    let json = |v: Option<&T>| -> Result<Option<String>> {
        v.map(|v| serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))).transpose()
    };
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, username, action, entity, entity_id, before_json, after_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(now_text())
    .bind(if p.user_id > 0 { Some(p.user_id) } else { None })
    .bind(&p.username)
    .bind(action)
    .bind(entity)
    .bind(entity_id)
    .bind(json(before)?)
    .bind(json(after)?)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
