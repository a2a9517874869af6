//! The `provider_file` target: see `hookgate_fuzz::targets::provider_file`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| hookgate_fuzz::targets::provider_file(data));
