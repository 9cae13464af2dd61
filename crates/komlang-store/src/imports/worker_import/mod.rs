//! Importing workers from a file: every row converted and validated, its
//! employer and workplace resolved within the caller's scope, compared with
//! the registry and the earlier rows of the file, then written in
//! multi-row batches, all in one transaction.
//!
//! Streaming: rows are read [`READ_BATCH`] at a time and nothing of a batch
//! is kept once it is written, except the rejected rows and the duplicates
//! found (the report). The next batch is read and checked while the
//! database writes the current one (`tokio::join!`: the database works in
//! its own thread on SQLite, its own process on PostgreSQL). Duplicates are
//! found through the `worker_dedup_keys` index: the keys of a batch are
//! looked up in one query, which also sees the rows this import wrote
//! earlier (same transaction), so no index of the file is kept in memory;
//! past [`BLOOM_AFTER_ROWS`] rows a fixed-size Bloom filter spares the
//! lookups of keys that cannot be stored. See `docs/import.md`.

mod bloom;
mod copy;
mod held;
mod indexes;
mod rows;
mod search_index;
mod tallies;

use std::collections::HashMap;

use chrono::NaiveDate;
use komlang_core::access::WorkerScope;
use komlang_core::dedup::{compare, explain, DupMatch, DupReason, PersonKey};
use komlang_core::import::{ColumnMapping, ImportField, RowError};
use komlang_core::validate::{validate_worker, WorkerInput};
use komlang_core::*;
use sqlx::{AnyConnection, Connection, Row};

use self::bloom::Bloom;
pub use self::bloom::{BLOOM_AFTER_ROWS, BLOOM_BYTES};
use self::copy::{copy_new_workers, stage_tables, Stage};
pub use self::indexes::{DEFERRED as DEFERRED_IMPORT_INDEXES, DEFER_INDEXES_AFTER};
use self::rows::{check_worker_mapping, load_org_index, row_error, OrgIndex};
use crate::common::rows::opt_date;
use crate::common::scope::push_worker_scope;
use crate::common::sql::{bulk_insert, lock_version, Arg, Placeholders, Sql};
use crate::imports::{
    begin_import_row, file_error, finish_import_row, DupDecision, DupTarget, DuplicateFound, ImportHead, ImportReport,
    RejectedRow, RejectedRows, WorkerImportOptions,
};
use crate::units::load_units;
use crate::workers::{
    dedup_person, draft_args, insert_dedup_keys, stored_keys, worker_from_row, write_worker_update, DRAFT_COLUMNS,
    WORKER_COLS,
};
use crate::{now_text, Engine, Result, Store, StoreError};

/// Rows read, converted and checked together (one candidate lookup each).
pub const READ_BATCH: usize = 500;
/// Workers per multi-row `INSERT`.
const INSERT_CHUNK: usize = 500;

/// The columns an import writes for each new worker, in the order of [`worker_values`]:
/// those of every write of a worker ([`DRAFT_COLUMNS`], search keys included), then the
/// import's own. The one list both writers use: the multi-row `INSERT` (SQLite) and `COPY`
/// (PostgreSQL).
const IMPORT_WORKER_COLUMNS: [&str; DRAFT_COLUMNS.len() + 7] = {
    let extra =
        ["import_row", "created_at", "updated_at", "import_id", "synthetic", "status_latest", "status_latest_on"];
    let mut out = [""; DRAFT_COLUMNS.len() + 7];
    let mut i = 0;
    while i < DRAFT_COLUMNS.len() {
        out[i] = DRAFT_COLUMNS[i];
        i += 1;
    }
    let mut j = 0;
    while j < extra.len() {
        out[i + j] = extra[j];
        j += 1;
    }
    out
};

/// A value of a new worker's column.
enum Val<'a> {
    Text(Option<&'a str>),
    Owned(Option<String>),
    Int(Option<i64>),
}

/// The values of [`IMPORT_WORKER_COLUMNS`] for a row.
fn worker_values<'a>(ctx: &'a Ctx<'_>, p: &'a Prepared) -> Vec<Val<'a>> {
    let mut v: Vec<Val<'a>> = Vec::with_capacity(IMPORT_WORKER_COLUMNS.len());
    v.extend(draft_args(&p.draft).into_iter().map(|a| match a {
        Arg::Text(t) => Val::Owned(t),
        Arg::Int(i) => Val::Int(i),
    }));
    v.extend([
        Val::Int(Some(p.row as i64)),
        Val::Text(Some(ctx.now.as_str())),
        Val::Text(Some(ctx.now.as_str())),
        Val::Int(Some(ctx.import_id)),
        Val::Int(Some(0)),
        // The worker's latest status change is the one `flush` writes with
        // them: kept on their row from the start, the history's trigger finds
        // nothing to move (an update of every new worker otherwise).
        Val::Text(Some(p.draft.status.code())),
        Val::Owned(Some(p.draft.end_date.or(p.draft.start_date).unwrap_or(ctx.today).to_string())),
    ]);
    v
}
/// Keys per `key IN (...)` lookup.
const LOOKUP_CHUNK: usize = 4096;

