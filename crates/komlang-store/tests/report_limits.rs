//! What an import's report keeps of its rejected rows, on every engine: the first ones by
//! row number (whether a row is rejected on reading or later, against the registry), each
//! echoed text cut, within a byte budget; the count of every rejected row stays exact, in
//! the report, in the `imports` row and in the stored report.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::NaiveDate;
use komlang_core::import::guess_mapping;
use komlang_core::validate::WorkerInput;
use komlang_core::UserRole;
use komlang_store::testing::{engines, TestDb};
use komlang_store::{system_principal, ImportOptions, ImportReport, NewUser, ReportLimits, Store, WorkerImportOptions};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()
}

const HEADERS: [&str; 10] =
    ["name_km", "name_latin", "sex", "national_id", "cadre", "role", "sector", "workplace_code", "notes", "status"];

/// A worker row in the [`HEADERS`] layout.
fn row(sex: &str, nid: &str, notes: &str) -> Vec<String> {
    ["សុខ", "Sok", sex, nid, "para_social_worker", "ccwc_focal_point", "government", "010201", notes, "active"]
        .map(String::from)
        .to_vec()
}

async fn import(
    store: &Store,
    p: &komlang_core::Principal,
    rows: Vec<Vec<String>>,
    o: &WorkerImportOptions,
) -> ImportReport {
    let headers: Vec<String> = HEADERS.map(String::from).to_vec();
    let mut mapping = guess_mapping(&headers);
    mapping.columns[8] = None;
    let rows = rows.into_iter().enumerate().map(|(i, r)| Ok((i as u64 + 2, r)));
    store.import_workers(p, &headers, rows, &mapping, o, today()).await.unwrap()
}

fn opts(report: ReportLimits) -> WorkerImportOptions {
    WorkerImportOptions { file_name: "f.csv".into(), file_sha256: "ab".repeat(32), report, ..Default::default() }
}

#[tokio::test]
async fn the_first_rejected_rows_are_kept_and_all_are_counted() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let sys = system_principal("t");
        // A worker in Battambang whose national ID the officer of Banteay Meanchey cannot see.
        let other = WorkerInput {
            name_km: Some("ចាន់".into()),
            name_latin: Some("Chan".into()),
            sex: Some("male".into()),
            national_id: Some("NID000777".into()),
            cadre: Some("para_social_worker".into()),
            role: Some("ccwc_focal_point".into()),
            sector: Some("government".into()),
            workplace_code: Some("020101".into()),
            status: Some("active".into()),
            ..Default::default()
        };
        db.store.create_worker(&sys, &other, today()).await.unwrap();
        let u = db
            .store
            .create_user(
                &sys,
                &NewUser {
                    username: "prov".into(),
                    password: "correct horse".into(),
                    role: UserRole::ProvincialOfficer,
                    scope_code: Some("01".into()),
                    org_id: None,
                    worker_id: None,
                },
            )
            .await
            .unwrap();
        let prov = db.store.principal_for_user(u.id).await.unwrap().unwrap();

        // Row 2 is rejected late (its national ID is someone else's); rows 3..=32 on reading;
        // row 33 is valid.
        let mut rows = vec![row("F", "NID000777", "")];
        rows.extend((0..30).map(|i| row("nobody", "", &"n".repeat(40 + i))));
        rows.push(row("F", "", ""));
        let limits = ReportLimits { rows: 5, chars: 10, bytes: 1024 * 1024 };
        let r = import(&db.store, &prov, rows.clone(), &WorkerImportOptions { partial: true, ..opts(limits) }).await;
        assert_eq!(r.rejected_count, 31, "{engine:?}");
        assert_eq!(r.rejected_total(), 31);
        assert_eq!(r.rejected_not_shown(), 26);
        let kept: Vec<u64> = r.rejected.iter().map(|x| x.row).collect();
        assert_eq!(kept, [2, 3, 4, 5, 6], "{engine:?}: the first rows, however they were rejected");
        assert_eq!(r.rejected[0].errors[0].code, "duplicate_national_id");
        // Cut at 10 characters, ending in an ellipsis.
        assert_eq!(r.rejected[1].cells[8], format!("{}…", "n".repeat(10)));
        assert_eq!(r.rejected[1].cells[0], "សុខ", "short cells are whole");
        assert!(r.committed && r.added == 1 && !r.all_valid(), "{engine:?}: {r:?}");

        // The record of the import: the exact count, the rows kept.
        let id = r.import_id.unwrap();
        let rec = db.store.get_import(&sys, id).await.unwrap().unwrap();
        assert_eq!(rec.summary.rows_rejected, 31, "{engine:?}");
        let stored = rec.report.unwrap();
        assert_eq!((stored.rejected.len(), stored.rejected_count), (5, 31), "{engine:?}");

        // A byte budget keeps fewer rows (at least one).
        let tight = ReportLimits { rows: 1_000, chars: 1_000, bytes: 200 };
        let r = import(&db.store, &prov, rows.clone(), &WorkerImportOptions { dry_run: true, ..opts(tight) }).await;
        assert_eq!(r.rejected_count, 31);
        assert!((1..5).contains(&r.rejected.len()), "{engine:?}: {} rows within 200 bytes", r.rejected.len());
        assert_eq!(r.rejected[0].row, 2);

        // The default: every one of 31 rows, whole.
        let r = import(&db.store, &prov, rows, &WorkerImportOptions { dry_run: true, ..opts(ReportLimits::default()) })
            .await;
        assert_eq!((r.rejected.len(), r.rejected_count), (31, 31));
        assert_eq!(r.rejected[30].cells[8], "n".repeat(69));

        // Organizations and population figures keep theirs the same way.
        let headers: Vec<String> = ["name_en", "kind", "admin_code"].map(String::from).to_vec();
        let bad = (0..8).map(|i| Ok((i + 2, ["Club", "club", "01"].map(String::from).to_vec())));
        let o = ImportOptions { dry_run: true, report: limits, ..Default::default() };
        let r = db.store.import_orgs(&sys, &headers, bad, &o).await.unwrap();
        assert_eq!((r.rejected.len(), r.rejected_count, r.rejected[4].row), (5, 8, 6), "{engine:?}");
        let headers: Vec<String> = ["admin_code", "year", "sex", "age_group", "count"].map(String::from).to_vec();
        let bad = (0..8).map(|i| Ok((i + 2, ["02", "1800", "total", "total", "10"].map(String::from).to_vec())));
        let r = db.store.import_population(&sys, &headers, bad, &o).await.unwrap();
        assert_eq!((r.rejected.len(), r.rejected_count), (5, 8), "{engine:?}");
        assert!(!r.committed);
        db.cleanup().await;
    }
}
