//! Costs over HTTP on every engine: the API's contract (`GET /api/v1/planning/plans/{id}/cost`),
//! the data through the API and the page's forms, the workforce's cost, two plans side by side,
//! and hostile input.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::{browser, csrf_of, login, TestApp};
use komlang_core::UserRole;
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

fn data() -> Value {
    json!({
        "currencies": ["KHR", "USD"],
        "rates": [{"currency": "KHR", "year": 2025, "per_usd": 4000.0}],
        "scales": [
            {"grade": "A", "step": 1, "effective_from": "2025-01-01", "monthly": 1600000.0, "currency": "KHR"},
            {"grade": "B", "step": 1, "effective_from": "2025-01-01", "monthly": 1200000.0, "currency": "KHR"}
        ],
        "allowances": [{"code": "transport", "name_en": "Transport", "effective_from": "2025-01-01", "monthly": 25.0, "currency": "USD"}],
        "cadres": [
            {"cadre": "professional_social_worker", "grade": "A", "step": 1},
            {"cadre": "para_professional", "grade": "B", "step": 1, "certificate": "tvc2"}
        ],
        "training": [{"level": "tvc2", "cost": 500.0, "currency": "USD"}]
    })
}

#[tokio::test]
async fn plan_costs_through_the_api_and_the_pages() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let admin = app.account("admin", UserRole::NationalAdmin, None, None, None).await.1;
        let prov = app.account("prov02", UserRole::ProvincialOfficer, Some("02"), None, None).await.1;
        let (s, v) = call(&app, &admin, "PUT", "/api/v1/costs", Some(data())).await;
        assert_eq!(s, 200, "{engine:?}: {v}");
        let (s, _) = call(&app, &prov, "PUT", "/api/v1/costs", Some(data())).await;
        assert_eq!(s, 403);
        let mut bad = data();
        bad["scales"][0]["monthly"] = json!(-5.0);
        bad["scales"][1]["currency"] = json!("XYZ");
        let (s, v) = call(&app, &admin, "PUT", "/api/v1/costs", Some(bad)).await;
        let fields: Vec<&str> = v["fields"].as_array().unwrap().iter().filter_map(|f| f["field"].as_str()).collect();
        assert_eq!((s, fields), (422, vec!["scales[0].monthly", "scales[1].currency"]), "{engine:?}");

        // Three district posts in Battambang, 2026 and 2027.
        let plan = json!({"name": "Three", "parent": "02", "start_year": 2026, "target_year": 2027, "posts": 3,
            "yearly_capacity": 2, "level_order": ["district"]});
        let (s, v) = call(&app, &prov, "POST", "/api/v1/planning/plans", Some(plan)).await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let (s, v) = call(&app, &prov, "GET", &format!("/api/v1/planning/plans/{id}/cost"), None).await;
        assert_eq!(s, 200, "{engine:?}: {v}");
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        for k in ["currency", "years", "total"] {
            assert!(keys.iter().any(|x| *x == k), "{engine:?}: {k} in {v}");
        }
        assert_eq!(v["currency"], "USD");
        // A district social worker (para-professional, B): 12 × (300 + 25) = 3,900 a year, and 500 of training once.
        let years: Vec<(i64, u64, f64)> = v["years"]
            .as_array()
            .unwrap()
            .iter()
            .map(|y| (y["year"].as_i64().unwrap(), y["posts"].as_u64().unwrap(), y["cost"].as_f64().unwrap()))
            .collect();
        assert_eq!(years, vec![(2026, 2, 2.0 * 3_900.0 + 1_000.0), (2027, 1, 3.0 * 3_900.0 + 500.0)], "{engine:?}");
        assert_eq!(v["total"].as_f64(), Some(8_800.0 + 12_200.0));
        let (s, v) = call(&app, &prov, "GET", &format!("/api/v1/planning/plans/{id}/cost?currency=KHR"), None).await;
        assert_eq!((s, v["total"].as_f64()), (200, Some(21_000.0 * 4_000.0)), "{engine:?}");
        for bad in ["currency=usd", "currency=DROP%20TABLE"] {
            let (s, _) = call(&app, &prov, "GET", &format!("/api/v1/planning/plans/{id}/cost?{bad}"), None).await;
            assert_eq!(s, 400, "{engine:?}: {bad}");
        }
        let (s, v) = call(&app, &prov, "GET", &format!("/api/v1/planning/plans/{id}/cost?currency=EUR"), None).await;
        assert_eq!((s, v["fields"][0]["code"].as_str()), (422, Some("unknown_currency")), "{engine:?}");
        let (s, _) = call(&app, &prov, "GET", "/api/v1/planning/plans/999999/cost", None).await;
        assert_eq!(s, 404);

        // Pages: a rate added through the form, the plans side by side.
        let c = browser();
        login(&app, &c, "admin").await;
        c.get(app.url("/lang/en?next=/")).send().await.unwrap();
        let csv = c.get(app.url("/costs/export?format=csv&level=province")).send().await.unwrap().text().await.unwrap();
        assert!(
            csv.trim_start_matches('\u{feff}').starts_with("unit,name_en,name_km,workers,cost,currency,year"),
            "{csv}"
        );
        let (s, _) = call(&app, &prov, "GET", "/api/v1/costs/workforce?format=pdf", None).await;
        assert_eq!(s, 400, "{engine:?}");
        let page = c.get(app.url("/costs")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"cost-total\""), "{engine:?}");
        let csrf = csrf_of(&page);
        let r = c
            .post(app.url("/costs/rows"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("kind", "rate"),
                ("currency", "KHR"),
                ("year", "2027"),
                ("per_usd", "4100"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        let r = c
            .post(app.url("/costs/rows"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("kind", "rate"),
                ("currency", "KHR"),
                ("year", "2027"),
                ("per_usd", "-1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{engine:?}");
        let (_, v) = call(&app, &admin, "GET", "/api/v1/costs", None).await;
        assert_eq!(v["rates"].as_array().unwrap().len(), 2, "{engine:?}: {v}");
        // A worker's rank from their page.
        let w = app
            .db
            .store
            .create_worker(
                &komlang_store::system_principal("t"),
                &komlang_core::validate::WorkerInput {
                    name_km: Some("ឈ្មោះ".into()),
                    name_latin: Some("Rith Keo".into()),
                    sex: Some("male".into()),
                    cadre: Some("para_professional".into()),
                    role: Some("district_social_worker".into()),
                    sector: Some("government".into()),
                    workplace_code: Some("0208".into()),
                    status: Some("active".into()),
                    ..Default::default()
                },
                chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            )
            .await
            .unwrap();
        let r = c
            .post(app.url(&format!("/workers/{}/ranks", w.id)))
            .form(&[("csrf", csrf.as_str()), ("grade", "B"), ("step", "2"), ("from_date", "2025-04-01")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        let page = c.get(app.url(&format!("/workers/{}", w.id))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"rank-history\""), "{engine:?}");
        let (_, v) = call(&app, &admin, "GET", &format!("/api/v1/workers/{}/ranks", w.id), None).await;
        assert_eq!(
            v,
            json!([{"grade": "B", "step": 2, "from_date": "2025-04-01", "recorded_by": "admin"}]),
            "{engine:?}"
        );
        // 2027 now at 4,100 riel to the dollar: 3 × 12 × (1,200,000 / 4,100 + 25) + 500 = 11,936.59.
        let page = c.get(app.url(&format!("/costs/plans?a={id}&b={id}"))).send().await.unwrap().text().await.unwrap();
        assert!(
            page.contains("id=\"total-a\">20,737<") && page.contains("id=\"total-b\">20,737<"),
            "{engine:?}: {page}"
        );
        app.stop().await;
    }
}
