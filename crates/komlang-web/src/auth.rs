//! Sessions (kept in the database, shared by every app server), the request
//! context of pages, CSRF tokens, and bearer tokens for the API.

use std::net::SocketAddr;

use async_trait::async_trait;
use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use komlang_core::Principal;
use komlang_store::{SessionRecord, Store};
use rand::RngCore;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};
use tower_sessions::Session;

use crate::i18n::{I18n, Locale};
use crate::AppState;

pub const USER_KEY: &str = "uid";
pub const CSRF_KEY: &str = "csrf";

/// tower-sessions store over Komlang's database.
#[derive(Clone, Debug)]
pub struct DbSessionStore(pub Store);

fn backend(e: impl std::fmt::Display) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            let rec = SessionRecord {
                data: serde_json::to_string(&record.data).map_err(backend)?,
                expires_at: record.expiry_date.unix_timestamp(),
            };
            if self.0.session_create(&record.id.to_string(), &rec).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let rec = SessionRecord {
            data: serde_json::to_string(&record.data).map_err(backend)?,
            expires_at: record.expiry_date.unix_timestamp(),
        };
        self.0.session_save(&record.id.to_string(), &rec).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let Some(rec) = self.0.session_load(&id.to_string(), now).await.map_err(backend)? else {
            return Ok(None);
        };
        let data = serde_json::from_str(&rec.data).map_err(backend)?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(rec.expires_at).map_err(backend)?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.session_delete(&id.to_string()).await.map_err(backend)
    }
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

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    Login(String),
    NotFound(Locale),
    Forbidden(Locale),
    Internal(String),
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login(next) => {
                let q = serde_urlencoded::to_string([("next", next)]).unwrap_or_default();
                Redirect::to(&format!("/login?{q}")).into_response()
            }
            PageError::NotFound(l) => crate::pages::error_page(StatusCode::NOT_FOUND, l, "common.not_found"),
            PageError::Forbidden(l) => crate::pages::error_page(StatusCode::FORBIDDEN, l, "common.forbidden"),
            PageError::Internal(e) => {
                tracing::error!("internal error: {e}");
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response()
            }
        }
    }
}

impl From<komlang_store::StoreError> for PageError {
    fn from(e: komlang_store::StoreError) -> Self {
        PageError::Internal(e.to_string())
    }
}

impl From<tower_sessions::session::Error> for PageError {
    fn from(e: tower_sessions::session::Error) -> Self {
        PageError::Internal(e.to_string())
    }
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
        let user = match session.get::<i64>(USER_KEY).await? {
            Some(uid) => app.store.principal_for_user(uid).await?,
            None => None,
        };
        let csrf = match session.get::<String>(CSRF_KEY).await? {
            Some(t) => t,
            None => {
                let t = random_token();
                session.insert(CSRF_KEY, &t).await?;
                t
            }
        };
        let here = parts.uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let client_ip = client_ip(parts, app.config.trust_proxy);
        Ok(Ctx { i, user, session, csrf, here, client_ip })
    }
}

/// The principal behind an API request's bearer token.
pub struct ApiUser(pub Principal, pub I18n);

impl<S> FromRequestParts<S> for ApiUser
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let i = I18n::new(Locale::from_accept_language(&parts.headers).unwrap_or(Locale::En));
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let unauthorized = || {
            crate::api::ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "a valid bearer token is required")
                .into_response()
        };
        let Some(token) = token else { return Err(unauthorized()) };
        match app.store.principal_for_token(&token).await {
            Ok(Some(p)) => Ok(ApiUser(p, i)),
            Ok(None) => Err(unauthorized()),
            Err(e) => Err(crate::api::ApiError::internal(e).into_response()),
        }
    }
}
