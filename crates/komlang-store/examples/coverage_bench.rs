//! Planning over the database (not a test): how long the coverage of every
//! unit of a level and a whole-country plan take when the facts come from
//! the store's grouped queries, on SQLite and PostgreSQL.
//!
//! ```sh
//! cargo run --release -p komlang-store --example coverage_bench -- 100000
//! KOMLANG_TEST_ENGINES=sqlite cargo run --release -p komlang-store --example coverage_bench
//! ```
//!
//! A throw-away database per engine (as the tests make them) gets Cambodia's
//! 2025 provinces, districts and communes, N synthetic workers (default
//! 100,000) spread over them and population figures for every commune.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::time::Instant;

use komlang_core::planning::INVESTMENT_CASE;
use komlang_core::AdminLevel;
use komlang_store::planning::{FactsQuery, PlanRequest};
use komlang_store::system_principal;
use komlang_store::testing::{engines, TestDb};

#[tokio::main]
async fn main() {
    let n: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let communes: Vec<String> =
            sqlx::query_scalar("SELECT code FROM admin_units WHERE level = 'commune' ORDER BY code")
                .fetch_all(s.pool())
                .await
                .unwrap();
        let districts: Vec<String> =
            sqlx::query_scalar("SELECT code FROM admin_units WHERE level = 'district' ORDER BY code")
                .fetch_all(s.pool())
                .await
                .unwrap();
        let started = Instant::now();
        let roles = ["ccwc_focal_point", "ccwc_member", "ngo_case_worker"];
        let mut tx = s.pool().begin().await.unwrap();
        for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
            let mut sql = String::from(
                "INSERT INTO workers (name_km, name_latin, sex, cadre, role, sector, workplace_code, status, \
                 synthetic, created_at, updated_at) VALUES ",
            );
            for (k, i) in chunk.iter().enumerate() {
                if k > 0 {
                    sql.push_str(", ");
                }
                // About one social work agent in 100 workers and one district social
                // worker in 500: many communes and districts keep a gap.
                let role = match i % 500 {
                    1 => "district_social_worker",
                    k if k % 100 == 0 => "social_work_agent",
                    k => roles[k % 3],
                };
                let place = if role == "district_social_worker" {
                    &districts[i % districts.len()]
                } else {
                    &communes[(i * 7919) % communes.len()]
                };
                let sector = if role == "ngo_case_worker" { "ngo" } else { "government" };
                sql.push_str(&format!(
                    "('ក', 'W{i}', 'female', 'para_professional', '{role}', '{sector}', '{place}', 'active', 1, \
                     '2025-01-01T00:00:00Z', '2025-01-01T00:00:00Z')"
                ));
            }
            sqlx::query(&sql).execute(&mut *tx).await.unwrap();
        }
        for (k, c) in communes.iter().enumerate() {
            sqlx::query(
                "INSERT INTO population (admin_code, year, sex, age_group, count) VALUES ($1, 2024, 'total', 'total', $2), \
                 ($1, 2024, 'total', '0-17', $3)",
            )
            .bind(c)
            .bind(5_000 + (k as i64 * 37) % 20_000)
            .bind(2_000 + (k as i64 * 17) % 8_000)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        println!("{engine:?}: {n} workers and population loaded in {:.1} s", started.elapsed().as_secs_f64());

        let p = system_principal("bench");
        for level in [AdminLevel::Province, AdminLevel::District, AdminLevel::Commune] {
            let q = FactsQuery { level, parent: None, year: 2025 };
            let mut times = Vec::new();
            let mut units = 0;
            let mut gap = 0;
            for _ in 0..5 {
                let t = Instant::now();
                let r = s.coverage_report(&p, INVESTMENT_CASE, &q).await.unwrap();
                times.push(t.elapsed());
                units = r.units.len();
                gap = r.totals.gap;
            }
            times.sort();
            println!(
                "  coverage of {units:>4} {:<9} {:>8.1} ms (gap {gap})",
                level.code(),
                times[2].as_secs_f64() * 1000.0
            );
        }
        let req = PlanRequest {
            name: "bench".into(),
            norm: INVESTMENT_CASE.into(),
            parent: None,
            posts: Some(2079),
            start_year: 2025,
            target_year: 2027,
            yearly_capacity: Some(700),
            weights: Default::default(),
            cap_per_unit: None,
            level_order: Vec::new(),
            blocked: Vec::new(),
        };
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..5 {
            let t = Instant::now();
            total = s.generate_plan(&p, &req).await.unwrap().total;
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "  plan of 2,079 posts over the country (facts read + plan): {:.1} ms ({total} placed)",
            times[2].as_secs_f64() * 1000.0
        );
        db.cleanup().await;
    }
}
