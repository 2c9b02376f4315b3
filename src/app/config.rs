//! The configuration file (`.github/baton.toml` or `baton.toml`): the environments in promotion
//! order, with their folders, branches, labels, events and gates, and the defaults of every
//! command, so that one file names them instead of every workflow and command line. Errors name
//! the file, the line and the key.

use crate::exit::InvalidInput;
use crate::find::env::DirFilter;
use crate::find::scan::ScanRequest;
use crate::promote::status::EnvSpec;
use crate::spec::Strategy;
use crate::spec::group::Group;
use crate::spec::report::Promotion;
use crate::update::automerge::MergeMethod;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Where the config file is looked for, in the working directory.
pub const CONFIG_FILES: [&str; 2] = [".github/baton.toml", "baton.toml"];

/// The JSON Schema of the file, as editors fetch it (the `#:schema` line of a generated file).
pub const SCHEMA_URL: &str =
    "https://raw.githubusercontent.com/baton-dev/baton/main/schema/baton.schema.json";

/// Environment names recognised without a config file, e.g. in branch prefixes and globs of
/// workflows written for Patcher, in their usual promotion order.
pub const KNOWN_ENVIRONMENTS: &[&str] = &[
    "dev",
    "development",
    "test",
    "qa",
    "uat",
    "stage",
    "staging",
    "preprod",
    "prod",
    "production",
];

/// The gates a promotion into an environment must pass. They are read and checked here; the
/// promotion applies them where its request has the field (see [`Environment::gates`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gates {
    /// How long the version must have run in the previous environment (`24h`, `2d`).
    pub min_soak: Option<Duration>,
    /// `min_soak` as written.
    pub min_soak_text: Option<String>,
    /// Check runs that must have succeeded on the commit that landed before.
    pub require_checks: Vec<String>,
    /// Approving reviews the update pull request needs before it is promoted.
    pub require_approvals: Option<u32>,
}

impl Gates {
    /// Whether no gate is set.
    pub fn is_empty(&self) -> bool {
        self.min_soak.is_none()
            && self.require_checks.is_empty()
            && self.require_approvals.is_none()
    }
}

/// One environment of the chain, with every default filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Environment {
    /// Its name (`dev`).
    pub name: String,
    /// Its folders, as doublestar globs relative to the working directory.
    pub include: Vec<String>,
    /// Folders left out: its own and those of `[defaults]`.
    pub exclude: Vec<String>,
    /// Prefix of its update branches (default `baton-<name>-updates-`).
    pub branch_prefix: String,
    /// Labels of its update pull requests (default `updates-<name>`).
    pub labels: Vec<String>,
    /// The `repository_dispatch` event sent when an update merges here (default
    /// `<name>_updates_merged`).
    pub dispatch_event: String,
    /// The environment whose versions this one receives (default: the one before it; none for
    /// the first).
    pub promote_from: Option<String>,
    /// Which target updates move to.
    pub update_strategy: Strategy,
    /// Reviewers requested on its pull requests.
    pub reviewers: Vec<String>,
    /// Open its pull requests as drafts.
    pub draft: bool,
    /// Commit author, `Name <email>`.
    pub commit_author: Option<String>,
    /// When its workflow runs on its own (cron), for `baton init`.
    pub schedule: Option<String>,
    /// The GitHub deployment environment its update job runs in (required reviewers).
    pub github_environment: Option<String>,
    /// Gates of promotions into it.
    pub gates: Gates,
    /// GitHub's auto-merge on its update pull requests, with this merge method (`auto_merge =
    /// true`, `merge_method`); `None`: off.
    pub auto_merge: Option<MergeMethod>,
}

/// The configuration file, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Where it was read from.
    pub path: PathBuf,
    /// The environments, in promotion order.
    pub environments: Vec<Environment>,
    /// The groups of dependencies that update together (`[[groups]]`).
    pub groups: Vec<Group>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default)]
    environments: Vec<Spanned<RawEnv>>,
    /// Read by [`consumers`] (`baton notify`); accepted here beside environments.
    #[serde(default, rename = "consumers")]
    _consumers: Option<toml::Value>,
    #[serde(default)]
    groups: Vec<Spanned<RawGroup>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    name: Spanned<String>,
    dependencies: Spanned<Vec<Spanned<String>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    update_strategy: Option<Strategy>,
    #[serde(default)]
    exclude: Option<Spanned<Vec<String>>>,
    reviewers: Option<Vec<String>>,
    draft: Option<bool>,
    commit_author: Option<Spanned<String>>,
    #[serde(default)]
    gates: RawGates,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGates {
    min_soak: Option<Spanned<String>>,
    require_checks: Option<Vec<String>>,
    require_approvals: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnv {
    name: Spanned<String>,
    include: Spanned<Vec<String>>,
    #[serde(default)]
    exclude: Option<Spanned<Vec<String>>>,
    branch_prefix: Option<Spanned<String>>,
    labels: Option<Spanned<Vec<String>>>,
    dispatch_event: Option<Spanned<String>>,
    promote_from: Option<Spanned<String>>,
    update_strategy: Option<Strategy>,
    reviewers: Option<Vec<String>>,
    draft: Option<bool>,
    commit_author: Option<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    github_environment: Option<Spanned<String>>,
    #[serde(default)]
    gates: RawGates,
    auto_merge: Option<bool>,
    merge_method: Option<Spanned<String>>,
}

/// A config file problem, located.
struct Located<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Located<'_> {
    fn error(
        &self,
        span: Range<usize>,
        key: &str,
        message: impl std::fmt::Display,
    ) -> InvalidInput {
        let (line, column) = line_column(self.text, span.start);
        InvalidInput(format!(
            "{}:{line}:{column}: {key}: {message}",
            display_path(self.path)
        ))
    }
}

