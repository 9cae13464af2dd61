//! Blank means none: the one rule for optional text from forms, files, queries and the
//! command line. A value is trimmed; when nothing is left, there is no value.

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

#[cfg(test)]
mod tests {
    use super::NonBlank;

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
