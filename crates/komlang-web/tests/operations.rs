//! What load balancers and monitoring read: `/readyz` (the database takes a write) and
//! `/metrics` (off by default; only with the metrics token; routes by template).
//! The disk-full case needs a small filesystem (`.ci/run` mounts one and names it in
//! `KOMLANG_TEST_SMALL_FS`).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::TestApp;
use komlang_core::UserRole;
use komlang_store::testing::{engines, pg_admin_url, TestDb};
use komlang_store::{Engine, Store};
use komlang_web::{MetricsToken, WebConfig};
use serde_json::{json, Value};

const TOKEN: &str = "a-metrics-token-for-the-tests";

fn with_metrics() -> WebConfig {
    WebConfig { metrics_token: MetricsToken::new(TOKEN), ..Default::default() }
}

/// Serves `store` on a port of its own; the base URL.
async fn serve(store: Store, config: WebConfig) -> (String, tokio::task::JoinHandle<()>) {
    let app = komlang_web::router(store, config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    (base, server)
}

/// `/readyz` as the load balancer reads it: the status and the JSON body.
async fn ready(base: &str) -> (u16, Value) {
    let r = reqwest::get(format!("{base}/readyz")).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// `/readyz` once the answer it reuses (for a second) has expired.
async fn ready_afresh(base: &str) -> (u16, Value) {
    tokio::time::sleep(Duration::from_millis(1100)).await;
    ready(base).await
}

async fn scrape(base: &str) -> String {
    let r = reqwest::Client::new().get(format!("{base}/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    r.text().await.unwrap()
}

/// The value of the sample `series` (name and labels exactly as exposed), if exposed.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn readiness_commits_a_write() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        assert_eq!(app.db.store.meta_get("ready_check").await.unwrap(), None);
        let (status, body) = ready(&app.base).await;
        assert_eq!((status, body), (200, json!({"status": "ready"})), "{engine:?}");
        let at = app.db.store.meta_get("ready_check").await.unwrap();
        assert!(at.is_some_and(|t| chrono::DateTime::parse_from_rfc3339(&t).is_ok()), "{engine:?}: nothing written");
        // Liveness is the older, weaker check.
        assert_eq!(reqwest::get(app.url("/healthz")).await.unwrap().status(), 200);
        app.stop().await;
    }
}

/// SQLite on a full disk: the database still answers (`/healthz` 200), but takes no write, so
/// the server is not ready (503), counts the database error, and is ready again by itself once
/// space returns.
#[tokio::test]
async fn not_ready_while_the_disk_is_full() {
    let Some(dir) = std::env::var_os("KOMLANG_TEST_SMALL_FS").map(std::path::PathBuf::from) else {
        eprintln!("skipped: set KOMLANG_TEST_SMALL_FS to a small empty filesystem (.ci/run does)");
        return;
    };
    // What an earlier run left (a failed run keeps its filler) would fill the disk from the start.
    for old in std::fs::read_dir(&dir).unwrap().flatten() {
        if old.file_name().to_string_lossy().starts_with("ready-") {
            let _ = std::fs::remove_dir_all(old.path());
        }
    }
    let dir = dir.join(format!("ready-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.join("komlang.db").display())).await.unwrap();
    let (base, server) = serve(store.clone(), with_metrics()).await;
    assert_eq!(ready(&base).await.0, 200);
    let errors_before = sample(&scrape(&base).await, "komlang_db_errors_total").unwrap();

    // An empty write-ahead log: the next write must grow it, and the disk has no room.
    assert!(store.checkpoint().await.unwrap());
    let filler = komlang_store::testing::fill_disk(&dir);
    let (status, body) = ready_afresh(&base).await;
    assert_eq!((status, body), (503, json!({"status": "unavailable", "reason": "database_not_writable"})));
    assert_eq!(reqwest::get(format!("{base}/healthz")).await.unwrap().status(), 200, "the database still answers");
    let text = scrape(&base).await;
    assert!(sample(&text, "komlang_db_errors_total").unwrap() > errors_before, "{text}");
    let failed = r#"komlang_http_requests_total{method="GET",route="/readyz",status="503"}"#;
    assert_eq!(sample(&text, failed), Some(1.0), "{text}");

    std::fs::remove_file(&filler).unwrap();
    assert_eq!(ready_afresh(&base).await.0, 200, "ready again once space returns");
    server.abort();
    store.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}

/// SQLite whose write lock another process holds (a long import): after 5 s the server
/// answers that it is not ready rather than keep the load balancer waiting.
#[tokio::test]
async fn not_ready_while_another_writer_holds_the_database_too_long() {
    if !engines().contains(&Engine::Sqlite) {
        eprintln!("skipped: SQLite is not among KOMLANG_TEST_ENGINES");
        return;
    }
    let db = TestDb::empty(Engine::Sqlite).await;
    let (base, server) = serve(db.store.clone(), WebConfig::default()).await;
    assert_eq!(ready(&base).await.0, 200);
    let other = Store::connect(&db.url).await.unwrap();
    let mut tx = other.pool().begin().await.unwrap();
    sqlx::query("INSERT INTO meta (key, value) VALUES ('held', '1')").execute(&mut *tx).await.unwrap();
    let asked = std::time::Instant::now();
    let (status, body) = ready_afresh(&base).await;
    assert_eq!((status, body), (503, json!({"status": "unavailable", "reason": "database_timeout"})));
    assert!(asked.elapsed() < Duration::from_secs(9), "answered after {:?}", asked.elapsed());
    tx.rollback().await.unwrap();
    other.close().await;
    assert_eq!(ready_afresh(&base).await.0, 200, "ready again once the lock is released");
    server.abort();
    db.cleanup().await;
}

/// PostgreSQL that takes no write (a standby after a failover, a database set read-only):
/// reachable, not ready.
#[tokio::test]
async fn not_ready_on_a_read_only_database() {
    if !engines().contains(&Engine::Postgres) {
        eprintln!("skipped: PostgreSQL is not among KOMLANG_TEST_ENGINES");
        return;
    }
    let db = TestDb::empty(Engine::Postgres).await;
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let admin = Store::connect(&pg_admin_url()).await.unwrap();
    sqlx::query(&format!("ALTER DATABASE {name} SET default_transaction_read_only = on"))
        .execute(admin.pool())
        .await
        .unwrap();
    // A server that connects from now on gets read-only sessions.
    let store = Store::connect(&db.url).await.unwrap();
    let (base, server) = serve(store.clone(), WebConfig::default()).await;
    let (status, body) = ready(&base).await;
    assert_eq!((status, body), (503, json!({"status": "unavailable", "reason": "database_not_writable"})));
    assert_eq!(reqwest::get(format!("{base}/healthz")).await.unwrap().status(), 200);
    server.abort();
    store.close().await;
    sqlx::query(&format!("ALTER DATABASE {name} RESET default_transaction_read_only"))
        .execute(admin.pool())
        .await
        .unwrap();
    admin.close().await;
    db.cleanup().await;
}

#[tokio::test]
async fn metrics_are_off_unless_asked_for() {
    let app = TestApp::start(engines()[0]).await;
    let r = reqwest::Client::new().get(app.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(r.status(), 404);
    app.stop().await;
}

/// Requests are counted by the route they matched, never by the path asked for; the pool and
/// the database errors are exposed; only the metrics token opens them.
#[tokio::test]
async fn metrics_count_requests_by_route_template() {
    for engine in engines() {
        let app = TestApp::start_with(engine, with_metrics()).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let c = reqwest::Client::new();
        let r = c.get(app.url("/metrics")).send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"metrics\"");
        assert_eq!(c.get(app.url("/metrics")).bearer_auth(&admin).send().await.unwrap().status(), 401);

        let new = json!({
            "name_km": "សុខ ដារ៉ា", "name_latin": "Sok Dara", "sex": "female", "cadre": "para_social_worker",
            "role": "ccwc_focal_point", "sector": "government", "workplace_code": "020101", "status": "active"
        });
        let r = c.post(app.url("/api/v1/workers")).bearer_auth(&admin).json(&new).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        for (path, status) in [
            (format!("/api/v1/workers/{id}"), 200),
            ("/api/v1/workers/987654".into(), 404),
            ("/no/such/page/555".into(), 404),
            ("/api/v1/no-such-call/444".into(), 404),
        ] {
            let r = c.get(app.url(&path)).bearer_auth(&admin).send().await.unwrap();
            assert_eq!(r.status(), status, "{engine:?} {path}");
        }
        let text = scrape(&app.base).await;
        let one = |route: &str, status: u16| {
            sample(&text, &format!(r#"komlang_http_requests_total{{method="GET",route="{route}",status="{status}"}}"#))
        };
        assert_eq!(one("/api/v1/workers/{id}", 200), Some(1.0), "{text}");
        assert_eq!(one("/api/v1/workers/{id}", 404), Some(1.0), "{text}");
        assert_eq!(one("unmatched", 404), Some(2.0), "{text}");
        assert_eq!(
            sample(&text, r#"komlang_http_request_duration_seconds_count{method="GET",route="/api/v1/workers/{id}"}"#),
            Some(2.0),
            "{text}"
        );
        // Every route label is a template of the route table: no id, no path a client made up.
        let templates: Vec<String> = komlang_web::route_table().into_iter().map(|r| r.path).collect();
        for label in text.lines().filter_map(|l| l.split("route=\"").nth(1)?.split('"').next()) {
            assert!(label == "unmatched" || templates.iter().any(|t| t == label), "route label {label:?}");
        }
        // No path a client sent appears (as a path: the digits may well stand in a timing).
        for raw in ["987654", "555", "444", "no-such"] {
            assert!(!text.contains(&format!("/{raw}")), "{raw} in\n{text}");
        }
        let max = if engine == Engine::Sqlite { 4.0 } else { 10.0 };
        assert_eq!(sample(&text, "komlang_db_pool_max_connections"), Some(max), "{text}");
        let size = sample(&text, "komlang_db_pool_connections").unwrap();
        let idle = sample(&text, "komlang_db_pool_idle_connections").unwrap();
        assert!((1.0..=max).contains(&size) && idle <= size, "{text}");
        assert!(sample(&text, "komlang_db_errors_total").is_some(), "{text}");
        // The scrape itself is the one request in flight.
        let again = scrape(&app.base).await;
        assert_eq!(sample(&again, "komlang_http_requests_in_flight"), Some(1.0), "{again}");
        app.stop().await;
    }
}
