//! The `baton` binary: the command line of [`baton::app::cli`], nothing more.

use std::process::ExitCode;

/// The scan parses thousands of files on every thread: mimalloc is markedly faster than the
/// system allocators for that. It is built without transparent huge pages (`no_thp`): asked for
/// them, the kernel zeroes 2 MiB at each first touch and again after each purge, which made the
/// system time of a large `report` several times its user time (see docs/src/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    baton::app::cli::main()
}
