//! `baton init`: write the config file for the environment folders found, and the workflows
//! generated from it; `--check` fails when the workflows no longer agree with the config.

use crate::app::config::{CONFIG_FILES, Config};
use crate::app::console::Console;
use crate::app::init::{self, ActionRef, WORKFLOWS_DIR};
use crate::exit::{self, InvalidInput};
use crate::output::Format;
use clap::Args;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Flags of `baton init`.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// The repository's root.
    #[arg(
        long,
        env = "BATON_WORKING_DIR",
        default_value = ".",
        value_name = "DIR"
    )]
    pub working_dir: PathBuf,
    /// Write nothing; exit 1 when a workflow is missing or differs from what the config
    /// generates (for CI).
    #[arg(long, env = "BATON_INIT_CHECK")]
    pub check: bool,
    /// Overwrite workflows that differ from what the config generates.
    #[arg(long, env = "BATON_INIT_FORCE")]
    pub force: bool,
    /// Write nothing; say what would be written.
    #[arg(long, env = "BATON_DRY_RUN")]
    pub dry_run: bool,
    /// The action the workflows use, `owner/repo@ref`; a commit SHA is pinned with the version
    /// in a comment [default: baton-dev/baton@v<this version>].
    #[arg(long, env = "BATON_INIT_ACTION", value_name = "OWNER/REPO@REF")]
    pub action: Option<String>,
    /// Output format.
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Write only the fleet status workflow (`.github/workflows/baton-fleet.yml`): a scheduled
    /// `baton status` of many repositories, a matrix of shards; no config file is needed.
    #[arg(long, env = "BATON_INIT_FLEET")]
    pub fleet: bool,
    /// With --fleet: read the repositories of this organisation [default: the list in
    /// .github/baton-fleet.txt].
    #[arg(
        long,
        env = "BATON_INIT_FLEET_ORG",
        value_name = "ORG",
        requires = "fleet"
    )]
    pub fleet_org: Option<String>,
    /// Set up a module repository: a config listing its consumers and the notify workflow
    /// (found without the flag when there are no environment folders but Terraform files that
    /// declare variables, at the root or under `modules/`, or a config without environments).
    #[arg(long, env = "BATON_INIT_MODULE_REPOSITORY")]
    pub module_repository: bool,
}

/// The action generated workflows use: `--action`, else this version's release tag (whose
/// commit SHA the release notes give, for pinning).
fn action(args: &InitArgs) -> ActionRef {
    let version = env!("CARGO_PKG_VERSION").to_string();
    let uses = args
        .action
        .clone()
        .unwrap_or_else(|| format!("baton-dev/baton@v{version}"));
    ActionRef { uses, version }
}

/// The config file of the working directory: the one there, or `None`.
fn existing_config(wd: &Path) -> Option<PathBuf> {
    CONFIG_FILES
        .iter()
        .map(|f| wd.join(f))
        .find(|p| p.is_file())
}

/// What `baton init` did.
#[derive(Debug, serde::Serialize)]
struct Outcome {
    config: String,
    config_written: bool,
    written: Vec<String>,
    unchanged: Vec<String>,
    drift: Vec<String>,
}

/// Runs `baton init`.
pub fn run(args: &InitArgs) -> anyhow::Result<u8> {
    let wd = &args.working_dir;
    if !wd.is_dir() {
        return Err(InvalidInput(format!(
            "the working directory {} does not exist",
            wd.display()
        ))
        .into());
    }
    if args.fleet {
        return run_fleet(args);
    }
    if module_repository(args)? {
        return run_module_repository(args);
    }
    let (config_path, config_written) = config_file(args)?;
    let config = if config_written && args.dry_run {
        Config::parse(
            &init::config_text(&init::find_environments(wd)?),
            &config_path,
        )?
    } else {
        Config::load(&config_path)?
    };
    check_groups(&config, wd)?;
    let config_name = config_path
        .strip_prefix(wd)
        .unwrap_or(&config_path)
        .display()
        .to_string();
    let generated = init::workflows(&config, &config_name, &action(args));
    let dir = wd.join(WORKFLOWS_DIR);
    let drift = init::check(&dir, &generated);
    let mut outcome = Outcome {
        config: config_name,
        config_written,
        written: Vec::new(),
        unchanged: Vec::new(),
        drift: drift.iter().map(ToString::to_string).collect(),
    };
    let code = if args.check {
        if drift.is_empty() {
            exit::OK
        } else {
            exit::FINDINGS
        }
    } else {
        write_workflows(args, &dir, &generated, &mut outcome)?;
        exit::OK
    };
    render(args, &outcome)?;
    Ok(code)
}

