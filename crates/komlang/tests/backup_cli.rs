//! `komlang backup`, `komlang restore` and `komlang export organizations` end to end, on
//! every engine: an instance moves between engines from the command line; organizations and
//! workers exported from one database import into an empty one.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use komlang_store::testing::engines;
use komlang_store::{Engine, Store};
use sqlx::Row;

mod common;
use common::*;

async fn rows(url: &str, sql: &str) -> Vec<String> {
    let store = Store::connect(url).await.unwrap();
    let mut out: Vec<String> = sqlx::query(sql)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (0..r.len())
                .map(|i| match r.try_get::<Option<String>, _>(i) {
                    Ok(v) => format!("{v:?}"),
                    Err(_) => format!("{:?}", r.try_get::<Option<i64>, _>(i).unwrap()),
                })
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect();
    store.close().await;
    out.sort();
    out
}

async fn scalar(url: &str, sql: &str) -> i64 {
    let store = Store::connect(url).await.unwrap();
    let v: i64 = sqlx::query(sql).fetch_one(store.pool()).await.unwrap().get(0);
    store.close().await;
    v
}

const ORGS: &str = "SELECT name_en, name_km, kind, registration_no, admin_code, phone, email FROM organizations";
const WORKERS: &str = "SELECT w.name_km, w.name_latin, w.sex, w.date_of_birth, w.national_id, w.phone, w.email, \
    w.cadre, w.role, w.sector, o.name_en, o.registration_no, w.position_title, w.workplace_code, w.status, \
    w.start_date, w.end_date, w.education_level, w.education_field \
    FROM workers w LEFT JOIN organizations o ON o.id = w.org_id";

