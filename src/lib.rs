//! Baton rolls Terraform, OpenTofu and Terragrunt module upgrades through environment folders
//! (dev → stage → prod), one pull request per environment.
//!
//! The modules read as the pipeline: [`env`] and [`scan`] find usages (with [`hcl`] and
//! [`source`]), [`version`] computes targets, [`output`] renders results, and [`cli`] with
//! [`commands`] is the application around them.

pub mod action;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod edit;
pub mod env;
pub mod exit;
pub mod git;
pub mod github;
pub mod hcl;
pub mod output;
pub mod promote;
pub mod publish;
pub mod registry;
pub mod resolve;
pub mod scan;
pub mod source;
pub mod spec;
pub mod status;
pub mod update;
pub mod version;
