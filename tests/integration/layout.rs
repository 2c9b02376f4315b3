//! The source tree reads as the pipeline: each top-level module of `src/` imports only the
//! modules before it, the stages never import the application, and no command file calls
//! another command.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules, in the order imports may point: each may use those before it.
const ORDER: &[&str] = &[
    "version", "exit", "clock", "diag", "find", "clients", "resolve", "spec", "output", "update",
    "promote", "app",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::<name>` references in a text, outside comments.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Which top-level modules each top-level module imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_string())
            .expect("a name");
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        let refs = crate_refs(&text);
        graph
            .entry(top.clone())
            .or_default()
            .extend(refs.into_iter().filter(|r| *r != top));
    }
    graph
}

#[test]
fn every_top_level_module_is_in_the_pipeline_order() {
    for module in graph().keys() {
        assert!(
            ORDER.contains(&module.as_str()),
            "src/{module} is not placed in the pipeline order of tests/integration/layout.rs"
        );
    }
}

#[test]
fn imports_point_down_the_pipeline() {
    let rank = |m: &str| ORDER.iter().position(|o| *o == m);
    let mut wrong = Vec::new();
    for (module, deps) in graph() {
        let Some(own) = rank(&module) else { continue };
        for dep in deps {
            match rank(&dep) {
                Some(r) if r < own => {}
                _ => wrong.push(format!("{module} imports {dep}")),
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the pipeline: {wrong:?}");
}

#[test]
fn command_files_do_not_call_other_commands() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app/commands");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_stem()?.to_str().map(str::to_string))
        .filter(|n| n != "mod")
        .collect();
    for file in &files {
        let own = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let text = std::fs::read_to_string(file).expect("readable");
        for other in names.iter().filter(|n| n.as_str() != own) {
            for pattern in [format!("super::{other}::"), format!("commands::{other}::")] {
                assert!(
                    !text.contains(&pattern),
                    "{} calls the {other} command ({pattern})",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn the_graph_sees_known_edges() {
    // Guards the checks above against a parser that finds nothing.
    let g = graph();
    assert!(g["update"].contains("find"), "{g:?}");
    assert!(g["app"].contains("update"), "{g:?}");
    assert!(!g["find"].contains("app"), "{g:?}");
}

/// The text of a Rust file with string and char literals and comments blanked out (braces
/// inside them do not count), tests (`#[cfg(test)]` and after) left out.
fn code_only(text: &str) -> String {
    let text = text.split("\n#[cfg(test)]").next().unwrap_or(text);
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'r'
            && matches!(b.get(i + 1), Some(b'"') | Some(b'#'))
            && !b[i.saturating_sub(1)].is_ascii_alphanumeric()
        {
            let hashes = b[i + 1..].iter().take_while(|c| **c == b'#').count();
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            i += 2 + hashes;
            while i < b.len() && !b[i..].starts_with(&close) {
                if b[i] == b'\n' {
                    out.push('\n');
                }
                i += 1;
            }
            i += close.len();
            out.push_str("\"\"");
        } else if c == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                if b.get(i) == Some(&b'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == b'\'' && b.get(i + 2) == Some(&b'\'') {
            i += 3;
            out.push_str("' '");
        } else if c == b'\'' && b.get(i + 1) == Some(&b'\\') {
            i += 2;
            while i < b.len() && b[i] != b'\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c as char);
            i += 1;
        }
    }
    out
}

/// Every function of `src/` (tests aside) with its length in lines, from its `fn` line to its
/// closing brace.
fn function_lengths() -> Vec<(usize, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out = Vec::new();
    for file in files {
        let code = code_only(&std::fs::read_to_string(&file).expect("readable"));
        let lines: Vec<&str> = code.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let words: Vec<&str> = lines[i].split_whitespace().collect();
            let at = words.iter().position(|w| *w == "fn");
            let is_fn = at.is_some_and(|at| {
                words[..at].iter().all(|w| {
                    w.starts_with("pub")
                        || matches!(*w, "async" | "const" | "unsafe" | "extern" | "\"\"")
                })
            });
            if !is_fn || lines[i].trim_end().ends_with(';') {
                i += 1;
                continue;
            }
            let name = words[at.unwrap() + 1]
                .split(['(', '<'])
                .next()
                .unwrap_or("")
                .to_string();
            let (mut depth, mut started, mut j) = (0i64, false, i);
            'scan: while j < lines.len() {
                for ch in lines[j].chars() {
                    match ch {
                        '{' => {
                            depth += 1;
                            started = true;
                        }
                        '}' => depth -= 1,
                        ';' if !started && depth == 0 => break 'scan,
                        _ => {}
                    }
                    if started && depth == 0 {
                        break 'scan;
                    }
                }
                j += 1;
            }
            let rel = file.strip_prefix(&src).expect("under src").display();
            out.push((j - i + 1, format!("{rel}::{name}")));
            i = if started { j + 1 } else { i + 1 };
        }
    }
    out.sort_by(|a, b| b.cmp(a));
    out
}

