//! `baton report`: the available updates of one environment, as a Patcher-compatible spec.

use super::Annotate;
use crate::app::args::{EnvArgs, GitHubArgs};
use crate::app::console::Console;
use crate::exit;
use crate::output::{self, Format};
use crate::spec::report::{self, ReportRequest};
use crate::spec::{Spec, Strategy};
use anyhow::Context as _;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Flags of `baton report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The environment.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Report only this dependency ID (`org/repo/module`).
    #[arg(long, env = "BATON_DEPENDENCY", value_name = "ID")]
    pub dependency: Option<String>,
    /// Report only the dependencies of this group of the config file (`[[groups]]`).
    #[arg(
        long,
        env = "BATON_GROUP",
        value_name = "NAME",
        conflicts_with = "dependency"
    )]
    pub group: Option<String>,
    /// Which dependencies to list: `next-safe` lists those with a non-breaking update,
    /// `next-breaking` also those whose only update is breaking [default: the environment's
    /// `update_strategy`, else next-breaking].
    #[arg(long, env = "BATON_UPDATE_STRATEGY", value_enum)]
    pub update_strategy: Option<Strategy>,
    /// Also write the JSON spec to this file.
    #[arg(long, env = "BATON_SPEC_FILE", value_name = "FILE")]
    pub spec_file: Option<PathBuf>,
    /// Promote what landed: target, for each dependency, exactly the version that the previous
    /// environment's folders (these globs) use on the checked-out commit, not the newest release.
    #[arg(long, env = "BATON_PROMOTE_FROM", value_name = "GLOB")]
    pub promote_from: Vec<String>,
    /// Output format on stdout (the spec file is always JSON).
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Exit with code 1 when the versions of any dependency could not be looked up (when none
    /// could, the exit code is 3 anyway).
    #[arg(long, env = "BATON_FAIL_ON_UNREACHABLE")]
    pub fail_on_unreachable: bool,
    /// With --promote-from: propose a version only once the previous environment has run it,
    /// in all its usages, for this long on this branch (`36h`, `2d`); until then it is listed
    /// under `Gated` with the time it becomes ready. Read from the git history.
    #[arg(long, env = "BATON_MIN_SOAK", value_name = "DURATION", value_parser = crate::clock::parse_duration)]
    pub min_soak: Option<std::time::Duration>,
    /// Without --promote-from: releases younger than this (`7d`) are not targets.
    #[arg(long, env = "BATON_MIN_RELEASE_AGE", value_name = "DURATION", value_parser = crate::clock::parse_duration)]
    pub min_release_age: Option<std::time::Duration>,
    /// GitHub access.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// The request `baton report`'s flags describe.
pub fn request(args: &ReportArgs) -> anyhow::Result<ReportRequest> {
    let env = args.env.resolve()?;
    let promotion = super::promotion_or(&env, &args.promote_from)?;
    let release = match promotion {
        Some(_) => None,
        None => super::module_release()?,
    };
    // The soak time into this environment: the flag, else the config's gate.
    let min_soak = args
        .min_soak
        .or_else(|| env.environment.as_ref().and_then(|e| e.gates().min_soak));
    let group = super::group_scope(&env, args.group.as_deref(), promotion.is_some())?;
    if let (Some(g), Some(d)) = (&group, args.dependency.as_deref().filter(|d| !d.is_empty())) {
        return Err(crate::exit::InvalidInput(format!(
            "--dependency {d} and group {:?}: a group's dependencies move together; leave --dependency (input dependency) empty",
            g.group.name
        ))
        .into());
    }
    let mut gates = super::gates(
        &args.promote_from,
        promotion.is_some(),
        min_soak,
        args.min_release_age,
    )?;
    if let Some(from) = group
        .as_ref()
        .and_then(|g| g.dispatched.as_ref()?.environment.clone())
    {
        gates.promoted_from = Some(from);
    }
    Ok(ReportRequest {
        dependency: super::limited_to(args.dependency.as_deref()),
        strategy: env.strategy(args.update_strategy),
        gates,
        promotion,
        scan: env.scan,
        clients: args.github.settings()?,
        dispatched: super::dispatched(),
        release,
        group,
    })
}

/// The spec's dependencies by the groups of the config file: the names of the groups with at
/// least one of them (each updated by `update --group`), and those of no group (each updated
/// alone), for the matrices of a workflow.
/// A dependency matched by two groups is refused (it would get two pull requests).
pub fn by_group<'a>(
    spec: &'a Spec,
    config: Option<&crate::app::config::Config>,
) -> Result<(Vec<String>, Vec<&'a crate::spec::SpecDependency>), crate::exit::InvalidInput> {
    let groups = config.map_or(&[][..], |c| c.groups.as_slice());
    crate::spec::group::check_overlap_of(groups, spec.dependencies.iter().map(|d| d.id.as_str()))?;
    let names = groups
        .iter()
        .filter(|g| spec.dependencies.iter().any(|d| g.matches(&d.id)))
        .map(|g| g.name.clone())
        .collect();
    let ungrouped = spec
        .dependencies
        .iter()
        .filter(|d| !groups.iter().any(|g| g.matches(&d.id)))
        .collect();
    Ok((names, ungrouped))
}

/// Writes the spec to `--spec-file`, when given.
pub fn save(args: &ReportArgs, spec: &Spec) -> anyhow::Result<()> {
    if let Some(path) = &args.spec_file {
        std::fs::write(path, format!("{}\n", spec.to_json()))
            .with_context(|| format!("cannot write the spec to {}", path.display()))?;
    }
    Ok(())
}

/// Runs `baton report`.
pub fn run(args: &ReportArgs) -> anyhow::Result<u8> {
    let spec = report::run(&request(args)?, &Annotate)?;
    save(args, &spec)?;
    render(
        &spec,
        args.format,
        Console::for_stdout(),
        &mut std::io::stdout().lock(),
    )?;
    exit_code(args, &spec)
}

/// The exit code of a report: an error (3) when no dependency could be checked at all; 1 with
/// `--fail-on-unreachable` when some could not; else 0.
pub fn exit_code(args: &ReportArgs, spec: &Spec) -> anyhow::Result<u8> {
    if let Some(failure) = spec.total_failure() {
        anyhow::bail!("{failure}");
    }
    Ok(
        if args.fail_on_unreachable && !spec.unreachable.is_empty() {
            exit::FINDINGS
        } else {
            exit::OK
        },
    )
}

/// Prints the spec in `format` through `console`.
pub fn render(
    spec: &Spec,
    format: Format,
    console: Console,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => console.write_json(out, &spec.to_json()),
        Format::Text => console.write_text(out, &output::report_text(spec)),
        Format::Markdown => console.write_text(out, &output::report_markdown(spec)),
    }
}
