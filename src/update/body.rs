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
    impact: &str,
) -> String {
    pr_body_in(
        gh,
        environment,
        strategy,
        plan,
        targets,
        report,
        &BodyContext {
            impact: impact.to_string(),
            ..BodyContext::default()
        },
    )
    .await
}

/// [`pr_body`] with where the update comes from and where it goes next.
pub async fn pr_body_in(
    gh: &GitHub,
    environment: &str,
    strategy: Strategy,
    plan: &UpdatePlan,
    targets: &BTreeMap<String, Version>,
    report: &ScanReport,
    context: &BodyContext,
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
    let given: Vec<(String, String)> = match &context.module_release {
        Some(r) => {
            let (o, n) = r.owner_repo();
            repos
                .iter()
                .filter(|(ro, rn)| ro.eq_ignore_ascii_case(o) && rn.eq_ignore_ascii_case(n))
                .cloned()
                .collect()
        }
        None => Vec::new(),
    };
    repos.retain(|r| !given.contains(r));
    let mut releases = fetch_releases(gh, &repos).await;
    if let Some(r) = &context.module_release {
        for key in given {
            releases.insert(key, vec![announced(r)]);
        }
    }
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
    render_body_in(
        &BodyInput {
            environment,
            strategy,
            dependencies: &deps,
            changes: &plan.changes,
            skipped: &plan.skipped,
            impact: &context.impact,
        },
        context,
    )
}

/// Where a promoted update comes from: the previous environment's merged pull request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// The previous environment's name.
    pub environment: Option<String>,
    /// Its pull request that merged the version.
    pub pull_request: Option<u64>,
    /// The commit it merged as.
    pub sha: Option<String>,
    /// The previous environment's folders, as globs.
    pub from_dirs: Option<String>,
}

/// What the body says around the edits: where they come from and where they go next.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyContext {
    /// Set when the update promotes what landed in the previous environment.
    pub promoted_from: Option<Provenance>,
    /// The repository's page (`https://github.com/acme/live`), for links to pull requests and
    /// commits.
    pub repository_url: Option<String>,
    /// The environment Baton opens the same update in once this one merges; `None`: none is
    /// announced (the last environment, or one that does not say).
    pub next_environment: Option<String>,
    /// The "Impact on this environment" section ([`crate::update::impact`]), or empty.
    pub impact: String,
    /// The module release the update answers (`new_module_release`): its repository's releases
    /// are not listed, the release itself is linked.
    pub module_release: Option<crate::spec::release::ModuleRelease>,
    /// For a group's update: one section per dependency, and what was left out.
    pub group: Option<GroupBody>,
}

/// What the body of a group's update says beyond a single update's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupBody {
    /// The group's name.
    pub name: String,
    /// Its dependencies the update does not move, with why.
    pub left_out: Vec<(String, String)>,
    /// The "Impact on this environment" part of each dependency, by ID (empty or absent: none).
    pub impacts: BTreeMap<String, String>,
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
    /// The "Impact on this environment" section ([`crate::update::impact`]), or empty.
    pub impact: &'a str,
}

/// The longest release-notes excerpt included per version.
const NOTES_LIMIT: usize = 1500;

/// GitHub refuses a pull request body of 65,536 characters or more; Baton stays below this.
pub const BODY_LIMIT: usize = 65_000;

/// How much of the release notes and the file table a body holds, from all to little.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Characters of release notes per version; 0: links only.
    notes: usize,
    /// Release links listed per dependency.
    links: usize,
    /// Rows of the file table.
    rows: usize,
}

const BUDGETS: [Budget; 6] = [
    Budget {
        notes: NOTES_LIMIT,
        links: usize::MAX,
        rows: usize::MAX,
    },
    Budget {
        notes: 600,
        links: usize::MAX,
        rows: usize::MAX,
    },
    Budget {
        notes: 200,
        links: usize::MAX,
        rows: usize::MAX,
    },
    Budget {
        notes: 0,
        links: usize::MAX,
        rows: usize::MAX,
    },
    Budget {
        notes: 0,
        links: 40,
        rows: usize::MAX,
    },
    Budget {
        notes: 0,
        links: 20,
        rows: 200,
    },
];

/// Renders the pull request body (GitHub markdown).
pub fn render_body(input: &BodyInput<'_>) -> String {
    render_body_in(input, &BodyContext::default())
}

