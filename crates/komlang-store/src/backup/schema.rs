//! The live schema of a database, read on the connection (and so in the transaction) given.

use sqlx::{AnyConnection, Row};

use super::format::{ColumnSpec, ColumnType};
use super::tables::is_identifier;
use super::BackupError;
use crate::Engine;

/// A table as the database has it.
#[derive(Debug, Clone)]
pub(crate) struct LiveTable {
    pub columns: Vec<ColumnSpec>,
    pub key: Vec<String>,
}

/// The tables of the database (not the migrations' own), by name: on SQLite, ordinary
/// tables only, not the search index (`workers_search`, an FTS5 virtual table, and its
/// shadow tables), which is derived from `workers` and kept by triggers.
pub(crate) async fn live_tables(conn: &mut AnyConnection, engine: Engine) -> Result<Vec<String>, BackupError> {
    let sql = match engine {
        Engine::Sqlite => {
            "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations' ORDER BY name"
        }
        Engine::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations' ORDER BY 1"
        }
    };
    let rows = sqlx::query(sql).fetch_all(&mut *conn).await?;
    Ok(rows.iter().map(|r| r.try_get::<String, _>(0)).collect::<Result<_, _>>()?)
}

/// The last migration applied; None when the database has no migrations table (a new
/// database, or not Komlang's).
pub(crate) async fn schema_version(conn: &mut AnyConnection, engine: Engine) -> Result<Option<i64>, BackupError> {
    let exists = match engine {
        Engine::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        Engine::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_name = '_sqlx_migrations'"
        }
    };
    let n: i64 = sqlx::query(exists).fetch_one(&mut *conn).await?.try_get(0)?;
    if n == 0 {
        return Ok(None);
    }
    let v: Option<i64> = sqlx::query("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    Ok(v)
}

/// The columns (in their order) and primary key of a table.
pub(crate) async fn live_table(
    conn: &mut AnyConnection,
    engine: Engine,
    table: &str,
) -> Result<LiveTable, BackupError> {
    let mut columns = Vec::new();
    let mut key = Vec::new();
    match engine {
        Engine::Sqlite => {
            let rows = sqlx::query("SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid")
                .bind(table)
                .fetch_all(&mut *conn)
                .await?;
            let mut keyed = Vec::new();
            for r in &rows {
                let name: String = r.try_get(0)?;
                let declared: String = r.try_get(1)?;
                let pk: i64 = r.try_get(2)?;
                if pk > 0 {
                    keyed.push((pk, name.clone()));
                }
                columns.push(column(table, name, &declared)?);
            }
            keyed.sort();
            key = keyed.into_iter().map(|(_, n)| n).collect();
        }
        Engine::Postgres => {
            let rows = sqlx::query(
                "SELECT column_name::text, data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(&mut *conn)
            .await?;
            for r in &rows {
                columns.push(column(table, r.try_get(0)?, &r.try_get::<String, _>(1)?)?);
            }
            let rows = sqlx::query(
                "SELECT k.column_name::text FROM information_schema.table_constraints c \
                 JOIN information_schema.key_column_usage k ON k.constraint_name = c.constraint_name \
                 AND k.constraint_schema = c.constraint_schema AND k.table_name = c.table_name \
                 WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema() AND c.table_name = $1 \
                 ORDER BY k.ordinal_position",
            )
            .bind(table)
            .fetch_all(&mut *conn)
            .await?;
            for r in &rows {
                key.push(r.try_get(0)?);
            }
        }
    }
    if columns.is_empty() {
        return Err(BackupError::Schema(format!("table {table} has no columns")));
    }
    if key.is_empty() {
        return Err(BackupError::Schema(format!("table {table} has no primary key")));
    }
    Ok(LiveTable { columns, key })
}

fn column(table: &str, name: String, declared: &str) -> Result<ColumnSpec, BackupError> {
    if !is_identifier(&name) {
        return Err(BackupError::Schema(format!("column {table}.{name}: not a plain name")));
    }
    let ty = ColumnType::of_declared(declared)
        .ok_or_else(|| BackupError::Schema(format!("column {table}.{name}: type {declared} is not supported")))?;
    Ok(ColumnSpec { name, ty })
}
