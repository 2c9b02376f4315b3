//! `report`: the available updates of one environment, as a spec. The targets are the newest
//! releases, or, when the environment is promoted to, exactly what the previous one runs.

use crate::clients::{Session, Settings};
use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use crate::find::scan::{self, ScanReport, ScanRequest};
use crate::resolve::{self, Clients, landed};
use crate::spec::{Spec, Strategy, promotion};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where promoted targets come from.
#[derive(Debug, Clone)]
pub enum Promotion {
    /// The versions the previous environment's folders use on the checked-out commit.
    FromDirs(ScanRequest),
    /// One dependency at one version, as a `repository_dispatch` payload names them.
    Landed {
        /// The dependency ID.
        dependency: String,
        /// The version, as sent.
        version: String,
    },
}

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    /// The environment.
    pub scan: ScanRequest,
    /// Only this dependency.
    pub dependency: Option<String>,
    /// Which updates to list.
    pub strategy: Strategy,
    /// Targets from the previous environment instead of the newest releases.
    pub promotion: Option<Promotion>,
    /// What holds targets back, and the promotion's context.
    pub gates: crate::spec::gates::Gates,
    /// How to reach GitHub and registries.
    pub clients: Settings,
}

/// Scans the environment and builds its spec; problems go to `reporter` on the way.
pub fn run(request: &ReportRequest, reporter: &dyn Reporter) -> anyhow::Result<Spec> {
    let report = scan::scan(&request.scan)?;
    for w in request.scan.problems(&report) {
        reporter.warn(w);
    }
    let session = match request.promotion {
        Some(_) => None,
        None => Some(Session::new(&request.clients)?),
    };
    let spec = spec_for(request, &report, session.as_ref(), reporter)?;
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

/// The spec for a scan already made: from the promotion when there is one, else from version
/// lookups on `session` (needed then).
pub fn spec_for(
    request: &ReportRequest,
    report: &ScanReport,
    session: Option<&Session>,
    reporter: &dyn Reporter,
) -> anyhow::Result<Spec> {
    let only = request.dependency.as_deref().filter(|d| !d.is_empty());
    let spec = match (&request.promotion, session) {
        (Some(promotion), _) => {
            crate::spec::gates::promote(request, promotion, report, only, reporter)?
        }
        (None, Some(session)) => resolve(session, request, report, only)?,
        (None, None) => anyhow::bail!("version lookups need a session"),
    };
    for u in &spec.unreachable {
        let place = report
            .usages
            .iter()
            .find(|x| x.dependency.as_deref() == Some(u.id.as_str()));
        reporter.warn(Warning::at(
            place.map_or("", |p| p.file.as_str()),
            place.map(|p| p.version_line()),
            None,
            format!("cannot look up versions of {}: {}", u.id, u.error),
        ));
    }
    Ok(spec)
}

/// Looks up versions for the scan's dependencies and builds the spec.
fn resolve(
    session: &Session,
    report_request: &ReportRequest,
    report: &ScanReport,
    only: Option<&str>,
) -> anyhow::Result<Spec> {
    let request = &report_request.scan;
    let strategy = report_request.strategy;
    let lookups = resolve::lookups_for(report, only);
    let clients = Arc::new(Clients {
        github: session.github.clone(),
        registry: session.settings.registry()?,
        git_dir: request.working_dir.clone(),
    });
    let count = lookups.len();
    let mut listings = session.block_on(resolve::fetch_all(clients.clone(), lookups));
    let gates = &report_request.gates;
    let gated = match gates.min_release_age {
        Some(min) => session.block_on(crate::spec::gates::release_age(
            &clients,
            report,
            &mut listings,
            only,
            strategy,
            min,
            gates.now(),
        )),
        None => Vec::new(),
    };
    log::info!(
        "looked up {count} module repositories ({} GitHub API requests)",
        session.github.requests_sent()
    );
    let deps = resolve::plan(report, &listings, only);
    let mut spec = Spec::build(
        request.dirs.include_pattern(),
        request.dirs.exclude_pattern(),
        report,
        &deps,
        strategy,
        only,
    );
    spec.gated = gated;
    Ok(spec)
}

/// The spec of a promotion for a scan of the next environment.
pub fn promotion_spec(
    promotion: &Promotion,
    request: &ScanRequest,
    report: &ScanReport,
    only: Option<&str>,
    reporter: &dyn Reporter,
) -> anyhow::Result<Spec> {
    let landed = landed_for(promotion, only, reporter)?;
    Ok(promotion::promotion_spec(
        request.dirs.include_pattern(),
        request.dirs.exclude_pattern(),
        report,
        &landed,
        only,
    ))
}

/// What landed before this environment: the versions the previous environment's folders use,
/// or the one version a dispatch payload names.
pub fn landed_for(
    promotion: &Promotion,
    only: Option<&str>,
    reporter: &dyn Reporter,
) -> anyhow::Result<BTreeMap<String, landed::Landed>> {
    Ok(match promotion {
        Promotion::FromDirs(previous) => {
            let prev = scan::scan(previous)?;
            for w in previous.problems(&prev) {
                reporter.warn(w);
            }
            let landed = landed::landed_versions(&prev);
            for (id, l) in &landed {
                if !l.disagreeing.is_empty() && only.is_none_or(|o| o == id) {
                    log::warn!(
                        "{id} is at several versions in {} ({}); promoting {}, which all of them have reached",
                        previous.describe(),
                        l.disagreeing.join(", "),
                        l.version
                    );
                }
            }
            landed
        }
        Promotion::Landed {
            dependency,
            version,
        } => {
            let parsed = crate::version::parse_version(version).ok_or_else(|| {
                InvalidInput(format!(
                    "the dispatch payload's version {version:?} is not a version"
                ))
            })?;
            BTreeMap::from([(
                dependency.clone(),
                landed::Landed {
                    version: parsed,
                    disagreeing: Vec::new(),
                },
            )])
        }
    })
}
