//! Workforce planning: coverage of a norm (table, chart, exports), deployment plans (form,
//! saved scenarios, printable page, exports, comparison), the supply projection, norms, and the
//! data planning uses (indicators, caseloads, vacancies), as pages and in the API. No script:
//! charts are SVG drawn here.
//!
//! National administrators do everything; national viewers read; provincial and district
//! officers read and make plans for their scope; other roles get 403 (the gates below).

mod api;
mod charts;
mod coverage;
mod data;
mod norms;
mod plans;
mod shared;
mod supply;
mod tables;
#[cfg(test)]
mod tests;

use komlang_core::Action;

pub use api::PlanningApiDoc;
/// What the command line's planning reports use.
pub use shared::{plan_level, this_year};
pub use tables::{coverage_cells, coverage_json, plan_posts_json, COVERAGE_COLUMNS};

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadPlanning);
    let plan = Gate::Action(Action::MakePlans);
    let keep = Gate::Action(Action::KeepNorms);
    r.get("/planning", read, coverage::index)
        .get("/planning/coverage", read, coverage::coverage_page)
        .get("/planning/norms", read, norms::norms_page)
        .post("/planning/norms", keep, norms::add_norm)
        .post("/planning/plans", plan, plans::create_plan)
        .get("/planning/plans/new", plan, plans::new_plan)
        .get("/planning/plans/{id}", read, plans::plan_page)
        .get("/planning/plans/{id}/print", read, plans::plan_print)
        .get("/planning/compare", read, plans::compare_page)
        .get("/planning/supply", read, supply::supply_page)
        .get("/planning/data", read, data::data_page)
        .post("/planning/data", keep, data::upload_data)
        .get("/static/planning.css", Gate::Public, coverage::css)
        .get("/api/v1/planning/coverage", read, api::coverage)
        .get("/api/v1/planning/norms", read, api::list_norms)
        .post("/api/v1/planning/norms", keep, api::add_norm)
        .get("/api/v1/planning/plans", read, api::list_plans)
        .post("/api/v1/planning/plans", plan, api::create_plan)
        .get("/api/v1/planning/plans/{id}", read, api::get_plan)
        .get("/api/v1/planning/supply", read, api::supply)
        .post("/api/v1/planning/indicators", keep, api::save_indicators)
        .post("/api/v1/planning/caseloads", keep, api::save_caseloads)
        .post("/api/v1/planning/vacancies", keep, api::save_vacancies)
}
