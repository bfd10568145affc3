//! The resolved, immutable topology.

use alloc::string::String;
use alloc::vec::Vec;

use vnuma_options::{MemoryBackendOptions, NumaHmatCacheOptions};

use vnuma_ranges::Range;

use crate::config::MemoryZone;
use crate::cpu::{CpuSlot, CpuTopology};
use crate::devices::PlacedDevice;
use crate::error::Warning;
use crate::layout::{BootRange, MemoryLayout, RamSplit};
use crate::machine::MachineModel;
pub use crate::numa::LbTable;

/// One NUMA node.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Node {
    /// Node id, the guest's proximity domain (dense `0..n` from QEMU's
    /// syntax; a described configuration may leave gaps).
    pub id: u32,
    /// Boot memory of the node in bytes (the sum of its zones).
    pub mem: u64,
    /// The backend holding it (`-numa node,memdev=`), by object id: the
    /// backend of its only zone.
    pub memdev: Option<String>,
    /// Its memory zones, as described.
    pub zones: Vec<MemoryZone>,
    /// HMAT initiator node, if set.
    pub initiator: Option<u32>,
    /// Whether a CPU is mapped to it while HMAT is on (an initiator
    /// proximity domain).
    pub has_cpu: bool,
    /// Devices on the node that initiate memory accesses (generic
    /// initiators).
    pub devices: Vec<String>,
    /// Generic ports on the node (host bridges, such as CXL's).
    pub ports: Vec<String>,
}

/// One possible CPU slot and the node it belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cpu {
    /// Index, arch (APIC) id and topology ids.
    pub slot: CpuSlot,
    /// Whether the CPU exists at boot (index below `-smp cpus`) rather
    /// than being hot-pluggable.
    pub present: bool,
    /// Its node id; `None` when NUMA is off.
    pub node: Option<u32>,
}

/// HMAT data: the latency/bandwidth tables with entries, and the caches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Hmat {
    /// Non-empty tables, hierarchy-major then data type.
    pub lb: Vec<LbTable>,
    /// Memory-side caches by node then level.
    pub caches: Vec<NumaHmatCacheOptions>,
}

/// The result of resolution: everything a VMM needs to build the guest's
/// NUMA view, validated. Built by [`crate::resolve`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    pub(crate) machine: MachineModel,
    pub(crate) cpu: CpuTopology,
    pub(crate) cpus: Vec<Cpu>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) distances: Option<Vec<u8>>,
    pub(crate) hmat_enabled: bool,
    pub(crate) hmat: Hmat,
    pub(crate) ram_size: u64,
    pub(crate) max_ram_size: u64,
    pub(crate) ram_slots: u64,
    pub(crate) max_ram_below_4g: Option<u64>,
    pub(crate) memory_backend: Option<String>,
    pub(crate) backends: Vec<MemoryBackendOptions>,
    pub(crate) uses_memdevs: bool,
    pub(crate) mem_path: Option<String>,
    pub(crate) mem_prealloc: bool,
    pub(crate) mem_merge: bool,
    pub(crate) dump_guest_core: bool,
    pub(crate) split: RamSplit,
    pub(crate) boot_ranges: Vec<BootRange>,
    pub(crate) device_memory: Option<Range>,
    pub(crate) devices: Vec<PlacedDevice>,
    pub(crate) acpi: bool,
    pub(crate) thread_contexts: Vec<vnuma_options::ThreadContextOptions>,
    pub(crate) affinity_order: Vec<String>,
    pub(crate) warnings: Vec<Warning>,
}

impl Topology {
    /// The order of the SRAT's Generic Initiator and Generic Port
    /// entries by device name ([`NumaConfig::affinity_order`](crate::NumaConfig::affinity_order));
    /// empty: node order.
    pub fn affinity_order(&self) -> &[String] {
        &self.affinity_order
    }

    /// The machine model.
    pub fn machine(&self) -> &MachineModel {
        &self.machine
    }

    /// The resolved `-smp`.
    pub fn cpu_topology(&self) -> &CpuTopology {
        &self.cpu
    }

    /// Every possible CPU slot, in index order.
    pub fn cpus(&self) -> &[Cpu] {
        &self.cpus
    }

    /// The nodes in id order; empty when NUMA is off.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Whether the guest has NUMA (at least one node).
    pub fn numa_enabled(&self) -> bool {
        !self.nodes.is_empty()
    }

    /// The node with id `id`.
    pub fn node(&self, id: u32) -> Option<&Node> {
        self.node_index(id).map(|i| &self.nodes[i])
    }

