//! A local stand-in for the GitHub REST API that behaves like the real one where Baton depends on
//! it: status codes, `Link` pagination, an optional `/api/v3` prefix (GitHub Enterprise Server),
//! rate-limit answers, 422 on a duplicate pull request, `compare` and `tarball` (through a
//! redirect) answered from the tags of a local git repository, `ETag`s and `304 Not Modified`,
//! the `x-ratelimit-*` headers of every answer. Answers are built from GitHub's own example
//! payloads in its published REST description, and every exchange is held against that
//! description (`contract.rs`): a request GitHub would not take, or an answer GitHub would not
//! give, fails the test that caused it. Every request is recorded.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// What the stand-in knows about one repository.
#[derive(Debug, Clone, Default)]
pub struct Repo {
    /// Tag names, newest first (as GitHub lists them).
    pub tags: Vec<String>,
    /// Release tag names with bodies.
    pub releases: Vec<(String, String)>,
    /// The default branch.
    pub default_branch: String,
    /// Pull requests, in the order they were opened.
    pub pulls: Vec<Value>,
    /// A local git repository whose tags answer `compare` and `tarball` (module repositories).
    pub git: Option<std::path::PathBuf>,
    /// Check runs by commit.
    pub check_runs: HashMap<String, Vec<CheckRun>>,
    /// Commit statuses by commit: (context, state).
    pub statuses: HashMap<String, Vec<(String, String)>>,
    /// Reviews by pull request number: (login, state), oldest first.
    pub reviews: HashMap<u64, Vec<(String, String)>>,
    /// Publication times of releases, by tag (RFC 3339).
    pub release_dates: HashMap<String, String>,
    /// Commit times of tags, by tag (RFC 3339), for `GET …/commits/tags/<tag>`.
    pub tag_dates: HashMap<String, String>,
    /// When check runs started, by (commit, name) (default: the fixture's time, long ago).
    pub check_started: HashMap<(String, String), String>,
}

/// A check run: name, status, conclusion, details URL.
pub type CheckRun = (String, String, Option<String>, String);

/// Everything the stand-in has seen and holds.
#[derive(Debug, Default)]
pub struct State {
    /// Repositories by `owner/repo`.
    pub repos: HashMap<String, Repo>,
    /// Every request: `METHOD /path?query`.
    pub requests: Vec<String>,
    /// `repository_dispatch` bodies received, by `owner/repo`.
    pub dispatches: Vec<(String, Value)>,
    /// Paths answered once with a secondary rate limit (403 + Retry-After) before working.
    pub rate_limit_once: Vec<String>,
    /// Status codes to answer for paths, before anything else (e.g. 500 for a broken repo).
    pub fail_with: HashMap<String, u16>,
    /// The page size used for lists when the client asks for more.
    pub max_page: usize,
    /// Lists of pull requests answer empty this many times (as if another run were opening one
    /// at the same moment), so that the create answers 422.
    pub hide_pulls: usize,
    /// Paths answered with a status this many times before working: path → (status, times).
    pub fail_times: HashMap<String, (u16, usize)>,
    /// Paths answered with `429 Too Many Requests` + `Retry-After: 1` once before working.
    pub too_many_once: Vec<String>,
    /// Paths answered with the primary rate limit (403, `x-ratelimit-remaining: 0`,
    /// `x-ratelimit-reset`) this many times: path → (times, seconds until the reset).
    pub primary_limit: HashMap<String, (usize, u64)>,
    /// Every answer is sent after this delay (a server that hangs).
    pub delay: Option<std::time::Duration>,
    /// Creating a pull request answers 403 with this message, e.g. "Resource not accessible by
    /// integration" (a workflow token without `pull-requests: write`).
    pub refuse_pull_create: Option<String>,
    /// The primary rate-limit window, when the stand-in sends GitHub's `x-ratelimit-*` headers.
    pub rate: Option<RateWindow>,
    /// Requests that counted against the rate limit (all but `304`s).
    pub counted: usize,
    /// Requests that carried `If-None-Match` or `If-Modified-Since`.
    pub conditional_requests: usize,
    /// The `x-github-enterprise-version` sent under `/api/v3`.
    pub enterprise_version: Option<String>,
    /// Exchanges held against GitHub's REST description.
    pub exchanges_checked: usize,
    /// Where tarball redirects point instead of this server (a download host of a test's own).
    pub codeload: Option<String>,
    /// Where they disagreed with it.
    pub contract_violations: Vec<String>,
    /// Organisations and repository settings for fleet status (see `fake_github_fleet.rs`).
    pub fleet_status: crate::fake_github_fleet::FleetState,
    /// What the fleet's operations see and answer: code search, dispatch refusals, merge
    /// settings and GraphQL.
    pub fleet: Fleet,
}

/// A primary rate-limit window: `limit` requests an hour, `used` so far, reset in `reset_in` s.
#[derive(Debug, Clone)]
pub struct RateWindow {
    /// Requests an hour (GITHUB_TOKEN: 1,000 per repository).
    pub limit: u64,
    /// Spent so far.
    pub used: u64,
    /// Seconds until the window resets.
    pub reset_in: u64,
}

/// The stand-in server.
pub struct FakeGitHub {
    /// The underlying server.
    pub server: MockServer,
    /// Its state, shared with the responder.
    pub state: Arc<Mutex<State>>,
    /// `""` or `"/api/v3"`.
    pub prefix: String,
}

