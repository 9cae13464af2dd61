//! Accounts: users, disabling them, password login with a lockout that spares the owner's
//! known devices, API tokens (issued, listed, expiring, revoked), and the sessions of the
//! web application, each linked to its account.

mod login;
mod sessions;
mod tokens;
mod users;

pub use login::{
    is_device_value, LoginOutcome, LoginRequest, DEVICE_MAX_AGE_SECS, LOCK_WINDOW_SECS, MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_DEVICE, MAX_FAILURES_PER_IP, MAX_FAILURES_PER_USER,
};
pub use sessions::SessionRecord;
pub use tokens::{ApiToken, IssuedToken, NewToken, TokenState, TOKEN_LABEL_MAX};
pub use users::{hash_password, AccountRow, NewUser, UserRow};
