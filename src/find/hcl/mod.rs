//! Finds module sources in one HCL file and the exact bytes that hold their versions.
//!
//! The file is parsed with hcl-edit for its byte spans and never re-printed. Interpolated sources
//! are resolved by a deliberately small evaluator (locals, exposed includes, a few Terragrunt
//! path functions): anything it cannot prove is reported as a skip, never guessed.

pub mod skeleton;

pub use skeleton::Keep;

use crate::find::source::Source;
use hcl_edit::Span;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::Element;
use serde::Serialize;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How deep locals and includes may refer to each other before Baton gives up.
const MAX_DEPTH: usize = 12;

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
    /// Where `current` is written, when it is written in this file as a plain literal.
    pub site: Option<VersionSite>,
    /// Why the version cannot be edited here, though it was found.
    pub not_editable: Option<String>,
}

/// A file that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The parser's message.
    pub message: String,
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
}

/// Access to other files, for includes and `read_terragrunt_config`.
pub trait Files: Sync {
    /// Loads and parses a file, or says why not.
    fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String>;
    /// Whether a file exists (for `find_in_parent_folders`).
    fn exists(&self, path: &Path) -> bool;
}

/// Strips a UTF-8 byte-order mark; returns the text and the number of bytes removed.
pub fn strip_bom(text: &str) -> (&str, usize) {
    match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3),
        None => (text, 0),
    }
}

/// Parses a file's text (BOM already stripped) into a body.
pub fn parse(text: &str) -> Result<Body, ParseError> {
    hcl_edit::parser::parse_body(text).map_err(|e| ParseError {
        line: e.location().line(),
        column: e.location().column(),
        message: e.message().to_string(),
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
    let (body_text, bom) = strip_bom(text);
    let body = parse_items(body_text, Keep::Sources)?;
    Ok(find_in(path, kind, body_text, &body, bom, files))
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
    Ok(find_in(path, kind, body_text, &body, bom, files))
}

/// The usages in a parsed file; `body_text` is the text without its BOM, of `bom` bytes.
fn find_in(
    path: &Path,
    kind: FileKind,
    body_text: &str,
    body: &Body,
    bom: usize,
    files: &dyn Files,
) -> Vec<Found> {
    let lines = LineIndex::new(body_text);
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let scope = Scope {
        text: body_text,
        body,
        file: path,
        here: true,
        terragrunt_dir: &dir,
        files,
    };
    let mut out = Vec::new();
    for block in body.blocks() {
        let usage_kind = match (kind, block.ident.as_str()) {
            (FileKind::Terraform, "module") => UsageKind::Module,
            (FileKind::Terragrunt, "terraform") => UsageKind::Terragrunt,
            (FileKind::Stack, "unit") => UsageKind::Unit,
            (FileKind::Stack, "stack") => UsageKind::Stack,
            _ => continue,
        };
        if let Some(found) = find_in_block(block, usage_kind, &scope, &lines, bom) {
            out.push(found);
        }
    }
    out
}

fn find_in_block(
    block: &Block,
    kind: UsageKind,
    scope: &Scope<'_>,
    lines: &LineIndex<'_>,
    bom: usize,
) -> Option<Found> {
    let source_attr = block.body.get_attribute("source")?;
    let span = source_attr.value.span().unwrap_or(0..0);
    let raw_source = scope
        .text
        .get(span.clone())
        .map(|s| unquote(s).to_string())
        .unwrap_or_default();
    let line = lines.line(span.start);
    let site_at = |r: Range<usize>, form: VersionForm| VersionSite {
        span: r.start + bom..r.end + bom,
        line: lines.line(r.start),
        form,
    };

    let pieces = eval(&source_attr.value, scope, 0);
    let (resolved, text) = match &pieces {
        Ok(p) => {
            let text = join(p);
            (Ok(Source::parse(&text)), Some(text))
        }
        Err(e) => (Err(e.clone()), None),
    };

    let mut found = Found {
        kind,
        line,
        raw_source,
        resolved,
        current: None,
        site: None,
        not_editable: None,
    };

    // The version written inside the source string (`?ref=`, tfr `?version=`).
    let inline = match (&found.resolved, &text) {
        (Ok(src), Some(text)) => src.inline_version().map(|loc| {
            let form = match src {
                Source::Registry(_) => VersionForm::QueryVersion,
                _ => VersionForm::GitRef,
            };
            (loc.clone(), text.as_str(), form)
        }),
        _ => None,
    };
    if let (Some((loc, _, form)), Ok(pieces)) = (&inline, &pieces) {
        found.current = Some(loc.value.clone());
        match locate_in_pieces(pieces, loc.range.clone()) {
            Ok(r) => found.site = Some(site_at(r, *form)),
            Err(why) => found.not_editable = Some(why),
        }
    } else if found.resolved.is_err() {
        // Unresolved source: still report a ref written in a literal part of it.
        if let Some((value, r)) = literal_ref(&source_attr.value, scope.text) {
            found.current = Some(value);
            found.site = Some(site_at(r, VersionForm::GitRef));
        }
    }

    // A `version` attribute next to a registry (or tfr without ?version=) source.
    let wants_attr =
        matches!(&found.resolved, Ok(Source::Registry(r)) if r.query_version.is_none());
    if wants_attr {
        if let Some(attr) = block.body.get_attribute("version") {
            match &attr.value {
                Expression::String(s) => {
                    let r = attr.value.span().unwrap_or(0..0);
                    let inner = r.start + 1..r.end.saturating_sub(1);
                    found.current = Some(s.value().to_string());
                    if scope.text.get(inner.clone()) == Some(s.value().as_str()) {
                        found.site = Some(site_at(inner, VersionForm::Attribute));
                    } else {
                        found.not_editable =
                            Some("the version string contains escape sequences".into());
                    }
                }
                other => {
                    found.current = scope
                        .text
                        .get(other.span().unwrap_or(0..0))
                        .map(|s| s.trim().to_string());
                    found.not_editable = Some("the version is an expression, not a string".into());
                }
            }
        }
    }
    Some(found)
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
                let value = raw[start..start + len].to_string();
                let at = span.start + start;
                return Some((value, at..at + len));
            }
        }
    }
    None
}

