//! Finds module sources in one HCL file and the exact bytes that hold their versions.
//!
//! The file is parsed with hcl-edit for its byte spans and never re-printed. Interpolated sources
//! and versions are evaluated by [`eval`], which keeps the file and bytes each piece of text comes
//! from: a version is editable where it is written, in this file or in the file that defines it
//! (a map of versions in `_common/common.hcl`). Anything that cannot be proven is reported as a
//! skip with the reason, never guessed.

pub mod eval;
pub mod inputs;
pub mod literal;
pub mod skeleton;

pub use skeleton::Keep;

use crate::find::source::Source;
use eval::{Evaluator, Kind, Origin, Piece, UNKNOWN_MARK, Value};
use hcl_edit::Span;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::Element;
use serde::Serialize;
use std::cell::OnceCell;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

/// What kind of file a path is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `*.tf` / `*.tofu`: `module` blocks.
    Terraform,
    /// `*.stack.hcl`: `unit` and `stack` blocks.
    Stack,
    /// Any other `*.hcl`: Terragrunt `terraform { source }`.
    Terragrunt,
}

impl FileKind {
    /// The kind for a file name, or `None` for files Baton does not read.
    pub fn of(path: &Path) -> Option<FileKind> {
        let name = path.file_name()?.to_str()?;
        if name.ends_with(".tf") || name.ends_with(".tofu") {
            Some(FileKind::Terraform)
        } else if name.ends_with(".stack.hcl") {
            Some(FileKind::Stack)
        } else if name.ends_with(".hcl") && name != ".terraform.lock.hcl" {
            Some(FileKind::Terragrunt)
        } else {
            None
        }
    }
}

/// The construct a usage was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UsageKind {
    /// Terragrunt `terraform { source = … }`.
    Terragrunt,
    /// Terraform / OpenTofu `module "x" { source = … }`.
    Module,
    /// Terragrunt stack `unit "x" { source = … }`.
    Unit,
    /// Terragrunt stack `stack "x" { source = … }`.
    Stack,
}

impl UsageKind {
    /// The name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            UsageKind::Terragrunt => "terragrunt",
            UsageKind::Module => "module",
            UsageKind::Unit => "unit",
            UsageKind::Stack => "stack",
        }
    }
}

/// Where a version is written, in the form it takes there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum VersionForm {
    /// A git `?ref=` value inside a source string.
    GitRef,
    /// A `?version=` value inside a `tfr://` source string.
    QueryVersion,
    /// A `version = "…"` attribute (registry modules).
    Attribute,
}

/// The bytes that hold a usage's version, in the file as read (BOM included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionSite {
    /// The file that writes the version, when it is not the file of the usage (a shared file
    /// read through an include or `read_terragrunt_config`), as the [`Files`] named it.
    pub file: Option<PathBuf>,
    /// Byte range of the version text.
    pub span: Range<usize>,
    /// 1-based line of the version text.
    pub line: usize,
    /// What the bytes are.
    pub form: VersionForm,
}

/// One module source found in a file.
#[derive(Debug, Clone)]
pub struct Found {
    /// The construct.
    pub kind: UsageKind,
    /// 1-based line of the `source` attribute.
    pub line: usize,
    /// The source as written between the quotes.
    pub raw_source: String,
    /// The source after resolving interpolations, when they could be resolved.
    pub resolved: Result<Source, String>,
    /// The current version as written (`v0.8.0`, `~> 3.0`), when there is one.
    pub current: Option<String>,
    /// Where `current` is written, when it is written as a plain literal.
    pub site: Option<VersionSite>,
    /// Why the version cannot be edited, though it was found.
    pub not_editable: Option<String>,
    /// Why the version cannot be known when scanning, though the address is (`?ref=${values.v}`).
    pub version_unknown: Option<String>,
    /// What evaluating the source and version assumed (`get_env("X", "v1")` gave its default).
    pub notes: Vec<String>,
}

/// What kind of problem made a file unreadable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// The text is not valid HCL.
    Syntax,
    /// Evaluating its interpolations would exceed the limits of [`eval`].
    TooLarge,
}

/// A file that could not be parsed, or whose interpolations are too large to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The parser's message, or what exceeded the limits.
    pub message: String,
    /// What went wrong.
    pub kind: ProblemKind,
}

/// A parsed HCL file kept for evaluating includes.
#[derive(Debug)]
pub struct LoadedFile {
    /// Its path.
    pub path: PathBuf,
    /// Its text without BOM.
    pub text: String,
    /// Its syntax tree.
    pub body: Body,
    /// How many bytes of BOM were stripped from the file (0 or 3).
    pub bom: usize,
}

/// Access to other files, for includes and `read_terragrunt_config`.
pub trait Files: Sync {
    /// Loads and parses a file, or says why not.
    fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String>;
    /// Whether a file exists (for `find_in_parent_folders`).
    fn exists(&self, path: &Path) -> bool;
    /// Why a file may not be read at all (outside the repository), checked before loading it.
    fn may_read(&self, _path: &Path) -> Result<(), String> {
        Ok(())
    }
    /// A path as messages show it.
    fn show(&self, path: &Path) -> String {
        path.display().to_string()
    }
}

/// Strips a UTF-8 byte-order mark; returns the text and the number of bytes removed.
pub fn strip_bom(text: &str) -> (&str, usize) {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3),
        None => (text, 0),
    }
}

/// Removes `.` and `..` components without touching the file system.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            std::path::Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// Parses a file's text (BOM already stripped) into a body.
pub fn parse(text: &str) -> Result<Body, ParseError> {
    hcl_edit::parser::parse_body(text).map_err(|e| ParseError {
        line: e.location().line(),
        column: e.location().column(),
        message: e.message().to_string(),
        kind: ProblemKind::Syntax,
    })
}

/// Parses what Baton reads of a file (BOM already stripped), with every other top-level item
/// blanked out beforehand (spans stay those of `text`): see [`Keep`]. A syntax error in a blanked
/// item is not reported; when the text cannot be split into items, or the items kept do not
/// parse, the whole text is parsed.
pub fn parse_items(text: &str, keep: Keep) -> Result<Body, ParseError> {
    if let Some(kept) = skeleton::skeleton(text, keep) {
        if let Ok(body) = parse(&kept) {
            return Ok(body);
        }
    }
    parse(text)
}

/// Parses the top-level item of `text` (BOM already stripped) that holds byte `offset`, with
/// every other item blanked beforehand (spans stay those of `text`); the whole text when it
/// cannot be split into items, no item holds `offset` or the item does not parse alone.
pub fn parse_item_at(text: &str, offset: usize) -> Result<Body, ParseError> {
    if let Some(kept) = skeleton::only_item_at(text, offset) {
        if let Ok(body) = parse(&kept) {
            return Ok(body);
        }
    }
    parse(text)
}

/// A file read for its `locals` and `include` blocks (an include, `read_terragrunt_config`).
pub fn load_text(path: &Path, text: &str) -> Result<LoadedFile, ParseError> {
    let (stripped, bom) = strip_bom(text);
    let body = parse_items(stripped, Keep::References)?;
    Ok(LoadedFile {
        path: path.to_path_buf(),
        text: stripped.to_string(),
        body,
        bom,
    })
}

/// Finds every module source in one file.
///
/// `path` is the file's path on disk (for includes), `text` its full contents (a BOM is allowed:
/// spans are given in the original bytes). Only the items that can matter are parsed (see
/// [`parse_items`]).
pub fn find(
    path: &Path,
    kind: FileKind,
    text: &str,
    files: &dyn Files,
) -> Result<Vec<Found>, ParseError> {
    find_measured(path, kind, text, files).0
}

