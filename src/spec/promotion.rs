//! The spec of a promotion: the next environment moves to exactly the versions that landed
//! before it, and only where it is behind them.

use crate::find::scan::{ScanReport, Usage};
use crate::find::source::Source;
use crate::resolve::UsageRef;
use crate::resolve::landed::{Landed, pinned_version};
use crate::spec::{SkippedUsage, Spec, SpecDependency};
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
    promotion_spec_moving(include, exclude, current, landed, only, false)
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
    let mut by_dep: BTreeMap<&str, Vec<&Usage>> = BTreeMap::new();
    let mut skipped = Vec::new();
    for u in &current.usages {
        let Some(id) = u.dependency.as_deref() else {
            continue;
        };
        if only.is_some_and(|o| o != id) || !landed.contains_key(id) {
            continue;
        }
        if let Some(reason) = &u.skipped {
            skipped.push(SkippedUsage::of(u, reason));
            continue;
        }
        by_dep.entry(id).or_default().push(u);
    }
    let mut dependencies = Vec::new();
    for (id, usages) in by_dep {
        let Some(l) = landed.get(id) else {
            continue;
        };
        if !usages.iter().any(|u| behind(u, &l.version, down)) {
            continue;
        }
        let Some(source) = usages.first().and_then(|u| u.address.as_ref()) else {
            continue;
        };
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
            target_safe_version: Some(l.version.to_string()),
            target_breaking_version: Some(l.version.to_string()),
            current_versions: current_versions.iter().map(ToString::to_string).collect(),
            latest_version: None,
            source_type: Some("promotion".into()),
            usages: usages
                .iter()
                .map(|u| UsageRef {
                    file: u.file.clone(),
                    line: u.version_line(),
                    current: u.current.clone().unwrap_or_default(),
                })
                .collect(),
            release_notes: BTreeMap::new(),
        });
    }
    Spec {
        include_dir_pattern: include,
        exclude_dir_pattern: exclude,
        dependencies,
        skipped,
        unreachable: Vec::new(),
        gated: Vec::new(),
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
