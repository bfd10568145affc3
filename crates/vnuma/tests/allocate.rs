//! The second call: from a resolved configuration to host memory.

use vnuma::backend::{AllocOptions, BootRam};
use vnuma::Vm;

#[test]
fn two_nodes_preallocated() {
    let vm = Vm::from_args([
        "-m",
        "16M",
        "-smp",
        "2,sockets=2",
        "-object",
        "memory-backend-ram,id=m0,size=8M,prealloc=on",
        "-object",
        "memory-backend-memfd,id=m1,size=8M,host-nodes=0,policy=bind",
        "-numa",
        "node,nodeid=0,memdev=m0",
        "-numa",
        "node,nodeid=1,memdev=m1",
    ])
    .unwrap();
    let request = vm.ram_request();
    assert!(matches!(&request.boot, BootRam::Nodes(n) if n.len() == 2));
    assert_eq!(request.defaults.prealloc_threads, 2);
    let ram = vm.allocate(AllocOptions::new()).unwrap();
    let regions: Vec<(Option<u32>, u64, u64)> = ram
        .regions()
        .iter()
        .map(|r| (r.node, r.offset, r.size))
        .collect();
    assert_eq!(
        regions,
        [(Some(0), 0, 8 << 20), (Some(1), 8 << 20, 8 << 20)]
    );
    let m0 = ram.backend("m0").unwrap();
    assert!(m0.is_preallocated());
    assert_eq!(m0.resident_bytes().unwrap(), 8 << 20);
    // The allocated backends report what the configuration report says.
    let from_ram: Vec<_> = ram
        .query_memdev()
        .into_iter()
        .map(|m| (m.id, m.size, m.prealloc, m.share))
        .collect();
    let from_config: Vec<_> = vm
        .query_memdev()
        .into_iter()
        .map(|m| (m.id, m.size, m.prealloc, m.share))
        .collect();
    assert_eq!(from_ram, from_config);
}

#[test]
fn default_ram_without_numa() {
    let vm = Vm::from_args(["-m", "4M"]).unwrap();
    let ram = vm.allocate(AllocOptions::new()).unwrap();
    assert_eq!(ram.ram_size(), 4 << 20);
    assert_eq!(ram.query_memdev()[0].id.as_deref(), Some("pc.ram"));
}

#[test]
fn host_errors_come_before_any_mapping() {
    // Node 1 does not exist on a one-node host (and if it does, the
    // configuration is fine: skip then).
    if std::path::Path::new("/sys/devices/system/node/node1").exists() {
        return;
    }
    let vm = Vm::from_args([
        "-m",
        "8M",
        "-object",
        "memory-backend-ram,id=m0,size=8M,host-nodes=1,policy=bind",
        "-numa",
        "node,memdev=m0",
    ])
    .unwrap();
    let e = vm.allocate(AllocOptions::new()).unwrap_err();
    assert!(matches!(e, vnuma::Error::Backend(_)));
    assert!(e.to_string().contains("host node 1 does not exist"), "{e}");
}
