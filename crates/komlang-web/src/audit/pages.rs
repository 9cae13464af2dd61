//! The audit log as a page: every change with who, when and the record before and after.

use askama::Template;
use axum::extract::{Query, State};
use komlang_core::*;
use komlang_store::{AuditEntry, AuditQuery, Page};
use serde::Deserialize;

use crate::common::{layout, render, Ctx, Layout, PageResult};
use crate::AppState;

#[derive(Debug, Default, Deserialize)]
pub(super) struct AuditFilters {
    #[serde(default)]
    pub(super) entity: String,
    #[serde(default)]
    pub(super) entity_id: String,
    #[serde(default)]
    pub(super) username: String,
    #[serde(default)]
    pub(super) action: String,
    #[serde(default)]
    pub(super) from: String,
    #[serde(default)]
    pub(super) to: String,
    #[serde(default)]
    pub(super) page: String,
}

#[derive(Template)]
#[template(path = "audit/audit.html")]
struct AuditPage {
    l: Layout,
    f: AuditFilters,
    page: Page<AuditEntry>,
    prev: Option<String>,
    next: Option<String>,
    /// The `from` or `to` that is not a day (nothing is listed then).
    bad_date: Option<String>,
}

impl AuditPage {
    fn show(v: &Option<serde_json::Value>) -> String {
        match v {
            None | Some(serde_json::Value::Null) => "—".into(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    }
    fn link(&self, e: &AuditEntry) -> Option<String> {
        match e.entity.as_str() {
            "worker" => Some(format!("/workers/{}", e.entity_id)),
            "organization" => Some(format!("/organizations/{}", e.entity_id)),
            "user" => Some(format!("/accounts/{}", e.entity_id)),
            _ => None,
        }
    }
}

pub(super) async fn audit(State(app): State<AppState>, ctx: Ctx, Query(f): Query<AuditFilters>) -> PageResult {
    let p = ctx.require()?.clone();
    let day = |v: &str| chrono::NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").ok();
    let bad_date = [&f.from, &f.to].into_iter().find(|v| !v.trim().is_empty() && day(v).is_none()).cloned();
    let q = AuditQuery {
        entity: Some(f.entity.clone()),
        entity_id: Some(f.entity_id.clone()),
        username: Some(f.username.clone()),
        action: Some(f.action.clone()),
        from: day(&f.from),
        to: day(&f.to),
        page: f.page.parse().unwrap_or(1),
        per_page: 50,
    };
    let page = if bad_date.is_some() {
        Page { items: Vec::new(), total: 0, total_is_lower_bound: false, page: 1, per_page: 50 }
    } else {
        app.store.list_audit(&p, &q).await?
    };
    let link = |n: i64| {
        let pairs = [
            ("entity", f.entity.clone()),
            ("entity_id", f.entity_id.clone()),
            ("username", f.username.clone()),
            ("action", f.action.clone()),
            ("from", f.from.clone()),
            ("to", f.to.clone()),
            ("page", n.to_string()),
        ];
        format!("?{}", serde_urlencoded::to_string(pairs).unwrap_or_default())
    };
    let prev = (page.page > 1).then(|| link(page.page - 1));
    let next = (page.page < page.pages()).then(|| link(page.page + 1));
    let l = layout(&ctx, "audit").await?;
    render(&AuditPage { l, f, page, prev, next, bad_date })
}
