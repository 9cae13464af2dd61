//! Importing organizations from a file.

use std::collections::HashSet;

use komlang_core::import::{ascii_digits, match_key, RowError};
use komlang_core::validate::{validate_org, OrgInput};
use komlang_core::{Action, Target};
use komlang_core::{OrgKind, Principal};
use sqlx::Row;

use super::orgs::insert_org;
use crate::imports::{
    begin_import_row, cell, file_error, find_columns, finish_import_row, ImportHead, ImportOptions, ImportReport,
    RejectedRow, RejectedRows,
};
use crate::{Result, Store, StoreError};

/// Columns of an organization file (recognized by these codes, their
/// English names or Khmer, see `docs/import.md`). `name_en`, `kind` and
/// `admin_code` are required.
pub const ORG_COLUMNS: &[&str] = &["name_en", "name_km", "kind", "registration_no", "admin_code", "phone", "email"];

const ALIASES: &[(&str, &[&str])] = &[
    ("name_en", &["name", "name (english)", "english name", "organization", "organisation", "ឈ្មោះអង់គ្លេស"]),
    ("name_km", &["name (khmer)", "khmer name", "ឈ្មោះ", "ឈ្មោះខ្មែរ", "ឈ្មោះស្ថាប័ន"]),
    ("kind", &["type", "organization type", "ប្រភេទ"]),
    ("registration_no", &["registration number", "registration", "reg no", "reg number", "លេខចុះបញ្ជី"]),
    ("admin_code", &["admin unit code", "admin unit", "location code", "code", "លេខកូដ", "ទីតាំង"]),
    ("phone", &["telephone", "tel", "phone number", "ទូរស័ព្ទ", "លេខទូរស័ព្ទ"]),
    ("email", &["e-mail", "email address", "អ៊ីមែល"]),
];

/// An organization kind from its code or English words (`District office`).
fn parse_kind(s: &str) -> Option<OrgKind> {
    OrgKind::parse(s).or_else(|| {
        let k = match_key(s);
        OrgKind::ALL.iter().copied().find(|v| match_key(v.code()) == k)
    })
}

fn norm(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

impl Store {
    /// Imports organizations (columns [`ORG_COLUMNS`]). A row whose
    /// registration number is already recorded (or on an earlier row) is a
    /// duplicate and skipped; so is a row without registration number whose
    /// English name and admin unit are those of a recorded organization.
    /// All or nothing unless `opts.partial`. Needs the right to create
    /// organizations; the admin unit must be within the caller's scope.
    pub async fn import_orgs<I>(
        &self,
        p: &Principal,
        headers: &[String],
        rows: I,
        opts: &ImportOptions,
    ) -> Result<ImportReport>
    where
        I: Iterator<Item = std::result::Result<(u64, Vec<String>), String>>,
    {
        p.require(Action::ImportOrgs, Target::Any)?;
        let cols = find_columns(headers, ALIASES);
        let mut missing = komlang_core::ValidationErrors::default();
        for i in [0, 2, 4] {
            if cols[i].is_none() {
                missing.push(komlang_core::FieldError::new(ORG_COLUMNS[i], "missing_required_column"));
            }
        }
        if !missing.is_empty() {
            return Err(StoreError::Invalid(missing));
        }
        let units = self.units_by_code().await?;
        let mut regs: HashSet<String> = HashSet::new();
        let mut names: HashSet<(String, String)> = HashSet::new();
        for r in
            sqlx::query("SELECT name_en, registration_no, admin_code FROM organizations").fetch_all(&self.pool).await?
        {
            if let Some(reg) = r.try_get::<Option<String>, _>("registration_no")? {
                regs.insert(norm(&ascii_digits(&reg)));
            }
            names.insert((norm(&r.try_get::<String, _>("name_en")?), r.try_get("admin_code")?));
        }

        let head = ImportHead {
            kind: "organizations",
            file_name: &opts.file_name,
            file_sha256: &opts.file_sha256,
            partial: opts.partial,
        };
        let mut tx = self.begin_write().await?;
        let import_id = begin_import_row(&mut tx, p, &head).await?;
        let mut report = ImportReport { dry_run: opts.dry_run, headers: headers.to_vec(), ..Default::default() };
        let mut rejected = RejectedRows::new(opts.report);
        for item in rows {
            let (row, cells) = item.map_err(file_error)?;
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            report.rows_total += 1;
            let v = |i: usize| Some(cell(&cells, cols[i]).to_string()).filter(|s| !s.is_empty());
            let kind_raw = v(2);
            let kind =
                kind_raw.as_deref().map(|k| parse_kind(k).map(|k| k.code().to_string()).unwrap_or(k.to_string()));
            let input = OrgInput {
                name_en: v(0),
                name_km: v(1),
                kind,
                registration_no: v(3).map(|s| ascii_digits(&s)),
                admin_code: v(4).map(|s| ascii_digits(&s)),
                phone: v(5).map(|s| ascii_digits(&s)),
                email: v(6),
            };
            let mut field_errors = match validate_org(&input) {
                Ok(_) => Vec::new(),
                Err(e) => e.errors,
            };
            if let Some(code) = &input.admin_code {
                match units.get(code) {
                    None => field_errors.push(komlang_core::FieldError::new("admin_code", "unknown_admin_unit")),
                    Some(u) if !p.scope.contains(u) => {
                        field_errors.push(komlang_core::FieldError::new("admin_code", "out_of_scope"));
                    }
                    Some(_) => {}
                }
            }
            if !field_errors.is_empty() {
                let errors = field_errors
                    .iter()
                    .map(|e| {
                        let i = ORG_COLUMNS.iter().position(|c| *c == e.field);
                        let col = i.and_then(|i| cols[i]);
                        RowError {
                            params: Default::default(),
                            row,
                            column: col.and_then(|c| headers.get(c)).cloned().unwrap_or_default(),
                            field: e.field.clone(),
                            value: cell(&cells, col).to_string(),
                            code: e.code.clone(),
                        }
                    })
                    .collect();
                rejected.push(RejectedRow { row, cells, errors });
                continue;
            }
            let draft = validate_org(&input)?;
            let dup = match &draft.registration_no {
                Some(reg) => !regs.insert(norm(reg)),
                None => !names.insert((norm(&draft.name_en), draft.admin_code.clone())),
            };
            if dup {
                report.duplicates_skipped += 1;
                continue;
            }
            names.insert((norm(&draft.name_en), draft.admin_code.clone()));
            insert_org(&mut tx, &draft).await?;
            report.added += 1;
        }
        rejected.finish(&mut report);
        if !opts.dry_run && (opts.partial || report.all_valid()) {
            finish_import_row(&mut tx, p, import_id, &head, &report).await?;
            tx.commit().await?;
            report.import_id = Some(import_id);
            report.committed = true;
        } else {
            tx.rollback().await?;
        }
        Ok(report)
    }
}
