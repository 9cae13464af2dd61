//! The worker tallies (kept by the database's triggers, migration 0009) against the records,
//! on every engine: after each kind of change, the tallies summed per group equal a direct
//! `COUNT(*) … GROUP BY` over `workers`, and the scoped counts the home page shows equal the
//! same count over the records within the scope.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use komlang_core::import::guess_mapping;
use komlang_core::validate::{OrgInput, WorkerInput};
use komlang_core::*;
use komlang_store::backup::BackupOptions;
use komlang_store::testing::{engines, TestDb};
use komlang_store::{system_principal, Engine, Store, WorkerChange, WorkerImportOptions, WorkerQuery};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn who(role: UserRole, scope: Option<(&str, AdminLevel)>, org_id: Option<i64>) -> Principal {
    Principal {
        user_id: 0,
        username: format!("{}-{}", role.code(), scope.map(|s| s.0).unwrap_or("all")),
        role,
        scope: match scope {
            None => Scope::Nation,
            Some((code, level)) => Scope::Unit { code: code.into(), level },
        },
        org_id,
        worker_id: None,
    }
}

const UNITS: [&str; 5] = ["010201", "020101", "020102", "120101", "0201"];
const CADRES: [&str; 3] = ["professional_social_worker", "para_professional", "para_social_worker"];
const ROLES: [&str; 3] = ["ccwc_focal_point", "ngo_case_worker", "district_officer"];
const SECTORS: [&str; 3] = ["government", "ngo", "volunteer"];
const STATUSES: [&str; 4] = ["active", "on_leave", "left", "retired"];

/// A Latin name of its own for each number (names take letters only).
fn name(prefix: &str, mut i: usize) -> String {
    let mut s = String::from(prefix);
    s.push(' ');
    loop {
        s.push((b'a' + (i % 26) as u8) as char);
        i /= 26;
        if i == 0 {
            return s;
        }
    }
}

fn input(i: usize) -> WorkerInput {
    WorkerInput {
        name_km: Some("ឈ្មោះ".into()),
        name_latin: Some(name("Worker", i)),
        sex: Some(if i.is_multiple_of(2) { "female" } else { "male" }.into()),
        cadre: Some(CADRES[i % 3].into()),
        role: Some(ROLES[(i / 3) % 3].into()),
        sector: Some(SECTORS[(i / 2) % 3].into()),
        workplace_code: Some(UNITS[i % 5].into()),
        status: Some(STATUSES[(i / 5) % 2].into()),
        ..Default::default()
    }
}

type Groups = BTreeMap<(String, String, String, String, String, i64), i64>;

async fn groups(store: &Store, sql: &str) -> Groups {
    sqlx::query(sql)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let t = |i: usize| r.get::<String, _>(i);
            ((t(0), t(1), t(2), t(3), t(4), r.get::<i64, _>(5)), r.get::<i64, _>(6))
        })
        .collect()
}

const KEY: &str = "workplace_code, cadre, sector, role, status, certified";

/// The tallies summed per group, and the records counted per group.
async fn tallied_and_counted(store: &Store) -> (Groups, Groups) {
    let tallied = groups(
        store,
        &format!("SELECT {KEY}, CAST(SUM(n) AS BIGINT) FROM worker_tallies GROUP BY {KEY} HAVING SUM(n) <> 0"),
    )
    .await;
    // `certified` from the certificates themselves, not from the flag the triggers keep.
    let counted = groups(
        store,
        &format!(
            "SELECT {KEY}, COUNT(*) FROM (SELECT workplace_code, cadre, sector, role, status, \
             CASE WHEN EXISTS (SELECT 1 FROM certificates c WHERE c.worker_id = w.id AND c.revoked_on IS NULL) \
             THEN 1 ELSE 0 END AS certified FROM workers w) x GROUP BY {KEY}"
        ),
    )
    .await;
    (tallied, counted)
}

/// The scopes the checks read through: the country, a province, a district, a commune, an
/// organization's HR manager (counted from the records).
fn readers(org: Option<i64>) -> Vec<(Principal, String)> {
    let mut v = vec![
        (who(UserRole::NationalAdmin, None, None), "1 = 1".to_string()),
        (who(UserRole::ProvincialOfficer, Some(("02", AdminLevel::Province)), None), "u.province_code = '02'".into()),
        (who(UserRole::DistrictOfficer, Some(("0201", AdminLevel::District)), None), "u.district_code = '0201'".into()),
        (
            who(UserRole::ProvincialOfficer, Some(("020101", AdminLevel::Commune)), None),
            "u.commune_code = '020101'".into(),
        ),
    ];
    if let Some(o) = org {
        v.push((who(UserRole::OrgHrManager, None, Some(o)), format!("w.org_id = {o}")));
    }
    v
}

