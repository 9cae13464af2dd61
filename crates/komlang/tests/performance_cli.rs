//! `komlang job-descriptions` and `komlang appraisals` end to end, with the built binary, on
//! every engine, on the demo data set.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use komlang_store::testing::{engines, TestDb};
use komlang_store::Engine;
use serde_json::Value;

mod common;
use common::*;

fn exercise(db: &str, dir: &std::path::Path) {
    ok(&komlang(db, &["migrate"]));
    // The shipped descriptions, the focal point's first.
    let list = ok(&komlang(db, &["job-descriptions", "list"]));
    assert!(list.lines().any(|l| l.starts_with("ccwc_focal_point\t1\tyes\t7\t")), "{list}");
    // A bad file names the field and loads nothing; a good one becomes version 2.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"descriptions":[{"role":"ccwc_focal_point","title_en":"x","title_km":"y","functions":[{"code":"a b","name_en":"A","name_km":"ក"}]}]}"#).unwrap();
    let o = komlang(db, &["job-descriptions", "load", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("descriptions[0].functions[0].code"), "{}", err(&o));
    let good = dir.join("good.json");
    std::fs::write(&good, r#"{"descriptions":[{"role":"ccwc_focal_point","title_en":"Focal point","title_km":"មន្ត្រីបង្គោល","functions":[{"code":"a","name_en":"A","name_km":"ក"}]}]}"#).unwrap();
    let out = ok(&komlang(db, &["job-descriptions", "load", good.to_str().unwrap()]));
    assert!(out.contains("ccwc_focal_point version 2"), "{out}");
    let list = ok(&komlang(db, &["job-descriptions", "list"]));
    assert!(list.contains("ccwc_focal_point\t2\tyes\t1\t") && list.contains("ccwc_focal_point\t1\t\t7\t"), "{list}");

    ok(&komlang(db, &["demo"]));
    let csv = ok(&komlang(db, &["appraisals", "--level", "district", "--parent", "02"]));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "unit,name_en,name_km,workers,due,overdue,unknown,completed,open_corrective,corrective_late,overdue_share"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.last().unwrap().starts_with(",Total,"), "{csv}");
    let json: Value = serde_json::from_str(&ok(&komlang(
        db,
        &["appraisals", "--level", "district", "--parent", "02", "--format", "json"],
    )))
    .unwrap();
    assert_eq!(json["items"].as_array().unwrap().len() + 2, rows.len() + 1, "the CSV's units and the total");
    assert!(json["total"]["overdue"].as_u64().unwrap() > 0, "{json}");
    // The province's figure counts its own offices' workers too: the list's length.
    let json: Value = serde_json::from_str(&ok(&komlang(
        db,
        &["appraisals", "--level", "province", "--parent", "02", "--format", "json"],
    )))
    .unwrap();
    let overdue = json["total"]["overdue"].as_u64().unwrap();
    let list = ok(&komlang(db, &["appraisals", "--list", "overdue", "--parent", "02"]));
    assert_eq!(list.lines().count() as u64 - 1, overdue.min(1000), "one line per overdue worker: {list}");
    let o = komlang(db, &["appraisals", "--list", "overdue", "--parent", "99"]);
    assert_ne!(o.status.code(), Some(0), "an unknown unit is an error");

    // The demo's round in progress: listed, its candidates ranked, candidates imported.
    let list = ok(&komlang(db, &["recruitment-rounds", "list"]));
    let line = list.lines().nth(1).unwrap_or_else(|| panic!("a round: {list}"));
    let id = line.split('\t').next().unwrap().to_string();
    assert!(line.contains("\tprovincial\t02\topen\t"), "{line}");
    let csv = ok(&komlang(db, &["recruitment-rounds", "show", &id]));
    let before = csv.lines().count();
    assert!(csv.starts_with("round,rank,candidate_id,"), "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with(&format!("{id},1,")), "the best ranked first: {csv}");
    let bad = dir.join("candidates-bad.csv");
    std::fs::write(&bad, "name_km,name_latin,sex\nសុខ,Sok One,female\nដារា,Dara Two,robot\n").unwrap();
    let o = komlang(db, &["recruitment-rounds", "import-candidates", "--round", &id, bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", err(&o));
    assert!(err(&o).contains("row 3: sex"), "{}", err(&o));
    assert_eq!(ok(&komlang(db, &["recruitment-rounds", "show", &id])).lines().count(), before, "nothing was imported");
    let good = dir.join("candidates.csv");
    std::fs::write(
        &good,
        "name_km,name_latin,sex,education_level\nសុខ,Sok One,female,bachelor\nដារា,Dara Two,male,tvc2\n",
    )
    .unwrap();
    let out = ok(&komlang(db, &["recruitment-rounds", "import-candidates", "--round", &id, good.to_str().unwrap()]));
    assert!(out.contains("Imported 2 candidate(s)"), "{out}");
    assert_eq!(ok(&komlang(db, &["recruitment-rounds", "show", &id])).lines().count(), before + 2);
}

#[tokio::test]
async fn job_descriptions_and_appraisals_on_every_engine() {
    for engine in engines() {
        let dir = std::env::temp_dir().join(format!("komlang-perf-cli-{}-{engine:?}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        match engine {
            Engine::Sqlite => exercise(&format!("sqlite://{}", dir.join("perf.db").display()), &dir),
            Engine::Postgres => {
                let db = TestDb::empty(Engine::Postgres).await;
                exercise(&db.url, &dir);
                db.cleanup().await;
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
