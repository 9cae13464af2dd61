//! The [`Store`] handle: connecting, migrating, the engines and the errors every call returns.

use std::str::FromStr;

use komlang_core::{FieldError, ValidationErrors};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Connection};

/// The database engines Komlang runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn of_url(url: &str) -> Result<Engine, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else {
            Err(StoreError::BadUrl(url.to_string()))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://FILE or postgres://...")]
    BadUrl(String),
    #[error("invalid input: {0}")]
    Invalid(ValidationErrors),
    #[error("not found")]
    NotFound,
    /// Refused: the account's role does not hold the action ([`komlang_core::access::RULES`]).
    #[error("not allowed for this account")]
    Forbidden,
    #[error("{0}")]
    Conflict(String),
    /// The record was changed by someone else since the writer read it: it is now at version
    /// `current`, and the write changed nothing.
    #[error("the record was changed by someone else meanwhile (it is now at version {current})")]
    Stale { current: i64 },
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// Counted in [`database_errors`] when made from a [`sqlx::Error`] (`?` or [`StoreError::from`]).
    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Database errors (of every store in this process) since it started.
static DATABASE_ERRORS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many database errors this process has met since it started: failed queries,
/// connections and commits (a full disk, a read-only database, no connection free in
/// time…), but not the unique violations the store answers as conflicts or invalid input.
/// For the server's metrics.
pub fn database_errors() -> u64 {
    DATABASE_ERRORS.load(std::sync::atomic::Ordering::Relaxed)
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        DATABASE_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        StoreError::Db(e)
    }
}

impl From<komlang_core::Denied> for StoreError {
    fn from(d: komlang_core::Denied) -> Self {
        tracing::debug!("refused: {d}");
        StoreError::Forbidden
    }
}

impl From<ValidationErrors> for StoreError {
    fn from(e: ValidationErrors) -> Self {
        StoreError::Invalid(e)
    }
}

/// [`StoreError::Invalid`] with one field error.
pub(crate) fn invalid(field: &str, code: &str) -> StoreError {
    StoreError::Invalid(ValidationErrors::single(FieldError::new(field, code)))
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A page of results and the count of every match.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Every match, or (when `total_is_lower_bound`) a bound: there are more than `total`.
    pub total: i64,
    /// Set when the list stopped counting at `total` (the worker list counts up to
    /// [`crate::COUNT_LIMIT`]).
    pub total_is_lower_bound: bool,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    /// Pages of `total` rows (when `total` is a bound, the pages known to exist).
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }

    /// True when a page follows this one.
    pub fn has_next(&self) -> bool {
        self.page < self.pages() || (self.total_is_lower_bound && self.items.len() as i64 == self.per_page)
    }
}

/// What [`Store::ensure_reference_data`] loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReferenceData {
    /// Administrative units loaded (0 when there were some already).
    pub units_loaded: usize,
    /// True when the competency framework was loaded.
    pub framework_loaded: bool,
}

/// Handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) engine: Engine,
    /// SQLite: the file beside the database that app servers lock while one of them
    /// migrates or loads reference data (`FILE.lock`); none for an in-memory database.
    lock_file: Option<std::path::PathBuf>,
    /// PostgreSQL: how to open a native connection (not through `Any`) for the
    /// `COPY ... FROM STDIN` of a worker import (`imports/worker_import/copy.rs`).
    pub(crate) pg_options: Option<sqlx::postgres::PgConnectOptions>,
    /// Worker rows this store's imports have sent through `COPY` (see
    /// [`Store::import_rows_copied`]).
    pub(crate) copied_rows: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// How many keys the last tier of a big search reads in order before it sorts its
    /// matches instead (see [`Store::with_search_windows`]).
    pub(crate) search_windows: [i64; 2],
    /// SQLite: the fewest valid rows after which an import takes its indexes off (see
    /// [`Store::with_index_deferral_after`]).
    pub(crate) defer_indexes_after: u64,
    /// Imports of this store that took their indexes off ([`Store::imports_with_deferred_indexes`]).
    pub(crate) deferred_imports: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Held while migrating or loading reference data (see [`Store::ensure_reference_data`]).
enum BootstrapLock {
    Postgres(sqlx::Transaction<'static, sqlx::Any>),
    File(std::fs::File),
    None,
}

impl BootstrapLock {
    async fn release(self) -> Result<()> {
        match self {
            BootstrapLock::Postgres(tx) => tx.commit().await?,
            BootstrapLock::File(f) => f.unlock()?,
            BootstrapLock::None => {}
        }
        Ok(())
    }
}

/// The database file of an `sqlite:` URL, when it names one.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| std::path::PathBuf::from(path))
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The migrations of an engine, embedded in the binary.
pub(crate) fn migrations(engine: Engine) -> &'static sqlx::migrate::Migrator {
    match engine {
        Engine::Sqlite => &SQLITE_MIGRATIONS,
        Engine::Postgres => &POSTGRES_MIGRATIONS,
    }
}

