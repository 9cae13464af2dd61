//! What planning knows of every unit of a level (built with one grouped query per table, not
//! one per unit), and the coverage of a norm over them.

use komlang_core::NonBlank;
use std::collections::{BTreeMap, HashMap};

use komlang_core::planning::{
    coverage, tally_workers, totals, Coverage, CoverageTotals, Norm, UnitFacts, WorkerGroup, PLAN_LEVELS,
};
use komlang_core::{Action, Target};
use komlang_core::{AdminLevel, AdminUnit, Cadre, Principal, Scope, Sector, WorkerRole};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use super::{depth, invalid};
use crate::common::scope::{level_column, push_area};
use crate::common::sql::Sql;
use crate::{Result, Store, StoreError};

/// Which units planning looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactsQuery {
    pub level: AdminLevel,
    /// Only units within this one (None: the caller's whole scope).
    pub parent: Option<String>,
    /// Population figures of the latest year up to this one; caseloads and
    /// vacancies as of the end of it at the latest; indicators of the
    /// latest year up to it.
    pub year: i32,
}

/// A unit a plan or a coverage table names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UnitName {
    pub name_en: String,
    pub name_km: String,
}

/// The coverage of every unit of a level under a norm, with totals.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CoverageReport {
    pub norm: String,
    pub level: AdminLevel,
    /// Year of the population figures (latest up to it), caseloads and vacancies.
    pub year: i32,
    /// The unit whose units are shown (absent: the caller's scope).
    pub parent: Option<String>,
    pub units: Vec<Coverage>,
    pub totals: CoverageTotals,
}

fn level_of(r: &AnyRow, col: &str) -> Result<AdminLevel> {
    let s: String = r.try_get(col)?;
    AdminLevel::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("admin level {s}")))
}

/// Figures of units within the units planned for, summed up to them: a
/// unit's own figure when it has one, else the sum over the level closest
/// below it that has figures (so communes and villages are not both counted).
#[derive(Default)]
struct RollUp {
    /// target → (own figure, figures by source depth).
    by_target: HashMap<String, (Option<f64>, BTreeMap<usize, f64>)>,
}

impl RollUp {
    fn add(&mut self, target: &str, source: &str, source_level: AdminLevel, value: f64) {
        let e = self.by_target.entry(target.to_string()).or_default();
        if source == target {
            e.0 = Some(e.0.unwrap_or(0.0) + value);
        } else {
            *e.1.entry(depth(source_level)).or_insert(0.0) += value;
        }
    }

    fn get(&self, target: &str) -> Option<f64> {
        let (own, below) = self.by_target.get(target)?;
        own.or_else(|| below.values().next().copied())
    }
}

/// The children among population rows of one unit and year: the `0-17`
/// group, else the sum of non-overlapping groups within 0-17.
fn children_of(groups: &BTreeMap<String, i64>) -> Option<i64> {
    if let Some(n) = groups.get("0-17") {
        return Some(*n);
    }
    let mut ranges: Vec<(u32, u32, i64)> = groups
        .iter()
        .filter_map(|(g, n)| {
            let (a, b) = g.split_once('-')?;
            let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
            (b <= 17).then_some((a, b, *n))
        })
        .collect();
    ranges.sort();
    let mut next = 0u32;
    let mut sum = None;
    for (a, b, n) in ranges {
        if a >= next {
            *sum.get_or_insert(0) += n;
            next = b + 1;
        }
    }
    sum
}

impl Store {
    /// The area a query covers: the parent unit (which must be in the
    /// caller's scope, else `NotFound`), or the caller's scope.
    pub async fn planning_area(&self, p: &Principal, parent: Option<&str>) -> Result<(Scope, Option<AdminUnit>)> {
        p.require(Action::ReadPlanning, Target::Any)?;
        match parent.non_blank() {
            None => match &p.scope {
                Scope::Nation => Ok((Scope::Nation, None)),
                Scope::Unit { code, .. } => {
                    let u = self.admin_unit(code).await?;
                    Ok((p.scope.clone(), u))
                }
            },
            Some(code) => {
                let Some(u) = self.admin_unit(code).await? else { return Err(StoreError::NotFound) };
                if !p.scope.contains(&u) {
                    return Err(StoreError::NotFound);
                }
                Ok((Scope::of(Some(&u)), Some(u)))
            }
        }
    }

