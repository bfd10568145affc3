//! Reading the tables back: what a guest learns from SRAT, SLIT and HMAT,
//! and [`verify`], which checks that tables describe the topology they
//! were built from (an oracle for fuzzing).

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use vnuma_topology::layout::{MemoryLayout, Owner};
use vnuma_topology::Topology;

use crate::hmat::{Hmat, HmatStructure, INITIATOR_VALID, NO_INITIATOR};
use crate::options::{MemoryStyle, ProcessorEntries, TableOptions};
use crate::slit::Slit;
use crate::srat::{
    MemoryAffinity, Srat, SratEntry, CPU_ENABLED, MEM_ENABLED, MEM_HOTPLUGGABLE, MEM_NON_VOLATILE,
};
use crate::{acpi, Error};

/// Which SRAT structure described a CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CpuKind {
    /// Processor Local APIC affinity (type 0).
    LocalApic,
    /// Processor Local x2APIC affinity (type 2).
    X2Apic,
    /// GICC affinity (type 3).
    Gicc,
}

/// A CPU as SRAT describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CpuEntry {
    /// APIC id, x2APIC id or ACPI processor UID.
    pub arch_id: u32,
    /// Proximity domain.
    pub proximity: u32,
    /// The enabled flag.
    pub enabled: bool,
    /// The structure type.
    pub kind: CpuKind,
}

/// The NUMA view of a guest: everything SRAT, SLIT and HMAT say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumaInfo {
    /// The SRAT as parsed.
    pub srat: Srat,
    /// CPUs in table order.
    pub cpus: Vec<CpuEntry>,
    /// Memory entries with a non-zero length, in table order (the all-zero
    /// padding entries QEMU adds are left out).
    pub memory: Vec<MemoryAffinity>,
    /// The SLIT, if there was one.
    pub slit: Option<Slit>,
    /// The HMAT, if there was one.
    pub hmat: Option<Hmat>,
}

impl NumaInfo {
    /// Parse the tables (each header included). Checksums are not checked.
    pub fn from_tables(
        srat: &[u8],
        slit: Option<&[u8]>,
        hmat: Option<&[u8]>,
    ) -> Result<NumaInfo, Error> {
        let (_, srat) = Srat::parse(srat)?;
        let slit = slit.map(Slit::parse).transpose()?.map(|(_, s)| s);
        let hmat = hmat.map(Hmat::parse).transpose()?.map(|(_, h)| h);
        let cpus = srat
            .entries
            .iter()
            .filter_map(|e| {
                let (arch_id, proximity, flags, kind) = match e {
                    SratEntry::LocalApic(c) => (
                        u32::from(c.apic_id),
                        c.proximity,
                        c.flags,
                        CpuKind::LocalApic,
                    ),
                    SratEntry::X2Apic(c) => (c.x2apic_id, c.proximity, c.flags, CpuKind::X2Apic),
                    SratEntry::Gicc(c) => (c.uid, c.proximity, c.flags, CpuKind::Gicc),
                    _ => return None,
                };
                Some(CpuEntry {
                    arch_id,
                    proximity,
                    enabled: flags & CPU_ENABLED != 0,
                    kind,
                })
            })
            .collect();
        let memory = srat.memory().filter(|m| m.length != 0).copied().collect();
        Ok(NumaInfo {
            srat,
            cpus,
            memory,
            slit,
            hmat,
        })
    }

    /// Find SRAT, SLIT and HMAT in a blob of concatenated tables (such as
    /// QEMU's `etc/acpi/tables`) and parse them; `None` without an SRAT.
    pub fn from_blob(blob: &[u8]) -> Result<Option<NumaInfo>, Error> {
        let (mut srat, mut slit, mut hmat) = (None, None, None);
        for (sig, table) in acpi::split_tables(blob) {
            match &sig {
                b"SRAT" => srat = Some(table),
                b"SLIT" => slit = Some(table),
                b"HMAT" => hmat = Some(table),
                _ => {}
            }
        }
        srat.map(|s| NumaInfo::from_tables(s, slit, hmat))
            .transpose()
    }