/// A piece of an evaluated string: where its text came from.
#[derive(Debug, Clone)]
enum Origin {
    /// A literal in the file being scanned, at this byte range (BOM stripped).
    Here(Range<usize>),
    /// A literal in another file.
    Elsewhere(PathBuf),
    /// Produced by a function or an escape sequence.
    Computed,
}

#[derive(Debug, Clone)]
struct Piece {
    text: String,
    origin: Origin,
}

fn join(pieces: &[Piece]) -> String {
    pieces.iter().map(|p| p.text.as_str()).collect()
}

/// Maps a range of the joined string back to file bytes, when it lies inside one literal of the
/// scanned file.
fn locate_in_pieces(pieces: &[Piece], range: Range<usize>) -> Result<Range<usize>, String> {
    let mut pos = 0;
    for piece in pieces {
        let end = pos + piece.text.len();
        if range.start >= pos && range.end <= end && (range.start < end || range.is_empty()) {
            let rel = range.start - pos..range.end - pos;
            return match &piece.origin {
                Origin::Here(span) => Ok(span.start + rel.start..span.start + rel.end),
                Origin::Elsewhere(file) => Err(format!(
                    "the version is written in {}, not in this file",
                    file.display()
                )),
                Origin::Computed => Err("the version is computed by an expression".into()),
            };
        }
        pos = end;
    }
    Err("the version is assembled from several expressions".into())
}

/// What evaluation can see: one file's locals and includes.
struct Scope<'a> {
    text: &'a str,
    body: &'a Body,
    file: &'a Path,
    /// Whether `text` is the scanned file (only then are spans kept).
    here: bool,
    /// The directory of the scanned file: Terragrunt evaluates functions in included files in the
    /// context of the including unit.
    terragrunt_dir: &'a Path,
    files: &'a dyn Files,
}

