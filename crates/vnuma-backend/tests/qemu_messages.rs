//! Every QEMU message the crate reproduces, each checked twice: vnuma's
//! error has the text, and (where QEMU 7.2 is installed) QEMU 7.2 exits
//! with that text for the same configuration. Deliberate deviations are
//! checked the same way, with both texts.
mod common;

use common::*;
use vnuma_backend::{
    AllocOptions, BackendPlan, BootRam, DefaultRam, Error, ErrorKind, HostInfo, HostNode, NodeRam,
    RamPlan, RamRequest,
};
use vnuma_options::MemoryBackendOptions;

fn plan_err(object: &str) -> Error {
    let opts: MemoryBackendOptions = object.parse().expect(object);
    BackendPlan::new(&opts, &defaults(), &host()).expect_err(object)
}

/// vnuma says `ours`; QEMU 7.2 says `qemu` for `-object {object}` (or
/// `qemu_args`).
fn same(qemu_args: &[&str], ours: &Error, qemu: &str) {
    assert_eq!(ours.to_string(), qemu, "vnuma's text for {qemu_args:?}");
    if qemu_72() {
        assert_eq!(
            qemu_error(qemu_args).as_deref(),
            Some(qemu),
            "QEMU 7.2's text for {qemu_args:?}"
        );
    }
}

/// A deliberate deviation: vnuma says `ours_text`, QEMU 7.2 `qemu`
/// (`None`: QEMU accepts the configuration).
fn deviates(qemu_args: &[&str], ours: &Error, ours_text: &str, qemu: Option<&str>) {
    assert_eq!(
        ours.to_string(),
        ours_text,
        "vnuma's text for {qemu_args:?}"
    );
    if qemu_72() {
        assert_eq!(
            qemu_error(qemu_args).as_deref(),
            qemu,
            "QEMU 7.2's text for {qemu_args:?}"
        );
    }
}

#[test]
fn qemu_is_here_or_skipped() {
    if !qemu_72() {
        eprintln!("skipping QEMU 7.2 comparisons: qemu-system-x86_64 7.2 is not installed");
    }
}

#[test]
fn property_setters() {
    let cases = [
        (
            "memory-backend-ram,id=m0,size=0",
            "property 'size' of memory-backend-ram doesn't take value '0'",
        ),
        (
            "memory-backend-ram,id=m0,size=1M,prealloc-threads=0",
            "property 'prealloc-threads' of memory-backend-ram doesn't take value '0'",
        ),
        (
            "memory-backend-ram,id=m0,size=1M,host-nodes=200,policy=bind",
            "Invalid host-nodes value: 200",
        ),
        (
            "memory-backend-memfd,id=m0,size=4M,hugetlb=on,hugetlbsize=0",
            "Property 'memory-backend-memfd.hugetlbsize' doesn't take value '0'",
        ),
        (
            "memory-backend-ram,id=m0,size=1M,prealloc=on,reserve=off",
            "'prealloc=on' and 'reserve=off' are incompatible",
        ),
        (
            "memory-backend-ram,id=m0,size=1M,reserve=off,prealloc=on",
            "'prealloc=on' and 'reserve=off' are incompatible",
        ),
    ];
    for (o, msg) in cases {
        let e = plan_err(o);
        assert_eq!(e.backend(), Some("m0"));
        same(&["-object", o], &e, msg);
    }
}

#[test]
fn policy_rules() {
    let cases = [
        (
            "memory-backend-ram,id=m0,size=1M,policy=bind",
            "host-nodes must be set for policy bind",
        ),
        (
            "memory-backend-ram,id=m0,size=1M,policy=interleave",
            "host-nodes must be set for policy interleave",
        ),
        (
            "memory-backend-ram,id=m0,size=1M,policy=preferred",
            "host-nodes must be set for policy preferred",
        ),
        (
            "memory-backend-ram,id=m0,size=1M,host-nodes=0",
            "host-nodes must be empty for policy default, or you should explicitly specify a policy other than default",
        ),
        (
            "memory-backend-ram,id=m0,size=1M,host-nodes=0,policy=default",
            "host-nodes must be empty for policy default, or you should explicitly specify a policy other than default",
        ),
    ];
    for (o, msg) in cases {
        same(&["-object", o], &plan_err(o), msg);
    }
}

