//! Checking a backup file and restoring it into an empty database of either engine.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use sqlx::migrate::{Migration, MigrationSource, Migrator};
use sqlx::{AnyConnection, Row};
use tokio::sync::mpsc;
use zip::ZipArchive;

use super::format::{parse_row, table_file, BackupManifest, ColumnType, TableEntry, Value};
use super::schema::{live_table, live_tables, schema_version};
use super::tables::{is_identifier, table_index, table_spec, TABLES};
use super::{bind_value, latest_schema_version, BackupError, FORMAT_NAME, FORMAT_VERSION, MANIFEST_FILE};
use crate::common::sql::Placeholders;
use crate::common::store::migrations;
use crate::{Engine, Store};

/// What a restore brought back.
#[derive(Debug, Clone)]
pub struct RestoreSummary {
    /// The backup's manifest.
    pub manifest: BackupManifest,
    /// Rows in each restored table afterwards (equal to the manifest's counts).
    pub tables: Vec<(String, u64)>,
}

/// Parameters per insert statement (both engines accept more).
const MAX_PARAMS: usize = 30_000;
/// Rows per insert statement.
const MAX_ROWS: usize = 500;
/// Batches in flight between the file and the database.
const BATCHES_IN_FLIGHT: usize = 4;
/// The largest manifest read.
const MANIFEST_MAX: u64 = 64 << 20;

fn open_zip(path: &Path) -> Result<ZipArchive<BufReader<File>>, BackupError> {
    let f = File::open(path).map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    ZipArchive::new(BufReader::new(f)).map_err(|e| BackupError::NotABackup(format!("{}: {e}", path.display())))
}

/// Reads and checks the manifest: a Komlang backup, of a format and schema this Komlang
/// reads, whose tables are known and in restore order.
fn read_manifest(zip: &mut ZipArchive<BufReader<File>>) -> Result<BackupManifest, BackupError> {
    let mut bytes = Vec::new();
    zip.by_name(MANIFEST_FILE)
        .map_err(|_| BackupError::NotABackup(format!("it has no {MANIFEST_FILE}")))?
        .take(MANIFEST_MAX)
        .read_to_end(&mut bytes)
        .map_err(|e| BackupError::Corrupt(format!("{MANIFEST_FILE}: {e}")))?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| BackupError::Corrupt(format!("{MANIFEST_FILE}: {e}")))?;
    if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT_NAME) {
        return Err(BackupError::NotABackup(format!("its {MANIFEST_FILE} is not a Komlang backup's")));
    }
    let by = v.get("komlang_version").and_then(|f| f.as_str()).unwrap_or("?").to_string();
    let version = v
        .get("format_version")
        .and_then(|f| f.as_u64())
        .ok_or_else(|| BackupError::Corrupt(format!("{MANIFEST_FILE} has no format_version")))?;
    if version > u64::from(FORMAT_VERSION) {
        return Err(BackupError::NewerFormat { found: version, by });
    }
    let m: BackupManifest =
        serde_json::from_value(v).map_err(|e| BackupError::Corrupt(format!("{MANIFEST_FILE}: {e}")))?;
    let known = latest_schema_version();
    if m.schema_version > known {
        return Err(BackupError::NewerSchema { found: m.schema_version, known, by });
    }
    let mut last = None;
    for t in &m.tables {
        let bad = |why: &str| BackupError::Corrupt(format!("{MANIFEST_FILE}: table {}: {why}", t.name));
        let index = table_index(&t.name).ok_or_else(|| bad("not a table of Komlang's schema"))?;
        if table_spec(&t.name).is_some_and(|s| !s.carried) {
            return Err(bad("never carried by a backup"));
        }
        if last.is_some_and(|l| l >= index) {
            return Err(bad("out of order or listed twice"));
        }
        last = Some(index);
        if t.file != table_file(&t.name) {
            return Err(bad("its rows are not in the expected entry"));
        }
        let mut names = std::collections::HashSet::new();
        if t.columns.is_empty() || !t.columns.iter().all(|c| is_identifier(&c.name) && names.insert(c.name.as_str())) {
            return Err(bad("its columns are not plain, distinct names"));
        }
        if t.key.is_empty() || !t.key.iter().all(|k| names.contains(k.as_str())) {
            return Err(bad("its key is not among its columns"));
        }
    }
    // At this Komlang's own schema version every carried table exists (tests/backup.rs keeps
    // TABLES equal to the schema); an older version's tables are checked once the target is
    // migrated to it.
    if m.schema_version == known {
        if let Some(missing) = TABLES.iter().find(|s| s.carried && !m.tables.iter().any(|t| t.name == s.name)) {
            return Err(missing_table(missing.name, m.schema_version));
        }
    }
    Ok(m)
}

