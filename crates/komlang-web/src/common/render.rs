//! Rendering a page: its layout for this request (with the flash message of the last one), and
//! a template into the response.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::errors::PageError;
use super::extract::Ctx;
use super::layout::Layout;

pub type PageResult = Result<Response, PageError>;

/// The layout of a page of `section` (the menu entry shown as current); takes the flash message.
pub async fn layout(ctx: &Ctx, section: &'static str) -> Result<Layout, PageError> {
    let flash: Option<String> = ctx.session.remove(FLASH_KEY).await?;
    Ok(Layout {
        i: ctx.i,
        user: ctx.user.clone(),
        csrf: ctx.csrf.clone(),
        here: ctx.here.clone(),
        section,
        flash: flash.map(|k| ctx.i.t(&k)),
    })
}

const FLASH_KEY: &str = "flash";

/// Shows the text of `key` on the next page (after a redirect).
pub async fn flash(ctx: &Ctx, key: &str) -> Result<(), PageError> {
    ctx.session.insert(FLASH_KEY, key).await?;
    Ok(())
}

pub fn render<T: Template>(t: &T) -> PageResult {
    let body = t.render().map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(Html(body).into_response())
}

pub fn render_status<T: Template>(status: StatusCode, t: &T) -> PageResult {
    let body = t.render().map_err(|e| PageError::Internal(e.to_string()))?;
    Ok((status, Html(body)).into_response())
}
