//! What allocation does to the process, as the kernel reports it:
//! policies and nodes in /proc/self/numa_maps, residency in smaps, VmFlags,
//! the mapping count after failures, memfd seals, file contents.
mod common;

use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use vnuma_backend::{
    AllocOptions, BackendPlan, BootRam, DefaultRam, GuestRam, HostMemoryBackend, HostNode, NodeRam,
    PreallocMethod, Progress, RamPlan, RamRequest, ThreadRule, Warning,
};
use vnuma_options::MemoryBackendOptions;

const MIB: u64 = 1 << 20;

/// Sizes of the mappings the counting tests make (no thread stack has
/// them).
const OURS: &[u64] = &[3 * MIB, 5 * MIB, 7 * MIB, 9 * MIB, 11 * MIB, 67 * MIB];

fn alloc(o: &str) -> HostMemoryBackend {
    alloc_with(o, AllocOptions::new())
}

fn alloc_with(o: &str, opts: AllocOptions<'_>) -> HostMemoryBackend {
    let opts_: MemoryBackendOptions = o.parse().expect(o);
    let plan = BackendPlan::new(&opts_, &defaults(), &host()).expect(o);
    HostMemoryBackend::allocate(&plan, opts).expect(o).0
}

#[test]
fn policies_show_in_numa_maps() {
    let _g = map_lock();
    for (policy, shown) in [
        ("bind", "bind:0"),
        ("preferred", "prefer:0"),
        ("interleave", "interleave:0"),
    ] {
        let b = alloc(&format!(
            "memory-backend-ram,id=m0,size=8M,host-nodes=0,policy={policy},prealloc=on"
        ));
        let line = numa_maps(b.as_ptr());
        let mut words = line.split_whitespace();
        words.next();
        assert_eq!(words.next(), Some(shown), "{line}");
        // 8 MiB resident, all of it on node 0 (in base or huge pages).
        let on_node0: u64 = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("N0="))
            .and_then(|v| v.parse().ok())
            .unwrap();
        let page_kb: u64 = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("kernelpagesize_kB="))
            .and_then(|v| v.parse().ok())
            .unwrap();
        assert_eq!(on_node0 * page_kb, 8 * 1024, "{line}");
    }
    // No policy: no mbind, the mapping shows the default.
    let b = alloc("memory-backend-ram,id=m0,size=4M");
    assert!(numa_maps(b.as_ptr()).split_whitespace().nth(1) == Some("default"));
}

#[test]
fn prealloc_makes_memory_resident() {
    let _g = map_lock();
    let b = alloc("memory-backend-ram,id=m0,size=32M");
    assert_eq!(smaps(b.as_ptr()).rss_kb, 0, "untouched without prealloc");
    assert!(!b.is_preallocated());
    assert!(!b.memdev().prealloc);
    b.prealloc(AllocOptions::new()).unwrap();
    assert_eq!(smaps(b.as_ptr()).rss_kb, 32 * 1024);
    assert!(b.memdev().prealloc);

    for o in [
        "memory-backend-ram,id=m1,size=32M,prealloc=on,prealloc-threads=2",
        "memory-backend-ram,id=m2,size=32M,prealloc=on,share=on",
        "memory-backend-memfd,id=m3,size=32M,prealloc=on,prealloc-threads=4",
    ] {
        let b = alloc(o);
        let s = smaps(b.as_ptr());
        assert_eq!((s.size_kb, s.rss_kb), (32 * 1024, 32 * 1024), "{o}");
        assert_eq!(b.resident_bytes().unwrap(), 32 * MIB, "{o} (mincore)");
    }
    // The fallback for kernels without MADV_POPULATE_WRITE.
    for o in [
        "memory-backend-ram,id=m4,size=16M,prealloc=on,prealloc-threads=2",
        "memory-backend-memfd,id=m5,size=16M,prealloc=on",
    ] {
        let b = alloc_with(
            o,
            AllocOptions::new().prealloc_method(PreallocMethod::Touch),
        );
        assert_eq!(smaps(b.as_ptr()).rss_kb, 16 * 1024, "{o} touched");
    }
}

