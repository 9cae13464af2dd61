//! Search keys: the one form in which a worker's names and phone are indexed and in which a
//! query is looked up, so that "SOK", "sok" and "Sók" find the same people.
//!
//! [`search_key`] gives the key of a text (a name, or what someone typed in the search box):
//! - the [invisible](crate::text::is_invisible) characters (zero-width, bidirectional
//!   controls) and every other control character are dropped;
//! - letters are case-folded (lower case);
//! - accents are removed from Latin letters (`é` → `e`, `Ư` → `u`), and only from them:
//!   Khmer vowel signs, the coeng (U+17D2) and every other mark after a non-Latin letter
//!   are part of the spelling and are kept;
//! - Khmer digits ០–៩ become 0–9;
//! - white space is collapsed to one space and trimmed;
//! - the result is composed (NFC).
//!
//! A worker's key ([`worker_search_key`]) is the key of their Latin name, their Khmer name
//! and their phone, joined by [`SEARCH_FIELD_SEPARATOR`], a control character no query key
//! can contain: a query never matches across two fields.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::text::is_invisible;

/// Between the fields of a worker's search key. A control character: [`search_key`] drops
/// every control character, so no query key holds it.
pub const SEARCH_FIELD_SEPARATOR: char = '\u{1}';

/// Bump when [`search_key`] or [`worker_search_key`] changes: the store then recomputes
/// every stored key when it starts.
pub const SEARCH_KEY_VERSION: &str = "1";

/// Latin letters (the scripts whose accents a search ignores): Basic Latin, Latin-1
/// Supplement, Latin Extended-A/B and Additional, IPA extensions, and the fullwidth forms.
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c,
            '\u{00C0}'..='\u{024F}'
            | '\u{0250}'..='\u{02AF}'
            | '\u{1E00}'..='\u{1EFF}'
            | '\u{2C60}'..='\u{2C7F}'
            | '\u{A720}'..='\u{A7FF}'
            | '\u{AB30}'..='\u{AB6F}'
            | '\u{FF21}'..='\u{FF3A}'
            | '\u{FF41}'..='\u{FF5A}')
            && c.is_alphabetic()
}

/// The search key of `s` (see the module documentation).
pub fn search_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    // The last letter kept was Latin: the marks that follow it are its accents.
    let mut after_latin = false;
    let mut space = false;
    for c in s.nfd() {
        if is_invisible(c) || c == '\u{10FFFF}' {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            after_latin = false;
            continue;
        }
        if c.is_control() {
            continue;
        }
        if is_combining_mark(c) {
            if !after_latin {
                if space {
                    out.push(' ');
                    space = false;
                }
                out.push(c);
            }
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        after_latin = is_latin_letter(c);
        match c {
            '\u{17E0}'..='\u{17E9}' => out.push(char::from(b'0' + (c as u32 - 0x17E0) as u8)),
            _ => {
                for l in c.to_lowercase() {
                    // A lower case that decomposes (İ → i + dot above) loses its mark too.
                    if !(after_latin && is_combining_mark(l)) {
                        out.push(l);
                    }
                }
            }
        }
    }
    out.nfc().collect()
}

/// The search key of a worker: their Latin name, Khmer name and phone, each as
/// [`search_key`] gives it, joined by [`SEARCH_FIELD_SEPARATOR`]. It starts with the Latin
/// name's key, so that ordering by it orders by the Latin name.
pub fn worker_search_key(name_latin: &str, name_km: &str, phone: Option<&str>) -> String {
    let mut k = search_key(name_latin);
    k.push(SEARCH_FIELD_SEPARATOR);
    k.push_str(&search_key(name_km));
    k.push(SEARCH_FIELD_SEPARATOR);
    k.push_str(&search_key(phone.unwrap_or("")));
    k
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn case_and_latin_accents_fold() {
        assert_eq!(search_key("SOK Dara"), "sok dara");
        assert_eq!(search_key("Sók Đara"), "sok đara", "đ is a letter of its own, not d with a mark");
        assert_eq!(search_key("Ame\u{0301}lie"), "amelie", "decomposed accent");
        assert_eq!(search_key("Amélie"), "amelie", "composed accent");
        assert_eq!(search_key("NGUYỄN Thị"), "nguyen thi", "stacked Vietnamese marks");
        assert_eq!(search_key("İpek"), "ipek", "a lower case that adds a mark");
    }

    #[test]
    fn khmer_marks_and_coeng_are_kept() {
        // ស្រីមុំ: coeng (U+17D2), vowel signs and nikahit are combining marks after Khmer letters.
        assert_eq!(search_key("ស្រីមុំ"), "ស្រីមុំ");
        assert_eq!(search_key("សុខា"), "សុខា");
        assert!(search_key("ក្រ").contains('\u{17D2}'));
        // A mark goes only after a Latin letter; after a space it stays.
        assert_eq!(search_key("a\u{0301} ស\u{17BB}"), "a ស\u{17BB}");
        assert_eq!(search_key("a \u{0301}"), "a \u{0301}");
    }

    #[test]
    fn invisible_characters_digits_and_spaces() {
        assert_eq!(search_key("ចាន់\u{200B}សុភា"), "ចាន់សុភា");
        assert_eq!(search_key("\u{202E}Sok\u{202C}  \t Dara\u{2066} "), "sok dara");
        assert_eq!(search_key("០១២ ៣៤៥ ៦៧៨៩"), "012 345 6789");
        assert_eq!(search_key("a\u{1}b\u{7}c"), "abc", "control characters go");
        assert_eq!(search_key("  \u{200B} "), "");
        assert_eq!(search_key("50%_a\\b"), "50%_a\\b", "LIKE metacharacters are text");
    }

    #[test]
    fn worker_keys_join_fields() {
        let k = worker_search_key("Sok Dara", "សុខ ដារា", Some("012 345"));
        assert_eq!(k, "sok dara\u{1}សុខ ដារា\u{1}012 345");
        assert_eq!(worker_search_key("A", "ក", None), "a\u{1}ក\u{1}");
    }

    proptest! {
        #[test]
        fn keys_are_stable_and_hold_no_separator(s in "\\PC{0,24}") {
            let k = search_key(&s);
            prop_assert_eq!(&search_key(&k), &k, "a key is its own key");
            prop_assert!(!k.contains(SEARCH_FIELD_SEPARATOR));
            prop_assert!(!k.starts_with(' ') && !k.ends_with(' ') && !k.contains("  "));
        }

        #[test]
        fn case_does_not_matter(s in "[a-zA-Zក-ឳ០-៩ ]{0,16}") {
            prop_assert_eq!(search_key(&s.to_uppercase()), search_key(&s.to_lowercase()));
        }

        #[test]
        fn a_substring_of_a_key_is_found_in_it(a in "[a-zA-Zéèà០-៩ក-ឳ ]{0,10}", b in "[a-zA-Zéèà០-៩ក-ឳ ]{1,10}", c in "[a-zA-Z ]{0,10}") {
            // What a user copies out of a name finds that name.
            let whole = format!("{a}{b}{c}");
            let q = search_key(&b);
            prop_assume!(!q.is_empty());
            prop_assert!(search_key(&whole).contains(&q), "{:?} in {:?}", q, search_key(&whole));
        }
    }
}
