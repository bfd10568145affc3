//! Guest NUMA for a VMM whose configuration looks like OpenVMM's
//! (`--numa size=..,vps=[..],host_numa_node=..` per node,
//! `--numa-distance SRC:DST:DIST`, and a memory layout built from
//! per-node sizes and MMIO gaps as `vm_topology`'s
//! `MemoryLayout::new_with_numa` does).
//!
//! It shows:
//!
//! * explicit per-node memory, several pieces (zones) per node, placed in
//!   node order around two MMIO gaps ([`RamLayout::around_gaps`]);
//! * sparse node ids (0 and 2): the guest's proximity domains are the ids;
//! * every distance given explicitly ([`Distances::complete`]), as
//!   OpenVMM requires;
//! * the guest-physical ranges of each node and each zone, `node_of` at a
//!   few addresses, one host mapping per zone, and the layout as segments
//!   (`Vm::segments`: zone, node, offset in the zone's mapping, guest
//!   address, length), which is what a VMM registers with its hypervisor;
//! * the SRAT and a SLIT indexed by proximity domain, read back the way a
//!   guest reads them.
//!
//! Run it with `cargo run -p vnuma --example openvmm`.

use std::error::Error;
use std::sync::Arc;

use vnuma::backend::{AllocOptions, BackendPlan, Defaults, HostInfo, HostMemoryBackend};
use vnuma::options::{BackendKind, MemoryBackendOptions};
use vnuma::ranges::Range;
use vnuma::tables::info::NumaInfo;
use vnuma::tables::slit::Slit;
use vnuma::topology::cpu::CpuTopology;
use vnuma::topology::machine::{MachineModel, RamLayout};
use vnuma::topology::{Distances, MemoryZone, NodeConfig};

const MIB: u64 = 1 << 20;

// ---- The VMM's own configuration (shaped like OpenVMM's) ----

/// One `--numa` node.
struct NumaNodeConfig {
    /// The guest node id (OpenVMM numbers nodes by position; ids may be
    /// sparse here to show that the guest sees them as written).
    id: u32,
    /// Its memory, in pieces laid out one after another.
    sizes: Vec<u64>,
    /// Its virtual processors.
    vps: Vec<u32>,
}

/// One `--numa-distance SRC:DST:DIST`.
struct NumaDistance {
    src: u32,
    dst: u32,
    distance: u8,
}

struct VmConfig {
    processors: u32,
    sockets: u32,
    /// MMIO gaps the layout skips.
    mmio_gaps: Vec<Range>,
    nodes: Vec<NumaNodeConfig>,
    distances: Vec<NumaDistance>,
}

fn vmm_config() -> Result<VmConfig, Box<dyn Error>> {
    Ok(VmConfig {
        processors: 4,
        sockets: 2,
        mmio_gaps: vec![
            Range::new(24 * MIB, 32 * MIB)?,
            Range::new(64 * MIB, 80 * MIB)?,
        ],
        nodes: vec![
            NumaNodeConfig {
                id: 0,
                sizes: vec![16 * MIB, 16 * MIB],
                vps: vec![0, 1],
            },
            NumaNodeConfig {
                id: 2,
                sizes: vec![8 * MIB, 24 * MIB],
                vps: vec![2, 3],
            },
        ],
        // Explicit, and not made symmetric for you.
        distances: vec![
            NumaDistance {
                src: 0,
                dst: 2,
                distance: 21,
            },
            NumaDistance {
                src: 2,
                dst: 0,
                distance: 21,
            },
        ],
    })
}

// ---- VMM config → vnuma ----

fn to_vnuma(cfg: &VmConfig) -> vnuma::topology::NumaConfig {
    let board = MachineModel::generic("openvmm-like", 64)
        .with_ram_layout(RamLayout::around_gaps(0, &cfg.mmio_gaps));
    let cpus = CpuTopology::new(cfg.processors).with_sockets(cfg.sockets);
    let mut config = vnuma::topology::NumaConfig::new(board, cpus);
    for n in &cfg.nodes {
        let mut node = NodeConfig::new(n.id).cpus(n.vps.iter().copied());
        for &size in &n.sizes {
            node = node.zone(MemoryZone::new(size));
        }
        config = config.node(node);
    }
    let mut distances = Distances::complete();
    for d in &cfg.distances {
        distances = distances.set(d.src, d.dst, d.distance);
    }
    config.distances(distances)
}