#[test]
fn missing_host_node_is_found_before_mapping() {
    let o = "memory-backend-ram,id=m0,size=1M,host-nodes=1,policy=bind";
    let e = plan_err(o);
    assert!(matches!(e.kind(), ErrorKind::HostNode { node: 1, .. }));
    deviates(
        &["-object", o],
        &e,
        "cannot bind memory to host NUMA nodes: host node 1 does not exist (backend 'm0')",
        Some("cannot bind memory to host NUMA nodes: Invalid argument"),
    );
    // QEMU silently binds to the nodes that exist when one does; vnuma
    // refuses.
    let o = "memory-backend-ram,id=m0,size=1M,host-nodes=0-1,policy=bind";
    assert_eq!(
        plan_err(o).to_string(),
        "cannot bind memory to host NUMA nodes: host node 1 does not exist (backend 'm0')"
    );
    if qemu_72() {
        assert_eq!(qemu_error(&["-object", o]), None, "QEMU 7.2 accepts {o}");
    }
}

/// A host that claims node 1 exists, so that planning passes and the
/// kernel answers at `mbind`.
fn host_with_phantom_node() -> HostInfo {
    let mut h = host();
    h.nodes.push(HostNode {
        id: 1,
        has_memory: true,
        cpus: vec![0],
        hugepage_pools: Vec::new(),
    });
    if let Some(m) = &mut h.mems_allowed {
        m.push(1);
    }
    h
}

#[test]
fn mbind_failure_has_qemus_text() {
    let _g = map_lock();
    for policy in ["bind", "preferred", "interleave"] {
        let o = format!("memory-backend-ram,id=m0,size=1M,host-nodes=1,policy={policy}");
        let opts: MemoryBackendOptions = o.parse().unwrap();
        let plan = BackendPlan::new(&opts, &defaults(), &host_with_phantom_node()).unwrap();
        let e =
            vnuma_backend::HostMemoryBackend::allocate(&plan, AllocOptions::new()).expect_err(&o);
        same(
            &["-object", &o],
            &e,
            "cannot bind memory to host NUMA nodes: Invalid argument",
        );
    }
}

#[test]
fn memfd_rules() {
    let o = "memory-backend-memfd,id=m0,size=4M,hugetlb=on,hugetlbsize=3M";
    same(
        &["-object", o],
        &plan_err(o),
        "Hugepage size must be a power of 2",
    );
    // A page size without a pool: what memfd_create answers.
    let o = "memory-backend-memfd,id=m0,size=4M,hugetlb=on,hugetlbsize=4M";
    same(
        &["-object", o],
        &plan_err(o),
        "failed to create memfd with flags 0x58000007: No such device",
    );
    let o = "memory-backend-memfd,id=m0,size=4M,seal=off,hugetlb=on,hugetlbsize=4M";
    same(
        &["-object", o],
        &plan_err(o),
        "failed to create memfd with flags 0x58000005: No such device",
    );
    // Sizes that are not page multiples: QEMU 9.1's text.
    let o = "memory-backend-memfd,id=m0,size=4097";
    deviates(
        &["-object", o],
        &plan_err(o),
        "backend 'memory-backend-memfd' memory size must be multiple of 4 KiB",
        Some("backing store size 0x1001 does not match 'size' option 0x2000"),
    );
    if free_2m_hugepages() == 0 {
        let o = "memory-backend-memfd,id=m0,size=1M,hugetlb=on,hugetlbsize=2M";
        deviates(
            &["-object", o],
            &plan_err(o),
            "backend 'memory-backend-memfd' memory size must be multiple of 2 MiB",
            Some("failed to resize memfd to 1048576: Invalid argument"),
        );
        // No huge pages: found when planning.
        let o = "memory-backend-memfd,id=m0,size=4M,hugetlb=on,hugetlbsize=2M";
        deviates(
            &["-object", o],
            &plan_err(o),
            "memory backend 'm0' needs 2 huge pages of 2 MiB, but the host has 0 available",
            Some("unable to map backing store for guest RAM: Cannot allocate memory"),
        );
    } else {
        eprintln!("skipping the empty-pool cases: this host has free 2 MiB huge pages");
    }
}

