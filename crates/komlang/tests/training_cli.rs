//! `komlang training` end to end, with the built binary, on every engine: certificate
//! verification and its exit codes, licences about to expire, exports and the licensing rules.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::{Days, NaiveDate};
use komlang_core::training::{AttendanceInput, CourseInput, DecisionInput, EventInput, Hours, ProgrammeInput};
use komlang_core::validate::WorkerInput;
use komlang_store::testing::{engines, TestDb};
use komlang_store::{system_principal, Store};

mod common;
use common::*;

fn today() -> NaiveDate {
    chrono::Local::now().date_naive()
}

async fn worker(store: &Store, name: &str, workplace: &str) -> i64 {
    let input = WorkerInput {
        name_km: Some("ចាន់ ស្រីមុំ".into()),
        name_latin: Some(name.into()),
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
    store.create_worker(&system_principal("test"), &input, today()).await.unwrap().id
}

/// Two certified workers (the second certificate revoked) and an active licence of the first:
/// the two certificate numbers and the licence number.
async fn records(store: &Store) -> (String, String, String) {
    let admin = system_principal("test");
    let nisa = store.institutions().await.unwrap().into_iter().find(|i| i.code == "NISA").unwrap().id;
    let prog = store
        .create_programme(
            &admin,
            &ProgrammeInput {
                code: "T-CP".into(),
                title_en: "Child protection basics".into(),
                level: "allied_certificate".into(),
                institution_id: nisa,
                credits_required: Some(5),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let course = store
        .create_course(
            &admin,
            &CourseInput {
                code: "T-CP-1".into(),
                title_en: "Case management".into(),
                programme_id: Some(prog.id),
                hours: Hours { teaching: 30.0, lab: 45.0, field: 90.0 },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ev = store
        .create_training_event(
            &admin,
            &EventInput {
                course_id: course.id,
                starts_on: (today() - Days::new(20)).to_string(),
                ends_on: (today() - Days::new(18)).to_string(),
                place_code: "02".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let w1 = worker(store, "Chan Sreymom", "020101").await;
    let w2 = worker(store, "Keo Sophal", "020102").await;
    store.add_participants(&admin, ev.id, &[w1, w2]).await.unwrap();
    let passed = AttendanceInput { result: "passed".into(), ..Default::default() };
    let mut numbers = Vec::new();
    for w in [w1, w2] {
        store.record_attendance(&admin, ev.id, w, &passed, None).await.unwrap();
        numbers.push(store.issue_certificate(&admin, w, prog.id, today()).await.unwrap().number);
    }
    store.revoke_certificate(&admin, &numbers[1], "issued in error", today()).await.unwrap();
    let l = store.apply_licence(&admin, w1, None, today()).await.unwrap();
    let approve = DecisionInput { action: "approve".into(), reason: None };
    let l = store.decide_licence(&admin, l.id, &approve, today(), None).await.unwrap();
    (numbers[0].clone(), numbers[1].clone(), l.number.unwrap())
}

async fn exercise(db: &TestDb) {
    let url = db.url.as_str();
    let (valid, revoked, licence) = records(&db.store).await;
    let dir = std::env::temp_dir().join(format!("komlang-training-cli-{}-{:?}", std::process::id(), db.engine));
    std::fs::create_dir_all(&dir).unwrap();

    // Verification: 0 valid, 1 revoked, 2 unknown or not a number.
    let out = code(&komlang(url, &["training", "verify", &valid.to_lowercase()]), 0);
    assert!(out.contains(&format!("{valid}  VALID")) && out.contains("Chan Sreymom"), "{out}");
    assert!(out.contains("Child protection basics"), "{out}");
    let o = komlang(url, &["training", "verify", &revoked]);
    let out = code(&o, 1);
    assert!(out.contains("REVOKED") && out.contains("revoked on:"), "{out}");
    assert!(err(&o).contains("was revoked"), "{}", err(&o));
    let o = komlang(url, &["training", "verify", "C-0000-0000-0000-0"]);
    code(&o, 2);
    assert!(err(&o).contains("unknown_certificate"), "{}", err(&o));
    let o = komlang(url, &["training", "verify", "hello"]);
    code(&o, 2);
    assert!(err(&o).contains("not_a_certificate_number"), "{}", err(&o));

    // Licences expiring: listed only when the window reaches the expiry.
    let days = (db.store.licences(&system_principal("t"), &Default::default(), today()).await.unwrap().items[0]
        .days_to_expiry)
        .unwrap();
    let out = code(&komlang(url, &["training", "licences-expiring", "--days", &days.to_string()]), 0);
    assert!(out.starts_with("NUMBER"), "{out}");
    assert!(out.contains(&licence) && out.contains("Chan Sreymom"), "{out}");
    assert!(out.contains("1 licence(s) expire within"), "{out}");
    let out = code(&komlang(url, &["training", "licences-expiring", "--days", &(days - 1).to_string()]), 0);
    assert!(!out.contains(&licence) && out.contains("0 licence(s)"), "{out}");
    let csv = code(&komlang(url, &["training", "licences-expiring", "--days", "5000", "--format", "csv"]), 0);
    assert!(csv.starts_with("\u{feff}licence_number,worker_id,"), "{csv}");
    assert!(csv.contains(&licence), "{csv}");
    let file = dir.join("expiring.xlsx");
    let f = file.to_str().unwrap();
    let out = code(&komlang(url, &["training", "licences-expiring", "--days", "5000", "--out", f]), 0);
    assert!(out.contains("written to"), "{out}");
    assert!(std::fs::read(&file).unwrap().starts_with(b"PK"));

    // Exports.
    let file = dir.join("events.csv");
    let f = file.to_str().unwrap();
    let out = code(&komlang(url, &["training", "export", "events", "--out", f]), 0);
    assert!(out.contains("Exported 2 row(s)"), "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("\u{feff}event_id,course_code,") && text.contains("Keo Sophal"), "{text}");
    let file = dir.join("certificates.csv");
    let f = file.to_str().unwrap();
    let out = code(&komlang(url, &["training", "export", "certificates", "--out", f]), 0);
    assert!(out.contains("Exported 2 row(s)"), "{out}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("\u{feff}certificate_number,level,"), "{text}");
    assert!(text.contains(&format!("{valid},allied_certificate")) && text.contains(&revoked), "{text}");
    let file = dir.join("licences.xlsx");
    let f = file.to_str().unwrap();
    code(&komlang(url, &["training", "export", "licences", "--status", "active", "--out", f]), 0);
    assert!(std::fs::read(&file).unwrap().starts_with(b"PK"));
    let o = komlang(url, &["training", "export", "events", "--format", "pdf", "--out", f]);
    code(&o, 2);
    assert!(err(&o).contains("format: invalid_choice"), "{}", err(&o));
    let o = komlang(url, &["training", "export", "licences", "--status", "valid", "--out", f]);
    code(&o, 2);

    // Licensing rules.
    let out = code(&komlang(url, &["training", "rules"]), 0);
    assert_eq!(out, "term_years: 3\nrenewal_ce_hours: 30\n");
    let out = code(&komlang(url, &["training", "rules", "--ce-hours", "20"]), 0);
    assert_eq!(out, "term_years: 3\nrenewal_ce_hours: 20\n");
    let o = komlang(url, &["training", "rules", "--term-years", "0"]);
    code(&o, 2);
    assert!(err(&o).contains("term_years: out_of_range (must be between 1 and 10)"), "{}", err(&o));
    assert_eq!(db.store.licensing_rules().await.unwrap().renewal_ce_hours, 20);

    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn training_commands_on_every_engine() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        exercise(&db).await;
        db.cleanup().await;
    }
}
