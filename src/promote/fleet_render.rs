//! Fleet status as people read it: a markdown job summary (every repository name, version, pull
//! request title and reason is untrusted text, escaped) and an aligned text table; and as JSON.

use super::fleet_model::{FleetDependency, FleetReport, RepoStatus, UpdatePull};
use super::status::ABSENT;
use crate::output::{cell, code, escape_controls, md_text, md_url};
use std::fmt::Write as _;

/// Shown for an environment a repository does not have.
pub const NO_ENVIRONMENT: &str = "·";

impl FleetReport {
    /// The report as pretty JSON, with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// One line: how many repositories, pending, stuck, held, unreachable.
    pub fn summary(&self) -> String {
        let n = self.repositories.len();
        let pending = self
            .repositories
            .iter()
            .filter(|r| r.dependencies.iter().any(|d| !d.pending.is_empty()))
            .count();
        let mut line = format!(
            "{n} repositor{}: {pending} with pending promotions, {} stuck pull request{} (open more than {}), {} held by a gate, {} unreachable",
            if n == 1 { "y" } else { "ies" },
            self.stuck().len(),
            if self.stuck().len() == 1 { "" } else { "s" },
            crate::clock::human(std::time::Duration::from_secs(self.stuck_after_secs)),
            self.held().len(),
            self.unreachable().len()
        );
        if !self.skipped.is_empty() {
            let _ = write!(line, "; left out: {}", self.skipped.join(", "));
        }
        line
    }

    /// The report as markdown: stuck and held pull requests first, then the matrix.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("### Fleet status\n\n");
        let _ = writeln!(out, "{}\n", md_text(&self.summary()));
        let attention: Vec<(&RepoStatus, &UpdatePull)> = self
            .repositories
            .iter()
            .flat_map(|r| {
                r.pulls
                    .iter()
                    .filter(|p| p.stuck || !p.held.is_empty())
                    .map(move |p| (r, p))
            })
            .collect();
        if !attention.is_empty() {
            out.push_str("#### Stuck or held\n\n| Repository | Pull request | Environment | Dependency | Open for | What holds it |\n|---|---|---|---|---|---|\n");
            for (r, p) in attention {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {}{} | {} |",
                    cell(&code(&r.repository)),
                    pull_link(p),
                    md_text(&p.environment),
                    p.dependency
                        .as_deref()
                        .map(|d| cell(&code(d)))
                        .unwrap_or_default(),
                    p.open_for(),
                    if p.stuck { " ⛔" } else { "" },
                    if p.held.is_empty() {
                        "—".to_string()
                    } else {
                        p.held
                            .iter()
                            .map(|h| md_text(h))
                            .collect::<Vec<_>>()
                            .join("<br>")
                    }
                );
            }
            out.push('\n');
        }
        out.push_str(&self.markdown_matrix());
        out.push_str(
            "\n⚠ pending: a newer version runs in the environment before · 🔃 an update pull request is open · ⛔ stuck: open longer than the threshold · ✋ held by a gate · ⏳ soaking · 🔀 mixed · ⏩ ahead · ✅ nothing to promote · — not used · · no such environment\n",
        );
        out
    }

    fn markdown_matrix(&self) -> String {
        let columns = self.environment_columns();
        let mut out = String::from("#### Versions\n\n| Repository | Dependency |");
        for env in &columns {
            let _ = write!(out, " {} |", md_text(env));
        }
        out.push_str(" Status |\n|---|---|");
        out.push_str(&"---|".repeat(columns.len()));
        out.push_str("---|\n");
        for repo in &self.repositories {
            let name = cell(&code(&repo.repository));
            if let Some(why) = &repo.unreachable {
                let blanks = " |".repeat(columns.len());
                let _ = writeln!(
                    out,
                    "| {name} | |{blanks} ❌ unreachable: {} |",
                    md_text(why)
                );
                continue;
            }
            if repo.dependencies.is_empty() {
                let blanks = " |".repeat(columns.len());
                let _ = writeln!(out, "| {name} | |{blanks} no versioned module found |");
            }
            for d in &repo.dependencies {
                let _ = write!(out, "| {name} | {} |", cell(&code(&d.id)));
                for env in &columns {
                    let _ = write!(out, " {} |", versions_cell(repo, d, env, true));
                }
                let _ = writeln!(out, " {} |", status_of(repo, d, true));
            }
        }
        out
    }

    /// The report as aligned text: the matrix, the stuck and held pull requests, a summary line.
    pub fn to_text(&self) -> String {
        let t = |s: &str| escape_controls(s, false).into_owned();
        let columns = self.environment_columns();
        let mut header = vec!["REPOSITORY".to_string(), "DEPENDENCY".to_string()];
        header.extend(columns.iter().map(|c| t(c)));
        header.push("STATUS".into());
        let mut rows: Vec<Vec<String>> = Vec::new();
        for repo in &self.repositories {
            if let Some(why) = &repo.unreachable {
                let mut row = vec![t(&repo.repository), "-".into()];
                row.extend(columns.iter().map(|_| NO_ENVIRONMENT.to_string()));
                row.push(t(&format!("unreachable: {why}")));
                rows.push(row);
                continue;
            }
            for d in &repo.dependencies {
                let mut row = vec![t(&repo.repository), t(&d.id)];
                row.extend(
                    columns
                        .iter()
                        .map(|env| t(&versions_cell(repo, d, env, false))),
                );
                row.push(t(&status_of(repo, d, false)));
                rows.push(row);
            }
        }
        let mut out = table(&header, &rows);
        let attention = self.repositories.iter().flat_map(|r| {
            r.pulls
                .iter()
                .filter(|p| p.stuck || !p.held.is_empty())
                .map(move |p| (r, p))
        });
        for (r, p) in attention {
            let _ = writeln!(
                out,
                "{} #{} ({}, open {}{}): {}",
                t(&r.repository),
                p.number,
                t(&p.environment),
                p.open_for(),
                if p.stuck { ", stuck" } else { "" },
                if p.held.is_empty() {
                    "no gate holds it".to_string()
                } else {
                    t(&p.held.join("; "))
                }
            );
        }
        let _ = writeln!(out, "{}", self.summary());
        out
    }
}

fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(header).chain(rows.iter().map(Vec::as_slice)) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

fn pull_link(p: &UpdatePull) -> String {
    let title = md_text(&p.title);
    match md_url(&p.url) {
        Some(url) => format!("[#{}]({url}) {title}", p.number),
        None => format!("#{} {title}", p.number),
    }
}

/// A cell: the versions an environment runs, `—` when it does not use the dependency, `·` when
/// the repository has no such environment; an open update pull request is marked.
fn versions_cell(repo: &RepoStatus, d: &FleetDependency, env: &str, markdown: bool) -> String {
    let Some(i) = repo.environments.iter().position(|e| e == env) else {
        return NO_ENVIRONMENT.into();
    };
    let versions = d.versions.get(i).map(Vec::as_slice).unwrap_or_default();
    let mut text = if versions.is_empty() {
        ABSENT.to_string()
    } else if markdown {
        versions
            .iter()
            .map(|v| cell(&code(v)))
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        versions.join(", ")
    };
    for p in repo.pulls_for(env, &d.id) {
        let _ = write!(text, " 🔃#{}", p.number);
    }
    text
}

/// What needs doing for a dependency of a repository, in words.
fn status_of(repo: &RepoStatus, d: &FleetDependency, markdown: bool) -> String {
    let m = |s: &str| if markdown { md_text(s) } else { s.to_string() };
    let mut parts: Vec<String> = Vec::new();
    for g in &d.pending {
        let mut part = format!("⚠ pending {} → {}", m(&g.from), m(&g.to));
        let pulls = repo.pulls_for(&g.to, &d.id);
        if pulls.is_empty() {
            part.push_str(" (no pull request open)");
        }
        for p in pulls {
            let _ = write!(part, " (#{} open {}", p.number, p.open_for());
            if p.stuck {
                part.push_str(" ⛔ stuck");
            }
            if !p.held.is_empty() {
                let _ = write!(part, " ✋ {}", m(&p.held.join("; ")));
            }
            part.push(')');
        }
        parts.push(part);
    }
    parts.extend(d.soaking.iter().map(|s| format!("⏳ {}", m(&s.reason))));
    if !d.mixed.is_empty() {
        parts.push(format!("🔀 mixed: {}", m(&d.mixed.join(", "))));
    }
    parts.extend(
        d.ahead
            .iter()
            .map(|g| format!("⏩ {} ahead of {}", m(&g.to), m(&g.from))),
    );
    if parts.is_empty() {
        "✅".into()
    } else {
        parts.join(if markdown { "<br>" } else { "; " })
    }
}
