//! The field app's page, and what makes the site installable and usable without a connection:
//! the web app manifest, the service worker (served from the site's root, so that its scope is
//! the whole site) and the scripts.

use askama::Template;
use axum::http::header;
use axum::response::IntoResponse;

use crate::common::{layout, render, Ctx, Layout, PageResult};
#[allow(unused_imports, reason = "the page template names actions")]
use komlang_core::Action;

#[derive(Template)]
#[template(path = "field/field.html")]
struct FieldPage {
    l: Layout,
    /// The page's texts for the script, as JSON (`<` escaped, so it cannot end the element).
    texts: String,
}

/// The texts of the field app, in the page's language.
const TEXT_KEYS: &[&str] = &[
    "online",
    "offline",
    "loading",
    "fetched",
    "waiting",
    "waiting_n",
    "saved",
    "refused",
    "conflict",
    "signin",
    "send_now",
    "changes",
    "no_changes",
    "add_worker",
    "workers",
    "filter",
    "edit",
    "save_offline",
    "my_record",
    "training",
    "participants",
    "apply_mine",
    "drop_mine",
    "field",
    "base",
    "theirs",
    "yours",
    "truncated",
    "clear_saved",
    "new_worker",
    "attendance",
    "self_assessment",
    "assessed_on",
    "notes",
];

pub(super) async fn field_page(ctx: Ctx) -> PageResult {
    ctx.require()?;
    let mut texts = serde_json::Map::new();
    for k in TEXT_KEYS {
        texts.insert((*k).into(), ctx.i.t(&format!("offline.{k}")).into());
    }
    for k in [
        "name_km",
        "name_latin",
        "sex",
        "date_of_birth",
        "phone",
        "email",
        "cadre",
        "role",
        "sector",
        "workplace_code",
        "status",
    ] {
        texts.insert(format!("worker.{k}"), ctx.i.field_label("worker", k).into());
    }
    texts.insert("days_attended".into(), ctx.i.t("training.days_attended").into());
    texts.insert("result".into(), ctx.i.t("training.result").into());
    let texts = serde_json::Value::Object(texts).to_string().replace('<', "\\u003c");
    let l = layout(&ctx, "field").await?;
    render(&FieldPage { l, texts })
}

const MANIFEST: &str = include_str!("../../static/manifest.webmanifest");
const SERVICE_WORKER: &str = include_str!("../../static/sw.js");
const FIELD_JS: &str = include_str!("../../static/field.js");
const SITE_JS: &str = include_str!("../../static/komlang.js");
const ICON: &str = include_str!("../../static/icon.svg");

/// A file every page may need, kept by the browser for a day.
fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=86400")], body)
}

pub(super) async fn manifest() -> impl IntoResponse {
    asset("application/manifest+json", MANIFEST)
}

/// The service worker: never kept by the HTTP cache, so that a new one is found at once.
pub(super) async fn service_worker() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], SERVICE_WORKER)
}

pub(super) async fn field_js() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", FIELD_JS)
}

pub(super) async fn site_js() -> impl IntoResponse {
    asset("text/javascript; charset=utf-8", SITE_JS)
}

pub(super) async fn icon() -> impl IntoResponse {
    asset("image/svg+xml", ICON)
}
