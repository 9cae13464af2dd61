//! The establishment on every engine: posts approved, filled by a worker's posting, left
//! vacant when the worker moves or leaves, ended; counts by unit, cadre and funding source for
//! a year (a past year counted on its last day); a plan's posts approved once; recorded totals;
//! scope; versions; audit.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::NaiveDate;
use komlang_core::establishment::{FundingSource, PostCounts};
use komlang_core::planning::INVESTMENT_CASE;
use komlang_core::validate::WorkerInput;
use komlang_core::*;
use komlang_store::establishment::{EstablishmentQuery, NewPosts, PlanApproval, PostQuery, PostState, RecordInput};
use komlang_store::planning::PlanRequest;
use komlang_store::testing::{engines, error_codes, officer, TestDb};
use komlang_store::{system_principal, AuditQuery, Store, StoreError, WorkerChange};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn admin() -> Principal {
    system_principal("test")
}

async fn add_worker(store: &Store, name: &str, workplace: &str) -> Worker {
    let input = WorkerInput {
        name_km: Some("សុខ សុភា".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some("para_professional".into()),
        role: Some("district_social_worker".into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some("2020-01-15".into()),
        ..Default::default()
    };
    store.create_worker(&admin(), &input, today()).await.unwrap()
}

fn posts(code: &str, count: u32, year: i32, funding: FundingSource) -> NewPosts {
    NewPosts {
        admin_code: code.into(),
        org_id: None,
        cadre: Cadre::ParaProfessional,
        role: WorkerRole::DistrictSocialWorker,
        funding,
        approved_year: year,
        count,
        note: None,
    }
}

fn est(level: AdminLevel, parent: Option<&str>, year: i32) -> EstablishmentQuery {
    EstablishmentQuery { level, parent: parent.map(String::from), year, cadre: None, funding: None }
}

fn code_of(e: &StoreError) -> String {
    error_codes(e, false)
}

/// One unit's row of the establishment.
async fn unit_counts(store: &Store, p: &Principal, q: &EstablishmentQuery, unit: &str, on: NaiveDate) -> PostCounts {
    let r = store.establishment(p, q, on).await.unwrap();
    let row = r.items.iter().find(|x| x.unit == unit).unwrap_or_else(|| panic!("{unit} not in {:?}", r.items));
    PostCounts { approved: row.approved, filled: row.filled, vacant: row.vacant }
}

#[tokio::test]
async fn posts_are_filled_by_postings_and_fall_vacant_when_the_worker_leaves() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = admin();
        // Sangkae district (0208, Battambang): 2 posts from 2024, 1 from 2026.
        let old = s.create_posts(&a, &posts("0208", 2, 2024, FundingSource::MosvyPayroll)).await.unwrap();
        let new = s.create_posts(&a, &posts("0208", 1, 2026, FundingSource::DevelopmentPartner)).await.unwrap();
        assert_eq!((old.len(), new.len()), (2, 1), "{engine:?}");
        let dara = add_worker(s, "Dara", "0208").await;
        let sok = add_worker(s, "Sok", "0208").await;
        let elsewhere = add_worker(s, "Chan", "0209").await;

        let q25 = est(AdminLevel::District, Some("02"), 2025);
        assert_eq!(unit_counts(s, &a, &q25, "0208", today()).await, PostCounts::new(2, 0), "{engine:?}");

        // Dara fills a 2024 post from 1 March 2025.
        let post = s.post(&a, old[0]).await.unwrap().unwrap();
        let filled = s.fill_post(&a, old[0], dara.id, day("2025-03-01"), Some(post.version)).await.unwrap();
        assert_eq!(filled.holder.as_ref().map(|h| (h.worker_id, h.since.as_str())), Some((dara.id, "2025-03-01")));
        assert_eq!(filled.version, post.version + 1, "{engine:?}: a change moves the version");

        // Refusals, each changing nothing.
        let v = filled.version;
        let e = s.fill_post(&a, old[0], sok.id, today(), Some(v)).await.unwrap_err();
        assert_eq!(code_of(&e), "post_filled", "{engine:?}");
        let e = s.fill_post(&a, old[1], dara.id, today(), None).await.unwrap_err();
        assert_eq!(code_of(&e), "worker_holds_post", "{engine:?}");
        let e = s.fill_post(&a, old[1], elsewhere.id, today(), None).await.unwrap_err();
        assert_eq!(code_of(&e), "not_posted_there", "{engine:?}");
        let e = s.fill_post(&a, old[1], 999_999, today(), None).await.unwrap_err();
        assert_eq!(code_of(&e), "unknown_worker", "{engine:?}");
        let e = s.fill_post(&a, old[0], sok.id, today(), Some(v - 1)).await.unwrap_err();
        assert!(matches!(e, StoreError::Stale { current } if current == v), "{engine:?}: {e:?}");
        // The 2026 post is not approved in 2025.
        let e = s.fill_post(&a, new[0], sok.id, day("2025-06-01"), None).await.unwrap_err();
        assert_eq!(code_of(&e), "post_ended", "{engine:?}");

        // A new title at the same place keeps the post.
        let mut w = s.get_worker(&a, dara.id).await.unwrap().unwrap();
        let patch = WorkerInput { position_title: Some("Senior social worker".into()), ..Default::default() };
        w = s.update_worker(&a, w.id, &patch, &WorkerChange::default(), today(), Some(w.version)).await.unwrap();
        assert_eq!(s.post(&a, old[0]).await.unwrap().unwrap().holder.map(|h| h.worker_id), Some(dara.id));

        // 2025 counted on its last day: filled. Dara leaves on 1 February 2026.
        assert_eq!(unit_counts(s, &a, &q25, "0208", today()).await, PostCounts::new(2, 1), "{engine:?}");
        let leave =
            WorkerInput { status: Some("left".into()), end_date: Some("2026-02-01".into()), ..Default::default() };
        let change = WorkerChange { effective_date: Some(day("2026-02-01")), note: None };
        s.update_worker(&a, w.id, &leave, &change, today(), Some(w.version)).await.unwrap();
        assert!(s.post(&a, old[0]).await.unwrap().unwrap().holder.is_none(), "{engine:?}: vacant once she left");
        let q26 = est(AdminLevel::District, Some("02"), 2026);
        assert_eq!(unit_counts(s, &a, &q26, "0208", today()).await, PostCounts::new(3, 0), "{engine:?}");
        assert_eq!(
            unit_counts(s, &a, &q25, "0208", today()).await,
            PostCounts::new(2, 1),
            "{engine:?}: last year's figure does not change when someone leaves"
        );

        // Sok fills the 2026 post today, then it is left vacant: Sok stays at the district.
        let p = s.fill_post(&a, new[0], sok.id, today(), None).await.unwrap();
        assert_eq!(p.holder.map(|h| h.worker_id), Some(sok.id));
        let by_funding = s.establishment(&a, &q26, today()).await.unwrap().by_funding;
        let dp = by_funding.iter().find(|g| g.key == FundingSource::DevelopmentPartner).unwrap();
        assert_eq!(dp.counts, PostCounts::new(1, 1), "{engine:?}");
        let vacated = s.vacate_post(&a, new[0], today(), None).await.unwrap();
        assert!(vacated.holder.is_none());
        let sok_now = s.get_worker(&a, sok.id).await.unwrap().unwrap();
        assert_eq!(sok_now.workplace_code, "0208");
        // ... and can fill another post.
        s.fill_post(&a, old[1], sok.id, today(), None).await.unwrap();

        // Lists: vacant and filled posts of the district.
        let pq = |state| PostQuery {
            unit: Some("0208".into()),
            year: 2026,
            state: Some(state),
            page: 1,
            per_page: 50,
            ..Default::default()
        };
        assert_eq!(s.posts(&a, &pq(PostState::Vacant)).await.unwrap().total, 2, "{engine:?}");
        assert_eq!(s.posts(&a, &pq(PostState::Filled)).await.unwrap().total, 1, "{engine:?}");
        let cands = s.post_candidates(&a, &["0208".to_string()]).await.unwrap();
        assert!(cands.iter().all(|c| c.worker_id != sok.id), "{engine:?}: Sok fills a post");

        // Ending: a filled post only from a later year; a vacant one from any year after its approval.
        let e = s.end_post(&a, old[1], 2026, today(), None).await.unwrap_err();
        assert_eq!(code_of(&e), "post_filled", "{engine:?}");
        let e = s.end_post(&a, old[0], 2024, today(), None).await.unwrap_err();
        assert_eq!(code_of(&e), "end_before_approval", "{engine:?}");
        s.end_post(&a, old[0], 2026, today(), None).await.unwrap();
        assert_eq!(unit_counts(s, &a, &q26, "0208", today()).await, PostCounts::new(2, 1), "{engine:?}");

        // Every change is audited, with what it changed.
        let audit = s
            .list_audit(&a, &AuditQuery { entity: Some("post".into()), per_page: 100, ..Default::default() })
            .await
            .unwrap()
            .items;
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        for act in ["create", "fill", "vacate", "end"] {
            assert!(actions.contains(&act), "{engine:?}: {act} in {actions:?}");
        }
        let fill = audit.iter().find(|e| e.action == "fill" && e.entity_id == old[0].to_string()).unwrap();
        assert!(
            fill.after.as_ref().map(|v| v.to_string()).unwrap_or_default().contains(&format!("\"holder\":{}", dara.id)),
            "{fill:?}"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_establishment_stays_in_the_callers_scope() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = admin();
        let here = s.create_posts(&a, &posts("0208", 1, 2025, FundingSource::MosvyPayroll)).await.unwrap();
        let there = s.create_posts(&a, &posts("1201", 1, 2025, FundingSource::MosvyPayroll)).await.unwrap();
        let province = officer(UserRole::ProvincialOfficer, "02", AdminLevel::Province);
        let district = officer(UserRole::DistrictOfficer, "0208", AdminLevel::District);

        let r = s.establishment(&province, &est(AdminLevel::District, None, 2026), today()).await.unwrap();
        assert!(r.items.iter().all(|x| x.unit.starts_with("02")), "{engine:?}");
        assert_eq!(r.total, PostCounts::new(1, 0), "{engine:?}: Phnom Penh's post is not counted");
        assert!(s.post(&province, here[0]).await.unwrap().is_some());
        assert!(s.post(&province, there[0]).await.unwrap().is_none(), "{engine:?}");
        assert!(s.post(&district, there[0]).await.unwrap().is_none(), "{engine:?}");
        let e = s.establishment(&district, &est(AdminLevel::Commune, Some("12"), 2026), today()).await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{engine:?}: {e:?}");

        // Officers fill posts in their scope but neither approve nor end them, nor fill others'.
        let e = s.create_posts(&province, &posts("0208", 1, 2026, FundingSource::MosvyPayroll)).await.unwrap_err();
        assert!(matches!(e, StoreError::Forbidden), "{engine:?}");
        let e = s.end_post(&district, here[0], 2027, today(), None).await.unwrap_err();
        assert!(matches!(e, StoreError::Forbidden), "{engine:?}");
        let w = add_worker(s, "Vanna", "1201").await;
        let e = s.fill_post(&district, there[0], w.id, today(), None).await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{engine:?}: {e:?}");
        let mine = add_worker(s, "Rith", "0208").await;
        s.fill_post(&district, here[0], mine.id, today(), None).await.unwrap();
        // A unit that does not exist, a year out of range, no posts, a long note: each named.
        let e = s.create_posts(&a, &posts("9999", 1, 2026, FundingSource::MosvyPayroll)).await.unwrap_err();
        assert_eq!(code_of(&e), "unknown_admin_unit", "{engine:?}");
        let mut bad = posts("0208", 0, 1800, FundingSource::MosvyPayroll);
        bad.note = Some("x".repeat(501));
        let e = s.create_posts(&a, &bad).await.unwrap_err();
        assert_eq!(code_of(&e), "invalid_year,count_range,too_long", "{engine:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_plans_posts_are_approved_once_and_past_totals_are_recorded() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = admin();
        let req = PlanRequest {
            name: "Battambang 2027".into(),
            norm: INVESTMENT_CASE.into(),
            parent: Some("02".into()),
            posts: None,
            start_year: 2026,
            target_year: 2027,
            yearly_capacity: None,
            weights: Default::default(),
            cap_per_unit: None,
            level_order: vec![],
            blocked: vec![],
        };
        let plan = s.create_plan(&a, &req).await.unwrap();
        assert!(plan.result.total > 0);
        let approval =
            PlanApproval { funding: FundingSource::MosvyPayroll, province: None, district: None, commune: None };
        let ids = s.approve_plan_posts(&a, plan.id, &approval).await.unwrap();
        assert_eq!(ids.len() as u32, plan.result.total, "{engine:?}");
        let e = s.approve_plan_posts(&a, plan.id, &approval).await.unwrap_err();
        assert_eq!(code_of(&e), "plan_approved", "{engine:?}");
        let r = s.establishment(&a, &est(AdminLevel::Province, None, 2027), today()).await.unwrap();
        assert_eq!(r.total.approved, plan.result.total, "{engine:?}");
        // The norm's commune posts are social work agents.
        let p = s.post(&a, ids[ids.len() - 1]).await.unwrap().unwrap();
        assert_eq!(p.plan_id, Some(plan.id));
        let communes = s
            .posts(&a, &PostQuery { unit: Some("02".into()), year: 2027, page: 1, per_page: 500, ..Default::default() })
            .await
            .unwrap();
        assert!(communes.items.iter().any(|x| x.role == WorkerRole::SocialWorkAgent), "{engine:?}");

        // Totals of past years, recorded and replaced (audited with what they replaced).
        let country = s.country().await.unwrap().unwrap().code;
        let rec = |approved, filled| RecordInput {
            admin_code: country.clone(),
            year: 2019,
            approved,
            filled,
            source: "Seed 002".into(),
        };
        s.record_establishment(&a, &rec(3_700, None)).await.unwrap();
        s.record_establishment(&a, &rec(3_764, Some(3_500))).await.unwrap();
        let e = s.record_establishment(&a, &rec(10, Some(11))).await.unwrap_err();
        assert_eq!(code_of(&e), "filled_over_approved", "{engine:?}");
        let years = s.establishment_years(&a, None, 2018, 2027, today()).await.unwrap();
        assert_eq!(years.len(), 10);
        let y19 = years.iter().find(|y| y.year == 2019).unwrap();
        assert_eq!(y19.recorded.as_ref().map(|r| (r.approved, r.filled)), Some((3_764, Some(3_500))), "{engine:?}");
        assert_eq!(years.iter().find(|y| y.year == 2027).unwrap().counted.approved, plan.result.total);
        let audit = s
            .list_audit(&a, &AuditQuery { entity: Some("establishment".into()), per_page: 10, ..Default::default() })
            .await
            .unwrap()
            .items;
        assert_eq!(audit.len(), 2, "{engine:?}");
        assert!(audit[0].before.as_ref().map(|v| v.to_string()).unwrap_or_default().contains("3700"), "{:?}", audit[0]);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn two_people_filling_one_post_at_once_fill_it_once() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = admin();
        let ids = s.create_posts(&a, &posts("0208", 1, 2025, FundingSource::MosvyPayroll)).await.unwrap();
        let mut workers = Vec::new();
        for name in ["Ana", "Bopha", "Chenda", "Dara", "Eng", "Heng"] {
            workers.push(add_worker(s, name, "0208").await.id);
        }
        let tasks: Vec<_> = workers
            .iter()
            .map(|w| {
                let (s, a, id, w) = (s.clone(), a.clone(), ids[0], *w);
                tokio::spawn(async move { s.fill_post(&a, id, w, today(), None).await })
            })
            .collect();
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(code_of(&e), "post_filled", "{engine:?}"),
            }
        }
        assert_eq!(ok, 1, "{engine:?}: one fill wins");
        let r = s.establishment(&a, &est(AdminLevel::District, Some("02"), 2026), today()).await.unwrap();
        assert_eq!(r.total, PostCounts::new(1, 1), "{engine:?}");
        db.cleanup().await;
    }
}
