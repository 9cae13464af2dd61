//! The worker list's search (`q`): the query's key, the matches found through the trigram
//! index of either engine, their best tiers first, and the pages of a big search read from
//! indexes in order rather than sorted (docs/architecture.md, "Search"). The list itself, its
//! filters and counts are in [`super::registry`].

use komlang_core::*;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::registry::{unfiltered, WorkerQuery, LIST_COLS, LIST_FROM};
use super::search_rank::{rank_code_keys, RANK_ID_BITS, RANK_ID_MASK};
use crate::common::sql::{contains_pattern, Sql};
use crate::{Engine, Result, Store};

/// Searches count exactly up to this many matches; past it, `total` is this bound and
/// `total_is_lower_bound` is set ("more than 1,000"), so that no count reads every match:
/// counting costs a read of each match (a recheck of the row on PostgreSQL), and a
/// thousand is more than anyone pages through; a narrower search is the way on. Lists
/// without a search are counted exactly from the worker tallies.
pub const COUNT_LIMIT: i64 = 1_000;

/// How many keys, read in order from `workers_search_key` (the index alone), the last tier
/// of a big search looks through for its page before it sorts its matches instead: the
/// matches of a common term are met within the first few thousand keys, those of a term
/// found in a few family names only far along (docs/architecture.md, "Search").
pub const SEARCH_WINDOWS: [i64; 2] = [2_000, 20_000];

/// Shortest query the trigram index answers (FTS5 `trigram`, `pg_trgm`); shorter ones are
/// looked up by reading the keys.
const TRIGRAM: usize = 3;

/// A search of the worker list: the query's key ([`search_key`]) and the text as typed,
/// which a national ID must equal.
pub(super) struct Search {
    key: String,
    /// `key` followed by the highest character: `key <= k < hi` when `k` starts with `key`
    /// (keys compare byte by byte on both engines and hold no U+10FFFF).
    hi: String,
    nid: String,
}

impl Search {
    pub(super) fn of(q: &WorkerQuery) -> Option<Search> {
        let t = q.q.non_blank()?;
        let key = search_key(t);
        if key.is_empty() {
            return None;
        }
        let hi = format!("{key}\u{10FFFF}");
        Some(Search { key, hi, nid: t.to_string() })
    }

    fn like(&self) -> String {
        contains_pattern(&self.key)
    }

    /// The key as an FTS5 phrase of trigrams: the key as a substring, whatever characters it
    /// holds.
    fn phrase(&self) -> String {
        format!("\"{}\"", self.key.replace('"', "\"\""))
    }

    /// `w` is a best match of this tier or a better one, as SQL over `workers w`:
    /// 0 the national ID is the query, 1 the Latin name starts with it, 2 the Khmer name
    /// does, 3 any other match (inside a name, or in the phone).
    pub(super) fn push_tier(&self, sql: &mut Sql) {
        sql.push("(CASE WHEN w.national_id = ").text(self.nid.clone());
        sql.push(" THEN 0 WHEN w.search_key >= ").text(self.key.clone());
        sql.push(" AND w.search_key < ").text(self.hi.clone());
        sql.push(" THEN 1 WHEN w.search_km >= ").text(self.key.clone());
        sql.push(" AND w.search_km < ").text(self.hi.clone());
        sql.push(" THEN 2 ELSE 3 END)");
    }
}

impl Search {
    /// Appends the condition of the last tier (a match that is not a best match: neither
    /// the national ID, nor a Latin or Khmer name starting with the query) on the search key
    /// `key` of the worker `id` alone: the Khmer name's key is the key's second field.
    fn push_last_tier(&self, sql: &mut Sql, engine: Engine, key: &str, id: &str) {
        sql.push(&format!(" AND {key} LIKE ")).text(self.like()).push(" ESCAPE '\\'");
        for field in [key.to_string(), second_field(engine, key)] {
            sql.push(&format!(" AND NOT ({field} >= ")).text(self.key.clone());
            sql.push(&format!(" AND {field} < ")).text(self.hi.clone()).push(")");
        }
        sql.push(&format!(" AND {id} NOT IN (SELECT id FROM workers WHERE national_id = ")).text(self.nid.clone());
        sql.push(")");
    }
}

