//! Recruitment: how many people each unit must recruit in a year (the vacant posts plus the
//! filled ones expected to fall vacant: retirements, incapacity, death), with the retirement age
//! and the exit rates per cadre that size it; as a page, a download and in the API.
//! docs/recruitment.md.

mod api;
mod pages;

use komlang_core::Action;
use komlang_store::recruitment::NeedReport;

pub use api::RecruitmentApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadPlanning);
    let keep = Gate::Action(Action::KeepNorms);
    r.get("/recruitment", read, pages::need_page)
        .get("/recruitment/export", read, pages::export)
        .post("/recruitment/settings", keep, pages::save_settings)
        .get("/api/v1/recruitment/need", read, api::need)
        .get("/api/v1/recruitment/settings", read, api::settings)
        .put("/api/v1/recruitment/settings", keep, api::set_settings)
}

/// The columns of the need's download, one row per unit and the total.
pub const NEED_COLUMNS: &[&str] = &[
    "year",
    "unit",
    "name_en",
    "name_km",
    "vacant",
    "filled",
    "retiring",
    "birth_unknown",
    "other_exits",
    "expected_exits",
    "planned",
    "to_recruit",
];

/// The rows of the need's download (the total last, its unit empty).
pub fn need_cells(r: &NeedReport) -> Vec<Vec<String>> {
    let row = |unit: &str, en: &str, km: &str, n: &komlang_core::recruitment::Need| {
        vec![
            r.year.to_string(),
            unit.to_string(),
            en.to_string(),
            km.to_string(),
            n.vacant.to_string(),
            n.filled.to_string(),
            n.retiring.to_string(),
            n.birth_unknown.to_string(),
            format!("{:.2}", n.other_exits),
            n.expected_exits.to_string(),
            n.planned.to_string(),
            n.to_recruit.to_string(),
        ]
    };
    let mut out: Vec<Vec<String>> = r.items.iter().map(|u| row(&u.unit, &u.name_en, &u.name_km, &u.need)).collect();
    out.push(row("", "Total", "សរុប", &r.total));
    out
}
