//! The `verify_request` target: see `hookgate_fuzz::targets::verify_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookgate_fuzz::targets::verify_request(data));