/// SQL of what follows the first field separator of a search key (U+0001, see
/// [`worker_search_key`]): the Khmer name's key, then the phone's.
fn second_field(engine: Engine, key: &str) -> String {
    match engine {
        Engine::Sqlite => format!("substr({key}, instr({key}, char(1)) + 1)"),
        Engine::Postgres => format!("substr({key}, strpos({key}, chr(1)) + 1)"),
    }
}

impl Store {
    /// The ids of the workers a search matches, as a subquery: the key found in the search
    /// key (the trigram index: FTS5 on SQLite, `pg_trgm` on PostgreSQL, which answers the
    /// `LIKE`; a query shorter than a trigram reads the keys), or the national ID equal to
    /// the query.
    pub(super) fn search_ids(&self, s: &Search) -> Sql {
        let mut sql = Sql::new("SELECT ");
        let trigrams = s.key.chars().count() >= TRIGRAM;
        if trigrams && self.engine == Engine::Sqlite {
            // The worker's id is the low bits of the entry's rank (migration 0029).
            sql.push(&format!("(rowid & {RANK_ID_MASK}) AS id FROM workers_search WHERE workers_search MATCH "))
                .text(s.phrase());
        } else if trigrams {
            // `pg_trgm` answers the `LIKE` (every statement is planned for its values).
            sql.push("id FROM workers WHERE search_key LIKE ").text(s.like()).push(" ESCAPE '\\'");
        } else {
            // `|| ''`: not the trigram index, which cannot narrow a key this short (a
            // PostgreSQL generic plan would read all of it); the rows are read instead, in
            // the table's order (SQLite: `NOT INDEXED`, not the narrower key index, whose
            // name order gathers the matches of a family name far along), so that a bounded
            // count of a common pair of letters stops early (118 -> 10 ms at a million).
            let table = if self.engine == Engine::Sqlite { "workers NOT INDEXED" } else { "workers" };
            sql.push(&format!("id FROM {table} WHERE (search_key || '') LIKE ")).text(s.like()).push(" ESCAPE '\\'");
        }
        sql.push(" UNION ALL SELECT id FROM workers WHERE national_id = ").text(s.nid.clone());
        sql.push(" AND COALESCE(search_key, '') NOT LIKE ").text(s.like()).push(" ESCAPE '\\'");
        sql
    }

