//! Lists in pages: the API's [`Paged`] answer and the links between pages of a list.

use serde::Serialize;
use utoipa::ToSchema;

/// A page of results; `total` counts every match in the caller's scope, or, when
/// `total_is_lower_bound` is true, is a bound the matches exceed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    /// Every match in the caller's scope; when `total_is_lower_bound`, there are more than this.
    pub total: i64,
    /// True when the list stopped counting at `total` (a search of the worker list counts
    /// exactly up to 1,000 matches; past that it answers `total: 1000` and `true`: "more than
    /// 1,000").
    pub total_is_lower_bound: bool,
    pub page: i64,
    pub per_page: i64,
}

impl<T> From<komlang_store::Page<T>> for Paged<T> {
    fn from(p: komlang_store::Page<T>) -> Self {
        Paged {
            items: p.items,
            total: p.total,
            total_is_lower_bound: p.total_is_lower_bound,
            page: p.page,
            per_page: p.per_page,
        }
    }
}

/// A count with thousands separated: 10000 → "10,000".
pub fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

/// The link to another page of a list, keeping its filters (`query`, without `page`).
pub fn page_link(query: &str, page: i64) -> String {
    if query.is_empty() {
        format!("?page={page}")
    } else {
        format!("?{query}&page={page}")
    }
}

/// The links to the previous and next pages, where there are such pages.
pub fn prev_next(page: i64, pages: i64, link: impl Fn(i64) -> String) -> (Option<String>, Option<String>) {
    ((page > 1).then(|| link(page - 1)), (page < pages).then(|| link(page + 1)))
}

#[cfg(test)]
mod tests {
    use super::grouped;

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(10_000), "10,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
        assert_eq!(grouped(-1000), "-1,000");
    }
}
