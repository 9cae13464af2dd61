//! The worker registry: scoped listing, create, update with posting and status
//! history, delete; every change audited in the same transaction.

use chrono::NaiveDate;
use komlang_core::access::WorkerScope;
use komlang_core::validate::{validate_worker, WorkerInput, SELF_EDITABLE_FIELDS};
use komlang_core::*;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::dedup_keys::{dedup_person, insert_dedup_keys, person_keys, replace_dedup_keys};
use super::search::{Search, COUNT_LIMIT};
use crate::common::audit::record_audit;
use crate::common::rows::opt_date;
use crate::common::scope::{push_area, push_attribute_filters, push_worker_scope, AttributeFilter};
use crate::common::sql::{bind_arg, check_version, lock_existing, Arg, Sql};
use crate::{now_text, Page, Result, Store, StoreError};

/// Filters for the worker list. Empty strings mean "no filter".
#[derive(Debug, Default, Clone)]
pub struct WorkerQuery {
    pub q: Option<String>,
    pub province: Option<String>,
    pub district: Option<String>,
    pub commune: Option<String>,
    pub cadre: Option<Cadre>,
    pub sector: Option<Sector>,
    pub status: Option<EmploymentStatus>,
    pub role: Option<WorkerRole>,
    pub org_id: Option<i64>,
    pub page: i64,
    pub per_page: i64,
}

impl WorkerQuery {
    /// The query's filters on a worker's place and attributes (not the search).
    fn attributes(&self) -> AttributeFilter<'_> {
        AttributeFilter {
            province: self.province.as_deref(),
            district: self.district.as_deref(),
            commune: self.commune.as_deref(),
            cadre: self.cadre,
            sector: self.sector,
            status: self.status,
            role: self.role,
            sex: None,
            org_id: self.org_id,
        }
    }
}

/// One line of the worker list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct WorkerRow {
    pub id: i64,
    pub name_km: String,
    pub name_latin: String,
    pub sex: Sex,
    pub cadre: Cadre,
    pub role: WorkerRole,
    pub sector: Sector,
    pub status: EmploymentStatus,
    pub org_id: Option<i64>,
    pub org_name: Option<String>,
    pub position_title: Option<String>,
    /// Admin unit code of the current workplace.
    pub workplace_code: String,
    pub workplace_name_en: String,
    pub workplace_name_km: String,
    pub province_code: Option<String>,
}

/// Context of an update: when it takes effect and why.
#[derive(Debug, Default, Clone)]
pub struct WorkerChange {
    pub effective_date: Option<NaiveDate>,
    pub note: Option<String>,
}

pub(crate) const WORKER_COLS: &str =
    "w.id, w.name_km, w.name_latin, w.sex, w.date_of_birth, w.national_id, w.phone, w.email, \
    w.cadre, w.role, w.sector, w.org_id, w.position_title, w.workplace_code, w.status, w.start_date, w.end_date, \
    w.education_level, w.education_field, w.synthetic, w.created_at, w.updated_at, w.version";

fn vocab<T>(r: &AnyRow, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let s: String = r.try_get(col)?;
    parse(&s).ok_or_else(|| StoreError::Corrupt(format!("{col} = {s}")))
}

fn opt_vocab<T>(r: &AnyRow, col: &str, parse: fn(&str) -> Option<T>) -> Result<Option<T>> {
    let s: Option<String> = r.try_get(col)?;
    match s {
        None => Ok(None),
        Some(s) => parse(&s).map(Some).ok_or_else(|| StoreError::Corrupt(format!("{col} = {s}"))),
    }
}

pub(crate) fn worker_from_row(r: &AnyRow) -> Result<Worker> {
    Ok(Worker {
        id: r.try_get("id")?,
        name_km: r.try_get("name_km")?,
        name_latin: r.try_get("name_latin")?,
        sex: vocab(r, "sex", Sex::parse)?,
        date_of_birth: opt_date(r, "date_of_birth")?,
        national_id: r.try_get("national_id")?,
        phone: r.try_get("phone")?,
        email: r.try_get("email")?,
        cadre: vocab(r, "cadre", Cadre::parse)?,
        role: vocab(r, "role", WorkerRole::parse)?,
        sector: vocab(r, "sector", Sector::parse)?,
        org_id: r.try_get("org_id")?,
        position_title: r.try_get("position_title")?,
        workplace_code: r.try_get("workplace_code")?,
        status: vocab(r, "status", EmploymentStatus::parse)?,
        start_date: opt_date(r, "start_date")?,
        end_date: opt_date(r, "end_date")?,
        education_level: opt_vocab(r, "education_level", EducationLevel::parse)?,
        education_field: opt_vocab(r, "education_field", EducationField::parse)?,
        synthetic: r.try_get::<i64, _>("synthetic")? != 0,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        version: r.try_get("version")?,
    })
}

