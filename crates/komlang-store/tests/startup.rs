//! Several app servers starting at once on an empty database: each migrates and loads the
//! reference data, none fails, and everything is there once.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use komlang_store::testing::{engines, pg_admin_url};
use komlang_store::{Engine, Store};
use sqlx::Row;

/// A new database with nothing in it (not even the schema), its URL and how to drop it.
async fn blank(
    engine: Engine,
) -> (String, Box<dyn FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>>) {
    let name = format!("komlang_startup_{}_{:08x}", std::process::id(), rand::random::<u32>());
    match engine {
        Engine::Sqlite => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            let url = format!("sqlite://{}", path.display());
            (
                url,
                Box::new(move || {
                    Box::pin(async move {
                        for ext in ["", "-wal", "-shm", ".lock"] {
                            let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
                        }
                    })
                }),
            )
        }
        Engine::Postgres => {
            let admin_url = pg_admin_url();
            let admin = Store::connect(&admin_url).await.unwrap();
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(admin.pool()).await.unwrap();
            let base = admin_url.split('?').next().unwrap().to_string();
            let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
            (
                url,
                Box::new(move || {
                    Box::pin(async move {
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .execute(admin.pool())
                            .await
                            .unwrap();
                        admin.close().await;
                    })
                }),
            )
        }
    }
}

#[tokio::test]
async fn three_servers_starting_at_once_on_an_empty_database() {
    for engine in engines() {
        let (url, drop_db) = blank(engine).await;
        let start = |url: String| async move {
            let store = Store::open(&url).await?;
            let r = store.ensure_reference_data().await?;
            Ok::<_, komlang_store::StoreError>((store, r))
        };
        let (a, b, c) = tokio::join!(start(url.clone()), start(url.clone()), start(url.clone()));
        let started = [a, b, c].map(|r| r.unwrap_or_else(|e| panic!("{engine:?}: a server failed to start: {e}")));
        let loaded_units: usize = started.iter().map(|(_, r)| r.units_loaded).sum();
        let loaded_framework = started.iter().filter(|(_, r)| r.framework_loaded).count();
        let store = &started[0].0;
        let units = store.admin_unit_count().await.unwrap() as usize;
        assert!(units > 10_000, "{engine:?}: Cambodia's units, villages included: {units}");
        assert_eq!(loaded_units, units, "{engine:?}: loaded by exactly one server");
        assert_eq!(loaded_framework, 1, "{engine:?}: the framework loaded once");
        let versions: i64 =
            sqlx::query("SELECT COUNT(*) FROM competency_frameworks").fetch_one(store.pool()).await.unwrap().get(0);
        assert_eq!(versions, 1, "{engine:?}");
        for (s, _) in started {
            s.close().await;
        }
        drop_db().await;
    }
}
