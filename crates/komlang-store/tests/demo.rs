//! The demo data set on every engine: loaded once, every account works,
//! scopes hold, and the same data on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::time::Instant;

use chrono::NaiveDate;
use komlang_core::{UserRole, WorkerRole};
use komlang_store::testing::{engines, TestDb};
use komlang_store::{system_principal, LoginOutcome, Store, WorkerQuery, DEMO_ACCOUNTS, DEMO_PASSWORD};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(store.pool()).await.unwrap().get(0)
}

async fn counts(store: &Store) -> Vec<(&'static str, i64)> {
    let mut out = Vec::new();
    for t in [
        "organizations",
        "workers",
        "postings",
        "status_changes",
        "users",
        "audit_log",
        "meta",
        "admin_units",
        "competency_frameworks",
        "competency_requirements",
        "worker_supervisors",
        "competency_assessments",
        "competency_ratings",
        "training_institutions",
        "training_programmes",
        "training_courses",
        "training_events",
        "training_participants",
        "training_recognitions",
        "certificates",
        "training_targets",
        "licences",
        "licence_actions",
        "posts",
        "establishment_records",
        "supervision_assignments",
        "supervision_sessions",
        "supervision_attendees",
    ] {
        out.push((t, count(store, t).await));
    }
    out
}

/// Every row of the demo data that should not depend on the engine, as text.
async fn fingerprint(store: &Store) -> Vec<String> {
    let queries = [
        "SELECT id, name_en, kind, admin_code, phone FROM organizations ORDER BY id",
        "SELECT id, name_km, name_latin, sex, date_of_birth, national_id, phone, email, cadre, role, sector, org_id, \
         position_title, workplace_code, status, start_date, end_date, education_level, education_field, synthetic \
         FROM workers ORDER BY id",
        "SELECT id, worker_id, org_id, role, position_title, workplace_code, start_date, end_date, post_id \
         FROM postings ORDER BY id",
        "SELECT id, admin_code, org_id, cadre, role, funding, approved_year, ended_year FROM posts ORDER BY id",
        "SELECT admin_code, year, approved, filled, source FROM establishment_records ORDER BY admin_code, year",
        "SELECT id, supervisor_id, supervisee_id, dedicated, start_date, end_date FROM supervision_assignments ORDER BY id",
        "SELECT id, supervisor_id, held_on, model, functions, notes FROM supervision_sessions ORDER BY id",
        "SELECT id, worker_id, status, effective_date, note, recorded_by FROM status_changes ORDER BY id",
        "SELECT id, username, role, scope_code, org_id, worker_id, active FROM users ORDER BY id",
        "SELECT worker_id, supervisor_user_id, set_by FROM worker_supervisors ORDER BY worker_id",
        "SELECT id, worker_id, framework_version, kind, assessed_on, assessor, notes, recorded_by_user_id, recorded_by \
         FROM competency_assessments ORDER BY id",
        "SELECT assessment_id, indicator_code, rating, evidence FROM competency_ratings \
         ORDER BY assessment_id, indicator_code",
        "SELECT id, code, programme_id, teaching_minutes, lab_minutes, field_minutes, competencies FROM training_courses \
         ORDER BY id",
        "SELECT id, course_id, starts_on, ends_on, place_code, teaching_minutes FROM training_events ORDER BY id",
        "SELECT event_id, worker_id, days_attended, teaching_minutes, lab_minutes, field_minutes, result \
         FROM training_participants ORDER BY event_id, worker_id",
        "SELECT id, worker_id, kind, programme_id, field_minutes, assessed_on FROM training_recognitions ORDER BY id",
        "SELECT id, number, worker_id, programme_id, level, issued_on FROM certificates ORDER BY id",
        "SELECT id, worker_id, number, status, applied_on, issued_on, expires_on FROM licences ORDER BY id",
    ];
    let mut out = Vec::new();
    for q in queries {
        for r in sqlx::query(q).fetch_all(store.pool()).await.unwrap() {
            let cols: Vec<String> = (0..r.len())
                .map(|i| match r.try_get::<Option<String>, _>(i) {
                    Ok(v) => format!("{v:?}"),
                    Err(_) => format!("{:?}", r.try_get::<Option<i64>, _>(i).unwrap()),
                })
                .collect();
            out.push(cols.join("|"));
        }
    }
    out
}

