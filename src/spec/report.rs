//! `report`: the available updates of one environment, as a spec. The targets are the newest
//! releases, or, when the environment is promoted to, exactly what the previous one runs.

use crate::clients::{Session, Settings};
use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use crate::find::scan::{self, ScanReport, ScanRequest};
use crate::resolve::{self, Clients, impact, landed};
use crate::spec::dispatch::{self, Dispatched};
use crate::spec::group::{DispatchedGroup, GroupScope};
use crate::spec::{Spec, Strategy, gates, promotion};
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
    /// The `repository_dispatch` payload the run answers, when it names a dependency and a
    /// version: checked (published, not a pre-release, and what the previous environment runs at
    /// its commit) before anything moves.
    pub dispatched: Option<Dispatched>,
    /// The module release the run answers (`repository_dispatch` `new_module_release`, sent by
    /// `baton notify`): its repository's dependencies target exactly its version, with no
    /// version listing.
    pub release: Option<crate::spec::release::ModuleRelease>,
    /// Only the dependencies of this group (and, answering a group's dispatch, what it says
    /// landed).
    pub group: Option<GroupScope>,
}

/// Scans the environment and builds its spec; problems go to `reporter` on the way.
pub fn run(request: &ReportRequest, reporter: &dyn Reporter) -> anyhow::Result<Spec> {
    reporter.phase("scan");
    // The breaking-change impact reads the usages' files again: from the scan's reading.
    let report = match request.clients.skip_impact {
        true => scan::scan(&request.scan)?,
        false => scan::scan_keeping_texts(&request.scan)?,
    };
    for w in request.scan.problems(&report) {
        reporter.warn(w);
    }
    let report = match &request.group {
        Some(group) => group.scope(&report)?,
        None => report,
    };
    let session = match request.promotion {
        Some(_) => None,
        None => Some(Session::new(&request.clients)?),
    };
    let spec = spec_for(request, &report, session.as_ref(), reporter)?;
    // The front ends print the counts with the results; this is for tracing a run.
    log::debug!(
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
    if let Some(id) = only
        && !report
            .usages
            .iter()
            .any(|u| u.dependency.as_deref() == Some(id))
    {
        let mut ids: Vec<&str> = report
            .usages
            .iter()
            .filter_map(|u| u.dependency.as_deref())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let message = crate::diag::no_usage_of(id, &request.scan.describe(), ids);
        match request.promotion {
            // The next environment may simply not use what the previous one promoted.
            Some(_) => reporter.warn(Warning::general(format!(
                "{message} (nothing to promote here)"
            ))),
            None => return Err(InvalidInput(message).into()),
        }
    }
    if let (Some(release), None) = (&request.release, &request.promotion) {
        let owned;
        let session = match session {
            Some(s) => s,
            None => {
                owned = Session::new(&request.clients)?;
                &owned
            }
        };
        reporter.phase("module release");
        let only = request.dependency.as_deref().filter(|d| !d.is_empty());
        let mut spec = crate::spec::release::spec(
            (&request.scan, only, &request.gates),
            release,
            report,
            session,
            reporter,
        )?;
        spec.working_dir = crate::spec::location::in_repository(&request.scan.working_dir);
        return Ok(spec);
    }
    if let (Some(_), Some(payload)) = (&request.promotion, &request.dispatched) {
        payload.version()?;
        let owned;
        let session = match session {
            Some(s) => s,
            None => {
                owned = Session::new(&request.clients)?;
                &owned
            }
        };
        dispatch::check_published(payload, session, &request.scan, report)?;
    }
    if let (Some(_), Some(group)) = (
        &request.promotion,
        request.group.as_ref().and_then(|g| g.dispatched.as_ref()),
    ) {
        check_group_published(request, group, session, report)?;
    }
    let mut spec = match (&request.promotion, session) {
        (Some(promotion), _) => gated_promotion(request, promotion, report, only, reporter)?,
        (None, Some(session)) => resolve(session, request, report, only, reporter)?,
        (None, None) => anyhow::bail!("version lookups need a session"),
    };
    if request.promotion.is_some() {
        promotion_impact(request, report, &mut spec, session, reporter)?;
    }
    // Where the globs and paths of the spec are read from, for an update run elsewhere.
    spec.working_dir = crate::spec::location::in_repository(&request.scan.working_dir);
    for u in &spec.unreachable {
        let place = report
            .usages
            .iter()
            .find(|x| x.dependency.as_deref() == Some(u.id.as_str()));
        reporter.warn(Warning::at(
            place.map_or("", |p| p.version_file()),
            place.map(|p| p.version_line()),
            None,
            format!("cannot look up versions of {}: {}", u.id, u.error),
        ));
    }
    Ok(spec)
}

/// The spec of a promotion with its gates applied: the previous environment's versions as
/// targets (moving down only for a rollback), then held back until they have soaked there.
fn gated_promotion(
    request: &ReportRequest,
    promotion: &Promotion,
    current: &ScanReport,
    only: Option<&str>,
    reporter: &dyn Reporter,
) -> anyhow::Result<Spec> {
    let gates = &request.gates;
    let group = request.group.as_ref().and_then(|g| g.dispatched.as_ref());
    let previous_run = match group {
        Some(group) => group_previous_run(promotion, group, reporter)?,
        None => previous_run(promotion, only, reporter, request.dispatched.as_ref())?,
    };
    let landed = &previous_run.landed;
    let mut spec = spec_from_previous(
        &previous_run,
        &request.scan,
        current,
        only,
        reporter,
        gates.rollback,
    );
    let previous = match promotion {
        Promotion::FromDirs(previous) => Some(previous),
        Promotion::Landed { .. } => None,
    };
    let name = gates
        .promoted_from
        .clone()
        .or_else(|| previous.map(ScanRequest::describe))
        .unwrap_or_else(|| "the previous environment".into());
    if !gates.rollback {
        gates::warn_ahead(&request.scan, current, landed, only, &name, reporter);
    }
    if gates.min_release_age.is_some() {
        reporter.warn(Warning::general(
            "min_release_age applies to the first environment, whose targets are releases; a promotion takes what landed before it, so it is not applied here (min_soak is)",
        ));
    }
    // A rollback is not held: the soak time guards new versions, not the return to one.
    if let (Some(min), false) = (gates.min_soak, gates.rollback) {
        let Some(previous) = previous else {
            return Err(InvalidInput(
                "min_soak needs promote_from: the soak time is read from the previous environment's history".into(),
            )
            .into());
        };
        gates::soak(
            &mut spec,
            (previous, request.clients.cache_dir.as_deref()),
            &name,
            landed,
            min,
            gates.now(),
            reporter,
        )?;
    }
    Ok(spec)
}

/// Checks that every version a group payload names is a published release of its dependency
/// (those this environment uses).
fn check_group_published(
    request: &ReportRequest,
    group: &DispatchedGroup,
    session: Option<&Session>,
    report: &ScanReport,
) -> anyhow::Result<()> {
    let owned;
    let session = match session {
        Some(s) => s,
        None => {
            owned = Session::new(&request.clients)?;
            &owned
        }
    };
    for d in group_dispatched(group) {
        d.version()?;
        dispatch::check_published(&d, session, &request.scan, report)?;
    }
    Ok(())
}

/// The impact on this environment's own usages of each promoted move that crosses a breaking
/// release: this environment may pass other inputs than the previous one. Nothing is asked of
/// the network when no move is breaking (or with `skip_impact`).
fn promotion_impact(
    request: &ReportRequest,
    report: &ScanReport,
    spec: &mut Spec,
    session: Option<&Session>,
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
    if request.clients.skip_impact {
        return Ok(());
    }
    let mut deps = promotion::breaking_moves(spec, report);
    if deps.is_empty() {
        return Ok(());
    }
    reporter.phase("breaking-change impact");
    let owned;
    let session = match session {
        Some(s) => s,
        None => {
            owned = Session::new(&request.clients)?;
            &owned
        }
    };
    let clients = Arc::new(Clients {
        github: session.github.clone(),
        registry: session.settings.registry()?,
        git_dir: request.scan.working_dir.clone(),
    });
    session.block_on(impact::assess(
        clients,
        report,
        &mut deps,
        &request.scan.working_dir,
    ));
    for dep in deps {
        if let Some(d) = spec.dependencies.iter_mut().find(|d| d.id == dep.id) {
            d.impact = dep.impact;
        }
    }
    Ok(())
}

/// Each dependency of a group payload as a single dispatch would name it.
fn group_dispatched(group: &DispatchedGroup) -> Vec<Dispatched> {
    group
        .members
        .iter()
        .map(|m| Dispatched {
            dependency: m.dependency.clone(),
            version: m.version.clone(),
            sha: group.sha.clone(),
            environment: group.environment.clone(),
            pull_request: group.pull_request,
        })
        .collect()
}

/// What landed before, for a group payload: the previous environment read at the payload's
/// commit, every version the payload names checked against it (one that differs refuses the
/// whole promotion), and only those dependencies promoted.
fn group_previous_run(
    promotion: &Promotion,
    group: &DispatchedGroup,
    reporter: &dyn Reporter,
) -> anyhow::Result<PreviousRun> {
    let Promotion::FromDirs(previous) = promotion else {
        return Err(InvalidInput(format!(
            "group {:?} is promoted from the previous environment's folders, read at the commit that merged it: set promote_from (the config's environment chain, or --promote-from)",
            group.group
        ))
        .into());
    };
    let members = group_dispatched(group);
    let Some(first) = members.first() else {
        anyhow::bail!("the group payload names no dependency");
    };
    let mut run = previous_run(promotion, None, reporter, Some(first))?;
    for d in &members[1..] {
        dispatch::check_landed(d, &run.landed, previous)?;
    }
    let named = |id: &String| members.iter().any(|m| &m.dependency == id);
    run.landed.retain(|id, _| named(id));
    run.ranges.retain(|id, _| named(id));
    run.unpinned.retain(|id, _| named(id));
    if let Some(env) = &group.environment {
        run.name = env.clone();
    }
    Ok(run)
}

/// Looks up versions for the scan's dependencies and builds the spec.
fn resolve(
    session: &Session,
    report_request: &ReportRequest,
    report: &ScanReport,
    only: Option<&str>,
    reporter: &dyn Reporter,
) -> anyhow::Result<Spec> {
    reporter.phase("look up versions");
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
    let requests = session.github.requests_sent();
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
        "looked up {count} module {} ({requests} GitHub API request{})",
        if count == 1 {
            "repository"
        } else {
            "repositories"
        },
        if requests == 1 { "" } else { "s" }
    );
    let mut deps = resolve::plan(report, &listings, only);
    if !session.settings.skip_impact {
        reporter.phase("breaking-change impact");
        session.block_on(impact::assess(
            clients,
            report,
            &mut deps,
            &request.working_dir,
        ));
        log::info!(
            "worked out the impact of breaking targets ({} GitHub API requests in all)",
            session.github.requests_sent()
        );
    }
    let mut spec = Spec::build(
        request.dirs.include_pattern(),
        request.dirs.exclude_pattern(),
        report,
        &deps,
        strategy,
        only,
    );
    spec.looked_up = deps.len();
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
    promotion_spec_checked(promotion, request, report, only, reporter, None)
}

