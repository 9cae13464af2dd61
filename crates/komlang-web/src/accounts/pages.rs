//! Signing in and out, the language switch, and an account changing its own password.
//!
//! A browser that signs in gets a device cookie (`komlang_device`): the lockout spares the
//! browsers an account has signed in from before (komlang-store's `accounts::login`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use komlang_core::*;
use komlang_store::{LoginOutcome, LoginRequest, StoreError, DEVICE_MAX_AGE_SECS};
use serde::Deserialize;
use tower_cookies::Cookies;

use crate::common::extract::{own_cookie, random_token, CSRF_KEY, USER_KEY};
use crate::common::{flash, layout, render, render_status, store_errors, CsrfForm, Ctx, Layout, Locale, PageResult};
use crate::AppState;

/// The device cookie, under the `__Host-` prefix over HTTPS.
fn device_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-komlang_device"
    } else {
        "komlang_device"
    }
}

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

pub(super) async fn login(State(app): State<AppState>, ctx: Ctx, jar: Cookies, Form(f): Form<LoginForm>) -> PageResult {
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
    let secure = app.config.secure_cookies;
    let device_cookie = device_cookie_name(secure);
    let sent = jar.get(device_cookie).map(|c| c.value().to_string());
    let attempt = LoginRequest {
        username: f.username.trim(),
        password: &f.password,
        ip: &ctx.client_ip,
        device: sent.as_deref(),
        now,
    };
    match app.store.login_from(&attempt).await? {
        LoginOutcome::Ok(p) => {
            ctx.session.cycle_id().await?;
            ctx.session.insert(USER_KEY, p.user_id).await?;
            ctx.session.insert(CSRF_KEY, random_token()).await?;
            let device = app.store.remember_device(p.user_id, sent.as_deref(), now).await?;
            let mut cookie = own_cookie(device_cookie, device, secure);
            cookie.set_max_age(time::Duration::seconds(DEVICE_MAX_AGE_SECS));
            jar.add(cookie);
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
    // The browser forgets what this site kept on the device (the field app's records and
    // queue, the service worker's copies): a phone left signed out holds nothing of the account.
    let clear = [(axum::http::HeaderName::from_static("clear-site-data"), "\"cache\", \"storage\"")];
    Ok((clear, Redirect::to("/login")).into_response())
}

#[derive(Template)]
#[template(path = "accounts/password.html")]
struct PasswordPage {
    l: Layout,
    errors: Vec<String>,
}

pub(super) async fn password_form(ctx: Ctx) -> PageResult {
    ctx.require()?;
    let l = layout(&ctx, "account").await?;
    render(&PasswordPage { l, errors: Vec::new() })
}

#[derive(Deserialize)]
pub(super) struct OwnPasswordForm {
    #[serde(default)]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) current: String,
    #[serde(default)]
    pub(super) password: String,
    #[serde(default)]
    pub(super) confirm: String,
}

/// The password form again with its problems (422).
async fn password_again(ctx: &Ctx, errors: Vec<String>) -> PageResult {
    let l = layout(ctx, "account").await?;
    render_status(StatusCode::UNPROCESSABLE_ENTITY, &PasswordPage { l, errors })
}

/// An account changes its own password: the current one first; the session it is changed
/// from stays signed in (under a new id), every other session of the account ends.
pub(super) async fn change_password(
    State(app): State<AppState>,
    ctx: Ctx,
    Form(f): Form<OwnPasswordForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    if !app.store.check_own_password(p.user_id, &f.current).await? {
        return password_again(&ctx, vec![ctx.i.t("account.wrong_current")]).await;
    }
    if f.password != f.confirm {
        return password_again(&ctx, vec![ctx.i.t("account.mismatch")]).await;
    }
    let keep = ctx.session.id().map(|id| id.to_string());
    match app.store.change_password(&p, &p.username, &f.password, keep.as_deref()).await {
        Ok(_) => {}
        Err(e @ StoreError::Invalid(_)) => {
            let errs = store_errors(e)?;
            return password_again(&ctx, errs.errors.iter().map(|e| ctx.i.field_error(e)).collect()).await;
        }
        Err(e) => return Err(e.into()),
    }
    // A new session id as well, as at signing in.
    ctx.session.cycle_id().await?;
    flash(&ctx, "account.password_changed").await?;
    Ok(Redirect::to("/").into_response())
}