    /// Every proximity domain named by a CPU, a memory range, a Generic
    /// Initiator, the SLIT or HMAT's memory attributes.
    pub fn domains(&self) -> BTreeSet<u32> {
        let mut d: BTreeSet<u32> = self.cpus.iter().map(|c| c.proximity).collect();
        d.extend(self.srat.entries.iter().filter_map(|e| match e {
            SratEntry::GenericInitiator(g) | SratEntry::GenericPort(g) => Some(g.proximity),
            _ => None,
        }));
        d.extend(self.memory.iter().map(|m| m.proximity));
        if let Some(slit) = &self.slit {
            d.extend((0..slit.count.min(u64::from(u32::MAX))).map(|i| i as u32));
        }
        if let Some(hmat) = &self.hmat {
            d.extend(hmat.structures.iter().filter_map(|s| match s {
                HmatStructure::MemoryProximity(m) => Some(m.memory),
                _ => None,
            }));
        }
        d
    }

    /// The proximity domain of the CPU with this arch id.
    pub fn node_of_cpu(&self, arch_id: u32) -> Option<u32> {
        self.cpus
            .iter()
            .find(|c| c.arch_id == arch_id)
            .map(|c| c.proximity)
    }

    /// The proximity domain of the first enabled memory entry containing
    /// `gpa`.
    pub fn node_of_address(&self, gpa: u64) -> Option<u32> {
        self.memory
            .iter()
            .find(|m| m.flags & MEM_ENABLED != 0 && gpa >= m.base && gpa - m.base < m.length)
            .map(|m| m.proximity)
    }

    /// Bytes of enabled, not hot-pluggable memory in a proximity domain.
    pub fn boot_memory(&self, domain: u32) -> u64 {
        self.memory
            .iter()
            .filter(|m| {
                m.proximity == domain
                    && m.flags & MEM_ENABLED != 0
                    && m.flags & MEM_HOTPLUGGABLE == 0
            })
            .fold(0u64, |acc, m| acc.saturating_add(m.length))
    }

    /// The SLIT distance from `a` to `b`.
    pub fn distance(&self, a: u32, b: u32) -> Option<u8> {
        self.slit.as_ref()?.distance(a.into(), b.into())
    }
}

fn mismatch(table: &'static str, what: &'static str, index: usize) -> Error {
    Error::Mismatch { table, what, index }
}

/// Whether QEMU's SRAT cursor quirk shifts memory: a node ends strictly
/// inside `[640 KiB, 1 MiB)` and a later node has memory, which SRAT then
/// starts at 1 MiB.
/// `(base, length, node)` ranges sorted, with a node's adjacent ranges
/// merged.
fn coalesce(mut ranges: Vec<(u64, u64, u32)>) -> Vec<(u64, u64, u32)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64, u32)> = Vec::with_capacity(ranges.len());
    for (base, len, node) in ranges {
        match out.last_mut() {
            Some((b, l, n)) if *n == node && b.checked_add(*l) == Some(base) => {
                *l = l.saturating_add(len);
            }
            _ => out.push((base, len, node)),
        }
    }
    out
}

fn cursor_quirk(sizes: &[u64]) -> bool {
    let mut end = 0u64;
    let mut pending = false;
    for &mem in sizes {
        if mem == 0 {
            continue;
        }
        if pending {
            return true;
        }
        end = end.saturating_add(mem);
        pending = end > 640 << 10 && end < 1 << 20;
    }
    false
}

