//! How tables are built from a topology.

use vnuma_topology::machine::RamLayout;
use vnuma_topology::Topology;

use crate::acpi::Oem;

/// How SRAT describes boot memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum MemoryStyle {
    /// [`MemoryStyle::Qemu72`] for machine models with the x86 PC RAM
    /// layout (QEMU's `pc` and `q35`), [`MemoryStyle::Layout`] for any
    /// other.
    #[default]
    Auto,
    /// What QEMU 7.2 builds for `pc` and `q35`, quirks included: nodes
    /// walked in id order over the RAM-offset space with a cursor, the
    /// `[640 KiB, 1 MiB)` window cut out (a node ending inside the window
    /// makes the next node start at 1 MiB), RAM past the PCI hole moved to
    /// its address above 4 GiB, all-zero padding entries up to
    /// node count + 2 memory entries, then the hotplug window.
    Qemu72,
    /// One entry per boot-RAM range of the [`MemoryLayout`], nodes in id
    /// order and each node's ranges in address order, then the hotplug
    /// window; no padding. For boards that are not QEMU's x86 PCs.
    ///
    /// [`MemoryLayout`]: vnuma_topology::layout::MemoryLayout
    Layout,
}

/// Which SRAT structure describes a CPU.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ProcessorEntries {
    /// x86: Processor Local APIC affinity (type 0) for APIC ids below 255,
    /// Processor Local x2APIC affinity (type 2) from 255 on, as QEMU does.
    #[default]
    Apic,
    /// Arm: GICC affinity (type 3), with the CPU index as the ACPI
    /// processor UID (as QEMU's `virt` board does).
    Gicc,
    /// x86: Processor Local x2APIC affinity (type 2) for every CPU, also
    /// below APIC id 255, for VMMs whose MADT lists only x2APIC entries
    /// (the SRAT must then name the same structures).
    X2Apic,
}

/// Options for building the tables. `TableOptions::default()` gives QEMU
/// 7.2's tables for `pc`/`q35` and the layout-based ones elsewhere.
///
/// The fields are the contract: build the value with a struct literal and
/// `..TableOptions::default()`, or with the `with_*` setters.
///
/// ```
/// use vnuma_tables::{ProcessorEntries, TableOptions};
/// let opts = TableOptions {
///     processors: ProcessorEntries::X2Apic,
///     srat_revision: Some(3),
///     ..TableOptions::default()
/// };
/// assert_eq!(opts, TableOptions::default().with_processors(ProcessorEntries::X2Apic).with_srat_revision(3));
/// ```

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableOptions {
    /// Header identification (QEMU's x86 values by default).
    pub oem: Oem,
    /// How SRAT describes memory.
    pub memory: MemoryStyle,
    /// How SRAT describes CPUs.
    pub processors: ProcessorEntries,
    /// Leave nodes without memory out of HMAT's memory proximity domain
    /// attributes, as QEMU does from 10.x on (Linux rejects the whole HMAT
    /// otherwise). Off by default: QEMU 7.2 lists every node.
    pub hmat_skip_memoryless: bool,
    /// The SRAT header's revision. `None` (the default): QEMU 7.2's
    /// [`srat::REVISION`](crate::srat::REVISION) (1), or
    /// [`srat::REVISION_ACPI_6_3`](crate::srat::REVISION_ACPI_6_3) (3)
    /// when the table holds Generic Initiator entries, which ACPI 6.3
    /// introduced. QEMU's front end never has such entries, so its tables
    /// keep QEMU's revision.
    pub srat_revision: Option<u8>,
    /// Write a Generic Initiator Affinity structure (SRAT type 5) for each
    /// device of a node (`NodeConfig::device`), with its device handle
    /// parsed by [`DeviceHandle::parse`](crate::srat::DeviceHandle::parse)
    /// (default on; QEMU 7.2's front end has no devices, so its tables do
    /// not change).
    pub generic_initiators: bool,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            oem: Oem::default(),
            memory: MemoryStyle::Auto,
            processors: ProcessorEntries::Apic,
            hmat_skip_memoryless: false,
            srat_revision: None,
            generic_initiators: true,
        }
    }
}

impl TableOptions {
    /// The default options with other header identification.
    pub fn with_oem(oem: Oem) -> Self {
        TableOptions {
            oem,
            ..TableOptions::default()
        }
    }

    /// With other header identification.
    pub fn with_oem_ids(mut self, oem: Oem) -> Self {
        self.oem = oem;
        self
    }

    /// With another memory style.
    pub fn with_memory(mut self, memory: MemoryStyle) -> Self {
        self.memory = memory;
        self
    }

    /// With other processor entries.
    pub fn with_processors(mut self, processors: ProcessorEntries) -> Self {
        self.processors = processors;
        self
    }

    /// Leave memory-less nodes out of HMAT's memory attributes (QEMU 10).
    pub fn with_hmat_skip_memoryless(mut self, on: bool) -> Self {
        self.hmat_skip_memoryless = on;
        self
    }

    /// With a fixed SRAT revision.
    pub fn with_srat_revision(mut self, revision: u8) -> Self {
        self.srat_revision = Some(revision);
        self
    }

    /// With or without Generic Initiator entries.
    pub fn with_generic_initiators(mut self, on: bool) -> Self {
        self.generic_initiators = on;
        self
    }

    /// The memory style for a topology, with [`MemoryStyle::Auto`]
    /// resolved: QEMU's for the x86 PC layout unless a memory zone was
    /// placed at a fixed address (QEMU's walk places every node's memory
    /// after the previous node's, so it cannot describe such a zone).
    pub fn memory_style(&self, t: &Topology) -> MemoryStyle {
        match self.memory {
            MemoryStyle::Auto => match t.machine().ram_layout {
                RamLayout::X86 { .. }
                    if t.nodes()
                        .iter()
                        .all(|n| n.zones.iter().all(|z| z.addr.is_none())) =>
                {
                    MemoryStyle::Qemu72
                }
                _ => MemoryStyle::Layout,
            },
            other => other,
        }
    }
}
