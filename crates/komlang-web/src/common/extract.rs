//! What handlers take from a request: the page context [`Ctx`] (who, in which language, the
//! CSRF token, where), the API caller [`ApiUser`] (from the bearer token), the CSRF field of
//! a form, and the JSON body and query string of an API call with a 400 when unreadable.

use komlang_core::NonBlank;
use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use komlang_core::{FieldError, Principal, ValidationErrors};
use komlang_store::StoreError;
use rand::RngCore;
use serde::Deserialize;
use tower_sessions::Session;

use super::errors::{bad_request, ApiError, ApiResult, PageError};
use super::i18n::{I18n, Locale};
use crate::AppState;

/// Session key of the signed-in account's user id.
pub const USER_KEY: &str = "uid";
/// Session key of the session's CSRF token.
pub const CSRF_KEY: &str = "csrf";

pub fn random_token() -> String {
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// Everything a page needs about the request: who, in which language, the
/// CSRF token, and where it is.
pub struct Ctx {
    pub i: I18n,
    pub user: Option<Principal>,
    pub session: Session,
    pub csrf: String,
    /// Path and query of this request (for the language switch and login return).
    pub here: String,
    pub client_ip: String,
}

impl Ctx {
    /// The signed-in principal, or a redirect to the login page.
    pub fn require(&self) -> Result<&Principal, PageError> {
        self.user.as_ref().ok_or_else(|| PageError::Login(self.here.clone()))
    }

    pub fn not_found(&self) -> PageError {
        PageError::NotFound(self.i.locale)
    }

    pub fn forbidden(&self) -> PageError {
        PageError::Forbidden(self.i.locale)
    }

    /// Checks a submitted CSRF token against the session's.
    pub fn check_csrf(&self, submitted: &str) -> Result<(), PageError> {
        if !submitted.is_empty() && constant_time_eq(submitted.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::Forbidden(self.i.locale))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn client_ip(parts: &Parts, trust_proxy: bool) -> String {
    if trust_proxy {
        if let Some(ip) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
        {
            return ip;
        }
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// The page path and query of a request (where a login returns to).
pub fn here(parts: &Parts) -> String {
    parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into())
}

/// A store error as a page: 404 for a record outside the caller's scope, 403 for an act their
/// role does not allow, the generic error page otherwise.
pub fn store_err(ctx: &Ctx, e: StoreError) -> PageError {
    match e {
        StoreError::NotFound => ctx.not_found(),
        StoreError::Forbidden => ctx.forbidden(),
        other => other.into(),
    }
}

/// The signed-in account of a page request, as the route's gate resolved it.
#[derive(Clone)]
pub struct SessionUser(pub Option<Principal>);

/// The account of an API call's bearer token, as the route's gate resolved it.
#[derive(Clone)]
pub struct TokenUser(pub Principal);

/// The signed-in account of a page request: the session's user, if any.
pub async fn session_user(parts: &mut Parts, app: &AppState) -> Result<Option<Principal>, PageError> {
    let session = Session::from_request_parts(parts, app).await.map_err(|(_, m)| PageError::Internal(m.to_string()))?;
    Ok(match session.get::<i64>(USER_KEY).await? {
        Some(uid) => app.store.principal_for_user(uid).await?,
        None => None,
    })
}

impl<S> FromRequestParts<S> for Ctx
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let session =
            Session::from_request_parts(parts, state).await.map_err(|(_, m)| PageError::Internal(m.to_string()))?;
        let i = I18n::new(Locale::from_headers(&parts.headers));
        // Resolved once per request: by the route's gate, or here for a public page.
        let user = match parts.extensions.get::<SessionUser>() {
            Some(SessionUser(user)) => user.clone(),
            None => session_user(parts, &app).await?,
        };
        let csrf = match session.get::<String>(CSRF_KEY).await? {
            Some(t) => t,
            None => {
                let t = random_token();
                session.insert(CSRF_KEY, &t).await?;
                t
            }
        };
        let client_ip = client_ip(parts, app.config.trust_proxy);
        Ok(Ctx { i, user, session, csrf, here: here(parts), client_ip })
    }
}

/// The principal behind an API request's bearer token.
pub struct ApiUser(pub Principal, pub I18n);

/// The language of an API call: `Accept-Language`, else English.
pub fn api_i18n(parts: &Parts) -> I18n {
    I18n::new(Locale::from_accept_language(&parts.headers).unwrap_or(Locale::En))
}

/// The account of an API call's bearer token, or the 401 (or 500) answer.
pub async fn token_user(parts: &Parts, app: &AppState) -> Result<Principal, Response> {
    let token = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let Some(token) = token else { return Err(ApiError::unauthorized().into_response()) };
    match app.store.principal_for_token(&token).await {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(ApiError::unauthorized().into_response()),
        Err(e) => Err(ApiError::internal(e).into_response()),
    }
}

impl<S> FromRequestParts<S> for ApiUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let p = match parts.extensions.get::<TokenUser>() {
            Some(TokenUser(p)) => p.clone(),
            None => token_user(parts, &AppState::from_ref(state)).await?,
        };
        Ok(ApiUser(p, api_i18n(parts)))
    }
}

/// A form that carries only its CSRF token (delete buttons, logout).
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// The JSON body of an API call, or 400 (not JSON, not of the right shape, no JSON content
/// type), or 413 (too large).
pub fn body<T>(b: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    b.map(|Json(v)| v).map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE, e.body_text()),
        _ => bad_request(e.body_text()),
    })
}

/// The query string of an API call, or 400.
pub fn query<T>(q: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    q.map(|Query(v)| v).map_err(|e| bad_request(e.body_text()))
}

/// A coded value of a query (`cadre=…`): none when absent, an `invalid_choice` problem when unknown.
pub fn parse_opt<T>(
    field: &str,
    v: &Option<String>,
    parse: fn(&str) -> Option<T>,
    errs: &mut ValidationErrors,
) -> Option<T> {
    let v = v.non_blank()?;
    let r = parse(v);
    if r.is_none() {
        errs.push(FieldError::new(field, "invalid_choice").with("value", v));
    }
    r
}

/// A coded filter: 400 naming the accepted codes when unknown.
pub fn code_param<T>(
    name: &str,
    v: &Option<String>,
    parse: fn(&str) -> Option<T>,
    codes: &[&str],
) -> ApiResult<Option<T>> {
    match v.non_blank() {
        None => Ok(None),
        Some(s) => parse(s)
            .map(Some)
            .ok_or_else(|| bad_request(format!("unknown {name} `{s}`: use one of {}", codes.join(", ")))),
    }
}

pub fn date_param(name: &str, v: &Option<String>) -> ApiResult<Option<chrono::NaiveDate>> {
    match v.non_blank() {
        None => Ok(None),
        Some(s) => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| bad_request(format!("{name} `{s}` is not a date: use YYYY-MM-DD"))),
    }
}
