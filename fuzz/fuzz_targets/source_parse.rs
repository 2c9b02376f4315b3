//! `source::Source::parse` on any text: no panic, located versions exactly where they are written.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = baton_fuzz::checks::check_source(&text) {
        panic!("{e}");
    }
});
