//! What handlers take from a request: the page context [`Ctx`] (who, in which language, the
//! CSRF token, where), the API caller [`ApiUser`] (from the bearer token), the CSRF field of
//! a form, and the JSON body and query string of an API call with a 400 when unreadable.
//!
//! Anonymous visitors get no stored session: their CSRF token is a cookie of its own
//! (`komlang_csrf`, checked against the form's copy: a "double-submit" cookie), so that
//! reading public pages writes nothing to the database. A session is stored from signing in,
//! and the token of a signed-in account lives in it.

use komlang_core::NonBlank;
use std::net::SocketAddr;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRef, FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Datelike;
use komlang_core::{AdminLevel, FieldError, Principal, ValidationErrors};
use komlang_store::StoreError;
use rand::RngCore;
use serde::Deserialize;
use tower_cookies::cookie::{Cookie, SameSite};
use tower_cookies::Cookies;
use tower_sessions::Session;

use super::errors::{bad_request, ApiError, ApiResult, PageError};
use super::i18n::{I18n, Locale};
use super::today;
use crate::AppState;

/// Session key of the signed-in account's user id.
pub const USER_KEY: &str = "uid";
/// Session key of the session's CSRF token.
pub const CSRF_KEY: &str = "csrf";

/// The anonymous visitor's CSRF cookie, under the `__Host-` prefix over HTTPS (which a
/// neighbouring subdomain cannot set).
pub fn csrf_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-komlang_csrf"
    } else {
        "komlang_csrf"
    }
}

/// A cookie of Komlang's own: `HttpOnly`, `SameSite=Strict`, path `/`, `Secure` over HTTPS.
pub fn own_cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    let mut c = Cookie::new(name, value);
    c.set_path("/");
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_secure(secure);
    c
}

/// The request's cookie jar (tower-sessions' layer puts one in every request); what is
/// added to it is set on the response.
pub fn cookies(parts: &Parts) -> Result<Cookies, PageError> {
    parts.extensions.get::<Cookies>().cloned().ok_or_else(|| PageError::Internal("no cookie jar".into()))
}

/// Whether a value can be a CSRF token [`random_token`] made (48 hexadecimal digits).
fn is_token(v: &str) -> bool {
    v.len() == 48 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

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

/// The client's address. Without trusted proxies (`proxy_hops == 0`) it is the peer of the
/// connection. Behind `proxy_hops` trusted reverse proxies, each of which appends the address
/// it received the request from to `X-Forwarded-For`, it is the entry that the outermost
/// trusted proxy added: the `proxy_hops`-th from the right. Entries further left were written
/// by the client and are never believed; an entry that is not an IP address is ignored.
pub fn client_ip(parts: &Parts, proxy_hops: u8) -> String {
    let peer = || {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(a)| a.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    if proxy_hops == 0 {
        return peer();
    }
    // Several X-Forwarded-For headers read as one list, in order.
    let hops: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    // Fewer entries than trusted proxies: every entry was written by a trusted proxy, and
    // the left-most is the closest to the client.
    let at = hops.len().saturating_sub(usize::from(proxy_hops));
    hops.get(at).and_then(|h| h.parse::<std::net::IpAddr>().ok()).map(|ip| ip.to_string()).unwrap_or_else(peer)
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
        StoreError::Stale { .. } => PageError::Stale(ctx.i.locale),
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
        let csrf = if user.is_some() {
            // Signed in: the session's token (made when signing in).
            match session.get::<String>(CSRF_KEY).await? {
                Some(t) => t,
                None => {
                    let t = random_token();
                    session.insert(CSRF_KEY, &t).await?;
                    t
                }
            }
        } else {
            // Anonymous: the CSRF cookie, set now if the browser has none; no session is stored.
            let secure = app.config.secure_cookies;
            let jar = cookies(parts)?;
            let name = csrf_cookie_name(secure);
            match jar.get(name).map(|c| c.value().to_string()).filter(|v| is_token(v)) {
                Some(t) => t,
                None => {
                    let t = random_token();
                    jar.add(own_cookie(name, t.clone(), secure));
                    t
                }
            }
        };
        let client_ip = client_ip(parts, app.config.proxy_hops);
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

/// A form that carries only its CSRF token (delete buttons, logout), and for an act on a
/// stored record the record's version as the page showed it (`common::versions`).
#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default, deserialize_with = "super::versions::hidden_version")]
    pub record_version: Option<i64>,
}

/// The JSON body of an API call, or 400 (not JSON, not of the right shape, no JSON content
/// type), or 413 (too large).
pub fn body<T>(b: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    b.map(|Json(v)| v).map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE, e.body_text()),
        _ => bad_request(e.body_text()),
    })
}

