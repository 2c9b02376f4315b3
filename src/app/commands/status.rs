//! `baton status`: the versions of every dependency across the environments, and whether a
//! promotion is pending.

use super::Annotate;
use crate::app::console::Console;
use crate::exit;
use crate::output::Format;
use crate::promote::status::{self, StatusRequest};
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

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
        value_parser = crate::app::config::parse_status_env
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
    /// Fleet status: many repositories read through the GitHub API (`--repos`, `--org`).
    #[command(flatten)]
    pub fleet: crate::app::fleet::FleetArgs,
}

/// The config file looked for in the working directory when no `--env` is given.
pub const CONFIG_FILE: &str = "baton.toml";

/// The request `baton status`'s flags describe.
pub fn request(args: &StatusArgs) -> anyhow::Result<StatusRequest> {
    let (environments, picked) =
        super::environments(&args.envs, args.config.as_deref(), &args.working_dir)?;
    Ok(StatusRequest {
        working_dir: args.working_dir.clone(),
        environments,
        exclude_dirs: args.exclude_dirs.clone(),
        view: crate::promote::status::StatusView {
            dependency: args.dependency.clone().filter(|d| !d.is_empty()),
            environments: picked,
            ages: args.ages,
            min_soak: args.min_soak,
            now: Some(super::now()?),
        },
        cache_dir: args
            .fleet
            .github
            .cache_dir
            .clone()
            .filter(|d| !d.as_os_str().is_empty()),
    })
}

/// What fleet status takes from these flags; the flags it cannot honour are refused.
pub fn fleet_common(
    args: &StatusArgs,
) -> Result<crate::app::fleet::Common, crate::exit::InvalidInput> {
    let refused = [
        (!args.envs.is_empty(), "--env"),
        (args.config.is_some(), "--config"),
        (args.ages, "--ages"),
        (args.min_soak.is_some(), "--min-soak"),
    ];
    if let Some((_, flag)) = refused.iter().find(|(on, _)| *on) {
        return Err(crate::exit::InvalidInput(format!(
            "{flag} does not apply to fleet status: each repository's environments come from its own .github/baton.toml (or its folder names), and soak times from its gates"
        )));
    }
    Ok(crate::app::fleet::Common {
        format: args.format,
        fail_on_drift: args.fail_on_drift,
        exclude_dirs: args.exclude_dirs.clone(),
        dependency: args.dependency.clone(),
    })
}

/// Runs `baton status`.
pub fn run(args: &StatusArgs) -> anyhow::Result<u8> {
    if args.fleet.active() || args.fleet.shard_size.is_some() {
        return crate::app::fleet::run(&args.fleet, &fleet_common(args)?);
    }
    let matrix = status::run(&request(args)?, &Annotate)?;
    render(
        &matrix,
        args.format,
        Console::for_stdout(),
        &mut std::io::stdout().lock(),
    )?;
    if Console::detect().under_actions() {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            // The results are already out: a summary that cannot be written is worth a warning only.
            if let Err(e) = append(Path::new(&path), &matrix.to_markdown()) {
                log::warn!("cannot write the step summary {}: {e}", path.display());
            }
        }
    }
    if args.fail_on_drift && matrix.has_drift() {
        Ok(exit::FINDINGS)
    } else {
        Ok(exit::OK)
    }
}

/// Prints the matrix in `format` through `console`.
pub fn render(
    matrix: &status::StatusMatrix,
    format: Format,
    console: Console,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => console.write_json(out, &matrix.to_json()),
        Format::Text => console.write_text(out, &matrix.to_text()),
        Format::Markdown => console.write_text(out, &matrix.to_markdown()),
    }
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}
