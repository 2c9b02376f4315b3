//! A group's update: its title, and, for each dependency of the group that the update does not
//! move, why, so that the pull request and the outcome say it (nothing is dropped silently).

use crate::find::scan::ScanReport;
use crate::spec::Spec;
use crate::spec::group::GroupScope;
use crate::spec::release::{self, ModuleRelease};
use crate::update::plan::{EditFailure, UpdatePlan};
use crate::version::Version;
use serde::Serialize;
use std::collections::BTreeMap;

/// What a group update did beyond the changes: the group and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupOutcome {
    /// The group's name.
    pub name: String,
    /// Its dependencies (used here, or named by the dispatch) that this update does not move.
    pub left_out: Vec<LeftOut>,
}

/// A dependency of the group the update does not move, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    /// Dependency ID.
    pub dependency: String,
    /// Why.
    pub reason: String,
}

/// The default title (and commit subject) of a group update: each dependency and its target
/// while that stays short, else how many.
pub fn title(name: &str, targets: &BTreeMap<String, Version>) -> String {
    let each: Vec<String> = targets
        .iter()
        .map(|(id, v)| format!("{id} to {v}"))
        .collect();
    let long = format!("Update group {name}: {}", each.join(", "));
    if long.chars().count() <= 120 {
        long
    } else {
        format!("Update group {name} ({} dependencies)", targets.len())
    }
}

/// What the group update leaves out: dependencies the payload names that are not the group's
/// or not used here, and, of those used here, every one without a change, with the reason
/// (versions not looked up, not promoted, edits refused, usages skipped, not part of the module
/// release being answered, already there).
pub fn left_out(
    scope: &GroupScope,
    report: &ScanReport,
    spec: &Spec,
    targets: &BTreeMap<String, Version>,
    plan: &UpdatePlan,
    (failures, release): (&[EditFailure], Option<&ModuleRelease>),
) -> GroupOutcome {
    let mut out: Vec<LeftOut> = scope
        .left_out
        .iter()
        .map(|(dependency, reason)| LeftOut {
            dependency: dependency.clone(),
            reason: reason.clone(),
        })
        .collect();
    let members = scope.group.members(report);
    if let Some(d) = &scope.dispatched {
        for m in d
            .members
            .iter()
            .filter(|m| !members.contains(&m.dependency))
        {
            out.push(LeftOut {
                dependency: m.dependency.clone(),
                reason: format!(
                    "the payload promotes it at {}, but this environment does not use it",
                    m.version
                ),
            });
        }
    }
    for id in members {
        if plan.changes.iter().any(|c| c.dependency == id) {
            continue;
        }
        out.push(LeftOut {
            reason: why_unchanged(&id, report, spec, targets, plan, (failures, release)),
            dependency: id,
        });
    }
    GroupOutcome {
        name: scope.group.name.clone(),
        left_out: out,
    }
}

/// Why a dependency of the group used here has no change.
fn why_unchanged(
    id: &str,
    report: &ScanReport,
    spec: &Spec,
    targets: &BTreeMap<String, Version>,
    plan: &UpdatePlan,
    (failures, release): (&[EditFailure], Option<&ModuleRelease>),
) -> String {
    if let Some(u) = spec.unreachable.iter().find(|u| u.id == id) {
        return format!("its versions could not be looked up: {}", u.error);
    }
    if let Some(n) = spec.not_promoted.iter().find(|n| n.id == id) {
        return format!("not promoted: {}", n.reason);
    }
    let files: Vec<&str> = report
        .usages
        .iter()
        .filter(|u| u.dependency.as_deref() == Some(id))
        .flat_map(|u| [u.file.as_str(), u.version_file()])
        .collect();
    let refused: Vec<String> = failures
        .iter()
        .filter(|f| files.contains(&f.file.as_str()))
        .map(|f| {
            if f.message.starts_with(&f.file) {
                f.message.clone()
            } else {
                format!("{}: {}", f.file, f.message)
            }
        })
        .collect();
    if !refused.is_empty() {
        return format!(
            "its edit was refused, files left unchanged: {}",
            refused.join("; ")
        );
    }
    let skipped: Vec<String> = plan
        .skipped
        .iter()
        .filter(|s| s.dependency.as_deref() == Some(id))
        .map(|s| format!("{}:{}: {}", s.file, s.line, s.reason))
        .collect();
    if !skipped.is_empty() {
        return format!("not updated: {}", skipped.join("; "));
    }
    match (targets.get(id), release) {
        (Some(v), _) => format!("already at {v}: nothing to change"),
        // A module release moves the dependencies of the released repository only.
        (None, Some(r)) if !release::dependencies_of(report, r, Some(id)).contains(id) => {
            let at: Vec<String> = report
                .usages
                .iter()
                .filter(|u| u.dependency.as_deref() == Some(id))
                .filter_map(|u| u.current.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            format!(
                "not part of the release being answered ({} {}); left at its version{}",
                r.repository,
                r.tag,
                match at.as_slice() {
                    [] => String::new(),
                    at => format!(" ({})", at.join(", ")),
                }
            )
        }
        (None, _) => "no update: already at its newest version for the strategy".into(),
    }
}
