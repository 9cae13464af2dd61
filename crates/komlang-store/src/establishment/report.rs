//! The establishment counted for a year: approved, filled and vacant posts by unit of a level,
//! by cadre and by funding source; totals recorded for past years; the years side by side.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use komlang_core::establishment::{counted_on, FundingSource, PostCounts, YEARS};
use komlang_core::{Action, AdminLevel, Cadre, FieldError, Principal, Target, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::rows;
use crate::common::scope::{level_column, push_area};
use crate::common::sql::{lock_key, Sql};
use crate::{now_text, Result, Store, StoreError};

/// Which establishment to count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstablishmentQuery {
    /// The level of the units listed (province, district or commune).
    pub level: AdminLevel,
    /// Only units within this one (default: the caller's scope).
    pub parent: Option<String>,
    pub year: i32,
    pub cadre: Option<Cadre>,
    pub funding: Option<FundingSource>,
}

/// One unit's posts.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EstablishmentRow {
    /// The unit's code.
    pub unit: String,
    pub name_en: String,
    pub name_km: String,
    pub approved: u32,
    pub filled: u32,
    /// `approved - filled`.
    pub vacant: u32,
    /// Vacant posts per 100 approved (absent without posts).
    pub vacancy_rate: Option<f64>,
}

/// A group's posts (a cadre, a funding source).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupCounts<T> {
    pub key: T,
    #[serde(flatten)]
    pub counts: PostCounts,
    pub vacancy_rate: Option<f64>,
}

/// The establishment of a level's units in a year.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EstablishmentReport {
    pub level: AdminLevel,
    pub year: i32,
    /// The day posts are counted filled on: the year's last day, or today while it lasts.
    pub counted_on: String,
    pub parent: Option<String>,
    pub items: Vec<EstablishmentRow>,
    /// Every post in the area (also those of units above the level, such as the ministry's).
    pub total: PostCounts,
    pub total_vacancy_rate: Option<f64>,
    #[schema(value_type = Vec<Object>)]
    pub by_cadre: Vec<GroupCounts<Cadre>>,
    #[schema(value_type = Vec<Object>)]
    pub by_funding: Vec<GroupCounts<FundingSource>>,
}

/// A total recorded for a unit and a year from another source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EstablishmentRecord {
    pub admin_code: String,
    pub year: i32,
    pub approved: u32,
    pub filled: Option<u32>,
    pub source: String,
    #[serde(default)]
    pub recorded_by: String,
    #[serde(default)]
    pub recorded_at: String,
}

/// A total to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RecordInput {
    /// The unit (the country's code for national totals).
    pub admin_code: String,
    pub year: i32,
    pub approved: u32,
    #[serde(default)]
    pub filled: Option<u32>,
    /// Where the figure comes from (a report, a decision).
    pub source: String,
}

/// One year of a unit's establishment: counted from the posts, and as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct YearCounts {
    pub year: i32,
    pub counted: PostCounts,
    pub recorded: Option<EstablishmentRecord>,
}

/// Longest source of a recorded total.
const SOURCE_MAX: usize = 300;

