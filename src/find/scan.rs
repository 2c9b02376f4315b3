//! Walks one environment's folders in parallel, reads each candidate file once, and turns what
//! [`crate::find::hcl`] finds into usages: one per module source, with its dependency ID, current
//! version and, when Baton cannot manage it, the reason.

use crate::diag::Warning;
use crate::find::env::DirFilter;
use crate::find::hcl::{self, FileKind, Files, LoadedFile, UsageKind, VersionSite};
use crate::find::source::Source;
use crate::version;
use serde::Serialize;
use std::collections::HashMap;
use std::ops::Range;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, mpsc};

/// Folders never scanned: caches and generated copies of modules.
pub const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".terraform",
    ".terragrunt-cache",
    ".terragrunt-stack",
];

/// Files larger than this are reported and not parsed.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// What to scan.
#[derive(Debug, Clone)]
pub struct ScanRequest {
    /// The working directory; paths in results are relative to it.
    pub working_dir: PathBuf,
    /// Which folders form the environment.
    pub dirs: DirFilter,
}

impl ScanRequest {
    /// The environment's globs, or the working directory when there are none, for messages.
    pub fn describe(&self) -> String {
        let globs = self.dirs.include_globs();
        if globs.is_empty() {
            self.working_dir.display().to_string()
        } else {
            globs.join(",")
        }
    }

    /// The problems of a scan made for this request, for the reporter: unreadable files, and an
    /// environment whose globs matched nothing.
    pub fn problems(&self, report: &ScanReport) -> Vec<Warning> {
        let mut out: Vec<Warning> = report
            .errors
            .iter()
            .map(|e| Warning::at(&e.file, e.line, e.column, &e.message))
            .collect();
        if report.files_read == 0 {
            let globs = self.dirs.include_globs();
            out.push(Warning::general(format!(
                "no Terraform or Terragrunt files matched {} in {}",
                if globs.is_empty() {
                    "any folder".to_string()
                } else {
                    format!("--include-dirs {}", globs.join(","))
                },
                self.working_dir.display()
            )));
        }
        out
    }
}

/// A scan that could not start.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The working directory is missing or not a directory.
    #[error("working directory {0} does not exist or is not a directory")]
    MissingDir(PathBuf),
}

/// One module source found in the environment.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    /// Path relative to the working directory, with `/` separators.
    pub file: String,
    /// 1-based line of the `source` attribute.
    pub line: usize,
    /// The construct it was found in.
    pub kind: UsageKind,
    /// The source as written.
    pub source: String,
    /// The dependency ID, when the source could be identified.
    pub dependency: Option<String>,
    /// The version as written (`v0.8.0`, `~> 3.0`).
    pub current: Option<String>,
    /// Why Baton will not update this usage.
    pub skipped: Option<String>,
    /// The file that writes the version, when it is not `file` (a shared file read through an
    /// include or `read_terragrunt_config`), relative to the working directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_file: Option<String>,
    /// The resolved source address.
    #[serde(skip)]
    pub address: Option<Source>,
    /// Where the version is written, when Baton can edit it.
    #[serde(skip)]
    pub site: Option<VersionSite>,
    /// What the scan assumed to find the source or version (`get_env("X", "v1.2.0")` taken as
    /// its default), to be shown wherever the usage is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Usage {
    /// The line to point at for this usage's version.
    pub fn version_line(&self) -> usize {
        self.site.as_ref().map_or(self.line, |s| s.line)
    }

    /// The file to point at for this usage's version: where it is written.
    pub fn version_file(&self) -> &str {
        self.version_file.as_deref().unwrap_or(&self.file)
    }
}

/// A file that could not be read or parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileProblem {
    /// Path relative to the working directory.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// The result of a scan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    /// Usages, sorted by file then line.
    pub usages: Vec<Usage>,
    /// Files that could not be read or parsed, sorted by file.
    pub errors: Vec<FileProblem>,
    /// How many files of the environment were read.
    #[serde(skip)]
    pub files_read: usize,
    /// The text of each file that holds usages, by its name in the report, when the scan was
    /// asked to keep them ([`scan_keeping_texts`]); empty otherwise.
    #[serde(skip)]
    pub texts: FileTexts,
}

