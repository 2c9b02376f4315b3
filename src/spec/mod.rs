//! The update spec: Gruntwork Patcher's JSON shape (so existing workflows consume it unchanged),
//! plus extra keys that Baton's own update step and its users read.

pub mod dispatch;
pub mod gates;
pub mod group;
pub mod impact;
pub mod location;
pub mod promotion;
pub mod release;
pub mod report;

use crate::find::scan::ScanReport;
use crate::resolve::{Dependency, UsageRef};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::path::{Component, Path};

/// Which target an update moves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The highest version before the next breaking one.
    NextSafe,
    /// Up to and including the next breaking version.
    #[default]
    NextBreaking,
}

/// A spec, as `baton report` writes it and `baton update` reads it (Patcher's too).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// The include globs the report ran with.
    #[serde(rename = "IncludeDirPattern", default)]
    pub include_dir_pattern: String,
    /// The exclude globs the report ran with.
    #[serde(rename = "ExcludeDirPattern", default)]
    pub exclude_dir_pattern: String,
    /// Dependencies with an update; never null.
    #[serde(rename = "Dependencies", default, deserialize_with = "null_as_empty")]
    pub dependencies: Vec<SpecDependency>,
    /// Usages Baton will not update, with the reason.
    #[serde(rename = "Skipped", default, deserialize_with = "null_as_empty")]
    pub skipped: Vec<SkippedUsage>,
    /// Dependencies whose versions could not be looked up.
    #[serde(rename = "Unreachable", default, deserialize_with = "null_as_empty")]
    pub unreachable: Vec<Unreachable>,
    /// The folder the report ran in, relative to the repository root (`.` for the root): the
    /// globs and usage paths above are relative to it. Absent when it was not in a git
    /// repository, and in Patcher's specs.
    #[serde(
        rename = "WorkingDir",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub working_dir: Option<String>,
    /// For a promotion: what the previous environment runs that this one does not get, and why.
    #[serde(
        rename = "NotPromoted",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub not_promoted: Vec<NotPromoted>,
    /// How many dependencies had their versions looked up (not serialized): with every one of
    /// them in `Unreachable`, nothing could be checked at all.
    #[serde(skip)]
    pub looked_up: usize,
    /// Targets held back by a gate (soak time, release age), with the reason and when ready.
    #[serde(
        rename = "Gated",
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub gated: Vec<gates::GatedDependency>,
}

/// One dependency of the spec.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecDependency {
    /// `org/repo/module`.
    #[serde(rename = "ID")]
    pub id: String,
    /// Org.
    #[serde(rename = "Org", default)]
    pub org: String,
    /// Repository.
    #[serde(rename = "Repo", default)]
    pub repo: String,
    /// Module path.
    #[serde(rename = "Module", default)]
    pub module: String,
    /// As in Patcher's spec (always null in Baton's).
    #[serde(rename = "Constraints", default)]
    pub constraints: Option<serde_json::Value>,
    /// Target of `next-safe`, without `v`.
    #[serde(rename = "TargetSafeVersion", default)]
    pub target_safe_version: Option<String>,
    /// Target of `next-breaking`, without `v`.
    #[serde(rename = "TargetBreakingVersion", default)]
    pub target_breaking_version: Option<String>,
    /// Versions in use, lowest first; targets were computed from the first.
    #[serde(rename = "CurrentVersions", default)]
    pub current_versions: Vec<String>,
    /// The newest published version.
    #[serde(rename = "LatestVersion", default)]
    pub latest_version: Option<String>,
    /// `github`, `git` or `registry`.
    #[serde(rename = "SourceType", default)]
    pub source_type: Option<String>,
    /// Every usage updated by this dependency.
    #[serde(rename = "Usages", default)]
    pub usages: Vec<UsageRef>,
    /// For a promotion from an environment that runs a registry range (`~> 4.1`): the range,
    /// written as it is there; the targets are the lowest version it admits.
    #[serde(
        rename = "TargetConstraint",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub target_constraint: Option<String>,
    /// Release-notes pages of the targets, by version.
    #[serde(
        rename = "ReleaseNotes",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub release_notes: BTreeMap<String, String>,
    /// What the breaking target does to this environment, usage by usage.
    #[serde(rename = "Impact", default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<crate::resolve::impact::Impact>,
}

