//! Guest NUMA for a VMM whose configuration looks like cloud-hypervisor's
//! (`--numa guest_numa_id=..,cpus=..,distances=..,memory_zones=..` and
//! `--memory-zone id=..,size=..,prefault=..,host_numa_node=..`, or the
//! same as JSON: `NumaConfig` and `MemoryZoneConfig`).
//!
//! It shows the whole path without any QEMU syntax:
//!
//! 1. the VMM's own config structs → [`vnuma::topology::NumaConfig`]
//!    (two nodes with one memory zone each, vCPUs 0-3 and 4-7, distances
//!    with the missing ones filled with 20 as cloud-hypervisor does, and a
//!    memory-less, CPU-less node holding a PCI device);
//! 2. resolution on a board whose RAM runs around an MMIO gap (placed low,
//!    at [96 MiB, 128 MiB), so that a small zone crosses it);
//! 3. one host mapping per zone, preallocated (`prefault`) and bound to a
//!    host node where the host allows it — otherwise a note is printed and
//!    the example carries on;
//! 4. the zones' mappings handed to vm-memory as cloud-hypervisor's own
//!    guest memory type, `GuestMemoryMmap<AtomicBitmap>`, placed by
//!    `Vm::segments` with each region's node beside it;
//! 5. the SRAT (with a Generic Initiator entry for the GPU's node) and
//!    SLIT bytes and a device tree, checked against what the guest must
//!    see.
//!
//! Run it with `cargo run -p vnuma --example cloud_hypervisor`.

use std::error::Error;
use std::sync::Arc;

use vm_memory::bitmap::{AtomicBitmap, Bitmap};
use vm_memory::{Bytes, GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};

use vnuma::backend::{
    AllocOptions, BackendPlan, Defaults, ErrorKind as BackendErrorKind, HostInfo,
    HostMemoryBackend, NumaGuestMemory,
};
use vnuma::options::{BackendKind, HostMemPolicy, IdRange, MemoryBackendOptions};
use vnuma::ranges::Range;
use vnuma::tables::info::NumaInfo;
use vnuma::tables::srat::{DeviceHandle, SratEntry};
use vnuma::topology::cpu::CpuTopology;
use vnuma::topology::machine::{MachineModel, RamLayout};
use vnuma::topology::{Distances, HostMemory, MemoryZone, NodeConfig};

const MIB: u64 = 1 << 20;

// ---- The VMM's own configuration (shaped like cloud-hypervisor's) ----

/// `--memory-zone`.
#[derive(Clone, Debug)]
struct MemoryZoneConfig {
    id: String,
    size: u64,
    prefault: bool,
    host_numa_node: Option<u32>,
}

/// One entry of `distances=[dest@dist,...]`.
#[derive(Clone, Copy, Debug)]
struct NumaDistance {
    destination: u32,
    distance: u8,
}

/// `--numa`.
#[derive(Clone, Debug, Default)]
struct NumaConfig {
    guest_numa_id: u32,
    cpus: Option<Vec<u32>>,
    distances: Option<Vec<NumaDistance>>,
    memory_zones: Option<Vec<String>>,
    /// PCI segments on the node: the VMM writes their `_PXM` in its DSDT;
    /// vnuma has nothing to do with them.
    pci_segments: Option<Vec<u16>>,
    /// A device (PCI address) that makes the node a generic initiator.
    device_id: Option<String>,
}

struct VmConfig {
    vcpus: u32,
    sockets: u32,
    zones: Vec<MemoryZoneConfig>,
    numa: Vec<NumaConfig>,
}

