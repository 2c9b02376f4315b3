//! Checks on a `repository_dispatch` payload before it moves an environment: the version must be
//! a published release, not a pre-release, and, when the previous environment's folders are
//! known, exactly what that environment runs at the payload's commit. The tree at that commit is
//! read from git (a detached worktree when it is not the commit checked out), so a stale or
//! forged payload is refused and the version read from the tree is what counts.

use crate::clients::Session;
use crate::clients::git::Git;
use crate::exit::InvalidInput;
use crate::find::scan::{self, ScanReport, ScanRequest};
use crate::resolve::{self, Clients, landed};
use crate::version::{self, Version};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a `repository_dispatch` payload says landed in the previous environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dispatched {
    /// The dependency ID.
    pub dependency: String,
    /// The version, as sent.
    pub version: String,
    /// The commit it landed in, when the payload names one.
    pub sha: Option<String>,
    /// The environment it landed in.
    pub environment: Option<String>,
    /// The pull request that landed it.
    pub pull_request: Option<u64>,
}

impl Dispatched {
    /// Where the payload says the version landed, for messages.
    fn origin(&self) -> String {
        let mut out = self
            .environment
            .as_deref()
            .map_or_else(|| "the previous environment".to_string(), str::to_string);
        if let Some(sha) = &self.sha {
            out.push_str(&format!(" at {}", short(sha)));
        }
        out
    }

    /// The payload's version: a version, and not a pre-release.
    pub fn version(&self) -> Result<Version, InvalidInput> {
        let v = version::parse_version(&self.version).ok_or_else(|| {
            InvalidInput(format!(
                "the dispatch payload's version {:?} of {} is not a version; refusing the promotion",
                self.version, self.dependency
            ))
        })?;
        if !v.pre.is_empty() {
            return Err(InvalidInput(format!(
                "the dispatch payload promotes {} {v}, a pre-release; pre-releases are never promoted",
                self.dependency
            )));
        }
        Ok(v)
    }
}

fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// Refuses a payload whose version is not what `landed` (the previous environment read at the
/// payload's commit) runs.
pub fn check_landed(
    payload: &Dispatched,
    landed: &BTreeMap<String, landed::Landed>,
    previous: &ScanRequest,
) -> Result<(), InvalidInput> {
    let wanted = payload.version()?;
    let refuse = |what: String| {
        InvalidInput(format!(
            "the dispatch payload says {} {} landed in {}, but {what}; refusing a stale or forged promotion (the version read from the tree is what counts)",
            payload.dependency,
            payload.version,
            payload.origin()
        ))
    };
    match landed.get(&payload.dependency) {
        None => Err(refuse(format!(
            "{} does not use it there",
            previous.describe()
        ))),
        Some(l) if !l.disagreeing.is_empty() => Err(refuse(format!(
            "{} holds several versions of it there ({})",
            previous.describe(),
            l.disagreeing.join(", ")
        ))),
        Some(l) if !same(&l.version, &wanted) => Err(refuse(format!(
            "{} runs {} there",
            previous.describe(),
            l.version
        ))),
        Some(_) => Ok(()),
    }
}

fn same(a: &Version, b: &Version) -> bool {
    (a.major, a.minor, a.patch, &a.pre) == (b.major, b.minor, b.patch, &b.pre)
}

/// Refuses a payload whose version is not a published release of its dependency, looked up as
/// `report` looks up versions (the usages of `report` say where the module lives). A dependency
/// this environment does not use needs no check: nothing will move.
pub fn check_published(
    payload: &Dispatched,
    session: &Session,
    request: &ScanRequest,
    report: &ScanReport,
) -> anyhow::Result<()> {
    let wanted = payload.version()?;
    let only = Some(payload.dependency.as_str());
    let lookups = resolve::lookups_for(report, only);
    if lookups.is_empty() {
        return Ok(());
    }
    let clients = Arc::new(Clients {
        github: session.github.clone(),
        registry: session.settings.registry()?,
        git_dir: request.working_dir.clone(),
    });
    let listings = session.block_on(resolve::fetch_all(clients, lookups));
    let Some(dep) = resolve::plan(report, &listings, only).into_iter().next() else {
        return Ok(());
    };
    if let Some(e) = &dep.error {
        anyhow::bail!(
            "cannot check that {} {} is a published version before promoting it: {e}",
            payload.dependency,
            payload.version
        );
    }
    if dep.tags.keys().any(|v| same(v, &wanted)) {
        Ok(())
    } else {
        Err(InvalidInput(format!(
            "the dispatch payload promotes {} {}, but {} is not a published version of {} (published: {}); refusing the promotion",
            payload.dependency,
            payload.version,
            wanted,
            payload.dependency,
            dep.tags
                .values()
                .rev()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .into())
    }
}

/// Scans `previous` as it is at commit `sha`: in place when that commit is checked out with no
/// change to tracked files, else in a detached worktree of it (removed afterwards), fetching the
/// commit from `origin` first when it is not here.
pub fn scan_at(previous: &ScanRequest, sha: &str) -> anyhow::Result<ScanReport> {
    let Some((top, dir)) = crate::spec::location::repository_root(&previous.working_dir) else {
        return Err(InvalidInput(format!(
            "the dispatch payload names commit {sha}, but {} is not in a git repository, so what landed there cannot be read; refusing the promotion",
            previous.working_dir.display()
        ))
        .into());
    };
    let git = Git::new(&top);
    let head = git.head_sha().unwrap_or_default();
    let clean = git
        .run(&["status", "--porcelain", "--untracked-files=no"])
        .is_ok_and(|s| s.trim().is_empty());
    if clean && !sha.is_empty() && head.starts_with(sha) {
        return Ok(scan::scan(previous)?);
    }
    let commit = format!("{sha}^{{commit}}");
    if git
        .run(&[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &commit,
        ])
        .is_err()
    {
        // A shallow checkout may not hold it yet.
        let _ = git.run(&[
            "fetch",
            "--quiet",
            "--depth=1",
            "--end-of-options",
            "origin",
            sha,
        ]);
    }
    let resolved = git
        .run(&["rev-parse", "--verify", "--quiet", "--end-of-options", &commit])
        .map_err(|_| {
            InvalidInput(format!(
                "the dispatch payload names commit {sha}, which is not in this repository (nor on origin); refusing a stale or forged promotion"
            ))
        })?;
    let worktree = Worktree::add(&git, resolved.trim())?;
    let rel = dir.strip_prefix(&top).unwrap_or(Path::new(""));
    let at = ScanRequest {
        working_dir: worktree.path.join(rel),
        dirs: previous.dirs.clone(),
    };
    Ok(scan::scan(&at)?)
}

/// A detached worktree of one commit, removed on drop.
struct Worktree {
    git: Git,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Worktree {
    fn add(git: &Git, commit: &str) -> anyhow::Result<Worktree> {
        let dir = tempfile::Builder::new().prefix("baton-at-").tempdir()?;
        let path = dir.path().join("tree");
        let target = path.to_string_lossy().into_owned();
        git.run(&[
            "worktree",
            "add",
            "--quiet",
            "--detach",
            "--end-of-options",
            &target,
            commit,
        ])
        .map_err(|e| anyhow::anyhow!("cannot check out commit {commit} to read it: {e}"))?;
        Ok(Worktree {
            git: git.clone(),
            path,
            _dir: dir,
        })
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        let target = self.path.to_string_lossy().into_owned();
        if self
            .git
            .run(&["worktree", "remove", "--force", "--end-of-options", &target])
            .is_err()
        {
            let _ = self.git.run(&["worktree", "prune"]);
        }
    }
}
