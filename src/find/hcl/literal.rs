//! Reads the source blocks of a file without the parser, when they are written in the plain form
//! most files use: a block of one-line attributes whose values are literals.
//!
//! A scan parses only the items that can hold a module source (see [`super::skeleton`]); in most
//! Terragrunt units that is one `terraform { source = "…" }` block, and parsing it with hcl-edit
//! is still most of the cost of scanning the file. This reader checks the whole syntax of such
//! blocks itself, line by line, and gives up (`None`) on anything beyond it: the caller then
//! parses, so every file either gets what the parser would give or is parsed. What it accepts:
//!
//! - a header of the block word, quoted labels and `{`, the rest of the line blank or a comment;
//! - lines that are blank, a `#` or `//` comment, or `name = value` with an optional comment,
//!   where `value` is a quoted string without escapes or interpolation (`\`, `$`, `%` and
//!   control characters are not accepted), an integer, `true`, `false` or `null`;
//! - a line `}` closing the block, with an optional comment, and nothing after it;
//! - each name at most once per block.
//!
//! Like the skeleton, the items that cannot hold a source are not read at all; and when a kept
//! item mentions `local` or `include`, the evaluator needs those blocks: the reader gives up.

use super::skeleton::{SOURCE_BLOCKS, contains, first_word, top_level_items};
use std::ops::Range;

/// One attribute of a [`LiteralBlock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralAttribute<'t> {
    /// Its name.
    pub name: &'t str,
    /// The bytes of its value, quotes included.
    pub value: Range<usize>,
    /// Whether the value is a quoted string (else an integer, a boolean or `null`).
    pub quoted: bool,
}

/// A source block read without the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiteralBlock<'t> {
    /// The block's word (`module`, `terraform`, `unit`, `stack`).
    pub ident: &'t str,
    /// Its attributes, in order.
    pub attributes: Vec<LiteralAttribute<'t>>,
}

impl LiteralBlock<'_> {
    /// The attribute of that name.
    pub fn get(&self, name: &str) -> Option<&LiteralAttribute<'_>> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// The source blocks of `text` (BOM stripped), in order, when every one of them is written in
/// the form this reader checks and none mentions `local` or `include`; `None` otherwise.
pub fn literal_blocks(text: &str) -> Option<Vec<LiteralBlock<'_>>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for r in top_level_items(b)? {
        let item = &b[r.clone()];
        if !SOURCE_BLOCKS.contains(&first_word(item)) {
            continue;
        }
        if contains(item, b"local") || contains(item, b"include") {
            return None;
        }
        out.push(block(text, r)?);
    }
    Some(out)
}

/// Reads one block spanning `r` of `text`.
fn block(text: &str, r: Range<usize>) -> Option<LiteralBlock<'_>> {
    let b = text.as_bytes();
    let mut lines = Lines {
        b,
        at: r.start,
        end: r.end,
        stray_cr: false,
    };
    let header = lines.next()?;
    let ident = ident(b, header.start, header.end)?;
    let mut i = ident.end;
    loop {
        i = skip_blank(b, i, header.end);
        match b.get(i) {
            Some(b'"') if i < header.end => i = quoted(b, i, header.end)?,
            Some(b'{') if i < header.end => break,
            _ => return None,
        }
    }
    if !rest_blank(b, i + 1, header.end) {
        return None;
    }
    let mut attributes: Vec<LiteralAttribute<'_>> = Vec::new();
    loop {
        let line = lines.next()?;
        let i = skip_blank(b, line.start, line.end);
        if b.get(i) == Some(&b'}') && i < line.end {
            if !rest_blank(b, i + 1, line.end) {
                return None;
            }
            break;
        }
        if rest_blank(b, i, line.end) {
            continue;
        }
        let attr = attribute(text, i, line.end)?;
        if attributes.iter().any(|a| a.name == attr.name) {
            return None;
        }
        attributes.push(attr);
    }
    // Nothing but blank space may follow the closing brace in the item.
    for line in lines.by_ref() {
        if skip_blank(b, line.start, line.end) != line.end {
            return None;
        }
    }
    if lines.stray_cr {
        return None;
    }
    Some(LiteralBlock {
        ident: &text[ident],
        attributes,
    })
}

/// `name = value` from `i` to the end of its line, with an optional comment.
fn attribute(text: &str, i: usize, end: usize) -> Option<LiteralAttribute<'_>> {
    let b = text.as_bytes();
    let name = ident(b, i, end)?;
    let i = skip_blank(b, name.end, end);
    if b.get(i) != Some(&b'=') || i >= end {
        return None;
    }
    let start = skip_blank(b, i + 1, end);
    let (stop, quoted) = match b.get(start) {
        _ if start >= end => return None,
        Some(b'"') => (quoted(b, start, end)?, true),
        Some(c) if c.is_ascii_digit() => {
            let n = b[start..end]
                .iter()
                .position(|c| !c.is_ascii_digit())
                .unwrap_or(end - start);
            (n <= 15).then_some((start + n, false))?
        }
        _ => {
            let word = ident(b, start, end)?;
            matches!(&text[word.clone()], "true" | "false" | "null").then_some((word.end, false))?
        }
    };
    // A value ends at blank space, a comment or the end of the line: `12a` or `"x"y` is not one.
    let after = b.get(stop).copied();
    let ends = stop == end || matches!(after, Some(b' ' | b'\t' | b'#' | b'/'));
    (ends && rest_blank(b, stop, end)).then(|| LiteralAttribute {
        name: &text[name],
        value: start..stop,
        quoted,
    })
}

