//! The import of a case list exported from Primero or OSCaR: the source's saved mapping finds
//! the columns, each row is read into a [`CaseRow`], and the rows become the source's snapshot
//! of its day (replacing one of the same day). Only the mapped columns are read: a rejected
//! row is reported with those cells alone, so that no other column of the file (a child's
//! name, say) reaches the report kept with the import.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use komlang_core::caseload::{
    find_case_columns, owner_key, parse_case_status, split_owners, CaseField, CaseRow, CaseSource, CaseStatus,
    CASE_OWNERS_MAX, CASE_TEXT_MAX,
};
use komlang_core::import::{match_key, parse_date, RowError};
use komlang_core::{Action, AdminLevel, AdminUnit, FieldError, Principal, Target, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use super::day_text;
use crate::common::sql::{engine_of, lock_key, Placeholders};
use crate::imports::{
    begin_import_row, file_error, finish_import_row, ImportHead, ImportReport, RejectedRow, RejectedRows, ReportLimits,
};
use crate::{now_text, Result, Store, StoreError};

/// How to run a caseload import.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CaseloadImportOptions {
    pub source: CaseSource,
    /// The day the list was exported (the snapshot's day).
    pub as_of: NaiveDate,
    pub dry_run: bool,
    /// Keep the valid rows when some are refused (otherwise all or nothing).
    pub partial: bool,
    pub file_name: String,
    pub file_sha256: String,
    /// Headers named for fields, instead of the source's saved mapping.
    #[serde(default)]
    pub columns: Vec<(CaseField, String)>,
    #[serde(default)]
    pub report: ReportLimits,
}

/// Cases written per statement.
const CHUNK: usize = 200;

/// Finds admin units by the names and codes case systems write.
struct Places<'a> {
    units: &'a HashMap<String, AdminUnit>,
    /// (level, parent code or "", name key) → code.
    by_name: HashMap<(AdminLevel, String, String), Option<String>>,
}

impl<'a> Places<'a> {
    /// `units`: every unit by code; `named`: those above villages, with their names.
    fn new(units: &'a HashMap<String, AdminUnit>, named: &HashMap<String, AdminUnit>) -> Self {
        let mut by_name: HashMap<(AdminLevel, String, String), Option<String>> = HashMap::new();
        for u in named.values() {
            let parent = match u.level {
                AdminLevel::Province => String::new(),
                _ => u.parent_code.clone().unwrap_or_default(),
            };
            for name in [&u.name_en, &u.name_km] {
                let k = (u.level, parent.clone(), match_key(name));
                // Two units of one name under one parent: the name tells neither.
                by_name.entry(k).and_modify(|e| *e = None).or_insert_with(|| Some(u.code.clone()));
            }
        }
        Places { units, by_name }
    }

    /// A location code: Komlang's own, or with a country prefix (`KH0102`).
    fn code(&self, s: &str) -> Option<String> {
        let t = s.trim();
        let digits = t.strip_prefix("KH").or_else(|| t.strip_prefix("kh")).unwrap_or(t);
        [t, digits].into_iter().find(|c| self.units.contains_key(*c)).map(String::from)
    }

    /// The most precise unit the province, district and commune names give.
    fn named(&self, province: &str, district: &str, commune: &str) -> Option<String> {
        let find = |level, parent: &str, name: &str| -> Option<String> {
            if name.is_empty() {
                return None;
            }
            // OSCaR writes "Khmer / English" in some columns: try each part.
            std::iter::once(name)
                .chain(name.split('/'))
                .find_map(|n| self.by_name.get(&(level, parent.to_string(), match_key(n))).cloned().flatten())
        };
        let p = find(AdminLevel::Province, "", province)?;
        let Some(d) = find(AdminLevel::District, &p, district) else { return Some(p) };
        Some(find(AdminLevel::Commune, &d, commune).unwrap_or(d))
    }
}