/// Whether `init` sets up a module repository: `--module-repository`, a config without
/// environments, or (no config) no environment folders but Terraform files declaring variables.
fn module_repository(args: &InitArgs) -> anyhow::Result<bool> {
    if args.module_repository {
        return Ok(true);
    }
    let wd = &args.working_dir;
    Ok(match existing_config(wd) {
        Some(path) => !init::defines_environments(&std::fs::read_to_string(&path)?),
        None => init::find_environments(wd)?.is_empty() && init::looks_like_module_repository(wd),
    })
}

/// `init` in a module repository: the config (its consumers) and the notify workflow.
fn run_module_repository(args: &InitArgs) -> anyhow::Result<u8> {
    let wd = &args.working_dir;
    let (config_path, config_written) = match existing_config(wd) {
        Some(path) => (path, false),
        None if args.check => {
            return Err(InvalidInput(format!(
                "--check compares the workflows with the config, and {} has no {}; run `baton init` first",
                wd.display(),
                CONFIG_FILES.join(" or ")
            ))
            .into());
        }
        None => {
            let path = wd.join(CONFIG_FILES[0]);
            if !args.dry_run {
                std::fs::create_dir_all(path.parent().unwrap_or(wd))?;
                std::fs::write(&path, init::module_config_text())?;
            }
            (path, true)
        }
    };
    // The consumers listed must read (a typo is said now, not at the first release).
    if !(config_written && args.dry_run) {
        crate::app::config::consumers(wd, Some(&config_path))?;
    }
    log::info!("a module repository: writing the notify workflow");
    let config_name = config_path
        .strip_prefix(wd)
        .unwrap_or(&config_path)
        .display()
        .to_string();
    let generated = vec![(
        init::NOTIFY_WORKFLOW.to_string(),
        init::notify_workflow(&config_name, &action(args)),
    )];
    let dir = wd.join(WORKFLOWS_DIR);
    let drift = init::check(&dir, &generated);
    let mut outcome = Outcome {
        config: config_name,
        config_written,
        written: Vec::new(),
        unchanged: Vec::new(),
        drift: drift.iter().map(ToString::to_string).collect(),
    };
    let code = match (args.check, drift.is_empty()) {
        (true, true) => exit::OK,
        (true, false) => exit::FINDINGS,
        (false, _) => {
            write_workflows(args, &dir, &generated, &mut outcome)?;
            exit::OK
        }
    };
    render(args, &outcome)?;
    Ok(code)
}

/// Refuses groups that share a dependency the environments use (overlaps the globs alone do not
/// reveal): each environment's folders are scanned, locally.
fn check_groups(config: &Config, wd: &Path) -> anyhow::Result<()> {
    if config.groups.len() < 2 {
        return Ok(());
    }
    for env in &config.environments {
        let report = crate::find::scan::scan(&env.scan_request(wd)?)?;
        crate::spec::group::check_overlap(&config.groups, &report)?;
    }
    Ok(())
}

/// `baton init --fleet`: the fleet status workflow only.
fn run_fleet(args: &InitArgs) -> anyhow::Result<u8> {
    if let Some(org) = args.fleet_org.as_deref() {
        if !crate::clients::github::plain_name(org) {
            return Err(
                InvalidInput(format!("--fleet-org {org:?} is not an organisation name")).into(),
            );
        }
    }
    let generated = vec![(
        init::FLEET_WORKFLOW.to_string(),
        init::fleet_workflow(args.fleet_org.as_deref(), &action(args)),
    )];
    let dir = args.working_dir.join(WORKFLOWS_DIR);
    // Only the fleet workflow is compared: the others belong to the config.
    let drift: Vec<init::Drift> = init::check(&dir, &generated)
        .into_iter()
        .filter(|d| !matches!(d, init::Drift::Stale(_)))
        .collect();
    let mut outcome = Outcome {
        config: String::new(),
        config_written: false,
        written: Vec::new(),
        unchanged: Vec::new(),
        drift: drift.iter().map(ToString::to_string).collect(),
    };
    let code = if args.check {
        if drift.is_empty() {
            exit::OK
        } else {
            exit::FINDINGS
        }
    } else {
        write_workflows(args, &dir, &generated, &mut outcome)?;
        exit::OK
    };
    render(args, &outcome)?;
    Ok(code)
}

/// The config file to generate the workflows from, and whether it is new: the one of the working
/// directory, else (not with `--check`) one written for the environment folders found there.
fn config_file(args: &InitArgs) -> anyhow::Result<(PathBuf, bool)> {
    let wd = &args.working_dir;
    match existing_config(wd) {
        Some(path) => Ok((path, false)),
        None if args.check => Err(InvalidInput(format!(
            "--check compares the workflows with the config, and {} has no {}; run `baton init` first",
            wd.display(),
            CONFIG_FILES.join(" or ")
        ))
        .into()),
        None => Ok((write_config(args)?, true)),
    }
}

