//! Publishing an update: one commit on a branch cut from the default branch, force-pushed, and a
//! pull request opened or, when one is already open for that branch, updated in place.
//!
//! Every step is idempotent, because GitHub retries and re-runs happen: a re-run replaces the
//! branch and edits the same pull request.

use crate::git::{Git, GitError, Token};
use crate::github::{GitHub, GitHubError, Release};
use crate::output::cell;
use crate::update::Change;
use crate::version::{self, Version};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The author Baton commits as when none is given.
pub const DEFAULT_AUTHOR: &str =
    "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>";

/// A GitHub repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoRef {
    /// Host (`github.com`, a GHES host).
    pub host: String,
    /// Owner.
    pub owner: String,
    /// Name.
    pub name: String,
}

/// The repository of a remote URL (`https://github.com/o/r.git`, `git@github.com:o/r.git`).
pub fn repo_from_url(url: &str) -> Option<RepoRef> {
    match crate::source::Source::parse(&format!("git::{url}")) {
        crate::source::Source::Git(g) if !g.host.is_empty() => Some(RepoRef {
            host: g.host,
            owner: g.owner,
            name: g.repo,
        }),
        _ => None,
    }
}

/// `owner/name` from `GITHUB_REPOSITORY`.
pub fn repo_from_slug(slug: &str, host: &str) -> Option<RepoRef> {
    let (owner, name) = slug.trim().split_once('/')?;
    (!owner.is_empty() && !name.is_empty() && !name.contains('/')).then(|| RepoRef {
        host: host.to_string(),
        owner: owner.to_string(),
        name: name.to_string(),
    })
}

/// Splits `Name <email>`.
pub fn parse_author(s: &str) -> Option<(String, String)> {
    let (name, rest) = s.split_once('<')?;
    let email = rest.strip_suffix('>')?.trim();
    let name = name.trim();
    (!name.is_empty() && email.contains('@')).then(|| (name.to_string(), email.to_string()))
}

/// What to publish and how.
#[derive(Debug, Clone)]
pub struct PublishRequest {
    /// The repository on GitHub.
    pub repo: RepoRef,
    /// The branch to push.
    pub branch: String,
    /// Pull request title.
    pub title: String,
    /// Pull request body.
    pub body: String,
    /// Commit message.
    pub commit_message: String,
    /// Commit author name and email.
    pub author: (String, String),
    /// Labels to add.
    pub labels: Vec<String>,
    /// Reviewers to request (`user` or `org/team`).
    pub reviewers: Vec<String>,
    /// Open as a draft.
    pub draft: bool,
}

/// The pull request that was opened or updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedPr {
    /// Its number.
    pub number: u64,
    /// Its page.
    pub url: String,
    /// Whether it was created by this run (false: an open one was updated).
    pub created: bool,
}

/// A publishing failure.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// A git step failed (git's message included).
    #[error("{step}: {source}")]
    Git {
        /// What Baton was doing.
        step: String,
        /// The failure.
        #[source]
        source: Box<GitError>,
    },
    /// A GitHub API call failed.
    #[error("{step}: {source}")]
    GitHub {
        /// What Baton was doing.
        step: String,
        /// The failure.
        #[source]
        source: Box<GitHubError>,
    },
}

fn git_step(step: &str) -> impl FnOnce(GitError) -> PublishError + '_ {
    move |source| PublishError::Git {
        step: step.to_string(),
        source: Box::new(source),
    }
}

fn gh_step(step: &str) -> impl FnOnce(GitHubError) -> PublishError + '_ {
    move |source| PublishError::GitHub {
        step: step.to_string(),
        source: Box::new(source),
    }
}

/// A git runner for the repository at `dir`, authenticated for pushes to `host` when a token is
/// given (through the environment, never argv or the remote URL).
pub fn git_for(
    dir: &std::path::Path,
    host: &str,
    token: Option<&str>,
    author: &(String, String),
) -> Git {
    let git = Git::new(dir).with_author(&author.0, &author.1);
    match token {
        Some(t) if !t.is_empty() => git.with_token(host, Token::new(t)),
        _ => git,
    }
}

/// Cuts `branch` from the default branch as it is on `origin`. Uncommitted edits are not kept:
/// call this before editing.
pub fn start_branch(git: &Git, default_branch: &str, branch: &str) -> Result<(), PublishError> {
    git.fetch(
        "origin",
        &format!("+refs/heads/{default_branch}:refs/remotes/origin/{default_branch}"),
    )
    .map_err(git_step("fetching the default branch"))?;
    git.checkout_new_branch_from(branch, &format!("origin/{default_branch}"))
        .map_err(git_step("creating the branch"))
}

