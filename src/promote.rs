//! Promotion between environments: deciding, from a merged pull request, what to hand to the next
//! environment, and turning "the version the previous environment runs" into update targets.
//!
//! The next environment never re-resolves the newest release: it receives exactly what landed
//! before it (a reviewer's edit included), read from the code as checked out.

use crate::resolve::UsageRef;
use crate::scan::{ScanReport, Usage};
use crate::source::Source;
use crate::spec::{SkippedUsage, Spec, SpecDependency};
use crate::version::{self, Constraint, Version};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The `client_payload` Baton sends with `repository_dispatch`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// The dependency ID that was updated (`None`: every dependency that landed).
    #[serde(default)]
    pub dependency: Option<String>,
    /// The version now in the source environment, without `v`.
    #[serde(default)]
    pub version: Option<String>,
    /// The workflow's ref (`GITHUB_REF`).
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// The merge commit.
    #[serde(default)]
    pub sha: Option<String>,
    /// The pull request's head branch.
    #[serde(default)]
    pub branch: Option<String>,
    /// The source environment's name.
    #[serde(default)]
    pub environment: Option<String>,
    /// The pull request number.
    #[serde(default)]
    pub pull_request: Option<u64>,
}

/// What to do with a `pull_request` event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Hand this to the next environment.
    Promote {
        /// The dependency, when the branch names it.
        dependency: Option<String>,
        /// Head branch.
        branch: String,
        /// Merge commit.
        sha: Option<String>,
        /// Pull request number.
        number: u64,
    },
    /// Nothing to do, and why.
    Skip(String),
}

/// Decides from a `pull_request` event payload whether a merged update should be promoted: it must
/// be closed and merged, and its head branch must start with `prefix` (the dependency is the
/// rest), or it must carry `label`.
pub fn decide(event: &Value, prefix: Option<&str>, label: Option<&str>) -> Decision {
    let Some(pr) = event.get("pull_request") else {
        return Decision::Skip("the event is not a pull_request event".into());
    };
    let number = pr.get("number").and_then(Value::as_u64).unwrap_or(0);
    let action = event.get("action").and_then(Value::as_str).unwrap_or("");
    if action != "closed" {
        return Decision::Skip(format!("pull request #{number} was {action}, not closed"));
    }
    if pr.get("merged").and_then(Value::as_bool) != Some(true) {
        return Decision::Skip(format!("pull request #{number} was closed without merging"));
    }
    let branch = pr
        .pointer("/head/ref")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let sha = pr
        .get("merge_commit_sha")
        .and_then(Value::as_str)
        .map(str::to_string);
    let by_prefix = prefix
        .filter(|p| !p.is_empty())
        .and_then(|p| branch.strip_prefix(p))
        .filter(|d| !d.is_empty())
        .map(str::to_string);
    let labelled = label.is_some_and(|l| {
        pr.get("labels")
            .and_then(Value::as_array)
            .is_some_and(|ls| {
                ls.iter()
                    .any(|x| x.get("name").and_then(Value::as_str) == Some(l))
            })
    });
    match (by_prefix, labelled) {
        (Some(dep), _) => Decision::Promote {
            dependency: Some(dep),
            branch,
            sha,
            number,
        },
        (None, true) => Decision::Promote {
            dependency: None,
            branch,
            sha,
            number,
        },
        (None, false) => Decision::Skip(format!(
            "branch {branch:?} of pull request #{number} does not start with {:?}{}",
            prefix.unwrap_or(""),
            label
                .map(|l| format!(" and it has no label {l:?}"))
                .unwrap_or_default()
        )),
    }
}

/// The `client_payload` of a `repository_dispatch` event, when it names something to promote.
pub fn payload_of(event: &Value) -> Option<Payload> {
    let payload = event.get("client_payload")?;
    serde_json::from_value(payload.clone()).ok()
}

/// The version a dependency runs in an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    /// The version all usages have reached (the lowest).
    pub version: Version,
    /// Every version in use, as written, when they disagree.
    pub disagreeing: Vec<String>,
}

/// The exact version a usage pins, if any: a git ref or `?version=`, or an exact registry pin.
pub fn pinned_version(u: &Usage) -> Option<Version> {
    let current = u.current.as_deref()?;
    match &u.address {
        Some(Source::Registry(r)) if r.query_version.is_none() => {
            Constraint::parse(current).ok()?.exact()
        }
        _ => version::split_tag(current)
            .map(|(_, v)| v)
            .or_else(|| version::parse_version(current)),
    }
}

