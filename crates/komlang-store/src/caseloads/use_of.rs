//! What the case data says for managing people: a worker's cases opened and closed in a period
//! (shown next to their appraisal, never as the only measure), and re-assignment hints — units
//! far above their caseload capacity next to nearby units far below it, with the workers who
//! could move and the posts that would change, for a manager to decide (nothing is moved).

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use komlang_core::caseload::threshold_for;
use komlang_core::{Action, AdminLevel, Principal, Scope, Target};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::{parent_in_scope, unit_at};
use crate::common::scope::{level_column, push_area, push_within};
use crate::common::sql::Sql;
use crate::common::store::invalid;
use crate::{Result, Store};

/// Load at or above which a unit is far above its capacity (open cases ÷ the sum of its
/// workers' thresholds).
pub const FAR_ABOVE: f64 = 1.5;
/// Load at or below which a unit is far below it.
pub const FAR_BELOW: f64 = 0.5;
/// Most workers proposed to move from one unit to another.
pub const MOVERS_MAX: usize = 3;
/// Most vacant posts named for a worker who could move (the total is given beside them).
pub const VACANT_SHOWN: usize = 10;

/// A worker's cases in a period, from each source's current snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Productivity {
    pub period_start: String,
    pub period_end: String,
    /// Cases of the worker opened in the period.
    pub opened: u32,
    /// Cases of the worker closed in the period.
    pub closed: u32,
    /// Open now.
    pub open_now: u32,
    /// The sources and the day of their current snapshot (`primero 2026-11-30`).
    pub snapshots: Vec<String>,
}

/// A unit's caseload against its capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UnitLoad {
    pub unit: String,
    pub name_en: String,
    pub name_km: String,
    /// Open cases held by the unit's linked workers.
    pub open_cases: u32,
    /// The sum of those workers' thresholds.
    pub capacity: u32,
    /// `open_cases ÷ capacity`.
    pub load: f64,
    pub workers: u32,
}

/// A worker who could move, with what would change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Mover {
    pub worker_id: i64,
    pub name_latin: String,
    pub name_km: String,
    pub cadre: String,
    pub workplace_code: String,
    pub open_cases: u32,
    pub threshold: u32,
    /// The post their current posting fills (it would fall vacant).
    pub post_id: Option<i64>,
    /// Vacant posts of their cadre in the unit above capacity (one could be filled): the first
    /// [`VACANT_SHOWN`] by id.
    pub vacant_posts_there: Vec<i64>,
    /// How many such posts there are in all.
    pub vacant_posts_there_total: u32,
}

/// A unit far above capacity, a nearby unit far below, and who could move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReassignmentHint {
    pub over: UnitLoad,
    pub under: UnitLoad,
    pub movers: Vec<Mover>,
}

struct Load {
    worker_id: i64,
    name_latin: String,
    name_km: String,
    cadre: String,
    workplace_code: String,
    open: u32,
    threshold: u32,
    post_id: Option<i64>,
}

