//! A form sent against a record that someone else changed meanwhile (`StoreError::Stale`).
//! Nothing was saved; the form comes back with the record as it is now and the user's own
//! changes on top, and a table of every field either side changed: what it was when the form
//! was opened, what was saved meanwhile, what the user entered, and what the form now holds.
//! Saving it again applies the user's changes on top; "drop my changes" leaves the record as
//! the other person saved it. Nothing is overwritten without the user seeing it.
//!
//! The three values of a field are compared as the form's text: `base` (the record when the form
//! was opened, carried in the form's hidden `base` field), `theirs` (the record now) and `yours`
//! (the form as sent). A field only the user changed keeps the user's entry; one only the other
//! side changed takes theirs (the user did not touch it, so their change is kept); one both
//! changed to different values keeps the user's entry and is marked, for the user to check.

use std::collections::{BTreeMap, HashMap};

use super::errors::PageError;
use super::form_box::Field;
use super::forms::{Choice, FieldView};
use super::i18n::I18n;
use super::versions::{form_version, Versioning, VERSION_FIELD};
pub use super::versions::{ConflictRow, ConflictView};
use komlang_store::AuditEntry;

/// The form's values after a three-way merge of the named fields, and which fields either side
/// changed (with whether both did, differently), in the order of `names`.
pub fn merge(
    names: &[&str],
    base: &HashMap<String, String>,
    theirs: &HashMap<String, String>,
    yours: &HashMap<String, String>,
) -> (HashMap<String, String>, Vec<(String, bool)>) {
    let get = |m: &HashMap<String, String>, k: &str| m.get(k).map(|v| v.trim().to_string());
    let mut merged = theirs.clone();
    let mut changed = Vec::new();
    for name in names {
        let t = get(theirs, name).unwrap_or_default();
        // A field the form did not send (one the account may not change) is the user's as is.
        let Some(y) = get(yours, name) else { continue };
        // A field the opened form did not hold counts as unchanged by the user.
        let b = get(base, name).unwrap_or_else(|| y.clone());
        let mine = y != b;
        let other = t != b;
        if mine {
            merged.insert(name.to_string(), y.clone());
        }
        if mine || other {
            changed.push((name.to_string(), mine && other && y != t));
        }
    }
    (merged, changed)
}

/// The values of a record's form as a hidden field's text (JSON), and back: the record as the
/// form was opened, for [`merge`]. An unreadable value is an empty map (every entry then
/// counts as the user's).
pub fn base_text(values: &HashMap<String, String>) -> String {
    let sorted: BTreeMap<&String, &String> = values.iter().collect();
    serde_json::to_string(&sorted).unwrap_or_default()
}

pub fn base_from(text: Option<&str>) -> HashMap<String, String> {
    text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
}

/// A field of a record's form, as the merge reads and sets it: the record forms
/// ([`FieldView`]) and the boxed forms ([`Field`]).
pub trait FormField {
    fn name(&self) -> &str;
    fn label(&self) -> &str;
    fn value(&self) -> &str;
    fn options(&self) -> &[Choice];
    /// Sets the value and selects the matching choices (ticks them, for a list of boxes).
    fn set(&mut self, value: &str);
}

/// Implements [`FormField`] for a field type with `name`, `label`, `value` and `options`, and how
/// it takes a value.
macro_rules! form_field {
    ($t:ty, |$field:ident, $value:ident| $set:block) => {
        impl FormField for $t {
            fn name(&self) -> &str {
                &self.name
            }
            fn label(&self) -> &str {
                &self.label
            }
            fn value(&self) -> &str {
                &self.value
            }
            fn options(&self) -> &[Choice] {
                &self.options
            }
            fn set(&mut self, $value: &str) {
                let $field = self;
                $set
            }
        }
    };
}

form_field!(FieldView, |f, value| {
    f.value = value.to_string();
    for o in f.options.iter_mut() {
        o.selected = o.value == value;
    }
});

form_field!(Field, |f, value| {
    f.value = value.to_string();
    let ticked: Vec<&str> = value.split_whitespace().collect();
    for o in f.options.iter_mut() {
        o.selected = if f.kind == "checkboxes" { ticked.contains(&o.value.as_str()) } else { o.value == value };
    }
});

/// A field of a form drawn by its own template (an assessment's ratings), for the merge.
pub struct PlainField {
    pub name: String,
    pub label: String,
    pub value: String,
    pub options: Vec<Choice>,
}

form_field!(PlainField, |f, value| {
    f.value = value.to_string();
});

/// The values of a record's form fields, by name.
pub fn field_values<F: FormField>(fields: &[F]) -> HashMap<String, String> {
    fields.iter().map(|f| (f.name().to_string(), f.value().to_string())).collect()
}

/// Puts `values` on the form's fields (and selects the matching choices).
pub fn set_values<F: FormField>(fields: &mut [F], values: &HashMap<String, String>) {
    for f in fields.iter_mut() {
        if let Some(v) = values.get(f.name()) {
            f.set(v);
        }
    }
}

