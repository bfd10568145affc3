//! QEMU's guest-NUMA option syntax as typed Rust values.
//!
//! `vnuma-options` reads the command-line options a NUMA configuration is
//! made of, exactly as QEMU 7.2 reads them (or QEMU 10.0, see [`Syntax`]),
//! and prints them back:
//!
//! | option | type |
//! | --- | --- |
//! | `-numa node\|dist\|cpu\|hmat-lb\|hmat-cache` | [`NumaOptions`] |
//! | `-object memory-backend-ram\|file\|memfd` | [`MemoryBackendOptions`] (in [`ObjectOptions`]) |
//! | `-machine`/`-M`, `-smp`, `-m` | [`MachineOptions`], [`SmpOptions`], [`MemoryOptions`] |
//! | a whole argv | [`CommandLine`] |
//!
//! Every type implements `FromStr` (or is built by [`CommandLine`]) and
//! `Display`, and `parse(display(x)) == x`. Errors carry QEMU's message
//! text as `Display` (so a user can search for it), the byte [`Span`] of
//! the offending text, and on a command line the option it came from
//! ([`Location`]); see [`Error`]. Warnings QEMU would print are returned
//! as data ([`Warning`]), never printed.
//!
//! ## Should I use this crate?
//!
//! Use it if your VMM wants QEMU-compatible NUMA options, or a typed,
//! validated representation of them to build by hand. It knows nothing
//! about what the values *mean*: whether node 3 exists, whether sizes add
//! up, which CPU a `socket-id` designates. That is `vnuma-topology`; the
//! `vnuma` facade runs the whole pipeline.
//!
//! ## Example
//!
//! ```
//! use vnuma_options::{CommandLine, NumaOptions, ErrorKind};
//!
//! let cl = CommandLine::parse([
//!     "-machine", "q35,hmat=on",
//!     "-m", "2G",
//!     "-object", "memory-backend-ram,id=m0,size=1G,host-nodes=0,policy=bind",
//!     "-object", "memory-backend-ram,id=m1,size=1G",
//!     "-numa", "node,nodeid=0,cpus=0-1,memdev=m0",
//!     "-numa", "node,nodeid=1,cpus=2-3,memdev=m1",
//!     "-numa", "dist,src=0,dst=1,val=21",
//! ])?;
//! cl.check()?;
//! assert_eq!(cl.machine()?.memory.size, Some(2 << 30));
//! let numa: Vec<NumaOptions> = cl.numa_options().collect::<Result<_, _>>()?;
//! assert_eq!(numa[2].to_string(), "dist,src=0,dst=1,val=21");
//!
//! // QEMU's message, and where it came from:
//! let err = "node,cpus=70000".parse::<NumaOptions>().unwrap_err();
//! assert_eq!(err.to_string(), "Parameter 'null' expects uint16_t");
//! assert!(matches!(err.kind(), ErrorKind::InvalidValue { .. }));
//! assert_eq!(&"node,cpus=70000"[err.span().range()], "70000");
//! # Ok::<(), vnuma_options::Error>(())
//! ```
//!
//! ## Fidelity
//!
//! The grammar, number and size parsing, the order members are checked in
//! and every message follow QEMU 7.2, quirks included (`nofoo` is
//! `foo=off`, so `nodeid` written as a flag is `deid=off`; a list
//! element's width error names the key `null`; `mem=` without suffix is
//! MiB; hexadecimal sizes with a suffix are accepted with a warning). The
//! crate's tests hold it against QEMU 7.2's answers for 300 command lines.
//!
//! ## Features
//!
//! * `serde`: the QMP JSON forms (`set-numa-node` arguments for
//!   [`NumaOptions`], `object-add` for [`MemoryBackendOptions`]) and the
//!   JSON `-object {...}` syntax.
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
mod qemu_json;
mod schema;
#[cfg(feature = "serde")]
mod serde_impl;
mod short;
mod visit;

use alloc::vec::Vec;
use core::fmt;

/// Which QEMU release's option syntax to read. Where the releases agree
/// (nearly everywhere) the choice changes nothing; where they differ,
/// each reads as its release does:
///
/// | | QEMU 7.2 | QEMU 10.0 |
/// | --- | --- | --- |
/// | hexadecimal size with a suffix (`0x10M`) | accepted, with a warning | `Parameter 'size' expects a size value` |
/// | size fractions (`.5K`, `1.99999999999999999999K`) | `.5K` refused, the fraction truncated | `.5K` is 512, a fraction that rounds to 1 carries |
/// | negative sizes (`-m -5`) | invalid | out of range |
/// | `-numa node,mem=` past 2^64 bytes in MiB | the byte value kept | `could not parse memory size '…': Numerical result out of range` |
/// | `memory-backend-file` `offset`, `rom` | `Invalid parameter` | properties (QEMU 8.2) |
/// | `memory-backend-shm` | `Parameter 'qom-type' does not accept value` | a backend type (QEMU 9.1) |
///
/// ```
/// use vnuma_options::{CommandLine, Syntax};
/// let argv = ["-object", "memory-backend-ram,id=m0,size=0x10M"];
/// assert!(CommandLine::parse(argv).is_ok());
/// let e = CommandLine::parse_with(argv, Syntax::Qemu100).unwrap_err();
/// assert_eq!(e.to_string(), "Parameter 'size' expects a size value");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Syntax {
    /// QEMU 7.2 (the default).
    #[default]
    Qemu72,
    /// QEMU 10.0.
    Qemu100,
}

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
    BackendKind, FileBackendOptions, GenericInitiatorOptions, GenericPortOptions, HostMemPolicy,
    MemfdBackendOptions, MemoryBackendOptions, ObjectOptions, OnOffAuto, ThreadContextOptions,
};

pub mod cmdline;
pub mod device;
mod device_models;
pub mod machine;
pub use cmdline::{CommandLine, DeviceArg, NumaArg, ObjectArg};
pub use device::{DeviceOptions, MemoryDeviceDriver, MemoryDeviceOptions};
pub use machine::{
    CxlFixedWindow, MachineArgs, MachineOptions, MachineSchema, MemoryOptions, SmpOptions,
};

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
