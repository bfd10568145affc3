//! HMAT, the Heterogeneous Memory Attribute Table (revision 2, ACPI 6.3):
//! memory proximity domain attributes, latency and bandwidth between
//! initiators and targets, and memory-side caches.

use alloc::vec::Vec;

use vnuma_topology::Topology;

use crate::acpi::{self, Oem, TableHeader};
use crate::bytes::{Bytes, Put};
use crate::options::TableOptions;
use crate::Error;

/// The signature.
pub const SIGNATURE: &str = "HMAT";
/// The revision (ACPI 6.3).
pub const REVISION: u8 = 2;

/// Memory proximity domain attributes flag: the initiator field is valid.
pub const INITIATOR_VALID: u16 = 1;
/// The initiator QEMU writes when a node has none (`MAX_NODES`).
pub const NO_INITIATOR: u32 = 128;

const MIB: u64 = 1 << 20;

/// Memory Proximity Domain Attributes (type 0, 40 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MemoryProximity {
    /// Flags ([`INITIATOR_VALID`]).
    pub flags: u16,
    /// Proximity domain of the attached initiator.
    pub initiator: u32,
    /// Proximity domain of the memory.
    pub memory: u32,
}

/// System Locality Latency and Bandwidth Information (type 1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Locality {
    /// Flags: bits 3:0 are the memory hierarchy (0 memory, 1–3 cache
    /// level).
    pub flags: u8,
    /// Data type: 0 access, 1 read, 2 write latency; 3 access, 4 read,
    /// 5 write bandwidth.
    pub data_type: u8,
    /// Minimum transfer size (ACPI 6.4; reserved before, QEMU writes 0).
    pub min_transfer_size: u8,
    /// Entry base unit: picoseconds for latency, MB/s for bandwidth.
    pub base_unit: u64,
    /// Initiator proximity domains.
    pub initiators: Vec<u32>,
    /// Target proximity domains.
    pub targets: Vec<u32>,
    /// `entries[i * targets.len() + j]`, in base units; 0 = not provided.
    pub entries: Vec<u16>,
}

impl Locality {
    /// The memory hierarchy (flags bits 3:0).
    pub fn hierarchy(&self) -> u8 {
        self.flags & 0xf
    }

    /// Whether the data type is a latency (else a bandwidth).
    pub fn is_latency(&self) -> bool {
        self.data_type <= 2
    }

    /// The entry from `initiator` to `target` (proximity domains).
    pub fn entry(&self, initiator: u32, target: u32) -> Option<u16> {
        let i = self.initiators.iter().position(|&x| x == initiator)?;
        let j = self.targets.iter().position(|&x| x == target)?;
        self.entries.get(i * self.targets.len() + j).copied()
    }
}

/// Memory-side cache attributes, packed as ACPI has them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CacheAttributes(pub u32);

impl CacheAttributes {
    /// Pack the fields (each cut to its width).
    pub fn new(
        total_levels: u8,
        level: u8,
        associativity: u8,
        write_policy: u8,
        line_size: u16,
    ) -> Self {
        CacheAttributes(
            u32::from(total_levels & 0xf)
                | u32::from(level & 0xf) << 4
                | u32::from(associativity & 0xf) << 8
                | u32::from(write_policy & 0xf) << 12
                | u32::from(line_size) << 16,
        )
    }
    /// Bits 3:0: cache levels of this memory proximity domain.
    pub fn total_levels(self) -> u8 {
        (self.0 & 0xf) as u8
    }
    /// Bits 7:4: the level described.
    pub fn level(self) -> u8 {
        (self.0 >> 4 & 0xf) as u8
    }
    /// Bits 11:8: 0 none, 1 direct mapped, 2 complex.
    pub fn associativity(self) -> u8 {
        (self.0 >> 8 & 0xf) as u8
    }
    /// Bits 15:12: 0 none, 1 write-back, 2 write-through.
    pub fn write_policy(self) -> u8 {
        (self.0 >> 12 & 0xf) as u8
    }
    /// Bits 31:16: line size in bytes.
    pub fn line_size(self) -> u16 {
        (self.0 >> 16) as u16
    }
}

