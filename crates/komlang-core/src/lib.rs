//! Komlang domain core: the social service workforce registry's vocabulary,
//! validation rules and access rules. Pure: no I/O, no clock (callers pass `today`).

pub mod access;
pub mod admin;
pub mod caseload;
pub mod competency;
pub mod costs;
pub mod dedup;
pub mod demo;
pub mod establishment;
pub mod expiry;
pub mod hiring;
pub mod import;
pub mod model;
pub mod performance;
pub mod planning;
pub mod recruitment;
pub mod retention;
pub mod search;
pub mod supervision;
pub mod text;
pub mod training;
pub mod validate;

pub use access::{Action, Denied, Grant, Principal, Scope, Target, UserRole};
pub use admin::{AdminLevel, AdminUnit};
pub use model::*;
pub use search::{search_key, worker_search_key};
pub use text::{clean_text, has_letter, NonBlank};
pub use validate::{FieldError, ValidationErrors};
