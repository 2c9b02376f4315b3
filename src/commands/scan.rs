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
    for e in &report.errors {
        output::warn_file(&e.file, e.line, e.column, &e.message);
    }
    if report.files_read == 0 {
        log::warn!(
            "no Terraform or Terragrunt files matched {} in {}",
            describe_globs(request.dirs.include_globs()),
            request.working_dir.display()
        );
    }
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

fn describe_globs(globs: &[String]) -> String {
    if globs.is_empty() {
        "any folder".to_string()
    } else {
        format!("--include-dirs {}", globs.join(","))
    }
}
