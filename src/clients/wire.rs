//! GitHub's answers as Baton reads them, and the list of REST operations Baton uses. One place
//! for the wire shapes, so that the tests can hold each of them against GitHub's published
//! description (`@octokit/openapi`): every operation below must exist there (on api.github.com and
//! on each supported GitHub Enterprise Server), and the description's own examples must decode
//! into these types.

use serde::Deserialize;

/// A tag of `GET /repos/{owner}/{repo}/tags`.
#[derive(Debug, Clone, Deserialize)]
pub struct TagItem {
    /// The tag's name.
    pub name: String,
}

/// A release of a module repository (`GET /repos/{owner}/{repo}/releases`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct Release {
    /// The tag it was made from.
    pub tag_name: String,
    /// Its title.
    #[serde(default)]
    pub name: Option<String>,
    /// Its page on GitHub.
    pub html_url: String,
    /// Its notes (markdown).
    #[serde(default)]
    pub body: Option<String>,
    /// Whether it is a draft.
    #[serde(default)]
    pub draft: bool,
    /// Whether it is marked as a pre-release.
    #[serde(default)]
    pub prerelease: bool,
}

/// A release with its publication time (the release-age gate).
#[derive(Debug, Clone, Deserialize)]
pub struct ReleaseDate {
    /// The tag it was made from.
    pub tag_name: String,
    /// When it was published; `null` for a draft.
    #[serde(default)]
    pub published_at: Option<String>,
}

/// A repository (`GET /repos/{owner}/{repo}`).
#[derive(Debug, Clone, Deserialize)]
pub struct RepoInfo {
    /// Its default branch.
    pub default_branch: String,
}

/// A pull request, as listed, created or updated.
#[derive(Debug, Clone, Deserialize)]
pub struct PullItem {
    /// Its number.
    pub number: u64,
    /// Its page.
    pub html_url: String,
    /// Its GraphQL ID (auto-merge is turned on through GraphQL).
    #[serde(default)]
    pub node_id: Option<String>,
}

/// A commit (`GET /repos/{owner}/{repo}/commits/{ref}`): its committer's date.
#[derive(Debug, Clone, Deserialize)]
pub struct CommitInfo {
    /// The commit object.
    pub commit: CommitDetail,
}

/// The git side of [`CommitInfo`].
#[derive(Debug, Clone, Deserialize)]
pub struct CommitDetail {
    /// Who committed it, and when; `null` when GitHub cannot tell.
    #[serde(default)]
    pub committer: Option<GitActor>,
}

/// A git author or committer.
#[derive(Debug, Clone, Deserialize)]
pub struct GitActor {
    /// When (RFC 3339).
    #[serde(default)]
    pub date: Option<String>,
}

/// The changes between two tags (`GET /repos/{owner}/{repo}/compare/{basehead}`).
#[derive(Debug, Clone, Deserialize)]
pub struct Comparison {
    /// The files changed (at most 300 on the first page).
    #[serde(default)]
    pub files: Vec<ComparedFile>,
}

/// A file of a [`Comparison`].
#[derive(Debug, Clone, Deserialize)]
pub struct ComparedFile {
    /// Its path at the head.
    pub filename: String,
    /// Its path at the base, when renamed.
    #[serde(default)]
    pub previous_filename: Option<String>,
}

/// A check run of a commit.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckRun {
    /// Its id.
    #[serde(default)]
    pub id: u64,
    /// Its name.
    pub name: String,
    /// `queued`, `in_progress`, `completed`, …
    pub status: String,
    /// `success`, `failure`, …; `null` until completed.
    #[serde(default)]
    pub conclusion: Option<String>,
    /// Where it ran (an Actions job URL).
    #[serde(default)]
    pub details_url: Option<String>,
    /// Its page.
    #[serde(default)]
    pub html_url: Option<String>,
    /// When it started.
    #[serde(default)]
    pub started_at: Option<String>,
}

/// One page of `GET /repos/{owner}/{repo}/commits/{ref}/check-runs`.
#[derive(Debug, Clone, Deserialize)]
pub struct CheckRunPage {
    /// The check runs of the page.
    #[serde(default)]
    pub check_runs: Vec<CheckRun>,
}

