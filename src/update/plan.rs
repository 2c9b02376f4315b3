//! Turns targets (dependency → version) into verified edits of the environment's files: every
//! usage's version bytes are replaced in the style they were written, and nothing else, in the
//! file that writes them. A version written in a shared file (a map in `_common/common.hcl`) is
//! edited there only when every file that reads it belongs to the environment being updated and
//! is updated to the same version; otherwise that dependency is refused with the reason.

use crate::find::hcl::{self, FileKind, Files, LoadedFile, VersionForm};
use crate::find::scan::{self, DiskFiles, ScanReport, ScanRequest, Usage};
use crate::spec::{SkippedUsage, Spec, Strategy};
use crate::update::edit::{self, EditError, Site, Splice};
use crate::version::{self, Constraint, Version};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Threads writing files (see [`edit::write_all_checked`]): they wait on the disk, and the more
/// flushes run at once, the more share one journal commit of the file system.
const WRITERS: usize = 32;

/// How many readers of a shared file a message names before it says "and N more".
const NAMED: usize = 5;

/// One version changed in one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// File relative to the working directory: where the version is written.
    pub file: String,
    /// Line of the version.
    pub line: usize,
    /// Dependency ID.
    pub dependency: String,
    /// The version as it was written.
    pub from: String,
    /// The version as it is now written.
    pub to: String,
    /// When `file` is a shared file: every file whose usage takes its version from it, all in
    /// the environment being updated.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub used_by: Vec<String>,
    /// What the scan assumed to find this version (`get_env("X", "v1")` taken as its default).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// The new contents of one file.
#[derive(Debug, Clone)]
pub struct FileEdit {
    /// File relative to the working directory.
    pub file: String,
    /// Absolute path.
    pub path: PathBuf,
    /// Contents before.
    pub old: String,
    /// Contents after.
    pub new: String,
}

/// A file whose edit was refused (the file is left as it was).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EditFailure {
    /// File relative to the working directory.
    pub file: String,
    /// Why.
    pub message: String,
}

/// What an update would do.
#[derive(Debug, Clone, Default)]
pub struct UpdatePlan {
    /// Verified new file contents.
    pub files: Vec<FileEdit>,
    /// Every version changed.
    pub changes: Vec<Change>,
    /// Usages of the targeted dependencies that cannot be updated.
    pub skipped: Vec<SkippedUsage>,
    /// Files whose edit failed verification or could not be read, and versions whose edit was
    /// refused.
    pub failures: Vec<EditFailure>,
}

/// A target that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// The dependency is not in the spec.
    #[error(
        "dependency {0:?} is not in the spec; run `baton report` to see which dependencies have updates"
    )]
    NotInSpec(String),
    /// A target is not a version.
    #[error("the spec's target for {id} is {value:?}, which is not a version")]
    NotAVersion {
        /// Dependency ID.
        id: String,
        /// The offending value.
        value: String,
    },
}

/// The target of each dependency of a spec for a strategy (optionally one dependency only).
/// Dependencies without a target for the strategy are left out.
pub fn targets_from_spec(
    spec: &Spec,
    strategy: Strategy,
    only: Option<&str>,
) -> Result<BTreeMap<String, Version>, TargetError> {
    if let Some(id) = only {
        if spec.dependency(id).is_none() {
            return Err(TargetError::NotInSpec(id.to_string()));
        }
    }
    let mut out = BTreeMap::new();
    for dep in &spec.dependencies {
        if only.is_some_and(|id| id != dep.id) {
            continue;
        }
        let Some(value) = dep.target(strategy) else {
            continue;
        };
        let v = version::parse_version(value).ok_or_else(|| TargetError::NotAVersion {
            id: dep.id.clone(),
            value: value.to_string(),
        })?;
        out.insert(dep.id.clone(), v);
    }
    Ok(out)
}

/// How a plan treats the versions it meets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanOptions {
    /// Move a usage that is newer than its target down to it. Only an explicit request for a
    /// version (a rollback) may set this; otherwise such a usage is never touched and is listed
    /// as skipped ("already at v0.97.0, newer than the target 0.95.1").
    pub allow_downgrade: bool,
}

