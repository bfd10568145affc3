//! The guest memory layout, checked against QEMU 7.2's `info mtree`
//! (`ram-below-4g`, `ram-above-4g` and `device-memory`) for the same
//! command lines, and the address → node index.

use vnuma_options::CommandLine;
use vnuma_topology::layout::{MemoryLayout, Owner};
use vnuma_topology::resolve;

fn layout(args: &str) -> Result<MemoryLayout, String> {
    let cl = CommandLine::parse(args.split_whitespace()).map_err(|e| e.to_string())?;
    resolve(&cl)
        .map(|t| MemoryLayout::new(&t))
        .map_err(|e| e.to_string())
}

/// `(below_4g_end, above_4g_end or 0, device memory [start, end) or 0)`,
/// from `info mtree` (inclusive ends there, exclusive here).
type Facts = (u64, u64, (u64, u64));

fn facts(l: &MemoryLayout) -> Facts {
    let s = l.split();
    let above = if s.above_4g == 0 {
        0
    } else {
        s.above_4g_start + s.above_4g
    };
    let dev = l
        .device_memory()
        .map_or((0, 0), |r| (r.start(), r.end().unwrap()));
    (s.below_4g, above, dev)
}

#[test]
fn ram_split_and_window_as_qemu() {
    let g = 1u64 << 30;
    let m = 1u64 << 20;
    let cases: &[(&str, Facts)] = &[
        ("-M pc -m 4G", (0xc000_0000, 0x1_4000_0000, (0, 0))),
        (
            "-M pc-i440fx-1.7 -m 4G",
            (0xe000_0000, 0x1_2000_0000, (0, 0)),
        ),
        ("-M pc -m 3583M", (3583 * m, 0, (0, 0))),
        ("-M pc -m 3584M", (0xc000_0000, 0x1_2000_0000, (0, 0))),
        ("-M pc,max-ram-below-4g=2G -m 4G", (2 * g, 6 * g, (0, 0))),
        ("-M pc,max-ram-below-4g=4G -m 3968M", (3968 * m, 0, (0, 0))),
        (
            "-M pc,max-ram-below-4g=1536M -m 4G",
            (1536 * m, 0x1_a000_0000, (0, 0)),
        ),
        ("-M q35 -m 4G", (2 * g, 6 * g, (0, 0))),
        ("-M q35 -m 2815M", (2815 * m, 0, (0, 0))),
        ("-M q35 -m 2816M", (2 * g, 0x1_3000_0000, (0, 0))),
        ("-M q35,max-ram-below-4g=1G -m 4G", (g, 7 * g, (0, 0))),
        ("-M q35,max-ram-below-4g=3G -m 2G", (2 * g, 0, (0, 0))),
        (
            "-M pc -m 4G,slots=2,maxmem=8G",
            (3 * g, 5 * g, (5 * g, 11 * g)),
        ),
        ("-M q35 -m 1G,slots=4,maxmem=2G", (g, 0, (4 * g, 9 * g))),
        (
            "-M pc-i440fx-2.1 -m 1G,slots=4,maxmem=2G",
            (g, 0, (4 * g, 5 * g)),
        ),
        (
            "-M pc -m 1G,maxmem=2049M",
            (g, 0, (4 * g, 4 * g + 1025 * m)),
        ),
        (
            "-M pc,max-ram-below-4g=512K -m 1G",
            (512 << 10, 4 * g + g - (512 << 10), (0, 0)),
        ),
        ("-M pc -m 1G,maxmem=1G,slots=0", (g, 0, (0, 0))),
        ("-M pc -m 1000k", (1000 << 10, 0, (0, 0))),
    ];
    for (args, want) in cases {
        let l = layout(args).unwrap_or_else(|e| panic!("{args}: {e}"));
        assert_eq!(facts(&l), *want, "{args}");
    }
}

#[test]
fn board_errors_as_qemu() {
    let cases = [
        (
            "-M pc-i440fx-2.0 -m 1G,slots=4,maxmem=2G",
            "\"-memory 'slots|maxmem'\" is not supported by: pc-i440fx-2.0",
        ),
        (
            "-M pc -m 1G,slots=257,maxmem=2G",
            "unsupported amount of memory slots: 257",
        ),
        (
            "-M pc,max-ram-below-4g=5G -m 1G",
            "Machine option 'max-ram-below-4g=5368709120' expects size less than or equal to 4G",
        ),
    ];
    for (args, want) in cases {
        assert_eq!(layout(args).unwrap_err(), want, "{args}");
    }
}