/// The version each dependency runs in an environment (managed usages with an exact version).
pub fn landed_versions(report: &ScanReport) -> BTreeMap<String, Landed> {
    let mut seen: BTreeMap<String, Vec<(Version, String)>> = BTreeMap::new();
    for u in &report.usages {
        if u.skipped.is_some() {
            continue;
        }
        let (Some(id), Some(v)) = (&u.dependency, pinned_version(u)) else {
            continue;
        };
        seen.entry(id.clone())
            .or_default()
            .push((v, u.current.clone().unwrap_or_default()));
    }
    seen.into_iter()
        .filter_map(|(id, mut versions)| {
            versions.sort();
            let lowest = versions.first()?.0.clone();
            let mut written: Vec<String> = versions.iter().map(|(_, w)| w.clone()).collect();
            written.dedup();
            let disagreeing = if versions.iter().any(|(v, _)| *v != lowest) {
                written
            } else {
                Vec::new()
            };
            Some((
                id,
                Landed {
                    version: lowest,
                    disagreeing,
                },
            ))
        })
        .collect()
}

/// Whether a usage needs to move to `target`: it pins an older version, or its range excludes
/// the target. A usage already at or past the target never moves (no downgrade).
fn behind(u: &Usage, target: &Version) -> bool {
    if let Some(v) = pinned_version(u) {
        return v < *target;
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
        if !usages.iter().any(|u| behind(u, &l.version)) {
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
                    file: u.version_file().to_string(),
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hcl::UsageKind;
    use crate::scan::fixtures::{report, usage};
    use serde_json::json;

    fn event(action: &str, merged: bool, branch: &str, labels: &[&str]) -> Value {
        json!({
            "action": action,
            "number": 7,
            "pull_request": {
                "number": 7,
                "merged": merged,
                "merge_commit_sha": "abc123",
                "head": {"ref": branch, "sha": "def456"},
                "labels": labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>()
            }
        })
    }

    #[test]
    fn merged_update_branch_is_promoted_with_its_dependency() {
        let d = decide(
            &event(
                "closed",
                true,
                "baton-dev-updates-gruntwork-io/terraform-aws-messaging/sqs",
                &[],
            ),
            Some("baton-dev-updates-"),
            Some("updates-dev"),
        );
        assert_eq!(
            d,
            Decision::Promote {
                dependency: Some("gruntwork-io/terraform-aws-messaging/sqs".into()),
                branch: "baton-dev-updates-gruntwork-io/terraform-aws-messaging/sqs".into(),
                sha: Some("abc123".into()),
                number: 7,
            }
        );
    }

    #[test]
    fn labelled_pull_request_promotes_everything_that_landed() {
        let d = decide(
            &event("closed", true, "hand-made", &["updates-dev"]),
            Some("baton-"),
            Some("updates-dev"),
        );
        assert!(
            matches!(
                d,
                Decision::Promote {
                    dependency: None,
                    ..
                }
            ),
            "{d:?}"
        );
    }

    #[test]
    fn other_events_do_nothing_and_say_why() {
        let cases = [
            (event("closed", false, "baton-x", &[]), "without merging"),
            (event("opened", false, "baton-x", &[]), "not closed"),
            (
                event("closed", true, "feature/y", &[]),
                "does not start with",
            ),
            (json!({"action": "published"}), "not a pull_request event"),
        ];
        for (e, why) in cases {
            match decide(&e, Some("baton-"), Some("updates-dev")) {
                Decision::Skip(reason) => assert!(reason.contains(why), "{reason}"),
                other => panic!("expected a skip, got {other:?}"),
            }
        }
    }

    #[test]
    fn landed_takes_the_lowest_and_notes_disagreement() {
        let dev = report(vec![
            usage("dev/a.hcl", "github.com/o/r//m?ref=v1.2.0", "v1.2.0"),
            usage("dev/b.hcl", "github.com/o/r//m?ref=v1.1.0", "v1.1.0"),
            usage("dev/c.hcl", "github.com/o/s?ref=v3.0.0", "v3.0.0"),
        ]);
        let landed = landed_versions(&dev);
        assert_eq!(landed["o/r/m"].version, Version::new(1, 1, 0));
        assert_eq!(landed["o/r/m"].disagreeing, vec!["v1.1.0", "v1.2.0"]);
        assert!(landed["o/s"].disagreeing.is_empty());
    }

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

    #[test]
    fn dispatch_payload_round_trips() {
        let p = Payload {
            dependency: Some("o/r/m".into()),
            version: Some("1.2.0".into()),
            git_ref: Some("refs/heads/main".into()),
            sha: Some("abc".into()),
            branch: Some("baton-dev-updates-o/r/m".into()),
            environment: Some("dev".into()),
            pull_request: Some(7),
        };
        let event = json!({"action": "dev_updates_merged", "client_payload": p});
        assert_eq!(payload_of(&event), Some(p));
        assert_eq!(payload_of(&json!({"action": "x"})), None);
    }
}
