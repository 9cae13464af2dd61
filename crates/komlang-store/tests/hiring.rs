//! Recruitment rounds, on every engine: a provincial round opens vacant posts of its province
//! only; candidates from the registry, the pool of placements and new people are each checked
//! against each post and told why not; scores rank them by the round's rule; an appointment
//! fills the post in one action (a registry worker moved there, a new person made a worker) and
//! takes the person out of the other rounds; who sees and runs which round; every change audited.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::NaiveDate;
use komlang_core::establishment::FundingSource;
use komlang_core::hiring::{
    CandidateSource, CandidateStatus, PlacementKind, RequiredCompetency, Requirements, RoundKind, Unmet,
};
use komlang_core::validate::WorkerInput;
use komlang_core::{AdminLevel, Cadre, EducationLevel, Sex, UserRole, WorkerRole};
use komlang_store::establishment::NewPosts;
use komlang_store::hiring::{AppointInput, CandidateInput, PlacementInput, RoundInput, RoundPostInput, ScoresInput};
use komlang_store::testing::{engines, error_codes, officer, TestDb};
use komlang_store::{system_principal, Store, StoreError};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn worker(store: &Store, name: &str, place: &str, cadre: Cadre, start: &str, nid: &str) -> i64 {
    let input = WorkerInput {
        name_km: Some("សុខ សុភា".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some(cadre.code().into()),
        role: Some("ccwc_member".into()),
        sector: Some("government".into()),
        workplace_code: Some(place.into()),
        status: Some("active".into()),
        start_date: Some(start.into()),
        education_level: Some("tvc2".into()),
        national_id: Some(nid.into()),
        ..Default::default()
    };
    store.create_worker(&system_principal("test"), &input, today()).await.unwrap().id
}

async fn post(store: &Store, place: &str) -> i64 {
    let n = NewPosts {
        admin_code: place.into(),
        org_id: None,
        cadre: Cadre::ParaProfessional,
        role: WorkerRole::DistrictSocialWorker,
        funding: FundingSource::MosvyPayroll,
        approved_year: 2025,
        count: 1,
        note: None,
    };
    store.create_posts(&system_principal("test"), &n).await.unwrap()[0]
}

fn round_input(kind: RoundKind, province: Option<&str>) -> RoundInput {
    RoundInput {
        name: "Recruitment 2027".into(),
        kind,
        province: province.map(String::from),
        opens_on: d("2026-12-01"),
        closes_on: d("2027-01-15"),
        ranking: None,
    }
}

async fn audited(store: &Store, entity: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM audit_log WHERE entity = $1")
        .bind(entity)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

#[tokio::test]
async fn a_provincial_round_from_posts_to_appointment() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("admin");
        let battambang = officer(UserRole::ProvincialOfficer, "02", AdminLevel::Province);
        let siem_reap = officer(UserRole::ProvincialOfficer, "17", AdminLevel::Province);
        let district = officer(UserRole::DistrictOfficer, "0208", AdminLevel::District);

        // Only those who run recruitment in the province open its round.
        assert!(matches!(
            store.create_round(&siem_reap, &round_input(RoundKind::Provincial, Some("02")), today()).await,
            Err(StoreError::Forbidden)
        ));
        assert!(matches!(
            store.create_round(&battambang, &round_input(RoundKind::National, None), today()).await,
            Err(StoreError::Forbidden)
        ));
        let e = store.create_round(&battambang, &round_input(RoundKind::Provincial, None), today()).await.unwrap_err();
        assert_eq!(error_codes(&e, true), "province:required", "{engine:?}");
        let round =
            store.create_round(&battambang, &round_input(RoundKind::Provincial, Some("02")), today()).await.unwrap();

        // Posts: a vacant one of the province; not another province's, not twice.
        let p1 = post(store, "0208").await;
        let p2 = post(store, "0203").await;
        let elsewhere = post(store, "1701").await;
        let strict = Requirements {
            cadre: Some(Cadre::ParaProfessional),
            education_min: Some(EducationLevel::Tvc2),
            years_min: 3,
            competencies: Vec::new(),
        };
        store
            .add_round_post(
                &battambang,
                round.id,
                &RoundPostInput { post_id: p1, requirements: strict.clone() },
                today(),
            )
            .await
            .unwrap();
        let open = Requirements::default();
        store
            .add_round_post(&battambang, round.id, &RoundPostInput { post_id: p2, requirements: open.clone() }, today())
            .await
            .unwrap();
        // A third post requiring what the second does: the two are one requirement set.
        let p3 = post(store, "0203").await;
        store
            .add_round_post(&battambang, round.id, &RoundPostInput { post_id: p3, requirements: open.clone() }, today())
            .await
            .unwrap();
        let e = store
            .add_round_post(
                &battambang,
                round.id,
                &RoundPostInput { post_id: elsewhere, requirements: open.clone() },
                today(),
            )
            .await
            .unwrap_err();
        assert_eq!(error_codes(&e, true), "post_id:post_outside_round");
        let e = store
            .add_round_post(&battambang, round.id, &RoundPostInput { post_id: p1, requirements: open.clone() }, today())
            .await
            .unwrap_err();
        assert_eq!(error_codes(&e, true), "post_id:post_in_round");
        let needs_skill = Requirements {
            competencies: vec![RequiredCompetency { code: "skills.99".into(), level: 3 }],
            ..Default::default()
        };
        let e = store
            .add_round_post(
                &battambang,
                round.id,
                &RoundPostInput { post_id: elsewhere, requirements: needs_skill },
                today(),
            )
            .await
            .unwrap_err();
        assert!(error_codes(&e, true).contains("requirements.competencies[0].code:unknown_competency"), "{engine:?}");

        // Candidates: a registry worker (experienced), a junior one, a graduate from the pool,
        // a new applicant.
        let senior = worker(store, "Sok Senior", "020801", Cadre::ParaProfessional, "2018-01-01", "NSENIOR1").await;
        let junior = worker(store, "Chan Junior", "020301", Cadre::ParaProfessional, "2025-06-01", "NJUNIOR1").await;
        let placement = store
            .create_placement(
                &battambang,
                &PlacementInput {
                    kind: PlacementKind::Internship,
                    name_km: "ហេង វិសាល".into(),
                    name_latin: "Heng Visal".into(),
                    sex: Sex::Male,
                    date_of_birth: None,
                    national_id: Some("NGRAD001".into()),
                    phone: None,
                    institution: "NISA".into(),
                    programme: None,
                    education_level: Some(EducationLevel::Bachelor),
                    host_admin_code: "0208".into(),
                    host_org_id: None,
                    supervisor_worker_id: Some(senior),
                    start_date: d("2026-03-01"),
                    end_date: d("2026-08-31"),
                    graduated_year: Some(2026),
                    notes: None,
                },
            )
            .await
            .unwrap();
        let pool = store.placements(&battambang, true, today()).await.unwrap();
        assert_eq!(pool.iter().map(|x| x.id).collect::<Vec<_>>(), [placement.id], "{engine:?}: the pool");
        assert!(store.placements(&siem_reap, true, today()).await.unwrap().is_empty(), "another province's pool");

        for input in [
            CandidateInput { worker_id: Some(senior), ..Default::default() },
            CandidateInput { worker_id: Some(junior), ..Default::default() },
            CandidateInput { placement_id: Some(placement.id), ..Default::default() },
            CandidateInput {
                source: Some(CandidateSource::External),
                name_km: Some("ពៅ សុគន្ធ".into()),
                name_latin: Some("Pov Sokun".into()),
                sex: Some(Sex::Male),
                national_id: Some("NEXT0001".into()),
                ..Default::default()
            },
        ] {
            store.add_candidate(&battambang, round.id, &input, today()).await.unwrap();
        }
        let e = store
            .add_candidate(
                &battambang,
                round.id,
                &CandidateInput { worker_id: Some(senior), ..Default::default() },
                today(),
            )
            .await
            .unwrap_err();
        assert_eq!(error_codes(&e, false), "duplicate_candidate");
        let e = store
            .add_candidate(
                &battambang,
                round.id,
                &CandidateInput { name_latin: Some("X Y".into()), ..Default::default() },
                today(),
            )
            .await
            .unwrap_err();
        assert_eq!(error_codes(&e, true), "name_km:required,sex:required");
        let formula = CandidateInput {
            name_km: Some("\u{0}\u{200b}".into()),
            name_latin: Some("=cmd|' /C calc'!A0".into()),
            sex: Some(Sex::Female),
            ..Default::default()
        };
        let e = store.add_candidate(&battambang, round.id, &formula, today()).await.unwrap_err();
        assert_eq!(
            error_codes(&e, true),
            "name_km:invalid_characters,name_km:no_letter,name_latin:invalid_latin_name",
            "{engine:?}"
        );
        let headers: Vec<String> = ["name_km", "name_latin", "sex"].iter().map(|h| h.to_string()).collect();
        let e = store.import_candidates(&battambang, round.id, &headers, Vec::new(), today()).await.unwrap_err();
        assert_eq!(error_codes(&e, true), "file:no_rows");
        let rows = vec![
            (2, vec!["សុខ".to_string(), "Sok Import".into(), "female".into()]),
            (3, vec!["ដារា".to_string(), "Dara Import".into(), "robot".into()]),
        ];
        let e = store.import_candidates(&battambang, round.id, &headers, rows, today()).await.unwrap_err();
        assert_eq!(error_codes(&e, true), "row 3: sex:invalid_choice", "{engine:?}: the good row is not kept either");
        let stranger = worker(store, "Far Away", "170101", Cadre::ParaProfessional, "2010-01-01", "NFAR0001").await;
        let e = store
            .add_candidate(
                &battambang,
                round.id,
                &CandidateInput { worker_id: Some(stranger), ..Default::default() },
                today(),
            )
            .await
            .unwrap_err();
        assert_eq!(error_codes(&e, true), "worker_id:unknown_worker", "a worker outside the caller's reach");

        // Why not: the junior lacks experience for p1, the graduate the cadre and experience.
        let r = store.recruitment_round(&battambang, round.id, today()).await.unwrap();
        let by_name = |n: &str| r.candidates.iter().find(|c| c.name_latin == n).unwrap().clone();
        // The posts grouped by what they require: each post in exactly one set, the set's own.
        let mut grouped: Vec<i64> = r.requirement_sets.iter().flat_map(|s| s.post_ids.clone()).collect();
        grouped.sort_unstable();
        let mut posts: Vec<i64> = r.posts.iter().map(|x| x.post_id).collect();
        posts.sort_unstable();
        assert_eq!(grouped, posts, "{engine:?}");
        for x in &r.posts {
            let set = r.requirement_sets.iter().find(|s| s.set == x.requirement_set).unwrap();
            assert_eq!(set.requirements, x.requirements, "{engine:?}: post {}", x.post_id);
        }
        let distinct: Vec<_> = r.posts.iter().map(|x| serde_json::to_string(&x.requirements).unwrap()).collect();
        let distinct: std::collections::BTreeSet<_> = distinct.into_iter().collect();
        assert_eq!(r.requirement_sets.len(), distinct.len(), "{engine:?}: one set per distinct requirements");
        assert_eq!(r.requirement_sets.len(), 2, "{engine:?}: the second and third posts share theirs");
        let shared = r.posts.iter().find(|x| x.post_id == p3).unwrap().requirement_set;
        assert_eq!(r.posts.iter().find(|x| x.post_id == p2).unwrap().requirement_set, shared, "{engine:?}");
        let set_of = |post: i64| r.posts.iter().find(|x| x.post_id == post).unwrap().requirement_set;
        let fit = |n: &str, post: i64| by_name(n).fit.iter().find(|f| f.set == set_of(post)).unwrap().unmet.clone();
        assert!(fit("Sok Senior", p1).is_empty(), "{engine:?}: {:?}", fit("Sok Senior", p1));
        assert_eq!(fit("Chan Junior", p1), vec![Unmet::Experience { required: 3, actual: Some(1) }]);
        let graduate = fit("Heng Visal", p1);
        assert!(graduate.contains(&Unmet::Cadre { required: Cadre::ParaProfessional, actual: None }), "{graduate:?}");
        assert!(fit("Heng Visal", p2).is_empty() && fit("Pov Sokun", p2).is_empty());
        assert_eq!(by_name("Heng Visal").source, CandidateSource::Intern);

        // Scores and the ranking: 0.7 × exam + 0.3 × interview.
        let scores = [
            ("Sok Senior", 70.0, 90.0),
            ("Chan Junior", 90.0, 90.0),
            ("Heng Visal", 80.0, 60.0),
            ("Pov Sokun", 50.0, 50.0),
        ];
        for (name, exam, interview) in scores {
            let c = by_name(name);
            store
                .set_candidate_scores(
                    &battambang,
                    c.id,
                    &ScoresInput { exam_score: Some(exam), interview_score: Some(interview), interview_notes: None },
                    Some(c.version),
                    today(),
                )
                .await
                .unwrap();
        }
        let c = by_name("Pov Sokun");
        let e = store
            .set_candidate_scores(
                &battambang,
                c.id,
                &ScoresInput { exam_score: Some(101.0), ..Default::default() },
                None,
                today(),
            )
            .await
            .unwrap_err();
        assert_eq!(error_codes(&e, true), "exam_score:out_of_range");
        let stale =
            store.set_candidate_scores(&battambang, c.id, &ScoresInput::default(), Some(c.version), today()).await;
        assert!(matches!(stale, Err(StoreError::Stale { .. })), "{engine:?}: {stale:?}");
        let r = store.recruitment_round(&battambang, round.id, today()).await.unwrap();
        let ranked: Vec<(&str, Option<u32>)> = r.candidates.iter().map(|c| (c.name_latin.as_str(), c.rank)).collect();
        assert_eq!(
            ranked,
            [("Chan Junior", Some(1)), ("Sok Senior", Some(2)), ("Heng Visal", Some(3)), ("Pov Sokun", Some(4))]
        );
        assert_eq!(r.candidates[0].total, Some(90.0));

        // The same graduate is a candidate of a national round too.
        let national = store.create_round(&admin, &round_input(RoundKind::National, None), today()).await.unwrap();
        store
            .add_candidate(
                &admin,
                national.id,
                &CandidateInput { placement_id: Some(placement.id), ..Default::default() },
                today(),
            )
            .await
            .unwrap();

        // Appointment: not for a post one is not eligible for; the junior (ranked first) is not
        // eligible for p1 but is for p2.
        let junior_c = by_name("Chan Junior");
        let e = store
            .appoint_candidate(
                &battambang,
                junior_c.id,
                &AppointInput { post_id: p1, start_date: d("2027-01-02") },
                today(),
            )
            .await
            .unwrap_err();
        assert_eq!(error_codes(&e, true), "candidate:not_eligible_for_post", "{engine:?}");
        assert!(matches!(
            store
                .appoint_candidate(&district, junior_c.id, &AppointInput { post_id: p2, start_date: today() }, today())
                .await,
            Err(StoreError::Forbidden | StoreError::NotFound)
        ));
        // The registry's senior fills p1: posted in the post's district from the start date.
        let senior_c = by_name("Sok Senior");
        store
            .appoint_candidate(&battambang, senior_c.id, &AppointInput { post_id: p1, start_date: today() }, today())
            .await
            .unwrap();
        let w = store.get_worker(&admin, senior).await.unwrap().unwrap();
        assert_eq!((w.workplace_code.as_str(), w.role), ("0208", WorkerRole::DistrictSocialWorker), "{engine:?}");
        let held: i64 = sqlx::query("SELECT worker_id FROM postings WHERE post_id = $1 AND end_date IS NULL")
            .bind(p1)
            .fetch_one(store.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(held, senior);
        // The graduate (new person) fills p2: a worker record is made; their national
        // candidacy leaves the other list.
        let grad_c = by_name("Heng Visal");
        let r = store
            .appoint_candidate(&battambang, grad_c.id, &AppointInput { post_id: p2, start_date: today() }, today())
            .await
            .unwrap();
        let appointed = r.candidates.iter().find(|c| c.id == grad_c.id).unwrap();
        assert_eq!(appointed.status, CandidateStatus::Appointed);
        let new_worker = appointed.worker_id.expect("a worker record");
        let w = store.get_worker(&admin, new_worker).await.unwrap().unwrap();
        assert_eq!(
            (w.workplace_code.as_str(), w.national_id.as_deref(), w.cadre),
            ("0203", Some("NGRAD001"), Cadre::ParaProfessional)
        );
        let n = store.recruitment_round(&admin, national.id, today()).await.unwrap();
        assert_eq!(n.candidates[0].status, CandidateStatus::AppointedElsewhere, "{engine:?}");
        assert!(
            store.placements(&battambang, true, today()).await.unwrap().is_empty(),
            "a hired graduate leaves the pool"
        );
        // A filled post takes nobody else; an appointed candidate is not appointed twice.
        let e = store
            .appoint_candidate(&battambang, junior_c.id, &AppointInput { post_id: p2, start_date: today() }, today())
            .await
            .unwrap_err();
        assert_eq!(error_codes(&e, true), "post_id:post_filled");

        // Who sees which round: the province's officers and national accounts; not another
        // province's officer nor a district officer (404).
        let viewer = komlang_core::Principal { role: UserRole::NationalViewer, ..admin.clone() };
        assert!(store.recruitment_round(&viewer, round.id, today()).await.is_ok());
        for p in [&siem_reap, &district] {
            assert!(matches!(store.recruitment_round(p, round.id, today()).await, Err(StoreError::NotFound)));
        }
        assert!(
            store.recruitment_rounds(&battambang).await.unwrap().iter().all(|r| r.id != national.id),
            "a national round is the nation's"
        );
        assert!(matches!(store.close_round(&viewer, round.id, None, today()).await, Err(StoreError::Forbidden)));
        let closed = store.close_round(&battambang, round.id, None, today()).await.unwrap();
        let e = store
            .add_candidate(
                &battambang,
                closed.id,
                &CandidateInput { worker_id: Some(stranger), ..Default::default() },
                today(),
            )
            .await
            .unwrap_err();
        assert!(
            error_codes(&e, true).contains("status:round_closed") || error_codes(&e, true).contains("unknown_worker")
        );

        assert_eq!(
            audited(store, "recruitment_round").await,
            2 + 3 + 1,
            "{engine:?}: two opened, three posts, one closed"
        );
        assert!(audited(store, "candidate").await >= 5 + 4 + 2);
        db.cleanup().await;
    }
}
