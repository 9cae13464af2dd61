//! What an attacker tries over HTTP, as a regression test each: open redirects, forged client
//! addresses, employers outside the caller's scope, caching of private pages, rate limits,
//! hostile text and out-of-range parameters (docs/security.md).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::{browser, csrf_of, TestApp};
use komlang_core::UserRole;
use komlang_store::testing::engines;
use serde_json::{json, Value};

/// Only same-site paths are followed after a language switch or signing in; a `next` with
/// a tab (read by browsers as `//evil.example`) or CR/LF goes home, never to a 500.
#[tokio::test]
async fn next_never_leaves_the_site() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let hostile =
            ["%2F%09%2Fevil.example", "%2F%5Cevil.example", "%2F%0D%0ASet-Cookie:%20x=1", "https:%2F%2Fevil.example"];
        let c = browser();
        for next in hostile {
            let r = c.get(app.url(&format!("/lang/en?next={next}"))).send().await.unwrap();
            assert_eq!(r.status(), 303, "{engine:?} {next}");
            assert_eq!(r.headers()["location"], "/", "{engine:?} {next}");
        }
        let r = c.get(app.url("/lang/en?next=%2Fworkers%3Fq%3Dsok")).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/workers?q=sok");

        for next in ["/\t/evil.example", "/\r\nSet-Cookie: x=1", "//evil.example"] {
            let c = browser();
            let page = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
            assert!(!page.contains("evil.example"), "the login form does not carry it on");
            let csrf = csrf_of(&page);
            let r = c
                .post(app.url("/login"))
                .form(&[("username", "admin"), ("password", common::PASSWORD), ("csrf", &csrf), ("next", next)])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303, "{engine:?} {next:?}");
            assert_eq!(r.headers()["location"], "/", "{engine:?} {next:?}");
            let r = c.get(app.url(&format!("/login?next={}", urlencode(next)))).send().await.unwrap();
            assert_eq!(r.status(), 303, "signed in: goes on");
            assert_eq!(r.headers()["location"], "/", "{engine:?} {next:?}");
        }
        app.stop().await;
    }
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap().trim_start_matches("x=").to_string()
}

