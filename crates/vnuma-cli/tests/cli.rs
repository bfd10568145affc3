//! The `vnuma` binary as a person and a script use it: text, JSON, exit
//! status, the caret under the offending bytes.

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

const TWO_NODES: &[&str] = &[
    "-M",
    "q35",
    "-m",
    "4G",
    "-smp",
    "4,sockets=2",
    "-object",
    "memory-backend-ram,id=m0,size=2G",
    "-object",
    "memory-backend-ram,id=m1,size=2G",
    "-numa",
    "node,nodeid=0,memdev=m0",
    "-numa",
    "node,nodeid=1,memdev=m1",
    "-numa",
    "dist,src=0,dst=1,val=21",
];

#[test]
fn accepted_text() {
    let (code, out, err) = vnuma(TWO_NODES);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("2 nodes\nnode 0 cpus: 0 1\nnode 0 size: 2048 MB\nnode 0 plugged: 0 MB\nnode 1 cpus: 2 3\n"), "{out}");
    assert!(
        out.contains("  node 0   0x0000000000100000-0x000000007fffffff  2047 MiB\n"),
        "{out}"
    );
    assert!(
        out.contains("  node 1   0x0000000100000000-0x000000017fffffff  2 GiB\n"),
        "{out}"
    );
    assert!(
        out.contains("distances:\n        0   1\n    0  10  21\n    1  21  10\n"),
        "{out}"
    );
    assert!(err.is_empty());
}

#[test]
fn accepted_json() {
    let mut args = vec!["--json"];
    args.extend_from_slice(TWO_NODES);
    let (code, out, _) = vnuma(&args);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["accepted"], true);
    // The default is QEMU 10.0.
    assert_eq!(v["qemu_version"], "10.0");
    assert_eq!(v["machine"]["type"], "pc-q35-10.0");
    assert_eq!(v["machine"]["hmat"], false);
    assert_eq!(v["smp"]["cpus"], 4);
    assert_eq!(v["smp"]["sockets"], 2);
    assert_eq!(v["memory"]["size"], 4u64 << 30);
    assert_eq!(v["nodes"][1]["cpus"], serde_json::json!([2, 3]));
    assert_eq!(v["nodes"][1]["memdev"], "m1");
    assert_eq!(v["cpus"][3]["apic-id"], 3);
    assert_eq!(v["cpus"][3]["node-id"], 1);
    assert_eq!(v["distances"], serde_json::json!([[10, 21], [21, 10]]));
    assert_eq!(v["memdevs"][0]["id"], "m0");
    assert_eq!(v["memdevs"][0]["policy"], "default");
    assert_eq!(
        v["ranges"][2],
        serde_json::json!({"node": 1, "start": 4u64 << 30, "end": 6u64 << 30})
    );
    assert!(v["info_numa"].as_str().unwrap().starts_with("2 nodes\n"));
}

#[test]
fn no_numa_json() {
    let (code, out, _) = vnuma(&["--json", "-m", "1G", "-nodefaults", "-display", "none"]);
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["info_numa"], "0 nodes\n");
    assert_eq!(v["cpus"][0]["node-id"], Value::Null);
    assert_eq!(v["distances"], Value::Null);
    assert_eq!(v["memdevs"][0]["id"], "pc.ram");
}

