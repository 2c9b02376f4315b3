//! What must hold before a merged update is handed to the next environment: the checks of the
//! merged pull request's head commit (`require_checks`, `required_checks`) and its approving
//! reviews (`require_approvals`); and whether what merged is a rollback, which the dispatch
//! carries so that the next environment moves down with it.

use crate::clients::git::Git;
use crate::clients::github::{GitHub, GitHubError, next_link};
use crate::clock::Timestamp;
use crate::diag::{Reporter, Warning};
use crate::resolve::history::{self, ChangeKind};
use crate::update::publish::RepoRef;
use http::Method;
use std::collections::BTreeMap;
use std::path::Path;

/// Whether the commit `sha` (a merge, squash or rebase of a pull request) carries Baton's
/// rollback trailer, read from the repository at `dir`. A commit that cannot be read is
/// reported and counts as no rollback.
pub fn merged_a_rollback(dir: &Path, sha: &str, reporter: &dyn Reporter) -> bool {
    match history::commit_trailers(&Git::new(dir), sha) {
        Ok(t) => t.kind == Some(ChangeKind::Rollback),
        Err(e) => {
            reporter.warn(Warning::general(format!(
                "cannot read the commit {sha} to tell whether it is a rollback ({e}); promoting it as an update"
            )));
            false
        }
    }
}

/// The gates of a promotion: plain values that the command line, the action or a config file
/// fill. All off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PromoteGates {
    /// Every check of the merged pull request's head commit must have succeeded.
    pub require_checks: bool,
    /// Only these checks (check-run names or status contexts) must have succeeded; implies
    /// `require_checks`.
    pub required_checks: Vec<String>,
    /// Approving reviews the merged pull request needs.
    pub require_approvals: u32,
    /// The workflow run the promotion runs in (`GITHUB_RUN_ID`): its own check runs, still in
    /// progress, are not waited for.
    pub own_run_id: Option<String>,
}

impl PromoteGates {
    /// Whether any gate is on.
    pub fn active(&self) -> bool {
        self.checks_required() || self.require_approvals > 0
    }

    fn checks_required(&self) -> bool {
        self.require_checks || self.required_checks.iter().any(|c| !c.trim().is_empty())
    }
}

/// Why the default token may leave a commit without checks.
pub const NO_CHECKS_HINT: &str = "a pull request opened or pushed with the default GITHUB_TOKEN starts no workflow, so no CI ran on it: give the update job a GitHub App token or a fine-grained personal access token (the examples' BATON_TOKEN secret), or set required_checks to the checks that do run";

use crate::clients::wire::{CheckRun, CheckRunPage, CombinedStatus, Review, Status};

/// Every check run of a commit (all pages), the latest of each name, leaving out those of the
/// run `own_run` (the promotion's own jobs) and those started after the merge (the workflows the
/// closing of the pull request started: they check nothing that was merged).
async fn check_runs(
    gh: &GitHub,
    repo: &RepoRef,
    sha: &str,
    own_run: Option<&str>,
    merged_at: Option<Timestamp>,
) -> Result<Vec<CheckRun>, GitHubError> {
    let mut next = Some(format!(
        "/repos/{}/{}/commits/{sha}/check-runs?per_page=100",
        repo.owner, repo.name
    ));
    let mut all: Vec<CheckRun> = Vec::new();
    let mut pages = 0;
    while let Some(route) = next.take() {
        pages += 1;
        if pages > 100 {
            break;
        }
        let (headers, body) = gh.send(Method::GET, &route, None).await?;
        let page: CheckRunPage =
            serde_json::from_slice(&body).map_err(|e| GitHubError::BadResponse {
                method: Method::GET,
                url: route.clone(),
                message: e.to_string(),
            })?;
        all.extend(page.check_runs);
        next = next_link(&headers);
    }
    let own = own_run
        .filter(|r| !r.is_empty())
        .map(|r| format!("/actions/runs/{r}/"));
    let mut latest: BTreeMap<String, CheckRun> = BTreeMap::new();
    for run in all {
        let mine = own.as_deref().is_some_and(|own| {
            [&run.details_url, &run.html_url]
                .iter()
                .any(|u| u.as_deref().is_some_and(|u| u.contains(own)))
        });
        let after_merge = merged_at.is_some_and(|merged| {
            run.started_at
                .as_deref()
                .and_then(|s| crate::clock::parse_instant(s).ok())
                .is_some_and(|started| started > merged)
        });
        if mine || after_merge {
            continue;
        }
        match latest.get(&run.name) {
            Some(seen) if seen.id > run.id => {}
            _ => {
                latest.insert(run.name.clone(), run);
            }
        }
    }
    Ok(latest.into_values().collect())
}

