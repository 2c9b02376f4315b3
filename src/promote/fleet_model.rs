//! What fleet status knows of each repository, as plain data: the environments it found, the
//! versions of every dependency per environment (from [`super::status::matrix`]), its open update
//! pull requests with their age and the gates holding them, or why the repository could not be
//! read. The same shape is the JSON output, and is read back to merge the shards of a fleet run.

use super::status::{Gap, Soaking, StatusMatrix};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// An environment of a repository, as fleet status needs it: its folders, how its update pull
/// requests are recognised, and the gates of promotions into it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetEnv {
    /// Its name.
    pub name: String,
    /// Its folders (doublestar globs).
    pub include: Vec<String>,
    /// Folders left out.
    pub exclude: Vec<String>,
    /// Its update branches start with this.
    pub branch_prefix: String,
    /// Labels of its update pull requests.
    pub labels: Vec<String>,
    /// Soak time a version needs in the environment before this one.
    pub min_soak: Option<Duration>,
    /// Checks that must pass before an update merged here is promoted onwards.
    pub required_checks: Vec<String>,
    /// Approving reviews an update pull request here needs before it is promoted onwards.
    pub require_approvals: u32,
}

impl FleetEnv {
    /// An environment found from folder names, with the defaults `baton init` writes.
    pub fn derived(name: &str, include: String) -> FleetEnv {
        FleetEnv {
            name: name.to_string(),
            include: vec![include],
            exclude: Vec::new(),
            branch_prefix: format!("baton-{name}-updates-"),
            labels: vec![format!("updates-{name}")],
            min_soak: None,
            required_checks: Vec::new(),
            require_approvals: 0,
        }
    }
}

/// Reads a repository's config file text (`path` for messages) into its environments.
pub type ReadConfig = fn(text: &str, path: &str) -> Result<Vec<FleetEnv>, String>;

/// Groups a repository's top-level folder names into environments, as `baton init` does:
/// `(name, include glob)` in promotion order.
pub type DeriveEnvs = fn(top_folders: &[String]) -> Vec<(String, String)>;

/// One dependency of a repository across its environments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetDependency {
    /// The dependency ID.
    pub id: String,
    /// Versions per environment, in the repository's environment order (`[]`: not used).
    pub versions: Vec<Vec<String>>,
    /// Pending promotions: `to` runs an older version than `from`.
    #[serde(default)]
    pub pending: Vec<Gap>,
    /// Environments that run several versions.
    #[serde(default)]
    pub mixed: Vec<String>,
    /// Environments ahead of the one before them.
    #[serde(default)]
    pub ahead: Vec<Gap>,
    /// Pending promotions the soak time holds.
    #[serde(default)]
    pub soaking: Vec<Soaking>,
}

/// An open update pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdatePull {
    /// Its number.
    pub number: u64,
    /// Its page.
    pub url: String,
    /// Its title (untrusted).
    pub title: String,
    /// The environment it updates.
    pub environment: String,
    /// The dependency it updates, read from its branch; `None` for a group or an unknown branch.
    #[serde(default)]
    pub dependency: Option<String>,
    /// When it was opened (RFC 3339).
    pub opened_at: String,
    /// How long it has been open, in seconds.
    pub open_for_secs: u64,
    /// Open longer than the stuck threshold.
    pub stuck: bool,
    /// What holds it: failing or missing checks, missing approvals.
    #[serde(default)]
    pub held: Vec<String>,
}

impl UpdatePull {
    /// How long it has been open, in words (`9d 2h`).
    pub fn open_for(&self) -> String {
        crate::clock::human(Duration::from_secs(self.open_for_secs))
    }
}

/// One repository of the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoStatus {
    /// `owner/name` (untrusted when listed from an organisation).
    pub repository: String,
    /// Why it could not be read; the rest is empty then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<String>,
    /// Where its environments come from (`.github/baton.toml`, or folder names).
    #[serde(default)]
    pub environments_from: String,
    /// The commit of the default branch that was read.
    #[serde(default)]
    pub commit: String,
    /// Its environments, in promotion order.
    #[serde(default)]
    pub environments: Vec<String>,
    /// Its dependencies, by ID.
    #[serde(default)]
    pub dependencies: Vec<FleetDependency>,
    /// Its open update pull requests, by number.
    #[serde(default)]
    pub pulls: Vec<UpdatePull>,
    /// Problems met while reading it (files that did not parse, an environment matching nothing).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl RepoStatus {
    /// A repository that could not be read, and why.
    pub fn unreachable(repository: &str, reason: impl Into<String>) -> RepoStatus {
        RepoStatus {
            repository: repository.to_string(),
            unreachable: Some(reason.into()),
            environments_from: String::new(),
            commit: String::new(),
            environments: Vec::new(),
            dependencies: Vec::new(),
            pulls: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// A repository read, its environments from `source`; the rest is filled as it is read.
    pub fn read(repository: &str, source: String) -> RepoStatus {
        RepoStatus {
            unreachable: None,
            environments_from: source,
            ..RepoStatus::unreachable(repository, "")
        }
    }

    /// The dependencies of a status matrix.
    pub fn dependencies_of(matrix: &StatusMatrix) -> Vec<FleetDependency> {
        matrix
            .dependencies
            .iter()
            .map(|d| FleetDependency {
                id: d.id.clone(),
                versions: d.versions.clone(),
                pending: d.drift.clone(),
                mixed: d.mixed.clone(),
                ahead: d.ahead.clone(),
                soaking: d.gated.clone(),
            })
            .collect()
    }

    /// The open update pull requests of `dependency` into `environment`.
    pub fn pulls_for(&self, environment: &str, dependency: &str) -> Vec<&UpdatePull> {
        self.pulls
            .iter()
            .filter(|p| p.environment == environment && p.dependency.as_deref() == Some(dependency))
            .collect()
    }
}

/// The whole fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetReport {
    /// An update pull request open longer than this is stuck, in seconds.
    pub stuck_after_secs: u64,
    /// Every repository, by name.
    pub repositories: Vec<RepoStatus>,
    /// Repositories of the organisation left out (archived, forks, other topics), in words.
    #[serde(default)]
    pub skipped: Vec<String>,
}