/// Why a usage is left alone because it is already newer than `target`: a pinned version above
/// it, or a registry range whose lowest admitted version is above it. `None`: it may move.
pub fn newer_than_target(form: VersionForm, current: &str, target: &Version) -> Option<String> {
    let pinned = match form {
        VersionForm::GitRef | VersionForm::QueryVersion => version::split_tag(current)
            .map(|(_, v)| v)
            .or_else(|| version::parse_version(current)),
        VersionForm::Attribute => {
            let c = Constraint::parse(current).ok()?;
            match c.exact() {
                Some(v) => Some(v),
                None => {
                    let floor = c.floor()?;
                    return (!c.matches(target) && newer(&floor, target)).then(|| {
                        format!(
                            "already at {current}, which admits only versions newer than the target {target}"
                        )
                    });
                }
            }
        }
    }?;
    newer(&pinned, target).then(|| format!("already at {current}, newer than the target {target}"))
}

/// `a` is newer than `b` by precedence (build metadata does not count).
fn newer(a: &Version, b: &Version) -> bool {
    (a.major, a.minor, a.patch, &a.pre) > (b.major, b.minor, b.patch, &b.pre)
}

/// Plans the edits for the targets over a scan of the working directory `root`. A usage newer
/// than its target is never moved down (see [`PlanOptions`]).
pub fn plan(root: &Path, report: &ScanReport, targets: &BTreeMap<String, Version>) -> UpdatePlan {
    plan_with(root, report, targets, PlanOptions::default())
}

/// [`plan`] with options.
pub fn plan_with(
    root: &Path,
    report: &ScanReport,
    targets: &BTreeMap<String, Version>,
    options: PlanOptions,
) -> UpdatePlan {
    plan_with_constraints(root, report, targets, &BTreeMap::new(), options)
}

/// The registry ranges a spec promotes as written (`TargetConstraint`), by dependency.
pub fn constraints_from_spec(spec: &Spec, only: Option<&str>) -> BTreeMap<String, String> {
    spec.dependencies
        .iter()
        .filter(|d| only.is_none_or(|id| id == d.id))
        .filter_map(|d| Some((d.id.clone(), d.target_constraint.clone()?)))
        .collect()
}

/// The new text of a usage whose target is a registry range written as it is in the previous
/// environment (`constraint`), or why it stays: `Ok(None)` when it already reads so.
pub fn constraint_text(
    form: VersionForm,
    current: &str,
    constraint: &str,
    options: PlanOptions,
) -> Result<Option<String>, String> {
    let target = Constraint::parse(constraint).map_err(|e| e.to_string())?;
    if form != VersionForm::Attribute {
        return Err(format!(
            "the target is the range {constraint}, which a version pin cannot hold"
        ));
    }
    if current.trim() == constraint.trim() {
        return Ok(None);
    }
    if !options.allow_downgrade {
        let now = Constraint::parse(current)
            .ok()
            .and_then(|c| c.exact().or_else(|| c.floor()));
        if let (Some(now), Some(floor)) = (now, target.floor()) {
            if newer(&now, &floor) {
                return Err(format!(
                    "already at {current}, newer than the target {constraint}"
                ));
            }
        }
    }
    Ok(Some(constraint.trim().to_string()))
}

/// A version site: the file that writes it (relative to the working directory) and its bytes.
type SiteKey = (String, usize, usize);

fn site_key(u: &Usage, span: &Range<usize>) -> SiteKey {
    (u.version_file().to_string(), span.start, span.end)
}

/// A file's old and new text, or why it could not be spliced.
type Spliced = Result<(String, String), String>;

/// One targeted usage and the text its version gets.
struct Edit<'a> {
    usage: &'a Usage,
    new: String,
}

/// Targeted usages by the version site they edit.
type Edits<'a> = BTreeMap<SiteKey, Vec<Edit<'a>>>;

/// Who reads each version site of the environment.
type Readers<'a> = HashMap<SiteKey, Vec<&'a Usage>>;

/// Refused dependencies, each with the first reason given.
type Refused = BTreeMap<String, String>;

/// Old and new text of each spliced file, by file relative to the working directory.
type Texts = BTreeMap<String, (String, String)>;

/// Why a file stays as it is, by file relative to the working directory.
type Failed = BTreeMap<String, String>;

