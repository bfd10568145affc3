//! The aarch64 `virt` board through the facade, against answers taken
//! from QEMU 7.2's `qemu-system-aarch64` (dumped device trees, fw_cfg
//! ACPI tables, stderr).

use vnuma::topology::{Profile, Target};
use vnuma::Vm;

fn virt(args: &[&str]) -> Result<Vm, vnuma::Error> {
    Vm::for_qemu_target(Profile::Qemu72, Target::Aarch64, args)
}

const TWO_NODES: &[&str] = &[
    "-M",
    "virt",
    "-cpu",
    "cortex-a57",
    "-m",
    "2G",
    "-smp",
    "4",
    "-object",
    "memory-backend-ram,id=m0,size=1G",
    "-object",
    "memory-backend-ram,id=m1,size=1G",
    "-numa",
    "node,memdev=m0,cpus=0-1",
    "-numa",
    "node,memdev=m1,cpus=2-3",
    "-numa",
    "dist,src=0,dst=1,val=20",
];

#[test]
fn srat_and_slit_are_qemus() {
    let vm = virt(TWO_NODES).unwrap();
    let t = vm.acpi_tables().unwrap().unwrap();
    // QEMU 7.2's SRAT (checksum filled in as its table loader does).
    let mut srat = Vec::new();
    srat.extend_from_slice(b"SRAT\xc8\0\0\0\x03");
    assert_eq!(&t.srat[..9], &srat[..]);
    assert_eq!(&t.srat[10..28], b"BOCHS BXPC    \x01\0\0\0");
    // Four GICC entries (type 3, 18 bytes): node, UID, enabled.
    let gicc = &t.srat[48..48 + 4 * 18];
    for (i, e) in gicc.chunks(18).enumerate() {
        assert_eq!(e[0..2], [3, 18]);
        assert_eq!(
            u32::from_le_bytes(e[2..6].try_into().unwrap()),
            (i / 2) as u32
        );
        assert_eq!(u32::from_le_bytes(e[6..10].try_into().unwrap()), i as u32);
        assert_eq!(u32::from_le_bytes(e[10..14].try_into().unwrap()), 1);
    }
    // Memory from 1 GiB, node after node.
    let mem = &t.srat[48 + 72..];
    assert_eq!(mem[0..2], [1, 40]);
    assert_eq!(
        u64::from_le_bytes(mem[8..16].try_into().unwrap()),
        0x4000_0000
    );
    assert_eq!(
        u64::from_le_bytes(mem[40 + 8..40 + 16].try_into().unwrap()),
        0x8000_0000
    );
    assert_eq!(t.srat.len(), 0xc8);
    assert_eq!(t.srat.iter().fold(0u8, |s, b| s.wrapping_add(*b)), 0);
    let slit = t.slit.unwrap();
    assert_eq!(&slit[44..48], &[10, 20, 20, 10]);
}

#[test]
fn info_numa_and_default_map() {
    // virt-6.1 prefers sockets: 4 sockets, socket % 2.
    let args = [
        "-M",
        "virt-6.1",
        "-smp",
        "4",
        "-m",
        "1G",
        "-object",
        "memory-backend-ram,id=a,size=512M",
        "-object",
        "memory-backend-ram,id=b,size=512M",
        "-numa",
        "node,memdev=a",
        "-numa",
        "node,memdev=b",
    ];
    let vm = virt(&args).unwrap();
    assert_eq!(
        vm.info_numa(),
        "2 nodes\nnode 0 cpus: 0 2\nnode 0 size: 512 MB\nnode 0 plugged: 0 MB\nnode 1 cpus: 1 3\nnode 1 size: 512 MB\nnode 1 plugged: 0 MB\n"
    );
    let mut args = args;
    args[1] = "virt";
    let vm = virt(&args).unwrap();
    // 7.2 prefers cores: one socket, every CPU on node 0.
    assert!(vm.info_numa().contains("node 0 cpus: 0 1 2 3\n"));
}