impl Store {
    /// Approved, filled and vacant posts of every unit of `q.level` in the area, in `q.year`.
    pub async fn establishment(
        &self,
        p: &Principal,
        q: &EstablishmentQuery,
        today: NaiveDate,
    ) -> Result<EstablishmentReport> {
        let (area, parent) = self.planning_area(p, q.parent.as_deref()).await?;
        if !matches!(q.level, AdminLevel::Province | AdminLevel::District | AdminLevel::Commune) {
            return Err(crate::common::store::invalid("level", "level_not_planned"));
        }
        if parent.as_ref().is_some_and(|u| crate::planning::depth(q.level) < crate::planning::depth(u.level)) {
            return Err(crate::common::store::invalid("level", "level_above_parent"));
        }
        if !YEARS.contains(&q.year) {
            return Err(crate::common::store::invalid("year", "invalid_year"));
        }
        let on = counted_on(q.year, today);
        let col = level_column(q.level);
        let mut units = Sql::new("SELECT u.code, u.name_en, u.name_km FROM admin_units u WHERE u.level = ");
        units.text(q.level.code());
        push_area(&mut units, &area);
        units.push(" ORDER BY u.code");
        let mut items: Vec<EstablishmentRow> = units
            .query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(EstablishmentRow {
                    unit: r.try_get("code")?,
                    name_en: r.try_get("name_en")?,
                    name_km: r.try_get("name_km")?,
                    approved: 0,
                    filled: 0,
                    vacant: 0,
                    vacancy_rate: None,
                })
            })
            .collect::<Result<_>>()?;
        // One read of the posts, grouped by unit, cadre and funding, folded here.
        let groups = self.count_posts(&area, q, on, col).await?;
        let (mut by_unit, mut by_cadre, mut by_funding) =
            (BTreeMap::<&str, PostCounts>::new(), BTreeMap::new(), BTreeMap::new());
        let mut total = PostCounts::default();
        for (unit, cadre, funding, c) in &groups {
            if let Some(u) = unit {
                by_unit.entry(u.as_str()).or_insert_with(PostCounts::default).add(*c);
            }
            by_cadre.entry(cadre.as_str()).or_insert_with(PostCounts::default).add(*c);
            by_funding.entry(funding.as_str()).or_insert_with(PostCounts::default).add(*c);
            total.add(*c);
        }
        for row in &mut items {
            let c = by_unit.get(row.unit.as_str()).copied().unwrap_or_default();
            (row.approved, row.filled, row.vacant, row.vacancy_rate) =
                (c.approved, c.filled, c.vacant, c.vacancy_rate());
        }
        let by_cadre = by_cadre
            .into_iter()
            .filter_map(|(k, c)| Some(GroupCounts { key: Cadre::parse(k)?, counts: c, vacancy_rate: c.vacancy_rate() }))
            .collect();
        let by_funding = by_funding
            .into_iter()
            .filter_map(|(k, c)| {
                Some(GroupCounts { key: FundingSource::parse(k)?, counts: c, vacancy_rate: c.vacancy_rate() })
            })
            .collect();
        Ok(EstablishmentReport {
            level: q.level,
            year: q.year,
            counted_on: on.to_string(),
            parent: parent.map(|u| u.code),
            items,
            total_vacancy_rate: total.vacancy_rate(),
            total,
            by_cadre,
            by_funding,
        })
    }

    /// Posts approved in the query's year, filled on `on`, grouped by `unit` (an SQL expression
    /// over `admin_units u`: the post's unit at a level, absent for posts above it), cadre and
    /// funding source. Summed from the post tallies (migration 0017): the posts approved in the
    /// year, and the postings filling them on the last day of `on`'s year; then the few postings
    /// that start or end between `on` and that day are counted as they are on `on`.
    async fn count_posts(
        &self,
        area: &komlang_core::Scope,
        q: &EstablishmentQuery,
        on: NaiveDate,
        unit: &str,
    ) -> Result<Vec<(Option<String>, String, String, PostCounts)>> {
        type Key = (Option<String>, String, String);
        let year_end = NaiveDate::from_ymd_opt(on.year(), 12, 31).unwrap_or(on);
        // The posts of the query (over `p`, a post or a tally row, whose ended year is `open`
        // while the post is still approved: NULL on a post, 0 in the tallies), the area aside.
        let posts_of = |sql: &mut Sql, p: &str, open: &str| {
            sql.push(&format!(" AND {p}.approved_year <= ")).int(q.year.into());
            sql.push(&format!(" AND ({p}.ended_year {open} OR {p}.ended_year > ")).int(q.year.into()).push(")");
            if let Some(c) = q.cadre {
                sql.push(&format!(" AND {p}.cadre = ")).text(c.code());
            }
            if let Some(f) = q.funding {
                sql.push(&format!(" AND {p}.funding = ")).text(f.code());
            }
        };
        let mut counts: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
        for (table, filled) in [("post_tallies", false), ("post_fill_tallies", true)] {
            // Summed by unit first (in the order of the tallies' index), then by the level's unit.
            let mut sql = Sql::new(&format!(
                "SELECT {unit} AS k, t.cadre, t.funding, CAST(SUM(t.n) AS BIGINT) AS n FROM \
                 (SELECT t.admin_code, t.cadre, t.funding, SUM(t.n) AS n FROM {table} t WHERE 1 = 1"
            ));
            if let komlang_core::Scope::Unit { .. } = area {
                sql.push(" AND t.admin_code IN (SELECT u.code FROM admin_units u WHERE 1 = 1");
                push_area(&mut sql, area);
                sql.push(")");
            }
            posts_of(&mut sql, "t", "= 0");
            if filled {
                sql.push(" AND t.year <= ").int(on.year().into());
            }
            sql.push(&format!(
                " GROUP BY t.admin_code, t.cadre, t.funding) t JOIN admin_units u ON u.code = t.admin_code \
                 GROUP BY {unit}, t.cadre, t.funding"
            ));
            for r in sql.query().fetch_all(&self.pool).await? {
                let e = counts.entry((r.try_get("k")?, r.try_get("cadre")?, r.try_get("funding")?)).or_default();
                let n: i64 = r.try_get("n")?;
                if filled {
                    e.1 += n;
                } else {
                    e.0 += n;
                }
            }
        }
        if on < year_end {
            let (day, end) = (on.to_string(), year_end.to_string());
            let mut sql = Sql::new(&format!(
                "SELECT {unit} AS k, p.cadre, p.funding, g.start_date, g.end_date FROM postings g \
                 JOIN posts p ON p.id = g.post_id JOIN admin_units u ON u.code = p.admin_code \
                 WHERE g.id IN (SELECT id FROM postings WHERE post_id IS NOT NULL AND start_date > "
            ));
            sql.text(day.clone()).push(" AND start_date <= ").text(end.clone());
            sql.push(" UNION SELECT id FROM postings WHERE post_id IS NOT NULL AND end_date > ").text(day.clone());
            sql.push(" AND end_date <= ").text(end.clone()).push(")");
            posts_of(&mut sql, "p", "IS NULL");
            push_area(&mut sql, area);
            let fills = |start: &str, stop: Option<&str>, d: &str| start <= d && stop.is_none_or(|e| e > d);
            for r in sql.query().fetch_all(&self.pool).await? {
                let (start, stop): (String, Option<String>) = (r.try_get("start_date")?, r.try_get("end_date")?);
                let change =
                    i64::from(fills(&start, stop.as_deref(), &day)) - i64::from(fills(&start, stop.as_deref(), &end));
                counts.entry((r.try_get("k")?, r.try_get("cadre")?, r.try_get("funding")?)).or_default().1 += change;
            }
        }
        Ok(counts
            .into_iter()
            .filter(|(_, (approved, _))| *approved > 0)
            .map(|((k, cadre, funding), (approved, filled))| {
                (k, cadre, funding, PostCounts::new(rows::count(approved), rows::count(filled)))
            })
            .collect())
    }

    /// A unit's establishment for each year from `from` to `to`: counted from the posts, beside
    /// the totals recorded for it.
    pub async fn establishment_years(
        &self,
        p: &Principal,
        unit: Option<&str>,
        from: i32,
        to: i32,
        today: NaiveDate,
    ) -> Result<Vec<YearCounts>> {
        let (area, parent) = self.planning_area(p, unit).await?;
        let code = match parent {
            Some(u) => u.code,
            None => self.country().await?.map(|u| u.code).unwrap_or_default(),
        };
        let recorded: BTreeMap<i32, EstablishmentRecord> =
            self.establishment_records(p, Some(&code)).await?.into_iter().map(|r| (r.year, r)).collect();
        let mut out = Vec::new();
        for year in from.max(*YEARS.start())..=to.min(*YEARS.end()) {
            let q = EstablishmentQuery { level: AdminLevel::Province, parent: None, year, cadre: None, funding: None };
            let mut counted = PostCounts::default();
            for (_, _, _, c) in self.count_posts(&area, &q, counted_on(year, today), "u.province_code").await? {
                counted.add(c);
            }
            out.push(YearCounts { year, counted, recorded: recorded.get(&year).cloned() });
        }
        Ok(out)
    }

    /// Totals recorded for units in the caller's scope (or for one unit), by unit and year.
    pub async fn establishment_records(&self, p: &Principal, unit: Option<&str>) -> Result<Vec<EstablishmentRecord>> {
        p.require(Action::ReadPlanning, Target::Any)?;
        let mut sql = Sql::new(
            "SELECT r.admin_code, r.year, r.approved, r.filled, r.source, r.recorded_by, r.recorded_at \
             FROM establishment_records r JOIN admin_units u ON u.code = r.admin_code WHERE 1 = 1",
        );
        if let Some(code) = unit {
            sql.push(" AND r.admin_code = ").text(code);
        }
        // A record of the country, or of a unit in the caller's scope.
        if let komlang_core::Scope::Unit { .. } = &p.scope {
            sql.push(" AND u.level <> 'country'");
        }
        push_area(&mut sql, &p.scope);
        sql.push(" ORDER BY r.admin_code, r.year");
        sql.query()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(EstablishmentRecord {
                    admin_code: r.try_get("admin_code")?,
                    year: r.try_get::<i64, _>("year")? as i32,
                    approved: r.try_get::<i64, _>("approved")? as u32,
                    filled: r.try_get::<Option<i64>, _>("filled")?.map(|v| v as u32),
                    source: r.try_get("source")?,
                    recorded_by: r.try_get("recorded_by")?,
                    recorded_at: r.try_get("recorded_at")?,
                })
            })
            .collect()
    }

    /// Records (or replaces) a unit's total for a year, audited.
    pub async fn record_establishment(&self, p: &Principal, input: &RecordInput) -> Result<EstablishmentRecord> {
        p.require(Action::KeepEstablishment, Target::Any)?;
        let mut errs = ValidationErrors::default();
        if !YEARS.contains(&input.year) {
            errs.push(FieldError::new("year", "invalid_year"));
        }
        if input.filled.is_some_and(|f| f > input.approved) {
            errs.push(FieldError::new("filled", "filled_over_approved"));
        }
        let source = komlang_core::clean_text(input.source.trim());
        if source.is_empty() {
            errs.push(FieldError::new("source", "required"));
        } else if source.chars().count() > SOURCE_MAX {
            errs.push(FieldError::new("source", "too_long").with("max", SOURCE_MAX));
        }
        let code = input.admin_code.trim();
        match self.admin_unit(code).await? {
            Some(u) if p.scope.contains(&u) => {}
            _ => errs.push(FieldError::new("admin_code", "unknown_admin_unit").with("value", code)),
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        let mut tx = self.begin_write().await?;
        lock_key(&mut tx, &format!("establishment-record-{code}-{}", input.year)).await?;
        let before = sqlx::query(
            "SELECT approved, filled, source FROM establishment_records WHERE admin_code = $1 AND year = $2",
        )
        .bind(code)
        .bind(i64::from(input.year))
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| -> Result<serde_json::Value> {
            Ok(serde_json::json!({
                "approved": r.try_get::<i64, _>("approved")?,
                "filled": r.try_get::<Option<i64>, _>("filled")?,
                "source": r.try_get::<String, _>("source")?,
            }))
        })
        .transpose()?;
        sqlx::query("DELETE FROM establishment_records WHERE admin_code = $1 AND year = $2")
            .bind(code)
            .bind(i64::from(input.year))
            .execute(&mut *tx)
            .await?;
        let now = now_text();
        sqlx::query(
            "INSERT INTO establishment_records (admin_code, year, approved, filled, source, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(code)
        .bind(i64::from(input.year))
        .bind(i64::from(input.approved))
        .bind(input.filled.map(i64::from))
        .bind(&source)
        .bind(&p.username)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let after = serde_json::json!({ "approved": input.approved, "filled": input.filled, "source": source });
        let id = format!("{code}/{}", input.year);
        record_audit(&mut tx, p, "record", "establishment", &id, before.as_ref(), Some(&after)).await?;
        tx.commit().await?;
        Ok(EstablishmentRecord {
            admin_code: code.to_string(),
            year: input.year,
            approved: input.approved,
            filled: input.filled,
            source,
            recorded_by: p.username.clone(),
            recorded_at: now,
        })
    }
}
