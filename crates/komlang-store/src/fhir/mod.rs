//! What the FHIR registry (`/fhir/r4/`, docs/fhir.md) reads: workers with their certificates
//! and licences (Practitioner), postings (PractitionerRole), organizations and administrative
//! units, each with the time it last changed, and the change feed that `_history` lists
//! (`fhir_changes`, kept by the database's triggers: migration 0024). Every read is inside the
//! caller's scope, as the rest of the store's: a worker outside it is no worker at all, and a
//! resource that left it reads, in the feed, as deleted.

use std::collections::HashMap;

use komlang_core::{Action, Principal, Target};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::common::scope::{push_area, push_org_scope, push_worker_scope, push_worker_scope_on};
use crate::common::sql::Sql;
use crate::{Result, Store};

/// How a `name` search matches (FHIR's string search: starts with, `:contains`, `:exact`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameMatch {
    /// A word of the name starts with the text, ignoring case.
    Starts,
    /// The name holds the text, ignoring case.
    Contains,
    /// The name is the text, exactly.
    Exact,
}

/// A condition on a resource's last change (`_lastUpdated`), on its time as the feed writes
/// it (`YYYY-MM-DDTHH:MM:SS.mmmZ`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Updated {
    /// Last changed at or after.
    AtOrAfter(String),
    /// Last changed before.
    Before(String),
}

impl Updated {
    /// Whether a resource last changed at `at` meets the condition.
    pub fn holds(&self, at: &str) -> bool {
        match self {
            Updated::AtOrAfter(b) => at >= b.as_str(),
            Updated::Before(b) => at < b.as_str(),
        }
    }
}

/// A search of Practitioners (workers). `None`: no condition; `Some(empty)`: nothing matches.
#[derive(Debug, Clone, Default)]
pub struct PractitionerQuery {
    pub ids: Option<Vec<i64>>,
    pub national_ids: Option<Vec<String>>,
    pub name: Option<(NameMatch, String)>,
    pub active: Option<bool>,
    pub updated: Vec<Updated>,
    /// Only ids above this one (the last of the page before: pages by key).
    pub after: Option<i64>,
    pub offset: u64,
    pub count: u64,
    /// Count every match (the answer's total); a page only otherwise.
    pub count_total: bool,
}

/// A search of PractitionerRoles (postings).
#[derive(Debug, Clone, Default)]
pub struct RoleQuery {
    pub ids: Option<Vec<i64>>,
    pub practitioners: Option<Vec<i64>>,
    pub organizations: Option<Vec<i64>>,
    pub locations: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    /// Active on `today`: started, and not ended before it.
    pub active: Option<bool>,
    pub today: String,
    pub updated: Vec<Updated>,
    /// Only ids above this one (the last of the page before: pages by key).
    pub after: Option<i64>,
    pub offset: u64,
    pub count: u64,
    /// Count every match (the answer's total); a page only otherwise.
    pub count_total: bool,
}

/// A worker as a Practitioner shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirWorker {
    pub id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub sex: String,
    pub date_of_birth: Option<String>,
    pub national_id: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub status: String,
    pub education_level: Option<String>,
    pub last_updated: String,
    pub certificates: Vec<FhirCertificate>,
    pub licences: Vec<FhirLicence>,
}

/// A certificate: a qualification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirCertificate {
    pub number: String,
    pub level: String,
    pub programme_en: String,
    pub programme_km: String,
    pub issued_on: String,
    pub issued_by: String,
    pub revoked_on: Option<String>,
}

/// A licence once issued (with its number): a qualification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirLicence {
    pub number: String,
    pub status: String,
    pub term_start: Option<String>,
    pub expires_on: Option<String>,
}

/// A posting as a PractitionerRole shows it (with its worker's cadre and sector).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirPosting {
    pub id: i64,
    pub worker_id: i64,
    pub org_id: Option<i64>,
    pub role: String,
    pub cadre: String,
    pub sector: String,
    pub position_title: Option<String>,
    pub workplace_code: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub last_updated: String,
}

/// An organization as an Organization shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirOrg {
    pub id: i64,
    pub name_km: Option<String>,
    pub name_en: String,
    pub kind: String,
    pub registration_no: Option<String>,
    pub admin_code: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub last_updated: String,
}

