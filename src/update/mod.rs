//! Updating one environment: plan verified edits of the version bytes ([`plan`], [`edit`]), write
//! them, and publish them as a branch and a pull request ([`publish`], with the text of
//! [`body`]).

pub mod body;
pub mod edit;
pub mod plan;
pub mod publish;
pub mod rollback;

use crate::clients::Session;
use crate::clients::git::Git;
use crate::diag::{Reporter, Warning};
use crate::exit::{self, InvalidInput};
use crate::find::scan::{self, ScanError};
use crate::spec::report::{self, ReportRequest};
use crate::spec::{SkippedUsage, Spec};
use crate::version::Version;
use anyhow::Context as _;
use plan::{Change, EditFailure, UpdatePlan};
use publish::{PublishRequest, PublishedPr, RepoRef};
use serde::Serialize;
use std::collections::BTreeMap;

/// How to publish the edits: a branch and its pull request.
#[derive(Debug, Clone, Default)]
pub struct PublishOptions {
    /// The branch to push (by convention `<prefix><dependency ID>`).
    pub branch: String,
    /// The pull request title (default `Update <dependency> to <version>`).
    pub title: Option<String>,
    /// Labels to add.
    pub labels: Vec<String>,
    /// Reviewers to request.
    pub reviewers: Vec<String>,
    /// Open as a draft.
    pub draft: bool,
    /// The commit subject (default: the title).
    pub commit_message: Option<String>,
}

/// What to update.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    /// The environment, what to target and how to reach GitHub; its `dependency` limits the
    /// update to one dependency, and its promotion applies when no spec is given.
    pub report: ReportRequest,
    /// A spec written by `baton report` (or Patcher) to take targets from.
    pub spec: Option<Spec>,
    /// Write nothing; return the changes as a unified diff.
    pub dry_run: bool,
    /// Commit, push and open the pull request (ignored with `dry_run`).
    pub publish: Option<PublishOptions>,
    /// Commit author, `Name <email>` (default: the GitHub Actions bot).
    pub commit_author: Option<String>,
    /// Move the dependency (`report.dependency`) to exactly this published version, down if
    /// need be: the explicit request that alone allows a downgrade (a rollback). No spec then.
    pub to_version: Option<String>,
}

/// A dependency and the version it was updated to.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    /// Dependency ID.
    pub id: String,
    /// The target, without `v`.
    pub target: String,
}

/// What an update did (the JSON output of `baton update`).
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
    /// With `dry_run`: the changes as a unified diff.
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

/// Where publishing goes: the repository, its default branch, and git set up to push there.
struct Destination {
    git: Git,
    repo: RepoRef,
    base: String,
    branch: String,
}

