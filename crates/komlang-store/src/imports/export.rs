//! Exporting workers: every worker a query matches within the caller's
//! scope, page by page in id order (memory stays flat however many there
//! are), as rows of text in the shape an import reads back.

use komlang_core::Principal;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::workers::WorkerQuery;
use crate::{Result, Store};

/// Columns of an export, in order: the fields of a worker record as the
/// import reads them (`WorkerInput` names, codes for vocabularies, ISO
/// dates), plus the record id and, to be read by people and resolved in
/// another database, the employer's name and registration number and the
/// workplace's names.
pub const EXPORT_COLUMNS: &[&str] = &[
    "id",
    "name_km",
    "name_latin",
    "sex",
    "date_of_birth",
    "national_id",
    "phone",
    "email",
    "cadre",
    "role",
    "sector",
    "org_id",
    "org_name",
    "org_registration_no",
    "position_title",
    "workplace_code",
    "workplace_name_en",
    "workplace_name_km",
    "status",
    "start_date",
    "end_date",
    "education_level",
    "education_field",
];

/// Workers read per page of an export.
pub const EXPORT_PAGE: i64 = 1000;

/// A paged reader over an export (see [`Store::export_pages`]).
pub struct WorkerExport<'a> {
    store: &'a Store,
    p: Principal,
    q: WorkerQuery,
    last_id: i64,
    done: bool,
}

fn export_row(r: &AnyRow) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(EXPORT_COLUMNS.len());
    for col in EXPORT_COLUMNS {
        let v = match *col {
            "id" => Some(r.try_get::<i64, _>("id")?.to_string()),
            "org_id" => r.try_get::<Option<i64>, _>("org_id")?.map(|v| v.to_string()),
            c => r.try_get::<Option<String>, _>(c)?,
        };
        out.push(v.unwrap_or_default());
    }
    Ok(out)
}

impl WorkerExport<'_> {
    /// The next page of rows (in [`EXPORT_COLUMNS`] order), None at the end.
    pub async fn next_page(&mut self) -> Result<Option<Vec<Vec<String>>>> {
        if self.done {
            return Ok(None);
        }
        let filter = self.store.worker_filter(&self.p, &self.q);
        let mut sql = crate::common::sql::Sql::new(
            "SELECT w.id, w.name_km, w.name_latin, w.sex, w.date_of_birth, w.national_id, w.phone, w.email, \
             w.cadre, w.role, w.sector, w.org_id, o.name_en AS org_name, o.registration_no AS org_registration_no, \
             w.position_title, w.workplace_code, u.name_en AS workplace_name_en, u.name_km AS workplace_name_km, \
             w.status, w.start_date, w.end_date, w.education_level, w.education_field \
             FROM workers w JOIN admin_units u ON u.code = w.workplace_code \
             LEFT JOIN organizations o ON o.id = w.org_id",
        );
        sql.push(&filter.text);
        sql.args = filter.args;
        sql.push(" AND w.id > ").int(self.last_id).push(" ORDER BY w.id LIMIT ").int(EXPORT_PAGE);
        let rows = sql.query().fetch_all(&self.store.pool).await?;
        if (rows.len() as i64) < EXPORT_PAGE {
            self.done = true;
        }
        if let Some(r) = rows.last() {
            self.last_id = r.try_get("id")?;
        }
        if rows.is_empty() {
            return Ok(None);
        }
        rows.iter().map(export_row).collect::<Result<Vec<_>>>().map(Some)
    }
}

impl Store {
    /// A paged reader over every worker matching `q` (its `page` and
    /// `per_page` are ignored) within the principal's scope, in id order.
    pub fn export_pages(&self, p: &Principal, q: &WorkerQuery) -> WorkerExport<'_> {
        WorkerExport { store: self, p: p.clone(), q: q.clone(), last_id: 0, done: false }
    }

    /// Streams every worker matching `q` within the principal's scope to
    /// `sink`, one row at a time in [`EXPORT_COLUMNS`] order, in id order.
    /// Returns how many rows were written; stops at the first sink error.
    pub async fn export_workers<F>(&self, p: &Principal, q: &WorkerQuery, mut sink: F) -> Result<u64>
    where
        F: FnMut(Vec<String>) -> std::io::Result<()>,
    {
        let mut pages = self.export_pages(p, q);
        let mut n = 0u64;
        while let Some(rows) = pages.next_page().await? {
            for r in rows {
                sink(r)?;
                n += 1;
            }
        }
        Ok(n)
    }
}
