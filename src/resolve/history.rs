//! What each environment ran over time, read from the first-parent history of the checked-out
//! branch: git is the record, so there is no state file to commit or lose.
//!
//! `git log` runs once for the files every commit changed; only the changed Terraform and
//! Terragrunt files of an environment are parsed, before and after, with their blobs (and those
//! of their includes, as they were at that commit) read through one `git cat-file --batch`.
//! Parsed files are kept by blob, so a file is parsed again only when it or an include it reads
//! changed. How long an environment has held a version (the soak time) is computed from here.

use crate::clients::git::{CatFile, Git, LogCommit};
use crate::clock::{self, Timestamp};
use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use crate::find::env::DirFilter;
use crate::find::hcl::{self, FileKind, Files, LoadedFile};
use crate::find::scan::{ScanError, ref_problem};
use crate::find::source::Source;
use crate::version::{self, Constraint, Version};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The trailer naming what a Baton commit is: `update`, `promotion` or `rollback`.
pub const TRAILER_KIND: &str = "Baton-Kind";
/// The trailer naming the environment a promotion came from.
pub const TRAILER_FROM: &str = "Baton-Promoted-From";
/// The trailer naming the environment a Baton commit changed.
pub const TRAILER_ENVIRONMENT: &str = "Baton-Environment";
/// The trailer naming the pull request a Baton commit belongs to, when known at commit time.
pub const TRAILER_PULL_REQUEST: &str = "Baton-Pull-Request";

/// How many commits below a merge's second parent are searched for Baton's trailers (the
/// branch's own commits: Baton's, then any a reviewer pushed).
const BRANCH_DEPTH: usize = 50;

/// One environment for the history: its name and folders.
#[derive(Debug, Clone)]
pub struct EnvFolders {
    /// Its name.
    pub name: String,
    /// Its folders, relative to the working directory.
    pub dirs: DirFilter,
}

/// What history to read.
#[derive(Debug, Clone)]
pub struct HistoryQuery {
    /// The working directory (inside a git repository); globs are relative to it.
    pub working_dir: PathBuf,
    /// The environments.
    pub environments: Vec<EnvFolders>,
    /// Only this dependency.
    pub dependency: Option<String>,
    /// Only commits made at or after this time (older commits are still replayed, not parsed).
    pub since: Option<Timestamp>,
}

/// What made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeKind {
    /// A Baton update (newer releases).
    Update,
    /// A Baton promotion of what landed in the environment before.
    Promotion,
    /// A Baton rollback to an explicitly requested version.
    Rollback,
    /// A change without Baton's trailers: made by hand.
    Edit,
}

impl ChangeKind {
    /// The name used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Update => "update",
            ChangeKind::Promotion => "promotion",
            ChangeKind::Rollback => "rollback",
            ChangeKind::Edit => "edit",
        }
    }
}

/// One commit that changed the versions of one dependency in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The environment.
    pub environment: String,
    /// The dependency ID.
    pub dependency: String,
    /// The versions the changed usages had, as written, lowest first (empty: new usages).
    pub from: Vec<String>,
    /// The versions they have after, as written, lowest first.
    pub to: Vec<String>,
    /// The commit time.
    #[serde(serialize_with = "serialize_time")]
    pub time: Timestamp,
    /// The commit on the first-parent line (the merge commit, for merged pull requests).
    pub commit: String,
    /// The pull request, from the merge or squash subject or Baton's trailer.
    pub pull_request: Option<u64>,
    /// The commit's author: the user who merged, for merge commits GitHub makes; the pull
    /// request's author for squash and rebase merges.
    pub merged_by: String,
    /// What made the change.
    pub kind: ChangeKind,
    /// For a promotion, the environment it came from.
    pub promoted_from: Option<String>,
    /// The commit subject.
    pub subject: String,
}

fn serialize_time<S: serde::Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&clock::rfc3339(*t))
}

/// The history read.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Changes, newest first (ties in commit order).
    pub changes: Vec<Change>,
    /// Commits on the first-parent line.
    pub commits: usize,
    /// Whether the repository is a shallow clone: changes before its first commit are missing,
    /// and files present there count as added then.
    pub shallow: bool,
    /// The time of the oldest commit read.
    pub oldest: Option<Timestamp>,
}

