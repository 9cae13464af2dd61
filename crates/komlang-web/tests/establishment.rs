//! The establishment over HTTP on every engine: the API's contract (`GET /api/v1/establishment`),
//! posts approved, filled with `If-Match`, left vacant and ended through the API and the pages,
//! a plan's posts approved once, the download, and hostile input.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::{browser, csrf_of, login, TestApp};
use komlang_core::validate::WorkerInput;
use komlang_core::UserRole;
use komlang_store::system_principal;
use komlang_store::testing::engines;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn call(app: &TestApp, token: &str, method: &str, path: &str, body: Option<Value>) -> (u16, Value, String) {
    let mut rb = Client::new().request(method.parse().unwrap(), app.url(path)).bearer_auth(token);
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let etag = r.headers().get("etag").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, r.json().await.unwrap_or(Value::Null), etag)
}

async fn add_worker(app: &TestApp, name: &str, workplace: &str) -> i64 {
    let input = WorkerInput {
        name_km: Some("ឈ្មោះ".into()),
        name_latin: Some(name.into()),
        sex: Some("male".into()),
        cadre: Some("para_professional".into()),
        role: Some("district_social_worker".into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        ..Default::default()
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
    app.db.store.create_worker(&system_principal("test"), &input, today).await.unwrap().id
}

#[tokio::test]
async fn posts_through_the_api() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let admin = app.account("admin", UserRole::NationalAdmin, None, None, None).await.1;
        let prov = app.account("prov02", UserRole::ProvincialOfficer, Some("02"), None, None).await.1;
        let dara = add_worker(&app, "Dara Sok", "0201").await;
        let vanna = add_worker(&app, "Vanna Chea", "0201").await;

        let new = json!({"admin_code": "0201", "cadre": "para_professional", "role": "district_social_worker",
            "funding": "mosvy_payroll", "approved_year": 2025, "count": 3});
        let (s, v, _) = call(&app, &admin, "POST", "/api/v1/establishment/posts", Some(new.clone())).await;
        assert_eq!(s, 201, "{engine:?}: {v}");
        let ids: Vec<i64> = v["ids"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 3);
        let (s, _, _) = call(&app, &prov, "POST", "/api/v1/establishment/posts", Some(new)).await;
        assert_eq!(s, 403, "{engine:?}: officers do not approve posts");

        // Filled with If-Match; a stale tag is refused with the current one.
        let path = format!("/api/v1/establishment/posts/{}", ids[0]);
        let (s, v, tag) = call(&app, &prov, "GET", &path, None).await;
        assert_eq!((s, v["holder"].clone()), (200, Value::Null), "{engine:?}");
        let fill = Client::new()
            .post(app.url(&format!("{path}/fill")))
            .bearer_auth(&prov)
            .header("If-Match", &tag)
            .json(&json!({"worker_id": dara, "on": "2026-12-01"}))
            .send()
            .await
            .unwrap();
        assert_eq!(fill.status(), StatusCode::OK, "{engine:?}");
        let filled: Value = fill.json().await.unwrap();
        assert_eq!(filled["holder"]["worker_id"], dara);
        assert_eq!(filled["holder"]["since"], "2026-12-01", "{engine:?}: a new posting fills it from that day");
        let again = Client::new()
            .post(app.url(&format!("{path}/fill")))
            .bearer_auth(&prov)
            .header("If-Match", &tag)
            .json(&json!({"worker_id": vanna}))
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::PRECONDITION_FAILED, "{engine:?}");
        // Refusals name the field and the reason.
        let (s, v, _) = call(&app, &prov, "POST", &format!("{path}/fill"), Some(json!({"worker_id": vanna}))).await;
        assert_eq!((s, v["fields"][0]["code"].as_str()), (422, Some("post_filled")), "{engine:?}: {v}");
        let (s, _, _) =
            call(&app, &prov, "POST", &format!("{path}/fill"), Some(json!({"worker_id": vanna, "on": "soon"}))).await;
        assert_eq!(s, 400, "{engine:?}");
        let (s, _, _) = call(&app, &prov, "POST", &format!("{path}/fill"), Some(json!({"worker": 1}))).await;
        assert_eq!(s, 400, "{engine:?}: unknown fields are refused");

        // The contract: units of the level in the caller's scope, vacant = approved - filled.
        let (s, v, _) = call(&app, &prov, "GET", "/api/v1/establishment?level=province&year=2026", None).await;
        assert_eq!(s, 200, "{engine:?}: {v}");
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{engine:?}: the officer's province only: {v}");
        assert_eq!(
            (
                items[0]["unit"].as_str(),
                items[0]["approved"].as_u64(),
                items[0]["filled"].as_u64(),
                items[0]["vacant"].as_u64()
            ),
            (Some("02"), Some(3), Some(1), Some(2)),
            "{engine:?}"
        );
        let (_, v, _) = call(&app, &admin, "GET", "/api/v1/establishment?level=district&year=2026", None).await;
        for x in v["items"].as_array().unwrap() {
            let (a, fl, va) =
                (x["approved"].as_u64().unwrap(), x["filled"].as_u64().unwrap(), x["vacant"].as_u64().unwrap());
            assert_eq!(va, a - fl, "{x}");
        }
        assert_eq!(v["items"].as_array().unwrap().len(), 210, "{engine:?}");
        let (_, v, _) = call(&app, &admin, "GET", "/api/v1/establishment?level=province&year=2025", None).await;
        assert_eq!(v["total"]["filled"], 0, "{engine:?}: 2025 counted on its last day, before Dara's posting");
        for bad in ["level=village", "year=3000", "cadre=nurse", "funding=bank", "format=pdf"] {
            let (s, _, _) = call(&app, &admin, "GET", &format!("/api/v1/establishment?{bad}"), None).await;
            assert_eq!(s, 400, "{engine:?}: {bad}");
        }
        let r = Client::new()
            .get(app.url("/api/v1/establishment?level=province&format=csv"))
            .bearer_auth(&admin)
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-encoding"], "gzip", "{engine:?}: as a browser downloads it");
        let mut csv = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&r.bytes().await.unwrap()[..]), &mut csv)
            .unwrap();
        assert!(csv.trim_start_matches('\u{feff}').starts_with("unit,name_en,name_km,year,approved,filled,vacant"));
        assert_eq!(csv.lines().count(), 26, "{engine:?}: a header and 25 provinces");

        // Vacate and end.
        let (s, v, _) = call(&app, &prov, "POST", &format!("{path}/vacate"), Some(json!({}))).await;
        assert_eq!((s, v["holder"].clone()), (200, Value::Null), "{engine:?}");
        let (s, _, _) = call(&app, &prov, "POST", &format!("{path}/end"), Some(json!({"year": 2027}))).await;
        assert_eq!(s, 403, "{engine:?}");
        let (s, v, _) = call(&app, &admin, "POST", &format!("{path}/end"), Some(json!({"year": 2027}))).await;
        assert_eq!((s, v["ended_year"].as_i64()), (200, Some(2027)), "{engine:?}");

        // A plan's posts, approved once.
        let plan = json!({"name": "Battambang", "parent": "02", "start_year": 2026, "target_year": 2027, "posts": 5});
        let (s, v, _) = call(&app, &admin, "POST", "/api/v1/planning/plans", Some(plan)).await;
        assert_eq!(s, 201, "{v}");
        let approve = format!("/api/v1/planning/plans/{}/approve", v["id"]);
        let (s, v, _) = call(&app, &admin, "POST", &approve, Some(json!({"funding": "development_partner"}))).await;
        assert_eq!((s, v["ids"].as_array().map(Vec::len)), (201, Some(5)), "{engine:?}: {v}");
        let (s, v, _) = call(&app, &admin, "POST", &approve, Some(json!({"funding": "development_partner"}))).await;
        assert_eq!((s, v["fields"][0]["code"].as_str()), (422, Some("plan_approved")), "{engine:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn posts_through_the_pages() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let dara = add_worker(&app, "Dara Sok", "0201").await;
        let c = browser();
        login(&app, &c, "admin").await;
        c.get(app.url("/lang/en?next=/")).send().await.unwrap();

        // Approve two posts from the page.
        let page = c.get(app.url("/establishment/posts?unit=0201")).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&page);
        let form = [
            ("csrf", csrf.as_str()),
            ("admin_code", "0201"),
            ("cadre", "para_professional"),
            ("role", "district_social_worker"),
            ("funding", "mosvy_payroll"),
            ("approved_year", "2026"),
            ("count", "2"),
        ];
        let r = c.post(app.url("/establishment/posts")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        // Hostile input: a unit that does not exist (markup in it), a count that is not a number.
        let mut bad = form;
        bad[1].1 = "<script>9999</script>";
        let r = c.post(app.url("/establishment/posts")).form(&bad).send().await.unwrap();
        assert_eq!(r.status(), 422, "{engine:?}");
        let body = r.text().await.unwrap();
        assert!(body.contains("There is no administrative unit with this code."), "{engine:?}");
        assert!(!body.contains("<script>9999"), "{engine:?}: input is escaped");
        bad[1].1 = "0201";
        bad[6].1 = "lots";
        let r = c.post(app.url("/establishment/posts")).form(&bad).send().await.unwrap();
        assert_eq!(r.status(), 422, "{engine:?}");
        let q = komlang_store::establishment::PostQuery {
            unit: Some("0201".into()),
            year: 2026,
            page: 1,
            per_page: 50,
            ..Default::default()
        };
        let stored = app.db.store.posts(&system_principal("t"), &q).await.unwrap().total;
        assert_eq!(stored, 2, "{engine:?}: the refused forms approved nothing");

        let page = c.get(app.url("/establishment/posts?unit=0201")).send().await.unwrap().text().await.unwrap();
        let doc = scraper::Html::parse_document(&page);
        let sel = scraper::Selector::parse("form[action$='/fill']").unwrap();
        let fill_form = doc.select(&sel).next().expect("a fill form for a vacant post");
        let action = fill_form.value().attr("action").unwrap().to_string();
        let version = common::form_fields(&page, &format!("form[action='{action}']"));
        let v = common::field(&version, "record_version").to_string();
        assert!(page.contains("Dara Sok"), "{engine:?}: Dara is a candidate");

        // Someone else changes the post first: the page's version is stale.
        let id: i64 = action.split('/').nth(3).unwrap().parse().unwrap();
        app.db
            .store
            .end_post(
                &system_principal("other"),
                id,
                2030,
                chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
                None,
            )
            .await
            .unwrap();
        let back = "/establishment/posts?unit=0201";
        let send = |version: String| {
            let (c, csrf, url) = (c.clone(), csrf.clone(), app.url(&action));
            async move {
                let form = [
                    ("csrf", csrf),
                    ("record_version", version),
                    ("worker_id", dara.to_string()),
                    ("back", back.to_string()),
                ];
                c.post(url).form(&form).send().await.unwrap()
            }
        };
        let r = send(v.clone()).await;
        assert_eq!(r.status(), 422, "{engine:?}");
        assert!(r.text().await.unwrap().contains("changed this after you opened the page"), "{engine:?}");
        let now: i64 = v.parse::<i64>().unwrap() + 1;
        let r = send(now.to_string()).await;
        assert_eq!(r.status(), 303, "{engine:?}");
        assert_eq!(r.headers()["location"], back, "{engine:?}: back to the list");
        let post = app.db.store.post(&system_principal("t"), id).await.unwrap().unwrap();
        assert_eq!(post.holder.map(|h| h.worker_id), Some(dara), "{engine:?}");

        // A hostile "back" never leads off the site.
        let form = [("csrf", csrf.as_str()), ("back", "https://evil.example/x")];
        let r = c.post(app.url(&format!("/establishment/posts/{id}/vacate"))).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/establishment/posts", "{engine:?}");

        // The summary and the download.
        let page =
            c.get(app.url("/establishment?level=district&parent=02")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("Posts and vacancies") && page.contains("id=\"establishment\""), "{engine:?}");
        let r = c.get(app.url("/establishment/export?format=xlsx&level=province")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().contains("spreadsheetml"));
        app.stop().await;
    }
}
