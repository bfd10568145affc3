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
}

/// Options for building the tables. `TableOptions::default()` gives QEMU
/// 7.2's tables for `pc`/`q35` and the layout-based ones elsewhere.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
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
}

impl TableOptions {
    /// The default options with other header identification.
    pub fn with_oem(oem: Oem) -> Self {
        TableOptions {
            oem,
            ..TableOptions::default()
        }
    }

    /// The memory style for a topology, with [`MemoryStyle::Auto`]
    /// resolved.
    pub fn memory_style(&self, t: &Topology) -> MemoryStyle {
        match self.memory {
            MemoryStyle::Auto => match t.machine().ram_layout {
                RamLayout::X86 { .. } => MemoryStyle::Qemu72,
                _ => MemoryStyle::Layout,
            },
            other => other,
        }
    }
}