/// Check that parsed tables describe `t` and `layout` as built with
/// `opts`: every CPU slot in order with its node and arch id; the boot
/// memory of every node exactly as the layout has it (for QEMU's style,
/// unless its cursor quirk shifts addresses, when only the layout-free
/// checks are made); the padding entries all zero; the hotplug window on
/// the last node; the distances; HMAT's memory attributes, every
/// latency/bandwidth value as QEMU compresses it, and the caches.
///
/// Returns the first difference as [`Error::Mismatch`].
pub fn verify(
    t: &Topology,
    layout: &MemoryLayout,
    opts: &TableOptions,
    info: &NumaInfo,
) -> Result<(), Error> {
    // CPUs.
    if info.cpus.len() != t.cpus().len() {
        return Err(mismatch("SRAT", "number of processor entries", 0));
    }
    for (i, (cpu, e)) in t.cpus().iter().zip(&info.cpus).enumerate() {
        let (arch, kind_ok) = match opts.processors {
            ProcessorEntries::Apic => (
                cpu.slot.apic_id,
                (e.kind == CpuKind::LocalApic) == (cpu.slot.apic_id < 255),
            ),
            ProcessorEntries::Gicc => (cpu.slot.index, e.kind == CpuKind::Gicc),
            ProcessorEntries::X2Apic => (cpu.slot.apic_id, e.kind == CpuKind::X2Apic),
        };
        if e.arch_id != arch || !kind_ok || !e.enabled {
            return Err(mismatch("SRAT", "processor entry", i));
        }
        if e.proximity != cpu.node.unwrap_or(0) {
            return Err(mismatch("SRAT", "processor proximity domain", i));
        }
    }

    // Memory.
    let sizes: Vec<u64> = if t.nodes().is_empty() {
        alloc::vec![t.ram_size()]
    } else {
        t.nodes().iter().map(|n| n.mem).collect()
    };
    let last = t.nodes().last().map_or(0, |n| n.id);
    let all: Vec<&MemoryAffinity> = info.srat.memory().collect();
    // NVDIMMs: one non-volatile entry each, in address order.
    let (nvdimm, all): (Vec<&MemoryAffinity>, Vec<&MemoryAffinity>) =
        all.iter().partition(|m| m.flags & MEM_NON_VOLATILE != 0);
    let mut want_nvdimm: Vec<(u64, u64, u32)> = t
        .devices()
        .iter()
        .filter(|d| {
            matches!(
                d.config.kind,
                vnuma_topology::MemoryDeviceKind::Nvdimm { .. }
            )
        })
        .map(|d| {
            let len = u64::try_from(d.range.size()).unwrap_or(u64::MAX);
            (d.range.start(), len, d.node.unwrap_or(0))
        })
        .collect();
    want_nvdimm.sort_unstable();
    let got_nvdimm: Vec<(u64, u64, u32)> = nvdimm
        .iter()
        .filter(|m| m.flags == MEM_ENABLED | MEM_NON_VOLATILE)
        .map(|m| (m.base, m.length, m.proximity))
        .collect();
    if got_nvdimm != want_nvdimm || got_nvdimm.len() != nvdimm.len() {
        return Err(mismatch("SRAT", "NVDIMM entries", 0));
    }
    let (hotplug, boot): (Vec<&MemoryAffinity>, Vec<&MemoryAffinity>) =
        all.iter().partition(|m| m.flags & MEM_HOTPLUGGABLE != 0);
    match (layout.device_memory(), hotplug.as_slice()) {
        (None, []) => {}
        (Some(w), [m])
            if m.base == w.start()
                && u128::from(m.length) == w.size()
                && m.proximity == last
                && m.flags == MEM_HOTPLUGGABLE | MEM_ENABLED => {}
        _ => return Err(mismatch("SRAT", "hotplug window entry", 0)),
    }
    let style = opts.memory_style(t);
    let (real, padding): (Vec<&MemoryAffinity>, Vec<&MemoryAffinity>) =
        boot.iter().partition(|m| m.length != 0);
    if padding
        .iter()
        .any(|m| m.base != 0 || m.proximity != 0 || m.flags != 0)
    {
        return Err(mismatch(
            "SRAT",
            "zero-length memory entry that is not padding",
            0,
        ));
    }
    if style == MemoryStyle::Qemu72 && boot.len() + nvdimm.len() < sizes.len() + 2 {
        return Err(mismatch(
            "SRAT",
            "fewer memory entries than nodes + 2",
            boot.len(),
        ));
    }
    if style == MemoryStyle::Layout && !padding.is_empty() {
        return Err(mismatch("SRAT", "padding entry in layout style", 0));
    }
    if real.iter().any(|m| m.flags != MEM_ENABLED) {
        return Err(mismatch("SRAT", "boot memory flags", 0));
    }
    if style == MemoryStyle::Layout || !cursor_quirk(&sizes) {
        let want: Vec<(u64, u64, u32)> = layout
            .ranges()
            .filter_map(|(r, o)| match o {
                Owner::Boot(n) => Some((r.start(), u64::try_from(r.size()).unwrap_or(u64::MAX), n)),
                Owner::Dimm(_) => None,
            })
            .collect();
        let got: Vec<(u64, u64, u32)> = real
            .iter()
            .map(|m| (m.base, m.length, m.proximity))
            .collect();
        // A node's adjacent ranges (its zones, or RAM below and above a
        // 4 GiB split point) are one entry or several depending on the
        // style: compare them merged.
        if coalesce(want) != coalesce(got) {
            return Err(mismatch("SRAT", "boot memory ranges", 0));
        }
    } else {
        // Shifted by the quirk, but still one node's memory at a time, in
        // node order, never more than the node has.
        for (n, &mem) in sizes.iter().enumerate() {
            let id = t.nodes().get(n).map_or(0, |node| node.id);
            let sum: u64 = real
                .iter()
                .filter(|m| m.proximity == id)
                .fold(0, |a, m| a.saturating_add(m.length));
            if sum > mem {
                return Err(mismatch("SRAT", "more memory than the node has", n));
            }
        }
    }

    // Generic Initiators, then Generic Ports: one per device or port, as
    // the topology has them, in its order.
    type Entries = fn(&Topology) -> Result<Vec<crate::srat::GenericInitiatorAffinity>, Error>;
    let kinds: [(bool, Entries, &str); 2] = [
        (
            false,
            crate::srat::generic_initiators,
            "generic initiator entries",
        ),
        (true, crate::srat::generic_ports, "generic port entries"),
    ];
    for (port, wanted, what) in kinds {
        let got = info.srat.entries.iter().filter_map(|e| match e {
            SratEntry::GenericInitiator(g) if !port => Some(g),
            SratEntry::GenericPort(g) if port => Some(g),
            _ => None,
        });
        let want = if opts.generic_initiators {
            wanted(t)?
        } else {
            Vec::new()
        };
        if !got.eq(want.iter()) {
            return Err(mismatch("SRAT", what, 0));
        }
    }

    // SLIT.
    match (t.distances(), &info.slit) {
        (None, None) => {}
        (Some(_), Some(s)) if Some(s) == crate::slit::Slit::from_topology(t).as_ref() => {}
        _ => return Err(mismatch("SLIT", "distance matrix", 0)),
    }

    // HMAT.
    let hmat = match (t.hmat_enabled() && !t.nodes().is_empty(), &info.hmat) {
        (false, None) => return Ok(()),
        (true, Some(h)) => h,
        _ => return Err(mismatch("HMAT", "presence", 0)),
    };
    let mut mpda = Vec::new();
    let mut lbs = Vec::new();
    let mut caches = Vec::new();
    for s in &hmat.structures {
        match s {
            HmatStructure::MemoryProximity(m) => mpda.push(m),
            HmatStructure::Locality(l) => lbs.push(l),
            HmatStructure::Cache(c) => caches.push(c),
            HmatStructure::Other { .. } => {
                return Err(mismatch("HMAT", "structure of unknown type", 0))
            }
        }
    }
    let listed: Vec<_> = t
        .nodes()
        .iter()
        .filter(|n| !(opts.hmat_skip_memoryless && n.mem == 0))
        .collect();
    if mpda.len() != listed.len() {
        return Err(mismatch("HMAT", "number of memory proximity structures", 0));
    }
    for (i, (node, m)) in listed.iter().zip(&mpda).enumerate() {
        let ok = m.memory == node.id
            && match node.initiator {
                Some(ini) => m.flags == INITIATOR_VALID && m.initiator == ini,
                None => m.flags == 0 && m.initiator == NO_INITIATOR,
            };
        if !ok {
            return Err(mismatch("HMAT", "memory proximity domain attributes", i));
        }
    }
    let initiators: Vec<u32> = t
        .nodes()
        .iter()
        .filter(|n| n.has_cpu || !n.devices.is_empty())
        .map(|n| n.id)
        .collect();
    // Every node is a target, by id.
    let targets: Vec<u32> = t.nodes().iter().map(|n| n.id).collect();
    let mut tables: Vec<_> = t
        .hmat()
        .lb
        .iter()
        .filter(|lb| !lb.entries.is_empty())
        .filter_map(|lb| Some((lb.hierarchy? as u8, lb.data_type? as u8, lb)))
        .collect();
    tables.sort_by_key(|&(h, d, _)| (h, d));
    if tables.len() != lbs.len() {
        return Err(mismatch(
            "HMAT",
            "number of latency/bandwidth structures",
            0,
        ));
    }
    for (i, ((h, d, lb), l)) in tables.iter().zip(&lbs).enumerate() {
        if l.hierarchy() != *h
            || l.data_type != *d
            || l.initiators != initiators
            || l.targets != targets
        {
            return Err(mismatch("HMAT", "latency/bandwidth structure shape", i));
        }
        let given = |ini: u32, tg: u32| {
            lb.entries
                .iter()
                .find(|&&(a, b, _)| u32::from(a) == ini && u32::from(b) == tg)
                .map(|&(_, _, v)| v)
        };
        // QEMU's 32-bit arithmetic (which can give 0 for a huge base).
        let base_unit = if *d <= 2 {
            u64::from(lb.base.wrapping_mul(1000) as u32)
        } else {
            u64::from((lb.base >> 20) as u32)
        };
        if l.base_unit != base_unit {
            return Err(mismatch("HMAT", "latency/bandwidth base unit", i));
        }
        for &ini in &initiators {
            for &tg in &targets {
                let want = given(ini, tg).map_or(0, |v| v.checked_div(lb.base).unwrap_or(0) as u16);
                if l.entry(ini, tg) != Some(want) {
                    return Err(mismatch("HMAT", "latency/bandwidth entry", i));
                }
            }
        }
    }
    let want_caches = &t.hmat().caches;
    if caches.len() != want_caches.len() {
        return Err(mismatch("HMAT", "number of memory-side caches", 0));
    }
    for (i, c) in caches.iter().enumerate() {
        let total = want_caches.iter().filter(|w| w.node_id == c.memory).count() as u8;
        let found = want_caches.iter().any(|w| {
            w.node_id == c.memory
                && w.size == c.size
                && c.attributes.total_levels() == total
                && c.attributes.level() == w.level
                && c.attributes.associativity() == w.associativity as u8
                && c.attributes.write_policy() == w.policy as u8
                && c.attributes.line_size() == w.line
        });
        if !found {
            return Err(mismatch("HMAT", "memory-side cache", i));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::cursor_quirk;

    #[test]
    fn cursor_quirk_needs_a_node_ending_inside_the_window_and_a_later_one() {
        const K: u64 = 1024;
        assert!(cursor_quirk(&[768 * K, 1000 * K]));
        assert!(cursor_quirk(&[512 * K, 256 * K, 0, 4 * K]));
        assert!(!cursor_quirk(&[768 * K]));
        assert!(!cursor_quirk(&[768 * K, 0, 0]));
        assert!(!cursor_quirk(&[640 * K, 1000 * K]));
        assert!(!cursor_quirk(&[1024 * K, 1000 * K]));
        assert!(!cursor_quirk(&[0, 2048 * K]));
    }
}
