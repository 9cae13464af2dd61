//! Administrative units: loading a country's set and reading the hierarchy.

use std::collections::HashMap;
use std::path::Path;

use komlang_core::admin::{parse_admin_units, AdminCsvError, AdminCsvSet, ParsedUnits};
use komlang_core::{AdminLevel, AdminUnit};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use crate::common::sql::{like_pattern, Sql};
use crate::{Page, Result, Store, StoreError};

macro_rules! bundled {
    ($f:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/cambodia-admin/", $f))
    };
}

/// Cambodia's 2025 administrative units, shipped in the binary
/// (source: General Directorate of Digital Economy, Ministry of Economy and Finance).
/// Rows repeating a code are left out (26 villages in the 2025 list).
#[allow(clippy::expect_used, reason = "the shipped files are checked by the tests; they are not user input")]
pub fn bundled_cambodia_units() -> Vec<AdminUnit> {
    parse_admin_units(&AdminCsvSet {
        country: bundled!("country.csv"),
        provinces: bundled!("CambodiaProvinceList2025.csv"),
        districts: bundled!("CambodiaDistrictList2025.csv"),
        communes: bundled!("CambodiaCommuneList2025.csv"),
        villages: Some(bundled!("CambodiaVillagesList2025.csv")),
    })
    .expect("bundled admin units are valid (checked by tests)")
    .units
}

/// Reads a country's units from a directory holding `country.csv` and files
/// whose names contain `Province`, `District`, `Commune` and (optionally) `Village`.
pub fn load_admin_dir(dir: &Path) -> std::result::Result<ParsedUnits, AdminCsvError> {
    let io_err = |file: &str, e: String| AdminCsvError { file: file.to_string(), line: 0, message: e };
    let entries = std::fs::read_dir(dir).map_err(|e| io_err(&dir.display().to_string(), e.to_string()))?;
    let mut files: Vec<std::path::PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    files.sort();
    let find = |needle: &str| -> Option<String> {
        files
            .iter()
            .find(|p| {
                let n = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_lowercase();
                n.ends_with(".csv") && n.contains(needle)
            })
            .and_then(|p| std::fs::read_to_string(p).ok())
    };
    let need =
        |needle: &str| find(needle).ok_or_else(|| io_err(needle, format!("no *{needle}*.csv in {}", dir.display())));
    let country = need("country")?;
    let provinces = need("province")?;
    let districts = need("district")?;
    let communes = need("commune")?;
    let villages = find("village");
    parse_admin_units(&AdminCsvSet {
        country: &country,
        provinces: &provinces,
        districts: &districts,
        communes: &communes,
        villages: villages.as_deref(),
    })
}

/// Filters for listing units.
#[derive(Debug, Default, Clone)]
pub struct AdminUnitQuery {
    pub parent: Option<String>,
    pub level: Option<AdminLevel>,
    pub q: Option<String>,
    pub page: i64,
    pub per_page: i64,
}

const COLS: &str = "code, level, parent_code, name_km, name_en, province_code, district_code, commune_code";

pub(crate) fn unit_from_row(r: &AnyRow) -> Result<AdminUnit> {
    let level: String = r.try_get("level")?;
    Ok(AdminUnit {
        code: r.try_get("code")?,
        level: AdminLevel::parse(&level).ok_or_else(|| StoreError::Corrupt(format!("admin level {level}")))?,
        parent_code: r.try_get("parent_code")?,
        name_km: r.try_get("name_km")?,
        name_en: r.try_get("name_en")?,
        province_code: r.try_get("province_code")?,
        district_code: r.try_get("district_code")?,
        commune_code: r.try_get("commune_code")?,
    })
}

impl Store {
    pub async fn admin_unit_count(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT COUNT(*) FROM admin_units").fetch_one(&self.pool).await?.try_get(0)?)
    }

    /// Loads units into an empty table, all or nothing. Returns how many were written.
    pub async fn load_admin_units(&self, units: &[AdminUnit]) -> Result<usize> {
        if self.admin_unit_count().await? > 0 {
            return Err(StoreError::Conflict("administrative units are already loaded".into()));
        }
        let mut tx = self.begin_write().await?;
        for chunk in units.chunks(400) {
            let mut sql = Sql::new(&format!("INSERT INTO admin_units ({COLS}) VALUES "));
            for (i, u) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.push("(")
                    .text(u.code.clone())
                    .push(", ")
                    .text(u.level.code())
                    .push(", ")
                    .opt_text(u.parent_code.clone())
                    .push(", ")
                    .text(u.name_km.clone())
                    .push(", ")
                    .text(u.name_en.clone())
                    .push(", ")
                    .opt_text(u.province_code.clone())
                    .push(", ")
                    .opt_text(u.district_code.clone())
                    .push(", ")
                    .opt_text(u.commune_code.clone())
                    .push(")");
            }
            sql.query().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(units.len())
    }

    /// Loads the bundled Cambodian units when the table is empty.
    pub async fn ensure_admin_units(&self) -> Result<usize> {
        if self.admin_unit_count().await? > 0 {
            return Ok(0);
        }
        self.load_admin_units(&bundled_cambodia_units()).await
    }