#[test]
fn flags_in_smaps() {
    let _g = map_lock();
    let flags = |o: &str, opts: AllocOptions<'_>| {
        let b = alloc_with(o, opts);
        smaps(b.as_ptr()).vm_flags
    };
    let has = |f: &[String], w: &str| f.iter().any(|x| x == w);
    let ksm = std::path::Path::new("/sys/kernel/mm/ksm").exists();

    let f = flags("memory-backend-ram,id=m0,size=4M", AllocOptions::new());
    assert!(!has(&f, "dd"), "dump on by default: {f:?}");
    let thp = std::path::Path::new("/sys/kernel/mm/transparent_hugepage").exists();
    if thp {
        assert!(has(&f, "hg"), "MADV_HUGEPAGE on anonymous RAM: {f:?}");
    }
    if ksm {
        assert!(has(&f, "mg"), "merge on by default: {f:?}");
    }
    let f = flags(
        "memory-backend-ram,id=m0,size=4M,merge=off,dump=off",
        AllocOptions::new().transparent_huge_pages(false),
    );
    assert!(has(&f, "dd"), "dump=off: MADV_DONTDUMP: {f:?}");
    assert!(!has(&f, "mg"), "merge=off: {f:?}");
    assert!(!has(&f, "hg"), "THP advice off: {f:?}");
    // The machine's defaults apply to unset properties.
    let opts: MemoryBackendOptions = "memory-backend-memfd,id=m1,size=4M".parse().unwrap();
    let d = vnuma_backend::Defaults {
        merge: false,
        dump: false,
        ..defaults()
    };
    let plan = BackendPlan::new(&opts, &d, &host()).unwrap();
    let (b, _) = HostMemoryBackend::allocate(&plan, AllocOptions::new()).unwrap();
    let f = smaps(b.as_ptr()).vm_flags;
    assert!(has(&f, "dd") && !has(&f, "mg") && has(&f, "sh"), "{f:?}");
    // reserve=off: MAP_NORESERVE ("nr"; refused when the kernel never
    // overcommits).
    if host().overcommit_memory != Some(2) {
        let f = flags(
            "memory-backend-ram,id=m2,size=4M,reserve=off",
            AllocOptions::new(),
        );
        assert!(has(&f, "nr"), "reserve=off: {f:?}");
    }
}

#[test]
fn memfd_seals() {
    let _g = map_lock();
    let b = alloc("memory-backend-memfd,id=m0,size=4M");
    assert_eq!(
        b.seals(),
        Some(libc::F_SEAL_GROW | libc::F_SEAL_SHRINK | libc::F_SEAL_SEAL)
    );
    assert!(b.plan().share(), "memfd is shared by default");
    // The file cannot grow or shrink.
    assert!(b.file().unwrap().set_len(8 * MIB).is_err());
    assert!(b.file().unwrap().set_len(MIB).is_err());
    let b = alloc("memory-backend-memfd,id=m1,size=4M,seal=off");
    // Without MFD_ALLOW_SEALING the kernel reports F_SEAL_SEAL only.
    assert_eq!(b.seals(), Some(libc::F_SEAL_SEAL));
}

