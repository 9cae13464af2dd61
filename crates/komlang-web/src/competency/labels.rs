//! What the competency pages share: ratings and groups as labels, the framework a page shows,
//! its versions as choices.

use komlang_core::competency::{CompetencyGroup, Framework, Rating};
use komlang_store::{FrameworkVersion, WorkerBrief};
use serde::Deserialize;

use crate::common::{store_err, Choice, Ctx, I18n, PageError};
use crate::AppState;

/// "3 · Competent".
pub fn rating_label(i: &I18n, r: Rating) -> String {
    format!("{} · {}", r.value(), i.label(r))
}

pub(super) fn opt_rating(i: &I18n, r: Option<Rating>) -> String {
    r.map(|r| rating_label(i, r)).unwrap_or_default()
}

/// CSS class of a rating cell.
pub(super) fn rating_class(r: Option<Rating>) -> String {
    r.map(|r| format!("rating-{}", r.value())).unwrap_or_default()
}

pub(super) fn group_label(i: &I18n, group: &str) -> String {
    CompetencyGroup::parse(group).map(|g| i.label(g)).unwrap_or_default()
}

pub(super) fn worker_title(w: &WorkerBrief) -> String {
    format!("{} · {}", w.name_km, w.name_latin)
}

/// The framework named by `version` (or the current one), 404 when there is no such version.
pub(super) async fn framework_of(app: &AppState, ctx: &Ctx, version: Option<&str>) -> Result<Framework, PageError> {
    app.store.framework_or_current(version).await.map_err(|e| store_err(ctx, e))?.ok_or_else(|| ctx.not_found())
}

pub(super) fn version_choices(versions: &[FrameworkVersion], current: &str, i: &I18n) -> Vec<Choice> {
    versions
        .iter()
        .map(|v| Choice {
            value: v.version.clone(),
            label: if v.current {
                format!("{} ({})", v.version, i.t("competency.current_version"))
            } else {
                v.version.clone()
            },
            selected: v.version == current,
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
pub struct VersionParam {
    #[serde(default)]
    pub version: String,
}
