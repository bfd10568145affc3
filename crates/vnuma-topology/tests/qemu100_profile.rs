//! The QEMU 10.0 profile against QEMU 7.2's: the same command lines, each
//! release's answer (texts from `qemu-system-x86_64` 10.0.2 and 7.2).

use vnuma_options::CommandLine;
use vnuma_topology::{resolve_with, Config, Profile};

fn run(profile: Profile, args: &[&str]) -> Result<Vec<String>, String> {
    let cl = CommandLine::parse_with(args, profile.syntax())
        .map_err(|e| e.display_qemu().to_string())?;
    let t = resolve_with(&cl, &Config::qemu(profile)).map_err(|e| e.display_qemu().to_string())?;
    Ok(t.warnings().iter().map(|w| w.to_string()).collect())
}

#[test]
fn deprecated_machine_types() {
    let args = ["-M", "pc-i440fx-5.0"];
    assert_eq!(
        run(Profile::Qemu100, &args).unwrap(),
        ["Machine type 'pc-i440fx-5.0' is deprecated: machines more than 3 years old are subject to deletion after 6 years"]
    );
    assert_eq!(run(Profile::Qemu72, &args).unwrap(), Vec::<String>::new());
    let old = ["-M", "pc-i440fx-1.4"];
    assert_eq!(
        run(Profile::Qemu72, &old).unwrap(),
        ["Machine type 'pc-i440fx-1.4' is deprecated: old and unattended - use a newer version instead"]
    );
    assert_eq!(
        run(Profile::Qemu100, &old).unwrap_err(),
        "unsupported machine type: \"pc-i440fx-1.4\""
    );
    assert_eq!(
        run(Profile::Qemu72, &["-M", "pc-q35-10.0"]).unwrap_err(),
        "unsupported machine type"
    );
}

#[test]
fn smp_zero_member() {
    let args = ["-smp", "4,sockets=0"];
    assert_eq!(
        run(Profile::Qemu100, &args).unwrap_err(),
        "Invalid CPU topology: CPU topology parameters must be greater than zero"
    );
    assert_eq!(
        run(Profile::Qemu72, &args).unwrap(),
        ["Deprecated CPU topology (considered invalid): CPU topology parameters must be greater than zero"]
    );
}

#[test]
fn smp_messages_and_machine_names() {
    assert_eq!(
        run(Profile::Qemu100, &["-smp", "5,sockets=2,cores=2"]).unwrap_err(),
        "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies (1) * modules (1) * cores (2) * threads (1) != maxcpus (5)"
    );
    assert_eq!(
        run(Profile::Qemu72, &["-smp", "5,sockets=2,cores=2"]).unwrap_err(),
        "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies (1) * cores (2) * threads (1) != maxcpus (5)"
    );
    assert_eq!(
        run(Profile::Qemu100, &["-smp", "4,clusters=2"]).unwrap_err(),
        "clusters > 1 not supported by this machine's CPU topology"
    );
    assert_eq!(
        run(Profile::Qemu72, &["-smp", "4,clusters=2"]).unwrap_err(),
        "clusters not supported by this machine's CPU topology"
    );
    assert_eq!(
        run(Profile::Qemu100, &["-M", "q35", "-smp", "9999"]).unwrap_err(),
        "Invalid SMP CPUs 9999. The max CPUs supported by machine 'pc-q35-10.0' is 4096"
    );
    assert_eq!(
        run(Profile::Qemu72, &["-M", "q35", "-smp", "9999"]).unwrap_err(),
        "Invalid SMP CPUs 9999. The max CPUs supported by machine 'pc-q35-7.2' is 288"
    );
    assert_eq!(
        run(Profile::Qemu100, &["-smp", "300"]).unwrap_err(),
        "Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-i440fx-10.0' is 255"
    );
}

#[test]
fn profile_names() {
    assert_eq!("10.0".parse::<Profile>().unwrap(), Profile::Qemu100);
    assert_eq!("10.0.2".parse::<Profile>().unwrap(), Profile::Qemu100);
    assert_eq!("7.2".parse::<Profile>().unwrap(), Profile::Qemu72);
    assert!("8.2".parse::<Profile>().is_err());
    assert!("10".parse::<Profile>().is_err());
    assert_eq!(Profile::Qemu100.to_string(), "10.0");
    assert_eq!(Profile::default(), Profile::Qemu72);
}

