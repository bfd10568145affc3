//! Tables read back to what they were built from: encoded models parse to
//! the same models, tables built from random topologies pass
//! `info::verify`, the parsers never panic on any bytes, and the layouts
//! the spec spells out (x2APIC entries, §10.1) byte by byte.

use proptest::prelude::*;
use vnuma_options::CommandLine;
use vnuma_tables::acpi::{self, Oem, TableHeader};
use vnuma_tables::hmat::{
    CacheAttributes, Hmat, HmatStructure, Locality, MemoryProximity, MemorySideCache,
};
use vnuma_tables::info::{verify, NumaInfo};
use vnuma_tables::slit::Slit;
use vnuma_tables::srat::{
    GiccAffinity, LocalApicAffinity, MemoryAffinity, Srat, SratEntry, X2ApicAffinity,
};
use vnuma_tables::{build, Error, MemoryStyle, ProcessorEntries, TableOptions};
use vnuma_topology::layout::MemoryLayout;
use vnuma_topology::machine::{MachineModel, RamLayout};
use vnuma_topology::{resolve, resolve_with, Config, Topology};

fn topology(args: &[&str]) -> Topology {
    resolve(&CommandLine::parse(args).unwrap()).unwrap()
}

fn info_of(t: &Topology, opts: &TableOptions) -> NumaInfo {
    let tables = build(t, &MemoryLayout::new(t), opts).unwrap().unwrap();
    NumaInfo::from_tables(&tables.srat, tables.slit.as_deref(), tables.hmat.as_deref()).unwrap()
}

#[test]
fn x2apic_entries_follow_spec_7_2_2() {
    // q35 allows 288 CPUs; APIC ids from 255 on need x2APIC entries. QEMU
    // under TCG refuses them, so these bytes come from the spec's layout.
    let t = topology(&[
        "-M",
        "q35",
        "-m",
        "256M",
        "-smp",
        "288,sockets=2,cores=144",
        "-object",
        "memory-backend-ram,id=a,size=128M",
        "-object",
        "memory-backend-ram,id=b,size=128M",
        "-numa",
        "node,memdev=a",
        "-numa",
        "node,memdev=b",
    ]);
    let tables = build(&t, &MemoryLayout::new(&t), &TableOptions::default())
        .unwrap()
        .unwrap();
    let srat = &tables.srat;
    assert!(acpi::checksum_valid(srat));
    // Walk the processor entries: type 0 below APIC id 255, type 2 above.
    let mut off = 48;
    for cpu in t.cpus() {
        let id = cpu.slot.apic_id;
        let node = cpu.node.unwrap();
        if id < 255 {
            let mut want = vec![0u8, 16, node as u8, id as u8, 1, 0, 0, 0, 0];
            want.extend_from_slice(&node.to_le_bytes()[1..]);
            want.extend_from_slice(&[0; 4]);
            assert_eq!(&srat[off..off + 16], want.as_slice(), "APIC id {id}");
            off += 16;
        } else {
            let mut want = vec![2u8, 24, 0, 0];
            want.extend_from_slice(&node.to_le_bytes());
            want.extend_from_slice(&id.to_le_bytes());
            want.extend_from_slice(&1u32.to_le_bytes());
            want.extend_from_slice(&[0; 8]);
            assert_eq!(&srat[off..off + 24], want.as_slice(), "APIC id {id}");
            off += 24;
        }
    }
    // Socket 1 starts at APIC id 256 (144 cores need 8 bits): all x2APIC.
    let x2 = t.cpus().iter().filter(|c| c.slot.apic_id >= 255).count();
    assert_eq!(x2, 144);
    let info = NumaInfo::from_tables(srat, None, None).unwrap();
    assert_eq!(info.node_of_cpu(256), Some(1));
    assert_eq!(info.node_of_cpu(0), Some(0));
    verify(&t, &MemoryLayout::new(&t), &TableOptions::default(), &info).unwrap();
}

