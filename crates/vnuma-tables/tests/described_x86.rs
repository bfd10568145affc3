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

/// A described HMAT: a bandwidth table between nodes 0 and 7 (sparse ids).
fn hmat_config(bandwidth: u64, base_given: u64) -> NumaConfig {
    use vnuma_options::{HmatLbDataType, HmatLbMemoryHierarchy};
    use vnuma_topology::{Hmat, LbTable};
    let mut lb = LbTable::default();
    lb.hierarchy = Some(HmatLbMemoryHierarchy::Memory);
    lb.data_type = Some(HmatLbDataType::AccessBandwidth);
    lb.base = base_given;
    lb.entries = vec![(0, 0, 4 * bandwidth), (0, 7, bandwidth)];
    let mut h = Hmat::default();
    h.lb.push(lb);
    q35([
        NodeConfig::new(0).cpus([0, 1]).zone(MemoryZone::new(GIB)),
        NodeConfig::new(7).zone(MemoryZone::new(GIB)),
    ])
    .hmat(h)
}

#[test]
fn described_hmat_targets_are_node_ids_and_the_base_is_computed() {
    use vnuma_tables::hmat::{Hmat, HmatStructure};
    // The given base (1 byte/s) is replaced by the one QEMU's rules give
    // (the lowest set bit of the entries: 256 MiB/s).
    let c = hmat_config(256 << 20, 1);
    let t = c.resolve().unwrap();
    assert_eq!(t.hmat().lb[0].base, 256 << 20);
    let layout = t.layout();
    let opts = TableOptions::default();
    let built = build(&t, &layout, &opts).unwrap().unwrap();
    let hmat = built.hmat.as_deref().expect("an HMAT");
    let (_, h) = Hmat::parse(hmat).unwrap();
    let lb = h
        .structures
        .iter()
        .find_map(|s| match s {
            HmatStructure::Locality(l) => Some(l),
            _ => None,
        })
        .unwrap();
    assert_eq!(lb.targets, [0, 7]);
    assert_eq!(lb.base_unit, 256);
    assert_eq!(lb.entry(0, 0), Some(4));
    assert_eq!(lb.entry(0, 7), Some(1));
    let info = NumaInfo::from_tables(&built.srat, built.slit.as_deref(), Some(hmat)).unwrap();
    verify(&t, &layout, &opts, &info).unwrap();
}

#[test]
fn described_hmat_values_get_qemus_checks_with_a_path() {
    // Not whole MiB/s: QEMU's alignment rule, named by the entry.
    let e = hmat_config(1000, 0).resolve().unwrap_err();
    assert_eq!(e.path(), Some("hmat.lb[0].entries[0]"));
    assert!(e.to_string().contains("MB"), "{e}");
    // More than 16 bits between the smallest and largest entry.
    let mut c = hmat_config(1 << 20, 0);
    if let Some(h) = c.hmat.as_mut() {
        h.lb[0].entries[0].2 = 1 << 40;
    }
    let e = c.resolve().unwrap_err();
    assert_eq!(e.path(), Some("hmat.lb[0].entries[1]"));
    // The same pair twice.
    let mut c = hmat_config(1 << 20, 0);
    if let Some(h) = c.hmat.as_mut() {
        h.lb[0].entries[1].1 = 0;
    }
    let e = c.resolve().unwrap_err();
    assert_eq!(e.path(), Some("hmat.lb[0].entries[1]"));
    assert!(e.to_string().contains("Duplicate"), "{e}");
    // A row for a node without CPUs (node 7): not an initiator.
    let mut c = hmat_config(1 << 20, 0);
    if let Some(h) = c.hmat.as_mut() {
        h.lb[0].entries[1] = (7, 0, 1 << 20);
    }
    let e = c.resolve().unwrap_err();
    assert_eq!(e.path(), Some("hmat.lb[0].entries[1]"));
    assert!(e.to_string().contains("initiator=7"), "{e}");
}
