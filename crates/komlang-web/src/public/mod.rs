//! What anyone may see without signing in: about, the health check and the style sheet,
//! certificate verification and the public register of valid licences (pages and API, each
//! limited to so many requests a minute from one client address).

mod api;
mod pages;
mod verify;

pub use api::PublicApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    r.get("/about", Gate::Public, pages::about)
        .get("/healthz", Gate::Public, pages::healthz)
        .get("/static/app.css", Gate::Public, pages::css)
        .get("/verify", Gate::Limited, verify::verify_form)
        .get("/verify/{number}", Gate::Limited, verify::verify_page)
        .get("/register", Gate::Limited, verify::register_page)
        .get("/api/v1/public/certificates/{number}", Gate::Limited, api::public_certificate)
        .get("/api/v1/public/licences", Gate::Limited, api::public_register)
}
