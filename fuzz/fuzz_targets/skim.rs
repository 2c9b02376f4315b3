//! `hcl::find` (which blanks the top-level items that cannot hold a source before parsing) on
//! any text: it finds what a parse of the whole text finds, and blanking keeps every offset.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 3] = ["main.tf", "terragrunt.hcl", "terragrunt.stack.hcl"];

fuzz_target!(|data: &[u8]| {
    let [kind, rest @ ..] = data else {
        return;
    };
    let name = NAMES[usize::from(*kind) % NAMES.len()];
    let text = String::from_utf8_lossy(rest);
    if let Err(e) = baton_fuzz::checks::check_skim(name, &text) {
        panic!("{e}");
    }
});