/// The texts of files, by their names in a report, shared without copies.
#[derive(Debug, Clone, Default)]
pub struct FileTexts(Arc<rustc_hash::FxHashMap<Box<str>, KeptText>>);

/// A file's text as read, and the top-level items of its text (BOM stripped) as the light lexer
/// found them (see [`hcl::top_level_items`]), so that what reads the file again does not lex
/// it again.
#[derive(Debug)]
struct KeptText {
    text: Box<str>,
    items: Option<Box<[Range<usize>]>>,
}

impl FileTexts {
    /// Texts by file name, each lexed here.
    pub fn new(texts: impl IntoIterator<Item = (Box<str>, Box<str>)>) -> FileTexts {
        let lexed = texts.into_iter().map(|(name, text)| {
            let items = hcl::top_level_items(hcl::strip_bom(&text).0);
            (name, KeptText::new(text, items))
        });
        FileTexts(Arc::new(lexed.collect()))
    }

    /// The text of `file`, when kept.
    pub fn get(&self, file: &str) -> Option<&str> {
        self.0.get(file).map(|t| &*t.text)
    }

    /// The text of `file` and its top-level items (`None`: the lexer cannot follow the text),
    /// when kept.
    pub fn get_lexed(&self, file: &str) -> Option<(&str, Option<&[Range<usize>]>)> {
        self.0.get(file).map(|t| (&*t.text, t.items.as_deref()))
    }
}

impl KeptText {
    fn new(text: Box<str>, items: Option<Vec<Range<usize>>>) -> KeptText {
        let items = items.map(Vec::into_boxed_slice);
        KeptText { text, items }
    }
}

#[cfg(test)]
impl FileTexts {
    /// The names of the files kept, in name order.
    fn files(&self) -> Vec<&str> {
        let mut files: Vec<&str> = self.0.keys().map(|f| &**f).collect();
        files.sort_unstable();
        files
    }
}

impl ScanReport {
    /// Usages grouped by dependency ID, in ID order; usages without an ID are left out.
    pub fn by_dependency(&self) -> Vec<(&str, Vec<&Usage>)> {
        let mut map: std::collections::BTreeMap<&str, Vec<&Usage>> = Default::default();
        for u in &self.usages {
            if let Some(id) = u.dependency.as_deref() {
                map.entry(id).or_default().push(u);
            }
        }
        map.into_iter().collect()
    }
}

/// Scans the environment.
pub fn scan(request: &ScanRequest) -> Result<ScanReport, ScanError> {
    scan_with(request, false)
}

/// Scans the environment, and keeps the text of each file that holds usages
/// ([`ScanReport::texts`]), for what reads the usages again: the breaking-change impact then
/// reads each of them from memory, as the scan saw it, instead of from disk once more.
pub fn scan_keeping_texts(request: &ScanRequest) -> Result<ScanReport, ScanError> {
    scan_with(request, true)
}

fn scan_with(request: &ScanRequest, keep_texts: bool) -> Result<ScanReport, ScanError> {
    // Absolute paths, so that includes can look above the working directory as Terragrunt does.
    let root = &std::fs::canonicalize(&request.working_dir)
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| ScanError::MissingDir(request.working_dir.clone()))?;
    let files = DiskFiles::within(&repository_root(root));
    let (tx, rx) = mpsc::channel::<FileResult>();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(false)
        .ignore(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(false)
        .require_git(true)
        .parents(true)
        .follow_links(false)
        .filter_entry(|e| {
            !(e.file_type().is_some_and(|t| t.is_dir())
                && e.file_name()
                    .to_str()
                    .is_some_and(|n| SKIPPED_DIRS.contains(&n)))
        })
        .build_parallel();
    walker.run(|| {
        let tx = tx.clone();
        let files = &files;
        let dirs = &request.dirs;
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                return ignore::WalkState::Continue;
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return ignore::WalkState::Continue;
            }
            let path = entry.path();
            let rel = path.strip_prefix(root).unwrap_or(path);
            if rel.to_str().is_none() {
                if let Some(problem) = non_utf8_name(path, rel, dirs) {
                    let _ = tx.send(problem);
                }
                return ignore::WalkState::Continue;
            }
            let Some(kind) = FileKind::of(path) else {
                return ignore::WalkState::Continue;
            };
            if !dirs.matches(rel) {
                return ignore::WalkState::Continue;
            }
            let result = scan_file((root, path), &relative_name(rel), kind, files, keep_texts);
            let _ = tx.send(result);
            ignore::WalkState::Continue
        })
    });
    drop(tx);
    Ok(collect(rx))
}

