//! `baton status`: the versions of every dependency across the environments, and whether a
//! promotion is pending.

use super::Annotate;
use crate::app::cli::StatusArgs;
use crate::app::console::Console;
use crate::exit;
use crate::output::Format;
use crate::promote::status::{self, StatusRequest};
use std::io::Write;
use std::path::Path;

/// The config file looked for in the working directory when no `--env` is given.
pub const CONFIG_FILE: &str = "baton.toml";

/// The request `baton status`'s flags describe.
pub fn request(args: &StatusArgs) -> anyhow::Result<StatusRequest> {
    let (environments, picked) =
        super::environments(&args.envs, args.config.as_deref(), &args.working_dir)?;
    Ok(StatusRequest {
        working_dir: args.working_dir.clone(),
        environments,
        exclude_dirs: args.exclude_dirs.clone(),
        view: crate::promote::status::StatusView {
            dependency: args.dependency.clone().filter(|d| !d.is_empty()),
            environments: picked,
            ages: args.ages,
            min_soak: args.min_soak,
            now: Some(super::now()?),
        },
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

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")
}
