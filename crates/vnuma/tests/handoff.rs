//! The hand-offs a VMM takes: the RAM request and segments of a topology,
//! and guest memory with cloud-hypervisor's bitmap type.

use vm_memory::bitmap::AtomicBitmap;
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};
use vnuma::backend::AllocOptions;

const MIB: u64 = 1 << 20;

fn q35() -> vnuma::Vm {
    // 2.75 GiB and up splits at 2 GiB on q35: node 1 runs past 4 GiB.
    vnuma::Vm::from_args([
        "-M",
        "q35",
        "-m",
        "3G",
        "-object",
        "memory-backend-memfd,id=m0,size=1G,share=on",
        "-object",
        "memory-backend-ram,id=m1,size=2G,reserve=off",
        "-numa",
        "node,memdev=m0",
        "-numa",
        "node,memdev=m1",
    ])
    .unwrap()
}

#[test]
fn guest_memory_with_cloud_hypervisors_bitmap() {
    let vm = q35();
    let ram = vm.allocate(AllocOptions::new()).unwrap();
    let numa = vm.guest_memory::<AtomicBitmap>(&ram).unwrap();
    let mem: &GuestMemoryMmap<AtomicBitmap> = numa.memory();
    // Every region's node is the layout's.
    for (r, n) in mem.iter().zip(numa.regions()) {
        assert_eq!(r.start_addr().0, n.guest_address);
        assert_eq!(vm.layout().node_of(n.guest_address), n.node);
        assert_eq!(vm.layout().node_of(n.guest_address + n.len - 1), n.node);
    }
    let view: Vec<(u64, u64, Option<u32>)> = numa
        .regions()
        .iter()
        .map(|r| (r.guest_address, r.len, r.node))
        .collect();
    assert_eq!(
        view,
        [
            (0, 640 << 10, Some(0)),
            (MIB, 1024 * MIB - MIB, Some(0)),
            (1 << 30, 1 << 30, Some(1)),
            (4 << 30, 1 << 30, Some(1)),
        ]
    );
    // Written through vm-memory above 4 GiB, read through node 1's backend.
    mem.write_slice(b"above 4G", GuestAddress((4 << 30) + 8))
        .unwrap();
    let mut buf = [0u8; 8];
    ram.backend("m1")
        .unwrap()
        .read_at((1 << 30) + 8, &mut buf)
        .unwrap();
    assert_eq!(&buf, b"above 4G");
    // The memfd region carries its file for vhost-user.
    assert!(mem
        .find_region(GuestAddress(2 * MIB))
        .unwrap()
        .file_offset()
        .is_some());
}

#[test]
fn bridges_are_the_vms() {
    let vm = q35();
    assert_eq!(vnuma::ram_request(vm.topology()), vm.ram_request());
    let segments = vnuma::segments(vm.topology());
    assert_eq!(segments, vm.segments());
    // Every segment lies in its node's ranges; the RAM offsets cover the
    // request's RAM except the [640K, 1M) window.
    for s in &segments {
        assert_eq!(vm.layout().node_of(s.guest_address), s.node);
        assert!(s.gpa_segment().is_some());
    }
    let total: u64 = segments.iter().map(|s| s.len).sum();
    assert_eq!(total, vm.ram_request().ram_size - (384 << 10));
}
