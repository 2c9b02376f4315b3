//! Fuzzing Baton's input parsers: see `fuzz_targets/` and `scripts/fuzz.sh`.

pub mod checks;