/// A valid row, ready to be compared and written.
struct Prepared {
    row: u64,
    cells: Vec<String>,
    draft: WorkerDraft,
    /// The row's non-empty values (what a merge applies).
    patch: WorkerInput,
    person: PersonKey,
    /// Keys the row is stored under.
    keys: Vec<String>,
    /// Keys to look up for its candidates.
    lookup: Vec<String>,
}

enum Prep {
    Empty,
    Rejected(RejectedRow),
    Valid(Box<Prepared>),
}

/// A worker of the registry sharing a key (or the national ID) with a row of the batch.
struct Cand {
    id: i64,
    person: PersonKey,
    import_id: Option<i64>,
    import_row: Option<i64>,
    /// Within the caller's scope.
    visible: bool,
}

#[derive(Default)]
struct Candidates {
    list: Vec<Cand>,
    by_id: HashMap<i64, usize>,
    by_key: HashMap<String, Vec<usize>>,
    by_nid: HashMap<String, usize>,
}

/// A row of the current batch written (or to be written) as a new worker.
struct Added {
    row: u64,
    person: PersonKey,
}

#[derive(Default)]
struct BatchAdded {
    list: Vec<Added>,
    by_key: HashMap<String, Vec<usize>>,
    by_nid: HashMap<String, usize>,
}

impl BatchAdded {
    fn index(&mut self, i: usize, keys: &[String]) {
        for k in keys {
            self.by_key.entry(k.clone()).or_default().push(i);
        }
        if let Some(n) = &self.list[i].person.national_id {
            self.by_nid.insert(n.clone(), i);
        }
    }
}

#[derive(Clone, Copy)]
enum Target {
    Cand(usize),
    Added(usize),
}

struct Found {
    target: Target,
    m: DupMatch,
    /// The row's national ID is another record's.
    nid_clash: bool,
}

/// Everything an import needs besides the transaction.
struct Ctx<'a> {
    p: &'a Principal,
    headers: &'a [String],
    mapping: &'a ColumnMapping,
    opts: &'a WorkerImportOptions,
    today: NaiveDate,
    engine: Engine,
    import_id: i64,
    now: String,
    units: HashMap<String, AdminUnit>,
    orgs: OrgIndex,
    /// The employer every row gets when it names none (an organization's HR manager).
    own_org: Option<i64>,
    separated: Vec<&'static str>,
}

/// What an import changes as it goes.
struct State {
    report: ImportReport,
    /// The rejected rows, within the report's limits.
    rejected: RejectedRows,
    /// Text of the multi-row `INSERT` by number of rows.
    insert_sql: HashMap<usize, String>,
    /// Every stored key, once the import is big enough ([`BLOOM_AFTER_ROWS`]).
    bloom: Option<Bloom>,
    /// Valid rows looked up so far.
    rows_seen: u64,
    /// PostgreSQL: the staging connection new workers are copied through.
    stage: Option<Stage>,
    /// Rows sent through `COPY` ([`Store::import_rows_copied`]).
    copied_rows: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Time spent in each phase of the database work (logged at the end).
    timings: Timings,
    /// SQLite: the tallies' insert triggers taken over for the import ([`tallies`]).
    held: Option<held::Held>,
    /// SQLite: the valid rows after which the import takes its indexes off ([`indexes`]).
    defer_indexes_after: Option<u64>,
    /// SQLite: the indexes taken off, built again before the import commits.
    indexes: Option<held::Held>,
    /// The search index's triggers, taken off with the indexes ([`search_index`]).
    search_index: Option<search_index::Deferred>,
}

/// Where an import's database time goes (the reading and checking of rows
/// overlaps with it), logged at the end of each import (`RUST_LOG=info`).
#[derive(Default, Debug)]
struct Timings {
    lookup: std::time::Duration,
    copy: std::time::Duration,
    workers: std::time::Duration,
    keys: std::time::Duration,
    history: std::time::Duration,
    merge: std::time::Duration,
    indexes: std::time::Duration,
    search_index: std::time::Duration,
}

/// The rows read for one batch.
#[derive(Default)]
struct ReadBatch {
    valid: Vec<Prepared>,
    rejected: RejectedRows,
    /// Non-empty rows read.
    rows: u64,
    eof: bool,
}

/// The national ID is someone else's.
fn nid_error(ctx: &Ctx<'_>, p: &Prepared) -> RowError {
    row_error(
        p.row,
        ctx.headers,
        &p.cells,
        ctx.mapping.column_of(ImportField::NationalId),
        "national_id",
        "duplicate_national_id",
    )
}

/// A match on the national ID, whatever else `compare` says.
fn nid_match(m: Option<DupMatch>) -> DupMatch {
    let mut m = m.unwrap_or(DupMatch { score: 100, reasons: Vec::new() });
    m.score = 100;
    if !m.reasons.contains(&DupReason::SameNationalId) {
        m.reasons.insert(0, DupReason::SameNationalId);
    }
    m
}