/// Edits (or, with `dry_run`, diffs) and publishes; problems go to `reporter` on the way.
pub fn run(request: &UpdateRequest, reporter: &dyn Reporter) -> anyhow::Result<Outcome> {
    let working_dir = &request.report.scan.working_dir;
    if let Some(spec) = &request.spec {
        spec.validate(working_dir)
            .map_err(|e| InvalidInput(format!("invalid spec: {e}")))?;
    }
    let publish = request.publish.as_ref().filter(|_| !request.dry_run);
    if let Some(p) = publish
        && p.branch.trim().is_empty()
    {
        return Err(InvalidInput(
            "--publish needs --pull-request-branch (e.g. baton-dev-updates-<dependency>)".into(),
        )
        .into());
    }
    let author_text = request
        .commit_author
        .as_deref()
        .filter(|a| !a.trim().is_empty())
        .unwrap_or(publish::DEFAULT_AUTHOR);
    let author = publish::parse_author(author_text).ok_or_else(|| {
        InvalidInput(format!(
            "--commit-author {author_text:?} is not of the form \"Name <email>\""
        ))
    })?;
    let wanted = rollback::wanted(request)?;
    let session = Session::new(&request.report.clients)?;

    // Publishing starts from the default branch as it is on origin, before any edit.
    let destination = match publish {
        Some(p) => Some(start_publishing(request, &session, p, &author)?),
        None => None,
    };

    let report = scan::scan(&request.report.scan)?;
    for w in request.report.scan.problems(&report) {
        reporter.warn(w);
    }
    let (spec, targets) = match &wanted {
        Some((id, version)) => rollback::explicit_target(request, &report, &session, id, version)?,
        None => targets(request, &report, &session, reporter)?,
    };
    let plan = plan::plan(working_dir, &report, &targets);
    for s in &plan.skipped {
        reporter.warn(Warning::at(
            &s.file,
            Some(s.line),
            None,
            format!("not updated: {}", s.reason),
        ));
    }
    let mut failures = plan.failures.clone();
    let dependencies = targets
        .iter()
        .map(|(id, v)| Target {
            id: id.clone(),
            target: v.to_string(),
        })
        .collect();
    if request.dry_run {
        report_failures(&failures, reporter);
        log::info!(
            "dry run: {} versions would change in {} files",
            plan.changes.len(),
            plan.files.len()
        );
        return Ok(Outcome {
            dependencies,
            diff: Some(plan::diff(&plan)),
            updated: plan.changes,
            skipped: plan.skipped,
            errors: failures,
            branch: None,
            commit: None,
            pull_request: None,
        });
    }
    failures.extend(plan::write(&plan));
    report_failures(&failures, reporter);

    let mut commit = None;
    let mut pull_request = None;
    if plan.changes.is_empty() {
        log::info!("nothing to update: every usage is already at its target");
    } else if let (Some(dest), Some(options)) = (&destination, publish) {
        let published = publish_changes(
            request, &session, dest, options, &author, &spec, &plan, &targets, &report, reporter,
        )?;
        commit = published.0;
        pull_request = Some(published.1);
    }
    Ok(Outcome {
        dependencies,
        updated: plan.changes,
        skipped: plan.skipped,
        errors: failures,
        branch: destination.map(|d| d.branch),
        commit,
        pull_request,
        diff: None,
    })
}

/// The spec the update works from and its targets: the spec given, else one derived as `report`
/// would (from the promotion, or from version lookups).
fn targets(
    request: &UpdateRequest,
    report: &scan::ScanReport,
    session: &Session,
    reporter: &dyn Reporter,
) -> anyhow::Result<(Spec, BTreeMap<String, Version>)> {
    let only = request
        .report
        .dependency
        .as_deref()
        .filter(|d| !d.is_empty());
    let strategy = request.report.strategy;
    let Some(spec) = &request.spec else {
        let spec = report::spec_for(&request.report, report, Some(session), reporter)?;
        // A dependency missing from a spec Baton derived itself simply has no update.
        let targets = match only {
            Some(id) if spec.dependency(id).is_none() => BTreeMap::new(),
            _ => plan::targets_from_spec(&spec, strategy, only)
                .map_err(|e| InvalidInput(e.to_string()))?,
        };
        return Ok((spec, targets));
    };
    let targets =
        plan::targets_from_spec(spec, strategy, only).map_err(|e| InvalidInput(e.to_string()))?;
    Ok((spec.clone(), targets))
}

/// Finds the repository and its default branch, and cuts the branch from it.
fn start_publishing(
    request: &UpdateRequest,
    session: &Session,
    options: &PublishOptions,
    author: &(String, String),
) -> anyhow::Result<Destination> {
    let working_dir = &request.report.scan.working_dir;
    let root = std::fs::canonicalize(working_dir)
        .map_err(|_| ScanError::MissingDir(working_dir.clone()))?;
    let probe = Git::new(&root);
    let toplevel = probe
        .toplevel()
        .context("--publish needs the working directory to be inside a git repository")?;
    let origin = probe.remote_url("origin").ok().flatten();
    let host = origin
        .as_deref()
        .and_then(publish::repo_from_url)
        .map_or_else(|| "github.com".to_string(), |r| r.host);
    let repo = request
        .report
        .clients
        .repository
        .as_deref()
        .and_then(|s| publish::repo_from_slug(s, &host))
        .or_else(|| origin.as_deref().and_then(publish::repo_from_url))
        .ok_or_else(|| {
            InvalidInput("cannot tell the GitHub repository: set GITHUB_REPOSITORY=owner/name or use a GitHub `origin`".into())
        })?;
    let base = session.block_on(default_branch(&session.github, &repo))?;
    let git = publish::git_for(
        &toplevel,
        &host,
        request.report.clients.token.as_deref(),
        author,
    );
    publish::start_branch(&git, &base, &options.branch)?;
    Ok(Destination {
        git,
        repo,
        base,
        branch: options.branch.clone(),
    })
}

