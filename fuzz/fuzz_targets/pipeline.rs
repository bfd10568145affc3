//! A structure-aware command line through parse, resolve and layout.
#![no_main]
libfuzzer_sys::fuzz_target!(
    |input: vnuma_fuzz::pipeline::Input| vnuma_fuzz::pipeline::check(&input)
);
