//! Demo assessments for the demo province, loaded once.

use chrono::NaiveDate;
use komlang_core::competency::{AssessmentDraft, AssessmentKind, Framework, RatedIndicator, Rating};
use komlang_core::*;
use serde::Serialize;
use sqlx::Row;

use super::assessments::insert_assessment;
use crate::common::audit::record_audit;
use crate::common::demo::{mix, DEMO_PROVINCE};
use crate::common::meta::meta_insert_new;
use crate::common::principal::system_principal;
use crate::common::rows::parse_col;
use crate::{now_text, Result, Store, StoreError};

/// Meta key recording that the demo assessments were loaded (once, like the demo data set).
pub const DEMO_COMPETENCIES_KEY: &str = "demo_competencies_version";
const DEMO_COMPETENCIES_VERSION: &str = "1";

/// FNV-1a of a code.
fn code_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// One synthetic assessment: its kind, day and ratings.
fn demo_assessment(
    fw: &Framework,
    worker_id: i64,
    cadre: Cadre,
    kind: AssessmentKind,
    round: u64,
    assessed_on: NaiveDate,
    rated: impl Fn(&str, &str) -> bool,
) -> AssessmentDraft {
    let w = worker_id as u64;
    // Levels in tenths of a rating: the cadre's training, the area, the person, the competency.
    let base: i64 = match cadre {
        Cadre::Professional => 33,
        Cadre::ParaProfessional => 28,
        Cadre::ParaSocialWorker => 24,
        Cadre::Allied => 21,
    };
    let ability = (mix(&[w, 1]) % 13) as i64 - 6;
    let growth = if round == 0 { -6 } else { 0 };
    let bias = if kind == AssessmentKind::SelfAssessment { 4 } else { 0 };
    let mut ratings = Vec::new();
    for (n, (area, comp, ind)) in fw.indicators().enumerate() {
        if !rated(&area.code, &comp.group) {
            continue;
        }
        let area_adj = match (area.code.as_str(), comp.group.as_str()) {
            ("values", _) => 4,
            ("knowledge", "practice_models") => -1,
            ("knowledge", "theories") => -6,
            ("knowledge", _) => -4,
            _ => 0,
        };
        let comp_adj = (mix(&[code_hash(&comp.code)]) % 9) as i64 - 4;
        let noise = (mix(&[w, n as u64, round, kind as u64 + 7]) % 11) as i64 - 5;
        let tenths = base + area_adj + comp_adj + ability + growth + bias + noise;
        let value = ((tenths + 5) / 10).clamp(1, 4);
        let rating = Rating::from_value(value).unwrap_or(Rating::NotYet);
        ratings.push(RatedIndicator { indicator_code: ind.code.clone(), rating, evidence: None });
    }
    AssessmentDraft { kind, assessed_on, assessor: None, notes: None, framework_version: fw.version.clone(), ratings }
}

#[derive(Serialize)]
struct DemoAssessmentCounts {
    workers: usize,
    assessments: usize,
    ratings: usize,
}

impl Store {
    /// Synthetic assessments for the demo workers of the demo province (self and supervisor,
    /// some a year apart to show progress, some at the end of a training), and the demo
    /// `worker` account's supervisor: the `sangke` account. Loaded once (a meta row records it);
    /// the same data on both engines. Returns the number of assessments written.
    pub(crate) async fn load_demo_competencies(&self, today: NaiveDate) -> Result<usize> {
        if self.meta_get(DEMO_COMPETENCIES_KEY).await?.is_some() {
            return Ok(0);
        }
        self.ensure_competency_framework().await?;
        let fw = self.current_framework().await?;
        let rows = sqlx::query(
            "SELECT w.id, w.cadre FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
             WHERE w.synthetic = 1 AND u.province_code = $1 AND w.status IN ('active', 'on_leave') ORDER BY w.id",
        )
        .bind(DEMO_PROVINCE)
        .fetch_all(&self.pool)
        .await?;
        let workers: Vec<(i64, Cadre)> =
            rows.iter().map(|r| Ok((r.try_get("id")?, parse_col(r, "cadre", Cadre::parse)?))).collect::<Result<_>>()?;
        let account = |name: &'static str, role: UserRole| async move {
            let u = self.user_by_name(name).await?;
            Ok::<_, StoreError>(u.filter(|u| u.role == role))
        };
        let worker_account = account("worker", UserRole::Worker).await?;
        let sangke = account("sangke", UserRole::DistrictOfficer).await?;
        let focal = worker_account.as_ref().and_then(|u| u.worker_id);