/// Renders the pull request body in its context, below GitHub's limit: the release notes are
/// cut first (shorter excerpts, then links only, with a link to all of them), then the list of
/// releases, then the file table (the commit lists every change).
pub fn render_body_in(input: &BodyInput<'_>, context: &BodyContext) -> String {
    for budget in BUDGETS {
        let body = render(input, context, budget);
        if body.chars().count() < BODY_LIMIT {
            return body;
        }
    }
    let mut body = render(input, context, BUDGETS[BUDGETS.len() - 1]);
    let note =
        "\n\n… (cut to fit GitHub's limit on pull request text; the commit lists every change)\n";
    let keep = BODY_LIMIT - note.chars().count() - 1;
    body = body.chars().take(keep).collect();
    body.push_str(note);
    body
}

/// The releases page of a release (`…/releases/tag/v1` → `…/releases`).
fn releases_page(r: &Release) -> String {
    match r.html_url.find("/releases/") {
        Some(at) => format!("{}/releases", &r.html_url[..at]),
        None => r.html_url.clone(),
    }
}

/// A version written in a change (`v0.8.0`, `vpc-v1.2.0`, `1.2.0`, `~> 3.0`).
fn written_version(text: &str) -> Option<Version> {
    version::split_tag(text)
        .map(|(_, v)| v)
        .or_else(|| version::parse_version(text))
        .or_else(|| {
            version::Constraint::parse(text)
                .ok()
                .and_then(|c| c.floor())
        })
}

/// The breaking releases among `crossed`: those that open a new series (a major, or a minor
/// below 1.0) against the release just before them (or the lowest version in use).
fn breaking_releases(dep: &BodyDependency, froms: &[Version], crossed: &[Version]) -> Vec<Version> {
    let mut known: Vec<Version> = dep
        .releases
        .iter()
        .filter_map(|r| version::split_tag(&r.tag_name).map(|(_, v)| v))
        .filter(|v| v.pre.is_empty())
        .chain(froms.iter().cloned())
        .collect();
    known.sort();
    known.dedup();
    crossed
        .iter()
        .filter(|v| {
            known
                .iter()
                .rev()
                .find(|k| *k < *v)
                .is_some_and(|before| version::is_breaking(before, v))
        })
        .cloned()
        .collect()
}

/// The body with as much as `budget` allows, section by section.
fn render(input: &BodyInput<'_>, context: &BodyContext, budget: Budget) -> String {
    if let Some(group) = &context.group {
        return render_group(input, context, group, budget);
    }
    let mut out = String::new();
    headings(&mut out, input);
    introduction(&mut out, input, context);
    file_table(&mut out, input.changes, budget.rows);
    for dep in input.dependencies {
        dependency_section(&mut out, input.changes, dep, budget);
    }
    shared_files(&mut out, input.changes);
    assumed(&mut out, input.changes);
    not_updated(&mut out, input.skipped);
    out.push_str(input.impact);
    how_to_review(&mut out, context);
    out
}

/// The body of a group's update: what moved together, then one section per dependency (its
/// versions, files, breaking releases and impact), then what was left out and why.
fn render_group(
    input: &BodyInput<'_>,
    context: &BodyContext,
    group: &GroupBody,
    budget: Budget,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Update group {} in {}\n\nBaton updated {} of group {} together in **{}**, in one commit, with the {} strategy. Only version strings changed.\n",
        code(&group.name),
        md_text(input.environment),
        crate::output::count(input.dependencies.len(), "dependency", "dependencies"),
        code(&group.name),
        md_text(input.environment),
        code(input.strategy)
    );
    if let Some(p) = &context.promoted_from {
        out.push_str(&provenance(p, context.repository_url.as_deref()));
    }
    for dep in input.dependencies {
        let from = dep
            .from
            .as_ref()
            .map_or("?".to_string(), ToString::to_string);
        let _ = writeln!(out, "\n### {} from {from} to {}\n", code(&dep.id), dep.to);
        let changes: Vec<Change> = input
            .changes
            .iter()
            .filter(|c| c.dependency == dep.id)
            .cloned()
            .collect();
        file_table(&mut out, &changes, budget.rows);
        dependency_section(&mut out, input.changes, dep, budget);
        if let Some(impact) = group.impacts.get(&dep.id) {
            out.push_str(&impact.replacen("### Impact", "#### Impact", 1));
        }
    }
    if !group.left_out.is_empty() {
        let _ = writeln!(
            out,
            "\n### Left out of this update\n\nThese dependencies of group {} are not moved by this pull request:\n",
            code(&group.name)
        );
        for (id, reason) in &group.left_out {
            let _ = writeln!(out, "- {}: {}", code(id), md_text(reason));
        }
    }
    shared_files(&mut out, input.changes);
    not_updated(&mut out, input.skipped);
    how_to_review(&mut out, context);
    out
}

