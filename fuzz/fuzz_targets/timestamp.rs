//! The `timestamp` target: see `hookgate_fuzz::targets::timestamp`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookgate_fuzz::targets::timestamp(data));