/// [`plan_with`] where some targets are registry ranges written as they are (`constraints`, by
/// dependency): a usage's `version` attribute becomes exactly that text.
///
/// The checks run in order: the targeted usages and their new text, the refusals (inside the
/// environment, then for shared files read from outside it), the splices, the verification of
/// every file that reads an edited version, and finally what is written and changed.
pub fn plan_with_constraints(
    root: &Path,
    report: &ScanReport,
    targets: &BTreeMap<String, Version>,
    constraints: &BTreeMap<String, String>,
    options: PlanOptions,
) -> UpdatePlan {
    let mut plan = UpdatePlan::default();
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let readers = readers_by_site(report);
    let mut edits = targeted_edits(report, targets, constraints, options, &mut plan);

    // Refusals: a version that would move two ways, or that moves something not being updated
    // to it. The whole dependency is left alone, so an environment never gets half an update.
    let mut refused = Refused::new();
    let shared_sites = refuse_in_environment(&edits, &readers, &mut plan, &mut refused);
    let repo = scan::repository_root(&root);
    if shared_sites {
        refuse_read_outside(&root, &repo, report, &edits, &mut plan, &mut refused);
    }
    drop_refused(&mut edits, &refused, &mut plan);

    let by_file = splices_by_file(&edits);
    if by_file.is_empty() {
        return plan;
    }
    let files = DiskFiles::within(&repo);
    let (texts, mut failed) = splice_files(&root, &by_file);
    verify(&root, &files, &edits, &texts, &mut failed);
    record_files(&mut plan, &root, texts, &failed);
    record_changes(&mut plan, &edits);
    plan
}

/// Who reads each version site of the environment.
fn readers_by_site(report: &ScanReport) -> Readers<'_> {
    let mut readers = Readers::new();
    for u in &report.usages {
        if let Some(site) = &u.site {
            readers.entry(site_key(u, &site.span)).or_default().push(u);
        }
    }
    readers
}

/// The targeted usages, by the site they edit, each with the text its version gets. A usage
/// that cannot or must not move is listed in `plan.skipped` with the reason.
fn targeted_edits<'a>(
    report: &'a ScanReport,
    targets: &BTreeMap<String, Version>,
    constraints: &BTreeMap<String, String>,
    options: PlanOptions,
    plan: &mut UpdatePlan,
) -> Edits<'a> {
    let mut edits = Edits::new();
    for u in &report.usages {
        let Some(target) = u.dependency.as_ref().and_then(|id| targets.get(id)) else {
            continue;
        };
        if let Some(reason) = &u.skipped {
            plan.skipped.push(SkippedUsage::of(u, reason));
            continue;
        }
        let (Some(site), Some(current)) = (&u.site, &u.current) else {
            continue;
        };
        match new_text(u, site.form, current, target, constraints, options) {
            Ok(Some(new)) => edits
                .entry(site_key(u, &site.span))
                .or_default()
                .push(Edit { usage: u, new }),
            Ok(None) => {}
            Err(reason) => plan.skipped.push(SkippedUsage::of(u, &reason)),
        }
    }
    edits
}

/// The new text of a targeted usage's version: `Ok(None)` when it stays as it is, `Err` with the
/// reason when it is skipped.
fn new_text(
    u: &Usage,
    form: VersionForm,
    current: &str,
    target: &Version,
    constraints: &BTreeMap<String, String>,
    options: PlanOptions,
) -> Result<Option<String>, String> {
    let dependency = u.dependency.clone().unwrap_or_default();
    match constraints.get(&dependency) {
        Some(constraint) => constraint_text(form, current, constraint, options),
        None => {
            if !options.allow_downgrade
                && let Some(reason) = newer_than_target(form, current, target)
            {
                return Err(reason);
            }
            Ok(edit::new_version_text(form, current, target))
        }
    }
}

/// Refuses the dependencies of a site in `file`: the message is an error of the file, and the
/// reason each dependency is left alone (the first one given counts).
fn refuse(
    plan: &mut UpdatePlan,
    refused: &mut Refused,
    deps: Vec<String>,
    file: &str,
    message: String,
) {
    plan.failures.push(EditFailure {
        file: file.to_string(),
        message: message.clone(),
    });
    for d in deps {
        refused.entry(d).or_insert_with(|| message.clone());
    }
}

