//! What each environment ran over time, read from the first-parent history of the checked-out
//! branch: git is the record, so there is no state file to commit or lose.
//!
//! `git log` runs once for the files every commit changed; only the changed Terraform and
//! Terragrunt files of an environment are parsed, before and after, with their blobs (and those
//! of their includes, as they were at that commit) read through one `git cat-file --batch`.
//! Parsed files are kept by blob, so a file is parsed again only when it or an include it reads
//! changed. How long an environment has held a version (the soak time) is computed from here.

use crate::clients::git::{CatFile, CatFileStream, Git, LogCommit};
use crate::clock::{self, Timestamp};
use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use crate::find::env::DirFilter;
use crate::find::hcl::{self, FileKind, Files, LoadedFile};
use crate::find::scan::{ScanError, ref_problem};
use crate::find::source::Source;
use crate::version::{self, Constraint, Version};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
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
    /// Keep what was read in this folder, and read only the commits made since the last run
    /// (see [`crate::resolve::history_index`]); `None`: read the whole history every time.
    pub cache_dir: Option<PathBuf>,
}

/// What made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    #[serde(
        serialize_with = "serialize_time",
        deserialize_with = "deserialize_time"
    )]
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

fn deserialize_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(d)?;
    text.parse::<Timestamp>().map_err(serde::de::Error::custom)
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

fn sort_versions(texts: &mut Vec<String>) {
    texts.sort_unstable();
    texts.dedup();
    texts.sort_by_cached_key(|t| match exact(t) {
        Some(v) => (0, v.major, v.minor, v.patch, v.pre.to_string(), t.clone()),
        None => (1, 0, 0, 0, String::new(), t.clone()),
    });
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

/// Baton's trailers of the commit `sha` and, for a merge commit, of the commits it merged (the
/// pull request's: Baton's, then any a reviewer pushed).
pub fn commit_trailers(git: &Git, sha: &str) -> Result<Trailers, crate::clients::git::GitError> {
    let line = git.run(&["rev-list", "--parents", "-n", "1", "--end-of-options", sha])?;
    let ids: Vec<&str> = line.split_whitespace().collect();
    let text = match ids.as_slice() {
        [commit, first, _, ..] => git.run(&[
            "log",
            "--format=%B",
            "--end-of-options",
            &format!("{first}..{commit}"),
        ])?,
        _ => git.run(&["log", "-1", "--format=%B", "--end-of-options", sha])?,
    };
    Ok(trailers(&text))
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
/// out. With a cache folder (and a repository that is not a shallow clone), what an earlier
/// run kept there is reused and only the commits made since are read.
pub fn read(query: &HistoryQuery, reporter: &dyn Reporter) -> anyhow::Result<History> {
    let Some(repo) = open(query)? else {
        // A repository without commits has no history.
        return Ok(History::default());
    };
    match query.cache_dir.as_deref() {
        Some(dir) if !repo.shallow => {
            let all = read_kept(query, &repo, dir, reporter)?;
            Ok(filtered(all, query))
        }
        cache => {
            if cache.is_some() {
                log::debug!("a shallow clone: its history is not kept between runs");
            }
            let mut commits = repo.git.first_parent_log("HEAD")?;
            commits.reverse();
            let mainline: HashSet<String> = commits.iter().map(|c| c.sha.clone()).collect();
            let plan = plan(query, &commits, &repo.prefix);
            let replayed = replay(
                query,
                &repo,
                (&commits, &mainline),
                BTreeMap::new(),
                &plan,
                reporter,
            )?;
            Ok(History {
                changes: replayed.changes,
                commits: commits.len(),
                shallow: repo.shallow,
                oldest: commits.first().map(|c| clock::from_unix(c.time)),
            })
        }
    }
}

/// The changes of the query's dependency made since its time, of a history read for all.
fn filtered(mut all: History, query: &HistoryQuery) -> History {
    all.changes.retain(|c| {
        query
            .dependency
            .as_deref()
            .is_none_or(|d| d == c.dependency)
            && query.since.is_none_or(|s| c.time >= s)
    });
    all
}

/// The repository of the working directory.
struct Repo {
    /// Git, run in the working directory.
    git: Git,
    /// The repository's root folder.
    toplevel: PathBuf,
    /// The working directory from the root (`""` at the root, else ending with `/`).
    prefix: String,
    /// Whether the repository is a shallow clone.
    shallow: bool,
}

/// Finds the repository of the working directory; `None` when it has no commits.
fn open(query: &HistoryQuery) -> anyhow::Result<Option<Repo>> {
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
        return Ok(None);
    }
    let prefix = git.show_prefix()?;
    let shallow = git.is_shallow()?;
    Ok(Some(Repo {
        git,
        toplevel,
        prefix,
        shallow,
    }))
}

/// What a run keeps for the next: the unfiltered history up to a commit.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Kept {
    /// The first-parent commits read, oldest first.
    commits: Vec<String>,
    /// The time of the oldest, seconds since the epoch.
    oldest: Option<i64>,
    /// The changes, newest first.
    changes: Vec<Change>,
    /// The warnings reading them gave.
    warnings: Vec<KeptWarning>,
}

