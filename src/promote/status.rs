//! Where every dependency stands along the promotion chain (dev → stage → prod), read from the
//! code as checked out and nothing else.
//!
//! Upgrades reach `dev` first and are then handed on, one environment at a time. This module
//! compares the versions each environment uses and names what a reviewer needs to act on: an
//! environment that lags behind the one before it (a promotion is pending), an environment that
//! uses several versions at once, and an environment that got ahead of the one before it (the
//! chain was bypassed). It holds no state and does no I/O: the command scans, this decides and
//! renders.

use crate::diag::{Reporter, Warning};
use crate::exit::InvalidInput;
use crate::find::env::{DirFilter, GlobError};
use crate::find::scan::{self, ScanRequest};
use crate::find::scan::{ScanReport, Usage, ref_problem};
use crate::find::source::Source;
use crate::output::{cell, code, escape_controls, md_text};
use crate::version::{self, Constraint, Version};
use serde::Serialize;
use serde::ser::{SerializeMap, SerializeStruct, Serializer};
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Shown for an environment that does not use a dependency.
pub const ABSENT: &str = "—";

/// An environment as configured: a name and the folders that form it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvSpec {
    /// The environment's name (`dev`).
    pub name: String,
    /// Doublestar globs of its folders; commas outside braces separate globs.
    pub include: Vec<String>,
    /// Doublestar globs of folders to leave out.
    #[serde(default)]
    pub exclude: Vec<String>,
}

/// An environment ready to scan.
#[derive(Debug, Clone)]
pub struct Environment {
    /// The environment's name.
    pub name: String,
    /// Its folders.
    pub dirs: DirFilter,
}

impl Environment {
    /// The environment `spec` describes, also leaving out the folders of `exclude`.
    pub fn new(spec: &EnvSpec, exclude: &[String]) -> Result<Self, GlobError> {
        let mut all_exclude = spec.exclude.clone();
        all_exclude.extend(exclude.iter().cloned());
        Ok(Environment {
            name: spec.name.clone(),
            dirs: DirFilter::new(&spec.include, &all_exclude)?,
        })
    }
}

/// Parses `--env NAME=GLOB[,GLOB…]`. The globs are checked here, so a bad one is reported with
/// the flag that carries it.
pub fn parse_env_flag(s: &str) -> Result<EnvSpec, String> {
    let Some((name, globs)) = s.split_once('=') else {
        return Err(format!(
            "expected NAME=GLOB (for example dev='{{*dev*}}/**'), got {s:?}"
        ));
    };
    let spec = EnvSpec {
        name: name.trim().to_string(),
        include: vec![globs.to_string()],
        exclude: Vec::new(),
    };
    check_spec(&spec)?;
    Ok(spec)
}

/// The top level of the config file: other sections are left to other commands.
#[derive(Debug, serde::Deserialize)]
struct ConfigFile {
    #[serde(default)]
    environments: Vec<EnvSpec>,
}

/// Parses the `[[environments]]` of a `baton.toml`, in promotion order.
pub fn parse_config(text: &str) -> Result<Vec<EnvSpec>, String> {
    let config: ConfigFile = toml::from_str(text).map_err(|e| e.to_string().trim().to_string())?;
    if config.environments.is_empty() {
        return Err("no [[environments]] defined".into());
    }
    for spec in &config.environments {
        check_spec(spec)?;
    }
    Ok(config.environments)
}

/// Checks a list of environments as a whole: at least one, and no name twice.
pub fn check_environments(specs: &[EnvSpec]) -> Result<(), String> {
    if specs.is_empty() {
        return Err("no environments given".into());
    }
    let mut seen = BTreeSet::new();
    for spec in specs {
        if !seen.insert(spec.name.as_str()) {
            return Err(format!("environment {:?} is given twice", spec.name));
        }
    }
    Ok(())
}

fn check_spec(spec: &EnvSpec) -> Result<(), String> {
    let name_ok = !spec.name.is_empty()
        && spec
            .name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !name_ok {
        return Err(format!(
            "invalid environment name {:?}: use letters, digits, '-', '_' or '.'",
            spec.name
        ));
    }
    if crate::find::env::split_patterns(&spec.include).is_empty() {
        return Err(format!("environment {:?} has no include glob", spec.name));
    }
    DirFilter::new(&spec.include, &spec.exclude)
        .map(|_| ())
        .map_err(|e| format!("environment {:?}: {e}", spec.name))
}

/// Files (with usages) that belong to more than one environment, with the environments, so
/// that overlapping globs can be reported: such a file would be counted twice.
pub fn overlaps(envs: &[(String, ScanReport)]) -> Vec<(String, Vec<String>)> {
    let mut owners: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (name, report) in envs {
        let files: BTreeSet<&str> = report.usages.iter().map(|u| u.file.as_str()).collect();
        for file in files {
            owners.entry(file).or_default().push(name.clone());
        }
    }
    owners
        .into_iter()
        .filter(|(_, names)| names.len() > 1)
        .map(|(file, names)| (file.to_string(), names))
        .collect()
}