/// The conflict of a stale form whose `fields` hold the record as it is now (`theirs`): the
/// fields get the merged values, and the view lists what changed, with choices shown by their
/// labels. `changes` are the record's latest audited changes, newest first.
pub fn resolve<F: FormField>(
    i: &I18n,
    fields: &mut [F],
    base: &HashMap<String, String>,
    yours: &HashMap<String, String>,
    changes: &[AuditEntry],
) -> ConflictView {
    let theirs = field_values(fields);
    let names: Vec<String> = fields.iter().map(|f| f.name().to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (merged, changed) = merge(&names, base, &theirs, yours);
    set_values(fields, &merged);
    let shown = |f: &F, v: &str| -> String {
        if v.is_empty() {
            return i.t("stale.empty");
        }
        let labels: Vec<String> = v
            .split_whitespace()
            .map(|x| {
                f.options().iter().find(|o| o.value == x).map(|o| o.label.clone()).unwrap_or_else(|| x.to_string())
            })
            .collect();
        match f.options().iter().find(|o| o.value == v) {
            Some(o) => o.label.clone(),
            None if !f.options().is_empty() => labels.join(", "),
            None => v.to_string(),
        }
    };
    let rows = changed
        .iter()
        .filter_map(|(name, clash)| {
            let f = fields.iter().find(|f| f.name() == name)?;
            let pick = |m: &HashMap<String, String>| m.get(name.as_str()).map(|v| v.trim().to_string());
            let t = pick(&theirs).unwrap_or_default();
            let y = pick(yours).unwrap_or_default();
            let b = pick(base).unwrap_or_else(|| y.clone());
            Some(ConflictRow {
                label: f.label().to_string(),
                base: shown(f, &b),
                theirs: shown(f, &t),
                yours: shown(f, &y),
                now: shown(f, f.value()),
                clash: *clash,
            })
        })
        .collect();
    let changed_by = changes
        .iter()
        .map(|c| {
            let at = c.at.chars().take(16).collect::<String>().replace('T', " ");
            i.tp("stale.by", &[("who", c.username.clone()), ("at", at)])
        })
        .collect();
    ConflictView { drop_to: String::new(), rows, changed_by }
}

/// The [`Versioning`] of a stale form: `fields` hold the record as it is now (version
/// `current`); they get the user's changes on top (from `form`, the form as sent, with its
/// hidden `version` and `base`), and the conflict lists what changed and who changed it since
/// the version the form was opened at. Saving the form again applies the user's changes.
#[allow(clippy::too_many_arguments)]
pub async fn stale_form<F: FormField>(
    app: &crate::AppState,
    i: &I18n,
    entity: &str,
    entity_id: &str,
    current: i64,
    fields: &mut [F],
    form: &HashMap<String, String>,
    drop_to: String,
) -> Result<Versioning, PageError> {
    let theirs = base_text(&field_values(fields));
    let read_at = form_version(form.get(VERSION_FIELD).map(String::as_str)).unwrap_or(current - 1);
    let changes = app.store.last_changes_of(entity, entity_id, (current - read_at).clamp(1, 5)).await?;
    let base = base_from(form.get("base").map(String::as_str));
    let conflict = ConflictView { drop_to, ..resolve(i, fields, &base, form, &changes) };
    Ok(Versioning { version: Some(current), base: theirs, conflict: Some(conflict) })
}

/// The [`Versioning`] of a form opened on a record at `version` whose `fields` hold it.
pub fn opened_at<F: FormField>(version: i64, fields: &[F]) -> Versioning {
    Versioning { version: Some(version), base: base_text(&field_values(fields)), conflict: None }
}

/// The [`Versioning`] of a form sent back with problems: as it was opened.
pub fn as_sent(form: &HashMap<String, String>) -> Versioning {
    Versioning {
        version: form_version(form.get(VERSION_FIELD).map(String::as_str)),
        base: form.get("base").cloned().unwrap_or_default(),
        conflict: None,
    }
}

/// The problem to show with an act on a record (a decision, a renewal, a row's attendance)
/// that someone else changed since the page was opened: who changed it last, and when. The
/// page is shown again with the record as it is now and the user's entries kept.
pub async fn changed_meanwhile(
    app: &crate::AppState,
    entity: &str,
    entity_id: &str,
) -> Result<komlang_core::ValidationErrors, PageError> {
    let last = app.store.last_changes_of(entity, entity_id, 1).await?;
    let mut e = komlang_core::FieldError::new(VERSION_FIELD, "changed_meanwhile");
    if let Some(c) = last.first() {
        e = e.with("who", &c.username).with("at", c.at.chars().take(16).collect::<String>().replace('T', " "));
    }
    Ok(komlang_core::ValidationErrors::single(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn each_side_keeps_its_own_changes() {
        let names = ["phone", "email", "status", "name"];
        let base = m(&[("phone", "1"), ("email", "a@x"), ("status", "active"), ("name", "Sok")]);
        // Someone else changed the phone and the status.
        let theirs = m(&[("phone", "2"), ("email", "a@x"), ("status", "left"), ("name", "Sok")]);
        // The user changed the email and the status (differently), and left the phone as read.
        let yours = m(&[("phone", "1"), ("email", "b@x"), ("status", "on_leave"), ("name", "Sok")]);
        let (merged, changed) = merge(&names, &base, &theirs, &yours);
        assert_eq!(merged["phone"], "2", "their change of a field the user did not touch is kept");
        assert_eq!(merged["email"], "b@x", "the user's change is applied on top");
        assert_eq!(merged["status"], "on_leave", "where both changed, the user's entry is on the form");
        assert_eq!(merged["name"], "Sok");
        assert_eq!(
            changed,
            vec![("phone".to_string(), false), ("email".to_string(), false), ("status".to_string(), true)]
        );
    }

    #[test]
    fn the_same_change_on_both_sides_is_no_clash() {
        let (merged, changed) = merge(&["phone"], &m(&[("phone", "1")]), &m(&[("phone", "2")]), &m(&[("phone", "2")]));
        assert_eq!(merged["phone"], "2");
        assert_eq!(changed, vec![("phone".to_string(), false)]);
    }

    #[test]
    fn base_round_trips_and_bad_text_is_empty() {
        let v = m(&[("a", "1"), ("b", "<\"x\">")]);
        assert_eq!(base_from(Some(&base_text(&v))), v);
        assert!(base_from(Some("{not json")).is_empty());
        assert!(base_from(None).is_empty());
    }
}
