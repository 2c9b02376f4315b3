//! Temporary target (to be removed): runs tests/integration/action_files.rs alone.
#[path = "integration/action_files.rs"]
mod action_files;
