//! `baton promote`: after an update merges in one environment, tell the next environment's
//! workflow, with exactly the version that landed, through `repository_dispatch`.

use super::Annotate;
use crate::app::cli::PromoteArgs;
use crate::exit;
use crate::promote::{self, PromoteRequest};
use std::io::Write as _;

/// The request `baton promote`'s flags describe (with the runner's `GITHUB_REF` and
/// `GITHUB_SHA`).
pub fn request(args: &PromoteArgs) -> anyhow::Result<PromoteRequest> {
    Ok(PromoteRequest {
        scan: args.env.scan_request()?,
        branch_prefix: args.pull_request_branch_prefix.clone(),
        environment: args.environment.clone(),
        dispatch_event: args.dispatch_event.clone(),
        event_path: args.event_path.clone(),
        git_ref: std::env::var("GITHUB_REF").ok(),
        sha: std::env::var("GITHUB_SHA").ok(),
        clients: args.github.settings()?,
        gates: crate::promote::gates::PromoteGates {
            require_checks: args.require_checks,
            required_checks: crate::find::env::split_patterns(&args.required_checks),
            require_approvals: args.require_approvals,
            own_run_id: std::env::var("GITHUB_RUN_ID")
                .ok()
                .filter(|r| !r.is_empty()),
        },
    })
}

/// Runs `baton promote`.
pub fn run(args: &PromoteArgs) -> anyhow::Result<u8> {
    let outcome = promote::run(&request(args)?, &Annotate)?;
    let mut json = serde_json::to_string_pretty(&outcome)?;
    json.push('\n');
    std::io::stdout().write_all(json.as_bytes())?;
    Ok(exit::OK)
}
