//! Publishing an update: one commit on a branch cut from the default branch, force-pushed, and a
//! pull request opened or, when one is already open for that branch, updated in place.
//!
//! Every step is idempotent, because GitHub retries and re-runs happen: a re-run replaces the
//! branch and edits the same pull request.

use crate::clients::git::{Git, GitError, Token};
use crate::clients::github::{GitHub, GitHubError, plain_name};
use crate::clients::wire::PullItem;
use serde::Serialize;
use serde_json::json;

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
/// Owners and names that are not plain names (see [`plain_name`]) give `None`.
pub fn repo_from_url(url: &str) -> Option<RepoRef> {
    match crate::find::source::Source::parse(&format!("git::{url}")) {
        crate::find::source::Source::Git(g)
            if !g.host.is_empty() && plain_name(&g.owner) && plain_name(&g.repo) =>
        {
            Some(RepoRef {
                host: g.host,
                owner: g.owner,
                name: g.repo,
            })
        }
        _ => None,
    }
}

/// `owner/name` from `GITHUB_REPOSITORY`.
pub fn repo_from_slug(slug: &str, host: &str) -> Option<RepoRef> {
    let (owner, name) = slug.trim().split_once('/')?;
    (plain_name(owner) && plain_name(name)).then(|| RepoRef {
        host: host.to_string(),
        owner: owner.to_string(),
        name: name.to_string(),
    })
}

/// The host (and port, when not the default) that pushes to a remote URL go to, as git matches
/// `http.<url>.extraheader`: `ghe.example.com:8443` for `https://ghe.example.com:8443/o/r.git`.
/// `None` for remotes that are not `https` (SSH needs no token; plain HTTP never gets one).
pub fn push_host(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url.trim()).ok()?;
    if parsed.scheme() != "https" {
        return None;
    }
    let host = parsed.host_str()?.to_ascii_lowercase();
    Some(match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
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
    /// Its GraphQL ID, for auto-merge.
    #[serde(skip)]
    pub node_id: Option<String>,
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

/// The trailer that marks Baton's commits (`Baton-Update: <dependency IDs>`). A commit counts as
/// Baton's when it carries it and was committed with Baton's commit author.
pub const TRAILER: &str = "Baton-Update";

/// `message` with Baton's trailer as its last paragraph.
pub fn with_trailer(message: &str, value: &str) -> String {
    let value: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("{}\n\n{TRAILER}: {}\n", message.trim_end(), value.trim())
}

/// The private ref the remote update branch is fetched into (one name, so that branch names that
/// nest, `a/b` and `a/b/c`, never clash among remote-tracking refs).
const FETCHED: &str = "refs/baton/update-branch";

/// What the update branch on `origin` holds beyond the default branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteBranch {
    /// No such branch.
    Absent,
    /// Only Baton's commits, or none beyond the default branch: a re-run may replace it.
    Batons {
        /// Where it points.
        sha: String,
    },
    /// Baton's commits and someone else's (a reviewer's edit): left alone.
    Edited {
        /// Where it points.
        sha: String,
        /// The commits Baton did not make, as `abc1234 by Name <email>`.
        others: Vec<String>,
    },
    /// Commits and none of them Baton's: a branch Baton did not make.
    NotBatons {
        /// Where it points.
        sha: String,
        /// Its commits, as `abc1234 by Name <email>`.
        others: Vec<String>,
    },
}

impl RemoteBranch {
    /// Where the branch points, when it exists.
    pub fn sha(&self) -> Option<&str> {
        match self {
            RemoteBranch::Absent => None,
            RemoteBranch::Batons { sha }
            | RemoteBranch::Edited { sha, .. }
            | RemoteBranch::NotBatons { sha, .. } => Some(sha),
        }
    }
}

