//! Device-tree NUMA description (feature `fdt`): `numa-node-id` on CPU
//! and memory nodes and a `numa-distance-map-v1` distance map, as Linux's
//! `numa.txt` binding and QEMU's `virt` boards have them. Written with
//! rust-vmm's `vm-fdt`, without std.
//!
//! Three levels, from the most to the least control:
//!
//! * property writers for nodes the VMM opens itself (its `cpu@..` nodes
//!   with `compatible`, `enable-method`, phandles; its `memory@..` nodes):
//!   [`write_cpu_numa_node_id`], [`write_memory_numa_node_id`], with
//!   [`cpu_reg`] (the `reg` of a CPU under a [`CpuReg`] scheme, the arm64
//!   [`Mpidr`] packing included) and [`memory_ranges`] to name the nodes;
//! * node writers for the VMM's own [`FdtWriter`] inside its root node:
//!   [`write_cpus_with`]/[`write_cpus`], [`write_memory`],
//!   [`write_distance_map`];
//! * [`numa_dtb`], a whole (minimal) blob, for simple users.
//!
//! rust-vmm's `vm-fdt` (0.3) is a public dependency: [`FdtWriter`] is its
//! type, re-exported, and the caller's writer must be of the same version.

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

pub use vm_fdt::FdtWriter;
use vnuma_topology::layout::{MemoryLayout, Owner};
use vnuma_topology::Topology;

use crate::Error;

fn fdt_err(e: vm_fdt::Error) -> Error {
    Error::Fdt(e.to_string())
}

/// So that a VMM's own `FdtWriter` calls and vnuma's writers share `?`.
impl From<vm_fdt::Error> for Error {
    fn from(e: vm_fdt::Error) -> Error {
        fdt_err(e)
    }
}

/// The arm64 MPIDR affinity packing of a CPU index: Aff0 counts CPUs
/// within a cluster of `cluster_size`, Aff1 clusters, Aff2 groups of 256
/// clusters (bits 7:0, 15:8, 23:16).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mpidr {
    /// CPUs per Aff0 cluster.
    pub cluster_size: u32,
}

impl Mpidr {
    /// 16 CPUs per cluster: KVM's default vCPU MPIDR (what
    /// cloud-hypervisor writes) and QEMU `virt` with GICv3.
    pub const KVM: Mpidr = Mpidr { cluster_size: 16 };
    /// 8 CPUs per cluster: QEMU `virt` with GICv2.
    pub const GICV2: Mpidr = Mpidr { cluster_size: 8 };

    /// The affinity bits (Aff2:Aff1:Aff0) of CPU `index`.
    ///
    /// ```
    /// use vnuma_tables::fdt::Mpidr;
    /// assert_eq!(Mpidr::KVM.of(15), 0x0f);
    /// assert_eq!(Mpidr::KVM.of(17), 0x101); // past 16 vCPUs, index ≠ MPIDR
    /// assert_eq!(Mpidr::GICV2.of(17), 0x201);
    /// ```
    pub fn of(self, index: u32) -> u64 {
        let c = self.cluster_size.max(1);
        let aff0 = u64::from(index % c);
        let cluster = u64::from(index / c);
        aff0 | (cluster % 256) << 8 | (cluster / 256 % 256) << 16
    }
}

/// What a CPU node's `reg` (and unit address) is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum CpuReg {
    /// The CPU's arch id: the APIC id on x86, the CPU index elsewhere
    /// (one cell). What [`write_cpus`] writes.
    #[default]
    ArchId,
    /// The CPU index (one cell).
    Index,
    /// arm64: the MPIDR affinity bits (two cells, as the arm64 `cpus`
    /// binding and cloud-hypervisor have them).
    Mpidr(Mpidr),
}

impl CpuReg {
    /// `#address-cells` of `/cpus` for this scheme.
    pub fn address_cells(self) -> u32 {
        match self {
            CpuReg::Mpidr(_) => 2,
            _ => 1,
        }
    }
}

/// The `reg` value of CPU `index` under `scheme` (`None` when there is no
/// such CPU slot).
pub fn cpu_reg(t: &Topology, index: u32, scheme: CpuReg) -> Option<u64> {
    let cpu = t.cpus().iter().find(|c| c.slot.index == index)?;
    Some(match scheme {
        CpuReg::ArchId => u64::from(cpu.slot.apic_id),
        CpuReg::Index => u64::from(index),
        CpuReg::Mpidr(m) => m.of(index),
    })
}

