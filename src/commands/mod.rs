//! One file per command: each turns its request into results and output, nothing more.

pub mod demo;
pub mod promote;
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

/// The registry client with Baton's defaults (the timeout of `BATON_HTTP_TIMEOUT_SECS` when set).
pub fn registry_client() -> anyhow::Result<RegistryClient> {
    Ok(RegistryClient::new(
        &format!("baton/{}", env!("CARGO_PKG_VERSION")),
        crate::cli::http_timeout()?.unwrap_or(Duration::from_secs(30)),
    )?)
}

/// The environment's globs, for messages.
pub fn describe_dirs(request: &ScanRequest) -> String {
    let globs = request.dirs.include_globs();
    if globs.is_empty() {
        request.working_dir.display().to_string()
    } else {
        globs.join(",")
    }
}

/// Where promoted targets come from.
#[derive(Debug, Clone)]
pub enum Promotion {
    /// The versions the previous environment's folders use on the checked-out commit.
    FromDirs(ScanRequest),
    /// The version named by a `repository_dispatch` payload.
    FromPayload(crate::promote::Payload),
}

/// The promotion in force: `--promote-from`, else the payload of the `repository_dispatch`
/// event the workflow runs for (when it names a dependency).
pub fn promotion(
    working_dir: &std::path::Path,
    promote_from: &[String],
) -> anyhow::Result<Option<Promotion>> {
    if !promote_from.iter().all(|g| g.trim().is_empty()) {
        return Ok(Some(Promotion::FromDirs(ScanRequest {
            working_dir: working_dir.to_path_buf(),
            dirs: crate::env::DirFilter::new(promote_from, &[] as &[String])?,
        })));
    }
    Ok(dispatch_payload().map(Promotion::FromPayload))
}

/// The dependency a run is limited to: `--dependency`, else the one named by the
/// `repository_dispatch` payload being handled.
pub fn limited_to(flag: Option<&str>) -> Option<String> {
    flag.filter(|d| !d.is_empty())
        .map(str::to_string)
        .or_else(|| dispatch_payload().and_then(|p| p.dependency))
}

/// The `client_payload` of the `repository_dispatch` event being handled, if it names a
/// dependency.
pub fn dispatch_payload() -> Option<crate::promote::Payload> {
    if std::env::var("GITHUB_EVENT_NAME").ok()? != "repository_dispatch" {
        return None;
    }
    let path = std::env::var_os("GITHUB_EVENT_PATH")?;
    let text = std::fs::read_to_string(path).ok()?;
    let event: serde_json::Value = serde_json::from_str(&text).ok()?;
    crate::promote::payload_of(&event).filter(|p| p.dependency.is_some())
}

/// The spec of a promotion for a scan of the next environment.
pub fn promotion_spec(
    promotion: &Promotion,
    request: &ScanRequest,
    report: &ScanReport,
    only: Option<&str>,
) -> anyhow::Result<crate::spec::Spec> {
    let landed = match promotion {
        Promotion::FromDirs(previous) => {
            let prev = crate::scan::scan(previous)?;
            warn_scan_problems(&prev, previous);
            let landed = crate::promote::landed_versions(&prev);
            for (id, l) in &landed {
                if !l.disagreeing.is_empty() && only.is_none_or(|o| o == id) {
                    log::warn!(
                        "{id} is at several versions in {} ({}); promoting {}, which all of them have reached",
                        describe_dirs(previous),
                        l.disagreeing.join(", "),
                        l.version
                    );
                }
            }
            landed
        }
        Promotion::FromPayload(p) => {
            let (Some(id), Some(v)) = (&p.dependency, &p.version) else {
                return Err(crate::cli::InvalidInput(
                    "the repository_dispatch payload names no dependency and version; set promote_from".into(),
                )
                .into());
            };
            let version = crate::version::parse_version(v).ok_or_else(|| {
                crate::cli::InvalidInput(format!(
                    "the dispatch payload's version {v:?} is not a version"
                ))
            })?;
            std::collections::BTreeMap::from([(
                id.clone(),
                crate::promote::Landed {
                    version,
                    disagreeing: Vec::new(),
                },
            )])
        }
    };
    Ok(crate::promote::promotion_spec(
        request.dirs.include_pattern(),
        request.dirs.exclude_pattern(),
        report,
        &landed,
        only,
    ))
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
