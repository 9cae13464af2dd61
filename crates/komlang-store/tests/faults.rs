//! Faults an operator meets: the disk filling up under writers. Needs a small filesystem
//! (`.ci/run` mounts one and names it in `KOMLANG_TEST_SMALL_FS`).
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::HashSet;

use chrono::NaiveDate;
use komlang_core::validate::WorkerInput;
use komlang_core::AdminLevel;
use komlang_store::{bundled_cambodia_units, system_principal, Store, StoreError};

fn worker(name: &str) -> WorkerInput {
    WorkerInput {
        name_km: Some("សុខ ដារ៉ា".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some("020101".into()),
        status: Some("active".into()),
        // A long title, so that the disk fills after a few hundred workers.
        position_title: Some("x".repeat(150)),
        ..Default::default()
    }
}

/// A number written in letters (`a` for 0 … `j` for 9): Latin names hold no digits.
fn letters(n: usize) -> String {
    n.to_string().chars().map(|d| char::from(b'a' + d.to_digit(10).unwrap_or(0) as u8)).collect()
}

/// SQLite on a full disk: a write is acknowledged only once it is stored, no id is handed
/// out twice, and the store works again by itself once space returns, without a restart.
#[tokio::test]
async fn a_full_disk_loses_no_acknowledged_write_and_recovers_by_itself() {
    let Some(dir) = std::env::var_os("KOMLANG_TEST_SMALL_FS").map(std::path::PathBuf::from) else {
        eprintln!("skipped: set KOMLANG_TEST_SMALL_FS to a small empty filesystem (.ci/run does)");
        return;
    };
    // What an earlier run left (a failed run keeps its filler) would fill the disk from the start.
    for old in std::fs::read_dir(&dir).unwrap().flatten() {
        if old.file_name().to_string_lossy().starts_with("full-") {
            let _ = std::fs::remove_dir_all(old.path());
        }
    }
    let dir = dir.join(format!("full-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("komlang.db").display());
    let store = Store::open(&url).await.unwrap();
    let units: Vec<_> = bundled_cambodia_units()
        .into_iter()
        .filter(|u| matches!(u.level, AdminLevel::Country | AdminLevel::Province) || u.code.starts_with("0201"))
        .collect();
    store.load_admin_units(&units).await.unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
    let admin = system_principal("test");

    let filler = komlang_store::testing::fill_disk(&dir);
    // Eight writers on the full disk.
    let write = |round: &'static str, writers: usize, each: usize| {
        let mut tasks = Vec::new();
        for t in 0..writers {
            let (store, admin) = (store.clone(), admin.clone());
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                let mut failed = 0;
                for i in 0..each {
                    let name = format!("Sok {round} {}", letters(t * 1000 + i));
                    match store.create_worker(&admin, &worker(&name), today).await {
                        Ok(w) => acked.push((w.id, name)),
                        Err(StoreError::Invalid(e)) => panic!("{e:?}"),
                        Err(_) => failed += 1,
                    }
                }
                (acked, failed)
            }));
        }
        tasks
    };
    let mut acked = Vec::new();
    let mut failed = 0;
    for t in write("full", 8, 60) {
        let (a, f) = t.await.unwrap();
        acked.extend(a);
        failed += f;
    }
    assert!(failed > 0, "the disk never filled: the test tested nothing");

    // Space returns: the same store (no restart) takes every write again.
    std::fs::remove_file(&filler).unwrap();
    for t in write("after", 4, 10) {
        let (a, f) = t.await.unwrap();
        assert_eq!(f, 0, "writes fail after space returned");
        acked.extend(a);
    }
    let ids: HashSet<i64> = acked.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids.len(), acked.len(), "an id was handed out twice");
    for (id, name) in &acked {
        let w = store.get_worker(&admin, *id).await.unwrap();
        assert_eq!(w.map(|w| w.name_latin), Some(name.clone()), "acknowledged worker {id} is not readable");
    }
    store.close().await;

    // And every acknowledged write is in the file, as a fresh process reads it.
    let again = Store::open(&url).await.unwrap();
    for (id, name) in &acked {
        let w = again.get_worker(&admin, *id).await.unwrap();
        assert_eq!(w.map(|w| w.name_latin), Some(name.clone()), "acknowledged worker {id} was lost");
    }
    again.close().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
