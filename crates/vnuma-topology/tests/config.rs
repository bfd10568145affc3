//! The typed description (`NumaConfig`) as a VMM builds it: shapes QEMU's
//! syntax cannot express, the validation of boards, and errors that name
//! the field at fault.

use vnuma_options::{BackendKind, CommandLine, MemoryBackendOptions};
use vnuma_ranges::Range;
use vnuma_topology::cpu::CpuTopology;
use vnuma_topology::machine::{DefaultCpuNode, MachineModel, RamLayout};
use vnuma_topology::{
    resolve_with, Config, Distances, ErrorKind, HostMemory, MemoryZone, NodeConfig, NumaConfig,
    RamConfig,
};

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

fn board(max_cpus: u32) -> MachineModel {
    MachineModel::generic("test-vmm", max_cpus)
}

fn two_nodes() -> NumaConfig {
    NumaConfig::new(board(8), CpuTopology::new(8).with_sockets(2))
        .node(NodeConfig::new(0).cpus(0..4).zone(MemoryZone::new(GIB)))
        .node(NodeConfig::new(1).cpus(4..8).zone(MemoryZone::new(GIB)))
}

#[track_caller]
fn rejects(config: &NumaConfig, path: &str, message: &str) -> ErrorKind {
    let err = config.resolve().expect_err("must be rejected");
    assert_eq!(err.path(), Some(path), "{err}");
    assert_eq!(err.to_string(), message);
    assert_eq!(err.display_qemu().to_string(), format!("{path}: {message}"));
    err.kind().clone()
}

#[test]
fn max_nodes_is_enforced() {
    let config = two_nodes().node(NodeConfig::new(2)).clone();
    let mut config = config;
    config.board = config.board.with_max_nodes(2);
    let kind = rejects(
        &config,
        "nodes",
        "3 NUMA nodes, but the board allows at most 2",
    );
    assert!(matches!(kind, ErrorKind::TooManyNodes { count: 3, max: 2 }));
    config.board = config.board.with_max_nodes(3);
    assert_eq!(config.resolve().unwrap().nodes().len(), 3);

    // Through QEMU's syntax with the VMM's own board, too.
    let cl = CommandLine::parse([
        "-m",
        "128M",
        "-object",
        "memory-backend-ram,id=m0,size=128M",
        "-numa",
        "node,memdev=m0",
        "-numa",
        "node",
        "-numa",
        "node",
    ])
    .unwrap();
    let err = resolve_with(&cl, &Config::with_machine(board(8).with_max_nodes(2))).unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::TooManyNodes { count: 3, max: 2 }),
        "{err}"
    );
}

#[test]
fn board_alignment_must_be_a_power_of_two() {
    let mut config = two_nodes();
    config.board.ram_align = 3;
    rejects(
        &config,
        "board.ram_align",
        "invalid board: ram_align must be a power of two",
    );
    config.board.ram_align = 0;
    rejects(
        &config,
        "board.ram_align",
        "invalid board: ram_align must be a power of two",
    );
    config.board.ram_align = 1 << 21;
    config.resolve().unwrap();

    let mut config = two_nodes();
    config.board.default_cpu_node = DefaultCpuNode::Table(Vec::new());
    rejects(
        &config,
        "board.default_cpu_node",
        "invalid board: default_cpu_node the table must not be empty",
    );
    let mut config = two_nodes();
    config.board.max_cpus = 0;
    rejects(
        &config,
        "board.max_cpus",
        "invalid board: max_cpus must be between 1 and 65536",
    );
}

#[test]
fn ram_past_the_end_of_the_address_space_is_an_error() {
    let top = u64::MAX - 4095; // the last page
    let config = NumaConfig::new(
        board(1).with_ram_layout(RamLayout::Flat { base: top }),
        CpuTopology::new(1),
    )
    .node(NodeConfig::new(0).cpus([0]).zone(MemoryZone::new(GIB)));
    rejects(
        &config,
        "nodes[0].memory[0].size",
        "guest RAM runs past the end of the address space",
    );
    // Exactly up to 2^64 fits.
    let config = NumaConfig::new(
        board(1).with_ram_layout(RamLayout::Flat { base: top }),
        CpuTopology::new(1),
    )
    .node(NodeConfig::new(0).cpus([0]).zone(MemoryZone::new(4096)));
    let t = config.resolve().unwrap();
    assert_eq!(t.layout().node_of(u64::MAX), Some(0));

    // A fixed address near the top, and a total that overflows u64.
    let config = NumaConfig::new(board(1), CpuTopology::new(1)).node(
        NodeConfig::new(0)
            .cpus([0])
            .zone(MemoryZone::new(GIB).at(u64::MAX - MIB)),
    );
    rejects(
        &config,
        "nodes[0].memory[0].addr",
        "guest RAM runs past the end of the address space",
    );
    let config = NumaConfig::new(board(1), CpuTopology::new(1)).node(
        NodeConfig::new(0)
            .cpus([0])
            .zone(MemoryZone::new(u64::MAX))
            .zone(MemoryZone::new(u64::MAX)),
    );
    rejects(
        &config,
        "nodes[0].memory[1].size",
        "guest RAM runs past the end of the address space",
    );
}

