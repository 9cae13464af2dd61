//! Certificate and licence numbers: drawing new ones, and searching holders by name or number.

use komlang_core::training::{make_number, normalize_number, NumberKind};
use rand::RngCore;

use crate::common::sql::{like_pattern, Sql};

/// Appends "the holder's name (Khmer or Latin) contains `text`, or `number_col` is the number
/// `text` spells" (over `workers w`).
pub(crate) fn push_name_or_number(sql: &mut Sql, text: &str, kind: NumberKind, number_col: &str) {
    let pat = like_pattern(text);
    sql.push(" AND (LOWER(w.name_latin) LIKE ").text(pat.clone()).push(" ESCAPE '\\'");
    sql.push(" OR LOWER(w.name_km) LIKE ").text(pat).push(" ESCAPE '\\'");
    let n = normalize_number(kind, text).unwrap_or_else(|| text.to_uppercase());
    sql.push(" OR ").push(number_col).push(" = ").text(n).push(")");
}

pub(crate) fn random_number(kind: NumberKind) -> String {
    make_number(kind, rand::rngs::OsRng.next_u64())
}
