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
