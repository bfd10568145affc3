//! `parse(display(x)) == x` for every option type, over arbitrary values.

use proptest::prelude::*;
use vnuma_options::*;

/// Properties outside the common machine schema: kept as written.
const EXTRA_MACHINE_PROPERTIES: &[&str] = &[
    "accel",
    "usb",
    "kernel-irqchip",
    "x-oem-id",
    "my-board-prop",
];

fn id_range() -> impl Strategy<Value = IdRange> {
    (any::<u16>(), any::<u16>()).prop_map(|(a, b)| IdRange::new(a, b))
}

/// Any text, commas and `=` included: values are escaped on output.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9,=.-]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(16).collect()),
    ]
}

fn identifier() -> impl Strategy<Value = String> {
    "[a-zA-Z][a-zA-Z0-9._-]{0,10}"
}

fn size() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        (0u64..4096, 0u32..61).prop_map(|(v, s)| v.checked_shl(s).unwrap_or(v)),
    ]
}

fn numa() -> impl Strategy<Value = NumaOptions> {
    let node = (
        any::<Option<u16>>(),
        prop::collection::vec(id_range(), 0..4),
        proptest::option::of(size()),
        proptest::option::of(text()),
        any::<Option<u16>>(),
    )
        .prop_map(|(nodeid, cpus, mem, memdev, initiator)| {
            NumaOptions::Node(NumaNodeOptions {
                nodeid,
                cpus,
                mem,
                memdev,
                initiator,
            })
        });
    let dist = any::<(u16, u16, u8)>()
        .prop_map(|(src, dst, val)| NumaOptions::Dist(NumaDistOptions { src, dst, val }));
    let cpu = any::<[Option<i64>; 6]>().prop_map(|v| {
        NumaOptions::Cpu(NumaCpuOptions {
            node_id: v[0],
            socket_id: v[1],
            die_id: v[2],
            cluster_id: v[3],
            drawer_id: None,
            book_id: None,
            module_id: None,
            core_id: v[4],
            thread_id: v[5],
        })
    });
    let lb = (
        any::<(u16, u16)>(),
        0usize..4,
        0usize..6,
        any::<Option<u64>>(),
        proptest::option::of(size()),
    )
        .prop_map(|((initiator, target), h, d, latency, bandwidth)| {
            NumaOptions::HmatLb(NumaHmatLbOptions {
                initiator,
                target,
                hierarchy: HmatLbMemoryHierarchy::ALL[h],
                data_type: HmatLbDataType::ALL[d],
                latency,
                bandwidth,
            })
        });
    let cache = (any::<(u32, u8, u16)>(), size(), 0usize..3, 0usize..3).prop_map(
        |((node_id, level, line), size, a, p)| {
            NumaOptions::HmatCache(NumaHmatCacheOptions {
                node_id,
                size,
                level,
                associativity: HmatCacheAssociativity::ALL[a],
                policy: HmatCacheWritePolicy::ALL[p],
                line,
            })
        },
    );
    prop_oneof![node, dist, cpu, lb, cache]
}