/// Two environments next to each other in the chain whose versions differ: `from` comes first.
/// `behind` is the lower version and `ahead` the higher one, as written in the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Gap {
    /// The earlier environment.
    pub from: String,
    /// The later environment.
    pub to: String,
    /// The lower of the two versions compared.
    pub behind: String,
    /// The higher of the two versions compared.
    pub ahead: String,
}

/// One dependency across the environments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependencyStatus {
    /// The dependency ID.
    pub id: String,
    /// For each environment, in order, the versions in use as written, lowest first; empty when
    /// the environment does not use the dependency.
    pub versions: Vec<Vec<String>>,
    /// Pending promotions: `to` uses an older version than `from` (lowest against lowest).
    pub drift: Vec<Gap>,
    /// Environments that use more than one version.
    pub mixed: Vec<String>,
    /// Environments ahead of the one before them: `to` uses a newer version than any in `from`
    /// (highest against highest).
    pub ahead: Vec<Gap>,
    /// Per environment, since when it has held its versions (from the git history), when asked.
    pub held: Vec<Option<Held>>,
    /// Pending promotions a gate holds back.
    pub gated: Vec<Soaking>,
}

/// A pending promotion held by the soak time: from one environment to the next, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Soaking {
    /// The environment the version soaks in.
    pub from: String,
    /// The environment it waits to reach.
    pub to: String,
    /// What holds it, and when it is ready.
    pub reason: String,
}

/// Since when an environment has held its versions of a dependency: the newest commit that
/// changed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    /// The commit time.
    pub since: crate::clock::Timestamp,
    /// How long until now.
    pub age: std::time::Duration,
}

/// Every dependency across the environments, in ID order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMatrix {
    /// Environment names, in promotion order.
    pub environments: Vec<String>,
    /// Dependencies used with a version in at least one environment, in ID order.
    pub dependencies: Vec<DependencyStatus>,
}

/// Whether a usage's version counts. Usages Baton skips count when their version is still a
/// version (it is only written where Baton does not edit it); branch names, commits, missing
/// refs and unidentified sources do not.
fn counted_version(u: &Usage) -> Option<&str> {
    u.dependency.as_ref()?;
    let current = u.current.as_deref()?;
    if u.skipped.is_none() {
        return Some(current);
    }
    let readable = match &u.address {
        Some(Source::Registry(r)) if r.query_version.is_none() => {
            Constraint::parse(current).is_ok()
        }
        _ => ref_problem(current).is_none(),
    };
    readable.then_some(current)
}

/// The exact version a version text names: a ref or tag (`v1.2.0`, `vpc-v1.2.0`) or a registry
/// constraint that pins one version (`1.2.0`, `= 1.2.0`). Ranges (`~> 3.0`) name none.
pub fn exact_version(text: &str) -> Option<Version> {
    version::split_tag(text)
        .map(|(_, v)| v)
        .or_else(|| Constraint::parse(text).ok().and_then(|c| c.exact()))
}

/// The version a text is compared by: the exact version it names, else, for a registry range
/// (`~> 4.1`, `>= 3.15, < 4.0`), the lowest version it admits.
pub fn comparable_version(text: &str) -> Option<Version> {
    exact_version(text).or_else(|| Constraint::parse(text).ok().and_then(|c| c.floor()))
}