impl FakeGitHub {
    /// Starts a stand-in answering under `prefix` (`""` for github.com, `"/api/v3"` for GHES).
    pub async fn start(prefix: &str) -> FakeGitHub {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(State {
            max_page: 100,
            rate: Some(RateWindow {
                limit: 5000,
                used: 0,
                reset_in: 3600,
            }),
            enterprise_version: (!prefix.is_empty()).then(|| "3.19.2".to_string()),
            ..State::default()
        }));
        Mock::given(wiremock::matchers::any())
            .respond_with(Responder {
                state: state.clone(),
                base: server.uri(),
                prefix: prefix.to_string(),
            })
            .mount(&server)
            .await;
        FakeGitHub {
            server,
            state,
            prefix: prefix.to_string(),
        }
    }

    /// The API URL to give Baton.
    pub fn api_url(&self) -> String {
        format!("{}{}", self.server.uri(), self.prefix)
    }

    /// Adds a repository with tags.
    pub fn add_repo(&self, full: &str, tags: &[&str]) {
        let mut state = self.state.lock().unwrap();
        state.repos.insert(
            full.to_string(),
            Repo {
                tags: tags.iter().map(|t| t.to_string()).collect(),
                default_branch: "main".into(),
                ..Repo::default()
            },
        );
    }

    /// Serves `compare` and `tarball` of `full` from the tags of a local git repository.
    pub fn serve_git(&self, full: &str, dir: &std::path::Path) {
        let mut state = self.state.lock().unwrap();
        state.repos.get_mut(full).expect("added first").git = Some(dir.to_path_buf());
    }

    /// Adds a check run on a commit (`status`: `completed`, `in_progress`; `conclusion`:
    /// `success`, `failure`, …). `details_url` is where it ran (an Actions job URL).
    pub fn add_check_run(
        &self,
        full: &str,
        sha: &str,
        name: &str,
        status: &str,
        conclusion: Option<&str>,
        details_url: &str,
    ) {
        let mut state = self.state.lock().unwrap();
        let repo = state.repos.get_mut(full).expect("repository added");
        repo.check_runs.entry(sha.to_string()).or_default().push((
            name.into(),
            status.into(),
            conclusion.map(str::to_string),
            details_url.into(),
        ));
    }

    /// Adds a commit status (`state`: `success`, `pending`, `failure`, `error`).
    pub fn add_status(&self, full: &str, sha: &str, context: &str, state_name: &str) {
        let mut state = self.state.lock().unwrap();
        let repo = state.repos.get_mut(full).expect("repository added");
        repo.statuses
            .entry(sha.to_string())
            .or_default()
            .push((context.into(), state_name.into()));
    }

    /// Adds a review of a pull request (`state`: `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`,
    /// `DISMISSED`).
    pub fn add_review(&self, full: &str, number: u64, login: &str, state_name: &str) {
        let mut state = self.state.lock().unwrap();
        let repo = state.repos.get_mut(full).expect("repository added");
        repo.reviews
            .entry(number)
            .or_default()
            .push((login.into(), state_name.into()));
    }

    /// The pull requests of a repository.
    pub fn pulls(&self, full: &str) -> Vec<Value> {
        self.state.lock().unwrap().repos[full].pulls.clone()
    }

    /// Adds an open pull request from `head` (as if opened by hand); returns its number.
    pub fn open_pull(&self, full: &str, head: &str, title: &str) -> u64 {
        let mut state = self.state.lock().unwrap();
        let repo = state.repos.get_mut(full).unwrap();
        let number = repo.pulls.len() as u64 + 1;
        let mut pr = fixture("pulls-create.json");
        pr["number"] = json!(number);
        pr["state"] = json!("open");
        pr["title"] = json!(title);
        pr["body"] = json!("opened by hand");
        pr["head"]["ref"] = json!(head);
        pr["base"]["ref"] = json!("main");
        pr["labels"] = json!([]);
        pr["html_url"] = json!(format!("https://github.com/{full}/pull/{number}"));
        pr["node_id"] = json!(format!("PR_{}_{number}", full.replace('/', "_")));
        repo.pulls.push(pr);
        number
    }

    /// Sets the releases of a repository: (tag, body), newest first.
    pub fn set_releases(&self, full: &str, releases: Vec<(String, String)>) {
        self.state
            .lock()
            .unwrap()
            .repos
            .get_mut(full)
            .unwrap()
            .releases = releases;
    }

    /// The requests seen so far, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Sets the rate-limit window: `remaining` of `limit` requests left.
    pub fn set_rate_limit(&self, limit: u64, remaining: u64) {
        self.state.lock().unwrap().rate = Some(RateWindow {
            limit,
            used: limit - remaining,
            reset_in: 3600,
        });
    }

    /// Requests that counted against the rate limit so far (`304`s do not).
    pub fn counted(&self) -> usize {
        self.state.lock().unwrap().counted
    }

    /// Requests that carried `If-None-Match` or `If-Modified-Since`.
    pub fn conditional_requests(&self) -> usize {
        self.state.lock().unwrap().conditional_requests
    }

    /// Exchanges held against GitHub's description so far.
    pub fn exchanges_checked(&self) -> usize {
        self.state.lock().unwrap().exchanges_checked
    }
}

impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let violations = std::mem::take(&mut self.state.lock().unwrap().contract_violations);
        assert!(
            violations.is_empty(),
            "the stand-in saw {} exchange(s) that disagree with GitHub's REST description:\n{}",
            violations.len(),
            violations.join("\n")
        );
    }
}

pub(crate) struct Responder {
    state: Arc<Mutex<State>>,
    base: String,
    prefix: String,
}

/// GitHub's own example answer of an operation, from the pinned REST description, repaired where
/// the example breaks its own schema (see `contract::UPSTREAM_EXAMPLE_DEFECTS`).
pub(crate) fn fixture(name: &str) -> Value {
    let (method, template, status) = match name {
        "repo-get.json" => ("GET", "/repos/{owner}/{repo}", 200),
        "tags-list.json" => ("GET", "/repos/{owner}/{repo}/tags", 200),
        "releases-list.json" => ("GET", "/repos/{owner}/{repo}/releases", 200),
        "pulls-create.json" => ("POST", "/repos/{owner}/{repo}/pulls", 201),
        "issue-labels-add.json" => (
            "POST",
            "/repos/{owner}/{repo}/issues/{issue_number}/labels",
            200,
        ),
        "compare-basehead.json" => ("GET", "/repos/{owner}/{repo}/compare/{basehead}", 200),
        "commit-get.json" => ("GET", "/repos/{owner}/{repo}/commits/{ref}", 200),
        "check-runs-list.json" => ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", 200),
        "commit-status-combined.json" => ("GET", "/repos/{owner}/{repo}/commits/{ref}/status", 200),
        "pulls-reviews-list.json" => (
            "GET",
            "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
            200,
        ),
        other => panic!("no operation for the fixture {other}"),
    };
    crate::contract::example(method, template, status)
}

