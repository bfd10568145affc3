//! Where each memory zone of a resolved topology lands in guest-physical
//! address space.
//!
//! A VMM that maps one host region per zone (cloud-hypervisor's
//! `--memory-zone`, OpenVMM's per-node sizes) needs each zone's own
//! guest-physical ranges; the memory layout only knows nodes.

use vnuma_ranges::Range;
use vnuma_topology::Topology;

/// One memory zone of a node and the guest-physical ranges holding it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ZoneRanges {
    /// The node id.
    pub node: u32,
    /// The zone's position among the node's zones (`nodes[..].memory[index]`).
    pub index: usize,
    /// Its size in bytes.
    pub size: u64,
    /// The host memory backend named by the zone, if any.
    pub backend: Option<String>,
    /// Its guest-physical ranges in address order: one, or several when
    /// the zone is split around MMIO gaps (or, on QEMU's x86 boards, the
    /// PCI hole and the `[640 KiB, 1 MiB)` window). On x86 the bytes of
    /// that window belong to the zone but are not listed, so the sizes of
    /// the ranges may add up to less than `size`.
    pub ranges: Vec<Range>,
}

/// Every zone of every node, nodes in id order and each node's zones in
/// their configured order, as resolution placed them.
pub(crate) fn zone_ranges(t: &Topology) -> Vec<ZoneRanges> {
    t.nodes()
        .iter()
        .flat_map(|node| {
            node.zones
                .iter()
                .enumerate()
                .map(|(index, zone)| ZoneRanges {
                    node: node.id,
                    index,
                    size: zone.size,
                    backend: zone.backend.clone(),
                    ranges: t.zone_ranges(node.id, index).collect(),
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnuma_topology::cpu::CpuTopology;
    use vnuma_topology::machine::{MachineModel, RamLayout};
    use vnuma_topology::{MemoryZone, NodeConfig, NumaConfig};

    const MIB: u64 = 1 << 20;

    fn r(start: u64, end: u64) -> Range {
        Range::new(start, end).unwrap()
    }

    #[test]
    fn zones_split_around_a_gap_and_fixed_zones_kept() {
        let board = MachineModel::generic("t", 4)
            .with_ram_layout(RamLayout::around_gaps(0, &[r(96 * MIB, 128 * MIB)]));
        let config = NumaConfig::new(board, CpuTopology::new(2))
            .node(
                NodeConfig::new(0)
                    .cpus(0..1)
                    .zone(MemoryZone::new(64 * MIB))
                    .zone(MemoryZone::new(8 * MIB).at(512 * MIB))
                    .zone(MemoryZone::new(64 * MIB).backend("b")),
            )
            .node(
                NodeConfig::new(3)
                    .cpus(1..2)
                    .zone(MemoryZone::new(16 * MIB)),
            )
            .host(vnuma_topology::HostMemory::default().backend(
                vnuma_options::MemoryBackendOptions::new(
                    "b",
                    vnuma_options::BackendKind::Ram,
                    64 * MIB,
                ),
            ));
        let t = config.resolve().unwrap();
        let zones = zone_ranges(&t);
        let got: Vec<(u32, usize, Vec<Range>)> = zones
            .iter()
            .map(|z| (z.node, z.index, z.ranges.clone()))
            .collect();
        assert_eq!(
            got,
            [
                (0, 0, vec![r(0, 64 * MIB)]),
                (0, 1, vec![r(512 * MIB, 520 * MIB)]),
                (0, 2, vec![r(64 * MIB, 96 * MIB), r(128 * MIB, 160 * MIB)]),
                (3, 0, vec![r(160 * MIB, 176 * MIB)]),
            ]
        );
        assert_eq!(zones[2].backend.as_deref(), Some("b"));
        // Every zone's ranges together are exactly the layout's boot RAM.
        let mut all: Vec<Range> = zones.iter().flat_map(|z| z.ranges.clone()).collect();
        all.sort_by_key(Range::start);
        let layout: Vec<Range> = t.boot_ranges().iter().map(|b| b.range).collect();
        let total = |v: &[Range]| v.iter().map(Range::size).sum::<u128>();
        assert_eq!(total(&all), total(&layout));
        for z in &zones {
            for range in &z.ranges {
                assert_eq!(t.layout().node_of(range.start()), Some(z.node));
                assert_eq!(t.layout().node_of(range.last()), Some(z.node));
            }
        }
    }

    #[test]
    fn x86_zones_skip_the_low_window_and_the_pci_hole() {
        let vm = crate::Vm::from_args([
            "-M",
            "q35",
            "-m",
            "4G",
            "-smp",
            "2,sockets=2",
            "-object",
            "memory-backend-ram,id=m0,size=1G",
            "-object",
            "memory-backend-ram,id=m1,size=3G",
            "-numa",
            "node,nodeid=0,memdev=m0",
            "-numa",
            "node,nodeid=1,memdev=m1",
        ])
        .unwrap();
        let zones = vm.zone_ranges();
        assert_eq!(zones.len(), 2);
        assert_eq!(
            zones[0].ranges,
            [r(0, 640 << 10), r(MIB, 1 << 30)],
            "node 0 without the legacy window"
        );
        assert_eq!(zones[1].ranges, [r(1 << 30, 2 << 30), r(4 << 30, 6 << 30)]);
    }
}
