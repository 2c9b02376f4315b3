//! `baton history`: what changed each dependency's version in each environment, and when, from
//! the first-parent git history.

use super::Annotate;
use crate::app::cli::HistoryArgs;
use crate::app::console::Console;
use crate::exit;
use crate::output::Format;
use crate::promote::history::{self, HistoryReport, HistoryRequest};
use crate::promote::status::EnvSpec;
use std::io::Write;

/// The request `baton history`'s flags describe.
pub fn request(args: &HistoryArgs) -> anyhow::Result<HistoryRequest> {
    let environments = if args.include_dirs.iter().any(|g| !g.trim().is_empty()) {
        let include = crate::find::env::split_patterns(&args.include_dirs);
        vec![EnvSpec {
            name: include.join(","),
            include,
            exclude: Vec::new(),
        }]
    } else {
        let (all, picked) =
            super::environments(&args.envs, args.config.as_deref(), &args.working_dir)?;
        if picked.is_empty() {
            all
        } else {
            all.into_iter()
                .filter(|e| picked.contains(&e.name))
                .collect()
        }
    };
    Ok(HistoryRequest {
        working_dir: args.working_dir.clone(),
        environments,
        exclude_dirs: args.exclude_dirs.clone(),
        dependency: args.dependency.clone().filter(|d| !d.is_empty()),
        limit: args.limit,
        since: args.since,
    })
}

/// Prints the history in `format` through `console`.
pub fn render(
    report: &HistoryReport,
    format: Format,
    console: Console,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => console.write_json(out, &report.to_json()),
        Format::Text => console.write_text(out, &report.to_text()),
        Format::Markdown => console.write_text(out, &report.to_markdown()),
    }
}

/// Runs `baton history`.
pub fn run(args: &HistoryArgs) -> anyhow::Result<u8> {
    let report = history::run(&request(args)?, &Annotate)?;
    render(
        &report,
        args.format,
        Console::for_stdout(),
        &mut std::io::stdout().lock(),
    )?;
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
                    path.to_string_lossy()
                );
            }
        }
    }
    Ok(exit::OK)
}
