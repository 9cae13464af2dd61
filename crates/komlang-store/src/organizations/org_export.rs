//! Exporting organizations in the shape the organization import reads back.

use komlang_core::{Action, Principal, Target};
use sqlx::Row;

use super::org_import::ORG_COLUMNS;
use crate::common::scope::push_org_scope;
use crate::common::sql::Sql;
use crate::{Result, Store};

/// Organizations read per page of an export.
const EXPORT_PAGE: i64 = 1000;

impl Store {
    /// Streams every organization within the principal's scope to `sink`, in id order, one
    /// row of text at a time in [`ORG_COLUMNS`] order (codes for kinds, as
    /// [`Store::import_orgs`] reads them back). Returns how many rows were written; stops at
    /// the first sink error.
    pub async fn export_orgs<F>(&self, p: &Principal, mut sink: F) -> Result<u64>
    where
        F: FnMut(Vec<String>) -> std::io::Result<()>,
    {
        p.require(Action::ReadOrgs, Target::Any)?;
        let mut last = 0i64;
        let mut n = 0u64;
        loop {
            let mut sql = Sql::new(
                "SELECT o.id, o.name_en, o.name_km, o.kind, o.registration_no, o.admin_code, o.phone, o.email \
                 FROM organizations o JOIN admin_units u ON u.code = o.admin_code WHERE o.id > ",
            );
            sql.int(last);
            push_org_scope(&mut sql, p);
            sql.push(" ORDER BY o.id LIMIT ").int(EXPORT_PAGE);
            let rows = sql.query().fetch_all(&self.pool).await?;
            for r in &rows {
                last = r.try_get("id")?;
                let mut out = Vec::with_capacity(ORG_COLUMNS.len());
                for col in ORG_COLUMNS {
                    out.push(r.try_get::<Option<String>, _>(*col)?.unwrap_or_default());
                }
                sink(out)?;
                n += 1;
            }
            if (rows.len() as i64) < EXPORT_PAGE {
                return Ok(n);
            }
        }
    }
}
