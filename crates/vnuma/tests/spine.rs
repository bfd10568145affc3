//! One configuration, two ways in: built in code as a VMM would, and from
//! QEMU's command line. Both must give the same topology, layout and ACPI
//! bytes.

use vnuma::options::{BackendKind, MemoryBackendOptions};
use vnuma::topology::cpu::CpuTopology;
use vnuma::topology::machine::MachineModel;
use vnuma::topology::{Distances, HostMemory, MemoryZone, NodeConfig, NumaConfig, RamConfig};
use vnuma::Vm;

const GIB: u64 = 1 << 30;

fn same(code: &NumaConfig, argv: &[&str]) {
    let from_code = Vm::from_numa_config(code).expect("the description resolves");
    let from_qemu = Vm::from_args(argv).expect("the command line resolves");
    assert_eq!(from_code.topology(), from_qemu.topology());
    assert_eq!(from_code.layout(), from_qemu.layout());
    assert_eq!(from_code.info_numa(), from_qemu.info_numa());
    let tables = |vm: &Vm| {
        let t = vm.acpi_tables().unwrap().expect("NUMA tables");
        (
            t.srat.to_vec(),
            t.slit.map(|s| s.to_vec()),
            t.hmat.map(|h| h.to_vec()),
        )
    };
    assert_eq!(tables(&from_code), tables(&from_qemu));
    assert_eq!(from_code.dtb().unwrap(), from_qemu.dtb().unwrap());
}

fn cpus(cpus: u32, sockets: u32, cores: u32, threads: u32) -> CpuTopology {
    let mut t = CpuTopology::new(cpus);
    t.sockets = sockets;
    t.cores = cores;
    t.threads = threads;
    t
}

#[test]
fn q35_two_nodes_with_backends_and_distances() {
    let code = NumaConfig::new(MachineModel::lookup(Some("q35")).unwrap(), cpus(8, 2, 4, 1))
        .node(
            NodeConfig::new(0)
                .cpus(0..4)
                .zone(MemoryZone::new(2 * GIB).backend("m0")),
        )
        .node(
            NodeConfig::new(1)
                .cpus(4..8)
                .zone(MemoryZone::new(2 * GIB).backend("m1")),
        )
        .distances(Distances::qemu().set(0, 1, 21))
        .host(
            HostMemory::default()
                .backend(MemoryBackendOptions::new("m0", BackendKind::Ram, 2 * GIB))
                .backend(MemoryBackendOptions::new("m1", BackendKind::Ram, 2 * GIB)),
        );
    same(
        &code,
        &[
            "-M",
            "q35",
            "-m",
            "4G",
            "-smp",
            "8,sockets=2,cores=4",
            "-object",
            "memory-backend-ram,id=m0,size=2G",
            "-object",
            "memory-backend-ram,id=m1,size=2G",
            "-numa",
            "node,nodeid=0,memdev=m0,cpus=0-3",
            "-numa",
            "node,nodeid=1,memdev=m1,cpus=4-7",
            "-numa",
            "dist,src=0,dst=1,val=21",
        ],
    );
}

