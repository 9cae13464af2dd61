//! Lists in pages: the API's [`Paged`] answer and the links between pages of a list.

use serde::Serialize;
use utoipa::ToSchema;

/// A page of results; `total` counts every match in the caller's scope.
#[derive(Debug, Serialize, ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> From<komlang_store::Page<T>> for Paged<T> {
    fn from(p: komlang_store::Page<T>) -> Self {
        Paged { items: p.items, total: p.total, page: p.page, per_page: p.per_page }
    }
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
