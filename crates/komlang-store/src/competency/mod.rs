//! Competencies: the national competency framework as versioned reference data, the levels each
//! cadre and role requires, workers' supervisors, competency assessments (audited), and the gaps
//! and training needs computed from them.
//!
//! Who sees an assessment: the assessed worker (their `worker` account), their supervisor (an
//! account set on the worker, [`Store::set_worker_supervisor`](crate::Store::set_worker_supervisor))
//! and every account whose scope includes the worker ([`Store::get_worker`](crate::Store::get_worker)
//! answers the worker). Nobody else: for them a worker's assessments, gaps and the assessments
//! themselves do not exist (404).
//!
//! Who records one: the worker themself, a self-assessment only; the supervisor and accounts
//! that may change the worker's record, supervisor and training assessments. The same rule
//! governs changing and deleting an assessment (a national administrator may also delete any).

mod assessments;
mod demo;
mod framework;
mod gaps;
mod supervisors;

pub use assessments::Assessment;
pub use framework::{parse_requirement_target, requirement_target_code, FrameworkVersion, FRAMEWORK_SYSTEM_LOADER};
pub use gaps::{AssessmentExportRow, CompetencyStanding, GapQuery, GapReport, WorkerGaps, ASSESSMENT_EXPORT_COLUMNS};
pub use supervisors::{AssessmentAccess, SupervisorInfo};