/// The commit a tag or sha names in a local repository.
pub(crate) fn rev(dir: &std::path::Path, reference: &str) -> Option<String> {
    let out = std::process::Command::new("git")
        .args([
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ])
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn git_out(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub(crate) fn not_found() -> Reply {
    Reply::new(404).set_body_json(json!({
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404"
    }))
}

fn query(req: &Request) -> HashMap<String, String> {
    req.url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

impl Respond for Responder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let delay = self.state.lock().unwrap().delay;
        let reply = match self.exhausted(req) {
            Some(limited) => limited,
            None => self.conditional(req, self.answer(req)),
        };
        let reply = self.rate_limit_headers(req, reply);
        self.check_contract(req, &reply);
        let response = reply.into_template();
        match delay {
            Some(d) => response.set_delay(d),
            None => response,
        }
    }
}

/// An answer being built: what the stand-in sends, kept readable so that it can be checked
/// against GitHub's description before it goes out.
pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    json: Option<Value>,
}

impl Reply {
    pub(crate) fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            json: None,
        }
    }

    pub(crate) fn set_body_json(mut self, body: Value) -> Reply {
        self.body = serde_json::to_vec(&body).expect("JSON");
        self.json = Some(body);
        self.insert_header("content-type", "application/json; charset=utf-8")
    }

    fn set_body_bytes(mut self, body: Vec<u8>) -> Reply {
        self.body = body;
        self.json = None;
        self
    }

    fn insert_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers
            .push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn into_template(self) -> ResponseTemplate {
        let mut t = ResponseTemplate::new(self.status);
        for (name, value) in &self.headers {
            t = t.insert_header(name.as_str(), value.as_str());
        }
        if self.body.is_empty() {
            t
        } else {
            let kind = self
                .header("content-type")
                .unwrap_or("application/octet-stream")
                .to_string();
            t.set_body_raw(self.body, &kind)
        }
    }
}

impl Responder {
    /// The primary rate limit of the whole API, when the window is spent: GitHub's 403 with its
    /// headers.
    fn exhausted(&self, req: &Request) -> Option<Reply> {
        let state = self.state.lock().unwrap();
        let window = state.rate.as_ref()?;
        if window.used < window.limit || req.url.path().contains("/_codeload/") {
            return None;
        }
        Some(Reply::new(403).set_body_json(json!({
            "message": "API rate limit exceeded for installation ID 1.",
            "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
        })))
    }

