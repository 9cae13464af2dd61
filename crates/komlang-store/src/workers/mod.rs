//! The worker registry: workers with their postings and status history, the brief record other
//! features show of a worker, and the duplicate-detection keys kept for every worker.

mod brief;
mod dedup_keys;
mod profile;
mod registry;
mod search;
mod search_keys;
mod search_rank;
mod tallies;

pub use brief::WorkerBrief;
pub(crate) use brief::{brief_from_row, BRIEF_COLS};
pub use dedup_keys::DEDUP_KEYS_FINGERPRINT_KEY;
pub(crate) use dedup_keys::{dedup_person, insert_dedup_keys, keys_for, stored_keys};
pub use profile::WorkerProfile;
pub(crate) use registry::{
    draft_args, insert_posting, insert_status, insert_worker, worker_from_row, worker_in, write_worker_update,
    DRAFT_COLUMNS, WORKER_COLS,
};
pub use registry::{WorkerChange, WorkerQuery, WorkerRow};
pub use search::{COUNT_LIMIT, SEARCH_WINDOWS};
pub use search_keys::SEARCH_KEY_VERSION_KEY;
pub use search_rank::rank_sql as search_rank_sql;
pub(crate) use search_rank::{rank_sql, RANK_ID_MASK};
pub(crate) use tallies::tally_area;
pub use tallies::TallyCompaction;
