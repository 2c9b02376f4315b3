//! `baton report`: the available updates of one environment, as a Patcher-compatible spec.

use super::Annotate;
use crate::app::cli::ReportArgs;
use crate::app::console::Console;
use crate::exit;
use crate::output::{self, Format};
use crate::spec::Spec;
use crate::spec::report::{self, ReportRequest};
use anyhow::Context as _;
use std::io::Write;

/// The request `baton report`'s flags describe.
pub fn request(args: &ReportArgs) -> anyhow::Result<ReportRequest> {
    let env = args.env.resolve()?;
    let promotion = env.promotion_or(&args.promote_from)?;
    // The soak time into this environment: the flag, else the config's gate.
    let min_soak = args
        .min_soak
        .or_else(|| env.environment.as_ref().and_then(|e| e.gates().min_soak));
    Ok(ReportRequest {
        dependency: super::limited_to(args.dependency.as_deref()),
        strategy: env.strategy(args.update_strategy),
        gates: super::gates(
            &args.promote_from,
            promotion.is_some(),
            min_soak,
            args.min_release_age,
        )?,
        promotion,
        scan: env.scan,
        clients: args.github.settings()?,
        dispatched: super::dispatched(),
    })
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
