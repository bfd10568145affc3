//! External checkers: every emitted ACPI table disassembles with `iasl -d`
//! (package `acpica-tools`) and every device tree decompiles with
//! `dtc -I dtb -O dts` (package `device-tree-compiler`). Each test skips,
//! saying so, when its tool is not installed.
//!
//! Besides the golden command lines, the tables include what QEMU cannot
//! be captured building under TCG: x2APIC entries (APIC ids from 255 on),
//! checked field by field in iasl's decoding.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;
use vnuma_options::CommandLine;
use vnuma_tables::{build, MemoryStyle, ProcessorEntries, TableOptions};
use vnuma_topology::layout::MemoryLayout;
use vnuma_topology::machine::MachineModel;
use vnuma_topology::{resolve, resolve_with, Config, Topology};

fn have(tool: &str, arg: &str) -> bool {
    Command::new(tool).arg(arg).output().is_ok()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vnuma-tables-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn golden_args() -> Vec<(String, Vec<String>)> {
    include_str!("qemu72/golden.jsonl")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let args = v["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_string())
                .collect();
            (v["id"].as_str().unwrap().to_string(), args)
        })
        .collect()
}

fn topology(args: &[&str]) -> Topology {
    resolve(&CommandLine::parse(args).unwrap()).unwrap()
}

/// A board that is not QEMU's: 4 GiB from 2 GiB up, 8 CPUs, 3 nodes.
fn generic() -> Topology {
    let mut m = MachineModel::generic("board", 8);
    m.ram_layout = vnuma_topology::machine::RamLayout::Flat { base: 0x8000_0000 };
    let cl = CommandLine::parse([
        "-m",
        "4G,slots=2,maxmem=8G",
        "-smp",
        "8,sockets=4",
        "-object",
        "memory-backend-ram,id=a,size=1G",
        "-object",
        "memory-backend-ram,id=b,size=3G",
        "-numa",
        "node,memdev=a",
        "-numa",
        "node,memdev=b",
        "-numa",
        "node",
        "-numa",
        "dist,src=0,dst=1,val=15",
        "-numa",
        "dist,src=0,dst=2,val=25",
        "-numa",
        "dist,src=1,dst=2,val=35",
    ])
    .unwrap();
    resolve_with(&cl, &Config::with_machine(m)).unwrap()
}

/// Named topologies with the options to build them with.
fn corpus() -> Vec<(String, Topology, TableOptions)> {
    let mut out: Vec<(String, Topology, TableOptions)> = golden_args()
        .into_iter()
        .map(|(id, args)| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            (id, topology(&args), TableOptions::default())
        })
        .collect();
    out.push((
        "x2apic-q35-288".into(),
        topology(&[
            "-M",
            "q35",
            "-m",
            "256M",
            "-smp",
            "288,sockets=4,cores=72",
            "-object",
            "memory-backend-ram,id=a,size=128M",
            "-object",
            "memory-backend-ram,id=b,size=128M",
            "-numa",
            "node,memdev=a",
            "-numa",
            "node,memdev=b",
        ]),
        TableOptions::default(),
    ));
    out.push((
        "hmat-odd-length".into(),
        topology(&[
            "-M",
            "q35",
            "-machine",
            "hmat=on",
            "-m",
            "128M",
            "-smp",
            "1",
            "-object",
            "memory-backend-ram,id=a,size=128M",
            "-numa",
            "node,memdev=a,cpus=0",
            "-numa",
            "node",
            "-numa",
            "node",
            "-numa",
            "hmat-lb,initiator=0,target=0,hierarchy=memory,data-type=access-latency,latency=5",
        ]),
        TableOptions::default(),
    ));
    let gicc = TableOptions::default().with_processors(ProcessorEntries::Gicc);
    out.push(("generic-gicc".into(), generic(), gicc));
    let layout_style = TableOptions::default().with_memory(MemoryStyle::Layout);
    out.push((
        "q35-layout-style".into(),
        topology(&[
            "-M",
            "q35",
            "-m",
            "4G",
            "-smp",
            "2,sockets=2",
            "-object",
            "memory-backend-ram,id=a,size=768K",
            "-object",
            "memory-backend-ram,id=b,size=4193536K",
            "-numa",
            "node,memdev=a",
            "-numa",
            "node,memdev=b",
        ]),
        layout_style,
    ));
    out
}