impl SpecDependency {
    /// The target for a strategy; `next-breaking` falls back to the safe target.
    pub fn target(&self, strategy: Strategy) -> Option<&str> {
        match strategy {
            Strategy::NextSafe => self.target_safe_version.as_deref(),
            Strategy::NextBreaking => self
                .target_breaking_version
                .as_deref()
                .or(self.target_safe_version.as_deref()),
        }
    }
}

/// A usage left alone, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SkippedUsage {
    /// File relative to the working directory.
    pub file: String,
    /// Line.
    pub line: usize,
    /// Dependency ID, when known.
    pub dependency: Option<String>,
    /// The version as written.
    pub current: Option<String>,
    /// Why.
    pub reason: String,
}

impl SkippedUsage {
    /// A usage left alone for `reason`.
    pub fn of(u: &crate::find::scan::Usage, reason: &str) -> SkippedUsage {
        SkippedUsage {
            file: u.file.clone(),
            line: u.line,
            dependency: u.dependency.clone(),
            current: u.current.clone(),
            reason: reason.to_string(),
        }
    }
}

/// A dependency of the previous environment that a promotion leaves alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotPromoted {
    /// Dependency ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// Why.
    #[serde(rename = "Reason")]
    pub reason: String,
    /// Whether a reviewer should hear of it (not "not used here" or "already there").
    #[serde(skip)]
    pub notable: bool,
}

/// A dependency whose versions could not be looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreachable {
    /// Dependency ID.
    #[serde(rename = "ID")]
    pub id: String,
    /// What failed.
    #[serde(rename = "Error")]
    pub error: String,
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl Spec {
    /// Builds the spec of a report: only dependencies with an update for the strategy appear.
    pub fn build(
        include: String,
        exclude: String,
        scan: &ScanReport,
        deps: &[Dependency],
        strategy: Strategy,
        only: Option<&str>,
    ) -> Spec {
        let dependencies = deps
            .iter()
            .filter(|d| d.has_update())
            .filter(|d| strategy == Strategy::NextBreaking || d.targets.safe.is_some())
            .map(spec_dependency)
            .collect();
        let skipped = scan
            .usages
            .iter()
            .filter(|u| only.is_none_or(|id| u.dependency.as_deref() == Some(id)))
            .filter_map(|u| u.skipped.as_ref().map(|reason| SkippedUsage::of(u, reason)))
            .collect();
        let unreachable = deps
            .iter()
            .filter_map(|d| {
                d.error.as_ref().map(|e| Unreachable {
                    id: d.id.clone(),
                    error: e.clone(),
                })
            })
            .collect();
        Spec {
            include_dir_pattern: include,
            exclude_dir_pattern: exclude,
            dependencies,
            skipped,
            unreachable,
            ..Spec::default()
        }
    }

    /// Compact JSON, as the action's `spec` output and `--spec-file` carry it.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }

    /// Reads a spec (Baton's or Patcher's) from JSON.
    pub fn parse(text: &str) -> Result<Spec, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Refuses a spec that Baton must not act on: IDs that are empty or hold control characters,
    /// targets that are not versions, usage paths that leave the working directory.
    pub fn validate(&self, working_dir: &Path) -> Result<(), String> {
        let root = std::fs::canonicalize(working_dir).ok();
        for dep in &self.dependencies {
            if dep.id.trim().is_empty()
                || dep.id.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                return Err(format!(
                    "dependency ID {:?} is empty or holds spaces or control characters",
                    dep.id
                ));
            }
            for (field, value) in [
                ("TargetSafeVersion", &dep.target_safe_version),
                ("TargetBreakingVersion", &dep.target_breaking_version),
            ] {
                if let Some(v) = value {
                    if crate::version::parse_version(v).is_none() {
                        return Err(format!(
                            "{field} of {} is {v:?}, which is not a version",
                            dep.id
                        ));
                    }
                }
            }
            if let Some(c) = &dep.target_constraint {
                if crate::version::Constraint::parse(c).is_err() {
                    return Err(format!(
                        "TargetConstraint of {} is {c:?}, which is not a version constraint",
                        dep.id
                    ));
                }
            }
            for u in &dep.usages {
                check_inside(&u.file, root.as_deref())
                    .map_err(|why| format!("usage path {:?} of {} {why}", u.file, dep.id))?;
            }
        }
        Ok(())
    }

    /// When versions were looked up and not one dependency could be checked (no network, a
    /// wrong token, the API down), what failed, one dependency per line: a report that must not
    /// look like "nothing to update".
    pub fn total_failure(&self) -> Option<String> {
        if self.looked_up == 0 || self.unreachable.len() < self.looked_up {
            return None;
        }
        let reasons: Vec<String> = self
            .unreachable
            .iter()
            .map(|u| format!("  {}: {}", u.id, u.error))
            .collect();
        Some(format!(
            "no dependency could be checked: the versions of all {} could not be looked up (check the network, the token and GITHUB_API_URL):\n{}",
            self.looked_up,
            reasons.join("\n")
        ))
    }

    /// The IDs of the dependencies that could not be looked up, as a JSON array.
    pub fn unreachable_json(&self) -> String {
        let ids: Vec<&str> = self.unreachable.iter().map(|u| u.id.as_str()).collect();
        serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into())
    }

    /// The dependency with this ID.
    pub fn dependency(&self, id: &str) -> Option<&SpecDependency> {
        self.dependencies.iter().find(|d| d.id == id)
    }
}

