//! Command-line interface: flags (each also readable from the environment), logging, and the
//! mapping of outcomes to exit codes. Each subcommand's flags become a request for the library.

use super::commands;
use super::console::Console;
use crate::clients::Settings;
use crate::exit::{self, InvalidInput};
use crate::find::env::{DirFilter, GlobError};
use crate::find::scan::{ScanError, ScanRequest};
use crate::output::Format;
use crate::spec::Strategy;
use clap::{Args, Parser, Subcommand};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Roll Terraform, OpenTofu and Terragrunt module upgrades through dev, stage and prod.
#[derive(Debug, Parser)]
#[command(
    name = "baton",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
    /// How much to log on stderr.
    #[command(flatten)]
    pub verbosity: Verbosity,
}

/// How much to log on stderr (results go to stdout whatever the level).
#[derive(Debug, Clone, Copy, Default, Args)]
pub struct Verbosity {
    /// Log warnings and errors only: no progress or info lines.
    #[arg(
        short,
        long,
        global = true,
        env = "BATON_QUIET",
        conflicts_with = "verbose"
    )]
    pub quiet: bool,
    /// Log more: `-v` debug, `-vv` trace (HTTP requests, git commands).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

impl Verbosity {
    /// The log level these flags ask for; `None` leaves it to `BATON_LOG` (default info).
    pub fn level(&self) -> Option<&'static str> {
        match (self.quiet, self.verbose) {
            (true, _) => Some("warn"),
            (false, 0) => None,
            (false, 1) => Some("debug"),
            (false, _) => Some("trace"),
        }
    }
}

/// Baton's subcommands.
// Parsed once per run: the size of the largest variant's flags costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run as the GitHub Action's entrypoint: read the step's `INPUT_*` variables, run the
    /// command named by `patcher_command`, write step outputs and the job summary.
    Action,
    /// Run the whole dev → stage → prod chain in a local sandbox (no token, no network).
    Demo(DemoArgs),
    /// Find the versioned module sources in one environment's folders.
    Scan(ScanArgs),
    /// List the available updates of one environment as a Patcher-compatible JSON spec.
    Report(ReportArgs),
    /// Update one environment's usages to their targets; with --publish, push a branch and open
    /// or reuse its pull request.
    Update(UpdateArgs),
    /// On a merged update pull request, send `repository_dispatch` so the next environment opens
    /// the same update at exactly the version that landed.
    Promote(PromoteArgs),
    /// Show each dependency's versions across the environments, and the promotions pending.
    Status(StatusArgs),
    /// List what changed each dependency's version in each environment, and when, from the
    /// first-parent git history of the checked-out branch.
    History(HistoryArgs),
    /// Write `.github/baton.toml` for the environment folders found (`dev`, `*-stage-*`,
    /// `prod`) and the workflows generated from it; `--check` fails when they disagree.
    Init(InitArgs),
}

/// Flags of `baton init`.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// The repository's root.
    #[arg(
        long,
        env = "BATON_WORKING_DIR",
        default_value = ".",
        value_name = "DIR"
    )]
    pub working_dir: PathBuf,
    /// Write nothing; exit 1 when a workflow is missing or differs from what the config
    /// generates (for CI).
    #[arg(long, env = "BATON_INIT_CHECK")]
    pub check: bool,
    /// Overwrite workflows that differ from what the config generates.
    #[arg(long, env = "BATON_INIT_FORCE")]
    pub force: bool,
    /// Write nothing; say what would be written.
    #[arg(long, env = "BATON_DRY_RUN")]
    pub dry_run: bool,
    /// The action the workflows use, `owner/repo@ref`; a commit SHA is pinned with the version
    /// in a comment [default: baton-dev/baton@v<this version>].
    #[arg(long, env = "BATON_INIT_ACTION", value_name = "OWNER/REPO@REF")]
    pub action: Option<String>,
    /// Output format.
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// Flags of `baton demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Build the sandbox in this directory and keep it (default: a temporary directory, removed
    /// at the end).
    #[arg(long, env = "BATON_DEMO_DIR", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Which folders form the environment.
