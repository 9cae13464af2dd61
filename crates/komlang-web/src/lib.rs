//! Komlang web layer: server-rendered pages in Khmer and English for people,
//! a JSON API (with its OpenAPI document) for programs. Every page and API
//! call goes through the store's scoped queries, so nobody reaches records
//! outside their role's scope.
//!
//! Each feature is a folder (`workers/`, `training/`, …) whose `mod.rs` declares its
//! routes, each with its [`Gate`]; what the features share is in [`common`], which uses
//! no feature, and no feature uses another (`tests/layering.rs`). This file assembles
//! the routes into the router; `openapi.rs` merges the features' API documents. See
//! `docs/architecture.md`.

use std::net::SocketAddr;

use axum::http::{header, HeaderValue};
use axum::Router;
pub use common::routes::{Gate, RouteInfo, Routes};
use komlang_store::Store;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

rust_i18n::i18n!("locales", fallback = "en");

pub mod common;

pub mod accounts;
pub mod audit;
pub mod competency;
pub mod imports;
pub mod licensing;
pub mod organizations;
pub mod planning;
pub mod public;
pub mod training;
pub mod units;
pub mod workers;

pub mod openapi;

/// Options of the web server.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Mark cookies `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// How many trusted reverse proxies stand before the server (0: none). The client
    /// address is the `X-Forwarded-For` entry that the outermost of them added.
    pub proxy_hops: u8,
    /// Requests a minute that one client address may make to the public pages and API
    /// (certificate verification, the public register), counted across every app server;
    /// 0 for no limit.
    pub public_requests_per_minute: u32,
    /// What an uploaded table may hold and unzip to (rows, cells, characters, bytes).
    pub upload_limits: komlang_io::ReadLimits,
    /// How much of the rejected rows an import's report keeps and shows.
    pub report_limits: komlang_store::ReportLimits,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            proxy_hops: 0,
            public_requests_per_minute: 120,
            upload_limits: komlang_io::ReadLimits::default(),
            report_limits: komlang_store::ReportLimits::default(),
        }
    }
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: WebConfig,
}

/// Every route of the application, each declared once with its gate.
fn routes() -> Routes {
    let r = Routes::new();
    let r = accounts::routes(r);
    let r = workers::routes(r);
    let r = organizations::routes(r);
    let r = units::routes(r);
    let r = imports::routes(r);
    let r = competency::routes(r);
    let r = planning::routes(r);
    let r = training::routes(r);
    let r = licensing::routes(r);
    let r = audit::routes(r);
    let r = public::routes(r);
    openapi::routes(r)
}

/// Every route the application serves: method, full path and gate.
pub fn route_table() -> Vec<RouteInfo> {
    routes().table()
}

/// The whole application.
pub fn router(store: Store, config: WebConfig) -> Router {
    let sessions = SessionManagerLayer::new(accounts::sessions::DbSessionStore(store.clone()))
        .with_name("komlang_session")
        .with_secure(config.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(time::Duration::hours(8)));
    let state = AppState { store, config };
    Router::new()
        .merge(routes().into_router())
        .layer(sessions)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
            ),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        // Pages and API answers carry personal records: no browser or proxy keeps a copy,
        // unless a route says otherwise (the style sheet).
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state)
}

/// Serves Komlang on `listen` until Ctrl-C.
pub async fn serve(store: Store, listen: SocketAddr, cfg: WebConfig) -> anyhow::Result<()> {
    let sweeper = store.clone();
    tokio::spawn(async move {
        loop {
            let now = chrono::Utc::now().timestamp();
            if let Err(e) = sweeper.session_delete_expired(now).await {
                tracing::warn!("could not delete expired sessions: {e}");
            }
            if let Err(e) = sweeper.rate_limit_sweep(now - 3600).await {
                tracing::warn!("could not forget old request counts: {e}");
            }
            if let Err(e) = sweeper.prune_sign_in_records(now).await {
                tracing::warn!("could not delete old sign-in attempts and devices: {e}");
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
    let app = router(store, cfg);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!("Komlang listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
