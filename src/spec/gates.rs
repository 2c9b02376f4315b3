//! What holds a target back before it reaches the spec, and the context a promotion carries:
//! the time taken as now, the soak time a version must have spent in the previous environment
//! (`min_soak`), the age a release must have reached (`min_release_age`), and whether the
//! promotion is a rollback (which alone may move an environment down). A dependency held back
//! is listed under the spec's `Gated` key with the reason and when it becomes ready.

use crate::clock;
use crate::clock::Timestamp;
use crate::diag::{Reporter, Warning};
use crate::find::scan::{ScanReport, ScanRequest};
use crate::resolve::history::{self, EnvFolders, HistoryQuery};
use crate::resolve::landed::{self, Landed};
use crate::spec::Spec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// The gates of a report and the context of its promotion: plain values that the command line,
/// the action or a config file fill. All off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gates {
    /// The time taken as now (`None`: the machine's clock).
    pub now: Option<Timestamp>,
    /// With a promotion: how long the previous environment must have run a version, in all its
    /// usages, before it is proposed here.
    pub min_soak: Option<Duration>,
    /// Without a promotion: how old a release must be to be a target.
    pub min_release_age: Option<Duration>,
    /// The promotion carries a rollback: the environment may move down to the version that
    /// landed before it. Scheduled catch-up (no rollback) never moves an environment down.
    pub rollback: bool,
    /// The previous environment's name, for messages and commit trailers (default: its globs).
    pub promoted_from: Option<String>,
}

impl Gates {
    /// The time taken as now.
    pub fn now(&self) -> Timestamp {
        self.now.unwrap_or_else(crate::clock::system_now)
    }
}

/// A dependency (or one of its versions) held back by a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatedDependency {
    /// Dependency ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// The version held back, without `v`.
    #[serde(rename = "Version")]
    pub version: String,
    /// Which gate: `soak` or `release-age`.
    #[serde(rename = "Gate")]
    pub gate: String,
    /// Why, in words (`acme/…/vpc 1.3.0: in dev for 5h of 2d; ready after 2026-12-03T10:00Z`).
    #[serde(rename = "Reason")]
    pub reason: String,
    /// When it becomes ready (`2026-12-03T10:00:00Z`), when known.
    #[serde(rename = "ReadyAt", default)]
    pub ready_at: Option<String>,
}

/// Says where this environment runs a newer version than the previous one: catch-up leaves it
/// there.
pub(crate) fn warn_ahead(
    scan: &ScanRequest,
    current: &ScanReport,
    landed: &BTreeMap<String, Landed>,
    only: Option<&str>,
    previous: &str,
    reporter: &dyn Reporter,
) {
    for (id, l) in landed {
        if only.is_some_and(|o| o != id) {
            continue;
        }
        let newer: Vec<&str> = current
            .usages
            .iter()
            .filter(|u| u.skipped.is_none() && u.dependency.as_deref() == Some(id.as_str()))
            .filter(|u| landed::pinned_version(u).is_some_and(|v| v > l.version))
            .filter_map(|u| u.current.as_deref())
            .collect();
        if let Some(first) = newer.first() {
            reporter.warn(Warning::general(format!(
                "{id}: {} runs {first}, newer than {} in {previous}; not moved down (only the promotion of a rollback moves an environment down)",
                scan.describe(),
                l.version
            )));
        }
    }
}

