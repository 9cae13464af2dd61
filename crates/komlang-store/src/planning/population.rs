//! Population figures by admin unit, year, sex and age group, for planning
//! (workers per child, per commune...): imported from a file, read by unit.

use std::collections::HashSet;

use komlang_core::import::{ascii_digits, match_key, parse_int, RowError};
use komlang_core::Principal;
use komlang_core::{Action, Target};
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, Row};

use crate::common::sql::{engine_of, Placeholders, Sql};
use crate::imports::{
    begin_import_row, cell, file_error, find_columns, finish_import_row, ImportHead, ImportOptions, ImportReport,
    RejectedRow, RejectedRows,
};
use crate::{Result, Store, StoreError};

/// Columns of a population file (recognized by these codes, their English
/// names or Khmer, see `docs/import.md`).
pub const POPULATION_COLUMNS: &[&str] = &["admin_code", "year", "sex", "age_group", "count"];

const ALIASES: &[(&str, &[&str])] = &[
    (
        "admin_code",
        &["admin unit code", "admin unit", "unit code", "code", "location code", "លេខកូដ", "កូដ", "លេខកូដអង្គភាពរដ្ឋបាល"],
    ),
    ("year", &["ឆ្នាំ"]),
    ("sex", &["gender", "ភេទ"]),
    ("age_group", &["age group", "age", "ages", "ក្រុមអាយុ", "អាយុ"]),
    ("count", &["population", "number", "people", "persons", "ចំនួន", "ប្រជាជន", "ចំនួនប្រជាជន"]),
];

/// One population figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PopulationRow {
    pub admin_code: String,
    pub year: i32,
    /// `female`, `male` or `total`.
    pub sex: String,
    /// `total`, or a range of years of age such as `0-17`, `0-4`, or `65+`.
    pub age_group: String,
    pub count: i64,
}

/// `female`, `male` or `total` from a code, an English word or Khmer.
fn parse_sex(s: &str) -> Option<&'static str> {
    match match_key(s).as_str() {
        "female" | "f" | "woman" | "women" | "girls" | "ស្រី" | "នារី" => Some("female"),
        "male" | "m" | "man" | "men" | "boys" | "ប្រុស" => Some("male"),
        "total" | "t" | "all" | "both" | "សរុប" => Some("total"),
        _ => None,
    }
}

/// `total`, `A-B` (A ≤ B) or `A+`, ages 0 to 150, normalized (`0 - 17` → `0-17`).
fn parse_age_group(s: &str) -> Option<String> {
    let t: String = ascii_digits(s).chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    if matches!(t.as_str(), "total" | "all" | "សរុប") {
        return Some("total".into());
    }
    let age = |v: &str| -> Option<u32> {
        (!v.is_empty() && v.len() <= 3 && v.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse().ok())
            .flatten()
            .filter(|a| *a <= 150)
    };
    if let Some(from) = t.strip_suffix('+') {
        return age(from).map(|a| format!("{a}+"));
    }
    let t = t.replace(['–', '—'], "-").replace("to", "-");
    let (a, b) = t.split_once('-')?;
    let (a, b) = (age(a)?, age(b)?);
    (a <= b).then(|| format!("{a}-{b}"))
}

/// A count: a non-negative integer in ASCII or Khmer digits, thousands
/// separated by commas, spaces or underscores or not.
fn parse_count(s: &str) -> Option<i64> {
    let t: String =
        s.chars().filter(|c| !matches!(c, ',' | '_' | '\u{00A0}' | '\u{202F}') && !c.is_whitespace()).collect();
    parse_int(&t)
}

/// Population figures written per statement.
const CHUNK: usize = 200;

