//! What anyone may see without signing in: about, the style sheet, certificate verification
//! and the public register of valid licences (pages and API, each limited to so many requests
//! a minute from one client address); and what load balancers and monitoring ask: the health
//! and readiness checks, and the metrics (which ask for their own token, not an account's).

mod api;
mod pages;
mod probes;
mod verify;

pub use api::PublicApiDoc;
pub use probes::Readiness;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    r.get("/about", Gate::Public, pages::about)
        .get("/healthz", Gate::Public, probes::healthz)
        .get("/readyz", Gate::Public, probes::readyz)
        // Public to the gate: the handler asks for the metrics token (404 without --metrics).
        .get("/metrics", Gate::Public, probes::metrics)
        .get("/static/app.css", Gate::Public, pages::css)
        .get("/static/fonts/noto-sans-khmer-400.woff2", Gate::Public, pages::khmer_400)
        .get("/static/fonts/noto-sans-khmer-700.woff2", Gate::Public, pages::khmer_700)
        .get("/static/fonts/OFL.txt", Gate::Public, pages::font_license)
        .get("/verify", Gate::Limited, verify::verify_form)
        .get("/verify/{number}", Gate::Limited, verify::verify_page)
        .get("/register", Gate::Limited, verify::register_page)
        .get("/api/v1/public/certificates/{number}", Gate::Limited, api::public_certificate)
        .get("/api/v1/public/licences", Gate::Limited, api::public_register)
}
