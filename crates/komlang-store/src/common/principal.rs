//! The principal of changes made by Komlang itself.

use komlang_core::{Principal, Scope, UserRole};

/// Principal used for changes made from the command line.
pub fn system_principal(name: &str) -> Principal {
    Principal {
        user_id: 0,
        username: name.to_string(),
        role: UserRole::NationalAdmin,
        scope: Scope::Nation,
        org_id: None,
        worker_id: None,
    }
}