#[derive(Debug, Clone, Args)]
pub struct EnvArgs {
    /// Directory to work in; paths in results are relative to it.
    #[arg(
        long,
        env = "BATON_WORKING_DIR",
        default_value = ".",
        value_name = "DIR"
    )]
    pub working_dir: PathBuf,
    /// The environment's folders, as doublestar globs relative to the working directory
    /// (`{*dev*}/**`). Repeat the flag or separate globs with commas outside braces. None: all.
    #[arg(long, env = "BATON_INCLUDE_DIRS", value_name = "GLOB")]
    pub include_dirs: Vec<String>,
    /// Folders to leave out, as doublestar globs (`**/{*alb*}/**`).
    #[arg(long, env = "BATON_EXCLUDE_DIRS", value_name = "GLOB")]
    pub exclude_dirs: Vec<String>,
    /// The environment of the config file to work on (`dev`): its folders, branches, labels,
    /// event and defaults, wherever a flag does not set them.
    #[arg(id = "env_name", long = "env", env = "BATON_ENV", value_name = "NAME")]
    pub environment: Option<String>,
    /// The config file naming the environments [default: .github/baton.toml or baton.toml in
    /// the working directory].
    #[arg(long, env = "BATON_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl EnvArgs {
    /// The scan request these flags describe.
    pub fn scan_request(&self) -> Result<ScanRequest, GlobError> {
        Ok(ScanRequest {
            working_dir: self.working_dir.clone(),
            dirs: DirFilter::new(&self.include_dirs, &self.exclude_dirs)?,
        })
    }
}

/// Flags of `baton scan`.
#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// The environment.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Output format.
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// How to reach GitHub.
#[derive(Debug, Clone, Args)]
pub struct GitHubArgs {
    /// GitHub API URL; GitHub Enterprise Server uses `https://HOST/api/v3`.
    #[arg(long, env = "GITHUB_API_URL", value_name = "URL")]
    pub github_api_url: Option<String>,
    /// Token for the GitHub API. Prefer the environment (`GITHUB_TOKEN`, or `PATCHER_READ_TOKEN`):
    /// a flag is visible to other processes. Public modules need no token.
    #[arg(
        long,
        env = "GITHUB_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub github_token: Option<String>,
    /// Keep GitHub's answers in this directory between runs: the next run asks conditionally
    /// (`304 Not Modified` does not count against the rate limit), and tarballs, comparisons and
    /// commits of tags are not asked again. Empty: no cache.
    #[arg(long, env = "BATON_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// With --cache-dir: use a kept answer younger than this without asking GitHub at all
    /// (`1h`); `0`, the default, always asks. A release published within that time is seen only
    /// by the next run.
    #[arg(long, env = "BATON_CACHE_MAX_AGE", value_name = "DURATION", value_parser = crate::clock::parse_duration)]
    pub cache_max_age: Option<std::time::Duration>,
    /// Below this many remaining GitHub API requests, optional work (the breaking-change
    /// impact) is not started, so that updates and promotions still have a budget.
    #[arg(long, env = "BATON_API_FLOOR", value_name = "REQUESTS", default_value_t = crate::clients::github::DEFAULT_FLOOR)]
    pub api_floor: u64,
    /// The largest GitHub API answer read (`16MiB`, `64 MiB`); a larger one fails that request,
    /// saying so, and the run goes on.
    #[arg(long, env = "BATON_MAX_RESPONSE_SIZE", value_name = "SIZE", value_parser = parse_size, default_value = "16MiB")]
    pub max_response_size: u64,
    /// The largest module tarball read for the breaking-change impact (`256MiB`, `1GiB`),
    /// streamed through the unpacker; a larger one makes that impact unknown, saying so.
    #[arg(long, env = "BATON_MAX_TARBALL_SIZE", value_name = "SIZE", value_parser = parse_size, default_value = "256MiB")]
    pub max_tarball_size: u64,
}

/// A size as people write it: `16MiB`, `256 MiB`, `1GiB`, `500kB`, or bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    t.parse::<bytesize::ByteSize>()
        .map(|b| b.as_u64())
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            format!("{text:?} is not a size: write a number and a unit, e.g. 16MiB, 256MiB, 1GiB")
        })
}

