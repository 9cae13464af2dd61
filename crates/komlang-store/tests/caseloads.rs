//! Caseloads from Primero and OSCaR, on every engine: the figures per worker, per unit and in
//! planning's coverage equal a direct count over the imported file; a snapshot of the same day
//! replaces the last, others are kept; all or nothing; nothing but the mapped columns is kept
//! (no child's name reaches the database); links and thresholds within the caller's scope.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use komlang_core::caseload::{CaseField, CaseSource, DEFAULT_THRESHOLD};
use komlang_core::planning::INVESTMENT_CASE;
use komlang_core::validate::WorkerInput;
use komlang_core::Worker;
use komlang_core::{AdminLevel, Cadre, Principal, UserRole, WorkerRole};
use komlang_store::caseloads::CaseloadImportOptions;
use komlang_store::planning::FactsQuery;
use komlang_store::testing::{engines, officer, TestDb};
use komlang_store::{system_principal, ImportReport, Store, StoreError};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn admin() -> Principal {
    system_principal("test")
}

async fn add_worker(store: &Store, name: &str, workplace: &str, role: &str) -> Worker {
    let input = WorkerInput {
        name_km: Some("សុខ សុភា".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some("para_social_worker".into()),
        role: Some(role.into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some("2020-01-15".into()),
        ..Default::default()
    };
    store.create_worker(&admin(), &input, today()).await.unwrap()
}

fn opts(source: CaseSource, as_of: &str) -> CaseloadImportOptions {
    CaseloadImportOptions {
        source,
        as_of: day(as_of),
        dry_run: false,
        partial: false,
        file_name: "cases.csv".into(),
        file_sha256: "cd".repeat(32),
        columns: Vec::new(),
        report: Default::default(),
    }
}

async fn import(store: &Store, p: &Principal, rows: &[Vec<String>], o: &CaseloadImportOptions) -> ImportReport {
    let headers = rows[0].clone();
    let items = rows[1..].iter().enumerate().map(|(i, r)| Ok((i as u64 + 2, r.clone())));
    store.import_caseload(p, &headers, items, o).await.unwrap()
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// A pseudo-random sequence (the same on every run).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// Every text kept in the caseload tables, the imports' reports and the audit log.
async fn kept_texts(store: &Store) -> String {
    let mut all = String::new();
    for sql in [
        "SELECT COALESCE(case_ref, '') || COALESCE(owner, '') || COALESCE(agency, '') || COALESCE(location, '') FROM caseload_cases",
        "SELECT COALESCE(report_json, '') || file_name FROM imports",
        "SELECT COALESCE(before_json, '') || COALESCE(after_json, '') FROM audit_log",
    ] {
        for r in sqlx::query(sql).fetch_all(store.pool()).await.unwrap() {
            all.push_str(&r.try_get::<String, _>(0).unwrap());
        }
    }
    all
}

#[tokio::test]
async fn caseloads_equal_a_direct_count_of_the_file() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        // Workers in three provinces; the Primero users cp1..cp6 are them, cp7 and cp8 no one.
        let homes = ["010201", "010202", "020101", "020102", "120101", "120109"];
        let mut workers = Vec::new();
        for (i, home) in homes.iter().enumerate() {
            let name = format!("Worker {}", (b'A' + i as u8) as char);
            workers.push(add_worker(s, &name, home, "ccwc_focal_point").await);
        }
        for (i, w) in workers.iter().enumerate() {
            s.link_case_owner(&admin(), CaseSource::Primero, &format!("cp{}", i + 1), w.id).await.unwrap();
        }
        // 400 cases, with a child's name column that must not be kept; unlinked owners' cases placed
        // by their location code; some owners blank.
        let mut rng = Lcg(7);
        let mut rows = vec![strings(&[
            "id",
            "case_id_display",
            "name",
            "status",
            "owned_by",
            "location_current",
            "registration_date",
            "date_closure",
        ])];
        let mut expected: Vec<(String, bool, Option<usize>, String)> = Vec::new();
        for n in 0..400 {
            let case = format!("CP-{n:04}");
            let open = rng.next(4) != 0;
            let owner = rng.next(9) as usize; // 0..=5 linked, 6..=7 unlinked, 8 none
            let place = homes[rng.next(homes.len() as u64) as usize];
            let owner_name = match owner {
                0..=7 => format!("CP{}", owner + 1), // another case than the link: the same user
                _ => String::new(),
            };
            rows.push(vec![
                format!("uuid-{n}"),
                case.clone(),
                format!("Child Secret {n}"),
                if open { "open".into() } else { "closed".into() },
                owner_name,
                format!("KH{place}"),
                "2025-02-03".into(),
                if open { String::new() } else { "2026-03-04".into() },
            ]);
            expected.push((case, open, (owner <= 5).then_some(owner), place.to_string()));
        }
        let r = import(s, &admin(), &rows, &opts(CaseSource::Primero, "2026-11-01")).await;
        assert!(r.committed, "{engine:?}: {:?}", r.rejected);
        assert_eq!((r.rows_total, r.added), (400, 400));
        assert!(!kept_texts(s).await.contains("Child Secret"), "{engine:?}: a child's name was kept");

        // Per worker: their open cases.
        for (i, w) in workers.iter().enumerate() {
            let want = expected.iter().filter(|e| e.1 && e.2 == Some(i)).count() as u32;
            let got = s.worker_caseload(&admin(), w.id).await.unwrap();
            assert_eq!(got.len(), 1);
            assert_eq!((got[0].source.as_str(), got[0].open_cases), ("primero", want), "{engine:?}: worker {i}");
            assert_eq!(got[0].as_of, "2026-11-01");
        }
        // Per unit: cases of the unit's workers, and unlinked cases by their location.
        let unit_of = |e: &(String, bool, Option<usize>, String)| match e.2 {
            Some(i) => homes[i].to_string(),
            None => e.3.clone(),
        };
        for level in [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune] {
            let len = match level {
                AdminLevel::Province => 2,
                AdminLevel::District => 4,
                _ => 6,
            };
            let mut want: BTreeMap<String, (u32, u32)> = BTreeMap::new();
            for e in expected.iter().filter(|e| e.1) {
                let w = want.entry(unit_of(e)[..len].to_string()).or_default();
                w.0 += 1;
                w.1 += u32::from(e.2.is_none());
            }
            let got: BTreeMap<String, (u32, u32)> = s
                .caseloads_by_unit(&admin(), level, None)
                .await
                .unwrap()
                .into_iter()
                .map(|u| (u.unit, (u.open_cases, u.unlinked_cases)))
                .collect();
            assert_eq!(got, want, "{engine:?}: {level:?}");
        }
        // Planning's coverage reads them (no figure entered by hand).
        let cov = s
            .coverage_report(
                &admin(),
                INVESTMENT_CASE,
                &FactsQuery { level: AdminLevel::Province, parent: None, year: 2026 },
            )
            .await
            .unwrap();
        let open_01 = expected.iter().filter(|e| e.1 && unit_of(e).starts_with("01")).count() as u64;
        let c01 = cov.units.iter().find(|u| u.code == "01").unwrap();
        assert_eq!(c01.open_cases, Some(open_01), "{engine:?}: coverage");
        // A snapshot of a later year is not read for 2025.
        let cov = s
            .coverage_report(
                &admin(),
                INVESTMENT_CASE,
                &FactsQuery { level: AdminLevel::Province, parent: None, year: 2025 },
            )
            .await
            .unwrap();
        assert_eq!(cov.units.iter().find(|u| u.code == "01").unwrap().open_cases, None);

        // A provincial officer of Battambang sees Battambang alone.
        let bb = officer(UserRole::ProvincialOfficer, "02", AdminLevel::Province);
        let units: Vec<String> =
            s.caseloads_by_unit(&bb, AdminLevel::Province, None).await.unwrap().into_iter().map(|u| u.unit).collect();
        assert_eq!(units, vec!["02".to_string()]);
        assert!(matches!(s.caseloads_by_unit(&bb, AdminLevel::District, Some("01")).await, Err(StoreError::NotFound)));
        assert!(matches!(s.worker_caseload(&bb, workers[0].id).await, Err(StoreError::NotFound)));
        // ... links only their own workers, and unlinks none of another province's.
        let err = s.link_case_owner(&bb, CaseSource::Primero, "cp7", workers[0].id).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref e) if e.errors[0].code == "unknown_worker"), "{err:?}");
        assert!(matches!(s.unlink_case_owner(&bb, CaseSource::Primero, "cp1").await, Err(StoreError::NotFound)));
        s.link_case_owner(&bb, CaseSource::Primero, "cp7", workers[2].id).await.unwrap();
        let owners = s.case_owners(&bb, Some(CaseSource::Primero), true).await.unwrap();
        assert_eq!(owners.iter().map(|o| o.owner.as_str()).collect::<Vec<_>>(), vec!["CP8"]);
        let cp7_open = rows[1..]
            .iter()
            .filter(|r| r[3] == "open" && (r[4] == "CP7" || r[4] == "CP3"))
            .map(|r| r[1].clone())
            .collect::<HashSet<_>>()
            .len() as u32;
        assert_eq!(s.worker_caseload(&bb, workers[2].id).await.unwrap()[0].open_cases, cp7_open);
        // The audit holds the link.
        let audited: i64 = sqlx::query(
            "SELECT COUNT(*) FROM audit_log WHERE entity = 'case_owner' AND action = 'link' AND username = $1",
        )
        .bind(&bb.username)
        .fetch_one(s.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
        assert_eq!(audited, 1);

        // Thresholds: the default, then one for CCWC focal points.
        let counts: HashMap<i64, u32> = workers
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let n = rows[1..]
                    .iter()
                    .filter(|r| r[3] == "open" && (r[4] == format!("CP{}", i + 1) || (i == 2 && r[4] == "CP7")))
                    .count() as u32;
                (w.id, n)
            })
            .collect();
        let over = |t: u32| -> Vec<i64> {
            let mut v: Vec<i64> = counts.iter().filter(|(_, n)| **n > t).map(|(w, _)| *w).collect();
            v.sort();
            v
        };
        let got = |list: Vec<komlang_store::caseloads::OverThreshold>| {
            let mut v: Vec<i64> = list.iter().map(|o| o.worker_id).collect();
            v.sort();
            v
        };
        assert!(!over(DEFAULT_THRESHOLD).is_empty() && over(DEFAULT_THRESHOLD) != over(40), "{counts:?}");
        assert_eq!(got(s.workers_over_threshold(&admin(), None).await.unwrap()), over(DEFAULT_THRESHOLD));
        s.set_caseload_threshold(&admin(), None, Some(WorkerRole::CcwcFocalPoint), Some(40)).await.unwrap();
        s.set_caseload_threshold(&admin(), Some(Cadre::ParaSocialWorker), None, Some(10)).await.unwrap();
        assert_eq!(got(s.workers_over_threshold(&admin(), None).await.unwrap()), over(40), "{engine:?}: role first");
        let listed = s.workers_over_threshold(&bb, None).await.unwrap();
        assert!(listed.iter().all(|o| o.workplace_code.starts_with("02")));
        assert!(s.set_caseload_threshold(&bb, None, None, Some(5)).await.is_err());
        assert!(s.set_caseload_threshold(&admin(), None, None, Some(0)).await.is_err());

        db.cleanup().await;
    }
}