#[test]
fn shared_file_content_survives() {
    let _g = map_lock();
    let s = Scratch::new("share");
    let path = s.str("guest.ram");
    let b = alloc(&format!(
        "memory-backend-file,id=m0,size=4M,mem-path={path},share=on"
    ));
    b.write_at(MIB + 5, b"hello vnuma").unwrap();
    drop(b);
    let data = std::fs::read(&path).unwrap();
    assert_eq!(data.len() as u64, 4 * MIB, "created and extended");
    assert_eq!(&data[(MIB + 5) as usize..][..11], b"hello vnuma");

    // Reused (non-empty file): content is there through the mapping.
    let b = alloc(&format!(
        "memory-backend-file,id=m0,size=4M,mem-path={path},share=on"
    ));
    let mut buf = [0u8; 11];
    b.read_at(MIB + 5, &mut buf).unwrap();
    assert_eq!(&buf, b"hello vnuma");
    drop(b);

    // share=off: private copy, the file is untouched.
    let b = alloc(&format!(
        "memory-backend-file,id=m0,size=4M,mem-path={path}"
    ));
    b.write_at(MIB + 5, b"HELLO VNUMA").unwrap();
    drop(b);
    assert_eq!(
        &std::fs::read(&path).unwrap()[(MIB + 5) as usize..][..11],
        b"hello vnuma"
    );

    // readonly=on: mapped read-only, preallocated by reading.
    let b = alloc(&format!(
        "memory-backend-file,id=m0,size=4M,mem-path={path},readonly=on,prealloc=on"
    ));
    assert!(b.write_at(0, b"x").is_err());
    assert!(b.is_preallocated());
    drop(b);

    // discard-data=on: the contents are dropped with the backend.
    let b = alloc(&format!(
        "memory-backend-file,id=m0,size=4M,mem-path={path},share=on,discard-data=on"
    ));
    drop(b);
    assert!(std::fs::read(&path).unwrap().iter().all(|&x| x == 0));

    // A directory: a temporary file, unlinked at once.
    let d = Scratch::new("tmpdir");
    let b = alloc(&format!(
        "memory-backend-file,id=m0,size=4M,mem-path={},share=on,prealloc=on",
        d.str("")
    ));
    assert!(d.files().is_empty(), "temporary file unlinked");
    assert_eq!(smaps(b.as_ptr()).rss_kb, 4 * 1024);
}

fn request(objects: &[String], nodes: &[&str]) -> RamRequest {
    let backends: Vec<MemoryBackendOptions> = objects.iter().map(|o| o.parse().unwrap()).collect();
    RamRequest {
        ram_size: backends.iter().map(|b| b.size).sum(),
        backends,
        boot: BootRam::Nodes(
            nodes
                .iter()
                .enumerate()
                .map(|(i, m)| NodeRam {
                    node: i as u32,
                    memdev: Some((*m).into()),
                })
                .collect(),
        ),
        defaults: defaults(),
        thread_contexts: Vec::new(),
    }
}