/// A warning given while reading a commit.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeptWarning {
    /// The commit.
    commit: String,
    /// Its time, seconds since the epoch.
    time: i64,
    /// The warning.
    warning: Warning,
}

/// Everything that changes the history read, besides the commits: the key of a kept one.
fn kept_key(query: &HistoryQuery, repo: &Repo) -> String {
    let mut key = format!(
        "baton {}\nrepository {:?}\nprefix {:?}\n",
        env!("CARGO_PKG_VERSION"),
        repo.toplevel,
        repo.prefix
    );
    for env in &query.environments {
        key.push_str(&format!("env {:?} {}\n", env.name, env.dirs.key()));
    }
    key
}

/// The whole history (no dependency or time filter), read from what the last run kept in
/// `dir` and the commits made since, then kept again.
fn read_kept(
    query: &HistoryQuery,
    repo: &Repo,
    dir: &Path,
    reporter: &dyn Reporter,
) -> anyhow::Result<History> {
    let all = HistoryQuery {
        dependency: None,
        since: None,
        ..query.clone()
    };
    let file = crate::resolve::history_index::IndexFile::new(dir, kept_key(&all, repo));
    // Newest first; the log below starts at the same commit even if HEAD moves meanwhile.
    let line = repo.git.first_parent_shas("HEAD")?;
    let loaded = file.load::<Kept>();
    let found = loaded.is_some();
    let (mut kept, new) = loaded
        .and_then(|k| resume(k, &line))
        .unwrap_or_else(|| (Kept::default(), line.len()));
    let mut commits = match (new, kept.commits.last()) {
        (0, _) => Vec::new(),
        (_, None) => repo.git.first_parent_log(&line[0])?,
        (_, Some(last)) => repo.git.first_parent_log(&format!("{last}..{}", line[0]))?,
    };
    commits.reverse();
    if commits.len() != new || commits.iter().rev().zip(&line).any(|(c, s)| &c.sha != s) {
        anyhow::bail!(
            "the first-parent history of {} changed while it was read; run again",
            repo.toplevel.display()
        );
    }
    let tree: BTreeMap<String, String> = match kept.commits.last() {
        Some(last) if new > 0 => repo.git.ls_tree(last)?.into_iter().collect(),
        _ => BTreeMap::new(),
    };
    let mainline: HashSet<String> = line.iter().cloned().collect();
    let plan = plan(&all, &commits, &repo.prefix);
    // The warnings are given once all are known: those of the kept commits, then the new.
    let replayed = if commits.is_empty() {
        Replayed::default()
    } else {
        replay(&all, repo, (&commits, &mainline), tree, &plan, &Quiet)?
    };
    let changed = new > 0 || !found;
    kept.oldest = kept.oldest.or(commits.first().map(|c| c.time));
    kept.commits.extend(commits.iter().map(|c| c.sha.clone()));
    let mut changes = replayed.changes;
    changes.append(&mut kept.changes);
    kept.changes = changes;
    kept.warnings.extend(replayed.warnings);
    for w in &kept.warnings {
        if query.since.is_none_or(|s| clock::from_unix(w.time) >= s) {
            reporter.warn(w.warning.clone());
        }
    }
    if changed {
        file.store(&kept);
    }
    Ok(History {
        changes: kept.changes,
        commits: line.len(),
        shallow: false,
        oldest: kept.oldest.map(clock::from_unix),
    })
}

