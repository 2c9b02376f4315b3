//! The spec of a promotion: the next environment moves to exactly the versions that landed
//! before it, and only where it is behind them.

use crate::find::scan::{ScanReport, Usage};
use crate::find::source::Source;
use crate::resolve::landed::{Landed, LandedRange, pinned_version};
use crate::resolve::{Dependency, Lookup, UsageRef};
use crate::spec::{NotPromoted, SkippedUsage, Spec, SpecDependency};
use crate::version::{self, Constraint, Targets, Version};
use std::collections::{BTreeMap, BTreeSet};

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
    let wanted = |id: &str| only.is_none_or(|o| o == id);
    let usages_here = HereUsages::of(current, previous, wanted);
    let mut promotion = Promotion {
        previous: *previous,
        here,
        down,
        dependencies: Vec::new(),
        not_promoted: Vec::new(),
    };
    let ids: BTreeSet<&str> = previous
        .landed
        .keys()
        .chain(previous.ranges.keys())
        .chain(previous.unpinned.keys())
        .map(String::as_str)
        .filter(|id| wanted(id))
        .collect();
    for id in ids {
        if let Some(usages) = promotion.usages_of(id, &usages_here) {
            promotion.dependency(id, usages);
        }
    }
    Spec {
        include_dir_pattern: include,
        exclude_dir_pattern: exclude,
        dependencies: promotion.dependencies,
        skipped: usages_here.skipped,
        unreachable: Vec::new(),
        not_promoted: promotion.not_promoted,
        ..Spec::default()
    }
}

/// This environment's usages of what the previous environment runs at a version or a range
/// (those `only` keeps).
struct HereUsages<'a> {
    /// The managed usages, by dependency.
    by_dep: BTreeMap<&'a str, Vec<&'a Usage>>,
    /// Every dependency used, managed or not.
    used: BTreeSet<&'a str>,
    /// The usages Baton does not manage, with the reason.
    skipped: Vec<SkippedUsage>,
}

impl<'a> HereUsages<'a> {
    /// Groups the usages of `current` by dependency, setting aside those not managed.
    fn of(current: &'a ScanReport, previous: &Previous<'_>, wanted: impl Fn(&str) -> bool) -> Self {
        let mut here = HereUsages {
            by_dep: BTreeMap::new(),
            used: BTreeSet::new(),
            skipped: Vec::new(),
        };
        for u in &current.usages {
            let Some(id) = u.dependency.as_deref() else {
                continue;
            };
            let known = previous.landed.contains_key(id) || previous.ranges.contains_key(id);
            if !wanted(id) || !known {
                continue;
            }
            here.used.insert(id);
            if let Some(reason) = &u.skipped {
                here.skipped.push(SkippedUsage::of(u, reason));
                continue;
            }
            here.by_dep.entry(id).or_default().push(u);
        }
        here
    }
}

/// A promotion spec being listed: the dependencies that move, and those not promoted with why.
struct Promotion<'a> {
    /// What the previous environment runs.
    previous: Previous<'a>,
    /// This environment's folders, for messages.
    here: &'a str,
    /// Whether usages newer than what landed move down to it.
    down: bool,
    /// The dependencies that move.
    dependencies: Vec<SpecDependency>,
    /// The dependencies not promoted, with the reason.
    not_promoted: Vec<NotPromoted>,
}

/// How this environment's usages of one dependency stand against the target.
struct Standing {
    /// Whether any usage moves.
    moves: bool,
    /// The versions of the usages already past the target, as written.
    ahead: Vec<String>,
    /// The places of the usages that pin a version where the previous environment runs a range.
    cannot_hold: Vec<String>,
}

