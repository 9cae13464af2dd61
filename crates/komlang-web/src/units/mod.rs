//! Administrative units (the country's provinces, districts, communes and villages): reference
//! data every signed-in account reads, as pages and in the API.

mod api;
mod pages;

pub use api::UnitsApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    r.get("/admin-units", Gate::SignedIn, pages::units)
        .get("/admin-units/{code}", Gate::SignedIn, pages::unit)
        .get("/api/v1/admin-units", Gate::SignedIn, api::list_units)
        .get("/api/v1/admin-units/{code}", Gate::SignedIn, api::get_unit)
}