/// Holds back the dependencies whose version has not run long enough in the previous
/// environment, as read from the history of its folders (kept in `cache_dir` between runs).
pub(crate) fn soak(
    spec: &mut Spec,
    (previous, cache_dir): (&ScanRequest, Option<&std::path::Path>),
    name: &str,
    landed: &BTreeMap<String, Landed>,
    min: Duration,
    now: Timestamp,
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
    if spec.dependencies.is_empty() {
        return Ok(());
    }
    let only = match spec.dependencies.as_slice() {
        [one] => Some(one.id.clone()),
        _ => None,
    };
    let read = history::read(
        &HistoryQuery {
            working_dir: previous.working_dir.clone(),
            environments: vec![EnvFolders {
                name: name.to_string(),
                dirs: previous.dirs.clone(),
            }],
            dependency: only,
            since: None,
            cache_dir: cache_dir.map(std::path::Path::to_path_buf),
        },
        reporter,
    )?;
    if read.shallow {
        reporter.warn(Warning::general(format!(
            "min_soak: the checkout is shallow (its history starts at {}), so soak times count from there at most; check out with `fetch-depth: 0`",
            read.oldest.map(clock::stamp).unwrap_or_else(|| "?".into())
        )));
    }
    let mut gated = Vec::new();
    spec.dependencies.retain(|d| {
        let Some(l) = landed.get(&d.id) else {
            return true;
        };
        let version = &l.version;
        match read.held_since(name, &d.id, version) {
            Some(change) => {
                let held = clock::since(change.time, now);
                if held >= min {
                    return true;
                }
                let ready = clock::add(change.time, min);
                gated.push(GatedDependency {
                    id: d.id.clone(),
                    version: version.to_string(),
                    gate: "soak".into(),
                    reason: format!(
                        "{} {version}: in {name} for {} of {}; ready after {}",
                        d.id,
                        clock::human(held),
                        clock::human(min),
                        clock::stamp(ready)
                    ),
                    ready_at: Some(clock::rfc3339(ready)),
                });
                false
            }
            None => {
                gated.push(GatedDependency {
                    id: d.id.clone(),
                    version: version.to_string(),
                    gate: "soak".into(),
                    reason: format!(
                        "{} {version}: the history of {name} on this branch does not show when it arrived (not committed yet?); held back until it does",
                        d.id
                    ),
                    ready_at: None,
                });
                false
            }
        }
    });
    for g in &gated {
        log::info!("held back: {}", g.reason);
    }
    spec.gated.extend(gated);
    Ok(())
}

/// The publication time of each candidate tag of one lookup, or why there is none.
type Dates = BTreeMap<String, Result<Timestamp, String>>;

/// Applies `min_release_age` to version listings: the tags newer than what the environment
/// runs are dated (GitHub: the release's publication, else the tag's commit; registries: the
/// version's `published_at`; other git hosts give no dates), and those younger than `min`, or
/// without a date, are taken out, so that they are not targets. Returns the targets this held
/// back, for the spec's `Gated` key.
pub async fn release_age(
    clients: &crate::resolve::Clients,
    report: &ScanReport,
    listings: &mut crate::resolve::Listings,
    only: Option<&str>,
    strategy: crate::spec::Strategy,
    min: Duration,
    now: Timestamp,
) -> Vec<GatedDependency> {
    use crate::resolve::Lookup;
    let before = crate::resolve::plan(report, listings, only);
    // Candidate tags per lookup: those newer than the lowest version in use.
    let mut candidates: BTreeMap<Lookup, Vec<String>> = BTreeMap::new();
    for dep in &before {
        let Some(lowest) = dep.current.first() else {
            continue;
        };
        let tags = candidates.entry(dep.lookup.clone()).or_default();
        for (v, tag) in &dep.tags {
            if v > lowest && !tags.contains(tag) {
                tags.push(tag.clone());
            }
        }
    }
    let mut dates: BTreeMap<Lookup, Dates> = BTreeMap::new();
    for (lookup, tags) in &candidates {
        dates.insert(lookup.clone(), date_tags(clients, lookup, tags).await);
    }
    for (lookup, listing) in listings.iter_mut() {
        let (Ok(tags), Some(dated)) = (listing, dates.get(lookup)) else {
            continue;
        };
        tags.retain(|t| match dated.get(t) {
            None => true,
            Some(Ok(at)) => clock::since(*at, now) >= min,
            Some(Err(_)) => false,
        });
    }
    let after = crate::resolve::plan(report, listings, only);
    let mut gated = Vec::new();
    for dep in &before {
        let target = |d: &crate::resolve::Dependency| match strategy {
            crate::spec::Strategy::NextSafe => d.targets.safe.clone(),
            crate::spec::Strategy::NextBreaking => {
                d.targets.breaking.clone().or(d.targets.safe.clone())
            }
        };
        let Some(was) = target(dep) else { continue };
        let now_target = after.iter().find(|d| d.id == dep.id).and_then(target);
        if now_target.as_ref() == Some(&was) {
            continue;
        }
        let tag = dep
            .tags
            .get(&was)
            .cloned()
            .unwrap_or_else(|| was.to_string());
        let dated = dates.get(&dep.lookup).and_then(|d| d.get(&tag));
        let (reason, ready_at) = match dated {
            Some(Ok(at)) => {
                let ready = clock::add(*at, min);
                (
                    format!(
                        "{} {was}: released {} ago ({}), younger than min_release_age {}; ready after {}",
                        dep.id,
                        clock::human(clock::since(*at, now)),
                        clock::stamp(*at),
                        clock::human(min),
                        clock::stamp(ready)
                    ),
                    Some(clock::rfc3339(ready)),
                )
            }
            Some(Err(why)) => (
                format!(
                    "{} {was}: {why}; held back while min_release_age is set",
                    dep.id
                ),
                None,
            ),
            None => continue,
        };
        let instead = match &now_target {
            Some(v) => format!(" (targeting {v} instead)"),
            None => String::new(),
        };
        gated.push(GatedDependency {
            id: dep.id.clone(),
            version: was.to_string(),
            gate: "release-age".into(),
            reason: format!("{reason}{instead}"),
            ready_at,
        });
    }
    gated
}