fn main() -> Result<(), Box<dyn Error>> {
    let cfg = vmm_config()?;
    let vm = vnuma::Vm::from_numa_config(&to_vnuma(&cfg))?;
    let t = vm.topology();
    let layout = vm.layout();

    for node in t.nodes() {
        println!(
            "node {}: {} MiB, vps {:?}",
            node.id,
            node.mem >> 20,
            t.node_cpus(node.id).collect::<Vec<_>>()
        );
        for r in layout.ranges_of(node.id) {
            println!("  {:#010x}-{:#010x}", r.start(), r.last());
        }
    }
    let zones = vm.zone_ranges();
    for z in &zones {
        let ranges: Vec<String> = z
            .ranges
            .iter()
            .map(|r| format!("{:#x}-{:#x}", r.start(), r.last()))
            .collect();
        println!(
            "node {} zone {}: {} MiB at {}",
            z.node,
            z.index,
            z.size >> 20,
            ranges.join(", ")
        );
    }

    // Node 0: [0, 24M) and, past the first gap, [32M, 40M); node 2: the
    // rest up to the second gap and [80M, 88M) after it.
    let at = |gpa: u64| layout.node_of(gpa);
    assert_eq!(at(0), Some(0));
    assert_eq!(at(24 * MIB - 1), Some(0));
    assert_eq!(at(24 * MIB), None); // first MMIO gap
    assert_eq!(at(32 * MIB), Some(0));
    assert_eq!(at(40 * MIB), Some(2));
    assert_eq!(at(64 * MIB), None); // second MMIO gap
    assert_eq!(at(88 * MIB - 1), Some(2));
    assert_eq!(at(88 * MIB), None);
    assert_eq!(layout.node_ids(), [0, 2]);
    let per_zone: Vec<(u32, usize)> = zones.iter().map(|z| (z.node, z.ranges.len())).collect();
    assert_eq!(per_zone, [(0, 1), (0, 2), (2, 1), (2, 2)]);

    // One host mapping per zone (no preallocation here; a zone that should
    // be would set `prealloc` on its backend).
    let host = HostInfo::probe();
    let mut mappings: Vec<((u32, usize), Arc<HostMemoryBackend>)> = Vec::new();
    for z in &zones {
        let opts = MemoryBackendOptions::new(
            format!("node{}.{}", z.node, z.index),
            BackendKind::Ram,
            z.size,
        );
        let plan = BackendPlan::new(&opts, &Defaults::default(), &host)?;
        let (mem, warnings) = HostMemoryBackend::allocate(&plan, AllocOptions::new())?;
        for w in warnings {
            println!("note: {w}");
        }
        assert_eq!(mem.len() as u64, z.size);
        mappings.push(((z.node, z.index), Arc::new(mem)));
    }

    // The segments to register: each says which zone's mapping, at which
    // offset, backs which guest range.
    let segments = vm.segments();
    for s in &segments {
        let key = (s.node.ok_or("NUMA is on")?, s.zone.ok_or("NUMA is on")?);
        let (_, mem) = mappings
            .iter()
            .find(|(k, _)| *k == key)
            .ok_or("zone not mapped")?;
        println!(
            "map node {} zone {}: host {:p}+{:#x} at guest {:#x}, {} MiB",
            key.0,
            key.1,
            mem.as_ptr(),
            s.zone_offset,
            s.guest_address,
            s.len >> 20
        );
        assert!(s.zone_offset + s.len <= mem.len() as u64);
        // Touch the segment's first byte through the mapping; the guest
        // sees it at `guest_address`.
        mem.write_at(s.zone_offset, &[key.0 as u8 + 1])?;
    }
    assert_eq!(segments.len(), 6);
    // Each zone's segments tile its mapping.
    for ((node, zone), mem) in &mappings {
        let covered: u64 = segments
            .iter()
            .filter(|s| s.node == Some(*node) && s.zone == Some(*zone))
            .map(|s| s.len)
            .sum();
        assert_eq!(covered, mem.len() as u64);
    }

    // What the guest reads: SRAT proximity domains are the node ids.
    let tables = vm.acpi_tables()?.ok_or("NUMA is on")?;
    // The SLIT is indexed by proximity domain: ids 0..=2, domain 1 is no
    // node (unreachable from the others).
    let slit_bytes = tables.slit.as_deref().ok_or("distances were given")?;
    let (_, slit) = Slit::parse(slit_bytes)?;
    println!(
        "SRAT: {} bytes, SLIT: {} bytes ({} localities)",
        tables.srat.len(),
        slit_bytes.len(),
        slit.count
    );
    assert_eq!(slit.count, 3);
    let info = NumaInfo::from_tables(&tables.srat, Some(slit_bytes), None)?;
    for (gpa, node) in [(0, 0), (33 * MIB, 0), (40 * MIB, 2), (87 * MIB, 2)] {
        assert_eq!(info.node_of_address(gpa), Some(node));
    }
    assert_eq!(info.node_of_address(70 * MIB), None);
    assert_eq!(info.node_of_cpu(3), Some(2));
    assert_eq!(info.boot_memory(2), 32 * MIB);
    assert_eq!(info.distance(0, 2), Some(21));
    assert_eq!(info.distance(2, 0), Some(21));
    assert_eq!(info.distance(1, 1), Some(10));
    assert_eq!(info.distance(0, 1), Some(255));
    println!("ok");
    Ok(())
}
