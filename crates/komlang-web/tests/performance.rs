//! Appraisals over HTTP, on every engine, on the demo data set: the contract of a worker's
//! appraisals (404 outside the caller's scope), the demo's appraisals done, open and overdue in
//! the figures and their download, an appraisal changed only at the version read (412 at an
//! older one), completed only whole (422 naming what is missing), and job descriptions loaded
//! as a new version.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::TestApp;
use komlang_core::{AdminLevel, UserRole};
use komlang_store::testing::engines;
use serde_json::{json, Value};
use sqlx::Row;

#[tokio::test]
async fn appraisals_answer_their_contract_on_the_demo() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let today = komlang_web::common::today();
        app.db.store.load_demo(today).await.unwrap();
        let (_, admin) = app.account("perf-admin", UserRole::NationalAdmin, None, None, None).await;
        let (_, outside) = app.account("perf-pp", UserRole::ProvincialOfficer, Some("12"), None, None).await;
        let (battambang_p, battambang) =
            app.account("perf-btb", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        let http = reqwest::Client::new();
        let call = |method: reqwest::Method, path: &str, token: &str, body: Option<Value>, etag: Option<&str>| {
            let mut rq = http.request(method, app.url(path)).bearer_auth(token);
            if let Some(b) = body {
                rq = rq.json(&b);
            }
            if let Some(t) = etag {
                rq = rq.header("If-Match", t);
            }
            async move {
                let r = rq.send().await.unwrap();
                let status = r.status().as_u16();
                let tag = r.headers().get("etag").map(|v| v.to_str().unwrap().to_string());
                let text = r.text().await.unwrap();
                (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)), tag)
            }
        };
        use reqwest::Method;

        // A demo worker with an open appraisal (Battambang, the demo province).
        let row = sqlx::query("SELECT id, worker_id FROM appraisals WHERE status = 'open' ORDER BY id LIMIT 1")
            .fetch_one(app.db.store.pool())
            .await
            .unwrap();
        let (open_id, worker): (i64, i64) = (row.try_get(0).unwrap(), row.try_get(1).unwrap());
        let path = format!("/api/v1/workers/{worker}/appraisals");
        let (s, v, _) = call(Method::GET, &path, &admin, None, None).await;
        assert_eq!(s, 200, "{engine:?}: {v}");
        let items = v["items"].as_array().unwrap();
        assert!(!items.is_empty());
        for item in items {
            for key in ["id", "cycle", "status", "overall"] {
                assert!(item.get(key).is_some(), "{engine:?}: {key} in {item}");
            }
        }
        assert!(items.iter().any(|i| i["id"] == open_id && i["status"] == "open" && i["overall"].is_null()));
        let (s, v, _) = call(Method::GET, &path, &outside, None, None).await;
        assert_eq!(s, 404, "{engine:?}: outside the caller's scope: {v}");
        let (s, _, _) = call(Method::GET, "/api/v1/workers/999999999/appraisals", &admin, None, None).await;
        assert_eq!(s, 404);

        // The demo's figures: some due, some overdue, some completed, corrective actions open.
        let (s, v, _) =
            call(Method::GET, "/api/v1/appraisals/summary?level=district&parent=02", &battambang, None, None).await;
        assert_eq!(s, 200, "{v}");
        let t = &v["total"];
        for key in ["due", "overdue", "completed", "open_corrective", "corrective_late"] {
            assert!(t[key].as_u64().unwrap() > 0, "{engine:?}: the demo has some {key}: {t}");
        }
        let sum: u64 = v["items"].as_array().unwrap().iter().map(|u| u["overdue"].as_u64().unwrap()).sum();
        assert_eq!(Some(sum), t["overdue"].as_u64());
        let store =
            app.db.store.performance_summary(&battambang_p, AdminLevel::District, Some("02"), today).await.unwrap();
        assert_eq!(t["workers"].as_u64(), Some(u64::from(store.total.workers)));
        let r = http
            .get(app.url("/api/v1/appraisals/summary?level=district&parent=02&format=csv"))
            .bearer_auth(&battambang)
            .send()
            .await
            .unwrap();
        let csv = r.text().await.unwrap();
        assert_eq!(
            csv.trim_start_matches('\u{feff}').lines().count(),
            1 + store.items.len() + 1,
            "header, units, total"
        );
        let (s, v, _) = call(Method::GET, "/api/v1/appraisals/lists/overdue?unit=02", &battambang, None, None).await;
        assert_eq!(s, 200);
        assert!(v["items"].as_array().unwrap().iter().all(|r| r["due"] == "overdue"), "{v}");

        // Changed only at the version read; completed only whole.
        let apath = format!("/api/v1/appraisals/{open_id}");
        let (s, a, tag) = call(Method::GET, &apath, &battambang, None, None).await;
        assert_eq!(s, 200, "{a}");
        let tag = tag.expect("an ETag");
        let codes: Vec<String> = a["ratings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["function"]["code"].as_str().unwrap().to_string())
            .collect();
        let half = json!({"ratings": [{"function": codes[0], "rating": 3}], "complete": true});
        let (s, v, _) = call(Method::PUT, &apath, &battambang, Some(half), Some(&tag)).await;
        assert_eq!(s, 422, "{engine:?}: {v}");
        let text = v.to_string();
        assert!(text.contains("function_not_rated") && text.contains(&codes[1]) && text.contains("overall"), "{text}");
        let all: Vec<Value> = codes.iter().map(|c| json!({"function": c, "rating": 3, "comment": "steady"})).collect();
        let done = json!({"ratings": all, "overall": "meets", "complete": true, "comment": "Agreed with the worker"});
        let (s, _, new_tag) = call(Method::PUT, &apath, &battambang, Some(done.clone()), Some(&tag)).await;
        assert_eq!(s, 200, "{engine:?}");
        assert_ne!(new_tag.as_deref(), Some(tag.as_str()));
        let (s, v, _) = call(Method::PUT, &apath, &battambang, Some(done), Some(&tag)).await;
        assert_eq!(s, 412, "{engine:?}: an older version is refused: {v}");
        let (_, v, _) = call(Method::GET, &path, &admin, None, None).await;
        let item = v["items"].as_array().unwrap().iter().find(|i| i["id"] == open_id).unwrap().clone();
        assert_eq!((item["status"].as_str(), item["overall"].as_str()), (Some("completed"), Some("meets")));

        // Job descriptions: a new version becomes current; bad ones change nothing.
        let (_, before, _) = call(Method::GET, "/api/v1/job-descriptions", &admin, None, None).await;
        let n = before["items"].as_array().unwrap().len();
        let bad =
            json!({"descriptions": [{"role": "ccwc_focal_point", "title_en": "", "title_km": "x", "functions": []}]});
        let (s, v, _) = call(Method::POST, "/api/v1/job-descriptions", &admin, Some(bad), None).await;
        assert_eq!(s, 422, "{v}");
        let body = json!({"descriptions": [{"role": "ccwc_focal_point", "title_en": "Focal point (MoI)", "title_km": "មន្ត្រីបង្គោល",
            "functions": [{"code": "identify", "name_en": "Identify", "name_km": "កំណត់"}]}]});
        let (s, v, _) = call(Method::POST, "/api/v1/job-descriptions", &admin, Some(body), None).await;
        assert_eq!(s, 201, "{v}");
        let (_, after, _) = call(Method::GET, "/api/v1/job-descriptions?current=true", &admin, None, None).await;
        let focal: Vec<&Value> =
            after["items"].as_array().unwrap().iter().filter(|j| j["role"] == "ccwc_focal_point").collect();
        assert_eq!((focal.len(), focal[0]["version"].as_i64()), (1, Some(2)), "{engine:?}");
        let (_, all, _) = call(Method::GET, "/api/v1/job-descriptions", &admin, None, None).await;
        assert_eq!(all["items"].as_array().unwrap().len(), n + 1);
        app.stop().await;
    }
}
