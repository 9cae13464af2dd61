//! Recruitment need, on every engine: per unit, the establishment's vacant posts plus the holders
//! reaching the retirement age and the rates' expected leavers, equal to a count made here from
//! the posts and workers written; settings checked, kept and audited; each unit in scope only.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use komlang_core::establishment::FundingSource;
use komlang_core::planning::INVESTMENT_CASE;
use komlang_core::recruitment::ExitRates;
use komlang_core::validate::WorkerInput;
use komlang_core::{AdminLevel, Cadre, UserRole, WorkerRole};
use komlang_store::establishment::NewPosts;
use komlang_store::planning::PlanRequest;
use komlang_store::recruitment::RecruitmentSettings;
use komlang_store::testing::{engines, error_codes, officer, TestDb};
use komlang_store::{system_principal, Store, StoreError};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

async fn holder(store: &Store, name: &str, place: &str, born: Option<&str>, cadre: Cadre) -> i64 {
    let input = WorkerInput {
        name_km: Some("សុខ សុភា".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        date_of_birth: born.map(String::from),
        cadre: Some(cadre.code().into()),
        role: Some("district_social_worker".into()),
        sector: Some("government".into()),
        workplace_code: Some(place.into()),
        status: Some("active".into()),
        start_date: Some("2015-01-15".into()),
        ..Default::default()
    };
    store.create_worker(&system_principal("test"), &input, today()).await.unwrap().id
}

async fn posts(store: &Store, place: &str, cadre: Cadre, count: u32) -> Vec<i64> {
    let n = NewPosts {
        admin_code: place.into(),
        org_id: None,
        cadre,
        role: WorkerRole::DistrictSocialWorker,
        funding: FundingSource::MosvyPayroll,
        approved_year: 2024,
        count,
        note: None,
    };
    store.create_posts(&system_principal("test"), &n).await.unwrap()
}

#[tokio::test]
async fn need_is_vacancies_plus_retirements_plus_rated_exits() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("test");
        // Province 02 (Battambang), district 0201: 5 posts, 4 filled: two holders reach 60 by
        // 2027, one has no date of birth, one is young. District 0203: 3 posts, none filled.
        // Province 01: 2 posts, 1 filled by someone of 70.
        let a = posts(store, "0201", Cadre::Professional, 5).await;
        let b = posts(store, "0203", Cadre::ParaSocialWorker, 3).await;
        let c = posts(store, "0102", Cadre::Professional, 2).await;
        let people = [
            ("Old One", "0201", Some("1966-04-01"), a[0]),
            ("Old Two", "0201", Some("1967-12-31"), a[1]),
            ("No Birth", "0201", None, a[2]),
            ("Young", "0201", Some("1995-06-01"), a[3]),
            ("Elder", "0102", Some("1956-01-01"), c[0]),
        ];
        for (name, place, born, post) in people {
            let w = holder(store, name, place, born, Cadre::Professional).await;
            store.fill_post(&admin, post, w, today(), None).await.unwrap();
        }
        assert_eq!(b.len(), 3);

        // Without rates: retirements only.
        let r = store.recruitment_need(&admin, AdminLevel::Province, None, 2027, None, today()).await.unwrap();
        assert_eq!(r.retirement_age, 60);
        let p02 = r.items.iter().find(|u| u.unit == "02").unwrap();
        assert_eq!((p02.need.vacant, p02.need.filled, p02.need.retiring, p02.need.birth_unknown), (4, 4, 2, 1));
        assert_eq!((p02.need.expected_exits, p02.need.to_recruit), (2, 6));
        let p01 = r.items.iter().find(|u| u.unit == "01").unwrap();
        assert_eq!((p01.need.vacant, p01.need.retiring, p01.need.to_recruit), (1, 1, 2));
        assert_eq!(r.total.to_recruit, r.items.iter().map(|u| u.need.to_recruit).sum::<u32>());
        // The year before, fewer retire: only those 60 by the end of 2026.
        let r26 = store.recruitment_need(&admin, AdminLevel::Province, None, 2026, None, today()).await.unwrap();
        assert_eq!(r26.items.iter().find(|u| u.unit == "02").unwrap().need.retiring, 1);

        // Rates of 250 per 1,000 for professionals: the two not retiring in 0201 add 0.5,
        // rounded to 1 (half away from zero). Audited.
        let set = RecruitmentSettings {
            retirement_age: 60,
            exit_rates: vec![ExitRates::checked(Cadre::Professional, 150.0, 100.0).unwrap()],
        };
        store.set_recruitment_settings(&admin, &set).await.unwrap();
        assert_eq!(store.recruitment_settings().await.unwrap(), set);
        let audited: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log WHERE entity = 'recruitment_settings'")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(audited, 1);
        let r = store.recruitment_need(&admin, AdminLevel::District, Some("02"), 2027, None, today()).await.unwrap();
        let d = r.items.iter().find(|u| u.unit == "0201").unwrap();
        assert!((d.need.other_exits - 0.5).abs() < 1e-9, "{:?}", d.need);
        assert_eq!((d.need.expected_exits, d.need.to_recruit), (3, 4));
        let d3 = r.items.iter().find(|u| u.unit == "0203").unwrap();
        assert_eq!((d3.need.vacant, d3.need.to_recruit), (3, 3));
        // A later retirement age: nobody in 0201 retires by 2027 but... the 70-year-old elsewhere.
        let late = RecruitmentSettings { retirement_age: 65, exit_rates: vec![] };
        store.set_recruitment_settings(&admin, &late).await.unwrap();
        assert_eq!(store.recruitment_settings().await.unwrap().exit_rates.len(), 1, "rates not given are kept");
        let r = store.recruitment_need(&admin, AdminLevel::Province, None, 2027, None, today()).await.unwrap();
        assert_eq!(r.items.iter().find(|u| u.unit == "02").unwrap().need.retiring, 0);
        assert_eq!(r.items.iter().find(|u| u.unit == "01").unwrap().need.retiring, 1);

        // Bad settings change nothing, and say which field.
        for bad in [
            RecruitmentSettings { retirement_age: 30, exit_rates: vec![] },
            RecruitmentSettings {
                retirement_age: 60,
                exit_rates: vec![ExitRates { cadre: Cadre::Allied, incapacity_per_1000: -1.0, death_per_1000: 0.0 }],
            },
        ] {
            let e = store.set_recruitment_settings(&admin, &bad).await.unwrap_err();
            assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
            assert!(error_codes(&e, true).contains("range"), "{}", error_codes(&e, true));
        }
        assert_eq!(store.recruitment_settings().await.unwrap().retirement_age, 65);

        // A saved deployment plan's new posts of the year are added, less those already
        // approved as posts from it (which the establishment counts as vacant).
        let req = PlanRequest {
            name: "recruit".into(),
            norm: INVESTMENT_CASE.into(),
            parent: Some("02".into()),
            posts: Some(6),
            start_year: 2027,
            target_year: 2027,
            yearly_capacity: None,
            weights: Default::default(),
            cap_per_unit: None,
            level_order: Vec::new(),
            blocked: Vec::new(),
        };
        let plan = store.create_plan(&admin, &req).await.unwrap();
        let mut by_district: BTreeMap<String, u32> = BTreeMap::new();
        let mut units = BTreeMap::new();
        for x in &plan.result.posts {
            units.insert(x.admin_code.clone(), store.admin_unit(&x.admin_code).await.unwrap().unwrap());
        }
        for x in plan.result.posts.iter().filter(|x| x.year == 2027) {
            let d = units.get(&x.admin_code).and_then(|u| u.district_code.clone()).unwrap_or_default();
            *by_district.entry(d).or_default() += x.count;
        }
        assert_eq!(by_district.values().sum::<u32>(), 6, "{:?}", plan.result.posts);
        let first = plan.result.posts.iter().find(|x| x.year == 2027).unwrap().clone();
        sqlx::query(
            "INSERT INTO posts (admin_code, cadre, role, funding, approved_year, plan_id, created_by, created_at) \
             VALUES ($1, 'para_social_worker', 'ccwc_focal_point', 'mosvy_payroll', 2027, $2, 'test', '2026-12-07T00:00:00Z')",
        )
        .bind(&first.admin_code)
        .bind(plan.id)
        .execute(store.pool())
        .await
        .unwrap();
        let without =
            store.recruitment_need(&admin, AdminLevel::District, Some("02"), 2027, None, today()).await.unwrap();
        let with = store
            .recruitment_need(&admin, AdminLevel::District, Some("02"), 2027, Some(plan.id), today())
            .await
            .unwrap();
        assert_eq!(with.plan, Some(plan.id));
        let first_district = units[&first.admin_code].district_code.clone().unwrap();
        for (a, b) in without.items.iter().zip(&with.items) {
            let want = by_district.get(&a.unit).copied().unwrap_or(0) - u32::from(a.unit == first_district);
            assert_eq!(b.need.planned, want, "{}", a.unit);
            assert_eq!(b.need.to_recruit, a.need.to_recruit + want, "{}", a.unit);
        }
        assert_eq!(with.total.planned, 5);
        assert!(matches!(
            store.recruitment_need(&admin, AdminLevel::District, Some("02"), 2027, Some(999_999), today()).await,
            Err(StoreError::NotFound)
        ));

        // A provincial officer of 01 sees 01's districts only, and cannot keep the settings.
        let prov = officer(UserRole::ProvincialOfficer, "01", AdminLevel::Province);
        let r = store.recruitment_need(&prov, AdminLevel::District, None, 2027, None, today()).await.unwrap();
        assert!(r.items.iter().all(|u| u.unit.starts_with("01")), "{:?}", r.items);
        assert_eq!(r.total.to_recruit, 2);
        assert!(matches!(
            store.recruitment_need(&prov, AdminLevel::District, Some("02"), 2027, None, today()).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(store.set_recruitment_settings(&prov, &late).await, Err(StoreError::Forbidden)));
        db.cleanup().await;
    }
}
