//! Performance management (seed 002): job descriptions as versioned data, appraisals against
//! them with the worker's self-appraisal and the actions agreed, the appraisal cycle, and who is
//! due, overdue or has open corrective actions, as pages and in the API. docs/performance.md.

mod api;
mod pages;

use komlang_core::Action;
use komlang_store::performance::PerformanceReport;

pub use api::PerformanceApiDoc;

use crate::common::{Gate, Routes};

/// The self-appraisal's routes are gated by reading: the store lets only the worker write it
/// ([`Action::SelfAppraise`]), and answers 404 for an appraisal outside the caller's reach.
pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadAppraisals);
    let appraise = Gate::Action(Action::Appraise);
    let keep = Gate::Action(Action::KeepNorms);
    let frame = Gate::Action(Action::KeepFramework);
    r.get("/appraisals", read, pages::summary_page)
        .get("/appraisals/export", read, pages::export)
        .get("/appraisals/list", read, pages::list_page)
        .post("/appraisals/settings", keep, pages::save_settings)
        .get("/appraisals/workers/{id}", read, pages::worker_page)
        .post("/appraisals/workers/{id}", appraise, pages::start)
        .get("/appraisals/{id}", read, pages::appraisal_page)
        .post("/appraisals/{id}", appraise, pages::update)
        .post("/appraisals/{id}/self", read, pages::self_appraise)
        .post("/appraisals/{id}/actions", appraise, pages::add_action)
        .post("/appraisals/actions/{id}/done", appraise, pages::action_done)
        .get("/job-descriptions", Gate::SignedIn, pages::job_descriptions)
        .get("/api/v1/workers/{id}/appraisals", read, api::worker_appraisals)
        .post("/api/v1/workers/{id}/appraisals", appraise, api::start)
        .get("/api/v1/appraisals/summary", read, api::summary)
        .get("/api/v1/appraisals/lists/{kind}", read, api::list)
        .get("/api/v1/appraisals/settings", read, api::settings)
        .put("/api/v1/appraisals/settings", keep, api::set_settings)
        .get("/api/v1/appraisals/{id}", read, api::get)
        .put("/api/v1/appraisals/{id}", appraise, api::update)
        .put("/api/v1/appraisals/{id}/self", read, api::self_appraise)
        .post("/api/v1/appraisals/{id}/actions", appraise, api::add_action)
        .post("/api/v1/appraisal-actions/{id}/done", appraise, api::action_done)
        .get("/api/v1/job-descriptions", Gate::SignedIn, api::job_descriptions)
        .post("/api/v1/job-descriptions", frame, api::load_job_descriptions)
}

/// The columns of the figures' download, one row per unit and the total.
pub const SUMMARY_COLUMNS: &[&str] = &[
    "unit",
    "name_en",
    "name_km",
    "workers",
    "due",
    "overdue",
    "unknown",
    "completed",
    "open_corrective",
    "corrective_late",
    "overdue_share",
];

/// The rows of the figures' download (the total last, its unit empty).
pub fn summary_cells(r: &PerformanceReport) -> Vec<Vec<String>> {
    r.items
        .iter()
        .chain(std::iter::once(&r.total))
        .map(|x| {
            vec![
                x.unit.clone(),
                x.name_en.clone(),
                x.name_km.clone(),
                x.workers.to_string(),
                x.due.to_string(),
                x.overdue.to_string(),
                x.unknown.to_string(),
                x.completed.to_string(),
                x.open_corrective.to_string(),
                x.corrective_late.to_string(),
                x.overdue_share.map(|s| format!("{s:.3}")).unwrap_or_default(),
            ]
        })
        .collect()
}
