//! The counts kept for the reports (migration 0017) against the records, on every engine: the
//! facts kept on each worker (latest rank, funding of the post filled, supervised) and the
//! staff tallies summed per group equal the same facts read from the ranks, postings, posts
//! and assignments themselves; the establishment counted from the post tallies equals the posts
//! counted one by one, for past years, this year (with postings that start or end before the
//! year is out) and under every kind of write, through the store or in plain SQL; a restore
//! rebuilds them.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use komlang_core::establishment::counted_on;
use komlang_core::*;
use komlang_store::backup::BackupOptions;
use komlang_store::costs::RankInput;
use komlang_store::establishment::EstablishmentQuery;
use komlang_store::testing::{engines, TestDb};
use komlang_store::{system_principal, Store};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

type Groups = BTreeMap<Vec<String>, i64>;

/// Rows of `sql` as (every column but the last, as text) → the last column.
async fn groups(store: &Store, sql: &str) -> Groups {
    let rows = sqlx::query(sql).fetch_all(store.pool()).await.unwrap();
    rows.iter()
        .map(|r| {
            let last = r.len() - 1;
            let key = (0..last)
                .map(|i| match r.try_get::<Option<String>, _>(i) {
                    Ok(v) => v.unwrap_or_default(),
                    Err(_) => r.get::<i64, _>(i).to_string(),
                })
                .collect();
            (key, r.get::<i64, _>(last))
        })
        .collect()
}

const STAFF: &str = "workplace_code, sector, cadre, status, funding, grade, step, supervised";
const POSTS: &str = "admin_code, cadre, funding, approved_year, ended_year";

/// The latest of a worker's ranks (`col`: grade or step), from the ranks themselves.
fn latest_rank(col: &str, none: &str) -> String {
    format!(
        "COALESCE((SELECT r.{col} FROM worker_ranks r WHERE r.worker_id = w.id \
         ORDER BY r.from_date DESC, r.id DESC LIMIT 1), {none})"
    )
}

/// The kept facts and the tallies equal the records.
async fn check_kept(store: &Store, what: &str) {
    let tallied = groups(
        store,
        &format!("SELECT {STAFF}, CAST(SUM(n) AS BIGINT) FROM staff_tallies GROUP BY {STAFF} HAVING SUM(n) <> 0"),
    )
    .await;
    let counted = groups(
        store,
        &format!(
            "SELECT {STAFF}, COUNT(*) FROM (SELECT w.workplace_code, w.sector, w.cadre, w.status, \
             COALESCE((SELECT p.funding FROM postings g JOIN posts p ON p.id = g.post_id \
               WHERE g.worker_id = w.id AND g.end_date IS NULL ORDER BY g.id DESC LIMIT 1), 'none') AS funding, \
             {} AS grade, {} AS step, \
             CASE WHEN EXISTS (SELECT 1 FROM supervision_assignments a WHERE a.supervisee_id = w.id \
               AND a.end_date IS NULL) THEN 1 ELSE 0 END AS supervised FROM workers w) x GROUP BY {STAFF}",
            latest_rank("grade", "''"),
            latest_rank("step", "0"),
        ),
    )
    .await;
    assert!(!counted.is_empty(), "{what}: workers to count");
    assert_eq!(tallied, counted, "{what}: staff tallies");
    let kept = groups(
        store,
        "SELECT workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised, COUNT(*) \
         FROM workers GROUP BY workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised",
    )
    .await;
    assert_eq!(kept, counted, "{what}: the facts kept on the workers");
    let tallied = groups(
        store,
        &format!("SELECT {POSTS}, CAST(SUM(n) AS BIGINT) FROM post_tallies GROUP BY {POSTS} HAVING SUM(n) <> 0"),
    )
    .await;
    let counted = groups(
        store,
        "SELECT admin_code, cadre, funding, approved_year, COALESCE(ended_year, 0), COUNT(*) FROM posts \
         GROUP BY admin_code, cadre, funding, approved_year, COALESCE(ended_year, 0)",
    )
    .await;
    assert!(!counted.is_empty(), "{what}: posts to count");
    assert_eq!(tallied, counted, "{what}: post tallies");
    check_supervision(store, what).await;
    check_history(store, what).await;
    for year in [2019, 2024, 2025, 2026, 2027] {
        check_establishment(store, year, today(), what).await;
    }
    // Later in the year: the postings that start or end before it is out are counted as they are.
    check_establishment(store, 2026, day("2026-12-20"), what).await;
}

