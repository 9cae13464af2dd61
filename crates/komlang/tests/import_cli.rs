//! `komlang import` and `komlang export` end to end, on every engine: exit
//! codes, the report, the rejected-rows file, duplicates, round trips, and a
//! kill in the middle of a file.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use komlang_store::testing::engines;
use komlang_store::{Engine, Store};
use sqlx::Row;

mod common;
use common::*;

const HEADER: &str = "ឈ្មោះ,Name (Latin),Sex,Date of birth,National ID,Cadre,Role,Sector,Workplace code,Status,Employer";

#[tokio::test]
async fn import_workers_reports_rejects_and_duplicates() {
    for engine in engines() {
        let dir = temp_dir(&format!("{engine:?}"));
        let (db, pg) = database(engine, &dir, "w").await;
        code(&komlang(&db, &["migrate"]), 0);
        let orgs = dir.join("orgs.csv");
        std::fs::write(
            &orgs,
            "name_en,name_km,kind,registration_no,admin_code\nFriends,មិត្ត,ngo,MOI-1,12\nBad,,club,,99\n",
        )
        .unwrap();
        let o = komlang(&db, &["import", "organizations", orgs.to_str().unwrap(), "--partial"]);
        let text = code(&o, 1);
        assert!(text.contains("row 3: rejected") && text.contains("1 added"), "{text}");

        // A file that is not there is bad input (exit 2, as the README says), naming the file.
        let missing = dir.join("no-such-file.csv");
        for kind in ["workers", "organizations", "population"] {
            let o = komlang(&db, &["import", kind, missing.to_str().unwrap()]);
            code(&o, 2);
            assert!(err(&o).contains("no-such-file.csv"), "{kind}: {}", err(&o));
        }

        let file = dir.join("staff.csv");
        std::fs::write(
            &file,
            format!(
                "\u{feff}{HEADER}\n\
                 សុខ ដារ៉ា,Sok Dara,F,1988-02-03,010203040,para_social_worker,ccwc_focal_point,government,010201,active,MOI-1\n\
                 ចាន់ សុភា,Chan Sophea,F,31/02/1990,,para_social_worker,ccwc_focal_point,government,999999,active,\n\
                 ,,,,,,,,,,\n\
                 ហេង លី,Heng Ly,M,០១/០១/១៩៩០,,para_social_worker,ccwc_focal_point,government,020101,active,Friends\n"
            ),
        )
        .unwrap();
        let f = file.to_str().unwrap();

        // All or nothing: exit 1, every problem named, nothing written.
        let o = komlang(&db, &["import", "workers", f]);
        let text = code(&o, 1);
        assert!(
            text.contains(
                "row 3: rejected: column \"Date of birth\" (date_of_birth), value \"31/02/1990\": invalid_date"
            ),
            "{engine:?}: {text}"
        );
        assert!(text.contains("value \"999999\": unknown_admin_unit"), "{text}");
        assert!(text.contains("nothing was written"), "{text}");
        assert!(err(&o).contains("1 row rejected"), "{}", err(&o));
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM workers").await, 0);
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM imports WHERE kind = 'workers'").await, 0);

        // Dry run: same report, nothing written, no file beside the input.
        let text = code(&komlang(&db, &["import", "workers", f, "--dry-run", "--partial"]), 1);
        assert!(text.contains("dry run"), "{text}");
        assert!(!dir.join("staff.csv.rejected.csv").exists());
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM workers").await, 0);

        // Partial: the valid rows written, the rejected ones given back.
        let text = code(&komlang(&db, &["import", "workers", f, "--partial", "--save-mapping", "staff"]), 1);
        assert!(text.contains("2 added") && text.contains("committed"), "{text}");
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM workers").await, 2);
        let rejected = std::fs::read_to_string(dir.join("staff.csv.rejected.csv")).unwrap();
        let lines: Vec<&str> = rejected.lines().collect();
        assert_eq!(lines.len(), 2, "{rejected}");
        assert!(lines[0].trim_start_matches('\u{feff}').starts_with("ឈ្មោះ,") && lines[0].ends_with(",reason"));
        assert!(lines[1].starts_with("ចាន់ សុភា,Chan Sophea,") && lines[1].contains("invalid_date"), "{}", lines[1]);

        // The same file again, with the saved mapping: registered workers are
        // duplicates, reported and skipped; nothing new.
        let o = komlang(&db, &["import", "workers", f, "--partial", "--mapping", "staff"]);
        let text = code(&o, 1);
        assert!(text.contains("row 2: duplicate of worker"), "{text}");
        assert!(text.contains("same national ID"), "{text}");
        assert!(text.contains("2 duplicates skipped"), "{text}");
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM workers").await, 2);

        // A clean file: exit 0.
        let clean = dir.join("clean.csv");
        std::fs::write(
            &clean,
            format!(
                "{HEADER}\nកែវ ធីតា,Keo Thida,F,1991-05-06,,para_social_worker,ccwc_member,volunteer,120101,active,\n"
            ),
        )
        .unwrap();
        let text = code(&komlang(&db, &["import", "workers", clean.to_str().unwrap()]), 0);
        assert!(text.contains("1 added"), "{text}");

        // Files that cannot be imported: exit 2 with a reason.
        let pdf = dir.join("x.csv");
        std::fs::write(&pdf, b"%PDF-1.4 not a table").unwrap();
        let o = komlang(&db, &["import", "workers", pdf.to_str().unwrap()]);
        code(&o, 2);
        assert!(err(&o).contains("PDF"), "{}", err(&o));
        let nocol = dir.join("nocol.csv");
        std::fs::write(&nocol, "Name (Latin),Sex\nSok,F\n").unwrap();
        let o = komlang(&db, &["import", "workers", nocol.to_str().unwrap()]);
        code(&o, 2);
        assert!(err(&o).contains("name_km: missing_required_column"), "{}", err(&o));
        let o = komlang(&db, &["import", "workers", f, "--mapping", "nope"]);
        code(&o, 2);

        // Population figures.
        let pop = dir.join("pop.csv");
        std::fs::write(
            &pop,
            "Admin unit code,Year,Sex,Age group,Count\n02,2024,total,total,1036523\n02,២០២៤,F,0-17,១២៣\n",
        )
        .unwrap();
        let text = code(&komlang(&db, &["import", "population", pop.to_str().unwrap()]), 0);
        assert!(text.contains("2 added"), "{text}");
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM population").await, 2);
        // Organizations, the partial import, the partial re-import (duplicates
        // only, still an audited event), the clean file, the population figures.
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM imports").await, 5);

        if let Some(pg) = pg {
            pg.cleanup().await;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[tokio::test]
async fn export_and_import_back_gives_the_same_workers() {
    for engine in engines() {
        let dir = temp_dir(&format!("export-{engine:?}"));
        let (src, src_pg) = database(engine, &dir, "src").await;
        code(&komlang(&src, &["demo"]), 0);
        let n = scalar(&src, "SELECT COUNT(*) FROM workers").await;
        assert!(n > 1000);
        let csv = dir.join("all.csv");
        let xlsx = dir.join("battambang.xlsx");
        let text = code(&komlang(&src, &["export", "workers", "--format", "csv", "--out", csv.to_str().unwrap()]), 0);
        assert!(text.contains(&format!("Exported {n} workers")), "{text}");
        let text = code(&komlang(&src, &["export", "workers", "--out", xlsx.to_str().unwrap(), "--province", "02"]), 0);
        let bat = scalar(
            &src,
            "SELECT COUNT(*) FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE u.province_code = '02'",
        )
        .await;
        assert!(text.contains(&format!("Exported {bat} workers")) && text.contains("xlsx"), "{text}");
        let bytes = std::fs::read(&xlsx).unwrap();
        assert!(bytes.starts_with(b"PK"), "an XLSX workbook");
        let head = std::fs::read(&csv).unwrap();
        assert!(head.starts_with(&[0xEF, 0xBB, 0xBF]), "UTF-8 with BOM");

        // Into the same database: every worker is already there.
        let text = code(&komlang(&src, &["import", "workers", csv.to_str().unwrap()]), 0);
        assert!(text.contains(&format!("{n} worker rows: 0 added, 0 merged, {n} duplicates skipped")), "{engine:?}");
        let text = code(&komlang(&src, &["import", "workers", xlsx.to_str().unwrap(), "--dry-run"]), 0);
        assert!(text.contains(&format!("{bat} worker rows: 0 added")), "{text}");
        assert_eq!(scalar(&src, "SELECT COUNT(*) FROM workers").await, n);

        // Into an empty database with the same organizations: the same workers
        // (namesakes born the same day are kept: --duplicates keepboth).
        let (dst, dst_pg) = database(engine, &dir, "dst").await;
        code(&komlang(&dst, &["migrate"]), 0);
        let orgs = dir.join("orgs.csv");
        {
            let store = Store::connect(&src).await.unwrap();
            let rows = sqlx::query(
                "SELECT name_en, COALESCE(name_km, ''), kind, COALESCE(registration_no, ''), admin_code \
                 FROM organizations ORDER BY id",
            )
            .fetch_all(store.pool())
            .await
            .unwrap();
            let mut f = std::fs::File::create(&orgs).unwrap();
            writeln!(f, "name_en,name_km,kind,registration_no,admin_code").unwrap();
            for r in rows {
                let cells: Vec<String> = (0..5).map(|i| format!("\"{}\"", r.get::<String, _>(i))).collect();
                writeln!(f, "{}", cells.join(",")).unwrap();
            }
            store.close().await;
        }
        code(&komlang(&dst, &["import", "organizations", orgs.to_str().unwrap()]), 0);
        let text = code(&komlang(&dst, &["import", "workers", csv.to_str().unwrap(), "--duplicates", "keepboth"]), 0);
        assert!(text.contains(&format!("{n} added")), "{engine:?}: {}", text.lines().last().unwrap_or(""));
        let fingerprint = "SELECT COUNT(*) FROM (SELECT DISTINCT w.name_km, w.name_latin, w.sex, w.date_of_birth, \
            w.national_id, w.phone, w.email, w.cadre, w.role, w.sector, o.name_en, w.position_title, w.workplace_code, \
            w.status, w.start_date, w.end_date, w.education_level, w.education_field \
            FROM workers w LEFT JOIN organizations o ON o.id = w.org_id) t";
        assert_eq!(scalar(&dst, "SELECT COUNT(*) FROM workers").await, n);
        assert_eq!(scalar(&dst, fingerprint).await, scalar(&src, fingerprint).await);
        // Exporting both and comparing, ids and employer ids aside.
        let again = dir.join("again.csv");
        code(&komlang(&dst, &["export", "workers", "--out", again.to_str().unwrap()]), 0);
        let strip = |p: &Path| {
            let reader = komlang_io::TableReader::from_bytes("x.csv", std::fs::read(p).unwrap()).unwrap();
            let mut rows: Vec<Vec<String>> = reader
                .map(|r| {
                    let mut cells = r.unwrap().1;
                    cells[0].clear(); // id
                    cells[11].clear(); // org_id
                    cells
                })
                .collect();
            rows.sort();
            rows
        };
        assert_eq!(strip(&csv), strip(&again), "{engine:?}");
        for db in [src_pg, dst_pg].into_iter().flatten() {
            db.cleanup().await;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// A worker file of `n` rows, all valid and all different.
fn big_file(path: &Path, n: usize) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(f, "name_km,name_latin,sex,date_of_birth,national_id,cadre,role,sector,workplace_code,status").unwrap();
    let fam = [("សុខ", "Sok"), ("ចាន់", "Chan"), ("ហេង", "Heng"), ("កែវ", "Keo"), ("លី", "Ly"), ("មាស", "Meas")];
    let giv = [("ដារ៉ា", "Dara"), ("សុភា", "Sophea"), ("ធីតា", "Thida"), ("វិចិត្រ", "Vichet"), ("បូរ៉ា", "Bora")];
    for i in 0..n {
        let (fk, fl) = fam[i % fam.len()];
        let (gk, gl) = giv[(i / fam.len()) % giv.len()];
        let day = 1 + i % 28;
        let month = 1 + (i / 28) % 12;
        let year = 1960 + (i / 336) % 45;
        writeln!(
            f,
            "{fk} {gk},{fl} {gl},female,{year}-{month:02}-{day:02},{:09},para_social_worker,ccwc_focal_point,government,010201,active",
            100_000_000 + i
        )
        .unwrap();
    }
}

#[tokio::test]
async fn killing_an_import_midway_leaves_the_database_unchanged() {
    for engine in engines() {
        killing_an_import_midway(engine).await;
    }
}

async fn killing_an_import_midway(engine: Engine) {
    let dir = temp_dir(&format!("kill-{engine:?}"));
    let (db, _pg) = database(engine, &dir, "kill").await;
    code(&komlang(&db, &["migrate"]), 0);
    let small = dir.join("small.csv");
    big_file(&small, 50);
    code(&komlang(&db, &["import", "workers", small.to_str().unwrap()]), 0);
    let (workers, imports, keys) = (
        scalar(&db, "SELECT COUNT(*) FROM workers").await,
        scalar(&db, "SELECT COUNT(*) FROM imports").await,
        scalar(&db, "SELECT COUNT(*) FROM worker_dedup_keys").await,
    );
    assert_eq!((workers, imports), (50, 1), "{engine:?}");
    assert!(keys >= 50, "{engine:?}: {keys} keys");

    let big = dir.join("BIG.csv");
    big_file(&big, 200_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_komlang"))
        .args(["import", "workers", big.to_str().unwrap(), "--db", &db])
        .env_remove("KOMLANG_DATABASE_URL")
        .env("RUST_LOG", "info,sqlx=warn")
        .env("KOMLANG_PROGRESS_ROWS", "5000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it is well into the file (rows written in its transaction).
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = 0;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("rows read") {
            seen += 1;
            if seen == 3 {
                break;
            }
        }
        assert!(!line.contains("import done"), "{engine:?}: the import ended before it was killed: {line}");
    }
    assert_eq!(seen, 3, "{engine:?}: no progress seen");
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success());

    // Intact.
    match engine {
        Engine::Sqlite => {
            let store = Store::connect(&db).await.unwrap();
            let check: String = sqlx::query("PRAGMA integrity_check").fetch_one(store.pool()).await.unwrap().get(0);
            assert_eq!(check, "ok");
            let fk = sqlx::query("PRAGMA foreign_key_check").fetch_all(store.pool()).await.unwrap();
            assert!(fk.is_empty());
            store.close().await;
        }
        Engine::Postgres => {
            // The server ends the killed client's session and rolls its transaction back.
            let open = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() \
                        AND pid <> pg_backend_pid() AND xact_start IS NOT NULL";
            let mut waited = 0;
            while scalar(&db, open).await > 0 {
                assert!(waited < 300, "{engine:?}: the killed import's transaction is still open after 30 s");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                waited += 1;
            }
        }
    }
    // Unchanged.
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM workers").await, workers, "{engine:?}");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM imports").await, imports, "{engine:?}");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM worker_dedup_keys").await, keys, "{engine:?}");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM postings").await, workers, "{engine:?}");
    // And usable: the first file again finds every worker registered (their keys intact),
    // and the next import goes through.
    let text = code(&komlang(&db, &["import", "workers", small.to_str().unwrap()]), 0);
    assert!(text.contains("50 worker rows: 0 added, 0 merged, 50 duplicates skipped"), "{engine:?}: {text}");
    let again = dir.join("again.csv");
    std::fs::write(
        &again,
        "name_km,name_latin,sex,cadre,role,sector,workplace_code,status\n\
         ពៅ សុភា,Pov Sophea,female,para_social_worker,ccwc_member,volunteer,010201,active\n",
    )
    .unwrap();
    let text = code(&komlang(&db, &["import", "workers", again.to_str().unwrap()]), 0);
    assert!(text.contains("1 added"), "{engine:?}: {text}");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM workers").await, workers + 1, "{engine:?}");
    assert_eq!(scalar(&db, "SELECT COUNT(*) FROM imports").await, imports + 2, "{engine:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
