//! What a pull request says: its title, the commit message and the body (the versions crossed,
//! the release notes in between, every line changed and every usage left alone).

use crate::clients::github::{GitHub, Release};
use crate::find::scan::ScanReport;
use crate::output::cell;
use crate::resolve::Lookup;
use crate::spec::Strategy;
use crate::update::plan::{Change, UpdatePlan};
use crate::version::{self, Version};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The default pull-request title (and commit subject).
pub fn default_title(targets: &BTreeMap<String, Version>) -> String {
    match targets.iter().next() {
        Some((id, v)) if targets.len() == 1 => format!("Update {id} to {v}"),
        _ => format!("Update {} dependencies", targets.len()),
    }
}

/// The commit message: the subject, then one line per version changed.
pub fn commit_message(subject: &str, changes: &[Change]) -> String {
    let mut body = String::new();
    for c in changes {
        body.push_str(&format!("\n- {}:{}: {} → {}", c.file, c.line, c.from, c.to));
    }
    format!("{subject}\n{body}\n")
}

/// The pull request body for a plan: the versions each dependency moves between, with the
/// release notes of the module repositories on GitHub (fetched here; a failure only loses them).
pub async fn pr_body(
    gh: &GitHub,
    environment: &str,
    strategy: Strategy,
    plan: &UpdatePlan,
    targets: &BTreeMap<String, Version>,
    report: &ScanReport,
    impact: &str,
) -> String {
    let mut repos = Vec::new();
    let mut deps = Vec::new();
    for (id, to) in targets {
        if !plan.changes.iter().any(|c| &c.dependency == id) {
            continue;
        }
        let from = plan
            .changes
            .iter()
            .filter(|c| &c.dependency == id)
            .filter_map(|c| {
                version::split_tag(&c.from)
                    .map(|(_, v)| v)
                    .or_else(|| version::parse_version(&c.from))
            })
            .min();
        let lookup = report
            .usages
            .iter()
            .find(|u| u.dependency.as_deref() == Some(id))
            .and_then(|u| u.address.as_ref())
            .and_then(Lookup::of);
        if let Some(Lookup::GitHub { owner, repo }) = &lookup {
            repos.push((owner.clone(), repo.clone()));
        }
        deps.push((id.clone(), from, to.clone(), lookup));
    }
    repos.sort();
    repos.dedup();
    let releases = fetch_releases(gh, &repos).await;
    let deps: Vec<BodyDependency> = deps
        .into_iter()
        .map(|(id, from, to, lookup)| BodyDependency {
            releases: match lookup {
                Some(Lookup::GitHub { owner, repo }) => {
                    releases.get(&(owner, repo)).cloned().unwrap_or_default()
                }
                _ => Vec::new(),
            },
            id,
            from,
            to,
        })
        .collect();
    let strategy = match strategy {
        Strategy::NextSafe => "next-safe",
        Strategy::NextBreaking => "next-breaking",
    };
    render_body(&BodyInput {
        environment,
        strategy,
        dependencies: &deps,
        changes: &plan.changes,
        skipped: &plan.skipped,
        impact,
    })
}

/// What the pull request body describes for one dependency.
#[derive(Debug, Clone)]
pub struct BodyDependency {
    /// Dependency ID.
    pub id: String,
    /// Lowest version in use before.
    pub from: Option<Version>,
    /// The target.
    pub to: Version,
    /// Published releases of the module repository, when known.
    pub releases: Vec<Release>,
}

/// What the pull request body describes.
#[derive(Debug, Clone)]
pub struct BodyInput<'a> {
    /// Environment name (from the label `updates-<env>`) or the include globs.
    pub environment: &'a str,
    /// Strategy, as written.
    pub strategy: &'a str,
    /// Dependencies updated.
    pub dependencies: &'a [BodyDependency],
    /// Every change.
    pub changes: &'a [Change],
    /// Usages left alone.
    pub skipped: &'a [crate::spec::SkippedUsage],
    /// The "Impact on this environment" section ([`crate::update::impact`]), or empty.
    pub impact: &'a str,
}

/// The longest release-notes excerpt included per version.
const NOTES_LIMIT: usize = 1500;