    /// GitHub's conditional requests: a `GET` answered 200 carries an `ETag` (which, as on
    /// GitHub, belongs to the token: another token gets another tag), and the same request with
    /// `If-None-Match` of that tag is answered `304 Not Modified` with no body. A repository
    /// also carries `Last-Modified`, which `If-Modified-Since` matches whatever the token.
    fn conditional(&self, req: &Request, reply: Reply) -> Reply {
        if req.method.as_str() != "GET" || reply.status != 200 || reply.json.is_none() {
            return reply;
        }
        use std::hash::{Hash, Hasher};
        let asked = |name: &str| {
            req.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        reply.body.hash(&mut hasher);
        asked("authorization").hash(&mut hasher);
        let etag = format!("W/\"{:016x}\"", hasher.finish());
        let is_repo = req
            .url
            .path()
            .trim_start_matches(&self.prefix)
            .matches('/')
            .count()
            == 3;
        let modified = is_repo.then_some("Mon, 01 Jun 2026 08:00:00 GMT");
        let (if_none, if_since) = (asked("if-none-match"), asked("if-modified-since"));
        self.state.lock().unwrap().conditional_requests +=
            usize::from(if_none.is_some() || if_since.is_some());
        let unchanged = if_none.as_deref() == Some(etag.as_str())
            || (modified.is_some() && if_since.as_deref() == modified);
        let mut out = if unchanged {
            let mut not_modified = Reply::new(304);
            if let Some(link) = reply.header("link") {
                not_modified = not_modified.insert_header("link", link);
            }
            not_modified
        } else {
            reply
        };
        out = out.insert_header("etag", &etag);
        match modified {
            Some(m) => out.insert_header("last-modified", m),
            None => out,
        }
    }

    /// GitHub's rate-limit headers on every API answer; a request counts against the window
    /// unless it is answered `304`.
    fn rate_limit_headers(&self, req: &Request, reply: Reply) -> Reply {
        // Downloads come from codeload, outside the API and its limit.
        if req.url.path().contains("/_codeload/") {
            return reply;
        }
        let mut state = self.state.lock().unwrap();
        let counted = reply.status != 304;
        if counted {
            state.counted += 1;
        }
        let enterprise = state.enterprise_version.clone();
        let reply = match enterprise {
            Some(version) => reply.insert_header("x-github-enterprise-version", &version),
            None => reply,
        };
        // An answer that set its own (a path-specific limit) keeps them.
        if reply.header("x-ratelimit-remaining").is_some() {
            return reply;
        }
        let Some(window) = state.rate.as_mut() else {
            return reply;
        };
        if counted && window.used < window.limit {
            window.used += 1;
        }
        let reset = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + window.reset_in;
        let remaining = window.limit - window.used;
        reply
            .insert_header("x-ratelimit-limit", &window.limit.to_string())
            .insert_header("x-ratelimit-remaining", &remaining.to_string())
            .insert_header("x-ratelimit-used", &window.used.to_string())
            .insert_header("x-ratelimit-reset", &reset.to_string())
            .insert_header("x-ratelimit-resource", "core")
    }

    /// Holds the exchange against GitHub's REST description (each supported GHES version's,
    /// for a stand-in under `/api/v3`); disagreements fail the test when the stand-in is dropped.
    fn check_contract(&self, req: &Request, reply: &Reply) {
        let path = req.url.path();
        // The download host (codeload.github.com), not the API.
        if path.contains("/_codeload/") {
            return;
        }
        if self.is_graphql(path) {
            self.check_graphql(req);
            return;
        }
        let Some(api_path) = path.strip_prefix(&self.prefix) else {
            let mut state = self.state.lock().unwrap();
            state.contract_violations.push(format!(
                "{} {path}: outside the API URL {:?}",
                req.method, self.prefix
            ));
            return;
        };
        let query: Vec<(String, String)> = req
            .url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let names: &[&str] = if self.prefix.is_empty() {
            &["api.github.com"]
        } else {
            crate::contract::GHES
        };
        let mut problems = Vec::new();
        for name in names {
            let d = crate::contract::description(name);
            problems.extend(crate::contract::check(
                d,
                &crate::contract::Exchange {
                    method: req.method.as_str(),
                    path: api_path,
                    query: &query,
                    request_body: &req.body,
                    status: reply.status,
                    response: reply.json.as_ref(),
                },
            ));
        }
        let mut state = self.state.lock().unwrap();
        state.exchanges_checked += 1;
        state.contract_violations.extend(problems);
    }
}

impl Responder {
    fn answer(&self, req: &Request) -> Reply {
        let mut state = self.state.lock().unwrap();
        let method = req.method.to_string();
        let full_path = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_string(),
        };
        state.requests.push(format!("{method} {full_path}"));
        if let Some(reply) = self.notify_answer(&mut state, req) {
            return reply;
        }
        let raw = req.url.path();
        // Downloads come from their own host (codeload.github.com), outside the API URL.
        let download = raw.contains("/_codeload/").then_some(raw);
        let Some(path) = raw.strip_prefix(&self.prefix).or(download) else {
            return not_found();
        };
        let path = path.to_string();
        if let Some(code) = state.fail_with.get(&path) {
            return Reply::new(*code).set_body_json(json!({"message": "Server Error"}));
        }
        if let Some((code, times)) = state.fail_times.get_mut(&path) {
            if *times > 0 {
                *times -= 1;
                return Reply::new(*code).set_body_json(json!({"message": "Server Error"}));
            }
        }
        if let Some(i) = state.too_many_once.iter().position(|p| *p == path) {
            state.too_many_once.remove(i);
            return Reply::new(429)
                .insert_header("retry-after", "1")
                .set_body_json(json!({"message": "Too Many Requests"}));
        }
        if let Some((times, reset_in)) = state.primary_limit.get_mut(&path) {
            if *times > 0 {
                *times -= 1;
                let reset = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
                    + *reset_in;
                return Reply::new(403)
                    .insert_header("x-ratelimit-limit", "60")
                    .insert_header("x-ratelimit-remaining", "0")
                    .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                    .set_body_json(json!({
                        "message": "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
                        "documentation_url": "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"
                    }));
            }
        }
        if let Some(i) = state.rate_limit_once.iter().position(|p| *p == path) {
            state.rate_limit_once.remove(i);
            return Reply::new(403)
                .insert_header("retry-after", "1")
                .set_body_json(json!({
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                }));
        }
        if let Some(reply) = self.fleet_answer(&mut state, req, &path) {
            return reply;
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let ["repos", owner, repo, rest @ ..] = parts.as_slice() else {
            return not_found();
        };
        let full = format!("{owner}/{repo}");
        let Some(r) = state.repos.get(&full).cloned() else {
            return not_found();
        };
        let max_page = state.max_page;
        match (method.as_str(), rest) {
            ("GET", []) => {
                let mut body = fixture("repo-get.json");
                body["name"] = json!(repo);
                body["full_name"] = json!(full);
                body["default_branch"] = json!(r.default_branch);
                Reply::new(200).set_body_json(body)
            }
            ("GET", ["tags"]) => {
                let template = fixture("tags-list.json")[0].clone();
                let items: Vec<Value> = r
                    .tags
                    .iter()
                    .map(|t| {
                        let mut item = template.clone();
                        item["name"] = json!(t);
                        item
                    })
                    .collect();
                self.page(req, &path, items, max_page)
            }
            ("GET", ["releases"]) => {
                let template = fixture("releases-list.json")[0].clone();
                let items: Vec<Value> = r
                    .releases
                    .iter()
                    .map(|(tag, body)| {
                        let mut item = template.clone();
                        item["tag_name"] = json!(tag);
                        item["name"] = json!(tag);
                        item["body"] = json!(body);
                        item["draft"] = json!(false);
                        item["prerelease"] = json!(false);
                        item["html_url"] =
                            json!(format!("https://github.com/{full}/releases/tag/{tag}"));
                        if let Some(date) = r.release_dates.get(tag) {
                            item["published_at"] = json!(date);
                            item["created_at"] = json!(date);
                        }
                        item
                    })
                    .collect();
                self.page(req, &path, items, max_page)
            }
            ("GET", ["pulls"]) => {
                let q = query(req);
                if state.hide_pulls > 0 {
                    state.hide_pulls -= 1;
                    return self.page(req, &path, vec![], max_page);
                }
                let items: Vec<Value> = r
                    .pulls
                    .iter()
                    .filter(|p| {
                        q.get("state")
                            .is_none_or(|s| s == "all" || p["state"] == **s)
                    })
                    // As GitHub reads it: the last `head` wins, and a `head` without its
                    // `owner:` filters nothing.
                    .filter(|p| {
                        q.get("head").is_none_or(|h| {
                            !h.contains(':')
                                || format!("{}:{}", owner, p["head"]["ref"].as_str().unwrap_or(""))
                                    == *h
                        })
                    })
                    .cloned()
                    .collect();
                self.page(req, &path, items, max_page)
            }
            ("POST", ["pulls"]) if state.refuse_pull_create.is_some() => {
                Reply::new(403).set_body_json(json!({
                    "message": state.refuse_pull_create,
                    "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                    "status": "403"
                }))
            }
            ("POST", ["pulls"]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let (Some(head), Some(base)) = (body["head"].as_str(), body["base"].as_str())
                else {
                    return Reply::new(422).set_body_json(json!({
                        "message": "Validation Failed",
                        "errors": [{"resource": "PullRequest", "field": "head", "code": "missing_field"}],
                        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
                    }));
                };
                let open = r
                    .pulls
                    .iter()
                    .any(|p| p["state"] == "open" && p["head"]["ref"] == head);
                if open {
                    return Reply::new(422).set_body_json(json!({
                        "message": "Validation Failed",
                        "errors": [{
                            "resource": "PullRequest",
                            "code": "custom",
                            "message": format!("A pull request already exists for {owner}:{head}.")
                        }],
                        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                        "status": "422"
                    }));
                }
                let number = r.pulls.len() as u64 + 1;
                let mut pr = fixture("pulls-create.json");
                pr["number"] = json!(number);
                pr["state"] = json!("open");
                pr["title"] = body["title"].clone();
                pr["body"] = body["body"].clone();
                pr["draft"] = json!(body["draft"].as_bool().unwrap_or(false));
                pr["head"]["ref"] = json!(head);
                pr["base"]["ref"] = json!(base);
                pr["labels"] = json!([]);
                pr["html_url"] = json!(format!("https://github.com/{full}/pull/{number}"));
                pr["node_id"] = json!(format!("PR_{}_{number}", full.replace('/', "_")));
                state.repos.get_mut(&full).unwrap().pulls.push(pr.clone());
                Reply::new(201).set_body_json(pr)
            }
            ("PATCH", ["pulls", n]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let repo = state.repos.get_mut(&full).unwrap();
                let Some(pr) = repo
                    .pulls
                    .iter_mut()
                    .find(|p| n.parse::<u64>().ok() == p["number"].as_u64())
                else {
                    return not_found();
                };
                for key in ["title", "body", "state", "base"] {
                    if let Some(v) = body.get(key) {
                        pr[key] = v.clone();
                    }
                }
                Reply::new(200).set_body_json(pr.clone())
            }
            ("POST", ["issues", n, "labels"]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                let repo = state.repos.get_mut(&full).unwrap();
                let Some(pr) = repo
                    .pulls
                    .iter_mut()
                    .find(|p| n.parse::<u64>().ok() == p["number"].as_u64())
                else {
                    return not_found();
                };
                let mut labels: Vec<Value> = pr["labels"].as_array().cloned().unwrap_or_default();
                for name in body["labels"].as_array().cloned().unwrap_or_default() {
                    if !labels.iter().any(|l| l["name"] == name) {
                        let mut label = fixture("issue-labels-add.json")[0].clone();
                        label["name"] = name;
                        labels.push(label);
                    }
                }
                pr["labels"] = json!(labels);
                Reply::new(200).set_body_json(json!(labels))
            }
            ("POST", ["pulls", n, "requested_reviewers"]) => {
                let repo = state.repos.get_mut(&full).unwrap();
                match repo
                    .pulls
                    .iter()
                    .find(|p| n.parse::<u64>().ok() == p["number"].as_u64())
                {
                    Some(pr) => Reply::new(201).set_body_json(pr.clone()),
                    None => not_found(),
                }
            }
            ("GET", ["compare", basehead @ ..]) => {
                let Some(dir) = &r.git else {
                    return not_found();
                };
                let basehead = basehead.join("/");
                let Some((base, head)) = basehead.split_once("...") else {
                    return not_found();
                };
                let (Some(base_sha), Some(head_sha)) = (rev(dir, base), rev(dir, head)) else {
                    return not_found();
                };
                let template = fixture("compare-basehead.json");
                let file_template = template["files"][0].clone();
                let out = git_out(dir, &["diff", "--name-status", "--no-renames", &base_sha, &head_sha]);
                let files: Vec<Value> = out
                    .lines()
                    .filter_map(|l| l.split_once('\t'))
                    .map(|(status, name)| {
                        let mut f = file_template.clone();
                        f["filename"] = json!(name);
                        f["status"] = json!(match status {
                            "A" => "added",
                            "D" => "removed",
                            _ => "modified",
                        });
                        f
                    })
                    .collect();
                let mut body = template;
                body["status"] = json!("ahead");
                body["files"] = json!(files);
                body["base_commit"]["sha"] = json!(base_sha);
                body["merge_base_commit"]["sha"] = json!(base_sha);
                body["url"] = json!(format!("{}{}/repos/{full}/compare/{basehead}", self.base, self.prefix));
                Reply::new(200).set_body_json(body)
            }
            ("GET", ["tarball", reference @ ..]) => {
                let Some(dir) = &r.git else {
                    return not_found();
                };
                let reference = reference.join("/");
                if rev(dir, &reference).is_none() {
                    return not_found();
                }
                // GitHub answers with a redirect to the download.
                let host = state.codeload.clone().unwrap_or_else(|| self.base.clone());
                Reply::new(302).insert_header(
                    "location",
                    format!("{host}/repos/{full}/_codeload/{reference}").as_str(),
                )
            }
            ("GET", ["_codeload", reference @ ..]) => {
                let Some(dir) = &r.git else {
                    return not_found();
                };
                let reference = reference.join("/");
                let Some(sha) = rev(dir, &reference) else {
                    return not_found();
                };
                let top = format!("{}-{}-{}/", owner, repo, &sha[..7]);
                let out = std::process::Command::new("git")
                    .args(["archive", "--format=tar.gz", "--prefix", &top, &sha])
                    .current_dir(dir)
                    .output()
                    .expect("git archive runs");
                Reply::new(200)
                    .insert_header("content-type", "application/x-gzip")
                    .set_body_bytes(out.stdout)
            }
            ("GET", ["commits", sha, "check-runs"]) => {
                let template = fixture("check-runs-list.json")["check_runs"][0].clone();
                let items: Vec<Value> = r
                    .check_runs
                    .get(*sha)
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                    .map(|(i, (name, status, conclusion, details))| {
                        let mut run = template.clone();
                        run["id"] = json!(i + 1);
                        run["name"] = json!(name);
                        run["head_sha"] = json!(sha);
                        run["status"] = json!(status);
                        run["conclusion"] = json!(conclusion);
                        run["details_url"] = json!(details);
                        if let Some(at) = r.check_started.get(&(sha.to_string(), run["name"].as_str().unwrap_or("").to_string())) {
                            run["started_at"] = json!(at);
                        }
                        if status != "completed" {
                            run["completed_at"] = Value::Null;
                        }
                        run
                    })
                    .collect();
                let total = items.len();
                let (chunk, link) = self.paginate(req, &path, items, max_page);
                let mut response = Reply::new(200)
                    .set_body_json(json!({"total_count": total, "check_runs": chunk}));
                if let Some(link) = link {
                    response = response.insert_header("link", link.as_str());
                }
                response
            }
            ("GET", ["commits", "tags", tag]) => match r.tag_dates.get(*tag) {
                Some(date) => {
                    let mut commit = fixture("commit-get.json");
                    commit["commit"]["author"]["date"] = json!(date);
                    commit["commit"]["committer"]["date"] = json!(date);
                    commit["commit"]["message"] = json!(format!("release {tag}"));
                    Reply::new(200).set_body_json(commit)
                }
                None => Reply::new(422).set_body_json(json!({
                    "message": format!("No commit found for SHA: refs/tags/{tag}"),
                    "documentation_url": "https://docs.github.com/rest/commits/commits#get-a-commit"
                })),
            },
            ("GET", ["commits", sha, "status"]) => {
                let mut body = fixture("commit-status-combined.json");
                let template = body["statuses"][0].clone();
                let list = r.statuses.get(*sha).cloned().unwrap_or_default();
                let statuses: Vec<Value> = list
                    .iter()
                    .enumerate()
                    .map(|(i, (context, state))| {
                        let mut s = template.clone();
                        s["id"] = json!(i + 1);
                        s["context"] = json!(context);
                        s["state"] = json!(state);
                        s
                    })
                    .collect();
                // GitHub's combined state: failure if any failed or errored, pending if any is
                // pending or there are none, else success.
                let combined = if list.iter().any(|(_, s)| s == "failure" || s == "error") {
                    "failure"
                } else if list.is_empty() || list.iter().any(|(_, s)| s == "pending") {
                    "pending"
                } else {
                    "success"
                };
                body["state"] = json!(combined);
                body["statuses"] = json!(statuses);
                body["sha"] = json!(sha);
                body["total_count"] = json!(list.len());
                Reply::new(200).set_body_json(body)
            }
            ("GET", ["pulls", n, "reviews"]) => {
                let template = fixture("pulls-reviews-list.json")[0].clone();
                let items: Vec<Value> = n
                    .parse::<u64>()
                    .ok()
                    .and_then(|n| r.reviews.get(&n).cloned())
                    .unwrap_or_default()
                    .into_iter()
                    .enumerate()
                    .map(|(i, (login, state))| {
                        let mut review = template.clone();
                        review["id"] = json!(i + 1);
                        review["user"]["login"] = json!(login);
                        review["state"] = json!(state);
                        review
                    })
                    .collect();
                self.page(req, &path, items, max_page)
            }
            ("POST", ["dispatches"]) => {
                let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
                if body.get("event_type").and_then(Value::as_str).is_none() {
                    return Reply::new(422).set_body_json(json!({
                        "message": "Invalid request.\n\n\"event_type\" wasn't supplied.",
                        "documentation_url": "https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event"
                    }));
                }
                state.dispatches.push((full, body));
                Reply::new(204)
            }
            _ => not_found(),
        }
    }
}

impl Responder {
    /// One page of a list, with `Link` headers as GitHub writes them.
    pub(crate) fn page(
        &self,
        req: &Request,
        path: &str,
        items: Vec<Value>,
        max_page: usize,
    ) -> Reply {
        let (chunk, link) = self.paginate(req, path, items, max_page);
        let mut response = Reply::new(200).set_body_json(Value::Array(chunk));
        if let Some(link) = link {
            response = response.insert_header("link", link.as_str());
        }
        response
    }