    /// A page of a search with many matches, read tier by tier, each tier from an index in
    /// its order: the national ID (unique), the Latin names starting with the query (a range
    /// of `workers_search_key`), the Khmer names starting with it (a range of
    /// `workers_search_km`), then the other matches ([`Store::last_tier_page`]). The first
    /// three tiers are not sorted, and are counted only as far as the page starts.
    pub(super) async fn search_page_by_tiers(
        &self,
        s: &Search,
        base: &Sql,
        offset: i64,
        per_page: i64,
    ) -> Result<Vec<AnyRow>> {
        let mut skip = offset;
        let mut rows: Vec<AnyRow> = Vec::new();
        if skip == 0 {
            // A first page (most searches): the three tiers in one statement, each read from its
            // index in order as far as the page, the page sorted from them.
            let mut sql = Sql::new("SELECT * FROM (");
            for (tier, sort) in [(0u8, "''"), (1, "w.search_key"), (2, "w.search_km")] {
                if tier > 0 {
                    sql.push(" UNION ALL ");
                }
                sql.push(&format!(
                    "SELECT * FROM (SELECT {LIST_COLS}, {tier} AS tier_no, {sort} AS tier_sort FROM workers w{LIST_FROM}"
                ));
                sql.append(base);
                let order = self.push_tier_condition(&mut sql, s, tier);
                sql.push(order).push(" LIMIT ").int(per_page).push(") t").push(&tier.to_string());
            }
            sql.push(") t ORDER BY tier_no, tier_sort, id LIMIT ").int(per_page);
            rows = sql.query().fetch_all(&self.pool).await?;
            let want = per_page - rows.len() as i64;
            if want > 0 {
                rows.extend(self.last_tier_page(s, base, 0, want).await?);
            }
            return Ok(rows);
        }
        for tier in 0..3u8 {
            let want = per_page - rows.len() as i64;
            if want <= 0 {
                return Ok(rows);
            }
            let mut list = Sql::new(&format!("SELECT {LIST_COLS} FROM workers w{LIST_FROM}"));
            list.append(base);
            let order = self.push_tier_condition(&mut list, s, tier);
            list.push(order).push(" LIMIT ").int(want).push(" OFFSET ").int(skip);
            let got = list.query().fetch_all(&self.pool).await?;
            if got.is_empty() && skip > 0 {
                // The page starts past this tier: how many rows it holds (at most `skip`).
                let mut inner = Sql::new("SELECT 1 FROM workers w JOIN admin_units u ON u.code = w.workplace_code");
                inner.append(base);
                self.push_tier_condition(&mut inner, s, tier);
                inner.push(" LIMIT ").int(skip);
                let mut count = Sql::new("SELECT COUNT(*) FROM (");
                count.append(&inner).push(") c");
                let n: i64 = count.query().fetch_one(&self.pool).await?.try_get(0)?;
                skip -= n;
                continue;
            }
            skip = 0;
            rows.extend(got);
        }
        let want = per_page - rows.len() as i64;
        if want > 0 {
            rows.extend(self.last_tier_page(s, base, skip, want).await?);
        }
        Ok(rows)
    }

    /// The page of the last tier of a big search (any other match, in name order): looked
    /// for among the first keys in name order, read from the key index alone (a few
    /// thousand, then more), which holds it when the matches are common; else the tier's
    /// matches found through the trigram index, sorted (their number is what it costs: a term
    /// met in a few family names only); a key too short for trigrams reads on in name order,
    /// from the key index alone too.
    async fn last_tier_page(&self, s: &Search, base: &Sql, skip: i64, want: i64) -> Result<Vec<AnyRow>> {
        let short = s.key.chars().count() < TRIGRAM;
        if !short && self.engine == Engine::Sqlite {
            return self.last_tier_page_ranked(s, base, skip, want).await;
        }
        // The windows, then, for a key too short for trigrams, every key in order.
        let windows = self.search_windows.map(Some);
        for window in windows.into_iter().chain(short.then_some(None)) {
            // The window's keys that are matches of this tier, tested on the key alone (no
            // row is read but those the scope needs and those of the page).
            let limit = window.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
            let mut page = Sql::new(&format!(
                "SELECT k.id, k.search_key FROM (SELECT id, search_key FROM workers ORDER BY search_key, id{limit}) k"
            ));
            if !unfiltered(base) {
                page.push(" JOIN workers w ON w.id = k.id JOIN admin_units u ON u.code = w.workplace_code");
            }
            page.append(base);
            s.push_last_tier(&mut page, self.engine, "k.search_key", "k.id");
            page.push(" ORDER BY k.search_key, k.id LIMIT ").int(want).push(" OFFSET ").int(skip);
            let mut list = Sql::new(&format!("SELECT {LIST_COLS} FROM ("));
            list.append(&page).push(") p JOIN workers w ON w.id = p.id").push(LIST_FROM);
            list.push(" ORDER BY p.search_key, p.id");
            let got = list.query().fetch_all(&self.pool).await?;
            if got.len() as i64 == want || window.is_none() {
                return Ok(got);
            }
        }
        // The tier's matches, found through the trigram index, sorted.
        let mut list = Sql::new(&format!("SELECT {LIST_COLS} FROM ("));
        list.append(&self.search_ids(s)).push(") m JOIN workers w ON w.id = m.id");
        list.push(LIST_FROM).append(base);
        s.push_last_tier(&mut list, self.engine, "w.search_key", "w.id");
        list.push(" ORDER BY w.search_key, w.id LIMIT ").int(want).push(" OFFSET ").int(skip);
        Ok(list.query().fetch_all(&self.pool).await?)
    }