#[test]
fn ram_runs_around_mmio_gaps() {
    // 4 GiB on a board with a [3G, 4G) MMIO hole: the last GiB goes above.
    let gap = Range::new(3 * GIB, 4 * GIB).unwrap();
    let config = NumaConfig::new(
        board(4).with_ram_layout(RamLayout::around_gaps(0, &[gap])),
        CpuTopology::new(4),
    )
    .node(NodeConfig::new(0).cpus(0..2).zone(MemoryZone::new(2 * GIB)))
    .node(NodeConfig::new(1).cpus(2..4).zone(MemoryZone::new(2 * GIB)))
    .hotplug(6 * GIB, 2);
    let t = config.resolve().unwrap();
    let ranges: Vec<(u64, u64, u32)> = t
        .boot_ranges()
        .iter()
        .map(|b| (b.range.start(), b.range.end().unwrap(), b.node))
        .collect();
    assert_eq!(
        ranges,
        [
            (0, 2 * GIB, 0),
            (2 * GIB, 3 * GIB, 1),
            (4 * GIB, 5 * GIB, 1)
        ]
    );
    let layout = t.layout();
    assert_eq!(layout.node_of(3 * GIB), None);
    assert_eq!(layout.node_of(4 * GIB + 5), Some(1));
    // Node 1's one zone runs around the hole.
    let zone: Vec<Range> = t.zone_ranges(1, 0).collect();
    assert_eq!(
        zone,
        [
            Range::new(2 * GIB, 3 * GIB).unwrap(),
            Range::new(4 * GIB, 5 * GIB).unwrap()
        ]
    );
    // The hotplug window starts after RAM, 1 GiB aligned, with a GiB per
    // slot on top of maxmem - RAM.
    let window = t.device_memory().unwrap();
    assert_eq!(
        (window.start(), window.size()),
        (5 * GIB, 4 * u128::from(GIB))
    );

    // A gap above RAM pushes the window past it.
    let high_gap = Range::new(6 * GIB, 7 * GIB).unwrap();
    let config = NumaConfig::new(
        board(1).with_ram_layout(RamLayout::around_gaps(0, &[gap, high_gap])),
        CpuTopology::new(1),
    )
    .node(NodeConfig::new(0).cpus([0]).zone(MemoryZone::new(5 * GIB)))
    .hotplug(6 * GIB, 1);
    let window = config.resolve().unwrap().device_memory().unwrap();
    assert_eq!(
        (window.start(), window.size()),
        (7 * GIB, 2 * u128::from(GIB))
    );

    // Unsorted gaps in a hand-built layout are refused.
    let config = NumaConfig::new(
        board(1).with_ram_layout(RamLayout::Gaps {
            base: 0,
            gaps: vec![high_gap, gap],
        }),
        CpuTopology::new(1),
    )
    .node(NodeConfig::new(0).cpus([0]).zone(MemoryZone::new(GIB)));
    rejects(
        &config,
        "board.ram_layout",
        "invalid board: ram_layout gaps must be sorted and disjoint",
    );
}

