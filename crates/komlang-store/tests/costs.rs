//! Costs on every engine: the data (validated, replaced, audited), the plan's cost year by year
//! checked against the arithmetic done by hand, the workforce's cost by unit, sector and funding
//! source at ranks or cadres' grades, workers' ranks, and scope.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::NaiveDate;
use komlang_core::costs::{Allowance, CadreCosting, ScaleRow, TrainingCost};
use komlang_core::planning::INVESTMENT_CASE;
use komlang_core::training::CertificateLevel;
use komlang_core::validate::WorkerInput;
use komlang_core::*;
use komlang_store::costs::{CostData, CurrencyRate, RankInput};
use komlang_store::planning::PlanRequest;
use komlang_store::testing::{engines, error_codes, TestDb};
use komlang_store::{system_principal, AuditQuery, Store, StoreError};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn admin() -> Principal {
    system_principal("test")
}

fn data() -> CostData {
    let scale = |grade: &str, monthly: f64| ScaleRow {
        grade: grade.into(),
        step: 1,
        effective_from: day("2024-01-01"),
        monthly,
        currency: "KHR".into(),
    };
    let costing = |cadre, grade: &str, certificate| CadreCosting { cadre, grade: grade.into(), step: 1, certificate };
    let training = |level, cost| TrainingCost { level, cost, currency: "USD".into() };
    CostData {
        currencies: vec!["KHR".into(), "USD".into()],
        rates: vec![CurrencyRate { currency: "KHR".into(), year: 2026, per_usd: 4_000.0 }],
        // $400, $300 and $200 a month.
        scales: vec![scale("A", 1_600_000.0), scale("B", 1_200_000.0), scale("D", 800_000.0)],
        allowances: vec![Allowance {
            code: "remote".into(),
            name_en: "Remote post".into(),
            name_km: String::new(),
            effective_from: day("2024-01-01"),
            monthly: 50.0,
            currency: "USD".into(),
            units: vec!["11".into()],
        }],
        cadres: vec![
            costing(Cadre::Professional, "A", None),
            costing(Cadre::ParaProfessional, "B", Some(CertificateLevel::Tvc2)),
            costing(Cadre::ParaSocialWorker, "D", Some(CertificateLevel::VocationalCertificate)),
        ],
        training: vec![
            training(CertificateLevel::Tvc2, 1_000.0),
            training(CertificateLevel::VocationalCertificate, 100.0),
        ],
    }
}

fn code_of(e: &StoreError) -> String {
    error_codes(e, true)
}

