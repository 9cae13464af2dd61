//! Working in the commune without a connection (`docs/offline.md`). The site installs on a
//! phone (a web app manifest and a service worker that every page registers); `/field` is the
//! app that keeps what the account needs on the device (`/field/data`), lets the user add a
//! worker, change contact details and status, and record attendance while offline, queues each
//! change, and sends the queue when the connection returns (`/field/changes`), each change
//! with the version of the record it was made on.

mod changes;
mod data;
mod pages;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    r.get("/field", Gate::SignedIn, pages::field_page)
        .get("/field/data", Gate::SignedIn, data::field_data)
        // Which changes an account may make is the store's decision, change by change.
        .post("/field/changes", Gate::SignedIn, changes::apply_change)
        .get("/manifest.webmanifest", Gate::Public, pages::manifest)
        .get("/sw.js", Gate::Public, pages::service_worker)
        .get("/static/field.js", Gate::Public, pages::field_js)
        .get("/static/komlang.js", Gate::Public, pages::site_js)
        .get("/static/icon.svg", Gate::Public, pages::icon)
}
