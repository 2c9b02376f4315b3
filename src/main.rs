//! The `baton` binary: the command line of [`baton::app::cli`], nothing more.

use std::process::ExitCode;

/// The scan parses thousands of files on every thread: mimalloc is markedly faster than the
/// system allocators for that (see docs/src/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    baton::app::cli::main()
}
