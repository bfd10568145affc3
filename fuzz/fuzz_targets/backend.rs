//! Small host memory backends with arbitrary properties.
#![no_main]
libfuzzer_sys::fuzz_target!(|input: vnuma_fuzz::backend::Input| vnuma_fuzz::backend::check(&input));
