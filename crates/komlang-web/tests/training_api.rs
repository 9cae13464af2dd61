//! Training, certification and licensing through the JSON API, on every engine: credits by the
//! credit rule in the transcript, refusals naming the field, scope, certificates with their
//! public verification, the licence life cycle with expiry and renewal, the public register,
//! exports and the OpenAPI document.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use chrono::{Days, NaiveDate};
use common::TestApp;
use komlang_core::validate::WorkerInput;
use komlang_core::{UserRole, Worker};
use komlang_store::system_principal;
use komlang_store::testing::engines;
use reqwest::{Client, Method};
use serde_json::{json, Value};

fn today() -> NaiveDate {
    komlang_web::common::today()
}

fn day(offset: i64) -> String {
    let d = if offset >= 0 { today() + Days::new(offset as u64) } else { today() - Days::new(offset.unsigned_abs()) };
    d.to_string()
}

async fn add_worker(app: &TestApp, name_latin: &str, workplace: &str) -> Worker {
    let input = WorkerInput {
        name_km: Some("ចាន់ ស្រីមុំ".into()),
        name_latin: Some(name_latin.into()),
        sex: Some("female".into()),
        date_of_birth: Some("1988-02-03".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some("2019-01-15".into()),
        ..Default::default()
    };
    app.db.store.create_worker(&system_principal("test"), &input, today()).await.unwrap()
}

/// Calls the API; `token` None calls without one. Answers the status and the JSON body (Null
/// when there is none).
async fn call(app: &TestApp, method: Method, token: Option<&str>, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = Client::new().request(method, app.url(path)).header("accept-language", "en");
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    call(app, Method::GET, Some(token), path, None).await
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    call(app, Method::POST, Some(token), path, Some(body)).await
}

async fn put(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    call(app, Method::PUT, Some(token), path, Some(body)).await
}

/// `(field, code)` of each entry of a validation answer.
fn fields(v: &Value) -> Vec<(String, String)> {
    v["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| (f["field"].as_str().unwrap_or("").to_string(), f["code"].as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.into(), b.into())
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// A programme of 5 credits and a module of it of 30 h teaching + 45 h workshop + 90 h field.
async fn programme_and_module(app: &TestApp, admin: &str) -> (i64, i64) {
    let (s, insts) = get(app, admin, "/api/v1/training/institutions").await;
    assert_eq!(s, 200);
    let nisa = insts.as_array().unwrap().iter().find(|i| i["code"] == "NISA").map(id).unwrap();
    let (s, prog) = post(
        app,
        admin,
        "/api/v1/training/programmes",
        json!({"code": "t-cp", "title_en": "Child protection basics", "title_km": "មូលដ្ឋានគ្រឹះកិច្ចការពារកុមារ",
               "level": "allied_certificate", "institution_id": nisa, "credits_required": 5}),
    )
    .await;
    assert_eq!(s, 201, "{prog}");
    assert_eq!((prog["code"].as_str(), prog["credits_required"].as_i64()), (Some("T-CP"), Some(5)));
    let (s, module) = post(
        app,
        admin,
        "/api/v1/training/courses",
        json!({"code": "T-CP-1", "title_en": "Case management", "programme_id": id(&prog),
               "hours": {"teaching": 30, "lab": 45, "field": 90}, "competencies": ["values.01"]}),
    )
    .await;
    assert_eq!(s, 201, "{module}");
    assert_eq!(module["credits"], 5.5);
    // Changing the programme: a bad level is refused naming it; the change is kept as sent.
    let path = format!("/api/v1/training/programmes/{}", id(&prog));
    let mut change = json!({"code": "T-CP", "title_en": "Child protection basics (revised)",
        "title_km": "មូលដ្ឋានគ្រឹះកិច្ចការពារកុមារ", "level": "phd", "institution_id": nisa, "credits_required": 5});
    let (s, v) = put(app, admin, &path, change.clone()).await;
    assert_eq!((s, fields(&v)), (422, vec![("level".to_string(), "invalid_choice".to_string())]), "{v}");
    change["level"] = json!("allied_certificate");
    let (s, v) = put(app, admin, &path, change.clone()).await;
    assert_eq!((s, v["title_en"].as_str()), (200, Some("Child protection basics (revised)")), "{v}");
    change["title_en"] = json!("Child protection basics");
    let (s, _) = put(app, admin, &path, change).await;
    assert_eq!(s, 200);
    let (s, v) = get(app, admin, &format!("/api/v1/training/courses/{}", id(&module))).await;
    assert_eq!((s, v["code"].as_str()), (200, Some("T-CP-1")));
    (id(&prog), id(&module))
}

#[tokio::test]
async fn training_certificates_and_licences_end_to_end() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let (_, pp) = app.account("pp-officer", UserRole::ProvincialOfficer, Some("12"), None, None).await;
        let (_, viewer) = app.account("viewer", UserRole::NationalViewer, None, None, None).await;
        let w1 = add_worker(&app, "Chan Sreymom", "020101").await;
        let w2 = add_worker(&app, "Keo Sophal", "020102").await;
        let w3 = add_worker(&app, "Mao Dara", "020103").await;
        let (prog, module) = programme_and_module(&app, &admin).await;

        // The programme with its module.
        let (s, detail) = get(&app, &viewer, &format!("/api/v1/training/programmes/{prog}")).await;
        assert_eq!(s, 200);
        assert_eq!(detail["programme"]["modules"], 1);
        assert_eq!(detail["modules"][0]["id"], module);
        assert_eq!(get(&app, &viewer, "/api/v1/training/programmes/999999").await.0, 404);
        let (_, mods) = get(&app, &viewer, &format!("/api/v1/training/courses?programme_id={prog}")).await;
        assert_eq!(mods.as_array().unwrap().len(), 1);
        let (s, single) = post(
            &app,
            &admin,
            "/api/v1/training/courses",
            json!({"code": "CE-REC", "title_en": "Record keeping", "hours": {"teaching": 6}}),
        )
        .await;
        assert_eq!(s, 201, "{single}");
        let (_, alone) = get(&app, &viewer, "/api/v1/training/courses?standalone=true").await;
        let alone = alone.as_array().unwrap();
        assert!(alone.iter().any(|c| c["id"] == single["id"]), "{alone:?}");
        assert!(alone.iter().all(|c| c["programme_id"].is_null() && c["id"] != module), "{alone:?}");
        assert_eq!(get(&app, &viewer, "/api/v1/training/courses?programme_id=x").await.0, 400);

        // An event in Battambang, ended three weeks ago.
        let event = json!({"course_id": module, "starts_on": day(-25), "ends_on": day(-21), "place_code": "02",
                           "venue": "DoSVY hall", "trainers": "NISA"});
        let (s, ev) = post(&app, &admin, "/api/v1/training/events", event.clone()).await;
        assert_eq!(s, 201, "{ev}");
        let ev = id(&ev);
        let base = format!("/api/v1/training/events/{ev}");

        // Ending before it starts; hours below zero.
        let mut bad = event.clone();
        bad["ends_on"] = json!(day(-26));
        let (s, v) = post(&app, &admin, "/api/v1/training/events", bad).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("ends_on", "ends_before_start")]), "{engine:?}");
        let mut bad = event.clone();
        bad["hours"] = json!({"teaching": -3});
        let (s, v) = post(&app, &admin, "/api/v1/training/events", bad).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("hours.teaching", "negative_hours")]));

        // Participants: registered workers only.
        let (s, v) = post(&app, &admin, &format!("{base}/participants"), json!({"worker_ids": [w1.id, 999_999]})).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("worker_ids", "not_in_registry")]));
        assert!(v["fields"][0]["message"].as_str().unwrap().contains("999999"), "{v}");
        let (s, v) = post(&app, &admin, &format!("{base}/participants"), json!({"worker_ids": [w1.id, w2.id]})).await;
        assert_eq!((s, &v), (201, &json!({"added": 2})));
        let (s, v) = post(&app, &admin, &format!("{base}/participants"), json!({"worker_ids": [w1.id]})).await;
        assert_eq!((s, &v), (201, &json!({"added": 0})), "already there");
        assert_eq!(post(&app, &admin, &format!("{base}/participants"), json!({"ids": [1]})).await.0, 400);

        // Attendance: negative hours refused by field; mixed hours give 5.5 credits.
        let att = format!("{base}/participants/{}", w1.id);
        let (s, v) = put(&app, &admin, &att, json!({"result": "passed", "hours": {"teaching": -1}})).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("hours.teaching", "negative_hours")]));
        let (s, v) =
            put(&app, &admin, &att, json!({"result": "passed", "hours": {"teaching": 30, "lab": 45, "field": 90}}))
                .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["credits"], 5.5);
        let (s, v) = put(&app, &admin, &format!("{base}/participants/{}", w2.id), json!({"result": "passed"})).await;
        assert_eq!((s, &v["credits"]), (200, &json!(5.5)), "a pass without hours takes the event's");
        let (s, parts) = get(&app, &admin, &format!("{base}/participants")).await;
        assert_eq!((s, parts.as_array().unwrap().len()), (200, 2));
        let (_, e) = get(&app, &admin, &base).await;
        assert_eq!((e["participants"].as_i64(), e["passed"].as_i64()), (Some(2), Some(2)));

        // The transcript: the training with its hours by type and credits, and the total.
        let (s, t) = get(&app, &admin, &format!("/api/v1/workers/{}/transcript", w1.id)).await;
        assert_eq!(s, 200, "{t}");
        let tr = &t["trainings"][0];
        assert_eq!(tr["hours"], json!({"teaching": 30.0, "lab": 45.0, "field": 90.0}));
        assert_eq!((tr["credits"].as_f64(), t["total_credits"].as_f64()), (Some(5.5), Some(5.5)));
        assert_eq!(t["certificates"], json!([]));
        let p = t["progress"].as_array().unwrap().iter().find(|p| p["programme_id"] == prog).unwrap();
        assert_eq!(p["eligible"], true);

        // A provincial officer of Phnom Penh neither sees the Battambang event nor adds its workers.
        assert_eq!(get(&app, &pp, &base).await.0, 404);
        assert_eq!(get(&app, &pp, &format!("{base}/participants")).await.0, 404);
        let mut own = event.clone();
        own["place_code"] = json!("12");
        let (s, v) = post(&app, &pp, "/api/v1/training/events", own).await;
        assert_eq!(s, 201, "{v}");
        let pp_ev = id(&v);
        let (s, v) =
            post(&app, &pp, &format!("/api/v1/training/events/{pp_ev}/participants"), json!({"worker_ids": [w1.id]}))
                .await;
        assert_eq!((s, fields(&v)), (422, vec![pair("worker_ids", "not_in_registry")]));
        let (s, v) = post(&app, &pp, "/api/v1/training/events", event.clone()).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("place_code", "outside_scope")]));
        let (_, list) = get(&app, &pp, "/api/v1/training/events").await;
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["id"], pp_ev);
        let (_, list) = get(&app, &admin, "/api/v1/training/events?place=02").await;
        assert_eq!(list["total"], 1);
        assert_eq!(get(&app, &admin, "/api/v1/training/events?from=yesterday").await.0, 400);

        // Certificates: not eligible → 422 with have and need; eligible → a number, in the transcript.
        let (s, v) =
            post(&app, &admin, &format!("/api/v1/workers/{}/certificates", w3.id), json!({"programme_id": prog})).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("programme_id", "not_eligible")]));
        assert_eq!(v["fields"][0]["params"], json!({"have": "0", "need": "5"}));
        assert_eq!(v["fields"][0]["message"], "Not eligible: 0 of the 5 credits required.");
        let cert = |w: i64| format!("/api/v1/workers/{w}/certificates");
        let (s, v) = post(&app, &viewer, &cert(w1.id), json!({"programme_id": prog})).await;
        assert_eq!(s, 403, "{v}");
        let (s, c1) = post(&app, &admin, &cert(w1.id), json!({"programme_id": prog})).await;
        assert_eq!(s, 201, "{c1}");
        let n1 = c1["number"].as_str().unwrap().to_string();
        assert!(n1.starts_with("C-") && n1.len() == "C-XXXX-XXXX-XXXX-K".len(), "{n1}");
        let (s, c2) = post(&app, &admin, &cert(w2.id), json!({"programme_id": prog})).await;
        assert_eq!(s, 201, "{c2}");
        let n2 = c2["number"].as_str().unwrap().to_string();
        assert_ne!(n1, n2);
        let (s, v) = post(&app, &admin, &cert(w1.id), json!({"programme_id": prog})).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("programme_id", "already_certified")]));
        let (_, t) = get(&app, &admin, &format!("/api/v1/workers/{}/transcript", w1.id)).await;
        assert_eq!(t["certificates"][0]["number"], n1.as_str());
        let (_, list) = get(&app, &viewer, &cert(w1.id)).await;
        assert_eq!(list[0]["number"], n1.as_str());

        // Public verification, without a token.
        let (s, v) = call(&app, Method::GET, None, &format!("/api/v1/public/certificates/{n1}"), None).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!((v["valid"].as_bool(), v["holder_name_latin"].as_str()), (Some(true), Some("Chan Sreymom")));
        assert_eq!(v["programme_title_en"], "Child protection basics");
        assert!(v.get("worker_id").is_none() && v.get("id").is_none(), "the holder's name only: {v}");
        let lower = n1.to_lowercase();
        assert_eq!(call(&app, Method::GET, None, &format!("/api/v1/public/certificates/{lower}"), None).await.0, 200);
        for unknown in ["C-0000-0000-0000-0", "nonsense"] {
            let (s, v) = call(&app, Method::GET, None, &format!("/api/v1/public/certificates/{unknown}"), None).await;
            assert_eq!((s, v["error"].as_str()), (404, Some("not_found")), "{unknown}");
        }

        // Revocation: a reason is required; then the certificate is no longer valid.
        let revoke = format!("/api/v1/certificates/{n2}/revoke");
        let (s, v) = post(&app, &admin, &revoke, json!({})).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("reason", "reason_required")]));
        assert_eq!(post(&app, &pp, &revoke, json!({"reason": "x"})).await.0, 404, "not the officer's worker");
        let (s, v) = post(&app, &admin, &revoke, json!({"reason": "issued in error"})).await;
        assert_eq!((s, &v["valid"]), (200, &json!(false)), "{v}");
        let (s, v) = call(&app, Method::GET, None, &format!("/api/v1/public/certificates/{n2}"), None).await;
        assert_eq!((s, &v["valid"]), (200, &json!(false)));
        assert!(v["revoked_on"].is_string());

        // Licence: apply → approve.
        let (s, v) = post(&app, &admin, &format!("/api/v1/workers/{}/licences", w3.id), json!({})).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("worker_id", "no_qualification")]));
        let (s, v) = post(&app, &viewer, &format!("/api/v1/workers/{}/licences", w1.id), json!({})).await;
        assert_eq!(s, 403, "{v}");
        let (s, lic) =
            post(&app, &admin, &format!("/api/v1/workers/{}/licences", w1.id), json!({"note": "first licence"})).await;
        assert_eq!(s, 201, "{lic}");
        assert_eq!((lic["status"].as_str(), lic["number"].as_str()), (Some("applied"), None));
        let lid = id(&lic);
        let (s, v) =
            post(&app, &admin, &format!("/api/v1/licences/{lid}/decision"), json!({"action": "suspend"})).await;
        assert_eq!(s, 422, "{v}");
        let (s, lic) =
            post(&app, &admin, &format!("/api/v1/licences/{lid}/decision"), json!({"action": "approve"})).await;
        assert_eq!((s, lic["status"].as_str()), (200, Some("active")), "{lic}");
        let number = lic["number"].as_str().unwrap().to_string();
        assert!(number.starts_with("L-"), "{number}");
        let expires = lic["expires_on"].as_str().unwrap().to_string();
        let days = lic["days_to_expiry"].as_i64().unwrap();
        assert!(days > 300, "{lic}");

        // In the expiring list only when the window reaches the expiry.
        let (s, page) = get(&app, &viewer, &format!("/api/v1/licences?expiring_within_days={days}")).await;
        assert_eq!(s, 200, "{page}");
        assert_eq!((page["total"].as_i64(), page["page"].as_i64()), (Some(1), Some(1)));
        assert_eq!(page["items"][0]["number"], number.as_str());
        assert_eq!(page["items"][0]["worker"]["id"], w1.id);
        let (_, page) = get(&app, &viewer, &format!("/api/v1/licences?expiring_within_days={}", days - 1)).await;
        assert_eq!(page["total"], 0);
        assert_eq!(get(&app, &viewer, "/api/v1/licences?expiring_within_days=-1").await.0, 400);
        assert_eq!(get(&app, &viewer, "/api/v1/licences?expiring_within_days=soon").await.0, 400);
        assert_eq!(get(&app, &viewer, "/api/v1/licences?status=valid").await.0, 400);
        let (_, page) = get(&app, &pp, "/api/v1/licences").await;
        assert_eq!(page["total"], 0, "outside the officer's scope");
        assert_eq!(get(&app, &pp, &format!("/api/v1/licences/{lid}")).await.0, 404);

        // Renewal without continuing education in the term → 422 with have and need.
        let (s, v) = post(&app, &admin, &format!("/api/v1/licences/{lid}/renew"), json!({})).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("ce_hours", "insufficient_ce_hours")]), "{v}");
        assert_eq!(v["fields"][0]["params"], json!({"have": "0", "need": "30"}));
        assert_eq!(
            v["fields"][0]["message"],
            "Not renewed: 0 hours of continuing education in this term, 30 required."
        );
        // 30 hours of continuing education ending today, passed: renewed from the expiry.
        let (s, ce) = post(
            &app,
            &admin,
            "/api/v1/training/courses",
            json!({"code": "CE-ETHICS", "title_en": "Ethics refresher", "hours": {"teaching": 30}}),
        )
        .await;
        assert_eq!(s, 201, "{ce}");
        let (s, ce_ev) = post(
            &app,
            &admin,
            "/api/v1/training/events",
            json!({"course_id": id(&ce), "starts_on": day(0), "ends_on": day(0), "place_code": "0201"}),
        )
        .await;
        assert_eq!(s, 201, "{ce_ev}");
        let ce_base = format!("/api/v1/training/events/{}", id(&ce_ev));
        assert_eq!(post(&app, &admin, &format!("{ce_base}/participants"), json!({"worker_ids": [w1.id]})).await.0, 201);
        assert_eq!(
            put(&app, &admin, &format!("{ce_base}/participants/{}", w1.id), json!({"result": "passed"})).await.0,
            200
        );
        let (s, detail) = get(&app, &admin, &format!("/api/v1/licences/{lid}")).await;
        assert_eq!((s, detail["ce_hours_in_term"].as_f64()), (200, Some(30.0)), "{detail}");
        assert_eq!(post(&app, &viewer, &format!("/api/v1/licences/{lid}/renew"), json!({})).await.0, 403);
        let (s, renewed) = post(&app, &admin, &format!("/api/v1/licences/{lid}/renew"), json!({})).await;
        assert_eq!(s, 200, "{renewed}");
        let old = NaiveDate::parse_from_str(&expires, "%Y-%m-%d").unwrap();
        let new = NaiveDate::parse_from_str(renewed["expires_on"].as_str().unwrap(), "%Y-%m-%d").unwrap();
        assert!(new > old + Days::new(360), "{old} → {new}");
        assert_eq!(renewed["renewals"], 1);
        let (_, detail) = get(&app, &admin, &format!("/api/v1/licences/{lid}")).await;
        let actions: Vec<&str> =
            detail["actions"].as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["apply", "approve", "renew"]);

        // The public register finds the valid licence by name and by number, without a token.
        for q in ["sreymom", "Chan", &number.to_lowercase().replace('-', "")] {
            let qs = serde_urlencoded::to_string([("q", q)]).unwrap();
            let (s, v) = call(&app, Method::GET, None, &format!("/api/v1/public/licences?{qs}"), None).await;
            assert_eq!(s, 200, "{q}: {v}");
            assert_eq!(v.as_array().unwrap().len(), 1, "{q}: {v}");
            assert_eq!(v[0]["number"], number.as_str());
            assert_eq!(v[0]["name_latin"], "Chan Sreymom");
            assert!(v[0].get("worker").is_none() && v[0].get("id").is_none(), "{v}");
        }
        let (s, v) = call(&app, Method::GET, None, "/api/v1/public/licences?q=Keo", None).await;
        assert_eq!((s, v), (200, json!([])), "no licence");
        assert_eq!(call(&app, Method::GET, None, "/api/v1/public/licences", None).await.0, 400);
        assert_eq!(call(&app, Method::GET, None, "/api/v1/public/licences?q=C", None).await.0, 400);
        // Suspended: out of the register.
        let (s, _) = post(
            &app,
            &admin,
            &format!("/api/v1/licences/{lid}/decision"),
            json!({"action": "suspend", "reason": "under investigation"}),
        )
        .await;
        assert_eq!(s, 200);
        let (_, v) = call(&app, Method::GET, None, "/api/v1/public/licences?q=sreymom", None).await;
        assert_eq!(v, json!([]));
        let (_, page) = get(&app, &admin, "/api/v1/licences?status=suspended").await;
        assert_eq!(page["total"], 1);

        app.stop().await;
    }
}

