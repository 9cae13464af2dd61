//! How an import writes its new workers: through `COPY` on PostgreSQL (a
//! staging connection beside the import's transaction), through multi-row
//! `INSERT`s on SQLite; all or nothing on both, whatever fails and wherever;
//! text stored exactly as the file gave it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::NaiveDate;
use komlang_store::testing::{engines, import_options as opts, import_table, TestDb};
use komlang_store::{system_principal, Engine, ImportReport, Store, StoreError, WorkerImportOptions};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).unwrap()
}

const HEADERS: &[&str] = &[
    "Name (Khmer)",
    "Name (Latin)",
    "Sex",
    "Date of birth",
    "National ID",
    "Cadre",
    "Role",
    "Sector",
    "Workplace code",
    "Status",
    "Position title",
    "Phone",
    "Email",
];

/// A row in the [`HEADERS`] layout.
fn row(km: &str, latin: &str, dob: &str, nid: &str, title: &str) -> Vec<String> {
    [
        km,
        latin,
        "F",
        dob,
        nid,
        "para_social_worker",
        "ccwc_focal_point",
        "government",
        "010201",
        "active",
        title,
        "",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `n` distinct people (Latin names hold no digits: the digits of `i` as letters).
fn people(n: usize) -> Vec<Vec<String>> {
    let first = NaiveDate::from_ymd_opt(1960, 1, 1).unwrap();
    (0..n)
        .map(|i| {
            let letters: String =
                i.to_string().chars().map(|d| char::from(b'a' + d.to_digit(10).unwrap() as u8)).collect();
            let dob = first + chrono::Duration::days(i as i64);
            row("សុខ ដារ៉ា", &format!("Sok Dara {letters}"), &dob.to_string(), &format!("{:09}", 300_000_000 + i), "")
        })
        .collect()
}

async fn import(store: &Store, rows: Vec<Vec<String>>, opts: &WorkerImportOptions) -> Result<ImportReport, StoreError> {
    import_table(store, &system_principal("test"), HEADERS, rows, opts, today()).await
}

/// Row counts of every table an import writes, and the staging tables left on PostgreSQL.
async fn state(store: &Store) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for t in ["workers", "worker_dedup_keys", "postings", "status_changes", "imports", "audit_log"] {
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {t}")).fetch_one(store.pool()).await.unwrap().get(0);
        out.push((t.to_string(), n));
    }
    if store.engine() == Engine::Postgres {
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE 'import\\_stage\\_%'")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
        out.push(("staging tables".into(), n));
    }
    out
}

async fn key_pairs(store: &Store) -> Vec<(i64, String)> {
    sqlx::query("SELECT worker_id, key FROM worker_dedup_keys ORDER BY worker_id, key")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn postgres_imports_copy_their_rows_and_sqlite_inserts_them() {
    // Three batches and a bit.
    let n = 3 * komlang_store::READ_BATCH + 17;
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let before = db.store.import_rows_copied();
        let r = import(&db.store, people(n), &opts()).await.unwrap();
        assert!(r.committed && r.rejected.is_empty(), "{engine:?}: {:?}", r.rejected);
        assert_eq!(r.added, n as u64);
        let copied = db.store.import_rows_copied() - before;
        match engine {
            Engine::Postgres => assert_eq!(copied, n as u64, "every new worker goes through COPY"),
            Engine::Sqlite => assert_eq!(copied, 0),
        }
        let s = state(&db.store).await;
        assert_eq!(s[0], ("workers".into(), n as i64));
        assert_eq!(s[2], ("postings".into(), n as i64));
        assert_eq!(s[3], ("status_changes".into(), n as i64));
        if engine == Engine::Postgres {
            assert_eq!(s[6], ("staging tables".into(), 0), "the staging tables are dropped");
        }
        // Workers get ids in the order of the file's rows.
        let ids: Vec<(i64, i64)> = sqlx::query("SELECT id, import_row FROM workers ORDER BY id")
            .fetch_all(db.store.pool())
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert!(ids.windows(2).all(|w| w[0].1 < w[1].1), "{engine:?}");

        // The keys written are those the rules give (the backfill computes them again,
        // one worker at a time, through its own code).
        let written = key_pairs(&db.store).await;
        assert!(written.len() >= 3 * n, "{}", written.len());
        sqlx::query("DELETE FROM worker_dedup_keys").execute(db.store.pool()).await.unwrap();
        sqlx::query("UPDATE meta SET value = 'old' WHERE key = $1")
            .bind(komlang_store::DEDUP_KEYS_FINGERPRINT_KEY)
            .execute(db.store.pool())
            .await
            .unwrap();
        db.store.ensure_dedup_keys().await.unwrap();
        assert_eq!(key_pairs(&db.store).await, written, "{engine:?}");

        // A second import finds the first one's rows as duplicates (through the copied keys).
        let again = import(&db.store, people(n).into_iter().skip(n - 5).collect(), &opts()).await.unwrap();
        assert_eq!((again.added, again.duplicates_skipped), (0, 5), "{engine:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_bad_row_found_late_leaves_the_database_unchanged() {
    let n = 3 * komlang_store::READ_BATCH;
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        import(&db.store, people(3), &opts()).await.unwrap();
        let before = state(&db.store).await;
        let mut rows: Vec<Vec<String>> = people(n + 3).into_iter().skip(3).collect();
        rows[n - 2][3] = "1990-02-30".into();
        let r = import(&db.store, rows.clone(), &opts()).await.unwrap();
        assert!(!r.committed, "{engine:?}");
        assert_eq!(r.rejected.len(), 1);
        assert_eq!(r.rejected[0].row, n as u64);
        assert_eq!(state(&db.store).await, before, "{engine:?}");
        // A dry run of a clean file writes nothing either.
        rows[n - 2][3] = "1990-02-28".into();
        let dry = import(&db.store, rows.clone(), &WorkerImportOptions { dry_run: true, ..opts() }).await.unwrap();
        assert_eq!((dry.committed, dry.added), (false, n as u64), "{engine:?}");
        assert_eq!(state(&db.store).await, before, "{engine:?}");
        let ok = import(&db.store, rows, &opts()).await.unwrap();
        assert!(ok.committed && ok.added == n as u64, "{engine:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_database_error_in_the_middle_leaves_the_database_unchanged() {
    let n = 4 * komlang_store::READ_BATCH;
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        import(&db.store, people(3), &opts()).await.unwrap();
        // The fault: the database refuses one worker of the third batch, as it
        // would on a full disk or a constraint the import did not foresee.
        let trigger = match engine {
            Engine::Sqlite => {
                vec!["CREATE TRIGGER injected_fault BEFORE INSERT ON workers WHEN NEW.name_latin = 'Sok Dara bcaa' \
                 BEGIN SELECT RAISE(ABORT, 'injected fault'); END"
                    .to_string()]
            }
            Engine::Postgres => vec![
                "CREATE FUNCTION injected_fault() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.name_latin = 'Sok Dara bcaa' THEN RAISE EXCEPTION 'injected fault'; END IF; \
                 RETURN NEW; END $$"
                    .to_string(),
                "CREATE TRIGGER injected_fault BEFORE INSERT ON workers FOR EACH ROW EXECUTE FUNCTION injected_fault()"
                    .to_string(),
            ],
        };
        for t in &trigger {
            sqlx::query(t).execute(db.store.pool()).await.unwrap();
        }
        let before = state(&db.store).await;
        let rows: Vec<Vec<String>> = people(n + 3).into_iter().skip(3).collect();
        let err = import(&db.store, rows.clone(), &opts()).await.unwrap_err();
        assert!(err.to_string().contains("injected fault"), "{engine:?}: {err}");
        assert_eq!(state(&db.store).await, before, "{engine:?}");
        // The store works on: the same file goes in once the fault is gone.
        let drop = match engine {
            Engine::Sqlite => "DROP TRIGGER injected_fault",
            Engine::Postgres => "DROP FUNCTION injected_fault() CASCADE",
        };
        sqlx::query(drop).execute(db.store.pool()).await.unwrap();
        let ok = import(&db.store, rows, &opts()).await.unwrap();
        assert!(ok.committed && ok.added == n as u64, "{engine:?}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn staging_tables_of_an_import_that_died_are_dropped_by_the_next() {
    for engine in engines().into_iter().filter(|e| *e == Engine::Postgres) {
        let db = TestDb::with_units(engine).await;
        // What a killed import leaves: its tables, its lock gone with its connection.
        sqlx::query("CREATE UNLOGGED TABLE import_stage_12345 (LIKE workers)").execute(db.store.pool()).await.unwrap();
        sqlx::query("CREATE UNLOGGED TABLE import_stage_12345_keys (import_row BIGINT, key TEXT)")
            .execute(db.store.pool())
            .await
            .unwrap();
        assert_eq!(state(&db.store).await.last().unwrap().1, 2);
        import(&db.store, people(2), &opts()).await.unwrap();
        assert_eq!(state(&db.store).await.last().unwrap().1, 0);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn text_is_stored_exactly_as_the_file_gave_it() {
    // What COPY's text format escapes or might mangle (backslashes, `\N`, quotes,
    // commas) and Khmer with its subscripts and signs, in a free-text column (names
    // refuse quotes and backslashes). Tabs, newlines and other control characters
    // never reach the database: validation refuses them (the round trip of those
    // through COPY itself is tested in `worker_import::copy`).
    let titles = [
        r"C:\new\table \N \\N \t",
        "«ប្រធាន» 'quoted' \"double\", comma; ១២៣",
        "ក្រសួងសង្គមកិច្ច អតីតយុទ្ធជន និងយុវនីតិសម្បទា",
        r"back\slash at the end\",
    ];
    let names = [("ស្រី ពៅ", "Srey Pov"), ("ចាន់ សុភា", "Chan Sophea"), ("ម៉ៅ ស៊ីណាត", "Mao Sinat"), ("អ៊ុំ ឡេង", "Um Leng")];
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let mut rows: Vec<Vec<String>> = names
            .iter()
            .zip(titles)
            .enumerate()
            .map(|(i, ((km, latin), title))| row(km, latin, &format!("198{i}-03-04"), "", title))
            .collect();
        // A tab or a newline in a cell: the row is rejected, the others go in.
        rows.push(row("សុខ ខេង", "Sok Kheng", "1979-01-01", "", "tab\there"));
        rows.push(row("សុខ ខេង", "Sok Kheang", "1979-01-02", "", "new\nline"));
        let r = import(&db.store, rows, &WorkerImportOptions { partial: true, ..opts() }).await.unwrap();
        assert_eq!(r.added, 4, "{engine:?}: {:?}", r.rejected);
        assert_eq!(r.rejected.iter().map(|x| x.row).collect::<Vec<_>>(), vec![6, 7]);
        let stored: Vec<(String, String, Option<String>)> =
            sqlx::query("SELECT name_km, name_latin, position_title FROM workers ORDER BY import_row")
                .fetch_all(db.store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2)))
                .collect();
        let expected: Vec<(String, String, Option<String>)> = names
            .iter()
            .zip(titles)
            .map(|((km, latin), title)| (km.to_string(), latin.to_string(), Some(title.to_string())))
            .collect();
        assert_eq!(stored, expected, "{engine:?}");
        db.cleanup().await;
    }
}

/// Every index of the database: its table, name and definition.
async fn indexes(store: &Store) -> Vec<(String, String, String)> {
    let sql = match store.engine() {
        Engine::Sqlite => {
            "SELECT tbl_name, name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'index' ORDER BY tbl_name, name"
        }
        Engine::Postgres => {
            "SELECT tablename::text, indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema() \
             ORDER BY tablename, indexname"
        }
    };
    sqlx::query(sql).fetch_all(store.pool()).await.unwrap().iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect()
}

/// The ids the list finds for a search, and the total of a commune's list.
async fn found(store: &Store, q: &str, commune: &str) -> (Vec<i64>, i64, i64) {
    let p = system_principal("test");
    let by_name = store
        .list_workers(&p, &komlang_store::WorkerQuery { q: Some(q.into()), per_page: 500, ..Default::default() })
        .await
        .unwrap();
    let by_place = store
        .list_workers(&p, &komlang_store::WorkerQuery { commune: Some(commune.into()), ..Default::default() })
        .await
        .unwrap();
    (by_name.items.iter().map(|w| w.id).collect(), by_name.total, by_place.total)
}

#[tokio::test]
async fn a_big_sqlite_import_takes_its_indexes_off_and_builds_them_again() {
    let n = 5 * komlang_store::READ_BATCH + 17;
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        // Big from the second batch on (the default waits for 50,000 rows).
        let store = db.store.clone().with_index_deferral_after(komlang_store::READ_BATCH as u64 + 1);
        let schema = indexes(&store).await;
        assert!(schema.iter().any(|(_, name, _)| name == "workers_search_key"), "{schema:?}");
        let deferred = |s: &Store| s.imports_with_deferred_indexes();

        // A late bad row: nothing written, the indexes as they were.
        let mut rows = people(n);
        rows[n - 3][3] = "1990-02-30".into();
        let r = import(&store, rows.clone(), &opts()).await.unwrap();
        assert!(!r.committed, "{engine:?}");
        assert_eq!(indexes(&store).await, schema, "{engine:?}: a failed import leaves every index");
        // A dry run neither.
        rows[n - 3][3] = "1990-02-28".into();
        let dry = import(&store, rows.clone(), &WorkerImportOptions { dry_run: true, ..opts() }).await.unwrap();
        assert_eq!((dry.committed, dry.added), (false, n as u64), "{engine:?}");
        assert_eq!(indexes(&store).await, schema, "{engine:?}: a dry run leaves every index");
        assert_eq!(deferred(&store), 0, "{engine:?}: only a committed import builds indexes again");

        let r = import(&store, rows, &opts()).await.unwrap();
        assert!(r.committed && r.added == n as u64, "{engine:?}: {:?}", r.rejected);
        assert_eq!(deferred(&store), u64::from(engine == Engine::Sqlite), "{engine:?}: SQLite only");
        assert_eq!(indexes(&store).await, schema, "{engine:?}: every index is back, as it was defined");
        if engine == Engine::Sqlite {
            // Each index holds exactly the rows of its table.
            let check: String = sqlx::query("PRAGMA integrity_check").fetch_one(store.pool()).await.unwrap().get(0);
            assert_eq!(check, "ok");
        }
        // Searches and lists answer from the rebuilt indexes what the rows hold.
        let (ids, total, in_place) = found(&store, "Dara bca", "010201").await;
        let expected: Vec<i64> =
            sqlx::query("SELECT id FROM workers WHERE name_latin LIKE 'Sok Dara bca%' ORDER BY name_latin, id")
                .fetch_all(store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
        assert!(!expected.is_empty());
        assert_eq!((ids, total), (expected.clone(), expected.len() as i64), "{engine:?}");
        assert_eq!(in_place, n as i64, "{engine:?}");

        // An import of more rows than the least, but fewer than a quarter of the registry now
        // there (629), takes nothing off.
        let more: Vec<Vec<String>> = people(n + 600).into_iter().skip(n).collect();
        let r = import(&store, more, &opts()).await.unwrap();
        assert!(r.committed && r.added == 600, "{engine:?}");
        assert_eq!(deferred(&store), u64::from(engine == Engine::Sqlite), "{engine:?}");
        db.cleanup().await;
    }
}
