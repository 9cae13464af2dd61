//! The establishment: approved posts, the postings that fill them, vacancies by unit, cadre and
//! funding source for any year, the posts of a deployment plan approved in one action, and the
//! totals of past years recorded from other sources. Every change is audited; a post's changes
//! are checked against the version its writer read.
//!
//! The arithmetic (which posts a year counts, vacancies) is `komlang_core::establishment`.

mod demo;
mod posts;
mod report;

pub(crate) use posts::{post_kept, post_kind, refill, repost};

pub use posts::{
    NewPosts, PlanApproval, Post, PostCandidate, PostHolder, PostKind, PostQuery, PostState, POST_NOTE_MAX,
};
pub use report::{
    EstablishmentQuery, EstablishmentRecord, EstablishmentReport, EstablishmentRow, RecordInput, YearCounts,
};
