//! Breaking-change impact, usage by usage. For a dependency whose target crosses a breaking
//! release: which of those releases change nothing in the module's folder (nor in the local
//! modules it sources), so that `next-safe` may go past them; what the first one that does
//! change it changes in the module's interface; and what that does to each usage in this
//! environment. What Baton cannot establish is said as unknown, never guessed.
//!
//! Cost: per module repository and pair of tags, one compare request and at most two tarballs
//! on GitHub (a shallow fetch of the tags elsewhere), each cached for the run.

use crate::clients::moduletree::{self, Changed, Files, Scratch};
use crate::find::callsite::{self, CallSite, code};
use crate::find::hcl::UsageKind;
use crate::find::interface::{self, Change, Interface};
use crate::find::scan::{ScanReport, Usage};
use crate::find::source::Source;
use crate::resolve::address::{self, At, Repo};
use crate::resolve::{CONCURRENCY, Clients, Dependency, Lookup};
use crate::version::{self, Version};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path};
use std::sync::{Arc, Mutex};
use tokio::sync::{OnceCell, Semaphore};

/// The most breaking releases one dependency goes past as empty bumps.
const MAX_HOPS: usize = 4;

/// How deep local modules (`../other`) are followed.
const MAX_LOCAL_DEPTH: usize = 4;

/// What a dependency's breaking update means for this environment (the spec's `Impact`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Impact {
    /// The lowest version in use, as published (`v1.0.0`).
    pub from: String,
    /// The module's folder in its repository (`modules/vpc`; empty for the root).
    pub module: String,
    /// Breaking releases that change nothing in the module: `next-safe` goes past them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub empty_bumps: Vec<EmptyBump>,
    /// The breaking release analysed, as published; `None` when no breaking release is left.
    #[serde(default)]
    pub to: Option<String>,
    /// The folders of the repository read: the module's and those of the local modules it
    /// sources.
    #[serde(default)]
    pub paths: Vec<String>,
    /// What `to` changes in the module's interface, compared with `from`.
    #[serde(default)]
    pub changes: Vec<Change>,
    /// Each usage of this environment and what it needs.
    #[serde(default)]
    pub usages: Vec<UsageImpact>,
    /// The manual steps to complete the update, as markdown checklist items.
    #[serde(default)]
    pub steps: Vec<String>,
    /// Why the impact of `to` could not be worked out, when it could not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unknown: Option<String>,
}

/// A breaking release that changes nothing in the module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EmptyBump {
    /// The release, as published (`v2.0.0`).
    pub release: String,
    /// The tags compared (`v1.4.2...v2.0.0`).
    pub compared: String,
}

/// What one usage needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UsageStatus {
    /// It will fail as written.
    NeedsChange,
    /// A value must be checked (a type changed).
    Check,
    /// Baton cannot tell (an expression hides what it passes or reads).
    Unknown,
    /// No change needed here.
    NoChange,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Fails as written.
    Error,
    /// To be checked.
    Check,
    /// Cannot be told.
    Unknown,
}

/// One thing a usage must change or check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    /// File relative to the working directory (an included file for an inherited input).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// How serious it is.
    pub severity: Severity,
    /// What, in markdown: "passes `enable_classiclink`, removed in v2.0.0".
    pub message: String,
}

/// One usage of the dependency and what the breaking release does to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsageImpact {
    /// File relative to the working directory.
    pub file: String,
    /// Line of the `source`.
    pub line: usize,
    /// The worst of its findings, or `no-change`.
    pub status: UsageStatus,
    /// What to change or check; empty: no change needed here.
    #[serde(default)]
    pub findings: Vec<Finding>,
}

