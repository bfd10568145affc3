//! The typed description of a guest NUMA configuration, and its one
//! resolution step into a [`Topology`] (with its memory layout).
//!
//! This is the spine of vnuma: a VMM builds a [`NumaConfig`] from its own
//! configuration with plain constructors and builder methods, and QEMU's
//! command line is only one front end that produces the same value
//! ([`crate::resolve`] applies QEMU's rules and messages first). Nothing
//! here knows QEMU's syntax.
//!
//! ```
//! use vnuma_topology::config::{Distances, MemoryZone, NodeConfig, NumaConfig};
//! use vnuma_topology::cpu::CpuTopology;
//! use vnuma_topology::machine::{MachineModel, RamLayout};
//! use vnuma_ranges::Range;
//!
//! const GIB: u64 = 1 << 30;
//! // A board whose RAM runs from 0 around a [3G, 4G) MMIO hole.
//! let board = MachineModel::generic("my-vmm", 64)
//!     .with_ram_layout(RamLayout::around_gaps(0, &[Range::new(3 * GIB, 4 * GIB)?]));
//! let config = NumaConfig::new(board, CpuTopology::new(8).with_sockets(2))
//!     .node(NodeConfig::new(0).cpus(0..4).zone(MemoryZone::new(2 * GIB)).zone(MemoryZone::new(2 * GIB)))
//!     .node(NodeConfig::new(1).cpus(4..8).zone(MemoryZone::new(4 * GIB)))
//!     .node(NodeConfig::new(7).device("0000:00:04.0"))
//!     .distances(Distances::fill(20).set(0, 1, 21));
//! let topology = config.resolve()?;
//! let layout = topology.layout();
//! assert_eq!(layout.node_of(3 * GIB - 1), Some(0));
//! assert_eq!(layout.node_of(3 * GIB), None); // the MMIO hole
//! assert_eq!(layout.node_of(4 * GIB), Some(0)); // node 0's second GiB above the hole
//! assert_eq!(layout.node_of(5 * GIB), Some(1));
//! assert_eq!(topology.distance(1, 7), Some(20));
//!
//! // Errors name the field at fault.
//! let bad = NumaConfig::new(MachineModel::generic("my-vmm", 4), CpuTopology::new(4))
//!     .node(NodeConfig::new(0).cpus(0..4).zone(MemoryZone::new(0)));
//! let err = bad.resolve().unwrap_err();
//! assert_eq!(err.path(), Some("nodes[0].memory[0].size"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use vnuma_options::MemoryBackendOptions;
use vnuma_ranges::Range;

use crate::cpu::{CpuSlot, CpuTopology, MAX_POSSIBLE_CPUS};
pub use crate::devices::{MemoryDeviceConfig, MemoryDeviceKind};
use crate::error::{Error, ErrorKind, Warning};
use crate::layout::{device_memory, place_boot_ram, BootRange, RamSplit};
use crate::machine::{CpuIdScheme, MachineModel, RamLayout};
use crate::numa::LbTable;
use crate::topology::{Cpu, Hmat, Node, Topology};

/// A contiguous piece of a node's memory.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MemoryZone {
    /// Size in bytes (not 0).
    pub size: u64,
    /// A fixed guest-physical address; `None` places the zone with the
    /// board's RAM layout, after the zones placed before it.
    pub addr: Option<u64>,
    /// The host memory backend holding it, by id
    /// ([`HostMemory::backends`]); `None` when the VMM allocates it itself
    /// or the machine's own RAM holds it.
    pub backend: Option<String>,
}

impl MemoryZone {
    /// A zone of `size` bytes placed by the board's RAM layout.
    pub fn new(size: u64) -> Self {
        MemoryZone {
            size,
            addr: None,
            backend: None,
        }
    }

    /// The zone at a fixed guest-physical address.
    pub fn at(mut self, addr: u64) -> Self {
        self.addr = Some(addr);
        self
    }

    /// The zone held by the host memory backend `id`.
    pub fn backend(mut self, id: impl Into<String>) -> Self {
        self.backend = Some(id.into());
        self
    }
}