/// The kept history cut back to the newest of its commits on the current first-parent line
/// (`line`, newest first), and how many commits of the line come after it; `None` when none
/// of them is on the line (the history was rewritten, or another branch is checked out).
fn resume(mut kept: Kept, line: &[String]) -> Option<(Kept, usize)> {
    let at: HashMap<&str, usize> = kept
        .commits
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let Some((new, last)) = line
        .iter()
        .enumerate()
        .find_map(|(p, sha)| at.get(sha.as_str()).map(|&q| (p, q)))
    else {
        log::debug!("the kept history is not on the first-parent line of HEAD; not used");
        return None;
    };
    // The line below a commit is the same wherever it is read from: the kept one must be it.
    if last + 1 != line.len() - new || kept.commits.first() != line.last() {
        log::debug!("the kept history does not match the first-parent line of HEAD; not used");
        return None;
    }
    if last + 1 < kept.commits.len() {
        let gone: HashSet<String> = kept.commits.split_off(last + 1).into_iter().collect();
        kept.changes.retain(|c| !gone.contains(&c.commit));
        kept.warnings.retain(|w| !gone.contains(&w.commit));
    }
    Some((kept, new))
}

/// Gives no warning (they are collected by the replay).
struct Quiet;

impl Reporter for Quiet {
    fn warn(&self, _: Warning) {}
}

/// Which changed files of each commit belong to an environment (and to which ones); none for
/// the commits made before `since`.
fn plan(query: &HistoryQuery, commits: &[LogCommit], prefix: &str) -> Vec<Vec<Item>> {
    commits
        .iter()
        .map(|commit| {
            let wanted = query
                .since
                .is_none_or(|s| clock::from_unix(commit.time) >= s);
            if !wanted {
                return Vec::new();
            }
            commit
                .changes
                .iter()
                .enumerate()
                .filter_map(|(index, ch)| {
                    let rel = ch.path.strip_prefix(prefix)?;
                    FileKind::of(Path::new(rel))?;
                    let envs: Vec<usize> = query
                        .environments
                        .iter()
                        .enumerate()
                        .filter(|(_, e)| e.dirs.matches(Path::new(rel)))
                        .map(|(i, _)| i)
                        .collect();
                    (!envs.is_empty()).then(|| Item {
                        index,
                        rel: rel.to_string(),
                        envs,
                    })
                })
                .collect()
        })
        .collect()
}

/// What a replay found: the changes, newest first, and the warnings, by commit.
#[derive(Default)]
struct Replayed {
    changes: Vec<Change>,
    warnings: Vec<KeptWarning>,
}

/// Collects the warnings of one commit, passing them on.
struct Recorder<'a> {
    inner: &'a dyn Reporter,
    kept: Mutex<Vec<Warning>>,
}

impl Reporter for Recorder<'_> {
    fn warn(&self, warning: Warning) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.push(warning.clone());
        }
        self.inner.warn(warning);
    }
}

