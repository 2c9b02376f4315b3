//! `baton report`: the available updates of one environment, as a Patcher-compatible spec.

use crate::cli::ReportArgs;
use crate::exit;
use crate::github::GitHub;
use crate::output::{self, Format};
use crate::resolve::{self, Clients};
use crate::scan::{self, ScanReport, ScanRequest};
use crate::spec::{Spec, Strategy};
use anyhow::Context as _;
use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

/// Runs `baton report`.
pub fn run(args: &ReportArgs) -> anyhow::Result<u8> {
    let spec = execute(args)?;
    let text = match args.format {
        Format::Json => format!("{}\n", spec.to_json()),
        Format::Text => output::report_text(&spec),
        Format::Markdown => output::report_markdown(&spec),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    Ok(exit::OK)
}

/// Scans, resolves and builds the spec (also written to `--spec-file`); problems are reported
/// on the way.
pub fn execute(args: &ReportArgs) -> anyhow::Result<Spec> {
    let request = args.env.scan_request()?;
    let report = scan::scan(&request)?;
    super::warn_scan_problems(&report, &request);
    let limited = super::limited_to(args.dependency.as_deref());
    let only = limited.as_deref();
    let spec = match super::promotion(&args.env.working_dir, &args.promote_from)? {
        Some(promotion) => super::promotion_spec(&promotion, &request, &report, only)?,
        None => build_spec(args, &report, only)?,
    };
    for u in &spec.unreachable {
        let place = report
            .usages
            .iter()
            .find(|x| x.dependency.as_deref() == Some(u.id.as_str()));
        output::warn_file(
            place.map_or("", |p| p.version_file()),
            place.map(|p| p.version_line()),
            None,
            &format!("cannot look up versions of {}: {}", u.id, u.error),
        );
    }
    if let Some(path) = &args.spec_file {
        std::fs::write(path, format!("{}\n", spec.to_json()))
            .with_context(|| format!("cannot write the spec to {}", path.display()))?;
    }
    log::info!(
        "{} dependenc{} with updates",
        spec.dependencies.len(),
        if spec.dependencies.len() == 1 {
            "y"
        } else {
            "ies"
        }
    );
    Ok(spec)
}

/// Looks up versions for the scan's dependencies and builds the spec.
pub fn build_spec(
    args: &ReportArgs,
    report: &ScanReport,
    only: Option<&str>,
) -> anyhow::Result<Spec> {
    let runtime = super::runtime()?;
    // octocrab's client must be built inside the runtime it will run on.
    let _entered = runtime.enter();
    let gh = args.github.client()?;
    let request = args.env.scan_request()?;
    resolve(
        &runtime,
        &gh,
        &request,
        &args.env.working_dir,
        args.update_strategy,
        report,
        only,
    )
}

/// Resolves targets for a scan on a running runtime and builds the spec.
pub fn resolve(
    runtime: &tokio::runtime::Runtime,
    github: &GitHub,
    request: &ScanRequest,
    git_dir: &Path,
    strategy: Strategy,
    report: &ScanReport,
    only: Option<&str>,
) -> anyhow::Result<Spec> {
    let lookups = resolve::lookups_for(report, only);
    let clients = Arc::new(Clients {
        github: github.clone(),
        registry: super::registry_client()?,
        git_dir: git_dir.to_path_buf(),
    });
    let count = lookups.len();
    let listings = runtime.block_on(resolve::fetch_all(clients.clone(), lookups));
    log::info!(
        "looked up {count} module repositories ({} GitHub API requests)",
        github.requests_sent()
    );
    let deps = resolve::plan(report, &listings, only);
    Ok(Spec::build(
        request.dirs.include_pattern(),
        request.dirs.exclude_pattern(),
        report,
        &deps,
        strategy,
        only,
    ))
}
