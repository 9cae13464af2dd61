//! The licensing rules: the term of a licence and the continuing-education hours a renewal needs.

use komlang_core::training::*;
use komlang_core::*;

use sqlx::AnyConnection;

use crate::common::audit::record_audit;
use crate::common::meta::meta_get_on;
use crate::common::sql::lock_key;
use crate::{Result, Store};

/// Meta keys of the licensing rules.
const RULES_TERM_KEY: &str = "licensing.term_years";
const RULES_CE_KEY: &str = "licensing.renewal_ce_hours";

impl Store {
    pub async fn licensing_rules(&self) -> Result<LicensingRules> {
        rules_on(&mut *self.pool.acquire().await?).await
    }

    pub async fn set_licensing_rules(
        &self,
        p: &Principal,
        term_years: i64,
        renewal_ce_hours: i64,
    ) -> Result<LicensingRules> {
        p.require(Action::KeepTrainingCatalogue, Target::Any)?;
        let rules = LicensingRules::validate(term_years, renewal_ce_hours)?;
        let mut tx = self.begin_write().await?;
        // Locked, then read: the audit's "before" is what a concurrent change stored.
        lock_key(&mut tx, "licensing_rules").await?;
        let before = rules_on(&mut tx).await?;
        for (k, v) in [(RULES_TERM_KEY, rules.term_years), (RULES_CE_KEY, rules.renewal_ce_hours)] {
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(k)
            .bind(v.to_string())
            .execute(&mut *tx)
            .await?;
        }
        record_audit(&mut tx, p, "update", "licensing_rules", "rules", Some(&before), Some(&rules)).await?;
        tx.commit().await?;
        Ok(rules)
    }
}

/// The licensing rules as stored (the defaults for those never set), read on a connection.
async fn rules_on(conn: &mut AnyConnection) -> Result<LicensingRules> {
    let d = LicensingRules::default();
    let get = |v: Option<String>, dflt: u32| v.and_then(|s| s.parse().ok()).unwrap_or(dflt);
    Ok(LicensingRules {
        term_years: get(meta_get_on(conn, RULES_TERM_KEY).await?, d.term_years),
        renewal_ce_hours: get(meta_get_on(conn, RULES_CE_KEY).await?, d.renewal_ce_hours),
    })
}
