//! Workers: the home page (an overview of the caller's scope), the worker list and a worker's
//! record with its postings and statuses, adding, changing and deleting records, exports of
//! the filtered list, and all of it in the API.

mod api;
mod export;
mod forms;
mod overview;
mod pages;

use komlang_core::Action;

pub use api::WorkersApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadWorkers);
    let create = Gate::Action(Action::CreateWorker);
    r.get("/", read, overview::home)
        .get("/me", Gate::SignedIn, overview::me)
        .get("/workers", read, pages::workers)
        .post("/workers", create, forms::create_worker)
        .get("/workers/new", create, forms::new_worker)
        .get("/workers/export.csv", read, export::export_csv)
        .get("/workers/export.xlsx", read, export::export_xlsx)
        .get("/workers/{id}", read, pages::worker)
        // EditWorker or EditOwnContact: checked per record, after the scope (404 first).
        .post("/workers/{id}", read, forms::update_worker)
        .get("/workers/{id}/edit", read, forms::edit_worker)
        // DeleteWorker: checked per record, after the scope (404 first).
        .post("/workers/{id}/delete", read, forms::delete_worker)
        .get("/api/v1/workers", read, api::list_workers)
        .post("/api/v1/workers", create, api::create_worker)
        .get("/api/v1/workers/export", read, api::export_workers)
        .get("/api/v1/workers/{id}", read, api::get_worker)
        // EditWorker or EditOwnContact, then DeleteWorker: checked per record, after the scope (404 first).
        .patch("/api/v1/workers/{id}", read, api::update_worker)
        .delete("/api/v1/workers/{id}", read, api::delete_worker)
        .get("/api/v1/workers/{id}/postings", read, api::worker_postings)
        .get("/api/v1/workers/{id}/status-history", read, api::worker_statuses)
}
