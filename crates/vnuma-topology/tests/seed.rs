//! The 2016 seed profile (spec §9, §3.7).

use vnuma_options::CommandLine;
use vnuma_topology::{resolve_with, Config, Topology};

fn seed(args: &str) -> Result<Topology, String> {
    let cl = CommandLine::parse(args.split_whitespace()).map_err(|e| e.to_string())?;
    resolve_with(&cl, &Config::seed()).map_err(|e| e.display_qemu().to_string())
}

#[test]
fn default_split_is_8mib_aligned_rest_on_last() {
    let t = seed("-M pc-i440fx-2.6 -m 1000M -numa node -numa node -numa node").unwrap();
    let mib: Vec<u64> = t.nodes().iter().map(|n| n.mem >> 20).collect();
    assert_eq!(mib, [328, 328, 344]);
    // The same under QEMU 7.2 is an error: no default split since 5.2.
    let cl = CommandLine::parse(
        "-M pc-i440fx-2.6 -m 1000M -numa node -numa node -numa node".split_whitespace(),
    )
    .unwrap();
    assert_eq!(
        vnuma_topology::resolve(&cl).unwrap_err().to_string(),
        "total memory for NUMA nodes (0x0) should equal RAM size (0x3e800000)"
    );
}

#[test]
fn default_cpus_by_socket_and_partial_warnings() {
    let t = seed("-M pc-i440fx-2.6 -smp 4,sockets=4 -m 128M -numa node -numa node").unwrap();
    let nodes: Vec<Option<u32>> = t.cpus().iter().map(|c| c.node).collect();
    assert_eq!(nodes, [Some(0), Some(1), Some(0), Some(1)]);
    assert!(t.warnings().is_empty());
    let t = seed("-M pc-i440fx-2.6 -smp 4 -m 128M -numa node,cpus=1 -numa node,cpus=2").unwrap();
    let nodes: Vec<Option<u32>> = t.cpus().iter().map(|c| c.node).collect();
    assert_eq!(nodes, [Some(0), Some(0), Some(1), Some(0)]);
    let w: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        [
            "CPU(s) not present in any NUMA nodes: 0 3",
            "All CPU(s) up to maxcpus should be described in NUMA config"
        ]
    );
}

#[test]
fn seed_errors() {
    let cases = [
        ("-smp 4 -m 128M -numa node,cpus=0-2 -numa node,cpus=1-3", "CPU(s) present in multiple NUMA nodes: 1 2"),
        ("-m 128M -numa dist,src=0,dst=0,val=10", "-numa dist,src=0,dst=0,val=10: Invalid parameter 'dist'"),
        (
            "-m 128M -object memory-backend-ram,id=a,size=64M -numa node,memdev=a -numa node,mem=64M",
            "-numa node,mem=64M: qemu: memdev option must be specified for either all or no nodes",
        ),
        (
            "-m 128M -object memory-backend-ram,id=a,size=64M -numa node,memdev=a,mem=64M",
            "-numa node,memdev=a,mem=64M: qemu: cannot specify both mem= and memdev=",
        ),
        (
            "-m 128M -object memory-backend-ram,id=a,size=64M -numa node,memdev=a -numa node,memdev=a",
            "memory backend a is used multiple times. Each -numa option must use a different memdev value.",
        ),
        ("-m 128M -numa node,nodeid=1", "numa: Node ID missing: 0"),
    ];
    for (args, want) in cases {
        assert_eq!(seed(args).unwrap_err(), want, "{args}");
    }
    // mem= works on new machine types too, without a warning.
    let t = seed("-M q35 -m 128M -numa node,mem=64 -numa node,mem=64").unwrap();
    assert_eq!(t.nodes()[1].mem, 64 << 20);
    assert!(t.warnings().is_empty());
}