/// SemVer precedence: build metadata does not count.
fn precedence(a: &Version, b: &Version) -> Ordering {
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

/// Versions written differently but naming the same version (`v1.2.0`, `1.2.0`) are one version.
#[derive(Debug, Clone)]
enum Key {
    Exact(Version),
    Text(String),
}

impl Key {
    fn of(text: &str) -> Key {
        exact_version(text).map_or_else(|| Key::Text(text.to_string()), Key::Exact)
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Key::Exact(a), Key::Exact(b)) => precedence(a, b),
            (Key::Exact(_), Key::Text(_)) => Ordering::Less,
            (Key::Text(_), Key::Exact(_)) => Ordering::Greater,
            (Key::Text(a), Key::Text(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Key {}

/// The lowest and highest version of one environment, when every version it uses is exact.
struct Range<'a> {
    lowest: (&'a str, Version),
    highest: (&'a str, Version),
}

fn range(versions: &[String]) -> Option<Range<'_>> {
    let mut exact = Vec::new();
    for text in versions {
        exact.push((text.as_str(), comparable_version(text)?));
    }
    let lowest = exact.iter().min_by(|a, b| precedence(&a.1, &b.1))?.clone();
    let highest = exact.iter().max_by(|a, b| precedence(&a.1, &b.1))?.clone();
    Some(Range { lowest, highest })
}

/// Builds the matrix from one scan per environment, given in promotion order.
///
/// Each environment is compared with the nearest environment before it that uses the
/// dependency, and only when both use exact versions. An environment that does not use a
/// dependency is neither drift nor a break in the chain.
pub fn matrix(envs: &[(String, ScanReport)]) -> StatusMatrix {
    let mut by_id: BTreeMap<&str, Vec<BTreeSet<&str>>> = BTreeMap::new();
    for (i, (_, report)) in envs.iter().enumerate() {
        for u in &report.usages {
            let (Some(id), Some(v)) = (u.dependency.as_deref(), counted_version(u)) else {
                continue;
            };
            by_id
                .entry(id)
                .or_insert_with(|| vec![BTreeSet::new(); envs.len()])[i]
                .insert(v);
        }
    }
    let names: Vec<String> = envs.iter().map(|(n, _)| n.clone()).collect();
    let dependencies = by_id
        .into_iter()
        .map(|(id, per_env)| dependency_status(id, &names, per_env))
        .collect();
    StatusMatrix {
        environments: names,
        dependencies,
    }
}

fn dependency_status(id: &str, names: &[String], per_env: Vec<BTreeSet<&str>>) -> DependencyStatus {
    let versions: Vec<Vec<String>> = per_env
        .into_iter()
        .map(|set| {
            let mut texts: Vec<(Key, &str)> = set.into_iter().map(|t| (Key::of(t), t)).collect();
            texts.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(b.1)));
            texts.into_iter().map(|(_, t)| t.to_string()).collect()
        })
        .collect();
    let mut status = DependencyStatus {
        id: id.to_string(),
        versions: Vec::new(),
        drift: Vec::new(),
        mixed: Vec::new(),
        ahead: Vec::new(),
        held: Vec::new(),
        gated: Vec::new(),
    };
    let mut previous: Option<usize> = None;
    for (i, these) in versions.iter().enumerate() {
        if these.is_empty() {
            continue;
        }
        let distinct: BTreeSet<Key> = these.iter().map(|t| Key::of(t)).collect();
        if distinct.len() > 1 {
            status.mixed.push(names[i].clone());
        }
        if let Some(p) = previous {
            if let (Some(before), Some(now)) = (range(&versions[p]), range(these)) {
                if precedence(&now.lowest.1, &before.lowest.1) == Ordering::Less {
                    status.drift.push(Gap {
                        from: names[p].clone(),
                        to: names[i].clone(),
                        behind: now.lowest.0.to_string(),
                        ahead: before.lowest.0.to_string(),
                    });
                }
                if precedence(&now.highest.1, &before.highest.1) == Ordering::Greater {
                    status.ahead.push(Gap {
                        from: names[p].clone(),
                        to: names[i].clone(),
                        behind: before.highest.0.to_string(),
                        ahead: now.highest.0.to_string(),
                    });
                }
            }
        }
        previous = Some(i);
    }
    status.versions = versions;
    status
}

impl DependencyStatus {
    /// The findings as short phrases, drift first; empty when there is nothing to report.
    pub fn findings(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .drift
            .iter()
            .map(|g| format!("pending promotion: {} → {}", g.from, g.to))
            .collect();
        if !self.mixed.is_empty() {
            out.push(format!("mixed: {}", self.mixed.join(", ")));
        }
        out.extend(
            self.ahead
                .iter()
                .map(|g| format!("ahead: {} newer than {}", g.to, g.from)),
        );
        out.extend(self.gated.iter().map(|g| g.reason.clone()));
        out
    }

    /// A cell's versions, with how long they have been held when known (`v1.2.0 (5h)`).
    fn cell_text(&self, i: usize, versions: &[String], markdown: bool) -> String {
        let list: Vec<String> = versions
            .iter()
            .map(|t| if markdown { cell(&code(t)) } else { t.clone() })
            .collect();
        match self.held.get(i).and_then(Option::as_ref) {
            Some(h) => format!("{} ({})", list.join(", "), crate::clock::human(h.age)),
            None => list.join(", "),
        }
    }
}

impl StatusMatrix {
    /// Whether any environment lags behind the one before it.
    pub fn has_drift(&self) -> bool {
        self.dependencies.iter().any(|d| !d.drift.is_empty())
    }

    fn summary(&self) -> String {
        let count =
            |f: fn(&DependencyStatus) -> bool| self.dependencies.iter().filter(|d| f(d)).count();
        let deps = self.dependencies.len();
        let envs = self.environments.len();
        format!(
            "{deps} dependenc{} in {envs} environment{}; {} pending promotion, {} mixed, {} ahead",
            if deps == 1 { "y" } else { "ies" },
            if envs == 1 { "" } else { "s" },
            count(|d| !d.drift.is_empty()),
            count(|d| !d.mixed.is_empty()),
            count(|d| !d.ahead.is_empty()),
        )
    }

    /// The matrix as pretty JSON, with a trailing newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into());
        s.push('\n');
        s
    }

    /// The matrix as an aligned table, then a summary line.
    pub fn to_text(&self) -> String {
        // Every cell on one line, its control characters shown.
        let t = |s: &str| escape_controls(s, false).into_owned();
        let mut header = vec!["DEPENDENCY".to_string()];
        header.extend(self.environments.iter().map(|e| t(e)));
        header.push("STATUS".into());
        let rows: Vec<Vec<String>> = self
            .dependencies
            .iter()
            .map(|d| {
                let mut row = vec![t(&d.id)];
                row.extend(d.versions.iter().enumerate().map(|(i, v)| {
                    if v.is_empty() {
                        ABSENT.to_string()
                    } else {
                        t(&d.cell_text(i, v, false))
                    }
                }));
                let findings = d.findings();
                row.push(if findings.is_empty() {
                    "ok".into()
                } else {
                    t(&findings.join("; "))
                });
                row
            })
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&rows) {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            let _ = writeln!(out, "{}", line.join("  ").trim_end());
        }
        let _ = writeln!(out, "{}", self.summary());
        out
    }

    /// The matrix as a GitHub-flavoured markdown table with a legend, then a summary line.
    pub fn to_markdown(&self) -> String {
        let mut out = String::from("### Module versions by environment\n\n| Dependency |");
        for env in &self.environments {
            let _ = write!(out, " {} |", md_text(env));
        }
        out.push_str(" Status |\n|---|");
        out.push_str(&"---|".repeat(self.environments.len()));
        out.push_str("---|\n");
        for d in &self.dependencies {
            let _ = write!(out, "| {} |", cell(&code(&d.id)));
            for (i, v) in d.versions.iter().enumerate() {
                if v.is_empty() {
                    let _ = write!(out, " {ABSENT} |");
                } else {
                    let _ = write!(out, " {} |", d.cell_text(i, v, true));
                }
            }
            let _ = writeln!(out, " {} |", markdown_status(d));
        }
        out.push_str(
            "\n⚠ pending promotion: an environment uses an older version than the one before it · \
             🔀 mixed: an environment uses several versions · \
             ⏩ ahead: an environment uses a newer version than the one before it · \
             ✅ nothing to promote · \
             — not used in that environment\n",
        );
        let _ = writeln!(out, "\n{}", self.summary());
        out
    }
}

