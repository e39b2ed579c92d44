//! No module of a crate imports another that imports it back (directly or
//! round a longer circle). A circle makes modules one unit in disguise:
//! none can be read, tested or moved without the others. The check reads
//! every crate's sources, each file a module (`a/b.rs` is `a::b`), and
//! follows `crate::`, `super::` and `self::` paths and a module's own `use
//! child::...` outside comments and `#[cfg(test)]` blocks; a path names the
//! deepest module it reaches (`crate::lifecycle::records::Closure` names
//! `lifecycle::records`, `crate::lifecycle::Move` names `lifecycle`, which
//! in turn names the child it re-exports from).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path ("lifecycle::records") -> the modules it names.
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

/// The source without its `#[cfg(test)]` items (tests may reach anywhere)
/// and without comments.
fn code_of(src: &str) -> String {
    let mut out = Vec::new();
    let mut skipping = false;
    let mut depth = 0i32;
    for line in src.lines() {
        let l = match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        };
        if !skipping && l.trim() == "#[cfg(test)]" {
            // The item that follows: `mod tests;` or a braced block.
            skipping = true;
            depth = 0;
            continue;
        }
        if skipping {
            depth += l.matches('{').count() as i32 - l.matches('}').count() as i32;
            if depth <= 0 && (l.contains('}') || l.trim_end().ends_with(';')) {
                skipping = false;
            }
            continue;
        }
        out.push(l);
    }
    out.join("\n")
}

/// The paths written after `prefix` in `code`, split into their names
/// (`crate::a::b::C` gives ["a", "b", "C"]; `crate::a::{b::C, d}` gives
/// ["a", "b", "C"] and ["a", "d"]).
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices(prefix) {
        // `concord_crate::` is not `crate::`, nor `super_x::` `super::`.
        if i > 0 {
            let b = code.as_bytes()[i - 1];
            if b.is_ascii_alphanumeric() || b == b'_' || b == b':' {
                continue;
            }
        }
        use_tree(&code[i + prefix.len()..], Vec::new(), &mut out);
    }
    out.retain(|p| !p.is_empty());
    out
}

/// Reads one path or braced group of paths at the start of `rest`.
fn use_tree(rest: &str, mut path: Vec<String>, out: &mut Vec<Vec<String>>) {
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(rest.len());
    path.extend(
        rest[..end]
            .split("::")
            .filter(|p| !p.is_empty())
            .map(str::to_string),
    );
    let after = &rest[end..];
    if rest[..end].ends_with("::") && after.starts_with('{') {
        let mut depth = 0;
        let mut start = 1;
        for (k, c) in after.char_indices() {
            match c {
                '{' => depth += 1,
                '}' | ',' if depth == 1 => {
                    use_tree(after[start..k].trim_start(), path.clone(), out);
                    start = k + 1;
                    if c == '}' {
                        return;
                    }
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
    } else {
        out.push(path);
    }
}

/// The deepest module of `modules` that `base` followed by `path` reaches.
fn resolve(modules: &BTreeSet<String>, base: &[String], path: &[String]) -> Option<String> {
    let mut best = None;
    let mut cur: Vec<String> = base.to_vec();
    for name in path {
        cur.push(name.clone());
        let joined = cur.join("::");
        if modules.contains(&joined) {
            best = Some(joined);
        } else {
            break;
        }
    }
    best
}

fn graph_of(src_dir: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src_dir, &mut files);
    let mut sources = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src_dir).expect("under the folder");
        let mut parts: Vec<String> = rel
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if parts.last().is_some_and(|p| p == "mod") {
            parts.pop();
        }
        if parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main") {
            continue;
        }
        if parts.last().is_some_and(|p| p == "tests") {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&file).expect("readable source"));
        sources.insert(parts, code);
    }
    let modules: BTreeSet<String> = sources.keys().map(|p| p.join("::")).collect();
    let mut graph = Graph::new();
    for (me, code) in &sources {
        let name = me.join("::");
        let parent = &me[..me.len() - 1];
        let mut named = BTreeSet::new();
        for p in paths_after(code, "crate::") {
            named.extend(resolve(&modules, &[], &p));
        }
        for p in paths_after(code, "super::") {
            // `super::super::x` climbs twice.
            let ups = p.iter().take_while(|n| *n == "super").count();
            let base = &parent[..parent.len().saturating_sub(ups)];
            named.extend(resolve(&modules, base, &p[ups..]));
        }
        for p in paths_after(code, "self::") {
            named.extend(resolve(&modules, me, &p));
        }
        // A module's own `use child::...` (re-exports from its children).
        for p in paths_after(code, "use ") {
            named.extend(resolve(&modules, me, &p));
        }
        named.remove(&name);
        graph.insert(name, named);
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
        "use crate::x::Y; // crate::z\nlet a = concord_crate::q;\n#[cfg(test)]\nmod tests {\nuse crate::w;\n}\nuse crate::v;",
    );
    assert_eq!(paths_after(&code, "crate::"), [vec!["x", "Y"], vec!["v"]]);
    assert_eq!(
        paths_after("use crate::a::{b::C, d::{E, F}, G};", "crate::"),
        [
            vec!["a", "b", "C"],
            vec!["a", "d", "E"],
            vec!["a", "d", "F"],
            vec!["a", "G"]
        ]
    );
    let modules: BTreeSet<String> = ["a", "a::b"].iter().map(|s| s.to_string()).collect();
    let path = |s: &str| s.split("::").map(str::to_string).collect::<Vec<_>>();
    assert_eq!(
        resolve(&modules, &[], &path("a::b::C")).as_deref(),
        Some("a::b")
    );
    assert_eq!(resolve(&modules, &[], &path("a::C")).as_deref(), Some("a"));
    assert_eq!(resolve(&modules, &[], &path("z::C")), None);
}
