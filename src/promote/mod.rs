//! Promotion between environments: when an update merges in one environment, hand the next one,
//! through `repository_dispatch`, exactly the version that landed (a reviewer's edit included),
//! read from the code as checked out ([`decide`]); and where every dependency stands along the
//! chain ([`status`]).

pub mod decide;
pub mod fleet;
pub mod fleet_model;
pub mod fleet_read;
pub mod fleet_render;
pub mod gates;
pub mod history;
pub mod notify;
pub mod status;

use crate::clients::{Session, Settings};
use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use crate::find::scan::{self, ScanRequest};
use crate::resolve::landed;
use crate::spec::group::{self as group, Group, Member};
use crate::update::publish::{self, RepoRef};
use anyhow::Context as _;
use decide::{Decision, Payload};
use serde::Serialize;
use std::path::PathBuf;

/// What to promote from.
#[derive(Debug, Clone)]
pub struct PromoteRequest {
    /// This environment's folders, where the version that landed is read.
    pub scan: ScanRequest,
    /// Update branches start with this; the rest of the branch name is the dependency ID.
    pub branch_prefix: Option<String>,
    /// This environment's name (label `updates-<name>`, payload, default event type).
    pub environment: Option<String>,
    /// The event type to send (default `<environment>_updates_merged`).
    pub dispatch_event: Option<String>,
    /// The `pull_request` event payload to read.
    pub event_path: Option<PathBuf>,
    /// The workflow's ref, carried in the payload.
    pub git_ref: Option<String>,
    /// The workflow's commit, carried when the event names no merge commit.
    pub sha: Option<String>,
    /// How to reach GitHub.
    pub clients: Settings,
    /// Decide and say what would be dispatched, and send nothing.
    pub dry_run: bool,
    /// What must hold before dispatching: checks and approvals of the merged pull request.
    pub gates: gates::PromoteGates,
    /// The groups of the config file: a merged `<prefix>group/<name>` branch hands its group on.
    pub groups: Vec<Group>,
}

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
    /// Whether a merged update was held back by a gate (checks, approvals).
    pub gated: bool,
    /// What held it back, one line per check or gate.
    pub held: Vec<String>,
}

fn skip(reason: String) -> Outcome {
    log::info!("nothing to promote: {reason}");
    Outcome {
        dispatched: false,
        event_type: None,
        repository: None,
        payload: None,
        reason: Some(reason),
        gated: false,
        held: Vec::new(),
    }
}

/// A dispatch to send.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Where to.
    pub repo: RepoRef,
    /// The event type.
    pub event_type: String,
    /// The payload.
    pub payload: Payload,
}

/// Decides and, when a merged update is found, dispatches.
pub fn run(request: &PromoteRequest, reporter: &dyn Reporter) -> anyhow::Result<Outcome> {
    reporter.phase("what landed");
    let Planned {
        repo,
        event_type,
        payload,
    } = match plan(request, reporter)? {
        Ok(planned) => planned,
        Err(reason) => return Ok(skip(reason)),
    };
    check_size(&payload)?;
    // Gates are read on a dry run too: it says what would happen.
    if request.gates.active() {
        reporter.phase("gates: checks and approvals");
        let session = Session::new(&request.clients)?;
        let number = payload.pull_request.unwrap_or(0);
        let (head, merged_at) = merged_pull_request(request);
        let held = session
            .block_on(gates::hold(
                &session.github,
                &repo,
                &request.gates,
                head.as_deref(),
                merged_at,
                number,
            ))
            .with_context(|| format!("reading the checks and reviews of pull request #{number}"))?;
        if !held.is_empty() {
            for h in &held {
                reporter.warn(Warning::general(format!("promotion held: {h}")));
            }
            return Ok(Outcome {
                dispatched: false,
                event_type: Some(event_type),
                repository: Some(format!("{}/{}", repo.owner, repo.name)),
                payload: Some(payload),
                reason: Some(format!(
                    "pull request #{number} is gated: {}; nothing dispatched",
                    held.join("; ")
                )),
                gated: true,
                held,
            });
        }
    }
    if request.dry_run {
        log::info!(
            "dry run: would send {event_type} to {}/{} for {}; nothing sent",
            repo.owner,
            repo.name,
            payload.what()
        );
        return Ok(Outcome {
            dispatched: false,
            event_type: Some(event_type),
            repository: Some(format!("{}/{}", repo.owner, repo.name)),
            payload: Some(payload),
            reason: Some("dry run: nothing sent".into()),
            gated: false,
            held: Vec::new(),
        });
    }
    reporter.phase("dispatch");
    let session = Session::new(&request.clients)?;
    let route = format!("/repos/{}/{}/dispatches", repo.owner, repo.name);
    let body = serde_json::json!({ "event_type": event_type, "client_payload": payload });
    session
        .block_on(session.github.post_json::<serde_json::Value>(&route, &body))
        .map_err(|e| {
            // Only a refusal is about the token; a network failure is not.
            let hint = match e.status() {
                Some(403 | 404) => " (the token needs `contents: write` on the repository)",
                _ => "",
            };
            anyhow::Error::new(e).context(format!("sending repository_dispatch{hint}"))
        })?;
    log::info!(
        "sent {event_type} to {}/{} for {}",
        repo.owner,
        repo.name,
        payload.what()
    );
    Ok(Outcome {
        dispatched: true,
        event_type: Some(event_type),
        repository: Some(format!("{}/{}", repo.owner, repo.name)),
        payload: Some(payload),
        reason: None,
        gated: false,
        held: Vec::new(),
    })
}

