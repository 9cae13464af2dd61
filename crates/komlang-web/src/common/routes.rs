//! The route table. Every route is declared once, with its method, its full path, its
//! [`Gate`] and its handler:
//!
//! ```ignore
//! r.get("/workers/{id}", Gate::Action(Action::ReadWorkers), pages::worker)
//! ```
//!
//! [`Routes`] builds from these both the axum router and the table of [`RouteInfo`]
//! (`komlang_web::route_table()`), which the permission-matrix test checks route by route.
//! Paths under `/api/` are the JSON API: they are nested under `/api` with its 404 fallback,
//! behind one layer ([`api_boundary`](super::api_layer::api_boundary)) that makes every
//! refusal JSON and bounds JSON bodies.
//!
//! The router enforces the gate before the handler runs. Pages: nobody signed in → a
//! redirect to `/login?next=…`; signed in without the gate's action → the 403 page. API: no
//! or an invalid bearer token → 401; without the action → 403. The account is resolved once
//! and kept in the request's extensions, where [`Ctx`](super::Ctx) and
//! [`ApiUser`](super::ApiUser) find it. Which records an action reaches is still the store's
//! decision (404 outside the caller's scope), and a gate asks only [`Principal::may`]: a role
//! that holds an action only on its own record or its supervisees' passes the gate.

use std::future::Future;
use std::pin::Pin;

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::Router;
use komlang_core::{Action, Principal};

use axum::http::{header, HeaderValue};

use super::api_layer::api_boundary;
use super::errors::{forbidden, no_such_endpoint, too_many_requests, PageError};
use super::extract::{api_i18n, client_ip, here, session_user, token_user, SessionUser, TokenUser};
use super::fhir_outcome::{fhir_boundary, no_such_resource};
use super::i18n::Locale;
use crate::AppState;

/// Who may reach a route at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Anyone, signed in or not.
    Public,
    /// Anyone, signed in or not, up to [`WebConfig::public_requests_per_minute`](crate::WebConfig)
    /// requests a minute from one client address (across every app server); then 429.
    Limited,
    /// Any signed-in account.
    SignedIn,
    /// A signed-in account whose role holds the action ([`Principal::may`]).
    Action(Action),
}

impl Gate {
    /// Whether the gate lets `p` through (`None`: nobody is signed in).
    pub fn admits(self, p: Option<&Principal>) -> bool {
        match self {
            Gate::Public | Gate::Limited => true,
            Gate::SignedIn => p.is_some(),
            Gate::Action(a) => p.is_some_and(|p| p.may(a)),
        }
    }
}

/// One route of the application as the table lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: &'static str,
    /// The full path as served (`/workers/{id}`, `/api/v1/workers/{id}`).
    pub path: String,
    pub gate: Gate,
}

impl RouteInfo {
    /// A route of the JSON API (its refusals are JSON).
    pub fn is_api(&self) -> bool {
        self.path.starts_with("/api/")
    }

    /// A route of the FHIR registry (bearer tokens; its refusals are `OperationOutcome`s).
    pub fn is_fhir(&self) -> bool {
        self.path.starts_with("/fhir/")
    }
}

/// The routes being declared: the pages' router, the API's router (nested at `/api`) and
/// the table.
pub struct Routes {
    pages: Router<AppState>,
    api: Router<AppState>,
    /// The FHIR registry's routes, nested at [`FHIR_BASE`].
    fhir: Router<AppState>,
    table: Vec<RouteInfo>,
}