    /// The items of the page asked for, and the `Link` header when there are other pages.
    fn paginate(
        &self,
        req: &Request,
        path: &str,
        items: Vec<Value>,
        max_page: usize,
    ) -> (Vec<Value>, Option<String>) {
        let q = query(req);
        let per_page = q
            .get("per_page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(30)
            .clamp(1, max_page);
        let page = q
            .get("page")
            .and_then(|p| p.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1);
        let last = items.len().div_ceil(per_page).max(1);
        let chunk: Vec<Value> = items
            .into_iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect();
        let url = |p: usize| {
            format!(
                "<{}{}{path}?per_page={per_page}&page={p}>",
                self.base, self.prefix
            )
        };
        let mut links = Vec::new();
        if page < last {
            links.push(format!("{}; rel=\"next\"", url(page + 1)));
            links.push(format!("{}; rel=\"last\"", url(last)));
        }
        if page > 1 {
            links.push(format!("{}; rel=\"first\"", url(1)));
            links.push(format!("{}; rel=\"prev\"", url(page - 1)));
        }
        (chunk, (!links.is_empty()).then(|| links.join(", ")))
    }
}

/// The stand-in's side of the fleet: GitHub's code search over files the test adds (with its own
/// rate limit, 10 requests a minute by default), dispatches a consumer refuses, the merge
/// settings of repositories, and the GraphQL API (`enablePullRequestAutoMerge`), every GraphQL
/// request held against GitHub's published GraphQL schema (`@octokit/graphql-schema`).
#[derive(Debug, Default)]
pub struct Fleet {
    /// Files code search finds: (`owner/name`, path, content).
    pub files: Vec<(String, String, String)>,
    /// Every code search query received.
    pub queries: Vec<String>,
    /// Code search's window: requests allowed (default 10), its length in seconds (default 60).
    pub search_limit: Option<(u64, u64)>,
    /// Code search requests spent in the current window, and when it started.
    pub search_window: Option<(u64, std::time::Instant)>,
    /// Dispatches answered with a status instead of `204`, by `owner/name`.
    pub refuse_dispatch: HashMap<String, u16>,
    /// Merge settings by `owner/name`: allow_auto_merge, allow_squash_merge, allow_merge_commit,
    /// allow_rebase_merge (default: all allowed).
    pub merge_settings: HashMap<String, [bool; 4]>,
    /// GraphQL requests received (their bodies).
    pub graphql: Vec<Value>,
    /// Pull requests whose auto-merge was turned on: (`owner/name`, number, merge method).
    pub auto_merged: Vec<(String, u64, String)>,
    /// Release tags GitHub marks as pre-releases.
    pub prereleases: Vec<String>,
    /// `GET /repos/{owner}/{repo}` leaves the merge settings out (a token that cannot push).
    pub hide_merge_settings: bool,
}

impl FakeGitHub {
    /// Adds a file that code search finds.
    pub fn add_code(&self, full: &str, path: &str, content: &str) {
        self.state.lock().unwrap().fleet.files.push((
            full.to_string(),
            path.to_string(),
            content.to_string(),
        ));
    }