fn backend() -> impl Strategy<Value = MemoryBackendOptions> {
    let kind = prop_oneof![
        Just(BackendKind::Ram),
        (
            text(),
            proptest::option::of(size()),
            any::<[Option<bool>; 3]>()
        )
            .prop_map(|(mem_path, align, b)| {
                BackendKind::File(FileBackendOptions {
                    mem_path,
                    align,
                    discard_data: b[0],
                    pmem: b[1],
                    readonly: b[2],
                    ..FileBackendOptions::default()
                })
            }),
        (
            any::<Option<bool>>(),
            proptest::option::of(size()),
            any::<Option<bool>>()
        )
            .prop_map(|(hugetlb, hugetlbsize, seal)| BackendKind::Memfd(
                MemfdBackendOptions {
                    hugetlb,
                    hugetlbsize,
                    seal
                }
            )),
    ];
    (
        identifier(),
        kind,
        size(),
        any::<[Option<bool>; 6]>(),
        prop::collection::vec(id_range(), 0..3),
        proptest::option::of(0usize..4),
        any::<Option<u32>>(),
        proptest::option::of(text()),
    )
        .prop_map(|(id, kind, size, b, host_nodes, policy, threads, ctx)| {
            let mut m = MemoryBackendOptions::new(id, kind, size);
            m.dump = b[0];
            m.merge = b[1];
            m.prealloc = b[2];
            m.share = b[3];
            m.reserve = b[4];
            m.x_use_canonical_path_for_ramblock_id = b[5];
            m.host_nodes = host_nodes;
            m.policy = policy.map(|p| HostMemPolicy::ALL[p]);
            m.prealloc_threads = threads;
            m.prealloc_context = ctx;
            m
        })
}

