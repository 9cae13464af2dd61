//! Signing in and out, and the language switch.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use komlang_core::*;
use komlang_store::LoginOutcome;
use serde::Deserialize;

use crate::common::extract::{random_token, CSRF_KEY, USER_KEY};
use crate::common::{layout, render, render_status, CsrfForm, Ctx, Layout, Locale, PageResult};
use crate::AppState;

#[derive(Deserialize)]
pub(super) struct NextParam {
    pub(super) next: Option<String>,
}

/// Only same-site paths are followed after login or a language switch.
fn safe_next(next: Option<String>) -> String {
    crate::common::redirect::local_path(next.as_deref())
}

pub(super) async fn set_lang(
    State(app): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<NextParam>,
) -> Response {
    let locale = Locale::parse(&code).unwrap_or(Locale::Km);
    let secure = if app.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}", locale.code());
    ([(header::SET_COOKIE, cookie)], Redirect::to(&safe_next(q.next))).into_response()
}

#[derive(Template)]
#[template(path = "accounts/login.html")]
struct LoginPage {
    l: Layout,
    next: String,
    error: Option<String>,
    username: String,
}

pub(super) async fn login_form(ctx: Ctx, Query(q): Query<NextParam>) -> PageResult {
    if ctx.user.is_some() {
        return Ok(Redirect::to(&safe_next(q.next)).into_response());
    }
    let l = layout(&ctx, "login").await?;
    render(&LoginPage { l, next: safe_next(q.next), error: None, username: String::new() })
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    pub(super) username: String,
    pub(super) password: String,
    #[serde(default)]
    pub(super) next: Option<String>,
    #[serde(default)]
    pub(super) csrf: String,
}

pub(super) async fn login(State(app): State<AppState>, ctx: Ctx, Form(f): Form<LoginForm>) -> PageResult {
    let next = safe_next(f.next.clone());
    let again = |ctx: &Ctx, error: String| {
        let l = Layout {
            i: ctx.i,
            user: None,
            csrf: ctx.csrf.clone(),
            here: ctx.here.clone(),
            section: "login",
            flash: None,
        };
        render_status(
            StatusCode::UNAUTHORIZED,
            &LoginPage { l, next: next.clone(), error: Some(error), username: f.username.clone() },
        )
    };
    if ctx.check_csrf(&f.csrf).is_err() {
        return again(&ctx, ctx.i.t("login.expired"));
    }
    let now = chrono::Utc::now().timestamp();
    match app.store.login(f.username.trim(), &f.password, &ctx.client_ip, now).await? {
        LoginOutcome::Ok(p) => {
            ctx.session.cycle_id().await?;
            ctx.session.insert(USER_KEY, p.user_id).await?;
            ctx.session.insert(CSRF_KEY, random_token()).await?;
            Ok(Redirect::to(&next).into_response())
        }
        LoginOutcome::Invalid => again(&ctx, ctx.i.t("login.invalid")),
        LoginOutcome::Locked(secs) => {
            let minutes = ((secs + 59) / 60).to_string();
            again(&ctx, ctx.i.tp("login.locked", &[("minutes", minutes)]))
        }
    }
}

pub(super) async fn logout(ctx: Ctx, Form(f): Form<CsrfForm>) -> PageResult {
    ctx.check_csrf(&f.csrf)?;
    ctx.session.flush().await?;
    Ok(Redirect::to("/login").into_response())
}
