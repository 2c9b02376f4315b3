//! Reads what a Terragrunt unit passes to its module without parsing the whole file, when its
//! `inputs` is written in the plain form most units use.
//!
//! Checking a breaking release against every usage reads every unit that uses the module, and
//! the `inputs` map is most of a unit: parsing it with hcl-edit is most of the cost of the check.
//! The check reads no more of an entry than its name, where it is and, when its value is a
//! literal, the literal's kind; this reader finds those with the skeleton's lexer (strings,
//! interpolations, heredocs, comments, brackets), as the literal reader does for source blocks.
//! It gives up (`None`) on anything beyond that, and the caller parses the file: every unit gets
//! what the parser would give. What it accepts:
//!
//! - exactly one top-level item starting with `inputs`, written `inputs = {` with the rest of the
//!   line blank or a comment, and a last line `}` with an optional comment;
//! - inside, one entry per line (the lexer ends an entry at a newline outside brackets): a name
//!   (an identifier other than `for`, `true`, `false` and `null`, or a quoted string without
//!   escapes or interpolation), `=` or `:`, and a value starting on the same line;
//! - values that are one term, then blank space, an optional `,` and an optional `#` or `//`
//!   comment: a quoted string (a literal `string` when it holds no interpolation; with `\`, `$${`
//!   or `%%{` the parser decides), an integer or decimal number, `true`, `false`, `null`, a list
//!   `[…]` or an object `{…}` (a `for` expression in brackets is no literal), a parenthesized
//!   expression, or a reference or function call (`local.x`, `dependency.vpc.outputs.id`,
//!   `get_env("X")`, with `.name` and `[…]` after it), which are no literals.
//!
//! The items the parser still reads (its includes, a `terraform` block with `extra_arguments`
//! and the `locals` they mention) are given back put together, for the parser (see
//! [`Keep::CallSite`]).

use super::literal::{ident, quoted, rest_blank, skip_blank};
use super::skeleton::{Keep, closing, first_word, top_level_items, top_level_items_within};
use std::ops::Range;

/// The kind of a parsed value when it is a literal, for type checks: what the light reader's
/// [`InputEntry::literal`] agrees with.
pub fn literal_kind(expr: &hcl_edit::expr::Expression) -> Option<&'static str> {
    use hcl_edit::expr::Expression;
    match expr {
        Expression::String(_) => Some("string"),
        Expression::Number(_) => Some("number"),
        Expression::Bool(_) => Some("bool"),
        Expression::Null(_) => Some("null"),
        Expression::Array(_) => Some("list"),
        Expression::Object(_) => Some("object"),
        _ => None,
    }
}

/// How deep the values this reader follows may nest (deeper: the parser decides).
const MAX_DEPTH: usize = 32;

/// One entry of a unit's `inputs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputEntry<'t> {
    /// The input's name.
    pub name: &'t str,
    /// The offset of the name in the text.
    pub at: usize,
    /// The value's kind when it is a literal (`string`, `number`, `bool`, `null`, `list`,
    /// `object`).
    pub literal: Option<&'static str>,
}

/// A unit read for its call site without the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitInputs<'t> {
    /// The entries of `inputs`, in order; `None` when the unit has no `inputs`.
    pub inputs: Option<Vec<InputEntry<'t>>>,
    /// The items the parser still reads (see [`Keep::CallSite`]).
    pub kept: KeptItems,
}

/// Some top-level items of a text, put one after the other (a newline between) to be parsed
/// alone: units written alike (the same includes) give the same text, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptItems {
    /// The items.
    pub text: String,
    /// Where each item starts in `text` and in the original text, in order.
    starts: Vec<(usize, usize)>,
}

impl KeptItems {
    /// The offset in the original text of the offset `at` of [`KeptItems::text`].
    pub fn original(&self, at: usize) -> usize {
        let i = self.starts.partition_point(|&(here, _)| here <= at);
        match i.checked_sub(1).and_then(|i| self.starts.get(i)) {
            Some(&(here, there)) => there + (at - here),
            None => at,
        }
    }
}

