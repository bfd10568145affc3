//! ACPI SRAT, SLIT and HMAT and device-tree NUMA properties for a guest
//! NUMA topology, byte-identical to what QEMU 7.2 builds for its `pc` and
//! `q35` machine types, and a parser that reads the tables back.
//!
//! [`build`] turns a resolved [`Topology`] and its [`MemoryLayout`] into
//! the tables a guest reads (`None` without NUMA, as QEMU builds none).
//! Each table is also data ([`srat::Srat`], [`slit::Slit`],
//! [`hmat::Hmat`]) with `from_topology`, `to_bytes` and `parse`, so a VMM
//! can adjust entries before encoding. [`info::NumaInfo`] is what a guest
//! learns from the bytes, and [`info::verify`] checks that tables describe
//! the topology they came from.
//!
//! ## Should I use this crate?
//!
//! Use it to give a guest ACPI NUMA tables (x86: QEMU's exact bytes,
//! including its quirks; other boards: tables straight from the memory
//! layout, see [`MemoryStyle`]) or a device tree with NUMA properties
//! ([`fdt`], feature `fdt`, on by default, no std needed). It does not
//! build the other ACPI tables (DSDT, MADT, ...), nor the RSDT/XSDT
//! entries pointing at these.
//!
//! ## Example
//!
//! ```
//! use vnuma_options::CommandLine;
//! use vnuma_tables::{build, info::NumaInfo, TableOptions};
//! use vnuma_topology::{layout::MemoryLayout, resolve};
//!
//! let cl = CommandLine::parse([
//!     "-M", "q35", "-m", "4G", "-smp", "4,sockets=2,cores=2",
//!     "-object", "memory-backend-ram,id=m0,size=2G",
//!     "-object", "memory-backend-ram,id=m1,size=2G",
//!     "-numa", "node,nodeid=0,memdev=m0",
//!     "-numa", "node,nodeid=1,memdev=m1",
//!     "-numa", "dist,src=0,dst=1,val=21",
//! ])?;
//! let t = resolve(&cl)?;
//! let layout = MemoryLayout::new(&t);
//! let tables = build(&t, &layout, &TableOptions::default())?.expect("NUMA is on");
//! assert_eq!(&tables.srat[..4], b"SRAT");
//! assert_eq!(tables.slit.as_deref().map(<[u8]>::len), Some(36 + 8 + 4));
//! assert!(tables.hmat.is_none());
//!
//! // What the guest reads back.
//! let info = NumaInfo::from_tables(&tables.srat, tables.slit.as_deref(), None)?;
//! assert_eq!(info.node_of_cpu(2), Some(1));
//! assert_eq!(info.node_of_address(0x1_0000_0000), Some(1)); // q35: node 1 at 4 GiB
//! assert_eq!(info.node_of_address(0xb_0000), None); // the 640K-1M window
//! assert_eq!(info.distance(0, 1), Some(21));
//! vnuma_tables::info::verify(&t, &layout, &TableOptions::default(), &info)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## For VMMs that are not QEMU
//!
//! [`TableOptions`] (a plain struct: `..TableOptions::default()` or the
//! `with_*` setters) selects what QEMU 7.2 does not: SRAT Generic
//! Initiator Affinity entries (type 5, ACPI 6.3) for the devices of
//! device-only nodes, named by PCI address or `acpi:HID:UID`
//! ([`srat::DeviceHandle`]); the SRAT revision (QEMU's 1 by default, 3
//! when Generic Initiator entries are present); x2APIC-only processor
//! entries ([`ProcessorEntries::X2Apic`]). The device-tree writers in
//! [`fdt`] work inside a VMM's own `FdtWriter` nodes, with an arm64
//! MPIDR `reg` scheme ([`fdt::Mpidr`]).
//!
//! ## Features and public dependencies
//!
//! * `fdt` (default): the [`fdt`] module through rust-vmm's `vm-fdt` 0.3,
//!   whose `FdtWriter` is part of the API.
//! * `acpi_tables`: conversions to rust-vmm's `acpi_tables` 0.2 types
//!   (`rust_vmm` module), which then appear in the API. The encoding here
//!   is vnuma's own because QEMU's bytes have quirks a general builder
//!   does not reproduce, and `acpi_tables` has no processor affinity
//!   entries (the module docs say more).
//!
//! ## Fidelity
//!
//! The tests compare the bytes with what QEMU 7.2 (7.2.22) builds for 71
//! command lines (`tests/qemu72/`), checksum byte aside: QEMU leaves it 0
//! for the firmware's linker/loader, this crate computes it. The header is
//! QEMU's (OEM id `BOCHS `, OEM table id `BXPC    `, revisions 1, creator
//! `BXPC`); [`acpi::Oem::with_ids`] gives `-machine x-oem-id=,x-oem-table-id=`.
//! x2APIC entries (APIC ids of 255 and more) are checked against QEMU's
//! bytes captured under KVM (TCG refuses such APIC ids) and with `iasl`.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
extern crate alloc;

pub mod acpi;
mod bytes;
mod error;
#[cfg(feature = "fdt")]
pub mod fdt;
pub mod hmat;
pub mod info;
mod options;
#[cfg(feature = "acpi_tables")]
pub mod rust_vmm;
pub mod slit;
pub mod srat;

use alloc::vec::Vec;

pub use error::Error;
pub use options::{MemoryStyle, ProcessorEntries, TableOptions};
use vnuma_topology::layout::MemoryLayout;
use vnuma_topology::Topology;

/// The encoded NUMA tables of a guest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NumaTables {
    /// The SRAT.
    pub srat: Vec<u8>,
    /// The SLIT, when distances were given.
    pub slit: Option<Vec<u8>>,
    /// The HMAT, when HMAT is on.
    pub hmat: Option<Vec<u8>>,
}

impl NumaTables {
    /// The tables present, in QEMU's order (SRAT, SLIT, HMAT), with their
    /// signatures.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &[u8])> + '_ {
        [
            Some((srat::SIGNATURE, self.srat.as_slice())),
            self.slit.as_deref().map(|s| (slit::SIGNATURE, s)),
            self.hmat.as_deref().map(|h| (hmat::SIGNATURE, h)),
        ]
        .into_iter()
        .flatten()
    }
}

/// Build the NUMA tables of a topology as QEMU 7.2 does: `None` when the
/// guest has no NUMA node; otherwise the SRAT, the SLIT if distances were
/// given, and the HMAT if `hmat=on`.
pub fn build(
    t: &Topology,
    layout: &MemoryLayout,
    opts: &TableOptions,
) -> Result<Option<NumaTables>, Error> {
    if !t.numa_enabled() {
        return Ok(None);
    }
    if opts.generic_initiators {
        srat::generic_initiators(t)?;
        srat::generic_ports(t)?;
    }
    let srat = srat::Srat::from_topology(t, layout, opts);
    Ok(Some(NumaTables {
        srat: srat.to_bytes_with_revision(&opts.oem, srat.revision(opts))?,
        slit: slit::Slit::from_topology(t)
            .map(|s| s.to_bytes(&opts.oem))
            .transpose()?,
        hmat: hmat::Hmat::from_topology(t, opts)
            .map(|h| h.to_bytes(&opts.oem))
            .transpose()?,
    }))
}
