//! Machine models, CPU topology and NUMA resolution with QEMU 7.2's rules.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
extern crate alloc;

pub mod cpu;
pub mod error;
pub mod layout;
pub mod machine;
mod numa;
mod resolve;
mod seed;
pub mod topology;

pub use error::{Error, ErrorKind, Warning, WarningKind};
pub use machine::MachineModel;
pub use resolve::{resolve, resolve_with, Config, Profile};
pub use topology::{Cpu, Hmat, LbTable, Node, Topology};
