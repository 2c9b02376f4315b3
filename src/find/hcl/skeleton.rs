//! Blanks the top-level items of a file that cannot hold a module source, before it is parsed.
//!
//! Most of a Terragrunt unit is its `inputs` map, `dependency` blocks and `generate` heredocs;
//! most of a root module is resources and variables. None of them can hold a module source, yet
//! parsing them is most of the cost of a scan. A light lexer finds the top-level items (it follows
//! strings, interpolations, heredocs, comments and brackets, nothing more) and every item whose
//! first word is not one the finder reads is overwritten with spaces. Newlines are kept, so byte
//! offsets and line numbers in the result are those of the original text.
//!
//! The lexer gives up (returns `None`) on anything it does not follow, such as an unterminated
//! string, a stray closing bracket or a newline inside a quoted string: the caller then parses the
//! text as written, which also yields the parser's own error message.

use std::ops::Range;

/// The top-level blocks that hold module sources.
pub(super) const SOURCE_BLOCKS: &[&str] = &["module", "terraform", "unit", "stack"];

/// What a parse must keep of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// A scanned file: the source blocks, and the `locals` and `include` blocks when a kept item
    /// may refer to them.
    Sources,
    /// A file read through an include or `read_terragrunt_config`: its `locals` and `include`
    /// blocks, which are all that is looked up there.
    References,
    /// A Terragrunt unit read for what it passes to its module: its `include` blocks, its
    /// `terraform` blocks that hold `extra_arguments`, and the `locals` they mention; its
    /// `inputs` are read by [`super::inputs`].
    CallSite,
    /// A Terragrunt unit read for the outputs it reads of others: every item that mentions
    /// `dependency` (its `dependency` blocks, and whatever reads `dependency.<name>.outputs`),
    /// and the `locals` and `include` blocks they mention.
    Dependencies,
}

/// Returns `text` with every top-level item that `keep` does not need replaced by spaces
/// (newlines kept), or `None` when nothing would be blanked or the lexer cannot follow the text.
pub fn skeleton(text: &str, keep: Keep) -> Option<String> {
    blank(text, top_level_items(text.as_bytes())?, keep)
}

/// `text` with every top-level item blanked but the one that holds byte `offset` (newlines
/// kept), or `None` when no item holds it, it is the only item or the lexer cannot follow the
/// text.
pub fn only_item_at(text: &str, offset: usize) -> Option<String> {
    let items = top_level_items(text.as_bytes())?;
    let kept: Vec<bool> = (items.iter())
        .map(|r| r.start <= offset && offset < r.end)
        .collect();
    if !kept.contains(&true) {
        return None;
    }
    overwrite(text, items, &kept)
}

/// [`skeleton`], given the top-level items of `text`.
pub(super) fn blank(text: &str, items: Vec<Range<usize>>, keep: Keep) -> Option<String> {
    let kept = kept(text, &items, keep);
    overwrite(text, items, &kept)
}

/// `text` with the `items` not `kept` overwritten with spaces (newlines kept), or `None` when
/// every item is kept.
fn overwrite(text: &str, items: Vec<Range<usize>>, kept: &[bool]) -> Option<String> {
    let b = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    for (r, &k) in items.into_iter().zip(kept) {
        if k {
            continue;
        }
        let bytes = out.get_or_insert_with(|| b.to_vec());
        for c in &mut bytes[r] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    }
    // Items start after ASCII blank space and end at a newline, so every byte of a multi-byte
    // character is overwritten or none is: the result is UTF-8 (were it not, the caller would
    // parse the text as written).
    out.and_then(|bytes| String::from_utf8(bytes).ok())
}

