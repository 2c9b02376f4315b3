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

/// `n` and the noun in the number it takes: `1 version`, `2 versions`.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
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
        let mut place = escape_controls(file, false).into_owned();
        if let Some(l) = line {
            let _ = write!(place, ":{l}");
            if let Some(c) = column {
                let _ = write!(place, ":{c}");
            }
        }
        format!("warning: {place}: {}", escape_controls(message, true))
    }
}

/// Whether a character is a control character that printing would act on rather than show
/// (a carriage return, an escape sequence, a bell); tabs are kept.
fn hidden_control(c: char) -> bool {
    c.is_control() && c != '\t'
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\r' => out.push_str("\\r"),
        '\n' => out.push_str("\\n"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

/// Text with its control characters shown as escapes (`\r`, `\u{1b}`), so that a carriage
/// return or a terminal sequence in a file name cannot hide or rewrite what is printed around
/// it. Line feeds are kept when `keep_newlines`; tabs always are.
pub fn escape_controls(s: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let escape = |c: char| hidden_control(c) && !(keep_newlines && c == '\n');
    if !s.chars().any(escape) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if escape(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Breaks every `##[`, which the Actions runner reads as a command anywhere in a line, with a
/// zero-width space after its first `#`.
pub fn break_legacy_commands(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains("##[") {
        s.replace("##[", "#\u{200b}#[").into()
    } else {
        s.into()
    }
}

/// Escapes a workflow command's message, as the runner expects (`%`, CR and LF), with the other
/// control characters shown as escapes and `##[` broken.
pub fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c if hidden_control(c) => push_escaped(&mut out, c),
            c => out.push(c),
        }
    }
    break_legacy_commands(&out).into_owned()
}

/// Escapes a workflow command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Writes the scan as pretty JSON, with a trailing newline: the bytes `serde_json`'s pretty
/// printer gives, with the usages (most of a large tree's output) printed on every core, a chunk
/// at a time, and written in order.
pub fn write_scan_json(report: &ScanReport, out: impl std::io::Write) -> std::io::Result<()> {
    use rayon::prelude::*;
    use std::io::Write as _;
    let mut out = std::io::BufWriter::new(out);
    out.write_all(b"{\n  \"usages\": ")?;
    if report.usages.is_empty() {
        out.write_all(b"[]")?;
    } else {
        out.write_all(b"[")?;
        let chunks: Vec<Vec<u8>> = report
            .usages
            .par_chunks(256)
            .map(|chunk| {
                let mut buf = Vec::with_capacity(chunk.len() * 320);
                for u in chunk {
                    buf.extend_from_slice(b"\n    ");
                    indented(&mut buf, u, b"\n    ")?;
                    buf.push(b',');
                }
                Ok(buf)
            })
            .collect::<serde_json::Result<_>>()?;
        let last = chunks.len() - 1;
        for (i, chunk) in chunks.iter().enumerate() {
            // The comma after the last usage is not written.
            let end = if i == last {
                chunk.len() - 1
            } else {
                chunk.len()
            };
            out.write_all(&chunk[..end])?;
        }
        out.write_all(b"\n  ]")?;
    }
    out.write_all(b",\n  \"errors\": ")?;
    let mut errors = Vec::new();
    indented(&mut errors, &report.errors, b"\n  ")?;
    out.write_all(&errors)?;
    out.write_all(b"\n}\n")?;
    out.flush()
}

/// Appends `value` as pretty JSON whose lines after the first start with `newline`'s
/// indentation (JSON text holds no line break but those the printer writes).
fn indented<T: serde::Serialize + ?Sized>(
    buf: &mut Vec<u8>,
    value: &T,
    newline: &[u8],
) -> serde_json::Result<()> {
    let text = serde_json::to_vec_pretty(value)?;
    let mut rest = text.as_slice();
    while let Some(n) = memchr::memchr(b'\n', rest) {
        buf.extend_from_slice(&rest[..n]);
        buf.extend_from_slice(newline);
        rest = &rest[n + 1..];
    }
    buf.extend_from_slice(rest);
    Ok(())
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
    // Every field on one line, its control characters shown.
    let t = |s: &str| escape_controls(s, false).into_owned();
    let mut out = String::new();
    for (id, usages) in grouped(report) {
        let _ = writeln!(out, "{}", t(id));
        for u in usages {
            let place = format!("{}:{}", t(&u.file), u.line);
            let current = t(u.current.as_deref().unwrap_or("-"));
            let _ = write!(out, "  {current:<12} {place}");
            if id == NO_ID {
                let _ = write!(out, "  {}", t(&u.source));
            }
            if let Some(why) = &u.skipped {
                let _ = write!(out, "  (skipped: {})", t(why));
            }
            for note in &u.notes {
                let _ = write!(out, "  (note: {})", t(note));
            }
            out.push('\n');
        }
    }
    if !report.errors.is_empty() {
        out.push_str("errors\n");
        for e in &report.errors {
            let file = t(&e.file);
            let place = match (e.line, e.column) {
                (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
                (Some(l), None) => format!("{file}:{l}"),
                _ => file,
            };
            let _ = writeln!(out, "  {place}  {}", t(&e.message));
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
            let mut note = match (&u.skipped, id == NO_ID) {
                (Some(why), _) => format!("skipped: {why}"),
                (None, true) => u.source.clone(),
                (None, false) => String::new(),
            };
            for n in &u.notes {
                if !note.is_empty() {
                    note.push_str("; ");
                }
                note.push_str("note: ");
                note.push_str(n);
            }
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                md_text(id),
                md_text(u.current.as_deref().unwrap_or("")),
                cell(&code(&format!("{}:{}", u.file, u.line))),
                md_text(&note)
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
                "| {} | {} | {} |",
                cell(&code(&e.file)),
                e.line.map(|l| l.to_string()).unwrap_or_default(),
                md_text(&e.message)
            );
        }
    }
    let _ = writeln!(out, "\n{}", summary(report));
    out
}

/// The report as a readable table.
pub fn report_text(spec: &Spec) -> String {
    let t = |s: &str| escape_controls(s, false).into_owned();
    let mut out = String::new();
    let rows: Vec<[String; 5]> = spec
        .dependencies
        .iter()
        .map(|d| {
            [
                t(&d.id),
                t(&d.current_versions.join(", ")),
                t(d.target_safe_version.as_deref().unwrap_or("-")),
                t(d.target_breaking_version.as_deref().unwrap_or("-")),
                t(d.latest_version.as_deref().unwrap_or("-")),
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
        let _ = writeln!(out, "unreachable: {}: {}", t(&u.id), t(&u.error));
    }
    for g in &spec.gated {
        let _ = writeln!(out, "gated ({}): {}", g.gate, g.reason);
    }
    for s in &spec.skipped {
        let _ = writeln!(out, "skipped: {}:{}: {}", t(&s.file), s.line, t(&s.reason));
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
            Some(v) => match d.release_notes.get(v).and_then(|url| md_url(url)) {
                Some(url) => format!("[{}]({url})", md_text(v)),
                None => md_text(v),
            },
            None => "–".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&code(&d.id)),
            md_text(&d.current_versions.join(", ")),
            link(&d.target_safe_version),
            link(&d.target_breaking_version),
            d.latest_version.as_deref().map_or("–".to_string(), md_text)
        );
    }
    if !spec.unreachable.is_empty() {
        out.push_str("\n**Could not look up**\n\n");
        for u in &spec.unreachable {
            let _ = writeln!(out, "- {}: {}", code(&u.id), md_text(&u.error));
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
                "| {} | {} |",
                cell(&code(&format!("{}:{}", s.file, s.line))),
                md_text(&s.reason)
            );
        }
        out.push_str("\n</details>\n");
    }
    out.push_str(&crate::spec::impact::report_section(&spec.dependencies));
    out
}