/// [`find`], and the work its evaluation did, which never exceeds [`eval::MAX_WORK`] plus
/// [`eval::WORK_PER_BYTE`] per byte of `text` (checked by the property tests).
pub fn find_measured(
    path: &Path,
    kind: FileKind,
    text: &str,
    files: &dyn Files,
) -> (Result<Vec<Found>, ParseError>, u64) {
    let (found, work, _) = find_lexed(path, kind, text, files);
    (found, work)
}

/// [`find`], and the top-level items of `text` (BOM stripped) as its lexer found them on the
/// way (see [`top_level_items`]), for what reads the file again.
pub fn find_keeping_items(
    path: &Path,
    kind: FileKind,
    text: &str,
    files: &dyn Files,
) -> (Result<Vec<Found>, ParseError>, Option<Items>) {
    let (found, _, items) = find_lexed(path, kind, text, files);
    (found, items)
}

/// [`find_measured`], and the top-level items.
fn find_lexed(
    path: &Path,
    kind: FileKind,
    text: &str,
    files: &dyn Files,
) -> (Result<Vec<Found>, ParseError>, u64, Option<Items>) {
    let (body_text, bom) = strip_bom(text);
    let items = skeleton::top_level_items(body_text.as_bytes());
    let literal = items.as_deref();
    if let Some(found) = literal.and_then(|i| find_literal(path, kind, (body_text, bom), i, files))
    {
        return (Ok(found), 0, items);
    }
    let (found, work) = match parse_items(body_text, Keep::Sources) {
        Ok(body) => find_in(path, kind, body_text, body, bom, files),
        Err(e) => (Err(e), 0),
    };
    (found, work, items)
}

/// The byte ranges of a text's top-level items, in order (see [`top_level_items`]).
pub type Items = Vec<Range<usize>>;

/// The byte ranges of the top-level items of `text` (BOM stripped), each from its first byte to
/// the newline that ends it, comments between items left out, as the light lexer finds them
/// (strings, interpolations, heredocs, comments and brackets followed); `None` when it cannot
/// follow the text (the parser then decides).
pub fn top_level_items(text: &str) -> Option<Items> {
    skeleton::top_level_items(text.as_bytes())
}

/// [`find`], parsing the whole text: what `find` must agree with whenever the whole text parses
/// (checked by the property tests and fuzzing).
pub fn find_parsing_all(
    path: &Path,
    kind: FileKind,
    text: &str,
    files: &dyn Files,
) -> Result<Vec<Found>, ParseError> {
    let (body_text, bom) = strip_bom(text);
    let body = parse(body_text)?;
    find_in(path, kind, body_text, body, bom, files).0
}

/// The usage a block of a file of this kind holds, by the block's word.
fn usage_kind(kind: FileKind, ident: &str) -> Option<UsageKind> {
    match (kind, ident) {
        (FileKind::Terraform, "module") => Some(UsageKind::Module),
        (FileKind::Terragrunt, "terraform") => Some(UsageKind::Terragrunt),
        (FileKind::Stack, "unit") => Some(UsageKind::Unit),
        (FileKind::Stack, "stack") => Some(UsageKind::Stack),
        _ => None,
    }
}

/// [`find`] without the parser, when [`literal::literal_blocks`] reads every source block of
/// the file (sources and versions written as plain strings, nothing to evaluate); `None` when it
/// does not, or when a block holds a source or version that is not a string.
fn find_literal(
    path: &Path,
    kind: FileKind,
    (body_text, bom): (&str, usize),
    items: &[Range<usize>],
    files: &dyn Files,
) -> Option<Vec<Found>> {
    let blocks = literal::literal_blocks(body_text, items)?;
    if !blocks.iter().any(|b| usage_kind(kind, b.ident).is_some()) {
        return Some(Vec::new());
    }
    let scanned = Arc::new(LoadedFile {
        path: normalize(path),
        text: body_text.to_string(),
        body: Body::new(),
        bom,
    });
    let ev = Evaluator::new(scanned.clone(), files);
    let finder = Finder {
        ev: &ev,
        scanned: &scanned,
        lines: LineIndex::new(&scanned.text),
        other_lines: Default::default(),
    };
    let mut out = Vec::new();
    for block in &blocks {
        if let Some(usage_kind) = usage_kind(kind, block.ident) {
            out.extend(finder.find_in_literal(block, usage_kind)?);
        }
    }
    Some(out)
}

/// The usages in a parsed file, and the work evaluating them took; `body_text` is the text
/// without its BOM, of `bom` bytes.
fn find_in(
    path: &Path,
    kind: FileKind,
    body_text: &str,
    body: Body,
    bom: usize,
    files: &dyn Files,
) -> (Result<Vec<Found>, ParseError>, u64) {
    let usage_kind = |block: &Block| usage_kind(kind, block.ident.as_str());
    if !body.blocks().any(|b| usage_kind(b).is_some()) {
        return (Ok(Vec::new()), 0);
    }
    let scanned = Arc::new(LoadedFile {
        path: normalize(path),
        text: body_text.to_string(),
        body,
        bom,
    });
    let ev = Evaluator::new(scanned.clone(), files);
    let finder = Finder {
        ev: &ev,
        scanned: &scanned,
        lines: LineIndex::new(&scanned.text),
        other_lines: Default::default(),
    };
    let mut out = Vec::new();
    for block in scanned.body.blocks() {
        let Some(usage_kind) = usage_kind(block) else {
            continue;
        };
        match finder.find_in_block(block, usage_kind) {
            Ok(Some(found)) => out.push(found),
            Ok(None) => {}
            Err(e) => return (Err(e), ev.work()),
        }
    }
    (Ok(out), ev.work())
}

/// The state of one file's search: its evaluator and line indexes.
struct Finder<'e, 'f> {
    ev: &'e Evaluator<'f>,
    scanned: &'e LoadedFile,
    lines: LineIndex<'e>,
    /// Line indexes of the other files versions were found in, built when first needed.
    other_lines: std::cell::RefCell<HashMap<usize, Arc<Vec<usize>>>>,
}

/// How a source or version evaluated.
enum Evaluated {
    /// A string, with the origins of its pieces.
    Text(eval::Str),
    /// Something else, or nothing: why it is not a usable string.
    Not(String),
}

impl Finder<'_, '_> {
    fn text(&self) -> &str {
        &self.scanned.text
    }

    /// Evaluates an expression of the scanned file; a value too large to evaluate is a problem
    /// of the whole file.
    fn evaluate(
        &self,
        expr: &Expression,
    ) -> Result<Result<eval::Str, eval::Eval<Value>>, ParseError> {
        match self.ev.eval_scanned(expr) {
            Ok(Value::Str(s)) => Ok(Ok(s)),
            Err(why) if why.kind == Kind::TooLarge => {
                let line = self.lines.line(expr.span().map_or(0, |r| r.start));
                Err(ParseError {
                    line,
                    column: 1,
                    message: format!(
                        "interpolation too large: the expression at line {line} cannot be evaluated within Baton's limits ({}); not scanned",
                        why.message
                    ),
                    kind: ProblemKind::TooLarge,
                })
            }
            other => Ok(Err(other)),
        }
    }