fn display_path(path: &Path) -> String {
    let text = path.display().to_string();
    text.strip_prefix("./").map(str::to_string).unwrap_or(text)
}

/// The largest character boundary at or before `offset`.
fn char_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// The dotted key a byte offset of a TOML text belongs to (`environments[1].include`), read from
/// the table headers above it and the `key =` of its line or the lines before it.
fn key_at(text: &str, offset: usize) -> String {
    let offset = char_boundary(text, offset);
    let mut table = String::new();
    let mut env_index: Option<usize> = None;
    let mut key: Option<String> = None;
    let mut consumed = 0;
    for line in text.split_inclusive('\n') {
        if consumed > offset {
            break;
        }
        consumed += line.len();
        let trimmed = line.trim();
        if let Some(name) = trimmed
            .strip_prefix("[[")
            .and_then(|r| r.split("]]").next())
        {
            let name = name.trim().trim_end_matches(']').trim();
            if name == "environments" {
                env_index = Some(env_index.map_or(0, |i| i + 1));
            }
            table = name.to_string();
            key = None;
        } else if let Some(name) = trimmed.strip_prefix('[').and_then(|r| r.split(']').next()) {
            table = name.trim().trim_end_matches(']').trim().to_string();
            key = None;
        } else if let Some((k, _)) = trimmed.split_once('=') {
            let k = k.trim();
            if !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '"'))
            {
                key = Some(k.trim_matches('"').to_string());
            }
        }
    }
    let mut path = match (table.as_str(), env_index) {
        ("environments", Some(i)) => format!("environments[{i}]"),
        (t, Some(i)) if t.starts_with("environments.") => {
            format!("environments[{i}]{}", &t["environments".len()..])
        }
        (t, _) => t.to_string(),
    };
    if let Some(k) = key {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(&k);
    }
    if path.is_empty() {
        "(top level)".into()
    } else {
        path
    }
}

/// Parses a duration such as `30m`, `24h`, `2d`, `1w` (a number and a unit; units may be
/// combined: `1d12h`).
pub fn parse_duration(text: &str) -> Option<Duration> {
    let mut total: u64 = 0;
    let mut number = String::new();
    let mut any = false;
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit: u64 = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return None,
        };
        let n: u64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        number.clear();
        any = true;
    }
    (any && number.is_empty()).then(|| Duration::from_secs(total))
}

/// Whether a name is usable for an environment: letters, digits, `-`, `_`, `.`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A branch prefix: ASCII letters, digits, `-`, `_`, `.` and `/`, not starting with `-`, `/` or
/// `.`, without `..` (so it is a valid start of a git branch and safe in a workflow expression).
fn valid_branch_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && !prefix.contains("..")
        && !prefix.starts_with(['-', '/', '.'])
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// A `repository_dispatch` event type Baton sends and workflows list: 1 to 100 of ASCII letters,
/// digits, `-`, `_`, `.`.
fn valid_event_type(event: &str) -> bool {
    (1..=100).contains(&event.len())
        && event
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn valid_cron(text: &str) -> bool {
    let fields: Vec<&str> = text.split_whitespace().collect();
    fields.len() == 5
        && fields.iter().all(|f| {
            f.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '*' | ',' | '-' | '/'))
        })
}

