//! `baton scan`: list the module sources of one environment.

use crate::cli::ScanArgs;
use crate::exit;
use crate::output::{self, Format};
use crate::scan;
use std::io::Write as _;

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
    let text = match args.format {
        Format::Json => output::scan_json(&report),
        Format::Text => output::scan_text(&report),
        Format::Markdown => output::scan_markdown(&report),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(exit::OK)
}
