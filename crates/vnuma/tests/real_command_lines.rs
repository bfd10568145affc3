//! Command lines as management layers write them: QEMU's JSON dialect
//! for `-object`/`-device`, one id namespace across both forms, options
//! that must be skipped. Messages checked with QEMU 7.2.

use vnuma::Vm;

fn err(args: &[&str]) -> String {
    Vm::from_args(args).unwrap_err().display_qemu().to_string()
}

#[test]
fn json_objects_in_qemus_dialect() {
    // Single quotes are QEMU JSON.
    let vm = Vm::from_args([
        "-m",
        "128M",
        "-object",
        "{'qom-type':'memory-backend-ram','id':'m0','size':134217728}",
        "-numa",
        "node,memdev=m0",
    ])
    .unwrap();
    assert_eq!(vm.topology().nodes()[0].memdev.as_deref(), Some("m0"));
    for (text, message) in [
        (
            "{'qom-type':'memory-backend-ram','id':'m0','size':134217728",
            "JSON parse error, premature EOI",
        ),
        (
            "{'qom-type':'memory-backend-ram',id:'m0'}",
            "JSON parse error, invalid keyword 'id'",
        ),
        (
            "{'qom-type':'memory-backend-ram','id':'m0','size':}",
            "JSON parse error, expecting value",
        ),
        (
            "{\"qom-type\":\"memory-backend-ram\",\"id\":\"m0\",\"size\":1,}",
            "JSON parse error, expecting value",
        ),
        ("{'a' 1}", "JSON parse error, missing : in object pair"),
        ("{1:2}", "JSON parse error, key is not a string in object"),
        (
            "{'a':1 'b':2}",
            "JSON parse error, expected separator in dict",
        ),
        ("{'a':@}", "JSON parse error, stray '@'"),
        (
            "{'qom-type':'memory-backend-ram','id':'m0','size':1} x",
            "Expecting at most one JSON value",
        ),
        (
            "{'qom-type':'memory-backend-ram','id':'m0','size':1e3}",
            "Parameter 'size' expects uint64",
        ),
    ] {
        assert_eq!(
            err(&["-m", "128M", "-object", text]),
            format!("-object {text}: {message}")
        );
    }
    // One namespace for ids across the keyval and JSON forms.
    assert_eq!(
        err(&[
            "-m",
            "256M",
            "-object",
            "memory-backend-ram,id=m0,size=128M",
            "-object",
            "{'qom-type':'memory-backend-ram','id':'m0','size':134217728}",
        ]),
        "attempt to add duplicate property 'm0' to object (type 'container')"
    );
}

#[test]
fn json_devices_and_skipped_options() {
    let vm = Vm::from_args([
        "-machine",
        "pc-q35-7.2,usb=off,dump-guest-core=off",
        "-accel",
        "tcg",
        "-m",
        "size=1048576k,slots=2,maxmem=4194304k",
        "-overcommit",
        "mem-lock=off",
        "-no-user-config",
        "-nodefaults",
        "-no-shutdown",
        "-usb",
        "-rtc",
        "base=utc",
        "-boot",
        "strict=on",
        "-msg",
        "timestamp=on",
        "-object",
        "{\"qom-type\":\"memory-backend-ram\",\"id\":\"d0\",\"size\":536870912}",
        "-device",
        "{\"driver\":\"pc-dimm\",\"id\":\"dimm0\",\"memdev\":\"d0\",\"node\":0}",
        "-device",
        "{\"driver\":\"virtio-net-pci\",\"id\":\"net0\",\"bus\":\"pcie.0\",\"addr\":\"0x3\"}",
        "-sandbox",
        "on,obsolete=deny",
    ])
    .unwrap();
    assert_eq!(vm.query_memory_devices().len(), 1);
    assert_eq!(vm.layout().node_plugged(0), 512 << 20);
    assert_eq!(
        err(&["-device", "{'driver':'pc-dimm','memdev':'d0'"]),
        "-device {'driver':'pc-dimm','memdev':'d0': JSON parse error, premature EOI"
    );
}

#[test]
fn host_checks_come_where_qemu_creates_the_backend() {
    use vnuma::backend::HostInfo;
    use vnuma::options::CommandLine;
    // A bad mem-path and a bad -numa dist: QEMU creates the backend (and
    // fails to open its file) before it applies -numa.
    let cl = CommandLine::parse([
        "-m",
        "128M",
        "-object",
        "memory-backend-file,id=m0,size=128M,mem-path=/nonexistent-vnuma-dir/x",
        "-numa",
        "node,memdev=m0",
        "-numa",
        "dist,src=0,dst=5,val=20",
    ])
    .unwrap();
    let config = vnuma::topology::Config::default();
    let host = Vm::with_host_checks(cl.clone(), &config, &HostInfo::probe()).unwrap_err();
    assert_eq!(
        host.to_string(),
        "can't open backing store /nonexistent-vnuma-dir/x for guest RAM: No such file or directory"
    );
    // Without the host, resolution reports the NUMA error.
    let pure = Vm::from_command_line(cl).unwrap_err();
    assert!(pure.to_string().contains("node"), "{pure}");
}
