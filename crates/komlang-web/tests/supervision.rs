//! Supervision over HTTP on every engine: the API's contract
//! (`GET /api/v1/supervision/summary`), assignments and sessions through the API and the
//! pages, the norms, and hostile input.
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

async fn add(app: &TestApp, name: &str, workplace: &str, cadre: &str) -> i64 {
    let input = WorkerInput {
        name_km: Some("ឈ្មោះ".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some(cadre.into()),
        role: Some("ccwc_member".into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some("2015-03-01".into()),
        ..Default::default()
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    app.db.store.create_worker(&system_principal("test"), &input, today).await.unwrap().id
}

#[tokio::test]
async fn supervision_through_the_api_and_the_pages() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let admin = app.account("admin", UserRole::NationalAdmin, None, None, None).await.1;
        let prov = app.account("prov02", UserRole::ProvincialOfficer, Some("02"), None, None).await.1;
        let sup = add(&app, "Sophal Keo", "0208", "professional_social_worker").await;
        let team = [
            add(&app, "Bopha Sok", "020801", "para_social_worker").await,
            add(&app, "Chenda Sok", "020802", "para_social_worker").await,
        ];
        let far = add(&app, "Rith Phan", "1201", "para_social_worker").await;

        // Assign through the API; refusals are specific.
        let (s, v) = call(
            &app,
            &prov,
            "PUT",
            &format!("/api/v1/workers/{}/supervision", team[0]),
            Some(json!({"supervisor_id": sup, "dedicated": true})),
        )
        .await;
        assert_eq!(s, 200, "{engine:?}: {v}");
        assert_eq!((v["supervisor"]["id"].as_i64(), v["dedicated"].as_bool()), (Some(sup), Some(true)));
        let (s, v) = call(
            &app,
            &prov,
            "PUT",
            &format!("/api/v1/workers/{}/supervision", team[1]),
            Some(json!({"supervisor_id": far})),
        )
        .await;
        assert_eq!((s, v["fields"][0]["code"].as_str()), (422, Some("unknown_worker")), "{engine:?}: {v}");
        let (s, _) = call(
            &app,
            &prov,
            "PUT",
            &format!("/api/v1/workers/{far}/supervision"),
            Some(json!({"supervisor_id": sup})),
        )
        .await;
        assert_eq!(s, 404, "{engine:?}");
        let (s, _) = call(
            &app,
            &prov,
            "PUT",
            &format!("/api/v1/workers/{}/supervision", team[1]),
            Some(json!({"supervisor_id": sup, "on": "yesterday"})),
        )
        .await;
        assert_eq!(s, 400, "{engine:?}");

        // The contract.
        let (s, v) = call(&app, &prov, "GET", "/api/v1/supervision/summary?level=province", None).await;
        assert_eq!(s, 200, "{engine:?}: {v}");
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{engine:?}: the officer's province");
        let x = &items[0];
        assert_eq!(
            (
                x["unit"].as_str(),
                x["supervisors"].as_u64(),
                x["supervisees"].as_u64(),
                x["without_supervisor"].as_u64(),
                x["over_ratio"].as_u64()
            ),
            (Some("02"), Some(1), Some(1), Some(2), Some(0)),
            "{engine:?}: {x}"
        );
        let (_, v) = call(&app, &admin, "GET", "/api/v1/supervision/summary?level=province", None).await;
        assert_eq!(v["items"].as_array().unwrap().len(), 25);
        let (s, _) = call(&app, &admin, "GET", "/api/v1/supervision/summary?level=village", None).await;
        assert_eq!(s, 400);
        let csv = Client::new()
            .get(app.url("/api/v1/supervision/summary?level=province&format=csv"))
            .bearer_auth(&prov)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut lines = csv.trim_start_matches('\u{feff}').lines();
        assert_eq!(
            lines.next(),
            Some("unit,name_en,name_km,supervisors,supervisees,without_supervisor,over_ratio,not_eligible,overdue")
        );
        assert!(lines.next().unwrap().starts_with("02,Battambang,"), "{engine:?}: {csv}");
        assert!(lines.next().is_none(), "{engine:?}: the officer's province only");

        // A session through the API; unknown fields and functions are refused.
        let session = json!({"supervisor_id": sup, "held_on": "2026-11-20", "model": "group",
            "functions": ["educational", "supportive"], "supervisee_ids": [team[0]], "notes": "<b>Case review</b>"});
        let (s, v) = call(&app, &prov, "POST", "/api/v1/supervision/sessions", Some(session.clone())).await;
        assert_eq!(s, 201, "{engine:?}: {v}");
        let mut bad = session.clone();
        bad["functions"] = json!(["gossip"]);
        let (s, _) = call(&app, &prov, "POST", "/api/v1/supervision/sessions", Some(bad)).await;
        assert_eq!(s, 400, "{engine:?}");

        // The pages: the worker's supervision with the session, notes escaped.
        let c = browser();
        login(&app, &c, "admin").await;
        c.get(app.url("/lang/en?next=/")).send().await.unwrap();
        let page = c.get(app.url(&format!("/supervision/workers/{sup}"))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Bopha Sok") && page.contains("Case review"), "{engine:?}: {page}");
        assert!(!page.contains("<b>Case review"), "{engine:?}: notes are escaped");
        // Set Chenda's supervisor through the form, then record an individual session.
        let csrf = csrf_of(&page);
        let r = c
            .post(app.url(&format!("/supervision/workers/{}/supervisor", team[1])))
            .form(&[("csrf", csrf.as_str()), ("supervisor_id", &sup.to_string()), ("on", "2026-11-01")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        let form = [
            ("csrf", csrf.clone()),
            ("held_on", "2026-11-25".into()),
            ("model", "individual".into()),
            ("functions", "administrative".into()),
            ("functions", "mediation".into()),
            ("supervisee_ids", team[1].to_string()),
        ];
        let r = c.post(app.url(&format!("/supervision/workers/{sup}/sessions"))).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        let mut two = form.to_vec();
        two.push(("supervisee_ids", team[0].to_string()));
        let r = c.post(app.url(&format!("/supervision/workers/{sup}/sessions"))).form(&two).send().await.unwrap();
        assert_eq!(r.status(), 422, "{engine:?}: an individual session has one supervisee");
        assert!(r.text().await.unwrap().contains("An individual session has one supervisee."));
        let (_, v) = call(&app, &admin, "GET", &format!("/api/v1/workers/{}/supervision", team[1]), None).await;
        assert_eq!(v["sessions"][0]["functions"], json!(["administrative", "mediation"]), "{engine:?}: {v}");
        assert_eq!(v["supervisor"]["supervisor"]["id"], sup);

        // The summary page and the lists.
        let page = c.get(app.url("/supervision?level=district&parent=02")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"supervision\"") && page.contains("data-unit=\"0208\""), "{engine:?}");
        let page = c
            .get(app.url("/supervision/list?kind=without_supervisor&unit=0208"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("Sophal Keo") && !page.contains("Bopha Sok"), "{engine:?}: {page}");
        app.stop().await;
    }
}
