//! `baton update`: edit the version bytes of one environment's usages, then optionally commit,
//! force-push the branch and open (or reuse) the pull request.

use super::Annotate;
use crate::app::cli::UpdateArgs;
use crate::exit::InvalidInput;
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
    let promotion = match spec {
        Some(_) => None,
        None => super::promotion(&args.env.working_dir, &args.promote_from)?,
    };
    Ok(UpdateRequest {
        report: ReportRequest {
            scan: args.env.scan_request()?,
            dependency: super::limited_to(args.dependency.as_deref()),
            strategy: args.update_strategy,
            promotion,
            gates: super::gates(&args.promote_from, args.min_soak, args.min_release_age)?,
            clients: args.github.settings()?,
        },
        spec,
        dry_run: args.dry_run,
        publish: args.publish.then(|| PublishOptions {
            branch: args.pull_request_branch.clone().unwrap_or_default(),
            title: args.pull_request_title.clone(),
            labels: args.pull_request_labels.clone(),
            reviewers: args.pull_request_reviewers.clone(),
            draft: args.draft,
            commit_message: args.commit_message.clone(),
        }),
        commit_author: args.commit_author.clone(),
        to_version: args.to_version.clone(),
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