#[test]
fn demo_accounts_have_known_roles_and_distinct_names() {
    let mut names: Vec<&str> = DEMO_ACCOUNTS.iter().map(|a| a.0).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), DEMO_ACCOUNTS.len());
    for role in UserRole::ALL {
        assert_eq!(DEMO_ACCOUNTS.iter().filter(|a| UserRole::parse(a.1) == Some(*role)).count(), 1, "{role}");
    }
}

#[tokio::test]
async fn demo_loads_once_with_working_accounts_and_the_same_data_on_every_engine() {
    let mut prints: Vec<(komlang_store::Engine, Vec<String>)> = Vec::new();
    for engine in engines() {
        let db = TestDb::empty(engine).await;
        let store = &db.store;

        let started = Instant::now();
        let first = store.load_demo(today()).await.unwrap();
        eprintln!("{engine:?}: demo loaded in {:.1} s", started.elapsed().as_secs_f64());
        assert!(!first.already_loaded, "{engine:?}");
        assert!(first.workers > 6000, "{engine:?}: {first:?}");
        assert!(first.organizations > 250, "{engine:?}: {first:?}");
        let expected: Vec<(String, String)> =
            DEMO_ACCOUNTS.iter().map(|(u, r, _)| (u.to_string(), r.to_string())).collect();
        assert_eq!(first.accounts, expected, "{engine:?}");
        assert_eq!(store.meta_get("demo_version").await.unwrap().as_deref(), Some("1"));
        assert_eq!(count(store, "workers").await, first.workers as i64);
        assert_eq!(count(store, "organizations").await, first.organizations as i64);

        // A second load changes nothing.
        let before = counts(store).await;
        let print = fingerprint(store).await;
        let second = store.load_demo(today()).await.unwrap();
        assert!(second.already_loaded, "{engine:?}");
        assert_eq!(second.workers, first.workers);
        assert_eq!(second.organizations, first.organizations);
        assert_eq!(second.accounts, first.accounts);
        assert_eq!(counts(store).await, before, "{engine:?}");
        assert_eq!(fingerprint(store).await, print, "{engine:?}");

        // One audit row for the whole load.
        let audit = store
            .list_audit(
                &system_principal("test"),
                &komlang_store::AuditQuery { entity: Some("demo".into()), ..Default::default() },
            )
            .await
            .unwrap();
        assert_eq!(audit.total, 1);
        assert_eq!(audit.items[0].action, "import");
        assert_eq!(audit.items[0].after.as_ref().unwrap()["workers"], first.workers);

        // Every demo account logs in.
        let now = chrono::Utc::now().timestamp();
        let mut principals = std::collections::HashMap::new();
        for (username, role, _) in DEMO_ACCOUNTS {
            match store.login(username, DEMO_PASSWORD, "127.0.0.1", now).await.unwrap() {
                LoginOutcome::Ok(p) => {
                    assert_eq!(p.role.code(), *role, "{engine:?} {username}");
                    principals.insert(*username, p);
                }
                other => panic!("{engine:?}: {username} cannot log in: {other:?}"),
            }
        }

        // Scopes: the provincial officer sees exactly Battambang's workers.
        let admin = &principals["admin"];
        let all = store.list_workers(admin, &WorkerQuery::default()).await.unwrap().total;
        assert_eq!(all, first.workers as i64);
        let in_02 = store
            .list_workers(admin, &WorkerQuery { province: Some("02".into()), ..Default::default() })
            .await
            .unwrap();
        assert!(in_02.total > 100, "{engine:?}: {}", in_02.total);
        let prov = store.list_workers(&principals["battambang"], &WorkerQuery::default()).await.unwrap();
        assert_eq!(prov.total, in_02.total, "{engine:?}");
        assert!(prov.items.iter().all(|w| w.province_code.as_deref() == Some("02")));
        let in_0208 = store
            .list_workers(admin, &WorkerQuery { district: Some("0208".into()), ..Default::default() })
            .await
            .unwrap()
            .total;
        let district = store.list_workers(&principals["sangke"], &WorkerQuery::default()).await.unwrap().total;
        assert!(in_0208 > 0 && district == in_0208, "{engine:?}: {district} vs {in_0208}");
        let viewer = store.list_workers(&principals["viewer"], &WorkerQuery::default()).await.unwrap().total;
        assert_eq!(viewer, all);
        // The NGO's HR manager sees that NGO's staff only.
        let ngo = &principals["ngo-hr"];
        let org = ngo.org_id.expect("ngo-hr has an organization");
        let staff = store.list_workers(ngo, &WorkerQuery::default()).await.unwrap();
        assert!(staff.total > 0 && staff.total < all, "{engine:?}: {}", staff.total);
        assert!(staff.items.iter().all(|w| w.org_id == Some(org)));
        // The worker account sees their own record: a CCWC focal point in Sangkae.
        let me = &principals["worker"];
        let own = store.list_workers(me, &WorkerQuery::default()).await.unwrap();
        assert_eq!(own.total, 1);
        assert_eq!(Some(own.items[0].id), me.worker_id);
        assert_eq!(own.items[0].role, WorkerRole::CcwcFocalPoint);
        assert!(own.items[0].workplace_code.starts_with("0208"), "{}", own.items[0].workplace_code);

        // Competency assessments for the demo province (a few hundred workers), and the demo
        // worker's supervisor is the district officer, who sees and records their assessments.
        assert_eq!(store.meta_get("demo_competencies_version").await.unwrap().as_deref(), Some("1"));
        let assessed: i64 = sqlx::query("SELECT COUNT(DISTINCT worker_id) FROM competency_assessments")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
        assert!((200..2000).contains(&assessed), "{engine:?}: {assessed} workers assessed");
        let worker_id = me.worker_id.unwrap();
        let sup = store.worker_supervisor(me, worker_id).await.unwrap().expect("the demo worker has a supervisor");
        assert_eq!(sup.username, "sangke");
        let mine = store.list_assessments(me, worker_id).await.unwrap();
        let kinds: Vec<&str> = mine.iter().map(|a| a.kind.code()).collect();
        assert!(kinds.contains(&"self") && kinds.contains(&"supervisor"), "{engine:?}: {kinds:?}");
        assert!(mine.iter().any(|a| a.kind.code() == "supervisor" && a.recorded_by == "sangke"));
        let report = store.competency_gaps(&principals["sangke"], &komlang_store::GapQuery::default()).await.unwrap();
        assert!(report.workers_assessed > 0 && report.cells.iter().any(|c| c.below_required > 0), "{engine:?}");

        // Every worker in post has one open posting; those who left have none, their last
        // posting ending on their end date.
        let count =
            |sql: &'static str| async move { sqlx::query(sql).fetch_one(store.pool()).await.unwrap().get::<i64, _>(0) };
        let in_post = count("SELECT COUNT(*) FROM workers WHERE status IN ('active', 'on_leave')").await;
        let open = count("SELECT COUNT(DISTINCT worker_id) FROM postings WHERE end_date IS NULL").await;
        let open_rows = count("SELECT COUNT(*) FROM postings WHERE end_date IS NULL").await;
        assert_eq!((open, open_rows), (in_post, in_post), "{engine:?}");
        assert!(in_post < first.workers as i64, "the demo has people who left");
        let left_open = count(
            "SELECT COUNT(*) FROM workers w JOIN postings p ON p.worker_id = w.id \
             WHERE w.status NOT IN ('active', 'on_leave') AND (p.end_date IS NULL OR p.end_date > w.end_date)",
        )
        .await;
        assert_eq!(left_open, 0, "{engine:?}");

        prints.push((engine, print));
        db.cleanup().await;
    }
    if let Some((e0, p0)) = prints.first() {
        for (e, p) in &prints[1..] {
            assert_eq!(p.len(), p0.len(), "{e:?} vs {e0:?}");
            for (a, b) in p.iter().zip(p0) {
                assert_eq!(a, b, "{e:?} vs {e0:?}");
            }
        }
    }
}