impl Store {
    /// The worker's cases opened, closed (in the period) and open now, from each source's
    /// current snapshot; none when no user of a case system is linked to the worker.
    pub(crate) async fn case_productivity(
        &self,
        worker_id: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Option<Productivity>> {
        let rows = sqlx::query(
            "SELECT s.source, s.as_of, \
             COUNT(DISTINCT CASE WHEN c.opened_on >= $1 AND c.opened_on <= $2 THEN c.case_ref END) AS opened, \
             COUNT(DISTINCT CASE WHEN c.closed_on >= $3 AND c.closed_on <= $4 THEN c.case_ref END) AS closed, \
             COUNT(DISTINCT CASE WHEN c.status = 'open' THEN c.case_ref END) AS open_now \
             FROM case_owner_links k JOIN caseload_snapshots s ON s.source = k.source \
             AND s.as_of = (SELECT MAX(t.as_of) FROM caseload_snapshots t WHERE t.source = k.source) \
             LEFT JOIN caseload_cases c ON c.snapshot_id = s.id AND c.owner_key = k.owner_key \
             WHERE k.worker_id = $5 GROUP BY s.source, s.as_of ORDER BY s.source",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(from.to_string())
        .bind(to.to_string())
        .bind(worker_id)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let mut p = Productivity {
            period_start: from.to_string(),
            period_end: to.to_string(),
            opened: 0,
            closed: 0,
            open_now: 0,
            snapshots: Vec::new(),
        };
        for r in &rows {
            let n = |c: &str| -> Result<u32> { Ok(crate::common::rows::count(r.try_get(c)?)) };
            p.opened += n("opened")?;
            p.closed += n("closed")?;
            p.open_now += n("open_now")?;
            p.snapshots.push(format!("{} {}", r.try_get::<String, _>("source")?, r.try_get::<String, _>("as_of")?));
        }
        Ok(Some(p))
    }

    /// Re-assignment hints among the units of `level` inside `parent` (in the caller's scope):
    /// each unit far above its capacity ([`FAR_ABOVE`]) next to the units of the same parent
    /// far below theirs ([`FAR_BELOW`]), with up to [`MOVERS_MAX`] workers of the latter with
    /// the most spare capacity, their post, and the vacant posts of their cadre in the unit
    /// above. The system suggests; a manager decides (nothing is changed here).
    pub async fn reassignment_hints(
        &self,
        p: &Principal,
        level: AdminLevel,
        parent: Option<&str>,
    ) -> Result<Vec<ReassignmentHint>> {
        p.require(Action::ReadCaseloads, Target::Any)?;
        if !matches!(level, AdminLevel::District | AdminLevel::Commune) {
            return Err(invalid("level", "invalid_choice"));
        }
        let units = self.named_units_by_code().await?;
        let parent = parent_in_scope(&units, p, parent)?;
        let settings = self.thresholds().await?;
        // The area asked for: the caller's scope, within `parent`; none for the whole country
        // (then the reads below go from the links, not from the units).
        let whole = !matches!(&p.scope, Scope::Unit { level, .. } if *level != AdminLevel::Country)
            && parent.is_none_or(|u| u.level == AdminLevel::Country);
        // Every linked worker's open cases in the sources' current snapshots (0 for none): a
        // case counted once per worker and source, whichever of the worker's owner names in the
        // source carry it. One grouped read of the cases, then the linked workers.
        let mut counted = Sql::new(
            "SELECT k.worker_id, COUNT(DISTINCT c.case_ref) AS n FROM caseload_snapshots s \
             JOIN caseload_cases c ON c.snapshot_id = s.id AND c.status = 'open' \
             JOIN case_owner_links k ON k.source = s.source AND k.owner_key = c.owner_key ",
        );
        if !whole {
            counted.push("JOIN workers w ON w.id = k.worker_id JOIN admin_units u ON u.code = w.workplace_code ");
        }
        counted.push("WHERE s.as_of = (SELECT MAX(t.as_of) FROM caseload_snapshots t WHERE t.source = s.source)");
        push_area(&mut counted, &p.scope);
        push_within(&mut counted, parent);
        counted.push(" GROUP BY k.worker_id, s.id");
        let mut open: HashMap<i64, u32> = HashMap::new();
        for r in &counted.query().fetch_all(&self.pool).await? {
            *open.entry(r.try_get("worker_id")?).or_default() += crate::common::rows::count(r.try_get("n")?);
        }
        const LINKED: &str = "SELECT w.id, w.name_latin, w.name_km, w.cadre, w.role, w.workplace_code, \
             (SELECT ps.post_id FROM postings ps WHERE ps.worker_id = w.id AND ps.end_date IS NULL ORDER BY ps.id DESC LIMIT 1) AS post_id";
        let mut linked = if whole {
            Sql::new(&format!(
                "{LINKED} FROM (SELECT DISTINCT worker_id FROM case_owner_links) k CROSS JOIN workers w \
                 WHERE w.id = k.worker_id AND w.status IN ('active', 'on_leave')"
            ))
        } else {
            Sql::new(&format!(
                "{LINKED} FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
                 WHERE w.status IN ('active', 'on_leave') AND EXISTS (SELECT 1 FROM case_owner_links k WHERE k.worker_id = w.id)"
            ))
        };
        push_area(&mut linked, &p.scope);
        push_within(&mut linked, parent);
        let rows = linked.query().fetch_all(&self.pool).await?;
        let mut by_unit: BTreeMap<String, Vec<Load>> = BTreeMap::new();
        for r in &rows {
            let workplace: String = r.try_get("workplace_code")?;
            let Some(u) = units.get(&workplace) else { continue };
            if !p.scope.contains(u) || parent.is_some_and(|par| !u.within(par)) {
                continue;
            }
            let Some(at) = unit_at(u, level) else { continue };
            let (cadre, role): (String, String) = (r.try_get("cadre")?, r.try_get("role")?);
            by_unit.entry(at.to_string()).or_default().push(Load {
                worker_id: r.try_get("id")?,
                name_latin: r.try_get("name_latin")?,
                name_km: r.try_get("name_km")?,
                threshold: threshold_for(&settings, &cadre, &role),
                cadre,
                workplace_code: workplace,
                open: open.get(&r.try_get::<i64, _>("id")?).copied().unwrap_or(0),
                post_id: r.try_get("post_id")?,
            });
        }
        let load_of = |code: &str, list: &[Load]| -> Option<UnitLoad> {
            let u = units.get(code)?;
            let open: u32 = list.iter().map(|l| l.open).sum();
            let capacity: u32 = list.iter().map(|l| l.threshold).sum();
            Some(UnitLoad {
                unit: code.to_string(),
                name_en: u.name_en.clone(),
                name_km: u.name_km.clone(),
                open_cases: open,
                capacity,
                load: if capacity == 0 { 0.0 } else { f64::from(open) / f64::from(capacity) },
                workers: list.len() as u32,
            })
        };
        let loads: Vec<(UnitLoad, &Vec<Load>)> =
            by_unit.iter().filter_map(|(code, list)| load_of(code, list).map(|l| (l, list))).collect();
        let parent_of = |code: &str| -> Option<String> {
            let u = units.get(code)?;
            match level {
                AdminLevel::District => u.province_code.clone(),
                _ => u.district_code.clone(),
            }
        };
        let overs: Vec<&UnitLoad> =
            loads.iter().map(|(l, _)| l).filter(|l| l.capacity > 0 && l.load >= FAR_ABOVE).collect();
        // Vacant posts of the units far above, by unit and cadre (none read when no unit is).
        let mut vacant: HashMap<(String, String), Vec<i64>> = HashMap::new();
        if !overs.is_empty() {
            let mut sql = Sql::new(
                "SELECT po.id, po.admin_code, po.cadre FROM posts po JOIN admin_units u ON u.code = po.admin_code \
                 WHERE po.ended_year IS NULL \
                 AND NOT EXISTS (SELECT 1 FROM postings ps WHERE ps.post_id = po.id AND ps.end_date IS NULL) AND ",
            );
            sql.push(level_column(level)).push(" IN (");
            for (n, o) in overs.iter().enumerate() {
                if n > 0 {
                    sql.push(", ");
                }
                sql.text(o.unit.clone());
            }
            sql.push(") ORDER BY po.id");
            for r in &sql.query().fetch_all(&self.pool).await? {
                let code: String = r.try_get("admin_code")?;
                if let Some(at) = units.get(&code).and_then(|u| unit_at(u, level)) {
                    vacant.entry((at.to_string(), r.try_get("cadre")?)).or_default().push(r.try_get("id")?);
                }
            }
        }
        let mut out = Vec::new();
        for over in overs {
            for (under, list) in loads.iter().filter(|(l, _)| l.load <= FAR_BELOW && l.unit != over.unit) {
                if parent_of(&under.unit) != parent_of(&over.unit) {
                    continue;
                }
                let mut spare: Vec<&Load> = list.iter().filter(|l| l.open * 2 <= l.threshold).collect();
                spare.sort_by_key(|l| (std::cmp::Reverse(l.threshold.saturating_sub(l.open)), l.worker_id));
                let movers: Vec<Mover> = spare
                    .into_iter()
                    .take(MOVERS_MAX)
                    .map(|l| {
                        let there = vacant.get(&(over.unit.clone(), l.cadre.clone()));
                        Mover {
                            worker_id: l.worker_id,
                            name_latin: l.name_latin.clone(),
                            name_km: l.name_km.clone(),
                            cadre: l.cadre.clone(),
                            workplace_code: l.workplace_code.clone(),
                            open_cases: l.open,
                            threshold: l.threshold,
                            post_id: l.post_id,
                            vacant_posts_there: there
                                .map(|v| v.iter().take(VACANT_SHOWN).copied().collect())
                                .unwrap_or_default(),
                            vacant_posts_there_total: there.map_or(0, |v| v.len() as u32),
                        }
                    })
                    .collect();
                if !movers.is_empty() {
                    out.push(ReassignmentHint { over: over.clone(), under: under.clone(), movers });
                }
            }
        }
        out.sort_by(|a, b| b.over.load.total_cmp(&a.over.load).then(a.under.load.total_cmp(&b.under.load)));
        Ok(out)
    }
}
