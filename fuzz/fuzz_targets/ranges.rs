//! RangeMap operation sequences against a naive model.
#![no_main]
libfuzzer_sys::fuzz_target!(|ops: Vec<vnuma_fuzz::ranges::Op>| vnuma_fuzz::ranges::check(&ops));
