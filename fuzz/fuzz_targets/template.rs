//! The `template` target: see `hookgate_fuzz::targets::template`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookgate_fuzz::targets::template(data));
