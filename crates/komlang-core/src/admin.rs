//! Administrative units (country, province, district, commune, village) and
//! the CSV shape they load from. Any country's units load from the same shape:
//! `*Province*.csv`, `*District*.csv`, `*Commune*.csv`, `*Village*.csv` with the
//! columns below, plus a one-row `country.csv`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::vocabulary;

vocabulary!(
    /// Level of an administrative unit.
    AdminLevel, "level" {
        Country => "country",
        Province => "province",
        District => "district",
        Commune => "commune",
        Village => "village",
    }
);

/// One administrative unit, with the codes of every unit above it so that
/// scope checks never depend on how a country spells its codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdminUnit {
    pub code: String,
    pub level: AdminLevel,
    pub parent_code: Option<String>,
    pub name_km: String,
    pub name_en: String,
    pub province_code: Option<String>,
    pub district_code: Option<String>,
    pub commune_code: Option<String>,
}

impl AdminUnit {
    /// True when `self` is `scope` or lies inside it.
    pub fn within(&self, scope: &AdminUnit) -> bool {
        match scope.level {
            AdminLevel::Country => true,
            AdminLevel::Province => self.province_code.as_deref() == Some(&scope.code),
            AdminLevel::District => self.district_code.as_deref() == Some(&scope.code),
            AdminLevel::Commune => self.commune_code.as_deref() == Some(&scope.code),
            AdminLevel::Village => self.code == scope.code,
        }
    }
}

/// A problem in an admin-unit file: which file, which line, what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}: {message}")]
pub struct AdminCsvError {
    pub file: String,
    pub line: u64,
    pub message: String,
}

/// The texts of the admin-unit files of one country.
pub struct AdminCsvSet<'a> {
    pub country: &'a str,
    pub provinces: &'a str,
    pub districts: &'a str,
    pub communes: &'a str,
    pub villages: Option<&'a str>,
}

fn rows(file: &str, text: &str, columns: &[&str]) -> Result<Vec<(u64, Vec<String>)>, AdminCsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(text.as_bytes());
    let err = |line: u64, message: String| AdminCsvError { file: file.to_string(), line, message };
    let headers = rdr.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let idx: Vec<usize> = columns
        .iter()
        .map(|c| headers.iter().position(|h| h == *c).ok_or_else(|| err(1, format!("missing column `{c}`"))))
        .collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| err(e.position().map(|p| p.line()).unwrap_or(0), e.to_string()))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let vals: Vec<String> = idx.iter().map(|&i| rec.get(i).unwrap_or("").to_string()).collect();
        if let Some(pos) = vals.iter().position(|v| v.is_empty()) {
            return Err(err(line, format!("column `{}` is empty", columns[pos])));
        }
        out.push((line, vals));
    }
    Ok(out)
}

/// Units parsed from a country's files, and the rows left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUnits {
    pub units: Vec<AdminUnit>,
    /// Rows left out and why: a row repeating a code already seen (the first
    /// wins), or a village whose commune is unknown. Cambodia's 2025 village
    /// list has both; they are reported rather than failing the whole load.
    pub skipped: Vec<AdminCsvError>,
}