#[test]
fn no_function_is_longer_than_120_lines() {
    let lengths = function_lengths();
    assert!(
        lengths.len() > 500,
        "the functions are found: {}",
        lengths.len()
    );
    let long: Vec<&(usize, String)> = lengths.iter().filter(|(n, _)| *n > 120).collect();
    assert!(long.is_empty(), "functions over 120 lines: {long:?}");
}

/// The sibling modules that each file of a folder imports (`super::x`, `crate::<folder>::x`),
/// by folder.
fn folder_graphs() -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let Some(folder) = rel.parent().filter(|p| !p.as_os_str().is_empty()) else {
            continue;
        };
        let stem = rel.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if stem == "mod" {
            continue;
        }
        let folder_path = folder.to_string_lossy().replace('/', "::");
        let siblings: BTreeSet<String> = std::fs::read_dir(src.join(folder))
            .expect("folder")
            .filter_map(|e| {
                let p = e.ok()?.path();
                let name = p.file_stem()?.to_str()?.to_string();
                (name != "mod" && (p.is_dir() || p.extension().is_some_and(|x| x == "rs")))
                    .then_some(name)
            })
            .collect();
        let code = code_only(&std::fs::read_to_string(file).expect("readable"));
        let mut refs = BTreeSet::new();
        for prefix in ["super::".to_string(), format!("crate::{folder_path}::")] {
            let mut rest = code.as_str();
            while let Some(at) = rest.find(&prefix) {
                rest = &rest[at + prefix.len()..];
                let names: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
                    let group = group.split('}').next().unwrap_or("");
                    group
                        .split(',')
                        .map(|p| p.trim().split("::").next().unwrap_or("").to_string())
                        .collect()
                } else {
                    vec![
                        rest.chars()
                            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                            .collect(),
                    ]
                };
                refs.extend(
                    names
                        .into_iter()
                        .filter(|n| siblings.contains(n) && n != stem),
                );
            }
        }
        out.entry(folder_path)
            .or_default()
            .insert(stem.to_string(), refs);
    }
    out
}

#[test]
fn no_import_circle_inside_a_folder() {
    let graphs = folder_graphs();
    assert!(
        graphs["app::commands"]["report"].is_empty() || graphs.contains_key("clients"),
        "the folders are read"
    );
    let mut circles = Vec::new();
    for (folder, graph) in &graphs {
        // A depth-first search from each file; a file met again on the path closes a circle.
        fn visit<'a>(
            node: &'a str,
            graph: &'a BTreeMap<String, BTreeSet<String>>,
            path: &mut Vec<&'a str>,
            found: &mut Vec<String>,
        ) {
            if let Some(at) = path.iter().position(|n| *n == node) {
                found.push(path[at..].join(" → ") + " → " + node);
                return;
            }
            path.push(node);
            for next in graph.get(node).into_iter().flatten() {
                visit(next, graph, path, found);
            }
            path.pop();
        }
        for start in graph.keys() {
            let mut found = Vec::new();
            visit(start, graph, &mut Vec::new(), &mut found);
            circles.extend(found.into_iter().map(|c| format!("{folder}: {c}")));
        }
    }
    assert!(circles.is_empty(), "import circles: {circles:#?}");
}
