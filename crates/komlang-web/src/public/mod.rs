//! What anyone may see without signing in: about, the health check and the style sheet.

mod pages;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    r.get("/about", Gate::Public, pages::about).get("/healthz", Gate::Public, pages::healthz).get(
        "/static/app.css",
        Gate::Public,
        pages::css,
    )
}