fn row_from_row(r: &AnyRow) -> Result<WorkerRow> {
    Ok(WorkerRow {
        id: r.try_get("id")?,
        name_km: r.try_get("name_km")?,
        name_latin: r.try_get("name_latin")?,
        sex: vocab(r, "sex", Sex::parse)?,
        cadre: vocab(r, "cadre", Cadre::parse)?,
        role: vocab(r, "role", WorkerRole::parse)?,
        sector: vocab(r, "sector", Sector::parse)?,
        status: vocab(r, "status", EmploymentStatus::parse)?,
        org_id: r.try_get("org_id")?,
        org_name: r.try_get("org_name")?,
        position_title: r.try_get("position_title")?,
        workplace_code: r.try_get("workplace_code")?,
        workplace_name_en: r.try_get("u_name_en")?,
        workplace_name_km: r.try_get("u_name_km")?,
        province_code: r.try_get("province_code")?,
    })
}

pub(crate) fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.to_string())
}

/// A list without search holding more rows than this is read in name order from the name
/// index rather than found through its filter and sorted.
const DENSE: i64 = 2_000;

/// The filter of a reader who sees every worker, asking for all of them.
const NO_FILTER: &str = " WHERE 1 = 1";

/// Whether a filter of [`Store::worker_base_filter`] keeps every worker (no row need be read
/// to apply it).
pub(super) fn unfiltered(base: &Sql) -> bool {
    base.args.is_empty() && base.text == NO_FILTER
}

/// Joins and columns of a line of the worker list.
pub(super) const LIST_FROM: &str =
    " JOIN admin_units u ON u.code = w.workplace_code LEFT JOIN organizations o ON o.id = w.org_id";
pub(super) const LIST_COLS: &str =
    "w.id, w.name_km, w.name_latin, w.sex, w.cadre, w.role, w.sector, w.status, w.org_id, \
     o.name_en AS org_name, w.position_title, w.workplace_code, u.name_en AS u_name_en, \
     u.name_km AS u_name_km, u.province_code";

impl Store {
    /// The scope and the filters other than the search (over `workers w JOIN admin_units u`).
    fn worker_base_filter(&self, p: &Principal, q: &WorkerQuery) -> Sql {
        let mut f = Sql::new(NO_FILTER);
        if !p.may(Action::ReadWorkers) {
            f.push(" AND 1 = 0");
        }
        push_worker_scope(&mut f, &p.worker_scope());
        push_attribute_filters(&mut f, &q.attributes());
        f
    }

    /// The count of the workers `q` matches, summed from the worker tallies, when the tallies
    /// hold every filter (place, cadre, sector, status, role) and the caller reads an area.
    fn tallied_total(&self, p: &Principal, q: &WorkerQuery) -> Option<Sql> {
        if q.q.non_blank().is_some() || q.org_id.is_some() {
            return None;
        }
        let area = super::tally_area(p)?;
        let mut sql = Sql::new(
            "SELECT CAST(COALESCE(SUM(w.n), 0) AS BIGINT) FROM worker_tallies w \
             JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1",
        );
        push_area(&mut sql, &area);
        push_attribute_filters(&mut sql, &q.attributes());
        Some(sql)
    }

    /// Every condition of `q` (scope, filters, search) over `workers w JOIN admin_units u`.
    pub(crate) fn worker_filter(&self, p: &Principal, q: &WorkerQuery) -> Sql {
        let mut f = self.worker_base_filter(p, q);
        if let Some(s) = Search::of(q) {
            f.push(" AND w.id IN (").append(&self.search_ids(&s)).push(")");
        }
        f
    }

