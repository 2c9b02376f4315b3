//! One file per command: each turns its request into results and output, nothing more.

pub mod report;
pub mod scan;
pub mod status;
pub mod update;

use crate::output;
use crate::registry::RegistryClient;
use crate::scan::{ScanReport, ScanRequest};
use std::time::Duration;

/// The async runtime for network lookups: small, as the work is I/O-bound.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// The registry client with Baton's defaults.
pub fn registry_client() -> anyhow::Result<RegistryClient> {
    Ok(RegistryClient::new(
        &format!("baton/{}", env!("CARGO_PKG_VERSION")),
        Duration::from_secs(30),
    )?)
}

/// Reports unreadable files and an environment that matched nothing.
pub fn warn_scan_problems(report: &ScanReport, request: &ScanRequest) {
    for e in &report.errors {
        output::warn_file(&e.file, e.line, e.column, &e.message);
    }
    if report.files_read == 0 {
        let globs = request.dirs.include_globs();
        log::warn!(
            "no Terraform or Terragrunt files matched {} in {}",
            if globs.is_empty() {
                "any folder".to_string()
            } else {
                format!("--include-dirs {}", globs.join(","))
            },
            request.working_dir.display()
        );
    }
}
