//! `baton action`: the container's entrypoint. Reads the step's inputs from the `INPUT_*`
//! variables the runner sets, maps them onto the same requests as the CLI subcommands, and writes
//! step outputs, annotations and the job summary.

/// Every input `action.yml` declares, each handled here (a test keeps the two in step).
pub const INPUTS: &[&str] = &[
    "patcher_command",
    "working_dir",
    "include_dirs",
    "exclude_dirs",
    "dependency",
    "group",
    "spec",
    "spec_file",
    "update_strategy",
    "promote_from",
    "environment",
    "environments",
    "fail_on_drift",
    "fail_on_unreachable",
    "pull_request_branch",
    "pull_request_branch_prefix",
    "pull_request_title",
    "pull_request_labels",
    "pull_request_reviewers",
    "pull_request_draft",
    "commit_author",
    "commit_message",
    "dry_run",
    "breaking_notes_file",
    "dispatch_event",
    "force_push_over_edits",
    "next_environment",
    "github_token",
    "read_token",
    "update_token",
    "PATCHER_READ_TOKEN",
    "PATCHER_EXECUTE_TOKEN",
    "github_base_url",
    "min_soak",
    "min_release_age",
    "version",
    "require_checks",
    "required_checks",
    "require_approvals",
    "cache_dir",
    "cache_max_age",
    "api_floor",
    "max_response_size",
    "max_tarball_size",
    "fleet_repositories",
    "fleet_repositories_file",
    "fleet_org",
    "fleet_topic",
    "fleet_include_archived",
    "stuck_after",
    "fail_on_stuck",
    "fleet_shard_size",
    "fleet_merge_dir",
    "fleet_json",
    "tag",
    "consumers",
    "discover",
    "auto_merge",
    "merge_method",
];

/// Every output `action.yml` declares.
pub const OUTPUTS: &[&str] = &[
    "spec",
    "has_dependencies",
    "dependencies",
    "pull_request_number",
    "pull_request_url",
    "dependency",
    "version",
    "pull_request_edited",
    "unreachable",
    "gated",
    "consumers",
    "auto_merge",
    "groups",
    "ungrouped",
    "fleet_matrix",
];

