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

/// Noto Sans Khmer (SIL Open Font License 1.1, `static/fonts/OFL.txt`), the Khmer letters only.
const KHMER_400: &[u8] = include_bytes!("../../static/fonts/noto-sans-khmer-400.woff2");
const KHMER_700: &[u8] = include_bytes!("../../static/fonts/noto-sans-khmer-700.woff2");
const FONT_LICENSE: &str = include_str!("../../static/fonts/OFL.txt");

fn font(bytes: &'static [u8]) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "font/woff2"), (header::CACHE_CONTROL, "public, max-age=604800")], bytes)
}

pub(super) async fn khmer_400() -> impl IntoResponse {
    font(KHMER_400)
}

pub(super) async fn khmer_700() -> impl IntoResponse {
    font(KHMER_700)
}

pub(super) async fn font_license() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "public, max-age=86400")],
        FONT_LICENSE,
    )
}
