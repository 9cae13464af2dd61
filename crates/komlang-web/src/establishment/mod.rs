//! The establishment: approved posts and vacancies by unit, cadre and funding source for any
//! year, the posts of a unit with who fills them (fill, leave vacant, end, approve more), a
//! deployment plan's posts approved in one action, and totals of past years recorded from
//! other sources; as pages, downloads and in the API.
//!
//! Who reads it: whoever reads planning (`read_planning`). National administrators approve and
//! end posts and record totals (`keep_establishment`); provincial and district officers fill
//! posts in their scope (`fill_posts`).

mod api;
mod pages;

use komlang_core::Action;

pub use api::EstablishmentApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadPlanning);
    let keep = Gate::Action(Action::KeepEstablishment);
    let fill = Gate::Action(Action::FillPosts);
    r.get("/establishment", read, pages::summary_page)
        .get("/establishment/export", read, pages::export)
        .post("/establishment/records", keep, pages::record_total)
        .get("/establishment/posts", read, pages::posts_page)
        .post("/establishment/posts", keep, pages::create_posts)
        .post("/establishment/posts/{id}/fill", fill, pages::fill_post)
        .post("/establishment/posts/{id}/vacate", fill, pages::vacate_post)
        .post("/establishment/posts/{id}/end", keep, pages::end_post)
        .get("/establishment/approve", keep, pages::approve_page)
        .post("/establishment/approve", keep, pages::approve_plan)
        .get("/api/v1/establishment", read, api::establishment)
        .get("/api/v1/establishment/years", read, api::years)
        .get("/api/v1/establishment/records", read, api::records)
        .post("/api/v1/establishment/records", keep, api::record_total)
        .get("/api/v1/establishment/posts", read, api::list_posts)
        .post("/api/v1/establishment/posts", keep, api::create_posts)
        .get("/api/v1/establishment/posts/{id}", read, api::get_post)
        .post("/api/v1/establishment/posts/{id}/fill", fill, api::fill_post)
        .post("/api/v1/establishment/posts/{id}/vacate", fill, api::vacate_post)
        .post("/api/v1/establishment/posts/{id}/end", keep, api::end_post)
        .post("/api/v1/planning/plans/{id}/approve", keep, api::approve_plan)
}

/// The columns of the establishment's download, one row per unit.
pub const ESTABLISHMENT_COLUMNS: &[&str] =
    &["unit", "name_en", "name_km", "year", "approved", "filled", "vacant", "vacancy_rate"];

/// The rows of the establishment's download.
pub fn establishment_cells(r: &komlang_store::establishment::EstablishmentReport) -> Vec<Vec<String>> {
    r.items
        .iter()
        .map(|x| {
            vec![
                x.unit.clone(),
                x.name_en.clone(),
                x.name_km.clone(),
                r.year.to_string(),
                x.approved.to_string(),
                x.filled.to_string(),
                x.vacant.to_string(),
                x.vacancy_rate.map(|v| format!("{v:.1}")).unwrap_or_default(),
            ]
        })
        .collect()
}
