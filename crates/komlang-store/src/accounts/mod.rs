//! Accounts: users, password login with rate limiting, API tokens, and the sessions of the web
//! application.

mod sessions;
mod users;

pub use sessions::SessionRecord;
pub use users::{hash_password, LoginOutcome, NewUser, UserRow};