#[test]
fn smp_modules() {
    // QEMU 7.2 has no modules.
    assert_eq!(
        run(Profile::Qemu72, &["-smp", "4,modules=2"]).unwrap_err(),
        "Parameter 'smp.modules' is unexpected"
    );
    let cl = CommandLine::parse(["-smp", "12,sockets=2,modules=3,cores=2"]).unwrap();
    let t = resolve_with(&cl, &Config::qemu(Profile::Qemu100)).unwrap();
    let c = t.cpu_topology();
    assert_eq!((c.sockets, c.modules, c.cores, c.threads), (2, 3, 2, 1));
    // Cores take 1 bit, three modules 2 bits (a hole at module 3), so
    // socket 1 starts at APIC id 8 (as QEMU 10.0's query-cpus-fast).
    let ids: Vec<(u32, Option<u32>, u32, u32)> = t
        .cpus()
        .iter()
        .map(|cpu| {
            (
                cpu.slot.apic_id,
                cpu.slot.module_id,
                cpu.slot.core_id,
                cpu.slot.socket_id,
            )
        })
        .collect();
    assert_eq!(
        ids[..7],
        [
            (0, Some(0), 0, 0),
            (1, Some(0), 1, 0),
            (2, Some(1), 0, 0),
            (3, Some(1), 1, 0),
            (4, Some(2), 0, 0),
            (5, Some(2), 1, 0),
            (8, Some(0), 0, 1),
        ]
    );
    assert_eq!(
        run(Profile::Qemu100, &["-smp", "5,sockets=2,modules=2,cores=1"]).unwrap_err(),
        "Invalid CPU topology: product of the hierarchy must match maxcpus: sockets (2) * dies (1) * modules (2) * cores (1) * threads (1) != maxcpus (5)"
    );
    assert_eq!(
        run(Profile::Qemu100, &["-smp", "4,modules=0"]).unwrap_err(),
        "Invalid CPU topology: CPU topology parameters must be greater than zero"
    );
}

#[test]
fn numa_cpu_members() {
    let base = [
        "-smp",
        "4,sockets=2",
        "-m",
        "512M",
        "-object",
        "memory-backend-ram,id=m0,size=256M",
        "-object",
        "memory-backend-ram,id=m1,size=256M",
        "-numa",
        "node,nodeid=0,memdev=m0",
        "-numa",
        "node,nodeid=1,memdev=m1",
        "-numa",
    ];
    let with = |cpu: &'static str| {
        let mut a = base.to_vec();
        a.push(cpu);
        a
    };
    assert_eq!(
        run(
            Profile::Qemu72,
            &with("cpu,node-id=1,core-id=0,book-id=0,module-id=0")
        )
        .unwrap_err(),
        "-numa cpu,node-id=1,core-id=0,book-id=0,module-id=0: Invalid parameter 'book-id'"
    );
    assert!(run(
        Profile::Qemu100,
        &with("cpu,node-id=1,book-id=1,drawer-id=3")
    )
    .is_ok());
    assert_eq!(
        run(Profile::Qemu100, &with("cpu,node-id=1,module-id=0")).unwrap_err(),
        "-numa cpu,node-id=1,module-id=0: module-id is not supported"
    );
}

