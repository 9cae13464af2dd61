//! Demo hiring in the demo province: a provincial recruitment round in progress for vacant
//! posts of its districts (the first post requiring a para-professional with three years'
//! experience), with candidates from the registry, graduates from the placements' pool and new
//! applicants, some scored, one not eligible; field placements of RUPP and NISA students at the
//! DoSVY and district offices. Loaded once (a meta row records it).

use chrono::{Days, NaiveDate};
use komlang_core::hiring::{CandidateSource, PlacementKind, Requirements, RoundKind};
use komlang_core::{Cadre, EducationLevel, Sex};
use sqlx::Row;

use super::{CandidateInput, PlacementInput, RoundInput, RoundPostInput, ScoresInput};
use crate::common::demo::DEMO_PROVINCE;
use crate::common::meta::meta_insert_new;
use crate::common::principal::system_principal;
use crate::{Result, Store};

const DEMO_HIRING_KEY: &str = "demo_hiring_version";

const STUDENTS: [(&str, &str, &str, &str, &str); 6] = [
    ("សុខ ចាន់ធី", "Sok Chanthy", "female", "RUPP", "02"),
    ("ហេង វិសាល", "Heng Visal", "male", "NISA", "0203"),
    ("ជា ស្រីនាង", "Chea Sreyneang", "female", "RUPP", "0208"),
    ("ម៉ៅ ពិសិដ្ឋ", "Mao Piseth", "male", "NISA", "02"),
    ("លី សុផាត", "Ly Sophat", "female", "NISA", "0204"),
    ("ទេព រតនា", "Tep Rotana", "female", "RUPP", "0207"),
];

impl Store {
    pub(crate) async fn load_demo_hiring(&self, today: NaiveDate) -> Result<()> {
        if self.meta_get(DEMO_HIRING_KEY).await?.is_some() {
            return Ok(());
        }
        {
            let mut tx = self.begin_write().await?;
            if !meta_insert_new(&mut tx, DEMO_HIRING_KEY, "1").await? {
                tx.rollback().await?;
                return Ok(());
            }
            tx.commit().await?;
        }
        let p = system_principal("demo");
        let year = chrono::Datelike::year(&today);
        let mut placements = Vec::new();
        for (n, (km, latin, sex, institution, host)) in STUDENTS.iter().enumerate() {
            let end = today - Days::new(30 + 60 * n as u64);
            let input = PlacementInput {
                kind: if n % 2 == 0 { PlacementKind::Internship } else { PlacementKind::FieldPlacement },
                name_km: (*km).into(),
                name_latin: (*latin).into(),
                sex: Sex::parse(sex).unwrap_or(Sex::Female),
                date_of_birth: NaiveDate::from_ymd_opt(2001 + (n as i32 % 3), 3, 1 + n as u32),
                national_id: Some(format!("DEMOSTU{:04}", n + 1)),
                phone: None,
                institution: (*institution).into(),
                programme: Some("Bachelor of Social Work".into()),
                education_level: Some(EducationLevel::Bachelor),
                host_admin_code: (*host).into(),
                host_org_id: None,
                supervisor_worker_id: None,
                start_date: end - Days::new(120),
                end_date: end,
                graduated_year: Some(year - (n as i32 % 2)),
                notes: None,
            };
            placements.push(self.create_placement(&p, &input).await?.id);
        }
        // Vacant posts of the demo province's districts.
        let posts: Vec<i64> = sqlx::query(
            "SELECT po.id FROM posts po JOIN admin_units u ON u.code = po.admin_code \
             WHERE u.province_code = $1 AND po.ended_year IS NULL \
             AND NOT EXISTS (SELECT 1 FROM postings ps WHERE ps.post_id = po.id AND ps.end_date IS NULL) \
             ORDER BY po.id LIMIT 3",
        )
        .bind(DEMO_PROVINCE)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
        if posts.is_empty() {
            return Ok(());
        }
        let round = self
            .create_round(
                &p,
                &RoundInput {
                    name: format!("Battambang provincial recruitment {year}"),
                    kind: RoundKind::Provincial,
                    province: Some(DEMO_PROVINCE.into()),
                    opens_on: today - Days::new(20),
                    closes_on: today + Days::new(25),
                    ranking: None,
                },
                today,
            )
            .await?;
        for (n, post) in posts.iter().enumerate() {
            let requirements = if n == 0 {
                Requirements {
                    cadre: Some(Cadre::ParaProfessional),
                    education_min: None,
                    years_min: 3,
                    competencies: Vec::new(),
                }
            } else {
                Requirements { education_min: Some(EducationLevel::Bachelor), ..Default::default() }
            };
            self.add_round_post(&p, round.id, &RoundPostInput { post_id: *post, requirements }, today).await?;
        }
        // Registry candidates: two para-professionals of the province.
        let registry: Vec<i64> = sqlx::query(
            "SELECT w.id FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE w.synthetic = 1 \
             AND w.status = 'active' AND w.cadre = 'para_professional' AND u.province_code = $1 ORDER BY w.id LIMIT 2",
        )
        .bind(DEMO_PROVINCE)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
        for w in registry {
            let input = CandidateInput { worker_id: Some(w), ..Default::default() };
            self.add_candidate(&p, round.id, &input, today).await?;
        }
        for pl in placements.iter().take(3) {
            let input = CandidateInput { placement_id: Some(*pl), ..Default::default() };
            self.add_candidate(&p, round.id, &input, today).await?;
        }
        let external = CandidateInput {
            source: Some(CandidateSource::External),
            name_km: Some("ពៅ សុគន្ធ".into()),
            name_latin: Some("Pov Sokun".into()),
            sex: Some(Sex::Male),
            education_level: Some(EducationLevel::UpperSecondary),
            ..Default::default()
        };
        let round = self.add_candidate(&p, round.id, &external, today).await?;
        for (n, c) in round.candidates.iter().enumerate().take(4) {
            let scores = ScoresInput {
                exam_score: Some(60.0 + 7.0 * n as f64),
                interview_score: if n == 3 { None } else { Some(80.0 - 5.0 * n as f64) },
                interview_notes: None,
            };
            self.set_candidate_scores(&p, c.id, &scores, None, today).await?;
        }
        Ok(())
    }
}
