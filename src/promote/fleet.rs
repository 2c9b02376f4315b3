//! Fleet status: where every dependency stands in every environment of many repositories, read
//! through the GitHub API without a clone (see [`super::fleet_read`] for what one repository
//! costs), a few repositories at a time. The list comes from a file or an organisation
//! (`GET /orgs/{org}/repos`, archived repositories and forks left out unless asked for).

use super::fleet_model::{DeriveEnvs, FleetReport, ReadConfig, RepoStatus, sort_repositories};
use super::fleet_read::{Reading, read_repo};
use crate::clients::wire::RepoSummary;
use crate::clients::{Session, Settings};
use crate::clock::Timestamp;
use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Repositories read at the same time.
pub const CONCURRENCY: usize = 8;

/// Which repositories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoList {
    /// These, as `owner/name`.
    Listed(Vec<String>),
    /// Those of an organisation.
    Org {
        /// The organisation.
        org: String,
        /// Only repositories with one of these topics (none: all).
        topics: Vec<String>,
        /// Also archived repositories and forks.
        include_archived: bool,
    },
}

/// What fleet status reads.
#[derive(Clone)]
pub struct FleetRequest {
    /// The repositories.
    pub repos: RepoList,
    /// How to reach GitHub.
    pub clients: Settings,
    /// An update pull request open longer than this is stuck.
    pub stuck_after: Duration,
    /// The time taken as now.
    pub now: Timestamp,
    /// Reads a repository's config file.
    pub read_config: ReadConfig,
    /// Finds environments from folder names when there is no config file.
    pub derive: DeriveEnvs,
    /// Folders left out of every environment.
    pub exclude_dirs: Vec<String>,
    /// Only this dependency.
    pub dependency: Option<String>,
}

/// Reads a list of repositories, one `owner/name` per line; blank lines and `#` comments are
/// left out. A line that is not `owner/name` is invalid input, with its line number.
pub fn parse_list(text: &str, source: &str) -> Result<Vec<String>, InvalidInput> {
    let mut out: Vec<String> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let entry = line.split('#').next().unwrap_or("").trim();
        if entry.is_empty() {
            continue;
        }
        let entry = entry
            .strip_prefix("https://github.com/")
            .unwrap_or(entry)
            .trim_end_matches('/');
        let ok = entry.split_once('/').is_some_and(|(o, r)| {
            crate::clients::github::plain_name(o) && crate::clients::github::plain_name(r)
        });
        if !ok {
            return Err(InvalidInput(format!(
                "{source}:{}: {entry:?} is not a repository (owner/name)",
                i + 1
            )));
        }
        if !out.iter().any(|r| r.eq_ignore_ascii_case(entry)) {
            out.push(entry.to_string());
        }
    }
    if out.is_empty() {
        return Err(InvalidInput(format!("{source}: lists no repository")));
    }
    Ok(out)
}

/// A repository to read, with its listing entry when it comes from an organisation.
pub type Target = (String, Option<RepoSummary>);

/// The repositories to read, and what the listing left out, in words.
pub fn list(session: &Session, repos: &RepoList) -> anyhow::Result<(Vec<Target>, Vec<String>)> {
    let (org, topics, include_archived) = match repos {
        RepoList::Listed(names) => {
            return Ok((
                names.iter().map(|n| (n.clone(), None)).collect(),
                Vec::new(),
            ));
        }
        RepoList::Org {
            org,
            topics,
            include_archived,
        } => (org, topics, *include_archived),
    };
    if !crate::clients::github::plain_name(org) {
        return Err(InvalidInput(format!("--org {org:?} is not an organisation name")).into());
    }
    let all: Vec<RepoSummary> = session
        .block_on(session.github.all_pages(&format!(
            "/orgs/{org}/repos?type=all&sort=full_name&per_page=100"
        )))
        .map_err(|e| anyhow::anyhow!("listing the repositories of {org}: {e}"))?;
    let (mut archived, mut forks, mut other_topics) = (0, 0, 0);
    let mut out = Vec::new();
    for repo in all {
        if !include_archived && (repo.archived || repo.disabled) {
            archived += 1;
        } else if !include_archived && repo.fork {
            forks += 1;
        } else if !topics.is_empty()
            && !repo
                .topics
                .as_deref()
                .unwrap_or_default()
                .iter()
                .any(|t| topics.contains(t))
        {
            other_topics += 1;
        } else {
            out.push((repo.full_name.clone(), Some(repo)));
        }
    }
    let mut skipped = Vec::new();
    for (n, what) in [
        (archived, "archived"),
        (forks, "forks"),
        (other_topics, "without the topic"),
    ] {
        if n > 0 {
            skipped.push(format!("{n} {what}"));
        }
    }
    Ok((out, skipped))
}

