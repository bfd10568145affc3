//! The clients against the installed QEMU; skipped (passing) when
//! `qemu-system-x86_64` cannot be run.

use std::time::Duration;

use vnuma_qemu_harness::capture::{capture_qmp, capture_tables, capture_virt};
use vnuma_qemu_harness::corpus::Corpus;
use vnuma_qemu_harness::json::Json;
use vnuma_qemu_harness::qmp::{qemu_version, Launch, Qmp, QmpError, QEMU, QEMU_AARCH64};

fn have_qemu() -> bool {
    let ok = qemu_version(QEMU).is_some();
    if !ok {
        eprintln!("{QEMU} is not installed: skipped");
    }
    ok
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn qmp_session() {
    if !have_qemu() {
        return;
    }
    let a = args(&["-m", "128M", "-smp", "2"]);
    let mut q = Qmp::start(&Launch::new(&a)).unwrap();
    q.handshake().unwrap();
    let numa = q.human_monitor_command("info numa").unwrap();
    assert_eq!(numa.as_str(), Some("0 nodes\r\n"));
    let cpus = q.execute("query-cpus-fast", None).unwrap();
    let path = cpus.as_arr().unwrap()[1].get("qom-path").cloned().unwrap();
    assert_eq!(q.qom_get(path, "apic-id").unwrap().as_i64(), Some(1));
    assert!(matches!(
        q.execute("no-such-command", None),
        Err(QmpError::Error(_))
    ));
    assert!(q.quit());
    let exit = q.finish();
    assert_eq!((exit.status, exit.timed_out), (0, false), "{}", exit.stderr);
}

#[test]
fn rejected_and_timed_out() {
    if !have_qemu() {
        return;
    }
    let a = args(&["-M", "no-such-machine"]);
    let mut q = Qmp::start(&Launch::new(&a)).unwrap();
    assert!(q.handshake().is_err());
    let exit = q.finish();
    assert_eq!(exit.status, 1);
    assert!(
        exit.stderr.contains("unsupported machine type"),
        "{}",
        exit.stderr
    );

    let a = args(&["-m", "128M"]);
    let launch = Launch {
        timeout: Duration::from_millis(300),
        ..Launch::new(&a)
    };
    let mut q = Qmp::start(&launch).unwrap();
    let socket = q.socket_path().to_path_buf();
    q.handshake().unwrap();
    assert!(socket.exists());
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(q.execute("query-status", None), Err(QmpError::Timeout));
    let exit = q.finish();
    assert!(exit.timed_out && exit.status == -1);
    assert!(exit.stderr.ends_with("<timeout>"));
    assert!(!socket.exists(), "the socket file was left behind");
}

#[test]
fn captures() {
    if !have_qemu() {
        return;
    }
    let a = args(&[
        "-M",
        "q35",
        "-m",
        "256M",
        "-smp",
        "2,sockets=2",
        "-object",
        "memory-backend-ram,id=m0,size=128M",
        "-object",
        "memory-backend-ram,id=m1,size=128M",
        "-numa",
        "node,nodeid=0,memdev=m0",
        "-numa",
        "node,nodeid=1,memdev=m1",
        "-numa",
        "dist,src=0,dst=1,val=20",
    ]);
    let answer = capture_qmp(&Launch::new(&a), Corpus::Topology).unwrap();
    assert!(answer.accepted);
    let slots = answer.slots.unwrap();
    assert_eq!(slots[1].tuple(), (1, true, Some(1), Some(1), 1, None, 0, 0));
    let ids: Vec<&str> = answer
        .memdevs
        .as_arr()
        .unwrap()
        .iter()
        .filter_map(|m| m.get("id").and_then(Json::as_str))
        .collect();
    assert_eq!(ids, ["m0", "m1"]);
    let tables = capture_tables(&Launch::new(&a), "q35-2n").unwrap();
    assert_eq!(&tables.srat.unwrap()[..4], b"SRAT");
    assert_eq!(&tables.slit.unwrap()[..4], b"SLIT");
    assert!(tables.hmat.is_none());
}

/// The virt capture against `qemu-system-aarch64` (skipped when it
/// cannot be run): the device tree's NUMA nodes and the tables read from
/// the memory-mapped fw_cfg.
#[test]
fn captures_virt() {
    if qemu_version(QEMU_AARCH64).is_none() {
        eprintln!("{QEMU_AARCH64} is not installed: skipped");
        return;
    }
    let a = args(&[
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
    ]);
    let launch = Launch {
        qemu: QEMU_AARCH64,
        ..Launch::new(&a)
    };
    let answer = capture_virt(&launch, "virt-2n").unwrap();
    assert!(answer.qmp.accepted, "{:?}", answer.qmp.stderr);
    let fdt = answer.fdt.unwrap();
    let memory: Vec<(u64, u64, Option<u32>)> = fdt
        .memory
        .iter()
        .map(|m| (m.reg[0].0, m.reg[0].1, m.node))
        .collect();
    assert_eq!(
        memory,
        [
            (0x4000_0000, 0x4000_0000, Some(0)),
            (0x8000_0000, 0x4000_0000, Some(1))
        ]
    );
    let cpus: Vec<(&[u32], Option<u32>)> = fdt
        .cpus
        .iter()
        .map(|c| (c.reg.as_slice(), c.node))
        .collect();
    assert_eq!(
        cpus,
        [
            (&[0][..], Some(0)),
            (&[1][..], Some(0)),
            (&[2][..], Some(1)),
            (&[3][..], Some(1))
        ]
    );
    let (compatible, matrix) = fdt.distance_map.unwrap();
    assert_eq!(compatible, "numa-distance-map-v1");
    assert_eq!(matrix, [(0, 0, 10), (0, 1, 20), (1, 0, 20), (1, 1, 10)]);
    let srat = answer.tables.srat.unwrap();
    assert_eq!(&srat[..4], b"SRAT");
    // The SLIT: header, node count, the 2x2 matrix.
    let slit = answer.tables.slit.unwrap();
    assert_eq!(&slit[..4], b"SLIT");
    assert_eq!(&slit[36..], [2, 0, 0, 0, 0, 0, 0, 0, 10, 20, 20, 10]);
    assert!(answer.tables.hmat.is_none());

    // Rejected: no tree, no tables.
    let a = args(&["-M", "virt", "-cpu", "cortex-a57", "-smp", "9"]);
    let launch = Launch {
        qemu: QEMU_AARCH64,
        ..Launch::new(&a)
    };
    let answer = capture_virt(&launch, "virt-9").unwrap();
    assert!(!answer.qmp.accepted);
    assert!(answer.fdt.is_none() && answer.tables.srat.is_none());
}