/// Where the FHIR registry is served. Its routes take the API's bearer tokens, and every
/// refusal there is an `OperationOutcome` ([`fhir_boundary`]).
pub const FHIR_BASE: &str = "/fhir/r4";

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    pub fn new() -> Self {
        Routes { pages: Router::new(), api: Router::new(), fhir: Router::new(), table: Vec::new() }
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &str, gate: Gate, handler: H) -> Self {
        self.add("GET", path, gate, handler)
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &str, gate: Gate, handler: H) -> Self {
        self.add("POST", path, gate, handler)
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &str, gate: Gate, handler: H) -> Self {
        self.add("PUT", path, gate, handler)
    }

    pub fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &str, gate: Gate, handler: H) -> Self {
        self.add("PATCH", path, gate, handler)
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &str, gate: Gate, handler: H) -> Self {
        self.add("DELETE", path, gate, handler)
    }

    fn add<H: Handler<T, AppState>, T: 'static>(
        mut self,
        method: &'static str,
        path: &str,
        gate: Gate,
        handler: H,
    ) -> Self {
        assert!(
            !self.table.iter().any(|r| r.method == method && r.path == path),
            "route declared twice: {method} {path}"
        );
        let fhir = path.starts_with("/fhir/");
        assert!(!fhir || path.starts_with(FHIR_BASE), "FHIR routes are under {FHIR_BASE}: {path}");
        // The FHIR registry's routes take bearer tokens, as the API's do.
        let api = path.starts_with("/api/") || fhir;
        let gated = Gated { handler, gate, api };
        let method_router: MethodRouter<AppState> = match method {
            "GET" => get(gated),
            "POST" => post(gated),
            "PUT" => put(gated),
            "PATCH" => patch(gated),
            "DELETE" => delete(gated),
            other => unreachable!("no such method {other}"),
        };
        // A path routed again with another method is merged into the same route by axum.
        if fhir {
            self.fhir = self.fhir.route(&path[FHIR_BASE.len()..], method_router);
        } else if api {
            self.api = self.api.route(&path["/api".len()..], method_router);
        } else {
            self.pages = self.pages.route(path, method_router);
        }
        self.table.push(RouteInfo { method, path: path.to_string(), gate });
        self
    }

    /// The table of every route declared so far.
    pub fn table(&self) -> Vec<RouteInfo> {
        self.table.clone()
    }

    /// The router of every route (the API nested at `/api`, answering 404 in JSON for a path
    /// it does not serve, behind [`api_boundary`]: every refusal JSON, JSON bodies bounded; the
    /// FHIR registry nested at [`FHIR_BASE`], every refusal an `OperationOutcome`).
    pub fn into_router(self) -> Router<AppState> {
        self.pages
            .nest("/api", self.api.fallback(no_such_endpoint).layer(axum::middleware::from_fn(api_boundary)))
            .nest(FHIR_BASE, self.fhir.fallback(no_such_resource).layer(axum::middleware::from_fn(fhir_boundary)))
    }
}

/// A handler behind its gate.
#[derive(Clone)]
struct Gated<H> {
    handler: H,
    gate: Gate,
    api: bool,
}

impl<H, T> Handler<T, AppState> for Gated<H>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    type Future = Pin<Box<dyn Future<Output = Response> + Send>>;

    fn call(self, req: Request, state: AppState) -> Self::Future {
        Box::pin(async move {
            let (mut parts, body) = req.into_parts();
            let passed = if self.gate == Gate::Limited {
                rate_limit(&parts, &state, self.api).await
            } else if self.api {
                api_gate(&mut parts, &state, self.gate).await
            } else {
                page_gate(&mut parts, &state, self.gate).await
            };
            match passed {
                Ok(()) => self.handler.call(Request::from_parts(parts, body), state).await,
                Err(refused) => refused,
            }
        })
    }
}

/// The public routes' limit: 429 (with `Retry-After`) once a client address has made
/// more requests this minute than allowed. Counting is best effort: when the database
/// cannot count, the request goes on (and the error is logged).
async fn rate_limit(parts: &Parts, app: &AppState, api: bool) -> Result<(), Response> {
    let limit = app.config.public_requests_per_minute;
    if limit == 0 {
        return Ok(());
    }
    let now = chrono::Utc::now().timestamp();
    let window = now - now.rem_euclid(60);
    let bucket = format!("public:{}", client_ip(parts, app.config.proxy_hops));
    match app.store.rate_limit_hit(&bucket, window).await {
        Ok(hits) if hits > i64::from(limit) => {
            let retry = (window + 60 - now).max(1).to_string();
            let mut answer = if api {
                too_many_requests().into_response()
            } else {
                PageError::TooManyRequests(Locale::from_headers(&parts.headers)).into_response()
            };
            if let Ok(v) = HeaderValue::from_str(&retry) {
                answer.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Err(answer)
        }
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!("rate limit not counted: {e}");
            Ok(())
        }
    }
}

/// A page's gate: the session's account, or the login redirect or 403 page.
async fn page_gate(parts: &mut Parts, app: &AppState, gate: Gate) -> Result<(), Response> {
    if matches!(gate, Gate::Public | Gate::Limited) {
        return Ok(());
    }
    let user = session_user(parts, app).await.map_err(IntoResponse::into_response)?;
    parts.extensions.insert(SessionUser(user.clone()));
    match user {
        None => Err(PageError::Login(here(parts)).into_response()),
        Some(p) if !gate.admits(Some(&p)) => {
            Err(PageError::Forbidden(Locale::from_headers(&parts.headers)).into_response())
        }
        Some(_) => Ok(()),
    }
}

/// An API call's gate: the bearer token's account, or 401 or 403.
async fn api_gate(parts: &mut Parts, app: &AppState, gate: Gate) -> Result<(), Response> {
    if matches!(gate, Gate::Public | Gate::Limited) {
        return Ok(());
    }
    let p = token_user(parts, app).await?;
    if !gate.admits(Some(&p)) {
        return Err(forbidden(&api_i18n(parts)).into_response());
    }
    parts.extensions.insert(TokenUser(p));
    Ok(())
}
