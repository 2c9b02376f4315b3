//! One file per command: each turns its flags into a request for the library, runs it, and
//! renders the result. What the front ends share lives here: the reporter that prints problems,
//! and what a `repository_dispatch` event being handled says.

pub mod demo;
pub mod init;
pub mod promote;
pub mod report;
pub mod scan;
pub mod status;
pub mod update;

use super::console::Console;
use crate::app::config::Config;
use crate::app::derive;
use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use crate::find::env::DirFilter;
use crate::find::scan::ScanRequest;
use crate::promote::decide::{Payload, payload_of};
use crate::spec::report::Promotion;

/// Prints each problem as it is met: a `::warning` annotation under Actions, a `warning:` line
/// elsewhere (through the [`Console`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Annotate;

impl Reporter for Annotate {
    fn warn(&self, w: Warning) {
        if w.file.is_empty() {
            // A problem of no one file: an annotation of its own under Actions (never a
            // `file=` property left empty), a plain warning elsewhere.
            if Console::detect().under_actions() {
                use std::io::Write as _;
                let line = format!(
                    "::warning title=Baton::{}\n",
                    crate::output::escape_data(&w.message)
                );
                let _ = std::io::stderr().write_all(line.as_bytes());
            } else {
                log::warn!("{}", w.message);
            }
        } else {
            use std::io::Write as _;
            let line = Console::detect().warning(&w);
            let _ = std::io::stderr().write_all(line.as_bytes());
        }
    }
}

/// The promotion in force: `--promote-from`, else the payload of the `repository_dispatch`
/// event the workflow runs for (when it names a dependency).
pub fn promotion(
    working_dir: &std::path::Path,
    promote_from: &[String],
) -> anyhow::Result<Option<Promotion>> {
    if !promote_from.iter().all(|g| g.trim().is_empty()) {
        return Ok(Some(Promotion::FromDirs(ScanRequest {
            working_dir: working_dir.to_path_buf(),
            dirs: DirFilter::new(promote_from, &[] as &[String])?,
        })));
    }
    let Some(payload) = dispatch_payload() else {
        return Ok(None);
    };
    match (payload.dependency.clone(), payload.version.clone()) {
        (Some(dependency), Some(version)) => Ok(Some(Promotion::Landed {
            dependency,
            version,
        })),
        (Some(dependency), None) => landed_in_source(working_dir, &payload, &dependency).map(Some),
        _ => Err(InvalidInput(
            "the repository_dispatch payload names no dependency and version; set promote_from"
                .into(),
        )
        .into()),
    }
}

/// A dispatch that names the dependency but not the version (Patcher's `trigger-next-env` sends
/// `{ref, sha, branch, dependency}`): the target is the version the source environment runs on
/// the checked-out commit, the environment being the payload's, else the one its branch names.
fn landed_in_source(
    working_dir: &std::path::Path,
    payload: &Payload,
    dependency: &str,
) -> anyhow::Result<Promotion> {
    let config = Config::find(working_dir, None)?;
    let derived = payload
        .environment
        .clone()
        .filter(|e| !e.is_empty())
        .map(|name| (name, "the payload's environment".to_string()))
        .or_else(|| {
            let branch = payload.branch.as_deref()?;
            let prefix = derive::prefix_of(branch, Some(dependency));
            let d = derive::derive(
                &derive::Clues {
                    branch_prefix: Some(prefix),
                    ..derive::Clues::default()
                },
                config.as_ref(),
            )?;
            Some((d.name, d.rule))
        });
    let Some((name, rule)) = derived else {
        return Err(InvalidInput(format!(
            "the repository_dispatch payload names {dependency} but no version, and neither its environment nor its branch {:?} names the environment it comes from; set promote_from",
            payload.branch.as_deref().unwrap_or("")
        ))
        .into());
    };
    let scan = match config.as_ref().map(|c| c.environment(&name)).transpose()? {
        Some(env) => env.scan_request(working_dir)?,
        None => ScanRequest {
            working_dir: working_dir.to_path_buf(),
            dirs: DirFilter::new(&[format!("{{*{name}*}}/**")], &[] as &[String])?,
        },
    };
    log::info!(
        "the dispatch names {dependency} without a version: targeting the version {name} ({}) runs on this commit; {name} was read from {rule}",
        scan.describe()
    );
    Ok(Promotion::FromDirs(scan))
}

/// The dependency a run is limited to: `--dependency`, else the one named by the
/// `repository_dispatch` payload being handled.
pub fn limited_to(flag: Option<&str>) -> Option<String> {
    flag.filter(|d| !d.is_empty())
        .map(str::to_string)
        .or_else(|| dispatch_payload().and_then(|p| p.dependency))
}

/// What the `repository_dispatch` payload being handled says landed, when it names a dependency
/// and a version: checked before anything moves.
pub fn dispatched() -> Option<crate::spec::dispatch::Dispatched> {
    let p = dispatch_payload()?;
    Some(crate::spec::dispatch::Dispatched {
        dependency: p.dependency?,
        version: p.version?,
        sha: p.sha.filter(|s| !s.trim().is_empty()),
        environment: p.environment.filter(|e| !e.trim().is_empty()),
        pull_request: p.pull_request,
    })
}

/// The `client_payload` of the `repository_dispatch` event being handled, if it names a
/// dependency.
pub fn dispatch_payload() -> Option<Payload> {
    if std::env::var("GITHUB_EVENT_NAME").ok()? != "repository_dispatch" {
        return None;
    }
    let path = std::env::var_os("GITHUB_EVENT_PATH")?;
    let text = std::fs::read_to_string(path).ok()?;
    let event: serde_json::Value = serde_json::from_str(&text).ok()?;
    payload_of(&event).filter(|p| p.dependency.is_some())
}