impl GitHubArgs {
    /// The token: the flag or `GITHUB_TOKEN`, else `PATCHER_EXECUTE_TOKEN`, else
    /// `PATCHER_READ_TOKEN`.
    pub fn token(&self) -> Option<String> {
        self.github_token
            .clone()
            .into_iter()
            .chain(
                ["PATCHER_EXECUTE_TOKEN", "PATCHER_READ_TOKEN"]
                    .iter()
                    .filter_map(|v| std::env::var(v).ok()),
            )
            .find(|t| !t.trim().is_empty())
    }

    /// The clients' settings: these flags, with the timeout and longest wait of
    /// `BATON_HTTP_TIMEOUT_SECS` and `BATON_MAX_WAIT_SECS` and the repository of
    /// `GITHUB_REPOSITORY` when they are set.
    pub fn settings(&self) -> Result<Settings, InvalidInput> {
        Ok(Settings {
            api_url: self.github_api_url.clone(),
            token: self.token(),
            timeout: http_timeout()?,
            max_wait: seconds_from_env(MAX_WAIT_ENV, true)?,
            repository: std::env::var("GITHUB_REPOSITORY")
                .ok()
                .filter(|r| !r.trim().is_empty()),
            skip_impact: impact_off()?,
            cache_dir: self.cache_dir.clone().filter(|d| !d.as_os_str().is_empty()),
            cache_max_age: self.cache_max_age.unwrap_or_default(),
            api_floor: Some(self.api_floor),
            limits: crate::clients::github::Limits {
                response: self.max_response_size,
                tarball: self.max_tarball_size,
            },
        })
    }
}

/// `off` skips the breaking-change impact of `report` (`on`, the default, works it out).
pub const IMPACT_ENV: &str = "BATON_IMPACT";

/// Whether [`IMPACT_ENV`] turns the impact off.
pub fn impact_off() -> Result<bool, InvalidInput> {
    match std::env::var(IMPACT_ENV).ok().as_deref().map(str::trim) {
        None | Some("") | Some("on") => Ok(false),
        Some("off") => Ok(true),
        Some(other) => Err(InvalidInput(format!(
            "{IMPACT_ENV}={other:?} is neither on nor off"
        ))),
    }
}

/// Per-request timeout for the GitHub API and module registries, in seconds (default 30).
pub const HTTP_TIMEOUT_ENV: &str = "BATON_HTTP_TIMEOUT_SECS";

/// The longest single wait for `Retry-After` or a rate-limit reset, in seconds (default 60); a
/// longer one fails the request with a message saying when the limit resets.
pub const MAX_WAIT_ENV: &str = "BATON_MAX_WAIT_SECS";

/// The request timeout set by [`HTTP_TIMEOUT_ENV`], if any.
pub fn http_timeout() -> Result<Option<Duration>, InvalidInput> {
    seconds_from_env(HTTP_TIMEOUT_ENV, false)
}

/// A number of seconds (fractions allowed) from an environment variable; unset or empty is
/// `None`. Zero is accepted only when `zero_ok`; anything else that is not a finite number of
/// seconds up to a day is invalid input.
pub fn seconds_from_env(var: &str, zero_ok: bool) -> Result<Option<Duration>, InvalidInput> {
    let Some(raw) = std::env::var_os(var) else {
        return Ok(None);
    };
    let text = raw.to_string_lossy();
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(secs)
            if secs.is_finite() && secs <= 86_400.0 && (secs > 0.0 || (zero_ok && secs == 0.0)) =>
        {
            Ok(Some(Duration::from_secs_f64(secs)))
        }
        _ => Err(InvalidInput(format!(
            "{var}={text:?} is not a number of seconds ({}up to 86400)",
            if zero_ok { "0 " } else { "more than 0, " }
        ))),
    }
}

