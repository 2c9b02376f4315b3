//! Reads the source blocks of a file without the parser, when their `source` and `version` are
//! written in the plain form most files use: one-line attributes whose values are literals.
//!
//! A scan parses only the items that can hold a module source (see [`super::skeleton`]); in most
//! Terragrunt units that is one `terraform { source = "…" }` block, and in a root module its
//! `module` blocks; parsing them with hcl-edit is still most of the cost of scanning the file.
//! The finder reads nothing of a block but its `source` and `version`, so this reader checks
//! those itself and follows the rest of the block with the skeleton's lexer (strings,
//! interpolations, heredocs, comments, brackets), as the skeleton does for the items it blanks.
//! It gives up (`None`) on anything beyond that: the caller then parses, so every file that parses
//! gets what the parser would give. What it accepts:
//!
//! - a header of the block word, quoted labels and `{`, the rest of the line blank or a comment;
//! - inside, items the lexer follows, each ending at a newline outside brackets: an attribute
//!   `name = …`, or a nested block (a word, labels, `{ … }`);
//! - `source` and `version` written on one line as `name = value` with an optional comment,
//!   where `value` is a quoted string without escapes or interpolation (`\`, `$`, `%` and
//!   control characters are not accepted), an integer, `true`, `false` or `null`;
//! - a line `}` closing the block, with an optional comment, and nothing after it;
//! - each attribute name at most once per block.
//!
//! The other attributes' values are not read: Baton does not evaluate them, so a syntax error
//! there is left to Terraform, as it is in the items the skeleton blanks. Since `source` and
//! `version` are plain strings, nothing is evaluated: `locals` and includes are not needed.

use super::skeleton::{SOURCE_BLOCKS, first_word, top_level_items_within};
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
/// `items` are the text's top-level items (see [`super::top_level_items`]).
pub fn literal_blocks<'t>(text: &'t str, items: &[Range<usize>]) -> Option<Vec<LiteralBlock<'t>>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    for r in items.iter().cloned() {
        let item = &b[r.clone()];
        if !SOURCE_BLOCKS.contains(&first_word(item)) {
            continue;
        }
        out.push(block(text, r)?);
    }
    Some(out)
}

/// The attributes the finder reads, which must be plain literals for this reader.
const READ: &[&str] = &["source", "version"];

/// How deep the values and nested blocks this reader follows may nest (deeper: the parser
/// decides, and reports what it cannot read).
const MAX_DEPTH: usize = 32;

/// Reads one block spanning `r` of `text`.
fn block(text: &str, r: Range<usize>) -> Option<LiteralBlock<'_>> {
    let b = text.as_bytes();
    let item = &b[r.clone()];
    // A `\r` elsewhere than before a newline (even in a comment): how the parser reads that is
    // not this reader's to guess.
    let crlf = memchr::memchr_iter(b'\r', item).all(|n| b.get(r.start + n + 1) == Some(&b'\n'));
    if !crlf {
        return None;
    }
    let line_end = |start: usize| {
        let stop = memchr::memchr(b'\n', &b[start..r.end]).map_or(r.end, |n| start + n);
        if stop > start && b[stop - 1] == b'\r' {
            stop - 1
        } else {
            stop
        }
    };
    let header_end = line_end(r.start);
    let word = ident(b, r.start, header_end)?;
    let brace = labels(b, word.end, header_end, false)?;
    if !rest_blank(b, brace + 1, header_end) {
        return None;
    }
    // The last line of the item closes the block: `}` and an optional comment.
    let last = memchr::memrchr(b'\n', &b[r.start..r.end]).map(|n| r.start + n + 1)?;
    let close = skip_blank(b, last, r.end);
    if b.get(close) != Some(&b'}') || close >= r.end || !rest_blank(b, close + 1, line_end(last)) {
        return None;
    }
    let body = header_end.min(r.end)..last;
    let mut names: Vec<&str> = Vec::new();
    let mut attributes: Vec<LiteralAttribute<'_>> = Vec::new();
    for inner in top_level_items_within(&b[body.clone()], MAX_DEPTH)? {
        let (start, end) = (body.start + inner.start, body.start + inner.end);
        let name = ident(b, start, end)?;
        let after = skip_blank(b, name.end, end);
        if b.get(after) == Some(&b'=') && b.get(after + 1) != Some(&b'=') && after < end {
            // A value must start on the attribute's line.
            if rest_blank(b, after + 1, line_end(start)) {
                return None;
            }
            let name = &text[name];
            if names.contains(&name) {
                return None;
            }
            names.push(name);
            if READ.contains(&name) {
                // One line, a literal: the item must not go on past its line.
                if memchr::memchr(b'\n', &b[start..end]).is_some() {
                    return None;
                }
                attributes.push(attribute(text, start, line_end(start))?);
            }
        } else {
            // A nested block: its word, labels and `{`; the lexer followed the rest.
            labels(b, name.end, line_end(start), true)?;
        }
    }
    Some(LiteralBlock {
        ident: &text[word],
        attributes,
    })
}