/// Which of the top-level `items` of `text` a parse must keep for `keep`.
pub(super) fn kept(text: &str, items: &[Range<usize>], keep: Keep) -> Vec<bool> {
    let b = text.as_bytes();
    let items: Vec<(Range<usize>, &str)> = items
        .iter()
        .map(|r| (r.clone(), first_word(&b[r.clone()])))
        .collect();
    let mut kept: Vec<bool> = items
        .iter()
        .map(|(r, word)| match keep {
            Keep::Sources => SOURCE_BLOCKS.contains(word),
            Keep::References => matches!(*word, "locals" | "include"),
            Keep::CallSite => {
                *word == "include"
                    || *word == "terraform" && contains(&b[r.clone()], b"extra_arguments")
            }
            Keep::Dependencies => contains(&b[r.clone()], b"dependency"),
        })
        .collect();
    // `locals` and `include` blocks are needed once a kept item mentions them (a word test, so it
    // may keep more than needed, never less; `get_parent_terragrunt_dir()` reads the include
    // too); they may mention each other.
    loop {
        let mentions = |needle: &str| {
            items
                .iter()
                .zip(&kept)
                .any(|((r, _), &k)| k && contains(&b[r.clone()], needle.as_bytes()))
        };
        let (locals, include) = (
            mentions("local"),
            mentions("include") || mentions("get_parent_terragrunt_dir"),
        );
        let mut changed = false;
        for ((_, word), k) in items.iter().zip(kept.iter_mut()) {
            let wanted = (*word == "locals" && locals) || (*word == "include" && include);
            if wanted && !*k {
                *k = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    kept
}

/// What encloses the current position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// An open bracket, by the byte that closes it.
    Bracket(u8),
    /// A quoted template string.
    Quoted,
    /// A `${…}` or `%{…}` inside a quoted string.
    Interpolation,
}

/// A byte table: which bytes end a run of plain text.
const fn stops(bytes: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        table[bytes[i] as usize] = true;
        i += 1;
    }
    table
}

/// Bytes that matter in an expression: comments, strings, heredocs, brackets and newlines.
static EXPRESSION_STOPS: [bool; 256] = stops(b"#/\"<{[()]}\n");
/// Bytes that matter in a quoted string: escapes, its end, interpolations and (invalid) newlines.
static QUOTED_STOPS: [bool; 256] = stops(b"\\\"$%\n");

/// The offset of the next byte at or after `i` that `table` stops at, or the end of `b`.
fn skip(b: &[u8], i: usize, table: &[bool; 256]) -> usize {
    b[i..]
        .iter()
        .position(|&c| table[c as usize])
        .map_or(b.len(), |n| i + n)
}

/// The byte ranges of the top-level items: from an item's first byte to the newline that ends it
/// (excluded), comments between items left out.
pub(super) fn top_level_items(b: &[u8]) -> Option<Vec<Range<usize>>> {
    top_level_items_within(b, usize::MAX)
}

/// [`top_level_items`], giving up where brackets, strings and interpolations nest deeper than
/// `max_depth`.
pub(super) fn top_level_items_within(b: &[u8], max_depth: usize) -> Option<Vec<Range<usize>>> {
    let mut lexer = Lexer {
        b,
        i: 0,
        stack: Vec::new(),
        max_depth,
        start: None,
        items: Vec::new(),
    };
    while lexer.i < b.len() {
        lexer.step()?;
    }
    lexer.finish()
}

/// The offset just past the bracketed group or quoted string that opens at `at` (`{`, `[`, `(`
/// or `"`), following nested strings, interpolations, heredocs and comments; `None` when the
/// lexer cannot follow it, it nests deeper than `max_depth` or it does not close.
pub(super) fn closing(b: &[u8], at: usize, max_depth: usize) -> Option<usize> {
    if !matches!(b.get(at), Some(b'{' | b'[' | b'(' | b'"')) {
        return None;
    }
    let mut lexer = Lexer {
        b,
        i: at,
        stack: Vec::new(),
        max_depth,
        start: Some(at),
        items: Vec::new(),
    };
    lexer.expression()?;
    while !lexer.stack.is_empty() {
        if lexer.i >= b.len() {
            return None;
        }
        lexer.step()?;
    }
    Some(lexer.i)
}

/// The light lexer's state: where it is, what encloses it and the items found so far.
struct Lexer<'b> {
    /// The text.
    b: &'b [u8],
    /// The offset of the next byte to look at.
    i: usize,
    /// What encloses `i`, innermost last.
    stack: Vec<Frame>,
    /// The deepest `stack` followed.
    max_depth: usize,
    /// Where the current top-level item starts, while in one.
    start: Option<usize>,
    /// The items ended so far.
    items: Vec<Range<usize>>,
}

