//! The guest memory layout: which guest-physical ranges each node's RAM
//! occupies, the device-memory (hotplug) window, hot-plugged DIMMs, and
//! the reverse question — which node owns an address — in O(log n).
//!
//! ```
//! use vnuma_options::CommandLine;
//! use vnuma_topology::{resolve, layout::MemoryLayout};
//!
//! let cl = CommandLine::parse([
//!     "-M", "q35", "-m", "4G,slots=2,maxmem=8G", "-smp", "2,sockets=2",
//!     "-object", "memory-backend-ram,id=m0,size=2G",
//!     "-object", "memory-backend-ram,id=m1,size=2G",
//!     "-numa", "node,nodeid=0,memdev=m0", "-numa", "node,nodeid=1,memdev=m1",
//! ]).unwrap();
//! let topology = resolve(&cl).unwrap();
//! let mut layout = MemoryLayout::new(&topology);
//!
//! // q35 puts 2 GiB below 4 GiB, the rest from 4 GiB: node 1 is [4G, 6G).
//! assert_eq!(layout.node_of(0x1000), Some(0));
//! assert_eq!(layout.node_of(0xb_0000), None); // the 640K-1M window
//! assert_eq!(layout.node_of(0x1_0000_0000), Some(1));
//! assert_eq!(layout.node_of(0x8000_0000), None); // the PCI hole
//!
//! // A DIMM on node 0 in the hotplug window.
//! let window = layout.device_memory().unwrap();
//! layout.plug_dimm(window.start(), 1 << 30, Some(0)).unwrap();
//! assert_eq!(layout.node_of(window.start()), Some(0));
//! assert_eq!(layout.node_plugged(0), 1 << 30);
//! ```

use alloc::vec::Vec;

use vnuma_ranges::{Range, RangeMap};

use crate::error::{Error, ErrorKind};
use crate::machine::{Chipset, RamLayout};
use crate::topology::Topology;

const KIB: u64 = 1 << 10;
const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;
/// Where x86 RAM above the PCI hole starts.
pub const ABOVE_4G_START: u64 = 4 * GIB;
/// The legacy VGA/ROM window excluded from node 0: `[640 KiB, 1 MiB)`.
pub const LOW_WINDOW: (u64, u64) = (640 * KIB, MIB);
/// QEMU's limit on DIMM slots (`ACPI_MAX_RAM_SLOTS`).
pub const MAX_RAM_SLOTS: u64 = 256;

/// What a guest-physical range holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// Boot RAM of a node (node 0 when NUMA is off).
    Boot(u16),
    /// A hot-plugged DIMM on a node.
    Dimm(u16),
}

impl Owner {
    /// The node.
    pub const fn node(self) -> u16 {
        match self {
            Owner::Boot(n) | Owner::Dimm(n) => n,
        }
    }
}

/// Boot RAM below and above the 4 GiB PCI hole (x86), in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RamSplit {
    /// Guest-physical address of RAM offset 0.
    pub base: u64,
    /// RAM offsets below this map 1:1 (plus `base`).
    pub below_4g: u64,
    /// RAM above the split.
    pub above_4g: u64,
    /// Where RAM above the split starts.
    pub above_4g_start: u64,
}

