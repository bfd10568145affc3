//! The `vm-memory` hand-over: regions at guest addresses, each knowing its
//! node, sharing the backends' memory and keeping it mapped.
#![cfg(feature = "vm-memory")]
mod common;

use common::*;
use std::sync::Arc;

use vm_memory::bitmap::{AtomicBitmap, Bitmap};
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};
use vnuma_backend::{
    AllocOptions, BackendPlan, BackendSegment, BootRam, GpaSegment, GuestRam, HostMemoryBackend,
    NodeRam, NumaGuestMemory, RamPlan, RamRequest,
};

const MIB: u64 = 1 << 20;

#[test]
#[allow(unsafe_code)] // into_parts: the guard is dropped after the memory
fn regions_know_their_node_and_keep_memory_alive() {
    let _g = map_lock();
    let ours = [5 * MIB, 7 * MIB, 3 * MIB, 9 * MIB];
    let before = maps_count_of(&ours);
    let s = Scratch::new("vmm");
    let req = RamRequest {
        ram_size: 12 * MIB,
        backends: vec![
            "memory-backend-ram,id=m0,size=5M".parse().unwrap(),
            format!(
                "memory-backend-file,id=m1,size=7M,share=on,mem-path={}",
                s.str("f")
            )
            .parse()
            .unwrap(),
        ],
        boot: BootRam::Nodes(vec![
            NodeRam {
                node: 0,
                memdev: Some("m0".into()),
            },
            NodeRam {
                node: 1,
                memdev: Some("m1".into()),
            },
        ]),
        defaults: defaults(),
        thread_contexts: Vec::new(),
    };
    let ram =
        GuestRam::allocate(&RamPlan::new(&req, &host()).unwrap(), AllocOptions::new()).unwrap();
    // A "PCI hole" at RAM offset 10M: [0, 10M) at 0, [10M, 12M) at 4G.
    let segments = [
        GpaSegment {
            ram_offset: 0,
            len: 10 * MIB,
            guest_address: 0,
        },
        GpaSegment {
            ram_offset: 10 * MIB,
            len: 2 * MIB,
            guest_address: 4 << 30,
        },
    ];
    let numa = ram.guest_memory::<()>(&segments).unwrap();
    let regions: Vec<(u64, u64, Option<u32>)> = numa
        .memory()
        .iter()
        .zip(numa.regions())
        .map(|(r, n)| {
            assert_eq!((r.start_addr().0, r.len()), (n.guest_address, n.len));
            (r.start_addr().0, r.len(), n.node)
        })
        .collect();
    assert_eq!(numa.node_of(GuestAddress((4 << 30) + 5)), Some(1));
    assert_eq!(numa.node_of(GuestAddress(11 * MIB)), None);
    let mem = numa.memory();
    assert_eq!(
        regions,
        [
            (0, 5 * MIB, Some(0)),
            (5 * MIB, 5 * MIB, Some(1)),
            (4 << 30, 2 * MIB, Some(1)),
        ]
    );
    // Same memory: written through vm-memory, read through the backend.
    mem.write_slice(b"node1", GuestAddress((4 << 30) + 16))
        .unwrap();
    let mut buf = [0u8; 5];
    ram.backend("m1")
        .unwrap()
        .read_at(5 * MIB + 16, &mut buf)
        .unwrap();
    assert_eq!(&buf, b"node1");
    // File regions carry their file and offset.
    let r = mem.find_region(GuestAddress(4 << 30)).unwrap();
    assert_eq!(r.file_offset().unwrap().start(), 5 * MIB);
    // The hand-off keeps the mappings alive after the GuestRam is gone.
    drop(ram);
    numa.memory()
        .write_slice(b"still", GuestAddress(0))
        .unwrap();
    assert!(maps_count_of(&ours) > before);
    // SAFETY: `keep` outlives `mem` (dropped after it, below).
    let (mem, keep) = unsafe { numa.into_parts() };
    mem.write_slice(b"again", GuestAddress(0)).unwrap();
    assert_eq!(keep.backends().len(), 2);
    drop(mem);
    assert!(maps_count_of(&ours) > before);
    drop(keep);
    assert_eq!(maps_count_of(&ours), before);
    // The file backend's content reached the file.
    assert_eq!(
        &std::fs::read(s.path("f")).unwrap()[(5 * MIB + 16) as usize..][..5],
        b"node1"
    );
}