/// Works out the impact of every dependency with a breaking target, all at once with at most
/// [`CONCURRENCY`] requests in flight, and moves `next-safe` targets past empty bumps.
pub async fn assess(
    clients: Arc<Clients>,
    report: &ScanReport,
    deps: &mut [Dependency],
    working_dir: &Path,
) {
    // Terragrunt units, whose `dependency` blocks may read another unit's outputs.
    let mut units: Vec<String> = report
        .usages
        .iter()
        .filter(|u| u.kind == UsageKind::Terragrunt)
        .map(|u| u.file.clone())
        .collect();
    units.dedup();
    let reader = Arc::new(callsite::Reader::new(working_dir).with_texts(report.texts.clone()));
    let ctx = Arc::new(Ctx {
        github: clients.github.clone(),
        clients: clients.clone(),
        checker: checker(reader, units),
        requests: Semaphore::new(CONCURRENCY),
        downloads: Semaphore::new(DOWNLOAD_MEMORY / moduletree::MAX_TF_TOTAL),
        tarballs: Mutex::default(),
        compares: Mutex::default(),
        scratches: Mutex::default(),
        addresses: Mutex::default(),
    });
    // The usages of each dependency, found once: a lookup per usage, not a pass over every
    // usage per dependency, nor over the dependency's places per usage.
    let mut by_dependency: FxHashMap<&str, Vec<&Usage>> = FxHashMap::default();
    for u in report.usages.iter().filter(|u| u.skipped.is_none()) {
        if let Some(id) = u.dependency.as_deref() {
            by_dependency.entry(id).or_default().push(u);
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, dep) in deps.iter_mut().enumerate() {
        if !dep.has_update() || dep.targets.breaking.is_none() {
            continue;
        }
        let places: FxHashSet<(&str, usize)> = dep
            .usages
            .iter()
            .map(|r| (r.file.as_str(), r.line))
            .collect();
        let mine: Vec<&Usage> = by_dependency
            .get(dep.id.as_str())
            .into_iter()
            .flatten()
            .filter(|u| places.contains(&(u.version_file(), u.version_line())))
            .copied()
            .collect();
        drop(places);
        let Some(source) = mine.first().and_then(|u| u.address.clone()) else {
            continue;
        };
        // What the check reads of each usage, shared with the thread pool without copies.
        let usages: Arc<[UsageAt]> = mine.iter().map(|u| UsageAt::of(u)).collect();
        // The task reads all of the dependency but its usages (found above): not copied.
        let refs = std::mem::take(&mut dep.usages);
        let copy = dep.clone();
        dep.usages = refs;
        let ctx = ctx.clone();
        tasks.spawn(async move {
            let (targets, mut impact, check) = assess_one(&ctx, &copy, &source, &usages).await;
            // Checked as soon as the changes are known, while other dependencies still wait
            // on the network.
            if let Some(check) = check {
                ctx.check(check, &mut impact).await;
            }
            (i, targets, impact)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, targets, impact)) = joined {
            deps[i].targets = targets;
            deps[i].impact = Some(impact);
        }
    }
}

/// The memory the tarballs being unpacked at once may keep, together (6 at a time).
const DOWNLOAD_MEMORY: usize = 96 * 1024 * 1024;

/// What the budget floor holds back first (see [`GitHub::budget_low`]).
const OPTIONAL_WORK: &str = "breaking-change impact";

/// What the run fetched, shared by every dependency: a tarball per repository and tag, a
/// comparison per repository and pair of tags, a scratch repository per git remote.
struct Ctx {
    github: crate::clients::github::GitHub,
    /// The registry client, for the download addresses of registry modules.
    clients: Arc<Clients>,
    /// Where the usages of each dependency are sent to be checked (see [`checker`]).
    checker: std::sync::mpsc::Sender<CheckJob>,
    /// Requests (and git fetches) in flight at once, across every dependency.
    requests: Semaphore,
    /// Tarballs being unpacked at once: each may keep up to `MAX_TF_TOTAL` of Terraform text,
    /// and together they stay within [`DOWNLOAD_MEMORY`].
    downloads: Semaphore,
    tarballs: Mutex<HashMap<(String, String), Slot<Tree>>>,
    compares: Mutex<HashMap<Pair, Slot<Changed>>>,
    scratches: Mutex<HashMap<String, ScratchSlot>>,
    /// Where a registry module's version is read, by module and version.
    addresses: Mutex<HashMap<(String, String), Slot<At>>>,
}

type Slot<T> = Arc<OnceCell<Result<T, String>>>;

/// The Terraform files of a repository at one tag.
type Tree = Arc<Files>;

/// A repository and two tags.
type Pair = (String, String, String);

/// A scratch repository, made on first use (or why it could not be).
type ScratchSlot = Arc<Mutex<Option<Result<Scratch, String>>>>;

fn slot<K: std::hash::Hash + Eq, T>(map: &Mutex<HashMap<K, Slot<T>>>, key: K) -> Slot<T> {
    match map.lock() {
        Ok(mut m) => m.entry(key).or_default().clone(),
        Err(_) => Arc::default(),
    }
}

/// How a module is found at a version.
enum Locate {
    /// A git source: one repository and folder; a version is its tag.
    Fixed { repo: Repo, dir: String },
    /// A registry module: each version where the registry's download address says.
    Registry {
        host: String,
        namespace: String,
        name: String,
        provider: String,
        subdir: Option<String>,
    },
}

impl Locate {
    fn of(source: &Source, lookup: &Lookup) -> Option<Locate> {
        let dir = |sub: &Option<String>| sub.as_deref().unwrap_or("").trim_matches('/').to_string();
        match (source, lookup) {
            (Source::Git(g), Lookup::GitHub { owner, repo }) => Some(Locate::Fixed {
                repo: Repo::GitHub {
                    owner: owner.clone(),
                    repo: repo.clone(),
                },
                dir: dir(&g.subdir),
            }),
            (Source::Git(g), Lookup::Git { url }) => Some(Locate::Fixed {
                repo: Repo::Git { url: url.clone() },
                dir: dir(&g.subdir),
            }),
            (Source::Registry(r), Lookup::Registry { .. }) => Some(Locate::Registry {
                host: r.host.clone(),
                namespace: r.namespace.clone(),
                name: r.name.clone(),
                provider: r.provider.clone(),
                subdir: r.subdir.clone(),
            }),
            _ => None,
        }
    }
}

impl Ctx {
    /// Checks the usages of one dependency against the changes of its breaking release (on the
    /// checker, see [`checker`]), and puts the result in its impact.
    async fn check(&self, check: Check, impact: &mut Impact) {
        let (reply, answer) = tokio::sync::oneshot::channel();
        // A send that fails drops `reply`: the answer is then an error too.
        let _ = self.checker.send((check, reply));
        match answer.await {
            Ok((check, checked)) => check.finish(checked, impact),
            Err(_) => impact.unknown = Some("checking the usages did not finish".into()),
        }
    }

    async fn changed(&self, repo: &Repo, base: &str, head: &str) -> Result<Changed, String> {
        match repo {
            Repo::GitHub { owner, repo } => {
                let key = (
                    format!("{owner}/{repo}"),
                    base.to_string(),
                    head.to_string(),
                );
                slot(&self.compares, key)
                    .get_or_init(|| async {
                        let _permit = self.requests.acquire().await;
                        if let Some(why) = self.github.budget_low(OPTIONAL_WORK) {
                            return Err(why);
                        }
                        moduletree::compare(&self.github, owner, repo, base, head).await
                    })
                    .await
                    .clone()
            }
            Repo::Git { url } => {
                let (base, head) = (base.to_string(), head.to_string());
                self.with_scratch(url, move |s| {
                    s.fetch(&[&base, &head])?;
                    s.changed(&base, &head)
                })
                .await
            }
        }
    }

    /// The Terraform files directly in `dir` at `tag`, as `(name, text)`.
    async fn files_in(
        &self,
        repo: &Repo,
        tag: &str,
        dir: &str,
    ) -> Result<Vec<(String, String)>, String> {
        let owned = |v: Vec<(&str, &str)>| {
            v.into_iter()
                .map(|(n, t)| (n.to_string(), t.to_string()))
                .collect()
        };
        match repo {
            Repo::GitHub { owner, repo } => {
                let key = (format!("{owner}/{repo}"), tag.to_string());
                let files = slot(&self.tarballs, key)
                    .get_or_init(|| async {
                        let _memory = self.downloads.acquire().await;
                        let _permit = self.requests.acquire().await;
                        if let Some(why) = self.github.budget_low(OPTIONAL_WORK) {
                            return Err(why);
                        }
                        moduletree::tarball(&self.github, owner, repo, tag)
                            .await
                            .map(Arc::new)
                    })
                    .await
                    .clone()?;
                Ok(owned(files.in_dir(dir)))
            }
            Repo::Git { url } => {
                let (tag, dir) = (tag.to_string(), dir.to_string());
                self.with_scratch(url, move |s| {
                    s.fetch(&[&tag])?;
                    let files = s.files_in(&tag, &dir)?;
                    Ok(owned(files.in_dir(&dir)))
                })
                .await
            }
        }
    }

    /// Runs `f` on the scratch repository of `url` (made on first use), off the async threads.
    async fn with_scratch<T: Send + 'static>(
        &self,
        url: &str,
        f: impl FnOnce(&mut Scratch) -> Result<T, String> + Send + 'static,
    ) -> Result<T, String> {
        let cell = match self.scratches.lock() {
            Ok(mut m) => m.entry(url.to_string()).or_default().clone(),
            Err(_) => return Err("internal error: a lock was poisoned".into()),
        };
        let url = url.to_string();
        let _permit = self.requests.acquire().await;
        tokio::task::spawn_blocking(move || {
            let mut guard = cell
                .lock()
                .map_err(|_| "internal error: a lock was poisoned".to_string())?;
            let scratch = guard.get_or_insert_with(|| Scratch::new(&url));
            match scratch {
                Ok(s) => f(s).map_err(|e| {
                    format!(
                        "{e}. Check that git can reach {url} (credentials, url.<base>.insteadOf)"
                    )
                }),
                Err(e) => Err(e.clone()),
            }
        })
        .await
        .map_err(|e| format!("git did not finish: {e}"))?
    }

    /// Where the module is at version `v`: for a registry module, where the registry's download
    /// address for it points (asked once per version).
    async fn at(&self, locate: &Locate, dep: &Dependency, v: &Version) -> Result<At, String> {
        let tag = tag_of(dep, v);
        match locate {
            Locate::Fixed { repo, dir } => Ok(At {
                repo: repo.clone(),
                rev: tag,
                dir: dir.clone(),
            }),
            Locate::Registry {
                host,
                namespace,
                name,
                provider,
                subdir,
            } => {
                let module = format!("{host}/{namespace}/{name}/{provider}//{subdir:?}");
                slot(&self.addresses, (module, tag.clone()))
                    .get_or_init(|| async {
                        let _permit = self.requests.acquire().await;
                        let address = self
                            .clients
                            .registry
                            .download_address(host, namespace, name, provider, &tag)
                            .await
                            .map_err(|e| e.to_string())?;
                        address::read(&address, subdir.as_deref(), self.github.api_url())
                    })
                    .await
                    .clone()
            }
        }
    }

    /// The module's folder and those of the local modules it sources, at `tag`.
    async fn module_paths(&self, repo: &Repo, tag: &str, dir: &str) -> Result<Vec<String>, String> {
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut frontier = vec![(dir.to_string(), 0usize)];
        while let Some((d, depth)) = frontier.pop() {
            if !seen.insert(d.clone()) || depth > MAX_LOCAL_DEPTH {
                continue;
            }
            let files = self.files_in(repo, tag, &d).await?;
            let iface = Interface::read(files.iter().map(|(n, t)| (n.as_str(), t.as_str())));
            for local in &iface.local_modules {
                if let Some(p) = join_repo_path(&d, local) {
                    frontier.push((p, depth + 1));
                }
            }
        }
        Ok(seen.into_iter().collect())
    }
}

