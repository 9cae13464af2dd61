//! Where a page may send the browser next (`?next=` after signing in or switching the
//! language): only a path of this site. Anything else — another host (`//evil`, `/\evil`,
//! `/<TAB>/evil`, which browsers read as `//evil`), a scheme (`javascript:`), control
//! characters — goes to `/`.

use url::{Position, Url};

/// The base against which `next` is read; never shown.
const BASE: &str = "http://komlang.invalid/";

/// `next` as a same-site path with its query (percent-encoded as a browser would send
/// it), or `/`.
pub fn local_path(next: Option<&str>) -> String {
    let Some(next) = next else { return "/".into() };
    // Only an absolute path of this site; a browser strips tabs and newlines and reads `\`
    // as `/`, so those are refused before parsing rather than interpreted.
    if !next.starts_with('/') || next.chars().any(|c| c.is_control() || c == '\\') {
        return "/".into();
    }
    let Ok(base) = Url::parse(BASE) else { return "/".into() };
    match base.join(next) {
        // Dot segments are resolved by the join (`/.//host` becomes `//host`): what comes
        // out must itself be a path that no browser reads as another host.
        Ok(u) if u.origin() == base.origin() => {
            let path = &u[Position::BeforePath..Position::AfterQuery];
            if path.starts_with("//") {
                "/".into()
            } else {
                path.to_string()
            }
        }
        _ => "/".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn same_site_paths_are_kept() {
        assert_eq!(local_path(Some("/workers?q=sok&page=2")), "/workers?q=sok&page=2");
        assert_eq!(local_path(Some("/workers/12")), "/workers/12");
        assert_eq!(local_path(Some("/")), "/");
        // Khmer in a query is kept, percent-encoded as the browser sends it.
        assert_eq!(local_path(Some("/workers?q=សុខ")), "/workers?q=%E1%9E%9F%E1%9E%BB%E1%9E%81");
    }

    #[test]
    fn anything_that_leaves_the_site_goes_home() {
        for hostile in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\nSet-Cookie: a=b",
            "\t//evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/%09/evil.example/..",
            "/.//evil.example",
            "/a/..//evil.example",
            "/%2e//evil.example",
            "/./\\evil.example",
        ] {
            let got = local_path(Some(hostile));
            assert!(got == "/" || (got.starts_with('/') && !got.starts_with("//")), "{hostile:?} → {got:?}");
            assert!(!got.contains("evil.example"), "{hostile:?} → {got:?}");
        }
        assert_eq!(local_path(Some("//evil.example")), "/");
        assert_eq!(local_path(Some("/\t/evil.example")), "/");
        assert_eq!(local_path(Some("/.//evil.example")), "/");
        assert_eq!(local_path(Some("/a/..//evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }
}