/// Inserts a zero-width space after an `@` or `#` that would start a mention (`@org/team`) or an
/// issue reference (`#12`, `org/repo#12`), so that quoted text notifies and links no one.
fn push_inert(out: &mut String, c: char, next: Option<char>, after_word: bool) {
    out.push(c);
    let starts = match c {
        '@' => next.is_some_and(|n| n.is_ascii_alphanumeric()),
        '#' => next.is_some_and(|n| n.is_ascii_digit()),
        _ => false,
    };
    // `a@b.c` is an address, not a mention; `x#1` is no reference either, unless after a repo.
    if starts && (!after_word || c == '#') {
        out.push('\u{200b}');
    }
}

/// An inline code span showing `s` exactly: fenced with one backtick more than the longest run
/// of backticks inside it (and padded with spaces when `s` starts or ends with one), line
/// breaks as spaces, other control characters as escapes. In a table, pass it through [`cell`].
pub fn code(s: &str) -> String {
    let flat = s.replace("\r\n", " ").replace(['\r', '\n'], " ");
    let text = escape_controls(&flat, false);
    if text.is_empty() {
        return String::new();
    }
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') || text.trim().is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// Text that someone else wrote (a server's message, a reason quoting a ref, a version as
/// written), for a line of markdown or a table cell: markdown and HTML punctuation is escaped,
/// line breaks become spaces, control characters show as escapes, and mentions and issue
/// references are broken by a zero-width space.
pub fn md_text(s: &str) -> String {
    let flat = s.replace("\r\n", " ").replace(['\r', '\n'], " ");
    let text = escape_controls(&flat, false);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let after_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if "\\`*[]<|&".contains(c) {
            out.push('\\');
        }
        push_inert(&mut out, c, chars.get(i + 1).copied(), after_word);
    }
    out
}