fn markdown_status(d: &DependencyStatus) -> String {
    let mut parts: Vec<String> = d
        .drift
        .iter()
        .map(|g| {
            format!(
                "⚠ pending promotion: {} → {}",
                md_text(&g.from),
                md_text(&g.to)
            )
        })
        .collect();
    if !d.mixed.is_empty() {
        parts.push(format!("🔀 mixed: {}", md_text(&d.mixed.join(", "))));
    }
    parts.extend(d.ahead.iter().map(|g| {
        format!(
            "⏩ ahead: {} newer than {}",
            md_text(&g.to),
            md_text(&g.from)
        )
    }));
    parts.extend(d.gated.iter().map(|g| format!("⏳ {}", md_text(&g.reason))));
    if parts.is_empty() {
        "✅".into()
    } else {
        parts.join("<br>")
    }
}

/// The versions of one dependency as a JSON object, environments in promotion order.
struct VersionsByEnv<'a> {
    environments: &'a [String],
    versions: &'a [Vec<String>],
}

impl Serialize for VersionsByEnv<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.environments.len()))?;
        for (env, versions) in self.environments.iter().zip(self.versions) {
            map.serialize_entry(env, versions)?;
        }
        map.end()
    }
}

struct DependencyJson<'a> {
    environments: &'a [String],
    dependency: &'a DependencyStatus,
}

impl Serialize for DependencyJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let d = self.dependency;
        let mut s = serializer.serialize_struct("Dependency", 5)?;
        s.serialize_field("id", &d.id)?;
        s.serialize_field(
            "versions",
            &VersionsByEnv {
                environments: self.environments,
                versions: &d.versions,
            },
        )?;
        s.serialize_field("drift", &d.drift)?;
        s.serialize_field("mixed", &d.mixed)?;
        s.serialize_field("ahead", &d.ahead)?;
        if !d.held.is_empty() {
            let held: BTreeMap<&str, String> = self
                .environments
                .iter()
                .zip(&d.held)
                .filter_map(|(env, h)| {
                    Some((env.as_str(), crate::clock::rfc3339(h.as_ref()?.since)))
                })
                .collect();
            let ordered: Vec<(&String, &String)> = self
                .environments
                .iter()
                .filter_map(|env| held.get_key_value(env.as_str()).map(|(_, v)| (env, v)))
                .collect();
            s.serialize_field("held_since", &OrderedMap(ordered))?;
            s.serialize_field("gated", &d.gated)?;
        }
        s.end()
    }
}