/// The report from the results of every file read: files in name order, each file's usages in
/// the order they are written (by line). Only the results that hold something are sorted, and
/// the usages are moved once, into a list of their exact size.
fn collect(results: mpsc::Receiver<FileResult>) -> ScanReport {
    let mut files_read = 0;
    let mut kept: Vec<FileResult> = Vec::new();
    for result in results {
        files_read += 1;
        if !result.usages.is_empty() || result.error.is_some() {
            kept.push(result);
        }
    }
    // Each file gives one result: an unstable sort orders them as a stable one would.
    rayon::slice::ParallelSliceMut::par_sort_unstable_by(&mut kept[..], |a, b| {
        a.file().cmp(b.file())
    });
    let mut report = ScanReport {
        usages: Vec::with_capacity(kept.iter().map(|r| r.usages.len()).sum()),
        errors: Vec::new(),
        files_read,
        texts: FileTexts::default(),
    };
    let mut texts = Vec::new();
    for result in kept {
        if let (Some(text), Some(u)) = (result.text, result.usages.first()) {
            texts.push((Box::from(u.file.as_str()), text));
        }
        report.usages.extend(result.usages);
        report.errors.extend(result.error);
    }
    report.texts = FileTexts(Arc::new(texts.into_iter().collect()));
    report
}

/// A file of the environment whose path is not UTF-8, reported rather than read: its name
/// cannot be written in a report or a spec as it is, and the name written instead (with U+FFFD)
/// could lead an edit to another file.
fn non_utf8_name(path: &Path, rel: &Path, dirs: &DirFilter) -> Option<FileResult> {
    let name = path.file_name()?.to_string_lossy();
    FileKind::of(Path::new(&*name))?;
    dirs.matches(rel).then(|| {
        problem(
            &relative_name(rel),
            None,
            None,
            "the path is not UTF-8; not scanned and never edited (rename it)".into(),
        )
    })
}

/// A relative path with `/` separators, as used in reports and specs.
pub fn relative_name(rel: &Path) -> String {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// What one file gave: its usages in the order they are written, or the problem that stopped
/// its reading.
struct FileResult {
    usages: Vec<Usage>,
    error: Option<FileProblem>,
    /// The file's text and its items, when asked for and the file holds usages.
    text: Option<KeptText>,
}

impl FileResult {
    /// The file it is about (`""` when it holds nothing).
    fn file(&self) -> &str {
        match (self.usages.first(), &self.error) {
            (Some(u), _) => &u.file,
            (None, Some(e)) => &e.file,
            (None, None) => "",
        }
    }
}

fn problem(file: &str, line: Option<usize>, column: Option<usize>, message: String) -> FileResult {
    FileResult {
        usages: Vec::new(),
        error: Some(FileProblem {
            file: file.to_string(),
            line,
            column,
            message,
        }),
        text: None,
    }
}

fn scan_file(
    (root, path): (&Path, &Path),
    rel: &str,
    kind: FileKind,
    files: &dyn Files,
    keep_text: bool,
) -> FileResult {
    // Read no more than the limit. No size check beforehand: the bounded read is the check, and
    // saves a system call per file. The buffer fits a typical unit in one read.
    let mut bytes = Vec::with_capacity(16 * 1024);
    let read = std::fs::File::open(path).and_then(|f| {
        use std::io::Read as _;
        f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)
    });
    if let Err(e) = read {
        return problem(rel, None, None, format!("cannot read: {e}"));
    }
    scan_bytes((root, path), rel, kind, bytes, files, keep_text)
}