/// Flags of `baton report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The environment.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Report only this dependency ID (`org/repo/module`).
    #[arg(long, env = "BATON_DEPENDENCY", value_name = "ID")]
    pub dependency: Option<String>,
    /// Which dependencies to list: `next-safe` lists those with a non-breaking update,
    /// `next-breaking` also those whose only update is breaking [default: the environment's
    /// `update_strategy`, else next-breaking].
    #[arg(long, env = "BATON_UPDATE_STRATEGY", value_enum)]
    pub update_strategy: Option<Strategy>,
    /// Also write the JSON spec to this file.
    #[arg(long, env = "BATON_SPEC_FILE", value_name = "FILE")]
    pub spec_file: Option<PathBuf>,
    /// Promote what landed: target, for each dependency, exactly the version that the previous
    /// environment's folders (these globs) use on the checked-out commit, not the newest release.
    #[arg(long, env = "BATON_PROMOTE_FROM", value_name = "GLOB")]
    pub promote_from: Vec<String>,
    /// Output format on stdout (the spec file is always JSON).
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Exit with code 1 when the versions of any dependency could not be looked up (when none
    /// could, the exit code is 3 anyway).
    #[arg(long, env = "BATON_FAIL_ON_UNREACHABLE")]
    pub fail_on_unreachable: bool,
    /// With --promote-from: propose a version only once the previous environment has run it,
    /// in all its usages, for this long on this branch (`36h`, `2d`); until then it is listed
    /// under `Gated` with the time it becomes ready. Read from the git history.
    #[arg(long, env = "BATON_MIN_SOAK", value_name = "DURATION", value_parser = crate::clock::parse_duration)]
    pub min_soak: Option<std::time::Duration>,
    /// Without --promote-from: releases younger than this (`7d`) are not targets.
    #[arg(long, env = "BATON_MIN_RELEASE_AGE", value_name = "DURATION", value_parser = crate::clock::parse_duration)]
    pub min_release_age: Option<std::time::Duration>,
    /// GitHub access.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// Flags of `baton status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Directory to work in; globs are relative to it.
    #[arg(
        long,
        env = "BATON_WORKING_DIR",
        default_value = ".",
        value_name = "DIR"
    )]
    pub working_dir: PathBuf,
    /// An environment: `NAME` of the config file, or `NAME=GLOB[,GLOB…]` (`dev='{*dev*}/**'`;
    /// commas inside braces belong to the glob). Repeat in promotion order: dev, then stage, then
    /// prod. None: every environment of the config file.
    #[arg(
        long = "env",
        env = "BATON_ENVS",
        value_name = "NAME[=GLOB]",
        value_delimiter = ';',
        value_parser = super::config::parse_status_env
    )]
    pub envs: Vec<crate::promote::status::EnvSpec>,
    /// Folders to leave out of every environment, as doublestar globs (`**/{*alb*}/**`).
    #[arg(long, env = "BATON_EXCLUDE_DIRS", value_name = "GLOB")]
    pub exclude_dirs: Vec<String>,
    /// The config file naming the environments [default: .github/baton.toml or baton.toml in
    /// the working directory].
    #[arg(long, env = "BATON_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Exit with code 1 when an environment uses an older version than the one before it.
    #[arg(long, env = "BATON_FAIL_ON_DRIFT")]
    pub fail_on_drift: bool,
    /// Only this dependency ID. (A bare `--env NAME` shows only that environment.)
    #[arg(long, env = "BATON_DEPENDENCY", value_name = "ID")]
    pub dependency: Option<String>,
    /// Also show how long each cell has held its versions, read from the git history (check
    /// out with `fetch-depth: 0` in CI).
    #[arg(long, env = "BATON_AGES")]
    pub ages: bool,
    /// Mark the pending promotions that wait for this soak time in the environment before
    /// (`36h`, `2d`), as `report --min-soak` would hold them; implies --ages.
    #[arg(long, env = "BATON_MIN_SOAK", value_name = "DURATION", value_parser = crate::clock::parse_duration)]
    pub min_soak: Option<std::time::Duration>,
}