impl Config {
    /// Parses and checks a config file's text; `path` is named in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config, InvalidInput> {
        let at = Located { path, text };
        let raw = read_raw(&at)?;
        let defaults = Defaults::check(&at, &raw.defaults)?;
        let mut environments: Vec<Environment> = Vec::new();
        let mut names = BTreeSet::new();
        for (index, spanned) in raw.environments.iter().enumerate() {
            let entry = Entry {
                at: &at,
                index,
                env: spanned.get_ref(),
            };
            let environment = entry.check(&defaults, &environments, &mut names)?;
            environments.push(environment);
        }
        let groups = check_groups(&at, &raw.groups)?;
        Ok(Config {
            path: path.to_path_buf(),
            environments,
            groups,
        })
    }

    /// Reads and checks the file at `path`.
    pub fn load(path: &Path) -> Result<Config, InvalidInput> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            InvalidInput(format!(
                "cannot read the config file {}: {e}",
                display_path(path)
            ))
        })?;
        Config::parse(&text, path)
    }

    /// The config file of `working_dir` (`.github/baton.toml` or `baton.toml`), or the one named
    /// by `explicit`; `None` when there is none. Both files present is an error: one of them
    /// would be silently ignored.
    pub fn find(
        working_dir: &Path,
        explicit: Option<&Path>,
    ) -> Result<Option<Config>, InvalidInput> {
        if let Some(path) = explicit {
            return Config::load(path).map(Some);
        }
        let found: Vec<PathBuf> = CONFIG_FILES
            .iter()
            .map(|f| working_dir.join(f))
            .filter(|p| p.is_file())
            .collect();
        match found.as_slice() {
            [] => Ok(None),
            [one] => Config::load(one).map(Some),
            [a, b, ..] => Err(InvalidInput(format!(
                "both {} and {} exist; keep one of them",
                display_path(a),
                display_path(b)
            ))),
        }
    }

    /// The names of the environments, in order.
    pub fn names(&self) -> Vec<&str> {
        self.environments.iter().map(|e| e.name.as_str()).collect()
    }

    /// The environment called `name`.
    pub fn environment(&self, name: &str) -> Result<&Environment, InvalidInput> {
        self.environments
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| {
                InvalidInput(format!(
                    "no environment {name:?} in {}; it defines {}",
                    display_path(&self.path),
                    self.names().join(", ")
                ))
            })
    }

    /// The environment a promotion into `env` comes from.
    pub fn source_of(&self, env: &Environment) -> Option<&Environment> {
        let name = env.promote_from.as_deref()?;
        self.environments.iter().find(|e| e.name == name)
    }

    /// The environment after `env` in the chain.
    pub fn next_of(&self, env: &Environment) -> Option<&Environment> {
        self.environments
            .iter()
            .find(|e| e.promote_from.as_deref() == Some(env.name.as_str()))
    }

    /// The group called `name`.
    pub fn group(&self, name: &str) -> Result<&Group, InvalidInput> {
        self.groups.iter().find(|g| g.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.groups.iter().map(|g| g.name.as_str()).collect();
            InvalidInput(format!(
                "no group {name:?} in {}; {}",
                display_path(&self.path),
                if known.is_empty() {
                    "it defines no [[groups]]".to_string()
                } else {
                    format!("it defines {}", known.join(", "))
                }
            ))
        })
    }

    /// The group a dependency belongs to, if any.
    pub fn group_of(&self, id: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.matches(id))
    }

    /// The environments as `status` takes them.
    pub fn env_specs(&self) -> Vec<EnvSpec> {
        self.environments
            .iter()
            .map(Environment::env_spec)
            .collect()
    }
}

/// The TOML of a config file, read into its raw form; at least one environment.
fn read_raw(at: &Located<'_>) -> Result<RawConfig, InvalidInput> {
    let text = at.text;
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().replace('\n', " ");
        at.error(span.clone(), &key_at(text, span.start), message)
    })?;
    if raw.environments.is_empty() {
        return Err(at.error(
            0..0,
            "environments",
            "no [[environments]] defined; list them in promotion order (dev, then stage, then prod)",
        ));
    }
    Ok(raw)
}

/// `[defaults]`, checked: what every environment takes where it does not say otherwise.
struct Defaults<'a> {
    /// The section as written.
    raw: &'a RawDefaults,
    /// Its gates.
    gates: Gates,
    /// Its folders left out, added to every environment's own.
    exclude: Vec<String>,
}

impl<'a> Defaults<'a> {
    /// Checks the gates, then the exclude globs, of `[defaults]`.
    fn check(at: &Located<'_>, raw: &'a RawDefaults) -> Result<Defaults<'a>, InvalidInput> {
        let gates = gates(at, &raw.gates, "defaults.gates")?;
        let mut exclude = Vec::new();
        if let Some(ex) = &raw.exclude {
            check_globs(at, ex, "defaults.exclude")?;
            exclude = ex.get_ref().clone();
        }
        Ok(Defaults {
            raw,
            gates,
            exclude,
        })
    }
}

/// One `[[environments]]` entry being checked: its errors name `environments[<index>].<key>`.
struct Entry<'a> {
    at: &'a Located<'a>,
    index: usize,
    env: &'a RawEnv,
}