#[test]
fn spec_10_1_example() {
    let t = topology(&[
        "-M",
        "q35",
        "-m",
        "4G",
        "-smp",
        "4,sockets=2,cores=2",
        "-object",
        "memory-backend-ram,id=m0,size=2G",
        "-object",
        "memory-backend-ram,id=m1,size=2G",
        "-numa",
        "node,nodeid=0,memdev=m0",
        "-numa",
        "node,nodeid=1,memdev=m1",
        "-numa",
        "dist,src=0,dst=1,val=21",
    ]);
    let info = info_of(&t, &TableOptions::default());
    let cpus: Vec<(u32, u32)> = info.cpus.iter().map(|c| (c.arch_id, c.proximity)).collect();
    assert_eq!(cpus, [(0, 0), (1, 0), (2, 1), (3, 1)]);
    let mem: Vec<(u64, u64, u32, u32)> = info
        .srat
        .memory()
        .map(|m| (m.base, m.length, m.proximity, m.flags))
        .collect();
    assert_eq!(
        mem,
        [
            (0, 0xa0000, 0, 1),
            (0x10_0000, 0x8000_0000 - 0x10_0000, 0, 1),
            (0x1_0000_0000, 0x8000_0000, 1, 1),
            (0, 0, 0, 0),
        ]
    );
    let slit = info.slit.unwrap();
    assert_eq!(
        (slit.count, slit.matrix.as_slice()),
        (2, &[10, 21, 21, 10][..])
    );
}

#[test]
fn no_numa_no_tables() {
    let t = topology(&["-M", "q35", "-m", "1G", "-smp", "4"]);
    assert_eq!(
        build(&t, &MemoryLayout::new(&t), &TableOptions::default()).unwrap(),
        None
    );
    // The SRAT model still describes one node 0 with all memory.
    let srat = Srat::from_topology(&t, &MemoryLayout::new(&t), &TableOptions::default());
    assert_eq!(srat.processors().count(), 4);
    assert!(srat
        .memory()
        .filter(|m| m.length > 0)
        .all(|m| m.proximity == 0));
}

fn generic_board() -> (Topology, MemoryLayout) {
    let mut m = MachineModel::generic("board", 16);
    m.ram_layout = RamLayout::Flat { base: 0x4000_0000 };
    let cl = CommandLine::parse([
        "-m",
        "3G,slots=4,maxmem=7G",
        "-smp",
        "8,sockets=4",
        "-object",
        "memory-backend-ram,id=a,size=1G",
        "-object",
        "memory-backend-ram,id=b,size=2G",
        "-numa",
        "node,memdev=a",
        "-numa",
        "node",
        "-numa",
        "node,memdev=b",
    ])
    .unwrap();
    let t = resolve_with(&cl, &Config::with_machine(m)).unwrap();
    let layout = MemoryLayout::new(&t);
    (t, layout)
}

