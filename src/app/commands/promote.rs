//! `baton promote`: after an update merges in one environment, tell the next environment's
//! workflow, with exactly the version that landed, through `repository_dispatch`.

use super::Annotate;
use crate::app::args::{EnvArgs, GitHubArgs};
use crate::app::console::Console;
use crate::exit;
use crate::output::Format;
use crate::promote::{self, PromoteRequest};
use clap::Args;
use std::path::PathBuf;

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

/// The request `baton promote`'s flags describe (with the runner's `GITHUB_REF` and
/// `GITHUB_SHA`).
pub fn request(args: &PromoteArgs) -> anyhow::Result<PromoteRequest> {
    let env = args.env.resolve()?;
    let chosen = env.environment.as_ref();
    // The gates of promoting into the next environment: flags and inputs win, else the config's.
    let next_gates = match (&env.config, chosen) {
        (Some(config), Some(here)) => config.next_of(here).map(|next| next.gates().clone()),
        _ => None,
    };
    let config_checks = next_gates
        .as_ref()
        .map(|g| g.require_checks.clone())
        .unwrap_or_default();
    let required_checks = crate::find::env::split_patterns(&args.required_checks);
    Ok(PromoteRequest {
        scan: env.scan.clone(),
        branch_prefix: args
            .pull_request_branch_prefix
            .clone()
            .or_else(|| chosen.map(|e| e.branch_prefix.clone())),
        environment: args
            .environment
            .clone()
            .or_else(|| chosen.map(|e| e.name.clone())),
        dispatch_event: args
            .dispatch_event
            .clone()
            .or_else(|| chosen.map(|e| e.dispatch_event.clone())),
        event_path: args.event_path.clone(),
        git_ref: std::env::var("GITHUB_REF").ok(),
        sha: std::env::var("GITHUB_SHA").ok(),
        clients: args.github.settings()?,
        dry_run: args.dry_run,
        gates: crate::promote::gates::PromoteGates {
            require_checks: args.require_checks || !config_checks.is_empty(),
            required_checks: if required_checks.is_empty() {
                config_checks
            } else {
                required_checks
            },
            require_approvals: if args.require_approvals > 0 {
                args.require_approvals
            } else {
                next_gates
                    .as_ref()
                    .and_then(|g| g.require_approvals)
                    .unwrap_or(0)
            },
            own_run_id: std::env::var("GITHUB_RUN_ID")
                .ok()
                .filter(|r| !r.is_empty()),
        },
        groups: env
            .config
            .as_ref()
            .map(|c| c.groups.clone())
            .unwrap_or_default(),
    })
}

/// One sentence on what was (or, on a dry run, would be) dispatched, or why nothing was.
pub fn sentence(outcome: &promote::Outcome, code: bool) -> String {
    let quote = |s: &str| {
        if code {
            crate::output::code(s)
        } else {
            s.to_string()
        }
    };
    let text = |s: &str| {
        if code {
            crate::output::md_text(s)
        } else {
            s.to_string()
        }
    };
    let payload = outcome.payload.clone().unwrap_or_default();
    let what = match &payload.group {
        Some(_) => format!(
            "{} for {}",
            quote(outcome.event_type.as_deref().unwrap_or("")),
            text(&payload.what())
        ),
        None => format!(
            "{} for {} at {}",
            quote(outcome.event_type.as_deref().unwrap_or("")),
            payload
                .dependency
                .as_deref()
                .map_or("every dependency".to_string(), quote),
            payload
                .version
                .as_deref()
                .map_or("the versions that landed".to_string(), quote)
        ),
    };
    if outcome.gated {
        let number = outcome
            .payload
            .as_ref()
            .and_then(|p| p.pull_request)
            .map_or(String::new(), |n| format!(" #{n}"));
        return format!("Nothing dispatched: pull request{number} is gated.");
    }
    match (outcome.dispatched, &outcome.event_type, &outcome.reason) {
        (true, _, _) => format!(
            "Sent {what} to {}.",
            text(outcome.repository.as_deref().unwrap_or(""))
        ),
        (false, Some(_), _) => format!(
            "Dry run: would send {what} to {}; nothing was sent.",
            text(outcome.repository.as_deref().unwrap_or(""))
        ),
        (false, None, reason) => format!(
            "Nothing to promote: {}.",
            text(reason.as_deref().unwrap_or("no merged update"))
        ),
    }
}

/// Runs `baton promote`.
pub fn run(args: &PromoteArgs) -> anyhow::Result<u8> {
    let outcome = promote::run(&request(args)?, &Annotate)?;
    let console = Console::for_stdout();
    let stdout = &mut std::io::stdout().lock();
    match args.format {
        Format::Json => console.write_json(stdout, &serde_json::to_string_pretty(&outcome)?)?,
        Format::Text => console.write_text(
            stdout,
            &format!("{}\n{}", sentence(&outcome, false), held(&outcome, false)),
        )?,
        Format::Markdown => console.write_text(
            stdout,
            &format!(
                "### Baton promote\n\n{}\n{}",
                sentence(&outcome, true),
                held(&outcome, true)
            ),
        )?,
    }
    Ok(exit::OK)
}

/// What held a gated promotion, one `- reason` line each (after a blank line in markdown, the
/// reasons quoting check names and logins, which others chose); empty when nothing was held.
pub fn held(outcome: &promote::Outcome, markdown: bool) -> String {
    if !outcome.gated || outcome.held.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    if markdown {
        out.push('\n');
    }
    for h in &outcome.held {
        if markdown {
            out.push_str(&format!("- {}\n", crate::output::md_text(h)));
        } else {
            out.push_str(&format!("- {h}\n"));
        }
    }
    out
}
