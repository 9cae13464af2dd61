//! Licensing: licences of social service workers (the list with its filters, licences expiring
//! within so many days, one licence with its history), the decisions of national
//! administrators (approve, renew on continuing-education hours, suspend, reinstate, lapse,
//! revoke) and the licensing rules, as pages and in the API. A licence is applied for from the
//! worker's transcript (`training`).

mod api;
mod pages;

use komlang_core::Action;

pub use api::LicensingApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadWorkers);
    let keep = Gate::Action(Action::KeepTrainingCatalogue);
    r.get("/licences", read, pages::licences_page)
        .get("/licences/export", read, pages::export_licences)
        .post("/licences/rules", keep, pages::set_rules)
        .get("/licences/{id}", read, pages::licence_page)
        // DecideLicence: checked per record, after the scope (404 first).
        .post("/licences/{id}/decision", read, pages::decide_licence)
        .post("/licences/{id}/renew", read, pages::renew_licence)
        .get("/api/v1/licences", read, api::list_licences)
        .get("/api/v1/workers/{id}/licences", read, api::worker_licences)
        .post("/api/v1/workers/{id}/licences", Gate::Action(Action::ApplyLicence), api::apply_licence)
        .get("/api/v1/licences/{id}", read, api::get_licence)
        // DecideLicence: checked per record, after the scope (404 first).
        .post("/api/v1/licences/{id}/decision", read, api::decide_licence)
        .post("/api/v1/licences/{id}/renew", read, api::renew_licence)
        .get("/api/v1/licensing/rules", Gate::SignedIn, api::get_rules)
        .put("/api/v1/licensing/rules", keep, api::set_rules)
}
