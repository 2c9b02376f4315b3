//! `baton update`: edit the version bytes of one environment's usages, then optionally commit,
//! force-push the branch and open (or reuse) the pull request.

use crate::cli::{InvalidInput, UpdateArgs};
use crate::exit;
use crate::output;
use crate::publish::{self, BodyDependency, BodyInput, PublishRequest, PublishedPr, RepoRef};
use crate::resolve::Lookup;
use crate::scan;
use crate::spec::{SkippedUsage, Spec};
use crate::update::{self, Change, EditFailure};
use crate::version::{self, Version};
use anyhow::Context as _;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write as _;

/// A dependency and the version it was updated to.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// Dependency ID.
    pub id: String,
    /// The target, without `v`.
    pub target: String,
}

/// What `baton update` did (its JSON output).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Dependencies and their targets.
    pub dependencies: Vec<Target>,
    /// Every version changed.
    pub updated: Vec<Change>,
    /// Usages of those dependencies left alone.
    pub skipped: Vec<SkippedUsage>,
    /// Files left unchanged because their edit failed.
    pub errors: Vec<EditFailure>,
    /// The branch pushed, when publishing.
    pub branch: Option<String>,
    /// The commit pushed.
    pub commit: Option<String>,
    /// The pull request opened or updated.
    pub pull_request: Option<PublishedPr>,
    /// With `--dry-run`: the changes as a unified diff.
    #[serde(skip)]
    pub diff: Option<String>,
}

impl Outcome {
    /// The exit code: a file left unchanged by a failed edit is an operational failure.
    pub fn exit_code(&self) -> u8 {
        if self.errors.is_empty() {
            exit::OK
        } else {
            exit::FAILURE
        }
    }
}

/// Reads the spec from `--spec` or `--spec-file`, refusing anything malformed before any file is
/// touched.
pub fn load_spec(args: &UpdateArgs) -> anyhow::Result<Option<Spec>> {
    let (text, origin) = match (&args.spec, &args.spec_file) {
        (Some(json), _) if !json.trim().is_empty() => (json.clone(), "--spec".to_string()),
        (_, Some(path)) => (
            std::fs::read_to_string(path).map_err(|e| {
                InvalidInput(format!("cannot read the spec file {}: {e}", path.display()))
            })?,
            path.display().to_string(),
        ),
        _ => return Ok(None),
    };
    let spec =
        Spec::parse(&text).map_err(|e| InvalidInput(format!("invalid spec in {origin}: {e}")))?;
    spec.validate(&args.env.working_dir)
        .map_err(|e| InvalidInput(format!("invalid spec in {origin}: {e}")))?;
    Ok(Some(spec))
}