fn vmm_config() -> VmConfig {
    let zone = |id: &str, size, host_numa_node| MemoryZoneConfig {
        id: id.into(),
        size,
        prefault: true,
        host_numa_node,
    };
    VmConfig {
        vcpus: 8,
        sockets: 2,
        zones: vec![
            zone("mem0", 128 * MIB, Some(0)),
            zone("mem1", 64 * MIB, None),
        ],
        numa: vec![
            NumaConfig {
                guest_numa_id: 0,
                cpus: Some((0..4).collect()),
                distances: Some(vec![NumaDistance {
                    destination: 1,
                    distance: 15,
                }]),
                memory_zones: Some(vec!["mem0".into()]),
                pci_segments: Some(vec![0]),
                ..NumaConfig::default()
            },
            NumaConfig {
                guest_numa_id: 1,
                cpus: Some((4..8).collect()),
                distances: Some(vec![NumaDistance {
                    destination: 0,
                    distance: 15,
                }]),
                memory_zones: Some(vec!["mem1".into()]),
                ..NumaConfig::default()
            },
            // A GPU's node: no CPUs, no memory; only 2 → 0 is given.
            NumaConfig {
                guest_numa_id: 2,
                distances: Some(vec![NumaDistance {
                    destination: 0,
                    distance: 25,
                }]),
                device_id: Some("0000:00:04.0".into()),
                ..NumaConfig::default()
            },
        ],
    }
}

// ---- VMM config → vnuma ----

/// The board: RAM from 0 around a (scaled-down) 32-bit MMIO hole.
fn board() -> Result<MachineModel, Box<dyn Error>> {
    let gap = Range::new(96 * MIB, 128 * MIB)?;
    Ok(MachineModel::generic("ch-like", 32).with_ram_layout(RamLayout::around_gaps(0, &[gap])))
}

/// The backend of a zone. A host node the host cannot bind to is dropped
/// with a note rather than refused (planning would refuse it).
fn backend_of(zone: &MemoryZoneConfig, host: &HostInfo) -> MemoryBackendOptions {
    let mut b = MemoryBackendOptions::new(zone.id.clone(), BackendKind::Ram, zone.size);
    b.prealloc = Some(zone.prefault);
    if let Some(n) = zone.host_numa_node {
        let usable = u16::try_from(n).ok().filter(|&n| {
            host.node(n).is_some_and(|h| h.has_memory)
                && host.mems_allowed.as_ref().is_none_or(|a| a.contains(&n))
        });
        match usable {
            Some(n) => {
                b.host_nodes = vec![IdRange::new(n, n)];
                b.policy = Some(HostMemPolicy::Bind);
            }
            None => println!(
                "note: host node {n} is not usable here; zone {} stays unbound",
                zone.id
            ),
        }
    }
    b
}

fn to_vnuma(
    cfg: &VmConfig,
    host: &HostInfo,
) -> Result<vnuma::topology::NumaConfig, Box<dyn Error>> {
    let mut backends = HostMemory::default();
    for z in &cfg.zones {
        backends = backends.backend(backend_of(z, host));
    }
    let cpus = CpuTopology::new(cfg.vcpus).with_sockets(cfg.sockets);
    // cloud-hypervisor: a missing distance is the reverse one if given,
    // else 20.
    let mut distances = Distances::fill(20);
    let mut config = vnuma::topology::NumaConfig::new(board()?, cpus).host(backends);
    for n in &cfg.numa {
        let mut node = NodeConfig::new(n.guest_numa_id).cpus(n.cpus.iter().flatten().copied());
        for id in n.memory_zones.iter().flatten() {
            let zone = cfg
                .zones
                .iter()
                .find(|z| &z.id == id)
                .ok_or_else(|| format!("Unknown memory zone '{id}'"))?;
            node = node.zone(MemoryZone::new(zone.size).backend(id.clone()));
        }
        if let Some(device) = &n.device_id {
            node = node.device(device.clone());
        }
        for d in n.distances.iter().flatten() {
            distances = distances.set(n.guest_numa_id, d.destination, d.distance);
        }
        config = config.node(node);
    }
    Ok(config.distances(distances))
}

// ---- Host memory, one mapping per zone ----

