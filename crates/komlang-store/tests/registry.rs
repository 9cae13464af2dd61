//! Registry behaviour on every engine: scope, history, audit, bad input.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::NaiveDate;
use komlang_core::validate::{OrgInput, WorkerInput};
use komlang_core::*;
use komlang_store::testing::{engines, TestDb};
use komlang_store::{system_principal, AuditQuery, NewUser, StoreError, WorkerChange, WorkerQuery};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn input(name_km: &str, name_latin: &str, workplace: &str) -> WorkerInput {
    WorkerInput {
        name_km: Some(name_km.into()),
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
    }
}

async fn principal(db: &TestDb, username: &str, role: UserRole, scope: Option<&str>, org: Option<i64>) -> Principal {
    let admin = system_principal("test");
    let u = db
        .store
        .create_user(
            &admin,
            &NewUser {
                username: username.into(),
                password: "correct horse".into(),
                role,
                scope_code: scope.map(String::from),
                org_id: org,
                worker_id: None,
            },
        )
        .await
        .unwrap();
    db.store.principal_for_user(u.id).await.unwrap().unwrap()
}

#[tokio::test]
async fn scope_limits_what_is_listed_counted_and_changed() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        // Banteay Meanchey (01) and Battambang (02).
        let a = db.store.create_worker(&admin, &input("សុខ ដារ៉ា", "Sok Dara", "010201"), today()).await.unwrap();
        let b = db.store.create_worker(&admin, &input("ចាន់ សុភា", "Chan Sophea", "020101"), today()).await.unwrap();
        let prov = principal(&db, "bmc", UserRole::ProvincialOfficer, Some("01"), None).await;

        let page = db.store.list_workers(&prov, &WorkerQuery::default()).await.unwrap();
        assert_eq!(page.total, 1, "{engine:?}");
        assert_eq!(page.items[0].id, a.id);
        assert!(db.store.get_worker(&prov, b.id).await.unwrap().is_none());
        let patch = WorkerInput { phone: Some("012 345 678".into()), ..Default::default() };
        let r = db.store.update_worker(&prov, b.id, &patch, &WorkerChange::default(), today(), None).await;
        assert!(matches!(r, Err(StoreError::NotFound)), "{engine:?}: {r:?}");
        // Creating in another province is refused, with the field named.
        let r = db.store.create_worker(&prov, &input("ហេង លី", "Heng Ly", "020101"), today()).await;
        match r {
            Err(StoreError::Invalid(e)) => assert_eq!(e.for_field("workplace_code").unwrap().code, "out_of_scope"),
            other => panic!("{engine:?}: {other:?}"),
        }
        // Search by Khmer name, within scope only.
        let q = WorkerQuery { q: Some("ដារ៉ា".into()), ..Default::default() };
        assert_eq!(db.store.list_workers(&admin, &q).await.unwrap().total, 1);
        let q = WorkerQuery { q: Some("សុភា".into()), ..Default::default() };
        assert_eq!(db.store.list_workers(&prov, &q).await.unwrap().total, 0);
        let q = WorkerQuery { province: Some("02".into()), ..Default::default() };
        assert_eq!(db.store.list_workers(&admin, &q).await.unwrap().items[0].id, b.id);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn transfers_and_status_changes_keep_history_and_are_audited() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let w = db.store.create_worker(&admin, &input("កែវ ចន្ធូ", "Keo Chanthou", "010201"), today()).await.unwrap();
        let patch = WorkerInput { workplace_code: Some("010202".into()), ..Default::default() };
        let change = WorkerChange { effective_date: NaiveDate::from_ymd_opt(2024, 6, 1), note: None };
        db.store.update_worker(&admin, w.id, &patch, &change, today(), None).await.unwrap();
        let patch = WorkerInput { status: Some("on_leave".into()), ..Default::default() };
        let change =
            WorkerChange { effective_date: NaiveDate::from_ymd_opt(2025, 1, 1), note: Some("maternity".into()) };
        let now = db.store.update_worker(&admin, w.id, &patch, &change, today(), None).await.unwrap();
        assert_eq!(now.status, EmploymentStatus::OnLeave);
        assert_eq!(now.workplace_code, "010202");

        let postings = db.store.worker_postings(&admin, w.id).await.unwrap();
        assert_eq!(postings.len(), 2, "{engine:?}");
        assert_eq!(postings[0].workplace_code, "010202");
        assert_eq!(postings[0].end_date, None);
        assert_eq!(postings[1].workplace_code, "010201");
        assert_eq!(postings[1].end_date, NaiveDate::from_ymd_opt(2024, 6, 1));
        let statuses = db.store.worker_status_history(&admin, w.id).await.unwrap();
        assert_eq!(
            statuses.iter().map(|s| s.status).collect::<Vec<_>>(),
            vec![EmploymentStatus::OnLeave, EmploymentStatus::Active]
        );
        assert_eq!(statuses[0].note.as_deref(), Some("maternity"));

        // Leaving closes the current posting on the end date.
        let patch =
            WorkerInput { status: Some("retired".into()), end_date: Some("2026-06-30".into()), ..Default::default() };
        db.store.update_worker(&admin, w.id, &patch, &WorkerChange::default(), today(), None).await.unwrap();
        let postings = db.store.worker_postings(&admin, w.id).await.unwrap();
        assert_eq!(postings.len(), 2, "{engine:?}: no new posting on leaving");
        assert_eq!(postings[0].end_date, NaiveDate::from_ymd_opt(2026, 6, 30));

        let audit = db
            .store
            .list_audit(
                &admin,
                &AuditQuery { entity: Some("worker".into()), entity_id: Some(w.id.to_string()), ..Default::default() },
            )
            .await
            .unwrap();
        assert_eq!(audit.total, 4, "{engine:?}");
        let last = &audit.items[1];
        assert_eq!(last.action, "update");
        assert_eq!(last.username, "test");
        let changed: Vec<String> = last.changes().into_iter().map(|c| c.field).collect();
        assert_eq!(changed, vec!["status".to_string()]);
        assert_eq!(last.before.as_ref().unwrap()["status"], "active");
        assert_eq!(last.after.as_ref().unwrap()["status"], "on_leave");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_input_changes_nothing() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let mut first = input("លី ស្រីមុំ", "Ly Sreymom", "010201");
        first.national_id = Some("123456789".into());
        let w = db.store.create_worker(&admin, &first, today()).await.unwrap();
        let mut dup = input("ម៉ៅ វណ្ណា", "Mao Vanna", "010201");
        dup.national_id = Some("123456789".into());
        match db.store.create_worker(&admin, &dup, today()).await {
            Err(StoreError::Invalid(e)) => {
                let f = e.for_field("national_id").unwrap();
                assert_eq!(f.code, "duplicate_national_id");
                assert_eq!(f.params["existing_id"], w.id.to_string());
            }
            other => panic!("{engine:?}: {other:?}"),
        }
        let mut bad = input("x", "Mao Vanna", "999999");
        bad.org_id = Some(4242);
        match db.store.create_worker(&admin, &bad, today()).await {
            Err(StoreError::Invalid(e)) => {
                assert_eq!(e.for_field("workplace_code").unwrap().code, "unknown_admin_unit");
                assert_eq!(e.for_field("org_id").unwrap().code, "unknown_organization");
            }
            other => panic!("{engine:?}: {other:?}"),
        }
        assert_eq!(db.store.list_workers(&admin, &WorkerQuery::default()).await.unwrap().total, 1);
        let audit = db.store.list_audit(&admin, &AuditQuery::default()).await.unwrap();
        assert_eq!(audit.total, 1, "only the first create is audited");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn org_staff_and_workers_see_only_their_own() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let org_input = |name: &str, reg: &str| OrgInput {
            name_en: Some(name.into()),
            kind: Some("ngo".into()),
            registration_no: Some(reg.into()),
            admin_code: Some("12".into()),
            ..Default::default()
        };
        let ngo = db.store.create_org(&admin, &org_input("Friends", "MOI-1")).await.unwrap();
        let other = db.store.create_org(&admin, &org_input("Others", "MOI-2")).await.unwrap();
        let dup = db.store.create_org(&admin, &org_input("Copy", "MOI-1")).await;
        assert!(matches!(dup, Err(StoreError::Invalid(ref e)) if e.for_field("registration_no").is_some()), "{dup:?}");
        let hr = principal(&db, "hrm", UserRole::OrgHrManager, None, Some(ngo.org.id)).await;
        let mut mine = input("ស៊ុន ធារី", "Sun Theary", "120101");
        mine.sector = Some("ngo".into());
        mine.role = Some("ngo_case_worker".into());
        let created = db.store.create_worker(&hr, &mine, today()).await.unwrap();
        assert_eq!(created.org_id, Some(ngo.org.id), "defaults to the manager's organization");
        let mut theirs = mine.clone();
        theirs.org_id = Some(other.org.id);
        assert!(db.store.create_worker(&hr, &theirs, today()).await.is_err());
        let theirs = db.store.create_worker(&admin, &theirs, today()).await.unwrap();
        assert_eq!(db.store.list_workers(&hr, &WorkerQuery::default()).await.unwrap().total, 1);
        assert!(db.store.get_worker(&hr, theirs.id).await.unwrap().is_none());
        assert_eq!(db.store.list_orgs(&hr, &Default::default()).await.unwrap().total, 1);

        // A worker account sees itself and may change only its own contact fields.
        let u = db
            .store
            .create_user(
                &admin,
                &NewUser {
                    username: "self".into(),
                    password: "correct horse".into(),
                    role: UserRole::Worker,
                    scope_code: None,
                    org_id: None,
                    worker_id: Some(created.id),
                },
            )
            .await
            .unwrap();
        let me = db.store.principal_for_user(u.id).await.unwrap().unwrap();
        assert_eq!(db.store.list_workers(&me, &WorkerQuery::default()).await.unwrap().total, 1);
        assert!(db.store.get_worker(&me, theirs.id).await.unwrap().is_none());
        let ok = WorkerInput { phone: Some("097 111 2222".into()), ..Default::default() };
        let updated =
            db.store.update_worker(&me, created.id, &ok, &WorkerChange::default(), today(), None).await.unwrap();
        assert_eq!(updated.phone.as_deref(), Some("097 111 2222"));
        let not_ok = WorkerInput { cadre: Some("professional_social_worker".into()), ..Default::default() };
        match db.store.update_worker(&me, created.id, &not_ok, &WorkerChange::default(), today(), None).await {
            Err(StoreError::Invalid(e)) => assert_eq!(e.for_field("cadre").unwrap().code, "not_editable"),
            other => panic!("{engine:?}: {other:?}"),
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn login_is_rate_limited_and_tokens_authenticate() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        principal(&db, "officer", UserRole::ProvincialOfficer, Some("02"), None).await;
        let now = 1_800_000_000;
        assert!(matches!(
            db.store.login("officer", "correct horse", "10.0.0.1", now).await.unwrap(),
            komlang_store::LoginOutcome::Ok(_)
        ));
        for _ in 0..5 {
            assert_eq!(
                db.store.login("officer", "wrong", "10.0.0.1", now).await.unwrap(),
                komlang_store::LoginOutcome::Invalid
            );
        }
        // Locked now, even with the right password; unlocked after the window.
        assert!(matches!(
            db.store.login("officer", "correct horse", "10.0.0.1", now + 1).await.unwrap(),
            komlang_store::LoginOutcome::Locked(_)
        ));
        assert!(matches!(
            db.store.login("officer", "correct horse", "10.0.0.1", now + 16 * 60).await.unwrap(),
            komlang_store::LoginOutcome::Ok(_)
        ));

        let token = db.store.create_token("officer").await.unwrap();
        let p = db.store.principal_for_token(&token).await.unwrap().unwrap();
        assert_eq!(p.scope, Scope::Unit { code: "02".into(), level: AdminLevel::Province });
        assert!(db.store.principal_for_token("kml_nope").await.unwrap().is_none());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_profile_is_the_worker_with_employer_place_history_and_supervisor_in_scope_only() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let org = db
            .store
            .create_org(
                &admin,
                &OrgInput {
                    name_en: Some("Hope".into()),
                    name_km: Some("ក្តីសង្ឃឹម".into()),
                    kind: Some("ngo".into()),
                    admin_code: Some("02".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let mut i = input("ចាន់ សុភា", "Chan Sophea", "020101");
        i.org_id = Some(org.org.id);
        let w = db.store.create_worker(&admin, &i, today()).await.unwrap();
        let moved = WorkerInput { workplace_code: Some("020102".into()), ..Default::default() };
        let change = WorkerChange { effective_date: NaiveDate::from_ymd_opt(2024, 1, 1), note: None };
        db.store.update_worker(&admin, w.id, &moved, &change, today(), None).await.unwrap();
        principal(&db, "sup", UserRole::DistrictOfficer, Some("0201"), None).await;
        db.store.set_worker_supervisor(&admin, w.id, Some("sup")).await.unwrap();

        let prof = db.store.worker_profile(&admin, w.id).await.unwrap().expect("admin sees the worker");
        assert_eq!(prof.worker.id, w.id);
        assert_eq!(prof.worker.workplace_code, "020102");
        assert_eq!(prof.org.as_ref().map(|o| o.org.name_en.as_str()), Some("Hope"));
        // The workplace from the top: (the country, when loaded,) province 02, district 0201, commune 020102.
        let codes: Vec<&str> = prof.place.iter().map(|u| u.code.as_str()).collect();
        let tail = &codes[codes.len() - 3..];
        assert_eq!(tail, ["02", "0201", "020102"], "{codes:?}");
        assert!(codes.len() == 3 || prof.place[0].level == AdminLevel::Country, "{codes:?}");
        // Two postings (the move closed the first), newest first; one status (it did not change).
        let posted: Vec<&str> = prof.postings.iter().map(|p| p.workplace_code.as_str()).collect();
        assert_eq!(posted, ["020102", "020101"]);
        assert_eq!(prof.statuses.len(), 1);
        assert_eq!(prof.supervisor.as_ref().map(|s| s.username.as_str()), Some("sup"));
        // The same as the parts read one by one.
        assert_eq!(prof.postings, db.store.worker_postings(&admin, w.id).await.unwrap());
        assert_eq!(prof.statuses, db.store.worker_status_history(&admin, w.id).await.unwrap());

        // Outside the caller's scope there is no profile at all.
        let other = principal(&db, "bmc", UserRole::ProvincialOfficer, Some("01"), None).await;
        assert!(db.store.worker_profile(&other, w.id).await.unwrap().is_none());
        let unknown = db.store.worker_profile(&admin, w.id + 1000).await.unwrap();
        assert!(unknown.is_none());
        db.cleanup().await;
    }
}

fn org(name: &str, seat: &str) -> OrgInput {
    OrgInput {
        name_en: Some(name.into()),
        kind: Some("ngo".into()),
        admin_code: Some(seat.into()),
        ..Default::default()
    }
}

/// An officer names as employer only organizations it may see: seated in its area, or
/// employing someone there. A hidden organization answers as a missing one.
#[tokio::test]
async fn an_employer_must_be_an_organization_the_editor_may_see() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        // Seated in Battambang (02), in Phnom Penh (12) with staff in Battambang, in
        // Phnom Penh with no staff there.
        let local = db.store.create_org(&admin, &org("Battambang Care", "02")).await.unwrap();
        let national = db.store.create_org(&admin, &org("Nationwide Aid", "12")).await.unwrap();
        let elsewhere = db.store.create_org(&admin, &org("Capital Only", "12")).await.unwrap();
        let mut staff = input("ចាន់ សុភា", "Chan Sophea", "020101");
        staff.org_id = Some(national.org.id);
        db.store.create_worker(&admin, &staff, today()).await.unwrap();
        let w = db.store.create_worker(&admin, &input("សុខ ដារ៉ា", "Sok Dara", "020101"), today()).await.unwrap();

        let officer = principal(&db, "btb", UserRole::ProvincialOfficer, Some("02"), None).await;
        let seen: Vec<i64> = db
            .store
            .list_orgs(&officer, &komlang_store::OrgQuery::default())
            .await
            .unwrap()
            .items
            .iter()
            .map(|o| o.org.id)
            .collect();
        assert!(seen.contains(&local.org.id) && seen.contains(&national.org.id), "{engine:?}: {seen:?}");
        assert!(!seen.contains(&elsewhere.org.id), "{engine:?}: {seen:?}");
        assert!(db.store.get_org(&officer, elsewhere.org.id).await.unwrap().is_none());

        // A hidden organization and a missing one give the same answer, and nothing changes.
        for hidden_or_missing in [elsewhere.org.id, 987_654] {
            let patch = WorkerInput { org_id: Some(hidden_or_missing), ..Default::default() };
            match db.store.update_worker(&officer, w.id, &patch, &WorkerChange::default(), today(), None).await {
                Err(StoreError::Invalid(e)) => {
                    let f = e.for_field("org_id").unwrap();
                    assert_eq!((f.code.as_str(), f.params.len()), ("unknown_organization", 0), "{engine:?}");
                }
                other => panic!("{engine:?}: {other:?}"),
            }
        }
        assert_eq!(db.store.get_worker(&admin, w.id).await.unwrap().unwrap().org_id, None);
        // The hidden organization's HR manager still does not see the worker.
        let hr = principal(&db, "cap-hr", UserRole::OrgHrManager, None, Some(elsewhere.org.id)).await;
        assert!(db.store.get_worker(&hr, w.id).await.unwrap().is_none());

        // Visible organizations may be named: seated in the area, or with staff there.
        for ok in [local.org.id, national.org.id] {
            let patch = WorkerInput { org_id: Some(ok), ..Default::default() };
            let now =
                db.store.update_worker(&officer, w.id, &patch, &WorkerChange::default(), today(), None).await.unwrap();
            assert_eq!(now.org_id, Some(ok));
        }
        // Seen because of its staff is not enough to change the organization itself.
        let rename = OrgInput { name_en: Some("Renamed".into()), ..Default::default() };
        assert!(matches!(
            db.store.update_org(&officer, national.org.id, &rename, None).await,
            Err(StoreError::Forbidden)
        ));
        assert!(matches!(db.store.delete_org(&officer, national.org.id, None).await, Err(StoreError::Forbidden)));
        assert!(db.store.update_org(&officer, local.org.id, &rename, None).await.is_ok());
        db.cleanup().await;
    }
}

