//! docs/access.md carries the rules table of `komlang_core::access::RULES`, word for word.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

#[test]
fn docs_access_md_carries_the_rules_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/access.md");
    let doc = std::fs::read_to_string(path).expect("read docs/access.md");
    let begin = "<!-- rules:begin (generated from komlang-core/src/access.rs; `cargo test -p komlang-core --test access_doc` checks it) -->\n";
    let end = "<!-- rules:end -->";
    let table = komlang_core::access::rules_markdown();
    let (Some(b), Some(e)) = (doc.find(begin), doc.find(end)) else {
        panic!("docs/access.md lacks the rules markers; put this between them:\n{begin}{table}{end}");
    };
    let written = &doc[b + begin.len()..e];
    assert_eq!(written, table, "docs/access.md's rules table differs from RULES; replace it with:\n{table}");
}
