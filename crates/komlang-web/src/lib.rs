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

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue};
use axum::Router;
pub use common::metrics::MetricsToken;
pub use common::routes::{Gate, RouteInfo, Routes};
use komlang_store::Store;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

rust_i18n::i18n!("locales", fallback = "en");

pub mod common;

pub mod accounts;
pub mod audit;
pub mod caseloads;
pub mod competency;
pub mod costs;
pub mod establishment;
pub mod fhir;
pub mod field;
pub mod imports;
pub mod licensing;
pub mod organizations;
pub mod performance;
pub mod planning;
pub mod public;
pub mod recruitment;
pub mod retention;
pub mod supervision;
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
    /// Serve Prometheus metrics at `/metrics` to whoever sends this bearer token; none: no
    /// metrics (404).
    pub metrics_token: Option<MetricsToken>,
    /// [`serve`]: how long requests in flight may run on after SIGTERM or SIGINT.
    pub shutdown_grace: Duration,
    /// Refuse (428) an API write to a versioned record that comes without `If-Match`. Off in
    /// this release, so that API clients written before versions existed keep working
    /// (`docs/api.md`, "Editing safely").
    pub require_if_match: bool,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            secure_cookies: false,
            proxy_hops: 0,
            public_requests_per_minute: 120,
            upload_limits: komlang_io::ReadLimits::default(),
            report_limits: komlang_store::ReportLimits::default(),
            metrics_token: None,
            shutdown_grace: Duration::from_secs(30),
            require_if_match: false,
        }
    }
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: WebConfig,
    /// The metrics, when the server serves them.
    pub metrics: Option<Arc<common::metrics::Metrics>>,
    /// The last readiness answer (`/readyz`).
    pub ready: Arc<public::Readiness>,
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
    let r = establishment::routes(r);
    let r = supervision::routes(r);
    let r = costs::routes(r);
    let r = retention::routes(r);
    let r = recruitment::routes(r);
    let r = performance::routes(r);
    let r = caseloads::routes(r);
    let r = training::routes(r);
    let r = licensing::routes(r);
    let r = audit::routes(r);
    let r = field::routes(r);
    let r = fhir::routes(r);
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
    let metrics =
        config.metrics_token.as_ref().map(|token| Arc::new(common::metrics::Metrics::new(store.clone(), token)));
    let state = AppState { store, config, metrics: metrics.clone(), ready: Arc::default() };
    let app = Router::new()
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
        .with_state(state);
    let app = match metrics {
        // Outermost, so that the time counted is the whole answer's.
        Some(m) => app.layer(axum::middleware::from_fn_with_state(m, common::metrics::record)),
        None => app,
    };
    // Ids in an API path written as whole numbers with a zero fraction (`336.0`, an integer to
    // the OpenAPI document) read as integers: rewritten before the routes are matched.
    Router::new().fallback_service(tower::ServiceExt::map_request(app, common::api_layer::whole_ids))
}

/// Serves Komlang on `listen` until SIGTERM or SIGINT (Ctrl-C), then shuts down gracefully
/// (see [`serve_on`]).
pub async fn serve(store: Store, listen: SocketAddr, cfg: WebConfig) -> anyhow::Result<()> {
    // Installed before the port opens: from then on a signal never kills the process outright.
    let signals = Signals::install()?;
    let listener = tokio::net::TcpListener::bind(listen).await?;
    tracing::info!("Komlang listening on http://{}", listener.local_addr()?);
    serve_on(store, listener, cfg, signals.next()).await
}

