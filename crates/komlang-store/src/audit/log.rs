//! The audit log: who changed what, when, with the fields before and after.

use komlang_core::NonBlank;
use komlang_core::Principal;
use komlang_core::{Action, Target};
use serde::Serialize;
use sqlx::Row;

use crate::common::sql::Sql;
use crate::{Page, Result, Store};

/// One audited change.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub user_id: Option<i64>,
    pub username: String,
    /// `create`, `update`, `delete`, `import`, `login`...
    pub action: String,
    /// `worker`, `organization`, `user`...
    pub entity: String,
    pub entity_id: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// One field that differs between `before` and `after`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl AuditEntry {
    /// Fields whose values differ, in field order.
    pub fn changes(&self) -> Vec<FieldChange> {
        let empty = serde_json::Map::new();
        let b = self.before.as_ref().and_then(|v| v.as_object()).unwrap_or(&empty);
        let a = self.after.as_ref().and_then(|v| v.as_object()).unwrap_or(&empty);
        let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
        keys.sort();
        keys.dedup();
        keys.into_iter()
            .filter(|k| b.get(*k) != a.get(*k))
            .map(|k| FieldChange { field: k.clone(), before: b.get(k).cloned(), after: a.get(k).cloned() })
            .collect()
    }
}

#[derive(Debug, Default, Clone)]
pub struct AuditQuery {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub username: Option<String>,
    pub action: Option<String>,
    /// Inclusive lower bound on the day.
    pub from: Option<chrono::NaiveDate>,
    /// Inclusive upper bound on the day.
    pub to: Option<chrono::NaiveDate>,
    pub page: i64,
    pub per_page: i64,
}

impl Store {
    /// Browses the audit log (national administrators only).
    pub async fn list_audit(&self, p: &Principal, q: &AuditQuery) -> Result<Page<AuditEntry>> {
        p.require(Action::ReadAudit, Target::Any)?;
        let mut f = Sql::new(" WHERE 1 = 1");
        let nonempty = |v: &Option<String>| v.non_blank().map(String::from);
        if let Some(v) = nonempty(&q.entity) {
            f.push(" AND entity = ").text(v);
        }
        if let Some(v) = nonempty(&q.entity_id) {
            f.push(" AND entity_id = ").text(v);
        }
        if let Some(v) = nonempty(&q.username) {
            f.push(" AND username = ").text(v);
        }
        if let Some(v) = nonempty(&q.action) {
            f.push(" AND action = ").text(v);
        }
        // `at` is an RFC 3339 text: a day's entries sort from "YYYY-MM-DD" to the next day.
        if let Some(d) = q.from {
            f.push(" AND at >= ").text(d.format("%Y-%m-%d").to_string());
        }
        if let Some(d) = q.to.and_then(|d| d.succ_opt()) {
            f.push(" AND at < ").text(d.format("%Y-%m-%d").to_string());
        }
        let mut count = Sql::new("SELECT COUNT(*) FROM audit_log");
        count.push(&f.text);
        count.args = f.args.clone();
        let total: i64 = count.query().fetch_one(&self.pool).await?.try_get(0)?;
        let per_page = if q.per_page <= 0 { 50 } else { q.per_page.min(500) };
        let page = q.page.max(1);
        let mut list = Sql::new(
            "SELECT id, at, user_id, username, action, entity, entity_id, before_json, after_json FROM audit_log",
        );
        list.push(&f.text);
        list.args = f.args;
        list.push(" ORDER BY id DESC LIMIT ")
            .int(per_page)
            .push(" OFFSET ")
            .int(crate::common::sql::offset(page, per_page));
        let rows = list.query().fetch_all(&self.pool).await?;
        let items = rows.iter().map(entry_from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, total_is_lower_bound: false, page, per_page })
    }
}

impl Store {
    /// The last `limit` audited changes of one record, newest first: who changed it and when,
    /// for a form whose record was changed meanwhile. The caller has checked that the record
    /// is within the account's reach.
    pub async fn last_changes_of(&self, entity: &str, entity_id: &str, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, user_id, username, action, entity, entity_id, before_json, after_json FROM audit_log \
             WHERE entity = $1 AND entity_id = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(entity)
        .bind(entity_id)
        .bind(limit.clamp(1, 50))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry_from_row).collect()
    }
}

fn entry_from_row(r: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        user_id: r.try_get("user_id")?,
        username: r.try_get("username")?,
        action: r.try_get("action")?,
        entity: r.try_get("entity")?,
        entity_id: r.try_get("entity_id")?,
        before: parse(r.try_get("before_json")?),
        after: parse(r.try_get("after_json")?),
    })
}
