//! Pages over HTTP: login, language, forms with errors, audit browsing.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::{browser, csrf_of, login, TestApp};
use komlang_core::UserRole;
use komlang_store::testing::engines;

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

#[tokio::test]
async fn login_language_and_logout() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let c = browser();
        let r = c.get(app.url("/workers")).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(r.headers()["location"].to_str().unwrap().starts_with("/login?next=%2Fworkers"));

        // Wrong password, then without CSRF: refused.
        let page = c.get(app.url("/login")).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&page);
        let r = c
            .post(app.url("/login"))
            .form(&form(&[("username", "admin"), ("password", "nope"), ("csrf", &csrf)]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
        let r = c
            .post(app.url("/login"))
            .form(&form(&[("username", "admin"), ("password", common::PASSWORD)]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "no CSRF token, no session");

        login(&app, &c, "admin").await;
        let km = c.get(app.url("/lang/km?next=/workers")).send().await.unwrap();
        assert_eq!(km.headers()["location"], "/workers");
        let html = c.get(app.url("/workers")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("<html lang=\"km\">") && html.contains("បុគ្គលិកសេវាសង្គម"), "Khmer page");
        c.get(app.url("/lang/en?next=/workers")).send().await.unwrap();
        let html = c.get(app.url("/workers")).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("<html lang=\"en\">") && html.contains("Social service workers"), "English page");
        let r = c.get(app.url("/lang/en?next=//evil.example")).send().await.unwrap();
        assert_eq!(r.headers()["location"], "/", "no open redirect");

        let csrf = csrf_of(&html);
        let r = c.post(app.url("/logout")).form(&form(&[("csrf", &csrf)])).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(c.get(app.url("/workers")).send().await.unwrap().status(), 303, "logged out");
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_form_input_is_explained_and_audit_shows_changes() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        app.account("admin", UserRole::NationalAdmin, None, None, None).await;
        let c = browser();
        login(&app, &c, "admin").await;
        c.get(app.url("/lang/en")).send().await.unwrap();
        let new = c.get(app.url("/workers/new")).send().await.unwrap().text().await.unwrap();
        let csrf = csrf_of(&new);
        let good = [
            ("csrf", csrf.as_str()),
            ("name_km", "ចាន់ ស្រីនាង"),
            ("name_latin", "Chan Sreyneang"),
            ("sex", "female"),
            ("date_of_birth", "1992-09-09"),
            ("national_id", "880011223"),
            ("cadre", "para_social_worker"),
            ("role", "ccwc_focal_point"),
            ("sector", "government"),
            ("org_id", ""),
            ("workplace_code", "010201"),
            ("status", "active"),
        ];
        let r = c.post(app.url("/workers")).form(&form(&good)).send().await.unwrap();
        assert_eq!(r.status(), 303, "{engine:?}");
        let profile = r.headers()["location"].to_str().unwrap().to_string();
        let id: i64 = profile.rsplit('/').next().unwrap().parse().unwrap();

        // Same national ID, bad date, Khmer in the Latin field: every field explained, nothing saved.
        let mut bad = good;
        bad[2] = ("name_latin", "ចាន់");
        bad[4] = ("date_of_birth", "1992-02-30");
        let r = c.post(app.url("/workers")).form(&form(&bad)).send().await.unwrap();
        assert_eq!(r.status(), 422);
        let html = r.text().await.unwrap();
        assert!(html.contains("Use Latin letters only"), "{html}");
        assert!(html.contains("Not a valid date"));
        assert!(html.contains("Another worker already has this national ID number."));
        assert!(html.contains(&format!("href=\"/workers/{id}\"")), "link to the existing worker");
        assert!(html.contains("value=\"ចាន់ ស្រីនាង\""), "typed values are kept");
        c.get(app.url("/lang/km")).send().await.unwrap();
        let r = c.post(app.url("/workers")).form(&form(&bad)).send().await.unwrap();
        assert!(r.text().await.unwrap().contains("កាលបរិច្ឆេទមិនត្រឹមត្រូវ"), "errors in Khmer too");
        c.get(app.url("/lang/en")).send().await.unwrap();
        let admin = komlang_store::system_principal("t");
        assert_eq!(app.db.store.list_workers(&admin, &Default::default()).await.unwrap().total, 1);

        // Transfer through the edit form, then read the audit log page.
        let edit = c.get(app.url(&format!("/workers/{id}/edit"))).send().await.unwrap().text().await.unwrap();
        let mut moved = good.to_vec();
        let csrf = csrf_of(&edit);
        moved[0] = ("csrf", csrf.as_str());
        moved[10] = ("workplace_code", "010202");
        moved.push(("effective_date", "2026-01-05"));
        moved.push(("note", ""));
        let r = c.post(app.url(&format!("/workers/{id}"))).form(&form(&moved)).send().await.unwrap();
        assert_eq!(r.status(), 303);
        let page = c.get(app.url(&profile)).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("2026-01-05"), "closed posting shows its end date");
        let audit = c.get(app.url(&format!("/audit?entity=worker&entity_id={id}"))).send().await.unwrap();
        assert_eq!(audit.status(), 200);
        let audit = audit.text().await.unwrap();
        assert!(audit.contains("Results: 2"), "create and update");
        assert!(audit.contains("workplace_code") && audit.contains("010201") && audit.contains("→ 010202"), "{audit}");
        app.stop().await;
    }
}

#[tokio::test]
async fn about_page_carries_the_data_attribution() {
    let app = TestApp::start(engines()[0]).await;
    let html = reqwest::get(app.url("/about")).await.unwrap().text().await.unwrap();
    assert!(html.contains("Ministry of Economy and Finance") || html.contains("ក្រសួងសេដ្ឋកិច្ច និងហិរញ្ញវត្ថុ"));
    assert!(html.contains("data.mef.gov.kh"));
    app.stop().await;
}

#[tokio::test]
async fn editing_keeps_an_employer_outside_the_editors_scope() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let admin = komlang_store::system_principal("t");
        let org = komlang_core::validate::OrgInput {
            name_en: Some("Battambang Helpers".into()),
            kind: Some("ngo".into()),
            admin_code: Some("0201".into()),
            ..Default::default()
        };
        let org = app.db.store.create_org(&admin, &org).await.unwrap();
        let input = komlang_core::validate::WorkerInput {
            name_km: Some("កែវ វណ្ណា".into()),
            name_latin: Some("Keo Vanna".into()),
            sex: Some("male".into()),
            cadre: Some("para_professional".into()),
            role: Some("ngo_case_worker".into()),
            sector: Some("ngo".into()),
            org_id: Some(org.org.id),
            workplace_code: Some("010201".into()),
            status: Some("active".into()),
            ..Default::default()
        };
        let w = app.db.store.create_worker(&admin, &input, chrono::Local::now().date_naive()).await.unwrap();
        app.account("bmc", UserRole::ProvincialOfficer, Some("01"), None, None).await;
        let c = browser();
        login(&app, &c, "bmc").await;
        let edit = c.get(app.url(&format!("/workers/{}/edit", w.id))).send().await.unwrap().text().await.unwrap();
        assert!(
            edit.contains(&format!("<option value=\"{}\" selected>Battambang Helpers</option>", org.org.id)),
            "{engine:?}: the current employer stays selected"
        );
        app.stop().await;
    }
}
