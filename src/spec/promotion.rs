//! The spec of a promotion: the next environment moves to exactly the versions that landed
//! before it, and only where it is behind them.

use crate::find::scan::{ScanReport, Usage};
use crate::find::source::Source;
use crate::resolve::UsageRef;
use crate::resolve::landed::{Landed, LandedRange, pinned_version};
use crate::spec::{NotPromoted, SkippedUsage, Spec, SpecDependency};
use crate::version::{Constraint, Version};
use std::collections::BTreeMap;

/// Whether a usage needs to move to `target`: it pins an older version (or, with `down`, any
/// other version), or its range excludes the target. Without `down` a usage already at or past
/// the target never moves (no downgrade).
fn behind(u: &Usage, target: &Version, down: bool) -> bool {
    if let Some(v) = pinned_version(u) {
        return v < *target || (down && v != *target);
    }
    match (&u.address, u.current.as_deref()) {
        (Some(Source::Registry(_)), Some(c)) => {
            Constraint::parse(c).is_ok_and(|c| !c.matches(target))
        }
        _ => false,
    }
}

/// A spec that moves an environment to the versions that landed before it. Both targets are the
/// landed version, so either strategy applies it.
pub fn promotion_spec(
    include: String,
    exclude: String,
    current: &ScanReport,
    landed: &BTreeMap<String, Landed>,
    only: Option<&str>,
) -> Spec {
    promotion_spec_from(
        include,
        exclude,
        current,
        &Previous {
            landed,
            ranges: &BTreeMap::new(),
            unpinned: &BTreeMap::new(),
            name: "the previous environment",
        },
        "this environment",
        only,
    )
}

/// What the previous environment runs, read from its folders.
#[derive(Debug, Clone, Copy)]
pub struct Previous<'a> {
    /// Dependencies at an exact version.
    pub landed: &'a BTreeMap<String, Landed>,
    /// Dependencies at a registry range, promoted as written.
    pub ranges: &'a BTreeMap<String, LandedRange>,
    /// Dependencies it uses without a version Baton can read, with the reason.
    pub unpinned: &'a BTreeMap<String, String>,
    /// Its folders, for messages.
    pub name: &'a str,
}

/// The comparable version of a version text: exact, or the lowest a range admits.
fn comparable(u: &Usage) -> Option<Version> {
    pinned_version(u).or_else(|| {
        let c = Constraint::parse(u.current.as_deref()?).ok()?;
        c.floor()
    })
}

/// [`promotion_spec`] from everything the previous environment runs: exact versions, registry
/// ranges (carried as written) and what it does not pin; whatever is not promoted is listed in
/// `NotPromoted` with the reason. `here` names this environment's folders.
pub fn promotion_spec_from(
    include: String,
    exclude: String,
    current: &ScanReport,
    previous: &Previous<'_>,
    here: &str,
    only: Option<&str>,
) -> Spec {
    promotion_spec_from_moving(include, exclude, current, previous, here, only, false)
}

/// [`promotion_spec`]; with `down` (the promotion of a rollback) usages newer than what landed
/// move down to it too.
pub fn promotion_spec_moving(
    include: String,
    exclude: String,
    current: &ScanReport,
    landed: &BTreeMap<String, Landed>,
    only: Option<&str>,
    down: bool,
) -> Spec {
    promotion_spec_from_moving(
        include,
        exclude,
        current,
        &Previous {
            landed,
            ranges: &BTreeMap::new(),
            unpinned: &BTreeMap::new(),
            name: "the previous environment",
        },
        "this environment",
        only,
        down,
    )
}