use crate::app::args::{EnvArgs, GitHubArgs, parse_size};
use crate::app::commands::history::HistoryArgs;
use crate::app::commands::notify::NotifyArgs;
use crate::app::commands::promote::PromoteArgs;
use crate::app::commands::report::ReportArgs;
use crate::app::commands::status::StatusArgs;
use crate::app::commands::update::UpdateArgs;
use crate::app::commands::{self, Annotate};
use crate::app::config::Config;
use crate::app::console::Console;
use crate::app::derive;
use crate::clients::github::{DEFAULT_MAX_RESPONSE, DEFAULT_MAX_TARBALL};
use crate::diag::Reporter as _;
use crate::exit::{self, InvalidInput};
use crate::output::{self, Format};
use crate::spec::Strategy;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reads inputs; `get` maps an input name to its value (the runner's `INPUT_*` variables).
pub struct Inputs<F: Fn(&str) -> Option<String>> {
    get: F,
}

/// The variable the runner sets for an input: `INPUT_` + the name upper-cased, spaces to `_`.
pub fn input_variable(name: &str) -> String {
    format!("INPUT_{}", name.replace(' ', "_").to_uppercase())
}

impl Inputs<fn(&str) -> Option<String>> {
    /// Inputs from the process environment.
    pub fn from_env() -> Self {
        Inputs {
            get: |name| std::env::var(input_variable(name)).ok(),
        }
    }
}

impl<F: Fn(&str) -> Option<String>> Inputs<F> {
    /// Inputs from a function (for tests).
    pub fn new(get: F) -> Self {
        Inputs { get }
    }

    /// An input, trimmed; empty counts as unset.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.get)(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// A boolean input: `true` or `false` (any case); unset is `false`.
    pub fn flag(&self, name: &str) -> Result<bool, InvalidInput> {
        match self.get(name).map(|v| v.to_ascii_lowercase()).as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(InvalidInput(format!(
                "input {name} must be true or false, not {other:?}"
            ))),
        }
    }

    /// A duration input (`36h`, `2d`); unset is `None`.
    pub fn duration(&self, name: &str) -> Result<Option<std::time::Duration>, InvalidInput> {
        self.get(name)
            .map(|v| {
                crate::clock::parse_duration(&v)
                    .map_err(|e| InvalidInput(format!("input {name}: {e}")))
            })
            .transpose()
    }

    /// A size input (`256MiB`); unset is `default`.
    pub fn size(&self, name: &str, default: u64) -> Result<u64, InvalidInput> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => parse_size(&v).map_err(|e| InvalidInput(format!("input {name}: {e}"))),
        }
    }

    /// A list input: one item per line or comma-separated (commas inside braces stay).
    pub fn list(&self, name: &str) -> Vec<String> {
        self.get(name)
            .map(|v| {
                let lines: Vec<&str> = v.lines().collect();
                crate::find::env::split_patterns(&lines)
            })
            .unwrap_or_default()
    }

    /// The token: the first non-empty of the aliases, else `github_token` (which defaults to the
    /// workflow token, so an alias that is set must win over it).
    pub fn token(&self) -> Option<String> {
        [
            "update_token",
            "PATCHER_EXECUTE_TOKEN",
            "read_token",
            "PATCHER_READ_TOKEN",
            "github_token",
        ]
        .iter()
        .find_map(|n| self.get(n))
    }

    fn env_args(&self) -> EnvArgs {
        EnvArgs {
            working_dir: PathBuf::from(self.get("working_dir").unwrap_or_else(|| ".".into())),
            include_dirs: self.list("include_dirs"),
            exclude_dirs: self.list("exclude_dirs"),
            environment: None,
            config: None,
        }
    }

    /// The environment flags, with the chosen environment when the config file describes it.
    fn env_args_for(&self, chosen: &Chosen) -> EnvArgs {
        let mut args = self.env_args();
        if chosen.in_config {
            args.environment = chosen.name.clone();
        }
        args
    }

    /// The environment this step works on: the `environment` input, else one derived from the
    /// branch prefix, the working directory, the include globs or the spec (see
    /// [`crate::app::derive`]); the config file, when there is one, describes it.
    pub fn chosen(&self) -> Result<Chosen, InvalidInput> {
        let working_dir = PathBuf::from(self.get("working_dir").unwrap_or_else(|| ".".into()));
        let config = Config::find(&working_dir, None)?;
        if let Some(name) = self.get("environment") {
            if let Some(c) = &config {
                c.environment(&name)?;
            }
            return Ok(Chosen {
                name: Some(name),
                rule: None,
                in_config: config.is_some(),
            });
        }
        let dependency = self.get("dependency");
        let branch = self.get("pull_request_branch");
        let prefix = self.get("pull_request_branch_prefix").or_else(|| {
            branch
                .as_deref()
                .map(|b| derive::prefix_of(b, dependency.as_deref()).to_string())
        });
        let spec_include = self
            .get("spec")
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .and_then(|v| v["IncludeDirPattern"].as_str().map(str::to_string));
        let include = self.list("include_dirs");
        let dir = self.get("working_dir");
        let derived = derive::derive(
            &derive::Clues {
                branch_prefix: prefix.as_deref(),
                working_dir: dir.as_deref(),
                include: &include,
                spec_include: spec_include.as_deref(),
            },
            config.as_ref(),
        );
        Ok(match derived {
            Some(d) => Chosen {
                name: Some(d.name),
                rule: Some(d.rule),
                in_config: config.is_some(),
            },
            None => Chosen::default(),
        })
    }

    fn github(&self) -> Result<GitHubArgs, InvalidInput> {
        let api_floor = match self.get("api_floor") {
            None => crate::clients::github::DEFAULT_FLOOR,
            Some(v) => v.parse().map_err(|_| {
                InvalidInput(format!(
                    "input api_floor must be a whole number of requests, not {v:?}"
                ))
            })?,
        };
        Ok(GitHubArgs {
            github_api_url: self
                .get("github_base_url")
                .or_else(|| std::env::var("GITHUB_API_URL").ok()),
            github_token: self.token(),
            cache_dir: self.get("cache_dir").map(PathBuf::from),
            cache_max_age: self.duration("cache_max_age")?,
            api_floor,
            max_response_size: self.size("max_response_size", DEFAULT_MAX_RESPONSE)?,
            max_tarball_size: self.size("max_tarball_size", DEFAULT_MAX_TARBALL)?,
        })
    }

    fn strategy(&self) -> Result<Option<Strategy>, InvalidInput> {
        match self.get("update_strategy").as_deref() {
            None => Ok(None),
            Some("next-breaking") => Ok(Some(Strategy::NextBreaking)),
            Some("next-safe") => Ok(Some(Strategy::NextSafe)),
            Some(other) => Err(InvalidInput(format!(
                "input update_strategy must be next-safe or next-breaking, not {other:?}"
            ))),
        }
    }

    /// The `report` request these inputs describe.
    pub fn report(&self) -> Result<ReportArgs, InvalidInput> {
        Ok(ReportArgs {
            env: self.env_args_for(&self.chosen()?),
            dependency: self.get("dependency"),
            group: self.get("group"),
            update_strategy: self.strategy()?,
            spec_file: self.get("spec_file").map(PathBuf::from),
            promote_from: self.list("promote_from"),
            format: Format::Json,
            fail_on_unreachable: self.flag("fail_on_unreachable")?,
            min_soak: self.duration("min_soak")?,
            min_release_age: self.duration("min_release_age")?,
            github: self.github()?,
        })
    }

    /// The `update` request these inputs describe: publishing unless `dry_run`.
    pub fn update(&self) -> Result<UpdateArgs, InvalidInput> {
        let dry_run = self.flag("dry_run")?;
        let dependency = self.get("dependency");
        let group = self.get("group");
        let branch = self.get("pull_request_branch").or_else(|| {
            let prefix = self.get("pull_request_branch_prefix")?;
            if let Some(name) = &group {
                return Some(format!(
                    "{prefix}{}{name}",
                    crate::spec::group::BRANCH_SEGMENT
                ));
            }
            Some(crate::update::branch::for_dependency(
                &prefix,
                dependency.as_deref()?,
            ))
        });
        let chosen = self.chosen()?;
        let mut labels = self.list("pull_request_labels");
        if labels.is_empty() && !chosen.in_config {
            // With a config file, the environment's labels apply.
            labels.extend(chosen.name.as_ref().map(|e| format!("updates-{e}")));
        }
        Ok(UpdateArgs {
            env: self.env_args_for(&chosen),
            spec_file: if self.get("spec").is_some() {
                None
            } else {
                self.get("spec_file").map(PathBuf::from)
            },
            spec: self.get("spec"),
            dependency,
            group,
            update_strategy: self.strategy()?,
            promote_from: self.list("promote_from"),
            dry_run,
            publish: !dry_run,
            pull_request_branch: branch,
            pull_request_title: self.get("pull_request_title"),
            pull_request_labels: labels,
            pull_request_reviewers: self.list("pull_request_reviewers"),
            draft: self.flag("pull_request_draft")?,
            commit_author: self.get("commit_author"),
            commit_message: self.get("commit_message"),
            format: Format::Json,
            force_push_over_edits: self.flag("force_push_over_edits")?,
            next_environment: self.get("next_environment"),
            breaking_notes_file: self.get("breaking_notes_file").map(PathBuf::from),
            to_version: self.get("version"),
            min_soak: self.duration("min_soak")?,
            min_release_age: self.duration("min_release_age")?,
            auto_merge: self.flag("auto_merge")?,
            merge_method: self.merge_method()?,
            github: self.github()?,
        })
    }

    /// The `merge_method` input.
    fn merge_method(&self) -> Result<Option<crate::update::automerge::MergeMethod>, InvalidInput> {
        match self.get("merge_method") {
            None => Ok(None),
            Some(m) => crate::update::automerge::MergeMethod::parse(&m)
                .map(Some)
                .ok_or_else(|| {
                    InvalidInput(format!(
                        "input merge_method must be squash, merge or rebase, not {m:?}"
                    ))
                }),
        }
    }

    /// The `notify` request these inputs describe.
    pub fn notify(&self) -> Result<NotifyArgs, InvalidInput> {
        Ok(NotifyArgs {
            working_dir: self
                .get("working_dir")
                .map_or_else(|| PathBuf::from("."), PathBuf::from),
            config: None,
            tag: self.get("tag"),
            repository: None,
            consumer: self.list("consumers"),
            discover: self.flag("discover")?,
            discover_org: None,
            event_type: crate::spec::release::EVENT_TYPE.to_string(),
            event_path: std::env::var_os("GITHUB_EVENT_PATH").map(PathBuf::from),
            dry_run: self.flag("dry_run")?,
            format: Format::Json,
            github: self.github()?,
        })
    }

    /// The `promote` request these inputs describe.
    pub fn promote(&self) -> Result<PromoteArgs, InvalidInput> {
        let chosen = self.chosen()?;
        let require_approvals = match self.get("require_approvals") {
            None => 0,
            Some(n) => n.parse::<u32>().map_err(|_| {
                InvalidInput(format!(
                    "input require_approvals must be a number of reviews, not {n:?}"
                ))
            })?,
        };
        Ok(PromoteArgs {
            env: self.env_args_for(&chosen),
            pull_request_branch_prefix: self.get("pull_request_branch_prefix"),
            environment: chosen.name.filter(|_| !chosen.in_config),
            dispatch_event: self.get("dispatch_event"),
            event_path: std::env::var_os("GITHUB_EVENT_PATH").map(PathBuf::from),
            dry_run: self.flag("dry_run")?,
            format: Format::Json,
            require_checks: self.flag("require_checks")?,
            required_checks: self.list("required_checks"),
            require_approvals,
            github: self.github()?,
        })
    }

    /// The `history` request these inputs describe: the `environments` (as for `status`), else
    /// `include_dirs` named `environment`.
    pub fn history(&self) -> Result<HistoryArgs, InvalidInput> {
        let status = self.status()?;
        let include_dirs = self.list("include_dirs");
        let mut envs = status.envs;
        if envs.is_empty() && !include_dirs.is_empty() {
            if let Some(name) = self.get("environment") {
                envs.push(crate::promote::status::EnvSpec {
                    name,
                    include: include_dirs.clone(),
                    exclude: Vec::new(),
                });
            }
        }
        Ok(HistoryArgs {
            working_dir: status.working_dir,
            include_dirs: if envs.is_empty() {
                include_dirs
            } else {
                Vec::new()
            },
            envs,
            exclude_dirs: status.exclude_dirs,
            config: None,
            dependency: self.get("dependency"),
            limit: crate::promote::history::DEFAULT_LIMIT,
            since: None,
            format: Format::Markdown,
            cache_dir: self.get("cache_dir").map(PathBuf::from),
        })
    }

    /// The `status` request these inputs describe (`environments`: `name=glob` per line or `;`).
    pub fn status(&self) -> Result<StatusArgs, InvalidInput> {
        let envs = self
            .get("environments")
            .unwrap_or_default()
            .split(['\n', ';'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                crate::app::config::parse_status_env(l)
                    .map_err(|e| InvalidInput(format!("input environments: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StatusArgs {
            working_dir: PathBuf::from(self.get("working_dir").unwrap_or_else(|| ".".into())),
            envs,
            exclude_dirs: self.list("exclude_dirs"),
            config: None,
            format: Format::Markdown,
            fail_on_drift: self.flag("fail_on_drift")?,
            dependency: self.get("dependency"),
            ages: self.get("min_soak").is_some(),
            min_soak: self.duration("min_soak")?,
            fleet: self.fleet()?,
        })
    }
}

impl<F: Fn(&str) -> Option<String>> Inputs<F> {
    /// The fleet status these inputs describe (`fleet_repositories`, `fleet_org`, …).
    pub fn fleet(&self) -> Result<crate::app::fleet::FleetArgs, InvalidInput> {
        let merge = match self.get("fleet_merge_dir") {
            None => Vec::new(),
            Some(dir) => {
                let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                    .map_err(|e| {
                        InvalidInput(format!("input fleet_merge_dir: cannot read {dir}: {e}"))
                    })?
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "json"))
                    .collect();
                files.sort();
                if files.is_empty() {
                    return Err(InvalidInput(format!(
                        "input fleet_merge_dir: no .json file in {dir}"
                    )));
                }
                files
            }
        };
        let shard_size = match self.get("fleet_shard_size") {
            None => None,
            Some(v) => Some(v.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                InvalidInput(format!(
                    "input fleet_shard_size must be a number of repositories, not {v:?}"
                ))
            })?),
        };
        Ok(crate::app::fleet::FleetArgs {
            repos: self.get("fleet_repositories_file").map(PathBuf::from),
            org: self.get("fleet_org"),
            topic: self.list("fleet_topic"),
            include_archived: self.flag("fleet_include_archived")?,
            stuck_after: self
                .duration("stuck_after")?
                .unwrap_or(std::time::Duration::from_secs(7 * 86_400)),
            fail_on_stuck: self.flag("fail_on_stuck")?,
            shard_size,
            merge,
            github: self.github()?,
            repositories: self
                .get("fleet_repositories")
                .unwrap_or_default()
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|r| !r.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }
}