#[test]
fn failed_composition_leaves_nothing_behind() {
    let _g = map_lock();
    let s = Scratch::new("rollback");
    let before = maps_count_of(OURS);
    assert_eq!(before, 0, "no leftovers from other tests");

    // Second backend bound to a host node that does not exist: found
    // when planning.
    let objects = [
        format!(
            "memory-backend-file,id=m0,size=5M,mem-path={},share=on",
            s.str("f0")
        ),
        "memory-backend-ram,id=m1,size=7M,host-nodes=7,policy=bind".to_owned(),
    ];
    let req = request(&objects, &["m0", "m1"]);
    let e = RamPlan::new(&req, &host()).unwrap_err();
    assert_eq!(e.backend(), Some("m1"));
    assert_eq!(maps_count_of(OURS), before);
    assert!(s.files().is_empty());

    // The same, with a host that claims node 7 exists: the kernel
    // refuses at mbind, after m0 was mapped and its file created.
    let mut h = host();
    h.nodes.push(HostNode {
        id: 7,
        has_memory: true,
        cpus: vec![0],
        hugepage_pools: Vec::new(),
    });
    h.mems_allowed = None;
    let plan = RamPlan::new(&req, &h).unwrap();
    let e = GuestRam::allocate(&plan, AllocOptions::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot bind memory to host NUMA nodes: Invalid argument"
    );
    assert_eq!(e.backend(), Some("m1"));
    assert_eq!(maps_count_of(OURS), before, "everything unmapped");
    assert!(
        s.files().is_empty(),
        "created file removed: {:?}",
        s.files()
    );

    // mem-path gone between planning and allocation.
    let gone = Scratch::new("gone");
    let objects = [
        "memory-backend-ram,id=m0,size=5M,prealloc=on".to_owned(),
        format!(
            "memory-backend-file,id=m1,size=7M,mem-path={}",
            gone.str("")
        ),
    ];
    let plan = RamPlan::new(&request(&objects, &["m0", "m1"]), &host()).unwrap();
    let gone_path = gone.str("");
    drop(gone);
    let e = GuestRam::allocate(&plan, AllocOptions::new()).unwrap_err();
    assert!(
        e.to_string().starts_with(&format!(
            "can't open backing store {gone_path} for guest RAM"
        )),
        "{e}"
    );
    assert_eq!(maps_count_of(OURS), before);

    // A mapping that counts is seen.
    let b = alloc("memory-backend-ram,id=x,size=11M");
    assert_eq!(maps_count_of(OURS), 1);
    drop(b);

    // The second backend's file shrank after planning: it fails at
    // mapping, after the first was mapped and its file created.
    let f1 = s.path("f1");
    std::fs::write(&f1, vec![1u8; 7 * MIB as usize]).unwrap();
    let objects = [
        format!(
            "memory-backend-file,id=m0,size=5M,mem-path={},share=on,prealloc=on",
            s.str("f0")
        ),
        format!(
            "memory-backend-file,id=m1,size=7M,mem-path={},share=on,prealloc=on",
            s.str("f1")
        ),
    ];
    let plan = RamPlan::new(&request(&objects, &["m0", "m1"]), &host()).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&f1)
        .unwrap()
        .set_len(4096)
        .unwrap();
    let e = GuestRam::allocate(&plan, AllocOptions::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "backing store size 0x1000 does not match 'size' option 0x700000"
    );
    assert_eq!(e.backend(), Some("m1"));
    assert_eq!(maps_count_of(OURS), before);
    assert_eq!(
        s.files(),
        ["f1"],
        "f0 (created) removed, f1 (the user's) kept"
    );

    // Cancelled in the preallocation phase, after both were mapped.
    let cancel = AtomicBool::new(true);
    let objects = [
        format!(
            "memory-backend-file,id=m0,size=5M,mem-path={},share=on,prealloc=on",
            s.str("f0")
        ),
        "memory-backend-ram,id=m1,size=9M,prealloc=on".to_owned(),
    ];
    let plan = RamPlan::new(&request(&objects, &["m0", "m1"]), &host()).unwrap();
    let e = GuestRam::allocate(&plan, AllocOptions::new().cancel_flag(&cancel)).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("preallocation of memory backend 'm"),
        "{e}"
    );
    assert!(e.to_string().ends_with("' cancelled"), "{e}");
    assert_eq!(maps_count_of(OURS), before);
    assert_eq!(s.files(), ["f1"]);

    // Preallocation failing in the second backend: its file system filled
    // up after planning (a 7 MiB tmpfs; needs root to mount).
    let Some(m) = Mount::new("tmpfs", "size=7M") else {
        return;
    };
    let objects = [
        format!(
            "memory-backend-file,id=m0,size=5M,mem-path={},share=on,prealloc=on",
            s.str("f0")
        ),
        format!(
            "memory-backend-file,id=m1,size=7M,mem-path={},share=on,prealloc=on",
            m.str()
        ),
    ];
    let plan = RamPlan::new(&request(&objects, &["m0", "m1"]), &host()).unwrap();
    std::fs::write(m.path().join("filler"), vec![1u8; 4 * MIB as usize]).unwrap();
    let e = GuestRam::allocate(&plan, AllocOptions::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "qemu_prealloc_mem: preallocating memory failed: Bad address"
    );
    assert_eq!(e.backend(), Some("m1"));
    assert_eq!(maps_count_of(OURS), before);
    assert_eq!(s.files(), ["f1"]);
    assert_eq!(m.dir.files(), ["filler"]);
}

