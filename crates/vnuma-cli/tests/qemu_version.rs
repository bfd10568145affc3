//! `--qemu-version 7.2|10.0`: each release's answer for the same command
//! line (texts from `qemu-system-x86_64` 7.2 and 10.0.2).

use std::process::Command;

use serde_json::Value;

fn vnuma(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vnuma"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn with(version: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut all: Vec<&str> = Vec::new();
    if let Some(v) = version {
        all.extend(["--qemu-version", v]);
    }
    all.extend_from_slice(args);
    vnuma(&all)
}

#[test]
fn deprecated_machine_type() {
    let args = ["-M", "pc-i440fx-5.0"];
    let want = "vnuma: warning: Machine type 'pc-i440fx-5.0' is deprecated: machines more than 3 years old are subject to deletion after 6 years\n";
    let (code, _, err) = with(Some("10.0"), &args);
    assert_eq!((code, err.as_str()), (0, want));
    // 10.0 is the default.
    let (code, _, err) = with(None, &args);
    assert_eq!((code, err.as_str()), (0, want));
    let (code, _, err) = with(Some("7.2"), &args);
    assert_eq!((code, err.as_str()), (0, ""));
}

#[test]
fn smp_zero_member() {
    let args = ["-smp", "4,sockets=0"];
    let (code, _, err) = with(Some("10.0"), &args);
    assert_eq!(code, 1);
    assert!(
        err.contains("Invalid CPU topology: CPU topology parameters must be greater than zero"),
        "{err}"
    );
    let (code, _, err) = with(Some("7.2"), &args);
    assert_eq!(code, 0);
    assert_eq!(
        err,
        "vnuma: warning: Deprecated CPU topology (considered invalid): CPU topology parameters must be greater than zero\n"
    );
}

#[test]
fn smp_messages_name_modules_and_the_machine() {
    let (code, _, err) = with(Some("10.0"), &["-smp", "5,sockets=2,cores=2"]);
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "sockets (2) * dies (1) * modules (1) * cores (2) * threads (1) != maxcpus (5)"
        ),
        "{err}"
    );
    let (_, _, err) = with(Some("7.2"), &["-smp", "5,sockets=2,cores=2"]);
    assert!(
        err.contains("sockets (2) * dies (1) * cores (2) * threads (1) != maxcpus (5)"),
        "{err}"
    );
    let (_, _, err) = with(Some("10.0"), &["-smp", "4,clusters=2"]);
    assert!(
        err.contains("clusters > 1 not supported by this machine's CPU topology"),
        "{err}"
    );
    let (_, _, err) = with(Some("10.0"), &["-M", "q35", "-smp", "300"]);
    assert_eq!(err, "", "q35 of 10.0 takes 4096 CPUs");
    let (_, _, err) = with(Some("7.2"), &["-M", "q35", "-smp", "300"]);
    assert!(
        err.contains("The max CPUs supported by machine 'pc-q35-7.2' is 288"),
        "{err}"
    );
}

#[test]
fn json_says_which_version_answered() {
    for (version, machine) in [("7.2", "pc-i440fx-7.2"), ("10.0", "pc-i440fx-10.0")] {
        let (code, out, _) = with(Some(version), &["--json", "-M", "pc"]);
        assert_eq!(code, 0);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["qemu_version"], version);
        assert_eq!(v["machine"]["type"], machine);
        let (code, out, _) = with(Some(version), &["--json", "-smp", "4,sockets=3"]);
        assert_eq!(code, 1);
        let v: Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["accepted"], false);
        assert_eq!(v["qemu_version"], version);
    }
}

#[test]
fn bad_version_is_a_usage_error() {
    for bad in [&["--qemu-version", "8.2"][..], &["--qemu-version"]] {
        let (code, _, err) = vnuma(bad);
        assert_eq!(code, 2);
        assert_eq!(
            err,
            "vnuma: --qemu-version needs 7.2 or 10.0 (see vnuma --help)\n"
        );
    }
    let (code, out, _) = vnuma(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("--qemu-version 7.2|10.0"), "{out}");
    assert!(out.contains("(default: 10.0)"), "{out}");
}