/// The publication time of each tag of one lookup.
async fn date_tags(
    clients: &crate::resolve::Clients,
    lookup: &crate::resolve::Lookup,
    tags: &[String],
) -> Dates {
    use crate::resolve::Lookup;
    let mut out = Dates::new();
    if tags.is_empty() {
        return out;
    }
    let parse = |s: Option<&str>| s.and_then(|s| clock::parse_instant(s).ok());
    match lookup {
        Lookup::GitHub { owner, repo } => {
            let releases: Vec<crate::clients::wire::ReleaseDate> = clients
                .github
                .all_pages(&format!("/repos/{owner}/{repo}/releases?per_page=100"))
                .await
                .unwrap_or_default();
            for tag in tags {
                let published = releases
                    .iter()
                    .find(|r| r.tag_name == *tag)
                    .and_then(|r| parse(r.published_at.as_deref()));
                let date = match published {
                    Some(at) => Ok(at),
                    None => {
                        // A tag without a release: the date of the commit it points at.
                        let path: Vec<String> = tag.split('/').map(url_segment).collect();
                        let route =
                            format!("/repos/{owner}/{repo}/commits/tags/{}", path.join("/"));
                        match clients
                            .github
                            .get_json::<crate::clients::wire::CommitInfo>(&route)
                            .await
                        {
                            Ok(c) => parse(c.commit.committer.and_then(|c| c.date).as_deref())
                                .ok_or_else(|| format!("GitHub gives no date for the tag {tag}")),
                            Err(e) => {
                                Err(format!("the date of the tag {tag} could not be read ({e})"))
                            }
                        }
                    }
                };
                out.insert(tag.clone(), date);
            }
        }
        Lookup::Registry {
            host,
            namespace,
            name,
            provider,
        } => {
            for tag in tags {
                let date = match clients
                    .registry
                    .published_at(host, namespace, name, provider, tag)
                    .await
                {
                    Ok(Some(at)) => parse(Some(&at))
                        .ok_or_else(|| format!("the registry's date {at:?} cannot be read")),
                    Ok(None) => Err(format!("{host} gives no publication date for {tag}")),
                    Err(e) => Err(format!(
                        "the publication date of {tag} could not be read ({e})"
                    )),
                };
                out.insert(tag.clone(), date);
            }
        }
        Lookup::Git { url } => {
            for tag in tags {
                out.insert(
                    tag.clone(),
                    Err(format!(
                        "no publication date: {url} is read with `git ls-remote`, which gives tags without dates"
                    )),
                );
            }
        }
    }
    out
}

/// A path segment for a URL (`/` and other reserved characters escaped).
fn url_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