impl Lexer<'_> {
    /// Moves past the next thing that matters (`None`: the lexer cannot follow the text).
    fn step(&mut self) -> Option<()> {
        if self.stack.len() > self.max_depth {
            return None;
        }
        if self.stack.last() == Some(&Frame::Quoted) {
            return self.quoted();
        }
        if self.stack.is_empty() && self.start.is_none() {
            self.between_items();
        } else {
            self.i = skip(self.b, self.i, &EXPRESSION_STOPS);
        }
        self.expression()
    }

    /// Inside a quoted string: escapes, its end, interpolations; a newline gives up.
    fn quoted(&mut self) -> Option<()> {
        let b = self.b;
        self.i = skip(b, self.i, &QUOTED_STOPS);
        let i = self.i;
        let Some(&c) = b.get(i) else { return Some(()) };
        match (c, b.get(i + 1).copied()) {
            (b'\\', _) => self.i += 2,
            (b'"', _) => {
                self.stack.pop();
                self.i += 1;
            }
            // `$${` and `%%{` are literal text.
            (b'$', Some(b'$')) | (b'%', Some(b'%')) if b.get(i + 2) == Some(&b'{') => self.i += 3,
            (b'$' | b'%', Some(b'{')) => {
                self.stack.push(Frame::Interpolation);
                self.i += 2;
            }
            (b'\n', _) => return None,
            _ => self.i += 1,
        }
        Some(())
    }

    /// Between items: past blank space; an item starts at anything but a comment.
    fn between_items(&mut self) {
        let b = self.b;
        while self.i < b.len() && matches!(b[self.i], b' ' | b'\t' | b'\r' | b'\n') {
            self.i += 1;
        }
        let i = self.i;
        let Some(&c) = b.get(i) else { return };
        if !(c == b'#' || c == b'/' && matches!(b.get(i + 1), Some(b'/' | b'*'))) {
            self.start = Some(i);
        }
    }

    /// In an expression, at a byte that may matter: comments, strings, heredocs, brackets, and
    /// the newline that ends a top-level item.
    fn expression(&mut self) -> Option<()> {
        let b = self.b;
        let i = self.i;
        let Some(&c) = b.get(i) else { return Some(()) };
        match (c, b.get(i + 1).copied()) {
            (b'#', _) | (b'/', Some(b'/')) => {
                // A line comment: up to the newline, which is looked at next.
                self.i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n);
            }
            (b'/', Some(b'*')) => {
                let end = memchr::memmem::find(&b[i + 2..], b"*/")?;
                self.i += 2 + end + 2;
            }
            (b'\n', _) => {
                if self.stack.is_empty() {
                    if let Some(s) = self.start.take() {
                        self.items.push(s..i);
                    }
                }
                self.i += 1;
            }
            (b'"', _) => {
                self.stack.push(Frame::Quoted);
                self.i += 1;
            }
            (b'<', Some(b'<')) => match heredoc(b, i) {
                Heredoc::NotOne => self.i += 2,
                Heredoc::EndsAt(end) => self.i = end,
                Heredoc::Unterminated => return None,
            },
            (b'{' | b'[' | b'(' | b'}' | b']' | b')', _) => return self.bracket(c),
            _ => self.i += 1,
        }
        Some(())
    }

    /// An opening bracket, or a closing one that must match what is open (`}` also closes an
    /// interpolation).
    fn bracket(&mut self, c: u8) -> Option<()> {
        match c {
            b'{' => self.stack.push(Frame::Bracket(b'}')),
            b'[' => self.stack.push(Frame::Bracket(b']')),
            b'(' => self.stack.push(Frame::Bracket(b')')),
            b'}' => match self.stack.pop() {
                Some(Frame::Bracket(b'}')) | Some(Frame::Interpolation) => {}
                _ => return None,
            },
            _ => {
                if self.stack.pop() != Some(Frame::Bracket(c)) {
                    return None;
                }
            }
        }
        self.i += 1;
        Some(())
    }

    /// At the end of the text: every bracket and string closed, the last item ended.
    fn finish(mut self) -> Option<Vec<Range<usize>>> {
        if !self.stack.is_empty() {
            return None;
        }
        if let Some(s) = self.start {
            self.items.push(s..self.b.len());
        }
        Some(self.items)
    }
}

