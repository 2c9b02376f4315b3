//! What one usage of a module hands it and takes from it: the input names a Terragrunt unit
//! passes (its `inputs`, with those merged from its includes) or a `module` block's arguments,
//! and the `module.<name>.<output>` references of the same folder's `.tf` files. Whatever hides a
//! name from a syntax-only reading (an `inputs` built by an expression, a module used as a whole)
//! is reported as unknown, never guessed.

mod dependents;
mod env;
mod module;
mod references;
mod unit;

pub use dependents::Dependents;

use crate::find::hcl::{self, UsageKind};
use crate::find::scan::{FileTexts, MAX_FILE_BYTES};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::{BTreeMap, HashSet};
use std::hash::Hash;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// A place in the environment: a file relative to the working directory and a line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// File relative to the working directory (`/`-separated), or an absolute path for a file
    /// outside it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

/// An input the usage passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    /// Where the name is written (the include's file for an input merged from an include).
    pub at: Place,
    /// The value's kind when it is a literal (`string`, `number`, `bool`, `list`, `object`,
    /// `null`), for type checks.
    pub literal: Option<&'static str>,
}

/// A read of one of the module's outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The output's name.
    pub output: String,
    /// The reference as written (`module.vpc.nat_ids`).
    pub text: String,
    /// Where.
    pub at: Place,
}

/// Something that hides inputs or output reads from Baton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// Where.
    pub at: Place,
    /// What Baton could not read, as a sentence fragment (`inputs are built by …`).
    pub what: String,
    /// True when it may hide inputs; false when it may hide output reads.
    pub inputs: bool,
}

/// What a usage passes to its module and reads from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallSite {
    /// Inputs passed, by name: the place that wins (the unit's own over an include's). Only the
    /// inputs the check looks for are kept (see [`Wanted`]).
    pub passes: BTreeMap<String, Passed>,
    /// Reads of the module's outputs.
    pub reads: Vec<Read>,
    /// What could not be read.
    pub unknowns: Vec<Unknown>,
}

impl CallSite {
    /// True when every input passed is known (nothing hides one).
    pub fn inputs_complete(&self) -> bool {
        !self.unknowns.iter().any(|u| u.inputs)
    }
}

/// Reads call sites for one run: the working directory made absolute once, and what many usages
/// share read once (an include such as `root.hcl`, the output reads of a folder, the files
/// `find_in_parent_folders` looks for), however many usages and dependencies are checked, from
/// any thread. What is a usage's own (its unit, its `module` block) is read for it and not kept.
#[derive(Debug)]
pub struct Reader {
    /// The working directory, absolute: include paths found from a unit's folder are absolute
    /// too, whatever the working directory is written as.
    root: PathBuf,
    /// The same, with symbolic links resolved, to show paths relative to it.
    canonical: PathBuf,
    /// The inputs of each included file, by its absolute path.
    includes: Cache<PathBuf, unit::Included>,
    /// The reads of module outputs in each folder's `.tf` files, by the folder's absolute path.
    folders: Cache<PathBuf, references::Found>,
    /// The includes (and `extra_arguments`) of units, parsed once for all units written alike,
    /// by their text (see [`hcl::inputs::KeptItems`]).
    kept: Cache<String, Option<hcl_edit::structure::Body>>,
    /// Whether each path looked for by `find_in_parent_folders` exists.
    exists: Mutex<FxHashMap<PathBuf, bool>>,
    /// What `find_in_parent_folders` finds, by the name looked for and the folder it looks from.
    found_up: Mutex<FxHashMap<String, FxHashMap<PathBuf, Option<PathBuf>>>>,
    /// The texts of the files the scan read, by their names relative to the working directory:
    /// read from here rather than from disk again.
    texts: FileTexts,
}

/// Values computed once per key, from any thread: a thread that asks for a value being computed
/// waits for it (the computation needs no other task of the pool).
type Cache<K, V> = Mutex<FxHashMap<K, Arc<OnceLock<Arc<V>>>>>;

/// The value for `key`, computed by `make` on first need.
fn cached<K: Hash + Eq, V>(cache: &Cache<K, V>, key: K, make: impl FnOnce() -> V) -> Arc<V> {
    let slot = {
        let mut map = cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(key).or_default().clone()
    };
    slot.get_or_init(|| Arc::new(make())).clone()
}

/// What a check needs of a call site: the inputs it looks for (the others are not kept), and
/// whether the reads of the module's outputs are needed.
#[derive(Debug, Clone, Default)]
pub struct Wanted {
    /// The names of the inputs looked for; `None` for every input.
    names: Option<HashSet<String>>,
    /// Whether the reads of the module's outputs in the usage's folder are needed.
    reads: bool,
}

