//! Licensing: applications for a licence and their decisions (approve, reject, suspend,
//! reinstate, lapse, revoke), renewal against continuing-education hours, licences about to
//! expire, the public register of valid licences, and the licensing rules.
//!
//! Who does what:
//! - A national administrator keeps the licensing rules ([`Action::KeepTrainingCatalogue`]).
//! - Licences follow the worker's record: whoever sees the worker ([`Store::get_worker`]) sees
//!   them; nobody else (404).
//! - A licence is applied for by the worker themself or by an account that may change the
//!   worker's record; applications are decided by national administrators
//!   ([`Action::DecideLicence`]).
//! - Anyone, without signing in, may search the public register of valid licences; it shows the
//!   holder's name and nothing else about them.
//!
//! [`Store::get_worker`]: crate::Store::get_worker
//! [`Action::KeepTrainingCatalogue`]: komlang_core::Action::KeepTrainingCatalogue
//! [`Action::DecideLicence`]: komlang_core::Action::DecideLicence

mod licences;
mod register;
mod rules;

pub use licences::{Licence, LicenceActionRow, LicenceDetail, LicenceQuery, LICENCE_EXPORT_COLUMNS};
pub use register::{PublicLicence, REGISTER_LIMIT};
