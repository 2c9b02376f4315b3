//! `spec::Spec::parse` + `validate` on any text: no panic, and what validates is safe to act on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// A working directory with a symlink leading out, so that path checks meet one.
fn working_dir() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("dev")).expect("mkdir");
        std::os::unix::fs::symlink("/", dir.path().join("dev/out")).expect("symlink");
        dir
    })
    .path()
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = baton_fuzz::checks::check_spec(&text, working_dir()) {
        panic!("{e}");
    }
});