impl Wanted {
    /// The inputs named `names`, and the reads of outputs when `reads`.
    pub fn inputs(names: impl IntoIterator<Item = String>, reads: bool) -> Wanted {
        Wanted {
            names: Some(names.into_iter().collect()),
            reads,
        }
    }

    /// Every input, and the reads of outputs.
    pub fn everything() -> Wanted {
        Wanted {
            names: None,
            reads: true,
        }
    }

    /// Whether the input `name` is looked for.
    fn input(&self, name: &str) -> bool {
        self.names.as_ref().is_none_or(|n| n.contains(name))
    }
}

impl Reader {
    /// A reader for the working directory `root` (relative to the current directory or
    /// absolute).
    pub fn new(root: &Path) -> Reader {
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        let root = hcl::normalize(&root);
        let canonical = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
        Reader {
            root,
            canonical,
            includes: Mutex::default(),
            folders: Mutex::default(),
            kept: Mutex::default(),
            exists: Mutex::default(),
            found_up: Mutex::default(),
            texts: FileTexts::default(),
        }
    }

    /// The same reader, taking the files the scan kept (see [`crate::find::scan::ScanReport::texts`])
    /// from `texts` instead of from disk: as the scan saw them, without reading them again.
    pub fn with_texts(mut self, texts: FileTexts) -> Reader {
        self.texts = texts;
        self
    }

    /// The text of `file` (relative to the working directory), BOM stripped: as the scan kept
    /// it (with its top-level items), else read now.
    fn text_of(&self, file: &str) -> Result<FileText<'_>, String> {
        match self.texts.get_lexed(file) {
            Some((text, items)) => Ok(FileText::kept(text, items)),
            None => load(&self.root.join(file)).map(FileText::loaded),
        }
    }

    /// The text of a file under the working directory (`path` absolute), BOM stripped: as the
    /// scan kept it, else read now.
    fn text_at(&self, path: &Path) -> Result<Cow<'_, str>, String> {
        let rel = path.strip_prefix(&self.root).ok();
        match rel.and_then(|rel| self.texts.get(rel.to_str()?)) {
            Some(text) => Ok(Cow::Borrowed(hcl::strip_bom(text).0)),
            None => load(path).map(Cow::Owned),
        }
    }

    /// The working directory, absolute.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Reads the call site of the usage at `file:line` (relative to the working directory).
    pub fn read(&self, file: &str, line: usize, kind: UsageKind, wanted: &Wanted) -> CallSite {
        self.read_file(file, [(line, kind, Some(wanted))])
            .pop()
            .unwrap_or_default()
    }

    /// Reads the call sites of the usages in `file` (relative to the working directory), each
    /// given as `(line, kind, wanted)`, with the file read once for all of them: one call site
    /// per usage, in order. A usage without `wanted` gets an empty call site, and a file none of
    /// whose usages wants anything is not read.
    pub fn read_file<'w>(
        &self,
        file: &str,
        usages: impl IntoIterator<Item = (usize, UsageKind, Option<&'w Wanted>)>,
    ) -> Vec<CallSite> {
        let mut text: Option<Result<FileText<'_>, String>> = None;
        let mut sites = Vec::new();
        for (line, kind, wanted) in usages {
            let here = Place {
                file: file.to_string(),
                line,
            };
            let Some(wanted) = wanted else {
                sites.push(CallSite::default());
                continue;
            };
            if let UsageKind::Unit | UsageKind::Stack = kind {
                sites.push(CallSite {
                    unknowns: vec![Unknown {
                        at: here,
                        what: format!(
                            "a stack `{}` passes `values` to the unit's own configuration, which Baton does not follow",
                            kind.as_str()
                        ),
                        inputs: true,
                    }],
                    ..CallSite::default()
                });
                continue;
            }
            let text = match text.get_or_insert_with(|| self.text_of(file)) {
                Ok(text) => &*text,
                Err(why) => {
                    let unknown = Unknown {
                        at: here,
                        what: format!("the file cannot be read ({why})"),
                        inputs: true,
                    };
                    sites.push(CallSite {
                        unknowns: vec![unknown],
                        ..CallSite::default()
                    });
                    continue;
                }
            };
            sites.push(match kind {
                UsageKind::Terragrunt => self.unit(text, here, wanted),
                _ => self.module(text, here, wanted),
            });
        }
        sites
    }

    /// Whether `path` exists, looked at once per run.
    fn exists(&self, path: &Path) -> bool {
        let lock = || self.exists.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(&known) = lock().get(path) {
            return known;
        }
        let found = path.exists();
        lock().insert(path.to_path_buf(), found);
        found
    }

    /// The nearest file named `wanted` in the folder `from` or above it (at most 64 folders up),
    /// looked for once per run for each folder and name.
    fn find_up(&self, from: &Path, wanted: &str) -> Option<PathBuf> {
        let lock = || self.found_up.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(found) = lock().get(wanted).and_then(|by_dir| by_dir.get(from)) {
            return found.clone();
        }
        let found = (from.ancestors().take(64))
            .map(|d| d.join(wanted))
            .find(|p| self.exists(p));
        let mut map = lock();
        let by_dir = map.entry(wanted.to_string()).or_default();
        by_dir.insert(from.to_path_buf(), found.clone());
        found
    }

    /// A path as shown: relative to the working directory when inside it.
    fn shown(&self, path: &Path) -> String {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| hcl::normalize(path));
        match path.strip_prefix(&self.canonical) {
            Ok(rel) => rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/"),
            Err(_) => path.display().to_string(),
        }
    }
}

