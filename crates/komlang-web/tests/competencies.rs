//! The competency framework and assessments over HTTP, on every engine: the framework
//! contract, refusals with their messages, who sees what, exports, and the pages' forms.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use std::collections::BTreeSet;

use common::{browser, csrf_of, login, TestApp};
use komlang_core::competency::{bundled, AssessmentInput, RatingInput};
use komlang_core::validate::WorkerInput;
use komlang_core::UserRole;
use komlang_store::system_principal;
use komlang_store::testing::engines;
use reqwest::Client;
use serde_json::{json, Value};

fn today() -> chrono::NaiveDate {
    komlang_web::common::today()
}

fn worker(name_latin: &str, workplace: &str) -> WorkerInput {
    WorkerInput {
        name_km: Some("សុខ ដារ៉ា".into()),
        name_latin: Some(name_latin.into()),
        sex: Some("female".into()),
        date_of_birth: Some("1990-05-06".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some("2020-01-06".into()),
        ..Default::default()
    }
}

async fn get(c: &Client, app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    let r = c.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn post(c: &Client, app: &TestApp, token: &str, path: &str, body: &Value, lang: &str) -> (u16, Value) {
    let r = c.post(app.url(path)).bearer_auth(token).header("accept-language", lang).json(body).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    k.sort();
    k
}

#[tokio::test]
async fn the_current_framework_answers_the_contract_exactly() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, token) = app.account("viewer", UserRole::NationalViewer, None, None, None).await;
        let c = Client::new();
        let (s, v) = get(&c, &app, &token, "/api/v1/competency-frameworks/current").await;
        assert_eq!(s, 200, "{engine:?}");
        assert_eq!(keys(&v), ["areas", "version"]);
        assert_eq!(v["version"], "mosvy-2019");
        let areas = v["areas"].as_array().unwrap();
        assert_eq!(
            areas.iter().map(|a| a["code"].as_str().unwrap()).collect::<Vec<_>>(),
            ["values", "knowledge", "skills"]
        );
        let (mut competencies, mut indicators) = (0, 0);
        let mut groups = BTreeSet::new();
        for a in areas {
            assert_eq!(keys(a), ["code", "competencies", "name_en", "name_km"]);
            for comp in a["competencies"].as_array().unwrap() {
                assert_eq!(keys(comp), ["code", "group", "indicators", "name_en", "name_km"]);
                let group = comp["group"].as_str().unwrap();
                assert_eq!(group.is_empty(), a["code"] != "knowledge", "{}", comp["code"]);
                groups.insert(group.to_string());
                competencies += 1;
                for i in comp["indicators"].as_array().unwrap() {
                    assert_eq!(keys(i), ["code", "text_en", "text_km"]);
                    assert!(!i["text_km"].as_str().unwrap().is_empty());
                    indicators += 1;
                }
            }
        }
        assert_eq!((competencies, indicators), (56, 285), "{engine:?}");
        assert_eq!(
            groups.into_iter().collect::<Vec<_>>(),
            ["", "international_conventions", "national_laws", "national_policies", "practice_models", "theories"]
        );
        // The same as the shipped file (read as plain JSON, not by the parser in use), and as
        // the version asked by name.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/competency-framework/mosvy-2019.json");
        let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert!(v == json!({"version": file["version"], "areas": file["areas"]}), "{engine:?}: not the file's texts");
        let (s, named) = get(&c, &app, &token, "/api/v1/competency-frameworks/mosvy-2019").await;
        assert_eq!((s, &named), (200, &v));
        // The OpenAPI document describes it.
        let doc: Value = c.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
        for path in [
            "/api/v1/competency-frameworks/current",
            "/api/v1/workers/{id}/assessments",
            "/api/v1/competency/gaps",
            "/api/v1/competency/export",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing from the OpenAPI document");
        }
        assert!(doc["components"]["schemas"]["FrameworkDoc"].is_object());
        app.stop().await;
    }
}

