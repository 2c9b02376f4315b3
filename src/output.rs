//! Rendering of results for people (text, markdown) and programs (JSON), and the reporting of
//! per-file problems, as GitHub annotations when running under Actions.

use crate::find::scan::ScanReport;
use crate::spec::Spec;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Output formats shared by the commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Machine-readable JSON on stdout.
    #[default]
    Json,
    /// A readable table.
    Text,
    /// A GitHub-flavoured markdown table.
    Markdown,
}

/// Whether the process runs as a GitHub Actions step.
pub fn under_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// Reports a problem with one file on stderr: a `::warning` annotation under Actions, a plain
/// `warning: file:line:col: message` line elsewhere.
pub fn warn_file(file: &str, line: Option<usize>, column: Option<usize>, message: &str) {
    eprintln!(
        "{}",
        file_warning(under_actions(), file, line, column, message)
    );
}

/// The text of [`warn_file`].
pub fn file_warning(
    actions: bool,
    file: &str,
    line: Option<usize>,
    column: Option<usize>,
    message: &str,
) -> String {
    if actions {
        let mut props = format!("file={}", escape_property(file));
        if let Some(l) = line {
            let _ = write!(props, ",line={l}");
        }
        if let Some(c) = column {
            let _ = write!(props, ",col={c}");
        }
        format!("::warning {props}::{}", escape_data(message))
    } else {
        let mut place = file.to_string();
        if let Some(l) = line {
            let _ = write!(place, ":{l}");
            if let Some(c) = column {
                let _ = write!(place, ":{c}");
            }
        }
        format!("warning: {place}: {message}")
    }
}

/// Escapes a workflow command's message, as the runner expects.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Writes the scan as pretty JSON, with a trailing newline.
pub fn write_scan_json(report: &ScanReport, out: impl std::io::Write) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(out);
    serde_json::to_writer_pretty(&mut out, report)?;
    out.write_all(b"\n")?;
    out.flush()
}

const NO_ID: &str = "(not identified)";

fn grouped(report: &ScanReport) -> BTreeMap<&str, Vec<&crate::find::scan::Usage>> {
    let mut map: BTreeMap<&str, Vec<_>> = BTreeMap::new();
    for u in &report.usages {
        map.entry(u.dependency.as_deref().unwrap_or(NO_ID))
            .or_default()
            .push(u);
    }
    map
}