#[test]
fn explicit_ram_ranges_must_hold_the_ram() {
    let ram = [
        Range::new(0, GIB).unwrap(),
        Range::new(8 * GIB, 9 * GIB).unwrap(),
    ];
    let config = NumaConfig::new(
        board(2).with_ram_layout(RamLayout::explicit(&ram)),
        CpuTopology::new(2),
    )
    .node(NodeConfig::new(0).cpus([0]).zone(MemoryZone::new(GIB / 2)))
    .node(NodeConfig::new(1).cpus([1]).zone(MemoryZone::new(GIB)));
    let t = config.resolve().unwrap();
    let layout = t.layout();
    assert_eq!(layout.node_of(GIB / 2), Some(1));
    assert_eq!(layout.node_of(8 * GIB + GIB / 2 - 1), Some(1));
    assert_eq!(layout.node_of(8 * GIB + GIB / 2), None);

    let too_much = config
        .clone()
        .node(NodeConfig::new(2).zone(MemoryZone::new(GIB)));
    rejects(
        &too_much,
        "nodes[2].memory[0].size",
        "guest RAM of 0xa0000000 bytes does not fit in the board's RAM ranges",
    );
}

#[test]
fn several_zones_sparse_ids_and_fixed_addresses() {
    let config = NumaConfig::new(board(4), CpuTopology::new(4))
        .node(
            NodeConfig::new(4)
                .cpus([2, 3])
                .zone(MemoryZone::new(GIB))
                .zone(MemoryZone::new(GIB).at(16 * GIB)),
        )
        .node(
            NodeConfig::new(0)
                .cpus([0, 1])
                .zone(MemoryZone::new(GIB / 2))
                .zone(MemoryZone::new(GIB / 2)),
        )
        .distances(Distances::qemu().set(0, 4, 30));
    let t = config.resolve().unwrap();
    // Nodes in id order; RAM offsets in id order, zones in order.
    assert_eq!(t.nodes().iter().map(|n| n.id).collect::<Vec<_>>(), [0, 4]);
    assert_eq!(t.node(4).unwrap().mem, 2 * GIB);
    assert_eq!(t.ram_size(), 3 * GIB);
    let layout = t.layout();
    assert_eq!(layout.node_of(0), Some(0));
    assert_eq!(layout.node_of(GIB), Some(4));
    assert_eq!(layout.node_of(2 * GIB), None);
    assert_eq!(layout.node_of(16 * GIB), Some(4));
    assert_eq!(layout.node_size(4), 2 * GIB);
    assert_eq!(t.node_cpus(4).collect::<Vec<_>>(), [2, 3]);
    // QEMU's completion mirrors the one distance given.
    assert_eq!(t.distance(4, 0), Some(30));
    assert_eq!(t.distance(4, 4), Some(10));
    assert_eq!(t.distances().unwrap(), [10, 30, 30, 10]);

    // A fixed zone on top of placed RAM.
    let overlap = config
        .clone()
        .distances(Distances::default())
        .node(NodeConfig::new(9).zone(MemoryZone::new(GIB).at(GIB / 2)));
    rejects(
        &overlap,
        "nodes[2].memory[0]",
        "memory at 0x20000000 overlaps memory at 0x20000000",
    );
    // One id twice.
    let twice = config.clone().node(NodeConfig::new(4));
    let kind = rejects(
        &twice,
        "nodes[2].id",
        "node id 4 is used by more than one node",
    );
    assert!(matches!(kind, ErrorKind::NodeIdRepeated { id: 4 }));
}

#[test]
fn distance_policies() {
    let three = || {
        NumaConfig::new(board(3), CpuTopology::new(3))
            .node(NodeConfig::new(0).cpus([0]).zone(MemoryZone::new(GIB)))
            .node(NodeConfig::new(1).cpus([1]).zone(MemoryZone::new(GIB)))
            .node(NodeConfig::new(2).cpus([2]))
    };
    // cloud-hypervisor's: missing pairs are 20.
    let t = three()
        .distances(Distances::fill(20).set(0, 1, 15))
        .resolve()
        .unwrap();
    assert_eq!(t.distances().unwrap(), [10, 15, 20, 15, 10, 20, 20, 20, 10]);
    // QEMU's: a pair with neither direction is missing.
    rejects(
        &three().distances(Distances::qemu().set(0, 1, 15)),
        "distances",
        "the distance from node 0 to node 2 is missing",
    );
    // Every pair required.
    rejects(
        &three().distances(
            Distances::complete()
                .set_symmetric(0, 1, 15)
                .set_symmetric(0, 2, 20),
        ),
        "distances",
        "the distance from node 1 to node 2 is missing",
    );
    // Bad values name the pair.
    rejects(
        &three().distances(Distances::fill(20).set(1, 1, 11)),
        "distances[1, 1]",
        "the distance from node 1 to itself must be 10, not 11",
    );
    rejects(
        &three().distances(Distances::fill(20).set(0, 7, 20)),
        "distances[0, 7]",
        "distance to or from node 7, which does not exist",
    );
    rejects(
        &three().distances(Distances::fill(20).set(0, 1, 9)),
        "distances[0, 1]",
        "NUMA distance (9) is invalid, it shouldn't be less than 10.",
    );
    // No distances: no SLIT.
    assert_eq!(three().resolve().unwrap().distances(), None);
}