/// Current time as stored (RFC 3339, UTC, seconds).
pub fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Store {
    /// Connects to `url` (`sqlite://FILE` creates the file when missing).
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let engine = Engine::of_url(url)?;
        let url = match engine {
            Engine::Sqlite if !url.contains("mode=") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let opts = AnyConnectOptions::from_str(&url)?;
        let max = match engine {
            Engine::Sqlite => 4,
            Engine::Postgres => 10,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            // A connection whose transaction did not end cleanly (a COMMIT that failed on a
            // full disk, then a ROLLBACK that found the transaction already gone) must never
            // serve another request: its next "transaction" would be a savepoint inside the
            // dead one, acknowledged but never stored. The ping runs the rollback that
            // dropping the transaction queued; a connection still inside a transaction after
            // it is closed, and the pool opens a fresh one. A connection outside any
            // transaction (every statement run on the pool) needs no ping of its own: the
            // pool pings every released connection anyway, and a round trip saved per
            // statement is throughput on two cores.
            .after_release(|conn, _| {
                Box::pin(async move {
                    if !conn.is_in_transaction() {
                        return Ok(true);
                    }
                    if conn.ping().await.is_err() {
                        return Ok(false);
                    }
                    let clean = !conn.is_in_transaction();
                    if !clean {
                        tracing::warn!("closing a database connection left inside a failed transaction");
                    }
                    Ok(clean)
                })
            })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA busy_timeout = 10000").execute(&mut *conn).await?;
                        // 16 MiB of pages per connection (SQLite's default is 2 MiB): a
                        // national registry's indexes and tallies stay in the connection's
                        // cache instead of being read again from the file on every request
                        // (coverage at a million workers: 105 -> 46 ms).
                        sqlx::query("PRAGMA cache_size = -16384").execute(&mut *conn).await?;
                        // Reads through a map of the file (up to 2 GiB, SQLite's cap) rather
                        // than a system call a page: the connections share the system's page
                        // cache instead of each copying pages into its own (searches at a
                        // million workers, 64 clients: 298 -> 409 requests a second). The
                        // process's resident memory counts the mapped pages it has read
                        // (shared with the page cache, reclaimed by the system: see
                        // docs/operations.md). An import turns it off for its connection.
                        sqlx::query("PRAGMA mmap_size = 2147483648").execute(&mut *conn).await?;
                    } else {
                        // Statements are prepared once per connection and run many times;
                        // after five runs PostgreSQL may switch to a generic plan, blind to
                        // the values, which for a name search (`LIKE $1` over the trigram
                        // index) reads far more than the value's own plan. Every statement
                        // is planned for its values.
                        sqlx::query("SET plan_cache_mode = force_custom_plan").execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await?;
        if engine == Engine::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
        }
        let lock_file = sqlite_file(&url).map(|p| {
            let mut name = p.into_os_string();
            name.push(".lock");
            std::path::PathBuf::from(name)
        });
        let pg_options = match engine {
            Engine::Postgres => Some(sqlx::postgres::PgConnectOptions::from_str(&url)?),
            Engine::Sqlite => None,
        };
        Ok(Store {
            pool,
            engine,
            lock_file,
            pg_options,
            copied_rows: Default::default(),
            search_windows: crate::workers::SEARCH_WINDOWS,
            defer_indexes_after: crate::imports::DEFER_INDEXES_AFTER,
            deferred_imports: Default::default(),
        })
    }

    /// Begins a transaction that writes. On SQLite it takes the database's write lock at
    /// once (`BEGIN IMMEDIATE`), waiting for it as long as the busy timeout allows: a
    /// transaction that read first and wrote then (the full-text index reads its settings
    /// on a connection's first use of it) cannot wait for a writer that holds the lock, and
    /// would fail at once with "database is locked". On PostgreSQL a plain `BEGIN`.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        })
    }

    /// The same store, whose big searches look for the page of their last tier among the
    /// first `windows[0]`, then `windows[1]` keys in name order before sorting the tier's
    /// matches (default [`crate::workers::SEARCH_WINDOWS`]). The pages are the same
    /// whatever the windows; tests make them small to reach every way of finding a page
    /// with few workers.
    pub fn with_search_windows(mut self, windows: [i64; 2]) -> Store {
        self.search_windows = windows;
        self
    }

    /// The same store, whose SQLite worker imports take their indexes off after `rows` valid
    /// rows (or a quarter of the registry, when more; default
    /// [`crate::imports::DEFER_INDEXES_AFTER`]) and build them again before they commit. The
    /// data and schema an import leaves are the same either way; tests make it small to
    /// reach both ways with few rows.
    pub fn with_index_deferral_after(mut self, rows: u64) -> Store {
        self.defer_indexes_after = rows;
        self
    }

    /// How many worker imports of this store took their indexes off while they wrote
    /// (SQLite, big imports: see `imports/worker_import/indexes.rs`).
    pub fn imports_with_deferred_indexes(&self) -> u64 {
        self.deferred_imports.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Connects and brings the schema to the latest version.
    pub async fn open(url: &str) -> Result<Store> {
        let s = Store::connect(url).await?;
        s.migrate().await?;
        Ok(s)
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// How many worker rows the imports of this store (and its clones) have sent to
    /// PostgreSQL through `COPY ... FROM STDIN` (always 0 on SQLite, whose imports
    /// write with multi-row `INSERT`s). For tests and diagnostics.
    pub fn import_rows_copied(&self) -> u64 {
        self.copied_rows.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs every pending migration, then brings the duplicate-detection keys and the
    /// search keys up to date ([`Store::ensure_dedup_keys`], [`Store::ensure_search_keys`]).
    /// Safe to call from several app servers.
    pub async fn migrate(&self) -> Result<()> {
        let lock = self.bootstrap_lock().await?;
        migrations(self.engine).run(&self.pool).await?;
        self.ensure_dedup_keys().await?;
        self.ensure_search_keys().await?;
        self.ensure_training_defaults().await?;
        self.ensure_job_descriptions().await?;
        lock.release().await
    }

    /// The reference data every instance needs, loaded when missing: Cambodia's
    /// administrative units (when there are none) and the national competency framework
    /// (when there is no version). What `komlang migrate` and `komlang serve` both do;
    /// safe when several servers start at once on an empty database.
    pub async fn ensure_reference_data(&self) -> Result<ReferenceData> {
        let lock = self.bootstrap_lock().await?;
        let units_loaded = self.ensure_admin_units().await?;
        let framework_loaded = self.ensure_competency_framework().await?;
        lock.release().await?;
        Ok(ReferenceData { units_loaded, framework_loaded })
    }

    /// The lock that lets one app server at a time migrate or load reference data: on
    /// PostgreSQL a transaction holding an advisory lock (released when it ends, also when it
    /// is dropped on an error), on SQLite an exclusive lock of `FILE.lock` (released when
    /// the file is closed, also when the process dies).
    async fn bootstrap_lock(&self) -> Result<BootstrapLock> {
        match (self.engine, &self.lock_file) {
            (Engine::Postgres, _) => {
                let mut tx = self.begin_write().await?;
                // "komlang" as a number: the key every Komlang server agrees on.
                sqlx::query("SELECT pg_advisory_xact_lock(4807315326)").execute(&mut *tx).await?;
                Ok(BootstrapLock::Postgres(tx))
            }
            (Engine::Sqlite, Some(path)) => {
                let path = path.clone();
                let file = tokio::task::spawn_blocking(move || {
                    let f = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(&path)?;
                    f.lock()?;
                    Ok::<_, std::io::Error>(f)
                })
                .await
                .map_err(|e| StoreError::Io(std::io::Error::other(e.to_string())))??;
                Ok(BootstrapLock::File(file))
            }
            (Engine::Sqlite, None) => Ok(BootstrapLock::None),
        }
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Connections of the pool: open, idle among them, and the most it opens.
    pub fn pool_status(&self) -> PoolStatus {
        PoolStatus {
            size: self.pool.size(),
            idle: u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX),
            max: self.pool.options().get_max_connections(),
        }
    }

    /// Whether the database takes a write: a row of the `meta` table (`ready_check`, the
    /// time) written in a transaction and committed, as every change is. Fails on a full
    /// disk, a read-only file or database (a standby after a failover), a lost connection.
    pub async fn check_writable(&self) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('ready_check', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// SQLite: moves every change of the write-ahead log into the database file and empties
    /// the log (`PRAGMA wal_checkpoint(TRUNCATE)`), so that the file alone is the whole
    /// database. False when a reader or writer of another process kept part of the log.
    /// PostgreSQL: nothing to do (true).
    pub async fn checkpoint(&self) -> Result<bool> {
        if self.engine != Engine::Sqlite {
            return Ok(true);
        }
        // busy, frames in the log, frames moved: busy is 0 when the checkpoint completed.
        let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.pool).await?;
        let busy: i64 = sqlx::Row::try_get(&row, 0)?;
        Ok(busy == 0)
    }

    /// Closes every connection, waiting for those in use to be given back.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// See [`Store::pool_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    /// Connections open, idle or in use.
    pub size: u32,
    /// Open connections no request holds.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}
