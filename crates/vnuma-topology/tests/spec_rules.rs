//! One row per numbered rule of spec §2 and §3 (NUMA options and
//! topology completion), each with QEMU 7.2's exact message, or the facts
//! an accepted configuration must have. QEMU-style arguments throughout.

use vnuma_options::CommandLine;
use vnuma_topology::{resolve, resolve_with, Config, MachineModel, Topology};

fn run(args: &str) -> Result<Topology, String> {
    let cl =
        CommandLine::parse(args.split_whitespace()).map_err(|e| e.display_qemu().to_string())?;
    resolve(&cl).map_err(|e| e.display_qemu().to_string())
}

/// Two 64 MiB backends and `-m 128M`.
const MEM2: &str =
    "-m 128M -object memory-backend-ram,id=a,size=64M -object memory-backend-ram,id=b,size=64M";
const HMAT: &str = "-M pc,hmat=on -smp 2,sockets=2 -m 128M -object memory-backend-ram,id=a,size=64M -object memory-backend-ram,id=b,size=64M";

#[test]
fn rejected_with_qemu_messages() {
    let lb = |rest: &str| format!("{HMAT} -numa node,memdev=a,cpus=0-1 -numa node,memdev=b {rest}");
    let cache_base = lb("-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=5 \
                         -numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-bandwidth,bandwidth=1G");
    let cache = |level: u8, size: &str| {
        format!("-numa hmat-cache,node-id=0,size={size},level={level},associativity=direct,policy=write-back,line=8")
    };
    let rows: Vec<(&str, String, &str)> = vec![
        ("2.0.2", "-numa node -numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=1".into(),
         "-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=1: ACPI Heterogeneous Memory Attribute Table (HMAT) is disabled, enable it with -machine hmat=on before using any of hmat specific options"),
        ("2.1.1+2.1.3", format!("{MEM2} -numa node,nodeid=1,memdev=a -numa node,memdev=b"), "-numa node,memdev=b: Duplicate NUMA nodeid: 1"),
        ("2.1.2", "-numa node,nodeid=128".into(), "-numa node,nodeid=128: Max number of NUMA nodes reached: 128"),
        ("2.1.4", format!("{MEM2} -numa node,memdev=a,initiator=0"), "-numa node,memdev=a,initiator=0: ACPI Heterogeneous Memory Attribute Table (HMAT) is disabled, enable it with -machine hmat=on before using any of hmat specific options"),
        ("2.1.4 deviation", format!("{HMAT} -numa node,memdev=a,initiator=200"), "-numa node,memdev=a,initiator=200: The initiator id 200 expects an integer between 0 and 127"),
        ("2.1.5", format!("-smp 4 {MEM2} -numa node,memdev=a,cpus=4"), "-numa node,memdev=a,cpus=4: CPU index (4) should be smaller than maxcpus (4)"),
        ("2.1.5 twice", format!("-smp 2 {MEM2} -numa node,memdev=a,cpus=0 -numa node,memdev=b,cpus=0"), "-numa node,memdev=b,cpus=0: CPU is already assigned to node-id: 0"),
        ("2.1.6", "-M pc-i440fx-5.0 -m 128M -object memory-backend-ram,id=a,size=64M -numa node,memdev=a -numa node,mem=64M".into(),
         "-numa node,mem=64M: numa configuration should use either mem= or memdev=,mixing both is not allowed"),
        ("2.1.7", format!("{MEM2} -numa node,mem=128M"), "-numa node,mem=128M: Parameter -numa node,mem is not supported by this machine type"),
        ("2.1.8", format!("{MEM2} -numa node,memdev=nope"), "-numa node,memdev=nope: memdev=nope is ambiguous"),
        ("2.2.1", format!("{MEM2} -numa node,memdev=a -numa node,memdev=b -numa dist,src=128,dst=200,val=20"), "-numa dist,src=128,dst=200,val=20: Parameter 'src' expects an integer between 0 and 127"),
        ("2.2.1 dst", format!("{MEM2} -numa node,memdev=a -numa node,memdev=b -numa dist,src=0,dst=200,val=20"), "-numa dist,src=0,dst=200,val=20: Parameter 'dst' expects an integer between 0 and 127"),
        ("2.2.2", format!("{MEM2} -numa node,memdev=a -numa dist,src=0,dst=1,val=20 -numa node,memdev=b"), "-numa dist,src=0,dst=1,val=20: Source/Destination NUMA node is missing. Please use '-numa node' option to declare it first."),
        ("2.2.3", format!("{MEM2} -numa node,memdev=a -numa node,memdev=b -numa dist,src=0,dst=1,val=9"), "-numa dist,src=0,dst=1,val=9: NUMA distance (9) is invalid, it shouldn't be less than 10."),
        ("2.2.4", format!("{MEM2} -numa node,memdev=a -numa node,memdev=b -numa dist,src=1,dst=1,val=20"), "-numa dist,src=1,dst=1,val=20: Local distance of node 1 should be 10."),
        ("2.3.1", format!("{MEM2} -numa node,memdev=a -numa cpu,socket-id=0"), "-numa cpu,socket-id=0: Missing mandatory node-id property"),
        ("2.3.2", format!("{MEM2} -numa node,memdev=a -numa cpu,node-id=1"), "-numa cpu,node-id=1: Invalid node-id=1, NUMA node must be defined with -numa node,nodeid=ID before it's used with -numa cpu,node-id=ID"),
        ("2.3.2 deviation", format!("{MEM2} -numa node,memdev=a -numa cpu,node-id=-1"), "-numa cpu,node-id=-1: Invalid node-id=-1, NUMA node must be defined with -numa node,nodeid=ID before it's used with -numa cpu,node-id=ID"),
        ("2.3.3 die", format!("{MEM2} -numa node,memdev=a -numa cpu,node-id=0,die-id=0"), "-numa cpu,node-id=0,die-id=0: die-id is not supported"),
        ("2.3.3 cluster", format!("{MEM2} -numa node,memdev=a -numa cpu,node-id=0,cluster-id=0"), "-numa cpu,node-id=0,cluster-id=0: cluster-id is not supported"),
        ("2.3.3 no match", format!("{MEM2} -numa node,memdev=a -numa cpu,node-id=0,socket-id=5"), "-numa cpu,node-id=0,socket-id=5: no match found"),
        ("2.3.3 assigned", format!("-smp 2,sockets=2 {MEM2} -numa node,memdev=a -numa node,memdev=b -numa cpu,node-id=0 -numa cpu,node-id=1,socket-id=1"), "-numa cpu,node-id=1,socket-id=1: CPU is already assigned to node-id: 0"),
        ("2.3.3 hmat initiator", format!("{HMAT} -numa node,memdev=a,initiator=1 -numa node,memdev=b -numa cpu,node-id=0,socket-id=0"), "-numa cpu,node-id=0,socket-id=0: The initiator of CPU NUMA node 0 should be itself (got 1)"),
        ("2.4.1", lb("-numa hmat-lb,initiator=3,target=0,hierarchy=memory,data-type=access-latency,latency=1"), "-numa hmat-lb,initiator=3,target=0,hierarchy=memory,data-type=access-latency,latency=1: Invalid initiator=3, it should be less than 2"),
        ("2.4.2", lb("-numa hmat-lb,initiator=0,target=3,hierarchy=memory,data-type=access-latency,latency=1"), "-numa hmat-lb,initiator=0,target=3,hierarchy=memory,data-type=access-latency,latency=1: Invalid target=3, it should be less than 2"),
        ("2.4.3", lb("-numa hmat-lb,initiator=1,target=0,hierarchy=memory,data-type=access-latency,latency=1"), "-numa hmat-lb,initiator=1,target=0,hierarchy=memory,data-type=access-latency,latency=1: Invalid initiator=1, it isn't an initiator proximity domain"),
        ("2.4.4", lb("-numa hmat-lb,initiator=0,target=2,hierarchy=memory,data-type=access-latency,latency=1"), "-numa hmat-lb,initiator=0,target=2,hierarchy=memory,data-type=access-latency,latency=1: The target=2 should point to an existing node"),
        ("2.4.6 missing", lb("-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=read-latency"), "-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=read-latency: Missing 'latency' option"),
        ("2.4.6 bandwidth", lb("-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=read-latency,latency=1,bandwidth=1M"), "-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=read-latency,latency=1,bandwidth=1M: Invalid option 'bandwidth' since the data type is latency"),
        ("2.4.6 range", lb("-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=1 -numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=65535"),
         "-numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=65535: Latency 65535 between initiator=0 and target=1 should not differ from previously entered min or max values on more than 65534"),
        ("2.4.7 missing", lb("-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=write-bandwidth"), "-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=write-bandwidth: Missing 'bandwidth' option"),
        ("2.4.7 latency", lb("-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=write-bandwidth,bandwidth=1M,latency=1"), "-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=write-bandwidth,bandwidth=1M,latency=1: Invalid option 'latency' since the data type is bandwidth"),
        ("2.4.7 align", lb("-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=write-bandwidth,bandwidth=1000"), "-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=write-bandwidth,bandwidth=1000: Bandwidth 1000 between initiator=0 and target=0 should be 1MB aligned"),
        ("2.4.7 duplicate", lb("-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=write-bandwidth,bandwidth=1M -numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=write-bandwidth,bandwidth=2M"),
         "-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=write-bandwidth,bandwidth=2M: Duplicate configuration of the bandwidth for initiator=0 and target=0"),
        ("2.4.7 bit span", lb("-numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=write-bandwidth,bandwidth=128G -numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=write-bandwidth,bandwidth=2M"),
         "-numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=write-bandwidth,bandwidth=2M: Bandwidth 2097152 between initiator=0 and target=1 should not differ from previously entered values on more than 65534"),
        ("2.5.1", format!("{cache_base} -numa hmat-cache,node-id=2,size=1K,level=1,associativity=none,policy=none,line=8"), "-numa hmat-cache,node-id=2,size=1K,level=1,associativity=none,policy=none,line=8: Invalid node-id=2, it should be less than 2"),
        ("2.5.2", format!("{cache_base} -numa hmat-cache,node-id=1,size=1K,level=1,associativity=none,policy=none,line=8"), "-numa hmat-cache,node-id=1,size=1K,level=1,associativity=none,policy=none,line=8: The latency and bandwidth information of node-id=1 should be provided before memory side cache attributes"),
        ("2.5.3", format!("{cache_base} {}", cache(4, "1K")), "-numa hmat-cache,node-id=0,size=1K,level=4,associativity=direct,policy=write-back,line=8: Invalid level=4, it should be larger than 0 and less than or equal to 3"),
        ("2.5.4", format!("{cache_base} {} {}", cache(1, "1K"), cache(1, "2K")), "-numa hmat-cache,node-id=0,size=2K,level=1,associativity=direct,policy=write-back,line=8: Duplicate configuration of the side cache for node-id=0 and level=1"),
        ("2.5.5", format!("{cache_base} {}", cache(2, "1K")), "-numa hmat-cache,node-id=0,size=1K,level=2,associativity=direct,policy=write-back,line=8: Cache level=1 shall be defined first"),
        ("2.5.6", format!("{cache_base} {} {}", cache(1, "2K"), cache(2, "2K")), "-numa hmat-cache,node-id=0,size=2K,level=2,associativity=direct,policy=write-back,line=8: Invalid size=2048, the size of level=2 should be larger than the size(2048) of level=1"),
        ("3.2", format!("{MEM2} -numa node,nodeid=3,memdev=a -numa node,nodeid=1,memdev=b"), "numa: Node ID missing: 2"),
        ("3.3", "-m 128M -numa node -numa node".into(), "total memory for NUMA nodes (0x0) should equal RAM size (0x8000000)"),
        ("3.4 exclusive", "-m 128M -object memory-backend-ram,id=a,size=128M -M pc,memory-backend=a -numa node,memdev=a".into(), "'-machine memory-backend' and '-numa memdev' properties are mutually exclusive"),
        ("3.4 twice", "-m 128M -object memory-backend-ram,id=a,size=64M -numa node,memdev=a -numa node,memdev=a".into(), "memory backend a can't be used multiple times."),
        ("3.4 reserved", "-m 128M -object memory-backend-ram,id=pc.ram,size=64M".into(), "object name 'pc.ram' is reserved for the default RAM backend, it can't be used for any other purposes. Change the object's 'id' to something else"),
        ("3.5.1", ("-m 192M -object memory-backend-ram,id=a,size=64M -object memory-backend-ram,id=b,size=64M -object memory-backend-ram,id=c,size=64M -numa node,memdev=a -numa node,memdev=b -numa node,memdev=c -numa dist,src=0,dst=1,val=20").into(),
         "The distance between node 0 and 2 is missing, at least one distance value between each nodes should be provided."),
        ("3.5.2", "-m 192M -object memory-backend-ram,id=a,size=64M -object memory-backend-ram,id=b,size=64M -object memory-backend-ram,id=c,size=64M -numa node,memdev=a -numa node,memdev=b -numa node,memdev=c -numa dist,src=0,dst=1,val=20 -numa dist,src=1,dst=0,val=30 -numa dist,src=0,dst=2,val=20 -numa dist,src=1,dst=2,val=20".into(),
         "At least one asymmetrical pair of distances is given, please provide distances for both directions of all node pairs."),
        ("3.6.4 missing", format!("{HMAT} -numa node,memdev=a,cpus=0-1 -numa node,memdev=b,initiator=5"), "NUMA node 5 is missing, use '-numa node' option to declare it first"),
        ("3.6.4 invalid", ("-M pc,hmat=on -smp 1 -m 192M -object memory-backend-ram,id=a,size=64M -object memory-backend-ram,id=b,size=64M -object memory-backend-ram,id=c,size=64M -numa node,memdev=a,cpus=0 -numa node,memdev=b -numa node,memdev=c,initiator=1").into(),
         "The initiator of NUMA node 2 is invalid"),
    ];
    let mut bad = Vec::new();
    for (rule, args, want) in &rows {
        match run(args) {
            Err(got) if got == *want => {}
            other => bad.push(format!(
                "[{rule}] {args}\n   want {want}\n   got  {other:?}",
                other = other.map(|_| "accepted")
            )),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn accepted_facts() {
    // 2.1.1: the default node id is the count so far; 2.1.9/3.2: declaration order is free.
    let t = run(&format!(
        "{MEM2} -numa node,nodeid=1,memdev=b -numa node,nodeid=0,memdev=a"
    ))
    .unwrap();
    assert_eq!(t.nodes()[0].memdev.as_deref(), Some("a"));
    // 2.1.10: memory-less nodes.
    let t = run("-m 128M -object memory-backend-ram,id=a,size=128M -numa node -numa node,memdev=a -numa node").unwrap();
    assert_eq!(
        t.nodes().iter().map(|n| n.mem >> 20).collect::<Vec<_>>(),
        [0, 128, 0]
    );
    // 2.1.7: mem= on an old machine type, with the deprecation warning.
    let t = run("-M pc-i440fx-5.0 -m 128M -numa node,mem=64 -numa node,mem=64M").unwrap();
    assert_eq!(t.nodes()[0].mem, 64 << 20);
    assert_eq!(t.warnings()[0].display_qemu().to_string(), "-numa node,mem=64: warning: Parameter -numa node,mem is deprecated, use -numa node,memdev instead");
    assert!(!t.uses_memdevs());
    // 2.2.5 + 3.5.3: symmetric completion; a later dist overwrites.
    let t = run(&format!("{MEM2} -numa node,memdev=a -numa node,memdev=b -numa dist,src=0,dst=1,val=30 -numa dist,src=0,dst=1,val=21")).unwrap();
    assert_eq!(t.distances(), Some(&[10, 21, 21, 10][..]));
    // 3.5.2: asymmetric and complete.
    let t = run(&format!("{MEM2} -numa node,memdev=a -numa node,memdev=b -numa dist,src=0,dst=1,val=20 -numa dist,src=1,dst=0,val=30")).unwrap();
    assert_eq!(t.distances(), Some(&[10, 20, 30, 10][..]));
    // 3.5.4: no dist, no table.
    assert_eq!(
        run(&format!("{MEM2} -numa node,memdev=a -numa node,memdev=b"))
            .unwrap()
            .distances(),
        None
    );
    // 2.3: a subset of properties maps every matching slot.
    let t = run(&format!("-smp 4,sockets=2 {MEM2} -numa node,memdev=a -numa node,memdev=b -numa cpu,node-id=1,socket-id=1 -numa cpu,node-id=0,socket-id=0")).unwrap();
    assert_eq!(
        t.cpus().iter().map(|c| c.node.unwrap()).collect::<Vec<_>>(),
        [0, 0, 1, 1]
    );
    // 2.4.6/2.4.7: bases.
    let t = run(&format!("{HMAT} -numa node,memdev=a,cpus=0-1 -numa node,memdev=b \
        -numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=20 \
        -numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=300 \
        -numa hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-bandwidth,bandwidth=4G \
        -numa hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth,bandwidth=512M")).unwrap();
    let bases: Vec<u64> = t.hmat().lb.iter().map(|l| l.base).collect();
    assert_eq!(bases, [10, 512 << 20]);
    // 3.1: automatic node with memory hotplug (from 2.11) or maxmem (from 5.1).
    assert_eq!(run("-m 1G,slots=2,maxmem=2G").unwrap().nodes().len(), 1);
    assert_eq!(
        run("-M pc-i440fx-2.10 -m 1G,slots=2,maxmem=2G")
            .unwrap()
            .nodes()
            .len(),
        0
    );
    assert_eq!(
        run("-M pc-i440fx-5.0 -m 1G,maxmem=2G")
            .unwrap()
            .nodes()
            .len(),
        0
    );
    assert_eq!(
        run("-M pc-i440fx-5.1 -m 1G,maxmem=2G")
            .unwrap()
            .nodes()
            .len(),
        1
    );
    // 3.6.1: default mapping by socket.
    let t = run(&format!(
        "-smp 4,sockets=4 {MEM2} -numa node,memdev=a -numa node,memdev=b"
    ))
    .unwrap();
    assert_eq!(
        t.cpus().iter().map(|c| c.node.unwrap()).collect::<Vec<_>>(),
        [0, 1, 0, 1]
    );
    // 3.6.7: -smp 8 alone is one socket from 6.2, eight sockets before.
    let t = run(&format!(
        "-smp 8 {MEM2} -numa node,memdev=a -numa node,memdev=b"
    ))
    .unwrap();
    assert!(t.cpus().iter().all(|c| c.node == Some(0)));
    let t = run(&format!(
        "-M pc-i440fx-6.1 -smp 8 {MEM2} -numa node,memdev=a -numa node,memdev=b"
    ))
    .unwrap();
    assert_eq!(
        t.cpus().iter().map(|c| c.node.unwrap()).collect::<Vec<_>>(),
        [0, 1, 0, 1, 0, 1, 0, 1]
    );
}

#[test]
fn generic_machine_model() {
    let mut board = MachineModel::generic("my-board", 16);
    board.default_cpu_node = vnuma_topology::machine::DefaultCpuNode::IndexModNodes;
    let cl = CommandLine::parse(
        "-smp 4 -m 2G -object memory-backend-ram,id=a,size=1G -object memory-backend-ram,id=b,size=1G -numa node,memdev=a -numa node,memdev=b"
            .split_whitespace(),
    )
    .unwrap();
    let t = resolve_with(&cl, &Config::with_machine(board.clone())).unwrap();
    assert_eq!(
        t.cpus().iter().map(|c| c.node.unwrap()).collect::<Vec<_>>(),
        [0, 1, 0, 1]
    );
    assert_eq!(t.cpus()[3].slot.apic_id, 3, "linear arch ids");
    let layout = vnuma_topology::layout::MemoryLayout::new(&t);
    assert_eq!(layout.node_of(0), Some(0));
    assert_eq!(layout.node_of(1 << 30), Some(1), "no holes");
    let cl = CommandLine::parse(["-smp", "17"]).unwrap();
    assert_eq!(
        resolve_with(&cl, &Config::with_machine(board))
            .unwrap_err()
            .to_string(),
        "Invalid SMP CPUs 17. The max CPUs supported by machine 'my-board' is 16"
    );
}

/// Found by `cargo xtask qemu-diff`: cases the corpus tests did not reach.
#[test]
fn found_by_the_differential_runner() {
    // An empty memdev name resolves to the only backend (QOM partial path).
    let t = run("-m 512M -object memory-backend-ram,id=m0,size=512M -numa node,memdev=").unwrap();
    assert_eq!(t.nodes()[0].memdev.as_deref(), Some("m0"));
    assert_eq!(
        run(&format!("{MEM2} -numa node,memdev=")).unwrap_err(),
        "-numa node,memdev=: memdev= is ambiguous"
    );
    // Backends are completed (policy against host nodes) before -numa.
    assert_eq!(
        run("-m 8M -object memory-backend-ram,id=m0,size=8M,host-nodes=0 -numa node,nodeid=x").unwrap_err(),
        "host-nodes must be empty for policy default, or you should explicitly specify a policy other than default"
    );
    assert_eq!(
        run("-m 8M -object memory-backend-ram,id=m0,size=8M,policy=bind").unwrap_err(),
        "host-nodes must be set for policy bind"
    );
    assert_eq!(
        run("-m 8M -object memory-backend-ram,id=m0,size=8M,prealloc=on,reserve=off").unwrap_err(),
        "'prealloc=on' and 'reserve=off' are incompatible"
    );
    // q35 warns when max-ram-below-4g is not GiB-aligned even for RAM
    // below it (QEMU's unsigned subtraction wraps).
    let t = run("-M pc-q35-5.0 -smp 3 -m 128 -machine max-ram-below-4g=1536M").unwrap();
    assert_eq!(
        t.warnings()[0].to_string(),
        "There is possibly poor performance as the ram size  (0x8000000) is more then twice the size of max-ram-below-4g (1610612736) and max-ram-below-4g is not a multiple of 1G."
    );
    assert!(run("-M q35 -m 2G -machine max-ram-below-4g=1536M")
        .unwrap()
        .warnings()
        .is_empty());
    assert_eq!(
        run("-M q35 -m 4G -machine max-ram-below-4g=1536M")
            .unwrap()
            .warnings()
            .len(),
        1
    );
}

#[test]
fn machine_properties_are_the_boards() {
    // QEMU's x86 machines have `usb`, `accel`, …; unknown ones are
    // QEMU's error naming the machine type.
    assert!(run("-M pc,usb=off,accel=kvm").is_ok());
    assert_eq!(
        run("-M pc,foo=1").unwrap_err(),
        "Property 'pc-i440fx-7.2-machine.foo' not found"
    );
    assert_eq!(
        run("-M q35,foo=1").unwrap_err(),
        "Property 'pc-q35-7.2-machine.foo' not found"
    );
    // A VMM's own board has none of x86's.
    let cl = vnuma_options::CommandLine::parse(["-M", "accel=kvm"]).unwrap();
    let err = vnuma_topology::resolve_with(
        &cl,
        &vnuma_topology::Config::with_machine(vnuma_topology::MachineModel::generic("my-board", 4)),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Property 'my-board-machine.accel' not found"
    );
}

#[test]
fn legacy_cpu_hotplug_limits_apic_ids_on_old_machine_types() {
    // Checked with QEMU 7.2 under KVM (TCG refuses APIC ids of 255 and
    // more earlier, which vnuma does not model).
    let big = "-smp 195,sockets=3,cores=65";
    for m in ["pc-i440fx-2.6", "pc-q35-2.4"] {
        assert_eq!(
            run(&format!("-M {m} {big}")).unwrap_err(),
            "max_cpus is too large. APIC ID of last CPU is 320"
        );
        // No ACPI tables, no legacy CPU hotplug description.
        assert!(run(&format!("-M {m},acpi=off {big}")).is_ok());
    }
    assert!(run(&format!("-M pc-i440fx-2.7 {big}")).is_ok());
    // APIC ids up to 255 are fine.
    assert!(run("-M pc-i440fx-2.6 -smp 200").is_ok());
}

#[test]
fn address_space_limit_of_the_default_cpu_model() {
    // Checked with QEMU 7.2: the end of the 64-bit PCI hole (2 GiB on
    // i440FX, 32 GiB on q35) after the device-memory window, RAM above
    // 4 GiB moved to 1 TiB from 7.1 when it would reach AMD's
    // HyperTransport range.
    for (args, used) in [
        ("-M pc -m 1G,slots=16,maxmem=1T", "0x2043fffffff"),
        ("-M q35 -m 1G,slots=16,maxmem=1T", "0x20bbfffffff"),
        ("-M pc-i440fx-7.0 -m 1G,slots=16,maxmem=1T", "0x1053fffffff"),
        ("-M pc -m 1G,slots=4,maxmem=1005G", "0x1fc7fffffff"),
        ("-M pc -m 1G,slots=300,maxmem=1200G", "0x2773fffffff"),
    ] {
        assert_eq!(
            run(args).unwrap_err(),
            format!("Address space limit 0xffffffffff < {used} phys-bits too low (40)"),
            "{args}"
        );
    }
    for args in [
        "-M pc -m 1G,slots=4,maxmem=1000G",
        "-M q35 -m 1G,slots=4,maxmem=970G",
        // Up to 2.4 the PCI hole starts at the window's start.
        "-M pc-i440fx-2.4 -m 1G,slots=4,maxmem=1030G",
    ] {
        assert!(run(args).is_ok(), "{args}");
    }
}

#[test]
fn cpu_model_changes_the_address_space() {
    // Checked with QEMU 7.2 (TCG): Intel models keep RAM above 4 GiB where
    // it is, AMD ones move it to 1 TiB; phys-bits= widens the limit.
    let big = "-M pc -m 1G,slots=16,maxmem=1T";
    assert_eq!(
        run(&format!("{big} -cpu Skylake-Server")).unwrap_err(),
        "Address space limit 0xffffffffff < 0x1053fffffff phys-bits too low (40)"
    );
    assert_eq!(
        run(&format!("{big} -cpu EPYC")).unwrap_err(),
        "Address space limit 0xffffffffff < 0x2043fffffff phys-bits too low (40)"
    );
    assert!(run(&format!("{big} -cpu qemu64,phys-bits=48")).is_ok());
    assert!(run("-M pc -m 1G,slots=4,maxmem=1005G -cpu Skylake-Server,phys-bits=42").is_ok());
}

/// Distances given while nodes are still being declared (the matrix
/// widens as higher node ids appear) and given after every node answer
/// the same, both ways round, with the completion rules applied.
#[test]
fn distances_given_between_node_declarations() {
    let mem = "-m 256M -object memory-backend-ram,id=a,size=64M -object memory-backend-ram,id=b,size=64M \
               -object memory-backend-ram,id=c,size=64M -object memory-backend-ram,id=d,size=64M";
    let interleaved = format!(
        "{mem} -numa node,nodeid=0,memdev=a -numa node,nodeid=1,memdev=b -numa dist,src=0,dst=1,val=21 \
         -numa node,nodeid=2,memdev=c -numa dist,src=2,dst=0,val=31 -numa dist,src=1,dst=2,val=41 \
         -numa node,nodeid=3,memdev=d -numa dist,src=3,dst=0,val=51 -numa dist,src=3,dst=1,val=61 \
         -numa dist,src=2,dst=3,val=71"
    );
    let first = format!(
        "{mem} -numa node,nodeid=0,memdev=a -numa node,nodeid=1,memdev=b -numa node,nodeid=2,memdev=c \
         -numa node,nodeid=3,memdev=d -numa dist,src=0,dst=1,val=21 -numa dist,src=2,dst=0,val=31 \
         -numa dist,src=1,dst=2,val=41 -numa dist,src=3,dst=0,val=51 -numa dist,src=3,dst=1,val=61 \
         -numa dist,src=2,dst=3,val=71"
    );
    let a = run(&interleaved).expect("interleaved resolves");
    let b = run(&first).expect("nodes first resolves");
    let want = [
        [10, 21, 31, 51],
        [21, 10, 41, 61],
        [31, 41, 10, 71],
        [51, 61, 71, 10],
    ];
    for (t, name) in [(&a, "interleaved"), (&b, "nodes first")] {
        for (i, row) in want.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                assert_eq!(
                    t.distance(i as u32, j as u32),
                    Some(v),
                    "{name}: {i} -> {j}"
                );
            }
        }
    }
}
