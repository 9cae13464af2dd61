//! Conflict-safe editing through the API, on every engine: every editable record type sends an
//! `ETag`, honours `If-Match` (412 with the current `ETag` on a stale version, and nothing
//! changes; the change goes through with the current one, and the `ETag` moves on), and a server
//! that requires `If-Match` answers 428 without it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::TestApp;
use komlang_core::validate::WorkerInput;
use komlang_core::{UserRole, Worker};
use komlang_store::system_principal;
use komlang_store::testing::engines;
use reqwest::{Client, Method};
use serde_json::{json, Value};

fn today() -> chrono::NaiveDate {
    komlang_web::common::today()
}

async fn add_worker(app: &TestApp, name_latin: &str) -> Worker {
    let input = WorkerInput {
        name_km: Some("ចាន់ ស្រីមុំ".into()),
        name_latin: Some(name_latin.into()),
        sex: Some("female".into()),
        cadre: Some("professional_social_worker".into()),
        role: Some("district_social_worker".into()),
        sector: Some("government".into()),
        workplace_code: Some("0201".into()),
        status: Some("active".into()),
        education_level: Some("bachelor".into()),
        education_field: Some("social_work".into()),
        ..Default::default()
    };
    app.db.store.create_worker(&system_principal("test"), &input, today()).await.unwrap()
}

/// One answer: status, JSON body (Null when none) and `ETag`.
struct Answer {
    status: u16,
    body: Value,
    etag: Option<String>,
}