impl Promotion<'_> {
    /// Lists a dependency as not promoted; `notable` when a reviewer should hear of it.
    fn note(&mut self, id: &str, reason: String, notable: bool) {
        self.not_promoted.push(NotPromoted {
            id: id.to_string(),
            reason,
            notable,
        });
    }

    /// The managed usages of `id` in this environment; `None`, noted, when there are none or
    /// when the previous environment pins no version of it.
    fn usages_of<'u, 'a>(
        &mut self,
        id: &str,
        usages: &'u HereUsages<'a>,
    ) -> Option<&'u [&'a Usage]> {
        let (prev, here) = (self.previous.name, self.here);
        if let Some(why) = self.previous.unpinned.get(id) {
            if !self.previous.landed.contains_key(id) && !self.previous.ranges.contains_key(id) {
                self.note(id, format!("{prev} pins no version of it ({why})"), true);
                return None;
            }
        }
        let Some(found) = usages.by_dep.get(id) else {
            if usages.used.contains(id) {
                self.note(id, format!("its usages in {here} are not managed"), false);
            } else {
                self.note(id, format!("not used in {here}"), false);
            }
            return None;
        };
        Some(found)
    }

    /// Lists `id` to move when one of its usages is behind what the previous environment runs;
    /// notes why not, or what the move leaves behind.
    fn dependency(&mut self, id: &str, usages: &[&Usage]) {
        let Some(source) = usages.first().and_then(|u| u.address.as_ref()) else {
            return;
        };
        let Some((target, constraint, shown)) = self.target(id) else {
            return;
        };
        let standing = standing(usages, &target, constraint.as_deref(), self.down);
        if !self.note_standing(id, &shown, standing) {
            return;
        }
        self.dependencies
            .push(spec_dependency(id, source, usages, &target, constraint));
    }

    /// What `id` moves to: the version, the range as written (for a range) and how to show
    /// them; `None`, noted, when the previous environment's usages disagree.
    fn target(&mut self, id: &str) -> Option<(Version, Option<String>, String)> {
        let previous = self.previous;
        match (previous.ranges.get(id), previous.landed.get(id)) {
            (Some(r), _) if !r.disagreeing.is_empty() => {
                self.note(
                    id,
                    format!(
                        "{} uses several versions of it ({}); bring them to one",
                        previous.name,
                        r.disagreeing.join(", ")
                    ),
                    true,
                );
                None
            }
            (Some(r), _) => Some((r.floor.clone(), Some(r.text.clone()), r.text.clone())),
            (None, Some(l)) => Some((l.version.clone(), None, l.version.to_string())),
            (None, None) => None,
        }
    }

    /// Notes the usages a version pin cannot hold and, when nothing moves, why; whether
    /// anything moves.
    fn note_standing(&mut self, id: &str, shown: &str, standing: Standing) -> bool {
        let prev = self.previous.name;
        let Standing {
            moves,
            mut ahead,
            cannot_hold,
        } = standing;
        if !cannot_hold.is_empty() {
            self.note(
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
                    self.note(id, format!("already at {shown}"), false);
                }
            } else {
                ahead.dedup();
                self.note(
                    id,
                    format!(
                        "already at {}, newer than {shown} in {prev}",
                        ahead.join(", ")
                    ),
                    true,
                );
            }
        }
        moves
    }
}

/// Which usages move: behind the target (or, for a range, written otherwise and not past it).
fn standing(usages: &[&Usage], target: &Version, constraint: Option<&str>, down: bool) -> Standing {
    let mut moves = false;
    let mut ahead = Vec::new();
    let mut cannot_hold = Vec::new();
    for u in usages {
        let newer = comparable(u).is_some_and(|v| v > *target);
        match constraint {
            Some(text) => {
                let attribute =
                    matches!(&u.address, Some(Source::Registry(r)) if r.query_version.is_none());
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
                if behind(u, target, down) {
                    moves = true;
                } else if newer {
                    ahead.push(u.current.clone().unwrap_or_default());
                }
            }
        }
    }
    Standing {
        moves,
        ahead,
        cannot_hold,
    }
}

/// The spec's dependency that moves the usages of `id` to `target` (and, for a range, to
/// `constraint` as written).
fn spec_dependency(
    id: &str,
    source: &Source,
    usages: &[&Usage],
    target: &Version,
    constraint: Option<String>,
) -> SpecDependency {
    let (org, repo, module) = crate::resolve::names(source, id);
    let mut current_versions: Vec<Version> =
        usages.iter().filter_map(|u| pinned_version(u)).collect();
    current_versions.sort();
    current_versions.dedup();
    SpecDependency {
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
    }
}

