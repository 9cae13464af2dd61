//! The FHIR registry's change feed (migration 0024), on every engine: every writer of workers
//! leaves one row per new worker and posting (an import too, which on SQLite writes the feed
//! per batch instead of by the row trigger, and puts the trigger back), and a failed import
//! leaves none.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use komlang_store::testing::{engines, import_options, import_table, TestDb};
use komlang_store::{system_principal, Engine, Store};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

const HEADERS: &[&str] =
    &["ឈ្មោះ", "Name (Latin)", "Sex", "Cadre", "Role", "Sector", "Workplace code", "Status", "Start date"];

fn row(latin: &str, workplace: &str) -> Vec<String> {
    ["សុខ ស៊ីណា", latin, "F", "para_social_worker", "ccwc_focal_point", "government", workplace, "active", "2021-03-01"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// Feed rows per resource id of `kind`.
async fn feed(store: &Store, kind: &str) -> BTreeMap<String, i64> {
    sqlx::query("SELECT resource_id, COUNT(*) FROM fhir_changes WHERE resource_type = $1 GROUP BY resource_id")
        .bind(kind)
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect()
}

async fn ids(store: &Store, sql: &str) -> Vec<String> {
    let rows = sqlx::query(sql).fetch_all(store.pool()).await.unwrap();
    rows.iter().map(|r| r.get::<i64, _>(0).to_string()).collect()
}

#[tokio::test]
async fn imports_write_one_feed_row_per_new_worker_and_keep_the_trigger() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("test");
        // Names of letters only (a Latin name has no digits): Sok Aaa, Sok Aab, …
        let name = |i: usize| {
            let l = |k: usize| char::from(b'a' + u8::try_from(k % 26).unwrap());
            format!("Sok {}{}{}", l(i / 676).to_ascii_uppercase(), l(i / 26), l(i))
        };
        let rows: Vec<Vec<String>> = (0..1200).map(|i| row(&name(i), "010201")).collect();
        let report = import_table(store, &admin, HEADERS, rows, &import_options(), today()).await.unwrap();
        assert!(report.committed && report.added == 1200, "{engine:?}: {report:?}");
        let workers = ids(store, "SELECT id FROM workers").await;
        let practitioners = feed(store, "Practitioner").await;
        assert_eq!(practitioners.len(), workers.len(), "{engine:?}");
        for id in &workers {
            assert_eq!(practitioners.get(id), Some(&1), "{engine:?}: worker {id}'s feed rows");
        }
        let postings = ids(store, "SELECT id FROM postings").await;
        let roles = feed(store, "PractitionerRole").await;
        assert_eq!(roles.keys().cloned().collect::<Vec<_>>().len(), postings.len(), "{engine:?}");
        // Each row says where the worker was.
        let misplaced: i64 = sqlx::query(
            "SELECT COUNT(*) FROM fhir_changes f JOIN workers w ON CAST(w.id AS TEXT) = f.resource_id \
             WHERE f.resource_type = 'Practitioner' AND (f.unit_code <> w.workplace_code OR f.worker_id <> w.id)",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get(0);
        assert_eq!(misplaced, 0, "{engine:?}");
        if engine == Engine::Sqlite {
            let kept: i64 = sqlx::query(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'fhir_workers_insert'",
            )
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
            assert_eq!(kept, 1, "the import put the feed's trigger back");
        }
        // A worker added afterwards, by the registry, is in the feed by the trigger.
        let one = vec![row("After Import", "010201")];
        import_table(store, &admin, HEADERS, one, &import_options(), today()).await.unwrap();
        assert_eq!(feed(store, "Practitioner").await.len(), workers.len() + 1, "{engine:?}");
        // A refused import (all or nothing) leaves no row.
        let before = feed(store, "Practitioner").await;
        let bad = vec![row("Good Row", "010201"), row("Bad Place", "99999999")];
        let r = import_table(store, &admin, HEADERS, bad, &import_options(), today()).await.unwrap();
        assert!(!r.committed, "{engine:?}: {r:?}");
        assert_eq!(feed(store, "Practitioner").await, before, "{engine:?}");
        db.cleanup().await;
    }
}