    /// The code search queries received.
    pub fn search_queries(&self) -> Vec<String> {
        self.state.lock().unwrap().fleet.queries.clone()
    }

    /// Answers the dispatches to `full` with `status` (403, 422, …).
    pub fn refuse_dispatch(&self, full: &str, status: u16) {
        self.state
            .lock()
            .unwrap()
            .fleet
            .refuse_dispatch
            .insert(full.to_string(), status);
    }

    /// Sets a repository's merge settings: auto-merge, squash, merge commit, rebase.
    pub fn set_merge_settings(&self, full: &str, settings: [bool; 4]) {
        self.state
            .lock()
            .unwrap()
            .fleet
            .merge_settings
            .insert(full.to_string(), settings);
    }

    /// The dispatches received: (`owner/name`, body).
    pub fn dispatches(&self) -> Vec<(String, Value)> {
        self.state.lock().unwrap().dispatches.clone()
    }

    /// The pull requests set to auto-merge: (`owner/name`, number, method).
    pub fn auto_merged(&self) -> Vec<(String, u64, String)> {
        self.state.lock().unwrap().fleet.auto_merged.clone()
    }

    /// The GraphQL requests received.
    pub fn graphql_requests(&self) -> Vec<Value> {
        self.state.lock().unwrap().fleet.graphql.clone()
    }
}

/// Holds a GraphQL request (`{query, variables}`) against GitHub's published GraphQL schema, with
/// `tests/contract/graphql-validate.mjs` (graphql-js, the reference implementation): GitHub's
/// problems with it, empty when GitHub would take it.
pub fn graphql_problems(body: &Value) -> Vec<String> {
    use std::io::Write as _;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut child = std::process::Command::new("node")
        .arg(root.join("tests/contract/graphql-validate.mjs"))
        .arg(crate::contract_files::dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs tests/contract/graphql-validate.mjs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.to_string().as_bytes())
        .expect("the request is written");
    let out = child.wait_with_output().expect("the validator ends");
    assert!(out.status.success(), "the GraphQL validator failed");
    let answer: Value = serde_json::from_slice(&out.stdout).expect("the validator answers JSON");
    answer["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e.as_str().unwrap_or("?").to_string())
        .collect()
}

impl Responder {
    fn is_graphql(&self, path: &str) -> bool {
        let expected = match self.prefix.strip_suffix("/v3") {
            Some(api) => format!("{api}/graphql"),
            None => format!("{}/graphql", self.prefix),
        };
        path == expected
    }

    /// Holds a GraphQL request against GitHub's schema; disagreements fail the test.
    fn check_graphql(&self, req: &Request) {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        let problems = graphql_problems(&body);
        let mut state = self.state.lock().unwrap();
        state.exchanges_checked += 1;
        state.contract_violations.extend(
            problems
                .into_iter()
                .map(|p| format!("POST graphql (GitHub's GraphQL schema): {p}")),
        );
    }

    /// The answers of the fleet's operations; `None` for the others.
    fn notify_answer(&self, state: &mut State, req: &Request) -> Option<Reply> {
        let raw = req.url.path();
        if self.is_graphql(raw) {
            return Some(self.graphql_answer(state, req));
        }
        let path = raw.strip_prefix(&self.prefix)?;
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (req.method.as_str(), parts.as_slice()) {
            ("GET", ["search", "code"]) => Some(self.code_search(state, req, path)),
            ("GET", ["repos", owner, repo, "releases", "tags", tag]) => {
                let full = format!("{owner}/{repo}");
                let r = state.repos.get(&full)?;
                let tag = url::form_urlencoded::parse(format!("t={tag}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                if !r.releases.iter().any(|(t, _)| *t == tag) {
                    return Some(not_found());
                }
                let mut item = crate::contract::example(
                    "GET",
                    "/repos/{owner}/{repo}/releases/tags/{tag}",
                    200,
                );
                item["tag_name"] = json!(tag);
                item["name"] = json!(tag);
                item["draft"] = json!(false);
                item["prerelease"] = json!(state.fleet.prereleases.contains(&tag));
                if let Some(date) = r.release_dates.get(&tag) {
                    item["published_at"] = json!(date);
                    item["created_at"] = json!(date);
                }
                Some(Reply::new(200).set_body_json(item))
            }
            ("POST", ["repos", owner, repo, "dispatches"]) => {
                let full = format!("{owner}/{repo}");
                let status = *state.fleet.refuse_dispatch.get(&full)?;
                let message = match status {
                    403 => "Resource not accessible by personal access token",
                    422 => {
                        "Invalid request.\n\nFor 'properties/client_payload', nil is not an object."
                    }
                    _ => "Not Found",
                };
                Some(Reply::new(status).set_body_json(json!({
                    "message": message,
                    "documentation_url": "https://docs.github.com/rest/repos/repos#create-a-repository-dispatch-event",
                    "status": status.to_string()
                })))
            }
            ("GET", ["repos", owner, repo]) => {
                let full = format!("{owner}/{repo}");
                let settings = *state.fleet.merge_settings.get(&full)?;
                let r = state.repos.get(&full)?;
                let mut body = fixture("repo-get.json");
                body["name"] = json!(repo);
                body["full_name"] = json!(full);
                body["default_branch"] = json!(r.default_branch);
                for (key, value) in [
                    "allow_auto_merge",
                    "allow_squash_merge",
                    "allow_merge_commit",
                    "allow_rebase_merge",
                ]
                .iter()
                .zip(settings)
                {
                    body[*key] = json!(value);
                    if state.fleet.hide_merge_settings {
                        body.as_object_mut().map(|m| m.remove(*key));
                    }
                }
                Some(Reply::new(200).set_body_json(body))
            }
            _ => None,
        }
    }

    /// `GET /search/code`: the files whose content holds the query's quoted phrase, in the
    /// repositories of its `org:`, a page of them, with code search's own rate limit.
    fn code_search(&self, state: &mut State, req: &Request, path: &str) -> Reply {
        let q = query(req).get("q").cloned().unwrap_or_default();
        state.fleet.queries.push(q.clone());
        let (limit, window) = state.fleet.search_limit.unwrap_or((10, 60));
        let now = std::time::Instant::now();
        let (used, started) = match state.fleet.search_window {
            Some((used, started)) if now.duration_since(started).as_secs() < window => {
                (used, started)
            }
            _ => (0, now),
        };
        let reset = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + window.saturating_sub(now.duration_since(started).as_secs());
        let limited = |reply: Reply, remaining: u64| {
            reply
                .insert_header("x-ratelimit-limit", &limit.to_string())
                .insert_header("x-ratelimit-remaining", &remaining.to_string())
                .insert_header("x-ratelimit-used", &(limit - remaining).to_string())
                .insert_header("x-ratelimit-reset", &reset.to_string())
                .insert_header("x-ratelimit-resource", "code_search")
        };
        if used >= limit {
            state.fleet.search_window = Some((used, started));
            let reply = Reply::new(403).set_body_json(json!({
                "message": "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                "status": "403"
            }));
            return limited(reply, 0);
        }
        state.fleet.search_window = Some((used + 1, started));
        let phrase = q.split('"').nth(1).unwrap_or("").to_string();
        let org = q
            .split_whitespace()
            .find_map(|w| w.strip_prefix("org:"))
            .unwrap_or("")
            .to_string();
        let example = crate::contract::example("GET", "/search/code", 200);
        let template = example["items"][0].clone();
        let items: Vec<Value> = state
            .fleet
            .files
            .iter()
            .filter(|(full, _, content)| {
                !phrase.is_empty()
                    && content.contains(&phrase)
                    && (org.is_empty() || full.split('/').next() == Some(org.as_str()))
            })
            .map(|(full, file, _)| {
                let mut item = template.clone();
                item["name"] = json!(file.rsplit('/').next().unwrap_or(file));
                item["path"] = json!(file);
                item["repository"]["full_name"] = json!(full);
                item["repository"]["name"] = json!(full.split('/').nth(1).unwrap_or(""));
                item
            })
            .collect();
        let total = items.len();
        let (chunk, link) = self.paginate(req, path, items, state.max_page);
        let mut reply = Reply::new(200).set_body_json(json!({
            "total_count": total,
            "incomplete_results": false,
            "items": chunk
        }));
        if let Some(link) = link {
            // GitHub's links keep the query.
            let link = link.replace(&format!("{path}?"), &format!("{path}?q={}&", url_q(&q)));
            reply = reply.insert_header("link", &link);
        }
        limited(reply, limit - used - 1)
    }

    /// `POST /graphql`: `enablePullRequestAutoMerge` as GitHub answers it, including its error
    /// when the repository does not allow auto-merge.
    fn graphql_answer(&self, state: &mut State, req: &Request) -> Reply {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
        state.fleet.graphql.push(body.clone());
        let query = body["query"].as_str().unwrap_or("");
        if !query.contains("enablePullRequestAutoMerge") {
            return Reply::new(200).set_body_json(json!({
                "errors": [{"message": "the stand-in answers enablePullRequestAutoMerge only"}]
            }));
        }
        let node_id = body["variables"]["pullRequestId"].as_str().unwrap_or("");
        let method = body["variables"]["mergeMethod"]
            .as_str()
            .unwrap_or("MERGE")
            .to_string();
        let found = state.repos.iter().find_map(|(full, r)| {
            r.pulls
                .iter()
                .find(|p| p["node_id"].as_str() == Some(node_id))
                .map(|p| (full.clone(), p["number"].as_u64().unwrap_or(0)))
        });
        let error = |message: &str, kind: &str| {
            Reply::new(200).set_body_json(json!({
                "data": {"enablePullRequestAutoMerge": null},
                "errors": [{
                    "type": kind,
                    "path": ["enablePullRequestAutoMerge"],
                    "locations": [{"line": 2, "column": 3}],
                    "message": message
                }]
            }))
        };
        let Some((full, number)) = found else {
            return error(
                &format!("Could not resolve to a node with the global id of '{node_id}'"),
                "NOT_FOUND",
            );
        };
        let allowed = state.fleet.merge_settings.get(&full).is_none_or(|s| s[0]);
        if !allowed {
            return error(
                "Pull request Auto merge is not allowed for this repository",
                "UNPROCESSABLE",
            );
        }
        state.fleet.auto_merged.push((full, number, method.clone()));
        Reply::new(200).set_body_json(json!({
            "data": {"enablePullRequestAutoMerge": {"pullRequest": {
                "number": number,
                "autoMergeRequest": {"enabledAt": "2026-12-05T10:00:00Z", "mergeMethod": method}
            }}}
        }))
    }
}

/// A query value as a URL writes it.
fn url_q(q: &str) -> String {
    url::form_urlencoded::byte_serialize(q.as_bytes()).collect()
}
