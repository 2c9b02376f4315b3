//! `baton scan`: list the module sources of one environment.

use super::Annotate;
use crate::app::cli::ScanArgs;
use crate::diag::Reporter as _;
use crate::exit;
use crate::find::scan;
use crate::output::{self, Format};
use std::io::Write as _;

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
    // The JSON of a large tree is streamed rather than held in memory beside the report.
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => output::write_scan_json(&report, &mut stdout)?,
        Format::Text => stdout.write_all(output::scan_text(&report).as_bytes())?,
        Format::Markdown => stdout.write_all(output::scan_markdown(&report).as_bytes())?,
    }
    Ok(exit::OK)
}
