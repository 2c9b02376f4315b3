//! Integration tests: the `baton` binary run over fixture trees and local stand-ins, as a user
//! would run it.

mod action;
mod action_files;
mod budget;
mod common;
mod config;
mod contract;
mod contract_files;
mod demo;
mod docs;
mod downloads;
mod events;
mod expressions;
mod fake_github;
mod fleet;
mod gates;
mod gitrepo;
mod groups;
mod history;
mod hostile_server;
mod hostile_text;
mod impact;
mod init;
mod layout;
mod messages;
mod never;
mod patcher;
mod promote;
mod promotion_impact;
mod registry_impact;
mod reliability;
mod report;
mod runner;
mod scan;
mod status;
mod update;