/// A usage path must be relative, must not climb with `..`, and must not resolve (through
/// symlinks) outside the working directory.
fn check_inside(file: &str, root: Option<&Path>) -> Result<(), &'static str> {
    let path = Path::new(file);
    if path.is_absolute() || file.starts_with('/') || file.starts_with('\\') {
        return Err("is absolute");
    }
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err("leaves the working directory");
    }
    if let Some(root) = root {
        // Every symlink on the way must resolve inside, whether or not the file exists yet.
        let mut prefix = root.to_path_buf();
        for part in path.components() {
            prefix.push(part);
            let Ok(meta) = std::fs::symlink_metadata(&prefix) else {
                break;
            };
            if meta.file_type().is_symlink() {
                match std::fs::canonicalize(&prefix) {
                    Ok(real) if real.starts_with(root) => {}
                    Ok(_) => return Err("leads outside the working directory through a symlink"),
                    Err(_) => return Err("goes through a symlink that cannot be resolved"),
                }
            }
        }
    }
    Ok(())
}

fn spec_dependency(d: &Dependency) -> SpecDependency {
    let targets = [&d.targets.safe, &d.targets.breaking];
    let release_notes = targets
        .iter()
        .filter_map(|t| t.as_ref())
        .filter_map(|v| d.release_url(v).map(|u| (v.to_string(), u)))
        .collect();
    SpecDependency {
        id: d.id.clone(),
        org: d.org.clone(),
        repo: d.repo.clone(),
        module: d.module.clone(),
        constraints: None,
        target_safe_version: d.targets.safe.as_ref().map(ToString::to_string),
        target_breaking_version: d.targets.breaking.as_ref().map(ToString::to_string),
        current_versions: d.current.iter().map(ToString::to_string).collect(),
        latest_version: d.latest.as_ref().map(ToString::to_string),
        source_type: Some(d.lookup.kind().to_string()),
        usages: d.usages.clone(),
        target_constraint: None,
        release_notes,
        impact: d.impact.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_patchers_published_spec() {
        let json = r#"{"IncludeDirPattern":"{*dev*}/**","ExcludeDirPattern":"","Dependencies":[
 {"ID":"gruntwork-io/terraform-aws-service-catalog/networking/vpc","Org":"gruntwork-io",
  "Repo":"terraform-aws-service-catalog","Module":"networking/vpc","Constraints":null,
  "TargetSafeVersion":"0.95.1","TargetBreakingVersion":"0.96.0"}]}"#;
        let spec: Spec = serde_json::from_str(json).unwrap();
        let d = spec
            .dependency("gruntwork-io/terraform-aws-service-catalog/networking/vpc")
            .unwrap();
        assert_eq!(d.target(Strategy::NextSafe), Some("0.95.1"));
        assert_eq!(d.target(Strategy::NextBreaking), Some("0.96.0"));
        assert!(d.usages.is_empty());
    }

    #[test]
    fn null_dependencies_read_as_empty_and_breaking_falls_back_to_safe() {
        let spec: Spec = serde_json::from_str(r#"{"Dependencies":null}"#).unwrap();
        assert!(spec.dependencies.is_empty());
        let d: SpecDependency = serde_json::from_str(
            r#"{"ID":"a/b","TargetSafeVersion":"1.2.0","TargetBreakingVersion":null}"#,
        )
        .unwrap();
        assert_eq!(d.target(Strategy::NextBreaking), Some("1.2.0"));
    }

    fn with_usage(file: &str, target: &str) -> Spec {
        Spec::parse(&format!(
            r#"{{"Dependencies":[{{"ID":"a/b","TargetSafeVersion":"{target}","Usages":[{{"File":"{file}","Line":1,"Current":"v1.0.0"}}]}}]}}"#
        ))
        .unwrap()
    }

    #[test]
    fn validation_refuses_paths_outside_and_non_versions() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            with_usage("dev/main.tf", "1.1.0")
                .validate(dir.path())
                .is_ok()
        );
        for (file, target) in [
            ("../etc/passwd", "1.1.0"),
            ("/etc/passwd", "1.1.0"),
            ("dev/../../x.tf", "1.1.0"),
            ("dev/main.tf", "1.1.0; rm -rf /"),
            ("dev/main.tf", "$(id)"),
        ] {
            assert!(
                with_usage(file, target).validate(dir.path()).is_err(),
                "{file} {target}"
            );
        }
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("link")).unwrap();
        let err = with_usage("link/main.tf", "1.1.0")
            .validate(dir.path())
            .unwrap_err();
        assert!(
            err.contains("symlink"),
            "a missing file behind a link: {err}"
        );
        std::os::unix::fs::symlink("/nonexistent/baton", dir.path().join("dangling")).unwrap();
        assert!(
            with_usage("dangling/main.tf", "1.1.0")
                .validate(dir.path())
                .is_err()
        );
        std::fs::create_dir(dir.path().join("inside")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("inside"), dir.path().join("alias")).unwrap();
        assert!(
            with_usage("alias/main.tf", "1.1.0")
                .validate(dir.path())
                .is_ok(),
            "a link that stays inside is fine"
        );
        std::fs::write(outside.path().join("main.tf"), "").unwrap();
        let err = with_usage("link/main.tf", "1.1.0")
            .validate(dir.path())
            .unwrap_err();
        assert!(err.contains("symlink"), "{err}");
    }

    #[test]
    fn malformed_specs_are_errors() {
        assert!(Spec::parse("not json").is_err());
        assert!(Spec::parse(r#"{"Dependencies":{"ID":"a"}}"#).is_err());
        let err = Spec::parse(r#"{"Dependencies":[{"Org":"a"}]}"#).unwrap_err();
        assert!(err.to_string().contains("ID"), "{err}");
    }

    #[test]
    fn patcher_keys_come_first_in_order() {
        let spec = Spec {
            include_dir_pattern: "{*dev*}/**".into(),
            exclude_dir_pattern: String::new(),
            dependencies: vec![],
            skipped: vec![],
            unreachable: vec![],
            ..Spec::default()
        };
        let json = spec.to_json();
        assert!(
            json.starts_with(
                r#"{"IncludeDirPattern":"{*dev*}/**","ExcludeDirPattern":"","Dependencies":[]"#
            ),
            "{json}"
        );
    }
}
