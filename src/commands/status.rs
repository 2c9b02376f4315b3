//! `baton status`: the versions of every dependency across the environments, and whether a
//! promotion is pending.

use crate::cli::{InvalidInput, StatusArgs};
use crate::exit;
use crate::output::{self, Format};
use crate::scan::{self, ScanReport, ScanRequest};
use crate::status::{self, EnvSpec, Environment};
use std::io::Write as _;
use std::path::Path;

/// The config file looked for in the working directory when no `--env` is given.
pub const CONFIG_FILE: &str = "baton.toml";

/// Runs `baton status`.
pub fn run(args: &StatusArgs) -> anyhow::Result<u8> {
    let specs = env_specs(args)?;
    let envs = specs
        .iter()
        .map(|spec| Environment::new(spec, &args.exclude_dirs))
        .collect::<Result<Vec<_>, _>>()?;
    let mut reports: Vec<(String, ScanReport)> = Vec::with_capacity(envs.len());
    for env in envs {
        let request = ScanRequest {
            working_dir: args.working_dir.clone(),
            dirs: env.dirs,
        };
        let report = scan::scan(&request)?;
        warn_scan_problems(&env.name, &report, &request);
        reports.push((env.name, report));
    }
    for (file, names) in status::overlaps(&reports) {
        log::warn!(
            "{file} belongs to several environments ({}); its versions count in each",
            names.join(", ")
        );
    }
    let matrix = status::matrix(&reports);
    let text = match args.format {
        Format::Json => matrix.to_json(),
        Format::Text => matrix.to_text(),
        Format::Markdown => matrix.to_markdown(),
    };
    std::io::stdout().write_all(text.as_bytes())?;
    if output::under_actions() {
        if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
            // The results are already out: a summary that cannot be written is worth a warning only.
            if let Err(e) = append(Path::new(&path), &matrix.to_markdown()) {
                log::warn!("cannot write the step summary {}: {e}", path.display());
            }
        }
    }
    if args.fail_on_drift && matrix.has_drift() {
        Ok(exit::FINDINGS)
    } else {
        Ok(exit::OK)
    }
}

/// The environments: from `--env`, else from the config file.
fn env_specs(args: &StatusArgs) -> anyhow::Result<Vec<EnvSpec>> {
    let specs = if !args.envs.is_empty() {
        if let Some(config) = &args.config {
            return Err(InvalidInput(format!(
                "--env and --config {} both name the environments; use one",
                config.display()
            ))
            .into());
        }
        args.envs.clone()
    } else {
        let (path, explicit) = match &args.config {
            Some(path) => (path.clone(), true),
            None => (args.working_dir.join(CONFIG_FILE), false),
        };
        read_config(&path, explicit)?
    };
    status::check_environments(&specs).map_err(InvalidInput)?;
    Ok(specs)
}

fn read_config(path: &Path, explicit: bool) -> anyhow::Result<Vec<EnvSpec>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Err(InvalidInput(format!(
                "no environments: pass --env NAME=GLOB (in promotion order) or write {}",
                path.display()
            ))
            .into());
        }
        Err(e) => {
            return Err(InvalidInput(format!("cannot read {}: {e}", path.display())).into());
        }
    };
    status::parse_config(&text)
        .map_err(|e| InvalidInput(format!("invalid config {}: {e}", path.display())).into())
}

/// Reports unreadable files and an environment that matched nothing.
fn warn_scan_problems(env: &str, report: &ScanReport, request: &ScanRequest) {
    for e in &report.errors {
        output::warn_file(&e.file, e.line, e.column, &e.message);
    }
    if report.files_read == 0 {
        log::warn!(
            "environment {env}: no Terraform or Terragrunt files matched {} in {}",
            request.dirs.include_globs().join(","),
            request.working_dir.display()
        );
    }
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}
