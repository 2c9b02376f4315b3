//! Integration tests: the `baton` binary run over fixture trees and local stand-ins, as a user
//! would run it.

mod action;
mod action_files;
mod common;
mod demo;
mod fake_github;
mod gates;
mod gitrepo;
mod history;
mod layout;
mod promote;
mod reliability;
mod report;
mod scan;
mod status;
mod update;