#[test]
fn guest_ram_composition_and_query_memdev() {
    let _g = map_lock();
    let before = maps_count_of(OURS);
    let objects = [
        "memory-backend-ram,id=m0,size=9M,host-nodes=0,policy=bind,prealloc=on".to_owned(),
        "memory-backend-memfd,id=m1,size=5M,prealloc=on".to_owned(),
        "memory-backend-ram,id=spare,size=3M".to_owned(),
    ];
    let mut req = request(&objects, &["m0", "m1"]);
    req.ram_size = 14 * MIB;
    // Node 2 has no memory; node ids may be given in any order.
    if let BootRam::Nodes(n) = &mut req.boot {
        n.reverse();
        n.push(NodeRam {
            node: 2,
            memdev: None,
        });
    }
    let plan = RamPlan::new(&req, &host()).unwrap();
    let mut reports = Vec::new();
    let mut progress = |p: Progress| reports.push(p);
    let ram = GuestRam::allocate(
        &plan,
        AllocOptions::new()
            .prealloc_threads(ThreadRule::Exact(2.try_into().unwrap()))
            .progress(&mut progress),
    )
    .unwrap();
    let r = ram.regions();
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].node, r[0].offset, r[0].size), (Some(0), 0, 9 * MIB));
    assert_eq!(
        (r[1].node, r[1].offset, r[1].size),
        (Some(1), 9 * MIB, 5 * MIB)
    );
    let (reg, p) = ram.host_address(9 * MIB + 3).unwrap();
    assert_eq!(reg.node, Some(1));
    assert_eq!(p, ram.backend("m1").unwrap().as_ptr().wrapping_add(3));
    assert!(ram.host_address(14 * MIB).is_none());
    // Both preallocated, in parallel; progress ends at the total.
    assert_eq!(smaps(ram.backend("m0").unwrap().as_ptr()).rss_kb, 9 * 1024);
    assert_eq!(smaps(ram.backend("m1").unwrap().as_ptr()).rss_kb, 5 * 1024);
    assert_eq!(smaps(ram.backend("spare").unwrap().as_ptr()).rss_kb, 0);
    let last = *reports.last().unwrap();
    assert_eq!(
        last,
        Progress {
            done: 14 * MIB,
            total: 14 * MIB
        }
    );
    assert!(reports.windows(2).all(|w| w[0].done <= w[1].done));
    let json: Vec<String> = ram.query_memdev().iter().map(|m| m.to_qmp_json()).collect();
    assert_eq!(
        json,
        [
            r#"{"share": false, "reserve": true, "prealloc": true, "host-nodes": [0], "size": 9437184, "merge": true, "dump": true, "policy": "bind", "id": "m0"}"#,
            r#"{"share": true, "reserve": true, "prealloc": true, "host-nodes": [], "size": 5242880, "merge": true, "dump": true, "policy": "default", "id": "m1"}"#,
            r#"{"share": false, "reserve": true, "prealloc": false, "host-nodes": [], "size": 3145728, "merge": true, "dump": true, "policy": "default", "id": "spare"}"#,
        ]
    );
    assert_eq!(plan.query_memdev(), ram.query_memdev());
    assert_eq!(
        ram.query_memdev()[0].to_string(),
        "memory backend: m0\n  size:  9437184\n  merge: true\n  dump: true\n  prealloc: true\n  share: false\n  reserve: true\n  policy: bind\n  host nodes: 0\n\n"
    );
    assert_eq!(maps_count_of(OURS), before + 3);
    drop(ram);
    assert_eq!(maps_count_of(OURS), before);
}

#[test]
fn default_ram_backend() {
    let _g = map_lock();
    let req = |mem_path: Option<String>, fallback: bool, prealloc: bool| RamRequest {
        ram_size: 256 * MIB,
        backends: Vec::new(),
        boot: BootRam::Default(DefaultRam {
            id: "pc.ram".into(),
            mem_path,
            mem_path_fallback: fallback,
        }),
        defaults: vnuma_backend::Defaults {
            prealloc,
            ..defaults()
        },
        thread_contexts: Vec::new(),
    };
    // `-m 256M`: what QEMU 7.2's query-memdev returns.
    let plan = RamPlan::new(&req(None, false, false), &host()).unwrap();
    let ram = GuestRam::allocate(&plan, AllocOptions::new()).unwrap();
    assert_eq!(
        vnuma_backend::Memdev::list_to_qmp_json(&ram.query_memdev()),
        r#"[{"share": false, "reserve": true, "prealloc": false, "host-nodes": [], "size": 268435456, "merge": true, "dump": true, "policy": "default", "id": "pc.ram"}]"#
    );
    assert_eq!(ram.regions()[0].node, None);
    drop(ram);

    // -mem-path to a directory: a file backend; to a missing place: the
    // 2016 fallback to anonymous memory, with the error as a warning...
    let d = Scratch::new("mempath");
    let plan = RamPlan::new(&req(Some(d.str("")), true, false), &host()).unwrap();
    assert_eq!(plan.backends()[0].qom_type(), "memory-backend-file");
    let missing = d.str("no/such/dir");
    let plan = RamPlan::new(&req(Some(missing.clone()), true, false), &host()).unwrap();
    assert_eq!(plan.backends()[0].qom_type(), "memory-backend-ram");
    match &plan.warnings()[0] {
        Warning::MemPathFallback { error } => assert_eq!(
            error.to_string(),
            format!("can't open backing store {missing} for guest RAM: No such file or directory")
        ),
        w => panic!("{w:?}"),
    }
    // ... but not with -mem-prealloc, nor without the fallback (QEMU 7.2).
    for (fallback, prealloc) in [(true, true), (false, false)] {
        let e = RamPlan::new(&req(Some(missing.clone()), fallback, prealloc), &host()).unwrap_err();
        assert_eq!(e.backend(), Some("pc.ram"));
    }
    // The fallback also covers a failure while mapping.
    let gone = Scratch::new("gone");
    let plan = RamPlan::new(&req(Some(gone.str("")), true, false), &host()).unwrap();
    drop(gone);
    let ram = GuestRam::allocate(&plan, AllocOptions::new()).unwrap();
    assert!(matches!(ram.warnings()[0], Warning::MemPathFallback { .. }));
    assert_eq!(ram.backends()[0].plan().qom_type(), "memory-backend-ram");
}

