//! The `config` target: see `hookgate_fuzz::targets::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookgate_fuzz::targets::config(data));