#[test]
fn file_rules() {
    let s = Scratch::new("file-rules");
    let missing = s.str("no/such/dir/x");
    let o = format!("memory-backend-file,id=m0,size=1M,mem-path={missing}");
    same(
        &["-object", &o],
        &plan_err(&o),
        &format!("can't open backing store {missing} for guest RAM: No such file or directory"),
    );
    let dir_slash = format!("{}/", s.str("nodir"));
    let o = format!("memory-backend-file,id=m0,size=1M,mem-path={dir_slash}");
    same(
        &["-object", &o],
        &plan_err(&o),
        &format!("can't open backing store {dir_slash} for guest RAM: Is a directory"),
    );
    std::fs::write(s.path("small"), [7u8; 8192]).unwrap();
    let o = format!(
        "memory-backend-file,id=m0,size=1M,mem-path={}",
        s.str("small")
    );
    same(
        &["-object", &o],
        &plan_err(&o),
        "backing store size 0x2000 does not match 'size' option 0x100000",
    );
    let dir = s.str("");
    let o = format!("memory-backend-file,id=m0,size=1M,mem-path={dir},align=1K");
    same(
        &["-object", &o],
        &plan_err(&o),
        "alignment 0x400 must be multiples of page size 0x1000",
    );
    let o = format!("memory-backend-file,id=m0,size=1M,mem-path={dir},align=12K");
    same(
        &["-object", &o],
        &plan_err(&o),
        "alignment 0x3000 must be a power of two",
    );
    let o = format!("memory-backend-file,id=m0,size=1000,mem-path={dir}");
    deviates(
        &["-object", &o],
        &plan_err(&o),
        "backend 'memory-backend-file' memory size must be multiple of 4 KiB",
        // QEMU 7.2 rounds up and accepts.
        None,
    )
}

#[test]
fn hugetlbfs_page_size_comes_from_statfs() {
    let Some(m) = Mount::new("hugetlbfs", "pagesize=2M") else {
        return;
    };
    let dir = m.str();
    let o = format!("memory-backend-file,id=m0,size=1M,mem-path={dir}");
    same(
        &["-object", &o],
        &plan_err(&o),
        "memory size 0x100000 must be equal to or larger than page size 0x200000",
    );
    let o = format!("memory-backend-file,id=m0,size=4M,mem-path={dir},align=4K");
    same(
        &["-object", &o],
        &plan_err(&o),
        "alignment 0x1000 must be multiples of page size 0x200000",
    );
    let opts: MemoryBackendOptions =
        format!("memory-backend-file,id=m0,size=4M,mem-path={dir},reserve=off")
            .parse()
            .unwrap();
    let plan = BackendPlan::new(&opts, &defaults(), &host()).unwrap();
    assert_eq!(plan.page_size(), 2 << 20);
    if free_2m_hugepages() < 2 {
        let o = format!("memory-backend-file,id=m0,size=4M,mem-path={dir}");
        deviates(
            &["-object", &o],
            &plan_err(&o),
            "memory backend 'm0' needs 2 huge pages of 2 MiB, but the host has 0 available",
            Some("unable to map backing store for guest RAM: Cannot allocate memory"),
        );
    }
    drop(m);
}

#[test]
fn prealloc_failure_on_a_full_file_system() {
    let Some(m) = Mount::new("tmpfs", "size=1M") else {
        return;
    };
    let _g = map_lock();
    let dir = m.str();
    let o = format!("memory-backend-file,id=m0,size=4M,mem-path={dir},share=on,prealloc=on");
    // vnuma: found before mapping.
    let e = plan_err(&o);
    assert!(matches!(e.kind(), ErrorKind::NoRoom { .. }), "{e}");
    // QEMU 7.2 finds it while preallocating; so does vnuma when the plan
    // is made before the file system fills up.
    if qemu_72() {
        assert_eq!(
            qemu_error(&["-object", &o]).as_deref(),
            Some("qemu_prealloc_mem: preallocating memory failed: Bad address")
        );
    }
    let without: MemoryBackendOptions =
        format!("memory-backend-file,id=m0,size=4M,mem-path={dir},share=on")
            .parse()
            .unwrap();
    let plan = BackendPlan::new(&without, &defaults(), &host()).unwrap();
    assert!(!plan.warnings().is_empty(), "room warning");
    let before = maps_count_of(&[4 << 20]);
    let (b, _) = vnuma_backend::HostMemoryBackend::allocate(&plan, AllocOptions::new()).unwrap();
    let e = b.prealloc(AllocOptions::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "qemu_prealloc_mem: preallocating memory failed: Bad address"
    );
    assert_eq!(e.backend(), Some("m0"));
    // The fallback for old kernels fails cleanly too (fallocate first).
    let e = b
        .prealloc(AllocOptions::new().prealloc_method(vnuma_backend::PreallocMethod::Touch))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "qemu_prealloc_mem: preallocating memory failed: No space left on device"
    );
    drop(b);
    assert_eq!(maps_count_of(&[4 << 20]), before);
    assert!(m.dir.files().is_empty(), "temporary file unlinked");
}

