//! Helpers of the HTML forms: select choices, trimmed values, and the record form
//! ([`FormBuilder`] → [`FieldView`]s → `common/form.html`) that workers and organizations use.

use std::collections::HashMap;

use askama::Template;
use axum::http::StatusCode;
use komlang_core::{Action, NonBlank, ValidationErrors};
use serde::{Deserialize, Deserializer};

use super::i18n::{I18n, Labeled};
use super::layout::Layout;
use super::render::{render, render_status, PageResult};
pub use super::versions::Versioning;

/// A form field left blank is none, anything else is its text without surrounding white space:
/// for optional text fields of typed forms, as
/// `#[serde(default, deserialize_with = "crate::common::forms::non_blank")]`.
pub fn non_blank<'de, D>(d: D) -> Result<Option<String>, D::Error>
where
    D: Deserializer<'de>,
{
    let typed = Option::<String>::deserialize(d)?;
    Ok(typed.non_blank().map(str::to_string))
}

/// A form posted as name–value pairs (a form whose fields depend on the record: one rating per
/// key function, one score per candidate), read field by field: trimmed values, days and
/// numbers, each wrong one added to `errs` under its field's name.
pub struct Posted<'a>(pub &'a [(String, String)]);

impl Posted<'_> {
    /// The field's value, trimmed ("" when absent).
    pub fn get(&self, k: &str) -> &str {
        self.0.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim()).unwrap_or_default()
    }

    /// The field's value, none when blank.
    pub fn opt(&self, k: &str) -> Option<String> {
        Some(self.get(k).to_string()).filter(|v| !v.is_empty())
    }

    /// A day (`YYYY-MM-DD`): `required` when blank, `invalid_date` when not one.
    pub fn date(&self, k: &str, required: bool, errs: &mut ValidationErrors) -> Option<chrono::NaiveDate> {
        let v = self.get(k);
        if v.is_empty() {
            if required {
                errs.push(komlang_core::FieldError::new(k, "required"));
            }
            return None;
        }
        chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| errs.push(komlang_core::FieldError::new(k, "invalid_date")))
            .ok()
    }

    /// A number (a decimal comma read as a point): `invalid_number` when not one; none when blank.
    pub fn number<T: std::str::FromStr>(&self, k: &str, errs: &mut ValidationErrors) -> Option<T> {
        let v = self.get(k);
        if v.is_empty() {
            return None;
        }
        v.replace(',', ".").parse::<T>().map_err(|_| errs.push(komlang_core::FieldError::new(k, "invalid_number"))).ok()
    }
}

/// One choice in a select box.
#[derive(Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The values of a vocabulary as choices, with `current` selected.
pub fn choices<T: Copy + Labeled>(i: &I18n, all: &[T], code: fn(T) -> &'static str, current: &str) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice { value: code(*v).to_string(), label: i.label(*v), selected: code(*v) == current })
        .collect()
}

/// One form field as the template draws it.
pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub error: String,
    /// `text`, `date`, `email`, `tel`, `select`, `textarea`.
    pub kind: &'static str,
    pub required: bool,
    pub hint: String,
    pub options: Vec<Choice>,
    /// A link shown with the error (e.g. to the worker who has this national ID).
    pub link: Option<String>,
}

/// Builds the fields of a record form from submitted (or stored) values and their problems.
pub struct FormBuilder<'a> {
    pub i: &'a I18n,
    /// `worker` or `org`: the prefix of the field labels.
    pub scope: &'static str,
    pub values: &'a HashMap<String, String>,
    pub errors: &'a ValidationErrors,
    pub fields: Vec<FieldView>,
}

impl<'a> FormBuilder<'a> {
    pub fn new(
        i: &'a I18n,
        scope: &'static str,
        values: &'a HashMap<String, String>,
        errors: &'a ValidationErrors,
    ) -> Self {
        FormBuilder { i, scope, values, errors, fields: Vec::new() }
    }

    pub fn field(&mut self, name: &'static str, kind: &'static str, required: bool) -> &mut FieldView {
        let err = self.errors.for_field(name);
        let link = err.and_then(|e| e.params.get("existing_id")).map(|id| {
            if self.scope == "worker" {
                format!("/workers/{id}")
            } else {
                format!("/organizations/{id}")
            }
        });
        self.fields.push(FieldView {
            name,
            label: self.i.field_label(self.scope, name),
            value: self.values.get(name).cloned().unwrap_or_default(),
            error: err.map(|e| self.i.field_error(e)).unwrap_or_default(),
            kind,
            required,
            hint: String::new(),
            options: Vec::new(),
            link,
        });
        let last = self.fields.len() - 1;
        &mut self.fields[last]
    }

    pub fn select<T: Copy + Labeled>(
        &mut self,
        name: &'static str,
        all: &[T],
        code: fn(T) -> &'static str,
        required: bool,
    ) {
        let current = self.values.get(name).cloned().unwrap_or_default();
        let opts = choices(self.i, all, code, &current);
        self.field(name, "select", required).options = opts;
    }
}

#[derive(Template)]
#[template(path = "common/form.html")]
struct FormPage {
    l: Layout,
    title: String,
    action: String,
    cancel: String,
    fields: Vec<FieldView>,
    has_errors: bool,
    edit: Versioning,
}

/// A new record's form; with problems it answers 422 so nothing looks saved.
pub fn show_form(l: Layout, title: String, target: String, fields: Vec<FieldView>, has_errors: bool) -> PageResult {
    show_edit_form(l, title, target, fields, has_errors, Versioning::default())
}

/// A stored record's form: 422 with problems, 409 when someone else changed the record
/// meanwhile, so that nothing looks saved.
pub fn show_edit_form(
    l: Layout,
    title: String,
    target: String,
    fields: Vec<FieldView>,
    has_errors: bool,
    edit: Versioning,
) -> PageResult {
    let status = if edit.conflict.is_some() {
        StatusCode::CONFLICT
    } else if has_errors {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = FormPage { title, action: target.clone(), cancel: target, fields, has_errors, edit, l };
    if status == StatusCode::OK {
        render(&page)
    } else {
        render_status(status, &page)
    }
}