/// Commits the edited files (and only them) and force-pushes the branch.
pub fn commit_and_push(
    git: &Git,
    files: &[std::path::PathBuf],
    message: &str,
    branch: &str,
) -> Result<Option<String>, PublishError> {
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    git.add(&paths).map_err(git_step("staging the edits"))?;
    let sha = git.commit(message).map_err(git_step("committing"))?;
    git.push_force("origin", branch).map_err(git_step(
        "pushing the branch (check that the token may push and that the branch is not protected)",
    ))?;
    Ok(sha)
}

#[derive(Deserialize)]
struct PullItem {
    number: u64,
    html_url: String,
}

/// Opens the pull request, or updates the open one for the same head branch.
pub async fn open_or_update_pr(
    gh: &GitHub,
    req: &PublishRequest,
    base: &str,
) -> Result<PublishedPr, PublishError> {
    let RepoRef { owner, name, .. } = &req.repo;
    let pr = match find_open_pr(gh, req).await? {
        Some(existing) => update_pr(gh, req, existing).await?,
        None => {
            let body = json!({
                "title": req.title,
                "head": req.branch,
                "base": base,
                "body": req.body,
                "draft": req.draft,
                "maintainer_can_modify": true,
            });
            match gh
                .post_json::<PullItem>(&format!("/repos/{owner}/{name}/pulls"), &body)
                .await
            {
                Ok(created) => PublishedPr {
                    number: created.number,
                    url: created.html_url,
                    created: true,
                },
                // A concurrent run or a retried POST opened it first.
                Err(e)
                    if e.status() == Some(422)
                        && e.message().is_some_and(|m| m.contains("already exists")) =>
                {
                    match find_open_pr(gh, req).await? {
                        Some(existing) => update_pr(gh, req, existing).await?,
                        None => return Err(gh_step("opening the pull request")(e)),
                    }
                }
                Err(e) => return Err(gh_step("opening the pull request")(e)),
            }
        }
    };
    if !req.labels.is_empty() {
        gh.post_json::<serde_json::Value>(
            &format!("/repos/{owner}/{name}/issues/{}/labels", pr.number),
            &json!({ "labels": req.labels }),
        )
        .await
        .map_err(gh_step("labelling the pull request"))?;
    }
    if !req.reviewers.is_empty() {
        let (teams, users): (Vec<&String>, Vec<&String>) =
            req.reviewers.iter().partition(|r| r.contains('/'));
        let teams: Vec<&str> = teams
            .iter()
            .filter_map(|t| t.split_once('/').map(|(_, slug)| slug))
            .collect();
        let result = gh
            .post_json::<serde_json::Value>(
                &format!(
                    "/repos/{owner}/{name}/pulls/{}/requested_reviewers",
                    pr.number
                ),
                &json!({ "reviewers": users, "team_reviewers": teams }),
            )
            .await;
        if let Err(e) = result {
            // Reviewers are a courtesy: the pull request stands without them.
            log::warn!("could not request reviewers: {e}");
        }
    }
    Ok(pr)
}

async fn find_open_pr(gh: &GitHub, req: &PublishRequest) -> Result<Option<PullItem>, PublishError> {
    let RepoRef { owner, name, .. } = &req.repo;
    let list: Vec<PullItem> = gh
        .all_pages(&format!(
            "/repos/{owner}/{name}/pulls?state=open&head={owner}:{}&per_page=100",
            req.branch
        ))
        .await
        .map_err(gh_step("looking for an open pull request"))?;
    Ok(list.into_iter().next())
}

async fn update_pr(
    gh: &GitHub,
    req: &PublishRequest,
    pr: PullItem,
) -> Result<PublishedPr, PublishError> {
    let RepoRef { owner, name, .. } = &req.repo;
    gh.patch_json::<serde_json::Value>(
        &format!("/repos/{owner}/{name}/pulls/{}", pr.number),
        &json!({ "title": req.title, "body": req.body }),
    )
    .await
    .map_err(gh_step("updating the open pull request"))?;
    Ok(PublishedPr {
        number: pr.number,
        url: pr.html_url,
        created: false,
    })
}

/// What the pull request body describes for one dependency.
#[derive(Debug, Clone)]
pub struct BodyDependency {
    /// Dependency ID.
    pub id: String,
    /// Lowest version in use before.
    pub from: Option<Version>,
    /// The target.
    pub to: Version,
    /// Published releases of the module repository, when known.
    pub releases: Vec<Release>,
}

/// What the pull request body describes.
#[derive(Debug, Clone)]
pub struct BodyInput<'a> {
    /// Environment name (from the label `updates-<env>`) or the include globs.
    pub environment: &'a str,
    /// Strategy, as written.
    pub strategy: &'a str,
    /// Dependencies updated.
    pub dependencies: &'a [BodyDependency],
    /// Every change.
    pub changes: &'a [Change],
    /// Usages left alone.
    pub skipped: &'a [crate::spec::SkippedUsage],
}

