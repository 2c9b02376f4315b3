//! Command-line interface: the subcommands, logging, and the mapping of outcomes to exit codes.
//! Each subcommand's flags (each also readable from the environment) live beside the command
//! that reads them, in [`super::commands`], and become a request for the library.

use super::commands::demo::DemoArgs;
use super::commands::history::HistoryArgs;
use super::commands::init::InitArgs;
use super::commands::notify::NotifyArgs;
use super::commands::promote::PromoteArgs;
use super::commands::report::ReportArgs;
use super::commands::scan::ScanArgs;
use super::commands::status::StatusArgs;
use super::commands::update::UpdateArgs;
use super::commands::{self, Annotate};
use super::console::Console;
use crate::exit::{self, InvalidInput};
use crate::find::env::GlobError;
use crate::find::scan::ScanError;
use clap::{Args, Parser, Subcommand};
use std::io::Write as _;
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
    /// In a module repository, on a published release: send `repository_dispatch`
    /// `new_module_release` to every consumer repository (listed in `[[consumers]]`, or found
    /// by code search), whose first environment then updates to exactly that version.
    Notify(NotifyArgs),
    /// Show each dependency's versions across the environments, and the promotions pending.
    Status(StatusArgs),
    /// List what changed each dependency's version in each environment, and when, from the
    /// first-parent git history of the checked-out branch.
    History(HistoryArgs),
    /// Write `.github/baton.toml` for the environment folders found (`dev`, `*-stage-*`,
    /// `prod`) and the workflows generated from it; `--check` fails when they disagree.
    Init(InitArgs),
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
        Command::Notify(args) => commands::notify::run(args),
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
        Annotate.warn(crate::diag::Warning::general(line));
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
    fn quiet_and_verbose_set_the_level() {
        let parse = |args: &[&str]| Cli::try_parse_from(args).map(|c| c.verbosity.level());
        assert_eq!(parse(&["baton", "scan"]).unwrap(), None);
        assert_eq!(parse(&["baton", "scan", "-q"]).unwrap(), Some("warn"));
        assert_eq!(parse(&["baton", "-v", "scan"]).unwrap(), Some("debug"));
        assert_eq!(parse(&["baton", "scan", "-vv"]).unwrap(), Some("trace"));
        assert!(parse(&["baton", "scan", "-q", "-v"]).is_err());
    }
}
