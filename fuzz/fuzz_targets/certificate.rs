//! The `certificate` target: see `hookgate_fuzz::targets::certificate`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookgate_fuzz::targets::certificate(data));