/// QEMU 10.0's option syntax: a hexadecimal size with a suffix is refused
/// (7.2 warned), `-m 0x…` gets the implied `M` and fails, `-numa
/// node,mem=` is checked for overflow in MiB.
#[test]
fn size_syntax() {
    let args = [
        "-m",
        "512M",
        "-object",
        "memory-backend-ram,id=m0,size=0x200M",
        "-numa",
        "node,memdev=m0",
    ];
    let (code, _, err) = with(Some("10.0"), &args);
    assert_eq!(code, 1);
    assert!(
        err.starts_with("vnuma: -object memory-backend-ram,id=m0,size=0x200M: Parameter 'size' expects a size value\n"),
        "{err}"
    );
    let (code, out, err) = with(Some("7.2"), &args);
    assert_eq!(code, 0);
    assert_eq!(
        err,
        "vnuma: -object memory-backend-ram,id=m0,size=0x200M: warning: Using a multiplier suffix on hex numbers is deprecated: 0x200M\n"
    );
    assert!(out.contains("node 0 size: 512 MB"), "{out}");

    let (code, _, err) = with(Some("10.0"), &["-m", "0x200"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "vnuma: Parameter 'memory.size' expects size\n")
    );
    let (code, _, err) = with(Some("7.2"), &["-m", "0x200"]);
    assert_eq!(code, 0, "{err}");

    let args = [
        "-M",
        "pc-i440fx-5.0",
        "-m",
        "512M",
        "-numa",
        "node,mem=17592186044416",
    ];
    let (code, _, err) = with(Some("10.0"), &args);
    assert_eq!(code, 1);
    assert!(
        err.contains("vnuma: -numa node,mem=17592186044416: could not parse memory size '17592186044416': Numerical result out of range\n"),
        "{err}"
    );
    let (code, _, err) = with(Some("7.2"), &args);
    assert_eq!(code, 1);
    assert!(
        err.contains(
            "total memory for NUMA nodes (0x100000000000) should equal RAM size (0x20000000)"
        ),
        "{err}"
    );
}

/// `-smp books=`/`drawers=` exist from QEMU 8.2; x86 takes only 1.
#[test]
fn smp_books_and_drawers() {
    let (code, _, err) = with(Some("10.0"), &["-smp", "4,books=2"]);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "vnuma: books > 1 not supported by this machine's CPU topology\n"
        )
    );
    let (code, _, err) = with(Some("10.0"), &["-smp", "4,drawers=2"]);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "vnuma: drawers > 1 not supported by this machine's CPU topology\n"
        )
    );
    let (code, _, err) = with(Some("10.0"), &["-smp", "4,books=1,drawers=1"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let (code, _, err) = with(Some("7.2"), &["-smp", "4,books=1"]);
    assert_eq!(
        (code, err.as_str()),
        (1, "vnuma: Parameter 'smp.books' is unexpected\n")
    );
}

/// `memory-backend-shm` (QEMU 9.1) and `memory-backend-file` `rom`
/// (8.2) exist only in the 10.0 profile; shm memory is shared.
#[test]
fn new_backend_type_and_properties() {
    let args = [
        "-m",
        "16M",
        "-object",
        "memory-backend-shm,id=m0,size=16M",
        "-numa",
        "node,memdev=m0",
        "--json",
    ];
    let (code, out, _) = with(Some("10.0"), &args);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["memdevs"][0]["share"], Value::Bool(true), "{out}");
    let (code, out, _) = with(Some("7.2"), &args);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v["error"],
        "Parameter 'qom-type' does not accept value 'memory-backend-shm'"
    );
    let args = [
        "-m",
        "16M",
        "-object",
        "memory-backend-shm,id=m0,size=16M,share=off",
        "-numa",
        "node,memdev=m0",
    ];
    let (code, _, err) = with(Some("10.0"), &args);
    assert_eq!(
        (code, err.as_str()),
        (1, "vnuma: can't create shm backend with `share=off`\n")
    );
    let args = [
        "-m",
        "16M",
        "-object",
        "memory-backend-file,id=m0,size=16M,mem-path=/dev/shm,rom=on",
        "-numa",
        "node,memdev=m0",
    ];
    let (code, _, err) = with(Some("10.0"), &args);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "vnuma: property 'rom' = 'on' is not supported with 'readonly' = 'off'\n"
        )
    );
    let (code, _, err) = with(Some("7.2"), &args);
    assert_eq!(code, 1);
    assert!(err.contains("Invalid parameter 'rom'"), "{err}");
}

