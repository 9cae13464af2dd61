//! Whole-instance backup and restore (docs/backup.md) on every engine: the demo moves from
//! SQLite to PostgreSQL and back with every row, id and timestamp; a backup taken while
//! writers run is one moment; a damaged, newer or misplaced backup changes nothing; the list
//! of tables follows the migrations.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use chrono::NaiveDate;
use komlang_core::validate::{OrgInput, WorkerInput};
use komlang_store::backup::{verify_backup, BackupError, BackupOptions, TABLES};
use komlang_store::testing::{engines, TestDb};
use komlang_store::{system_principal, Engine, LoginOutcome, Store, DEMO_PASSWORD};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("komlang-backup-test-{}-{name}", std::process::id()))
}

/// The tables of the live schema, read without the backup's code.
async fn schema_tables(store: &Store) -> Vec<String> {
    let sql = match store.engine() {
        // Ordinary tables: not the search index (an FTS5 virtual table and its shadow tables),
        // which is derived from `workers` and no backup carries.
        Engine::Sqlite => {
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        Engine::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE'"
        }
    };
    let mut names: Vec<String> = sqlx::query(sql)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>(0))
        .filter(|n| n != "_sqlx_migrations")
        .collect();
    names.sort();
    names
}

/// Every row of every table (the rows sorted, each value with its kind), read without the
/// backup's code: what two databases must agree on.
async fn dump(store: &Store) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for t in schema_tables(store).await {
        if !TABLES.iter().any(|s| s.name == t && s.carried) {
            continue;
        }
        let rows = sqlx::query(&format!("SELECT * FROM {t}")).fetch_all(store.pool()).await.unwrap();
        let mut lines: Vec<String> = rows
            .iter()
            .map(|r| {
                let mut cells: Vec<String> = (0..r.len())
                    .map(|i| {
                        let name = sqlx::Column::name(&r.columns()[i]).to_string();
                        let v = if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
                            v.map_or("null".into(), |v| format!("i:{v}"))
                        } else if let Ok(v) = r.try_get::<Option<f64>, _>(i) {
                            v.map_or("null".into(), |v| format!("f:{v:?}"))
                        } else if let Ok(v) = r.try_get::<Option<String>, _>(i) {
                            v.map_or("null".into(), |v| format!("t:{v}"))
                        } else {
                            let v: Option<Vec<u8>> = r.try_get(i).unwrap();
                            v.map_or("null".into(), |v| format!("b:{v:?}"))
                        };
                        format!("{name}={v}")
                    })
                    .collect();
                // Columns in one order whatever the engine's.
                cells.sort();
                cells.join("|")
            })
            .collect();
        lines.sort();
        out.insert(t, lines);
    }
    out
}

#[track_caller]
fn assert_same(a: &BTreeMap<String, Vec<String>>, b: &BTreeMap<String, Vec<String>>, what: &str) {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "{what}: tables");
    for (t, rows) in a {
        let other = &b[t];
        assert_eq!(rows.len(), other.len(), "{what}: rows of {t}");
        for (x, y) in rows.iter().zip(other) {
            assert_eq!(x, y, "{what}: a row of {t}");
        }
    }
}

async fn scalar(store: &Store, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(store.pool()).await.unwrap().get(0)
}