/// What follows a `<<`.
enum Heredoc {
    /// Not `<<EOT` or `<<-EOT` followed by the end of the line.
    NotOne,
    /// A heredoc whose closing marker ends at this offset.
    EndsAt(usize),
    /// A heredoc without its closing marker.
    Unterminated,
}

/// Whether `b[at..]` (which starts with `<<`) opens a heredoc, and where it ends.
fn heredoc(b: &[u8], at: usize) -> Heredoc {
    let mut i = at + 2;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let name_start = i;
    while i < b.len() && is_id_continue(b[i]) {
        i += 1;
    }
    let name = &b[name_start..i];
    if name.is_empty() || name[0].is_ascii_digit() || name[0] == b'-' {
        return Heredoc::NotOne;
    }
    if b.get(i) == Some(&b'\r') {
        i += 1;
    }
    if b.get(i) != Some(&b'\n') {
        return Heredoc::NotOne;
    }
    i += 1;
    // As hcl-edit reads it: the body ends at a line that starts with the marker (after spaces or
    // tabs) not followed by an identifier character; the expression goes on right after it.
    while i < b.len() {
        let mut m = i;
        while m < b.len() && (b[m] == b' ' || b[m] == b'\t') {
            m += 1;
        }
        if b[m..].starts_with(name) && !b.get(m + name.len()).is_some_and(|&c| is_id_continue(c)) {
            return Heredoc::EndsAt(m + name.len());
        }
        match memchr::memchr(b'\n', &b[i..]) {
            Some(n) => i += n + 1,
            None => break,
        }
    }
    Heredoc::Unterminated
}

/// Whether a byte may continue an identifier (any non-ASCII byte is taken to: HCL identifiers
/// may hold Unicode letters).
fn is_id_continue(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c >= 0x80
}

/// The word an item starts with (`module`, `inputs`, …).
pub(super) fn first_word(item: &[u8]) -> &str {
    let end = item
        .iter()
        .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-'))
        .unwrap_or(item.len());
    std::str::from_utf8(&item[..end]).unwrap_or("")
}

pub(super) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kept text with the blanked lines dropped, for readable assertions.
    fn kept(text: &str, keep: Keep) -> Option<String> {
        let out = skeleton(text, keep)?;
        assert_eq!(out.len(), text.len());
        for (o, t) in out.bytes().zip(text.bytes()) {
            assert!(o == t || (o == b' ' && t != b'\n'), "{text:?} -> {out:?}");
        }
        Some(
            out.lines()
                .map(str::trim_end)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }

    const UNIT: &str = r#"# header { not a block
include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "git::https://github.com/acme/mods.git//vpc?ref=v1.2.0"
}

dependency "vpc" {
  config_path = "../vpc"
  mock_outputs = { id = "}" }
}