#[test]
fn rejected_with_caret() {
    let (code, out, err) = vnuma(&["-numa", "node,nodeid=200"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines[0],
        "vnuma: -numa node,nodeid=200: Max number of NUMA nodes reached: 200"
    );
    // The caret line points at `nodeid=200` inside the option.
    let col = lines[1].find('^').unwrap();
    assert_eq!(&lines[0][col..col + 10], "nodeid=200");
    assert_eq!(lines[1].trim(), "^^^^^^^^^^");

    let (_, _, err) = vnuma(&["-smp", "2", "-numa", "node,cpus=0-3x"]);
    let lines: Vec<&str> = err.lines().collect();
    let col = lines[1].find('^').unwrap();
    assert_eq!(&lines[0][col..col + 4], "0-3x");
}

#[test]
fn rejected_hint_and_json() {
    let (code, _, err) = vnuma(&["-M", "pc-q35-5.1", "-numa", "node,mem=128M"]);
    assert_eq!(code, 1);
    assert!(err.ends_with("Use -numa node,memdev instead\n"), "{err}");
    let (code, out, _) = vnuma(&["--json", "-numa", "node,foo", "-numa", "node,nodeid=200"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["accepted"], false);
    assert_eq!(v["error"], "Invalid parameter 'foo'");
    assert_eq!(v["error_location"], "-numa node,foo");
    assert_eq!(
        v["warnings"],
        serde_json::json!(["short-form boolean option 'foo' deprecated"])
    );
    let (code, out, _) = vnuma(&["--json", "-m", "128M", "-numa", "node", "-numa", "node"]);
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        v["error"],
        "total memory for NUMA nodes (0x0) should equal RAM size (0x8000000)"
    );
    assert_eq!(v["error_location"], Value::Null);
}

#[test]
fn warnings_on_stderr() {
    let (code, out, err) = vnuma(&[
        "-smp",
        "8",
        "-m",
        "128M",
        "-numa",
        "node,mem=64M,cpus=0-1",
        "-numa",
        "node,mem=64M,cpus=4-5",
        "-M",
        "pc-i440fx-5.0",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("2 nodes\n"));
    assert!(err.contains("vnuma: -numa node,mem=64M,cpus=0-1: warning: Parameter -numa node,mem is deprecated, use -numa node,memdev instead\n"), "{err}");
    assert!(err.contains("vnuma: warning: CPU(s) not present in any NUMA nodes: CPU 2 [socket-id: 2, core-id: 0, thread-id: 0]"), "{err}");
}

#[test]
fn help_version_and_unknown_options() {
    let (code, out, _) = vnuma(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("usage: vnuma"));
    let (code, out, _) = vnuma(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("vnuma "));
    let (code, _, err) = vnuma(&["-frobnicate"]);
    assert_eq!(code, 1);
    assert_eq!(err, "vnuma: -frobnicate: invalid option\n");
}

#[test]
fn allocate_on_this_host() {
    let (code, out, err) = vnuma(&[
        "--allocate",
        "-m",
        "16M",
        "-object",
        "memory-backend-ram,id=a,size=8M,prealloc=on",
        "-object",
        "memory-backend-ram,id=b,size=8M",
        "-numa",
        "node,memdev=a",
        "-numa",
        "node,memdev=b",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("\nallocated 16 MiB in 2 backend(s) in "),
        "{out}"
    );
    assert!(out.trim_end().ends_with("(1 preallocated)"), "{out}");
    if !std::path::Path::new("/sys/devices/system/node/node7").exists() {
        let (code, _, err) = vnuma(&[
            "--allocate",
            "-m",
            "8M",
            "-object",
            "memory-backend-ram,id=a,size=8M,host-nodes=7,policy=bind",
            "-numa",
            "node,memdev=a",
        ]);
        assert_eq!(code, 1);
        assert!(
            err.starts_with(
                "vnuma: cannot bind memory to host NUMA nodes: host node 7 does not exist"
            ),
            "{err}"
        );
    }
}

#[test]
fn acpi_dir_and_dtb() {
    let dir = std::env::temp_dir().join(format!("vnuma-cli-test-{}", std::process::id()));
    let dtb = dir.join("numa.dtb");
    let mut args = vec![
        "--acpi-dir",
        dir.to_str().unwrap(),
        "--dtb",
        dtb.to_str().unwrap(),
    ];
    args.extend_from_slice(TWO_NODES);
    let (code, _, err) = vnuma(&args);
    assert_eq!(code, 0, "{err}");
    let srat = std::fs::read(dir.join("SRAT.dat")).unwrap();
    let slit = std::fs::read(dir.join("SLIT.dat")).unwrap();
    assert_eq!(&srat[..4], b"SRAT");
    assert_eq!(
        srat.iter().fold(0u8, |a, b| a.wrapping_add(*b)),
        0,
        "checksum filled in"
    );
    // SLIT: header, count 2, then 10 21 21 10.
    assert_eq!(&slit[36..], [2, 0, 0, 0, 0, 0, 0, 0, 10, 21, 21, 10]);
    assert!(!dir.join("HMAT.dat").exists(), "no HMAT without hmat=on");
    let blob = std::fs::read(&dtb).unwrap();
    assert_eq!(&blob[..4], [0xd0, 0x0d, 0xfe, 0xed], "FDT magic");
    let _ = std::fs::remove_dir_all(&dir);
}
