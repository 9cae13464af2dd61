//! Worker tallies: how many workers there are per workplace unit and per (cadre, sector, role,
//! status, certified), kept by the database's triggers on `workers` in the same transaction as every
//! change (migration 0009). The home page's counts and planning's coverage sum them instead of
//! counting every worker: the cost is the number of groups (units × kinds of worker), not the
//! number of workers.
//!
//! A group's count is the sum of its rows' `n`. On SQLite the triggers keep one row per group;
//! on PostgreSQL they append one delta row per group a statement touched (no writer updates a
//! shared row, so writers neither wait for each other nor deadlock on the tallies), and
//! [`Store::compact_worker_tallies`] merges the rows now and then.

use komlang_core::access::WorkerScope;
use komlang_core::{Action, Principal, Scope};
use sqlx::Row;

use crate::common::scope::push_area;
use crate::common::sql::Sql;
use crate::{Engine, Result, Store};

/// The tally tables and the columns of their groups.
const TALLY_TABLES: [(&str, &str); 5] = [
    ("worker_tallies", "workplace_code, cadre, sector, role, status, certified"),
    ("staff_tallies", "workplace_code, sector, cadre, status, funding, grade, step, supervised"),
    ("post_tallies", "admin_code, cadre, funding, approved_year, ended_year"),
    ("post_fill_tallies", "admin_code, cadre, funding, approved_year, ended_year, year"),
    ("history_tallies", "workplace_code, sector, cadre, status_latest"),
];

/// The columns a tally groups by (besides the workplace).
pub(crate) const TALLY_COLUMNS: [&str; 4] = ["cadre", "sector", "role", "status"];

/// The area whose workers `p` reads, when the tallies can answer for it: a geographic scope
/// without an organization filter. An organization's HR manager (its staff, found through
/// `workers_org`) and a worker (their own record) are counted from the records.
pub(crate) fn tally_area(p: &Principal) -> Option<Scope> {
    if !p.may(Action::ReadWorkers) {
        return None;
    }
    match p.worker_scope() {
        WorkerScope::Area { scope, org_id: None } => Some(scope),
        _ => None,
    }
}

/// Rows merged by the last compaction, and rows there are now, as
/// [`Store::compact_worker_tallies`] reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TallyCompaction {
    pub rows_before: i64,
    pub rows_after: i64,
}

impl Store {
    /// Counts of workers in `area` grouped by one tallied column (`cadre`, `sector`, `role`,
    /// `status`), from the tallies; groups with no worker left out.
    pub(crate) async fn tallied_counts(&self, area: &Scope, column: &str) -> Result<Vec<(String, i64)>> {
        Ok(self.tallied_counts_each(area, &[column]).await?.pop().unwrap_or_default())
    }

    /// Counts by each of several columns at once (`tallied_counts` of each), from one
    /// read of the area's tallies grouped by all of them, folded here.
    pub(crate) async fn tallied_counts_each(&self, area: &Scope, columns: &[&str]) -> Result<Vec<Vec<(String, i64)>>> {
        let mut cols = Vec::with_capacity(columns.len());
        for column in columns {
            let Some(col) = TALLY_COLUMNS.iter().find(|c| *c == column) else {
                return Err(crate::StoreError::Corrupt(format!("no tally by {column}")));
            };
            cols.push(format!("t.{col}"));
        }
        if cols.is_empty() {
            return Ok(Vec::new());
        }
        let join = units_join(area);
        let list = cols.join(", ");
        let mut sql =
            Sql::new(&format!("SELECT {list}, CAST(SUM(t.n) AS BIGINT) AS n FROM worker_tallies t{join} WHERE 1 = 1"));
        push_area(&mut sql, area);
        sql.push(&format!(" GROUP BY {list}"));
        let mut sums = vec![std::collections::BTreeMap::<String, i64>::new(); cols.len()];
        for r in sql.query().fetch_all(&self.pool).await? {
            let n: i64 = r.try_get("n")?;
            for (i, sum) in sums.iter_mut().enumerate() {
                *sum.entry(r.try_get::<String, _>(i)?).or_default() += n;
            }
        }
        Ok(sums.into_iter().map(|m| m.into_iter().filter(|(_, n)| *n != 0).collect()).collect())
    }

