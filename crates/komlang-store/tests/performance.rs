//! Performance management, on every engine: job descriptions loaded as versions; an appraisal
//! started by the worker's supervisor, self-appraised by the worker, completed only whole, with
//! its actions; who sees it (the worker, the supervisor, accounts whose scope holds the worker;
//! nobody else, not even to learn it exists); every change audited; who is due and overdue by
//! unit and in the lists, against the rule applied here to every worker written.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use komlang_core::performance::{
    due_state, ActionKind, AppraisalForm, AppraisalSettings, AppraisalStatus, DueState, JobDescriptionInput,
    KeyFunction, OverallResult,
};
use komlang_core::validate::WorkerInput;
use komlang_core::{AdminLevel, Principal, Scope, UserRole, WorkerRole};
use komlang_store::performance::{
    ActionInput, AppraisalUpdate, FunctionRating, PerformanceList, SelfAppraisal, StartAppraisal,
};
use komlang_store::testing::{engines, error_codes, officer, TestDb};
use komlang_store::{system_principal, Store, StoreError};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

async fn worker(store: &Store, name: &str, role: &str, place: &str, start: Option<&str>) -> i64 {
    let input = WorkerInput {
        name_km: Some("សុខ សុភា".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some("para_social_worker".into()),
        role: Some(role.into()),
        sector: Some("government".into()),
        workplace_code: Some(place.into()),
        status: Some("active".into()),
        start_date: start.map(String::from),
        ..Default::default()
    };
    store.create_worker(&system_principal("test"), &input, today()).await.unwrap().id
}

fn as_worker(id: i64) -> Principal {
    Principal {
        user_id: 1000 + id,
        username: format!("w{id}"),
        role: UserRole::Worker,
        scope: Scope::Nation,
        org_id: None,
        worker_id: Some(id),
    }
}

fn rate(function: &str, rating: u8) -> FunctionRating {
    FunctionRating { function: function.into(), rating: Some(rating), comment: Some(format!("on {function}")) }
}

async fn audited(store: &Store, entity: &str) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM audit_log WHERE entity = $1")
        .bind(entity)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

#[tokio::test]
async fn job_descriptions_are_versioned_data() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let shipped = store.job_descriptions(true).await.unwrap();
        let focal = shipped.iter().find(|j| j.role == WorkerRole::CcwcFocalPoint).expect("the focal point's");
        assert_eq!((focal.version, focal.current), (1, true));
        assert!(focal.functions.len() >= 5 && focal.functions.iter().all(|f| !f.name_km.is_empty()));

        let admin = system_principal("admin");
        let next = JobDescriptionInput {
            role: WorkerRole::CcwcFocalPoint,
            title_en: "CCWC focal point (revised)".into(),
            title_km: "មន្ត្រីបង្គោល".into(),
            source: Some("MoI/MoSVY".into()),
            functions: vec![KeyFunction {
                code: "identify".into(),
                name_en: "Identify".into(),
                name_km: "កំណត់".into(),
                competencies: vec!["skills.02".into()],
            }],
        };
        // Refused whole: a bad second description stores neither.
        let mut bad = next.clone();
        bad.functions[0].code = "two words".into();
        let e = store.load_job_descriptions(&admin, &[next.clone(), bad]).await.unwrap_err();
        assert_eq!(error_codes(&e, true), "descriptions[1].functions[0].code:invalid_code", "{engine:?}");
        assert_eq!(store.job_descriptions(false).await.unwrap().len(), shipped.len());
        let officer = officer(UserRole::ProvincialOfficer, "02", AdminLevel::Province);
        assert!(matches!(
            store.load_job_descriptions(&officer, std::slice::from_ref(&next)).await,
            Err(StoreError::Forbidden)
        ));

        let loaded = store.load_job_descriptions(&admin, &[next]).await.unwrap();
        assert_eq!((loaded[0].version, loaded[0].current), (2, true));
        let all = store.job_descriptions(false).await.unwrap();
        let versions: Vec<(i64, bool)> =
            all.iter().filter(|j| j.role == WorkerRole::CcwcFocalPoint).map(|j| (j.version, j.current)).collect();
        assert_eq!(versions, [(2, true), (1, false)], "{engine:?}");
        assert_eq!(audited(store, "job_description").await, 1);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn an_appraisal_from_start_to_follow_up() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("admin");
        // A focal point of a commune of Sangkae (0208), supervised by a district social worker.
        let focal = worker(store, "Sok Focal", "ccwc_focal_point", "020801", Some("2019-03-01")).await;
        let sup = worker(store, "Chan Supervisor", "district_social_worker", "0208", Some("2012-01-01")).await;
        let other = worker(store, "Dara Elsewhere", "ccwc_focal_point", "010201", Some("2019-03-01")).await;
        store.assign_supervisor(&admin, focal, sup, false, d("2025-01-01")).await.unwrap();

        // Who sees the list: the worker, the supervisor, the district's officer; not another
        // district's officer nor another worker (404, as if it did not exist).
        let district = officer(UserRole::DistrictOfficer, "0208", AdminLevel::District);
        let elsewhere = officer(UserRole::DistrictOfficer, "0102", AdminLevel::District);
        for p in [as_worker(focal), as_worker(sup), district.clone(), admin.clone()] {
            let list = store.worker_appraisals(&p, focal, today()).await.unwrap();
            assert_eq!(list.due, DueState::Overdue, "{engine:?} {}: never appraised, started 2019", p.username);
            assert_eq!(list.may_appraise, p.role != UserRole::Worker || p.worker_id == Some(sup), "{}", p.username);
        }
        for p in [elsewhere.clone(), as_worker(other)] {
            assert!(
                matches!(store.worker_appraisals(&p, focal, today()).await, Err(StoreError::NotFound)),
                "{}",
                p.username
            );
        }

        let start = StartAppraisal {
            cycle: "2026".into(),
            period_start: d("2026-01-01"),
            period_end: d("2026-11-30"),
            form: AppraisalForm::Formal,
        };
        // The worker does not appraise themself; another district's officer does not reach them.
        assert!(matches!(
            store.start_appraisal(&as_worker(focal), focal, &start, today()).await,
            Err(StoreError::Forbidden)
        ));
        assert!(matches!(store.start_appraisal(&elsewhere, focal, &start, today()).await, Err(StoreError::NotFound)));
        let bad = StartAppraisal { cycle: "<b>".into(), period_end: d("2025-01-01"), ..start.clone() };
        let e = store.start_appraisal(&as_worker(sup), focal, &bad, today()).await.unwrap_err();
        assert_eq!(error_codes(&e, true), "cycle:invalid_cycle,period_end:before_start", "{engine:?}");

        let a = store.start_appraisal(&as_worker(sup), focal, &start, today()).await.unwrap();
        assert_eq!((a.status, a.worker.id, a.job_description_version), (AppraisalStatus::Open, focal, 1));
        assert!(a.ratings.iter().all(|r| r.rating.is_none()) && !a.ratings.is_empty());
        let e = store.start_appraisal(&district, focal, &start, today()).await.unwrap_err();
        assert_eq!(error_codes(&e, false), "duplicate_cycle", "one appraisal per worker and cycle");
        // A role without a job description cannot be appraised yet.
        let allied = worker(store, "Police Ally", "allied_police", "0208", Some("2019-01-01")).await;
        let e = store.start_appraisal(&district, allied, &start, today()).await.unwrap_err();
        assert_eq!(error_codes(&e, true), "role:no_job_description");

        // The worker's self-appraisal; the supervisor does not write it.
        let codes: Vec<String> = a.ratings.iter().map(|r| r.function.code.clone()).collect();
        let mine = SelfAppraisal { ratings: vec![rate(&codes[0], 4)], comment: Some("I did my best".into()) };
        assert!(matches!(store.self_appraise(&as_worker(sup), a.id, &mine, None).await, Err(StoreError::Forbidden)));
        let a = store.self_appraise(&as_worker(focal), a.id, &mine, Some(a.version)).await.unwrap();
        assert_eq!((a.ratings[0].self_rating, a.self_comment.as_deref()), (Some(4), Some("I did my best")));

        // The supervisor's part: an old version is refused; completing needs every function
        // rated and an overall result, and a refusal changes nothing.
        let partial = AppraisalUpdate { ratings: vec![rate(&codes[0], 2)], complete: true, ..Default::default() };
        let stale = store.update_appraisal(&as_worker(sup), a.id, &partial, Some(a.version - 1), today()).await;
        assert!(matches!(stale, Err(StoreError::Stale { .. })), "{engine:?}: {stale:?}");
        let e = store.update_appraisal(&as_worker(sup), a.id, &partial, Some(a.version), today()).await.unwrap_err();
        let missing = error_codes(&e, true);
        assert!(missing.contains("ratings:function_not_rated") && missing.ends_with("overall:required"), "{missing}");
        assert_eq!(store.appraisal(&admin, a.id).await.unwrap().version, a.version, "nothing changed");
        let bad = AppraisalUpdate { ratings: vec![rate("nope", 2), rate(&codes[1], 9)], ..Default::default() };
        let e = store.update_appraisal(&as_worker(sup), a.id, &bad, None, today()).await.unwrap_err();
        assert_eq!(error_codes(&e, true), "ratings[0].function:unknown_function,ratings[1].rating:out_of_range");

        let all: Vec<FunctionRating> =
            codes.iter().enumerate().map(|(i, c)| rate(c, if i == 0 { 2 } else { 3 })).collect();
        let done = AppraisalUpdate {
            ratings: all,
            comment: Some("Steady work".into()),
            overall: Some(OverallResult::Meets),
            complete: true,
            ..Default::default()
        };
        let a = store.update_appraisal(&as_worker(sup), a.id, &done, Some(a.version), today()).await.unwrap();
        assert_eq!(
            (a.status, a.overall, a.completed_on.as_deref()),
            (AppraisalStatus::Completed, Some(OverallResult::Meets), Some("2026-12-07"))
        );
        assert_eq!(a.suggested_overall, Some(OverallResult::Meets));
        // The low-rated function's competencies are suggested for training.
        let low: Vec<String> = a.ratings[0].function.competencies.clone();
        assert!(!low.is_empty());
        for c in &low {
            let s = a.training_suggestions.iter().find(|s| &s.competency_code == c).expect("suggested");
            assert!(s.because.contains(&"rating".to_string()));
        }
        let e = store
            .update_appraisal(&as_worker(sup), a.id, &AppraisalUpdate::default(), None, today())
            .await
            .unwrap_err();
        assert_eq!(error_codes(&e, false), "appraisal_completed", "a completed appraisal is read-only");
        assert_eq!(store.worker_appraisals(&district, focal, today()).await.unwrap().due, DueState::NotDue);

        // Actions: a corrective action needs its follow-up date; followed up later.
        let corrective = ActionInput {
            kind: ActionKind::Corrective,
            description: "Record every referral".into(),
            competency_code: None,
            course_id: None,
            follow_up_on: None,
        };
        let e = store.add_appraisal_action(&as_worker(sup), a.id, &corrective, today()).await.unwrap_err();
        assert_eq!(error_codes(&e, true), "follow_up_on:required");
        let training = ActionInput {
            kind: ActionKind::Training,
            description: "Assessment skills".into(),
            competency_code: Some("skills.99".into()),
            course_id: Some(999_999),
            follow_up_on: None,
        };
        let e = store.add_appraisal_action(&as_worker(sup), a.id, &training, today()).await.unwrap_err();
        assert_eq!(error_codes(&e, true), "competency_code:unknown_competency,course_id:unknown_course");
        let corrective = ActionInput { follow_up_on: Some(d("2027-01-15")), ..corrective };
        let a = store.add_appraisal_action(&as_worker(sup), a.id, &corrective, today()).await.unwrap();
        assert!(matches!(
            store.add_appraisal_action(&as_worker(focal), a.id, &corrective, today()).await,
            Err(StoreError::Forbidden)
        ));
        let brief = &store.worker_appraisals(&as_worker(focal), focal, today()).await.unwrap().items[0];
        assert_eq!((brief.id, brief.open_corrective, brief.self_appraised), (a.id, 1, true));
        let action = a.actions[0].id;
        let a = store.close_appraisal_action(&district, action, today(), today()).await.unwrap();
        assert_eq!(a.actions[0].done_on.as_deref(), Some("2026-12-07"));
        assert_eq!(
            error_codes(&store.close_appraisal_action(&district, action, today(), today()).await.unwrap_err(), false),
            "already_done"
        );

        // Every change audited: start, self-appraisal, update, two action rows.
        assert_eq!(audited(store, "appraisal").await, 3, "{engine:?}");
        assert_eq!(audited(store, "appraisal_action").await, 2, "{engine:?}");
        // Another district's officer reads nothing of it.
        assert!(matches!(store.appraisal(&elsewhere, a.id).await, Err(StoreError::NotFound)));
        assert!(matches!(
            store.close_appraisal_action(&elsewhere, action, today(), today()).await,
            Err(StoreError::NotFound)
        ));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn who_is_due_by_unit_and_in_the_lists() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("admin");
        // Start dates around the boundaries of a yearly cycle due 60 days ahead.
        let starts = [
            ("020801", Some("2019-01-01")),
            ("020801", Some("2025-12-06")),
            ("020802", Some("2025-12-07")),
            ("020802", Some("2026-02-05")),
            ("020802", Some("2026-02-06")),
            ("020301", Some("2026-06-01")),
            ("020301", None),
            ("010201", Some("2010-01-01")),
        ];
        let mut ids = Vec::new();
        for (i, (place, start)) in starts.iter().enumerate() {
            let name = format!("Sok {}", ["Ana", "Bora", "Chea", "Dara", "Eng", "Fina", "Gech", "Heng"][i]);
            ids.push((worker(store, &name, "ccwc_focal_point", place, *start).await, *place, *start));
        }
        // One of the overdue is appraised: completed for a period ending last month.
        let a = store
            .start_appraisal(
                &admin,
                ids[0].0,
                &StartAppraisal {
                    cycle: "2026".into(),
                    period_start: d("2025-12-01"),
                    period_end: d("2026-11-15"),
                    form: AppraisalForm::Informal,
                },
                today(),
            )
            .await
            .unwrap();
        let all: Vec<FunctionRating> = a.ratings.iter().map(|r| rate(&r.function.code, 3)).collect();
        let done =
            AppraisalUpdate { ratings: all, overall: Some(OverallResult::Meets), complete: true, ..Default::default() };
        store.update_appraisal(&admin, a.id, &done, None, today()).await.unwrap();
        let s = AppraisalSettings::default();
        let state = |i: usize| {
            let base = if i == 0 { Some(d("2026-11-15")) } else { ids[i].2.map(d) };
            due_state(base, &s, today())
        };
        let battambang = officer(UserRole::ProvincialOfficer, "02", AdminLevel::Province);
        let report = store.performance_summary(&battambang, AdminLevel::Commune, Some("0208"), today()).await.unwrap();
        let mut expected: BTreeMap<&str, (u32, u32, u32, u32)> = BTreeMap::new();
        for (i, (_, place, _)) in ids.iter().enumerate() {
            if !place.starts_with("0208") {
                continue;
            }
            let e = expected.entry(place).or_default();
            e.0 += 1;
            match state(i) {
                DueState::Due => e.1 += 1,
                DueState::Overdue => e.2 += 1,
                DueState::Unknown => e.3 += 1,
                DueState::NotDue => {}
            }
        }
        for row in &report.items {
            let want = expected.get(row.unit.as_str()).copied().unwrap_or_default();
            assert_eq!((row.workers, row.due, row.overdue, row.unknown), want, "{engine:?} {}", row.unit);
        }
        assert_eq!(report.total.completed, 1);
        assert_eq!(report.total.workers, 5, "{engine:?}: the five of Sangkae");
        // The lists hold exactly the workers in that state, in the caller's reach.
        for (kind, want) in [(PerformanceList::Due, DueState::Due), (PerformanceList::Overdue, DueState::Overdue)] {
            let got: Vec<i64> = store
                .performance_list(&battambang, kind, None, today())
                .await
                .unwrap()
                .iter()
                .map(|r| r.worker.id)
                .collect();
            let mut expect: Vec<i64> =
                (0..ids.len()).filter(|i| ids[*i].1.starts_with("02") && state(*i) == want).map(|i| ids[i].0).collect();
            let mut got_sorted = got.clone();
            got_sorted.sort_unstable();
            expect.sort_unstable();
            assert_eq!(got_sorted, expect, "{engine:?} {kind:?}");
            assert!(!expect.is_empty(), "{kind:?}: the data has some");
        }
        // A worker reads no lists; another province's officer cannot name this one.
        assert!(matches!(
            store.performance_summary(&as_worker(ids[0].0), AdminLevel::Province, None, today()).await,
            Err(StoreError::Forbidden)
        ));
        let phnom_penh = officer(UserRole::ProvincialOfficer, "12", AdminLevel::Province);
        assert!(matches!(
            store.performance_list(&phnom_penh, PerformanceList::Due, Some("0208"), today()).await,
            Err(StoreError::NotFound)
        ));
        // The settings: a six-month cycle makes the one appraised last month not yet due, and
        // the one started in June overdue.
        let officer_set =
            store.set_appraisal_settings(&battambang, &AppraisalSettings { cycle_months: 6, due_within_days: 0 }).await;
        assert!(matches!(officer_set, Err(StoreError::Forbidden)));
        let e = store
            .set_appraisal_settings(&admin, &AppraisalSettings { cycle_months: 0, due_within_days: 0 })
            .await
            .unwrap_err();
        assert_eq!(error_codes(&e, true), "cycle_months:out_of_range");
        store.set_appraisal_settings(&admin, &AppraisalSettings { cycle_months: 6, due_within_days: 0 }).await.unwrap();
        let overdue: Vec<i64> = store
            .performance_list(&admin, PerformanceList::Overdue, Some("020301"), today())
            .await
            .unwrap()
            .iter()
            .map(|r| r.worker.id)
            .collect();
        assert_eq!(overdue, [ids[5].0], "{engine:?}");
        assert_eq!(audited(store, "appraisal_settings").await, 1);
        db.cleanup().await;
    }
}