    /// The position of node `id` in [`Topology::nodes`] (and in the rows
    /// and columns of [`Topology::distances`]).
    pub fn node_index(&self, id: u32) -> Option<usize> {
        self.nodes.binary_search_by_key(&id, |n| n.id).ok()
    }

    /// The guest memory layout: where each node's RAM lies, which node
    /// owns an address, the hotplug window.
    pub fn layout(&self) -> MemoryLayout {
        MemoryLayout::new(self)
    }

    /// Boot RAM ranges in address order, each with its node id (node 0
    /// without NUMA) and memory zone, as resolution placed them.
    pub fn boot_ranges(&self) -> &[BootRange] {
        &self.boot_ranges
    }

    /// The guest-physical ranges of zone `zone` of node `node`, in address
    /// order (several when it runs around a gap or the PCI hole; on QEMU's
    /// x86 boards the `[640 KiB, 1 MiB)` window is left out).
    pub fn zone_ranges(&self, node: u32, zone: usize) -> impl Iterator<Item = Range> + '_ {
        self.boot_ranges
            .iter()
            .filter(move |b| b.node == node && b.zone == Some(zone))
            .map(|b| b.range)
    }

    /// The memory devices as cold-plugged, in the order given.
    pub fn devices(&self) -> &[PlacedDevice] {
        &self.devices
    }

    /// `thread-context` objects (`prealloc-context` of backends).
    pub fn thread_contexts(&self) -> &[vnuma_options::ThreadContextOptions] {
        &self.thread_contexts
    }

    /// Whether the guest has ACPI (its tables are built).
    pub fn acpi(&self) -> bool {
        self.acpi
    }

    /// The device-memory (hotplug) window, if any.
    pub fn device_memory(&self) -> Option<Range> {
        self.device_memory
    }

    /// Indexes of the present CPUs on `node`, ascending (what
    /// `info numa` lists).
    pub fn node_cpus(&self, node: u32) -> impl Iterator<Item = u32> + '_ {
        self.cpus
            .iter()
            .filter(move |c| c.present && c.node == Some(node))
            .map(|c| c.slot.index)
    }

    /// The distance from `a` to `b` after completion, if distances were
    /// given (`-numa dist`); `None` otherwise (no SLIT).
    pub fn distance(&self, a: u32, b: u32) -> Option<u8> {
        let n = self.nodes.len();
        let (a, b) = (self.node_index(a)?, self.node_index(b)?);
        self.distances.as_ref().map(|d| d[a * n + b])
    }

    /// The full distance matrix, row-major, node count squared, rows and
    /// columns in the order of [`Topology::nodes`]; `None` without
    /// distances.
    pub fn distances(&self) -> Option<&[u8]> {
        self.distances.as_deref()
    }

    /// Whether `-machine hmat=on`.
    pub fn hmat_enabled(&self) -> bool {
        self.hmat_enabled
    }

    /// HMAT tables and caches.
    pub fn hmat(&self) -> &Hmat {
        &self.hmat
    }

    /// Boot RAM in bytes (aligned as the machine aligns it).
    pub fn ram_size(&self) -> u64 {
        self.ram_size
    }

    /// Maximum RAM including hot-pluggable memory (`maxmem`).
    pub fn max_ram_size(&self) -> u64 {
        self.max_ram_size
    }

    /// DIMM slots (`-m slots=`).
    pub fn ram_slots(&self) -> u64 {
        self.ram_slots
    }

    /// `-machine max-ram-below-4g=`.
    pub fn max_ram_below_4g(&self) -> Option<u64> {
        self.max_ram_below_4g
    }

    /// `-machine memory-backend=`: the backend holding all boot RAM.
    pub fn memory_backend(&self) -> Option<&str> {
        self.memory_backend.as_deref()
    }

    /// Every memory backend object, in command-line order.
    pub fn backends(&self) -> &[MemoryBackendOptions] {
        &self.backends
    }

    /// Whether boot RAM is composed of the nodes' backends (`memdev=`);
    /// otherwise the machine allocates one RAM block (`mem=` splits it
    /// only in what the guest is told).
    pub fn uses_memdevs(&self) -> bool {
        self.uses_memdevs
    }

    /// `-mem-path`.
    pub fn mem_path(&self) -> Option<&str> {
        self.mem_path.as_deref()
    }

    /// `-mem-prealloc`.
    pub fn mem_prealloc(&self) -> bool {
        self.mem_prealloc
    }

    /// `-machine mem-merge` (default of backends' `merge`).
    pub fn mem_merge(&self) -> bool {
        self.mem_merge
    }

    /// `-machine dump-guest-core` (default of backends' `dump`).
    pub fn dump_guest_core(&self) -> bool {
        self.dump_guest_core
    }

    /// Warnings QEMU would print, in its order.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
}
