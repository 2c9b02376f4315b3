//! The GitHub REST API, through octocrab, with Baton's own retry policy: octocrab's built-in retry
//! retries at once (POSTs included) and ignores `Retry-After`, so it is turned off and replaced by
//! bounded waits that honour GitHub's rate-limit headers. Every answer's `x-ratelimit-*` headers
//! are read into the process's [`Usage`]; with a cache ([`super::httpcache`]) a `GET` is asked
//! conditionally, and an answer that never changes (a tag's tarball) is not asked again.

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode};
use http_body_util::BodyExt;
use octocrab::Octocrab;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::httpcache::HttpCache;
pub use super::wire::Release;
use super::wire::TagItem;

/// The public GitHub API.
pub const PUBLIC_API: &str = "https://api.github.com";

/// How long and how often to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff for server errors; doubled on each retry.
    pub backoff: Duration,
    /// The longest single wait (for `Retry-After` or a rate-limit reset) Baton accepts; a longer
    /// one fails the request with a message saying when to try again.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
        }
    }
}

/// Settings for [`GitHub::new`].
#[derive(Clone, Default)]
pub struct GitHubConfig {
    /// API base URL (`https://api.github.com`, `https://ghe.example.com/api/v3`); `None` = public.
    pub api_url: Option<String>,
    /// A token; public repositories need none.
    pub token: Option<String>,
    /// Per-request timeout; `None` = 30 s.
    pub timeout: Option<Duration>,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// A cache directory and how old an answer may be to be used without asking; `None`: no
    /// cache.
    pub cache: Option<(PathBuf, Duration)>,
    /// Below this many remaining requests, optional work (the breaking-change impact) is not
    /// started.
    pub floor: u64,
    /// The largest answers read.
    pub limits: Limits,
}

/// The largest answer Baton reads, by kind: no host decides how much memory a run takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// An API answer (JSON: lists, a comparison, release notes): `--max-response-size`.
    pub response: u64,
    /// A download (a module's tarball), streamed through the unpacker:
    /// `--max-tarball-size`.
    pub tarball: u64,
}

/// The default [`Limits::response`]: 16 MiB, far above a page of 100 releases with long notes.
pub const DEFAULT_MAX_RESPONSE: u64 = 16 << 20;

/// The default [`Limits::tarball`]: 256 MiB, far above a repository of Terraform modules.
pub const DEFAULT_MAX_TARBALL: u64 = 256 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            response: DEFAULT_MAX_RESPONSE,
            tarball: DEFAULT_MAX_TARBALL,
        }
    }
}

/// A size as people read it (`16 MiB`, `1 GiB`, `1.5 KiB`).
pub fn size(bytes: u64) -> String {
    for (unit, name) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if bytes >= 1 << unit && bytes.is_multiple_of(1 << unit) {
            return format!("{} {name}", bytes >> unit);
        }
    }
    bytesize::ByteSize::b(bytes).display().iec().to_string()
}

/// The default [`GitHubConfig::floor`]: enough for the updates and promotions of a run after
/// the impact analysis stops.
pub const DEFAULT_FLOOR: u64 = 100;

impl std::fmt::Debug for GitHubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubConfig")
            .field("api_url", &self.api_url)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .field("cache", &self.cache)
            .field("floor", &self.floor)
            .field("limits", &self.limits)
            .finish()
    }
}

/// What the GitHub API has cost this process, and what is left of the rate limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Requests sent (retries and pages included).
    pub requests: usize,
    /// Of those, answered `304 Not Modified` (not counted against the limit).
    pub not_modified: usize,
    /// Answers taken from the cache without any request.
    pub from_cache: usize,
    /// `x-ratelimit-remaining` of the latest answer.
    pub remaining: Option<u64>,
    /// `x-ratelimit-limit` of the latest answer.
    pub limit: Option<u64>,
    /// `x-ratelimit-reset` of the latest answer (seconds since the epoch).
    pub reset: Option<u64>,
    /// `x-github-enterprise-version`, on GitHub Enterprise Server.
    pub enterprise_version: Option<String>,
    /// Optional work not started because the budget was below the floor.
    pub held_back: BTreeSet<String>,
}

