//! Typed forms shown again as a map of their fields (`FormMap`, [`values_of`]), numbers typed in
//! them, and the generic boxed form
//! ([`FormBox`], built by [`Fb`], drawn by `common/box_form.html`) that the training and
//! licensing pages use: every field with its label, value, hint, options and problems.

use std::collections::{HashMap, HashSet};

use komlang_core::{FieldError, ValidationErrors};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::forms::Choice;
use super::i18n::I18n;
use super::versions::Versioning;

pub type FormMap = HashMap<String, String>;

/// A number as people read it: 6, 7.5, 1.17.
pub fn num(v: f64) -> String {
    format!("{v}")
}

/// The values of a typed form by field name, as the form shows them again: text as typed,
/// lists (ticked boxes) joined by spaces, nothing for a field left out.
pub fn values_of<T: Serialize>(form: &T) -> FormMap {
    let mut values = FormMap::new();
    if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(form) {
        for (k, v) in fields {
            let text = match v {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s,
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string()))
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other.to_string(),
            };
            values.insert(k, text);
        }
    }
    values
}

/// A typed form out of its fields as posted, with the values of the repeated field `list`
/// (ticked boxes) kept apart; of any other field given twice, the last value counts.
pub fn typed_with_list<T: DeserializeOwned + Default>(pairs: Vec<(String, String)>, list: &str) -> (T, Vec<String>) {
    let (typed, mut lists) = typed_with_lists(pairs, &[list]);
    (typed, lists.pop().unwrap_or_default())
}

/// [`typed_with_list`] with several repeated fields, their values in the order of `lists`.
pub fn typed_with_lists<T: DeserializeOwned + Default>(
    pairs: Vec<(String, String)>,
    lists: &[&str],
) -> (T, Vec<Vec<String>>) {
    let mut items = vec![Vec::new(); lists.len()];
    let mut rest = FormMap::new();
    for (k, v) in pairs {
        match lists.iter().position(|l| *l == k) {
            Some(i) => items[i].push(v),
            None => {
                rest.insert(k, v);
            }
        }
    }
    // Read as axum's `Form` reads a body (optional fields included); a form of text fields
    // always reads.
    let body = serde_urlencoded::to_string(&rest).unwrap_or_default();
    (serde_urlencoded::from_str(&body).unwrap_or_default(), items)
}

/// A decimal number typed in field `k` (empty: 0).
pub fn decimal(k: &str, typed: &str, errs: &mut ValidationErrors) -> f64 {
    let v = typed.trim().replace(',', ".");
    if v.is_empty() {
        return 0.0;
    }
    v.parse().unwrap_or_else(|_| {
        errs.push(FieldError::new(k, "invalid_number").with("value", &v));
        0.0
    })
}

/// A whole number typed in field `k` (empty: none).
pub fn integer(k: &str, typed: &str, errs: &mut ValidationErrors) -> Option<i64> {
    let v = typed.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(FieldError::new(k, "invalid_number").with("value", v));
            None
        }
    }
}

/// A count typed in field `k` (empty: none): a whole number from 0 up (days attended…).
pub fn count(k: &str, typed: &str, errs: &mut ValidationErrors) -> Option<u32> {
    let n = integer(k, typed, errs)?;
    match u32::try_from(n) {
        Ok(c) => Some(c),
        Err(_) => {
            errs.push(FieldError::new(k, "invalid_number").with("value", n));
            None
        }
    }
}

pub fn vchoices<T: Copy>(
    i: &I18n,
    all: &[T],
    code: fn(T) -> &'static str,
    key: fn(T) -> String,
) -> Vec<(String, String)> {
    all.iter().map(|v| (code(*v).to_string(), i.t(&key(*v)))).collect()
}

pub fn select_choices(options: &[(String, String)], current: &str) -> Vec<Choice> {
    options.iter().map(|(v, l)| Choice { value: v.clone(), label: l.clone(), selected: v == current }).collect()
}

pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let kept: Vec<(&str, &str)> = pairs.iter().copied().filter(|(_, v)| !v.trim().is_empty()).collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

pub fn messages(i: &I18n, errors: &ValidationErrors) -> Vec<String> {
    errors.errors.iter().map(|e| i.field_error(e)).collect()
}

/// One field of a form as the template draws it.
pub struct Field {
    pub id: String,
    pub name: String,
    pub label: String,
    pub value: String,
    pub error: String,
    /// `text`, `date`, `number`, `select`, `textarea`, `checkboxes` or `hidden`.
    pub kind: &'static str,
    pub required: bool,
    pub hint: String,
    pub options: Vec<Choice>,
}

