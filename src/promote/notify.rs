//! `notify`: a module repository hands each release to its consumer repositories, so that their
//! first environment opens the update in minutes instead of at its next schedule. It sends
//! `repository_dispatch` `new_module_release` with `{repository, tag, version, modules}` to every
//! consumer: those listed in `[[consumers]]`, and, with discovery, those GitHub's code search
//! finds naming the module's source. One refused consumer never stops the others: each gets its
//! own result.

use crate::clients::github::{GitHub, GitHubError};
use crate::clients::wire::CodeSearchPage;
use crate::clients::{Session, Settings};
use crate::diag::{Reporter, Warning};
use crate::exit::{self, InvalidInput};
use crate::spec::release::{self, MAX_MODULES, ModuleRelease};
use http::Method;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Code search: how to find consumers.
#[derive(Debug, Clone, Default)]
pub struct Discover {
    /// Search the repositories of this owner (default: the module repository's owner).
    pub org: Option<String>,
}

/// What to notify.
#[derive(Debug, Clone)]
pub struct NotifyRequest {
    /// The module repository's checkout, where its module folders are read.
    pub working_dir: PathBuf,
    /// The module repository, `owner/name`.
    pub repository: String,
    /// The tag released.
    pub tag: String,
    /// The release is marked a pre-release (nothing is sent then).
    pub prerelease: bool,
    /// The consumer repositories listed (`[[consumers]]`, `--consumer`).
    pub consumers: Vec<String>,
    /// Find more consumers with code search.
    pub discover: Option<Discover>,
    /// The event type sent (default `new_module_release`).
    pub event_type: String,
    /// How to reach GitHub.
    pub clients: Settings,
    /// Say what would be sent; send nothing.
    pub dry_run: bool,
}

/// What became of one consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Delivery {
    /// The dispatch was accepted (`204`).
    Sent,
    /// Dry run: it would have been sent.
    WouldSend,
    /// GitHub refused it: the repository was not found (or the token cannot see it), or the
    /// request was invalid (`404`, `422`, another `4xx`).
    Refused,
    /// The token may not send it (`401`, `403`).
    NoPermission,
    /// It could not be sent (network, server error, rate limit).
    Failed,
}

impl Delivery {
    /// As written in the outputs.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Sent => "sent",
            Delivery::WouldSend => "would send",
            Delivery::Refused => "refused",
            Delivery::NoPermission => "no permission",
            Delivery::Failed => "failed",
        }
    }
}

/// One consumer's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsumerResult {
    /// `owner/name`.
    pub repository: String,
    /// `listed`, `discovered` or `listed, discovered`.
    pub found: String,
    /// What happened.
    pub result: Delivery,
    /// Why it was not sent (GitHub's answer, and what to do).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// What `notify` did (its JSON output).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The event type sent.
    pub event_type: String,
    /// The payload sent to every consumer; `None` when nothing was sent.
    pub payload: Option<ModuleRelease>,
    /// Why nothing was sent, when nothing was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The code search query run, with discovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search_query: Option<String>,
    /// Each consumer and its result, in name order.
    pub consumers: Vec<ConsumerResult>,
    /// Whether nothing was sent on purpose.
    pub dry_run: bool,
}

impl Outcome {
    /// 0 when every consumer got the release (or nothing was to be sent), 3 when at least one
    /// did not: every other consumer was still sent it.
    pub fn exit_code(&self) -> u8 {
        let missed = self
            .consumers
            .iter()
            .any(|c| !matches!(c.result, Delivery::Sent | Delivery::WouldSend));
        if missed { exit::FAILURE } else { exit::OK }
    }

    /// How many consumers got it.
    pub fn sent(&self) -> usize {
        self.consumers
            .iter()
            .filter(|c| c.result == Delivery::Sent)
            .count()
    }
}

/// The module folders of a module repository's checkout: the root when it holds `.tf` files,
/// and each `modules/<name>` that does (at most [`MAX_MODULES`]).
pub fn module_folders(working_dir: &Path) -> Vec<String> {
    let has_tf = |dir: &Path| {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "tf"))
        })
    };
    let mut out = Vec::new();
    if has_tf(working_dir) {
        out.push(String::new());
    }
    let mut names: Vec<String> = std::fs::read_dir(working_dir.join("modules"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()) && has_tf(&e.path()))
                .filter_map(|e| e.file_name().to_str().map(|n| format!("modules/{n}")))
                .filter(|p| release::valid_module_path(p))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    out.extend(names);
    out.truncate(MAX_MODULES);
    out
}