impl FleetReport {
    /// Pull requests open longer than the threshold, with their repository.
    pub fn stuck(&self) -> Vec<(&RepoStatus, &UpdatePull)> {
        self.pulls(|p| p.stuck)
    }

    /// Pull requests a gate holds, with their repository.
    pub fn held(&self) -> Vec<(&RepoStatus, &UpdatePull)> {
        self.pulls(|p| !p.held.is_empty())
    }

    fn pulls(&self, pick: fn(&UpdatePull) -> bool) -> Vec<(&RepoStatus, &UpdatePull)> {
        self.repositories
            .iter()
            .flat_map(|r| r.pulls.iter().filter(|p| pick(p)).map(move |p| (r, p)))
            .collect()
    }

    /// Whether any dependency of any repository has a pending promotion.
    pub fn has_pending(&self) -> bool {
        self.repositories
            .iter()
            .any(|r| r.dependencies.iter().any(|d| !d.pending.is_empty()))
    }

    /// The repositories that could not be read.
    pub fn unreachable(&self) -> Vec<&RepoStatus> {
        self.repositories
            .iter()
            .filter(|r| r.unreachable.is_some())
            .collect()
    }

    /// Every environment name of the fleet, in an order that keeps each repository's own: a
    /// name not seen yet goes right after the name before it in that repository.
    pub fn environment_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for repo in &self.repositories {
            let mut after: Option<usize> = None;
            for (k, name) in repo.environments.iter().enumerate() {
                match out.iter().position(|n| n == name) {
                    Some(i) => after = Some(i),
                    None => {
                        // First of its repository: before the next name already placed.
                        let before = || {
                            repo.environments[k + 1..]
                                .iter()
                                .find_map(|later| out.iter().position(|n| n == later))
                        };
                        let at = after.map(|i| i + 1).or_else(before).unwrap_or(out.len());
                        out.insert(at, name.clone());
                        after = Some(at);
                    }
                }
            }
        }
        out
    }

    /// Several reports (the shards of one run) as one, repositories by name.
    pub fn merge(parts: Vec<FleetReport>) -> FleetReport {
        let stuck_after_secs = parts.iter().map(|p| p.stuck_after_secs).max().unwrap_or(0);
        let mut repositories: Vec<RepoStatus> = Vec::new();
        let mut skipped = Vec::new();
        for part in parts {
            repositories.extend(part.repositories);
            skipped.extend(part.skipped);
        }
        sort_repositories(&mut repositories);
        repositories.dedup_by(|a, b| a.repository == b.repository);
        skipped.sort();
        skipped.dedup();
        FleetReport {
            stuck_after_secs,
            repositories,
            skipped,
        }
    }
}

/// Repositories in name order, case aside (as GitHub lists them).
pub fn sort_repositories(repos: &mut [RepoStatus]) {
    repos.sort_by(|a, b| {
        a.repository
            .to_lowercase()
            .cmp(&b.repository.to_lowercase())
            .then(a.repository.cmp(&b.repository))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo(name: &str, envs: &[&str]) -> RepoStatus {
        RepoStatus {
            environments: envs.iter().map(|e| e.to_string()).collect(),
            ..RepoStatus::unreachable(name, "")
        }
    }

    #[test]
    fn columns_keep_each_repository_order() {
        let report = FleetReport {
            stuck_after_secs: 0,
            repositories: vec![
                repo("a", &["dev", "prod"]),
                repo("b", &["dev", "stage", "prod"]),
                repo("c", &["qa", "prod"]),
            ],
            skipped: vec![],
        };
        assert_eq!(report.environment_columns(), ["dev", "stage", "qa", "prod"]);
    }

    #[test]
    fn merged_shards_are_one_report_in_name_order() {
        let a = FleetReport {
            stuck_after_secs: 60,
            repositories: vec![repo("acme/b", &["dev"])],
            skipped: vec!["1 archived".into()],
        };
        let b = FleetReport {
            stuck_after_secs: 60,
            repositories: vec![repo("acme/A", &["dev"]), repo("acme/b", &["dev"])],
            skipped: vec!["1 archived".into()],
        };
        let m = FleetReport::merge(vec![a, b]);
        let names: Vec<&str> = m
            .repositories
            .iter()
            .map(|r| r.repository.as_str())
            .collect();
        assert_eq!(names, ["acme/A", "acme/b"]);
        assert_eq!(m.skipped, ["1 archived"]);
    }
}
