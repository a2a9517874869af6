//! The `form` target: see `hookgate_fuzz::targets::form`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookgate_fuzz::targets::form(data));
