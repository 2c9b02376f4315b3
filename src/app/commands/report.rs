//! `baton report`: the available updates of one environment, as a Patcher-compatible spec.

use super::Annotate;
use crate::app::cli::ReportArgs;
use crate::exit;
use crate::output::{self, Format};
use crate::spec::Spec;
use crate::spec::report::{self, ReportRequest};
use anyhow::Context as _;
use std::io::Write as _;

/// The request `baton report`'s flags describe.
pub fn request(args: &ReportArgs) -> anyhow::Result<ReportRequest> {
    Ok(ReportRequest {
        scan: args.env.scan_request()?,
        dependency: super::limited_to(args.dependency.as_deref()),
        strategy: args.update_strategy,
        promotion: super::promotion(&args.env.working_dir, &args.promote_from)?,
        gates: super::gates(&args.promote_from, args.min_soak, args.min_release_age)?,
        clients: args.github.settings()?,
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
    let text = match args.format {
        Format::Json => format!("{}\n", spec.to_json()),
        Format::Text => output::report_text(&spec),
        Format::Markdown => output::report_markdown(&spec),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(exit::OK)
}
