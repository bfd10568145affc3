//! The `description` target: a typed [`NumaConfig`] drawn directly (no
//! QEMU syntax), resolved through the facade, laid out, turned into ACPI
//! tables and a device tree, and rendered as `info numa` and the JSON
//! report, with the invariants of each step:
//!
//! * the description survives: every node with its id and the sum of its
//!   zones, every listed CPU on its node, every given distance (and a
//!   missing one mirrored or filled by the policy), a zone at a fixed
//!   address placed there;
//! * the topology, the layout and the memory devices hold
//!   [`pipeline::check_topology`] and [`pipeline::check_devices`];
//! * errors name the field at fault ([`vnuma_topology::Error::path`]);
//! * the description round-trips through serde;
//! * the tables, built with drawn [`TableOptions`], parse back and agree
//!   with the topology ([`vnuma::tables::info::verify`]), each table's
//!   body re-encodes to the same bytes, and the parsers survive the
//!   emitted bytes with drawn bytes changed;
//! * the device tree is a well-formed blob.

use arbitrary::Arbitrary;
use vnuma::tables::acpi::{self, Oem};
use vnuma::tables::info::NumaInfo;
use vnuma::tables::{self, hmat, slit, srat, MemoryStyle, ProcessorEntries, TableOptions};
use vnuma_options::{
    HmatCacheAssociativity, HmatCacheWritePolicy, HmatLbDataType, HmatLbMemoryHierarchy,
    NumaHmatCacheOptions,
};
use vnuma_ranges::Range;
use vnuma_topology::config::{Distances, MemoryZone, MissingDistance, NodeConfig, NumaConfig};
use vnuma_topology::cpu::CpuTopology;
use vnuma_topology::layout::Owner;
use vnuma_topology::machine::{self, Chipset, MachineModel, RamLayout};
use vnuma_topology::{Hmat, LbTable, MemoryDeviceConfig, MemoryDeviceKind};

use crate::pipeline;

const MIB: u64 = 1 << 20;

/// The board.
#[derive(Arbitrary, Clone, Debug)]
pub enum Board {
    /// A VMM's own board.
    Generic {
        /// Most CPUs.
        max_cpus: u8,
        /// 0: flat, 1: around gaps, 2: explicit ranges, 3: the default.
        layout: u8,
        /// RAM base in MiB.
        base_mib: u16,
        /// Gaps or RAM ranges: (start, length) in MiB.
        ranges: Vec<(u16, u16)>,
        /// Most nodes (`None`: the default).
        max_nodes: Option<u8>,
    },
    /// One of QEMU's x86 machine types.
    X86 {
        /// q35 rather than i440fx.
        q35: bool,
        /// Index into the chipset's versions.
        version: u8,
    },
}

/// One memory zone.
#[derive(Arbitrary, Clone, Debug)]
pub struct Zone {
    /// Size in MiB (0 is refused).
    mib: u16,
    /// A fixed address in MiB.
    at_mib: Option<u16>,
}

/// One node.
#[derive(Arbitrary, Clone, Debug)]
pub struct Node {
    id: u8,
    cpus: Vec<u8>,
    zones: Vec<Zone>,
    initiator: Option<u8>,
    /// Generic initiators: 0 a valid PCI address, other values junk.
    devices: Vec<u8>,
}

/// One HMAT latency/bandwidth table.
#[derive(Arbitrary, Clone, Debug)]
pub struct Lb {
    hierarchy: u8,
    data_type: u8,
    base: u8,
    entries: Vec<(u8, u8, u16)>,
}

/// One HMAT cache.
#[derive(Arbitrary, Clone, Debug)]
pub struct Cache {
    node: u8,
    kib: u16,
    level: u8,
    associativity: u8,
    policy: u8,
    line: u8,
}

/// One memory device.
#[derive(Arbitrary, Clone, Debug)]
pub struct Device {
    kind: u8,
    size_2m: u8,
    node: Option<u8>,
    /// A fixed address in 256 MiB steps from 4 GiB.
    addr_256m: Option<u8>,
    /// label, requested or block size.
    extra: u8,
}

