//! Organizations (employers of workers): the list, one organization with its staff, adding,
//! changing and deleting, as pages and in the API.

mod api;
mod pages;

use komlang_core::Action;

pub use api::OrganizationsApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    let read = Gate::Action(Action::ReadOrgs);
    let edit = Gate::Action(Action::EditOrg);
    r.get("/organizations", read, pages::orgs)
        .post("/organizations", edit, pages::create_org)
        .get("/organizations/new", edit, pages::new_org)
        .get("/organizations/{id}", read, pages::org)
        // EditOrg, then DeleteOrg: checked per record, after the scope (404 first).
        .post("/organizations/{id}", read, pages::update_org)
        .get("/organizations/{id}/edit", read, pages::edit_org)
        .post("/organizations/{id}/delete", read, pages::delete_org)
        .get("/api/v1/organizations", read, api::list_orgs)
        .post("/api/v1/organizations", edit, api::create_org)
        .get("/api/v1/organizations/{id}", read, api::get_org)
        // EditOrg, then DeleteOrg: checked per record, after the scope (404 first).
        .patch("/api/v1/organizations/{id}", read, api::update_org)
        .delete("/api/v1/organizations/{id}", read, api::delete_org)
}