/// An administrative unit as a Location (and a jurisdiction's Organization) shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirUnit {
    pub code: String,
    pub level: String,
    pub parent_code: Option<String>,
    pub name_km: String,
    pub name_en: String,
    pub last_updated: String,
}

/// A resource changed since a time, at the time of its latest change the reader may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub id: String,
    pub at: String,
}

/// The kind of resource kept in the feed per worker (whose reach decides who sees it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerResource {
    Practitioner,
    PractitionerRole,
}

/// The latest change of a resource: `MAX(changed_at)` of its rows (`$id` the resource's id
/// as SQL text).
fn last_change(kind: &str, id: &str) -> String {
    format!("(SELECT MAX(f.changed_at) FROM fhir_changes f WHERE f.resource_type = '{kind}' AND f.resource_id = {id})")
}

/// Appends the `_lastUpdated` conditions over the feed rows of `kinds` (each with the SQL of the
/// resource id it is kept under): at or after `b` when some row is; before `b` when none is.
fn push_updated(sql: &mut Sql, updated: &[Updated], kinds: &[(&str, &str)]) {
    for u in updated {
        let (negate, bound) = match u {
            Updated::AtOrAfter(b) => ("", b),
            Updated::Before(b) => ("NOT ", b),
        };
        sql.push(" AND ").push(negate).push("(");
        for (i, (kind, id)) in kinds.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push("EXISTS (SELECT 1 FROM fhir_changes f WHERE f.resource_type = '")
                .push(kind)
                .push("' AND f.resource_id = ")
                .push(id)
                .push(" AND f.changed_at >= ")
                .text(bound.clone())
                .push(")");
        }
        sql.push(")");
    }
}

/// Appends `AND col IN (values…)` (nothing matches an empty list).
fn push_in<T: Clone>(sql: &mut Sql, col: &str, values: &[T], bind: fn(&mut Sql, T) -> &mut Sql) {
    if values.is_empty() {
        sql.push(" AND 1 = 0");
        return;
    }
    sql.push(" AND ").push(col).push(" IN (");
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        bind(sql, v.clone());
    }
    sql.push(")");
}

fn push_in_ints(sql: &mut Sql, col: &str, ids: &[i64]) {
    push_in(sql, col, ids, |s, v| s.int(v));
}

fn push_in_texts(sql: &mut Sql, col: &str, values: &[String]) {
    push_in(sql, col, values, |s, v| s.text(v));
}