/// A whole description, with the table options and the byte changes to
/// try on the emitted tables.
#[derive(Arbitrary, Clone, Debug)]
pub struct Input {
    board: Board,
    cpus: u8,
    hotplug_cpus: u8,
    sockets: Option<u8>,
    ram_mib: Option<u16>,
    /// (extra GiB above RAM, slots).
    hotplug: Option<(u8, u8)>,
    below_4g_mib: Option<u16>,
    nodes: Vec<Node>,
    /// 0: QEMU, 1: error, else fill with the value.
    missing: u8,
    distances: Vec<(u8, u8, u8)>,
    lb: Vec<Lb>,
    caches: Vec<Cache>,
    hmat: bool,
    devices: Vec<Device>,
    acpi: bool,
    nvdimm: bool,
    memory_style: u8,
    processors: u8,
    hmat_skip_memoryless: bool,
    srat_revision: Option<u8>,
    generic_initiators: bool,
    /// (offset, xor) changes to the emitted tables.
    flips: Vec<(u16, u8)>,
}

/// One run-time DIMM operation on the layout ([`check_plugs`]), read from
/// a drawn `(offset, xor)` pair (the table changes double as these, so
/// that inputs drawn before keep their meaning).
#[derive(Clone, Copy, Debug)]
struct Plug {
    /// Unplug rather than plug.
    unplug: bool,
    /// The address: 2 MiB steps from the device-memory window's start
    /// (from 4 GiB without one); an odd value adds 4 KiB.
    offset_2m: u16,
    /// The size in 2 MiB steps (0 is an empty range).
    size_2m: u8,
    /// The node (`None`: node 0).
    node: Option<u8>,
}

impl Plug {
    fn from_pair((offset, x): (u16, u8)) -> Plug {
        Plug {
            unplug: x & 1 == 1,
            offset_2m: offset % 2048,
            size_2m: (x >> 1) % 16,
            node: (x & 0x80 != 0).then_some((offset >> 11) as u8),
        }
    }
}

fn board(b: &Board) -> MachineModel {
    match b {
        Board::Generic {
            max_cpus,
            layout,
            base_mib,
            ranges,
            max_nodes,
        } => {
            let ranges: Vec<Range> = ranges
                .iter()
                .take(6)
                .filter_map(|&(s, l)| {
                    Range::from_start_len(u64::from(s) * MIB, u64::from(l) * MIB).ok()
                })
                .collect();
            let base = u64::from(*base_mib) * MIB;
            let mut m = MachineModel::generic("fuzz", u32::from(*max_cpus));
            m = match layout % 4 {
                0 => m.with_ram_layout(RamLayout::Flat { base }),
                1 => m.with_ram_layout(RamLayout::around_gaps(base, &ranges)),
                2 => m.with_ram_layout(RamLayout::explicit(&ranges)),
                _ => m,
            };
            match max_nodes {
                Some(n) => m.with_max_nodes(u32::from(*n)),
                None => m,
            }
        }
        Board::X86 { q35, version } => {
            let chipset = if *q35 { Chipset::Q35 } else { Chipset::I440fx };
            let versions = machine::versions(chipset);
            let v = versions[usize::from(*version) % versions.len()];
            MachineModel::x86(chipset, v)
        }
    }
}

fn pick<T: Copy>(all: &[T], i: u8) -> T {
    all[usize::from(i) % all.len()]
}

