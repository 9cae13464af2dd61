//! Workforce planning on every engine: the built-in norm, facts per unit
//! from workers, population, caseloads, vacancies and indicators, scope,
//! norms added by administrators, saved plans.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::NaiveDate;
use komlang_core::planning::{investment_case, NormRule, WorkerFilter, INVESTMENT_CASE};
use komlang_core::validate::WorkerInput;
use komlang_core::*;
use komlang_store::planning::{
    BlockedUnitYear, CaseloadRow, FactsQuery, IndicatorRow, NewNorm, PlanRequest, VacancyRow,
};
use komlang_store::testing::{engines, TestDb};
use komlang_store::{system_principal, AuditQuery, StoreError};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn who(role: UserRole, scope: Option<(&str, AdminLevel)>) -> Principal {
    Principal {
        user_id: 0,
        username: format!("{}-{}", role.code(), scope.map(|s| s.0).unwrap_or("all")),
        role,
        scope: match scope {
            None => Scope::Nation,
            Some((code, level)) => Scope::Unit { code: code.into(), level },
        },
        org_id: None,
        worker_id: None,
    }
}

fn admin() -> Principal {
    system_principal("test")
}

fn worker(name: &str, workplace: &str, cadre: &str, role: &str, sector: &str, status: &str) -> WorkerInput {
    WorkerInput {
        name_km: Some("ឈ្មោះ".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some(cadre.into()),
        role: Some(role.into()),
        sector: Some(sector.into()),
        workplace_code: Some(workplace.into()),
        status: Some(status.into()),
        ..Default::default()
    }
}

fn q(level: AdminLevel, parent: Option<&str>, year: i32) -> FactsQuery {
    FactsQuery { level, parent: parent.map(String::from), year }
}

fn plan_request(name: &str) -> PlanRequest {
    PlanRequest {
        name: name.into(),
        norm: INVESTMENT_CASE.into(),
        parent: None,
        posts: None,
        start_year: 2025,
        target_year: 2027,
        yearly_capacity: None,
        weights: Default::default(),
        cap_per_unit: None,
        level_order: Vec::new(),
        blocked: Vec::new(),
    }
}

async fn population(db: &TestDb, rows: &[(&str, i64, &str, &str, i64)]) {
    for (code, year, sex, age, count) in rows {
        sqlx::query("INSERT INTO population (admin_code, year, sex, age_group, count) VALUES ($1, $2, $3, $4, $5)")
            .bind(*code)
            .bind(*year)
            .bind(*sex)
            .bind(*age)
            .bind(*count)
            .execute(db.store.pool())
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn the_investment_case_is_built_in_and_gives_the_2025_structure_its_figure() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let norms = db.store.planning_norms(&admin()).await.unwrap();
        assert_eq!(norms.len(), 1, "{engine:?}");
        assert!(norms[0].builtin);
        assert_eq!(norms[0].norm, investment_case(), "{engine:?}: the seeded norm is the investment case");

        // 1,661 communes + 2 × 210 districts + 25 provinces, from the database.
        let mut required = 0;
        for (level, units, per_unit) in
            [(AdminLevel::Province, 25, 1), (AdminLevel::District, 210, 2), (AdminLevel::Commune, 1661, 1)]
        {
            let r = db.store.coverage_report(&admin(), INVESTMENT_CASE, &q(level, None, 2025)).await.unwrap();
            assert_eq!(r.units.len(), units, "{engine:?} {level:?}");
            assert_eq!(r.totals.required, units as u64 * per_unit);
            assert_eq!(r.totals.gap, r.totals.required, "nobody in post yet");
            required += r.totals.required;
        }
        assert_eq!(required, 2106, "{engine:?}");

        // A plan of the whole gap places all of it; one of 2,079 posts places 2,079.
        let whole = db.store.generate_plan(&admin(), &plan_request("all")).await.unwrap();
        assert_eq!((whole.total, whole.asked, whole.total_gap, whole.unplaced), (2106, 2106, 2106, 0), "{engine:?}");
        let mut req = plan_request("2079");
        req.posts = Some(2079);
        req.yearly_capacity = Some(700);
        let p = db.store.generate_plan(&admin(), &req).await.unwrap();
        assert_eq!(p.total, 2079, "{engine:?}");
        assert!(p.posts.iter().all(|x| (2025..=2027).contains(&x.year)));
        assert_eq!(
            p.units.len(),
            p.posts.iter().map(|x| &x.admin_code).collect::<std::collections::BTreeSet<_>>().len()
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn facts_come_from_workers_population_caseloads_vacancies_and_indicators() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = admin();
        // Battambang (02), Banan district (0201), commune 020101.
        for w in [
            worker("Agent One", "020101", "para_professional", "social_work_agent", "government", "active"),
            worker("Agent Leave", "020102", "para_professional", "social_work_agent", "government", "on_leave"),
            worker("Agent Left", "020103", "para_professional", "social_work_agent", "government", "left"),
            worker("Agent Ngo", "020104", "para_professional", "social_work_agent", "ngo", "active"),
            worker("District Sw", "0201", "para_professional", "district_social_worker", "government", "active"),
            worker("Dosvy Pro", "02", "professional_social_worker", "dosvy_officer", "government", "active"),
            worker("Ccwc Focal", "020101", "para_social_worker", "ccwc_focal_point", "government", "active"),
        ] {
            s.create_worker(&a, &w, today()).await.unwrap();
        }
        let communes = s.unit_facts(&a, &investment_case(), &q(AdminLevel::Commune, Some("0201"), 2025)).await.unwrap();
        let c = |code: &str| communes.iter().find(|u| u.code == code).unwrap().clone();
        assert_eq!(
            (c("020101").in_post, c("020101").government_workers),
            (1, 2),
            "{engine:?}: only social work agents count"
        );
        assert_eq!(c("020102").in_post, 1, "{engine:?}: on leave still holds the post");
        assert_eq!(c("020103").in_post, 0, "{engine:?}: gone");
        assert_eq!((c("020104").in_post, c("020104").government_workers), (0, 0), "{engine:?}: NGO staff do not count");
        let districts = s.unit_facts(&a, &investment_case(), &q(AdminLevel::District, Some("02"), 2025)).await.unwrap();
        let banan = districts.iter().find(|u| u.code == "0201").unwrap();
        assert_eq!((banan.in_post, banan.government_workers), (1, 4), "{engine:?}");
        let prov = s.unit_facts(&a, &investment_case(), &q(AdminLevel::Province, None, 2025)).await.unwrap();
        let btb = prov.iter().find(|u| u.code == "02").unwrap();
        assert_eq!((btb.in_post, btb.government_workers), (1, 5), "{engine:?}");

        // Population: a province figure; communes of Banan by age group, in two years.
        population(
            &db,
            &[
                ("02", 2019, "total", "total", 1_000_000),
                ("02", 2019, "total", "0-17", 380_000),
                ("020101", 2019, "female", "total", 3_000),
                ("020101", 2019, "male", "total", 2_900),
                ("020101", 2019, "female", "0-17", 1_100),
                ("020101", 2019, "male", "0-17", 1_200),
                ("020101", 2024, "total", "total", 6_500),
                ("020101", 2024, "total", "0-4", 700),
                ("020101", 2024, "total", "5-14", 1_400),
                ("020101", 2024, "total", "15-17", 400),
                ("020101", 2030, "total", "total", 9_999),
                ("020102", 2024, "total", "total", 4_000),
            ],
        )
        .await;
        let prov = s.unit_facts(&a, &investment_case(), &q(AdminLevel::Province, None, 2025)).await.unwrap();
        let btb = prov.iter().find(|u| u.code == "02").unwrap();
        assert_eq!((btb.population, btb.children), (Some(1_000_000), Some(380_000)), "{engine:?}: own figure");
        let districts = s.unit_facts(&a, &investment_case(), &q(AdminLevel::District, Some("02"), 2025)).await.unwrap();
        let banan = districts.iter().find(|u| u.code == "0201").unwrap();
        assert_eq!((banan.population, banan.children), (Some(10_500), Some(2_500)), "{engine:?}: communes summed");
        let old = s.unit_facts(&a, &investment_case(), &q(AdminLevel::Commune, Some("0201"), 2020)).await.unwrap();
        let c1 = old.iter().find(|u| u.code == "020101").unwrap();
        assert_eq!((c1.population, c1.children), (Some(5_900), Some(2_300)), "{engine:?}: female + male of 2019");

        // Caseloads, vacancies, indicators.
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        s.save_caseloads(
            &a,
            &[
                CaseloadRow { admin_code: "020101".into(), open_cases: 40, as_of: d("2024-06-30") },
                CaseloadRow { admin_code: "020101".into(), open_cases: 10, as_of: d("2025-06-30") },
                CaseloadRow { admin_code: "020102".into(), open_cases: 5, as_of: d("2025-01-31") },
                CaseloadRow { admin_code: "020101".into(), open_cases: 99, as_of: d("2026-01-01") },
            ],
        )
        .await
        .unwrap();
        s.save_vacancies(&a, &[VacancyRow { admin_code: "0201".into(), vacancies: 2, as_of: d("2025-01-01") }])
            .await
            .unwrap();
        s.save_indicators(
            &a,
            &[
                IndicatorRow { admin_code: "0201".into(), name: "poverty_index".into(), year: 2021, value: 0.3 },
                IndicatorRow { admin_code: "0201".into(), name: "poverty_index".into(), year: 2024, value: 0.25 },
                IndicatorRow { admin_code: "0202".into(), name: "poverty_index".into(), year: 2024, value: 0.5 },
            ],
        )
        .await
        .unwrap();
        let districts = s.unit_facts(&a, &investment_case(), &q(AdminLevel::District, Some("02"), 2025)).await.unwrap();
        let banan = districts.iter().find(|u| u.code == "0201").unwrap();
        assert_eq!(banan.open_cases, Some(15), "{engine:?}: latest of each commune, summed");
        assert_eq!(banan.caseload, Some(3.75), "{engine:?}: 15 cases, 4 government workers");
        assert_eq!(banan.vacancies, 2);
        assert_eq!(banan.indicators.get("poverty_index"), Some(&0.25), "{engine:?}: latest year");
        assert_eq!(s.indicator_names().await.unwrap(), vec!["poverty_index".to_string()]);

        // Bad rows: nothing saved, every problem reported.
        let err = s
            .save_indicators(
                &a,
                &[
                    IndicatorRow { admin_code: "99".into(), name: "poverty_index".into(), year: 2024, value: 1.0 },
                    IndicatorRow { admin_code: "0201".into(), name: "Bad Name".into(), year: 1800, value: 1.0 },
                ],
            )
            .await
            .unwrap_err();
        let StoreError::Invalid(v) = err else { panic!("{err:?}") };
        let codes: Vec<&str> = v.errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(codes, vec!["unknown_admin_unit", "indicator_name_format", "invalid_year"], "{engine:?}");
        assert_eq!(v.errors[0].params.get("row").map(String::as_str), Some("1"));
        // Only national administrators enter data.
        let prov = who(UserRole::ProvincialOfficer, Some(("02", AdminLevel::Province)));
        assert!(matches!(s.save_vacancies(&prov, &[]).await, Err(StoreError::Forbidden)));
        let audit = s
            .list_audit(
                &a,
                &AuditQuery { entity: Some("planning_caseloads".into()), per_page: 10, ..Default::default() },
            )
            .await
            .unwrap();
        assert_eq!(audit.total, 1, "{engine:?}: one audit entry per upload");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn planning_stays_in_the_callers_scope() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let prov = who(UserRole::ProvincialOfficer, Some(("02", AdminLevel::Province)));
        let dist = who(UserRole::DistrictOfficer, Some(("0201", AdminLevel::District)));
        let viewer = who(UserRole::NationalViewer, None);
        let r = s.coverage_report(&prov, INVESTMENT_CASE, &q(AdminLevel::Province, None, 2025)).await.unwrap();
        assert_eq!(r.units.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), vec!["02"], "{engine:?}");
        let r = s.coverage_report(&prov, INVESTMENT_CASE, &q(AdminLevel::District, None, 2025)).await.unwrap();
        assert!(!r.units.is_empty() && r.units.iter().all(|u| u.code.starts_with("02")), "{engine:?}");
        let r = s.coverage_report(&dist, INVESTMENT_CASE, &q(AdminLevel::Commune, None, 2025)).await.unwrap();
        assert!(!r.units.is_empty() && r.units.iter().all(|u| u.code.starts_with("0201")), "{engine:?}");
        let e = s.coverage_report(&dist, INVESTMENT_CASE, &q(AdminLevel::Province, None, 2025)).await;
        assert!(matches!(e, Err(StoreError::Invalid(_))), "{engine:?}: a district officer has no province row");
        // A unit outside the scope answers as if it did not exist.
        for parent in ["12", "1201", "nonsense"] {
            let e = s.coverage_report(&prov, INVESTMENT_CASE, &q(AdminLevel::Commune, Some(parent), 2025)).await;
            assert!(matches!(e, Err(StoreError::NotFound)), "{engine:?} {parent}: {e:?}");
        }
        let e = s.coverage_report(&prov, INVESTMENT_CASE, &q(AdminLevel::Province, Some("0201"), 2025)).await;
        assert!(matches!(e, Err(StoreError::Invalid(_))), "{engine:?}: a level above the parent");
        let e = s.coverage_report(&prov, "no-such-norm", &q(AdminLevel::Province, None, 2025)).await;
        assert!(matches!(&e, Err(StoreError::Invalid(v)) if v.errors[0].code == "norm_missing"), "{e:?}");
        for no in [UserRole::OrgHrManager, UserRole::Worker] {
            let p = who(no, None);
            assert!(matches!(s.planning_norms(&p).await, Err(StoreError::Forbidden)));
            assert!(matches!(
                s.coverage_report(&p, INVESTMENT_CASE, &q(AdminLevel::Province, None, 2025)).await,
                Err(StoreError::Forbidden)
            ));
            assert!(matches!(s.saved_plans(&p).await, Err(StoreError::Forbidden)));
        }

        // Plans: made for the scope, seen within it, audited.
        let mut req = plan_request("Battambang 2027");
        req.blocked = vec![BlockedUnitYear { admin_code: "020101".into(), year: 2025 }];
        req.yearly_capacity = Some(30);
        let saved = s.create_plan(&prov, &req).await.unwrap();
        assert_eq!(saved.scope_code.as_deref(), Some("02"));
        assert!(saved.result.posts.iter().all(|x| x.admin_code.starts_with("02")), "{engine:?}");
        assert!(!saved.result.posts.iter().any(|x| x.admin_code == "020101" && x.year == 2025));
        assert_eq!(saved.result.total, 90, "{engine:?}: 3 years of 30");
        let total_gap = s.norm_totals(&prov, &investment_case(), None, 2025).await.unwrap().gap;
        assert_eq!(saved.result.total_gap as u64, total_gap);
        let mut other = plan_request("Banan");
        other.parent = Some("0201".into());
        let banan = s.create_plan(&dist, &other).await.unwrap();
        assert!(!banan.result.posts.is_empty(), "{engine:?}");
        assert!(banan.result.posts.iter().all(|x| x.admin_code.starts_with("0201")));
        assert!(banan.result.posts.iter().all(|x| x.level != AdminLevel::Province));

        let ids = |v: Vec<komlang_store::planning::PlanSummary>| v.iter().map(|p| p.id).collect::<Vec<_>>();
        assert_eq!(ids(s.saved_plans(&admin()).await.unwrap()), vec![banan.id, saved.id]);
        assert_eq!(ids(s.saved_plans(&viewer).await.unwrap()), vec![banan.id, saved.id]);
        assert_eq!(ids(s.saved_plans(&prov).await.unwrap()), vec![banan.id, saved.id]);
        assert_eq!(ids(s.saved_plans(&dist).await.unwrap()), vec![banan.id], "{engine:?}");
        assert!(s.saved_plan(&dist, saved.id).await.unwrap().is_none(), "a province plan is outside the district");
        let other_prov = who(UserRole::ProvincialOfficer, Some(("12", AdminLevel::Province)));
        assert!(s.saved_plan(&other_prov, saved.id).await.unwrap().is_none());
        assert_eq!(s.saved_plan(&viewer, saved.id).await.unwrap().unwrap(), saved);
        assert!(matches!(s.create_plan(&viewer, &req).await, Err(StoreError::Forbidden)));
        let mut bad = plan_request("x");
        bad.parent = Some("12".into());
        assert!(matches!(s.create_plan(&prov, &bad).await, Err(StoreError::NotFound)));
        bad.parent = None;
        bad.target_year = 2020;
        assert!(
            matches!(&s.create_plan(&prov, &bad).await, Err(StoreError::Invalid(v)) if v.errors[0].code == "target_before_start")
        );
        bad.target_year = 2027;
        bad.name = " ".into();
        assert!(matches!(s.create_plan(&prov, &bad).await, Err(StoreError::Invalid(_))));
        let audit = s
            .list_audit(&admin(), &AuditQuery { entity: Some("plan".into()), per_page: 10, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(audit.total, 2, "{engine:?}");
        assert_eq!(audit.items[1].username, prov.username);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn administrators_add_ratio_norms() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let ratio = NewNorm {
            name: "per-100k-children".into(),
            title_en: "1 per 100,000 children".into(),
            title_km: String::new(),
            rules: vec![NormRule::Ratio {
                level: AdminLevel::Province,
                workers: 30.0,
                per: 100_000,
                children: true,
                counts: WorkerFilter::government(),
            }],
        };
        let viewer = who(UserRole::NationalViewer, None);
        assert!(matches!(s.add_planning_norm(&viewer, &ratio).await, Err(StoreError::Forbidden)));
        let rec = s.add_planning_norm(&admin(), &ratio).await.unwrap();
        assert!(!rec.builtin);
        assert_eq!(rec.title_km, "per-100k-children", "an empty title takes the name");
        let dup = s.add_planning_norm(&admin(), &ratio).await.unwrap_err();
        assert!(matches!(&dup, StoreError::Invalid(v) if v.errors[0].code == "norm_name_taken"), "{dup:?}");
        let mut bad = ratio.clone();
        bad.name = "Bad name".into();
        assert!(matches!(s.add_planning_norm(&admin(), &bad).await, Err(StoreError::Invalid(_))));
        assert_eq!(s.planning_norms(&viewer).await.unwrap().len(), 2);

        population(&db, &[("02", 2019, "total", "0-17", 380_000)]).await;
        s.create_worker(
            &admin(),
            &worker("Ngo Pro", "02", "professional_social_worker", "ngo_social_worker", "ngo", "active"),
            today(),
        )
        .await
        .unwrap();
        s.create_worker(
            &admin(),
            &worker("Gov Pro", "0201", "para_professional", "district_officer", "government", "active"),
            today(),
        )
        .await
        .unwrap();
        let r = s.coverage_report(&viewer, "per-100k-children", &q(AdminLevel::Province, None, 2025)).await.unwrap();
        let btb = r.units.iter().find(|u| u.code == "02").unwrap();
        assert_eq!((btb.required, btb.in_post, btb.gap), (Some(114), 1, 113), "{engine:?}: 30 per 100,000 of 380,000");
        assert_eq!(btb.per_100k_children.map(|v| (v * 1000.0).round()), Some(263.0));
        let other = r.units.iter().find(|u| u.code == "01").unwrap();
        assert_eq!((other.required, other.gap), (None, 0), "no population, no requirement");
        db.cleanup().await;
    }
}

/// Years at the ends of the integers are refused like any other (the span between them used
/// to overflow: a server error, found by fuzzing the API).
#[tokio::test]
async fn a_plan_over_the_widest_years_is_refused_not_a_crash() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let mut req = plan_request("far");
        (req.start_year, req.target_year) = (i32::MIN, i32::MAX);
        let codes = match db.store.generate_plan(&admin(), &req).await {
            Err(StoreError::Invalid(v)) => v.errors.iter().map(|e| e.code.clone()).collect::<Vec<_>>(),
            other => panic!("{engine:?}: {other:?}"),
        };
        assert_eq!(codes, ["plan_too_long", "invalid_year", "invalid_year"], "{engine:?}");
        db.cleanup().await;
    }
}