/// Replays the commits (oldest first, each with its first-parent line `mainline`) from the
/// tree `tree` of the commit before them, keeping the tree and the last version of each
/// planned file from one commit to the next, and lists the changes newest first.
fn replay(
    query: &HistoryQuery,
    repo: &Repo,
    (commits, mainline): (&[LogCommit], &HashSet<String>),
    mut tree: BTreeMap<String, String>,
    plan: &[Vec<Item>],
    reporter: &dyn Reporter,
) -> anyhow::Result<Replayed> {
    // The new side of every planned file, read in the order it is needed.
    let names: Vec<String> = plan
        .iter()
        .zip(commits)
        .flat_map(|(items, commit)| {
            items
                .iter()
                .filter_map(|it| commit.changes[it.index].new.clone())
        })
        .collect();
    let mut stream = repo.git.cat_file_stream(names)?;
    let mut reader = Reader {
        cat: Mutex::new(repo.git.cat_file()?),
        toplevel: repo.toplevel.clone(),
        latest: HashMap::new(),
        loaded: Mutex::new(HashMap::new()),
        reported: Mutex::new(HashSet::new()),
    };
    let mut out = Replayed {
        changes: Vec::new(),
        warnings: Vec::new(),
    };
    for (commit, items) in commits.iter().zip(plan) {
        let recorder = Recorder {
            inner: reporter,
            kept: Mutex::new(Vec::new()),
        };
        // Before: the file as the parent had it (usually the result kept from its last change).
        let before = reader.versions_before(commit, items, &tree, &recorder);
        advance(&mut tree, commit);
        if items.is_empty() {
            continue;
        }
        // After: the new blobs, in stream order; then worked out on every core.
        let texts = next_texts(&mut stream, commit, items)?;
        let after = reader.versions_after(commit, items, texts, &before, &tree, &recorder);
        reader.keep(commit, items, &after);
        let sides = changed_versions(items, &before, &after);
        let mut found = reader.changes(query, commit, sides, mainline);
        // Newest commit first, each commit's changes in environment, then dependency order.
        found.reverse();
        out.changes.extend(found);
        let warnings = recorder.kept.into_inner().unwrap_or_default();
        out.warnings
            .extend(warnings.into_iter().map(|warning| KeptWarning {
                commit: commit.sha.clone(),
                time: commit.time,
                warning,
            }));
    }
    out.changes.reverse();
    Ok(out)
}

/// Moves the tree past a commit: its changed files at their new blobs, its deleted ones gone.
fn advance(tree: &mut BTreeMap<String, String>, commit: &LogCommit) {
    for ch in &commit.changes {
        match &ch.new {
            Some(oid) => tree.insert(ch.path.clone(), oid.clone()),
            None => tree.remove(&ch.path),
        };
    }
}

/// The texts of a commit's planned files after it, read from the stream in plan order (`None`:
/// the commit deletes the file; an error: the blob cannot be read as text).
fn next_texts(
    stream: &mut CatFileStream,
    commit: &LogCommit,
    items: &[Item],
) -> anyhow::Result<Vec<Option<Result<String, String>>>> {
    let mut texts: Vec<Option<Result<String, String>>> = Vec::with_capacity(items.len());
    for it in items {
        texts.push(match &commit.changes[it.index].new {
            Some(_) => Some(match stream.next_object() {
                Ok(Some(object)) => decode(object.data),
                Ok(None) => Err("not in the repository".into()),
                Err(e) => return Err(e.into()),
            }),
            None => None,
        });
    }
    Ok(texts)
}

/// Per environment and dependency: the versions of the changed usages before and after.
fn changed_versions(
    items: &[Item],
    before: &[Option<Arc<Parsed>>],
    after: &[Option<Arc<Parsed>>],
) -> BTreeMap<(usize, String), Sides> {
    let mut sides: BTreeMap<(usize, String), Sides> = BTreeMap::new();
    for ((it, old), new) in items.iter().zip(before).zip(after) {
        for &env in &it.envs {
            for (dep, v) in old.iter().flat_map(|p| p.counted()) {
                sides.entry((env, dep)).or_default().0.push(v);
            }
            for (dep, v) in new.iter().flat_map(|p| p.counted()) {
                sides.entry((env, dep)).or_default().1.push(v);
            }
        }
    }
    sides
}