/// Reads the `inputs` of a unit's text (BOM stripped), when it is written in the form this reader
/// checks; `None` otherwise.
pub fn unit_inputs(text: &str) -> Option<UnitInputs<'_>> {
    unit_inputs_in(text, &top_level_items(text.as_bytes())?)
}

/// [`unit_inputs`], given the text's top-level items (see [`super::top_level_items`]).
pub fn unit_inputs_in<'t>(text: &'t str, items: &[Range<usize>]) -> Option<UnitInputs<'t>> {
    let b = text.as_bytes();
    let mut found = items
        .iter()
        .filter(|r| first_word(&b[(*r).clone()]) == "inputs");
    let inputs = match (found.next(), found.next()) {
        (None, _) => None,
        (Some(r), None) => Some(object(text, r.clone())?),
        (Some(_), Some(_)) => return None,
    };
    let mut kept = KeptItems {
        text: String::new(),
        starts: Vec::new(),
    };
    for (r, k) in items
        .iter()
        .zip(super::skeleton::kept(text, items, Keep::CallSite))
    {
        if k {
            kept.starts.push((kept.text.len(), r.start));
            kept.text.push_str(&text[r.clone()]);
            kept.text.push('\n');
        }
    }
    Some(UnitInputs { inputs, kept })
}

/// The end of the line that holds `start` (before its `\r\n` or `\n`), at most `end`.
fn line_end(b: &[u8], start: usize, end: usize) -> usize {
    let stop = memchr::memchr(b'\n', &b[start..end]).map_or(end, |n| start + n);
    if stop > start && b[stop - 1] == b'\r' {
        stop - 1
    } else {
        stop
    }
}

/// The entries of `inputs = { … }`, the item spanning `r`.
fn object(text: &str, r: Range<usize>) -> Option<Vec<InputEntry<'_>>> {
    let b = text.as_bytes();
    let header_end = line_end(b, r.start, r.end);
    let word = ident(b, r.start, header_end)?;
    let eq = skip_blank(b, word.end, header_end);
    if b.get(eq) != Some(&b'=') || b.get(eq + 1) == Some(&b'=') || eq >= header_end {
        return None;
    }
    let brace = skip_blank(b, eq + 1, header_end);
    if b.get(brace) != Some(&b'{') || brace >= header_end || !rest_blank(b, brace + 1, header_end) {
        return None;
    }
    entries(text, r, header_end, Within::Object)
}

/// A `module` block read without the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleBlock<'t> {
    /// Its label, the module's name.
    pub label: &'t str,
    /// Its arguments, in order (`source` and the other meta-arguments among them).
    pub arguments: Vec<InputEntry<'t>>,
}

/// The `module` block that is the top-level item holding the offset `at` of `text` (BOM
/// stripped), when it is written in the form this reader checks: `module "name" {` alone on its
/// first line, `}` on its last, and between them one argument per line, `name = value`, each
/// value as in `inputs` (or a heredoc), each name once. `None` otherwise: the parser decides.
pub fn module_block(text: &str, at: usize) -> Option<ModuleBlock<'_>> {
    module_block_in(text, &top_level_items(text.as_bytes())?, at)
}

/// [`module_block`], given the text's top-level items (see [`super::top_level_items`]).
pub fn module_block_in<'t>(
    text: &'t str,
    items: &[Range<usize>],
    at: usize,
) -> Option<ModuleBlock<'t>> {
    let b = text.as_bytes();
    let i = items.partition_point(|r| r.end <= at);
    let r = items.get(i).filter(|r| r.start <= at)?.clone();
    let header_end = line_end(b, r.start, r.end);
    let word = ident(b, r.start, header_end)?;
    if &text[word.clone()] != "module" {
        return None;
    }
    let open = skip_blank(b, word.end, header_end);
    if b.get(open) != Some(&b'"') || open == word.end {
        return None;
    }
    let close = quoted(b, open, header_end)?;
    let brace = skip_blank(b, close, header_end);
    if b.get(brace) != Some(&b'{') || brace >= header_end || !rest_blank(b, brace + 1, header_end) {
        return None;
    }
    let arguments = entries(text, r, header_end, Within::Block)?;
    let mut names: Vec<&str> = arguments.iter().map(|a| a.name).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w[0] == w[1]) {
        return None;
    }
    Some(ModuleBlock {
        label: &text[open + 1..close - 1],
        arguments,
    })
}

