//! `hcl::find` + `edit::apply_verified` on any text: every managed version edited to another
//! valid version re-parses to the same tree except that version, and edits back exactly.
#![no_main]

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 3] = ["main.tf", "terragrunt.hcl", "terragrunt.stack.hcl"];

fuzz_target!(|data: &[u8]| {
    let [kind, major, minor, patch, pre, rest @ ..] = data else {
        return;
    };
    let name = NAMES[usize::from(*kind) % NAMES.len()];
    let mut target = baton::version::Version::new(
        u64::from(*major % 16),
        u64::from(*minor % 32),
        u64::from(*patch % 32),
    );
    if pre % 8 == 1 {
        target.pre = semver::Prerelease::new("rc.1").expect("valid");
    }
    let text = String::from_utf8_lossy(rest);
    if let Err(e) = baton_fuzz::checks::check_edit(name, &text, &target) {
        panic!("{e}");
    }
});