impl Input {
    /// The description this input stands for.
    pub fn config(&self) -> NumaConfig {
        let cpus = u32::from(self.cpus);
        let mut cpu = CpuTopology::with_hotplug(cpus, cpus + u32::from(self.hotplug_cpus % 16));
        if let Some(s) = self.sockets {
            cpu = cpu.with_sockets(u32::from(s % 9));
        }
        let mut c = NumaConfig::new(board(&self.board), cpu);
        if let Some(m) = self.ram_mib {
            c = c.ram_size(u64::from(m) * MIB);
        }
        if let Some((gib, slots)) = self.hotplug {
            let ram = c.ram.size.unwrap_or(0);
            c = c.hotplug(ram + (u64::from(gib % 32) << 30), u64::from(slots % 9));
        }
        c.ram.max_below_4g = self.below_4g_mib.map(|m| u64::from(m) * MIB);
        for n in self.nodes.iter().take(12) {
            let mut node = NodeConfig::new(u32::from(n.id % 16))
                .cpus(n.cpus.iter().take(16).map(|&i| u32::from(i)));
            for z in n.zones.iter().take(4) {
                let mut zone = MemoryZone::new(u64::from(z.mib) * MIB);
                if let Some(a) = z.at_mib {
                    zone = zone.at(u64::from(a) * MIB);
                }
                node = node.zone(zone);
            }
            if let Some(i) = n.initiator {
                node = node.initiator(u32::from(i % 16));
            }
            for &d in n.devices.iter().take(2) {
                node = node.device(match d % 4 {
                    0 => format!("0000:00:{:02x}.0", d % 32),
                    1 => "acpi0".to_string(),
                    2 => format!("{d}"),
                    _ => String::new(),
                });
            }
            c = c.node(node);
        }
        let mut d = match self.missing {
            0 => Distances::qemu(),
            1 => Distances::complete(),
            v => Distances::fill(v),
        };
        for &(a, b, v) in self.distances.iter().take(32) {
            d = if v % 7 == 0 {
                d.set_symmetric(u32::from(a % 16), u32::from(b % 16), v)
            } else {
                d.set(u32::from(a % 16), u32::from(b % 16), v)
            };
        }
        c = c.distances(d);
        if self.hmat {
            let mut h = Hmat::default();
            for lb in self.lb.iter().take(4) {
                let mut t = LbTable::default();
                t.hierarchy = Some(pick(HmatLbMemoryHierarchy::ALL, lb.hierarchy));
                t.data_type = Some(pick(HmatLbDataType::ALL, lb.data_type));
                // The base unit is the resolution's to compute; a
                // bandwidth is mostly whole MiB/s (else refused), as QEMU
                // requires.
                t.base = u64::from(lb.base);
                let dt = t.data_type;
                let unit = if lb.base % 8 != 0 && dt.is_some_and(|d| !d.is_latency()) {
                    MIB
                } else {
                    1
                };
                t.entries = lb
                    .entries
                    .iter()
                    .take(16)
                    .map(|&(i, t, v)| (u16::from(i % 16), u16::from(t % 16), u64::from(v) * unit))
                    .collect();
                h.lb.push(t);
            }
            for k in self.caches.iter().take(4) {
                h.caches.push(NumaHmatCacheOptions {
                    node_id: u32::from(k.node % 16),
                    size: u64::from(k.kib) << 10,
                    level: k.level % 5,
                    associativity: pick(HmatCacheAssociativity::ALL, k.associativity),
                    policy: pick(HmatCacheWritePolicy::ALL, k.policy),
                    line: u16::from(k.line) * 8,
                });
            }
            c = c.hmat(h);
        }
        for (i, dev) in self.devices.iter().take(4).enumerate() {
            let size = u64::from(dev.size_2m % 32).max(1) * 2 * MIB;
            let kind = match dev.kind % 4 {
                0 => MemoryDeviceKind::Dimm,
                1 => MemoryDeviceKind::Nvdimm {
                    label_size: u64::from(dev.extra % 2) << 17,
                },
                2 => MemoryDeviceKind::VirtioMem {
                    requested_size: u64::from(dev.extra % 4) * 2 * MIB,
                    block_size: (2 * MIB) << (dev.extra % 3),
                },
                _ => MemoryDeviceKind::VirtioPmem,
            };
            let mut m = MemoryDeviceConfig::new(kind, format!("b{i}"), size).id(format!("d{i}"));
            if let Some(n) = dev.node {
                m = m.node(u32::from(n % 16));
            }
            if let Some(a) = dev.addr_256m {
                m = m.at((1 << 32) + u64::from(a % 32) * (256 * MIB));
            }
            c = c.device(m);
        }
        c.acpi = self.acpi;
        c.nvdimm = self.nvdimm;
        c
    }