impl Entry<'_> {
    /// The dotted key of one of its fields.
    fn key(&self, k: &str) -> String {
        format!("environments[{}].{k}", self.index)
    }

    /// Checks the entry field by field, in the order errors are reported, against the
    /// environments before it, and fills in every default.
    fn check(
        &self,
        defaults: &Defaults<'_>,
        earlier: &[Environment],
        names: &mut BTreeSet<String>,
    ) -> Result<Environment, InvalidInput> {
        let env = self.env;
        let name = self.name(names)?;
        let (include, exclude) = self.folders(&name, &defaults.exclude)?;
        let branch_prefix = self.branch_prefix(&name, earlier)?;
        let labels = self.labels(&name)?;
        let dispatch_event = self.dispatch_event(&name)?;
        let promote_from = self.promote_from(&name, earlier)?;
        self.check_schedule()?;
        self.check_commit_author(defaults.raw)?;
        let gates = self.gates(&defaults.gates)?;
        let auto_merge = self.auto_merge(&name)?;
        let d = defaults.raw;
        Ok(Environment {
            name,
            include,
            exclude,
            branch_prefix,
            labels,
            dispatch_event,
            promote_from,
            update_strategy: env
                .update_strategy
                .or(d.update_strategy)
                .unwrap_or_default(),
            reviewers: env
                .reviewers
                .clone()
                .or_else(|| d.reviewers.clone())
                .unwrap_or_default(),
            draft: env.draft.or(d.draft).unwrap_or(false),
            commit_author: env
                .commit_author
                .as_ref()
                .or(d.commit_author.as_ref())
                .map(|a| a.get_ref().clone()),
            schedule: env.schedule.as_ref().map(|s| s.get_ref().clone()),
            github_environment: env
                .github_environment
                .as_ref()
                .map(|s| s.get_ref().clone())
                .filter(|s| !s.is_empty()),
            gates,
            auto_merge,
        })
    }

    /// Its auto-merge: off unless `auto_merge = true`, with `merge_method` (default squash),
    /// which alone is an error (it would do nothing).
    fn auto_merge(&self, name: &str) -> Result<Option<MergeMethod>, InvalidInput> {
        let env = self.env;
        let method = match &env.merge_method {
            Some(m) => Some(MergeMethod::parse(m.get_ref()).ok_or_else(|| {
                self.at.error(
                    m.span(),
                    &self.key("merge_method"),
                    format!(
                        "{:?} is not a merge method: squash, merge or rebase",
                        m.get_ref()
                    ),
                )
            })?),
            None => None,
        };
        match (env.auto_merge, method, &env.merge_method) {
            (Some(true), m, _) => Ok(Some(m.unwrap_or_default())),
            (_, Some(_), Some(m)) => Err(self.at.error(
                m.span(),
                &self.key("merge_method"),
                format!(
                    "merge_method is set but auto_merge is not: add `auto_merge = true` to environment {name:?}, or drop merge_method"
                ),
            )),
            _ => Ok(None),
        }
    }

    /// Its name: valid, and not taken by an environment before it.
    fn name(&self, names: &mut BTreeSet<String>) -> Result<String, InvalidInput> {
        let env = self.env;
        let name = env.name.get_ref().trim().to_string();
        if !valid_name(&name) {
            return Err(self.at.error(
                env.name.span(),
                &self.key("name"),
                format!("invalid environment name {name:?}: use letters, digits, '-', '_' or '.'"),
            ));
        }
        if !names.insert(name.clone()) {
            return Err(self.at.error(
                env.name.span(),
                &self.key("name"),
                format!("environment {name:?} is defined twice"),
            ));
        }
        Ok(name)
    }

    /// Its folders: the include globs (at least one), then the exclude globs, checked; the folders
    /// left out are its own and those of `[defaults]`.
    fn folders(
        &self,
        name: &str,
        default_exclude: &[String],
    ) -> Result<(Vec<String>, Vec<String>), InvalidInput> {
        let env = self.env;
        if crate::find::env::split_patterns(env.include.get_ref()).is_empty() {
            return Err(self.at.error(
                env.include.span(),
                &self.key("include"),
                format!("environment {name:?} has no include glob"),
            ));
        }
        check_globs(self.at, &env.include, &self.key("include"))?;
        let mut exclude = Vec::new();
        if let Some(ex) = &env.exclude {
            check_globs(self.at, ex, &self.key("exclude"))?;
            exclude = ex.get_ref().clone();
        }
        exclude.extend(default_exclude.iter().cloned());
        Ok((env.include.get_ref().clone(), exclude))
    }

    /// Its branch prefix (default `baton-<name>-updates-`): valid, and neither a prefix of an
    /// earlier environment's nor starting with one.
    fn branch_prefix(&self, name: &str, earlier: &[Environment]) -> Result<String, InvalidInput> {
        let env = self.env;
        let branch_prefix = match &env.branch_prefix {
            Some(p) if !valid_branch_prefix(p.get_ref()) => {
                return Err(self.at.error(
                    p.span(),
                    &self.key("branch_prefix"),
                    format!(
                        "{:?} is not a branch prefix: use ASCII letters, digits, '-', '_', '.' and '/', not first '-', '/' or '.', and no '..'",
                        p.get_ref()
                    ),
                ));
            }
            Some(p) => p.get_ref().clone(),
            None => format!("baton-{name}-updates-"),
        };
        if let Some(other) = earlier.iter().find(|o| {
            o.branch_prefix.starts_with(&branch_prefix)
                || branch_prefix.starts_with(&o.branch_prefix)
        }) {
            let span = env
                .branch_prefix
                .as_ref()
                .map_or(env.name.span(), Spanned::span);
            return Err(self.at.error(
                span,
                &self.key("branch_prefix"),
                format!(
                    "{branch_prefix:?} overlaps the branch prefix {:?} of environment {:?}: a merged branch must name one environment",
                    other.branch_prefix, other.name
                ),
            ));
        }
        Ok(branch_prefix)
    }

    /// Its labels (default `updates-<name>`), none empty.
    fn labels(&self, name: &str) -> Result<Vec<String>, InvalidInput> {
        Ok(match &self.env.labels {
            Some(l) if l.get_ref().iter().any(|x| x.trim().is_empty()) => {
                return Err(self
                    .at
                    .error(l.span(), &self.key("labels"), "a label is empty"));
            }
            Some(l) => l.get_ref().clone(),
            None => vec![format!("updates-{name}")],
        })
    }

    /// The event type sent when an update merges here (default `<name>_updates_merged`).
    fn dispatch_event(&self, name: &str) -> Result<String, InvalidInput> {
        Ok(match &self.env.dispatch_event {
            Some(e) if !valid_event_type(e.get_ref()) => {
                return Err(self.at.error(
                    e.span(),
                    &self.key("dispatch_event"),
                    format!(
                        "{:?} is not an event type: 1 to 100 ASCII letters, digits, '-', '_' or '.'",
                        e.get_ref()
                    ),
                ));
            }
            Some(e) => e.get_ref().clone(),
            None => format!("{name}_updates_merged"),
        })
    }

    /// The environment it receives versions from: one defined before it, `""` for none (newest
    /// releases), by default the one just before it.
    fn promote_from(
        &self,
        name: &str,
        earlier: &[Environment],
    ) -> Result<Option<String>, InvalidInput> {
        Ok(match &self.env.promote_from {
            Some(p) if p.get_ref().is_empty() => None,
            Some(p) => {
                if !earlier.iter().any(|o| o.name == *p.get_ref()) {
                    return Err(self.at.error(
                        p.span(),
                        &self.key("promote_from"),
                        format!(
                            "{:?} is not an environment defined before {name:?} (promotions go down the list; \"\" means newest releases)",
                            p.get_ref()
                        ),
                    ));
                }
                Some(p.get_ref().clone())
            }
            None => earlier.last().map(|o| o.name.clone()),
        })
    }

    /// Its schedule, when given, is a cron expression of five fields.
    fn check_schedule(&self) -> Result<(), InvalidInput> {
        if let Some(s) = &self.env.schedule
            && !valid_cron(s.get_ref())
        {
            return Err(self.at.error(
                s.span(),
                &self.key("schedule"),
                format!(
                    "{:?} is not a cron schedule of five fields (\"15 4 * * 1\")",
                    s.get_ref()
                ),
            ));
        }
        Ok(())
    }

    /// Its commit author, else that of `[defaults]`, when given, is `Name <email>`.
    fn check_commit_author(&self, defaults: &RawDefaults) -> Result<(), InvalidInput> {
        if let Some(a) = self
            .env
            .commit_author
            .as_ref()
            .or(defaults.commit_author.as_ref())
            && crate::update::publish::parse_author(a.get_ref()).is_none()
        {
            return Err(self.at.error(
                a.span(),
                &self.key("commit_author"),
                format!("{:?} is not of the form \"Name <email>\"", a.get_ref()),
            ));
        }
        Ok(())
    }

    /// Its gates, each one it leaves unset taken from `[defaults]`.
    fn gates(&self, defaults: &Gates) -> Result<Gates, InvalidInput> {
        let env = self.env;
        let mut env_gates = gates(self.at, &env.gates, &self.key("gates"))?;
        if env_gates.min_soak.is_none() {
            env_gates.min_soak = defaults.min_soak;
            env_gates.min_soak_text = defaults.min_soak_text.clone();
        }
        if env.gates.require_checks.is_none() {
            env_gates.require_checks = defaults.require_checks.clone();
        }
        if env_gates.require_approvals.is_none() {
            env_gates.require_approvals = defaults.require_approvals;
        }
        Ok(env_gates)
    }
}

