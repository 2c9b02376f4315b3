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
    let env = args.env.resolve()?;
    Ok(ReportRequest {
        dependency: super::limited_to(args.dependency.as_deref()),
        strategy: env.strategy(args.update_strategy),
        promotion: env.promotion_or(&args.promote_from)?,
        scan: env.scan,
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
