//! Retention over HTTP on every engine: turnover and cohorts through the API, a reason given
//! from the worker's page, reasons and the CCWC term kept by administrators, hostile input.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::{browser, csrf_of, login, TestApp};
use komlang_core::validate::WorkerInput;
use komlang_core::UserRole;
use komlang_store::system_principal;
use komlang_store::testing::engines;
use reqwest::Client;
use serde_json::{json, Value};

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut rb = Client::new().request(method.parse().unwrap(), app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn retention_through_the_api_and_the_pages() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let admin = app.account("admin", UserRole::NationalAdmin, None, None, None).await.1;
        let sys = system_principal("test");
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        let input = WorkerInput {
            name_km: Some("ឈ្មោះ".into()),
            name_latin: Some("Sokha Lim".into()),
            sex: Some("female".into()),
            cadre: Some("para_professional".into()),
            role: Some("ngo_case_worker".into()),
            sector: Some("ngo".into()),
            workplace_code: Some("0208".into()),
            status: Some("active".into()),
            start_date: Some("2023-01-09".into()),
            ..Default::default()
        };
        let w = app.db.store.create_worker(&sys, &input, today).await.unwrap();
        let leave =
            WorkerInput { status: Some("left".into()), end_date: Some("2026-03-01".into()), ..Default::default() };
        let change =
            komlang_store::WorkerChange { effective_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1), note: None };
        app.db.store.update_worker(&sys, w.id, &leave, &change, today, Some(w.version)).await.unwrap();

        let (s, v) = call(&app, &admin, "GET", "/api/v1/retention/turnover?year=2026&by=sector", None).await;
        assert_eq!(s, 200, "{engine:?}: {v}");
        let ngo = v["rows"].as_array().unwrap().iter().find(|r| r["key"] == "ngo").unwrap().clone();
        assert_eq!(
            (ngo["start"].as_u64(), ngo["end"].as_u64(), ngo["leavers"].as_u64()),
            (Some(1), Some(0), Some(1)),
            "{ngo}"
        );
        assert_eq!(ngo["rate"].as_f64(), Some(200.0));
        for bad in ["year=20x6", "year=3000", "by=colour"] {
            let (s, _) = call(&app, &admin, "GET", &format!("/api/v1/retention/turnover?{bad}"), None).await;
            assert_eq!(s, 400, "{engine:?}: {bad}");
        }
        let csv = Client::new()
            .get(app.url("/api/v1/retention/turnover?year=2026&by=sector&format=csv"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut lines = csv.trim_start_matches('\u{feff}').lines();
        assert_eq!(lines.next(), Some("year,by,key,start,end,leavers,rate,average_tenure"));
        assert!(csv.contains("2026,sector,ngo,1,0,1,200.0,3.1"), "{engine:?}: {csv}");
        let (s, v) = call(&app, &admin, "GET", "/api/v1/retention/survival", None).await;
        assert_eq!(s, 200);
        let c23 = v.as_array().unwrap().iter().find(|c| c["start_year"] == 2023).unwrap().clone();
        assert_eq!(c23["after"][0], json!([1, 100.0]), "{engine:?}: {c23}");
        assert_eq!(c23["after"][2], json!([3, 100.0]), "{engine:?}: she left after three years and two months");
        assert_eq!(c23["after"][3], json!([5, null]), "{engine:?}: five years have not passed");

        // The reason, from the worker's page.
        let c = browser();
        login(&app, &c, "admin").await;
        c.get(app.url("/lang/en?next=/")).send().await.unwrap();
        let page = c.get(app.url(&format!("/workers/{}", w.id))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"exit-reason-form\""), "{engine:?}: the form shows for a worker who left");
        let csrf = csrf_of(&page);
        let r = c
            .post(app.url(&format!("/workers/{}/exit-reason", w.id)))
            .form(&[("csrf", csrf.as_str()), ("reason", "moved_to_government")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        let page = c.get(app.url(&format!("/workers/{}", w.id))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("(Moved to government)"), "{engine:?}");
        let history = page.split("id=\"status-history\"").nth(1).unwrap_or_default();
        assert!(
            history.contains("<span class=\"tag reason\">Moved to government</span>"),
            "{engine:?}: the reason beside the separation in the status history"
        );
        let (_, v) = call(&app, &admin, "GET", &format!("/api/v1/workers/{}/status-history", w.id), None).await;
        let reasons: Vec<&str> = v.as_array().unwrap().iter().filter_map(|s| s["reason"].as_str()).collect();
        assert_eq!(reasons, ["moved_to_government"], "{engine:?}: the API's history says why: {v}");
        let (s, v) = call(
            &app,
            &admin,
            "PUT",
            &format!("/api/v1/workers/{}/exit-reason", w.id),
            Some(json!({"reason": "<script>"})),
        )
        .await;
        assert_eq!((s, v["fields"][0]["code"].as_str()), (422, Some("invalid_choice")), "{engine:?}");
        let (_, v) = call(&app, &admin, "GET", "/api/v1/retention/turnover?year=2026", None).await;
        assert_eq!(v["reasons"], json!([["moved_to_government", 1]]), "{engine:?}");

        // Reasons and the term, kept by administrators.
        let (s, _) =
            call(&app, &admin, "POST", "/api/v1/retention/reasons", Some(json!({"code": "Bad Code", "name_en": "x"})))
                .await;
        assert_eq!(s, 422);
        let (s, _) = call(
            &app,
            &admin,
            "POST",
            "/api/v1/retention/reasons",
            Some(json!({"code": "further_study", "name_en": "Further study"})),
        )
        .await;
        assert_eq!(s, 201);
        let (s, v) =
            call(&app, &admin, "PUT", "/api/v1/retention/ccwc-term", Some(json!({"term_end": "2027-06-30"}))).await;
        assert_eq!((s, v["term_end"].as_str()), (200, Some("2027-06-30")), "{engine:?}");
        let page = c.get(app.url("/retention?year=2026&by=province")).send().await.unwrap().text().await.unwrap();
        assert!(
            page.contains("Battambang") && page.contains("2027-06-30") && page.contains("Further study"),
            "{engine:?}"
        );
        app.stop().await;
    }
}