impl Usage {
    const fn new() -> Usage {
        Usage {
            requests: 0,
            not_modified: 0,
            from_cache: 0,
            remaining: None,
            limit: None,
            reset: None,
            enterprise_version: None,
            held_back: BTreeSet::new(),
        }
    }

    /// Requests that counted against the rate limit (all but the `304`s).
    pub fn counted(&self) -> usize {
        self.requests - self.not_modified
    }

    /// One line: what was spent and what is left; `None` when the API was not used.
    pub fn line(&self) -> Option<String> {
        if self.requests == 0 && self.from_cache == 0 {
            return None;
        }
        let mut line = format!(
            "GitHub API: {} request{} counted against the rate limit ({} sent, {} answered 304 Not Modified, {} answered from the cache without a request)",
            self.counted(),
            if self.counted() == 1 { "" } else { "s" },
            self.requests,
            self.not_modified,
            self.from_cache
        );
        if let (Some(remaining), Some(limit)) = (self.remaining, self.limit) {
            line.push_str(&format!("; {remaining} of {limit} left"));
            if let Some(reset) = self.reset {
                line.push_str(&format!(", the window resets at {}", utc_time(reset)));
            }
        }
        if !self.held_back.is_empty() {
            let held: Vec<&str> = self.held_back.iter().map(String::as_str).collect();
            line.push_str(&format!(
                "; not started for want of budget: {}",
                held.join(", ")
            ));
        }
        Some(line)
    }
}

fn utc_time(epoch: u64) -> String {
    jiff::Timestamp::from_second(epoch as i64)
        .map(|t| t.strftime("%H:%M UTC").to_string())
        .unwrap_or_else(|_| format!("{epoch} (epoch)"))
}

/// The process's use of the GitHub API, across every client.
static LEDGER: Mutex<Usage> = Mutex::new(Usage::new());

fn ledger<T>(f: impl FnOnce(&mut Usage) -> T) -> T {
    let mut usage = LEDGER.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut usage)
}

/// Counts an answer taken from the cache without a request.
pub(super) fn count_from_cache() {
    ledger(|u| u.from_cache += 1);
}

/// What the GitHub API has cost this process so far.
pub fn usage() -> Usage {
    ledger(|u| u.clone())
}

/// A failed GitHub API call. Messages name the method and URL, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// GitHub answered with an error status.
    #[error("{method} {url} → {status}: {message}{hint}")]
    Status {
        /// HTTP method.
        method: Method,
        /// Full URL.
        url: String,
        /// Status code.
        status: u16,
        /// GitHub's message (and validation errors).
        message: String,
        /// What to do about it, starting with a separator.
        hint: String,
    },
    /// The rate limit is exhausted for longer than Baton waits.
    #[error(
        "{method} {url}: GitHub API rate limit exhausted; it resets in {wait_secs} s (at {reset} UTC epoch). Run again after that, or use a token with a higher limit"
    )]
    RateLimited {
        /// HTTP method.
        method: Method,
        /// Full URL.
        url: String,
        /// Seconds until the reset.
        wait_secs: u64,
        /// The reset time, in seconds since the epoch.
        reset: u64,
    },
    /// The request did not complete (connection, timeout).
    #[error("{method} {url}: {message} (check the network and --github-api-url)")]
    Network {
        /// HTTP method.
        method: Method,
        /// Full URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The answer is larger than Baton reads.
    #[error(
        "{method} {url}: the answer is larger than {} ({found}), the limit Baton keeps so that no host decides how much memory a run takes; if such an answer is expected, raise {flag}", size(*limit)
    )]
    TooLarge {
        /// HTTP method.
        method: Method,
        /// Full URL.
        url: String,
        /// The limit, in bytes.
        limit: u64,
        /// What gave it away: the `Content-Length`, or the bytes read.
        found: String,
        /// The flag (and input) that raises it.
        flag: &'static str,
    },
    /// The client could not be built or the URL is invalid.
    #[error("GitHub API client: {0}")]
    Config(String),
    /// An owner or repository name that is not a plain name; no request was sent.
    #[error(
        "{owner}/{repo}: the {what} {name:?} is not a plain name (letters, digits, '-', '_', '.'); no request sent"
    )]
    NotAName {
        /// `owner` or `repository`.
        what: &'static str,
        /// The offending name.
        name: String,
        /// The owner as given.
        owner: String,
        /// The repository as given.
        repo: String,
    },
    /// GitHub answered something Baton cannot read.
    #[error("{method} {url}: unexpected response: {message}")]
    BadResponse {
        /// HTTP method.
        method: Method,
        /// Full URL.
        url: String,
        /// What could not be read.
        message: String,
    },
}