    /// The table options this input draws.
    pub fn table_options(&self) -> TableOptions {
        let mut o = TableOptions::with_oem(Oem::with_ids("FUZZ", "VNUMA"))
            .with_memory(pick(
                &[MemoryStyle::Auto, MemoryStyle::Qemu72, MemoryStyle::Layout],
                self.memory_style,
            ))
            .with_processors(pick(
                &[
                    ProcessorEntries::Apic,
                    ProcessorEntries::Gicc,
                    ProcessorEntries::X2Apic,
                ],
                self.processors,
            ))
            .with_hmat_skip_memoryless(self.hmat_skip_memoryless)
            .with_generic_initiators(self.generic_initiators);
        if let Some(r) = self.srat_revision {
            o = o.with_srat_revision(r % 5);
        }
        o
    }
}

/// The description survives resolution.
fn check_kept(c: &NumaConfig, t: &vnuma_topology::Topology) {
    assert_eq!(t.nodes().len(), c.nodes.len());
    for n in &c.nodes {
        let node = t.node(n.id).expect("every described node is resolved");
        assert_eq!(node.mem, n.mem(), "node {}", n.id);
        for &cpu in &n.cpus {
            assert_eq!(t.cpus()[cpu as usize].node, Some(n.id), "CPU {cpu}");
        }
        for (z, zone) in n.memory.iter().enumerate() {
            let placed: u128 = t.zone_ranges(n.id, z).map(|r| r.size()).sum();
            // x86 boards leave [640 KiB, 1 MiB) out of the zone holding it.
            let hole = t.machine().x86.is_some()
                && t.zone_ranges(n.id, z).any(|r| r.last() == 640 * 1024 - 1);
            let want = u128::from(zone.size) - if hole { 384 * 1024 } else { 0 };
            assert_eq!(placed, want, "node {} zone {z}", n.id);
            if let Some(a) = zone.addr {
                assert_eq!(t.zone_ranges(n.id, z).next().map(|r| r.start()), Some(a));
            }
        }
    }
    if t.distances().is_some() {
        for (&(a, b), &v) in &c.distances.given {
            assert_eq!(t.distance(a, b), Some(v), "distance {a}->{b}");
        }
        if let MissingDistance::Fill(v) = c.distances.missing {
            for a in &c.nodes {
                for b in &c.nodes {
                    let (a, b) = (a.id, b.id);
                    if a != b
                        && !c.distances.given.contains_key(&(a, b))
                        && !c.distances.given.contains_key(&(b, a))
                    {
                        assert_eq!(t.distance(a, b), Some(v), "filled {a}->{b}");
                    }
                }
            }
        }
    }
}

