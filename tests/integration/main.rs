//! Integration tests: the `baton` binary run over fixture trees and local stand-ins, as a user
//! would run it.

mod common;
mod fake_github;
mod gitrepo;
mod report;
mod scan;
mod update;
