//! PostgreSQL: the new workers of an import and their duplicate-detection
//! keys sent with `COPY ... FROM STDIN` rather than as bound parameters.
//!
//! sqlx's `Any` driver, on which the import's transaction runs (with every
//! query it shares with SQLite), cannot `COPY`, and an `AnyConnection`
//! cannot be turned into the `PgConnection` underneath. So the import opens
//! one native `PgConnection` beside its transaction (same URL) and copies
//! each batch into two *staging* tables of its own, unlogged and without any
//! constraint; the transaction then moves the batch from there into
//! `workers` and `worker_dedup_keys` with one `INSERT ... SELECT` each (what
//! the engine's floor in `komlang-bench` does). The staging tables hold
//! scratch copies only: every write to the registry is made by the import's
//! transaction, so all or nothing holds as before (a failed or abandoned
//! import leaves the registry unchanged).
//!
//! Each import's staging tables are named after a random number, which its
//! staging connection holds as a session advisory lock; they are dropped when
//! the import ends, and those of an import whose process died (lock free)
//! are dropped by the next import.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AnyConnection, Connection, Row};

use super::{worker_values, Ctx, Prepared, State, Val, IMPORT_WORKER_COLUMNS};
use crate::{Result, StoreError};

/// The first key of the advisory locks naming staging tables ("kl").
const STAGE_LOCK_CLASS: i32 = 0x6b6c;
/// Prefix of the staging tables' names.
const STAGE_PREFIX: &str = "import_stage_";

/// One import's staging connection and tables.
pub(super) struct Stage {
    conn: PgConnection,
    /// The import's staging tables: `{name}` (the workers' columns) and `{name}_keys`.
    pub(super) name: String,
    /// COPY statements: workers, then keys.
    copy_workers: String,
    copy_keys: String,
}

/// The staging tables' names for a number.
pub(super) fn stage_tables(name: &str) -> String {
    format!("{name}, {name}_keys")
}

impl Stage {
    /// Opens the staging connection, drops the staging tables of dead
    /// imports, and creates this import's. `columns` are the worker columns
    /// each row carries, in order (`IMPORT_WORKER_COLUMNS`).
    pub(super) async fn open(opts: &PgConnectOptions, columns: &[&str]) -> Result<Stage> {
        let mut conn = PgConnection::connect_with(opts).await?;
        drop_dead_stages(&mut conn).await?;
        let id = loop {
            let id = rand::random::<i32>() & i32::MAX;
            if try_lock(&mut conn, id).await? {
                break id;
            }
        };
        let name = format!("{STAGE_PREFIX}{id}");
        // The columns an import writes, with their types in `workers`, and no
        // constraint, default, index or trigger; only an index on the row
        // number, by which the transaction takes each batch.
        for create in [
            format!("DROP TABLE IF EXISTS {}", stage_tables(&name)),
            format!("CREATE UNLOGGED TABLE {name} AS SELECT {} FROM workers WITH NO DATA", columns.join(", ")),
            format!("CREATE INDEX ON {name} (import_row)"),
            format!("CREATE UNLOGGED TABLE {name}_keys (import_row BIGINT NOT NULL, key TEXT NOT NULL)"),
            format!("CREATE INDEX ON {name}_keys (import_row)"),
        ] {
            sqlx::query(&create).execute(&mut conn).await?;
        }
        let copy_workers = format!("COPY {name} ({}) FROM STDIN", columns.join(", "));
        let copy_keys = format!("COPY {name}_keys (import_row, key) FROM STDIN");
        Ok(Stage { conn, name, copy_workers, copy_keys })
    }

    /// Sends rows (COPY text format, see [`push_field`]) to the workers' staging table.
    pub(super) async fn copy_workers(&mut self, data: &[u8]) -> Result<u64> {
        copy(&mut self.conn, &self.copy_workers, data).await
    }

    /// Sends `import_row \t key` rows to the keys' staging table.
    pub(super) async fn copy_keys(&mut self, data: &[u8]) -> Result<u64> {
        copy(&mut self.conn, &self.copy_keys, data).await
    }
}