/// `dir` joined with a relative module source, inside the repository; `None` when it leaves it.
fn join_repo_path(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<String> = dir
        .split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    for c in Path::new(rel).components() {
        match c {
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(n) => parts.push(n.to_string_lossy().into_owned()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// A tag as shown in messages: as published when it is plain, else as code.
pub fn tag_text(tag: &str) -> String {
    if tag
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-+/".contains(c))
    {
        tag.to_string()
    } else {
        code(tag)
    }
}

/// What checking a usage reads of it: where it is and what it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageAt {
    /// File relative to the working directory.
    pub file: String,
    /// Line of its `source`.
    pub line: usize,
    /// The construct it is in.
    pub kind: UsageKind,
}

impl UsageAt {
    /// Where `u` is.
    pub fn of(u: &Usage) -> UsageAt {
        UsageAt {
            file: u.file.clone(),
            line: u.line,
            kind: u.kind,
        }
    }
}

/// The targets and impact of one dependency.
async fn assess_one(
    ctx: &Ctx,
    dep: &Dependency,
    source: &Source,
    usages: &Arc<[UsageAt]>,
) -> (version::Targets, Impact, Option<Check>) {
    let mut targets = dep.targets.clone();
    let current = dep.current.first().cloned();
    let from_tag = current
        .as_ref()
        .and_then(|c| dep.tags.get(c))
        .cloned()
        .unwrap_or_else(|| current.as_ref().map_or_else(String::new, |c| c.to_string()));
    let mut impact = Impact {
        from: from_tag.clone(),
        module: String::new(),
        empty_bumps: Vec::new(),
        to: targets.breaking.as_ref().map(|b| tag_of(dep, b)),
        paths: Vec::new(),
        changes: Vec::new(),
        usages: Vec::new(),
        steps: Vec::new(),
        unknown: None,
    };
    let Some(locate) = Locate::of(source, &dep.lookup) else {
        impact.unknown = Some(
            "Baton does not read the source of this kind of module: read the release notes".into(),
        );
        return (targets, impact, None);
    };
    if let Locate::Fixed { dir, .. } = &locate {
        impact.module = dir.clone();
    }
    let Some(current) = current.filter(|c| dep.tags.contains_key(c)) else {
        impact.unknown = Some(format!(
            "the version in use, {}, is not a published tag, so there is nothing to compare it with",
            tag_text(&from_tag)
        ));
        return (targets, impact, None);
    };
    let from = match ctx.at(&locate, dep, &current).await {
        Ok(at) => at,
        Err(e) => {
            impact.unknown = Some(format!("cannot read {}: {e}", tag_text(&from_tag)));
            return (targets, impact, None);
        }
    };
    impact.module = from.dir.clone();
    let walk = Walk {
        ctx,
        dep,
        locate: &locate,
        current: &current,
        from: &from,
        usages,
    };
    let check = walk.run(&mut targets, &mut impact).await;
    (targets, impact, check)
}

/// One dependency's way from the version in use to its breaking target, past empty bumps.
struct Walk<'a> {
    ctx: &'a Ctx,
    dep: &'a Dependency,
    locate: &'a Locate,
    /// The lowest version in use, and where the module is at it.
    current: &'a Version,
    from: &'a At,
    usages: &'a Arc<[UsageAt]>,
}

impl Walk<'_> {
    /// Goes past the breaking releases that change nothing in the module (at most
    /// [`MAX_HOPS`]), then works out what the first one that does changes here.
    async fn run(&self, targets: &mut version::Targets, impact: &mut Impact) -> Option<Check> {
        let (ctx, dep) = (self.ctx, self.dep);
        let versions: Vec<Version> = dep.tags.keys().cloned().collect();
        let mut hops = 0;
        while let Some(breaking) = targets.breaking.clone() {
            let start = targets.safe.clone().unwrap_or_else(|| self.current.clone());
            let head_tag = tag_of(dep, &breaking);
            impact.to = Some(head_tag.clone());
            let (start_at, head_at, paths, changed) = match self.step(&start, &breaking).await {
                Ok(x) => x,
                Err(e) => {
                    impact.unknown = Some(format!("cannot read {}: {e}", tag_text(&head_tag)));
                    break;
                }
            };
            impact.paths = paths.clone();
            impact.module = head_at.dir.clone();
            // Another repository or folder is never called an empty bump.
            let empty = changed
                .is_some_and(|changed| paths.iter().all(|p| changed.under(p) == Some(false)));
            if empty && hops == MAX_HOPS {
                impact.unknown = Some(format!(
                    "{} changes nothing in the module either, but Baton goes past at most {MAX_HOPS} empty bumps: read the release notes",
                    tag_text(&head_tag)
                ));
                break;
            }
            if empty {
                hops += 1;
                impact.empty_bumps.push(EmptyBump {
                    release: head_tag.clone(),
                    compared: format!("{}...{}", start_at.rev, head_at.rev),
                });
                let next = version::compute_targets(&breaking, &versions);
                targets.safe = Some(next.safe.unwrap_or(breaking));
                targets.breaking = next.breaking;
                impact.to = None;
                continue;
            }
            let tags = (impact.from.clone(), head_tag);
            match interface_impact(ctx, (self.from, &head_at), tags, self.usages, impact).await {
                Ok(check) => return Some(check),
                Err(e) => impact.unknown = Some(e),
            }
            break;
        }
        None
    }

    /// Where the module is at `start` and at `head`, its folders at `head`, and what changed
    /// between the two (`None` when they are not the same repository and folder).
    async fn step(
        &self,
        start: &Version,
        head: &Version,
    ) -> Result<(At, At, Vec<String>, Option<Changed>), String> {
        let (ctx, dep, locate) = (self.ctx, self.dep, self.locate);
        let (start_at, head_at) =
            tokio::join!(ctx.at(locate, dep, start), ctx.at(locate, dep, head));
        let (start_at, head_at) = (start_at?, head_at?);
        let same = start_at.repo == head_at.repo && start_at.dir == head_at.dir;
        // Both at once: the module's folders at the breaking release, and what changed.
        let (paths, changed) = tokio::join!(
            ctx.module_paths(&head_at.repo, &head_at.rev, &head_at.dir),
            async {
                match same {
                    true => ctx
                        .changed(&head_at.repo, &start_at.rev, &head_at.rev)
                        .await
                        .map(Some),
                    false => Ok(None),
                }
            }
        );
        Ok((start_at, head_at, paths?, changed?))
    }
}

/// The tag of a version as published.
fn tag_of(dep: &Dependency, v: &Version) -> String {
    dep.tags.get(v).cloned().unwrap_or_else(|| v.to_string())
}

/// Compares the interfaces at the two places (`from`, `to`; their versions as published in
/// `tags`) and says what checking the usages against the changes needs.
async fn interface_impact(
    ctx: &Ctx,
    (from, to): (&At, &At),
    (from_tag, to_tag): (String, String),
    usages: &Arc<[UsageAt]>,
    impact: &mut Impact,
) -> Result<Check, String> {
    let read = |files: Vec<(String, String)>| {
        Interface::read(files.iter().map(|(n, t)| (n.as_str(), t.as_str())))
    };
    let old_files = ctx.files_in(&from.repo, &from.rev, &from.dir).await?;
    let new_files = ctx.files_in(&to.repo, &to.rev, &to.dir).await?;
    for (files, at, tag) in [(&old_files, from, &from_tag), (&new_files, to, &to_tag)] {
        if files.is_empty() {
            let shown_dir = if at.dir.is_empty() {
                "the repository's root folder".to_string()
            } else {
                code(&at.dir)
            };
            return Err(format!(
                "{shown_dir} holds no Terraform files at {}: the module may have moved",
                tag_text(tag)
            ));
        }
    }
    let (old, new) = (read(old_files), read(new_files));
    if let Some(problem) = old.problems.iter().chain(&new.problems).next() {
        return Err(format!(
            "a file of the module cannot be read, so its interface is not known: {}",
            code(problem)
        ));
    }
    impact.changes = interface::diff(&old, &new);
    let outputs_removed = impact
        .changes
        .iter()
        .any(|c| matches!(c, Change::OutputRemoved { .. }));
    // Only the changed inputs are looked for.
    let names = impact
        .changes
        .iter()
        .filter_map(|c| c.name().map(str::to_string));
    Ok(Check {
        // Reading a usage's files costs a read and a parse: only when a change can reach it.
        reaches_usages: impact.changes.iter().any(|c| c.name().is_some()),
        outputs_removed,
        wanted: callsite::Wanted::inputs(names, outputs_removed),
        changes: impact.changes.clone(),
        shown_tag: tag_text(&to_tag),
        usages: usages.clone(),
    })
}

/// What checking one dependency's usages against the changes of its breaking release needs.
struct Check {
    /// Whether a change concerns an input or output, so that the usages' files must be read.
    reaches_usages: bool,
    /// Whether an output is removed, so that the reads of outputs are looked for.
    outputs_removed: bool,
    /// What to read of each call site.
    wanted: callsite::Wanted,
    /// The changes.
    changes: Vec<Change>,
    /// The breaking release, as shown in messages.
    shown_tag: String,
    /// The usages.
    usages: Arc<[UsageAt]>,
}

/// A usage checked: what it needs, and the manual steps.
type Checked = (UsageImpact, Vec<String>);

impl Check {
    /// Puts the usages checked, and the steps they ask for, into `impact`.
    fn finish(self, mut checked: Vec<Checked>, impact: &mut Impact) {
        checked.sort_by(|a, b| {
            (a.0.status, &a.0.file, a.0.line).cmp(&(b.0.status, &b.0.file, b.0.line))
        });
        let mut seen = BTreeSet::new();
        for (usage, steps) in checked {
            impact.usages.push(usage);
            impact
                .steps
                .extend(steps.into_iter().filter(|s| seen.insert(s.clone())));
        }
        impact
            .steps
            .extend(general_steps(&impact.changes, &self.shown_tag));
    }
}

/// The usages of one dependency to check, and where to send them checked.
type CheckJob = (Check, tokio::sync::oneshot::Sender<(Check, Vec<Checked>)>);

/// A thread that checks the usages of each dependency sent to it, one dependency at a time on
/// every core, as their changes become known: the checks overlap the other dependencies' waits
/// on the network, and never compete with each other for the cores. `reader` reads the call
/// sites, sharing what many of them read (includes, folders); `units` are the environment's
/// Terragrunt units, whose `dependency` blocks may read outputs (indexed on first need). It ends
/// when every sender is gone.
fn checker(reader: Arc<callsite::Reader>, units: Vec<String>) -> std::sync::mpsc::Sender<CheckJob> {
    let (jobs, queue) = std::sync::mpsc::channel::<CheckJob>();
    // Without the thread, every check is said not to have finished.
    let _ = std::thread::Builder::new()
        .name("impact-check".into())
        .spawn(move || {
            let mut dependents = None;
            for (check, reply) in queue {
                let checked = check_dependency(&reader, (&units, &mut dependents), &check);
                let _ = reply.send((check, checked));
            }
        });
    jobs
}

/// Checks the usages of one dependency, each file read once for all the usages it holds; the
/// results in the order of the usages.
fn check_dependency(
    reader: &callsite::Reader,
    (units, dependents): (&[String], &mut Option<callsite::Dependents>),
    check: &Check,
) -> Vec<Checked> {
    use rayon::prelude::*;
    // Indexed on first need, before the pool's tasks, and kept for the next dependencies.
    let terragrunt = check.usages.iter().any(|u| u.kind == UsageKind::Terragrunt);
    let readers = (check.outputs_removed && terragrunt)
        .then(|| &*dependents.get_or_insert_with(|| callsite::Dependents::index(reader, units)));
    // The usages, by the file they are in.
    let mut by_file: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (u, usage) in check.usages.iter().enumerate() {
        by_file.entry(usage.file.as_str()).or_default().push(u);
    }
    let by_file: Vec<(&str, Vec<usize>)> = by_file.into_iter().collect();
    let wanted = check.reaches_usages.then_some(&check.wanted);
    let done: Vec<Vec<(usize, Checked)>> = by_file
        .par_iter()
        .map(|(file, usages)| {
            let at = |u: usize| &check.usages[u];
            let sites = reader.read_file(
                file,
                usages.iter().map(|&u| (at(u).line, at(u).kind, wanted)),
            );
            usages
                .iter()
                .zip(sites)
                .map(|(&u, mut site)| {
                    if let (Some(readers), UsageKind::Terragrunt) = (readers, at(u).kind) {
                        readers.add_to(reader, file, &mut site);
                    }
                    (
                        u,
                        check_usage(at(u), &site, &check.changes, &check.shown_tag),
                    )
                })
                .collect()
        })
        .collect();
    let mut out: Vec<Option<Checked>> = (0..check.usages.len()).map(|_| None).collect();
    for (u, checked) in done.into_iter().flatten() {
        out[u] = Some(checked);
    }
    out.into_iter().flatten().collect()
}

/// The findings of one usage, and the manual step each one asks for.
pub fn check_usage(
    u: &UsageAt,
    site: &CallSite,
    changes: &[Change],
    tag: &str,
) -> (UsageImpact, Vec<String>) {
    let mut checks = Checks::default();
    for change in changes {
        match change {
            Change::InputRemoved { name } => checks.input_removed(site, name, tag),
            Change::InputRequired { name, .. } => checks.input_required(u, site, name, tag),
            Change::InputTypeChanged { name, from, to } => {
                checks.input_type_changed(site, name, from, to, tag)
            }
            Change::OutputRemoved { name } => checks.output_removed(site, name, tag),
            Change::ProviderTightened { .. } | Change::TerraformTightened { .. } => {}
        }
    }
    checks.hidden_by_unknowns(site, tag);
    checks.finish(u)
}

/// What checking one usage gathers: each finding with the manual step it asks for, and the
/// changed inputs and outputs Baton does not see the usage pass or read.
#[derive(Default)]
struct Checks {
    /// Each finding, with its step.
    found: Vec<(Finding, String)>,
    /// The changed inputs Baton does not see the usage pass, as named in messages.
    hidden_inputs: Vec<String>,
    /// The removed outputs Baton does not see it read.
    hidden_outputs: Vec<String>,
}

/// A place as shown in steps: `file:line`, as code.
fn shown_at(file: &str, line: usize) -> String {
    code(&format!("{file}:{line}"))
}

impl Checks {
    /// Adds a finding at `file:line` and the step it asks for.
    fn push(&mut self, file: &str, line: usize, severity: Severity, message: String, step: String) {
        self.found.push((
            Finding {
                file: file.to_string(),
                line,
                severity,
                message,
            },
            step,
        ));
    }

    /// A removed input: an error where the usage passes it.
    fn input_removed(&mut self, site: &CallSite, name: &str, tag: &str) {
        match site.passes.get(name) {
            Some(p) => self.push(
                &p.at.file,
                p.at.line,
                Severity::Error,
                format!("passes {}, removed in {tag}", code(name)),
                format!(
                    "Remove {} at {}: the input is removed in {tag}.",
                    code(name),
                    shown_at(&p.at.file, p.at.line)
                ),
            ),
            None => self.hidden_inputs.push(format!("{} (removed)", code(name))),
        }
    }

    /// An input now required: an error at the usage when it does not pass it and nothing
    /// hides its inputs.
    fn input_required(&mut self, u: &UsageAt, site: &CallSite, name: &str, tag: &str) {
        if site.passes.contains_key(name) {
            return;
        }
        if !site.inputs_complete() {
            self.hidden_inputs
                .push(format!("{} (now required)", code(name)));
            return;
        }
        let step = match u.kind {
            UsageKind::Module => format!(
                "Add the argument {} to the module block at {} (required since {tag}).",
                code(name),
                shown_at(&u.file, u.line)
            ),
            _ => format!(
                "Add {} to the `inputs` of {} (required since {tag}).",
                code(name),
                code(&u.file)
            ),
        };
        self.push(
            &u.file,
            u.line,
            Severity::Error,
            format!("does not pass {}, required since {tag}", code(name)),
            step,
        );
    }

    /// An input whose type changed, where the usage passes it: an error when it passes a
    /// literal of another type, else a value to check.
    fn input_type_changed(
        &mut self,
        site: &CallSite,
        name: &str,
        from: &Option<String>,
        to: &Option<String>,
        tag: &str,
    ) {
        let shown = |t: &Option<String>| t.as_deref().map_or("any".to_string(), code);
        let Some(p) = site.passes.get(name) else {
            self.hidden_inputs
                .push(format!("{} (type changed)", code(name)));
            return;
        };
        let wrong = match (p.literal, to) {
            (Some(kind), Some(ty)) => callsite::mismatch(kind, ty),
            _ => false,
        };
        let (severity, message, step) = if wrong {
            (
                Severity::Error,
                format!(
                    "passes {} as a {}, but its type is {} since {tag}",
                    code(name),
                    p.literal.unwrap_or("value"),
                    shown(to)
                ),
                format!(
                    "Give {} at {} a value of type {} (its type since {tag}).",
                    code(name),
                    shown_at(&p.at.file, p.at.line),
                    shown(to)
                ),
            )
        } else {
            (
                Severity::Check,
                format!(
                    "passes {}, whose type changed from {} to {} in {tag}: check the value",
                    code(name),
                    shown(from),
                    shown(to)
                ),
                format!(
                    "Check that {} at {} is a {} (its type since {tag}; it was {}).",
                    code(name),
                    shown_at(&p.at.file, p.at.line),
                    shown(to),
                    shown(from)
                ),
            )
        };
        self.push(&p.at.file, p.at.line, severity, message, step);
    }

    /// A removed output: an error at each place the usage reads it.
    fn output_removed(&mut self, site: &CallSite, name: &str, tag: &str) {
        let mut read = false;
        for r in site.reads.iter().filter(|r| r.output == name) {
            read = true;
            self.push(
                &r.at.file,
                r.at.line,
                Severity::Error,
                format!("reads {}, removed in {tag}", code(&r.text)),
                format!(
                    "Replace {} at {}: the output {} is removed in {tag}.",
                    code(&r.text),
                    shown_at(&r.at.file, r.at.line),
                    code(name)
                ),
            );
        }
        if !read {
            self.hidden_outputs
                .push(format!("{} (removed)", code(name)));
        }
    }

    /// An unknown finding at each place of the call site that may hide the changed inputs or
    /// outputs Baton did not see.
    fn hidden_by_unknowns(&mut self, site: &CallSite, tag: &str) {
        for unknown in &site.unknowns {
            let (list, verb) = if unknown.inputs {
                (&self.hidden_inputs, "passes")
            } else {
                (&self.hidden_outputs, "reads")
            };
            if list.is_empty() {
                continue;
            }
            let message = format!(
                "{}: Baton cannot tell whether it {verb} {} in {tag}",
                unknown.what,
                list.join(", ")
            );
            let step = format!(
                "Check {} by hand: {message}.",
                shown_at(&unknown.at.file, unknown.at.line)
            );
            self.push(
                &unknown.at.file,
                unknown.at.line,
                Severity::Unknown,
                message,
                step,
            );
        }
    }

    /// The usage's impact, its findings worst first, then by place, and their steps in the
    /// same order.
    fn finish(mut self, u: &UsageAt) -> (UsageImpact, Vec<String>) {
        self.found.sort_by(|a, b| {
            (a.0.severity, &a.0.file, a.0.line).cmp(&(b.0.severity, &b.0.file, b.0.line))
        });
        let status = match self.found.first().map(|f| f.0.severity) {
            Some(Severity::Error) => UsageStatus::NeedsChange,
            Some(Severity::Check) => UsageStatus::Check,
            Some(Severity::Unknown) => UsageStatus::Unknown,
            None => UsageStatus::NoChange,
        };
        let (findings, steps) = self.found.into_iter().unzip();
        (
            UsageImpact {
                file: u.file.clone(),
                line: u.line,
                status,
                findings,
            },
            steps,
        )
    }
}

/// The steps that concern the whole environment: provider and Terraform versions, then reading
/// the release notes and planning.
fn general_steps(changes: &[Change], tag: &str) -> Vec<String> {
    let was = |from: &Option<String>| {
        from.as_deref()
            .map_or(String::new(), |f| format!(", was {}", code(f)))
    };
    let mut out = Vec::new();
    for c in changes {
        match c {
            Change::ProviderTightened {
                name,
                source,
                from,
                to,
            } => out.push(format!(
                "Use a version of the provider {} that meets {} ({tag} requires it{}): run `init -upgrade` in each folder of this update.",
                code(source.as_deref().unwrap_or(name)),
                to.as_deref().map_or("the new requirement".into(), code),
                was(from)
            )),
            Change::TerraformTightened { from, to } => out.push(format!(
                "Run a Terraform or OpenTofu version that meets {} ({tag} requires it{}).",
                code(to),
                was(from)
            )),
            _ => {}
        }
    }
    out.push(format!(
        "Read the release notes of {tag} for changes an interface does not show (resources replaced, renamed or moved), and run `plan` in each folder of this update."
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find::callsite::{Passed, Place, Read, Unknown};

    fn usage(file: &str, line: usize, kind: UsageKind) -> UsageAt {
        UsageAt {
            file: file.to_string(),
            line,
            kind,
        }
    }

    fn place(file: &str, line: usize) -> Place {
        Place {
            file: file.into(),
            line,
        }
    }

    fn changes() -> Vec<Change> {
        vec![
            Change::InputRemoved {
                name: "enable_classiclink".into(),
            },
            Change::InputRequired {
                name: "cidr_block".into(),
                new: false,
            },
            Change::InputTypeChanged {
                name: "azs".into(),
                from: Some("string".into()),
                to: Some("list(string)".into()),
            },
            Change::OutputRemoved {
                name: "nat_ids".into(),
            },
        ]
    }

    #[test]
    fn each_kind_of_change_meets_each_kind_of_use() {
        let mut site = CallSite::default();
        site.passes.insert(
            "enable_classiclink".into(),
            Passed {
                at: place("dev/app/vpc/terragrunt.hcl", 12),
                literal: Some("bool"),
            },
        );
        site.passes.insert(
            "azs".into(),
            Passed {
                at: place("_envcommon/vpc.hcl", 3),
                literal: Some("string"),
            },
        );
        site.reads.push(Read {
            output: "nat_ids".into(),
            text: "module.vpc.nat_ids".into(),
            at: place("dev/tf-root/main.tf", 40),
        });
        let u = usage("dev/app/vpc/terragrunt.hcl", 2, UsageKind::Terragrunt);
        let (got, steps) = check_usage(&u, &site, &changes(), "v5.0.0");
        let lines: Vec<String> = got
            .findings
            .iter()
            .map(|f| format!("{}:{} {}", f.file, f.line, f.message))
            .collect();
        assert_eq!(
            lines,
            [
                "_envcommon/vpc.hcl:3 passes `azs` as a string, but its type is `list(string)` since v5.0.0",
                "dev/app/vpc/terragrunt.hcl:2 does not pass `cidr_block`, required since v5.0.0",
                "dev/app/vpc/terragrunt.hcl:12 passes `enable_classiclink`, removed in v5.0.0",
                "dev/tf-root/main.tf:40 reads `module.vpc.nat_ids`, removed in v5.0.0",
            ]
        );
        assert_eq!(got.status, UsageStatus::NeedsChange);
        assert_eq!(
            steps,
            [
                "Give `azs` at `_envcommon/vpc.hcl:3` a value of type `list(string)` (its type since v5.0.0).",
                "Add `cidr_block` to the `inputs` of `dev/app/vpc/terragrunt.hcl` (required since v5.0.0).",
                "Remove `enable_classiclink` at `dev/app/vpc/terragrunt.hcl:12`: the input is removed in v5.0.0.",
                "Replace `module.vpc.nat_ids` at `dev/tf-root/main.tf:40`: the output `nat_ids` is removed in v5.0.0.",
            ]
        );
    }

    #[test]
    fn a_value_whose_type_changed_is_to_be_checked_unless_it_clearly_does_not_fit() {
        let mut site = CallSite::default();
        site.passes.insert(
            "azs".into(),
            Passed {
                at: place("dev/c/main.tf", 7),
                literal: None,
            },
        );
        let u = usage("dev/c/main.tf", 2, UsageKind::Module);
        let only_type = [Change::InputTypeChanged {
            name: "azs".into(),
            from: Some("string".into()),
            to: Some("list(string)".into()),
        }];
        let (got, steps) = check_usage(&u, &site, &only_type, "v5.0.0");
        assert_eq!(got.status, UsageStatus::Check);
        assert_eq!(
            got.findings[0].message,
            "passes `azs`, whose type changed from `string` to `list(string)` in v5.0.0: check the value"
        );
        assert_eq!(
            steps,
            [
                "Check that `azs` at `dev/c/main.tf:7` is a `list(string)` (its type since v5.0.0; it was `string`)."
            ]
        );
        // A required input missing from a module block asks for the argument.
        let required = [Change::InputRequired {
            name: "cidr_block".into(),
            new: true,
        }];
        let (got, steps) = check_usage(&u, &site, &required, "v5.0.0");
        assert_eq!(got.status, UsageStatus::NeedsChange);
        assert_eq!(
            steps,
            [
                "Add the argument `cidr_block` to the module block at `dev/c/main.tf:2` (required since v5.0.0)."
            ]
        );
    }

    #[test]
    fn hidden_inputs_are_unknown_not_guessed() {
        let mut site = CallSite::default();
        site.unknowns.push(Unknown {
            at: place("dev/a/terragrunt.hcl", 9),
            what: "`inputs` takes values from `local.common`, which Baton does not evaluate".into(),
            inputs: true,
        });
        site.passes.insert(
            "cidr_block".into(),
            Passed {
                at: place("dev/a/terragrunt.hcl", 10),
                literal: None,
            },
        );
        let u = usage("dev/a/terragrunt.hcl", 2, UsageKind::Terragrunt);
        let (got, steps) = check_usage(&u, &site, &changes(), "v5.0.0");
        assert_eq!(got.status, UsageStatus::Unknown);
        assert_eq!(got.findings.len(), 1, "{:?}", got.findings);
        assert_eq!(
            got.findings[0].message,
            "`inputs` takes values from `local.common`, which Baton does not evaluate: Baton cannot tell whether it passes `enable_classiclink` (removed), `azs` (type changed) in v5.0.0"
        );
        assert!(steps[0].starts_with("Check `dev/a/terragrunt.hcl:9` by hand: "));
    }

    #[test]
    fn a_usage_untouched_by_the_changes_needs_nothing() {
        let mut site = CallSite::default();
        site.passes.insert(
            "name".into(),
            Passed {
                at: place("dev/b/main.tf", 4),
                literal: Some("string"),
            },
        );
        site.passes.insert(
            "cidr_block".into(),
            Passed {
                at: place("dev/b/main.tf", 5),
                literal: Some("string"),
            },
        );
        let u = usage("dev/b/main.tf", 2, UsageKind::Module);
        let (got, steps) = check_usage(&u, &site, &changes(), "v5.0.0");
        assert_eq!(got.status, UsageStatus::NoChange);
        assert!(got.findings.is_empty() && steps.is_empty());
    }

    #[test]
    fn code_spans_hold_backticks_and_tags_stay_plain() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(code("x\ny"), "`x y`");
        assert_eq!(tag_text("v5.0.0"), "v5.0.0");
        assert_eq!(tag_text("modules/vpc/v1.0.0"), "modules/vpc/v1.0.0");
        assert_eq!(tag_text("v1<script>"), "`v1<script>`");
    }

    #[test]
    fn local_module_paths_stay_in_the_repository() {
        assert_eq!(
            join_repo_path("modules/vpc", "../common").as_deref(),
            Some("modules/common")
        );
        assert_eq!(join_repo_path("", "./x").as_deref(), Some("x"));
        assert_eq!(join_repo_path("a", "../../x"), None);
    }
}
