//! The recruitment need over HTTP, on every engine, on the demo data set: the API's answer has
//! the contract's shape and its arithmetic, equals what the store counts, downloads as CSV, and
//! bad settings answer 422 naming the field and change nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::TestApp;
use komlang_core::{AdminLevel, UserRole};
use komlang_store::testing::engines;
use serde_json::{json, Value};

#[tokio::test]
async fn the_need_answers_its_contract_and_settings_are_checked() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let today = komlang_web::common::today();
        app.db.store.load_demo(today).await.unwrap();
        let (admin_p, admin) = app.account("rec-admin", UserRole::NationalAdmin, None, None, None).await;
        let http = reqwest::Client::new();
        let get = |path: &str| {
            let rq = http.get(app.url(path)).bearer_auth(&admin);
            async move {
                let r = rq.send().await.unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            }
        };
        let (s, text) = get("/api/v1/recruitment/need?year=2027&level=province").await;
        assert_eq!(s, 200, "{engine:?}: {text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 25, "{engine:?}");
        let mut vacant = 0;
        for u in items {
            for key in ["unit", "vacant", "expected_exits", "to_recruit"] {
                assert!(!u[key].is_null(), "{engine:?}: {key} in {u}");
            }
            let n = |k: &str| u[k].as_u64().unwrap();
            assert_eq!(n("to_recruit"), n("vacant") + n("expected_exits"), "{u}");
            vacant += n("vacant");
        }
        assert!(vacant > 0, "{engine:?}: the demo has vacant posts");
        let store =
            app.db.store.recruitment_need(&admin_p, AdminLevel::Province, None, 2027, None, today).await.unwrap();
        assert_eq!(v["total"]["to_recruit"].as_u64(), Some(u64::from(store.total.to_recruit)));

        let (s, csv) = get("/api/v1/recruitment/need?year=2027&level=province&format=csv").await;
        assert_eq!(s, 200);
        assert_eq!(csv.trim_start_matches('\u{feff}').lines().count(), 1 + 25 + 1, "header, units, total");

        for (body, field) in [
            (json!({"retirement_age": 20, "exit_rates": []}), "retirement_age"),
            (
                json!({"retirement_age": 60, "exit_rates": [{"cadre": "allied_worker", "incapacity_per_1000": 5000.0, "death_per_1000": 1.0}]}),
                "incapacity_per_1000",
            ),
        ] {
            let r =
                http.put(app.url("/api/v1/recruitment/settings")).bearer_auth(&admin).json(&body).send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            assert_eq!(status, 422, "{engine:?}: {text}");
            assert!(text.contains(field), "{engine:?}: {text}");
        }
        let (_, settings) = get("/api/v1/recruitment/settings").await;
        let settings: Value = serde_json::from_str(&settings).unwrap();
        assert_eq!(settings["retirement_age"], 60, "{engine:?}: nothing changed");
        app.stop().await;
    }
}
