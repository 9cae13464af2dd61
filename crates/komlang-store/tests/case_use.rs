//! What case data says for managing people, on every engine: a worker's cases opened and closed
//! in a period (beside their appraisal) equal a count made here from the file; re-assignment
//! hints pair a district far above its capacity with districts of the same province far below
//! it — not another province's — proposing their workers with the most spare capacity, the posts
//! they hold and the vacant posts of their cadre where they would go; nothing is moved.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::NaiveDate;
use komlang_core::caseload::CaseSource;
use komlang_core::establishment::FundingSource;
use komlang_core::validate::WorkerInput;
use komlang_core::{AdminLevel, Cadre, UserRole, WorkerRole};
use komlang_store::caseloads::CaseloadImportOptions;
use komlang_store::establishment::NewPosts;
use komlang_store::testing::{engines, officer, TestDb};
use komlang_store::{system_principal, Store, StoreError};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

async fn worker(store: &Store, name: &str, place: &str) -> i64 {
    let input = WorkerInput {
        name_km: Some("សុខ សុភា".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some(place.into()),
        status: Some("active".into()),
        start_date: Some("2020-01-15".into()),
        ..Default::default()
    };
    store.create_worker(&system_principal("t"), &input, today()).await.unwrap().id
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[tokio::test]
async fn productivity_and_reassignment_hints_follow_the_case_list() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("t");
        // Sangkae (0208): one worker with 60 open cases (threshold 25: load 2.4). Banan (0203):
        // two workers with 2 and 5 open cases (load 0.14). Phnom Penh (1201): one with none.
        let busy = worker(store, "Sok Busy", "020801").await;
        let calm = worker(store, "Chan Calm", "020301").await;
        let calmer = worker(store, "Dara Calmer", "020302").await;
        let far = worker(store, "Far Away", "120101").await;
        for (w, owner) in [(busy, "busy"), (calm, "calm"), (calmer, "calmer"), (far, "far")] {
            store.link_case_owner(&admin, CaseSource::Primero, owner, w).await.unwrap();
        }
        let mut rows = vec![s(&["case_id", "status", "owned_by", "registration_date", "date_closure"])];
        let mut n = 0;
        let mut case = |owner: &str, open: bool, opened: &str, closed: &str| {
            n += 1;
            vec![
                format!("C-{n}"),
                if open { "open" } else { "closed" }.to_string(),
                owner.into(),
                opened.into(),
                closed.into(),
            ]
        };
        for i in 0..60 {
            rows.push(case("busy", true, if i < 10 { "2026-03-01" } else { "2024-05-01" }, ""));
        }
        for _ in 0..4 {
            rows.push(case("busy", false, "2025-06-01", "2026-02-01"));
        }
        rows.push(case("busy", false, "2024-01-01", "2025-01-01"));
        for _ in 0..5 {
            rows.push(case("calm", true, "2026-01-10", ""));
        }
        for _ in 0..2 {
            rows.push(case("calmer", true, "2026-01-10", ""));
        }
        rows.push(case("far", false, "2026-01-10", "2026-02-10"));
        let headers = rows[0].clone();
        let items = rows[1..].iter().enumerate().map(|(i, r)| Ok((i as u64 + 2, r.clone())));
        let o = CaseloadImportOptions {
            source: CaseSource::Primero,
            as_of: NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
            dry_run: false,
            partial: false,
            file_name: "cases.csv".into(),
            file_sha256: "ab".repeat(32),
            columns: Vec::new(),
            report: Default::default(),
        };
        store.import_caseload(&admin, &headers, items, &o).await.unwrap();

        // Productivity in 2026: 10 opened, 4 closed, 60 open now.
        let sp = komlang_store::performance::StartAppraisal {
            cycle: "2026".into(),
            period_start: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
            form: komlang_core::performance::AppraisalForm::Formal,
        };
        let a = store.start_appraisal(&admin, busy, &sp, today()).await.unwrap();
        let p = a.productivity.expect("linked to a case system's user");
        assert_eq!((p.opened, p.closed, p.open_now), (10, 4, 60), "{engine:?}");
        assert_eq!(p.snapshots, ["primero 2026-11-30"]);
        let other = worker(store, "No Link", "020801").await;
        assert!(store.start_appraisal(&admin, other, &sp, today()).await.unwrap().productivity.is_none());

        // A vacant para social worker post in Sangkae; Banan's calmer worker fills a post.
        let posts = |place: &str| NewPosts {
            admin_code: place.into(),
            org_id: None,
            cadre: Cadre::ParaSocialWorker,
            role: WorkerRole::CcwcFocalPoint,
            funding: FundingSource::MosvyPayroll,
            approved_year: 2025,
            count: 1,
            note: None,
        };
        let vacant = store.create_posts(&admin, &posts("0208")).await.unwrap()[0];
        let held = store.create_posts(&admin, &posts("020302")).await.unwrap()[0];
        store.fill_post(&admin, held, calmer, today(), None).await.unwrap();

        let battambang = officer(UserRole::ProvincialOfficer, "02", AdminLevel::Province);
        let hints = store.reassignment_hints(&battambang, AdminLevel::District, Some("02")).await.unwrap();
        assert_eq!(hints.len(), 1, "{engine:?}: {hints:?}");
        let h = &hints[0];
        assert_eq!(
            (h.over.unit.as_str(), h.over.open_cases, h.over.capacity),
            ("0208", 60, 25),
            "{engine:?}: only linked workers carry capacity"
        );
        assert_eq!((h.under.unit.as_str(), h.under.open_cases, h.under.capacity), ("0203", 7, 50));
        let movers: Vec<(i64, Option<i64>)> = h.movers.iter().map(|m| (m.worker_id, m.post_id)).collect();
        assert_eq!(movers, [(calmer, Some(held)), (calm, None)], "{engine:?}: most spare capacity first");
        assert!(h.movers.iter().all(|m| m.vacant_posts_there == [vacant] && m.vacant_posts_there_total == 1));
        // Nothing moved.
        let w = store.get_worker(&admin, calmer).await.unwrap().unwrap();
        assert_eq!(w.workplace_code, "020302");
        // Another province's officer does not name this one; the national view has the same hint.
        let phnom_penh = officer(UserRole::ProvincialOfficer, "12", AdminLevel::Province);
        assert!(matches!(
            store.reassignment_hints(&phnom_penh, AdminLevel::District, Some("02")).await,
            Err(StoreError::NotFound)
        ));
        assert!(store.reassignment_hints(&phnom_penh, AdminLevel::District, None).await.unwrap().is_empty());
        let national = store.reassignment_hints(&admin, AdminLevel::District, None).await.unwrap();
        assert_eq!(national.len(), 1, "Phnom Penh's empty district is in another province: {national:?}");
        db.cleanup().await;
    }
}
