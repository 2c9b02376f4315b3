//! One repository of the fleet read through the API, without a clone: the head commit of its
//! default branch (`git/ref`), one tarball of that commit (kept: `.tf`, `.tofu`, `.hcl` and the
//! config file), scanned in memory; its open update pull requests and the gates holding them.
//! A tarball at a commit never changes, so with a cache the next run downloads nothing unless the
//! branch moved. Whatever fails is the repository's row, never the run's end.

use super::fleet_model::{DeriveEnvs, FleetEnv, ReadConfig, RepoStatus, UpdatePull};
use super::gates::{NO_CHECKS_HINT, PromoteGates, hold};
use super::status::{self, Soaking};
use crate::clients::github::{GitHub, GitHubError, check_repository};
use crate::clients::moduletree::Files;
use crate::clients::wire::{GitRef, PullSummary, RepoSummary};
use crate::clock::{self, Timestamp};
use crate::find::memory::MemoryFiles;
use crate::find::scan::ScanReport;
use crate::update::branch::dependency_of;
use crate::update::publish::RepoRef;
use std::time::Duration;

/// The config files looked for, in this order (as in a checkout).
pub const CONFIG_PATHS: [&str; 2] = [".github/baton.toml", "baton.toml"];

/// What reading one repository needs besides the client.
#[derive(Clone, Copy)]
pub struct Reading<'a> {
    /// Reads a config file.
    pub read_config: ReadConfig,
    /// Finds environments from folder names.
    pub derive: DeriveEnvs,
    /// Folders left out of every environment.
    pub exclude_dirs: &'a [String],
    /// Only this dependency.
    pub dependency: Option<&'a str>,
    /// The time taken as now.
    pub now: Timestamp,
    /// An update pull request open longer than this is stuck.
    pub stuck_after: Duration,
    /// Read archived repositories too (`--org --include-archived`); else each is a row saying so.
    pub read_archived: bool,
}

/// Why a repository cannot be read, from GitHub's answer, in words.
fn why(e: &GitHubError) -> String {
    match e.status() {
        Some(404) => "not found, or the token cannot see it (404)".into(),
        Some(403) => format!(
            "no access (403: {}); the token needs read access to its contents and pull requests",
            e.message().unwrap_or("forbidden")
        ),
        Some(409) => "empty repository (no commit yet)".into(),
        Some(451) => "unavailable for legal reasons (451)".into(),
        _ => e.to_string(),
    }
}

/// Reads one repository; `known` is its listing entry when it came from an organisation.
pub async fn read_repo(
    gh: &GitHub,
    full: &str,
    known: Option<RepoSummary>,
    reading: Reading<'_>,
) -> RepoStatus {
    let Some((owner, name)) = full.split_once('/') else {
        return RepoStatus::unreachable(full, "not an owner/name");
    };
    if let Err(e) = check_repository(owner, name) {
        return RepoStatus::unreachable(full, e.to_string());
    }
    let info = match known {
        Some(info) => info,
        None => match gh
            .get_json::<RepoSummary>(&format!("/repos/{owner}/{name}"))
            .await
        {
            Ok(info) => info,
            Err(e) => return RepoStatus::unreachable(full, why(&e)),
        },
    };
    if info.archived && !reading.read_archived {
        return RepoStatus::unreachable(full, "archived");
    }
    if info.disabled {
        return RepoStatus::unreachable(full, "disabled by GitHub");
    }
    let Some(branch) = info
        .default_branch
        .filter(|b| !b.is_empty() && info.size != Some(0))
    else {
        return RepoStatus::unreachable(full, "empty repository (no default branch)");
    };
    let head: GitRef = match gh
        .get_json(&format!(
            "/repos/{owner}/{name}/git/ref/heads/{}",
            encode(&branch)
        ))
        .await
    {
        Ok(r) => r,
        Err(e) if matches!(e.status(), Some(404 | 409)) => {
            return RepoStatus::unreachable(
                full,
                format!("empty repository (no commit on {branch})"),
            );
        }
        Err(e) => return RepoStatus::unreachable(full, why(&e)),
    };
    let sha = head.object.sha;
    let files = match tarball(gh, owner, name, &sha).await {
        Ok(files) => files,
        Err(e) => return RepoStatus::unreachable(full, format!("cannot read its files: {e}")),
    };
    let repo = RepoRef {
        host: String::new(),
        owner: owner.to_string(),
        name: name.to_string(),
    };
    let (mut out, envs) = match scan_files(full, files, reading).await {
        Ok(read) => read,
        Err(reason) => return RepoStatus::unreachable(full, reason),
    };
    out.commit = sha;
    if let Err(e) = pulls(gh, &repo, &envs, reading, &mut out).await {
        out.warnings
            .push(format!("cannot read its pull requests: {e}"));
    }
    if let Err(e) = soak(gh, &repo, &envs, reading, &mut out).await {
        out.warnings
            .push(format!("cannot read when versions landed (soak): {e}"));
    }
    out
}