/// The payload of a release: the tag's version, the module folders read from the checkout.
pub fn payload(request: &NotifyRequest) -> Result<ModuleRelease, InvalidInput> {
    let (owner, name) = request.repository.split_once('/').unwrap_or(("", ""));
    crate::clients::github::check_repository(owner, name).map_err(|e| {
        InvalidInput(format!(
            "the module repository {:?} is not owner/name ({e}); set GITHUB_REPOSITORY or --repository",
            request.repository
        ))
    })?;
    if !release::valid_tag(&request.tag) {
        return Err(InvalidInput(format!(
            "{:?} is not a tag name Baton sends (ASCII letters, digits, '.', '-', '_', '/', '+')",
            request.tag
        )));
    }
    let version = release::version_of_tag(&request.tag).ok_or_else(|| {
        InvalidInput(format!(
            "the tag {:?} carries no version (v1.2.3, 1.2.3, release/v1.2.3): consumers move to versions",
            request.tag
        ))
    })?;
    Ok(ModuleRelease {
        repository: request.repository.clone(),
        tag: request.tag.clone(),
        version: version.to_string(),
        modules: module_folders(&request.working_dir),
    })
}

/// Sends the release to every consumer: checks, finds the consumers, dispatches to each.
pub fn run(request: &NotifyRequest, reporter: &dyn Reporter) -> anyhow::Result<Outcome> {
    let payload = payload(request)?;
    let mut outcome = Outcome {
        event_type: request.event_type.clone(),
        payload: None,
        skipped: None,
        search_query: None,
        consumers: Vec::new(),
        dry_run: request.dry_run,
    };
    if request.prerelease || !payload.parsed_version().is_some_and(|v| v.pre.is_empty()) {
        outcome.skipped = Some(format!(
            "{} {} is a pre-release: consumers never take pre-releases, so none was told",
            payload.repository, payload.tag
        ));
        return Ok(outcome);
    }
    if request.consumers.is_empty() && request.discover.is_none() {
        return Err(InvalidInput(
            "no consumer repositories: list them as [[consumers]] (repository = \"owner/name\") in .github/baton.toml, pass --consumer, or find them with --discover (code search)".into(),
        )
        .into());
    }
    let session = Session::new(&request.clients)?;
    reporter.phase("consumers");
    let mut found: BTreeMap<String, (String, Vec<&str>)> = BTreeMap::new();
    for c in &request.consumers {
        found
            .entry(c.to_ascii_lowercase())
            .or_insert_with(|| (c.clone(), Vec::new()))
            .1
            .push("listed");
    }
    if let Some(discover) = &request.discover {
        let (query, repos) = session.block_on(discover_consumers(
            &session.github,
            &payload,
            discover,
            reporter,
        ))?;
        outcome.search_query = Some(query);
        for r in repos {
            let entry = found
                .entry(r.to_ascii_lowercase())
                .or_insert_with(|| (r.clone(), Vec::new()));
            entry.1.push("discovered");
        }
    }
    found.remove(&payload.repository.to_ascii_lowercase());
    if found.is_empty() {
        reporter.warn(Warning::general(format!(
            "no consumer of {} was found: nothing was sent",
            payload.repository
        )));
    }
    reporter.phase("dispatch");
    for (repository, ways) in found.into_values() {
        let (result, message) = if request.dry_run {
            (Delivery::WouldSend, None)
        } else {
            session.block_on(dispatch(
                &session.github,
                &repository,
                &request.event_type,
                &payload,
            ))
        };
        if let Some(m) = &message {
            reporter.warn(Warning::general(format!(
                "{repository}: {} ({m}); the other consumers are still told",
                result.as_str()
            )));
        }
        outcome.consumers.push(ConsumerResult {
            repository,
            found: ways.join(", "),
            result,
            message,
        });
    }
    outcome.payload = Some(payload);
    Ok(outcome)
}

/// Sends the dispatch to one consumer; its result, and why it was not sent.
async fn dispatch(
    gh: &GitHub,
    repository: &str,
    event_type: &str,
    payload: &ModuleRelease,
) -> (Delivery, Option<String>) {
    let route = format!("/repos/{repository}/dispatches");
    let body = serde_json::json!({ "event_type": event_type, "client_payload": payload });
    match gh.post_json::<serde_json::Value>(&route, &body).await {
        Ok(_) => (Delivery::Sent, None),
        Err(e) => classify(&e),
    }
}

/// The result of a refused dispatch, with what to do.
fn classify(e: &GitHubError) -> (Delivery, Option<String>) {
    let text = format!("{e}");
    match e.status() {
        Some(401 | 403) => (
            Delivery::NoPermission,
            Some(format!(
                "{text}. The token needs \"Contents: read and write\" on this repository (a fine-grained token or GitHub App), or the `repo` scope (a classic token)"
            )),
        ),
        Some(404) => (
            Delivery::Refused,
            Some(format!(
                "{text}. The repository does not exist, or the token cannot see it: give it access to the repository"
            )),
        ),
        Some(_) => (Delivery::Refused, Some(text)),
        None => (Delivery::Failed, Some(text)),
    }
}

