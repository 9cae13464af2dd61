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
//! 100,000) spread over them and population figures for every commune. Also timed: the home
//! page's counts (from the worker tallies, before and after they are merged) and, for
//! comparison, the same counts taken from every worker as they were before the tallies.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::time::Instant;

use komlang_core::planning::INVESTMENT_CASE;
use komlang_core::AdminLevel;
use komlang_core::{Principal, Scope};
use komlang_store::planning::{FactsQuery, PlanRequest};
use komlang_store::system_principal;
use komlang_store::testing::{engines, TestDb};
use komlang_store::Store;

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
        // Certificates for one worker in 20, licences for one in 50 (one in 100 of them lapsed).
        for sql in [
            "INSERT INTO certificates (number, worker_id, programme_id, level, issued_on, issued_by, created_at) \
             SELECT 'C-' || id, id, (SELECT MIN(id) FROM training_programmes), 'certificate', '2025-01-01', 'bench', \
             '2025-01-01T00:00:00Z' FROM workers WHERE id % 20 = 0",
            "INSERT INTO licences (worker_id, number, status, applied_on, issued_on, term_start, expires_on, \
             created_at, updated_at) SELECT id, 'L-' || id, 'active', '2024-01-01', '2024-01-02', '2024-01-02', \
             CASE WHEN id % 100 = 0 THEN '2025-06-01' ELSE '2027-01-01' END, '2024-01-02T00:00:00Z', \
             '2024-01-02T00:00:00Z' FROM workers WHERE id % 50 = 0",
        ] {
            sqlx::query(sql).execute(s.pool()).await.unwrap();
        }
        let p = system_principal("bench");
        let province = Principal { scope: Scope::Unit { code: "12".into(), level: AdminLevel::Province }, ..p.clone() };

        // Worker tallies: as the load left them (PostgreSQL: one delta row per group and
        // statement), then merged as an import or the server does.
        let rows = s.worker_tally_rows().await.unwrap();
        println!("  tally rows after the load: {rows}");
        println!("  home counts before merging: {:.1} ms", median(|| overview(s, &p)).await);
        let t = Instant::now();
        let c = s.compact_worker_tallies().await.unwrap();
        println!(
            "  tallies merged: {} -> {} rows in {:.1} ms",
            c.rows_before,
            c.rows_after,
            t.elapsed().as_secs_f64() * 1000.0
        );
        println!("  home counts, the country: {:.1} ms", median(|| overview(s, &p)).await);
        println!("  home counts, one province: {:.1} ms", median(|| overview(s, &province)).await);
        // What the home counts cost when every worker is counted (the queries before the tallies).
        let old = || async {
            for col in ["cadre", "sector", "status"] {
                sqlx::query(&format!(
                    "SELECT w.{col}, COUNT(*) FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
                     WHERE 1 = 1 GROUP BY w.{col} ORDER BY w.{col}"
                ))
                .fetch_all(s.pool())
                .await
                .unwrap();
            }
            // The licence count of then is left out: on SQLite it scans the valid licences
            // once per worker (no index on licences.worker_id for status 'active' alone).
            for cond in ["EXISTS (SELECT 1 FROM certificates ce WHERE ce.worker_id = w.id AND ce.revoked_on IS NULL)"] {
                sqlx::query(&format!(
                    "SELECT COUNT(*) FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
                     WHERE {cond} AND w.status IN ('active', 'on_leave')"
                ))
                .fetch_one(s.pool())
                .await
                .unwrap();
            }
        };
        println!(
            "  the same counted from the records (before the tallies; without the licences): {:.1} ms",
            median(old).await
        );
        let old_coverage = || async {
            sqlx::query(
                "SELECT u.province_code AS k, w.sector, w.cadre, w.role, COUNT(*) AS n FROM workers w \
                 JOIN admin_units u ON u.code = w.workplace_code \
                 WHERE w.status IN ('active', 'on_leave') AND u.province_code IS NOT NULL \
                 GROUP BY u.province_code, w.sector, w.cadre, w.role",
            )
            .fetch_all(s.pool())
            .await
            .unwrap();
        };
        println!(
            "  coverage's worker count by province from the records (before the tallies): {:.1} ms",
            median(old_coverage).await
        );

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
        if std::env::var_os("COVERAGE_BENCH_KEEP").is_some() {
            // Left for a look with sqlite3 or psql.
            println!("  kept: {}", db.url);
            std::mem::forget(db);
        } else {
            db.cleanup().await;
        }
    }
}

/// The home page's reads: counts by cadre, sector and status, and the certified and licensed.
async fn overview(s: &Store, p: &Principal) {
    for col in ["cadre", "sector", "status"] {
        s.count_workers_by(p, col).await.unwrap();
    }
    s.certified_and_licensed(p, chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).await.unwrap();
}

/// Median of 5 runs, in milliseconds.
async fn median<F, Fut>(mut f: F) -> f64
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        f().await;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times[2]
}
