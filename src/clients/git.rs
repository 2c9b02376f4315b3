//! Runs the `git` program rather than linking a git library, so the user's own git setup
//! (credential helpers, `url.<base>.insteadOf`, SSH) applies, at the cost of parsing git's text
//! output and of needing git 2.31 or newer on `PATH`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long one git invocation may run unless [`Git::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest pause between two checks of whether git has exited.
const MAX_POLL: Duration = Duration::from_millis(50);

/// How long to wait for git's output pipes to close after git itself has exited.
const OUTPUT_GRACE: Duration = Duration::from_millis(200);

/// Variables that point git at a particular repository. A parent git (for example when Baton
/// runs inside a git hook) may have set them; they would override the directory given to [`Git`].
const REPOSITORY_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_PREFIX",
    "GIT_SHALLOW_FILE",
    "GIT_GRAFT_FILE",
];

/// What replaces a secret in error messages and logs.
const REDACTED: &str = "***";

/// A git failure: which command (argv without any secret), in which directory, exit status,
/// and git's stdout and stderr.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// git could not be started, or waiting for it failed.
    #[error("could not run git: {0} (is git installed and on PATH?)")]
    Spawn(io::Error),
    /// git ran and exited unsuccessfully. Secrets are already replaced by `***` in every field.
    #[error("`git {args}` failed in {dir} ({status}): {stderr}")]
    Failed {
        /// The arguments after `git`, shell-quoted for display.
        args: String,
        /// The directory git ran in.
        dir: String,
        /// The exit status as the platform describes it, e.g. `exit status: 128`.
        status: String,
        /// What git printed on stdout, trimmed.
        stdout: String,
        /// What git printed on stderr, trimmed.
        stderr: String,
    },
    /// A URL Baton refuses to hand to git, with the reason; git was not run.
    #[error("refused to run git on {url}: {reason}")]
    Refused {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// git ran longer than the timeout and was killed.
    #[error("`git {args}` timed out after {secs} s in {dir}")]
    Timeout {
        /// The arguments after `git`, shell-quoted for display.
        args: String,
        /// The directory git ran in.
        dir: String,
        /// The timeout, in whole seconds rounded up.
        secs: u64,
    },
    /// A long-running `git cat-file --batch` stopped answering as it should.
    #[error("`git cat-file --batch` in {dir}: {message}")]
    Batch {
        /// The directory git ran in.
        dir: String,
        /// What went wrong.
        message: String,
    },
}

/// A secret access token. `Debug` and `Display` print `***`, so it cannot leak through logs.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The token value itself, for the few places that must send it (e.g. an API client).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// HTTP authentication for one host, handed to git through the environment.
#[derive(Clone)]
struct Auth {
    /// `http.https://<host>/.extraheader`
    key: String,
    token: Token,
    /// base64 of `x-access-token:<token>`
    encoded: String,
}

impl Auth {
    fn header(&self) -> String {
        format!("AUTHORIZATION: basic {}", self.encoded)
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("key", &self.key)
            .field("token", &self.token)
            .finish_non_exhaustive()
    }
}

/// Runs git in one directory with a controlled environment.
///
/// Every invocation gets a null stdin, `GIT_TERMINAL_PROMPT=0` and an empty `GIT_ASKPASS` (git
/// fails instead of asking for a password; credential helpers still work), `LC_ALL=C` (stable
/// messages), `GIT_EDITOR=true`, and `GIT_SSH_COMMAND="ssh -o BatchMode=yes"` unless the user has
/// chosen an SSH command (`GIT_SSH_COMMAND`, `GIT_SSH` or `core.sshCommand`). Variables that would
/// point git at another repository (`GIT_DIR`, `GIT_INDEX_FILE`, ...) are removed. Each invocation
/// is killed when it outlives the timeout.
#[derive(Clone, Debug)]
pub struct Git {
    dir: PathBuf,
    auth: Option<Auth>,
    timeout: Duration,
    author: Option<(String, String)>,
    /// Variables treated like inherited ones; the tests use them to isolate git from the machine.
    extra_env: Vec<(OsString, OsString)>,
    /// Whether the user configured `core.sshCommand`, looked up on first use.
    user_ssh_command: OnceLock<bool>,
}

