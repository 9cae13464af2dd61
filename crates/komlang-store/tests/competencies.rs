//! The competency framework, assessments, gaps and aggregates on every engine.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use komlang_core::competency::{
    bundled, AssessmentInput, AssessmentKind, Framework, Rating, RatingInput, RequiredLevel, RequirementFor,
};
use komlang_core::validate::WorkerInput;
use komlang_core::*;
use komlang_store::testing::{engines, TestDb};
use komlang_store::{system_principal, AuditQuery, GapQuery, NewUser, Store, StoreError};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn worker_input(name_latin: &str, workplace: &str, cadre: &str, role: &str, sex: &str, sector: &str) -> WorkerInput {
    WorkerInput {
        name_km: Some("សុខ សុភា".into()),
        name_latin: Some(name_latin.into()),
        sex: Some(sex.into()),
        date_of_birth: Some("1988-02-03".into()),
        cadre: Some(cadre.into()),
        role: Some(role.into()),
        sector: Some(sector.into()),
        workplace_code: Some(workplace.into()),
        status: Some("active".into()),
        start_date: Some("2019-01-15".into()),
        ..Default::default()
    }
}

async fn add_worker(db: &TestDb, name: &str, workplace: &str) -> Worker {
    let input = worker_input(name, workplace, "para_social_worker", "ccwc_focal_point", "female", "government");
    db.store.create_worker(&system_principal("test"), &input, today()).await.unwrap()
}

async fn account(
    db: &TestDb,
    username: &str,
    role: UserRole,
    scope: Option<&str>,
    worker_id: Option<i64>,
) -> Principal {
    let u = db
        .store
        .create_user(
            &system_principal("test"),
            &NewUser {
                username: username.into(),
                password: "correct horse".into(),
                role,
                scope_code: scope.map(String::from),
                org_id: None,
                worker_id,
            },
        )
        .await
        .unwrap();
    db.store.principal_for_user(u.id).await.unwrap().unwrap()
}

fn rating(code: &str, value: i64) -> RatingInput {
    RatingInput { indicator_code: code.into(), rating: value, evidence: None }
}

fn input(kind: &str, on: &str, ratings: Vec<RatingInput>) -> AssessmentInput {
    AssessmentInput { kind: Some(kind.into()), assessed_on: Some(on.into()), ratings, ..Default::default() }
}

fn fields(r: Result<impl std::fmt::Debug, StoreError>) -> Vec<(String, String)> {
    match r {
        Err(StoreError::Invalid(e)) => e.errors.into_iter().map(|e| (e.field, e.code)).collect(),
        other => panic!("expected field errors, got {other:?}"),
    }
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

/// The shipped framework file as JSON.
fn framework_file() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/competency-framework/mosvy-2019.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Where two JSON values first differ, and how.
fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: &str) -> Option<String> {
    use serde_json::Value::{Array, Object};
    match (a, b) {
        (Object(x), Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(v), Some(w)) => first_difference(v, w, &format!("{at}.{k}")),
                (v, w) => Some(format!("{at}.{k}: {v:?} / {w:?}")),
            })
        }
        (Array(x), Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (v, w))| first_difference(v, w, &format!("{at}[{i}]")))
        }
        _ => (a != b).then(|| format!("{at}: {a} / {b}")),
    }
}

/// A revision of the bundled framework: another version code, values.11 dropped, an
/// indicator added to values.01.
fn revised() -> Framework {
    let mut f = bundled();
    f.version = "mosvy-2026-draft".into();
    f.areas[0].competencies.retain(|c| c.code != "values.11");
    let mut extra = f.areas[0].competencies[0].indicators[0].clone();
    extra.code = "values.01.6".into();
    extra.text_en = "Explains the limits of confidentiality to the client.".into();
    f.areas[0].competencies[0].indicators.push(extra);
    f
}

