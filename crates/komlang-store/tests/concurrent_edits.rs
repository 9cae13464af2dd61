//! Two people changing one record at once, through two stores on one database (two app
//! servers; the second connects to the database the first migrated), for every editable record besides workers and organizations (those are in
//! `registry.rs`): each change is applied to what the other stored, so the audit log chains
//! (each entry's "before" is the "after" of the entry before it) and a one-time action
//! (revoking a certificate, approving a licence) happens once.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use komlang_core::competency::{AssessmentInput, Rating, RatingInput, RequirementFor};
use komlang_core::training::*;
use komlang_core::validate::WorkerInput;
use komlang_core::*;
use komlang_store::testing::{engines, TestDb};
use komlang_store::{system_principal, AuditEntry, AuditQuery, NewUser, Store, StoreError, TargetInput};

const TRIALS: usize = 8;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

static ADMIN: std::sync::LazyLock<Principal> = std::sync::LazyLock::new(|| system_principal("test"));

fn admin() -> &'static Principal {
    &ADMIN
}

async fn add_worker(store: &Store, name: &str) -> Worker {
    let input = WorkerInput {
        name_km: Some("សុខ សុភា".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        date_of_birth: Some("1988-02-03".into()),
        cadre: Some("professional_social_worker".into()),
        role: Some("district_social_worker".into()),
        sector: Some("government".into()),
        workplace_code: Some("020801".into()),
        status: Some("active".into()),
        start_date: Some("2019-01-15".into()),
        education_level: Some("bachelor".into()),
        education_field: Some("social_work".into()),
        ..Default::default()
    };
    store.create_worker(admin(), &input, today()).await.unwrap()
}

/// The audit entries of one record, oldest first.
async fn audit_of(store: &Store, entity: &str, id: &str) -> Vec<AuditEntry> {
    let q = AuditQuery { entity: Some(entity.into()), entity_id: Some(id.into()), per_page: 500, ..Default::default() };
    let mut entries = store.list_audit(admin(), &q).await.unwrap().items;
    entries.reverse();
    entries
}

/// Every entry's "before" is the previous entry's "after", and there are `n` of them.
async fn assert_chained(store: &Store, entity: &str, id: &str, n: usize) {
    let entries = audit_of(store, entity, id).await;
    assert_eq!(entries.len(), n, "{entity} {id}: {entries:#?}");
    for pair in entries.windows(2) {
        assert_eq!(pair[1].before, pair[0].after, "{entity} {id}: the audit chains");
    }
}

#[tokio::test]
async fn simultaneous_changes_of_training_records_chain_in_the_audit() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let (s1, s2) = (&db.store, &Store::connect(&db.url).await.unwrap());

        let inst =
            InstitutionInput { code: "CWCC".into(), name_en: "CWCC".into(), kind: "ngo".into(), ..Default::default() };
        let i = s1.create_institution(admin(), &inst).await.unwrap();
        let course = CourseInput {
            code: "M1".into(),
            title_en: "Module 1".into(),
            hours: Hours { teaching: 10.0, ..Default::default() },
            competencies: vec!["values.01".into()],
            ..Default::default()
        };
        let c = s1.create_course(admin(), &course).await.unwrap();
        let event = EventInput {
            course_id: c.id,
            starts_on: "2026-03-02".into(),
            ends_on: "2026-03-06".into(),
            place_code: "02".into(),
            ..Default::default()
        };
        let e = s1.create_training_event(admin(), &event).await.unwrap();
        let w = add_worker(s1, "Sok Pisey").await;
        s1.add_participants(admin(), e.id, &[w.id]).await.unwrap();

        for t in 0..TRIALS {
            let a = InstitutionInput { name_en: format!("CWCC a{t}"), ..inst.clone() };
            let b = InstitutionInput { name_en: format!("CWCC b{t}"), ..inst.clone() };
            let (x, y) = tokio::join!(
                s1.update_institution(admin(), i.id, &a, None),
                s2.update_institution(admin(), i.id, &b, None)
            );
            x.unwrap();
            y.unwrap();

            let a = CourseInput { title_en: format!("Module a{t}"), ..course.clone() };
            let b = CourseInput { hours: Hours { teaching: 11.0 + t as f64, ..Default::default() }, ..course.clone() };
            let (x, y) =
                tokio::join!(s1.update_course(admin(), c.id, &a, None), s2.update_course(admin(), c.id, &b, None));
            x.unwrap();
            y.unwrap();

            let a = EventInput { venue: Some(format!("Hall {t}")), ..event.clone() };
            let b = EventInput { trainers: Some(format!("Trainer {t}")), ..event.clone() };
            let (x, y) = tokio::join!(
                s1.update_training_event(admin(), e.id, &a, None),
                s2.update_training_event(admin(), e.id, &b, None)
            );
            x.unwrap();
            y.unwrap();

            let a = AttendanceInput { result: "passed".into(), days_attended: Some(5), ..Default::default() };
            let b = AttendanceInput {
                result: "failed".into(),
                days_attended: Some(1 + (t % 4) as u32),
                ..Default::default()
            };
            let (x, y) = tokio::join!(
                s1.record_attendance(admin(), e.id, w.id, &a, None),
                s2.record_attendance(admin(), e.id, w.id, &b, None)
            );
            x.unwrap();
            y.unwrap();
        }
        let edits = 2 * TRIALS;
        assert_chained(s1, "training_institution", &i.id.to_string(), 1 + edits).await;
        assert_chained(s1, "training_course", &c.id.to_string(), 1 + edits).await;
        assert_chained(s1, "training_event", &e.id.to_string(), 1 + edits).await;
        // Recording the same attendance twice in a row changes nothing but is still audited:
        // the chain holds for every entry after the participant was added.
        let key = format!("{}/{}", e.id, w.id);
        let entries: Vec<AuditEntry> =
            audit_of(s1, "training_participant", &key).await.into_iter().filter(|x| x.action == "update").collect();
        assert_eq!(entries.len(), edits, "{engine:?}");
        for pair in entries.windows(2) {
            assert_eq!(pair[1].before, pair[0].after, "{engine:?}: attendance audit chains");
        }
        s2.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn simultaneous_changes_of_settings_targets_requirements_and_supervisors_chain_in_the_audit() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let (s1, s2) = (&db.store, &Store::connect(&db.url).await.unwrap());
        let w = add_worker(s1, "Chan Dara").await;
        for name in ["sup-a", "sup-b"] {
            s1.create_user(
                admin(),
                &NewUser {
                    username: name.into(),
                    password: "correct horse".into(),
                    role: UserRole::ProvincialOfficer,
                    scope_code: Some("02".into()),
                    org_id: None,
                    worker_id: None,
                },
            )
            .await
            .unwrap();
        }
        let version = s1.current_framework().await.unwrap().version;
        let target = |n: i64| TargetInput {
            group_code: "district".into(),
            group_en: "District social workers".into(),
            level: "vocational_certificate".into(),
            year: 2027,
            target: n,
            roles: vec!["district_social_worker".into()],
        };
        let levels = |r: Rating| BTreeMap::from([("values.01".to_string(), r)]);
        let who = RequirementFor::Role(WorkerRole::DistrictSocialWorker);
        for t in 0..TRIALS as i64 {
            let (x, y) =
                tokio::join!(s1.set_licensing_rules(admin(), 3, 10 + t), s2.set_licensing_rules(admin(), 4, 20 + t));
            x.unwrap();
            y.unwrap();
            let (ta, tb) = (target(100 + t), target(200 + t));
            let (x, y) = tokio::join!(s1.set_training_target(admin(), &ta), s2.set_training_target(admin(), &tb));
            x.unwrap();
            y.unwrap();
            let (la, lb) = (levels(Rating::Competent), levels(Rating::Advanced));
            let (x, y) = tokio::join!(
                s1.set_competency_requirements(admin(), &version, who, &la),
                s2.set_competency_requirements(admin(), &version, who, &lb)
            );
            x.unwrap();
            y.unwrap();
            let (x, y) = tokio::join!(
                s1.set_worker_supervisor(admin(), w.id, Some("sup-a")),
                s2.set_worker_supervisor(admin(), w.id, Some("sup-b"))
            );
            x.unwrap();
            y.unwrap();
        }
        let n = 2 * TRIALS;
        assert_chained(s1, "licensing_rules", "rules", n).await;
        // The first setting creates the target (no "before"), each later one updates it.
        assert_chained(s1, "training_target", "district/vocational_certificate/2027", n).await;
        let created = audit_of(s1, "training_target", "district/vocational_certificate/2027").await;
        assert_eq!((created[0].action.as_str(), created[0].before.is_none()), ("create", true), "{engine:?}");
        // Requirements and supervisors: a change that finds its own value already stored is
        // not audited, so there may be fewer entries, but they chain.
        for (entity, id) in [
            ("competency_requirement", format!("{version}/role:district_social_worker")),
            ("worker_supervisor", w.id.to_string()),
        ] {
            let entries = audit_of(s1, entity, &id).await;
            assert!(entries.len() >= TRIALS, "{engine:?} {entity}: {}", entries.len());
            for pair in entries.windows(2) {
                assert_eq!(pair[1].before, pair[0].after, "{engine:?} {entity}: the audit chains");
            }
        }
        s2.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn one_time_actions_happen_once_when_two_people_take_them_at_once() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let (s1, s2) = (&db.store, &Store::connect(&db.url).await.unwrap());
        let w = add_worker(s1, "Ly Nary").await;
        let version = s1.current_framework().await.unwrap().version;

        // An assessment replaced by two people at once: both changes audited, chained.
        let rating = |v: i64| AssessmentInput {
            kind: Some("supervisor".into()),
            assessed_on: Some("2026-01-10".into()),
            ratings: vec![RatingInput { indicator_code: "values.01.1".into(), rating: v, evidence: None }],
            framework_version: Some(version.clone()),
            ..Default::default()
        };
        let a = s1.create_assessment(admin(), w.id, &rating(1), today()).await.unwrap();
        for t in 0..TRIALS {
            let notes = |who: &str| AssessmentInput { notes: Some(format!("{who} {t}")), ..rating(2) };
            let (first, second) = (notes("first"), notes("second"));
            let (x, y) = tokio::join!(
                s1.update_assessment(admin(), a.id, &first, today(), None),
                s2.update_assessment(admin(), a.id, &second, today(), None)
            );
            x.unwrap();
            y.unwrap();
        }
        assert_chained(s1, "competency_assessment", &a.id.to_string(), 1 + 2 * TRIALS).await;

        // A licence approved by two administrators at once: approved once, one number.
        let applied = s1.apply_licence(admin(), w.id, None, today()).await.unwrap();
        let approve = DecisionInput { action: "approve".into(), reason: None };
        let (x, y) = tokio::join!(
            s1.decide_licence(admin(), applied.id, &approve, today(), None),
            s2.decide_licence(admin(), applied.id, &approve, today(), None)
        );
        assert_eq!([x.is_ok(), y.is_ok()].iter().filter(|ok| **ok).count(), 1, "{engine:?}: {x:?} {y:?}");
        let refused = if x.is_ok() { y } else { x };
        assert!(matches!(refused, Err(StoreError::Invalid(_))), "{engine:?}");
        let approvals = audit_of(s1, "licence", &applied.id.to_string()).await;
        assert_eq!(approvals.iter().filter(|e| e.action == "approve").count(), 1, "{engine:?}");

        // Renewed by two at once (no CE hours needed): two terms, each from the other's end.
        s1.set_licensing_rules(admin(), 3, 0).await.unwrap();
        let before = s1.worker_licences(admin(), w.id, today()).await.unwrap();
        let first_expiry = before[0].expires_on.unwrap();
        let (x, y) = tokio::join!(
            s1.renew_licence(admin(), applied.id, today(), None),
            s2.renew_licence(admin(), applied.id, today(), None)
        );
        x.unwrap();
        y.unwrap();
        let after = s1.worker_licences(admin(), w.id, today()).await.unwrap();
        assert_eq!(after[0].renewals, 2, "{engine:?}");
        let renewals: Vec<AuditEntry> = audit_of(s1, "licence", &applied.id.to_string())
            .await
            .into_iter()
            .filter(|e| e.action == "renew")
            .collect();
        assert_eq!(renewals.len(), 2);
        assert_eq!(renewals[0].before.as_ref().unwrap()["expires_on"], first_expiry.to_string(), "{engine:?}");
        assert_eq!(
            renewals[1].before.as_ref().unwrap()["expires_on"],
            renewals[0].after.as_ref().unwrap()["expires_on"]
        );
        assert_eq!(after[0].expires_on.unwrap().to_string(), renewals[1].after.as_ref().unwrap()["expires_on"]);

        s2.close().await;
        db.cleanup().await;
    }
}