/// [`promotion_spec`] for a run answering a dispatch `payload`: the previous environment is read
/// at the payload's commit, and the payload's version must be what it runs there.
pub fn promotion_spec_checked(
    promotion: &Promotion,
    request: &ScanRequest,
    report: &ScanReport,
    only: Option<&str>,
    reporter: &dyn Reporter,
    payload: Option<&Dispatched>,
) -> anyhow::Result<Spec> {
    let previous = previous_run(promotion, only, reporter, payload)?;
    Ok(spec_from_previous(
        &previous, request, report, only, reporter, false,
    ))
}

/// What the previous environment runs, as a promotion reads it.
#[derive(Debug, Clone, Default)]
pub struct PreviousRun {
    /// Dependencies at an exact version.
    pub landed: BTreeMap<String, landed::Landed>,
    /// Dependencies at a registry range.
    pub ranges: BTreeMap<String, landed::LandedRange>,
    /// Dependencies it uses without a version Baton can read, with the reason.
    pub unpinned: BTreeMap<String, String>,
    /// Its name (or folders), for messages.
    pub name: String,
}

/// What landed before this environment: the versions the previous environment's folders use
/// (at the dispatch `payload`'s commit when there is one, which must then run its version), or
/// the one version a dispatch payload names.
pub fn previous_run(
    promotion: &Promotion,
    only: Option<&str>,
    reporter: &dyn Reporter,
    payload: Option<&Dispatched>,
) -> anyhow::Result<PreviousRun> {
    let (landed, ranges, unpinned, name) = match promotion {
        Promotion::FromDirs(previous) => {
            let prev = match payload.and_then(|p| p.sha.as_deref()) {
                Some(sha) => dispatch::scan_at(previous, sha)?,
                None => scan::scan(previous)?,
            };
            for w in previous.problems(&prev) {
                reporter.warn(w);
            }
            let landed = landed::landed_versions(&prev);
            if let Some(p) = payload {
                dispatch::check_landed(p, &landed, previous)?;
            }
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
            let ranges = landed::landed_ranges(&prev);
            let mut unpinned = BTreeMap::new();
            for u in &prev.usages {
                if let Some(id) = &u.dependency {
                    if !landed.contains_key(id) && !ranges.contains_key(id) {
                        unpinned.entry(id.clone()).or_insert_with(|| {
                            u.skipped
                                .clone()
                                .unwrap_or_else(|| "no version Baton can read".into())
                        });
                    }
                }
            }
            (landed, ranges, unpinned, previous.describe())
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
            (
                BTreeMap::from([(
                    dependency.clone(),
                    landed::Landed {
                        version: parsed,
                        disagreeing: Vec::new(),
                    },
                )]),
                BTreeMap::new(),
                BTreeMap::new(),
                payload
                    .and_then(|p| p.environment.clone())
                    .unwrap_or_else(|| "the previous environment".into()),
            )
        }
    };
    Ok(PreviousRun {
        landed,
        ranges,
        unpinned,
        name,
    })
}

/// The spec moving this environment (`request`, scanned into `report`) to what the previous one
/// runs; with `down` (the promotion of a rollback) usages newer than that move down too. What is
/// not promoted is said, as a warning when it matters.
pub fn spec_from_previous(
    previous: &PreviousRun,
    request: &ScanRequest,
    report: &ScanReport,
    only: Option<&str>,
    reporter: &dyn Reporter,
    down: bool,
) -> Spec {
    let here = request.describe();
    let spec = promotion::promotion_spec_from_moving(
        request.dirs.include_pattern(),
        request.dirs.exclude_pattern(),
        report,
        &promotion::Previous {
            landed: &previous.landed,
            ranges: &previous.ranges,
            unpinned: &previous.unpinned,
            name: &previous.name,
        },
        &here,
        only,
        down,
    );
    for n in &spec.not_promoted {
        if n.notable {
            reporter.warn(Warning::general(format!(
                "{} not promoted: {}",
                n.id, n.reason
            )));
        } else {
            log::info!("{} not promoted: {}", n.id, n.reason);
        }
    }
    spec
}