#[test]
fn generic_board_tables_come_from_the_layout() {
    let (t, layout) = generic_board();
    let opts = TableOptions {
        processors: ProcessorEntries::Gicc,
        ..TableOptions::default()
    };
    assert_eq!(opts.memory_style(&t), MemoryStyle::Layout);
    let tables = build(&t, &layout, &opts).unwrap().unwrap();
    let info = NumaInfo::from_tables(&tables.srat, None, None).unwrap();
    verify(&t, &layout, &opts, &info).unwrap();
    let mem: Vec<(u64, u64, u32, u32)> = info
        .srat
        .memory()
        .map(|m| (m.base, m.length, m.proximity, m.flags))
        .collect();
    let window = layout.device_memory().unwrap();
    assert_eq!(
        mem,
        [
            (0x4000_0000, 1 << 30, 0, 1),
            (0x8000_0000, 2 << 30, 2, 1),
            (window.start(), window.size() as u64, 2, 3),
        ]
    );
    assert!(info
        .cpus
        .iter()
        .all(|c| c.kind == vnuma_tables::info::CpuKind::Gicc));
    assert_eq!(
        info.cpus.iter().map(|c| c.arch_id).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    // The wrong style is caught.
    let mut qemu = opts;
    qemu.memory = MemoryStyle::Qemu72;
    assert!(matches!(
        verify(&t, &layout, &qemu, &info),
        Err(Error::Mismatch { .. })
    ));
}

#[test]
fn oem_ids_are_padded_like_qemu() {
    let oem = Oem::with_ids("VNUMA", "TABLES");
    assert_eq!(&oem.oem_id, b"VNUMA\0");
    assert_eq!(&oem.oem_table_id, b"TABLES\0\0");
    let bytes = Slit {
        count: 1,
        matrix: vec![10],
    }
    .to_bytes(&oem)
    .unwrap();
    let header = TableHeader::parse(&bytes).unwrap();
    assert_eq!(header.oem, oem);
    assert_eq!(header.length as usize, bytes.len());
    assert!(acpi::checksum_valid(&bytes));
}

#[test]
fn malformed_models_are_errors() {
    let bad = Slit {
        count: 3,
        matrix: vec![10; 8],
    };
    assert!(matches!(
        bad.to_bytes(&Oem::default()),
        Err(Error::SlitShape { .. })
    ));
    let bad = Slit {
        count: u64::MAX,
        matrix: vec![],
    };
    assert!(matches!(
        bad.to_bytes(&Oem::default()),
        Err(Error::SlitShape { .. })
    ));
    let bad = Hmat {
        structures: vec![HmatStructure::Locality(Locality {
            initiators: vec![0, 1],
            targets: vec![0],
            entries: vec![1],
            ..Locality::default()
        })],
    };
    assert!(matches!(
        bad.to_bytes(&Oem::default()),
        Err(Error::HmatShape { .. })
    ));
    let bad = Srat {
        entries: vec![SratEntry::Other {
            kind: 9,
            body: vec![0; 300],
        }],
    };
    assert!(bad.to_bytes(&Oem::default()).is_err());
    // Parsers name the problem.
    let good = Slit {
        count: 2,
        matrix: vec![10, 20, 20, 10],
    }
    .to_bytes(&Oem::default())
    .unwrap();
    assert!(matches!(Srat::parse(&good), Err(Error::Signature { .. })));
    assert!(matches!(
        Slit::parse(&good[..good.len() - 1]),
        Err(Error::Length { .. })
    ));
    assert!(matches!(
        TableHeader::parse(&good[..20]),
        Err(Error::Truncated { .. })
    ));
}

// ---------------------------------------------------------------- models

fn srat_entry() -> impl Strategy<Value = SratEntry> {
    prop_oneof![
        (
            any::<u32>(),
            any::<u8>(),
            any::<u32>(),
            any::<u8>(),
            any::<u32>()
        )
            .prop_map(|(proximity, apic_id, flags, sapic_eid, clock_domain)| {
                SratEntry::LocalApic(LocalApicAffinity {
                    proximity,
                    apic_id,
                    flags,
                    sapic_eid,
                    clock_domain,
                })
            }),
        (any::<u32>(), any::<u64>(), any::<u64>(), any::<u32>()).prop_map(
            |(proximity, base, length, flags)| {
                SratEntry::Memory(MemoryAffinity {
                    proximity,
                    base,
                    length,
                    flags,
                })
            }
        ),
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
            |(proximity, x2apic_id, flags, clock_domain)| {
                SratEntry::X2Apic(X2ApicAffinity {
                    proximity,
                    x2apic_id,
                    flags,
                    clock_domain,
                })
            }
        ),
        (any::<u32>(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
            |(proximity, uid, flags, clock_domain)| {
                SratEntry::Gicc(GiccAffinity {
                    proximity,
                    uid,
                    flags,
                    clock_domain,
                })
            }
        ),
        // Type 5 (Generic Initiator) has its own variant.
        (
            (4u8..=255).prop_filter("type 5 is known", |k| *k != 5),
            proptest::collection::vec(any::<u8>(), 0..40)
        )
            .prop_map(|(kind, body)| SratEntry::Other { kind, body }),
    ]
}

fn hmat_structure() -> impl Strategy<Value = HmatStructure> {
    prop_oneof![
        (any::<u16>(), any::<u32>(), any::<u32>()).prop_map(|(flags, initiator, memory)| {
            HmatStructure::MemoryProximity(MemoryProximity {
                flags,
                initiator,
                memory,
            })
        }),
        (
            0usize..4,
            0usize..5,
            any::<u8>(),
            0u8..6,
            any::<u64>(),
            any::<u8>()
        )
            .prop_flat_map(|(s, t, flags, data_type, base_unit, mts)| {
                (
                    proptest::collection::vec(any::<u32>(), s),
                    proptest::collection::vec(any::<u32>(), t),
                    proptest::collection::vec(any::<u16>(), s * t),
                )
                    .prop_map(move |(initiators, targets, entries)| {
                        HmatStructure::Locality(Locality {
                            flags,
                            data_type,
                            min_transfer_size: mts,
                            base_unit,
                            initiators,
                            targets,
                            entries,
                        })
                    })
            }),
        (
            any::<u32>(),
            any::<u64>(),
            any::<u32>(),
            proptest::collection::vec(any::<u16>(), 0..4)
        )
            .prop_map(|(memory, size, attributes, smbios_handles)| {
                HmatStructure::Cache(MemorySideCache {
                    memory,
                    size,
                    attributes: CacheAttributes(attributes),
                    smbios_handles,
                })
            }),
        (3u16.., proptest::collection::vec(any::<u8>(), 0..24))
            .prop_map(|(kind, body)| HmatStructure::Other { kind, body }),
    ]
}

proptest! {
    #[test]
    fn srat_models_round_trip(entries in proptest::collection::vec(srat_entry(), 0..20)) {
        let srat = Srat { entries };
        let bytes = srat.to_bytes(&Oem::default()).unwrap();
        prop_assert!(acpi::checksum_valid(&bytes));
        let (header, parsed) = Srat::parse(&bytes).unwrap();
        prop_assert_eq!(header.oem, Oem::default());
        prop_assert_eq!(parsed, srat);
    }

    #[test]
    fn hmat_models_round_trip(structures in proptest::collection::vec(hmat_structure(), 0..10)) {
        let hmat = Hmat { structures };
        let bytes = hmat.to_bytes(&Oem::default()).unwrap();
        let (_, parsed) = Hmat::parse(&bytes).unwrap();
        prop_assert_eq!(parsed, hmat);
    }

    #[test]
    fn slit_models_round_trip(count in 0u64..12, seed in any::<u8>()) {
        let n = (count * count) as usize;
        let slit = Slit { count, matrix: (0..n).map(|i| seed.wrapping_add(i as u8)).collect() };
        let (_, parsed) = Slit::parse(&slit.to_bytes(&Oem::default()).unwrap()).unwrap();
        prop_assert_eq!(parsed, slit);
    }

    #[test]
    fn cache_attributes_pack_and_unpack(t in 0u8..16, l in 0u8..16, a in 0u8..16, p in 0u8..16, line in any::<u16>()) {
        let c = CacheAttributes::new(t, l, a, p, line);
        prop_assert_eq!((c.total_levels(), c.level(), c.associativity(), c.write_policy(), c.line_size()), (t, l, a, p, line));
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), sig in 0usize..4) {
        let mut bytes = bytes;
        if bytes.len() >= 8 {
            let sigs: [&[u8; 4]; 4] = [b"SRAT", b"SLIT", b"HMAT", b"XXXX"];
            bytes[..4].copy_from_slice(sigs[sig]);
            let len = bytes.len() as u32;
            bytes[4..8].copy_from_slice(&len.to_le_bytes());
        }
        let _ = Srat::parse(&bytes);
        let _ = Slit::parse(&bytes);
        let _ = Hmat::parse(&bytes);
        let _ = TableHeader::parse(&bytes);
        let _ = NumaInfo::from_blob(&bytes);
        let _ = NumaInfo::from_tables(&bytes, Some(&bytes), Some(&bytes));
        let _ = acpi::split_tables(&bytes).count();
    }

    #[test]
    fn corrupted_tables_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let t = hmat_topology();
        let tables = build(&t, &MemoryLayout::new(&t), &TableOptions::default()).unwrap().unwrap();
        for (_, table) in tables.iter() {
            let mut bytes = table.to_vec();
            for &(at, v) in &flips {
                let i = at % bytes.len();
                bytes[i] = v;
            }
            let _ = NumaInfo::from_tables(&bytes, Some(&bytes), Some(&bytes));
            if let Ok(info) = NumaInfo::from_tables(&bytes, None, None) {
                let _ = verify(&t, &MemoryLayout::new(&t), &TableOptions::default(), &info);
            }
        }
    }
}

