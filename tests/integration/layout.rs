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
