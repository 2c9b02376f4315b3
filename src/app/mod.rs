//! The application: the command line ([`cli`]) and the GitHub Action ([`action`]), two front ends
//! over the stages' entry points; one thin file per command ([`commands`]) turns flags into a
//! request and renders the result; everything printed goes out through the [`console`]; and the
//! offline [`demo`].

pub mod action;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod demo;
pub mod derive;
pub mod init;