impl Store {
    /// Imports a case list exported from `opts.source` as its snapshot of `opts.as_of`,
    /// replacing the snapshot of that source and day; the others are kept. All or nothing
    /// unless `opts.partial`. National administrators (`import_caseloads`).
    ///
    /// File errors: `missing_required_column` (case id, status), `unknown_column` (a header
    /// named for a field that the file lacks). Row errors: `required`, `invalid_choice`
    /// (status), `invalid_date`, `end_before_start` (closed before opened), `too_long`, `too_many`
    /// (owners), `duplicate_case` (a case id twice).
    pub async fn import_caseload<I>(
        &self,
        p: &Principal,
        headers: &[String],
        rows: I,
        opts: &CaseloadImportOptions,
    ) -> Result<ImportReport>
    where
        I: Iterator<Item = std::result::Result<(u64, Vec<String>), String>>,
    {
        p.require(Action::ImportCaseloads, Target::Any)?;
        let source = opts.source;
        let cols = find_case_columns(source, headers, &opts.columns).map_err(|(field, header)| {
            StoreError::Invalid(ValidationErrors::single(
                FieldError::new(field.code(), "unknown_column").with("column", header),
            ))
        })?;
        let mut missing = ValidationErrors::default();
        for (c, f) in cols.iter().zip(CaseField::ALL) {
            if c.is_none() && f.is_required() {
                missing.push(FieldError::new(f.code(), "missing_required_column"));
            }
        }
        if !missing.is_empty() {
            return Err(StoreError::Invalid(missing));
        }
        // The columns read, in field order: the report names them alone.
        let read: Vec<(CaseField, usize)> =
            CaseField::ALL.into_iter().zip(&cols).filter_map(|(f, c)| c.map(|c| (f, c))).collect();
        let kept_headers: Vec<String> =
            read.iter().map(|(_, c)| headers.get(*c).cloned().unwrap_or_default()).collect();
        let units = self.units_by_code().await?;
        let named = self.named_units_by_code().await?;
        let places = Places::new(&units, &named);
        let file_name = format!("{} ({}, {})", opts.file_name, source.code(), day_text(opts.as_of));
        let head = ImportHead {
            kind: "caseload",
            file_name: &file_name,
            file_sha256: &opts.file_sha256,
            partial: opts.partial,
        };
        let mut report = ImportReport { dry_run: opts.dry_run, headers: kept_headers, ..Default::default() };
        let mut rejected = RejectedRows::new(opts.report);
        let mut seen: HashSet<String> = HashSet::new();
        let mut cases: Vec<CaseRow> = Vec::new();
        for item in rows {
            let (row, cells) = item.map_err(file_error)?;
            let values: Vec<&str> = read.iter().map(|(_, c)| cells.get(*c).map(|s| s.trim()).unwrap_or("")).collect();
            if values.iter().all(|v| v.is_empty()) {
                continue;
            }
            report.rows_total += 1;
            let get = |f: CaseField| read.iter().position(|(g, _)| *g == f).map(|i| values[i]).unwrap_or("");
            let mut problems: Vec<(CaseField, &str, Option<String>)> = Vec::new();
            for f in [CaseField::CaseId, CaseField::Agency, CaseField::Location, CaseField::Owner] {
                if get(f).chars().count() > CASE_TEXT_MAX * if f == CaseField::Owner { CASE_OWNERS_MAX } else { 1 } {
                    problems.push((f, "too_long", Some(CASE_TEXT_MAX.to_string())));
                }
            }
            let case_id = komlang_core::clean_text(get(CaseField::CaseId));
            if case_id.is_empty() {
                problems.push((CaseField::CaseId, "required", None));
            }
            let status = match get(CaseField::Status) {
                "" => {
                    problems.push((CaseField::Status, "required", None));
                    None
                }
                s => {
                    let v = parse_case_status(source, s);
                    if v.is_none() {
                        problems.push((CaseField::Status, "invalid_choice", None));
                    }
                    v
                }
            };
            let owners = split_owners(source, get(CaseField::Owner));
            if owners.len() > CASE_OWNERS_MAX {
                problems.push((CaseField::Owner, "too_many", Some(CASE_OWNERS_MAX.to_string())));
            } else if owners.iter().any(|o| o.chars().count() > CASE_TEXT_MAX) {
                problems.push((CaseField::Owner, "too_long", Some(CASE_TEXT_MAX.to_string())));
            }
            let mut date = |f: CaseField| match get(f) {
                "" => None,
                s => {
                    let d = parse_date(s);
                    if d.is_none() {
                        problems.push((f, "invalid_date", None));
                    }
                    d
                }
            };
            let (opened_on, closed_on) = (date(CaseField::Opened), date(CaseField::Closed));
            if let (Some(o), Some(c)) = (opened_on, closed_on) {
                if c < o {
                    problems.push((CaseField::Closed, "end_before_start", None));
                }
            }
            if problems.is_empty() && !seen.insert(case_id.clone()) {
                problems.push((CaseField::CaseId, "duplicate_case", None));
            }
            if let (true, Some(status)) = (problems.is_empty(), status) {
                let location = Some(komlang_core::clean_text(get(CaseField::Location))).filter(|s| !s.is_empty());
                let admin_code = location.as_deref().and_then(|l| places.code(l)).or_else(|| {
                    places.named(get(CaseField::Province), get(CaseField::District), get(CaseField::Commune))
                });
                cases.push(CaseRow {
                    case_id,
                    status,
                    owners,
                    agency: Some(komlang_core::clean_text(get(CaseField::Agency))).filter(|s| !s.is_empty()),
                    location,
                    admin_code,
                    opened_on,
                    closed_on,
                });
                continue;
            }
            let errors = problems
                .into_iter()
                .map(|(f, code, max)| RowError {
                    params: max.map(|m| [("max".to_string(), m)].into()).unwrap_or_default(),
                    row,
                    column: cols[CaseField::ALL.iter().position(|g| *g == f).unwrap_or(0)]
                        .and_then(|c| headers.get(c))
                        .cloned()
                        .unwrap_or_default(),
                    field: f.code().to_string(),
                    value: get(f).to_string(),
                    code: code.to_string(),
                })
                .collect();
            rejected.push(RejectedRow { row, cells: values.iter().map(|v| v.to_string()).collect(), errors });
        }
        rejected.finish(&mut report);
        report.added = cases.len() as u64;
        if opts.dry_run || (!report.all_valid() && !opts.partial) {
            return Ok(report);
        }
        let mut tx = self.begin_write().await?;
        let import_id = begin_import_row(&mut tx, p, &head).await?;
        write_snapshot(&mut tx, p, source, opts.as_of, import_id, &cases).await?;
        finish_import_row(&mut tx, p, import_id, &head, &report).await?;
        tx.commit().await?;
        report.import_id = Some(import_id);
        report.committed = true;
        Ok(report)
    }
}

