//! The demo training record: modules for each certificate programme, training events with
//! participants from the demo registry, RPL grants, certificates and licences. Loaded once
//! (a meta row records it), deterministically: the same data on both engines.
//!
//! Demo certificate and licence numbers come from a hash of the record, not from the
//! operating system's generator as real ones do, so that the demo is the same every time.

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use komlang_core::training::*;
use komlang_core::*;
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use super::catalogue::insert_course;
use crate::common::audit::record_audit;
use crate::common::demo::mix;
use crate::common::meta::meta_insert_new;
use crate::common::principal::system_principal;
use crate::{now_text, Result, Store};

/// Meta key recording that the demo training record was loaded.
pub const DEMO_TRAINING_KEY: &str = "demo_training_version";
const DEMO_TRAINING_VERSION: &str = "1";

/// Provinces whose para social workers follow the demo Vocational Certificate:
/// Battambang (the demo province), Phnom Penh, Siem Reap.
const VC_PROVINCES: &[&str] = &["02", "12", "17"];

/// The five modules of each demo certificate programme: code suffix, English and Khmer titles,
/// hours (teaching, lab/workshop, field) and the framework competencies covered. Each earns
/// 6 credits by the credit rule, so the five make the 30 a certificate needs.
struct DemoModule {
    suffix: &'static str,
    title_en: &'static str,
    title_km: &'static str,
    hours: (f64, f64, f64),
    competencies: &'static [&'static str],
}

const MODULES: &[DemoModule] = &[
    DemoModule {
        suffix: "M1",
        title_en: "Values and ethics of social service work",
        title_km: "គុណតម្លៃ និងក្រមសីលធម៌នៃការងារសេវាសង្គម",
        hours: (60.0, 30.0, 45.0),
        competencies: &["values.01", "values.02", "values.03", "values.04"],
    },
    DemoModule {
        suffix: "M2",
        title_en: "Child protection laws and policies",
        title_km: "ច្បាប់ និងគោលនយោបាយកិច្ចការពារកុមារ",
        hours: (60.0, 30.0, 45.0),
        competencies: &["knowledge.laws.01", "knowledge.laws.02", "knowledge.conventions.01", "knowledge.policies.01"],
    },
    DemoModule {
        suffix: "M3",
        title_en: "Case management",
        title_km: "ការគ្រប់គ្រងករណី",
        hours: (60.0, 30.0, 45.0),
        competencies: &["knowledge.practice.01", "knowledge.practice.02", "skills.01", "skills.02"],
    },
    DemoModule {
        suffix: "M4",
        title_en: "Working with children and families",
        title_km: "ការធ្វើការជាមួយកុមារ និងគ្រួសារ",
        hours: (60.0, 30.0, 45.0),
        competencies: &["knowledge.theories.01", "skills.03", "skills.04", "skills.05"],
    },
    DemoModule {
        suffix: "M5",
        title_en: "Supervised field practice",
        title_km: "ការអនុវត្តនៅមូលដ្ឋានក្រោមការត្រួតពិនិត្យ",
        hours: (30.0, 30.0, 135.0),
        competencies: &["skills.06", "skills.07", "values.05"],
    },
];

#[derive(Serialize)]
struct DemoTrainingCounts {
    courses: usize,
    events: usize,
    participations: usize,
    recognitions: usize,
    certificates: usize,
    licences: usize,
}

/// A synthetic worker still in post.
struct DemoWorker {
    id: i64,
    role: WorkerRole,
    cadre: Cadre,
    province: String,
    start: Option<NaiveDate>,
}

impl DemoWorker {
    /// Already in post on `day` (or start date unknown).
    fn in_post_by(&self, day: NaiveDate) -> bool {
        self.start.is_none_or(|s| s <= day)
    }
}

fn minutes_of(h: (f64, f64, f64)) -> Minutes {
    Hours { teaching: h.0, lab: h.1, field: h.2 }.to_minutes("", &mut ValidationErrors::default())
}

struct Ctx<'a> {
    tx: Transaction<'a, Any>,
    now: String,
    counts: DemoTrainingCounts,
}

/// One demo training event to write.
struct DemoEvent<'a> {
    course: i64,
    institution: Option<i64>,
    starts: NaiveDate,
    days: u64,
    place: &'a str,
    venue: &'a str,
    trainers: &'a str,
    minutes: Minutes,
}