/// `[[groups]]`, checked: valid and distinct names, globs that compile, and no dependency ID
/// written in one group that another's glob matches (a dependency belongs to one group at most;
/// overlaps only the scanned IDs reveal are refused where they are met).
fn check_groups(at: &Located<'_>, raw: &[Spanned<RawGroup>]) -> Result<Vec<Group>, InvalidInput> {
    let mut groups: Vec<Group> = Vec::new();
    for (index, spanned) in raw.iter().enumerate() {
        let g = spanned.get_ref();
        let key = |k: &str| format!("groups[{index}].{k}");
        let (line, _) = line_column(at.text, spanned.span().start);
        let origin = format!("{}:{line}", display_path(at.path));
        let name = g.name.get_ref().trim();
        if groups.iter().any(|o| o.name == name) {
            return Err(at.error(
                g.name.span(),
                &key("name"),
                format!("group {name:?} is defined twice"),
            ));
        }
        let globs: Vec<String> = g
            .dependencies
            .get_ref()
            .iter()
            .map(|d| d.get_ref().clone())
            .collect();
        let group = Group::new(name, &globs, &origin).map_err(|e| {
            let span = if crate::spec::group::valid_name(name) {
                g.dependencies.span()
            } else {
                g.name.span()
            };
            let k = if span == g.name.span() {
                "name"
            } else {
                "dependencies"
            };
            at.error(span, &key(k), e)
        })?;
        for glob in g.dependencies.get_ref() {
            let text = glob.get_ref().trim();
            if let Some(other) = groups.iter().find(|o| {
                o.globs.iter().any(|og| og == text)
                    || (crate::spec::group::is_literal(text) && o.matches(text))
                    || o.globs
                        .iter()
                        .any(|og| crate::spec::group::is_literal(og) && group.matches(og))
            }) {
                return Err(at.error(
                    glob.span(),
                    &key("dependencies"),
                    format!(
                        "group {name:?} and group {:?} ({}) both take the dependencies of {text:?}; a dependency belongs to one group at most",
                        other.name, other.origin
                    ),
                ));
            }
        }
        groups.push(group);
    }
    Ok(groups)
}

