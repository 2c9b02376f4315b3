//! Lists a registry module's versions through the Terraform/OpenTofu module registry protocol.
//! Trade-off: small and predictable: discovery is cached per host and only 429/5xx are retried.

use std::collections::HashMap;
use std::error::Error as _;
use std::fmt;
use std::future::poll_fn;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Poll, Waker};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use serde::Deserialize;
use url::{Host, Url};

/// Overall time limit for one HTTP request when the caller has no better value.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// User-Agent sent when the caller passes an empty one: `baton/<crate version>`.
pub const DEFAULT_USER_AGENT: &str = concat!("baton/", env!("CARGO_PKG_VERSION"));

/// Retries after the first attempt for `429` and `5xx` answers.
const MAX_RETRIES: u32 = 2;

/// Longest single wait between two attempts, whatever `Retry-After` asks for.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);

/// Default first backoff step; it doubles on each retry.
const DEFAULT_RETRY_BASE: Duration = Duration::from_millis(500);

/// Longest connect phase, however long the overall timeout is.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Largest response body read; discovery documents and version lists are far smaller.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Where service discovery lives on every registry host.
const DISCOVERY_PATH: &str = ".well-known/terraform.json";

/// The service discovery key of the module registry protocol.
const MODULES_SERVICE: &str = "modules.v1";

/// Why a registry lookup failed. Each message names what failed, on which URL, and what to do;
/// none ever contains a token.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The HTTP client could not be built (bad User-Agent or TLS set-up).
    #[error("could not set up the registry HTTP client: {0}")]
    Client(String),

    /// The host is not something a registry address can name.
    #[error(
        "invalid registry host {host:?}: {reason}; use a host name such as registry.terraform.io"
    )]
    InvalidHost {
        /// The host as given.
        host: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A namespace, name or provider cannot be part of a registry URL.
    #[error(
        "invalid registry module address {module}: {reason}; use namespace/name/provider \
         with letters, digits, '-', '_' or '.'"
    )]
    InvalidModule {
        /// `namespace/name/provider` as given.
        module: String,
        /// What is wrong with it.
        reason: String,
    },

    /// Service discovery worked but the host offers no usable module registry.
    #[error("{host} is not a module registry: {url} {reason}; check the host in the module source")]
    NotARegistry {
        /// The registry host.
        host: String,
        /// The discovery URL.
        url: String,
        /// What the discovery document lacks, e.g. "does not list modules.v1".
        reason: String,
    },

    /// The registry answered 404 for the module's version list.
    #[error(
        "module {module} not found on {host} (GET {url} → 404); check the namespace, name and \
         provider in the module source"
    )]
    NotFound {
        /// `namespace/name/provider`.
        module: String,
        /// The registry host.
        host: String,
        /// The version-list URL.
        url: String,
    },

    /// The registry answered 401 or 403.
    #[error(
        "{host} refused access (GET {url} → {status}){}; set {env_var} to a token that can read \
         this module",
        if *.token_sent { ", the token sent was rejected" } else { ", no token was sent" }
    )]
    Unauthorized {
        /// The registry host.
        host: String,
        /// The refused URL.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The environment variable that holds a token for this host.
        env_var: String,
        /// Whether a token was sent with the request.
        token_sent: bool,
    },

    /// The token for the host cannot be sent as an HTTP header.
    #[error(
        "the token for {host} contains characters that cannot be sent in an HTTP header; check \
         the value of {env_var}"
    )]
    InvalidToken {
        /// The registry host.
        host: String,
        /// The environment variable that holds a token for this host.
        env_var: String,
    },

    /// The registry kept answering 429 or 5xx.
    #[error(
        "{url} is unavailable (HTTP {status}{}) after {attempts} attempts; try again later",
        retry_after_note(.retry_after)
    )]
    Unavailable {
        /// The URL requested.
        url: String,
        /// The last status, 429 or 5xx.
        status: u16,
        /// The last `Retry-After` in seconds, when the registry sent one.
        retry_after: Option<Duration>,
        /// How many requests were sent.
        attempts: u32,
    },

    /// The request got no HTTP answer: DNS, connection, TLS or timeout.
    #[error(
        "request to {url} failed: {detail}; check the network connection, any proxy settings \
         and the host name"
    )]
    Network {
        /// The URL requested.
        url: String,
        /// Whether the request ran out of time.
        timed_out: bool,
        /// The underlying cause.
        detail: String,
    },

    /// The registry answered, but not as the protocol says.
    #[error(
        "unexpected response from {url}: {reason}; the host may not follow the module registry \
         protocol"
    )]
    BadResponse {
        /// The URL requested.
        url: String,
        /// What was wrong: bad JSON, an unexpected status, an oversized body.
        reason: String,
    },
}

fn retry_after_note(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(wait) => format!(", Retry-After: {} s", wait.as_secs()),
        None => String::new(),
    }
}

/// The environment variable Terraform reads a token for `host` from: `TF_TOKEN_` followed by
/// the lowercased host with `.` written as `_` and `-` as `__`
/// (`my-reg.example.com` → `TF_TOKEN_my__reg_example_com`).
pub fn token_env_var(host: &str) -> String {
    let mut name = String::from("TF_TOKEN_");
    for c in host.trim().chars().flat_map(char::to_lowercase) {
        match c {
            '.' => name.push('_'),
            '-' => name.push_str("__"),
            c => name.push(c),
        }
    }
    name
}

/// Reads the token for `host` (the normalized key: lowercase, punycode, with a port when one
/// was given) as Terraform does: every variable named `TF_TOKEN_…` is read back into a host
/// (`__` → `-`, then `_` → `.`), normalized (lowercase; an internationalized name to punycode)
/// and compared with `host`. An empty value counts as none.
fn token_from_env(host: &str) -> Option<String> {
    std::env::vars_os().find_map(|(key, value)| {
        let rest = key.to_str()?.strip_prefix("TF_TOKEN_")?;
        if token_var_host(rest).as_deref() != Some(host) {
            return None;
        }
        let value = value.into_string().ok()?;
        let value = value.trim();
        (!value.is_empty()).then(|| value.to_owned())
    })
}

