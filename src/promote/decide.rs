//! Deciding, from a `pull_request` event, whether a merged update is handed to the next
//! environment, and the `repository_dispatch` payload that carries it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The `client_payload` Baton sends with `repository_dispatch`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// The dependency ID that was updated (`None`: every dependency that landed, or a group's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency: Option<String>,
    /// The version now in the source environment, without `v`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    /// Whether what landed is a rollback: the next environment is then moved to the same
    /// version even if that is lower than what it runs.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rollback: bool,
    /// The group whose update merged: its dependencies travel in `dependencies`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// For a group: every dependency of it and the version that landed for each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<crate::spec::group::Member>,
}

impl Payload {
    /// What it promotes, for messages: the group and its versions, the dependency, or every
    /// dependency that landed.
    pub fn what(&self) -> String {
        if let Some(group) = &self.group {
            let each: Vec<String> = self
                .dependencies
                .iter()
                .map(|m| format!("{} {}", m.dependency, m.version))
                .collect();
            return format!("group {group} ({})", each.join(", "));
        }
        format!(
            "{} at {}",
            self.dependency.as_deref().unwrap_or("every dependency"),
            self.version
                .as_deref()
                .unwrap_or("the versions that landed")
        )
    }
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
        .and_then(|p| crate::update::branch::dependency_of(p, &branch));
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

/// Whether a merged pull request came from this repository (its head repository is its base
/// repository), as a promotion requires: a fork's branch is never handed on, whatever its name
/// or labels. `Err` says why not.
pub fn from_this_repository(event: &Value) -> Result<(), String> {
    let pr = event.get("pull_request").unwrap_or(&Value::Null);
    let number = pr.get("number").and_then(Value::as_u64).unwrap_or(0);
    let name = |pointer: &str| {
        pr.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let base = name("/base/repo/full_name").or_else(|| {
        event
            .pointer("/repository/full_name")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    match (name("/head/repo/full_name"), base) {
        (Some(head), Some(base)) if head.eq_ignore_ascii_case(&base) => Ok(()),
        (Some(head), Some(base)) => Err(format!(
            "pull request #{number} came from {head}, not from {base}: a fork's pull request is never promoted"
        )),
        _ => Err(format!(
            "pull request #{number} does not say which repository it came from (head.repo is missing or deleted): not promoted"
        )),
    }
}

/// The `client_payload` of a `repository_dispatch` event, when it names something to promote.
pub fn payload_of(event: &Value) -> Option<Payload> {
    let payload = event.get("client_payload")?;
    serde_json::from_value(payload.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn only_pull_requests_from_this_repository_are_promoted() {
        let mut e = event("closed", true, "baton-x", &[]);
        e["pull_request"]["head"]["repo"] = json!({"full_name": "acme/live"});
        e["pull_request"]["base"] = json!({"repo": {"full_name": "acme/live"}});
        assert_eq!(from_this_repository(&e), Ok(()));
        e["pull_request"]["head"]["repo"] = json!({"full_name": "mallory/live"});
        assert!(
            from_this_repository(&e)
                .unwrap_err()
                .contains("mallory/live")
        );
        e["pull_request"]["head"]["repo"] = Value::Null;
        assert!(
            from_this_repository(&e)
                .unwrap_err()
                .contains("missing or deleted")
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
            rollback: true,
            ..Payload::default()
        };
        let event = json!({"action": "dev_updates_merged", "client_payload": p});
        assert_eq!(payload_of(&event), Some(p));
        assert_eq!(payload_of(&json!({"action": "x"})), None);
    }
}
