//! Updating one environment: plan verified edits of the version bytes ([`plan`], [`edit`]), write
//! them, and publish them as a branch and a pull request ([`publish`], with the text of
//! [`body`] and, for breaking releases, [`impact`]).

pub mod automerge;
pub mod body;
pub mod bound;
pub mod branch;
pub mod edit;
pub mod group;
pub mod impact;
pub mod plan;
pub mod publish;
pub mod resume;
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
    /// Replace the branch even when it holds commits Baton did not make (a reviewer's edit, or a
    /// branch Baton never made). Off by default: such a branch and its pull request are left
    /// alone.
    pub force_push_over_edits: bool,
    /// Where a promoted update comes from, said in the pull request.
    pub provenance: Option<body::Provenance>,
    /// The environment that gets the same update once this one merges, announced in the pull
    /// request; `None` announces none (the last environment).
    pub next_environment: Option<String>,
    /// Turn on GitHub's auto-merge of the pull request, with this merge method; `None`: off.
    pub auto_merge: Option<automerge::MergeMethod>,
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
    /// Move usages newer than their target down to it. Never set by default: only an explicit
    /// request for a version (a rollback) may; otherwise such usages are skipped with the reason.
    pub allow_downgrade: bool,
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
    /// The branch holds commits Baton did not make (a reviewer's edit): branch and pull request
    /// were left alone.
    pub pull_request_edited: bool,
    /// When the update crosses a breaking release: what is left to do by hand, as markdown
    /// (`README-TO-COMPLETE-UPDATE.md`).
    #[serde(skip)]
    pub breaking_notes: Option<String>,
    /// What became of auto-merge on the pull request, when it was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto_merge: Option<automerge::AutoMergeOutcome>,
    /// For a group's update: the group and its dependencies left out, with why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<group::GroupOutcome>,
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
    /// Where the branch pointed on origin when it was looked at (`None`: it did not exist).
    expected: Option<String>,
}

/// How publishing starts: on a branch cut from the default branch, or not at all because the
/// branch holds someone else's commits.
enum Start {
    Go(Box<Destination>),
    LeaveAlone {
        repo: RepoRef,
        branch: String,
        message: String,
    },
}

/// An update once planned: what it works from and the verified edits.
struct Planned {
    /// The spec the targets come from.
    spec: Spec,
    /// The version each dependency moves to.
    targets: BTreeMap<String, Version>,
    /// The registry ranges promoted as written, by dependency.
    constraints: BTreeMap<String, String>,
    /// How the plan treats versions newer than their target.
    options: plan::PlanOptions,
    /// The environment's usages.
    report: scan::ScanReport,
    /// The edits.
    plan: UpdatePlan,
    /// Files an interrupted run wrote and did not commit: they join the commit (found when
    /// writing).
    unfinished: Vec<std::path::PathBuf>,
    /// For a group's update: what it leaves out (found once written).
    group: Option<group::GroupOutcome>,
}

/// Edits (or, with `dry_run`, diffs) and publishes; problems go to `reporter` on the way.
///
/// Its phases: check the request, start publishing (before any edit), plan, write, then commit
/// and publish.
pub fn run(request: &UpdateRequest, reporter: &dyn Reporter) -> anyhow::Result<Outcome> {
    let (publish, author) = check_request(request)?;
    // With a spec and no --include-dirs, the environment the spec was made for.
    let bounded = match &request.spec {
        Some(spec) => bound::bound(&request.report.scan, spec)?,
        None => None,
    };
    let wanted = rollback::wanted(request)?;
    let session = Session::new(&request.report.clients)?;

    // Publishing starts from the default branch as it is on origin, before any edit.
    let destination = match publish {
        Some(p) => match start_publishing(request, &session, p, &author)? {
            Start::Go(dest) => Some(*dest),
            Start::LeaveAlone {
                repo,
                branch,
                message,
            } => return left_alone(&session, reporter, repo, branch, message),
        },
        None => None,
    };

    let mut planned = plan_update(
        request,
        bounded.as_ref(),
        wanted.as_ref(),
        &session,
        reporter,
    )?;
    let breaking_notes = impact::notes(&planned.spec, &planned.targets, &planned.plan);
    let dependencies = target_list(&planned.targets);
    if request.dry_run {
        let group = left_out(request, &planned, &planned.plan.failures, reporter);
        let mut out = dry_run(planned.plan, dependencies, breaking_notes, reporter);
        out.group = group;
        return Ok(out);
    }
    let failures = write_edits(destination.as_ref(), request, &mut planned, reporter)?;
    planned.group = left_out(request, &planned, &failures, reporter);

    let (commit, pull_request) = match (&destination, publish) {
        _ if planned.plan.changes.is_empty() => {
            log::info!("nothing to update: every usage is already at its target");
            (None, None)
        }
        (Some(dest), Some(options)) => {
            match publish_changes(
                request, &session, dest, options, &author, &planned, reporter,
            )? {
                Some((sha, pr)) => (sha, Some(pr)),
                None => {
                    let plan = planned.plan;
                    return moved_meanwhile(&session, reporter, dest, dependencies, plan, failures);
                }
            }
        }
        _ => (None, None),
    };
    let auto_merge = match (
        &destination,
        publish.and_then(|p| p.auto_merge),
        &pull_request,
    ) {
        (Some(dest), Some(method), Some(pr)) => {
            Some(auto_merge(&session, dest, pr, method, reporter))
        }
        _ => None,
    };
    Ok(Outcome {
        dependencies,
        updated: planned.plan.changes,
        skipped: planned.plan.skipped,
        errors: failures,
        branch: destination.map(|d| d.branch),
        commit,
        pull_request,
        diff: None,
        pull_request_edited: false,
        breaking_notes,
        auto_merge,
        group: planned.group,
    })
}

