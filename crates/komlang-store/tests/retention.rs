//! Retention on every engine: reasons for leaving (data, given for a separation), turnover in a
//! year checked against the records, leavers' tenure, cohorts of starters, the CCWC term, scope.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::NaiveDate;
use komlang_core::validate::WorkerInput;
use komlang_core::*;
use komlang_store::retention::{ExitReason, Grouping};
use komlang_store::testing::{engines, error_codes, TestDb};
use komlang_store::{system_principal, Store, StoreError, WorkerChange};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn admin() -> Principal {
    system_principal("test")
}

async fn add(store: &Store, name: &str, workplace: &str, sector: &str, start: &str) -> Worker {
    let input = WorkerInput {
        name_km: Some("ឈ្មោះ".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some("para_professional".into()),
        role: Some("ngo_case_worker".into()),
        sector: Some(sector.into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some(start.into()),
        ..Default::default()
    };
    store.create_worker(&admin(), &input, today()).await.unwrap()
}

async fn leave(store: &Store, w: &Worker, on: &str) {
    let patch = WorkerInput { status: Some("left".into()), end_date: Some(on.into()), ..Default::default() };
    let change = WorkerChange { effective_date: Some(day(on)), note: None };
    store.update_worker(&admin(), w.id, &patch, &change, today(), Some(w.version)).await.unwrap();
}

fn code_of(e: &StoreError) -> String {
    error_codes(e, false)
}

#[tokio::test]
async fn turnover_tenure_and_cohorts_follow_the_records() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = admin();
        // Four NGO workers and two government ones in Battambang, started 2022 to 2025.
        let n1 = add(s, "Ana Sok", "0208", "ngo", "2022-03-01").await;
        let n2 = add(s, "Bopha Sok", "0208", "ngo", "2023-06-01").await;
        let n3 = add(s, "Chenda Sok", "0208", "ngo", "2024-01-15").await;
        add(s, "Dara Sok", "0208", "ngo", "2025-02-01").await;
        let g1 = add(s, "Eng Sok", "0208", "government", "2022-05-01").await;
        add(s, "Heng Sok", "1201", "government", "2022-07-01").await;
        // Ana leaves in 2025 (3.3 years), Bopha in 2026 (2.9 years); Eng in 2026.
        leave(s, &n1, "2025-06-30").await;
        leave(s, &n2, "2026-05-01").await;
        leave(s, &g1, "2026-09-01").await;

        let t = s.turnover(&a, 2026, Grouping::Sector, today()).await.unwrap();
        let ngo = t.rows.iter().find(|r| r.key == "ngo").unwrap();
        // 1 January 2026: Bopha, Chenda, Dara in post; today: Chenda, Dara.
        assert_eq!((ngo.start, ngo.end, ngo.leavers), (3, 2, 1), "{engine:?}");
        assert_eq!(ngo.rate, Some(40.0), "{engine:?}: 1 of an average 2.5");
        assert_eq!(ngo.average_tenure, Some(2.9));
        let gov = t.rows.iter().find(|r| r.key == "government").unwrap();
        assert_eq!((gov.start, gov.end, gov.leavers), (2, 1, 1), "{engine:?}");
        assert_eq!((t.total.start, t.total.end, t.total.leavers), (5, 3, 2));
        let t25 = s.turnover(&a, 2025, Grouping::Province, today()).await.unwrap();
        let bb = t25.rows.iter().find(|r| r.key == "02").unwrap();
        assert_eq!((bb.start, bb.end, bb.leavers), (4, 4, 1), "{engine:?}: Dara joined, Ana left");

        // Reasons: data, given for the latest separation only.
        assert_eq!(code_of(&s.set_exit_reason(&a, n3.id, "resigned").await.unwrap_err()), "not_separated");
        assert_eq!(code_of(&s.set_exit_reason(&a, n2.id, "bored").await.unwrap_err()), "invalid_choice");
        s.set_exit_reason(&a, n2.id, "moved_to_government").await.unwrap();
        let r = ExitReason {
            code: "further_study".into(),
            name_en: "Further study".into(),
            name_km: String::new(),
            builtin: false,
        };
        s.add_exit_reason(&a, &r).await.unwrap();
        assert_eq!(code_of(&s.add_exit_reason(&a, &r).await.unwrap_err()), "duplicate_code");
        s.set_exit_reason(&a, g1.id, "further_study").await.unwrap();
        let t = s.turnover(&a, 2026, Grouping::Sector, today()).await.unwrap();
        assert_eq!(t.reasons, vec![("further_study".into(), 1), ("moved_to_government".into(), 1)], "{engine:?}");
        assert_eq!(s.latest_exit_reason(n2.id).await.unwrap().as_deref(), Some("moved_to_government"));

        // Cohorts: the 2022 starters (Ana, Eng, Heng) were all in post three years on (Ana left
        // after 3.3 years, Eng after 4.3); five years on has not come.
        let cohorts = s.survival(&a, today()).await.unwrap();
        let c22 = cohorts.iter().find(|c| c.start_year == 2022).unwrap();
        assert_eq!(c22.started, 3);
        assert_eq!(c22.after, vec![(1, Some(100.0)), (2, Some(100.0)), (3, Some(100.0)), (5, None)], "{engine:?}");
        let c23 = cohorts.iter().find(|c| c.start_year == 2023).unwrap();
        assert_eq!(c23.after[2], (3, Some(0.0)), "{engine:?}: Bopha left before three years");

        // Scope: a provincial officer of Phnom Penh sees Heng only.
        let pp = Principal {
            user_id: 0,
            username: "pp".into(),
            role: UserRole::ProvincialOfficer,
            scope: Scope::Unit { code: "12".into(), level: AdminLevel::Province },
            org_id: None,
            worker_id: None,
        };
        let t = s.turnover(&pp, 2026, Grouping::Sector, today()).await.unwrap();
        assert_eq!((t.total.start, t.total.end, t.total.leavers), (1, 1, 0), "{engine:?}");
        assert!(matches!(s.set_exit_reason(&pp, n2.id, "resigned").await, Err(StoreError::NotFound)));
        assert!(matches!(s.add_exit_reason(&pp, &r).await, Err(StoreError::Forbidden)));

        // The CCWC term.
        assert_eq!(s.ccwc_term(&a).await.unwrap().term_end, None);
        s.set_ccwc_term_end(&a, Some(day("2027-06-30"))).await.unwrap();
        assert_eq!(s.ccwc_term(&a).await.unwrap().term_end.as_deref(), Some("2027-06-30"));
        db.cleanup().await;
    }
}