/// Write `numa-node-id` for CPU `index` into the node the caller has
/// open (its own `cpu@..` node); nothing when NUMA is off. An index that
/// is no CPU slot is an error.
///
/// ```
/// use vnuma_tables::fdt::{cpu_reg, write_cpu_numa_node_id, CpuReg, FdtWriter, Mpidr};
/// # use vnuma_topology::{cpu::CpuTopology, machine::MachineModel, MemoryZone, NodeConfig, NumaConfig};
/// # let t = NumaConfig::new(MachineModel::generic("b", 40), CpuTopology::new(20))
/// #     .node(NodeConfig::new(0).cpus(0..10).zone(MemoryZone::new(1 << 30)))
/// #     .node(NodeConfig::new(1).cpus(10..20).zone(MemoryZone::new(1 << 30)))
/// #     .resolve().unwrap();
/// let scheme = CpuReg::Mpidr(Mpidr::KVM);
/// let mut fdt = FdtWriter::new()?;
/// let root = fdt.begin_node("")?;
/// let cpus = fdt.begin_node("cpus")?;
/// fdt.property_u32("#address-cells", scheme.address_cells())?;
/// fdt.property_u32("#size-cells", 0)?;
/// for index in 0..20 {
///     let reg = cpu_reg(&t, index, scheme).unwrap();
///     let cpu = fdt.begin_node(&format!("cpu@{reg:x}"))?;
///     fdt.property_string("device_type", "cpu")?;
///     fdt.property_string("compatible", "arm,arm-v8")?;
///     fdt.property_string("enable-method", "psci")?;
///     fdt.property_u64("reg", reg)?;
///     write_cpu_numa_node_id(&mut fdt, &t, index)?;
///     fdt.end_node(cpu)?;
/// }
/// fdt.end_node(cpus)?;
/// fdt.end_node(root)?;
/// let dtb = fdt.finish()?;
/// # Ok::<(), vnuma_tables::Error>(())
/// ```
pub fn write_cpu_numa_node_id(fdt: &mut FdtWriter, t: &Topology, index: u32) -> Result<(), Error> {
    let cpu = t
        .cpus()
        .iter()
        .find(|c| c.slot.index == index)
        .ok_or_else(|| Error::Fdt(format!("no CPU {index}")))?;
    if let (true, Some(n)) = (t.numa_enabled(), cpu.node) {
        fdt.property_u32("numa-node-id", n).map_err(fdt_err)?;
    }
    Ok(())
}

/// The boot-RAM ranges a device tree describes, in address order, each
/// with its node: `(base, size, node)`, one `memory@base` node each.
pub fn memory_ranges(layout: &MemoryLayout) -> Vec<(u64, u64, u32)> {
    layout
        .ranges()
        .filter_map(|(range, owner)| match owner {
            Owner::Boot(n) => Some((
                range.start(),
                u64::try_from(range.size()).unwrap_or(u64::MAX),
                n,
            )),
            Owner::Dimm(_) => None,
        })
        .collect()
}

/// Write `numa-node-id` for the memory node at guest address `base` into
/// the node the caller has open (its own `memory@..` node); nothing when
/// NUMA is off. An address outside boot RAM is an error.
pub fn write_memory_numa_node_id(
    fdt: &mut FdtWriter,
    t: &Topology,
    layout: &MemoryLayout,
    base: u64,
) -> Result<(), Error> {
    let node = layout
        .node_of(base)
        .ok_or_else(|| Error::Fdt(format!("no guest RAM at 0x{base:x}")))?;
    if t.numa_enabled() {
        fdt.property_u32("numa-node-id", node).map_err(fdt_err)?;
    }
    Ok(())
}

/// Add `/cpus` with one `cpu@<arch id>` node per present CPU (index
/// order): `device_type = "cpu"`, `reg = <arch id>` and, with NUMA,
/// `numa-node-id`. [`write_cpus_with`] with [`CpuReg::ArchId`].
pub fn write_cpus(fdt: &mut FdtWriter, t: &Topology) -> Result<(), Error> {
    write_cpus_with(fdt, t, CpuReg::ArchId)
}