#[tokio::test]
async fn roles_rules_targets_progress_and_exports() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let (_, viewer) = app.account("viewer", UserRole::NationalViewer, None, None, None).await;
        let w = add_worker(&app, "Chan Sreymom", "020101").await;
        let (_, own) = app.account("chan", UserRole::Worker, None, None, Some(w.id)).await;
        let (_, district) = app.account("sangke", UserRole::DistrictOfficer, Some("0208"), None, None).await;

        // Without a token: 401; the catalogue is read by everyone signed in, kept by the administrator.
        let (s, _) = call(&app, Method::GET, None, "/api/v1/training/programmes", None).await;
        assert_eq!(s, 401);
        assert_eq!(get(&app, &own, "/api/v1/training/programmes").await.0, 200);
        let inst = json!({"code": "PNN", "name_en": "Provincial NGO network", "kind": "ngo"});
        assert_eq!(post(&app, &viewer, "/api/v1/training/institutions", inst.clone()).await.0, 403);
        assert_eq!(post(&app, &district, "/api/v1/training/institutions", inst.clone()).await.0, 403);
        assert_eq!(post(&app, &admin, "/api/v1/training/institutions", inst.clone()).await.0, 201);
        let (s, v) = post(&app, &admin, "/api/v1/training/institutions", inst).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("code", "duplicate_code")]));
        let (s, v) = post(&app, &admin, "/api/v1/training/institutions", json!({"code": "X"})).await;
        assert_eq!(s, 400, "missing fields are a malformed body: {v}");

        // Events: a worker has no access to the event lists (their trainings are in their transcript).
        assert_eq!(get(&app, &own, "/api/v1/training/events").await.0, 403);
        assert_eq!(get(&app, &own, "/api/v1/training/events/export").await.0, 403);
        assert_eq!(get(&app, &viewer, "/api/v1/training/events").await.0, 200);
        assert_eq!(get(&app, &own, &format!("/api/v1/workers/{}/transcript", w.id)).await.0, 200);
        assert_eq!(get(&app, &district, &format!("/api/v1/workers/{}/transcript", w.id)).await.0, 404);

        // A district officer runs events in their district only.
        let (_, courses) = get(&app, &admin, "/api/v1/training/courses").await;
        assert_eq!(courses, json!([]));
        let (_, c) = post(
            &app,
            &admin,
            "/api/v1/training/courses",
            json!({"code": "CE-1", "title_en": "Refresher", "hours": {"teaching": 6}}),
        )
        .await;
        let ev = json!({"course_id": id(&c), "starts_on": day(-3), "ends_on": day(-2), "place_code": "0208"});
        let (s, e) = post(&app, &district, "/api/v1/training/events", ev.clone()).await;
        assert_eq!(s, 201, "{e}");
        let mut elsewhere = ev.clone();
        elsewhere["place_code"] = json!("0201");
        let (s, v) = post(&app, &district, "/api/v1/training/events", elsewhere).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("place_code", "outside_scope")]));
        assert_eq!(post(&app, &viewer, "/api/v1/training/events", ev.clone()).await.0, 403);
        let mut changed = ev.clone();
        changed["venue"] = json!("Commune hall");
        assert_eq!(put(&app, &viewer, &format!("/api/v1/training/events/{}", id(&e)), changed.clone()).await.0, 403);
        assert_eq!(put(&app, &own, &format!("/api/v1/training/events/{}", id(&e)), changed.clone()).await.0, 403);
        let (s, _) = post(
            &app,
            &own,
            &format!("/api/v1/training/events/{}/participants", id(&e)),
            json!({"worker_ids": [w.id]}),
        )
        .await;
        assert_eq!(s, 403, "a worker calls no event route");
        let (s, v) = put(&app, &district, &format!("/api/v1/training/events/{}", id(&e)), changed).await;
        assert_eq!((s, v["venue"].as_str()), (200, Some("Commune hall")));

        // Events export: CSV with BOM and the columns; XLSX; unknown format 400.
        let r = Client::new()
            .get(app.url("/api/v1/training/events/export?format=csv"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let text = r.text().await.unwrap();
        assert!(text.starts_with("\u{feff}event_id,course_code,"), "{text}");
        assert!(text.contains("CE-1"), "{text}");
        let r = Client::new()
            .get(app.url("/api/v1/training/events/export?format=xlsx"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.unwrap().starts_with(b"PK"));
        assert_eq!(get(&app, &admin, "/api/v1/training/events/export?format=pdf").await.0, 400);

        // Transcript and licence downloads.
        let r = Client::new()
            .get(app.url(&format!("/api/v1/workers/{}/transcript?format=csv", w.id)))
            .bearer_auth(&own)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().starts_with("\u{feff}worker_id,name_latin,"));
        let r = Client::new().get(app.url("/api/v1/licences?format=csv")).bearer_auth(&admin).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().starts_with("\u{feff}licence_number,worker_id,"));

        // Licensing rules: read by all, set by the administrator, checked.
        let (s, v) = get(&app, &own, "/api/v1/licensing/rules").await;
        assert_eq!((s, v), (200, json!({"term_years": 3, "renewal_ce_hours": 30})));
        assert_eq!(
            put(&app, &viewer, "/api/v1/licensing/rules", json!({"term_years": 2, "renewal_ce_hours": 20})).await.0,
            403
        );
        let (s, v) =
            put(&app, &admin, "/api/v1/licensing/rules", json!({"term_years": 0, "renewal_ce_hours": -1})).await;
        assert_eq!(
            (s, fields(&v)),
            (422, vec![pair("term_years", "out_of_range"), pair("renewal_ce_hours", "out_of_range")])
        );
        let (s, v) =
            put(&app, &admin, "/api/v1/licensing/rules", json!({"term_years": 2, "renewal_ce_hours": 20})).await;
        assert_eq!((s, v), (200, json!({"term_years": 2, "renewal_ce_hours": 20})));

        // Targets: Table 11 by default; the administrator upserts.
        let (s, targets) = get(&app, &viewer, "/api/v1/training/targets").await;
        assert_eq!(s, 200);
        let ccwc = targets.as_array().unwrap().iter().find(|t| t["group_code"] == "ccwc").unwrap();
        assert_eq!((ccwc["target"].as_i64(), ccwc["level"].as_str()), (Some(3292), Some("vocational_certificate")));
        let target = json!({"group_code": "ccwc", "group_en": "CCWC members", "level": "vocational_certificate",
                            "year": 2025, "target": 3300, "roles": ["ccwc_focal_point", "ccwc_member"]});
        assert_eq!(post(&app, &viewer, "/api/v1/training/targets", target.clone()).await.0, 403);
        let (s, v) = post(&app, &admin, "/api/v1/training/targets", target).await;
        assert_eq!((s, v["target"].as_i64(), v["completed"].as_i64()), (200, Some(3300), Some(0)), "{v}");
        let (_, after) = get(&app, &viewer, "/api/v1/training/targets").await;
        assert_eq!(after.as_array().unwrap().len(), targets.as_array().unwrap().len(), "replaced, not added");
        let (s, v) = post(
            &app,
            &admin,
            "/api/v1/training/targets",
            json!({"group_code": "x", "group_en": "X", "level": "phd", "year": 1990, "target": 1}),
        )
        .await;
        assert_eq!((s, fields(&v)), (422, vec![pair("level", "invalid_choice"), pair("year", "out_of_range")]));

        // Progress: the certificate programmes; bad filters 400.
        let (s, v) = get(&app, &viewer, "/api/v1/training/progress?province=02&cadre=para_social_worker").await;
        assert_eq!(s, 200, "{v}");
        assert!(v["programmes"].as_array().unwrap().iter().any(|p| p["programme_code"] == "VC-PSW"));
        assert_eq!(v["eligible_total"], 0);
        let (s, v) = get(&app, &viewer, "/api/v1/training/progress?cadre=chief").await;
        assert_eq!(s, 400);
        assert!(v["message"].as_str().unwrap().contains("para_social_worker"), "{v}");

        // Recognition of prior learning: by those who run training, checked.
        let rpl = json!({"kind": "rpl", "programme_id": 1, "hours": {"field": 90}, "evidence": "portfolio",
                         "assessor": "NISA panel", "assessed_on": day(-1)});
        let vc = {
            let (_, progs) = get(&app, &viewer, "/api/v1/training/programmes").await;
            progs.as_array().unwrap().iter().find(|p| p["code"] == "VC-PSW").map(id).unwrap()
        };
        let mut rpl = rpl;
        rpl["programme_id"] = json!(vc);
        let path = format!("/api/v1/workers/{}/recognitions", w.id);
        assert_eq!(post(&app, &viewer, &path, rpl.clone()).await.0, 403);
        let mut future = rpl.clone();
        future["assessed_on"] = json!(day(3));
        let (s, v) = post(&app, &admin, &path, future).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("assessed_on", "future_date")]));
        let (s, v) = post(&app, &admin, &path, rpl).await;
        assert_eq!((s, v["credits"].as_f64()), (201, Some(2.0)), "{v}");
        let (_, t) = get(&app, &own, &format!("/api/v1/workers/{}/transcript", w.id)).await;
        assert_eq!(t["total_credits"], 2.0);
        assert_eq!(t["recognitions"][0]["kind"], "rpl");

        // A worker applies for their own licence (refused here: no qualification yet).
        let (s, v) = post(&app, &own, &format!("/api/v1/workers/{}/licences", w.id), json!({})).await;
        assert_eq!((s, fields(&v)), (422, vec![pair("worker_id", "no_qualification")]));

        app.stop().await;
    }
}