/// For a group's update, its dependencies left out and why, each reported.
fn left_out(
    request: &UpdateRequest,
    planned: &Planned,
    failures: &[EditFailure],
    reporter: &dyn Reporter,
) -> Option<group::GroupOutcome> {
    let scope = request.report.group.as_ref()?;
    if scope.group.members(&planned.report).is_empty() {
        reporter.warn(Warning::general(format!(
            "group {} ({}) matches no dependency used in {}: nothing to update",
            scope.group.name,
            scope.group.globs.join(", "),
            request.report.scan.describe()
        )));
    }
    let out = group::left_out(
        scope,
        &planned.report,
        &planned.spec,
        &planned.targets,
        &planned.plan,
        (failures, request.report.release.as_ref()),
    );
    for l in &out.left_out {
        reporter.warn(Warning::general(format!(
            "group {}: {} left out: {}",
            out.name, l.dependency, l.reason
        )));
    }
    Some(out)
}

/// Turns on auto-merge of the pull request; what stood in the way is a warning, never a failure
/// of the update.
fn auto_merge(
    session: &Session,
    dest: &Destination,
    pr: &PublishedPr,
    method: automerge::MergeMethod,
    reporter: &dyn Reporter,
) -> automerge::AutoMergeOutcome {
    let outcome = session.block_on(automerge::enable(
        &session.github,
        &dest.repo,
        pr.node_id.as_deref(),
        method,
    ));
    if outcome.enabled {
        log::info!("pull request #{}: {}", pr.number, outcome.sentence());
    } else {
        reporter.warn(Warning::general(format!(
            "pull request #{}: {}",
            pr.number,
            outcome.sentence()
        )));
    }
    outcome
}

/// Each dependency and the version it moves to.
fn target_list(targets: &BTreeMap<String, Version>) -> Vec<Target> {
    targets
        .iter()
        .map(|(id, v)| Target {
            id: id.clone(),
            target: v.to_string(),
        })
        .collect()
}

