//! When appraisals fall due: the cycle and the days before it that a worker is listed as due,
//! kept by national administrators and audited.

use komlang_core::performance::AppraisalSettings;
use komlang_core::{Action, Principal, Target};
use sqlx::{AnyConnection, Row};

use crate::common::audit::record_audit;
use crate::common::sql::lock_key;
use crate::{now_text, Result, Store, StoreError};

pub(crate) async fn settings_on(conn: &mut AnyConnection) -> Result<AppraisalSettings> {
    let r = sqlx::query("SELECT cycle_months, due_within_days FROM appraisal_settings WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await?;
    match r {
        Some(r) => Ok(AppraisalSettings {
            cycle_months: u32::try_from(r.try_get::<i64, _>("cycle_months")?).unwrap_or(12),
            due_within_days: u32::try_from(r.try_get::<i64, _>("due_within_days")?).unwrap_or(0),
        }),
        None => Ok(AppraisalSettings::default()),
    }
}

impl Store {
    pub async fn appraisal_settings(&self) -> Result<AppraisalSettings> {
        settings_on(&mut *self.pool.acquire().await?).await
    }

    /// Changes the appraisal settings (national administrators; audited with what they replace).
    pub async fn set_appraisal_settings(&self, p: &Principal, new: &AppraisalSettings) -> Result<AppraisalSettings> {
        p.require(Action::KeepNorms, Target::Any)?;
        new.validate().map_err(StoreError::Invalid)?;
        let mut tx = self.begin_write().await?;
        lock_key(&mut tx, "appraisal-settings").await?;
        let before = settings_on(&mut tx).await?;
        sqlx::query(
            "UPDATE appraisal_settings SET cycle_months = $1, due_within_days = $2, updated_by = $3, updated_at = $4 \
             WHERE id = 1",
        )
        .bind(i64::from(new.cycle_months))
        .bind(i64::from(new.due_within_days))
        .bind(&p.username)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        record_audit(&mut tx, p, "update", "appraisal_settings", "1", Some(&before), Some(new)).await?;
        tx.commit().await?;
        Ok(*new)
    }
}