    pub async fn admin_unit(&self, code: &str) -> Result<Option<AdminUnit>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM admin_units WHERE code = $1"))
            .bind(code)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(unit_from_row).transpose()
    }

    /// The country unit (root of the hierarchy).
    pub async fn country(&self) -> Result<Option<AdminUnit>> {
        let row = sqlx::query(&format!("SELECT {COLS} FROM admin_units WHERE level = 'country'"))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(unit_from_row).transpose()
    }

    pub async fn admin_units(&self, q: &AdminUnitQuery) -> Result<Page<AdminUnit>> {
        let mut filter = Sql::new(" WHERE 1=1");
        if let Some(p) = &q.parent {
            filter.push(" AND parent_code = ").text(p.clone());
        }
        if let Some(l) = q.level {
            filter.push(" AND level = ").text(l.code());
        }
        if let Some(t) = q.q.as_ref().filter(|t| !t.trim().is_empty()) {
            let pat = like_pattern(t);
            filter.push(" AND (LOWER(name_en) LIKE ").text(pat.clone()).push(" ESCAPE '\\' OR name_km LIKE ");
            filter.text(pat).push(" ESCAPE '\\' OR code = ").text(t.trim()).push(")");
        }
        let mut count = Sql::new("SELECT COUNT(*) FROM admin_units");
        count.push(&filter.text);
        count.args = filter.args.clone();
        let total: i64 = count.query().fetch_one(&self.pool).await?.try_get(0)?;
        let per_page = q.per_page.clamp(1, 1000);
        let page = q.page.max(1);
        let mut list = Sql::new(&format!("SELECT {COLS} FROM admin_units"));
        list.push(&filter.text);
        list.args = filter.args;
        list.push(" ORDER BY code LIMIT ")
            .int(per_page)
            .push(" OFFSET ")
            .int(crate::common::sql::offset(page, per_page));
        let rows = list.query().fetch_all(&self.pool).await?;
        let items = rows.iter().map(unit_from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page { items, total, total_is_lower_bound: false, page, per_page })
    }

    /// Every admin unit, from the country down (by level, then code).
    pub(crate) async fn all_admin_units(&self) -> Result<Vec<AdminUnit>> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM admin_units")).fetch_all(&self.pool).await?;
        let mut units = rows.iter().map(unit_from_row).collect::<Result<Vec<_>>>()?;
        // Sorted here rather than in SQL so that both engines give the same order
        // whatever their collation.
        units.sort_by(|a, b| level_rank(a.level).cmp(&level_rank(b.level)).then_with(|| a.code.cmp(&b.code)));
        Ok(units)
    }

    /// Units one level down from `parent`, in code order.
    pub async fn admin_children(&self, parent: &str) -> Result<Vec<AdminUnit>> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM admin_units WHERE parent_code = $1 ORDER BY code"))
            .bind(parent)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(unit_from_row).collect()
    }

    /// The unit and every unit above it, from the country down.
    pub async fn admin_path(&self, code: &str) -> Result<Vec<AdminUnit>> {
        // One query: the unit, its ancestors by their codes, and the country; then the chain
        // of parents is followed in memory from the unit up.
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM admin_units WHERE code = $1 OR level = 'country' OR code IN \
             (SELECT province_code FROM admin_units WHERE code = $1 UNION \
              SELECT district_code FROM admin_units WHERE code = $1 UNION \
              SELECT commune_code FROM admin_units WHERE code = $1)"
        ))
        .bind(code)
        .fetch_all(&self.pool)
        .await?;
        let mut by_code = HashMap::new();
        for r in &rows {
            let u = unit_from_row(r)?;
            by_code.insert(u.code.clone(), u);
        }
        let mut path = Vec::new();
        let mut next = Some(code.to_string());
        while let Some(u) = next.and_then(|c| by_code.remove(&c)) {
            next = u.parent_code.clone();
            path.push(u);
        }
        path.reverse();
        Ok(path)
    }

    /// Every admin unit by code (a few tens of thousands at most).
    pub(crate) async fn units_by_code(&self) -> Result<HashMap<String, AdminUnit>> {
        let mut conn = self.pool.acquire().await?;
        load_units(&mut conn).await
    }

    /// The units above villages, by code, with their names.
    pub(crate) async fn named_units_by_code(&self) -> Result<HashMap<String, AdminUnit>> {
        let rows = sqlx::query(
            "SELECT code, level, parent_code, name_km, name_en, province_code, district_code, commune_code \
             FROM admin_units WHERE level <> 'village'",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| unit_from_row(r).map(|u| (u.code.clone(), u))).collect()
    }
}

/// Every admin unit by code.
pub(crate) async fn load_units(conn: &mut AnyConnection) -> Result<HashMap<String, AdminUnit>> {
    let rows = sqlx::query(
        // Names are not needed here: left out, they keep the import smaller.
        "SELECT code, level, parent_code, '' AS name_km, '' AS name_en, province_code, district_code, \
         commune_code FROM admin_units",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| unit_from_row(r).map(|u| (u.code.clone(), u))).collect()
}

fn level_rank(l: AdminLevel) -> usize {
    AdminLevel::ALL.iter().position(|x| *x == l).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    #[test]
    fn bundled_units_parse_with_expected_counts() {
        let units = super::bundled_cambodia_units();
        let count = |l: komlang_core::AdminLevel| units.iter().filter(|u| u.level == l).count();
        assert_eq!(count(komlang_core::AdminLevel::Province), 25);
        assert_eq!(count(komlang_core::AdminLevel::District), 210);
        assert_eq!(count(komlang_core::AdminLevel::Commune), 1661);
        // 14,576 rows, a few of which repeat a code or name an unknown commune.
        assert!(count(komlang_core::AdminLevel::Village) > 14_400);
    }
}
