//! Organizations: employers and government offices, each in an admin unit; kept one by one or
//! imported from a file, and exported in the shape the import reads.

mod org_export;
mod org_import;
mod orgs;

pub use org_import::ORG_COLUMNS;
pub(crate) use orgs::insert_org;
pub use orgs::{OrgQuery, OrgRow};