/// A commit status.
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    /// Its context (name).
    pub context: String,
    /// `success`, `pending`, `failure`, `error`.
    pub state: String,
}

/// `GET /repos/{owner}/{repo}/commits/{ref}/status`.
#[derive(Debug, Clone, Deserialize)]
pub struct CombinedStatus {
    /// The latest status of each context.
    #[serde(default)]
    pub statuses: Vec<Status>,
}

/// A review of a pull request.
#[derive(Debug, Clone, Deserialize)]
pub struct Review {
    /// Its author; `null` for a deleted account.
    #[serde(default)]
    pub user: Option<ReviewUser>,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`, `PENDING`.
    pub state: String,
}

/// The author of a [`Review`].
#[derive(Debug, Clone, Deserialize)]
pub struct ReviewUser {
    /// Their login.
    pub login: String,
}

/// A repository as fleet status reads it: listed (`GET /orgs/{org}/repos`) or read alone
/// (`GET /repos/{owner}/{repo}`).
#[derive(Debug, Clone, Deserialize)]
pub struct RepoSummary {
    /// `owner/name`.
    pub full_name: String,
    /// Its default branch; missing for a repository GitHub cannot tell it of.
    #[serde(default)]
    pub default_branch: Option<String>,
    /// Archived: read-only, no longer worked on.
    #[serde(default)]
    pub archived: bool,
    /// Disabled by GitHub.
    #[serde(default)]
    pub disabled: bool,
    /// A fork of another repository.
    #[serde(default)]
    pub fork: bool,
    /// Its size in KiB; 0 for an empty repository.
    #[serde(default)]
    pub size: Option<u64>,
    /// Its topics.
    #[serde(default)]
    pub topics: Option<Vec<String>>,
}

/// A git reference (`GET /repos/{owner}/{repo}/git/ref/{ref}`).
#[derive(Debug, Clone, Deserialize)]
pub struct GitRef {
    /// The object it points at.
    pub object: GitObject,
}

/// The object of a [`GitRef`].
#[derive(Debug, Clone, Deserialize)]
pub struct GitObject {
    /// Its SHA.
    pub sha: String,
}

/// A pull request as fleet status reads it (`GET /repos/{owner}/{repo}/pulls`).
#[derive(Debug, Clone, Deserialize)]
pub struct PullSummary {
    /// Its number.
    pub number: u64,
    /// Its page.
    pub html_url: String,
    /// Its title (untrusted text).
    pub title: String,
    /// When it was opened (RFC 3339).
    pub created_at: String,
    /// When it merged, if it did.
    #[serde(default)]
    pub merged_at: Option<String>,
    /// Whether it is a draft.
    #[serde(default)]
    pub draft: Option<bool>,
    /// Its head branch and commit.
    pub head: PullHead,
    /// Its labels.
    #[serde(default)]
    pub labels: Vec<LabelName>,
}

/// The head of a [`PullSummary`].
#[derive(Debug, Clone, Deserialize)]
pub struct PullHead {
    /// The branch.
    #[serde(rename = "ref")]
    pub branch: String,
    /// The commit.
    pub sha: String,
}

/// A label, by name.
#[derive(Debug, Clone, Deserialize)]
pub struct LabelName {
    /// Its name.
    pub name: String,
}
/// A release found by its tag (`GET /repos/{owner}/{repo}/releases/tags/{tag}`): whether GitHub
/// marks it a pre-release, and when it was published (a module release handed by `notify`).
#[derive(Debug, Clone, Deserialize)]
pub struct ReleaseByTag {
    /// The tag it was made from.
    pub tag_name: String,
    /// Whether it is marked as a pre-release.
    #[serde(default)]
    pub prerelease: bool,
    /// When it was published; `null` for a draft.
    #[serde(default)]
    pub published_at: Option<String>,
}

/// What auto-merge needs of a repository (`GET /repos/{owner}/{repo}`): whether it allows
/// auto-merge and each merge method. GitHub leaves them out for a token that cannot push.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RepoMergeSettings {
    /// Whether pull requests may be set to merge by themselves.
    #[serde(default)]
    pub allow_auto_merge: Option<bool>,
    /// Whether squash merging is allowed.
    #[serde(default)]
    pub allow_squash_merge: Option<bool>,
    /// Whether merge commits are allowed.
    #[serde(default)]
    pub allow_merge_commit: Option<bool>,
    /// Whether rebase merging is allowed.
    #[serde(default)]
    pub allow_rebase_merge: Option<bool>,
}

/// One page of `GET /search/code`.
#[derive(Debug, Clone, Deserialize)]
pub struct CodeSearchPage {
    /// How many files matched in all.
    #[serde(default)]
    pub total_count: u64,
    /// Whether the search timed out before it was complete.
    #[serde(default)]
    pub incomplete_results: bool,
    /// The files of the page.
    #[serde(default)]
    pub items: Vec<CodeSearchItem>,
}

/// A file found by code search.
#[derive(Debug, Clone, Deserialize)]
pub struct CodeSearchItem {
    /// Its path in its repository.
    pub path: String,
    /// Its repository.
    pub repository: SearchRepository,
}

/// The repository of a [`CodeSearchItem`].
#[derive(Debug, Clone, Deserialize)]
pub struct SearchRepository {
    /// `owner/name`.
    pub full_name: String,
    /// Whether it is a fork.
    #[serde(default)]
    pub fork: bool,
}

/// The GraphQL mutation that turns on auto-merge of a pull request (its `node_id`). Held against
/// GitHub's published GraphQL schema (`@octokit/graphql-schema`) by the tests.
pub const ENABLE_AUTO_MERGE: &str = "mutation BatonEnableAutoMerge($pullRequestId: ID!, $mergeMethod: PullRequestMergeMethod!) {\n  enablePullRequestAutoMerge(input: {pullRequestId: $pullRequestId, mergeMethod: $mergeMethod}) {\n    pullRequest {\n      number\n      autoMergeRequest {\n        enabledAt\n        mergeMethod\n      }\n    }\n  }\n}\n";

/// Every GraphQL document Baton sends (`POST /graphql`, outside the REST description).
pub const GRAPHQL_DOCUMENTS: &[&str] = &[ENABLE_AUTO_MERGE];

/// What Baton reads of an answer: a JSON document decoded into one of the types above, nothing
/// (an empty `204`), or a redirect to a download.
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    /// A JSON document decoded by the function.
    Json(fn(&[u8]) -> Result<(), String>),
    /// No content.
    Empty,
    /// A `302` to the download (tarballs).
    Redirect,
}

/// A REST operation Baton sends: method and path template as GitHub's description writes them.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// `GET`, `POST`, `PATCH`.
    pub method: &'static str,
    /// The path template, e.g. `/repos/{owner}/{repo}/pulls`.
    pub path: &'static str,
    /// The success status Baton expects.
    pub success: u16,
    /// What Baton reads of the answer.
    pub answer: Answer,
    /// What it is for.
    pub purpose: &'static str,
    /// Whether its answer for the same URL never changes once given (a tag's tarball, the
    /// comparison of two tags, a tag's commit): the HTTP cache then answers without a request.
    pub immutable: bool,
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<(), String> {
    serde_json::from_slice::<T>(body)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

const fn op(
    method: &'static str,
    path: &'static str,
    success: u16,
    answer: Answer,
    purpose: &'static str,
) -> Operation {
    Operation {
        method,
        path,
        success,
        answer,
        purpose,
        immutable: false,
    }
}

const fn immutable(operation: Operation) -> Operation {
    Operation {
        immutable: true,
        ..operation
    }
}

/// Every REST operation Baton sends, in pipeline order.
pub const OPERATIONS: &[Operation] = &[
    op(
        "GET",
        "/repos/{owner}/{repo}/tags",
        200,
        Answer::Json(decode::<Vec<TagItem>>),
        "resolve: the versions of a module repository",
    ),
    op(
        "GET",
        "/repos/{owner}/{repo}/releases",
        200,
        Answer::Json(|b| decode::<Vec<Release>>(b).and(decode::<Vec<ReleaseDate>>(b))),
        "resolve: release notes, pre-release flags and publication dates (min_release_age)",
    ),
    immutable(op(
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}",
        200,
        Answer::Json(decode::<CommitInfo>),
        "gates: the date of a tag without a release (ref `tags/<tag>`)",
    )),
    immutable(op(
        "GET",
        "/repos/{owner}/{repo}/compare/{basehead}",
        200,
        Answer::Json(decode::<Comparison>),
        "impact: the files changed between the current and the target tag",
    )),
    immutable(op(
        "GET",
        "/repos/{owner}/{repo}/tarball/{ref}",
        302,
        Answer::Redirect,
        "impact: the module's files at a tag",
    )),
    op(
        "GET",
        "/repos/{owner}/{repo}",
        200,
        Answer::Json(|b| {
            decode::<RepoInfo>(b)
                .and(decode::<RepoSummary>(b))
                .and(decode::<RepoMergeSettings>(b))
        }),
        "update: the default branch pull requests go to; whether auto-merge and its method are allowed; fleet status: a listed repository",
    ),
    op(
        "GET",
        "/repos/{owner}/{repo}/pulls",
        200,
        Answer::Json(|b| decode::<Vec<PullItem>>(b).and(decode::<Vec<PullSummary>>(b))),
        "update: the open pull request of the update branch",
    ),
    op(
        "POST",
        "/repos/{owner}/{repo}/pulls",
        201,
        Answer::Json(decode::<PullItem>),
        "update: open the pull request",
    ),
    op(
        "PATCH",
        "/repos/{owner}/{repo}/pulls/{pull_number}",
        200,
        Answer::Json(decode::<PullItem>),
        "update: refresh the title and body of the open pull request",
    ),
    op(
        "POST",
        "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        200,
        Answer::Json(decode::<serde_json::Value>),
        "update: label the pull request updates-<env>",
    ),
    op(
        "POST",
        "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
        201,
        Answer::Json(decode::<serde_json::Value>),
        "update: request reviewers",
    ),
    op(
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}/check-runs",
        200,
        Answer::Json(decode::<CheckRunPage>),
        "promote: the checks of the merged commit (require_checks)",
    ),
    op(
        "GET",
        "/repos/{owner}/{repo}/commits/{ref}/status",
        200,
        Answer::Json(decode::<CombinedStatus>),
        "promote: the commit statuses of the merged commit (require_checks)",
    ),
    op(
        "GET",
        "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        200,
        Answer::Json(decode::<Vec<Review>>),
        "promote: the approvals of the pull request (require_approvals)",
    ),
    op(
        "POST",
        "/repos/{owner}/{repo}/dispatches",
        204,
        Answer::Empty,
        "promote: hand the landed version to the next environment (repository_dispatch); notify: hand a module release to each consumer",
    ),
    op(
        "GET",
        "/repos/{owner}/{repo}/releases/tags/{tag}",
        200,
        Answer::Json(decode::<ReleaseByTag>),
        "report: the date and pre-release flag of a module release handed by notify (min_release_age)",
    ),
    op(
        "GET",
        "/search/code",
        200,
        Answer::Json(decode::<CodeSearchPage>),
        "notify --discover: the repositories whose Terraform files name the module's source",
    ),
    op(
        "GET",
        "/orgs/{org}/repos",
        200,
        Answer::Json(decode::<Vec<RepoSummary>>),
        "fleet status: the repositories of an organisation (--org)",
    ),
    op(
        "GET",
        "/repos/{owner}/{repo}/git/ref/{ref}",
        200,
        Answer::Json(decode::<GitRef>),
        "fleet status: the commit at the head of the default branch, whose tarball is read",
    ),
];

/// The GitHub Enterprise Server releases whose published descriptions every operation above is
/// checked against (each has them all, with the same success status).
pub const GHES_CHECKED: &[&str] = &["3.17", "3.18", "3.19"];

/// What to add to an error from a GitHub Enterprise Server older than those checked: the
/// operation may be missing there. `None` for github.com and for checked releases.
pub fn ghes_hint(version: &str) -> Option<String> {
    let release = |v: &str| -> Option<(u32, u32)> {
        let mut parts = v.trim().split('.');
        Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
    };
    let oldest = GHES_CHECKED.first().and_then(|v| release(v))?;
    match release(version) {
        Some(v) if v >= oldest => None,
        _ => Some(format!(
            ". This server runs GitHub Enterprise Server {version}, older than {}, the oldest release whose API Baton is checked against; the operation may be missing or differ there: upgrade the server, or run Baton's steps for this repository by hand",
            GHES_CHECKED[0]
        )),
    }
}

/// Splits a path into its segments, without the leading slash.
fn segments(path: &str) -> Vec<&str> {
    path.trim_start_matches('/').split('/').collect()
}

/// The operation of [`OPERATIONS`] a request is for: `method` and the path below the API URL
/// (no query). A `{ref}`, `{basehead}` or `{path}` that ends a template takes the rest of the
/// path, as GitHub reads `tags/v1.0` or a tag with slashes; literal segments win over parameters.
pub fn operation_for(method: &str, path: &str) -> Option<&'static Operation> {
    let asked = segments(path);
    OPERATIONS
        .iter()
        .filter(|op| op.method.eq_ignore_ascii_case(method))
        .filter_map(|op| template_score(op.path, &asked).map(|score| (score, op)))
        .max_by_key(|(score, _)| *score)
        .map(|(_, op)| op)
}

/// How well a path template matches the segments of a path: the number of literal segments it
/// matched, or `None`.
pub fn template_score(template: &str, asked: &[&str]) -> Option<usize> {
    let parts = segments(template);
    // The parameters GitHub documents as taking slashes: a ref (`tags/v1.0`), `base...head`
    // and a file path.
    let greedy = parts
        .last()
        .is_some_and(|p| matches!(*p, "{ref}" | "{basehead}" | "{path}"));
    let fits = asked.len() == parts.len() || (greedy && asked.len() > parts.len());
    if !fits || asked.iter().any(|s| s.is_empty()) {
        return None;
    }
    let mut literal = 0;
    for (part, seg) in parts.iter().zip(asked) {
        if part.starts_with('{') {
            continue;
        }
        if part != seg {
            return None;
        }
        literal += 1;
    }
    Some(literal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_find_their_operation() {
        let of = |m, p| operation_for(m, p).map(|o| o.path);
        assert_eq!(
            of("GET", "/repos/acme/vpc/commits/tags/v1.0"),
            Some("/repos/{owner}/{repo}/commits/{ref}")
        );
        assert_eq!(
            of("GET", "/repos/acme/live/commits/abc/check-runs"),
            Some("/repos/{owner}/{repo}/commits/{ref}/check-runs")
        );
        assert_eq!(
            of("GET", "/repos/acme/vpc/compare/v1.0...release/v2.0"),
            Some("/repos/{owner}/{repo}/compare/{basehead}")
        );
        assert_eq!(of("GET", "/repos/acme/vpc"), Some("/repos/{owner}/{repo}"));
        assert_eq!(of("DELETE", "/repos/acme/vpc"), None);
        assert_eq!(of("GET", "/repos/acme/vpc/nope"), None);
        assert_eq!(of("GET", "/repos//vpc"), None);
        assert_eq!(
            of("GET", "/repos/acme/vpc/extra"),
            None,
            "{{repo}} takes one segment"
        );
    }

    #[test]
    fn old_enterprise_servers_are_named_in_errors() {
        assert_eq!(ghes_hint("3.19.2"), None);
        assert_eq!(ghes_hint("3.17.0"), None);
        assert_eq!(ghes_hint("4.0"), None);
        let hint = ghes_hint("3.14.5").unwrap();
        assert!(hint.contains("3.14.5, older than 3.17"), "{hint}");
        assert!(ghes_hint("garbled").is_some());
    }

    #[test]
    fn immutable_answers_are_those_of_tags() {
        let immutable: Vec<&str> = OPERATIONS
            .iter()
            .filter(|o| o.immutable)
            .map(|o| o.path)
            .collect();
        assert_eq!(
            immutable,
            [
                "/repos/{owner}/{repo}/commits/{ref}",
                "/repos/{owner}/{repo}/compare/{basehead}",
                "/repos/{owner}/{repo}/tarball/{ref}"
            ]
        );
    }
}