/// An identifier starting at `i` (ASCII letters, digits, `_` and `-`, not starting with a digit
/// or `-`), ending before `end`; it must not run into a non-ASCII byte.
fn ident(b: &[u8], i: usize, end: usize) -> Option<Range<usize>> {
    let first = *b.get(i).filter(|_| i < end)?;
    if !(first.is_ascii_alphabetic() || first == b'_') {
        return None;
    }
    let n = b[i..end]
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'-'))
        .unwrap_or(end - i);
    if b.get(i + n).is_some_and(|&c| c >= 0x80) && i + n < end {
        return None;
    }
    Some(i..i + n)
}

/// The offset after a quoted string starting at `i` (its closing quote included), when it holds
/// no escape, interpolation, directive or control character and ends before `end`.
fn quoted(b: &[u8], i: usize, end: usize) -> Option<usize> {
    let mut j = i + 1;
    while j < end {
        match b[j] {
            b'"' => return Some(j + 1),
            b'\\' | b'$' | b'%' => return None,
            c if c < 0x20 || c == 0x7f => return None,
            _ => j += 1,
        }
    }
    None
}

/// The first offset at or after `i` (before `end`) that is not a space or a tab.
fn skip_blank(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// Whether the line from `i` to `end` is blank or a `#` or `//` comment (`/*` is not read).
fn rest_blank(b: &[u8], i: usize, end: usize) -> bool {
    let i = skip_blank(b, i, end);
    i == end || b[i] == b'#' || b[i..end].starts_with(b"//")
}

/// The lines of an item, each without its newline and without a `\r` before it.
struct Lines<'b> {
    b: &'b [u8],
    at: usize,
    end: usize,
    /// Whether a line held a `\r` elsewhere than before its newline (even in a comment): how
    /// the parser reads that is not this reader's to guess.
    stray_cr: bool,
}

impl Iterator for Lines<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        if self.at > self.end {
            return None;
        }
        let start = self.at;
        let stop = memchr::memchr(b'\n', &self.b[start..self.end]).map_or(self.end, |n| start + n);
        self.at = stop + 1;
        let line_end = if stop > start && self.b[stop - 1] == b'\r' {
            stop - 1
        } else {
            stop
        };
        self.stray_cr |= memchr::memchr(b'\r', &self.b[start..line_end]).is_some();
        Some(start..line_end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each block's word and attributes (name, value as written, quoted).
    type Read = Vec<(String, Vec<(String, String, bool)>)>;

    fn names(text: &str) -> Option<Read> {
        literal_blocks(text).map(|blocks| {
            blocks
                .into_iter()
                .map(|b| {
                    let attrs = b
                        .attributes
                        .iter()
                        .map(|a| {
                            (
                                a.name.to_string(),
                                text[a.value.clone()].to_string(),
                                a.quoted,
                            )
                        })
                        .collect();
                    (b.ident.to_string(), attrs)
                })
                .collect()
        })
    }

    #[test]
    fn plain_blocks_are_read() {
        let text = "# unit\ninclude \"root\" {\n  path = find_in_parent_folders()\n}\n\nterraform { # the module\n  source = \"git::https://x/y.git//m?ref=v1.2.0\" # pinned\n\n  // note\n  count = 12\n  on = true\n}\r\n\ninputs = {\n  a = 1\n}\n";
        assert_eq!(
            names(text),
            Some(vec![(
                "terraform".into(),
                vec![
                    (
                        "source".into(),
                        "\"git::https://x/y.git//m?ref=v1.2.0\"".into(),
                        true
                    ),
                    ("count".into(), "12".into(), false),
                    ("on".into(), "true".into(), false),
                ]
            )])
        );
        let module = "module \"a\" \"b\" {\n  source  = \"x/y/aws\"\n  version = \"~> 1.0\"\n}\n";
        assert_eq!(names(module).unwrap()[0].1.len(), 2);
    }

    #[test]
    fn anything_else_is_left_to_the_parser() {
        for text in [
            "terraform {\n  source = \"${local.x}\"\n}\n",
            "terraform {\n  source = \"a\\\"b\"\n}\n",
            "terraform {\n  source = \"a%{if}\"\n}\n",
            "terraform {\n  source = \"a\" \"b\"\n}\n",
            "terraform {\n  source = \"a\"b\n}\n",
            "terraform {\n  source = x\n}\n",
            "terraform {\n  source = 12a\n}\n",
            "terraform {\n  source = \"a\"\n  source = \"b\"\n}\n",
            "terraform {\n  extra_arguments \"x\" {\n  }\n}\n",
            "terraform { source = \"a\" }\n",
            "terraform {\n  source = \"a\" } \n",
            "terraform {\n  source = \"a\"\n} x\n",
            "terraform {\n  source = <<EOT\nx\nEOT\n}\n",
            "terraform {\n  source = \"a\" /* c */\n}\n",
            "terraform {\n  a = [1]\n}\n",
            "terraform {\n  a == 1\n}\n",
            "terraform {\n  9a = 1\n}\n",
            "terraform x {\n}\n",
            "terraform \"a\" b {\n}\n",
            "terraform {\n  source = \"a\"\n",
            "terraform {\n  source = \"a\tb\"\n}\n",
            "module \"m\" {\n  source = \"./m\"\n  name = local.name\n}\n",
            "module \"m\" {\n  source = \"./m\" # include\n}\n",
            "terraform {\n  source = \"a\" # c\rd\n}\n",
            "terraform {\n \r \n  source = \"a\"\n}\n",
        ] {
            assert_eq!(names(text), None, "{text:?}");
        }
    }
}