/// One guest NUMA node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NodeConfig {
    /// Node id: the guest's proximity domain (ids may be sparse).
    pub id: u32,
    /// Indexes of the CPUs on the node.
    pub cpus: Vec<u32>,
    /// Its memory, in zones.
    pub memory: Vec<MemoryZone>,
    /// HMAT initiator: the node whose CPUs (or devices) access this
    /// node's memory best.
    pub initiator: Option<u32>,
    /// Devices on the node that initiate memory accesses (generic
    /// initiators, such as a PCI device by its address
    /// `segment:bus:device.function`).
    pub devices: Vec<String>,
    /// Generic ports on the node (ACPI 6.4's Generic Port Affinity: a host
    /// bridge, such as a CXL host bridge `acpi:ACPI0016:UID`, whose
    /// downstream devices the node's HMAT figures describe), named as
    /// [`devices`](Self::devices) are.
    #[cfg_attr(feature = "serde", serde(default))]
    pub ports: Vec<String>,
}

impl NodeConfig {
    /// An empty node (no CPUs, no memory).
    pub fn new(id: u32) -> Self {
        NodeConfig {
            id,
            ..NodeConfig::default()
        }
    }

    /// Add CPUs by index.
    pub fn cpus(mut self, cpus: impl IntoIterator<Item = u32>) -> Self {
        self.cpus.extend(cpus);
        self
    }

    /// Add a memory zone.
    pub fn zone(mut self, zone: MemoryZone) -> Self {
        self.memory.push(zone);
        self
    }

    /// Set the HMAT initiator.
    pub fn initiator(mut self, node: u32) -> Self {
        self.initiator = Some(node);
        self
    }

    /// Add a device (generic initiator).
    pub fn device(mut self, device: impl Into<String>) -> Self {
        self.devices.push(device.into());
        self
    }

    /// Add a generic port (`acpi:ACPI0016:12` for the CXL host bridge
    /// with `_UID` 12).
    pub fn port(mut self, port: impl Into<String>) -> Self {
        self.ports.push(port.into());
        self
    }

    /// The node's memory: the sum of its zones (saturating).
    pub fn mem(&self) -> u64 {
        self.memory
            .iter()
            .fold(0u64, |s, z| s.saturating_add(z.size))
    }
}

/// What a distance that was not given becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MissingDistance {
    /// QEMU's rules: 10 from a node to itself; `b → a` is `a → b` when
    /// only one is given; a pair with neither is an error, and so is any
    /// missing one when the given matrix is asymmetric.
    #[default]
    Qemu,
    /// The reverse distance when given, otherwise this value (10 from a
    /// node to itself). cloud-hypervisor uses 20.
    Fill(u8),
    /// Every pair of different nodes must be given (10 from a node to
    /// itself is implied).
    Error,
}

/// Node distances (the SLIT): the values given and the policy for the
/// others. Without values (and without [`MissingDistance::Fill`]) the
/// guest gets no distances.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Distances {
    /// `(from, to) → distance`, by node id (serialized as a list of
    /// `[from, to, distance]`).
    #[cfg_attr(feature = "serde", serde(with = "triples"))]
    pub given: BTreeMap<(u32, u32), u8>,
    /// What missing pairs become.
    pub missing: MissingDistance,
}

impl Distances {
    /// No distances given; QEMU's completion rules.
    pub fn qemu() -> Self {
        Distances::default()
    }

    /// Missing pairs become `value`.
    pub fn fill(value: u8) -> Self {
        Distances {
            given: BTreeMap::new(),
            missing: MissingDistance::Fill(value),
        }
    }

    /// Every pair must be given.
    pub fn complete() -> Self {
        Distances {
            given: BTreeMap::new(),
            missing: MissingDistance::Error,
        }
    }

    /// Set the distance from `from` to `to`.
    pub fn set(mut self, from: u32, to: u32, distance: u8) -> Self {
        self.given.insert((from, to), distance);
        self
    }

    /// Set the distance both ways.
    pub fn set_symmetric(self, a: u32, b: u32, distance: u8) -> Self {
        self.set(a, b, distance).set(b, a, distance)
    }

    fn present(&self) -> bool {
        !self.given.is_empty() || matches!(self.missing, MissingDistance::Fill(_))
    }
}

/// Guest RAM sizes beyond the nodes' zones.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RamConfig {
    /// Boot RAM. Required without nodes; with nodes, `None` means the sum
    /// of their zones, and a value must equal it.
    pub size: Option<u64>,
    /// Most RAM including hot-pluggable memory; above `size`, a
    /// device-memory window is reserved for memory devices.
    pub max_size: Option<u64>,
    /// Memory device slots.
    pub slots: u64,
    /// x86: the most RAM below 4 GiB (`max-ram-below-4g`).
    pub max_below_4g: Option<u64>,
}

