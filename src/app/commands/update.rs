//! `baton update`: edit the version bytes of one environment's usages, then optionally commit,
//! force-push the branch and open (or reuse) the pull request.

use super::Annotate;
use crate::app::args::{EnvArgs, GitHubArgs};
use crate::app::config::Environment;
use crate::app::console::Console;
use crate::exit::InvalidInput;
use crate::output::{self, Format};
use crate::spec::report::ReportRequest;
use crate::spec::{Spec, Strategy};
use crate::update::{self, PublishOptions, UpdateRequest};
use clap::Args;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

/// Flags of `baton update`.
#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    /// The environment.
    #[command(flatten)]
    pub env: EnvArgs,
    /// A spec written by `baton report` (or Patcher) to take targets from.
    #[arg(
        long,
        env = "BATON_SPEC_FILE",
        value_name = "FILE",
        conflicts_with = "spec"
    )]
    pub spec_file: Option<PathBuf>,
    /// The spec as JSON text, instead of a file.
    #[arg(long, env = "BATON_SPEC", value_name = "JSON")]
    pub spec: Option<String>,
    /// Update only this dependency ID; it must be in the spec when one is given.
    #[arg(long, env = "BATON_DEPENDENCY", value_name = "ID")]
    pub dependency: Option<String>,
    /// Update the dependencies of this group of the config file (`[[groups]]`) together: one
    /// commit on the branch `<prefix>group/<NAME>` and one pull request. A group dispatch
    /// names it by itself.
    #[arg(
        long,
        env = "BATON_GROUP",
        value_name = "NAME",
        conflicts_with_all = ["dependency", "to_version"]
    )]
    pub group: Option<String>,
    /// `next-safe` moves to the highest non-breaking version; `next-breaking` up to the next
    /// breaking one (falling back to the safe target when there is none) [default: the
    /// environment's `update_strategy`, else next-breaking].
    #[arg(long, env = "BATON_UPDATE_STRATEGY", value_enum)]
    pub update_strategy: Option<Strategy>,
    /// Promote what landed: target, for each dependency, exactly the version that the previous
    /// environment's folders (these globs) use on the checked-out commit, not the newest release.
    #[arg(long, env = "BATON_PROMOTE_FROM", value_name = "GLOB")]
    pub promote_from: Vec<String>,
    /// Write nothing; print the changes as a unified diff.
    #[arg(long, env = "BATON_DRY_RUN")]
    pub dry_run: bool,
    /// Commit the edits on --pull-request-branch, force-push it and open or update its pull
    /// request.
    #[arg(long, env = "BATON_PUBLISH")]
    pub publish: bool,
    /// The branch to push (by convention `<prefix><dependency ID>`).
    #[arg(long, env = "BATON_PULL_REQUEST_BRANCH", value_name = "BRANCH")]
    pub pull_request_branch: Option<String>,
    /// The pull request title.
    #[arg(long, env = "BATON_PULL_REQUEST_TITLE", value_name = "TITLE")]
    pub pull_request_title: Option<String>,
    /// Labels to add to the pull request (comma-separated), e.g. `updates-dev`.
    #[arg(
        long,
        env = "BATON_PULL_REQUEST_LABELS",
        value_name = "LABELS",
        value_delimiter = ','
    )]
    pub pull_request_labels: Vec<String>,
    /// Reviewers to request (comma-separated users, or `org/team`).
    #[arg(
        long,
        env = "BATON_PULL_REQUEST_REVIEWERS",
        value_name = "USERS",
        value_delimiter = ','
    )]
    pub pull_request_reviewers: Vec<String>,
    /// Open the pull request as a draft.
    #[arg(long, env = "BATON_DRAFT")]
    pub draft: bool,
    /// Commit author, `Name <email>` (default: the GitHub Actions bot).
    #[arg(long, env = "BATON_COMMIT_AUTHOR", value_name = "AUTHOR")]
    pub commit_author: Option<String>,
    /// Commit message subject (default: `Update <dependency> to <version>`).
    #[arg(long, env = "BATON_COMMIT_MESSAGE", value_name = "MESSAGE")]
    pub commit_message: Option<String>,
    /// Output format: `json` (with the diff of a dry run in it), `text` (the diff of a dry run, or
    /// the changes made) or `markdown`.
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Force-push the branch even when it holds commits Baton did not make (a reviewer's edit)
    /// or was not made by Baton. Without it, such a branch and its pull request are left alone.
    #[arg(long, env = "BATON_FORCE_PUSH_OVER_EDITS")]
    pub force_push_over_edits: bool,
    /// The environment that gets this update once it merges (`stage` for dev): the pull request
    /// says so. Unset (the last environment): it announces no next one.
    #[arg(long, env = "BATON_NEXT_ENVIRONMENT", value_name = "NAME")]
    pub next_environment: Option<String>,
    /// When the update crosses a breaking release, write the manual steps left to do (Patcher's
    /// README-TO-COMPLETE-UPDATE.md) to this file. Not written with --dry-run.
    #[arg(long, env = "BATON_BREAKING_NOTES_FILE", value_name = "FILE")]
    pub breaking_notes_file: Option<PathBuf>,
    /// Move --dependency to exactly this published version, lower than the current one if need
    /// be (a rollback: the only way Baton moves a version down). Takes no spec.
    #[arg(long, env = "BATON_TO_VERSION", value_name = "VERSION")]
    pub to_version: Option<String>,
    /// As for `report`, when no spec is given.
    #[arg(long, env = "BATON_MIN_SOAK", value_name = "DURATION", value_parser = crate::clock::parse_duration)]
    pub min_soak: Option<std::time::Duration>,
    /// As for `report`, when no spec is given.
    #[arg(long, env = "BATON_MIN_RELEASE_AGE", value_name = "DURATION", value_parser = crate::clock::parse_duration)]
    pub min_release_age: Option<std::time::Duration>,
    /// Turn on GitHub's auto-merge of the pull request: it merges by itself once the branch
    /// protection's required checks pass. Where the repository does not allow it (or the merge
    /// method), Baton says so and leaves the pull request for a human [default: the
    /// environment's `auto_merge`, else off].
    #[arg(long, env = "BATON_AUTO_MERGE")]
    pub auto_merge: bool,
    /// How an auto-merged pull request merges: squash, merge or rebase [default: the
    /// environment's `merge_method`, else squash].
    #[arg(long, env = "BATON_MERGE_METHOD", value_enum)]
    pub merge_method: Option<crate::update::automerge::MergeMethod>,
    /// GitHub access.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// Auto-merge as the flags, else the environment, ask for it: `None` when off.
fn auto_merge(
    args: &UpdateArgs,
    chosen: Option<&Environment>,
) -> Result<Option<crate::update::automerge::MergeMethod>, InvalidInput> {
    let configured = chosen.and_then(|e| e.auto_merge);
    if !args.auto_merge && configured.is_none() {
        if args.merge_method.is_some() {
            return Err(InvalidInput(
                "--merge-method (merge_method) needs --auto-merge (auto_merge), or `auto_merge = true` on the environment in the config".into(),
            ));
        }
        return Ok(None);
    }
    Ok(Some(args.merge_method.or(configured).unwrap_or_default()))
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

/// The request `baton update`'s flags describe.
pub fn request(args: &UpdateArgs) -> anyhow::Result<UpdateRequest> {
    let spec = load_spec(args)?;
    let env = args.env.resolve()?;
    let promotion = match spec {
        Some(_) => None,
        None => super::promotion_or(&env, &args.promote_from)?,
    };
    let dependency = super::limited_to(args.dependency.as_deref());
    // With a spec too: the pull request then links the release instead of listing releases.
    let release = match &promotion {
        None => super::module_release()?,
        Some(_) => None,
    };
    let chosen = env.environment.as_ref();
    // With a spec, the run that wrote it read what landed.
    let promoted = promotion.is_some() || spec.is_some();
    let group = super::group_scope(&env, args.group.as_deref(), promoted)?;
    if let (Some(g), Some(d)) = (&group, args.dependency.as_deref().filter(|d| !d.is_empty())) {
        return Err(crate::exit::InvalidInput(format!(
            "--dependency {d} and group {:?}: a group's dependencies move together; leave --dependency (input dependency) empty",
            g.group.name
        ))
        .into());
    }
    let branch = args.pull_request_branch.clone().or_else(|| {
        // The environment's branch for the group, or for the one dependency updated.
        if let Some(g) = &group {
            return Some(g.group.branch(&chosen?.branch_prefix));
        }
        Some(format!(
            "{}{}",
            chosen?.branch_prefix,
            dependency.as_deref()?
        ))
    });
    let or_env = |flag: &[String], from_env: fn(&Environment) -> &Vec<String>| {
        if flag.is_empty() {
            chosen.map(|e| from_env(e).clone()).unwrap_or_default()
        } else {
            flag.to_vec()
        }
    };
    let labels = or_env(&args.pull_request_labels, |e| &e.labels);
    let auto_merge = auto_merge(args, chosen)?;
    let reviewers = or_env(&args.pull_request_reviewers, |e| &e.reviewers);
    // The soak time into this environment: the flag, else the config's gate.
    let min_soak = args
        .min_soak
        .or_else(|| chosen.and_then(|e| e.gates().min_soak));
    let mut gates = super::gates(
        &args.promote_from,
        promotion.is_some(),
        min_soak,
        args.min_release_age,
    )?;
    let group_dispatch = group.as_ref().and_then(|g| g.dispatched.clone());
    if let Some(from) = group_dispatch.as_ref().and_then(|d| d.environment.clone()) {
        gates.promoted_from = Some(from);
    }
    Ok(UpdateRequest {
        report: ReportRequest {
            dependency,
            strategy: env.strategy(args.update_strategy),
            promotion,
            scan: env.scan.clone(),
            gates,
            clients: args.github.settings()?,
            dispatched: super::dispatched(),
            release,
            group,
        },
        spec,
        dry_run: args.dry_run,
        publish: args.publish.then(|| PublishOptions {
            branch: branch.unwrap_or_default(),
            title: args.pull_request_title.clone(),
            labels,
            reviewers,
            draft: args.draft || chosen.is_some_and(|e| e.draft),
            commit_message: args.commit_message.clone(),
            force_push_over_edits: args.force_push_over_edits,
            provenance: provenance(args).or_else(|| group_provenance(args, group_dispatch)),
            next_environment: args.next_environment.clone(),
            auto_merge,
        }),
        commit_author: args
            .commit_author
            .clone()
            .or_else(|| chosen.and_then(|e| e.commit_author.clone())),
        // A rollback (`--to-version`) is the one way a version moves down.
        allow_downgrade: args.to_version.is_some(),
        to_version: args.to_version.clone(),
    })
}

/// Where a promoted update comes from: the dispatch payload being handled, and the previous
/// environment's folders (`--promote-from`).
fn provenance(args: &UpdateArgs) -> Option<crate::update::body::Provenance> {
    let from_dirs = Some(args.promote_from.join(",")).filter(|d| !d.trim().is_empty());
    let payload = super::dispatch_payload();
    if from_dirs.is_none() && payload.is_none() {
        return None;
    }
    let payload = payload.unwrap_or_default();
    Some(crate::update::body::Provenance {
        environment: payload.environment.filter(|e| !e.trim().is_empty()),
        pull_request: payload.pull_request,
        sha: payload.sha.filter(|s| !s.trim().is_empty()),
        from_dirs,
    })
}

/// Where a promoted group comes from: the group dispatch being handled.
fn group_provenance(
    args: &UpdateArgs,
    dispatched: Option<crate::spec::group::DispatchedGroup>,
) -> Option<crate::update::body::Provenance> {
    let d = dispatched?;
    Some(crate::update::body::Provenance {
        environment: d.environment,
        pull_request: d.pull_request,
        sha: d.sha,
        from_dirs: Some(args.promote_from.join(",")).filter(|d| !d.trim().is_empty()),
    })
}

/// The outcome as JSON, with the diff of a dry run in it.
pub fn json(outcome: &update::Outcome) -> anyhow::Result<String> {
    let mut value = serde_json::to_value(outcome)?;
    if let (Some(diff), Some(map)) = (&outcome.diff, value.as_object_mut()) {
        map.insert("diff".into(), serde_json::Value::String(diff.clone()));
    }
    Ok(format!("{}\n", serde_json::to_string_pretty(&value)?))
}

/// The changes as lines `file:line  from → to`, then the pull request.
fn text(outcome: &update::Outcome) -> String {
    let mut out = String::new();
    if outcome.updated.is_empty() {
        out.push_str("nothing to update\n");
    }
    for c in &outcome.updated {
        let _ = writeln!(out, "{}:{}  {} → {}", c.file, c.line, c.from, c.to);
    }
    if let Some(pr) = &outcome.pull_request {
        let _ = writeln!(
            out,
            "pull request #{} {}: {}",
            pr.number,
            if pr.created { "opened" } else { "updated" },
            pr.url
        );
    }
    out
}

/// The update as markdown (the job summary, and `--format markdown` before the diff of a dry
/// run): the changes, the pull request, the manual steps of a breaking release, the usages left
/// alone.
pub fn markdown(outcome: &update::Outcome) -> String {
    let mut out = String::from("### Baton update\n\n");
    if outcome.updated.is_empty() {
        out.push_str("Nothing to update.\n");
    } else {
        out.push_str("| File | Line | Previous | New |\n|---|---|---|---|\n");
        for c in &outcome.updated {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                output::cell(&output::code(&c.file)),
                c.line,
                output::cell(&output::code(&c.from)),
                output::cell(&output::code(&c.to))
            );
        }
    }
    if let Some(pr) = &outcome.pull_request {
        let number = match output::md_url(&pr.url) {
            Some(url) => format!("[#{}]({url})", pr.number),
            None => format!("#{}", pr.number),
        };
        let _ = writeln!(
            out,
            "\nPull request {number} {}.",
            if outcome.pull_request_edited {
                "left alone: its branch holds commits Baton did not make"
            } else if pr.created {
                "opened"
            } else {
                "updated"
            }
        );
    } else if outcome.pull_request_edited {
        out.push_str("\nThe branch holds commits Baton did not make: left alone.\n");
    }
    if let Some(auto) = &outcome.auto_merge {
        // The reason quotes GitHub's answer: escaped.
        let _ = writeln!(out, "\nGitHub {}.", output::md_text(&auto.sentence()));
    }
    if let Some(notes) = &outcome.breaking_notes {
        let _ = writeln!(
            out,
            "\n<details><summary>Breaking release: steps left to do by hand</summary>\n\n{notes}\n</details>"
        );
    }
    for s in &outcome.skipped {
        let _ = writeln!(
            out,
            "\n- not updated: {}: {}",
            output::code(&format!("{}:{}", s.file, s.line)),
            output::md_text(&s.reason)
        );
    }
    out.push_str(&group_markdown(outcome));
    out
}

/// For a group's update: the dependencies of the group it left out, and why.
fn group_markdown(outcome: &update::Outcome) -> String {
    let mut out = String::new();
    let Some(group) = &outcome.group else {
        return out;
    };
    for l in &group.left_out {
        let _ = writeln!(
            out,
            "\n- left out of group {}: {}: {}",
            output::code(&group.name),
            output::code(&l.dependency),
            output::md_text(&l.reason)
        );
    }
    out
}

/// Writes the manual steps of a breaking update to `--breaking-notes-file`, when given (not on a
/// dry run, which writes nothing).
pub fn save_notes(args: &UpdateArgs, outcome: &update::Outcome) -> anyhow::Result<()> {
    let (Some(path), Some(notes), false) = (
        &args.breaking_notes_file,
        &outcome.breaking_notes,
        args.dry_run,
    ) else {
        return Ok(());
    };
    std::fs::write(path, notes).map_err(|e| {
        anyhow::anyhow!(
            "cannot write the breaking-change notes to {}: {e}",
            path.display()
        )
    })
}

/// Runs `baton update`.
pub fn run(args: &UpdateArgs) -> anyhow::Result<u8> {
    let outcome = update::run(&request(args)?, &Annotate)?;
    save_notes(args, &outcome)?;
    let console = Console::for_stdout();
    let stdout = &mut std::io::stdout().lock();
    match (args.format, &outcome.diff) {
        (Format::Json, _) => console.write_json(stdout, &json(&outcome)?)?,
        (Format::Text, Some(diff)) => console.write_text(stdout, diff)?,
        (Format::Text, None) => console.write_text(stdout, &text(&outcome))?,
        (Format::Markdown, _) => {
            console.write_text(stdout, &(markdown(&outcome) + &diff_markdown(&outcome)))?
        }
    }
    Ok(outcome.exit_code())
}

/// Prints what an update did through `console`: the diff of a dry run, else the JSON outcome.
pub fn render(
    outcome: &update::Outcome,
    console: Console,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match &outcome.diff {
        Some(diff) => console.write_text(out, diff),
        None => console.write_json(out, &serde_json::to_string_pretty(outcome)?),
    }
}

/// A dry run's diff as a fenced block, or nothing.
fn diff_markdown(outcome: &update::Outcome) -> String {
    let mut out = String::new();
    if let Some(diff) = &outcome.diff {
        // A fence longer than any run of backticks in the diff, which quotes the files' text.
        let longest = diff.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        let _ = write!(out, "\n{fence}diff\n{diff}{fence}\n");
    }
    out
}
