//! The README and `docs/` against what they describe, so that none of it drifts unnoticed:
//! the README's size, every relative link (and its `#anchor`), every `errorType` the code can
//! produce, docs/configuration.md's tables against the settings table (`src/settings.rs`) and
//! `bootstrap --help`, every `make` target, every example event and golden file named, the
//! message excerpts quoted from `tests/golden/`, and every size, budget and measurement quoted
//! against `docs/figures.toml` (its first lines say how a page quotes one).
//!
//! The generated parts (docs/configuration.md's tables, the quoted figures) are rewritten by
//! `UPDATE_DOCS=1 cargo test --test docs` (or `make docs`); review the diff.
//!
//! The documents are read as text with a small Markdown reader of our own: fenced code blocks,
//! code spans, links, headings and pipe tables, which is all these pages use.

use alarm_to_slack::settings::{Place, Setting, SETTINGS};
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use testkit::common;

/// GitHub shows a README this size without folding it, and reading it stays short.
const README_MAX_BYTES: usize = 12 * 1024;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// `UPDATE_DOCS=1`: rewrite what is generated instead of failing on it.
fn updating() -> bool {
    std::env::var("UPDATE_DOCS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// README.md and every `docs/*.md`: (path from the repository root, text).
fn documents() -> Vec<(String, String)> {
    let mut paths = vec!["README.md".to_string()];
    let entries = std::fs::read_dir(root().join("docs")).expect("docs/ exists");
    let mut pages: Vec<String> = entries
        .map(|e| e.expect("directory entry").file_name())
        .filter_map(|name| name.to_str().map(str::to_string))
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    assert!(!pages.is_empty(), "docs/ holds no page");
    paths.extend(pages);
    paths.into_iter().map(|p| (p.clone(), read(&p))).collect()
}

/// One line of a document, and whether it is inside a fenced code block.
struct Line<'a> {
    text: &'a str,
    code: bool,
}

fn lines(doc: &str) -> Vec<Line<'_>> {
    let mut in_block = false;
    doc.lines()
        .map(|text| {
            let fence =
                text.trim_start().starts_with("```") || text.trim_start().starts_with("~~~");
            let line = Line {
                text,
                code: in_block || fence,
            };
            if fence {
                in_block = !in_block;
            }
            line
        })
        .collect()
}

/// Code spans of one line: (byte range of the whole span, content), as CommonMark reads them.
fn code_spans(line: &str) -> Vec<(std::ops::Range<usize>, String)> {
    let bytes = line.as_bytes();
    let run_at = |i: usize| bytes[i..].iter().take_while(|&&b| b == b'`').count();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'`' {
            i += 1;
            continue;
        }
        let open = run_at(i);
        let start = i + open;
        // The closing run has exactly the opening run's length.
        let mut j = start;
        let mut close = None;
        while j < bytes.len() {
            if bytes[j] == b'`' {
                let run = run_at(j);
                if run == open {
                    close = Some(j);
                    break;
                }
                j += run;
            } else {
                j += 1;
            }
        }
        match close {
            Some(end) => {
                let mut content = &line[start..end];
                if content.len() >= 2
                    && content.starts_with(' ')
                    && content.ends_with(' ')
                    && !content.trim().is_empty()
                {
                    content = &content[1..content.len() - 1];
                }
                spans.push((i..end + open, content.to_string()));
                i = end + open;
            }
            None => i = start,
        }
    }
    spans
}

/// The line without its code spans, which hold no links and no headings.
fn prose(line: &str) -> String {
    let mut out = String::new();
    let mut last = 0;
    for (range, _) in code_spans(line) {
        out.push_str(&line[last..range.start]);
        last = range.end;
    }
    out.push_str(&line[last..]);
    out
}

/// Everything written as code: whole lines of code blocks, and code spans elsewhere.
fn code_texts(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in lines(doc) {
        if line.code {
            out.push(line.text.to_string());
        } else {
            out.extend(code_spans(line.text).into_iter().map(|(_, c)| c));
        }
    }
    out
}

/// Targets of inline links `[text](target)` outside code.
fn links(doc: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in lines(doc).iter().filter(|l| !l.code) {
        let text = prose(line.text);
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].trim().to_string());
            rest = &after[end..];
        }
    }
    out
}