/// Everything the tallies answer equals the records, in every scope.
async fn check(store: &Store, org: Option<i64>, what: &str) {
    let (tallied, counted) = tallied_and_counted(store).await;
    assert_eq!(tallied, counted, "{what}: tallies per group");
    for (p, cond) in readers(org) {
        // The home page's groupings, read at once: the same as each one alone.
        let cols = ["cadre", "sector", "status", "role"];
        let each = store.count_workers_by_each(&p, &cols).await.unwrap();
        assert_eq!(each.len(), cols.len());
        for (col, got) in cols.into_iter().zip(each) {
            assert_eq!(got, store.count_workers_by(&p, col).await.unwrap(), "{what}: {} by {col}, at once", p.username);
        }
        for col in cols {
            let got = store.count_workers_by(&p, col).await.unwrap();
            let want: Vec<(String, i64)> = sqlx::query(&format!(
                "SELECT w.{col}, COUNT(*) FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
                 WHERE {cond} GROUP BY w.{col} ORDER BY w.{col}"
            ))
            .fetch_all(store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
            assert_eq!(got, want, "{what}: {} by {col}", p.username);
        }
        // The worker list's total, unfiltered and filtered on tallied columns.
        let filters = [
            WorkerQuery::default(),
            WorkerQuery { status: Some(EmploymentStatus::Active), ..Default::default() },
            WorkerQuery { province: Some("02".into()), cadre: Some(Cadre::ParaProfessional), ..Default::default() },
            WorkerQuery {
                commune: Some("020101".into()),
                role: Some(WorkerRole::CcwcFocalPoint),
                ..Default::default()
            },
            WorkerQuery { sector: Some(Sector::Ngo), district: Some("0201".into()), ..Default::default() },
        ];
        for f in filters {
            let got = store.list_workers(&p, &WorkerQuery { per_page: 1, ..f.clone() }).await.unwrap().total;
            let mut want_sql =
                format!("SELECT COUNT(*) FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE {cond}");
            for (col, v) in [
                ("u.province_code", f.province.clone()),
                ("u.district_code", f.district.clone()),
                ("u.commune_code", f.commune.clone()),
                ("w.cadre", f.cadre.map(|c| c.code().to_string())),
                ("w.sector", f.sector.map(|c| c.code().to_string())),
                ("w.status", f.status.map(|c| c.code().to_string())),
                ("w.role", f.role.map(|c| c.code().to_string())),
            ] {
                if let Some(v) = v {
                    want_sql.push_str(&format!(" AND {col} = '{v}'"));
                }
            }
            let want: i64 = sqlx::query(&want_sql).fetch_one(store.pool()).await.unwrap().get(0);
            assert_eq!(got, want, "{what}: {} list total {f:?}", p.username);
        }
    }
}

/// Numbered rows of a file, as the import reads them.
type Rows = Vec<Result<(u64, Vec<String>), String>>;

fn rows_of(ids: std::ops::Range<usize>, bad: Option<usize>) -> (Vec<String>, Rows) {
    let headers: Vec<String> =
        ["Name (Khmer)", "Name (Latin)", "Sex", "Cadre", "Role", "Sector", "Workplace code", "Status"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let rows = ids
        .enumerate()
        .map(|(k, i)| {
            let w = input(i);
            let workplace = if Some(k) == bad { "999999".to_string() } else { w.workplace_code.unwrap() };
            let r = vec![
                "ឈ្មោះ".to_string(),
                name("Imported", i),
                w.sex.unwrap(),
                w.cadre.unwrap(),
                w.role.unwrap(),
                w.sector.unwrap(),
                workplace,
                w.status.unwrap(),
            ];
            Ok((k as u64 + 2, r))
        })
        .collect();
    (headers, rows)
}

async fn import(store: &Store, ids: std::ops::Range<usize>, bad: Option<usize>, dry_run: bool) -> bool {
    let (headers, rows) = rows_of(ids, bad);
    let opts = WorkerImportOptions {
        file_name: "staff.csv".into(),
        file_sha256: "ab".repeat(32),
        dry_run,
        ..Default::default()
    };
    let r = store
        .import_workers(&system_principal("t"), &headers, rows.into_iter(), &guess_mapping(&headers), &opts, today())
        .await
        .unwrap();
    r.committed
}

#[tokio::test]
async fn tallies_follow_every_kind_of_change() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let admin = system_principal("t");
        check(s, None, "empty").await;
        let org = s
            .create_org(
                &admin,
                &OrgInput {
                    name_en: Some("Friends".into()),
                    kind: Some("ngo".into()),
                    admin_code: Some("02".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .org
            .id;

        let mut ids = Vec::new();
        for i in 0..30 {
            let mut w = input(i);
            w.org_id = (i % 4 == 0).then_some(org);
            ids.push(s.create_worker(&admin, &w, today()).await.unwrap().id);
        }
        check(s, Some(org), "created").await;

        // Each tallied field changed in turn, and a field no tally holds.
        type Edit = (&'static str, fn(&mut WorkerInput));
        let edits: [Edit; 6] = [
            ("workplace", |w| w.workplace_code = Some("120101".into())),
            ("cadre", |w| w.cadre = Some("para_professional".into())),
            ("sector", |w| w.sector = Some("volunteer".into())),
            ("role", |w| w.role = Some("district_officer".into())),
            ("status", |w| w.status = Some("on_leave".into())),
            ("name", |w| w.name_latin = Some("Renamed".into())),
        ];
        for (k, (what, edit)) in edits.iter().enumerate() {
            let mut patch = WorkerInput::default();
            edit(&mut patch);
            for id in ids.iter().skip(k).step_by(4) {
                s.update_worker(&admin, *id, &patch, &WorkerChange::default(), today(), None).await.unwrap();
            }
            check(s, Some(org), &format!("{engine:?}: {what} edited")).await;
        }
        // A status change with its date and note (a worker leaves).
        let change = WorkerChange { effective_date: Some(today()), note: Some("moved on".into()) };
        let patch = WorkerInput { status: Some("left".into()), ..Default::default() };
        s.update_worker(&admin, ids[1], &patch, &change, today(), None).await.unwrap();
        check(s, Some(org), "status change").await;

        for id in ids.iter().step_by(7) {
            s.delete_worker(&admin, *id, None).await.unwrap();
        }
        check(s, Some(org), "deleted").await;

        // Imports: committed; all or nothing (one bad row: the valid rows written before it
        // roll back); a dry run (rolled back).
        assert!(import(s, 100..160, None, false).await);
        check(s, Some(org), "imported").await;
        assert!(!import(s, 200..260, Some(45), false).await);
        check(s, Some(org), "import refused whole").await;
        assert!(!import(s, 300..360, None, true).await);
        check(s, Some(org), "dry run").await;
        let workers: i64 = sqlx::query("SELECT COUNT(*) FROM workers").fetch_one(s.pool()).await.unwrap().get(0);
        assert_eq!(workers, 30 - 5 + 60);
        // A SQLite import takes the tallies' insert triggers over while it runs (one grouped
        // upsert per batch): each of the three imports, committed, refused or dry, puts them back.
        if engine == Engine::Sqlite {
            let triggers: i64 = sqlx::query(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN \
                 ('worker_tallies_insert', 'staff_tallies_insert', 'history_tallies_insert')",
            )
            .fetch_one(s.pool())
            .await
            .unwrap()
            .get(0);
            assert_eq!(triggers, 3, "the tallies' insert triggers are back after the imports");
        }
        s.create_worker(&admin, &input(90), today()).await.unwrap();
        check(s, Some(org), "created after the imports").await;

        // Statements touching many workers at once, and a transaction rolled back.
        sqlx::query("UPDATE workers SET status = 'retired', cadre = 'allied_worker' WHERE workplace_code LIKE '02%'")
            .execute(s.pool())
            .await
            .unwrap();
        check(s, Some(org), "many updated at once").await;
        let mut tx = s.pool().begin().await.unwrap();
        sqlx::query("UPDATE workers SET workplace_code = '010201'").execute(&mut *tx).await.unwrap();
        sqlx::query("DELETE FROM workers WHERE status = 'retired'").execute(&mut *tx).await.unwrap();
        tx.rollback().await.unwrap();
        check(s, Some(org), "rolled back").await;
        sqlx::query("DELETE FROM workers WHERE status = 'retired' AND id NOT IN (SELECT worker_id FROM users WHERE worker_id IS NOT NULL)")
            .execute(s.pool())
            .await
            .unwrap();
        check(s, Some(org), "many deleted at once").await;

        // Compaction leaves one row per group and the same sums.
        let c = s.compact_worker_tallies().await.unwrap();
        let (tallied, _) = tallied_and_counted(s).await;
        assert_eq!(
            s.worker_tally_rows().await.unwrap(),
            tallied.len() as i64,
            "{engine:?}: one row per group after compaction"
        );
        assert_eq!(c.rows_after, s.tally_rows().await.unwrap(), "{engine:?}: the rows of every tally table");
        assert!(c.rows_before >= c.rows_after);
        check(s, Some(org), "compacted").await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_restore_rebuilds_the_tallies() {
    for engine in engines() {
        let src = TestDb::with_units(engine).await;
        let admin = system_principal("t");
        for i in 0..40 {
            src.store.create_worker(&admin, &input(i), today()).await.unwrap();
        }
        sqlx::query("UPDATE workers SET status = 'left' WHERE id % 3 = 0").execute(src.store.pool()).await.unwrap();
        let file = std::env::temp_dir().join(format!("komlang-tallies-test-{}-{engine:?}.zip", std::process::id()));
        let m = src.store.backup(&file, &BackupOptions::default()).await.unwrap();
        assert!(m.tables.iter().all(|t| t.name != "worker_tallies"), "derived: not in the backup");
        for target in engines() {
            let dst = TestDb::blank(target).await;
            dst.store.restore(&file).await.unwrap();
            check(&dst.store, None, &format!("{engine:?} restored into {target:?}")).await;
            let (a, _) = tallied_and_counted(&src.store).await;
            let (b, _) = tallied_and_counted(&dst.store).await;
            assert_eq!(a, b);
            if target == Engine::Postgres {
                // Merged after the restore: one row per group.
                assert_eq!(dst.store.worker_tally_rows().await.unwrap(), b.len() as i64);
            }
            dst.cleanup().await;
        }
        let _ = std::fs::remove_file(&file);
        src.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_and_compactions_keep_the_tallies_exact() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let mut tasks = Vec::new();
        for t in 0..4usize {
            let s = db.store.clone();
            tasks.push(tokio::spawn(async move {
                let admin = system_principal("t");
                let mut mine = Vec::new();
                for i in 0..25usize {
                    let k = t * 1000 + i;
                    mine.push(s.create_worker(&admin, &input(k), today()).await.unwrap().id);
                    if i % 3 == 0 {
                        let patch = WorkerInput {
                            workplace_code: Some(UNITS[(k + 1) % 5].into()),
                            status: Some("on_leave".into()),
                            ..Default::default()
                        };
                        s.update_worker(&admin, mine[i / 2], &patch, &WorkerChange::default(), today(), None)
                            .await
                            .unwrap();
                    }
                    if i % 5 == 4 {
                        s.delete_worker(&admin, mine.remove(0), None).await.unwrap();
                    }
                }
            }));
        }
        let s = db.store.clone();
        let compactor = tokio::spawn(async move {
            for _ in 0..20 {
                s.compact_worker_tallies().await.unwrap();
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
        });
        for t in tasks {
            t.await.unwrap();
        }
        compactor.await.unwrap();
        let workers: i64 = sqlx::query("SELECT COUNT(*) FROM workers").fetch_one(db.store.pool()).await.unwrap().get(0);
        assert_eq!(workers, 4 * (25 - 5));
        check(&db.store, None, &format!("{engine:?}: concurrent writers")).await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn certified_and_licensed_count_holders_in_post_once_in_every_scope() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let admin = system_principal("t");
        let mut ids = Vec::new();
        for i in 0..40 {
            ids.push(s.create_worker(&admin, &input(i), today()).await.unwrap().id);
        }
        let programmes: Vec<i64> = sqlx::query("SELECT id FROM training_programmes ORDER BY id LIMIT 2")
            .fetch_all(s.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(programmes.len(), 2);
        for (k, id) in ids.iter().enumerate() {
            // Certificates: one in 3 workers, one in 6 with a second programme, one in 5 revoked.
            for (j, prog) in programmes.iter().enumerate() {
                if k % 3 == 0 && (j == 0 || k % 6 == 0) {
                    let revoked = (k % 5 == 0 && j == 0).then_some("2026-01-01");
                    sqlx::query(
                        "INSERT INTO certificates (number, worker_id, programme_id, level, issued_on, issued_by, \
                         revoked_on, created_at) VALUES ($1, $2, $3, 'certificate', '2025-01-01', 't', $4, '2025-01-01T00:00:00Z')",
                    )
                    .bind(format!("C-{id}-{prog}"))
                    .bind(*id)
                    .bind(*prog)
                    .bind(revoked)
                    .execute(s.pool())
                    .await
                    .unwrap();
                }
            }
            // Licences: active and valid, active but past expiry, suspended.
            let licence = match k % 4 {
                0 => Some(("active", "2027-01-01")),
                1 => Some(("active", "2026-01-01")),
                2 => Some(("suspended", "2027-01-01")),
                _ => None,
            };
            if let Some((status, expires)) = licence {
                sqlx::query(
                    "INSERT INTO licences (worker_id, number, status, applied_on, expires_on, created_at, updated_at) \
                     VALUES ($1, $2, $3, '2024-01-01', $4, '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z')",
                )
                .bind(*id)
                .bind(format!("L-{id}"))
                .bind(status)
                .bind(expires)
                .execute(s.pool())
                .await
                .unwrap();
            }
        }
        holders(s, "issued", true).await;
        // Certificates revoked, one restored, some deleted; a certified worker moved, one
        // leaving, one deleted (their certificates go with them).
        sqlx::query("UPDATE certificates SET revoked_on = '2026-02-01' WHERE id % 2 = 0")
            .execute(s.pool())
            .await
            .unwrap();
        holders(s, "revoked", false).await;
        sqlx::query("UPDATE certificates SET revoked_on = NULL WHERE id = (SELECT MIN(id) FROM certificates)")
            .execute(s.pool())
            .await
            .unwrap();
        holders(s, "restored", false).await;
        sqlx::query("DELETE FROM certificates WHERE id % 3 = 0").execute(s.pool()).await.unwrap();
        holders(s, "certificates deleted", false).await;
        let certified: Vec<i64> =
            sqlx::query("SELECT DISTINCT worker_id FROM certificates WHERE revoked_on IS NULL ORDER BY worker_id")
                .fetch_all(s.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
        assert!(certified.len() >= 3, "{certified:?}");
        let patch = WorkerInput { workplace_code: Some("120101".into()), ..Default::default() };
        s.update_worker(&admin, certified[0], &patch, &WorkerChange::default(), today(), None).await.unwrap();
        let patch = WorkerInput { status: Some("left".into()), ..Default::default() };
        s.update_worker(&admin, certified[1], &patch, &WorkerChange::default(), today(), None).await.unwrap();
        s.delete_worker(&admin, certified[2], None).await.unwrap();
        holders(s, "holders moved, left, deleted", false).await;
        db.cleanup().await;
    }
}

/// The certified and licensed counts equal EXISTS over the records, in every scope, and the
/// tallies the records.
async fn holders(s: &Store, what: &str, some: bool) {
    check(s, None, what).await;
    {
        for (p, cond) in readers(None) {
            let got = s.certified_and_licensed(&p, today()).await.unwrap();
            let count = |holder: &str| {
                format!(
                    "SELECT COUNT(*) FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
                     WHERE {cond} AND w.status IN ('active', 'on_leave') AND EXISTS ({holder})"
                )
            };
            let mut want = [0i64; 2];
            for (k, holder) in [
                "SELECT 1 FROM certificates ce WHERE ce.worker_id = w.id AND ce.revoked_on IS NULL",
                "SELECT 1 FROM licences l WHERE l.worker_id = w.id AND l.status = 'active' AND l.expires_on >= '2026-11-26'",
            ]
            .into_iter()
            .enumerate()
            {
                want[k] = sqlx::query(&count(holder)).fetch_one(s.pool()).await.unwrap().get(0);
            }
            assert_eq!(got, (want[0], want[1]), "{what}: {}", p.username);
            if some && p.scope == Scope::Nation {
                assert!(want[0] > 0 && want[1] > 0, "the data has holders in post");
            }
        }
    }
}
