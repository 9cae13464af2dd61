//! A small builder for dynamic SQL with `$n` placeholders, which both engines
//! accept, so filters compose without string-pasting values.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

#[derive(Debug, Clone)]
pub(crate) enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Sql {
    pub fn new(text: &str) -> Self {
        Sql { text: text.to_string(), args: Vec::new() }
    }

    pub fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder bound to `v`.
    pub fn text(&mut self, v: impl Into<String>) -> &mut Self {
        self.args.push(Arg::Text(Some(v.into())));
        let n = self.args.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    pub fn int(&mut self, v: i64) -> &mut Self {
        self.args.push(Arg::Int(Some(v)));
        let n = self.args.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    pub fn opt_text(&mut self, v: Option<String>) -> &mut Self {
        self.args.push(Arg::Text(v));
        let n = self.args.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    pub fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut q = sqlx::query(&self.text);
        for a in &self.args {
            q = match a {
                Arg::Text(v) => q.bind(v.clone()),
                Arg::Int(v) => q.bind(*v),
            };
        }
        q
    }
}

/// Escapes `%`, `_` and `\` for a LIKE pattern (used with `ESCAPE '\'`).
pub(crate) fn like_pattern(q: &str) -> String {
    let mut s = String::from("%");
    for c in q.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}