impl Git {
    /// A runner for the repository (or any directory) at `dir`, with the default timeout.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            auth: None,
            timeout: DEFAULT_TIMEOUT,
            author: None,
            extra_env: Vec::new(),
            user_ssh_command: OnceLock::new(),
        }
    }

    /// Sets how long one invocation may run before it is killed (default 120 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Authenticates HTTPS fetches and pushes to `https://<host>/` with `token`, sent as an
    /// `x-access-token` basic `Authorization` header.
    ///
    /// The header reaches git only through the environment (`GIT_CONFIG_COUNT`,
    /// `GIT_CONFIG_KEY_<n>`, `GIT_CONFIG_VALUE_<n>`, git 2.31 or newer), never through argv, a URL
    /// or `.git/config`. An empty entry for the same key comes first, so a header that
    /// actions/checkout persisted in `.git/config` is reset rather than sent twice. Entries already
    /// in the process environment are kept, and these two are numbered after them. The token and
    /// its encoded form are replaced by `***` in errors and logs.
    ///
    /// `host` may carry a port (`ghe.example.com:8443`); a leading `https://` and trailing `/` are
    /// ignored. An empty token leaves authentication unchanged.
    pub fn with_token(mut self, host: &str, token: Token) -> Self {
        if token.expose().is_empty() {
            return self;
        }
        let host = host.trim();
        let host = host.strip_prefix("https://").unwrap_or(host);
        let host = host.trim_end_matches('/');
        let encoded = BASE64.encode(format!("x-access-token:{}", token.expose()));
        self.auth = Some(Auth {
            key: format!("http.https://{host}/.extraheader"),
            token,
            encoded,
        });
        self
    }

    /// Makes commits with this author and committer (`GIT_AUTHOR_*` and `GIT_COMMITTER_*`).
    pub fn with_author(mut self, name: &str, email: &str) -> Self {
        self.author = Some((name.to_owned(), email.to_owned()));
        self
    }

    /// Adds one variable to every invocation's environment, as if the process had it.
    #[cfg(test)]
    fn with_env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.extra_env.push((key.into(), value.into()));
        self
    }

    /// The directory git runs in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs `git <args>` and returns its stdout (lossily decoded as UTF-8, untrimmed).
    ///
    /// A non-zero exit is [`GitError::Failed`]. The other methods share this primitive; it is
    /// public for callers that need an uncommon command. Do not put secrets in `args`: they are logged
    /// (redacted only if they are this runner's token).
    pub fn run(&self, args: &[&str]) -> Result<String, GitError> {
        let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        self.run_os(&args)
    }

    /// Lists the tag names of the repository at `url` (`git ls-remote --tags --refs`), without
    /// the `refs/tags/` prefix. Runs in this runner's directory, which may be any directory; the
    /// user's git configuration (credentials, `insteadOf`) applies.
    pub fn ls_remote_tags(&self, url: &str) -> Result<Vec<String>, GitError> {
        if let Some(transport) = command_transport(url) {
            return Err(GitError::Refused {
                url: url.to_owned(),
                reason: format!(
                    "the {transport}:: transport makes git run a command; module sources must be https, ssh or file URLs"
                ),
            });
        }
        let out = self.run(&["ls-remote", "--tags", "--refs", "--end-of-options", url])?;
        Ok(out
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .filter_map(|(_, name)| name.strip_prefix("refs/tags/"))
            .map(str::to_owned)
            .collect())
    }

    /// The root of the working tree that contains this runner's directory.
    pub fn toplevel(&self) -> Result<PathBuf, GitError> {
        let out = self.run(&["rev-parse", "--show-toplevel"])?;
        Ok(PathBuf::from(strip_newline(&out)))
    }

    /// The full sha of `HEAD`.
    pub fn head_sha(&self) -> Result<String, GitError> {
        Ok(self
            .run(&["rev-parse", "--verify", "HEAD^{commit}"])?
            .trim()
            .to_owned())
    }

    /// The checked-out branch name, or `None` when `HEAD` is detached.
    pub fn current_branch(&self) -> Result<Option<String>, GitError> {
        let outcome = self.exec(&os(&["symbolic-ref", "--quiet", "HEAD"]))?;
        if outcome.code() == Some(1) {
            return Ok(None);
        }
        let out = outcome.into_stdout(self)?;
        let full = out.trim();
        Ok(Some(
            full.strip_prefix("refs/heads/").unwrap_or(full).to_owned(),
        ))
    }

    /// The URL of `remote` (after `insteadOf` rewriting), or `None` if there is no such remote.
    pub fn remote_url(&self, remote: &str) -> Result<Option<String>, GitError> {
        let outcome = self.exec(&os(&["remote", "get-url", "--", remote]))?;
        if outcome.code() == Some(2) && outcome.stderr.contains("No such remote") {
            return Ok(None);
        }
        Ok(Some(outcome.into_stdout(self)?.trim().to_owned()))
    }

    /// The default branch of `remote`: from `refs/remotes/<remote>/HEAD` when that exists
    /// locally, otherwise by asking the remote (`git ls-remote --symref <remote> HEAD`).
    /// `None` when neither tells.
    pub fn default_branch(&self, remote: &str) -> Result<Option<String>, GitError> {
        let local = format!("refs/remotes/{remote}/HEAD");
        let outcome = self.exec(&os(&["symbolic-ref", "--quiet", &local]))?;
        if outcome.success() {
            let prefix = format!("refs/remotes/{remote}/");
            let target = outcome.stdout.trim();
            if let Some(branch) = target.strip_prefix(&prefix) {
                return Ok(Some(branch.to_owned()));
            }
        }
        let out = self.run(&["ls-remote", "--symref", "--end-of-options", remote, "HEAD"])?;
        Ok(out.lines().find_map(|line| {
            let (target, name) = line.strip_prefix("ref: ")?.split_once('\t')?;
            if name != "HEAD" {
                return None;
            }
            target.strip_prefix("refs/heads/").map(str::to_owned)
        }))
    }

    /// Whether `git status` reports nothing (including untracked files) under `paths`, or in the
    /// whole working tree when `paths` is empty.
    pub fn is_clean(&self, paths: &[&Path]) -> Result<bool, GitError> {
        let mut args = os(&["status", "--porcelain", "--"]);
        args.extend(paths.iter().map(|p| p.as_os_str()));
        Ok(self.run_os(&args)?.trim().is_empty())
    }

    /// `git status --porcelain` of the whole working tree.
    pub fn status_porcelain(&self) -> Result<String, GitError> {
        self.run(&["status", "--porcelain"])
    }

    /// Fetches `refspec` from `remote`.
    pub fn fetch(&self, remote: &str, refspec: &str) -> Result<(), GitError> {
        self.run(&["fetch", "--end-of-options", remote, refspec])
            .map(drop)
    }

    /// Creates or resets `branch` to `start_point` and checks it out (`git checkout -B`), without
    /// setting an upstream. Fails rather than discard uncommitted edits that are in the way.
    pub fn checkout_new_branch_from(
        &self,
        branch: &str,
        start_point: &str,
    ) -> Result<(), GitError> {
        self.run(&[
            "checkout",
            "--no-track",
            "-B",
            branch,
            "--end-of-options",
            start_point,
        ])
        .map(drop)
    }

    /// Stages `paths` (`git add -- <paths>`). Does nothing when `paths` is empty.
    pub fn add(&self, paths: &[&Path]) -> Result<(), GitError> {
        if paths.is_empty() {
            return Ok(());
        }
        let mut args = os(&["add", "--"]);
        args.extend(paths.iter().map(|p| p.as_os_str()));
        self.run_os(&args).map(drop)
    }

    /// Commits what is staged and returns the new commit's sha, or `None` (without running
    /// `git commit`) when nothing is staged.
    pub fn commit(&self, message: &str) -> Result<Option<String>, GitError> {
        let staged = self.exec(&os(&["diff", "--cached", "--quiet"]))?;
        if staged.success() {
            return Ok(None);
        }
        if staged.code() != Some(1) {
            return Err(staged.failure(self));
        }
        self.run(&["commit", "--quiet", "-m", message])?;
        self.head_sha().map(Some)
    }

    /// Force-pushes `HEAD` to `refs/heads/<branch>` on `remote`. A rejection (protected branch,
    /// hook) is [`GitError::Failed`] carrying git's message.
    pub fn push_force(&self, remote: &str, branch: &str) -> Result<(), GitError> {
        let refspec = format!("HEAD:refs/heads/{branch}");
        self.run(&["push", "--force", "--end-of-options", remote, &refspec])
            .map(drop)
    }

    /// Pushes `HEAD` to `refs/heads/<branch>` on `remote`, replacing it only if it still points
    /// at `expected` (`None`: only if it does not exist), as `git push --force-with-lease` does. A
    /// branch that moved meanwhile is [`GitError::Failed`] with git's "stale info".
    pub fn push_with_lease(
        &self,
        remote: &str,
        branch: &str,
        expected: Option<&str>,
    ) -> Result<(), GitError> {
        let refname = format!("refs/heads/{branch}");
        let lease = format!("--force-with-lease={refname}:{}", expected.unwrap_or(""));
        let refspec = format!("HEAD:{refname}");
        self.run(&["push", &lease, "--end-of-options", remote, &refspec])
            .map(drop)
    }

    /// Paths (relative to the repository root) that differ between `base` and `head`; a rename
    /// lists both the old and the new path.
    pub fn diff_names(&self, base: &str, head: &str) -> Result<Vec<String>, GitError> {
        let out = self.run(&[
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            "--end-of-options",
            base,
            head,
            "--",
        ])?;
        Ok(out
            .split('\0')
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// The content of `path` (relative to the repository root) at revision `rev`, or `None` when
    /// `rev` exists but has no file there. An unknown `rev` is an error. Reads the blob as stored
    /// (`git cat-file blob <rev>:<path>`, no textconv), lossily decoded as UTF-8.
    pub fn show_file(&self, rev: &str, path: &Path) -> Result<Option<String>, GitError> {
        let mut spec = OsString::from(format!("{rev}:"));
        spec.push(path.as_os_str());
        let mut args = os(&["cat-file", "blob", "--end-of-options"]);
        args.push(&spec);
        let outcome = self.exec(&args)?;
        if outcome.success() {
            return Ok(Some(outcome.stdout));
        }
        let tree = format!("{rev}^{{tree}}");
        let rev_exists = self.exec(&os(&["cat-file", "-e", "--end-of-options", &tree]))?;
        if rev_exists.success() {
            Ok(None)
        } else {
            Err(outcome.failure(self))
        }
    }

    /// Marks `dir` as safe in the global git configuration of the user running Baton
    /// (`git config --global --add safe.directory <dir>`), unless it already is.
    ///
    /// For container actions, where the checked-out workspace belongs to another user and git
    /// would otherwise refuse to work in it.
    pub fn safe_directory_add(&self, dir: &Path) -> Result<(), GitError> {
        let listed = self.exec(&os(&["config", "--global", "--get-all", "safe.directory"]))?;
        // Exit status 1 means the key is not set at all.
        if listed.code() != Some(1) {
            let listed = listed.into_stdout(self)?;
            let wanted = dir.to_string_lossy();
            if listed.lines().any(|line| line == wanted || line == "*") {
                return Ok(());
            }
        }
        let mut args = os(&["config", "--global", "--add", "safe.directory"]);
        args.push(dir.as_os_str());
        self.run_os(&args).map(drop)
    }

    fn run_os(&self, args: &[&OsStr]) -> Result<String, GitError> {
        self.exec(args)?.into_stdout(self)
    }

    /// Runs git and returns how it ended; only failing to run it (or a timeout) is an error.
    fn exec(&self, args: &[&OsStr]) -> Result<Outcome, GitError> {
        let ssh_default = self.wants_ssh_default();
        self.exec_with(args, ssh_default)
    }

    fn exec_with(&self, args: &[&OsStr], ssh_default: bool) -> Result<Outcome, GitError> {
        let shown = self.redact(&display_args(args));
        log::debug!("git {shown}");
        if !self.dir.is_dir() {
            return Err(GitError::Spawn(io::Error::new(
                io::ErrorKind::NotFound,
                format!("directory {} does not exist", self.dir.display()),
            )));
        }
        let mut cmd = Command::new("git");
        cmd.args(args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        self.apply_env(&mut cmd, ssh_default);
        let mut child = cmd.spawn().map_err(GitError::Spawn)?;
        let deadline = Instant::now().checked_add(self.timeout);
        let pipes =
            drain(child.stdout.take()).and_then(|out| Ok((out, drain(child.stderr.take())?)));
        let (stdout, stderr) = match pipes {
            Ok(pipes) => pipes,
            Err(err) => {
                kill(&mut child);
                return Err(GitError::Spawn(err));
            }
        };
        let status = self.wait(&mut child, deadline, &shown)?;
        let stdout = self.collect(&stdout, deadline, &shown)?;
        let stderr = self.collect(&stderr, deadline, &shown)?;
        Ok(Outcome {
            args: shown,
            status,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }

    /// Polls `child` until it exits, killing it at `deadline`.
    fn wait(
        &self,
        child: &mut Child,
        deadline: Option<Instant>,
        shown: &str,
    ) -> Result<ExitStatus, GitError> {
        let mut pause = Duration::from_millis(1);
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Ok(status),
                Ok(None) => {}
                Err(err) => {
                    kill(child);
                    return Err(GitError::Spawn(err));
                }
            }
            let now = Instant::now();
            let sleep = match deadline {
                Some(deadline) if now >= deadline => {
                    kill(child);
                    return Err(self.timeout_error(shown));
                }
                Some(deadline) => pause.min(deadline - now),
                None => pause,
            };
            thread::sleep(sleep);
            pause = (pause * 2).min(MAX_POLL);
        }
    }

    /// Takes what a reader thread read. A process that git started and that still holds the
    /// pipe open past the deadline counts as a timeout; its reader thread is left behind.
    fn collect(
        &self,
        rx: &Receiver<Vec<u8>>,
        deadline: Option<Instant>,
        shown: &str,
    ) -> Result<Vec<u8>, GitError> {
        let received = match deadline {
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                rx.recv_timeout(left.max(OUTPUT_GRACE))
            }
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(bytes) => Ok(bytes),
            Err(RecvTimeoutError::Disconnected) => Ok(Vec::new()),
            Err(RecvTimeoutError::Timeout) => Err(self.timeout_error(shown)),
        }
    }

    fn timeout_error(&self, shown: &str) -> GitError {
        let secs = self.timeout.as_secs() + u64::from(self.timeout.subsec_nanos() > 0);
        GitError::Timeout {
            args: shown.to_owned(),
            dir: self.dir.display().to_string(),
            secs,
        }
    }

    fn apply_env(&self, cmd: &mut Command, ssh_default: bool) {
        for (key, value) in &self.extra_env {
            cmd.env(key, value);
        }
        for var in REPOSITORY_VARS {
            cmd.env_remove(var);
        }
        cmd.env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "")
            .env("LC_ALL", "C")
            .env("GIT_EDITOR", "true");
        if ssh_default {
            cmd.env("GIT_SSH_COMMAND", "ssh -o BatchMode=yes");
        }
        if let Some((name, email)) = &self.author {
            cmd.env("GIT_AUTHOR_NAME", name)
                .env("GIT_AUTHOR_EMAIL", email)
                .env("GIT_COMMITTER_NAME", name)
                .env("GIT_COMMITTER_EMAIL", email);
        }
        // Entries of our own come after any the process inherited. The transports that run
        // commands are off whatever the user's configuration allows.
        let mut entries: Vec<(String, String)> = COMMAND_TRANSPORTS
            .iter()
            .map(|t| (format!("protocol.{t}.allow"), "never".to_owned()))
            .collect();
        if let Some(auth) = &self.auth {
            entries.push((auth.key.clone(), String::new()));
            entries.push((auth.key.clone(), auth.header()));
        }
        let first = self
            .inherited("GIT_CONFIG_COUNT")
            .and_then(|count| count.to_str().and_then(|c| c.trim().parse::<usize>().ok()))
            .unwrap_or(0);
        for (i, (key, value)) in entries.iter().enumerate() {
            cmd.env(format!("GIT_CONFIG_KEY_{}", first + i), key)
                .env(format!("GIT_CONFIG_VALUE_{}", first + i), value);
        }
        cmd.env("GIT_CONFIG_COUNT", (first + entries.len()).to_string());
    }

    /// Whether to set `GIT_SSH_COMMAND`: only when the user chose no SSH command of their own.
    fn wants_ssh_default(&self) -> bool {
        let set = |key: &str| self.inherited(key).is_some_and(|v| !v.is_empty());
        if set("GIT_SSH_COMMAND") || set("GIT_SSH") {
            return false;
        }
        let configured = *self.user_ssh_command.get_or_init(|| {
            self.exec_with(&os(&["config", "--get", "core.sshCommand"]), false)
                .is_ok_and(|outcome| outcome.success() && !outcome.stdout.trim().is_empty())
        });
        !configured
    }

    /// A variable as the child would inherit it.
    fn inherited(&self, key: &str) -> Option<OsString> {
        self.extra_env
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .or_else(|| std::env::var_os(key))
    }

    /// Replaces this runner's token, and its encoded form, with `***`.
    fn redact(&self, text: &str) -> String {
        match &self.auth {
            Some(auth) => redact(text, &[auth.token.expose(), &auth.encoded]),
            None => text.to_owned(),
        }
    }
}

