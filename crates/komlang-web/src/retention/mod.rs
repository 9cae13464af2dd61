//! Retention: turnover in a year by sector, cadre or province with the reasons leavers gave and
//! how long they had stayed, how many of each year's starters are still in post, the CCWC
//! members' elected term; the reasons for leaving kept as data and given for a worker's
//! separation; as a page and in the API.

mod api;
mod pages;

use komlang_core::Action;

pub use api::RetentionApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadPlanning);
    let keep = Gate::Action(Action::KeepNorms);
    let edit = Gate::Action(Action::EditWorker);
    r.get("/retention", read, pages::retention_page)
        .get("/retention/export", read, pages::export)
        .post("/retention/reasons", keep, pages::add_reason)
        .post("/retention/ccwc-term", keep, pages::set_term)
        .post("/workers/{id}/exit-reason", edit, pages::give_reason)
        .get("/api/v1/retention/turnover", read, api::turnover)
        .get("/api/v1/retention/survival", read, api::survival)
        .get("/api/v1/retention/ccwc-term", read, api::ccwc_term)
        .put("/api/v1/retention/ccwc-term", keep, api::set_ccwc_term)
        .get("/api/v1/retention/reasons", Gate::SignedIn, api::reasons)
        .post("/api/v1/retention/reasons", keep, api::add_reason)
        .put("/api/v1/workers/{id}/exit-reason", edit, api::give_reason)
}

/// The columns of the turnover's download, one row per group and the total.
pub const TURNOVER_COLUMNS: &[&str] = &["year", "by", "key", "start", "end", "leavers", "rate", "average_tenure"];

/// The rows of the turnover's download.
pub fn turnover_cells(t: &komlang_store::retention::Turnover) -> Vec<Vec<String>> {
    let opt = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_default();
    t.rows
        .iter()
        .chain(std::iter::once(&t.total))
        .map(|r| {
            vec![
                t.year.to_string(),
                t.by.code().to_string(),
                r.key.clone(),
                r.start.to_string(),
                r.end.to_string(),
                r.leavers.to_string(),
                opt(r.rate),
                opt(r.average_tenure),
            ]
        })
        .collect()
}