/// Records the demo lacks: a stored import file (bytes of every value), a real number, a
/// token, a sign-in with a known device, a session (not carried).
async fn add_the_rest(store: &Store) -> String {
    let bytes: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
    sqlx::query(
        "INSERT INTO import_files (created_at, user_id, username, file_name, sha256, size, bytes) \
         VALUES ('2026-11-26T08:00:00Z', NULL, 'cli', 'staff.xlsx', 'abc', $1, $2)",
    )
    .bind(bytes.len() as i64)
    .bind(bytes)
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO planning_indicators (admin_code, name, year, value, recorded_by, recorded_at) \
         VALUES ('02', 'poverty', 2025, $1, 'cli', '2026-11-26T08:00:00Z'), \
         ('12', 'poverty', 2025, $2, 'cli', '2026-11-26T08:00:00Z')",
    )
    .bind(0.1f64 + 0.2)
    .bind(-1.0e-300f64)
    .execute(store.pool())
    .await
    .unwrap();
    let token = store.create_token("admin").await.unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(matches!(store.login("admin", DEMO_PASSWORD, "10.0.0.1", now).await.unwrap(), LoginOutcome::Ok(_)));
    let admin = store.user_by_name("admin").await.unwrap().unwrap();
    store.remember_device(admin.id, None, now).await.unwrap();
    sqlx::query("INSERT INTO sessions (id, data, expires_at, user_id) VALUES ('s1', '{}', $1, $2)")
        .bind(now + 3600)
        .bind(admin.id)
        .execute(store.pool())
        .await
        .unwrap();
    token
}

#[tokio::test]
async fn the_backup_knows_every_table_of_the_schema() {
    let mut listed: Vec<String> = TABLES.iter().map(|t| t.name.to_string()).collect();
    listed.sort();
    for engine in engines() {
        let db = TestDb::empty(engine).await;
        assert_eq!(
            schema_tables(&db.store).await,
            listed,
            "{engine:?}: a migration added or dropped a table: list it in komlang-store/src/backup/tables.rs \
             (TABLES), after the tables it refers to"
        );
        db.cleanup().await;
    }
}