/// What holds the entries: an object (names may be quoted, `:` may stand for `=`) or a block.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Within {
    Object,
    Block,
}

/// The entries of the item spanning `r`, whose first line (the header, checked by the caller)
/// ends at `header_end`, and whose last line closes it: `}` and an optional comment.
fn entries(
    text: &str,
    r: Range<usize>,
    header_end: usize,
    within: Within,
) -> Option<Vec<InputEntry<'_>>> {
    let b = text.as_bytes();
    // A `\r` elsewhere than before a newline: how the parser reads that is not this reader's to
    // guess.
    let item = &b[r.clone()];
    if !memchr::memchr_iter(b'\r', item).all(|n| b.get(r.start + n + 1) == Some(&b'\n')) {
        return None;
    }
    let last = memchr::memrchr(b'\n', item).map(|n| r.start + n + 1)?;
    let close = skip_blank(b, last, r.end);
    if b.get(close) != Some(&b'}')
        || close >= r.end
        || !rest_blank(b, close + 1, line_end(b, last, r.end))
    {
        return None;
    }
    let body = header_end..last;
    let mut entries = Vec::new();
    for inner in top_level_items_within(&b[body.clone()], MAX_DEPTH)? {
        let (start, end) = (body.start + inner.start, body.start + inner.end);
        let end = if end > start && b[end - 1] == b'\r' {
            end - 1
        } else {
            end
        };
        entries.push(entry(text, start, end, within)?);
    }
    Some(entries)
}

/// One entry, `name = value`, from `start` to `end` (the end of its last line).
fn entry(text: &str, start: usize, end: usize, within: Within) -> Option<InputEntry<'_>> {
    let b = text.as_bytes();
    let first_line = line_end(b, start, end);
    let (name, after) = match b.get(start) {
        Some(b'"') if within == Within::Object => {
            let stop = quoted(b, start, first_line)?;
            (&text[start + 1..stop - 1], stop)
        }
        _ => {
            let word = ident(b, start, first_line)?;
            let name = &text[word.clone()];
            if matches!(name, "for" | "true" | "false" | "null") {
                return None;
            }
            (name, word.end)
        }
    };
    let sep = skip_blank(b, after, first_line);
    match b.get(sep) {
        Some(b'=') if b.get(sep + 1) != Some(&b'=') && sep < first_line => {}
        Some(b':') if sep < first_line && within == Within::Object => {}
        _ => return None,
    }
    let value = skip_blank(b, sep + 1, first_line);
    if value >= first_line || rest_blank(b, value, first_line) {
        return None;
    }
    let (literal, stop) = term(text, value, end)?;
    if stop > end {
        return None;
    }
    // After the value: blank space, an optional comma, an optional line comment.
    let mut i = skip_blank(b, stop, end);
    if b.get(i) == Some(&b',') && i < end && within == Within::Object {
        i += 1;
    }
    if !rest_blank(b, i, end) {
        return None;
    }
    Some(InputEntry {
        name,
        at: start,
        literal,
    })
}

/// The value starting at `i`: its literal kind (if it is a literal) and the offset after it.
fn term(text: &str, i: usize, end: usize) -> Option<(Option<&'static str>, usize)> {
    let b = text.as_bytes();
    match b[i] {
        b'"' => {
            let stop = closing(b, i, MAX_DEPTH)?;
            if quoted(b, i, end) == Some(stop) {
                return Some((Some("string"), stop));
            }
            // Escapes and escaped interpolation marks: the parser decides what they make.
            let inner = &b[i..stop];
            if inner.contains(&b'\\')
                || memchr::memmem::find(inner, b"$${").is_some()
                || memchr::memmem::find(inner, b"%%{").is_some()
            {
                return None;
            }
            // Interpolations or directives: a template, no literal.
            Some((None, stop))
        }
        b'[' | b'{' => {
            let stop = closing(b, i, MAX_DEPTH)?;
            let kind = if b[i] == b'[' { "list" } else { "object" };
            let mut j = i + 1;
            while j < stop && b[j].is_ascii_whitespace() {
                j += 1;
            }
            match b.get(j) {
                Some(b'#') => None,
                Some(b'/') if matches!(b.get(j + 1), Some(b'/' | b'*')) => None,
                _ if first_word(&b[j..stop]) == "for" => Some((None, stop)),
                _ => Some((Some(kind), stop)),
            }
        }
        b'(' => Some((None, closing(b, i, MAX_DEPTH)?)),
        b'<' => heredoc(b, i, end).map(|stop| (None, stop)),
        c if c.is_ascii_digit() => number(b, i).map(|stop| (Some("number"), stop)),
        _ => {
            let word = ident(b, i, end)?;
            match &text[word.clone()] {
                "true" | "false" => Some((Some("bool"), word.end)),
                "null" => Some((Some("null"), word.end)),
                _ => Some((None, reference(b, word.end)?)),
            }
        }
    }
}