/// Add `/cpus` with one `cpu@<reg>` node per present CPU (index order):
/// `device_type = "cpu"`, `reg` by `scheme` (`#address-cells` to match)
/// and, with NUMA, `numa-node-id`. A VMM that needs more properties on
/// each CPU writes the nodes itself with [`cpu_reg`] and
/// [`write_cpu_numa_node_id`].
pub fn write_cpus_with(fdt: &mut FdtWriter, t: &Topology, scheme: CpuReg) -> Result<(), Error> {
    let cpus = fdt.begin_node("cpus").map_err(fdt_err)?;
    fdt.property_u32("#address-cells", scheme.address_cells())
        .map_err(fdt_err)?;
    fdt.property_u32("#size-cells", 0).map_err(fdt_err)?;
    for cpu in t.cpus().iter().filter(|c| c.present) {
        let index = cpu.slot.index;
        let reg = cpu_reg(t, index, scheme).unwrap_or(u64::from(index));
        let node = fdt.begin_node(&format!("cpu@{reg:x}")).map_err(fdt_err)?;
        fdt.property_string("device_type", "cpu").map_err(fdt_err)?;
        if scheme.address_cells() == 2 {
            fdt.property_u64("reg", reg).map_err(fdt_err)?;
        } else {
            fdt.property_u32("reg", reg as u32).map_err(fdt_err)?;
        }
        write_cpu_numa_node_id(fdt, t, index)?;
        fdt.end_node(node).map_err(fdt_err)?;
    }
    fdt.end_node(cpus).map_err(fdt_err)
}

/// Add one `memory@<base>` node per boot-RAM range of the layout (address
/// order): `device_type = "memory"`, `reg = <base size>` (two cells each)
/// and, with NUMA, `numa-node-id`.
pub fn write_memory(fdt: &mut FdtWriter, t: &Topology, layout: &MemoryLayout) -> Result<(), Error> {
    for (base, size, n) in memory_ranges(layout) {
        let node = fdt
            .begin_node(&format!("memory@{base:x}"))
            .map_err(fdt_err)?;
        fdt.property_string("device_type", "memory")
            .map_err(fdt_err)?;
        fdt.property_array_u64("reg", &[base, size])
            .map_err(fdt_err)?;
        if t.numa_enabled() {
            fdt.property_u32("numa-node-id", n).map_err(fdt_err)?;
        }
        fdt.end_node(node).map_err(fdt_err)?;
    }
    Ok(())
}

/// Add `/distance-map` (`compatible = "numa-distance-map-v1"`) with a
/// `distance-matrix` of `<from to distance>` triplets for every pair of
/// nodes, when distances were given; nothing otherwise.
pub fn write_distance_map(fdt: &mut FdtWriter, t: &Topology) -> Result<(), Error> {
    let Some(matrix) = t.distances() else {
        return Ok(());
    };
    let nodes = t.nodes();
    let n = nodes.len().max(1);
    let mut cells = Vec::with_capacity(matrix.len() * 3);
    for (k, &d) in matrix.iter().enumerate() {
        cells.extend_from_slice(&[nodes[k / n].id, nodes[k % n].id, d.into()]);
    }
    let map = fdt.begin_node("distance-map").map_err(fdt_err)?;
    fdt.property_string("compatible", "numa-distance-map-v1")
        .map_err(fdt_err)?;
    fdt.property_array_u32("distance-matrix", &cells)
        .map_err(fdt_err)?;
    fdt.end_node(map).map_err(fdt_err)
}

/// A complete device-tree blob describing the topology's NUMA layout: a
/// root node (`#address-cells = <2>`, `#size-cells = <2>`) holding
/// [`write_cpus`], [`write_memory`] and [`write_distance_map`].
///
/// ```
/// use vnuma_options::CommandLine;
/// use vnuma_topology::{layout::MemoryLayout, resolve};
///
/// let cl = CommandLine::parse([
///     "-m", "256M", "-smp", "2,sockets=2",
///     "-object", "memory-backend-ram,id=a,size=128M",
///     "-object", "memory-backend-ram,id=b,size=128M",
///     "-numa", "node,memdev=a", "-numa", "node,memdev=b",
///     "-numa", "dist,src=0,dst=1,val=20",
/// ]).unwrap();
/// let t = resolve(&cl).unwrap();
/// let dtb = vnuma_tables::fdt::numa_dtb(&t, &MemoryLayout::new(&t)).unwrap();
/// assert_eq!(&dtb[..4], &[0xd0, 0x0d, 0xfe, 0xed]);
/// ```
pub fn numa_dtb(t: &Topology, layout: &MemoryLayout) -> Result<Vec<u8>, Error> {
    let mut fdt = FdtWriter::new().map_err(fdt_err)?;
    let root = fdt.begin_node("").map_err(fdt_err)?;
    fdt.property_u32("#address-cells", 2).map_err(fdt_err)?;
    fdt.property_u32("#size-cells", 2).map_err(fdt_err)?;
    write_cpus(&mut fdt, t)?;
    write_memory(&mut fdt, t, layout)?;
    write_distance_map(&mut fdt, t)?;
    fdt.end_node(root).map_err(fdt_err)?;
    fdt.finish().map_err(fdt_err)
}