/// [`promotion_spec_from`]; with `down` (the promotion of a rollback) usages newer than what
/// landed move down to it too.
pub fn promotion_spec_from_moving(
    include: String,
    exclude: String,
    current: &ScanReport,
    previous: &Previous<'_>,
    here: &str,
    only: Option<&str>,
    down: bool,
) -> Spec {
    let prev = previous.name;
    let wanted = |id: &str| only.is_none_or(|o| o == id);
    let mut by_dep: BTreeMap<&str, Vec<&Usage>> = BTreeMap::new();
    let mut used: std::collections::BTreeSet<&str> = Default::default();
    let mut skipped = Vec::new();
    for u in &current.usages {
        let Some(id) = u.dependency.as_deref() else {
            continue;
        };
        let known = previous.landed.contains_key(id) || previous.ranges.contains_key(id);
        if !wanted(id) || !known {
            continue;
        }
        used.insert(id);
        if let Some(reason) = &u.skipped {
            skipped.push(SkippedUsage::of(u, reason));
            continue;
        }
        by_dep.entry(id).or_default().push(u);
    }
    let mut dependencies = Vec::new();
    let mut not_promoted = Vec::new();
    let mut note = |id: &str, reason: String, notable: bool| {
        not_promoted.push(NotPromoted {
            id: id.to_string(),
            reason,
            notable,
        });
    };
    let ids: std::collections::BTreeSet<&str> = previous
        .landed
        .keys()
        .chain(previous.ranges.keys())
        .chain(previous.unpinned.keys())
        .map(String::as_str)
        .filter(|id| wanted(id))
        .collect();
    for id in ids {
        if let Some(why) = previous.unpinned.get(id) {
            if !previous.landed.contains_key(id) && !previous.ranges.contains_key(id) {
                note(id, format!("{prev} pins no version of it ({why})"), true);
                continue;
            }
        }
        let Some(usages) = by_dep.get(id) else {
            if used.contains(id) {
                note(id, format!("its usages in {here} are not managed"), false);
            } else {
                note(id, format!("not used in {here}"), false);
            }
            continue;
        };
        let Some(source) = usages.first().and_then(|u| u.address.as_ref()) else {
            continue;
        };
        let (target, constraint, shown) = match (previous.ranges.get(id), previous.landed.get(id)) {
            (Some(r), _) if !r.disagreeing.is_empty() => {
                note(
                    id,
                    format!(
                        "{prev} uses several versions of it ({}); bring them to one",
                        r.disagreeing.join(", ")
                    ),
                    true,
                );
                continue;
            }
            (Some(r), _) => (r.floor.clone(), Some(r.text.clone()), r.text.clone()),
            (None, Some(l)) => (l.version.clone(), None, l.version.to_string()),
            (None, None) => continue,
        };
        // Which usages move: behind the target (or, for a range, written otherwise and not past it).
        let mut moves = false;
        let mut ahead = Vec::new();
        let mut cannot_hold = Vec::new();
        for u in usages {
            let newer = comparable(u).is_some_and(|v| v > target);
            match &constraint {
                Some(text) => {
                    let attribute = matches!(&u.address, Some(Source::Registry(r)) if r.query_version.is_none());
                    let current_text = u.current.as_deref().unwrap_or("").trim();
                    // A usage already reading exactly the range stays as it is.
                    if !attribute {
                        cannot_hold.push(format!("{}:{}", u.file, u.version_line()));
                    } else if newer {
                        ahead.push(current_text.to_string());
                    } else if current_text != text {
                        moves = true;
                    }
                }
                None => {
                    if behind(u, &target, down) {
                        moves = true;
                    } else if newer {
                        ahead.push(u.current.clone().unwrap_or_default());
                    }
                }
            }
        }
        if !cannot_hold.is_empty() {
            note(
                id,
                format!(
                    "{prev} runs the range {shown}, which a version pin cannot hold ({}); not promoted there",
                    cannot_hold.join(", ")
                ),
                true,
            );
        }
        if !moves {
            if ahead.is_empty() {
                if cannot_hold.is_empty() {
                    note(id, format!("already at {shown}"), false);
                }
            } else {
                ahead.dedup();
                note(
                    id,
                    format!(
                        "already at {}, newer than {shown} in {prev}",
                        ahead.join(", ")
                    ),
                    true,
                );
            }
            continue;
        }
        let (org, repo, module) = crate::resolve::names(source, id);
        let mut current_versions: Vec<Version> =
            usages.iter().filter_map(|u| pinned_version(u)).collect();
        current_versions.sort();
        current_versions.dedup();
        dependencies.push(SpecDependency {
            id: id.to_string(),
            org,
            repo,
            module,
            constraints: None,
            target_safe_version: Some(target.to_string()),
            target_breaking_version: Some(target.to_string()),
            current_versions: current_versions.iter().map(ToString::to_string).collect(),
            latest_version: None,
            source_type: Some("promotion".into()),
            usages: usages
                .iter()
                .map(|u| UsageRef {
                    file: u.version_file().to_string(),
                    line: u.version_line(),
                    current: u.current.clone().unwrap_or_default(),
                })
                .collect(),
            target_constraint: constraint,
            release_notes: BTreeMap::new(),
            impact: None,
        });
    }
    Spec {
        include_dir_pattern: include,
        exclude_dir_pattern: exclude,
        dependencies,
        skipped,
        unreachable: Vec::new(),
        not_promoted,
        ..Spec::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find::hcl::UsageKind;
    use crate::find::scan::fixtures::{report, usage};
    use crate::resolve::landed::landed_versions;

    #[test]
    fn promotion_moves_only_what_is_behind() {
        let dev = report(vec![
            usage("dev/a.hcl", "github.com/o/r//m?ref=v1.2.0", "v1.2.0"),
            usage("dev/b.hcl", "github.com/o/s?ref=v3.0.0", "v3.0.0"),
            usage("dev/c.hcl", "github.com/o/t?ref=v1.0.0", "v1.0.0"),
        ]);
        let stage = report(vec![
            usage("stage/a.hcl", "github.com/o/r//m?ref=v1.0.0", "v1.0.0"),
            usage("stage/b.hcl", "github.com/o/s?ref=v3.0.0", "v3.0.0"),
            usage("stage/c.hcl", "github.com/o/t?ref=v2.0.0", "v2.0.0"),
            usage(
                "stage/d.hcl",
                "github.com/o/only-stage?ref=v1.0.0",
                "v1.0.0",
            ),
        ]);
        let spec = promotion_spec(
            "stage/**".into(),
            String::new(),
            &stage,
            &landed_versions(&dev),
            None,
        );
        let ids: Vec<&str> = spec.dependencies.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(
            ids,
            vec!["o/r/m"],
            "same version, ahead and unknown dependencies do not move"
        );
        assert_eq!(
            spec.dependencies[0].target_safe_version.as_deref(),
            Some("1.2.0")
        );
        assert_eq!(
            spec.dependencies[0].target_breaking_version.as_deref(),
            Some("1.2.0")
        );
    }

    #[test]
    fn registry_ranges_move_only_when_they_exclude_the_target() {
        let mut dev_u = usage("dev/main.tf", "acme/vpc/aws", "5.1.0");
        dev_u.kind = UsageKind::Module;
        let dev = report(vec![dev_u]);
        let within = report(vec![usage("stage/main.tf", "acme/vpc/aws", "~> 5.0")]);
        let outside = report(vec![usage("stage/main.tf", "acme/vpc/aws", "~> 4.0")]);
        let landed = landed_versions(&dev);
        assert!(
            promotion_spec(String::new(), String::new(), &within, &landed, None)
                .dependencies
                .is_empty()
        );
        assert_eq!(
            promotion_spec(String::new(), String::new(), &outside, &landed, None)
                .dependencies
                .len(),
            1
        );
    }
}
