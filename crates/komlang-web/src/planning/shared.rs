//! What the planning pages and the API share: texts of errors, norms and reasons in the
//! interface language, levels and norms as choices, the current year.

use chrono::Datelike;
use komlang_core::planning::{NormRule, Reason, WorkerFilter, PLAN_LEVELS};
use komlang_core::{AdminLevel, AdminUnit, FieldError};
use komlang_store::planning::NormRecord;
use komlang_store::StoreError;

use crate::common::{today, Ctx, I18n, Locale, PageError};

/// A planning error in the caller's language: `planning.error.<code>` for
/// the codes of planning, the common `error.<code>` otherwise; the row of a
/// file or list first when there is one.
pub fn error_text(i: &I18n, e: &FieldError) -> String {
    let key = format!("planning.error.{}", e.code);
    let text = if i.has(&key) {
        let params: Vec<(&str, String)> = e.params.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        i.tp(&key, &params)
    } else {
        i.field_error(e)
    };
    match e.params.get("row") {
        Some(row) => i.tp("planning.row_error", &[("row", row.clone()), ("field", e.field.clone()), ("message", text)]),
        None => text,
    }
}

/// A plan level from its code (provinces, districts and communes only).
pub fn plan_level(s: &str) -> Option<AdminLevel> {
    AdminLevel::parse(s).filter(|l| PLAN_LEVELS.contains(l))
}

/// The current year (the default year of population figures and plans).
pub fn this_year() -> i32 {
    today().year()
}

/// The level shown by default: the one below the caller's area.
pub fn default_level(area: Option<&AdminUnit>) -> AdminLevel {
    match area.map(|u| u.level) {
        Some(AdminLevel::Province) => AdminLevel::District,
        Some(AdminLevel::District) | Some(AdminLevel::Commune) | Some(AdminLevel::Village) => AdminLevel::Commune,
        _ => AdminLevel::Province,
    }
}

pub(super) fn store_error(ctx: &Ctx, e: StoreError) -> PageError {
    match e {
        StoreError::NotFound => ctx.not_found(),
        StoreError::Forbidden => ctx.forbidden(),
        other => other.into(),
    }
}

pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub(super) fn level_choices(i: &I18n, area: Option<&AdminUnit>, current: AdminLevel) -> Vec<Choice> {
    let depth = |l: AdminLevel| AdminLevel::ALL.iter().position(|x| *x == l).unwrap_or(0);
    PLAN_LEVELS
        .iter()
        .filter(|l| area.is_none_or(|u| depth(**l) >= depth(u.level)))
        .map(|l| Choice { value: l.code().into(), label: i.label(*l), selected: *l == current })
        .collect()
}

pub(super) fn norm_choices(i: &I18n, norms: &[NormRecord], current: &str) -> Vec<Choice> {
    norms
        .iter()
        .map(|n| Choice { value: n.name.clone(), label: norm_title(i, n), selected: n.name == current })
        .collect()
}

pub(super) fn unit_name(i: &I18n, km: &str, en: &str) -> String {
    match i.locale {
        Locale::Km if !km.is_empty() => km.to_string(),
        _ => en.to_string(),
    }
}

/// The reason of a planned post in the caller's language.
pub fn reason_text(i: &I18n, r: &Reason) -> String {
    let mut parts = vec![i.tp(
        "planning.reason",
        &[
            ("gap", r.gap.to_string()),
            ("required", r.required.to_string()),
            ("rank", r.rank.to_string()),
            ("of", r.of.to_string()),
        ],
    )];
    if let Some(n) = r.children {
        parts.push(i.tp("planning.reason_children", &[("n", n.to_string())]));
    }
    if let Some(n) = r.caseload {
        parts.push(i.tp("planning.reason_caseload", &[("n", format!("{n:.1}"))]));
    }
    for (k, v) in &r.indicators {
        parts.push(i.tp("planning.reason_indicator", &[("name", k.clone()), ("value", v.to_string())]));
    }
    parts.join("; ")
}

/// A norm's title in the caller's language.
pub fn norm_title(i: &I18n, n: &NormRecord) -> String {
    unit_name(i, &n.title_km, &n.title_en)
}

/// A rule in words.
pub fn rule_text(i: &I18n, r: &NormRule) -> String {
    let counts = filter_text(i, r.counts());
    let level = i.label(r.level());
    match r {
        NormRule::PerUnit { posts, .. } => {
            i.tp("planning.rule_per_unit", &[("posts", posts.to_string()), ("level", level), ("counts", counts)])
        }
        NormRule::Ratio { workers, per, children, .. } => {
            let key = if *children { "planning.rule_ratio_children" } else { "planning.rule_ratio_population" };
            i.tp(
                key,
                &[("workers", workers.to_string()), ("per", per.to_string()), ("level", level), ("counts", counts)],
            )
        }
    }
}

fn filter_text(i: &I18n, f: &WorkerFilter) -> String {
    let mut parts = Vec::new();
    parts.extend(f.sectors.iter().map(|v| i.label(*v)));
    parts.extend(f.cadres.iter().map(|v| i.label(*v)));
    parts.extend(f.roles.iter().map(|v| i.label(*v)));
    if parts.is_empty() {
        i.t("planning.any_worker")
    } else {
        parts.join(", ")
    }
}

pub(super) fn field_label(i: &I18n, field: &str) -> String {
    let key = format!("planning.field.{field}");
    if i.has(&key) {
        i.t(&key)
    } else {
        field.to_string()
    }
}