/// PostgreSQL: the new workers and their keys copied to the import's staging
/// tables (`COPY`, on the staging connection), then moved by the import's
/// transaction into `workers` and `worker_dedup_keys`, set-based.
pub(super) async fn copy_new_workers(
    ctx: &Ctx<'_>,
    st: &mut State,
    conn: &mut AnyConnection,
    pending: &[Prepared],
    first: i64,
    last: i64,
) -> Result<()> {
    let Some(stage) = st.stage.as_mut() else {
        return Err(StoreError::Corrupt("no staging connection".into()));
    };
    let started = std::time::Instant::now();
    let mut buf: Vec<u8> = Vec::with_capacity(pending.len() * 256);
    let mut int = String::new();
    for p in pending {
        for (i, v) in worker_values(ctx, p).into_iter().enumerate() {
            if i > 0 {
                buf.push(b'\t');
            }
            match v {
                Val::Text(v) => push_field(&mut buf, v),
                Val::Owned(v) => push_field(&mut buf, v.as_deref()),
                Val::Int(v) => {
                    int.clear();
                    if let Some(v) = v {
                        int.push_str(&v.to_string());
                    }
                    push_field(&mut buf, v.map(|_| int.as_str()));
                }
            }
        }
        buf.push(b'\n');
    }
    let copied = stage.copy_workers(&buf).await?;
    buf.clear();
    for p in pending {
        for k in &p.keys {
            push_field(&mut buf, Some(&p.row.to_string()));
            buf.push(b'\t');
            push_field(&mut buf, Some(k));
            buf.push(b'\n');
        }
    }
    stage.copy_keys(&buf).await?;
    st.copied_rows.fetch_add(copied, std::sync::atomic::Ordering::Relaxed);
    let copied_at = std::time::Instant::now();
    st.timings.copy += copied_at - started;

    let cols = IMPORT_WORKER_COLUMNS.join(", ");
    let name = &stage.name;
    let move_workers = format!(
        "INSERT INTO workers ({cols}) SELECT {cols} FROM {name} \
         WHERE import_row >= $1 AND import_row <= $2 ORDER BY import_row"
    );
    let moved = sqlx::query(&move_workers).bind(first).bind(last).execute(&mut *conn).await?;
    if moved.rows_affected() != pending.len() as u64 {
        return Err(StoreError::Corrupt(format!(
            "{} staged workers moved, {} expected",
            moved.rows_affected(),
            pending.len()
        )));
    }
    let workers_at = std::time::Instant::now();
    st.timings.workers += workers_at - copied_at;
    // The range on both sides: the planner does not carry it across the join,
    // and would otherwise read every worker of the import for each batch.
    let move_keys = format!(
        "INSERT INTO worker_dedup_keys (worker_id, key) SELECT w.id, k.key FROM workers w \
         JOIN {name}_keys k ON k.import_row = w.import_row AND k.import_row >= $2 AND k.import_row <= $3 \
         WHERE w.import_id = $1 AND w.import_row >= $2 AND w.import_row <= $3"
    );
    sqlx::query(&move_keys).bind(ctx.import_id).bind(first).bind(last).execute(&mut *conn).await?;
    st.timings.keys += workers_at.elapsed();
    Ok(())
}

async fn copy(conn: &mut PgConnection, statement: &str, data: &[u8]) -> Result<u64> {
    let mut c = conn.copy_in_raw(statement).await?;
    if let Err(e) = c.send(data).await {
        let _ = c.abort("import failed").await;
        return Err(e.into());
    }
    Ok(c.finish().await?)
}

/// Takes the session advisory lock of staging tables `id` if it is free.
async fn try_lock(conn: &mut PgConnection, id: i32) -> Result<bool> {
    let row = sqlx::query("SELECT pg_try_advisory_lock($1, $2)")
        .bind(STAGE_LOCK_CLASS)
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get::<bool, _>(0)?)
}