/// Runs `baton update`.
pub fn run(args: &UpdateArgs) -> anyhow::Result<u8> {
    let outcome = execute(args)?;
    let text = match &outcome.diff {
        Some(diff) => diff.clone(),
        None => format!("{}\n", serde_json::to_string_pretty(&outcome)?),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(outcome.exit_code())
}

/// Edits (or, with `--dry-run`, diffs) and publishes; problems are reported on the way.
pub fn execute(args: &UpdateArgs) -> anyhow::Result<Outcome> {
    let request = args.env.scan_request()?;
    let limited = super::limited_to(args.dependency.as_deref());
    let only = limited.as_deref();
    let spec = load_spec(args)?;
    let promotion = match spec {
        Some(_) => None,
        None => super::promotion(&args.env.working_dir, &args.promote_from)?,
    };
    let publishing = args.publish && !args.dry_run;
    let branch = args
        .pull_request_branch
        .as_deref()
        .filter(|b| !b.trim().is_empty());
    if publishing && branch.is_none() {
        return Err(InvalidInput(
            "--publish needs --pull-request-branch (e.g. baton-dev-updates-<dependency>)".into(),
        )
        .into());
    }
    let author_text = args
        .commit_author
        .as_deref()
        .unwrap_or(publish::DEFAULT_AUTHOR);
    let author = publish::parse_author(author_text).ok_or_else(|| {
        InvalidInput(format!(
            "--commit-author {author_text:?} is not of the form \"Name <email>\""
        ))
    })?;

    let runtime = super::runtime()?;
    let _entered = runtime.enter();
    let gh = args.github.client()?;

    // Publishing starts from the default branch as it is on origin, before any edit.
    let mut target_repo = None;
    let mut git = None;
    if publishing {
        let root = std::fs::canonicalize(&args.env.working_dir)
            .map_err(|_| scan::ScanError::MissingDir(args.env.working_dir.clone()))?;
        let probe = crate::git::Git::new(&root);
        let toplevel = probe
            .toplevel()
            .context("--publish needs the working directory to be inside a git repository")?;
        let origin = probe.remote_url("origin").ok().flatten();
        let host = origin
            .as_deref()
            .and_then(publish::repo_from_url)
            .map_or_else(|| "github.com".to_string(), |r| r.host);
        let repo = std::env::var("GITHUB_REPOSITORY")
            .ok()
            .and_then(|s| publish::repo_from_slug(&s, &host))
            .or_else(|| origin.as_deref().and_then(publish::repo_from_url))
            .ok_or_else(|| {
                InvalidInput("cannot tell the GitHub repository: set GITHUB_REPOSITORY=owner/name or use a GitHub `origin`".into())
            })?;
        let default_branch = runtime.block_on(default_branch(&gh, &repo))?;
        let g = publish::git_for(&toplevel, &host, args.github.token().as_deref(), &author);
        publish::start_branch(&g, &default_branch, branch.unwrap_or_default())?;
        target_repo = Some((repo, default_branch));
        git = Some(g);
    }

    let report = scan::scan(&request)?;
    super::warn_scan_problems(&report, &request);
    let user_spec = spec.is_some();
    let spec = match (spec, &promotion) {
        (Some(s), _) => s,
        (None, Some(p)) => super::promotion_spec(p, &request, &report, only)?,
        (None, None) => super::report::resolve(
            &runtime,
            &gh,
            &request,
            &args.env.working_dir,
            args.update_strategy,
            &report,
            only,
        )?,
    };
    // A dependency missing from a spec Baton derived itself simply has no update.
    let only = only.filter(|id| user_spec || spec.dependency(id).is_some());
    let targets = if !user_spec && only.is_none() && args.dependency.is_some() {
        BTreeMap::new()
    } else {
        update::targets_from_spec(&spec, args.update_strategy, only)
            .map_err(|e| InvalidInput(e.to_string()))?
    };
    let plan = update::plan(&args.env.working_dir, &report, &targets);
    for s in &plan.skipped {
        output::warn_file(
            &s.file,
            Some(s.line),
            None,
            &format!("not updated: {}", s.reason),
        );
    }
    let mut failures = plan.failures.clone();
    let dependencies = targets
        .iter()
        .map(|(id, v)| Target {
            id: id.clone(),
            target: v.to_string(),
        })
        .collect();
    if args.dry_run {
        report_failures(&failures);
        log::info!(
            "dry run: {} versions would change in {} files",
            plan.changes.len(),
            plan.files.len()
        );
        return Ok(Outcome {
            dependencies,
            diff: Some(update::diff(&plan)),
            updated: plan.changes,
            skipped: plan.skipped,
            errors: failures,
            branch: None,
            commit: None,
            pull_request: None,
        });
    }
    failures.extend(update::write(&plan));
    report_failures(&failures);

    let mut commit = None;
    let mut pull_request = None;
    if plan.changes.is_empty() {
        log::info!("nothing to update: every usage is already at its target");
    } else if let (Some(git), Some((repo, base)), Some(branch)) = (&git, &target_repo, branch) {
        let files: Vec<_> = plan.files.iter().map(|f| f.path.clone()).collect();
        let message = commit_message(args, &plan.changes, &targets);
        commit = publish::commit_and_push(git, &files, &message, branch)?;
        let body = runtime.block_on(pr_body(&gh, args, &spec, &plan, &targets, &report));
        let req = PublishRequest {
            repo: repo.clone(),
            branch: branch.to_string(),
            title: args
                .pull_request_title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| default_title(&targets)),
            body,
            commit_message: message,
            author: author.clone(),
            labels: args
                .pull_request_labels
                .iter()
                .filter(|l| !l.is_empty())
                .cloned()
                .collect(),
            reviewers: args
                .pull_request_reviewers
                .iter()
                .filter(|r| !r.is_empty())
                .cloned()
                .collect(),
            draft: args.draft,
        };
        let pr = runtime.block_on(publish::open_or_update_pr(&gh, &req, base))?;
        log::info!(
            "{} pull request #{}: {}",
            if pr.created { "opened" } else { "updated" },
            pr.number,
            pr.url
        );
        pull_request = Some(pr);
    }
    Ok(Outcome {
        dependencies,
        updated: plan.changes,
        skipped: plan.skipped,
        errors: failures,
        branch: if publishing {
            branch.map(str::to_string)
        } else {
            None
        },
        commit,
        pull_request,
        diff: None,
    })
}

fn report_failures(failures: &[EditFailure]) {
    for f in failures {
        output::warn_file(
            &f.file,
            None,
            None,
            &format!("left unchanged: {}", f.message),
        );
    }
}

async fn default_branch(gh: &crate::github::GitHub, repo: &RepoRef) -> anyhow::Result<String> {
    #[derive(serde::Deserialize)]
    struct RepoInfo {
        default_branch: String,
    }
    let info: RepoInfo = gh
        .get_json(&format!("/repos/{}/{}", repo.owner, repo.name))
        .await
        .context("looking up the repository's default branch")?;
    Ok(info.default_branch)
}

fn default_title(targets: &BTreeMap<String, Version>) -> String {
    match targets.iter().next() {
        Some((id, v)) if targets.len() == 1 => format!("Update {id} to {v}"),
        _ => format!("Update {} dependencies", targets.len()),
    }
}

fn commit_message(
    args: &UpdateArgs,
    changes: &[Change],
    targets: &BTreeMap<String, Version>,
) -> String {
    let subject = args
        .commit_message
        .clone()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| default_title(targets));
    let mut body = String::new();
    for c in changes {
        body.push_str(&format!("\n- {}:{}: {} → {}", c.file, c.line, c.from, c.to));
    }
    format!("{subject}\n{body}\n")
}

async fn pr_body(
    gh: &crate::github::GitHub,
    args: &UpdateArgs,
    spec: &Spec,
    plan: &update::UpdatePlan,
    targets: &BTreeMap<String, Version>,
    report: &scan::ScanReport,
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
    let releases = publish::fetch_releases(gh, &repos).await;
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
    let environment = args
        .pull_request_labels
        .iter()
        .find_map(|l| l.strip_prefix("updates-"))
        .map(str::to_string)
        .unwrap_or_else(|| {
            if spec.include_dir_pattern.is_empty() {
                args.env.working_dir.display().to_string()
            } else {
                spec.include_dir_pattern.clone()
            }
        });
    let strategy = match args.update_strategy {
        crate::spec::Strategy::NextSafe => "next-safe",
        crate::spec::Strategy::NextBreaking => "next-breaking",
    };
    publish::render_body(&BodyInput {
        environment: &environment,
        strategy,
        dependencies: &deps,
        changes: &plan.changes,
        skipped: &plan.skipped,
    })
}
