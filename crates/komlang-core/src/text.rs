//! Blank means none: the one rule for optional text from forms, files, queries and the
//! command line. A value is trimmed; when nothing is left, there is no value.
//!
//! Text is also kept in one form: [`clean_text`] composes it (Unicode NFC) and drops the
//! characters that show nothing but change how text compares or reads — zero-width
//! characters (Khmer is often typed with zero-width spaces between words) and the controls
//! that reorder text from right to left. Names must hold at least one letter
//! ([`has_letter`]).

use unicode_normalization::UnicodeNormalization;

/// Invisible characters that carry no meaning in a name or a search: zero-width space,
/// non-joiner and joiner, word joiner, byte-order mark, soft hyphen, Mongolian vowel
/// separator, the left-to-right and right-to-left marks, and every bidirectional embedding,
/// override and isolate control (the "Trojan Source" characters).
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
    )
}

/// `s` composed (NFC), without [invisible](is_invisible) characters, trimmed.
pub fn clean_text(s: &str) -> String {
    let composed: String = s.chars().filter(|c| !is_invisible(*c)).nfc().collect();
    composed.trim().to_string()
}

/// True when `s` holds a letter (of any script) that shows: a name needs one.
pub fn has_letter(s: &str) -> bool {
    s.chars().any(|c| c.is_alphabetic() && !is_invisible(c))
}

/// Text that may be blank.
pub trait NonBlank {
    /// The text without surrounding white space, or `None` when nothing is left.
    fn non_blank(&self) -> Option<&str>;
}

impl NonBlank for str {
    fn non_blank(&self) -> Option<&str> {
        let t = self.trim();
        (!t.is_empty()).then_some(t)
    }
}

impl NonBlank for String {
    fn non_blank(&self) -> Option<&str> {
        self.as_str().non_blank()
    }
}

impl NonBlank for Option<String> {
    fn non_blank(&self) -> Option<&str> {
        self.as_deref().and_then(str::non_blank)
    }
}

impl NonBlank for Option<&str> {
    fn non_blank(&self) -> Option<&str> {
        self.and_then(str::non_blank)
    }
}

impl NonBlank for Option<&String> {
    fn non_blank(&self) -> Option<&str> {
        self.and_then(|s| s.non_blank())
    }
}

/// An optional field of a JSON body where a blank text (white space alone, as [`NonBlank`]) is
/// none, as the API reads blanks: `#[serde(default, deserialize_with = "crate::text::blank_as_none")]`.
pub fn blank_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    use serde::Deserialize;
    match Option::<serde_json::Value>::deserialize(d)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.non_blank().is_none() => Ok(None),
        Some(v) => T::deserialize(v).map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::{clean_text, has_letter, NonBlank};

    #[derive(Debug, serde::Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::blank_as_none")]
        sex: Option<crate::Sex>,
    }

    #[test]
    fn a_blank_optional_field_is_none_and_anything_else_is_read() {
        let read = |j: &str| serde_json::from_str::<Body>(j).map(|b| b.sex);
        assert_eq!(read(r#"{"sex": " \u00a0"}"#).unwrap(), None);
        assert_eq!(read(r#"{"sex": null}"#).unwrap(), None);
        assert_eq!(read("{}").unwrap(), None);
        assert_eq!(read(r#"{"sex": "female"}"#).unwrap(), Some(crate::Sex::Female));
        assert!(read(r#"{"sex": "x"}"#).is_err());
    }

    #[test]
    fn invisible_characters_are_dropped_and_text_composed() {
        assert_eq!(clean_text("ចាន់\u{200B}សុភា"), "ចាន់សុភា");
        assert_eq!(clean_text("\u{202E}Sok\u{202C} Dara\u{2066}"), "Sok Dara");
        assert_eq!(clean_text("\u{FEFF} Chan\u{00AD}tha "), "Chantha");
        // NFC: a decomposed é and the composed one are the same text.
        assert_eq!(clean_text("Ame\u{0301}lie"), "Amélie");
        // Khmer vowel signs and the coeng sign are letters, kept as typed.
        assert_eq!(clean_text("ស្រីមុំ"), "ស្រីមុំ");
        assert_eq!(clean_text("\u{200B}\u{200C}\u{200D}"), "");
    }

    #[test]
    fn a_name_needs_a_letter() {
        assert!(has_letter("ចាន់"));
        assert!(has_letter("Sok"));
        assert!(!has_letter("\u{200B}\u{200B}"));
        assert!(!has_letter("--- 123 ..."));
        assert!(!has_letter(""));
    }

    #[test]
    fn blank_means_none_and_values_are_trimmed() {
        assert_eq!(" a b ".non_blank(), Some("a b"));
        assert_eq!(" \t\n".non_blank(), None);
        assert_eq!("".non_blank(), None);
        assert_eq!(String::from("\u{3000}x").non_blank(), Some("x"), "ideographic space is white space");
        assert_eq!(Some(String::from("  ")).non_blank(), None);
        assert_eq!(None::<String>.non_blank(), None);
        assert_eq!(Some(" ក ").non_blank(), Some("ក"));
    }
}
