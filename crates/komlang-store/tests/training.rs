//! Training, certificates, targets and licences on every engine: credits computed by the
//! credit rule, refusals with the field and reason, scope, unique unguessable numbers, the
//! public views, and the demo training record.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::{Days, NaiveDate};
use komlang_core::training::*;
use komlang_core::validate::WorkerInput;
use komlang_core::*;
use komlang_store::testing::{engines, TestDb};
use komlang_store::{
    system_principal, AuditQuery, CertificateQuery, EventQuery, LicenceQuery, NewUser, ProgressQuery, Store,
    StoreError, TargetInput,
};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn admin() -> Principal {
    system_principal("test")
}

async fn add_worker(db: &TestDb, name: &str, workplace: &str, role: &str, education: Option<&str>) -> Worker {
    let input = WorkerInput {
        name_km: Some("សុខ សុភា".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        date_of_birth: Some("1988-02-03".into()),
        cadre: Some(if education.is_some() { "professional_social_worker" } else { "para_social_worker" }.into()),
        role: Some(role.into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some("2019-01-15".into()),
        phone: Some("012345678".into()),
        national_id: Some(format!("N{:08}", name.len() * 1000 + name.bytes().map(usize::from).sum::<usize>())),
        education_level: education.map(|_| "bachelor".into()),
        education_field: education.map(String::from),
        ..Default::default()
    };
    db.store.create_worker(&admin(), &input, today()).await.unwrap()
}

async fn account(db: &TestDb, username: &str, role: UserRole, scope: Option<&str>, worker: Option<i64>) -> Principal {
    let u = db
        .store
        .create_user(
            &admin(),
            &NewUser {
                username: username.into(),
                password: "correct horse".into(),
                role,
                scope_code: scope.map(String::from),
                org_id: None,
                worker_id: worker,
            },
        )
        .await
        .unwrap();
    db.store.principal_for_user(u.id).await.unwrap().unwrap()
}

fn fields<T: std::fmt::Debug>(r: Result<T, StoreError>) -> Vec<(String, String)> {
    match r {
        Err(StoreError::Invalid(e)) => e.errors.into_iter().map(|e| (e.field, e.code)).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.into(), b.into())
}

async fn programme_id(store: &Store, code: &str) -> i64 {
    store.programmes().await.unwrap().into_iter().find(|p| p.code == code).unwrap().id
}

/// A module of `programme` with the given hours, and an event of it in `place`.
async fn module_event(
    store: &Store,
    p: &Principal,
    programme: Option<i64>,
    code: &str,
    place: &str,
    hours: Hours,
) -> i64 {
    let c = store
        .create_course(
            &admin(),
            &CourseInput {
                code: code.into(),
                title_en: format!("Module {code}"),
                programme_id: programme,
                hours,
                competencies: vec!["values.01".into(), "skills.02".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let e = store
        .create_training_event(
            p,
            &EventInput {
                course_id: c.id,
                starts_on: "2026-03-02".into(),
                ends_on: "2026-03-06".into(),
                place_code: place.into(),
                trainers: Some("NISA".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    e.id
}

fn passed() -> AttendanceInput {
    AttendanceInput { result: "passed".into(), ..Default::default() }
}

#[tokio::test]
async fn defaults_are_the_plan_institutions_programmes_and_table_11() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let codes: Vec<String> = s.institutions().await.unwrap().into_iter().map(|i| i.code).collect();
        for c in ["NISA", "RUPP", "SPI"] {
            assert!(codes.contains(&c.to_string()), "{engine:?}: {codes:?}");
        }
        let progs = s.programmes().await.unwrap();
        let vc = progs.iter().find(|p| p.level == CertificateLevel::VocationalCertificate).unwrap();
        assert_eq!(vc.credits_required, 30);
        let targets = s.training_targets(&admin()).await.unwrap();
        let vc_total: i64 =
            targets.iter().filter(|t| t.level == CertificateLevel::VocationalCertificate).map(|t| t.target).sum();
        assert_eq!(vc_total, 4026, "{engine:?}");
        assert!(targets.iter().any(|t| t.group_code == "ccwc" && t.target == 3292 && t.completed == Some(0)));
        assert!(targets.iter().any(|t| t.group_code == "district_wccc" && t.completed.is_none()));
        // Migrating again adds nothing.
        s.migrate().await.unwrap();
        assert_eq!(s.training_targets(&admin()).await.unwrap().len(), targets.len());
        assert_eq!(s.programmes().await.unwrap().len(), progs.len());
        db.cleanup().await;
    }
}

#[tokio::test]
async fn credits_are_computed_from_mixed_hours_and_bad_input_is_refused() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let officer = account(&db, "bb-officer", UserRole::ProvincialOfficer, Some("02"), None).await;
        let w = add_worker(&db, "Chan Sreymom", "020801", "ccwc_focal_point", None).await;
        let elsewhere = add_worker(&db, "Keo Dara", "120101", "ccwc_member", None).await;
        let vc = programme_id(s, "VC-PSW").await;
        let ev =
            module_event(s, &officer, Some(vc), "VC-T1", "02", Hours { teaching: 30.0, lab: 45.0, field: 90.0 }).await;

        // A participant not in the registry, and one outside the officer's province.
        assert_eq!(
            fields(s.add_participants(&officer, ev, &[w.id, 999_999]).await),
            vec![pair("worker_ids", "not_in_registry")]
        );
        assert_eq!(
            fields(s.add_participants(&officer, ev, &[elsewhere.id]).await),
            vec![pair("worker_ids", "not_in_registry")]
        );
        assert_eq!(s.add_participants(&officer, ev, &[w.id]).await.unwrap(), 1);
        assert_eq!(s.add_participants(&officer, ev, &[w.id]).await.unwrap(), 0, "already there");

        // Negative hours are refused; a pass with no hours given takes the event's hours.
        let neg = AttendanceInput { hours: Some(Hours { teaching: -2.0, ..Default::default() }), ..passed() };
        assert_eq!(
            fields(s.record_attendance(&officer, ev, w.id, &neg, None).await),
            vec![pair("hours.teaching", "negative_hours")]
        );
        let part = s.record_attendance(&officer, ev, w.id, &passed(), None).await.unwrap();
        // 30 h teaching (2) + 45 h workshop (1.5) + 90 h field (2) = 5.5 credits.
        assert_eq!(part.credits, 5.5, "{engine:?}");
        let t = s.transcript(&officer, w.id).await.unwrap();
        assert_eq!(t.trainings.len(), 1);
        assert_eq!(
            (t.trainings[0].hours.teaching, t.trainings[0].hours.lab, t.trainings[0].hours.field),
            (30.0, 45.0, 90.0)
        );
        assert_eq!((t.trainings[0].credits, t.total_credits, t.total_hours), (5.5, 5.5, 165.0));
        let vc_progress = t.progress.iter().find(|p| p.programme_id == vc).unwrap();
        assert_eq!((vc_progress.credits_earned, vc_progress.percent, vc_progress.eligible), (5.5, 18, false));

        // A failed result earns nothing.
        let failed = AttendanceInput { result: "failed".into(), ..Default::default() };
        s.record_attendance(&officer, ev, w.id, &failed, None).await.unwrap();
        assert_eq!(s.transcript(&officer, w.id).await.unwrap().total_credits, 0.0);

        // An event ending before it starts; an event outside the officer's province.
        let course = s.courses(Some(Some(vc))).await.unwrap()[0].id;
        let bad = EventInput {
            course_id: course,
            starts_on: "2026-05-10".into(),
            ends_on: "2026-05-09".into(),
            place_code: "02".into(),
            ..Default::default()
        };
        assert_eq!(fields(s.create_training_event(&officer, &bad).await), vec![pair("ends_on", "ends_before_start")]);
        let outside = EventInput { ends_on: "2026-05-12".into(), place_code: "12".into(), ..bad.clone() };
        assert_eq!(
            fields(s.create_training_event(&officer, &outside).await),
            vec![pair("place_code", "outside_scope")]
        );
        let phnom_penh = s.create_training_event(&admin(), &outside).await.unwrap();
        assert!(s.training_event(&officer, phnom_penh.id).await.unwrap().is_none(), "not in the officer's scope");
        let listed =
            s.training_events(&officer, &EventQuery { page: 1, per_page: 50, ..Default::default() }).await.unwrap();
        assert_eq!(listed.items.iter().map(|e| e.id).collect::<Vec<_>>(), vec![ev]);

        // Viewers see but do not run training; the catalogue is the administrator's.
        let viewer = account(&db, "viewer", UserRole::NationalViewer, None, None).await;
        assert!(matches!(s.add_participants(&viewer, ev, &[w.id]).await, Err(StoreError::Forbidden)));
        let inst = InstitutionInput {
            code: "CWCC".into(),
            name_en: "Cambodian Women's Crisis Center".into(),
            kind: "ngo".into(),
            ..Default::default()
        };
        assert!(matches!(s.create_institution(&officer, &inst).await, Err(StoreError::Forbidden)));
        s.create_institution(&admin(), &inst).await.unwrap();
        assert_eq!(fields(s.create_institution(&admin(), &inst).await), vec![pair("code", "duplicate_code")]);
        let unknown = CourseInput {
            code: "X1".into(),
            title_en: "X".into(),
            competencies: vec!["values.99".into()],
            ..Default::default()
        };
        assert_eq!(
            fields(s.create_course(&admin(), &unknown).await),
            vec![pair("competencies", "unknown_competency_code")]
        );

        // Every change is audited.
        let audit = s
            .list_audit(&admin(), &AuditQuery { entity: Some("training_participant".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(audit.total, 3, "{engine:?}: add, pass, fail");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn certificates_need_every_credit_and_numbers_verify_publicly() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let officer = account(&db, "bb-officer", UserRole::ProvincialOfficer, Some("02"), None).await;
        let a = add_worker(&db, "Chan Sreymom", "020801", "ccwc_focal_point", None).await;
        let b = add_worker(&db, "Mao Sophea", "020802", "ccwc_member", None).await;
        let vc = programme_id(s, "VC-PSW").await;
        // 420 teaching hours: 28 credits.
        let ev =
            module_event(s, &officer, Some(vc), "VC-BIG", "02", Hours { teaching: 420.0, ..Default::default() }).await;
        s.add_participants(&officer, ev, &[a.id, b.id]).await.unwrap();
        for w in [a.id, b.id] {
            s.record_attendance(&officer, ev, w, &passed(), None).await.unwrap();
        }
        let not_yet = s.issue_certificate(&admin(), a.id, vc, today()).await;
        match not_yet {
            Err(StoreError::Invalid(e)) => {
                assert_eq!(e.errors[0].code, "not_eligible");
                assert_eq!((e.errors[0].params["have"].as_str(), e.errors[0].params["need"].as_str()), ("28", "30"));
            }
            other => panic!("{other:?}"),
        }
        // RPL of 60 workshop hours (2 credits) completes the 30.
        let rpl = RecognitionInput {
            kind: "rpl".into(),
            programme_id: vc,
            hours: Hours { lab: 60.0, ..Default::default() },
            evidence: "Portfolio of supervised case work".into(),
            assessor: "NISA assessor".into(),
            assessed_on: "2026-10-01".into(),
        };
        let no_evidence = RecognitionInput { evidence: " ".into(), ..rpl.clone() };
        assert_eq!(
            fields(s.add_recognition(&officer, a.id, &no_evidence, today()).await),
            vec![pair("evidence", "required")]
        );
        for w in [a.id, b.id] {
            let r = s.add_recognition(&officer, w, &rpl, today()).await.unwrap();
            assert_eq!(r.credits, 2.0);
        }
        let progress = s.training_progress(&officer, &ProgressQuery::default()).await.unwrap();
        let g = progress.programmes.iter().find(|g| g.programme_id == vc).unwrap();
        assert_eq!((g.started, g.halfway, g.eligible, g.certified), (2, 2, 2, 0), "{engine:?}");
        assert_eq!(progress.eligible_total, 2);

        // Only the national administrator certifies.
        assert!(matches!(s.issue_certificate(&officer, a.id, vc, today()).await, Err(StoreError::Forbidden)));
        let ca = s.issue_certificate(&admin(), a.id, vc, today()).await.unwrap();
        let cb = s.issue_certificate(&admin(), b.id, vc, today()).await.unwrap();
        assert_ne!(ca.number, cb.number);
        for c in [&ca, &cb] {
            assert_eq!(normalize_number(NumberKind::Certificate, &c.number).as_deref(), Some(c.number.as_str()));
        }
        assert_eq!(
            fields(s.issue_certificate(&admin(), a.id, vc, today()).await),
            vec![pair("programme_id", "already_certified")]
        );
        let t = s.transcript(&officer, a.id).await.unwrap();
        assert_eq!(t.certificates.iter().map(|c| c.number.clone()).collect::<Vec<_>>(), vec![ca.number.clone()]);
        assert_eq!(t.total_credits, 30.0);
        let g = s.training_progress(&officer, &ProgressQuery::default()).await.unwrap();
        let g = g.programmes.iter().find(|g| g.programme_id == vc).unwrap();
        assert_eq!((g.eligible, g.certified), (0, 2));
        // Table 11's CCWC target is for the end of 2025: certificates of 2026 count toward a
        // 2026 target, not toward it.
        let officer_ref = &officer;
        let ccwc = |year: i32| async move {
            s.training_targets(officer_ref)
                .await
                .unwrap()
                .into_iter()
                .find(|t| t.group_code == "ccwc" && t.year == year)
        };
        assert_eq!(ccwc(2025).await.unwrap().completed, Some(0));
        let t2026 = TargetInput {
            group_code: "ccwc".into(),
            group_en: "CCWC members".into(),
            level: "vocational_certificate".into(),
            year: 2026,
            target: 4,
            roles: vec!["ccwc_member".into(), "ccwc_focal_point".into()],
        };
        s.set_training_target(&admin(), &t2026).await.unwrap();
        let row = ccwc(2026).await.unwrap();
        assert_eq!((row.completed, row.percent), (Some(2), Some(50)), "{engine:?}");

        // Public verification shows the name and the certificate, nothing else.
        let v = s.public_certificate(&ca.number.to_lowercase()).await.unwrap().unwrap();
        assert!(v.valid && v.holder_name_latin == "Chan Sreymom" && v.level == CertificateLevel::VocationalCertificate);
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("012345678") && !json.contains("020801"), "{json}");
        assert!(s.public_certificate("C-0000-0000-0000-0").await.unwrap().is_none());
        assert!(s.public_certificate("nonsense").await.unwrap().is_none());
        assert_eq!(
            fields(s.revoke_certificate(&admin(), &ca.number, " ", today()).await),
            vec![pair("reason", "reason_required")]
        );
        s.revoke_certificate(&admin(), &ca.number, "Issued in error", today()).await.unwrap();
        assert!(!s.public_certificate(&ca.number).await.unwrap().unwrap().valid);

        // The certificate register: filters, and scope.
        let all = CertificateQuery { page: 1, per_page: 50, ..Default::default() };
        let reg = s.certificates(&officer, &all).await.unwrap();
        assert_eq!(reg.total, 2, "{engine:?}");
        let valid = CertificateQuery { valid: Some(true), ..all.clone() };
        let v = s.certificates(&officer, &valid).await.unwrap();
        assert_eq!(v.items.iter().map(|r| r.certificate.number.clone()).collect::<Vec<_>>(), vec![cb.number.clone()]);
        let by_number = CertificateQuery { q: Some(ca.number.to_lowercase()), ..all.clone() };
        assert_eq!(s.certificates(&officer, &by_number).await.unwrap().items[0].holder.name_latin, "Chan Sreymom");
        let later = CertificateQuery { from: Some(today() + Days::new(1)), ..all.clone() };
        assert_eq!(s.certificates(&officer, &later).await.unwrap().total, 0);
        let tvc = CertificateQuery { level: Some(CertificateLevel::Tvc1), ..all.clone() };
        assert_eq!(s.certificates(&officer, &tvc).await.unwrap().total, 0);
        assert_eq!(s.certificate_export_rows(&admin(), &all).await.unwrap().len(), 2);

        // An account of another province sees neither the transcript, the worker nor the certificates.
        let other = account(&db, "pp-officer", UserRole::ProvincialOfficer, Some("12"), None).await;
        assert!(matches!(s.transcript(&other, a.id).await, Err(StoreError::NotFound)));
        assert_eq!(s.certificates(&other, &all).await.unwrap().total, 0);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn licences_are_decided_renewed_on_ce_hours_and_listed_by_expiry() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let sw = add_worker(&db, "Sok Pisey", "020801", "district_social_worker", Some("social_work")).await;
        let para = add_worker(&db, "Ly Nary", "020802", "ccwc_member", None).await;
        let own = account(&db, "pisey", UserRole::Worker, Some("020801"), Some(sw.id)).await;
        let officer = account(&db, "bb-officer", UserRole::ProvincialOfficer, Some("02"), None).await;

        assert_eq!(
            fields(s.apply_licence(&officer, para.id, None, today()).await),
            vec![pair("worker_id", "no_qualification")]
        );
        let applied = s.apply_licence(&own, sw.id, Some("First application"), today()).await.unwrap();
        assert_eq!((applied.status, applied.number.clone()), (LicenceStatus::Applied, None));
        assert_eq!(
            fields(s.apply_licence(&officer, sw.id, None, today()).await),
            vec![pair("worker_id", "licence_open")]
        );

        // Decisions: only the national administrator; reasons where required.
        let approve = DecisionInput { action: "approve".into(), reason: None };
        assert!(matches!(
            s.decide_licence(&officer, applied.id, &approve, today(), None).await,
            Err(StoreError::Forbidden)
        ));
        let issued_on = today() - Days::new(3 * 365 - 30);
        let lic = s.decide_licence(&admin(), applied.id, &approve, issued_on, None).await.unwrap();
        let number = lic.number.clone().unwrap();
        assert!(number.starts_with("L-"), "{number}");
        assert_eq!(issued_on, date(2023, 12, 27));
        // The default term is 3 years, ending the day before the same date 3 years on.
        assert_eq!(s.licensing_rules().await.unwrap(), LicensingRules { term_years: 3, renewal_ce_hours: 30 });
        assert_eq!(lic.expires_on, Some(date(2026, 12, 26)));
        let suspend = DecisionInput { action: "suspend".into(), reason: None };
        assert_eq!(
            fields(s.decide_licence(&admin(), lic.id, &suspend, today(), None).await),
            vec![pair("reason", "reason_required")]
        );

        // Expiring within N days: only when N reaches the expiry.
        let days_left = (lic.expires_on.unwrap() - today()).num_days();
        assert_eq!(days_left, 30, "2026-11-26 to 2026-12-26");
        for (n, want) in [(days_left - 1, 0), (days_left, 1), (90, 1)] {
            let q = LicenceQuery { expiring_within_days: Some(n), page: 1, per_page: 50, ..Default::default() };
            assert_eq!(s.licences(&officer, &q, today()).await.unwrap().total, want, "{engine:?}: within {n} days");
        }

        // Renewal needs the CE hours in the term: 12 are not 30.
        let ce = module_event(s, &admin(), None, "CE-1", "02", Hours { teaching: 12.0, ..Default::default() }).await;
        s.add_participants(&admin(), ce, &[sw.id]).await.unwrap();
        s.record_attendance(&admin(), ce, sw.id, &passed(), None).await.unwrap();
        let short = s.renew_licence(&admin(), lic.id, today(), None).await;
        match short {
            Err(StoreError::Invalid(e)) => {
                let f = &e.errors[0];
                assert_eq!((f.field.as_str(), f.code.as_str()), ("ce_hours", "insufficient_ce_hours"));
                assert_eq!((f.params["have"].as_str(), f.params["need"].as_str()), ("12", "30"));
            }
            other => panic!("{other:?}"),
        }
        s.set_licensing_rules(&admin(), 3, 10).await.unwrap();
        let renewed = s.renew_licence(&admin(), lic.id, today(), None).await.unwrap();
        assert_eq!(renewed.renewals, 1);
        assert_eq!(renewed.term_start, Some(date(2026, 12, 27)));
        assert_eq!(renewed.expires_on, Some(date(2029, 12, 26)));
        let detail = s.licence(&officer, lic.id, today()).await.unwrap();
        let steps: Vec<&str> = detail.actions.iter().map(|a| a.action.as_str()).collect();
        assert_eq!(steps, vec!["apply", "approve", "renew"]);
        assert_eq!(detail.actions[2].ce_hours, Some(12.0));

        // The public register finds a valid licence by name or number; not a suspended one.
        assert_eq!(s.public_register("pisey", today()).await.unwrap().len(), 1);
        assert_eq!(s.public_register(&number.to_lowercase(), today()).await.unwrap()[0].name_latin, "Sok Pisey");
        assert!(s.public_register("p", today()).await.unwrap().is_empty(), "two characters at least");
        let suspend = DecisionInput { action: "suspend".into(), reason: Some("Complaint under review".into()) };
        s.decide_licence(&admin(), lic.id, &suspend, today(), None).await.unwrap();
        assert!(s.public_register("pisey", today()).await.unwrap().is_empty());
        let approve_again = s.decide_licence(&admin(), lic.id, &approve, today(), None).await;
        assert_eq!(fields(approve_again), vec![pair("action", "action_not_allowed")]);
        let reinstate = DecisionInput { action: "reinstate".into(), reason: None };
        s.decide_licence(&admin(), lic.id, &reinstate, today(), None).await.unwrap();

        // Past its expiry, an active licence counts as lapsed.
        let later = renewed.expires_on.unwrap() + Days::new(1);
        let q = LicenceQuery { status: Some(LicenceStatus::Lapsed), page: 1, per_page: 50, ..Default::default() };
        assert_eq!(s.licences(&admin(), &q, later).await.unwrap().items[0].effective_status, LicenceStatus::Lapsed);
        assert!(s.public_register("pisey", later).await.unwrap().is_empty());

        // Out of scope: another province's officer sees no licence.
        let other = account(&db, "pp-officer", UserRole::ProvincialOfficer, Some("12"), None).await;
        let all = LicenceQuery { page: 1, per_page: 50, ..Default::default() };
        assert_eq!(s.licences(&other, &all, today()).await.unwrap().total, 0);
        assert!(matches!(s.licence(&other, lic.id, today()).await, Err(StoreError::NotFound)));
        let rows = s.licence_export_rows(&admin(), &all, today()).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0][0], number);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn targets_can_be_set_and_are_checked() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let t = TargetInput {
            group_code: "ccwc".into(),
            group_en: "CCWC members".into(),
            level: "vocational_certificate".into(),
            year: 2024,
            target: 800,
            roles: vec!["ccwc_member".into(), "ccwc_focal_point".into()],
        };
        s.set_training_target(&admin(), &t).await.unwrap();
        s.set_training_target(&admin(), &TargetInput { target: 900, ..t.clone() }).await.unwrap();
        let rows = s.training_targets(&admin()).await.unwrap();
        let r: Vec<_> = rows.iter().filter(|x| x.group_code == "ccwc" && x.year == 2024).collect();
        assert_eq!((r.len(), r[0].target), (1, 900), "{engine:?}: replaced, not added");
        let bad = TargetInput { level: "phd".into(), year: 1800, target: -1, ..t };
        let f = fields(s.set_training_target(&admin(), &bad).await);
        assert_eq!(
            f,
            vec![pair("level", "invalid_choice"), pair("year", "out_of_range"), pair("target", "out_of_range")]
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_demo_has_training_events_certificates_and_licences() {
    for engine in engines() {
        let db = TestDb::empty(engine).await;
        let s = &db.store;
        s.load_demo(today()).await.unwrap();
        let events =
            s.training_events(&admin(), &EventQuery { page: 1, per_page: 10, ..Default::default() }).await.unwrap();
        assert!(events.total >= 20, "{engine:?}: {}", events.total);
        let worker = s.user_by_name("worker").await.unwrap().unwrap();
        let p = s.principal_for_user(worker.id).await.unwrap().unwrap();
        let t = s.transcript(&p, worker.worker_id.unwrap()).await.unwrap();
        assert_eq!(t.total_credits, 30.0, "{engine:?}");
        assert_eq!(t.certificates.len(), 1);
        assert!(s.public_certificate(&t.certificates[0].number).await.unwrap().unwrap().valid);
        let progress = s.training_progress(&admin(), &ProgressQuery::default()).await.unwrap();
        assert!(progress.eligible_total > 0, "some are eligible but not yet certified");
        assert!(progress.programmes.iter().any(|g| g.certified > 0 && g.level == CertificateLevel::Tvc2));
        let all = LicenceQuery { page: 1, per_page: 100, ..Default::default() };
        let lic = s.licences(&admin(), &all, today()).await.unwrap();
        assert!(lic.total >= 30, "{engine:?}: {}", lic.total);
        for st in [LicenceStatus::Active, LicenceStatus::Applied, LicenceStatus::Suspended, LicenceStatus::Lapsed] {
            assert!(lic.items.iter().any(|l| l.effective_status == st), "{engine:?}: no {st} licence");
        }
        let soon = LicenceQuery { expiring_within_days: Some(90), page: 1, per_page: 100, ..Default::default() };
        let soon = s.licences(&admin(), &soon, today()).await.unwrap();
        assert!(soon.total > 0 && soon.items.iter().all(|l| l.days_to_expiry.is_some_and(|d| (0..=90).contains(&d))));
        let ccwc = s.training_targets(&admin()).await.unwrap().into_iter().find(|t| t.group_code == "ccwc").unwrap();
        assert!(ccwc.completed.unwrap() > 0);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_catalogue_is_kept_up_to_date_and_eligibility_follows() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let officer = account(&db, "bb-officer", UserRole::ProvincialOfficer, Some("02"), None).await;
        let w = add_worker(&db, "Chan Sreymom", "020801", "ccwc_focal_point", None).await;
        let vc = programme_id(s, "VC-PSW").await;
        // 420 teaching hours: 28 of the 30 credits.
        let ev =
            module_event(s, &officer, Some(vc), "VC-BIG", "02", Hours { teaching: 420.0, ..Default::default() }).await;
        s.add_participants(&officer, ev, &[w.id]).await.unwrap();
        s.record_attendance(&officer, ev, w.id, &passed(), None).await.unwrap();
        let eligible =
            |t: komlang_store::Transcript| t.progress.iter().find(|p| p.programme_id == vc).unwrap().eligible;
        assert!(!eligible(s.transcript(&officer, w.id).await.unwrap()));

        // The ministry lowers the programme's credits to 28: the worker becomes eligible.
        let prog = s.programme(vc).await.unwrap().unwrap();
        let mut input = ProgrammeInput {
            code: prog.code.clone(),
            title_en: prog.title_en.clone(),
            title_km: prog.title_km.clone(),
            level: prog.level.code().into(),
            institution_id: prog.institution_id,
            credits_required: Some(28),
        };
        assert!(matches!(s.update_programme(&officer, vc, &input, None).await, Err(StoreError::Forbidden)));
        let updated = s.update_programme(&admin(), vc, &input, None).await.unwrap();
        assert_eq!((updated.id, updated.credits_required), (vc, 28));
        assert!(eligible(s.transcript(&officer, w.id).await.unwrap()), "{engine:?}");
        input.code = "TVC1-PP".into();
        assert_eq!(fields(s.update_programme(&admin(), vc, &input, None).await), vec![pair("code", "duplicate_code")]);
        assert!(matches!(s.update_programme(&admin(), 999_999, &input, None).await, Err(StoreError::NotFound)));

        // A module's hours change for future events; the event held keeps its hours.
        let course = s.courses(Some(Some(vc))).await.unwrap().into_iter().find(|c| c.code == "VC-BIG").unwrap();
        let change = CourseInput {
            code: "VC-BIG".into(),
            title_en: "Big module, revised".into(),
            programme_id: Some(vc),
            hours: Hours { teaching: 30.0, ..Default::default() },
            competencies: vec!["skills.01".into()],
            ..Default::default()
        };
        let c = s.update_course(&admin(), course.id, &change, None).await.unwrap();
        assert_eq!((c.credits, c.competencies.clone()), (2.0, vec!["skills.01".to_string()]));
        assert_eq!(s.training_event(&officer, ev).await.unwrap().unwrap().credits, 28.0);
        assert_eq!(s.transcript(&officer, w.id).await.unwrap().total_credits, 28.0);

        let nisa = s.institutions().await.unwrap().into_iter().find(|i| i.code == "NISA").unwrap();
        let rename = InstitutionInput {
            code: "NISA".into(),
            name_en: "National Institute of Social Affairs (NISA)".into(),
            name_km: nisa.name_km.clone(),
            kind: "government".into(),
        };
        assert_eq!(s.update_institution(&admin(), nisa.id, &rename, None).await.unwrap().name_en, rename.name_en);
        let audit = s
            .list_audit(&admin(), &AuditQuery { entity: Some("training_programme".into()), ..Default::default() })
            .await
            .unwrap();
        let row = &audit.items[0];
        assert_eq!(row.action, "update");
        assert_eq!(row.before.as_ref().unwrap()["credits_required"], 30);
        assert_eq!(row.after.as_ref().unwrap()["credits_required"], 28);
        db.cleanup().await;
    }
}
