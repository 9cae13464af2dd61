//! Demo cost data: an illustrative salary scale (four grades of five steps, in riel, from
//! 2024, with a 2026 raise), a transport allowance for every post and a remote-post allowance in
//! the five north-eastern and northern provinces, the riel's rate, and how each cadre's new posts
//! are costed. Illustrative: MoSVY's own scale replaces it. Loaded once (a meta row records it).

use crate::common::meta::meta_insert_new;
use crate::common::principal::system_principal;
use crate::costs::CostData;
use crate::{Result, Store};
use komlang_core::costs::{Allowance, CadreCosting, ScaleRow, TrainingCost};
use komlang_core::training::CertificateLevel;
use komlang_core::Cadre;

const DEMO_COSTS_KEY: &str = "demo_costs_version";

fn day(y: i32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or_default()
}

impl Store {
    pub(crate) async fn load_demo_costs(&self) -> Result<()> {
        if self.meta_get(DEMO_COSTS_KEY).await?.is_some() {
            return Ok(());
        }
        {
            let mut tx = self.begin_write().await?;
            if !meta_insert_new(&mut tx, DEMO_COSTS_KEY, "1").await? {
                tx.rollback().await?;
                return Ok(());
            }
            tx.commit().await?;
        }
        let mut scales = Vec::new();
        // Monthly base of step 1 in riel by grade; each step adds 4%; 2026 adds 5% to all.
        for (grade, base) in [("A", 2_400_000.0), ("B", 1_600_000.0), ("C", 1_050_000.0), ("D", 820_000.0)] {
            for step in 1..=5u32 {
                let monthly = (base * (1.0 + 0.04 * f64::from(step - 1)) / 1000.0_f64).round() * 1000.0;
                for (year, m) in [(2024, monthly), (2026, (monthly * 1.05 / 1000.0).round() * 1000.0)] {
                    scales.push(ScaleRow {
                        grade: grade.into(),
                        step,
                        effective_from: day(year),
                        monthly: m,
                        currency: "KHR".into(),
                    });
                }
            }
        }
        let allowances = vec![
            Allowance {
                code: "transport".into(),
                name_en: "Transport".into(),
                name_km: "ប្រាក់ឧបត្ថម្ភធ្វើដំណើរ".into(),
                effective_from: day(2024),
                monthly: 20.0,
                currency: "USD".into(),
                units: vec![],
            },
            Allowance {
                code: "remote".into(),
                name_en: "Remote post".into(),
                name_km: "ប្រាក់ឧបត្ថម្ភតំបន់ដាច់ស្រយាល".into(),
                effective_from: day(2024),
                monthly: 30.0,
                currency: "USD".into(),
                // Preah Vihear, Mondulkiri, Ratanakiri, Stung Treng, Oddar Meanchey.
                units: ["13", "11", "16", "19", "22"].into_iter().map(String::from).collect(),
            },
        ];
        let cadre = |cadre, grade: &str, certificate| CadreCosting { cadre, grade: grade.into(), step: 1, certificate };
        let training = |level, cost| TrainingCost { level, cost, currency: "USD".into() };
        let data = CostData {
            currencies: vec!["KHR".into(), "USD".into()],
            rates: [(2024, 4_050.0), (2025, 4_020.0), (2026, 4_010.0)]
                .into_iter()
                .map(|(year, per_usd)| super::CurrencyRate { currency: "KHR".into(), year, per_usd })
                .collect(),
            scales,
            allowances,
            cadres: vec![
                cadre(Cadre::Professional, "A", None),
                cadre(Cadre::ParaProfessional, "B", Some(CertificateLevel::Tvc3)),
                cadre(Cadre::ParaSocialWorker, "D", Some(CertificateLevel::VocationalCertificate)),
                cadre(Cadre::Allied, "C", Some(CertificateLevel::AlliedCertificate)),
            ],
            training: vec![
                training(CertificateLevel::VocationalCertificate, 250.0),
                training(CertificateLevel::Tvc1, 600.0),
                training(CertificateLevel::Tvc2, 900.0),
                training(CertificateLevel::Tvc3, 1_200.0),
                training(CertificateLevel::AlliedCertificate, 100.0),
            ],
        };
        self.set_cost_data(&system_principal("demo"), &data).await?;
        Ok(())
    }
}
