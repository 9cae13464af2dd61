//! Reading the rows of a worker file: each row converted and checked, its employer resolved
//! among the organizations the caller may name.

use std::collections::{HashMap, HashSet};

use komlang_core::import::{
    ascii_digits, check_mapping, convert_row, parse_int, ColumnMapping, ImportField, OrgRef, RowError,
};
use komlang_core::validate::{validate_worker, WorkerInput};
use komlang_core::*;
use sqlx::{AnyConnection, Row};

use super::{Ctx, Prep, Prepared};
use crate::common::scope::push_org_scope;
use crate::common::sql::Sql;
use crate::imports::RejectedRow;
use crate::workers::{dedup_person, keys_for};
use crate::{Result, StoreError};

/// Normalizes an organization name or registration number for comparison:
/// trimmed, inner spaces collapsed, lower case.
fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// The organizations a principal may name as employer, indexed.
#[derive(Default)]
pub(super) struct OrgIndex {
    ids: HashSet<i64>,
    by_reg: HashMap<String, Vec<i64>>,
    by_name: HashMap<String, Vec<i64>>,
}

impl OrgIndex {
    /// The organization a file names: by registration number, else by name
    /// (English or Khmer, exact but for case and spacing; a name that is no
    /// organization's may be a registration number), else by id.
    /// `Ok(None)` when the file names none; the error names the column and code.
    fn resolve(&self, r: &OrgRef) -> std::result::Result<Option<i64>, (ImportField, &'static str)> {
        let clean = |v: &Option<String>| v.non_blank().map(norm);
        let reg = clean(&r.registration_no);
        let name = clean(&r.name);
        if reg.is_none() && name.is_none() && r.id.is_none() {
            return Ok(None);
        }
        if let Some(ids) = reg.as_ref().and_then(|k| self.by_reg.get(k)) {
            return Ok(ids.iter().min().copied());
        }
        if let Some(ids) = name.as_ref().and_then(|k| self.by_name.get(k)) {
            return match ids.as_slice() {
                [id] => Ok(Some(*id)),
                _ => Err((ImportField::OrgName, "ambiguous_organization")),
            };
        }
        // An "employer" column may hold registration numbers.
        if let Some(ids) = name.as_ref().and_then(|k| self.by_reg.get(&norm(&ascii_digits(k)))) {
            return Ok(ids.iter().min().copied());
        }
        if let Some(id) = r.id.filter(|id| self.ids.contains(id)) {
            return Ok(Some(id));
        }
        let field = if reg.is_some() {
            ImportField::OrgRegistrationNo
        } else if name.is_some() {
            ImportField::OrgName
        } else {
            ImportField::OrgId
        };
        Err((field, "unknown_organization"))
    }
}

pub(super) fn row_error(
    row: u64,
    headers: &[String],
    cells: &[String],
    col: Option<usize>,
    field: &str,
    code: &str,
) -> RowError {
    let (column, value) = match col {
        Some(i) => (
            headers.get(i).cloned().unwrap_or_default(),
            cells.get(i).map(|s| s.trim().to_string()).unwrap_or_default(),
        ),
        None => (String::new(), String::new()),
    };
    RowError { row, column, field: field.to_string(), value, code: code.to_string(), params: Default::default() }
}

/// Keeps only the fields the row gives a value for.
fn non_empty(mut i: WorkerInput) -> WorkerInput {
    macro_rules! clear {
        ($($f:ident),*) => { $( if i.$f.as_deref().is_some_and(|s| s.trim().is_empty()) { i.$f = None; } )* };
    }
    clear!(
        name_km,
        name_latin,
        sex,
        date_of_birth,
        national_id,
        phone,
        email,
        cadre,
        role,
        sector,
        position_title,
        workplace_code,
        status,
        start_date,
        end_date,
        education_level,
        education_field
    );
    i
}

