//! Throw-away databases for tests, on every engine the suite runs against.
//!
//! `KOMLANG_TEST_ENGINES` (default `sqlite,postgres`) picks the engines;
//! `KOMLANG_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! is a PostgreSQL database in which fresh databases may be created.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::sync::atomic::{AtomicU64, Ordering};

use komlang_core::AdminLevel;
use rand::Rng;

use crate::{bundled_cambodia_units, Engine, Store};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// An account of `role` whose scope is the unit `code` of `level` (a provincial or district
/// officer), as the store sees it.
pub fn officer(role: komlang_core::UserRole, code: &str, level: AdminLevel) -> komlang_core::Principal {
    komlang_core::Principal {
        user_id: 0,
        username: format!("{}-{code}", role.code()),
        role,
        scope: komlang_core::Scope::Unit { code: code.into(), level },
        org_id: None,
        worker_id: None,
    }
}

/// A fresh, migrated database, removed when the value is dropped (also when a test fails
/// half-way) or earlier by [`TestDb::cleanup`], which closes the connections gracefully.
pub struct TestDb {
    pub store: Store,
    pub engine: Engine,
    pub url: String,
    pg_admin: Option<(String, String)>,
    sqlite_file: Option<std::path::PathBuf>,
}

pub fn pg_admin_url() -> String {
    std::env::var("KOMLANG_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Engines selected for this test run: [`parse_engines`] of `KOMLANG_TEST_ENGINES`
/// (default `sqlite,postgres`).
pub fn engines() -> Vec<Engine> {
    match std::env::var("KOMLANG_TEST_ENGINES") {
        Ok(spec) => parse_engines(&spec),
        Err(std::env::VarError::NotPresent) => parse_engines("sqlite,postgres"),
        Err(e) => panic!("KOMLANG_TEST_ENGINES: {e}"),
    }
}

/// Names [`parse_engines`] accepts.
pub const ENGINE_NAMES: &str = "sqlite, postgres (or postgresql)";

/// The engines of a comma-separated list such as `sqlite,postgres`, in order, each once.
///
/// Panics on an empty list or an entry it does not know, naming it: a misspelt engine
/// (`postgress`) would otherwise run every engine loop zero times, or skip that engine, and
/// the tests would pass without testing anything.
pub fn parse_engines(spec: &str) -> Vec<Engine> {
    if spec.trim().is_empty() {
        panic!("KOMLANG_TEST_ENGINES is empty: name at least one engine of {ENGINE_NAMES}");
    }
    let mut out = Vec::new();
    for entry in spec.split(',') {
        let engine = match entry.trim().to_ascii_lowercase().as_str() {
            "sqlite" => Engine::Sqlite,
            "postgres" | "postgresql" => Engine::Postgres,
            _ => panic!("KOMLANG_TEST_ENGINES={spec:?}: unknown engine {entry:?}; accepted: {ENGINE_NAMES}"),
        };
        if !out.contains(&engine) {
            out.push(engine);
        }
    }
    out
}

fn unique_name() -> String {
    format!(
        "komlang_test_{}_{}_{:08x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        rand::thread_rng().gen::<u32>()
    )
}

impl TestDb {
    /// An empty migrated database (no admin units).
    pub async fn empty(engine: Engine) -> TestDb {
        let db = TestDb::blank(engine).await;
        db.store.migrate().await.expect("migrate the test database");
        db
    }

    /// A new database without even a schema (what `createdb` or a new SQLite file gives).
    pub async fn blank(engine: Engine) -> TestDb {
        let name = unique_name();
        match engine {
            Engine::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = format!("sqlite://{}", path.display());
                let store = Store::connect(&url).await.expect("open sqlite test database");
                TestDb { store, engine, url, pg_admin: None, sqlite_file: Some(path) }
            }
            Engine::Postgres => {
                let admin_url = pg_admin_url();
                let admin = Store::connect(&admin_url).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is needed for the tests at {admin_url} ({e}); start it or set KOMLANG_TEST_ENGINES=sqlite")
                });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(admin.pool())
                    .await
                    .expect("create test database");
                admin.close().await;
                let scheme_end = admin_url.find("://").map(|i| i + 3).unwrap_or(0);
                let base = admin_url.split('?').next().unwrap_or(&admin_url);
                let url = match base.rfind('/') {
                    Some(i) if i >= scheme_end => format!("{}/{name}", &base[..i]),
                    _ => format!("{base}/{name}"),
                };
                let store = Store::connect(&url).await.expect("open postgres test database");
                TestDb { store, engine, url, pg_admin: Some((admin_url, name)), sqlite_file: None }
            }
        }
    }

    /// Brings a [`TestDb::blank`] database to an older schema version: the migrations up to
    /// `version`, copied from the migrations folder (an upgrade's starting point).
    pub async fn migrate_to(&self, version: i64) {
        let engine = match self.engine {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        };
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(engine);
        let dir = std::env::temp_dir().join(format!("{}-migrations-{version}", unique_name()));
        std::fs::create_dir_all(&dir).expect("a folder for the migrations");
        for e in std::fs::read_dir(&src).expect("the migrations folder") {
            let e = e.expect("a migration");
            let name = e.file_name().into_string().expect("a migration's name");
            if name.get(..4).and_then(|v| v.parse::<i64>().ok()).is_some_and(|v| v <= version) {
                std::fs::copy(e.path(), dir.join(name)).expect("copy a migration");
            }
        }
        let migrator = sqlx::migrate::Migrator::new(dir.as_path()).await.expect("read the migrations");
        migrator.run(self.store.pool()).await.expect("migrate to the older version");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A migrated database with Cambodia's provinces, districts and communes
    /// (villages left out to keep tests quick).
    pub async fn with_units(engine: Engine) -> TestDb {
        let db = TestDb::empty(engine).await;
        let units: Vec<_> = bundled_cambodia_units().into_iter().filter(|u| u.level != AdminLevel::Village).collect();
        db.store.load_admin_units(&units).await.expect("load admin units");
        db
    }

    /// Closes the connections and removes the database (the file and its journals, or the
    /// PostgreSQL database).
    pub async fn cleanup(mut self) {
        self.store.close().await;
        remove(self.sqlite_file.take(), self.pg_admin.take()).await;
    }
}

