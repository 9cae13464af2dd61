//! Throw-away databases for tests, on every engine the suite runs against.
//!
//! `KOMLANG_TEST_ENGINES` (default `sqlite,postgres`) picks the engines;
//! `KOMLANG_TEST_PG_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! is a PostgreSQL database in which fresh databases may be created.

use std::sync::atomic::{AtomicU64, Ordering};

use komlang_core::AdminLevel;
use rand::Rng;

use crate::{bundled_cambodia_units, Engine, Store};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh, migrated database that is removed by [`TestDb::cleanup`].
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

/// Engines selected for this test run.
pub fn engines() -> Vec<Engine> {
    let spec = std::env::var("KOMLANG_TEST_ENGINES").unwrap_or_else(|_| "sqlite,postgres".into());
    spec.split(',')
        .filter_map(|e| match e.trim() {
            "sqlite" => Some(Engine::Sqlite),
            "postgres" | "postgresql" => Some(Engine::Postgres),
            _ => None,
        })
        .collect()
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
        let name = unique_name();
        match engine {
            Engine::Sqlite => {
                let path = std::env::temp_dir().join(format!("{name}.db"));
                let url = format!("sqlite://{}", path.display());
                let store = Store::open(&url).await.expect("open sqlite test database");
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
                let store = Store::open(&url).await.expect("open postgres test database");
                TestDb { store, engine, url, pg_admin: Some((admin_url, name)), sqlite_file: None }
            }
        }
    }

    /// A migrated database with Cambodia's provinces, districts and communes
    /// (villages left out to keep tests quick).
    pub async fn with_units(engine: Engine) -> TestDb {
        let db = TestDb::empty(engine).await;
        let units: Vec<_> = bundled_cambodia_units().into_iter().filter(|u| u.level != AdminLevel::Village).collect();
        db.store.load_admin_units(&units).await.expect("load admin units");
        db
    }

    /// Drops the database.
    pub async fn cleanup(self) {
        self.store.close().await;
        if let Some(path) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        if let Some((admin_url, name)) = &self.pg_admin {
            if let Ok(admin) = Store::connect(admin_url).await {
                let _ =
                    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(admin.pool()).await;
                admin.close().await;
            }
        }
    }
}