/// The dependencies that edit a site, each once.
fn dependencies(list: &[Edit]) -> Vec<String> {
    list.iter()
        .filter_map(|e| e.usage.dependency.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Whether an edit's dependency was refused.
fn is_refused(refused: &Refused, e: &Edit) -> bool {
    e.usage
        .dependency
        .as_ref()
        .is_some_and(|d| refused.contains_key(d))
}

/// Refusals inside the environment: a site that would move two ways, or that a usage not being
/// updated to the same version also reads. Returns whether any site not refused is in a shared
/// file (read by usages in other files than the one that writes it).
fn refuse_in_environment(
    edits: &Edits,
    readers: &Readers,
    plan: &mut UpdatePlan,
    refused: &mut Refused,
) -> bool {
    let mut shared_sites = false;
    for (key, list) in edits {
        let file = &key.0;
        let line = list[0].usage.version_line();
        if let Some(other) = list.iter().find(|e| e.new != list[0].new) {
            let message = format!(
                "the version at line {line} is shared by {} (to {}) and {} (to {}); update them one at a time or give each its own version",
                dep_of(list[0].usage),
                list[0].new,
                dep_of(other.usage),
                other.new
            );
            refuse(plan, refused, dependencies(list), file, message);
            continue;
        }
        let outsiders: Vec<&Usage> = readers
            .get(key)
            .into_iter()
            .flatten()
            .copied()
            .filter(|r| !list.iter().any(|e| std::ptr::eq(e.usage, *r)))
            .collect();
        if let Some(first) = outsiders.first() {
            let message = format!(
                "{file}:{line}: the version of {} is also read by {} ({}), which is not being updated to {}; nothing was written. Give each module its own version, or update them together",
                dep_of(list[0].usage),
                first.file,
                dep_of(first),
                list[0].new
            );
            refuse(plan, refused, dependencies(list), file, message);
            continue;
        }
        shared_sites |= list.iter().any(|e| e.usage.file != *file);
    }
    shared_sites
}

/// Shared-file check: a shared file may be read from other environments, so the whole
/// repository (`repo`) is scanned, and a shared site that files outside the environment also
/// read is refused.
fn refuse_read_outside(
    root: &Path,
    repo: &Path,
    report: &ScanReport,
    edits: &Edits,
    plan: &mut UpdatePlan,
    refused: &mut Refused,
) {
    let env_files: BTreeSet<PathBuf> = report.usages.iter().map(|u| root.join(&u.file)).collect();
    let wide = scan::scan(&ScanRequest {
        working_dir: repo.to_path_buf(),
        dirs: Default::default(),
    })
    .unwrap_or_default();
    let wide_readers = readers_in_repository(repo, &wide);
    for ((file, start, end), list) in edits {
        if list.iter().all(|e| e.usage.file == *file) || list.iter().any(|e| is_refused(refused, e))
        {
            continue;
        }
        let others: Vec<String> = wide_readers
            .get(&(root.join(file), *start..*end))
            .into_iter()
            .flatten()
            .filter(|u| !env_files.contains(&repo.join(&u.file)))
            .map(|u| shown_from(root, &repo.join(&u.file)))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if others.is_empty() {
            continue;
        }
        let line = list[0].usage.version_line();
        let message = format!(
            "{file}:{line}: the version of {} is written in this shared file, which {} outside the environment being updated also read{}; editing it would change them too, so nothing was written. Select every environment that reads it with --include-dirs, or write the version in each environment's own files",
            dep_of(list[0].usage),
            named(&others),
            if others.len() == 1 { "s" } else { "" },
        );
        refuse(plan, refused, dependencies(list), file, message);
    }
}

/// Who reads each version site of a scan of the whole repository, by the site's absolute path
/// and bytes.
fn readers_in_repository<'a>(
    repo: &Path,
    wide: &'a ScanReport,
) -> HashMap<(PathBuf, Range<usize>), Vec<&'a Usage>> {
    let mut wide_readers: HashMap<(PathBuf, Range<usize>), Vec<&Usage>> = HashMap::new();
    for u in &wide.usages {
        if let Some(site) = &u.site {
            wide_readers
                .entry((repo.join(u.version_file()), site.span.clone()))
                .or_default()
                .push(u);
        }
    }
    wide_readers
}

/// The usages of refused dependencies are listed as not updated, and their edits dropped.
fn drop_refused(edits: &mut Edits, refused: &Refused, plan: &mut UpdatePlan) {
    for list in edits.values() {
        for e in list {
            if is_refused(refused, e) {
                plan.skipped.push(SkippedUsage::of(
                    e.usage,
                    &format!(
                        "not updated: the update of {} was refused (see errors)",
                        dep_of(e.usage)
                    ),
                ));
            }
        }
    }
    edits.retain(|_, list| !list.iter().any(|e| is_refused(refused, e)));
}