#[test]
fn iasl_disassembles_every_table() {
    if !have("iasl", "-v") {
        eprintln!("SKIPPED: iasl not found (apt-get install acpica-tools)");
        return;
    }
    let dir = scratch("iasl");
    let mut checked = 0;
    for (id, t, opts) in corpus() {
        let tables = build(&t, &MemoryLayout::new(&t), &opts).unwrap().unwrap();
        for (sig, bytes) in tables.iter() {
            let path = dir.join(format!("{id}-{sig}.dat"));
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
            assert!(out.status.success(), "{id} {sig}: iasl failed:\n{text}");
            assert!(!text.contains("Error"), "{id} {sig}:\n{text}");
            let dsl = std::fs::read_to_string(path.with_extension("dsl")).unwrap();
            for bad in ["Error", "Invalid", "Incorrect checksum", "****"] {
                assert!(!dsl.contains(bad), "{id} {sig}: {bad:?} in\n{dsl}");
            }
            if id == "x2apic-q35-288" && sig == "SRAT" {
                check_x2apic(&t, &dsl);
            }
            checked += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("iasl -d: {checked} tables disassembled cleanly");
}

/// iasl decodes the x2APIC entries with the APIC ids and nodes we meant.
fn check_x2apic(t: &Topology, dsl: &str) {
    let x2 = dsl.matches("Processor Local x2APIC Affinity").count();
    let local = dsl.matches("Processor Local APIC/SAPIC Affinity").count();
    let want_x2 = t.cpus().iter().filter(|c| c.slot.apic_id >= 255).count();
    assert!(want_x2 > 0);
    assert_eq!(x2, want_x2, "x2APIC entries");
    assert_eq!(local, t.cpus().len() - want_x2, "local APIC entries");
    // Field by field: iasl prints "Apic ID : 000001FF" for x2APIC entries.
    for cpu in t.cpus().iter().filter(|c| c.slot.apic_id >= 255) {
        let id = format!("Apic ID : {:08X}", cpu.slot.apic_id);
        assert!(dsl.contains(&id), "missing {id}");
    }
    let last = t.cpus().last().unwrap();
    let tail = &dsl[dsl.rfind("Processor Local x2APIC Affinity").unwrap()..];
    assert!(tail.contains(&format!("Proximity Domain : {:08X}", last.node.unwrap())));
    assert!(tail.contains("Length : 18"), "{tail}");
    assert!(tail.contains("Enabled : 1"), "{tail}");
}

#[cfg(feature = "fdt")]
#[test]
fn dtc_decompiles_every_device_tree() {
    if !have("dtc", "--version") {
        eprintln!("SKIPPED: dtc not found (apt-get install device-tree-compiler)");
        return;
    }
    let dir = scratch("dtc");
    let mut checked = 0;
    for (id, t, _) in corpus() {
        let layout = MemoryLayout::new(&t);
        let dtb = vnuma_tables::fdt::numa_dtb(&t, &layout).unwrap();
        let path = dir.join(format!("{id}.dtb"));
        std::fs::write(&path, &dtb).unwrap();
        let out = Command::new("dtc")
            .args(["-I", "dtb", "-O", "dts"])
            .arg(&path)
            .output()
            .unwrap();
        let dts = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{id}: dtc failed:\n{err}");
        assert!(
            !err.contains("ERROR") && !err.contains("Warning"),
            "{id}:\n{err}"
        );
        assert_eq!(
            dts.matches("device_type = \"cpu\"").count(),
            t.cpus().iter().filter(|c| c.present).count(),
            "{id}"
        );
        let memory = layout
            .ranges()
            .filter(|(_, o)| matches!(o, vnuma_topology::layout::Owner::Boot(_)))
            .count();
        assert_eq!(
            dts.matches("device_type = \"memory\"").count(),
            memory,
            "{id}"
        );
        assert_eq!(
            dts.matches("numa-node-id").count(),
            t.cpus().iter().filter(|c| c.present).count() + memory,
            "{id}"
        );
        assert_eq!(
            dts.contains("numa-distance-map-v1"),
            t.distances().is_some(),
            "{id}"
        );
        checked += 1;
    }
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("dtc: {checked} device trees decompiled cleanly");
}