impl Store {
    /// Imports population figures (columns [`POPULATION_COLUMNS`]), replacing
    /// the stored figure of the same unit, year, sex and age group. All or
    /// nothing: one rejected row and nothing is written. National
    /// administrators import for any unit; provincial and district officers
    /// for units within their scope (`out_of_scope`).
    ///
    /// Row errors: `required`, `unknown_admin_unit`, `invalid_year` (1900 to
    /// 2100), `invalid_choice` (sex), `invalid_age_group`, `invalid_number`
    /// (count), `duplicate_row` (the same figure twice in the file).
    pub async fn import_population<I>(
        &self,
        p: &Principal,
        headers: &[String],
        rows: I,
        opts: &ImportOptions,
    ) -> Result<ImportReport>
    where
        I: Iterator<Item = std::result::Result<(u64, Vec<String>), String>>,
    {
        p.require(Action::ImportPopulation, Target::Any)?;
        let cols = find_columns(headers, ALIASES);
        let mut missing = komlang_core::ValidationErrors::default();
        for (c, (code, _)) in cols.iter().zip(ALIASES) {
            if c.is_none() {
                missing.push(komlang_core::FieldError::new(code, "missing_required_column"));
            }
        }
        if !missing.is_empty() {
            return Err(StoreError::Invalid(missing));
        }
        let units = self.units_by_code().await?;
        let head = ImportHead {
            kind: "population",
            file_name: &opts.file_name,
            file_sha256: &opts.file_sha256,
            partial: false,
        };
        let mut tx = self.begin_write().await?;
        let import_id = begin_import_row(&mut tx, p, &head).await?;
        let mut report = ImportReport { dry_run: opts.dry_run, headers: headers.to_vec(), ..Default::default() };
        let mut rejected = RejectedRows::new(opts.report);
        let mut seen: HashSet<(String, i32, &'static str, String)> = HashSet::new();
        let mut batch: Vec<PopulationRow> = Vec::with_capacity(CHUNK);
        for item in rows {
            let (row, cells) = item.map_err(file_error)?;
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            report.rows_total += 1;
            // (column index, code) of every problem of the row.
            let mut problems: Vec<(usize, &str)> = Vec::new();
            let raw: Vec<&str> = (0..5).map(|i| cell(&cells, cols[i])).collect();
            let code = ascii_digits(raw[0]);
            match units.get(&code) {
                _ if code.is_empty() => problems.push((0, "required")),
                None => problems.push((0, "unknown_admin_unit")),
                Some(u) if !p.scope.contains(u) => problems.push((0, "out_of_scope")),
                Some(_) => {}
            }
            let year = parse_int(raw[1]).filter(|y| (1900..=2100).contains(y)).map(|y| y as i32);
            let sex = parse_sex(raw[2]);
            let age = parse_age_group(raw[3]);
            let count = parse_count(raw[4]);
            for (i, ok, bad) in [
                (1, year.is_some(), "invalid_year"),
                (2, sex.is_some(), "invalid_choice"),
                (3, age.is_some(), "invalid_age_group"),
                (4, count.is_some(), "invalid_number"),
            ] {
                if raw[i].is_empty() {
                    problems.push((i, "required"));
                } else if !ok {
                    problems.push((i, bad));
                }
            }
            if let (true, Some(year), Some(sex), Some(age), Some(count)) =
                (problems.is_empty(), year, sex, age.clone(), count)
            {
                if seen.insert((code.clone(), year, sex, age.clone())) {
                    batch.push(PopulationRow { admin_code: code, year, sex: sex.into(), age_group: age, count });
                    if batch.len() == CHUNK {
                        write_population(&mut tx, &mut batch, import_id, &mut report).await?;
                    }
                    continue;
                }
                problems.push((0, "duplicate_row"));
            }
            let errors = problems
                .into_iter()
                .map(|(i, code)| RowError {
                    params: Default::default(),
                    row,
                    column: cols[i].and_then(|c| headers.get(c)).cloned().unwrap_or_default(),
                    field: POPULATION_COLUMNS[i].to_string(),
                    value: raw[i].to_string(),
                    code: code.to_string(),
                })
                .collect();
            rejected.push(RejectedRow { row, cells, errors });
        }
        write_population(&mut tx, &mut batch, import_id, &mut report).await?;
        rejected.finish(&mut report);
        if !opts.dry_run && report.all_valid() {
            finish_import_row(&mut tx, p, import_id, &head, &report).await?;
            tx.commit().await?;
            report.import_id = Some(import_id);
            report.committed = true;
        } else {
            tx.rollback().await?;
        }
        Ok(report)
    }

    /// The population figures of a unit (of one year, or all years), by
    /// year, sex and age group.
    pub async fn population(&self, admin_code: &str, year: Option<i32>) -> Result<Vec<PopulationRow>> {
        let rows = sqlx::query(
            "SELECT admin_code, year, sex, age_group, count FROM population \
             WHERE admin_code = $1 AND ($2 < 0 OR year = $2) ORDER BY year, sex, age_group",
        )
        .bind(admin_code)
        .bind(year.map(i64::from).unwrap_or(-1))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(PopulationRow {
                    admin_code: r.try_get("admin_code")?,
                    year: r.try_get::<i64, _>("year")? as i32,
                    sex: r.try_get("sex")?,
                    age_group: r.try_get("age_group")?,
                    count: r.try_get("count")?,
                })
            })
            .collect()
    }
}