fn run_problem(run: &CheckRun) -> Option<String> {
    if run.status != "completed" {
        return Some(format!("{} is {} (not completed)", run.name, run.status));
    }
    match run.conclusion.as_deref() {
        Some("success" | "neutral" | "skipped") => None,
        Some(other) => Some(format!("{} concluded {other}", run.name)),
        None => Some(format!("{} has no conclusion", run.name)),
    }
}

fn status_problem(s: &Status) -> Option<String> {
    (s.state != "success").then(|| format!("{} is {}", s.context, s.state))
}

/// What holds the promotion of pull request `number`, whose head commit is `head_sha`: an
/// empty list when every gate passes.
pub async fn hold(
    gh: &GitHub,
    repo: &RepoRef,
    gates: &PromoteGates,
    head_sha: Option<&str>,
    merged_at: Option<Timestamp>,
    number: u64,
) -> Result<Vec<String>, GitHubError> {
    let mut problems = Vec::new();
    if gates.checks_required() {
        match head_sha.filter(|s| !s.is_empty()) {
            None => problems.push(format!(
                "checks: the event names no head commit of pull request #{number}, so its checks cannot be read"
            )),
            Some(sha) => {
                let runs =
                    check_runs(gh, repo, sha, gates.own_run_id.as_deref(), merged_at).await?;
                let combined: CombinedStatus = gh
                    .get_json(&format!(
                        "/repos/{}/{}/commits/{sha}/status?per_page=100",
                        repo.owner, repo.name
                    ))
                    .await?;
                let short = &sha[..sha.len().min(12)];
                let wanted: Vec<&str> = gates
                    .required_checks
                    .iter()
                    .map(|c| c.trim())
                    .filter(|c| !c.is_empty())
                    .collect();
                if wanted.is_empty() {
                    if runs.is_empty() && combined.statuses.is_empty() {
                        problems.push(format!(
                            "checks: no check ran on {short}, the head of pull request #{number}; {NO_CHECKS_HINT}"
                        ));
                    }
                    problems.extend(runs.iter().filter_map(run_problem).map(|p| format!("checks: {p}")));
                    problems.extend(
                        combined
                            .statuses
                            .iter()
                            .filter_map(status_problem)
                            .map(|p| format!("checks: {p}")),
                    );
                } else {
                    let none_ran = runs.is_empty() && combined.statuses.is_empty();
                    for name in wanted {
                        let problem = match (
                            runs.iter().find(|r| r.name == name),
                            combined.statuses.iter().find(|s| s.context == name),
                        ) {
                            (Some(run), _) => run_problem(run),
                            (None, Some(status)) => status_problem(status),
                            (None, None) => Some(format!("{name} is missing (no check run or status of that name)")),
                        };
                        problems.extend(problem.map(|p| format!("checks: {p} on {short}")));
                    }
                    if none_ran && !problems.is_empty() {
                        problems.push(format!("checks: no check ran at all on {short}: {NO_CHECKS_HINT}"));
                    }
                }
            }
        }
    }
    if gates.require_approvals > 0 {
        let reviews: Vec<Review> = gh
            .all_pages(&format!(
                "/repos/{}/{}/pulls/{number}/reviews?per_page=100",
                repo.owner, repo.name
            ))
            .await?;
        // Each reviewer's latest review that is not a comment decides.
        let mut latest: BTreeMap<String, String> = BTreeMap::new();
        for r in reviews {
            let Some(user) = r.user else { continue };
            if r.state != "COMMENTED" {
                latest.insert(user.login, r.state);
            }
        }
        let approvers: Vec<&str> = latest
            .iter()
            .filter(|(_, s)| s.as_str() == "APPROVED")
            .map(|(u, _)| u.as_str())
            .collect();
        if (approvers.len() as u64) < u64::from(gates.require_approvals) {
            problems.push(format!(
                "approvals: pull request #{number} has {} approving review{} ({}), {} required",
                approvers.len(),
                if approvers.len() == 1 { "" } else { "s" },
                if approvers.is_empty() {
                    "none".to_string()
                } else {
                    approvers.join(", ")
                },
                gates.require_approvals
            ));
        }
    }
    Ok(problems)
}