/// Checks the request before anything is looked at: the spec, the branch to publish to (when
/// publishing) and the commit author. Returns how to publish (`None` when not) and the author.
fn check_request(
    request: &UpdateRequest,
) -> anyhow::Result<(Option<&PublishOptions>, (String, String))> {
    if let Some(spec) = &request.spec {
        spec.validate(&request.report.scan.working_dir)
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
    Ok((publish, author))
}

/// The plan: scans the environment (`bounded` by the spec when it says where), takes the
/// targets (`wanted`: an explicit version) and plans the edits; usages left alone are reported.
fn plan_update(
    request: &UpdateRequest,
    bounded: Option<&bound::Bound>,
    wanted: Option<&(String, Version)>,
    session: &Session,
    reporter: &dyn Reporter,
) -> anyhow::Result<Planned> {
    let scan_request = bounded.map_or(&request.report.scan, |b| &b.scan);
    // Only a rollback moves a version down: an explicit version (`--to-version`), or the
    // promotion of a rollback that merged before (the dispatch payload says so).
    let allow_downgrade =
        request.allow_downgrade || wanted.is_some() || request.report.gates.rollback;
    let report = scan::scan(scan_request)?;
    if let Some(b) = bounded
        && report.files_read == 0
    {
        return Err(b.nothing_matched().into());
    }
    for w in scan_request.problems(&report) {
        reporter.warn(w);
    }
    let report = match &request.report.group {
        Some(group) => group.scope(&report)?,
        None => report,
    };
    let (spec, mut targets) = match wanted {
        Some((id, version)) => rollback::explicit_target(request, &report, session, id, version)?,
        None => targets(request, &report, session, reporter)?,
    };
    // A group's update moves its own dependencies only, whatever else the spec lists.
    if let Some(scope) = &request.report.group {
        targets.retain(|id, _| scope.group.matches(id));
    }
    let only = request
        .report
        .dependency
        .as_deref()
        .filter(|d| !d.is_empty());
    let constraints = plan::constraints_from_spec(&spec, only);
    let options = plan::PlanOptions { allow_downgrade };
    let plan = plan::plan_with_constraints(
        &request.report.scan.working_dir,
        &report,
        &targets,
        &constraints,
        options,
    );
    for s in &plan.skipped {
        reporter.warn(Warning::at(
            &s.file,
            Some(s.line),
            None,
            format!("not updated: {}", s.reason),
        ));
    }
    Ok(Planned {
        spec,
        targets,
        constraints,
        options,
        report,
        plan,
        unfinished: Vec::new(),
        group: None,
    })
}

/// The outcome of a dry run: nothing written, the changes as a diff.
fn dry_run(
    plan: UpdatePlan,
    dependencies: Vec<Target>,
    breaking_notes: Option<String>,
    reporter: &dyn Reporter,
) -> Outcome {
    let failures = plan.failures.clone();
    report_failures(&failures, reporter);
    log::info!(
        "dry run: {} would change in {}",
        crate::output::count(plan.changes.len(), "version", "versions"),
        crate::output::count(plan.files.len(), "file", "files")
    );
    Outcome {
        dependencies,
        diff: Some(plan::diff(&plan)),
        updated: plan.changes,
        skipped: plan.skipped,
        errors: failures,
        branch: None,
        commit: None,
        pull_request: None,
        pull_request_edited: false,
        breaking_notes,
        auto_merge: None,
        group: None,
    }
}

/// Writes the planned files. A publish first finishes what an interrupted run left uncommitted
/// (or refuses): those files join the commit and their changes join the plan. A file left as it
/// was is neither committed nor listed as updated. Returns every failure (all reported).
fn write_edits(
    destination: Option<&Destination>,
    request: &UpdateRequest,
    planned: &mut Planned,
    reporter: &dyn Reporter,
) -> anyhow::Result<Vec<EditFailure>> {
    let mut failures = planned.plan.failures.clone();
    // A publish finishes what an interrupted run left uncommitted, or refuses, before writing.
    let unfinished = match destination {
        Some(dest) => resume::unfinished(
            &dest.git,
            &request.report.scan.working_dir,
            &planned.report,
            &planned.targets,
            &planned.constraints,
            &planned.plan,
            planned.options,
        )?,
        None => Vec::new(),
    };
    let plan = &mut planned.plan;
    let written = plan::write(plan);
    // A file left as it was is neither committed nor listed as updated.
    plan.files
        .retain(|f| !written.iter().any(|w| w.file == f.file));
    plan.changes
        .retain(|c| !written.iter().any(|w| w.file == c.file));
    failures.extend(written);
    report_failures(&failures, reporter);
    if !unfinished.is_empty() {
        log::info!(
            "{} files were updated by an earlier run and not committed: they join this commit",
            unfinished.len()
        );
    }
    planned.unfinished = unfinished.iter().map(|u| u.path.clone()).collect();
    plan.changes
        .extend(unfinished.into_iter().flat_map(|u| u.changes));
    plan.changes
        .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    Ok(failures)
}

/// The outcome when the branch moved on origin while Baton worked: nothing pushed, the branch
/// and pull request left alone, and what was written listed.
fn moved_meanwhile(
    session: &Session,
    reporter: &dyn Reporter,
    dest: &Destination,
    dependencies: Vec<Target>,
    plan: UpdatePlan,
    failures: Vec<EditFailure>,
) -> anyhow::Result<Outcome> {
    let message = format!(
        "branch {} changed on origin while Baton worked (a commit Baton did not make was pushed): its branch and pull request are left alone; run again to look at it",
        dest.branch
    );
    let mut out = left_alone(
        session,
        reporter,
        dest.repo.clone(),
        dest.branch.clone(),
        message,
    )?;
    out.dependencies = dependencies;
    out.updated = plan.changes;
    out.skipped = plan.skipped;
    out.errors = failures;
    Ok(out)
}

/// The outcome when the update branch holds commits Baton did not make: nothing is pushed or
/// edited, the user is told why and how to go on, and the open pull request is named.
fn left_alone(
    session: &Session,
    reporter: &dyn Reporter,
    repo: RepoRef,
    branch: String,
    message: String,
) -> anyhow::Result<Outcome> {
    reporter.warn(Warning::general(message));
    let pull_request = session
        .block_on(publish::open_pull_request(&session.github, &repo, &branch))
        .unwrap_or_else(|e| {
            log::warn!("cannot look up the open pull request of {branch}: {e}");
            None
        });
    Ok(Outcome {
        dependencies: Vec::new(),
        updated: Vec::new(),
        skipped: Vec::new(),
        errors: Vec::new(),
        branch: Some(branch),
        commit: None,
        pull_request,
        diff: None,
        pull_request_edited: true,
        breaking_notes: None,
        auto_merge: None,
        group: None,
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
        if let Some(failure) = spec.total_failure() {
            anyhow::bail!("{failure}");
        }
        // A dependency missing from a spec Baton derived itself simply has no update.
        let targets = match only {
            Some(id) if spec.dependency(id).is_none() => BTreeMap::new(),
            _ => plan::targets_from_spec(&spec, strategy, only)
                .map_err(|e| InvalidInput(e.to_string()))?,
        };
        return Ok((spec, targets));
    };
    let targets = plan::targets_from_spec(spec, strategy, only).map_err(|e| match e {
        plan::TargetError::NotInSpec(id) => {
            let hint = crate::diag::closest(&id, spec.dependencies.iter().map(|d| d.id.as_str()))
                .map(|near| format!("; did you mean {near}?"))
                .unwrap_or_default();
            InvalidInput(format!(
                "dependency {id} is not in the spec{hint} (run `baton report` to see which dependencies have updates)"
            ))
        }
        other => InvalidInput(other.to_string()),
    })?;
    Ok((spec.clone(), targets))
}

/// Finds the repository and its default branch, and cuts the branch from it.
fn start_publishing(
    request: &UpdateRequest,
    session: &Session,
    options: &PublishOptions,
    author: &(String, String),
) -> anyhow::Result<Start> {
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
    // The credential header is keyed by the host and port git pushes to (GitHub Enterprise
    // Server may listen on another port than 443).
    let push_host = origin
        .as_deref()
        .and_then(publish::push_host)
        .unwrap_or_else(|| host.clone());
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
    let only = request.report.dependency.as_deref().or_else(|| {
        match request.spec.as_ref().map(|s| s.dependencies.as_slice()) {
            Some([one]) => Some(one.id.as_str()),
            _ => None,
        }
    });
    let branch = branch::normalize(&options.branch, only);
    if branch == base {
        return Err(InvalidInput(format!(
            "--pull-request-branch {branch:?} is the default branch of {}/{}: Baton pushes its updates to a branch of their own (e.g. baton-dev-updates-<dependency>)",
            repo.owner, repo.name
        ))
        .into());
    }
    let git = publish::git_for(
        &toplevel,
        &push_host,
        request.report.clients.token.as_deref(),
        author,
    );
    let remote = publish::remote_branch(&git, &base, &branch, &author.1)?;
    let force = options.force_push_over_edits;
    match &remote {
        publish::RemoteBranch::Edited { others, .. } if !force => {
            return Ok(Start::LeaveAlone {
                message: format!(
                    "branch {branch} holds commits Baton did not make ({}): its branch and pull request are left alone, so that a reviewer's edit is never erased. Merge or close the pull request, or delete the branch to let Baton start again; --force-push-over-edits (input force_push_over_edits) replaces it",
                    others.join(", ")
                ),
                repo,
                branch,
            });
        }
        publish::RemoteBranch::NotBatons { others, .. } if !force => {
            return Err(InvalidInput(format!(
                "branch {branch} exists on origin and was not made by Baton (its commits: {}); Baton will not force-push over it. Choose another --pull-request-branch (input pull_request_branch), or set --force-push-over-edits (input force_push_over_edits) to replace it",
                others.join(", ")
            ))
            .into());
        }
        _ => {}
    }
    publish::start_branch(&git, &base, &branch)?;
    Ok(Start::Go(Box::new(Destination {
        git,
        repo,
        base,
        branch,
        expected: remote.sha().map(str::to_string),
    })))
}

/// Commits the written files, pushes and opens or updates the pull request; `None` when the
/// branch moved on origin meanwhile (nothing pushed, the pull request left alone).
///
/// Its phases: the commit message, the commit and push, the pull request's text, then the pull
/// request itself.
fn publish_changes(
    request: &UpdateRequest,
    session: &Session,
    dest: &Destination,
    options: &PublishOptions,
    author: &(String, String),
    planned: &Planned,
    reporter: &dyn Reporter,
) -> anyhow::Result<Option<(Option<String>, PublishedPr)>> {
    let kind = rollback::kind(request, &planned.spec, &planned.plan);
    let is_rollback = kind == crate::resolve::history::ChangeKind::Rollback;
    let environment = environment_name(request, options, &planned.spec);
    let promoted_from = request.report.gates.promoted_from.as_deref().filter(|_| {
        kind == crate::resolve::history::ChangeKind::Promotion || request.report.gates.rollback
    });
    let subject = group_titled(
        request,
        options.commit_message.as_ref(),
        planned,
        is_rollback,
    );
    let message = commit_message(&subject, planned, kind, &environment, promoted_from);
    let commit = match push_commit(dest, planned, &message)? {
        publish::Pushed::Pushed(sha) => sha,
        publish::Pushed::MovedMeanwhile => return Ok(None),
    };
    let text = if is_rollback {
        let promoted_from = promoted_from.filter(|_| request.report.gates.rollback);
        rollback_pr_text(request, planned, &environment, promoted_from, reporter)
    } else {
        let commit = commit.as_deref();
        update_pr_text(
            request,
            session,
            dest,
            options,
            planned,
            &environment,
            commit,
        )
    };
    let req = PublishRequest {
        repo: dest.repo.clone(),
        branch: dest.branch.clone(),
        title: group_titled(request, options.title.as_ref(), planned, is_rollback),
        body: text,
        commit_message: message,
        author: author.clone(),
        labels: non_empty(&options.labels),
        reviewers: non_empty(&options.reviewers),
        draft: options.draft,
    };
    let pr = open_or_update(session, &req, &dest.base)?;
    Ok(Some((commit, pr)))
}

/// Commits the written files (and those an interrupted run left) and pushes them over the
/// branch, unless it moved on origin meanwhile.
fn push_commit(
    dest: &Destination,
    planned: &Planned,
    message: &str,
) -> Result<publish::Pushed, publish::PublishError> {
    let mut files: Vec<_> = planned.plan.files.iter().map(|f| f.path.clone()).collect();
    files.extend(planned.unfinished.iter().cloned());
    publish::commit_and_push_over(
        &dest.git,
        &files,
        message,
        &dest.branch,
        dest.expected.as_deref(),
    )
}

/// Opens the pull request, or updates the one open for the branch, and says which.
fn open_or_update(
    session: &Session,
    req: &PublishRequest,
    base: &str,
) -> Result<PublishedPr, publish::PublishError> {
    let pr = session.block_on(publish::open_or_update_pr(&session.github, req, base))?;
    log::info!(
        "{} pull request #{}: {}",
        if pr.created { "opened" } else { "updated" },
        pr.number,
        pr.url
    );
    Ok(pr)
}

/// The commit message: the subject and every change, then one trailer block: `Baton-Update`
/// (the dependencies; marks Baton's commits on the update branch) followed by what the commit is
/// (`Baton-Kind`, `Baton-Environment`, `Baton-Promoted-From`), which the history and `promote`
/// read.
fn commit_message(
    subject: &str,
    planned: &Planned,
    kind: crate::resolve::history::ChangeKind,
    environment: &str,
    promoted_from: Option<&str>,
) -> String {
    let ids: Vec<&str> = planned.targets.keys().map(String::as_str).collect();
    format!(
        "{}{}",
        publish::with_trailer(
            &body::commit_message(subject, &planned.plan.changes),
            &ids.join(", "),
        ),
        rollback::trailers(kind, environment, promoted_from)
    )
}

/// The environment as the commit and the pull request name it: from the label `updates-<env>`,
/// else the spec's include globs, else the working directory.
fn environment_name(request: &UpdateRequest, options: &PublishOptions, spec: &Spec) -> String {
    options
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
        })
}