/// How one invocation ended.
struct Outcome {
    /// Redacted, for messages.
    args: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn success(&self) -> bool {
        self.status.success()
    }

    fn code(&self) -> Option<i32> {
        self.status.code()
    }

    fn into_stdout(self, git: &Git) -> Result<String, GitError> {
        if self.success() {
            Ok(self.stdout)
        } else {
            Err(self.failure(git))
        }
    }

    fn failure(self, git: &Git) -> GitError {
        GitError::Failed {
            args: self.args,
            dir: git.dir.display().to_string(),
            status: self.status.to_string(),
            stdout: git.redact(self.stdout.trim()),
            stderr: git.redact(self.stderr.trim()),
        }
    }
}

/// Remote transports that run a command given in the URL (`ext::sh -c …`) or talk over file
/// descriptors (`fd::…`): turned off for every git call (`protocol.<name>.allow=never`).
const COMMAND_TRANSPORTS: &[&str] = &["ext", "fd"];

/// The transport of a URL in git's `<transport>::<address>` form when it is one of
/// [`COMMAND_TRANSPORTS`], whatever its case.
fn command_transport(url: &str) -> Option<&str> {
    let (transport, _) = url.trim_start().split_once("::")?;
    COMMAND_TRANSPORTS
        .iter()
        .any(|t| transport.eq_ignore_ascii_case(t))
        .then_some(transport)
}

/// Replaces every occurrence of each non-empty secret in `text` with `***`, longest secret first
/// so that a secret containing another is replaced whole.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut secrets: Vec<&str> = secrets.iter().copied().filter(|s| !s.is_empty()).collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.into_iter().fold(text.to_owned(), |text, secret| {
        text.replace(secret, REDACTED)
    })
}

fn os<'a>(args: &[&'a str]) -> Vec<&'a OsStr> {
    args.iter().map(|arg| OsStr::new(*arg)).collect()
}

fn strip_newline(text: &str) -> &str {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.strip_suffix('\r').unwrap_or(text)
}

