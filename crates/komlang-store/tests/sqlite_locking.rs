//! SQLite: a write on a connection just opened, while another connection writes, waits for
//! the write lock instead of failing at once with "database is locked". (A connection's first
//! use of the full-text index reads its settings, which made a write transaction one that read
//! first; such a transaction cannot wait for the lock. Write transactions now take the lock
//! first: `BEGIN IMMEDIATE`.) This is what a server meets right after it starts, and after a
//! full disk made it replace its connections.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use komlang_store::testing::TestDb;
use komlang_store::{Engine, Store};

/// A worker named from a number (in letters: Latin names hold no digits).
fn input(n: usize) -> komlang_core::validate::WorkerInput {
    let name: String = n.to_string().chars().map(|d| char::from(b'a' + d.to_digit(10).unwrap() as u8)).collect();
    komlang_core::validate::WorkerInput {
        name_km: Some("សុខ សុភា".into()),
        name_latin: Some(format!("Sok {name}")),
        sex: Some("female".into()),
        date_of_birth: Some("1988-02-03".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_member".into()),
        sector: Some("government".into()),
        workplace_code: Some("020801".into()),
        status: Some("active".into()),
        start_date: Some("2019-01-15".into()),
        ..Default::default()
    }
}
/// Creates 40 workers, each on a newly opened store, while another task creates workers
/// without pause; the writes that failed.
async fn failures_of_new_connections() -> u32 {
    let db = TestDb::with_units(Engine::Sqlite).await;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let p = komlang_store::system_principal("t");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (s, st, p2) = (db.store.clone(), stop.clone(), p.clone());
    let bg = tokio::spawn(async move {
        let mut i = 0;
        while !st.load(std::sync::atomic::Ordering::SeqCst) {
            i += 1;
            let _ = s.create_worker(&p2, &input(i), today).await;
        }
    });
    let mut fails = 0;
    for k in 0..40 {
        let s2 = Store::connect(&db.url).await.unwrap();
        if let Err(e) = s2.create_worker(&p, &input(100000 + k), today).await {
            eprintln!("{e:?}");
            fails += 1;
        }
        s2.close().await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    bg.await.unwrap();
    db.cleanup().await;
    fails
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connection_waits_for_the_write_lock() {
    assert_eq!(failures_of_new_connections().await, 0);
}
