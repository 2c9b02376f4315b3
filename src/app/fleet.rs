//! `baton status --repos FILE | --org ORG`: fleet status, the versions and pending promotions of
//! many repositories read through the GitHub API; `--shard-size` lists them as a workflow matrix
//! and `--merge` renders the shards' JSON as one report. The flags live here, flattened into
//! `status`'s, and the action takes the same through its inputs.

use crate::app::args::GitHubArgs;
use crate::app::commands::Annotate;
use crate::app::config::Config;
use crate::app::console::Console;
use crate::clients::Session;
use crate::exit::{self, InvalidInput};
use crate::output::Format;
use crate::promote::fleet::{self, FleetRequest, RepoList};
use crate::promote::fleet_model::{FleetEnv, FleetReport};
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The flags of fleet status.
#[derive(Debug, Clone, Args)]
pub struct FleetArgs {
    /// Fleet status of the repositories listed in FILE, one `owner/name` per line (`#` starts a
    /// comment; `-`: standard input), read through the GitHub API without cloning.
    #[arg(long, env = "BATON_REPOS", value_name = "FILE", conflicts_with = "org")]
    pub repos: Option<PathBuf>,
    /// Fleet status of the repositories of this organisation (archived repositories and forks
    /// left out).
    #[arg(long, env = "BATON_ORG", value_name = "ORG")]
    pub org: Option<String>,
    /// With --org: only the repositories with this topic (repeat, or separate with commas, for
    /// any of several).
    #[arg(
        long,
        env = "BATON_TOPIC",
        value_name = "TOPIC",
        value_delimiter = ',',
        requires = "org"
    )]
    pub topic: Vec<String>,
    /// With --org: also archived repositories and forks.
    #[arg(long, env = "BATON_INCLUDE_ARCHIVED", requires = "org")]
    pub include_archived: bool,
    /// An update pull request open longer than this is stuck (`7d`, `36h`).
    #[arg(long, env = "BATON_STUCK_AFTER", value_name = "DURATION", value_parser = crate::clock::parse_duration, default_value = "7d")]
    pub stuck_after: Duration,
    /// Exit with code 1 when an update pull request is stuck (open longer than --stuck-after)
    /// or held by a gate.
    #[arg(long, env = "BATON_FAIL_ON_STUCK")]
    pub fail_on_stuck: bool,
    /// Print the repositories of --repos or --org as a workflow matrix of shards of N
    /// repositories (JSON: `{"include":[{"shard":1,"repositories":"…"}]}`) and stop.
    #[arg(long, env = "BATON_SHARD_SIZE", value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub shard_size: Option<u32>,
    /// Render these fleet status JSON files (the shards of one run) as one report, reading
    /// nothing from GitHub.
    #[arg(long, env = "BATON_MERGE", value_name = "FILE", value_delimiter = ',', conflicts_with_all = ["repos", "org"])]
    pub merge: Vec<PathBuf>,
    /// How to reach GitHub.
    #[command(flatten)]
    pub github: GitHubArgs,
    /// The repositories named directly (the action's `fleet_repositories`).
    #[arg(skip)]
    pub repositories: Vec<String>,
}

impl FleetArgs {
    /// Whether these flags ask for fleet status rather than the status of the working directory.
    pub fn active(&self) -> bool {
        self.repos.is_some()
            || self.org.is_some()
            || !self.merge.is_empty()
            || !self.repositories.is_empty()
    }
}

/// A repository's config file as fleet status reads it.
pub fn read_config(text: &str, path: &str) -> Result<Vec<FleetEnv>, String> {
    let config = Config::parse(text, Path::new(path)).map_err(|e| e.0)?;
    Ok(config
        .environments
        .iter()
        .map(|e| FleetEnv {
            name: e.name.clone(),
            include: e.include.clone(),
            exclude: e.exclude.clone(),
            branch_prefix: e.branch_prefix.clone(),
            labels: e.labels.clone(),
            min_soak: e.gates.min_soak,
            required_checks: e.gates.require_checks.clone(),
            require_approvals: e.gates.require_approvals.unwrap_or(0),
        })
        .collect())
}