/// Arguments joined for display, single-quoted where a shell would need it.
fn display_args(args: &[&OsStr]) -> String {
    args.iter()
        .map(|arg| {
            let arg = arg.to_string_lossy();
            let plain = !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@^{}~+,%".contains(c));
            if plain {
                arg.into_owned()
            } else {
                format!("'{}'", arg.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads `pipe` to its end on a thread, so neither pipe can fill up and block git.
fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> io::Result<Receiver<Vec<u8>>> {
    let (tx, rx) = mpsc::channel();
    match pipe {
        Some(mut pipe) => {
            thread::Builder::new()
                .name("git-output".to_owned())
                .spawn(move || {
                    let mut buf = Vec::new();
                    // A read error keeps what was read so far; git's exit status tells the rest.
                    let _ = pipe.read_to_end(&mut buf);
                    let _ = tx.send(buf);
                })?;
        }
        None => {
            let _ = tx.send(Vec::new());
        }
    }
    Ok(rx)
}

fn kill(child: &mut Child) {
    // Either may fail only because git already exited, which is what we want anyway.
    let _ = child.kill();
    let _ = child.wait();
}

/// One commit of the first-parent history, with the files it changed against its first parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCommit {
    /// Its full sha.
    pub sha: String,
    /// Its parents, first parent first.
    pub parents: Vec<String>,
    /// Committer time, seconds since the epoch.
    pub time: i64,
    /// Author name.
    pub author: String,
    /// Author email.
    pub author_email: String,
    /// The whole message.
    pub message: String,
    /// Regular files changed (symlinks and submodules left out).
    pub changes: Vec<RawChange>,
}

/// One file changed by a commit: the blob before and after (`None`: absent on that side).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawChange {
    /// Blob before.
    pub old: Option<String>,
    /// Blob after.
    pub new: Option<String>,
    /// Path relative to the repository root.
    pub path: String,
}

/// An object read by [`CatFile`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitObject {
    /// Its full object id.
    pub oid: String,
    /// `blob`, `tree`, `commit` or `tag`.
    pub kind: String,
    /// Its contents.
    pub data: Vec<u8>,
}

/// Field and record separators of the log format: they cannot occur in a sha, a number or a name
/// git prints, and a message ends at the NUL that `-z` puts after it.
const LOG_RECORD: char = '\u{1e}';
const LOG_FIELD: char = '\u{1f}';

impl Git {
    /// The first-parent history of `rev`, newest first: each commit with the regular files it
    /// changed against its first parent (merges included, renames as a delete and an add), in
    /// one `git log`.
    pub fn first_parent_log(&self, rev: &str) -> Result<Vec<LogCommit>, GitError> {
        let out = self.run(&[
            "log",
            "--first-parent",
            "--diff-merges=first-parent",
            "--root",
            "--raw",
            "--no-renames",
            "--no-abbrev",
            "-z",
            "--no-color",
            "--format=%x1e%H%x1f%P%x1f%ct%x1f%an%x1f%ae%x1f%B%x1f",
            "--end-of-options",
            rev,
            "--",
        ])?;
        Ok(parse_log(&out))
    }

    /// The commits of the first-parent line of `rev`, newest first.
    pub fn first_parent_shas(&self, rev: &str) -> Result<Vec<String>, GitError> {
        let out = self.run(&["rev-list", "--first-parent", "--end-of-options", rev, "--"])?;
        Ok(out.lines().map(str::to_owned).collect())
    }

    /// Every regular file of the tree of `rev`: path (from the repository root) and blob.
    pub fn ls_tree(&self, rev: &str) -> Result<Vec<(String, String)>, GitError> {
        let out = self.run(&[
            "ls-tree",
            "-r",
            "-z",
            "--full-tree",
            "--end-of-options",
            rev,
        ])?;
        Ok(out
            .split('\0')
            .filter_map(|entry| {
                let (meta, path) = entry.split_once('\t')?;
                let mut meta = meta.split(' ');
                let (mode, kind, oid) = (meta.next()?, meta.next()?, meta.next()?);
                (kind == "blob" && regular_mode(mode)).then(|| (path.to_owned(), oid.to_owned()))
            })
            .collect())
    }

    /// Whether the repository is a shallow clone (its history stops before the first commit).
    pub fn is_shallow(&self) -> Result<bool, GitError> {
        Ok(self.run(&["rev-parse", "--is-shallow-repository"])?.trim() == "true")
    }

    /// The path of this runner's directory relative to the repository root (`""` at the root,
    /// else ending with `/`).
    pub fn show_prefix(&self) -> Result<String, GitError> {
        Ok(strip_newline(&self.run(&["rev-parse", "--show-prefix"])?).to_owned())
    }

    /// Starts one `git cat-file --batch` process that reads many objects in turn.
    pub fn cat_file(&self) -> Result<CatFile, GitError> {
        let ssh_default = self.wants_ssh_default();
        let mut cmd = Command::new("git");
        cmd.args(["cat-file", "--batch"])
            .current_dir(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        self.apply_env(&mut cmd, ssh_default);
        log::debug!("git cat-file --batch");
        let mut child = cmd.spawn().map_err(GitError::Spawn)?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            kill(&mut child);
            return Err(GitError::Spawn(io::Error::other(
                "no pipes to git cat-file",
            )));
        };
        Ok(CatFile {
            child,
            stdin,
            stdout: io::BufReader::with_capacity(64 * 1024, stdout),
            dir: self.dir.display().to_string(),
        })
    }
}

/// A running `git cat-file --batch`: objects are asked for one at a time, by id or by
/// `<rev>:<path>`, and read from one process. The process ends when this is dropped.
pub struct CatFile {
    child: Child,
    stdin: std::process::ChildStdin,
    stdout: io::BufReader<std::process::ChildStdout>,
    dir: String,
}

impl CatFile {
    /// Reads one object; `None` when there is no such object.
    pub fn read(&mut self, name: &str) -> Result<Option<GitObject>, GitError> {
        use std::io::Write as _;
        if name.is_empty() || name.contains(['\n', '\r']) {
            return Ok(None);
        }
        writeln!(self.stdin, "{name}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| GitError::Batch {
                dir: self.dir.clone(),
                message: e.to_string(),
            })?;
        read_object(&mut self.stdout, &self.dir)
    }
}

/// Reads one answer of `git cat-file --batch`: `None` for a missing object.
fn read_object(
    stdout: &mut io::BufReader<std::process::ChildStdout>,
    dir: &str,
) -> Result<Option<GitObject>, GitError> {
    use std::io::BufRead as _;
    let fail = |message: String| GitError::Batch {
        dir: dir.to_owned(),
        message,
    };
    let mut header = String::new();
    let n = stdout
        .read_line(&mut header)
        .map_err(|e| fail(e.to_string()))?;
    if n == 0 {
        return Err(fail("the process ended".into()));
    }
    let header = strip_newline(&header);
    if header.ends_with(" missing") || header.ends_with(" ambiguous") {
        return Ok(None);
    }
    let mut parts = header.split(' ');
    let (Some(oid), Some(kind), Some(size)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(fail(format!("unexpected answer {header:?}")));
    };
    let size: usize = size
        .parse()
        .map_err(|_| fail(format!("unexpected answer {header:?}")))?;
    // Read into spare capacity: zeroing the buffer first costs as much as copying into it.
    let mut data = Vec::with_capacity(size + 1);
    let read = (&mut *stdout)
        .take(size as u64 + 1)
        .read_to_end(&mut data)
        .map_err(|e| fail(e.to_string()))?;
    if read != size + 1 {
        return Err(fail("the process ended".into()));
    }
    data.truncate(size);
    Ok(Some(GitObject {
        oid: oid.to_owned(),
        kind: kind.to_owned(),
        data,
    }))
}

/// A `git cat-file --batch` given a list of objects up front: a thread writes the names while
/// the answers are read in the same order, so that reading many objects costs no round trip
/// each. With several processes (lanes), runs of [`STREAM_RUN`] objects go to each lane in
/// turn, and a thread per lane reads its answers ahead (at most [`LANE_AHEAD`] objects), so
/// that the lanes unpack objects at the same time and are taken back in the list's order.
pub struct CatFileStream {
    lanes: Vec<Lane>,
    /// How many objects have been taken.
    taken: usize,
    /// The directory git runs in, for errors.
    dir: String,
}

/// One `git cat-file --batch` process of a [`CatFileStream`].
struct Lane {
    child: Child,
    answers: Receiver<Result<Option<GitObject>, GitError>>,
}

/// How many consecutive objects of the list go to one lane.
pub const STREAM_RUN: usize = 64;
/// How many objects a lane reads ahead of the one taken.
const LANE_AHEAD: usize = 2 * STREAM_RUN;

impl Git {
    /// Starts reading `names` (object ids or `<rev>:<path>`), to be taken in order with
    /// [`CatFileStream::next_object`], through one process per available core (at most
    /// four): long lists are unpacked on every core. Names holding a line break are read
    /// as missing.
    pub fn cat_file_stream(&self, names: Vec<String>) -> Result<CatFileStream, GitError> {
        let cores = thread::available_parallelism().map_or(1, |n| n.get());
        self.cat_file_lanes(names, cores.min(4))
    }

    /// [`Git::cat_file_stream`] through `lanes` processes (one at least; fewer when the list
    /// is short).
    pub fn cat_file_lanes(
        &self,
        names: Vec<String>,
        lanes: usize,
    ) -> Result<CatFileStream, GitError> {
        let count = lanes.clamp(1, names.len().div_ceil(STREAM_RUN).max(1));
        let mut split: Vec<Vec<String>> = vec![Vec::new(); count];
        for (i, name) in names.into_iter().enumerate() {
            split[(i / STREAM_RUN) % count].push(name);
        }
        log::debug!(
            "git cat-file --batch ({} objects, {count} processes)",
            split.iter().map(Vec::len).sum::<usize>()
        );
        let mut stream = CatFileStream {
            lanes: Vec::with_capacity(count),
            taken: 0,
            dir: self.dir.display().to_string(),
        };
        for names in split {
            stream.lanes.push(self.cat_file_lane(names)?);
        }
        Ok(stream)
    }

    /// One lane: the process, a thread writing its names, a thread reading its answers.
    fn cat_file_lane(&self, names: Vec<String>) -> Result<Lane, GitError> {
        use std::io::Write as _;
        let ssh_default = self.wants_ssh_default();
        let mut cmd = Command::new("git");
        cmd.args(["cat-file", "--batch", "--buffer"])
            .current_dir(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        self.apply_env(&mut cmd, ssh_default);
        let mut child = cmd.spawn().map_err(GitError::Spawn)?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            kill(&mut child);
            return Err(GitError::Spawn(io::Error::other(
                "no pipes to git cat-file",
            )));
        };
        let expected = names.len();
        let writer = thread::Builder::new()
            .name("git-cat-file-names".to_owned())
            .spawn(move || {
                let mut stdin = io::BufWriter::new(stdin);
                for name in names {
                    let name = if name.contains(['\n', '\r']) || name.is_empty() {
                        // An object id that cannot exist keeps the answers in step.
                        "0".repeat(40)
                    } else {
                        name
                    };
                    // Git exiting early closes the pipe: the reader sees that.
                    if writeln!(stdin, "{name}").is_err() {
                        return;
                    }
                }
                let _ = stdin.flush();
            });
        let (send, answers) = mpsc::sync_channel(LANE_AHEAD);
        let dir = self.dir.display().to_string();
        let reader = writer.and_then(|_| {
            thread::Builder::new()
                .name("git-cat-file-answers".to_owned())
                .spawn(move || {
                    let mut stdout = io::BufReader::with_capacity(256 * 1024, stdout);
                    for _ in 0..expected {
                        let answer = read_object(&mut stdout, &dir);
                        let failed = answer.is_err();
                        // The stream dropped: nothing more is wanted.
                        if send.send(answer).is_err() || failed {
                            return;
                        }
                    }
                })
        });
        if let Err(e) = reader {
            kill(&mut child);
            return Err(GitError::Spawn(e));
        }
        Ok(Lane { child, answers })
    }
}

impl CatFileStream {
    /// The next object of the list; `None` when it does not exist.
    pub fn next_object(&mut self) -> Result<Option<GitObject>, GitError> {
        let lane = (self.taken / STREAM_RUN) % self.lanes.len();
        self.taken += 1;
        self.lanes[lane].answers.recv().unwrap_or_else(|_| {
            Err(GitError::Batch {
                dir: self.dir.clone(),
                message: "the process ended".into(),
            })
        })
    }
}

impl Drop for CatFileStream {
    fn drop(&mut self) {
        for lane in &mut self.lanes {
            kill(&mut lane.child);
        }
    }
}

impl Drop for CatFile {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

impl fmt::Debug for CatFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CatFile").field("dir", &self.dir).finish()
    }
}

