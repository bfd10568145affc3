//! QEMU's own NUMA test suite (`tests/qtest/numa-test.c`, spec §8), the
//! x86 cases, written with QEMU-style arguments.

use vnuma_options::CommandLine;
use vnuma_topology::{resolve, Topology};

fn topo(args: &str) -> Result<Topology, vnuma_topology::Error> {
    let mut argv: Vec<&str> = vec!["-object", "memory-backend-ram,id=ram,size=128M"];
    argv.extend(args.split_whitespace());
    resolve(&CommandLine::parse(argv).expect("options parse"))
}

fn cpus(t: &Topology, node: u32) -> Vec<u32> {
    t.node_cpus(node).collect()
}

#[test]
fn cpus_default() {
    let t = topo("-machine smp.cpus=8,smp.sockets=8 -numa node,memdev=ram -numa node").unwrap();
    assert_eq!(cpus(&t, 0), [0, 2, 4, 6]);
    assert_eq!(cpus(&t, 1), [1, 3, 5, 7]);
}

#[test]
fn cpus_explicit() {
    let t = topo(
        "-machine smp.cpus=8 -numa node,nodeid=0,memdev=ram,cpus=0-3 -numa node,nodeid=1,cpus=4-7",
    )
    .unwrap();
    assert_eq!(cpus(&t, 0), [0, 1, 2, 3]);
    assert_eq!(cpus(&t, 1), [4, 5, 6, 7]);
}

#[test]
fn cpus_partial() {
    let t = topo(
        "-machine smp.cpus=8 -numa node,nodeid=0,memdev=ram,cpus=0-1 -numa node,nodeid=1,cpus=4-5",
    )
    .unwrap();
    assert_eq!(cpus(&t, 0), [0, 1, 2, 3, 6, 7]);
    assert_eq!(cpus(&t, 1), [4, 5]);
    let w: Vec<String> = t.warnings().iter().map(|w| w.to_string()).collect();
    assert_eq!(
        w,
        [
            "CPU(s) not present in any NUMA nodes: CPU 2 [socket-id: 0, core-id: 2, thread-id: 0], CPU 3 [socket-id: 0, core-id: 3, thread-id: 0], CPU 6 [socket-id: 0, core-id: 6, thread-id: 0], CPU 7 [socket-id: 0, core-id: 7, thread-id: 0]",
            "All CPU(s) up to maxcpus should be described in NUMA config, ability to start up with partial NUMA mappings is obsoleted and will be removed in future",
        ]
    );
}

#[test]
fn query_cpus() {
    let t = topo("-machine smp.cpus=8 -numa node,memdev=ram,cpus=0-3 -numa node,cpus=4-7").unwrap();
    for c in t.cpus() {
        assert_eq!(c.node, Some(if c.slot.index < 4 { 0 } else { 1 }));
    }
}

#[test]
fn pc_cpu_explicit() {
    let t = topo(
        "-cpu max -machine smp.cpus=8,smp.sockets=2,smp.cores=2,smp.threads=2 \
         -numa node,nodeid=0,memdev=ram -numa node,nodeid=1 \
         -numa cpu,node-id=1,socket-id=0 \
         -numa cpu,node-id=0,socket-id=1,core-id=0 \
         -numa cpu,node-id=0,socket-id=1,core-id=1,thread-id=0 \
         -numa cpu,node-id=1,socket-id=1,core-id=1,thread-id=1",
    )
    .unwrap();
    for c in t.cpus() {
        let s = c.slot;
        let want = match (s.socket_id, s.core_id, s.thread_id) {
            (0, _, _) => 1,
            (1, 0, _) => 0,
            (1, 1, 0) => 0,
            (1, 1, 1) => 1,
            _ => unreachable!(),
        };
        assert_eq!(c.node, Some(want), "{s:?}");
    }
    assert!(t.warnings().is_empty());
}