/// Flags of `baton update`.
#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    /// The environment.
    #[command(flatten)]
    pub env: EnvArgs,
    /// A spec written by `baton report` (or Patcher) to take targets from.
    #[arg(
        long,
        env = "BATON_SPEC_FILE",
        value_name = "FILE",
        conflicts_with = "spec"
    )]
    pub spec_file: Option<PathBuf>,
    /// The spec as JSON text, instead of a file.
    #[arg(long, env = "BATON_SPEC", value_name = "JSON")]
    pub spec: Option<String>,
    /// Update only this dependency ID; it must be in the spec when one is given.
    #[arg(long, env = "BATON_DEPENDENCY", value_name = "ID")]
    pub dependency: Option<String>,
    /// `next-safe` moves to the highest non-breaking version; `next-breaking` up to the next
    /// breaking one (falling back to the safe target when there is none) [default: the
    /// environment's `update_strategy`, else next-breaking].
    #[arg(long, env = "BATON_UPDATE_STRATEGY", value_enum)]
    pub update_strategy: Option<Strategy>,
    /// Promote what landed: target, for each dependency, exactly the version that the previous
    /// environment's folders (these globs) use on the checked-out commit, not the newest release.
    #[arg(long, env = "BATON_PROMOTE_FROM", value_name = "GLOB")]
    pub promote_from: Vec<String>,
    /// Write nothing; print the changes as a unified diff.
    #[arg(long, env = "BATON_DRY_RUN")]
    pub dry_run: bool,
    /// Commit the edits on --pull-request-branch, force-push it and open or update its pull
    /// request.
    #[arg(long, env = "BATON_PUBLISH")]
    pub publish: bool,
    /// The branch to push (by convention `<prefix><dependency ID>`).
    #[arg(long, env = "BATON_PULL_REQUEST_BRANCH", value_name = "BRANCH")]
    pub pull_request_branch: Option<String>,
    /// The pull request title.
    #[arg(long, env = "BATON_PULL_REQUEST_TITLE", value_name = "TITLE")]
    pub pull_request_title: Option<String>,
    /// Labels to add to the pull request (comma-separated), e.g. `updates-dev`.
    #[arg(
        long,
        env = "BATON_PULL_REQUEST_LABELS",
        value_name = "LABELS",
        value_delimiter = ','
    )]
    pub pull_request_labels: Vec<String>,
    /// Reviewers to request (comma-separated users, or `org/team`).
    #[arg(
        long,
        env = "BATON_PULL_REQUEST_REVIEWERS",
        value_name = "USERS",
        value_delimiter = ','
    )]
    pub pull_request_reviewers: Vec<String>,
    /// Open the pull request as a draft.
    #[arg(long, env = "BATON_DRAFT")]
    pub draft: bool,
    /// Commit author, `Name <email>` (default: the GitHub Actions bot).
    #[arg(long, env = "BATON_COMMIT_AUTHOR", value_name = "AUTHOR")]
    pub commit_author: Option<String>,
    /// Commit message subject (default: `Update <dependency> to <version>`).
    #[arg(long, env = "BATON_COMMIT_MESSAGE", value_name = "MESSAGE")]
    pub commit_message: Option<String>,
    /// Output format: `json` (with the diff of a dry run in it), `text` (the diff of a dry run, or
    /// the changes made) or `markdown`.
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Force-push the branch even when it holds commits Baton did not make (a reviewer's edit)
    /// or was not made by Baton. Without it, such a branch and its pull request are left alone.
    #[arg(long, env = "BATON_FORCE_PUSH_OVER_EDITS")]
    pub force_push_over_edits: bool,
    /// The environment that gets this update once it merges (`stage` for dev): the pull request
    /// says so. Unset (the last environment): it announces no next one.
    #[arg(long, env = "BATON_NEXT_ENVIRONMENT", value_name = "NAME")]
    pub next_environment: Option<String>,
    /// When the update crosses a breaking release, write the manual steps left to do (Patcher's
    /// README-TO-COMPLETE-UPDATE.md) to this file. Not written with --dry-run.
    #[arg(long, env = "BATON_BREAKING_NOTES_FILE", value_name = "FILE")]
    pub breaking_notes_file: Option<PathBuf>,
    /// Move --dependency to exactly this published version, lower than the current one if need
    /// be (a rollback: the only way Baton moves a version down). Takes no spec.
    #[arg(long, env = "BATON_TO_VERSION", value_name = "VERSION")]
    pub to_version: Option<String>,
    /// As for `report`, when no spec is given.
    #[arg(long, env = "BATON_MIN_SOAK", value_name = "DURATION", value_parser = crate::clock::parse_duration)]
    pub min_soak: Option<std::time::Duration>,
    /// As for `report`, when no spec is given.
    #[arg(long, env = "BATON_MIN_RELEASE_AGE", value_name = "DURATION", value_parser = crate::clock::parse_duration)]
    pub min_release_age: Option<std::time::Duration>,
    /// GitHub access.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// Flags of `baton promote`.
#[derive(Debug, Clone, Args)]
pub struct PromoteArgs {
    /// This environment's folders, where the version that landed is read.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Update branches start with this; the rest of the branch name is the dependency ID.
    #[arg(long, env = "BATON_PULL_REQUEST_BRANCH_PREFIX", value_name = "PREFIX")]
    pub pull_request_branch_prefix: Option<String>,
    /// This environment's name: pull requests labelled `updates-<name>` are promoted too, and the
    /// name travels in the payload.
    #[arg(long, env = "BATON_ENVIRONMENT", value_name = "NAME")]
    pub environment: Option<String>,
    /// The `repository_dispatch` event type to send (default `<environment>_updates_merged`).
    #[arg(long, env = "BATON_DISPATCH_EVENT", value_name = "TYPE")]
    pub dispatch_event: Option<String>,
    /// The event payload to read (the runner sets `GITHUB_EVENT_PATH`).
    #[arg(long, env = "GITHUB_EVENT_PATH", value_name = "FILE")]
    pub event_path: Option<PathBuf>,
    /// Decide and say what would be dispatched; send nothing.
    #[arg(long, env = "BATON_DRY_RUN")]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Dispatch only when every check of the merged pull request's head commit succeeded
    /// (check runs: success, neutral or skipped; and a successful combined status).
    #[arg(long, env = "BATON_REQUIRE_CHECKS")]
    pub require_checks: bool,
    /// Only these checks (check-run names or status contexts, comma-separated) must have
    /// succeeded; implies --require-checks.
    #[arg(
        long,
        env = "BATON_REQUIRED_CHECKS",
        value_name = "NAMES",
        value_delimiter = ','
    )]
    pub required_checks: Vec<String>,
    /// Dispatch only when the merged pull request has at least this many approving reviews.
    #[arg(
        long,
        env = "BATON_REQUIRE_APPROVALS",
        value_name = "N",
        default_value_t = 0
    )]
    pub require_approvals: u32,
    /// GitHub access.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// Flags of `baton history`.
