//! Bulk import and export on every engine: validation by row, duplicates
//! against the registry and within the file, decisions, all-or-nothing and
//! partial commits, dry runs, scope, audit, round trips, population and
//! organizations.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use komlang_core::import::{guess_mapping, ColumnMapping};
use komlang_core::validate::{OrgInput, WorkerInput};
use komlang_core::*;
use komlang_store::testing::{engines, import_options as opts, import_table, TestDb};
use komlang_store::{
    system_principal, AuditQuery, DupDecision, DupTarget, ImportOptions, ImportReport, NewUser, Store, StoreError,
    WorkerChange, WorkerImportOptions, WorkerQuery, EXPORT_COLUMNS,
};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

const HEADERS: &[&str] = &[
    "ឈ្មោះ",
    "Name (Latin)",
    "Sex",
    "Date of birth",
    "National ID",
    "Cadre",
    "Role",
    "Sector",
    "Workplace code",
    "Status",
    "Start date",
    "Employer",
];

/// A row in the [`HEADERS`] layout.
fn row(km: &str, latin: &str, dob: &str, nid: &str, workplace: &str, start: &str, employer: &str) -> Vec<String> {
    s(&[
        km,
        latin,
        "F",
        dob,
        nid,
        "para_social_worker",
        "ccwc_focal_point",
        "government",
        workplace,
        "active",
        start,
        employer,
    ])
}

fn numbered(rows: Vec<Vec<String>>) -> Vec<(u64, Vec<String>)> {
    rows.into_iter().enumerate().map(|(i, r)| (i as u64 + 2, r)).collect()
}

async fn import(
    store: &Store,
    p: &Principal,
    headers: &[&str],
    rows: Vec<Vec<String>>,
    opts: &WorkerImportOptions,
) -> Result<ImportReport, StoreError> {
    import_table(store, p, headers, rows, opts, today()).await
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(store.pool()).await.unwrap().get(0)
}

async fn principal(db: &TestDb, username: &str, role: UserRole, scope: Option<&str>, org: Option<i64>) -> Principal {
    let u = db
        .store
        .create_user(
            &system_principal("test"),
            &NewUser {
                username: username.into(),
                password: "correct horse".into(),
                role,
                scope_code: scope.map(String::from),
                org_id: org,
                worker_id: None,
            },
        )
        .await
        .unwrap();
    db.store.principal_for_user(u.id).await.unwrap().unwrap()
}

fn org_input(name: &str, reg: Option<&str>, admin: &str) -> OrgInput {
    OrgInput {
        name_en: Some(name.into()),
        name_km: Some(format!("អង្គការ {name}")),
        kind: Some("ngo".into()),
        registration_no: reg.map(String::from),
        admin_code: Some(admin.into()),
        ..Default::default()
    }
}