/// The supervision facts kept on the workers (migration 0018) against the assignments and
/// sessions, and the summary by province against the records counted one by one.
async fn check_supervision(store: &Store, what: &str) {
    let bits = "CASE e.cadre WHEN 'professional_social_worker' THEN 1 WHEN 'para_professional' THEN 2 \
                WHEN 'para_social_worker' THEN 4 WHEN 'allied_worker' THEN 8 END";
    let counted = groups(
        store,
        &format!(
            "SELECT a.supervisor_id, COUNT(*), MAX(a.dedicated), SUM(DISTINCT {bits}), 1 FROM supervision_assignments a \
             JOIN workers e ON e.id = a.supervisee_id WHERE a.end_date IS NULL GROUP BY a.supervisor_id"
        ),
    )
    .await;
    let kept = groups(
        store,
        "SELECT id, supervisees, supervisor_dedicated, supervisee_cadres, 1 FROM workers WHERE supervisees <> 0 \
         OR supervisor_dedicated <> 0 OR supervisee_cadres <> 0",
    )
    .await;
    assert!(!counted.is_empty(), "{what}: supervisors");
    assert_eq!(kept, counted, "{what}: the supervisors' facts");
    // The day each supervisee is due a session: the supervision's start, or the day after the
    // last session attended if later.
    let rows = sqlx::query(
        "SELECT a.supervisee_id, a.start_date, (SELECT MAX(ss.held_on) FROM supervision_attendees at \
         JOIN supervision_sessions ss ON ss.id = at.session_id WHERE at.worker_id = a.supervisee_id) \
         FROM supervision_assignments a WHERE a.end_date IS NULL",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let counted: Groups = rows
        .iter()
        .map(|r| {
            let start = day(&r.get::<String, _>(1));
            let after_last = r.get::<Option<String>, _>(2).map(|l| day(&l).succ_opt().unwrap());
            (vec![r.get::<i64, _>(0).to_string(), after_last.map_or(start, |l| l.max(start)).to_string()], 1)
        })
        .collect();
    assert!(counted.len() > 10, "{what}: supervisees");
    let kept = groups(store, "SELECT id, supervision_due, 1 FROM workers WHERE supervision_due IS NOT NULL").await;
    assert_eq!(kept, counted, "{what}: the supervisees' due days");
    // The summary by province, against the assignments and sessions read one by one.
    let q = komlang_store::supervision::SummaryQuery { level: AdminLevel::Province, parent: None };
    let summary = store.supervision_summary(&system_principal("t"), &q, today()).await.unwrap();
    let since = (today() - chrono::Days::new(90)).to_string();
    let by_province = |sql: String| async move { groups(store, &sql).await };
    let unit = "JOIN admin_units u ON u.code = w.workplace_code";
    let supervisors = by_province(format!(
        "SELECT u.province_code, COUNT(DISTINCT a.supervisor_id) FROM supervision_assignments a \
         JOIN workers w ON w.id = a.supervisor_id {unit} WHERE a.end_date IS NULL GROUP BY u.province_code"
    ))
    .await;
    let in_post = by_province(format!(
        "SELECT u.province_code, COUNT(*) FROM workers w {unit} WHERE w.status IN ('active', 'on_leave') \
         GROUP BY u.province_code"
    ))
    .await;
    let supervisees = by_province(format!(
        "SELECT u.province_code, COUNT(*) FROM supervision_assignments a JOIN workers w ON w.id = a.supervisee_id \
         {unit} WHERE a.end_date IS NULL AND w.status IN ('active', 'on_leave') GROUP BY u.province_code"
    ))
    .await;
    let overdue = by_province(format!(
        "SELECT u.province_code, COUNT(*) FROM supervision_assignments a JOIN workers w ON w.id = a.supervisee_id \
         {unit} WHERE a.end_date IS NULL AND a.start_date <= '{since}' AND NOT EXISTS (SELECT 1 \
         FROM supervision_attendees at JOIN supervision_sessions ss ON ss.id = at.session_id \
         WHERE at.worker_id = w.id AND ss.held_on >= '{since}') GROUP BY u.province_code"
    ))
    .await;
    assert!(overdue.values().sum::<i64>() > 0, "{what}: someone overdue");
    for row in &summary {
        let n = |g: &Groups| g.get(&vec![row.unit.clone()]).copied().unwrap_or(0);
        assert_eq!(
            (
                i64::from(row.supervisors),
                i64::from(row.supervisees),
                i64::from(row.without_supervisor),
                i64::from(row.overdue)
            ),
            (n(&supervisors), n(&supervisees), n(&in_post) - n(&supervisees), n(&overdue)),
            "{what}: supervision in {}",
            row.unit
        );
    }
}

/// The latest status change kept on the workers (migration 0019) and the tallies by it against
/// the history, and turnover's headcounts by province against each worker's status on the day.
async fn check_history(store: &Store, what: &str) {
    let kept =
        groups(store, "SELECT id, COALESCE(status_latest, ''), COALESCE(status_latest_on, ''), 1 FROM workers").await;
    let counted = groups(
        store,
        "SELECT w.id, COALESCE((SELECT s.status FROM status_changes s WHERE s.worker_id = w.id \
         ORDER BY s.effective_date DESC, s.id DESC LIMIT 1), ''), COALESCE((SELECT s.effective_date \
         FROM status_changes s WHERE s.worker_id = w.id ORDER BY s.effective_date DESC, s.id DESC LIMIT 1), ''), 1 \
         FROM workers w",
    )
    .await;
    assert_eq!(kept, counted, "{what}: the latest status changes");
    let key = "workplace_code, sector, cadre, status_latest";
    let tallied = groups(
        store,
        &format!("SELECT {key}, CAST(SUM(n) AS BIGINT) FROM history_tallies GROUP BY {key} HAVING SUM(n) <> 0"),
    )
    .await;
    let counted = groups(
        store,
        "SELECT workplace_code, sector, cadre, COALESCE(status_latest, ''), COUNT(*) FROM workers \
         GROUP BY workplace_code, sector, cadre, COALESCE(status_latest, '')",
    )
    .await;
    assert_eq!(tallied, counted, "{what}: history tallies");
    for year in [2024, 2025, 2026] {
        let t = store
            .turnover(&system_principal("t"), year, komlang_store::retention::Grouping::Province, today())
            .await
            .unwrap();
        let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap().min(today());
        let on = |d: NaiveDate| {
            format!(
                "SELECT COALESCE(u.province_code, ''), COUNT(*) FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
                 WHERE (SELECT sc.status FROM status_changes sc WHERE sc.worker_id = w.id AND sc.effective_date <= '{d}' \
                 ORDER BY sc.effective_date DESC, sc.id DESC LIMIT 1) IN ('active', 'on_leave') GROUP BY u.province_code"
            )
        };
        let start = groups(store, &on(NaiveDate::from_ymd_opt(year, 1, 1).unwrap())).await;
        let end = groups(store, &on(last)).await;
        let got: BTreeMap<String, (i64, i64)> = t
            .rows
            .iter()
            .map(|r| (r.key.clone(), (i64::from(r.start), i64::from(r.end))))
            .filter(|(_, c)| *c != (0, 0))
            .collect();
        let keys: std::collections::BTreeSet<&Vec<String>> = start.keys().chain(end.keys()).collect();
        let want: BTreeMap<String, (i64, i64)> = keys
            .into_iter()
            .map(|k| (k[0].clone(), (start.get(k).copied().unwrap_or(0), end.get(k).copied().unwrap_or(0))))
            .collect();
        assert!(!want.is_empty(), "{what}: workers in post in {year}");
        assert_eq!(got, want, "{what}: headcounts of {year}");
    }
}

/// The establishment of a year, by province, against the posts and postings counted one by one.
async fn check_establishment(store: &Store, year: i32, today: NaiveDate, what: &str) {
    let on = counted_on(year, today).to_string();
    let q = EstablishmentQuery { level: AdminLevel::Province, parent: None, year, cadre: None, funding: None };
    let report = store.establishment(&system_principal("t"), &q, today).await.unwrap();
    let counted = groups(
        store,
        &format!(
            "SELECT u.province_code, COUNT(*) FROM posts p JOIN admin_units u ON u.code = p.admin_code \
             WHERE p.approved_year <= {year} AND (p.ended_year IS NULL OR p.ended_year > {year}) \
             AND u.province_code IS NOT NULL GROUP BY u.province_code"
        ),
    )
    .await;
    let filled = groups(
        store,
        &format!(
            "SELECT u.province_code, COUNT(*) FROM posts p JOIN admin_units u ON u.code = p.admin_code \
             WHERE p.approved_year <= {year} AND (p.ended_year IS NULL OR p.ended_year > {year}) \
             AND u.province_code IS NOT NULL AND EXISTS (SELECT 1 FROM postings f WHERE f.post_id = p.id \
             AND f.start_date <= '{on}' AND (f.end_date IS NULL OR f.end_date > '{on}')) GROUP BY u.province_code"
        ),
    )
    .await;
    let got: BTreeMap<String, (i64, i64)> = report
        .items
        .iter()
        .filter(|r| r.approved > 0)
        .map(|r| (r.unit.clone(), (i64::from(r.approved), i64::from(r.filled))))
        .collect();
    let want: BTreeMap<String, (i64, i64)> =
        counted.iter().map(|(k, n)| (k[0].clone(), (*n, filled.get(k).copied().unwrap_or(0)))).collect();
    assert_eq!(got, want, "{what}: the establishment of {year} counted on {on}");
}

/// A worker in post in the demo data whose current posting fills no post.
async fn unposted(store: &Store) -> i64 {
    sqlx::query(
        "SELECT w.id FROM workers w WHERE w.status = 'active' AND NOT EXISTS \
         (SELECT 1 FROM postings g WHERE g.worker_id = w.id AND g.post_id IS NOT NULL AND g.end_date IS NULL) \
         ORDER BY w.id LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
    .get(0)
}

async fn one(store: &Store, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(store.pool()).await.unwrap().get(0)
}

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sql).execute(store.pool()).await.unwrap();
}