/// Memory Side Cache Information (type 2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MemorySideCache {
    /// Proximity domain of the memory.
    pub memory: u32,
    /// Cache size in bytes.
    pub size: u64,
    /// Attributes.
    pub attributes: CacheAttributes,
    /// SMBIOS handles (QEMU writes none).
    pub smbios_handles: Vec<u16>,
}

/// One HMAT structure.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HmatStructure {
    /// Type 0.
    MemoryProximity(MemoryProximity),
    /// Type 1.
    Locality(Locality),
    /// Type 2.
    Cache(MemorySideCache),
    /// Any other type, kept as bytes.
    Other {
        /// Structure type.
        kind: u16,
        /// The bytes after the 8-byte structure header.
        body: Vec<u8>,
    },
}

/// The HMAT body: its structures in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Hmat {
    /// The structures.
    pub structures: Vec<HmatStructure>,
}

impl Hmat {
    /// The HMAT of a topology as QEMU 7.2 builds it: `None` unless HMAT is
    /// on (`-machine hmat=on`) and there are nodes.
    ///
    /// Memory proximity domain attributes for every node (initiator valid
    /// when the node has one, else initiator 128); one latency/bandwidth
    /// structure per non-empty table, hierarchy-major then data type, with
    /// every node with a CPU or a generic initiator as initiator and every node as target, the
    /// base unit in 32-bit arithmetic (latency base × 1000 ps, bandwidth
    /// base / MiB, both truncated to 32 bits as QEMU does) and each entry
    /// `value / base` truncated to 16 bits; then the memory-side caches of
    /// each node, levels ascending.
    pub fn from_topology(t: &Topology, opts: &TableOptions) -> Option<Hmat> {
        if !t.hmat_enabled() || t.nodes().is_empty() {
            return None;
        }
        let nodes = t.nodes();
        let mut structures = Vec::new();
        for node in nodes {
            if opts.hmat_skip_memoryless && node.mem == 0 {
                continue;
            }
            structures.push(HmatStructure::MemoryProximity(MemoryProximity {
                flags: if node.initiator.is_some() {
                    INITIATOR_VALID
                } else {
                    0
                },
                initiator: node.initiator.map_or(NO_INITIATOR, u32::from),
                memory: node.id,
            }));
        }
        // Initiators: nodes with CPUs or generic initiators (QEMU 10.0
        // lists both; 7.2 had no generic initiators).
        let initiators: Vec<u32> = nodes
            .iter()
            .filter(|n| n.has_cpu || !n.devices.is_empty())
            .map(|n| n.id)
            .collect();
        // Every node is a target, by its id (the proximity domain): with
        // QEMU's dense ids that is 0..n.
        let targets: Vec<u32> = nodes.iter().map(|n| n.id).collect();
        let mut tables: Vec<_> = t
            .hmat()
            .lb
            .iter()
            .filter_map(|lb| Some((lb.hierarchy? as u8, lb.data_type? as u8, lb)))
            .filter(|(_, _, lb)| !lb.entries.is_empty())
            .collect();
        tables.sort_by_key(|&(h, d, _)| (h, d));
        for (hierarchy, data_type, lb) in tables {
            let base_unit = if data_type <= 2 {
                u64::from(lb.base.wrapping_mul(1000) as u32)
            } else {
                u64::from((lb.base / MIB) as u32)
            };
            let mut entries = alloc::vec![0u16; initiators.len() * targets.len()];
            for &(i, tg, value) in &lb.entries {
                // QEMU maps an initiator that is not in the list to row 0.
                let row = initiators
                    .iter()
                    .position(|&x| x == u32::from(i))
                    .unwrap_or(0);
                let Some(column) = targets.iter().position(|&x| x == u32::from(tg)) else {
                    continue;
                };
                let index = row * targets.len() + column;
                if let Some(slot) = entries.get_mut(index) {
                    *slot = value.checked_div(lb.base).unwrap_or(0) as u16;
                }
            }
            structures.push(HmatStructure::Locality(Locality {
                flags: hierarchy,
                data_type,
                min_transfer_size: 0,
                base_unit,
                initiators: initiators.clone(),
                targets: targets.clone(),
                entries,
            }));
        }
        let caches = &t.hmat().caches;
        for node in nodes {
            let id = node.id;
            let total = (1..=3u8)
                .filter(|&l| caches.iter().any(|c| c.node_id == id && c.level == l))
                .count() as u8;
            for level in 0..=total {
                if let Some(c) = caches.iter().find(|c| c.node_id == id && c.level == level) {
                    structures.push(HmatStructure::Cache(MemorySideCache {
                        memory: id,
                        size: c.size,
                        attributes: CacheAttributes(
                            u32::from(total)
                                | u32::from(c.level) << 4
                                | (c.associativity as u32) << 8
                                | (c.policy as u32) << 12
                                | u32::from(c.line) << 16,
                        ),
                        smbios_handles: Vec::new(),
                    }));
                }
            }
        }
        Some(Hmat { structures })
    }

