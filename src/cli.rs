//! Command-line interface: flags (each also readable from the environment), logging, and the
//! mapping of outcomes to exit codes. Each subcommand's flags become a request for the library.

use crate::env::{DirFilter, GlobError};
use crate::exit;
use crate::github::{GitHub, GitHubConfig, GitHubError};
use crate::output::{self, Format};
use crate::scan::{ScanError, ScanRequest};
use crate::spec::Strategy;
use clap::{Args, Parser, Subcommand};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

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
}

/// Baton's subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find the versioned module sources in one environment's folders.
    Scan(ScanArgs),
    /// List the available updates of one environment as a Patcher-compatible JSON spec.
    Report(ReportArgs),
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
}

impl GitHubArgs {
    /// The token: the flag or `GITHUB_TOKEN`, else `PATCHER_READ_TOKEN`.
    pub fn token(&self) -> Option<String> {
        self.github_token
            .clone()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| std::env::var("PATCHER_READ_TOKEN").ok())
            .filter(|t| !t.trim().is_empty())
    }

    /// A GitHub client for these settings.
    pub fn client(&self) -> Result<GitHub, GitHubError> {
        GitHub::new(GitHubConfig {
            api_url: self.github_api_url.clone(),
            token: self.token(),
            ..GitHubConfig::default()
        })
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
    /// `next-breaking` also those whose only update is breaking.
    #[arg(long, env = "BATON_UPDATE_STRATEGY", value_enum, default_value_t = Strategy::NextBreaking)]
    pub update_strategy: Strategy,
    /// Also write the JSON spec to this file.
    #[arg(long, env = "BATON_SPEC_FILE", value_name = "FILE")]
    pub spec_file: Option<PathBuf>,
    /// Output format on stdout (the spec file is always JSON).
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// GitHub access.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// The input was invalid: exit code 2, nothing changed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);

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
    init_logging();
    // One TLS crypto provider for every client (ring: no second C crypto library).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Scan(args) => crate::commands::scan::run(args),
        Command::Report(args) => crate::commands::report::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            let code = exit_code_for(&err);
            let _ = std::io::stdout().flush();
            if output::under_actions() {
                eprintln!("::error::{}", output::escape_data(&format!("{err:#}")));
            } else {
                eprintln!("error: {err:#}");
            }
            ExitCode::from(code)
        }
    }
}

/// Logs go to stderr (stdout carries results only). `BATON_LOG` or `RUST_LOG` set the level.
fn init_logging() {
    let env = env_logger::Env::new()
        .filter_or("BATON_LOG", "info")
        .write_style("BATON_LOG_STYLE");
    let env = match std::env::var("RUST_LOG") {
        Ok(v) if std::env::var_os("BATON_LOG").is_none() => env.default_filter_or(v),
        _ => env,
    };
    let _ = env_logger::Builder::from_env(env)
        .format_timestamp(None)
        .format_target(false)
        .target(env_logger::Target::Stderr)
        .try_init();
}
