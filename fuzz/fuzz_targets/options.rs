//! Arbitrary bytes and argv vectors into the option parser.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| vnuma_fuzz::options::check_bytes(data));