#[tokio::test]
async fn a_revised_framework_becomes_current_and_old_assessments_keep_theirs() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = &app.db.store;
        let admin = system_principal("test");
        let (_, token) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let w = store.create_worker(&admin, &worker("Sok Dara", "010201"), today()).await.unwrap();
        let c = Client::new();
        let body = json!({"kind": "supervisor", "assessed_on": today().to_string(),
            "ratings": [{"indicator_code": "values.11.1", "rating": 3, "evidence": "seen at a case conference"}]});
        let (s, old) = post(&c, &app, &token, &format!("/api/v1/workers/{}/assessments", w.id), &body, "en").await;
        assert_eq!(s, 201, "{engine:?}: {old}");
        assert_eq!(old["framework_version"], "mosvy-2019");
        assert_eq!(old["ratings"][0]["evidence"], "seen at a case conference");

        let mut revised = bundled();
        revised.version = "mosvy-2027".into();
        revised.areas[0].competencies.retain(|c| c.code != "values.11");
        store.load_competency_framework(&admin, &revised).await.unwrap();
        let (_, v) = get(&c, &app, &token, "/api/v1/competency-frameworks/current").await;
        assert_eq!(v["version"], "mosvy-2027");
        let (_, list) = get(&c, &app, &token, "/api/v1/competency-frameworks").await;
        let versions: Vec<(&str, bool)> =
            list.as_array().unwrap().iter().map(|v| (v["version"].as_str().unwrap(), v["current"] == true)).collect();
        assert_eq!(versions, [("mosvy-2027", true), ("mosvy-2019", false)]);
        // The old assessment still points to its version, which can still be read.
        let (s, again) = get(&c, &app, &token, &format!("/api/v1/assessments/{}", old["id"])).await;
        assert_eq!((s, &again["framework_version"], &again["ratings"]), (200, &json!("mosvy-2019"), &old["ratings"]));
        let (s, _) = get(&c, &app, &token, "/api/v1/competency-frameworks/mosvy-2019").await;
        assert_eq!(s, 200);
        // Its indicator is now one of another version.
        let (s, v) = post(&c, &app, &token, &format!("/api/v1/workers/{}/assessments", w.id), &body, "en").await;
        assert_eq!(s, 422);
        assert_eq!(v["fields"][0]["field"], "rating.values.11.1");
        assert_eq!(v["fields"][0]["message"], "Indicator values.11.1 is not in framework version mosvy-2027.");
        // The old version's gap table still answers.
        let (s, g) = get(&c, &app, &token, "/api/v1/competency/gaps?version=mosvy-2019").await;
        assert_eq!((s, g["workers_assessed"].as_i64()), (200, Some(1)));
        let (s, _) = get(&c, &app, &token, "/api/v1/competency/gaps?version=nope").await;
        assert_eq!(s, 404);
        app.stop().await;
    }
}