impl GitHubError {
    /// The HTTP status, when GitHub answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GitHubError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// GitHub's message, when GitHub answered.
    pub fn message(&self) -> Option<&str> {
        match self {
            GitHubError::Status { message, .. } => Some(message),
            _ => None,
        }
    }
}

/// Whether `name` can be an owner or a repository name on GitHub: letters, digits, `-`, `_` and
/// `.`, and not `.` or `..`. Anything else (`..`, `%2e%2e`, `a/b`) would change the API path
/// the token is sent to.
pub fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Refuses, before any request, a repository whose owner or name is not a plain name.
pub fn check_repository(owner: &str, repo: &str) -> Result<(), GitHubError> {
    for (what, name) in [("owner", owner), ("repository", repo)] {
        if !plain_name(name) {
            return Err(GitHubError::NotAName {
                what,
                name: name.to_string(),
                owner: owner.to_string(),
                repo: repo.to_string(),
            });
        }
    }
    Ok(())
}

/// A GitHub API client. Clones share the connection pool and the request count.
#[derive(Clone)]
pub struct GitHub {
    crab: Octocrab,
    api: String,
    retry: RetryPolicy,
    requests: Arc<AtomicUsize>,
    pub(super) cache: Option<Arc<HttpCache>>,
    floor: u64,
    pub(super) limits: Limits,
}

impl GitHub {
    /// Builds a client. The token, if any, is sent as a bearer token and never printed.
    pub fn new(config: GitHubConfig) -> Result<Self, GitHubError> {
        let api = config
            .api_url
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(PUBLIC_API)
            .trim()
            .trim_end_matches('/')
            .to_string();
        let timeout = config.timeout.unwrap_or(Duration::from_secs(30));
        let mut builder = Octocrab::builder()
            .base_uri(api.as_str())
            .map_err(|e| GitHubError::Config(format!("invalid API URL {api:?}: {e}")))?
            .add_retry_config(octocrab::service::middleware::retry::RetryConfig::None)
            .set_connect_timeout(Some(timeout))
            .set_read_timeout(Some(timeout))
            .set_write_timeout(Some(timeout))
            .add_header(
                http::header::USER_AGENT,
                format!("baton/{}", env!("CARGO_PKG_VERSION")),
            );
        if let Some(token) = config.token.filter(|t| !t.trim().is_empty()) {
            builder = builder.personal_token(token.trim().to_string());
        }
        let crab = builder
            .build()
            .map_err(|e| GitHubError::Config(format!("{e}")))?;
        let cache = match &config.cache {
            Some((dir, max_age)) => Some(Arc::new(HttpCache::open(dir, *max_age).map_err(
                |e| {
                    GitHubError::Config(format!(
                        "cannot use the cache directory {}: {e} (set --cache-dir to a writable folder, or leave it empty for no cache)",
                        dir.display()
                    ))
                },
            )?)),
            None => None,
        };
        Ok(GitHub {
            crab,
            api,
            retry: config.retry,
            requests: Arc::new(AtomicUsize::new(0)),
            cache,
            floor: config.floor,
            limits: config.limits,
        })
    }

    /// Why optional work should not start now: the rate limit's remaining requests are below the
    /// floor. `what` (e.g. `breaking-change impact`) is recorded for the end-of-run line.
    pub fn budget_low(&self, what: &str) -> Option<String> {
        ledger(|u| {
            let remaining = u.remaining?;
            if remaining >= self.floor {
                return None;
            }
            u.held_back.insert(what.to_string());
            Some(format!(
                "not worked out: the GitHub API rate limit has {remaining} request{} left{}, below the floor of {} kept for updates and promotions (--api-floor, input api_floor)",
                if remaining == 1 { "" } else { "s" },
                u.reset
                    .map(|r| format!(" until {}", utc_time(r)))
                    .unwrap_or_default(),
                self.floor
            ))
        })
    }