#[tokio::test]
async fn the_counts_kept_for_the_reports_follow_every_write() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = system_principal("t");
        s.load_demo(today()).await.unwrap();
        check_kept(s, &format!("{engine:?} demo")).await;

        // An import (COPY on PostgreSQL) writes each new worker with their latest status change
        // on their row: in post from a day, left on a day, in post with no day (today). Then
        // changes of the same day in plain SQL: the same status (nothing moves) and another
        // (the last recorded is the latest).
        let headers: Vec<String> = [
            "name_km",
            "name_latin",
            "sex",
            "cadre",
            "role",
            "sector",
            "workplace_code",
            "status",
            "start_date",
            "end_date",
        ]
        .map(String::from)
        .to_vec();
        let rows: Vec<Vec<String>> = [
            [
                "សុខ",
                "Sok Import",
                "female",
                "para_social_worker",
                "ccwc_focal_point",
                "government",
                "010201",
                "active",
                "2024-02-01",
                "",
            ],
            [
                "ចាន់",
                "Chan Import",
                "male",
                "professional_social_worker",
                "ngo_social_worker",
                "ngo",
                "020101",
                "left",
                "2020-01-06",
                "2025-09-30",
            ],
            [
                "ដារ៉ា",
                "Dara Import",
                "male",
                "para_professional",
                "district_social_worker",
                "government",
                "120101",
                "on_leave",
                "",
                "",
            ],
        ]
        .map(|r| r.map(String::from).to_vec())
        .to_vec();
        let imported = s
            .import_workers(
                &a,
                &headers,
                rows.into_iter().enumerate().map(|(i, r)| Ok((i as u64 + 2, r))),
                &komlang_core::import::guess_mapping(&headers),
                &komlang_store::WorkerImportOptions {
                    file_name: "w.csv".into(),
                    file_sha256: "ab".repeat(32),
                    ..Default::default()
                },
                today(),
            )
            .await
            .unwrap();
        assert_eq!(imported.added, 3, "{engine:?}: the import's rows");
        check_kept(s, &format!("{engine:?} imported")).await;
        let kept =
            |name: &str| format!("SELECT COUNT(*) FROM workers WHERE name_latin = '{name}' AND status_latest_on = ");
        assert_eq!(one(s, &(kept("Sok Import") + "'2024-02-01' AND status_latest = 'active'")).await, 1);
        assert_eq!(one(s, &(kept("Chan Import") + "'2025-09-30' AND status_latest = 'left'")).await, 1);
        assert_eq!(one(s, &(kept("Dara Import") + &format!("'{}' AND status_latest = 'on_leave'", today()))).await, 1);
        for (status, name) in [("active", "Sok Import"), ("active", "Chan Import"), ("left", "Chan Import")] {
            exec(
                s,
                &format!(
                    "INSERT INTO status_changes (worker_id, status, effective_date, recorded_at, recorded_by) \
                     SELECT id, '{status}', status_latest_on, 't', 't' FROM workers WHERE name_latin = '{name}'"
                ),
            )
            .await;
        }
        check_kept(s, &format!("{engine:?} changes of the day kept")).await;

        // Through the store: fill a vacant post, vacate a filled one, end one; ranks (one from a
        // day to come); a supervisor set and another ended.
        let filled =
            one(s, "SELECT post_id FROM postings WHERE post_id IS NOT NULL AND end_date IS NULL ORDER BY id LIMIT 1")
                .await;
        let worker =
            one(s, &format!("SELECT worker_id FROM postings WHERE post_id = {filled} AND end_date IS NULL")).await;
        s.vacate_post(&a, filled, day("2026-03-01"), None).await.unwrap();
        s.fill_post(&a, filled, worker, day("2026-06-01"), None).await.unwrap();
        let other = one(
            s,
            "SELECT post_id FROM postings WHERE post_id IS NOT NULL AND end_date IS NULL ORDER BY id LIMIT 1 OFFSET 1",
        )
        .await;
        s.vacate_post(&a, other, day("2026-06-30"), None).await.unwrap();
        let vacant =
            one(s, "SELECT p.id FROM posts p WHERE NOT EXISTS (SELECT 1 FROM postings g WHERE g.post_id = p.id \
                    AND g.end_date IS NULL) AND p.ended_year IS NULL AND p.approved_year < 2026 ORDER BY p.id DESC LIMIT 1")
            .await;
        s.end_post(&a, vacant, 2026, today(), None).await.unwrap();
        s.add_worker_rank(&a, worker, &RankInput { grade: "C".into(), step: 2, from_date: day("2026-01-01") })
            .await
            .unwrap();
        s.add_worker_rank(&a, worker, &RankInput { grade: "B".into(), step: 3, from_date: day("2027-01-01") })
            .await
            .unwrap();
        let supervisor =
            one(s, "SELECT supervisor_id FROM supervision_assignments WHERE end_date IS NULL ORDER BY id LIMIT 1")
                .await;
        s.assign_supervisor(&a, worker, supervisor, false, today()).await.unwrap();
        let supervised = one(
            s,
            "SELECT supervisee_id FROM supervision_assignments WHERE end_date IS NULL \
                                 AND supervisee_id <> 0 ORDER BY id DESC LIMIT 1",
        )
        .await;
        s.end_supervision(&a, supervised, today()).await.unwrap();
        check_kept(s, &format!("{engine:?} through the store")).await;

        // In plain SQL: a post's funding, cadre and unit changed; postings that start and end
        // before the year is out, and after; a rank and an assignment deleted; a post deleted;
        // a worker moved, another deleted.
        let post =
            one(s, "SELECT post_id FROM postings WHERE post_id IS NOT NULL AND end_date IS NULL ORDER BY id LIMIT 1")
                .await;
        exec(
            s,
            &format!(
                "UPDATE posts SET funding = 'development_partner', cadre = 'para_professional', \
                          admin_code = '0201' WHERE id = {post}"
            ),
        )
        .await;
        exec(s, &format!("UPDATE posts SET approved_year = 2025 WHERE id = {vacant}")).await;
        let ending = one(
            s,
            "SELECT id FROM postings WHERE post_id IS NOT NULL AND end_date IS NULL ORDER BY id LIMIT 1 OFFSET 3",
        )
        .await;
        exec(s, &format!("UPDATE postings SET end_date = '2026-12-10' WHERE id = {ending}")).await;
        let starting = one(
            s,
            "SELECT p.id FROM posts p WHERE NOT EXISTS (SELECT 1 FROM postings g WHERE g.post_id = p.id \
                               AND g.end_date IS NULL) ORDER BY p.id LIMIT 1",
        )
        .await;
        let mover = unposted(s).await;
        exec(s, &format!("UPDATE postings SET end_date = '2026-12-15' WHERE worker_id = {mover} AND end_date IS NULL"))
            .await;
        exec(
            s,
            &format!(
                "INSERT INTO postings (worker_id, role, workplace_code, start_date, post_id) \
                          SELECT id, role, workplace_code, '2026-12-15', {starting} FROM workers WHERE id = {mover}"
            ),
        )
        .await;
        let later = one(
            s,
            "SELECT id FROM postings WHERE post_id IS NOT NULL AND end_date IS NULL ORDER BY id LIMIT 1 OFFSET 5",
        )
        .await;
        exec(s, &format!("UPDATE postings SET start_date = '2027-02-01' WHERE id = {later}")).await;
        exec(s, &format!("DELETE FROM worker_ranks WHERE worker_id = {worker} AND grade = 'C'")).await;
        exec(s, "DELETE FROM supervision_assignments WHERE id = (SELECT MIN(id) FROM supervision_assignments WHERE end_date IS NULL)").await;
        // The status history: a change back-dated before a worker's latest, one from a day to
        // come, one deleted, a worker moved.
        let w1 = one(s, "SELECT MIN(worker_id) FROM status_changes WHERE effective_date > '2025-06-01'").await;
        exec(
            s,
            &format!(
                "INSERT INTO status_changes (worker_id, status, effective_date, recorded_at, recorded_by) \
                          VALUES ({w1}, 'on_leave', '2025-03-01', 't', 't')"
            ),
        )
        .await;
        let w2 = one(s, "SELECT MAX(worker_id) FROM status_changes WHERE status = 'active'").await;
        exec(
            s,
            &format!(
                "INSERT INTO status_changes (worker_id, status, effective_date, recorded_at, recorded_by) \
                          VALUES ({w2}, 'left', '2026-12-31', 't', 't')"
            ),
        )
        .await;
        exec(
            s,
            "DELETE FROM status_changes WHERE id = (SELECT MAX(id) FROM status_changes WHERE status = 'left' \
                 AND effective_date < '2026-01-01')",
        )
        .await;
        exec(s, &format!("UPDATE workers SET workplace_code = '120101', sector = 'ngo' WHERE id = {w1}")).await;
        // Sessions: one attended today by a supervisee, one moved to another day, an attendance
        // taken back; a supervisee's cadre changed.
        let supervisee = one(s, "SELECT MAX(supervisee_id) FROM supervision_assignments WHERE end_date IS NULL").await;
        let session = one(s, "SELECT MIN(id) FROM supervision_sessions").await;
        exec(s, &format!("INSERT INTO supervision_sessions (supervisor_id, held_on, model, functions, recorded_by, recorded_at) \
                          SELECT supervisor_id, '2026-11-20', 'individual', 'supportive', 't', 't' FROM supervision_assignments \
                          WHERE supervisee_id = {supervisee} AND end_date IS NULL")).await;
        exec(
            s,
            &format!(
                "INSERT INTO supervision_attendees (session_id, worker_id) \
                          SELECT MAX(id), {supervisee} FROM supervision_sessions"
            ),
        )
        .await;
        exec(s, &format!("UPDATE supervision_sessions SET held_on = '2026-11-25' WHERE id = {session}")).await;
        exec(
            s,
            "DELETE FROM supervision_attendees WHERE worker_id = (SELECT MIN(worker_id) FROM supervision_attendees)",
        )
        .await;
        exec(
            s,
            &format!(
                "UPDATE workers SET cadre = 'allied_worker' WHERE id = (SELECT MIN(supervisee_id) \
                          FROM supervision_assignments WHERE end_date IS NULL AND supervisee_id <> {supervisee})"
            ),
        )
        .await;
        let gone = one(
            s,
            "SELECT post_id FROM postings WHERE post_id IS NOT NULL AND end_date IS NOT NULL ORDER BY id LIMIT 1",
        )
        .await;
        exec(s, &format!("DELETE FROM posts WHERE id = {gone}")).await;
        exec(s, "UPDATE workers SET workplace_code = '020101', status = 'on_leave' WHERE id = (SELECT MIN(worker_id) FROM postings WHERE post_id IS NOT NULL)").await;
        exec(s, "DELETE FROM workers WHERE id = (SELECT MAX(supervisor_id) FROM supervision_assignments)").await;
        check_kept(s, &format!("{engine:?} in plain SQL")).await;
        assert_eq!(s.compact_worker_tallies().await.unwrap().rows_after, s.tally_rows().await.unwrap());
        check_kept(s, &format!("{engine:?} merged")).await;

        // A restore rebuilds them, on either engine.
        let file = std::env::temp_dir().join(format!("komlang-report-tallies-{}-{engine:?}.zip", std::process::id()));
        s.backup(&file, &BackupOptions::default()).await.unwrap();
        for target in engines() {
            let dst = TestDb::blank(target).await;
            dst.store.restore(&file).await.unwrap();
            check_kept(&dst.store, &format!("{engine:?} restored into {target:?}")).await;
            dst.cleanup().await;
        }
        let _ = std::fs::remove_file(&file);
        db.cleanup().await;
    }
}