fn check_globs(
    at: &Located<'_>,
    globs: &Spanned<Vec<String>>,
    key: &str,
) -> Result<(), InvalidInput> {
    DirFilter::new(globs.get_ref(), &[] as &[String])
        .map(|_| ())
        .map_err(|e| at.error(globs.span(), key, e))
}

fn gates(at: &Located<'_>, raw: &RawGates, key: &str) -> Result<Gates, InvalidInput> {
    let (min_soak, min_soak_text) = match &raw.min_soak {
        Some(text) => match parse_duration(text.get_ref()) {
            Some(d) => (Some(d), Some(text.get_ref().clone())),
            None => {
                return Err(at.error(
                    text.span(),
                    &format!("{key}.min_soak"),
                    format!(
                        "{:?} is not a duration: a number and a unit among s, m, h, d, w (\"24h\", \"2d\")",
                        text.get_ref()
                    ),
                ));
            }
        },
        None => (None, None),
    };
    Ok(Gates {
        min_soak,
        min_soak_text,
        require_checks: raw.require_checks.clone().unwrap_or_default(),
        require_approvals: raw.require_approvals,
    })
}

impl Environment {
    /// The environment as `status` takes it.
    pub fn env_spec(&self) -> EnvSpec {
        EnvSpec {
            name: self.name.clone(),
            include: self.include.clone(),
            exclude: self.exclude.clone(),
        }
    }

    /// Its folders, for a scan of `working_dir`.
    pub fn scan_request(&self, working_dir: &Path) -> Result<ScanRequest, InvalidInput> {
        Ok(ScanRequest {
            working_dir: working_dir.to_path_buf(),
            dirs: DirFilter::new(&self.include, &self.exclude)
                .map_err(|e| InvalidInput(format!("environment {}: {e}", self.name)))?,
        })
    }

    /// The label `promote` recognises on this environment's merged pull requests.
    pub fn promote_label(&self) -> String {
        format!("updates-{}", self.name)
    }

    /// The gates of promotions into this environment. Requests that carry gates take them from
    /// here: `promote` applies the next environment's checks and approvals, `report` and `update`
    /// their own environment's soak time.
    pub fn gates(&self) -> &Gates {
        &self.gates
    }
}

/// The environment flags resolved against the config file: the scan to make, and the
/// environment of the config when `--env` named one.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The folders to scan: the flags' globs, else the environment's.
    pub scan: ScanRequest,
    /// The config file, when one was read.
    pub config: Option<Config>,
    /// The environment `--env` named.
    pub environment: Option<Environment>,
}

impl Resolved {
    /// The update strategy: the flag, else the environment's, else next-breaking.
    pub fn strategy(&self, flag: Option<Strategy>) -> Strategy {
        flag.or(self.environment.as_ref().map(|e| e.update_strategy))
            .unwrap_or_default()
    }

    /// The promotion the environment receives (the folders of the environment before it), when
    /// the config gives one.
    pub fn promotion(&self) -> Result<Option<Promotion>, InvalidInput> {
        let (Some(config), Some(env)) = (&self.config, &self.environment) else {
            return Ok(None);
        };
        let Some(source) = config.source_of(env) else {
            return Ok(None);
        };
        Ok(Some(Promotion::FromDirs(
            source.scan_request(&self.scan.working_dir)?,
        )))
    }
}

