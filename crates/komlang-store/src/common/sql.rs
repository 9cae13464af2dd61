//! A small builder for dynamic SQL with `$n` placeholders, which both engines
//! accept, so filters compose without string-pasting values.
//!
//! Statements with thousands of parameters (the multi-row inserts and the
//! `IN (...)` lookups of an import) are the exception: on SQLite, sqlx finds
//! the argument of every `$n` with `sqlite3_bind_parameter_name`, a linear
//! scan of the statement's named parameters, which makes binding quadratic
//! (a 500-row insert of 19 columns spends most of its time there). Such
//! statements are built with [`Placeholders::for_engine`] / [`Sql::for_engine`]:
//! anonymous positional `?` on SQLite, `$n` on PostgreSQL; the text is the
//! same otherwise and every placeholder is bound in order, once.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

use crate::Engine;

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
    /// Anonymous `?` placeholders (see the module documentation).
    positional: bool,
}

/// Numbers placeholders: `$1`, `$2`... or, for big statements on SQLite, `?`.
#[derive(Debug, Clone)]
pub(crate) struct Placeholders {
    positional: bool,
    n: usize,
}

impl Placeholders {
    /// `?` on SQLite, `$n` on PostgreSQL, counting from `$1`.
    pub fn for_engine(engine: Engine) -> Self {
        Placeholders { positional: engine == Engine::Sqlite, n: 0 }
    }

    /// Appends the next placeholder to `s`.
    pub fn push_next(&mut self, s: &mut String) {
        self.n += 1;
        if self.positional {
            s.push('?');
        } else {
            s.push('$');
            s.push_str(&self.n.to_string());
        }
    }
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql { text: text.to_string(), args: Vec::new(), positional: false }
    }

    /// A builder for a statement with many parameters: placeholders as
    /// [`Placeholders::for_engine`] makes them. Never combine its text or
    /// arguments with another builder's.
    pub fn for_engine(text: &str, engine: Engine) -> Self {
        Sql { text: text.to_string(), args: Vec::new(), positional: engine == Engine::Sqlite }
    }

    fn placeholder(&mut self) {
        if self.positional {
            self.text.push('?');
        } else {
            let n = self.args.len();
            self.text.push_str(&format!("${n}"));
        }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder bound to `v`.
    pub fn text(&mut self, v: impl Into<String>) -> &mut Self {
        self.args.push(Arg::Text(Some(v.into())));
        self.placeholder();
        self
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.args.push(Arg::Int(Some(v)));
        self.placeholder();
        self
    }

    /// Appends another builder's text and arguments (a filter built once and used in both a
    /// count and a select), renumbering its `$n` placeholders after this builder's.
    pub fn append(&mut self, other: &Sql) -> &mut Self {
        if other.positional || self.positional {
            debug_assert_eq!(self.positional, other.positional, "append builders of one engine");
            self.text.push_str(&other.text);
        } else {
            let offset = self.args.len();
            let b = other.text.as_bytes();
            let mut i = 0;
            while i < b.len() {
                if b[i] == b'$' && i + 1 < b.len() && b[i + 1].is_ascii_digit() {
                    let start = i + 1;
                    let mut end = start;
                    while end < b.len() && b[end].is_ascii_digit() {
                        end += 1;
                    }
                    let n: usize = other.text[start..end].parse().unwrap_or(0);
                    self.text.push_str(&format!("${}", n + offset));
                    i = end;
                } else {
                    let ch = other.text[i..].chars().next().unwrap_or(' ');
                    self.text.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        self.args.extend(other.args.iter().cloned());
        self
    }

    pub fn opt_text(&mut self, v: Option<String>) -> &mut Self {
        self.args.push(Arg::Text(v));
        self.placeholder();
        self
    }

    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = bind_arg(q, a.clone());
        }
        q
    }
}

/// Binds one argument to the next placeholder of `q`.
pub(crate) fn bind_arg<'q>(q: Query<'q, Any, AnyArguments<'q>>, a: Arg) -> Query<'q, Any, AnyArguments<'q>> {
    match a {
        Arg::Text(v) => q.bind(v),
        Arg::Int(v) => q.bind(v),
    }
}

/// The rows to skip for `page` (from 1) of `per_page` rows: a page past any count
/// (`page=9223372036854775807`) is an empty page, never a product that wraps to the first.
pub(crate) fn offset(page: i64, per_page: i64) -> i64 {
    (page.max(1) - 1).saturating_mul(per_page.max(0))
}