/// A branch name for a URL path (`/` kept).
fn encode(branch: &str) -> String {
    branch
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The files fleet status reads of a commit: Terraform, OpenTofu and HCL, and the config file.
async fn tarball(gh: &GitHub, owner: &str, name: &str, sha: &str) -> Result<Files, String> {
    let route = format!("/repos/{owner}/{name}/tarball/{sha}");
    let url = format!("{}{route}", gh.api_url());
    gh.download(&route, move |body| {
        Files::from_tar_gz_keeping(body, &|rel| {
            rel.ends_with(".tf")
                || rel.ends_with(".tofu")
                || rel.ends_with(".hcl")
                || CONFIG_PATHS.contains(&rel)
        })
        .map_err(|e| format!("GET {url}: {e}"))
    })
    .await
}

/// The environments of a repository: its config file, else its folder names.
fn setup(
    full: &str,
    files: &MemoryFiles,
    read_config: ReadConfig,
    derive: DeriveEnvs,
) -> Result<(Vec<FleetEnv>, String), String> {
    let found: Vec<&str> = CONFIG_PATHS
        .iter()
        .copied()
        .filter(|p| files.get(p).is_some())
        .collect();
    match found.as_slice() {
        [a, b, ..] => Err(format!("both {a} and {b} exist; keep one of them")),
        [path] => {
            let text = files.get(path).unwrap_or_default();
            let envs = read_config(text, path)?;
            Ok((envs, (*path).to_string()))
        }
        [] => {
            let tops: Vec<String> = files
                .top_folders()
                .into_iter()
                .map(str::to_string)
                .collect();
            let derived = derive(&tops);
            if derived.is_empty() {
                return Err(format!(
                    "no {} and no environment folders (dev, stage, prod, …) at the top of {full}",
                    CONFIG_PATHS[0]
                ));
            }
            let names: Vec<&str> = derived.iter().map(|(n, _)| n.as_str()).collect();
            let source = format!("folder names ({})", names.join(", "));
            Ok((
                derived
                    .into_iter()
                    .map(|(name, glob)| FleetEnv::derived(&name, glob))
                    .collect(),
                source,
            ))
        }
    }
}

/// Scans every environment of the files (on a blocking thread: it is CPU work) and builds the
/// repository's row and its environments.
async fn scan_files(
    full: &str,
    files: Files,
    reading: Reading<'_>,
) -> Result<(RepoStatus, Vec<FleetEnv>), String> {
    let full = full.to_string();
    let exclude = reading.exclude_dirs.to_vec();
    let only = reading.dependency.map(str::to_string);
    let read_config = reading.read_config;
    let derive = reading.derive;
    tokio::task::spawn_blocking(move || {
        let files = MemoryFiles::new(&full, files.files);
        let (envs, source) = setup(&full, &files, read_config, derive)?;
        let mut out = RepoStatus::read(&full, source);
        let mut reports: Vec<(String, ScanReport)> = Vec::new();
        for env in &envs {
            let spec = status::EnvSpec {
                name: env.name.clone(),
                include: env.include.clone(),
                exclude: env.exclude.clone(),
            };
            let dirs = status::Environment::new(&spec, &exclude)
                .map_err(|e| format!("environment {}: {e}", env.name))?
                .dirs;
            let report = files.scan(&dirs);
            out.warnings.extend(report.errors.iter().map(|e| {
                format!(
                    "{}{}: {}",
                    e.file,
                    e.line.map(|l| format!(":{l}")).unwrap_or_default(),
                    e.message
                )
            }));
            if report.files_read == 0 {
                out.warnings.push(format!(
                    "environment {}: no Terraform or Terragrunt files matched {}",
                    env.name,
                    env.include.join(",")
                ));
            }
            reports.push((env.name.clone(), report));
        }
        let mut matrix = status::matrix(&reports);
        if let Some(id) = only.as_deref() {
            matrix.dependencies.retain(|d| d.id == id);
        }
        out.environments = matrix.environments.clone();
        out.dependencies = RepoStatus::dependencies_of(&matrix);
        Ok((out, envs))
    })
    .await
    .map_err(|e| format!("the scan stopped: {e}"))?
}

/// The environment an update branch or its labels name, and the dependency its branch names.
fn update_of<'a>(
    envs: &'a [FleetEnv],
    pull: &PullSummary,
) -> Option<(&'a FleetEnv, Option<String>)> {
    let by_branch = envs
        .iter()
        .filter(|e| !e.branch_prefix.is_empty())
        .filter_map(|e| Some((e, dependency_of(&e.branch_prefix, &pull.head.branch)?)))
        .max_by_key(|(e, _)| e.branch_prefix.len());
    if let Some((env, id)) = by_branch {
        return Some((env, Some(id)));
    }
    envs.iter()
        .find(|e| pull.labels.iter().any(|l| e.labels.contains(&l.name)))
        .map(|e| (e, None))
}