/// How guest RAM is backed on the host: the backend objects and the
/// defaults of their properties. Leave it at its default when the VMM
/// allocates memory itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct HostMemory {
    /// Backend objects, by id; zones name them.
    pub backends: Vec<MemoryBackendOptions>,
    /// A backend holding all boot RAM (`-machine memory-backend`).
    pub machine_backend: Option<String>,
    /// A directory or file for the machine's own RAM (`-mem-path`).
    pub mem_path: Option<String>,
    /// Preallocate the machine's own RAM (`-mem-prealloc`).
    pub prealloc: bool,
    /// Default of backends' `merge` (`-machine mem-merge`).
    pub merge: bool,
    /// Default of backends' `dump` (`-machine dump-guest-core`).
    pub dump: bool,
    /// Thread contexts backends preallocate in (`prealloc-context`).
    pub thread_contexts: Vec<vnuma_options::ThreadContextOptions>,
}

impl Default for HostMemory {
    fn default() -> Self {
        HostMemory {
            backends: Vec::new(),
            machine_backend: None,
            mem_path: None,
            prealloc: false,
            merge: true,
            dump: true,
            thread_contexts: Vec::new(),
        }
    }
}

impl HostMemory {
    /// Add a backend object.
    pub fn backend(mut self, backend: MemoryBackendOptions) -> Self {
        self.backends.push(backend);
        self
    }
}

/// The typed description of a guest NUMA configuration: the board, its
/// CPUs, the nodes with their CPUs, memory zones and devices, distances,
/// HMAT data, and how RAM is backed. [`NumaConfig::resolve`] validates it
/// and computes the [`Topology`] once.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct NumaConfig {
    /// The board (checked by [`MachineModel::validate`]).
    pub board: MachineModel,
    /// CPUs: how many, how many possible, how they are grouped.
    pub cpus: CpuTopology,
    /// RAM sizes and the hotplug window.
    pub ram: RamConfig,
    /// The nodes; none for a guest without NUMA.
    pub nodes: Vec<NodeConfig>,
    /// Distances.
    pub distances: Distances,
    /// HMAT latency/bandwidth tables and caches; `Some` turns HMAT on.
    pub hmat: Option<Hmat>,
    /// Host memory backends.
    pub host: HostMemory,
    /// Memory devices, cold-plugged into the device-memory window in
    /// order.
    pub devices: Vec<MemoryDeviceConfig>,
    /// ACPI on (x86 boards refuse DIMMs without it).
    pub acpi: bool,
    /// NVDIMMs allowed (`-machine nvdimm=on`).
    pub nvdimm: bool,
    /// The order of the SRAT's Generic Initiator entries, and then of its
    /// Generic Port entries, by device name (QEMU: the order it walks its
    /// objects in); names not listed follow in node order. Empty: node
    /// order.
    #[cfg_attr(feature = "serde", serde(default))]
    pub affinity_order: Vec<String>,
}

impl NumaConfig {
    /// A guest on `board` with `cpus` and nothing else yet.
    pub fn new(board: MachineModel, cpus: CpuTopology) -> Self {
        NumaConfig {
            board,
            cpus,
            ram: RamConfig::default(),
            nodes: Vec::new(),
            distances: Distances::default(),
            hmat: None,
            host: HostMemory::default(),
            devices: Vec::new(),
            acpi: true,
            nvdimm: false,
            affinity_order: Vec::new(),
        }
    }

    /// Add a memory device.
    pub fn device(mut self, device: MemoryDeviceConfig) -> Self {
        self.devices.push(device);
        self
    }

    /// Add a node.
    pub fn node(mut self, node: NodeConfig) -> Self {
        self.nodes.push(node);
        self
    }

    /// Set the distances.
    pub fn distances(mut self, distances: Distances) -> Self {
        self.distances = distances;
        self
    }

    /// Set the RAM sizes.
    pub fn ram(mut self, ram: RamConfig) -> Self {
        self.ram = ram;
        self
    }

    /// Boot RAM of a guest without nodes.
    pub fn ram_size(mut self, size: u64) -> Self {
        self.ram.size = Some(size);
        self
    }

    /// Reserve a hotplug window: at most `max_size` bytes of RAM in all,
    /// `slots` memory devices.
    pub fn hotplug(mut self, max_size: u64, slots: u64) -> Self {
        self.ram.max_size = Some(max_size);
        self.ram.slots = slots;
        self
    }

    /// Turn HMAT on with these tables.
    pub fn hmat(mut self, hmat: Hmat) -> Self {
        self.hmat = Some(hmat);
        self
    }

    /// Set how RAM is backed on the host.
    pub fn host(mut self, host: HostMemory) -> Self {
        self.host = host;
        self
    }