fn hmat_topology() -> Topology {
    topology(&[
        "-M",
        "q35",
        "-machine",
        "hmat=on",
        "-m",
        "256M,slots=2,maxmem=1G",
        "-smp",
        "2,sockets=2",
        "-object",
        "memory-backend-ram,id=a,size=128M",
        "-object",
        "memory-backend-ram,id=b,size=128M",
        "-numa",
        "node,memdev=a,cpus=0",
        "-numa",
        "node,memdev=b,cpus=1",
        "-numa",
        "dist,src=0,dst=1,val=30",
        "-numa",
        "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=20",
        "-numa",
        "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth,bandwidth=1G",
        "-numa",
        "hmat-cache,node-id=1,size=1M,level=1,associativity=direct,policy=write-back,line=64",
    ])
}

// ------------------------------------------------------------ topologies

/// A random command line QEMU 7.2 accepts: pc or q35, 1–6 nodes (some
/// memory-less, some smaller than 1 MiB), sockets spread over them,
/// maybe a hotplug window, maybe distances, maybe HMAT.
fn command_line() -> impl Strategy<Value = Vec<String>> {
    let sizes = proptest::collection::vec(
        prop_oneof![
            Just(0u64),
            Just(256),
            Just(512),
            Just(640),
            Just(768),
            Just(1024),
            Just(4096),
            (1u64..64).prop_map(|m| m << 14),
            (1u64..8).prop_map(|g| g << 19),
        ],
        1..6,
    );
    (
        any::<bool>(),
        sizes,
        1u32..8,
        any::<bool>(),
        proptest::option::of(proptest::collection::vec(10u8..=254, 15)),
        any::<bool>(),
        proptest::collection::vec((0usize..6, 0usize..6, 1u64..2000), 0..6),
    )
        .prop_map(|(q35, sizes, sockets, hotplug, dist, hmat, lbs)| {
            let sizes: Vec<u64> = sizes; // KiB
            let total: u64 = sizes.iter().sum::<u64>().max(1024);
            let mut sizes = sizes;
            let sum: u64 = sizes.iter().sum();
            if sum < total {
                sizes[0] += total - sum;
            }
            let n = sizes.len();
            let mut a: Vec<String> = Vec::new();
            let mut push = |s: String| a.push(s);
            push("-M".into());
            push(if q35 { "q35" } else { "pc" }.into());
            if hmat {
                push("-machine".into());
                push("hmat=on".into());
            }
            push("-m".into());
            push(if hotplug { format!("{total}K,slots=2,maxmem=8G") } else { format!("{total}K") });
            push("-smp".into());
            push(format!("{},sockets={}", sockets * 2, sockets));
            for (i, &s) in sizes.iter().enumerate() {
                if s > 0 {
                    push("-object".into());
                    push(format!("memory-backend-ram,id=m{i},size={s}K"));
                }
            }
            for (i, &s) in sizes.iter().enumerate() {
                let mut o = format!("node,nodeid={i}");
                if s > 0 {
                    o += &format!(",memdev=m{i}");
                }
                // With HMAT, CPUs must be mapped explicitly to make nodes
                // initiators: socket k goes to node k % n.
                push("-numa".into());
                push(o);
            }
            if hmat {
                for k in 0..sockets {
                    push("-numa".into());
                    push(format!("cpu,node-id={},socket-id={k}", k as usize % n));
                }
                let initiators = (sockets as usize).min(n);
                let mut seen = std::collections::BTreeSet::new();
                for (i, tg, lat) in &lbs {
                    let (i, tg) = (i % initiators, tg % n);
                    if !seen.insert((i, tg)) {
                        continue;
                    }
                    push("-numa".into());
                    push(format!(
                        "hmat-lb,initiator={i},target={tg},hierarchy=memory,data-type=access-latency,latency={lat}"
                    ));
                }
            }
            if let Some(d) = dist {
                let mut k = 0;
                for i in 0..n {
                    for j in i + 1..n {
                        push("-numa".into());
                        push(format!("dist,src={i},dst={j},val={}", d[k % d.len()]));
                        k += 1;
                    }
                }
            }
            a
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_topologies_read_back(args in command_line()) {
        let cl = CommandLine::parse(&args).unwrap();
        // Out-of-range latency compression and sizes past maxmem are
        // QEMU errors: only accepted lines matter here.
        let Ok(t) = resolve(&cl) else { return Ok(()) };
        let layout = MemoryLayout::new(&t);
        for opts in [
            TableOptions::default(),
            TableOptions::default().with_memory(MemoryStyle::Layout),
        ] {
            let tables = build(&t, &layout, &opts).unwrap().unwrap();
            for (_, table) in tables.iter() {
                prop_assert!(acpi::checksum_valid(table));
            }
            let info = NumaInfo::from_tables(&tables.srat, tables.slit.as_deref(), tables.hmat.as_deref()).unwrap();
            let checked = verify(&t, &layout, &opts, &info);
            prop_assert!(checked.is_ok(), "{:?}: {:?}", args, checked);
            for cpu in t.cpus() {
                prop_assert_eq!(info.node_of_cpu(cpu.slot.apic_id), cpu.node);
            }
            // Layout style: every address of boot RAM maps to its node.
            if opts.memory == MemoryStyle::Layout {
                for (r, o) in layout.ranges() {
                    prop_assert_eq!(info.node_of_address(r.start()), Some(o.node()));
                    prop_assert_eq!(info.node_of_address(r.last()), Some(o.node()));
                }
            }
        }
    }
}