impl Ctx<'_> {
    async fn event(&mut self, e: DemoEvent<'_>) -> Result<i64> {
        let DemoEvent { course, institution, starts, days, place, venue, trainers, minutes: m } = e;
        let ends = starts + Days::new(days.saturating_sub(1));
        let row = sqlx::query(
            "INSERT INTO training_events (course_id, institution_id, starts_on, ends_on, place_code, venue, trainers, \
             teaching_minutes, lab_minutes, field_minutes, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'demo', $11, $11) RETURNING id",
        )
        .bind(course)
        .bind(institution)
        .bind(starts.to_string())
        .bind(ends.to_string())
        .bind(place)
        .bind(venue)
        .bind(trainers)
        .bind(m.teaching)
        .bind(m.lab)
        .bind(m.field)
        .bind(&self.now)
        .fetch_one(&mut *self.tx)
        .await?;
        self.counts.events += 1;
        Ok(row.try_get(0)?)
    }

    async fn participant(
        &mut self,
        event: i64,
        worker: i64,
        result: TrainingResult,
        m: Minutes,
        days: u64,
    ) -> Result<()> {
        let m = if result == TrainingResult::Passed { m } else { Minutes::default() };
        let days = if result == TrainingResult::Absent { 0 } else { days };
        sqlx::query(
            "INSERT INTO training_participants (event_id, worker_id, days_attended, teaching_minutes, lab_minutes, \
             field_minutes, result, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'demo', $8)",
        )
        .bind(event)
        .bind(worker)
        .bind(days as i64)
        .bind(m.teaching)
        .bind(m.lab)
        .bind(m.field)
        .bind(result.code())
        .bind(&self.now)
        .execute(&mut *self.tx)
        .await?;
        self.counts.participations += 1;
        Ok(())
    }

    async fn certificate(&mut self, worker: i64, programme: i64, level: CertificateLevel, on: NaiveDate) -> Result<()> {
        let number = make_number(NumberKind::Certificate, mix(&[worker as u64, programme as u64, 0xce47]));
        sqlx::query(
            "INSERT INTO certificates (number, worker_id, programme_id, level, issued_on, issued_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'demo', $6)",
        )
        .bind(number)
        .bind(worker)
        .bind(programme)
        .bind(level.code())
        .bind(on.to_string())
        .bind(&self.now)
        .execute(&mut *self.tx)
        .await?;
        self.counts.certificates += 1;
        Ok(())
    }
}