/// Removes what [`TestDb::cleanup`] did not: the test ended early, a panic perhaps.
impl Drop for TestDb {
    fn drop(&mut self) {
        let (file, pg) = (self.sqlite_file.take(), self.pg_admin.take());
        if file.is_none() && pg.is_none() {
            return;
        }
        // No connection is handed out from now on; the idle ones close with the pool (SQLite,
        // below) or are ended by `DROP DATABASE ... WITH (FORCE)` (PostgreSQL).
        drop(self.store.pool().close());
        let store = self.store.clone();
        // Drop cannot await, and may run on the thread of the test's runtime: the removal runs
        // to its end on a thread and a runtime of its own. Closing a SQLite connection is a
        // message to its worker thread, which needs no particular runtime; PostgreSQL
        // connections are not closed from here, as their sockets belong to the test's
        // runtime, which is waiting for this thread.
        let removal = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            rt.block_on(async move {
                if file.is_some() {
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), store.close()).await;
                }
                remove(file, pg).await;
            });
        });
        if removal.join().is_err() {
            eprintln!("komlang_store::testing: a test database could not be removed");
        }
    }
}

/// Removes a SQLite file with its journals, and drops a PostgreSQL database.
async fn remove(sqlite_file: Option<std::path::PathBuf>, pg_admin: Option<(String, String)>) {
    if let Some(path) = sqlite_file {
        for suffix in ["", "-wal", "-shm", "-journal", ".lock"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
    if let Some((admin_url, name)) = pg_admin {
        match Store::connect(&admin_url).await {
            Ok(admin) => {
                if let Err(e) =
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(admin.pool()).await
                {
                    eprintln!("komlang_store::testing: could not drop {name}: {e}");
                }
                admin.close().await;
            }
            Err(e) => eprintln!("komlang_store::testing: could not drop {name}: {e}"),
        }
    }
}

/// Fills the filesystem of `dir` with one file (`dir/filler`) until no byte more fits, for
/// disk-full tests on a small filesystem; removing the file gives the space back.
pub fn fill_disk(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let Ok(mut f) = std::fs::File::create(&path) else { return path };
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).and_then(|()| f.sync_all()).is_ok() {}
    path
}

/// The options of a test's worker import: a file name and a digest, the rest by default.
pub fn import_options() -> crate::WorkerImportOptions {
    crate::WorkerImportOptions { file_name: "staff.csv".into(), file_sha256: "ab".repeat(32), ..Default::default() }
}

/// Imports a table of workers as `p` would upload it: `headers` mapped as the import guesses
/// them, the rows numbered from 2 as in a file under its header line.
pub async fn import_table(
    store: &Store,
    p: &komlang_core::Principal,
    headers: &[&str],
    rows: Vec<Vec<String>>,
    opts: &crate::WorkerImportOptions,
    today: chrono::NaiveDate,
) -> crate::Result<crate::ImportReport> {
    let headers: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let mapping = komlang_core::import::guess_mapping(&headers);
    let rows = rows.into_iter().enumerate().map(|(i, r)| Ok((i as u64 + 2, r)));
    store.import_workers(p, &headers, rows, &mapping, opts, today).await
}

/// The codes of a refusal's field errors, joined by commas (`post_filled`, `invalid_year,count_range`);
/// with `fields`, each as `field:code`. Any other error as its debug text.
pub fn error_codes(e: &crate::StoreError, fields: bool) -> String {
    match e {
        crate::StoreError::Invalid(v) => v
            .errors
            .iter()
            .map(|f| if fields { format!("{}:{}", f.field, f.code) } else { f.code.clone() })
            .collect::<Vec<_>>()
            .join(","),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_lists_are_read_in_order_once_each() {
        assert_eq!(parse_engines("sqlite,postgres"), [Engine::Sqlite, Engine::Postgres]);
        assert_eq!(parse_engines(" postgresql , SQLite "), [Engine::Postgres, Engine::Sqlite]);
        assert_eq!(parse_engines("sqlite"), [Engine::Sqlite]);
        assert_eq!(parse_engines("postgres,postgresql"), [Engine::Postgres]);
    }

    /// The message of the panic of `f`.
    fn panic_of(f: impl FnOnce() -> Vec<Engine> + std::panic::UnwindSafe) -> String {
        let e = std::panic::catch_unwind(f).expect_err("should panic");
        e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap()
    }

    /// Where a test database lives, to see whether it is still there.
    enum Place {
        File(std::path::PathBuf),
        Database(String),
    }

    impl Place {
        fn of(db: &TestDb) -> Place {
            match (&db.sqlite_file, &db.pg_admin) {
                (Some(path), _) => Place::File(path.clone()),
                (_, Some((_, name))) => Place::Database(name.clone()),
                _ => panic!("{}: already removed", db.url),
            }
        }

        async fn exists(&self) -> bool {
            match self {
                Place::File(path) => ["", "-wal", "-shm", "-journal", ".lock"]
                    .iter()
                    .any(|suffix| std::path::Path::new(&format!("{}{suffix}", path.display())).exists()),
                Place::Database(name) => {
                    let admin = Store::connect(&pg_admin_url()).await.unwrap();
                    let n: i64 = sqlx::query("SELECT COUNT(*) FROM pg_database WHERE datname = $1")
                        .bind(name)
                        .fetch_one(admin.pool())
                        .await
                        .and_then(|r| sqlx::Row::try_get(&r, 0))
                        .unwrap();
                    admin.close().await;
                    n > 0
                }
            }
        }
    }

    #[tokio::test]
    async fn test_databases_are_removed_by_cleanup_by_drop_and_by_a_failing_test() {
        for engine in engines() {
            let db = TestDb::with_units(engine).await;
            let place = Place::of(&db);
            assert!(place.exists().await, "{engine:?}");
            db.cleanup().await;
            assert!(!place.exists().await, "{engine:?}: left by cleanup");

            let db = TestDb::with_units(engine).await;
            let place = Place::of(&db);
            drop(db);
            assert!(!place.exists().await, "{engine:?}: left by drop");

            // A test that fails half-way, its connections busy in a transaction.
            let (tx, rx) = tokio::sync::oneshot::channel();
            let failing = tokio::spawn(async move {
                let db = TestDb::with_units(engine).await;
                let mut conn = db.store.pool().begin().await.unwrap();
                sqlx::query("DELETE FROM admin_units").execute(&mut *conn).await.unwrap();
                tx.send(Place::of(&db)).ok().unwrap();
                panic!("a deliberate failure: its test database must still be removed");
            });
            assert!(failing.await.unwrap_err().is_panic());
            let place = rx.await.unwrap();
            assert!(!place.exists().await, "{engine:?}: left by a failing test");
        }
    }

    #[test]
    fn an_unknown_engine_or_an_empty_list_is_refused() {
        for (spec, bad) in [("postgress", "\"postgress\""), ("sqlite,postgress", "\"postgress\""), ("sqlite,", "\"\"")]
        {
            let msg = panic_of(|| parse_engines(spec));
            assert!(msg.contains(&format!("unknown engine {bad}")), "{spec}: {msg}");
            assert!(msg.contains(ENGINE_NAMES), "{spec}: {msg}");
        }
        for spec in ["", " ", "\t"] {
            let msg = panic_of(|| parse_engines(spec));
            assert!(msg.contains("empty") && msg.contains(ENGINE_NAMES), "{spec:?}: {msg}");
        }
    }
}
