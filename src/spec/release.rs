//! The spec of a module release handed over by `baton notify` (a `repository_dispatch` of type
//! `new_module_release`): the dependencies whose source is the released repository move to
//! exactly that version, and only where they are behind it. No version is listed: the payload
//! names the version, and at most one request (the release, when `min_release_age` is set) dates
//! it. The payload is untrusted text: its shapes and sizes are checked before anything is read.

use crate::clients::Session;
use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use crate::find::scan::ScanReport;
use crate::find::scan::ScanRequest;
use crate::resolve::Lookup;
use crate::resolve::landed::{Landed, pinned_version};
use crate::spec::gates::GatedDependency;
use crate::spec::gates::Gates;
use crate::spec::promotion::{self, Previous};
use crate::spec::{NotPromoted, Spec};
use crate::version::{self, Version};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The `repository_dispatch` event type of a module release.
pub const EVENT_TYPE: &str = "new_module_release";

/// The most modules a payload may name.
pub const MAX_MODULES: usize = 100;

/// The longest tag, module path or version a payload may carry.
const MAX_TEXT: usize = 255;

/// The largest payload read, serialized (GitHub's own limit on `client_payload` is larger).
pub const MAX_PAYLOAD: usize = 32 * 1024;

/// A module release as `baton notify` sends it: `{repository, tag, version, modules}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleRelease {
    /// The module repository, `owner/name`.
    pub repository: String,
    /// The tag released.
    pub tag: String,
    /// Its version, without `v`.
    pub version: String,
    /// The module folders of the repository at that tag (`modules/vpc`; `""` for the root).
    #[serde(default)]
    pub modules: Vec<String>,
}

/// Whether `tag` is a tag name Baton accepts from a payload: 1 to 255 ASCII letters, digits and
/// `. - _ / +`, not starting with `-`, `/` or `.`, without `..`, `//` or a trailing `/`.
pub fn valid_tag(tag: &str) -> bool {
    (1..=MAX_TEXT).contains(&tag.len())
        && !tag.starts_with(['-', '/', '.'])
        && !tag.ends_with(['/', '.'])
        && !tag.contains("..")
        && !tag.contains("//")
        && !tag.ends_with(".lock")
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '+'))
}

/// Whether `path` is a module folder Baton accepts from a payload: empty (the root), or a
/// relative path of ASCII letters, digits and `. - _ /` without `..` or an empty segment.
pub fn valid_module_path(path: &str) -> bool {
    path.is_empty()
        || (path.len() <= MAX_TEXT
            && path
                .split('/')
                .all(|s| !s.is_empty() && s != "." && s != "..")
            && path
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/')))
}

/// The version a tag carries (`v1.2.0`, `release/1.2.0` → `1.2.0`).
pub fn version_of_tag(tag: &str) -> Option<Version> {
    version::parse_version(tag.rsplit('/').next().unwrap_or(tag))
}

impl ModuleRelease {
    /// Reads and checks the `client_payload` of a `new_module_release` event: every field's shape
    /// and size, and that the version is the tag's. Errors say what is wrong and refuse the run.
    pub fn from_payload(payload: &Value) -> Result<ModuleRelease, InvalidInput> {
        let refuse = |what: String| {
            InvalidInput(format!(
                "the {EVENT_TYPE} payload {what}; refusing it (it is sent by `baton notify` in the module repository)"
            ))
        };
        let size = serde_json::to_string(payload).map_or(usize::MAX, |s| s.len());
        if size > MAX_PAYLOAD {
            return Err(refuse(format!(
                "is {size} bytes, more than the {MAX_PAYLOAD} read"
            )));
        }
        let text = |key: &str| -> Result<String, InvalidInput> {
            match payload.get(key) {
                Some(Value::String(s)) if s.len() <= MAX_TEXT => Ok(s.trim().to_string()),
                Some(Value::String(_)) => {
                    Err(refuse(format!("has a {key} longer than {MAX_TEXT}")))
                }
                _ => Err(refuse(format!("has no {key} (a string)"))),
            }
        };
        let repository = text("repository")?;
        let (owner, name) = repository.split_once('/').unwrap_or(("", ""));
        if crate::clients::github::check_repository(owner, name).is_err() {
            return Err(refuse(format!(
                "names the repository {repository:?}, not owner/name"
            )));
        }
        let tag = text("tag")?;
        if !valid_tag(&tag) {
            return Err(refuse(format!("names the tag {tag:?}, not a tag name")));
        }
        let version_text = text("version")?;
        let version = version::parse_version(&version_text)
            .ok_or_else(|| refuse(format!("names the version {version_text:?}, not a version")))?;
        if version_of_tag(&tag).as_ref() != Some(&version) {
            return Err(refuse(format!(
                "names the version {version_text:?}, which is not that of its tag {tag:?}"
            )));
        }
        let modules = modules_of(payload).map_err(refuse)?;
        Ok(ModuleRelease {
            repository,
            tag,
            version: version.to_string(),
            modules,
        })
    }

    /// The released version.
    pub fn parsed_version(&self) -> Option<Version> {
        version::parse_version(&self.version)
    }

    /// Owner and name of the repository.
    pub fn owner_repo(&self) -> (&str, &str) {
        self.repository.split_once('/').unwrap_or(("", ""))
    }

    /// The release's page.
    pub fn url(&self) -> String {
        format!(
            "https://github.com/{}/releases/tag/{}",
            self.repository, self.tag
        )
    }
}

/// The `modules` of a payload: absent or a list of at most [`MAX_MODULES`] module paths.
fn modules_of(payload: &Value) -> Result<Vec<String>, String> {
    let list = match payload.get("modules") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err("has modules that are not a list".into()),
    };
    if list.len() > MAX_MODULES {
        return Err(format!(
            "names {} modules, more than the {MAX_MODULES} read",
            list.len()
        ));
    }
    list.iter()
        .map(|m| match m.as_str() {
            Some(path) if valid_module_path(path) => Ok(path.to_string()),
            _ => Err(format!("names the module {m}, not a relative folder")),
        })
        .collect()
}

