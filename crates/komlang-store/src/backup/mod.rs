//! Whole-instance backup and restore (docs/backup.md).
//!
//! [`Store::backup`](crate::Store::backup) reads every table of [`TABLES`] inside one read
//! transaction (PostgreSQL: `REPEATABLE READ, READ ONLY`; SQLite: one connection in WAL mode,
//! which sees one snapshot), page by page in primary-key order, while the server keeps
//! writing, and streams the rows to a zip of JSON lines with a manifest (format version,
//! versions, engine, per-table row counts and SHA-256). [`Store::restore`](crate::Store::restore)
//! checks the whole file before it writes anything, refuses a database that holds records,
//! migrates it to the backup's schema version, inserts every row with its ids in one
//! transaction, moves PostgreSQL's id sequences past the highest id, and then runs the
//! later migrations. Either engine restores what either engine backed up.

mod format;
mod restore;
mod schema;
mod tables;
mod write;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Row};

use format::Value;
pub use format::{
    table_file, BackupManifest, ColumnSpec, ColumnType, TableEntry, FORMAT_NAME, FORMAT_VERSION, MANIFEST_FILE,
};
pub use restore::{verify_backup, RestoreSummary};
pub use tables::{table_spec, TableSpec, TABLES};
pub use write::BackupOptions;

use crate::{Engine, StoreError};

/// Why a backup or a restore did not happen (nothing was written to the database).
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file is no Komlang backup at all.
    #[error("not a Komlang backup: {0}")]
    NotABackup(String),
    /// The file is a backup but damaged (a checksum or a count differs, a row does not read).
    #[error("the backup is damaged: {0}")]
    Corrupt(String),
    #[error(
        "this backup is in format version {found}, written by Komlang {by}; this Komlang ({ours}) reads format \
         versions up to {max}: restore it with Komlang {by} or newer",
        ours = env!("CARGO_PKG_VERSION"),
        max = FORMAT_VERSION
    )]
    NewerFormat { found: u64, by: String },
    #[error(
        "this backup holds schema version {found} (Komlang {by}); this Komlang ({ours}) knows schema versions up to \
         {known}: restore it with Komlang {by} or newer",
        ours = env!("CARGO_PKG_VERSION")
    )]
    NewerSchema { found: i64, known: i64, by: String },
    #[error(
        "the database is at schema version {found}; this Komlang ({ours}) knows schema versions up to {known}: \
         back it up with the Komlang that serves it",
        ours = env!("CARGO_PKG_VERSION")
    )]
    DatabaseNewer { found: i64, known: i64 },
    #[error(
        "the target database is at schema version {target}, newer than the backup's {backup}: restore into a new, \
         empty database"
    )]
    TargetAhead { target: i64, backup: i64 },
    /// The target database holds records.
    #[error("the target database is not empty ({0}): restore into a new, empty database")]
    NotEmpty(String),
    #[error("cannot restore the rows of {table}: {source}")]
    Insert { table: String, source: sqlx::Error },
    /// The schema is not the one Komlang knows (a table it does not know, an unsupported type).
    #[error("unexpected schema: {0}")]
    Schema(String),
}

/// The highest schema version this Komlang knows (both engines have the same versions).
pub fn latest_schema_version() -> i64 {
    [Engine::Sqlite, Engine::Postgres]
        .into_iter()
        .flat_map(|e| crate::common::store::migrations(e).iter().map(|m| m.version))
        .max()
        .unwrap_or(0)
}

/// The engine's name in a manifest.
pub(crate) fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "sqlite",
        Engine::Postgres => "postgres",
    }
}

/// Value `i` of a row read from a column of type `ty`.
pub(crate) fn read_value(r: &AnyRow, i: usize, ty: ColumnType) -> Result<Value, sqlx::Error> {
    Ok(match ty {
        ColumnType::Integer => r.try_get::<Option<i64>, _>(i)?.map_or(Value::Null, Value::Int),
        ColumnType::Real => r.try_get::<Option<f64>, _>(i)?.map_or(Value::Null, Value::Real),
        ColumnType::Text => r.try_get::<Option<String>, _>(i)?.map_or(Value::Null, Value::Text),
        ColumnType::Blob => r.try_get::<Option<Vec<u8>>, _>(i)?.map_or(Value::Null, Value::Blob),
        ColumnType::Boolean => r.try_get::<Option<bool>, _>(i)?.map_or(Value::Null, Value::Bool),
    })
}

/// Binds a value for a column of type `ty` (a NULL typed as the column, which PostgreSQL needs).
pub(crate) fn bind_value<'q>(
    q: Query<'q, Any, AnyArguments<'q>>,
    v: Value,
    ty: ColumnType,
) -> Query<'q, Any, AnyArguments<'q>> {
    match (v, ty) {
        (Value::Null, ColumnType::Integer) => q.bind(None::<i64>),
        (Value::Null, ColumnType::Real) => q.bind(None::<f64>),
        (Value::Null, ColumnType::Text) => q.bind(None::<String>),
        (Value::Null, ColumnType::Blob) => q.bind(None::<Vec<u8>>),
        (Value::Null, ColumnType::Boolean) => q.bind(None::<bool>),
        (Value::Int(i), _) => q.bind(i),
        (Value::Real(f), _) => q.bind(f),
        (Value::Text(s), _) => q.bind(s),
        (Value::Bool(b), _) => q.bind(b),
        (Value::Blob(b), _) => q.bind(b),
    }
}
