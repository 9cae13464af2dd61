//! What every feature shares: the [`Store`](crate::Store) handle, its errors and the `meta`
//! table; the SQL builder; scope, filter and row-reading helpers; the audit writer. Nothing here
//! uses a feature module.

pub(crate) mod audit;
pub(crate) mod demo;
pub(crate) mod meta;
pub(crate) mod numbers;
pub(crate) mod principal;
pub(crate) mod rows;
pub(crate) mod scope;
pub(crate) mod sql;
pub(crate) mod store;