impl Scope<'_> {
    fn local(&self, name: &str) -> Option<&Expression> {
        self.body
            .blocks()
            .filter(|b| b.ident.as_str() == "locals")
            .find_map(|b| b.body.get_attribute(name))
            .map(|a| &a.value)
    }

    fn include_path(&self, name: &str) -> Option<&Expression> {
        self.body
            .blocks()
            .filter(|b| b.ident.as_str() == "include")
            .find(|b| b.labels.first().map_or("", |l| l.as_str()) == name)
            .and_then(|b| b.body.get_attribute("path"))
            .map(|a| &a.value)
    }

    fn literal(&self, value: &str, span: Option<Range<usize>>) -> Piece {
        let origin = match span {
            Some(span) if self.text.get(span.clone()) == Some(value) => {
                if self.here {
                    Origin::Here(span)
                } else {
                    Origin::Elsewhere(self.file.to_path_buf())
                }
            }
            _ => Origin::Computed,
        };
        Piece {
            text: value.to_string(),
            origin,
        }
    }

    /// Evaluates `local.x` / `include.x.locals.y` / `local.cfg.locals.y` in another file.
    fn in_file<T>(
        &self,
        path: &Path,
        f: impl FnOnce(&Scope<'_>) -> Result<T, String>,
    ) -> Result<T, String> {
        let loaded = self.files.load(path)?;
        let scope = Scope {
            text: &loaded.text,
            body: &loaded.body,
            file: &loaded.path,
            here: false,
            terragrunt_dir: self.terragrunt_dir,
            files: self.files,
        };
        f(&scope)
    }
}

fn eval(expr: &Expression, scope: &Scope<'_>, depth: usize) -> Result<Vec<Piece>, String> {
    if depth > MAX_DEPTH {
        return Err("locals or includes refer to each other too deeply".into());
    }
    match expr {
        Expression::String(s) => {
            let inner = s.span().map(|r| r.start + 1..r.end.saturating_sub(1));
            Ok(vec![scope.literal(s.value(), inner)])
        }
        Expression::StringTemplate(t) => {
            let mut out = Vec::new();
            for el in t.iter() {
                match el {
                    Element::Literal(lit) => out.push(scope.literal(lit.value(), lit.span())),
                    Element::Interpolation(i) => out.extend(eval(&i.expr, scope, depth + 1)?),
                    Element::Directive(_) => {
                        return Err("template directives (%{…}) are not evaluated".into());
                    }
                }
            }
            Ok(out)
        }
        Expression::Parenthesis(p) => eval(p.inner(), scope, depth + 1),
        Expression::Traversal(t) => eval_traversal(t, scope, depth),
        Expression::FuncCall(call) => {
            let text = eval_function(call, scope, depth)?;
            Ok(vec![Piece {
                text,
                origin: Origin::Computed,
            }])
        }
        other => Err(format!(
            "cannot resolve `{}`",
            snippet(scope.text, other.span())
        )),
    }
}

fn eval_traversal(
    t: &hcl_edit::expr::Traversal,
    scope: &Scope<'_>,
    depth: usize,
) -> Result<Vec<Piece>, String> {
    let root = match &t.expr {
        Expression::Variable(v) => v.as_str().to_string(),
        _ => return Err(unresolvable(scope, t.span())),
    };
    let mut names = Vec::new();
    for op in &t.operators {
        match op.value() {
            TraversalOperator::GetAttr(ident) => names.push(ident.as_str().to_string()),
            _ => return Err(unresolvable(scope, t.span())),
        }
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    match (root.as_str(), names.as_slice()) {
        ("local", [name]) => {
            let value = scope.local(name).ok_or_else(|| {
                format!("local.{name} is not defined in {}", scope.file.display())
            })?;
            eval(value, scope, depth + 1)
        }
        // `local.cfg.locals.x` where `cfg = read_terragrunt_config(path)`.
        ("local", [cfg, "locals", name]) => {
            let value = scope
                .local(cfg)
                .ok_or_else(|| format!("local.{cfg} is not defined in {}", scope.file.display()))?;
            let Expression::FuncCall(call) = value else {
                return Err(unresolvable(scope, t.span()));
            };
            if call.name.name.as_str() != "read_terragrunt_config" {
                return Err(unresolvable(scope, t.span()));
            }
            let arg = call
                .args
                .iter()
                .next()
                .ok_or_else(|| unresolvable(scope, t.span()))?;
            let path = resolve_path(&join(&eval(arg, scope, depth + 1)?), scope);
            local_in(scope, &path, name, depth)
        }
        ("include", [include, "locals", name]) | ("include", [include, "locals", name, ..])
            if names.len() == 3 =>
        {
            let path_expr = scope.include_path(include).ok_or_else(|| {
                format!(
                    "include \"{include}\" is not defined in {}",
                    scope.file.display()
                )
            })?;
            let path = resolve_path(&join(&eval(path_expr, scope, depth + 1)?), scope);
            local_in(scope, &path, name, depth)
        }
        _ => Err(unresolvable(scope, t.span())),
    }
}

fn local_in(
    scope: &Scope<'_>,
    path: &Path,
    name: &str,
    depth: usize,
) -> Result<Vec<Piece>, String> {
    scope.in_file(path, |inner| {
        let value = inner
            .local(name)
            .ok_or_else(|| format!("local.{name} is not defined in {}", path.display()))?;
        eval(value, inner, depth + 1)
    })
}

/// A path from an include or `read_terragrunt_config`: relative paths are relative to the file
/// that wrote them.
fn resolve_path(text: &str, scope: &Scope<'_>) -> PathBuf {
    let p = Path::new(text);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        scope.file.parent().unwrap_or(Path::new("")).join(p)
    }
}

