//! `baton history`: what was promoted where and when, read from the first-parent history of the
//! checked-out branch (see [`crate::resolve::history`]): per environment, the newest changes of
//! each dependency's version, with the commit, the pull request, who merged and what made the
//! change (an update, a promotion, a rollback or an edit by hand).

use crate::clock::{self, Timestamp};
use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use crate::output::cell;
use crate::promote::status::{EnvSpec, Environment, check_environments};
use crate::resolve::history::{self, Change, ChangeKind, EnvFolders, HistoryQuery};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;

/// How many changes per environment `baton history` lists unless told otherwise.
pub const DEFAULT_LIMIT: usize = 10;

/// What history to show.
#[derive(Debug, Clone)]
pub struct HistoryRequest {
    /// The working directory (inside a git repository); globs are relative to it.
    pub working_dir: PathBuf,
    /// The environments, in promotion order.
    pub environments: Vec<EnvSpec>,
    /// Folders to leave out of every environment.
    pub exclude_dirs: Vec<String>,
    /// Only this dependency.
    pub dependency: Option<String>,
    /// The most changes listed per environment (0: all).
    pub limit: usize,
    /// Only changes committed at or after this time.
    pub since: Option<Timestamp>,
    /// Keep the history read in this folder for the next run (`None`: read it all each time).
    pub cache_dir: Option<PathBuf>,
}

/// The history, ready to render.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryReport {
    /// The environments, in promotion order.
    pub environments: Vec<String>,
    /// The changes: environments in promotion order, newest first within each.
    pub changes: Vec<Change>,
    /// Whether the repository is a shallow clone (older changes are missing).
    pub shallow: bool,
    /// Commits read on the first-parent line.
    pub commits: usize,
    /// Changes left out by the limit, per environment.
    #[serde(skip)]
    pub left_out: Vec<(String, usize)>,
}

/// Reads the history of the environments.
pub fn run(request: &HistoryRequest, reporter: &dyn Reporter) -> anyhow::Result<HistoryReport> {
    check_environments(&request.environments).map_err(InvalidInput)?;
    let environments = request
        .environments
        .iter()
        .map(|spec| {
            Environment::new(spec, &request.exclude_dirs).map(|e| EnvFolders {
                name: e.name,
                dirs: e.dirs,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<String> = environments.iter().map(|e| e.name.clone()).collect();
    let read = history::read(
        &HistoryQuery {
            working_dir: request.working_dir.clone(),
            environments,
            dependency: request.dependency.clone().filter(|d| !d.is_empty()),
            since: request.since,
            cache_dir: request.cache_dir.clone(),
        },
        reporter,
    )?;
    if read.shallow {
        reporter.warn(Warning::general(format!(
            "the repository is a shallow clone: its history starts at {}, and what was there then counts as added then; check out with `fetch-depth: 0` for the whole history",
            read.oldest.map(clock::stamp).unwrap_or_else(|| "?".into())
        )));
    }
    let mut changes = Vec::new();
    let mut left_out = Vec::new();
    for env in &names {
        let all: Vec<&Change> = read
            .changes
            .iter()
            .filter(|c| &c.environment == env)
            .collect();
        let take = if request.limit == 0 {
            all.len()
        } else {
            request.limit.min(all.len())
        };
        if take < all.len() {
            left_out.push((env.clone(), all.len() - take));
        }
        changes.extend(all.into_iter().take(take).cloned());
    }
    Ok(HistoryReport {
        environments: names,
        changes,
        shallow: read.shallow,
        commits: read.commits,
        left_out,
    })
}

/// Versions as `a, b` (or `—` for none).
fn versions(v: &[String]) -> String {
    if v.is_empty() {
        "—".into()
    } else {
        v.join(", ")
    }
}

/// What made a change, in words.
pub fn kind_text(c: &Change) -> String {
    match (c.kind, &c.promoted_from) {
        (ChangeKind::Promotion, Some(from)) => format!("promotion from {from}"),
        (kind, _) => kind.as_str().to_string(),
    }
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Text from the repository, made safe for a terminal line.
fn plain(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

impl HistoryReport {
    /// The history as pretty JSON, with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    fn footer(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (env, n) in &self.left_out {
            out.push(format!(
                "{n} older change{} in {env} not shown (--limit)",
                if *n == 1 { "" } else { "s" }
            ));
        }
        if self.shallow {
            out.push("shallow clone: older changes are missing".into());
        }
        out.push(format!(
            "{} change{} in {} commit{} read",
            self.changes.len(),
            if self.changes.len() == 1 { "" } else { "s" },
            self.commits,
            if self.commits == 1 { "" } else { "s" }
        ));
        out
    }

    /// The history as an aligned table, then a summary line.
    pub fn to_text(&self) -> String {
        let header: Vec<String> = [
            "WHEN (UTC)",
            "ENVIRONMENT",
            "DEPENDENCY",
            "FROM",
            "TO",
            "KIND",
            "PR",
            "COMMIT",
            "MERGED BY",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let rows: Vec<Vec<String>> = self
            .changes
            .iter()
            .map(|c| {
                vec![
                    clock::stamp(c.time),
                    plain(&c.environment),
                    plain(&c.dependency),
                    plain(&versions(&c.from)),
                    plain(&versions(&c.to)),
                    plain(&kind_text(c)),
                    c.pull_request
                        .map(|n| format!("#{n}"))
                        .unwrap_or("—".into()),
                    short(&c.commit).to_string(),
                    plain(&c.merged_by),
                ]
            })
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            let _ = writeln!(out, "{}", line.join("  ").trim_end());
        }
        for line in self.footer() {
            let _ = writeln!(out, "{line}");
        }
        out
    }

    /// The history as a GitHub-flavoured markdown table, for the job summary.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from(
            "### Promotion history\n\n| When (UTC) | Environment | Dependency | From | To | Kind | Pull request | Commit | Merged by |\n|---|---|---|---|---|---|---|---|---|\n",
        );
        let code = |v: &[String]| {
            if v.is_empty() {
                "—".to_string()
            } else {
                v.iter()
                    .map(|t| format!("`{}`", cell(t)))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        for c in &self.changes {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | {} | {} | {} | `{}` | {} |",
                clock::stamp(c.time),
                cell(&c.environment),
                cell(&c.dependency),
                code(&c.from),
                code(&c.to),
                cell(&kind_text(c)),
                c.pull_request
                    .map(|n| format!("#{n}"))
                    .unwrap_or("—".into()),
                short(&c.commit),
                cell(&c.merged_by)
            );
        }
        for line in self.footer() {
            let _ = write!(out, "\n{}\n", cell(&line));
        }
        out
    }
}