impl Ctx<'_> {
    /// The best match of a row among the registry's candidates and the rows
    /// of the batch added before it. `Err` when its national ID belongs to a
    /// worker outside the caller's scope.
    fn best_match(
        &self,
        p: &Prepared,
        cands: &Candidates,
        added: &BatchAdded,
    ) -> std::result::Result<Option<Found>, ()> {
        let mut best: Option<(Target, DupMatch)> = None;
        let mut consider = |t: Target, m: DupMatch| {
            if best.as_ref().is_none_or(|(_, b)| m.score > b.score) {
                best = Some((t, m));
            }
        };
        let mut nid_clash = false;
        let mut seen_c: Vec<usize> = Vec::new();
        let mut seen_a: Vec<usize> = Vec::new();
        if let Some(nid) = &p.person.national_id {
            if let Some(&ci) = cands.by_nid.get(nid) {
                let c = &cands.list[ci];
                if !c.visible {
                    return Err(());
                }
                nid_clash = true;
                seen_c.push(ci);
                consider(Target::Cand(ci), nid_match(compare(&p.person, &c.person)));
            }
            if let Some(&ai) = added.by_nid.get(nid) {
                nid_clash = true;
                seen_a.push(ai);
                consider(Target::Added(ai), nid_match(compare(&p.person, &added.list[ai].person)));
            }
        }
        for k in &p.lookup {
            for &ci in cands.by_key.get(k).map(Vec::as_slice).unwrap_or(&[]) {
                if seen_c.contains(&ci) || !cands.list[ci].visible {
                    continue;
                }
                seen_c.push(ci);
                if let Some(m) = compare(&p.person, &cands.list[ci].person) {
                    consider(Target::Cand(ci), m);
                }
            }
            for &ai in added.by_key.get(k).map(Vec::as_slice).unwrap_or(&[]) {
                if seen_a.contains(&ai) {
                    continue;
                }
                seen_a.push(ai);
                if let Some(m) = compare(&p.person, &added.list[ai].person) {
                    consider(Target::Added(ai), m);
                }
            }
        }
        Ok(best.map(|(target, m)| Found { target, m, nid_clash }))
    }

    fn dup_target(&self, t: Target, cands: &Candidates, added: &BatchAdded) -> DupTarget {
        match t {
            Target::Cand(ci) => {
                let c = &cands.list[ci];
                match (c.import_id, c.import_row) {
                    (Some(i), Some(r)) if i == self.import_id => DupTarget::Row(r as u64),
                    _ => DupTarget::Existing {
                        worker_id: c.id,
                        name_km: c.person.name_km.clone(),
                        name_latin: c.person.name_latin.clone(),
                    },
                }
            }
            Target::Added(ai) => DupTarget::Row(added.list[ai].row),
        }
    }
}

impl State {
    fn reject(&mut self, p: Prepared, errors: Vec<RowError>) {
        self.rejected.push(RejectedRow { row: p.row, cells: p.cells, errors });
    }

    fn insert_sql(&mut self, engine: Engine, n: usize) -> &str {
        self.insert_sql.entry(n).or_insert_with(|| {
            let mut ph = Placeholders::for_engine(engine);
            let mut s = String::with_capacity(400 + n * 120);
            s.push_str(bulk_insert(engine));
            s.push_str(" workers (");
            s.push_str(&IMPORT_WORKER_COLUMNS.join(", "));
            s.push_str(") VALUES ");
            for i in 0..n {
                if i > 0 {
                    s.push_str(", ");
                }
                s.push('(');
                for c in 0..IMPORT_WORKER_COLUMNS.len() {
                    if c > 0 {
                        s.push_str(", ");
                    }
                    ph.push_next(&mut s);
                }
                s.push(')');
            }
            s.push_str(" RETURNING id, import_row");
            s
        })
    }
}