impl Ctx<'_> {
    pub(super) fn col(&self, f: ImportField) -> Option<usize> {
        self.mapping.column_of(f)
    }

    fn cell(&self, cells: &[String], f: ImportField) -> Option<String> {
        self.col(f).and_then(|i| cells.get(i)).and_then(|s| s.non_blank()).map(String::from)
    }

    fn workplace_error(&self, row: u64, cells: &[String], code: &str) -> Option<RowError> {
        let (field, err) = match self.units.get(code) {
            None => ("workplace_code", "unknown_admin_unit"),
            Some(u) if !self.p.scope.contains(u) => ("workplace_code", "out_of_scope"),
            Some(_) => return None,
        };
        Some(row_error(row, self.headers, cells, self.col(ImportField::WorkplaceCode), field, err))
    }

    fn org_error(&self, row: u64, cells: &[String], (field, code): (ImportField, &str)) -> RowError {
        row_error(row, self.headers, cells, self.col(field), field.code(), code)
    }

    /// Converts and checks one row.
    pub(super) fn prepare(&self, row: u64, cells: Vec<String>) -> Prep {
        match convert_row(self.mapping, self.headers, row, &cells, self.today) {
            Err(errs) if errs.len() == 1 && errs[0].code == "empty_row" => Prep::Empty,
            Err(mut errors) => {
                // Report the reference problems of the cells that were fine, too.
                let fields: Vec<String> = errors.iter().map(|e| e.field.clone()).collect();
                let has = |f: &str| fields.iter().any(|e| e == f);
                if !has("workplace_code") {
                    if let Some(code) = self.cell(&cells, ImportField::WorkplaceCode) {
                        errors.extend(self.workplace_error(row, &cells, &ascii_digits(&code)));
                    }
                }
                if !has("org_id") && !has("org_name") && !has("org_registration_no") {
                    let r = OrgRef {
                        id: self.cell(&cells, ImportField::OrgId).and_then(|v| parse_int(&v)),
                        name: self.cell(&cells, ImportField::OrgName),
                        registration_no: self.cell(&cells, ImportField::OrgRegistrationNo).map(|v| ascii_digits(&v)),
                    };
                    if let Err(e) = self.orgs.resolve(&r) {
                        errors.push(self.org_error(row, &cells, e));
                    }
                }
                Prep::Rejected(RejectedRow { row, cells, errors })
            }
            Ok(ir) => {
                let mut errors = Vec::new();
                let mut input = ir.input;
                let named = match self.orgs.resolve(&ir.org) {
                    Ok(o) => o,
                    Err(e) => {
                        errors.push(self.org_error(row, &cells, e));
                        None
                    }
                };
                if let Some(code) = input.workplace_code.as_deref() {
                    errors.extend(self.workplace_error(row, &cells, code));
                }
                if !errors.is_empty() {
                    return Prep::Rejected(RejectedRow { row, cells, errors });
                }
                input.org_id = named.or(self.own_org);
                let draft = match validate_worker(&input, self.today) {
                    Ok(d) => d,
                    Err(v) => {
                        let errors = v
                            .errors
                            .iter()
                            .map(|e| {
                                let col = ImportField::parse(&e.field).and_then(|f| self.col(f));
                                row_error(row, self.headers, &cells, col, &e.field, &e.code)
                            })
                            .collect();
                        return Prep::Rejected(RejectedRow { row, cells, errors });
                    }
                };
                let mut patch = non_empty(input);
                patch.org_id = named;
                let person = dedup_person(&draft);
                let (keys, lookup) = keys_for(&person);
                Prep::Valid(Box::new(Prepared { row, cells, draft, patch, person, keys, lookup }))
            }
        }
    }
}

/// The organizations the principal may name as employer, indexed.
pub(super) async fn load_org_index(conn: &mut AnyConnection, p: &Principal) -> Result<OrgIndex> {
    let mut sql = Sql::new(
        "SELECT o.id, o.name_en, o.name_km, o.registration_no FROM organizations o \
         JOIN admin_units u ON u.code = o.admin_code WHERE 1 = 1",
    );
    push_org_scope(&mut sql, p);
    let mut idx = OrgIndex::default();
    for r in sql.query().fetch_all(&mut *conn).await? {
        let id: i64 = r.try_get("id")?;
        idx.ids.insert(id);
        let en: String = r.try_get("name_en")?;
        idx.by_name.entry(norm(&en)).or_default().push(id);
        if let Some(km) = r.try_get::<Option<String>, _>("name_km")? {
            let k = norm(&km);
            if k != norm(&en) && !k.is_empty() {
                idx.by_name.entry(k).or_default().push(id);
            }
        }
        if let Some(reg) = r.try_get::<Option<String>, _>("registration_no")? {
            let k = norm(&ascii_digits(&reg));
            if !k.is_empty() {
                idx.by_reg.entry(k).or_default().push(id);
            }
        }
    }
    Ok(idx)
}

/// A mapping that can feed the registry: one column per required field, no
/// field fed twice, as many entries as headers.
pub(super) fn check_worker_mapping(headers: &[String], mapping: &ColumnMapping) -> Result<()> {
    let mut errs = ValidationErrors::default();
    if mapping.columns.len() != headers.len() {
        errs.push(
            FieldError::new("mapping", "column_count_mismatch")
                .with("columns", headers.len())
                .with("mapped", mapping.columns.len()),
        );
    }
    if let Err(m) = check_mapping(mapping) {
        for e in m {
            errs.push(FieldError::new(e.field.code(), &e.code));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Invalid(errs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_references_resolve_by_number_then_name_then_id() {
        let mut idx = OrgIndex::default();
        idx.ids.extend([1, 2, 3]);
        idx.by_reg.insert("moi-1".into(), vec![1]);
        idx.by_name.insert("friends".into(), vec![2]);
        idx.by_name.insert("twins".into(), vec![2, 3]);
        let r = |id: Option<i64>, name: Option<&str>, reg: Option<&str>| OrgRef {
            id,
            name: name.map(String::from),
            registration_no: reg.map(String::from),
        };
        assert_eq!(idx.resolve(&r(None, None, None)), Ok(None));
        assert_eq!(idx.resolve(&r(Some(3), Some("Friends"), Some("MOI-1"))), Ok(Some(1)));
        assert_eq!(idx.resolve(&r(Some(3), Some(" friends "), Some("X"))), Ok(Some(2)));
        assert_eq!(idx.resolve(&r(None, Some("MOI-1"), None)), Ok(Some(1)), "a number in the name column");
        assert_eq!(idx.resolve(&r(Some(3), None, None)), Ok(Some(3)));
        assert_eq!(idx.resolve(&r(None, Some("Twins"), None)), Err((ImportField::OrgName, "ambiguous_organization")));
        assert_eq!(idx.resolve(&r(Some(9), None, None)), Err((ImportField::OrgId, "unknown_organization")));
        assert_eq!(
            idx.resolve(&r(None, Some("Nobody"), Some("X"))),
            Err((ImportField::OrgRegistrationNo, "unknown_organization"))
        );
    }
}
