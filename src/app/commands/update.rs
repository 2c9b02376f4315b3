//! `baton update`: edit the version bytes of one environment's usages, then optionally commit,
//! force-push the branch and open (or reuse) the pull request.

use super::Annotate;
use crate::app::cli::UpdateArgs;
use crate::app::config::Environment;
use crate::exit::InvalidInput;
use crate::find::env::DirFilter;
use crate::spec::Spec;
use crate::spec::report::ReportRequest;
use crate::update::{self, PublishOptions, UpdateRequest};
use std::io::Write as _;

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
    let mut env = args.env.resolve()?;
    if let Some(spec) = &spec
        && env.environment.is_none()
        && args.env.include_dirs.is_empty()
        && !spec.include_dir_pattern.trim().is_empty()
        && args
            .env
            .working_dir
            .components()
            .all(|c| c == std::path::Component::CurDir)
    {
        // No folders given: the spec's, which the report ran with (Patcher's stage and prod
        // update jobs name none), rather than every environment of the repository.
        env.scan.dirs = DirFilter::new(
            &[spec.include_dir_pattern.clone()],
            &[spec.exclude_dir_pattern.clone()],
        )
        .map_err(|e| InvalidInput(format!("the spec's IncludeDirPattern: {e}")))?;
        log::info!(
            "no include globs given: updating the spec's folders {}",
            spec.include_dir_pattern
        );
    }
    let promotion = match spec {
        Some(_) => None,
        None => env.promotion_or(&args.promote_from)?,
    };
    let dependency = super::limited_to(args.dependency.as_deref());
    let chosen = env.environment.as_ref();
    let branch = args.pull_request_branch.clone().or_else(|| {
        // The environment's branch for the one dependency updated.
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
    let reviewers = or_env(&args.pull_request_reviewers, |e| &e.reviewers);
    Ok(UpdateRequest {
        report: ReportRequest {
            dependency,
            strategy: env.strategy(args.update_strategy),
            promotion,
            scan: env.scan.clone(),
            clients: args.github.settings()?,
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
        }),
        commit_author: args
            .commit_author
            .clone()
            .or_else(|| chosen.and_then(|e| e.commit_author.clone())),
    })
}

/// Runs `baton update`.
pub fn run(args: &UpdateArgs) -> anyhow::Result<u8> {
    let outcome = update::run(&request(args)?, &Annotate)?;
    let text = match &outcome.diff {
        Some(diff) => diff.clone(),
        None => format!("{}\n", serde_json::to_string_pretty(&outcome)?),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(outcome.exit_code())
}
