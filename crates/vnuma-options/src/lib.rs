//! QEMU's guest-NUMA option syntax as typed Rust values.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
extern crate alloc;

pub mod error;
pub mod grammar;
pub mod span;
pub mod value;

pub use error::{Error, ErrorKind, Expected, Location, Warning, WarningKind};
pub use span::Span;

pub mod numa;
#[cfg(feature = "serde")]
mod serde_impl;
mod visit;

use alloc::vec::Vec;
use core::fmt;

pub use numa::{
    HmatCacheAssociativity, HmatCacheWritePolicy, HmatLbDataType, HmatLbMemoryHierarchy,
    NumaCpuOptions, NumaDistOptions, NumaHmatCacheOptions, NumaHmatLbOptions, NumaNodeOptions,
    NumaOptions,
};

/// A parsed value and the warnings QEMU would print while parsing it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed<T> {
    /// The value.
    pub value: T,
    /// Warnings, in the order QEMU prints them.
    pub warnings: Vec<Warning>,
}

/// An inclusive range of small ids as written in a list member
/// (`cpus=0-3`, `host-nodes=1`): `first ..= last`, never reversed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdRange {
    first: u16,
    last: u16,
}

impl IdRange {
    /// The range `first ..= last`; the bounds are swapped if reversed.
    pub const fn new(first: u16, last: u16) -> Self {
        if first <= last {
            IdRange { first, last }
        } else {
            IdRange {
                first: last,
                last: first,
            }
        }
    }

    /// A single id.
    pub const fn single(id: u16) -> Self {
        IdRange {
            first: id,
            last: id,
        }
    }

    /// The first id.
    pub const fn first(self) -> u16 {
        self.first
    }

    /// The last id (inclusive).
    pub const fn last(self) -> u16 {
        self.last
    }

    /// The ids in order.
    pub fn iter(self) -> impl Iterator<Item = u16> {
        self.first..=self.last
    }

    /// How many ids.
    pub const fn len(self) -> usize {
        (self.last - self.first) as usize + 1
    }

    /// Always false: a range holds at least one id.
    pub const fn is_empty(self) -> bool {
        false
    }
}

impl fmt::Display for IdRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

pub mod object;
pub use object::{
    BackendKind, FileBackendOptions, HostMemPolicy, MemfdBackendOptions, MemoryBackendOptions,
    ObjectOptions,
};

pub mod cmdline;
pub mod machine;
pub use cmdline::{CommandLine, NumaArg, ObjectArg};
pub use machine::{MachineArgs, MachineOptions, MemoryOptions, SmpOptions};
