//! What the training pages share: hours by type on forms, titles of programmes and courses, and
//! the 404 for a worker outside the caller's scope.

use komlang_core::training::Hours;
use komlang_core::*;
use komlang_store::{Programme, TrainingEvent};

use serde::{Deserialize, Serialize};

use crate::common::form_box::{decimal, num, Fb, FormMap};
use crate::common::names::pick;
use crate::common::{Ctx, I18n, PageError};
use crate::AppState;

/// The hours by type as typed in a form (kept as typed, to show again with their problems).
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub(super) struct HoursForm {
    #[serde(rename = "hours.teaching")]
    pub teaching: String,
    #[serde(rename = "hours.lab")]
    pub lab: String,
    #[serde(rename = "hours.field")]
    pub field: String,
}

/// Hours by type of a form: none when all three are empty.
pub(super) fn hours_of(form: &HoursForm, errs: &mut ValidationErrors) -> Option<Hours> {
    if [&form.teaching, &form.lab, &form.field].iter().all(|v| v.non_blank().is_none()) {
        return None;
    }
    Some(Hours {
        teaching: decimal("hours.teaching", &form.teaching, errs),
        lab: decimal("hours.lab", &form.lab, errs),
        field: decimal("hours.field", &form.field, errs),
    })
}

pub(super) fn hours_values(values: &mut FormMap, h: &Hours) {
    values.insert("hours.teaching".into(), num(h.teaching));
    values.insert("hours.lab".into(), num(h.lab));
    values.insert("hours.field".into(), num(h.field));
}

pub(super) fn programme_title(i: &I18n, p: &Programme) -> String {
    if p.title_km.is_empty() {
        p.title_en.clone()
    } else {
        pick(i, &p.title_en, &p.title_km)
    }
}

pub(super) fn course_title(i: &I18n, e: &TrainingEvent) -> String {
    if e.course_title_km.is_empty() {
        e.course_title_en.clone()
    } else {
        pick(i, &e.course_title_en, &e.course_title_km)
    }
}

/// 404 unless the caller sees the worker.
pub(super) async fn visible_worker(app: &AppState, ctx: &Ctx, p: &Principal, id: i64) -> Result<(), PageError> {
    match app.store.get_worker(p, id).await? {
        Some(_) => Ok(()),
        None => Err(ctx.not_found()),
    }
}

/// The hours by type of a form (teaching, lab or workshop, field work).
pub(super) fn hours_fields(b: &mut Fb<'_>) {
    b.add("hours.teaching", "training.hours_teaching", "number", false);
    b.add("hours.lab", "training.hours_lab", "number", false);
    b.add("hours.field", "training.hours_field", "number", false);
}
