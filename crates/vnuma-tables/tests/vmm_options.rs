//! SRAT and device-tree options for VMMs that are not QEMU: Generic
//! Initiator entries (SRAT type 5), the SRAT revision, x2APIC-only
//! processor entries, the arm64 MPIDR `reg` scheme and property writers
//! inside the VMM's own nodes. Byte-level checks, then `iasl -d` and
//! `dtc` (each skips, saying so, without its tool).

use std::path::PathBuf;
use std::process::Command;

use vnuma_tables::info::{verify, NumaInfo};
use vnuma_tables::srat::{
    DeviceHandle, GenericInitiatorAffinity, Srat, SratEntry, GI_ENABLED, REVISION,
    REVISION_ACPI_6_3,
};
use vnuma_tables::{build, Error, ProcessorEntries, TableOptions};
use vnuma_topology::cpu::CpuTopology;
use vnuma_topology::layout::MemoryLayout;
use vnuma_topology::machine::MachineModel;
use vnuma_topology::{Distances, MemoryZone, NodeConfig, NumaConfig, Topology};

const MIB: u64 = 1 << 20;

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool).arg(arg).output().is_ok()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vnuma-vmm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Two nodes with CPUs and memory, a GPU node (PCI) and an accelerator
/// node (ACPI device), neither with CPUs nor memory.
fn with_devices(gpu: &str) -> Topology {
    NumaConfig::new(MachineModel::generic("vmm", 8), CpuTopology::new(4))
        .node(
            NodeConfig::new(0)
                .cpus(0..2)
                .zone(MemoryZone::new(64 * MIB)),
        )
        .node(
            NodeConfig::new(1)
                .cpus(2..4)
                .zone(MemoryZone::new(64 * MIB)),
        )
        .node(NodeConfig::new(2).device(gpu))
        .node(NodeConfig::new(3).device("acpi:ACPI0016:7"))
        .distances(Distances::fill(20))
        .resolve()
        .unwrap()
}

