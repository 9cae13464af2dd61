//! `komlang coverage` and `komlang plan` end to end, with the built binary, on every engine.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use komlang_store::testing::{engines, TestDb};
use komlang_store::Engine;
use serde_json::Value;

mod common;
use common::*;

fn exercise(db: &str) {
    ok(&komlang(db, &["migrate"]));

    // Coverage of the built-in norm on the shipped 2025 units.
    let csv = ok(&komlang(db, &["coverage", "--level", "district", "--format", "csv"]));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "admin_code,level,name_en,name_km,in_post,required,gap,vacancies,government_workers,population,children,\
             open_cases,per_10k_population,per_100k_children"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 210, "one row per district");
    assert!(rows.iter().all(|r| r.split(',').nth(5) == Some("2")), "two posts per district");
    let json: Value = serde_json::from_str(&ok(&komlang(db, &["coverage", "--level", "commune", "--format", "json"])))
        .expect("coverage JSON");
    assert_eq!(json["units"].as_array().unwrap().len(), 1661);
    assert_eq!(json["totals"]["required"], 1661);
    let json: Value = serde_json::from_str(&ok(&komlang(
        db,
        &["coverage", "--level", "province", "--format", "json", "--parent", "02"],
    )))
    .unwrap();
    assert_eq!(json["units"][0]["code"], "02");
    assert_eq!(json["units"].as_array().unwrap().len(), 1);

    // Without --posts: the whole gap of the investment case, 1,661 + 2 × 210 + 25.
    let out = ok(&komlang(db, &["plan", "--format", "json"]));
    assert!(out.starts_with("{\"posts\":[{\"admin_code\":"), "the contract's field order: {}", &out[..80]);
    let plan: Value = serde_json::from_str(&out).expect("plan JSON");
    assert_eq!(plan.as_object().unwrap().keys().collect::<Vec<_>>(), vec!["posts", "total"]);
    assert_eq!(plan["total"], 2106);
    let posts = plan["posts"].as_array().unwrap();
    let sum: u64 = posts.iter().map(|p| p["count"].as_u64().unwrap()).sum();
    assert_eq!(sum, 2106);
    for p in posts {
        let mut keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, vec!["admin_code", "count", "level", "reason", "year"], "{p}");
        assert!(p["reason"].as_str().unwrap().contains("priority rank"));
        assert!(["province", "district", "commune"].contains(&p["level"].as_str().unwrap()));
    }
    // --posts, --target-year, --norm.
    let out = ok(&komlang(
        db,
        &[
            "plan",
            "--posts",
            "2079",
            "--start-year",
            "2025",
            "--target-year",
            "2027",
            "--capacity",
            "700",
            "--norm",
            "investment-case-2023",
            "--format",
            "json",
        ],
    ));
    let plan: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(plan["total"], 2079);
    for y in 2025..=2027 {
        let n: u64 = plan["posts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["year"] == y)
            .map(|p| p["count"].as_u64().unwrap())
            .sum();
        assert_eq!(n, if y < 2027 { 700 } else { 679 }, "{y}");
    }
    // The same inputs give the same plan.
    assert_eq!(
        out,
        ok(&komlang(
            db,
            &[
                "plan",
                "--posts",
                "2079",
                "--start-year",
                "2025",
                "--target-year",
                "2027",
                "--capacity",
                "700",
                "--format",
                "json",
            ],
        ))
    );
    // Bad input.
    let o = komlang(db, &["plan", "--norm", "nope", "--format", "json"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("norm_missing"));
    let o = komlang(db, &["coverage", "--level", "village", "--format", "csv"]);
    assert_eq!(o.status.code(), Some(2));
    let o = komlang(db, &["plan", "--start-year", "2027", "--target-year", "2025", "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("target_before_start"));

    // The establishment by province: no posts approved yet.
    let csv = ok(&komlang(db, &["establishment", "--level", "province", "--year", "2026", "--format", "csv"]));
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("unit,name_en,name_km,year,approved,filled,vacant,vacancy_rate"));
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 25, "{csv}");
    assert!(rows.iter().all(|r| r.ends_with(",2026,0,0,0,")), "{csv}");
    let json: Value =
        serde_json::from_str(&ok(&komlang(db, &["establishment", "--level", "district", "--format", "json"]))).unwrap();
    assert_eq!(json["items"].as_array().unwrap().len(), 210);
    let o = komlang(db, &["establishment", "--level", "district", "--parent", "99", "--format", "csv"]);
    assert_ne!(o.status.code(), Some(0), "an unknown parent is an error");

    // The recruitment need by province: no posts, so nothing to recruit; the total last.
    let csv = ok(&komlang(db, &["recruitment-need", "--level", "province", "--year", "2027"]));
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("year,unit,name_en,name_km,vacant,filled,retiring,birth_unknown,other_exits,expected_exits,planned,to_recruit")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 26, "25 provinces and the total: {csv}");
    assert!(rows.iter().all(|r| r.starts_with("2027,") && r.ends_with(",0,0,0,0,0.00,0,0,0")), "{csv}");
    let json: Value = serde_json::from_str(&ok(&komlang(
        db,
        &["recruitment-need", "--level", "district", "--parent", "02", "--year", "2027", "--format", "json"],
    )))
    .unwrap();
    assert_eq!((json["year"].as_i64(), json["retirement_age"].as_i64()), (Some(2027), Some(60)));
    assert!(json["items"].as_array().unwrap().iter().all(|u| u["unit"].as_str().unwrap().starts_with("02")));
    let o = komlang(db, &["recruitment-need", "--level", "province", "--year", "3000"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("invalid_year"));
}

#[tokio::test]
async fn coverage_and_plan_commands_on_every_engine() {
    for engine in engines() {
        match engine {
            Engine::Sqlite => {
                let dir = std::env::temp_dir().join(format!("komlang-plan-cli-{}", std::process::id()));
                std::fs::create_dir_all(&dir).unwrap();
                exercise(&format!("sqlite://{}", dir.join("plan.db").display()));
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
