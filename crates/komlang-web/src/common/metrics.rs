//! The server's Prometheus metrics (`GET /metrics`, off unless `--metrics` is given with a
//! token): requests by route template and status, their latency, requests in flight, the
//! database pool's connections and the database errors met. One [`Metrics`] per router, so
//! that several servers in one process (the tests) keep apart; encoded by the
//! `prometheus-client` crate in the OpenMetrics text format Prometheus reads.
//!
//! Routes are labelled with the template they matched (`/api/v1/workers/{id}`), never the
//! path asked for, and a path no route matches with `unmatched`; methods outside the usual
//! seven with `other`: a client cannot add label values at will.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use komlang_store::Store;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The bearer token that `/metrics` asks for. Its `Debug` does not show it.
#[derive(Clone)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// Fewest characters of a token: a short one could be guessed.
    pub const MIN_LEN: usize = 16;

    /// The token, unless it is shorter than [`MetricsToken::MIN_LEN`] characters.
    pub fn new(token: &str) -> Option<MetricsToken> {
        let token = token.trim();
        (token.chars().count() >= Self::MIN_LEN).then(|| MetricsToken(token.to_string()))
    }
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(***)")
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// Latency buckets, in seconds: from a cached page to a large export.
const BUCKETS: [f64; 13] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0];

/// The metrics of one server.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// SHA-256 of the token, compared in constant time with that of the one offered.
    token_digest: [u8; 32],
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    in_flight: Gauge,
}

impl Metrics {
    pub fn new(store: Store, token: &MetricsToken) -> Metrics {
        let mut registry = Registry::with_prefix("komlang");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status code",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| Histogram::new(BUCKETS));
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its answer's head, by method and route template",
            prometheus_client::registry::Unit::Seconds,
            latency.clone(),
        );
        let in_flight = Gauge::default();
        registry.register("http_requests_in_flight", "Requests being answered now", in_flight.clone());
        registry.register_collector(Box::new(StoreCollector(store)));
        Metrics { registry, token_digest: Sha256::digest(token.0.as_bytes()).into(), requests, latency, in_flight }
    }

    /// Whether `offered` is the token (compared in constant time).
    pub fn admits(&self, offered: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(offered.trim().as_bytes()).into();
        bool::from(digest.ct_eq(&self.token_digest))
    }

    /// Every metric, in the OpenMetrics text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!("metrics not encoded: {e}");
        }
        out
    }
}

/// The content type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Read when scraped: the pool's connections and the database errors of the process.
#[derive(Debug)]
struct StoreCollector(Store);

impl Collector for StoreCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let pool = self.0.pool_status();
        let gauges = [
            ("db_pool_connections", "Database connections open (idle or in use).", pool.size),
            ("db_pool_idle_connections", "Open database connections no request holds.", pool.idle),
            ("db_pool_max_connections", "The most database connections the pool opens.", pool.max),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(i64::from(value));
            let e = encoder.encode_descriptor(name, help, None, gauge.metric_type())?;
            gauge.encode(e)?;
        }
        let errors = ConstCounter::new(komlang_store::database_errors());
        let e = encoder.encode_descriptor(
            "db_errors",
            "Database errors since the process started: failed queries, connections and commits.",
            None,
            errors.metric_type(),
        )?;
        errors.encode(e)
    }
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The route template a request matched, or `unmatched` (axum names the rest of a path
/// under a nested router with a private parameter: that is no route either).
fn route_label(req: &Request) -> String {
    match req.extensions().get::<MatchedPath>().map(MatchedPath::as_str) {
        Some(p) if !p.contains("__private__") => p.to_string(),
        _ => "unmatched".to_string(),
    }
}

/// Counts the request in flight until it is answered or dropped.
struct InFlight(Gauge);

impl InFlight {
    fn start(g: &Gauge) -> InFlight {
        g.inc();
        InFlight(g.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The middleware that counts and times every request (see [`Metrics`]).
pub async fn record(State(m): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let method = method_label(req.method());
    let route = route_label(&req);
    let _in_flight = InFlight::start(&m.in_flight);
    let started = Instant::now();
    let response = next.run(req).await;
    let seconds = started.elapsed().as_secs_f64();
    m.latency.get_or_create(&RouteLabels { method, route: route.clone() }).observe(seconds);
    m.requests.get_or_create(&RequestLabels { method, route, status: response.status().as_u16() }).inc();
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_enough_and_never_shown() {
        assert!(MetricsToken::new("short").is_none());
        assert!(MetricsToken::new("   fifteen chars  ").is_none());
        let t = MetricsToken::new("0123456789abcdef").unwrap();
        assert_eq!(format!("{t:?}"), "MetricsToken(***)");
    }

    #[test]
    fn unusual_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
    }
}