/// The host a `TF_TOKEN_` variable's name (without the prefix) stands for, normalized as
/// [`RegistryHost`] keys are: `my__reg_example_com` → `my-reg.example.com`,
/// `café_example` and `xn__caf__dma_example` → `xn--caf-dma.example`.
fn token_var_host(rest: &str) -> Option<String> {
    let raw = rest.replace("__", "-").replace('_', ".");
    RegistryHost::parse(&raw).ok().map(|h| h.key)
}

type TokenLookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// A module registry client that discovers each host once and lists module versions.
///
/// Hosts are reached over HTTPS, except loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`,
/// with or without a port), which are reached over plain HTTP so local stand-in registries
/// work. A token for a host, found by the token lookup (by default the [`token_env_var`]
/// environment variable), is sent as `Authorization: Bearer …` to the discovery document and
/// to the module service, wherever the host's discovery document points, but never over plain
/// HTTP to a host that is not loopback. `&self` methods make one client usable from many tasks.
pub struct RegistryClient {
    http: reqwest::Client,
    timeout: Duration,
    retry_base: Duration,
    token_lookup: TokenLookup,
    discovery: DiscoveryCache,
    requests: AtomicUsize,
}

impl fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryClient")
            .field("timeout", &self.timeout)
            .field("retry_base", &self.retry_base)
            .field("requests_sent", &self.requests_sent())
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// Builds a client sending `user_agent` (or [`DEFAULT_USER_AGENT`] when empty), giving each
    /// request `timeout` overall (connecting gets at most 10 s of it). Tokens come from
    /// `TF_TOKEN_<host>` environment variables until [`Self::with_token_lookup`] says otherwise.
    /// Installs rustls's ring crypto provider as the process default if none is installed yet.
    pub fn new(user_agent: &str, timeout: Duration) -> Result<Self, RegistryError> {
        let user_agent = match user_agent.trim() {
            "" => DEFAULT_USER_AGENT,
            ua => ua,
        };
        let user_agent = HeaderValue::from_str(user_agent).map_err(|_| {
            RegistryError::Client(format!(
                "User-Agent {user_agent:?} is not a valid header value"
            ))
        })?;
        // reqwest is built without a bundled crypto provider; make ring the process default
        // unless one is already installed (then this is a no-op).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
            .timeout(timeout)
            .build()
            .map_err(|e| RegistryError::Client(error_chain(&e)))?;
        Ok(Self {
            http,
            timeout,
            retry_base: DEFAULT_RETRY_BASE,
            token_lookup: Box::new(token_from_env),
            discovery: DiscoveryCache::default(),
            requests: AtomicUsize::new(0),
        })
    }

    /// Replaces the token lookup. `f` gets the normalized registry host (lowercase, with a
    /// port when one was given, e.g. `app.terraform.io` or `127.0.0.1:8080`) and returns its
    /// token, if any.
    pub fn with_token_lookup(
        mut self,
        f: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.token_lookup = Box::new(f);
        self
    }

    /// Sets the first backoff step before retrying a `429`/`5xx` answer (default 500 ms; it
    /// doubles on each retry). A `Retry-After` in seconds takes precedence; no wait exceeds 10 s.
    pub fn with_retry_base(mut self, base: Duration) -> Self {
        self.retry_base = base;
        self
    }

    /// Number of HTTP requests sent so far (for tests and logs).
    pub fn requests_sent(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Lists the versions of `namespace/name/provider` on `host`, as the registry writes them
    /// and in its order. The host's service discovery is fetched once per client and host.
    pub async fn versions(
        &self,
        host: &str,
        namespace: &str,
        name: &str,
        provider: &str,
    ) -> Result<Vec<String>, RegistryError> {
        let registry = RegistryHost::parse(host)?;
        let module = format!("{namespace}/{name}/{provider}");
        for segment in [namespace, name, provider] {
            check_segment(segment).map_err(|reason| RegistryError::InvalidModule {
                module: module.clone(),
                reason,
            })?;
        }
        let base = self.modules_base(&registry).await?;
        let mut url = base.clone();
        match url.path_segments_mut() {
            Ok(mut segments) => {
                segments
                    .pop_if_empty()
                    .extend([namespace, name, provider, "versions"]);
            }
            Err(()) => {
                return Err(RegistryError::BadResponse {
                    url: base.to_string(),
                    reason: format!("the {MODULES_SERVICE} URL cannot take a path"),
                });
            }
        }
        log::debug!("listing versions of {module} from {url}");
        let body = match self.fetch(&registry, &url).await? {
            Fetched::Body(body, _) => body,
            Fetched::Status(StatusCode::NOT_FOUND) => {
                return Err(RegistryError::NotFound {
                    module,
                    host: registry.key,
                    url: url.to_string(),
                });
            }
            Fetched::Status(status) => return Err(unexpected_status(&url, status)),
        };
        let list: VersionList = parse_json(&url, &body)?;
        Ok(list
            .modules
            .into_iter()
            .flat_map(|m| m.versions)
            .map(|v| v.version)
            .collect())
    }

    /// When `version` of `namespace/name/provider` on `host` was published (the registry's
    /// `published_at`, RFC 3339), or `None` when the registry does not say.
    pub async fn published_at(
        &self,
        host: &str,
        namespace: &str,
        name: &str,
        provider: &str,
        version: &str,
    ) -> Result<Option<String>, RegistryError> {
        let (registry, url) = self
            .version_url(host, [namespace, name, provider, version], &[])
            .await?;
        let body = match self.fetch(&registry, &url).await? {
            Fetched::Body(body, _) => body,
            Fetched::Status(StatusCode::NOT_FOUND) => return Ok(None),
            Fetched::Status(status) => return Err(unexpected_status(&url, status)),
        };
        let detail: serde_json::Value = parse_json(&url, &body)?;
        Ok(detail
            .get("published_at")
            .and_then(|v| v.as_str())
            .map(str::to_string))
    }

    /// Where `version` of `namespace/name/provider` on `host` is downloaded from, as the module
    /// registry protocol says (`GET <modules.v1>/<ns>/<name>/<provider>/<version>/download` →
    /// 204 with `X-Terraform-Get`, or a JSON `location`): a go-getter address such as
    /// `git::https://github.com/org/repo?ref=v1.2.0`. A relative address (`/…`, `./…`, `../…`)
    /// is resolved against the download URL, as Terraform does. The token for `host` goes to
    /// the registry only, never to the address returned.
    pub async fn download_address(
        &self,
        host: &str,
        namespace: &str,
        name: &str,
        provider: &str,
        version: &str,
    ) -> Result<String, RegistryError> {
        let module = format!("{namespace}/{name}/{provider}");
        let (registry, url) = self
            .version_url(host, [namespace, name, provider, version], &["download"])
            .await?;
        let (body, header) = match self.fetch(&registry, &url).await? {
            Fetched::Body(body, header) => (body, header),
            Fetched::Status(StatusCode::NOT_FOUND) => {
                return Err(RegistryError::NotFound {
                    module: format!("{module} {version}"),
                    host: registry.key,
                    url: url.to_string(),
                });
            }
            Fetched::Status(status) => return Err(unexpected_status(&url, status)),
        };
        let location = match header {
            Some(h) => h,
            None => {
                #[derive(Deserialize)]
                struct Location {
                    location: Option<String>,
                }
                serde_json::from_slice::<Location>(&body)
                    .ok()
                    .and_then(|l| l.location)
                    .filter(|l| !l.trim().is_empty())
                    .ok_or_else(|| RegistryError::BadResponse {
                        url: url.to_string(),
                        reason: "it names no download address (no X-Terraform-Get header, no \
                                 `location`)"
                            .into(),
                    })?
            }
        };
        let location = location.trim();
        if ["/", "./", "../"].iter().any(|p| location.starts_with(p)) {
            return url.join(location).map(|u| u.to_string()).map_err(|e| {
                RegistryError::BadResponse {
                    url: url.to_string(),
                    reason: format!("its relative download address is not a URL path: {e}"),
                }
            });
        }
        Ok(location.to_owned())
    }

    /// The registry of `host` and the URL of one module version on it
    /// (`<modules.v1>/<ns>/<name>/<provider>/<version>`, then `extra`), each part checked.
    async fn version_url(
        &self,
        host: &str,
        parts: [&str; 4],
        extra: &[&str],
    ) -> Result<(RegistryHost, Url), RegistryError> {
        let registry = RegistryHost::parse(host)?;
        let [namespace, name, provider, _] = parts;
        for segment in parts {
            check_segment(segment).map_err(|reason| RegistryError::InvalidModule {
                module: format!("{namespace}/{name}/{provider}"),
                reason,
            })?;
        }
        let base = self.modules_base(&registry).await?;
        let mut url = base.clone();
        match url.path_segments_mut() {
            Ok(mut segments) => {
                segments.pop_if_empty().extend(parts.iter().chain(extra));
            }
            Err(()) => {
                return Err(RegistryError::BadResponse {
                    url: base.to_string(),
                    reason: format!("the {MODULES_SERVICE} URL cannot take a path"),
                });
            }
        }
        Ok((registry, url))
    }

    /// The `modules.v1` base URL of `registry`, ending in `/`, from the cache or discovery.
    async fn modules_base(&self, registry: &RegistryHost) -> Result<Url, RegistryError> {
        let guard = match self.discovery.claim(&registry.key).await {
            Claim::Cached(url) => return Ok(url),
            Claim::Resolve(guard) => guard,
        };
        let base = self.discover(registry).await?;
        guard.finish(base.clone());
        Ok(base)
    }

    async fn discover(&self, registry: &RegistryHost) -> Result<Url, RegistryError> {
        let url = registry
            .root
            .join(DISCOVERY_PATH)
            .map_err(|e| RegistryError::InvalidHost {
                host: registry.key.clone(),
                reason: e.to_string(),
            })?;
        log::debug!("discovering registry services at {url}");
        let not_a_registry = |reason: String| RegistryError::NotARegistry {
            host: registry.key.clone(),
            url: url.to_string(),
            reason,
        };
        let body = match self.fetch(registry, &url).await? {
            Fetched::Body(body, _) => body,
            Fetched::Status(StatusCode::NOT_FOUND) => {
                return Err(not_a_registry("answered 404".to_owned()));
            }
            Fetched::Status(status) => return Err(unexpected_status(&url, status)),
        };
        let services: HashMap<String, serde_json::Value> = parse_json(&url, &body)?;
        let value = match services.get(MODULES_SERVICE) {
            Some(serde_json::Value::String(value)) => value,
            Some(_) => {
                return Err(not_a_registry(format!(
                    "lists {MODULES_SERVICE} as something other than a URL string"
                )));
            }
            None => return Err(not_a_registry(format!("does not list {MODULES_SERVICE}"))),
        };
        let mut base = url.join(value).map_err(|e| {
            not_a_registry(format!(
                "lists {MODULES_SERVICE} as {value:?}, which is not a URL: {e}"
            ))
        })?;
        if !matches!(base.scheme(), "https" | "http") || base.cannot_be_a_base() {
            return Err(not_a_registry(format!(
                "lists {MODULES_SERVICE} as {value:?}, which is not an http(s) URL"
            )));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        base.set_query(None);
        base.set_fragment(None);
        log::debug!("{} serves {MODULES_SERVICE} at {base}", registry.key);
        Ok(base)
    }

    /// GETs `url`, retrying `429`/`5xx`, and turns 401/403, exhausted retries and transport
    /// failures into errors; any other status is left to the caller.
    async fn fetch(&self, registry: &RegistryHost, url: &Url) -> Result<Fetched, RegistryError> {
        let token = (self.token_lookup)(&registry.key)
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        let authorization = match token {
            Some(token) if token_allowed(url) => {
                let mut value =
                    HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                        RegistryError::InvalidToken {
                            host: registry.key.clone(),
                            env_var: token_env_var(&registry.key),
                        }
                    })?;
                value.set_sensitive(true);
                Some(value)
            }
            Some(_) => {
                log::warn!(
                    "not sending the token for {} to {url} over plain HTTP",
                    registry.key
                );
                None
            }
            None => None,
        };

        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let mut request = self.http.get(url.clone());
            if let Some(value) = &authorization {
                request = request.header(AUTHORIZATION, value.clone());
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let response = request
                .send()
                .await
                .map_err(|e| self.network_error(url, &e))?;
            let status = response.status();
            log::debug!("GET {url} → {status} (attempt {attempt})");

            if status.is_success() {
                let get = response
                    .headers()
                    .get(TERRAFORM_GET)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.trim().to_owned())
                    .filter(|v| !v.is_empty());
                let body = self.read_body(response, url).await?;
                return Ok(Fetched::Body(body, get));
            }
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                return Err(RegistryError::Unauthorized {
                    host: registry.key.clone(),
                    url: url.to_string(),
                    status: status.as_u16(),
                    env_var: token_env_var(&registry.key),
                    token_sent: authorization.is_some(),
                });
            }
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                let retry_after = retry_after(&response);
                if attempt > MAX_RETRIES {
                    return Err(RegistryError::Unavailable {
                        url: url.to_string(),
                        status: status.as_u16(),
                        retry_after,
                        attempts: attempt,
                    });
                }
                let wait = retry_wait(self.retry_base, attempt, retry_after);
                log::info!("GET {url} answered {status}; retrying in {wait:?}");
                tokio::time::sleep(wait).await;
                continue;
            }
            return Ok(Fetched::Status(status));
        }
    }

    async fn read_body(
        &self,
        mut response: reqwest::Response,
        url: &Url,
    ) -> Result<Vec<u8>, RegistryError> {
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.network_error(url, &e))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(RegistryError::BadResponse {
                    url: url.to_string(),
                    reason: format!("the body is larger than {} MiB", MAX_BODY_BYTES >> 20),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn network_error(&self, url: &Url, error: &reqwest::Error) -> RegistryError {
        let timed_out = error.is_timeout();
        let detail = if timed_out {
            format!(
                "no answer within {:.1} s (timed out)",
                self.timeout.as_secs_f64()
            )
        } else {
            // The top-level message repeats the URL; its causes say what went wrong.
            error
                .source()
                .map_or_else(|| error.to_string(), error_chain)
        };
        RegistryError::Network {
            url: url.to_string(),
            timed_out,
            detail,
        }
    }
}

/// What [`RegistryClient::fetch`] leaves to its caller.
enum Fetched {
    /// A 2xx answer: its body and its `X-Terraform-Get` header, if any.
    Body(Vec<u8>, Option<String>),
    Status(StatusCode),
}

/// The header a registry's download endpoint answers with.
const TERRAFORM_GET: &str = "x-terraform-get";

/// A registry host, checked and normalized.
struct RegistryHost {
    /// Lowercase host with any non-default port: the cache key and token lookup argument.
    key: String,
    /// `https://host/`, or `http://host/` for loopback hosts.
    root: Url,
}

impl RegistryHost {
    fn parse(host: &str) -> Result<Self, RegistryError> {
        let invalid = |reason: &str| RegistryError::InvalidHost {
            host: host.to_owned(),
            reason: reason.to_owned(),
        };
        let trimmed = host.trim();
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        if trimmed.contains(['/', '\\', '@', '?', '#']) || trimmed.contains(char::is_whitespace) {
            return Err(invalid(
                "a host cannot contain '/', '\\', '@', '?', '#' or spaces",
            ));
        }
        let probe = Url::parse(&format!("https://{trimmed}/"))
            .map_err(|e| invalid(&format!("it is not a host name ({e})")))?;
        let loopback = match probe.host() {
            Some(Host::Domain(domain)) => domain == "localhost",
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(invalid("it has no host name")),
        };
        let root = if loopback {
            Url::parse(&format!("http://{trimmed}/"))
                .map_err(|e| invalid(&format!("it is not a host name ({e})")))?
        } else {
            probe
        };
        let key = root.authority().to_owned();
        Ok(Self { key, root })
    }
}

/// Whether a token may go to `url`: over HTTPS, or to a loopback host.
fn token_allowed(url: &Url) -> bool {
    url.scheme() == "https"
        || match url.host() {
            Some(Host::Domain(domain)) => domain == "localhost",
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
}

/// Checks one of namespace, name and provider.
fn check_segment(segment: &str) -> Result<(), String> {
    if segment.is_empty() {
        return Err("a part is empty".to_owned());
    }
    if segment == "." || segment == ".." {
        return Err(format!("{segment:?} is not a valid part"));
    }
    match segment
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        Some(c) => Err(format!("{segment:?} contains {c:?}")),
        None => Ok(()),
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// The wait before retry number `retry` (1-based): `Retry-After` when given, else `base`
/// doubled per earlier retry; never more than [`MAX_RETRY_WAIT`].
fn retry_wait(base: Duration, retry: u32, retry_after: Option<Duration>) -> Duration {
    let backoff = base.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
    retry_after.unwrap_or(backoff).min(MAX_RETRY_WAIT)
}

fn unexpected_status(url: &Url, status: StatusCode) -> RegistryError {
    RegistryError::BadResponse {
        url: url.to_string(),
        reason: format!("unexpected HTTP status {status}"),
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(url: &Url, body: &[u8]) -> Result<T, RegistryError> {
    serde_json::from_slice(body).map_err(|e| RegistryError::BadResponse {
        url: url.to_string(),
        reason: format!("the body is not the expected JSON ({e})"),
    })
}

/// The error and its causes, joined with ": ".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[derive(Deserialize)]
struct VersionList {
    modules: Vec<ModuleVersions>,
}

#[derive(Deserialize)]
struct ModuleVersions {
    versions: Vec<ModuleVersion>,
}

#[derive(Deserialize)]
struct ModuleVersion {
    version: String,
}

/// Per-host discovery results, fetched by one task at a time: while a host is being
/// discovered, other tasks for it wait instead of sending their own request.
#[derive(Default)]
struct DiscoveryCache {
    slots: Mutex<HashMap<String, Slot>>,
}

enum Slot {
    /// One task is discovering the host; these tasks wait for it.
    Resolving(Vec<Waker>),
    /// The host's `modules.v1` base URL.
    Ready(Url),
}

enum Claim<'a> {
    Cached(Url),
    Resolve(ResolveGuard<'a>),
}

impl DiscoveryCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // The map is consistent after every statement, so a poisoned lock is still usable.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The cached base URL for `key`, or the duty to discover it, waiting while another task
    /// is discovering it.
    async fn claim(&self, key: &str) -> Claim<'_> {
        poll_fn(|cx| {
            let mut slots = self.lock();
            match slots.get_mut(key) {
                Some(Slot::Ready(url)) => Poll::Ready(Claim::Cached(url.clone())),
                Some(Slot::Resolving(waiters)) => {
                    if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                        waiters.push(cx.waker().clone());
                    }
                    Poll::Pending
                }
                None => {
                    slots.insert(key.to_owned(), Slot::Resolving(Vec::new()));
                    Poll::Ready(Claim::Resolve(ResolveGuard {
                        cache: self,
                        key: key.to_owned(),
                        settled: false,
                    }))
                }
            }
        })
        .await
    }
}

/// The duty to discover one host. Dropped without [`ResolveGuard::finish`] (an error or a
/// cancelled task), it frees the slot so that a waiting task tries instead.
struct ResolveGuard<'a> {
    cache: &'a DiscoveryCache,
    key: String,
    settled: bool,
}

impl ResolveGuard<'_> {
    fn finish(mut self, base: Url) {
        self.settle(Some(base));
    }

    fn settle(&mut self, base: Option<Url>) {
        if self.settled {
            return;
        }
        self.settled = true;
        let previous = {
            let mut slots = self.cache.lock();
            match base {
                Some(base) => slots.insert(self.key.clone(), Slot::Ready(base)),
                None => slots.remove(&self.key),
            }
        };
        if let Some(Slot::Resolving(waiters)) = previous {
            waiters.into_iter().for_each(Waker::wake);
        }
    }
}