/// The anchors GitHub gives the headings of a document.
fn anchors(doc: &str) -> BTreeSet<String> {
    headings(doc)
        .into_iter()
        .map(|(anchor, _)| anchor)
        .collect()
}

/// The headings of a document: (anchor, title), in order.
fn headings(doc: &str) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for line in lines(doc).iter().filter(|l| !l.code) {
        let Some(title) = line.text.strip_prefix('#') else {
            continue;
        };
        let title = title.trim_start_matches('#').trim();
        let base: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut anchor = base.clone();
        let mut n = 0;
        while seen.contains(&anchor) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
        seen.insert(anchor.clone());
        out.push((anchor, title.to_string()));
    }
    out
}

/// `from_doc`'s directory joined with `target`, `..` resolved, relative to the repository root.
fn resolve(from_doc: &str, target: &str) -> String {
    let base = Path::new(from_doc).parent().unwrap_or(Path::new(""));
    let mut parts: Vec<String> = Vec::new();
    for component in base.join(target).components() {
        match component {
            Component::ParentDir => {
                assert!(
                    parts.pop().is_some(),
                    "{from_doc}: {target} leaves the repository"
                );
            }
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            _ => {}
        }
    }
    parts.join("/")
}

/// The rows of every pipe table whose header's first cell is `first_header`: cells, trimmed.
fn tables(doc: &str, first_header: &str) -> Vec<Vec<String>> {
    let cells = |row: &str| -> Vec<String> {
        let row = row.trim().trim_start_matches('|').trim_end_matches('|');
        let mut cells = vec![String::new()];
        let mut chars = row.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&'|') => {
                    cells.last_mut().expect("a cell").push('|');
                    chars.next();
                }
                '|' => cells.push(String::new()),
                c => cells.last_mut().expect("a cell").push(c),
            }
        }
        cells.into_iter().map(|c| c.trim().to_string()).collect()
    };
    let all = lines(doc);
    let mut rows = Vec::new();
    let mut i = 0;
    while i < all.len() {
        let line = &all[i];
        let is_header = !line.code
            && line.text.trim_start().starts_with('|')
            && cells(line.text).first().map(String::as_str) == Some(first_header)
            && all.get(i + 1).is_some_and(|l| l.text.contains("---"));
        if !is_header {
            i += 1;
            continue;
        }
        i += 2;
        while let Some(row) = all.get(i).filter(|l| l.text.trim_start().starts_with('|')) {
            rows.push(cells(row.text));
            i += 1;
        }
    }
    rows
}

/// The string literals of some Rust source, with their escapes as written.
fn string_literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        match (&mut current, c) {
            (None, '"') => current = Some(String::new()),
            (Some(_), '"') => out.extend(current.take()),
            (Some(s), '\\') => {
                s.push('\\');
                s.extend(chars.next());
            }
            (Some(s), c) => s.push(c),
            (None, _) => {}
        }
    }
    out
}

/// The body of `fn name` in `code`, braces matched outside string literals.
fn fn_body<'a>(code: &'a str, name: &str) -> &'a str {
    let start = code
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("no `fn {name}(` in the source"));
    let open = start + code[start..].find('{').expect("a function body");
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (i, c) in code[open..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '{' if !in_string => depth += 1,
            '}' if !in_string => {
                depth -= 1;
                if depth == 0 {
                    return &code[open..=open + i];
                }
            }
            _ => {}
        }
    }
    panic!("`fn {name}` has no end");
}

fn is_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `Category.Reason`, as the Runtime API asks.
fn is_error_type(s: &str) -> bool {
    s.split_once('.').is_some_and(|(category, reason)| {
        [category, reason]
            .iter()
            .all(|p| p.starts_with(|c: char| c.is_ascii_uppercase()) && is_ident(p))
    })
}