/// The dependencies of `report` whose source is the repository of `release` (GitHub), by ID.
pub fn dependencies_of(
    report: &ScanReport,
    release: &ModuleRelease,
    only: Option<&str>,
) -> BTreeSet<String> {
    let (owner, name) = release.owner_repo();
    report
        .usages
        .iter()
        .filter(|u| u.skipped.is_none())
        .filter(|u| only.is_none_or(|o| u.dependency.as_deref() == Some(o)))
        .filter(|u| {
            matches!(
                u.address.as_ref().and_then(Lookup::of),
                Some(Lookup::GitHub { owner: o, repo: r })
                    if o.eq_ignore_ascii_case(owner) && r.eq_ignore_ascii_case(name)
            )
        })
        .filter_map(|u| u.dependency.clone())
        .collect()
}

/// The spec moving the dependencies of the released repository to exactly its version: the
/// dependencies already there or past it are listed as not moved (with why), a pre-release and
/// a release younger than `min_release_age` are held (`Gated`), and a release that no dependency
/// uses is said as a warning. One request at most: the release's date, when `min_release_age` is
/// set.
pub fn spec(
    (scan, only, gates): (&ScanRequest, Option<&str>, &Gates),
    release: &ModuleRelease,
    report: &ScanReport,
    session: &Session,
    reporter: &dyn Reporter,
) -> anyhow::Result<Spec> {
    let mut spec = Spec {
        include_dir_pattern: scan.dirs.include_pattern(),
        exclude_dir_pattern: scan.dirs.exclude_pattern(),
        ..Spec::default()
    };
    let version = release.parsed_version().ok_or_else(|| {
        InvalidInput(format!(
            "the {EVENT_TYPE} payload's version {:?} is not a version",
            release.version
        ))
    })?;
    let ids = dependencies_of(report, release, only);
    if ids.is_empty() {
        reporter.warn(Warning::general(format!(
            "{EVENT_TYPE}: {} {} was released, but no dependency of {} uses {}: nothing to update",
            release.repository,
            release.tag,
            scan.describe(),
            release.repository
        )));
        return Ok(spec);
    }
    log::info!(
        "{EVENT_TYPE}: {} {}: {} here use it; targeting exactly {version}, no version listing",
        release.repository,
        release.tag,
        if ids.len() == 1 {
            "1 dependency".to_string()
        } else {
            format!("{} dependencies", ids.len())
        }
    );
    if !version.pre.is_empty() {
        spec.gated = held(&ids, release, "pre-release", |id| {
            format!(
                "{id} {version}: a pre-release; pre-releases are never proposed (run `baton update --dependency {id} --to-version {version}` to take it by hand)"
            )
        });
        return Ok(spec);
    }
    if let Some(min) = gates.min_release_age {
        let now = gates.now();
        if let Some(why) = session.block_on(release_held(session, release, min, now)) {
            spec.gated = held(&ids, release, "release-age", |id| format!("{id} {why}"));
            log::info!("held back: {} {why}", release.repository);
            return Ok(spec);
        }
    }
    let landed: BTreeMap<String, Landed> = ids
        .iter()
        .map(|id| {
            let landed = Landed {
                version: version.clone(),
                disagreeing: Vec::new(),
            };
            (id.clone(), landed)
        })
        .collect();
    let here = scan.describe();
    let name = format!("the release {} {}", release.repository, release.tag);
    let mut moved = promotion::promotion_spec_from(
        spec.include_dir_pattern.clone(),
        spec.exclude_dir_pattern.clone(),
        report,
        &Previous {
            landed: &landed,
            ranges: &BTreeMap::new(),
            unpinned: &BTreeMap::new(),
            name: &name,
        },
        &here,
        only,
    );
    for d in &mut moved.dependencies {
        d.source_type = Some("github".into());
        d.latest_version = Some(version.to_string());
        d.release_notes.insert(version.to_string(), release.url());
    }
    let listed: BTreeSet<String> = moved.dependencies.iter().map(|d| d.id.clone()).collect();
    // Each one not moved is said once, in the release's words (the promotion's spec may have
    // said it already in its own).
    let said: Vec<NotPromoted> = std::mem::take(&mut moved.not_promoted);
    let (again, kept): (Vec<NotPromoted>, Vec<NotPromoted>) = said
        .into_iter()
        .partition(|n| ids.contains(&n.id) && !listed.contains(&n.id));
    moved.not_promoted = kept;
    for id in ids.difference(&listed) {
        let reason = already_there(report, id, &version);
        log::info!("{id}: {reason}: nothing to do");
        moved.not_promoted.push(NotPromoted {
            id: id.clone(),
            reason,
            // Newer than the release is worth a reviewer's note, as the promotion's spec says.
            notable: again.iter().any(|n| &n.id == id && n.notable),
        });
    }
    moved.looked_up = ids.len();
    Ok(moved)
}

