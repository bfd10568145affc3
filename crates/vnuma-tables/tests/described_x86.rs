//! Tables of x86 guests described in code (`NumaConfig`) rather than by
//! QEMU's syntax: sparse node ids, several zones per node, zones at fixed
//! addresses. Found by the `description` fuzz target.

use vnuma_tables::info::{verify, NumaInfo};
use vnuma_tables::{build, MemoryStyle, TableOptions};
use vnuma_topology::config::{MemoryZone, NodeConfig, NumaConfig};
use vnuma_topology::cpu::CpuTopology;
use vnuma_topology::machine::{Chipset, MachineModel, Version};

const GIB: u64 = 1 << 30;

fn q35(nodes: impl IntoIterator<Item = NodeConfig>) -> NumaConfig {
    let mut c = NumaConfig::new(
        MachineModel::x86(Chipset::Q35, Version::new(7, 2)),
        CpuTopology::new(2),
    );
    for n in nodes {
        c = c.node(n);
    }
    c
}

/// The SRAT memory entries `(base, length, proximity)` with length, and
/// the result of checking the tables against the topology.
fn tables(c: &NumaConfig, opts: &TableOptions) -> Vec<(u64, u64, u32)> {
    let t = c.resolve().unwrap();
    let layout = t.layout();
    let built = build(&t, &layout, opts).unwrap().unwrap();
    let info = NumaInfo::from_tables(&built.srat, None, None).unwrap();
    verify(&t, &layout, opts, &info).unwrap();
    info.memory
        .iter()
        .map(|m| (m.base, m.length, m.proximity))
        .collect()
}

#[test]
fn sparse_node_ids_are_the_memory_proximity_domains() {
    let c = q35([
        NodeConfig::new(0).cpus([0]).zone(MemoryZone::new(GIB)),
        NodeConfig::new(5).cpus([1]).zone(MemoryZone::new(GIB)),
    ]);
    // QEMU's walk, with node 5's memory in domain 5 (not its position 1).
    assert_eq!(
        tables(&c, &TableOptions::default()),
        [
            (0, 640 << 10, 0),
            (1 << 20, GIB - (1 << 20), 0),
            (GIB, GIB, 5)
        ]
    );
}

#[test]
fn zones_of_a_node_are_described_merged_in_qemu_style() {
    let c = q35([
        NodeConfig::new(0)
            .cpus([0])
            .zone(MemoryZone::new(GIB))
            .zone(MemoryZone::new(GIB)),
        NodeConfig::new(1)
            .cpus([1])
            .zone(MemoryZone::new(GIB))
            .zone(MemoryZone::new(GIB)),
    ]);
    assert_eq!(
        tables(&c, &TableOptions::default()),
        [
            (0, 640 << 10, 0),
            (1 << 20, 2 * GIB - (1 << 20), 0),
            (4 * GIB, 2 * GIB, 1)
        ]
    );
    // The layout style has one entry per zone range; both verify.
    let layout = TableOptions::default().with_memory(MemoryStyle::Layout);
    assert_eq!(tables(&c, &layout).len(), 5);
}

#[test]
fn a_zone_at_a_fixed_address_is_described_by_the_layout() {
    let c = q35([
        NodeConfig::new(0).cpus([0]).zone(MemoryZone::new(GIB)),
        NodeConfig::new(1)
            .cpus([1])
            .zone(MemoryZone::new(GIB).at(8 * GIB)),
    ]);
    let t = c.resolve().unwrap();
    assert_eq!(
        TableOptions::default().memory_style(&t),
        MemoryStyle::Layout
    );
    let memory = tables(&c, &TableOptions::default());
    assert!(memory.contains(&(8 * GIB, GIB, 1)), "{memory:x?}");
}
