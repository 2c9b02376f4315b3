//! `baton scan`: list the module sources of one environment.

use crate::cli::ScanArgs;
use crate::exit;
use crate::output::{self, Format};
use crate::scan;

/// Runs `baton scan`.
pub fn run(args: &ScanArgs) -> anyhow::Result<u8> {
    let request = args.env.scan_request()?;
    let report = scan::scan(&request)?;
    super::warn_scan_problems(&report, &request);
    log::info!(
        "{} usages found in {} files",
        report.usages.len(),
        report.files_read
    );
    // The JSON of a large tree is streamed rather than held in memory beside the report.
    let stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => output::write_scan_json(&report, stdout)?,
        Format::Text => write_all(stdout, &output::scan_text(&report))?,
        Format::Markdown => write_all(stdout, &output::scan_markdown(&report))?,
    }
    Ok(exit::OK)
}

fn write_all(mut out: impl std::io::Write, text: &str) -> std::io::Result<()> {
    out.write_all(text.as_bytes())
}
