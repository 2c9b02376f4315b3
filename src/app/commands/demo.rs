//! `baton demo`: the promotion chain in a local sandbox, with a transcript.

use crate::app::console::Console;
use crate::app::demo::{self, DemoRequest};
use crate::exit;
use clap::Args;
use std::path::PathBuf;

/// Flags of `baton demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Build the sandbox in this directory and keep it (default: a temporary directory, removed
    /// at the end).
    #[arg(long, env = "BATON_DEMO_DIR", value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// Runs `baton demo`.
pub fn run(args: &DemoArgs) -> anyhow::Result<u8> {
    let request = DemoRequest {
        dir: args.dir.clone(),
    };
    let console = Console::for_stdout();
    let mut stdout = std::io::stdout().lock();
    if console.under_actions() {
        // The transcript quotes tables and diffs: printed whole, through the console.
        let mut transcript = Vec::new();
        let result = demo::run(&request, &mut transcript);
        console.write_text(&mut stdout, &String::from_utf8_lossy(&transcript))?;
        result?;
    } else {
        demo::run(&request, &mut stdout)?;
    }
    Ok(exit::OK)
}
