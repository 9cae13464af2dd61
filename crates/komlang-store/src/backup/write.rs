//! Taking a backup: one read transaction, tables page by page, rows streamed to the file.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::format::{table_file, BackupManifest, ColumnSpec, ColumnType, TableEntry, Value};
use super::schema::{live_table, live_tables, schema_version};
use super::tables::{table_spec, TABLES};
use super::{engine_name, latest_schema_version, read_value, BackupError, FORMAT_NAME, FORMAT_VERSION, MANIFEST_FILE};
use crate::{now_text, Engine, Store};

/// How a backup reads.
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// Rows read per query (a table holding files reads a few at a time).
    pub page_rows: usize,
}

impl Default for BackupOptions {
    fn default() -> Self {
        BackupOptions { page_rows: 1000 }
    }
}

/// Rows per query of a table with files in it (`import_files`).
const BLOB_PAGE_ROWS: usize = 4;

/// Pages in flight between the database and the file.
const PAGES_IN_FLIGHT: usize = 4;

/// What the reader sends the file writer.
enum Msg {
    Table { name: String, columns: Vec<ColumnSpec>, key: Vec<String> },
    Rows(Vec<Vec<Value>>),
    Finish(BackupManifest),
}

impl Store {
    /// Writes a backup of the whole instance to `out` (replaced when it exists) and returns
    /// its manifest. Every table is read inside one read transaction, so the copy is the
    /// database as it was at one moment while the server goes on writing. The file is written
    /// under `out.part`, synced and renamed when complete.
    pub async fn backup(&self, out: &Path, opts: &BackupOptions) -> Result<BackupManifest, BackupError> {
        let part = part_path(out);
        let file = File::create(&part)?;
        let (tx, rx) = mpsc::channel::<Msg>(PAGES_IN_FLIGHT);
        let writer = tokio::task::spawn_blocking(move || write_zip(file, rx));
        let read = self.read_snapshot(&tx, opts).await;
        drop(tx);
        let written = writer.await.map_err(|e| BackupError::Io(std::io::Error::other(e.to_string())));
        let result = match (read, written) {
            // The writer's error (a full disk) explains a reader that could not send.
            (_, Err(e)) | (_, Ok(Err(e))) => Err(e),
            // The reader's error explains a writer that saw the rows stop.
            (Err(e), _) => Err(e),
            (Ok(()), Ok(Ok(None))) => Err(writer_stopped()),
            (Ok(()), Ok(Ok(Some(manifest)))) => {
                std::fs::rename(&part, out).map(|()| manifest).map_err(BackupError::from)
            }
        };
        if result.is_err() {
            let _ = std::fs::remove_file(&part);
        }
        result
    }

    /// Reads every carried table inside one read transaction and sends it to the writer; the
    /// manifest's header last.
    async fn read_snapshot(&self, out: &mpsc::Sender<Msg>, opts: &BackupOptions) -> Result<(), BackupError> {
        let mut tx = match self.engine {
            Engine::Postgres => self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY").await?,
            // WAL mode: the transaction's first read fixes the snapshot every later read sees.
            Engine::Sqlite => self.pool.begin().await?,
        };
        let created_at = now_text();
        let known = latest_schema_version();
        let version = schema_version(&mut tx, self.engine)
            .await?
            .ok_or_else(|| BackupError::Schema("no Komlang schema in this database (run `komlang migrate`)".into()))?;
        if version > known {
            return Err(BackupError::DatabaseNewer { found: version, known });
        }
        let live = live_tables(&mut tx, self.engine).await?;
        if let Some(unknown) = live.iter().find(|t| table_spec(t).is_none()) {
            return Err(BackupError::Schema(format!(
                "the database has a table `{unknown}` this Komlang does not know; back it up with the Komlang \
                 that serves it"
            )));
        }
        let mut not_carried = Vec::new();
        for spec in TABLES {
            if !live.iter().any(|t| t == spec.name) {
                continue;
            }
            if !spec.carried {
                not_carried.push(spec.name.to_string());
                continue;
            }
            let t = live_table(&mut tx, self.engine, spec.name).await?;
            let send = |m: Msg| async { out.send(m).await.map_err(|_| writer_stopped()) };
            send(Msg::Table { name: spec.name.to_string(), columns: t.columns.clone(), key: t.key.clone() }).await?;
            let page = if t.columns.iter().any(|c| c.ty == ColumnType::Blob) { BLOB_PAGE_ROWS } else { opts.page_rows };
            let mut pages = Pages::new(spec.name, &t.columns, &t.key, page.max(1));
            while let Some(rows) = pages.next(&mut tx).await? {
                send(Msg::Rows(rows)).await?;
            }
        }
        // Read only: nothing to keep.
        tx.rollback().await?;
        let manifest = BackupManifest {
            format: FORMAT_NAME.into(),
            format_version: FORMAT_VERSION,
            komlang_version: env!("CARGO_PKG_VERSION").into(),
            schema_version: version,
            engine: engine_name(self.engine).into(),
            created_at,
            tables: Vec::new(),
            not_carried,
        };
        out.send(Msg::Finish(manifest)).await.map_err(|_| writer_stopped())
    }
}

fn writer_stopped() -> BackupError {
    BackupError::Io(std::io::Error::other("the backup file's writer stopped"))
}

fn part_path(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

/// A table read page by page in primary-key order (`WHERE (key) > (last key)`), so that a
/// table of any size takes the memory of one page.
struct Pages<'a> {
    select: String,
    columns: &'a [ColumnSpec],
    key_at: Vec<usize>,
    limit: usize,
    last: Option<Vec<Value>>,
    done: bool,
    table: &'a str,
}

