//! `baton promote`: after an update merges in one environment, tell the next environment's
//! workflow, with exactly the version that landed, through `repository_dispatch`.

use crate::cli::{InvalidInput, PromoteArgs};
use crate::exit;
use crate::output;
use crate::promote::{self, Decision, Payload};
use crate::publish;
use crate::scan;
use anyhow::Context as _;
use serde::Serialize;
use std::io::Write as _;

/// What `baton promote` did (its JSON output).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Whether a dispatch was sent.
    pub dispatched: bool,
    /// Its event type.
    pub event_type: Option<String>,
    /// The repository it was sent to.
    pub repository: Option<String>,
    /// Its payload.
    pub payload: Option<Payload>,
    /// Why nothing was sent.
    pub reason: Option<String>,
}

fn skip(reason: String) -> Outcome {
    log::info!("nothing to promote: {reason}");
    Outcome {
        dispatched: false,
        event_type: None,
        repository: None,
        payload: None,
        reason: Some(reason),
    }
}

/// Runs `baton promote`.
pub fn run(args: &PromoteArgs) -> anyhow::Result<u8> {
    let outcome = execute(args)?;
    let mut json = serde_json::to_string_pretty(&outcome)?;
    json.push('\n');
    std::io::stdout().write_all(json.as_bytes())?;
    Ok(exit::OK)
}

/// Decides and, when a merged update is found, dispatches.
pub fn execute(args: &PromoteArgs) -> anyhow::Result<Outcome> {
    let (repo, event_type, payload) = match plan(args)? {
        Ok(planned) => planned,
        Err(reason) => return Ok(skip(reason)),
    };
    let runtime = super::runtime()?;
    let _entered = runtime.enter();
    let gh = args.github.client()?;
    let route = format!("/repos/{}/{}/dispatches", repo.owner, repo.name);
    let body = serde_json::json!({ "event_type": event_type, "client_payload": payload });
    runtime
        .block_on(gh.post_json::<serde_json::Value>(&route, &body))
        .with_context(
            || "sending repository_dispatch (the token needs `contents: write` on the repository)",
        )?;
    log::info!(
        "sent {event_type} to {}/{} for {} at {}",
        repo.owner,
        repo.name,
        payload.dependency.as_deref().unwrap_or("every dependency"),
        payload
            .version
            .as_deref()
            .unwrap_or("the versions that landed")
    );
    Ok(Outcome {
        dispatched: true,
        event_type: Some(event_type),
        repository: Some(format!("{}/{}", repo.owner, repo.name)),
        payload: Some(payload),
        reason: None,
    })
}

/// What to dispatch, or why there is nothing to promote.
pub fn plan(
    args: &PromoteArgs,
) -> anyhow::Result<Result<(publish::RepoRef, String, Payload), String>> {
    let environment = args.environment.as_deref().filter(|e| !e.is_empty());
    let event_type = match (&args.dispatch_event, environment) {
        (Some(e), _) if !e.is_empty() => e.clone(),
        (_, Some(env)) => format!("{env}_updates_merged"),
        _ => {
            return Err(InvalidInput(
                "promote needs --dispatch-event (e.g. dev_updates_merged) or --environment".into(),
            )
            .into());
        }
    };
    let event_path = args.event_path.as_ref().ok_or_else(|| {
        InvalidInput(
            "promote reads the pull_request event: set GITHUB_EVENT_PATH or --event-path".into(),
        )
    })?;
    let event_text = std::fs::read_to_string(event_path).map_err(|e| {
        InvalidInput(format!(
            "cannot read the event {}: {e}",
            event_path.display()
        ))
    })?;
    let event: serde_json::Value = serde_json::from_str(&event_text).map_err(|e| {
        InvalidInput(format!(
            "the event {} is not JSON: {e}",
            event_path.display()
        ))
    })?;
    let label = environment.map(|e| format!("updates-{e}"));
    let (dependency, branch, sha, number) = match promote::decide(
        &event,
        args.pull_request_branch_prefix.as_deref(),
        label.as_deref(),
    ) {
        Decision::Skip(reason) => return Ok(Err(reason)),
        Decision::Promote {
            dependency,
            branch,
            sha,
            number,
        } => (dependency, branch, sha, number),
    };

    // The version that landed, read from this environment's code as checked out.
    let request = args.env.scan_request()?;
    let report = scan::scan(&request)?;
    super::warn_scan_problems(&report, &request);
    let landed = promote::landed_versions(&report);
    let version = match &dependency {
        Some(id) => match landed.get(id) {
            Some(l) => {
                if !l.disagreeing.is_empty() {
                    output::warn_file(
                        "",
                        None,
                        None,
                        &format!(
                            "{id} is at several versions here ({}); promoting {}, which every usage has reached",
                            l.disagreeing.join(", "),
                            l.version
                        ),
                    );
                }
                Some(l.version.to_string())
            }
            None => {
                return Ok(Err(format!(
                    "{id} has no pinned usage in {}; nothing landed to promote",
                    super::describe_dirs(&request)
                )));
            }
        },
        None => None,
    };
    let repo = std::env::var("GITHUB_REPOSITORY")
        .ok()
        .or_else(|| {
            event
                .pointer("/repository/full_name")
                .and_then(|v| v.as_str())
                .map(str::to_string)
        })
        .and_then(|slug| publish::repo_from_slug(&slug, "github.com"))
        .ok_or_else(|| {
            InvalidInput("cannot tell the repository: set GITHUB_REPOSITORY=owner/name".into())
        })?;
    let payload = Payload {
        dependency,
        version,
        git_ref: std::env::var("GITHUB_REF").ok().filter(|r| !r.is_empty()),
        sha: sha.or_else(|| std::env::var("GITHUB_SHA").ok()),
        branch: Some(branch),
        environment: environment.map(str::to_string),
        pull_request: Some(number),
    };
    Ok(Ok((repo, event_type, payload)))
}
