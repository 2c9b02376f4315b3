//! Exit codes. Each has one meaning, so workflows can branch on them.

/// The command did what was asked (including "nothing to do").
pub const OK: u8 = 0;
/// The command ran and found what `--fail-on-*` asked to fail on (e.g. drift between environments).
pub const FINDINGS: u8 = 1;
/// The input was invalid: a flag, a glob, a missing directory, a spec. Nothing was changed.
pub const INVALID_INPUT: u8 = 2;
/// An operation failed: git, the GitHub API, a registry, the file system.
pub const FAILURE: u8 = 3;

/// The input was invalid: exit code 2, nothing changed. Any stage may return it; the front ends
/// turn it into [`INVALID_INPUT`].
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidInput(pub String);
