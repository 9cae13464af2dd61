//! Loading the synthetic demo data set and one demo account per role.
//!
//! The data come from [`komlang_core::demo::generate`]: the same admin units
//! and `today` give the same organizations and workers, inserted in generation
//! order in one transaction, so a fresh database gets the same ids on SQLite
//! and PostgreSQL. Loading is done once: the `demo_version` meta row records it.
//! Then the demo competency assessments are loaded, once too (`demo_competencies_version`,
//! see `competency/demo.rs`), also into a database whose demo data predate them.

use std::collections::HashMap;
use std::time::Instant;

use chrono::NaiveDate;
use komlang_core::demo::{generate, ngo_key, DemoPosting};
use komlang_core::{AdminLevel, UserRole, WorkerRole};
use serde::Serialize;
use sqlx::{Any, Row, Transaction};

use crate::accounts::hash_password;
use crate::common::audit::record_audit;
pub use crate::common::demo::{DEMO_DISTRICT, DEMO_PROVINCE};
use crate::common::meta::meta_insert_new;
use crate::common::principal::system_principal;
use crate::organizations::insert_org;
use crate::workers::{insert_posting, insert_status, insert_worker};
use crate::{now_text, Result, Store, StoreError};

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "komlang-demo";

/// Version of the demo data set, kept in the `meta` table under [`DEMO_VERSION_KEY`].
pub const DEMO_VERSION: &str = "1";
/// Meta key recording that the demo data set was loaded.
pub const DEMO_VERSION_KEY: &str = "demo_version";

/// The demo accounts: (username, role code, description). All use [`DEMO_PASSWORD`].
pub const DEMO_ACCOUNTS: &[(&str, &str, &str)] = &[
    ("admin", "national-admin", "National administrator: every record, accounts and the audit log"),
    ("viewer", "national-viewer", "National viewer: reads every record, changes nothing"),
    ("battambang", "provincial-officer", "Provincial officer of Battambang province (02)"),
    ("sangke", "district-officer", "District officer of Sangkae district, Battambang (0208)"),
    ("ngo-hr", "org-hr-manager", "HR manager of one NGO: that organization's staff only"),
    ("worker", "worker", "A CCWC focal point in Sangkae district: their own record only"),
];

/// What [`Store::load_demo`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DemoSummary {
    /// True when the demo data set was already there and nothing was changed.
    pub already_loaded: bool,
    /// Organizations written (or, when already loaded, organizations in the database).
    pub organizations: usize,
    /// Workers written (or, when already loaded, synthetic workers in the database).
    pub workers: usize,
    /// Demo accounts (username, role code) created (or, when already loaded, present).
    pub accounts: Vec<(String, String)>,
}

#[derive(Serialize)]
struct DemoCounts {
    organizations: usize,
    workers: usize,
    postings: usize,
    status_changes: usize,
    accounts: usize,
}