/// Looks at `branch` on `origin` as it is now: its commits beyond `default_branch` and who made
/// them. `email` is the address Baton commits with.
pub fn remote_branch(
    git: &Git,
    default_branch: &str,
    branch: &str,
    email: &str,
) -> Result<RemoteBranch, PublishError> {
    let refname = format!("refs/heads/{branch}");
    let listed = git
        .run(&["ls-remote", "--end-of-options", "origin", &refname])
        .map_err(git_step("looking for the branch on origin"))?;
    let Some(sha) = listed.lines().find_map(|line| {
        let (sha, name) = line.split_once('\t')?;
        (name == refname).then(|| sha.to_string())
    }) else {
        return Ok(RemoteBranch::Absent);
    };
    git.fetch(
        "origin",
        &format!("+refs/heads/{default_branch}:refs/remotes/origin/{default_branch}"),
    )
    .map_err(git_step("fetching the default branch"))?;
    git.fetch("origin", &format!("+{refname}:{FETCHED}"))
        .map_err(git_step("fetching the branch"))?;
    let format = format!(
        "--format=%H%x1f%ce%x1f%an <%ae>%x1f%(trailers:key={TRAILER},valueonly,separator=%x2C)"
    );
    let range = format!("refs/remotes/origin/{default_branch}..{FETCHED}");
    let log = git
        .run(&["log", &format, "--end-of-options", &range])
        .map_err(git_step("reading the branch's commits"))?;
    let (mut batons, mut others) = (0, Vec::new());
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\x1f').collect();
        let [commit, committer, author, trailer] = fields.as_slice() else {
            continue;
        };
        if !trailer.trim().is_empty() && committer.eq_ignore_ascii_case(email) {
            batons += 1;
        } else {
            others.push(format!("{} by {author}", commit.get(..7).unwrap_or(commit)));
        }
    }
    Ok(match (batons, others.is_empty()) {
        (_, true) => RemoteBranch::Batons { sha },
        (0, false) => RemoteBranch::NotBatons { sha, others },
        _ => RemoteBranch::Edited { sha, others },
    })
}

/// Commits the edited files (and only them) and pushes the branch, replacing it only if it is
/// still where [`remote_branch`] saw it (`expected`). `Ok(None)` with nothing pushed when the
/// branch moved meanwhile: someone pushed to it, and it is left alone.
pub fn commit_and_push_over(
    git: &Git,
    files: &[std::path::PathBuf],
    message: &str,
    branch: &str,
    expected: Option<&str>,
) -> Result<Pushed, PublishError> {
    let paths: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    git.add(&paths).map_err(git_step("staging the edits"))?;
    let sha = git.commit(message).map_err(git_step("committing"))?;
    match git.push_with_lease("origin", branch, expected) {
        Ok(()) => Ok(Pushed::Pushed(sha)),
        Err(GitError::Failed { stderr, .. }) if stderr.contains("stale info") => {
            Ok(Pushed::MovedMeanwhile)
        }
        Err(e) => Err(git_step(
            "pushing the branch (check that the token may push and that the branch is not protected)",
        )(e)),
    }
}

/// What [`commit_and_push_over`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The branch now holds this commit (`None`: nothing was staged).
    Pushed(Option<String>),
    /// The branch moved after it was looked at; nothing was pushed.
    MovedMeanwhile,
}

/// The open pull request for `branch`, if any.
pub async fn open_pull_request(
    gh: &GitHub,
    repo: &RepoRef,
    branch: &str,
) -> Result<Option<PublishedPr>, PublishError> {
    let req = PublishRequest {
        repo: repo.clone(),
        branch: branch.to_string(),
        title: String::new(),
        body: String::new(),
        commit_message: String::new(),
        author: (String::new(), String::new()),
        labels: Vec::new(),
        reviewers: Vec::new(),
        draft: false,
    };
    Ok(find_open_pr(gh, &req).await?.map(|p| PublishedPr {
        number: p.number,
        url: p.html_url,
        created: false,
        node_id: p.node_id,
    }))
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
                    node_id: created.node_id,
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
    // Built with an encoder: a branch may hold `&`, `=`, `#` or `%` (they come from module paths).
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("state", "open")
        .append_pair("head", &format!("{owner}:{}", req.branch))
        .append_pair("per_page", "100")
        .finish();
    let list: Vec<PullItem> = gh
        .all_pages(&format!("/repos/{owner}/{name}/pulls?{query}"))
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
        node_id: pr.node_id,
    })
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
        assert_eq!(repo_from_slug("../x", "github.com"), None);
        assert_eq!(repo_from_url("https://github.com/acme/%2e%2e.git"), None);
    }

    #[test]
    fn pushes_go_to_the_host_and_port_of_the_remote() {
        assert_eq!(
            push_host("https://ghe.example.com:8443/acme/live.git").as_deref(),
            Some("ghe.example.com:8443")
        );
        assert_eq!(
            push_host("https://GitHub.com:443/acme/live").as_deref(),
            Some("github.com")
        );
        assert_eq!(push_host("git@github.com:acme/live.git"), None);
        assert_eq!(push_host("http://ghe.example.com/acme/live.git"), None);
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
}