/// Scans one file held in memory (`path` under the root `root`, `rel` as reports name it): its
/// usages, or the problem that kept it from being read.
pub(crate) fn scan_text(
    root: &Path,
    path: &Path,
    rel: &str,
    kind: FileKind,
    text: &str,
    files: &dyn Files,
) -> (Vec<Usage>, Option<FileProblem>) {
    let bytes = text.as_bytes().to_vec();
    let result = scan_bytes((root, path), rel, kind, bytes, files, false);
    (result.usages, result.error)
}

/// Scans the bytes of one file (read from disk, or held in memory) at `path`.
fn scan_bytes(
    (root, path): (&Path, &Path),
    rel: &str,
    kind: FileKind,
    bytes: Vec<u8>,
    files: &dyn Files,
    keep_text: bool,
) -> FileResult {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return problem(
            rel,
            None,
            None,
            format!("file is larger than the {MAX_FILE_BYTES} bytes Baton reads; not scanned"),
        );
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            return problem(
                rel,
                Some(line),
                None,
                format!("not UTF-8 text (invalid byte at offset {at}); not scanned"),
            );
        }
    };
    if text.contains('\0') {
        return problem(
            rel,
            None,
            None,
            "binary file (contains NUL bytes); not scanned".into(),
        );
    }
    // One bad file must never take the run down, even through a bug in a dependency.
    let found = catch_unwind(AssertUnwindSafe(|| {
        hcl::find_keeping_items(path, kind, &text, files)
    }));
    match found {
        Ok((Ok(found), items)) => FileResult {
            // Kept at its size (the buffer it was read into is larger).
            text: (keep_text && !found.is_empty())
                .then(|| KeptText::new(Box::from(text.as_str()), items)),
            usages: found
                .into_iter()
                .map(|f| usage_from(root, rel, f))
                .collect(),
            error: None,
        },
        Ok((Err(e), _)) if e.kind == hcl::ProblemKind::TooLarge => {
            problem(rel, Some(e.line), None, e.message)
        }
        Ok((Err(e), _)) => problem(
            rel,
            Some(e.line),
            Some(e.column),
            format!("cannot parse HCL: {}", e.message),
        ),
        Err(_) => problem(
            rel,
            None,
            None,
            "internal error while parsing; not scanned".into(),
        ),
    }
}

fn usage_from(root: &Path, rel: &str, mut f: hcl::Found) -> Usage {
    let (dependency, address) = match &f.resolved {
        Ok(src) => (src.dependency_id(), Some(src.clone())),
        Err(_) => (None, None),
    };
    // A version written in another file is edited there, when it lies inside the working
    // directory (paths in specs and edits never leave it).
    let mut version_file = None;
    if let Some(other) = f.site.as_ref().and_then(|s| s.file.clone()) {
        match other.strip_prefix(root) {
            Ok(inside) => version_file = Some(relative_name(inside)),
            Err(_) => {
                f.site = None;
                f.not_editable = Some(format!(
                    "the version is written in {}, outside the working directory; run Baton from a folder that contains both files",
                    other.display()
                ));
            }
        }
    }
    let skipped = skip_reason(&f);
    Usage {
        file: rel.to_string(),
        line: f.line,
        kind: f.kind,
        source: f.raw_source,
        dependency,
        current: f.current,
        skipped,
        version_file,
        address,
        site: f.site,
        notes: f.notes,
    }
}

/// Why a usage cannot be managed, or `None` when it can.
fn skip_reason(f: &hcl::Found) -> Option<String> {
    let src = match &f.resolved {
        Ok(src) => src,
        Err(e) => return Some(format!("unresolvable interpolation: {e}")),
    };
    match src {
        Source::Local(_) => return Some("local path".into()),
        Source::Unsupported { scheme } => {
            return Some(format!("unsupported source type ({scheme})"));
        }
        Source::Invalid(why) => return Some(why.clone()),
        Source::Git(_) | Source::Registry(_) => {}
    }
    if let Some(why) = &f.version_unknown {
        return Some(format!("version not known when scanning: {why}"));
    }
    let Some(current) = f.current.as_deref() else {
        return Some(match src {
            Source::Registry(_) => "no version constraint (any version may be used)".into(),
            _ => "unpinned: no ?ref= (follows the default branch)".into(),
        });
    };
    match src {
        Source::Registry(r) if r.query_version.is_none() => {
            if let Err(e) = version::Constraint::parse(current) {
                return Some(e.to_string());
            }
        }
        _ => {
            if let Some(reason) = ref_problem(current) {
                return Some(reason);
            }
        }
    }
    f.not_editable.clone()
}

