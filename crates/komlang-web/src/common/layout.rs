//! What every page shows around its content ([`Layout`]: menus, language switch, the
//! signed-in account, the flash message), and the error page.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use komlang_core::*;

use super::i18n::{I18n, Locale};

/// What every page shows around its content.
pub struct Layout {
    pub i: I18n,
    pub user: Option<Principal>,
    pub csrf: String,
    pub here: String,
    pub section: &'static str,
    pub flash: Option<String>,
}

impl Layout {
    pub fn t(&self, key: &str) -> String {
        self.i.t(key)
    }

    pub fn lang(&self) -> &'static str {
        self.i.lang()
    }

    pub fn locales(&self) -> Vec<(String, &'static str, bool)> {
        Locale::ALL
            .iter()
            .map(|l| {
                let q = serde_urlencoded::to_string([("next", &self.here)]).unwrap_or_default();
                (format!("/lang/{}?{q}", l.code()), l.native_name(), *l == self.i.locale)
            })
            .collect()
    }

    /// The signed-in account holds `action` (menus and buttons; `Principal::may`).
    pub fn may(&self, action: Action) -> bool {
        self.user.as_ref().is_some_and(|u| u.may(action))
    }

    /// The signed-in account reads only its own worker record (a worker's account): its menu
    /// is its own profile rather than the registry.
    pub fn own_record_only(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.may(Action::ReadWorkers) && !u.may_in_scope(Action::ReadWorkers))
    }

    pub fn current(&self, section: &str) -> bool {
        self.section == section
    }

    pub fn username(&self) -> String {
        self.user.as_ref().map(|u| u.username.clone()).unwrap_or_default()
    }

    pub fn role_label(&self) -> String {
        self.user.as_ref().map(|u| self.i.label(u.role)).unwrap_or_default()
    }
}

/// A page with one message (errors, conflicts).
#[derive(Template)]
#[template(path = "common/error.html")]
pub struct ErrorPage {
    pub l: Layout,
    pub message: String,
}

pub fn error_page(status: StatusCode, locale: Locale, key: &str) -> Response {
    let i = I18n::new(locale);
    let page = ErrorPage {
        l: Layout { i, user: None, csrf: String::new(), here: "/".into(), section: "", flash: None },
        message: i.t(key),
    };
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(_) => status.into_response(),
    }
}