/// Text that someone else wrote, for an HTML element (a `<summary>`): `&`, `<`, `>` and `"` as
/// entities, line breaks as spaces, mentions and references broken.
pub fn html_text(s: &str) -> String {
    let flat = s.replace("\r\n", " ").replace(['\r', '\n'], " ");
    let text = escape_controls(&flat, false);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        let after_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => push_inert(&mut out, c, chars.get(i + 1).copied(), after_word),
        }
    }
    out
}

/// Markdown that someone else wrote (release notes), quoted: every line starts with `> `, so
/// nothing in it can end the quote or the section around it; `<` cannot open HTML (no
/// `</details>`, no `<!--`), control characters show as escapes, and mentions and issue
/// references are broken by a zero-width space. Its own markdown (lists, emphasis, code) stays.
pub fn md_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 64);
    for line in s.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let line = escape_controls(line, false);
        let chars: Vec<char> = line.chars().collect();
        out.push_str(if chars.is_empty() { ">" } else { "> " });
        for (i, &c) in chars.iter().enumerate() {
            let next = chars.get(i + 1).copied();
            let after_word = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
            if c == '<' && next.is_some_and(|n| n.is_ascii_alphabetic() || "/!?".contains(n)) {
                out.push_str("&lt;");
            } else {
                push_inert(&mut out, c, next, after_word);
            }
        }
        out.push('\n');
    }
    out
}

