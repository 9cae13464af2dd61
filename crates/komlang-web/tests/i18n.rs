//! The translation files themselves: both languages name the same keys, every key with a
//! text, and the lookups the pages use find each key in that language's own file.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeMap;

use komlang_web::common::i18n::{I18n, Locale};

/// The keys of a `locales/*.yml` file (`section.key`, `section.sub.key`) with their texts,
/// read line by line: the files hold nested sections and one-line quoted texts only, and
/// anything else is refused here rather than skipped.
fn keys_of(locale: Locale) -> BTreeMap<String, String> {
    let path = format!("{}/locales/{}.yml", env!("CARGO_MANIFEST_DIR"), locale.code());
    let text = std::fs::read_to_string(&path).unwrap();
    let mut out = BTreeMap::new();
    let mut sections: Vec<(usize, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("{path}:{}", n + 1);
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let (name, value) = line.trim_start().split_once(':').unwrap_or_else(|| panic!("{at}: not `key: value`"));
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_-".contains(c)),
            "{at}: key {name:?}"
        );
        sections.retain(|(i, _)| *i < indent);
        let value = value.trim();
        if value.is_empty() {
            sections.push((indent, name.to_string()));
            continue;
        }
        assert!(value.len() >= 2 && value.starts_with('"') && value.ends_with('"'), "{at}: not a quoted text");
        let key = sections.iter().map(|(_, s)| s.as_str()).chain([name]).collect::<Vec<_>>().join(".");
        let text = value[1..value.len() - 1].replace("\\\"", "\"");
        assert!(out.insert(key.clone(), text).is_none(), "{at}: {key} twice");
    }
    out
}

#[test]
fn both_languages_have_the_same_keys_each_with_a_text() {
    let en = keys_of(Locale::En);
    let km = keys_of(Locale::Km);
    assert!(en.len() > 800, "only {} keys read from en.yml", en.len());
    let only = |a: &BTreeMap<String, String>, b: &BTreeMap<String, String>| {
        a.keys().filter(|k| !b.contains_key(*k)).cloned().collect::<Vec<_>>()
    };
    assert_eq!(only(&en, &km), Vec::<String>::new(), "keys missing from km.yml");
    assert_eq!(only(&km, &en), Vec::<String>::new(), "keys missing from en.yml");
    for (l, keys) in [(Locale::En, &en), (Locale::Km, &km)] {
        let i = I18n::new(l);
        for (k, text) in keys {
            assert!(!text.trim().is_empty(), "{}: {k} is empty", l.code());
            // The lookup sees the file as read here (and the build is not older than the file).
            assert!(i.has(k), "{}: {k} is in the file but not found", l.code());
            assert_eq!(&i.t(k), text, "{}: {k}", l.code());
        }
    }
    // A Khmer text is Khmer: most differ from the English ones.
    let same: Vec<&String> = en.iter().filter(|(k, v)| km[*k] == **v).map(|(k, _)| k).collect();
    assert!(same.len() < 20, "km.yml texts still in English: {same:?}");
}

#[test]
fn only_texts_are_found() {
    let (en, km) = (I18n::new(Locale::En), I18n::new(Locale::Km));
    assert!(en.has("nav.home") && km.has("nav.home"));
    assert!(!en.has("nav.no_such_key") && !km.has("nav.no_such_key"));
    assert!(!en.has("nav") && !km.has("nav"), "a section is not a text");
}