#[tokio::test]
async fn tables_are_listed_after_the_tables_they_refer_to() {
    let at = |name: &str| TABLES.iter().position(|t| t.name == name).unwrap_or_else(|| panic!("{name} not listed"));
    for engine in engines() {
        let db = TestDb::empty(engine).await;
        let refs: Vec<(String, String, String)> = match engine {
            Engine::Sqlite => {
                let mut out = Vec::new();
                for t in TABLES {
                    let sql = "SELECT \"table\", \"from\" FROM pragma_foreign_key_list($1)";
                    for r in sqlx::query(sql).bind(t.name).fetch_all(db.store.pool()).await.unwrap() {
                        out.push((t.name.to_string(), r.get(0), r.get(1)));
                    }
                }
                out
            }
            Engine::Postgres => sqlx::query(
                "SELECT conrelid::regclass::text, confrelid::regclass::text, a.attname::text FROM pg_constraint c \
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] WHERE c.contype = 'f'",
            )
            .fetch_all(db.store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect(),
        };
        assert!(refs.len() > 30, "{engine:?}: {} foreign keys", refs.len());
        for (from, to, column) in refs {
            let spec = &TABLES[at(&from)];
            if from == to {
                assert!(spec.self_refs.contains(&column.as_str()), "{engine:?}: {from}.{column}: list it in self_refs");
            } else {
                assert!(at(&to) < at(&from), "{engine:?}: {from} refers to {to}: list {to} first");
                assert!(
                    TABLES[at(&to)].carried || !spec.carried,
                    "{engine:?}: {from} is carried, {to} it refers to is not"
                );
            }
        }
        db.cleanup().await;
    }
}

#[tokio::test]
async fn the_demo_moves_between_engines_with_every_row_id_and_timestamp() {
    let all = engines();
    // SQLite → PostgreSQL → SQLite with both engines; one engine to itself otherwise.
    let first = all[0];
    let second = *all.get(1).unwrap_or(&first);

    let source = TestDb::empty(first).await;
    source.store.load_demo(today()).await.unwrap();
    let token = add_the_rest(&source.store).await;
    let ratings = scalar(&source.store, "SELECT COUNT(*) FROM competency_ratings").await;
    assert!(ratings > 100_000, "{ratings} ratings");
    let file1 = temp_file("move-1.zip");
    let m1 = source.store.backup(&file1, &BackupOptions::default()).await.unwrap();
    assert_eq!(m1.engine, if first == Engine::Sqlite { "sqlite" } else { "postgres" });
    assert_eq!(
        m1.not_carried,
        [
            "sessions",
            "rate_limits",
            "worker_tallies",
            "staff_tallies",
            "post_tallies",
            "post_fill_tallies",
            "history_tallies",
            "fhir_changes",
            "field_changes"
        ]
    );
    assert_eq!(m1.tables.iter().find(|t| t.name == "competency_ratings").unwrap().rows, ratings as u64);
    assert!(!file1.with_extension("zip.part").exists());
    let original = dump(&source.store).await;
    assert!(original["import_files"].iter().any(|r| r.contains("b:[0, 1, 2")), "{:?}", original["import_files"]);
    assert!(original["planning_indicators"].iter().any(|r| r.contains("f:0.30000000000000004")));

    // Into the other engine, after `komlang migrate` loaded its reference data there.
    let middle = TestDb::empty(second).await;
    middle.store.ensure_reference_data().await.unwrap();
    let summary = middle.store.restore(&file1).await.unwrap();
    assert_eq!(summary.tables.iter().map(|t| t.1).sum::<u64>(), m1.total_rows());
    assert_same(&original, &dump(&middle.store).await, "first restore");
    assert_eq!(scalar(&middle.store, "SELECT COUNT(*) FROM sessions").await, 0, "sessions are not carried");
    let file2 = temp_file("move-2.zip");
    let m2 = middle.store.backup(&file2, &BackupOptions { page_rows: 333 }).await.unwrap();
    assert_eq!(
        m1.tables.iter().map(|t| (&t.name, t.rows, &t.sha256)).collect::<Vec<_>>(),
        m2.tables.iter().map(|t| (&t.name, t.rows, &t.sha256)).collect::<Vec<_>>(),
        "the same rows, byte for byte, from either engine"
    );

    // Back into a new database that has not even a schema.
    let last = TestDb::blank(first).await;
    last.store.restore(&file2).await.unwrap();
    assert_same(&original, &dump(&last.store).await, "second restore");

    for db in [&middle, &last] {
        let store = &db.store;
        // Accounts, passwords and tokens work; new records get fresh ids.
        let now = chrono::Utc::now().timestamp();
        assert!(matches!(store.login("sangke", DEMO_PASSWORD, "10.0.0.2", now).await.unwrap(), LoginOutcome::Ok(_)));
        let p = store.principal_for_token(&token).await.unwrap().expect("the token still works");
        assert_eq!(p.username, "admin");
        let max_org = scalar(store, "SELECT MAX(id) FROM organizations").await;
        let org = store
            .create_org(
                &system_principal("test"),
                &OrgInput {
                    name_en: Some("After the move".into()),
                    kind: Some("ngo".into()),
                    admin_code: Some("12".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(org.org.id, max_org + 1, "{:?}", store.engine());
        let max_audit = scalar(store, "SELECT MAX(id) FROM audit_log").await;
        let max_worker = scalar(store, "SELECT MAX(id) FROM workers").await;
        let w = worker("After", "After the move");
        let w = store.create_worker(&system_principal("test"), &w, today()).await.unwrap();
        assert_eq!(w.id, max_worker + 1);
        assert!(scalar(store, "SELECT MAX(id) FROM audit_log").await > max_audit);
    }
    for f in [&file1, &file2] {
        let _ = std::fs::remove_file(f);
    }
    source.cleanup().await;
    middle.cleanup().await;
    last.cleanup().await;
}

fn worker(name_km: &str, name_latin: &str) -> WorkerInput {
    WorkerInput {
        name_km: Some(name_km.into()),
        name_latin: Some(name_latin.into()),
        sex: Some("female".into()),
        date_of_birth: Some("1988-02-03".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some("020801".into()),
        status: Some("active".into()),
        start_date: Some("2019-01-15".into()),
        ..Default::default()
    }
}

/// A number as Latin letters (names take no digits): 120 → "Bca".
fn letters(n: u64) -> String {
    let s: String = n.to_string().chars().map(|c| (b'a' + c.to_digit(10).unwrap() as u8) as char).collect();
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

#[tokio::test]
async fn a_backup_taken_while_writers_run_is_one_moment() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let p = system_principal("writer");
        for i in 0..150u64 {
            db.store.create_worker(&p, &worker("ក", &format!("Before {}", letters(i))), today()).await.unwrap();
        }
        // Writers add workers (worker, posting, status, audit entry: one transaction each) and
        // delete some (the same rows go, with an audit entry) for as long as the backup runs.
        let stop = Arc::new(AtomicBool::new(false));
        let writes = Arc::new(AtomicU64::new(0));
        let mut writers = Vec::new();
        for n in 0..2u64 {
            let (store, stop, writes) = (db.store.clone(), stop.clone(), writes.clone());
            writers.push(tokio::spawn(async move {
                let p = system_principal("writer");
                let mut i = 0u64;
                // Each writer deletes only what it added itself: the other writer's worker
                // could go between its creation and the read that answers it.
                let mut previous = None;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let w = store
                        .create_worker(&p, &worker("ខ", &format!("During {} {}", letters(n), letters(i))), today())
                        .await
                        .unwrap();
                    if i.is_multiple_of(3) {
                        if let Some(id) = previous {
                            store.delete_worker(&p, id, None).await.unwrap();
                        }
                    }
                    previous = Some(w.id);
                    writes.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
        while writes.load(Ordering::SeqCst) < 5 {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let file = temp_file(&format!("busy-{engine:?}.zip"));
        // Until a backup overlaps a few writes (a busy machine may starve the writers).
        let (mut manifest, mut during) = (None, 0);
        for _ in 0..20 {
            let before = writes.load(Ordering::SeqCst);
            manifest = Some(db.store.backup(&file, &BackupOptions { page_rows: 7 }).await.unwrap());
            during = writes.load(Ordering::SeqCst) - before;
            if during >= 3 {
                break;
            }
        }
        let manifest = manifest.unwrap();
        stop.store(true, Ordering::SeqCst);
        for w in writers {
            w.await.unwrap();
        }
        assert!(during >= 3, "{engine:?}: only {during} writes while the backup ran");

        // The manifest's counts are the rows in the file.
        let mut zip = zip::ZipArchive::new(std::fs::File::open(&file).unwrap()).unwrap();
        for t in &manifest.tables {
            let mut text = String::new();
            zip.by_name(&t.file).unwrap().read_to_string(&mut text).unwrap();
            assert_eq!(text.lines().count() as u64, t.rows, "{engine:?}: {}", t.name);
        }
        verify_backup(&file).unwrap();

        // Restored (foreign keys checked as the rows go in), the records agree with each other:
        // every worker with their posting, status and audit entry, every audited creation
        // with its worker unless audited as deleted.
        let copy = TestDb::blank(engine).await;
        copy.store.restore(&file).await.unwrap();
        let s = &copy.store;
        let workers = scalar(s, "SELECT COUNT(*) FROM workers").await;
        assert_eq!(workers as u64, manifest.tables.iter().find(|t| t.name == "workers").unwrap().rows);
        for (what, sql) in [
            ("workers without a posting", "SELECT COUNT(*) FROM workers w WHERE NOT EXISTS (SELECT 1 FROM postings p WHERE p.worker_id = w.id)"),
            ("workers without a status", "SELECT COUNT(*) FROM workers w WHERE NOT EXISTS (SELECT 1 FROM status_changes c WHERE c.worker_id = w.id)"),
            (
                "workers without their audit entry",
                "SELECT COUNT(*) FROM workers w WHERE NOT EXISTS (SELECT 1 FROM audit_log a \
                 WHERE a.entity = 'worker' AND a.action = 'create' AND a.entity_id = CAST(w.id AS TEXT))",
            ),
            (
                "audited workers missing",
                "SELECT COUNT(*) FROM audit_log a WHERE a.entity = 'worker' AND a.action = 'create' \
                 AND NOT EXISTS (SELECT 1 FROM workers w WHERE CAST(w.id AS TEXT) = a.entity_id) \
                 AND NOT EXISTS (SELECT 1 FROM audit_log d WHERE d.entity = 'worker' AND d.action = 'delete' \
                 AND d.entity_id = a.entity_id)",
            ),
            (
                "deleted workers still there",
                "SELECT COUNT(*) FROM audit_log d WHERE d.entity = 'worker' AND d.action = 'delete' \
                 AND EXISTS (SELECT 1 FROM workers w WHERE CAST(w.id AS TEXT) = d.entity_id)",
            ),
        ] {
            assert_eq!(scalar(s, sql).await, 0, "{engine:?}: {what}");
        }
        if engine == Engine::Sqlite {
            let broken = sqlx::query("PRAGMA foreign_key_check").fetch_all(s.pool()).await.unwrap();
            assert!(broken.is_empty(), "{} rows break a foreign key", broken.len());
        }
        let _ = std::fs::remove_file(&file);
        copy.cleanup().await;
        db.cleanup().await;
    }
}

/// A small instance: units, an organization, a worker, an account.
async fn small(engine: Engine) -> TestDb {
    let db = TestDb::with_units(engine).await;
    let p = system_principal("test");
    db.store
        .create_org(
            &p,
            &OrgInput {
                name_en: Some("Friends".into()),
                kind: Some("ngo".into()),
                admin_code: Some("12".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    db.store.create_worker(&p, &worker("ក", "Sok"), today()).await.unwrap();
    db
}

/// Copies a zip, changing entries: `f(name, bytes)` gives the new bytes or None to leave the
/// entry out.
fn rewrite(from: &Path, to: &Path, mut f: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>) {
    let mut src = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for i in 0..src.len() {
        let mut e = src.by_index(i).unwrap();
        let name = e.name().to_string();
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes).unwrap();
        if let Some(bytes) = f(&name, bytes) {
            out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
            out.write_all(&bytes).unwrap();
        }
    }
    out.finish().unwrap();
}

fn manifest_with(file: &Path, to: &Path, change: impl Fn(&mut serde_json::Value)) {
    rewrite(file, to, |name, bytes| {
        if name != "manifest.json" {
            return Some(bytes);
        }
        let mut m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        change(&mut m);
        Some(serde_json::to_vec(&m).unwrap())
    });
}

#[tokio::test]
async fn a_damaged_newer_or_misdirected_backup_changes_nothing() {
    for engine in engines() {
        let db = small(engine).await;
        let file = temp_file(&format!("good-{engine:?}.zip"));
        db.store.backup(&file, &BackupOptions::default()).await.unwrap();

        let bad = temp_file(&format!("bad-{engine:?}.zip"));
        let refused = |e: BackupError| e.to_string();
        // One name changed in the rows: the table's SHA-256 differs.
        rewrite(&file, &bad, |name, bytes| {
            if name == "tables/workers.jsonl" {
                Some(String::from_utf8(bytes).unwrap().replace("Sok", "Som").into_bytes())
            } else {
                Some(bytes)
            }
        });
        let mut damaged = vec![(bad.clone(), "tables/workers.jsonl: its SHA-256 is not the manifest's")];
        // A table left out, with its manifest entry: the schema has it.
        let no_postings = temp_file(&format!("no-postings-{engine:?}.zip"));
        rewrite(&file, &no_postings, |name, bytes| {
            if name == "tables/postings.jsonl" {
                return None;
            }
            if name != "manifest.json" {
                return Some(bytes);
            }
            let mut m: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            m["tables"].as_array_mut().unwrap().retain(|t| t["name"] != "postings");
            Some(serde_json::to_vec(&m).unwrap())
        });
        damaged.push((no_postings.clone(), "it has no table postings"));
        // A count that is not the file's.
        let count = temp_file(&format!("count-{engine:?}.zip"));
        manifest_with(&file, &count, |m| {
            let t = m["tables"].as_array_mut().unwrap().iter_mut().find(|t| t["name"] == "workers").unwrap();
            t["rows"] = serde_json::json!(2);
        });
        damaged.push((count.clone(), "tables/workers.jsonl: 1 rows, the manifest says 2"));
        // Bytes flipped in the middle of the file, and a file cut short.
        let bytes = std::fs::read(&file).unwrap();
        let flipped = temp_file(&format!("flipped-{engine:?}.zip"));
        let mut b = bytes.clone();
        let mid = b.len() / 3;
        for x in &mut b[mid..mid + 16] {
            *x ^= 0x5a;
        }
        std::fs::write(&flipped, b).unwrap();
        damaged.push((flipped.clone(), ""));
        let cut = temp_file(&format!("cut-{engine:?}.zip"));
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        damaged.push((cut.clone(), "not a Komlang backup"));

        let target = TestDb::blank(engine).await;
        for (f, expected) in &damaged {
            let e = refused(target.store.restore(f).await.unwrap_err());
            assert!(e.contains(expected), "{engine:?} {}: {e}", f.display());
            assert!(verify_backup(f).is_err());
            assert!(
                schema_tables(&target.store).await.is_empty(),
                "{engine:?} {}: the target was written",
                f.display()
            );
        }

        // Newer than this Komlang: refused, saying which Komlang wrote it.
        let newer = temp_file(&format!("newer-{engine:?}.zip"));
        manifest_with(&file, &newer, |m| {
            m["format_version"] = serde_json::json!(2);
            m["komlang_version"] = serde_json::json!("9.1.0");
            m["tables"] = serde_json::json!("something else entirely");
        });
        let e = refused(target.store.restore(&newer).await.unwrap_err());
        assert!(e.contains("format version 2") && e.contains("Komlang 9.1.0 or newer"), "{e}");
        manifest_with(&file, &newer, |m| m["schema_version"] = serde_json::json!(9999));
        let e = refused(target.store.restore(&newer).await.unwrap_err());
        assert!(e.contains("schema version 9999") && e.contains("knows schema versions up to"), "{e}");
        assert!(schema_tables(&target.store).await.is_empty());

        // A database with records is refused, and keeps them.
        let busy = small(engine).await;
        busy.store
            .create_user(
                &system_principal("test"),
                &komlang_store::NewUser {
                    username: "someone".into(),
                    password: "correct horse".into(),
                    role: komlang_core::UserRole::NationalViewer,
                    scope_code: None,
                    org_id: None,
                    worker_id: None,
                },
            )
            .await
            .unwrap();
        let before = dump(&busy.store).await;
        let e = refused(busy.store.restore(&file).await.unwrap_err());
        assert!(
            e.contains("not empty") && e.contains("1 row in workers") && e.contains("1 row in users"),
            "{engine:?}: {e}"
        );
        assert_same(&before, &dump(&busy.store).await, "a refused restore");

        // The good file restores where the bad ones did not.
        target.store.restore(&file).await.unwrap();
        assert_same(&dump(&db.store).await, &dump(&target.store).await, "the good file");
        // ... and not twice.
        let e = refused(target.store.restore(&file).await.unwrap_err());
        assert!(e.contains("not empty"), "{e}");

        for f in [&file, &bad, &no_postings, &count, &flipped, &cut, &newer] {
            let _ = std::fs::remove_file(f);
        }
        for d in [db, target, busy] {
            d.cleanup().await;
        }
    }
}

#[tokio::test]
async fn a_backup_of_an_older_schema_restores_and_is_brought_up_to_date() {
    for engine in engines() {
        let old = TestDb::blank(engine).await;
        old.migrate_to(6).await;
        let pool = old.store.pool();
        for sql in [
            "INSERT INTO admin_units (code, level, parent_code, name_km, name_en) VALUES ('KH', 'country', NULL, 'កម្ពុជា', 'Cambodia')",
            "INSERT INTO admin_units (code, level, parent_code, name_km, name_en, province_code) VALUES ('01', 'province', 'KH', 'បន្ទាយមានជ័យ', 'Banteay Meanchey', '01')",
            "INSERT INTO users (id, username, password_hash, role, active, created_at) VALUES (41, 'old', 'x', 'national-admin', 1, '2025-01-01T00:00:00Z')",
            "INSERT INTO api_tokens (id, user_id, token_hash, created_at) VALUES (7, 41, 'h', '2025-01-02T00:00:00Z')",
            "INSERT INTO sessions (id, data, expires_at) VALUES ('anonymous', '{}', 0)",
            "INSERT INTO workers (id, name_km, name_latin, sex, cadre, role, sector, workplace_code, status, \
             created_at, updated_at) VALUES (5, 'សុខ ដារ៉ា', 'SOK Dara', 'female', 'para_social_worker', \
             'ccwc_focal_point', 'government', '01', 'active', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')",
        ] {
            sqlx::query(sql).execute(pool).await.unwrap();
        }
        let file = temp_file(&format!("old-{engine:?}.zip"));
        let m = old.store.backup(&file, &BackupOptions::default()).await.unwrap();
        assert_eq!(m.schema_version, 6);
        assert!(!m.tables.iter().any(|t| t.name == "known_devices"));

        // A target already at a newer version is refused; a new one takes it.
        let newer = TestDb::empty(engine).await;
        let e = newer.store.restore(&file).await.unwrap_err().to_string();
        let latest = komlang_store::backup::latest_schema_version();
        assert!(e.contains(&format!("schema version {latest}, newer than the backup's 6")), "{e}");
        let target = TestDb::blank(engine).await;
        target.store.restore(&file).await.unwrap();
        let s = &target.store;
        assert_eq!(scalar(s, "SELECT MAX(version) FROM _sqlx_migrations").await, latest);
        // The worker restored from before the search keys gets them, and is found.
        let q = komlang_store::WorkerQuery { q: Some("sok d".into()), ..Default::default() };
        let found = s.list_workers(&komlang_store::system_principal("t"), &q).await.unwrap();
        assert_eq!(found.items.iter().map(|w| w.id).collect::<Vec<_>>(), vec![5], "{engine:?}");
        assert_eq!(scalar(s, "SELECT COUNT(*) FROM users WHERE id = 41 AND last_login_at IS NULL").await, 1);
        assert_eq!(
            scalar(s, "SELECT COUNT(*) FROM api_tokens WHERE id = 7 AND user_id = 41 AND label IS NULL").await,
            1
        );
        assert_eq!(scalar(s, "SELECT COUNT(*) FROM admin_units WHERE code = '01' AND parent_code = 'KH'").await, 1);
        assert_eq!(scalar(s, "SELECT COUNT(*) FROM known_devices").await, 0);
        // The default training catalogue arrives as with any upgrade.
        assert!(scalar(s, "SELECT COUNT(*) FROM training_programmes").await > 0);
        let _ = std::fs::remove_file(&file);
        for d in [old, newer, target] {
            d.cleanup().await;
        }
    }
}

/// A backup onto a full disk fails saying so (not "the writer stopped"), and leaves neither
/// the file nor its `.part`.
#[tokio::test]
async fn a_backup_onto_a_full_disk_says_so_and_leaves_no_file() {
    let Some(dir) = std::env::var_os("KOMLANG_TEST_SMALL_FS").map(PathBuf::from) else {
        eprintln!("skipped: set KOMLANG_TEST_SMALL_FS to a small empty filesystem (.ci/run does)");
        return;
    };
    let dir = dir.join(format!("full-backup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = small(engines()[0]).await;
    let filler = dir.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).and_then(|()| f.sync_all()).is_ok() {}
    }
    let out = dir.join("komlang.zip");
    let e = db.store.backup(&out, &BackupOptions::default()).await.unwrap_err().to_string();
    let _ = std::fs::remove_file(&filler);
    assert!(e.contains("No space left on device"), "{e}");
    assert!(!out.exists() && !dir.join("komlang.zip.part").exists());
    let _ = std::fs::remove_dir_all(&dir);
    db.cleanup().await;
}
