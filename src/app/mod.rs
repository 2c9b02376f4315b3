//! The application: the command line ([`cli`]) and the GitHub Action ([`action`]), two front ends
//! over the stages' entry points; one thin file per command ([`commands`]) holds its flags, turns
//! them into a request and renders the result; the flags several commands share are in [`args`];
//! everything printed goes out through the [`console`]; and the offline [`demo`].

pub mod action;
pub mod args;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod demo;
pub mod derive;
pub mod fleet;
pub mod init;