/// The steps of one commit's replay that read or keep parsed files.
impl Reader {
    /// Each planned file as the commit's parent had it (`None`: it did not exist).
    fn versions_before(
        &self,
        commit: &LogCommit,
        items: &[Item],
        tree: &BTreeMap<String, String>,
        reporter: &dyn Reporter,
    ) -> Vec<Option<Arc<Parsed>>> {
        items
            .iter()
            .map(|it| {
                let ch = &commit.changes[it.index];
                let oid = ch.old.as_ref()?;
                Some(self.before(&ch.path, &it.rel, oid, tree, reporter))
            })
            .collect()
    }

    /// Each planned file as the commit has it (`None`: deleted or unreadable), worked out from
    /// `texts` and the versions before on every core.
    fn versions_after(
        &self,
        commit: &LogCommit,
        items: &[Item],
        texts: Vec<Option<Result<String, String>>>,
        before: &[Option<Arc<Parsed>>],
        tree: &BTreeMap<String, String>,
        reporter: &dyn Reporter,
    ) -> Vec<Option<Arc<Parsed>>> {
        items
            .par_iter()
            .zip(texts.into_par_iter())
            .zip(before.par_iter())
            .map(|((it, text), old)| {
                let ch = &commit.changes[it.index];
                let (oid, text) = (ch.new.as_ref()?, text?);
                Some(Arc::new(self.after(
                    &ch.path,
                    &it.rel,
                    oid,
                    text,
                    old.as_deref(),
                    tree,
                    reporter,
                )))
            })
            .collect()
    }

    /// Keeps the versions after the commit as the last of each file, for the next change.
    fn keep(&mut self, commit: &LogCommit, items: &[Item], after: &[Option<Arc<Parsed>>]) {
        for (it, parsed) in items.iter().zip(after) {
            let ch = &commit.changes[it.index];
            match parsed {
                Some(p) => {
                    self.latest.insert(ch.path.clone(), p.clone());
                }
                None => {
                    self.latest.remove(&ch.path);
                }
            }
        }
    }

