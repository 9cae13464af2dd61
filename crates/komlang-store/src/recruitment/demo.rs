//! Demo recruitment settings: illustrative exit rates for incapacity and death per cadre (the
//! seeds give none; these are made up for the demo, so that the need's column shows figures).
//! Loaded once (a meta row records it).

use crate::common::meta::meta_insert_new;
use crate::{now_text, Result, Store};

const DEMO_RECRUITMENT_KEY: &str = "demo_recruitment_version";

/// (cadre, incapacity, death) per 1,000 holders a year: illustrative.
const DEMO_RATES: [(&str, f64, f64); 4] = [
    ("professional_social_worker", 2.0, 3.0),
    ("para_professional", 2.5, 3.5),
    ("para_social_worker", 3.0, 4.0),
    ("allied_worker", 2.0, 3.0),
];

impl Store {
    pub(crate) async fn load_demo_recruitment(&self) -> Result<()> {
        if self.meta_get(DEMO_RECRUITMENT_KEY).await?.is_some() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        if !meta_insert_new(&mut tx, DEMO_RECRUITMENT_KEY, "1").await? {
            tx.rollback().await?;
            return Ok(());
        }
        for (cadre, incapacity, death) in DEMO_RATES {
            sqlx::query("DELETE FROM exit_rates WHERE cadre = $1").bind(cadre).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO exit_rates (cadre, incapacity_per_1000, death_per_1000, updated_by, updated_at) \
                 VALUES ($1, $2, $3, 'demo', $4)",
            )
            .bind(cadre)
            .bind(incapacity)
            .bind(death)
            .bind(now_text())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