/// The penetration test's reproduction: an officer could name as employer an organization
/// in another province (and tell hidden ids from missing ones by the answer).
#[tokio::test]
async fn an_officer_cannot_hand_a_worker_to_a_hidden_organization() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let (_, officer) = app.account("btb", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        let c = reqwest::Client::new();
        let post = |token: &str, path: &str, body: Value| c.post(app.url(path)).bearer_auth(token).json(&body).send();
        let hidden: Value =
            post(&admin, "/api/v1/organizations", json!({"name_en": "Far Away", "kind": "ngo", "admin_code": "13"}))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        let hidden_id = hidden["id"].as_i64().unwrap();
        let worker: Value = post(
            &officer,
            "/api/v1/workers",
            json!({"name_km": "ចាន់ សុភា", "name_latin": "Chan Sophea", "sex": "female", "cadre": "para_social_worker",
                   "role": "ccwc_focal_point", "sector": "government", "workplace_code": "020101", "status": "active"}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        let id = worker["id"].as_i64().unwrap();
        assert_eq!(
            c.get(app.url(&format!("/api/v1/organizations/{hidden_id}")))
                .bearer_auth(&officer)
                .send()
                .await
                .unwrap()
                .status(),
            404
        );

        let mut answers = Vec::new();
        for org in [hidden_id, 999_999] {
            let r = c
                .patch(app.url(&format!("/api/v1/workers/{id}")))
                .bearer_auth(&officer)
                .json(&json!({"org_id": org}))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let mut body: Value = r.json().await.unwrap();
            // Only the id itself may differ between the two answers.
            body.as_object_mut().map(|o| o.remove("request_id"));
            answers.push((status, body.to_string().replace(&org.to_string(), "ID")));
        }
        assert_eq!(answers[0], answers[1], "{engine:?}: a hidden organization answers as a missing one");
        assert_eq!(answers[0].0, 422, "{engine:?}: {answers:?}");
        assert!(answers[0].1.contains("unknown_organization"), "{engine:?}: {answers:?}");
        let now: Value = c
            .get(app.url(&format!("/api/v1/workers/{id}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(now["org_id"], Value::Null, "{engine:?}: nothing changed");
        app.stop().await;
    }
}

/// Pages and API answers with personal records are never kept by a browser or a proxy.
#[tokio::test]
async fn private_answers_are_not_cacheable() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, token) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let c = browser();
        common::login(&app, &c, "admin").await;
        let w: Value = reqwest::Client::new()
            .post(app.url("/api/v1/workers"))
            .bearer_auth(&token)
            .json(&json!({"name_km": "ចាន់ សុភា", "name_latin": "Chan Sophea", "sex": "female",
                          "cadre": "para_social_worker", "role": "ccwc_focal_point", "sector": "government",
                          "workplace_code": "020101", "status": "active"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = w["id"].as_i64().unwrap();
        for path in [format!("/workers/{id}"), "/audit".into(), "/workers".into(), "/".into()] {
            let r = c.get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{engine:?} {path}");
            assert_eq!(r.headers()["cache-control"], "no-store", "{engine:?} {path}");
        }
        let r = reqwest::Client::new()
            .get(app.url(&format!("/api/v1/workers/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["cache-control"], "no-store");
        let r = c.get(app.url("/static/app.css")).send().await.unwrap();
        assert!(r.headers()["cache-control"].to_str().unwrap().starts_with("public"), "the style sheet may be kept");
        app.stop().await;
    }
}

/// Waits, if need be, until a minute has at least 15 seconds left, so that a test's
/// requests fall in one counting window.
async fn early_in_a_minute() {
    let s = chrono::Utc::now().timestamp().rem_euclid(60);
    if s > 45 {
        tokio::time::sleep(std::time::Duration::from_secs(61 - s as u64)).await;
    }
}

/// The public routes answer one client address so many times a minute, counted across
/// every app server sharing the database; the address is the one the proxy added.
#[tokio::test]
async fn public_routes_are_rate_limited_per_client_across_servers() {
    for engine in engines() {
        let config = komlang_web::WebConfig { proxy_hops: 1, public_requests_per_minute: 5, ..Default::default() };
        let app = TestApp::start_with(engine, config.clone()).await;
        // A second app server on the same database.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let second = format!("http://{}", listener.local_addr().unwrap());
        let router = komlang_web::router(app.db.store.clone(), config);
        let server = tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>()).await.unwrap();
        });
        early_in_a_minute().await;
        let c = reqwest::Client::new();
        let get = |base: &str, path: &str, client: &str| {
            // The client writes whatever it likes on the left; the proxy adds the real address.
            c.get(format!("{base}{path}"))
                .header("x-forwarded-for", format!("10.9.{}.1, {client}", rand_octet()))
                .send()
        };
        let paths = ["/verify", "/register", "/api/v1/public/licences", "/verify/NO-SUCH-1", "/api/v1/public/licences"];
        for (n, path) in paths.iter().enumerate() {
            let base = if n % 2 == 0 { app.base.clone() } else { second.clone() };
            let r = get(&base, path, "203.0.113.7").await.unwrap();
            assert!(r.status() != 429, "{engine:?}: request {n} ({path}) is within the limit");
        }
        let r = get(&second, "/verify", "203.0.113.7").await.unwrap();
        assert_eq!(r.status(), 429, "{engine:?}: the sixth request this minute");
        assert!(r.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() <= 60);
        let r = get(&app.base, "/api/v1/public/licences", "203.0.113.7").await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["content-type"], "application/json");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "too_many_requests");
        // Another address, and signed-in work, are not held up.
        assert_eq!(get(&app.base, "/verify", "198.51.100.9").await.unwrap().status(), 200);
        assert_eq!(get(&app.base, "/login", "203.0.113.7").await.unwrap().status(), 200);
        server.abort();
        app.stop().await;
    }
}

fn rand_octet() -> u8 {
    (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() % 250) as u8
}

/// Under `--secure-cookies`, the language cookie is `Secure` like the session cookie.
#[tokio::test]
async fn every_cookie_is_secure_under_secure_cookies() {
    for engine in engines() {
        let config = komlang_web::WebConfig { secure_cookies: true, ..Default::default() };
        let app = TestApp::start_with(engine, config).await;
        let r = browser().get(app.url("/lang/en?next=/")).send().await.unwrap();
        let cookies: Vec<String> =
            r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        assert!(!cookies.is_empty());
        for c in &cookies {
            assert!(c.contains("; Secure"), "{engine:?}: {c}");
        }
        let plain = TestApp::start(engine).await;
        let r = browser().get(plain.url("/lang/en?next=/")).send().await.unwrap();
        assert!(!r.headers()["set-cookie"].to_str().unwrap().contains("Secure"), "plain HTTP keeps working");
        plain.stop().await;
        app.stop().await;
    }
}

/// A page number past any count is an empty page, not the first one; audit dates must be days.
#[tokio::test]
async fn out_of_range_parameters_are_not_read_as_something_else() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, token) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let c = reqwest::Client::new();
        let get = |path: String| c.get(app.url(&path)).bearer_auth(&token).send();
        let first: Value = get("/api/v1/audit?page=1".into()).await.unwrap().json().await.unwrap();
        assert!(first["total"].as_i64().unwrap() > 0, "creating the account is audited");
        for path in ["/api/v1/audit", "/api/v1/workers", "/api/v1/organizations"] {
            let r = get(format!("{path}?page=9223372036854775807")).await.unwrap();
            assert_eq!(r.status(), 200, "{engine:?} {path}");
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["items"].as_array().unwrap().len(), 0, "{engine:?} {path}: {body}");
        }
        for bad in ["notadate", "2023-02-30", "2023-13-01"] {
            let r = get(format!("/api/v1/audit?from={bad}")).await.unwrap();
            assert_eq!(r.status(), 400, "{engine:?} {bad}");
            let r = get(format!("/api/v1/audit?to={bad}")).await.unwrap();
            assert_eq!(r.status(), 400, "{engine:?} {bad}");
        }
        let today = chrono::Utc::now().date_naive();
        let r: Value = get(format!("/api/v1/audit?from={today}&to={today}")).await.unwrap().json().await.unwrap();
        assert_eq!(r["total"], first["total"], "{engine:?}: today's entries, both bounds inclusive");
        let b = browser();
        common::login(&app, &b, "admin").await;
        b.get(app.url("/lang/en")).send().await.unwrap();
        let html = b.get(app.url("/audit?from=2023-02-30")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Not a day: “2023-02-30”"), "{engine:?}: the page says what is wrong");
        app.stop().await;
    }
}

/// A body of optional fields must still be a JSON object: serde reads a struct from an
/// array too, so `[null, null]` used to issue a token (found by schemathesis).
#[tokio::test]
async fn a_json_array_is_not_a_body_of_optional_fields() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let (viewer, _) = app.account("viewer", UserRole::NationalViewer, None, None, None).await;
        let c = reqwest::Client::new();
        let r = c
            .post(app.url(&format!("/api/v1/accounts/{}/tokens", viewer.user_id)))
            .bearer_auth(&admin)
            .json(&json!([null, null]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{engine:?}");
        let tokens: Value = c
            .get(app.url(&format!("/api/v1/accounts/{}/tokens", viewer.user_id)))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(tokens.as_array().unwrap().len(), 1, "{engine:?}: only the token the test made");
        let org: Value = c
            .post(app.url("/api/v1/organizations"))
            .bearer_auth(&admin)
            .json(&json!({"name_en": "Care", "kind": "ngo", "admin_code": "02"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let r = c
            .patch(app.url(&format!("/api/v1/organizations/{}", org["id"])))
            .bearer_auth(&admin)
            .json(&json!([null]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{engine:?}");
        app.stop().await;
    }
}