impl RamSplit {
    /// The split QEMU 7.2 computes for a machine's RAM size.
    pub fn for_topology(t: &Topology) -> RamSplit {
        let ram = t.ram_size();
        match t.machine().ram_layout {
            RamLayout::Flat { base } => RamSplit {
                base,
                below_4g: ram,
                above_4g: 0,
                above_4g_start: base.saturating_add(ram),
            },
            RamLayout::X86 {
                chipset,
                gigabyte_align,
                ..
            } => {
                let lowmem = match chipset {
                    Chipset::I440fx => {
                        let max = t
                            .max_ram_below_4g()
                            .filter(|&m| m != 0)
                            .unwrap_or(0xe000_0000);
                        let mut lowmem = max;
                        if ram >= max && gigabyte_align && lowmem > 0xc000_0000 {
                            lowmem = 0xc000_0000;
                        }
                        lowmem
                    }
                    Chipset::Q35 => {
                        let mut lowmem = if ram >= 0xb000_0000 {
                            0x8000_0000
                        } else {
                            0xb000_0000
                        };
                        let max = t.max_ram_below_4g().filter(|&m| m != 0).unwrap_or(4 * GIB);
                        if lowmem > max {
                            lowmem = max;
                        }
                        lowmem
                    }
                };
                let (below, above) = if ram >= lowmem {
                    (lowmem, ram - lowmem)
                } else {
                    (ram, 0)
                };
                RamSplit {
                    base: 0,
                    below_4g: below,
                    above_4g: above,
                    above_4g_start: ABOVE_4G_START,
                }
            }
        }
    }

    /// The guest-physical ranges of RAM offsets `[offset, offset + len)`.
    pub fn ranges(&self, offset: u64, len: u64) -> Vec<Range> {
        let mut out = Vec::new();
        let end = offset.saturating_add(len);
        if offset < self.below_4g {
            let stop = end.min(self.below_4g);
            if let Ok(r) = Range::new(
                self.base.saturating_add(offset),
                self.base.saturating_add(stop),
            ) {
                out.push(r);
            }
        }
        if end > self.below_4g {
            let from = offset.max(self.below_4g) - self.below_4g;
            let to = end - self.below_4g;
            if let Ok(r) = Range::new(
                self.above_4g_start.saturating_add(from),
                self.above_4g_start.saturating_add(to),
            ) {
                out.push(r);
            }
        }
        out
    }
}

/// The device-memory window QEMU 7.2 reserves for `-m slots=,maxmem=`:
/// `None` without hotplug memory. Errors are QEMU's board-init errors.
pub(crate) fn device_memory(t: &Topology, split: &RamSplit) -> Result<Option<Range>, ErrorKind> {
    let (has_reserved, aligned) = match t.machine().ram_layout {
        RamLayout::X86 {
            has_reserved_memory,
            enforce_aligned_dimm,
            ..
        } => (has_reserved_memory, enforce_aligned_dimm),
        RamLayout::Flat { .. } => (true, true),
    };
    if !has_reserved {
        if t.ram_slots() != 0 || t.max_ram_size() > t.ram_size() {
            return Err(ErrorKind::MemoryHotplugNotSupported {
                machine: t.machine().name.clone(),
            });
        }
        return Ok(None);
    }
    if t.ram_size() >= t.max_ram_size() {
        return Ok(None);
    }
    if t.ram_slots() > MAX_RAM_SLOTS {
        return Err(ErrorKind::UnsupportedSlots {
            slots: t.ram_slots(),
        });
    }
    if t.max_ram_size() % 4096 != 0 {
        return Err(ErrorKind::MaxmemAlignment);
    }
    let too_big = || ErrorKind::UnsupportedMaxmem {
        max: t.max_ram_size(),
    };
    let ram_end = split
        .above_4g_start
        .checked_add(split.above_4g)
        .ok_or_else(too_big)?;
    let base = ram_end.checked_add(GIB - 1).ok_or_else(too_big)? / GIB * GIB;
    let mut size = t.max_ram_size() - t.ram_size();
    if aligned {
        size = size.checked_add(GIB * t.ram_slots()).ok_or_else(too_big)?;
    }
    base.checked_add(size).ok_or_else(too_big)?;
    Range::from_start_len(base, size)
        .map(Some)
        .map_err(|_| too_big())
}

/// A hot-plugged memory device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dimm {
    /// Its guest-physical range.
    pub range: Range,
    /// Its node.
    pub node: u16,
}

/// Guest memory: boot RAM per node, the hotplug window and DIMMs, with an
/// O(log n) address → node index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryLayout {
    split: RamSplit,
    map: RangeMap<Owner>,
    device_memory: Option<Range>,
    nodes: u16,
    boot: Vec<u64>,
    plugged: Vec<u64>,
}