/// The open update pull requests, how long they have been open and what gates hold them.
async fn pulls(
    gh: &GitHub,
    repo: &RepoRef,
    envs: &[FleetEnv],
    reading: Reading<'_>,
    out: &mut RepoStatus,
) -> Result<(), GitHubError> {
    let open: Vec<PullSummary> = gh
        .all_pages(&format!(
            "/repos/{}/{}/pulls?state=open&per_page=100",
            repo.owner, repo.name
        ))
        .await?;
    for pull in open {
        let Some((env, dependency)) = update_of(envs, &pull) else {
            continue;
        };
        let opened = clock::parse_instant(&pull.created_at).unwrap_or(reading.now);
        let open_for = clock::since(opened, reading.now);
        // What the promotion out of this environment waits for: the next one's gates.
        let next = envs.iter().skip_while(|e| e.name != env.name).nth(1);
        let gates = PromoteGates {
            require_checks: true,
            required_checks: next.map(|n| n.required_checks.clone()).unwrap_or_default(),
            require_approvals: next.map_or(0, |n| n.require_approvals),
            own_run_id: None,
        };
        if reading.dependency.is_some() && dependency.as_deref() != reading.dependency {
            continue;
        }
        let mut held = hold(gh, repo, &gates, Some(&pull.head.sha), None, pull.number)
            .await
            .unwrap_or_else(|e| vec![format!("gates not read: {e}")]);
        if gates.required_checks.is_empty() {
            // No check is required: a pull request without checks holds nothing.
            held.retain(|h| !h.ends_with(NO_CHECKS_HINT));
        }
        out.pulls.push(UpdatePull {
            number: pull.number,
            url: pull.html_url,
            title: pull.title,
            environment: env.name.clone(),
            dependency,
            opened_at: clock::rfc3339(opened),
            open_for_secs: open_for.as_secs(),
            stuck: open_for > reading.stuck_after,
            held,
        });
    }
    out.pulls.sort_by_key(|p| p.number);
    Ok(())
}

/// Marks the pending promotions into an environment with a soak time that the version has not
/// yet served in the environment before: it landed there when its update pull request merged
/// (the latest 100 closed pull requests are read, once, and only when a soak time applies).
async fn soak(
    gh: &GitHub,
    repo: &RepoRef,
    envs: &[FleetEnv],
    reading: Reading<'_>,
    out: &mut RepoStatus,
) -> Result<(), GitHubError> {
    let soaked = |to: &str| envs.iter().find(|e| e.name == to).and_then(|e| e.min_soak);
    let needed = out
        .dependencies
        .iter()
        .any(|d| d.pending.iter().any(|g| soaked(&g.to).is_some()));
    if !needed {
        return Ok(());
    }
    let closed: Vec<PullSummary> = gh
        .get_json(&format!(
            "/repos/{}/{}/pulls?state=closed&sort=updated&direction=desc&per_page=100",
            repo.owner, repo.name
        ))
        .await?;
    for d in &mut out.dependencies {
        for gap in &d.pending {
            let (Some(min), Some(from)) =
                (soaked(&gap.to), envs.iter().find(|e| e.name == gap.from))
            else {
                continue;
            };
            let landed = closed
                .iter()
                .filter(|p| {
                    dependency_of(&from.branch_prefix, &p.head.branch).as_deref()
                        == Some(d.id.as_str())
                })
                .filter_map(|p| clock::parse_instant(p.merged_at.as_deref()?).ok())
                .max();
            let reason = match landed {
                Some(at) => {
                    let held = clock::since(at, reading.now);
                    if held >= min {
                        continue;
                    }
                    format!(
                        "soaking in {}: {} of {} before {}; ready after {}",
                        gap.from,
                        clock::human(held),
                        clock::human(min),
                        gap.to,
                        clock::stamp(clock::add(at, min))
                    )
                }
                None => format!(
                    "soak of {} in {} before {}: when {} landed there is not known (no merged update pull request among the latest 100 closed)",
                    clock::human(min),
                    gap.from,
                    gap.to,
                    gap.ahead
                ),
            };
            d.soaking.push(Soaking {
                from: gap.from.clone(),
                to: gap.to.clone(),
                reason,
            });
        }
    }
    Ok(())
}