impl History {
    /// The changes of one dependency in one environment, newest first.
    pub fn of<'a>(
        &'a self,
        env: &str,
        dependency: &str,
    ) -> impl Iterator<Item = &'a Change> + use<'a> {
        let (env, dependency) = (env.to_string(), dependency.to_string());
        self.changes
            .iter()
            .filter(move |c| c.environment == env && c.dependency == dependency)
    }

    /// When the environment's current versions of a dependency were written: the newest change.
    pub fn last_change(&self, env: &str, dependency: &str) -> Option<&Change> {
        self.of(env, dependency).next()
    }

    /// Since when every usage of the dependency in the environment has been at `version` or
    /// newer: the newest change that moved a usage up from below it (or added one). `None` when
    /// the history holds no such change.
    pub fn held_since(&self, env: &str, dependency: &str, version: &Version) -> Option<&Change> {
        self.of(env, dependency).find(|c| {
            c.from.is_empty()
                || c.from
                    .iter()
                    .any(|f| exact(f).is_none_or(|v| precedence_lt(&v, version)))
        })
    }

    /// The change that brought the environment's current version of a dependency: the newest
    /// change whose result includes `version`.
    pub fn brought(&self, env: &str, dependency: &str, version: &Version) -> Option<&Change> {
        self.of(env, dependency).find(|c| {
            c.to.iter().any(|t| {
                exact(t).is_some_and(|v| !precedence_lt(&v, version) && !precedence_lt(version, &v))
            })
        })
    }
}

fn precedence_lt(a: &Version, b: &Version) -> bool {
    (a.major, a.minor, a.patch, &a.pre) < (b.major, b.minor, b.patch, &b.pre)
}

/// The exact version a version text names (a ref or tag, or an exact registry pin).
fn exact(text: &str) -> Option<Version> {
    version::split_tag(text)
        .map(|(_, v)| v)
        .or_else(|| Constraint::parse(text).ok().and_then(|c| c.exact()))
}

/// Whether two version texts name the same version (`v1.2.0` and `1.2.0` do).
fn same(a: &str, b: &str) -> bool {
    match (exact(a), exact(b)) {
        (Some(x), Some(y)) => !precedence_lt(&x, &y) && !precedence_lt(&y, &x),
        _ => a == b,
    }
}

fn sort_versions(texts: &mut Vec<String>) {
    texts.sort_by(|a, b| match (exact(a), exact(b)) {
        (Some(x), Some(y)) => {
            (x.major, x.minor, x.patch, &x.pre, a).cmp(&(y.major, y.minor, y.patch, &y.pre, b))
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.cmp(b),
    });
    texts.dedup();
}

/// Baton's trailers in a commit message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trailers {
    /// `Baton-Kind`.
    pub kind: Option<ChangeKind>,
    /// `Baton-Promoted-From`.
    pub promoted_from: Option<String>,
    /// `Baton-Pull-Request`.
    pub pull_request: Option<u64>,
}

/// Reads Baton's trailers from a message (anywhere in it: a squash merge lists the branch's
/// messages in its body).
pub fn trailers(message: &str) -> Trailers {
    let mut out = Trailers::default();
    for line in message.lines() {
        let Some((key, value)) = line.trim().split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            TRAILER_KIND => {
                out.kind = match value {
                    "update" => Some(ChangeKind::Update),
                    "promotion" => Some(ChangeKind::Promotion),
                    "rollback" => Some(ChangeKind::Rollback),
                    _ => out.kind,
                }
            }
            TRAILER_FROM if !value.is_empty() => out.promoted_from = Some(value.to_string()),
            TRAILER_PULL_REQUEST => {
                out.pull_request = value
                    .trim_start_matches('#')
                    .parse()
                    .ok()
                    .or(out.pull_request)
            }
            _ => {}
        }
    }
    out
}