#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// Directory to work in, inside a git repository; globs are relative to it.
    #[arg(
        long,
        env = "BATON_WORKING_DIR",
        default_value = ".",
        value_name = "DIR"
    )]
    pub working_dir: PathBuf,
    /// An environment as `NAME=GLOB[,GLOB…]`, as for `status`; repeat in promotion order. A bare
    /// `NAME` picks one environment of the config file. None: the config file's environments.
    #[arg(
        long = "env",
        env = "BATON_ENVS",
        value_name = "NAME[=GLOB]",
        value_delimiter = ';',
        value_parser = super::config::parse_status_env
    )]
    pub envs: Vec<crate::promote::status::EnvSpec>,
    /// One environment's folders instead of `--env`, as doublestar globs (`{*dev*}/**`).
    #[arg(
        long,
        env = "BATON_INCLUDE_DIRS",
        value_name = "GLOB",
        conflicts_with = "envs"
    )]
    pub include_dirs: Vec<String>,
    /// Folders to leave out of every environment, as doublestar globs.
    #[arg(long, env = "BATON_EXCLUDE_DIRS", value_name = "GLOB")]
    pub exclude_dirs: Vec<String>,
    /// The config file naming the environments [default: baton.toml in the working directory].
    #[arg(long, env = "BATON_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only this dependency ID.
    #[arg(long, env = "BATON_DEPENDENCY", value_name = "ID")]
    pub dependency: Option<String>,
    /// The most changes listed per environment, newest first (0: all).
    #[arg(long, env = "BATON_HISTORY_LIMIT", value_name = "N", default_value_t = crate::promote::history::DEFAULT_LIMIT)]
    pub limit: usize,
    /// Only changes committed at or after this date or time (`2026-12-01`,
    /// `2026-12-01T10:00:00Z`).
    #[arg(long, env = "BATON_SINCE", value_name = "DATE", value_parser = crate::clock::parse_instant)]
    pub since: Option<crate::clock::Timestamp>,
    /// Output format.
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// The exit code for an error: 2 for invalid input anywhere in its chain, else 3.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    let invalid = err.chain().any(|cause| {
        cause.is::<InvalidInput>() || cause.is::<GlobError>() || cause.is::<ScanError>()
    });
    if invalid {
        exit::INVALID_INPUT
    } else {
        exit::FAILURE
    }
}

