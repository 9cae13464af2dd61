//! The `komlang` binary end to end, on every engine the suite runs against.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use komlang_store::testing::{engines, TestDb};
use komlang_store::Engine;

mod common;
use common::*;

const PW: &str = "correct horse";

/// The whole command set against one database, which must be migrated or empty.
fn exercise(db: &str) {
    let out = ok(&komlang(db, &["migrate"]));
    assert!(out.contains("Loaded") && out.contains("administrative units"), "{out}");
    let out = ok(&komlang(db, &["migrate"]));
    assert!(out.contains("already loaded"), "{out}");

    ok(&komlang(db, &["user", "add", "--username", "alice", "--password", PW, "--role", "national-admin"]));
    ok(&komlang(
        db,
        &["user", "add", "--username", "bob", "--password", PW, "--role", "provincial-officer", "--scope", "02"],
    ));
    bad_input(
        &komlang(db, &["user", "add", "--username", "carol", "--password", PW, "--role", "chief"]),
        "role: unknown_role",
    );
    bad_input(
        &komlang(db, &["user", "add", "--username", "alice", "--password", PW, "--role", "national-viewer"]),
        "username: duplicate_username",
    );
    bad_input(
        &komlang(db, &["user", "add", "--username", "dave", "--password", PW, "--role", "provincial-officer"]),
        "scope: required",
    );
    bad_input(
        &komlang(db, &["user", "add", "--username", "erin", "--password", "short", "--role", "national-viewer"]),
        "password: password_too_short",
    );
    bad_input(&komlang(db, &["user", "set-password", "--username", "alice", "--password", "x"]), "password");
    bad_input(&komlang(db, &["user", "set-password", "--username", "nobody", "--password", PW]), "username");
    ok(&komlang(db, &["user", "set-password", "--username", "alice", "--password", "another horse"]));

    let out = ok(&komlang(db, &["token", "create", "--username", "alice"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert!(lines[0].starts_with("kml_") && lines[0].len() > 40, "{out}");
    bad_input(&komlang(db, &["token", "create", "--username", "nobody"]), "username: unknown_user");

    let list = ok(&komlang(db, &["user", "list"]));
    assert!(list.starts_with("USERNAME"), "{list}");
    let alice = list.lines().find(|l| l.starts_with("alice ")).unwrap_or_else(|| panic!("{list}"));
    assert!(alice.contains("national-admin"), "{alice}");
    let bob = list.lines().find(|l| l.starts_with("bob ")).unwrap_or_else(|| panic!("{list}"));
    assert!(bob.contains("provincial-officer") && bob.contains("02"), "{bob}");

    let out = ok(&komlang(db, &["demo"]));
    assert!(out.contains("Demo data loaded"), "{out}");
    assert!(out.contains("komlang-demo") && out.contains("battambang"), "{out}");
    let out = ok(&komlang(db, &["demo"]));
    assert!(out.contains("already loaded"), "{out}");
    let list = ok(&komlang(db, &["user", "list"]));
    for name in ["admin", "viewer", "battambang", "sangke", "ngo-hr", "worker", "alice", "bob"] {
        assert!(list.lines().any(|l| l.split_whitespace().next() == Some(name)), "{name} not in {list}");
    }

    // Another country's units are refused once units are loaded.
    let o = komlang(db, &["admin-units", "load", "--dir", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("already loaded"), "{}", err(&o));
}

#[tokio::test]
async fn commands_work_on_every_engine() {
    for engine in engines() {
        match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join(format!("komlang-cli-{}", std::process::id()));
                std::fs::create_dir_all(&dir).unwrap();
                let file = dir.join("cli.db");
                exercise(&format!("sqlite://{}", file.display()));
                std::fs::remove_dir_all(&dir).unwrap();
            }
            Engine::Postgres => {
                let db = TestDb::empty(Engine::Postgres).await;
                exercise(&db.url);
                db.cleanup().await;
            }
        }
    }
}

#[test]
fn bad_database_url_and_usage_fail_cleanly() {
    let o = komlang("mysql://nowhere/db", &["migrate"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("unsupported database URL"), "{}", err(&o));
    assert!(!err(&o).contains("panicked"), "{}", err(&o));
    let o = komlang("sqlite://unused.db", &["user", "add", "--username", "x"]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
}

#[test]
fn admin_units_load_reads_another_country() {
    let dir = std::env::temp_dir().join(format!("komlang-cli-units-{}", std::process::id()));
    let csv = dir.join("csv");
    std::fs::create_dir_all(&csv).unwrap();
    let write = |name: &str, text: &str| std::fs::write(csv.join(name), text).unwrap();
    write("country.csv", "country_code,country_kh,country_en\nXX,ស,Sample\n");
    write("SampleProvinceList.csv", "province_code,province_kh,province_en\n01,ក,Alpha\n");
    write("SampleDistrictList.csv", "province_code,district_code,district_kh,district_en\n01,0101,ខ,Beta\n");
    write(
        "SampleCommuneList.csv",
        "province_code,district_code,commune_code,commune_kh,commune_en\n01,0101,010101,គ,Gamma\n01,0101,010101,គ,Again\n",
    );
    let db = format!("sqlite://{}", dir.join("units.db").display());
    let o = komlang(&db, &["admin-units", "load", "--dir", csv.to_str().unwrap()]);
    let out = ok(&o);
    assert!(out.contains("Loaded 4 administrative units"), "{out}");
    assert!(err(&o).contains("warning"), "{}", err(&o));
    // The bundled units are not added on top.
    let out = ok(&komlang(&db, &["migrate"]));
    assert!(out.contains("already loaded (4)"), "{out}");
    let fresh = format!("sqlite://{}", dir.join("fresh.db").display());
    let o = komlang(&fresh, &["admin-units", "load", "--dir", dir.join("missing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("dir: invalid_file"), "{}", err(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}