/// Commits the written files, pushes and opens or updates the pull request.
#[allow(clippy::too_many_arguments)]
fn publish_changes(
    request: &UpdateRequest,
    session: &Session,
    dest: &Destination,
    options: &PublishOptions,
    author: &(String, String),
    spec: &Spec,
    plan: &UpdatePlan,
    targets: &BTreeMap<String, Version>,
    report: &scan::ScanReport,
    reporter: &dyn Reporter,
) -> anyhow::Result<(Option<String>, PublishedPr)> {
    let files: Vec<_> = plan.files.iter().map(|f| f.path.clone()).collect();
    let kind = rollback::kind(request, spec, plan);
    let is_rollback = kind == crate::resolve::history::ChangeKind::Rollback;
    let subject = options
        .commit_message
        .clone()
        .filter(|m| !m.trim().is_empty())
        .unwrap_or_else(|| body::default_title(targets));
    let subject = if is_rollback {
        rollback::title(&subject)
    } else {
        subject
    };
    let environment = options
        .labels
        .iter()
        .find_map(|l| l.strip_prefix("updates-"))
        .map(str::to_string)
        .unwrap_or_else(|| {
            if spec.include_dir_pattern.is_empty() {
                request.report.scan.working_dir.display().to_string()
            } else {
                spec.include_dir_pattern.clone()
            }
        });
    let promoted_from = request.report.gates.promoted_from.as_deref().filter(|_| {
        kind == crate::resolve::history::ChangeKind::Promotion || request.report.gates.rollback
    });
    let message = format!(
        "{}\n{}",
        body::commit_message(&subject, &plan.changes),
        rollback::trailers(kind, &environment, promoted_from)
    );
    let commit = publish::commit_and_push(&dest.git, &files, &message, &dest.branch)?;
    let text = if is_rollback {
        let landed = crate::resolve::landed::landed_versions(report);
        let brought = targets
            .keys()
            .filter_map(|id| {
                let current = &landed.get(id)?.version;
                Some((
                    id.clone(),
                    rollback::brought_by(request, &environment, id, current, reporter),
                ))
            })
            .collect();
        rollback::body(
            &environment,
            plan,
            targets,
            report,
            &brought,
            promoted_from.filter(|_| request.report.gates.rollback),
        )
    } else {
        session.block_on(body::pr_body(
            &session.github,
            &environment,
            request.report.strategy,
            plan,
            targets,
            report,
        ))
    };
    let req = PublishRequest {
        repo: dest.repo.clone(),
        branch: dest.branch.clone(),
        title: {
            let title = options
                .title
                .clone()
                .filter(|t| !t.trim().is_empty())
                .unwrap_or_else(|| body::default_title(targets));
            if is_rollback {
                rollback::title(&title)
            } else {
                title
            }
        },
        body: text,
        commit_message: message,
        author: author.clone(),
        labels: options
            .labels
            .iter()
            .filter(|l| !l.is_empty())
            .cloned()
            .collect(),
        reviewers: options
            .reviewers
            .iter()
            .filter(|r| !r.is_empty())
            .cloned()
            .collect(),
        draft: options.draft,
    };
    let pr = session.block_on(publish::open_or_update_pr(
        &session.github,
        &req,
        &dest.base,
    ))?;
    log::info!(
        "{} pull request #{}: {}",
        if pr.created { "opened" } else { "updated" },
        pr.number,
        pr.url
    );
    Ok((commit, pr))
}

fn report_failures(failures: &[EditFailure], reporter: &dyn Reporter) {
    for f in failures {
        reporter.warn(Warning::at(
            &f.file,
            None,
            None,
            format!("left unchanged: {}", f.message),
        ));
    }
}

async fn default_branch(
    gh: &crate::clients::github::GitHub,
    repo: &RepoRef,
) -> anyhow::Result<String> {
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
