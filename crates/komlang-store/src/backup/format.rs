//! The backup file (docs/backup.md): a zip holding `manifest.json` and one JSON-lines entry
//! per table, `tables/NAME.jsonl`, one row a line as a JSON array of the row's values in the
//! order of the manifest's columns.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// The `format` of every backup's manifest.
pub const FORMAT_NAME: &str = "komlang-backup";

/// The format version this Komlang writes; it reads this one and older ones.
pub const FORMAT_VERSION: u32 = 1;

/// The name of the manifest in the zip.
pub const MANIFEST_FILE: &str = "manifest.json";

/// The entry of a table's rows.
pub fn table_file(table: &str) -> String {
    format!("tables/{table}.jsonl")
}

/// How a column's values are written, whatever the engine's spelling of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnType {
    /// A JSON integer (64 bits).
    Integer,
    /// A JSON string holding the number as Rust writes it (`0.25`, `NaN`): read back exactly.
    Real,
    /// A JSON string.
    Text,
    /// A JSON string holding the bytes in standard base64.
    Blob,
    /// `true` or `false`.
    Boolean,
}

impl ColumnType {
    /// The type of a column from its declared type: SQLite's affinity rules, PostgreSQL's
    /// `information_schema.columns.data_type`. None for a type Komlang does not use.
    pub(crate) fn of_declared(declared: &str) -> Option<ColumnType> {
        let d = declared.to_ascii_lowercase();
        if d.contains("int") {
            Some(ColumnType::Integer)
        } else if d.contains("bool") {
            Some(ColumnType::Boolean)
        } else if d.contains("char") || d.contains("text") || d.contains("clob") {
            Some(ColumnType::Text)
        } else if d.contains("blob") || d == "bytea" {
            Some(ColumnType::Blob)
        } else if d.contains("real") || d.contains("floa") || d.contains("doub") {
            Some(ColumnType::Real)
        } else {
            None
        }
    }
}

/// A column of a table in the backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
}

/// A table in the backup: its columns, primary key, row count and the SHA-256 of its entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    pub name: String,
    /// The entry in the zip: `tables/NAME.jsonl`.
    pub file: String,
    pub columns: Vec<ColumnSpec>,
    /// The primary key's columns (rows are in this order).
    pub key: Vec<String>,
    pub rows: u64,
    /// SHA-256 (hex) of the entry's bytes as stored (before compression).
    pub sha256: String,
}

/// `manifest.json`: what the backup holds and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupManifest {
    /// Always [`FORMAT_NAME`].
    pub format: String,
    pub format_version: u32,
    /// The Komlang that wrote it.
    pub komlang_version: String,
    /// The last migration applied to the database backed up.
    pub schema_version: i64,
    /// `sqlite` or `postgres`.
    pub engine: String,
    /// When the snapshot was taken (RFC 3339, UTC).
    pub created_at: String,
    /// In restore order.
    pub tables: Vec<TableEntry>,
    /// Tables of the schema left out on purpose (sessions, rate-limit counters).
    pub not_carried: Vec<String>,
}

impl BackupManifest {
    /// Rows of every table.
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bool(bool),
    Blob(Vec<u8>),
}

impl Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Null => s.serialize_none(),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Real(f) => s.serialize_str(&f.to_string()),
            Value::Text(t) => s.serialize_str(t),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Blob(b) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b)),
        }
    }
}

impl Value {
    /// The value a JSON value stands for in a column of type `ty`; None when it cannot be one.
    fn from_json(v: serde_json::Value, ty: ColumnType) -> Option<Value> {
        use serde_json::Value as J;
        match (v, ty) {
            (J::Null, _) => Some(Value::Null),
            (J::Number(n), ColumnType::Integer) => n.as_i64().map(Value::Int),
            (J::String(s), ColumnType::Real) => s.parse::<f64>().ok().map(Value::Real),
            (J::String(s), ColumnType::Text) => Some(Value::Text(s)),
            (J::String(s), ColumnType::Blob) => {
                base64::engine::general_purpose::STANDARD.decode(s).ok().map(Value::Blob)
            }
            (J::Bool(b), ColumnType::Boolean) => Some(Value::Bool(b)),
            _ => None,
        }
    }
}

/// Reads one line of a table's entry (without its newline) as a row of `columns`.
pub(crate) fn parse_row(line: &[u8], columns: &[ColumnSpec]) -> Result<Vec<Value>, String> {
    let cells: Vec<serde_json::Value> = serde_json::from_slice(line).map_err(|e| format!("not a JSON array: {e}"))?;
    if cells.len() != columns.len() {
        return Err(format!("{} values for {} columns", cells.len(), columns.len()));
    }
    cells
        .into_iter()
        .zip(columns)
        .map(|(v, c)| {
            let shown = v.to_string();
            Value::from_json(v, c.ty).ok_or_else(|| {
                let shown: String = shown.chars().take(40).collect();
                format!("column {}: {shown} is not a {:?} value", c.name, c.ty)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(types: &[ColumnType]) -> Vec<ColumnSpec> {
        types.iter().enumerate().map(|(i, t)| ColumnSpec { name: format!("c{i}"), ty: *t }).collect()
    }

    #[test]
    fn rows_read_back_as_written() {
        use ColumnType::*;
        let columns = cols(&[Integer, Real, Real, Text, Blob, Boolean, Text, Integer]);
        let row = vec![
            Value::Int(i64::MIN),
            Value::Real(0.1 + 0.2),
            Value::Real(-1.5e-300),
            Value::Text("ឈ្មោះ \"quoted\"\n".into()),
            Value::Blob(vec![0, 255, 10, 13]),
            Value::Bool(true),
            Value::Null,
            Value::Null,
        ];
        let line = serde_json::to_vec(&row).unwrap();
        assert!(!line.contains(&b'\n'), "one row, one line");
        assert_eq!(parse_row(&line, &columns).unwrap(), row);
    }

    #[test]
    fn values_of_the_wrong_type_are_refused() {
        use ColumnType::*;
        assert!(parse_row(br#"["1"]"#, &cols(&[Integer])).unwrap_err().contains("column c0"));
        assert!(parse_row(br#"[1.5]"#, &cols(&[Integer])).is_err());
        assert!(parse_row(br#"[1]"#, &cols(&[Text])).is_err());
        assert!(parse_row(br#"["not base64!"]"#, &cols(&[Blob])).is_err());
        assert!(parse_row(br#"[1, 2]"#, &cols(&[Integer])).unwrap_err().contains("2 values for 1 columns"));
        assert!(parse_row(br#"{"a": 1}"#, &cols(&[Integer])).is_err());
    }

    #[test]
    fn declared_types_of_both_engines() {
        use ColumnType::*;
        for (d, t) in [
            ("INTEGER", Integer),
            ("BIGINT", Integer),
            ("bigint", Integer),
            ("TEXT", Text),
            ("text", Text),
            ("character varying", Text),
            ("BLOB", Blob),
            ("bytea", Blob),
            ("REAL", Real),
            ("double precision", Real),
            ("boolean", Boolean),
        ] {
            assert_eq!(ColumnType::of_declared(d), Some(t), "{d}");
        }
        assert_eq!(ColumnType::of_declared("jsonb"), None);
    }
}
