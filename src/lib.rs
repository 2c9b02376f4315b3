//! Baton rolls Terraform, OpenTofu and Terragrunt module upgrades through environment folders
//! (dev → stage → prod), one pull request per environment.
//!
//! The folders are the stages of the pipeline, and imports point down it:
//! [`find`] the usages of one environment → [`resolve`] their target versions (over the
//! [`clients`] for git, GitHub and registries) → the [`spec`] → [`update`] the files and publish a
//! pull request → [`promote`] what landed to the next environment. [`app`] is the command line and
//! the GitHub Action over those stages' entry points; [`version`], [`output`] and [`exit`] are
//! shared by all of them.

pub mod app;
pub mod clients;
pub mod clock;
pub mod diag;
pub mod exit;
pub mod find;
pub mod output;
pub mod promote;
pub mod resolve;
pub mod spec;
pub mod update;
pub mod version;