impl Serialize for StatusMatrix {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let dependencies: Vec<DependencyJson<'_>> = self
            .dependencies
            .iter()
            .map(|dependency| DependencyJson {
                environments: &self.environments,
                dependency,
            })
            .collect();
        let mut s = serializer.serialize_struct("Status", 3)?;
        s.serialize_field("environments", &self.environments)?;
        s.serialize_field("dependencies", &dependencies)?;
        s.serialize_field("drift", &self.has_drift())?;
        s.end()
    }
}

/// A map serialized in the order given.
struct OrderedMap<'a>(Vec<(&'a String, &'a String)>);

impl Serialize for OrderedMap<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Which environments to compare.
#[derive(Debug, Clone)]
pub struct StatusRequest {
    /// The working directory; globs are relative to it.
    pub working_dir: PathBuf,
    /// The environments, in promotion order.
    pub environments: Vec<EnvSpec>,
    /// Folders to leave out of every environment.
    pub exclude_dirs: Vec<String>,
    /// What to show of the matrix: filters, soak ages and gates.
    pub view: StatusView,
    /// Keep the history read for the ages in this folder for the next run.
    pub cache_dir: Option<PathBuf>,
}

/// What `status` shows besides the versions: plain values the front ends fill.
#[derive(Debug, Clone, Default)]
pub struct StatusView {
    /// Only this dependency.
    pub dependency: Option<String>,
    /// Only these environments (compared with the whole chain all the same).
    pub environments: Vec<String>,
    /// Read the git history: how long each cell has held its versions.
    pub ages: bool,
    /// The soak time a pending promotion waits for (implies `ages`).
    pub min_soak: Option<std::time::Duration>,
    /// The time taken as now (`None`: the machine's clock).
    pub now: Option<crate::clock::Timestamp>,
}

/// Scans every environment and builds the matrix; problems go to `reporter`.
pub fn run(request: &StatusRequest, reporter: &dyn Reporter) -> anyhow::Result<StatusMatrix> {
    check_environments(&request.environments).map_err(InvalidInput)?;
    let envs = request
        .environments
        .iter()
        .map(|spec| Environment::new(spec, &request.exclude_dirs))
        .collect::<Result<Vec<_>, _>>()?;
    let mut reports: Vec<(String, ScanReport)> = Vec::with_capacity(envs.len());
    for env in envs {
        let scan_request = ScanRequest {
            working_dir: request.working_dir.clone(),
            dirs: env.dirs,
        };
        let report = scan::scan(&scan_request)?;
        for e in &report.errors {
            reporter.warn(Warning::at(&e.file, e.line, e.column, &e.message));
        }
        if report.files_read == 0 {
            reporter.warn(Warning::general(format!(
                "environment {}: no Terraform or Terragrunt files matched {} in {}",
                env.name,
                scan_request.dirs.include_globs().join(","),
                scan_request.working_dir.display()
            )));
        }
        reports.push((env.name, report));
    }
    for (file, names) in overlaps(&reports) {
        reporter.warn(Warning::general(format!(
            "{file} belongs to several environments ({}); its versions count in each",
            names.join(", ")
        )));
    }
    let mut m = matrix(&reports);
    let view = &request.view;
    if let Some(id) = view.dependency.as_deref().filter(|d| !d.is_empty()) {
        m.dependencies.retain(|d| d.id == id);
    }
    if view.ages || view.min_soak.is_some() {
        soak_ages(&mut m, request, reporter)?;
    }
    if !view.environments.is_empty() {
        m.keep_environments(&view.environments);
    }
    Ok(m)
}

