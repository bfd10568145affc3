//! The rules of spec §1 (option syntax) and every field of each option,
//! accepted and rejected, with QEMU 7.2's exact message. Each row names
//! the rule it checks; accepted rows give the canonical form the value
//! prints as, so they check the parsed value too.

use vnuma_options::*;

enum Want {
    Accept(&'static str),
    Reject(&'static str),
}
use Want::*;

fn numa(text: &str) -> Result<String, String> {
    NumaOptions::parse(text)
        .map(|p| p.value.to_string())
        .map_err(|e| e.to_string())
}

fn object(text: &str) -> Result<String, String> {
    ObjectOptions::parse(text)
        .map(|p| p.value.to_string())
        .map_err(|e| e.to_string())
}

fn check(rows: &[(&str, &str, Want)], f: fn(&str) -> Result<String, String>) {
    let mut bad = Vec::new();
    for (rule, text, want) in rows {
        let got = f(text);
        let ok = match (want, &got) {
            (Accept(w), Ok(g)) => w == g,
            (Reject(w), Err(g)) => w == g,
            _ => false,
        };
        if !ok {
            bad.push(format!("[{rule}] {text}: got {got:?}"));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn numa_syntax_rules() {
    check(
        &[
            ("1.1 items", "node,nodeid=1,memdev=m", Accept("node,nodeid=1,memdev=m")),
            ("1.1 escape", "node,memdev=a,,b", Accept("node,memdev=a,,b")),
            ("1.1 empty value", "node,memdev=", Accept("node,memdev=")),
            ("1.1 trailing comma", "node,nodeid=1,", Accept("node,nodeid=1")),
            ("1.2 implied type", "dist,src=0,dst=1,val=20", Accept("dist,src=0,dst=1,val=20")),
            ("1.2 explicit type", "type=dist,src=0,dst=1,val=20", Accept("dist,src=0,dst=1,val=20")),
            ("1.2 implied only first", "node,dist", Reject("Invalid parameter 'dist'")),
            ("1.2 implied takes escapes", "node,,nodeid=1", Reject("Parameter 'type' does not accept value 'node,nodeid=1'")),
            ("1.3 flag", "node,foo", Reject("Invalid parameter 'foo'")),
            ("1.3 no-flag", "node,nofoo", Reject("Invalid parameter 'foo'")),
            ("1.3 'no' prefix quirk", "node,nodeid", Reject("Invalid parameter 'deid'")),
            ("1.3 flag value on", "node,memdev", Accept("node,memdev=on")),
            ("1.3 flag on number", "node,initiator", Reject("Parameter 'initiator' expects a uint64 value")),
            ("1.4 id", "node,id=a", Reject("Invalid parameter 'id'")),
            ("1.4 bad id", "node,id=1a", Reject("Parameter 'id' expects an identifier")),
            ("1.5 scalar last wins", "node,nodeid=1,nodeid=2", Accept("node,nodeid=2")),
            ("1.5 list accumulates", "node,cpus=0-2,cpus=5,cpus=1", Accept("node,cpus=0-2,cpus=5,cpus=1")),
            ("1.5 type last wins", "node,type=dist", Reject("Parameter 'src' is missing")),
            ("1.6 visit order", "hmat-lb,hierarchy=x,target=y", Reject("Parameter 'initiator' is missing")),
            ("1.6 visit order", "hmat-lb,initiator=0,target=y,hierarchy=x", Reject("Parameter 'target' expects a uint64 value")),
            ("1.6 unknown key after members", "dist,foo=1,src=x", Reject("Parameter 'src' expects a uint64 value")),
            ("1.7 empty", "", Reject("Parameter 'type' is missing")),
            ("1.7 unknown type", "foo", Reject("Parameter 'type' does not accept value 'foo'")),
            ("1.7 other variant's key", "node,src=1", Reject("Invalid parameter 'src'")),
            ("1.7 missing member", "dist,src=0,dst=1", Reject("Parameter 'val' is missing")),
            ("1.8 hex", "node,nodeid=0x10", Accept("node,nodeid=16")),
            ("1.8 octal", "node,nodeid=010", Accept("node,nodeid=8")),
            ("1.8 bad octal", "node,nodeid=08", Reject("Parameter 'nodeid' expects a uint64 value")),
            ("1.8 plus and space", "node,nodeid= +3", Accept("node,nodeid=3")),
            ("1.8 negative", "node,nodeid=-1", Reject("Parameter 'nodeid' expects a uint64 value")),
            ("1.8 empty", "node,nodeid=", Reject("Parameter 'nodeid' expects a uint64 value")),
            ("1.8 garbage", "node,nodeid=1x", Reject("Parameter 'nodeid' expects a uint64 value")),
            ("1.8 overflow", "node,nodeid=18446744073709551616", Reject("Parameter 'nodeid' expects a uint64 value")),
            ("1.8 uint16", "node,nodeid=65536", Reject("Parameter 'nodeid' expects uint16_t")),
            ("1.8 uint8", "dist,src=0,dst=1,val=256", Reject("Parameter 'val' expects uint8_t")),
            ("1.8 uint32", "hmat-cache,node-id=4294967296,size=1,level=1,associativity=none,policy=none,line=8", Reject("Parameter 'node-id' expects uint32_t")),
            ("1.8 list element", "node,cpus=x", Reject("Parameter 'cpus' expects a uint64 value or range")),
            ("1.8 null quirk", "node,cpus=70000", Reject("Parameter 'null' expects uint16_t")),
            ("1.9 signed", "cpu,node-id=0,socket-id=-1", Accept("cpu,node-id=0,socket-id=-1")),
            ("1.9 signed hex", "cpu,node-id=0x1", Accept("cpu,node-id=1")),
            ("1.9 signed bad", "cpu,node-id=x", Reject("Parameter 'node-id' expects an int64 value")),
            ("1.9 signed range", "cpu,node-id=1-2", Reject("Parameter 'node-id' expects an int64 value")),
            ("1.10 range", "node,cpus=0x2-0x3", Accept("node,cpus=2-3")),
            ("1.10 reversed", "node,cpus=3-1", Reject("Parameter 'cpus' expects a uint64 value or range")),
            ("1.10 cap ok", "node,cpus=0-65535", Accept("node,cpus=0-65535")),
            ("1.10 cap", "node,cpus=1-65537", Reject("Parameter 'cpus' expects a uint64 value or range")),
            ("1.10 element width", "node,cpus=65535-65536", Reject("Parameter 'null' expects uint16_t")),
            ("1.10 open", "node,cpus=1-", Reject("Parameter 'cpus' expects a uint64 value or range")),
            ("1.10 three", "node,cpus=1-2-3", Reject("Parameter 'cpus' expects a uint64 value or range")),
            ("1.10 scalar", "node,nodeid=1-2", Reject("Parameter 'nodeid' expects a uint64 value")),
            ("1.11 suffix", "hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-bandwidth,bandwidth=200M", Accept("hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-bandwidth,bandwidth=200M")),
            ("1.11 fraction", "hmat-cache,node-id=0,size=1.5K,level=1,associativity=direct,policy=write-back,line=8", Accept("hmat-cache,node-id=0,size=1536,level=1,associativity=direct,policy=write-back,line=8")),
            ("1.11 fraction needs suffix", "hmat-cache,node-id=0,size=1.5,level=1,associativity=none,policy=none,line=8", Reject("Parameter 'size' expects a size value")),
            ("1.11 no octal", "hmat-cache,node-id=0,size=010,level=1,associativity=none,policy=none,line=8", Accept("hmat-cache,node-id=0,size=10,level=1,associativity=none,policy=none,line=8")),
            ("1.11 negative", "hmat-cache,node-id=0,size=-1,level=1,associativity=none,policy=none,line=8", Reject("Parameter 'size' expects a size value")),
            ("1.11 too big", "hmat-cache,node-id=0,size=16E,level=1,associativity=none,policy=none,line=8", Reject("Parameter 'size' expects a size value")),
            ("1.12 legacy MiB", "node,mem=512", Accept("node,mem=512M")),
            ("1.12 legacy suffix", "node,mem=1G", Accept("node,mem=1G")),
            ("1.12 legacy bytes", "node,mem=1024b", Accept("node,mem=1K")),
            ("1.12 legacy hex", "node,mem=0x10", Accept("node,mem=16M")),
            ("1.12a fraction rejected first", "node,mem=1.5", Reject("Parameter 'mem' expects a size value")),
            ("1.12b overflow keeps bytes", "node,mem=17592186044416", Accept("node,mem=16T")),
            ("2.4 enums", "hmat-lb,initiator=0,target=0,hierarchy=Memory,data-type=access-latency", Reject("Parameter 'hierarchy' does not accept value 'Memory'")),
            ("2.4 enums", "hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=latency", Reject("Parameter 'data-type' does not accept value 'latency'")),
            ("2.5 enums", "hmat-cache,node-id=0,size=1K,level=1,associativity=full,policy=none,line=8", Reject("Parameter 'associativity' does not accept value 'full'")),
            ("2.5 enums", "hmat-cache,node-id=0,size=1K,level=1,associativity=none,policy=wb,line=8", Reject("Parameter 'policy' does not accept value 'wb'")),
            ("2.5 line width", "hmat-cache,node-id=0,size=1K,level=1,associativity=none,policy=none,line=65536", Reject("Parameter 'line' expects uint16_t")),
            ("2.1 initiator", "node,initiator=0x7f", Accept("node,initiator=127")),
            ("2.3 cpu all ids", "cpu,node-id=1,socket-id=2,die-id=3,cluster-id=4,core-id=5,thread-id=6", Accept("cpu,node-id=1,socket-id=2,die-id=3,cluster-id=4,core-id=5,thread-id=6")),
            // QEMU 10.0 has module-id; the syntax reads it for every
            // release and vnuma-topology's 7.2 profile refuses it with
            // this text when the option is applied (its
            // `tests/qemu100_profile.rs` `numa_cpu_members`, and the 7.2
            // golden case `cpu-module-id`).
            ("2.3 module-id is read (7.2 refuses it in resolution)", "cpu,node-id=1,module-id=0", Accept("cpu,node-id=1,module-id=0")),
        ],
        numa,
    );
}

#[test]
fn object_fields() {
    check(
        &[
            ("ram", "memory-backend-ram,id=m,size=1G", Accept("memory-backend-ram,id=m,size=1G")),
            ("implied qom-type", "qom-type=memory-backend-ram,id=m,size=1G", Accept("memory-backend-ram,id=m,size=1G")),
            ("bool spellings", "memory-backend-ram,id=m,size=1M,merge=yes,dump=n,prealloc=true,share=false,reserve=y", Accept("memory-backend-ram,id=m,dump=off,merge=on,prealloc=on,share=off,reserve=on,size=1M")),
            ("bool case", "memory-backend-ram,id=m,size=1M,merge=ON", Reject("Parameter 'merge' expects 'on' or 'off'")),
            ("bool digit", "memory-backend-ram,id=m,size=1M,merge=1", Reject("Parameter 'merge' expects 'on' or 'off'")),
            ("host-nodes", "memory-backend-ram,id=m,size=1M,host-nodes=0-1,host-nodes=4,policy=bind", Accept("memory-backend-ram,id=m,host-nodes=0-1,host-nodes=4,policy=bind,size=1M")),
            ("policy", "memory-backend-ram,id=m,size=1M,policy=local", Reject("Parameter 'policy' does not accept value 'local'")),
            ("threads", "memory-backend-ram,id=m,size=1M,prealloc-threads=4294967296", Reject("Parameter 'prealloc-threads' expects uint32_t")),
            ("missing id", "memory-backend-ram,size=1M", Reject("Parameter 'id' is missing")),
            ("bad id", "memory-backend-ram,id=0m,size=1M", Reject("Parameter 'id' expects an identifier")),
            ("flag id", "memory-backend-ram,id", Reject("Parameter 'size' is missing")),
            ("missing size", "memory-backend-ram,id=m", Reject("Parameter 'size' is missing")),
            ("unknown", "memory-backend-ram,id=m,size=1M,foo=1", Reject("Invalid parameter 'foo'")),
            ("file-only on ram", "memory-backend-ram,id=m,size=1M,mem-path=/x", Reject("Invalid parameter 'mem-path'")),
            ("no offset in 7.2", "memory-backend-file,id=m,size=1M,mem-path=/x,offset=0", Reject("Invalid parameter 'offset'")),
            ("file", "memory-backend-file,id=m,size=2M,mem-path=/dev/hugepages,align=2M,discard-data=on,readonly=off,share=on", Accept("memory-backend-file,id=m,share=on,size=2M,align=2M,discard-data=on,mem-path=/dev/hugepages,readonly=off")),
            ("file mem-path", "memory-backend-file,id=m,size=1M", Reject("Parameter 'mem-path' is missing")),
            ("memfd", "memory-backend-memfd,id=m,size=2M,hugetlb=on,hugetlbsize=2M,seal=off", Accept("memory-backend-memfd,id=m,size=2M,hugetlb=on,hugetlbsize=2M,seal=off")),
            ("unknown type", "memory-backend-foo,id=m,size=1M", Reject("Parameter 'qom-type' does not accept value 'memory-backend-foo'")),
            ("other type kept", "iothread,id=io0", Accept("iothread,id=io0")),
            ("size 0 parses", "memory-backend-ram,id=m,size=0", Accept("memory-backend-ram,id=m,size=0")),
        ],
        object,
    );
}

#[test]
fn backend_property_checks() {
    let check = |text: &str| {
        text.parse::<MemoryBackendOptions>()
            .unwrap()
            .validate()
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        check("memory-backend-ram,id=m,size=0"),
        Err("property 'size' of memory-backend-ram doesn't take value '0'".into())
    );
    assert_eq!(
        check("memory-backend-file,id=m,size=1M,mem-path=/x,prealloc-threads=0"),
        Err("property 'prealloc-threads' of memory-backend-file doesn't take value '0'".into())
    );
    assert_eq!(
        check("memory-backend-ram,id=m,size=1M,host-nodes=100-200"),
        Err("Invalid host-nodes value: 128".into())
    );
    assert_eq!(
        check("memory-backend-ram,id=m,size=1M,host-nodes=300"),
        Err("Invalid host-nodes value: 300".into())
    );
    assert_eq!(
        check("memory-backend-memfd,id=m,size=1M,hugetlbsize=0"),
        Err("Property 'memory-backend-memfd.hugetlbsize' doesn't take value '0'".into())
    );
    assert_eq!(
        check("memory-backend-ram,id=m,size=1M,host-nodes=0-127"),
        Ok(())
    );
}

#[test]
fn command_line_options() {
    let err = |args: &[&str]| {
        CommandLine::parse(args)
            .unwrap_err()
            .display_qemu()
            .to_string()
    };
    assert_eq!(err(&["-frobnicate"]), "-frobnicate: invalid option");
    assert_eq!(err(&["-numa"]), "-numa: requires an argument");
    assert_eq!(
        err(&["-numa", "node,id=a", "-numa", "node,id=a"]),
        "-numa node,id=a: Duplicate ID 'a' for numa"
    );
    assert_eq!(
        err(&["-smp", "4,foo"]),
        "-smp 4,foo: Expected '=' after parameter 'foo'"
    );
    assert_eq!(
        err(&["-machine", "smp=4,smp.cpus=2"]),
        "-machine smp=4,smp.cpus=2: Parameters 'smp.*' used inconsistently"
    );
    assert_eq!(
        err(&["-m", "1G,foo=1"]),
        "-m 1G,foo=1: Invalid parameter 'foo'"
    );
    assert_eq!(
        err(&["-m", "1G,slots=x"]),
        "-m 1G,slots=x: Parameter 'slots' expects a number"
    );
    let e = CommandLine::parse(["-m", "foo"]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Parameter 'size' expects a non-negative number below 2^64"
    );
    assert!(e.hint().unwrap().starts_with("Optional suffix k, M, G"));

    // Ignored options, with and without arguments, and positional args.
    let cl = CommandLine::parse([
        "-nodefaults",
        "-S",
        "-display",
        "none",
        "-accel",
        "tcg",
        "-cpu",
        "max",
        "--enable-kvm",
        "-device",
        "virtio-net,netdev=n0",
        "disk.img",
        "-mem-path",
        "/dev/hugepages",
        "-mem-prealloc",
    ])
    .unwrap();
    assert_eq!(cl.mem_path(), Some("/dev/hugepages"));
    assert!(cl.mem_prealloc());

    // Deferred: machine typing errors have no location, -numa errors do.
    let cl = CommandLine::parse(["-smp", "x", "-numa", "node,nodeid=x"]).unwrap();
    assert_eq!(
        cl.check().unwrap_err().display_qemu().to_string(),
        "Parameter 'smp.cpus' expects integer"
    );
    // Properties outside the common schema are kept; a board's schema
    // decides which exist.
    let cl = CommandLine::parse(["-M", "pc,foo=1"]).unwrap();
    assert_eq!(
        cl.machine().unwrap().ignored,
        [("foo".to_string(), "1".to_string())]
    );
    let schema = vnuma_options::MachineSchema {
        type_name: "pc-i440fx-7.2",
        properties: &["usb"],
    };
    assert_eq!(
        cl.machine_for(&schema).unwrap_err().to_string(),
        "Property 'pc-i440fx-7.2-machine.foo' not found"
    );
    let cl = CommandLine::parse(["-M", "q35", "-machine", "smp.foo=1"]).unwrap();
    assert_eq!(
        cl.machine().unwrap_err().to_string(),
        "Parameter 'smp.foo' is unexpected"
    );

    // -m: suffix-less is MiB; 0 means the default; later -m values win.
    let m = |args: &[&str]| CommandLine::parse(args).unwrap().machine().unwrap().memory;
    assert_eq!(m(&["-m", "512"]).size, Some(512 << 20));
    assert_eq!(m(&["-m", "0"]).size, None);
    assert_eq!(
        m(&["-m", "1G", "-m", "slots=2,maxmem=4G"]),
        MemoryOptions {
            size: Some(1 << 30),
            slots: Some(2),
            max_size: Some(4 << 30)
        }
    );
    assert_eq!(m(&["-m", "1G,slots=-1"]).slots, Some(u64::MAX));
    // -smp and -machine smp.* merge, later wins.
    let smp = CommandLine::parse(["-smp", "4,sockets=2", "-machine", "smp.sockets=4"])
        .unwrap()
        .machine()
        .unwrap()
        .smp;
    assert_eq!((smp.cpus, smp.sockets), (Some(4), Some(4)));
}
