//! The norms of supervision, kept as data.

use komlang_core::supervision::SupervisionNorms;
use komlang_core::{Action, Cadre, Principal, Target};
use sqlx::{AnyConnection, Row};

use crate::common::audit::record_audit;
use crate::common::sql::lock_key;
use crate::{now_text, Result, Store, StoreError};

fn cadres(s: &str) -> Vec<Cadre> {
    s.split_whitespace().filter_map(Cadre::parse).collect()
}

fn cadre_text(c: &[Cadre]) -> String {
    c.iter().map(|c| c.code()).collect::<Vec<_>>().join(" ")
}

pub(crate) async fn norms_on(conn: &mut AnyConnection) -> Result<SupervisionNorms> {
    let Some(r) = sqlx::query(
        "SELECT dedicated_ratio, other_ratio, years_required, years_required_community, community_cadres, \
         qualified_cadres, overdue_days FROM supervision_norms WHERE id = 1",
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(SupervisionNorms::default());
    };
    let n = |c: &str| -> Result<u32> { Ok(u32::try_from(r.try_get::<i64, _>(c)?).unwrap_or(0)) };
    Ok(SupervisionNorms {
        dedicated_ratio: n("dedicated_ratio")?,
        other_ratio: n("other_ratio")?,
        years_required: n("years_required")?,
        years_required_community: n("years_required_community")?,
        community_cadres: cadres(&r.try_get::<String, _>("community_cadres")?),
        qualified_cadres: cadres(&r.try_get::<String, _>("qualified_cadres")?),
        overdue_days: n("overdue_days")?,
    })
}

impl Store {
    /// The norms of supervision in force.
    pub async fn supervision_norms(&self) -> Result<SupervisionNorms> {
        norms_on(&mut *self.pool.acquire().await?).await
    }

    /// Replaces the norms of supervision (national administrators), audited.
    pub async fn set_supervision_norms(&self, p: &Principal, n: &SupervisionNorms) -> Result<SupervisionNorms> {
        p.require(Action::KeepNorms, Target::Any)?;
        n.check().map_err(StoreError::Invalid)?;
        let mut tx = self.begin_write().await?;
        lock_key(&mut tx, "supervision-norms").await?;
        let before = norms_on(&mut tx).await?;
        sqlx::query(
            "UPDATE supervision_norms SET dedicated_ratio = $1, other_ratio = $2, years_required = $3, \
             years_required_community = $4, community_cadres = $5, qualified_cadres = $6, overdue_days = $7, \
             updated_by = $8, updated_at = $9 WHERE id = 1",
        )
        .bind(i64::from(n.dedicated_ratio))
        .bind(i64::from(n.other_ratio))
        .bind(i64::from(n.years_required))
        .bind(i64::from(n.years_required_community))
        .bind(cadre_text(&n.community_cadres))
        .bind(cadre_text(&n.qualified_cadres))
        .bind(i64::from(n.overdue_days))
        .bind(&p.username)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        record_audit(&mut tx, p, "update", "supervision_norms", "1", Some(&before), Some(n)).await?;
        tx.commit().await?;
        Ok(n.clone())
    }
}
