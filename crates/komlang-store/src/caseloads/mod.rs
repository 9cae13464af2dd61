//! Caseloads from the child-protection case systems (Primero, OSCaR): case lists imported as
//! snapshots, the systems' users linked to workers once, and open cases read per worker and per
//! unit, against a threshold per cadre and role. What is read of a case is
//! `komlang_core::caseload`; no child's personal data is kept (docs/caseloads.md).

mod demo;
mod import;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use komlang_core::caseload::{owner_key, threshold_for, CaseSource, Threshold, CASE_TEXT_MAX};
use komlang_core::{Action, AdminLevel, AdminUnit, Cadre, FieldError, Principal, Target, ValidationErrors, WorkerRole};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::sql::lock_key;
use crate::common::store::invalid;
use crate::{now_text, Result, Store, StoreError};

pub use import::CaseloadImportOptions;

/// One import of a source's case list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaseloadSnapshot {
    pub id: i64,
    /// `primero` or `oscar`.
    pub source: String,
    pub as_of: String,
    pub import_id: Option<i64>,
    /// Cases in the file (open and closed).
    pub cases: i64,
    pub open_cases: i64,
    pub recorded_by: String,
    pub recorded_at: String,
    /// The source's latest snapshot: the one counted.
    pub current: bool,
}

/// A worker's open cases in one source's current snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WorkerCaseload {
    pub source: String,
    pub as_of: String,
    pub open_cases: u32,
    /// The source's user names linked to the worker.
    pub owners: Vec<String>,
}

/// Open cases of a unit (and the units inside it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UnitCaseload {
    pub unit: String,
    pub name_en: String,
    pub name_km: String,
    /// Open cases held by the unit's workers, or placed in it by their location when their
    /// owner is not linked to a worker. A case is counted once per unit however many of its
    /// owners work there.
    pub open_cases: u32,
    /// Of them, cases whose owner is not linked to a worker (counted by location).
    pub unlinked_cases: u32,
    /// Workers of the unit holding at least one open case.
    pub workers_with_cases: u32,
    /// Open cases per worker holding cases.
    pub cases_per_worker: Option<f64>,
    /// Workers above their caseload threshold.
    pub above_threshold: u32,
}

/// A worker above their caseload threshold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OverThreshold {
    pub worker_id: i64,
    pub name_latin: String,
    pub name_km: String,
    pub cadre: String,
    pub role: String,
    pub workplace_code: String,
    pub open_cases: u32,
    pub threshold: u32,
}

/// A user of a case system holding cases in its current snapshot, and the worker they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CaseOwner {
    pub source: String,
    /// As the last snapshot wrote it.
    pub owner: String,
    pub open_cases: u32,
    pub worker_id: Option<i64>,
    pub worker_name: Option<String>,
}

/// One open case of a current snapshot, as the counts read it.
struct OpenCase {
    source: String,
    case_ref: String,
    worker_id: Option<i64>,
    /// The owner's workplace, else the case's location.
    unit: Option<String>,
}

/// A link of a case system's user to a worker, as audited.
#[derive(Debug, Serialize)]
struct LinkAudit<'a> {
    source: &'a str,
    owner: &'a str,
    worker_id: i64,
}

/// A threshold as audited and listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ThresholdRow {
    /// A cadre code, or empty for any.
    pub cadre: String,
    /// A role code, or empty for any.
    pub role: String,
    pub max_open: u32,
}

/// The unit `parent` names, when it lies in the caller's scope (`NotFound` otherwise).
fn parent_in_scope<'a>(
    units: &'a HashMap<String, AdminUnit>,
    p: &Principal,
    parent: Option<&str>,
) -> Result<Option<&'a AdminUnit>> {
    parent.map(|code| units.get(code).filter(|u| p.scope.contains(u)).ok_or(StoreError::NotFound)).transpose()
}

/// The unit at `level` that `u` lies in (itself when at that level).
fn unit_at(u: &AdminUnit, level: AdminLevel) -> Option<&str> {
    match level {
        AdminLevel::Country => Some(""),
        AdminLevel::Province => u.province_code.as_deref(),
        AdminLevel::District => u.district_code.as_deref(),
        AdminLevel::Commune => u.commune_code.as_deref(),
        AdminLevel::Village => (u.level == AdminLevel::Village).then_some(u.code.as_str()),
    }
}

