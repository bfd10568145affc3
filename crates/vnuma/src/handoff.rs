//! Bridges a VMM would otherwise write: what the backend crate needs to
//! allocate a topology's RAM ([`ram_request`]), and the layout as
//! guest-physical segments ([`segments`]) with everything needed to map
//! them: zone, node, offset in the host memory, guest address, length.

use vnuma_backend::{BootRam, DefaultRam, NodeRam, RamRequest};
use vnuma_topology::layout::RamSplit;
use vnuma_topology::machine::RamLayout;
use vnuma_topology::Topology;

use crate::report;

/// What the backend crate needs to place a topology's RAM: every backend,
/// how boot RAM is made up (per-node backends, the machine backend, or
/// the machine's default RAM backend honouring `-mem-path`), and the
/// machine's property defaults (`-mem-prealloc`, `mem-merge`, ...).
///
/// ```
/// # use vnuma::topology::{cpu::CpuTopology, machine::MachineModel, HostMemory, MemoryZone, NodeConfig, NumaConfig};
/// # use vnuma::options::{BackendKind, MemoryBackendOptions};
/// let config = NumaConfig::new(MachineModel::generic("vmm", 2), CpuTopology::new(2))
///     .node(NodeConfig::new(0).cpus(0..2).zone(MemoryZone::new(4 << 20).backend("m0")))
///     .host(HostMemory::default().backend(MemoryBackendOptions::new("m0", BackendKind::Ram, 4 << 20)));
/// let req = vnuma::ram_request(&config.resolve()?);
/// assert_eq!(req.ram_size, 4 << 20);
/// assert!(matches!(req.boot, vnuma::backend::BootRam::Nodes(_)));
/// # Ok::<(), vnuma::topology::Error>(())
/// ```
pub fn ram_request(t: &Topology) -> RamRequest {
    let boot = if t.uses_memdevs() {
        BootRam::Nodes(
            t.nodes()
                .iter()
                .map(|n| NodeRam {
                    node: n.id,
                    memdev: n.memdev.clone(),
                })
                .collect(),
        )
    } else if let Some(id) = t.memory_backend() {
        BootRam::Backend(id.into())
    } else {
        let mut ram = DefaultRam::new(
            t.machine()
                .default_ram_id
                .clone()
                .unwrap_or_else(|| "ram".into()),
        );
        ram.mem_path = t.mem_path().map(String::from);
        BootRam::Default(ram)
    };
    RamRequest {
        ram_size: t.ram_size(),
        backends: t.backends().to_vec(),
        boot,
        defaults: report::backend_defaults(t),
        thread_contexts: t.thread_contexts().to_vec(),
    }
}

/// A stretch of boot RAM at one guest-physical address, inside one memory
/// zone of one node.
///
/// Two ways to back it with host memory:
/// * one mapping per zone (cloud-hypervisor, OpenVMM): map `len` bytes at
///   `zone_offset` of the zone's mapping at `guest_address`;
/// * one `GuestRam` per guest (`Vm::allocate`, per-node backends in
///   RAM-offset order): the bytes at `ram_offset` of the guest's RAM.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Segment {
    /// The node id; `None` without NUMA.
    pub node: Option<u32>,
    /// The zone, by position among the node's zones
    /// (`nodes[..].memory[zone]`); `None` without NUMA.
    pub zone: Option<usize>,
    /// The host memory backend of the zone (or of the machine's RAM
    /// without NUMA), if one is named.
    pub backend: Option<String>,
    /// Offset in the zone's own host memory (a mapping per zone).
    pub zone_offset: u64,
    /// Offset in boot RAM (`GuestRam`, which places the nodes'
    /// backends one after the other); `None` for a zone at a fixed
    /// address, which is outside RAM-offset space.
    pub ram_offset: Option<u64>,
    /// Guest-physical address of the first byte.
    pub guest_address: u64,
    /// Bytes.
    pub len: u64,
}

#[cfg(feature = "vm-memory")]
impl Segment {
    /// The segment for `NumaGuestMemory::from_segments`, with the zone's
    /// own mapping.
    pub fn backend_segment(&self) -> vnuma_backend::BackendSegment {
        vnuma_backend::BackendSegment {
            offset: self.zone_offset,
            len: self.len,
            guest_address: self.guest_address,
            node: self.node,
        }
    }

    /// The segment for `GuestRam::guest_memory` (`None` for a zone at a
    /// fixed address).
    pub fn gpa_segment(&self) -> Option<vnuma_backend::GpaSegment> {
        Some(vnuma_backend::GpaSegment {
            ram_offset: self.ram_offset?,
            len: self.len,
            guest_address: self.guest_address,
        })
    }
}

/// The RAM offset of guest address `gpa` on QEMU's x86 boards (the
/// `[640 KiB, 1 MiB)` window is RAM but no segment).
fn x86_ram_offset(split: &RamSplit, gpa: u64) -> u64 {
    if gpa < split.base.saturating_add(split.below_4g) {
        gpa - split.base
    } else {
        gpa - split.above_4g_start + split.below_4g
    }
}

