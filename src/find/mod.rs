//! Finding usages: which folders form an environment ([`env`]), the module sources written in its
//! HCL files ([`hcl`], [`source`]), and the parallel walk that turns them into usages ([`scan`]);
//! a module's interface ([`interface`]) and what one usage passes to it ([`callsite`]).
//!
//! Pure reading of the working tree: no network, no processes.

pub mod callsite;
pub mod env;
pub mod hcl;
pub mod interface;
pub mod memory;
pub mod scan;
pub mod source;