    /// Whether the answer of `url` never changes (see [`super::wire::Operation::immutable`]).
    fn immutable(&self, url: &str) -> bool {
        let path = url.strip_prefix(self.api.as_str()).unwrap_or(url);
        let path = path.split('?').next().unwrap_or(path);
        super::wire::operation_for("GET", path).is_some_and(|op| op.immutable)
    }

    /// The API base URL in use.
    pub fn api_url(&self) -> &str {
        &self.api
    }

    /// Requests sent so far (retries and pages included).
    pub fn requests_sent(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Every tag name of a repository (all pages).
    pub async fn tags(&self, owner: &str, repo: &str) -> Result<Vec<String>, GitHubError> {
        check_repository(owner, repo)?;
        let items: Vec<TagItem> = self
            .all_pages(&format!("/repos/{owner}/{repo}/tags?per_page=100"))
            .await?;
        Ok(items.into_iter().map(|t| t.name).collect())
    }

    /// Every published release of a repository (all pages), drafts left out.
    pub async fn releases(&self, owner: &str, repo: &str) -> Result<Vec<Release>, GitHubError> {
        check_repository(owner, repo)?;
        let items: Vec<Release> = self
            .all_pages(&format!("/repos/{owner}/{repo}/releases?per_page=100"))
            .await?;
        Ok(items.into_iter().filter(|r| !r.draft).collect())
    }

    /// GETs a list and follows `Link: <…>; rel="next"` to the end.
    pub async fn all_pages<T: DeserializeOwned>(&self, route: &str) -> Result<Vec<T>, GitHubError> {
        let mut out = Vec::new();
        let mut next = Some(route.to_string());
        let mut pages = 0;
        while let Some(route) = next.take() {
            pages += 1;
            if pages > 1000 {
                break;
            }
            let (headers, body) = self.send(Method::GET, &route, None).await?;
            let items: Vec<T> =
                serde_json::from_slice(&body).map_err(|e| GitHubError::BadResponse {
                    method: Method::GET,
                    url: self.full_url(&route),
                    message: e.to_string(),
                })?;
            out.extend(items);
            next = next_link(&headers);
        }
        Ok(out)
    }

    /// GETs one JSON document.
    pub async fn get_json<T: DeserializeOwned>(&self, route: &str) -> Result<T, GitHubError> {
        let (_, body) = self.send(Method::GET, route, None).await?;
        self.decode(Method::GET, route, &body)
    }

    /// POSTs a JSON body; returns the decoded response (use `serde_json::Value` for none).
    pub async fn post_json<T: DeserializeOwned>(
        &self,
        route: &str,
        body: &serde_json::Value,
    ) -> Result<T, GitHubError> {
        let (_, bytes) = self.send(Method::POST, route, Some(body)).await?;
        self.decode(Method::POST, route, &bytes)
    }

    /// PATCHes a JSON body; returns the decoded response.
    pub async fn patch_json<T: DeserializeOwned>(
        &self,
        route: &str,
        body: &serde_json::Value,
    ) -> Result<T, GitHubError> {
        let (_, bytes) = self.send(Method::PATCH, route, Some(body)).await?;
        self.decode(Method::PATCH, route, &bytes)
    }

    fn decode<T: DeserializeOwned>(
        &self,
        method: Method,
        route: &str,
        body: &[u8],
    ) -> Result<T, GitHubError> {
        let body = if body.iter().all(u8::is_ascii_whitespace) {
            b"null".as_slice()
        } else {
            body
        };
        serde_json::from_slice(body).map_err(|e| GitHubError::BadResponse {
            method,
            url: self.full_url(route),
            message: e.to_string(),
        })
    }

    pub(super) fn full_url(&self, route: &str) -> String {
        if route.starts_with("http://") || route.starts_with("https://") {
            route.to_string()
        } else {
            format!("{}{}", self.api, route)
        }
    }

    /// Sends one request with retries; returns the headers and body of a successful response.
    /// A `GET` goes through the cache when there is one: answered from it without a request when
    /// the answer never changes or is younger than the cache's age, else asked conditionally.
    pub async fn send(
        &self,
        method: Method,
        route: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(HeaderMap, Bytes), GitHubError> {
        let url = self.full_url(route);
        let cache = self.cache.as_deref().filter(|_| method == Method::GET);
        let cached = cache.and_then(|c| c.get(&url));
        if let (Some(c), Some(entry)) = (cache, &cached) {
            if self.immutable(&url) || entry.age < c.max_age() {
                log::debug!("{method} {url}: from the cache");
                ledger(|u| u.from_cache += 1);
                return Ok((entry.headers(), entry.body.clone()));
            }
        }
        let conditional = cached.as_ref().map(|e| e.conditional());
        let (status, headers, bytes) = self.exchange(&method, &url, body, conditional).await?;
        match (cache, cached) {
            (Some(c), Some(entry)) if status == StatusCode::NOT_MODIFIED => {
                ledger(|u| u.not_modified += 1);
                c.confirm(&entry);
                Ok((entry.headers(), entry.body))
            }
            (Some(c), _) if status == StatusCode::OK => {
                c.put(&url, &headers, &bytes);
                Ok((headers, bytes))
            }
            _ => Ok((headers, bytes)),
        }
    }

    /// Reads the rate-limit and server headers of an answer into the process's [`Usage`].
    fn observe(&self, headers: &HeaderMap) {
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let resource = headers
            .get("x-ratelimit-resource")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("core");
        ledger(|u| {
            if resource == "core" {
                if let Some(r) = number("x-ratelimit-remaining") {
                    u.remaining = Some(r);
                    u.limit = number("x-ratelimit-limit").or(u.limit);
                    u.reset = number("x-ratelimit-reset").or(u.reset);
                }
            }
            if let Some(v) = headers
                .get("x-github-enterprise-version")
                .and_then(|v| v.to_str().ok())
            {
                u.enterprise_version = Some(v.to_string());
            }
        });
    }

    /// One request over the network, retried as the policy says: the status (a success or
    /// `304`), headers and body, read up to the response limit.
    async fn exchange(
        &self,
        method: &Method,
        url: &str,
        body: Option<&serde_json::Value>,
        conditional: Option<HeaderMap>,
    ) -> Result<(StatusCode, HeaderMap, Bytes), GitHubError> {
        let (status, headers, stream) = self.respond(method, url, body, conditional).await?;
        let limit = (self.limits.response, RESPONSE_FLAG);
        let bytes = read_limited(method, url, &headers, stream, limit).await?;
        Ok((status, headers, bytes))
    }

    /// One request over the network, retried as the policy says (connection errors, server
    /// errors, rate limits); on a success or `304`, the status, headers and the body still to be
    /// read.
    pub(super) async fn respond(
        &self,
        method: &Method,
        url: &str,
        body: Option<&serde_json::Value>,
        conditional: Option<HeaderMap>,
    ) -> Result<(StatusCode, HeaderMap, Body), GitHubError> {
        let method = method.clone();
        let url = url.to_string();
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            self.requests.fetch_add(1, Ordering::Relaxed);
            ledger(|u| u.requests += 1);
            log::debug!("{method} {url}");
            let response = match method {
                Method::GET => {
                    self.crab
                        ._get_with_headers(url.as_str(), conditional.clone())
                        .await
                }
                Method::POST => self.crab._post(url.as_str(), body).await,
                Method::PATCH => self.crab._patch(url.as_str(), body).await,
                Method::DELETE => self.crab._delete(url.as_str(), body).await,
                Method::PUT => self.crab._put(url.as_str(), body).await,
                _ => {
                    return Err(GitHubError::Config(format!("unsupported method {method}")));
                }
            };
            let response = match response {
                Ok(r) => r,
                Err(e) => {
                    let err = GitHubError::Network {
                        method: method.clone(),
                        url: url.clone(),
                        message: network_message(&e),
                    };
                    if attempt <= self.retry.max_retries {
                        tokio::time::sleep(self.backoff(attempt)).await;
                        continue;
                    }
                    return Err(err);
                }
            };
            let (parts, stream) = response.into_parts();
            self.observe(&parts.headers);
            let status = parts.status;
            if status.is_success() || status == StatusCode::NOT_MODIFIED {
                return Ok((status, parts.headers, stream));
            }
            let limit = (self.limits.response, RESPONSE_FLAG);
            let bytes = read_limited(&method, &url, &parts.headers, stream, limit).await?;
            let message = error_message(&bytes, status);
            match self.wait_for(status, &parts.headers, &message, attempt) {
                Wait::Retry(wait) if attempt <= self.retry.max_retries => {
                    log::warn!(
                        "{method} {url} → {}: retrying in {} s",
                        status.as_u16(),
                        wait.as_secs_f32()
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
                Wait::TooLong { wait_secs, reset } => {
                    return Err(GitHubError::RateLimited {
                        method,
                        url,
                        wait_secs,
                        reset,
                    });
                }
                _ => {}
            }
            let mut hint = hint_for(status.as_u16(), &method, &message);
            if matches!(status.as_u16(), 404 | 410 | 422 | 501) {
                if let Some(v) = ledger(|u| u.enterprise_version.clone()) {
                    hint.push_str(&super::wire::ghes_hint(&v).unwrap_or_default());
                }
            }
            return Err(GitHubError::Status {
                method,
                url,
                status: status.as_u16(),
                message,
                hint,
            });
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        self.retry
            .backoff
            .saturating_mul(1 << attempt.saturating_sub(1).min(6))
            .min(self.retry.max_wait)
    }

    fn wait_for(
        &self,
        status: StatusCode,
        headers: &HeaderMap,
        message: &str,
        attempt: u32,
    ) -> Wait {
        let code = status.as_u16();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        if code == 403 || code == 429 {
            if let Some(secs) = header("retry-after") {
                return self.bounded(secs, None);
            }
            if header("x-ratelimit-remaining") == Some(0) {
                let reset = header("x-ratelimit-reset").unwrap_or(0);
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                return self.bounded(reset.saturating_sub(now) + 1, Some(reset));
            }
            if code == 429
                || message
                    .to_ascii_lowercase()
                    .contains("secondary rate limit")
            {
                // GitHub's advice without a header: wait at least a minute.
                return self.bounded(60, None);
            }
            return Wait::No;
        }
        if status.is_server_error() {
            return Wait::Retry(self.backoff(attempt));
        }
        Wait::No
    }

    fn bounded(&self, secs: u64, reset: Option<u64>) -> Wait {
        if Duration::from_secs(secs) <= self.retry.max_wait {
            Wait::Retry(Duration::from_secs(secs))
        } else {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            Wait::TooLong {
                wait_secs: secs,
                reset: reset.unwrap_or(now + secs),
            }
        }
    }
}

/// The body of an answer, still to be read.
pub(super) type Body = http_body_util::combinators::BoxBody<Bytes, octocrab::Error>;

/// The flag (and input) that raises [`Limits::response`].
pub const RESPONSE_FLAG: &str = "--max-response-size (input max_response_size)";

/// The flag (and input) that raises [`Limits::tarball`].
pub const TARBALL_FLAG: &str = "--max-tarball-size (input max_tarball_size)";

/// The `Content-Length` of an answer, if it gives one.
pub(super) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Reads a whole body, refusing one larger than `limit`: at once when its `Content-Length` says
/// so, else as soon as the bytes read pass it.
async fn read_limited(
    method: &Method,
    url: &str,
    headers: &HeaderMap,
    stream: Body,
    (limit, flag): (u64, &'static str),
) -> Result<Bytes, GitHubError> {
    let too_large = |found: String| GitHubError::TooLarge {
        method: method.clone(),
        url: url.to_string(),
        limit,
        found,
        flag,
    };
    if let Some(declared) = content_length(headers).filter(|n| *n > limit) {
        return Err(too_large(format!("Content-Length {}", size(declared))));
    }
    let limited =
        http_body_util::Limited::new(stream, usize::try_from(limit).unwrap_or(usize::MAX));
    match limited.collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(too_large(format!("more than {} read", size(limit))))
        }
        Err(e) => Err(GitHubError::Network {
            method: method.clone(),
            url: url.to_string(),
            message: network_message(&*e),
        }),
    }
}

enum Wait {
    No,
    Retry(Duration),
    TooLong { wait_secs: u64, reset: u64 },
}

/// The `rel="next"` URL of a `Link` header.
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get(http::header::LINK)?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

fn error_message(body: &[u8], status: StatusCode) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        message: Option<String>,
        #[serde(default)]
        errors: Vec<serde_json::Value>,
    }
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) => {
            let mut msg = b
                .message
                .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
            let details: Vec<String> = b
                .errors
                .iter()
                .filter_map(|e| {
                    e.get("message")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                        .or_else(|| e.get("code").and_then(|c| c.as_str()).map(str::to_string))
                })
                .collect();
            if !details.is_empty() {
                msg.push_str(": ");
                msg.push_str(&details.join("; "));
            }
            msg
        }
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("error").to_string()
            } else {
                text.chars().take(300).collect()
            }
        }
    }
}