impl MemoryLayout {
    /// The layout of a resolved topology's boot RAM: node `n` holds RAM
    /// offsets `[Σ mem of nodes < n, + mem n)`, mapped around the PCI hole;
    /// the `[640 KiB, 1 MiB)` window is left out (as the guest's SRAT
    /// does). Without NUMA all RAM belongs to node 0.
    pub fn new(t: &Topology) -> MemoryLayout {
        let split = RamSplit::for_topology(t);
        // `resolve` has already checked the window.
        let device_memory = device_memory(t, &split).ok().flatten();
        let sizes: Vec<u64> = if t.nodes().is_empty() {
            alloc::vec![t.ram_size()]
        } else {
            t.nodes().iter().map(|n| n.mem).collect()
        };
        let mut map = RangeMap::new();
        let mut offset = 0u64;
        let x86 = matches!(t.machine().ram_layout, RamLayout::X86 { .. });
        for (node, &len) in sizes.iter().enumerate() {
            for r in split.ranges(offset, len) {
                let pieces: Vec<Range> = if x86 {
                    cut_low_window(r)
                } else {
                    alloc::vec![r]
                };
                for piece in pieces {
                    // Node ranges come from disjoint offsets: no overlap.
                    let _ = map.insert(piece, Owner::Boot(node as u16));
                }
            }
            offset = offset.saturating_add(len);
        }
        let count = sizes.len();
        MemoryLayout {
            split,
            map,
            device_memory,
            nodes: count as u16,
            boot: sizes,
            plugged: alloc::vec![0; count],
        }
    }

    /// The RAM split around the PCI hole.
    pub fn split(&self) -> RamSplit {
        self.split
    }

    /// The node owning guest-physical address `gpa` (boot RAM or a DIMM),
    /// or `None` for holes. O(log n), no allocation.
    pub fn node_of(&self, gpa: u64) -> Option<u16> {
        self.map.get(gpa).map(|o| o.node())
    }

    /// What owns `gpa` and the whole range it lies in.
    pub fn owner_of(&self, gpa: u64) -> Option<(Range, Owner)> {
        self.map.get_entry(gpa).map(|(r, o)| (r, *o))
    }

    /// The guest-physical ranges of a node (boot RAM and DIMMs), in
    /// address order.
    pub fn ranges_of(&self, node: u16) -> impl Iterator<Item = Range> + '_ {
        self.map
            .iter()
            .filter(move |(_, o)| o.node() == node)
            .map(|(r, _)| r)
    }

    /// Every range and its owner, in address order.
    pub fn ranges(&self) -> impl Iterator<Item = (Range, Owner)> + '_ {
        self.map.iter().map(|(r, o)| (r, *o))
    }

    /// The hotplug window (`-m slots=N,maxmem=M`), if any.
    pub fn device_memory(&self) -> Option<Range> {
        self.device_memory
    }

    /// Nodes the layout knows (1 without NUMA).
    pub fn node_count(&self) -> u16 {
        self.nodes
    }

    /// Plug a DIMM of `size` bytes at `addr` on `node` (node 0 if `None`),
    /// with QEMU's node check and vnuma's range checks: inside the hotplug
    /// window, no overlap with another DIMM.
    pub fn plug_dimm(&mut self, addr: u64, size: u64, node: Option<u16>) -> Result<Dimm, Error> {
        let node = node.unwrap_or(0);
        if node >= self.nodes {
            return Err(ErrorKind::DimmNode {
                node: node.into(),
                nodes: self.nodes.into(),
            }
            .into());
        }
        let range =
            Range::from_start_len(addr, size).map_err(|_| ErrorKind::DimmRange { addr, size })?;
        let window = self
            .device_memory
            .ok_or(ErrorKind::DimmRange { addr, size })?;
        if window.intersection(&range) != Some(range) {
            return Err(ErrorKind::DimmRange { addr, size }.into());
        }
        self.map
            .insert(range, Owner::Dimm(node))
            .map_err(|e| ErrorKind::DimmOverlap {
                addr,
                size,
                existing: e.existing.start(),
            })?;
        self.plugged[usize::from(node)] += size;
        Ok(Dimm { range, node })
    }

    /// Unplug the DIMM at exactly `[addr, addr + size)`.
    pub fn unplug_dimm(&mut self, addr: u64, size: u64) -> Option<Dimm> {
        let range = Range::from_start_len(addr, size).ok()?;
        match self.map.get_entry(addr) {
            Some((r, Owner::Dimm(node))) if r == range => {
                let node = *node;
                self.map.remove(range);
                self.plugged[usize::from(node)] -= size;
                Some(Dimm { range, node })
            }
            _ => None,
        }
    }

    /// A node's memory as `info numa` reports it: boot RAM plus DIMMs.
    pub fn node_size(&self, node: u16) -> u64 {
        let i = usize::from(node);
        self.boot.get(i).copied().unwrap_or(0) + self.plugged.get(i).copied().unwrap_or(0)
    }

    /// Hot-plugged memory of a node (`info numa`'s `plugged`).
    pub fn node_plugged(&self, node: u16) -> u64 {
        self.plugged.get(usize::from(node)).copied().unwrap_or(0)
    }
}