    fn find_in_block(&self, block: &Block, kind: UsageKind) -> Result<Option<Found>, ParseError> {
        let Some(source_attr) = block.body.get_attribute("source") else {
            return Ok(None);
        };
        let span = source_attr.value.span().unwrap_or(0..0);
        let raw_source = self
            .text()
            .get(span.clone())
            .map(|s| unquote(s).to_string())
            .unwrap_or_default();
        let line = self.lines.line(span.start);
        let mut found = Found {
            kind,
            line,
            raw_source,
            resolved: Err(String::new()),
            current: None,
            site: None,
            not_editable: None,
            version_unknown: None,
            notes: Vec::new(),
        };
        // What evaluating other blocks assumed is theirs.
        self.ev.take_notes();

        let evaluated = match self.evaluate(&source_attr.value)? {
            Ok(s) => Evaluated::Text(s),
            Err(Ok(v)) => Evaluated::Not(format!(
                "the source `{}` is {}, not a string",
                eval::snippet(self.text(), source_attr.value.span()),
                value_kind(&v)
            )),
            Err(Err(why)) => Evaluated::Not(why.message.clone()),
        };
        match evaluated {
            Evaluated::Text(s) => self.source_from(&mut found, &s),
            Evaluated::Not(why) => found.resolved = Err(why),
        }
        if found.resolved.is_err() && found.current.is_none() {
            // Still report a ref written in a literal part of an unresolved source.
            if let Some((value, r)) = literal_ref(&source_attr.value, self.text()) {
                found.current = Some(value);
                found.site = Some(self.site_here(r, VersionForm::GitRef));
            }
        }

        // A `version` attribute next to a registry (or tfr without ?version=) source.
        let wants_attr =
            matches!(&found.resolved, Ok(Source::Registry(r)) if r.query_version.is_none());
        if wants_attr {
            if let Some(attr) = block.body.get_attribute("version") {
                match self.evaluate(&attr.value)? {
                    Ok(s) => match s.unknown() {
                        Some(why) => found.version_unknown = Some(why.message.clone()),
                        None => {
                            let text = s.text();
                            found.current = Some(text.clone());
                            match self.locate(s.pieces(), 0..text.len(), VersionForm::Attribute) {
                                Ok(site) => found.site = Some(site),
                                Err(why) => found.not_editable = Some(why),
                            }
                        }
                    },
                    Err(Ok(v)) => {
                        found.current = Some(eval::snippet(self.text(), attr.value.span()));
                        found.not_editable =
                            Some(format!("the version is {}, not a string", value_kind(&v)));
                    }
                    Err(Err(why)) => found.version_unknown = Some(why.message.clone()),
                }
            }
        }
        found.notes = self.ev.take_notes();
        Ok(Some(found))
    }

    /// [`Finder::find_in_block`] for a block read by [`literal::literal_blocks`]: the same
    /// usage, from strings that evaluate to themselves. `None` when its source or the version
    /// it needs is not a quoted string (the caller parses the file).
    fn find_in_literal(
        &self,
        block: &literal::LiteralBlock<'_>,
        kind: UsageKind,
    ) -> Option<Option<Found>> {
        let Some(source) = block.get("source") else {
            return Some(None);
        };
        let (text, span) = (self.text(), source.value.clone());
        let (value, pieces) = self.literal_string(source)?;
        let mut found = Found {
            kind,
            line: self.lines.line(span.start),
            raw_source: unquote(&text[span]).to_string(),
            resolved: Err(String::new()),
            current: None,
            site: None,
            not_editable: None,
            version_unknown: None,
            notes: Vec::new(),
        };
        self.source_from_pieces(&mut found, value, &pieces, None);
        let wants_attr =
            matches!(&found.resolved, Ok(Source::Registry(r)) if r.query_version.is_none());
        if let Some(attr) = block.get("version").filter(|_| wants_attr) {
            let (value, pieces) = self.literal_string(attr)?;
            let len = value.len();
            found.current = Some(value);
            match self.locate(&pieces, 0..len, VersionForm::Attribute) {
                Ok(site) => found.site = Some(site),
                Err(why) => found.not_editable = Some(why),
            }
        }
        Some(Some(found))
    }

    /// A quoted string attribute of a literal block as the evaluator gives it: its value, one
    /// piece written between the quotes. `None` for any other value.
    fn literal_string(&self, attr: &literal::LiteralAttribute<'_>) -> Option<(String, [Piece; 1])> {
        let span = attr.value.clone();
        if !attr.quoted || span.len() < 2 {
            return None;
        }
        let inner = span.start + 1..span.end - 1;
        let value = self.text().get(inner.clone())?.to_string();
        let piece = Piece {
            text: value.as_str().into(),
            origin: Origin::Written {
                file: 0,
                span: inner,
            },
        };
        Some((value, [piece]))
    }

    /// Fills in a usage from its evaluated source.
    fn source_from(&self, found: &mut Found, s: &eval::Str) {
        self.source_from_pieces(found, s.text(), s.pieces(), s.unknown());
    }

    /// [`Finder::source_from`], from the text of the source, its pieces and the first unknown
    /// piece's reason.
    fn source_from_pieces(
        &self,
        found: &mut Found,
        text: String,
        pieces: &[Piece],
        unknown: Option<&Rc<eval::Why>>,
    ) {
        let mut src = Source::parse(&text);
        let Some(unknown) = unknown else {
            // The version written inside the source string (`?ref=`, tfr `?version=`).
            if let Some(loc) = src.inline_version() {
                let form = match src {
                    Source::Registry(_) => VersionForm::QueryVersion,
                    _ => VersionForm::GitRef,
                };
                found.current = Some(loc.value.clone());
                match self.locate(pieces, loc.range.clone(), form) {
                    Ok(site) => found.site = Some(site),
                    Err(why) => found.not_editable = Some(why),
                }
            }
            found.resolved = Ok(src);
            return;
        };
        // Part of the source is unknown: when only the version is, the address still names the
        // dependency.
        let id_known = src
            .dependency_id()
            .is_some_and(|id| !id.contains(UNKNOWN_MARK));
        let version_unknown = src
            .inline_version()
            .is_some_and(|loc| loc.value.contains(UNKNOWN_MARK));
        let rest_known = {
            let mut rest = text.clone();
            if let Some(loc) = src.inline_version() {
                rest.replace_range(loc.range.clone(), "");
            }
            !rest.contains(UNKNOWN_MARK)
        };
        if id_known && version_unknown && rest_known {
            let why = src
                .inline_version()
                .and_then(|loc| unknown_in(pieces, loc.range.clone()))
                .unwrap_or_else(|| unknown.clone());
            match &mut src {
                Source::Git(g) => g.reference = None,
                Source::Registry(r) => r.query_version = None,
                _ => {}
            }
            found.version_unknown = Some(why.message.clone());
            found.resolved = Ok(src);
        } else {
            found.resolved = Err(unknown.message.clone());
            // The ref may still be written literally after an unknown address.
            if let Some(loc) = src
                .inline_version()
                .filter(|l| !l.value.contains(UNKNOWN_MARK))
            {
                if let Ok(site) = self.locate(pieces, loc.range.clone(), VersionForm::GitRef) {
                    found.current = Some(loc.value.clone());
                    found.site = Some(site);
                }
            }
        }
    }

    /// A site in the scanned file, from a span of its text without BOM.
    fn site_here(&self, r: Range<usize>, form: VersionForm) -> VersionSite {
        let bom = self.scanned.bom;
        VersionSite {
            file: None,
            line: self.lines.line(r.start),
            span: r.start + bom..r.end + bom,
            form,
        }
    }