/// Why a dependency of the release did not move: what it runs, at or past the release.
fn already_there(report: &ScanReport, id: &str, version: &Version) -> String {
    let running: BTreeSet<String> = report
        .usages
        .iter()
        .filter(|u| u.dependency.as_deref() == Some(id) && u.skipped.is_none())
        .filter_map(|u| pinned_version(u).map(|v| v.to_string()))
        .collect();
    if running.is_empty() {
        return format!("its usages here pin no version Baton moves to {version}");
    }
    let list: Vec<String> = running.into_iter().collect();
    format!(
        "already at {} here, the release {version} or newer",
        list.join(", ")
    )
}

/// One `Gated` entry per dependency, all for the released version.
fn held(
    ids: &BTreeSet<String>,
    release: &ModuleRelease,
    gate: &str,
    reason: impl Fn(&str) -> String,
) -> Vec<GatedDependency> {
    ids.iter()
        .map(|id| GatedDependency {
            id: id.clone(),
            version: release.version.clone(),
            gate: gate.into(),
            reason: reason(id),
            ready_at: None,
        })
        .collect()
}

/// Why the release is held by `min_release_age` (`None`: old enough), from its publication time
/// on GitHub (`GET …/releases/tags/<tag>`, one request; the payload carries no date, and none is
/// taken from it). A release GitHub marks as a pre-release is held too. A tag without a release
/// is dated by its commit (one more request).
async fn release_held(
    session: &Session,
    release: &ModuleRelease,
    min: std::time::Duration,
    now: crate::clock::Timestamp,
) -> Option<String> {
    use crate::clock;
    let (owner, name) = release.owner_repo();
    let gh = &session.github;
    let published = match gh
        .get_json::<crate::clients::wire::ReleaseByTag>(&format!(
            "/repos/{owner}/{name}/releases/tags/{}",
            url_segment(&release.tag)
        ))
        .await
    {
        Ok(r) if r.prerelease => {
            return Some(format!(
                "{}: GitHub marks the release as a pre-release; pre-releases are never proposed",
                release.version
            ));
        }
        Ok(r) => r.published_at,
        Err(e) if e.status() == Some(404) => gh
            .get_json::<crate::clients::wire::CommitInfo>(&format!(
                "/repos/{owner}/{name}/commits/tags/{}",
                url_path(&release.tag)
            ))
            .await
            .ok()
            .and_then(|c| c.commit.committer.and_then(|c| c.date)),
        Err(e) => {
            return Some(format!(
                "{}: its release date could not be read ({e}); held back while min_release_age is set",
                release.version
            ));
        }
    };
    let Some(at) = published.and_then(|p| clock::parse_instant(&p).ok()) else {
        return Some(format!(
            "{}: GitHub gives no date for {}; held back while min_release_age is set",
            release.version, release.tag
        ));
    };
    let age = clock::since(at, now);
    (age < min).then(|| {
        format!(
            "{}: released {} ago ({}), younger than min_release_age {}; ready after {}",
            release.version,
            clock::human(age),
            clock::stamp(at),
            clock::human(min),
            clock::stamp(clock::add(at, min))
        )
    })
}