#[tokio::test]
async fn refusals_name_the_field_in_the_callers_language() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = &app.db.store;
        let admin = system_principal("test");
        let w = store.create_worker(&admin, &worker("Sok Dara", "010201"), today()).await.unwrap();
        let other = store.create_worker(&admin, &worker("Chan Sophea", "020101"), today()).await.unwrap();
        let (_, prov) = app.account("prov01", UserRole::ProvincialOfficer, Some("01"), None, None).await;
        let (_, me) = app.account("worker-sok", UserRole::Worker, None, None, Some(w.id)).await;
        let c = Client::new();
        let path = format!("/api/v1/workers/{}/assessments", w.id);
        let tomorrow = (today() + chrono::Days::new(1)).to_string();
        let bad = json!({"kind": "supervisor", "assessed_on": tomorrow, "ratings": [
            {"indicator_code": "values.01.1", "rating": 5},
            {"indicator_code": "values.99.1", "rating": 2}]});
        let (s, v) = post(&c, &app, &prov, &path, &bad, "en").await;
        assert_eq!(s, 422, "{engine:?}: {v}");
        let messages: Vec<(String, String)> = v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["field"].as_str().unwrap().to_string(), e["message"].as_str().unwrap().to_string()))
            .collect();
        assert_eq!(
            messages,
            [
                ("assessed_on".to_string(), "This date is in the future.".to_string()),
                ("rating.values.01.1".to_string(), "5 is outside the rating scale: choose from 1 to 4.".to_string()),
                (
                    "rating.values.99.1".to_string(),
                    "Indicator values.99.1 is not in framework version mosvy-2019.".to_string()
                ),
            ]
        );
        // In Khmer.
        let (_, v) = post(&c, &app, &prov, &path, &bad, "km").await;
        let km = v["fields"][1]["message"].as_str().unwrap();
        assert!(km.contains("មាត្រដ្ឋាន") && km.contains('5'), "{km}");
        // A worker outside the scope: 404, as a missing one.
        let (s, v) = post(&c, &app, &prov, &format!("/api/v1/workers/{}/assessments", other.id), &bad, "en").await;
        assert_eq!((s, v["error"].as_str()), (404, Some("not_found")));
        // The worker records their own self-assessment only.
        let sup = json!({"kind": "supervisor", "assessed_on": today().to_string(), "ratings": [{"indicator_code": "values.01.1", "rating": 3}]});
        let (s, v) = post(&c, &app, &me, &path, &sup, "en").await;
        assert_eq!((s, v["fields"][0]["code"].as_str()), (422, Some("kind_not_allowed")));
        let own = json!({"kind": "self", "assessed_on": today().to_string(), "ratings": [{"indicator_code": "values.01.1", "rating": 3}]});
        let (s, v) = post(&c, &app, &me, &path, &own, "en").await;
        assert_eq!((s, v["kind"].as_str(), v["assessor"].as_str()), (201, Some("self"), Some("worker-sok")));
        // Malformed bodies: 400.
        let (s, _) = post(
            &c,
            &app,
            &prov,
            &path,
            &json!({"kind": "supervisor", "ratings": [{"indicator_code": "x", "rating": "3"}]}),
            "en",
        )
        .await;
        assert_eq!(s, 400);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_supervisor_sees_and_records_and_exports_hold_only_what_the_caller_sees() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = &app.db.store;
        let admin = system_principal("test");
        let w = store.create_worker(&admin, &worker("Sok Dara", "010201"), today()).await.unwrap();
        let other = store.create_worker(&admin, &worker("Chan Sophea", "020101"), today()).await.unwrap();
        let (_, admin_token) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let (_, sup) = app.account("prov02", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        let c = Client::new();
        let ratings = |v: i64| -> Vec<RatingInput> {
            ["values.01.1", "values.01.2", "skills.01.1"]
                .iter()
                .map(|code| RatingInput { indicator_code: code.to_string(), rating: v, evidence: None })
                .collect()
        };
        for (id, v) in [(w.id, 1), (other.id, 4)] {
            let input = AssessmentInput {
                kind: Some("supervisor".into()),
                assessed_on: Some(today().to_string()),
                ratings: ratings(v),
                ..Default::default()
            };
            store.create_assessment(&admin, id, &input, today()).await.unwrap();
        }
        let wpath = format!("/api/v1/workers/{}/assessments", w.id);
        let (s, _) = get(&c, &app, &sup, &wpath).await;
        assert_eq!(s, 404, "{engine:?}: not yet the supervisor");

        // The supervisor is set on the worker page by someone responsible for the worker.
        let b = browser();
        login(&app, &b, "admin").await;
        b.get(app.url("/lang/en?next=/")).send().await.unwrap();
        let page = b.get(app.url(&format!("/workers/{}", w.id))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"supervisor-form\""));
        let r = b
            .post(app.url(&format!("/workers/{}/supervisor", w.id)))
            .form(&[("csrf", csrf_of(&page)), ("supervisor", "nobody".into())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.text().await.unwrap().contains("There is no active account named"));
        let r = b
            .post(app.url(&format!("/workers/{}/supervisor", w.id)))
            .form(&[("csrf", csrf_of(&page)), ("supervisor", "prov02".into())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let page = b.get(app.url(&format!("/workers/{}", w.id))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("id=\"worker-supervisor\">prov02<"), "{engine:?}");

        let (s, list) = get(&c, &app, &sup, &wpath).await;
        assert_eq!((s, list.as_array().map(|a| a.len())), (200, Some(1)));
        let (s, _) = get(&c, &app, &sup, &format!("/api/v1/workers/{}", w.id)).await;
        assert_eq!(s, 404, "the supervisor does not see the worker's record");
        let body = json!({"kind": "supervisor", "assessed_on": today().to_string(), "ratings": [{"indicator_code": "values.01.1", "rating": 2}]});
        let (s, _) = post(&c, &app, &sup, &wpath, &body, "en").await;
        assert_eq!(s, 201);
        // Their scope (province 02) holds the other worker; their team holds the supervised one.
        let (_, scope) = get(&c, &app, &sup, "/api/v1/competency/gaps").await;
        let (_, team) = get(&c, &app, &sup, "/api/v1/competency/gaps?team=true").await;
        assert_eq!((scope["workers_assessed"].as_i64(), team["workers_assessed"].as_i64()), (Some(1), Some(1)));
        let export = |q: &str| {
            let (c, app, sup) = (c.clone(), &app, sup.clone());
            let url = app.url(&format!("/api/v1/competency/export?{q}"));
            async move { c.get(url).bearer_auth(sup).send().await.unwrap().bytes().await.unwrap() }
        };
        let csv = String::from_utf8(export("table=assessments&format=csv").await.to_vec()).unwrap();
        assert!(csv.contains("Chan Sophea") && !csv.contains("Sok Dara"), "{csv}");
        let csv = String::from_utf8(export("table=assessments&team=true").await.to_vec()).unwrap();
        assert!(csv.contains("Sok Dara") && !csv.contains("Chan Sophea"));
        assert_eq!(csv.lines().count(), 1 + 3 + 1, "header, 3 ratings of the admin's, 1 of the supervisor's");

        // The gap table export equals the API's table.
        let (_, report) = get(&c, &app, &admin_token, "/api/v1/competency/gaps").await;
        for format in ["csv", "xlsx"] {
            let r = c
                .get(app.url(&format!("/api/v1/competency/export?table=gaps&format={format}")))
                .bearer_auth(&admin_token)
                .send()
                .await
                .unwrap();
            let t = komlang_web::imports::read_table(&format!("g.{format}"), &r.bytes().await.unwrap(), None).unwrap();
            let col = |h: &str| t.headers.iter().position(|x| x == h).unwrap();
            assert_eq!(t.rows.len(), 56);
            for ((_, row), cell) in t.rows.iter().zip(report["cells"].as_array().unwrap()) {
                assert_eq!(row[col("competency_code")], cell["competency_code"].as_str().unwrap());
                assert_eq!(row[col("workers_assessed")], cell["assessed"].to_string());
                assert_eq!(row[col("below_required")], cell["below_required"].to_string());
            }
        }
        let r = c
            .get(app.url("/api/v1/competency/export?table=training-needs&format=csv"))
            .bearer_auth(&admin_token)
            .send()
            .await
            .unwrap();
        let t = komlang_web::imports::read_table("n.csv", &r.bytes().await.unwrap(), None).unwrap();
        let (_, needs) = get(&c, &app, &admin_token, "/api/v1/competency/training-needs").await;
        assert_eq!(t.rows.len(), needs["items"].as_array().unwrap().len());
        assert!(!t.rows.is_empty(), "W is below the required levels");

        // Removing the supervisor ends their access.
        store.set_worker_supervisor(&admin, w.id, None).await.unwrap();
        let (s, _) = get(&c, &app, &sup, &wpath).await;
        assert_eq!(s, 404);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_assessment_form_records_a_subset_and_shows_each_problem_at_its_indicator() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = &app.db.store;
        let admin = system_principal("test");
        let w = store.create_worker(&admin, &worker("Sok Dara", "010201"), today()).await.unwrap();
        app.account("worker-sok", UserRole::Worker, None, None, Some(w.id)).await;
        let b = browser();
        login(&app, &b, "worker-sok").await;
        b.get(app.url("/lang/en?next=/")).send().await.unwrap();
        let form_path = format!("/workers/{}/assessments/new", w.id);
        let page = b.get(app.url(&form_path)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("name=\"r.values.01.1\"") && page.contains("name=\"e.skills.10.6\""), "{engine:?}");
        // A worker records self-assessments only: the only kind offered.
        assert!(page.contains("<option value=\"self\" selected>") && !page.contains("value=\"supervisor\""));
        let csrf = csrf_of(&page);
        let post = |form: Vec<(&'static str, String)>| {
            let (b, url) = (b.clone(), app.url(&format!("/workers/{}/assessments", w.id)));
            async move { b.post(url).form(&form).send().await.unwrap() }
        };
        let tomorrow = (today() + chrono::Days::new(1)).to_string();
        let r = post(vec![
            ("csrf", csrf.clone()),
            ("version", "mosvy-2019".into()),
            ("kind", "self".into()),
            ("assessed_on", tomorrow),
            ("r.values.01.1", "9".into()),
            ("e.values.01.2", "a note without a rating".into()),
            ("r.skills.01.1", "3".into()),
        ])
        .await;
        assert_eq!(r.status(), 422);
        let body = r.text().await.unwrap();
        for (id, text) in [
            ("e-assessed_on", "This date is in the future."),
            ("e-values.01.1", "9 is outside the rating scale: choose from 1 to 4."),
            ("e-values.01.2", "Choose a rating for this indicator, or clear its evidence."),
        ] {
            assert!(body.contains(&format!("id=\"{id}\">{text}<")), "{engine:?}: no {id}: {text}");
        }
        // What was entered is kept.
        assert!(body.contains("value=\"a note without a rating\""));
        assert_eq!(store.list_assessments(&admin, w.id).await.unwrap().len(), 0);
        let r = post(vec![
            ("csrf", csrf.clone()),
            ("version", "mosvy-2019".into()),
            ("kind", "self".into()),
            ("assessed_on", today().to_string()),
            ("r.values.01.1", "4".into()),
            ("e.values.01.1", "I explain confidentiality to every family".into()),
            ("r.skills.01.1", "3".into()),
            ("r.skills.01.2", "".into()),
        ])
        .await;
        assert_eq!(r.status(), 303);
        let to = r.headers()["location"].to_str().unwrap().to_string();
        let view = b.get(app.url(&to)).send().await.unwrap().text().await.unwrap();
        assert!(view.contains("I explain confidentiality to every family") && view.contains("4 · Advanced"));
        let stored = store.list_assessments(&admin, w.id).await.unwrap();
        assert_eq!(stored[0].ratings.len(), 2);
        // The worker's pages: the list, the gaps (in Khmer too).
        let list =
            b.get(app.url(&format!("/workers/{}/assessments", w.id))).send().await.unwrap().text().await.unwrap();
        assert!(list.contains(&to));
        b.get(app.url("/lang/km?next=/")).send().await.unwrap();
        let gaps = b.get(app.url(&format!("/workers/{}/competency-gaps", w.id))).send().await.unwrap();
        assert_eq!(gaps.status(), 200);
        let gaps = gaps.text().await.unwrap();
        assert!(gaps.contains("គម្លាតសមត្ថភាព") && gaps.contains("សេចក្ដីថ្លៃថ្នូរ"), "{engine:?}: the Khmer page");
        app.stop().await;
    }
}
