//! The field app's server side, on every engine: what a device keeps, changes sent from it
//! (saved, refused with the page's field problems, in conflict with what changed meanwhile),
//! a change sent twice made once, the installable site (manifest and service worker), signing
//! out clearing the site's data, and pages light enough for a slow connection.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::{browser, csrf_of, login, TestApp};
use komlang_core::validate::WorkerInput;
use komlang_core::{UserRole, Worker};
use komlang_store::system_principal;
use komlang_store::testing::engines;
use serde_json::{json, Value};

fn today() -> chrono::NaiveDate {
    komlang_web::common::today()
}

async fn add_worker(app: &TestApp, name_latin: &str, workplace: &str) -> Worker {
    let input = WorkerInput {
        name_km: Some("ចាន់ ស្រីមុំ".into()),
        name_latin: Some(name_latin.into()),
        sex: Some("female".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        ..Default::default()
    };
    app.db.store.create_worker(&system_principal("test"), &input, today()).await.unwrap()
}

/// Sends a change as the field app does: JSON with the session's CSRF token in a header.
async fn send(app: &TestApp, c: &reqwest::Client, csrf: &str, change: Value) -> (u16, Value) {
    let r = c
        .post(app.url("/field/changes"))
        .header("x-csrf-token", csrf)
        .header("accept-language", "en")
        .json(&change)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn changes_from_the_field_are_saved_refused_or_shown_in_conflict() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("district", UserRole::DistrictOfficer, Some("0102"), None, None).await;
        let mine = add_worker(&app, "Chan Dara", "010201").await;
        let elsewhere = add_worker(&app, "Keo Sophal", "020101").await;
        let c = browser();
        login(&app, &c, "district").await;
        let page = c.get(app.url("/field")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"field-texts\""), "{engine:?}");
        let csrf = csrf_of(&page);

        // The device keeps the district's workers, not the others.
        let data: Value = c.get(app.url("/field/data")).send().await.unwrap().json().await.unwrap();
        let ids: Vec<i64> = data["workers"].as_array().unwrap().iter().map(|w| w["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, vec![mine.id], "{engine:?}");
        assert_eq!(data["workers"][0]["version"], 1);
        assert_eq!(data["may"]["add_worker"], true);

        // A new worker; sent twice (its answer lost), made once.
        let new = json!({"id": "c-1", "kind": "add_worker", "fields": {"name_km": "សុខ ស្រីនី", "name_latin": "Sok Sreyny",
            "sex": "female", "cadre": "para_social_worker", "role": "ccwc_member", "sector": "government",
            "workplace_code": "010201", "status": "active"}});
        let (s, first) = send(&app, &c, &csrf, new.clone()).await;
        assert_eq!((s, first["state"].as_str()), (200, Some("saved")), "{engine:?}: {first}");
        let (s, again) = send(&app, &c, &csrf, new).await;
        assert_eq!((s, &again), (200, &first), "{engine:?}: the same answer again");
        let total = app.db.store.scope_workers(&system_principal("t"), 100).await.unwrap().0.len();
        assert_eq!(total, 3, "{engine:?}: made once");

        // Refused, with the field problems the pages give; nothing saved.
        let bad = json!({"id": "c-2", "kind": "add_worker", "fields": {"name_km": "x", "name_latin": "Bad Place",
            "sex": "female", "cadre": "para_social_worker", "role": "ccwc_member", "sector": "government",
            "workplace_code": "020101", "status": "active"}});
        let (s, v) = send(&app, &c, &csrf, bad).await;
        assert_eq!((s, v["state"].as_str()), (422, Some("refused")), "{v}");
        assert_eq!(v["errors"][0]["field"], "workplace_code", "{v}");
        assert!(v["errors"][0]["message"].as_str().unwrap().len() > 10, "a sentence, not a code: {v}");
        // Fields the field app does not change are refused by name.
        let (s, v) = send(
            &app,
            &c,
            &csrf,
            json!({"id": "c-3", "kind": "update_worker", "worker_id": mine.id, "version": 1, "fields": {"cadre": "allied_worker"}}),
        )
        .await;
        assert_eq!((s, v["errors"][0]["field"].as_str()), (422, Some("cadre")), "{v}");
        // Out of scope: as if it did not exist.
        let (s, _) = send(
            &app,
            &c,
            &csrf,
            json!({"id": "c-4", "kind": "update_worker", "worker_id": elsewhere.id, "fields": {"phone": "012"}}),
        )
        .await;
        assert_eq!(s, 404);

        // Changed meanwhile by someone else: the conflict, field by field, and nothing saved.
        let theirs = WorkerInput { phone: Some("099 888 777".into()), ..Default::default() };
        let change = komlang_store::WorkerChange::default();
        app.db.store.update_worker(&system_principal("other"), mine.id, &theirs, &change, today(), None).await.unwrap();
        let stale = json!({"id": "c-5", "kind": "update_worker", "worker_id": mine.id, "version": 1,
            "fields": {"phone": "011 222 333", "email": "dara@example.org"}, "base": {"phone": "", "email": ""}});
        let (s, v) = send(&app, &c, &csrf, stale).await;
        assert_eq!((s, v["state"].as_str(), v["version"].as_i64()), (409, Some("conflict"), Some(2)), "{v}");
        let rows = v["changed"].as_array().unwrap();
        let phone = rows.iter().find(|r| r["field"] == "phone").unwrap();
        assert_eq!(
            (phone["theirs"].as_str(), phone["yours"].as_str(), phone["clash"].as_bool()),
            (Some("099 888 777"), Some("011 222 333"), Some(true))
        );
        assert_eq!(v["merged"]["email"], "dara@example.org");
        assert_eq!(v["worker"]["phone"], "099 888 777");
        let stored = app.db.store.get_worker(&system_principal("t"), mine.id).await.unwrap().unwrap();
        assert_eq!(stored.email, None, "{engine:?}: nothing saved");
        // Applied on top, with the version the conflict named.
        let (s, v) = send(
            &app,
            &c,
            &csrf,
            json!({"id": "c-6", "kind": "update_worker", "worker_id": mine.id, "version": 2, "fields": v["merged"].clone()}),
        )
        .await;
        assert_eq!(
            (s, v["worker"]["phone"].as_str(), v["worker"]["version"].as_i64()),
            (200, Some("011 222 333"), Some(3))
        );

        // Without the session's token, nothing is read.
        let r =
            c.post(app.url("/field/changes")).json(&json!({"id": "c-7", "kind": "add_worker"})).send().await.unwrap();
        assert_eq!(r.status(), 403);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_site_installs_and_signing_out_clears_it() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let w = add_worker(&app, "Chan Dara", "010201").await;
        app.account("worker", UserRole::Worker, None, None, Some(w.id)).await;
        let c = browser();
        let manifest: Value = c.get(app.url("/manifest.webmanifest")).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            (manifest["start_url"].as_str(), manifest["display"].as_str()),
            (Some("/field"), Some("standalone"))
        );
        let sw = c.get(app.url("/sw.js")).send().await.unwrap();
        assert_eq!(sw.status(), 200);
        assert!(sw.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
        login(&app, &c, "worker").await;
        let page = c.get(app.url("/about")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("<link rel=\"manifest\" href=\"/manifest.webmanifest\">"), "{engine:?}");
        assert!(page.contains("<script src=\"/static/komlang.js\" defer></script>"));
        let r = c.post(app.url("/logout")).form(&[("csrf", csrf_of(&page))]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["clear-site-data"], "\"cache\", \"storage\"", "{engine:?}");
        app.stop().await;
    }
}

/// What a browser transfers the first time it opens a page, compressed as browsers ask: the
/// page, its style sheet and its scripts.
#[tokio::test]
async fn pages_are_light_on_a_slow_connection() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("district", UserRole::DistrictOfficer, Some("0102"), None, None).await;
        let names = ["Chan", "Keo", "Mao", "Sok", "Nuon", "Lim", "Heng", "Ouk", "Pich", "Seng"];
        for (n, family) in names.iter().enumerate() {
            for given in ["Dara", "Sophal", "Sreymom", "Vanna", "Bopha"] {
                add_worker(
                    &app,
                    &format!("{family} {given} {}", ["A", "B", "C", "D", "E", "F", "G", "H", "I", "J"][n]),
                    "010201",
                )
                .await;
            }
        }
        let c = browser();
        login(&app, &c, "district").await;
        let size = |path: &'static str| {
            let c = c.clone();
            let url = app.url(path);
            async move {
                let r = c.get(url).header("accept-encoding", "gzip").send().await.unwrap();
                assert_eq!(r.status(), 200, "{path}");
                r.bytes().await.unwrap().len()
            }
        };
        let assets = size("/static/app.css").await + size("/static/komlang.js").await;
        for path in ["/", "/workers", "/field", "/training", "/about"] {
            let mut total = size(path).await + assets;
            if path == "/field" {
                total += size("/static/field.js").await + size("/field/data").await;
            }
            assert!(total < 100 * 1024, "{engine:?} {path}: {total} bytes on first load");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a_worker_fills_a_self_assessment_from_the_field() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let w = add_worker(&app, "Chan Dara", "010201").await;
        let other = add_worker(&app, "Keo Sophal", "010201").await;
        let (me, _) = app.account("dara", UserRole::Worker, None, None, Some(w.id)).await;
        let c = browser();
        login(&app, &c, "dara").await;
        let csrf = csrf_of(&c.get(app.url("/field")).send().await.unwrap().text().await.unwrap());
        let data: Value = c.get(app.url("/field/data")).send().await.unwrap().json().await.unwrap();
        assert_eq!(data["me"]["id"], w.id, "{engine:?}");
        assert!(data["workers"].as_array().unwrap().is_empty(), "a worker keeps only their own record");
        let form = &data["self_assessment"];
        let code = form["competencies"][0]["indicators"][0]["code"].as_str().unwrap().to_string();
        let version = form["framework_version"].as_str().unwrap().to_string();
        assert_eq!(data["choices"]["rating"].as_array().unwrap().len(), 4);

        // A rating that is not a number, and a field no self-assessment has: refused by name.
        let (s, v) = send(
            &app,
            &c,
            &csrf,
            json!({"id": "s-1", "kind": "self_assessment", "worker_id": w.id, "fields": {format!("r.{code}"): "x", "kind": "supervisor"}}),
        )
        .await;
        assert_eq!(s, 422, "{v}");
        let mut refused: Vec<&str> =
            v["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        refused.sort_unstable();
        assert_eq!(refused, vec!["kind".to_string(), format!("rating.{code}")]);
        // Someone else's record: as if it did not exist.
        let (s, _) = send(
            &app,
            &c,
            &csrf,
            json!({"id": "s-2", "kind": "self_assessment", "worker_id": other.id, "fields": {format!("r.{code}"): "3"}}),
        )
        .await;
        assert_eq!(s, 404);
        // Saved once, even sent twice.
        let good = json!({"id": "s-3", "kind": "self_assessment", "worker_id": w.id,
            "fields": {"framework_version": version, "assessed_on": today().to_string(), format!("r.{code}"): "3"}});
        let (s, v) = send(&app, &c, &csrf, good.clone()).await;
        assert_eq!((s, v["state"].as_str()), (200, Some("saved")), "{v}");
        assert_eq!(send(&app, &c, &csrf, good.clone()).await.1, v);
        // The kept answers are forgotten after 90 days (the server's hourly sweep); then the id
        // is a new change again.
        assert_eq!(app.db.store.prune_field_change_answers().await.unwrap(), 0);
        sqlx::query("UPDATE field_changes SET at = '2020-01-01T00:00:00Z'").execute(app.db.store.pool()).await.unwrap();
        assert!(app.db.store.prune_field_change_answers().await.unwrap() >= 1);
        assert!(app.db.store.field_change_answer(me.user_id, "s-3").await.unwrap().is_none());
        let list = app.db.store.list_assessments(&me, w.id).await.unwrap();
        assert_eq!(list.len(), 1, "{engine:?}");
        assert_eq!((list[0].kind.code(), list[0].ratings[0].rating.value()), ("self", 3));
        app.stop().await;
    }
}
