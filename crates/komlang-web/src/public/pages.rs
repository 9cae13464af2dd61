//! Pages for anyone, signed in or not: about and the style sheet.

use askama::Template;
use axum::http::header;
use axum::response::IntoResponse;
use komlang_core::*;

use crate::common::{layout, render, Ctx, Layout, PageResult};

#[derive(Template)]
#[template(path = "public/about.html")]
struct AboutPage {
    l: Layout,
    version: &'static str,
}

pub(super) async fn about(ctx: Ctx) -> PageResult {
    let l = layout(&ctx, "about").await?;
    render(&AboutPage { l, version: env!("CARGO_PKG_VERSION") })
}

const CSS: &str = include_str!("../../static/app.css");

pub(super) async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")], CSS)
}