    /// The changes the commit made, in environment, then dependency order: the versions it
    /// added, with what it removed; its trailers are read only when there is one.
    fn changes(
        &self,
        query: &HistoryQuery,
        commit: &LogCommit,
        sides: BTreeMap<(usize, String), Sides>,
        mainline: &HashSet<String>,
    ) -> Vec<Change> {
        let time = clock::from_unix(commit.time);
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
                .get_or_insert_with(|| self.classify(commit, mainline))
                .clone();
            found.push(Change {
                environment: query.environments[env].name.clone(),
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
        found
    }
}

/// One changed file of a commit that belongs to an environment.
struct Item {
    /// Its index in the commit's changes.
    index: usize,
    /// Its path relative to the working directory.
    rel: String,
    /// The environments it belongs to (indexes into the query's).
    envs: Vec<usize>,
}

fn decode(data: Vec<u8>) -> Result<String, String> {
    if data.len() as u64 > crate::find::scan::MAX_FILE_BYTES {
        return Err("larger than the size Baton reads".into());
    }
    String::from_utf8(data).map_err(|_| "not UTF-8 text".to_string())
}

/// The versions of the changed usages of one dependency in one environment: before, after.
type Sides = (Vec<String>, Vec<String>);

/// The versions only in `old` and only in `new`, each as a multiset (`v1.2.0` and `1.2.0` are
/// the same version), sorted lowest first without repeats.
fn difference(old: Vec<String>, new: Vec<String>) -> (Vec<String>, Vec<String>) {
    // Counted by version (texts naming one version count together), in linear time: a commit
    // may move hundreds of usages at once.
    let mut counts: HashMap<String, (i64, Vec<String>, Vec<String>)> = HashMap::new();
    for o in old {
        let e = counts.entry(version_key(&o)).or_default();
        e.0 -= 1;
        e.1.push(o);
    }
    for n in new {
        let e = counts.entry(version_key(&n)).or_default();
        e.0 += 1;
        e.2.push(n);
    }
    let (mut removed, mut added) = (Vec::new(), Vec::new());
    for (_, (balance, olds, news)) in counts {
        if balance < 0 {
            removed.extend(olds);
        } else if balance > 0 {
            added.extend(news);
        }
    }
    sort_versions(&mut removed);
    sort_versions(&mut added);
    (removed, added)
}

/// What makes two version texts the same version: its precedence (`v1.2.0`, `1.2.0` and
/// `1.2.0+build` are one), or the text itself when it names no exact version.
fn version_key(text: &str) -> String {
    match exact(text) {
        Some(v) => format!("{}.{}.{}-{}", v.major, v.minor, v.patch, v.pre),
        None => format!("text:{text}"),
    }
}

/// What a parse read besides the file itself, so that a kept result is reused only where
/// those reads give the same answers.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Read {
    /// A file (its blob, or absent).
    File(String, Option<String>),
    /// Whether a path exists (file or folder).
    Exists(String, bool),
}

/// A module source found in one version of a file, as much of it as the history needs.
#[derive(Debug, Clone)]
struct Found {
    /// Its dependency ID.
    dependency: Option<String>,
    /// Its version as written.
    current: Option<String>,
    /// Where that version is written in this file.
    span: Option<std::ops::Range<usize>>,
    /// Whether the version is a registry constraint (else a ref or `?version=`).
    constraint: bool,
}

/// One version of a file: its text, what reading it read, and the sources found.
#[derive(Debug)]
struct Parsed {
    oid: String,
    text: String,
    reads: Vec<Read>,
    found: Vec<Found>,
}

impl Parsed {
    /// The dependency and version of each usage whose version counts (as in `status`):
    /// identified, with a version that is a version (not a branch or a commit).
    fn counted(&self) -> Vec<(String, String)> {
        self.found
            .iter()
            .filter_map(|f| {
                let (id, current) = (f.dependency.clone()?, f.current.clone()?);
                let readable = if f.constraint {
                    Constraint::parse(&current).is_ok()
                } else {
                    ref_problem(&current).is_none()
                };
                readable.then_some((id, current))
            })
            .collect()
    }

    /// The same file after an edit that changed only version texts (as Baton's edits do),
    /// without parsing it again; the text back when anything else changed.
    fn edited(&self, oid: &str, text: String) -> Result<Parsed, String> {
        match self.new_versions(&text) {
            Some(found) => Ok(Parsed {
                oid: oid.to_string(),
                text,
                reads: self.reads.clone(),
                found,
            }),
            None => Err(text),
        }
    }