/// Replaces the source's snapshot of the day with these cases.
async fn write_snapshot(
    conn: &mut AnyConnection,
    p: &Principal,
    source: CaseSource,
    as_of: NaiveDate,
    import_id: i64,
    cases: &[CaseRow],
) -> Result<()> {
    let day = day_text(as_of);
    // Two imports of one source at once take turns here; the second replaces the first's
    // snapshot of the day as it would one made earlier.
    lock_key(conn, &format!("caseload_snapshot:{}", source.code())).await?;
    let old: Option<i64> = sqlx::query("SELECT id FROM caseload_snapshots WHERE source = $1 AND as_of = $2")
        .bind(source.code())
        .bind(&day)
        .fetch_optional(&mut *conn)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
    if let Some(id) = old {
        sqlx::query("DELETE FROM caseload_cases WHERE snapshot_id = $1").bind(id).execute(&mut *conn).await?;
        sqlx::query("DELETE FROM caseload_snapshots WHERE id = $1").bind(id).execute(&mut *conn).await?;
    }
    let open = cases.iter().filter(|c| c.status == CaseStatus::Open).count() as i64;
    let id: i64 = sqlx::query(
        "INSERT INTO caseload_snapshots (source, as_of, import_id, cases, open_cases, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(source.code())
    .bind(&day)
    .bind(import_id)
    .bind(cases.len() as i64)
    .bind(open)
    .bind(&p.username)
    .bind(now_text())
    .fetch_one(&mut *conn)
    .await?
    .try_get(0)?;
    // One row per owner (one without owner when none).
    let rows: Vec<(&CaseRow, Option<&str>)> = cases
        .iter()
        .flat_map(|c| {
            let owners: Vec<Option<&str>> =
                if c.owners.is_empty() { vec![None] } else { c.owners.iter().map(|o| Some(o.as_str())).collect() };
            owners.into_iter().map(move |o| (c, o))
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        let mut text = String::from(
            "INSERT INTO caseload_cases (snapshot_id, case_ref, status, owner, owner_key, agency, location, \
             admin_code, opened_on, closed_on) VALUES ",
        );
        let mut ph = Placeholders::for_engine(engine_of(conn));
        for (i, _) in chunk.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            text.push('(');
            for j in 0..10 {
                if j > 0 {
                    text.push_str(", ");
                }
                ph.push_next(&mut text);
            }
            text.push(')');
        }
        let mut q = sqlx::query(&text);
        for (c, owner) in chunk {
            q = q
                .bind(id)
                .bind(c.case_id.as_str())
                .bind(c.status.code())
                .bind(owner.map(String::from))
                .bind(owner.map(owner_key))
                .bind(c.agency.clone())
                .bind(c.location.clone())
                .bind(c.admin_code.clone())
                .bind(c.opened_on.map(day_text))
                .bind(c.closed_on.map(day_text));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}