fn summary(report: &ScanReport) -> String {
    let deps = report.by_dependency().len();
    let skipped = report.usages.iter().filter(|u| u.skipped.is_some()).count();
    format!(
        "{} usage{} of {} dependenc{} in {} file{} read; {} skipped; {} file{} with errors",
        report.usages.len(),
        plural(report.usages.len()),
        deps,
        if deps == 1 { "y" } else { "ies" },
        report.files_read,
        plural(report.files_read),
        skipped,
        report.errors.len(),
        plural(report.errors.len()),
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The scan as a readable table grouped by dependency.
pub fn scan_text(report: &ScanReport) -> String {
    let mut out = String::new();
    for (id, usages) in grouped(report) {
        let _ = writeln!(out, "{id}");
        for u in usages {
            let place = format!("{}:{}", u.file, u.line);
            let current = u.current.as_deref().unwrap_or("-");
            let _ = write!(out, "  {current:<12} {place}");
            if id == NO_ID {
                let _ = write!(out, "  {}", u.source);
            }
            if let Some(why) = &u.skipped {
                let _ = write!(out, "  (skipped: {why})");
            }
            out.push('\n');
        }
    }
    if !report.errors.is_empty() {
        out.push_str("errors\n");
        for e in &report.errors {
            let place = match (e.line, e.column) {
                (Some(l), Some(c)) => format!("{}:{l}:{c}", e.file),
                (Some(l), None) => format!("{}:{l}", e.file),
                _ => e.file.clone(),
            };
            let _ = writeln!(out, "  {place}  {}", e.message);
        }
    }
    let _ = writeln!(out, "{}", summary(report));
    out
}

/// The scan as a markdown table.
pub fn scan_markdown(report: &ScanReport) -> String {
    let mut out = String::from("| Dependency | Version | File | Note |\n|---|---|---|---|\n");
    for (id, usages) in grouped(report) {
        for u in usages {
            let note = match (&u.skipped, id == NO_ID) {
                (Some(why), _) => format!("skipped: {why}"),
                (None, true) => u.source.clone(),
                (None, false) => String::new(),
            };
            let _ = writeln!(
                out,
                "| {} | {} | `{}:{}` | {} |",
                cell(id),
                cell(u.current.as_deref().unwrap_or("")),
                cell(&u.file),
                u.line,
                cell(&note)
            );
        }
    }
    if !report.errors.is_empty() {
        out.push_str(
            "\n**Files that could not be read**\n\n| File | Line | Problem |\n|---|---|---|\n",
        );
        for e in &report.errors {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                cell(&e.file),
                e.line.map(|l| l.to_string()).unwrap_or_default(),
                cell(&e.message)
            );
        }
    }
    let _ = writeln!(out, "\n{}", summary(report));
    out
}

/// The report as a readable table.
pub fn report_text(spec: &Spec) -> String {
    let mut out = String::new();
    let rows: Vec<[String; 5]> = spec
        .dependencies
        .iter()
        .map(|d| {
            [
                d.id.clone(),
                d.current_versions.join(", "),
                d.target_safe_version.clone().unwrap_or_else(|| "-".into()),
                d.target_breaking_version
                    .clone()
                    .unwrap_or_else(|| "-".into()),
                d.latest_version.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = [
        "DEPENDENCY".to_string(),
        "IN USE".into(),
        "NEXT SAFE".into(),
        "NEXT BREAKING".into(),
        "LATEST".into(),
    ];
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    for u in &spec.unreachable {
        let _ = writeln!(out, "unreachable: {}: {}", u.id, u.error);
    }
    for g in &spec.gated {
        let _ = writeln!(out, "gated ({}): {}", g.gate, g.reason);
    }
    for s in &spec.skipped {
        let _ = writeln!(out, "skipped: {}:{}: {}", s.file, s.line, s.reason);
    }
    let _ = writeln!(
        out,
        "{} dependenc{} with updates; {} unreachable; {} usage{} skipped",
        spec.dependencies.len(),
        if spec.dependencies.len() == 1 {
            "y"
        } else {
            "ies"
        },
        spec.unreachable.len(),
        spec.skipped.len(),
        plural(spec.skipped.len())
    );
    out
}

/// The report as markdown.
pub fn report_markdown(spec: &Spec) -> String {
    let mut out = String::from(
        "| Dependency | In use | Next safe | Next breaking | Latest |\n|---|---|---|---|---|\n",
    );
    for d in &spec.dependencies {
        let link = |v: &Option<String>| match v {
            Some(v) => match d.release_notes.get(v) {
                Some(url) => format!("[{v}]({url})"),
                None => v.clone(),
            },
            None => "–".into(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            cell(&d.id),
            cell(&d.current_versions.join(", ")),
            link(&d.target_safe_version),
            link(&d.target_breaking_version),
            d.latest_version.as_deref().unwrap_or("–")
        );
    }
    if !spec.unreachable.is_empty() {
        out.push_str("\n**Could not look up**\n\n");
        for u in &spec.unreachable {
            let _ = writeln!(out, "- `{}`: {}", cell(&u.id), cell(&u.error));
        }
    }
    if !spec.gated.is_empty() {
        out.push_str("\n**Held back by a gate**\n\n");
        for g in &spec.gated {
            let _ = writeln!(out, "- {} ({}): {}", cell(&g.id), g.gate, cell(&g.reason));
        }
    }
    if !spec.skipped.is_empty() {
        out.push_str(
            "\n<details><summary>Skipped usages</summary>\n\n| File | Reason |\n|---|---|\n",
        );
        for s in &spec.skipped {
            let _ = writeln!(
                out,
                "| `{}:{}` | {} |",
                cell(&s.file),
                s.line,
                cell(&s.reason)
            );
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// Escapes a markdown table cell.
pub fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_warning_names_file_line_and_column() {
        assert_eq!(
            file_warning(false, "dev/a.hcl", Some(3), Some(7), "bad"),
            "warning: dev/a.hcl:3:7: bad"
        );
        assert_eq!(
            file_warning(false, "dev/a.hcl", None, None, "bad"),
            "warning: dev/a.hcl: bad"
        );
    }

    #[test]
    fn actions_warning_is_an_escaped_annotation() {
        assert_eq!(
            file_warning(true, "dev/a,b.hcl", Some(3), None, "50% bad\nreally"),
            "::warning file=dev/a%2Cb.hcl,line=3::50%25 bad%0Areally"
        );
    }

    #[test]
    fn cells_escape_pipes() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