/// `r` without `[640 KiB, 1 MiB)`.
fn cut_low_window(r: Range) -> Vec<Range> {
    let (lo, hi) = LOW_WINDOW;
    let mut out = Vec::new();
    if r.start() < lo {
        if let Ok(a) = Range::inclusive(r.start(), r.last().min(lo - 1)) {
            out.push(a);
        }
    }
    if r.last() >= hi {
        if let Ok(b) = Range::inclusive(r.start().max(hi), r.last()) {
            out.push(b);
        }
    }
    out
}

/// The 2016 seed's address index (`numa_set_mem_node_id`,
/// `numa_unset_mem_node_id`, `numa_get_node`): per node a list of
/// inclusive ranges; a lookup scans nodes in id order and the lowest node
/// containing the address wins. Kept for compatibility; new code should
/// use [`MemoryLayout::node_of`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SeedIndex {
    nodes: Vec<Vec<(u64, u64)>>,
}

impl SeedIndex {
    /// An index for `nodes` nodes (at least one).
    pub fn new(nodes: u16) -> SeedIndex {
        SeedIndex {
            nodes: alloc::vec![Vec::new(); usize::from(nodes.max(1))],
        }
    }

    /// Add `[addr, addr + size - 1]` to `node`; size 0 is ignored.
    pub fn set(&mut self, addr: u64, size: u64, node: u16) {
        if size == 0 {
            return;
        }
        if let Some(list) = self.nodes.get_mut(usize::from(node)) {
            list.insert(0, (addr, addr.saturating_add(size - 1)));
        }
    }

    /// Remove the first range of `node` that is exactly
    /// `[addr, addr + size - 1]`; anything else is a no-op.
    pub fn unset(&mut self, addr: u64, size: u64, node: u16) {
        if size == 0 {
            return;
        }
        let last = addr.saturating_add(size - 1);
        if let Some(list) = self.nodes.get_mut(usize::from(node)) {
            if let Some(i) = list.iter().position(|&r| r == (addr, last)) {
                list.remove(i);
            }
        }
    }

    /// The lowest node with a range containing `addr`, or the seed's error
    /// `Address 0x{addr} doesn't belong to any NUMA node`.
    pub fn get_node(&self, addr: u64) -> Result<u16, Error> {
        for (node, list) in self.nodes.iter().enumerate() {
            if list.iter().any(|&(s, l)| s <= addr && addr <= l) {
                return Ok(node as u16);
            }
        }
        Err(ErrorKind::AddressNotInNode { addr }.into())
    }
}