/// Escapes `%`, `_` and `\` for a LIKE pattern (used with `ESCAPE '\'`).
pub(crate) fn like_pattern(q: &str) -> String {
    let mut s = String::from("%");
    // Searched as names are stored: composed, without invisible characters.
    for c in komlang_core::clean_text(q).to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

/// A LIKE pattern (used with `ESCAPE '\'`) matching text that contains `s` as it is.
pub(crate) fn contains_pattern(s: &str) -> String {
    let mut p = String::with_capacity(s.len() + 2);
    p.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The start of a multi-row `INSERT` of rows that cannot conflict (new
/// workers, their keys), up to the table name: `INSERT OR FAIL INTO` on SQLite (a constraint violation
/// stops the statement without undoing its earlier rows, so SQLite keeps no
/// statement journal for it; the import then fails and its transaction is
/// rolled back whole), `INSERT INTO` on PostgreSQL.
pub(crate) fn bulk_insert(engine: Engine) -> &'static str {
    match engine {
        Engine::Sqlite => "INSERT OR FAIL INTO",
        Engine::Postgres => "INSERT INTO",
    }
}

/// The engine behind a connection.
pub(crate) fn engine_of(conn: &sqlx::AnyConnection) -> Engine {
    if conn.backend_name().eq_ignore_ascii_case("sqlite") {
        Engine::Sqlite
    } else {
        Engine::Postgres
    }
}

/// Takes the write lock of a record's row before it is read for a change, so that two
/// edits of one record are applied one after the other, each to what the other stored:
/// on PostgreSQL the row's lock, on SQLite the database's write lock (the first write of a
/// transaction). It takes the lock by raising the record's version
/// (`migrations/*/0010_record_versions.sql`): a change that commits has moved the version on
/// once, one that rolls back leaves it as it was. Answers the version the record had before,
/// or None when there is no such row. A change that then finds nothing to do ends its
/// transaction with an explicit rollback: on SQLite a transaction left to be rolled back when
/// dropped keeps the write lock a moment longer than the call.
pub(crate) async fn lock_version(conn: &mut sqlx::AnyConnection, table: &str, id: i64) -> crate::Result<Option<i64>> {
    // `table` is one of the schema's names, never input.
    let row = sqlx::query(&format!("UPDATE {table} SET version = version + 1 WHERE id = $1 RETURNING version"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        None => Ok(None),
        Some(r) => Ok(Some(sqlx::Row::try_get::<i64, _>(&r, 0)? - 1)),
    }
}

/// [`lock_version`] without raising the version, for a change beside the record rather than of
/// it (a worker's supervisor): NotFound when there is no such row.
pub(crate) async fn lock_beside(conn: &mut sqlx::AnyConnection, table: &str, id: i64) -> crate::Result<()> {
    let n = sqlx::query(&format!("UPDATE {table} SET id = id WHERE id = $1")).bind(id).execute(&mut *conn).await?;
    if n.rows_affected() == 0 {
        return Err(crate::StoreError::NotFound);
    }
    Ok(())
}

/// [`lock_version`] of a record that must exist, and be at the version the writer read when one
/// is given (a form's hidden `version`, an API call's `If-Match`): NotFound when it does not
/// exist (any more), Stale when someone else changed it meanwhile.
pub(crate) async fn lock_existing(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    id: i64,
    expected: Option<i64>,
) -> crate::Result<()> {
    match lock_version(conn, table, id).await? {
        None => Err(crate::StoreError::NotFound),
        Some(stored) => check_version(stored, expected),
    }
}

/// Stale unless the stored version is the one expected (or none is).
pub(crate) fn check_version(stored: i64, expected: Option<i64>) -> crate::Result<()> {
    match expected {
        Some(v) if v != stored => Err(crate::StoreError::Stale { current: stored }),
        _ => Ok(()),
    }
}

/// Takes a transaction-long lock on a named record that is not one row of its own (a set of
/// settings, the requirements of one cadre, a target that may not exist yet) before it is read
/// for a change, so that two changes of it are applied one after the other and each audit's
/// "before" is what the other stored: on PostgreSQL an advisory lock on the name, released
/// when the transaction ends; on SQLite the database's write lock (a write statement takes it,
/// even one that changes no row).
pub(crate) async fn lock_key(conn: &mut sqlx::AnyConnection, key: &str) -> crate::Result<()> {
    match engine_of(conn) {
        Engine::Postgres => {
            sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(key).execute(&mut *conn).await?;
        }
        Engine::Sqlite => {
            sqlx::query("UPDATE meta SET value = value WHERE key = $1").bind(key).execute(&mut *conn).await?;
        }
    }
    Ok(())
}