/// Upserts a batch of figures, counting new ones as added and replaced ones as merged.
async fn write_population(
    conn: &mut AnyConnection,
    batch: &mut Vec<PopulationRow>,
    import_id: i64,
    report: &mut ImportReport,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    // Which of them replace a stored figure.
    let mut codes: Vec<&str> = batch.iter().map(|r| r.admin_code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    let engine = engine_of(conn);
    let mut sql =
        Sql::for_engine("SELECT admin_code, year, sex, age_group FROM population WHERE admin_code IN (", engine);
    for (i, c) in codes.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.text(*c);
    }
    sql.push(")");
    let mut stored: HashSet<(String, i64, String, String)> = HashSet::new();
    for r in sql.query().fetch_all(&mut *conn).await? {
        stored.insert((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
    }
    let mut ph = Placeholders::for_engine(engine);
    let mut text = String::from("INSERT INTO population (admin_code, year, sex, age_group, count, import_id) VALUES ");
    for i in 0..batch.len() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push('(');
        for j in 0..6 {
            if j > 0 {
                text.push_str(", ");
            }
            ph.push_next(&mut text);
        }
        text.push(')');
    }
    text.push_str(
        " ON CONFLICT (admin_code, year, sex, age_group) DO UPDATE SET count = excluded.count, \
         import_id = excluded.import_id",
    );
    let mut q = sqlx::query(&text);
    for r in batch.iter() {
        let key = (r.admin_code.clone(), i64::from(r.year), r.sex.clone(), r.age_group.clone());
        if stored.contains(&key) {
            report.merged += 1;
        } else {
            report.added += 1;
        }
        q = q
            .bind(r.admin_code.as_str())
            .bind(i64::from(r.year))
            .bind(r.sex.as_str())
            .bind(r.age_group.as_str())
            .bind(r.count)
            .bind(import_id);
    }
    q.execute(&mut *conn).await?;
    batch.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_every_spelling() {
        assert_eq!(parse_sex("F"), Some("female"));
        assert_eq!(parse_sex("ប្រុស"), Some("male"));
        assert_eq!(parse_sex(" Total "), Some("total"));
        assert_eq!(parse_sex("x"), None);
        assert_eq!(parse_age_group("0 - 17").as_deref(), Some("0-17"));
        assert_eq!(parse_age_group("០-៤").as_deref(), Some("0-4"));
        assert_eq!(parse_age_group("65+").as_deref(), Some("65+"));
        assert_eq!(parse_age_group("Total").as_deref(), Some("total"));
        assert_eq!(parse_age_group("17-0"), None);
        assert_eq!(parse_age_group("abc"), None);
        assert_eq!(parse_count("១២៣"), Some(123));
        assert_eq!(parse_count("1,234,567"), Some(1_234_567));
        assert_eq!(parse_count("-5"), None);
    }
}