/// `acpi-generic-initiator` (QEMU 9.0): its checks in QEMU 10.0's order
/// and words, and the device's place on the root bus (texts from QEMU
/// 10.0.2; its SRAT entries are held byte for byte by vnuma-tables'
/// 10.0 corpus, `*-gi-*` cases).
#[test]
fn generic_initiator_checks() {
    let base = [
        "-nodefaults",
        "-m",
        "1G",
        "-object",
        "memory-backend-ram,id=m0,size=1G",
        "-numa",
        "node,nodeid=0,memdev=m0",
    ];
    let with = |extra: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend_from_slice(extra);
        run(Profile::Qemu100, &a)
    };
    let dev = ["-device", "virtio-balloon-pci,id=d0"];
    let gi = |text: &'static str| [dev[0], dev[1], "-object", text];
    assert!(with(&gi("acpi-generic-initiator,id=gi0,pci-dev=d0,node=0")).is_ok());
    assert_eq!(
        with(&gi("acpi-generic-initiator,id=gi0,pci-dev=d0,node=1")).unwrap_err(),
        "acpi-generic-initiator: Specified node 1 is invalid."
    );
    assert_eq!(
        with(&gi("acpi-generic-initiator,id=gi0,pci-dev=d0,node=128")).unwrap_err(),
        "acpi-generic-initiator: Invalid NUMA node specified"
    );
    assert_eq!(
        with(&gi("acpi-generic-initiator,id=gi0,pci-dev=dx,node=0")).unwrap_err(),
        "acpi-generic-initiator: Specified device must be a PCI device."
    );
    assert_eq!(
        with(&["-object", "acpi-generic-initiator,id=gi0,node=0"]).unwrap_err(),
        "-object acpi-generic-initiator,id=gi0,node=0: Parameter 'pci-dev' is missing"
    );
    assert_eq!(
        with(&gi("acpi-generic-initiator,id=gi0,pci-dev=d0,node=x")).unwrap_err(),
        "-object acpi-generic-initiator,id=gi0,pci-dev=d0,node=x: Parameter 'node' expects a uint64 value"
    );
    // A node declared after the object counts.
    assert!(with(&[
        "-device",
        "virtio-balloon-pci,id=d0",
        "-object",
        "acpi-generic-initiator,id=gi0,pci-dev=d0,node=1",
        "-numa",
        "node,nodeid=1",
    ])
    .is_ok());
    // No SRAT, no check: ACPI off.
    let mut off = vec!["-M", "pc,acpi=off"];
    off.extend_from_slice(&base);
    off.extend_from_slice(&gi("acpi-generic-initiator,id=gi0,pci-dev=d0,node=1"));
    assert!(run(Profile::Qemu100, &off).is_ok());
    // The root bus's slots.
    assert_eq!(
        with(&[
            "-device",
            "pci-testdev,id=d1,addr=5",
            "-device",
            "virtio-balloon-pci,id=d0,addr=5",
            "-object",
            "acpi-generic-initiator,id=gi0,pci-dev=d0,node=0",
        ])
        .unwrap_err(),
        "-device virtio-balloon-pci,id=d0,addr=5: PCI: slot 5 function 0 not available for virtio-balloon-pci, in use by pci-testdev,id=d1"
    );
    assert_eq!(
        with(&[
            "-device",
            "virtio-balloon-pci,id=d0,addr=1",
            "-object",
            "acpi-generic-initiator,id=gi0,pci-dev=d0,node=0",
        ])
        .unwrap_err(),
        "-device virtio-balloon-pci,id=d0,addr=1: PCI: slot 1 function 0 not available for virtio-balloon-pci, in use by PIIX3,id=(null)"
    );
    // QEMU 7.2 has no such object.
    let mut a: Vec<&str> = base.to_vec();
    a.extend_from_slice(&gi("acpi-generic-initiator,id=gi0,pci-dev=d0,node=0"));
    assert_eq!(
        run(Profile::Qemu72, &a).unwrap_err(),
        "-object acpi-generic-initiator,id=gi0,pci-dev=d0,node=0: Parameter 'qom-type' does not accept value 'acpi-generic-initiator'"
    );
}

/// `acpi-generic-port` (QEMU 9.2): typed, its node checks; without a CXL
/// host bridge (vnuma models none) QEMU 10.0 refuses every port.
#[test]
fn generic_port_checks() {
    let base = [
        "-m",
        "1G",
        "-object",
        "memory-backend-ram,id=m0,size=1G",
        "-numa",
        "node,nodeid=0,memdev=m0",
        "-numa",
        "node,nodeid=1",
    ];
    let with = |profile: Profile, gp: &'static str| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend(["-object", gp]);
        run(profile, &a)
    };
    assert_eq!(
        with(
            Profile::Qemu100,
            "acpi-generic-port,id=gp0,pci-bus=pci.0,node=1"
        )
        .unwrap_err(),
        "acpi-generic-port: device must be a CXL host bridge."
    );
    assert_eq!(
        with(
            Profile::Qemu100,
            "acpi-generic-port,id=gp0,pci-bus=pci.0,node=5"
        )
        .unwrap_err(),
        "acpi-generic-port: node 5 is invalid."
    );
    assert_eq!(
        with(
            Profile::Qemu100,
            "acpi-generic-port,id=gp0,pci-bus=pci.0,node=200"
        )
        .unwrap_err(),
        "acpi-generic-initiator: Invalid NUMA node specified"
    );
    assert_eq!(
        with(Profile::Qemu100, "acpi-generic-port,id=gp0,node=1").unwrap_err(),
        "-object acpi-generic-port,id=gp0,node=1: Parameter 'pci-bus' is missing"
    );
    assert_eq!(
        with(Profile::Qemu72, "acpi-generic-port,id=gp0,pci-bus=pci.0,node=1").unwrap_err(),
        "-object acpi-generic-port,id=gp0,pci-bus=pci.0,node=1: Parameter 'qom-type' does not accept value 'acpi-generic-port'"
    );
}
