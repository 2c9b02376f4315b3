//! Integration tests: the `baton` binary run over fixture trees and local stand-ins, as a user
//! would run it.

mod action;
mod common;
mod demo;
mod fake_github;
mod gitrepo;
mod promote;
mod report;
mod scan;
mod status;
mod update;
