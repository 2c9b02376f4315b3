//! What a pull request says: its title, the commit message and the body (the versions crossed,
//! the release notes in between, every line changed and every usage left alone).

use crate::clients::github::{GitHub, Release};
use crate::find::scan::{ScanReport, Usage};
use crate::find::source::Source;
use crate::output::{cell, code, html_text, md_quote, md_text, md_url};
use crate::resolve::{self, Lookup};
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
        let usages: Vec<&Usage> = report
            .usages
            .iter()
            .filter(|u| u.dependency.as_deref() == Some(id))
            .collect();
        let source = usages.iter().find_map(|u| u.address.as_ref());
        let lookup = source.and_then(Lookup::of);
        if let Some(Lookup::GitHub { owner, repo }) = &lookup {
            repos.push((owner.clone(), repo.clone()));
        }
        let module = match source {
            Some(Source::Git(g)) => resolve::tag_module(&usages, g.subdir.as_deref()),
            _ => None,
        };
        deps.push((id.clone(), from, to.clone(), lookup, module));
    }
    repos.sort();
    repos.dedup();
    let releases = fetch_releases(gh, &repos).await;
    let deps: Vec<BodyDependency> = deps
        .into_iter()
        .map(|(id, from, to, lookup, module)| BodyDependency {
            releases: match lookup {
                Some(Lookup::GitHub { owner, repo }) => own_releases(
                    releases.get(&(owner, repo)).map_or(&[][..], Vec::as_slice),
                    module.as_deref(),
                ),
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
    })
}

/// The releases of a module's own tags: in a repository that tags each of its modules
/// (`vpc-v1.2.0`, `eks-v1.2.0`), those naming `module`, as version lookups count them.
fn own_releases(releases: &[Release], module: Option<&str>) -> Vec<Release> {
    let tags: Vec<String> = releases.iter().map(|r| r.tag_name.clone()).collect();
    let own: std::collections::BTreeSet<&str> = version::module_versions(&tags, module)
        .into_iter()
        .map(|(_, tag)| tag)
        .collect();
    releases
        .iter()
        .filter(|r| own.contains(r.tag_name.as_str()))
        .cloned()
        .collect()
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
        let _ = writeln!(
            out,
            "## Update {} from {from} to {}\n",
            code(&dep.id),
            dep.to
        );
    }
    let _ = writeln!(
        out,
        "Baton updated {} in **{}** with the {} strategy. Only version strings changed.\n",
        if input.dependencies.len() == 1 {
            "this dependency"
        } else {
            "these dependencies"
        },
        md_text(input.environment),
        code(input.strategy)
    );
    out.push_str("| File | Line | Previous | New |\n|---|---|---|---|\n");
    for c in input.changes {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&code(&c.file)),
            c.line,
            cell(&code(&c.from)),
            cell(&code(&c.to))
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
                "\n> [!WARNING]\n> {} {first} is a breaking release: read its notes and plan before merging.",
                code(&dep.id)
            );
        }
        if crossed.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### Release notes of {}\n", code(&dep.id));
        for (v, r) in &crossed {
            let mark = if breaking.contains(&v) {
                " — **breaking**"
            } else {
                ""
            };
            match md_url(&r.html_url) {
                Some(url) => {
                    let _ = writeln!(out, "- [{}]({url}){mark}", md_text(&r.tag_name));
                }
                None => {
                    let _ = writeln!(out, "- {}{mark}", md_text(&r.tag_name));
                }
            }
        }
        for (_, r) in crossed.iter().rev() {
            let Some(body) = r.body.as_deref().map(str::trim).filter(|b| !b.is_empty()) else {
                continue;
            };
            // Notes are the module publisher's text: quoted, so they change nothing around them.
            let mut text: String = body.chars().take(NOTES_LIMIT).collect();
            let cut = text.len() < body.len();
            if cut {
                text.push('…');
            }
            let mut notes = md_quote(&text);
            if let (true, Some(url)) = (cut, md_url(&r.html_url)) {
                let _ = writeln!(notes, "\n[Read more]({url})");
            }
            let _ = writeln!(
                out,
                "\n<details><summary>{}</summary>\n\n{}\n</details>",
                html_text(&r.tag_name),
                notes
            );
        }
    }
    if !input.skipped.is_empty() {
        out.push_str("\n### Not updated\n\n");
        for s in input.skipped {
            let _ = writeln!(
                out,
                "- {}: {}",
                code(&format!("{}:{}", s.file, s.line)),
                md_text(&s.reason)
            );
        }
    }
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

    #[test]
    fn third_party_text_changes_nothing_around_it() {
        // Tags, release notes and reasons come from others: once they could close the
        // collapsible section, hide the rest of the body in a comment or ping a team.
        let deps = [BodyDependency {
            id: "acme/m`x`/vpc".into(),
            from: Some(Version::new(0, 8, 0)),
            to: Version::new(0, 9, 0),
            releases: vec![Release {
                tag_name: "</summary></details><!--@acme/admins-v0.9.0".into(),
                name: None,
                html_url: "https://github.com/acme/m/releases/tag/x)(javascript:alert(1)".into(),
                body: Some("@acme/admins </details>\n<!--\n```".into()),
                draft: false,
                prerelease: false,
            }],
        }];
        let changes = [Change {
            file: "dev/a`b/@acme/main.tf".into(),
            line: 3,
            dependency: "acme/m`x`/vpc".into(),
            from: "v0.8.0".into(),
            to: "v0.9.0".into(),
        }];
        let skipped = [crate::spec::SkippedUsage {
            file: "dev/s.tf".into(),
            line: 1,
            dependency: None,
            current: None,
            reason: "ref \"@acme/admins<!--\" is a branch".into(),
        }];
        let body = render_body(&BodyInput {
            environment: "dev @acme/admins",
            strategy: "next-breaking",
            dependencies: &deps,
            changes: &changes,
            skipped: &skipped,
        });
        // `\<` is a literal `<` in markdown.
        let html = body.replace("\\<", "");
        assert!(
            !html.contains("<!--") && !body.contains("@acme/admins"),
            "{body}"
        );
        assert_eq!(html.matches("</details>").count(), 1, "{body}");
        assert!(body.contains("<summary>&lt;/summary&gt;&lt;/details&gt;&lt;!--@\u{200b}acme/admins-v0.9.0</summary>"), "{body}");
        assert!(body.contains("| ``dev/a`b/@acme/main.tf`` | 3 |"), "{body}");
        assert!(
            body.contains("## Update ``acme/m`x`/vpc`` from 0.8.0 to 0.9.0"),
            "{body}"
        );
        assert!(
            body.contains(
                "(https://github.com/acme/m/releases/tag/x%29%28javascript:alert%281%29)"
            ),
            "{body}"
        );
        insta::assert_snapshot!("hostile_body", body);
    }
}
