//! Worker search and list counts at national scale (not a test): how long a search and a
//! filtered list take, alone and with 64 clients at once, on a database of N workers.
//!
//! ```sh
//! cargo run --release -p komlang-store --example search_bench -- sqlite:///tmp/sb/sb.db 1000000
//! cargo run --release -p komlang-store --example search_bench -- postgres://postgres@127.0.0.1/sb 1000000
//! ```
//!
//! The database is created and filled once (through the store's import: names from the demo's
//! Khmer family and given names, a phone and a national ID each) and kept for the next runs.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark: a failed unwrap is a failed run")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use komlang_core::demo::{FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES};
use komlang_core::import::guess_mapping;
use komlang_store::{system_principal, DupDecision, Store, WorkerImportOptions, WorkerQuery};
use sqlx::Row;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[(self.next() % v.len() as u64) as usize]
    }
}

async fn fill(store: &Store, n: usize) {
    let have: i64 = sqlx::query("SELECT COUNT(*) FROM workers").fetch_one(store.pool()).await.unwrap().get(0);
    if have as usize >= n {
        return;
    }
    let communes: Vec<String> =
        sqlx::query_scalar("SELECT code FROM admin_units WHERE level = 'commune' ORDER BY code")
            .fetch_all(store.pool())
            .await
            .unwrap();
    let headers: Vec<String> = [
        "name_km",
        "name_latin",
        "sex",
        "date_of_birth",
        "national_id",
        "phone",
        "cadre",
        "role",
        "sector",
        "workplace_code",
        "status",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut r = Rng(42);
    let start = have as usize;
    let rows = (start..n).map(move |i| {
        let (fk, fl) = r.pick(FAMILY_NAMES);
        let female = r.next().is_multiple_of(2);
        let (gk, gl) = r.pick(if female { FEMALE_NAMES } else { MALE_NAMES });
        let phone = format!("0{}{:07}", r.pick(&["12", "11", "17", "92", "97", "77"]), r.next() % 10_000_000);
        Ok((
            i as u64 + 2,
            vec![
                format!("{fk} {gk}"),
                format!("{fl} {gl}"),
                if female { "female" } else { "male" }.into(),
                format!("{}-{:02}-{:02}", 1960 + r.next() % 45, 1 + r.next() % 12, 1 + r.next() % 28),
                format!("K{i:09}"),
                phone,
                "para_social_worker".into(),
                "ccwc_focal_point".into(),
                "government".into(),
                communes[(r.next() % communes.len() as u64) as usize].clone(),
                "active".into(),
            ],
        ))
    });
    let opts = WorkerImportOptions {
        file_name: "bench.csv".into(),
        file_sha256: "ab".repeat(32),
        default_decision: DupDecision::KeepBoth,
        ..Default::default()
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    let t = Instant::now();
    let report = store
        .import_workers(&system_principal("bench"), &headers, rows, &guess_mapping(&headers), &opts, today)
        .await
        .unwrap();
    println!("imported {} workers in {:.1} s", report.added, t.elapsed().as_secs_f64());
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let url = std::env::args().nth(1).expect("a database URL");
    let n: usize = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let store = Store::open(&url).await.unwrap();
    store.ensure_reference_data().await.unwrap();
    fill(&store, n).await;
    let t = Instant::now();
    let keyed = store.ensure_search_keys().await.unwrap();
    if keyed > 0 {
        println!("search keys of {keyed} workers in {:.1} s", t.elapsed().as_secs_f64());
    }
    let admin = system_principal("bench");
    let queries: Vec<WorkerQuery> =
        ["sok", "dara", "chan sophea", "សុខ", "ដារ៉ា", "so", "ch", "012", "zzq", "K000123456", "sreymom", "ly"]
            .iter()
            .map(|q| WorkerQuery { q: Some(q.to_string()), ..Default::default() })
            .chain([
                WorkerQuery::default(),
                WorkerQuery { province: Some("12".into()), ..Default::default() },
                WorkerQuery { commune: Some("120101".into()), ..Default::default() },
                WorkerQuery { q: Some("sok".into()), province: Some("12".into()), ..Default::default() },
                WorkerQuery { q: Some("sok".into()), page: 40, ..Default::default() },
            ])
            .collect();
    let label = |q: &WorkerQuery| {
        format!(
            "q={:?} province={:?} commune={:?} page={}",
            q.q.as_deref().unwrap_or(""),
            q.province.as_deref().unwrap_or(""),
            q.commune.as_deref().unwrap_or(""),
            q.page.max(1)
        )
    };
    println!("one client, page 1 of 50 (median / max of 20 runs, ms):");
    for q in &queries {
        let mut times = Vec::new();
        let mut total = (0, false);
        for _ in 0..20 {
            let t = Instant::now();
            let p = store.list_workers(&admin, q).await.unwrap();
            times.push(t.elapsed().as_secs_f64() * 1e3);
            total = (p.total, p.total_is_lower_bound);
        }
        let max = times.iter().copied().fold(0.0, f64::max);
        println!(
            "  {:<60} {:>8.2} {:>8.2}  total {}{}",
            label(q),
            pct(&mut times, 0.5),
            max,
            if total.1 { "> " } else { "" },
            total.0
        );
    }

    // 64 clients, each asking the queries in turn for 10 s: the searches without filters,
    // then every query above.
    let plain: Vec<WorkerQuery> =
        queries.iter().filter(|q| q.q.is_some() && q.province.is_none() && q.page <= 1).cloned().collect();
    for (what, set) in [("searches without filters", plain), ("every query above", queries.clone())] {
        let set = Arc::new(set);
        let stop = Instant::now() + Duration::from_secs(10);
        let mut tasks = Vec::new();
        for c in 0..64usize {
            let (store, set, admin) = (store.clone(), set.clone(), admin.clone());
            tasks.push(tokio::spawn(async move {
                let mut times = Vec::new();
                let mut i = c;
                while Instant::now() < stop {
                    let t = Instant::now();
                    store.list_workers(&admin, &set[i % set.len()]).await.unwrap();
                    times.push(t.elapsed().as_secs_f64() * 1e3);
                    i += 1;
                }
                times
            }));
        }
        let started = Instant::now();
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "64 clients, {what}: {} in {secs:.1} s, {:.0}/s, p50 {:.1} ms, p99 {:.1} ms",
            all.len(),
            all.len() as f64 / secs,
            pct(&mut all, 0.5),
            pct(&mut all, 0.99)
        );
    }
}