#[tokio::test]
async fn snapshots_replace_the_same_day_and_keep_the_others() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let w = add_worker(s, "Dara", "020101", "ccwc_focal_point").await;
        s.link_case_owner(&admin(), CaseSource::Oscar, "Sok Dara", w.id).await.unwrap();
        let names: (String, String, String) = {
            let r = sqlx::query(
                "SELECT p.name_en, d.name_en, c.name_en FROM admin_units c JOIN admin_units d ON d.code = c.parent_code \
                 JOIN admin_units p ON p.code = d.parent_code WHERE c.code = '020101'",
            )
            .fetch_one(s.pool())
            .await
            .unwrap();
            (r.try_get(0).unwrap(), r.try_get(1).unwrap(), r.try_get(2).unwrap())
        };
        let header = strings(&[
            "ID",
            "Given Name (Latin)",
            "Status",
            "Case Worker",
            "Current Province (English)",
            "Address - District/Khan (English)",
            "Address - Commune/Sangkat (English)",
            "NGO Accept Date",
            "NGO Exit Date",
        ]);
        let row = |id: &str, status: &str, worker: &str| {
            vec![
                id.to_string(),
                "Secret Child".into(),
                status.into(),
                worker.into(),
                names.0.clone(),
                names.1.clone(),
                names.2.clone(),
                "2024-05-06".into(),
                String::new(),
            ]
        };
        // Two case workers on one case: both carry it; the unit counts it once.
        let first = vec![
            header.clone(),
            row("abcd-1", "Active", "Sok Dara, Chan Vy"),
            row("abcd-2", "Accepted", "sok dara"),
            row("abcd-3", "Exited", "Sok Dara"),
            row("abcd-4", "Referred", ""),
        ];
        let r = import(s, &admin(), &first, &opts(CaseSource::Oscar, "2026-10-01")).await;
        assert!(r.committed, "{:?}", r.rejected);
        assert_eq!(s.worker_caseload(&admin(), w.id).await.unwrap()[0].open_cases, 2);
        let units = s.caseloads_by_unit(&admin(), AdminLevel::Commune, None).await.unwrap();
        assert_eq!(units.len(), 1, "{engine:?}: placed by the names of the address");
        assert_eq!((units[0].unit.as_str(), units[0].open_cases, units[0].unlinked_cases), ("020101", 3, 1));
        let unlinked = s.case_owners(&admin(), None, true).await.unwrap();
        assert_eq!(unlinked.iter().map(|o| (o.owner.as_str(), o.open_cases)).collect::<Vec<_>>(), vec![("Chan Vy", 1)]);

        // The same day again: replaced. An earlier day: kept, not current.
        let second = vec![header.clone(), row("abcd-1", "Active", "Sok Dara")];
        import(s, &admin(), &second, &opts(CaseSource::Oscar, "2026-10-01")).await;
        import(s, &admin(), &first, &opts(CaseSource::Oscar, "2026-09-01")).await;
        let snaps = s.caseload_snapshots(&admin()).await.unwrap();
        assert_eq!(
            snaps.iter().map(|x| (x.as_of.as_str(), x.cases, x.current)).collect::<Vec<_>>(),
            vec![("2026-10-01", 1, true), ("2026-09-01", 4, false)],
            "{engine:?}"
        );
        assert_eq!(s.worker_caseload(&admin(), w.id).await.unwrap()[0].open_cases, 1);

        // All or nothing: one bad row and nothing changes; partial keeps the good ones.
        let bad = vec![
            header.clone(),
            row("abcd-9", "Active", "Sok Dara"),
            row("abcd-10", "Sleeping", "Sok Dara"),
            row("abcd-9", "Active", "Sok Dara"),
            row("", "Active", "Sok Dara"),
            {
                let mut r = row("abcd-11", "Exited", "x");
                r[7] = "2025-01-02".into();
                r[8] = "2024-01-02".into();
                r
            },
        ];
        let r = import(s, &admin(), &bad, &opts(CaseSource::Oscar, "2026-11-01")).await;
        assert!(!r.committed);
        let codes: Vec<(u64, &str, &str)> = r
            .rejected
            .iter()
            .flat_map(|x| x.errors.iter().map(|e| (e.row, e.field.as_str(), e.code.as_str())))
            .collect();
        assert_eq!(
            codes,
            vec![
                (3, "status", "invalid_choice"),
                (4, "case_id", "duplicate_case"),
                (5, "case_id", "required"),
                (6, "closed_on", "end_before_start")
            ]
        );
        // The report names the mapped columns only: no child's name in it.
        assert!(!r.headers.iter().any(|h| h.contains("Given Name")));
        assert!(r.rejected.iter().all(|x| !x.cells.iter().any(|c| c.contains("Secret"))));
        assert_eq!(s.caseload_snapshots(&admin()).await.unwrap().len(), 2);
        let partial = CaseloadImportOptions { partial: true, ..opts(CaseSource::Oscar, "2026-11-01") };
        let r = import(s, &admin(), &bad, &partial).await;
        assert!(r.committed);
        assert_eq!((r.added, r.rejected_count), (1, 4));
        assert_eq!(s.worker_caseload(&admin(), w.id).await.unwrap()[0].open_cases, 1);
        assert!(!kept_texts(s).await.contains("Secret"), "{engine:?}: a child's name was kept");

        // File errors: a missing column; a header named that the file lacks.
        let err = s
            .import_caseload(
                &admin(),
                &strings(&["ID", "Case Worker"]),
                std::iter::empty(),
                &opts(CaseSource::Oscar, "2026-11-02"),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref e) if e.errors[0].code == "missing_required_column"), "{err:?}");
        let o = CaseloadImportOptions {
            columns: vec![(CaseField::Owner, "Worker".into())],
            ..opts(CaseSource::Oscar, "2026-11-02")
        };
        let err = s.import_caseload(&admin(), &header, std::iter::empty(), &o).await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref e) if e.errors[0].code == "unknown_column"), "{err:?}");
        // Only national administrators import.
        let bb = officer(UserRole::ProvincialOfficer, "02", AdminLevel::Province);
        assert!(s
            .import_caseload(&bb, &header, std::iter::empty(), &opts(CaseSource::Oscar, "2026-11-02"))
            .await
            .is_err());
        db.cleanup().await;
    }
}