/// The settings `bootstrap --help` lists (variables and the secret's keys): the lines indented
/// exactly two spaces that are nothing but comma-separated names, e.g.
/// `  AWS_REGION, AWS_DEFAULT_REGION`.
fn help_variables() -> BTreeSet<String> {
    let binary = common::bootstrap_bin();
    let out = Command::new(&binary)
        .arg("--help")
        .env_clear()
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    assert!(out.status.success(), "bootstrap --help: {}", out.status);
    let help = String::from_utf8(out.stdout).expect("utf-8 help");
    let mut names = BTreeSet::new();
    for line in help.lines() {
        let Some(rest) = line.strip_prefix("  ") else {
            continue;
        };
        if rest.starts_with(' ') {
            continue;
        }
        let parts: Vec<&str> = rest.trim_end().split(", ").collect();
        if parts.iter().all(|p| is_ident(p)) {
            names.extend(parts.into_iter().map(str::to_string));
        }
    }
    assert!(
        names.contains("SecretId") && names.len() >= 5,
        "cannot find the variables in bootstrap --help (each on a line indented two spaces):\n{help}"
    );
    names
}

/// The names in backticks in the first column of every table headed `variable`.
fn table_variables(doc: &str) -> BTreeSet<String> {
    table_names(doc, "variable")
}

/// The names in backticks in the first column of every table headed `first_header`.
fn table_names(doc: &str, first_header: &str) -> BTreeSet<String> {
    tables(doc, first_header)
        .iter()
        .flat_map(|row| code_spans(&row[0]))
        .map(|(_, name)| name)
        .collect()
}