/// The environment a step works on, and where its name came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chosen {
    /// Its name, when given or derived.
    pub name: Option<String>,
    /// The rule that derived it; `None` when the `environment` input gave it.
    pub rule: Option<String>,
    /// Whether the config file describes it (and so gives its folders, branches and labels).
    pub in_config: bool,
}

/// One step output, in the multi-line form with a delimiter that does not occur in the value.
pub fn output_line(name: &str, value: &str) -> String {
    let mut n: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
        ^ u64::from(std::process::id());
    let delimiter = loop {
        let candidate = format!("ghadelimiter_{n:016x}");
        if !value.contains(&candidate) {
            break candidate;
        }
        n = n
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
    };
    format!("{name}<<{delimiter}\n{value}\n{delimiter}\n")
}

fn append(path: Option<std::ffi::OsString>, text: &str) -> std::io::Result<()> {
    let Some(path) = path.filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(Path::new(&path))?;
    f.write_all(text.as_bytes())
}

fn set_outputs(outputs: &[(&str, String)]) -> anyhow::Result<()> {
    let text: String = outputs.iter().map(|(n, v)| output_line(n, v)).collect();
    append(std::env::var_os("GITHUB_OUTPUT"), &text)
        .map_err(|e| anyhow::anyhow!("cannot write the step outputs to GITHUB_OUTPUT: {e}"))
}

