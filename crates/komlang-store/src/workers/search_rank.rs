//! SQLite: the rank that keys a worker's entry in the trigram index (`workers_search`, schema
//! 29) — a code of the search key's first characters above the worker's id, so that the index's
//! order is name order up to the ties of those characters — and what a code stands for.
//! The migration's triggers compute it in SQL; [`rank_sql`] is the same expression for the
//! statements that write entries themselves (a big import), and `tests/search.rs` holds the
//! two to the same entries.

/// The low bits of an entry's rowid in SQLite's trigram index (`workers_search`) that hold
/// the worker's id; the bits above are a code of the search key's first characters, so that
/// rowid order is name order up to the ties of those characters (migration 0029).
pub(crate) const RANK_ID_BITS: u32 = 28;
pub(crate) const RANK_ID_MASK: i64 = (1 << RANK_ID_BITS) - 1;

/// How many characters of the key the code of a rank holds, five bits each.
const RANK_CHARS: u32 = 7;

/// The lowest and the highest key a code of a rank stands for (migration 0029: each of the
/// key's first seven characters as five bits, 0 for none, 1 a character below a space, 2 a
/// space, 3 another below `a`, 4 to 29 `a` to `z`, 30 up to U+007F, 31 any other): every key
/// of that code lies between them, both included.
pub(crate) fn rank_code_keys(code: i64) -> (String, String) {
    let (mut low, mut high) = (String::new(), String::new());
    let mut low_done = false;
    for i in (0..RANK_CHARS).rev() {
        let bucket = (code >> (5 * i)) & 31;
        let (least, most) = match bucket {
            0 => return (low, high),
            1 => ('\u{1}', '\u{1F}'),
            2 => (' ', ' '),
            3 => ('!', '`'),
            4..=29 => {
                let c = char::from(b'a' + (bucket - 4) as u8);
                (c, c)
            }
            30 => ('{', '\u{7F}'),
            _ => ('\u{80}', char::MAX),
        };
        // A character below a space may be U+0000 too: the low key stops before it.
        low_done |= bucket == 1;
        if !low_done {
            low.push(least);
        }
        high.push(most);
    }
    high.push(char::MAX);
    (low, high)
}

/// The rank of the worker `id` whose search key is `key` (SQL expressions over one row), as
/// SQLite's migration's triggers compute it (public for the bench's floor, which writes the
/// entries as a big import does): each of the key's first [`RANK_CHARS`] characters as
/// five bits (see [`rank_code_keys`]), then the id in the low [`RANK_ID_BITS`].
pub fn rank_sql(key: &str, id: &str) -> String {
    let mut sql = String::from("(");
    for i in 0..RANK_CHARS {
        let c = format!("unicode(substr({key}, {}, 1))", i + 1);
        sql.push_str(&format!(
            "((CASE WHEN {c} IS NULL THEN 0 WHEN {c} < 32 THEN 1 WHEN {c} = 32 THEN 2 WHEN {c} < 97 THEN 3 \
             WHEN {c} <= 122 THEN {c} - 93 WHEN {c} < 128 THEN 30 ELSE 31 END) << {}) | ",
            RANK_ID_BITS + 5 * (RANK_CHARS - 1 - i)
        ));
    }
    sql.push_str(id);
    sql.push(')');
    sql
}
