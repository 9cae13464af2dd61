//! Bulk import (upload → column matching → dry-run preview → commit → the audited result) as
//! pages, and of worker files in one API call.
//!
//! Nothing about a flow is kept in the server's memory: the uploaded file is in the database
//! (`import_files`), and the column matching and the duplicate decisions travel in the forms
//! and links, so any app server can continue a flow another one started.
//!
//! Every route is for accounts that import workers ([`Action::ImportWorkers`]); which kinds of
//! file each account may import is [`ImportKind::allowed`].

mod api;
mod files;
mod mapping;
mod preview;
mod result;
mod upload;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use komlang_core::Action;

pub use api::ImportsApiDoc;
pub use files::{
    check_table, open_table, open_table_within, read_table, read_table_within, sha256_hex, store_rows, store_rows_in,
    ImportKind, Table, MAX_UPLOAD, MAX_UPLOAD_MB,
};

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let import = Gate::Action(Action::ImportWorkers);
    // The body limit of an upload: the largest file and the form around it.
    let limit = || DefaultBodyLimit::max(MAX_UPLOAD + 65536);
    r.get("/imports", import, upload::list)
        .post("/imports", import, upload::upload.layer(limit()))
        .get("/imports/new", import, upload::new_form)
        .get("/imports/files/{id}/mapping", import, mapping::mapping)
        .post("/imports/files/{id}/mapping", import, mapping::save_mapping)
        .get("/imports/files/{id}/preview", import, preview::preview)
        .post("/imports/files/{id}/commit", import, preview::commit)
        .get("/imports/{id}", import, result::result)
        .get("/imports/{id}/rejected.csv", import, result::rejected_csv)
        .get("/api/v1/imports", import, api::list_imports)
        .post("/api/v1/imports/workers", import, api::import_workers.layer(limit()))
        .get("/api/v1/imports/{id}", import, api::get_import)
}
