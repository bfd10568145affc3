//! Device-tree NUMA description (feature `fdt`): `numa-node-id` on CPU
//! and memory nodes and a `numa-distance-map-v1` distance map, as Linux's
//! `numa.txt` binding and QEMU's `virt` boards have them. Written with
//! rust-vmm's `vm-fdt`, without std.
//!
//! [`numa_dtb`] makes a whole (minimal) blob; the `write_*` functions add
//! the same nodes to a VMM's own [`FdtWriter`] inside its root node.

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

/// Add `/cpus` with one `cpu@<arch id>` node per present CPU (index
/// order): `device_type = "cpu"`, `reg = <arch id>` and, with NUMA,
/// `numa-node-id`.
pub fn write_cpus(fdt: &mut FdtWriter, t: &Topology) -> Result<(), Error> {
    let cpus = fdt.begin_node("cpus").map_err(fdt_err)?;
    fdt.property_u32("#address-cells", 1).map_err(fdt_err)?;
    fdt.property_u32("#size-cells", 0).map_err(fdt_err)?;
    for cpu in t.cpus().iter().filter(|c| c.present) {
        let arch = cpu.slot.apic_id;
        let node = fdt.begin_node(&format!("cpu@{arch:x}")).map_err(fdt_err)?;
        fdt.property_string("device_type", "cpu").map_err(fdt_err)?;
        fdt.property_u32("reg", arch).map_err(fdt_err)?;
        if let (true, Some(n)) = (t.numa_enabled(), cpu.node) {
            fdt.property_u32("numa-node-id", n).map_err(fdt_err)?;
        }
        fdt.end_node(node).map_err(fdt_err)?;
    }
    fdt.end_node(cpus).map_err(fdt_err)
}

/// Add one `memory@<base>` node per boot-RAM range of the layout (address
/// order): `device_type = "memory"`, `reg = <base size>` (two cells each)
/// and, with NUMA, `numa-node-id`.
pub fn write_memory(fdt: &mut FdtWriter, t: &Topology, layout: &MemoryLayout) -> Result<(), Error> {
    for (range, owner) in layout.ranges() {
        let Owner::Boot(n) = owner else { continue };
        let size = u64::try_from(range.size()).unwrap_or(u64::MAX);
        let node = fdt
            .begin_node(&format!("memory@{:x}", range.start()))
            .map_err(fdt_err)?;
        fdt.property_string("device_type", "memory")
            .map_err(fdt_err)?;
        fdt.property_array_u64("reg", &[range.start(), size])
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