    /// Maps a range of an evaluated string back to the bytes that write it, when it lies inside
    /// one literal.
    fn locate(
        &self,
        pieces: &[Piece],
        range: Range<usize>,
        form: VersionForm,
    ) -> Result<VersionSite, String> {
        let mut pos = 0;
        for piece in pieces {
            let end = pos + piece.text.len();
            if range.start >= pos && range.end <= end && (range.start < end || range.is_empty()) {
                let rel = range.start - pos..range.end - pos;
                return match &piece.origin {
                    Origin::Written { file: 0, span } => {
                        Ok(self.site_here(span.start + rel.start..span.start + rel.end, form))
                    }
                    Origin::Written { file, span } => {
                        let loaded = self.ev.file(*file);
                        let r = span.start + rel.start..span.start + rel.end;
                        let starts = self
                            .other_lines
                            .borrow_mut()
                            .entry(*file)
                            .or_insert_with(|| Arc::new(line_starts(loaded.text.as_bytes())))
                            .clone();
                        Ok(VersionSite {
                            file: Some(loaded.path.clone()),
                            line: line_of(&starts, r.start),
                            span: r.start + loaded.bom..r.end + loaded.bom,
                            form,
                        })
                    }
                    Origin::Escaped => Err("the version string contains escape sequences".into()),
                    Origin::Computed => Err("the version is computed by an expression".into()),
                    Origin::Unknown(why) => Err(why.message.clone()),
                };
            }
            pos = end;
        }
        Err("the version is assembled from several expressions".into())
    }
}

/// The reason of the first unknown piece overlapping `range` of the joined text.
fn unknown_in(pieces: &[Piece], range: Range<usize>) -> Option<Rc<eval::Why>> {
    let mut pos = 0;
    for piece in pieces {
        let end = pos + piece.text.len();
        if pos < range.end && end > range.start {
            if let Origin::Unknown(why) = &piece.origin {
                return Some(why.clone());
            }
        }
        pos = end;
    }
    None
}

fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::Str(_) => "a string",
        Value::List(_) => "a list",
        Value::Object(_) | Value::Locals(_) => "a map",
        Value::Config(_) => "a whole configuration",
        Value::Bad(_) => "not known",
    }
}

/// Finds `ref=` in the literal parts of a string template, for sources that could not be
/// resolved as a whole.
fn literal_ref(expr: &Expression, text: &str) -> Option<(String, Range<usize>)> {
    let Expression::StringTemplate(t) = expr else {
        return None;
    };
    for el in t.iter() {
        if let Element::Literal(lit) = el {
            let span = lit.span()?;
            let raw = text.get(span.clone())?;
            if let Some(i) = raw.find("ref=") {
                let start = i + 4;
                let len = raw[start..]
                    .find(['&', '#', '/'])
                    .unwrap_or(raw.len() - start);
                if len == 0 {
                    // `ref=${…}`: the version is the interpolation, not an empty ref.
                    return None;
                }
                let value = raw[start..start + len].to_string();
                let at = span.start + start;
                return Some((value, at..at + len));
            }
        }
    }
    None
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// Byte offset → 1-based line. The newlines are found once, when a line is first asked for: a
/// file of many usages costs one pass over its text, not one per usage.
pub struct LineIndex<'a> {
    text: &'a [u8],
    newlines: OnceCell<Vec<usize>>,
}

impl<'a> LineIndex<'a> {
    /// Lines of a text.
    pub fn new(text: &'a str) -> Self {
        LineIndex {
            text: text.as_bytes(),
            newlines: OnceCell::new(),
        }
    }

    /// The 1-based line holding byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        line_of(self.newlines.get_or_init(|| line_starts(self.text)), offset)
    }
}

/// The offsets of the newlines of a text.
fn line_starts(text: &[u8]) -> Vec<usize> {
    memchr::memchr_iter(b'\n', text).collect()
}

/// The 1-based line of `offset`, from the offsets of the newlines.
fn line_of(newlines: &[usize], offset: usize) -> usize {
    newlines.partition_point(|&n| n < offset) + 1
}