inputs = {
  name   = "a ${upper("}")} b" // "
  policy = <<-EOT
    { "unbalanced": [
    EOT
  list   = [for x in ["a", "b"] : "${x}-$${literal}"]
  é      = "ü"
}
"#;

    #[test]
    fn blanks_what_cannot_hold_a_source() {
        assert_eq!(
            kept(UNIT, Keep::Sources).unwrap(),
            "# header { not a block\nterraform {\n  source = \"git::https://github.com/acme/mods.git//vpc?ref=v1.2.0\"\n}"
        );
    }

    #[test]
    fn keeps_locals_and_includes_when_something_kept_mentions_them() {
        let text = "include \"root\" {\n  path = find_in_parent_folders(local.root)\n}\n\
                    locals {\n  root = \"root.hcl\"\n}\n\
                    locals {\n  other = 1\n}\n\
                    terraform {\n  source = \"${include.root.locals.base}?ref=v1.0.0\"\n}\n\
                    inputs = {}\n";
        // The source needs the include, whose path needs the locals.
        let out = kept(text, Keep::Sources).unwrap();
        assert!(out.contains("include \"root\""), "{out}");
        assert!(out.contains("root = \"root.hcl\""), "{out}");
        assert!(out.contains("other = 1"), "{out}");
        assert!(!out.contains("inputs"), "{out}");

        let plain = "include \"root\" {\n  path = \"x\"\n}\nlocals {\n  a = 1\n}\n\
                     module \"m\" {\n  source = \"acme/m/aws\"\n}\n";
        assert_eq!(
            kept(plain, Keep::Sources).unwrap(),
            "module \"m\" {\n  source = \"acme/m/aws\"\n}"
        );
        let refs = kept(plain, Keep::References).unwrap();
        assert!(
            refs.contains("include") && refs.contains("locals"),
            "{refs}"
        );
        assert!(!refs.contains("module"), "{refs}");
    }

    #[test]
    fn heredocs_end_where_hcl_edit_ends_them() {
        // The marker may be indented and followed by the rest of the expression.
        let text = "a = jsonencode(<<EOT\n  }\n  EOT)\nmodule \"m\" {\n  source = \"x\"\n}\n\
                    b = <<-EOF\nEOFX\n  EOF\n";
        assert_eq!(
            kept(text, Keep::Sources).unwrap(),
            "module \"m\" {\n  source = \"x\"\n}"
        );
        // `<<` that opens no heredoc is an operator-like pair of bytes.
        assert!(top_level_items(b"a = 1 << 2\nb = 3\n").is_some());
    }

    #[test]
    fn comments_and_line_endings() {
        let text = "/* module \"x\" {\n */ a = { # }\n}\r\nterraform { source = \"s\" } // {\r\n";
        assert_eq!(
            kept(text, Keep::Sources).unwrap(),
            "/* module \"x\" {\n */\nterraform { source = \"s\" } // {"
        );
        assert_eq!(
            top_level_items(text.as_bytes()).unwrap().len(),
            2,
            "the block comment belongs to no item"
        );
    }

    #[test]
    fn nothing_to_blank_is_none() {
        assert_eq!(
            skeleton("terraform {\n  source = \"x\"\n}\n", Keep::Sources),
            None
        );
        assert_eq!(skeleton("", Keep::Sources), None);
        assert_eq!(skeleton("# only a comment\n", Keep::Sources), None);
    }

    #[test]
    fn gives_up_on_what_it_does_not_follow() {
        for text in [
            "a = \"unterminated\nterraform {}\n",
            "a = <<EOT\nno end\n",
            "a = [1, 2}\n",
            "a = 1 }\n",
            "a = { b = 1\n",
            "a = \"${b\"\n",
            "/* open comment\n",
        ] {
            assert_eq!(top_level_items(text.as_bytes()), None, "{text:?}");
            assert_eq!(skeleton(text, Keep::Sources), None, "{text:?}");
        }
    }
}