/// Drops the staging tables whose import is gone (its advisory lock is free).
async fn drop_dead_stages(conn: &mut PgConnection) -> Result<()> {
    let pattern = format!("{}%", STAGE_PREFIX.replace('_', "\\_"));
    let names: Vec<String> =
        sqlx::query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE $1")
            .bind(pattern)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<std::result::Result<_, _>>()?;
    for name in names {
        let Some(id) = name.strip_prefix(STAGE_PREFIX).and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if try_lock(conn, id).await? {
            tracing::info!("dropping the staging tables of an import that did not end: {name}");
            let drop = format!("DROP TABLE IF EXISTS {}", stage_tables(&format!("{STAGE_PREFIX}{id}")));
            sqlx::query(&drop).execute(&mut *conn).await?;
            sqlx::query("SELECT pg_advisory_unlock($1, $2)")
                .bind(STAGE_LOCK_CLASS)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
    }
    Ok(())
}

/// Appends one field in `COPY`'s text format: `\N` for NULL; a backslash,
/// tab, newline or carriage return escaped; everything else (quotes, Khmer)
/// as it is. Fields are separated by tabs and rows end with a newline.
pub(super) fn push_field(buf: &mut Vec<u8>, v: Option<&str>) {
    let Some(v) = v else {
        buf.extend_from_slice(b"\\N");
        return;
    };
    for b in v.bytes() {
        match b {
            b'\\' => buf.extend_from_slice(b"\\\\"),
            b'\t' => buf.extend_from_slice(b"\\t"),
            b'\n' => buf.extend_from_slice(b"\\n"),
            b'\r' => buf.extend_from_slice(b"\\r"),
            _ => buf.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, Row};

    use super::{copy, push_field};
    use crate::testing::{engines, TestDb};
    use crate::Engine;

    #[tokio::test]
    async fn tabs_newlines_backslashes_quotes_and_khmer_round_trip_through_copy() {
        let values = [
            Some("a\tb\tc"),
            Some("line\nbreak\r\nand \\n"),
            Some("back\\slash \\N \\\\ \\"),
            Some("\"double\" 'single' «angle», comma"),
            Some("សុខ ដារ៉ា\u{200B}ស្រី ក្រសួង ១២៣"),
            None,
            Some(""),
            Some("\\N"),
        ];
        for engine in engines().into_iter().filter(|e| *e == Engine::Postgres) {
            let db = TestDb::empty(engine).await;
            let opts = db.store.pg_options.clone().unwrap();
            let mut conn = sqlx::postgres::PgConnection::connect_with(&opts).await.unwrap();
            sqlx::query("CREATE TABLE copy_round_trip (n BIGINT, v TEXT)").execute(&mut conn).await.unwrap();
            let mut buf = Vec::new();
            for (i, v) in values.iter().enumerate() {
                push_field(&mut buf, Some(&i.to_string()));
                buf.push(b'\t');
                push_field(&mut buf, *v);
                buf.push(b'\n');
            }
            let n = copy(&mut conn, "COPY copy_round_trip (n, v) FROM STDIN", &buf).await.unwrap();
            assert_eq!(n, values.len() as u64);
            let back: Vec<Option<String>> = sqlx::query("SELECT v FROM copy_round_trip ORDER BY n")
                .fetch_all(&mut conn)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            let expected: Vec<Option<String>> = values.iter().map(|v| v.map(str::to_string)).collect();
            assert_eq!(back, expected);
            conn.close().await.unwrap();
            db.cleanup().await;
        }
    }

    #[test]
    fn fields_are_escaped_as_copy_text_format_reads_them() {
        let mut buf = Vec::new();
        push_field(&mut buf, Some("a\tb\\c\nd\re \"q\" 'x' សុខ"));
        buf.push(b'\t');
        push_field(&mut buf, None);
        buf.push(b'\t');
        push_field(&mut buf, Some("\\N"));
        assert_eq!(String::from_utf8(buf).unwrap(), "a\\tb\\\\c\\nd\\re \"q\" 'x' សុខ\t\\N\t\\\\N");
    }
}