async fn add(store: &Store, name: &str, workplace: &str, cadre: &str) -> i64 {
    let input = WorkerInput {
        name_km: Some("ឈ្មោះ".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some(cadre.into()),
        role: Some("district_social_worker".into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        ..Default::default()
    };
    store.create_worker(&admin(), &input, today()).await.unwrap().id
}

#[tokio::test]
async fn a_plan_costs_its_posts_year_after_year() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = admin();
        s.set_cost_data(&a, &data()).await.unwrap();
        // Mondulkiri (11): a remote province. The investment case there: 1 professional at the
        // province, 2 district social workers a district, 1 social work agent a commune.
        let req = PlanRequest {
            name: "Mondulkiri".into(),
            norm: INVESTMENT_CASE.into(),
            parent: Some("11".into()),
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
        let cost = s.plan_cost(&a, plan.id, "USD").await.unwrap();
        // By hand: each post's year is 12 × (pay + $50 remote); pay by the cadre the norm's rule
        // counts at its level (province: professional, $400; district and commune: para-professional, $300).
        let mut expected = std::collections::BTreeMap::<i32, (u32, f64)>::new();
        for year in 2026..=2027 {
            let mut cost = 0.0;
            let mut new = 0;
            for x in plan.result.posts.iter().filter(|x| x.year <= year) {
                let (pay, training) = if x.level == AdminLevel::Province { (400.0, 0.0) } else { (300.0, 1_000.0) };
                cost += f64::from(x.count) * 12.0 * (pay + 50.0);
                if x.year == year {
                    cost += f64::from(x.count) * training;
                    new += x.count;
                }
            }
            expected.insert(year, (new, cost));
        }
        let got: std::collections::BTreeMap<i32, (u32, f64)> =
            cost.years.iter().map(|y| (y.year, (y.posts, y.cost))).collect();
        assert_eq!(got, expected, "{engine:?}");
        assert_eq!(cost.total, expected.values().map(|v| v.1).sum::<f64>());
        // The same in riel, at 4,000 to the dollar.
        let riel = s.plan_cost(&a, plan.id, "KHR").await.unwrap();
        assert_eq!(riel.total, cost.total * 4_000.0, "{engine:?}");
        // Missing data is named.
        let e = s.plan_cost(&a, plan.id, "EUR").await.unwrap_err();
        assert_eq!(code_of(&e), "currency:unknown_currency");
        s.change_cost_data(&a, |d| d.cadres.retain(|c| c.cadre != Cadre::ParaProfessional)).await.unwrap();
        let e = s.plan_cost(&a, plan.id, "USD").await.unwrap_err();
        assert_eq!(code_of(&e), "cadres:no_cadre_costing", "{engine:?}");
        s.set_cost_data(&a, &data()).await.unwrap();
        s.change_cost_data(&a, |d| d.training.retain(|t| t.level != CertificateLevel::Tvc2)).await.unwrap();
        let e = s.plan_cost(&a, plan.id, "USD").await.unwrap_err();
        assert_eq!(code_of(&e), "training:no_training_cost", "{engine:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_workforce_costs_what_its_ranks_and_places_say() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = admin();
        s.set_cost_data(&a, &data()).await.unwrap();
        let remote = add(s, "Sokha Ly", "1101", "para_professional").await;
        let ranked = add(s, "Dara Chan", "0208", "para_professional").await;
        add(s, "Bopha Kim", "0208", "para_social_worker").await;
        let _unscaled = add(s, "Vanna Pich", "0208", "allied_worker").await;
        // Dara was promoted to A; a rank in the future does not count yet.
        s.add_worker_rank(&a, ranked, &RankInput { grade: "A".into(), step: 1, from_date: day("2025-01-01") })
            .await
            .unwrap();
        s.add_worker_rank(&a, ranked, &RankInput { grade: "Z".into(), step: 9, from_date: day("2027-01-01") })
            .await
            .unwrap();
        // A post filled by the remote worker: its funding source groups her cost.
        let post = s
            .create_posts(
                &a,
                &komlang_store::establishment::NewPosts {
                    admin_code: "1101".into(),
                    org_id: None,
                    cadre: Cadre::ParaProfessional,
                    role: WorkerRole::DistrictSocialWorker,
                    funding: komlang_core::establishment::FundingSource::DevelopmentPartner,
                    approved_year: 2025,
                    count: 1,
                    note: None,
                },
            )
            .await
            .unwrap()[0];
        s.fill_post(&a, post, remote, today(), None).await.unwrap();

        let w = s.workforce_cost(&a, AdminLevel::Province, "USD", today()).await.unwrap();
        // Remote: 12 × (300 + 50); Dara: 12 × 400; Bopha: 12 × 200; Vanna: allied, no costing.
        assert_eq!((w.workers, w.not_costed), (4, 1), "{engine:?}");
        assert_eq!(w.total, 4_200.0 + 4_800.0 + 2_400.0, "{engine:?}");
        let unit = |k: &str| w.by_unit.iter().find(|g| g.key == k).map(|g| (g.workers, g.cost));
        assert_eq!((unit("11"), unit("02")), (Some((1, 4_200.0)), Some((2, 7_200.0))), "{engine:?}");
        let funding = |k: &str| w.by_funding.iter().find(|g| g.key == k).map(|g| g.cost);
        assert_eq!((funding("development_partner"), funding("none")), (Some(4_200.0), Some(7_200.0)), "{engine:?}");

        // Scope: a provincial officer of Battambang costs Battambang's workers only.
        let prov = Principal {
            user_id: 0,
            username: "prov".into(),
            role: UserRole::ProvincialOfficer,
            scope: Scope::Unit { code: "02".into(), level: AdminLevel::Province },
            org_id: None,
            worker_id: None,
        };
        let w = s.workforce_cost(&prov, AdminLevel::Province, "USD", today()).await.unwrap();
        assert_eq!((w.workers, w.total), (3, 7_200.0), "{engine:?}");
        assert!(matches!(s.set_cost_data(&prov, &data()).await, Err(StoreError::Forbidden)));
        let e = s
            .add_worker_rank(&prov, remote, &RankInput { grade: "A".into(), step: 1, from_date: today() })
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{engine:?}: {e:?}");
        assert!(s.worker_ranks(&prov, remote).await.unwrap().is_none());
        assert_eq!(s.worker_ranks(&prov, ranked).await.unwrap().unwrap().len(), 2);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn bad_cost_data_is_refused_whole_and_changes_are_audited() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = admin();
        s.set_cost_data(&a, &data()).await.unwrap();
        let mut bad = data();
        bad.rates.push(CurrencyRate { currency: "XXX".into(), year: 2026, per_usd: -1.0 });
        bad.scales.push(bad.scales[0].clone());
        let e = s.set_cost_data(&a, &bad).await.unwrap_err();
        assert_eq!(
            code_of(&e),
            "rates[1].currency:unknown_currency,rates[1].per_usd:must_be_positive,scales[3]:duplicate_row"
        );
        assert_eq!(s.cost_data(&a).await.unwrap().scales.len(), 3, "{engine:?}: nothing changed");
        let e = s
            .add_worker_rank(&a, 999_999, &RankInput { grade: "A".into(), step: 1, from_date: today() })
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::NotFound));
        // A new three-letter currency is added with its rate.
        s.change_cost_data(&a, |d| {
            d.currencies.push("EUR".into());
            d.rates.push(CurrencyRate { currency: "EUR".into(), year: 2026, per_usd: 0.9 });
        })
        .await
        .unwrap();
        assert!(s.cost_data(&a).await.unwrap().currencies.contains(&"EUR".to_string()));
        let audit = s
            .list_audit(&a, &AuditQuery { entity: Some("cost_data".into()), per_page: 10, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(audit.total, 2, "{engine:?}");
        db.cleanup().await;
    }
}
