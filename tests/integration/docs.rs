//! The documentation agrees with the code: every flag of every command's `--help` is documented,
//! every link of the README and of the book leads to a file and a heading that exist, every page
//! is in the book's summary, and the README stays a front door.

use crate::common::baton;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn book() -> PathBuf {
    root().join("docs/src")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The markdown pages of the book, relative to `docs/src`.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, base: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "md") {
                out.push(path.strip_prefix(base).unwrap().to_path_buf());
            }
        }
    }
    let mut out = Vec::new();
    walk(&book(), &book(), &mut out);
    out.sort();
    out
}

/// A heading's anchor, as GitHub and mdBook make it: lower case, spaces to `-`, punctuation
/// other than `-` and `_` dropped.
fn anchor(title: &str) -> String {
    title
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a markdown file's headings (outside code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut code = false;
    for line in text.lines() {
        if line.starts_with("```") {
            code = !code;
        } else if !code && line.starts_with('#') {
            out.insert(anchor(line.trim_start_matches('#')));
        }
    }
    out
}

/// The targets of the markdown links of a text (outside code blocks).
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut code = false;
    for line in text.lines() {
        if line.starts_with("```") {
            code = !code;
            continue;
        }
        if code {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let end = after.find(')').unwrap_or(after.len());
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

/// Every broken link of the markdown file at `path`.
fn broken_links(path: &Path) -> Vec<String> {
    let text = read(path);
    let here = anchors(&text);
    let mut broken = Vec::new();
    for target in links(&text) {
        if target.starts_with("http://")
            || target.starts_with("https://")
            || target.starts_with("mailto:")
        {
            continue;
        }
        let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
        let resolved = if file.is_empty() {
            path.to_path_buf()
        } else {
            path.parent().unwrap().join(file)
        };
        if !resolved.exists() {
            broken.push(format!("{}: {target}: no such file", path.display()));
            continue;
        }
        if !fragment.is_empty() {
            let known = if file.is_empty() {
                here.clone()
            } else {
                anchors(&read(&resolved))
            };
            if !known.contains(fragment) {
                broken.push(format!("{}: {target}: no such heading", path.display()));
            }
        }
    }
    broken
}

#[test]
fn every_link_of_the_readme_and_the_book_leads_somewhere() {
    let mut broken = broken_links(&root().join("README.md"));
    for page in pages() {
        broken.extend(broken_links(&book().join(page)));
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

#[test]
fn every_page_is_in_the_summary() {
    let summary = read(&book().join("SUMMARY.md"));
    let listed: BTreeSet<String> = links(&summary).into_iter().collect();
    for page in pages() {
        let page = page.to_string_lossy().into_owned();
        if page != "SUMMARY.md" {
            assert!(listed.contains(&page), "{page} is not in SUMMARY.md");
        }
    }
}

/// The flags of `baton <command> --help`.
fn help_flags(command: &str) -> BTreeSet<String> {
    let out = baton().args([command, "--help"]).assert().success();
    let help = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    help.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .flat_map(|l| {
            l.split([',', ' '])
                .filter(|w| w.starts_with('-') && w.len() > 1)
                .map(|w| w.trim_end_matches("...").to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn every_flag_of_every_help_is_documented() {
    let shared = read(&book().join("flags.md"));
    let pages: BTreeMap<&str, &str> = [
        ("scan", "commands/scan.md"),
        ("report", "commands/report.md"),
        ("update", "commands/update.md"),
        ("promote", "commands/promote.md"),
        ("status", "commands/status.md"),
        ("history", "commands/history.md"),
        ("init", "commands/init.md"),
        ("demo", "commands/demo.md"),
        ("action", "action.md"),
    ]
    .into();
    let mut missing = Vec::new();
    for (command, page) in pages {
        let text = read(&book().join(page));
        for flag in help_flags(command) {
            let quoted = format!("`{flag}`");
            if !text.contains(&quoted) && !shared.contains(&quoted) {
                missing.push(format!(
                    "baton {command} {flag}: not in {page} nor flags.md"
                ));
            }
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn the_readme_is_a_front_door() {
    let readme = read(&root().join("README.md"));
    let lines = readme.lines().count();
    assert!(lines <= 300, "README.md has {lines} lines");
    // Its first two commands: the demo, then the tests.
    let commands: Vec<&str> = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|block| block.split("```").next())
        .map(|block| block.lines().collect())
        .unwrap_or_default();
    assert_eq!(commands, ["cargo run -- demo", "cargo test"]);
    for page in [
        "docs/src/setup.md",
        "docs/src/action.md",
        "docs/src/reliability.md",
        "docs/src/performance.md",
    ] {
        assert!(
            readme.contains(&format!("({page}")),
            "the README links {page}"
        );
    }
}
