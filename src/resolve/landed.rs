//! What an environment runs: the version each dependency has landed at, read from a scan. The
//! next environment's targets come from here, never from a newer release.

use crate::find::scan::{ScanReport, Usage};
use crate::find::source::Source;
use crate::version::{self, Constraint, Version};
use std::collections::BTreeMap;

/// The version a dependency runs in an environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Landed {
    /// The version all usages have reached (the lowest).
    pub version: Version,
    /// Every version in use, as written, when they disagree.
    pub disagreeing: Vec<String>,
}

/// The exact version a usage pins, if any: a git ref or `?version=`, or an exact registry pin.
pub fn pinned_version(u: &Usage) -> Option<Version> {
    let current = u.current.as_deref()?;
    match &u.address {
        Some(Source::Registry(r)) if r.query_version.is_none() => {
            Constraint::parse(current).ok()?.exact()
        }
        _ => version::split_tag(current)
            .map(|(_, v)| v)
            .or_else(|| version::parse_version(current)),
    }
}

/// The version each dependency runs in an environment (managed usages with an exact version).
pub fn landed_versions(report: &ScanReport) -> BTreeMap<String, Landed> {
    let mut seen: BTreeMap<String, Vec<(Version, String)>> = BTreeMap::new();
    for u in &report.usages {
        if u.skipped.is_some() {
            continue;
        }
        let (Some(id), Some(v)) = (&u.dependency, pinned_version(u)) else {
            continue;
        };
        seen.entry(id.clone())
            .or_default()
            .push((v, u.current.clone().unwrap_or_default()));
    }
    seen.into_iter()
        .filter_map(|(id, mut versions)| {
            versions.sort();
            let lowest = versions.first()?.0.clone();
            let mut written: Vec<String> = versions.iter().map(|(_, w)| w.clone()).collect();
            written.dedup();
            let disagreeing = if versions.iter().any(|(v, _)| *v != lowest) {
                written
            } else {
                Vec::new()
            };
            Some((
                id,
                Landed {
                    version: lowest,
                    disagreeing,
                },
            ))
        })
        .collect()
}

/// A registry version range an environment runs a dependency at (`~> 4.1`), as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LandedRange {
    /// The range as written (trimmed), when every usage writes the same one.
    pub text: String,
    /// The lowest version it admits.
    pub floor: Version,
    /// Every version text in use, when the usages disagree.
    pub disagreeing: Vec<String>,
}

/// The dependencies an environment runs at a registry range rather than an exact version: those
/// with a managed registry usage whose `version` admits more than one version. Promotion carries
/// the range as it is written.
pub fn landed_ranges(report: &ScanReport) -> BTreeMap<String, LandedRange> {
    let mut texts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut ranged: std::collections::BTreeSet<String> = Default::default();
    for u in &report.usages {
        let (Some(id), Some(current)) = (&u.dependency, u.current.as_deref()) else {
            continue;
        };
        if u.skipped.is_some() {
            continue;
        }
        let is_range = matches!(&u.address, Some(Source::Registry(r)) if r.query_version.is_none())
            && Constraint::parse(current).is_ok_and(|c| c.exact().is_none());
        if is_range {
            ranged.insert(id.clone());
        }
        texts
            .entry(id.clone())
            .or_default()
            .push(current.trim().to_string());
    }
    ranged
        .into_iter()
        .filter_map(|id| {
            let mut written = texts.remove(&id)?;
            written.sort();
            written.dedup();
            let first = written.first()?.clone();
            let floor = Constraint::parse(&first).ok()?.floor()?;
            let disagreeing = if written.len() > 1 {
                written
            } else {
                Vec::new()
            };
            Some((
                id,
                LandedRange {
                    text: first,
                    floor,
                    disagreeing,
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find::scan::fixtures::{report, usage};

    #[test]
    fn landed_takes_the_lowest_and_notes_disagreement() {
        let dev = report(vec![
            usage("dev/a.hcl", "github.com/o/r//m?ref=v1.2.0", "v1.2.0"),
            usage("dev/b.hcl", "github.com/o/r//m?ref=v1.1.0", "v1.1.0"),
            usage("dev/c.hcl", "github.com/o/s?ref=v3.0.0", "v3.0.0"),
        ]);
        let landed = landed_versions(&dev);
        assert_eq!(landed["o/r/m"].version, Version::new(1, 1, 0));
        assert_eq!(landed["o/r/m"].disagreeing, vec!["v1.1.0", "v1.2.0"]);
        assert!(landed["o/s"].disagreeing.is_empty());
    }
}