/// The code search query that finds the Terraform files naming a module repository.
pub fn search_query(payload: &ModuleRelease, discover: &Discover) -> String {
    let (owner, _) = payload.owner_repo();
    let scope = discover.org.as_deref().unwrap_or(owner);
    format!("\"{}\" in:file org:{scope}", payload.repository)
}

/// Whether a file found by code search is one Baton reads (Terraform, OpenTofu, Terragrunt).
fn terraform_file(path: &str) -> bool {
    [".tf", ".hcl", ".tf.json", ".tofu"]
        .iter()
        .any(|ext| path.ends_with(ext))
}

/// The pages of code search read at most (GitHub answers at most 1,000 results).
const MAX_SEARCH_PAGES: usize = 10;

/// Finds the repositories whose Terraform files name the module repository: the query run, and
/// the repositories (`owner/name`), following `Link` pages and waiting for code search's own
/// rate limit (10 requests a minute) when a page spends it.
async fn discover_consumers(
    gh: &GitHub,
    payload: &ModuleRelease,
    discover: &Discover,
    reporter: &dyn Reporter,
) -> anyhow::Result<(String, Vec<String>)> {
    let query = search_query(payload, discover);
    log::info!("code search: {query}");
    let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
    let mut next = Some(format!("/search/code?q={encoded}&per_page=100"));
    let mut repos: Vec<String> = Vec::new();
    let mut pages = 0;
    while let Some(route) = next.take() {
        pages += 1;
        let (headers, body) = gh.send(Method::GET, &route, None).await.map_err(|e| {
            anyhow::Error::new(e).context(format!(
                "code search for consumers (query {query}); the token must be able to read them"
            ))
        })?;
        let page: CodeSearchPage = serde_json::from_slice(&body)
            .map_err(|e| anyhow::anyhow!("code search answered what Baton cannot read: {e}"))?;
        if page.incomplete_results {
            reporter.warn(Warning::general(format!(
                "code search timed out before it was complete (query {query}): consumers may be missing; list them as [[consumers]]"
            )));
        }
        for item in page.items.iter().filter(|i| terraform_file(&i.path)) {
            let name = &item.repository.full_name;
            if !repos.iter().any(|r| r.eq_ignore_ascii_case(name)) {
                repos.push(name.clone());
            }
        }
        next = crate::clients::github::next_link(&headers);
        if next.is_some() && pages >= MAX_SEARCH_PAGES {
            reporter.warn(Warning::general(format!(
                "code search: read the first {MAX_SEARCH_PAGES} pages only (GitHub answers 1,000 results at most); list further consumers as [[consumers]]"
            )));
            break;
        }
        if next.is_some() {
            search_pace(&headers).await;
        }
    }
    log::info!(
        "code search found {} repositor{} ({pages} page{})",
        repos.len(),
        if repos.len() == 1 { "y" } else { "ies" },
        if pages == 1 { "" } else { "s" }
    );
    Ok((query, repos))
}

/// Waits, before the next page, until code search's window resets when the last answer spent
/// it (`x-ratelimit-remaining: 0`); at most a minute, the window's length.
async fn search_pace(headers: &http::HeaderMap) {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    if number("x-ratelimit-remaining") != Some(0) {
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let wait = number("x-ratelimit-reset")
        .map_or(60, |reset| reset.saturating_sub(now) + 1)
        .min(61);
    log::info!("code search: its rate limit is spent; waiting {wait} s for the next page");
    tokio::time::sleep(Duration::from_secs(wait)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_folders_are_the_root_and_modules() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("main.tf"), "").unwrap();
        for m in ["vpc", "alb", "empty"] {
            std::fs::create_dir_all(root.join("modules").join(m)).unwrap();
        }
        std::fs::write(root.join("modules/vpc/main.tf"), "").unwrap();
        std::fs::write(root.join("modules/alb/variables.tf"), "").unwrap();
        assert_eq!(module_folders(root), ["", "modules/alb", "modules/vpc"]);
    }

    #[test]
    fn the_query_names_the_repository_and_the_owner() {
        let p = ModuleRelease {
            repository: "acme/terraform-aws-vpc".into(),
            tag: "v1.0.0".into(),
            version: "1.0.0".into(),
            modules: vec![],
        };
        assert_eq!(
            search_query(&p, &Discover::default()),
            "\"acme/terraform-aws-vpc\" in:file org:acme"
        );
        assert!(terraform_file("dev/vpc/terragrunt.hcl"));
        assert!(!terraform_file("README.md"));
    }
}