/// A zero-width space or a right-to-left override in a name is dropped on the way in, and
/// searching with or without one finds the same worker.
#[tokio::test]
async fn invisible_characters_neither_hide_nor_disguise_a_name() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let w = db
            .store
            .create_worker(&admin, &input("ចាន់\u{200B}សុភា\u{202E}", "Chan Sophea", "020101"), today())
            .await
            .unwrap();
        assert_eq!(w.name_km, "ចាន់សុភា");
        for q in ["ចាន់សុភា", "ចាន់\u{200B}សុភា", "\u{2066}ចាន់"] {
            let found =
                db.store.list_workers(&admin, &WorkerQuery { q: Some(q.into()), ..Default::default() }).await.unwrap();
            assert_eq!(found.total, 1, "{engine:?}: {q:?}");
        }
        match db.store.create_worker(&admin, &input("\u{200B}\u{200C}", "Chan Sophea", "020101"), today()).await {
            Err(StoreError::Invalid(e)) => assert_eq!(e.for_field("name_km").unwrap().code, "no_letter"),
            other => panic!("{engine:?}: {other:?}"),
        }
        db.cleanup().await;
    }
}

/// Two app servers (two pools on one database) edit one worker at the same moment: edits
/// of different fields both survive, and the audit trail chains, each entry's "before"
/// being the previous entry's "after", so a lost edit could not hide.
#[tokio::test]
async fn simultaneous_edits_of_one_record_are_all_kept_and_audited_truthfully() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let second = komlang_store::Store::open(&db.url).await.unwrap();
        let admin = system_principal("test");
        let w = db.store.create_worker(&admin, &input("ចាន់ សុភា", "Chan Sophea", "020101"), today()).await.unwrap();
        let org = db.store.create_org(&admin, &org("Battambang Care", "02")).await.unwrap();
        for trial in 0..20 {
            let title = WorkerInput { position_title: Some(format!("Officer {trial}")), ..Default::default() };
            let phone = WorkerInput { phone: Some(format!("012 345 {:03}", trial)), ..Default::default() };
            let change = WorkerChange::default();
            let (a, b) = tokio::join!(
                db.store.update_worker(&admin, w.id, &title, &change, today(), None),
                second.update_worker(&admin, w.id, &phone, &change, today(), None),
            );
            a.unwrap();
            b.unwrap();
            let now = db.store.get_worker(&admin, w.id).await.unwrap().unwrap();
            assert_eq!(now.position_title.as_deref(), Some(format!("Officer {trial}").as_str()), "{engine:?} {trial}");
            assert_eq!(now.phone.as_deref(), Some(format!("012 345 {:03}", trial).as_str()), "{engine:?} {trial}");

            let name = OrgInput { name_en: Some(format!("Battambang Care {trial}")), ..Default::default() };
            let phone = OrgInput { phone: Some(format!("053 952 {:03}", trial)), ..Default::default() };
            let (a, b) = tokio::join!(
                db.store.update_org(&admin, org.org.id, &name, None),
                second.update_org(&admin, org.org.id, &phone, None)
            );
            a.unwrap();
            b.unwrap();
            let o = db.store.get_org(&admin, org.org.id).await.unwrap().unwrap().org;
            assert_eq!(
                (o.name_en, o.phone),
                (format!("Battambang Care {trial}"), Some(format!("053 952 {:03}", trial)))
            );
        }
        for (entity, id) in [("worker", w.id), ("organization", org.org.id)] {
            let q = AuditQuery {
                entity: Some(entity.into()),
                entity_id: Some(id.to_string()),
                per_page: 500,
                ..Default::default()
            };
            let mut entries = db.store.list_audit(&admin, &q).await.unwrap().items;
            entries.reverse();
            assert_eq!(entries.len(), 41, "{engine:?} {entity}: the create and 40 edits");
            for pair in entries.windows(2) {
                assert_eq!(pair[1].before, pair[0].after, "{engine:?} {entity}: the audit chains");
            }
        }
        second.close().await;
        db.cleanup().await;
    }
}
