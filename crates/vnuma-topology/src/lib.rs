//! Machine models, CPU topology and NUMA resolution with QEMU 7.2's
//! rules, and the guest memory layout.
//!
//! The spine is [`NumaConfig`], a typed description of a guest NUMA
//! configuration that a VMM builds from its own configuration (boards
//! with MMIO gaps, several memory zones per node, sparse `u32` node ids,
//! device-only nodes, a policy for missing distances), with
//! [`NumaConfig::resolve`] as its one resolution step (see [`config`]).
//! QEMU's command line is one front end that produces such a description:
//! [`resolve`] turns a parsed command line (`vnuma_options::CommandLine`)
//! into an immutable, validated [`Topology`]: the machine model, the
//! resolved `-smp` with every possible CPU slot (x86 APIC ids included),
//! the NUMA nodes with their CPUs, memory and backends, the completed
//! distance matrix, HMAT latency/bandwidth tables and caches, and the
//! warnings QEMU would print, as data. [`layout::MemoryLayout`] then lays
//! node memory out in guest-physical address space and answers which node
//! owns an address in O(log n).
//!
//! Checks run in QEMU 7.2's order, so the first error is the one QEMU
//! reports, with its text (`Display`) and the option it names
//! ([`Error::display_qemu`]). Nothing here touches the host.
//!
//! ## Should I use this crate?
//!
//! Use it to validate and resolve a NUMA configuration: described in code
//! ([`NumaConfig`], no QEMU syntax involved) or QEMU's syntax, for QEMU's
//! `pc`/`q35` machine types or your own board
//! ([`MachineModel::generic`] with a [`machine::RamLayout`]). To also
//! allocate memory or emit ACPI tables, use the `vnuma` facade or
//! `vnuma-backend`/`vnuma-tables` directly.
//!
//! ## Example
//!
//! ```
//! use vnuma_options::CommandLine;
//! use vnuma_topology::{layout::MemoryLayout, resolve};
//!
//! let cl = CommandLine::parse([
//!     "-M", "q35", "-m", "4G", "-smp", "8,sockets=2,cores=4",
//!     "-object", "memory-backend-ram,id=m0,size=2G",
//!     "-object", "memory-backend-ram,id=m1,size=2G",
//!     "-numa", "node,nodeid=0,memdev=m0,cpus=0-3",
//!     "-numa", "node,nodeid=1,memdev=m1,cpus=4-7",
//!     "-numa", "dist,src=0,dst=1,val=21",
//! ])?;
//! let t = resolve(&cl)?;
//! assert_eq!(t.node_cpus(1).collect::<Vec<_>>(), [4, 5, 6, 7]);
//! assert_eq!(t.cpus()[4].slot.apic_id, 4);
//! assert_eq!(t.distance(0, 1), Some(21));
//!
//! // Which node owns a guest-physical address?
//! let layout = MemoryLayout::new(&t);
//! assert_eq!(layout.node_of(0x1_2000_0000), Some(1));
//!
//! // QEMU's errors, word for word:
//! let bad = CommandLine::parse(["-m", "128M", "-numa", "node", "-numa", "node"])?;
//! assert_eq!(
//!     resolve(&bad).unwrap_err().to_string(),
//!     "total memory for NUMA nodes (0x0) should equal RAM size (0x8000000)"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Fidelity and deliberate deviations
//!
//! The crate's tests hold it against QEMU 7.2's answers for 494 command
//! lines (accept/reject, message, warnings, `info numa`, every slot's node
//! and APIC id), QEMU's own NUMA test cases, and `info mtree` for the
//! memory layout. Where vnuma answers differently, it does so on purpose:
//!
//! * `-numa node,initiator=` of 128 or more: QEMU prints the error and
//!   carries on without the node (so the machine may end up without NUMA);
//!   vnuma stops with that error.
//! * `-numa cpu,node-id=` negative or 128 or more: QEMU reads outside its
//!   node array; vnuma rejects it with the undefined-node message.
//! * Only the `pc` and `q35` machine types (every version QEMU 7.2 has)
//!   and generic boards are modelled; `isapc`, `microvm` and `none` are
//!   `unsupported machine type`.
//! * QEMU under TCG refuses APIC ids of 255 and more; vnuma models KVM
//!   with x2APIC, which allows them (q35 up to 288 CPUs).
//! * The guest CPU model (`-cpu`) is read only for the address space:
//!   40 physical address bits unless `phys-bits=` (QEMU under TCG), and
//!   whether the model is AMD's (`qemu64`, `max`, `EPYC*`, `Opteron*`,
//!   `phenom`, `athlon`, or `vendor=AuthenticAMD`), which moves RAM above
//!   4 GiB to 1 TiB from machine type 7.1 when it would reach AMD's
//!   HyperTransport range. `-cpu host` depends on the host and is not
//!   checked; no CPU-vendor warnings.
//! * `--preconfig` and QMP `set-numa-node` sequences are applied as if
//!   given on the command line.
//! * What needs the host is never checked here. A caller can pass a
//!   [`Config::backend_check`] (the facade's `Vm::with_host_checks`, which
//!   the CLI uses, passes vnuma-backend's planning) to have each backend's
//!   host checks reported where QEMU reports them; a `thread-context`'s
//!   CPUs (`The nodes select no CPUs`) are still checked only when
//!   planning, after resolution (QEMU checks them first of all).
//! * Memory devices: JSON `-device` members are typed from their text (QEMU
//!   refuses `"node": "1"`); non-memory devices are accepted by model name
//!   only (their buses, ids and warnings are not modelled); the NVDIMM
//!   firmware-file warning of machine types before 2.2 and virtio-mem's
//!   `unplugged-inaccessible` warning are not printed.
//! * PCI expander bridges (`pxb`, `pxb-pcie`, `pxb-cxl`): QEMU 7.2 crashes
//!   when one has `numa_node`; vnuma checks it as QEMU 10.0 does (`Illegal
//!   numa node N`). A generic initiator on a device behind a `pxb`'s PCI
//!   bridge is refused: its bus number is the guest firmware's. Expander
//!   bridges given as JSON `-device`s are not read.
//!
//! With the `seed2016` feature, `Profile::Seed2016` reproduces the 2016
//! `numa.c` instead, with its own errors and warnings (the `seed` module).
//!
//! ## Features
//!
//! * `serde`: `Serialize`/`Deserialize` for the description
//!   ([`NumaConfig`] and what it holds).
//! * `seed2016`: the 2016 seed profile.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
extern crate alloc;

pub mod config;
pub mod cpu;
mod cxl;
pub mod devices;
pub mod error;
pub mod layout;
pub mod machine;
mod numa;
mod objects;
mod resolve;
#[cfg(feature = "seed2016")]
pub mod seed;
pub mod topology;
pub mod virt;

pub use config::{
    Distances, HostMemory, MemoryZone, MissingDistance, NodeConfig, NumaConfig, RamConfig,
};
pub use devices::{MemoryDeviceConfig, MemoryDeviceKind, PlacedDevice};
pub use error::{Error, ErrorKind, Warning, WarningKind};
pub use machine::{MachineModel, Target};
pub use resolve::{resolve, resolve_with, BackendCheck, Config, Profile};
pub use topology::{Cpu, Hmat, LbTable, Node, Topology};
