//! `komlang import` within the command line's limits, on every engine: a cell longer than an
//! upload may hold is read (the operator chose the file), and the report of many rejected rows
//! lists the first 1,000 and says how many more there are, on the screen and beside the file.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use komlang_store::testing::engines;

mod common;
use common::*;

#[tokio::test]
async fn many_rejected_rows_are_counted_and_long_cells_read() {
    for engine in engines() {
        let dir = std::env::temp_dir().join(format!("komlang-limits-cli-{engine:?}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let (db, pg) = database(engine, &dir, "k").await;
        code(&komlang(&db, &["migrate"]), 0);
        let mut text = String::from("name_km,name_latin,sex,cadre,role,sector,workplace_code,status,notes\n");
        text.push_str(&format!(
            "សុខ,Sok,F,para_social_worker,ccwc_focal_point,government,010201,active,{}\n",
            "n".repeat(3_000)
        ));
        for _ in 0..1_100 {
            text.push_str("សុខ,Sok,nobody,para_social_worker,ccwc_focal_point,government,010201,active,\n");
        }
        let file = dir.join("staff.csv");
        std::fs::write(&file, text).unwrap();

        let out = code(&komlang(&db, &["import", "workers", file.to_str().unwrap(), "--dry-run"]), 1);
        assert!(out.contains("100 more rejected rows not shown"), "{engine:?}: {out}");
        assert!(out.contains("1101 worker rows: 1 added, 0 merged, 0 duplicates skipped, 1100 rejected"), "{out}");
        assert_eq!(out.matches(": rejected: ").count(), 1_000, "{engine:?}: the first thousand listed");

        let out = code(&komlang(&db, &["import", "workers", file.to_str().unwrap(), "--partial"]), 1);
        assert!(out.contains("It holds the first 1000 rejected rows; 100 more are not in it"), "{engine:?}: {out}");
        let rejected = std::fs::read(dir.join("staff.csv.rejected.csv")).unwrap();
        assert_eq!(komlang_io::TableReader::from_bytes("r.csv", rejected).unwrap().count(), 1_000);

        if let Some(pg) = pg {
            pg.cleanup().await;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
