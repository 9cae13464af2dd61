//! The audit log as national administrators browse it: who changed what, when, with the fields
//! before and after. Entries are written by every feature through `common::audit::record_audit`.

mod log;

pub use self::log::{AuditEntry, AuditQuery};
