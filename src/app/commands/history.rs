//! `baton history`: what changed each dependency's version in each environment, and when, from
//! the first-parent git history.

use super::Annotate;
use crate::app::console::Console;
use crate::exit;
use crate::output::Format;
use crate::promote::history::{self, HistoryReport, HistoryRequest};
use crate::promote::status::EnvSpec;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

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
        value_parser = crate::app::config::parse_status_env
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
    /// Keep the history read in this directory: the next run reads only the commits made since
    /// (when this one is still on the first-parent line). Empty: no cache.
    #[arg(long, env = "BATON_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// The request `baton history`'s flags describe.
pub fn request(args: &HistoryArgs) -> anyhow::Result<HistoryRequest> {
    let environments = if args.include_dirs.iter().any(|g| !g.trim().is_empty()) {
        let include = crate::find::env::split_patterns(&args.include_dirs);
        vec![EnvSpec {
            name: include.join(","),
            include,
            exclude: Vec::new(),
        }]
    } else {
        let (all, picked) =
            super::environments(&args.envs, args.config.as_deref(), &args.working_dir)?;
        if picked.is_empty() {
            all
        } else {
            all.into_iter()
                .filter(|e| picked.contains(&e.name))
                .collect()
        }
    };
    Ok(HistoryRequest {
        working_dir: args.working_dir.clone(),
        environments,
        exclude_dirs: args.exclude_dirs.clone(),
        dependency: args.dependency.clone().filter(|d| !d.is_empty()),
        limit: args.limit,
        since: args.since,
        cache_dir: args.cache_dir.clone().filter(|d| !d.as_os_str().is_empty()),
    })
}

/// Prints the history in `format` through `console`.
pub fn render(
    report: &HistoryReport,
    format: Format,
    console: Console,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => console.write_json(out, &report.to_json()),
        Format::Text => console.write_text(out, &report.to_text()),
        Format::Markdown => console.write_text(out, &report.to_markdown()),
    }
}

/// Runs `baton history`.
pub fn run(args: &HistoryArgs) -> anyhow::Result<u8> {
    let report = history::run(&request(args)?, &Annotate)?;
    render(
        &report,
        args.format,
        Console::for_stdout(),
        &mut std::io::stdout().lock(),
    )?;
    if Console::detect().under_actions() {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let appended = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(format!("{}\n", report.to_markdown()).as_bytes()));
            if let Err(e) = appended {
                log::warn!(
                    "cannot write the step summary {}: {e}",
                    path.to_string_lossy()
                );
            }
        }
    }
    Ok(exit::OK)
}
