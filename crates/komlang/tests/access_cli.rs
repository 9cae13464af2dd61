//! The access decisions that the layers used to disagree on, through the CLI's `--as`:
//! the same rules as the pages and the API (docs/access.md).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use komlang_store::testing::{engines, TestDb};
use komlang_store::Engine;

mod common;
use common::*;

#[tokio::test]
async fn officers_import_organizations_in_scope_but_not_population() {
    for engine in engines() {
        let d = temp_dir(&format!("access-{engine:?}"));
        let pg = match engine {
            Engine::Postgres => Some(TestDb::empty(Engine::Postgres).await),
            Engine::Sqlite => None,
        };
        let db = match &pg {
            Some(t) => t.url.clone(),
            None => format!("sqlite://{}", d.join("a.db").display()),
        };
        code(&komlang(&db, &["migrate"]), 0);
        let add = |name: &str, role: &str, scope: &str| {
            let mut args = vec!["user", "add", "--username", name, "--password", "officer-pass-1", "--role", role];
            if !scope.is_empty() {
                args.extend(["--scope", scope]);
            }
            code(&komlang(&db, &args), 0);
        };
        add("btb", "provincial-officer", "02");
        add("viewer", "national-viewer", "");

        // Organizations: a provincial officer imports those located in the province; a row
        // elsewhere is refused by row and field, and (all-or-nothing) nothing is added.
        let orgs = d.join("orgs.csv");
        std::fs::write(
            &orgs,
            "name_en,name_km,kind,registration_no,admin_code\nHelp BB,ជំនួយ,ngo,MOI-7,02\nFar,ឆ្ងាយ,ngo,MOI-8,12\n",
        )
        .unwrap();
        let o = komlang(&db, &["import", "organizations", orgs.to_str().unwrap(), "--as", "btb"]);
        let t = said(&o, 1);
        assert!(t.contains("row 3") && t.contains("out_of_scope"), "{t}");
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM organizations WHERE name_en IN ('Help BB', 'Far')").await, 0);
        std::fs::write(&orgs, "name_en,name_km,kind,registration_no,admin_code\nHelp BB,ជំនួយ,ngo,MOI-7,02\n").unwrap();
        let t = code(&komlang(&db, &["import", "organizations", orgs.to_str().unwrap(), "--as", "btb"]), 0);
        assert!(t.contains("1 added"), "{t}");
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM organizations WHERE name_en = 'Help BB'").await, 1);

        // A national viewer imports nothing.
        let o = komlang(&db, &["import", "organizations", orgs.to_str().unwrap(), "--as", "viewer"]);
        let t = said(&o, 3);
        assert!(t.contains("not allowed"), "{t}");

        // Population figures: national administrators only, even for units in one's scope.
        let pop = d.join("pop.csv");
        std::fs::write(&pop, "Admin unit code,Year,Sex,Age group,Count\n02,2024,total,total,1036523\n").unwrap();
        let o = komlang(&db, &["import", "population", pop.to_str().unwrap(), "--as", "btb"]);
        let t = said(&o, 3);
        assert!(t.contains("not allowed"), "{t}");
        assert_eq!(scalar(&db, "SELECT COUNT(*) FROM population").await, 0);
        let t = code(&komlang(&db, &["import", "population", pop.to_str().unwrap()]), 0);
        assert!(t.contains("1 added"), "{t}");

        if let Some(pg) = pg {
            pg.cleanup().await;
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