/// Environments from top-level folder names, as `baton init` finds them.
pub fn derive(top_folders: &[String]) -> Vec<(String, String)> {
    crate::app::init::group_folders(top_folders)
        .into_iter()
        .map(|(name, folders)| (name, crate::app::init::include_glob(&folders)))
        .collect()
}

/// The repositories the flags name.
pub fn repo_list(args: &FleetArgs) -> anyhow::Result<RepoList> {
    if let Some(org) = &args.org {
        return Ok(RepoList::Org {
            org: org.trim().to_string(),
            topics: args
                .topic
                .iter()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty())
                .collect(),
            include_archived: args.include_archived,
        });
    }
    if !args.repositories.is_empty() {
        let text = args.repositories.join("\n");
        return Ok(RepoList::Listed(fleet::parse_list(
            &text,
            "fleet_repositories",
        )?));
    }
    let path = args
        .repos
        .as_deref()
        .ok_or_else(|| InvalidInput("name the repositories: --repos FILE or --org ORG".into()))?;
    let text = if path == Path::new("-") {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| InvalidInput(format!("cannot read the list {}: {e}", path.display())))?;
    Ok(RepoList::Listed(fleet::parse_list(
        &text,
        &path.display().to_string(),
    )?))
}

/// What fleet status takes from `status`'s own flags.
#[derive(Debug, Clone, Default)]
pub struct Common {
    /// The output format.
    pub format: Format,
    /// Exit with 1 when a promotion is pending.
    pub fail_on_drift: bool,
    /// Folders left out of every environment.
    pub exclude_dirs: Vec<String>,
    /// Only this dependency.
    pub dependency: Option<String>,
}

/// The fleet report the flags ask for: merged from files, or read from GitHub.
pub fn report(args: &FleetArgs, common: &Common) -> anyhow::Result<FleetReport> {
    if !args.merge.is_empty() {
        let mut parts = Vec::new();
        for path in &args.merge {
            let text = std::fs::read_to_string(path)
                .map_err(|e| InvalidInput(format!("cannot read {}: {e}", path.display())))?;
            let part: FleetReport = serde_json::from_str(&text).map_err(|e| {
                InvalidInput(format!(
                    "{} is not a fleet status JSON file ({e}); write it with `baton status --repos … --format json`",
                    path.display()
                ))
            })?;
            parts.push(part);
        }
        return Ok(FleetReport::merge(parts));
    }
    let request = FleetRequest {
        repos: repo_list(args)?,
        clients: args.github.settings()?,
        stuck_after: args.stuck_after,
        now: crate::app::commands::now()?,
        read_config,
        derive,
        exclude_dirs: common.exclude_dirs.clone(),
        dependency: common.dependency.clone().filter(|d| !d.is_empty()),
    };
    fleet::run(&request, &Annotate)
}

/// The shards' matrix of the flags' list.
pub fn shard_matrix(args: &FleetArgs, size: u32) -> anyhow::Result<serde_json::Value> {
    let repos = repo_list(args)?;
    let session = Session::new(&args.github.settings()?)?;
    let (targets, _) = fleet::list(&session, &repos)?;
    let names: Vec<String> = targets.into_iter().map(|(n, _)| n).collect();
    Ok(fleet::shards(&names, size as usize))
}

/// The exit code of a fleet report: 3 when no repository could be read, 1 for what a
/// `--fail-on-…` flag asks to fail on, else 0.
pub fn exit_code(report: &FleetReport, fail_on_stuck: bool, fail_on_drift: bool) -> u8 {
    let n = report.repositories.len();
    if n > 0 && report.unreachable().len() == n {
        exit::FAILURE
    } else if (fail_on_stuck && (!report.stuck().is_empty() || !report.held().is_empty()))
        || (fail_on_drift && report.has_pending())
    {
        exit::FINDINGS
    } else {
        exit::OK
    }
}