impl Store {
    /// Imports workers from the rows of a file.
    ///
    /// `headers` are the file's column headers and `rows` its data rows as
    /// `(row number, cells)` (the row number as a spreadsheet program shows
    /// it, the header being row 1); an `Err` item (a file that cannot be
    /// read further) stops the import with an `invalid_file` error and
    /// nothing is written. `mapping` says which field each column feeds.
    ///
    /// Each row is converted and validated (`komlang_core::import::convert_row`);
    /// empty rows are skipped. The employer is found by registration number,
    /// else by name, else by id among the organizations the caller may name
    /// (`unknown_organization`); the workplace must exist
    /// (`unknown_admin_unit`) and be in the caller's scope (`out_of_scope`).
    /// The rules are those of [`Store::create_worker`]: an organization's HR
    /// manager imports into their organization only, viewers and workers may
    /// not import (`Forbidden`).
    ///
    /// Each valid row is compared with the registry (within the caller's
    /// scope) and with the earlier rows of the file; the best match, if any,
    /// is a duplicate, handled as `opts.decisions[row]` or else
    /// `opts.default_decision` says ([`DupDecision`]). A row whose national ID
    /// is already recorded is always a duplicate (score 100); when that
    /// worker is outside the caller's scope the row is rejected
    /// (`duplicate_national_id`).
    ///
    /// All or nothing unless `opts.partial`: one rejected row and nothing is
    /// written. A dry run does everything in a transaction that is rolled
    /// back. A committed import writes an `imports` row and an audit entry;
    /// the workers it creates carry its id and their row number.
    pub async fn import_workers<I>(
        &self,
        p: &Principal,
        headers: &[String],
        rows: I,
        mapping: &ColumnMapping,
        opts: &WorkerImportOptions,
        today: NaiveDate,
    ) -> Result<ImportReport>
    where
        I: Iterator<Item = std::result::Result<(u64, Vec<String>), String>>,
    {
        p.require(Action::ImportWorkers, komlang_core::Target::Any)?;
        let ws = p.worker_scope();
        let own_org = match &ws {
            WorkerScope::Area { org_id, .. } => *org_id,
            _ => return Err(StoreError::Forbidden),
        };
        check_worker_mapping(headers, mapping)?;

        let head = ImportHead {
            kind: "workers",
            file_name: &opts.file_name,
            file_sha256: &opts.file_sha256,
            partial: opts.partial,
        };
        // One connection for the whole import. On SQLite it is tuned for a
        // big transaction (`sqlite_bulk_settings`) and closed afterwards, not
        // returned to the pool, so that no other request ever runs on it with
        // those settings, even when the import is abandoned halfway (a web
        // client that goes away drops this future).
        let mut conn = self.pool.acquire().await?;
        if self.engine == Engine::Sqlite {
            conn.close_on_drop();
            sqlite_bulk_settings(&mut conn).await?;
        }
        // PostgreSQL: new workers go through `COPY` on a staging connection of
        // their own (`copy.rs`), whose tables are dropped once the import's
        // transaction has ended, whichever way it ended.
        let stage = match &self.pg_options {
            Some(o) => Some(Stage::open(o, &IMPORT_WORKER_COLUMNS).await?),
            None => None,
        };
        let stage_name = stage.as_ref().map(|s| s.name.clone());
        let result = async {
            // SQLite: the write lock first (see `Store::begin_write`).
            let mut tx = match self.engine {
                Engine::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
                Engine::Postgres => conn.begin().await?,
            };
            if self.engine == Engine::Postgres {
                postgres_bulk_settings(&mut tx).await?;
            }
            let import_id = begin_import_row(&mut tx, p, &head).await?;
            let (held, defer_indexes_after) = match self.engine {
                Engine::Sqlite => (
                    Some(tallies::take_over(&mut tx).await?),
                    Some(indexes::defer_after(&mut tx, self.defer_indexes_after).await?),
                ),
                Engine::Postgres => (None, None),
            };
            // Read after the first write: on SQLite no other writer can change
            // them until the import ends.
            let units = load_units(&mut tx).await?;
            let orgs = load_org_index(&mut tx, p).await?;
            let ctx = Ctx {
                p,
                headers,
                mapping,
                opts,
                today,
                engine: self.engine,
                import_id,
                now: now_text(),
                units,
                orgs,
                own_org,
                separated: EmploymentStatus::ALL.iter().filter(|s| s.is_separated()).map(|s| s.code()).collect(),
            };
            let mut st = State {
                report: ImportReport { dry_run: opts.dry_run, headers: headers.to_vec(), ..Default::default() },
                rejected: RejectedRows::new(opts.report),
                insert_sql: HashMap::new(),
                bloom: None,
                rows_seen: 0,
                stage,
                copied_rows: self.copied_rows.clone(),
                timings: Timings::default(),
                held,
                defer_indexes_after,
                indexes: None,
                search_index: None,
            };
            let mut rows = rows;
            let mut read = read_batch(&ctx, &mut rows).await?;
            loop {
                st.report.rows_total += read.rows;
                st.rejected.merge(std::mem::take(&mut read.rejected));
                let batch = std::mem::take(&mut read.valid);
                if read.eof {
                    process_batch(&ctx, &mut st, &mut tx, &ws, batch).await?;
                    break;
                }
                // The next rows are read and checked while this batch is
                // compared and written (by the database, in another thread or process).
                let (done, next) =
                    tokio::join!(process_batch(&ctx, &mut st, &mut tx, &ws, batch), read_batch(&ctx, &mut rows));
                done?;
                read = next?;
            }

            let path = if st.stage.take().is_some() { "COPY" } else { "INSERT" };
            let mut report = st.report;
            st.rejected.finish(&mut report);
            report.duplicates.sort_by_key(|d| d.row);
            let commit = !opts.dry_run && (opts.partial || report.all_valid());
            if let Some(held) = st.indexes.take().filter(|_| commit) {
                let started = std::time::Instant::now();
                indexes::build_again(&mut tx, held).await?;
                st.timings.indexes += started.elapsed();
                self.deferred_imports.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            // After the indexes: their sorts' settings (temporary files, a smaller cache) serve
            // the sort of the entries in rank order too.
            if let Some(deferred) = st.search_index.take().filter(|_| commit) {
                let started = std::time::Instant::now();
                search_index::write_entries(&mut tx, deferred).await?;
                st.timings.search_index += started.elapsed();
            }
            tracing::info!("import {import_id}: {} rows, database time {:?} ({})", report.rows_total, st.timings, path);
            if commit {
                if let Some(held) = st.held.take() {
                    held::put_back(&mut tx, held).await?;
                }
                finish_import_row(&mut tx, p, import_id, &head, &report).await?;
                tx.commit().await?;
                report.import_id = Some(import_id);
                report.committed = true;
            } else {
                tx.rollback().await?;
            }
            Ok::<_, StoreError>(report)
        }
        .await;
        if let Some(name) = stage_name {
            // After the transaction (committed or rolled back by now: a
            // failed one's rollback runs before this statement).
            let drop_stage = format!("DROP TABLE IF EXISTS {}", stage_tables(&name));
            if let Err(e) = sqlx::query(&drop_stage).execute(&mut *conn).await {
                tracing::warn!("import staging tables {name} left (the next import drops them): {e}");
            }
        }
        drop(conn);
        let report = result?;
        if report.committed {
            // The tallies the triggers wrote batch by batch, merged (PostgreSQL). The import
            // is in whatever happens here: a failure only leaves more rows to sum until the
            // server's next merge.
            if let Err(e) = self.compact_worker_tallies().await {
                tracing::warn!("could not merge the worker tallies after the import: {e}");
            }
            if let Err(e) = self.settle_search_index().await {
                tracing::warn!("could not settle the search index after the import: {e}");
            }
        }
        Ok(report)
    }
}

impl Store {
    /// After an import on PostgreSQL: the trigram index's new entries, which wait in its
    /// pending list (read whole by every search, and counted so by the planner, which then
    /// reads a B-tree whole instead), moved into the index, and the workers' statistics
    /// taken again (the planner's guesses for the search and the lists). What autovacuum
    /// would do later; a few seconds at a million workers. Nothing on SQLite.
    async fn settle_search_index(&self) -> Result<()> {
        if self.engine != crate::Engine::Postgres {
            return Ok(());
        }
        sqlx::query("SELECT gin_clean_pending_list('workers_search_trgm'::regclass)").execute(&self.pool).await?;
        sqlx::query("ANALYZE workers").execute(&self.pool).await?;
        Ok(())
    }
}

/// Reads and checks the next batch of rows (up to [`READ_BATCH`] valid
/// ones), giving way to the database work now and then.
async fn read_batch<I>(ctx: &Ctx<'_>, rows: &mut I) -> Result<ReadBatch>
where
    I: Iterator<Item = std::result::Result<(u64, Vec<String>), String>>,
{
    let mut b = ReadBatch {
        valid: Vec::with_capacity(READ_BATCH),
        rejected: RejectedRows::new(ctx.opts.report),
        ..Default::default()
    };
    let mut n = 0usize;
    while b.valid.len() < READ_BATCH {
        n += 1;
        if n.is_multiple_of(YIELD_EVERY) {
            tokio::task::yield_now().await;
        }
        let Some(item) = rows.next() else {
            b.eof = true;
            break;
        };
        let (row, cells) = item.map_err(file_error)?;
        match ctx.prepare(row, cells) {
            Prep::Empty => {}
            Prep::Rejected(r) => {
                b.rows += 1;
                b.rejected.push(r);
            }
            Prep::Valid(v) => {
                b.rows += 1;
                b.valid.push(*v);
            }
        }
    }
    Ok(b)
}

/// Rows read between two chances for the database work to go on.
const YIELD_EVERY: usize = 10;

/// SQLite cache for the connection of an import (KiB): the indexes a big
/// import inserts into at random places (national ID, names, duplicate
/// keys) stay in memory longer. Within the 200 MB an import may take.
pub const SQLITE_IMPORT_CACHE_KIB: i64 = 64 * 1024;

/// Tunes the import's SQLite connection for one big transaction:
/// - a bigger page cache ([`SQLITE_IMPORT_CACHE_KIB`]);
/// - statement journals in memory rather than in a temporary file;
/// - foreign keys not enforced by SQLite while the import runs: every
///   reference an import writes is one it checked itself (the workplace
///   among the admin units, the employer among the organizations, both read
///   inside the import's write transaction, which no other writer can
///   interleave with on SQLite), and without them, together with `INSERT OR
///   FAIL` ([`crate::common::sql::bulk_insert`]), SQLite needs no statement journal
///   for the multi-row inserts. That is a third of the time of an import.
///   PostgreSQL enforces them as always.
///
/// The connection is closed after the import (see `import_workers`).
async fn sqlite_bulk_settings(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query(&format!("PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")).execute(&mut *conn).await?;
    // Its own cache only, so that its memory stays bounded whatever the size of the file.
    sqlx::query("PRAGMA mmap_size = 0").execute(&mut *conn).await?;
    sqlx::query("PRAGMA temp_store = MEMORY").execute(&mut *conn).await?;
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await?;
    Ok(())
}

/// Tunes the import's PostgreSQL transaction (`SET LOCAL`: it ends with it).
/// The tables an import writes grow faster than their statistics (which
/// `ANALYZE` cannot take of rows not yet committed), so the planner guesses
/// row counts: a lookup of a few keys then hash-joins by scanning every
/// worker, and big guesses call in parallel workers and the JIT compiler.
/// An import only ever wants index lookups, so it asks for nested loops.
async fn postgres_bulk_settings(conn: &mut AnyConnection) -> Result<()> {
    for setting in [
        "SET LOCAL enable_hashjoin = off",
        "SET LOCAL enable_mergejoin = off",
        "SET LOCAL max_parallel_workers_per_gather = 0",
        "SET LOCAL jit = off",
    ] {
        sqlx::query(setting).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Looks up the registry's candidates for a batch, compares, decides and writes.
async fn process_batch(
    ctx: &Ctx<'_>,
    st: &mut State,
    conn: &mut AnyConnection,
    ws: &WorkerScope,
    batch: Vec<Prepared>,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    st.rows_seen += batch.len() as u64;
    if st.indexes.is_none() && st.defer_indexes_after.is_some_and(|n| st.rows_seen >= n) {
        let started = std::time::Instant::now();
        st.indexes = Some(indexes::take_off_indexes(conn).await?);
        st.search_index = Some(search_index::take_off_triggers(conn).await?);
        st.timings.indexes += started.elapsed();
    }
    if st.bloom.is_none() && st.rows_seen >= BLOOM_AFTER_ROWS {
        st.bloom = Some(Bloom::load(conn).await?);
    }
    let mut keys: Vec<&str> = batch.iter().flat_map(|p| p.lookup.iter().map(String::as_str)).collect();
    if let Some(bloom) = &st.bloom {
        keys.retain(|k| bloom.may_contain(k));
    }
    keys.sort_unstable();
    keys.dedup();
    let started = std::time::Instant::now();
    let mut cands = lookup_candidates(conn, ctx.engine, ws, &keys).await?;
    st.timings.lookup += started.elapsed();

    let mut added = BatchAdded::default();
    let mut pending: Vec<Prepared> = Vec::with_capacity(batch.len());
    for prep in batch {
        let Ok(found) = ctx.best_match(&prep, &cands, &added) else {
            let e = nid_error(ctx, &prep);
            st.reject(prep, vec![e]);
            continue;
        };
        let Some(found) = found else {
            add_row(st, &mut added, &mut pending, prep);
            continue;
        };
        let decision = ctx.opts.decisions.get(&prep.row).copied().unwrap_or(ctx.opts.default_decision);
        st.report.duplicates.push(DuplicateFound {
            row: prep.row,
            target: ctx.dup_target(found.target, &cands, &added),
            score: found.m.score,
            reasons: found.m.reasons.clone(),
            explanation: explain(&found.m),
            decision,
        });
        match decision {
            DupDecision::Skip => st.report.duplicates_skipped += 1,
            DupDecision::KeepBoth if found.nid_clash => {
                let e = nid_error(ctx, &prep);
                st.reject(prep, vec![e]);
            }
            DupDecision::KeepBoth => add_row(st, &mut added, &mut pending, prep),
            DupDecision::Merge => {
                // Write what is pending first: the target may be among it, and
                // the national ID check below must see it.
                flush(ctx, st, conn, &mut pending).await?;
                let worker_id = match found.target {
                    Target::Cand(ci) => cands.list[ci].id,
                    Target::Added(ai) => sqlx::query("SELECT id FROM workers WHERE import_id = $1 AND import_row = $2")
                        .bind(ctx.import_id)
                        .bind(added.list[ai].row as i64)
                        .fetch_one(&mut *conn)
                        .await?
                        .try_get(0)?,
                };
                let started = std::time::Instant::now();
                let merged = merge_row(ctx, conn, worker_id, &prep).await?;
                st.timings.merge += started.elapsed();
                match merged {
                    Ok(after) => {
                        st.report.merged += 1;
                        let person = dedup_person(&after);
                        let new_keys = stored_keys(&person);
                        if let Some(bloom) = &mut st.bloom {
                            for k in &new_keys {
                                bloom.insert(k);
                            }
                        }
                        match found.target {
                            Target::Cand(ci) => {
                                for k in new_keys {
                                    cands.by_key.entry(k).or_default().push(ci);
                                }
                                if let Some(n) = &person.national_id {
                                    cands.by_nid.insert(n.clone(), ci);
                                }
                                cands.list[ci].person = person;
                            }
                            Target::Added(ai) => {
                                added.list[ai].person = person;
                                added.index(ai, &new_keys);
                            }
                        }
                    }
                    Err(errors) => st.reject(prep, errors),
                }
            }
        }
    }
    flush(ctx, st, conn, &mut pending).await
}

fn add_row(st: &mut State, added: &mut BatchAdded, pending: &mut Vec<Prepared>, prep: Prepared) {
    st.report.added += 1;
    let i = added.list.len();
    added.list.push(Added { row: prep.row, person: prep.person.clone() });
    added.index(i, &prep.keys);
    pending.push(prep);
}

/// The registry's workers sharing a lookup key with the batch (every worker
/// with the same national ID among them: its `nid:` key), each marked
/// visible or not to the caller.
async fn lookup_candidates(
    conn: &mut AnyConnection,
    engine: Engine,
    ws: &WorkerScope,
    keys: &[&str],
) -> Result<Candidates> {
    let mut c = Candidates::default();
    // The admin units are joined only when the scope is an area.
    let geographic = matches!(ws, WorkerScope::Area { scope: Scope::Unit { .. }, .. });
    for chunk in keys.chunks(LOOKUP_CHUNK) {
        let mut sql = Sql::for_engine(
            "SELECT k.key, w.id, w.national_id, w.name_km, w.name_latin, w.date_of_birth, w.import_id, \
             w.import_row, CASE WHEN 1 = 1",
            engine,
        );
        push_worker_scope(&mut sql, ws);
        sql.push(" THEN 1 ELSE 0 END AS visible FROM worker_dedup_keys k JOIN workers w ON w.id = k.worker_id");
        if geographic {
            sql.push(" JOIN admin_units u ON u.code = w.workplace_code");
        }
        sql.push(" WHERE k.key IN (");
        // A few list lengths only (the last value repeated), so that the
        // prepared statements are reused from batch to batch.
        let len = chunk.len().next_power_of_two().clamp(64, LOOKUP_CHUNK);
        for i in 0..len {
            if i > 0 {
                sql.push(", ");
            }
            sql.text(chunk[i.min(chunk.len() - 1)]);
        }
        sql.push(")");
        for r in sql.query().fetch_all(&mut *conn).await? {
            let id: i64 = r.try_get("id")?;
            let i = match c.by_id.get(&id) {
                Some(&i) => i,
                None => {
                    let visible: i64 = r.try_get("visible")?;
                    c.list.push(Cand {
                        id,
                        person: PersonKey {
                            national_id: r.try_get("national_id")?,
                            name_km: r.try_get("name_km")?,
                            name_latin: r.try_get("name_latin")?,
                            date_of_birth: opt_date(&r, "date_of_birth")?,
                        },
                        import_id: r.try_get("import_id")?,
                        import_row: r.try_get("import_row")?,
                        visible: visible != 0,
                    });
                    let i = c.list.len() - 1;
                    c.by_id.insert(id, i);
                    if let Some(n) = &c.list[i].person.national_id {
                        c.by_nid.insert(n.clone(), i);
                    }
                    i
                }
            };
            let v = c.by_key.entry(r.try_get("key")?).or_default();
            if !v.contains(&i) {
                v.push(i);
            }
        }
    }
    Ok(c)
}

/// Writes the pending rows as new workers, with their keys, opening
/// postings and statuses.
async fn flush(ctx: &Ctx<'_>, st: &mut State, conn: &mut AnyConnection, pending: &mut Vec<Prepared>) -> Result<()> {
    if pending.is_empty() {
        return Ok(());
    }
    // Rows of this flush: row numbers increase through the file.
    let (first, last) = (pending[0].row as i64, pending[pending.len() - 1].row as i64);
    if st.stage.is_some() {
        copy_new_workers(ctx, st, conn, pending, first, last).await?;
    } else {
        insert_new_workers(ctx, st, conn, pending).await?;
    }
    if let Some(held) = &st.held {
        let started = std::time::Instant::now();
        tallies::tally(conn, held, ctx.import_id, first, last).await?;
        st.timings.workers += started.elapsed();
    }
    if let Some(bloom) = &mut st.bloom {
        for k in pending.iter().flat_map(|p| p.keys.iter()) {
            bloom.insert(k);
        }
    }
    let started = std::time::Instant::now();
    // Opening postings and statuses, as `create_worker` writes them, for the
    // rows just written, without a round trip per row (through the
    // `workers_import` index: the rows of this import in this range of rows).
    let statuses = ctx.separated.iter().enumerate().map(|(i, _)| format!("${}", i + 5)).collect::<Vec<_>>().join(", ");
    let today = ctx.today.to_string();
    let postings = format!(
        "INSERT INTO postings (worker_id, org_id, role, position_title, workplace_code, start_date, end_date) \
         SELECT id, org_id, role, position_title, workplace_code, COALESCE(start_date, $1), \
         CASE WHEN status IN ({statuses}) THEN end_date ELSE NULL END \
         FROM workers WHERE import_id = $2 AND import_row >= $3 AND import_row <= $4 ORDER BY import_row"
    );
    let mut q = sqlx::query(&postings).bind(&today).bind(ctx.import_id).bind(first).bind(last);
    for s in &ctx.separated {
        q = q.bind(*s);
    }
    q.execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO status_changes (worker_id, status, effective_date, note, recorded_at, recorded_by) \
         SELECT id, status, COALESCE(end_date, start_date, $1), NULL, $2, $3 \
         FROM workers WHERE import_id = $4 AND import_row >= $5 AND import_row <= $6 ORDER BY import_row",
    )
    .bind(&today)
    .bind(&ctx.now)
    .bind(&ctx.p.username)
    .bind(ctx.import_id)
    .bind(first)
    .bind(last)
    .execute(&mut *conn)
    .await?;
    st.timings.history += started.elapsed();
    pending.clear();
    Ok(())
}

/// The new workers and their keys written with multi-row `INSERT`s (bound
/// parameters), their ids read back to write their keys.
async fn insert_new_workers(
    ctx: &Ctx<'_>,
    st: &mut State,
    conn: &mut AnyConnection,
    pending: &[Prepared],
) -> Result<()> {
    let started = std::time::Instant::now();
    let mut pairs: Vec<(i64, String)> = Vec::with_capacity(pending.len() * 4);
    for chunk in pending.chunks(INSERT_CHUNK) {
        let sql = st.insert_sql(ctx.engine, chunk.len());
        let mut q = sqlx::query(sql);
        for p in chunk {
            for v in worker_values(ctx, p) {
                q = match v {
                    Val::Text(v) => q.bind(v),
                    Val::Owned(v) => q.bind(v),
                    Val::Int(v) => q.bind(v),
                };
            }
        }
        let rows = q.fetch_all(&mut *conn).await?;
        let mut ids: HashMap<i64, i64> = HashMap::with_capacity(rows.len());
        for r in &rows {
            let (id, row): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            ids.insert(row, id);
        }
        for p in chunk {
            let id =
                *ids.get(&(p.row as i64)).ok_or_else(|| StoreError::Corrupt("inserted row not returned".into()))?;
            pairs.extend(p.keys.iter().map(|k| (id, k.clone())));
        }
    }
    let inserted = std::time::Instant::now();
    st.timings.workers += inserted - started;
    insert_dedup_keys(conn, &pairs, false).await?;
    st.timings.keys += inserted.elapsed();
    Ok(())
}

/// Merges a row into a worker: the row's values over the record's, written
/// as an update (history kept). `Ok(Err)` when the result is not valid.
async fn merge_row(
    ctx: &Ctx<'_>,
    conn: &mut AnyConnection,
    worker_id: i64,
    prep: &Prepared,
) -> Result<std::result::Result<WorkerDraft, Vec<RowError>>> {
    // Read, and when the row changes the record, lock it (raising its version) and merge again
    // if someone else changed it between the read and the lock.
    let mut locked = false;
    loop {
        let row = sqlx::query(&format!("SELECT {WORKER_COLS} FROM workers w WHERE w.id = $1"))
            .bind(worker_id)
            .fetch_one(&mut *conn)
            .await?;
        let stored = worker_from_row(&row)?;
        let before = stored.draft();
        let merged = WorkerInput::from_draft(&before).overlay(prep.patch.clone());
        let draft = match validate_worker(&merged, ctx.today) {
            Ok(d) => d,
            Err(v) => {
                return Ok(Err(v
                    .errors
                    .iter()
                    .map(|e| {
                        let col = ImportField::parse(&e.field).and_then(|f| ctx.col(f));
                        row_error(prep.row, ctx.headers, &prep.cells, col, &e.field, &e.code)
                    })
                    .collect()))
            }
        };
        if draft == before {
            return Ok(Ok(draft));
        }
        if !locked {
            locked = true;
            let at = lock_version(conn, "workers", worker_id).await?;
            if at != Some(stored.version) {
                continue;
            }
        }
        if let Some(nid) = draft.national_id.as_deref().filter(|n| before.national_id.as_deref() != Some(*n)) {
            let taken = sqlx::query("SELECT id FROM workers WHERE national_id = $1 AND id <> $2")
                .bind(nid)
                .bind(worker_id)
                .fetch_optional(&mut *conn)
                .await?;
            if taken.is_some() {
                return Ok(Err(vec![nid_error(ctx, prep)]));
            }
        }
        let note = format!("import {}", ctx.import_id);
        // `write_worker_update` works on a transaction; the import's is this connection.
        write_worker_update(conn, ctx.p, worker_id, &before, &draft, ctx.today, Some(&note)).await?;
        return Ok(Ok(draft));
    }
}