fn summary(text: &str) {
    if let Err(e) = append(std::env::var_os("GITHUB_STEP_SUMMARY"), text) {
        log::warn!("cannot write the job summary: {e}");
    }
}

/// Writes to stdout at once.
fn print(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Runs the action: the command named by `patcher_command`, with outputs and a summary. Its
/// output is read by the runner, so everything goes through a [`Console`] for the runner.
pub fn run() -> anyhow::Result<u8> {
    let inputs = Inputs::from_env();
    let console = Console::new(true);
    if let Some(token) = inputs.token() {
        // Masked before anything else is printed.
        print(&console.mask(&token))?;
    }
    if let Some(workspace) = std::env::var_os("GITHUB_WORKSPACE").filter(|w| !w.is_empty()) {
        let workspace = PathBuf::from(workspace);
        if let Err(e) = crate::clients::git::Git::new(&workspace).safe_directory_add(&workspace) {
            log::warn!("cannot mark the workspace as a safe git directory: {e}");
        }
    }
    let command = inputs
        .get("patcher_command")
        .unwrap_or_else(|| "report".into());
    print(&console.group(&format!("baton {command}")))?;
    commands::PHASE_GROUPS.store(true, std::sync::atomic::Ordering::Relaxed);
    let result = dispatch(&inputs, &command, console);
    print(&console.end_group())?;
    if let Some(line) = crate::clients::github::usage().line() {
        // Numbers and Baton's own words only: nothing from the server is quoted.
        summary(&format!("\n### GitHub API\n\n{line}\n"));
    }
    result
}

/// Runs the command named by `patcher_command`, after saying which environment it works on.
fn dispatch<F: Fn(&str) -> Option<String>>(
    inputs: &Inputs<F>,
    command: &str,
    console: Console,
) -> anyhow::Result<u8> {
    if matches!(command, "report" | "update" | "promote") {
        log_environment(&inputs.chosen()?, command);
    }
    let stdout = &mut std::io::stdout().lock();
    match command {
        "scan" => scan(inputs, console, stdout),
        "report" => report(inputs, console, stdout),
        "update" => update(inputs, console, stdout),
        "promote" => promote(inputs, console, stdout),
        "notify" => notify(inputs, console, stdout),
        "status" => status(inputs, console, stdout),
        "history" => history(inputs, console, stdout),
        other => Err(InvalidInput(format!(
            "input patcher_command must be report, update, promote, notify, status, history or scan, not {other:?}"
        ))
        .into()),
    }
}

/// Logs the environment `command` works on, and where its name and settings came from.
fn log_environment(chosen: &Chosen, command: &str) {
    match (&chosen.name, &chosen.rule) {
        (Some(name), Some(rule)) => log::info!(
            "environment {name}, derived from {rule} (the environment input is empty){}",
            if chosen.in_config {
                "; its settings come from the config file"
            } else {
                ""
            }
        ),
        (Some(name), None) if chosen.in_config => {
            log::info!("environment {name}: its settings come from the config file")
        }
        (None, _) if command != "report" => log::info!(
            "no environment: the environment input is empty and no branch prefix, working directory or include glob names one"
        ),
        _ => {}
    }
}

/// `scan`: the usages found, as JSON.
fn scan<F: Fn(&str) -> Option<String>>(
    inputs: &Inputs<F>,
    console: Console,
    stdout: &mut dyn Write,
) -> anyhow::Result<u8> {
    let request = inputs.env_args().scan_request()?;
    let report = crate::find::scan::scan(&request)?;
    for w in request.problems(&report) {
        Annotate.warn(w);
    }
    commands::scan::render(&report, Format::Json, console, stdout)?;
    Ok(exit::OK)
}

/// `report`: the spec as JSON and in the `spec` output, the dependencies listed in outputs, and
/// the report in the job summary.
fn report<F: Fn(&str) -> Option<String>>(
    inputs: &Inputs<F>,
    console: Console,
    stdout: &mut dyn Write,
) -> anyhow::Result<u8> {
    let args = inputs.report()?;
    let spec = crate::spec::report::run(&commands::report::request(&args)?, &Annotate)?;
    commands::report::save(&args, &spec)?;
    let json = spec.to_json();
    console.write_json(stdout, &json)?;
    let ids: Vec<&str> = spec.dependencies.iter().map(|d| d.id.as_str()).collect();
    set_outputs(&[
        ("spec", json),
        ("has_dependencies", (!ids.is_empty()).to_string()),
        ("dependencies", serde_json::to_string(&ids)?),
        ("unreachable", spec.unreachable_json()),
        ("gated", (!spec.gated.is_empty()).to_string()),
    ])?;
    let config = args.env.resolve()?.config;
    let (groups, ungrouped) = commands::report::by_group(&spec, config.as_ref())?;
    set_outputs(&[
        ("groups", serde_json::to_string(&groups)?),
        ("ungrouped", serde_json::to_string(&ungrouped)?),
    ])?;
    summary(&format!(
        "### Baton report: {}\n\n{}\n",
        output::md_text(&spec.include_dir_pattern),
        output::report_markdown(&spec)
    ));
    commands::report::exit_code(&args, &spec)
}

/// `update`: the outcome as JSON (and the diff of a dry run), the pull request and the one
/// dependency updated in outputs, and the update in the job summary.
fn update<F: Fn(&str) -> Option<String>>(
    inputs: &Inputs<F>,
    console: Console,
    stdout: &mut dyn Write,
) -> anyhow::Result<u8> {
    let args = inputs.update()?;
    let request = commands::update::request(&args)?;
    let outcome = crate::update::run(&request, &Annotate)?;
    commands::update::save_notes(&args, &outcome)?;
    console.write_json(stdout, &serde_json::to_string_pretty(&outcome)?)?;
    if let Some(diff) = &outcome.diff {
        console.write_text(stdout, diff)?;
    }
    let mut outs = Vec::new();
    if let Some(pr) = &outcome.pull_request {
        outs.push(("pull_request_number", pr.number.to_string()));
        outs.push(("pull_request_url", pr.url.clone()));
    }
    if let [only] = outcome.dependencies.as_slice() {
        outs.push(("dependency", only.id.clone()));
        outs.push(("version", only.target.clone()));
    }
    outs.push((
        "pull_request_edited",
        outcome.pull_request_edited.to_string(),
    ));
    if let Some(auto) = &outcome.auto_merge {
        outs.push((
            "auto_merge",
            if auto.enabled {
                "enabled"
            } else {
                "not-allowed"
            }
            .to_string(),
        ));
    }
    set_outputs(&outs)?;
    summary(&commands::update::markdown(&outcome));
    Ok(outcome.exit_code())
}

/// `notify`: the outcome as JSON, each consumer's result in the `consumers` output, and a table
/// of them in the job summary.
fn notify<F: Fn(&str) -> Option<String>>(
    inputs: &Inputs<F>,
    console: Console,
    stdout: &mut dyn Write,
) -> anyhow::Result<u8> {
    let request = commands::notify::request(&inputs.notify()?)?;
    let outcome = crate::promote::notify::run(&request, &Annotate)?;
    console.write_json(stdout, &serde_json::to_string_pretty(&outcome)?)?;
    set_outputs(&[("consumers", serde_json::to_string(&outcome.consumers)?)])?;
    summary(&commands::notify::markdown(&outcome));
    Ok(outcome.exit_code())
}

/// `promote`: the outcome as JSON, what was dispatched in outputs, and a sentence on it in the
/// job summary.
fn promote<F: Fn(&str) -> Option<String>>(
    inputs: &Inputs<F>,
    console: Console,
    stdout: &mut dyn Write,
) -> anyhow::Result<u8> {
    let request = commands::promote::request(&inputs.promote()?)?;
    let outcome = crate::promote::run(&request, &Annotate)?;
    console.write_json(stdout, &serde_json::to_string_pretty(&outcome)?)?;
    let payload = outcome.payload.clone().unwrap_or_default();
    set_outputs(&[
        ("dependency", payload.dependency.clone().unwrap_or_default()),
        ("version", payload.version.clone().unwrap_or_default()),
        ("gated", outcome.gated.to_string()),
    ])?;
    summary(&format!(
        "### Baton promote\n\n{}\n{}",
        commands::promote::sentence(&outcome, true),
        commands::promote::held(&outcome, true)
    ));
    Ok(exit::OK)
}

/// `status`: the matrix as markdown, on stdout and in the job summary.
fn status<F: Fn(&str) -> Option<String>>(
    inputs: &Inputs<F>,
    console: Console,
    stdout: &mut dyn Write,
) -> anyhow::Result<u8> {
    let args = inputs.status()?;
    if args.fleet.active() || args.fleet.shard_size.is_some() {
        return fleet_status(inputs, &args, console, stdout);
    }
    let matrix = crate::promote::status::run(&commands::status::request(&args)?, &Annotate)?;
    let markdown = matrix.to_markdown();
    console.write_text(stdout, &markdown)?;
    summary(&format!("{markdown}\n"));
    Ok(if args.fail_on_drift && matrix.has_drift() {
        exit::FINDINGS
    } else {
        exit::OK
    })
}

/// Fleet status: the shards' matrix as the output `fleet_matrix`, or the report as markdown on
/// stdout and in the job summary, and as JSON in the file `fleet_json` when set.
fn fleet_status<F: Fn(&str) -> Option<String>>(
    inputs: &Inputs<F>,
    args: &StatusArgs,
    console: Console,
    stdout: &mut dyn Write,
) -> anyhow::Result<u8> {
    use crate::app::fleet;
    if let Some(size) = args.fleet.shard_size {
        let matrix = fleet::shard_matrix(&args.fleet, size)?.to_string();
        console.write_text(stdout, &format!("{matrix}\n"))?;
        set_outputs(&[("fleet_matrix", matrix)])?;
        return Ok(exit::OK);
    }
    let common = commands::status::fleet_common(args)?;
    let report = fleet::report(&args.fleet, &common)?;
    if let Some(path) = inputs.get("fleet_json") {
        let path = PathBuf::from(path);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, report.to_json())
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    let markdown = report.to_markdown();
    console.write_text(stdout, &markdown)?;
    summary(&format!("{markdown}\n"));
    Ok(fleet::exit_code(
        &report,
        args.fleet.fail_on_stuck,
        args.fail_on_drift,
    ))
}

/// `history`: the changes as markdown, on stdout and in the job summary.
fn history<F: Fn(&str) -> Option<String>>(
    inputs: &Inputs<F>,
    console: Console,
    stdout: &mut dyn Write,
) -> anyhow::Result<u8> {
    let args = inputs.history()?;
    let report = crate::promote::history::run(&commands::history::request(&args)?, &Annotate)?;
    let markdown = report.to_markdown();
    console.write_text(stdout, &markdown)?;
    summary(&format!("{markdown}\n"));
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn inputs(pairs: &[(&str, &str)]) -> Inputs<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Inputs::new(move |name| map.get(name).cloned())
    }

    #[test]
    fn variables_follow_the_runner() {
        assert_eq!(input_variable("patcher_command"), "INPUT_PATCHER_COMMAND");
        assert_eq!(
            input_variable("PATCHER_READ_TOKEN"),
            "INPUT_PATCHER_READ_TOKEN"
        );
    }

    #[test]
    fn token_aliases_in_order() {
        assert_eq!(
            inputs(&[("read_token", "r"), ("update_token", "u")])
                .token()
                .as_deref(),
            Some("u")
        );
        assert_eq!(
            inputs(&[("PATCHER_READ_TOKEN", "p"), ("github_token", " ")])
                .token()
                .as_deref(),
            Some("p")
        );
        assert_eq!(inputs(&[]).token(), None);
    }

    #[test]
    fn update_publishes_unless_dry_run_and_derives_branch_and_label() {
        let i = inputs(&[
            ("dependency", "acme/m/vpc"),
            ("pull_request_branch_prefix", "baton-dev-updates-"),
            ("environment", "dev"),
            ("include_dirs", "{*dev*}/**\n{_*,x}/**"),
        ]);
        let u = i.update().unwrap();
        assert!(u.publish && !u.dry_run);
        assert_eq!(
            u.pull_request_branch.as_deref(),
            Some("baton-dev-updates-acme/m/vpc")
        );
        assert_eq!(u.pull_request_labels, vec!["updates-dev"]);
        assert_eq!(u.env.include_dirs, vec!["{*dev*}/**", "{_*,x}/**"]);
        let dry = inputs(&[("dry_run", "TRUE")]).update().unwrap();
        assert!(dry.dry_run && !dry.publish);
        assert!(inputs(&[("dry_run", "yes")]).update().is_err());
    }

    #[test]
    fn status_environments_parse_lines_and_semicolons() {
        let s = inputs(&[(
            "environments",
            "dev={*dev*}/**\nstage=stage/**; prod=prod/**",
        )])
        .status()
        .unwrap();
        assert_eq!(s.envs.len(), 3);
        assert!(inputs(&[("environments", "not a name")]).status().is_err());
        // A bare name is an environment of the config file.
        let named = inputs(&[("environments", "dev\nprod")]).status().unwrap();
        assert!(named.envs.iter().all(|e| e.include.is_empty()));
    }

    #[test]
    fn output_delimiter_never_occurs_in_the_value() {
        let line = output_line("spec", "a\nb");
        let (head, rest) = line.split_once('\n').unwrap();
        let delimiter = head.strip_prefix("spec<<").unwrap();
        assert_eq!(rest, format!("a\nb\n{delimiter}\n"));
        let tricky = format!("x {delimiter} y");
        assert!(!output_line("spec", &tricky).starts_with(&format!("spec<<{delimiter}\n")));
    }

    #[test]
    fn every_declared_input_is_read() {
        // Each input name must appear in this file's code outside the INPUTS list.
        let source = include_str!("action.rs");
        let code = source.split("pub const OUTPUTS").nth(1).unwrap_or_default();
        for name in INPUTS {
            assert!(
                code.contains(&format!("\"{name}\"")),
                "input {name} is not handled"
            );
        }
    }
}