    /// [`Store::last_tier_page`] on SQLite, through the trigram index whose entries are in
    /// name order (migration 0029). The first `skip + want` matches of the tier in the index's
    /// order end at an entry whose code `c` (of the key's first characters) no earlier match in
    /// name order exceeds. So the page is among: the matches of a code below `c` (fewer than
    /// `skip + want`, from the index), and the first `skip + want` matches in name order among
    /// the keys of code `c` (read in order from `workers_search_key`, which stops there).
    /// What it reads is about the page, whatever the number of matches.
    async fn last_tier_page_ranked(&self, s: &Search, base: &Sql, skip: i64, want: i64) -> Result<Vec<AnyRow>> {
        let first = skip + want;
        let from_index = |sql: &mut Sql| {
            sql.push(&format!(" FROM workers_search JOIN workers w ON w.id = (workers_search.rowid & {RANK_ID_MASK})"));
            if !unfiltered(base) {
                sql.push(" JOIN admin_units u ON u.code = w.workplace_code");
            }
            sql.append(base).push(" AND workers_search MATCH ").text(s.phrase());
        };
        let mut cut = Sql::new("SELECT MAX(r) AS r FROM (SELECT workers_search.rowid AS r");
        from_index(&mut cut);
        s.push_last_tier(&mut cut, self.engine, "w.search_key", "w.id");
        cut.push(" ORDER BY workers_search.rowid LIMIT ").int(first).push(") c");
        let Some(last) = cut.query().fetch_one(&self.pool).await?.try_get::<Option<i64>, _>("r")? else {
            return Ok(Vec::new());
        };
        let code = last >> RANK_ID_BITS;
        let (low, high) = rank_code_keys(code);

        let mut sql =
            Sql::new(&format!("SELECT {LIST_COLS} FROM (SELECT id, search_key FROM (SELECT w.id, w.search_key"));
        from_index(&mut sql);
        sql.push(" AND workers_search.rowid < ").int(code << RANK_ID_BITS);
        s.push_last_tier(&mut sql, self.engine, "w.search_key", "w.id");
        sql.push(" UNION SELECT id, search_key FROM (SELECT k.id, k.search_key FROM workers k");
        if !unfiltered(base) {
            sql.push(" JOIN workers w ON w.id = k.id JOIN admin_units u ON u.code = w.workplace_code");
        }
        sql.append(base).push(" AND k.search_key >= ").text(low).push(" AND k.search_key <= ").text(high);
        s.push_last_tier(&mut sql, self.engine, "k.search_key", "k.id");
        sql.push(" ORDER BY k.search_key, k.id LIMIT ").int(first).push(")");
        sql.push(") ORDER BY search_key, id LIMIT ").int(want).push(" OFFSET ").int(skip);
        sql.push(") p JOIN workers w ON w.id = p.id").push(LIST_FROM).push(" ORDER BY p.search_key, p.id");
        Ok(sql.query().fetch_all(&self.pool).await?)
    }

    /// Appends the condition of one of the first three tiers of a search (each condition
    /// implies the match) and returns the order in which its index reads it.
    fn push_tier_condition(&self, sql: &mut Sql, s: &Search, tier: u8) -> &'static str {
        match tier {
            0 => {
                sql.push(" AND w.national_id = ").text(s.nid.clone());
                " ORDER BY w.id"
            }
            1 => {
                sql.push(" AND w.search_key >= ").text(s.key.clone()).push(" AND w.search_key < ").text(s.hi.clone());
                sql.push(" AND ");
                s.push_tier(sql);
                sql.push(" = 1");
                " ORDER BY w.search_key, w.id"
            }
            _ => {
                sql.push(" AND w.search_km >= ").text(s.key.clone()).push(" AND w.search_km < ").text(s.hi.clone());
                sql.push(" AND ");
                s.push_tier(sql);
                sql.push(" = 2");
                " ORDER BY w.search_km, w.id"
            }
        }
    }
}