fn machine() -> impl Strategy<Value = MachineOptions> {
    (
        proptest::option::of(prop_oneof![
            Just("pc".to_string()),
            Just("q35".to_string()),
            "pc-(i440fx|q35)-[1-9]\\.[0-9]".prop_map(String::from),
        ]),
        any::<[Option<bool>; 3]>(),
        proptest::option::of(text()),
        proptest::option::of(size()),
        any::<[Option<i64>; 7]>(),
        (
            proptest::option::of(size()),
            any::<Option<u64>>(),
            proptest::option::of(size()),
        ),
        prop::collection::vec(
            (prop::sample::select(EXTRA_MACHINE_PROPERTIES), text()),
            0..3,
        ),
    )
        .prop_map(
            |(machine_type, b, memory_backend, below, smp, (size, slots, max), ignored)| {
                let mut ignored_props: Vec<(String, String)> = Vec::new();
                for (k, v) in ignored {
                    // Repeated keys: last wins, so keep one of each.
                    ignored_props.retain(|(key, _)| key != k);
                    ignored_props.push((k.to_string(), v));
                }
                MachineOptions {
                    machine_type,
                    hmat: b[0],
                    memory_backend,
                    max_ram_below_4g: below,
                    mem_merge: b[1],
                    dump_guest_core: b[2],
                    smp: SmpOptions {
                        cpus: smp[0],
                        sockets: smp[1],
                        dies: smp[2],
                        clusters: smp[3],
                        modules: None,
                        cores: smp[4],
                        threads: smp[5],
                        maxcpus: smp[6],
                        ..SmpOptions::default()
                    },
                    memory: MemoryOptions {
                        size,
                        slots,
                        max_size: max,
                    },
                    ignored: ignored_props,
                    ..MachineOptions::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn numa_round_trips(opt in numa()) {
        let text = opt.to_string();
        let back: NumaOptions = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back, opt, "{}", text);
    }

    #[test]
    fn backend_round_trips(b in backend()) {
        let text = b.to_string();
        let back: MemoryBackendOptions = text.parse().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back, b, "{}", text);
    }

    /// QEMU 10.0's backend properties and types read back with 10.0's
    /// syntax, in both forms; 7.2's syntax refuses them.
    #[test]
    fn backend_10_0_round_trips(
        b in backend(),
        offset in proptest::option::of(size()),
        rom in proptest::option::of(proptest::sample::select(OnOffAuto::ALL)),
        shm in any::<bool>(),
    ) {
        let mut b = b;
        let mut new_in_10_0 = shm;
        if shm {
            b.kind = BackendKind::Shm;
        } else if let BackendKind::File(f) = &mut b.kind {
            f.offset = offset;
            f.rom = rom;
            new_in_10_0 = offset.is_some() || rom.is_some();
        }
        let text = b.to_string();
        let back = ObjectOptions::parse_with(&text, Syntax::Qemu100)
            .map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&back.value, &ObjectOptions::MemoryBackend(b.clone()), "{}", text);
        prop_assert_eq!(ObjectOptions::parse(&text).is_err(), new_in_10_0, "{}", text);
        let json = serde_json::to_string(&b).unwrap();
        let back = ObjectOptions::parse_json_with(&json, Syntax::Qemu100)
            .map_err(|e| TestCaseError::fail(format!("{json}: {e}")))?;
        let mut expected = b.clone();
        expected.host_nodes = b.host_nodes.iter().flat_map(|r| r.iter()).map(IdRange::single).collect();
        prop_assert_eq!(back.value, ObjectOptions::MemoryBackend(expected));
    }

    #[test]
    fn backend_json_round_trips(b in backend()) {
        let json = serde_json::to_string(&b).unwrap();
        let back = ObjectOptions::parse_json(&json).map_err(|e| TestCaseError::fail(format!("{json}: {e}")))?;
        // JSON lists host nodes one by one.
        let mut expected = b.clone();
        expected.host_nodes = b.host_nodes.iter().flat_map(|r| r.iter()).map(IdRange::single).collect();
        prop_assert_eq!(back.value, ObjectOptions::MemoryBackend(expected));
    }

    #[test]
    fn machine_round_trips(m in machine()) {
        let text = m.to_string();
        let cl = CommandLine::parse(["-machine", &text]).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let back = cl.machine().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back, m, "{}", text);
    }

    #[test]
    fn memory_round_trips(size in proptest::option::of(1u64..), slots in any::<Option<u64>>(), max in proptest::option::of(size())) {
        let m = MemoryOptions { size, slots, max_size: max };
        let text = m.to_string();
        prop_assume!(!text.is_empty());
        let cl = CommandLine::parse(["-m", &text]).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let back = cl.machine().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?.memory;
        prop_assert_eq!(back, m, "{}", text);
    }

    #[test]
    fn smp_round_trips(v in any::<[Option<i64>; 7]>()) {
        let smp = SmpOptions { cpus: v[0], sockets: v[1], dies: v[2], clusters: v[3], modules: None, cores: v[4], threads: v[5], maxcpus: v[6], ..SmpOptions::default() };
        let text = smp.to_string();
        prop_assume!(!text.is_empty());
        let cl = CommandLine::parse(["-smp", &text]).unwrap();
        prop_assert_eq!(cl.machine().unwrap().smp, smp, "{}", text);
    }

    #[test]
    fn command_line_round_trips(n in prop::collection::vec(numa(), 0..5), b in prop::collection::vec(backend(), 0..3), m in machine()) {
        let mut args: Vec<String> = vec!["-machine".into(), m.to_string()];
        let mut seen = std::collections::BTreeSet::new();
        for backend in &b {
            if seen.insert(backend.id.clone()) {
                args.push("-object".into());
                args.push(backend.to_string());
            }
        }
        for opt in &n {
            args.push("-numa".into());
            args.push(opt.to_string());
        }
        let cl = CommandLine::parse(&args).unwrap();
        cl.check().unwrap();
        let again = CommandLine::parse(cl.to_args().unwrap()).unwrap();
        prop_assert_eq!(again.machine().unwrap(), cl.machine().unwrap());
        prop_assert_eq!(again.numa_options().collect::<Result<Vec<_>, _>>().unwrap(), n);

        let objects: Vec<_> = again.objects().iter().map(|o| o.object.clone()).collect();
        let expected: Vec<_> = cl.objects().iter().map(|o| o.object.clone()).collect();
        prop_assert_eq!(objects, expected);
    }
}

#[test]
fn legacy_mem_without_suffix_is_mib() {
    let n: NumaOptions = "node,mem=512".parse().unwrap();
    assert_eq!(n.to_string(), "node,mem=512M");
    let n: NumaOptions = "node,mem=1000b".parse().unwrap();
    assert_eq!(n.to_string(), "node,mem=1000b");
    assert_eq!(n, n.to_string().parse().unwrap());
}