impl<'a> Pages<'a> {
    fn new(table: &'a str, columns: &'a [ColumnSpec], key: &[String], limit: usize) -> Pages<'a> {
        let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
        let key_at = key.iter().filter_map(|k| names.iter().position(|n| n == k)).collect();
        Pages {
            select: format!("SELECT {} FROM {table}", names.join(", ")),
            columns,
            key_at,
            limit,
            last: None,
            done: false,
            table,
        }
    }

    async fn next(&mut self, conn: &mut sqlx::AnyConnection) -> Result<Option<Vec<Vec<Value>>>, BackupError> {
        if self.done {
            return Ok(None);
        }
        let key: Vec<&ColumnSpec> = self.key_at.iter().map(|i| &self.columns[*i]).collect();
        let key_list = key.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ");
        let mut sql = self.select.clone();
        if self.last.is_some() {
            let marks: Vec<String> = (1..=key.len()).map(|n| format!("${n}")).collect();
            sql.push_str(&format!(" WHERE ({key_list}) > ({})", marks.join(", ")));
        }
        sql.push_str(&format!(" ORDER BY {key_list} LIMIT {}", self.limit));
        let mut q = sqlx::query(&sql);
        if let Some(last) = &self.last {
            for (v, c) in last.iter().zip(&key) {
                q = super::bind_value(q, v.clone(), c.ty);
            }
        }
        let rows = q.fetch_all(&mut *conn).await?;
        if rows.len() < self.limit {
            self.done = true;
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let mut row = Vec::with_capacity(self.columns.len());
            for (i, c) in self.columns.iter().enumerate() {
                let v = read_value(r, i, c.ty).map_err(|e| {
                    BackupError::Schema(format!("{}.{}: a value does not read as {:?}: {e}", self.table, c.name, c.ty))
                })?;
                row.push(v);
            }
            out.push(row);
        }
        if let Some(last) = out.last() {
            let key_values: Vec<Value> = self.key_at.iter().map(|i| last[*i].clone()).collect();
            if key_values.contains(&Value::Null) {
                return Err(BackupError::Schema(format!("{}: a row has no primary key value", self.table)));
            }
            self.last = Some(key_values);
        }
        Ok((!out.is_empty()).then_some(out))
    }
}

/// The file writer: the zip, an entry per table, the manifest last. Returns the manifest with
/// every table's row count and SHA-256, or None when the reader stopped before the end.
fn write_zip(file: File, mut rx: mpsc::Receiver<Msg>) -> Result<Option<BackupManifest>, BackupError> {
    let zip_err = |e: zip::result::ZipError| match e {
        zip::result::ZipError::Io(io) => BackupError::Io(io),
        other => BackupError::Io(std::io::Error::other(other.to_string())),
    };
    let mut zip = ZipWriter::new(FileSink { inner: BufWriter::with_capacity(1 << 16, file), failed: false });
    let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated).large_file(true);
    let mut tables: Vec<TableEntry> = Vec::new();
    let mut hash: Option<Sha256> = None;
    let mut line = Vec::with_capacity(1 << 12);
    let finish_table = |tables: &mut Vec<TableEntry>, hash: &mut Option<Sha256>| {
        if let (Some(t), Some(h)) = (tables.last_mut(), hash.take()) {
            t.sha256 = hex::encode(h.finalize());
        }
    };
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Table { name, columns, key } => {
                finish_table(&mut tables, &mut hash);
                let file = table_file(&name);
                zip.start_file(file.as_str(), opts).map_err(zip_err)?;
                tables.push(TableEntry { name, file, columns, key, rows: 0, sha256: String::new() });
                hash = Some(Sha256::new());
            }
            Msg::Rows(rows) => {
                let (Some(t), Some(h)) = (tables.last_mut(), hash.as_mut()) else {
                    return Err(BackupError::Io(std::io::Error::other("rows before their table")));
                };
                for row in rows {
                    line.clear();
                    serde_json::to_writer(&mut line, &row).map_err(std::io::Error::from)?;
                    line.push(b'\n');
                    h.update(&line);
                    zip.write_all(&line)?;
                    t.rows += 1;
                }
            }
            Msg::Finish(mut manifest) => {
                finish_table(&mut tables, &mut hash);
                manifest.tables = tables;
                zip.start_file(MANIFEST_FILE, opts).map_err(zip_err)?;
                serde_json::to_writer_pretty(&mut zip, &manifest).map_err(std::io::Error::from)?;
                let sink = zip.finish().map_err(zip_err)?;
                if sink.failed {
                    return Err(BackupError::Io(std::io::Error::other("a write to the backup file failed")));
                }
                let file = sink.inner.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                return Ok(Some(manifest));
            }
        }
    }
    Ok(None)
}

/// The file under the zip. After a failed write (a full disk) it takes in silence what the zip
/// writes as it is dropped, so that the failure is reported once, by the backup (the file is
/// then removed).
struct FileSink {
    inner: BufWriter<File>,
    failed: bool,
}

impl FileSink {
    fn noting<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        if r.is_err() {
            self.failed = true;
        }
        r
    }
}

impl Write for FileSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.failed {
            return Ok(buf.len());
        }
        let r = self.inner.write(buf);
        self.noting(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.failed {
            return Ok(());
        }
        let r = self.inner.flush();
        self.noting(r)
    }
}

impl Seek for FileSink {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        if self.failed {
            return Ok(0);
        }
        let r = self.inner.seek(pos);
        self.noting(r)
    }
}