/// The splices, by the file that writes them.
fn splices_by_file(edits: &Edits) -> BTreeMap<String, Vec<Splice>> {
    let mut by_file: BTreeMap<String, Vec<Splice>> = BTreeMap::new();
    for ((file, _, _), list) in edits {
        let u = list[0].usage;
        if let (Some(site), Some(current)) = (&u.site, &u.current) {
            by_file
                .entry(file.clone())
                .or_default()
                .push(edit::splice_for(site, current, list[0].new.clone()));
        }
    }
    by_file
}

/// Splices every file (and proves it still parses): the old and new texts of those that could
/// be spliced, and why the others could not.
fn splice_files(root: &Path, by_file: &BTreeMap<String, Vec<Splice>>) -> (Texts, Failed) {
    let spliced: Vec<(String, Spliced)> = by_file
        .par_iter()
        .map(|(file, splices)| (file.clone(), splice_file(&root.join(file), splices)))
        .collect();
    let mut texts = Texts::new();
    let mut failed = Failed::new();
    for (file, result) in spliced {
        match result {
            Ok(t) => {
                texts.insert(file, t);
            }
            Err(message) => {
                failed.insert(file, message);
            }
        }
    }
    (texts, failed)
}

/// One file's old and new text, once it is read, spliced and parsed again.
fn splice_file(path: &Path, splices: &[Splice]) -> Spliced {
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read: {e}"))
        .and_then(|old| {
            let new = edit::apply(&old, splices).map_err(|e| e.to_string())?;
            hcl::load_text(path, &new).map_err(|e| {
                format!(
                    "the edited file fails verification: does not parse at {}:{}: {}",
                    e.line, e.column, e.message
                )
            })?;
            Ok((old, new))
        })
}

/// Verification: finds the usages again in every file that holds or reads an edited version,
/// reading the other edited files as they will be. A file that fails stays as it is (in
/// `failed`), and so does every edit no file was seen reading in place.
fn verify(root: &Path, files: &DiskFiles, edits: &Edits, texts: &Texts, failed: &mut Failed) {
    let overlay = Overlay {
        base: files,
        edited: texts
            .iter()
            .filter_map(|(file, (_, new))| {
                let path = hcl::normalize(&root.join(file));
                let loaded = hcl::load_text(&path, new).ok()?;
                Some((path, Arc::new(loaded)))
            })
            .collect(),
    };
    let expected: HashMap<Site, String> = edits
        .iter()
        .filter(|((file, _, _), _)| texts.contains_key(file))
        .map(|((file, start, end), list)| {
            (
                (hcl::normalize(&root.join(file)), *start..*end),
                list[0].new.clone(),
            )
        })
        .collect();
    let mut to_verify: BTreeSet<&str> = BTreeSet::new();
    for ((file, _, _), list) in edits {
        if !texts.contains_key(file) {
            continue;
        }
        for e in list {
            to_verify.insert(e.usage.file.as_str());
        }
    }
    let verified: Vec<(&str, Result<Vec<Site>, String>)> = to_verify
        .par_iter()
        .map(|&file| {
            let result = verify_file(root, file, texts, files, &overlay, &expected);
            (file, result)
        })
        .collect();
    let mut matched: HashSet<Site> = HashSet::new();
    for (file, result) in verified {
        match result {
            Ok(sites) => matched.extend(sites),
            Err(message) => fail_unverified(edits, texts, file, message, failed),
        }
    }
    require_seen(root, edits, texts, &matched, failed);
}

/// Finds one file's usages again, before and after the edits: the edited sites it reads as
/// expected, or why it fails.
fn verify_file(
    root: &Path,
    file: &str,
    texts: &Texts,
    files: &DiskFiles,
    overlay: &Overlay,
    expected: &HashMap<Site, String>,
) -> Result<Vec<Site>, String> {
    let path = root.join(file);
    let kind = FileKind::of(&path).ok_or("not a Terraform or Terragrunt file")?;
    let (old, new) = match texts.get(file) {
        Some((old, new)) => (old.clone(), new.clone()),
        None => {
            let t = std::fs::read_to_string(&path).map_err(|e| format!("cannot read: {e}"))?;
            (t.clone(), t)
        }
    };
    edit::verify_found(&path, kind, &old, &new, files, overlay, &|site| {
        expected.get(site).map(String::as_str)
    })
    .map_err(|e: EditError| e.to_string())
}