        let mut tx = self.begin_write().await?;
        let claimed = meta_insert_new(&mut tx, DEMO_COMPETENCIES_KEY, DEMO_COMPETENCIES_VERSION).await?;
        if !claimed {
            tx.rollback().await?;
            return Ok(0);
        }
        let now = now_text();
        if let (Some(worker_id), Some(sup)) = (focal, &sangke) {
            sqlx::query(
                "INSERT INTO worker_supervisors (worker_id, supervisor_user_id, set_at, set_by) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (worker_id) DO NOTHING",
            )
            .bind(worker_id)
            .bind(sup.id)
            .bind(&now)
            .bind("demo")
            .execute(&mut *tx)
            .await?;
        }
        let days = |n: u64| today - chrono::Days::new(n);
        let all = |_: &str, _: &str| true;
        let (mut assessments, mut ratings) = (0usize, 0usize);
        for &(id, cadre) in &workers {
            let h = mix(&[id as u64, 99]);
            // One worker in three has an older assessment, one in five a training one.
            let (earlier_round, trained) = (h % 3, h % 5);
            let recent = days(12 + (h >> 16) % 150);
            let mut plan = Vec::new();
            if earlier_round == 0 {
                // A year earlier, on the older paper form: values and skills only.
                let earlier = days(380 + (h >> 8) % 40);
                let older_form = |area: &str, _: &str| area != "knowledge";
                plan.push(demo_assessment(&fw, id, cadre, AssessmentKind::Supervisor, 0, earlier, older_form));
            }
            if h % 4 != 3 || Some(id) == focal {
                let own_day = recent - chrono::Days::new(3);
                plan.push(demo_assessment(&fw, id, cadre, AssessmentKind::SelfAssessment, 1, own_day, all));
            }
            plan.push(demo_assessment(&fw, id, cadre, AssessmentKind::Supervisor, 1, recent, all));
            if trained == 0 {
                // At the end of a case management training: practice models and skills.
                let trained = days((h >> 24) % 10);
                let taught = |area: &str, group: &str| area == "skills" || group == "practice_models";
                plan.push(demo_assessment(&fw, id, cadre, AssessmentKind::Training, 1, trained, taught));
            }
            for d in plan {
                let by_sangke = Some(id) == focal && d.kind == AssessmentKind::Supervisor;
                let (assessor, recorder) = match (d.kind, by_sangke, &sangke) {
                    (AssessmentKind::Supervisor, true, Some(s)) => {
                        (s.username.clone(), (Some(s.id), s.username.as_str()))
                    }
                    (AssessmentKind::SelfAssessment, _, _) => {
                        let name = if Some(id) == focal { "worker" } else { "demo" };
                        (name.to_string(), (None, "demo"))
                    }
                    (AssessmentKind::Training, _, _) => ("NISA training (demo)".to_string(), (None, "demo")),
                    _ => ("DoSVY supervisor (demo)".to_string(), (None, "demo")),
                };
                insert_assessment(&mut tx, &fw, id, &d, &assessor, recorder, &now).await?;
                assessments += 1;
                ratings += d.ratings.len();
            }
        }
        let counts = DemoAssessmentCounts { workers: workers.len(), assessments, ratings };
        let p = system_principal("demo");
        record_audit(&mut tx, &p, "import", "competency_assessment", "demo", None, Some(&counts)).await?;
        tx.commit().await?;
        tracing::info!(workers = workers.len(), assessments, ratings, "demo competency assessments loaded");
        Ok(assessments)
    }
}