/// `iasl -d` of one table: the .dsl text, asserting a clean decoding.
fn iasl(name: &str, bytes: &[u8]) -> Option<String> {
    if !have("iasl", "-v") {
        eprintln!("SKIPPED: iasl not found (apt-get install acpica-tools)");
        return None;
    }
    let dir = scratch(name);
    let path = dir.join(format!("{name}.dat"));
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("iasl")
        .arg("-d")
        .arg(&path)
        .current_dir(&dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{name}: iasl failed:\n{text}");
    assert!(!text.contains("Error"), "{name}:\n{text}");
    let dsl = std::fs::read_to_string(path.with_extension("dsl")).unwrap();
    for bad in ["Error", "Invalid", "Incorrect checksum", "****", "Unknown"] {
        assert!(!dsl.contains(bad), "{name}: {bad:?} in\n{dsl}");
    }
    let _ = std::fs::remove_dir_all(&dir);
    Some(dsl)
}

#[test]
fn generic_initiator_entries_bytes() {
    let t = with_devices("0001:02:03.4");
    let layout = MemoryLayout::new(&t);
    let opts = TableOptions::default();
    let tables = build(&t, &layout, &opts).unwrap().unwrap();
    let srat = &tables.srat;
    // Revision 3 (ACPI 6.3) because the table has type 5 entries.
    assert_eq!(srat[8], REVISION_ACPI_6_3);
    // The two last structures, 32 bytes each.
    let gi = &srat[srat.len() - 64..];
    #[rustfmt::skip]
    let pci: [u8; 32] = [
        5, 32, 0, 1,             // type, length, reserved, handle type PCI
        2, 0, 0, 0,              // proximity domain 2
        1, 0, 2, 3 << 3 | 4,     // segment 1, bus 2, devfn 03.4
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        1, 0, 0, 0,              // flags: enabled
        0, 0, 0, 0,
    ];
    #[rustfmt::skip]
    let acpi: [u8; 32] = [
        5, 32, 0, 0,             // handle type ACPI
        3, 0, 0, 0,              // proximity domain 3
        b'A', b'C', b'P', b'I', b'0', b'0', b'1', b'6',
        7, 0, 0, 0,              // _UID 7
        0, 0, 0, 0,
        1, 0, 0, 0,
        0, 0, 0, 0,
    ];
    assert_eq!(&gi[..32], &pci);
    assert_eq!(&gi[32..], &acpi);
    // Parsed back, and checked against the topology.
    let (_, parsed) = Srat::parse(srat).unwrap();
    assert_eq!(
        parsed.entries.last(),
        Some(&SratEntry::GenericInitiator(GenericInitiatorAffinity {
            proximity: 3,
            device: DeviceHandle::parse("acpi:ACPI0016:7").unwrap(),
            flags: GI_ENABLED,
        }))
    );
    let info = NumaInfo::from_tables(srat, tables.slit.as_deref(), None).unwrap();
    assert!(info.domains().contains(&2) && info.domains().contains(&3));
    verify(&t, &layout, &opts, &info).unwrap();
    // Without them: QEMU's revision and no type 5; verify notices.
    let off = opts.with_generic_initiators(false);
    let plain = build(&t, &layout, &off).unwrap().unwrap();
    assert_eq!(plain.srat[8], REVISION);
    assert_eq!(plain.srat.len(), srat.len() - 64);
    assert!(verify(&t, &layout, &off, &info).is_err());

    if let Some(dsl) = iasl("srat-gi", srat) {
        assert_eq!(
            dsl.matches("Generic Initiator Affinity").count(),
            2,
            "{dsl}"
        );
        assert!(dsl.contains("Revision : 03"), "{dsl}");
        assert!(dsl.contains("Proximity Domain : 00000002"), "{dsl}");
        assert!(dsl.contains("Proximity Domain : 00000003"), "{dsl}");
    }
}

/// A VMM's CXL host bridge as a generic port of a node without CPUs or
/// memory: an SRAT Generic Port Affinity structure (type 6, ACPI 6.4)
/// after the Generic Initiators, with the bridge's `_HID`/`_UID`.
#[test]
fn generic_port_entries_bytes() {
    let t = NumaConfig::new(MachineModel::generic("vmm", 8), CpuTopology::new(2))
        .node(
            NodeConfig::new(0)
                .cpus(0..2)
                .zone(MemoryZone::new(64 * MIB)),
        )
        .node(NodeConfig::new(1).port("acpi:ACPI0016:12"))
        .node(NodeConfig::new(2).device("00:04.0"))
        .distances(Distances::fill(20))
        .resolve()
        .unwrap();
    assert_eq!(t.nodes()[1].ports, ["acpi:ACPI0016:12"]);
    let layout = MemoryLayout::new(&t);
    let opts = TableOptions::default();
    let tables = build(&t, &layout, &opts).unwrap().unwrap();
    let srat = &tables.srat;
    assert_eq!(srat[8], REVISION_ACPI_6_3);
    #[rustfmt::skip]
    let port: [u8; 32] = [
        6, 32, 0, 0,             // type 6, length, reserved, handle type ACPI
        1, 0, 0, 0,              // proximity domain 1
        b'A', b'C', b'P', b'I', b'0', b'0', b'1', b'6',
        12, 0, 0, 0,             // _UID 12
        0, 0, 0, 0,
        1, 0, 0, 0,              // flags: enabled
        0, 0, 0, 0,
    ];
    assert_eq!(&srat[srat.len() - 32..], &port);
    // The initiator comes first.
    assert_eq!(srat[srat.len() - 64], 5);
    let (_, parsed) = Srat::parse(srat).unwrap();
    assert!(matches!(
        parsed.entries.last(),
        Some(SratEntry::GenericPort(GenericInitiatorAffinity {
            proximity: 1,
            ..
        }))
    ));
    let info = NumaInfo::from_tables(srat, tables.slit.as_deref(), None).unwrap();
    assert!(info.domains().contains(&1));
    verify(&t, &layout, &opts, &info).unwrap();
    // A table without the port does not verify.
    let mut bytes = srat.to_vec();
    bytes.truncate(bytes.len() - 32);
    let len = u32::try_from(bytes.len()).unwrap().to_le_bytes();
    bytes[4..8].copy_from_slice(&len);
    let info = NumaInfo::from_tables(&bytes, tables.slit.as_deref(), None);
    assert!(info.is_err() || verify(&t, &layout, &opts, &info.unwrap()).is_err());
    // A port name that is no handle is refused by name.
    let bad = NumaConfig::new(MachineModel::generic("vmm", 8), CpuTopology::new(1))
        .node(
            NodeConfig::new(0)
                .cpus([0])
                .zone(MemoryZone::new(64 * MIB))
                .port("cxl0"),
        )
        .resolve()
        .unwrap();
    let err = build(&bad, &MemoryLayout::new(&bad), &opts).unwrap_err();
    assert!(err.to_string().contains("'cxl0'"), "{err}");
}

#[test]
fn device_names_that_are_no_handle_are_refused() {
    let t = with_devices("gpu0");
    let layout = MemoryLayout::new(&t);
    let e = build(&t, &layout, &TableOptions::default()).unwrap_err();
    assert!(
        matches!(&e, Error::DeviceHandle { node: 2, device } if device == "gpu0"),
        "{e}"
    );
    // A VMM that names devices its own way writes the entries itself.
    let opts = TableOptions::default().with_generic_initiators(false);
    let mut srat = Srat::from_topology(&t, &layout, &opts);
    srat.entries
        .push(SratEntry::GenericInitiator(GenericInitiatorAffinity {
            proximity: 2,
            device: DeviceHandle::Pci {
                segment: 0,
                bus: 0,
                devfn: 4 << 3,
            },
            flags: GI_ENABLED,
        }));
    let bytes = srat
        .to_bytes_with_revision(&opts.oem, REVISION_ACPI_6_3)
        .unwrap();
    assert_eq!(Srat::parse(&bytes).unwrap().1, srat);
    for bad in [
        "",
        "1:2",
        "00:20.0",
        "00:1f.8",
        "acpi:TOOLONGHID:1",
        "acpi:X:-1",
    ] {
        assert_eq!(DeviceHandle::parse(bad), None, "{bad}");
    }
}

#[test]
fn srat_revision_is_selectable() {
    let t = with_devices("00:04.0");
    let layout = MemoryLayout::new(&t);
    for rev in [1, 2, 3, 5] {
        let tables = build(
            &t,
            &layout,
            &TableOptions::default().with_srat_revision(rev),
        )
        .unwrap()
        .unwrap();
        assert_eq!(tables.srat[8], rev);
        assert!(vnuma_tables::acpi::checksum_valid(&tables.srat));
    }
}

#[test]
fn x2apic_only_processor_entries() {
    let t = with_devices("00:04.0");
    let layout = MemoryLayout::new(&t);
    let opts = TableOptions {
        processors: ProcessorEntries::X2Apic,
        ..TableOptions::default()
    };
    let tables = build(&t, &layout, &opts).unwrap().unwrap();
    let (_, srat) = Srat::parse(&tables.srat).unwrap();
    let x2: Vec<(u32, u32)> = srat
        .entries
        .iter()
        .filter_map(|e| match e {
            SratEntry::X2Apic(c) => Some((c.x2apic_id, c.proximity)),
            SratEntry::LocalApic(_) | SratEntry::Gicc(_) => panic!("{e:?}"),
            _ => None,
        })
        .collect();
    assert_eq!(x2, [(0, 0), (1, 0), (2, 1), (3, 1)]);
    // The first structure, byte by byte: type 2, length 24.
    #[rustfmt::skip]
    assert_eq!(
        &tables.srat[48..72],
        &[2, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    );
    let info = NumaInfo::from_tables(&tables.srat, tables.slit.as_deref(), None).unwrap();
    verify(&t, &layout, &opts, &info).unwrap();
    assert!(verify(&t, &layout, &TableOptions::default(), &info).is_err());
    if let Some(dsl) = iasl("srat-x2apic", &tables.srat) {
        assert_eq!(dsl.matches("Processor Local x2APIC Affinity").count(), 4);
        assert!(!dsl.contains("Processor Local APIC/SAPIC Affinity"));
    }
}

#[cfg(feature = "fdt")]
mod fdt {
    use super::*;
    use vnuma_tables::fdt::{
        cpu_reg, memory_ranges, write_cpu_numa_node_id, write_cpus_with, write_distance_map,
        write_memory_numa_node_id, CpuReg, FdtWriter, Mpidr,
    };

    fn dtc(name: &str, dtb: &[u8]) -> Option<String> {
        if !have("dtc", "--version") {
            eprintln!("SKIPPED: dtc not found (apt-get install device-tree-compiler)");
            return None;
        }
        let dir = scratch(name);
        let path = dir.join(format!("{name}.dtb"));
        std::fs::write(&path, dtb).unwrap();
        let out = Command::new("dtc")
            .args(["-I", "dtb", "-O", "dts"])
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name}: dtc failed:\n{err}");
        assert!(
            !err.contains("ERROR") && !err.contains("Warning"),
            "{name}:\n{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// 20 vCPUs on 2 nodes: past 16, the MPIDR is not the index.
    fn arm() -> Topology {
        NumaConfig::new(MachineModel::generic("arm", 64), CpuTopology::new(20))
            .node(
                NodeConfig::new(0)
                    .cpus(0..10)
                    .zone(MemoryZone::new(64 * MIB)),
            )
            .node(
                NodeConfig::new(1)
                    .cpus(10..20)
                    .zone(MemoryZone::new(64 * MIB)),
            )
            .distances(Distances::fill(20))
            .resolve()
            .unwrap()
    }

    #[test]
    fn mpidr_scheme() {
        let t = arm();
        assert_eq!(cpu_reg(&t, 16, CpuReg::Mpidr(Mpidr::KVM)), Some(0x100));
        assert_eq!(cpu_reg(&t, 19, CpuReg::Mpidr(Mpidr::KVM)), Some(0x103));
        assert_eq!(cpu_reg(&t, 9, CpuReg::Mpidr(Mpidr::GICV2)), Some(0x101));
        assert_eq!(cpu_reg(&t, 19, CpuReg::Index), Some(19));
        assert_eq!(cpu_reg(&t, 20, CpuReg::Index), None);
        assert_eq!(Mpidr::KVM.of(16 * 256 + 1), 0x1_0001);
        let mut fdt = FdtWriter::new().unwrap();
        let root = fdt.begin_node("").unwrap();
        write_cpus_with(&mut fdt, &t, CpuReg::Mpidr(Mpidr::KVM)).unwrap();
        fdt.end_node(root).unwrap();
        let dtb = fdt.finish().unwrap();
        if let Some(dts) = dtc("mpidr", &dtb) {
            assert!(dts.contains("cpu@103 {"), "{dts}");
            assert!(dts.contains("reg = <0x00 0x103>;"), "{dts}");
            assert!(dts.contains("#address-cells = <0x02>;"), "{dts}");
            assert_eq!(dts.matches("numa-node-id = <0x01>").count(), 10);
        }
    }

    /// A VMM writes its own CPU and memory nodes (compatible,
    /// enable-method, phandles) and asks vnuma only for the NUMA
    /// properties and the distance map.
    #[test]
    fn properties_inside_the_vmms_own_nodes() {
        let t = arm();
        let layout = MemoryLayout::new(&t);
        let scheme = CpuReg::Mpidr(Mpidr::KVM);
        let mut fdt = FdtWriter::new().unwrap();
        let root = fdt.begin_node("").unwrap();
        fdt.property_u32("#address-cells", 2).unwrap();
        fdt.property_u32("#size-cells", 2).unwrap();
        let cpus = fdt.begin_node("cpus").unwrap();
        fdt.property_u32("#address-cells", scheme.address_cells())
            .unwrap();
        fdt.property_u32("#size-cells", 0).unwrap();
        for index in 0..20 {
            let reg = cpu_reg(&t, index, scheme).unwrap();
            let cpu = fdt.begin_node(&format!("cpu@{reg:x}")).unwrap();
            fdt.property_string("device_type", "cpu").unwrap();
            fdt.property_string("compatible", "arm,arm-v8").unwrap();
            fdt.property_string("enable-method", "psci").unwrap();
            fdt.property_u64("reg", reg).unwrap();
            fdt.property_phandle(100 + index).unwrap();
            write_cpu_numa_node_id(&mut fdt, &t, index).unwrap();
            fdt.end_node(cpu).unwrap();
        }
        fdt.end_node(cpus).unwrap();
        for (base, size, _) in memory_ranges(&layout) {
            let mem = fdt.begin_node(&format!("memory@{base:x}")).unwrap();
            fdt.property_string("device_type", "memory").unwrap();
            fdt.property_array_u64("reg", &[base, size]).unwrap();
            write_memory_numa_node_id(&mut fdt, &t, &layout, base).unwrap();
            fdt.end_node(mem).unwrap();
        }
        write_distance_map(&mut fdt, &t).unwrap();
        assert!(write_cpu_numa_node_id(&mut fdt, &t, 99).is_err());
        assert!(write_memory_numa_node_id(&mut fdt, &t, &layout, 1 << 40).is_err());
        fdt.end_node(root).unwrap();
        let dtb = fdt.finish().unwrap();
        assert_eq!(
            memory_ranges(&layout),
            [(0, 64 * MIB, 0), (64 * MIB, 64 * MIB, 1)]
        );
        if let Some(dts) = dtc("own-nodes", &dtb) {
            assert_eq!(dts.matches("enable-method = \"psci\"").count(), 20);
            assert_eq!(dts.matches("numa-node-id").count(), 22);
            assert!(dts.contains("memory@4000000 {"), "{dts}");
            assert!(dts.contains("numa-distance-map-v1"), "{dts}");
        }
    }
}
