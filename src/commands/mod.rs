//! One file per command: each turns its request into results and output, nothing more.

pub mod scan;