/// Renders the pull request body (GitHub markdown).
pub fn render_body(input: &BodyInput<'_>) -> String {
    let mut out = String::new();
    for dep in input.dependencies {
        let from = dep
            .from
            .as_ref()
            .map_or("?".to_string(), ToString::to_string);
        let _ = writeln!(out, "## Update `{}` from {from} to {}\n", dep.id, dep.to);
    }
    let _ = writeln!(
        out,
        "Baton updated {} in **{}** with the `{}` strategy. Only version strings changed.\n",
        if input.dependencies.len() == 1 {
            "this dependency"
        } else {
            "these dependencies"
        },
        cell(input.environment),
        input.strategy
    );
    out.push_str("| File | Line | Previous | New |\n|---|---|---|---|\n");
    for c in input.changes {
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | `{}` |",
            cell(&c.file),
            c.line,
            cell(&c.from),
            cell(&c.to)
        );
    }
    for dep in input.dependencies {
        let crossed = crossed_releases(dep);
        let breaking: Vec<&Version> = crossed
            .iter()
            .map(|(v, _)| v)
            .filter(|v| {
                dep.from
                    .as_ref()
                    .is_some_and(|f| version::is_breaking(f, v))
            })
            .collect();
        if let Some(first) = breaking.first() {
            let _ = writeln!(
                out,
                "\n> [!WARNING]\n> `{}` {first} is a breaking release: read its notes and plan before merging.",
                dep.id
            );
        }
        if crossed.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### Release notes of `{}`\n", dep.id);
        for (v, r) in &crossed {
            let mark = if breaking.contains(&v) {
                " — **breaking**"
            } else {
                ""
            };
            let _ = writeln!(out, "- [{}]({}){mark}", r.tag_name, r.html_url);
        }
        for (_, r) in crossed.iter().rev() {
            let Some(body) = r.body.as_deref().map(str::trim).filter(|b| !b.is_empty()) else {
                continue;
            };
            let mut text: String = body.chars().take(NOTES_LIMIT).collect();
            if text.len() < body.len() {
                let _ = write!(text, "…\n\n[Read more]({})", r.html_url);
            }
            let _ = writeln!(
                out,
                "\n<details><summary>{}</summary>\n\n{}\n\n</details>",
                r.tag_name, text
            );
        }
    }
    if !input.skipped.is_empty() {
        out.push_str("\n### Not updated\n\n");
        for s in input.skipped {
            let _ = writeln!(out, "- `{}:{}`: {}", cell(&s.file), s.line, s.reason);
        }
    }
    out.push_str(input.impact);
    out.push_str(
        "\n### How to review\n\n\
         1. Run `terragrunt plan` (or `tofu plan` / `terraform plan`) in each changed folder of this environment and check that only expected changes appear.\n\
         2. Read the release notes above, breaking releases first.\n\
         3. Merge. Baton then opens the same update, at exactly the version merged here, in the next environment.\n\n\
         A reviewer may change the version on this branch before merging: the next environment follows what was merged.\n",
    );
    out
}

/// Releases after `from` up to and including `to`, oldest first.
fn crossed_releases(dep: &BodyDependency) -> Vec<(Version, &Release)> {
    let mut out: Vec<(Version, &Release)> = dep
        .releases
        .iter()
        .filter_map(|r| version::split_tag(&r.tag_name).map(|(_, v)| (v, r)))
        .filter(|(v, _)| dep.from.as_ref().is_none_or(|f| v > f) && *v <= dep.to)
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Releases per module repository, for the body (failures only lose the links).
pub async fn fetch_releases(
    gh: &GitHub,
    repos: &[(String, String)],
) -> BTreeMap<(String, String), Vec<Release>> {
    let mut out = BTreeMap::new();
    for (owner, repo) in repos {
        match gh.releases(owner, repo).await {
            Ok(r) => {
                out.insert((owner.clone(), repo.clone()), r);
            }
            Err(e) => log::warn!("release notes of {owner}/{repo} are not available: {e}"),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(tag: &str, body: &str) -> Release {
        Release {
            tag_name: tag.into(),
            name: Some(tag.into()),
            html_url: format!("https://github.com/acme/m/releases/tag/{tag}"),
            body: Some(body.into()),
            draft: false,
            prerelease: false,
        }
    }

    #[test]
    fn body_lists_files_releases_and_the_breaking_version() {
        let deps = [BodyDependency {
            id: "acme/m/vpc".into(),
            from: Some(Version::new(0, 8, 0)),
            to: Version::new(0, 9, 1),
            releases: vec![
                release("v0.7.0", "old"),
                release("v0.8.1", "fix"),
                release("v0.9.0", "BREAKING: renamed input"),
                release("v0.9.1", "patch"),
                release("v1.0.0", "future"),
            ],
        }];
        let changes = [Change {
            file: "dev/vpc/terragrunt.hcl".into(),
            line: 7,
            dependency: "acme/m/vpc".into(),
            from: "v0.8.0".into(),
            to: "v0.9.1".into(),
        }];
        let body = render_body(&BodyInput {
            environment: "dev",
            strategy: "next-breaking",
            dependencies: &deps,
            changes: &changes,
            skipped: &[],
            impact: "",
        });
        assert!(
            body.contains("## Update `acme/m/vpc` from 0.8.0 to 0.9.1"),
            "{body}"
        );
        assert!(body.contains("| `dev/vpc/terragrunt.hcl` | 7 | `v0.8.0` | `v0.9.1` |"));
        assert!(
            body.contains("[v0.9.0](https://github.com/acme/m/releases/tag/v0.9.0) — **breaking**")
        );
        assert!(body.contains("0.9.0 is a breaking release"));
        assert!(body.contains("[v0.8.1]"));
        assert!(
            !body.contains("v0.7.0") && !body.contains("v1.0.0"),
            "only crossed releases"
        );
        assert!(body.contains("How to review"));
    }
}