#[test]
fn hugetlb_memfd_when_the_pool_has_pages() {
    let _g = map_lock();
    if free_2m_hugepages() < 2 {
        eprintln!("skipping: no free 2 MiB huge pages (vm.nr_hugepages is 0)");
        return;
    }
    let b = alloc("memory-backend-memfd,id=h,size=4M,hugetlb=on,hugetlbsize=2M,prealloc=on");
    assert_eq!(b.page_size(), 2 * MIB);
    assert!(numa_maps(b.as_ptr()).contains("huge"));
}

#[test]
fn cancel_from_progress() {
    let _g = map_lock();
    let before = maps_count_of(OURS);
    let cancel = AtomicBool::new(false);
    let mut calls = 0;
    let mut progress = |_p: Progress| {
        calls += 1;
        cancel.store(true, Ordering::Relaxed);
    };
    let opts: MemoryBackendOptions =
        "memory-backend-ram,id=m0,size=67M,prealloc=on,prealloc-threads=1"
            .parse()
            .unwrap();
    let plan = BackendPlan::new(&opts, &defaults(), &host()).unwrap();
    let e = HostMemoryBackend::allocate(
        &plan,
        AllocOptions::new()
            .progress(&mut progress)
            .cancel_flag(&cancel),
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "preallocation of memory backend 'm0' cancelled"
    );
    assert!(calls >= 1);
    assert_eq!(maps_count_of(OURS), before);
}

#[test]
fn workers_pin_to_the_bound_nodes_cpus() {
    let _g = map_lock();
    let opts: MemoryBackendOptions =
        "memory-backend-ram,id=m0,size=8M,host-nodes=0,policy=bind,prealloc=on"
            .parse()
            .unwrap();
    // Node 0's real CPUs: pinning works, no warning.
    let plan = BackendPlan::new(&opts, &defaults(), &host()).unwrap();
    assert_eq!(plan.node_cpus(), host().cpus_of(&[0]).as_slice());
    let two = AllocOptions::new().prealloc_threads(ThreadRule::Exact(2.try_into().unwrap()));
    let (b, w) = HostMemoryBackend::allocate(&plan, two).unwrap();
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(smaps(b.as_ptr()).rss_kb, 8 * 1024);
    drop(b);
    // A host whose node 0 claims a CPU this machine does not have: the
    // kernel refuses the affinity, preallocation still completes, and
    // the caller is told.
    let mut h = host();
    h.nodes[0].cpus = vec![4000];
    let plan = BackendPlan::new(&opts, &defaults(), &h).unwrap();
    let two = AllocOptions::new().prealloc_threads(ThreadRule::Exact(2.try_into().unwrap()));
    let (b, w) = HostMemoryBackend::allocate(&plan, two).unwrap();
    assert!(
        matches!(&w[..], [Warning::AffinityNotSet { backend, .. }] if backend == "m0"),
        "{w:?}"
    );
    assert_eq!(smaps(b.as_ptr()).rss_kb, 8 * 1024);
}
