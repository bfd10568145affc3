//! `-object thread-context` (QEMU 7.2) and `prealloc-context`: what
//! resolution checks, what planning checks against the host, and
//! preallocation threads placed on the context's CPUs. Messages checked
//! with QEMU 7.2.

use vnuma::backend::HostInfo;
use vnuma::Vm;

fn err(args: &[&str]) -> String {
    Vm::from_args(args).unwrap_err().display_qemu().to_string()
}

#[test]
fn checks_without_the_host() {
    // Typed while reading argv, with the option's location.
    assert_eq!(
        err(&["-object", "thread-context,id=tc,node-affinity=x"]),
        "-object thread-context,id=tc,node-affinity=x: Parameter 'node-affinity' expects a uint64 value or range"
    );
    // Created before anything else, even the machine type; no location.
    assert_eq!(
        err(&[
            "-M",
            "foo",
            "-object",
            "thread-context,id=tc,node-affinity=0,cpu-affinity=0"
        ]),
        "Mixing CPU and node affinity not supported"
    );
    assert_eq!(
        err(&[
            "-m",
            "128M",
            "-object",
            "memory-backend-ram,id=m0,size=128M,prealloc-context=tc9"
        ]),
        "Device 'tc9' not found"
    );
    assert_eq!(
        err(&[
            "-m",
            "128M",
            "-object",
            "memory-backend-ram,id=tc,size=64M",
            "-object",
            "memory-backend-ram,id=m0,size=128M,prealloc-context=tc",
        ]),
        "Invalid parameter type for 'prealloc-context', expected: thread-context"
    );
    // A context defined after the backend is fine (QEMU creates it first).
    Vm::from_args([
        "-m",
        "128M",
        "-object",
        "memory-backend-ram,id=m0,size=128M,prealloc-context=tc",
        "-object",
        "thread-context,id=tc",
    ])
    .unwrap();
}

#[test]
fn host_checks_and_pinned_preallocation() {
    let host = HostInfo::probe();
    let Some(node) = host.nodes.iter().find(|n| !n.cpus.is_empty()) else {
        eprintln!("skipped: the host reports no NUMA node with CPUs");
        return;
    };
    let absent = host.nodes.iter().map(|n| n.id).max().unwrap_or(0) + 1;
    let plan_err = |tc: &str| {
        let vm = Vm::from_args([
            "-m",
            "64M",
            "-object",
            tc,
            "-object",
            "memory-backend-ram,id=m0,size=64M,prealloc=on,prealloc-context=tc",
            "-numa",
            "node,memdev=m0",
        ])
        .unwrap();
        vm.plan_ram(&host).err().map(|e| e.to_string())
    };
    assert_eq!(
        plan_err(&format!("thread-context,id=tc,node-affinity={absent}")).as_deref(),
        Some("The nodes select no CPUs")
    );
    assert_eq!(
        plan_err("thread-context,id=tc,cpu-affinity=4095").as_deref(),
        Some("Setting CPU affinity failed: Invalid argument")
    );
    // A context on the node: the backend's preallocation threads run on
    // that node's CPUs.
    let vm = Vm::from_args([
        "-m",
        "64M",
        "-object",
        &format!("thread-context,id=tc,node-affinity={}", node.id),
        "-object",
        "memory-backend-ram,id=m0,size=64M,prealloc=on,prealloc-context=tc",
        "-numa",
        "node,memdev=m0",
    ])
    .unwrap();
    let plan = vm.plan_ram(&host).unwrap();
    let b = &plan.backends()[0];
    assert_eq!(b.node_cpus(), node.cpus.as_slice());
}
