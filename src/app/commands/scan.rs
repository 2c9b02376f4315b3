//! `baton scan`: list the module sources of one environment.

use super::Annotate;
use crate::app::args::EnvArgs;
use crate::app::console::Console;
use crate::diag::Reporter as _;
use crate::exit;
use crate::find::scan;
use crate::output::{self, Format};
use clap::Args;
use std::io::Write;

/// Flags of `baton scan`.
#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// The environment.
    #[command(flatten)]
    pub env: EnvArgs,
    /// Output format.
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

/// Runs `baton scan`.
pub fn run(args: &ScanArgs) -> anyhow::Result<u8> {
    let request = args.env.resolve()?.scan;
    let report = scan::scan(&request)?;
    for w in request.problems(&report) {
        Annotate.warn(w);
    }
    log::info!(
        "{} found in {}",
        output::count(report.usages.len(), "usage", "usages"),
        output::count(report.files_read, "file", "files")
    );
    render(
        &report,
        args.format,
        Console::for_stdout(),
        &mut std::io::stdout().lock(),
    )?;
    // The process ends next and gives the memory back whole: freeing the usages one by one
    // would take a tenth of a second on a large tree.
    std::mem::forget(report);
    Ok(exit::OK)
}

/// Prints the scan in `format` through `console`.
pub fn render(
    report: &scan::ScanReport,
    format: Format,
    console: Console,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        // The JSON of a large tree is streamed rather than held in memory beside the report.
        Format::Json => output::write_scan_json(report, console.json(out)),
        Format::Text => console.write_text(out, &output::scan_text(report)),
        Format::Markdown => console.write_text(out, &output::scan_markdown(report)),
    }
}