/// A whole form: where it posts, its fields, and the problems of the last attempt.
pub struct FormBox {
    pub id: &'static str,
    pub title: String,
    pub action: String,
    pub submit: String,
    pub fields: Vec<Field>,
    pub has_errors: bool,
    /// Messages of problems that belong to no field of the form.
    pub other_errors: Vec<String>,
    /// The form of a stored record: its version as read, and what changed meanwhile.
    pub edit: Versioning,
    /// Where "cancel" leads, beside the submit button (none when empty).
    pub cancel: String,
}

/// Builds a [`FormBox`]: fields added one by one take their values and problems from the map
/// and errors given.
pub struct Fb<'a> {
    i: &'a I18n,
    id: &'static str,
    values: &'a FormMap,
    errors: &'a ValidationErrors,
    /// The fields so far (to adjust one already added).
    pub fields: Vec<Field>,
}

impl<'a> Fb<'a> {
    pub fn new(i: &'a I18n, id: &'static str, values: &'a FormMap, errors: &'a ValidationErrors) -> Self {
        Fb { i, id, values, errors, fields: Vec::new() }
    }

    pub fn add(&mut self, name: &str, label_key: &str, kind: &'static str, required: bool) -> &mut Field {
        let error = self
            .errors
            .errors
            .iter()
            .filter(|e| e.field == name)
            .map(|e| self.i.field_error(e))
            .collect::<Vec<_>>()
            .join(" ");
        self.fields.push(Field {
            id: format!("{}-{}", self.id, name.replace('.', "-")),
            name: name.to_string(),
            label: if label_key.is_empty() { String::new() } else { self.i.t(label_key) },
            value: self.values.get(name).cloned().unwrap_or_default(),
            error,
            kind,
            required,
            hint: String::new(),
            options: Vec::new(),
        });
        let last = self.fields.len() - 1;
        &mut self.fields[last]
    }

    pub fn hidden(&mut self, name: &str, value: &str) {
        self.add(name, "", "hidden", false).value = value.to_string();
    }

    pub fn select(&mut self, name: &str, label_key: &str, options: &[(String, String)], required: bool) -> &mut Field {
        let current = self.values.get(name).cloned().unwrap_or_default();
        let mut opts = Vec::new();
        if !required || current.is_empty() {
            opts.push(Choice { value: String::new(), label: "—".into(), selected: current.is_empty() });
        }
        opts.extend(select_choices(options, &current));
        let f = self.add(name, label_key, "select", required);
        f.options = opts;
        f
    }

    pub fn checkboxes(&mut self, name: &str, label_key: &str, options: &[(String, String)]) -> &mut Field {
        let current = self.values.get(name).cloned().unwrap_or_default();
        let chosen: HashSet<&str> = current.split_whitespace().collect();
        let opts = options
            .iter()
            .map(|(v, l)| Choice { value: v.clone(), label: l.clone(), selected: chosen.contains(v.as_str()) })
            .collect();
        let f = self.add(name, label_key, "checkboxes", false);
        f.options = opts;
        f
    }

    pub fn finish(self, title: String, action: String, submit: String) -> FormBox {
        let names: HashSet<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
        let other_errors = self
            .errors
            .errors
            .iter()
            .filter(|e| !names.contains(e.field.as_str()))
            .map(|e| self.i.field_error(e))
            .collect();
        FormBox {
            id: self.id,
            title,
            action,
            submit,
            has_errors: !self.errors.is_empty(),
            other_errors,
            fields: self.fields,
            edit: Versioning::default(),
            cancel: String::new(),
        }
    }
}

pub fn no_errors() -> ValidationErrors {
    ValidationErrors::default()
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    use super::{integer, typed_with_list, values_of};
    use komlang_core::ValidationErrors;

    #[derive(Debug, Default, Deserialize, Serialize)]
    #[serde(default)]
    struct Sample {
        csrf: String,
        count: String,
        #[serde(deserialize_with = "crate::common::forms::non_blank")]
        note: Option<String>,
        #[serde(skip_deserializing)]
        ticked: Vec<String>,
    }

    #[test]
    fn typed_forms_keep_their_lists_apart_and_show_again() {
        let pairs = [("csrf", "t"), ("ticked", "a"), ("note", "  "), ("count", "1"), ("ticked", "b"), ("count", " x ")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (mut f, ticked): (Sample, _) = typed_with_list(pairs, "ticked");
        f.ticked = ticked;
        assert_eq!((f.csrf.as_str(), f.count.as_str(), f.note.as_deref()), ("t", " x ", None));
        let v = values_of(&f);
        assert_eq!(v.get("ticked").map(String::as_str), Some("a b"));
        assert!(!v.contains_key("note"));
        let f: Sample = serde_urlencoded::from_str("note=+hi+").unwrap();
        assert_eq!(f.note.as_deref(), Some("hi"));
        let mut errs = ValidationErrors::default();
        assert_eq!(integer("count", " x ", &mut errs), None);
        assert_eq!(errs.errors[0].code, "invalid_number");
        assert_eq!(errs.errors[0].params.get("value").map(String::as_str), Some("x"));
    }
}
