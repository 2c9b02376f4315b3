//! Integration tests: the `baton` binary run over fixture trees, as a user would run it.

mod common;
mod scan;
