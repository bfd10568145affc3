//! The pipeline under swarm configurations (option kinds switched off per input).
#![no_main]
libfuzzer_sys::fuzz_target!(|input: vnuma_fuzz::swarm::Input| vnuma_fuzz::swarm::check(&input));