    /// Validate and resolve: the [`Topology`] with every CPU slot's node,
    /// the completed distance matrix and the guest memory layout.
    /// Errors name the field at fault ([`Error::path`]).
    pub fn resolve(&self) -> Result<Topology, Error> {
        self.resolve_with_warnings(Vec::new())
    }

    /// [`NumaConfig::resolve`], carrying warnings a front end found.
    pub(crate) fn resolve_with_warnings(
        &self,
        mut warnings: Vec<Warning>,
    ) -> Result<Topology, Error> {
        let board = &self.board;
        board.validate()?;
        let cpu = self.check_cpus()?;

        // Nodes, by id.
        if self.nodes.len() > board.max_nodes as usize {
            return Err(Error::in_field(
                ErrorKind::TooManyNodes {
                    count: self.nodes.len(),
                    max: board.max_nodes,
                },
                "nodes",
            ));
        }
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        order.sort_by_key(|&i| self.nodes[i].id);
        for w in order.windows(2) {
            if self.nodes[w[0]].id == self.nodes[w[1]].id {
                return Err(Error::in_field(
                    ErrorKind::NodeIdRepeated {
                        id: self.nodes[w[1]].id,
                    },
                    format!("nodes[{}].id", w[0].max(w[1])),
                ));
            }
        }
        let position = |id: u32| order.binary_search_by_key(&id, |&i| self.nodes[i].id).ok();

        // Memory.
        let mut sum = 0u64;
        for (i, node) in self.nodes.iter().enumerate() {
            for (j, zone) in node.memory.iter().enumerate() {
                let field = || format!("nodes[{i}].memory[{j}]");
                if zone.size == 0 {
                    return Err(Error::in_field(
                        ErrorKind::ZoneEmpty,
                        format!("{}.size", field()),
                    ));
                }
                sum = sum.checked_add(zone.size).ok_or_else(|| {
                    Error::in_field(ErrorKind::RamTooLarge, format!("{}.size", field()))
                })?;
                if let Some(id) = &zone.backend {
                    let b = self
                        .host
                        .backends
                        .iter()
                        .find(|b| &b.id == id)
                        .ok_or_else(|| {
                            Error::in_field(
                                ErrorKind::MemoryBackendNotFound { id: id.clone() },
                                format!("{}.backend", field()),
                            )
                        })?;
                    if b.size != zone.size {
                        return Err(Error::in_field(
                            ErrorKind::ZoneBackendSize {
                                id: id.clone(),
                                backend: b.size,
                                zone: zone.size,
                            },
                            format!("{}.size", field()),
                        ));
                    }
                }
            }
        }
        let mut used: Vec<&str> = Vec::new();
        for &i in &order {
            for (j, zone) in self.nodes[i].memory.iter().enumerate() {
                if let Some(id) = zone.backend.as_deref() {
                    if used.contains(&id) {
                        return Err(Error::in_field(
                            ErrorKind::BackendUsedTwice { id: id.into() },
                            format!("nodes[{i}].memory[{j}].backend"),
                        ));
                    }
                    used.push(id);
                }
            }
        }
        let ram_size = match (self.ram.size, self.nodes.is_empty()) {
            (Some(size), true) => size,
            (None, true) => {
                return Err(Error::in_field(ErrorKind::RamSizeMissing, "ram.size"));
            }
            (None, false) => sum,
            (Some(size), false) => {
                if size != sum {
                    return Err(Error::in_field(
                        ErrorKind::TotalMemory { sum, ram: size },
                        "ram.size",
                    ));
                }
                size
            }
        };
        let max_ram_size = self.ram.max_size.unwrap_or(ram_size);
        if max_ram_size < ram_size {
            return Err(Error::in_field(
                ErrorKind::MaxmemTooSmall {
                    max: max_ram_size,
                    size: ram_size,
                },
                "ram.max_size",
            ));
        }
        if let Some(id) = &self.host.machine_backend {
            if !self.host.backends.iter().any(|b| &b.id == id) {
                return Err(Error::in_field(
                    ErrorKind::MemoryBackendNotFound { id: id.clone() },
                    "host.machine_backend",
                ));
            }
        }

        // CPUs.
        let slots = board_slots(board, &cpu);
        let mut slot_node: Vec<Option<u32>> = alloc::vec![None; slots.len()];
        let mut any_cpu = false;
        for (i, node) in self.nodes.iter().enumerate() {
            for (k, &c) in node.cpus.iter().enumerate() {
                let field = || format!("nodes[{i}].cpus[{k}]");
                let Some(slot) = slot_node.get_mut(c as usize) else {
                    return Err(Error::in_field(
                        ErrorKind::CpuOutOfRange {
                            cpu: c,
                            max_cpus: cpu.max_cpus,
                        },
                        field(),
                    ));
                };
                match *slot {
                    Some(first) if first != node.id => {
                        return Err(Error::in_field(
                            ErrorKind::CpuInTwoNodes {
                                cpu: c,
                                first,
                                second: node.id,
                            },
                            field(),
                        ));
                    }
                    _ => *slot = Some(node.id),
                }
                any_cpu = true;
            }
        }
        if !self.nodes.is_empty() {
            if any_cpu {
                if let Some(c) = slot_node.iter().position(Option::is_none) {
                    return Err(Error::in_field(
                        ErrorKind::CpuUnmapped { cpu: c as u32 },
                        "nodes",
                    ));
                }
            } else {
                // The board's rule, over the nodes in id order.
                let count = order.len() as u32;
                for (slot, node) in slots.iter().zip(slot_node.iter_mut()) {
                    let k = crate::resolve::default_node(&board.default_cpu_node, slot, count);
                    *node = Some(self.nodes[order[k as usize]].id);
                }
            }
        }

        // Distances.
        let distances = if !self.nodes.is_empty() && self.distances.present() {
            Some(self.complete_distances(&order, &position)?)
        } else {
            for &(a, b) in self.distances.given.keys() {
                let unknown = [a, b].into_iter().find(|&n| position(n).is_none());
                if let Some(node) = unknown {
                    return Err(Error::in_field(
                        ErrorKind::DistanceUnknownNode { node },
                        format!("distances[{a}, {b}]"),
                    ));
                }
            }
            None
        };

        // Nodes of the topology, with HMAT initiators.
        let hmat_enabled = self.hmat.is_some();
        let mut nodes: Vec<Node> = Vec::with_capacity(order.len());
        for &i in &order {
            let n = &self.nodes[i];
            let has_cpu = hmat_enabled && slot_node.contains(&Some(n.id));
            nodes.push(Node {
                id: n.id,
                mem: n.mem(),
                memdev: match n.memory.as_slice() {
                    [only] => only.backend.clone(),
                    _ => None,
                },
                zones: n.memory.clone(),
                initiator: n.initiator,
                has_cpu,
                devices: n.devices.clone(),
                ports: n.ports.clone(),
            });
        }
        let mut lb_tables = Vec::new();
        if let Some(hmat) = &self.hmat {
            for (i, n) in self.nodes.iter().enumerate() {
                let Some(init) = n.initiator else { continue };
                let field = || format!("nodes[{i}].initiator");
                let Some(p) = position(init) else {
                    return Err(Error::in_field(
                        ErrorKind::InitiatorUnknown {
                            node: n.id,
                            initiator: init,
                        },
                        field(),
                    ));
                };
                let target = &nodes[p];
                if !target.has_cpu && target.devices.is_empty() {
                    return Err(Error::in_field(
                        ErrorKind::InitiatorWithoutCpu {
                            node: n.id,
                            initiator: init,
                        },
                        field(),
                    ));
                }
            }
            for (t, table) in hmat.lb.iter().enumerate() {
                // The base unit and range follow from the entries by
                // QEMU's rules (a table from QEMU's syntax replays to the
                // same values); a described one gets its checks here.
                let mut replay = LbTable {
                    hierarchy: table.hierarchy,
                    data_type: table.data_type,
                    ..LbTable::default()
                };
                let mut seen = alloc::collections::BTreeSet::new();
                for (e, &(init, target, value)) in table.entries.iter().enumerate() {
                    let field = || format!("hmat.lb[{t}].entries[{e}]");
                    let unknown = [u32::from(init), u32::from(target)]
                        .into_iter()
                        .find(|&n| position(n).is_none());
                    if let Some(node) = unknown {
                        return Err(Error::in_field(
                            ErrorKind::HmatUnknownNode { node },
                            field(),
                        ));
                    }
                    // Only a node with CPUs or generic initiators is a
                    // row of the table.
                    if position(u32::from(init))
                        .is_some_and(|p| !nodes[p].has_cpu && nodes[p].devices.is_empty())
                    {
                        return Err(Error::in_field(
                            ErrorKind::HmatNotInitiator { initiator: init },
                            field(),
                        ));
                    }
                    let latency = table.data_type.is_none_or(|d| d.is_latency());
                    if !seen.insert((init, target)) {
                        let (initiator, target) = (init, target);
                        let kind = if latency {
                            ErrorKind::HmatDuplicateLatency { initiator, target }
                        } else {
                            ErrorKind::HmatDuplicateBandwidth { initiator, target }
                        };
                        return Err(Error::in_field(kind, field()));
                    }
                    if !latency && value % (1 << 20) != 0 {
                        return Err(Error::in_field(
                            ErrorKind::HmatBandwidthAlign {
                                bandwidth: value,
                                initiator: init,
                                target,
                            },
                            field(),
                        ));
                    }
                    replay
                        .account(value, init, target)
                        .map_err(|kind| Error::in_field(kind, field()))?;
                }
                replay.entries = table.entries.clone();
                lb_tables.push(replay);
            }
            for (c, cache) in hmat.caches.iter().enumerate() {
                if position(cache.node_id).is_none() {
                    return Err(Error::in_field(
                        ErrorKind::HmatUnknownNode {
                            node: cache.node_id,
                        },
                        format!("hmat.caches[{c}].node_id"),
                    ));
                }
                // QEMU's rules for the levels (the tables encode a node's
                // cache count as its number of levels): 1 to 3, each once,
                // each above the one below it.
                let (n, l) = (cache.node_id, cache.level);
                let level = || format!("hmat.caches[{c}].level");
                if !(1..=3).contains(&l) {
                    return Err(Error::in_field(ErrorKind::CacheLevel { level: l }, level()));
                }
                let others = || hmat.caches.iter().take(c).filter(|o| o.node_id == n);
                if others().any(|o| o.level == l) {
                    return Err(Error::in_field(
                        ErrorKind::CacheDuplicate { node: n, level: l },
                        level(),
                    ));
                }
                if l > 1
                    && !hmat
                        .caches
                        .iter()
                        .any(|o| o.node_id == n && o.level == l - 1)
                {
                    return Err(Error::in_field(
                        ErrorKind::CacheLevelMissing { level: l - 1 },
                        level(),
                    ));
                }
            }
        }

        // x86: QEMU's setter refuses more than 4 GiB below 4 GiB (boot
        // RAM would run into the device-memory window above 4 GiB).
        let x86 = board.x86.is_some();
        if let Some(value) = self.ram.max_below_4g.filter(|&v| x86 && v > 1 << 32) {
            return Err(Error::in_field(
                ErrorKind::MaxRamBelow4g { value },
                "ram.max_below_4g",
            ));
        }

        // Guest-physical placement, once.
        let mut split = RamSplit::new(
            board,
            ram_size - fixed_size(&self.nodes),
            self.ram.max_below_4g,
        );
        if let Some(w) = crate::resolve::split_warning(board, ram_size, self.ram.max_below_4g) {
            warnings.push(Warning::new(w, None));
        }
        if let Some(bits) = board.phys_bits {
            split.above_4g_start = crate::layout::check_address_space(
                board,
                &split,
                ram_size,
                max_ram_size,
                self.ram.slots,
                bits,
            )
            .map_err(|k| Error::in_field(k, "board.phys_bits"))?;
        }
        let boot = place_boot_ram(board, &split, &self.nodes, &order, ram_size)?;
        // Where boot RAM ends: QEMU's formula on its boards (RAM above
        // 4 GiB, even when there is none), the end of the last range
        // elsewhere.
        let no_gaps: &[Range] = &[];
        let (ram_end, gaps) = match &board.ram_layout {
            // QEMU's formula; after zones at fixed addresses above it.
            RamLayout::X86 { .. } => (
                split
                    .above_4g_start
                    .checked_add(split.above_4g)
                    .and_then(|e| ram_end(&boot, e)),
                no_gaps,
            ),
            RamLayout::Gaps { gaps, .. } => (ram_end(&boot, split.base), gaps.as_slice()),
            RamLayout::Explicit { ram } => (
                ram.last()
                    .and_then(Range::end)
                    .map(|e| ram_end(&boot, split.base).map_or(e, |b| b.max(e))),
                no_gaps,
            ),
            RamLayout::Flat { .. } => (ram_end(&boot, split.base), no_gaps),
        };
        let device_memory =
            device_memory(board, ram_end, gaps, ram_size, max_ram_size, self.ram.slots)
                .map_err(|k| Error::in_field(k, "ram.max_size"))?;

        // Memory devices, in order.
        let ids: Vec<u32> = nodes.iter().map(|n| n.id).collect();
        let mut busy: Vec<String> = self
            .nodes
            .iter()
            .flat_map(|n| n.memory.iter().filter_map(|z| z.backend.clone()))
            .collect();
        busy.extend(self.host.machine_backend.clone());
        let mut machine = crate::devices::Machine {
            x86: board.x86.is_some(),
            virt_ged: board.virt.as_ref().map(|v| v.has_ged(self.acpi)),
            acpi: self.acpi,
            nvdimm: self.nvdimm,
            ram_slots: self.ram.slots,
            window: device_memory,
            device_space: max_ram_size - ram_size,
            nodes: &ids,
            busy,
            qemu_10: board.qemu.is_some_and(|q| q >= crate::machine::QEMU_10_0),
            preallocated: self
                .host
                .backends
                .iter()
                .filter(|b| b.prealloc == Some(true))
                .map(|b| b.id.clone())
                .collect(),
        };
        let devices = crate::devices::plug_all(&mut machine, &self.devices)?;

        // When the ACPI tables are built: the legacy CPU hotplug
        // description covers APIC ids up to 255.
        if board.legacy_cpu_hotplug && self.acpi && board.cpu_ids == CpuIdScheme::X86Apic {
            let limit = cpu.x86_apic_id_limit();
            if limit > 256 {
                return Err(Error::in_field(
                    ErrorKind::ApicIdTooLarge { last: limit - 1 },
                    "cpus",
                ));
            }
        }

        let cpus = slots
            .iter()
            .zip(&slot_node)
            .map(|(slot, node)| Cpu {
                slot: *slot,
                present: slot.index < cpu.cpus,
                node: *node,
            })
            .collect();
        Ok(Topology {
            machine: board.clone(),
            cpu,
            cpus,
            nodes,
            distances,
            hmat_enabled,
            hmat: match &self.hmat {
                Some(h) => Hmat {
                    lb: lb_tables,
                    caches: h.caches.clone(),
                },
                None => Hmat::default(),
            },
            ram_size,
            max_ram_size,
            ram_slots: self.ram.slots,
            max_ram_below_4g: self.ram.max_below_4g,
            memory_backend: self.host.machine_backend.clone(),
            uses_memdevs: self
                .nodes
                .iter()
                .any(|n| n.memory.iter().any(|z| z.backend.is_some())),
            backends: self.host.backends.clone(),
            mem_path: self.host.mem_path.clone(),
            mem_prealloc: self.host.prealloc,
            mem_merge: self.host.merge,
            dump_guest_core: self.host.dump,
            split,
            boot_ranges: boot,
            device_memory,
            devices,
            acpi: self.acpi,
            thread_contexts: self.host.thread_contexts.clone(),
            affinity_order: self.affinity_order.clone(),
            warnings,
        })
    }