/// The NUMA part of the device tree QEMU 7.2's aarch64 `virt` board
/// hands its guest (`-machine virt,dumpdtb=FILE`), for a topology of a
/// `virt` machine type (`MachineModel::virt`; other boards are an
/// error): a root with 2 address and 2 size cells, `/cpus` (1 address
/// cell, as no MPIDR of up to 512 CPUs reaches Aff3) with one
/// `cpu@INDEX` node per boot CPU (`device_type = "cpu"`, `reg` = its
/// MPIDR affinity, `numa-node-id` with NUMA), one `memory@ADDR` node per
/// node with memory, consecutive from 1 GiB in node order (`reg` with 2 +
/// 2 cells, `numa-node-id`), or one for all RAM without NUMA, and
/// `/distance-map` when distances were given. QEMU's other nodes (devices,
/// `cpu-map`, `compatible` and `enable-method` of the CPUs) are not
/// written.
pub fn virt_dtb(t: &Topology) -> Result<Vec<u8>, Error> {
    if t.machine().virt.is_none() {
        return Err(Error::Fdt(format!(
            "{} is not QEMU's virt board",
            t.machine().name
        )));
    }
    let mut fdt = FdtWriter::new().map_err(fdt_err)?;
    let root = fdt.begin_node("").map_err(fdt_err)?;
    fdt.property_u32("#address-cells", 2).map_err(fdt_err)?;
    fdt.property_u32("#size-cells", 2).map_err(fdt_err)?;
    let numa = t.numa_enabled();
    // /cpus: two address cells only when an MPIDR has Aff3 (bits 39:32),
    // which the arch ids (32-bit) never have.
    let cpus = fdt.begin_node("cpus").map_err(fdt_err)?;
    fdt.property_u32("#address-cells", 1).map_err(fdt_err)?;
    fdt.property_u32("#size-cells", 0).map_err(fdt_err)?;
    for cpu in t.cpus().iter().filter(|c| c.present) {
        let node = fdt
            .begin_node(&format!("cpu@{}", cpu.slot.index))
            .map_err(fdt_err)?;
        fdt.property_string("device_type", "cpu").map_err(fdt_err)?;
        fdt.property_u32("reg", cpu.slot.apic_id).map_err(fdt_err)?;
        if let (true, Some(n)) = (numa, cpu.node) {
            fdt.property_u32("numa-node-id", n).map_err(fdt_err)?;
        }
        fdt.end_node(node).map_err(fdt_err)?;
    }
    fdt.end_node(cpus).map_err(fdt_err)?;
    let base = vnuma_topology::virt::RAM_BASE;
    let mut memory = |addr: u64, size: u64, node: Option<u32>| -> Result<(), Error> {
        let m = fdt
            .begin_node(&format!("memory@{addr:x}"))
            .map_err(fdt_err)?;
        fdt.property_string("device_type", "memory")
            .map_err(fdt_err)?;
        fdt.property_array_u64("reg", &[addr, size])
            .map_err(fdt_err)?;
        if let Some(n) = node {
            fdt.property_u32("numa-node-id", n).map_err(fdt_err)?;
        }
        fdt.end_node(m).map_err(fdt_err)
    };
    if numa {
        let mut addr = base;
        for n in t.nodes().iter().filter(|n| n.mem > 0) {
            memory(addr, n.mem, Some(n.id))?;
            addr = addr.wrapping_add(n.mem);
        }
    } else {
        memory(base, t.ram_size(), None)?;
    }
    write_distance_map(&mut fdt, t)?;
    fdt.end_node(root).map_err(fdt_err)?;
    fdt.finish().map_err(fdt_err)
}
