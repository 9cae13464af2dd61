//! Accounts: signing in and out (sessions kept in the database, each linked to its account),
//! the language switch, an account changing its own password, the accounts of the system for
//! national administrators (disable, enable, set a password, end sessions, API tokens), and
//! the same in the API.

mod admin;
mod api;
mod pages;
pub mod sessions;

pub use api::AccountsApiDoc;

use crate::common::{Gate, Routes};
use komlang_core::Action;

pub fn routes(r: Routes) -> Routes {
    let manage = Gate::Action(Action::ManageAccounts);
    r.get("/login", Gate::Public, pages::login_form)
        .post("/login", Gate::Public, pages::login)
        .post("/logout", Gate::Public, pages::logout)
        .get("/lang/{code}", Gate::Public, pages::set_lang)
        .get("/account/password", Gate::Action(Action::ChangePassword), pages::password_form)
        .post("/account/password", Gate::Action(Action::ChangePassword), pages::change_password)
        .get("/accounts", manage, admin::accounts)
        .get("/accounts/{id}", manage, admin::account)
        .post("/accounts/{id}/disable", manage, admin::disable)
        .post("/accounts/{id}/enable", manage, admin::enable)
        .post("/accounts/{id}/password", manage, admin::set_password)
        .post("/accounts/{id}/sessions/end", manage, admin::end_sessions)
        .post("/accounts/{id}/tokens", manage, admin::issue_token)
        .post("/accounts/{id}/tokens/revoke", manage, admin::revoke_all_tokens)
        .post("/accounts/{id}/tokens/{token_id}/revoke", manage, admin::revoke_token)
        .get("/api/v1/me", Gate::SignedIn, api::me)
        .get("/api/v1/accounts", manage, api::list_accounts)
        .get("/api/v1/accounts/{id}", manage, api::get_account)
        .post("/api/v1/accounts/{id}/disable", manage, api::disable)
        .post("/api/v1/accounts/{id}/enable", manage, api::enable)
        .delete("/api/v1/accounts/{id}/sessions", manage, api::end_sessions)
        .get("/api/v1/accounts/{id}/tokens", manage, api::list_tokens)
        .post("/api/v1/accounts/{id}/tokens", manage, api::issue_token)
        .delete("/api/v1/accounts/{id}/tokens", manage, api::revoke_all_tokens)
        .delete("/api/v1/accounts/{id}/tokens/{token_id}", manage, api::revoke_token)
}