    /// Workers in post (active or on leave) in `area` holding a valid certificate (the
    /// `certified` flag the triggers on `certificates` keep on each worker), from the tallies.
    pub(crate) async fn tallied_certified(&self, area: &Scope) -> Result<i64> {
        let join = units_join(area);
        let mut sql = Sql::new(&format!(
            "SELECT CAST(COALESCE(SUM(t.n), 0) AS BIGINT) FROM worker_tallies t{join} \
             WHERE t.certified = 1 AND t.status IN ('active', 'on_leave')"
        ));
        push_area(&mut sql, area);
        Ok(sql.query().fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// Rows of the worker tallies (what a reader of the whole country sums for the home page).
    pub async fn worker_tally_rows(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM worker_tallies").fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// Rows of every tally table (what [`Store::compact_worker_tallies`] merges).
    pub async fn tally_rows(&self) -> Result<i64> {
        let mut rows = 0;
        for (table, _) in TALLY_TABLES {
            rows += sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
                .fetch_one(&self.pool)
                .await?
                .try_get::<i64, _>(0)?;
        }
        Ok(rows)
    }

    /// Merges the rows of the tally tables (`worker_tallies`, and the report's `staff_tallies`
    /// of migration 0017) into one row per group (and drops the groups that are down to
    /// zero). On PostgreSQL one statement a table deletes every row it sees and inserts their
    /// sums, so that a reader sees either the rows before or the rows after, which sum the same;
    /// deltas written meanwhile by other transactions are not visible to it and stay. One
    /// compaction at a time (an advisory lock; another caller returns at once). Called after an
    /// import, after a restore and by the server now and then; never needed for correctness.
    pub async fn compact_worker_tallies(&self) -> Result<TallyCompaction> {
        let mut total = TallyCompaction::default();
        for (table, cols) in TALLY_TABLES {
            let c = self.compact_tally_table(table, cols).await?;
            total.rows_before += c.rows_before;
            total.rows_after += c.rows_after;
        }
        Ok(total)
    }

    async fn compact_tally_table(&self, table: &str, cols: &str) -> Result<TallyCompaction> {
        let count = format!("SELECT COUNT(*) FROM {table}");
        if self.engine == Engine::Sqlite {
            // One row per group already; one statement (a transaction that read first could
            // not take the write lock while another writer holds it).
            let rows_before: i64 = sqlx::query(&count).fetch_one(&self.pool).await?.try_get(0)?;
            sqlx::query(&format!("DELETE FROM {table} WHERE n = 0")).execute(&self.pool).await?;
            let rows_after: i64 = sqlx::query(&count).fetch_one(&self.pool).await?.try_get(0)?;
            return Ok(TallyCompaction { rows_before, rows_after });
        }
        let mut tx = self.begin_write().await?;
        // The key of the compaction lock (the bootstrap lock's, plus one).
        let got: bool =
            sqlx::query("SELECT pg_try_advisory_xact_lock(4807315327)").fetch_one(&mut *tx).await?.try_get(0)?;
        let rows_before: i64 = sqlx::query(&count).fetch_one(&mut *tx).await?.try_get(0)?;
        if !got {
            return Ok(TallyCompaction { rows_before, rows_after: rows_before });
        }
        // Only the groups with more than one row (or down to zero): a merge costs what was
        // written since the last one, not the whole table.
        sqlx::query(&format!(
            "WITH merged AS (DELETE FROM {table} WHERE ({cols}) IN \
             (SELECT {cols} FROM {table} GROUP BY {cols} HAVING COUNT(*) > 1 OR SUM(n) = 0) \
             RETURNING {cols}, n) \
             INSERT INTO {table} ({cols}, n) SELECT {cols}, SUM(n) FROM merged \
             GROUP BY {cols} HAVING SUM(n) <> 0"
        ))
        .execute(&mut *tx)
        .await?;
        let rows_after: i64 = sqlx::query(&count).fetch_one(&mut *tx).await?.try_get(0)?;
        tx.commit().await?;
        if rows_before - rows_after > 10_000 {
            self.shrink_tally_table(table, cols).await?;
        }
        Ok(TallyCompaction { rows_before, rows_after })
    }

    /// After a big merge on PostgreSQL (after an import, a million delta rows into a few
    /// thousand), the table's file keeps the pages of the rows merged away, which every scan
    /// of the tallies would still read: VACUUM frees them, the live rows are moved once into
    /// that free space at the front (same sums, one statement), and a second VACUUM cuts the
    /// now empty end of the file. VACUUM stops no reader or writer (it gives up the cut if it
    /// cannot take its brief lock at once). Best effort: a snapshot older than the merge (a long
    /// transaction elsewhere in the database) keeps the rows from being freed, and autovacuum
    /// cuts the file later.
    async fn shrink_tally_table(&self, table: &str, cols: &str) -> Result<()> {
        sqlx::query(&format!("VACUUM {table}")).execute(&self.pool).await?;
        let mut tx = self.begin_write().await?;
        let got: bool =
            sqlx::query("SELECT pg_try_advisory_xact_lock(4807315327)").fetch_one(&mut *tx).await?.try_get(0)?;
        if got {
            sqlx::query(&format!(
                "WITH moved AS (DELETE FROM {table} RETURNING {cols}, n) \
                 INSERT INTO {table} ({cols}, n) SELECT {cols}, n FROM moved"
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        // INDEX_CLEANUP ON: else VACUUM may leave the moved rows' dead line pointers (it skips
        // the index when few pages hold any), and pages holding them cannot be cut.
        sqlx::query(&format!("VACUUM (INDEX_CLEANUP ON, ANALYZE) {table}")).execute(&self.pool).await?;
        Ok(())
    }
}

/// The join of the tallies (`t`) to their admin units (`u`), needed only for an area smaller
/// than the country.
fn units_join(area: &Scope) -> &'static str {
    if matches!(area, Scope::Unit { .. }) {
        " JOIN admin_units u ON u.code = t.workplace_code"
    } else {
        ""
    }
}