/// The pull request number in a merge subject (`Merge pull request #12 from …`) or a squash
/// subject (`Title (#12)`).
pub fn pull_request_of(subject: &str) -> Option<u64> {
    let digits = |s: &str| -> Option<u64> {
        let n: String = s.chars().take_while(char::is_ascii_digit).collect();
        n.parse().ok()
    };
    if let Some(rest) = subject.strip_prefix("Merge pull request #") {
        return digits(rest);
    }
    let inner = subject.trim_end().strip_suffix(')')?;
    let at = inner.rfind("(#")?;
    let n = &inner[at + 2..];
    (!n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        .then(|| n.parse().ok())
        .flatten()
}

/// Reads the history; changes of files that cannot be read or parsed are reported and left
/// out.
pub fn read(query: &HistoryQuery, reporter: &dyn Reporter) -> anyhow::Result<History> {
    let root = std::fs::canonicalize(&query.working_dir)
        .ok()
        .filter(|p| p.is_dir())
        .ok_or_else(|| ScanError::MissingDir(query.working_dir.clone()))?;
    let git = Git::new(&root);
    let toplevel = git.toplevel().map_err(|e| {
        InvalidInput(format!(
            "the history is read from git, but {} is not inside a git repository ({e})",
            query.working_dir.display()
        ))
    })?;
    let toplevel = std::fs::canonicalize(&toplevel).unwrap_or(toplevel);
    if git.head_sha().is_err() {
        // A repository without commits has no history.
        return Ok(History::default());
    }
    let prefix = git.show_prefix()?;
    let shallow = git.is_shallow()?;
    let mut commits = git.first_parent_log("HEAD")?;
    commits.reverse();
    let mainline: HashSet<String> = commits.iter().map(|c| c.sha.clone()).collect();
    let mut reader = Reader {
        cat: Mutex::new(git.cat_file()?),
        toplevel,
        parsed: HashMap::new(),
        loaded: Mutex::new(HashMap::new()),
        reported: HashSet::new(),
    };
    let mut tree: BTreeMap<String, String> = BTreeMap::new();
    let mut history = History {
        commits: commits.len(),
        shallow,
        oldest: commits.first().map(|c| clock::from_unix(c.time)),
        ..History::default()
    };
    for commit in &commits {
        let time = clock::from_unix(commit.time);
        let wanted = query.since.is_none_or(|s| time >= s);
        // Files of an environment this commit changed, with the environments they belong to.
        let relevant: Vec<(&crate::clients::git::RawChange, String, Vec<&str>)> = if wanted {
            commit
                .changes
                .iter()
                .filter_map(|ch| {
                    let rel = ch.path.strip_prefix(prefix.as_str())?;
                    FileKind::of(Path::new(rel))?;
                    let envs: Vec<&str> = query
                        .environments
                        .iter()
                        .filter(|e| e.dirs.matches(Path::new(rel)))
                        .map(|e| e.name.as_str())
                        .collect();
                    (!envs.is_empty()).then(|| (ch, rel.to_string(), envs))
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut before: Vec<Vec<(String, String)>> = Vec::with_capacity(relevant.len());
        for (ch, rel, _) in &relevant {
            before.push(match &ch.old {
                Some(oid) => reader.versions(&ch.path, rel, oid, &tree, reporter),
                None => Vec::new(),
            });
        }
        for ch in &commit.changes {
            match &ch.new {
                Some(oid) => tree.insert(ch.path.clone(), oid.clone()),
                None => tree.remove(&ch.path),
            };
        }
        if relevant.is_empty() {
            continue;
        }
        // Per environment and dependency: the versions of the changed usages before and after.
        let mut sides: BTreeMap<(&str, String), Sides> = BTreeMap::new();
        for ((ch, rel, envs), old) in relevant.iter().zip(before) {
            let new = match &ch.new {
                Some(oid) => reader.versions(&ch.path, rel, oid, &tree, reporter),
                None => Vec::new(),
            };
            for env in envs {
                for (dep, v) in &old {
                    sides
                        .entry((env, dep.clone()))
                        .or_default()
                        .0
                        .push(v.clone());
                }
                for (dep, v) in &new {
                    sides
                        .entry((env, dep.clone()))
                        .or_default()
                        .1
                        .push(v.clone());
                }
            }
        }
        let mut meta: Option<(Trailers, Option<u64>)> = None;
        let mut found = Vec::new();
        for ((env, dep), (old, new)) in sides {
            if query.dependency.as_deref().is_some_and(|d| d != dep) {
                continue;
            }
            let (removed, added) = difference(old, new);
            if added.is_empty() {
                continue;
            }
            let (t, pr) = meta
                .get_or_insert_with(|| reader.classify(commit, &mainline))
                .clone();
            found.push(Change {
                environment: env.to_string(),
                dependency: dep,
                from: removed,
                to: added,
                time,
                commit: commit.sha.clone(),
                pull_request: pr,
                merged_by: commit.author.clone(),
                kind: t.kind.unwrap_or(ChangeKind::Edit),
                promoted_from: t
                    .promoted_from
                    .filter(|_| t.kind == Some(ChangeKind::Promotion)),
                subject: commit.message.lines().next().unwrap_or("").to_string(),
            });
        }
        // Newest commit first, each commit's changes in dependency order.
        found.reverse();
        history.changes.extend(found);
    }
    history.changes.reverse();
    Ok(history)
}

/// The versions of the changed usages of one dependency in one environment: before, after.
type Sides = (Vec<String>, Vec<String>);

/// The versions only in `old` and only in `new`, each as a multiset (`v1.2.0` and `1.2.0` are
/// the same version), sorted lowest first without repeats.
fn difference(old: Vec<String>, mut new: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut removed = Vec::new();
    for o in old {
        match new.iter().position(|n| same(n, &o)) {
            Some(i) => {
                new.remove(i);
            }
            None => removed.push(o),
        }
    }
    sort_versions(&mut removed);
    sort_versions(&mut new);
    (removed, new)
}

/// What a parse read besides the file itself, so that a cached result is reused only where
/// those reads give the same answers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Read {
    /// A file (its blob, or absent).
    File(String, Option<String>),
    /// Whether a path exists (file or folder).
    Exists(String, bool),
}

/// One parse of a blob at one path: what it read, and the counted usages found.
struct Parsed {
    reads: Vec<Read>,
    versions: Vec<(String, String)>,
}

struct Reader {
    cat: Mutex<CatFile>,
    toplevel: PathBuf,
    /// (path, blob) → parses, with what each read.
    parsed: HashMap<(String, String), Vec<Parsed>>,
    /// (path, blob) → an include, parsed.
    loaded: Mutex<HashMap<(String, String), Arc<LoadedFile>>>,
    /// Blobs already reported as unreadable.
    reported: HashSet<String>,
}

impl Reader {
    /// The counted usages of the blob `oid` at `path` (from the repository root): dependency and
    /// version as written, in file order.
    fn versions(
        &mut self,
        path: &str,
        rel: &str,
        oid: &str,
        tree: &BTreeMap<String, String>,
        reporter: &dyn Reporter,
    ) -> Vec<(String, String)> {
        let key = (path.to_string(), oid.to_string());
        if let Some(found) = self
            .parsed
            .get(&key)
            .and_then(|ps| ps.iter().find(|p| p.reads.iter().all(|r| still(r, tree))))
        {
            return found.versions.clone();
        }
        let text = match self.blob(oid) {
            Ok(text) => text,
            Err(message) => {
                if self.reported.insert(oid.to_string()) {
                    reporter.warn(Warning::at(
                        rel,
                        None,
                        None,
                        format!("history: blob {oid} left out: {message}"),
                    ));
                }
                return Vec::new();
            }
        };
        let files = TreeFiles {
            reader: self,
            tree,
            reads: Mutex::new(Vec::new()),
        };
        let full = self.toplevel.join(path);
        let Some(kind) = FileKind::of(&full) else {
            return Vec::new();
        };
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            hcl::find(&full, kind, &text, &files)
        }));
        let reads = files.reads.into_inner().unwrap_or_default();
        let versions: Vec<(String, String)> = match found {
            Ok(Ok(found)) => found.iter().filter_map(counted).collect(),
            Ok(Err(e)) => {
                if self.reported.insert(oid.to_string()) {
                    reporter.warn(Warning::at(
                        rel,
                        Some(e.line),
                        Some(e.column),
                        format!(
                            "history: the version of blob {} cannot be parsed ({}); its usages are left out",
                            &oid[..oid.len().min(12)],
                            e.message
                        ),
                    ));
                }
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        self.parsed.entry(key).or_default().push(Parsed {
            reads,
            versions: versions.clone(),
        });
        versions
    }

    fn blob(&self, oid: &str) -> Result<String, String> {
        let object = self
            .cat
            .lock()
            .map_err(|_| "the object reader failed".to_string())?
            .read(oid)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "not in the repository".to_string())?;
        if object.data.len() as u64 > crate::find::scan::MAX_FILE_BYTES {
            return Err("larger than the size Baton reads".into());
        }
        String::from_utf8(object.data).map_err(|_| "not UTF-8 text".to_string())
    }

    /// Baton's trailers and the pull request of a first-parent commit.
    fn classify(&self, commit: &LogCommit, mainline: &HashSet<String>) -> (Trailers, Option<u64>) {
        let mut t = trailers(&commit.message);
        if t.kind.is_none() && commit.parents.len() > 1 {
            // A merge commit: Baton's commit is on the branch, below what reviewers pushed.
            let mut next = commit.parents.get(1).cloned();
            for _ in 0..BRANCH_DEPTH {
                let Some(sha) = next.take().filter(|s| !mainline.contains(s)) else {
                    break;
                };
                let Ok(Some(object)) = self
                    .cat
                    .lock()
                    .map_err(|_| ())
                    .and_then(|mut c| c.read(&sha).map_err(|_| ()))
                else {
                    break;
                };
                let text = String::from_utf8_lossy(&object.data);
                let (headers, message) = text.split_once("\n\n").unwrap_or((&text, ""));
                let found = trailers(message);
                if found.kind.is_some() {
                    t = Trailers {
                        pull_request: t.pull_request.or(found.pull_request),
                        ..found
                    };
                    break;
                }
                next = headers
                    .lines()
                    .find_map(|l| l.strip_prefix("parent "))
                    .map(str::to_string);
            }
        }
        let subject = commit.message.lines().next().unwrap_or("");
        let pr = pull_request_of(subject).or(t.pull_request);
        (t, pr)
    }
}

fn still(read: &Read, tree: &BTreeMap<String, String>) -> bool {
    match read {
        Read::File(path, oid) => tree.get(path) == oid.as_ref(),
        Read::Exists(path, exists) => exists_in(tree, path) == *exists,
    }
}

fn exists_in(tree: &BTreeMap<String, String>, path: &str) -> bool {
    if path == ".git" {
        return true;
    }
    if tree.contains_key(path) {
        return true;
    }
    let dir = format!("{path}/");
    tree.range(dir.clone()..)
        .next()
        .is_some_and(|(k, _)| k.starts_with(&dir))
}

/// The dependency and version of a usage whose version counts (as in `status`): identified,
/// with a version that is a version (not a branch or commit).
fn counted(found: &hcl::Found) -> Option<(String, String)> {
    let source = found.resolved.as_ref().ok()?;
    let id = source.dependency_id()?;
    let current = found.current.clone()?;
    let readable = match source {
        Source::Registry(r) if r.query_version.is_none() => Constraint::parse(&current).is_ok(),
        _ => ref_problem(&current).is_none(),
    };
    readable.then_some((id, current))
}

/// The files of one commit's tree, for includes: read from the repository as they were then.
struct TreeFiles<'a> {
    reader: &'a Reader,
    tree: &'a BTreeMap<String, String>,
    reads: Mutex<Vec<Read>>,
}