    /// Encode the body.
    pub fn body(&self) -> Result<Vec<u8>, Error> {
        let mut b = Vec::new();
        b.put_u32(0);
        for s in &self.structures {
            match s {
                HmatStructure::MemoryProximity(m) => {
                    b.put_u16(0);
                    b.put_u16(0);
                    b.put_u32(40);
                    b.put_u16(m.flags);
                    b.put_u16(0);
                    b.put_u32(m.initiator);
                    b.put_u32(m.memory);
                    b.put_u32(0);
                    b.put_u64(0);
                    b.put_u64(0);
                }
                HmatStructure::Locality(l) => {
                    let (s, t) = (l.initiators.len(), l.targets.len());
                    if s.checked_mul(t) != Some(l.entries.len()) {
                        return Err(Error::HmatShape {
                            initiators: s,
                            targets: t,
                            entries: l.entries.len(),
                        });
                    }
                    let too_many = || Error::TooManyEntries {
                        table: SIGNATURE,
                        what: "a latency/bandwidth structure",
                    };
                    let len = 32u64 + 4 * s as u64 + 4 * t as u64 + 2 * l.entries.len() as u64;
                    let len = u32::try_from(len).map_err(|_| too_many())?;
                    b.put_u16(1);
                    b.put_u16(0);
                    b.put_u32(len);
                    b.put_u8(l.flags);
                    b.put_u8(l.data_type);
                    b.put_u8(l.min_transfer_size);
                    b.put_u8(0);
                    b.put_u32(s as u32);
                    b.put_u32(t as u32);
                    b.put_u32(0);
                    b.put_u64(l.base_unit);
                    for &i in &l.initiators {
                        b.put_u32(i);
                    }
                    for &t in &l.targets {
                        b.put_u32(t);
                    }
                    for &e in &l.entries {
                        b.put_u16(e);
                    }
                }
                HmatStructure::Cache(c) => {
                    let n = u16::try_from(c.smbios_handles.len()).map_err(|_| {
                        Error::TooManyEntries {
                            table: SIGNATURE,
                            what: "a memory-side cache structure",
                        }
                    })?;
                    b.put_u16(2);
                    b.put_u16(0);
                    b.put_u32(32 + 2 * u32::from(n));
                    b.put_u32(c.memory);
                    b.put_u32(0);
                    b.put_u64(c.size);
                    b.put_u32(c.attributes.0);
                    b.put_u16(0);
                    b.put_u16(n);
                    for &h in &c.smbios_handles {
                        b.put_u16(h);
                    }
                }
                HmatStructure::Other { kind, body } => {
                    let len = u32::try_from(body.len() + 8).map_err(|_| Error::TooManyEntries {
                        table: SIGNATURE,
                        what: "a structure of unknown type",
                    })?;
                    b.put_u16(*kind);
                    b.put_u16(0);
                    b.put_u32(len);
                    b.extend_from_slice(body);
                }
            }
        }
        Ok(b)
    }

    /// Encode the whole table with a header and checksum.
    pub fn to_bytes(&self, oem: &Oem) -> Result<Vec<u8>, Error> {
        acpi::encode(SIGNATURE, REVISION, oem, &self.body()?)
    }

