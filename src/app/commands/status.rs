//! `baton status`: the versions of every dependency across the environments, and whether a
//! promotion is pending.

use super::Annotate;
use crate::app::cli::StatusArgs;
use crate::app::config::{CONFIG_FILES, Config};
use crate::app::console::Console;
use crate::exit::{self, InvalidInput};
use crate::output::Format;
use crate::promote::status::{self, EnvSpec, StatusRequest};
use std::io::Write;
use std::path::Path;

/// The config file looked for in the working directory when no `--env` is given.
pub const CONFIG_FILE: &str = "baton.toml";

/// The request `baton status`'s flags describe.
pub fn request(args: &StatusArgs) -> anyhow::Result<StatusRequest> {
    Ok(StatusRequest {
        working_dir: args.working_dir.clone(),
        environments: env_specs(args)?,
        exclude_dirs: args.exclude_dirs.clone(),
    })
}

/// Runs `baton status`.
pub fn run(args: &StatusArgs) -> anyhow::Result<u8> {
    let matrix = status::run(&request(args)?, &Annotate)?;
    render(
        &matrix,
        args.format,
        Console::for_stdout(),
        &mut std::io::stdout().lock(),
    )?;
    if Console::detect().under_actions() {
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

/// Prints the matrix in `format` through `console`.
pub fn render(
    matrix: &status::StatusMatrix,
    format: Format,
    console: Console,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => console.write_json(out, &matrix.to_json()),
        Format::Text => console.write_text(out, &matrix.to_text()),
        Format::Markdown => console.write_text(out, &matrix.to_markdown()),
    }
}

/// The environments: from `--env` (`NAME=GLOB`, or a `NAME` of the config file), else every
/// environment of the config file.
fn env_specs(args: &StatusArgs) -> anyhow::Result<Vec<EnvSpec>> {
    let by_name = args.envs.iter().any(|e| e.include.is_empty());
    if !args.envs.is_empty() && !by_name {
        if let Some(config) = &args.config {
            return Err(InvalidInput(format!(
                "--env and --config {} both name the environments; use one",
                config.display()
            ))
            .into());
        }
        return Ok(args.envs.clone());
    }
    let config = Config::find(&args.working_dir, args.config.as_deref())?.ok_or_else(|| {
        InvalidInput(format!(
            "no environments: pass --env NAME=GLOB (in promotion order), or write {} (`baton init` does)",
            CONFIG_FILES
                .iter()
                .map(|f| args.working_dir.join(f).display().to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        ))
    })?;
    if args.envs.is_empty() {
        return Ok(config.env_specs());
    }
    args.envs
        .iter()
        .map(|e| {
            if e.include.is_empty() {
                Ok(config.environment(&e.name)?.env_spec())
            } else {
                Ok(e.clone())
            }
        })
        .collect()
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}