#[tokio::test]
async fn the_bundled_framework_is_loaded_once_and_revisions_keep_old_assessments() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("test");
        let versions = store.framework_versions().await.unwrap();
        assert_eq!(versions.len(), 1, "{engine:?}");
        assert_eq!(
            (versions[0].version.as_str(), versions[0].competencies, versions[0].indicators, versions[0].current),
            ("mosvy-2019", 56, 285, true)
        );
        // Every text of the shipped file, read as plain JSON rather than by the parser in use.
        let stored = serde_json::to_value(store.current_framework().await.unwrap()).unwrap();
        assert_eq!(first_difference(&stored, &framework_file(), "$"), None, "{engine:?}");
        assert!(!store.ensure_competency_framework().await.unwrap(), "loaded once");
        let defaults = store.competency_requirements("mosvy-2019").await.unwrap();
        assert_eq!(defaults, {
            let mut d = competency::default_requirements(&bundled());
            d.sort_by_key(|r| (komlang_store::requirement_target_code(r.applies_to), r.competency_code.clone()));
            d
        });
        // A few levels as docs/competencies.md and the rules give them.
        let level = |to: RequirementFor, code: &str| {
            defaults.iter().find(|r| r.applies_to == to && r.competency_code == code).map(|r| r.level)
        };
        let (pro, para) = (RequirementFor::Cadre(Cadre::Professional), RequirementFor::Cadre(Cadre::ParaSocialWorker));
        assert_eq!(level(pro, "values.01"), Some(Rating::Advanced));
        assert_eq!(level(pro, "knowledge.theories.01"), Some(Rating::Competent));
        assert_eq!(level(para, "skills.01"), Some(Rating::Competent));
        assert_eq!(level(para, "skills.02"), Some(Rating::Developing));
        assert_eq!(level(para, "knowledge.theories.01"), None);
        assert_eq!(level(RequirementFor::Role(WorkerRole::CcwcFocalPoint), "skills.08"), Some(Rating::Competent));

        let w = add_worker(&db, "Sok Dara", "010201").await;
        let old = store
            .create_assessment(
                &admin,
                w.id,
                &input("supervisor", "2025-01-10", vec![rating("values.11.1", 2)]),
                today(),
            )
            .await
            .unwrap();
        assert_eq!(old.framework_version, "mosvy-2019");

        // Only national administrators load a version; a version is loaded once.
        let prov = account(&db, "prov01", UserRole::ProvincialOfficer, Some("01"), None).await;
        assert!(matches!(store.load_competency_framework(&prov, &revised()).await, Err(StoreError::Forbidden)));
        let v = store.load_competency_framework(&admin, &revised()).await.unwrap();
        assert_eq!((v.version.as_str(), v.competencies, v.indicators, v.current), ("mosvy-2026-draft", 55, 282, true));
        assert!(matches!(store.load_competency_framework(&admin, &revised()).await, Err(StoreError::Conflict(_))));
        let versions = store.framework_versions().await.unwrap();
        assert_eq!(
            versions.iter().map(|v| (v.version.as_str(), v.current)).collect::<Vec<_>>(),
            [("mosvy-2026-draft", true), ("mosvy-2019", false)]
        );
        assert_eq!(store.current_framework().await.unwrap().version, "mosvy-2026-draft");
        // The required levels carried over, except for the competency dropped.
        let carried = store.competency_requirements("mosvy-2026-draft").await.unwrap();
        let kept: Vec<&RequiredLevel> = defaults.iter().filter(|r| r.competency_code != "values.11").collect();
        assert_eq!(carried.iter().collect::<Vec<_>>(), kept);

        // The old assessment still points to its version, with its rating.
        let again = store.get_assessment(&admin, old.id).await.unwrap().unwrap();
        assert_eq!(again, old);
        // New assessments use the new version: the dropped indicator is refused, the new one taken.
        let r = store
            .create_assessment(
                &admin,
                w.id,
                &input("supervisor", "2026-01-10", vec![rating("values.11.1", 2)]),
                today(),
            )
            .await;
        assert_eq!(fields(r), vec![pair("rating.values.11.1", "unknown_indicator")]);
        let new = store
            .create_assessment(
                &admin,
                w.id,
                &input("supervisor", "2026-01-10", vec![rating("values.01.6", 3)]),
                today(),
            )
            .await
            .unwrap();
        assert_eq!(new.framework_version, "mosvy-2026-draft");
        // A paper form of the older version can still be recorded against it.
        let mut paper = input("training", "2024-06-01", vec![rating("values.11.2", 3)]);
        paper.framework_version = Some("mosvy-2019".into());
        assert_eq!(
            store.create_assessment(&admin, w.id, &paper, today()).await.unwrap().framework_version,
            "mosvy-2019"
        );
        paper.framework_version = Some("no-such-version".into());
        assert_eq!(
            fields(store.create_assessment(&admin, w.id, &paper, today()).await),
            vec![pair("framework_version", "unknown_framework_version")]
        );
        // Gaps are measured per version: the current one by default.
        let g = store.worker_gaps(&admin, w.id, None).await.unwrap();
        assert_eq!((g.framework_version.as_str(), g.assessments), ("mosvy-2026-draft", 1));
        let v1 = g.competencies.iter().find(|c| c.competency_code == "values.01").unwrap();
        assert_eq!(v1.latest_assessment_id, Some(new.id));
        let g = store.worker_gaps(&admin, w.id, Some("mosvy-2019")).await.unwrap();
        assert_eq!(g.assessments, 2);
        let v11 = g.competencies.iter().find(|c| c.competency_code == "values.11").unwrap();
        assert_eq!(v11.latest_assessment_id, Some(old.id), "the latest by date in that version");
        // Loads are audited.
        let audit = store
            .list_audit(&admin, &AuditQuery { entity: Some("competency_framework".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(audit.total, 2);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn refused_assessments_say_why_field_by_field() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("test");
        let w = add_worker(&db, "Sok Dara", "010201").await;
        let other = add_worker(&db, "Chan Sophea", "020101").await;
        let prov = account(&db, "prov01", UserRole::ProvincialOfficer, Some("01"), None).await;
        let viewer = account(&db, "viewer", UserRole::NationalViewer, None, None).await;
        let me = account(&db, "worker-sok", UserRole::Worker, None, Some(w.id)).await;

        let bad = input(
            "supervisor",
            "2026-11-27",
            vec![
                rating("values.01.1", 5),
                rating("values.01.2", 0),
                rating("nothing.01.1", 3),
                rating("values.02.1", 3),
            ],
        );
        let e = fields(store.create_assessment(&prov, w.id, &bad, today()).await);
        assert_eq!(
            e,
            vec![
                pair("assessed_on", "future_date"),
                pair("rating.values.01.1", "rating_out_of_scale"),
                pair("rating.values.01.2", "rating_out_of_scale"),
                pair("rating.nothing.01.1", "unknown_indicator"),
            ],
            "{engine:?}"
        );
        // Outside the scope: as if the worker did not exist.
        let ok = input("supervisor", "2026-11-26", vec![rating("values.01.1", 3)]);
        assert!(matches!(store.create_assessment(&prov, other.id, &ok, today()).await, Err(StoreError::NotFound)));
        assert!(matches!(store.create_assessment(&prov, 999_999, &ok, today()).await, Err(StoreError::NotFound)));
        // Read-only accounts record nothing.
        assert!(matches!(store.create_assessment(&viewer, w.id, &ok, today()).await, Err(StoreError::Forbidden)));
        // A worker records self-assessments of themself only; officers no self-assessments.
        assert_eq!(
            fields(store.create_assessment(&me, w.id, &ok, today()).await),
            vec![pair("kind", "kind_not_allowed")]
        );
        let own = input("self", "2026-11-20", vec![rating("values.01.1", 4)]);
        assert_eq!(
            fields(store.create_assessment(&prov, w.id, &own, today()).await),
            vec![pair("kind", "kind_not_allowed")]
        );
        let mine = store.create_assessment(&me, w.id, &own, today()).await.unwrap();
        assert_eq!(
            (mine.kind, mine.assessor.as_str(), mine.recorded_by.as_str()),
            (AssessmentKind::SelfAssessment, "worker-sok", "worker-sok")
        );
        assert!(matches!(store.create_assessment(&me, other.id, &own, today()).await, Err(StoreError::NotFound)));
        assert_eq!(
            fields(store.create_assessment(&admin, w.id, &AssessmentInput::default(), today()).await),
            vec![pair("kind", "required"), pair("assessed_on", "required"), pair("ratings", "no_ratings")]
        );
        // Nothing refused was written.
        let n: i64 =
            sqlx::query("SELECT COUNT(*) FROM competency_assessments").fetch_one(store.pool()).await.unwrap().get(0);
        assert_eq!(n, 1);

        // Changing: the kind's rule holds; the version stays.
        let sup = store.create_assessment(&prov, w.id, &ok, today()).await.unwrap();
        assert!(matches!(store.update_assessment(&me, sup.id, &own, today(), None).await, Err(StoreError::Forbidden)));
        assert!(matches!(
            store.update_assessment(&prov, mine.id, &own, today(), None).await,
            Err(StoreError::Forbidden)
        ));
        let mut moved = ok.clone();
        moved.framework_version = Some("other".into());
        assert_eq!(
            fields(store.update_assessment(&prov, sup.id, &moved, today(), None).await),
            vec![pair("framework_version", "version_fixed")]
        );
        let mut changed = input("training", "2026-11-25", vec![rating("values.01.1", 2), rating("skills.01.1", 4)]);
        changed.notes = Some("after the course".into());
        let u = store.update_assessment(&prov, sup.id, &changed, today(), None).await.unwrap();
        assert_eq!(
            (u.kind, u.ratings.len(), u.notes.as_deref()),
            (AssessmentKind::Training, 2, Some("after the course"))
        );
        assert!(matches!(store.delete_assessment(&viewer, sup.id, None).await, Err(StoreError::Forbidden)));
        assert!(matches!(store.delete_assessment(&me, sup.id, None).await, Err(StoreError::Forbidden)));
        store.delete_assessment(&prov, sup.id, None).await.unwrap();
        assert!(store.get_assessment(&admin, sup.id).await.unwrap().is_none());
        // Every change is audited, with the ratings as fields.
        let audit = store
            .list_audit(&admin, &AuditQuery { entity: Some("competency_assessment".into()), ..Default::default() })
            .await
            .unwrap();
        let actions: Vec<&str> = audit.items.iter().rev().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["create", "create", "update", "delete"], "{engine:?}");
        let update = &audit.items[1];
        let changes: Vec<String> = update.changes().into_iter().map(|c| c.field).collect();
        assert_eq!(changes, ["assessed_on", "kind", "notes", "rating.skills.01.1", "rating.values.01.1"]);
        db.cleanup().await;
    }
}