    /// Parse a whole HMAT (header included). The checksum is not checked.
    pub fn parse(bytes: &[u8]) -> Result<(TableHeader, Hmat), Error> {
        let (header, body) = acpi::open(SIGNATURE, bytes)?;
        let base = acpi::HEADER_LEN;
        if body.len() < 4 {
            return Err(Error::Truncated {
                table: SIGNATURE,
                offset: base,
                need: 4,
                have: body.len(),
            });
        }
        let mut structures = Vec::new();
        let mut off = 4;
        while off < body.len() {
            let at = base + off;
            let rest = Bytes(&body[off..]);
            let (Some(kind), Some(len)) = (rest.u16(0), rest.u32(4)) else {
                return Err(Error::Truncated {
                    table: SIGNATURE,
                    offset: at,
                    need: 8,
                    have: body.len() - off,
                });
            };
            let len = len as usize;
            let bad = |what| Error::Structure {
                table: SIGNATURE,
                offset: at,
                what,
            };
            if len < 8 {
                return Err(bad("length below 8"));
            }
            let Some(s) = rest.slice(0, len) else {
                return Err(Error::Truncated {
                    table: SIGNATURE,
                    offset: at,
                    need: len,
                    have: body.len() - off,
                });
            };
            let s = Bytes(s);
            structures.push(match kind {
                0 => {
                    if len != 40 {
                        return Err(bad("memory proximity domain attributes are not 40 bytes"));
                    }
                    HmatStructure::MemoryProximity(MemoryProximity {
                        flags: s.u16(8).unwrap_or(0),
                        initiator: s.u32(12).unwrap_or(0),
                        memory: s.u32(16).unwrap_or(0),
                    })
                }
                1 => {
                    let short = || bad("latency/bandwidth structure shorter than its counts");
                    let ni = u128::from(s.u32(12).ok_or_else(short)?);
                    let nt = u128::from(s.u32(16).ok_or_else(short)?);
                    // Checked against the length before anything is
                    // allocated in proportion to the counts.
                    let want = 32 + 4 * ni + 4 * nt + 2 * ni * nt;
                    if want != len as u128 {
                        return Err(bad("latency/bandwidth length does not match its counts"));
                    }
                    let (ni, nt) = (ni as usize, nt as usize);
                    let u32s = |from: usize, n: usize| -> Vec<u32> {
                        (0..n).filter_map(|k| s.u32(from + 4 * k)).collect()
                    };
                    let initiators = u32s(32, ni);
                    let targets = u32s(32 + 4 * ni, nt);
                    let from = 32 + 4 * ni + 4 * nt;
                    let entries = (0..ni * nt).filter_map(|k| s.u16(from + 2 * k)).collect();
                    HmatStructure::Locality(Locality {
                        flags: s.u8(8).ok_or_else(short)?,
                        data_type: s.u8(9).ok_or_else(short)?,
                        min_transfer_size: s.u8(10).ok_or_else(short)?,
                        base_unit: s.u64(24).ok_or_else(short)?,
                        initiators,
                        targets,
                        entries,
                    })
                }
                2 => {
                    let n = s
                        .u16(30)
                        .ok_or_else(|| bad("memory-side cache shorter than 32 bytes"))?;
                    if len != 32 + 2 * usize::from(n) {
                        return Err(bad(
                            "memory-side cache length does not match its handle count",
                        ));
                    }
                    HmatStructure::Cache(MemorySideCache {
                        memory: s.u32(8).unwrap_or(0),
                        size: s.u64(16).unwrap_or(0),
                        attributes: CacheAttributes(s.u32(24).unwrap_or(0)),
                        smbios_handles: (0..usize::from(n))
                            .filter_map(|k| s.u16(32 + 2 * k))
                            .collect(),
                    })
                }
                _ => HmatStructure::Other {
                    kind,
                    body: s.0[8..].to_vec(),
                },
            });
            off += len;
        }
        Ok((header, Hmat { structures }))
    }
}