/// One heading per dependency: the versions it moves between.
fn headings(out: &mut String, input: &BodyInput<'_>) {
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
}

/// What Baton did, where and with which strategy, and where a promoted update comes from.
fn introduction(out: &mut String, input: &BodyInput<'_>, context: &BodyContext) {
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
    if let Some(p) = &context.promoted_from {
        out.push_str(&provenance(p, context.repository_url.as_deref()));
    }
}

/// The table of every change (up to `rows` of them, then how many more).
fn file_table(out: &mut String, changes: &[Change], rows: usize) {
    out.push_str("| File | Line | Previous | New |\n|---|---|---|---|\n");
    for c in changes.iter().take(rows) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&code(&c.file)),
            c.line,
            cell(&code(&c.from)),
            cell(&code(&c.to))
        );
    }
    if changes.len() > rows {
        let _ = writeln!(
            out,
            "\n… and {} more changes, left out to fit GitHub's limit on pull request text: the commit lists every one.",
            changes.len() - rows
        );
    }
}

/// What a dependency crosses: the warning about its breaking releases, then the releases and
/// their notes.
fn dependency_section(out: &mut String, changes: &[Change], dep: &BodyDependency, budget: Budget) {
    let crossed = crossed_releases(dep);
    // Each usage is judged from its own version: one already past a break does not cross it.
    let usages: Vec<(&Change, Option<Version>)> = changes
        .iter()
        .filter(|c| c.dependency == dep.id)
        .map(|c| (c, written_version(&c.from)))
        .collect();
    let breaking = breaking_versions(dep, &usages, &crossed);
    breaking_warning(out, dep, &usages, &breaking, budget.rows);
    if crossed.is_empty() {
        return;
    }
    release_list(out, dep, &crossed, &breaking, budget);
    if budget.notes == 0 {
        return;
    }
    release_notes(out, &crossed, budget.notes);
}

/// The breaking versions of a dependency: those among the releases crossed, or, without a
/// release list, the target when some usage's own move to it is breaking.
fn breaking_versions(
    dep: &BodyDependency,
    usages: &[(&Change, Option<Version>)],
    crossed: &[(Version, &Release)],
) -> Vec<Version> {
    let froms: Vec<Version> = usages.iter().filter_map(|(_, v)| v.clone()).collect();
    let crossed_versions: Vec<Version> = crossed.iter().map(|(v, _)| v.clone()).collect();
    if dep.releases.is_empty() {
        // No release list: a usage's own move is breaking or not.
        let mut to = vec![dep.to.clone()];
        to.retain(|t| froms.iter().any(|f| version::is_breaking(f, t)));
        to
    } else {
        breaking_releases(dep, &froms, &crossed_versions)
    }
}

/// The warning that a dependency crosses breaking releases, with every usage that crosses one
/// (up to `rows` of them); nothing when none does.
fn breaking_warning(
    out: &mut String,
    dep: &BodyDependency,
    usages: &[(&Change, Option<Version>)],
    breaking: &[Version],
    rows: usize,
) {
    let crossing: Vec<(&Change, Vec<&Version>)> = usages
        .iter()
        .map(|(c, from)| {
            let vs = breaking
                .iter()
                .filter(|b| {
                    **b <= dep.to
                        && from
                            .as_ref()
                            .is_none_or(|f| *b > f && version::is_breaking(f, b))
                })
                .collect::<Vec<_>>();
            (*c, vs)
        })
        .filter(|(_, vs)| !vs.is_empty())
        .collect();
    if crossing.is_empty() {
        return;
    }
    let listed: Vec<String> = breaking.iter().map(ToString::to_string).collect();
    let _ = match listed.as_slice() {
        [one] => writeln!(
            out,
            "\n> [!WARNING]\n> {} {one} is a breaking release: read its notes and plan before merging.",
            code(&dep.id)
        ),
        _ => writeln!(
            out,
            "\n> [!WARNING]\n> {} crosses the breaking releases {}: read their notes and plan before merging.",
            code(&dep.id),
            listed.join(", ")
        ),
    };
    for (c, vs) in crossing.iter().take(rows) {
        let vs: Vec<String> = vs.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out,
            "> - {} ({} → {}) crosses {}",
            code(&format!("{}:{}", c.file, c.line)),
            code(&c.from),
            code(&c.to),
            vs.join(", ")
        );
    }
    if crossing.len() > rows {
        let _ = writeln!(out, "> - … and {} more", crossing.len() - rows);
    }
}