/// The settings of one place, as docs/configuration.md's table shows them (`from`: the page
/// the table is on, for its links).
fn settings_table(place: Place, from: &str) -> String {
    let first = match place {
        Place::Env => "variable",
        Place::Secret => "key",
    };
    let when = place == Place::Env;
    let mut out = format!("| {first} | default | accepted values | what it does |");
    out.push_str(if when {
        " when it is wrong |\n|---|---|---|---|---|\n"
    } else {
        "\n|---|---|---|---|\n"
    });
    for setting in SETTINGS.iter().filter(|s| s.place == place) {
        let names: Vec<String> = setting.names.iter().map(|n| format!("`{n}`")).collect();
        let mut does = setting.does.to_string();
        if !setting.see.is_empty() {
            does.push_str(&format!("; see {}", see_link(setting, from)));
        }
        let mut cells = vec![
            names.join(", "),
            setting.default_text(),
            setting.accepts_text(),
            does,
        ];
        if when {
            cells.push(setting.when_wrong.to_string());
        }
        let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// `[Title](target)` for a setting's page, titled as that page or heading is.
fn see_link(setting: &Setting, from: &str) -> String {
    let (page, anchor) = setting.see.split_once('#').unwrap_or((setting.see, ""));
    let path = format!("docs/{page}");
    let found = headings(&read(&path));
    let title = if anchor.is_empty() {
        found.first()
    } else {
        found.iter().find(|(a, _)| a == anchor)
    };
    let (_, title) = title.unwrap_or_else(|| {
        panic!(
            "{}: see = {:?}: {path} has no such heading",
            setting.name(),
            setting.see
        )
    });
    let target = if path == from {
        format!("#{anchor}")
    } else {
        setting.see.to_string()
    };
    format!("[{title}]({target})")
}

/// `doc` with the lines between `<!-- settings: NAME ... -->` and the next
/// `<!-- settings: end -->` replaced by `table`.
fn with_generated(doc: &str, name: &str, table: &str) -> String {
    let begin = format!("<!-- settings: {name} ");
    let start = doc
        .find(&begin)
        .unwrap_or_else(|| panic!("no `{begin}...-->` line to put the {name} table after"));
    let start = start + doc[start..].find('\n').expect("a line end") + 1;
    let end = start
        + doc[start..]
            .find("<!-- settings: end -->")
            .unwrap_or_else(|| panic!("the {name} table has no `<!-- settings: end -->` line"));
    format!("{}{table}{}", &doc[..start], &doc[end..])
}

/// The targets a Makefile defines: the names before `:` of its rule lines.
fn make_targets() -> BTreeSet<String> {
    let mut targets = BTreeSet::new();
    for line in read("Makefile").lines() {
        if line.starts_with(['\t', ' ', '#']) {
            continue;
        }
        let Some((names, rest)) = line.split_once(':') else {
            continue;
        };
        if rest.starts_with('=') || names.contains(['$', '%', '=', '(']) {
            continue;
        }
        targets.extend(names.split_whitespace().map(str::to_string));
    }
    targets
}

/// The target of each `make …` command written as code: the first word after `make` that is
/// neither an option nor a `VARIABLE=value`.
fn make_commands(doc: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for code in code_texts(doc) {
        let words: Vec<&str> = code.split_whitespace().collect();
        for (i, word) in words.iter().enumerate() {
            if *word != "make" {
                continue;
            }
            let target = words[i + 1..]
                .iter()
                .take_while(|w| !w.starts_with('#'))
                .find(|w| !w.starts_with('-') && !w.contains('='));
            if let Some(target) = target {
                let target = target.trim_end_matches([',', ';', ')', '.']);
                out.push((target.to_string(), code.trim().to_string()));
            }
        }
    }
    out
}

/// Every `events/….json` and `tests/golden/….json` named anywhere in a document.
fn json_paths(doc: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for dir in ["events/", "tests/golden/"] {
        for (at, _) in doc.match_indices(dir) {
            let name: String = doc[at + dir.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect();
            if let Some(name) = name.strip_suffix(".json") {
                out.insert(format!("{dir}{name}.json"));
            }
        }
    }
    out
}

#[test]
fn readme_is_at_most_12_kib() {
    let size = read("README.md").len();
    assert!(
        size <= README_MAX_BYTES,
        "README.md is {size} bytes, over {README_MAX_BYTES}: move the detail to a page in docs/"
    );
}

#[test]
fn every_relative_link_points_at_a_file_that_exists() {
    let docs = documents();
    let mut problems = Vec::new();
    let mut checked = 0;
    for (doc, text) in &docs {
        for target in links(text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                doc.clone()
            } else {
                resolve(doc, path)
            };
            checked += 1;
            if !root().join(&file).exists() {
                problems.push(format!("{doc}: link to {target}: {file} does not exist"));
                continue;
            }
            if let Some(anchor) = anchor.filter(|_| file.ends_with(".md")) {
                let headings = anchors(&read(&file));
                if !headings.contains(anchor) {
                    problems.push(format!(
                        "{doc}: link to {target}: {file} has no heading #{anchor} (it has {headings:?})"
                    ));
                }
            }
        }
    }
    assert!(
        checked >= 20,
        "only {checked} links found: is the reader broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_error_type_is_in_operations() {
    let source = read("src/error.rs");
    let literals = string_literals(fn_body(&source, "error_type"));
    let fixed: Vec<&String> = literals.iter().filter(|s| is_error_type(s)).collect();
    assert!(
        fixed.len() >= 5,
        "found only {fixed:?} as \"Category.Reason\" literals in src/error.rs `fn error_type`"
    );
    // An AWS service's errors are `{service}.{code}` (`Error::Aws`): documented as
    // `SecretsManager.<code>`, and `SecretsManager.Unreachable` for no answer.
    let services: Vec<String> = string_literals(fn_body(&source, "name"))
        .into_iter()
        .filter(|s| is_ident(s))
        .collect();
    assert!(
        services.len() >= 3,
        "found only {services:?} as AWS service names in src/error.rs `fn name`"
    );
    let dynamic: Vec<String> = services
        .iter()
        .flat_map(|s| [format!("{s}.<code>"), format!("{s}.Unreachable")])
        .collect();
    let operations = read("docs/operations.md");
    let missing: Vec<String> = fixed
        .iter()
        .map(|s| s.to_string())
        .chain(dynamic)
        .filter(|name| !operations.contains(&format!("`{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/operations.md does not name these errorTypes (in backticks): {missing:?}"
    );
}

#[test]
fn configuration_tables_are_the_settings_table() {
    const PATH: &str = "docs/configuration.md";
    let doc = read(PATH);
    let mut want = doc.clone();
    for (name, place) in [("environment", Place::Env), ("secret", Place::Secret)] {
        want = with_generated(&want, name, &settings_table(place, PATH));
    }
    if want == doc {
        return;
    }
    if updating() {
        std::fs::write(root().join(PATH), &want).expect("write docs/configuration.md");
        return;
    }
    let (line, (got, expected)) = doc
        .lines()
        .zip(want.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .expect("a line differs");
    panic!(
        "{PATH}:{}: the tables are generated from src/settings.rs; edit that, then \
         UPDATE_DOCS=1 cargo test --test docs (or make docs).\n  here: {got}\n  want: {expected}",
        line + 1
    );
}

#[test]
fn configuration_tables_list_exactly_the_settings_of_help() {
    let help = help_variables();
    let doc = read("docs/configuration.md");
    let mut table = table_variables(&doc);
    table.extend(table_names(&doc, "key"));
    let undocumented: Vec<&String> = help.difference(&table).collect();
    let unknown: Vec<&String> = table.difference(&help).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "docs/configuration.md's tables (first column) and bootstrap --help differ:\n  \
         in --help, not in the tables: {undocumented:?}\n  in the tables, not in --help: {unknown:?}"
    );
    // A shorter table elsewhere (the README's) may only name real variables, and its defaults,
    // when it has that column, are the settings table's (or their first word: `none`).
    for (doc, text) in documents() {
        for row in tables(&text, "variable") {
            for (_, name) in code_spans(&row[0]) {
                let Some(setting) = SETTINGS.iter().find(|s| s.names.contains(&name.as_str()))
                else {
                    panic!("{doc} lists {name}, which --help does not know");
                };
                assert!(help.contains(&name), "{doc}: {name} is not in --help");
                let Some(default) = row.get(1) else { continue };
                let full = setting.default_text();
                let short = full
                    .split_once(" (")
                    .map_or(full.as_str(), |(short, _)| short);
                assert!(
                    *default == full || default == short,
                    "{doc}: the default of {name} is {full} (src/settings.rs), not {default}"
                );
            }
        }
    }
}

/// The secret's keys in the table are the keys the secret is read with: the
/// `#[serde(rename = "…")]` names of the struct that declares `SLACK_HOOK_URL`.
#[test]
fn the_secrets_keys_are_the_ones_the_code_reads() {
    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let marker = "#[serde(rename = \"SLACK_HOOK_URL\")]";
    let code = files
        .iter()
        .map(|f| std::fs::read_to_string(f).expect("readable source"))
        .find(|code| code.contains(marker))
        .unwrap_or_else(|| panic!("no file under src/ reads the secret ({marker})"));
    let at = code.find(marker).expect("found above");
    let start = code[..at]
        .rfind("struct ")
        .expect("a struct around the keys");
    let end = at + code[at..].find("\n}").expect("the struct's end");
    let read: BTreeSet<String> = code[start..end]
        .split("#[serde(rename = \"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(key, _)| key.to_string()))
        .collect();
    let table: BTreeSet<String> = SETTINGS
        .iter()
        .filter(|s| s.place == Place::Secret)
        .flat_map(|s| s.names.iter().map(|n| n.to_string()))
        .collect();
    assert!(read.len() >= 5, "cannot read the secret's keys: {read:?}");
    assert_eq!(
        read, table,
        "the secret's keys the code reads, and those of src/settings.rs"
    );
}

#[test]
fn every_make_command_is_a_makefile_target() {
    let targets = make_targets();
    assert!(
        ["zip", "test", "demo", "deploy"]
            .iter()
            .all(|t| targets.contains(*t)),
        "cannot read the Makefile's targets: {targets:?}"
    );
    let mut problems = Vec::new();
    let mut seen = 0;
    for (doc, text) in documents() {
        for (target, command) in make_commands(&text) {
            seen += 1;
            if !targets.contains(&target) {
                problems.push(format!(
                    "{doc}: `{command}`: no target {target} in the Makefile"
                ));
            }
        }
    }

    assert!(
        seen >= 10,
        "only {seen} make commands found: is the reader broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_event_and_golden_file_named_exists() {
    let mut problems = Vec::new();
    for (doc, text) in documents() {
        for path in json_paths(&text) {
            if !root().join(&path).is_file() {
                problems.push(format!("{doc} names {path}, which does not exist"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn messages_page_lists_every_example_event() {
    let messages = read("docs/messages.md");
    let named = json_paths(&messages);
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(root().join("events")).expect("events/") {
        let name = entry.expect("directory entry").file_name();
        let path = format!("events/{}", name.to_string_lossy());
        if path.ends_with(".json") && !named.contains(&path) {
            missing.push(path);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/messages.md does not describe these example events: {missing:?}"
    );
}

/// Rows `| [name](../tests/golden/name.json) | `field` | `value` |`: `field` is `text`, a key
/// of the card (`color`, `title`, `title_link`) or the title of one of its fields; `value` is
/// that value exactly (`\n` in it stands for a newline).
#[test]
fn message_excerpts_match_the_golden_files() {
    let mut checked = 0;
    for (doc, text) in documents() {
        for row in tables(&text, "golden file") {
            let [file, field, value] = &row[..] else {
                panic!("{doc}: a golden-file row needs 3 cells: {row:?}");
            };
            let target = links(file)
                .into_iter()
                .next()
                .unwrap_or_else(|| panic!("{doc}: {file} is not a link to a golden file"));
            let path = resolve(&doc, &target);
            let first_span = |cell: &str| {
                code_spans(cell)
                    .into_iter()
                    .next()
                    .map(|(_, content)| content)
                    .unwrap_or_else(|| panic!("{doc}: {cell} is not in backticks"))
            };
            let (field, expected) = (first_span(field), first_span(value).replace("\\n", "\n"));
            let golden: serde_json::Value =
                serde_json::from_str(&read(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            let card = &golden["attachments"][0];
            let got = match field.as_str() {
                "text" => golden["text"].as_str(),
                "color" | "title" | "title_link" | "fallback" => card[field.as_str()].as_str(),
                title => card["fields"].as_array().and_then(|fields| {
                    fields
                        .iter()
                        .find(|f| f["title"] == title)
                        .and_then(|f| f["value"].as_str())
                }),
            };
            assert_eq!(
                got,
                Some(expected.as_str()),
                "{doc}: the excerpt of `{field}` differs from {path}"
            );
            checked += 1;
        }
    }
    assert!(
        checked >= 5,
        "only {checked} excerpts found: is the reader broken?"
    );
}

/// Every `src/` file named in the docs exists, and docs/architecture.md names every one.
#[test]
fn architecture_names_every_source_file() {
    fn rust_files(dir: &Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).expect("readable directory") {
            let path: PathBuf = entry.expect("directory entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root()).expect("under the root");
                out.insert(rel.to_string_lossy().into_owned());
            }
        }
    }
    let mut files = BTreeSet::new();
    rust_files(&root().join("src"), &mut files);
    let architecture = read("docs/architecture.md");
    let named: BTreeSet<String> = code_texts(&architecture)
        .into_iter()
        .filter(|c| c.starts_with("src/") && c.ends_with(".rs"))
        .collect();
    let unnamed: Vec<&String> = files.difference(&named).collect();
    let gone: Vec<&String> = named.difference(&files).collect();
    assert!(
        unnamed.is_empty() && gone.is_empty(),
        "docs/architecture.md's file table and src/ differ:\n  not in the table: {unnamed:?}\n  \
         not in src/: {gone:?}"
    );
}

/// One value of docs/figures.toml.
#[derive(Debug)]
enum Figure {
    Integer(u64),
    /// As written: `0.73`.
    Decimal(String),
    Text(String),
}

const FIGURES: &str = "docs/figures.toml";
const FIGURE_MARKER: &str = "<!--figures.toml:";

/// docs/figures.toml, in order: `key = value` lines, comments and blank lines.
fn figures() -> Vec<(String, Figure)> {
    let mut out: Vec<(String, Figure)> = Vec::new();
    for (n, line) in read(FIGURES).lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{FIGURES}:{}", n + 1);
        let (key, value) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("{at}: not `key = value`: {line}"));
        assert!(
            !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{at}: a key is made of a-z, 0-9 and _: {key}"
        );
        assert!(
            out.iter().all(|(k, _)| k != key),
            "{at}: {key} is defined twice"
        );
        let figure = if let Some(text) = value.strip_prefix('"') {
            let text = text
                .strip_suffix('"')
                .filter(|t| !t.contains(['"', '\\']))
                .unwrap_or_else(|| panic!("{at}: a string is \"text\" without \" or \\"));
            Figure::Text(text.to_string())
        } else if let Ok(n) = value.parse::<u64>() {
            Figure::Integer(n)
        } else if value.parse::<f64>().is_ok() && value.contains('.') && !value.contains('e') {
            Figure::Decimal(value.to_string())
        } else {
            panic!("{at}: {value} is not an integer, a decimal or a \"string\"");
        };
        out.push((key.to_string(), figure));
    }
    out
}

/// One marked figure: the marker's key, and where the quoted value ends in the document.
struct Quote {
    key: String,
    /// Byte offset of the marker: the quoted figure ends just before it.
    at: usize,
}

fn quotes(doc: &str) -> Vec<Quote> {
    let mut out = Vec::new();
    for (at, _) in doc.match_indices(FIGURE_MARKER) {
        let rest = &doc[at + FIGURE_MARKER.len()..];
        let key = rest
            .split_once("-->")
            .map(|(key, _)| key.trim().to_string())
            .unwrap_or_default();
        out.push(Quote { key, at });
    }
    out
}

const SIZE_UNITS: [(&str, f64); 4] = [
    ("KB", 1e3),
    ("MB", 1e6),
    ("KiB", 1024.0),
    ("MiB", 1024.0 * 1024.0),
];

/// The number written before `end` and the unit after it: (range of the number, unit).
fn quoted_number(doc: &str, end: usize) -> Option<(std::ops::Range<usize>, &str)> {
    let before = doc[..end].trim_end();
    let unit_len = before
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    let unit = &before[before.len() - unit_len..];
    let number_end = before[..before.len() - unit_len].trim_end().len();
    let number_len = before[..number_end]
        .chars()
        .rev()
        .take_while(|c| c.is_ascii_digit() || matches!(c, ',' | '.'))
        .count();
    let start = number_end - number_len;
    doc[start..number_end]
        .starts_with(|c: char| c.is_ascii_digit())
        .then_some((start..number_end, unit))
}

/// `n` with a comma between thousands.
fn thousands(n: &str) -> String {
    let (int, frac) = n.split_once('.').map_or((n, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// What the figure before a marker should read, as (range to replace, text), or why it
/// cannot be told.
fn expected_quote(
    doc: &str,
    quote: &Quote,
    figure: &Figure,
) -> Result<(std::ops::Range<usize>, String), String> {
    if let Figure::Text(text) = figure {
        let before = doc[..quote.at].trim_end();
        if before.ends_with(text.as_str()) {
            return Ok((before.len() - text.len()..before.len(), text.clone()));
        }
        // A value without spaces (a date) replaces the word before the marker.
        if text.contains(' ') {
            return Err(format!("the text before it should end with {text:?}"));
        }
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace() || matches!(c, '(' | '|'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        return Ok((start..before.len(), text.clone()));
    }
    let (range, unit) =
        quoted_number(doc, quote.at).ok_or_else(|| "no number is written before it".to_string())?;
    let written = &doc[range.clone()];
    let commas = written.contains(',');
    let want = match figure {
        Figure::Integer(n) => match SIZE_UNITS.iter().find(|(u, _)| *u == unit) {
            Some((_, scale)) => {
                let decimals = written.split_once('.').map_or(0, |(_, f)| f.len());
                format!("{:.*}", decimals, *n as f64 / scale)
            }
            None => n.to_string(),
        },
        Figure::Decimal(d) => d.clone(),
        Figure::Text(_) => unreachable!("handled above"),
    };
    let int_digits = want.split('.').next().unwrap_or("").len();
    let want = if commas || int_digits >= 5 {
        thousands(&want)
    } else {
        want
    };
    Ok((range, want))
}

/// Every figure a page quotes is the one docs/figures.toml holds; `UPDATE_DOCS=1` (or
/// `make docs`) rewrites them from it.
#[test]
fn quoted_figures_are_the_figures_file() {
    let figures = figures();
    let mut problems = Vec::new();
    let mut used = BTreeSet::new();
    for (path, doc) in documents() {
        let mut rewritten = doc.clone();
        // From the end, so that earlier offsets stay valid while rewriting.
        for quote in quotes(&doc).iter().rev() {
            let line = doc[..quote.at].matches('\n').count() + 1;
            let Some((_, figure)) = figures.iter().find(|(k, _)| *k == quote.key) else {
                problems.push(format!("{path}:{line}: {FIGURES} has no {:?}", quote.key));
                continue;
            };
            used.insert(quote.key.clone());
            match expected_quote(&doc, quote, figure) {
                Ok((range, want)) if doc[range.clone()] == want => {}
                Ok((range, want)) => {
                    problems.push(format!(
                        "{path}:{line}: {} is {figure:?} in {FIGURES}: write {want}, not {}",
                        quote.key,
                        &doc[range.clone()]
                    ));
                    rewritten.replace_range(range, &want);
                }
                Err(why) => problems.push(format!("{path}:{line}: {}: {why}", quote.key)),
            }
        }
        if updating() && rewritten != doc {
            std::fs::write(root().join(&path), &rewritten).expect("write the page");
        }
    }
    let unquoted: Vec<&String> = figures
        .iter()
        .filter(|(k, f)| !matches!(f, Figure::Text(_)) && !used.contains(k))
        .map(|(k, _)| k)
        .collect();
    assert!(
        used.len() >= 10,
        "only {} figures quoted: is the reader broken?",
        used.len()
    );
    if updating() {
        problems.retain(|p| !p.contains(": write "));
    }
    assert!(
        problems.is_empty() && unquoted.is_empty(),
        "{}\n{}\nThe figures come from {FIGURES} (its first lines say how to quote one); \
         UPDATE_DOCS=1 cargo test --test docs (or make docs) rewrites the quoted numbers.",
        problems.join("\n"),
        if unquoted.is_empty() {
            String::new()
        } else {
            format!("{FIGURES}: no page quotes {unquoted:?}; quote them or remove them")
        }
    );
}

/// The README holds no history: every size it states is a marked figure.
#[test]
fn the_readme_quotes_sizes_only_from_the_figures_file() {
    let readme = read("README.md");
    let mut problems = Vec::new();
    for (n, line) in lines(&readme).iter().enumerate() {
        if line.code {
            continue;
        }
        let text = prose(line.text);
        for (unit, _) in SIZE_UNITS
            .iter()
            .chain(&[("B", 1.0), ("GB", 1e9), ("bytes", 1.0)])
        {
            for (at, _) in text.match_indices(unit) {
                let after = &text[at + unit.len()..];
                let whole_word = !after.starts_with(|c: char| c.is_ascii_alphanumeric())
                    && !text[..at].ends_with(|c: char| c.is_ascii_alphabetic());
                let after_number = text[..at]
                    .trim_end()
                    .ends_with(|c: char| c.is_ascii_digit());
                if whole_word && after_number && !after.starts_with(FIGURE_MARKER) {
                    problems.push(format!("README.md:{}: {}", n + 1, line.text.trim()));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "sizes in the README without a marker (see the first lines of {FIGURES}):\n{}",
        problems.join("\n")
    );
}

/// The dependency count docs/performance.md quotes is Cargo.toml's, and it names each.
#[test]
fn the_runtime_dependencies_are_counted_and_named() {
    let manifest = read("Cargo.toml");
    let section = manifest
        .split("\n[dependencies]\n")
        .nth(1)
        .and_then(|rest| rest.split("\n[").next())
        .expect("Cargo.toml has [dependencies]");
    let names: Vec<&str> = section
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = ").map(|(name, _)| name.trim()))
        .collect();
    let recorded = figures()
        .into_iter()
        .find_map(|(k, f)| match f {
            Figure::Integer(n) if k == "runtime_dependencies" => Some(n),
            _ => None,
        })
        .expect("runtime_dependencies in docs/figures.toml");
    assert_eq!(
        recorded as usize,
        names.len(),
        "{FIGURES}'s runtime_dependencies and Cargo.toml's [dependencies] {names:?}"
    );
    let performance = code_texts(&read("docs/performance.md"));
    for name in names {
        assert!(
            performance.iter().any(|c| c == name),
            "docs/performance.md does not name the dependency `{name}`"
        );
    }
}

/// The Makefile reads its budgets from docs/figures.toml instead of writing them again.
#[test]
fn the_makefile_writes_no_figure_twice() {
    let makefile = read("Makefile");
    for (key, figure) in figures() {
        if let Figure::Integer(n) = figure {
            assert!(
                n < 10_000 || !makefile.contains(&n.to_string()),
                "the Makefile writes {key} ({n}) itself; read it with $(call figure,{key})"
            );
        }
    }
    assert!(
        makefile.contains(FIGURES),
        "the Makefile does not read {FIGURES}"
    );
}