/// A URL for a markdown link: only `http` and `https`, with the characters that could end the
/// link or a table cell (`(`, `)`, `|`, spaces, `<`, `>`) percent-encoded. `None` for anything
/// else, which is then shown without a link.
pub fn md_url(s: &str) -> Option<String> {
    let url = url::Url::parse(s.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    Some(
        url.as_str()
            .replace('(', "%28")
            .replace(')', "%29")
            .replace('|', "%7C")
            .replace(' ', "%20")
            .replace('<', "%3C")
            .replace('>', "%3E"),
    )
}

/// Escapes a markdown table cell: pipes are escaped, line breaks become spaces and other
/// control characters show as escapes.
pub fn cell(s: &str) -> String {
    let joined = s.replace("\r\n", " ").replace(['\r', '\n'], " ");
    escape_controls(&joined, false).replace('|', "\\|")
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

    #[test]
    fn cells_hold_no_carriage_return_or_control_character() {
        // A version written `x<CR>::set-output …` once ended a line of the status table.
        assert_eq!(
            cell("x\r::set-output name=a::b\r\nc\u{1b}[2K"),
            "x ::set-output name=a::b c\\u{1b}[2K"
        );
    }

    #[test]
    fn text_tables_keep_every_row_on_one_line() {
        use crate::find::scan::fixtures::{report, usage};
        let text = scan_text(&report(vec![usage(
            "dev/a\r::set-output name=x::y\n\u{1b}[2K.tf",
            "github.com/o/r?ref=v1.0.0",
            "v1.0.0\r",
        )]));
        assert!(!text.contains(['\r', '\u{1b}']), "{text:?}");
        assert!(
            text.contains("dev/a\\r::set-output name=x::y\\n\\u{1b}[2K.tf:1"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 3, "{text}");
    }

    /// The scan's JSON, printed a chunk of usages per core, is byte for byte what the pretty
    /// printer gives for the whole report.
    #[test]
    fn scan_json_is_the_pretty_printer_s_at_every_size() {
        use crate::find::scan::FileProblem;
        use crate::find::scan::fixtures::{report, usage};
        for (usages, errors) in [(0, 0), (1, 0), (0, 2), (1, 1), (257, 0), (1_000, 3)] {
            let mut r = report(
                (0..usages)
                    .map(|i| {
                        let mut u = usage(
                            &format!("dev/ü{i}\n\"a\".tf"),
                            "github.com/o/r?ref=v1.0.0",
                            if i % 2 == 0 { "v1.0.0" } else { "\u{1b}\r" },
                        );
                        if i % 3 == 0 {
                            u.notes = vec!["a\nb".into(), "c".into()];
                            u.version_file = Some("x/{ }.hcl".into());
                        }
                        u
                    })
                    .collect(),
            );
            r.errors = (0..errors)
                .map(|i| FileProblem {
                    file: format!("e{i}.tf"),
                    line: (i > 0).then_some(i),
                    column: None,
                    message: "cannot \"parse\"\n".into(),
                })
                .collect();
            let mut out = Vec::new();
            write_scan_json(&r, &mut out).unwrap();
            let mut want = serde_json::to_string_pretty(&r).unwrap();
            want.push('\n');
            assert_eq!(
                String::from_utf8(out).unwrap(),
                want,
                "{usages} usages, {errors} errors"
            );
        }
    }

    #[test]
    fn code_spans_hold_any_backticks() {
        assert_eq!(code("dev/a.hcl"), "`dev/a.hcl`");
        assert_eq!(code("a`b``c"), "```a`b``c```");
        assert_eq!(code("`x"), "`` `x ``");
        assert_eq!(code("a\nb\r\u{1b}"), "`a b \\u{1b}`");
        assert_eq!(code(""), "");
        assert_eq!(cell(&code("a|b")), "`a\\|b`");
    }

    #[test]
    fn quoted_text_mentions_no_one_and_opens_no_html() {
        assert_eq!(
            md_text("@acme/admins see #12, mail a@b.c </details><!-- *x* [l](u) |"),
            "@\u{200b}acme/admins see #\u{200b}12, mail a@b.c \\</details>\\<!-- \\*x\\* \\[l\\](u) \\|"
        );
        assert_eq!(
            html_text("v1 <b>\"@x\" & o/r#1"),
            "v1 &lt;b&gt;&quot;@\u{200b}x&quot; &amp; o/r#\u{200b}1"
        );
        assert_eq!(
            md_quote("Hi @octo\r\n\n</details>\n<!--\n## h\na < b"),
            "> Hi @\u{200b}octo\n>\n> &lt;/details>\n> &lt;!--\n> ## h\n> a < b\n"
        );
    }

    #[test]
    fn links_are_http_only_and_cannot_end_early() {
        assert_eq!(
            md_url("https://github.com/o/r/releases/tag/v1)(x|y"),
            Some("https://github.com/o/r/releases/tag/v1%29%28x%7Cy".into())
        );
        assert_eq!(md_url("javascript:alert(1)"), None);
        assert_eq!(md_url("not a url"), None);
    }

    #[test]
    fn annotations_show_control_characters_and_break_legacy_commands() {
        assert_eq!(
            file_warning(
                true,
                "dev/\u{1b}x:y",
                None,
                None,
                "##[set-output name=a;]b\u{7}"
            ),
            "::warning file=dev/\\u{1b}x%3Ay::#\u{200b}#[set-output name=a;]b\\u{7}"
        );
        assert_eq!(
            file_warning(false, "dev/a\rb.hcl", Some(1), None, "bad\u{1b}[2K"),
            "warning: dev/a\\rb.hcl:1: bad\\u{1b}[2K"
        );
    }
}