/// The `/numa/pc/hmat/build` sequence (spec §8.1) as command lines: every
/// failing step is checked with the valid steps before it.
#[test]
fn hmat_build_sequence() {
    let base = "-nodefaults -machine hmat=on -machine smp.cpus=2,smp.sockets=2 -m 128M,slots=2,maxmem=1G \
                -object memory-backend-ram,size=64M,id=m0 -object memory-backend-ram,size=64M,id=m1 \
                -numa node,nodeid=0,memdev=m0 -numa node,nodeid=1,memdev=m1,initiator=0 \
                -numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=0,socket-id=1";
    let run = |extra: &[&str]| {
        let mut argv: Vec<&str> = base.split_whitespace().collect();
        for e in extra {
            argv.push("-numa");
            argv.push(e);
        }
        resolve(&CommandLine::parse(argv).unwrap())
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let lb = |i: u16, t: u16, ty: &str, v: &str| {
        format!("hmat-lb,initiator={i},target={t},hierarchy=memory,data-type={ty}{v}")
    };
    let fail = |steps: &[String], msg: &str| {
        let steps: Vec<&str> = steps.iter().map(String::as_str).collect();
        assert_eq!(run(&steps), Err(msg.to_string()), "{steps:?}");
    };
    // QEMU's range check is `>`, so id 2 of 2 nodes fails the next check.
    fail(
        &[lb(2, 0, "access-latency", ",latency=1")],
        "Invalid initiator=2, it isn't an initiator proximity domain",
    );
    fail(
        &[lb(0, 2, "access-latency", ",latency=1")],
        "The target=2 should point to an existing node",
    );
    fail(
        &[lb(3, 0, "access-latency", ",latency=1")],
        "Invalid initiator=3, it should be less than 2",
    );
    fail(
        &[lb(0, 3, "access-latency", ",latency=1")],
        "Invalid target=3, it should be less than 2",
    );
    fail(
        &[lb(1, 0, "access-latency", ",latency=1")],
        "Invalid initiator=1, it isn't an initiator proximity domain",
    );
    fail(
        &[lb(0, 0, "write-latency", ",bandwidth=524288000")],
        "Missing 'latency' option",
    );
    fail(
        &[lb(0, 0, "read-bandwidth", ",latency=5")],
        "Missing 'bandwidth' option",
    );
    fail(
        &[lb(0, 0, "access-bandwidth", ",bandwidth=1048575")],
        "Bandwidth 1048575 between initiator=0 and target=0 should be 1MB aligned",
    );
    let mut ok = vec![lb(0, 0, "access-latency", ",latency=1")];
    assert_eq!(
        run(&ok.iter().map(String::as_str).collect::<Vec<_>>()),
        Ok(())
    );
    let mut dup = ok.clone();
    dup.push(lb(0, 0, "access-latency", ",latency=5"));
    fail(
        &dup,
        "Duplicate configuration of the latency for initiator=0 and target=0",
    );
    ok.push(lb(0, 0, "access-bandwidth", ",bandwidth=68717379584"));
    ok.push(lb(0, 1, "access-latency", ",latency=65534"));
    ok.push(lb(0, 1, "access-bandwidth", ",bandwidth=34358689792"));
    assert_eq!(
        run(&ok.iter().map(String::as_str).collect::<Vec<_>>()),
        Ok(())
    );
    let cache = |n: u32, size: u32, level: u8| {
        format!("hmat-cache,node-id={n},size={size},level={level},associativity=direct,policy=write-back,line=8")
    };
    let with = |extra: &[String]| {
        let mut v = ok.clone();
        v.extend(extra.iter().cloned());
        v
    };
    fail(
        &with(&[cache(2, 10240, 1)]),
        "Invalid node-id=2, it should be less than 2",
    );
    fail(
        &with(&[cache(0, 10240, 4)]),
        "Invalid level=4, it should be larger than 0 and less than or equal to 3",
    );
    fail(
        &with(&[cache(0, 10240, 0)]),
        "Invalid level=0, it should be larger than 0 and less than or equal to 3",
    );
    let l1 = cache(0, 10240, 1);
    assert_eq!(
        run(&with(std::slice::from_ref(&l1))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()),
        Ok(())
    );
    fail(
        &with(&[l1.clone(), l1.clone()]),
        "Duplicate configuration of the side cache for node-id=0 and level=1",
    );
    fail(
        &with(&[l1.clone(), cache(0, 10240, 2)]),
        "Invalid size=10240, the size of level=2 should be larger than the size(10240) of level=1",
    );
    let all = with(&[l1, cache(1, 10240, 1)]);
    assert_eq!(
        run(&all.iter().map(String::as_str).collect::<Vec<_>>()),
        Ok(())
    );
}

/// `/numa/pc/hmat/erange` (spec §8.3).
#[test]
fn hmat_erange_sequence() {
    let base = "-machine hmat=on -machine smp.cpus=2,smp.sockets=2 -m 128M,slots=2,maxmem=1G \
                -object memory-backend-ram,size=64M,id=m0 -object memory-backend-ram,size=64M,id=m1 \
                -numa node,nodeid=0,memdev=m0 -numa node,nodeid=1,memdev=m1,initiator=0 \
                -numa cpu,node-id=0,socket-id=0 -numa cpu,node-id=0,socket-id=1 \
                -numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=1";
    let run = |extra: &str| {
        let mut argv: Vec<&str> = base.split_whitespace().collect();
        argv.extend(extra.split_whitespace());
        resolve(&CommandLine::parse(argv).unwrap())
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        run("-numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=65535"),
        Err("Latency 65535 between initiator=0 and target=1 should not differ from previously entered min or max values on more than 65534".into())
    );
    let zero_bw = "-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-bandwidth,bandwidth=0";
    assert_eq!(run(zero_bw), Ok(()));
    assert_eq!(
        run(&format!("{zero_bw} -numa hmat-cache,node-id=0,size=10240,level=1,associativity=direct,policy=write-back,line=8")),
        Err("The latency and bandwidth information of node-id=0 should be provided before memory side cache attributes".into())
    );
    assert_eq!(
        run(&format!("{zero_bw} -numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth,bandwidth=68718428160")),
        Err("Bandwidth 68718428160 between initiator=0 and target=1 should not differ from previously entered values on more than 65534".into())
    );
}

/// `/numa/pc/hmat/off` (spec §8.2).
#[test]
fn hmat_off() {
    let base = "-machine smp.cpus=2,smp.sockets=2 -m 128M,slots=2,maxmem=1G \
                -object memory-backend-ram,size=64M,id=m0,prealloc=y -object memory-backend-ram,size=64M,id=m1 \
                -numa node,nodeid=0,memdev=m0";
    let run = |extra: &str| {
        let mut argv: Vec<&str> = base.split_whitespace().collect();
        argv.extend(extra.split_whitespace());
        resolve(&CommandLine::parse(argv).unwrap())
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let disabled = "ACPI Heterogeneous Memory Attribute Table (HMAT) is disabled, enable it with -machine hmat=on before using any of hmat specific options";
    assert_eq!(
        run("-numa node,nodeid=1,memdev=m1,initiator=0"),
        Err(disabled.into())
    );
    assert_eq!(run("-numa node,nodeid=1,memdev=m1"), Ok(()));
    assert_eq!(
        run("-numa node,nodeid=1,memdev=m1 -numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=1"),
        Err(disabled.into())
    );
    assert_eq!(
        run("-numa node,nodeid=1,memdev=m1 -numa hmat-cache,node-id=0,size=10240,level=1,associativity=direct,policy=write-back,line=8"),
        Err(disabled.into())
    );
}