/// The dependencies of a promotion spec whose target crosses a breaking release from the
/// lowest version this environment runs, as [`crate::resolve::impact::assess`] takes them: only
/// the usages that move, the version in use and the target (each as the usages write it) as the
/// only releases, so that the analysis is of exactly this move and never goes past the target.
/// Registry ranges promoted as written are left out.
pub fn breaking_moves(spec: &Spec, current: &ScanReport) -> Vec<Dependency> {
    let mut out = Vec::new();
    for d in &spec.dependencies {
        if d.target_constraint.is_some() {
            continue;
        }
        let Some(target) = d
            .target_breaking_version
            .as_deref()
            .and_then(version::parse_version)
        else {
            continue;
        };
        let moving: Vec<&Usage> = current
            .usages
            .iter()
            .filter(|u| u.skipped.is_none() && u.dependency.as_deref() == Some(d.id.as_str()))
            .filter(|u| pinned_version(u).is_some_and(|v| v < target))
            .collect();
        let lowest = moving
            .iter()
            .filter_map(|u| Some((pinned_version(u)?, u.current.clone()?)))
            .min_by(|a, b| a.0.cmp(&b.0));
        let Some((lowest, written)) = lowest else {
            continue;
        };
        let Some(lookup) = moving
            .first()
            .and_then(|u| u.address.as_ref())
            .and_then(Lookup::of)
        else {
            continue;
        };
        if !version::is_breaking(&lowest, &target) {
            continue;
        }
        let tags = BTreeMap::from([
            (target.clone(), version::format_like(&written, &target)),
            (lowest.clone(), written),
        ]);
        out.push(Dependency {
            id: d.id.clone(),
            org: d.org.clone(),
            repo: d.repo.clone(),
            module: d.module.clone(),
            lookup,
            usages: moving
                .iter()
                .map(|u| UsageRef {
                    file: u.version_file().to_string(),
                    line: u.version_line(),
                    current: u.current.clone().unwrap_or_default(),
                })
                .collect(),
            current: vec![lowest],
            targets: Targets {
                safe: None,
                breaking: Some(target),
            },
            latest: None,
            tags,
            error: None,
            impact: None,
        });
    }
    out
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
    fn breaking_moves_are_this_environments_own_moving_usages() {
        let dev = report(vec![usage(
            "dev/a.hcl",
            "github.com/o/r//m?ref=v2.0.0",
            "v2.0.0",
        )]);
        let stage = report(vec![
            usage("stage/a.hcl", "github.com/o/r//m?ref=v1.2.0", "v1.2.0"),
            usage("stage/b.hcl", "github.com/o/r//m?ref=v1.0.0", "v1.0.0"),
            usage("stage/c.hcl", "github.com/o/r//m?ref=v2.0.0", "v2.0.0"),
        ]);
        let spec = promotion_spec(
            String::new(),
            String::new(),
            &stage,
            &landed_versions(&dev),
            None,
        );
        let moves = breaking_moves(&spec, &stage);
        assert_eq!(moves.len(), 1);
        let m = &moves[0];
        let files: Vec<&str> = m.usages.iter().map(|u| u.file.as_str()).collect();
        assert_eq!(
            files,
            ["stage/a.hcl", "stage/b.hcl"],
            "the usage already there does not move"
        );
        assert_eq!(m.current, [Version::new(1, 0, 0)]);
        assert_eq!(m.targets.breaking, Some(Version::new(2, 0, 0)));
        assert_eq!(m.targets.safe, None);
        let tags: Vec<&str> = m.tags.values().map(String::as_str).collect();
        assert_eq!(tags, ["v1.0.0", "v2.0.0"], "nothing past the target");
        // A move within one major version crosses no breaking release.
        let dev = report(vec![usage(
            "dev/a.hcl",
            "github.com/o/r//m?ref=v1.4.0",
            "v1.4.0",
        )]);
        let spec = promotion_spec(
            String::new(),
            String::new(),
            &stage,
            &landed_versions(&dev),
            None,
        );
        assert!(breaking_moves(&spec, &stage).is_empty());
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
