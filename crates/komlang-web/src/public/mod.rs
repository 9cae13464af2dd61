//! What anyone may see without signing in: about, the health check and the style sheet,
//! certificate verification and the public register of valid licences (pages and API).

mod api;
mod pages;
mod verify;

pub use api::PublicApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    r.get("/about", Gate::Public, pages::about)
        .get("/healthz", Gate::Public, pages::healthz)
        .get("/static/app.css", Gate::Public, pages::css)
        .get("/verify", Gate::Public, verify::verify_form)
        .get("/verify/{number}", Gate::Public, verify::verify_page)
        .get("/register", Gate::Public, verify::register_page)
        .get("/api/v1/public/certificates/{number}", Gate::Public, api::public_certificate)
        .get("/api/v1/public/licences", Gate::Public, api::public_register)
}