    /// Workers matching `q` within the principal's scope, a page at a time.
    ///
    /// Without a search, in order of Latin name then id. With one, best match first (see
    /// [`Search::push_tier`]: the national ID, then names starting with the query), then by
    /// name (the search key, which starts with the Latin name; the Khmer name's for names
    /// found by their start in Khmer), then id; the matches are found through the trigram
    /// index and, when there are many, each page is read from an index in order
    /// (docs/architecture.md, "Search").
    ///
    /// `total` counts the matches up to [`COUNT_LIMIT`]; past it, `total` is that bound and
    /// `total_is_lower_bound` is set.
    pub async fn list_workers(&self, p: &Principal, q: &WorkerQuery) -> Result<Page<WorkerRow>> {
        let base = self.worker_base_filter(p, q);
        let per_page = if q.per_page <= 0 { 50 } else { q.per_page.min(500) };
        let page = q.page.max(1);
        let offset = crate::common::sql::offset(page, per_page);
        let trivial = unfiltered(&base);
        let search = Search::of(q);

        // Without a name search or an employer, the exact total is summed from the worker
        // tallies (a few rows per unit); otherwise the matches are counted, bounded: one more
        // than the limit tells that there are more.
        let (total, total_is_lower_bound) = match self.tallied_total(p, q) {
            Some(sql) => (sql.query().fetch_one(&self.pool).await?.try_get(0)?, false),
            None => match self.bounded_count(&base, search.as_ref(), trivial).await? {
                n if n > COUNT_LIMIT => (COUNT_LIMIT, true),
                n => (n, false),
            },
        };

        let rows = match &search {
            None if total <= DENSE => {
                // Few rows: found through the filter's index (a commune's units, an
                // organization), then sorted.
                let mut list = Sql::new(&format!("SELECT {LIST_COLS} FROM workers w{LIST_FROM}"));
                list.append(&base);
                list.push(" ORDER BY w.name_latin, w.id LIMIT ").int(per_page).push(" OFFSET ").int(offset);
                list.query().fetch_all(&self.pool).await?
            }
            None => {
                // Many rows: read in name order from `workers_name_latin`, each row's place
                // checked, rather than every row of the filter sorted. `CROSS JOIN` keeps
                // `workers` the outer loop on SQLite (whose planner, without statistics,
                // would start from the filter's index); PostgreSQL plans it as any join.
                let mut list = Sql::new(&format!(
                    "SELECT {LIST_COLS} FROM workers w CROSS JOIN admin_units u \
                     LEFT JOIN organizations o ON o.id = w.org_id"
                ));
                list.append(&base);
                list.push(" AND u.code = w.workplace_code ORDER BY w.name_latin, w.id LIMIT ")
                    .int(per_page)
                    .push(" OFFSET ")
                    .int(offset);
                list.query().fetch_all(&self.pool).await?
            }
            Some(s) if !total_is_lower_bound => {
                // At most COUNT_LIMIT matches: sorted whole, by what each match's row holds
                // (tier, name); only the page's rows are joined to their place and employer.
                let mut sorted = Sql::new("SELECT w.id, ");
                s.push_tier(&mut sorted);
                sorted.push(" AS tier, CASE WHEN ");
                s.push_tier(&mut sorted);
                sorted.push(" = 2 THEN w.search_km ELSE w.search_key END AS sort_name FROM (");
                sorted
                    .append(&self.search_ids(s))
                    .push(") m JOIN workers w ON w.id = m.id JOIN admin_units u ON u.code = w.workplace_code");
                sorted.append(&base);
                sorted.push(" ORDER BY tier, sort_name, w.id LIMIT ").int(per_page).push(" OFFSET ").int(offset);
                let mut list = Sql::new(&format!("SELECT {LIST_COLS} FROM ("));
                list.append(&sorted).push(") p JOIN workers w ON w.id = p.id").push(LIST_FROM);
                list.push(" ORDER BY p.tier, p.sort_name, p.id");
                list.query().fetch_all(&self.pool).await?
            }
            Some(s) => self.search_page_by_tiers(s, &base, offset, per_page).await?,
        };
        Ok(Page {
            items: rows.iter().map(row_from_row).collect::<Result<_>>()?,
            total,
            total_is_lower_bound,
            page,
            per_page,
        })
    }

