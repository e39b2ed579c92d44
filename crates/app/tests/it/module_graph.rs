//! No module of a crate imports another that imports it back (directly or
//! round a longer circle). A circle makes two modules one unit in disguise:
//! neither can be read, tested or moved without the other. The check reads
//! every crate's sources: `use crate::x`, `crate::x::...` and `super::`
//! paths outside comments and `#[cfg(test)]` modules, each submodule
//! counted as part of its top-level module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level module -> the top-level modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source without its `#[cfg(test)] mod tests { ... }` block (tests
/// may reach anywhere) and without comments.
fn code_of(src: &str) -> String {
    let src = match src.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &src[..i],
        None => src,
    };
    src.lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Identifiers that follow `prefix` (`crate::` or `super::`) in `code`.
fn named_after<'a>(code: &'a str, prefix: &str) -> Vec<&'a str> {
    code.match_indices(prefix)
        .filter(|(i, _)| {
            // `concord_crate::` is not `crate::`.
            *i == 0
                || !code.as_bytes()[i - 1].is_ascii_alphanumeric() && code.as_bytes()[i - 1] != b'_'
        })
        .filter_map(|(i, _)| {
            let rest = &code[i + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
                .unwrap_or(rest.len());
            (end > 0).then(|| &rest[..end])
        })
        .collect()
}

fn graph_of(src_dir: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src_dir, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let rel = file.strip_prefix(src_dir).expect("under the folder");
        let parts: Vec<String> = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let top = parts[0].clone();
        if matches!(top.as_str(), "lib" | "main") || parts.last().is_some_and(|p| p == "tests") {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).expect("readable source"));
        let mut named: BTreeSet<String> = named_after(&code, "crate::")
            .into_iter()
            .map(str::to_string)
            .collect();
        // `super::` from a submodule stays inside its top-level module; from
        // a top-level module's own file it names a sibling.
        let at_top = parts.len() == 1 || (parts.len() == 2 && parts[1] == "mod");
        if at_top {
            named.extend(
                named_after(&code, "super::")
                    .into_iter()
                    .map(str::to_string),
            );
        }
        named.remove(&top);
        graph.entry(top).or_default().extend(named);
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for named in graph.values_mut() {
        named.retain(|m| modules.contains(m));
    }
    graph
}

/// Every circle, as the modules in it (strongly connected parts of more
/// than one module).
fn circles(graph: &Graph) -> Vec<Vec<String>> {
    // Two modules share a circle when each reaches the other.
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            for n in graph.get(&m).into_iter().flatten() {
                if seen.insert(n.clone()) {
                    todo.push(n.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for m in graph.keys() {
        let circle: Vec<String> = graph
            .keys()
            .filter(|n| *n == m || (reached[m].contains(*n) && reached[n].contains(m)))
            .cloned()
            .collect();
        if circle.len() > 1 && !out.contains(&circle) {
            out.push(circle);
        }
    }
    out
}

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn no_crate_has_a_circle_of_modules() {
    let mut found = Vec::new();
    for krate in [
        "domain", "app", "store", "search", "similar", "ingest", "embed", "server", "cli",
    ] {
        let graph = graph_of(&crates_dir().join(krate).join("src"));
        assert!(graph.len() > 1, "{krate}: no modules read");
        for c in circles(&graph) {
            found.push(format!("{krate}: {}", c.join(" <-> ")));
        }
    }
    assert!(
        found.is_empty(),
        "modules importing each other:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_circle() {
    let mut g = Graph::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    g.entry("c".into()).or_default().insert("a".into());
    g.entry("d".into()).or_default().insert("a".into());
    assert_eq!(
        circles(&g),
        vec![vec!["a".to_string(), "b".into(), "c".into()]]
    );
    g.get_mut("c").unwrap().clear();
    assert!(circles(&g).is_empty());
    let code = code_of(
        "use crate::x::Y; // crate::z\nlet a = concord_crate::q;\n#[cfg(test)]\nmod tests {\nuse crate::w;\n}",
    );
    assert_eq!(named_after(&code, "crate::"), ["x"]);
}
