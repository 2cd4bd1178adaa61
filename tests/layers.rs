//! The floors of docs/architecture.md held against the imports of `src/`: a room (a folder
//! or a top-level file of `src/`) imports only rooms on its own floor or below, and nothing
//! imports in a circle, between rooms or between the files of one room. Test modules at
//! the end of a file (`#[cfg(test)] mod tests`) are left out: they may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Room → floor, from the `## Floors` table.
fn floors() -> BTreeMap<String, u32> {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).expect("architecture");
    let section = doc
        .split("\n## Floors")
        .nth(1)
        .expect("docs/architecture.md has a `## Floors` section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut floors = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(Ok(floor)) = cells.get(1).map(|c| c.parse::<u32>()) else {
            continue;
        };
        for room in cells[2].split('`').skip(1).step_by(2) {
            let name = room.trim_end_matches('/').trim_end_matches(".rs");
            floors.insert(name.to_string(), floor);
        }
    }
    assert!(floors.len() > 5, "no floors read from docs/architecture.md");
    floors
}

/// Every `.rs` file under `src/`, as a module path: `slack::app`, `handler`, `http` (mod.rs).
fn modules() -> BTreeMap<String, PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable directory") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root().join("src"), &mut files);
    files
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(root().join("src")).expect("under src");
            let mut parts: Vec<String> = rel
                .with_extension("")
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            (parts.join("::"), path)
        })
        .collect()
}

/// The code of a file without its test module.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("source");
    match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The module paths a file names: `crate::a::b`, `super::x` (resolved), and in main.rs
/// the library's `alarm_to_slack::…`, with `{…}` groups opened one level deep.
fn imports(module: &str, is_mod_rs: bool, code: &str) -> Vec<String> {
    // `super` of `slack::app` is `slack`; of `slack` (its mod.rs) the crate root.
    let mut parent: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
    if !is_mod_rs || parent.len() > 1 {
        parent.pop();
    } else {
        parent.clear();
    }
    let parent = parent.join("::");
    let mut found = Vec::new();
    for (prefix, base) in [
        ("crate::", String::new()),
        ("alarm_to_slack::", String::new()),
        ("super::", parent),
    ] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().last();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            for path in paths(rest) {
                let full = if base.is_empty() {
                    path
                } else {
                    format!("{base}::{path}")
                };
                found.push(full);
            }
        }
    }
    found
}

/// The paths at the start of `text`: `a::b::C` → [`a::b::C`]; `a::{b, c::D}` → both.
fn paths(text: &str) -> Vec<String> {
    let head: String = text
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
        .collect();
    let head = head.trim_end_matches(':').to_string();
    let after = &text[head.len()..];
    let after = after.trim_start_matches(':');
    if !after.starts_with('{') {
        return vec![head];
    }
    let mut depth = 0;
    let mut inner = String::new();
    for c in after.chars().skip(1) {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            _ => {}
        }
        inner.push(c);
    }
    let mut out = Vec::new();
    let mut item = String::new();
    let mut depth = 0;
    for c in inner.chars().chain([',']) {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let name = name.trim_end_matches(':');
                match name {
                    "" => {}
                    "self" => out.push(head.clone()),
                    name if head.is_empty() => out.push(name.to_string()),
                    name => out.push(format!("{head}::{name}")),
                }
                item.clear();
                continue;
            }
            _ => {}
        }
        item.push(c);
    }
    out
}

/// The longest module that a path names: `slack::app::App` → `slack::app`.
fn resolve<'m>(path: &str, modules: &'m BTreeMap<String, PathBuf>) -> Option<&'m str> {
    let parts: Vec<&str> = path.split("::").collect();
    (1..=parts.len())
        .rev()
        .map(|n| parts[..n].join("::"))
        .find_map(|m| modules.get_key_value(&m).map(|(k, _)| k.as_str()))
}

fn room(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

/// The module graph of `src/`: file → files it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules();
    let mut graph = BTreeMap::new();
    for (module, path) in &modules {
        let is_mod_rs = path.file_name().is_some_and(|f| f == "mod.rs");
        let edges: BTreeSet<String> = imports(module, is_mod_rs, &code(path))
            .iter()
            .filter_map(|p| resolve(p, &modules))
            .filter(|m| m != module)
            .map(str::to_string)
            .collect();
        graph.insert(module.clone(), edges);
    }
    graph
}

/// A circle in `graph`, as the modules along it, if there is one.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let from = stack.iter().position(|n| n == next).unwrap_or(0);
                    let mut found = stack[from..].to_vec();
                    found.push(next.clone());
                    return Some(found);
                }
                Some(_) => {}
                None => {
                    if let Some(found) = visit(next, graph, state, stack) {
                        return Some(found);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node) {
            if let Some(found) = visit(node, graph, &mut state, &mut Vec::new()) {
                return Some(found);
            }
        }
    }
    None
}

#[test]
fn every_room_is_on_a_floor() {
    let floors = floors();
    let rooms: BTreeSet<String> = modules().keys().map(|m| room(m).to_string()).collect();
    let missing: Vec<&String> = rooms
        .iter()
        .filter(|r| !r.is_empty() && !floors.contains_key(*r))
        .collect();
    let gone: Vec<&String> = floors.keys().filter(|r| !rooms.contains(*r)).collect();
    assert!(
        missing.is_empty() && gone.is_empty(),
        "docs/architecture.md's floors and src/ differ:\n  on no floor: {missing:?}\n  not in src/: {gone:?}"
    );
}

#[test]
fn no_room_imports_a_floor_above_its_own() {
    let floors = floors();
    let mut upward = Vec::new();
    for (module, edges) in graph() {
        let from = floors.get(room(&module)).copied().unwrap_or(u32::MAX);
        for to in edges {
            let to_floor = floors.get(room(&to)).copied().unwrap_or(u32::MAX);
            if to_floor > from {
                upward.push(format!(
                    "{module} (floor {from}) imports {to} (floor {to_floor})"
                ));
            }
        }
    }
    assert!(
        upward.is_empty(),
        "upward imports:\n  {}",
        upward.join("\n  ")
    );
}

#[test]
fn no_imports_run_in_a_circle() {
    let files = graph();
    assert_eq!(circle(&files), None, "a circle between files");
    let mut rooms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, edges) in &files {
        let entry = rooms.entry(room(module).to_string()).or_default();
        entry.extend(
            edges
                .iter()
                .map(|e| room(e).to_string())
                .filter(|r| r != room(module)),
        );
    }
    assert_eq!(circle(&rooms), None, "a circle between rooms");
}

/// The checks themselves: an upward import and a circle are seen.
#[test]
fn the_checks_see_what_they_look_for() {
    let modules: BTreeMap<String, PathBuf> = ["alarm", "alarm::event", "slack", "slack::app"]
        .iter()
        .map(|m| (m.to_string(), PathBuf::new()))
        .collect();
    let found = imports(
        "alarm::event",
        false,
        "use crate::slack::{app::App, self};\nuse super::Alarm;\nlet x = crate::error::Error;",
    );
    assert_eq!(
        found,
        ["slack::app::App", "slack", "error::Error", "alarm::Alarm"]
    );
    assert_eq!(resolve("slack::app::App", &modules), Some("slack::app"));
    assert_eq!(resolve("alarm::Alarm", &modules), Some("alarm"));
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.insert("a".into(), ["b".into()].into());
    graph.insert("b".into(), ["c".into()].into());
    graph.insert("c".into(), ["a".into()].into());
    assert_eq!(
        circle(&graph),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    graph.insert("c".into(), BTreeSet::new());
    assert_eq!(circle(&graph), None);
}