#[tokio::test]
async fn only_the_worker_their_supervisor_and_their_scope_see_assessments() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("test");
        let w = add_worker(&db, "Sok Dara", "010201").await; // province 01
        let other = add_worker(&db, "Chan Sophea", "020101").await; // province 02
        let prov01 = account(&db, "prov01", UserRole::ProvincialOfficer, Some("01"), None).await;
        let prov02 = account(&db, "prov02", UserRole::ProvincialOfficer, Some("02"), None).await;
        let me = account(&db, "worker-sok", UserRole::Worker, None, Some(w.id)).await;
        let colleague = account(&db, "worker-chan", UserRole::Worker, None, Some(other.id)).await;
        let a = store
            .create_assessment(
                &admin,
                w.id,
                &input("supervisor", "2026-10-01", vec![rating("values.01.1", 2)]),
                today(),
            )
            .await
            .unwrap();

        let sees = |p: Principal| {
            let store = store.clone();
            async move {
                let get = store.get_assessment(&p, a.id).await.unwrap().is_some();
                let list = store.list_assessments(&p, w.id).await.is_ok();
                let gaps = store.worker_gaps(&p, w.id, None).await.is_ok();
                assert_eq!((get, list), (gaps, gaps), "{}", p.username);
                get
            }
        };
        assert!(sees(admin.clone()).await);
        assert!(sees(prov01.clone()).await);
        assert!(sees(me.clone()).await);
        assert!(!sees(prov02.clone()).await);
        assert!(!sees(colleague.clone()).await);

        // The supervisor is set by someone who may change the worker's record.
        assert!(matches!(store.set_worker_supervisor(&prov02, w.id, Some("prov02")).await, Err(StoreError::NotFound)));
        assert!(matches!(store.set_worker_supervisor(&me, w.id, Some("prov02")).await, Err(StoreError::Forbidden)));
        assert_eq!(
            fields(store.set_worker_supervisor(&prov01, w.id, Some("nobody")).await),
            vec![pair("supervisor", "unknown_user")]
        );
        assert_eq!(
            fields(store.set_worker_supervisor(&prov01, w.id, Some("worker-sok")).await),
            vec![pair("supervisor", "self_supervision")]
        );
        let s = store.set_worker_supervisor(&prov01, w.id, Some("prov02")).await.unwrap().unwrap();
        assert_eq!(s.username, "prov02");
        // Now the supervisor sees (and records) the worker's assessments, not the worker's record.
        assert!(sees(prov02.clone()).await);
        assert!(store.get_worker(&prov02, w.id).await.unwrap().is_none());
        assert!(!sees(colleague.clone()).await);
        let theirs = store
            .create_assessment(
                &prov02,
                w.id,
                &input("supervisor", "2026-11-01", vec![rating("values.01.1", 3)]),
                today(),
            )
            .await
            .unwrap();
        assert_eq!(theirs.recorded_by, "prov02");
        let own = input("self", "2026-11-02", vec![rating("values.01.1", 3)]);
        assert_eq!(
            fields(store.create_assessment(&prov02, w.id, &own, today()).await),
            vec![pair("kind", "kind_not_allowed")]
        );
        assert_eq!(store.supervised_worker_ids(&prov02).await.unwrap(), vec![w.id]);
        // Their team's aggregate counts the worker; their scope's does not.
        let team = store.competency_gaps(&prov02, &GapQuery { team: true, ..Default::default() }).await.unwrap();
        assert_eq!(team.workers_assessed, 1);
        let scope = store.competency_gaps(&prov02, &GapQuery::default()).await.unwrap();
        assert_eq!(scope.workers_assessed, 0);
        assert!(store.assessment_export_rows(&prov02, &GapQuery::default()).await.unwrap().is_empty());
        assert_eq!(
            store.assessment_export_rows(&prov02, &GapQuery { team: true, ..Default::default() }).await.unwrap().len(),
            2
        );
        assert_eq!(store.assessment_export_rows(&prov01, &GapQuery::default()).await.unwrap().len(), 2);
        assert_eq!(store.assessment_export_rows(&me, &GapQuery::default()).await.unwrap().len(), 2);
        assert!(store.assessment_export_rows(&colleague, &GapQuery::default()).await.unwrap().is_empty());
        // Removing the supervisor ends it.
        assert!(store.set_worker_supervisor(&prov01, w.id, None).await.unwrap().is_none());
        assert!(!sees(prov02.clone()).await);
        assert!(store.get_assessment(&prov02, theirs.id).await.unwrap().is_none());
        let audit = store
            .list_audit(&admin, &AuditQuery { entity: Some("worker_supervisor".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(audit.total, 2);
        // Deleting the worker deletes their assessments.
        store.delete_worker(&admin, w.id, None).await.unwrap();
        assert!(store.get_assessment(&admin, a.id).await.unwrap().is_none());
        db.cleanup().await;
    }
}

/// xorshift64*.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

/// The gap counts of one competency, straight from the tables: for each worker, the latest
/// assessment (in the version, of the kind if given) that rates the competency; workers whose
/// ratings of it there average below the highest level their cadre or role requires.
async fn direct_count(
    store: &Store,
    version: &str,
    competency: &str,
    extra: &str,
    kind: Option<&str>,
) -> (i64, i64, i64) {
    let kind_a = kind.map(|k| format!(" AND a.kind = '{k}'")).unwrap_or_default();
    let kind_b = kind.map(|k| format!(" AND b.kind = '{k}'")).unwrap_or_default();
    let sql = format!(
        "SELECT COUNT(*) AS assessed, COUNT(req) AS with_req, \
         COALESCE(SUM(CASE WHEN req IS NOT NULL AND s < req * n THEN 1 ELSE 0 END), 0) AS below FROM ( \
           SELECT a.id, SUM(r.rating) AS s, COUNT(*) AS n, \
             (SELECT MAX(q.level) FROM competency_requirements q WHERE q.framework_version = a.framework_version \
               AND q.competency_code = '{competency}' AND ((q.applies_kind = 'cadre' AND q.applies_code = w.cadre) \
               OR (q.applies_kind = 'role' AND q.applies_code = w.role))) AS req \
           FROM competency_assessments a JOIN workers w ON w.id = a.worker_id \
           JOIN admin_units u ON u.code = w.workplace_code \
           JOIN competency_ratings r ON r.assessment_id = a.id \
           WHERE a.framework_version = '{version}'{kind_a} AND r.indicator_code LIKE '{competency}.%' {extra} \
             AND NOT EXISTS (SELECT 1 FROM competency_assessments b JOIN competency_ratings rb \
               ON rb.assessment_id = b.id WHERE b.worker_id = a.worker_id AND rb.indicator_code LIKE '{competency}.%' \
               AND b.framework_version = a.framework_version{kind_b} AND (b.assessed_on > a.assessed_on \
               OR (b.assessed_on = a.assessed_on AND b.id > a.id))) \
           GROUP BY a.id, w.cadre, w.role, a.framework_version) t"
    );
    let r = sqlx::query(&sql).fetch_one(store.pool()).await.unwrap();
    (r.get("assessed"), r.get("with_req"), r.get("below"))
}

#[tokio::test]
async fn aggregates_equal_a_direct_count_over_the_tables() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("test");
        let fw = store.current_framework().await.unwrap();
        let indicators: Vec<String> = fw.indicators().map(|(_, _, i)| i.code.clone()).collect();
        let mut rng = Rng(2019);
        // Random required levels for two cadres and a role on top of the defaults.
        for target in ["cadre:para_social_worker", "cadre:professional_social_worker", "role:ngo_case_worker"] {
            let mut levels = BTreeMap::new();
            for (_, c) in fw.competencies() {
                if rng.below(3) > 0 {
                    levels.insert(c.code.clone(), Rating::ALL[rng.below(4) as usize]);
                }
            }
            let t = komlang_store::parse_requirement_target(target).unwrap();
            store.set_competency_requirements(&admin, &fw.version, t, &levels).await.unwrap();
        }
        let places = ["010201", "010202", "0103", "020101", "020102", "120101"];
        let cadres = ["para_social_worker", "professional_social_worker", "para_professional", "allied_worker"];
        let roles = ["ccwc_focal_point", "ngo_case_worker", "district_social_worker"];
        let kinds = ["supervisor", "training"];
        for n in 0..36u8 {
            let wi = worker_input(
                &format!("Worker {}{}", (b'a' + n / 26) as char, (b'a' + n % 26) as char),
                places[rng.below(places.len() as u64) as usize],
                cadres[rng.below(4) as usize],
                roles[rng.below(3) as usize],
                if rng.below(2) == 0 { "female" } else { "male" },
                if rng.below(3) == 0 { "ngo" } else { "government" },
            );
            let w = store.create_worker(&admin, &wi, today()).await.unwrap();
            for _ in 0..rng.below(4) {
                let mut ratings: Vec<RatingInput> = Vec::new();
                for c in &indicators {
                    if rng.below(3) == 0 {
                        ratings.push(rating(c, 1 + rng.below(4) as i64));
                    }
                }
                if ratings.is_empty() {
                    continue;
                }
                // Few distinct days, so that ties on the date occur.
                let day = format!("2026-0{}-1{}", 1 + rng.below(3), rng.below(2));
                let a = input(kinds[rng.below(2) as usize], &day, ratings);
                store.create_assessment(&admin, w.id, &a, today()).await.unwrap();
            }
        }
        let prov01 = account(&db, "prov01", UserRole::ProvincialOfficer, Some("01"), None).await;
        let cases: Vec<(Principal, GapQuery, String, Option<&str>)> = vec![
            (admin.clone(), GapQuery::default(), String::new(), None),
            (prov01.clone(), GapQuery::default(), "AND u.province_code = '01'".into(), None),
            (
                admin.clone(),
                GapQuery { district: Some("0102".into()), sex: Some(Sex::Female), ..Default::default() },
                "AND u.district_code = '0102' AND w.sex = 'female'".into(),
                None,
            ),
            (
                admin.clone(),
                GapQuery {
                    cadre: Some(Cadre::ParaSocialWorker),
                    sector: Some(Sector::Government),
                    ..Default::default()
                },
                "AND w.cadre = 'para_social_worker' AND w.sector = 'government'".into(),
                None,
            ),
            (
                prov01.clone(),
                GapQuery { kind: Some(AssessmentKind::Supervisor), ..Default::default() },
                "AND u.province_code = '01'".into(),
                Some("supervisor"),
            ),
            (prov01.clone(), GapQuery { province: Some("02".into()), ..Default::default() }, "AND 1 = 0".into(), None),
        ];
        let mut nonzero = 0;
        for (p, q, extra, kind) in cases {
            let report = store.competency_gaps(&p, &q).await.unwrap();
            assert_eq!(report.cells.len(), 56);
            for cell in &report.cells {
                let want = direct_count(store, &fw.version, &cell.competency_code, &extra, kind).await;
                let got = (i64::from(cell.assessed), i64::from(cell.with_requirement), i64::from(cell.below_required));
                assert_eq!(got, want, "{engine:?} {} {q:?} {}", p.username, cell.competency_code);
                nonzero += i64::from(cell.below_required > 0);
            }
        }
        assert!(nonzero > 20, "the data exercise gaps ({nonzero})");
        // Training needs: the competencies most workers lack, from the same cells.
        let report = store.competency_gaps(&admin, &GapQuery::default()).await.unwrap();
        let needs = competency::training_needs(&report.cells);
        assert!(needs.len() > 1, "{engine:?}: {} training needs", needs.len());
        assert!(needs.windows(2).all(|w| w[0].below_required >= w[1].below_required));
        db.cleanup().await;
    }
}

