//! `hcl::find` on any text evaluates within its bounds: it finds the usages or reports the file
//! as "interpolation too large", never more work than the limit for the file's size.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 3] = ["main.tf", "terragrunt.hcl", "terragrunt.stack.hcl"];

fuzz_target!(|data: &[u8]| {
    let [kind, rest @ ..] = data else {
        return;
    };
    let name = NAMES[usize::from(*kind) % NAMES.len()];
    let text = String::from_utf8_lossy(rest);
    if let Err(e) = baton_fuzz::checks::check_bounded(name, &text) {
        panic!("{e}");
    }
});
