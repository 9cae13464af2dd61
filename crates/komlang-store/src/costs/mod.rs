//! Costs: the data they are computed from (salary scales, allowances, currencies and rates, how
//! each cadre's posts are costed, workers' ranks), the cost of the current workforce by unit,
//! sector and funding source, and the cost of a deployment plan year by year. The arithmetic is
//! `komlang_core::costs`.

mod data;
mod demo;
mod reports;

pub use data::{CostData, CurrencyRate, RankInput, WorkerRank};
pub use reports::{CostGroup, PlanCost, PlanCostYear, WorkforceCost};