/// `acpi-generic-initiator` (QEMU 9.0): a Generic Initiator Affinity
/// structure for the PCI device in the 10.0 profile's SRAT; an unknown
/// object type for 7.2.
#[test]
fn generic_initiator() {
    let dir = std::env::temp_dir().join(format!("vnuma-cli-gi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let dir_s = dir.display().to_string();
    let args = [
        "-nodefaults",
        "-m",
        "128M",
        "-object",
        "memory-backend-ram,id=m0,size=128M",
        "-numa",
        "node,nodeid=0,memdev=m0",
        "-numa",
        "node,nodeid=1",
        "-device",
        "virtio-balloon-pci,id=d0",
        "-object",
        "acpi-generic-initiator,id=gi0,pci-dev=d0,node=1",
        "--acpi-dir",
        &dir_s,
    ];
    let (code, _, err) = with(Some("10.0"), &args);
    assert_eq!(code, 0, "{err}");
    let srat = std::fs::read(dir.join("SRAT.dat")).unwrap();
    // The last structure: type 5, PCI handle, node 1, 00:02.0 (pc's first
    // free slot with -nodefaults), enabled; revision 1 as QEMU writes it.
    assert_eq!(srat[8], 1);
    let gi = &srat[srat.len() - 32..];
    assert_eq!(&gi[..4], &[5, 32, 0, 1]);
    assert_eq!(&gi[4..8], &1u32.to_le_bytes());
    assert_eq!(&gi[8..12], &[0, 0, 0, 0x10]);
    assert_eq!(&gi[24..28], &1u32.to_le_bytes());
    let (code, _, err) = with(Some("7.2"), &args);
    assert_eq!(code, 1);
    assert!(
        err.contains("Parameter 'qom-type' does not accept value 'acpi-generic-initiator'"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// QEMU 10.0 dropped `-no-acpi` and reworded the memory-device check
/// without `maxmem`.
#[test]
fn devices_messages() {
    let args = ["-no-acpi", "-m", "1G"];
    let (code, _, err) = with(Some("10.0"), &args);
    assert_eq!(
        (code, err.as_str()),
        (1, "vnuma: -no-acpi: invalid option\n")
    );
    let (code, _, err) = with(Some("7.2"), &args);
    assert_eq!((code, err.as_str()), (0, ""));
    let args = [
        "-m",
        "1G",
        "-object",
        "memory-backend-ram,id=v0,size=1G",
        "-device",
        "virtio-mem-pci,id=vm0,memdev=v0",
    ];
    let (code, _, err) = with(Some("10.0"), &args);
    assert_eq!(code, 1);
    assert!(err.starts_with("vnuma: -device virtio-mem-pci,id=vm0,memdev=v0: the configuration is not prepared for memory devices (e.g., for memory hotplug), consider specifying the maxmem option\n"), "{err}");
    let (code, _, err) = with(Some("7.2"), &args);
    assert_eq!(code, 1);
    assert!(err.starts_with("vnuma: -device virtio-mem-pci,id=vm0,memdev=v0: memory devices (e.g. for memory hotplug) are not enabled, please specify the maxmem option\n"), "{err}");
}

/// `acpi-generic-port` (QEMU 9.2): without a CXL host bridge QEMU 10.0
/// refuses the port; 7.2 has no such object.
#[test]
fn generic_port() {
    let args = [
        "-m",
        "1G",
        "-object",
        "memory-backend-ram,id=m0,size=1G",
        "-numa",
        "node,nodeid=0,memdev=m0",
        "-object",
        "acpi-generic-port,id=gp0,pci-bus=pci.0,node=0",
    ];
    let (code, _, err) = with(Some("10.0"), &args);
    assert_eq!(
        (code, err.as_str()),
        (
            1,
            "vnuma: acpi-generic-port: device must be a CXL host bridge.\n"
        )
    );
    let (code, _, err) = with(Some("7.2"), &args);
    assert_eq!(code, 1);
    assert!(
        err.contains("Parameter 'qom-type' does not accept value 'acpi-generic-port'"),
        "{err}"
    );
    // With a CXL host bridge, 10.0 puts it in the node (an SRAT Generic
    // Port entry, `_UID` = the bridge's bus number); without `cxl=on`
    // the bridge itself is refused first.
    let cxl = [
        "--json",
        "-nodefaults",
        "-M",
        "q35,cxl=on",
        "-m",
        "1G",
        "-object",
        "memory-backend-ram,id=m0,size=1G",
        "-numa",
        "node,nodeid=0,memdev=m0",
        "-numa",
        "node,nodeid=1",
        "-device",
        "pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1",
        "-object",
        "acpi-generic-port,id=gp0,pci-bus=cxl.1,node=1",
    ];
    let (code, out, err) = with(Some("10.0"), &cxl);
    assert_eq!((code, err.as_str()), (0, ""));
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        report["nodes"][1]["generic_ports"],
        serde_json::json!(["acpi:ACPI0016:12"])
    );
    assert!(report["nodes"][0].get("generic_ports").is_none());
    let off: Vec<&str> = cxl
        .iter()
        .map(|a| if *a == "q35,cxl=on" { "q35" } else { a })
        .collect();
    let (code, out, _) = with(Some("10.0"), &off);
    assert_eq!(code, 1);
    assert!(
        out.contains("CXL host bridges present, but cxl=off"),
        "{out}"
    );
}