/// The offset after a heredoc starting at `i` that is the rest of the entry ending at `end`:
/// `<<` or `<<-`, a marker and a line break, then lines, the last of which is the marker alone
/// (after blank space). No literal: a heredoc is a template.
fn heredoc(b: &[u8], i: usize, end: usize) -> Option<usize> {
    let mut j = i + 2;
    if b.get(i + 1) != Some(&b'<') {
        return None;
    }
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    let marker = ident(b, j, end)?;
    let newline = match b.get(marker.end) {
        Some(b'\n') => marker.end,
        Some(b'\r') if b.get(marker.end + 1) == Some(&b'\n') => marker.end + 1,
        _ => return None,
    };
    let last = memchr::memrchr(b'\n', &b[newline..end]).map(|n| newline + n + 1)?;
    let close = skip_blank(b, last, end);
    (last > newline && b[close..end] == b[marker.clone()]).then_some(end)
}

/// The offset after a number starting at `i`: digits, an optional fraction and exponent, not
/// followed by a letter, digit, `_` or `.`.
fn number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |mut j: usize| {
        let from = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        (j > from).then_some(j)
    };
    i = digits(i)?;
    if b.get(i) == Some(&b'.') {
        i = digits(i + 1)?;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
        i = digits(i + 1 + sign)?;
    }
    let next = b.get(i).copied();
    (!next.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c >= 0x80))
        .then_some(i)
}

