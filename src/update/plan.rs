//! Turns targets (dependency → version) into verified edits of the environment's files: every
//! usage's version bytes are replaced in the style they were written, and nothing else.

use crate::find::hcl::{FileKind, VersionForm};
use crate::find::scan::{DiskFiles, ScanReport, Usage};
use crate::spec::{SkippedUsage, Spec, Strategy};
use crate::update::edit::{self, EditError, Splice};
use crate::version::{self, Constraint, Version};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files written at once. Each atomic write waits for its own `fsync`; concurrent ones share
/// the file system's journal commits, so a few writers finish well before one would.
const WRITERS: usize = 8;

/// One version changed in one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// File relative to the working directory.
    pub file: String,
    /// Line of the version.
    pub line: usize,
    /// Dependency ID.
    pub dependency: String,
    /// The version as it was written.
    pub from: String,
    /// The version as it is now written.
    pub to: String,
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
    /// Files whose edit failed verification or could not be read.
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

/// [`plan_with`] where some targets are registry ranges written as they are (`constraints`, by
/// dependency): a usage's `version` attribute becomes exactly that text.
pub fn plan_with_constraints(
    root: &Path,
    report: &ScanReport,
    targets: &BTreeMap<String, Version>,
    constraints: &BTreeMap<String, String>,
    options: PlanOptions,
) -> UpdatePlan {
    let mut plan = UpdatePlan::default();
    let mut by_file: BTreeMap<&str, Vec<(&Usage, &Version)>> = BTreeMap::new();
    for u in &report.usages {
        let Some(target) = u.dependency.as_ref().and_then(|id| targets.get(id)) else {
            continue;
        };
        if let Some(reason) = &u.skipped {
            plan.skipped.push(SkippedUsage::of(u, reason));
            continue;
        }
        by_file
            .entry(u.file.as_str())
            .or_default()
            .push((u, target));
    }
    // Each file's edits are worked out in file order; reading, splicing and re-parsing the files
    // (the costly part) then runs on every core, and the results are taken back in file order.
    let mut jobs = Vec::new();
    for (file, usages) in by_file {
        let path = root.join(file);
        let mut splices: Vec<Splice> = Vec::new();
        let mut changes: Vec<Change> = Vec::new();
        let mut conflict = None;
        for (u, target) in usages {
            let (Some(site), Some(current)) = (&u.site, &u.current) else {
                continue;
            };
            let dependency = u.dependency.clone().unwrap_or_default();
            let new = match constraints.get(&dependency) {
                Some(constraint) => {
                    match constraint_text(site.form, current, constraint, options) {
                        Ok(Some(new)) => new,
                        Ok(None) => continue,
                        Err(reason) => {
                            plan.skipped.push(SkippedUsage::of(u, &reason));
                            continue;
                        }
                    }
                }
                None => {
                    if !options.allow_downgrade {
                        if let Some(reason) = newer_than_target(site.form, current, target) {
                            plan.skipped.push(SkippedUsage::of(u, &reason));
                            continue;
                        }
                    }
                    let Some(new) = edit::new_version_text(site.form, current, target) else {
                        continue;
                    };
                    new
                }
            };
            // Usages sharing one version (`?ref=${local.v}`) edit it once, to one target.
            if let Some(other) = changes
                .iter()
                .zip(&splices)
                .find(|(_, s)| s.span == site.span && s.new != new)
                .map(|(c, _)| c)
            {
                conflict = Some(format!(
                    "the version at line {} is shared by {} (to {}) and {dependency} (to {new}); update them one at a time or give each its own version",
                    site.line, other.dependency, other.to
                ));
            }
            changes.push(Change {
                file: file.to_string(),
                line: site.line,
                dependency,
                from: current.clone(),
                to: new.clone(),
            });
            splices.push(edit::splice_for(site, current, new));
        }
        if splices.is_empty() {
            continue;
        }
        if let Some(message) = conflict {
            jobs.push(Job::Refused(EditFailure {
                file: file.to_string(),
                message,
            }));
            continue;
        }
        jobs.push(Job::Edit {
            file,
            path,
            splices,
            changes,
        });
    }
    let files = DiskFiles::default();
    let edited: Vec<_> = jobs
        .par_iter()
        .map(|job| match job {
            Job::Edit { path, splices, .. } => Some(edit_file(path, splices, &files)),
            Job::Refused(_) => None,
        })
        .collect();
    for (job, edited) in jobs.into_iter().zip(edited) {
        match (job, edited) {
            (Job::Refused(failure), _) => plan.failures.push(failure),
            (
                Job::Edit {
                    file,
                    path,
                    changes,
                    ..
                },
                Some(Ok((old, new))),
            ) => {
                plan.files.push(FileEdit {
                    file: file.to_string(),
                    path,
                    old,
                    new,
                });
                plan.changes.extend(changes);
            }
            (Job::Edit { file, .. }, Some(Err(message))) => plan.failures.push(EditFailure {
                file: file.to_string(),
                message,
            }),
            (Job::Edit { .. }, None) => {}
        }
    }
    plan
}

/// One file of a plan: its edits, or why it is refused before any edit.
enum Job<'a> {
    Edit {
        file: &'a str,
        path: PathBuf,
        splices: Vec<Splice>,
        changes: Vec<Change>,
    },
    Refused(EditFailure),
}

fn edit_file(
    path: &Path,
    splices: &[Splice],
    files: &DiskFiles,
) -> Result<(String, String), String> {
    let old = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let kind = FileKind::of(path).ok_or("not a Terraform or Terragrunt file")?;
    let new = edit::apply_verified(path, kind, &old, splices, files)
        .map_err(|e: EditError| e.to_string())?;
    Ok((old, new))
}

/// Writes the planned files atomically, several at a time; returns the failures in plan order
/// (other files are still written).
pub fn write(plan: &UpdatePlan) -> Vec<EditFailure> {
    // Each file is replaced only if it still holds the bytes the plan was made from.
    let write_one = |f: &FileEdit| {
        edit::write_atomic_checked(&f.path, &f.old, &f.new)
            .err()
            .map(|e| EditFailure {
                file: f.file.clone(),
                message: e.to_string(),
            })
    };
    // Writers wait on the disk, not the CPU: a pool larger than the core count overlaps them.
    match rayon::ThreadPoolBuilder::new().num_threads(WRITERS).build() {
        Ok(pool) => pool.install(|| plan.files.par_iter().filter_map(write_one).collect()),
        Err(_) => plan.files.iter().filter_map(write_one).collect(),
    }
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