/// Inserts an earlier, closed posting (the SQL of [`crate::workers::insert_posting`],
/// with the posting's fields given directly).
async fn insert_closed_posting(
    tx: &mut Transaction<'_, Any>,
    worker_id: i64,
    org_id: Option<i64>,
    p: &DemoPosting,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO postings (worker_id, org_id, role, position_title, workplace_code, start_date, end_date) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(worker_id)
    .bind(org_id)
    .bind(p.role.code())
    .bind(&p.position_title)
    .bind(&p.workplace_code)
    .bind(p.start_date.to_string())
    .bind(Some(p.end_date.to_string()))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The parts of the demo data set loaded after the workers, each once (each records that it
    /// was loaded, so a database whose demo data predate a part gets it): competency
    /// assessments for the demo province and the demo worker's supervisor, training, the
    /// establishment, supervision, costs, retention, recruitment's rates.
    async fn load_demo_parts(&self, today: NaiveDate) -> Result<()> {
        self.load_demo_competencies(today).await?;
        self.load_demo_training(today).await?;
        self.load_demo_establishment(today).await?;
        self.load_demo_supervision(today).await?;
        self.load_demo_costs().await?;
        self.load_demo_retention().await?;
        self.load_demo_recruitment().await?;
        self.load_demo_caseloads(today).await?;
        self.load_demo_performance(today).await?;
        self.load_demo_hiring(today).await?;
        Ok(())
    }

    async fn existing_demo_summary(&self) -> Result<DemoSummary> {
        let count = |sql: &'static str| {
            let pool = self.pool.clone();
            async move { Ok::<i64, StoreError>(sqlx::query(sql).fetch_one(&pool).await?.try_get(0)?) }
        };
        let organizations = count("SELECT COUNT(*) FROM organizations").await?;
        let workers = count("SELECT COUNT(*) FROM workers WHERE synthetic = 1").await?;
        let mut accounts = Vec::new();
        for (username, _, _) in DEMO_ACCOUNTS {
            if let Some(u) = self.user_by_name(username).await? {
                accounts.push((u.username, u.role.code().to_string()));
            }
        }
        Ok(DemoSummary {
            already_loaded: true,
            organizations: organizations as usize,
            workers: workers as usize,
            accounts,
        })
    }

    /// Loads the demo data set and the demo accounts ([`DEMO_ACCOUNTS`]), once.
    /// The schema must be migrated; the bundled Cambodian units are loaded when
    /// the database has none. When the data set is already there, nothing changes.
    /// A demo account whose username is already taken is left as it is.
    pub async fn load_demo(&self, today: NaiveDate) -> Result<DemoSummary> {
        self.ensure_admin_units().await?;
        if self.meta_get(DEMO_VERSION_KEY).await?.is_some() {
            self.load_demo_parts(today).await?;
            return self.existing_demo_summary().await;
        }
        let started = Instant::now();
        let units = self.all_admin_units().await?;
        let data = generate(&units, today);

        // The slow part (password hashing) before the transaction.
        let mut hashes = Vec::with_capacity(DEMO_ACCOUNTS.len());
        for _ in DEMO_ACCOUNTS {
            let h = tokio::task::spawn_blocking(|| hash_password(DEMO_PASSWORD))
                .await
                .map_err(|e| StoreError::Corrupt(format!("password hashing failed: {e}")))??;
            hashes.push(h);
        }

        let mut tx = self.begin_write().await?;
        // Claim the load first: a concurrent loader waits here and then finds the row.
        if !meta_insert_new(&mut tx, DEMO_VERSION_KEY, DEMO_VERSION).await? {
            tx.rollback().await?;
            self.load_demo_parts(today).await?;
            return self.existing_demo_summary().await;
        }

        let mut org_ids: HashMap<&str, i64> = HashMap::with_capacity(data.orgs.len());
        for o in &data.orgs {
            let id = insert_org(&mut tx, &o.draft).await?;
            org_ids.insert(o.key.as_str(), id);
        }
        let org_of = |key: &Option<String>| -> Result<Option<i64>> {
            match key {
                None => Ok(None),
                Some(k) => org_ids
                    .get(k.as_str())
                    .copied()
                    .map(Some)
                    .ok_or_else(|| StoreError::Corrupt(format!("demo worker refers to unknown organization {k}"))),
            }
        };

        let mut worker_ids = Vec::with_capacity(data.workers.len());
        let (mut postings, mut statuses) = (0usize, 0usize);
        for w in &data.workers {
            let mut draft = w.draft.clone();
            draft.org_id = org_of(&w.org_key)?;
            let id = insert_worker(&mut tx, &draft, true).await?;
            worker_ids.push(id);
            for p in &w.earlier_postings {
                insert_closed_posting(&mut tx, id, org_of(&p.org_key)?, p).await?;
                postings += 1;
            }
            let start = draft.start_date.unwrap_or(today);
            // As when a worker is recorded through the application: the posting of someone who
            // has left ends on their end date.
            let posting_end = draft.end_date.filter(|_| draft.status.is_separated());
            insert_posting(&mut tx, id, &draft, start, posting_end).await?;
            postings += 1;
            for (status, date) in &w.status_history {
                insert_status(&mut tx, id, *status, *date, None, Some("demo")).await?;
                statuses += 1;
            }
        }

        // The demo worker account: the CCWC focal point of the first commune of the demo district.
        let first_commune = units
            .iter()
            .filter(|u| u.level == AdminLevel::Commune && u.district_code.as_deref() == Some(DEMO_DISTRICT))
            .map(|u| u.code.as_str())
            .min();
        let focal_point = first_commune.and_then(|c| {
            data.workers
                .iter()
                .zip(&worker_ids)
                .find(|(w, _)| w.draft.role == WorkerRole::CcwcFocalPoint && w.draft.workplace_code == c)
                .map(|(w, id)| (*id, org_of(&w.org_key).ok().flatten()))
        });
        let ngo = org_ids.get(ngo_key(1).as_str()).copied();
        let has_unit = |code: &str| units.iter().any(|u| u.code == code);

        let mut accounts = Vec::new();
        let now = now_text();
        for ((username, role_code, _), hash) in DEMO_ACCOUNTS.iter().zip(&hashes) {
            let role = UserRole::parse(role_code)
                .ok_or_else(|| StoreError::Corrupt(format!("demo account role {role_code}")))?;
            let links = match role {
                UserRole::NationalAdmin | UserRole::NationalViewer => Some((None, None, None)),
                UserRole::ProvincialOfficer => has_unit(DEMO_PROVINCE).then_some((Some(DEMO_PROVINCE), None, None)),
                UserRole::DistrictOfficer => has_unit(DEMO_DISTRICT).then_some((Some(DEMO_DISTRICT), None, None)),
                UserRole::OrgHrManager => ngo.map(|org| (None, Some(org), None)),
                UserRole::Worker => focal_point.map(|(id, org)| (None, org, Some(id))),
            };
            let Some((scope, org_id, worker_id)) = links else {
                tracing::warn!(username, "demo account skipped: its unit, organization or worker is missing");
                continue;
            };
            let taken = sqlx::query("SELECT id FROM users WHERE username = $1")
                .bind(*username)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            if taken {
                tracing::warn!(username, "demo account skipped: the username is already taken");
                continue;
            }
            sqlx::query(
                "INSERT INTO users (username, password_hash, role, scope_code, org_id, worker_id, active, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
            )
            .bind(*username)
            .bind(hash)
            .bind(role.code())
            .bind(scope)
            .bind(org_id)
            .bind(worker_id)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
            accounts.push((username.to_string(), role.code().to_string()));
        }

        let counts = DemoCounts {
            organizations: data.orgs.len(),
            workers: data.workers.len(),
            postings,
            status_changes: statuses,
            accounts: accounts.len(),
        };
        record_audit(&mut tx, &system_principal("demo"), "import", "demo", "v1", None, Some(&counts)).await?;
        tx.commit().await?;
        tracing::info!(
            organizations = counts.organizations,
            workers = counts.workers,
            postings,
            status_changes = statuses,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "demo data loaded"
        );
        self.load_demo_parts(today).await?;
        Ok(DemoSummary {
            already_loaded: false,
            organizations: counts.organizations,
            workers: counts.workers,
            accounts,
        })
    }
}