/// The offset after a reference or call whose first word ends at `i`: `(…)` right after the
/// word, then any `.name` and `[…]`.
fn reference(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'(') {
        i = closing(b, i, MAX_DEPTH)?;
    }
    loop {
        match b.get(i) {
            Some(b'.') => i = ident(b, i + 1, b.len())?.end,
            Some(b'[') => i = closing(b, i, MAX_DEPTH)?,
            _ => return Some(i),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find::hcl::{self, LineIndex};
    use hcl_edit::Span;
    use hcl_edit::expr::{Expression, ObjectKey};
    use proptest::prelude::*;

    /// (name, line, literal kind) of each entry, as the light reader finds them.
    type Entries = Vec<(String, usize, Option<&'static str>)>;

    fn light(text: &str) -> Option<Entries> {
        let lines = LineIndex::new(text);
        let read = unit_inputs(text)?;
        Some(
            read.inputs
                .unwrap_or_default()
                .into_iter()
                .map(|e| (e.name.to_string(), lines.line(e.at), e.literal))
                .collect(),
        )
    }

    /// The same, as the parser finds them (`None`: the text does not parse). What the light
    /// reader must leave to the parser is named so that it cannot match: an `inputs` that is
    /// no object, a name written as an expression.
    fn parsed(text: &str) -> Option<Entries> {
        let body = hcl::parse(text).ok()?;
        let lines = LineIndex::new(text);
        let Some(attr) = body.get_attribute("inputs") else {
            return Some(Vec::new());
        };
        let Expression::Object(object) = &attr.value else {
            return Some(vec![("(not an object)".into(), 0, None)]);
        };
        let mut out = Vec::new();
        for (key, value) in object.iter() {
            let (name, at) = match key {
                ObjectKey::Ident(i) => (i.as_str().to_string(), i.span()?.start),
                ObjectKey::Expression(Expression::String(s)) => {
                    (s.value().to_string(), s.span()?.start)
                }
                ObjectKey::Expression(e) => ("(expression)".into(), e.span()?.start),
            };
            out.push((name, lines.line(at), literal_kind(value.expr())));
        }
        Some(out)
    }

    const UNIT: &str = r#"# a unit
include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "git::https://example.com/m.git//vpc?ref=v1.0.0"
}

dependency "vpc" {
  config_path = "../vpc"
}

inputs = {
  name      = "dev" # the name
  count_    = 3,
  ratio     = 1.5e3
  enabled   = true
  nothing   = null
  "quoted"  = "x"
  colon: "y"
  azs       = ["a", "b"]
  tags = {
    Team = "sre"
  }
  vpc_id    = dependency.vpc.outputs.vpc_id
  first     = dependency.vpc.outputs.ids[0]
  from_env  = get_env("X", "y")
  templated = "${local.name}-x"
  listed    = [for s in local.subnets : s.id]
  mapped    = { for k, v in local.m : k => v }
  grouped   = (1)
  // a comment between entries
  heredoc_free = "a/b" // cidr-like
  doc = <<-EOT
    a ${local.x}
    EOT
}
"#;

    #[test]
    fn plain_inputs_are_read_as_the_parser_reads_them() {
        let got = light(UNIT).expect("the light reader accepts the unit");
        assert_eq!(Some(got.clone()), parsed(UNIT));
        assert_eq!(got.len(), 18);
        assert_eq!(got[17], ("doc".to_string(), 35, None));
        assert_eq!(got[0], ("name".to_string(), 15, Some("string")));
        assert_eq!(got[12], ("templated".to_string(), 29, None));
        // What the parser reads besides: the include, not the rest (the `terraform` block has
        // no `extra_arguments`).
        let kept = unit_inputs(UNIT).unwrap().kept;
        assert_eq!(
            kept.text,
            "include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n}\n"
        );
        assert_eq!(kept.original(8), UNIT.find("\"root\"").unwrap());
        let with_extra = UNIT.replace(
            "terraform {\n",
            "terraform {\n  extra_arguments \"v\" {\n    commands = []\n  }\n",
        );
        let kept = unit_inputs(&with_extra).unwrap().kept;
        let at = kept.text.find("extra_arguments").unwrap();
        assert_eq!(
            kept.original(at),
            with_extra.find("extra_arguments").unwrap()
        );
    }

    #[test]
    fn gives_up_where_the_parser_must_decide() {
        for text in [
            "inputs = merge(local.a, { b = 1 })\n",
            "inputs = { a = 1 }\n",
            "inputs = {\n  a = 1, b = 2\n}\n",
            "inputs = {\n  a =\n    1\n}\n",
            "inputs = {\n  a = -1\n}\n",
            "inputs = {\n  a = <<EOT x\nEOT\n}\n",
            "inputs = {\n  a = <<EOT\nx\nEOT \n}\n",
            "inputs = {\n  a = <<\"EOT\"\nx\nEOT\n}\n",
            "inputs = {\n  a = \"x\\ty\"\n}\n",
            "inputs = {\n  a = \"$${x}\"\n}\n",
            "inputs = {\n  a = 1 + 2\n}\n",
            "inputs = {\n  a = local.x ? 1 : 2\n}\n",
            "inputs = {\n  (local.k) = 1\n}\n",
            "inputs = {\n  for k in x : k => 1\n}\n",
            "inputs = {\n  a = provider::p::f(1)\n}\n",
            "inputs = {\n  a = x.*.y\n}\n",
            "inputs = {\n  a = 1 /* c */\n}\n",
            "inputs = {\n  a = 1\n} x\n",
            "inputs = {\n  a = 1\r}\n",
            "inputs = {\n  a = 1\n}\ninputs = {\n  b = 1\n}\n",
            "inputs {\n  a = 1\n}\n",
            "inputs = {\n  a = 12a\n}\n",
        ] {
            assert_eq!(light(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_unit_without_inputs_has_none() {
        let text = "include \"root\" {\n  path = find_in_parent_folders()\n}\n";
        let read = unit_inputs(text).unwrap();
        assert_eq!(read.inputs, None);
        assert_eq!(read.kept.text, text);
    }

    /// (label, [(name, line, literal kind)]) of the module block holding offset `at`, as the
    /// light reader finds it.
    type Block = (String, Entries);

    fn light_block(text: &str, at: usize) -> Option<Block> {
        let lines = LineIndex::new(text);
        let block = module_block(text, at)?;
        let args = block.arguments.iter();
        let args = args.map(|e| (e.name.to_string(), lines.line(e.at), e.literal));
        Some((block.label.to_string(), args.collect()))
    }

    /// The same, as the parser finds it: the arguments of the top-level `module` block holding
    /// `at`.
    fn parsed_block(text: &str, at: usize) -> Option<Block> {
        let body = hcl::parse(text).ok()?;
        let lines = LineIndex::new(text);
        let block = body.blocks().find(|b| {
            b.span().is_some_and(|s| s.start <= at && at < s.end) && b.ident.as_str() == "module"
        })?;
        let args = block.body.attributes().map(|a| {
            let at = a.span().map_or(0, |s| s.start);
            (
                a.key.as_str().to_string(),
                lines.line(at),
                literal_kind(&a.value),
            )
        });
        let label = block.labels.first().map(|l| l.as_str().to_string())?;
        Some((label, args.collect()))
    }

    const ROOT: &str = r#"# Root module of the unit.
locals {
  name = "x"
}

module "cluster_0" {
  source = "git::https://github.com/acme-infra/terraform-aws-waf.git//modules/cluster?ref=v1.8.0"

  name        = "${local.name}-0"
  policy_json = local.policy
  capacity    = 21 # c
  tags        = { a = 1 }
  description = <<EOT
  Instance 0 of cluster; see the module's README for the inputs.
  EOT
}
"#;

    #[test]
    fn plain_module_blocks_are_read_as_the_parser_reads_them() {
        let at = ROOT.find("source").unwrap();
        let got = light_block(ROOT, at).expect("the light reader accepts the block");
        assert_eq!(Some(got.clone()), parsed_block(ROOT, at));
        assert_eq!(got.0, "cluster_0");
        let names: Vec<&str> = got.1.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "source",
                "name",
                "policy_json",
                "capacity",
                "tags",
                "description"
            ]
        );
        assert_eq!(got.1[3], ("capacity".to_string(), 11, Some("number")));
        assert_eq!(got.1[5], ("description".to_string(), 13, None));
        // Not in a module block.
        assert_eq!(module_block(ROOT, ROOT.find("name =").unwrap()), None);
    }

    #[test]
    fn module_blocks_the_parser_must_read() {
        for text in [
            "module vpc {\n  source = \"./x\"\n}\n",
            "module \"a\" \"b\" {\n  source = \"./x\"\n}\n",
            "module \"a\" { source = \"./x\" }\n",
            "module \"a\" {\n  source = \"./x\"\n  lifecycle {\n  }\n}\n",
            "module \"a\" {\n  source: \"./x\"\n}\n",
            "module \"a\" {\n  \"source\" = \"./x\"\n}\n",
            "module \"a\" {\n  source = \"./x\"\n  source = \"./y\"\n}\n",
            "module \"a\\\"b\" {\n  source = \"./x\"\n}\n",
            "module \"a\" {\n  source = \"./x\"\n  n = 1 + 1\n}\n",
            "resource \"a\" \"b\" {\n  source = \"./x\"\n}\n",
        ] {
            assert_eq!(light_block(text, 0), None, "{text:?}");
        }
    }

    /// Pieces of entries, values and layout that the light reader must read as the parser does,
    /// or leave to it.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "a",
            "b_1",
            "\"q\"",
            "for",
            "true",
            " ",
            "  ",
            "=",
            ":",
            ",",
            "\n",
            "\r\n",
            "\"s\"",
            "\"a/b\"",
            "\"${x}\"",
            "\"\\n\"",
            "1",
            "1.5",
            "2e3",
            "-1",
            "[",
            "]",
            "{",
            "}",
            "(",
            ")",
            "[for v in x : v]",
            "local.x",
            "f(1, 2)",
            "x[0]",
            "# c",
            "// c",
            "/* c */",
            "<<EOT\nx\nEOT\n",
            "true",
            "null",
            "+",
            "?",
            ".",
            "*",
        ])
    }

    /// One entry per line, mostly well formed: name, separator, value, what follows.
    fn entry_line() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec!["a", "b-1", "_c", "\"q k\"", "true", "for", "1x"]);
        let sep = prop::sample::select(vec![" = ", "=", ": ", " == ", " "]);
        let after = prop::sample::select(vec![
            "", ",", " # c", " // c", ", # c", " ,", " /* c */", " x",
        ]);
        (name, sep, value(), after).prop_map(|(n, s, v, a)| format!("  {n}{s}{v}{a}\n"))
    }

    /// One argument per line, as module blocks hold them, mostly well formed.
    fn argument_line() -> impl Strategy<Value = String> {
        let name = prop::sample::select(vec!["a", "b-1", "_c", "source", "count", "for", "\"q\""]);
        let sep = prop::sample::select(vec![" = ", "=", " = ", ": "]);
        let after = prop::sample::select(vec!["", "", " # c", " // c", ",", " /* c */"]);
        (name, sep, value(), after).prop_map(|(n, s, v, a)| format!("  {n}{s}{v}{a}\n"))
    }

    /// Values of entries and arguments.
    fn value() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "\"s\"",
            "\"10.0.0.0/16\"",
            "\"${local.x}-y\"",
            "\"%{if x}y%{endif}\"",
            "\"a\\\"b\"",
            "1",
            "0.25",
            "3e2",
            "1.",
            "true",
            "false",
            "null",
            "nullable",
            "[]",
            "[1, 2]",
            "[\n    \"a\",\n  ]",
            "{}",
            "{ k = 1 }",
            "{\n    k = [1]\n  }",
            "[for v in x : v]",
            "{ for k, v in m : k => v }",
            "[\n for v in x : v]",
            "(1)",
            "local.x",
            "dependency.v.outputs.ids[0]",
            "f(1, [2])",
            "f(1)[0].x",
            "a.b.c",
            "x ? 1 : 2",
            "1 + 2",
            "!x",
            "-1",
            "<<EOT\nx\nEOT",
            "<<-EOT\n    x\n    EOT",
            "<<EOT\n${a}\n  EOT",
            "<<EOT\nEOT",
            "<<EOT\nx\nEOTX\nEOT",
            "<<EOT \nx\nEOT",
            "<<EOT\nx\nEOT\n  y = 1",
            "try(local.x, null)",
            "[# c\n 1]",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Entries as units write them: the light reader reads them as the parser does, or
        /// leaves the unit to it.
        #[test]
        fn reads_entries_as_the_parser_does(lines in prop::collection::vec(entry_line(), 0..6)) {
            let text = format!("inputs = {{\n{}}}\n", lines.concat());
            if let (Some(l), Some(p)) = (light(&text), parsed(&text)) {
                prop_assert_eq!(l, p, "{:?}", text);
            }
        }

        /// Module blocks as root modules write them: read as the parser reads them, or left
        /// to it.
        #[test]
        fn reads_module_blocks_as_the_parser_does(
            lines in prop::collection::vec(argument_line(), 0..6),
            label in prop::sample::select(vec!["\"m\"", "\"a-b\"", "m", "\"\"", "\"x\" \"y\""]),
        ) {
            let text = format!("# c\nmodule {label} {{\n{}}}\nlocals {{\n}}\n", lines.concat());
            if let (Some(l), Some(p)) = (light_block(&text, 5), parsed_block(&text, 5)) {
                prop_assert_eq!(l, p, "{:?}", text);
            }
        }

        /// Whatever the text, the light reader finds what the parser finds, or gives up.
        #[test]
        fn never_disagrees_with_the_parser(pieces in prop::collection::vec(piece(), 0..24)) {
            let text = format!("inputs = {{\n  {}\n}}\n", pieces.concat());
            if let (Some(l), Some(p)) = (light(&text), parsed(&text)) {
                prop_assert_eq!(l, p, "{:?}", text);
            }
        }
    }
}