/// Parses a `--env` of `status`: `NAME=GLOB[,GLOB…]` names the folders itself; a bare `NAME` is
/// looked up in the config file.
pub fn parse_status_env(s: &str) -> Result<EnvSpec, String> {
    if s.contains('=') {
        return crate::promote::status::parse_env_flag(s);
    }
    let name = s.trim();
    if !valid_name(name) {
        return Err(format!(
            "expected NAME (an environment of the config file) or NAME=GLOB (for example dev='{{*dev*}}/**'), got {s:?}"
        ));
    }
    Ok(EnvSpec {
        name: name.to_string(),
        include: Vec::new(),
        exclude: Vec::new(),
    })
}

/// A consumer repository of a module repository, as `[[consumers]]` lists it: `baton notify`
/// sends it each release.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// `owner/name`.
    pub repository: String,
}

#[derive(Debug, Default, Deserialize)]
struct RawFleet {
    #[serde(default)]
    consumers: Vec<Spanned<RawConsumer>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsumer {
    repository: Spanned<String>,
}

/// The `[[consumers]]` of a config text (a module repository's needs no environments); each
/// `repository` is `owner/name`, none twice.
pub fn parse_consumers(text: &str, path: &Path) -> Result<Vec<Consumer>, InvalidInput> {
    let at = Located { path, text };
    let raw: RawFleet = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim().replace('\n', " ");
        at.error(span.clone(), &key_at(text, span.start), message)
    })?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, c) in raw.consumers.iter().enumerate() {
        let repo = c.get_ref().repository.get_ref().trim().to_string();
        let span = c.get_ref().repository.span();
        let key = format!("consumers[{i}].repository");
        let (owner, name) = repo.split_once('/').unwrap_or(("", ""));
        if crate::clients::github::check_repository(owner, name).is_err() {
            return Err(at.error(span, &key, format!("{repo:?} is not owner/name")));
        }
        if !seen.insert(repo.to_ascii_lowercase()) {
            return Err(at.error(span, &key, format!("{repo:?} is listed twice")));
        }
        out.push(Consumer { repository: repo });
    }
    Ok(out)
}

/// The `[[consumers]]` of the config file of `working_dir` (or `explicit`); none without a file.
pub fn consumers(
    working_dir: &Path,
    explicit: Option<&Path>,
) -> Result<Vec<Consumer>, InvalidInput> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match CONFIG_FILES
            .iter()
            .map(|f| working_dir.join(f))
            .find(|p| p.is_file())
        {
            Some(p) => p,
            None => return Ok(Vec::new()),
        },
    };
    let text = std::fs::read_to_string(&path).map_err(|e| {
        InvalidInput(format!(
            "cannot read the config file {}: {e}",
            display_path(&path)
        ))
    })?;
    parse_consumers(&text, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new(".github/baton.toml")).map_err(|e| e.0)
    }

    const CHAIN: &str = r#"
[[environments]]
name = "dev"
include = ["{*dev*}/**"]

[[environments]]
name = "stage"
include = ["{*stage*}/**"]

