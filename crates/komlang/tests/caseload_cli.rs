//! `komlang caseload` end to end, on every engine: the exit codes the README promises (0 every
//! row read, 1 some refused, 2 the file could not be read), a user linked to a worker once and
//! their open cases counted, nothing of a column not mapped kept.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use komlang_store::testing::engines;

mod common;
use common::*;

#[tokio::test]
async fn caseload_import_exit_codes_and_links() {
    for engine in engines() {
        let dir = temp_dir(&format!("caseload-{engine:?}"));
        let (db, _pg) = database(engine, &dir, "c").await;
        code(&komlang(&db, &["migrate"]), 0);
        let staff = dir.join("staff.csv");
        std::fs::write(
            &staff,
            "name_km,name_latin,sex,cadre,role,sector,workplace_code,status\n\
             សុខ ដារ៉ា,Sok Dara,F,para_social_worker,ccwc_focal_point,government,010201,active\n",
        )
        .unwrap();
        code(&komlang(&db, &["import", "workers", staff.to_str().unwrap()]), 0);
        let worker = scalar(&db, "SELECT id FROM workers").await.to_string();

        // Primero's full CSV: a child's name beside the columns read.
        let good = dir.join("primero.csv");
        std::fs::write(
            &good,
            "id,case_id_display,name,status,owned_by,location_current,registration_date\n\
             u1,C-1,Secret Name,open,cp_sok,010201,2025-01-02\n\
             u2,C-2,Secret Name,open,cp_sok,010201,2025-01-03\n\
             u3,C-3,Secret Name,closed,cp_sok,010201,2025-01-04\n",
        )
        .unwrap();
        let g = good.to_str().unwrap();
        let text = code(&komlang(&db, &["caseload", "import", g, "--source", "primero", "--as-of", "2026-11-30"]), 0);
        assert!(text.contains("3 case rows: 3 added") && text.contains("committed"), "{engine:?}: {text}");
        let kept = scalar(&db, "SELECT COUNT(*) FROM caseload_cases WHERE owner_key = 'cp_sok'").await;
        assert_eq!(kept, 3);
        let leaked = scalar(&db, "SELECT COUNT(*) FROM imports WHERE report_json LIKE '%Secret%'").await;
        assert_eq!(leaked, 0, "{engine:?}: a column not mapped reached the report");

        // The user not linked yet, then linked: their two open cases.
        let text = code(&komlang(&db, &["caseload", "owners", "--unlinked"]), 0);
        assert!(text.contains("cp_sok") && text.contains("2 open") && text.contains("not linked"), "{text}");
        code(&komlang(&db, &["caseload", "link", "--source", "primero", "--owner", "CP_Sok", "--worker", &worker]), 0);
        let text = code(&komlang(&db, &["caseload", "owners"]), 0);
        assert!(text.contains(&format!("worker {worker} (Sok Dara)")), "{text}");
        let o = komlang(&db, &["caseload", "link", "--source", "primero", "--owner", "x", "--worker", "999999"]);
        bad_input(&o, "unknown_worker");

        // Some rows refused: exit 1, each named, nothing written; --partial keeps the others.
        let bad = dir.join("bad.csv");
        std::fs::write(&bad, "case_id_display,status,owned_by\nC-9,open,cp_sok\nC-10,asleep,cp_sok\n").unwrap();
        let b = bad.to_str().unwrap();
        let text = code(&komlang(&db, &["caseload", "import", b, "--source", "primero", "--as-of", "2026-12-01"]), 1);
        assert!(text.contains("row 3: rejected") && text.contains("invalid_choice"), "{text}");
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM caseload_snapshots").await, 1);
        let args = ["caseload", "import", b, "--source", "primero", "--as-of", "2026-12-01", "--partial"];
        let text = code(&komlang(&db, &args), 1);
        assert!(text.contains("1 added") && text.contains("committed"), "{text}");
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM caseload_snapshots").await, 2);

        // The file could not be read, or lacks a required column: exit 2.
        let missing = dir.join("none.csv");
        code(&komlang(&db, &["caseload", "import", missing.to_str().unwrap(), "--source", "oscar"]), 2);
        let no_status = dir.join("nostatus.csv");
        std::fs::write(&no_status, "ID,Case Worker\nA-1,Sok Dara\n").unwrap();
        let o = komlang(&db, &["caseload", "import", no_status.to_str().unwrap(), "--source", "oscar"]);
        bad_input(&o, "missing_required_column");
        // A header of the user's own for the status.
        let own = dir.join("own.csv");
        std::fs::write(&own, "ID,State,Case Worker\nA-1,Active,Sok Dara\n").unwrap();
        let args = ["caseload", "import", own.to_str().unwrap(), "--source", "oscar", "--column", "status=State"];
        code(&komlang(&db, &args), 0);
        let o = komlang(&db, &["caseload", "import", g, "--source", "nobody"]);
        bad_input(&o, "source");
    }
}
