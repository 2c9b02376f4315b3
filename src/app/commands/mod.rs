//! One file per command: each holds its flags, turns them into a request for the library, runs
//! it, and renders the result. What the front ends share lives here: the reporter that prints
//! problems, and what a `repository_dispatch` event being handled says.

pub mod demo;
pub mod history;
pub mod init;
pub mod notify;
pub mod promote;
pub mod report;
pub mod scan;
pub mod status;
pub mod update;

use super::console::Console;
use crate::app::config::{Config, Resolved};
use crate::app::derive;
use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use crate::find::env::DirFilter;
use crate::find::scan::ScanRequest;
use crate::promote::decide::{Payload, payload_of};
use crate::spec::report::Promotion;

/// Whether phases open log groups: set by the action, whose stdout is the runner's log (a
/// command's stdout is its result, and stays free of them).
pub static PHASE_GROUPS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Prints each problem as it is met: a `::warning` annotation under Actions, a `warning:` line
/// elsewhere (through the [`Console`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Annotate;

impl Reporter for Annotate {
    /// Under Actions, closes the group open (the command's, or the phase before) and opens one
    /// for the phase; the action closes the last.
    fn phase(&self, name: &str) {
        let console = Console::detect();
        // Only the action's own output has groups: a command's stdout is its result.
        if console.under_actions() && PHASE_GROUPS.load(std::sync::atomic::Ordering::Relaxed) {
            use std::io::Write as _;
            let text = format!(
                "{}{}",
                console.end_group(),
                console.group(&format!("baton · {name}"))
            );
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }

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

/// The promotion in force: `--promote-from` globs, else the environment's source in the config,
/// else the `repository_dispatch` payload being handled.
pub fn promotion_or(env: &Resolved, promote_from: &[String]) -> anyhow::Result<Option<Promotion>> {
    if promote_from.iter().all(|g| g.trim().is_empty())
        && let Some(promotion) = env.promotion()?
    {
        return Ok(Some(promotion));
    }
    promotion(&env.scan.working_dir, promote_from)
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

/// The gates of a report and the context of the promotion in force: the time taken as now,
/// the soak time and release age asked for, and, from the `repository_dispatch` payload being
/// handled, whether it carries a rollback and the environment it came from (else the globs of
/// `--promote-from`).
pub fn gates(
    promote_from: &[String],
    promoted: bool,
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
    if min_soak.is_some() && globs.is_empty() && !promoted {
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

/// The group payload of the `repository_dispatch` event being handled (`{group, dependencies:
/// [{dependency, version}], …}`), read as untrusted input: `Err` when it names a group but is
/// malformed.
pub fn group_dispatch() -> Result<Option<crate::spec::group::DispatchedGroup>, InvalidInput> {
    if std::env::var("GITHUB_EVENT_NAME").ok().as_deref() != Some("repository_dispatch") {
        return Ok(None);
    }
    let Some(path) = std::env::var_os("GITHUB_EVENT_PATH") else {
        return Ok(None);
    };
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(None);
    };
    let Ok(event) = serde_json::from_str::<serde_json::Value>(&text) else {
        return Ok(None);
    };
    match event.get("client_payload") {
        Some(payload) => crate::spec::group::read_payload(payload).transpose(),
        None => Ok(None),
    }
}

/// The group a run is limited to: `--group`, else the one named by the group dispatch being
/// handled (which must agree), with every group of the config file; `promoted` says whether the
/// run has a promotion to read what landed from, which a group dispatch needs.
pub fn group_scope(
    env: &Resolved,
    flag: Option<&str>,
    promoted: bool,
) -> anyhow::Result<Option<crate::spec::group::GroupScope>> {
    let flag = flag.map(str::trim).filter(|g| !g.is_empty());
    let dispatched = group_dispatch()?;
    let name = match (flag, &dispatched) {
        (Some(f), Some(d)) if f != d.group => {
            return Err(InvalidInput(format!(
                "--group {f} (input group) and the repository_dispatch payload's group {:?} differ; leave --group empty to answer the dispatch",
                d.group
            ))
            .into());
        }
        (Some(f), _) => f.to_string(),
        (None, Some(d)) => d.group.clone(),
        (None, None) => return Ok(None),
    };
    let Some(config) = &env.config else {
        return Err(InvalidInput(format!(
            "group {name:?}: groups are defined in the config file ([[groups]] in {}), and there is none",
            crate::app::config::CONFIG_FILES.join(" or ")
        ))
        .into());
    };
    let group = config.group(&name)?.clone();
    if dispatched.is_some() && !promoted {
        return Err(InvalidInput(format!(
            "the repository_dispatch payload promotes group {name:?}, and this environment has no previous one to read what landed from: set promote_from (the config's environment chain, or --promote-from)"
        ))
        .into());
    }
    Ok(Some(crate::spec::group::GroupScope::new(
        group,
        config.groups.clone(),
        dispatched,
    )?))
}

/// The module release of the `repository_dispatch` event being handled, when its type is
/// `new_module_release` and its payload names a `repository` (as `baton notify` sends it): the
/// payload checked, or refused.
pub fn module_release() -> Result<Option<crate::spec::release::ModuleRelease>, InvalidInput> {
    use crate::spec::release::{EVENT_TYPE, ModuleRelease};
    if std::env::var("GITHUB_EVENT_NAME").ok().as_deref() != Some("repository_dispatch") {
        return Ok(None);
    }
    let Some(path) = std::env::var_os("GITHUB_EVENT_PATH") else {
        return Ok(None);
    };
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let event: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        InvalidInput(format!(
            "the event payload (GITHUB_EVENT_PATH) is not JSON: {e}"
        ))
    })?;
    if event.get("action").and_then(serde_json::Value::as_str) != Some(EVENT_TYPE) {
        return Ok(None);
    }
    let payload = event
        .get("client_payload")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    // A payload without `repository` is not notify's: one naming `dependency` and `version` is
    // handled as before (that release of that dependency), an empty one reports every update.
    if payload.get("repository").is_none() {
        return Ok(None);
    }
    ModuleRelease::from_payload(&payload).map(Some)
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

/// The environments of a run, in promotion order, and the names picked with a bare `--env
/// NAME` to be shown. Only `NAME=GLOB`: those environments. Only names (or none): every
/// environment of the config file (`config`, else `.github/baton.toml` or `baton.toml` in the
/// working directory), the names picking which are shown, so that what they receive from the
/// environment before them is still worked out. Names beside `NAME=GLOB`: a name given a glob
/// too is picked; any other is read from the config file, in the order given.
pub fn environments(
    envs: &[crate::promote::status::EnvSpec],
    config: Option<&std::path::Path>,
    working_dir: &std::path::Path,
) -> anyhow::Result<(Vec<crate::promote::status::EnvSpec>, Vec<String>)> {
    let defined: Vec<&crate::promote::status::EnvSpec> =
        envs.iter().filter(|e| !e.include.is_empty()).collect();
    let is_defined = |name: &str| defined.iter().any(|d| d.name == name);
    let picked: Vec<String> = envs
        .iter()
        .filter(|e| e.include.is_empty() && is_defined(&e.name))
        .map(|e| e.name.clone())
        .collect();
    let from_file: Vec<&str> = envs
        .iter()
        .filter(|e| e.include.is_empty() && !is_defined(&e.name))
        .map(|e| e.name.as_str())
        .collect();
    if !defined.is_empty() && from_file.is_empty() {
        if let Some(config) = config {
            return Err(InvalidInput(format!(
                "--env and --config {} both name the environments; use one",
                config.display()
            ))
            .into());
        }
        return Ok((defined.into_iter().cloned().collect(), picked));
    }
    let file = Config::find(working_dir, config)?.ok_or_else(|| {
        if let Some(name) = from_file.first().filter(|_| !defined.is_empty()) {
            let known: Vec<&str> = defined.iter().map(|d| d.name.as_str()).collect();
            return InvalidInput(format!(
                "--env {name}: no such environment (known: {})",
                known.join(", ")
            ));
        }
        InvalidInput(format!(
            "no environments: pass --env NAME=GLOB (in promotion order), or write {} (`baton init` does)",
            crate::app::config::CONFIG_FILES
                .iter()
                .map(|f| working_dir.join(f).display().to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ))
    })?;
    if defined.is_empty() {
        for name in &from_file {
            file.environment(name)?;
        }
        let picked = from_file.iter().map(|n| n.to_string()).collect();
        return Ok((file.env_specs(), picked));
    }
    let listed = envs
        .iter()
        .filter(|e| !(e.include.is_empty() && is_defined(&e.name)))
        .map(|e| {
            if e.include.is_empty() {
                Ok(file.environment(&e.name)?.env_spec())
            } else {
                Ok(e.clone())
            }
        })
        .collect::<Result<Vec<_>, InvalidInput>>()?;
    Ok((listed, picked))
}