/// The head commit of the merged pull request and when it was merged, from the event.
fn merged_pull_request(
    request: &PromoteRequest,
) -> (Option<String>, Option<crate::clock::Timestamp>) {
    let event: Option<serde_json::Value> = request
        .event_path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str(&t).ok());
    let Some(event) = event else {
        return (None, None);
    };
    let text = |pointer: &str| {
        event
            .pointer(pointer)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    (
        text("/pull_request/head/sha"),
        text("/pull_request/merged_at").and_then(|t| crate::clock::parse_instant(&t).ok()),
    )
}

/// What to dispatch, or why there is nothing to promote.
pub fn plan(
    request: &PromoteRequest,
    reporter: &dyn Reporter,
) -> anyhow::Result<Result<Planned, String>> {
    let environment = request.environment.as_deref().filter(|e| !e.is_empty());
    let event_type = match (&request.dispatch_event, environment) {
        (Some(e), _) if !e.is_empty() => e.clone(),
        (_, Some(env)) => format!("{env}_updates_merged"),
        _ => {
            return Err(InvalidInput(
                "promote needs --dispatch-event (e.g. dev_updates_merged) or --environment".into(),
            )
            .into());
        }
    };
    let event = read_event(request)?;
    let label = environment.map(|e| format!("updates-{e}"));
    let (dependency, branch, sha, number) =
        match decide::decide(&event, request.branch_prefix.as_deref(), label.as_deref()) {
            Decision::Skip(reason) => return Ok(Err(reason)),
            Decision::Promote {
                dependency,
                branch,
                sha,
                number,
            } => (dependency, branch, sha, number),
        };
    if let Err(reason) = decide::from_this_repository(&event) {
        reporter.warn(crate::diag::Warning::general(reason.clone()));
        return Ok(Err(reason));
    }
    // A group's branch hands on every dependency of the group, not one named by the branch.
    let group = group_named(request, &branch)?;
    let dependency = dependency.filter(|_| group.is_none());

    // The version that landed, read from this environment's code as checked out.
    let report = scan::scan(&request.scan)?;
    for w in request.scan.problems(&report) {
        reporter.warn(w);
    }
    let landed = landed::landed_versions(&report);
    let version = match &dependency {
        Some(id) => match landed.get(id) {
            Some(l) => {
                if !l.disagreeing.is_empty() {
                    // Never guess which of them landed.
                    return Err(InvalidInput(several_versions(id, &report, &request.scan)).into());
                }
                Some(l.version.to_string())
            }
            None => {
                let why = match landed::landed_ranges(&report).get(id) {
                    Some(r) => format!(
                        "{id} runs the registry range {} in {}, not one version: the next environment's report with promote_from carries the range as written",
                        r.text,
                        request.scan.describe()
                    ),
                    None => format!(
                        "{id} has no pinned usage in {}; nothing landed to promote",
                        request.scan.describe()
                    ),
                };
                return Ok(Err(why));
            }
        },
        None => None,
    };
    let dependencies = match group_members(request, group, &report, &landed, reporter)? {
        Ok(members) => members,
        Err(reason) => return Ok(Err(reason)),
    };
    let repo = request
        .clients
        .repository
        .clone()
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
    let sha = sha.or_else(|| request.sha.clone());
    let rollback = sha
        .as_deref()
        .is_some_and(|sha| gates::merged_a_rollback(&request.scan.working_dir, sha, reporter));
    let payload = Payload {
        dependency,
        version,
        git_ref: request.git_ref.clone().filter(|r| !r.is_empty()),
        sha,
        branch: Some(branch),
        environment: environment.map(str::to_string),
        pull_request: Some(number),
        rollback,
        group: group.map(|g| g.name.clone()),
        dependencies,
    };
    Ok(Ok(Planned {
        repo,
        event_type,
        payload,
    }))
}