#[tokio::test]
async fn required_levels_are_set_per_cadre_and_role_by_national_admins() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("test");
        let prov = account(&db, "prov01", UserRole::ProvincialOfficer, Some("01"), None).await;
        let target = RequirementFor::Role(WorkerRole::CcwcMember);
        let levels: BTreeMap<String, Rating> =
            [("values.01".to_string(), Rating::Advanced), ("skills.02".to_string(), Rating::Developing)].into();
        assert!(matches!(
            store.set_competency_requirements(&prov, "mosvy-2019", target, &levels).await,
            Err(StoreError::Forbidden)
        ));
        assert!(matches!(
            store.set_competency_requirements(&admin, "nope", target, &levels).await,
            Err(StoreError::NotFound)
        ));
        let bad: BTreeMap<String, Rating> = [("skills.99".to_string(), Rating::Advanced)].into();
        assert_eq!(
            fields(store.set_competency_requirements(&admin, "mosvy-2019", target, &bad).await),
            vec![pair("level.skills.99", "unknown_competency")]
        );
        store.set_competency_requirements(&admin, "mosvy-2019", target, &levels).await.unwrap();
        let got: Vec<RequiredLevel> = store
            .competency_requirements("mosvy-2019")
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.applies_to == target)
            .collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].level, Rating::Developing);
        // The worker's gaps use the higher of cadre and role.
        let w = add_worker(&db, "Sok Dara", "010201").await; // para social worker, CCWC focal point
        let member = WorkerInput { role: Some("ccwc_member".into()), ..Default::default() };
        store
            .update_worker(&admin, w.id, &member, &komlang_store::WorkerChange::default(), today(), None)
            .await
            .unwrap();
        store
            .create_assessment(
                &admin,
                w.id,
                &input("supervisor", "2026-11-01", vec![rating("values.01.1", 3), rating("values.01.2", 3)]),
                today(),
            )
            .await
            .unwrap();
        let g = store.worker_gaps(&admin, w.id, None).await.unwrap();
        let v1 = g.competencies.iter().find(|c| c.competency_code == "values.01").unwrap();
        assert_eq!((v1.required, v1.latest, v1.gap), (Some(Rating::Advanced), Some(Rating::Competent), true));
        assert_eq!(g.gaps.len(), 1);
        let audit = store
            .list_audit(&admin, &AuditQuery { entity: Some("competency_requirement".into()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(audit.total, 1);
        assert_eq!(audit.items[0].entity_id, "mosvy-2019/role:ccwc_member");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn a_partial_assessment_does_not_erase_earlier_scores() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let store = &db.store;
        let admin = system_principal("test");
        let w = add_worker(&db, "Sok Dara", "010201").await; // para social worker: values.01 competent
        let first = input("supervisor", "2026-01-10", vec![rating("values.01.1", 2), rating("skills.01.1", 1)]);
        let first = store.create_assessment(&admin, w.id, &first, today()).await.unwrap();
        // A later training assessment rates skills only.
        let later = input("training", "2026-06-10", vec![rating("skills.01.1", 4), rating("skills.01.2", 3)]);
        let later = store.create_assessment(&admin, w.id, &later, today()).await.unwrap();
        let g = store.worker_gaps(&admin, w.id, None).await.unwrap();
        let get = |code: &str| g.competencies.iter().find(|c| c.competency_code == code).unwrap().clone();
        let (v1, s1) = (get("values.01"), get("skills.01"));
        assert_eq!((v1.latest, v1.latest_assessment_id, v1.gap), (Some(Rating::Developing), Some(first.id), true));
        assert_eq!((s1.latest, s1.latest_assessment_id, s1.gap), (Some(Rating::Competent), Some(later.id), false));
        assert_eq!(g.gaps.iter().map(|x| x.competency_code.as_str()).collect::<Vec<_>>(), ["values.01"]);
        let report = store.competency_gaps(&admin, &GapQuery::default()).await.unwrap();
        let cell = |code: &str| report.cells.iter().find(|c| c.competency_code == code).unwrap().clone();
        assert_eq!((cell("values.01").assessed, cell("values.01").below_required), (1, 1));
        assert_eq!((cell("skills.01").assessed, cell("skills.01").below_required), (1, 0));
        // Only supervisor assessments: skills.01 is then below the level.
        let q = GapQuery { kind: Some(AssessmentKind::Supervisor), ..Default::default() };
        let report = store.competency_gaps(&admin, &q).await.unwrap();
        let s1 = report.cells.iter().find(|c| c.competency_code == "skills.01").unwrap();
        assert_eq!((s1.assessed, s1.below_required), (1, 1));
        db.cleanup().await;
    }
}
