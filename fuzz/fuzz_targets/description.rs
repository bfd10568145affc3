//! A typed NUMA description through resolution, layout, tables and FDT.
#![no_main]
libfuzzer_sys::fuzz_target!(
    |input: vnuma_fuzz::description::Input| vnuma_fuzz::description::check(&input)
);
