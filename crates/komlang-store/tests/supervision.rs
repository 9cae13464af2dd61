//! Supervision on every engine: assignments with history, the ratio and eligibility under the
//! norms (kept as data), sessions and whose eyes their notes are for, the summary by unit and
//! its lists, scope, audit.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use chrono::NaiveDate;
use komlang_core::supervision::{Ineligible, SupervisionFunction, SupervisionModel, SupervisionNorms};
use komlang_core::validate::WorkerInput;
use komlang_core::*;
use komlang_store::supervision::{ListKind, SessionInput, SummaryQuery};
use komlang_store::testing::{engines, error_codes, TestDb};
use komlang_store::{system_principal, AuditQuery, Store, StoreError};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn admin() -> Principal {
    system_principal("test")
}

fn who(role: UserRole, code: &str, level: AdminLevel, worker_id: Option<i64>) -> Principal {
    Principal {
        user_id: 0,
        username: format!("{}-{code}", role.code()),
        role,
        scope: Scope::Unit { code: code.into(), level },
        org_id: None,
        worker_id,
    }
}

async fn add(store: &Store, name: &str, workplace: &str, cadre: &str, start: &str) -> i64 {
    let input = WorkerInput {
        name_km: Some("ឈ្មោះ".into()),
        name_latin: Some(name.into()),
        sex: Some("female".into()),
        cadre: Some(cadre.into()),
        role: Some("ccwc_member".into()),
        sector: Some("government".into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some(start.into()),
        ..Default::default()
    };
    store.create_worker(&admin(), &input, today()).await.unwrap().id
}

fn code_of(e: &StoreError) -> String {
    error_codes(e, false)
}

#[tokio::test]
async fn supervision_is_assigned_counted_and_listed() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = admin();
        // Sangkae (0208): a professional of 2018 supervises; eight para social workers.
        let sup = add(s, "Sophal Keo", "0208", "professional_social_worker", "2018-01-10").await;
        let junior = add(s, "Nary Lim", "0208", "para_professional", "2024-05-01").await;
        let mut team = Vec::new();
        for name in ["Ana", "Bopha", "Chenda", "Dara", "Eng", "Heng", "Kanha", "Leap"] {
            team.push(add(s, &format!("{name} Sok"), "020801", "para_social_worker", "2020-01-01").await);
        }
        for w in &team[..7] {
            s.assign_supervisor(&a, *w, sup, false, day("2026-01-05")).await.unwrap();
        }
        // Not self, not a worker who left, not before the current supervision began.
        assert_eq!(code_of(&s.assign_supervisor(&a, sup, sup, false, today()).await.unwrap_err()), "supervises_self");
        let e = s.assign_supervisor(&a, team[0], junior, false, day("2025-12-31")).await.unwrap_err();
        assert_eq!(code_of(&e), "before_current_supervision", "{engine:?}");
        assert_eq!(
            code_of(&s.assign_supervisor(&a, team[0], 999_999, false, today()).await.unwrap_err()),
            "unknown_worker"
        );

        // Seven supervisees: over the ratio of six for a supervisor who is not dedicated.
        let view = s.worker_supervision(&a, sup, today()).await.unwrap().unwrap();
        assert_eq!((view.supervisees.len(), view.limit, view.over_ratio), (7, 6, true), "{engine:?}");
        assert!(view.ineligible.is_empty(), "{engine:?}: eight years, a professional");
        assert_eq!(view.experience_years, Some(8));

        // Dara moves to Nary (two years: not eligible, even for community-level workers).
        s.assign_supervisor(&a, team[3], junior, false, day("2026-03-01")).await.unwrap();
        let dara = s.worker_supervision(&a, team[3], today()).await.unwrap().unwrap();
        assert_eq!(dara.supervisor.as_ref().map(|x| x.supervisor.id), Some(junior), "{engine:?}");
        assert_eq!(dara.history.len(), 1, "{engine:?}");
        assert_eq!(dara.history[0].end_date.as_deref(), Some("2026-03-01"));
        let nary = s.worker_supervision(&a, junior, today()).await.unwrap().unwrap();
        assert_eq!(nary.ineligible, vec![Ineligible::Experience { have: Some(2), need: 3 }], "{engine:?}");

        // A session in September for three of the team: the others are overdue (90 days).
        let input = SessionInput {
            supervisor_id: sup,
            held_on: day("2026-09-30"),
            model: SupervisionModel::Group,
            functions: vec![SupervisionFunction::Educational, SupervisionFunction::Supportive],
            supervisee_ids: vec![team[0], team[1], team[2]],
            notes: Some("Case reviews.".into()),
        };
        s.record_session(&a, &input, today()).await.unwrap();
        let bad = SessionInput {
            held_on: day("2027-01-01"),
            model: SupervisionModel::Individual,
            functions: vec![],
            supervisee_ids: vec![team[0], team[1]],
            ..input.clone()
        };
        let e = s.record_session(&a, &bad, today()).await.unwrap_err();
        assert_eq!(code_of(&e), "date_in_future,required,individual_one_supervisee", "{engine:?}");

        let q = SummaryQuery { level: AdminLevel::District, parent: Some("02".into()) };
        let rows = s.supervision_summary(&a, &q, today()).await.unwrap();
        let r = rows.iter().find(|r| r.unit == "0208").unwrap();
        // 10 workers in the district: 7 supervised (6 by Sophal, 1 by Nary), 3 not (the two supervisors, Leap).
        assert_eq!(
            (r.supervisors, r.supervisees, r.without_supervisor, r.over_ratio, r.not_eligible, r.overdue),
            (2, 7, 3, 0, 1, 4),
            "{engine:?}: {r:?}"
        );
        let over = s.supervision_list(&a, ListKind::OverRatio, Some("02"), today()).await.unwrap();
        assert!(over.is_empty(), "{engine:?}: six is within the ratio");
        s.assign_supervisor(&a, team[7], sup, false, today()).await.unwrap();
        let over = s.supervision_list(&a, ListKind::OverRatio, Some("0208"), today()).await.unwrap();
        assert_eq!(
            over.iter().map(|x| (x.worker.id, x.supervisees, x.limit)).collect::<Vec<_>>(),
            vec![(sup, Some(7), Some(6))]
        );
        let without = s.supervision_list(&a, ListKind::WithoutSupervisor, Some("0208"), today()).await.unwrap();
        let mut ids: Vec<i64> = without.iter().map(|x| x.worker.id).collect();
        ids.sort();
        assert_eq!(ids, vec![sup, junior], "{engine:?}");
        let overdue = s.supervision_list(&a, ListKind::Overdue, Some("0208"), today()).await.unwrap();
        assert_eq!(overdue.len(), 4, "{engine:?}: Dara (moved in March), Eng, Heng, Kanha; Leap began today");

        // The norms are data: a dedicated ratio, and fewer years for community-level supervisors.
        let norms = SupervisionNorms { other_ratio: 8, years_required_community: 2, ..Default::default() };
        s.set_supervision_norms(&a, &norms).await.unwrap();
        let rows = s.supervision_summary(&a, &q, today()).await.unwrap();
        let r = rows.iter().find(|r| r.unit == "0208").unwrap();
        assert_eq!((r.over_ratio, r.not_eligible), (0, 0), "{engine:?}");
        let e =
            s.set_supervision_norms(&a, &SupervisionNorms { other_ratio: 0, ..Default::default() }).await.unwrap_err();
        assert_eq!(code_of(&e), "out_of_range", "{engine:?}");

        // Ending.
        s.end_supervision(&a, team[3], today()).await.unwrap();
        assert_eq!(code_of(&s.end_supervision(&a, team[3], today()).await.unwrap_err()), "no_supervisor");

        // Audited.
        let audit = s
            .list_audit(&a, &AuditQuery { entity: Some("supervision".into()), per_page: 100, ..Default::default() })
            .await
            .unwrap();
        assert_eq!(audit.total, 10, "{engine:?}: 8 assignments, 1 move, 1 end");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn supervision_stays_in_scope_and_notes_stay_private() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let s = &db.store;
        let a = admin();
        let sup = add(s, "Sophal Keo", "0208", "professional_social_worker", "2015-01-10").await;
        let member = add(s, "Bopha Sok", "020801", "para_social_worker", "2020-01-01").await;
        let other = add(s, "Vanna Chea", "0201", "para_social_worker", "2020-01-01").await;
        let far = add(s, "Rith Phan", "1201", "para_social_worker", "2020-01-01").await;
        s.assign_supervisor(&a, member, sup, true, day("2026-01-05")).await.unwrap();
        let input = SessionInput {
            supervisor_id: sup,
            held_on: day("2026-11-01"),
            model: SupervisionModel::Individual,
            functions: vec![SupervisionFunction::Supportive],
            supervisee_ids: vec![member],
            notes: Some("Private matter.".into()),
        };
        s.record_session(&a, &input, today()).await.unwrap();

        let district = who(UserRole::DistrictOfficer, "0208", AdminLevel::District, None);
        let viewer = Principal { role: UserRole::NationalViewer, scope: Scope::Nation, ..district.clone() };
        let supervisor =
            Principal { worker_id: Some(sup), ..who(UserRole::Worker, "x", AdminLevel::Country, Some(sup)) };
        let supervisor = Principal { scope: Scope::Nation, ..supervisor };
        let bystander = Principal { worker_id: Some(other), scope: Scope::Nation, ..supervisor.clone() };

        // Notes: the district officer (manages them) and the supervisor read them; a viewer does not.
        let notes = |p: &Principal, id: i64| {
            let (s, p) = (s.clone(), p.clone());
            async move {
                s.worker_supervision(&p, id, today())
                    .await
                    .unwrap()
                    .map(|v| (v.sessions[0].notes.clone(), v.sessions[0].notes_withheld))
            }
        };
        assert_eq!(notes(&district, member).await, Some((Some("Private matter.".into()), false)), "{engine:?}");
        assert_eq!(notes(&viewer, member).await, Some((None, true)), "{engine:?}");
        assert_eq!(notes(&supervisor, sup).await, Some((Some("Private matter.".into()), false)), "{engine:?}");
        // A worker reads only their own supervision.
        assert!(matches!(s.worker_supervision(&bystander, member, today()).await, Err(StoreError::Forbidden)));

        // A supervisor outside the officer's district is not named to them.
        let member2 = add(s, "Chanthy Ros", "020802", "para_social_worker", "2021-01-01").await;
        s.assign_supervisor(&a, member2, other, false, today()).await.unwrap();
        let seen = s.worker_supervision(&district, member2, today()).await.unwrap().unwrap();
        let shown = seen.supervisor.unwrap().supervisor;
        assert_eq!((shown.id, shown.name_latin.as_str(), shown.workplace_code.as_str()), (0, "", ""), "{engine:?}");
        let seen = s.worker_supervision(&a, member2, today()).await.unwrap().unwrap();
        assert_eq!(seen.supervisor.unwrap().supervisor.name_latin, "Vanna Chea", "{engine:?}");

        // Out of scope: 404, never changed.
        assert!(s.worker_supervision(&district, far, today()).await.unwrap().is_none(), "{engine:?}");
        let e = s.assign_supervisor(&district, far, sup, false, today()).await.unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{engine:?}: {e:?}");
        let e = s.assign_supervisor(&district, member, far, false, today()).await.unwrap_err();
        assert_eq!(code_of(&e), "unknown_worker", "{engine:?}: a supervisor out of reach is not named");
        let e = s
            .supervision_summary(
                &district,
                &SummaryQuery { level: AdminLevel::Commune, parent: Some("12".into()) },
                today(),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, StoreError::NotFound), "{engine:?}");
        let rows = s
            .supervision_summary(&district, &SummaryQuery { level: AdminLevel::Commune, parent: None }, today())
            .await
            .unwrap();
        assert!(rows.iter().all(|r| r.unit.starts_with("0208")) && !rows.is_empty(), "{engine:?}");

        // The supervisor records their own sessions, with their supervisees; not someone else's.
        let mine = SessionInput { notes: None, ..input.clone() };
        s.record_session(&supervisor, &mine, today()).await.unwrap();
        let theirs = SessionInput { supervisor_id: other, supervisee_ids: vec![member], ..mine.clone() };
        assert!(matches!(s.record_session(&supervisor, &theirs, today()).await, Err(StoreError::Forbidden)));
        let stranger = SessionInput { supervisee_ids: vec![far], ..mine };
        assert_eq!(code_of(&s.record_session(&supervisor, &stranger, today()).await.unwrap_err()), "unknown_worker");
        db.cleanup().await;
    }
}