/// Writes the config file for the environment folders found (not on a dry run), after reading
/// it back; returns its path.
fn write_config(args: &InitArgs) -> anyhow::Result<PathBuf> {
    let wd = &args.working_dir;
    let envs = init::find_environments(wd)?;
    if envs.is_empty() {
        return Err(InvalidInput(format!(
            "no environment folders in {} (such as dev, gruntwork-dev-account1, acme-stage-1, prod); write {} by hand (see schema/baton.schema.json)",
            wd.display(),
            CONFIG_FILES[0]
        ))
        .into());
    }
    for (name, folders) in &envs {
        log::info!("environment {name}: {}", folders.join(", "));
    }
    let path = wd.join(CONFIG_FILES[0]);
    let text = init::config_text(&envs);
    // What is written must read back.
    Config::parse(&text, &path)?;
    if !args.dry_run {
        std::fs::create_dir_all(path.parent().unwrap_or(wd))?;
        std::fs::write(&path, &text)?;
    }
    Ok(path)
}

/// Writes the generated workflows that are missing or differ (not on a dry run), refusing to
/// overwrite ones edited by hand without `--force`, and records each as written or unchanged.
fn write_workflows(
    args: &InitArgs,
    dir: &Path,
    generated: &[(String, String)],
    outcome: &mut Outcome,
) -> anyhow::Result<()> {
    let changed: Vec<&(String, String)> = generated
        .iter()
        .filter(|(name, text)| {
            std::fs::read_to_string(dir.join(name)).ok().as_deref() != Some(text)
        })
        .collect();
    let hand_edited: Vec<String> = changed
        .iter()
        .filter(|(name, _)| dir.join(name).exists())
        .map(|(name, _)| format!("{WORKFLOWS_DIR}/{name}"))
        .collect();
    if !hand_edited.is_empty() && !args.force {
        return Err(InvalidInput(format!(
            "{} already exist and differ from what the config generates; --force overwrites them",
            hand_edited.join(", ")
        ))
        .into());
    }
    if !args.dry_run {
        std::fs::create_dir_all(dir)?;
    }
    for (name, text) in generated {
        let shown = format!("{WORKFLOWS_DIR}/{name}");
        if changed.iter().any(|(n, _)| n == name) {
            if !args.dry_run {
                std::fs::write(dir.join(name), text)?;
            }
            outcome.written.push(shown);
        } else {
            outcome.unchanged.push(shown);
        }
    }
    outcome.drift.clear();
    Ok(())
}

/// Prints the outcome in `--format`.
fn render(args: &InitArgs, outcome: &Outcome) -> anyhow::Result<()> {
    // Folder names come from the repository: printed through the console like every result.
    let console = Console::for_stdout();
    let stdout = &mut std::io::stdout().lock();
    match args.format {
        Format::Json => console.write_json(stdout, &serde_json::to_string_pretty(outcome)?)?,
        Format::Text | Format::Markdown => console.write_text(stdout, &text(args, outcome)?)?,
    }
    Ok(())
}

/// The outcome as text, or as markdown: whether the workflows agree with the config (with
/// `--check`), else what was (or would be) written and what was left unchanged.
fn text(args: &InitArgs, outcome: &Outcome) -> Result<String, std::fmt::Error> {
    let mut out = String::new();
    let md = args.format == Format::Markdown;
    let item = |s: &str| {
        if md {
            format!("- {}", crate::output::code(s))
        } else {
            format!("  {s}")
        }
    };
    if args.check {
        if outcome.drift.is_empty() {
            writeln!(out, "the workflows agree with {}", outcome.config)?;
        } else {
            writeln!(
                out,
                "the workflows disagree with {} (run `baton init --force`):",
                outcome.config
            )?;
            for d in &outcome.drift {
                writeln!(out, "{}", item(d))?;
            }
        }
    } else {
        let verb = if args.dry_run { "would write" } else { "wrote" };
        if outcome.config_written {
            writeln!(out, "{verb} {}", outcome.config)?;
        } else {
            writeln!(out, "kept {}", outcome.config)?;
        }
        for w in &outcome.written {
            writeln!(out, "{}", item(&format!("{verb} {w}")))?;
        }
        for w in &outcome.unchanged {
            writeln!(out, "{}", item(&format!("unchanged {w}")))?;
        }
    }
    Ok(out)
}