/// Shards of at most `size` repositories, for a workflow's matrix: `{"include": [{"shard": 1,
/// "repositories": "a/b\nc/d"}, …]}`.
pub fn shards(names: &[String], size: usize) -> serde_json::Value {
    let include: Vec<serde_json::Value> = names
        .chunks(size.max(1))
        .enumerate()
        .map(|(i, chunk)| serde_json::json!({ "shard": i + 1, "repositories": chunk.join("\n") }))
        .collect();
    serde_json::json!({ "include": include })
}

/// Reads every repository; one that cannot be read is its row, with the reason.
pub fn run(request: &FleetRequest, reporter: &dyn Reporter) -> anyhow::Result<FleetReport> {
    let session = Session::new(&request.clients)?;
    reporter.phase("list the repositories");
    let (targets, skipped) = list(&session, &request.repos)?;
    reporter.phase("read the repositories");
    let mut repositories = session.block_on(read_all(&session, request, targets));
    sort_repositories(&mut repositories);
    for repo in &repositories {
        if let Some(why) = &repo.unreachable {
            reporter.warn(Warning::general(format!("{}: {why}", repo.repository)));
        }
        for w in &repo.warnings {
            reporter.warn(Warning::general(format!("{}: {w}", repo.repository)));
        }
    }
    Ok(FleetReport {
        stuck_after_secs: request.stuck_after.as_secs(),
        repositories,
        skipped,
    })
}

async fn read_all(
    session: &Session,
    request: &FleetRequest,
    targets: Vec<Target>,
) -> Vec<RepoStatus> {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    let request = Arc::new(request.clone());
    for (name, known) in targets {
        let gh = session.github.clone();
        let permits = permits.clone();
        let request = request.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let reading = Reading {
                read_config: request.read_config,
                derive: request.derive,
                exclude_dirs: &request.exclude_dirs,
                dependency: request.dependency.as_deref(),
                now: request.now,
                stuck_after: request.stuck_after,
                read_archived: matches!(
                    request.repos,
                    RepoList::Org {
                        include_archived: true,
                        ..
                    }
                ),
            };
            read_repo(&gh, &name, known, reading).await
        });
    }
    let mut out = Vec::new();
    // A line every few seconds, so a long run over hundreds of repositories shows it is alive.
    let total = tasks.len();
    let mut tick = tokio::time::interval(crate::resolve::PROGRESS_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                None => break,
                Some(Ok(repo)) => out.push(repo),
                Some(Err(e)) => log::warn!("a repository's reading stopped: {e}"),
            },
            _ = tick.tick() => log::info!("read {} of {total} repositories", out.len()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_take_names_urls_and_comments() {
        let list = parse_list(
            "# the fleet\nacme/live-a\n\nhttps://github.com/acme/live-b/\nacme/live-a # twice\n",
            "fleet.txt",
        )
        .unwrap();
        assert_eq!(list, ["acme/live-a", "acme/live-b"]);
        let bad = parse_list("acme/live\nacme/../x\n", "fleet.txt").unwrap_err();
        assert!(bad.0.contains("fleet.txt:2"), "{bad}");
        assert!(parse_list("# none\n", "f").is_err());
    }

    #[test]
    fn shards_split_the_list() {
        let names: Vec<String> = (1..=5).map(|i| format!("acme/r{i}")).collect();
        let m = shards(&names, 2);
        assert_eq!(m["include"].as_array().unwrap().len(), 3);
        assert_eq!(m["include"][2]["repositories"], "acme/r5");
        assert_eq!(m["include"][0]["repositories"], "acme/r1\nacme/r2");
    }
}