impl Store {
    /// Every snapshot imported, newest first.
    pub async fn caseload_snapshots(&self, p: &Principal) -> Result<Vec<CaseloadSnapshot>> {
        if !p.allows(Action::ReadCaseloads, Target::Any) && !p.allows(Action::ImportCaseloads, Target::Any) {
            p.require(Action::ReadCaseloads, Target::Any)?;
        }
        let rows = sqlx::query(
            "SELECT s.id, s.source, s.as_of, s.import_id, s.cases, s.open_cases, s.recorded_by, s.recorded_at, \
             CASE WHEN s.as_of = (SELECT MAX(t.as_of) FROM caseload_snapshots t WHERE t.source = s.source) \
             THEN 1 ELSE 0 END AS current FROM caseload_snapshots s ORDER BY s.as_of DESC, s.source",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseloadSnapshot {
                    id: r.try_get("id")?,
                    source: r.try_get("source")?,
                    as_of: r.try_get("as_of")?,
                    import_id: r.try_get("import_id")?,
                    cases: r.try_get("cases")?,
                    open_cases: r.try_get("open_cases")?,
                    recorded_by: r.try_get("recorded_by")?,
                    recorded_at: r.try_get("recorded_at")?,
                    current: r.try_get::<i64, _>("current")? == 1,
                })
            })
            .collect()
    }

    /// The open cases of each source's latest snapshot (of a day up to `up_to`, when given),
    /// each with the worker holding it and the unit it is counted in.
    async fn open_cases(&self, up_to: Option<&str>) -> Result<Vec<OpenCase>> {
        let rows = sqlx::query(
            "SELECT s.source, c.case_ref, k.worker_id, COALESCE(w.workplace_code, c.admin_code) AS unit \
             FROM caseload_snapshots s JOIN caseload_cases c ON c.snapshot_id = s.id \
             LEFT JOIN case_owner_links k ON k.source = s.source AND k.owner_key = c.owner_key \
             LEFT JOIN workers w ON w.id = k.worker_id \
             WHERE c.status = 'open' AND s.as_of = (SELECT MAX(t.as_of) FROM caseload_snapshots t \
             WHERE t.source = s.source AND ($1 = '' OR t.as_of <= $1))",
        )
        .bind(up_to.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OpenCase {
                    source: r.try_get("source")?,
                    case_ref: r.try_get("case_ref")?,
                    worker_id: r.try_get("worker_id")?,
                    unit: r.try_get("unit")?,
                })
            })
            .collect()
    }

    /// Open cases per unit of `level` from the case systems' snapshots of a day up to `up_to`
    /// (every unit holding some; not scoped: planning scopes its units itself).
    pub(crate) async fn case_system_open_cases(&self, level: AdminLevel, up_to: &str) -> Result<HashMap<String, u64>> {
        let units = self.units_by_code().await?;
        let mut seen: HashMap<String, HashSet<(String, String)>> = HashMap::new();
        for c in self.open_cases(Some(up_to)).await? {
            let Some(at) = c.unit.as_ref().and_then(|u| units.get(u)).and_then(|u| unit_at(u, level)) else {
                continue;
            };
            seen.entry(at.to_string()).or_default().insert((c.source, c.case_ref));
        }
        Ok(seen.into_iter().map(|(k, v)| (k, v.len() as u64)).collect())
    }

    /// A worker's open cases in each source's current snapshot (sources where they hold none
    /// but are linked: 0). `NotFound` outside the caller's scope.
    pub async fn worker_caseload(&self, p: &Principal, worker_id: i64) -> Result<Vec<WorkerCaseload>> {
        // Whoever reads the worker's record reads their caseload (`NotFound` for the others,
        // as for the record).
        if self.get_worker(p, worker_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        let rows = sqlx::query(
            "SELECT k.source, k.owner, s.as_of, (SELECT COUNT(DISTINCT c.case_ref) FROM caseload_cases c \
             WHERE c.snapshot_id = s.id AND c.owner_key = k.owner_key AND c.status = 'open') AS n \
             FROM case_owner_links k LEFT JOIN caseload_snapshots s ON s.source = k.source \
             AND s.as_of = (SELECT MAX(t.as_of) FROM caseload_snapshots t WHERE t.source = k.source) \
             WHERE k.worker_id = $1 ORDER BY k.source, k.owner",
        )
        .bind(worker_id)
        .fetch_all(&self.pool)
        .await?;
        let mut by_source: BTreeMap<String, WorkerCaseload> = BTreeMap::new();
        for r in &rows {
            let source: String = r.try_get("source")?;
            let e = by_source.entry(source.clone()).or_insert_with(|| WorkerCaseload {
                source,
                as_of: String::new(),
                open_cases: 0,
                owners: Vec::new(),
            });
            e.as_of = r.try_get::<Option<String>, _>("as_of")?.unwrap_or_default();
            e.owners.push(r.try_get("owner")?);
            e.open_cases += crate::common::rows::count(r.try_get::<Option<i64>, _>("n")?.unwrap_or(0));
        }
        Ok(by_source.into_values().collect())
    }

    /// Open cases per unit of `level` in the caller's scope (and inside `parent`, when given),
    /// from each source's current snapshot. Units without cases are left out.
    pub async fn caseloads_by_unit(
        &self,
        p: &Principal,
        level: AdminLevel,
        parent: Option<&str>,
    ) -> Result<Vec<UnitCaseload>> {
        p.require(Action::ReadCaseloads, Target::Any)?;
        if !matches!(level, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune) {
            return Err(invalid("level", "invalid_choice"));
        }
        let units = self.units_by_code().await?;
        let named = self.named_units_by_code().await?;
        let parent = parent_in_scope(&units, p, parent)?;
        let cases = self.open_cases(None).await?;
        let (over, _) = self.over_thresholds(&cases).await?;
        let over: HashSet<i64> = over.iter().map(|o| o.worker_id).collect();
        #[derive(Default)]
        struct Acc {
            cases: HashSet<(String, String)>,
            /// Cases held by a worker of the unit (the others are of users not linked).
            linked: HashSet<(String, String)>,
            workers: HashSet<i64>,
        }
        let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
        for c in &cases {
            let Some(u) = c.unit.as_ref().and_then(|u| units.get(u)) else { continue };
            let Some(at) = unit_at(u, level).and_then(|code| units.get(code)) else { continue };
            if !p.scope.contains(at) || parent.is_some_and(|par| !at.within(par)) {
                continue;
            }
            let a = acc.entry(at.code.clone()).or_default();
            let key = (c.source.clone(), c.case_ref.clone());
            if let Some(w) = c.worker_id {
                a.workers.insert(w);
                a.linked.insert(key.clone());
            }
            a.cases.insert(key);
        }
        Ok(acc
            .into_iter()
            .filter_map(|(code, a)| {
                let u = named.get(&code).or_else(|| units.get(&code))?;
                let linked = a.linked.len();
                Some(UnitCaseload {
                    unit: code,
                    name_en: u.name_en.clone(),
                    name_km: u.name_km.clone(),
                    open_cases: a.cases.len() as u32,
                    unlinked_cases: (a.cases.len() - linked) as u32,
                    workers_with_cases: a.workers.len() as u32,
                    cases_per_worker: (!a.workers.is_empty()).then(|| linked as f64 / a.workers.len() as f64),
                    above_threshold: a.workers.iter().filter(|w| over.contains(w)).count() as u32,
                })
            })
            .collect())
    }

    /// The workers above their threshold among those holding `cases`, most cases first, and
    /// every holder's count.
    async fn over_thresholds(&self, cases: &[OpenCase]) -> Result<(Vec<OverThreshold>, HashMap<i64, u32>)> {
        let mut held: HashMap<i64, HashSet<(&str, &str)>> = HashMap::new();
        for c in cases {
            if let Some(w) = c.worker_id {
                held.entry(w).or_default().insert((c.source.as_str(), c.case_ref.as_str()));
            }
        }
        let counts: HashMap<i64, u32> = held.into_iter().map(|(w, s)| (w, s.len() as u32)).collect();
        let settings = self.thresholds().await?;
        // Only workers above the lowest threshold can be above their own.
        let lowest = settings.iter().map(|t| t.max_open).chain([komlang_core::caseload::DEFAULT_THRESHOLD]).min();
        let candidates: Vec<i64> =
            counts.iter().filter(|(_, n)| Some(**n) > lowest).map(|(w, _)| *w).collect::<Vec<_>>();
        let mut out = Vec::new();
        for chunk in candidates.chunks(500) {
            let mut sql = crate::common::sql::Sql::new(
                "SELECT id, name_latin, name_km, cadre, role, workplace_code FROM workers WHERE id IN (",
            );
            for (i, id) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.int(*id);
            }
            sql.push(")");
            for r in sql.query().fetch_all(&self.pool).await? {
                let id: i64 = r.try_get("id")?;
                let (cadre, role): (String, String) = (r.try_get("cadre")?, r.try_get("role")?);
                let threshold = threshold_for(&settings, &cadre, &role);
                let open = counts.get(&id).copied().unwrap_or(0);
                if open > threshold {
                    out.push(OverThreshold {
                        worker_id: id,
                        name_latin: r.try_get("name_latin")?,
                        name_km: r.try_get("name_km")?,
                        cadre,
                        role,
                        workplace_code: r.try_get("workplace_code")?,
                        open_cases: open,
                        threshold,
                    });
                }
            }
        }
        out.sort_by(|a, b| b.open_cases.cmp(&a.open_cases).then(a.name_latin.cmp(&b.name_latin)));
        Ok((out, counts))
    }

    /// The workers in the caller's scope (inside `parent`, when given) holding more open
    /// cases than their threshold, most cases first.
    pub async fn workers_over_threshold(&self, p: &Principal, parent: Option<&str>) -> Result<Vec<OverThreshold>> {
        p.require(Action::ReadCaseloads, Target::Any)?;
        let units = self.units_by_code().await?;
        let parent = parent_in_scope(&units, p, parent)?;
        let cases = self.open_cases(None).await?;
        let (over, _) = self.over_thresholds(&cases).await?;
        Ok(over
            .into_iter()
            .filter(|o| {
                units
                    .get(&o.workplace_code)
                    .is_some_and(|u| p.scope.contains(u) && parent.is_none_or(|par| u.within(par)))
            })
            .collect())
    }

    /// The users holding cases in each source's current snapshot (of one source, when given),
    /// with the worker each is linked to; `unlinked`: only those linked to none. Owners linked
    /// to a worker outside the caller's scope are left out.
    pub async fn case_owners(
        &self,
        p: &Principal,
        source: Option<CaseSource>,
        unlinked: bool,
    ) -> Result<Vec<CaseOwner>> {
        p.require(Action::LinkCaseOwners, Target::Any)?;
        let rows = sqlx::query(
            "SELECT s.source, c.owner_key, MAX(c.owner) AS owner, \
             COUNT(DISTINCT CASE WHEN c.status = 'open' THEN c.case_ref END) AS n, MAX(k.worker_id) AS worker_id \
             FROM caseload_snapshots s JOIN caseload_cases c ON c.snapshot_id = s.id \
             LEFT JOIN case_owner_links k ON k.source = s.source AND k.owner_key = c.owner_key \
             WHERE c.owner_key IS NOT NULL AND ($1 = '' OR s.source = $1) \
             AND s.as_of = (SELECT MAX(t.as_of) FROM caseload_snapshots t WHERE t.source = s.source) \
             GROUP BY s.source, c.owner_key ORDER BY s.source, c.owner_key",
        )
        .bind(source.map(|s| s.code()).unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let worker_id: Option<i64> = r.try_get("worker_id")?;
            if unlinked && worker_id.is_some() {
                continue;
            }
            let worker_name = match worker_id {
                Some(id) => match self.get_worker(p, id).await? {
                    Some(w) => Some(w.name_latin),
                    None => continue,
                },
                None => None,
            };
            out.push(CaseOwner {
                source: r.try_get("source")?,
                owner: r.try_get("owner")?,
                open_cases: crate::common::rows::count(r.try_get("n")?),
                worker_id,
                worker_name,
            });
        }
        Ok(out)
    }

    /// Links a case system's user to a worker in the caller's scope (replacing an earlier link
    /// of that user, which must be in scope too); audited.
    pub async fn link_case_owner(&self, p: &Principal, source: CaseSource, owner: &str, worker_id: i64) -> Result<()> {
        p.require(Action::LinkCaseOwners, Target::Any)?;
        let owner = komlang_core::clean_text(owner);
        if owner.is_empty() {
            return Err(invalid("owner", "required"));
        }
        if owner.chars().count() > CASE_TEXT_MAX {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("owner", "too_long").with("max", CASE_TEXT_MAX.to_string()),
            )));
        }
        if self.get_worker(p, worker_id).await?.is_none() {
            return Err(invalid("worker_id", "unknown_worker"));
        }
        let key = owner_key(&owner);
        let mut tx = self.begin_write().await?;
        lock_key(&mut tx, &format!("case_owner:{}:{key}", source.code())).await?;
        let before = linked_worker(&mut tx, source, &key).await?;
        if let Some(b) = before {
            if b != worker_id && self.get_worker(p, b).await?.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        // One statement, so that two people linking the same user at once both succeed (the
        // later link stands).
        sqlx::query(
            "INSERT INTO case_owner_links (source, owner_key, owner, worker_id, linked_by, linked_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source, owner_key) DO UPDATE SET owner = excluded.owner, \
             worker_id = excluded.worker_id, linked_by = excluded.linked_by, linked_at = excluded.linked_at",
        )
        .bind(source.code())
        .bind(&key)
        .bind(&owner)
        .bind(worker_id)
        .bind(&p.username)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        let was = before.map(|w| LinkAudit { source: source.code(), owner: &owner, worker_id: w });
        let now = LinkAudit { source: source.code(), owner: &owner, worker_id };
        record_audit(&mut tx, p, "link", "case_owner", &format!("{}:{key}", source.code()), was.as_ref(), Some(&now))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes a user's link (to a worker in the caller's scope: `NotFound` otherwise); audited.
    pub async fn unlink_case_owner(&self, p: &Principal, source: CaseSource, owner: &str) -> Result<()> {
        p.require(Action::LinkCaseOwners, Target::Any)?;
        let key = owner_key(owner);
        let mut tx = self.begin_write().await?;
        lock_key(&mut tx, &format!("case_owner:{}:{key}", source.code())).await?;
        let Some(worker_id) = linked_worker(&mut tx, source, &key).await? else {
            return Err(StoreError::NotFound);
        };
        if self.get_worker(p, worker_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM case_owner_links WHERE source = $1 AND owner_key = $2")
            .bind(source.code())
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        let was = LinkAudit { source: source.code(), owner: owner.trim(), worker_id };
        record_audit(&mut tx, p, "unlink", "case_owner", &format!("{}:{key}", source.code()), Some(&was), None).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn thresholds(&self) -> Result<Vec<Threshold>> {
        Ok(self
            .caseload_thresholds()
            .await?
            .into_iter()
            .map(|t| Threshold {
                cadre: (!t.cadre.is_empty()).then_some(t.cadre),
                role: (!t.role.is_empty()).then_some(t.role),
                max_open: t.max_open,
            })
            .collect())
    }

    /// The thresholds set (the default, [`komlang_core::caseload::DEFAULT_THRESHOLD`], applies
    /// where none fits).
    pub async fn caseload_thresholds(&self) -> Result<Vec<ThresholdRow>> {
        let rows = sqlx::query("SELECT cadre, role, max_open FROM caseload_thresholds ORDER BY cadre, role")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ThresholdRow {
                    cadre: r.try_get("cadre")?,
                    role: r.try_get("role")?,
                    max_open: crate::common::rows::count(r.try_get("max_open")?),
                })
            })
            .collect()
    }

    /// Sets the threshold of a cadre, a role, both or neither (`None`: any), or removes it
    /// (`max_open` None). National administrators (`keep_norms`); audited.
    pub async fn set_caseload_threshold(
        &self,
        p: &Principal,
        cadre: Option<Cadre>,
        role: Option<WorkerRole>,
        max_open: Option<u32>,
    ) -> Result<()> {
        p.require(Action::KeepNorms, Target::Any)?;
        if let Some(n) = max_open {
            if !(1..=10_000).contains(&n) {
                return Err(StoreError::Invalid(ValidationErrors::single(
                    FieldError::new("max_open", "out_of_range").with("min", "1").with("max", "10000"),
                )));
            }
        }
        let (c, r) = (cadre.map(|c| c.code()).unwrap_or(""), role.map(|r| r.code()).unwrap_or(""));
        let mut tx = self.begin_write().await?;
        lock_key(&mut tx, &format!("caseload_threshold:{c}:{r}")).await?;
        let before = sqlx::query("SELECT max_open FROM caseload_thresholds WHERE cadre = $1 AND role = $2")
            .bind(c)
            .bind(r)
            .fetch_optional(&mut *tx)
            .await?
            .map(|row| row.try_get::<i64, _>(0))
            .transpose()?
            .map(|n| ThresholdRow { cadre: c.into(), role: r.into(), max_open: crate::common::rows::count(n) });
        let after = max_open.map(|n| ThresholdRow { cadre: c.into(), role: r.into(), max_open: n });
        match max_open {
            Some(n) => {
                sqlx::query(
                    "INSERT INTO caseload_thresholds (cadre, role, max_open) VALUES ($1, $2, $3) \
                     ON CONFLICT (cadre, role) DO UPDATE SET max_open = excluded.max_open",
                )
                .bind(c)
                .bind(r)
                .bind(i64::from(n))
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query("DELETE FROM caseload_thresholds WHERE cadre = $1 AND role = $2")
                    .bind(c)
                    .bind(r)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        record_audit(&mut tx, p, "update", "caseload_threshold", &format!("{c}:{r}"), before.as_ref(), after.as_ref())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The worker a case system's user is linked to.
async fn linked_worker(conn: &mut sqlx::AnyConnection, source: CaseSource, key: &str) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT worker_id FROM case_owner_links WHERE source = $1 AND owner_key = $2")
        .bind(source.code())
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?)
}

/// A day as the snapshots write it.
pub(crate) fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}
