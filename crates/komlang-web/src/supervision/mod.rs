//! Supervision (seed 004): who supervises whom (a worker supervises workers, with the history),
//! supervision sessions, the norms of supervision, and the figures and lists a manager needs
//! (no supervisor, overdue, over the ratio, not eligible), as pages and in the API.

mod api;
mod pages;

use komlang_core::Action;

pub use api::SupervisionApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadSupervision);
    let set = Gate::Action(Action::SetSupervisor);
    let record = Gate::Action(Action::RecordSupervision);
    let keep = Gate::Action(Action::KeepNorms);
    r.get("/supervision", read, pages::summary_page)
        .get("/supervision/export", read, pages::export)
        .get("/supervision/list", read, pages::list_page)
        .post("/supervision/norms", keep, pages::set_norms)
        .get("/supervision/workers/{id}", read, pages::worker_page)
        .post("/supervision/workers/{id}/supervisor", set, pages::assign)
        .post("/supervision/workers/{id}/end", set, pages::end)
        .post("/supervision/workers/{id}/sessions", record, pages::record_session)
        .get("/api/v1/supervision/summary", read, api::summary)
        .get("/api/v1/supervision/lists/{kind}", read, api::list)
        .get("/api/v1/supervision/norms", read, api::norms)
        .put("/api/v1/supervision/norms", keep, api::set_norms)
        .get("/api/v1/workers/{id}/supervision", read, api::worker_supervision)
        .put("/api/v1/workers/{id}/supervision", set, api::assign)
        .delete("/api/v1/workers/{id}/supervision", set, api::end)
        .post("/api/v1/supervision/sessions", record, api::record_session)
}

/// The columns of the summary's download, one row per unit.
pub const SUMMARY_COLUMNS: &[&str] = &[
    "unit",
    "name_en",
    "name_km",
    "supervisors",
    "supervisees",
    "without_supervisor",
    "over_ratio",
    "not_eligible",
    "overdue",
];

/// The rows of the summary's download.
pub fn summary_cells(items: &[komlang_store::supervision::SummaryRow]) -> Vec<Vec<String>> {
    items
        .iter()
        .map(|r| {
            vec![
                r.unit.clone(),
                r.name_en.clone(),
                r.name_km.clone(),
                r.supervisors.to_string(),
                r.supervisees.to_string(),
                r.without_supervisor.to_string(),
                r.over_ratio.to_string(),
                r.not_eligible.to_string(),
                r.overdue.to_string(),
            ]
        })
        .collect()
}