fn missing_table(table: &str, version: i64) -> BackupError {
    BackupError::Corrupt(format!("it has no table {table}, which schema version {version} has"))
}

/// Calls `each` with every line of a table's entry (newline included), failing on a read
/// error (a damaged zip fails its CRC check here).
fn for_each_line(
    zip: &mut ZipArchive<BufReader<File>>,
    t: &TableEntry,
    mut each: impl FnMut(&[u8]) -> Result<(), BackupError>,
) -> Result<(), BackupError> {
    let damaged = |e: &dyn std::fmt::Display| BackupError::Corrupt(format!("{}: {e}", t.file));
    let entry = zip.by_name(&t.file).map_err(|e| damaged(&e))?;
    let mut r = BufReader::with_capacity(1 << 16, entry);
    let mut line = Vec::with_capacity(1 << 12);
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line).map_err(|e| damaged(&e))? == 0 {
            return Ok(());
        }
        each(&line)?;
    }
}

fn without_newline(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// Checks a backup file without touching any database: a Komlang backup of a format and
/// schema version this Komlang reads, every table's entry with the manifest's SHA-256 and row
/// count, every row readable as the manifest's columns. Returns the manifest.
pub fn verify_backup(path: &Path) -> Result<BackupManifest, BackupError> {
    let mut zip = open_zip(path)?;
    let manifest = read_manifest(&mut zip)?;
    for t in &manifest.tables {
        let mut hash = Sha256::new();
        let mut rows = 0u64;
        for_each_line(&mut zip, t, |line| {
            hash.update(line);
            rows += 1;
            parse_row(without_newline(line), &t.columns)
                .map(drop)
                .map_err(|e| BackupError::Corrupt(format!("{}, row {rows}: {e}", t.file)))
        })?;
        let sha = hex::encode(hash.finalize());
        if sha != t.sha256 {
            return Err(BackupError::Corrupt(format!("{}: its SHA-256 is not the manifest's", t.file)));
        }
        if rows != t.rows {
            return Err(BackupError::Corrupt(format!("{}: {rows} rows, the manifest says {}", t.file, t.rows)));
        }
    }
    Ok(manifest)
}

/// The migrations up to a version, as a source for a [`Migrator`].
#[derive(Debug)]
struct UpTo(Vec<Migration>);

impl<'s> MigrationSource<'s> for UpTo {
    fn resolve(
        self,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Vec<Migration>, sqlx::error::BoxDynError>> + Send + 's>,
    > {
        Box::pin(async move { Ok(self.0) })
    }
}

/// What the file reader sends: rows of one table, to insert (first pass) or, for a table
/// referring to itself, to set those references once every row is in (second pass).
struct Batch {
    table: usize,
    self_refs_pass: bool,
    rows: Vec<Vec<Value>>,
}

/// Reads the tables' rows from the file, in batches.
fn read_batches(path: PathBuf, tables: Vec<TableEntry>, out: mpsc::Sender<Batch>) -> Result<(), BackupError> {
    let mut zip = open_zip(&path)?;
    for (i, t) in tables.iter().enumerate() {
        let per_batch = if t.columns.iter().any(|c| c.ty == ColumnType::Blob) {
            1
        } else {
            (MAX_PARAMS / t.columns.len()).clamp(1, MAX_ROWS)
        };
        let has_self_refs = table_spec(&t.name).is_some_and(|s| !s.self_refs.is_empty());
        let passes: &[bool] = if has_self_refs { &[false, true] } else { &[false] };
        for &self_refs_pass in passes {
            let mut rows = Vec::with_capacity(per_batch);
            let mut n = 0u64;
            for_each_line(&mut zip, t, |line| {
                n += 1;
                let row = parse_row(without_newline(line), &t.columns)
                    .map_err(|e| BackupError::Corrupt(format!("{}, row {n}: {e}", t.file)))?;
                rows.push(row);
                if rows.len() == per_batch {
                    let batch = Batch { table: i, self_refs_pass, rows: std::mem::take(&mut rows) };
                    out.blocking_send(batch).map_err(|_| stopped())?;
                }
                Ok(())
            })?;
            if !rows.is_empty() {
                out.blocking_send(Batch { table: i, self_refs_pass, rows }).map_err(|_| stopped())?;
            }
        }
    }
    Ok(())
}

fn stopped() -> BackupError {
    BackupError::Io(std::io::Error::other("the restore stopped"))
}

fn join_error(e: tokio::task::JoinError) -> BackupError {
    BackupError::Io(std::io::Error::other(e.to_string()))
}

/// Refuses a database holding anything but what Komlang writes into a new database by itself.
async fn check_empty(conn: &mut AnyConnection, live: &[String]) -> Result<(), BackupError> {
    let mut found = Vec::new();
    for name in live {
        let Some(spec) = table_spec(name) else {
            found.push(format!("a table `{name}` Komlang does not know"));
            continue;
        };
        if !spec.carried {
            continue;
        }
        let sql = match spec.preset {
            Some(cond) => format!("SELECT COUNT(*) FROM {} WHERE NOT ({cond})", spec.name),
            None => format!("SELECT COUNT(*) FROM {}", spec.name),
        };
        let n: i64 = sqlx::query(&sql).fetch_one(&mut *conn).await?.try_get(0)?;
        if n > 0 {
            found.push(format!("{n} {} in {}", if n == 1 { "row" } else { "rows" }, spec.name));
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(BackupError::NotEmpty(found.join(", ")))
    }
}

impl Store {
    /// Restores the backup at `path` into this database, which must be empty: new, or holding
    /// only what Komlang writes into a new database by itself (its reference data, replaced
    /// by the backup's). The file is checked whole before anything is written; the database is
    /// migrated to the backup's schema version, every row goes in with its ids in one
    /// transaction (PostgreSQL's id sequences then start after the highest id), and the later
    /// migrations run last.
    pub async fn restore(&self, path: &Path) -> Result<RestoreSummary, BackupError> {
        let file = path.to_path_buf();
        let manifest = tokio::task::spawn_blocking(move || verify_backup(&file)).await.map_err(join_error)??;
        let engine = self.engine;
        {
            let mut conn = self.pool.acquire().await?;
            if let Some(v) = schema_version(&mut conn, engine).await? {
                if v > manifest.schema_version {
                    return Err(BackupError::TargetAhead { target: v, backup: manifest.schema_version });
                }
            }
            let live = live_tables(&mut conn, engine).await?;
            check_empty(&mut conn, &live).await?;
        }
        let upto = migrations(engine).iter().filter(|m| m.version <= manifest.schema_version).cloned().collect();
        Migrator::new(UpTo(upto)).await?.run(&self.pool).await?;

        let mut tx = self.begin_write().await?;
        let live = live_tables(&mut tx, engine).await?;
        check_empty(&mut tx, &live).await?;
        for spec in TABLES.iter().filter(|s| s.carried && live.iter().any(|t| t == s.name)) {
            if !manifest.tables.iter().any(|t| t.name == spec.name) {
                return Err(missing_table(spec.name, manifest.schema_version));
            }
        }
        for t in &manifest.tables {
            if !live.contains(&t.name) {
                return Err(BackupError::Schema(format!(
                    "schema version {} has no table {}",
                    manifest.schema_version, t.name
                )));
            }
            let target = live_table(&mut tx, engine, &t.name).await?;
            for c in &t.columns {
                match target.columns.iter().find(|l| l.name == c.name) {
                    Some(l) if l.ty == c.ty => {}
                    Some(l) => {
                        return Err(BackupError::Schema(format!(
                            "{}.{} is {:?} in the backup, {:?} in the database",
                            t.name, c.name, c.ty, l.ty
                        )))
                    }
                    None => {
                        return Err(BackupError::Schema(format!("the database has no column {}.{}", t.name, c.name)))
                    }
                }
            }
        }
        // What Komlang wrote into the new database by itself, and what no backup carries.
        for spec in TABLES.iter().rev().filter(|s| live.iter().any(|t| t == s.name)) {
            sqlx::query(&format!("DELETE FROM {}", spec.name)).execute(&mut *tx).await?;
        }

        let (sender, mut batches) = mpsc::channel::<Batch>(BATCHES_IN_FLIGHT);
        let (file, tables) = (path.to_path_buf(), manifest.tables.clone());
        let reader = tokio::task::spawn_blocking(move || read_batches(file, tables, sender));
        let mut inserted = Ok(());
        while let Some(b) = batches.recv().await {
            let t = &manifest.tables[b.table];
            let self_refs = table_spec(&t.name).map(|s| s.self_refs).unwrap_or_default();
            let done = if b.self_refs_pass {
                set_self_refs(&mut tx, t, self_refs, b.rows).await
            } else {
                insert_rows(&mut tx, engine, t, self_refs, b.rows).await
            };
            if let Err(e) = done {
                inserted = Err(e);
                break;
            }
        }
        drop(batches);
        let read = reader.await.map_err(join_error)?;
        inserted?;
        read?;

        if engine == Engine::Postgres {
            for t in manifest.tables.iter().filter(|t| t.key == ["id"]) {
                // Identity columns: the next id after the highest restored (1 for an empty table).
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{0}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {0}",
                    t.name
                ))
                .execute(&mut *tx)
                .await?;
            }
        }
        let mut counts = Vec::with_capacity(manifest.tables.len());
        for t in &manifest.tables {
            let n: i64 =
                sqlx::query(&format!("SELECT COUNT(*) FROM {}", t.name)).fetch_one(&mut *tx).await?.try_get(0)?;
            if u64::try_from(n).ok() != Some(t.rows) {
                return Err(BackupError::Corrupt(format!(
                    "{}: {n} rows restored, the manifest says {}",
                    t.name, t.rows
                )));
            }
            counts.push((t.name.clone(), t.rows));
        }
        tx.commit().await?;
        // Later migrations, and what the store derives from the records (duplicate keys).
        self.migrate().await?;
        // The tallies the triggers wrote batch by batch, merged (only shorter to sum).
        if let Err(e) = self.compact_worker_tallies().await {
            tracing::warn!("could not merge the worker tallies after the restore: {e}");
        }
        Ok(RestoreSummary { manifest, tables: counts })
    }
}

/// Inserts a batch of rows, self-references left empty for the second pass.
async fn insert_rows(
    conn: &mut AnyConnection,
    engine: Engine,
    t: &TableEntry,
    self_refs: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<(), BackupError> {
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", t.name, names.join(", "));
    let mut marks = Placeholders::for_engine(engine);
    for i in 0..rows.len() {
        sql.push_str(if i == 0 { "(" } else { ", (" });
        for j in 0..names.len() {
            if j > 0 {
                sql.push_str(", ");
            }
            marks.push_next(&mut sql);
        }
        sql.push(')');
    }
    let mut q = sqlx::query(&sql);
    for row in rows {
        for (v, c) in row.into_iter().zip(&t.columns) {
            let v = if self_refs.contains(&c.name.as_str()) { Value::Null } else { v };
            q = bind_value(q, v, c.ty);
        }
    }
    q.execute(&mut *conn).await.map_err(|source| BackupError::Insert { table: t.name.clone(), source })?;
    Ok(())
}

/// Sets the self-references of a batch of rows (all of the table's rows are in).
async fn set_self_refs(
    conn: &mut AnyConnection,
    t: &TableEntry,
    self_refs: &[&str],
    rows: Vec<Vec<Value>>,
) -> Result<(), BackupError> {
    let at = |name: &str| t.columns.iter().position(|c| c.name == name);
    let refs: Vec<usize> = self_refs.iter().filter_map(|r| at(r)).collect();
    let key: Vec<usize> = t.key.iter().filter_map(|k| at(k)).collect();
    if refs.is_empty() {
        return Ok(());
    }
    let mut n = 0;
    let mut set = Vec::new();
    for i in &refs {
        n += 1;
        set.push(format!("{} = ${n}", t.columns[*i].name));
    }
    let mut cond = Vec::new();
    for i in &key {
        n += 1;
        cond.push(format!("{} = ${n}", t.columns[*i].name));
    }
    let sql = format!("UPDATE {} SET {} WHERE {}", t.name, set.join(", "), cond.join(" AND "));
    for row in rows {
        if refs.iter().all(|i| row[*i] == Value::Null) {
            continue;
        }
        let mut q = sqlx::query(&sql);
        for i in refs.iter().chain(&key) {
            q = bind_value(q, row[*i].clone(), t.columns[*i].ty);
        }
        q.execute(&mut *conn).await.map_err(|source| BackupError::Insert { table: t.name.clone(), source })?;
    }
    Ok(())
}
