//! Many workers at once, for tests of big lists and downloads.

use komlang_core::import::guess_mapping;
use komlang_store::{system_principal, Store, WorkerImportOptions};

/// Adds `n` workers at `workplace` through the store's bulk import (fast); returns the ids
/// of every worker of the database, in order.
pub async fn add_workers(store: &Store, n: usize, workplace: &str) -> Vec<i64> {
    let headers: Vec<String> =
        ["name_km", "name_latin", "sex", "cadre", "role", "sector", "workplace_code", "status", "position_title"]
            .iter()
            .map(|h| h.to_string())
            .collect();
    let rows = (0..n).map(|i| {
        Ok((
            i as u64 + 2,
            vec![
                format!("សុខ សុភាព {}", letters(i, 'ក')),
                format!("Sok Sopheap {}", letters(i, 'a')),
                if i % 2 == 0 { "female" } else { "male" }.to_string(),
                "para_social_worker".to_string(),
                "ccwc_focal_point".to_string(),
                "government".to_string(),
                workplace.to_string(),
                "active".to_string(),
                format!("Commune focal point for children and families, team {i}"),
            ],
        ))
    });
    let opts = WorkerImportOptions {
        file_name: "many.csv".into(),
        file_sha256: "ab".repeat(32),
        default_decision: komlang_store::DupDecision::KeepBoth,
        ..Default::default()
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap();
    let sys = system_principal("test");
    let report =
        store.import_workers(&sys, &headers, rows, &guess_mapping(&headers), &opts, today).await.expect("bulk import");
    assert_eq!(report.added as usize, n, "every worker added: {:?}", report.rejected.first());
    let mut ids = Vec::new();
    store
        .export_workers(&sys, &Default::default(), |row| {
            ids.push(row[0].parse::<i64>().unwrap());
            Ok(())
        })
        .await
        .unwrap();
    ids
}

/// `i` written in letters from `first` on (names hold no digits).
fn letters(mut i: usize, first: char) -> String {
    let mut s = String::new();
    loop {
        s.push(char::from_u32(first as u32 + (i % 26) as u32).unwrap());
        i /= 26;
        if i == 0 {
            return s;
        }
    }
}
