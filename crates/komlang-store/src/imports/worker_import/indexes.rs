//! SQLite: the indexes a big import would write at random places, taken off while it writes and
//! built again, each in one sorted pass, before it commits.
//!
//! Past a few hundred thousand workers the indexes of names, places and dates no longer fit the
//! import's page cache: each new worker then reads and writes back a page of each of them, at
//! random (a million rows into an empty registry: 210 of the 362 s the import spent writing
//! workers, BENCHMARKS.md "Import of workers"). Inside its transaction, which holds the write
//! lock (readers go on reading the last committed state, indexes included, from the WAL), a big
//! import drops the indexes no statement of the import reads — its look-ups go through the
//! duplicate keys, the national ID and the import's own rows, which stay — and creates them again
//! from their own text, as the database keeps it, before it commits. A failed or abandoned import
//! rolls all of it back: the schema a reader sees never lacks them.
//!
//! Only a big import does it ([`defer_after`]): building an index sorts every worker of the
//! registry, which costs more than a few new rows' entries.

use sqlx::{AnyConnection, Row};

use super::held::{put_back, take_off, Held};
use crate::Result;

/// The indexes of the tables an import writes that none of its statements reads (each written
/// at random places by new rows: names, places, dates). `tests/import_copy.rs` checks that
/// an import which took them off leaves every one as it was, and each holding its table's rows.
pub const DEFERRED: [&str; 10] = [
    "workers_workplace",
    "workers_org",
    "workers_name_latin",
    "workers_search_key",
    "workers_search_km",
    "workers_status_latest_on",
    "workers_supervision_due",
    "workers_supervisors",
    "workers_appraisal",
    "status_changes_effective",
];

/// Rows an import writes before it may take the indexes off, whatever the registry's size.
pub const DEFER_INDEXES_AFTER: u64 = 50_000;

/// The number of valid rows after which an import into this registry takes its indexes off:
/// `least` ([`DEFER_INDEXES_AFTER`] unless a test says otherwise), or a quarter of the workers
/// already there when more (the registry's highest id: no count of every row).
pub(super) async fn defer_after(conn: &mut AnyConnection, least: u64) -> Result<u64> {
    let highest: i64 =
        sqlx::query("SELECT COALESCE(MAX(id), 0) FROM workers").fetch_one(&mut *conn).await?.try_get(0)?;
    Ok(least.max(highest.max(0) as u64 / 4))
}

/// Takes the [`DEFERRED`] indexes off.
pub(super) async fn take_off_indexes(conn: &mut AnyConnection) -> Result<Held> {
    take_off(conn, "index", &DEFERRED).await
}

/// Builds the indexes again. Their sorts go to temporary files, not memory (the import's
/// connection keeps temporary data in memory otherwise), in runs as big as the page cache, a
/// quarter of the import's by then: the import's memory stays within its bound however many
/// workers there are.
pub(super) async fn build_again(conn: &mut AnyConnection, held: Held) -> Result<()> {
    // Refused when the connection has opened its temporary database in this transaction
    // (none of the import's statements does): the sorts then stay in memory.
    if let Err(e) = sqlx::query("PRAGMA temp_store = FILE").execute(&mut *conn).await {
        tracing::warn!("the import's indexes are sorted in memory: {e}");
    }
    sqlx::query(&format!("PRAGMA cache_size = -{}", super::SQLITE_IMPORT_CACHE_KIB / 4)).execute(&mut *conn).await?;
    put_back(conn, held).await?;
    Ok(())
}