fn worker_input(km: &str, latin: &str, dob: Option<&str>, nid: Option<&str>, workplace: &str) -> WorkerInput {
    WorkerInput {
        name_km: Some(km.into()),
        name_latin: Some(latin.into()),
        sex: Some("female".into()),
        date_of_birth: dob.map(String::from),
        national_id: nid.map(String::from),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some("2019-01-15".into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_clean_file_is_imported_with_history_audit_and_keys() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let ngo = db.store.create_org(&admin, &org_input("Friends", Some("MOI-1"), "12")).await.unwrap();
        let rows = vec![
            row("សុខ ដារ៉ា", "Sok Dara", "1988-02-03", "010203040", "010201", "2019-01-15", "MOI-1"),
            vec![String::new(); HEADERS.len()], // empty rows are skipped
            row("ចាន់ សុភា", "Chan Sophea", "03/04/1990", "", "020101", "", ""),
            row("ហេង លី", "Heng Ly", "៣២៨៧៨", "ABC123456", "020101", "2020-05-01", "Friends"),
        ];
        let r = import(&db.store, &admin, HEADERS, rows, &opts()).await.unwrap();
        assert!(r.committed, "{engine:?}: {r:?}");
        assert_eq!((r.rows_total, r.added, r.merged, r.duplicates_skipped), (3, 3, 0, 0), "{engine:?}");
        assert!(r.rejected.is_empty() && r.duplicates.is_empty(), "{engine:?}: {r:?}");
        let import_id = r.import_id.unwrap();

        let page = db.store.list_workers(&admin, &WorkerQuery::default()).await.unwrap();
        assert_eq!(page.total, 3);
        let heng = page.items.iter().find(|w| w.name_latin == "Heng Ly").unwrap();
        assert_eq!(heng.org_id, Some(ngo.org.id), "employer resolved by name");
        let sok = page.items.iter().find(|w| w.name_latin == "Sok Dara").unwrap();
        assert_eq!(sok.org_id, Some(ngo.org.id), "employer resolved by registration number");
        let w = db.store.get_worker(&admin, heng.id).await.unwrap().unwrap();
        assert_eq!(w.date_of_birth, NaiveDate::from_ymd_opt(1990, 1, 5), "Excel serial in Khmer digits");
        let chan = page.items.iter().find(|w| w.name_latin == "Chan Sophea").unwrap();
        let c = db.store.get_worker(&admin, chan.id).await.unwrap().unwrap();
        assert_eq!(c.date_of_birth, NaiveDate::from_ymd_opt(1990, 4, 3), "day first");

        // Opening posting and status, as create_worker writes them.
        let postings = db.store.worker_postings(&admin, heng.id).await.unwrap();
        assert_eq!(postings.len(), 1);
        assert_eq!(postings[0].start_date, NaiveDate::from_ymd_opt(2020, 5, 1).unwrap());
        assert_eq!(postings[0].org_id, Some(ngo.org.id));
        assert_eq!(postings[0].end_date, None);
        let postings = db.store.worker_postings(&admin, chan.id).await.unwrap();
        assert_eq!(postings[0].start_date, today(), "no start date: today");
        let statuses = db.store.worker_status_history(&admin, heng.id).await.unwrap();
        assert_eq!(statuses.len(), 1);
        assert_eq!(statuses[0].status, EmploymentStatus::Active);
        assert_eq!(statuses[0].effective_date, NaiveDate::from_ymd_opt(2020, 5, 1).unwrap());

        // The import is recorded and audited.
        let rec = db.store.get_import(&admin, import_id).await.unwrap().unwrap();
        assert_eq!(rec.summary.kind, "workers");
        assert_eq!(rec.summary.file_name, "staff.csv");
        assert_eq!(rec.summary.rows_added, 3);
        assert_eq!(rec.summary.mode, "all_or_nothing");
        assert_eq!(rec.report.as_ref().unwrap().added, 3);
        let audit = db
            .store
            .list_audit(&admin, &AuditQuery { entity: Some("import".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(audit.total, 1);
        assert_eq!(audit.items[0].action, "import");
        assert_eq!(audit.items[0].entity_id, import_id.to_string());
        let after = audit.items[0].after.as_ref().unwrap();
        assert_eq!(after["added"], 3);
        assert_eq!(after["file_sha256"], "ab".repeat(32));
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM workers WHERE import_id = $1")
            .bind(import_id)
            .fetch_one(db.store.pool())
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 3);
        assert!(count(&db.store, "worker_dedup_keys").await >= 6);
        if engine == komlang_store::Engine::Sqlite {
            // SQLite does not enforce them during an import: nothing may dangle.
            let bad = sqlx::query("PRAGMA foreign_key_check").fetch_all(db.store.pool()).await.unwrap();
            assert!(bad.is_empty(), "{} dangling references", bad.len());
            for _ in 0..4 {
                let on: i64 = sqlx::query("PRAGMA foreign_keys").fetch_one(db.store.pool()).await.unwrap().get(0);
                assert_eq!(on, 1, "foreign keys are on again for every connection");
            }
        }

        // The same file again: every row is a duplicate, skipped by default.
        let rows = vec![
            row("សុខ ដារ៉ា", "Sok Dara", "1988-02-03", "010203040", "010201", "2019-01-15", "MOI-1"),
            row("ចាន់ សុភា", "Chan Sophea", "03/04/1990", "", "020101", "", ""),
            row("ហេង លី", "Heng Ly", "៣២៨៧៨", "ABC123456", "020101", "2020-05-01", "Friends"),
        ];
        let r = import(&db.store, &admin, HEADERS, rows, &opts()).await.unwrap();
        assert_eq!((r.added, r.duplicates_skipped), (0, 3), "{engine:?}: {r:?}");
        assert!(r.committed);
        assert!(r.duplicates.iter().all(|d| matches!(d.target, DupTarget::Existing { .. })));
        assert_eq!(r.duplicates[0].score, 100);
        assert_eq!(db.store.list_workers(&admin, &WorkerQuery::default()).await.unwrap().total, 3);
        assert_eq!(db.store.list_imports(&admin, 1).await.unwrap().total, 2);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn rejected_rows_are_reported_and_nothing_is_written_unless_partial() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let rows = || {
            vec![
                row("សុខ ដារ៉ា", "Sok Dara", "1988-02-03", "", "010201", "", ""),
                row("ចាន់ សុភា", "Chan Sophea", "31/02/1990", "", "999999", "", "Nobody"),
                row("ហេង លី", "Heng Ly", "1990-01-01", "", "020101", "", ""),
                row("", "Keo Dara", "1990-01-01", "", "020101", "", ""),
            ]
        };
        let r = import(&db.store, &admin, HEADERS, rows(), &opts()).await.unwrap();
        assert!(!r.committed && r.import_id.is_none(), "{engine:?}");
        assert_eq!((r.rows_total, r.added), (4, 2), "what would have been added");
        assert_eq!(r.rejected.len(), 2);
        let bad = &r.rejected[0];
        assert_eq!(bad.row, 3);
        assert_eq!(bad.cells[1], "Chan Sophea");
        let codes: Vec<(&str, &str, &str, &str)> = bad
            .errors
            .iter()
            .map(|e| (e.column.as_str(), e.field.as_str(), e.value.as_str(), e.code.as_str()))
            .collect();
        assert!(codes.contains(&("Date of birth", "date_of_birth", "31/02/1990", "invalid_date")), "{codes:?}");
        assert!(codes.contains(&("Workplace code", "workplace_code", "999999", "unknown_admin_unit")), "{codes:?}");
        assert!(codes.contains(&("Employer", "org_name", "Nobody", "unknown_organization")), "{codes:?}");
        assert_eq!(r.rejected[1].row, 5);
        assert_eq!(r.rejected[1].errors[0].code, "required");
        assert_eq!(count(&db.store, "workers").await, 0, "{engine:?}: all or nothing");
        assert_eq!(count(&db.store, "imports").await, 0);
        assert_eq!(count(&db.store, "worker_dedup_keys").await, 0);

        // Dry run of the good rows: reported, not written.
        let dry = WorkerImportOptions { dry_run: true, ..opts() };
        let r = import(&db.store, &admin, HEADERS, rows()[..1].to_vec(), &dry).await.unwrap();
        assert!(!r.committed && r.dry_run && r.added == 1, "{r:?}");
        assert_eq!(count(&db.store, "workers").await, 0);

        // Partial: the valid rows are written.
        let partial = WorkerImportOptions { partial: true, ..opts() };
        let r = import(&db.store, &admin, HEADERS, rows(), &partial).await.unwrap();
        assert!(r.committed, "{engine:?}");
        assert_eq!((r.added, r.rejected.len()), (2, 2));
        assert_eq!(count(&db.store, "workers").await, 2);
        let rec = db.store.get_import(&admin, r.import_id.unwrap()).await.unwrap().unwrap();
        assert_eq!((rec.summary.mode.as_str(), rec.summary.rows_rejected), ("partial", 2));
        let stored = rec.report.unwrap();
        assert_eq!(stored.rejected.len(), 2);
        assert_eq!(stored.headers, s(HEADERS), "the header row is kept to give rejected rows back");

        // The first 1,000 rejected rows are kept with the import, and all of them counted
        // (tests/report_limits.rs has the rest of the rule).
        let many: Vec<Vec<String>> =
            (0..1_200).map(|i| row("ក", &format!("Bad{i}"), "31/02/1990", "", "999999", "", "")).collect();
        let r = import(&db.store, &admin, HEADERS, many, &partial).await.unwrap();
        let rec = db.store.get_import(&admin, r.import_id.unwrap()).await.unwrap().unwrap();
        assert_eq!(rec.summary.rows_rejected, 1_200, "{engine:?}");
        let stored = rec.report.unwrap();
        assert_eq!((stored.rejected.len(), stored.rejected_count), (1_000, 1_200), "{engine:?}");

        // A broken file stops everything; a bad mapping is refused up front.
        let headers = s(HEADERS);
        let items = vec![Ok((2, row("សុខ ចាន់", "Sok Chan", "", "", "010201", "", ""))), Err("row 3: not UTF-8".into())];
        let r = db
            .store
            .import_workers(&admin, &headers, items.into_iter(), &guess_mapping(&headers), &partial, today())
            .await;
        match r {
            Err(StoreError::Invalid(e)) => assert_eq!(e.errors[0].code, "invalid_file"),
            other => panic!("{other:?}"),
        }
        let mut m = guess_mapping(&headers);
        m.columns[0] = None;
        let r = db.store.import_workers(&admin, &headers, std::iter::empty(), &m, &partial, today()).await;
        match r {
            Err(StoreError::Invalid(e)) => {
                assert_eq!(
                    (e.errors[0].field.as_str(), e.errors[0].code.as_str()),
                    ("name_km", "missing_required_column")
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(count(&db.store, "workers").await, 2);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn duplicates_are_found_explained_and_decided_per_row() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let sok = db
            .store
            .create_worker(
                &admin,
                &worker_input("សុខ ជា", "Sok Chea", Some("1990-04-13"), Some("111222333"), "010201"),
                today(),
            )
            .await
            .unwrap();
        let chan = db
            .store
            .create_worker(&admin, &worker_input("ចាន់ ធា", "Chan Thea", Some("1985-01-01"), None, "010201"), today())
            .await
            .unwrap();
        let rows = vec![
            // 2: same national ID as Sok Chea, other names.
            row("ស៊ុន លី", "Sun Ly", "1970-01-01", "111222333", "010201", "", ""),
            // 3: Chan Thea written differently, same date of birth, Khmer with a zero-width space.
            row("ចាន់\u{200B}ធា", "Chan Thia", "1985-01-01", "", "020101", "", ""),
            // 4: new.
            row("កែវ ដារ៉ា", "Keo Dara", "1992-02-02", "999888777", "010201", "", ""),
            // 5: the same person as row 4.
            row("កែវ ដារ៉ា", "Keo Dara", "1992-02-02", "", "010201", "", ""),
            // 6: Chan Thea again, words in another order.
            row("ចាន់ ធា", "Thea Chan", "1985-01-01", "", "010201", "", ""),
        ];
        // Dry run with the default (skip): every duplicate reported.
        let dry = WorkerImportOptions { dry_run: true, ..opts() };
        let r = import(&db.store, &admin, HEADERS, rows.clone(), &dry).await.unwrap();
        assert_eq!((r.added, r.duplicates_skipped), (1, 4), "{engine:?}: {r:#?}");
        let d: BTreeMap<u64, _> = r.duplicates.iter().map(|d| (d.row, d)).collect();
        assert_eq!(d[&2].score, 100);
        assert_eq!(
            d[&2].target,
            DupTarget::Existing {
                worker_id: sok.id, name_km: "សុខ ជា".into(), name_latin: "Sok Chea".into()
            }
        );
        assert!(d[&2].explanation.contains("national ID"), "{}", d[&2].explanation);
        assert!(matches!(d[&3].target, DupTarget::Existing { worker_id, .. } if worker_id == chan.id));
        assert!(d[&3].explanation.contains("same date of birth"), "{}", d[&3].explanation);
        assert_eq!(d[&5].target, DupTarget::Row(4), "{:?}", d[&5]);
        assert!(matches!(d[&6].target, DupTarget::Existing { worker_id, .. } if worker_id == chan.id));
        assert!(d.values().all(|d| d.decision == DupDecision::Skip));

        // Decisions: keep both for row 2 (same national ID: refused), merge
        // row 3 into Chan Thea (moves her), keep both for row 5, merge row 6.
        let mut o = WorkerImportOptions { partial: true, ..opts() };
        o.decisions.insert(2, DupDecision::KeepBoth);
        o.decisions.insert(3, DupDecision::Merge);
        o.decisions.insert(5, DupDecision::KeepBoth);
        o.decisions.insert(6, DupDecision::Skip);
        let r = import(&db.store, &admin, HEADERS, rows, &o).await.unwrap();
        assert!(r.committed, "{engine:?}");
        assert_eq!((r.added, r.merged, r.duplicates_skipped, r.rejected.len()), (2, 1, 1, 1), "{engine:?}: {r:#?}");
        assert_eq!(r.rejected[0].row, 2);
        assert_eq!(r.rejected[0].errors[0].code, "duplicate_national_id");
        assert_eq!(r.rejected[0].errors[0].column, "National ID");

        // The merge moved Chan Thea: history of both kept, audited.
        let w = db.store.get_worker(&admin, chan.id).await.unwrap().unwrap();
        assert_eq!(w.name_latin, "Chan Thia");
        assert_eq!(w.workplace_code, "020101");
        let postings = db.store.worker_postings(&admin, chan.id).await.unwrap();
        assert_eq!(postings.len(), 2, "{postings:?}");
        assert_eq!(postings.iter().filter(|p| p.end_date.is_none()).count(), 1);
        let audit = db
            .store
            .list_audit(
                &admin,
                &AuditQuery {
                    entity: Some("worker".into()),
                    entity_id: Some(chan.id.to_string()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(audit.items[0].action, "update");
        assert_eq!(db.store.list_workers(&admin, &WorkerQuery::default()).await.unwrap().total, 4);

        // Merge into an earlier row of the same file.
        let rows = vec![row("ពៅ សុភា", "Pov Sophea", "1991-03-03", "", "010201", "2018-01-01", ""), {
            let mut r = row("ពៅ សុភា", "Pov Sophea", "1991-03-03", "444555666", "020101", "", "");
            r[9] = "on_leave".into();
            r
        }];
        let o = WorkerImportOptions { default_decision: DupDecision::Merge, ..opts() };
        let r = import(&db.store, &admin, HEADERS, rows, &o).await.unwrap();
        assert_eq!((r.added, r.merged), (1, 1), "{engine:?}: {r:#?}");
        assert_eq!(r.duplicates[0].target, DupTarget::Row(2));
        let q = WorkerQuery { q: Some("Pov".into()), ..Default::default() };
        let page = db.store.list_workers(&admin, &q).await.unwrap();
        assert_eq!(page.total, 1);
        let pov = db.store.get_worker(&admin, page.items[0].id).await.unwrap().unwrap();
        assert_eq!(pov.national_id.as_deref(), Some("444555666"));
        assert_eq!(pov.status, EmploymentStatus::OnLeave);
        assert_eq!(db.store.worker_postings(&admin, pov.id).await.unwrap().len(), 2);
        assert_eq!(db.store.worker_status_history(&admin, pov.id).await.unwrap().len(), 2);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn imports_follow_the_scope_rules_of_create_worker() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let ngo = db.store.create_org(&admin, &org_input("Friends", Some("MOI-1"), "12")).await.unwrap();
        db.store.create_org(&admin, &org_input("Others", Some("MOI-2"), "12")).await.unwrap();
        // Someone in Battambang the Banteay Meanchey officer may not see.
        let hidden = db
            .store
            .create_worker(&admin, &worker_input("ស៊ុន ស៊ីម", "Sun Sim", None, Some("777777777"), "020101"), today())
            .await
            .unwrap();
        let prov = principal(&db, "bmc", UserRole::ProvincialOfficer, Some("01"), None).await;
        let rows = vec![
            row("សុខ ដារ៉ា", "Sok Dara", "", "", "010201", "", ""),
            row("ចាន់ សុភា", "Chan Sophea", "", "", "020101", "", ""),
            row("ហេង លី", "Heng Ly", "", "777777777", "010201", "", ""),
        ];
        let r =
            import(&db.store, &prov, HEADERS, rows, &WorkerImportOptions { partial: true, ..opts() }).await.unwrap();
        assert_eq!(r.added, 1, "{engine:?}: {r:#?}");
        assert_eq!(r.rejected[0].errors[0].code, "out_of_scope");
        assert_eq!(r.rejected[1].errors[0].code, "duplicate_national_id", "the other worker stays hidden");
        assert!(r.duplicates.is_empty(), "nothing about {hidden:?} is shown");
        // The officer sees their own import, not the administrator's.
        assert_eq!(db.store.list_imports(&prov, 1).await.unwrap().total, 1);
        assert!(db.store.get_import(&admin, r.import_id.unwrap()).await.unwrap().is_some());

        // An organization's HR manager imports into their organization only.
        let hr = principal(&db, "hrman", UserRole::OrgHrManager, None, Some(ngo.org.id)).await;
        let rows = vec![
            row("កែវ ធីតា", "Keo Thida", "", "", "120101", "", ""),
            row("កែវ បុប្ផា", "Keo Bopha", "", "", "120101", "", "Others"),
        ];
        let r = import(&db.store, &hr, HEADERS, rows, &WorkerImportOptions { partial: true, ..opts() }).await.unwrap();
        assert_eq!(r.added, 1, "{engine:?}: {r:#?}");
        assert_eq!(r.rejected[0].errors[0].code, "unknown_organization");
        let q = WorkerQuery { q: Some("Keo Thida".into()), ..Default::default() };
        assert_eq!(db.store.list_workers(&admin, &q).await.unwrap().items[0].org_id, Some(ngo.org.id));
        let seen = db.store.list_imports(&hr, 1).await.unwrap().items;
        assert!(!seen.is_empty() && seen.iter().all(|i| i.username == "hrman"), "{engine:?}: {seen:?}");

        // Viewers may not import.
        let viewer = principal(&db, "viewer", UserRole::NationalViewer, None, None).await;
        let r = import(&db.store, &viewer, HEADERS, vec![], &opts()).await;
        assert!(matches!(r, Err(StoreError::Forbidden)), "{r:?}");
        assert_eq!(db.store.list_imports(&viewer, 1).await.unwrap().total, 0);
        db.cleanup().await;
    }
}

/// A varied set of workers: every field, with and without optional ones.
async fn varied_registry(store: &Store) -> Vec<i64> {
    let admin = system_principal("test");
    let a = store.create_org(&admin, &org_input("Friends", Some("MOI-1"), "12")).await.unwrap().org.id;
    let b = store.create_org(&admin, &org_input("Hope, Cambodia", None, "02")).await.unwrap().org.id;
    let families = [("សុខ", "Sok"), ("ចាន់", "Chan"), ("ហេង", "Heng"), ("កែវ", "Keo"), ("លី", "Ly")];
    let givens = [("ដារ៉ា", "Dara"), ("សុភា", "Sophea"), ("ធីតា", "Thida"), ("បុប្ផា", "Bopha"), ("វិចិត្រ", "Vichet")];
    let units = ["010201", "020101", "120101", "020102"];
    let statuses = ["active", "on_leave", "left", "retired"];
    let levels = ["bachelor", "master", "tvc2"];
    // Three name endings: 75 distinct names for 60 people.
    let ends = [("", ""), (" ស្រី", " Srey"), (" ពៅ", " Pov")];
    let mut ids = Vec::new();
    for i in 0..60usize {
        let (fk, fl) = families[i % 5];
        let (gk, gl) = givens[(i / 5) % 5];
        let (ek, el) = ends[i / 25];
        let status = statuses[i % 4];
        let input = WorkerInput {
            name_km: Some(format!("{fk} {gk}{ek}")),
            name_latin: Some(format!("{fl} {gl}{el}")),
            sex: Some(if i % 2 == 0 { "female" } else { "male" }.into()),
            date_of_birth: (i % 7 != 0).then(|| format!("{}-{:02}-{:02}", 1960 + i % 40, 1 + i % 12, 1 + i % 28)),
            national_id: (i % 3 != 0).then(|| format!("{:09}", 100_000_000 + i * 7919)),
            phone: (i % 2 == 0).then(|| format!("012 {:03} {:03}", i, 500 + i)),
            email: (i % 5 == 0).then(|| format!("w{i}@example.org")),
            cadre: Some(["professional_social_worker", "para_professional", "para_social_worker"][i % 3].into()),
            role: Some(["ccwc_focal_point", "ngo_case_worker", "district_officer"][i % 3].into()),
            sector: Some(["government", "ngo", "volunteer"][i % 3].into()),
            org_id: [Some(a), Some(b), None][i % 3],
            position_title: (i % 4 == 1).then(|| format!("Officer, grade {i}")),
            workplace_code: Some(units[i % 4].into()),
            status: Some(status.into()),
            start_date: (i % 6 != 0).then(|| format!("20{:02}-0{}-1{}", 5 + i % 15, 1 + i % 9, i % 10)),
            end_date: (status == "left" || status == "retired").then(|| "2025-06-30".into()),
            education_level: (i % 2 == 1).then(|| levels[i % 3].into()),
            education_field: (i % 3 == 1).then(|| "social_work".into()),
        };
        ids.push(store.create_worker(&admin, &input, today()).await.unwrap_or_else(|e| panic!("{i}: {e:?}")).id);
    }
    ids
}

/// A worker as the round trip must keep it (the employer by name, not by id).
fn comparable(w: &Worker, org_names: &BTreeMap<i64, String>) -> String {
    let mut d = w.draft();
    let org = d.org_id.map(|id| org_names[&id].clone());
    d.org_id = None;
    format!("{d:?} {org:?}")
}

async fn snapshot(store: &Store) -> Vec<String> {
    let admin = system_principal("test");
    let orgs = store.list_orgs(&admin, &Default::default()).await.unwrap();
    let names: BTreeMap<i64, String> = orgs.items.iter().map(|o| (o.org.id, o.org.name_en.clone())).collect();
    let page = store.list_workers(&admin, &WorkerQuery { per_page: 500, ..Default::default() }).await.unwrap();
    let mut out = Vec::new();
    for w in page.items {
        out.push(comparable(&store.get_worker(&admin, w.id).await.unwrap().unwrap(), &names));
    }
    out.sort();
    out
}

#[tokio::test]
async fn export_then_import_gives_the_same_records() {
    for engine in engines() {
        let src = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        varied_registry(&src.store).await;
        let mut rows = Vec::new();
        let n = src
            .store
            .export_workers(&admin, &WorkerQuery::default(), |r| {
                rows.push(r);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(n, 60);
        assert!(rows.iter().all(|r| r.len() == EXPORT_COLUMNS.len()));
        let headers: Vec<String> = EXPORT_COLUMNS.iter().map(|c| c.to_string()).collect();
        let mapping = guess_mapping(&headers);
        assert!(import::check_mapping(&mapping).is_ok(), "{mapping:?}");
        let numbered = || rows.iter().cloned().enumerate().map(|(i, r)| Ok((i as u64 + 2, r)));

        // Into the same database: every row is a duplicate, nothing new.
        let r = src.store.import_workers(&admin, &headers, numbered(), &mapping, &opts(), today()).await.unwrap();
        assert_eq!((r.added, r.duplicates_skipped), (0, 60), "{engine:?}: {:#?}", r.duplicates);
        assert!(r.rejected.is_empty(), "{:#?}", r.rejected);

        // Into an empty database with the same organizations (other ids).
        let dst = TestDb::with_units(engine).await;
        dst.store.create_org(&admin, &org_input("Padding", Some("X-0"), "12")).await.unwrap();
        dst.store.create_org(&admin, &org_input("Hope, Cambodia", None, "02")).await.unwrap();
        dst.store.create_org(&admin, &org_input("Friends", Some("MOI-1"), "12")).await.unwrap();
        let r = dst.store.import_workers(&admin, &headers, numbered(), &mapping, &opts(), today()).await.unwrap();
        assert!(r.rejected.is_empty() && r.duplicates.is_empty(), "{engine:?}: {r:#?}");
        assert_eq!(r.added, 60);
        assert_eq!(snapshot(&src.store).await, snapshot(&dst.store).await, "{engine:?}");

        // A filtered export holds only what the filter and the scope let through.
        let prov = principal(&src, "bat", UserRole::ProvincialOfficer, Some("02"), None).await;
        let mut ids = Vec::new();
        src.store
            .export_workers(
                &prov,
                &WorkerQuery { status: Some(EmploymentStatus::OnLeave), ..Default::default() },
                |r| {
                    ids.push(r[0].clone());
                    assert_eq!(r[18], "on_leave");
                    assert!(r[15].starts_with("02"), "{r:?}");
                    Ok(())
                },
            )
            .await
            .unwrap();
        assert_eq!(ids.len(), 15);
        src.cleanup().await;
        dst.cleanup().await;
    }
}

#[tokio::test]
async fn keys_follow_every_change_and_are_backfilled() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let ids = varied_registry(&db.store).await;
        let keys = |id: i64| {
            let pool = db.store.pool().clone();
            async move {
                let rows = sqlx::query("SELECT key FROM worker_dedup_keys WHERE worker_id = $1 ORDER BY key")
                    .bind(id)
                    .fetch_all(&pool)
                    .await
                    .unwrap();
                rows.iter().map(|r| r.get::<String, _>(0)).collect::<Vec<_>>()
            }
        };
        let before = keys(ids[1]).await;
        // Stored hashed, the letter of their kind first (`i` for the national ID).
        assert!(before.iter().any(|k| k.starts_with('i') && k.len() == 17), "{before:?}");
        let patch =
            WorkerInput { name_latin: Some("Chan Dara".into()), national_id: Some("".into()), ..Default::default() };
        db.store.update_worker(&admin, ids[1], &patch, &WorkerChange::default(), today(), None).await.unwrap();
        let after = keys(ids[1]).await;
        assert_ne!(before, after);
        assert!(!after.iter().any(|k| k.starts_with('i')), "{after:?}");
        db.store.delete_worker(&admin, ids[1], None).await.unwrap();
        assert!(keys(ids[1]).await.is_empty());

        // Backfill: keys lost (or made by other rules) are computed again, once.
        let total = count(&db.store, "worker_dedup_keys").await;
        sqlx::query("DELETE FROM worker_dedup_keys").execute(db.store.pool()).await.unwrap();
        sqlx::query("UPDATE meta SET value = 'old' WHERE key = $1")
            .bind(komlang_store::DEDUP_KEYS_FINGERPRINT_KEY)
            .execute(db.store.pool())
            .await
            .unwrap();
        assert_eq!(db.store.ensure_dedup_keys().await.unwrap(), 59);
        assert_eq!(count(&db.store, "worker_dedup_keys").await, total);
        assert_eq!(db.store.ensure_dedup_keys().await.unwrap(), 0);
        db.store.migrate().await.unwrap();
        assert_eq!(count(&db.store, "worker_dedup_keys").await, total);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn population_figures_are_imported_all_or_nothing_and_upserted() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let headers = s(&["Admin unit code", "Year", "Sex", "Age group", "Population"]);
        let o = ImportOptions { file_name: "pop.csv".into(), file_sha256: "00".into(), ..Default::default() };
        let good = vec![
            s(&["02", "2024", "total", "total", "1,036,523"]),
            s(&["02", "២០២៤", "ស្រី", "0-17", "១២៣៤៥"]),
            s(&["0201", "2024", "M", "0 - 4", "8000"]),
            s(&["", "", "", "", ""]),
        ];
        let rows = |v: Vec<Vec<String>>| numbered(v).into_iter().map(Ok);
        let r = db.store.import_population(&admin, &headers, rows(good.clone()), &o).await.unwrap();
        assert!(r.committed, "{engine:?}: {r:?}");
        assert_eq!((r.rows_total, r.added, r.merged), (3, 3, 0));
        let p = db.store.population("02", Some(2024)).await.unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!((p[0].sex.as_str(), p[0].age_group.as_str(), p[0].count), ("female", "0-17", 12345));
        assert_eq!((p[1].sex.as_str(), p[1].age_group.as_str(), p[1].count), ("total", "total", 1_036_523));
        assert_eq!(db.store.population("0201", None).await.unwrap()[0].age_group, "0-4");

        // Upsert: the same figure again replaces it.
        let again = vec![s(&["02", "2024", "female", "0-17", "12000"])];
        let r = db.store.import_population(&admin, &headers, rows(again), &o).await.unwrap();
        assert_eq!((r.added, r.merged), (0, 1));
        assert_eq!(db.store.population("02", Some(2024)).await.unwrap()[0].count, 12000);

        // One bad row and nothing is written.
        let bad = vec![
            s(&["02", "2025", "total", "total", "5"]),
            s(&["99", "1800", "x", "17-0", "-3"]),
            s(&["02", "2025", "total", "total", "6"]),
        ];
        let r = db.store.import_population(&admin, &headers, rows(bad), &o).await.unwrap();
        assert!(!r.committed);
        let codes: Vec<&str> = r.rejected[0].errors.iter().map(|e| e.code.as_str()).collect();
        assert_eq!(
            codes,
            ["unknown_admin_unit", "invalid_year", "invalid_choice", "invalid_age_group", "invalid_number"]
        );
        assert_eq!(r.rejected[1].errors[0].code, "duplicate_row");
        assert!(db.store.population("02", Some(2025)).await.unwrap().is_empty());

        // Rights: population figures are national reference data (docs/access.md), so even an
        // officer's own province is refused and nothing is written.
        let prov = principal(&db, "bmc", UserRole::ProvincialOfficer, Some("01"), None).await;
        let r = db
            .store
            .import_population(&prov, &headers, rows(vec![s(&["01", "2030", "total", "total", "1"])]), &o)
            .await;
        assert!(matches!(r, Err(StoreError::Forbidden)), "{r:?}");
        assert!(db.store.population("01", Some(2030)).await.unwrap().is_empty());
        let viewer = principal(&db, "viewer", UserRole::NationalViewer, None, None).await;
        assert!(matches!(
            db.store.import_population(&viewer, &headers, rows(vec![]), &o).await,
            Err(StoreError::Forbidden)
        ));
        let r = db.store.import_population(&admin, &s(&["code", "year"]), rows(vec![]), &o).await;
        assert!(matches!(r, Err(StoreError::Invalid(ref e)) if e.errors.len() == 3), "{r:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn organizations_are_imported_and_known_ones_skipped() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        db.store.create_org(&admin, &org_input("Friends", Some("MOI-1"), "12")).await.unwrap();
        let headers = s(&["Name (English)", "ឈ្មោះ", "Type", "Registration number", "Admin unit code", "Phone", "Email"]);
        let rows = vec![
            s(&["Friends again", "", "ngo", "MOI-1", "12", "", ""]),
            s(&["Hope", "ក្តីសង្ឃឹម", "NGO", "MOI-7", "02", "012 345 678", "hope@example.org"]),
            s(&["Hope twin", "", "ngo", "MOI-7", "02", "", ""]),
            s(&["Office", "", "District office", "", "0201", "", ""]),
            s(&["Bad", "", "club", "", "99", "x", ""]),
        ];
        let o = ImportOptions { file_name: "orgs.csv".into(), ..Default::default() };
        let r = db.store.import_orgs(&admin, &headers, numbered(rows.clone()).into_iter().map(Ok), &o).await.unwrap();
        assert!(!r.committed, "{engine:?}");
        let codes: Vec<&str> = r.rejected[0].errors.iter().map(|e| e.code.as_str()).collect();
        assert!(codes.contains(&"invalid_choice") && codes.contains(&"unknown_admin_unit"), "{codes:?}");
        assert_eq!(count(&db.store, "organizations").await, 1);
        let o = ImportOptions { partial: true, ..o };
        let r = db.store.import_orgs(&admin, &headers, numbered(rows).into_iter().map(Ok), &o).await.unwrap();
        assert!(r.committed);
        assert_eq!((r.added, r.duplicates_skipped, r.rejected.len()), (2, 2, 1), "{r:?}");
        let list = db.store.list_orgs(&admin, &Default::default()).await.unwrap();
        let hope = list.items.iter().find(|o| o.org.name_en == "Hope").unwrap();
        assert_eq!(hope.org.name_km.as_deref(), Some("ក្តីសង្ឃឹម"));
        assert_eq!(hope.org.kind, OrgKind::Ngo);
        assert!(list.items.iter().any(|o| o.org.kind == OrgKind::DistrictOffice));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn files_and_mappings_are_kept_for_their_owners() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let prov = principal(&db, "bmc", UserRole::ProvincialOfficer, Some("01"), None).await;
        let other = principal(&db, "kdl", UserRole::ProvincialOfficer, Some("08"), None).await;
        let bytes = "name_km,name_latin\nសុខ,Sok\n".as_bytes().to_vec();
        let id = db.store.save_import_file(&prov, "staff.csv", &bytes).await.unwrap();
        let (meta, back) = db.store.import_file(&prov, id).await.unwrap().unwrap();
        assert_eq!(back, bytes, "{engine:?}");
        assert_eq!(meta.sha256, komlang_store::sha256_hex(&bytes));
        assert_eq!((meta.file_name.as_str(), meta.size), ("staff.csv", bytes.len() as i64));
        assert!(db.store.import_file(&admin, id).await.unwrap().is_some());
        assert!(db.store.import_file(&other, id).await.unwrap().is_none());
        assert!(matches!(db.store.delete_import_file(&other, id).await, Err(StoreError::NotFound)));
        db.store.delete_import_file(&prov, id).await.unwrap();
        assert!(db.store.import_file(&prov, id).await.unwrap().is_none());
        let viewer = principal(&db, "viewer", UserRole::NationalViewer, None, None).await;
        assert!(matches!(db.store.save_import_file(&viewer, "x.csv", b"x").await, Err(StoreError::Forbidden)));

        let headers = s(HEADERS);
        let mapping = guess_mapping(&headers);
        db.store.save_mapping(&prov, " NGO list ", &headers, &mapping).await.unwrap();
        let m = db.store.mapping("NGO list").await.unwrap().unwrap();
        assert_eq!((m.headers, m.mapping.clone(), m.created_by.as_str()), (headers.clone(), mapping, "bmc"));
        let mut changed = m.mapping;
        changed.columns[11] = None;
        db.store.save_mapping(&admin, "NGO list", &headers, &changed).await.unwrap();
        assert_eq!(db.store.mappings().await.unwrap().len(), 1);
        assert_eq!(db.store.mapping("NGO list").await.unwrap().unwrap().mapping, changed);
        assert!(db.store.mapping("nope").await.unwrap().is_none());
        assert!(matches!(
            db.store.save_mapping(&prov, "  ", &headers, &ColumnMapping::default()).await,
            Err(StoreError::Invalid(_))
        ));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_big_import_finds_duplicates_across_batches() {
    // Past `BLOOM_AFTER_ROWS`, where only the keys the filter knows are looked up.
    let n = komlang_store::BLOOM_AFTER_ROWS as usize + 3 * komlang_store::READ_BATCH;
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let old = db
            .store
            .create_worker(
                &admin,
                &worker_input("ឯក ធារ៉ា", "Ek Theara", Some("1970-07-07"), Some("555000555"), "010201"),
                today(),
            )
            .await
            .unwrap();
        let names = [
            ("សុខ ដារ៉ា", "Sok Dara"),
            ("ចាន់ សុភា", "Chan Sophea"),
            ("ហេង ធីតា", "Heng Thida"),
            ("មាស វិចិត្រ", "Meas Vichet"),
        ];
        let first = NaiveDate::from_ymd_opt(1950, 1, 1).unwrap();
        // Four people a day: no two alike.
        let person = |i: usize| {
            let (km, latin) = names[i % 4];
            let dob = first + chrono::Duration::days((i / 4) as i64);
            row(km, latin, &dob.to_string(), &format!("{:09}", 200_000_000 + i), "010201", "", "")
        };
        let mut rows: Vec<Vec<String>> = (0..n).map(person).collect();
        rows.push(person(7)); // an early row again: same national ID
        rows.push(row("ឯក ធារ៉ា", "Ek Thiara", "1970-07-07", "", "020101", "", "")); // the registered worker
        let r = import(&db.store, &admin, HEADERS, rows, &opts()).await.unwrap();
        assert!(r.committed && r.rejected.is_empty(), "{engine:?}");
        assert_eq!((r.added, r.duplicates_skipped), (n as u64, 2), "{engine:?}: {:?}", r.duplicates);
        assert_eq!(r.duplicates[0].target, DupTarget::Row(9));
        assert!(matches!(r.duplicates[1].target, DupTarget::Existing { worker_id, .. } if worker_id == old.id));
        assert_eq!(count(&db.store, "workers").await, n as i64 + 1);
        assert_eq!(count(&db.store, "postings").await, n as i64 + 1);
        db.cleanup().await;
    }
}