/// Why a git ref (or tfr `version=`) is not a version Baton can move.
pub fn ref_problem(reference: &str) -> Option<String> {
    if reference.is_empty() {
        return Some("empty ref".into());
    }
    if version::split_tag(reference).is_some() || version::parse_version(reference).is_some() {
        return None;
    }
    let is_hex = reference.bytes().all(|b| b.is_ascii_hexdigit());
    if is_hex && (7..=40).contains(&reference.len()) {
        Some(format!("pinned to commit {reference}, not a version"))
    } else {
        Some(format!(
            "ref {reference:?} is a branch or tag that is not a version"
        ))
    }
}

/// A loaded include, or why it could not be loaded.
type Loaded = Result<Arc<LoadedFile>, String>;

/// Reads and parses other files (includes) once per run, from any thread: the first thread to
/// ask loads the file while later ones wait for the same slot. Only files inside the repository
/// being scanned are read (see [`repository_root`]).
pub struct DiskFiles {
    /// The repository being scanned, by its canonical path.
    boundary: PathBuf,
    cache: Mutex<HashMap<PathBuf, Arc<OnceLock<Loaded>>>>,
    /// Whether a path is a file or folder, by path: every unit of a tree asks for the same few
    /// (`find_in_parent_folders` walks up from each unit).
    existing: Mutex<HashMap<PathBuf, bool>>,
}

impl DiskFiles {
    /// Files of the repository whose root is `boundary` (see [`repository_root`]).
    pub fn within(boundary: &Path) -> DiskFiles {
        DiskFiles {
            boundary: std::fs::canonicalize(boundary).unwrap_or_else(|_| boundary.to_path_buf()),
            cache: Mutex::default(),
            existing: Mutex::default(),
        }
    }
}

/// The repository a working directory belongs to: the nearest folder at or above it that holds
/// `.git` (a folder, or a file in a worktree), else the working directory itself.
pub fn repository_root(working_dir: &Path) -> PathBuf {
    let dir = std::fs::canonicalize(working_dir).unwrap_or_else(|_| working_dir.to_path_buf());
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(&dir)
        .to_path_buf()
}

impl Files for DiskFiles {
    fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String> {
        let key = hcl::normalize(path);
        let slot = match self.cache.lock() {
            Ok(mut cache) => cache.entry(key.clone()).or_default().clone(),
            Err(_) => Arc::default(),
        };
        // Checked once per path, with the load: the answer of both is kept for the run.
        slot.get_or_init(|| {
            self.may_read(&key)?;
            load_file(&key)
        })
        .clone()
    }

    fn exists(&self, path: &Path) -> bool {
        let key = hcl::normalize(path);
        if !key.starts_with(&self.boundary) {
            return false;
        }
        let cached = self.existing.lock().ok().and_then(|e| e.get(&key).copied());
        if let Some(known) = cached {
            return known;
        }
        let found = std::fs::metadata(path).is_ok_and(|m| m.is_file() || m.is_dir());
        if let Ok(mut existing) = self.existing.lock() {
            existing.insert(key, found);
        }
        found
    }

    /// Only files inside the repository are read: a path outside it, or a symlink leading out
    /// of it, is refused before anything is opened.
    fn may_read(&self, path: &Path) -> Result<(), String> {
        let path = hcl::normalize(path);
        if !path.starts_with(&self.boundary) {
            return Err(format!(
                "{} is outside the repository ({}); Baton reads only files inside it",
                path.display(),
                self.boundary.display()
            ));
        }
        match std::fs::canonicalize(&path) {
            Ok(real) if !real.starts_with(&self.boundary) => Err(format!(
                "{} leads outside the repository ({}) through a symlink; Baton reads only files inside it",
                self.show(&path),
                self.boundary.display()
            )),
            _ => Ok(()),
        }
    }

