//! Node ids with gaps (a VMM's own description): proximity domains are the
//! ids, so the SLIT covers every domain up to the highest id and the
//! device tree's distance map names nodes by id.

use vnuma_tables::info::{verify, NumaInfo};
use vnuma_tables::{build, TableOptions};
use vnuma_topology::cpu::CpuTopology;
use vnuma_topology::machine::MachineModel;
use vnuma_topology::{Distances, MemoryZone, NodeConfig, NumaConfig};

const GIB: u64 = 1 << 30;

#[test]
fn slit_is_indexed_by_node_id() {
    let t = NumaConfig::new(MachineModel::generic("sparse", 2), CpuTopology::new(2))
        .node(NodeConfig::new(0).cpus([0]).zone(MemoryZone::new(GIB)))
        .node(NodeConfig::new(2).cpus([1]).zone(MemoryZone::new(GIB)))
        .distances(Distances::qemu().set(0, 2, 30))
        .resolve()
        .unwrap();
    let layout = t.layout();
    let opts = TableOptions::default();
    let tables = build(&t, &layout, &opts).unwrap().unwrap();
    let info = NumaInfo::from_tables(&tables.srat, tables.slit.as_deref(), tables.hmat.as_deref())
        .unwrap();
    // Domain 1 is no node: unreachable from the others, 10 from itself.
    assert_eq!(info.distance(0, 2), Some(30));
    assert_eq!(info.distance(2, 0), Some(30));
    assert_eq!(info.distance(0, 1), Some(255));
    assert_eq!(info.distance(1, 1), Some(10));
    assert_eq!(info.distance(2, 2), Some(10));
    verify(&t, &layout, &opts, &info).unwrap();
    // SRAT memory entries carry the ids.
    let domains: Vec<u32> = info.memory.iter().map(|m| m.proximity).collect();
    assert!(domains.contains(&2) && !domains.contains(&1), "{domains:?}");
}

#[cfg(feature = "fdt")]
#[test]
fn distance_map_names_nodes_by_id() {
    let t = NumaConfig::new(MachineModel::generic("sparse", 2), CpuTopology::new(2))
        .node(NodeConfig::new(3).cpus([0]).zone(MemoryZone::new(GIB)))
        .node(NodeConfig::new(7).cpus([1]).zone(MemoryZone::new(GIB)))
        .distances(Distances::fill(20))
        .resolve()
        .unwrap();
    let dtb = vnuma_tables::fdt::numa_dtb(&t, &t.layout()).unwrap();
    // The distance-matrix property: <3 3 10 3 7 20 7 3 20 7 7 10>.
    let cells: Vec<u8> = [3u32, 3, 10, 3, 7, 20, 7, 3, 20, 7, 7, 10]
        .iter()
        .flat_map(|c| c.to_be_bytes())
        .collect();
    assert!(
        dtb.windows(cells.len()).any(|w| w == cells.as_slice()),
        "distance-matrix by node id"
    );
}