fn eval_function(
    call: &hcl_edit::expr::FuncCall,
    scope: &Scope<'_>,
    depth: usize,
) -> Result<String, String> {
    let name = call.name.name.as_str();
    let args: Vec<&Expression> = call.args.iter().collect();
    let arg = |i: usize| -> Result<String, String> {
        match args.get(i) {
            Some(e) => Ok(join(&eval(e, scope, depth + 1)?)),
            None => Err(format!("{name}() is missing an argument")),
        }
    };
    match name {
        "find_in_parent_folders" => {
            let wanted = if args.is_empty() {
                "terragrunt.hcl".to_string()
            } else {
                arg(0)?
            };
            find_in_parent_folders(scope.terragrunt_dir, &wanted, scope.files)
                .map(|p| p.to_string_lossy().into_owned())
                .ok_or_else(|| {
                    format!(
                        "find_in_parent_folders(\"{wanted}\") finds nothing above {}",
                        scope.terragrunt_dir.display()
                    )
                })
        }
        "dirname" => Ok(Path::new(&arg(0)?)
            .parent()
            .unwrap_or(Path::new(""))
            .to_string_lossy()
            .into_owned()),
        "basename" => Ok(Path::new(&arg(0)?)
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()),
        "get_terragrunt_dir" => Ok(scope.terragrunt_dir.to_string_lossy().into_owned()),
        "get_repo_root" => scope
            .terragrunt_dir
            .ancestors()
            .find(|d| scope.files.exists(&d.join(".git")))
            .map(|d| d.to_string_lossy().into_owned())
            .ok_or_else(|| "get_repo_root() finds no git repository".to_string()),
        other => Err(format!("the function {other}() is not evaluated")),
    }
}

fn find_in_parent_folders(start: &Path, name: &str, files: &dyn Files) -> Option<PathBuf> {
    start
        .ancestors()
        .skip(1)
        .take(64)
        .map(|dir| dir.join(name))
        .find(|candidate| files.exists(candidate))
}

fn unresolvable(scope: &Scope<'_>, span: Option<Range<usize>>) -> String {
    format!("cannot resolve `{}`", snippet(scope.text, span))
}

fn snippet(text: &str, span: Option<Range<usize>>) -> String {
    let s = span.and_then(|r| text.get(r)).unwrap_or("?").trim();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.to_string()
    }
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(s)
}

/// Byte offset → 1-based line. Lines are counted when asked for: a file has few usages.
pub struct LineIndex<'a> {
    text: &'a [u8],
}

impl<'a> LineIndex<'a> {
    /// Lines of a text.
    pub fn new(text: &'a str) -> Self {
        LineIndex {
            text: text.as_bytes(),
        }
    }

    /// The 1-based line holding byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        memchr::memchr_iter(b'\n', &self.text[..end]).count() + 1
    }
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
    fn version_written_in_shared_file_is_found_but_not_editable() {
        let common = "locals {\n  src = \"github.com/org/repo//x?ref=v1.0.0\"\n}\n";
        let unit = "include \"c\" {\n  path = \"../common.hcl\"\n  expose = true\n}\nterraform {\n  source = include.c.locals.src\n}\n";
        let files = MemFiles::default().with("/r/common.hcl", common);
        let f = &find_in("/r/dev/terragrunt.hcl", unit, &files)[0];
        assert_eq!(f.current.as_deref(), Some("v1.0.0"));
        assert!(f.site.is_none());
        assert!(
            f.not_editable.as_deref().unwrap().contains("common.hcl"),
            "{:?}",
            f.not_editable
        );
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
        assert!(f.resolved.as_ref().unwrap_err().contains("too deeply"));
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