[[environments]]
name = "prod"
include = ["{*prod*}/**"]
github_environment = "production"
"#;

    #[test]
    fn defaults_follow_the_names_and_the_order() {
        let c = parse(CHAIN).unwrap();
        assert_eq!(c.names(), ["dev", "stage", "prod"]);
        let stage = c.environment("stage").unwrap();
        assert_eq!(stage.branch_prefix, "baton-stage-updates-");
        assert_eq!(stage.labels, ["updates-stage"]);
        assert_eq!(stage.dispatch_event, "stage_updates_merged");
        assert_eq!(stage.promote_from.as_deref(), Some("dev"));
        assert_eq!(c.environments[0].promote_from, None);
        assert_eq!(c.source_of(stage).unwrap().name, "dev");
        assert_eq!(c.next_of(stage).unwrap().name, "prod");
        assert_eq!(stage.update_strategy, Strategy::NextBreaking);
        assert!(
            c.environment("qa")
                .unwrap_err()
                .0
                .contains("dev, stage, prod")
        );
    }

    #[test]
    fn auto_merge_is_per_environment_and_off_by_default() {
        let text = CHAIN.replacen(
            "include = [\"{*dev*}/**\"]",
            "include = [\"{*dev*}/**\"]\nauto_merge = true\nmerge_method = \"rebase\"",
            1,
        );
        let c = parse(&text).unwrap();
        assert_eq!(c.environments[0].auto_merge, Some(MergeMethod::Rebase));
        assert_eq!(c.environments[1].auto_merge, None);
        let plain = CHAIN.replacen(
            "include = [\"{*dev*}/**\"]",
            "include = [\"{*dev*}/**\"]\nauto_merge = true",
            1,
        );
        assert_eq!(
            parse(&plain).unwrap().environments[0].auto_merge,
            Some(MergeMethod::Squash)
        );
        let alone = CHAIN.replacen(
            "include = [\"{*dev*}/**\"]",
            "include = [\"{*dev*}/**\"]\nmerge_method = \"merge\"",
            1,
        );
        let err = parse(&alone).unwrap_err();
        assert!(
            err.contains("environments[0].merge_method") && err.contains("auto_merge = true"),
            "{err}"
        );
        let bad = CHAIN.replacen(
            "include = [\"{*dev*}/**\"]",
            "include = [\"{*dev*}/**\"]\nauto_merge = true\nmerge_method = \"ff\"",
            1,
        );
        assert!(parse(&bad).unwrap_err().contains("squash, merge or rebase"));
    }

    #[test]
    fn consumers_are_listed_without_environments() {
        let path = Path::new(".github/baton.toml");
        let text = "[[consumers]]\nrepository = \"acme/live-a\"\n\n[[consumers]]\nrepository = \"acme/live-b\"\n";
        let list = parse_consumers(text, path).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[1].repository, "acme/live-b");
        let twice = format!("{text}[[consumers]]\nrepository = \"ACME/live-a\"\n");
        assert!(
            parse_consumers(&twice, path)
                .unwrap_err()
                .0
                .contains("listed twice")
        );
        let bad = "[[consumers]]\nrepository = \"acme/../x\"\n";
        assert!(
            parse_consumers(bad, path)
                .unwrap_err()
                .0
                .contains("consumers[0].repository")
        );
        let unknown = "[[consumers]]\nrepo = \"acme/x\"\n";
        assert!(parse_consumers(unknown, path).is_err());
        let with_envs = format!("{CHAIN}\n{text}");
        assert_eq!(parse(&with_envs).unwrap().names(), ["dev", "stage", "prod"]);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1d12h"), Some(Duration::from_secs(129_600)));
        assert_eq!(parse_duration("2w"), Some(Duration::from_secs(1_209_600)));
        for bad in ["", "24", "h", "1y", "-1h", "1.5h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn keys_are_found_under_their_tables() {
        let text = "[defaults]\nupdate_strategy = \"x\"\n\n[[environments]]\nname = \"dev\"\n\n[[environments]]\nname = \"a\"\ninclude = [\n  \"a\",\n  \"b\",\n]\n[environments.gates]\nmin_soak = 3\n";
        assert_eq!(
            key_at(text, text.find("\"x\"").unwrap()),
            "defaults.update_strategy"
        );
        assert_eq!(
            key_at(text, text.find("\"b\"").unwrap()),
            "environments[1].include"
        );
        assert_eq!(
            key_at(text, text.find("3").unwrap()),
            "environments[1].gates.min_soak"
        );
        assert_eq!(line_column(text, text.find("\"b\"").unwrap()), (11, 3));
    }

    #[test]
    fn groups_are_named_for_branches_and_never_share_a_dependency() {
        let with = |groups: &str| parse(&format!("{CHAIN}{groups}"));
        let c = with(
            "\n[[groups]]\nname = \"network\"\ndependencies = [\"acme/terraform-aws-*/**\"]\n\n[[groups]]\nname = \"data\"\ndependencies = [\"acme/rds/**\", \"acme/s3\"]\n",
        )
        .unwrap();
        assert_eq!(c.groups.len(), 2);
        assert_eq!(
            c.group_of("acme/terraform-aws-vpc/vpc").unwrap().name,
            "network"
        );
        assert_eq!(c.group_of("acme/s3").unwrap().name, "data");
        assert!(c.group_of("acme/other").is_none());
        assert!(c.group("nope").unwrap_err().0.contains("network, data"));
        let line_of =
            |text: &str, needle: &str| text[..text.find(needle).unwrap()].matches('\n').count() + 1;
        let text = format!(
            "{CHAIN}\n[[groups]]\nname = \"network\"\ndependencies = [\"acme/terraform-aws-*/**\"]\n\n[[groups]]\nname = \"vpc\"\ndependencies = [\"acme/terraform-aws-vpc/vpc\"]\n"
        );
        let e = parse(&text).unwrap_err();
        let second = line_of(&text, "[\"acme/terraform-aws-vpc/vpc");
        let first = line_of(&text, "name = \"network\"") - 1;
        assert!(
            e.starts_with(&format!(".github/baton.toml:{second}:")),
            "{e}"
        );
        assert!(e.contains("groups[1].dependencies"), "{e}");
        assert!(
            e.contains(&format!("\"network\" (.github/baton.toml:{first})"))
                && e.contains("\"vpc\""),
            "{e}"
        );
        for (bad, why) in [
            (
                "name = \"a/b\"\ndependencies = [\"x/*\"]",
                "invalid group name",
            ),
            ("name = \"a\"\ndependencies = []", "no dependency glob"),
            ("name = \"a\"\ndependencies = [\"x/[\"]", "not a glob"),
            ("name = \"a\"", "dependencies"),
        ] {
            let e = with(&format!("\n[[groups]]\n{bad}\n")).unwrap_err();
            assert!(e.contains(why), "{why}: {e}");
        }
        let e = with("\n[[groups]]\nname = \"a\"\ndependencies = [\"x/*\"]\n[[groups]]\nname = \"a\"\ndependencies = [\"y/*\"]\n").unwrap_err();
        assert!(e.contains("defined twice"), "{e}");
    }
}
