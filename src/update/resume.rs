//! Finishing an interrupted publish. A run killed after writing some files leaves them edited
//! and uncommitted; a re-run on the same tree finds them already at their targets, so its plan
//! does not hold them. Each file of the environment with uncommitted changes is checked against
//! the commit it came from: when its contents are exactly Baton's update of that commit to the
//! targets, it is Baton's unfinished work and joins the commit; anything else is refused before a
//! file is written, so a pull request never carries an edit Baton did not make, nor misses one
//! it did.

use crate::clients::git::Git;
use crate::exit::InvalidInput;
use crate::find::hcl::{self, FileKind};
use crate::find::scan::{DiskFiles, ScanReport, ref_problem};
use crate::find::source::Source;
use crate::update::edit;
use crate::update::plan::{Change, PlanOptions, UpdatePlan, constraint_text, newer_than_target};
use crate::version::{Constraint, Version};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A file a previous run updated and did not commit.
#[derive(Debug, Clone)]
pub struct Unfinished {
    /// Absolute path.
    pub path: PathBuf,
    /// The versions it changed, from the commit it came from.
    pub changes: Vec<Change>,
}

/// The files of the environment (usages of `targets` in `report`) that hold uncommitted changes
/// and are not in `plan`: each must be exactly Baton's update of `HEAD` (else [`InvalidInput`]).
/// Files of `plan` with uncommitted changes must likewise become exactly that update.
pub fn unfinished(
    git: &Git,
    working_dir: &Path,
    report: &ScanReport,
    targets: &BTreeMap<String, Version>,
    constraints: &BTreeMap<String, String>,
    plan: &UpdatePlan,
    options: PlanOptions,
) -> anyhow::Result<Vec<Unfinished>> {
    let root = std::fs::canonicalize(working_dir)?;
    let top = std::fs::canonicalize(git.toplevel()?)?;
    let Ok(prefix) = root.strip_prefix(&top) else {
        return Ok(Vec::new());
    };
    let status = git.run(&["status", "--porcelain=v1", "-z", "--untracked-files=no"])?;
    let dirty: BTreeSet<PathBuf> = status
        .split('\0')
        .filter(|e| e.len() > 3)
        .map(|e| PathBuf::from(&e[3..]))
        .collect();
    if dirty.is_empty() {
        return Ok(Vec::new());
    }
    let files: BTreeSet<&str> = report
        .usages
        .iter()
        .filter(|u| {
            u.dependency
                .as_ref()
                .is_some_and(|d| targets.contains_key(d))
        })
        .map(|u| u.file.as_str())
        .collect();
    let planned: BTreeMap<&str, &str> = plan
        .files
        .iter()
        .map(|f| (f.file.as_str(), f.new.as_str()))
        .collect();
    let disk = DiskFiles::within(&top);
    let mut out = Vec::new();
    for file in files {
        let in_repo = prefix.join(file);
        if !dirty.contains(&in_repo) {
            continue;
        }
        let path = root.join(file);
        let refuse = |why: &str| {
            InvalidInput(format!(
                "{file} has uncommitted changes that are not Baton's update of it to the targets ({why}); Baton commits only its own edits. Commit or discard them (`git checkout -- {file}`) and run again"
            ))
        };
        let base = git
            .show_file("HEAD", &in_repo)?
            .ok_or_else(|| refuse("it is not in the last commit"))?;
        let (expected, changes) =
            update_text(&path, file, &base, targets, constraints, options, &disk)
                .map_err(|e| refuse(&e))?;
        let now = match planned.get(file) {
            Some(new) => (*new).to_string(),
            None => std::fs::read_to_string(&path).map_err(|e| refuse(&e.to_string()))?,
        };
        if now != expected {
            return Err(refuse("its contents differ from that update").into());
        }
        if !planned.contains_key(file) && !changes.is_empty() {
            out.push(Unfinished { path, changes });
        }
    }
    Ok(out)
}

/// `text` (the file `file` at `path`) updated to `targets` as a plan would, with its changes.
fn update_text(
    path: &Path,
    file: &str,
    text: &str,
    targets: &BTreeMap<String, Version>,
    constraints: &BTreeMap<String, String>,
    options: PlanOptions,
    files: &DiskFiles,
) -> Result<(String, Vec<Change>), String> {
    let kind = FileKind::of(path).ok_or("not a Terraform or Terragrunt file")?;
    let found = hcl::find(path, kind, text, files).map_err(|e| e.message)?;
    let mut splices = Vec::new();
    let mut changes = Vec::new();
    for f in found {
        let Ok(source) = &f.resolved else { continue };
        let Some(id) = source.dependency_id() else {
            continue;
        };
        let (Some(target), Some(site), Some(current)) = (targets.get(&id), &f.site, &f.current)
        else {
            continue;
        };
        let managed = f.not_editable.is_none()
            && match source {
                Source::Registry(r) if r.query_version.is_none() => {
                    Constraint::parse(current).is_ok()
                }
                Source::Git(_) | Source::Registry(_) => ref_problem(current).is_none(),
                _ => false,
            };
        if !managed {
            continue;
        }
        let new = match constraints.get(&id) {
            Some(c) => match constraint_text(site.form, current, c, options) {
                Ok(Some(new)) => new,
                _ => continue,
            },
            None => {
                if !options.allow_downgrade
                    && newer_than_target(site.form, current, target).is_some()
                {
                    continue;
                }
                let Some(new) = edit::new_version_text(site.form, current, target) else {
                    continue;
                };
                new
            }
        };
        changes.push(Change {
            file: file.to_string(),
            line: site.line,
            dependency: id,
            from: current.clone(),
            to: new.clone(),
            used_by: Vec::new(),
            notes: f.notes.clone(),
        });
        splices.push(edit::splice_for(site, current, new));
    }
    let new = edit::apply_verified(path, kind, text, &splices, files).map_err(|e| e.to_string())?;
    Ok((new, changes))
}