    fn check_cpus(&self) -> Result<CpuTopology, Error> {
        let c = self.cpus;
        let bad = |kind| Err(Error::in_field(kind, "cpus"));
        let members = [c.sockets, c.dies, c.clusters, c.modules, c.cores, c.threads];
        let product = members.into_iter().try_fold(1u32, |p, v| p.checked_mul(v));
        if members.contains(&0) || product != Some(c.max_cpus) {
            return bad(ErrorKind::CpuTopologyMismatch {
                sockets: c.sockets,
                dies: c.dies,
                clusters: c.clusters,
                modules: c.modules,
                cores: c.cores,
                threads: c.threads,
                max_cpus: c.max_cpus,
            });
        }
        let max = self.board.max_cpus.min(MAX_POSSIBLE_CPUS);
        if c.cpus == 0 || c.cpus > c.max_cpus || c.max_cpus > max {
            return bad(ErrorKind::CpuCount {
                cpus: c.cpus,
                max_cpus: c.max_cpus,
                board_max: max,
            });
        }
        Ok(c)
    }

    /// Distances by node position, completed with the policy.
    fn complete_distances(
        &self,
        order: &[usize],
        position: &dyn Fn(u32) -> Option<usize>,
    ) -> Result<Vec<u8>, Error> {
        let n = order.len();
        let mut d = alloc::vec![0u8; n * n];
        // The pairs come in key order: `a`'s position is looked up once
        // per row, and `b`'s found by walking `order` (ids ascending)
        // along the row, so a full matrix costs O(n²), not O(n² log n).
        let mut row: Option<(u32, Option<usize>)> = None;
        let mut cursor = 0;
        let mut last_b = None;
        for (&(a, b), &v) in &self.distances.given {
            let field = || format!("distances[{a}, {b}]");
            let pa = match row {
                Some((ra, pa)) if ra == a => pa,
                _ => {
                    let pa = position(a);
                    row = Some((a, pa));
                    pa
                }
            };
            if last_b.is_none_or(|l| b < l) {
                cursor = 0;
            }
            last_b = Some(b);
            while cursor < n && self.nodes[order[cursor]].id < b {
                cursor += 1;
            }
            let pb = (cursor < n && self.nodes[order[cursor]].id == b).then_some(cursor);
            debug_assert_eq!(pb, position(b));
            let (Some(pa), Some(pb)) = (pa, pb) else {
                let node = if position(a).is_none() { a } else { b };
                return Err(Error::in_field(
                    ErrorKind::DistanceUnknownNode { node },
                    field(),
                ));
            };
            if v < 10 {
                return Err(Error::in_field(
                    ErrorKind::DistanceTooSmall { val: v },
                    field(),
                ));
            }
            if a == b && v != 10 {
                return Err(Error::in_field(
                    ErrorKind::LocalDistanceNot10 { node: a, val: v },
                    field(),
                ));
            }
            d[pa * n + pb] = v;
        }
        let id = |p: usize| self.nodes[order[p]].id;
        let missing = |a: usize, b: usize| {
            Error::in_field(
                ErrorKind::DistanceNotGiven { a: id(a), b: id(b) },
                "distances",
            )
        };
        match self.distances.missing {
            MissingDistance::Qemu => {
                let mut asymmetric = false;
                for a in 0..n {
                    for b in a + 1..n {
                        let (ab, ba) = (d[a * n + b], d[b * n + a]);
                        if ab == 0 && ba == 0 {
                            return Err(missing(a, b));
                        }
                        asymmetric |= ab != 0 && ba != 0 && ab != ba;
                    }
                }
                if asymmetric {
                    if let Some(k) = (0..n * n).find(|&k| k / n != k % n && d[k] == 0) {
                        return Err(missing(k / n, k % n));
                    }
                }
            }
            MissingDistance::Error => {
                if let Some(k) = (0..n * n).find(|&k| k / n != k % n && d[k] == 0) {
                    return Err(missing(k / n, k % n));
                }
            }
            MissingDistance::Fill(v) => {
                if v < 10 {
                    return Err(Error::in_field(
                        ErrorKind::DistanceTooSmall { val: v },
                        "distances.missing",
                    ));
                }
            }
        }
        let fill = match self.distances.missing {
            MissingDistance::Fill(v) => v,
            _ => 0,
        };
        for a in 0..n {
            for b in 0..n {
                if d[a * n + b] == 0 {
                    d[a * n + b] = match (a == b, d[b * n + a]) {
                        (true, _) => 10,
                        (false, 0) => fill,
                        (false, v) => v,
                    };
                }
            }
        }
        Ok(d)
    }
}

