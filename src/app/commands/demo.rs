//! `baton demo`: the promotion chain in a local sandbox, with a transcript.

use crate::app::cli::DemoArgs;
use crate::app::console::Console;
use crate::app::demo::{self, DemoRequest};
use crate::exit;

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
