//! The `body_pointer` target: see `hookgate_fuzz::targets::body_pointer`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookgate_fuzz::targets::body_pointer(data));