#[test]
fn placement_errors() {
    let _g = map_lock();
    let req = RamRequest {
        ram_size: 4 * MIB,
        backends: vec![],
        boot: BootRam::Default(vnuma_backend::DefaultRam::new("pc.ram")),
        defaults: defaults(),
        thread_contexts: Vec::new(),
    };
    let ram =
        GuestRam::allocate(&RamPlan::new(&req, &host()).unwrap(), AllocOptions::new()).unwrap();
    let e = ram
        .guest_memory::<()>(&[GpaSegment {
            ram_offset: 2 * MIB,
            len: 4 * MIB,
            guest_address: 0,
        }])
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid guest memory placement: "),
        "{e}"
    );
    let e = ram
        .guest_memory::<()>(&[
            GpaSegment {
                ram_offset: 0,
                len: 2 * MIB,
                guest_address: 0,
            },
            GpaSegment {
                ram_offset: 2 * MIB,
                len: 2 * MIB,
                guest_address: MIB,
            },
        ])
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("invalid guest memory placement: "),
        "{e}"
    );
}

fn backend(object: &str) -> Arc<HostMemoryBackend> {
    let plan = BackendPlan::new(&object.parse().unwrap(), &defaults(), &host()).unwrap();
    Arc::new(
        HostMemoryBackend::allocate(&plan, AllocOptions::new())
            .unwrap()
            .0,
    )
}

/// cloud-hypervisor's guest memory type is `GuestMemoryMmap<AtomicBitmap>`:
/// the hand-off must produce exactly that, with nodes beside it.
#[test]
fn cloud_hypervisor_bitmap_type() {
    let _g = map_lock();
    let zone0 = backend("memory-backend-ram,id=mem0,size=4M");
    let zone1 = backend("memory-backend-memfd,id=mem1,size=2M");
    let seg = |offset, len, guest_address, node| BackendSegment {
        offset,
        len,
        guest_address,
        node: Some(node),
    };
    let numa = NumaGuestMemory::<AtomicBitmap>::from_segments([
        (&zone0, seg(0, 3 * MIB, 0, 0)),
        (&zone0, seg(3 * MIB, MIB, 8 * MIB, 0)),
        (&zone1, seg(0, 2 * MIB, 9 * MIB, 1)),
    ])
    .unwrap();
    let mem: GuestMemoryMmap<AtomicBitmap> = numa.into_static();
    assert_eq!(mem.num_regions(), 3);
    mem.write_slice(b"dirty", GuestAddress(9 * MIB + 4096))
        .unwrap();
    let r = mem.find_region(GuestAddress(9 * MIB)).unwrap();
    assert!(
        r.bitmap().dirty_at(4096),
        "the caller's bitmap tracks writes"
    );
    let mut buf = [0u8; 5];
    zone1.read_at(4096, &mut buf).unwrap();
    assert_eq!(&buf, b"dirty");
    // Overlapping guest ranges and stretches outside the backend.
    assert!(NumaGuestMemory::<()>::from_segments([
        (&zone0, seg(0, MIB, 0, 0)),
        (&zone1, seg(0, MIB, MIB / 2, 1)),
    ])
    .is_err());
    assert!(NumaGuestMemory::<()>::from_segments([(&zone1, seg(MIB, 2 * MIB, 0, 1))]).is_err());
}

/// A `readonly=on` backend cannot be written through any safe API: the
/// backend's own accessor returns an error and the vm-memory hand-off
/// refuses it (vm-memory's `write_slice` would die of SIGSEGV).
#[test]
fn read_only_backends_refuse_writes_without_a_signal() {
    let _g = map_lock();
    let s = Scratch::new("ro");
    std::fs::write(s.path("f"), vec![7u8; 4 << 20]).unwrap();
    let b = backend(&format!(
        "memory-backend-file,id=ro,size=4M,share=on,readonly=on,mem-path={}",
        s.str("f")
    ));
    let e = b.write_at(0, b"x").unwrap_err();
    assert_eq!(e.raw(), libc::EACCES, "{e}");
    let mut buf = [0u8; 2];
    b.read_at(0, &mut buf).unwrap();
    assert_eq!(buf, [7, 7]);
    let e = NumaGuestMemory::<()>::from_segments([(
        &b,
        BackendSegment {
            offset: 0,
            len: 4 * MIB,
            guest_address: 0,
            node: None,
        },
    )])
    .unwrap_err();
    assert!(e.to_string().contains("read-only"), "{e}");
}

/// Several threads write and read the same bytes through the safe
/// accessors at once (byte-sized atomics: a race, not undefined
/// behaviour); every byte read is one some thread wrote.
#[test]
fn concurrent_safe_accessors() {
    let _g = map_lock();
    let b = backend("memory-backend-ram,id=m,size=2M");
    std::thread::scope(|scope| {
        for t in 1..=4u8 {
            let b = &b;
            scope.spawn(move || {
                let data = [t; 4096];
                let mut buf = [0u8; 4096];
                for _ in 0..50 {
                    b.write_at(0, &data).unwrap();
                    b.read_at(0, &mut buf).unwrap();
                    assert!(buf.iter().all(|&x| (1..=4).contains(&x)));
                }
            });
        }
    });
}
