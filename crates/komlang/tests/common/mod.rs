//! What the command-line tests share: running the `komlang` binary on a database, reading
//! what it printed, and fresh databases of either engine.
#![allow(dead_code, reason = "each test file uses a part of this module")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use komlang_store::testing::TestDb;
use komlang_store::{Engine, Store};
use sqlx::Row;

/// Runs `komlang ARGS --db DB` to its end, with no database or listen address from the
/// environment.
pub fn komlang(db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_komlang"))
        .args(args)
        .args(["--db", db])
        .env_remove("KOMLANG_DATABASE_URL")
        .env_remove("KOMLANG_LISTEN")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run komlang")
}

pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// What it printed on both streams.
pub fn text(o: &Output) -> String {
    format!("{}{}", out(o), err(o))
}

/// Its standard output, once its exit code is `expected`.
#[track_caller]
pub fn code(o: &Output, expected: i32) -> String {
    assert_eq!(o.status.code(), Some(expected), "stdout: {}\nstderr: {}", out(o), err(o));
    out(o)
}

/// What it printed on both streams, once its exit code is `expected`.
#[track_caller]
pub fn said(o: &Output, expected: i32) -> String {
    assert_eq!(o.status.code(), Some(expected), "{}", text(o));
    text(o)
}

/// Its standard output, once it succeeded.
#[track_caller]
pub fn ok(o: &Output) -> String {
    assert!(o.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", o.status.code(), out(o), err(o));
    out(o)
}

/// It refused its input (exit 2), saying `needle`.
#[track_caller]
pub fn bad_input(o: &Output, needle: &str) {
    assert_eq!(o.status.code(), Some(2), "stdout: {}\nstderr: {}", out(o), err(o));
    assert!(err(o).contains(needle), "`{needle}` not in stderr: {}", err(o));
}

/// A new empty folder for one test's files.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("komlang-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A new migrated database of the engine without data (an SQLite file `NAME.db` in `dir`, to
/// be made by the command), and what to drop afterwards.
pub async fn database(engine: Engine, dir: &Path, name: &str) -> (String, Option<TestDb>) {
    match engine {
        Engine::Sqlite => (format!("sqlite://{}", dir.join(format!("{name}.db")).display()), None),
        Engine::Postgres => {
            let db = TestDb::empty(Engine::Postgres).await;
            (db.url.clone(), Some(db))
        }
    }
}

/// A new database of the engine without even a schema, and what to drop afterwards.
pub async fn blank_database(engine: Engine, dir: &Path, name: &str) -> (String, Option<TestDb>) {
    match engine {
        Engine::Sqlite => (format!("sqlite://{}", dir.join(format!("{name}.db")).display()), None),
        Engine::Postgres => {
            let db = TestDb::blank(Engine::Postgres).await;
            (db.url.clone(), Some(db))
        }
    }
}

/// The one number a query answers.
pub async fn scalar(url: &str, sql: &str) -> i64 {
    let store = Store::connect(url).await.unwrap();
    let v: i64 = sqlx::query(sql).fetch_one(store.pool()).await.unwrap().get(0);
    store.close().await;
    v
}