/// Text as one URL path segment (everything but unreserved characters escaped, `/` too).
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

/// A tag as URL path segments (each escaped, `/` kept between them, as a `{ref}` takes it).
fn url_path(tag: &str) -> String {
    tag.split('/')
        .map(url_segment)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn payloads_are_checked_before_use() {
        let ok = json!({"repository": "acme/terraform-aws-vpc", "tag": "v1.3.0", "version": "1.3.0", "modules": ["modules/vpc", ""]});
        let r = ModuleRelease::from_payload(&ok).unwrap();
        assert_eq!(r.version, "1.3.0");
        assert_eq!(r.modules, ["modules/vpc", ""]);
        let bad = [
            json!({"repository": "acme", "tag": "v1.3.0", "version": "1.3.0"}),
            json!({"repository": "../x/y", "tag": "v1.3.0", "version": "1.3.0"}),
            json!({"repository": "acme/vpc", "tag": "v1.3.0;rm -rf", "version": "1.3.0"}),
            json!({"repository": "acme/vpc", "tag": "../v1.3.0", "version": "1.3.0"}),
            json!({"repository": "acme/vpc", "tag": "v1.3.0", "version": "1.4.0"}),
            json!({"repository": "acme/vpc", "tag": "v1.3.0", "version": "latest"}),
            json!({"repository": "acme/vpc", "tag": "v1.3.0", "version": 1}),
            json!({"repository": "acme/vpc", "tag": "v1.3.0", "version": "1.3.0", "modules": ["/etc"]}),
            json!({"repository": "acme/vpc", "tag": "v1.3.0", "version": "1.3.0", "modules": ["a/../b"]}),
            json!({"repository": "acme/vpc", "tag": "v1.3.0", "version": "1.3.0", "modules": "vpc"}),
            json!({"repository": "acme/vpc", "tag": "x".repeat(300), "version": "1.3.0"}),
            json!({"repository": "acme/vpc", "tag": "v1.3.0", "version": "1.3.0", "modules": vec!["m"; 101]}),
            json!({"repository": "acme/vpc", "tag": "v1.3.0", "version": "1.3.0", "x": "y".repeat(40_000)}),
        ];
        for b in bad {
            let err = ModuleRelease::from_payload(&b).unwrap_err();
            assert!(err.0.contains("refusing it"), "{b}: {err}");
        }
    }

    #[test]
    fn tags_carry_their_version() {
        assert_eq!(version_of_tag("v1.2.0").unwrap().to_string(), "1.2.0");
        assert_eq!(
            version_of_tag("release/1.2.0").unwrap().to_string(),
            "1.2.0"
        );
        assert!(version_of_tag("main").is_none());
        assert!(valid_tag("release/v1.2.0+build.1"));
        assert!(!valid_tag("v1..2"));
        assert!(!valid_tag("-v1"));
        assert_eq!(url_path("release/v1.0+x"), "release/v1.0%2Bx");
        assert_eq!(url_segment("release/v1.0"), "release%2Fv1.0");
    }
}