async fn send(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> Answer {
    let mut r = Client::new().request(method, app.url(path)).bearer_auth(token);
    if let Some(t) = if_match {
        r = r.header("if-match", t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let etag = r.headers().get("etag").map(|v| v.to_str().unwrap().to_string());
    Answer { status, body: r.json().await.unwrap_or(Value::Null), etag }
}

async fn get(app: &TestApp, token: &str, path: &str) -> Answer {
    send(app, token, Method::GET, path, None, None).await
}

/// The record at `path` changed with `first` under the version `read` (its `ETag` when read):
/// the change is made and the `ETag` moves on. Then `second` under the same, now stale, version:
/// 412 naming the current version, and nothing changes (`field` of the record, read again at
/// `read_path`, is as `first` left it). Answers the current `ETag`.
#[allow(clippy::too_many_arguments)]
async fn stale_refused(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    read: &str,
    first: Value,
    second: Value,
    read_path: &str,
    field: &str,
) -> String {
    let ok = send(app, token, method.clone(), path, Some(first), Some(read)).await;
    assert_eq!(ok.status, 200, "{path}: {}", ok.body);
    let now = ok.etag.clone().unwrap_or_else(|| panic!("{path}: a change answers the new ETag"));
    assert_ne!(now, read, "{path}: a change moves the version on");
    let kept = pointer(&get(app, token, read_path).await.body, field);
    let stale = send(app, token, method, path, Some(second), Some(read)).await;
    assert_eq!(stale.status, 412, "{path}: {}", stale.body);
    assert_eq!(stale.body["error"], "precondition_failed", "{path}");
    assert_eq!(stale.etag.as_deref(), Some(now.as_str()), "{path}: the refusal names the current version");
    let after = get(app, token, read_path).await;
    assert_eq!(pointer(&after.body, field), kept, "{path}: a stale change changes nothing");
    if let Some(tag) = after.etag {
        assert_eq!(tag, now, "{path}");
    }
    now
}

/// The value at a JSON pointer, or at a field of the first element of a list.
fn pointer(v: &Value, field: &str) -> Value {
    v.pointer(field).cloned().unwrap_or(Value::Null)
}

#[tokio::test]
async fn every_editable_record_refuses_a_stale_version() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let w = add_worker(&app, "Chan Sreymom").await;

        // A worker: GET sends the ETag; PATCH and DELETE honour If-Match.
        let path = format!("/api/v1/workers/{}", w.id);
        let read = get(&app, &admin, &path).await;
        assert_eq!((read.status, read.etag.as_deref()), (200, Some("\"1\"")), "{engine:?}");
        assert_eq!(read.body["version"], 1);
        let now = stale_refused(
            &app,
            &admin,
            Method::PATCH,
            &path,
            "\"1\"",
            json!({"phone": "012 345 678"}),
            json!({"phone": "099 999 999"}),
            &path,
            "/phone",
        )
        .await;
        assert_eq!(now, "\"2\"");
        // A tag that names no version of Komlang's never matches; `*` and a weak tag do.
        assert_eq!(
            send(&app, &admin, Method::PATCH, &path, Some(json!({"email": "a@b.kh"})), Some("\"x\"")).await.status,
            412
        );
        let any = send(&app, &admin, Method::PATCH, &path, Some(json!({"email": "a@b.kh"})), Some("*")).await;
        assert_eq!((any.status, any.etag.as_deref()), (200, Some("\"3\"")));
        let weak = send(&app, &admin, Method::PATCH, &path, Some(json!({"email": "c@d.kh"})), Some("W/\"3\"")).await;
        assert_eq!(weak.status, 200);
        // A change that changes nothing keeps the version.
        let same = send(&app, &admin, Method::PATCH, &path, Some(json!({"email": "c@d.kh"})), Some("\"4\"")).await;
        assert_eq!((same.status, same.etag.as_deref()), (200, Some("\"4\"")));
        // Two ETags at once are refused as unclear.
        let two =
            send(&app, &admin, Method::PATCH, &path, Some(json!({"email": "e@f.kh"})), Some("\"3\", \"4\"")).await;
        assert_eq!(two.status, 400);
        // A value that is not a tag is malformed; a tag without its quotes is taken.
        for bad in ["\"4", ""] {
            let r = send(&app, &admin, Method::PATCH, &path, Some(json!({"email": "e@f.kh"})), Some(bad)).await;
            assert_eq!(r.status, 400, "If-Match {bad:?}");
        }
        let bare = send(&app, &admin, Method::PATCH, &path, Some(json!({"email": "e@f.kh"})), Some("4")).await;
        assert_eq!((bare.status, bare.etag.as_deref()), (200, Some("\"5\"")));
        // Deleting under a stale version deletes nothing.
        assert_eq!(send(&app, &admin, Method::DELETE, &path, None, Some("\"1\"")).await.status, 412);
        assert_eq!(get(&app, &admin, &path).await.status, 200);

        // An organization.
        let org = send(
            &app,
            &admin,
            Method::POST,
            "/api/v1/organizations",
            Some(json!({"name_en": "Friends of Children", "kind": "ngo", "admin_code": "02"})),
            None,
        )
        .await;
        assert_eq!((org.status, org.etag.as_deref()), (201, Some("\"1\"")), "{}", org.body);
        let opath = format!("/api/v1/organizations/{}", org.body["id"]);
        stale_refused(
            &app,
            &admin,
            Method::PATCH,
            &opath,
            "\"1\"",
            json!({"phone": "023 111 222"}),
            json!({"name_en": "Someone else's name"}),
            &opath,
            "/name_en",
        )
        .await;
        assert_eq!(send(&app, &admin, Method::DELETE, &opath, None, Some("\"1\"")).await.status, 412);
        assert_eq!(send(&app, &admin, Method::DELETE, &opath, None, Some("\"2\"")).await.status, 204);

        // An assessment.
        let fw = get(&app, &admin, "/api/v1/competency-frameworks/current").await.body;
        let indicator = fw["areas"][0]["competencies"][0]["indicators"][0]["code"].as_str().unwrap().to_string();
        let assessment = |rating: u8| {
            json!({"kind": "supervisor", "assessed_on": today().to_string(),
                   "ratings": [{"indicator_code": indicator, "rating": rating}]})
        };
        let a = send(&app, &admin, Method::POST, &format!("{path}/assessments"), Some(assessment(2)), None).await;
        assert_eq!((a.status, a.etag.as_deref()), (201, Some("\"1\"")), "{}", a.body);
        let apath = format!("/api/v1/assessments/{}", a.body["id"]);
        stale_refused(
            &app,
            &admin,
            Method::PUT,
            &apath,
            "\"1\"",
            assessment(3),
            assessment(1),
            &apath,
            "/ratings/0/rating",
        )
        .await;
        assert_eq!(send(&app, &admin, Method::DELETE, &apath, None, Some("\"1\"")).await.status, 412);

        // The training catalogue: an institution, a programme, a course.
        let inst = send(
            &app,
            &admin,
            Method::POST,
            "/api/v1/training/institutions",
            Some(json!({"code": "T-INST", "name_en": "Test institute", "name_km": "វិទ្យាស្ថាន", "kind": "ngo"})),
            None,
        )
        .await;
        assert_eq!((inst.status, inst.etag.as_deref()), (201, Some("\"1\"")), "{}", inst.body);
        let ipath = format!("/api/v1/training/institutions/{}", inst.body["id"]);
        let institution = |name: &str| json!({"code": "T-INST", "name_en": name, "name_km": "វិទ្យាស្ថាន", "kind": "ngo"});
        let ok = send(&app, &admin, Method::PUT, &ipath, Some(institution("Renamed")), Some("\"1\"")).await;
        assert_eq!((ok.status, ok.etag.as_deref()), (200, Some("\"2\"")), "{}", ok.body);
        let stale = send(&app, &admin, Method::PUT, &ipath, Some(institution("Stale")), Some("\"1\"")).await;
        assert_eq!((stale.status, stale.etag.as_deref()), (412, Some("\"2\"")));
        let list = get(&app, &admin, "/api/v1/training/institutions").await.body;
        let stored = list.as_array().unwrap().iter().find(|i| i["code"] == "T-INST").unwrap().clone();
        assert_eq!((stored["name_en"].as_str(), stored["version"].as_i64()), (Some("Renamed"), Some(2)));

        let programme = |title: &str| {
            json!({"code": "T-PROG", "title_en": title, "title_km": "កម្មវិធី", "level": "allied_certificate",
                   "institution_id": inst.body["id"], "credits_required": 5})
        };
        let prog =
            send(&app, &admin, Method::POST, "/api/v1/training/programmes", Some(programme("First")), None).await;
        assert_eq!(prog.status, 201, "{}", prog.body);
        let ppath = format!("/api/v1/training/programmes/{}", prog.body["id"]);
        assert_eq!(get(&app, &admin, &ppath).await.etag.as_deref(), Some("\"1\""));
        stale_refused(
            &app,
            &admin,
            Method::PUT,
            &ppath,
            "\"1\"",
            programme("Second"),
            programme("Stale"),
            &ppath,
            "/programme/title_en",
        )
        .await;

        let course = |title: &str| json!({"code": "T-COURSE", "title_en": title, "hours": {"teaching": 6}});
        let c = send(&app, &admin, Method::POST, "/api/v1/training/courses", Some(course("First")), None).await;
        assert_eq!(c.status, 201, "{}", c.body);
        let cpath = format!("/api/v1/training/courses/{}", c.body["id"]);
        stale_refused(
            &app,
            &admin,
            Method::PUT,
            &cpath,
            "\"1\"",
            course("Second"),
            course("Stale"),
            &cpath,
            "/title_en",
        )
        .await;

        // A training event, and a participant's attendance.
        let event = |venue: &str| {
            json!({"course_id": c.body["id"], "starts_on": today().to_string(), "ends_on": today().to_string(),
                   "place_code": "02", "venue": venue})
        };
        let ev = send(&app, &admin, Method::POST, "/api/v1/training/events", Some(event("Hall A")), None).await;
        assert_eq!(ev.status, 201, "{}", ev.body);
        let epath = format!("/api/v1/training/events/{}", ev.body["id"]);
        stale_refused(
            &app,
            &admin,
            Method::PUT,
            &epath,
            "\"1\"",
            event("Hall B"),
            event("Stale hall"),
            &epath,
            "/venue",
        )
        .await;
        let added = send(
            &app,
            &admin,
            Method::POST,
            &format!("{epath}/participants"),
            Some(json!({"worker_ids": [w.id]})),
            None,
        )
        .await;
        assert_eq!(added.status, 201);
        let list = format!("{epath}/participants");
        let participant = get(&app, &admin, &list).await.body;
        assert_eq!(participant[0]["version"], 1);
        let part = format!("{epath}/participants/{}", w.id);
        stale_refused(
            &app,
            &admin,
            Method::PUT,
            &part,
            "\"1\"",
            json!({"result": "passed", "hours": {"teaching": 6}}),
            json!({"result": "failed"}),
            &list,
            "/0/result",
        )
        .await;
        assert_eq!(send(&app, &admin, Method::DELETE, &part, None, Some("\"1\"")).await.status, 412);
        assert_eq!(get(&app, &admin, &list).await.body.as_array().unwrap().len(), 1, "a stale removal removes nobody");

        // A licence: a decision, and a renewal.
        let applied = send(&app, &admin, Method::POST, &format!("{path}/licences"), Some(json!({})), None).await;
        assert_eq!((applied.status, applied.etag.as_deref()), (201, Some("\"1\"")), "{}", applied.body);
        let lpath = format!("/api/v1/licences/{}", applied.body["id"]);
        assert_eq!(get(&app, &admin, &lpath).await.etag.as_deref(), Some("\"1\""));
        stale_refused(
            &app,
            &admin,
            Method::POST,
            &format!("{lpath}/decision"),
            "\"1\"",
            json!({"action": "approve"}),
            json!({"action": "reject", "reason": "stale"}),
            &lpath,
            "/licence/status",
        )
        .await;
        let renew = send(&app, &admin, Method::POST, &format!("{lpath}/renew"), None, Some("\"1\"")).await;
        assert_eq!((renew.status, renew.etag.as_deref()), (412, Some("\"2\"")), "{}", renew.body);
        app.stop().await;
    }
}

#[tokio::test]
async fn a_server_that_requires_if_match_refuses_a_change_without_it() {
    for engine in engines() {
        let config = komlang_web::WebConfig { require_if_match: true, ..Default::default() };
        let app = TestApp::start_with(engine, config).await;
        let (_, admin) = app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let w = add_worker(&app, "Keo Sophal").await;
        let path = format!("/api/v1/workers/{}", w.id);
        let none = send(&app, &admin, Method::PATCH, &path, Some(json!({"phone": "012 000 111"})), None).await;
        assert_eq!((none.status, none.body["error"].as_str()), (428, Some("precondition_required")), "{engine:?}");
        assert_eq!(send(&app, &admin, Method::DELETE, &path, None, None).await.status, 428);
        let read = get(&app, &admin, &path).await;
        assert_eq!(read.body["phone"], Value::Null, "nothing changed");
        let tag = read.etag.unwrap();
        let ok = send(&app, &admin, Method::PATCH, &path, Some(json!({"phone": "012 000 111"})), Some(&tag)).await;
        assert_eq!(ok.status, 200);
        // Reading and creating need no If-Match.
        assert_eq!(get(&app, &admin, "/api/v1/workers").await.status, 200);
        app.stop().await;
    }
}

/// Two people edit one worker in their browsers. The second to save is shown what the first
/// saved, field by field, with their own change on top; saving that applies it without undoing
/// the first person's change. Where both changed the same field, it is marked and theirs is not
/// overwritten unseen.
#[tokio::test]
async fn two_people_editing_one_worker_see_each_others_changes() {
    use common::{browser, field, form_fields, login, set_field, Texts};
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("first", UserRole::NationalAdmin, None, None, None).await;
        app.account("second", UserRole::NationalAdmin, None, None, None).await;
        let w = add_worker(&app, "Chan Sreymom").await;
        let (a, b) = (browser(), browser());
        login(&app, &a, "first").await;
        login(&app, &b, "second").await;
        let edit = app.url(&format!("/workers/{}/edit", w.id));
        let target = app.url(&format!("/workers/{}", w.id));
        let open = |c: reqwest::Client| {
            let edit = edit.clone();
            async move {
                let r = c.get(&edit).header("accept-language", "en").send().await.unwrap();
                assert_eq!(r.status(), 200);
                form_fields(&r.text().await.unwrap(), "form.record")
            }
        };
        let mut fa = open(a.clone()).await;
        let mut fb = open(b.clone()).await;
        assert_eq!(field(&fa, "record_version"), "1", "{engine:?}");

        // The second person changes the phone number and saves first.
        set_field(&mut fb, "phone", "012 345 678");
        let r = b.post(&target).form(&fb).send().await.unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");

        // The first changes the e-mail on the form opened before: nothing is saved, and the form
        // comes back with the saved phone and their own e-mail.
        set_field(&mut fa, "email", "first@example.org");
        let r = a.post(&target).header("accept-language", "en").form(&fa).send().await.unwrap();
        assert_eq!(r.status(), 409, "{engine:?}");
        let page = r.text().await.unwrap();
        let en = Texts::new(komlang_web::common::i18n::Locale::En);
        assert!(page.contains(&en.t("stale.title")), "{page}");
        assert!(page.contains("second"), "who changed it is named");
        let stored = app.db.store.get_worker(&system_principal("t"), w.id).await.unwrap().unwrap();
        assert_eq!((stored.phone.as_deref(), stored.email.as_deref()), (Some("012 345 678"), None));
        let merged = form_fields(&page, "form.record");
        assert_eq!(field(&merged, "phone"), "012 345 678", "their change is on the form");
        assert_eq!(field(&merged, "email"), "first@example.org", "and the user's own on top");
        assert_eq!(field(&merged, "record_version"), "2");
        let doc = scraper::Html::parse_document(&page);
        let rows: Vec<Vec<String>> = doc
            .select(&scraper::Selector::parse("table.conflict-fields tbody tr").unwrap())
            .map(|tr| tr.text().map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect())
            .collect();
        assert_eq!(rows.len(), 2, "one row per field either side changed: {rows:?}");
        assert!(rows.iter().any(|r| r.contains(&"012 345 678".to_string())), "{rows:?}");
        assert!(rows.iter().any(|r| r.contains(&"first@example.org".to_string())), "{rows:?}");

        // Saving that form applies the e-mail and keeps the phone.
        let r = a.post(&target).form(&merged).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let stored = app.db.store.get_worker(&system_principal("t"), w.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.phone.as_deref(), stored.email.as_deref()),
            (Some("012 345 678"), Some("first@example.org"))
        );

        // Both change the same field: the second to save is shown the clash, with their entry on
        // the form, and what the first saved stays until they save again.
        let mut fa = open(a.clone()).await;
        let mut fb = open(b.clone()).await;
        set_field(&mut fa, "phone", "011 111 111");
        assert_eq!(a.post(&target).form(&fa).send().await.unwrap().status(), 303);
        set_field(&mut fb, "phone", "022 222 222");
        let r = b.post(&target).header("accept-language", "en").form(&fb).send().await.unwrap();
        assert_eq!(r.status(), 409);
        let page = r.text().await.unwrap();
        assert!(page.contains(&en.t("stale.clash")), "the clash is marked");
        assert_eq!(field(&form_fields(&page, "form.record"), "phone"), "022 222 222");
        let stored = app.db.store.get_worker(&system_principal("t"), w.id).await.unwrap().unwrap();
        assert_eq!(stored.phone.as_deref(), Some("011 111 111"), "not overwritten unseen");

        // A delete button of a page opened before a change deletes nothing.
        let r = b
            .post(app.url(&format!("/workers/{}/delete", w.id)))
            .form(&[("csrf", field(&fb, "csrf")), ("record_version", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        assert!(app.db.store.get_worker(&system_principal("t"), w.id).await.unwrap().is_some());
        app.stop().await;
    }
}

/// Two browsers open the form `selector` at `edit`; `b` changes `theirs` and saves first;
/// `a` changes `mine` on the form opened before and sends it to `target`: 409, nothing saved, the
/// conflict shown. Answers the form `a` gets back.
#[allow(clippy::too_many_arguments)]
async fn overtaken(
    app: &TestApp,
    (a, b): (&reqwest::Client, &reqwest::Client),
    edit: &str,
    target: &str,
    selector: &str,
    theirs: (&str, &str),
    mine: (&str, &str),
) -> Vec<(String, String)> {
    use common::{field, form_fields, set_field, Texts};
    let open = |c: &reqwest::Client| {
        let (c, url) = (c.clone(), app.url(edit));
        async move {
            let page = c.get(url).header("accept-language", "en").send().await.unwrap().text().await.unwrap();
            form_fields(&page, selector)
        }
    };
    let (mut fa, mut fb) = (open(a).await, open(b).await);
    assert_eq!(field(&fa, "record_version"), field(&fb, "record_version"), "{edit}");
    set_field(&mut fb, theirs.0, theirs.1);
    assert_eq!(b.post(app.url(target)).form(&fb).send().await.unwrap().status(), 303, "{edit}");
    set_field(&mut fa, mine.0, mine.1);
    let r = a.post(app.url(target)).header("accept-language", "en").form(&fa).send().await.unwrap();
    assert_eq!(r.status(), 409, "{edit}");
    let text = r.text().await.unwrap();
    assert!(text.contains(&Texts::new(komlang_web::common::i18n::Locale::En).t("stale.title")), "{edit}");
    let merged = form_fields(&text, selector);
    assert_eq!((field(&merged, theirs.0), field(&merged, mine.0)), (theirs.1, mine.1), "{edit}");
    merged
}

/// The forms of the training catalogue, an event, an assessment and a licence's decision carry
/// the record's version, and a stale one changes nothing and says so.
#[tokio::test]
async fn other_forms_refuse_a_stale_version_and_keep_the_entry() {
    use common::{browser, field, form_fields, login, set_field};
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let (_, admin) = app.account("first", UserRole::NationalAdmin, None, None, None).await;
        app.account("second", UserRole::NationalAdmin, None, None, None).await;
        let (a, b) = (browser(), browser());
        login(&app, &a, "first").await;
        login(&app, &b, "second").await;
        let both = (&a, &b);

        // A course of the catalogue: the other's title and the user's hours both kept.
        let c = send(
            &app,
            &admin,
            Method::POST,
            "/api/v1/training/courses",
            Some(json!({"code": "T-C", "title_en": "First", "hours": {"teaching": 6}})),
            None,
        )
        .await;
        let cid = c.body["id"].as_i64().unwrap();
        let (edit, target) = (format!("/training/courses/{cid}/edit"), format!("/training/courses/{cid}"));
        let merged =
            overtaken(&app, both, &edit, &target, "form.record", ("title_en", "Second"), ("hours.lab", "3")).await;
        assert_eq!(a.post(app.url(&target)).form(&merged).send().await.unwrap().status(), 303, "{engine:?}");
        let now = get(&app, &admin, &format!("/api/v1/training/courses/{cid}")).await.body;
        assert_eq!((now["title_en"].as_str(), now["hours"]["lab"].as_f64()), (Some("Second"), Some(3.0)));

        // A training event.
        let ev = send(
            &app,
            &admin,
            Method::POST,
            "/api/v1/training/events",
            Some(json!({"course_id": cid, "starts_on": today().to_string(), "ends_on": today().to_string(), "place_code": "02"})),
            None,
        )
        .await;
        let eid = ev.body["id"].as_i64().unwrap();
        let (edit, target) = (format!("/training/events/{eid}/edit"), format!("/training/events/{eid}"));
        overtaken(&app, both, &edit, &target, "form.record", ("venue", "Hall B"), ("trainers", "NISA")).await;

        // An assessment: nothing saved until the merged form is sent.
        let w = add_worker(&app, "Mao Dara").await;
        let fw = get(&app, &admin, "/api/v1/competency-frameworks/current").await.body;
        let code = fw["areas"][0]["competencies"][0]["indicators"][0]["code"].as_str().unwrap().to_string();
        let made = send(
            &app,
            &admin,
            Method::POST,
            &format!("/api/v1/workers/{}/assessments", w.id),
            Some(json!({"kind": "supervisor", "assessed_on": today().to_string(), "ratings": [{"indicator_code": code, "rating": 2}]})),
            None,
        )
        .await;
        let aid = made.body["id"].as_i64().unwrap();
        let (edit, target) = (format!("/assessments/{aid}/edit"), format!("/assessments/{aid}"));
        let rating = format!("r.{code}");
        let merged =
            overtaken(&app, both, &edit, &target, "#assessment-form", ("notes", "Seen in the field"), (&rating, "4"))
                .await;
        let stored = get(&app, &admin, &format!("/api/v1/assessments/{aid}")).await.body;
        assert_eq!(stored["ratings"][0]["rating"], 2, "{engine:?}: nothing saved");
        assert_eq!(a.post(app.url(&target)).form(&merged).send().await.unwrap().status(), 303);
        let stored = get(&app, &admin, &format!("/api/v1/assessments/{aid}")).await.body;
        assert_eq!(
            (stored["ratings"][0]["rating"].as_i64(), stored["notes"].as_str()),
            (Some(4), Some("Seen in the field"))
        );

        // A licence's decision taken on a page opened before another decision.
        let applied =
            send(&app, &admin, Method::POST, &format!("/api/v1/workers/{}/licences", w.id), Some(json!({})), None)
                .await;
        let lid = applied.body["id"].as_i64().unwrap();
        let page = |c: &reqwest::Client| {
            let (c, url) = (c.clone(), app.url(&format!("/licences/{lid}")));
            async move { c.get(url).send().await.unwrap().text().await.unwrap() }
        };
        let mut fa = form_fields(&page(&a).await, "#decision-form");
        let mut fb = form_fields(&page(&b).await, "#decision-form");
        set_field(&mut fb, "action", "approve");
        assert_eq!(b.post(app.url(&format!("/licences/{lid}/decision"))).form(&fb).send().await.unwrap().status(), 303);
        set_field(&mut fa, "action", "reject");
        set_field(&mut fa, "reason", "Incomplete file");
        let r = a
            .post(app.url(&format!("/licences/{lid}/decision")))
            .header("accept-language", "en")
            .form(&fa)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422);
        let text = r.text().await.unwrap();
        assert!(text.contains("Someone else (second,"), "{text}");
        assert!(text.contains("Incomplete file"), "the entry is kept");
        assert_eq!(field(&form_fields(&text, "#decision-form"), "record_version"), "2", "{engine:?}");
        let stored = get(&app, &admin, &format!("/api/v1/licences/{lid}")).await.body;
        assert_eq!(stored["licence"]["status"], "active", "the stale rejection did nothing");
        app.stop().await;
    }
}
