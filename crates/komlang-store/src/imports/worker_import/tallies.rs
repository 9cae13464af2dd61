//! SQLite: the workers' tallies (and the FHIR change feed's rows) of an import written per batch,
//! set-based, instead of by the row triggers of every new worker.
//!
//! The tallies of workers (migrations 0009, 0017, 0019) are kept by `AFTER INSERT` triggers: on
//! SQLite, which has no statement-level triggers, three upserts for each new worker, a fifth of
//! a big import's time; and the FHIR change feed (migration 0024) by a fourth insert. Inside its
//! transaction (which holds the write lock) an import takes those triggers off, adds each
//! batch's new workers with one set-based statement per table, right after writing them (before
//! any later row of the file can change them), and puts the triggers back, from their own text
//! as the database keeps it, before it commits. A failed or abandoned import rolls all of it
//! back, the triggers with it: the schema a reader sees never lacks them.
//! `tests/report_tallies.rs` compares the tallies with the records after an import, and
//! `tests/fhir_feed.rs` the feed.

use sqlx::AnyConnection;

use super::held::{take_off, Held};

use crate::Result;

/// The insert triggers an import takes over, and the grouped upsert that does each one's work
/// for the import's rows `$1` (import), `$2`..`$3` (rows of the file).
const TAKEN_OVER: [(&str, &str); 4] = [
    (
        "worker_tallies_insert",
        "INSERT INTO worker_tallies (workplace_code, cadre, sector, role, status, certified, n) \
         SELECT workplace_code, cadre, sector, role, status, certified, COUNT(*) FROM workers \
         WHERE import_id = $1 AND import_row >= $2 AND import_row <= $3 \
         GROUP BY workplace_code, cadre, sector, role, status, certified \
         ON CONFLICT (workplace_code, cadre, sector, role, status, certified) \
         DO UPDATE SET n = worker_tallies.n + excluded.n",
    ),
    (
        "staff_tallies_insert",
        "INSERT INTO staff_tallies (workplace_code, sector, cadre, status, funding, grade, step, supervised, n) \
         SELECT workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised, COUNT(*) \
         FROM workers WHERE import_id = $1 AND import_row >= $2 AND import_row <= $3 \
         GROUP BY workplace_code, sector, cadre, status, post_funding, rank_grade, rank_step, supervised \
         ON CONFLICT (workplace_code, sector, cadre, status, funding, grade, step, supervised) \
         DO UPDATE SET n = staff_tallies.n + excluded.n",
    ),
    (
        "history_tallies_insert",
        "INSERT INTO history_tallies (workplace_code, sector, cadre, status_latest, n) \
         SELECT workplace_code, sector, cadre, COALESCE(status_latest, ''), COUNT(*) FROM workers \
         WHERE import_id = $1 AND import_row >= $2 AND import_row <= $3 \
         GROUP BY workplace_code, sector, cadre, COALESCE(status_latest, '') \
         ON CONFLICT (workplace_code, sector, cadre, status_latest) \
         DO UPDATE SET n = history_tallies.n + excluded.n",
    ),
    // The FHIR registry's change feed (migration 0024): each new worker's Practitioner.
    (
        "fhir_workers_insert",
        "INSERT INTO fhir_changes (resource_type, resource_id, unit_code, org_id, worker_id, changed_at) \
         SELECT 'Practitioner', CAST(id AS TEXT), workplace_code, org_id, id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now') \
         FROM workers WHERE import_id = $1 AND import_row >= $2 AND import_row <= $3",
    ),
];

/// Takes the tallies' insert triggers off (in the import's transaction). A trigger the database
/// lacks is left to itself: its tally is then not written by the import either.
pub(super) async fn take_over(conn: &mut AnyConnection) -> Result<Held> {
    take_off(conn, "trigger", &TAKEN_OVER.map(|(name, _)| name)).await
}

/// Adds the import's rows `first..=last` to the tallies whose triggers were taken off.
pub(super) async fn tally(conn: &mut AnyConnection, held: &Held, import_id: i64, first: i64, last: i64) -> Result<()> {
    for (name, upsert) in TAKEN_OVER {
        if held.holds(name) {
            sqlx::query(upsert).bind(import_id).bind(first).bind(last).execute(&mut *conn).await?;
        }
    }
    Ok(())
}