/// A file that failed verification stays as it is, and so does every shared file it reads an
/// edited version from.
fn fail_unverified(edits: &Edits, texts: &Texts, file: &str, message: String, failed: &mut Failed) {
    for ((vfile, _, _), list) in edits {
        if list.iter().any(|e| e.usage.file == file) && vfile != file {
            failed
                .entry(vfile.clone())
                .or_insert_with(|| format!("its edit could not be verified in {file}: {message}"));
        }
    }
    if texts.contains_key(file) {
        failed.entry(file.to_string()).or_insert(message);
    }
}

/// Every edit must have been seen in place by some file that reads it (`matched`).
fn require_seen(
    root: &Path,
    edits: &Edits,
    texts: &Texts,
    matched: &HashSet<Site>,
    failed: &mut Failed,
) {
    for (file, start, end) in edits.keys() {
        if texts.contains_key(file)
            && !failed.contains_key(file)
            && !matched.contains(&(hcl::normalize(&root.join(file)), *start..*end))
        {
            failed.insert(
                file.clone(),
                format!(
                    "the edited file fails verification: the version at bytes {start}..{end} is read by no module source after the edit"
                ),
            );
        }
    }
}

/// The files that failed go to `plan.failures`; the others are the files written.
fn record_files(plan: &mut UpdatePlan, root: &Path, texts: Texts, failed: &Failed) {
    for (file, message) in failed {
        plan.failures.push(EditFailure {
            file: file.clone(),
            message: message.clone(),
        });
    }
    for (file, (old, new)) in texts {
        if failed.contains_key(&file) {
            continue;
        }
        plan.files.push(FileEdit {
            path: root.join(&file),
            file,
            old,
            new,
        });
    }
}

/// Every version changed in the files written: one change per shared site (with the files that
/// read it), one per usage elsewhere, sorted by file, line and dependency.
fn record_changes(plan: &mut UpdatePlan, edits: &Edits) {
    let written: HashSet<&str> = plan.files.iter().map(|f| f.file.as_str()).collect();
    for ((file, _, _), list) in edits {
        if !written.contains(file.as_str()) {
            continue;
        }
        let first = list[0].usage;
        let line = first.version_line();
        let shared = list.iter().any(|e| e.usage.file != *file);
        if shared {
            let used_by: Vec<String> = list
                .iter()
                .map(|e| e.usage.file.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut notes: Vec<String> = Vec::new();
            for n in list.iter().flat_map(|e| &e.usage.notes) {
                if !notes.contains(n) {
                    notes.push(n.clone());
                }
            }
            plan.changes.push(Change {
                file: file.clone(),
                line,
                dependency: first.dependency.clone().unwrap_or_default(),
                from: first.current.clone().unwrap_or_default(),
                to: list[0].new.clone(),
                used_by,
                notes,
            });
        } else {
            for e in list {
                plan.changes.push(Change {
                    file: file.clone(),
                    line,
                    dependency: e.usage.dependency.clone().unwrap_or_default(),
                    from: e.usage.current.clone().unwrap_or_default(),
                    to: e.new.clone(),
                    used_by: Vec::new(),
                    notes: e.usage.notes.clone(),
                });
            }
        }
    }
    plan.changes
        .sort_by(|a, b| (&a.file, a.line, &a.dependency).cmp(&(&b.file, b.line, &b.dependency)));
}

fn dep_of(u: &Usage) -> &str {
    u.dependency.as_deref().unwrap_or("a module without an ID")
}

/// A path as messages show it: relative to the working directory when inside it.
fn shown_from(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) => scan::relative_name(rel),
        Err(_) => path.display().to_string(),
    }
}

/// `a, b and c`, or the first few and how many more.
fn named(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(NAMED).map(String::as_str).collect();
    let mut out = match shown.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    if items.len() > NAMED {
        out = format!("{} and {} more", shown.join(", "), items.len() - NAMED);
    }
    out
}

/// The files on disk, with the edited ones as they will be.
struct Overlay<'a> {
    base: &'a dyn Files,
    edited: HashMap<PathBuf, Arc<LoadedFile>>,
}

