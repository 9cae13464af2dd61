//! Names in the interface language: of places, of organizations, of anything kept in
//! English and Khmer; and the provinces a caller may pick from.

use komlang_core::{Organization, Principal, Scope};

use super::errors::PageError;
use super::forms::Choice;
use super::i18n::{I18n, Locale};
use crate::AppState;

/// The text of the interface language.
pub fn pick(i: &I18n, en: &str, km: &str) -> String {
    match i.locale {
        Locale::Km => km.to_string(),
        Locale::En => en.to_string(),
    }
}

/// The text of the interface language, or the English one where there is no Khmer text.
pub fn pick_or_en(i: &I18n, en: &str, km: &str) -> String {
    if km.is_empty() {
        en.to_string()
    } else {
        pick(i, en, km)
    }
}

/// An admin unit's name in the interface language.
pub fn unit_name(i: &I18n, km: &str, en: &str) -> String {
    pick(i, en, km)
}

/// An organization's name: the Khmer one in Khmer when it has one, else the English one.
pub fn org_display(i: &I18n, o: &Organization) -> String {
    match (i.locale, &o.name_km) {
        (Locale::Km, Some(km)) => km.clone(),
        _ => o.name_en.clone(),
    }
}

/// The provinces a filter may choose: all of them for national accounts, else the caller's own.
pub async fn province_choices(
    app: &AppState,
    i: &I18n,
    p: &Principal,
    current: &str,
) -> Result<Vec<Choice>, PageError> {
    let country = app.store.country().await?;
    let Some(country) = country else { return Ok(Vec::new()) };
    let provinces = app.store.admin_children(&country.code).await?;
    let own_province = match &p.scope {
        Scope::Nation => None,
        Scope::Unit { code, .. } => app.store.admin_unit(code).await?.and_then(|u| u.province_code),
    };
    Ok(provinces
        .into_iter()
        .filter(|u| p.scope == Scope::Nation || own_province.as_deref() == Some(u.code.as_str()))
        .map(|u| Choice { selected: u.code == current, label: unit_name(i, &u.name_km, &u.name_en), value: u.code })
        .collect())
}
