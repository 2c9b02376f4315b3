//! The outside world: the `git` program ([`git`]), the GitHub REST API ([`github`]) and module
//! registries ([`registry`]); a module repository at two tags ([`moduletree`]). Resolving uses them to list versions, updating and promoting to
//! push branches, open pull requests and send dispatches.

pub mod download;
pub mod git;
pub mod github;
pub mod graphql;
pub mod httpcache;
pub mod moduletree;
pub mod registry;
pub mod wire;

use github::{GitHub, GitHubConfig, RetryPolicy};
use registry::RegistryClient;
use std::time::Duration;

/// How to reach GitHub and the registries.
#[derive(Clone, Default)]
pub struct Settings {
    /// GitHub API URL; `None`: the public API.
    pub api_url: Option<String>,
    /// A token for GitHub; public modules need none.
    pub token: Option<String>,
    /// Per-request timeout (default 30 s).
    pub timeout: Option<Duration>,
    /// The longest single wait for `Retry-After` or a rate-limit reset (default 60 s).
    pub max_wait: Option<Duration>,
    /// The repository being worked on, `owner/name` (the runner's `GITHUB_REPOSITORY`); `None`:
    /// taken from the `origin` remote or the event.
    pub repository: Option<String>,
    /// Skip the breaking-change impact of `report` (its compare and tarball requests).
    pub skip_impact: bool,
    /// A directory that keeps GitHub's answers between runs; `None`: no cache.
    pub cache_dir: Option<std::path::PathBuf>,
    /// How old a kept answer may be and still be used without asking GitHub (zero: always ask,
    /// conditionally).
    pub cache_max_age: Duration,
    /// Below this many remaining API requests, optional work is not started; `None`: the
    /// default ([`github::DEFAULT_FLOOR`]).
    pub api_floor: Option<u64>,
    /// The largest answers and downloads read.
    pub limits: github::Limits,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("api_url", &self.api_url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .field("max_wait", &self.max_wait)
            .field("repository", &self.repository)
            .field("skip_impact", &self.skip_impact)
            .field("cache_dir", &self.cache_dir)
            .field("cache_max_age", &self.cache_max_age)
            .field("api_floor", &self.api_floor)
            .field("limits", &self.limits)
            .finish()
    }
}

impl Settings {
    /// The registry client with Baton's user agent and these settings' timeout.
    pub fn registry(&self) -> anyhow::Result<RegistryClient> {
        Ok(RegistryClient::new(
            &format!("baton/{}", env!("CARGO_PKG_VERSION")),
            self.timeout.unwrap_or(Duration::from_secs(30)),
        )?)
    }
}

/// A runtime for network lookups and the GitHub client built on it (octocrab's client must be
/// built inside the runtime it runs on).
pub struct Session {
    /// The async runtime: small, as the work is I/O-bound.
    pub runtime: tokio::runtime::Runtime,
    /// The GitHub client.
    pub github: GitHub,
    /// The settings the session was made from.
    pub settings: Settings,
}

impl Session {
    /// Starts a runtime and builds the GitHub client for `settings`.
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let github = {
            let _entered = runtime.enter();
            let mut retry = RetryPolicy::default();
            if let Some(wait) = settings.max_wait {
                retry.max_wait = wait;
            }
            GitHub::new(GitHubConfig {
                api_url: settings.api_url.clone(),
                token: settings.token.clone(),
                timeout: settings.timeout,
                retry,
                cache: settings
                    .cache_dir
                    .clone()
                    .map(|dir| (dir, settings.cache_max_age)),
                floor: settings.api_floor.unwrap_or(github::DEFAULT_FLOOR),
                limits: settings.limits,
            })?
        };
        Ok(Session {
            runtime,
            github,
            settings: settings.clone(),
        })
    }

    /// Runs a future to completion on the session's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        let _entered = self.runtime.enter();
        self.runtime.block_on(future)
    }
}