/// A file's text (BOM stripped), read once for all the usages it holds, and its top-level items
/// (see [`hcl::top_level_items`]): as the scan lexed them when it kept the text, else lexed on
/// first need.
pub(super) struct FileText<'a> {
    /// The text.
    pub(super) text: Cow<'a, str>,
    /// Its top-level items, once known (`None` inside: the lexer cannot follow the text).
    items: OnceCell<Option<Cow<'a, [Range<usize>]>>>,
}

impl<'a> FileText<'a> {
    /// A text the scan kept (BOM and all), with the items it found in it.
    fn kept(text: &'a str, items: Option<&'a [Range<usize>]>) -> FileText<'a> {
        FileText {
            text: Cow::Borrowed(hcl::strip_bom(text).0),
            items: OnceCell::from(items.map(Cow::Borrowed)),
        }
    }

    /// A text read now (BOM stripped).
    fn loaded(text: String) -> FileText<'a> {
        FileText {
            text: Cow::Owned(text),
            items: OnceCell::new(),
        }
    }

    /// The text's top-level items; `None` when the lexer cannot follow the text.
    pub(super) fn items(&self) -> Option<&[Range<usize>]> {
        let items = self
            .items
            .get_or_init(|| hcl::top_level_items(&self.text).map(Cow::Owned));
        items.as_deref()
    }
}

/// A file's text (BOM stripped), or why it cannot be read.
fn load(path: &Path) -> Result<String, String> {
    let text = read_text(path).map_err(|e| e.to_string())?;
    Ok(match hcl::strip_bom(&text) {
        (_, 0) => text,
        (stripped, _) => stripped.to_string(),
    })
}

/// The unknown for a file that does not parse.
fn does_not_parse(here: &Place, e: &hcl::ParseError) -> Unknown {
    Unknown {
        at: here.clone(),
        what: format!(
            "the file does not parse ({}:{}: {})",
            e.line, e.column, e.message
        ),
        inputs: true,
    }
}

/// Whether a value of literal kind `kind` cannot be of the declared type `ty` (compact form).
/// Only clear mismatches count; anything uncertain is `false`.
pub fn mismatch(kind: &str, ty: &str) -> bool {
    let head = ty.split('(').next().unwrap_or(ty);
    let expected = match head {
        "string" => "string",
        "number" => "number",
        "bool" => "bool",
        "list" | "set" | "tuple" => "list",
        "map" | "object" => "object",
        _ => return false,
    };
    // Terraform converts numbers and bools to strings and back where it can.
    let convertible = matches!(
        (kind, expected),
        ("number" | "bool", "string") | ("string", "number" | "bool")
    );
    kind != "null" && kind != expected && !convertible
}

/// Reads a regular file of at most [`MAX_FILE_BYTES`] as UTF-8.
fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read as _};
    use std::os::unix::fs::OpenOptionsExt as _;
    // Opened without waiting (a FIFO would wait for a writer), then looked at through the open
    // file: one path lookup per file.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "not a regular file of at most 8 MiB",
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
    file.take(MAX_FILE_BYTES).read_to_end(&mut bytes)?;
    String::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::InvalidData, "not UTF-8 text"))
}

/// A markdown code span that holds `text` whatever it contains (backticks, line breaks): text
/// read from files is shown through it.
pub fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    if longest == 0 {
        format!("`{text}`")
    } else {
        let fence = "`".repeat(longest + 1);
        format!("{fence} {text} {fence}")
    }
}

/// The text of a span, shortened for messages.
fn snippet(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let s: String = span
        .and_then(|r| text.get(r))
        .unwrap_or("?")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests;