/// A title (or commit subject) as given, else the default one, which names the group of a
/// group's update and the dependencies it moves.
fn group_titled(
    request: &UpdateRequest,
    given: Option<&String>,
    planned: &Planned,
    is_rollback: bool,
) -> String {
    match (
        &request.report.group,
        given.filter(|t| !t.trim().is_empty()),
    ) {
        (Some(scope), None) => {
            let mut moved = planned.targets.clone();
            moved.retain(|id, _| planned.plan.changes.iter().any(|c| &c.dependency == id));
            group::title(&scope.group.name, &moved)
        }
        _ => titled(given, &planned.targets, is_rollback),
    }
}

/// A title (or commit subject) as given, else the default one; a rollback's says so.
fn titled(
    given: Option<&String>,
    targets: &BTreeMap<String, Version>,
    is_rollback: bool,
) -> String {
    let title = given
        .cloned()
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| body::default_title(targets));
    if is_rollback {
        rollback::title(&title)
    } else {
        title
    }
}

/// The entries that are not empty (labels, reviewers).
fn non_empty(items: &[String]) -> Vec<String> {
    items.iter().filter(|i| !i.is_empty()).cloned().collect()
}

/// The pull request's text for a rollback: what each dependency goes back to and which change
/// brought the version it leaves.
fn rollback_pr_text(
    request: &UpdateRequest,
    planned: &Planned,
    environment: &str,
    promoted_from: Option<&str>,
    reporter: &dyn Reporter,
) -> String {
    let landed = crate::resolve::landed::landed_versions(&planned.report);
    let brought = planned
        .targets
        .keys()
        .filter_map(|id| {
            let current = &landed.get(id)?.version;
            Some((
                id.clone(),
                rollback::brought_by(request, environment, id, current, reporter),
            ))
        })
        .collect();
    rollback::body(
        environment,
        &planned.plan,
        &planned.targets,
        &planned.report,
        &brought,
        promoted_from,
    )
}

