//! The training, certification and licensing pages over HTTP, on every engine: a module added
//! by the administrator, an event run by a provincial officer with its participants and
//! attendance, credits on the transcript by the credit rule, refusals shown on their forms,
//! a certificate issued when eligible and verified publicly, the public register of licences,
//! the licence list's expiry filter, scope, and the Khmer pages.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::{browser, csrf_of, login, TestApp};
use komlang_core::training::{make_number, NumberKind};
use komlang_core::validate::WorkerInput;
use komlang_core::UserRole;
use komlang_store::testing::engines;
use komlang_store::{system_principal, Store};
use reqwest::Client;

fn today() -> chrono::NaiveDate {
    komlang_web::common::today()
}

fn worker(name_km: &str, name_latin: &str, workplace: &str) -> WorkerInput {
    WorkerInput {
        name_km: Some(name_km.into()),
        name_latin: Some(name_latin.into()),
        sex: Some("female".into()),
        date_of_birth: Some("1990-05-06".into()),
        national_id: Some("KH0123456789".into()),
        phone: Some("012345678".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some("2020-01-06".into()),
        ..Default::default()
    }
}

/// A social work graduate: qualified for a licence without a certificate.
fn graduate(name_km: &str, name_latin: &str, workplace: &str) -> WorkerInput {
    WorkerInput {
        national_id: None,
        phone: None,
        education_level: Some("bachelor".into()),
        education_field: Some("social_work".into()),
        ..worker(name_km, name_latin, workplace)
    }
}

async fn get(c: &Client, app: &TestApp, path: &str) -> (u16, String) {
    let r = c.get(app.url(path)).header("accept-language", "en").send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts a form; answers the status, the `Location` header and the body.
async fn post(c: &Client, app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = c.post(app.url(path)).header("accept-language", "en").form(form).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (status, location, r.text().await.unwrap())
}

/// A signed-in client in English, and its CSRF token.
async fn signed_in(app: &TestApp, username: &str) -> (Client, String) {
    let b = browser();
    login(app, &b, username).await;
    b.get(app.url("/lang/en?next=/about")).send().await.unwrap();
    let page = b.get(app.url("/about")).send().await.unwrap().text().await.unwrap();
    let csrf = csrf_of(&page);
    (b, csrf)
}

async fn programme_id(store: &Store, code: &str) -> i64 {
    store.programmes().await.unwrap().into_iter().find(|p| p.code == code).unwrap().id
}

#[tokio::test]
async fn from_a_module_to_a_publicly_verified_certificate_and_a_registered_licence() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = &app.db.store;
        let sys = system_principal("test");
        let w = store.create_worker(&sys, &worker("សុខ ដារ៉ា", "Sok Dara", "010201"), today()).await.unwrap();
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        app.account("prov01", UserRole::ProvincialOfficer, Some("01"), None, None).await;
        app.account("worker-sok", UserRole::Worker, None, None, Some(w.id)).await;
        let vc = programme_id(store, "VC-PSW").await;

        // The administrator adds a module of 60 h teaching, 30 h workshop and 45 h field work.
        let (admin, admin_csrf) = signed_in(&app, "admin").await;
        let (s, hub) = get(&admin, &app, "/training").await;
        assert_eq!(s, 200, "{engine:?}");
        assert!(hub.contains("VC-PSW") && hub.contains("id=\"course-form\""), "{engine:?}: the admin's hub");
        let (s, _, body) = post(
            &admin,
            &app,
            "/training/courses",
            &[
                ("csrf", &admin_csrf),
                ("programme_id", &vc.to_string()),
                ("back", "programme"),
                ("code", "vc-m1"),
                ("title_en", "Case management basics"),
                ("hours.teaching", "60"),
                ("hours.lab", "30"),
                ("hours.field", "45"),
                ("competencies", "nope.99"),
            ],
        )
        .await;
        assert_eq!(s, 422, "{engine:?}");
        assert!(
            body.contains("id=\"e-course-competencies\">There is no competency nope.99 in the current framework.<"),
            "{engine:?}: the refusal at its field"
        );
        assert!(body.contains("value=\"Case management basics\""), "{engine:?}: what was typed is kept");
        let (s, to, _) = post(
            &admin,
            &app,
            "/training/courses",
            &[
                ("csrf", &admin_csrf),
                ("programme_id", &vc.to_string()),
                ("back", "programme"),
                ("code", "vc-m1"),
                ("title_en", "Case management basics"),
                ("hours.teaching", "60"),
                ("hours.lab", "30"),
                ("hours.field", "45"),
                ("competencies", "values.01, skills.10"),
            ],
        )
        .await;
        assert_eq!((s, to.as_str()), (303, format!("/training/programmes/{vc}#modules").as_str()), "{engine:?}");
        let (_, page) = get(&admin, &app, &format!("/training/programmes/{vc}")).await;
        assert!(page.contains("id=\"module-VC-M1\""), "{engine:?}: the module is listed under its code");
        assert!(page.contains("id=\"planned-credits\">6<"), "{engine:?}: 60/15 + 30/30 + 45/45 = 6 credits planned");
        let course = store.courses(Some(Some(vc))).await.unwrap().into_iter().find(|c| c.code == "VC-M1").unwrap();

        // A provincial officer runs an event in their province; a mistake first.
        let (off, off_csrf) = signed_in(&app, "prov01").await;
        let (s, form) = get(&off, &app, "/training/events/new").await;
        assert_eq!(s, 200);
        assert!(form.contains("name=\"course_id\"") && form.contains("name=\"place_code\" value=\"01\""));
        let course_id = course.id.to_string();
        let event = |starts: &'static str, ends: &'static str, place: &'static str| {
            vec![
                ("csrf", off_csrf.clone()),
                ("course_id", course_id.clone()),
                ("starts_on", starts.to_string()),
                ("ends_on", ends.to_string()),
                ("place_code", place.to_string()),
                ("venue", "DoSVY meeting room".to_string()),
                ("hours.teaching", String::new()),
                ("hours.lab", String::new()),
                ("hours.field", String::new()),
            ]
        };
        let as_refs = |v: &Vec<(&'static str, String)>| v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();
        let f = as_refs(&event("2026-03-10", "2026-03-09", "01"));
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, _, body) = post(&off, &app, "/training/events", &f).await;
        assert_eq!(s, 422, "{engine:?}");
        assert!(
            body.contains("id=\"e-event-ends_on\">The event ends (2026-03-09) before it starts (2026-03-10).<"),
            "{engine:?}: the refusal is shown at the last day"
        );
        assert!(body.contains("value=\"DoSVY meeting room\""), "{engine:?}: what was typed is kept");
        let f = as_refs(&event("2026-03-10", "2026-03-14", "02"));
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, _, body) = post(&off, &app, "/training/events", &f).await;
        assert_eq!(s, 422);
        assert!(body.contains("This place is outside your area of responsibility."), "{engine:?}");
        assert_eq!(store.training_events(&sys, &Default::default()).await.unwrap().total, 0, "nothing saved");
        let f = as_refs(&event("2026-03-10", "2026-03-14", "0102"));
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, to, _) = post(&off, &app, "/training/events", &f).await;
        assert_eq!(s, 303, "{engine:?}");
        let event_id: i64 = to.trim_start_matches("/training/events/").parse().expect("event id in the redirect");

        // Participants: a made-up worker number is refused with the message.
        let path = format!("/training/events/{event_id}/participants");
        let (s, _, body) = post(&off, &app, &path, &[("csrf", &off_csrf), ("worker_ids", "999999")]).await;
        assert_eq!(s, 422, "{engine:?}");
        assert!(
            body.contains(
                "Worker 999999 is not in the registry (or not in your scope): only registered workers can take part."
            ),
            "{engine:?}"
        );
        assert!(body.contains("value=\"999999\""), "{engine:?}: the typed numbers are kept");
        let (s, _, _) = post(&off, &app, &path, &[("csrf", &off_csrf), ("worker_ids", &format!(" {}, ", w.id))]).await;
        assert_eq!(s, 303, "{engine:?}");
        let (_, page) = get(&off, &app, &format!("/training/events/{event_id}")).await;
        assert!(page.contains(&format!("id=\"p-{}\" data-result=\"pending\"", w.id)), "{engine:?}");

        // Attendance: absent with hours is refused at the participant; passed earns the event's hours.
        let apath = format!("/training/events/{event_id}/participants/{}", w.id);
        let (s, _, body) = post(
            &off,
            &app,
            &apath,
            &[("csrf", &off_csrf), ("result", "absent"), ("hours.teaching", "3"), ("days_attended", "")],
        )
        .await;
        assert_eq!(s, 422);
        assert!(body.contains("An absent participant has no hours; clear the hours or choose another result."));
        let (s, _, _) = post(
            &off,
            &app,
            &apath,
            &[
                ("csrf", &off_csrf),
                ("result", "passed"),
                ("days_attended", "5"),
                ("hours.teaching", ""),
                ("hours.lab", ""),
                ("hours.field", ""),
            ],
        )
        .await;
        assert_eq!(s, 303, "{engine:?}");
        let (_, page) = get(&off, &app, &format!("/training/events/{event_id}")).await;
        assert!(page.contains(&format!("id=\"p-{}\" data-result=\"passed\"", w.id)), "{engine:?}");

        // The transcript: 135 hours, 6 credits by the credit rule.
        let tpath = format!("/workers/{}/transcript", w.id);
        let (s, t) = get(&off, &app, &tpath).await;
        assert_eq!(s, 200, "{engine:?}");
        assert!(t.contains("id=\"total-hours\">135<"), "{engine:?}: 60 + 30 + 45 hours");
        assert!(t.contains("id=\"total-credits\">6<"), "{engine:?}: 4 + 1 + 1 credits");
        assert!(t.contains("<td class=\"num credits\">6</td>"), "{engine:?}: the training's own credits");
        // The worker sees their own transcript; the profile links to it.
        let (me, _) = signed_in(&app, "worker-sok").await;
        let (s, own) = get(&me, &app, &tpath).await;
        assert_eq!(s, 200);
        assert!(own.contains("id=\"total-credits\">6<"));
        let (_, profile) = get(&me, &app, &format!("/workers/{}", w.id)).await;
        assert!(profile.contains(&format!("href=\"{tpath}\"")), "{engine:?}: the profile links to the transcript");

        // Not yet eligible: 6 of 30 credits.
        let cpath = format!("/workers/{}/certificates", w.id);
        let vcs = vc.to_string();
        let (s, _, body) = post(&admin, &app, &cpath, &[("csrf", &admin_csrf), ("programme_id", &vcs)]).await;
        assert_eq!(s, 422, "{engine:?}");
        assert!(body.contains("Not eligible: 6 of the 30 credits required."), "{engine:?}");
        assert!(store.worker_certificates(&sys, w.id).await.unwrap().is_empty());
        // Recognition of prior learning: 360 teaching hours (24 credits) toward the programme.
        let rpath = format!("/workers/{}/recognitions", w.id);
        let rpl = |hours: &'static str| {
            vec![
                ("csrf", off_csrf.clone()),
                ("kind", "rpl".to_string()),
                ("programme_id", vcs.clone()),
                ("hours.teaching", hours.to_string()),
                ("evidence", "Portfolio of case files, 2015-2020".to_string()),
                ("assessor", "NISA panel".to_string()),
                ("assessed_on", today().to_string()),
            ]
        };
        let f = rpl("-5");
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, _, body) = post(&off, &app, &rpath, &f).await;
        assert_eq!(s, 422);
        assert!(body.contains("id=\"e-recognition-hours-teaching\">Hours cannot be negative.<"), "{engine:?}");
        let f = rpl("360");
        let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (s, _, _) = post(&off, &app, &rpath, &f).await;
        assert_eq!(s, 303, "{engine:?}");
        let (_, t) = get(&admin, &app, &tpath).await;
        assert!(t.contains("id=\"total-credits\">30<"), "{engine:?}: 6 trained + 24 recognized");
        assert!(t.contains("Eligible for the certificate") && t.contains("Issue certificate"), "{engine:?}");
        // The administrator issues the certificate.
        let (s, to, _) = post(&admin, &app, &cpath, &[("csrf", &admin_csrf), ("programme_id", &vcs)]).await;
        assert_eq!((s, to.as_str()), (303, format!("{tpath}#certificates").as_str()), "{engine:?}");
        let certs = store.worker_certificates(&sys, w.id).await.unwrap();
        assert_eq!(certs.len(), 1);
        let number = certs[0].number.clone();
        let (_, t) = get(&admin, &app, &tpath).await;
        assert!(t.contains(&format!("href=\"/verify/{number}\"")), "{engine:?}: the number links to verification");
        // A second time: already certified.
        let (s, _, body) = post(&admin, &app, &cpath, &[("csrf", &admin_csrf), ("programme_id", &vcs)]).await;
        assert_eq!(s, 422);
        assert!(body.contains(&format!("The worker already holds this certificate ({number}).")), "{engine:?}");

        // Anyone verifies it without signing in: valid, the holder's name, nothing else about them.
        let anon = browser();
        let (s, v) = get(&anon, &app, &format!("/verify/{number}")).await;
        assert_eq!(s, 200, "{engine:?}");
        assert!(v.contains("data-status=\"valid\"") && v.contains("Valid certificate"), "{engine:?}");
        assert!(v.contains("Sok Dara") && v.contains("សុខ ដារ៉ា"), "{engine:?}: the holder's name");
        assert!(v.contains("Vocational Certificate"), "{engine:?}: the level");
        for private in ["012345678", "KH0123456789", "1990-05-06", "010201", "ccwc"] {
            assert!(!v.contains(private), "{engine:?}: the public page shows {private}");
        }
        assert!(!v.contains("action=\"/logout\""), "{engine:?}: nobody is signed in");
        // Typed loosely in the form, it is found; a made-up number is not.
        let loose = number.to_lowercase().replace('-', " ");
        let r = anon.get(app.url("/verify")).query(&[("number", loose.as_str())]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/verify/{number}"));
        let made_up = make_number(NumberKind::Certificate, 0x0fed_cba9_8765_4321);
        assert_ne!(made_up, number);
        for n in [made_up.as_str(), "C-0000-0000-0000-Z", "nonsense"] {
            let (s, v) = get(&anon, &app, &format!("/verify/{n}")).await;
            assert_eq!(s, 404, "{engine:?}: {n}");
            assert!(v.contains("There is no certificate with this number."), "{engine:?}: {n}");
        }

        // The worker applies for a licence; the administrator decides.
        let (me, me_csrf) = signed_in(&app, "worker-sok").await;
        let lpath = format!("/workers/{}/licences", w.id);
        let (s, to, _) = post(&me, &app, &lpath, &[("csrf", &me_csrf), ("note", "For my work in the CCWC")]).await;
        assert_eq!((s, to.as_str()), (303, format!("{tpath}#licences").as_str()), "{engine:?}");
        let (s, _, body) = post(&me, &app, &lpath, &[("csrf", &me_csrf), ("note", "")]).await;
        assert_eq!(s, 422, "{engine:?}: a second open application");
        assert!(body.contains("This worker already has an open licence or application"), "{engine:?}");
        let licence = store.worker_licences(&sys, w.id, today()).await.unwrap().remove(0);
        let dpath = format!("/licences/{}/decision", licence.id);
        let (s, _, _) = post(&me, &app, &dpath, &[("csrf", &me_csrf), ("action", "approve")]).await;
        assert_eq!(s, 403, "{engine:?}: a worker does not approve their own licence");
        let (s, _, body) = post(&admin, &app, &dpath, &[("csrf", &admin_csrf), ("action", "reject")]).await;
        assert_eq!(s, 422);
        assert!(body.contains("id=\"e-decision-reason\">Give the reason.<"), "{engine:?}");
        let (s, _, _) = post(&admin, &app, &dpath, &[("csrf", &admin_csrf), ("action", "approve")]).await;
        assert_eq!(s, 303, "{engine:?}");
        let (_, page) = get(&admin, &app, &format!("/licences/{}", licence.id)).await;
        assert!(page.contains("data-status=\"active\""), "{engine:?}");
        let licence_number = store.worker_licences(&sys, w.id, today()).await.unwrap()[0].number.clone().unwrap();
        assert!(page.contains(&licence_number));

        // The public register finds it by name, and by number; short queries are refused.
        let (s, r) = get(&anon, &app, "/register?q=sok+dara").await;
        assert_eq!(s, 200);
        assert!(r.contains("Sok Dara") && r.contains(&licence_number), "{engine:?}: found by name");
        assert!(!r.contains("012345678") && !r.contains("KH0123456789"), "{engine:?}: nothing private");
        let (_, r) = get(&anon, &app, &format!("/register?q={}", licence_number.to_lowercase())).await;
        assert!(r.contains("Sok Dara"), "{engine:?}: found by number");
        let (_, r) = get(&anon, &app, "/register?q=s").await;
        assert!(r.contains("Type at least 2 characters.") && !r.contains("Sok Dara"), "{engine:?}");
        let (_, r) = get(&anon, &app, "/register?q=nobody").await;
        assert!(r.contains("No valid licence matches."), "{engine:?}");

        // Revoking the certificate shows on the public page.
        let (s, _, body) = post(
            &admin,
            &app,
            &format!("/certificates/{number}/revoke"),
            &[("csrf", &admin_csrf), ("worker_id", &w.id.to_string()), ("reason", "")],
        )
        .await;
        assert_eq!(s, 422);
        assert!(body.contains("Give the reason."), "{engine:?}");
        let (s, _, _) = post(
            &admin,
            &app,
            &format!("/certificates/{number}/revoke"),
            &[("csrf", &admin_csrf), ("worker_id", &w.id.to_string()), ("reason", "Issued in error")],
        )
        .await;
        assert_eq!(s, 303);
        let (s, v) = get(&anon, &app, &format!("/verify/{number}")).await;
        assert_eq!(s, 200);
        assert!(v.contains("data-status=\"revoked\"") && !v.contains("data-status=\"valid\""), "{engine:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_licence_list_filters_by_expiry_and_the_rules_are_checked() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = &app.db.store;
        let sys = system_principal("test");
        let soon = store.create_worker(&sys, &graduate("ចាន់ សុភា", "Chan Sophea", "010201"), today()).await.unwrap();
        let later = store.create_worker(&sys, &graduate("ពៅ ស្រីមុំ", "Pov Sreymom", "020101"), today()).await.unwrap();
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        app.account("prov02", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        let (admin, csrf) = signed_in(&app, "admin").await;

        // Rules: refused out of range, then a 1-year term for the first licence, 10 years for the second.
        let (s, _, body) =
            post(&admin, &app, "/licences/rules", &[("csrf", &csrf), ("term_years", "0"), ("renewal_ce_hours", "30")])
                .await;
        assert_eq!(s, 422, "{engine:?}");
        assert!(body.contains("id=\"e-rules-term_years\">Must be between 1 and 10.<"), "{engine:?}");
        for (w, years) in [(&soon, "1"), (&later, "10")] {
            let (s, _, _) = post(
                &admin,
                &app,
                "/licences/rules",
                &[("csrf", &csrf), ("term_years", years), ("renewal_ce_hours", "30")],
            )
            .await;
            assert_eq!(s, 303, "{engine:?}");
            let (s, _, _) = post(&admin, &app, &format!("/workers/{}/licences", w.id), &[("csrf", &csrf)]).await;
            assert_eq!(s, 303, "{engine:?}: a social work graduate applies");
            let id = store.worker_licences(&sys, w.id, today()).await.unwrap()[0].id;
            let (s, _, _) =
                post(&admin, &app, &format!("/licences/{id}/decision"), &[("csrf", &csrf), ("action", "approve")])
                    .await;
            assert_eq!(s, 303, "{engine:?}");
        }
        let (_, all) = get(&admin, &app, "/licences").await;
        assert!(all.contains("Chan Sophea") && all.contains("Pov Sreymom"), "{engine:?}");
        assert!(all.contains("A licence is valid for 10 years; renewing it needs 30 hours"), "{engine:?}");
        let (s, expiring) = get(&admin, &app, "/licences?expiring_within_days=400").await;
        assert_eq!(s, 200);
        assert!(expiring.contains("Chan Sophea"), "{engine:?}: the 1-year licence expires within 400 days");
        assert!(!expiring.contains("Pov Sreymom"), "{engine:?}: the 10-year licence does not");
        assert!(expiring.contains("href=\"/licences/export?format=csv&amp;expiring_within_days=400\""));
        // The export holds the same rows.
        let r = admin.get(app.url("/licences/export?format=csv&expiring_within_days=400")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let t = komlang_web::imports::read_table("l.csv", &r.bytes().await.unwrap(), None).unwrap();
        let name = t.headers.iter().position(|h| h == "name_latin").unwrap();
        let names: Vec<&str> = t.rows.iter().map(|(_, row)| row[name].as_str()).collect();
        assert_eq!(names, ["Chan Sophea"], "{engine:?}");
        // A provincial officer sees the licences of their province only.
        let (prov, _) = signed_in(&app, "prov02").await;
        let (_, list) = get(&prov, &app, "/licences").await;
        assert!(list.contains("Pov Sreymom") && !list.contains("Chan Sophea"), "{engine:?}");
        let other = store.worker_licences(&sys, soon.id, today()).await.unwrap()[0].id;
        let (s, _) = get(&prov, &app, &format!("/licences/{other}")).await;
        assert_eq!(s, 404, "{engine:?}: out of scope");
        // Renewal needs continuing education: none yet.
        let mine = store.worker_licences(&sys, later.id, today()).await.unwrap()[0].id;
        let (s, _, body) = post(&admin, &app, &format!("/licences/{mine}/renew"), &[("csrf", &csrf)]).await;
        assert_eq!(s, 422, "{engine:?}");
        assert!(body.contains("Not renewed: 0 hours of continuing education in this term, 30 required."), "{engine:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn scope_roles_and_the_khmer_pages() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = &app.db.store;
        let sys = system_principal("test");
        let w = store.create_worker(&sys, &worker("សុខ ដារ៉ា", "Sok Dara", "010201"), today()).await.unwrap();
        app.account("prov01", UserRole::ProvincialOfficer, Some("01"), None, None).await;
        app.account("prov02", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        app.account("viewer", UserRole::NationalViewer, None, None, None).await;
        app.account("worker-sok", UserRole::Worker, None, None, Some(w.id)).await;
        let vc = programme_id(store, "VC-PSW").await;
        let course = store
            .create_course(
                &sys,
                &komlang_core::training::CourseInput {
                    code: "VC-M2".into(),
                    title_en: "Child protection".into(),
                    title_km: "កិច្ចការពារកុមារ".into(),
                    programme_id: Some(vc),
                    hours: komlang_core::training::Hours { teaching: 30.0, ..Default::default() },
                    competencies: vec![],
                },
            )
            .await
            .unwrap();
        let ev = store
            .create_training_event(
                &sys,
                &komlang_core::training::EventInput {
                    course_id: course.id,
                    starts_on: "2026-01-05".into(),
                    ends_on: "2026-01-06".into(),
                    place_code: "01".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();

        // Anonymous: the signed-in pages send to the login; the public ones answer.
        let anon = browser();
        let r = anon.get(app.url("/training")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/login"));
        let (s, login_page) = get(&anon, &app, "/login").await;
        assert_eq!(s, 200);
        assert!(login_page.contains("href=\"/verify\"") && login_page.contains("href=\"/register\""));
        assert_eq!(get(&anon, &app, "/verify").await.0, 200);
        assert_eq!(get(&anon, &app, "/register").await.0, 200);

        // A worker sees no events; an officer of another province does not see this one.
        let (me, me_csrf) = signed_in(&app, "worker-sok").await;
        assert_eq!(get(&me, &app, "/training/events").await.0, 403, "{engine:?}");
        assert_eq!(get(&me, &app, &format!("/training/events/{}", ev.id)).await.0, 403, "{engine:?}");
        assert_eq!(get(&me, &app, "/training").await.0, 200, "{engine:?}: the catalogue is for everybody");
        let (s, _, _) =
            post(&me, &app, &format!("/workers/{}/recognitions", w.id), &[("csrf", &me_csrf), ("kind", "rpl")]).await;
        assert_eq!(s, 403, "{engine:?}: a worker records no RPL");
        let (other, other_csrf) = signed_in(&app, "prov02").await;
        assert_eq!(get(&other, &app, &format!("/training/events/{}", ev.id)).await.0, 404, "{engine:?}");
        assert_eq!(get(&other, &app, &format!("/workers/{}/transcript", w.id)).await.0, 404, "{engine:?}");
        let (s, _, _) = post(
            &other,
            &app,
            &format!("/training/events/{}/participants", ev.id),
            &[("csrf", &other_csrf), ("worker_ids", &w.id.to_string())],
        )
        .await;
        assert_eq!(s, 404, "{engine:?}");
        // The national viewer reads but runs nothing.
        let (viewer, viewer_csrf) = signed_in(&app, "viewer").await;
        let (s, page) = get(&viewer, &app, &format!("/training/events/{}", ev.id)).await;
        assert_eq!(s, 200);
        assert!(!page.contains("id=\"participants-form\""), "{engine:?}: no form for a viewer");
        assert_eq!(get(&viewer, &app, "/training/events/new").await.0, 403);
        let (s, _, _) = post(
            &viewer,
            &app,
            &format!("/training/events/{}/participants", ev.id),
            &[("csrf", &viewer_csrf), ("worker_ids", &w.id.to_string())],
        )
        .await;
        assert_eq!(s, 403, "{engine:?}");
        // Without the CSRF token nothing is done.
        let (off, _) = signed_in(&app, "prov01").await;
        let (s, _, _) = post(
            &off,
            &app,
            &format!("/training/events/{}/participants", ev.id),
            &[("csrf", "forged"), ("worker_ids", &w.id.to_string())],
        )
        .await;
        assert_eq!(s, 403, "{engine:?}");
        assert!(store.event_participants(&sys, ev.id).await.unwrap().is_empty());

        // In Khmer.
        off.get(app.url("/lang/km?next=/training")).send().await.unwrap();
        let page = off.get(app.url("/training")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("<html lang=\"km\">"), "{engine:?}");
        assert!(page.contains("ការបណ្តុះបណ្តាល និងវិញ្ញាបនបត្រ"), "{engine:?}: the title in Khmer");
        assert!(page.contains("វិញ្ញាបនបត្រវិជ្ជាជីវៈ"), "{engine:?}: the levels in Khmer");
        assert!(page.contains("វិធានក្រេឌីត"), "{engine:?}: the credit rule in Khmer");
        let page = off.get(app.url(&format!("/training/events/{}", ev.id))).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("កិច្ចការពារកុមារ") && page.contains("បន្ថែមអ្នកចូលរួម"), "{engine:?}: the event in Khmer");
        let page = anon
            .get(app.url("/verify/C-0000-0000-0000-Z"))
            .header("accept-language", "km")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("គ្មានវិញ្ញាបនបត្រដែលមានលេខនេះទេ"), "{engine:?}: the public page in Khmer");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_administrator_changes_the_catalogue_and_eligibility_follows() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = &app.db.store;
        let sys = system_principal("test");
        let w = store.create_worker(&sys, &worker("សុខ ដារ៉ា", "Sok Dara", "010201"), today()).await.unwrap();
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        app.account("prov01", UserRole::ProvincialOfficer, Some("01"), None, None).await;
        let (admin, csrf) = signed_in(&app, "admin").await;
        let vc = programme_id(store, "VC-PSW").await;
        // A 24-credit module passed: not yet eligible for the 30-credit certificate.
        let module = komlang_core::training::CourseInput {
            code: "VC-X1".into(),
            title_en: "Big module".into(),
            programme_id: Some(vc),
            hours: komlang_core::training::Hours { teaching: 360.0, ..Default::default() },
            ..Default::default()
        };
        let module = store.create_course(&sys, &module).await.unwrap();
        let ev = komlang_core::training::EventInput {
            course_id: module.id,
            starts_on: "2026-02-02".into(),
            ends_on: "2026-02-06".into(),
            place_code: "01".into(),
            ..Default::default()
        };
        let ev = store.create_training_event(&sys, &ev).await.unwrap();
        store.add_participants(&sys, ev.id, &[w.id]).await.unwrap();
        let pass = komlang_core::training::AttendanceInput { result: "passed".into(), ..Default::default() };
        store.record_attendance(&sys, ev.id, w.id, &pass, None).await.unwrap();
        let transcript = format!("/workers/{}/transcript", w.id);
        let (_, page) = get(&admin, &app, &transcript).await;
        let issue_form = format!("action=\"/workers/{}/certificates\"", w.id);
        assert!(!page.contains(&issue_form), "{engine:?}: not eligible yet");

        // The edit page shows the programme as it is; a bad value is refused on the form.
        let edit = format!("/training/programmes/{vc}/edit");
        let (s, page) = get(&admin, &app, &edit).await;
        assert_eq!(s, 200, "{engine:?}");
        assert!(page.contains("value=\"VC-PSW\"") && page.contains("value=\"30\""), "{engine:?}");
        let nisa = store.institutions().await.unwrap().into_iter().find(|i| i.code == "NISA").unwrap().id.to_string();
        let mut form = vec![
            ("csrf", csrf.as_str()),
            ("code", "VC-PSW"),
            ("title_en", "Vocational Certificate for para social workers"),
            ("level", "vocational_certificate"),
            ("institution_id", nisa.as_str()),
            ("credits_required", "500"),
        ];
        let path = format!("/training/programmes/{vc}");
        let (s, _, body) = post(&admin, &app, &path, &form).await;
        assert_eq!(s, 422, "{engine:?}");
        assert!(body.contains("Must be between 0 and 400."), "{engine:?}");
        assert_eq!(store.programme(vc).await.unwrap().unwrap().credits_required, 30, "nothing saved");
        // Lowered to 24 credits: the worker becomes eligible, computed.
        form[5] = ("credits_required", "24");
        let (s, to, _) = post(&admin, &app, &path, &form).await;
        assert_eq!((s, to.as_str()), (303, path.as_str()), "{engine:?}");
        let (_, page) = get(&admin, &app, &path).await;
        assert!(page.contains("id=\"credits-required\">24<"), "{engine:?}");
        let (_, page) = get(&admin, &app, &transcript).await;
        assert!(page.contains(&issue_form), "{engine:?}: the issue form is offered");

        // A module's hours: the event already held keeps its own.
        let path = format!("/training/courses/{}", module.id);
        let course_form = [
            ("csrf", csrf.as_str()),
            ("code", "VC-X1"),
            ("title_en", "Big module, revised"),
            ("programme_id", &vc.to_string()),
            ("hours.teaching", "30"),
            ("competencies", "skills.01 values.02"),
        ];
        let (s, to, _) = post(&admin, &app, &path, &course_form).await;
        assert_eq!((s, to), (303, format!("/training/programmes/{vc}#modules")), "{engine:?}");
        let c = store.course(module.id).await.unwrap().unwrap();
        assert_eq!((c.credits, c.competencies.len()), (2.0, 2));
        assert_eq!(store.training_event(&sys, ev.id).await.unwrap().unwrap().credits, 24.0);

        // Others may not change the catalogue.
        let (prov, prov_csrf) = signed_in(&app, "prov01").await;
        let (s, _) = get(&prov, &app, &edit).await;
        assert_eq!(s, 403);
        let mut forged = course_form;
        forged[0] = ("csrf", prov_csrf.as_str());
        let (s, _, _) = post(&prov, &app, &path, &forged).await;
        assert_eq!(s, 403);
        app.stop().await;
    }
}

#[tokio::test]
async fn an_officer_finds_workers_ticks_them_and_records_them_all_as_passed() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = &app.db.store;
        let sys = system_principal("test");
        let mut a = worker("សុខ ដារ៉ា", "Sok Dara", "010201");
        a.national_id = Some("KH11111111".into());
        let a = store.create_worker(&sys, &a, today()).await.unwrap();
        let mut b = worker("សុខ ណារី", "Sok Nary", "010202");
        b.national_id = Some("KH22222222".into());
        let b = store.create_worker(&sys, &b, today()).await.unwrap();
        let mut far = worker("សុខ ចាន់", "Sok Chan", "020101");
        far.national_id = Some("KH33333333".into());
        let far = store.create_worker(&sys, &far, today()).await.unwrap();
        app.account("prov01", UserRole::ProvincialOfficer, Some("01"), None, None).await;
        let vc = programme_id(store, "VC-PSW").await;
        let module = komlang_core::training::CourseInput {
            code: "VC-F1".into(),
            title_en: "Field module".into(),
            programme_id: Some(vc),
            hours: komlang_core::training::Hours { teaching: 12.0, lab: 6.0, field: 9.0 },
            ..Default::default()
        };
        let module = store.create_course(&sys, &module).await.unwrap();
        let ev = komlang_core::training::EventInput {
            course_id: module.id,
            starts_on: "2026-03-02".into(),
            ends_on: "2026-03-04".into(),
            place_code: "0102".into(),
            ..Default::default()
        };
        let ev = store.create_training_event(&sys, &ev).await.unwrap();
        let (prov, csrf) = signed_in(&app, "prov01").await;

        // The search finds the officer's workers by name, not those of another province.
        let (s, page) = get(&prov, &app, &format!("/training/events/{}?find=sok", ev.id)).await;
        assert_eq!(s, 200, "{engine:?}");
        for (w, listed) in [(&a, true), (&b, true), (&far, false)] {
            let found = page.contains(&format!("name=\"worker_id\" value=\"{}\"", w.id));
            assert_eq!(found, listed, "{engine:?}: {} found = {found}", w.name_latin);
        }
        assert!(!page.contains("Sok Chan"), "{engine:?}: another province's worker is not shown");
        // Ticking two adds both; typed ids may be mixed in.
        let (aid, bid) = (a.id.to_string(), b.id.to_string());
        let path = format!("/training/events/{}/participants", ev.id);
        let (s, _, _) = post(&prov, &app, &path, &[("csrf", &csrf), ("worker_id", &aid), ("worker_id", &bid)]).await;
        assert_eq!(s, 303, "{engine:?}");
        let (_, page) = get(&prov, &app, &format!("/training/events/{}?find=sok", ev.id)).await;
        assert!(!page.contains(&format!("name=\"worker_id\" value=\"{aid}\"")), "participants are not offered again");
        assert!(page.contains("id=\"pass-pending-form\""), "{engine:?}: two pending");

        // All pending recorded as passed, with the event's hours: 12/15 + 6/30 + 9/45 = 1.2 credits.
        let (s, _, _) =
            post(&prov, &app, &format!("/training/events/{}/pass-pending", ev.id), &[("csrf", &csrf)]).await;
        assert_eq!(s, 303);
        for w in [&a, &b] {
            let t = store.transcript(&sys, w.id).await.unwrap();
            assert_eq!((t.trainings.len(), t.total_credits), (1, 1.2), "{engine:?}");
            assert_eq!(t.trainings[0].result, komlang_core::training::TrainingResult::Passed);
        }
        let (_, page) = get(&prov, &app, &format!("/training/events/{}", ev.id)).await;
        assert!(!page.contains("id=\"pass-pending-form\""), "{engine:?}: nobody pending any more");
        app.stop().await;
    }
}

#[tokio::test]
async fn catalogue_forms_lists_reports_and_exports() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let store = &app.db.store;
        let sys = system_principal("test");
        let w = store.create_worker(&sys, &worker("សុខ ដារ៉ា", "Sok Dara", "010201"), today()).await.unwrap();
        let far = store.create_worker(&sys, &graduate("ចាន់ សុភា", "Chan Sophea", "020101"), today()).await.unwrap();
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        app.account("prov01", UserRole::ProvincialOfficer, Some("01"), None, None).await;
        let (admin, csrf) = signed_in(&app, "admin").await;

        // An institution, then a programme of it; a duplicate code is refused at its field.
        let inst =
            [("csrf", csrf.as_str()), ("code", "psa"), ("name_en", "Phnom Penh Social Academy"), ("kind", "ngo")];
        let (s, _, _) = post(&admin, &app, "/training/institutions", &inst).await;
        assert_eq!(s, 303, "{engine:?}");
        let (s, _, body) = post(&admin, &app, "/training/institutions", &inst).await;
        assert_eq!(s, 422);
        assert!(body.contains("id=\"e-institution-code\">The code PSA is already used.<"), "{engine:?}");
        let psa = store.institutions().await.unwrap().into_iter().find(|i| i.code == "PSA").unwrap();
        let (s, to, _) = post(
            &admin,
            &app,
            "/training/programmes",
            &[
                ("csrf", &csrf),
                ("code", "TVC1-CM"),
                ("title_en", "Case management certificate"),
                ("level", "tvc1"),
                ("institution_id", &psa.id.to_string()),
                ("credits_required", ""),
            ],
        )
        .await;
        assert_eq!(s, 303, "{engine:?}");
        let (_, page) = get(&admin, &app, &to).await;
        assert!(page.contains("id=\"credits-required\">30<"), "{engine:?}: the level's default credits");
        assert!(page.contains("Phnom Penh Social Academy"));
        let (s, _, body) = post(
            &admin,
            &app,
            "/training/programmes",
            &[("csrf", &csrf), ("code", "X"), ("title_en", "X"), ("level", "tvc9"), ("institution_id", "")],
        )
        .await;
        assert_eq!(s, 422);
        assert!(body.contains("id=\"e-programme-level\">Not one of the allowed values.<"), "{engine:?}");
        // A course on its own (continuing education), from the hub.
        let (s, to, _) = post(
            &admin,
            &app,
            "/training/courses",
            &[("csrf", &csrf), ("code", "CE-ETHICS"), ("title_en", "Ethics refresher"), ("hours.teaching", "7.5")],
        )
        .await;
        assert_eq!((s, to.as_str()), (303, "/training#courses"), "{engine:?}");
        let (_, hub) = get(&admin, &app, "/training").await;
        assert!(
            hub.contains("CE-ETHICS") && hub.contains("<td class=\"num\">0.5</td>"),
            "{engine:?}: 7.5 h = 0.5 credit"
        );

        // Events in two provinces; the officer of province 01 lists, filters and exports theirs.
        let ce = store.courses(Some(None)).await.unwrap().remove(0);
        let mut ids = Vec::new();
        for (place, starts) in [("0102", "2026-02-02"), ("02", "2026-04-06")] {
            let ev = store
                .create_training_event(
                    &sys,
                    &komlang_core::training::EventInput {
                        course_id: ce.id,
                        starts_on: starts.into(),
                        ends_on: starts.into(),
                        place_code: place.into(),
                        venue: Some(format!("Hall {place}")),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            ids.push(ev.id);
        }
        store.add_participants(&sys, ids[0], &[w.id]).await.unwrap();
        store.add_participants(&sys, ids[1], &[far.id]).await.unwrap();
        let (off, off_csrf) = signed_in(&app, "prov01").await;
        let (s, list) = get(&off, &app, "/training/events").await;
        assert_eq!(s, 200, "{engine:?}");
        assert!(list.contains("Hall 0102") || list.contains(&format!("/training/events/{}", ids[0])), "{engine:?}");
        assert!(!list.contains(&format!("/training/events/{}\"", ids[1])), "{engine:?}: another province's event");
        let (_, admin_list) = get(&admin, &app, "/training/events?from=2026-03-01").await;
        assert!(admin_list.contains(&format!("/training/events/{}\"", ids[1])), "{engine:?}");
        assert!(!admin_list.contains(&format!("/training/events/{}\"", ids[0])), "{engine:?}: ended before the filter");
        for format in ["csv", "xlsx"] {
            let r = off.get(app.url(&format!("/training/events/export?format={format}"))).send().await.unwrap();
            assert_eq!(r.status(), 200, "{engine:?}");
            let t = komlang_web::imports::read_table(&format!("e.{format}"), &r.bytes().await.unwrap(), None).unwrap();
            let col = |h: &str| t.headers.iter().position(|x| x == h).unwrap();
            let names: Vec<&str> = t.rows.iter().map(|(_, r)| r[col("name_latin")].as_str()).collect();
            assert_eq!(names, ["Sok Dara"], "{engine:?}: {format}");
            assert_eq!(t.rows[0].1[col("venue")], "Hall 0102");
        }
        // The officer changes the event, records a failed result, then removes the participant.
        let (s, form) = get(&off, &app, &format!("/training/events/{}/edit", ids[0])).await;
        assert_eq!(s, 200);
        assert!(form.contains("value=\"Hall 0102\"") && form.contains("value=\"7.5\""), "{engine:?}");
        assert_eq!(get(&off, &app, &format!("/training/events/{}/edit", ids[1])).await.0, 404, "{engine:?}");
        let (s, _, _) = post(
            &off,
            &app,
            &format!("/training/events/{}", ids[0]),
            &[
                ("csrf", &off_csrf),
                ("course_id", &ce.id.to_string()),
                ("starts_on", "2026-02-02"),
                ("ends_on", "2026-02-03"),
                ("place_code", "0102"),
                ("venue", "Sisophon hall"),
                ("hours.teaching", "15"),
            ],
        )
        .await;
        assert_eq!(s, 303, "{engine:?}");
        let ev = store.training_event(&sys, ids[0]).await.unwrap().unwrap();
        assert_eq!((ev.venue.as_deref(), ev.days, ev.credits), (Some("Sisophon hall"), 2, 1.0), "{engine:?}");
        let apath = format!("/training/events/{}/participants/{}", ids[0], w.id);
        let (s, _, body) =
            post(&off, &app, &apath, &[("csrf", &off_csrf), ("result", "failed"), ("days_attended", "3")]).await;
        assert_eq!(s, 422, "{engine:?}");
        assert!(body.contains("More days than the event lasts (2)."), "{engine:?}");
        let (s, _, _) =
            post(&off, &app, &apath, &[("csrf", &off_csrf), ("result", "failed"), ("days_attended", "1")]).await;
        assert_eq!(s, 303);
        let (_, t) = get(&off, &app, &format!("/workers/{}/transcript", w.id)).await;
        assert!(t.contains("Failed") && t.contains("id=\"total-credits\">0<"), "{engine:?}: a failure earns nothing");
        let r = off.get(app.url(&format!("/workers/{}/transcript/export?format=csv", w.id))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let csv = String::from_utf8(r.bytes().await.unwrap().to_vec()).unwrap();
        assert!(csv.contains("CE-ETHICS") && csv.contains("failed"), "{engine:?}: {csv}");
        let (s, _, _) = post(&off, &app, &format!("{apath}/delete"), &[("csrf", &off_csrf)]).await;
        assert_eq!(s, 303);
        assert!(store.event_participants(&sys, ids[0]).await.unwrap().is_empty(), "{engine:?}");

        // Progress: an eligible worker is listed with a link to the transcript.
        let vc = programme_id(store, "VC-PSW").await;
        store
            .add_recognition(
                &sys,
                w.id,
                &komlang_core::training::RecognitionInput {
                    kind: "rcc".into(),
                    programme_id: vc,
                    hours: komlang_core::training::Hours { teaching: 450.0, ..Default::default() },
                    evidence: "Observed practice".into(),
                    assessor: "NISA".into(),
                    assessed_on: today().to_string(),
                },
                today(),
            )
            .await
            .unwrap();
        let (s, p) = get(&off, &app, "/training/progress").await;
        assert_eq!(s, 200, "{engine:?}");
        assert!(p.contains(&format!("href=\"/workers/{}/transcript\"", w.id)), "{engine:?}: the eligible worker");
        assert!(p.contains("id=\"eligible-total\">Workers eligible for a certificate: 1<"), "{engine:?}");
        let (_, p) = get(&off, &app, "/training/progress?cadre=allied_worker").await;
        assert!(p.contains("Workers eligible for a certificate: 0<"), "{engine:?}: filtered out");

        // Targets: Table 11 loaded; the administrator replaces one and adds one.
        let (s, t) = get(&off, &app, "/training/targets").await;
        assert_eq!(s, 200);
        assert!(t.contains("id=\"t-ccwc-2025\"") && t.contains("3292"), "{engine:?}: Table 11");
        assert!(!t.contains("id=\"target-form\""), "{engine:?}: no form for an officer");
        let (s, _, body) = post(
            &admin,
            &app,
            "/training/targets",
            &[
                ("csrf", &csrf),
                ("group_code", "ccwc"),
                ("group_en", "CCWC"),
                ("level", "vocational_certificate"),
                ("year", "1999"),
                ("target", "10"),
                ("roles", "ccwc_member"),
            ],
        )
        .await;
        assert_eq!(s, 422);
        assert!(body.contains("id=\"e-target-year\">Must be between 2000 and 2100.<"), "{engine:?}");
        assert!(body.contains("value=\"ccwc_member\" checked"), "{engine:?}: the chosen roles are kept");
        let (s, _, _) = post(
            &admin,
            &app,
            "/training/targets",
            &[
                ("csrf", &csrf),
                ("group_code", "ccwc"),
                ("group_en", "CCWC members"),
                ("level", "vocational_certificate"),
                ("year", "2030"),
                ("target", "4000"),
                ("roles", "ccwc_member"),
                ("roles", "ccwc_focal_point"),
            ],
        )
        .await;
        assert_eq!(s, 303, "{engine:?}");
        let (_, t) = get(&admin, &app, "/training/targets").await;
        assert!(t.contains("id=\"t-ccwc-2030\"") && t.contains("4000"), "{engine:?}");
        app.stop().await;
    }
}

/// Every key the training, licensing and public pages name as a string (not only through
/// `.t("…")`, which the crate's own i18n test reads) exists in both languages.
#[test]
fn every_key_the_training_pages_name_exists_in_both_languages() {
    use komlang_web::common::i18n::{I18n, Locale};
    let mut src = String::new();
    for feature in ["training", "licensing", "public"] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(feature);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no sources in {}", dir.display());
        for f in files {
            src.push_str(&std::fs::read_to_string(f).unwrap());
        }
    }
    let mut missing = Vec::new();
    let mut seen = 0;
    for lit in src.split('"').skip(1).step_by(2) {
        let Some((section, rest)) = lit.split_once('.') else { continue };
        if !["training", "common", "nav", "worker", "licence_action"].contains(&section)
            || rest.is_empty()
            || !rest.chars().all(|c| c.is_ascii_lowercase() || c == '_')
        {
            continue;
        }
        seen += 1;
        for l in Locale::ALL {
            if !I18n::new(l).has(lit) {
                missing.push(format!("{}:{lit}", l.code()));
            }
        }
    }
    assert!(seen > 50, "the key scan found only {seen} keys");
    assert!(missing.is_empty(), "missing translations: {missing:?}");
}
