//! Costs: the current workforce's yearly cost by unit, sector and funding source; a deployment
//! plan's cost year by year, and two plans side by side; the data costs come from (salary
//! scales, allowances, currencies and rates, how each cadre's posts are costed) and workers'
//! ranks; as pages and in the API.

mod api;
mod pages;

use komlang_core::Action;

pub use api::CostsApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadPlanning);
    let keep = Gate::Action(Action::KeepCosts);
    let workers = Gate::Action(Action::ReadWorkers);
    let edit = Gate::Action(Action::EditWorker);
    r.get("/costs", read, pages::costs_page)
        .post("/costs/rows", keep, pages::add_row)
        .get("/costs/plans", read, pages::plans_page)
        .get("/costs/export", read, pages::export)
        .post("/workers/{id}/ranks", edit, pages::add_rank)
        .get("/api/v1/costs", read, api::get_data)
        .put("/api/v1/costs", keep, api::put_data)
        .get("/api/v1/costs/workforce", read, api::workforce)
        .get("/api/v1/planning/plans/{id}/cost", read, api::plan_cost)
        .get("/api/v1/workers/{id}/ranks", workers, api::ranks)
        .post("/api/v1/workers/{id}/ranks", edit, api::add_rank)
}

/// The columns of the workforce cost's download, one row per unit.
pub const WORKFORCE_COLUMNS: &[&str] = &["unit", "name_en", "name_km", "workers", "cost", "currency", "year"];

/// The rows of the workforce cost's download.
pub fn workforce_cells(w: &komlang_store::costs::WorkforceCost) -> Vec<Vec<String>> {
    w.by_unit
        .iter()
        .map(|g| {
            vec![
                g.key.clone(),
                g.name_en.clone(),
                g.name_km.clone(),
                g.workers.to_string(),
                format!("{:.2}", g.cost),
                w.currency.clone(),
                w.year.to_string(),
            ]
        })
        .collect()
}