    /// The sources of [`Parsed::edited`]'s text, when only version texts changed.
    fn new_versions(&self, text: &str) -> Option<Vec<Found>> {
        let mut spans: Vec<std::ops::Range<usize>> =
            self.found.iter().filter_map(|f| f.span.clone()).collect();
        spans.sort_by_key(|s| s.start);
        spans.dedup();
        let (old, new) = (self.text.as_str(), text);
        let mut replaced: Vec<(std::ops::Range<usize>, String)> = Vec::new();
        let (mut at_old, mut at_new) = (0, 0);
        for span in spans {
            let same_bytes = old.get(at_old..span.start)?;
            if !new.get(at_new..)?.starts_with(same_bytes) || span.start < at_old {
                return None;
            }
            at_new += same_bytes.len();
            let rest = new.get(at_new..)?;
            let len = rest
                .find(['"', '&', '\n', '\r', '\\', '$', '{', '}', '#'])
                .unwrap_or(rest.len());
            if len == 0 {
                return None;
            }
            replaced.push((span.clone(), rest[..len].to_string()));
            at_new += len;
            at_old = span.end;
        }
        if old.get(at_old..)? != new.get(at_new..)? {
            return None;
        }
        let mut found = self.found.clone();
        for f in &mut found {
            let Some(span) = &f.span else { continue };
            // The version as found must be the bytes at its span, or nothing can be told.
            if f.current.as_deref() != old.get(span.clone()) {
                return None;
            }
            let now = replaced.iter().find(|(s, _)| s == span)?;
            f.current = Some(now.1.clone());
        }
        Some(found)
    }
}

struct Reader {
    /// Objects read one at a time (includes, files whose last version was not kept).
    cat: Mutex<CatFile>,
    toplevel: PathBuf,
    /// Path → the last version of it worked out.
    latest: HashMap<String, Arc<Parsed>>,
    /// (path, blob) → an include, parsed.
    loaded: Mutex<HashMap<(String, String), Arc<LoadedFile>>>,
    /// Blobs already reported as unreadable.
    reported: Mutex<HashSet<String>>,
}

impl Reader {
    /// The file `path` (from the repository root) at blob `oid`, as the tree `tree` reads it:
    /// the version kept from its last change when that is it, else read and parsed.
    fn before(
        &self,
        path: &str,
        rel: &str,
        oid: &str,
        tree: &BTreeMap<String, String>,
        reporter: &dyn Reporter,
    ) -> Arc<Parsed> {
        if let Some(kept) = self
            .latest
            .get(path)
            .filter(|p| p.oid == oid && p.reads.iter().all(|r| still(r, tree)))
        {
            return kept.clone();
        }
        let text = self.blob(oid);
        Arc::new(self.parse(path, rel, oid, text, tree, reporter))
    }

    /// The file at blob `oid` with text `text` after a change from `old`: worked out from `old`
    /// when only versions changed and its includes read the same, else parsed.
    #[allow(clippy::too_many_arguments)]
    fn after(
        &self,
        path: &str,
        rel: &str,
        oid: &str,
        text: Result<String, String>,
        old: Option<&Parsed>,
        tree: &BTreeMap<String, String>,
        reporter: &dyn Reporter,
    ) -> Parsed {
        let text = match (old, text) {
            (Some(old), Ok(new)) if old.reads.iter().all(|r| still(r, tree)) => {
                match old.edited(oid, new) {
                    Ok(edited) => return edited,
                    Err(new) => Ok(new),
                }
            }
            (_, text) => text,
        };
        self.parse(path, rel, oid, text, tree, reporter)
    }

