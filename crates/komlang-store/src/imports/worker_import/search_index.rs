//! SQLite: the trigram index's entries of a big import's new workers, written in the index's
//! order before it commits.
//!
//! The index (`workers_search`, schema 29) keys each entry by a rank in name order, and FTS5
//! writes out what it holds in memory each time an entry's rowid is lower than the last one's
//! (a million new workers in file order: about half a million small segments to merge, 192 ->
//! 240 s). So past the same number of rows as [`super::indexes`], a big import takes the index's
//! triggers off inside its transaction and writes the entries of its new workers in one pass in
//! rank order at the end, with what their rows hold then. The workers that were there before
//! keep their entries exact meanwhile: the update and delete triggers stay for them (their ids
//! are at most the highest id when the import took the triggers off; new workers' ids are
//! above it). The triggers are put back, from their own text, before the commit; a failed or
//! abandoned import rolls all of it back.

use sqlx::{AnyConnection, Row};

use super::held::{put_back, take_off, Held};
use crate::workers::{rank_sql, RANK_ID_MASK};
use crate::{Result, StoreError};

/// The index's triggers (migration 0029).
const TRIGGERS: [&str; 3] = ["workers_search_insert", "workers_search_update", "workers_search_delete"];

/// The index's triggers, taken off while an import writes, and the highest worker id then.
pub(super) struct Deferred {
    held: Held,
    since: i64,
}

/// Takes the triggers off and keeps, for the workers already there, an update and a delete
/// trigger of their own.
pub(super) async fn take_off_triggers(conn: &mut AnyConnection) -> Result<Deferred> {
    let since: i64 = sqlx::query("SELECT COALESCE(MAX(id), 0) FROM workers").fetch_one(&mut *conn).await?.try_get(0)?;
    let held = take_off(conn, "trigger", &TRIGGERS).await?;
    if !TRIGGERS.iter().all(|t| held.holds(t)) {
        // A schema without them (older than 29): nothing to keep exact.
        return Ok(Deferred { held, since });
    }
    let (old, new) = (rank_sql("old.search_key", "old.id"), rank_sql("new.search_key", "new.id"));
    let delete_old = format!(
        "INSERT INTO workers_search (workers_search, rowid, search_key) SELECT 'delete', {old}, old.search_key \
         WHERE old.search_key IS NOT NULL;"
    );
    let insert_new = format!(
        "INSERT INTO workers_search (rowid, search_key) SELECT {new}, new.search_key WHERE new.search_key IS NOT NULL;"
    );
    sqlx::query(&format!(
        "CREATE TRIGGER import_search_update AFTER UPDATE OF search_key ON workers WHEN old.id <= {since} \
         BEGIN {delete_old} {insert_new} END"
    ))
    .execute(&mut *conn)
    .await?;
    sqlx::query(&format!(
        "CREATE TRIGGER import_search_delete AFTER DELETE ON workers WHEN old.id <= {since} BEGIN {delete_old} END"
    ))
    .execute(&mut *conn)
    .await?;
    Ok(Deferred { held, since })
}

/// Puts the triggers back and writes the entries of the workers added since they were taken
/// off, in rank order.
pub(super) async fn write_entries(conn: &mut AnyConnection, d: Deferred) -> Result<()> {
    if !TRIGGERS.iter().all(|t| d.held.holds(t)) {
        return put_back(conn, d.held).await;
    }
    sqlx::query("DROP TRIGGER import_search_update").execute(&mut *conn).await?;
    sqlx::query("DROP TRIGGER import_search_delete").execute(&mut *conn).await?;
    put_back(conn, d.held).await?;
    let highest: i64 =
        sqlx::query("SELECT COALESCE(MAX(id), 0) FROM workers").fetch_one(&mut *conn).await?.try_get(0)?;
    if highest > RANK_ID_MASK {
        return Err(StoreError::Corrupt(format!(
            "worker id {highest} beyond the search index's range ({RANK_ID_MASK})"
        )));
    }
    let rank = rank_sql("search_key", "id");
    sqlx::query(&format!(
        "INSERT INTO workers_search (rowid, search_key) SELECT {rank} AS r, search_key FROM workers \
         WHERE id > $1 AND search_key IS NOT NULL ORDER BY r"
    ))
    .bind(d.since)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
