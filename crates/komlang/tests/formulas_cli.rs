//! `komlang export workers` and the rejected-rows file of `komlang import` never write a
//! cell that a spreadsheet program runs as a formula, and what they write imports back
//! unchanged, on every engine.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::path::{Path, PathBuf};

use komlang_io::{is_formula_like, TableReader};
use komlang_store::testing::engines;

mod common;
use common::*;

/// Every cell of a CSV file as a spreadsheet program splits it, none of them a formula.
#[track_caller]
fn cells_without_formulas(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).expect("BOM");
    let cells: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    for c in cells.iter().flatten() {
        assert!(!is_formula_like(c), "{}: {c:?} would run as a formula", path.display());
    }
    cells
}

/// The rows of an export without the id columns (`id`, `org_id`), sorted.
fn rows_without_ids(path: &Path) -> Vec<Vec<String>> {
    let r = TableReader::from_bytes("x.csv", std::fs::read(path).unwrap()).unwrap();
    let mut rows: Vec<Vec<String>> = r
        .map(|row| {
            let mut cells = row.unwrap().1;
            cells[0].clear();
            cells[11].clear();
            cells
        })
        .collect();
    rows.sort();
    rows
}

const FILE: &str = "name_km,name_latin,sex,cadre,role,sector,workplace_code,status,phone,email,position_title\n\
    \"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",-Sok,F,para_social_worker,ccwc_focal_point,government,010201,active,+855 12 345 678,=a@evil.example,@SUM(A1)\n\
    +ស្រី,'Dara,F,para_social_worker,ccwc_focal_point,government,010201,active,-12 345 678,,''=1+1\n\
    កែវ,Keo,F,para_social_worker,ccwc_focal_point,government,010201,active,,,-0.5\n\
    @bad,Bad,nobody,para_social_worker,ccwc_focal_point,government,010201,active,,,=1+2\n";

#[tokio::test]
async fn cli_exports_and_rejected_rows_hold_no_formula_and_read_back() {
    for engine in engines() {
        let dir: PathBuf = std::env::temp_dir().join(format!("komlang-formulas-cli-{engine:?}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (src, src_pg) = database(engine, &dir, "src").await;
        code(&komlang(&src, &["migrate"]), 0);
        let input = dir.join("staff.csv");
        std::fs::write(&input, FILE).unwrap();
        code(&komlang(&src, &["import", "workers", input.to_str().unwrap(), "--partial"]), 1);

        // The rejected row comes back neutralized, and reads back as it was in the file.
        let rejected = dir.join("staff.csv.rejected.csv");
        let cells = cells_without_formulas(&rejected);
        assert_eq!(cells[1][0], "'@bad", "{engine:?}");
        assert_eq!(cells[1][10], "'=1+2", "{engine:?}");
        let again: Vec<Vec<String>> = TableReader::from_bytes("r.csv", std::fs::read(&rejected).unwrap())
            .unwrap()
            .map(|r| r.unwrap().1)
            .collect();
        assert_eq!((again[0][0].as_str(), again[0][10].as_str()), ("@bad", "=1+2"), "{engine:?}");

        // The export: quoted where a spreadsheet would run the cell; the rest as it is.
        let out = dir.join("out.csv");
        code(&komlang(&src, &["export", "workers", "--out", out.to_str().unwrap()]), 0);
        let cells = cells_without_formulas(&out);
        let all: Vec<&str> = cells.iter().flatten().map(String::as_str).collect();
        for c in ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'-Sok", "'+855 12 345 678", "'=a@evil.example"] {
            assert!(all.contains(&c), "{engine:?}: {c:?} in {all:?}");
        }
        for c in ["'@SUM(A1)", "'+ស្រី", "'Dara", "'-12 345 678", "''=1+1", "-0.5"] {
            assert!(all.contains(&c), "{engine:?}: {c:?} in {all:?}");
        }

        // Imported into an empty database and exported again: the same file, ids aside.
        let (dst, dst_pg) = database(engine, &dir, "dst").await;
        code(&komlang(&dst, &["migrate"]), 0);
        code(&komlang(&dst, &["import", "workers", out.to_str().unwrap()]), 0);
        let back = dir.join("back.csv");
        code(&komlang(&dst, &["export", "workers", "--out", back.to_str().unwrap()]), 0);
        assert_eq!(rows_without_ids(&out), rows_without_ids(&back), "{engine:?}");
        assert_eq!(rows_without_ids(&back).len(), 3);

        for db in [src_pg, dst_pg].into_iter().flatten() {
            db.cleanup().await;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Every CSV the workspace writes goes through komlang-io's writer (and so through
/// `guard_formula`): no other source builds a `csv::Writer`. (The benchmark's generator of
/// synthetic input files is the one exception: it writes no exported data.)
#[test]
fn every_csv_writer_is_komlang_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut stack = vec![root.clone()];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
            if p.is_dir() {
                if !rel.ends_with("/tests") && rel != "komlang-io" && rel != "komlang-bench" {
                    stack.push(p);
                }
            } else if rel.ends_with(".rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                if text.contains("csv::Writer") {
                    offenders.push(rel);
                }
            }
        }
    }
    assert!(offenders.is_empty(), "CSV written outside komlang_io::write_csv / csv_rows: {offenders:?}");
}
