//! What load balancers and monitoring ask: `/healthz` (liveness: the database answers),
//! `/readyz` (readiness: the database takes a write) and `/metrics` (Prometheus, only with
//! the metrics token; see `docs/operations.md`).

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::common::metrics::CONTENT_TYPE;
use crate::AppState;

pub(super) async fn healthz(State(app): State<AppState>) -> impl IntoResponse {
    if app.store.ping().await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}

/// How long one readiness answer is reused: however often `/readyz` is asked (by several
/// load balancers, or by anyone: it is public), the database takes at most one check write a
/// second from each server.
const REUSE: Duration = Duration::from_secs(1);

/// How long the check write may take: a load balancer gives up on a probe after a few seconds.
const PATIENCE: Duration = Duration::from_secs(5);

/// The last readiness answer of this server; concurrent requests wait for one check.
#[derive(Debug, Default)]
pub struct Readiness(tokio::sync::Mutex<Option<(Instant, Result<(), &'static str>)>>);

impl Readiness {
    /// Ok, or why the server is not ready (`database_unreachable`, `database_not_writable`,
    /// `database_timeout`).
    async fn check(&self, app: &AppState) -> Result<(), &'static str> {
        let mut last = self.0.lock().await;
        if let Some((at, answer)) = *last {
            if at.elapsed() < REUSE {
                return answer;
            }
        }
        let answer = match tokio::time::timeout(PATIENCE, app.store.check_writable()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                tracing::warn!("not ready: the database refused a write: {e}");
                Err(if app.store.ping().await { "database_not_writable" } else { "database_unreachable" })
            }
            Err(_) => {
                tracing::warn!("not ready: the database did not take a write within {PATIENCE:?}");
                Err("database_timeout")
            }
        };
        *last = Some((Instant::now(), answer));
        answer
    }
}

/// 200 `{"status":"ready"}` when the database takes a write (committed in a transaction), else
/// 503 `{"status":"unavailable","reason":…}`.
pub(super) async fn readyz(State(app): State<AppState>) -> Response {
    match app.ready.check(&app).await {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(reason) => {
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"status": "unavailable", "reason": reason}))).into_response()
        }
    }
}

/// The metrics, to a scraper that sends `Authorization: Bearer <the metrics token>`; 401
/// otherwise, and 404 when the server runs without `--metrics`.
pub(super) async fn metrics(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let Some(m) = &app.metrics else { return StatusCode::NOT_FOUND.into_response() };
    let offered = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if offered.is_empty() || !m.admits(offered) {
        let mut r = (StatusCode::UNAUTHORIZED, "the metrics token is required\n").into_response();
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"metrics\""));
        return r;
    }
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], m.render()).into_response()
}
