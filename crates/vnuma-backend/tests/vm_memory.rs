//! The `vm-memory` hand-over: regions at guest addresses, each knowing its
//! node, sharing the backends' memory and keeping it mapped.
#![cfg(feature = "vm-memory")]
mod common;

use common::*;
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryRegion};
use vnuma_backend::{AllocOptions, BootRam, GpaSegment, GuestRam, NodeRam, RamPlan, RamRequest};

const MIB: u64 = 1 << 20;

#[test]
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
    let mem = ram.guest_memory::<()>(&segments).unwrap();
    let regions: Vec<(u64, u64, Option<u32>)> = mem
        .iter()
        .map(|r| (r.start_addr().0, r.len(), vnuma_backend::region_node(r)))
        .collect();
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
    // The regions keep the mappings alive after the GuestRam is gone.
    drop(ram);
    mem.write_slice(b"still", GuestAddress(0)).unwrap();
    assert!(maps_count_of(&ours) > before);
    drop(mem);
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
