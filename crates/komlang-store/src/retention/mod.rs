//! Retention: why workers leave (reasons kept as data, one given for a separation), turnover in
//! a year by sector, cadre or province with the time leavers had stayed, how many of each year's
//! starters are still in post after one, two, three and five years, and the end of the CCWC
//! members' elected term. The arithmetic is `komlang_core::retention`.

mod demo;

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use komlang_core::retention::{still_in_post, tenure_years, turnover_rate};
use komlang_core::{Action, FieldError, Principal, Target, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use crate::common::audit::record_audit;
use crate::common::rows;
use crate::common::rows::opt_date;
use crate::common::scope::{push_area, push_worker_scope};
use crate::common::sql::{lock_beside, lock_key, Sql};
use crate::common::store::invalid;
use crate::{now_text, Result, Store, StoreError};

/// Statuses that end a worker's time in post.
const SEPARATED: &str = "('left', 'retired', 'deceased', 'transferred')";

/// A reason for leaving.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ExitReason {
    pub code: String,
    pub name_en: String,
    #[serde(default)]
    pub name_km: String,
    /// Shipped with Komlang.
    #[serde(default)]
    pub builtin: bool,
}

/// How turnover is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    Sector,
    Cadre,
    Province,
}

impl Grouping {
    pub const ALL: [Grouping; 3] = [Grouping::Sector, Grouping::Cadre, Grouping::Province];

    pub fn code(self) -> &'static str {
        match self {
            Grouping::Sector => "sector",
            Grouping::Cadre => "cadre",
            Grouping::Province => "province",
        }
    }

    pub fn parse(s: &str) -> Option<Grouping> {
        Grouping::ALL.into_iter().find(|g| g.code() == s.trim())
    }

    fn column(self) -> &'static str {
        match self {
            Grouping::Sector => "w.sector",
            Grouping::Cadre => "w.cadre",
            Grouping::Province => "u.province_code",
        }
    }
}

/// One group's turnover in a year.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TurnoverRow {
    /// The sector, cadre or province code.
    pub key: String,
    /// Workers in post on the year's first day.
    pub start: u32,
    /// Workers in post on its last day (the current year: today).
    pub end: u32,
    /// Workers who left in the year.
    pub leavers: u32,
    /// Leavers per 100 of the average headcount.
    pub rate: Option<f64>,
    /// The years leavers had stayed, on average.
    pub average_tenure: Option<f64>,
}

/// Turnover in a year.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Turnover {
    pub year: i32,
    pub by: Grouping,
    pub rows: Vec<TurnoverRow>,
    pub total: TurnoverRow,
    /// Leavers by reason (`none`: not given).
    pub reasons: Vec<(String, u32)>,
}

/// The workers who started in a year, and the share still in post after 1, 2, 3 and 5 years.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Cohort {
    pub start_year: i32,
    pub started: u32,
    /// Percent still in post after 1, 2, 3 and 5 years (absent: not that long ago yet).
    pub after: Vec<(u32, Option<f64>)>,
}

/// The CCWC members' elected term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CcwcTerm {
    /// The day the current term ends (absent: not set).
    pub term_end: Option<String>,
    /// CCWC members and focal points in post in the caller's reach, whose term ends then.
    pub members: u32,
}

const AFTER: [u32; 4] = [1, 2, 3, 5];