/// "Release notes of …": a link to each release crossed (breaking releases and the newest first
/// when the list is cut), and a word when the notes below are shortened.
fn release_list(
    out: &mut String,
    dep: &BodyDependency,
    crossed: &[(Version, &Release)],
    breaking: &[Version],
    budget: Budget,
) {
    let page = md_url(&releases_page(crossed[0].1)).unwrap_or_default();
    let _ = writeln!(out, "\n### Release notes of {}\n", code(&dep.id));
    // Breaking releases and the newest first when the list is cut.
    let shown: Vec<&(Version, &Release)> = if crossed.len() > budget.links {
        let mut keep: Vec<&(Version, &Release)> = crossed
            .iter()
            .filter(|(v, _)| breaking.contains(v))
            .chain(crossed.iter().rev().take(budget.links / 2))
            .collect();
        keep.sort_by(|a, b| a.0.cmp(&b.0));
        keep.dedup_by(|a, b| a.0 == b.0);
        keep.truncate(budget.links);
        keep
    } else {
        crossed.iter().collect()
    };
    for (v, r) in &shown {
        let mark = if breaking.contains(v) {
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
    if shown.len() < crossed.len() {
        let _ = writeln!(
            out,
            "- … and {} more releases: {page}",
            crossed.len() - shown.len()
        );
    }
    let cut = budget.notes < NOTES_LIMIT
        && crossed.iter().any(|(_, r)| {
            r.body
                .as_deref()
                .is_some_and(|b| b.trim().chars().count() > budget.notes)
        });
    if cut {
        let _ = writeln!(
            out,
            "\nRelease notes shortened to fit GitHub's limit on pull request text: read them all at {page}"
        );
    }
}

/// The notes of each release crossed, newest first, in collapsed sections: quoted, and cut to
/// `limit` characters with a link to the rest.
fn release_notes(out: &mut String, crossed: &[(Version, &Release)], limit: usize) {
    for (_, r) in crossed.iter().rev() {
        let Some(body) = r.body.as_deref().map(str::trim).filter(|b| !b.is_empty()) else {
            continue;
        };
        // Notes are the module publisher's text: quoted, so they change nothing around them.
        let mut text: String = body.chars().take(limit).collect();
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

/// "Shared files": each version written once for several units, and the files that read it.
fn shared_files(out: &mut String, changes: &[Change]) {
    let shared: Vec<&Change> = changes.iter().filter(|c| !c.used_by.is_empty()).collect();
    if shared.is_empty() {
        return;
    }
    out.push_str(
        "\n### Shared files\n\nThese versions are written once in a file that several units read: each was edited there, and every file listed takes the new version from it. All of them are in this environment (Baton refuses to edit a shared file that another environment reads).\n\n",
    );
    for c in shared {
        let readers: Vec<String> = c.used_by.iter().map(|f| code(f)).collect();
        let _ = writeln!(
            out,
            "- {} line {} ({} {} → {}) is read by {}",
            code(&c.file),
            c.line,
            code(&c.dependency),
            code(&c.from),
            code(&c.to),
            readers.join(", ")
        );
    }
}

/// "Assumed when scanning": the versions found through a value Baton cannot read (an
/// environment variable's default), so that a reviewer knows what the edit rests on.
fn assumed(out: &mut String, changes: &[Change]) {
    let noted: Vec<&Change> = changes.iter().filter(|c| !c.notes.is_empty()).collect();
    if noted.is_empty() {
        return;
    }
    out.push_str(
        "\n### Assumed when scanning\n\nThese versions were found through values that exist only when Terragrunt runs; the edit is right only as long as what is said here holds.\n\n",
    );
    for c in noted {
        for note in &c.notes {
            let _ = writeln!(
                out,
                "- {} ({}): {}",
                code(&format!("{}:{}", c.file, c.line)),
                code(&c.dependency),
                md_text(note)
            );
        }
    }
}

/// "Not updated": every usage left alone, and why.
fn not_updated(out: &mut String, skipped: &[crate::spec::SkippedUsage]) {
    if skipped.is_empty() {
        return;
    }
    out.push_str("\n### Not updated\n\n");
    for s in skipped {
        let _ = writeln!(
            out,
            "- {}: {}",
            code(&format!("{}:{}", s.file, s.line)),
            md_text(&s.reason)
        );
    }
}

/// "How to review": the steps, and which environment follows once this one merges.
fn how_to_review(out: &mut String, context: &BodyContext) {
    out.push_str(
        "\n### How to review\n\n\
         1. Run `terragrunt plan` (or `tofu plan` / `terraform plan`) in each changed folder of this environment and check that only expected changes appear.\n\
         2. Read the release notes above, breaking releases first.\n",
    );
    match &context.next_environment {
        Some(next) => {
            let next = cell(next);
            let _ = write!(
                out,
                "3. Merge. Baton then opens the same update in **{next}**, at exactly the version merged here.\n\n\
                 A reviewer may change the version on this branch before merging: **{next}** follows what was merged.\n"
            );
        }
        None => out.push_str(
            "3. Merge.\n\nA reviewer may change the version on this branch before merging.\n",
        ),
    }
}

/// Where a promoted update comes from, with links when the repository's page is known.
fn provenance(p: &Provenance, repository: Option<&str>) -> String {
    let mut parts = Vec::new();
    if let Some(n) = p.pull_request {
        parts.push(match repository {
            Some(url) => format!("pull request [#{n}]({url}/pull/{n})"),
            None => format!("pull request #{n}"),
        });
    }
    if let Some(sha) = p.sha.as_deref().filter(|s| !s.is_empty()) {
        let short: String = sha.chars().take(7).collect();
        let sha = cell(sha);
        parts.push(match repository {
            Some(url) => format!("merge commit [`{short}`]({url}/commit/{sha})"),
            None => format!("merge commit `{short}`"),
        });
    }
    let whence = match (&p.environment, &p.from_dirs) {
        (Some(env), _) => format!("**{}**", cell(env)),
        (None, Some(dirs)) => format!("`{}`", cell(dirs)),
        (None, None) => "the previous environment".to_string(),
    };
    let mut out = format!("Promoted from {whence}");
    if !parts.is_empty() {
        let _ = write!(out, ": {}", parts.join(", "));
    }
    out.push_str(
        ". The versions are exactly those that landed there, a reviewer's edit included.\n\n",
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

/// The release a `new_module_release` names, as the body links it (its notes are on its page).
fn announced(r: &crate::spec::release::ModuleRelease) -> Release {
    Release {
        tag_name: r.tag.clone(),
        name: Some(r.tag.clone()),
        html_url: r.url(),
        body: None,
        draft: false,
        prerelease: false,
    }
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
            used_by: vec![],
            notes: Vec::new(),
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

    #[test]
    fn body_names_every_file_that_reads_a_shared_version() {
        let deps = [BodyDependency {
            id: "acme/m/vpc".into(),
            from: Some(Version::new(1, 0, 0)),
            to: Version::new(1, 2, 0),
            releases: vec![],
        }];
        let changes = [Change {
            file: "dev/_common/versions.hcl".into(),
            line: 3,
            dependency: "acme/m/vpc".into(),
            from: "v1.0.0".into(),
            to: "v1.2.0".into(),
            used_by: vec!["dev/a/terragrunt.hcl".into(), "dev/b/terragrunt.hcl".into()],
            notes: Vec::new(),
        }];
        let body = render_body(&BodyInput {
            environment: "dev",
            strategy: "next-safe",
            dependencies: &deps,
            changes: &changes,
            skipped: &[],
            impact: "",
        });
        assert!(body.contains("### Shared files"), "{body}");
        assert!(
            body.contains(
                "- `dev/_common/versions.hcl` line 3 (`acme/m/vpc` `v1.0.0` → `v1.2.0`) is read by `dev/a/terragrunt.hcl`, `dev/b/terragrunt.hcl`"
            ),
            "{body}"
        );
        assert!(body.contains("another environment"), "{body}");
    }

    #[test]
    fn body_says_what_a_version_found_through_an_environment_default_rests_on() {
        let deps = [BodyDependency {
            id: "acme/m/vpc".into(),
            from: Some(Version::new(1, 0, 0)),
            to: Version::new(1, 2, 0),
            releases: vec![],
        }];
        let note = "`get_env(\"VPC_VERSION\", \"v1.0.0\")` is taken as its default \"v1.0.0\"";
        let changes = [Change {
            file: "dev/vpc/terragrunt.hcl".into(),
            line: 2,
            dependency: "acme/m/vpc".into(),
            from: "v1.0.0".into(),
            to: "v1.2.0".into(),
            used_by: vec![],
            notes: vec![note.into()],
        }];
        let body = render_body(&BodyInput {
            environment: "dev",
            strategy: "next-safe",
            dependencies: &deps,
            changes: &changes,
            skipped: &[],
            impact: "",
        });
        assert!(body.contains("### Assumed when scanning"), "{body}");
        assert!(
            body.contains("- `dev/vpc/terragrunt.hcl:2` (`acme/m/vpc`): ")
                && body.contains("VPC_VERSION"),
            "{body}"
        );
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
            used_by: vec![],
            notes: Vec::new(),
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
            impact: "",
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