/// The longest release-notes excerpt included per version.
const NOTES_LIMIT: usize = 1500;

/// Renders the pull request body (GitHub markdown).
pub fn render_body(input: &BodyInput<'_>) -> String {
    let mut out = String::new();
    for dep in input.dependencies {
        let from = dep
            .from
            .as_ref()
            .map_or("?".to_string(), ToString::to_string);
        let _ = writeln!(out, "## Update `{}` from {from} to {}\n", dep.id, dep.to);
    }
    let _ = writeln!(
        out,
        "Baton updated {} in **{}** with the `{}` strategy. Only version strings changed.\n",
        if input.dependencies.len() == 1 {
            "this dependency"
        } else {
            "these dependencies"
        },
        cell(input.environment),
        input.strategy
    );
    out.push_str("| File | Line | Previous | New |\n|---|---|---|---|\n");
    for c in input.changes {
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | `{}` |",
            cell(&c.file),
            c.line,
            cell(&c.from),
            cell(&c.to)
        );
    }
    for dep in input.dependencies {
        let crossed = crossed_releases(dep);
        let breaking: Vec<&Version> = crossed
            .iter()
            .map(|(v, _)| v)
            .filter(|v| {
                dep.from
                    .as_ref()
                    .is_some_and(|f| version::is_breaking(f, v))
            })
            .collect();
        if let Some(first) = breaking.first() {
            let _ = writeln!(
                out,
                "\n> [!WARNING]\n> `{}` {first} is a breaking release: read its notes and plan before merging.",
                dep.id
            );
        }
        if crossed.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### Release notes of `{}`\n", dep.id);
        for (v, r) in &crossed {
            let mark = if breaking.contains(&v) {
                " — **breaking**"
            } else {
                ""
            };
            let _ = writeln!(out, "- [{}]({}){mark}", r.tag_name, r.html_url);
        }
        for (_, r) in crossed.iter().rev() {
            let Some(body) = r.body.as_deref().map(str::trim).filter(|b| !b.is_empty()) else {
                continue;
            };
            let mut text: String = body.chars().take(NOTES_LIMIT).collect();
            if text.len() < body.len() {
                let _ = write!(text, "…\n\n[Read more]({})", r.html_url);
            }
            let _ = writeln!(
                out,
                "\n<details><summary>{}</summary>\n\n{}\n\n</details>",
                r.tag_name, text
            );
        }
    }
    let shared: Vec<&Change> = input
        .changes
        .iter()
        .filter(|c| !c.used_by.is_empty())
        .collect();
    if !shared.is_empty() {
        out.push_str(
            "\n### Shared files\n\nThese versions are written once in a file that several units read: each was edited there, and every file listed takes the new version from it. All of them are in this environment (Baton refuses to edit a shared file that another environment reads).\n\n",
        );
        for c in shared {
            let readers: Vec<String> = c.used_by.iter().map(|f| format!("`{}`", cell(f))).collect();
            let _ = writeln!(
                out,
                "- `{}` line {} (`{}` `{}` → `{}`) is read by {}",
                cell(&c.file),
                c.line,
                cell(&c.dependency),
                cell(&c.from),
                cell(&c.to),
                readers.join(", ")
            );
        }
    }
    if !input.skipped.is_empty() {
        out.push_str("\n### Not updated\n\n");
        for s in input.skipped {
            let _ = writeln!(out, "- `{}:{}`: {}", cell(&s.file), s.line, s.reason);
        }
    }
    out.push_str(
        "\n### How to review\n\n\
         1. Run `terragrunt plan` (or `tofu plan` / `terraform plan`) in each changed folder of this environment and check that only expected changes appear.\n\
         2. Read the release notes above, breaking releases first.\n\
         3. Merge. Baton then opens the same update, at exactly the version merged here, in the next environment.\n\n\
         A reviewer may change the version on this branch before merging: the next environment follows what was merged.\n",
    );
    out
}

