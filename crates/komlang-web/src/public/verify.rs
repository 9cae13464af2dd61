//! Two public pages that need no login: certificate verification and the register of valid
//! licences. Nothing else about a worker is shown there.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use komlang_core::training::{normalize_number, NumberKind};
use komlang_core::*;
use serde::Deserialize;

use crate::common::names::{pick, pick_or_en};
use crate::common::{layout, render, render_status, today, Ctx, Layout, PageResult};
use crate::AppState;

pub struct PublicCertView {
    pub number: String,
    pub valid: bool,
    pub holder_name_km: String,
    pub holder_name_latin: String,
    pub level: String,
    pub programme: String,
    pub institution: String,
    pub issued_on: String,
    pub revoked_on: String,
}

#[derive(Template)]
#[template(path = "public/verify.html")]
struct VerifyPage {
    l: Layout,
    number: String,
    cert: Option<PublicCertView>,
    not_found: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct NumberParam {
    #[serde(default)]
    pub(super) number: String,
}

pub(super) async fn verify_form(ctx: Ctx, Query(q): Query<NumberParam>) -> PageResult {
    let typed = q.number.trim().to_string();
    if !typed.is_empty() {
        if let Some(n) = normalize_number(NumberKind::Certificate, &typed) {
            return Ok(Redirect::to(&format!("/verify/{n}")).into_response());
        }
    }
    let l = layout(&ctx, "verify").await?;
    let not_found = !typed.is_empty();
    let page = VerifyPage { l, number: typed, cert: None, not_found };
    if not_found {
        render_status(StatusCode::NOT_FOUND, &page)
    } else {
        render(&page)
    }
}

pub(super) async fn verify_page(State(app): State<AppState>, ctx: Ctx, Path(number): Path<String>) -> PageResult {
    let i = ctx.i;
    let found = app.store.public_certificate(&number).await?;
    let l = layout(&ctx, "verify").await?;
    match found {
        Some(c) => {
            let institution = app
                .store
                .institutions()
                .await?
                .iter()
                .find(|x| x.code == c.institution_code)
                .map(|x| format!("{} ({})", pick_or_en(&i, &x.name_en, &x.name_km), x.code))
                .unwrap_or_else(|| c.institution_code.clone());
            let view = PublicCertView {
                number: c.number.clone(),
                valid: c.valid,
                holder_name_km: c.holder_name_km.clone(),
                holder_name_latin: c.holder_name_latin.clone(),
                level: i.t(&c.level.label_key()),
                programme: if c.programme_title_km.is_empty() {
                    c.programme_title_en.clone()
                } else {
                    pick(&i, &c.programme_title_en, &c.programme_title_km)
                },
                institution,
                issued_on: c.issued_on.to_string(),
                revoked_on: c.revoked_on.map(|d| d.to_string()).unwrap_or_default(),
            };
            render(&VerifyPage { l, number: c.number, cert: Some(view), not_found: false })
        }
        None => render_status(StatusCode::NOT_FOUND, &VerifyPage { l, number, cert: None, not_found: true }),
    }
}

pub struct RegisterRow {
    pub number: String,
    pub name_km: String,
    pub name_latin: String,
    pub expires_on: String,
}

#[derive(Template)]
#[template(path = "public/register.html")]
struct RegisterPage {
    l: Layout,
    q: String,
    searched: bool,
    too_short: bool,
    rows: Vec<RegisterRow>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct RegisterParam {
    #[serde(default)]
    pub(super) q: String,
}

pub(super) async fn register_page(State(app): State<AppState>, ctx: Ctx, Query(q): Query<RegisterParam>) -> PageResult {
    let text = q.q.trim().to_string();
    let too_short = !text.is_empty() && text.chars().count() < 2;
    let searched = !text.is_empty() && !too_short;
    let rows = if searched {
        app.store
            .public_register(&text, today())
            .await?
            .into_iter()
            .map(|x| RegisterRow {
                number: x.number,
                name_km: x.name_km,
                name_latin: x.name_latin,
                expires_on: x.expires_on.to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let l = layout(&ctx, "register").await?;
    render(&RegisterPage { l, q: text, searched, too_short, rows })
}
