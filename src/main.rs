//! The `baton` binary: the command line of [`baton::app::cli`], nothing more.

use std::process::ExitCode;

/// The scan parses thousands of files on every thread: mimalloc is markedly faster than the
/// system allocators for that. It is built without transparent huge pages (`no_thp`): asked for
/// them, the kernel zeroes 2 MiB at each first touch and again after each purge, which made the
/// system time of a large `report` several times its user time (see docs/src/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    no_huge_pages();
    baton::app::cli::main()
}

/// Transparent huge pages off for this process (and the `git` it runs), also where the host
/// gives them to every process (`always` rather than `madvise`): the same page zeroing as above.
#[cfg(target_os = "linux")]
fn no_huge_pages() {
    // SAFETY: `PR_SET_THP_DISABLE` takes integers only and sets one flag of this process; if
    // the kernel refuses it, nothing changes and the run goes on.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(not(target_os = "linux"))]
fn no_huge_pages() {}
