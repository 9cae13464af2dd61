//! Accounts: signing in and out (sessions kept in the database), the language switch, and the
//! caller's own account in the API.

mod api;
mod pages;
pub mod sessions;

pub use api::AccountsApiDoc;

use crate::common::{Gate, Routes};

pub fn routes(r: Routes) -> Routes {
    r.get("/login", Gate::Public, pages::login_form)
        .post("/login", Gate::Public, pages::login)
        .post("/logout", Gate::Public, pages::logout)
        .get("/lang/{code}", Gate::Public, pages::set_lang)
        .get("/api/v1/me", Gate::SignedIn, api::me)
}