/// The layout of a topology's boot RAM as segments: nodes in id order,
/// each node's zones in order, each zone's ranges in address order (so
/// `zone_offset` grows within a zone). DIMMs and the hotplug window are
/// not boot RAM.
///
/// ```
/// use vnuma::ranges::Range;
/// use vnuma::topology::{cpu::CpuTopology, machine::{MachineModel, RamLayout}};
/// use vnuma::topology::{MemoryZone, NodeConfig, NumaConfig};
/// const MIB: u64 = 1 << 20;
/// let board = MachineModel::generic("vmm", 2)
///     .with_ram_layout(RamLayout::around_gaps(0, &[Range::new(96 * MIB, 128 * MIB)?]));
/// let t = NumaConfig::new(board, CpuTopology::new(2))
///     .node(NodeConfig::new(0).cpus(0..1).zone(MemoryZone::new(128 * MIB)))
///     .node(NodeConfig::new(1).cpus(1..2).zone(MemoryZone::new(64 * MIB)))
///     .resolve()?;
/// let s = vnuma::segments(&t);
/// // Node 0's zone runs around the gap: two segments of one zone.
/// let view: Vec<_> = s.iter().map(|s| (s.node, s.zone_offset, s.guest_address, s.len)).collect();
/// assert_eq!(view, [
///     (Some(0), 0, 0, 96 * MIB),
///     (Some(0), 96 * MIB, 128 * MIB, 32 * MIB),
///     (Some(1), 0, 160 * MIB, 64 * MIB),
/// ]);
/// assert_eq!(s[2].ram_offset, Some(128 * MIB));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn segments(t: &Topology) -> Vec<Segment> {
    let x86 = matches!(t.machine().ram_layout, RamLayout::X86 { .. });
    let split = RamSplit::for_topology(t);
    let mut out = Vec::new();
    let mut push_zone =
        |node: Option<u32>,
         zone: Option<usize>,
         backend: Option<String>,
         ram_start: Option<u64>,
         ranges: &mut dyn Iterator<Item = vnuma_ranges::Range>| {
            let mut zone_offset = 0u64;
            for r in ranges {
                let len = u64::try_from(r.size()).unwrap_or(u64::MAX);
                let ram_offset = match (ram_start, x86) {
                    (Some(_), true) => Some(x86_ram_offset(&split, r.start())),
                    (Some(start), false) => Some(start.saturating_add(zone_offset)),
                    (None, _) => None,
                };
                if let (true, Some(start), Some(off)) = (x86, ram_start, ram_offset) {
                    zone_offset = off.saturating_sub(start);
                }
                out.push(Segment {
                    node,
                    zone,
                    backend: backend.clone(),
                    zone_offset,
                    ram_offset,
                    guest_address: r.start(),
                    len,
                });
                zone_offset = zone_offset.saturating_add(len);
            }
        };
    if t.nodes().is_empty() {
        let backend = t
            .memory_backend()
            .map(String::from)
            .or_else(|| t.machine().default_ram_id.clone());
        let mut ranges = t.boot_ranges().iter().map(|b| b.range);
        push_zone(None, None, backend, Some(0), &mut ranges);
        return out;
    }
    let numa = t.numa_enabled();
    let mut ram_cursor = 0u64;
    for node in t.nodes() {
        for (index, zone) in node.zones.iter().enumerate() {
            let ram_start = zone.addr.is_none().then_some(ram_cursor);
            if zone.addr.is_none() {
                ram_cursor = ram_cursor.saturating_add(zone.size);
            }
            let mut ranges = t.zone_ranges(node.id, index);
            push_zone(
                numa.then_some(node.id),
                numa.then_some(index),
                zone.backend.clone(),
                ram_start,
                &mut ranges,
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnuma_options::CommandLine;

    #[test]
    fn q35_segments_follow_the_pci_hole_and_the_640k_window() {
        let cl = CommandLine::parse([
            "-M",
            "q35",
            "-m",
            "4G",
            "-object",
            "memory-backend-ram,id=a,size=1G",
            "-object",
            "memory-backend-ram,id=b,size=3G",
            "-numa",
            "node,memdev=a",
            "-numa",
            "node,memdev=b",
        ])
        .unwrap();
        let t = vnuma_topology::resolve(&cl).unwrap();
        let s = segments(&t);
        let view: Vec<_> = s
            .iter()
            .map(|s| (s.node, s.zone_offset, s.ram_offset, s.guest_address, s.len))
            .collect();
        const K: u64 = 1 << 10;
        const G: u64 = 1 << 30;
        assert_eq!(
            view,
            [
                (Some(0), 0, Some(0), 0, 640 * K),
                (Some(0), 1 << 20, Some(1 << 20), 1 << 20, G - (1 << 20)),
                (Some(1), 0, Some(G), G, G),
                (Some(1), G, Some(2 * G), 4 * G, 2 * G),
            ]
        );
        assert_eq!(s[3].backend.as_deref(), Some("b"));
        // RAM offsets agree with the request GuestRam is built from.
        let req = ram_request(&t);
        assert_eq!(req.ram_size, 4 * G);
    }

    #[test]
    fn without_numa_one_zone_of_the_machine() {
        let cl = CommandLine::parse(["-m", "1G"]).unwrap();
        let t = vnuma_topology::resolve(&cl).unwrap();
        let s = segments(&t);
        assert!(s.iter().all(|s| s.node.is_none() && s.zone.is_none()));
        assert_eq!(s[0].backend.as_deref(), Some("pc.ram"));
        assert_eq!(s.iter().map(|s| s.len).sum::<u64>(), (1 << 30) - 384 * 1024);
    }
}