/// Allocate a zone's backend; where preallocation or binding is not
/// possible on this host, say so and allocate it without.
fn allocate_zone(
    mut opts: MemoryBackendOptions,
    defaults: &Defaults,
    host: &HostInfo,
) -> Result<HostMemoryBackend, Box<dyn Error>> {
    loop {
        let plan = BackendPlan::new(&opts, defaults, host)?;
        let alloc = AllocOptions::new().best_effort_bind(true);
        match HostMemoryBackend::allocate(&plan, alloc) {
            Ok((b, warnings)) => {
                for w in warnings {
                    println!("note: {w}");
                }
                return Ok(b);
            }
            Err(e)
                if matches!(e.kind(), BackendErrorKind::Prealloc { .. })
                    && opts.prealloc == Some(true) =>
            {
                println!("note: {e}; zone {} is not preallocated", opts.id);
                opts.prealloc = Some(false);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    BackendErrorKind::Bind { .. } | BackendErrorKind::HostNode { .. }
                ) && !opts.host_nodes.is_empty() =>
            {
                println!("note: {e}; zone {} is not bound", opts.id);
                opts.host_nodes.clear();
                opts.policy = None;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let host = HostInfo::probe();
    let cfg = vmm_config();
    let config = to_vnuma(&cfg, &host)?;
    let vm = vnuma::Vm::from_numa_config(&config)?;
    let t = vm.topology();
    let layout = vm.layout();

    println!("guest-physical memory:");
    for (range, owner) in layout.ranges() {
        println!(
            "  node {}  {:#011x}-{:#011x}  {} MiB",
            owner.node(),
            range.start(),
            range.last(),
            range.size() >> 20
        );
    }
    // mem0 (128 MiB) crosses the gap at [96 MiB, 128 MiB).
    assert_eq!(layout.node_of(96 * MIB - 1), Some(0));
    assert_eq!(layout.node_of(96 * MIB), None);
    assert_eq!(layout.node_of(128 * MIB), Some(0));
    assert_eq!(layout.node_of(160 * MIB), Some(1));
    assert_eq!(layout.node_of(224 * MIB), None);
    assert_eq!(t.node(2).map(|n| (n.mem, n.devices.len())), Some((0, 1)));
    assert_eq!(t.node_cpus(1).collect::<Vec<_>>(), [4, 5, 6, 7]);

    // One host mapping per zone, then the guest memory cloud-hypervisor
    // uses, from `Vm::segments` (zone, node, offset in the zone's
    // mapping, guest address, length).
    let defaults = Defaults {
        prealloc_threads: cfg.vcpus,
        ..Defaults::default()
    };
    let mut mapped: Vec<(String, Arc<HostMemoryBackend>)> = Vec::new();
    for zone in vm.zone_ranges() {
        let id = zone.backend.clone().ok_or("zone without a backend")?;
        let opts = t
            .backends()
            .iter()
            .find(|b| b.id == id)
            .ok_or("unknown backend")?
            .clone();
        let b = allocate_zone(opts, &defaults, &host)?;
        println!(
            "zone {id}: node {}, {} MiB at host {:p}, host nodes {:?}, preallocated: {}",
            zone.node,
            b.len() >> 20,
            b.as_ptr(),
            b.plan().host_nodes(),
            b.is_preallocated(),
        );
        assert_eq!(b.len() as u64, zone.size);
        mapped.push((id, Arc::new(b)));
    }
    let segments = vm.segments();
    let mut pieces = Vec::new();
    for s in &segments {
        let id = s.backend.as_deref().ok_or("segment without a backend")?;
        let (_, b) = mapped
            .iter()
            .find(|(z, _)| z == id)
            .ok_or("zone not mapped")?;
        pieces.push((b, s.backend_segment()));
    }
    let numa = NumaGuestMemory::<AtomicBitmap>::from_segments(pieces)?;
    for r in numa.regions() {
        println!(
            "  guest {:#011x}+{:#x}: node {:?}, {} at offset {:#x}",
            r.guest_address, r.len, r.node, r.backend, r.offset
        );
        assert_eq!(layout.node_of(r.guest_address), r.node);
    }
    assert_eq!(numa.regions().len(), 3, "mem0 is split by the gap");
    assert_eq!(numa.node_of(GuestAddress(128 * MIB)), Some(0));
    // The type cloud-hypervisor's memory manager holds; the mappings stay
    // alive for the process's lifetime (or keep the guard from
    // `into_parts` next to it).
    let guest_memory: GuestMemoryMmap<AtomicBitmap> = numa.into_static();
    guest_memory.write_slice(b"hello node 0", GuestAddress(130 * MIB))?;
    let mut back = [0u8; 12];
    // [128M, 160M) is mem0 past the gap: offset 96M + 2M of its mapping.
    mapped[0].1.read_at(98 * MIB, &mut back)?;
    assert_eq!(&back, b"hello node 0");
    let region = guest_memory
        .find_region(GuestAddress(130 * MIB))
        .ok_or("region")?;
    assert!(
        region.bitmap().dirty_at(2 << 20),
        "the VMM's dirty log sees it"
    );

    // What the guest reads.
    let tables = vm.acpi_tables()?.ok_or("NUMA is on")?;
    let slit = tables.slit.as_deref().ok_or("distances were given")?;
    println!(
        "SRAT: {} bytes, SLIT: {} bytes",
        tables.srat.len(),
        slit.len()
    );
    let info = NumaInfo::from_tables(&tables.srat, Some(slit), None)?;
    // SRAT memory entries are exactly the layout's ranges.
    let mut srat_memory: Vec<(u64, u64, u32)> = info
        .memory
        .iter()
        .map(|m| (m.base, m.length, m.proximity))
        .collect();
    srat_memory.sort_unstable();
    let expected: Vec<(u64, u64, u32)> = layout
        .ranges()
        .map(|(r, o)| (r.start(), r.size() as u64, o.node()))
        .collect();
    assert_eq!(srat_memory, expected);
    for cpu in 0..8 {
        assert_eq!(info.node_of_cpu(cpu), Some(cpu / 4));
    }
    // SLIT: 3×3; given 15 both ways, 2 → 0 given so 0 → 2 is the same,
    // 1 ↔ 2 filled with 20.
    let slit = info.slit.as_ref().ok_or("SLIT")?;
    assert_eq!(slit.count, 3);
    assert_eq!(slit.matrix, [10, 15, 25, 15, 10, 20, 25, 20, 10]);
    vnuma::tables::info::verify(t, layout, &vm.table_options(), &info)?;
    // The GPU's node is in the SRAT as a Generic Initiator (ACPI 6.3, so
    // SRAT revision 3), with the device's PCI address as its handle.
    let generic_initiators: Vec<_> = info
        .srat
        .entries
        .iter()
        .filter_map(|e| match e {
            SratEntry::GenericInitiator(g) => Some((g.proximity, g.device)),
            _ => None,
        })
        .collect();
    assert_eq!(
        generic_initiators,
        [(2, DeviceHandle::parse("0000:00:04.0").ok_or("PCI address")?)]
    );
    assert_eq!(tables.srat[8], vnuma::tables::srat::REVISION_ACPI_6_3);
    println!("SRAT: Generic Initiator for node 2 (PCI 0000:00:04.0)");

    let dtb = vm.dtb()?;
    assert_eq!(&dtb[..4], &[0xd0, 0x0d, 0xfe, 0xed]);
    println!("device tree: {} bytes", dtb.len());
    if cfg.numa.iter().any(|n| n.pci_segments.is_some()) {
        println!("note: PCI segments' _PXM go in the VMM's own DSDT");
    }
    println!("ok");
    Ok(())
}