#[test]
fn partial_map_warns_with_cluster_ids() {
    let vm = virt(&[
        "-M",
        "virt-5.0",
        "-smp",
        "4,sockets=2,clusters=2",
        "-m",
        "1G",
        "-numa",
        "node,cpus=0,mem=512M",
        "-numa",
        "node,mem=512M",
    ])
    .unwrap();
    let w: Vec<String> = vm
        .topology()
        .warnings()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert!(w.contains(&"CPU(s) not present in any NUMA nodes: CPU 1 [socket-id: 0, cluster-id: 1, core-id: 0, thread-id: 0], CPU 2 [socket-id: 1, cluster-id: 0, core-id: 0, thread-id: 0], CPU 3 [socket-id: 1, cluster-id: 1, core-id: 0, thread-id: 0]".to_string()), "{w:?}");
}

#[test]
fn board_errors_are_qemus() {
    let e = |args: &[&str]| virt(args).unwrap_err().to_string();
    assert_eq!(
        e(&["-M", "virt", "-smp", "9"]),
        "Number of SMP CPUs requested (9) exceeds max CPUs supported by machine 'mach-virt' (8)"
    );
    assert_eq!(
        e(&["-M", "virt,gic-version=3", "-smp", "513"]),
        "Invalid SMP CPUs 513. The max CPUs supported by machine 'virt-7.2' is 512"
    );
    assert_eq!(
        e(&["-M", "virt,gic-version=3,highmem=off", "-smp", "124"]),
        "Capacity of the redist regions(123) does not match the number of vcpus(124)"
    );
    assert!(virt(&[
        "-M",
        "virt,gic-version=3,highmem=off",
        "-smp",
        "1,maxcpus=124"
    ])
    .is_ok());
    assert_eq!(
        e(&["-M", "virt", "-smp", "4,dies=2"]),
        "dies not supported by this machine's CPU topology"
    );
    assert_eq!(
        e(&["-M", "virt", "-cpu", "cortex-a53", "-m", "1G,maxmem=1T"]),
        "Addressing limited to 40 bits, but memory exceeds it by 1073741824 bytes"
    );
    assert_eq!(
        e(&["-M", "virt", "-cpu", "cortex-a8", "-smp", "9"]),
        "mach-virt: CPU type cortex-a8-arm-cpu not supported"
    );
    assert_eq!(
        e(&["-M", "virt,gic-version=host"]),
        "gic-version=host requires KVM"
    );
    assert_eq!(
        e(&["-M", "virt,gic-version=5"]),
        "Invalid gic-version value"
    );
    assert_eq!(
        e(&["-M", "virt", "-m", "1G,maxmem=2G,slots=257"]),
        "unsupported number of memory slots: 257"
    );
    // Numa completion comes before the board's checks.
    assert_eq!(
        e(&["-M", "virt", "-smp", "9", "-m", "1G", "-numa", "node"]),
        "total memory for NUMA nodes (0x0) should equal RAM size (0x40000000)"
    );
    let dimm = [
        "-M",
        "virt",
        "-m",
        "1G,maxmem=2G,slots=2",
        "-object",
        "memory-backend-ram,id=d,size=512M",
        "-device",
        "pc-dimm,memdev=d",
    ];
    assert_eq!(
        e(&dimm),
        "memory hotplug is not enabled: missing acpi-ged device"
    );
    let mut with_bios = dimm.to_vec();
    with_bios.extend(["-bios", "QEMU_EFI.fd"]);
    assert!(virt(&with_bios).is_ok());
    // QEMU 10.0's virt is not modelled.
    assert!(Vm::for_qemu_target(Profile::Qemu100, Target::Aarch64, ["-M", "virt"]).is_err());
}

#[cfg(feature = "fdt")]
#[test]
fn dtb_has_qemus_numa_nodes() {
    let vm = virt(&[
        "-M",
        "virt,gic-version=3",
        "-cpu",
        "cortex-a57",
        "-smp",
        "20",
        "-m",
        "1G",
    ])
    .unwrap();
    let dtb = vm.dtb().unwrap();
    assert_eq!(&dtb[..4], &[0xd0, 0x0d, 0xfe, 0xed]);
    let text = String::from_utf8_lossy(&dtb);
    // cpu@16 is named by index; its reg (MPIDR) is 0x100 with GICv3.
    assert!(text.contains("cpu@16") && text.contains("memory@40000000"));
    let t = vm.topology();
    assert_eq!(t.cpus()[16].slot.apic_id, 0x100);
    let vm = virt(&["-M", "virt-2.6,gic-version=3", "-smp", "10"]).unwrap();
    assert_eq!(vm.topology().cpus()[8].slot.apic_id, 0x100);
}
