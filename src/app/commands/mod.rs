//! One file per command: each turns its flags into a request for the library, runs it, and
//! renders the result. What the front ends share lives here: the reporter that prints problems,
//! and what a `repository_dispatch` event being handled says.

pub mod demo;
pub mod history;
pub mod promote;
pub mod report;
pub mod scan;
pub mod status;
pub mod update;

use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use crate::find::env::DirFilter;
use crate::find::scan::ScanRequest;
use crate::output;
use crate::promote::decide::{Payload, payload_of};
use crate::spec::report::Promotion;

/// Prints each problem as it is met: a `::warning` annotation under Actions, a `warning:` line
/// elsewhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct Annotate;

impl Reporter for Annotate {
    fn warn(&self, w: Warning) {
        if w.file.is_empty() && w.line.is_none() {
            log::warn!("{}", w.message);
        } else {
            output::warn_file(&w.file, w.line, w.column, &w.message);
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
    match (payload.dependency, payload.version) {
        (Some(dependency), Some(version)) => Ok(Some(Promotion::Landed {
            dependency,
            version,
        })),
        _ => Err(InvalidInput(
            "the repository_dispatch payload names no dependency and version; set promote_from"
                .into(),
        )
        .into()),
    }
}

/// The gates of a report and the context of the promotion in force: the time taken as now,
/// the soak time and release age asked for, and, from the `repository_dispatch` payload being
/// handled, whether it carries a rollback and the environment it came from (else the globs of
/// `--promote-from`).
pub fn gates(
    promote_from: &[String],
    min_soak: Option<std::time::Duration>,
    min_release_age: Option<std::time::Duration>,
) -> anyhow::Result<crate::spec::gates::Gates> {
    let payload = dispatch_payload();
    let globs: Vec<&str> = promote_from
        .iter()
        .map(|g| g.trim())
        .filter(|g| !g.is_empty())
        .collect();
    let promoted_from = payload
        .as_ref()
        .and_then(|p| p.environment.clone())
        .filter(|e| !e.is_empty())
        .or_else(|| (!globs.is_empty()).then(|| globs.join(",")));
    if min_soak.is_some() && globs.is_empty() {
        return Err(InvalidInput(
            "--min-soak (min_soak) needs --promote-from (promote_from): the soak time is read from the previous environment's history".into(),
        )
        .into());
    }
    Ok(crate::spec::gates::Gates {
        now: Some(now()?),
        min_soak,
        min_release_age,
        rollback: payload.is_some_and(|p| p.rollback),
        promoted_from,
    })
}

/// The dependency a run is limited to: `--dependency`, else the one named by the
/// `repository_dispatch` payload being handled.
pub fn limited_to(flag: Option<&str>) -> Option<String> {
    flag.filter(|d| !d.is_empty())
        .map(str::to_string)
        .or_else(|| dispatch_payload().and_then(|p| p.dependency))
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

/// The time a run takes as now: `BATON_NOW` when set (an instant, e.g. `2026-12-03T10:00:00Z`;
/// for tests and for replaying a decision), else the machine's clock.
pub fn now() -> Result<crate::clock::Timestamp, InvalidInput> {
    match std::env::var("BATON_NOW") {
        Ok(v) if !v.trim().is_empty() => {
            crate::clock::parse_instant(&v).map_err(|e| InvalidInput(format!("BATON_NOW: {e}")))
        }
        _ => Ok(crate::clock::system_now()),
    }
}

/// The config file looked for in the working directory when no environment is given by flag.
const ENVIRONMENTS_FILE: &str = "baton.toml";

/// The environments of a run, in promotion order, and the names picked with a bare `--env
/// NAME`: environments given as `NAME=GLOB` (every one, when any is), else those of the config
/// file (`config`, or `baton.toml` in the working directory).
pub fn environments(
    envs: &[crate::promote::status::EnvSpec],
    config: Option<&std::path::Path>,
    working_dir: &std::path::Path,
) -> anyhow::Result<(Vec<crate::promote::status::EnvSpec>, Vec<String>)> {
    let (defined, picked): (Vec<_>, Vec<_>) =
        envs.iter().cloned().partition(|e| !e.include.is_empty());
    let picked: Vec<String> = picked.into_iter().map(|e| e.name).collect();
    let all = if !defined.is_empty() {
        if let Some(config) = config {
            return Err(InvalidInput(format!(
                "--env and --config {} both name the environments; use one",
                config.display()
            ))
            .into());
        }
        defined
    } else {
        let (path, explicit) = match config {
            Some(path) => (path.to_path_buf(), true),
            None => (working_dir.join(ENVIRONMENTS_FILE), false),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                return Err(InvalidInput(format!(
                    "no environments: pass --env NAME=GLOB (in promotion order) or write {}",
                    path.display()
                ))
                .into());
            }
            Err(e) => {
                return Err(InvalidInput(format!("cannot read {}: {e}", path.display())).into());
            }
        };
        crate::promote::status::parse_config(&text)
            .map_err(|e| InvalidInput(format!("invalid config {}: {e}", path.display())))?
    };
    for name in &picked {
        if !all.iter().any(|e| &e.name == name) {
            let known: Vec<&str> = all.iter().map(|e| e.name.as_str()).collect();
            return Err(InvalidInput(format!(
                "--env {name}: no such environment (known: {})",
                known.join(", ")
            ))
            .into());
        }
    }
    Ok((all, picked))
}
