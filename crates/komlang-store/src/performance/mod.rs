//! Performance management (seed 002): job descriptions as versioned data per role, appraisals
//! against them (the supervisor's ratings of each key function with the worker's
//! self-appraisal, an overall result, agreed training, rewards and corrective actions), the
//! appraisal cycle as data, and who is due, overdue or has open corrective actions by unit.
//!
//! What decides when an appraisal is due is `komlang_core::performance`. docs/performance.md.

mod appraisals;
mod demo;
mod due;
mod jobs;
mod settings;

pub use appraisals::{
    ActionInput, AgreedAction, Appraisal, AppraisalBrief, AppraisalUpdate, CourseRef, FunctionRating, RatedFunction,
    SelfAppraisal, StartAppraisal, TrainingSuggestion, WorkerAppraisals,
};
pub use due::{PerformanceList, PerformanceListRow, PerformanceReport, PerformanceRow, LIST_MAX};
pub use jobs::{JobDescription, JobFunction};