/// The JSON body of an API call that must be an object (serde would also read a struct from
/// an array, so `[null, null]` would pass as a body whose fields are all optional), or 400.
pub fn object_body<T: serde::de::DeserializeOwned>(
    b: Result<Json<serde_json::Map<String, serde_json::Value>>, JsonRejection>,
) -> ApiResult<T> {
    let map = body(b)?;
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| bad_request(e.to_string()))
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

/// The levels units are counted by (province, district, commune).
/// The level asked, or the one below the caller's area; 400 for another.
pub fn level_param(v: &Option<String>, below: AdminLevel) -> ApiResult<AdminLevel> {
    match v.non_blank() {
        None => Ok(below),
        Some(s) => AdminLevel::parse(s)
            .filter(|l| matches!(l, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune))
            .ok_or_else(|| bad_request(format!("unknown level `{s}`: use province, district or commune"))),
    }
}

/// The level of the area a report of `parent` (or, without one, of the caller's scope) covers:
/// None for the whole country, or a parent that is not a known unit.
pub async fn area_level(app: &AppState, p: &Principal, parent: Option<&str>) -> Option<AdminLevel> {
    match parent {
        Some(code) => app.store.admin_unit(code).await.ok().flatten().map(|u| u.level),
        None => match &p.scope {
            komlang_core::Scope::Nation => None,
            komlang_core::Scope::Unit { level, .. } => Some(*level),
        },
    }
}

/// The level below a unit's (the country's: provinces).
pub fn level_below(l: Option<AdminLevel>) -> AdminLevel {
    match l {
        Some(AdminLevel::Province) => AdminLevel::District,
        Some(AdminLevel::District | AdminLevel::Commune | AdminLevel::Village) => AdminLevel::Commune,
        _ => AdminLevel::Province,
    }
}

/// The year asked (this year by default), within the years posts are kept for; 400 otherwise.
pub fn year_param(v: Option<i32>) -> ApiResult<i32> {
    let y = v.unwrap_or_else(|| today().year());
    if komlang_core::establishment::YEARS.contains(&y) {
        Ok(y)
    } else {
        Err(bad_request(format!("year {y} is out of range: use 1900 to 2100")))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test inputs are known")]
    use super::client_ip;
    use axum::extract::ConnectInfo;
    use axum::http::Request;
    use std::net::SocketAddr;

    fn parts(xff: &[&str]) -> axum::http::request::Parts {
        let mut b = Request::builder().uri("/login");
        for v in xff {
            b = b.header("x-forwarded-for", *v);
        }
        let (mut parts, ()) = b.body(()).unwrap().into_parts();
        parts.extensions.insert(ConnectInfo("192.0.2.10:4000".parse::<SocketAddr>().unwrap()));
        parts
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        assert_eq!(client_ip(&parts(&["203.0.113.7"]), 0), "192.0.2.10");
    }

    #[test]
    fn the_address_a_client_writes_is_never_believed() {
        // The client wrote 10.9.1.1; the trusted proxy appended the real address.
        for i in 0..25 {
            let forged = format!("10.9.{i}.1, 203.0.113.7");
            assert_eq!(client_ip(&parts(&[&forged]), 1), "203.0.113.7");
        }
        // Two proxies (load balancer, then nginx): the second entry from the right.
        assert_eq!(client_ip(&parts(&["10.9.0.1, 203.0.113.7, 198.51.100.2"]), 2), "203.0.113.7");
        // Several headers are one list.
        assert_eq!(client_ip(&parts(&["10.9.0.1", "203.0.113.7"]), 1), "203.0.113.7");
        // Fewer entries than proxies: the left-most, all of them the proxies' own.
        assert_eq!(client_ip(&parts(&["203.0.113.7"]), 2), "203.0.113.7");
        // No header, or not an address: the peer.
        assert_eq!(client_ip(&parts(&[]), 1), "192.0.2.10");
        assert_eq!(client_ip(&parts(&["10.9.0.1, evil"]), 1), "192.0.2.10");
        assert_eq!(client_ip(&parts(&["2001:db8::1"]), 1), "2001:db8::1");
    }
}