/// Runs fleet status.
pub fn run(args: &FleetArgs, common: &Common) -> anyhow::Result<u8> {
    if let Some(size) = args.shard_size {
        if !args.merge.is_empty() {
            return Err(
                InvalidInput("--shard-size lists repositories; it does not merge".into()).into(),
            );
        }
        let matrix = shard_matrix(args, size)?;
        let console = Console::for_stdout();
        console.write_json(&mut std::io::stdout().lock(), &format!("{matrix}\n"))?;
        return Ok(exit::OK);
    }
    let report = report(args, common)?;
    let console = Console::for_stdout();
    let out = &mut std::io::stdout().lock();
    match common.format {
        Format::Json => console.write_json(out, &report.to_json())?,
        Format::Text => console.write_text(out, &report.to_text())?,
        Format::Markdown => console.write_text(out, &report.to_markdown())?,
    }
    if Console::detect().under_actions() {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            let appended = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .and_then(|mut f| f.write_all(format!("{}\n", report.to_markdown()).as_bytes()));
            if let Err(e) = appended {
                log::warn!(
                    "cannot write the step summary {}: {e}",
                    Path::new(&path).display()
                );
            }
        }
    }
    Ok(exit_code(&report, args.fail_on_stuck, common.fail_on_drift))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promote::fleet_model::{RepoStatus, UpdatePull};

    fn pull(stuck: bool, held: &[&str]) -> UpdatePull {
        UpdatePull {
            number: 1,
            url: "https://github.com/acme/live/pull/1".into(),
            title: "t".into(),
            environment: "stage".into(),
            dependency: None,
            opened_at: "2026-11-01T00:00:00Z".into(),
            open_for_secs: 0,
            stuck,
            held: held.iter().map(|h| h.to_string()).collect(),
        }
    }

    fn report(repos: Vec<RepoStatus>) -> FleetReport {
        FleetReport {
            stuck_after_secs: 604_800,
            repositories: repos,
            skipped: vec![],
        }
    }

    #[test]
    fn exit_codes_keep_their_meaning() {
        let mut ok = RepoStatus::read("acme/a", "folder names (dev)".into());
        let gone = RepoStatus::unreachable("acme/b", "404");
        assert_eq!(
            exit_code(&report(vec![ok.clone(), gone.clone()]), true, true),
            exit::OK
        );
        assert_eq!(
            exit_code(&report(vec![gone.clone()]), false, false),
            exit::FAILURE
        );
        assert_eq!(exit_code(&report(vec![]), true, true), exit::OK);
        ok.pulls.push(pull(true, &[]));
        assert_eq!(exit_code(&report(vec![ok.clone()]), false, false), exit::OK);
        assert_eq!(
            exit_code(&report(vec![ok.clone()]), true, false),
            exit::FINDINGS
        );
        ok.pulls = vec![pull(false, &["checks: plan concluded failure"])];
        assert_eq!(exit_code(&report(vec![ok]), true, false), exit::FINDINGS);
    }

    #[test]
    fn config_files_give_each_environment_its_gates_and_branches() {
        let envs = read_config(
            "[[environments]]\nname = \"dev\"\ninclude = [\"dev/**\"]\n\n[[environments]]\nname = \"prod\"\ninclude = [\"prod/**\"]\n[environments.gates]\nrequire_approvals = 2\nmin_soak = \"2d\"\n",
            ".github/baton.toml",
        )
        .unwrap();
        assert_eq!(envs[0].branch_prefix, "baton-dev-updates-");
        assert_eq!(envs[1].require_approvals, 2);
        assert_eq!(envs[1].min_soak, Some(Duration::from_secs(2 * 86_400)));
        assert!(
            read_config("nonsense = 1\n", "baton.toml")
                .unwrap_err()
                .contains("baton.toml")
        );
        assert_eq!(
            derive(&["gruntwork-dev-1".into(), "prod".into(), "modules".into()]),
            [
                ("dev".to_string(), "gruntwork-dev-1/**".to_string()),
                ("prod".to_string(), "prod/**".to_string())
            ]
        );
    }
}