#[test]
fn ram_too_large() {
    if host().overcommit_memory != Some(0) {
        eprintln!("skipping: the kernel's heuristic overcommit (mode 0) is not in force");
        return;
    }
    let o = "memory-backend-ram,id=m0,size=100T";
    same(
        &["-object", o],
        &plan_err(o),
        "cannot set up guest memory 'm0': Cannot allocate memory",
    );
}

fn ram_req(ram_size: u64, objects: &[&str], boot: BootRam) -> RamRequest {
    RamRequest {
        ram_size,
        backends: objects.iter().map(|o| o.parse().unwrap()).collect(),
        boot,
        defaults: defaults(),
        thread_contexts: Vec::new(),
    }
}

#[test]
fn composition_rules() {
    let nodes = |ids: &[&str]| {
        BootRam::Nodes(
            ids.iter()
                .enumerate()
                .map(|(i, m)| NodeRam {
                    node: i as u32,
                    memdev: Some((*m).into()),
                })
                .collect(),
        )
    };
    let e = RamPlan::new(
        &ram_req(
            8 << 20,
            &["memory-backend-ram,id=m0,size=4M"],
            nodes(&["m0", "m0"]),
        ),
        &host(),
    )
    .unwrap_err();
    same(
        &[
            "-m",
            "8M",
            "-object",
            "memory-backend-ram,id=m0,size=4M",
            "-numa",
            "node,memdev=m0",
            "-numa",
            "node,memdev=m0",
        ],
        &e,
        "memory backend m0 can't be used multiple times.",
    );
    let e = RamPlan::new(
        &ram_req(
            128 << 20,
            &["memory-backend-ram,id=pc.ram,size=128M"],
            BootRam::Default(DefaultRam::new("pc.ram")),
        ),
        &host(),
    )
    .unwrap_err();
    same(
        &["-m", "128M", "-object", "memory-backend-ram,id=pc.ram,size=128M"],
        &e,
        "object name 'pc.ram' is reserved for the default RAM backend, it can't be used for any other purposes. Change the object's 'id' to something else",
    );
    let e = RamPlan::new(
        &ram_req(
            256 << 20,
            &["memory-backend-ram,id=m0,size=128M"],
            BootRam::Backend("m0".into()),
        ),
        &host(),
    )
    .unwrap_err();
    same(
        &[
            "-m",
            "256M",
            "-object",
            "memory-backend-ram,id=m0,size=128M",
            "-machine",
            "memory-backend=m0",
        ],
        &e,
        "Machine memory size does not match the size of the memory backend",
    );
    let e = RamPlan::new(
        &ram_req(
            128 << 20,
            &["memory-backend-ram,id=m0,size=64M"],
            nodes(&["m0"]),
        ),
        &host(),
    )
    .unwrap_err();
    same(
        &[
            "-m",
            "128M",
            "-object",
            "memory-backend-ram,id=m0,size=64M",
            "-numa",
            "node,memdev=m0",
        ],
        &e,
        "total memory for NUMA nodes (0x4000000) should equal RAM size (0x8000000)",
    );
}

#[test]
fn allocation_errors_name_the_backend() {
    let e = plan_err("memory-backend-ram,id=big,size=100T");
    assert_eq!(
        e.display_with_backend().to_string(),
        "memory backend 'big': cannot set up guest memory 'big': Cannot allocate memory"
    );
}
