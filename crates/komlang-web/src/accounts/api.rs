//! The caller's own account in the API (`/api/v1/me`), and the accounts of the system for
//! national administrators (`manage_accounts`): list them, disable or enable one, end its
//! sessions, issue, list and revoke its API tokens. Every change is audited by the store.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::expiry::parse_expiry;
use komlang_core::*;
use komlang_store::{AccountRow, ApiToken, IssuedToken, NewToken, StoreError, TokenState};
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::common::errors::store;
use crate::common::extract::object_body;
use crate::common::{ApiError, ApiErrorBody, ApiResult, ApiUser, I18n};
use crate::AppState;

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub role: UserRole,
    /// Admin unit code of the scope; absent for the whole country.
    pub scope: Option<String>,
    pub org_id: Option<i64>,
    pub worker_id: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", responses((status = 200, body = Me)), security(("bearer" = [])))]
pub(super) async fn me(ApiUser(p, _): ApiUser) -> Json<Me> {
    Json(Me {
        username: p.username,
        role: p.role,
        scope: match p.scope {
            Scope::Nation => None,
            Scope::Unit { code, .. } => Some(code),
        },
        org_id: p.org_id,
        worker_id: p.worker_id,
    })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[utoipa::path(get, path = "/api/v1/accounts", tag = "accounts",
    responses((status = 200, description = "Every account, by username", body = Vec<AccountRow>),
        (status = 403, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_accounts(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
) -> ApiResult<Json<Vec<AccountRow>>> {
    Ok(Json(app.store.accounts(&p, now()).await.map_err(store(&i))?))
}

#[utoipa::path(get, path = "/api/v1/accounts/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, body = AccountRow), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn get_account(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<AccountRow>> {
    Ok(Json(app.store.account(&p, id, now()).await.map_err(store(&i))?))
}

async fn set_active(app: &AppState, p: &Principal, i: &I18n, id: i64, active: bool) -> ApiResult<Json<AccountRow>> {
    app.store.set_active(p, id, active).await.map_err(store(i))?;
    Ok(Json(app.store.account(p, id, now()).await.map_err(store(i))?))
}

#[utoipa::path(post, path = "/api/v1/accounts/{id}/disable", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, description = "Disabled: it cannot sign in, its sessions are ended and its tokens refused", body = AccountRow),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`active`: `cannot_disable_self`, `last_national_admin`", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn disable(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<AccountRow>> {
    set_active(&app, &p, &i, id, false).await
}

#[utoipa::path(post, path = "/api/v1/accounts/{id}/enable", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, body = AccountRow), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn enable(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<AccountRow>> {
    set_active(&app, &p, &i, id, true).await
}

/// How many sessions were ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ended {
    pub ended: u64,
}

#[utoipa::path(delete, path = "/api/v1/accounts/{id}/sessions", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, description = "Every session of the account ended (signed out everywhere)", body = Ended),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn end_sessions(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Ended>> {
    Ok(Json(Ended { ended: app.store.end_sessions(&p, id, None).await.map_err(store(&i))? }))
}

#[utoipa::path(get, path = "/api/v1/accounts/{id}/tokens", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, description = "The account's tokens, newest first, without their secret", body = Vec<ApiToken>),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn list_tokens(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(app.store.tokens_of(&p, id).await.map_err(store(&i))?))
}

/// A token to issue.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    /// What the token is for, at most 100 characters.
    #[serde(default)]
    pub label: Option<String>,
    /// When it stops working: `90d`, `12w` or a date `YYYY-MM-DD` (00:00 UTC); absent: when revoked.
    #[serde(default)]
    pub expires: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/accounts/{id}/tokens", tag = "accounts", params(("id" = i64, Path)),
    request_body = TokenInput,
    responses((status = 201, description = "Issued: `token` is shown this once and never again", body = IssuedToken),
        (status = 400, body = ApiErrorBody), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody),
        (status = 422, description = "`expires`: `invalid_expiry`, `expiry_in_past`, `out_of_range`; `label`: `too_long`", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn issue_token(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
    b: Result<Json<serde_json::Map<String, serde_json::Value>>, JsonRejection>,
) -> ApiResult<Response> {
    let input: TokenInput = object_body(b)?;
    let expires_at = match input.expires.non_blank() {
        None => None,
        Some(x) => Some(
            parse_expiry("expires", x, chrono::Utc::now())
                .map_err(|e| ApiError::from_store(&i, StoreError::Invalid(ValidationErrors { errors: vec![e] })))?,
        ),
    };
    let t = NewToken { label: input.label.non_blank().map(str::to_string), expires_at };
    let issued = app.store.issue_token(&p, id, &t).await.map_err(store(&i))?;
    Ok((StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], Json(issued)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/accounts/{id}/tokens/{token_id}", tag = "accounts",
    params(("id" = i64, Path), ("token_id" = i64, Path)),
    responses((status = 200, description = "Revoked (revoking again changes nothing)", body = ApiToken),
        (status = 403, body = ApiErrorBody), (status = 404, description = "No such token of this account", body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn revoke_token(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path((id, token_id)): Path<(i64, i64)>,
) -> ApiResult<Json<ApiToken>> {
    Ok(Json(app.store.revoke_token(&p, id, token_id).await.map_err(store(&i))?))
}

/// How many tokens were revoked.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revoked {
    pub revoked: u64,
}

#[utoipa::path(delete, path = "/api/v1/accounts/{id}/tokens", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 200, description = "Every token of the account not yet revoked is revoked", body = Revoked),
        (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody)),
    security(("bearer" = [])))]
pub(super) async fn revoke_all_tokens(
    State(app): State<AppState>,
    ApiUser(p, i): ApiUser,
    Path(id): Path<i64>,
) -> ApiResult<Json<Revoked>> {
    Ok(Json(Revoked { revoked: app.store.revoke_all_tokens(&p, id).await.map_err(store(&i))? }))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        me,
        list_accounts,
        get_account,
        disable,
        enable,
        end_sessions,
        list_tokens,
        issue_token,
        revoke_token,
        revoke_all_tokens
    ),
    components(schemas(Me, UserRole, AccountRow, ApiToken, IssuedToken, TokenState, TokenInput, Ended, Revoked))
)]
pub struct AccountsApiDoc;