/// Runs the command line and returns the process exit code.
pub fn main() -> ExitCode {
    // One TLS crypto provider for every client (ring: no second C crypto library).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    init_logging(cli.verbosity.level());
    let result = match &cli.command {
        Command::Action => super::action::run(),
        Command::Demo(args) => commands::demo::run(args),
        Command::Scan(args) => commands::scan::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Update(args) => commands::update::run(args),
        Command::Promote(args) => commands::promote::run(args),
        Command::Status(args) => commands::status::run(args),
        Command::Init(args) => commands::init::run(args),
        Command::History(args) => commands::history::run(args),
    };
    report_api_usage();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let code = exit_code_for(&err);
            let _ = std::io::stdout().flush();
            let line = Console::detect().error(&format!("{err:#}"));
            let _ = std::io::stderr().write_all(line.as_bytes());
            ExitCode::from(code)
        }
    }
}

/// What the GitHub API cost the command, at its end (`-v`); a warning when optional work was held
/// back for want of budget.
fn report_api_usage() {
    let usage = crate::clients::github::usage();
    let Some(line) = usage.line() else {
        return;
    };
    if usage.held_back.is_empty() {
        log::debug!("{line}");
    } else {
        use crate::diag::Reporter as _;
        commands::Annotate.warn(crate::diag::Warning::general(line));
    }
}

/// Logs go to stderr (stdout carries results only), each record through the [`Console`], since
/// records quote file names, versions and the messages of servers. `--quiet`/`--verbose`, else
/// `BATON_LOG` or `RUST_LOG`, set the level.
fn init_logging(level: Option<&str>) {
    let env = env_logger::Env::new()
        .filter_or("BATON_LOG", "info")
        .write_style("BATON_LOG_STYLE");
    let env = match std::env::var("RUST_LOG") {
        Ok(v) if std::env::var_os("BATON_LOG").is_none() => env.default_filter_or(v),
        _ => env,
    };
    let mut builder = env_logger::Builder::from_env(env);
    if let Some(level) = level {
        builder.parse_filters(level);
    }
    let console = Console::detect();
    let _ = builder
        .format(move |buf, record| {
            let level = record.level();
            let style = buf.default_level_style(level);
            let prefix = format!("[{style}{level:<5}{style:#}] ");
            let text = console.message(&prefix, &record.args().to_string());
            buf.write_all(text.as_bytes())
        })
        .target(env_logger::Target::Stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory as _;

    #[test]
    fn every_flag_reads_an_environment_variable_shown_in_help() {
        // `-v` counts repetitions and `--event-path`'s variable is the runner's; help and version
        // are clap's own.
        let exempt = ["help", "version", "verbose"];
        let mut missing = Vec::new();
        let cli = Cli::command();
        for sub in cli.get_subcommands() {
            for arg in sub.get_arguments() {
                let id = arg.get_id().as_str();
                if exempt.contains(&id) || arg.is_positional() {
                    continue;
                }
                if arg.get_env().is_none() || arg.is_hide_env_set() {
                    missing.push(format!("{} --{id}", sub.get_name()));
                }
            }
        }
        assert!(missing.is_empty(), "flags without a variable: {missing:?}");
    }

    #[test]
    fn every_command_but_action_and_demo_takes_format_with_one_default() {
        let cli = Cli::command();
        for sub in cli.get_subcommands() {
            if matches!(sub.get_name(), "action" | "demo") {
                continue;
            }
            let format = sub
                .get_arguments()
                .find(|a| a.get_id() == "format")
                .unwrap_or_else(|| panic!("{} has --format", sub.get_name()));
            let defaults: Vec<_> = format.get_default_values().iter().collect();
            assert_eq!(defaults, ["json"], "{}", sub.get_name());
        }
    }

    #[test]
    fn sizes_parse_with_their_units() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size(" 256 MiB "), Ok(256 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1000"), Ok(1000));
        for bad in ["", "0", "lots", "-1", "12 parsecs"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quiet_and_verbose_set_the_level() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).map(|c| c.verbosity.level());
        assert_eq!(parse(&["baton", "scan"]).unwrap(), None);
        assert_eq!(parse(&["baton", "scan", "-q"]).unwrap(), Some("warn"));
        assert_eq!(parse(&["baton", "-v", "scan"]).unwrap(), Some("debug"));
        assert_eq!(parse(&["baton", "scan", "-vv"]).unwrap(), Some("trace"));
        assert!(parse(&["baton", "scan", "-q", "-v"]).is_err());
    }
}