/// Every worker's kept end of their last completed appraisal (migration 0028) against the
/// appraisals themselves.
async fn kept_last_ends_agree(store: &Store, engine: &str, step: &str) {
    let rows = sqlx::query(
        "SELECT w.id, w.appraisal_last, (SELECT MAX(a.period_end) FROM appraisals a \
         WHERE a.worker_id = w.id AND a.status = 'completed') AS truth FROM workers w",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    assert!(!rows.is_empty());
    for r in &rows {
        let (id, kept, truth): (i64, Option<String>, Option<String>) =
            (r.try_get(0).unwrap(), r.try_get(1).unwrap(), r.try_get(2).unwrap());
        assert_eq!(kept, truth, "{engine} {step}: worker {id}");
    }
}

#[tokio::test]
async fn the_last_appraisal_kept_on_the_worker_follows_every_change() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let name = format!("{engine:?}");
        let admin = system_principal("admin");
        let a = worker(store, "Sok Ana", "ccwc_focal_point", "020801", Some("2019-01-01")).await;
        let b = worker(store, "Sok Bora", "ccwc_focal_point", "020802", Some("2020-01-01")).await;
        let appraise = |w: i64, cycle: &'static str, start: &'static str, end: &'static str, complete: bool| {
            let admin = admin.clone();
            async move {
                let x = store
                    .start_appraisal(
                        &admin,
                        w,
                        &StartAppraisal {
                            cycle: cycle.into(),
                            period_start: d(start),
                            period_end: d(end),
                            form: AppraisalForm::Formal,
                        },
                        today(),
                    )
                    .await
                    .unwrap();
                if complete {
                    let all: Vec<FunctionRating> = x.ratings.iter().map(|r| rate(&r.function.code, 3)).collect();
                    let done = AppraisalUpdate {
                        ratings: all,
                        overall: Some(OverallResult::Meets),
                        complete: true,
                        ..Default::default()
                    };
                    store.update_appraisal(&admin, x.id, &done, None, today()).await.unwrap();
                }
                x.id
            }
        };
        kept_last_ends_agree(store, &name, "none yet").await;
        let first = appraise(a, "2024", "2024-01-01", "2024-12-31", true).await;
        kept_last_ends_agree(store, &name, "one completed").await;
        let open = appraise(a, "2025", "2025-01-01", "2025-12-31", false).await;
        kept_last_ends_agree(store, &name, "an open one beside it").await;
        let second = appraise(a, "2026", "2026-01-01", "2026-06-30", true).await;
        let kept: Option<String> = sqlx::query("SELECT appraisal_last FROM workers WHERE id = $1")
            .bind(a)
            .fetch_one(store.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(kept.as_deref(), Some("2026-06-30"), "{name}");
        // Changes no page makes, by hand (a correction in the database): each one followed.
        let to_b = format!("UPDATE appraisals SET worker_id = {b} WHERE id = $1");
        for (step, sql, id) in [
            ("an open one completed", "UPDATE appraisals SET status = 'completed' WHERE id = $1", open),
            ("a period's end moved", "UPDATE appraisals SET period_end = '2027-01-31' WHERE id = $1", open),
            ("a completed one reopened", "UPDATE appraisals SET status = 'open' WHERE id = $1", open),
            ("moved to another worker", to_b.as_str(), second),
            ("the last one deleted", "DELETE FROM appraisals WHERE id = $1", second),
            ("the first one deleted", "DELETE FROM appraisals WHERE id = $1", first),
        ] {
            sqlx::query(sql).bind(id).execute(store.pool()).await.unwrap();
            kept_last_ends_agree(store, &name, step).await;
        }
        // And the figures follow: neither worker has a completed appraisal left, so both count
        // from their start dates (overdue).
        let report = store.performance_summary(&admin, AdminLevel::Province, Some("02"), today()).await.unwrap();
        assert_eq!((report.total.workers, report.total.overdue, report.total.completed), (2, 2, 0), "{name}");
    }
}
