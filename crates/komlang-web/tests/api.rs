//! The JSON API over HTTP, on every engine.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::TestApp;
use komlang_core::UserRole;
use komlang_store::testing::engines;
use serde_json::{json, Value};

fn new_worker(name_km: &str, name_latin: &str, workplace: &str) -> Value {
    json!({
        "name_km": name_km, "name_latin": name_latin, "sex": "male", "date_of_birth": "1985-07-01",
        "cadre": "para_professional", "role": "district_social_worker", "sector": "government",
        "workplace_code": workplace, "status": "active", "start_date": "2015-03-01"
    })
}

#[tokio::test]
async fn workers_round_trip_through_the_api() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let c = reqwest::Client::new();
        assert_eq!(c.get(app.url("/healthz")).send().await.unwrap().status(), 200);
        assert_eq!(c.get(app.url("/api/v1/workers")).send().await.unwrap().status(), 401);

        let r = c
            .post(app.url("/api/v1/workers"))
            .bearer_auth(&admin)
            .json(&new_worker("ហេង សុខា", "Heng Sokha", "0102"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201, "{engine:?}");
        let w: Value = r.json().await.unwrap();
        let id = w["id"].as_i64().unwrap();
        assert_eq!(w["workplace_code"], "0102");

        let list: Value = c
            .get(app.url("/api/v1/workers?province=01&q=%E1%9E%9F%E1%9E%BB%E1%9E%81%E1%9E%B6&page=1"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["total"], 1, "search by Khmer name សុខា: {list}");
        let item = &list["items"][0];
        for key in ["id", "name_km", "name_latin", "cadre", "sector", "workplace_code"] {
            assert!(!item[key].is_null(), "item lacks {key}: {item}");
        }

        let r = c
            .patch(app.url(&format!("/api/v1/workers/{id}")))
            .bearer_auth(&admin)
            .json(&json!({"workplace_code": "0103", "effective_date": "2025-01-01", "note": "transfer"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let postings: Value = c
            .get(app.url(&format!("/api/v1/workers/{id}/postings")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(postings.as_array().unwrap().len(), 2);
        assert_eq!(postings[1]["end_date"], "2025-01-01");

        let doc: Value = c.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        for path in
            ["/api/v1/workers", "/api/v1/workers/{id}", "/api/v1/organizations", "/api/v1/admin-units", "/api/v1/audit"]
        {
            assert!(doc["paths"][path].is_object(), "OpenAPI lacks {path}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_bodies_get_4xx_json_and_change_nothing() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let c = reqwest::Client::new();
        let post = |body: String| {
            c.post(app.url("/api/v1/workers"))
                .bearer_auth(&admin)
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        for (body, status) in [
            ("{not json".to_string(), 400u16),
            ("[]".to_string(), 400),
            (json!({"name_km": 5}).to_string(), 400),
            (json!({"unknown_field": "x"}).to_string(), 400),
            (json!({}).to_string(), 422),
        ] {
            let r = post(body.clone()).await.unwrap();
            assert_eq!(r.status().as_u16(), status, "{engine:?} body {body}");
            let v: Value = r.json().await.expect("JSON error body");
            assert!(v["error"].is_string(), "{v}");
        }
        let mut bad = new_worker("ស", "S0k", "777");
        bad["date_of_birth"] = json!("31/12/1990");
        bad["email"] = json!("no-at-sign");
        let r = c
            .post(app.url("/api/v1/workers"))
            .bearer_auth(&admin)
            .header("accept-language", "km")
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let v: Value = r.json().await.unwrap();
        let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, vec!["name_latin", "date_of_birth", "email", "workplace_code"], "{v}");
        assert!(v["fields"][0]["message"].as_str().unwrap().contains("ឡាតាំង"), "message in Khmer: {v}");

        // Duplicate national ID names the existing worker.
        let mut first = new_worker("ស៊ុន ដារ៉ា", "Sun Dara", "0102");
        first["national_id"] = json!("010203040");
        let r = c.post(app.url("/api/v1/workers")).bearer_auth(&admin).json(&first).send().await.unwrap();
        let existing: Value = r.json().await.unwrap();
        let r = c.post(app.url("/api/v1/workers")).bearer_auth(&admin).json(&first).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["fields"][0]["code"], "duplicate_national_id");
        assert_eq!(v["fields"][0]["params"]["existing_id"], existing["id"].to_string());

        let list: Value =
            c.get(app.url("/api/v1/workers")).bearer_auth(&admin).send().await.unwrap().json().await.unwrap();
        assert_eq!(list["total"], 1, "{engine:?}: only the valid worker was saved");
        let r = c.get(app.url("/api/v1/workers?cadre=wizard")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let r = c.get(app.url("/api/v1/workers?page=abc")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 400);
        let r = c
            .patch(app.url("/api/v1/workers/999999"))
            .bearer_auth(&admin)
            .json(&json!({"phone": "012345678"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        app.stop().await;
    }
}

/// Every route of the API (but the document itself) is in the OpenAPI document, with its method:
/// each feature's part of the document is merged into `/api/openapi.json`.
#[test]
fn every_api_route_is_in_the_openapi_document() {
    let doc = serde_json::to_value(komlang_web::openapi::document()).unwrap();
    let routes: Vec<_> =
        komlang_web::route_table().into_iter().filter(|r| r.is_api() && r.path != "/api/openapi.json").collect();
    assert!(routes.len() > 50, "{} API routes", routes.len());
    let missing: Vec<String> = routes
        .iter()
        .filter(|r| !doc["paths"][&r.path][r.method.to_lowercase()].is_object())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(missing.is_empty(), "API routes the OpenAPI document does not describe: {missing:?}");
    let documented: usize =
        doc["paths"].as_object().unwrap().values().map(|p| p.as_object().map_or(0, |m| m.len())).sum();
    assert_eq!(documented, routes.len(), "the OpenAPI document describes routes the API does not serve");
}

/// Past `COUNT_LIMIT` (1,000) matches a search stops counting: the API says `total: 1000` with
/// `total_is_lower_bound`, the page "more than 1,000" and no page count, with a link to the
/// next page; a filter that leaves fewer is counted exactly, in both (the pages in Khmer).
#[tokio::test]
async fn big_lists_give_a_bound_not_a_count() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let limit = komlang_store::COUNT_LIMIT;
        common::bulk::add_workers(&app.db.store, limit as usize + 1, "010201").await;
        common::bulk::add_workers(&app.db.store, 3, "020101").await;
        let c = reqwest::Client::new();
        let get = |path: &str| c.get(app.url(path)).bearer_auth(&admin).send();
        // A search past the bound gives the bound; the list without search is counted exactly
        // from the worker tallies, however long.
        let path = "/api/v1/workers?q=sok%20sopheap&per_page=20";
        let v: Value = get(path).await.unwrap().json().await.unwrap();
        assert_eq!((v["total"].clone(), v["total_is_lower_bound"].clone()), (json!(limit), json!(true)), "{path}");
        assert_eq!(v["items"].as_array().unwrap().len(), 20);
        let path = "/api/v1/workers?per_page=20";
        let v: Value = get(path).await.unwrap().json().await.unwrap();
        assert_eq!((v["total"].clone(), v["total_is_lower_bound"].clone()), (json!(limit + 4), json!(false)), "{path}");
        assert_eq!(v["items"].as_array().unwrap().len(), 20);
        for path in ["/api/v1/workers?province=02", "/api/v1/workers?q=sok&province=02"] {
            let v: Value = get(path).await.unwrap().json().await.unwrap();
            assert_eq!((v["total"].clone(), v["total_is_lower_bound"].clone()), (json!(3), json!(false)), "{path}");
        }

        let b = common::browser();
        common::login(&app, &b, "admin").await;
        let km = common::Texts::new(komlang_web::common::i18n::Locale::Km);
        let html = b.get(app.url("/workers?q=sopheap&page=2")).send().await.unwrap().text().await.unwrap();
        let bound = komlang_web::common::pagination::grouped(limit);
        assert!(html.contains(&km.tp("common.results_more_than", &[("total", bound)])), "{engine:?}");
        let page_n = format!("<span>{}</span>", km.tp("common.page_n", &[("page", "2".into())]));
        assert!(html.contains(&page_n), "{engine:?}: no page count, the last page is not known");
        assert!(html.contains("rel=\"next\"") && html.contains("rel=\"prev\""));
        let html = b.get(app.url("/workers?province=02")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains(&km.tp("common.results", &[("total", "3".into())])), "{engine:?}");
        assert!(html.contains(&km.tp("common.page_of", &[("page", "1".into()), ("pages", "1".into())])));
        assert!(!html.contains("rel=\"next\""));
        app.stop().await;
    }
}