impl Files for Overlay<'_> {
    fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String> {
        match self.edited.get(&hcl::normalize(path)) {
            Some(loaded) => Ok(loaded.clone()),
            None => self.base.load(path),
        }
    }

    fn exists(&self, path: &Path) -> bool {
        self.base.exists(path)
    }

    fn may_read(&self, path: &Path) -> Result<(), String> {
        self.base.may_read(path)
    }

    fn show(&self, path: &Path) -> String {
        self.base.show(path)
    }
}

/// Writes the planned files atomically, several at a time; returns the failures in plan order
/// (other files are still written).
pub fn write(plan: &UpdatePlan) -> Vec<EditFailure> {
    // Each file is replaced only if it still holds the bytes the plan was made from.
    let files: Vec<edit::Replacement<'_>> = plan
        .files
        .iter()
        .map(|f| edit::Replacement {
            path: &f.path,
            old: &f.old,
            new: &f.new,
        })
        .collect();
    plan.files
        .iter()
        .zip(edit::write_all_checked(&files, WRITERS))
        .filter_map(|(f, written)| {
            written.err().map(|e| EditFailure {
                file: f.file.clone(),
                message: e.to_string(),
            })
        })
        .collect()
}

/// The plan as unified diffs.
pub fn diff(plan: &UpdatePlan) -> String {
    plan.files
        .iter()
        .map(|f| edit::unified_diff(&f.file, &f.old, &f.new))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SpecDependency;

    fn dep(id: &str, safe: Option<&str>, breaking: Option<&str>) -> SpecDependency {
        serde_json::from_value(serde_json::json!({
            "ID": id, "TargetSafeVersion": safe, "TargetBreakingVersion": breaking
        }))
        .unwrap()
    }

    fn spec(deps: Vec<SpecDependency>) -> Spec {
        Spec {
            include_dir_pattern: String::new(),
            exclude_dir_pattern: String::new(),
            dependencies: deps,
            skipped: vec![],
            unreachable: vec![],
            ..Spec::default()
        }
    }

    #[test]
    fn targets_follow_the_strategy() {
        let s = spec(vec![
            dep("a/b", Some("1.1.0"), Some("2.0.0")),
            dep("c/d", None, Some("1.0.0")),
        ]);
        let safe = targets_from_spec(&s, Strategy::NextSafe, None).unwrap();
        assert_eq!(safe.len(), 1);
        assert_eq!(safe["a/b"], Version::new(1, 1, 0));
        let breaking = targets_from_spec(&s, Strategy::NextBreaking, None).unwrap();
        assert_eq!(breaking["a/b"], Version::new(2, 0, 0));
        assert_eq!(breaking["c/d"], Version::new(1, 0, 0));
    }

    #[test]
    fn unknown_dependency_and_bad_versions_are_refused() {
        let s = spec(vec![dep("a/b", Some("1.1.0; rm -rf /"), None)]);
        assert_eq!(
            targets_from_spec(&s, Strategy::NextSafe, Some("x/y")),
            Err(TargetError::NotInSpec("x/y".into()))
        );
        assert!(matches!(
            targets_from_spec(&s, Strategy::NextSafe, None),
            Err(TargetError::NotAVersion { .. })
        ));
    }

    #[test]
    fn usages_newer_than_the_target_never_move_down() {
        let t = Version::new(0, 95, 1);
        assert_eq!(
            newer_than_target(VersionForm::GitRef, "v0.97.0", &t).as_deref(),
            Some("already at v0.97.0, newer than the target 0.95.1")
        );
        assert_eq!(newer_than_target(VersionForm::GitRef, "v0.95.1", &t), None);
        assert_eq!(newer_than_target(VersionForm::GitRef, "v0.95.0", &t), None);
        assert!(newer_than_target(VersionForm::GitRef, "vpc-v1.0.0", &t).is_some());
        assert!(newer_than_target(VersionForm::Attribute, "= 0.96.0", &t).is_some());
        assert!(newer_than_target(VersionForm::Attribute, "~> 0.97", &t).is_some());
        assert_eq!(
            newer_than_target(VersionForm::Attribute, "~> 0.95", &t),
            None,
            "a range that admits the target is left to the edit"
        );
        assert_eq!(
            newer_than_target(VersionForm::Attribute, "< 0.95.0", &t),
            None,
            "a range below the target moves up"
        );
    }
}
