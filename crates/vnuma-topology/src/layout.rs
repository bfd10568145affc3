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

use alloc::format;
use alloc::string::String;

use crate::config::NodeConfig;
use crate::error::{Error, ErrorKind};
use crate::machine::{Chipset, MachineModel, RamLayout};
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
    Boot(u32),
    /// A hot-plugged DIMM on a node.
    Dimm(u32),
}

impl Owner {
    /// The node.
    pub const fn node(self) -> u32 {
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
        t.split
    }

    /// The split of `ram` bytes (placed by the board's layout) on `board`:
    /// QEMU 7.2's for x86 boards, everything from the base otherwise.
    pub fn new(board: &MachineModel, ram: u64, max_below_4g: Option<u64>) -> RamSplit {
        match &board.ram_layout {
            RamLayout::Flat { base } => RamSplit {
                base: *base,
                below_4g: ram,
                above_4g: 0,
                above_4g_start: base.saturating_add(ram),
            },
            RamLayout::Gaps { base, .. } => RamSplit {
                base: *base,
                below_4g: ram,
                above_4g: 0,
                above_4g_start: base.saturating_add(ram),
            },
            RamLayout::Explicit { ram: ranges } => {
                let base = ranges.first().map_or(0, Range::start);
                RamSplit {
                    base,
                    below_4g: ram,
                    above_4g: 0,
                    above_4g_start: base.saturating_add(ram),
                }
            }
            RamLayout::X86 {
                chipset,
                gigabyte_align,
                ..
            } => {
                let lowmem = match chipset {
                    Chipset::I440fx => {
                        let max = max_below_4g.filter(|&m| m != 0).unwrap_or(0xe000_0000);
                        let mut lowmem = max;
                        if ram >= max && *gigabyte_align && lowmem > 0xc000_0000 {
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
                        let max = max_below_4g.filter(|&m| m != 0).unwrap_or(4 * GIB);
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

    /// The guest-physical ranges of RAM offsets `[offset, offset + len)`
    /// (a range may end at 2^64; nothing past it).
    pub fn ranges(&self, offset: u64, len: u64) -> Vec<Range> {
        let mut out = Vec::new();
        let Some(last) = len.checked_sub(1).and_then(|l| offset.checked_add(l)) else {
            return out;
        };
        if offset < self.below_4g {
            let stop = last.min(self.below_4g - 1);
            if let (Some(a), Some(b)) = (self.base.checked_add(offset), self.base.checked_add(stop))
            {
                out.extend(Range::inclusive(a, b).ok());
            }
        }
        if last >= self.below_4g {
            let from = offset.max(self.below_4g) - self.below_4g;
            let to = last - self.below_4g;
            if let (Some(a), Some(b)) = (
                self.above_4g_start.checked_add(from),
                self.above_4g_start.checked_add(to),
            ) {
                out.extend(Range::inclusive(a, b).ok());
            }
        }
        out
    }

    /// Whether [`RamSplit::ranges`] of `[offset, offset + len)` stays below
    /// 2^64.
    fn fits(&self, offset: u64, len: u64) -> bool {
        let Some(last) = len.checked_sub(1) else {
            return true;
        };
        let Some(last) = offset.checked_add(last) else {
            return false;
        };
        if last < self.below_4g {
            self.base.checked_add(last).is_some()
        } else {
            self.above_4g_start
                .checked_add(last - self.below_4g)
                .is_some()
        }
    }
}

/// The device-memory window QEMU 7.2 reserves for `-m slots=,maxmem=`:
/// `None` without hotplug memory. `ram_end` is where boot RAM ends (`None`
/// past 2^64). Errors are QEMU's board-init errors.
pub(crate) fn device_memory(
    board: &MachineModel,
    ram_end: Option<u64>,
    gaps: &[Range],
    ram_size: u64,
    max_ram_size: u64,
    ram_slots: u64,
) -> Result<Option<Range>, ErrorKind> {
    if let Some(virt) = &board.virt {
        return crate::virt::device_memory(virt, ram_size, max_ram_size, ram_slots)
            .map_err(ErrorKind::Virt)?
            .map(|(base, size)| Range::from_start_len(base, size))
            .transpose()
            .map_err(|_| ErrorKind::Virt(crate::virt::VirtError::MaxmemTooHuge));
    }
    let (has_reserved, aligned) = match board.ram_layout {
        RamLayout::X86 {
            has_reserved_memory,
            enforce_aligned_dimm,
            ..
        } => (has_reserved_memory, enforce_aligned_dimm),
        _ => (true, true),
    };
    if !has_reserved {
        if ram_slots != 0 || max_ram_size > ram_size {
            return Err(ErrorKind::MemoryHotplugNotSupported {
                machine: board.name.clone(),
            });
        }
        return Ok(None);
    }
    if ram_size >= max_ram_size {
        return Ok(None);
    }
    if ram_slots > MAX_RAM_SLOTS {
        return Err(ErrorKind::UnsupportedSlots { slots: ram_slots });
    }
    if max_ram_size % 4096 != 0 {
        return Err(ErrorKind::MaxmemAlignment);
    }
    let too_big = || ErrorKind::UnsupportedMaxmem { max: max_ram_size };
    let ram_end = ram_end.ok_or_else(too_big)?;
    let mut size = max_ram_size - ram_size;
    if aligned {
        size = size
            .checked_add(GIB.checked_mul(ram_slots).ok_or_else(too_big)?)
            .ok_or_else(too_big)?;
    }
    let mut base = ram_end.checked_add(GIB - 1).ok_or_else(too_big)? / GIB * GIB;
    // Past any gap of the board the window would overlap (gaps are in
    // address order).
    for gap in gaps {
        let window = Range::from_start_len(base, size).map_err(|_| too_big())?;
        if window.overlaps(gap) {
            let after = gap.end().ok_or_else(too_big)?;
            base = after.checked_add(GIB - 1).ok_or_else(too_big)? / GIB * GIB;
        }
    }
    base.checked_add(size).ok_or_else(too_big)?;
    Range::from_start_len(base, size)
        .map(Some)
        .map_err(|_| too_big())
}

/// A range of boot RAM and what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct BootRange {
    /// The guest-physical range.
    pub range: Range,
    /// The node id (0 without NUMA).
    pub node: u32,
    /// The zone it belongs to, by position among the node's zones
    /// (`nodes[..].memory[zone]`); `None` without NUMA (all RAM is the
    /// machine's).
    pub zone: Option<usize>,
}

/// Where AMD's HyperTransport range starts (1 TiB - 12 GiB).
const AMD_HT_START: u64 = 0xfd_0000_0000;
/// Where RAM above 4 GiB moves when it would reach the HyperTransport range.
const AMD_ABOVE_1TB_START: u64 = 1 << 40;

/// QEMU 7.2's address-space check at board init (`pc_memory_init`): the
/// highest guest-physical address in use (the end of the 64-bit PCI hole,
/// after RAM above 4 GiB and the device-memory window) must be below
/// 2^`phys_bits`. On machine types that enforce AMD's 1 TiB hole (7.1 on,
/// with the default AMD-vendor CPU model), RAM above 4 GiB moves to 1 TiB
/// when the highest address would reach the HyperTransport range. Returns
/// where RAM above 4 GiB starts.
pub(crate) fn check_address_space(
    board: &MachineModel,
    split: &RamSplit,
    ram_size: u64,
    max_ram_size: u64,
    ram_slots: u64,
    phys_bits: u8,
) -> Result<u64, ErrorKind> {
    let RamLayout::X86 {
        has_reserved_memory,
        enforce_aligned_dimm,
        ..
    } = board.ram_layout
    else {
        return Ok(split.above_4g_start);
    };
    let round = |v: u64| v.checked_add(GIB - 1).map(|x| x / GIB * GIB);
    let max_used = |above_start: u64| -> Option<u64> {
        let above_end = above_start.checked_add(split.above_4g)?;
        let device_memory = has_reserved_memory && ram_size < max_ram_size;
        let device_memory_end = |broken: bool| -> Option<u64> {
            let base = round(above_end)?;
            let mut size = max_ram_size - ram_size;
            if enforce_aligned_dimm {
                size = size.checked_add(GIB.checked_mul(ram_slots)?)?;
            }
            if broken {
                Some(base)
            } else {
                base.checked_add(size)
            }
        };
        let hole64_start = match &board.cxl_windows {
            // CXL: 1 MiB of host-bridge registers after device memory (its
            // whole size, whatever the machine type), then the fixed
            // windows from the next 256 MiB.
            Some(windows) => {
                let start = if device_memory {
                    device_memory_end(false)?
                } else {
                    above_end
                };
                let mut end = start.checked_add(1 << 20)?;
                if !windows.is_empty() {
                    end = end.checked_add((256 << 20) - 1)? & !((256 << 20) - 1);
                    for &w in windows {
                        end = end.checked_add(w)?;
                    }
                }
                end
            }
            None if device_memory => device_memory_end(board.broken_reserved_end)?,
            None => above_end,
        };
        round(hole64_start)?
            .checked_add(board.pci_hole64_size)?
            .checked_sub(1)
    };
    let mut above_start = split.above_4g_start;
    if board.amd_1tb_hole && max_used(above_start).is_none_or(|m| m >= AMD_HT_START) {
        above_start = AMD_ABOVE_1TB_START;
    }
    let limit = 1u64
        .checked_shl(u32::from(phys_bits))
        .map_or(u64::MAX, |v| v - 1);
    match max_used(above_start) {
        Some(used) if used <= limit => Ok(above_start),
        used => Err(ErrorKind::PhysBitsTooLow {
            limit,
            used: used.unwrap_or(u64::MAX),
            bits: phys_bits,
        }),
    }
}

/// Lay boot RAM out: zones at fixed addresses where they say, the others
/// (nodes in id order, zones in order) at consecutive RAM offsets mapped by
/// the board's RAM layout. Returns every range with its node id, checked
/// for overlap and for the end of the address space.
pub(crate) fn place_boot_ram(
    board: &MachineModel,
    split: &RamSplit,
    nodes: &[NodeConfig],
    order: &[usize],
    ram_size: u64,
) -> Result<Vec<BootRange>, Error> {
    let mut map: RangeMap<(u32, usize, usize)> = RangeMap::new();
    let mut put = |r: Range, owner: (u32, usize, usize)| -> Result<(), Error> {
        map.insert(r, owner).map_err(|e| {
            let (_, i, j) = owner;
            Error::in_field(
                ErrorKind::ZoneOverlap {
                    addr: r.start(),
                    other: e.existing.start(),
                },
                format!("nodes[{i}].memory[{j}]"),
            )
        })
    };
    let x86 = matches!(board.ram_layout, RamLayout::X86 { .. });
    let mut offset = 0u64;
    let sequential: Vec<(usize, usize, u64)> = if nodes.is_empty() {
        alloc::vec![(usize::MAX, 0, ram_size)]
    } else {
        order
            .iter()
            .flat_map(|&i| {
                nodes[i]
                    .memory
                    .iter()
                    .enumerate()
                    .filter(|(_, z)| z.addr.is_none())
                    .map(move |(j, z)| (i, j, z.size))
            })
            .collect()
    };
    for (i, j, len) in sequential {
        let node = nodes.get(i).map_or(0, |n| n.id);
        let field = || {
            if i == usize::MAX {
                String::from("ram.size")
            } else {
                format!("nodes[{i}].memory[{j}].size")
            }
        };
        let ranges = match &board.ram_layout {
            RamLayout::X86 { .. } | RamLayout::Flat { .. } => {
                if !split.fits(offset, len) {
                    return Err(Error::in_field(ErrorKind::RamTooLarge, field()));
                }
                split.ranges(offset, len)
            }
            RamLayout::Gaps { base, gaps } => fill(&complement(*base, gaps), offset, len)
                .ok_or_else(|| Error::in_field(ErrorKind::RamTooLarge, field()))?,
            RamLayout::Explicit { ram } => fill(ram, offset, len).ok_or_else(|| {
                Error::in_field(ErrorKind::RamDoesNotFit { size: ram_size }, field())
            })?,
        };
        for r in ranges {
            let pieces = if x86 {
                cut_low_window(r)
            } else {
                alloc::vec![r]
            };
            for piece in pieces {
                put(piece, (node, i, j))?;
            }
        }
        offset = offset.saturating_add(len);
    }
    for &i in order {
        for (j, z) in nodes[i].memory.iter().enumerate() {
            let Some(addr) = z.addr else { continue };
            let r = Range::from_start_len(addr, z.size).map_err(|_| {
                Error::in_field(
                    ErrorKind::RamTooLarge,
                    format!("nodes[{i}].memory[{j}].addr"),
                )
            })?;
            // x86: the PCI hole between RAM below 4 GiB and RAM above.
            let hole = Range::new(
                split.base.saturating_add(split.below_4g),
                split.above_4g_start,
            )
            .ok()
            .filter(|_| x86);
            if let Some(hole) = hole.filter(|h| h.overlaps(&r)) {
                return Err(Error::in_field(
                    ErrorKind::ZoneInGap {
                        addr,
                        gap: hole.start(),
                    },
                    format!("nodes[{i}].memory[{j}].addr"),
                ));
            }
            if let RamLayout::Gaps { gaps, .. } = &board.ram_layout {
                if let Some(gap) = gaps.iter().find(|g| g.overlaps(&r)) {
                    return Err(Error::in_field(
                        ErrorKind::ZoneInGap {
                            addr,
                            gap: gap.start(),
                        },
                        format!("nodes[{i}].memory[{j}].addr"),
                    ));
                }
            }
            put(r, (nodes[i].id, i, j))?;
        }
    }
    Ok(map
        .iter()
        .map(|(range, &(node, i, zone))| BootRange {
            range,
            node,
            zone: (i != usize::MAX).then_some(zone),
        })
        .collect())
}

/// The address space from `base` up without `gaps`.
fn complement(base: u64, gaps: &[Range]) -> Vec<Range> {
    let mut out = Vec::new();
    let mut at = Some(base);
    for g in gaps {
        let Some(from) = at else { break };
        if g.last() < from {
            continue;
        }
        if g.start() > from {
            if let Ok(r) = Range::new(from, g.start()) {
                out.push(r);
            }
        }
        at = g.end().map(|e| e.max(from));
    }
    if let Some(from) = at {
        out.push(Range::to_top(from));
    }
    out
}

/// The guest-physical ranges of `[offset, offset + len)` when RAM fills
/// `ranges` in order; `None` if it does not fit.
fn fill(ranges: &[Range], offset: u64, len: u64) -> Option<Vec<Range>> {
    let mut out = Vec::new();
    let mut skip = u128::from(offset);
    let mut left = u128::from(len);
    for r in ranges {
        if left == 0 {
            break;
        }
        let size = r.size();
        if skip >= size {
            skip -= size;
            continue;
        }
        let take = (size - skip).min(left);
        let start = r.start() + skip as u64;
        out.push(Range::inclusive(start, start + (take - 1) as u64).ok()?);
        left -= take;
        skip = 0;
    }
    (left == 0).then_some(out)
}

/// A hot-plugged memory device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dimm {
    /// Its guest-physical range.
    pub range: Range,
    /// Its node.
    pub node: u32,
}

/// Guest memory: boot RAM per node, the hotplug window and DIMMs, with an
/// O(log n) address → node index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryLayout {
    split: RamSplit,
    map: RangeMap<Owner>,
    device_memory: Option<Range>,
    /// Node ids in ascending order (`[0]` without NUMA).
    ids: Vec<u32>,
    boot: Vec<u64>,
    /// Ranges of memory devices on no node (virtio-pmem).
    pmem: Vec<Range>,
    /// Ranges of virtio-mem devices, which count nothing as plugged at
    /// boot and are no DIMMs to unplug.
    virtio_mem: Vec<Range>,
    plugged: Vec<u64>,
}

impl MemoryLayout {
    /// The layout of a resolved topology: boot RAM as resolution placed
    /// it (node `n` holds RAM offsets `[Σ mem of nodes < n, + mem n)` on
    /// QEMU's boards, around the PCI hole, without the `[640 KiB, 1 MiB)`
    /// window), and the device-memory window it reserved. Without NUMA all
    /// RAM belongs to node 0. Nothing is recomputed.
    pub fn new(t: &Topology) -> MemoryLayout {
        let mut map = RangeMap::with_capacity(t.boot_ranges.len());
        for b in &t.boot_ranges {
            // Placement rejected overlaps when the topology was resolved.
            let _ = map.insert(b.range, Owner::Boot(b.node));
        }
        let ids: Vec<u32> = if t.nodes().is_empty() {
            alloc::vec![0]
        } else {
            t.nodes().iter().map(|n| n.id).collect()
        };
        let boot: Vec<u64> = if t.nodes().is_empty() {
            alloc::vec![t.ram_size()]
        } else {
            t.nodes().iter().map(|n| n.mem).collect()
        };
        let count = ids.len();
        let mut plugged = alloc::vec![0u64; count];
        let mut pmem = Vec::new();
        let mut virtio_mem = Vec::new();
        for d in &t.devices {
            if matches!(
                d.config.kind,
                crate::devices::MemoryDeviceKind::VirtioMem { .. }
            ) {
                virtio_mem.push(d.range);
            }
            // virtio-pmem is no node's memory, but QEMU 7.2 counts it on
            // node 0 in `info numa`.
            let i = ids.binary_search(&d.node.unwrap_or(0)).unwrap_or(0);
            plugged[i] = plugged[i].saturating_add(d.plugged());
            match d.node {
                Some(n) => {
                    // Placement rejected overlaps.
                    let _ = map.insert(d.range, Owner::Dimm(n));
                }
                None => pmem.push(d.range),
            }
        }
        MemoryLayout {
            split: t.split,
            map,
            device_memory: t.device_memory,
            ids,
            boot,
            plugged,
            pmem,
            virtio_mem,
        }
    }

    /// The RAM split around the PCI hole.
    pub fn split(&self) -> RamSplit {
        self.split
    }

    /// The node owning guest-physical address `gpa` (boot RAM or a DIMM),
    /// or `None` for holes. O(log n), no allocation.
    pub fn node_of(&self, gpa: u64) -> Option<u32> {
        self.map.get(gpa).map(|o| o.node())
    }

    /// What owns `gpa` and the whole range it lies in.
    pub fn owner_of(&self, gpa: u64) -> Option<(Range, Owner)> {
        self.map.get_entry(gpa).map(|(r, o)| (r, *o))
    }

    /// The guest-physical ranges of a node (boot RAM and DIMMs), in
    /// address order.
    pub fn ranges_of(&self, node: u32) -> impl Iterator<Item = Range> + '_ {
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
    pub fn node_count(&self) -> usize {
        self.ids.len()
    }

    /// The node ids, ascending (`[0]` without NUMA).
    pub fn node_ids(&self) -> &[u32] {
        &self.ids
    }

    fn index(&self, node: u32) -> Option<usize> {
        self.ids.binary_search(&node).ok()
    }

    /// Plug a DIMM of `size` bytes at `addr` on `node` (node 0 if `None`),
    /// with QEMU's node check and vnuma's range checks: inside the hotplug
    /// window, no overlap with another DIMM.
    pub fn plug_dimm(&mut self, addr: u64, size: u64, node: Option<u32>) -> Result<Dimm, Error> {
        let node = node.unwrap_or(0);
        let Some(i) = self.index(node) else {
            return Err(ErrorKind::DimmNode {
                node,
                nodes: self.ids.len() as u32,
            }
            .into());
        };
        let range =
            Range::from_start_len(addr, size).map_err(|_| ErrorKind::DimmRange { addr, size })?;
        let window = self
            .device_memory
            .ok_or(ErrorKind::DimmRange { addr, size })?;
        if window.intersection(&range) != Some(range) {
            return Err(ErrorKind::DimmRange { addr, size }.into());
        }
        if let Some(p) = self.pmem.iter().find(|p| p.overlaps(&range)) {
            return Err(ErrorKind::DimmOverlap {
                addr,
                size,
                existing: p.start(),
            }
            .into());
        }
        self.map
            .insert(range, Owner::Dimm(node))
            .map_err(|e| ErrorKind::DimmOverlap {
                addr,
                size,
                existing: e.existing.start(),
            })?;
        self.plugged[i] = self.plugged[i].saturating_add(size);
        Ok(Dimm { range, node })
    }

    /// Unplug the DIMM at exactly `[addr, addr + size)`. `None` when no
    /// DIMM is there; a virtio-mem device is not a DIMM (it plugs its
    /// memory itself, block by block) and is not unplugged here.
    pub fn unplug_dimm(&mut self, addr: u64, size: u64) -> Option<Dimm> {
        let range = Range::from_start_len(addr, size).ok()?;
        if self.virtio_mem.contains(&range) {
            return None;
        }
        match self.map.get_entry(addr) {
            Some((r, Owner::Dimm(node))) if r == range => {
                let node = *node;
                self.map.remove(range);
                if let Some(i) = self.index(node) {
                    self.plugged[i] = self.plugged[i].saturating_sub(size);
                }
                Some(Dimm { range, node })
            }
            _ => None,
        }
    }

    /// A node's memory as `info numa` reports it: boot RAM plus DIMMs.
    pub fn node_size(&self, node: u32) -> u64 {
        self.index(node)
            .map_or(0, |i| self.boot[i].saturating_add(self.plugged[i]))
    }

    /// Hot-plugged memory of a node (`info numa`'s `plugged`).
    pub fn node_plugged(&self, node: u32) -> u64 {
        self.index(node).map_or(0, |i| self.plugged[i])
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