/// Releases after `from` up to and including `to`, oldest first.
fn crossed_releases(dep: &BodyDependency) -> Vec<(Version, &Release)> {
    let mut out: Vec<(Version, &Release)> = dep
        .releases
        .iter()
        .filter_map(|r| version::split_tag(&r.tag_name).map(|(_, v)| (v, r)))
        .filter(|(v, _)| dep.from.as_ref().is_none_or(|f| v > f) && *v <= dep.to)
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Releases per module repository, for the body (failures only lose the links).
pub async fn fetch_releases(
    gh: &GitHub,
    repos: &[(String, String)],
) -> BTreeMap<(String, String), Vec<Release>> {
    let mut out = BTreeMap::new();
    for (owner, repo) in repos {
        match gh.releases(owner, repo).await {
            Ok(r) => {
                out.insert((owner.clone(), repo.clone()), r);
            }
            Err(e) => log::warn!("release notes of {owner}/{repo} are not available: {e}"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_from_remote_urls() {
        let want = RepoRef {
            host: "github.com".into(),
            owner: "acme".into(),
            name: "live".into(),
        };
        assert_eq!(
            repo_from_url("https://github.com/acme/live.git"),
            Some(want.clone())
        );
        assert_eq!(
            repo_from_url("https://github.com/acme/live"),
            Some(want.clone())
        );
        assert_eq!(repo_from_url("git@github.com:acme/live.git"), Some(want));
        assert_eq!(repo_from_url("/tmp/origin.git"), None);
        assert_eq!(
            repo_from_slug("acme/live", "github.com").map(|r| r.name),
            Some("live".into())
        );
        assert_eq!(repo_from_slug("acme", "github.com"), None);
    }

    #[test]
    fn authors() {
        assert_eq!(
            parse_author("Baton Bot <bot@example.com>"),
            Some(("Baton Bot".into(), "bot@example.com".into()))
        );
        assert!(parse_author(DEFAULT_AUTHOR).is_some());
        assert_eq!(parse_author("no email"), None);
    }

    fn release(tag: &str, body: &str) -> Release {
        Release {
            tag_name: tag.into(),
            name: Some(tag.into()),
            html_url: format!("https://github.com/acme/m/releases/tag/{tag}"),
            body: Some(body.into()),
            draft: false,
            prerelease: false,
        }
    }

    #[test]
    fn body_lists_files_releases_and_the_breaking_version() {
        let deps = [BodyDependency {
            id: "acme/m/vpc".into(),
            from: Some(Version::new(0, 8, 0)),
            to: Version::new(0, 9, 1),
            releases: vec![
                release("v0.7.0", "old"),
                release("v0.8.1", "fix"),
                release("v0.9.0", "BREAKING: renamed input"),
                release("v0.9.1", "patch"),
                release("v1.0.0", "future"),
            ],
        }];
        let changes = [Change {
            file: "dev/vpc/terragrunt.hcl".into(),
            line: 7,
            dependency: "acme/m/vpc".into(),
            from: "v0.8.0".into(),
            to: "v0.9.1".into(),
            used_by: vec![],
        }];
        let body = render_body(&BodyInput {
            environment: "dev",
            strategy: "next-breaking",
            dependencies: &deps,
            changes: &changes,
            skipped: &[],
        });
        assert!(
            body.contains("## Update `acme/m/vpc` from 0.8.0 to 0.9.1"),
            "{body}"
        );
        assert!(body.contains("| `dev/vpc/terragrunt.hcl` | 7 | `v0.8.0` | `v0.9.1` |"));
        assert!(
            body.contains("[v0.9.0](https://github.com/acme/m/releases/tag/v0.9.0) — **breaking**")
        );
        assert!(body.contains("0.9.0 is a breaking release"));
        assert!(body.contains("[v0.8.1]"));
        assert!(
            !body.contains("v0.7.0") && !body.contains("v1.0.0"),
            "only crossed releases"
        );
        assert!(body.contains("How to review"));
        assert!(!body.contains("Shared files"));
    }

    #[test]
    fn body_names_every_file_that_reads_a_shared_version() {
        let deps = [BodyDependency {
            id: "acme/m/vpc".into(),
            from: Some(Version::new(1, 0, 0)),
            to: Version::new(1, 2, 0),
            releases: vec![],
        }];
        let changes = [Change {
            file: "dev/_common/versions.hcl".into(),
            line: 3,
            dependency: "acme/m/vpc".into(),
            from: "v1.0.0".into(),
            to: "v1.2.0".into(),
            used_by: vec!["dev/a/terragrunt.hcl".into(), "dev/b/terragrunt.hcl".into()],
        }];
        let body = render_body(&BodyInput {
            environment: "dev",
            strategy: "next-safe",
            dependencies: &deps,
            changes: &changes,
            skipped: &[],
        });
        assert!(body.contains("### Shared files"), "{body}");
        assert!(
            body.contains(
                "- `dev/_common/versions.hcl` line 3 (`acme/m/vpc` `v1.0.0` → `v1.2.0`) is read by `dev/a/terragrunt.hcl`, `dev/b/terragrunt.hcl`"
            ),
            "{body}"
        );
        assert!(body.contains("another environment"), "{body}");
    }
}