    /// The matches of a filter (and search) counted up to one more than [`COUNT_LIMIT`].
    async fn bounded_count(&self, base: &Sql, search: Option<&Search>, trivial: bool) -> Result<i64> {
        let mut inner = Sql::new("SELECT 1 FROM ");
        match search {
            Some(s) => {
                inner.push("(").append(&self.search_ids(s)).push(") m");
                if !trivial {
                    inner.push(" JOIN workers w ON w.id = m.id JOIN admin_units u ON u.code = w.workplace_code");
                    inner.append(base);
                }
            }
            None if trivial => {
                inner.push("workers w");
            }
            None => {
                inner.push("workers w JOIN admin_units u ON u.code = w.workplace_code").append(base);
            }
        }
        inner.push(" LIMIT ").int(COUNT_LIMIT + 1);
        let mut count = Sql::new("SELECT COUNT(*) FROM (");
        count.append(&inner).push(") c");
        Ok(count.query().fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// Counts of workers in scope grouped by a column (`cadre`, `sector`, `status`, `role`):
    /// from the tallies for an area (the cost of the number of groups, not of workers), from
    /// the records for an organization's staff or one's own record.
    pub async fn count_workers_by(&self, p: &Principal, column: &str) -> Result<Vec<(String, i64)>> {
        if let Some(area) = super::tally_area(p) {
            return self.tallied_counts(&area, column).await;
        }
        let col = match column {
            "cadre" => "w.cadre",
            "sector" => "w.sector",
            "status" => "w.status",
            "role" => "w.role",
            _ => return Err(StoreError::Corrupt(format!("no grouping by {column}"))),
        };
        let filter = self.worker_filter(p, &WorkerQuery::default());
        let mut sql = Sql::new(&format!(
            "SELECT {col} AS k, COUNT(*) AS n FROM workers w JOIN admin_units u ON u.code = w.workplace_code"
        ));
        sql.push(&filter.text);
        sql.args = filter.args;
        sql.push(&format!(" GROUP BY {col} ORDER BY {col}"));
        let rows = sql.query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("k")?, r.try_get("n")?))).collect()
    }

    /// [`Store::count_workers_by`] for each of `columns`, in their order: from one read of
    /// the tallies for an area (the home page's three groupings).
    pub async fn count_workers_by_each(&self, p: &Principal, columns: &[&str]) -> Result<Vec<Vec<(String, i64)>>> {
        if let Some(area) = super::tally_area(p) {
            return self.tallied_counts_each(&area, columns).await;
        }
        let mut out = Vec::with_capacity(columns.len());
        for column in columns {
            out.push(self.count_workers_by(p, column).await?);
        }
        Ok(out)
    }

    /// The workers of the principal's scope in name order, whole records, at most `limit` of
    /// them, and whether there were more: what a field officer's device keeps for working
    /// without a connection (a district's few hundred).
    pub async fn scope_workers(&self, p: &Principal, limit: i64) -> Result<(Vec<Worker>, bool)> {
        if !p.may(Action::ReadWorkers) {
            return Ok((Vec::new(), false));
        }
        let mut sql = Sql::for_engine(
            &format!("SELECT {WORKER_COLS} FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE 1 = 1"),
            self.engine,
        );
        push_worker_scope(&mut sql, &p.worker_scope());
        sql.push(" ORDER BY w.name_latin, w.id LIMIT ").int(limit.clamp(1, 5000) + 1);
        let rows = sql.query().fetch_all(&self.pool).await?;
        let mut out = rows.iter().map(worker_from_row).collect::<Result<Vec<_>>>()?;
        let more = out.len() as i64 > limit;
        out.truncate(limit.max(0) as usize);
        Ok((out, more))
    }

    /// A worker within the principal's scope (None when absent or out of scope).
    pub async fn get_worker(&self, p: &Principal, id: i64) -> Result<Option<Worker>> {
        let mut conn = self.pool.acquire().await?;
        worker_in(&mut conn, p, id).await
    }

    pub async fn worker_postings(&self, p: &Principal, id: i64) -> Result<Vec<Posting>> {
        if self.get_worker(p, id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        self.postings_of(id).await
    }

    /// A worker's postings, newest first; the caller has checked the worker is in scope.
    pub(crate) async fn postings_of(&self, id: i64) -> Result<Vec<Posting>> {
        let rows = sqlx::query(
            "SELECT ps.id, ps.worker_id, ps.org_id, o.name_en AS org_name, ps.role, ps.position_title, \
             ps.workplace_code, u.name_en, u.name_km, ps.start_date, ps.end_date FROM postings ps \
             LEFT JOIN organizations o ON o.id = ps.org_id LEFT JOIN admin_units u ON u.code = ps.workplace_code \
             WHERE ps.worker_id = $1 ORDER BY ps.start_date DESC, ps.id DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Posting {
                    id: r.try_get("id")?,
                    worker_id: r.try_get("worker_id")?,
                    org_id: r.try_get("org_id")?,
                    org_name: r.try_get("org_name")?,
                    role: vocab(r, "role", WorkerRole::parse)?,
                    position_title: r.try_get("position_title")?,
                    workplace_code: r.try_get("workplace_code")?,
                    workplace_name_en: r.try_get("name_en")?,
                    workplace_name_km: r.try_get("name_km")?,
                    start_date: opt_date(r, "start_date")?
                        .ok_or_else(|| StoreError::Corrupt("posting without start".into()))?,
                    end_date: opt_date(r, "end_date")?,
                })
            })
            .collect()
    }

    pub async fn worker_status_history(&self, p: &Principal, id: i64) -> Result<Vec<StatusChange>> {
        if self.get_worker(p, id).await?.is_none() {
            return Err(StoreError::NotFound);
        }
        self.statuses_of(id).await
    }

    /// A worker's status history, newest first; the caller has checked the worker is in scope.
    pub(crate) async fn statuses_of(&self, id: i64) -> Result<Vec<StatusChange>> {
        let rows = sqlx::query(
            "SELECT id, worker_id, status, effective_date, note, recorded_at, recorded_by, reason FROM status_changes \
             WHERE worker_id = $1 ORDER BY effective_date DESC, id DESC",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StatusChange {
                    id: r.try_get("id")?,
                    worker_id: r.try_get("worker_id")?,
                    status: vocab(r, "status", EmploymentStatus::parse)?,
                    effective_date: opt_date(r, "effective_date")?
                        .ok_or_else(|| StoreError::Corrupt("status change without date".into()))?,
                    note: r.try_get("note")?,
                    recorded_at: r.try_get("recorded_at")?,
                    recorded_by: r.try_get("recorded_by")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }

    /// Checks what only the database can tell: the workplace and organization
    /// exist and are within reach, and the national ID is not someone else's.
    async fn check_worker_refs(&self, p: &Principal, d: &WorkerDraft, self_id: Option<i64>) -> Result<()> {
        let errs =
            self.worker_ref_errors(p, Some(&d.workplace_code), d.org_id, d.national_id.as_deref(), self_id).await?;
        if errs.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Invalid(errs))
        }
    }

    /// Validates `input`, adding the database checks to the field checks so
    /// that every problem is reported at once.
    async fn validate_with_refs(
        &self,
        p: &Principal,
        input: &WorkerInput,
        today: NaiveDate,
        self_id: Option<i64>,
    ) -> Result<WorkerDraft> {
        match validate_worker(input, today) {
            Ok(d) => {
                self.check_worker_refs(p, &d, self_id).await?;
                Ok(d)
            }
            Err(mut errs) => {
                let clean = |v: &Option<String>| v.non_blank().map(String::from);
                let workplace = clean(&input.workplace_code).filter(|_| errs.for_field("workplace_code").is_none());
                let nid = clean(&input.national_id).filter(|_| errs.for_field("national_id").is_none());
                let org = input.org_id.filter(|_| errs.for_field("org_id").is_none());
                let more = self.worker_ref_errors(p, workplace.as_deref(), org, nid.as_deref(), self_id).await?;
                errs.errors.extend(more.errors);
                Err(StoreError::Invalid(errs))
            }
        }
    }

    async fn worker_ref_errors(
        &self,
        p: &Principal,
        workplace: Option<&str>,
        org_id: Option<i64>,
        national_id: Option<&str>,
        self_id: Option<i64>,
    ) -> Result<ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if let Some(code) = workplace {
            match self.admin_unit(code).await? {
                None => errs.push(FieldError::new("workplace_code", "unknown_admin_unit").with("value", code)),
                Some(u) => {
                    if !p.scope.contains(&u) {
                        errs.push(FieldError::new("workplace_code", "out_of_scope"));
                    }
                }
            }
        }
        if let Some(org) = org_id {
            // Only an organization the caller may see can be named; one they may not see
            // is answered as one that does not exist, so that ids cannot be probed.
            if self.get_org(p, org).await?.is_none() {
                errs.push(FieldError::new("org_id", "unknown_organization"));
            }
        }
        if let WorkerScope::Area { org_id: Some(own), .. } = p.worker_scope() {
            if org_id != Some(own) {
                errs.push(FieldError::new("org_id", "must_be_own_organization"));
            }
        }
        if let Some(nid) = national_id {
            let row = sqlx::query("SELECT id FROM workers WHERE national_id = $1 AND id <> $2")
                .bind(nid)
                .bind(self_id.unwrap_or(0))
                .fetch_optional(&self.pool)
                .await?;
            if let Some(r) = row {
                let existing: i64 = r.try_get(0)?;
                let mut e = FieldError::new("national_id", "duplicate_national_id");
                // Point to the existing worker only when the caller may see them.
                if self.get_worker(p, existing).await?.is_some() {
                    e = e.with("existing_id", existing);
                }
                errs.push(e);
            }
        }
        Ok(errs)
    }

    /// Creates a worker with an opening posting and status.
    pub async fn create_worker(&self, p: &Principal, input: &WorkerInput, today: NaiveDate) -> Result<Worker> {
        p.require(Action::CreateWorker, Target::Any)?;
        let mut input = input.clone();
        if let (WorkerScope::Area { org_id: Some(own), .. }, None) = (p.worker_scope(), input.org_id) {
            input.org_id = Some(own);
        }
        let draft = self.validate_with_refs(p, &input, today, None).await?;
        let mut tx = self.begin_write().await?;
        let id = insert_worker(&mut tx, &draft, false).await?;
        let start = draft.start_date.unwrap_or(today);
        let posting_end = draft.end_date.filter(|_| draft.status.is_separated());
        insert_posting(&mut tx, id, &draft, start, posting_end).await?;
        insert_status(&mut tx, id, draft.status, draft.end_date.unwrap_or(start), None, Some(&p.username)).await?;
        record_audit(&mut tx, p, "create", "worker", &id.to_string(), None, Some(&draft)).await?;
        tx.commit().await.map_err(unique_to_invalid)?;
        self.get_worker(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// Applies the fields present in `patch`. A change of employer, role,
    /// position or workplace closes the current posting and opens a new one;
    /// a change of status is added to the status history. With `expected`, only if the
    /// record is still at that version (else [`StoreError::Stale`], nothing changed).
    pub async fn update_worker(
        &self,
        p: &Principal,
        id: i64,
        patch: &WorkerInput,
        change: &WorkerChange,
        today: NaiveDate,
        expected: Option<i64>,
    ) -> Result<Worker> {
        let existing = self.get_worker(p, id).await?.ok_or(StoreError::NotFound)?;
        check_version(existing.version, expected)?;
        // Another's record wholly, or one's own contact details only.
        let own_contact_only = !p.allows(Action::EditWorker, Target::worker(id));
        if own_contact_only {
            p.require(Action::EditOwnContact, Target::worker(id))?;
            let mut errs = ValidationErrors::default();
            for f in patch.present_fields() {
                if !SELF_EDITABLE_FIELDS.contains(&f) {
                    errs.push(FieldError::new(f, "not_editable"));
                }
            }
            if !errs.is_empty() {
                return Err(StoreError::Invalid(errs));
            }
        }
        let before = existing.draft();
        let merged = WorkerInput::from_draft(&before).overlay(patch.clone());
        let draft = if own_contact_only {
            // A worker's own edits never touch posting fields, so scope is unchanged.
            validate_worker(&merged, today)?
        } else {
            self.validate_with_refs(p, &merged, today, Some(id)).await?
        };
        if draft == before {
            return Ok(existing);
        }
        let effective = change.effective_date.unwrap_or(today);
        if effective > today {
            return Err(StoreError::Invalid(ValidationErrors::single(FieldError::new(
                "effective_date",
                "future_date",
            ))));
        }
        let note = change.note.non_blank().map(String::from);
        // The checks above ran on the record as it was read; now lock it, read it again and
        // apply the patch to what is stored, so that a concurrent edit of other fields
        // survives and the audit's "before" is the truth. The fields the patch sets were
        // checked above; the others are as another edit stored (and checked) them.
        let mut tx = self.begin_write().await?;
        lock_existing(&mut tx, "workers", id, expected).await?;
        let current = worker_in(&mut tx, p, id).await?.ok_or(StoreError::NotFound)?;
        let before = current.draft();
        let draft = validate_worker(&WorkerInput::from_draft(&before).overlay(patch.clone()), today)?;
        if draft == before {
            tx.rollback().await?;
            return Ok(current);
        }
        write_worker_update(&mut tx, p, id, &before, &draft, effective, note.as_deref()).await?;
        tx.commit().await.map_err(unique_to_invalid)?;
        self.get_worker(p, id).await?.ok_or(StoreError::NotFound)
    }

    /// Deletes a record entered by mistake (national administrators only);
    /// people who leave are given a status, not deleted.
    /// With `expected`, only if the record is still at that version.
    pub async fn delete_worker(&self, p: &Principal, id: i64, expected: Option<i64>) -> Result<()> {
        self.get_worker(p, id).await?.ok_or(StoreError::NotFound)?;
        p.require(Action::DeleteWorker, Target::Any)?;
        let mut tx = self.begin_write().await?;
        // Locked, then read: the audit keeps the record as it was when deleted.
        lock_existing(&mut tx, "workers", id, expected).await?;
        let existing = worker_in(&mut tx, p, id).await?.ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE users SET worker_id = NULL WHERE worker_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM worker_dedup_keys WHERE worker_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM postings WHERE worker_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM status_changes WHERE worker_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM workers WHERE id = $1").bind(id).execute(&mut *tx).await?;
        record_audit(&mut tx, p, "delete", "worker", &id.to_string(), Some(&existing.draft()), None::<&WorkerDraft>)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A worker in `p`'s scope, read on `conn` (inside a transaction: as that transaction sees it).
pub(crate) async fn worker_in(conn: &mut AnyConnection, p: &Principal, id: i64) -> Result<Option<Worker>> {
    if !p.may(Action::ReadWorkers) {
        return Ok(None);
    }
    let mut sql = Sql::new(&format!(
        "SELECT {WORKER_COLS} FROM workers w JOIN admin_units u ON u.code = w.workplace_code WHERE w.id = "
    ));
    sql.int(id);
    push_worker_scope(&mut sql, &p.worker_scope());
    let row = sql.query().fetch_optional(&mut *conn).await?;
    row.as_ref().map(worker_from_row).transpose()
}

fn unique_to_invalid(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return StoreError::Invalid(ValidationErrors::single(FieldError::new(
                "national_id",
                "duplicate_national_id",
            )));
        }
    }
    StoreError::from(e)
}

/// Writes an update whose draft was validated and checked: the record, a new
/// posting when the worker moved, left or came back, a status change when the
/// status changed, the duplicate-detection keys and the audit entry. Shared by
/// [`Store::update_worker`] and the merge of an imported row.
pub(crate) async fn write_worker_update(
    conn: &mut AnyConnection,
    p: &Principal,
    id: i64,
    before: &WorkerDraft,
    draft: &WorkerDraft,
    effective: NaiveDate,
    note: Option<&str>,
) -> Result<()> {
    let mut sql = String::from("UPDATE workers SET ");
    for (i, c) in DRAFT_COLUMNS.iter().enumerate() {
        sql.push_str(&format!("{c} = ${}, ", i + 1));
    }
    let n = DRAFT_COLUMNS.len();
    sql.push_str(&format!("updated_at = ${} WHERE id = ${}", n + 1, n + 2));
    let mut q = sqlx::query(&sql);
    for a in draft_args(draft) {
        q = bind_arg(q, a);
    }
    q.bind(now_text()).bind(id).execute(&mut *conn).await.map_err(unique_to_invalid)?;
    let leaving = draft.status.is_separated() && !before.status.is_separated();
    let returning = !draft.status.is_separated() && before.status.is_separated();
    if draft.posting_differs(before) || leaving || returning {
        let kept_post = crate::establishment::post_kept(conn, id, before, draft).await?;
        // The current posting ends when the worker moves or leaves; a new
        // one opens when they move or come back.
        sqlx::query("UPDATE postings SET end_date = $1 WHERE worker_id = $2 AND end_date IS NULL")
            .bind(draft.end_date.filter(|_| leaving).unwrap_or(effective).to_string())
            .bind(id)
            .execute(&mut *conn)
            .await?;
        if !draft.status.is_separated() {
            insert_posting(conn, id, draft, effective, None).await?;
            crate::establishment::refill(conn, id, kept_post).await?;
        }
    }
    if draft.status != before.status {
        insert_status(conn, id, draft.status, effective, note, Some(&p.username)).await?;
    }
    record_audit(&mut *conn, p, "update", "worker", &id.to_string(), Some(before), Some(draft)).await?;
    if dedup_person(before) != dedup_person(draft) {
        replace_dedup_keys(&mut *conn, id, &dedup_person(draft)).await?;
    }
    Ok(())
}

/// The columns every write of a worker's record sets from its draft, in the order of
/// [`draft_args`]: what the form or file gave, and what the store derives from it (the search
/// keys). Every writer of workers (create, update, the import's batches) writes these
/// columns with these values, so that what is derived is computed in this one place.
pub(crate) const DRAFT_COLUMNS: [&str; 20] = [
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
    "position_title",
    "workplace_code",
    "status",
    "start_date",
    "end_date",
    "education_level",
    "education_field",
    "search_key",
    "search_km",
];

/// The values of [`DRAFT_COLUMNS`] for a draft.
pub(crate) fn draft_args(d: &WorkerDraft) -> [Arg; 20] {
    let text = |v: &str| Arg::Text(Some(v.to_string()));
    let opt = |v: Option<&str>| Arg::Text(v.map(String::from));
    [
        text(&d.name_km),
        text(&d.name_latin),
        text(d.sex.code()),
        Arg::Text(date_text(d.date_of_birth)),
        opt(d.national_id.as_deref()),
        opt(d.phone.as_deref()),
        opt(d.email.as_deref()),
        text(d.cadre.code()),
        text(d.role.code()),
        text(d.sector.code()),
        Arg::Int(d.org_id),
        opt(d.position_title.as_deref()),
        text(&d.workplace_code),
        text(d.status.code()),
        Arg::Text(date_text(d.start_date)),
        Arg::Text(date_text(d.end_date)),
        opt(d.education_level.map(|v| v.code())),
        opt(d.education_field.map(|v| v.code())),
        Arg::Text(Some(worker_search_key(&d.name_latin, &d.name_km, d.phone.as_deref()))),
        Arg::Text(Some(search_key(&d.name_km))),
    ]
}

pub(crate) async fn insert_worker(conn: &mut AnyConnection, d: &WorkerDraft, synthetic: bool) -> Result<i64> {
    let now = now_text();
    let n = DRAFT_COLUMNS.len();
    let placeholders: Vec<String> = (1..=n + 3).map(|i| format!("${i}")).collect();
    let sql = format!(
        "INSERT INTO workers ({}, synthetic, created_at, updated_at) VALUES ({}) RETURNING id",
        DRAFT_COLUMNS.join(", "),
        placeholders.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for a in draft_args(d) {
        q = bind_arg(q, a);
    }
    let row = q.bind(synthetic as i64).bind(&now).bind(&now).fetch_one(&mut *conn).await.map_err(unique_to_invalid)?;
    let id: i64 = row.try_get(0)?;
    insert_dedup_keys(&mut *conn, &person_keys(id, &dedup_person(d)), false).await?;
    Ok(id)
}

pub(crate) async fn insert_posting(
    conn: &mut AnyConnection,
    worker_id: i64,
    d: &WorkerDraft,
    start: NaiveDate,
    end: Option<NaiveDate>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO postings (worker_id, org_id, role, position_title, workplace_code, start_date, end_date) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(worker_id)
    .bind(d.org_id)
    .bind(d.role.code())
    .bind(&d.position_title)
    .bind(&d.workplace_code)
    .bind(start.to_string())
    .bind(date_text(end))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(crate) async fn insert_status(
    conn: &mut AnyConnection,
    worker_id: i64,
    status: EmploymentStatus,
    date: NaiveDate,
    note: Option<&str>,
    by: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO status_changes (worker_id, status, effective_date, note, recorded_at, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(worker_id)
    .bind(status.code())
    .bind(date.to_string())
    .bind(note)
    .bind(now_text())
    .bind(by)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