/// The `pull_request` event the run answers (`--event-path`, else `GITHUB_EVENT_PATH`).
fn read_event(request: &PromoteRequest) -> Result<serde_json::Value, InvalidInput> {
    let event_path = request.event_path.as_ref().ok_or_else(|| {
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
    serde_json::from_str(&event_text).map_err(|e| {
        InvalidInput(format!(
            "the event {} is not JSON: {e}",
            event_path.display()
        ))
    })
}

/// The group a merged branch (`<prefix>group/<name>`) stands for; `Err` when it names a group
/// the config file does not define (nothing is guessed).
fn group_named<'a>(
    request: &'a PromoteRequest,
    branch: &str,
) -> Result<Option<&'a Group>, InvalidInput> {
    let Some(name) = request
        .branch_prefix
        .as_deref()
        .filter(|p| !p.is_empty())
        .and_then(|p| group::group_of_branch(p, branch))
    else {
        return Ok(None);
    };
    match request.groups.iter().find(|g| g.name == name) {
        Some(g) => Ok(Some(g)),
        None => Err(InvalidInput(format!(
            "branch {branch} is the update of group {name:?}, which the config file does not define ({}); nothing dispatched: define the group again, or promote by hand",
            if request.groups.is_empty() {
                "it has no [[groups]]".to_string()
            } else {
                request
                    .groups
                    .iter()
                    .map(|g| g.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        ))),
    }
}

/// Every dependency of `group` this environment uses and the version that landed for each, read
/// from the code as checked out (the merge commit); none without a group. One at several
/// versions refuses the whole promotion; one at a range or without a version Baton can read is
/// reported and not sent. `Ok(Err(reason))`: none landed at a version.
fn group_members(
    request: &PromoteRequest,
    group: Option<&Group>,
    report: &scan::ScanReport,
    landed: &std::collections::BTreeMap<String, landed::Landed>,
    reporter: &dyn Reporter,
) -> anyhow::Result<Result<Vec<Member>, String>> {
    let Some(group) = group else {
        return Ok(Ok(Vec::new()));
    };
    group::check_overlap(&request.groups, report)?;
    let mut members = Vec::new();
    for id in group.members(report) {
        match landed.get(&id) {
            Some(l) if !l.disagreeing.is_empty() => {
                return Err(InvalidInput(several_versions(&id, report, &request.scan)).into());
            }
            Some(l) => members.push(Member {
                dependency: id,
                version: l.version.to_string(),
            }),
            None => reporter.warn(Warning::general(format!(
                "group {}: {id} is not at one pinned version in {} (a registry range, or no version Baton can read): it is not in the dispatch",
                group.name,
                request.scan.describe()
            ))),
        }
    }
    if members.is_empty() {
        return Ok(Err(format!(
            "no dependency of group {:?} is at a pinned version in {}; nothing landed to promote",
            group.name,
            request.scan.describe()
        )));
    }
    if members.len() > group::MAX_MEMBERS {
        return Err(InvalidInput(format!(
            "group {:?} has {} dependencies here; a dispatch carries at most {}: split the group",
            group.name,
            members.len(),
            group::MAX_MEMBERS
        ))
        .into());
    }
    Ok(Ok(members))
}

/// Refuses a payload GitHub would not take (a `client_payload` of 64 KB or more), before sending.
fn check_size(payload: &Payload) -> Result<(), InvalidInput> {
    let size = serde_json::to_vec(payload).map_or(usize::MAX, |v| v.len());
    if size > group::MAX_PAYLOAD_BYTES {
        return Err(InvalidInput(format!(
            "the dispatch payload would be {size} bytes; Baton sends at most {} (GitHub takes less than 64 KB){}",
            group::MAX_PAYLOAD_BYTES,
            if payload.group.is_some() {
                ": split the group"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

/// The refusal when the folders promote reads hold several versions of the dependency: each
/// version with the files that use it.
fn several_versions(id: &str, report: &scan::ScanReport, request: &ScanRequest) -> String {
    let mut by_version: std::collections::BTreeMap<crate::version::Version, (String, Vec<String>)> =
        Default::default();
    for u in &report.usages {
        if u.skipped.is_some() || u.dependency.as_deref() != Some(id) {
            continue;
        }
        let Some(v) = landed::pinned_version(u) else {
            continue;
        };
        let entry = by_version
            .entry(v)
            .or_insert_with(|| (u.current.clone().unwrap_or_default(), Vec::new()));
        entry.1.push(format!("{}:{}", u.file, u.version_line()));
    }
    let listed: Vec<String> = by_version
        .values()
        .map(|(written, files)| format!("{written} ({})", files.join(", ")))
        .collect();
    format!(
        "{id} is at several versions in {}: {}; promote cannot tell which one landed and sends nothing. Set --include-dirs (input include_dirs) to this environment's folders only, or bring its usages to one version",
        request.describe(),
        listed.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_github_would_not_take_is_refused_before_sending() {
        let member = |i: usize| Member {
            dependency: format!("acme/terraform-aws-{}/modules/{i}", "x".repeat(260)),
            version: "1.0.0".into(),
        };
        let mut payload = Payload {
            group: Some("network".into()),
            dependencies: (0..group::MAX_MEMBERS).map(member).collect(),
            ..Payload::default()
        };
        let e = check_size(&payload).unwrap_err().0;
        assert!(e.contains("split the group"), "{e}");
        payload.dependencies.truncate(10);
        assert!(check_size(&payload).is_ok());
        let keys = serde_json::to_value(&payload).unwrap();
        assert!(keys.as_object().unwrap().len() <= 10, "{keys}");
    }
}