#[tokio::test]
async fn the_openapi_document_describes_training_and_licensing() {
    let engine = engines()[0];
    let app = TestApp::start(engine).await;
    let (s, doc) = call(&app, Method::GET, None, "/api/openapi.json", None).await;
    assert_eq!(s, 200);
    for (path, method) in [
        ("/api/v1/training/institutions", "post"),
        ("/api/v1/training/programmes/{id}", "get"),
        ("/api/v1/training/programmes/{id}", "put"),
        ("/api/v1/training/institutions/{id}", "put"),
        ("/api/v1/training/courses/{id}", "put"),
        ("/api/v1/training/courses", "post"),
        ("/api/v1/training/events", "get"),
        ("/api/v1/training/events/export", "get"),
        ("/api/v1/training/events/{id}", "put"),
        ("/api/v1/training/events/{id}/participants", "post"),
        ("/api/v1/training/events/{id}/participants/{worker_id}", "delete"),
        ("/api/v1/workers/{id}/transcript", "get"),
        ("/api/v1/workers/{id}/recognitions", "post"),
        ("/api/v1/workers/{id}/certificates", "post"),
        ("/api/v1/certificates/{number}/revoke", "post"),
        ("/api/v1/public/certificates/{number}", "get"),
        ("/api/v1/training/progress", "get"),
        ("/api/v1/training/targets", "post"),
        ("/api/v1/licences", "get"),
        ("/api/v1/workers/{id}/licences", "post"),
        ("/api/v1/licences/{id}", "get"),
        ("/api/v1/licences/{id}/decision", "post"),
        ("/api/v1/licences/{id}/renew", "post"),
        ("/api/v1/licensing/rules", "put"),
        ("/api/v1/public/licences", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} missing from the OpenAPI document");
    }
    // The public routes need no token; the others do.
    assert!(doc["paths"]["/api/v1/public/certificates/{number}"]["get"].get("security").is_none());
    assert!(doc["paths"]["/api/v1/licences"]["get"]["security"].is_array());
    for schema in ["Transcript", "PublicCertificate", "Licence", "LicenceDetail", "PublicLicence", "LicensingRules"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "schema {schema} missing");
    }
    let tags: Vec<&str> = doc["tags"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    assert!(tags.contains(&"training") && tags.contains(&"licensing"), "{tags:?}");
    app.stop().await;
}
