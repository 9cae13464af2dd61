//! The worker registry: workers with their postings and status history, the brief record other
//! features show of a worker, and the duplicate-detection keys kept for every worker.

mod brief;
mod dedup_keys;
mod profile;
mod registry;
mod tallies;

pub use brief::WorkerBrief;
pub(crate) use brief::{brief_from_row, BRIEF_COLS};
pub use dedup_keys::DEDUP_KEYS_FINGERPRINT_KEY;
pub(crate) use dedup_keys::{dedup_person, insert_dedup_keys, keys_for, stored_keys};
pub use profile::WorkerProfile;
pub(crate) use registry::{
    date_text, insert_posting, insert_status, insert_worker, worker_from_row, write_worker_update, WORKER_COLS,
};
pub use registry::{WorkerChange, WorkerQuery, WorkerRow};
pub(crate) use tallies::tally_area;
pub use tallies::TallyCompaction;
