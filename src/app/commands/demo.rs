//! `baton demo`: the promotion chain in a local sandbox, with a transcript.

use crate::app::cli::DemoArgs;
use crate::app::demo::{self, DemoRequest};
use crate::exit;

/// Runs `baton demo`.
pub fn run(args: &DemoArgs) -> anyhow::Result<u8> {
    let mut stdout = std::io::stdout().lock();
    demo::run(
        &DemoRequest {
            dir: args.dir.clone(),
        },
        &mut stdout,
    )?;
    Ok(exit::OK)
}