/// Two app servers change one worker at once, each against the version both read: exactly one
/// change is made, the other is refused as stale naming the version the winner left, and the
/// record holds the winner's change alone. Repeated, as the order of the two is up to chance.
#[tokio::test]
async fn simultaneous_changes_under_one_version_make_one_change() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let (s1, s2) = (&db.store, &Store::connect(&db.url).await.unwrap());
        let w = add_worker(s1, "Sok Sopheap").await;
        let change = komlang_store::WorkerChange::default();
        for trial in 0..TRIALS {
            let read = s1.get_worker(admin(), w.id).await.unwrap().unwrap().version;
            let a = WorkerInput { phone: Some(format!("011 000 {trial:03}")), ..Default::default() };
            let b = WorkerInput { phone: Some(format!("022 000 {trial:03}")), ..Default::default() };
            let (ra, rb) = tokio::join!(
                s1.update_worker(admin(), w.id, &a, &change, today(), Some(read)),
                s2.update_worker(admin(), w.id, &b, &change, today(), Some(read)),
            );
            let stored = s1.get_worker(admin(), w.id).await.unwrap().unwrap();
            assert_eq!(stored.version, read + 1, "{engine:?}: one change made");
            match (ra, rb) {
                (Ok(won), Err(StoreError::Stale { current })) | (Err(StoreError::Stale { current }), Ok(won)) => {
                    assert_eq!(current, read + 1, "{engine:?}");
                    assert_eq!(stored.phone, won.phone, "{engine:?}: the winner's change alone");
                }
                other => panic!("{engine:?}: one change and one refusal, not {other:?}"),
            }
        }
        db.cleanup().await;
    }
}
