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
    let env = args.env.resolve()?;
    let chosen = env.environment.as_ref();
    if let (Some(config), Some(here)) = (&env.config, chosen)
        && let Some(next) = config.next_of(here)
    {
        let unwired = next.unwired_gates();
        if !unwired.is_empty() {
            log::warn!(
                "environment {} sets gates ({}) that this version of Baton does not enforce on promotion; they are ignored",
                next.name,
                unwired.join(", ")
            );
        }
    }
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