impl TreeFiles<'_> {
    fn relative(&self, path: &Path) -> Option<String> {
        let rel = path.strip_prefix(&self.reader.toplevel).ok()?;
        let mut parts: Vec<String> = Vec::new();
        for c in rel.components() {
            match c {
                Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
                Component::ParentDir => {
                    parts.pop()?;
                }
                Component::CurDir => {}
                _ => return None,
            }
        }
        Some(parts.join("/"))
    }

    fn record(&self, read: Read) {
        if let Ok(mut reads) = self.reads.lock() {
            reads.push(read);
        }
    }
}

impl Files for TreeFiles<'_> {
    fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String> {
        let rel = self
            .relative(path)
            .ok_or_else(|| format!("{} is outside the repository", path.display()))?;
        let oid = self.tree.get(&rel).cloned();
        self.record(Read::File(rel.clone(), oid.clone()));
        let oid =
            oid.ok_or_else(|| format!("cannot read {}: not in the commit", path.display()))?;
        let key = (rel, oid.clone());
        if let Some(hit) = self
            .reader
            .loaded
            .lock()
            .ok()
            .and_then(|l| l.get(&key).cloned())
        {
            return Ok(hit);
        }
        let text = self
            .reader
            .blob(&oid)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let (stripped, _) = hcl::strip_bom(&text);
        let body = hcl::parse_items(stripped, hcl::Keep::References).map_err(|e| {
            format!(
                "cannot parse {} at {}:{}: {}",
                path.display(),
                e.line,
                e.column,
                e.message
            )
        })?;
        let loaded = Arc::new(LoadedFile {
            path: self.reader.toplevel.join(&key.0),
            text: stripped.to_string(),
            body,
        });
        if let Ok(mut l) = self.reader.loaded.lock() {
            l.insert(key, loaded.clone());
        }
        Ok(loaded)
    }

    fn exists(&self, path: &Path) -> bool {
        let Some(rel) = self.relative(path) else {
            return false;
        };
        let exists = exists_in(self.tree, &rel);
        self.record(Read::Exists(rel, exists));
        exists
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_request_numbers_from_merge_and_squash_subjects() {
        assert_eq!(
            pull_request_of("Merge pull request #12 from acme/baton-dev-updates-x"),
            Some(12)
        );
        assert_eq!(pull_request_of("Update acme/vpc to 1.2.0 (#34)"), Some(34));
        assert_eq!(pull_request_of("Fix (#34) typo"), None);
        assert_eq!(pull_request_of("Update (#x)"), None);
        assert_eq!(pull_request_of("Update vpc"), None);
    }

    #[test]
    fn trailers_are_read_anywhere_in_the_message() {
        let t = trailers(
            "Promote acme/vpc to 1.2.0 (#7)\n\n* Promote acme/vpc\n\nBaton-Kind: promotion\nBaton-Promoted-From: dev\nBaton-Pull-Request: #7\n",
        );
        assert_eq!(t.kind, Some(ChangeKind::Promotion));
        assert_eq!(t.promoted_from.as_deref(), Some("dev"));
        assert_eq!(t.pull_request, Some(7));
        assert_eq!(
            trailers("Bump things\n\nBaton-Kind: nonsense"),
            Trailers::default()
        );
    }

    #[test]
    fn differences_are_multisets_of_versions() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            difference(s(&["v1.0.0", "v1.1.0"]), s(&["v1.2.0", "v1.1.0"])),
            (s(&["v1.0.0"]), s(&["v1.2.0"]))
        );
        // Moving a file, or writing the same version differently, changes nothing.
        assert_eq!(difference(s(&["v1.0.0"]), s(&["1.0.0"])), (vec![], vec![]));
        // Two usages from two versions to one.
        assert_eq!(
            difference(s(&["v1.1.0", "v1.0.0"]), s(&["v1.2.0", "v1.2.0"])),
            (s(&["v1.0.0", "v1.1.0"]), s(&["v1.2.0"]))
        );
    }

    fn change(from: &[&str], to: &[&str], secs: i64) -> Change {
        Change {
            environment: "dev".into(),
            dependency: "a/b".into(),
            from: from.iter().map(|s| s.to_string()).collect(),
            to: to.iter().map(|s| s.to_string()).collect(),
            time: clock::from_unix(secs),
            commit: format!("{secs}"),
            pull_request: None,
            merged_by: "x".into(),
            kind: ChangeKind::Edit,
            promoted_from: None,
            subject: String::new(),
        }
    }

    #[test]
    fn held_since_is_the_newest_change_that_reached_the_version() {
        let h = History {
            // Newest first: a later bump above 1.2.0 does not reset the soak of 1.2.0.
            changes: vec![
                change(&["v1.2.0"], &["v1.3.0"], 400),
                change(&["v1.1.0"], &["v1.2.0"], 300),
                change(&["v1.0.0"], &["v1.1.0"], 200),
                change(&[], &["v1.0.0"], 100),
            ],
            ..History::default()
        };
        let v = |s: &str| version::parse_version(s).unwrap();
        assert_eq!(
            h.held_since("dev", "a/b", &v("1.2.0")).unwrap().commit,
            "300"
        );
        assert_eq!(
            h.held_since("dev", "a/b", &v("1.3.0")).unwrap().commit,
            "400"
        );
        assert_eq!(
            h.held_since("dev", "a/b", &v("1.0.0")).unwrap().commit,
            "100"
        );
        assert_eq!(h.brought("dev", "a/b", &v("1.1.0")).unwrap().commit, "200");
        assert!(h.held_since("stage", "a/b", &v("1.0.0")).is_none());
        assert_eq!(h.last_change("dev", "a/b").unwrap().commit, "400");
    }
}
