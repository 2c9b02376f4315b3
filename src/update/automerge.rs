//! GitHub's auto-merge on an update pull request: it merges by itself once the branch
//! protection's required checks pass. The repository's settings are read first (REST): where it
//! does not allow auto-merge or the merge method, Baton says so and leaves the pull request for
//! a human; it is never a failure of the update. Then GraphQL's `enablePullRequestAutoMerge`.

use super::publish::RepoRef;
use crate::clients::github::GitHub;
use crate::clients::graphql::GraphQlError;
use crate::clients::wire::{ENABLE_AUTO_MERGE, RepoMergeSettings};
use serde::{Deserialize, Serialize};

/// How an auto-merged pull request is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MergeMethod {
    /// One commit on the default branch (the default).
    #[default]
    Squash,
    /// A merge commit.
    Merge,
    /// The branch's commits rebased onto the default branch.
    Rebase,
}

impl MergeMethod {
    /// As the config and the flag write it.
    pub fn as_str(self) -> &'static str {
        match self {
            MergeMethod::Squash => "squash",
            MergeMethod::Merge => "merge",
            MergeMethod::Rebase => "rebase",
        }
    }

    /// As GraphQL's `PullRequestMergeMethod` writes it.
    pub fn graphql(self) -> &'static str {
        match self {
            MergeMethod::Squash => "SQUASH",
            MergeMethod::Merge => "MERGE",
            MergeMethod::Rebase => "REBASE",
        }
    }

    /// Parses `squash`, `merge` or `rebase`.
    pub fn parse(text: &str) -> Option<MergeMethod> {
        match text.trim().to_ascii_lowercase().as_str() {
            "squash" => Some(MergeMethod::Squash),
            "merge" => Some(MergeMethod::Merge),
            "rebase" => Some(MergeMethod::Rebase),
            _ => None,
        }
    }

    /// The repository setting that allows it.
    fn setting(self) -> &'static str {
        match self {
            MergeMethod::Squash => "allow_squash_merge",
            MergeMethod::Merge => "allow_merge_commit",
            MergeMethod::Rebase => "allow_rebase_merge",
        }
    }

    fn allowed_by(self, s: &RepoMergeSettings) -> Option<bool> {
        match self {
            MergeMethod::Squash => s.allow_squash_merge,
            MergeMethod::Merge => s.allow_merge_commit,
            MergeMethod::Rebase => s.allow_rebase_merge,
        }
    }
}

/// What became of auto-merge on the pull request (in `update`'s JSON output and summary).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AutoMergeOutcome {
    /// Whether GitHub now merges the pull request by itself once its required checks pass.
    pub enabled: bool,
    /// The merge method asked for.
    pub merge_method: MergeMethod,
    /// Why it was not turned on: the pull request is left for a human.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AutoMergeOutcome {
    fn refused(method: MergeMethod, reason: String) -> AutoMergeOutcome {
        AutoMergeOutcome {
            enabled: false,
            merge_method: method,
            reason: Some(reason),
        }
    }

    /// One sentence on it, for logs and summaries (`reason` quotes GitHub: print it escaped).
    pub fn sentence(&self) -> String {
        match &self.reason {
            None => format!(
                "auto-merge on ({}): GitHub merges the pull request once its required checks pass",
                self.merge_method.as_str()
            ),
            Some(reason) => {
                format!("auto-merge not turned on, the pull request waits for a human: {reason}")
            }
        }
    }
}

/// Why the repository's settings rule auto-merge out, if they do. A setting GitHub did not show
/// (a token that cannot push sees none) rules nothing out: the mutation then answers.
pub fn ruled_out(
    repo: &RepoRef,
    settings: &RepoMergeSettings,
    method: MergeMethod,
) -> Option<String> {
    let name = format!("{}/{}", repo.owner, repo.name);
    if settings.allow_auto_merge == Some(false) {
        return Some(format!(
            "{name} does not allow auto-merge (Settings → General → Pull Requests → \"Allow auto-merge\", the repository's `allow_auto_merge`)"
        ));
    }
    if method.allowed_by(settings) == Some(false) {
        return Some(format!(
            "{name} does not allow the merge method {} (`{}` is off); set merge_method to one it allows",
            method.as_str(),
            method.setting()
        ));
    }
    None
}

/// Turns on auto-merge of the pull request whose GraphQL ID is `node_id`, after checking that
/// the repository allows it and the method. Never fails: what stood in the way is the outcome's
/// reason.
pub async fn enable(
    gh: &GitHub,
    repo: &RepoRef,
    node_id: Option<&str>,
    method: MergeMethod,
) -> AutoMergeOutcome {
    let route = format!("/repos/{}/{}", repo.owner, repo.name);
    let settings = match gh.get_json::<RepoMergeSettings>(&route).await {
        Ok(s) => s,
        Err(e) => {
            return AutoMergeOutcome::refused(
                method,
                format!("the repository's merge settings could not be read ({e})"),
            );
        }
    };
    if let Some(reason) = ruled_out(repo, &settings, method) {
        return AutoMergeOutcome::refused(method, reason);
    }
    let Some(node_id) = node_id.filter(|n| !n.is_empty()) else {
        return AutoMergeOutcome::refused(
            method,
            "GitHub gave no node_id for the pull request, which auto-merge needs".into(),
        );
    };
    let variables = serde_json::json!({
        "pullRequestId": node_id,
        "mergeMethod": method.graphql(),
    });
    match gh.graphql(ENABLE_AUTO_MERGE, variables).await {
        Ok(_) => AutoMergeOutcome {
            enabled: true,
            merge_method: method,
            reason: None,
        },
        Err(GraphQlError::Refused { messages, .. }) => AutoMergeOutcome::refused(
            method,
            format!("GitHub refused it: {}", messages.join("; ")),
        ),
        Err(e) => AutoMergeOutcome::refused(method, format!("{e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> RepoRef {
        RepoRef {
            host: "github.com".into(),
            owner: "acme".into(),
            name: "live".into(),
        }
    }

    #[test]
    fn settings_rule_out_what_the_repository_refuses() {
        let off = RepoMergeSettings {
            allow_auto_merge: Some(false),
            ..Default::default()
        };
        let why = ruled_out(&repo(), &off, MergeMethod::Squash).unwrap();
        assert!(why.contains("does not allow auto-merge"), "{why}");
        let no_squash = RepoMergeSettings {
            allow_auto_merge: Some(true),
            allow_squash_merge: Some(false),
            allow_merge_commit: Some(true),
            ..Default::default()
        };
        let why = ruled_out(&repo(), &no_squash, MergeMethod::Squash).unwrap();
        assert!(why.contains("allow_squash_merge"), "{why}");
        assert_eq!(ruled_out(&repo(), &no_squash, MergeMethod::Merge), None);
        assert_eq!(
            ruled_out(&repo(), &RepoMergeSettings::default(), MergeMethod::Rebase),
            None
        );
        assert_eq!(MergeMethod::parse(" Rebase"), Some(MergeMethod::Rebase));
        assert_eq!(MergeMethod::parse("fast-forward"), None);
    }
}
