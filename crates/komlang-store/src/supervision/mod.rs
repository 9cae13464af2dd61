//! Supervision (seed 004): a worker supervises workers, inside or across organizations, with
//! the history of who supervised whom; supervision sessions with their model, functions and
//! notes (private to the supervisor, the supervisees and those who manage them); the norms kept
//! as data (ratios, experience and qualification to supervise, how long a supervisee may go
//! without a session); who has no supervisor, who is overdue, supervisors over the ratio or not
//! eligible, as lists and as figures by unit.
//!
//! What the norms decide is `komlang_core::supervision`.

mod assignments;
mod demo;
mod norms;
mod sessions;
mod summary;

pub use assignments::{Assignment, WorkerSupervision};
pub use sessions::{Session, SessionInput, NOTES_MAX, SESSION_SUPERVISEES_MAX};
pub use summary::{ListKind, ListRow, SummaryQuery, SummaryRow};

use komlang_core::Principal;
use sqlx::AnyConnection;

pub(crate) use crate::common::scope::worker_in_reach as in_reach;
use crate::Result;

/// Hides the names and place of the workers outside the caller's reach (a supervisor across
/// districts or organizations, a supervisee elsewhere): the brief keeps its cadre, role and
/// sector, its id becomes 0 and its names and workplace empty.
pub(crate) async fn redact(
    conn: &mut AnyConnection,
    p: &Principal,
    briefs: Vec<&mut crate::workers::WorkerBrief>,
) -> Result<()> {
    let mut known: std::collections::HashMap<i64, bool> = std::collections::HashMap::new();
    for b in briefs {
        let seen = match known.get(&b.id) {
            Some(v) => *v,
            None => {
                let v = in_reach(&mut *conn, p, b.id).await?;
                known.insert(b.id, v);
                v
            }
        };
        if !seen {
            b.id = 0;
            b.name_km.clear();
            b.name_latin.clear();
            b.workplace_code.clear();
        }
    }
    Ok(())
}
