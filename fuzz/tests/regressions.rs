//! Every crash the fuzzers found, kept under a name saying what it was
//! (`fuzz/regressions/<target>/<name>`, as libFuzzer wrote it), through
//! its target's oracle. They are also seeds of every `cargo xtask fuzz
//! run`; `cmin` never drops them (the minimized corpora live beside them
//! in `fuzz/corpus/`).

use std::path::PathBuf;

use arbitrary::{Arbitrary, Unstructured};
use vnuma_fuzz::description;

fn input<T: for<'a> Arbitrary<'a>>(target: &str, name: &str) -> T {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("regressions")
        .join(target)
        .join(name);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    T::arbitrary_take_rest(Unstructured::new(&data)).expect("the input decodes")
}

/// Every file in `fuzz/regressions/` has a test here.
#[test]
fn every_regression_input_is_named_in_a_test() {
    let src = include_str!("regressions.rs");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("regressions");
    for target in std::fs::read_dir(&dir).unwrap() {
        for file in std::fs::read_dir(target.unwrap().path()).unwrap() {
            let name = file.unwrap().file_name().into_string().unwrap();
            assert!(src.contains(&format!("\"{name}\"")), "{name} has no test");
        }
    }
}

/// QEMU's SRAT memory walk asked for on a flat (non-x86) board: the
/// oracle demanded the tables match the layout (an oracle bug: QEMU's
/// walk describes only QEMU's x86 RAM layout).
#[test]
fn qemu72_style_forced_on_a_flat_board() {
    let i: description::Input = input("description", "qemu72-style-forced-on-a-flat-board");
    description::check(&i);
}

/// An HMAT cache of level 0 in a description was accepted, and the
/// HMAT's cache count disagreed with the topology (fixed in
/// vnuma-topology: levels follow QEMU's rules).
#[test]
fn hmat_cache_level_0() {
    let i: description::Input = input("description", "hmat-cache-level-0");
    assert!(i.config().resolve().is_err());
    description::check(&i);
}

/// An i440fx description with `max_below_4g` of 50 GiB laid boot RAM over
/// the device-memory window (fixed in vnuma-topology: refused above
/// 4 GiB, as QEMU's setter does).
#[test]
fn x86_ram_below_4g_over_4g() {
    let i: description::Input = input("description", "x86-ram-below-4g-over-4g");
    assert!(i.config().resolve().is_err());
    description::check(&i);
}

/// The same oracle bug as `qemu72_style_forced_on_a_flat_board`, in the
/// address-to-node check made after parsing the tables back.
#[test]
fn qemu72_style_forced_node_of_address() {
    let i: description::Input = input("description", "qemu72-style-forced-node-of-address");
    description::check(&i);
}

/// A DIMM on node 0 and the hotplug window described in SRAT on the last
/// node (as QEMU does): the oracle looked a device range up as if it were
/// boot RAM (an oracle bug).
#[test]
fn hotplug_window_on_the_last_node() {
    let i: description::Input = input("description", "hotplug-window-on-the-last-node");
    description::check(&i);
}

/// HMAT of a description with sparse node ids (0 and 8) and a bandwidth
/// table with base 1: the table numbers domains by position and encodes
/// base unit 0. A known, unfixed gap: the oracle no longer checks HMAT
/// for such descriptions; this input keeps the rest of it checked.
#[test]
fn hmat_sparse_ids_and_bandwidth_base() {
    let i: description::Input = input("description", "hmat-sparse-ids-and-bandwidth-base");
    description::check(&i);
}

/// A description with a virtio-mem device: `MemoryLayout::unplug_dimm`
/// takes the device's range (it is a DIMM-owned range of the layout) and
/// subtracts its whole size from the node's plugged bytes, which counted
/// none of it (virtio-mem plugs nothing at boot): `attempt to subtract
/// with overflow` in vnuma-topology's `layout.rs` with overflow checks, a
/// wrapped count without. Found by the description target's DIMM
/// operations. Fixed: `unplug_dimm` refuses a virtio-mem range (it is no
/// DIMM) and leaves the node's plugged bytes unchanged.
#[test]
fn unplug_of_a_virtio_mem_range() {
    let i: description::Input = input("description", "unplug-of-a-virtio-mem-range");
    description::check(&i);
    let vm = vnuma::Vm::from_numa_config(&i.config()).expect("the description resolves");
    let mut layout = vm.layout().clone();
    let mut seen = 0;
    for d in vm.topology().devices() {
        if !matches!(
            d.config.kind,
            vnuma_topology::MemoryDeviceKind::VirtioMem { .. }
        ) {
            continue;
        }
        seen += 1;
        let node = d.node.expect("virtio-mem has a node");
        let before = layout.node_plugged(node);
        let size = u64::try_from(d.range.size()).unwrap();
        let after = match layout.unplug_dimm(d.range.start(), size) {
            Some(_) => before - d.plugged(),
            None => before,
        };
        assert_eq!(layout.node_plugged(node), after);
    }
    assert!(seen > 0, "the input has a virtio-mem device");
}

/// A q35 description whose zone has a fixed address (0x74900000, 2.7 GiB,
/// so it runs through the PCI hole to 0x121100000) resolves, with the
/// device-memory window still at 4 GiB: boot RAM lies inside the window
/// and a virtio-pmem device is placed at 0x100000000 over it. Found by
/// the description target. Fixed: an x86 zone at a fixed address may not
/// lie in the PCI hole (this one is refused), and the device-memory
/// window starts after fixed zones above QEMU's formula.
#[test]
fn fixed_zone_over_the_device_memory_window() {
    let i: description::Input = input("description", "fixed-zone-over-the-device-memory-window");
    description::check(&i);
    let err = vnuma::Vm::from_numa_config(&i.config()).expect_err("the zone is in the PCI hole");
    assert!(err.to_string().contains("lies in the MMIO gap"), "{err}");
}