/// Parses a country's admin-unit files into units ordered from the country
/// down, checking that every parent exists.
pub fn parse_admin_units(set: &AdminCsvSet<'_>) -> Result<ParsedUnits, AdminCsvError> {
    let mut units: Vec<AdminUnit> = Vec::new();
    let mut skipped: Vec<AdminCsvError> = Vec::new();
    let mut seen = std::collections::HashMap::<String, AdminLevel>::new();
    let country_rows = rows("country.csv", set.country, &["country_code", "country_kh", "country_en"])?;
    let [(_, c)] = country_rows.as_slice() else {
        return Err(AdminCsvError {
            file: "country.csv".into(),
            line: 2,
            message: "exactly one country row expected".into(),
        });
    };
    let country = c[0].clone();
    seen.insert(country.clone(), AdminLevel::Country);
    units.push(AdminUnit {
        code: country.clone(),
        level: AdminLevel::Country,
        parent_code: None,
        name_km: c[1].clone(),
        name_en: c[2].clone(),
        province_code: None,
        district_code: None,
        commune_code: None,
    });

    let mut add = |file: &str, line: u64, unit: AdminUnit, parent_level: AdminLevel| -> Result<(), AdminCsvError> {
        let err = |message: String| AdminCsvError { file: file.to_string(), line, message };
        let parent = unit.parent_code.clone().unwrap_or_default();
        if seen.get(&parent) != Some(&parent_level) {
            let e = err(format!("unknown {} `{parent}`", parent_level.code()));
            // Villages are leaves: one with a bad parent is left out and
            // reported; a bad province, district or commune fails the load.
            if unit.level == AdminLevel::Village {
                skipped.push(e);
                return Ok(());
            }
            return Err(e);
        }
        if seen.contains_key(&unit.code) {
            skipped.push(err(format!("duplicate code `{}` skipped", unit.code)));
            return Ok(());
        }
        seen.insert(unit.code.clone(), unit.level);
        units.push(unit);
        Ok(())
    };

    for (line, r) in rows("provinces", set.provinces, &["province_code", "province_kh", "province_en"])? {
        let unit = AdminUnit {
            code: r[0].clone(),
            level: AdminLevel::Province,
            parent_code: Some(country.clone()),
            name_km: r[1].clone(),
            name_en: r[2].clone(),
            province_code: Some(r[0].clone()),
            district_code: None,
            commune_code: None,
        };
        add("provinces", line, unit, AdminLevel::Country)?;
    }
    for (line, r) in
        rows("districts", set.districts, &["province_code", "district_code", "district_kh", "district_en"])?
    {
        let unit = AdminUnit {
            code: r[1].clone(),
            level: AdminLevel::District,
            parent_code: Some(r[0].clone()),
            name_km: r[2].clone(),
            name_en: r[3].clone(),
            province_code: Some(r[0].clone()),
            district_code: Some(r[1].clone()),
            commune_code: None,
        };
        add("districts", line, unit, AdminLevel::Province)?;
    }
    for (line, r) in
        rows("communes", set.communes, &["province_code", "district_code", "commune_code", "commune_kh", "commune_en"])?
    {
        let unit = AdminUnit {
            code: r[2].clone(),
            level: AdminLevel::Commune,
            parent_code: Some(r[1].clone()),
            name_km: r[3].clone(),
            name_en: r[4].clone(),
            province_code: Some(r[0].clone()),
            district_code: Some(r[1].clone()),
            commune_code: Some(r[2].clone()),
        };
        add("communes", line, unit, AdminLevel::District)?;
    }
    if let Some(villages) = set.villages {
        for (line, r) in rows(
            "villages",
            villages,
            &["province_code", "district_code", "commune_code", "village_code", "village_kh", "village_en"],
        )? {
            let unit = AdminUnit {
                code: r[3].clone(),
                level: AdminLevel::Village,
                parent_code: Some(r[2].clone()),
                name_km: r[4].clone(),
                name_en: r[5].clone(),
                province_code: Some(r[0].clone()),
                district_code: Some(r[1].clone()),
                commune_code: Some(r[2].clone()),
            };
            add("villages", line, unit, AdminLevel::Commune)?;
        }
    }
    Ok(ParsedUnits { units, skipped })
}

#[cfg(test)]
mod tests {
    use super::*;

    const COUNTRY: &str = "country_code,country_kh,country_en\nXL,ឡ,Lilliput\n";
    const PROV: &str = "\u{feff}province_code,province_kh,province_en\nA,ក,North\nB,ខ,South\n";
    const DIST: &str = "province_code,district_code,district_kh,district_en\nA,A1,គ,Hill\n";
    const COMM: &str = "province_code,district_code,commune_code,commune_kh,commune_en\nA,A1,A1x,ឃ,Brook\n";

    #[test]
    fn another_countrys_units_load_from_the_same_shape() {
        let units = parse_admin_units(&AdminCsvSet {
            country: COUNTRY,
            provinces: PROV,
            districts: DIST,
            communes: COMM,
            villages: None,
        })
        .unwrap()
        .units;
        assert_eq!(units.len(), 5);
        let commune = units.iter().find(|u| u.code == "A1x").unwrap();
        let province = units.iter().find(|u| u.code == "A").unwrap();
        let other = units.iter().find(|u| u.code == "B").unwrap();
        assert!(commune.within(province));
        assert!(!commune.within(other));
        assert!(commune.within(&units[0]));
    }

    #[test]
    fn repeated_codes_are_skipped_and_reported() {
        let comm =
            "province_code,district_code,commune_code,commune_kh,commune_en\nA,A1,A1x,ឃ,Brook\nA,A1,A1x,ង,Lake\n";
        let parsed = parse_admin_units(&AdminCsvSet {
            country: COUNTRY,
            provinces: PROV,
            districts: DIST,
            communes: comm,
            villages: None,
        })
        .unwrap();
        assert_eq!(parsed.units.iter().find(|u| u.code == "A1x").unwrap().name_en, "Brook");
        assert_eq!(parsed.skipped.len(), 1);
        assert_eq!(parsed.skipped[0].line, 3);
    }

    #[test]
    fn unknown_parent_names_file_and_line() {
        let bad = "province_code,district_code,district_kh,district_en\nA,A1,គ,Hill\nZ,Z1,ង,Lake\n";
        let e = parse_admin_units(&AdminCsvSet {
            country: COUNTRY,
            provinces: PROV,
            districts: bad,
            communes: COMM,
            villages: None,
        })
        .unwrap_err();
        assert_eq!(e.file, "districts");
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unknown province `Z`"), "{e}");
    }
}
