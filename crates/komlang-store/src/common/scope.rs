//! Conditions that keep a query inside a principal's reach, and the common filters on workers.

use komlang_core::access::{OrgScope, WorkerScope};
use komlang_core::*;

use crate::common::sql::Sql;

/// Column of `admin_units u` that holds the code of a unit at `level`.
pub(crate) fn level_column(level: AdminLevel) -> &'static str {
    match level {
        AdminLevel::Country => "'*'",
        AdminLevel::Province => "u.province_code",
        AdminLevel::District => "u.district_code",
        AdminLevel::Commune => "u.commune_code",
        AdminLevel::Village => "u.code",
    }
}

/// Appends the geographic part of a scope (over `admin_units u`).
pub(crate) fn push_area(sql: &mut Sql, scope: &Scope) {
    if let Scope::Unit { code, level } = scope {
        if *level != AdminLevel::Country {
            sql.push(" AND ").push(level_column(*level)).push(" = ").text(code.clone());
        }
    }
}

/// Keeps a query (over `admin_units u`) within a unit (none, or the country: no condition).
pub(crate) fn push_within(sql: &mut Sql, unit: Option<&AdminUnit>) {
    if let Some(u) = unit.filter(|u| u.level != AdminLevel::Country) {
        sql.push(" AND ").push(level_column(u.level)).push(" = ").text(u.code.clone());
    }
}

/// Appends the conditions that keep a query inside a principal's reach
/// (over `workers w JOIN admin_units u`).
pub(crate) fn push_worker_scope(sql: &mut Sql, ws: &WorkerScope) {
    push_worker_scope_on(sql, ws, "w.org_id", "w.id");
}

/// [`push_worker_scope`] over rows that say where a worker is in other columns (`admin_units u`
/// joined on the unit, `org_col` the worker's organization, `worker_col` the worker's id): the
/// FHIR change feed's.
pub(crate) fn push_worker_scope_on(sql: &mut Sql, ws: &WorkerScope, org_col: &str, worker_col: &str) {
    match ws {
        WorkerScope::Area { scope, org_id } => {
            push_area(sql, scope);
            if let Some(org) = org_id {
                sql.push(" AND ").push(org_col).push(" = ").int(*org);
            }
        }
        WorkerScope::Own(id) => {
            sql.push(" AND ").push(worker_col).push(" = ").int(*id);
        }
        WorkerScope::Nothing => {
            sql.push(" AND 1 = 0");
        }
    }
}

/// Filters on a worker's place and attributes (over `workers w JOIN admin_units u`);
/// blank place codes are no filter.
#[derive(Debug, Default, Clone)]
pub(crate) struct AttributeFilter<'a> {
    pub province: Option<&'a str>,
    pub district: Option<&'a str>,
    pub commune: Option<&'a str>,
    pub cadre: Option<Cadre>,
    pub sector: Option<Sector>,
    pub status: Option<EmploymentStatus>,
    pub role: Option<WorkerRole>,
    pub sex: Option<Sex>,
    pub org_id: Option<i64>,
}

pub(crate) fn push_attribute_filters(sql: &mut Sql, f: &AttributeFilter<'_>) {
    for (col, v) in [("u.province_code", f.province), ("u.district_code", f.district), ("u.commune_code", f.commune)] {
        if let Some(v) = v.non_blank() {
            sql.push(" AND ").push(col).push(" = ").text(v);
        }
    }
    let codes = [
        ("w.cadre", f.cadre.map(Cadre::code)),
        ("w.sector", f.sector.map(Sector::code)),
        ("w.status", f.status.map(EmploymentStatus::code)),
        ("w.role", f.role.map(WorkerRole::code)),
        ("w.sex", f.sex.map(Sex::code)),
    ];
    for (col, v) in codes {
        if let Some(v) = v {
            sql.push(" AND ").push(col).push(" = ").text(v);
        }
    }
    if let Some(v) = f.org_id {
        sql.push(" AND w.org_id = ").int(v);
    }
}

pub(crate) fn push_org_scope(sql: &mut Sql, p: &Principal) {
    if !p.may(Action::ReadOrgs) {
        sql.push(" AND 1 = 0");
        return;
    }
    match p.org_scope() {
        OrgScope::Area(Scope::Unit { code, level }) if level != AdminLevel::Country => {
            // Seated in the area, or employing someone who works there: an NGO seated in
            // Phnom Penh is seen in each province where it has staff (docs/access.md).
            let col = level_column(level);
            let worker_col = col.replacen("u.", "wu.", 1);
            sql.push(" AND (").push(col).push(" = ").text(code.clone());
            sql.push(
                " OR EXISTS (SELECT 1 FROM workers ow JOIN admin_units wu ON wu.code = ow.workplace_code \
                 WHERE ow.org_id = o.id AND ",
            );
            sql.push(&worker_col).push(" = ").text(code).push("))");
        }
        OrgScope::Area(_) => {}
        OrgScope::One(id) => {
            sql.push(" AND o.id = ").int(id);
        }
        OrgScope::Nothing => {
            sql.push(" AND 1 = 0");
        }
    }
}

/// True when `p` may change organizations seated in `admin_code`'s unit: seeing an
/// organization because it employs someone in the area is not enough to change it.
pub(crate) fn seat_in_reach(p: &Principal, seat: &AdminUnit) -> bool {
    match p.org_scope() {
        OrgScope::Area(scope) => scope.contains(seat),
        OrgScope::One(_) | OrgScope::Nothing => true,
    }
}

/// Whether a worker's record is in the caller's reach (a worker outside it is, to the caller,
/// no worker at all).
pub(crate) async fn worker_in_reach(
    conn: &mut sqlx::AnyConnection,
    p: &Principal,
    worker_id: i64,
) -> crate::Result<bool> {
    let mut sql = Sql::new("SELECT w.id FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE w.id = ");
    sql.int(worker_id);
    push_worker_scope(&mut sql, &p.worker_scope());
    Ok(sql.query().fetch_optional(&mut *conn).await?.is_some())
}