impl Store {
    /// The reasons for leaving.
    pub async fn exit_reasons(&self) -> Result<Vec<ExitReason>> {
        sqlx::query("SELECT code, name_en, name_km, builtin FROM exit_reasons ORDER BY builtin DESC, code")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(ExitReason {
                    code: r.try_get("code")?,
                    name_en: r.try_get("name_en")?,
                    name_km: r.try_get("name_km")?,
                    builtin: r.try_get::<i64, _>("builtin")? != 0,
                })
            })
            .collect()
    }

    /// Adds a reason for leaving (national administrators), audited.
    pub async fn add_exit_reason(&self, p: &Principal, r: &ExitReason) -> Result<ExitReason> {
        p.require(Action::KeepNorms, Target::Any)?;
        let code = r.code.trim();
        let mut errs = ValidationErrors::default();
        if code.is_empty() || code.len() > 40 || !code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            errs.push(FieldError::new("code", "code_format"));
        }
        if r.name_en.trim().is_empty() {
            errs.push(FieldError::new("name_en", "required"));
        }
        for (f, v) in [("name_en", &r.name_en), ("name_km", &r.name_km)] {
            if v.chars().count() > 200 {
                errs.push(FieldError::new(f, "too_long").with("max", 200));
            }
        }
        if !errs.is_empty() {
            return Err(StoreError::Invalid(errs));
        }
        if self.exit_reasons().await?.iter().any(|x| x.code == code) {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("code", "duplicate_code").with("value", code),
            )));
        }
        let out = ExitReason {
            code: code.into(),
            name_en: komlang_core::clean_text(r.name_en.trim()),
            name_km: komlang_core::clean_text(r.name_km.trim()),
            builtin: false,
        };
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO exit_reasons (code, name_en, name_km, builtin) VALUES ($1, $2, $3, 0)")
            .bind(&out.code)
            .bind(&out.name_en)
            .bind(&out.name_km)
            .execute(&mut *tx)
            .await
            .map_err(|_| invalid("code", "duplicate_code"))?;
        record_audit(&mut tx, p, "create", "exit_reason", &out.code, None, Some(&out)).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Gives the reason for a worker's latest separation (`not_separated` when they have none).
    pub async fn set_exit_reason(&self, p: &Principal, worker_id: i64, reason: &str) -> Result<()> {
        p.require(Action::EditWorker, Target::worker(worker_id))?;
        if self.get_worker(p, worker_id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        if !self.exit_reasons().await?.iter().any(|x| x.code == reason.trim()) {
            return Err(StoreError::Invalid(ValidationErrors::single(
                FieldError::new("reason", "invalid_choice").with("value", reason.trim()),
            )));
        }
        let mut tx = self.begin_write().await?;
        lock_beside(&mut tx, "workers", worker_id).await?;
        let Some(row) = sqlx::query(&format!(
            "SELECT id, reason FROM status_changes WHERE worker_id = $1 AND status IN {SEPARATED} \
             ORDER BY effective_date DESC, id DESC LIMIT 1"
        ))
        .bind(worker_id)
        .fetch_optional(&mut *tx)
        .await?
        else {
            sqlx::query("ROLLBACK").execute(&mut *tx).await.ok();
            return Err(invalid("reason", "not_separated"));
        };
        let id: i64 = row.try_get("id")?;
        let before: Option<String> = row.try_get("reason")?;
        sqlx::query("UPDATE status_changes SET reason = $1 WHERE id = $2")
            .bind(reason.trim())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        record_audit(
            &mut tx,
            p,
            "update",
            "exit_reason_given",
            &worker_id.to_string(),
            Some(&serde_json::json!({ "reason": before })),
            Some(&serde_json::json!({ "reason": reason.trim() })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The reason given for a worker's latest separation (None: none given, or not separated).
    /// For a worker the caller has already been shown.
    pub async fn latest_exit_reason(&self, worker_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query(&format!(
            "SELECT reason FROM status_changes WHERE worker_id = $1 AND status IN {SEPARATED} \
             ORDER BY effective_date DESC, id DESC LIMIT 1"
        ))
        .bind(worker_id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| r.try_get::<Option<String>, _>(0))
        .transpose()?
        .flatten())
    }

    /// Headcounts by group on two days: workers in the caller's reach whose latest status change
    /// from that day or before leaves them in post. Where the area alone bounds the caller's
    /// reach: the workers tallied in post by their latest change (migration 0019), corrected for
    /// those whose latest change came after the day (read one by one, as they were that day);
    /// otherwise in one read of the workers.
    async fn headcounts(
        &self,
        p: &Principal,
        by: Grouping,
        days: [NaiveDate; 2],
    ) -> Result<BTreeMap<String, (u32, u32)>> {
        let col = by.column();
        // 1 when the status (an SQL expression) is in post, else 0.
        let in_post = |status: &str| format!("(CASE WHEN {status} IN ('active', 'on_leave') THEN 1 ELSE 0 END)");
        // The status of `w` on a day.
        let on_day = |sql: &mut Sql, day: &NaiveDate| {
            sql.push("(SELECT sc.status FROM status_changes sc WHERE sc.worker_id = w.id AND sc.effective_date <= ");
            sql.text(day.to_string());
            sql.push(" ORDER BY sc.effective_date DESC, sc.id DESC LIMIT 1)");
        };
        let mut counts: BTreeMap<String, [i64; 2]> = BTreeMap::new();
        let sql = match crate::workers::tally_area(p) {
            Some(area) => {
                let tallied = match by {
                    Grouping::Sector => "t.sector",
                    Grouping::Cadre => "t.cadre",
                    Grouping::Province => "u.province_code",
                };
                let mut sql = Sql::new(&format!(
                    "SELECT {tallied} AS k, CAST(SUM(t.n) AS BIGINT) AS n FROM history_tallies t \
                     JOIN admin_units u ON u.code = t.workplace_code WHERE t.status_latest IN ('active', 'on_leave')"
                ));
                push_area(&mut sql, &area);
                sql.push(&format!(" GROUP BY {tallied}"));
                for r in sql.query().fetch_all(&self.pool).await? {
                    let n: i64 = r.try_get("n")?;
                    counts.insert(r.try_get::<Option<String>, _>("k")?.unwrap_or_default(), [n, n]);
                }
                // Those whose latest change came after a day: as they were that day instead.
                let mut sql = Sql::new("SELECT x.k");
                for (i, day) in days.iter().enumerate() {
                    sql.push(", CAST(SUM(CASE WHEN x.latest_on > ").text(day.to_string());
                    sql.push(&format!(
                        " THEN {} - {} ELSE 0 END) AS BIGINT) AS n{i}",
                        in_post(&format!("x.s{i}")),
                        in_post("x.latest")
                    ));
                }
                sql.push(&format!(
                    " FROM (SELECT {col} AS k, w.status_latest AS latest, w.status_latest_on AS latest_on"
                ));
                for (i, day) in days.iter().enumerate() {
                    sql.push(", ");
                    on_day(&mut sql, day);
                    sql.push(&format!(" AS s{i}"));
                }
                sql.push(" FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE w.status_latest_on > ");
                sql.text(days.iter().min().copied().unwrap_or_default().to_string());
                push_area(&mut sql, &area);
                sql.push(") x GROUP BY x.k");
                sql
            }
            None => {
                let mut sql = Sql::new(&format!("SELECT {col} AS k"));
                for (i, day) in days.iter().enumerate() {
                    sql.push(", CAST(SUM(CASE WHEN ");
                    on_day(&mut sql, day);
                    sql.push(&format!(" IN ('active', 'on_leave') THEN 1 ELSE 0 END) AS BIGINT) AS n{i}"));
                }
                sql.push(" FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1");
                push_worker_scope(&mut sql, &p.worker_scope());
                sql.push(&format!(" GROUP BY {col}"));
                sql
            }
        };
        for r in sql.query().fetch_all(&self.pool).await? {
            let e = counts.entry(r.try_get::<Option<String>, _>("k")?.unwrap_or_default()).or_default();
            for (i, n) in e.iter_mut().enumerate() {
                *n += r.try_get::<Option<i64>, _>(format!("n{i}").as_str())?.unwrap_or(0);
            }
        }
        Ok(counts.into_iter().map(|(k, [a, b])| (k, (rows::count(a), rows::count(b)))).collect())
    }

    /// Turnover in `year` by sector, cadre or province (workers as they are recorded now).
    pub async fn turnover(&self, p: &Principal, year: i32, by: Grouping, today: NaiveDate) -> Result<Turnover> {
        p.require(Action::ReadPlanning, Target::Any)?;
        if !(1900..=2100).contains(&year) {
            return Err(invalid("year", "invalid_year"));
        }
        let first = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today);
        let last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today).min(today);
        // Groups with nobody in post on either day are left out (unless someone left).
        let mut counts = self.headcounts(p, by, [first, last]).await?;
        counts.retain(|_, c| *c != (0, 0));
        // Each worker's first separation in the year.
        let col = by.column();
        let mut sql = Sql::new(&format!(
            "SELECT sc.worker_id, {col} AS k, w.start_date, MIN(sc.effective_date) AS left_on, MAX(sc.reason) AS reason \
             FROM status_changes sc JOIN workers w ON w.id = sc.worker_id JOIN admin_units u ON u.code = w.workplace_code \
             WHERE sc.status IN {SEPARATED} AND sc.effective_date >= "
        ));
        sql.text(first.to_string()).push(" AND sc.effective_date <= ").text(last.to_string());
        push_worker_scope(&mut sql, &p.worker_scope());
        sql.push(&format!(" GROUP BY sc.worker_id, {col}, w.start_date"));
        let mut leavers: BTreeMap<String, (u32, f64, u32)> = BTreeMap::new();
        let mut reasons: BTreeMap<String, u32> = BTreeMap::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            let k: String = r.try_get::<Option<String>, _>("k")?.unwrap_or_default();
            let e = leavers.entry(k).or_default();
            e.0 += 1;
            if let (Some(s), Some(l)) = (opt_date(&r, "start_date")?, opt_date(&r, "left_on")?) {
                e.1 += tenure_years(s, l);
                e.2 += 1;
            }
            *reasons.entry(r.try_get::<Option<String>, _>("reason")?.unwrap_or_else(|| "none".into())).or_default() +=
                1;
        }
        let keys: std::collections::BTreeSet<&String> = counts.keys().chain(leavers.keys()).collect();
        let row = |key: String, s: u32, e: u32, l: (u32, f64, u32)| TurnoverRow {
            key,
            start: s,
            end: e,
            leavers: l.0,
            rate: turnover_rate(l.0, s, e),
            average_tenure: (l.2 > 0).then(|| (l.1 / f64::from(l.2) * 10.0).round() / 10.0),
        };
        let rows: Vec<TurnoverRow> = keys
            .into_iter()
            .map(|k| {
                row(
                    k.clone(),
                    counts.get(k).map_or(0, |c| c.0),
                    counts.get(k).map_or(0, |c| c.1),
                    leavers.get(k).copied().unwrap_or_default(),
                )
            })
            .collect();
        let sum = leavers.values().fold((0, 0.0, 0), |a, l| (a.0 + l.0, a.1 + l.1, a.2 + l.2));
        let total = row("all".into(), counts.values().map(|c| c.0).sum(), counts.values().map(|c| c.1).sum(), sum);
        Ok(Turnover { year, by, rows, total, reasons: reasons.into_iter().collect() })
    }

    /// The workers in reach who started in each of the last ten years, and the share of them
    /// still in post after 1, 2, 3 and 5 years.
    pub async fn survival(&self, p: &Principal, today: NaiveDate) -> Result<Vec<Cohort>> {
        p.require(Action::ReadPlanning, Target::Any)?;
        let from = NaiveDate::from_ymd_opt(today.year() - 9, 1, 1).unwrap_or(today);
        // Starters grouped by their start and the day they first left: one row per pair, not per worker.
        let mut sql = Sql::new(&format!(
            "SELECT w.start_date, s.left_on, COUNT(*) AS n FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
             LEFT JOIN (SELECT sc.worker_id, MIN(sc.effective_date) AS left_on FROM status_changes sc \
             WHERE sc.status IN {SEPARATED} GROUP BY sc.worker_id) s ON s.worker_id = w.id WHERE w.start_date >= "
        ));
        sql.text(from.to_string()).push(" AND w.start_date <= ").text(today.to_string());
        push_worker_scope(&mut sql, &p.worker_scope());
        sql.push(" GROUP BY w.start_date, s.left_on");
        let mut cohorts: BTreeMap<i32, Vec<(NaiveDate, Option<NaiveDate>, u32)>> = BTreeMap::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            if let Some(s) = opt_date(&r, "start_date")? {
                let n = r.try_get::<i64, _>("n")? as u32;
                cohorts.entry(s.year()).or_default().push((s, opt_date(&r, "left_on")?, n));
            }
        }
        Ok(cohorts
            .into_iter()
            .rev()
            .map(|(y, c)| Cohort {
                start_year: y,
                started: c.iter().map(|x| x.2).sum(),
                after: AFTER.iter().map(|k| (*k, still_in_post(&c, *k, today))).collect(),
            })
            .collect())
    }

    /// The CCWC members' term: its end, and the members in post in reach.
    pub async fn ccwc_term(&self, p: &Principal) -> Result<CcwcTerm> {
        p.require(Action::ReadPlanning, Target::Any)?;
        let term_end: Option<String> = sqlx::query("SELECT ccwc_term_end FROM retention_settings WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .flatten();
        let mut sql = Sql::new(
            "SELECT COUNT(*) AS n FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
             WHERE w.role IN ('ccwc_member', 'ccwc_focal_point') AND w.status IN ('active', 'on_leave')",
        );
        push_worker_scope(&mut sql, &p.worker_scope());
        let members = sql.query().fetch_one(&self.pool).await?.try_get::<i64, _>("n")? as u32;
        Ok(CcwcTerm { term_end, members })
    }

    /// Sets the end of the CCWC members' elected term (national administrators), audited.
    pub async fn set_ccwc_term_end(&self, p: &Principal, end: Option<NaiveDate>) -> Result<()> {
        p.require(Action::KeepNorms, Target::Any)?;
        let mut tx = self.begin_write().await?;
        lock_key(&mut tx, "ccwc-term").await?;
        let before: Option<String> = sqlx::query("SELECT ccwc_term_end FROM retention_settings WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
        sqlx::query("UPDATE retention_settings SET ccwc_term_end = $1, updated_by = $2, updated_at = $3 WHERE id = 1")
            .bind(end.map(|d| d.to_string()))
            .bind(&p.username)
            .bind(now_text())
            .execute(&mut *tx)
            .await?;
        record_audit(
            &mut tx,
            p,
            "update",
            "ccwc_term",
            "1",
            Some(&serde_json::json!({ "term_end": before })),
            Some(&serde_json::json!({ "term_end": end })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