/// Serves Komlang on `listener` until `stop` completes, then: no new connection is accepted
/// (the listener is closed), requests in flight are finished for up to
/// [`WebConfig::shutdown_grace`] (idle keep-alive connections are closed), then the database
/// pool is closed, on SQLite after moving the write-ahead log into the database file, so
/// that the file alone is the database again.
pub async fn serve_on(
    store: Store,
    listener: tokio::net::TcpListener,
    cfg: WebConfig,
    stop: impl std::future::Future<Output = &'static str> + Send,
) -> anyhow::Result<()> {
    let grace = cfg.shutdown_grace;
    let sweeper = tokio::spawn(sweep(store.clone()));
    let compactor = tokio::spawn(compact_tallies(store.clone()));
    let app = router(store.clone(), cfg);
    let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            let _ = drain_rx.await;
        })
        .into_future();
    let mut server = std::pin::pin!(server);
    let result = tokio::select! {
        r = &mut server => r.map_err(anyhow::Error::from),
        why = stop => {
            tracing::info!("{why}: no new connections; finishing the requests in flight (for up to {grace:?})");
            let _ = drain_tx.send(());
            match tokio::time::timeout(grace, &mut server).await {
                Ok(r) => r.map_err(anyhow::Error::from),
                Err(_) => {
                    tracing::warn!("requests still in flight after {grace:?}: they are cut off");
                    Ok(())
                }
            }
        }
    };
    sweeper.abort();
    compactor.abort();
    close_store(&store).await;
    result
}

/// Checkpoints SQLite's write-ahead log and closes the pool; bounded, so that a request cut
/// off after the grace period and still holding a connection cannot keep the process alive.
async fn close_store(store: &Store) {
    const LIMIT: Duration = Duration::from_secs(5);
    match tokio::time::timeout(LIMIT, store.checkpoint()).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => {
            tracing::warn!("the write-ahead log is still in use (another process, or a request cut off); it stays");
        }
        Ok(Err(e)) => tracing::warn!("could not checkpoint the database: {e}"),
        Err(_) => tracing::warn!("could not checkpoint the database within {LIMIT:?}"),
    }
    if tokio::time::timeout(LIMIT, store.close()).await.is_err() {
        tracing::warn!("database connections still in use after {LIMIT:?}: not closed cleanly");
    } else {
        tracing::info!("database closed; stopped");
    }
}

/// The signals that stop the server: SIGTERM (service managers, `kill`) and SIGINT (Ctrl-C).
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals { term: signal(SignalKind::terminate())?, int: signal(SignalKind::interrupt())? })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Waits for the first signal; names it.
    async fn next(mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// Hourly: deletes expired sessions, old request counts and old sign-in records.
/// Merges the tallies' rows (of workers, staff, posts and fills: PostgreSQL appends one per
/// group and statement; see `Store::compact_worker_tallies`) once they have grown well past
/// what the last merge left: a count of the tables' rows every minute, a merge now and then. Readers are right either
/// way; this keeps what they sum small.
async fn compact_tallies(store: Store) {
    let mut merged = 0;
    loop {
        tokio::time::sleep(Duration::from_secs(60)).await;
        match store.tally_rows().await {
            Ok(rows) if rows > 2 * merged + 10_000 => match store.compact_worker_tallies().await {
                Ok(c) => merged = c.rows_after,
                Err(e) => tracing::warn!("could not merge the worker tallies: {e}"),
            },
            Ok(_) => {}
            Err(e) => tracing::warn!("could not count the worker tallies: {e}"),
        }
    }
}

async fn sweep(store: Store) {
    loop {
        let now = chrono::Utc::now().timestamp();
        if let Err(e) = store.session_delete_expired(now).await {
            tracing::warn!("could not delete expired sessions: {e}");
        }
        if let Err(e) = store.rate_limit_sweep(now - 3600).await {
            tracing::warn!("could not forget old request counts: {e}");
        }
        if let Err(e) = store.prune_sign_in_records(now).await {
            tracing::warn!("could not delete old sign-in attempts and devices: {e}");
        }
        if let Err(e) = store.prune_field_change_answers().await {
            tracing::warn!("could not forget old answers to field changes: {e}");
        }
        if let Err(e) = store.compact_fhir_changes(50_000).await {
            tracing::warn!("could not compact the FHIR change feed: {e}");
        }
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
}