impl Store {
    /// Loads the demo training record once; returns the number of training events written.
    pub(crate) async fn load_demo_training(&self, today: NaiveDate) -> Result<usize> {
        if self.meta_get(DEMO_TRAINING_KEY).await?.is_some() {
            return Ok(0);
        }
        let programmes: HashMap<String, (i64, CertificateLevel)> =
            self.programmes().await?.into_iter().map(|p| (p.code.clone(), (p.id, p.level))).collect();
        let institutions: HashMap<String, i64> =
            self.institutions().await?.into_iter().map(|i| (i.code.clone(), i.id)).collect();
        // Synthetic workers still in post, by role and province.
        let rows = sqlx::query(
            "SELECT w.id, w.role, w.cadre, w.start_date, u.province_code FROM workers w \
             JOIN admin_units u ON u.code = w.workplace_code \
             WHERE w.synthetic = 1 AND w.status IN ('active', 'on_leave') ORDER BY w.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut workers: Vec<DemoWorker> = Vec::with_capacity(rows.len());
        for r in &rows {
            let role: String = r.try_get("role")?;
            let cadre: String = r.try_get("cadre")?;
            let (Some(role), Some(cadre)) = (WorkerRole::parse(&role), Cadre::parse(&cadre)) else { continue };
            let start: Option<String> = r.try_get("start_date")?;
            workers.push(DemoWorker {
                id: r.try_get("id")?,
                role,
                cadre,
                province: r.try_get::<Option<String>, _>("province_code")?.unwrap_or_default(),
                start: start.and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok()),
            });
        }
        let demo_worker =
            self.user_by_name("worker").await?.filter(|u| u.role == UserRole::Worker).and_then(|u| u.worker_id);

        let mut tx = self.begin_write().await?;
        let claimed = meta_insert_new(&mut tx, DEMO_TRAINING_KEY, DEMO_TRAINING_VERSION).await?;
        if !claimed {
            tx.rollback().await?;
            return Ok(0);
        }
        let mut c = Ctx {
            tx,
            now: now_text(),
            counts: DemoTrainingCounts {
                courses: 0,
                events: 0,
                participations: 0,
                recognitions: 0,
                certificates: 0,
                licences: 0,
            },
        };
        let nisa = institutions.get("NISA").copied();
        let day = |n: u64| today - Days::new(n);

        // Modules of the four certificate programmes and the allied workers' certificate,
        // and two continuing-education courses.
        let mut modules: HashMap<(&str, usize), (i64, Minutes)> = HashMap::new();
        for prog in ["VC-PSW", "TVC1-PP", "TVC2-PP", "TVC3-PP"] {
            let Some(&(pid, _)) = programmes.get(prog) else { continue };
            for (k, m) in MODULES.iter().enumerate() {
                let d = CourseDraft {
                    code: format!("{prog}-{}", m.suffix),
                    title_en: m.title_en.to_string(),
                    title_km: m.title_km.to_string(),
                    programme_id: Some(pid),
                    minutes: minutes_of(m.hours),
                    competencies: m.competencies.iter().map(|s| s.to_string()).collect(),
                };
                let id = insert_course(&mut c.tx, &d).await?;
                modules.insert((prog, k), (id, d.minutes));
                c.counts.courses += 1;
            }
        }
        let allied = match programmes.get("CERT-ALLIED") {
            Some(&(pid, _)) => {
                let d = CourseDraft {
                    code: "CERT-ALLIED-M1".into(),
                    title_en: "Child protection for allied workers (15 days)".into(),
                    title_km: "កិច្ចការពារកុមារ សម្រាប់បុគ្គលិកពាក់ព័ន្ធ (១៥ ថ្ងៃ)".into(),
                    programme_id: Some(pid),
                    minutes: minutes_of((90.0, 0.0, 0.0)),
                    competencies: vec!["knowledge.laws.01".into(), "values.01".into(), "skills.01".into()],
                };
                let id = insert_course(&mut c.tx, &d).await?;
                c.counts.courses += 1;
                Some((id, d.minutes))
            }
            None => None,
        };
        let mut ce_courses = Vec::new();
        for (code, en, km, hours) in [
            ("CE-CASE-REFRESH", "Case management refresher", "វគ្គរំលឹកការគ្រប់គ្រងករណី", (12.0, 6.0, 0.0)),
            ("CE-SAFEGUARD", "Child safeguarding in practice", "ការការពារសុវត្ថិភាពកុមារក្នុងការអនុវត្ត", (18.0, 6.0, 0.0)),
        ] {
            let d = CourseDraft {
                code: code.into(),
                title_en: en.into(),
                title_km: km.into(),
                programme_id: None,
                minutes: minutes_of(hours),
                competencies: vec!["skills.01".into(), "values.02".into()],
            };
            let id = insert_course(&mut c.tx, &d).await?;
            c.counts.courses += 1;
            ce_courses.push((id, d.minutes));
        }

        // Vocational Certificate for CCWC members in three provinces: five modules over about
        // sixteen months; most pass all five, some fail or miss one, some have the field module
        // recognized (RPL) instead. Battambang has a second, later intake (with the demo
        // `worker` account's focal point). Only people already in post when an intake starts
        // take part.
        let is_ccwc = |w: &DemoWorker| matches!(w.role, WorkerRole::CcwcFocalPoint | WorkerRole::CcwcMember);
        let mut intakes: Vec<(usize, &str, u64, u64, Vec<i64>)> = Vec::new();
        for (pi, prov) in VC_PROVINCES.iter().enumerate() {
            let base = 900 - 9 * pi as u64;
            let cohort: Vec<i64> = workers
                .iter()
                .filter(|w| w.province == *prov && is_ccwc(w) && w.in_post_by(day(base)) && Some(w.id) != demo_worker)
                .map(|w| w.id)
                .take(24)
                .collect();
            intakes.push((pi, prov, base, 120, cohort));
        }
        {
            let first: Vec<i64> = intakes[0].4.clone();
            let mut cohort: Vec<i64> = demo_worker.into_iter().collect();
            cohort.extend(
                workers
                    .iter()
                    .filter(|w| w.province == "02" && is_ccwc(w) && w.in_post_by(day(400)))
                    .filter(|w| !first.contains(&w.id) && Some(w.id) != demo_worker)
                    .map(|w| w.id)
                    .take(15),
            );
            intakes.push((0, "02", 400, 80, cohort));
        }
        for (pi, prov, base, spacing, cohort) in &intakes {
            let mut earned: HashMap<i64, usize> = HashMap::new();
            for k in 0..MODULES.len() {
                let Some(&(course, m)) = modules.get(&("VC-PSW", k)) else { continue };
                let starts = day(base - spacing * k as u64);
                let ev = c
                    .event(DemoEvent {
                        course,
                        institution: nisa,
                        starts,
                        days: 10,
                        place: prov,
                        venue: "DoSVY training room",
                        trainers: "NISA trainers",
                        minutes: m,
                    })
                    .await?;
                for &w in cohort {
                    let h = mix(&[w as u64, k as u64, 7]);
                    let rpl = Some(w) != demo_worker && mix(&[w as u64, 3]).is_multiple_of(7);
                    if k == 4 && rpl {
                        continue;
                    }
                    let result = if Some(w) == demo_worker {
                        TrainingResult::Passed
                    } else if h.is_multiple_of(19) {
                        TrainingResult::Failed
                    } else if h.is_multiple_of(23) {
                        TrainingResult::Absent
                    } else {
                        TrainingResult::Passed
                    };
                    c.participant(ev, w, result, m, 10).await?;
                    if result == TrainingResult::Passed {
                        *earned.entry(w).or_default() += 1;
                    }
                }
            }
            let Some(&(vc, vc_level)) = programmes.get("VC-PSW") else { continue };
            let last_module = base - spacing * (MODULES.len() as u64 - 1);
            for &w in cohort {
                let rpl = Some(w) != demo_worker && mix(&[w as u64, 3]).is_multiple_of(7);
                if rpl {
                    let m = minutes_of(MODULES[4].hours);
                    sqlx::query(
                        "INSERT INTO training_recognitions (worker_id, kind, programme_id, teaching_minutes, lab_minutes, \
                         field_minutes, evidence, assessor, assessed_on, recorded_by, created_at) \
                         VALUES ($1, 'rpl', $2, $3, $4, $5, $6, $7, $8, 'demo', $9)",
                    )
                    .bind(w)
                    .bind(vc)
                    .bind(m.teaching)
                    .bind(m.lab)
                    .bind(m.field)
                    .bind("Portfolio of supervised case work as CCWC focal point (demo)")
                    .bind("NISA assessor (demo)")
                    .bind(day(last_module + 20).to_string())
                    .bind(&c.now)
                    .execute(&mut *c.tx)
                    .await?;
                    c.counts.recognitions += 1;
                    *earned.entry(w).or_default() += 1;
                }
                // Those with all five modules are eligible; most have been certified already.
                let certify = Some(w) == demo_worker || mix(&[w as u64, 11]) % 10 < 7;
                if earned.get(&w).copied().unwrap_or(0) == MODULES.len() && certify {
                    c.certificate(w, vc, vc_level, day(last_module - 40 - 5 * *pi as u64)).await?;
                }
            }
        }

        // Technical and Vocational Certificates in Battambang: DoSVY officials have finished
        // TVC2, district offices are three modules into TVC1.
        for (prog, roles, modules_done) in [
            (
                "TVC2-PP",
                &[
                    WorkerRole::DosvyOfficer,
                    WorkerRole::DosvyCaseManagementOfficer,
                    WorkerRole::DosvyChildProtectionOfficer,
                ][..],
                5usize,
            ),
            ("TVC1-PP", &[WorkerRole::DistrictSocialWorker, WorkerRole::DistrictOfficer][..], 3usize),
        ] {
            let cohort: Vec<i64> = workers
                .iter()
                .filter(|w| w.province == "02" && roles.contains(&w.role) && w.in_post_by(day(760)))
                .map(|w| w.id)
                .take(20)
                .collect();
            for k in 0..modules_done {
                let Some(&(course, m)) = modules.get(&(prog, k)) else { continue };
                let ev = c
                    .event(DemoEvent {
                        course,
                        institution: nisa,
                        starts: day(760 - 100 * k as u64),
                        days: 10,
                        place: "02",
                        venue: "NISA regional centre",
                        trainers: "NISA trainers",
                        minutes: m,
                    })
                    .await?;
                for &w in &cohort {
                    let result = if mix(&[w as u64, k as u64, 5]).is_multiple_of(17) {
                        TrainingResult::Failed
                    } else {
                        TrainingResult::Passed
                    };
                    c.participant(ev, w, result, m, 10).await?;
                }
            }
            if modules_done == MODULES.len() {
                if let Some(&(pid, level)) = programmes.get(prog) {
                    for &w in &cohort {
                        let all_passed = (0..modules_done).all(|k| !mix(&[w as u64, k as u64, 5]).is_multiple_of(17));
                        if all_passed && !mix(&[w as u64, 13]).is_multiple_of(4) {
                            c.certificate(w, pid, level, day(340)).await?;
                        }
                    }
                }
            }
        }

        // The allied workers' certificate: police, teachers and health staff of Battambang.
        if let (Some((course, m)), Some(&(pid, level))) = (allied, programmes.get("CERT-ALLIED")) {
            let cohort: Vec<i64> = workers
                .iter()
                .filter(|w| {
                    w.province == "02"
                        && w.in_post_by(day(240))
                        && matches!(
                            w.role,
                            WorkerRole::AlliedPolice | WorkerRole::AlliedTeacher | WorkerRole::AlliedHealth
                        )
                })
                .map(|w| w.id)
                .take(25)
                .collect();
            let ev = c
                .event(DemoEvent {
                    course,
                    institution: nisa,
                    starts: day(240),
                    days: 15,
                    place: "02",
                    venue: "Provincial hall",
                    trainers: "NISA and DoSVY trainers",
                    minutes: m,
                })
                .await?;
            for &w in &cohort {
                c.participant(ev, w, TrainingResult::Passed, m, 15).await?;
                c.certificate(w, pid, level, day(200)).await?;
            }
        }

        // Licences for professional social workers (degree in social work), with continuing
        // education; a spread of states and expiry dates.
        let professionals: Vec<i64> = workers
            .iter()
            .filter(|w| w.cadre == Cadre::Professional && w.in_post_by(day(1200)))
            .map(|w| w.id)
            .take(48)
            .collect();
        for (k, (course, m)) in ce_courses.iter().enumerate() {
            let ev = c
                .event(DemoEvent {
                    course: *course,
                    institution: nisa,
                    starts: day(400 - 250 * k as u64),
                    days: 3,
                    place: "12",
                    venue: "NISA, Phnom Penh",
                    trainers: "NISA",
                    minutes: *m,
                })
                .await?;
            for &w in professionals.iter().filter(|w| !mix(&[**w as u64, k as u64, 17]).is_multiple_of(3)) {
                c.participant(ev, w, TrainingResult::Passed, *m, 3).await?;
            }
        }
        let rules = LicensingRules::default();
        for (k, &w) in professionals.iter().enumerate() {
            // Issued so that expiries spread from 60 days ago to about three years ahead,
            // a handful within the next 90 days.
            let issued = match k % 12 {
                0 => day(3 * 365 - 20),
                1 => day(3 * 365 - 45),
                2 => day(3 * 365 - 80),
                3 => day(3 * 365 + 60),
                _ => day(30 + (mix(&[w as u64, 21]) % 900)),
            };
            let expires = rules.expiry(issued);
            let (status, reason, decided) = match k % 16 {
                5 => ("applied", None, None),
                9 => ("suspended", Some("Under investigation of a complaint (demo)"), Some(issued)),
                13 => ("rejected", Some("Degree certificate not provided (demo)"), Some(issued)),
                _ => ("active", None, Some(issued)),
            };
            let granted = matches!(status, "active" | "suspended");
            let number = granted.then(|| make_number(NumberKind::Licence, mix(&[w as u64, 0x11c])));
            let row = sqlx::query(
                "INSERT INTO licences (worker_id, number, status, applied_on, application_note, decided_on, decided_by, \
                 reason, issued_on, term_start, expires_on, renewals, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, NULL, $5, $6, $7, $8, $8, $9, 0, $10, $10) RETURNING id",
            )
            .bind(w)
            .bind(number)
            .bind(status)
            .bind((issued - Days::new(30)).to_string())
            .bind(decided.map(|d| d.to_string()))
            .bind(decided.map(|_| "demo"))
            .bind(reason)
            .bind(granted.then(|| issued.to_string()))
            .bind(granted.then(|| expires.to_string()))
            .bind(&c.now)
            .fetch_one(&mut *c.tx)
            .await?;
            let id: i64 = row.try_get(0)?;
            let mut steps = vec![("apply", issued - Days::new(30), None)];
            match status {
                "active" => steps.push(("approve", issued, None)),
                "suspended" => {
                    steps.push(("approve", issued, None));
                    steps.push(("suspend", today.min(issued + Days::new(20)), reason));
                }
                "rejected" => steps.push(("reject", issued, reason)),
                _ => {}
            }
            for (action, on, why) in steps {
                sqlx::query(
                    "INSERT INTO licence_actions (licence_id, action, on_date, by_user, reason, ce_minutes, created_at) \
                     VALUES ($1, $2, $3, 'demo', $4, NULL, $5)",
                )
                .bind(id)
                .bind(action)
                .bind(on.to_string())
                .bind(why)
                .bind(&c.now)
                .execute(&mut *c.tx)
                .await?;
            }
            c.counts.licences += 1;
        }

        let events = c.counts.events;
        let p = system_principal("demo");
        record_audit(&mut c.tx, &p, "import", "training_event", "demo", None, Some(&c.counts)).await?;
        c.tx.commit().await?;
        tracing::info!(events, "demo training record loaded");
        Ok(events)
    }
}
