//! Finding usages: which folders form an environment ([`env`]), the module sources written in its
//! HCL files ([`hcl`], [`source`]), and the parallel walk that turns them into usages ([`scan`]).
//!
//! Pure reading of the working tree: no network, no processes.

pub mod env;
pub mod hcl;
pub mod scan;
pub mod source;