/// The pull request's text for an update: the body with its release notes, the impact on the
/// environment (linking to the files of `commit`, else of the branch), where it comes from and
/// where it goes next.
fn update_pr_text(
    request: &UpdateRequest,
    session: &Session,
    dest: &Destination,
    options: &PublishOptions,
    planned: &Planned,
    environment: &str,
    commit: Option<&str>,
) -> String {
    let link = impact::blob_link(
        &dest.repo,
        commit.unwrap_or(&dest.branch),
        &impact::prefix_in(dest.git.dir(), &request.report.scan.working_dir),
    );
    let impact = impact::section(&planned.spec, &planned.targets, &planned.plan, &link);
    let context = body::BodyContext {
        impact,
        promoted_from: options.provenance.clone(),
        repository_url: Some(format!(
            "https://{}/{}/{}",
            dest.repo.host, dest.repo.owner, dest.repo.name
        )),
        next_environment: options
            .next_environment
            .clone()
            .filter(|n| !n.trim().is_empty()),
        module_release: request.report.release.clone(),
        group: group_body(planned, &link),
    };
    session.block_on(body::pr_body_in(
        &session.github,
        environment,
        request.report.strategy,
        &planned.plan,
        &planned.targets,
        &planned.report,
        &context,
    ))
}

/// The sections of a group's body: each dependency's impact, and what was left out.
fn group_body(planned: &Planned, link: crate::spec::impact::Link<'_>) -> Option<body::GroupBody> {
    let outcome = planned.group.as_ref()?;
    let impacts = planned
        .targets
        .iter()
        .map(|(id, v)| {
            let one = BTreeMap::from([(id.clone(), v.clone())]);
            (
                id.clone(),
                impact::section(&planned.spec, &one, &planned.plan, link),
            )
        })
        .collect();
    Some(body::GroupBody {
        name: outcome.name.clone(),
        left_out: outcome
            .left_out
            .iter()
            .map(|l| (l.dependency.clone(), l.reason.clone()))
            .collect(),
        impacts,
    })
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
    let info: crate::clients::wire::RepoInfo = gh
        .get_json(&format!("/repos/{}/{}", repo.owner, repo.name))
        .await
        .context("looking up the repository's default branch")?;
    Ok(info.default_branch)
}
