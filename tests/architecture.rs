//! The house's rules, checked on the source (issue 8): no file in `src/` over 600 lines; no import
//! cycle between top-level modules, nor between the submodules of one folder; the core (pure
//! rules) imports nothing of the shell; nothing but `main.rs` imports the command line.
//! (`docs/architecture.md` draws the layers these tests hold.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The pure core: where money is decided. No I/O, no storage, no command line.
const CORE: [&str; 12] = [
    "month",
    "money",
    "codes",
    "idcard",
    "policy",
    "eligibility",
    "ledger",
    "registry",
    "audit",
    "digest",
    "clock",
    "schedule",
];

/// Longest a source file may be.
const MAX_LINES: usize = 600;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Module path of a file below `src/` (`store/error.rs` -> ["store", "error"]); none for the roots.
fn module_of(file: &Path) -> Option<Vec<String>> {
    let rel = file.strip_prefix(src()).ok()?.with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().to_string()).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    (parts != ["lib"] && parts != ["main"]).then_some(parts)
}

/// The code of a source: without its `#[cfg(test)] mod tests` (unit tests may reach anywhere) and
/// without comment lines (a doc link is not an import).
fn code_of(text: &str) -> String {
    let text = text.find("#[cfg(test)]\nmod tests").map_or(text, |i| &text[..i]);
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// `crate::a::b…` paths in a source text, as their first two segments.
fn crate_paths(text: &str) -> Vec<(String, Option<String>)> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let mut segs =
            rest.split("::").map(|s| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>());
        let first = segs.next().unwrap_or_default();
        let second = segs.next().filter(|s| !s.is_empty());
        if !first.is_empty() {
            found.push((first, second));
        }
    }
    found
}

/// Edges between modules: top level (`store` -> `ledger`), and between siblings of one folder
/// (`store::sqlite` -> `store::error`, from `super::error` or `crate::store::error`).
fn edges() -> (BTreeMap<String, BTreeSet<String>>, BTreeSet<String>) {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).map(|m| m.join("::")).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(me) = module_of(file) else { continue };
        let text = std::fs::read_to_string(file).expect("read source");
        let text = code_of(&text);
        for (first, second) in crate_paths(&text) {
            if modules.contains(&first) && first != me[0] {
                graph.entry(me[0].clone()).or_default().insert(first.clone());
            }
            if me.len() >= 2 && first == me[0] {
                if let Some(second) = second {
                    let sibling = format!("{first}::{second}");
                    if modules.contains(&sibling) && sibling != me[..2].join("::") {
                        graph.entry(me[..2].join("::")).or_default().insert(sibling);
                    }
                }
            }
        }
        if me.len() >= 2 {
            for (i, _) in text.match_indices("super::") {
                let name: String = text[i + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                let sibling = format!("{}::{name}", me[..me.len() - 1].join("::"));
                if me.len() == 2 && modules.contains(&sibling) && sibling != me.join("::") {
                    graph.entry(me.join("::")).or_default().insert(sibling);
                }
            }
        }
    }
    (graph, modules)
}

/// A cycle through `from`, if any.
fn cycle_from(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![(from.to_string(), vec![from.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in graph.get(&node).into_iter().flatten() {
            if next == from {
                return Some([path.clone(), vec![from.to_string()]].concat());
            }
            if seen.insert(next.clone()) {
                stack.push((next.clone(), [path.clone(), vec![next.clone()]].concat()));
            }
        }
    }
    None
}

#[test]
fn no_source_file_is_longer_than_600_lines() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).expect("read").lines().count()))
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(f, n)| format!("{} ({n} lines)", f.strip_prefix(src()).unwrap().display()))
        .collect();
    assert!(long.is_empty(), "split these files by what they hold: {long:?}");
}

#[test]
fn no_import_cycle_between_modules() {
    let (graph, _) = edges();
    let cycles: Vec<String> = graph.keys().filter_map(|m| cycle_from(&graph, m)).map(|c| c.join(" -> ")).collect();
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn the_core_imports_nothing_of_the_shell() {
    let (graph, _) = edges();
    let mut wrong = Vec::new();
    for core in CORE {
        for target in graph.get(core).into_iter().flatten() {
            if !CORE.contains(&target.as_str()) {
                wrong.push(format!("{core} -> {target}"));
            }
        }
    }
    assert!(wrong.is_empty(), "the core must stay pure (move the I/O to the shell): {wrong:?}");
}

#[test]
fn only_main_imports_the_command_line() {
    let (graph, _) = edges();
    let importers: Vec<&String> =
        graph.iter().filter(|(m, targets)| *m != "cli" && targets.contains("cli")).map(|(m, _)| m).collect();
    assert!(importers.is_empty(), "these modules import `cli`: {importers:?}");
}

#[test]
fn the_checks_see_the_modules_they_check() {
    // A guard against a check that passes because it reads nothing.
    let (graph, modules) = edges();
    assert!(modules.contains("store::error") && modules.contains("ledger") && modules.contains("batch::plan"));
    assert!(graph.get("batch").is_some_and(|t| t.contains("ledger") && t.contains("store")));
    assert!(graph.get("store").is_some_and(|t| t.contains("ledger")));
}