fn hint_for(status: u16, method: &Method, message: &str) -> String {
    match status {
        401 => ". The token is invalid or expired: set GITHUB_TOKEN to a valid token".into(),
        403 if message.contains("Resource not accessible by integration") => {
            if *method == Method::GET {
                ". The token cannot read this: give it `contents: read` on the repository".into()
            } else {
                ". The token lacks a permission: the workflow needs `contents: write` and `pull-requests: write` (add them under `permissions:`)".into()
            }
        }
        403 | 404 if *method == Method::GET => ". If the repository is private, set GITHUB_TOKEN (or PATCHER_READ_TOKEN) to a token that can read it".into(),
        403 if message.contains("not permitted to create or approve pull requests") => ". The repository does not let workflows open pull requests: enable \"Allow GitHub Actions to create and approve pull requests\" (Settings → Actions → General), or use a GitHub App or personal token".into(),
        _ => String::new(),
    }
}

pub(super) fn network_message(e: &dyn std::error::Error) -> String {
    // `{:?}` of octocrab errors carries a backtrace; print the causes only.
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(link: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::LINK, link.parse().unwrap());
        h
    }

    #[test]
    fn only_plain_names_make_an_api_path() {
        for ok in ["acme", "terraform-aws-vpc", "a.b_c"] {
            assert!(plain_name(ok), "{ok}");
        }
        for bad in ["", ".", "..", "%2e%2e", "a/b", "a b", "a?b", "a#b", "ä"] {
            assert!(!plain_name(bad), "{bad}");
        }
        let err = check_repository("..", "x").unwrap_err();
        assert!(err.to_string().contains("not a plain name"), "{err}");
    }

    #[test]
    fn next_link_is_read_from_the_link_header() {
        let h = headers(
            r#"<https://api.github.com/repositories/1/tags?page=2>; rel="next", <https://api.github.com/repositories/1/tags?page=5>; rel="last""#,
        );
        assert_eq!(
            next_link(&h).as_deref(),
            Some("https://api.github.com/repositories/1/tags?page=2")
        );
        let h =
            headers(r#"<https://x/tags?page=1>; rel="prev", <https://x/tags?page=1>; rel="first""#);
        assert_eq!(next_link(&h), None);
        assert_eq!(next_link(&HeaderMap::new()), None);
    }

    #[test]
    fn error_messages_include_validation_errors() {
        let body = br#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for octo:patch-1."}]}"#;
        assert_eq!(
            error_message(body, StatusCode::UNPROCESSABLE_ENTITY),
            "Validation Failed: A pull request already exists for octo:patch-1."
        );
        assert_eq!(error_message(b"", StatusCode::NOT_FOUND), "Not Found");
    }

    #[test]
    fn hints_name_what_to_do() {
        assert!(hint_for(404, &Method::GET, "Not Found").contains("GITHUB_TOKEN"));
        assert!(
            hint_for(403, &Method::POST, "Resource not accessible by integration")
                .contains("pull-requests: write")
        );
        assert!(
            hint_for(
                403,
                &Method::POST,
                "GitHub Actions is not permitted to create or approve pull requests."
            )
            .contains("Allow GitHub Actions to create and approve pull requests")
        );
        assert_eq!(hint_for(422, &Method::POST, "Validation Failed"), "");
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size(16 << 20), "16 MiB");
        assert_eq!(size(1 << 30), "1 GiB");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(100), "100 B");
    }

    #[test]
    fn config_debug_hides_the_token() {
        let c = GitHubConfig {
            token: Some("ghp_secret".into()),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("ghp_secret"));
    }
}