/// Adds to every cell how long it has held its versions, and to pending promotions the soak
/// time they wait for, from the git history of the environments.
fn soak_ages(
    m: &mut StatusMatrix,
    request: &StatusRequest,
    reporter: &dyn Reporter,
) -> anyhow::Result<()> {
    use crate::clock;
    use crate::resolve::history::{self, EnvFolders, HistoryQuery};
    let environments = request
        .environments
        .iter()
        .map(|spec| {
            Environment::new(spec, &request.exclude_dirs).map(|e| EnvFolders {
                name: e.name,
                dirs: e.dirs,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let read = history::read(
        &HistoryQuery {
            working_dir: request.working_dir.clone(),
            environments,
            dependency: request.view.dependency.clone().filter(|d| !d.is_empty()),
            since: None,
            cache_dir: request.cache_dir.clone(),
        },
        reporter,
    )?;
    if read.shallow {
        reporter.warn(Warning::general(
            "the repository is a shallow clone: ages count from its first commit at most; check out with `fetch-depth: 0`",
        ));
    }
    let now = request.view.now.unwrap_or_else(clock::system_now);
    let names = m.environments.clone();
    for d in &mut m.dependencies {
        d.held = names
            .iter()
            .zip(&d.versions)
            .map(|(env, versions)| {
                if versions.is_empty() {
                    return None;
                }
                let change = read.last_change(env, &d.id)?;
                Some(Held {
                    since: change.time,
                    age: clock::since(change.time, now),
                })
            })
            .collect();
        let Some(min) = request.view.min_soak else {
            continue;
        };
        for gap in &d.drift {
            let Some(version) = exact_version(&gap.ahead) else {
                continue;
            };
            let text = match read.held_since(&gap.from, &d.id, &version) {
                Some(change) => {
                    let held = clock::since(change.time, now);
                    if held >= min {
                        continue;
                    }
                    format!(
                        "soaking in {}: {} of {} before {}; ready after {}",
                        gap.from,
                        clock::human(held),
                        clock::human(min),
                        gap.to,
                        clock::stamp(clock::add(change.time, min))
                    )
                }
                None => format!(
                    "soaking in {}: when {} arrived there is not in the history",
                    gap.from, gap.ahead
                ),
            };
            d.gated.push(Soaking {
                from: gap.from.clone(),
                to: gap.to.clone(),
                reason: text,
            });
        }
    }
    Ok(())
}

impl StatusMatrix {
    /// Keeps only the named environments' columns, and the findings that involve them.
    pub fn keep_environments(&mut self, names: &[String]) {
        let keep: Vec<bool> = self
            .environments
            .iter()
            .map(|e| names.contains(e))
            .collect();
        let pick = |v: &mut Vec<Vec<String>>| {
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        };
        for d in &mut self.dependencies {
            pick(&mut d.versions);
            if !d.held.is_empty() {
                let mut i = 0;
                d.held.retain(|_| {
                    i += 1;
                    keep[i - 1]
                });
            }
            d.drift
                .retain(|g| names.contains(&g.from) || names.contains(&g.to));
            d.ahead
                .retain(|g| names.contains(&g.from) || names.contains(&g.to));
            d.mixed.retain(|e| names.contains(e));
            d.gated
                .retain(|g| names.contains(&g.from) || names.contains(&g.to));
        }
        self.dependencies
            .retain(|d| d.versions.iter().any(|v| !v.is_empty()));
        self.environments.retain(|e| names.contains(e));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find::hcl::UsageKind;

    fn usage(id: &str, version: &str) -> Usage {
        Usage {
            file: format!("x/{id}/{version}.tf"),
            line: 1,
            kind: UsageKind::Module,
            source: String::new(),
            dependency: Some(id.to_string()),
            current: Some(version.to_string()),
            skipped: None,
            version_file: None,
            address: None,
            site: None,
            notes: Vec::new(),
        }
    }

    fn report(usages: &[(&str, &str)]) -> ScanReport {
        ScanReport {
            usages: usages.iter().map(|(id, v)| usage(id, v)).collect(),
            errors: Vec::new(),
            files_read: usages.len(),
            ..ScanReport::default()
        }
    }

    fn chain(envs: &[(&str, &[(&str, &str)])]) -> StatusMatrix {
        let envs: Vec<(String, ScanReport)> = envs
            .iter()
            .map(|(name, usages)| (name.to_string(), report(usages)))
            .collect();
        matrix(&envs)
    }

    fn only(m: &StatusMatrix) -> &DependencyStatus {
        assert_eq!(m.dependencies.len(), 1, "{m:?}");
        &m.dependencies[0]
    }

    fn gap(from: &str, to: &str, behind: &str, ahead: &str) -> Gap {
        Gap {
            from: from.into(),
            to: to.into(),
            behind: behind.into(),
            ahead: ahead.into(),
        }
    }

    #[test]
    fn later_environment_behind_is_drift() {
        let m = chain(&[
            ("dev", &[("a/b", "v0.8.0")]),
            ("stage", &[("a/b", "v0.7.1")]),
            ("prod", &[("a/b", "v0.7.1")]),
        ]);
        let d = only(&m);
        assert_eq!(d.drift, vec![gap("dev", "stage", "v0.7.1", "v0.8.0")]);
        assert!(d.mixed.is_empty() && d.ahead.is_empty());
        assert!(m.has_drift());
        assert_eq!(d.findings(), vec!["pending promotion: dev → stage"]);
    }

    #[test]
    fn same_versions_everywhere_is_clean() {
        let m = chain(&[
            ("dev", &[("a/b", "v1.0.0")]),
            ("stage", &[("a/b", "1.0.0")]),
            ("prod", &[("a/b", "v1.0.0+build")]),
        ]);
        let d = only(&m);
        assert!(d.drift.is_empty() && d.mixed.is_empty() && d.ahead.is_empty());
        assert!(!m.has_drift());
        assert!(d.findings().is_empty());
    }

    #[test]
    fn versions_compare_as_versions_not_text() {
        let m = chain(&[
            ("dev", &[("a/b", "v0.10.0")]),
            ("prod", &[("a/b", "v0.9.0")]),
        ]);
        assert_eq!(
            only(&m).drift,
            vec![gap("dev", "prod", "v0.9.0", "v0.10.0")]
        );
    }

    #[test]
    fn several_versions_in_one_environment_are_mixed() {
        let m = chain(&[
            ("dev", &[("a/b", "v0.8.0"), ("a/b", "v0.7.1")]),
            ("stage", &[("a/b", "v0.7.1")]),
        ]);
        let d = only(&m);
        assert_eq!(d.mixed, vec!["dev"]);
        assert_eq!(d.versions[0], vec!["v0.7.1", "v0.8.0"], "lowest first");
        // Lowest against lowest: stage has what all of dev has.
        assert!(d.drift.is_empty());
        assert!(d.ahead.is_empty());
    }

    #[test]
    fn same_version_written_twice_is_not_mixed() {
        let m = chain(&[("dev", &[("a/b", "v1.2.0"), ("a/b", "1.2.0")])]);
        let d = only(&m);
        assert!(d.mixed.is_empty());
        assert_eq!(d.versions[0], vec!["1.2.0", "v1.2.0"]);
    }

    #[test]
    fn later_environment_newer_is_ahead_not_drift() {
        let m = chain(&[
            ("dev", &[("a/b", "v1.0.0")]),
            ("stage", &[("a/b", "v1.0.0")]),
            ("prod", &[("a/b", "v1.1.0")]),
        ]);
        let d = only(&m);
        assert!(d.drift.is_empty());
        assert_eq!(d.ahead, vec![gap("stage", "prod", "v1.0.0", "v1.1.0")]);
        assert!(!m.has_drift());
        assert_eq!(d.findings(), vec!["ahead: prod newer than stage"]);
    }

    #[test]
    fn absence_is_not_drift_and_comparison_skips_it() {
        let m = chain(&[
            ("dev", &[("a/b", "v2.0.0")]),
            ("stage", &[]),
            ("prod", &[("a/b", "v1.0.0")]),
        ]);
        let d = only(&m);
        assert!(d.versions[1].is_empty());
        assert_eq!(d.drift, vec![gap("dev", "prod", "v1.0.0", "v2.0.0")]);

        let m = chain(&[("dev", &[]), ("stage", &[("a/b", "v1.0.0")]), ("prod", &[])]);
        let d = only(&m);
        assert!(d.drift.is_empty() && d.ahead.is_empty() && d.mixed.is_empty());
    }

    #[test]
    fn ranges_compare_by_the_lowest_version_they_admit() {
        let m = chain(&[
            ("dev", &[("ns/vpc/aws", "~> 5.1")]),
            ("stage", &[("ns/vpc/aws", "~> 4.0")]),
            ("prod", &[("ns/vpc/aws", "= 3.0.0")]),
        ]);
        let d = only(&m);
        assert_eq!(d.versions[0], vec!["~> 5.1"]);
        assert_eq!(
            d.drift,
            vec![
                gap("dev", "stage", "~> 4.0", "~> 5.1"),
                gap("stage", "prod", "= 3.0.0", "~> 4.0")
            ]
        );
        let same = chain(&[
            ("dev", &[("ns/vpc/aws", "~> 5.1")]),
            ("stage", &[("ns/vpc/aws", ">= 5.1, < 6.0")]),
        ]);
        assert!(only(&same).drift.is_empty() && only(&same).ahead.is_empty());
        // Exact registry pins compare as versions.
        let m = chain(&[
            ("dev", &[("ns/vpc/aws", "5.1.0")]),
            ("prod", &[("ns/vpc/aws", "= 5.0.0")]),
        ]);
        assert_eq!(only(&m).drift, vec![gap("dev", "prod", "= 5.0.0", "5.1.0")]);
    }

    #[test]
    fn prefixed_tags_compare_by_their_version() {
        let m = chain(&[
            ("dev", &[("org/mods/vpc", "vpc-v1.3.0")]),
            ("prod", &[("org/mods/vpc", "vpc-v1.2.0")]),
        ]);
        assert_eq!(only(&m).drift.len(), 1);
    }

    #[test]
    fn skipped_refs_are_not_versions_but_unedited_versions_are() {
        let mut branch = usage("a/b", "main");
        branch.skipped = Some("ref \"main\" is a branch".into());
        let mut shared = usage("a/b", "v1.0.0");
        shared.skipped = Some("the version is written in _envcommon/x.hcl".into());
        let mut unidentified = usage("a/b", "v9.0.0");
        unidentified.dependency = None;
        let envs = vec![
            (
                "dev".to_string(),
                ScanReport {
                    usages: vec![branch, shared],
                    ..ScanReport::default()
                },
            ),
            (
                "prod".to_string(),
                ScanReport {
                    usages: vec![unidentified],
                    ..ScanReport::default()
                },
            ),
        ];
        let m = matrix(&envs);
        let d = only(&m);
        assert_eq!(d.versions, vec![vec!["v1.0.0".to_string()], vec![]]);
    }

    #[test]
    fn dependencies_with_no_counted_version_are_left_out() {
        let mut branch = usage("a/b", "main");
        branch.skipped = Some("branch".into());
        let envs = vec![(
            "dev".to_string(),
            ScanReport {
                usages: vec![branch],
                ..ScanReport::default()
            },
        )];
        assert!(matrix(&envs).dependencies.is_empty());
    }

    #[test]
    fn env_flag_syntax() {
        let spec = parse_env_flag("dev={_*,*-dev-*}/**,dev/**").unwrap();
        assert_eq!(spec.name, "dev");
        let env = Environment::new(&spec, &[]).unwrap();
        assert_eq!(env.dirs.include_globs(), ["{_*,*-dev-*}/**", "dev/**"]);
        assert!(parse_env_flag("dev").unwrap_err().contains("NAME=GLOB"));
        assert!(parse_env_flag("=dev/**").unwrap_err().contains("name"));
        assert!(parse_env_flag("dev=").unwrap_err().contains("no include"));
        assert!(parse_env_flag("dev={dev").unwrap_err().contains("{dev"));
        assert!(parse_env_flag("my env=x/**").is_err());
    }

    #[test]
    fn config_file_format() {
        let specs = parse_config(
            r#"
            [[environments]]
            name = "dev"
            include = ["{*dev*}/**"]

            [[environments]]
            name = "prod"
            include = ["prod/**"]
            exclude = ["prod/legacy/**"]

            [update]
            anything = "left to other commands"
            "#,
        )
        .unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[1].exclude, vec!["prod/legacy/**"]);
        assert!(
            parse_config("")
                .unwrap_err()
                .contains("no [[environments]]")
        );
        let typo = "[[environments]]\nname = \"dev\"\ninclud = [\"dev/**\"]\n";
        assert!(parse_config(typo).unwrap_err().contains("includ"));
        assert!(parse_config("[[environments]\n").is_err());
    }

    #[test]
    fn environment_lists_need_unique_names() {
        let dev = parse_env_flag("dev=dev/**").unwrap();
        assert!(check_environments(&[]).is_err());
        assert!(check_environments(std::slice::from_ref(&dev)).is_ok());
        assert!(
            check_environments(&[dev.clone(), dev])
                .unwrap_err()
                .contains("twice")
        );
    }

    #[test]
    fn global_excludes_apply_to_each_environment() {
        let spec = parse_env_flag("dev=dev/**").unwrap();
        let env = Environment::new(&spec, &["**/alb/**".to_string()]).unwrap();
        assert!(!env.dirs.matches(std::path::Path::new("dev/alb/main.tf")));
        assert!(env.dirs.matches(std::path::Path::new("dev/vpc/main.tf")));
    }

    #[test]
    fn overlapping_environments_are_found() {
        let envs = vec![
            ("dev".to_string(), report(&[("a/b", "v1.0.0")])),
            ("all".to_string(), report(&[("a/b", "v1.0.0")])),
        ];
        let found = overlaps(&envs);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, vec!["dev", "all"]);
    }

    #[test]
    fn json_keeps_environment_order() {
        let m = chain(&[
            ("dev", &[("a/b", "v0.8.0")]),
            ("stage", &[]),
            ("prod", &[("a/b", "v0.7.1")]),
        ]);
        let json = m.to_json();
        let dev = json.find("\"dev\": [").unwrap();
        let stage = json.find("\"stage\": []").unwrap();
        let prod = json.find("\"prod\": [").unwrap();
        assert!(dev < stage && stage < prod, "{json}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["drift"], true);
        assert_eq!(v["dependencies"][0]["drift"][0]["to"], "prod");
    }

    #[test]
    fn text_and_markdown_mark_absence_and_findings() {
        let m = chain(&[
            ("dev", &[("a/b", "v0.8.0"), ("c/d", "v1.0.0")]),
            ("prod", &[("a/b", "v0.7.1")]),
        ]);
        let text = m.to_text();
        assert!(text.contains("pending promotion: dev → prod"), "{text}");
        assert!(
            text.lines()
                .any(|l| l.starts_with("c/d") && l.contains(ABSENT))
        );
        let md = m.to_markdown();
        assert!(
            md.contains("| `a/b` | `v0.8.0` | `v0.7.1` | ⚠ pending promotion: dev → prod |"),
            "{md}"
        );
        assert!(md.contains("| `c/d` | `v1.0.0` | — | ✅ |"), "{md}");
    }
}