/// The offset of the `{` after a block's word, past its labels (quoted strings without escapes
/// or interpolation, and identifiers when `words`) and blank space, on the same line.
fn labels(b: &[u8], mut i: usize, end: usize, words: bool) -> Option<usize> {
    loop {
        i = skip_blank(b, i, end);
        match b.get(i) {
            Some(b'{') if i < end => return Some(i),
            Some(b'"') if i < end => i = quoted(b, i, end)?,
            Some(_) if i < end && words => i = ident(b, i, end)?.end,
            _ => return None,
        }
    }
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
pub(super) fn ident(b: &[u8], i: usize, end: usize) -> Option<Range<usize>> {
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
pub(super) fn quoted(b: &[u8], i: usize, end: usize) -> Option<usize> {
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
pub(super) fn skip_blank(b: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// Whether the line from `i` to `end` is blank or a `#` or `//` comment (`/*` is not read).
pub(super) fn rest_blank(b: &[u8], i: usize, end: usize) -> bool {
    let i = skip_blank(b, i, end);
    i == end || b[i] == b'#' || b[i..end].starts_with(b"//")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each block's word and attributes (name, value as written, quoted).
    type Read = Vec<(String, Vec<(String, String, bool)>)>;

    fn names(text: &str) -> Option<Read> {
        let items = super::super::top_level_items(text)?;
        literal_blocks(text, &items).map(|blocks| {
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
                vec![(
                    "source".into(),
                    "\"git::https://x/y.git//m?ref=v1.2.0\"".into(),
                    true
                ),]
            )])
        );
        let module = "module \"a\" \"b\" {\n  source  = \"x/y/aws\"\n  version = \"~> 1.0\"\n}\n";
        assert_eq!(names(module).unwrap()[0].1.len(), 2);
    }

    /// Values the finder does not read are followed by the lexer, not read: `locals`, heredocs,
    /// nested blocks and multi-line values no longer send the file to the parser.
    #[test]
    fn what_the_finder_does_not_read_is_followed_not_read() {
        let module = "module \"core_0\" {\n  source = \"github.com/a/b//m?ref=v2.1.0\"\n\n  name        = \"${local.name}-0\" # include\n  policy_json = local.policy\n  capacity    = 12\n  tags = {\n    a = \"}\"\n    b = [for x in [1] : x]\n  }\n  description = <<EOT\n  Instance 0 { of core.\n  EOT\n  providers = { aws = aws.east }\n  /* a\n  comment */\n}\n";
        assert_eq!(
            names(module),
            Some(vec![(
                "module".into(),
                vec![(
                    "source".into(),
                    "\"github.com/a/b//m?ref=v2.1.0\"".into(),
                    true
                )]
            )])
        );
        let unit = "terraform {\r\n  extra_arguments \"vars\" {\r\n    commands = [\"plan\"]\r\n    source = x\r\n  }\r\n  before_hook hook {\r\n  }\r\n  source = \"git::https://x/y.git?ref=v1\" // pinned\r\n}\r\n";
        let read = names(unit).expect("read");
        assert_eq!(read[0].1.len(), 1, "{read:?}");
        assert_eq!(read[0].1[0].1, "\"git::https://x/y.git?ref=v1\"");
        let nested = |n: usize| {
            format!(
                "module \"m\" {{\n  source = \"a\"\n  b = {}{}\n}}\n",
                "[".repeat(n),
                "]".repeat(n)
            )
        };
        assert!(names(&nested(MAX_DEPTH)).is_some());
        assert_eq!(
            names(&nested(MAX_DEPTH + 1)),
            None,
            "deeper: the parser decides"
        );
        let stack = "unit \"a\" {\n  source = \"git::https://x/y.git?ref=v1\"\n  path   = \"a\"\n  values = {\n    region = local.region\n  }\n}\n";
        assert_eq!(names(stack).expect("read")[0].1.len(), 1);
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
            "terraform { source = \"a\" }\n",
            "terraform {\n  source = \"a\" } \n",
            "terraform {\n  source = \"a\"\n} x\n",
            "terraform {\n  source = <<EOT\nx\nEOT\n}\n",
            "terraform {\n  source = \"a\" /* c */\n}\n",
            "terraform {\n  a == 1\n}\n",
            "terraform {\n  9a = 1\n}\n",
            "terraform x {\n}\n",
            "terraform \"a\" b {\n}\n",
            "terraform {\n  source = \"a\"\n",
            "terraform {\n  source = \"a\tb\"\n}\n",
            "terraform {\n  source = \"a\" # c\rd\n}\n",
            "terraform {\n \r \n  source = \"a\"\n}\n",
            "terraform {\n  source = \"a\"\n  x = \"${y}\"\n  source = \"b\"\n}\n",
            "terraform {\n  x = 1\n  x = {\n  }\n}\n",
            "terraform {\n  source = \"a\"\n  version = var.v\n}\n",
            "terraform {\n  version = \"1\" /* c */\n}\n",
            "module \"m\" {\n  source = \"a\"\n  b = {\n}\n",
            "module \"m\" {\n  source = \"a\"\n  b = \"${x\"\n}\n",
            "module \"m\" {\n  source = \"a\"\n  b = <<EOT\n  x\n}\n",
            "module \"m\" {\n  source = \"a\"\n  b.c = 1\n}\n",
            "module \"m\" {\n  source = \"a\"\n  lifecycle x.y {\n  }\n}\n",
            "module \"m\" {\n  source = \"a\"\n  = 1\n}\n",
            "module \"m\" {\n  source = \"a\"\n  b = 1 # \r 2\n}\n",
            "module \"m\" {\n  source = \"a\"\n  b = # nothing\n}\n",
            "module \"m\" {\n  source = \"a\"\n  b =\n    1\n}\n",
        ] {
            assert_eq!(names(text), None, "{text:?}");
        }
    }
}
