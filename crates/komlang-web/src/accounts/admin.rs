//! The accounts of the system, for national administrators (`manage_accounts`): the list
//! (role, scope, organization, disabled or not, last sign-in), and one account with its
//! sessions and API tokens: disable or enable it, set its password, end its sessions, issue,
//! list and revoke its tokens. Every change is audited by the store.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Form;
use komlang_core::expiry::parse_expiry;
use komlang_core::*;
use komlang_store::{AccountRow, ApiToken, IssuedToken, NewToken, StoreError};
use serde::Deserialize;

use crate::common::{flash, layout, render_status, store_err, CsrfForm, Ctx, Layout, PageResult};
use crate::AppState;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An account as a row of the list or the head of its page.
pub struct AccountView {
    pub a: AccountRow,
    pub role: String,
    pub status: String,
}

impl AccountView {
    fn of(l: &Layout, a: AccountRow) -> AccountView {
        let role = l.i.label(a.role);
        let status = l.t(if a.active { "accounts.active" } else { "accounts.disabled" });
        AccountView { a, role, status }
    }

    pub fn scope(&self) -> String {
        self.a.scope_code.clone().unwrap_or_default()
    }

    pub fn org(&self) -> String {
        self.a.org_id.map(|v| v.to_string()).unwrap_or_default()
    }

    pub fn last_login(&self) -> String {
        self.a.last_login_at.clone().unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "accounts/list.html")]
struct AccountsPage {
    l: Layout,
    rows: Vec<AccountView>,
}

pub(super) async fn accounts(State(app): State<AppState>, ctx: Ctx) -> PageResult {
    let p = ctx.require()?.clone();
    let list = app.store.accounts(&p, now()).await.map_err(|e| store_err(&ctx, e))?;
    let l = layout(&ctx, "accounts").await?;
    let rows = list.into_iter().map(|a| AccountView::of(&l, a)).collect();
    render_status(StatusCode::OK, &AccountsPage { l, rows })
}

/// A token as its table row shows it.
pub struct TokenView {
    pub t: ApiToken,
    pub state: String,
}

impl TokenView {
    pub fn prefix(&self) -> String {
        self.t.prefix.as_ref().map(|p| format!("{p}…")).unwrap_or_else(|| "—".into())
    }

    pub fn label(&self) -> String {
        self.t.label.clone().unwrap_or_default()
    }

    pub fn last_used(&self) -> String {
        self.t.last_used_at.clone().unwrap_or_default()
    }

    pub fn expires(&self) -> String {
        self.t.expires_at.clone().unwrap_or_default()
    }

    pub fn live(&self) -> bool {
        self.t.revoked_at.is_none()
    }
}

#[derive(Template)]
#[template(path = "accounts/account.html")]
struct AccountPage {
    l: Layout,
    v: AccountView,
    tokens: Vec<TokenView>,
    /// The token just issued, shown this once.
    issued: Option<String>,
    errors: Vec<String>,
    own: bool,
}

/// What the account page shows besides the account: a token just issued, or problems.
#[derive(Default)]
struct Extra {
    issued: Option<IssuedToken>,
    errors: Vec<String>,
}

async fn account_view(app: &AppState, ctx: &Ctx, id: i64, status: StatusCode, extra: Extra) -> PageResult {
    let p = ctx.require()?.clone();
    let a = app.store.account(&p, id, now()).await.map_err(|e| store_err(ctx, e))?;
    let tokens = app.store.tokens_of(&p, id).await.map_err(|e| store_err(ctx, e))?;
    let l = layout(ctx, "accounts").await?;
    let tokens = tokens
        .into_iter()
        .map(|t| TokenView { state: l.t(&format!("accounts.token_{}", t.state.code())), t })
        .collect();
    let issued = extra.issued.is_some();
    let page = AccountPage {
        v: AccountView::of(&l, a),
        l,
        tokens,
        issued: extra.issued.map(|t| t.token),
        errors: extra.errors,
        own: p.user_id == id,
    };
    let mut r = render_status(status, &page)?;
    if issued {
        // The page holds a secret: kept by no cache.
        r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    }
    Ok(r)
}