impl Drop for ResolveGuard<'_> {
    fn drop(&mut self) {
        self.settle(None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, Request, ResponseTemplate};

    const TOKEN: &str = "s3cr3t-token-value";

    fn versions_body(versions: &[&str]) -> serde_json::Value {
        let list: Vec<_> = versions
            .iter()
            .map(|v| serde_json::json!({ "version": v }))
            .collect();
        serde_json::json!({ "modules": [{ "versions": list }] })
    }

    /// A stand-in registry whose discovery points `modules.v1` at `/v1/modules/`.
    async fn registry() -> MockServer {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/terraform.json"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "modules.v1": "/v1/modules/" })),
            )
            .mount(&server)
            .await;
        server
    }

    /// `127.0.0.1:PORT` of a stand-in registry.
    fn host(server: &MockServer) -> String {
        server.address().to_string()
    }

    fn client() -> RegistryClient {
        RegistryClient::new("baton/test", Duration::from_secs(5))
            .expect("client builds")
            .with_token_lookup(|_| None)
            .with_retry_base(Duration::from_millis(1))
    }

    #[tokio::test]
    async fn relative_discovery_then_versions() {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .and(header("user-agent", "baton/test"))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions_body(&[
                "1.0.0",
                "1.1.0",
                "v2.0.0-beta",
            ])))
            .expect(1)
            .mount(&server)
            .await;
        let client = client();
        let versions = client
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect("versions");
        assert_eq!(versions, ["1.0.0", "1.1.0", "v2.0.0-beta"]);
        assert_eq!(client.requests_sent(), 2);
    }

    #[tokio::test]
    async fn absolute_discovery_url_on_another_server() {
        let modules = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/registry/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions_body(&["0.3.1"])))
            .expect(1)
            .mount(&modules)
            .await;
        let disco = MockServer::start().await;
        // No trailing slash: the client must still append below the base, not replace it.
        let base = format!("{}/api/registry/v1/modules", modules.uri());
        Mock::given(method("GET"))
            .and(path("/.well-known/terraform.json"))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                serde_json::json!({ "modules.v1": base, "providers.v1": "/v1/providers/" }),
            ))
            .mount(&disco)
            .await;
        let versions = client()
            .versions(&host(&disco), "acme", "vpc", "aws")
            .await
            .expect("versions");
        assert_eq!(versions, ["0.3.1"]);
    }

    #[tokio::test]
    async fn discovery_is_cached_per_host() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/terraform.json"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "modules.v1": "/v1/modules/" })),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions_body(&["1.0.0"])))
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/eks/aws/versions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions_body(&["2.0.0"])))
            .expect(1)
            .mount(&server)
            .await;
        let client = client();
        let h = host(&server);
        assert_eq!(
            client
                .versions(&h, "acme", "vpc", "aws")
                .await
                .expect("vpc"),
            ["1.0.0"]
        );
        // The same host written differently is the same cache entry.
        let spaced = format!(" {h} ");
        assert_eq!(
            client
                .versions(&spaced, "acme", "eks", "aws")
                .await
                .expect("eks"),
            ["2.0.0"]
        );
        assert_eq!(client.requests_sent(), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_one_discovery() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/terraform.json"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "modules.v1": "/v1/modules/" }))
                    .set_delay(Duration::from_millis(200)),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions_body(&["1.0.0"])))
            .expect(8)
            .mount(&server)
            .await;
        let client = Arc::new(client());
        let h = host(&server);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let client = Arc::clone(&client);
                let h = h.clone();
                tokio::spawn(async move { client.versions(&h, "acme", "vpc", "aws").await })
            })
            .collect();
        for task in tasks {
            let versions = task.await.expect("task").expect("versions");
            assert_eq!(versions, ["1.0.0"]);
        }
        assert_eq!(client.requests_sent(), 9);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cancelled_discovery_hands_over_to_a_waiting_caller() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/terraform.json"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "modules.v1": "/v1/modules/" }))
                    .set_delay(Duration::from_millis(300)),
            )
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions_body(&["1.0.0"])))
            .expect(1)
            .mount(&server)
            .await;
        let client = Arc::new(client());
        let h = host(&server);
        let spawn = |client: &Arc<RegistryClient>| {
            let (client, h) = (Arc::clone(client), h.clone());
            tokio::spawn(async move { client.versions(&h, "acme", "vpc", "aws").await })
        };
        let leader = spawn(&client);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let waiter = spawn(&client);
        tokio::time::sleep(Duration::from_millis(50)).await;
        leader.abort();
        let versions = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter is not stuck")
            .expect("task")
            .expect("versions");
        assert_eq!(versions, ["1.0.0"]);
    }

    #[tokio::test]
    async fn failed_discovery_is_not_cached() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/terraform.json"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/.well-known/terraform.json"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "modules.v1": "/v1/modules/" })),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions_body(&["1.0.0"])))
            .mount(&server)
            .await;
        let client = client();
        let h = host(&server);
        let first = client.versions(&h, "acme", "vpc", "aws").await;
        assert!(
            matches!(first, Err(RegistryError::BadResponse { .. })),
            "{first:?}"
        );
        let second = client
            .versions(&h, "acme", "vpc", "aws")
            .await
            .expect("second try");
        assert_eq!(second, ["1.0.0"]);
    }

    #[tokio::test]
    async fn token_is_sent_as_bearer() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/terraform.json"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "modules.v1": "/v1/modules/" })),
            )
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions_body(&["1.0.0"])))
            .expect(1)
            .mount(&server)
            .await;
        let expected_host = host(&server);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen_by_lookup = Arc::clone(&seen);
        let client = client().with_token_lookup(move |h| {
            seen_by_lookup.lock().expect("lock").push(h.to_owned());
            Some(TOKEN.to_owned())
        });
        let versions = client
            .versions(&expected_host, "acme", "vpc", "aws")
            .await
            .expect("versions");
        assert_eq!(versions, ["1.0.0"]);
        let seen = seen.lock().expect("lock");
        assert!(!seen.is_empty());
        assert!(seen.iter().all(|h| *h == expected_host), "{seen:?}");
    }

    #[tokio::test]
    async fn no_token_means_no_authorization_header() {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions_body(&["1.0.0"])))
            .expect(1)
            .mount(&server)
            .await;
        let client = client().with_token_lookup(|_| Some("   ".to_owned()));
        client
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect("versions");
        let requests = server.received_requests().await.expect("recording on");
        assert_eq!(requests.len(), 2);
        assert!(
            requests
                .iter()
                .all(|r: &Request| !r.headers.contains_key("authorization")),
            "an Authorization header was sent"
        );
    }

    #[test]
    fn token_env_var_follows_terraform() {
        assert_eq!(
            token_env_var("app.terraform.io"),
            "TF_TOKEN_app_terraform_io"
        );
        assert_eq!(
            token_env_var("my-reg.example.com"),
            "TF_TOKEN_my__reg_example_com"
        );
        assert_eq!(
            token_env_var("Registry.Example.COM"),
            "TF_TOKEN_registry_example_com"
        );
        assert_eq!(token_env_var("a-b-c.io"), "TF_TOKEN_a__b__c_io");
    }

    #[test]
    fn token_variables_are_read_back_into_hosts_as_terraform_does() {
        assert_eq!(
            token_var_host("my__reg_example_com").as_deref(),
            Some("my-reg.example.com")
        );
        assert_eq!(
            token_var_host("App_Terraform_IO").as_deref(),
            Some("app.terraform.io")
        );
        // An internationalized host, written as punycode or as UTF-8.
        assert_eq!(
            token_var_host("xn____caf__dma_example").as_deref(),
            Some("xn--caf-dma.example")
        );
        assert_eq!(
            token_var_host("café_example").as_deref(),
            Some("xn--caf-dma.example")
        );
        assert_eq!(
            RegistryHost::parse("café.example").unwrap().key,
            "xn--caf-dma.example"
        );
        assert_eq!(token_var_host("a_b/c"), None);
    }

    /// A registry whose download endpoint answers with `reply`.
    async fn download_registry(reply: ResponseTemplate) -> MockServer {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/2.0.0/download"))
            .respond_with(reply)
            .expect(1)
            .mount(&server)
            .await;
        server
    }

    #[tokio::test]
    async fn download_address_from_the_header_the_body_or_a_relative_path() {
        let header = "git::https://github.com/acme/vpc?ref=v2.0.0";
        let server =
            download_registry(ResponseTemplate::new(204).insert_header("X-Terraform-Get", header))
                .await;
        let got = client()
            .download_address(&host(&server), "acme", "vpc", "aws", "2.0.0")
            .await
            .expect("address");
        assert_eq!(got, header);

        let server = download_registry(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({ "location": "./archive/vpc-2.0.0.tgz" })),
        )
        .await;
        let got = client()
            .download_address(&host(&server), "acme", "vpc", "aws", "2.0.0")
            .await
            .expect("address");
        assert_eq!(
            got,
            format!(
                "{}/v1/modules/acme/vpc/aws/2.0.0/archive/vpc-2.0.0.tgz",
                server.uri()
            )
        );

        let server = download_registry(ResponseTemplate::new(204)).await;
        let err = client()
            .download_address(&host(&server), "acme", "vpc", "aws", "2.0.0")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("no X-Terraform-Get"), "{err}");

        let server = registry().await;
        let err = client()
            .download_address(&host(&server), "acme", "vpc", "aws", "2.0.0")
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("module acme/vpc/aws 2.0.0 not found on"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_download_request_carries_the_token_of_the_registry() {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/2.0.0/download"))
            .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
            .respond_with(
                ResponseTemplate::new(204)
                    .insert_header("X-Terraform-Get", "git::https://x/y?ref=a"),
            )
            .expect(1)
            .mount(&server)
            .await;
        client()
            .with_token_lookup(|_| Some(TOKEN.to_owned()))
            .download_address(&host(&server), "acme", "vpc", "aws", "2.0.0")
            .await
            .expect("address");
    }

    #[tokio::test]
    async fn a_redirect_to_another_host_does_not_carry_the_token() {
        let elsewhere = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/dl/vpc"))
            .respond_with(
                ResponseTemplate::new(204)
                    .insert_header("X-Terraform-Get", "git::https://x/y?ref=a"),
            )
            .expect(1)
            .mount(&elsewhere)
            .await;
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/2.0.0/download"))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", format!("{}/dl/vpc", elsewhere.uri()).as_str()),
            )
            .expect(1)
            .mount(&server)
            .await;
        let got = client()
            .with_token_lookup(|_| Some(TOKEN.to_owned()))
            .download_address(&host(&server), "acme", "vpc", "aws", "2.0.0")
            .await
            .expect("address");
        assert_eq!(got, "git::https://x/y?ref=a");
        let registry_saw = server.received_requests().await.unwrap();
        assert!(
            registry_saw
                .iter()
                .all(|r| r.headers.contains_key("authorization"))
        );
        let other_saw = elsewhere.received_requests().await.unwrap();
        assert_eq!(other_saw.len(), 1);
        assert!(
            !other_saw[0].headers.contains_key("authorization"),
            "the token went to another host"
        );
    }

    #[test]
    fn host_normalization_and_scheme() {
        let cases = [
            (
                "registry.terraform.io",
                "https://registry.terraform.io/",
                "registry.terraform.io",
            ),
            (
                "App.Terraform.IO",
                "https://app.terraform.io/",
                "app.terraform.io",
            ),
            (
                "reg.example.com:8443",
                "https://reg.example.com:8443/",
                "reg.example.com:8443",
            ),
            ("localhost", "http://localhost/", "localhost"),
            ("localhost:8080", "http://localhost:8080/", "localhost:8080"),
            ("127.0.0.1:9", "http://127.0.0.1:9/", "127.0.0.1:9"),
            ("[::1]", "http://[::1]/", "[::1]"),
            ("[::1]:8080", "http://[::1]:8080/", "[::1]:8080"),
            ("10.0.0.1", "https://10.0.0.1/", "10.0.0.1"),
        ];
        for (given, root, key) in cases {
            let parsed = RegistryHost::parse(given).expect(given);
            assert_eq!(parsed.root.as_str(), root, "{given}");
            assert_eq!(parsed.key, key, "{given}");
        }
        for bad in [
            "",
            "  ",
            "evil.com/path",
            "user@host",
            "host?x",
            "a b",
            "[::1",
        ] {
            let err = RegistryHost::parse(bad).err();
            assert!(
                matches!(err, Some(RegistryError::InvalidHost { .. })),
                "{bad:?}: {err:?}"
            );
        }
    }

    #[test]
    fn tokens_only_travel_over_https_or_loopback() {
        let allowed = [
            "https://example.com/v1/",
            "http://localhost:1/",
            "http://127.0.0.1/",
            "http://[::1]/",
        ];
        for url in allowed {
            assert!(token_allowed(&Url::parse(url).expect(url)), "{url}");
        }
        assert!(!token_allowed(
            &Url::parse("http://example.com/v1/").expect("url")
        ));
    }

    #[tokio::test]
    async fn invalid_module_parts_are_rejected_before_any_request() {
        let client = client();
        for (ns, name, provider) in [
            ("acme", "..", "aws"),
            ("", "vpc", "aws"),
            ("acme", "vpc/x", "aws"),
            ("a?b", "vpc", "aws"),
        ] {
            let err = client.versions("127.0.0.1:9", ns, name, provider).await;
            assert!(
                matches!(err, Err(RegistryError::InvalidModule { .. })),
                "{err:?}"
            );
        }
        assert_eq!(client.requests_sent(), 0);
    }

    #[tokio::test]
    async fn missing_module_is_not_found() {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/nope/aws/versions"))
            .respond_with(ResponseTemplate::new(404))
            .expect(1)
            .mount(&server)
            .await;
        let err = client()
            .versions(&host(&server), "acme", "nope", "aws")
            .await
            .expect_err("404");
        assert!(matches!(err, RegistryError::NotFound { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("module acme/nope/aws not found"),
            "{message}"
        );
        assert!(
            message.contains("/v1/modules/acme/nope/aws/versions → 404"),
            "{message}"
        );
    }

    async fn refused(status: u16) {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(status))
            .expect(1)
            .mount(&server)
            .await;
        let h = host(&server);
        let err = client()
            .with_token_lookup(|_| Some(TOKEN.to_owned()))
            .versions(&h, "acme", "vpc", "aws")
            .await
            .expect_err("refused");
        match &err {
            RegistryError::Unauthorized {
                status: got,
                env_var,
                token_sent,
                ..
            } => {
                assert_eq!(*got, status);
                assert_eq!(*env_var, token_env_var(&h));
                assert!(*token_sent);
            }
            other => panic!("expected Unauthorized, got {other:?}"),
        }
        let message = err.to_string();
        let hint = format!(
            "set {} to a token that can read this module",
            token_env_var(&h)
        );
        assert!(message.contains(&hint), "{message}");
        assert!(message.contains(&format!("→ {status}")), "{message}");
        assert!(!message.contains(TOKEN), "{message}");
        assert!(!format!("{err:?}").contains(TOKEN));
    }

    #[tokio::test]
    async fn status_401_is_unauthorized_without_the_token() {
        refused(401).await;
    }

    #[tokio::test]
    async fn status_403_is_unauthorized_without_the_token() {
        refused(403).await;
    }

    #[tokio::test]
    async fn unauthorized_without_token_says_none_was_sent() {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(401))
            .mount(&server)
            .await;
        let err = client()
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect_err("401");
        let message = err.to_string();
        assert!(message.contains("no token was sent"), "{message}");
        assert!(message.contains("TF_TOKEN_127_0_0_1:"), "{message}");
    }

    #[tokio::test]
    async fn token_that_is_not_a_header_value_is_reported_without_its_value() {
        let server = registry().await;
        let err = client()
            .with_token_lookup(|_| Some("bad\ntoken".to_owned()))
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect_err("invalid token");
        assert!(matches!(err, RegistryError::InvalidToken { .. }), "{err:?}");
        assert!(!err.to_string().contains("bad\ntoken"));
        assert!(err.to_string().contains("TF_TOKEN_127_0_0_1"));
    }

    #[tokio::test]
    async fn service_unavailable_twice_then_ok() {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(503))
            .up_to_n_times(2)
            .expect(2)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions_body(&["1.2.3"])))
            .expect(1)
            .mount(&server)
            .await;
        let client = client();
        let versions = client
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect("third attempt succeeds");
        assert_eq!(versions, ["1.2.3"]);
        // One discovery plus three attempts at the version list.
        assert_eq!(client.requests_sent(), 4);
    }

    #[tokio::test]
    async fn too_many_requests_with_retry_after_zero_is_retried() {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(200).set_body_json(versions_body(&["1.0.0"])))
            .expect(1)
            .mount(&server)
            .await;
        // A long backoff base shows that Retry-After, not the backoff, set the wait.
        let client = client().with_retry_base(Duration::from_secs(5));
        let started = Instant::now();
        let versions = client
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect("retried");
        assert_eq!(versions, ["1.0.0"]);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(client.requests_sent(), 3);
    }

    #[tokio::test]
    async fn persistent_server_error_is_unavailable_after_three_attempts() {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(500).insert_header("Retry-After", "0"))
            .expect(3)
            .mount(&server)
            .await;
        let client = client();
        let err = client
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect_err("500");
        match &err {
            RegistryError::Unavailable {
                status,
                attempts,
                retry_after,
                ..
            } => {
                assert_eq!(*status, 500);
                assert_eq!(*attempts, 3);
                assert_eq!(*retry_after, Some(Duration::ZERO));
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains("HTTP 500, Retry-After: 0 s) after 3 attempts"),
            "{message}"
        );
        assert_eq!(client.requests_sent(), 4);
    }

    #[test]
    fn retry_waits_double_and_are_capped() {
        let base = Duration::from_millis(500);
        assert_eq!(retry_wait(base, 1, None), Duration::from_millis(500));
        assert_eq!(retry_wait(base, 2, None), Duration::from_secs(1));
        assert_eq!(
            retry_wait(base, 1, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(retry_wait(base, 1, Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(
            retry_wait(base, 1, Some(Duration::from_secs(3600))),
            MAX_RETRY_WAIT
        );
        assert_eq!(
            retry_wait(Duration::from_secs(3600), 2, None),
            MAX_RETRY_WAIT
        );
        assert_eq!(retry_wait(Duration::MAX, 40, None), MAX_RETRY_WAIT);
    }

    #[tokio::test]
    async fn host_without_modules_service_is_not_a_registry() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/terraform.json"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "providers.v1": "/v1/providers/" })),
            )
            .mount(&server)
            .await;
        let h = host(&server);
        let err = client()
            .versions(&h, "acme", "vpc", "aws")
            .await
            .expect_err("no modules.v1");
        assert!(matches!(err, RegistryError::NotARegistry { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains(&format!("{h} is not a module registry")),
            "{message}"
        );
        assert!(
            message.contains("/.well-known/terraform.json does not list modules.v1"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn host_without_discovery_document_is_not_a_registry() {
        let server = MockServer::start().await;
        let err = client()
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect_err("404 discovery");
        assert!(matches!(err, RegistryError::NotARegistry { .. }), "{err:?}");
        assert!(err.to_string().contains("answered 404"), "{err}");
    }

    #[tokio::test]
    async fn non_string_modules_service_is_not_a_registry() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/terraform.json"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(serde_json::json!({ "modules.v1": 42 })),
            )
            .mount(&server)
            .await;
        let err = client()
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect_err("bad modules.v1");
        assert!(matches!(err, RegistryError::NotARegistry { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn invalid_json_is_bad_response() {
        let server = registry().await;
        let versions_path = "/v1/modules/acme/vpc/aws/versions";
        Mock::given(method("GET"))
            .and(path(versions_path))
            .respond_with(ResponseTemplate::new(200).set_body_string("<html>not json</html>"))
            .mount(&server)
            .await;
        let err = client()
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect_err("bad json");
        match &err {
            RegistryError::BadResponse { url, .. } => {
                assert_eq!(*url, format!("{}{versions_path}", server.uri()));
            }
            other => panic!("expected BadResponse, got {other:?}"),
        }
        assert!(err.to_string().contains(versions_path), "{err}");
    }

    #[tokio::test]
    async fn wrongly_shaped_json_is_bad_response() {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "modules": [{ "versions": ["1.0.0"] }] })),
            )
            .mount(&server)
            .await;
        let err = client()
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect_err("bad shape");
        assert!(matches!(err, RegistryError::BadResponse { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn unexpected_status_is_bad_response_without_retry() {
        let server = registry().await;
        Mock::given(method("GET"))
            .and(path("/v1/modules/acme/vpc/aws/versions"))
            .respond_with(ResponseTemplate::new(400))
            .expect(1)
            .mount(&server)
            .await;
        let err = client()
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect_err("400");
        assert!(matches!(err, RegistryError::BadResponse { .. }), "{err:?}");
        assert!(
            err.to_string().contains("unexpected HTTP status 400"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn slow_server_times_out_quickly() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/terraform.json"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(serde_json::json!({ "modules.v1": "/v1/modules/" }))
                    .set_delay(Duration::from_secs(5)),
            )
            .mount(&server)
            .await;
        let client = RegistryClient::new("baton/test", Duration::from_millis(300))
            .expect("client")
            .with_token_lookup(|_| None);
        let started = Instant::now();
        let err = client
            .versions(&host(&server), "acme", "vpc", "aws")
            .await
            .expect_err("timeout");
        let elapsed = started.elapsed();
        assert!(
            matches!(
                err,
                RegistryError::Network {
                    timed_out: true,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
        assert!(
            err.to_string().contains("/.well-known/terraform.json"),
            "{err}"
        );
        assert_eq!(client.requests_sent(), 1, "timeouts are not retried");
    }

    #[tokio::test]
    async fn closed_port_is_a_network_error() {
        // wiremock pools its servers, so free a port of our own rather than drop a MockServer.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let h = listener.local_addr().expect("address").to_string();
        drop(listener);
        let err = client()
            .versions(&h, "acme", "vpc", "aws")
            .await
            .expect_err("connection refused");
        match &err {
            RegistryError::Network { url, timed_out, .. } => {
                assert_eq!(*url, format!("http://{h}/.well-known/terraform.json"));
                assert!(!timed_out);
            }
            other => panic!("expected Network, got {other:?}"),
        }
    }

    #[test]
    fn client_is_send_and_sync_and_hides_secrets_in_debug() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<RegistryClient>();
        assert_send_sync::<RegistryError>();
        let client = RegistryClient::new("", DEFAULT_TIMEOUT)
            .expect("client")
            .with_token_lookup(|_| Some(TOKEN.to_owned()));
        let debug = format!("{client:?}");
        assert!(debug.contains("RegistryClient"), "{debug}");
        assert!(!debug.contains(TOKEN), "{debug}");
    }

    #[test]
    fn invalid_user_agent_is_a_client_error() {
        let err = RegistryClient::new("baton\n1", DEFAULT_TIMEOUT).expect_err("bad UA");
        assert!(matches!(err, RegistryError::Client(_)), "{err:?}");
    }
}