/// The possible CPU slots of a board's CPU topology.
pub(crate) fn board_slots(board: &MachineModel, cpu: &CpuTopology) -> Vec<CpuSlot> {
    match board.cpu_ids {
        CpuIdScheme::X86Apic => cpu.x86_slots(),
        CpuIdScheme::Linear => cpu
            .x86_slots_iter()
            .take(MAX_POSSIBLE_CPUS as usize)
            .map(|s| CpuSlot {
                apic_id: s.index,
                ..s
            })
            .collect(),
        CpuIdScheme::ArmMpidr { cluster_size } => crate::virt::slots(cpu, cluster_size),
    }
}

/// One past the last byte of boot RAM (`base` without RAM); `None` at
/// 2^64.
fn ram_end(boot: &[BootRange], base: u64) -> Option<u64> {
    boot.iter()
        .map(|b| b.range.end())
        .try_fold(base, |m, e| e.map(|e| m.max(e)))
}

/// Bytes in zones at fixed addresses.
fn fixed_size(nodes: &[NodeConfig]) -> u64 {
    nodes
        .iter()
        .flat_map(|n| n.memory.iter())
        .filter(|z| z.addr.is_some())
        .fold(0u64, |s, z| s.saturating_add(z.size))
}

/// Distances as `[from, to, distance]` triples (JSON has no tuple keys).
#[cfg(feature = "serde")]
mod triples {
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(super) fn serialize<S: Serializer>(
        map: &BTreeMap<(u32, u32), u8>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let list: Vec<(u32, u32, u8)> = map.iter().map(|(&(a, b), &d)| (a, b, d)).collect();
        list.serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<(u32, u32), u8>, D::Error> {
        let list = Vec::<(u32, u32, u8)>::deserialize(d)?;
        Ok(list.into_iter().map(|(a, b, v)| ((a, b), v)).collect())
    }
}