/// A LIKE pattern (with `ESCAPE '\'`) of `text` lower-cased, after `prefix` and before `%`.
fn like(prefix: &str, text: &str) -> String {
    let mut s = String::from(prefix);
    for c in komlang_core::clean_text(text).to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

/// Appends a name condition on the columns `cols`.
fn push_name(sql: &mut Sql, cols: &[&str], how: NameMatch, text: &str) {
    sql.push(" AND (");
    for (i, col) in cols.iter().enumerate() {
        if i > 0 {
            sql.push(" OR ");
        }
        match how {
            NameMatch::Exact => {
                sql.push(col).push(" = ").text(komlang_core::clean_text(text));
            }
            NameMatch::Contains => {
                sql.push("LOWER(").push(col).push(") LIKE ").text(like("%", text)).push(" ESCAPE '\\'");
            }
            NameMatch::Starts => {
                sql.push("LOWER(").push(col).push(") LIKE ").text(like("", text)).push(" ESCAPE '\\' OR LOWER(");
                sql.push(col).push(") LIKE ").text(like("% ", text)).push(" ESCAPE '\\'");
            }
        }
    }
    sql.push(")");
}

fn opt_text(r: &AnyRow, col: &str) -> Result<Option<String>> {
    Ok(r.try_get::<Option<String>, _>(col)?.filter(|s| !s.is_empty()))
}

impl Store {
    /// The Practitioners `q` finds in the caller's reach (a page of them, by id) and, when asked,
    /// how many it finds in all.
    pub async fn fhir_practitioners(
        &self,
        p: &Principal,
        q: &PractitionerQuery,
    ) -> Result<(Option<u64>, Vec<FhirWorker>)> {
        p.require(Action::ReadWorkers, Target::Any)?;
        let mut filter = Sql::new(" FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1");
        push_worker_scope(&mut filter, &p.worker_scope());
        if let Some(ids) = &q.ids {
            push_in_ints(&mut filter, "w.id", ids);
        }
        if let Some(nids) = &q.national_ids {
            push_in_texts(&mut filter, "w.national_id", nids);
        }
        if let Some((how, text)) = &q.name {
            push_name(&mut filter, &["w.name_latin", "w.name_km"], *how, text);
        }
        match q.active {
            Some(true) => filter.push(" AND w.status IN ('active', 'on_leave')"),
            Some(false) => filter.push(" AND w.status NOT IN ('active', 'on_leave')"),
            None => &mut filter,
        };
        push_updated(&mut filter, &q.updated, &[("Practitioner", "CAST(w.id AS TEXT)")]);
        let total = if q.count_total { Some(self.fhir_count(&filter).await?) } else { None };
        if let Some(after) = q.after {
            filter.push(" AND w.id > ").int(after);
        }
        let mut sql = Sql::new(&format!(
            "SELECT w.id, w.name_km, w.name_latin, w.sex, w.date_of_birth, w.national_id, w.phone, w.email, \
             w.status, w.education_level, {} AS last_updated",
            last_change("Practitioner", "CAST(w.id AS TEXT)")
        ));
        sql.append(&filter);
        sql.push(" ORDER BY w.id LIMIT ").int(q.count as i64).push(" OFFSET ").int(q.offset as i64);
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut workers = Vec::with_capacity(rows.len());
        for r in &rows {
            workers.push(FhirWorker {
                id: r.try_get("id")?,
                name_km: r.try_get("name_km")?,
                name_latin: r.try_get("name_latin")?,
                sex: r.try_get("sex")?,
                date_of_birth: opt_text(r, "date_of_birth")?,
                national_id: opt_text(r, "national_id")?,
                phone: opt_text(r, "phone")?,
                email: opt_text(r, "email")?,
                status: r.try_get("status")?,
                education_level: opt_text(r, "education_level")?,
                last_updated: r.try_get::<Option<String>, _>("last_updated")?.unwrap_or_default(),
                certificates: Vec::new(),
                licences: Vec::new(),
            });
        }
        self.add_qualifications(&mut workers).await?;
        Ok((total, workers))
    }

    /// The certificates and issued licences of `workers`.
    async fn add_qualifications(&self, workers: &mut [FhirWorker]) -> Result<()> {
        if workers.is_empty() {
            return Ok(());
        }
        let ids: Vec<i64> = workers.iter().map(|w| w.id).collect();
        let at: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut sql = Sql::new(
            "SELECT c.worker_id, c.number, c.level, p.title_en, p.title_km, c.issued_on, c.issued_by, c.revoked_on \
             FROM certificates c JOIN training_programmes p ON p.id = c.programme_id WHERE 1 = 1",
        );
        push_in_ints(&mut sql, "c.worker_id", &ids);
        sql.push(" ORDER BY c.issued_on, c.id");
        for r in sql.query().fetch_all(&self.pool).await? {
            let w: i64 = r.try_get("worker_id")?;
            if let Some(i) = at.get(&w) {
                workers[*i].certificates.push(FhirCertificate {
                    number: r.try_get("number")?,
                    level: r.try_get("level")?,
                    programme_en: r.try_get("title_en")?,
                    programme_km: r.try_get("title_km")?,
                    issued_on: r.try_get("issued_on")?,
                    issued_by: r.try_get("issued_by")?,
                    revoked_on: opt_text(&r, "revoked_on")?,
                });
            }
        }
        let mut sql = Sql::new(
            "SELECT l.worker_id, l.number, l.status, l.term_start, l.expires_on FROM licences l \
             WHERE l.number IS NOT NULL",
        );
        push_in_ints(&mut sql, "l.worker_id", &ids);
        sql.push(" ORDER BY l.id");
        for r in sql.query().fetch_all(&self.pool).await? {
            let w: i64 = r.try_get("worker_id")?;
            if let Some(i) = at.get(&w) {
                workers[*i].licences.push(FhirLicence {
                    number: r.try_get("number")?,
                    status: r.try_get("status")?,
                    term_start: opt_text(&r, "term_start")?,
                    expires_on: opt_text(&r, "expires_on")?,
                });
            }
        }
        Ok(())
    }

    /// The PractitionerRoles (postings of workers in the caller's reach) `q` finds, a page of
    /// them by id, and how many it finds in all. A posting's last change is its own or its
    /// worker's (whose cadre and sector it shows).
    pub async fn fhir_practitioner_roles(
        &self,
        p: &Principal,
        q: &RoleQuery,
    ) -> Result<(Option<u64>, Vec<FhirPosting>)> {
        p.require(Action::ReadWorkers, Target::Any)?;
        let mut filter = Sql::new(
            " FROM postings ps JOIN workers w ON w.id = ps.worker_id \
             JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1",
        );
        push_worker_scope(&mut filter, &p.worker_scope());
        if let Some(ids) = &q.ids {
            push_in_ints(&mut filter, "ps.id", ids);
        }
        if let Some(ids) = &q.practitioners {
            push_in_ints(&mut filter, "ps.worker_id", ids);
        }
        if let Some(ids) = &q.organizations {
            push_in_ints(&mut filter, "ps.org_id", ids);
        }
        if let Some(codes) = &q.locations {
            push_in_texts(&mut filter, "ps.workplace_code", codes);
        }
        if let Some(roles) = &q.roles {
            push_in_texts(&mut filter, "ps.role", roles);
        }
        if let Some(active) = q.active {
            filter.push(if active { " AND (" } else { " AND NOT (" });
            filter.push("ps.start_date <= ").text(q.today.clone());
            filter.push(" AND (ps.end_date IS NULL OR ps.end_date >= ").text(q.today.clone()).push("))");
        }
        push_updated(
            &mut filter,
            &q.updated,
            &[("PractitionerRole", "CAST(ps.id AS TEXT)"), ("Practitioner", "CAST(ps.worker_id AS TEXT)")],
        );
        let total = if q.count_total { Some(self.fhir_count(&filter).await?) } else { None };
        if let Some(after) = q.after {
            filter.push(" AND ps.id > ").int(after);
        }
        let mut sql = Sql::new(&format!(
            "SELECT ps.id, ps.worker_id, ps.org_id, ps.role, w.cadre, w.sector, ps.position_title, ps.workplace_code, \
             ps.start_date, ps.end_date, {} AS own_change, {} AS worker_change",
            last_change("PractitionerRole", "CAST(ps.id AS TEXT)"),
            last_change("Practitioner", "CAST(ps.worker_id AS TEXT)")
        ));
        sql.append(&filter);
        sql.push(" ORDER BY ps.id LIMIT ").int(q.count as i64).push(" OFFSET ").int(q.offset as i64);
        let mut out = Vec::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            let own: Option<String> = r.try_get("own_change")?;
            let worker: Option<String> = r.try_get("worker_change")?;
            out.push(FhirPosting {
                id: r.try_get("id")?,
                worker_id: r.try_get("worker_id")?,
                org_id: r.try_get("org_id")?,
                role: r.try_get("role")?,
                cadre: r.try_get("cadre")?,
                sector: r.try_get("sector")?,
                position_title: opt_text(&r, "position_title")?,
                workplace_code: r.try_get("workplace_code")?,
                start_date: r.try_get("start_date")?,
                end_date: opt_text(&r, "end_date")?,
                last_updated: own.max(worker).unwrap_or_default(),
            });
        }
        Ok((total, out))
    }

    /// How many rows the filter (a `FROM … WHERE …`) finds.
    async fn fhir_count(&self, filter: &Sql) -> Result<u64> {
        let mut count = Sql::new("SELECT COUNT(*)");
        count.append(filter);
        let n: i64 = count.query().fetch_one(&self.pool).await?.try_get(0)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Every organization the caller sees, by id.
    pub async fn fhir_organizations(&self, p: &Principal) -> Result<Vec<FhirOrg>> {
        let mut sql = Sql::new(&format!(
            "SELECT o.id, o.name_km, o.name_en, o.kind, o.registration_no, o.admin_code, o.phone, o.email, \
             {} AS last_updated FROM organizations o JOIN admin_units u ON u.code = o.admin_code WHERE 1 = 1",
            last_change("Organization", "CAST(o.id AS TEXT)")
        ));
        push_org_scope(&mut sql, p);
        sql.push(" ORDER BY o.id");
        let mut out = Vec::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            out.push(FhirOrg {
                id: r.try_get("id")?,
                name_km: opt_text(&r, "name_km")?,
                name_en: r.try_get("name_en")?,
                kind: r.try_get("kind")?,
                registration_no: opt_text(&r, "registration_no")?,
                admin_code: r.try_get("admin_code")?,
                phone: opt_text(&r, "phone")?,
                email: opt_text(&r, "email")?,
                last_updated: r.try_get::<Option<String>, _>("last_updated")?.unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Every administrative unit (reference data, the same for every reader), by code.
    pub async fn fhir_units(&self) -> Result<Vec<FhirUnit>> {
        let sql = format!(
            "SELECT u.code, u.level, u.parent_code, u.name_km, u.name_en, {} AS last_updated \
             FROM admin_units u ORDER BY u.code",
            last_change("Location", "u.code")
        );
        let mut out = Vec::new();
        for r in sqlx::query(&sql).fetch_all(&self.pool).await? {
            out.push(FhirUnit {
                code: r.try_get("code")?,
                level: r.try_get("level")?,
                parent_code: opt_text(&r, "parent_code")?,
                name_km: r.try_get("name_km")?,
                name_en: r.try_get("name_en")?,
                last_updated: r.try_get::<Option<String>, _>("last_updated")?.unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The Practitioners or PractitionerRoles changed at or after `since` (every one when `None`)
    /// where the caller could see them, before or after the change: how many there are, and
    /// `count` of them, oldest change first, after the change `after` (a page's last: pages
    /// are read by this key, not by position, so that a resource changing again while a
    /// consumer pages moves after the pages to come, and none is skipped). A PractitionerRole
    /// changes with its worker (who may have moved into or out of the caller's reach).
    pub async fn fhir_worker_changes(
        &self,
        p: &Principal,
        kind: WorkerResource,
        since: Option<&str>,
        after: Option<&Change>,
        count: u64,
    ) -> Result<(u64, Vec<Change>)> {
        p.require(Action::ReadWorkers, Target::Any)?;
        let ws = p.worker_scope();
        let rows = |resource: &str, id: &str, join: &str| {
            let mut s = Sql::new(&format!(
                "SELECT {id} AS rid, f.changed_at AS at FROM fhir_changes f {join} \
                 JOIN admin_units u ON u.code = f.unit_code WHERE f.resource_type = '{resource}'"
            ));
            if let Some(t) = since {
                s.push(" AND f.changed_at >= ").text(t);
            }
            push_worker_scope_on(&mut s, &ws, "f.org_id", "f.worker_id");
            s
        };
        let mut union = match kind {
            WorkerResource::Practitioner => rows("Practitioner", "f.resource_id", ""),
            WorkerResource::PractitionerRole => {
                let mut s = rows("PractitionerRole", "f.resource_id", "");
                s.push(" UNION ALL ");
                s.append(&rows(
                    "Practitioner",
                    "CAST(ps.id AS TEXT)",
                    "JOIN postings ps ON ps.worker_id = f.worker_id",
                ));
                s
            }
        };
        let grouped = {
            let mut s = Sql::new("SELECT c.rid, MAX(c.at) AS at FROM (");
            s.append(&union);
            s.push(") c GROUP BY c.rid");
            s
        };
        union = Sql::new("SELECT COUNT(*) FROM (");
        union.append(&grouped);
        union.push(") g");
        let total: i64 = union.query().fetch_one(&self.pool).await?.try_get(0)?;
        let mut page = Sql::new("SELECT g.rid, g.at FROM (");
        page.append(&grouped);
        page.push(") g WHERE 1 = 1");
        if let Some(a) = after {
            page.push(" AND (g.at > ").text(a.at.clone());
            page.push(" OR (g.at = ").text(a.at.clone()).push(" AND g.rid > ").text(a.id.clone()).push("))");
        }
        page.push(" ORDER BY g.at, g.rid LIMIT ").int(count as i64);
        let mut out = Vec::new();
        for r in page.query().fetch_all(&self.pool).await? {
            out.push(Change { id: r.try_get("rid")?, at: r.try_get("at")? });
        }
        Ok((u64::try_from(total).unwrap_or(0), out))
    }

    /// The organizations changed at or after `since` (every one when `None`) that the caller could
    /// see before or after the change: those seated in the caller's area (or the caller's own),
    /// and those employing a worker whose change the caller sees (an organization is seen where
    /// it has staff). Each once, at its latest such change.
    pub async fn fhir_org_changes(&self, p: &Principal, since: Option<&str>) -> Result<Vec<Change>> {
        use komlang_core::access::OrgScope;
        if !p.may(Action::ReadOrgs) {
            return Ok(Vec::new());
        }
        let mut seats = Sql::new(
            "SELECT f.resource_id AS rid, MAX(f.changed_at) AS at FROM fhir_changes f \
             JOIN admin_units u ON u.code = f.unit_code WHERE f.resource_type = 'Organization'",
        );
        if let Some(t) = since {
            seats.push(" AND f.changed_at >= ").text(t);
        }
        let mut staff: Option<Sql> = None;
        match p.org_scope() {
            OrgScope::Area(scope) => {
                push_area(&mut seats, &scope);
                let mut s = Sql::new(
                    "SELECT CAST(f.org_id AS TEXT) AS rid, MAX(f.changed_at) AS at FROM fhir_changes f \
                     JOIN admin_units u ON u.code = f.unit_code \
                     WHERE f.resource_type = 'Practitioner' AND f.org_id IS NOT NULL",
                );
                if let Some(t) = since {
                    s.push(" AND f.changed_at >= ").text(t);
                }
                push_area(&mut s, &scope);
                s.push(" GROUP BY f.org_id");
                staff = Some(s);
            }
            OrgScope::One(id) => {
                seats.push(" AND f.org_id = ").int(id);
            }
            OrgScope::Nothing => return Ok(Vec::new()),
        }
        seats.push(" GROUP BY f.resource_id");
        let mut latest: HashMap<String, String> = HashMap::new();
        let mut found = seats.query().fetch_all(&self.pool).await?;
        if let Some(s) = staff {
            found.extend(s.query().fetch_all(&self.pool).await?);
        }
        for r in found {
            let id: String = r.try_get("rid")?;
            let at: String = r.try_get("at")?;
            let e = latest.entry(id).or_default();
            if *e < at {
                *e = at;
            }
        }
        Ok(sorted(latest))
    }

    /// The administrative units changed at or after `since` (every one when `None`).
    pub async fn fhir_unit_changes(&self, since: Option<&str>) -> Result<Vec<Change>> {
        let mut sql = Sql::new(
            "SELECT f.resource_id AS rid, MAX(f.changed_at) AS at FROM fhir_changes f \
             WHERE f.resource_type = 'Location'",
        );
        if let Some(t) = since {
            sql.push(" AND f.changed_at >= ").text(t);
        }
        sql.push(" GROUP BY f.resource_id");
        let mut latest = HashMap::new();
        for r in sql.query().fetch_all(&self.pool).await? {
            latest.insert(r.try_get::<String, _>("rid")?, r.try_get::<String, _>("at")?);
        }
        Ok(sorted(latest))
    }
}

impl Store {
    /// Forgets feed rows that a later row of the same resource, seen in the same place, makes
    /// redundant (at most `limit` of them): what `_history` and `meta.lastUpdated` read is the
    /// latest row per resource and place, so nothing they answer changes. How many were deleted.
    pub async fn compact_fhir_changes(&self, limit: u32) -> Result<u64> {
        let sql = format!(
            "DELETE FROM fhir_changes WHERE id IN (SELECT f.id FROM fhir_changes f WHERE EXISTS (\
             SELECT 1 FROM fhir_changes g WHERE g.resource_type = f.resource_type AND g.resource_id = f.resource_id \
             AND COALESCE(g.unit_code, '') = COALESCE(f.unit_code, '') AND COALESCE(g.org_id, 0) = COALESCE(f.org_id, 0) \
             AND COALESCE(g.worker_id, 0) = COALESCE(f.worker_id, 0) \
             AND (g.changed_at > f.changed_at OR (g.changed_at = f.changed_at AND g.id > f.id))) LIMIT {limit})"
        );
        Ok(sqlx::query(&sql).execute(&self.pool).await?.rows_affected())
    }
}

/// Changes oldest first (then by id).
fn sorted(latest: HashMap<String, String>) -> Vec<Change> {
    let mut out: Vec<Change> = latest.into_iter().map(|(id, at)| Change { id, at }).collect();
    out.sort_by(|a, b| (&a.at, &a.id).cmp(&(&b.at, &b.id)));
    out
}