    /// What planning knows of every unit of `q.level` in the area: workers
    /// in post under `norm` (government workers of the rule's kind whose
    /// workplace lies in the unit and who are active or on leave), all
    /// government workers, population and children, open cases, vacancies
    /// and indicators. One grouped query per table whatever the number of units.
    pub async fn unit_facts(&self, p: &Principal, norm: &Norm, q: &FactsQuery) -> Result<Vec<UnitFacts>> {
        let (area, parent) = self.planning_area(p, q.parent.as_deref()).await?;
        if !PLAN_LEVELS.contains(&q.level) {
            return Err(invalid("level", "level_not_planned"));
        }
        if let Some(u) = &parent {
            if depth(q.level) < depth(u.level) {
                return Err(invalid("level", "level_above_parent"));
            }
        }
        let col = level_column(q.level);
        let year_end = format!("{:04}-12-31", q.year);

        let mut sql = Sql::new("SELECT u.code, u.name_en, u.name_km FROM admin_units u WHERE u.level = ");
        sql.text(q.level.code());
        push_area(&mut sql, &area);
        sql.push(" ORDER BY u.code");
        let mut units: Vec<UnitFacts> = sql
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(UnitFacts {
                    code: r.try_get("code")?,
                    level: Some(q.level),
                    name_en: r.try_get("name_en")?,
                    name_km: r.try_get("name_km")?,
                    ..Default::default()
                })
            })
            .collect::<Result<_>>()?;
        if units.is_empty() {
            return Ok(units);
        }

        // Workers, grouped by unit and kind: summed from the worker tallies (kept by the
        // database with every change), the cost of the number of groups, not of workers.
        let mut sql = Sql::new(&format!(
            "SELECT {col} AS k, w.sector, w.cadre, w.role, CAST(SUM(w.n) AS BIGINT) AS n FROM worker_tallies w \
             JOIN admin_units u ON u.code = w.workplace_code \
             WHERE w.status IN ('active', 'on_leave') AND {col} IS NOT NULL"
        ));
        push_area(&mut sql, &area);
        sql.push(&format!(" GROUP BY {col}, w.sector, w.cadre, w.role HAVING SUM(w.n) <> 0"));
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut groups: Vec<(String, Sector, Cadre, WorkerRole, u32)> = Vec::with_capacity(rows.len());
        for r in &rows {
            let text = |c: &str| -> Result<String> { Ok(r.try_get::<String, _>(c)?) };
            let (s, c, ro) = (text("sector")?, text("cadre")?, text("role")?);
            let bad = |what: &str, v: &str| StoreError::Corrupt(format!("worker {what} {v}"));
            groups.push((
                text("k")?,
                Sector::parse(&s).ok_or_else(|| bad("sector", &s))?,
                Cadre::parse(&c).ok_or_else(|| bad("cadre", &c))?,
                WorkerRole::parse(&ro).ok_or_else(|| bad("role", &ro))?,
                r.try_get::<i64, _>("n")? as u32,
            ));
        }
        tally_workers(
            norm,
            q.level,
            &mut units,
            groups.iter().map(|(code, sector, cadre, role, count)| WorkerGroup {
                code,
                sector: *sector,
                cadre: *cadre,
                role: *role,
                count: *count,
            }),
        );

        // Population: each source unit's latest year up to q.year, then rolled up.
        let mut sql = Sql::new(&format!(
            "SELECT {col} AS k, p.admin_code, u.level, p.year, p.sex, p.age_group, p.count FROM population p \
             JOIN admin_units u ON u.code = p.admin_code WHERE {col} IS NOT NULL AND p.year <= "
        ));
        sql.int(q.year as i64);
        push_area(&mut sql, &area);
        // source → (target, level, year → sex → age group → count)
        type Figures = BTreeMap<i64, BTreeMap<String, BTreeMap<String, i64>>>;
        let mut pop: HashMap<String, (String, AdminLevel, Figures)> = HashMap::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            let source: String = r.try_get("admin_code")?;
            let e = pop.entry(source).or_insert_with(|| (String::new(), AdminLevel::Village, BTreeMap::new()));
            e.0 = r.try_get("k")?;
            e.1 = level_of(&r, "level")?;
            e.2.entry(r.try_get("year")?)
                .or_default()
                .entry(r.try_get("sex")?)
                .or_default()
                .insert(r.try_get("age_group")?, r.try_get("count")?);
        }
        let (mut total_up, mut children_up) = (RollUp::default(), RollUp::default());
        for (source, (target, level, years)) in &pop {
            let Some((_, sexes)) = years.iter().next_back() else { continue };
            // Both sexes: the `total` rows, else female + male.
            let both = |f: &dyn Fn(&BTreeMap<String, i64>) -> Option<i64>| -> Option<i64> {
                sexes.get("total").and_then(f).or_else(|| match (sexes.get("female"), sexes.get("male")) {
                    (Some(a), Some(b)) => Some(f(a)? + f(b)?),
                    _ => None,
                })
            };
            if let Some(n) = both(&|g| g.get("total").copied()) {
                total_up.add(target, source, *level, n as f64);
            }
            if let Some(n) = both(&children_of) {
                children_up.add(target, source, *level, n as f64);
            }
        }

        // Open cases and vacancies: each source unit's latest figure, rolled up.
        let latest = |table: &str, value: &str| {
            let mut sql = Sql::new(&format!(
                "SELECT {col} AS k, t.admin_code, u.level, t.as_of, t.{value} AS v FROM {table} t \
                 JOIN admin_units u ON u.code = t.admin_code WHERE {col} IS NOT NULL AND t.as_of <= "
            ));
            sql.text(year_end.clone());
            push_area(&mut sql, &area);
            sql
        };
        let mut rolled = Vec::new();
        for (table, value) in [("planning_caseloads", "open_cases"), ("planning_vacancies", "vacancies")] {
            let mut last: HashMap<String, (String, AdminLevel, String, i64)> = HashMap::new();
            for r in latest(table, value).query().fetch_all(&self.pool).await? {
                let source: String = r.try_get("admin_code")?;
                let as_of: String = r.try_get("as_of")?;
                if last.get(&source).is_some_and(|e| e.2 >= as_of) {
                    continue;
                }
                last.insert(source, (r.try_get("k")?, level_of(&r, "level")?, as_of, r.try_get("v")?));
            }
            let mut up = RollUp::default();
            for (source, (target, level, _, v)) in &last {
                up.add(target, source, *level, *v as f64);
            }
            rolled.push(up);
        }

        // Indicators of the units themselves, latest year up to q.year.
        let mut sql = Sql::new(
            "SELECT i.admin_code, i.name, i.year, i.value FROM planning_indicators i \
             JOIN admin_units u ON u.code = i.admin_code WHERE u.level = ",
        );
        sql.text(q.level.code()).push(" AND i.year <= ").int(q.year as i64);
        push_area(&mut sql, &area);
        sql.push(" ORDER BY i.year");
        let mut indicators: HashMap<String, BTreeMap<String, f64>> = HashMap::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            indicators.entry(r.try_get("admin_code")?).or_default().insert(r.try_get("name")?, r.try_get("value")?);
        }

        let case_systems = self.case_system_open_cases(q.level, &year_end).await?;
        for u in &mut units {
            u.population = total_up.get(&u.code).map(|v| v as u64);
            u.children = children_up.get(&u.code).map(|v| v as u64);
            // The case systems' open cases where their snapshots place some, else those entered.
            u.set_open_cases(case_systems.get(&u.code).copied().or(rolled[0].get(&u.code).map(|v| v as u64)));
            u.vacancies = rolled[1].get(&u.code).map(|v| v as u32).unwrap_or(0);
            u.indicators = indicators.remove(&u.code).unwrap_or_default();
        }
        Ok(units)
    }

    /// The coverage of every unit of `q.level` in the area under the norm named `norm`.
    pub async fn coverage_report(&self, p: &Principal, norm: &str, q: &FactsQuery) -> Result<CoverageReport> {
        let norm = self.norm_for(p, norm).await?;
        let units = self.unit_facts(p, &norm, q).await?;
        let units = coverage(&norm, &units);
        Ok(CoverageReport {
            norm: norm.name,
            level: q.level,
            year: q.year,
            parent: q.parent.clone().filter(|s| !s.trim().is_empty()),
            totals: totals(&units),
            units,
        })
    }

    /// Totals of a norm over every level it has a rule for, in the area
    /// (the supply projection starts from them).
    pub async fn norm_totals(
        &self,
        p: &Principal,
        norm: &Norm,
        parent: Option<&str>,
        year: i32,
    ) -> Result<CoverageTotals> {
        let (_, area) = self.planning_area(p, parent).await?;
        let mut all = Vec::new();
        for level in PLAN_LEVELS {
            if norm.rule(level).is_none() || area.as_ref().is_some_and(|u| depth(level) < depth(u.level)) {
                continue;
            }
            let q = FactsQuery { level, parent: parent.map(String::from), year };
            all.extend(coverage(norm, &self.unit_facts(p, norm, &q).await?));
        }
        Ok(totals(&all))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_from_the_groups_a_file_has() {
        let g = |pairs: &[(&str, i64)]| pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect::<BTreeMap<_, _>>();
        assert_eq!(children_of(&g(&[("0-17", 40), ("0-4", 10), ("total", 100)])), Some(40));
        assert_eq!(children_of(&g(&[("0-4", 10), ("5-9", 11), ("10-14", 12), ("15-17", 7), ("18-24", 9)])), Some(40));
        assert_eq!(children_of(&g(&[("0-4", 10), ("0-14", 30), ("15-17", 5)])), Some(15), "overlaps skipped");
        assert_eq!(children_of(&g(&[("total", 100), ("65+", 3)])), None);
    }

    #[test]
    fn roll_up_prefers_own_figures_then_the_closest_level() {
        let mut r = RollUp::default();
        r.add("02", "0201", AdminLevel::District, 10.0);
        r.add("02", "0202", AdminLevel::District, 5.0);
        r.add("02", "020101", AdminLevel::Commune, 99.0);
        assert_eq!(r.get("02"), Some(15.0));
        r.add("02", "02", AdminLevel::Province, 20.0);
        assert_eq!(r.get("02"), Some(20.0));
        assert_eq!(r.get("03"), None);
    }
}
