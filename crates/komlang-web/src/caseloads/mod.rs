//! Caseloads from Primero and OSCaR: the import of a case list (a page and the API), the
//! systems' users linked to workers, open cases per unit and the workers above their
//! threshold, the thresholds; as pages, in the API and as CSV/XLSX. A worker's open cases are
//! on the worker's page and at `GET /api/v1/workers/{id}/caseload`.

mod api;
mod pages;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use komlang_core::Action;
use komlang_store::caseloads::UnitCaseload;

pub use api::CaseloadsApiDoc;

use crate::common::uploads::MAX_UPLOAD;
use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadCaseloads);
    let import = Gate::Action(Action::ImportCaseloads);
    let link = Gate::Action(Action::LinkCaseOwners);
    let keep = Gate::Action(Action::KeepNorms);
    let limit = || DefaultBodyLimit::max(MAX_UPLOAD + 65536);
    r.get("/caseloads", read, pages::caseloads_page)
        .get("/caseloads/export", read, pages::export)
        .get("/caseloads/import", read, pages::to_page)
        .post("/caseloads/import", import, pages::import.layer(limit()))
        .get("/caseloads/owners", link, pages::owners_page)
        .post("/caseloads/owners", link, pages::link)
        .post("/caseloads/owners/unlink", link, pages::unlink)
        .post("/caseloads/thresholds", keep, pages::set_threshold)
        .get("/api/v1/caseloads", read, api::by_unit)
        .get("/api/v1/caseloads/snapshots", read, api::snapshots)
        .get("/api/v1/caseloads/over-threshold", read, api::over_threshold)
        .get("/api/v1/caseloads/reassignment", read, api::reassignment)
        .get("/caseloads/reassignment", read, pages::reassignment_page)
        .post("/api/v1/caseloads/import", import, api::import.layer(limit()))
        .get("/api/v1/caseloads/owners", link, api::owners)
        .put("/api/v1/caseloads/owners", link, api::link)
        .delete("/api/v1/caseloads/owners", link, api::unlink)
        .get("/api/v1/caseloads/thresholds", read, api::thresholds)
        .put("/api/v1/caseloads/thresholds", keep, api::set_threshold)
        .get("/api/v1/workers/{id}/caseload", Gate::Action(Action::ReadWorkers), api::worker_caseload)
}

/// The columns of the caseloads' download, one row per unit.
pub const CASELOAD_COLUMNS: &[&str] = &[
    "unit",
    "name_en",
    "name_km",
    "open_cases",
    "unlinked_cases",
    "workers_with_cases",
    "cases_per_worker",
    "above_threshold",
];

/// The rows of the caseloads' download.
pub fn caseload_cells(rows: &[UnitCaseload]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|u| {
            vec![
                u.unit.clone(),
                u.name_en.clone(),
                u.name_km.clone(),
                u.open_cases.to_string(),
                u.unlinked_cases.to_string(),
                u.workers_with_cases.to_string(),
                u.cases_per_worker.map(|v| format!("{v:.1}")).unwrap_or_default(),
                u.above_threshold.to_string(),
            ]
        })
        .collect()
}