    fn parse(
        &self,
        path: &str,
        rel: &str,
        oid: &str,
        text: Result<String, String>,
        tree: &BTreeMap<String, String>,
        reporter: &dyn Reporter,
    ) -> Parsed {
        let empty = |text: String| Parsed {
            oid: oid.to_string(),
            text,
            reads: Vec::new(),
            found: Vec::new(),
        };
        let text = match text {
            Ok(text) => text,
            Err(message) => {
                self.report_once(
                    oid,
                    || {
                        Warning::at(
                            rel,
                            None,
                            None,
                            format!("history: blob {oid} left out: {message}"),
                        )
                    },
                    reporter,
                );
                return empty(String::new());
            }
        };
        let full = self.toplevel.join(path);
        let Some(kind) = FileKind::of(&full) else {
            return empty(text);
        };
        let files = TreeFiles {
            reader: self,
            tree,
            reads: Mutex::new(Vec::new()),
        };
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            hcl::find(&full, kind, &text, &files)
        }));
        let reads = files.reads.into_inner().unwrap_or_default();
        let found = match found {
            Ok(Ok(found)) => found
                .into_iter()
                .map(|f| {
                    let constraint = matches!(
                        &f.resolved,
                        Ok(Source::Registry(r)) if r.query_version.is_none()
                    );
                    Found {
                        dependency: f.resolved.as_ref().ok().and_then(Source::dependency_id),
                        current: f.current,
                        span: f.site.map(|s| s.span),
                        constraint,
                    }
                })
                .collect(),
            Ok(Err(e)) => {
                self.report_once(oid, || {
                    Warning::at(
                        rel,
                        Some(e.line),
                        Some(e.column),
                        format!(
                            "history: the version of blob {} cannot be parsed ({}); its usages are left out",
                            &oid[..oid.len().min(12)],
                            e.message
                        ),
                    )
                }, reporter);
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        Parsed {
            oid: oid.to_string(),
            text,
            reads,
            found,
        }
    }

    fn report_once(&self, oid: &str, warning: impl FnOnce() -> Warning, reporter: &dyn Reporter) {
        let first = self
            .reported
            .lock()
            .map(|mut r| r.insert(oid.to_string()))
            .unwrap_or(false);
        if first {
            reporter.warn(warning());
        }
    }

    fn blob(&self, oid: &str) -> Result<String, String> {
        let object = self
            .cat
            .lock()
            .map_err(|_| "the object reader failed".to_string())?
            .read(oid)
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "not in the repository".to_string())?;
        decode(object.data)
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
        let (stripped, bom) = hcl::strip_bom(&text);
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
            bom,
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

    /// No other files: sources must be literal.
    struct NoFiles;

    impl Files for NoFiles {
        fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String> {
            Err(format!("no {}", path.display()))
        }
        fn exists(&self, _: &Path) -> bool {
            false
        }
    }

    fn parsed(name: &str, text: &str) -> Parsed {
        let path = Path::new("/repo").join(name);
        let found = hcl::find(&path, FileKind::of(&path).unwrap(), text, &NoFiles).unwrap();
        Parsed {
            oid: text.len().to_string(),
            text: text.to_string(),
            reads: Vec::new(),
            found: found
                .into_iter()
                .map(|f| Found {
                    constraint: matches!(&f.resolved, Ok(Source::Registry(r)) if r.query_version.is_none()),
                    dependency: f.resolved.as_ref().ok().and_then(Source::dependency_id),
                    current: f.current,
                    span: f.site.map(|s| s.span),
                })
                .collect(),
        }
    }

    #[test]
    fn a_version_only_edit_is_worked_out_as_a_parse_would_find_it() {
        let unit = |a: &str, b: &str, q: &str| {
            format!(
                "locals {{\n  v = \"{b}\"\n}}\n\nmodule \"w\" {{\n  source = \"git::https://github.com/o/r.git//modules/a?ref={a}&depth=1\"\n}}\n\nmodule \"x\" {{\n  source  = \"acme/vpc/aws\"\n  version = \"{q}\"\n}}\n\nmodule \"y\" {{\n  source = \"github.com/o/s?ref=${{local.v}}\"\n}}\n"
            )
        };
        let before = parsed("dev/main.tf", &unit("v1.0.0", "2.0.0", "~> 5.1"));
        for (a, b, q) in [
            ("v1.10.0", "2.0.0", "~> 5.1"),
            ("v1.0.0", "v2.1.0-rc.1", "= 6.0.0"),
            ("main", "2.0.0", "~> 5.1"),
        ] {
            let text = unit(a, b, q);
            let edited = before
                .edited("new", text.clone())
                .unwrap_or_else(|_| panic!("only versions changed: {a} {b} {q}"));
            assert_eq!(
                edited.counted(),
                parsed("dev/main.tf", &text).counted(),
                "{a} {b} {q}"
            );
        }
        // Anything else changed: parsed again.
        let moved = unit("v1.0.0", "2.0.0", "~> 5.1").replace("modules/a", "modules/b");
        assert!(before.edited("new", moved).is_err());
        let grown = format!("{}\n# note\n", unit("v1.1.0", "2.0.0", "~> 5.1"));
        assert!(before.edited("new", grown).is_err());
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