#[test]
fn cpus_must_be_placed_once() {
    let base = || NumaConfig::new(board(4), CpuTopology::new(4));
    rejects(
        &base()
            .node(
                NodeConfig::new(0)
                    .cpus([0, 1, 2, 3])
                    .zone(MemoryZone::new(GIB)),
            )
            .node(NodeConfig::new(1).cpus([3])),
        "nodes[1].cpus[0]",
        "CPU 3 is on node 0 and on node 1",
    );
    rejects(
        &base().node(NodeConfig::new(0).cpus([0, 4]).zone(MemoryZone::new(GIB))),
        "nodes[0].cpus[1]",
        "CPU index 4 is out of range: the guest has 4 possible CPUs",
    );
    rejects(
        &base()
            .node(NodeConfig::new(0).cpus([0, 1]).zone(MemoryZone::new(GIB)))
            .node(NodeConfig::new(1).cpus([2])),
        "nodes",
        "CPU 3 is on no node (once any CPU is placed, every CPU must be)",
    );
    // No CPU placed at all: the board's default rule (by socket here).
    let t = NumaConfig::new(board(4), CpuTopology::new(4).with_sockets(2))
        .node(NodeConfig::new(3).zone(MemoryZone::new(GIB)))
        .node(NodeConfig::new(8).zone(MemoryZone::new(GIB)))
        .resolve()
        .unwrap();
    assert_eq!(t.node_cpus(3).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(t.node_cpus(8).collect::<Vec<_>>(), [2, 3]);
    // A topology that does not multiply out.
    let mut cpus = CpuTopology::new(4);
    cpus.sockets = 3;
    rejects(
        &NumaConfig::new(board(4), cpus).ram_size(GIB),
        "cpus",
        "sockets (3) * dies (1) * clusters (1) * cores (4) * threads (1) != maxcpus (4)",
    );
    rejects(
        &NumaConfig::new(board(2), CpuTopology::new(4)).ram_size(GIB),
        "cpus",
        "4 CPUs of 4 possible: need 1 <= CPUs <= possible <= 2",
    );
}

#[test]
fn memory_and_backends() {
    rejects(
        &NumaConfig::new(board(1), CpuTopology::new(1)),
        "ram.size",
        "the RAM size is needed when there are no nodes",
    );
    rejects(
        &two_nodes().ram(RamConfig {
            size: Some(GIB),
            ..RamConfig::default()
        }),
        "ram.size",
        "total memory for NUMA nodes (0x80000000) should equal RAM size (0x40000000)",
    );
    let host = HostMemory::default()
        .backend(MemoryBackendOptions::new("m0", BackendKind::Ram, GIB))
        .backend(MemoryBackendOptions::new("m1", BackendKind::Ram, 2 * GIB));
    let with = |a: &str, b: &str| {
        let mut c = two_nodes().host(host.clone());
        c.nodes[0].memory[0] = MemoryZone::new(GIB).backend(a);
        c.nodes[1].memory[0] = MemoryZone::new(GIB).backend(b);
        c
    };
    let t = with("m0", "m9");
    rejects(
        &t,
        "nodes[1].memory[0].backend",
        "Memory backend 'm9' not found",
    );
    rejects(
        &with("m0", "m1"),
        "nodes[1].memory[0].size",
        "memory zone of 0x40000000 bytes, but its backend 'm1' has 0x80000000",
    );
    rejects(
        &with("m0", "m0"),
        "nodes[1].memory[0].backend",
        "memory backend m0 can't be used multiple times.",
    );
    rejects(
        &two_nodes().node(NodeConfig::new(2).zone(MemoryZone::new(0))),
        "nodes[2].memory[0].size",
        "a memory zone must not be empty",
    );
}

#[test]
fn hmat_initiators_and_device_nodes() {
    let config = NumaConfig::new(board(2), CpuTopology::new(2))
        .node(NodeConfig::new(0).cpus([0, 1]).zone(MemoryZone::new(GIB)))
        .node(NodeConfig::new(1).device("0000:00:04.0"))
        .node(NodeConfig::new(2).zone(MemoryZone::new(GIB)).initiator(1))
        .hmat(Default::default());
    let t = config.resolve().unwrap();
    assert_eq!(t.node(1).unwrap().devices, ["0000:00:04.0"]);
    assert_eq!(t.node(2).unwrap().initiator, Some(1));
    let mut bad = config.clone();
    bad.nodes[1].devices.clear();
    rejects(
        &bad,
        "nodes[2].initiator",
        "the initiator 1 of node 2 has no CPUs and no devices",
    );
    let mut bad = config;
    bad.nodes[2].initiator = Some(5);
    rejects(
        &bad,
        "nodes[2].initiator",
        "the initiator 5 of node 2 is not a node",
    );
}

/// Found by the `description` fuzz target: an x86 description with more
/// than 4 GiB of RAM below 4 GiB laid boot RAM over the device-memory
/// window.
#[test]
fn x86_ram_below_4g_is_at_most_4g() {
    use vnuma_topology::machine::{Chipset, Version};
    let mut c = NumaConfig::new(
        MachineModel::x86(Chipset::I440fx, Version::new(7, 2)),
        CpuTopology::new(1),
    )
    .ram_size(8 * GIB)
    .hotplug(12 * GIB, 2);
    c.ram.max_below_4g = Some(4 * GIB);
    assert!(c.resolve().is_ok());
    c.ram.max_below_4g = Some(6 * GIB);
    rejects(
        &c,
        "ram.max_below_4g",
        "Machine option 'max-ram-below-4g=6442450944' expects size less than or equal to 4G",
    );
}

/// Found by the `description` fuzz target: cache levels were not checked
/// on a description, and a level-0 cache made an HMAT whose cache count
/// disagreed with the topology.
#[test]
fn hmat_cache_levels_follow_qemus_rules() {
    use vnuma_options::{HmatCacheAssociativity, HmatCacheWritePolicy, NumaHmatCacheOptions};
    let cache = |level: u8, size: u64| NumaHmatCacheOptions {
        node_id: 0,
        size,
        level,
        associativity: HmatCacheAssociativity::Direct,
        policy: HmatCacheWritePolicy::WriteBack,
        line: 64,
    };
    let with = |caches: Vec<NumaHmatCacheOptions>| {
        NumaConfig::new(board(2), CpuTopology::new(2))
            .node(NodeConfig::new(0).cpus([0, 1]).zone(MemoryZone::new(GIB)))
            .hmat(vnuma_topology::Hmat {
                lb: Vec::new(),
                caches,
            })
    };
    assert!(with(vec![cache(1, 1024), cache(2, 4096)]).resolve().is_ok());
    for (caches, message) in [
        (
            vec![cache(0, 1024)],
            "Invalid level=0, it should be larger than 0 and less than or equal to 3",
        ),
        (
            vec![cache(4, 1024)],
            "Invalid level=4, it should be larger than 0 and less than or equal to 3",
        ),
        (
            vec![cache(1, 1024), cache(1, 2048)],
            "Duplicate configuration of the side cache for node-id=0 and level=1",
        ),
        (vec![cache(2, 1024)], "Cache level=1 shall be defined first"),
    ] {
        let at = format!("hmat.caches[{}].level", caches.len() - 1);
        rejects(&with(caches), &at, message);
    }
}

#[cfg(feature = "serde")]
#[test]
fn the_description_round_trips_through_json() {
    let gap = Range::new(3 * GIB, 4 * GIB).unwrap();
    let config = NumaConfig::new(
        board(8).with_ram_layout(RamLayout::around_gaps(0, &[gap])),
        CpuTopology::new(8).with_sockets(2),
    )
    .node(
        NodeConfig::new(0)
            .cpus(0..4)
            .zone(MemoryZone::new(2 * GIB).backend("m0")),
    )
    .node(
        NodeConfig::new(5)
            .cpus(4..8)
            .zone(MemoryZone::new(2 * GIB).at(8 * GIB)),
    )
    .node(NodeConfig::new(9).device("0000:00:04.0"))
    .distances(Distances::fill(20).set(0, 5, 21))
    .host(HostMemory::default().backend(MemoryBackendOptions::new(
        "m0",
        BackendKind::Ram,
        2 * GIB,
    )));
    let json = serde_json::to_string(&config).unwrap();
    assert!(json.contains(r#""given":[[0,5,21]]"#), "{json}");
    let back: NumaConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config);
    assert_eq!(back.resolve().unwrap(), config.resolve().unwrap());
    // A reversed range in hand-written JSON is refused while reading.
    let bad = json.replace(
        r#"{"start":3221225472,"last":4294967295}"#,
        r#"{"start":5,"last":4}"#,
    );
    assert_ne!(bad, json);
    assert!(serde_json::from_str::<NumaConfig>(&bad).is_err());
}

/// Found by the `description` fuzz target: on an x86 board a zone at a
/// fixed address could run through the PCI hole, and one above 4 GiB lay
/// in the device-memory window QEMU's formula puts at 4 GiB, so memory
/// devices were placed over boot RAM.
#[test]
fn x86_fixed_zones_keep_clear_of_the_pci_hole_and_the_device_window() {
    use vnuma_topology::layout::MemoryLayout;
    use vnuma_topology::machine::{Chipset, Version};
    use vnuma_topology::{MemoryDeviceConfig, MemoryDeviceKind};
    let q35 = || MachineModel::x86(Chipset::Q35, Version::new(7, 2));
    // 1 GiB placed from 0, then a fixed zone through the hole.
    let through_hole = NumaConfig::new(q35(), CpuTopology::new(1))
        .node(
            NodeConfig::new(0)
                .cpus([0])
                .zone(MemoryZone::new(GIB))
                .zone(MemoryZone::new(3 * GIB).at(0x7490_0000)),
        )
        .hotplug(16 * GIB, 2);
    rejects(
        &through_hole,
        "nodes[0].memory[1].addr",
        "memory at 0x74900000 lies in the MMIO gap at 0x40000000",
    );
    // Above 4 GiB: the window starts after it (on the next GiB).
    let mut c = NumaConfig::new(q35(), CpuTopology::new(1))
        .node(
            NodeConfig::new(0)
                .cpus([0])
                .zone(MemoryZone::new(GIB))
                .zone(MemoryZone::new(GIB + 512 * MIB).at(4 * GIB)),
        )
        .hotplug(16 * GIB, 2);
    c.devices
        .push(MemoryDeviceConfig::new(MemoryDeviceKind::Dimm, "b0", GIB).node(0));
    let t = c.resolve().unwrap();
    let window = MemoryLayout::new(&t).device_memory().unwrap();
    assert_eq!(window.start(), 6 * GIB);
    assert_eq!(t.devices()[0].range.start(), 6 * GIB);
    // Without the fixed zone, QEMU's formula: 4 GiB.
    let plain = NumaConfig::new(q35(), CpuTopology::new(1))
        .node(NodeConfig::new(0).cpus([0]).zone(MemoryZone::new(GIB)))
        .hotplug(16 * GIB, 2)
        .resolve()
        .unwrap();
    assert_eq!(
        MemoryLayout::new(&plain).device_memory().unwrap().start(),
        4 * GIB
    );
}

/// Found by the `description` fuzz target: unplugging a virtio-mem
/// device's range as a DIMM took its whole size off the node's plugged
/// bytes, which counted none of it (an overflow panic in debug builds).
#[test]
fn a_virtio_mem_range_is_no_dimm_to_unplug() {
    use vnuma_topology::layout::MemoryLayout;
    use vnuma_topology::{MemoryDeviceConfig, MemoryDeviceKind};
    let mut c = two_nodes().hotplug(8 * GIB, 2);
    let device = |kind, backend: &str| MemoryDeviceConfig::new(kind, backend, GIB).node(1);
    c.devices.push(device(
        MemoryDeviceKind::VirtioMem {
            requested_size: 0,
            block_size: 2 * MIB,
        },
        "b0",
    ));
    c.devices.push(device(MemoryDeviceKind::Dimm, "b1"));
    let t = c.resolve().unwrap();
    let mut layout = MemoryLayout::new(&t);
    assert_eq!(layout.node_plugged(1), GIB);
    let vmem = t.devices()[0].range;
    let size = u64::try_from(vmem.size()).unwrap();
    assert_eq!(layout.unplug_dimm(vmem.start(), size), None);
    assert_eq!(layout.node_plugged(1), GIB);
    let dimm = t.devices()[1].range;
    assert!(layout.unplug_dimm(dimm.start(), GIB).is_some());
    assert_eq!(layout.node_plugged(1), 0);
}
