//! Turns targets (dependency → version) into verified edits of the environment's files: every
//! usage's version bytes are replaced in the style they were written, and nothing else.

use crate::find::hcl::FileKind;
use crate::find::scan::{DiskFiles, ScanReport, Usage};
use crate::spec::{SkippedUsage, Spec, Strategy};
use crate::update::edit::{self, EditError, Splice};
use crate::version::{self, Version};
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

/// Plans the edits for the targets over a scan of the working directory `root`.
pub fn plan(root: &Path, report: &ScanReport, targets: &BTreeMap<String, Version>) -> UpdatePlan {
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
            let Some(new) = edit::new_version_text(site.form, current, target) else {
                continue;
            };
            let dependency = u.dependency.clone().unwrap_or_default();
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
    let write_one = |f: &FileEdit| {
        edit::write_atomic(&f.path, &f.new)
            .err()
            .map(|e| EditFailure {
                file: f.file.clone(),
                message: format!("cannot write: {e}"),
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
            gated: vec![],
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
}
