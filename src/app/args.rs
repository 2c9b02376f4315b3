//! Flags more than one command reads: which folders form the environment ([`EnvArgs`]) and how
//! to reach GitHub ([`GitHubArgs`]), with the settings read from the environment beside them.
//! Each command's own flags live in its file under [`super::commands`].

use crate::app::config::{CONFIG_FILES, Config, Resolved};
use crate::clients::Settings;
use crate::exit::InvalidInput;
use crate::find::env::{DirFilter, GlobError};
use crate::find::scan::ScanRequest;
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;

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

    /// Resolves these flags: with `--env NAME`, the environment is read from the config file and
    /// fills in what the flags leave unset; without it, the flags alone.
    pub fn resolve(&self) -> anyhow::Result<Resolved> {
        let name = self
            .environment
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let Some(name) = name else {
            return Ok(Resolved {
                scan: self.scan_request()?,
                config: None,
                environment: None,
            });
        };
        let config = Config::find(&self.working_dir, self.config.as_deref())?.ok_or_else(|| {
            InvalidInput(format!(
                "--env {name} needs a config file: the working directory {} has no {}; run `baton init` or pass --config FILE",
                self.working_dir.display(),
                CONFIG_FILES.join(" or ")
            ))
        })?;
        let env = config.environment(name)?.clone();
        let include = if self.include_dirs.is_empty() {
            env.include.clone()
        } else {
            self.include_dirs.clone()
        };
        let exclude = if self.exclude_dirs.is_empty() {
            env.exclude.clone()
        } else {
            self.exclude_dirs.clone()
        };
        let scan = ScanRequest {
            working_dir: self.working_dir.clone(),
            dirs: DirFilter::new(&include, &exclude)?,
        };
        Ok(Resolved {
            scan,
            config: Some(config),
            environment: Some(env),
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