fn regular_mode(mode: &str) -> bool {
    mode == "100644" || mode == "100755"
}

/// Parses the output of [`Git::first_parent_log`].
fn parse_log(out: &str) -> Vec<LogCommit> {
    let mut commits = Vec::new();
    let mut rest = out;
    while let Some(start) = rest.find(LOG_RECORD) {
        rest = &rest[start + LOG_RECORD.len_utf8()..];
        let mut fields = rest.splitn(6, LOG_FIELD);
        let (Some(sha), Some(parents), Some(time), Some(author), Some(email), Some(tail)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            break;
        };
        // The message ends at the NUL that -z writes after the format (a message holds none).
        let (message, after) = tail.split_once('\0').unwrap_or((tail, ""));
        let message = message.strip_suffix(LOG_FIELD).unwrap_or(message);
        let mut commit = LogCommit {
            sha: sha.to_owned(),
            parents: parents
                .split(' ')
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .collect(),
            time: time.trim().parse().unwrap_or(0),
            author: author.to_owned(),
            author_email: email.to_owned(),
            message: message.to_owned(),
            changes: Vec::new(),
        };
        // Raw entries: `:<old mode> <new mode> <old> <new> <status>\0<path>\0`, until the next
        // record (paths are NUL-terminated, so a separator inside a path is no boundary).
        let mut raw = after.trim_start_matches('\n');
        while let Some(entry) = raw.strip_prefix(':') {
            let Some((meta, tail)) = entry.split_once('\0') else {
                break;
            };
            let Some((path, tail)) = tail.split_once('\0') else {
                break;
            };
            raw = tail.trim_start_matches('\n');
            let meta: Vec<&str> = meta.split(' ').collect();
            let [old_mode, new_mode, old, new, ..] = meta.as_slice() else {
                continue;
            };
            let side = |mode: &str, oid: &str| {
                (regular_mode(mode) && oid.bytes().any(|b| b != b'0')).then(|| oid.to_owned())
            };
            let (old, new) = (side(old_mode, old), side(new_mode, new));
            if old.is_some() || new.is_some() {
                commit.changes.push(RawChange {
                    old,
                    new,
                    path: path.to_owned(),
                });
            }
        }
        rest = raw;
        commits.push(commit);
    }
    commits
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use tempfile::TempDir;

    const SECRET: &str = "ghp_SECRET123";
    /// base64 of `x-access-token:ghp_SECRET123`.
    const SECRET_B64: &str = "eC1hY2Nlc3MtdG9rZW46Z2hwX1NFQ1JFVDEyMw==";

    /// Temporary repositories, with git isolated from the machine's global and system config.
    struct Fixture {
        tmp: TempDir,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                tmp: tempfile::tempdir().unwrap(),
            }
        }

        fn path(&self, name: &str) -> PathBuf {
            self.tmp.path().join(name)
        }

        fn git(&self, dir: &Path) -> Git {
            Git::new(dir)
                .with_env("GIT_CONFIG_GLOBAL", self.path("global.gitconfig"))
                .with_env("GIT_CONFIG_NOSYSTEM", "1")
        }

        fn root(&self) -> Git {
            self.git(self.tmp.path())
        }

        fn configure(&self, repo: &Path) {
            let git = self.git(repo);
            for (key, value) in [
                ("user.name", "Fixture User"),
                ("user.email", "fixture@example.com"),
                ("commit.gpgsign", "false"),
                ("tag.gpgsign", "false"),
            ] {
                git.run(&["config", key, value]).unwrap();
            }
        }

        fn init(&self, name: &str) -> PathBuf {
            let dir = self.path(name);
            let arg = dir.to_str().unwrap();
            self.root()
                .run(&["-c", "init.defaultBranch=main", "init", "--quiet", arg])
                .unwrap();
            self.configure(&dir);
            dir
        }

        fn commit_file(&self, repo: &Path, rel: &str, content: &str, message: &str) -> String {
            let file = repo.join(rel);
            fs::create_dir_all(file.parent().unwrap()).unwrap();
            fs::write(&file, content).unwrap();
            let git = self.git(repo);
            git.run(&["add", "--", rel]).unwrap();
            git.run(&["commit", "--quiet", "-m", message]).unwrap();
            git.head_sha().unwrap()
        }

        /// A bare `origin.git` whose main has one commit, and `work`, a configured clone of it.
        fn origin_and_clone(&self) -> (PathBuf, PathBuf) {
            let seed = self.init("seed");
            self.commit_file(&seed, "main.tf", "module \"vpc\" {}\n", "initial");
            let origin = self.path("origin.git");
            let work = self.path("work");
            let root = self.root();
            root.run(&[
                "clone",
                "--quiet",
                "--bare",
                seed.to_str().unwrap(),
                origin.to_str().unwrap(),
            ])
            .unwrap();
            root.run(&[
                "clone",
                "--quiet",
                origin.to_str().unwrap(),
                work.to_str().unwrap(),
            ])
            .unwrap();
            self.configure(&work);
            (origin, work)
        }
    }

    fn rev(git: &Git, spec: &str) -> String {
        git.run(&["rev-parse", "--verify", spec])
            .unwrap()
            .trim()
            .to_owned()
    }

    #[test]
    fn ls_remote_tags_lists_tag_names_by_file_url_and_by_path() {
        let f = Fixture::new();
        let repo = f.init("modules");
        f.commit_file(&repo, "main.tf", "# vpc\n", "initial");
        let git = f.git(&repo);
        git.run(&["tag", "v0.1.0"]).unwrap();
        git.run(&["tag", "-a", "v0.2.0", "-m", "annotated"])
            .unwrap();
        git.run(&["tag", "vpc-v1.0.0"]).unwrap();
        git.run(&["branch", "feature"]).unwrap();

        let expected = ["v0.1.0", "v0.2.0", "vpc-v1.0.0"];
        let url = format!("file://{}", repo.display());
        for remote in [url.as_str(), repo.to_str().unwrap()] {
            // Run from a directory that is not the repository.
            let mut tags = f.root().ls_remote_tags(remote).unwrap();
            tags.sort();
            assert_eq!(tags, expected, "listing {remote}");
        }
    }

    #[test]
    fn ls_remote_tags_of_a_missing_repository_fails_with_gits_message() {
        let f = Fixture::new();
        let missing = f.path("missing");
        let err = f
            .root()
            .ls_remote_tags(missing.to_str().unwrap())
            .unwrap_err();
        let GitError::Failed {
            ref args,
            ref status,
            ref stderr,
            ..
        } = err
        else {
            panic!("expected Failed, got {err:?}");
        };
        assert!(args.starts_with("ls-remote --tags --refs"), "{args}");
        assert!(status.contains("128"), "{status}");
        assert!(
            stderr.contains("does not appear to be a git repository"),
            "{stderr}"
        );
        assert!(
            err.to_string()
                .contains("does not appear to be a git repository")
        );
    }

    #[test]
    fn ls_remote_tags_never_reads_a_url_as_an_option() {
        let f = Fixture::new();
        let err = f.root().ls_remote_tags("--upload-pack=touch pwned");
        assert!(matches!(err, Err(GitError::Failed { .. })), "{err:?}");
        assert!(!f.path("pwned").exists());
    }

    #[test]
    fn branch_commit_and_force_push_twice_leaves_one_commit_on_main() {
        let f = Fixture::new();
        let (origin, work) = f.origin_and_clone();
        let git = f.git(&work);
        let bare = f.git(&origin);
        let main_sha = rev(&bare, "refs/heads/main");

        assert_eq!(
            git.default_branch("origin").unwrap().as_deref(),
            Some("main")
        );

        let round = || {
            git.checkout_new_branch_from("baton/x", "origin/main")
                .unwrap();
            assert_eq!(git.current_branch().unwrap().as_deref(), Some("baton/x"));
            assert_eq!(git.head_sha().unwrap(), main_sha);
            assert!(git.is_clean(&[]).unwrap());
            fs::write(
                work.join("main.tf"),
                "module \"vpc\" { version = \"2.0.0\" }\n",
            )
            .unwrap();
            assert!(!git.is_clean(&[]).unwrap());
            git.add(&[Path::new("main.tf")]).unwrap();
            let sha = git.commit("chore: bump vpc to 2.0.0").unwrap();
            let sha = sha.expect("a commit for the staged edit");
            assert_eq!(sha, git.head_sha().unwrap());
            assert_eq!(git.commit("nothing staged").unwrap(), None);
            git.push_force("origin", "baton/x").unwrap();
            assert_eq!(rev(&bare, "refs/heads/baton/x"), sha);
            sha
        };
        let first = round();
        let second = round();
        assert_eq!(first.len(), 40);
        assert_eq!(second.len(), 40);

        let on_top = bare
            .run(&["rev-list", "--count", "refs/heads/main..refs/heads/baton/x"])
            .unwrap();
        assert_eq!(on_top.trim(), "1");
        assert_eq!(rev(&bare, "refs/heads/baton/x^"), main_sha);
        assert_eq!(rev(&bare, "refs/heads/main"), main_sha);
    }

    #[cfg(unix)]
    #[test]
    fn rejected_push_carries_the_remotes_message() {
        use std::os::unix::fs::PermissionsExt;

        let f = Fixture::new();
        let (origin, work) = f.origin_and_clone();
        let hook = origin.join("hooks").join("pre-receive");
        fs::write(
            &hook,
            "#!/bin/sh\necho 'protected branch: pushes are not allowed' >&2\nexit 1\n",
        )
        .unwrap();
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();

        let git = f.git(&work);
        git.checkout_new_branch_from("baton/x", "origin/main")
            .unwrap();
        fs::write(work.join("main.tf"), "changed\n").unwrap();
        git.add(&[Path::new("main.tf")]).unwrap();
        git.commit("change").unwrap();
        let err = git.push_force("origin", "baton/x").unwrap_err();
        assert!(matches!(err, GitError::Failed { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.contains("protected branch"), "{message}");
        assert!(message.contains("push --force"), "{message}");
        let remote_branch = f
            .git(&origin)
            .run(&["branch", "--list", "baton/x"])
            .unwrap();
        assert_eq!(remote_branch, "");
    }

    #[test]
    fn token_reaches_git_only_through_the_environment_and_is_redacted() {
        let f = Fixture::new();
        let repo = f.init("repo");
        f.commit_file(&repo, "main.tf", "x\n", "initial");
        // What actions/checkout leaves behind.
        let key = "http.https://example.com/.extraheader";
        f.git(&repo)
            .run(&["config", key, "AUTHORIZATION: basic OLD"])
            .unwrap();
        let git = f.git(&repo).with_token("example.com", Token::new(SECRET));

        let seen = git.run(&["config", "--get-all", key]).unwrap();
        let header = format!("AUTHORIZATION: basic {SECRET_B64}");
        // The persisted header, then the reset, then ours: git sends only ours.
        assert_eq!(seen, format!("AUTHORIZATION: basic OLD\n\n{header}\n"));
        assert!(seen.contains("AUTHORIZATION: basic "));

        let config = fs::read_to_string(repo.join(".git").join("config")).unwrap();
        assert!(
            !config.contains(SECRET) && !config.contains(SECRET_B64),
            "{config}"
        );

        // git quotes the header value in this error (once the persisted one is gone).
        f.git(&repo).run(&["config", "--unset-all", key]).unwrap();
        let err = git
            .run(&["config", "--type=bool", "--get", key])
            .unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(text.contains("bad boolean config value"), "{text}");
        assert!(text.contains("***"), "{text}");
        assert!(
            !text.contains(SECRET) && !text.contains(SECRET_B64),
            "{text}"
        );

        // Even a token a caller put in argv is scrubbed.
        let err = git.run(&["checkout", SECRET]).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(text.contains("did not match"), "{text}");
        assert!(!text.contains(SECRET), "{text}");

        assert_eq!(format!("{:?}", Token::new(SECRET)), "***");
        assert_eq!(Token::new(SECRET).to_string(), "***");
        assert!(!format!("{git:?}").contains(SECRET));
    }

    #[test]
    fn token_never_appears_in_traced_command_lines() {
        let f = Fixture::new();
        let (origin, work) = f.origin_and_clone();
        let trace = f.path("trace.log");
        let git = f
            .git(&work)
            .with_env("GIT_TRACE", &trace)
            .with_token("example.com", Token::new(SECRET));
        git.fetch("origin", "main").unwrap();
        git.ls_remote_tags(origin.to_str().unwrap()).unwrap();
        let traced = fs::read_to_string(&trace).unwrap();
        assert!(traced.contains("fetch"), "{traced}");
        assert!(
            !traced.contains(SECRET) && !traced.contains(SECRET_B64),
            "{traced}"
        );
    }

    #[test]
    fn token_entries_come_after_inherited_config_entries() {
        let f = Fixture::new();
        let repo = f.init("repo");
        let git = f
            .git(&repo)
            .with_env("GIT_CONFIG_COUNT", "1")
            .with_env("GIT_CONFIG_KEY_0", "baton.inherited")
            .with_env("GIT_CONFIG_VALUE_0", "kept")
            .with_token("https://ghe.example.com:8443/", Token::new(SECRET));
        assert_eq!(git.run(&["config", "baton.inherited"]).unwrap(), "kept\n");
        let header = git
            .run(&[
                "config",
                "--get",
                "http.https://ghe.example.com:8443/.extraheader",
            ])
            .unwrap();
        assert_eq!(header, format!("AUTHORIZATION: basic {SECRET_B64}\n"));
    }

    #[test]
    fn environment_is_controlled() {
        let f = Fixture::new();
        let repo = f.init("repo");
        let env_of = |git: &Git| git.run(&["-c", "alias.showenv=!env", "showenv"]).unwrap();
        let has = |env: &str, line: &str| env.lines().any(|l| l == line);

        // GIT_DIR from a parent git (e.g. a hook) must not redirect the runner.
        let git = f
            .git(&repo)
            .with_env("GIT_DIR", f.path("elsewhere"))
            .with_env("GIT_INDEX_FILE", f.path("elsewhere-index"));
        let env = env_of(&git);
        for line in [
            "GIT_TERMINAL_PROMPT=0",
            "GIT_ASKPASS=",
            "LC_ALL=C",
            "GIT_SSH_COMMAND=ssh -o BatchMode=yes",
        ] {
            assert!(has(&env, line), "missing {line} in\n{env}");
        }
        assert!(!env.contains("elsewhere"), "{env}");
        assert_eq!(
            fs::canonicalize(git.toplevel().unwrap()).unwrap(),
            fs::canonicalize(&repo).unwrap()
        );

        let own = f
            .git(&repo)
            .with_env("GIT_SSH_COMMAND", "ssh -i deploy_key");
        assert!(has(&env_of(&own), "GIT_SSH_COMMAND=ssh -i deploy_key"));

        f.git(&repo)
            .run(&["config", "core.sshCommand", "ssh -i other_key"])
            .unwrap();
        let configured = env_of(&f.git(&repo));
        assert!(
            !has(&configured, "GIT_SSH_COMMAND=ssh -o BatchMode=yes"),
            "{configured}"
        );
    }

    #[test]
    fn hanging_command_is_killed_at_the_timeout() {
        let f = Fixture::new();
        let repo = f.init("repo");
        let git = f.root().with_timeout(Duration::from_millis(500));
        let started = Instant::now();
        let err = git
            .run(&[
                "ls-remote",
                "--upload-pack=sleep 5; :",
                repo.to_str().unwrap(),
            ])
            .unwrap_err();
        let elapsed = started.elapsed();
        let GitError::Timeout { ref args, secs, .. } = err else {
            panic!("expected Timeout, got {err:?}");
        };
        assert_eq!(secs, 1);
        assert!(args.contains("ls-remote"), "{args}");
        assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
        assert!(err.to_string().contains("timed out"));
    }

    #[test]
    fn commits_use_the_given_author_and_committer() {
        let f = Fixture::new();
        let repo = f.init("repo");
        let git = f.git(&repo).with_author("Baton Bot", "bot@baton.example");
        fs::write(repo.join("a.tf"), "a\n").unwrap();
        git.add(&[Path::new("a.tf")]).unwrap();
        assert!(git.commit("first").unwrap().is_some());
        let who = git
            .run(&["log", "-1", "--format=%an <%ae>|%cn <%ce>|%s"])
            .unwrap();
        assert_eq!(
            who.trim(),
            "Baton Bot <bot@baton.example>|Baton Bot <bot@baton.example>|first"
        );
    }

    #[test]
    fn default_branch_asks_the_remote_without_a_local_origin_head() {
        let f = Fixture::new();
        let (origin, work) = f.origin_and_clone();
        let bare = f.git(&origin);
        bare.run(&["branch", "trunk", "main"]).unwrap();
        bare.run(&["symbolic-ref", "HEAD", "refs/heads/trunk"])
            .unwrap();
        let git = f.git(&work);
        // The clone still remembers main.
        assert_eq!(
            git.default_branch("origin").unwrap().as_deref(),
            Some("main")
        );
        git.run(&["remote", "set-head", "origin", "--delete"])
            .unwrap();
        assert_eq!(
            git.default_branch("origin").unwrap().as_deref(),
            Some("trunk")
        );
        assert!(git.default_branch("nope").is_err());
    }

    #[test]
    fn repository_queries() {
        let f = Fixture::new();
        let (origin, work) = f.origin_and_clone();
        let sub = work.join("envs").join("dev");
        fs::create_dir_all(&sub).unwrap();
        let in_sub = f.git(&sub);
        assert_eq!(
            fs::canonicalize(in_sub.toplevel().unwrap()).unwrap(),
            fs::canonicalize(&work).unwrap()
        );

        let git = f.git(&work);
        let sha = git.head_sha().unwrap();
        assert_eq!(sha.len(), 40);
        assert_eq!(sha, rev(&f.git(&origin), "refs/heads/main"));
        assert_eq!(git.current_branch().unwrap().as_deref(), Some("main"));
        git.run(&["checkout", "--quiet", "--detach"]).unwrap();
        assert_eq!(git.current_branch().unwrap(), None);

        assert_eq!(
            git.remote_url("origin").unwrap().as_deref(),
            origin.to_str()
        );
        assert_eq!(git.remote_url("nope").unwrap(), None);

        let outside = f.root();
        assert!(matches!(
            outside.current_branch(),
            Err(GitError::Failed { .. })
        ));
        assert!(outside.head_sha().is_err());
    }

    #[test]
    fn cleanliness_can_be_limited_to_paths() {
        let f = Fixture::new();
        let (_origin, work) = f.origin_and_clone();
        let git = f.git(&work);
        assert!(git.is_clean(&[]).unwrap());
        assert_eq!(git.status_porcelain().unwrap(), "");

        fs::create_dir_all(work.join("envs/prod")).unwrap();
        fs::write(work.join("envs/prod/new.tf"), "x\n").unwrap();
        fs::write(work.join("main.tf"), "changed\n").unwrap();
        assert!(!git.is_clean(&[]).unwrap());
        assert!(!git.is_clean(&[Path::new("envs/prod")]).unwrap());
        assert!(!git.is_clean(&[Path::new("main.tf")]).unwrap());
        fs::create_dir_all(work.join("envs/dev")).unwrap();
        assert!(git.is_clean(&[Path::new("envs/dev")]).unwrap());
        assert_eq!(git.status_porcelain().unwrap(), " M main.tf\n?? envs/\n");

        // Adding nothing is a no-op, and so is committing nothing.
        git.add(&[]).unwrap();
        assert_eq!(git.commit("empty").unwrap(), None);
    }

    #[test]
    fn diff_names_and_show_file_read_revisions() {
        let f = Fixture::new();
        let (_origin, work) = f.origin_and_clone();
        let git = f.git(&work);
        git.checkout_new_branch_from("baton/y", "origin/main")
            .unwrap();
        fs::create_dir_all(work.join("envs/dev")).unwrap();
        fs::write(work.join("envs/dev/my file.tf"), "module \"a\" {}\n").unwrap();
        git.run(&["mv", "main.tf", "root.tf"]).unwrap();
        git.add(&[Path::new("envs/dev/my file.tf")]).unwrap();
        git.commit("add and rename").unwrap().unwrap();

        let mut names = git.diff_names("origin/main", "HEAD").unwrap();
        names.sort();
        assert_eq!(names, ["envs/dev/my file.tf", "main.tf", "root.tf"]);
        assert!(git.diff_names("HEAD", "HEAD").unwrap().is_empty());

        assert_eq!(
            git.show_file("HEAD", Path::new("envs/dev/my file.tf"))
                .unwrap()
                .as_deref(),
            Some("module \"a\" {}\n")
        );
        assert_eq!(
            git.show_file("origin/main", Path::new("main.tf"))
                .unwrap()
                .as_deref(),
            Some("module \"vpc\" {}\n")
        );
        assert_eq!(git.show_file("HEAD", Path::new("main.tf")).unwrap(), None);
        assert_eq!(git.show_file("HEAD", Path::new("envs")).unwrap(), None);
        let err = git
            .show_file("no-such-rev", Path::new("main.tf"))
            .unwrap_err();
        assert!(matches!(err, GitError::Failed { .. }), "{err:?}");
    }

    #[test]
    fn several_lanes_give_the_objects_of_one_in_the_same_order() {
        let fx = Fixture::new();
        let repo = fx.init("repo");
        let git = fx.git(&repo);
        // More objects than two runs of each lane, some missing, some read twice.
        let mut names = Vec::new();
        for i in 0..(3 * STREAM_RUN + 5) {
            let path = format!("dev/f{i}.hcl");
            fs::create_dir_all(repo.join("dev")).unwrap();
            fs::write(repo.join(&path), format!("file {i}\n")).unwrap();
            names.push(format!("HEAD:{path}"));
            if i % 7 == 0 {
                names.push(format!("HEAD:dev/missing{i}.hcl"));
                names.push("HEAD:dev/f0.hcl".to_string());
            }
        }
        git.run(&["add", "-A"]).unwrap();
        git.run(&["commit", "--quiet", "-m", "files"]).unwrap();
        let read = |lanes: usize| {
            let mut stream = git.cat_file_lanes(names.clone(), lanes).unwrap();
            let objects: Vec<Option<GitObject>> = (0..names.len())
                .map(|_| stream.next_object().unwrap())
                .collect();
            (stream.lanes.len(), objects)
        };
        let (one_lane, one) = read(1);
        assert_eq!(one_lane, 1);
        assert_eq!(one[0].as_ref().unwrap().data, b"file 0\n");
        assert!(one[1].is_none());
        for lanes in [2, 3, 16] {
            let (used, objects) = read(lanes);
            assert_eq!(used, lanes.min(names.len().div_ceil(STREAM_RUN)));
            assert_eq!(objects, one, "{lanes} lanes");
        }
        // Dropped before the end: the processes are ended, nothing hangs.
        let mut early = git.cat_file_lanes(names.clone(), 2).unwrap();
        assert!(early.next_object().unwrap().is_some());
        drop(early);
    }

    #[test]
    fn safe_directory_is_added_once_to_the_global_config() {
        let f = Fixture::new();
        let repo = f.init("repo");
        let git = f.git(&repo);
        git.safe_directory_add(&repo).unwrap();
        git.safe_directory_add(&repo).unwrap();
        let global = fs::read_to_string(f.path("global.gitconfig")).unwrap();
        let wanted = format!("directory = {}", repo.display());
        assert_eq!(global.matches(&wanted).count(), 1, "{global}");
        let local = fs::read_to_string(repo.join(".git/config")).unwrap();
        assert!(!local.contains("safe"), "{local}");
    }

    #[test]
    fn failing_to_start_git_is_a_spawn_error() {
        let f = Fixture::new();
        let no_git = f.root().with_env("PATH", f.path("empty-path"));
        let err = no_git.run(&["--version"]).unwrap_err();
        assert!(matches!(err, GitError::Spawn(_)), "{err:?}");
        assert!(err.to_string().contains("is git installed"));

        let missing = f.git(&f.path("missing-dir")).run(&["status"]).unwrap_err();
        assert!(matches!(missing, GitError::Spawn(_)), "{missing:?}");
        assert!(missing.to_string().contains("missing-dir"), "{missing}");
    }

    #[test]
    fn transports_that_run_commands_are_refused_and_turned_off() {
        let f = Fixture::new();
        let repo = f.init("repo");
        let marker = f.path("ran");
        let git = f.git(&repo);
        for url in [
            format!("ext::sh -c touch% {}", marker.display()),
            "EXT::sh".to_string(),
            "fd::3".to_string(),
        ] {
            let err = git.ls_remote_tags(&url).unwrap_err();
            assert!(matches!(err, GitError::Refused { .. }), "{err:?}");
            assert!(err.to_string().contains("transport"), "{err}");
        }
        assert!(!marker.exists());
        // Even a caller that runs git on such a URL directly, with a configuration that
        // allows every protocol, gets nowhere.
        let permissive = f
            .git(&repo)
            .with_env("GIT_CONFIG_COUNT", "1")
            .with_env("GIT_CONFIG_KEY_0", "protocol.allow")
            .with_env("GIT_CONFIG_VALUE_0", "always");
        let url = format!("ext::sh -c touch% {}", marker.display());
        assert!(permissive.run(&["ls-remote", &url]).is_err());
        assert!(!marker.exists(), "git ran the ext:: command");
        assert_eq!(
            permissive.run(&["config", "protocol.ext.allow"]).unwrap(),
            "never\n"
        );
        assert_eq!(command_transport("https://ext::x"), None);
        assert_eq!(command_transport("git@host:ext::x"), None);
    }

    #[test]
    fn redact_replaces_longest_secrets_first_and_ignores_empty_ones() {
        assert_eq!(
            redact("token abc and abcdef here", &["abc", "abcdef", ""]),
            "token *** and *** here"
        );
        assert_eq!(redact("nothing secret", &[]), "nothing secret");
        assert_eq!(redact("aaa", &[""]), "aaa");
    }

    #[test]
    fn arguments_are_quoted_for_display() {
        let shown = display_args(&os(&["commit", "-m", "bump vpc", "", "it's"]));
        assert_eq!(shown, r"commit -m 'bump vpc' '' 'it'\''s'");
    }

    #[test]
    fn first_parent_log_lists_changed_blobs_and_cat_file_reads_them() {
        let fx = Fixture::new();
        let repo = fx.init("repo");
        let git = fx.git(&repo);
        let first = fx.commit_file(&repo, "dev/a.hcl", "one\n", "first");
        git.run(&["checkout", "-q", "-b", "topic"]).unwrap();
        fx.commit_file(
            &repo,
            "dev/a.hcl",
            "two\n",
            "change a \u{1e}\u{1f} odd\n\nBaton-Kind: update",
        );
        fx.commit_file(&repo, "b.tf", "b\n", "add b");
        git.run(&["checkout", "-q", "main"]).unwrap();
        git.run(&[
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "Merge pull request #3 from o/topic",
            "topic",
        ])
        .unwrap();
        let log = git.first_parent_log("HEAD").unwrap();
        assert_eq!(log.len(), 2, "{log:?}");
        let merge = &log[0];
        assert_eq!(merge.parents.len(), 2);
        assert_eq!(merge.parents[0], first);
        assert_eq!(
            merge.message.lines().next(),
            Some("Merge pull request #3 from o/topic")
        );
        assert_eq!(merge.author, "Fixture User");
        assert!(merge.time > 1_500_000_000);
        let paths: Vec<&str> = merge.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["b.tf", "dev/a.hcl"]);
        assert!(merge.changes[0].old.is_none());
        assert_eq!(log[1].sha, first);
        assert_eq!(log[1].changes.len(), 1);
        assert!(log[1].changes[0].old.is_none());

        let mut cat = git.cat_file().unwrap();
        let old = cat
            .read(merge.changes[1].old.as_deref().unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(
            (old.kind.as_str(), old.data.as_slice()),
            ("blob", &b"one\n"[..])
        );
        let new = cat.read("HEAD:dev/a.hcl").unwrap().unwrap();
        assert_eq!(new.data, b"two\n");
        assert_eq!(new.oid, merge.changes[1].new.clone().unwrap());
        assert!(cat.read("HEAD:nothing/here.tf").unwrap().is_none());
        assert!(cat.read("bad\nname").unwrap().is_none());
        let branch_tip = cat.read(&merge.parents[1]).unwrap().unwrap();
        assert_eq!(branch_tip.kind, "commit");
        assert!(String::from_utf8_lossy(&branch_tip.data).contains("add b"));

        let mut stream = git
            .cat_file_stream(vec![
                "HEAD:dev/a.hcl".into(),
                "no\nsuch".into(),
                "HEAD:b.tf".into(),
            ])
            .unwrap();
        assert_eq!(stream.next_object().unwrap().unwrap().data, b"two\n");
        assert!(stream.next_object().unwrap().is_none());
        assert_eq!(stream.next_object().unwrap().unwrap().data, b"b\n");

        let tree = git.ls_tree("HEAD").unwrap();
        let names: Vec<&str> = tree.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["b.tf", "dev/a.hcl"]);
        assert!(!git.is_shallow().unwrap());
        assert_eq!(fx.git(&repo.join("dev")).show_prefix().unwrap(), "dev/");
    }
}
