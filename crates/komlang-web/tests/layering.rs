//! The web crate's layering, checked rather than hoped: `src/common/` uses no feature module;
//! a feature (`src/<feature>/`) uses `common` and never another feature; within a folder the
//! files use each other without circles; and each feature's templates live in
//! `templates/<feature>/`, extending or including only its own and `templates/common/`.
//! Only the top level (`lib.rs`, `openapi.rs`) brings the features together.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` (in sub-folders too) ending with `.{ext}`, sorted.
fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let path = e.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|x| x == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The feature folders of `src/` (every folder but `common`).
fn features() -> BTreeSet<String> {
    std::fs::read_dir(root().join("src"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n != "common")
        .collect()
}

/// Source without comments (so that prose may name anything).
fn code_of(src: &str) -> String {
    src.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The first path segments after `prefix` (`crate::workers::x` → `workers`; a group
/// `crate::{workers, common}` → both).
fn segments_after(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in code.match_indices(prefix) {
        // `super::` is part of `super::super::`; count only the outermost prefix match.
        if prefix == "super::" && code[..i].ends_with("super::") {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            for part in inner.split(',') {
                let name: String = part.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// The modules of the crate's top level a source file names (`crate::x`, and `super::x` from a
/// folder's `mod.rs` or `super::super::x` from its other files).
fn top_level_uses(path: &Path, code: &str) -> BTreeSet<String> {
    let mut used = segments_after(code, "crate::");
    let in_folder = path.parent().is_some_and(|p| p != root().join("src"));
    if in_folder {
        if path.file_name().is_some_and(|n| n == "mod.rs") {
            used.extend(segments_after(code, "super::"));
        } else {
            used.extend(segments_after(code, "super::super::"));
        }
    }
    used
}

/// What is wrong with the layering of one source file of `folder` (`common` or a feature).
fn layering_problems(folder: &str, path: &Path, src: &str, features: &BTreeSet<String>) -> Vec<String> {
    let code = code_of(src);
    top_level_uses(path, &code)
        .into_iter()
        .filter(|m| features.contains(m) && m != folder)
        .map(|m| {
            if folder == "common" {
                format!("{}: common uses the feature `{m}` (move what is shared into common)", path.display())
            } else {
                format!(
                    "{}: the feature `{folder}` uses the feature `{m}` (move what they share into common)",
                    path.display()
                )
            }
        })
        .collect()
}

#[test]
fn common_uses_no_feature_and_features_use_no_other_feature() {
    let features = features();
    for f in ["workers", "organizations", "units", "imports", "competency", "planning", "training", "licensing"] {
        assert!(features.contains(f), "no feature folder src/{f}: {features:?}");
    }
    let mut problems = Vec::new();
    for folder in features.iter().map(String::as_str).chain(["common"]) {
        for path in files_under(&root().join("src").join(folder), "rs") {
            let src = std::fs::read_to_string(&path).unwrap();
            problems.extend(layering_problems(folder, &path, &src, &features));
        }
    }
    assert!(problems.is_empty(), "layering broken:\n  {}", problems.join("\n  "));
}

#[test]
fn the_layering_check_sees_a_breach() {
    let features: BTreeSet<String> = ["workers", "training"].into_iter().map(String::from).collect();
    let common = root().join("src/common/x.rs");
    let training = root().join("src/training/x.rs");
    let training_mod = root().join("src/training/mod.rs");
    assert_eq!(layering_problems("common", &common, "use crate::workers::pages;", &features).len(), 1);
    assert_eq!(layering_problems("common", &common, "use crate::{common, workers};", &features).len(), 1);
    assert_eq!(layering_problems("training", &training, "let x = crate::workers::y();", &features).len(), 1);
    assert_eq!(layering_problems("training", &training, "use super::super::workers::y;", &features).len(), 1);
    assert_eq!(layering_problems("training", &training_mod, "use super::workers::y;", &features).len(), 1);
    assert!(
        layering_problems("training", &training, "use super::events::y; use crate::common::x;", &features).is_empty()
    );
    assert!(layering_problems("training", &training, "// see crate::workers", &features).is_empty());
}

/// The graph of the files of one folder: file → the sibling files it uses (`super::<file>`).
fn sibling_graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files: Vec<PathBuf> =
        files_under(dir, "rs").into_iter().filter(|p| p.parent() == Some(dir) && !p.ends_with("mod.rs")).collect();
    let stems: BTreeSet<String> = files.iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    files
        .iter()
        .map(|p| {
            let code = code_of(&std::fs::read_to_string(p).unwrap());
            let uses = segments_after(&code, "super::").into_iter().filter(|s| stems.contains(s)).collect();
            (p.file_stem().unwrap().to_string_lossy().into_owned(), uses)
        })
        .collect()
}

/// A circle of the graph, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut c = path[i..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_files_of_a_folder_use_each_other_without_circles() {
    let mut problems = Vec::new();
    for folder in features().into_iter().chain(["common".to_string()]) {
        if let Some(c) = circle(&sibling_graph(&root().join("src").join(&folder))) {
            problems.push(format!("src/{folder}: {}", c.join(" → ")));
        }
    }
    assert!(problems.is_empty(), "import circles:\n  {}", problems.join("\n  "));
    let looped: BTreeMap<String, BTreeSet<String>> =
        [("a", "b"), ("b", "a")].iter().map(|(x, y)| (x.to_string(), [y.to_string()].into())).collect();
    assert!(circle(&looped).is_some(), "the circle check sees a circle");
}

/// The template folders a text names: `path = "workers/list.html"`, `{% extends "common/base.html" %}`.
fn template_folders(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for marker in ["#[template(path = \"", "{% extends \"", "{% include \""] {
        for (i, _) in text.match_indices(marker) {
            let rest = &text[i + marker.len()..];
            let path = &rest[..rest.find('"').unwrap_or(0)];
            out.insert(path.split_once('/').map(|(f, _)| f.to_string()).unwrap_or_default());
        }
    }
    out
}

#[test]
fn each_feature_keeps_its_templates_in_its_own_folder() {
    let features = features();
    let mut problems = Vec::new();
    let mut check = |owner: &str, path: &Path, text: &str| {
        for folder in template_folders(text) {
            let allowed = folder == owner || folder == "common";
            if !allowed {
                problems.push(format!("{}: names a template of `{folder}`", path.display()));
            }
        }
    };
    for folder in features.iter().map(String::as_str).chain(["common"]) {
        for path in files_under(&root().join("src").join(folder), "rs") {
            check(folder, &path, &code_of(&std::fs::read_to_string(&path).unwrap()));
        }
        let dir = root().join("templates").join(folder);
        if dir.exists() {
            for path in files_under(&dir, "html") {
                check(folder, &path, &std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    for path in std::fs::read_dir(root().join("templates")).unwrap().map(|e| e.unwrap().path()) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !path.is_dir() {
            problems.push(format!("{}: a template outside every feature folder", path.display()));
        } else if name != "common" && !features.contains(&name) {
            problems.push(format!("{}: no feature src/{name}", path.display()));
        }
    }
    assert!(problems.is_empty(), "templates out of place:\n  {}", problems.join("\n  "));
}
