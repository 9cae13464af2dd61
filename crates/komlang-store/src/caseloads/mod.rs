//! Caseloads from the child-protection case systems (Primero, OSCaR): case lists imported as
//! snapshots, the systems' users linked to workers once, and open cases read per worker and per
//! unit, against a threshold per cadre and role. What is read of a case is
//! `komlang_core::caseload`; no child's personal data is kept (docs/caseloads.md).

mod demo;
mod import;
mod use_of;

use std::collections::{BTreeMap, HashMap};

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
pub use use_of::{Mover, Productivity, ReassignmentHint, UnitLoad, FAR_ABOVE, FAR_BELOW, MOVERS_MAX};

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

/// The open cases counted in a unit: each case once, however many of its owners work there.
#[derive(Debug, Default, Clone, Copy)]
struct UnitCount {
    open: u32,
    /// Of them, held by a worker of the unit.
    linked: u32,
    /// Workers of the unit holding cases.
    workers: u32,
}

/// The open cases of each source's latest snapshot (of a day up to `$1`, or any day when `$1`
/// is empty), each with the worker holding it and the unit it counts in (the worker's
/// workplace, else the case's location): the `FROM` and `WHERE` every count shares.
const OPEN_CASES: &str = "FROM caseload_snapshots s JOIN caseload_cases c ON c.snapshot_id = s.id \
     LEFT JOIN case_owner_links k ON k.source = s.source AND k.owner_key = c.owner_key \
     LEFT JOIN workers w ON w.id = k.worker_id \
     JOIN admin_units u ON u.code = COALESCE(w.workplace_code, c.admin_code) \
     WHERE c.status = 'open' AND s.as_of = (SELECT MAX(t.as_of) FROM caseload_snapshots t \
     WHERE t.source = s.source AND ($1 = '' OR t.as_of <= $1))";

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

    /// Open cases per unit of `level` (the units holding some), counted by the database: each
    /// case once per unit.
    async fn counts_by_unit(&self, level: AdminLevel, up_to: Option<&str>) -> Result<HashMap<String, UnitCount>> {
        let col = match level {
            AdminLevel::Province => "u.province_code",
            AdminLevel::District => "u.district_code",
            AdminLevel::Commune => "u.commune_code",
            _ => return Err(invalid("level", "invalid_choice")),
        };
        let sql = format!(
            "SELECT {col} AS unit, COUNT(DISTINCT s.source || ':' || c.case_ref) AS open, \
             COUNT(DISTINCT CASE WHEN k.worker_id IS NOT NULL THEN s.source || ':' || c.case_ref END) AS linked, \
             COUNT(DISTINCT k.worker_id) AS workers {OPEN_CASES} AND {col} IS NOT NULL GROUP BY {col}"
        );
        let rows = sqlx::query(&sql).bind(up_to.unwrap_or("")).fetch_all(&self.pool).await?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in &rows {
            let n = |c: &str| r.try_get::<i64, _>(c).map(crate::common::rows::count);
            out.insert(
                r.try_get("unit")?,
                UnitCount { open: n("open")?, linked: n("linked")?, workers: n("workers")? },
            );
        }
        Ok(out)
    }

    /// Open cases per unit of `level` from the case systems' snapshots of a day up to `up_to`
    /// (every unit holding some; not scoped: planning scopes its units itself).
    pub(crate) async fn case_system_open_cases(&self, level: AdminLevel, up_to: &str) -> Result<HashMap<String, u64>> {
        if !matches!(level, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune) {
            return Ok(HashMap::new());
        }
        Ok(self.counts_by_unit(level, Some(up_to)).await?.into_iter().map(|(k, v)| (k, u64::from(v.open))).collect())
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
        // Workplaces and the units counted are communes or above: the units with their names,
        // read once, serve every lookup.
        let units = self.named_units_by_code().await?;
        let parent = parent_in_scope(&units, p, parent)?;
        let counts = self.counts_by_unit(level, None).await?;
        // A worker's cases count in their workplace: those above their threshold, by unit.
        let mut above: HashMap<&str, u32> = HashMap::new();
        let over = self.over_thresholds().await?;
        for o in &over {
            if let Some(at) = units.get(&o.workplace_code).and_then(|u| unit_at(u, level)) {
                *above.entry(at).or_default() += 1;
            }
        }
        let mut out: Vec<UnitCaseload> = counts
            .into_iter()
            .filter_map(|(code, n)| {
                let u = units.get(&code)?;
                if !p.scope.contains(u) || parent.is_some_and(|par| !u.within(par)) {
                    return None;
                }
                Some(UnitCaseload {
                    name_en: u.name_en.clone(),
                    name_km: u.name_km.clone(),
                    open_cases: n.open,
                    unlinked_cases: n.open - n.linked,
                    workers_with_cases: n.workers,
                    cases_per_worker: (n.workers > 0).then(|| f64::from(n.linked) / f64::from(n.workers)),
                    above_threshold: above.get(code.as_str()).copied().unwrap_or(0),
                    unit: code,
                })
            })
            .collect();
        out.sort_by(|a, b| a.unit.cmp(&b.unit));
        Ok(out)
    }

    /// The workers above their threshold, most cases first (each case once per worker).
    async fn over_thresholds(&self) -> Result<Vec<OverThreshold>> {
        let settings = self.thresholds().await?;
        // Only workers above the lowest threshold can be above their own.
        let lowest = settings.iter().map(|t| t.max_open).chain([komlang_core::caseload::DEFAULT_THRESHOLD]).min();
        let sql = format!(
            "SELECT w.id, w.name_latin, w.name_km, w.cadre, w.role, w.workplace_code, \
             COUNT(DISTINCT s.source || ':' || c.case_ref) AS n {OPEN_CASES} AND w.id IS NOT NULL \
             GROUP BY w.id, w.name_latin, w.name_km, w.cadre, w.role, w.workplace_code \
             HAVING COUNT(DISTINCT s.source || ':' || c.case_ref) > $2"
        );
        let rows = sqlx::query(&sql)
            .bind("")
            .bind(i64::from(lowest.unwrap_or(komlang_core::caseload::DEFAULT_THRESHOLD)))
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::new();
        for r in &rows {
            let (cadre, role): (String, String) = (r.try_get("cadre")?, r.try_get("role")?);
            let threshold = threshold_for(&settings, &cadre, &role);
            let open = crate::common::rows::count(r.try_get("n")?);
            if open > threshold {
                out.push(OverThreshold {
                    worker_id: r.try_get("id")?,
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
        out.sort_by(|a, b| b.open_cases.cmp(&a.open_cases).then(a.name_latin.cmp(&b.name_latin)));
        Ok(out)
    }

    /// The workers in the caller's scope (inside `parent`, when given) holding more open
    /// cases than their threshold, most cases first.
    pub async fn workers_over_threshold(&self, p: &Principal, parent: Option<&str>) -> Result<Vec<OverThreshold>> {
        p.require(Action::ReadCaseloads, Target::Any)?;
        let units = self.units_by_code().await?;
        let parent = parent_in_scope(&units, p, parent)?;
        let over = self.over_thresholds().await?;
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