#[tokio::test]
async fn organizations_and_workers_exported_import_into_an_empty_blank_database() {
    for engine in engines() {
        let dir = temp_dir(&format!("export-{engine:?}"));
        let (src, src_pg) = blank_database(engine, &dir, "src").await;
        code(&komlang(&src, &["demo"]), 0);
        let n_orgs = scalar(&src, "SELECT COUNT(*) FROM organizations").await;
        let n_workers = scalar(&src, "SELECT COUNT(*) FROM workers").await;
        let orgs_csv = dir.join("orgs.csv");
        let orgs_xlsx = dir.join("orgs.xlsx");
        let workers_csv = dir.join("workers.csv");
        let text = code(&komlang(&src, &["export", "organizations", "--out", orgs_csv.to_str().unwrap()]), 0);
        assert!(text.contains(&format!("Exported {n_orgs} organizations")) && text.contains("csv"), "{text}");
        assert!(std::fs::read(&orgs_csv).unwrap().starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 with BOM");
        let text = code(&komlang(&src, &["export", "organizations", "--out", orgs_xlsx.to_str().unwrap()]), 0);
        assert!(text.contains("xlsx"), "{text}");
        assert!(std::fs::read(&orgs_xlsx).unwrap().starts_with(b"PK"), "an XLSX workbook");
        code(&komlang(&src, &["export", "workers", "--out", workers_csv.to_str().unwrap()]), 0);
        // An organization's HR manager exports their own organization only.
        let own = dir.join("own.csv");
        let text =
            code(&komlang(&src, &["export", "organizations", "--out", own.to_str().unwrap(), "--as", "ngo-hr"]), 0);
        assert!(text.contains("Exported 1 organizations"), "{text}");
        let o = komlang(&src, &["export", "organizations", "--out", own.to_str().unwrap(), "--format", "pdf"]);
        code(&o, 2);

        // Into an empty database: organizations first (from the workbook), then workers.
        let (dst, dst_pg) = blank_database(engine, &dir, "dst").await;
        code(&komlang(&dst, &["migrate"]), 0);
        let text = code(&komlang(&dst, &["import", "organizations", orgs_xlsx.to_str().unwrap()]), 0);
        assert!(text.contains(&format!("{n_orgs} organization rows: {n_orgs} added")), "{engine:?}: {text}");
        // The CSV reads back the same: every row a known organization.
        let text = code(&komlang(&dst, &["import", "organizations", orgs_csv.to_str().unwrap(), "--dry-run"]), 0);
        assert!(text.contains(&format!("{n_orgs} organization rows: 0 added")), "{engine:?}: {text}");
        assert_eq!(rows(&dst, ORGS).await, rows(&src, ORGS).await, "{engine:?}");
        let text =
            code(&komlang(&dst, &["import", "workers", workers_csv.to_str().unwrap(), "--duplicates", "keepboth"]), 0);
        assert!(text.contains(&format!("{n_workers} added")), "{engine:?}: {}", text.lines().last().unwrap_or(""));
        assert_eq!(rows(&dst, WORKERS).await, rows(&src, WORKERS).await, "{engine:?}");

        for db in [src_pg, dst_pg].into_iter().flatten() {
            db.cleanup().await;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn an_instance_moves_between_engines_from_the_command_line() {
    let all = engines();
    let (first, second) = (all[0], *all.get(1).unwrap_or(&all[0]));
    let dir = temp_dir("move");
    let (src, src_pg) = blank_database(first, &dir, "src").await;
    code(&komlang(&src, &["migrate"]), 0);
    code(
        &komlang(
            &src,
            &["user", "add", "--username", "admin", "--password", "correct horse", "--role", "national-admin"],
        ),
        0,
    );
    let orgs = dir.join("orgs.csv");
    std::fs::write(&orgs, "name_en,name_km,kind,registration_no,admin_code\nFriends,មិត្ត,ngo,MOI-1,12\n").unwrap();
    code(&komlang(&src, &["import", "organizations", orgs.to_str().unwrap()]), 0);

    let file = dir.join("komlang.backup.zip");
    let f = file.to_str().unwrap();
    let text = code(&komlang(&src, &["backup", "--out", f]), 0);
    assert!(
        text.contains("Backed up") && text.contains("organizations") && text.contains("Not carried: sessions"),
        "{text}"
    );
    let text = code(&komlang(&src, &["restore", f, "--check"]), 0);
    assert!(
        text.contains("every checksum and count matches")
            && text.contains(&format!("schema version {}", komlang_store::backup::latest_schema_version())),
        "{text}"
    );

    let (dst, dst_pg) = blank_database(second, &dir, "dst").await;
    let text = code(&komlang(&dst, &["restore", f]), 0);
    assert!(text.contains("Every table holds the backup's row count"), "{text}");
    for sql in [
        "SELECT id, username, password_hash, role, created_at FROM users",
        "SELECT id, name_en, registration_no, created_at, updated_at FROM organizations",
        "SELECT id, at, username, action, entity, entity_id FROM audit_log",
        "SELECT id, at, username, kind, file_name, file_sha256, rows_added FROM imports",
    ] {
        assert_eq!(rows(&dst, sql).await, rows(&src, sql).await, "{sql}");
    }
    // The account signs in on the new engine: `user set-password` finds it, and ids go on.
    code(&komlang(&dst, &["user", "set-password", "--username", "admin", "--password", "another horse"]), 0);

    // Not twice; a missing file and a file that is no backup are bad input.
    let o = komlang(&dst, &["restore", f]);
    code(&o, 1);
    assert!(err(&o).contains("not empty") && err(&o).contains("nothing was restored"), "{}", err(&o));
    let o = komlang(&dst, &["restore", dir.join("missing.zip").to_str().unwrap()]);
    code(&o, 2);
    assert!(err(&o).contains("missing.zip"), "{}", err(&o));
    let o = komlang(&dst, &["restore", orgs.to_str().unwrap(), "--check"]);
    code(&o, 2);
    assert!(err(&o).contains("not a Komlang backup"), "{}", err(&o));
    // A backup of a SQLite file that is not there creates nothing.
    let nowhere = dir.join("nowhere.db");
    let o = komlang(&format!("sqlite://{}", nowhere.display()), &["backup", "--out", f]);
    code(&o, 1);
    assert!(err(&o).contains("no database at"), "{}", err(&o));
    assert!(!nowhere.exists());
    // Nor is a SQLite database overwritten by its own backup.
    if first == Engine::Sqlite {
        let db = src.strip_prefix("sqlite://").unwrap();
        for target in [db.to_string(), format!("{db}-wal")] {
            let o = komlang(&src, &["backup", "--out", &target]);
            code(&o, 1);
            assert!(err(&o).contains("a file of the database itself"), "{}", err(&o));
        }
        code(&komlang(&src, &["user", "list"]), 0);
    }

    for db in [src_pg, dst_pg].into_iter().flatten() {
        db.cleanup().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}