/// Parse emitted tables back, re-encode their bodies, and parse them
/// again with `flips` applied (which must not panic).
fn check_tables(
    t: &vnuma_topology::Topology,
    vm: &vnuma::Vm,
    opts: &TableOptions,
    flips: &[(u16, u8)],
) {
    let built = match tables::build(t, vm.layout(), opts) {
        Ok(Some(b)) => b,
        Ok(None) => {
            assert!(!t.numa_enabled());
            return;
        }
        Err(e) => {
            // Only generic initiators with unusable device names, or
            // values the encoding cannot hold, are refused.
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let mut blob = Vec::new();
    for (sig, bytes) in built.iter() {
        assert_eq!(&bytes[..4], sig.as_bytes());
        assert!(acpi::checksum_valid(bytes), "{sig} checksum");
        let header = acpi::TableHeader::parse(bytes).expect("an emitted header parses");
        assert_eq!(header.length as usize, bytes.len());
        assert_eq!(header.oem, opts.oem);
        blob.extend_from_slice(bytes);
    }
    let info = NumaInfo::from_tables(&built.srat, built.slit.as_deref(), built.hmat.as_deref())
        .expect("emitted tables parse");
    // QEMU's memory walk, asked for explicitly, describes only QEMU's x86
    // RAM layout without zones at fixed addresses (the automatic style
    // picks the layout's otherwise).
    let fixed = t
        .nodes()
        .iter()
        .any(|n| n.zones.iter().any(|z| z.addr.is_some()));
    let x86 = matches!(t.machine().ram_layout, RamLayout::X86 { .. });
    let described = opts.memory != MemoryStyle::Qemu72 || (x86 && !fixed);
    if described {
        if let Err(e) = tables::info::verify(t, vm.layout(), opts, &info) {
            panic!("tables disagree with the topology: {e}; {opts:?}");
        }
    }
    let from_blob = NumaInfo::from_blob(&blob)
        .expect("the emitted blob parses")
        .expect("the blob has an SRAT");
    assert_eq!(from_blob.domains(), info.domains());
    for n in t.nodes() {
        if t.distances().is_some() {
            assert_eq!(info.distance(n.id, n.id), Some(10));
        }
        // Boot RAM only: SRAT gives the whole hotplug window to the last
        // node, whichever node a plugged device is on.
        let first = vm
            .layout()
            .ranges()
            .find(|&(_, o)| o == Owner::Boot(n.id))
            .filter(|_| described);
        if let Some((first, _)) = first {
            assert_eq!(info.node_of_address(first.start()), Some(n.id));
        }
    }
    let (_, s) = srat::Srat::parse(&built.srat).expect("the SRAT parses");
    assert_eq!(s.body(), built.srat[36..], "SRAT body");
    if let Some(bytes) = &built.slit {
        let (_, s) = slit::Slit::parse(bytes).expect("the SLIT parses");
        assert_eq!(s.to_bytes(&opts.oem).ok().as_ref(), Some(bytes), "SLIT");
    }
    if let Some(bytes) = &built.hmat {
        let (_, h) = hmat::Hmat::parse(bytes).expect("the HMAT parses");
        assert_eq!(h.body().ok().as_deref(), Some(&bytes[36..]), "HMAT body");
    }
    // Damaged tables: any answer but a panic.
    if !flips.is_empty() && !blob.is_empty() {
        let mut bad = blob;
        for &(at, x) in flips.iter().take(8) {
            let i = usize::from(at) % bad.len();
            bad[i] ^= x;
        }
        if flips[0].1 & 1 == 1 {
            acpi::fix_checksum(&mut bad[..built.srat.len()]);
        }
        let _ = NumaInfo::from_blob(&bad);
        for (_, table) in acpi::split_tables(&bad) {
            let _ = srat::Srat::parse(table);
            let _ = slit::Slit::parse(table);
            let _ = hmat::Hmat::parse(table);
        }
        let cut = usize::from(flips[0].0) % bad.len();
        let _ = srat::Srat::parse(&bad[..cut]);
        let _ = hmat::Hmat::parse(&bad[..cut]);
        // Each table damaged on its own (checksum fixed or not, cut
        // short), through its own parser; what parses re-encodes, and
        // its encoding parses again.
        for (sig, bytes) in built.iter() {
            let mut bad = bytes.to_vec();
            for &(at, x) in flips.iter().take(8) {
                let i = usize::from(at) % bad.len();
                bad[i] ^= x;
            }
            if flips[0].1 & 1 == 1 {
                acpi::fix_checksum(&mut bad);
            }
            let cut = usize::from(flips[0].0) % bad.len();
            for table in [&bad[..], &bad[..cut], &bytes[..cut]] {
                match sig {
                    srat::SIGNATURE => {
                        if let Ok((h, t)) = srat::Srat::parse(table) {
                            let again = t.to_bytes_with_revision(&h.oem, h.revision);
                            if let Ok(again) = again {
                                srat::Srat::parse(&again).expect("a re-encoded SRAT parses");
                            }
                        }
                    }
                    slit::SIGNATURE => {
                        if let Ok((h, t)) = slit::Slit::parse(table) {
                            if let Ok(again) = t.to_bytes(&h.oem) {
                                slit::Slit::parse(&again).expect("a re-encoded SLIT parses");
                            }
                        }
                    }
                    _ => {
                        if let Ok((h, t)) = hmat::Hmat::parse(table) {
                            if let Ok(again) = t.to_bytes(&h.oem) {
                                hmat::Hmat::parse(&again).expect("a re-encoded HMAT parses");
                            }
                            for s in &t.structures {
                                if let hmat::HmatStructure::Locality(l) = s {
                                    let _ = (l.is_latency(), l.hierarchy());
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The device-tree pieces: CPU `reg` values by scheme, memory nodes on
/// their node, and the CPU, memory and distance nodes written with scheme
/// `which`.
fn check_fdt(
    t: &vnuma_topology::Topology,
    layout: &vnuma_topology::layout::MemoryLayout,
    which: u8,
) {
    use vnuma::tables::fdt::{self, CpuReg, Mpidr};
    let scheme = pick(
        &[
            CpuReg::ArchId,
            CpuReg::Index,
            CpuReg::Mpidr(Mpidr::KVM),
            CpuReg::Mpidr(Mpidr::GICV2),
        ],
        which,
    );
    for cpu in t.cpus().iter().take(64) {
        let i = cpu.slot.index;
        assert_eq!(fdt::cpu_reg(t, i, CpuReg::Index), Some(u64::from(i)));
        let reg = fdt::cpu_reg(t, i, scheme);
        if let CpuReg::Mpidr(m) = scheme {
            assert_eq!(reg, Some(m.of(i)));
        }
    }
    for (base, size, node) in fdt::memory_ranges(layout) {
        assert!(size > 0);
        assert_eq!(layout.node_of(base), Some(node));
    }
    let mut w = vm_fdt::FdtWriter::new().expect("an FDT writer");
    let root = w.begin_node("").expect("the root node");
    let written = fdt::write_cpus_with(&mut w, t, scheme)
        .and_then(|()| fdt::write_memory(&mut w, t, layout))
        .and_then(|()| fdt::write_distance_map(&mut w, t));
    if written.is_ok() {
        w.end_node(root).expect("the root node ends");
        let blob = w.finish().expect("the FDT finishes");
        assert_eq!(blob.get(..4), Some(&[0xd0, 0x0d, 0xfe, 0xed][..]));
    }
}

/// The fuzz entry.
pub fn check(input: &Input) {
    let config = input.config();
    let json = serde_json::to_string(&config).expect("a description serializes");
    let back: NumaConfig = serde_json::from_str(&json).expect("its JSON reads back");
    assert_eq!(back, config, "serde round trip");
    let vm = match vnuma::Vm::from_numa_config(&config) {
        Ok(vm) => vm,
        Err(e) => {
            let text = e.to_string();
            assert!(!text.is_empty());
            if let vnuma::Error::Topology(e) = &e {
                let path = e.path().unwrap_or_else(|| panic!("{text}: no field named"));
                assert!(!path.is_empty());
            }
            return;
        }
    };
    let t = vm.topology();
    check_kept(&config, t);
    pipeline::check_topology(t, vm.layout(), &[]);
    // Boot RAM never lies in the device-memory window (a zone at a
    // fixed address above QEMU's formula moves the window; the
    // regression `fixed-zone-over-the-device-memory-window`).
    if let Some(w) = t.device_memory() {
        for (r, o) in vm.layout().ranges() {
            assert!(
                !matches!(o, Owner::Boot(_)) || !r.overlaps(&w),
                "boot RAM {r:?} in the device-memory window {w:?}"
            );
        }
    }
    pipeline::check_devices(t, vm.layout(), &[]);
    let info = vm.info_numa();
    assert!(
        info.starts_with(&format!("{} nodes\n", t.nodes().len())),
        "{info}"
    );
    serde_json::from_str::<serde::de::IgnoredAny>(&vm.report().to_json())
        .expect("the JSON report parses");
    let _ = vm.query_memdev();
    let _ = vm.query_memory_devices();
    let _ = vm.zone_ranges();
    let _ = vm.segments();
    if let Ok(dtb) = vm.dtb() {
        assert_eq!(
            dtb.get(..4),
            Some(&[0xd0, 0x0d, 0xfe, 0xed][..]),
            "FDT magic"
        );
    }
    check_fdt(t, vm.layout(), input.processors / 3);
    check_tables(t, &vm, &input.table_options(), &input.flips);
    let plugs: Vec<Plug> = input
        .flips
        .iter()
        .take(8)
        .map(|&f| Plug::from_pair(f))
        .collect();
    check_plugs(t, vm.layout(), &plugs);
}

/// Plug and unplug DIMMs on a copy of the layout and hold each answer to
/// a model: a plug succeeds exactly when its node exists, its range is
/// not empty, lies in the device-memory window and overlaps neither a
/// range of the layout nor a virtio-pmem device; an unplug succeeds
/// exactly when its range is a DIMM's. The node's plugged bytes and the
/// address lookup follow, and unplugging what was plugged gives back the
/// layout resolution made.
fn check_plugs(
    t: &vnuma_topology::Topology,
    layout: &vnuma_topology::layout::MemoryLayout,
    plugs: &[Plug],
) {
    if plugs.is_empty() {
        return;
    }
    let original = layout;
    let mut layout = layout.clone();
    let mut plugged: Vec<Range> = Vec::new();
    let mut pristine = true;
    let pmem: Vec<Range> = t
        .devices()
        .iter()
        .filter(|d| d.node.is_none())
        .map(|d| d.range)
        .collect();
    let virtio_mem: Vec<Range> = t
        .devices()
        .iter()
        .filter(|d| matches!(d.config.kind, MemoryDeviceKind::VirtioMem { .. }))
        .map(|d| d.range)
        .collect();
    let base = layout.device_memory().map_or(1 << 32, |w| w.start());
    for p in plugs {
        let addr = base + u64::from(p.offset_2m / 2) * 2 * MIB + u64::from(p.offset_2m % 2) * 4096;
        let size = u64::from(p.size_2m % 64) * 2 * MIB;
        let range = Range::from_start_len(addr, size).ok();
        if p.unplug {
            // A virtio-mem device's range is no DIMM: refused, the count
            // unchanged (the regression `unplug-of-a-virtio-mem-range`).
            let is_virtio_mem = virtio_mem.iter().any(|r| Some(*r) == range);
            let owner = layout.owner_of(addr);
            let expected = match (owner, range) {
                (Some((r, Owner::Dimm(n))), Some(range)) if r == range && !is_virtio_mem => Some(n),
                _ => None,
            };
            let before = expected.map(|n| layout.node_plugged(n));
            let got = layout.unplug_dimm(addr, size);
            assert_eq!(got.map(|d| d.node), expected, "unplug {addr:#x}+{size:#x}");
            if let (Some(n), Some(before)) = (expected, before) {
                assert_eq!(layout.node_plugged(n), before - size);
                assert_eq!(layout.node_of(addr), None);
                // A device resolution placed: the layout cannot come back.
                pristine &= plugged.iter().any(|r| Some(*r) == range);
                plugged.retain(|r| Some(*r) != range);
            }
            continue;
        }
        let node = p.node.map_or(0, |n| u32::from(n % 8));
        let window = layout.device_memory();
        let expected = layout.node_ids().contains(&node)
            && range.is_some_and(|r| {
                window.is_some_and(|w| w.intersection(&r) == Some(r))
                    && layout.ranges().all(|(q, _)| !q.overlaps(&r))
                    && pmem.iter().all(|q| !q.overlaps(&r))
            });
        let before = layout.node_plugged(node);
        let got = layout.plug_dimm(addr, size, p.node.map(|_| node));
        assert_eq!(
            got.is_ok(),
            expected,
            "plug {addr:#x}+{size:#x} on node {node}: {got:?}"
        );
        match got {
            Ok(d) => {
                assert_eq!(Some(d.range), range);
                assert_eq!(d.node, node);
                assert_eq!(layout.node_plugged(node), before + size);
                assert_eq!(layout.owner_of(addr), Some((d.range, Owner::Dimm(node))));
                plugged.push(d.range);
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                assert_eq!(layout.node_plugged(node), before);
            }
        }
    }
    for r in plugged.iter().rev() {
        let size = u64::try_from(r.size()).expect("a DIMM is smaller than 2^64");
        assert!(layout.unplug_dimm(r.start(), size).is_some(), "{r:?}");
    }
    if pristine {
        assert!(
            &layout == original,
            "plugging and unplugging changed the layout"
        );
    }
}