#[test]
fn nodes_around_the_holes() {
    // spec §4.2: q35, two 2 GiB nodes: node 0 → [0,640K) + [1M,2G); node 1 → [4G,6G).
    let l = layout(
        "-M q35 -m 4G -object memory-backend-ram,id=a,size=2G -object memory-backend-ram,id=b,size=2G \
         -numa node,memdev=a -numa node,memdev=b",
    )
    .unwrap();
    let g = 1u64 << 30;
    let r = |n| {
        l.ranges_of(n)
            .map(|r| (r.start(), r.end().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(r(0), [(0, 640 << 10), (1 << 20, 2 * g)]);
    assert_eq!(r(1), [(4 * g, 6 * g)]);
    // pc: node 0 → [0,640K) + [1M,2G); node 1 → [2G,3G) + [4G,5G).
    let l = layout(
        "-M pc -m 4G -object memory-backend-ram,id=a,size=2G -object memory-backend-ram,id=b,size=2G \
         -numa node,memdev=a -numa node,memdev=b",
    )
    .unwrap();
    let r = |n| {
        l.ranges_of(n)
            .map(|r| (r.start(), r.end().unwrap()))
            .collect::<Vec<_>>()
    };
    assert_eq!(r(0), [(0, 640 << 10), (1 << 20, 2 * g)]);
    assert_eq!(r(1), [(2 * g, 3 * g), (4 * g, 5 * g)]);
    for (addr, node) in [
        (0, Some(0)),
        (0x9_ffff, Some(0)),
        (0xa_0000, None),
        (0xf_ffff, None),
        (0x10_0000, Some(0)),
        (2 * g, Some(1)),
        (3 * g, None),
        (4 * g - 1, None),
        (5 * g - 1, Some(1)),
        (5 * g, None),
    ] {
        assert_eq!(l.node_of(addr), node, "{addr:#x}");
    }
}

#[test]
fn memoryless_and_no_numa() {
    let l = layout("-M pc -m 1G -object memory-backend-ram,id=a,size=1G -numa node -numa node,memdev=a -numa node").unwrap();
    assert_eq!(l.ranges_of(0).count(), 0);
    assert_eq!(l.ranges_of(2).count(), 0);
    assert_eq!(l.node_of(0x1000), Some(1));
    let l = layout("-M pc -m 1G").unwrap();
    assert_eq!(l.node_count(), 1);
    assert_eq!(l.node_of(0x4000_0000 - 1), Some(0));
    assert_eq!(l.node_of(0x4000_0000), None);
}

#[test]
fn dimms() {
    let mut l = layout(
        "-M pc -m 2G,slots=4,maxmem=6G -object memory-backend-ram,id=a,size=1G -object memory-backend-ram,id=b,size=1G \
         -numa node,memdev=a -numa node,memdev=b",
    )
    .unwrap();
    let w = l.device_memory().unwrap();
    let g = 1u64 << 30;
    assert_eq!((w.start(), w.size()), (4 * g, 8 * u128::from(g)));
    l.plug_dimm(w.start(), g, Some(1)).unwrap();
    assert_eq!(l.owner_of(w.start()).unwrap().1, Owner::Dimm(1));
    assert_eq!((l.node_size(1), l.node_plugged(1)), (2 * g, g));
    assert_eq!(
        l.plug_dimm(w.start() + g, g, Some(2))
            .unwrap_err()
            .to_string(),
        "'DIMM property node has value 2' which exceeds the number of numa nodes: 2"
    );
    assert!(l
        .plug_dimm(w.start() + g / 2, g, Some(0))
        .unwrap_err()
        .to_string()
        .contains("overlaps"));
    assert!(l.plug_dimm(0, g, Some(0)).is_err(), "outside the window");
    assert!(l.unplug_dimm(w.start(), g / 2).is_none(), "not exact");
    assert_eq!(l.unplug_dimm(w.start(), g).unwrap().node, 1);
    assert_eq!(l.node_plugged(1), 0);
    assert_eq!(l.node_of(w.start()), None);
}