/// Locals of a file, for tests and diagnostics: name → whether it is a plain string.
pub fn locals_of(body: &Body) -> HashMap<String, bool> {
    body.blocks()
        .filter(|b| b.ident.as_str() == "locals")
        .flat_map(|b| b.body.attributes())
        .map(|a| (a.key.as_str().to_string(), a.value.is_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// In-memory files for evaluator tests.
    #[derive(Default)]
    struct MemFiles {
        files: HashMap<PathBuf, String>,
        loads: Mutex<usize>,
    }

    impl MemFiles {
        fn with(mut self, path: &str, text: &str) -> Self {
            self.files.insert(PathBuf::from(path), text.to_string());
            self
        }
    }

    impl Files for MemFiles {
        fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String> {
            *self.loads.lock().unwrap() += 1;
            let norm = normalize(path);
            let text = self
                .files
                .get(&norm)
                .ok_or_else(|| format!("{} not found", norm.display()))?;
            let body = parse(text).map_err(|e| e.message)?;
            Ok(Arc::new(LoadedFile {
                path: norm,
                text: text.clone(),
                body,
                bom: 0,
            }))
        }
        fn exists(&self, path: &Path) -> bool {
            self.files.contains_key(&normalize(path))
        }
    }

    fn normalize(p: &Path) -> PathBuf {
        let mut out = PathBuf::new();
        for c in p.components() {
            match c {
                std::path::Component::ParentDir => {
                    out.pop();
                }
                std::path::Component::CurDir => {}
                c => out.push(c),
            }
        }
        out
    }

    fn find_in(path: &str, text: &str, files: &MemFiles) -> Vec<Found> {
        let kind = FileKind::of(Path::new(path)).unwrap();
        find(Path::new(path), kind, text, files).expect("parses")
    }

    /// Files read without the parser give exactly what the parser gives.
    #[test]
    fn literal_blocks_find_what_the_parser_finds() {
        let sources = [
            "git::https://github.com/a/b.git//m?ref=v1.2.0",
            "github.com/a/b//m?ref=main",
            "git::git@github.com:a/b.git?ref=0123abcd",
            "tfr:///a/b/aws?version=1.0.0",
            "a/b/aws",
            "app.terraform.io/o/b/aws",
            "./local",
            "",
            "git::https://x.example/é/b.git?ref=v2",
        ];
        let versions = [
            "",
            "  version = \"~> 1.0\"\n",
            "  version = \"\"\n",
            "  version = 3\n",
        ];
        // What the finder does not read: values with references, heredocs, nested blocks.
        let extras = [
            "",
            "  name = \"${local.name}-0\" # include\n  policy = local.policy\n  description = <<EOT\n  a { b\n  EOT\n",
            "  tags = {\n    a = \"}\"\n    b = [for x in [1] : x]\n  }\n  nested \"x\" {\n    source = y\n  }\n  /* c\n  */\n",
        ];
        let (mut checked, mut fast) = (0, 0);
        for (kind, file, word) in [
            (
                FileKind::Terragrunt,
                "live/dev/u/terragrunt.hcl",
                "terraform",
            ),
            (FileKind::Terraform, "live/dev/u/main.tf", "module \"m\""),
            (
                FileKind::Stack,
                "live/dev/u/terragrunt.stack.hcl",
                "unit \"u\"",
            ),
        ] {
            for (i, src) in sources.iter().enumerate() {
                for (version, extra) in versions
                    .iter()
                    .flat_map(|v| extras.iter().map(move |e| (v, e)))
                {
                    let nl = if i % 2 == 0 { "\n" } else { "\r\n" };
                    let bom = if i % 3 == 0 { "\u{feff}" } else { "" };
                    let extra = extra.replace('\n', nl);
                    let text = format!(
                        "{bom}# c{nl}locals {{{nl}  name = \"x\"{nl}}}{nl}{word} {{ # h{nl}{extra}  source = \"{src}\" # s{nl}{version}  n = 1{nl}  // x{nl}}}{nl}{nl}inputs = {{{nl}  a = \"b\"{nl}}}{nl}{word} {{{nl}}}{nl}"
                    );
                    let files = MemFiles::default();
                    let path = Path::new(file);
                    let (body, _) = strip_bom(&text);
                    fast += usize::from(
                        top_level_items(body)
                            .and_then(|i| literal::literal_blocks(body, &i).map(drop))
                            .is_some(),
                    );
                    let quick = format!("{:?}", find(path, kind, &text, &files));
                    let parsed = format!("{:?}", find_parsing_all(path, kind, &text, &files));
                    assert_eq!(quick, parsed, "{text:?}");
                    checked += 1;
                }
            }
        }
        assert!(
            fast * 2 > checked,
            "{fast} of {checked} read without the parser"
        );
    }

    fn site_text<'a>(text: &'a str, f: &Found) -> &'a str {
        &text[f.site.as_ref().expect("a site").span.clone()]
    }

    #[test]
    fn file_kinds() {
        assert_eq!(
            FileKind::of(Path::new("a/main.tf")),
            Some(FileKind::Terraform)
        );
        assert_eq!(
            FileKind::of(Path::new("a/main.tofu")),
            Some(FileKind::Terraform)
        );
        assert_eq!(
            FileKind::of(Path::new("terragrunt.stack.hcl")),
            Some(FileKind::Stack)
        );
        assert_eq!(
            FileKind::of(Path::new("x/region.hcl")),
            Some(FileKind::Terragrunt)
        );
        assert_eq!(FileKind::of(Path::new(".terraform.lock.hcl")), None);
        assert_eq!(FileKind::of(Path::new("README.md")), None);
    }

    #[test]
    fn terragrunt_source_with_ref() {
        let text = "terraform {\n  source = \"git::https://github.com/org/repo.git//modules/x?ref=v1.2.3\"\n}\n";
        let found = find_in("dev/app/terragrunt.hcl", text, &MemFiles::default());
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.kind, UsageKind::Terragrunt);
        assert_eq!(f.line, 2);
        assert_eq!(f.current.as_deref(), Some("v1.2.3"));
        assert_eq!(site_text(text, f), "v1.2.3");
        assert_eq!(f.site.as_ref().unwrap().form, VersionForm::GitRef);
        assert_eq!(
            f.resolved.as_ref().unwrap().dependency_id().as_deref(),
            Some("org/repo/x")
        );
    }

    #[test]
    fn module_blocks_with_registry_version() {
        let text = r#"
# module "old" { source = "org/x/aws" version = "1.0.0" }
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 3.0"
}
module "local" {
  source = "../modules/x"
}
/* module "c" {
  source = "git::https://github.com/org/c.git?ref=v1"
} */
"#;
        let found = find_in("prod/main.tf", text, &MemFiles::default());
        assert_eq!(found.len(), 2, "commented-out blocks are not found");
        assert_eq!(found[0].current.as_deref(), Some("~> 3.0"));
        assert_eq!(site_text(text, &found[0]), "~> 3.0");
        assert_eq!(found[0].site.as_ref().unwrap().form, VersionForm::Attribute);
        assert_eq!(found[0].site.as_ref().unwrap().line, 5);
        assert!(matches!(found[1].resolved, Ok(Source::Local(_))));
    }

    #[test]
    fn tfr_query_version_and_version_attribute() {
        let text =
            "terraform {\n  source = \"tfr:///terraform-aws-modules/vpc/aws?version=3.5.0\"\n}\n";
        let f = &find_in("t.hcl", text, &MemFiles::default())[0];
        assert_eq!(site_text(text, f), "3.5.0");
        assert_eq!(f.site.as_ref().unwrap().form, VersionForm::QueryVersion);

        let text = "terraform {\n  source = \"tfr:///terraform-aws-modules/vpc/aws\"\n  version = \"3.5.0\"\n}\n";
        let f = &find_in("t.hcl", text, &MemFiles::default())[0];
        assert_eq!(site_text(text, f), "3.5.0");
        assert_eq!(f.site.as_ref().unwrap().form, VersionForm::Attribute);
    }

    #[test]
    fn stack_units_and_stacks() {
        let text = r#"
unit "vpc" {
  source = "git::https://github.com/org/units.git//vpc?ref=v0.1.0"
  path   = "vpc"
}
stack "svc" {
  source = "github.com/org/stacks//svc?ref=v2.0.0"
  path   = "svc"
}
terraform { source = "ignored-in-stack-files" }
"#;
        let found = find_in("live/terragrunt.stack.hcl", text, &MemFiles::default());
        let kinds: Vec<_> = found.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![UsageKind::Unit, UsageKind::Stack]);
        assert_eq!(site_text(text, &found[1]), "v2.0.0");
    }

    #[test]
    fn interpolated_source_from_same_file_local() {
        let text = r#"locals {
  base = "git::git@github.com:org/modules.git"
}
terraform {
  source = "${local.base}//modules/vpc?ref=v0.8.0"
}
"#;
        let f = &find_in("dev/vpc/terragrunt.hcl", text, &MemFiles::default())[0];
        assert_eq!(
            f.resolved.as_ref().unwrap().dependency_id().as_deref(),
            Some("org/modules/vpc")
        );
        assert_eq!(site_text(text, f), "v0.8.0");
        assert_eq!(f.raw_source, "${local.base}//modules/vpc?ref=v0.8.0");
    }

    #[test]
    fn source_entirely_in_a_local_is_edited_where_it_is_written() {
        let text = "locals {\n  src = \"github.com/org/repo//x?ref=v1.0.0\"\n}\nterraform {\n  source = local.src\n}\n";
        let f = &find_in("dev/terragrunt.hcl", text, &MemFiles::default())[0];
        assert_eq!(site_text(text, f), "v1.0.0");
        assert_eq!(f.site.as_ref().unwrap().line, 2);
    }

    #[test]
    fn interpolated_source_from_envcommon_include() {
        let common = r#"locals {
  base_source_url = "git::git@github.com:gruntwork-io/terraform-aws-messaging.git//modules/sqs"
}
"#;
        let unit = r#"include "root" {
  path = find_in_parent_folders("root.hcl")
}
include "envcommon" {
  path   = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/sqs.hcl"
  expose = true
}
terraform {
  source = "${include.envcommon.locals.base_source_url}?ref=v0.8.0"
}
"#;
        let files = MemFiles::default()
            .with("/live/root.hcl", "")
            .with("/live/_envcommon/sqs.hcl", common);
        let f = &find_in("/live/dev/us-east-1/sqs/terragrunt.hcl", unit, &files)[0];
        assert_eq!(
            f.resolved.as_ref().unwrap().dependency_id().as_deref(),
            Some("gruntwork-io/terraform-aws-messaging/sqs")
        );
        assert_eq!(f.current.as_deref(), Some("v0.8.0"));
        assert_eq!(site_text(unit, f), "v0.8.0");

        // A plain relative include path works too.
        let unit2 = unit.replace(
            r#""${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/sqs.hcl""#,
            r#""../../../_envcommon/sqs.hcl""#,
        );
        let f = &find_in("/live/dev/us-east-1/sqs/terragrunt.hcl", &unit2, &files)[0];
        assert_eq!(site_text(&unit2, f), "v0.8.0");
    }

    #[test]
    fn version_written_in_shared_file_is_found_where_it_is_written() {
        let common = "locals {\n  src = \"github.com/org/repo//x?ref=v1.0.0\"\n}\n";
        let unit = "include \"c\" {\n  path = \"../common.hcl\"\n  expose = true\n}\nterraform {\n  source = include.c.locals.src\n}\n";
        let files = MemFiles::default().with("/r/common.hcl", common);
        let f = &find_in("/r/dev/terragrunt.hcl", unit, &files)[0];
        assert_eq!(f.current.as_deref(), Some("v1.0.0"));
        assert_eq!(site_in(common, f, "/r/common.hcl"), "v1.0.0");
        assert_eq!(f.site.as_ref().unwrap().line, 2);
        assert_eq!(f.not_editable, None);
    }

    #[test]
    fn unresolvable_interpolation_keeps_literal_ref() {
        let text = "terraform {\n  source = \"${get_env(\"BASE\")}//x?ref=v3.1.0\"\n}\n";
        let f = &find_in("dev/terragrunt.hcl", text, &MemFiles::default())[0];
        let err = f.resolved.as_ref().unwrap_err();
        assert!(err.contains("get_env"), "{err}");
        assert_eq!(f.current.as_deref(), Some("v3.1.0"));
        assert_eq!(site_text(text, f), "v3.1.0");
    }

    #[test]
    fn ref_from_an_expression_is_not_editable() {
        let text = "locals {\n  v = \"v1.0.0\"\n}\nterraform {\n  source = \"github.com/org/repo//x?ref=${local.v}\"\n}\n";
        let f = &find_in("dev/terragrunt.hcl", text, &MemFiles::default())[0];
        assert_eq!(f.current.as_deref(), Some("v1.0.0"));
        // The ref is the literal `v1.0.0` of the local, in this file: editable there.
        assert_eq!(site_text(text, f), "v1.0.0");
        assert_eq!(f.site.as_ref().unwrap().line, 2);
    }

    #[test]
    fn bom_shifts_spans_by_three() {
        let text = "\u{feff}terraform {\n  source = \"github.com/org/repo?ref=v1.0.0\"\n}\n";
        let f = &find_in("t.hcl", text, &MemFiles::default())[0];
        assert_eq!(site_text(text, f), "v1.0.0");
    }

    #[test]
    fn crlf_file() {
        let text = "terraform {\r\n  source = \"github.com/org/repo?ref=v1.0.0\"\r\n}\r\n";
        let f = &find_in("t.hcl", text, &MemFiles::default())[0];
        assert_eq!(f.line, 2);
        assert_eq!(site_text(text, f), "v1.0.0");
    }

    #[test]
    fn broken_file_reports_line_and_column() {
        let text = "terraform {\n  source = \"x\n}\n";
        let err = find(
            Path::new("t.hcl"),
            FileKind::Terragrunt,
            text,
            &MemFiles::default(),
        )
        .unwrap_err();
        assert!(err.line >= 2, "{err:?}");
        assert!(err.column >= 1);
    }

    #[test]
    fn include_cycles_stop() {
        let a = "include \"b\" {\n  path = \"b.hcl\"\n}\nlocals {\n  x = include.b.locals.y\n}\n";
        let b = "include \"a\" {\n  path = \"a.hcl\"\n}\nlocals {\n  y = include.a.locals.x\n}\n";
        let unit = "include \"a\" {\n  path = \"a.hcl\"\n}\nterraform {\n  source = \"${include.a.locals.x}?ref=v1\"\n}\n";
        let files = MemFiles::default().with("/r/a.hcl", a).with("/r/b.hcl", b);
        let f = &find_in("/r/terragrunt.hcl", unit, &files)[0];
        let err = f.resolved.as_ref().unwrap_err();
        assert!(err.contains("cycle"), "{err}");
    }

    /// The text at a site in another file.
    fn site_in<'a>(text: &'a str, f: &Found, file: &str) -> &'a str {
        let site = f.site.as_ref().expect("a site");
        assert_eq!(site.file.as_deref(), Some(Path::new(file)), "{f:?}");
        &text[site.span.clone()]
    }

    fn id(f: &Found) -> Option<String> {
        f.resolved.as_ref().ok().and_then(|s| s.dependency_id())
    }

    // Pattern 1: `read_terragrunt_config(…).locals` stored in a local, then attribute access.
    #[test]
    fn read_terragrunt_config_locals_stored_in_a_local() {
        let gh = "locals {\n  owner = \"acme\"\n  repo  = \"terraform-aws-vpc\"\n}\n";
        let unit = r#"locals {
  gh = read_terragrunt_config(find_in_parent_folders("github.hcl")).locals
}
terraform {
  source = "github.com/${local.gh.owner}/${local.gh.repo}//modules/vpc?ref=v1.2.0"
}
"#;
        let files = MemFiles::default().with("/r/github.hcl", gh);
        let f = &find_in("/r/dev/vpc/terragrunt.hcl", unit, &files)[0];
        assert_eq!(
            id(f).as_deref(),
            Some("acme/terraform-aws-vpc/vpc"),
            "{f:?}"
        );
        assert_eq!(site_text(unit, f), "v1.2.0");
        // The whole config stored, then `.locals` spelled out.
        let unit2 = unit
            .replace(").locals\n", ")\n")
            .replace("local.gh.", "local.gh.locals.");
        let f = &find_in("/r/dev/vpc/terragrunt.hcl", &unit2, &files)[0];
        assert_eq!(
            id(f).as_deref(),
            Some("acme/terraform-aws-vpc/vpc"),
            "{f:?}"
        );
    }

    // Pattern 2: attribute and index access into maps, in this file, an include, or a file read
    // with `read_terragrunt_config`; the version is edited where the map writes it.
    #[test]
    fn versions_in_maps_are_found_where_they_are_written() {
        let same = r#"locals {
  versions = {
    vpc = "v1.4.0"
    eks = "v2.0.0"
  }
}
terraform {
  source = "github.com/acme/mods//vpc?ref=${local.versions.vpc}"
}
"#;
        let f = &find_in("/r/dev/terragrunt.hcl", same, &MemFiles::default())[0];
        assert_eq!(f.current.as_deref(), Some("v1.4.0"));
        assert_eq!(site_text(same, f), "v1.4.0");
        assert_eq!(f.site.as_ref().unwrap().line, 3);
        assert!(f.site.as_ref().unwrap().file.is_none());

        let indexed = same.replace("local.versions.vpc", "local.versions[\"eks\"]");
        let f = &find_in("/r/dev/terragrunt.hcl", &indexed, &MemFiles::default())[0];
        assert_eq!(site_text(&indexed, f), "v2.0.0");

        let common = "locals {\n  versions = {\n    vpc = \"v1.4.0\"\n  }\n}\n";
        let files = MemFiles::default().with("/r/_common/common.hcl", common);
        let via_include = r#"include "common" {
  path   = find_in_parent_folders("_common/common.hcl")
  expose = true
}
terraform {
  source = "github.com/acme/mods//vpc?ref=${include.common.locals.versions.vpc}"
}
"#;
        let f = &find_in("/r/dev/vpc/terragrunt.hcl", via_include, &files)[0];
        assert_eq!(f.current.as_deref(), Some("v1.4.0"), "{f:?}");
        assert_eq!(site_in(common, f, "/r/_common/common.hcl"), "v1.4.0");
        assert_eq!(f.site.as_ref().unwrap().line, 3);
        assert_eq!(f.not_editable, None);

        let via_read = r#"locals {
  common          = read_terragrunt_config(find_in_parent_folders("_common/common.hcl"))
  module_versions = local.common.locals.versions
}
terraform {
  source = "github.com/acme/mods//vpc?ref=${local.module_versions["vpc"]}"
}
"#;
        let f = &find_in("/r/dev/vpc/terragrunt.hcl", via_read, &files)[0];
        assert_eq!(site_in(common, f, "/r/_common/common.hcl"), "v1.4.0");
        let spelled = via_read.replace(
            "local.module_versions[\"vpc\"]",
            "local.common.locals.versions.vpc",
        );
        let f = &find_in("/r/dev/vpc/terragrunt.hcl", &spelled, &files)[0];
        assert_eq!(site_in(common, f, "/r/_common/common.hcl"), "v1.4.0");

        // A key the map does not have: the address is known, the version is not, and the
        // reason says which key is missing.
        let missing = same.replace("local.versions.vpc", "local.versions.rds");
        let f = &find_in("/r/dev/terragrunt.hcl", &missing, &MemFiles::default())[0];
        assert_eq!(id(f).as_deref(), Some("acme/mods/vpc"));
        let why = f.version_unknown.as_deref().expect("a reason");
        assert!(why.contains("\"rds\""), "{why}");
    }

    // Pattern 3: conditionals on literal values.
    #[test]
    fn conditionals_on_literal_values() {
        let unit = r#"locals {
  local_source = false
  name         = "vpc"
  source       = local.local_source ? "../../modules/${local.name}" : "github.com/acme/mods.git//${local.name}?ref=v0.2.0"
}
terraform {
  source = "${local.source}"
}
"#;
        let f = &find_in("/r/dev/vpc/terragrunt.hcl", unit, &MemFiles::default())[0];
        assert_eq!(id(f).as_deref(), Some("acme/mods/vpc"), "{f:?}");
        assert_eq!(site_text(unit, f), "v0.2.0");
        let local = unit.replace("local_source = false", "local_source = true");
        let f = &find_in("/r/dev/vpc/terragrunt.hcl", &local, &MemFiles::default())[0];
        assert!(matches!(f.resolved, Ok(Source::Local(_))), "{f:?}");
        // Comparisons of literals, `!`, `&&` and `||`.
        let cmp = r#"locals {
  override = ""
  ref      = local.override != "" ? local.override : "v3.0.0"
  use      = !false && (1 == 1 || false)
}
terraform {
  source = local.use ? "github.com/acme/mods//x?ref=${local.ref}" : "../x"
}
"#;
        let f = &find_in("/r/dev/x/terragrunt.hcl", cmp, &MemFiles::default())[0];
        assert_eq!(site_text(cmp, f), "v3.0.0");
    }

    // Pattern 4: try, coalesce, lookup, format, join and templates nested in templates.
    #[test]
    fn functions_with_literal_values() {
        let stack = r#"locals {
  catalog_url = try(values.catalog_url, "github.com/acme/catalog")
  catalog_ref = try(values.catalog_ref, "v1.13.0")
}
unit "vpc" {
  source = "${local.catalog_url}//units/vpc?ref=${local.catalog_ref}"
  path   = "vpc"
}
"#;
        let f = &find_in(
            "/r/stacks/terragrunt.stack.hcl",
            stack,
            &MemFiles::default(),
        )[0];
        assert_eq!(id(f).as_deref(), Some("acme/catalog/units/vpc"), "{f:?}");
        assert_eq!(site_text(stack, f), "v1.13.0");

        let unit = r#"locals {
  override = ""
  versions = { vpc = "v1.1.0" }
  url      = "github.com/acme/mods"
  a = coalesce(local.override, "v1.0.0")
  b = lookup(local.versions, "vpc", "v0.0.1")
  c = lookup(local.versions, "eks", "v0.0.2")
}
module "a" {
  source = "${local.url}//a?ref=${local.a}"
}
module "b" {
  source = format("%s//b?ref=%s", local.url, local.b)
}
module "c" {
  source = join("", [local.url, "//c?ref=", local.c])
}
module "d" {
  source = "${"${local.url}//d"}?ref=${"v4.0.0"}"
}
"#;
        let found = find_in("/r/dev/main.tf", unit, &MemFiles::default());
        let texts: Vec<&str> = found.iter().map(|f| site_text(unit, f)).collect();
        assert_eq!(texts, ["v1.0.0", "v1.1.0", "v0.0.2", "v4.0.0"], "{found:?}");
        let ids: Vec<String> = found.iter().filter_map(id).collect();
        assert_eq!(
            ids,
            ["acme/mods/a", "acme/mods/b", "acme/mods/c", "acme/mods/d"]
        );
    }

    // Pattern 6: a value that cannot be known keeps the ID when only the version is unknown,
    // and says what would define it.
    #[test]
    fn unknown_versions_keep_the_id_and_name_what_defines_them() {
        let stack = "unit \"vpc\" {\n  source = \"github.com/acme/catalog//units/vpc?ref=${values.version}\"\n  path   = \"vpc\"\n}\n";
        let f = &find_in(
            "/r/stacks/app/terragrunt.stack.hcl",
            stack,
            &MemFiles::default(),
        )[0];
        assert_eq!(id(f).as_deref(), Some("acme/catalog/units/vpc"), "{f:?}");
        assert_eq!(f.current, None);
        assert!(f.site.is_none());
        let why = f.version_unknown.as_deref().expect("a reason");
        assert!(why.contains("values.version"), "{why}");
        assert!(why.contains("terragrunt.values.hcl"), "{why}");

        let unit = "terraform {\n  source = \"git::https://github.com/acme/mods.git//x?ref=${get_env(\"X_REF\")}\"\n}\n";
        let f = &find_in("/r/dev/terragrunt.hcl", unit, &MemFiles::default())[0];
        assert_eq!(id(f).as_deref(), Some("acme/mods/x"));
        assert_eq!(f.current, None);
        let why = f.version_unknown.as_deref().unwrap();
        assert!(why.contains("X_REF"), "{why}");

        let tf = "module \"m\" {\n  source  = \"acme/vpc/aws\"\n  version = var.vpc_version\n}\n";
        let f = &find_in("/r/dev/main.tf", tf, &MemFiles::default())[0];
        assert_eq!(id(f).as_deref(), Some("acme/vpc/aws"));
        assert_eq!(f.current, None);
        let why = f.version_unknown.as_deref().unwrap();
        assert!(
            why.contains("var.vpc_version") && why.contains(".tfvars"),
            "{why}"
        );

        // When the address itself is unknown, the usage has no ID, and the reason names it.
        let addr = "terraform {\n  source = \"${get_env(\"BASE\")}//x?ref=${values.v}\"\n}\n";
        let f = &find_in("/r/dev/terragrunt.hcl", addr, &MemFiles::default())[0];
        let err = f.resolved.as_ref().unwrap_err();
        assert!(err.contains("BASE"), "{err}");
        assert_eq!(f.current, None, "no empty version from `ref=${{…}}`");
    }

    /// `locals` that each repeat the previous one `width` times, `depth` levels deep, as the
    /// hostile-content report built them (2.3 KB reached 10 GB).
    fn bomb(width: usize, depth: usize, repeat: impl Fn(&str, usize) -> String) -> String {
        let mut text = String::from("locals {\n  a0 = \"xxxxxxxxxx\"\n");
        for i in 1..=depth {
            text.push_str(&format!(
                "  a{i} = {}\n",
                repeat(&format!("local.a{}", i - 1), width)
            ));
        }
        text.push_str(&format!(
            "}}\nterraform {{\n  source = \"github.com/acme/m//x?ref=${{local.a{depth}}}\"\n}}\n"
        ));
        text
    }

    // Resource bombs: the work is bounded and the file is reported, not evaluated.
    #[test]
    fn interpolation_bombs_are_reported_within_bounded_work() {
        let template = |r: &str, n: usize| format!("\"{}\"", format!("${{{r}}}").repeat(n));
        let shapes: Vec<(&str, String)> = vec![
            ("template", bomb(40, 5, template)),
            (
                "join",
                bomb(40, 5, |r, n| {
                    format!("join(\"\", [{}])", vec![r; n].join(", "))
                }),
            ),
            (
                "format",
                bomb(40, 5, |r, n| {
                    format!("format(\"{}\", {})", "%s".repeat(n), vec![r; n].join(", "))
                }),
            ),
            ("concat", {
                let mut t = String::from("locals {\n  l0 = [\"x\", \"y\"]\n");
                for i in 1..=6 {
                    t.push_str(&format!(
                        "  l{i} = concat({})\n",
                        vec![format!("local.l{}", i - 1); 40].join(", ")
                    ));
                }
                t.push_str(
                    "}\nterraform {\n  source = \"github.com/acme/m//x?ref=${local.l6[0]}\"\n}\n",
                );
                t
            }),
            ("merge", {
                let mut t = String::from("locals {\n  m0 = { a = \"x\" }\n");
                for i in 1..=6 {
                    t.push_str(&format!(
                        "  m{i} = {{ {} }}\n",
                        (0..40)
                            .map(|k| format!("k{k} = local.m{}", i - 1))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                t.push_str("}\nterraform {\n  source = \"github.com/acme/m//x?ref=${local.m6.k0.k0.a}\"\n}\n");
                t
            }),
            (
                "replace",
                bomb(1, 6, |r, _| {
                    format!(
                        "replace(\"${{{r}}}${{{r}}}\", \"x\", \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\")"
                    )
                }),
            ),
        ];
        for (name, text) in shapes {
            assert!(text.len() < 8 * 1024, "{name}: {} bytes", text.len());
            let path = Path::new("/r/dev/x/terragrunt.hcl");
            let (result, work) =
                find_measured(path, FileKind::Terragrunt, &text, &MemFiles::default());
            let limit = eval::MAX_WORK + eval::WORK_PER_BYTE * text.len() as u64;
            assert!(work <= limit, "{name}: {work} steps");
            match result {
                Err(e) => {
                    assert_eq!(e.kind, ProblemKind::TooLarge, "{name}: {e:?}");
                    assert!(e.message.starts_with("interpolation too large"), "{e:?}");
                }
                Ok(found) => {
                    // What was evaluated stayed under the value limit.
                    let id = id(&found[0]);
                    assert!(id.is_some(), "{name}: {found:?}");
                }
            }
        }
        // The template bomb in particular is refused, not evaluated.
        let text = bomb(40, 5, template);
        let err = find(
            Path::new("/r/t.hcl"),
            FileKind::Terragrunt,
            &text,
            &MemFiles::default(),
        )
        .unwrap_err();
        assert_eq!(err.kind, ProblemKind::TooLarge);
        assert_eq!(err.line, 10, "the line of the source that needs the bomb");
    }

    // As Terragrunt: a file read with read_terragrunt_config is evaluated in its own folder
    // (get_terragrunt_dir() and relative paths), an included file in the including unit's.
    #[test]
    fn read_files_are_evaluated_in_their_own_folder_and_includes_in_the_unit() {
        let config = "locals {\n  git = read_terragrunt_config(\"${get_terragrunt_dir()}/_shared/git.hcl\")\n  base = local.git.locals.base\n}\n";
        let git = "locals {\n  base = \"github.com/acme/mods\"\n}\n";
        let files = MemFiles::default()
            .with("/r/infra/config.hcl", config)
            .with("/r/infra/_shared/git.hcl", git)
            .with(
                "/r/infra/dev/x/_shared/git.hcl",
                "locals {\n  base = \"github.com/wrong/place\"\n}\n",
            );
        let read = "locals {\n  cfg = read_terragrunt_config(find_in_parent_folders(\"config.hcl\"))\n}\nterraform {\n  source = \"${local.cfg.locals.base}//vpc?ref=v1.0.0\"\n}\n";
        let f = &find_in("/r/infra/dev/x/terragrunt.hcl", read, &files)[0];
        assert_eq!(id(f).as_deref(), Some("acme/mods/vpc"), "{f:?}");
        // Included, the same file reads from the unit's folder.
        let include = "include \"cfg\" {\n  path   = find_in_parent_folders(\"config.hcl\")\n  expose = true\n}\nterraform {\n  source = \"${include.cfg.locals.base}//vpc?ref=v1.0.0\"\n}\n";
        let f = &find_in("/r/infra/dev/x/terragrunt.hcl", include, &files)[0];
        assert_eq!(id(f).as_deref(), Some("wrong/place/vpc"), "{f:?}");
    }

    #[test]
    fn include_paths_follow_terragrunt_with_one_include_several_or_none() {
        // Each source names its module folder from the include functions.
        let root = "locals {\n  from_root = path_relative_from_include()\n}\n";
        let files = MemFiles::default()
            .with("/r/root.hcl", root)
            .with("/r/envs/env.hcl", "locals {}\n");
        let unit = |head: &str, module: &str| {
            format!(
                "{head}terraform {{\n  source = \"github.com/acme/mods//${{{module}}}?ref=v1.0.0\"\n}}\n"
            )
        };
        let subdir = |head: &str, module: &str| {
            let text = unit(head, module);
            let found = find_in("/r/envs/dev/vpc/terragrunt.hcl", &text, &files);
            match &found[0].resolved {
                Ok(Source::Git(g)) => g.subdir.clone().unwrap_or_default(),
                other => panic!("{other:?}"),
            }
        };
        let two = "include \"root\" {\n  path = \"/r/root.hcl\"\n}\ninclude \"env\" {\n  path = \"/r/envs/env.hcl\"\n}\n";
        // The first include, or the one named.
        assert_eq!(subdir(two, "path_relative_to_include()"), "envs/dev/vpc");
        assert_eq!(subdir(two, "path_relative_to_include(\"env\")"), "dev/vpc");
        assert_eq!(subdir(two, "path_relative_from_include(\"env\")"), "../..");
        assert_eq!(
            subdir(two, "basename(get_parent_terragrunt_dir(\"env\"))"),
            "envs"
        );
        // In the included file, its own folder.
        let exposed = "include \"root\" {\n  path   = \"/r/root.hcl\"\n  expose = true\n}\n";
        assert_eq!(subdir(exposed, "include.root.locals.from_root"), "../../..");
        // Without an include: `.` and the unit's own folder.
        assert_eq!(subdir("", "path_relative_to_include()"), ".");
        assert_eq!(subdir("", "basename(get_parent_terragrunt_dir())"), "vpc");
    }

    #[test]
    fn line_index() {
        let idx = LineIndex::new("a\nbc\n\nd");
        assert_eq!(idx.line(0), 1);
        assert_eq!(idx.line(2), 2);
        assert_eq!(idx.line(5), 3);
        assert_eq!(idx.line(6), 4);
        let _ = locals_of(&parse("locals {\n a = 1\n}\n").unwrap());
    }
}