/// Two imports of one system's list of the same day at once, and two links of one user at once:
/// each succeeds (no error from the race), one snapshot of the day remains, the link is one of
/// the two, and each is audited.
#[tokio::test]
async fn the_same_day_imported_twice_at_once() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = add_worker(s, "Dara", "020101", "ccwc_focal_point").await;
        let b = add_worker(s, "Sophea", "020102", "ccwc_focal_point").await;
        let list = |n: usize| -> Vec<Vec<String>> {
            let mut rows = vec![strings(&["case_id", "status", "owned_by"])];
            rows.extend((0..n).map(|i| vec![format!("X-{i}"), "open".into(), "cp_x".into()]));
            rows
        };
        let (first, second) = (list(300), list(5));
        let o = opts(CaseSource::Primero, "2026-11-20");
        let sys = admin();
        let (r1, r2) = tokio::join!(import(s, &sys, &first, &o), import(s, &sys, &second, &o));
        assert!(r1.committed && r2.committed, "{engine:?}");
        let snaps = s.caseload_snapshots(&admin()).await.unwrap();
        assert_eq!(snaps.len(), 1, "{engine:?}: one snapshot of the day");
        assert!(snaps[0].cases == 300 || snaps[0].cases == 5, "{engine:?}: {}", snaps[0].cases);
        let cases: i64 = sqlx::query("SELECT COUNT(*) FROM caseload_cases").fetch_one(s.pool()).await.unwrap().get(0);
        assert_eq!(cases, snaps[0].cases, "{engine:?}: the cases of one import alone");

        let (l1, l2) = tokio::join!(
            s.link_case_owner(&sys, CaseSource::Primero, "cp_x", a.id),
            s.link_case_owner(&sys, CaseSource::Primero, "CP_X", b.id)
        );
        l1.unwrap();
        l2.unwrap();
        let linked: i64 =
            sqlx::query("SELECT worker_id FROM case_owner_links").fetch_one(s.pool()).await.unwrap().get(0);
        assert!(linked == a.id || linked == b.id);
        let audited: i64 = sqlx::query("SELECT COUNT(*) FROM audit_log WHERE entity = 'case_owner'")
            .fetch_one(s.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(audited, 2, "{engine:?}");
        db.cleanup().await;
    }
}