#[test]
fn pc_hotplug_window_memoryless_node_and_hmat() {
    let mut hmat_argv = vec![
        "-M",
        "pc,hmat=on",
        "-m",
        "2G,slots=2,maxmem=8G",
        "-smp",
        "4,sockets=2",
        "-object",
        "memory-backend-ram,id=m0,size=1G",
        "-object",
        "memory-backend-ram,id=m1,size=1G",
        "-numa",
        "node,nodeid=0,memdev=m0,cpus=0-1",
        "-numa",
        "node,nodeid=1,memdev=m1,cpus=2-3",
        "-numa",
        "node,nodeid=2,initiator=0",
    ];
    hmat_argv.extend([
        "-numa",
        "hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=5",
        "-numa",
        "hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=10",
    ]);
    let from_qemu = Vm::from_args(&hmat_argv).unwrap();
    // HMAT tables are data QEMU's front end accumulates; reuse them.
    let hmat = from_qemu.topology().hmat().clone();
    let mut code = NumaConfig::new(MachineModel::lookup(Some("pc")).unwrap(), cpus(4, 2, 2, 1))
        .node(
            NodeConfig::new(0)
                .cpus(0..2)
                .zone(MemoryZone::new(GIB).backend("m0"))
                .initiator(0),
        )
        .node(
            NodeConfig::new(1)
                .cpus(2..4)
                .zone(MemoryZone::new(GIB).backend("m1"))
                .initiator(1),
        )
        .node(NodeConfig::new(2).initiator(0))
        .hmat(hmat)
        .host(
            HostMemory::default()
                .backend(MemoryBackendOptions::new("m0", BackendKind::Ram, GIB))
                .backend(MemoryBackendOptions::new("m1", BackendKind::Ram, GIB)),
        );
    code.ram = RamConfig {
        size: Some(2 * GIB),
        max_size: Some(8 * GIB),
        slots: 2,
        max_below_4g: None,
    };
    same(&code, &hmat_argv);
    // The layout agrees, and so does the hotplug window QEMU reserves.
    assert!(from_qemu.layout().device_memory().is_some());
}

#[test]
fn acpi_off_means_no_tables_and_no_dimms() {
    let base = [
        "-m",
        "1G,slots=2,maxmem=4G",
        "-object",
        "memory-backend-ram,id=m0,size=1G",
        "-numa",
        "node,memdev=m0",
    ];
    let on = Vm::from_args(base).unwrap();
    assert!(on.acpi_tables().unwrap().is_some());
    for off in [["-machine", "acpi=off"].as_slice(), ["-no-acpi"].as_slice()] {
        let args: Vec<&str> = base.iter().chain(off).copied().collect();
        let vm = Vm::from_args(&args).unwrap();
        assert!(!vm.topology().acpi());
        assert_eq!(vm.acpi_tables().unwrap(), None);
        let mut with_dimm = args.clone();
        with_dimm.extend([
            "-object",
            "memory-backend-ram,id=d0,size=512M",
            "-device",
            "pc-dimm,memdev=d0",
        ]);
        assert_eq!(
            Vm::from_args(&with_dimm).unwrap_err().display_qemu().to_string(),
            "-device pc-dimm,memdev=d0: memory hotplug is not enabled: missing acpi device or acpi disabled"
        );
    }
}

#[test]
fn memory_devices_in_code_and_from_qemu_agree() {
    use vnuma::topology::{MemoryDeviceConfig, MemoryDeviceKind};
    let argv = [
        "-M",
        "pc,nvdimm=on",
        "-m",
        "1G,slots=4,maxmem=8G",
        "-smp",
        "2,sockets=2",
        "-object",
        "memory-backend-ram,id=m0,size=512M",
        "-object",
        "memory-backend-ram,id=m1,size=512M",
        "-numa",
        "node,nodeid=0,memdev=m0",
        "-numa",
        "node,nodeid=1,memdev=m1",
        "-object",
        "memory-backend-ram,id=nv0,size=256M",
        "-device",
        "nvdimm,id=n0,memdev=nv0,node=1",
        "-object",
        "memory-backend-ram,id=d0,size=512M",
        "-device",
        "pc-dimm,id=dimm0,memdev=d0,node=0",
    ];
    let from_qemu = Vm::from_args(argv).unwrap();
    let mut code = NumaConfig::new(MachineModel::lookup(Some("pc")).unwrap(), cpus(2, 2, 1, 1))
        .node(
            NodeConfig::new(0)
                .cpus([0])
                .zone(MemoryZone::new(GIB / 2).backend("m0")),
        )
        .node(
            NodeConfig::new(1)
                .cpus([1])
                .zone(MemoryZone::new(GIB / 2).backend("m1")),
        )
        .hotplug(8 * GIB, 4)
        .device(
            MemoryDeviceConfig::new(MemoryDeviceKind::Nvdimm { label_size: 0 }, "nv0", GIB / 4)
                .id("n0")
                .node(1),
        )
        .device(
            MemoryDeviceConfig::new(MemoryDeviceKind::Dimm, "d0", GIB / 2)
                .id("dimm0")
                .node(0),
        )
        .host(
            HostMemory::default()
                .backend(MemoryBackendOptions::new("m0", BackendKind::Ram, GIB / 2))
                .backend(MemoryBackendOptions::new("m1", BackendKind::Ram, GIB / 2))
                .backend(MemoryBackendOptions::new("nv0", BackendKind::Ram, GIB / 4))
                .backend(MemoryBackendOptions::new("d0", BackendKind::Ram, GIB / 2)),
        );
    code.nvdimm = true;
    let from_code = Vm::from_numa_config(&code).unwrap();
    assert_eq!(
        from_code.query_memory_devices(),
        from_qemu.query_memory_devices()
    );
    assert_eq!(from_code.info_numa(), from_qemu.info_numa());
    assert_eq!(
        from_code.acpi_tables().unwrap(),
        from_qemu.acpi_tables().unwrap()
    );
    assert_eq!(from_qemu.layout().node_plugged(1), GIB / 4);
}