    fn show(&self, path: &Path) -> String {
        match path.strip_prefix(&self.boundary) {
            Ok(rel) if !rel.as_os_str().is_empty() => relative_name(rel),
            _ => path.display().to_string(),
        }
    }
}

fn load_file(path: &Path) -> Result<Arc<LoadedFile>, String> {
    let text = read_bounded(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let loaded = hcl::load_text(path, &text).map_err(|e| {
        format!(
            "cannot parse {} at {}:{}: {}",
            path.display(),
            e.line,
            e.column,
            e.message
        )
    })?;
    Ok(Arc::new(loaded))
}

/// Reads a regular file of at most [`MAX_FILE_BYTES`] as UTF-8. An include or
/// `read_terragrunt_config` path may name anything (`/dev/zero`, a FIFO): only regular files are
/// opened, and no more than the limit is ever read.
fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read as _};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    let too_large = || {
        Error::new(
            ErrorKind::InvalidData,
            format!("larger than the {MAX_FILE_BYTES} bytes Baton reads"),
        )
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Scan results built by hand, for the unit tests of the stages after the scan.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{ScanReport, Usage};
    use crate::find::hcl::UsageKind;
    use crate::find::source::Source;

    /// A Terragrunt usage of `source` at line 1 of `file`, its version written as `current`.
    pub(crate) fn usage(file: &str, source: &str, current: &str) -> Usage {
        let address = Source::parse(source);
        Usage {
            file: file.into(),
            line: 1,
            kind: UsageKind::Terragrunt,
            source: source.into(),
            dependency: address.dependency_id(),
            current: Some(current.into()),
            skipped: None,
            version_file: None,
            address: Some(address),
            site: None,
            notes: Vec::new(),
        }
    }

    /// A scan that found these usages and no errors.
    pub(crate) fn report(usages: Vec<Usage>) -> ScanReport {
        ScanReport {
            usages,
            errors: vec![],
            files_read: 1,
            texts: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_problems() {
        assert_eq!(ref_problem("v1.2.3"), None);
        assert_eq!(ref_problem("1.2"), None);
        assert_eq!(ref_problem("vpc-v1.2.0"), None);
        assert!(ref_problem("").unwrap().contains("empty"));
        assert!(ref_problem("main").unwrap().contains("branch"));
        assert!(ref_problem("a1b2c3d").unwrap().contains("commit"));
        assert!(
            ref_problem("0123456789abcdef0123456789abcdef01234567")
                .unwrap()
                .contains("commit")
        );
    }

    #[test]
    fn only_a_scan_asked_to_keeps_texts_and_only_of_files_with_usages() {
        let dir = tempfile::tempdir().unwrap();
        let unit = "\u{feff}terraform {\n  source = \"git::https://github.com/acme/m.git//vpc?ref=v1.0.0\"\n}\n";
        for (rel, text) in [
            ("dev/a/terragrunt.hcl", unit),
            ("dev/b/terragrunt.hcl", "inputs = {}\n"),
            ("dev/c/terragrunt.hcl", "terraform {\n"),
        ] {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let request = ScanRequest {
            working_dir: dir.path().to_path_buf(),
            dirs: DirFilter::default(),
        };
        let kept = scan_keeping_texts(&request).unwrap();
        let names = kept.texts.files();
        assert_eq!(names, ["dev/a/terragrunt.hcl"]);
        // As read, BOM and all.
        assert_eq!(kept.texts.get("dev/a/terragrunt.hcl"), Some(unit));
        assert_eq!(kept.texts.get("dev/b/terragrunt.hcl"), None);
        let plain = scan(&request).unwrap();
        assert!(plain.texts.files().is_empty());
        assert_eq!(plain.usages.len(), 1);
        assert_eq!(plain.errors.len(), 1, "{:?}", plain.errors);
        let json = |r: &ScanReport| serde_json::to_value(r).unwrap();
        assert_eq!(json(&plain), json(&kept));
    }

    #[test]
    fn normalize_paths() {
        assert_eq!(
            hcl::normalize(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
        assert_eq!(hcl::normalize(Path::new("../x")), PathBuf::from("../x"));
    }
}
