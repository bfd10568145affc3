//! Machine models, CPU topology and NUMA resolution (work in progress).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
extern crate alloc;

pub mod cpu;