/// Arm's `virt` board described in code, as an aarch64 VMM would (the
/// board is `virt::machine`, its CPU model set on it), and from
/// `qemu-system-aarch64`'s command line: equal topology, layout, device
/// tree (MPIDRs, memory nodes from 1 GiB, distance map) and SRAT with
/// GICC entries.
#[test]
fn virt_two_nodes_in_code_and_from_qemu_aarch64() {
    use vnuma::topology::machine::Version;
    use vnuma::topology::virt::{self, VirtCpu};
    use vnuma::topology::{Profile, Target};
    let mut board = virt::machine(Version::new(7, 2));
    if let Some(v) = board.virt.as_mut() {
        v.cpu = VirtCpu::lookup("cortex-a57").unwrap();
    }
    // `-smp 4` on virt-7.2: cores preferred (one socket of four).
    let code = NumaConfig::new(board, cpus(4, 1, 4, 1))
        .node(
            NodeConfig::new(0)
                .cpus(0..2)
                .zone(MemoryZone::new(GIB).backend("m0")),
        )
        .node(
            NodeConfig::new(1)
                .cpus(2..4)
                .zone(MemoryZone::new(GIB).backend("m1")),
        )
        .distances(Distances::qemu().set(0, 1, 20))
        .host(
            HostMemory::default()
                .backend(MemoryBackendOptions::new("m0", BackendKind::Ram, GIB))
                .backend(MemoryBackendOptions::new("m1", BackendKind::Ram, GIB)),
        );
    let from_code = Vm::from_numa_config(&code).expect("the description resolves");
    let from_qemu = Vm::for_qemu_target(
        Profile::Qemu72,
        Target::Aarch64,
        [
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
        ],
    )
    .expect("the command line resolves");
    assert_eq!(from_code.topology().nodes(), from_qemu.topology().nodes());
    assert_eq!(from_code.topology().cpus(), from_qemu.topology().cpus());
    assert_eq!(from_code.layout(), from_qemu.layout());
    assert_eq!(from_code.info_numa(), from_qemu.info_numa());
    assert_eq!(from_code.dtb().unwrap(), from_qemu.dtb().unwrap());
    let srat = |vm: &Vm| {
        vm.acpi_tables()
            .unwrap()
            .expect("NUMA tables")
            .srat
            .to_vec()
    };
    assert_eq!(srat(&from_code), srat(&from_qemu));
    // GICC affinity entries (type 3), one per CPU, and RAM from 1 GiB.
    let s = srat(&from_code);
    assert_eq!(s[48], 3, "a GICC affinity entry first");
    let first = from_code.layout().ranges().next().unwrap().0;
    assert_eq!(first.start(), GIB);
}