/// The cost of the workforce in the tallies' way equals the cost of each worker added up, and a
/// rank from a day to come is not paid yet.
#[tokio::test]
async fn the_workforce_cost_from_the_tallies_is_each_workers_cost_added_up() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = system_principal("t");
        s.load_demo(today()).await.unwrap();
        let before = s.workforce_cost(&a, AdminLevel::Province, "USD", today()).await.unwrap();
        let in_post = one(s, "SELECT COUNT(*) FROM workers WHERE status IN ('active', 'on_leave')").await;
        assert_eq!(i64::from(before.workers), in_post, "{engine:?}: every worker in post");
        let by_unit: i64 = before.by_unit.iter().map(|g| i64::from(g.workers)).sum();
        assert_eq!(by_unit + i64::from(before.not_costed), in_post, "{engine:?}");
        // A promotion from next year changes nothing today, and the cost from next year.
        let w = unposted(s).await;
        let next = NaiveDate::from_ymd_opt(today().year() + 1, 1, 1).unwrap();
        let then_before = s.workforce_cost(&a, AdminLevel::Province, "USD", next).await.unwrap();
        let top = sqlx::query("SELECT grade, step FROM salary_scales ORDER BY monthly DESC LIMIT 1")
            .fetch_one(s.pool())
            .await
            .unwrap();
        let rank = RankInput { grade: top.get(0), step: top.get::<i64, _>(1) as u32, from_date: next };
        s.add_worker_rank(&a, w, &rank).await.unwrap();
        let after = s.workforce_cost(&a, AdminLevel::Province, "USD", today()).await.unwrap();
        assert_eq!(after.total, before.total, "{engine:?}: not paid before its day");
        assert_eq!(after.by_unit, before.by_unit, "{engine:?}");
        let then = s.workforce_cost(&a, AdminLevel::Province, "USD", next).await.unwrap();
        assert_ne!(
            (then.total, then.not_costed),
            (then_before.total, then_before.not_costed),
            "{engine:?}: paid from its day"
        );
        db.cleanup().await;
    }
}
