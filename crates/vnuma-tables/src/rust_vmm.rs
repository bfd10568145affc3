//! Conversions to rust-vmm's [`acpi_tables`] types (feature
//! `acpi_tables`), for VMMs that build their ACPI tables with that crate
//! (cloud-hypervisor does): memory and Generic Initiator affinity entries
//! of an [`Srat`], and a [`Slit`]. `acpi_tables` (0.2) is then a public
//! dependency.
//!
//! # Why vnuma writes its own bytes
//!
//! The tables vnuma builds must match QEMU's byte for byte: QEMU's SRAT
//! has revision 1, its memory walk with all-zero padding entries and its
//! processor entries (Local APIC, x2APIC and GICC affinity), which
//! `acpi_tables` has no types for; its header is QEMU's (`BXPC` as
//! creator), and HMAT's latency/bandwidth compression is QEMU's. So
//! [`crate::build`] encodes the tables itself, and this module converts
//! the entries `acpi_tables` can express, whose bytes are the same (tested).

use acpi_tables::srat::{GenericInitiator, Handle};

use crate::acpi::Oem;
use crate::slit::Slit;
use crate::srat::{
    DeviceHandle, GenericInitiatorAffinity, MemoryAffinity, Srat, SratEntry,
    GI_ARCHITECTURAL_TRANSACTIONS, GI_ENABLED, MEM_ENABLED, MEM_HOTPLUGGABLE, MEM_NON_VOLATILE,
};

impl From<&MemoryAffinity> for acpi_tables::srat::MemoryAffinity {
    fn from(m: &MemoryAffinity) -> Self {
        let mut out = acpi_tables::srat::MemoryAffinity::new(m.proximity, m.base, m.length);
        if m.flags & MEM_ENABLED != 0 {
            out = out.enabled();
        }
        if m.flags & MEM_HOTPLUGGABLE != 0 {
            out = out.hotpluggable();
        }
        if m.flags & MEM_NON_VOLATILE != 0 {
            out = out.nonvolatile();
        }
        out
    }
}

impl From<&GenericInitiatorAffinity> for GenericInitiator {
    fn from(g: &GenericInitiatorAffinity) -> Self {
        let handle = match g.device {
            DeviceHandle::Acpi { hid, uid } => Handle::new_acpi(hid, uid.to_le_bytes()),
            // `devfn` holds a 5-bit device and a 3-bit function, which is
            // what `new_pci` asserts.
            DeviceHandle::Pci {
                segment,
                bus,
                devfn,
            } => Handle::new_pci(segment, bus, devfn >> 3, devfn & 7),
        };
        let mut out = GenericInitiator::new(g.proximity, handle);
        if g.flags & GI_ENABLED != 0 {
            out = out.enabled();
        }
        if g.flags & GI_ARCHITECTURAL_TRANSACTIONS != 0 {
            out = out.architectural();
        }
        out
    }
}

/// The memory and Generic Initiator entries of `srat` in an
/// `acpi_tables` SRAT with `oem`'s ids, and how many entries were left
/// out: processor affinity and Generic Port entries (and entries of
/// unknown type), which
/// `acpi_tables` cannot express, and QEMU's all-zero padding entries.
pub fn srat(srat: &Srat, oem: &Oem) -> (acpi_tables::srat::SRAT, usize) {
    let mut out = acpi_tables::srat::SRAT::new(oem.oem_id, oem.oem_table_id, oem.oem_revision);
    let mut left_out = 0;
    for e in &srat.entries {
        match e {
            SratEntry::Memory(m) if m.length != 0 || m.flags != 0 => {
                out.add_memory_affinity(m.into());
            }
            SratEntry::GenericInitiator(g) => out.add_generic_initiator(g.into()),
            _ => left_out += 1,
        }
    }
    (out, left_out)
}

/// The SLIT as an `acpi_tables` SLIT with `oem`'s ids; `None` when it has
/// more localities than `acpi_tables` can index.
pub fn slit(slit: &Slit, oem: &Oem) -> Option<acpi_tables::slit::SLIT> {
    let n = u32::try_from(slit.count).ok()?;
    let count = usize::try_from(slit.count).ok()?;
    if slit.matrix.len() != count.checked_mul(count)? {
        return None;
    }
    let mut out = acpi_tables::slit::SLIT::new(oem.oem_id, oem.oem_table_id, oem.oem_revision, n);
    for (k, &d) in slit.matrix.iter().enumerate() {
        out.set_distance(k / count, k % count, d);
    }
    Some(out)
}