pub(super) async fn account(State(app): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> PageResult {
    account_view(&app, &ctx, id, StatusCode::OK, Extra::default()).await
}

/// The account page again with the problems of a refused change (422), or the error page.
async fn refused(app: &AppState, ctx: &Ctx, id: i64, e: StoreError) -> PageResult {
    match e {
        StoreError::Invalid(v) => {
            let errors = v.errors.iter().map(|e| ctx.i.field_error(e)).collect();
            account_view(app, ctx, id, StatusCode::UNPROCESSABLE_ENTITY, Extra { errors, issued: None }).await
        }
        other => Err(store_err(ctx, other)),
    }
}

async fn done(ctx: &Ctx, id: i64, key: &str) -> PageResult {
    flash(ctx, key).await?;
    Ok(Redirect::to(&format!("/accounts/{id}")).into_response())
}

pub(super) async fn disable(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    set_active(app, ctx, id, f, false).await
}

pub(super) async fn enable(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    set_active(app, ctx, id, f, true).await
}

async fn set_active(app: AppState, ctx: Ctx, id: i64, f: CsrfForm, active: bool) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    match app.store.set_active(&p, id, active).await {
        Ok(_) => done(&ctx, id, if active { "accounts.enabled_done" } else { "accounts.disabled_done" }).await,
        Err(e) => refused(&app, &ctx, id, e).await,
    }
}

pub(super) async fn end_sessions(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    let keep = ctx.session.id().map(|id| id.to_string());
    match app.store.end_sessions(&p, id, keep.as_deref()).await {
        Ok(_) => done(&ctx, id, "accounts.sessions_ended").await,
        Err(e) => refused(&app, &ctx, id, e).await,
    }
}

#[derive(Deserialize)]
pub(super) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// An administrator sets an account's password: every session of the account ends (but the
/// administrator's own current one, when it is their own account).
pub(super) async fn set_password(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<PasswordForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    let user = app.store.account(&p, id, now()).await.map_err(|e| store_err(&ctx, e))?;
    if f.password != f.confirm {
        let errors = vec![ctx.i.t("account.mismatch")];
        return account_view(&app, &ctx, id, StatusCode::UNPROCESSABLE_ENTITY, Extra { errors, issued: None }).await;
    }
    let keep = ctx.session.id().map(|id| id.to_string());
    match app.store.change_password(&p, &user.username, &f.password, keep.as_deref()).await {
        Ok(_) => done(&ctx, id, "accounts.password_set").await,
        Err(e) => refused(&app, &ctx, id, e).await,
    }
}

#[derive(Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    label: String,
    /// `90d`, `12w`, `YYYY-MM-DD`; blank: no expiry.
    #[serde(default)]
    expires: String,
}

/// Issues a token and shows it this once (not kept: only its hash is).
pub(super) async fn issue_token(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<TokenForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    let expires_at = match f.expires.non_blank() {
        None => None,
        Some(x) => match parse_expiry("expires", x, chrono::Utc::now()) {
            Ok(at) => Some(at),
            Err(e) => return refused(&app, &ctx, id, StoreError::Invalid(ValidationErrors { errors: vec![e] })).await,
        },
    };
    let t = NewToken { label: f.label.non_blank().map(str::to_string), expires_at };
    match app.store.issue_token(&p, id, &t).await {
        Ok(issued) => {
            account_view(&app, &ctx, id, StatusCode::OK, Extra { issued: Some(issued), errors: Vec::new() }).await
        }
        Err(e) => refused(&app, &ctx, id, e).await,
    }
}

pub(super) async fn revoke_token(
    State(app): State<AppState>,
    ctx: Ctx,
    Path((id, token_id)): Path<(i64, i64)>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    match app.store.revoke_token(&p, id, token_id).await {
        Ok(_) => done(&ctx, id, "accounts.revoked_one").await,
        Err(e) => refused(&app, &ctx, id, e).await,
    }
}

pub(super) async fn revoke_all_tokens(
    State(app): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> PageResult {
    let p = ctx.require()?.clone();
    ctx.check_csrf(&f.csrf)?;
    match app.store.revoke_all_tokens(&p, id).await {
        Ok(_) => done(&ctx, id, "accounts.revoked_all").await,
        Err(e) => refused(&app, &ctx, id, e).await,
    }
}
