//! SRAT, the System Resource Affinity Table: which proximity domain (NUMA
//! node) each CPU and each memory range belongs to.
//!
//! [`Srat`] is the table as data. [`Srat::from_topology`] builds it the way
//! QEMU 7.2 does, [`Srat::to_bytes`] encodes it and [`Srat::parse`] reads
//! it back.

use alloc::vec::Vec;

use vnuma_topology::layout::{MemoryLayout, Owner};
use vnuma_topology::Topology;

use crate::acpi::{self, Oem, TableHeader};
use crate::bytes::{Bytes, Put};
use crate::options::{MemoryStyle, ProcessorEntries, TableOptions};
use crate::Error;

/// The signature.
pub const SIGNATURE: &str = "SRAT";
/// The revision QEMU writes (1, although ACPI 6 defines 3).
pub const REVISION: u8 = 1;
/// The revision of ACPI 6.3's SRAT, which has Generic Initiator entries.
pub const REVISION_ACPI_6_3: u8 = 3;
/// Generic Initiator flag: the entry is in use.
pub const GI_ENABLED: u32 = 1;
/// Generic Initiator flag: the device takes part in the architectural
/// transactions of the processors (ACPI 6.4).
pub const GI_ARCHITECTURAL_TRANSACTIONS: u32 = 2;

/// Memory affinity flag: the entry is in use.
pub const MEM_ENABLED: u32 = 1;
/// Memory affinity flag: the range may be hot-plugged.
pub const MEM_HOTPLUGGABLE: u32 = 2;
/// Memory affinity flag: the range is non-volatile.
pub const MEM_NON_VOLATILE: u32 = 4;
/// Processor affinity flag: the entry is in use.
pub const CPU_ENABLED: u32 = 1;

/// The `[640 KiB, 1 MiB)` window QEMU leaves out of SRAT.
const HOLE_640K_START: u64 = 640 << 10;
const HOLE_640K_END: u64 = 1 << 20;

/// Processor Local APIC/SAPIC affinity (type 0, 16 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LocalApicAffinity {
    /// Proximity domain (bits 7:0 and 31:8 are stored apart).
    pub proximity: u32,
    /// Local APIC id.
    pub apic_id: u8,
    /// Flags ([`CPU_ENABLED`]).
    pub flags: u32,
    /// Local SAPIC EID.
    pub sapic_eid: u8,
    /// Clock domain.
    pub clock_domain: u32,
}

/// Memory affinity (type 1, 40 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MemoryAffinity {
    /// Proximity domain.
    pub proximity: u32,
    /// Base address.
    pub base: u64,
    /// Length in bytes.
    pub length: u64,
    /// Flags ([`MEM_ENABLED`], [`MEM_HOTPLUGGABLE`], [`MEM_NON_VOLATILE`]).
    pub flags: u32,
}

/// Processor Local x2APIC affinity (type 2, 24 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct X2ApicAffinity {
    /// Proximity domain.
    pub proximity: u32,
    /// x2APIC id.
    pub x2apic_id: u32,
    /// Flags ([`CPU_ENABLED`]).
    pub flags: u32,
    /// Clock domain.
    pub clock_domain: u32,
}

/// GICC affinity (type 3, 18 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GiccAffinity {
    /// Proximity domain.
    pub proximity: u32,
    /// ACPI processor UID.
    pub uid: u32,
    /// Flags ([`CPU_ENABLED`]).
    pub flags: u32,
    /// Clock domain.
    pub clock_domain: u32,
}

/// The device of a Generic Initiator: an ACPI device (`_HID` and `_UID`)
/// or a PCI device (segment and bus/device/function).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeviceHandle {
    /// Device handle type 0.
    Acpi {
        /// `_HID`, 8 bytes (an EISA id such as `PNP0A08` is NUL-padded).
        hid: [u8; 8],
        /// `_UID`.
        uid: u32,
    },
    /// Device handle type 1.
    Pci {
        /// PCI segment (domain).
        segment: u16,
        /// Bus number.
        bus: u8,
        /// Device (0-31) and function (0-7) as `device << 3 | function`.
        devfn: u8,
    },
}

impl DeviceHandle {
    /// A device name as a handle: a PCI address `[segment:]bus:device.function`
    /// in hexadecimal (`0000:00:04.0`, `01:00.0`), or `acpi:HID:UID`
    /// (`acpi:ACPI0016:0`, UID in decimal). `None` for anything else.
    ///
    /// ```
    /// use vnuma_tables::srat::DeviceHandle;
    /// assert_eq!(
    ///     DeviceHandle::parse("0000:00:04.1"),
    ///     Some(DeviceHandle::Pci { segment: 0, bus: 0, devfn: 4 << 3 | 1 })
    /// );
    /// assert!(matches!(DeviceHandle::parse("acpi:ACPI0016:2"), Some(DeviceHandle::Acpi { uid: 2, .. })));
    /// assert_eq!(DeviceHandle::parse("gpu0"), None);
    /// ```
    pub fn parse(name: &str) -> Option<DeviceHandle> {
        if let Some(rest) = name.strip_prefix("acpi:") {
            let (hid, uid) = rest.rsplit_once(':')?;
            if hid.is_empty() || hid.len() > 8 || !hid.is_ascii() {
                return None;
            }
            let mut h = [0u8; 8];
            h[..hid.len()].copy_from_slice(hid.as_bytes());
            return Some(DeviceHandle::Acpi {
                hid: h,
                uid: uid.parse().ok()?,
            });
        }
        let hex = |t: &str, max: u32| {
            (!t.is_empty() && t.len() <= 4 && t.bytes().all(|b| b.is_ascii_hexdigit()))
                .then(|| u32::from_str_radix(t, 16).ok())
                .flatten()
                .filter(|&v| v <= max)
        };
        let (head, function) = name.rsplit_once('.')?;
        let mut parts = head.rsplit(':');
        let device = hex(parts.next()?, 31)?;
        let bus = hex(parts.next()?, 255)?;
        let segment = match parts.next() {
            Some(seg) => hex(seg, 0xffff)?,
            None => 0,
        };
        if parts.next().is_some() {
            return None;
        }
        let function = hex(function, 7)?;
        Some(DeviceHandle::Pci {
            segment: segment as u16,
            bus: bus as u8,
            devfn: (device << 3 | function) as u8,
        })
    }
}

/// Generic Initiator affinity (type 5, 32 bytes, ACPI 6.3): a device that
/// initiates memory accesses (a GPU, an accelerator) in a proximity
/// domain, which may have no CPU and no memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GenericInitiatorAffinity {
    /// Proximity domain.
    pub proximity: u32,
    /// The device.
    pub device: DeviceHandle,
    /// Flags ([`GI_ENABLED`], [`GI_ARCHITECTURAL_TRANSACTIONS`]).
    pub flags: u32,
}

/// One SRAT structure.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SratEntry {
    /// Type 0.
    LocalApic(LocalApicAffinity),
    /// Type 1.
    Memory(MemoryAffinity),
    /// Type 2.
    X2Apic(X2ApicAffinity),
    /// Type 3.
    Gicc(GiccAffinity),
    /// Type 5.
    GenericInitiator(GenericInitiatorAffinity),
    /// Type 6 (ACPI 6.4): a Generic Port, such as a CXL host bridge,
    /// with the same layout as a Generic Initiator.
    GenericPort(GenericInitiatorAffinity),
    /// Any other type, kept as bytes.
    Other {
        /// Structure type.
        kind: u8,
        /// The bytes after the type and length bytes.
        body: Vec<u8>,
    },
}

impl SratEntry {
    /// The proximity domain, for the known types.
    pub fn proximity(&self) -> Option<u32> {
        match self {
            SratEntry::LocalApic(e) => Some(e.proximity),
            SratEntry::Memory(e) => Some(e.proximity),
            SratEntry::X2Apic(e) => Some(e.proximity),
            SratEntry::Gicc(e) => Some(e.proximity),
            SratEntry::GenericInitiator(e) | SratEntry::GenericPort(e) => Some(e.proximity),
            SratEntry::Other { .. } => None,
        }
    }
}

/// The SRAT body: its structures in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Srat {
    /// The structures.
    pub entries: Vec<SratEntry>,
}

impl Srat {
    /// The SRAT of a topology and its memory layout.
    ///
    /// CPUs: one entry per possible CPU slot, in slot order, with the
    /// slot's node (node 0 when NUMA is off). Memory: see [`MemoryStyle`].
    /// Then, with [`TableOptions::generic_initiators`], one Generic
    /// Initiator entry per device of a node, then one Generic Port entry
    /// per port of a node, whose name
    /// [`DeviceHandle::parse`] reads (nodes in id order; [`crate::build`]
    /// refuses names it cannot read, see [`generic_initiators`]).
    /// A topology without NUMA is described as one node 0 holding all RAM
    /// (QEMU builds no SRAT then; [`crate::build`] returns `None`).
    pub fn from_topology(t: &Topology, layout: &MemoryLayout, opts: &TableOptions) -> Srat {
        let mut entries = Vec::with_capacity(t.cpus().len() + t.nodes().len() * 3 + 3);
        for cpu in t.cpus() {
            let proximity = cpu.node.unwrap_or(0);
            let arch = cpu.slot.apic_id;
            entries.push(match opts.processors {
                ProcessorEntries::X2Apic => SratEntry::X2Apic(X2ApicAffinity {
                    proximity,
                    x2apic_id: arch,
                    flags: CPU_ENABLED,
                    clock_domain: 0,
                }),
                ProcessorEntries::Apic => match u8::try_from(arch) {
                    Ok(apic_id) if apic_id < 255 => SratEntry::LocalApic(LocalApicAffinity {
                        proximity,
                        apic_id,
                        flags: CPU_ENABLED,
                        ..LocalApicAffinity::default()
                    }),
                    _ => SratEntry::X2Apic(X2ApicAffinity {
                        proximity,
                        x2apic_id: arch,
                        flags: CPU_ENABLED,
                        clock_domain: 0,
                    }),
                },
                ProcessorEntries::Gicc => SratEntry::Gicc(GiccAffinity {
                    proximity,
                    uid: cpu.slot.index,
                    flags: CPU_ENABLED,
                    clock_domain: 0,
                }),
            });
        }
        let sizes: Vec<u64> = if t.nodes().is_empty() {
            alloc::vec![t.ram_size()]
        } else {
            t.nodes().iter().map(|n| n.mem).collect()
        };
        // NVDIMMs: enabled, non-volatile, on their node (QEMU's
        // nvdimm_build_srat, after boot RAM and before the padding).
        let mut nvdimms: Vec<_> = t
            .devices()
            .iter()
            .filter(|d| {
                matches!(
                    d.config.kind,
                    vnuma_topology::MemoryDeviceKind::Nvdimm { .. }
                )
            })
            .collect();
        nvdimms.sort_by_key(|d| d.range.start());
        let nvdimms: Vec<SratEntry> = nvdimms
            .into_iter()
            .map(|d| {
                memory(
                    d.range.start(),
                    u64::try_from(d.range.size()).unwrap_or(u64::MAX),
                    d.node.unwrap_or(0),
                    MEM_ENABLED | MEM_NON_VOLATILE,
                )
            })
            .collect();
        match opts.memory_style(t) {
            MemoryStyle::Layout => {
                layout_memory(layout, sizes.len(), &mut entries);
                entries.extend(nvdimms);
            }
            _ => {
                let ids: Vec<u32> = t.nodes().iter().map(|n| n.id).collect();
                qemu_memory(layout, &sizes, &ids, nvdimms, &mut entries)
            }
        }
        if let Some(window) = layout.device_memory() {
            // QEMU: the last node (`nb_numa_nodes - 1`).
            let last = t.nodes().last().map_or(0, |n| n.id);
            entries.push(memory(
                window.start(),
                u64::try_from(window.size()).unwrap_or(u64::MAX),
                last,
                MEM_HOTPLUGGABLE | MEM_ENABLED,
            ));
        }
        if opts.generic_initiators {
            let affinity = |(proximity, name): (u32, &str)| {
                Some(GenericInitiatorAffinity {
                    proximity,
                    device: DeviceHandle::parse(name)?,
                    flags: GI_ENABLED,
                })
            };
            entries.extend(
                devices(t)
                    .filter_map(affinity)
                    .map(SratEntry::GenericInitiator),
            );
            entries.extend(ports(t).filter_map(affinity).map(SratEntry::GenericPort));
        }
        Srat { entries }
    }

    /// The revision to write: `opts.srat_revision`, else [`REVISION`], or
    /// [`REVISION_ACPI_6_3`] when the table has Generic Initiator entries.
    pub fn revision(&self, opts: &TableOptions) -> u8 {
        opts.srat_revision.unwrap_or_else(|| {
            if self.entries.iter().any(|e| {
                matches!(
                    e,
                    SratEntry::GenericInitiator(_) | SratEntry::GenericPort(_)
                )
            }) {
                REVISION_ACPI_6_3
            } else {
                REVISION
            }
        })
    }

    /// The processor entries as (arch id, proximity domain, flags): APIC
    /// or x2APIC id, or GICC processor UID.
    pub fn processors(&self) -> impl Iterator<Item = (u32, u32, u32)> + '_ {
        self.entries.iter().filter_map(|e| match e {
            SratEntry::LocalApic(c) => Some((u32::from(c.apic_id), c.proximity, c.flags)),
            SratEntry::X2Apic(c) => Some((c.x2apic_id, c.proximity, c.flags)),
            SratEntry::Gicc(c) => Some((c.uid, c.proximity, c.flags)),
            _ => None,
        })
    }

    /// The memory affinity entries, padding included.
    pub fn memory(&self) -> impl Iterator<Item = &MemoryAffinity> + '_ {
        self.entries.iter().filter_map(|e| match e {
            SratEntry::Memory(m) => Some(m),
            _ => None,
        })
    }

    /// Encode the body.
    pub fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(12 + self.entries.len() * 40);
        b.put_u32(1); // "table revision", reserved as 1
        b.put_u64(0);
        for e in &self.entries {
            match e {
                SratEntry::LocalApic(c) => {
                    b.put_u8(0);
                    b.put_u8(16);
                    b.put_u8(c.proximity as u8);
                    b.put_u8(c.apic_id);
                    b.put_u32(c.flags);
                    b.put_u8(c.sapic_eid);
                    b.extend_from_slice(&c.proximity.to_le_bytes()[1..]);
                    b.put_u32(c.clock_domain);
                }
                SratEntry::Memory(m) => put_memory(&mut b, m),
                SratEntry::X2Apic(c) => {
                    b.put_u8(2);
                    b.put_u8(24);
                    b.put_u16(0);
                    b.put_u32(c.proximity);
                    b.put_u32(c.x2apic_id);
                    b.put_u32(c.flags);
                    b.put_u32(c.clock_domain);
                    b.put_u32(0);
                }
                SratEntry::Gicc(c) => {
                    b.put_u8(3);
                    b.put_u8(18);
                    b.put_u32(c.proximity);
                    b.put_u32(c.uid);
                    b.put_u32(c.flags);
                    b.put_u32(c.clock_domain);
                }
                SratEntry::GenericInitiator(g) | SratEntry::GenericPort(g) => {
                    b.put_u8(if matches!(e, SratEntry::GenericPort(_)) {
                        6
                    } else {
                        5
                    });
                    b.put_u8(32);
                    b.put_u8(0);
                    match g.device {
                        DeviceHandle::Acpi { hid, uid } => {
                            b.put_u8(0);
                            b.put_u32(g.proximity);
                            b.extend_from_slice(&hid);
                            b.put_u32(uid);
                            b.put_u32(0);
                        }
                        DeviceHandle::Pci {
                            segment,
                            bus,
                            devfn,
                        } => {
                            b.put_u8(1);
                            b.put_u32(g.proximity);
                            b.put_u16(segment);
                            b.put_u8(bus);
                            b.put_u8(devfn);
                            b.extend_from_slice(&[0; 12]);
                        }
                    }
                    b.put_u32(g.flags);
                    b.put_u32(0);
                }
                SratEntry::Other { kind, body } => {
                    b.put_u8(*kind);
                    // A length that does not fit is clamped; `to_bytes`
                    // rejects such entries first.
                    b.put_u8(u8::try_from(body.len() + 2).unwrap_or(u8::MAX));
                    b.extend_from_slice(body);
                }
            }
        }
        b
    }

    /// Encode the whole table with a header and checksum, with QEMU's
    /// revision ([`REVISION`]).
    pub fn to_bytes(&self, oem: &Oem) -> Result<Vec<u8>, Error> {
        self.to_bytes_with_revision(oem, REVISION)
    }

    /// Encode the whole table with a header (of revision `revision`) and
    /// checksum.
    pub fn to_bytes_with_revision(&self, oem: &Oem, revision: u8) -> Result<Vec<u8>, Error> {
        if self
            .entries
            .iter()
            .any(|e| matches!(e, SratEntry::Other { body, .. } if body.len() > 253))
        {
            return Err(Error::TooManyEntries {
                table: SIGNATURE,
                what: "a structure of unknown type",
            });
        }
        acpi::encode(SIGNATURE, revision, oem, &self.body())
    }

    /// Parse a whole SRAT (header included). The checksum is not checked
    /// (see [`acpi::checksum_valid`]).
    pub fn parse(bytes: &[u8]) -> Result<(TableHeader, Srat), Error> {
        let (header, body) = acpi::open(SIGNATURE, bytes)?;
        let base = acpi::HEADER_LEN;
        if body.len() < 12 {
            return Err(Error::Truncated {
                table: SIGNATURE,
                offset: base,
                need: 12,
                have: body.len(),
            });
        }
        let mut entries = Vec::new();
        let mut off = 12;
        while off < body.len() {
            let b = Bytes(&body[off..]);
            let at = base + off;
            let (Some(kind), Some(len)) = (b.u8(0), b.u8(1)) else {
                return Err(Error::Truncated {
                    table: SIGNATURE,
                    offset: at,
                    need: 2,
                    have: body.len() - off,
                });
            };
            let len = usize::from(len);
            if len < 2 {
                return Err(Error::Structure {
                    table: SIGNATURE,
                    offset: at,
                    what: "length below 2",
                });
            }
            let Some(s) = b.slice(0, len) else {
                return Err(Error::Truncated {
                    table: SIGNATURE,
                    offset: at,
                    need: len,
                    have: body.len() - off,
                });
            };
            let s = Bytes(s);
            let want = match kind {
                0 => 16,
                1 => 40,
                2 => 24,
                3 => 18,
                5 => 32,
                _ => len,
            };
            if len != want {
                return Err(Error::Structure {
                    table: SIGNATURE,
                    offset: at,
                    what: "wrong length for its type",
                });
            }
            // In bounds: `s` has exactly the length of its type.
            let u32_at = |i| s.u32(i).unwrap_or(0);
            entries.push(match kind {
                0 => {
                    let hi = s.array::<3>(9).unwrap_or([0; 3]);
                    SratEntry::LocalApic(LocalApicAffinity {
                        proximity: u32::from_le_bytes([s.u8(2).unwrap_or(0), hi[0], hi[1], hi[2]]),
                        apic_id: s.u8(3).unwrap_or(0),
                        flags: u32_at(4),
                        sapic_eid: s.u8(8).unwrap_or(0),
                        clock_domain: u32_at(12),
                    })
                }
                1 => SratEntry::Memory(MemoryAffinity {
                    proximity: u32_at(2),
                    base: s.u64(8).unwrap_or(0),
                    length: s.u64(16).unwrap_or(0),
                    flags: u32_at(28),
                }),
                2 => SratEntry::X2Apic(X2ApicAffinity {
                    proximity: u32_at(4),
                    x2apic_id: u32_at(8),
                    flags: u32_at(12),
                    clock_domain: u32_at(16),
                }),
                3 => SratEntry::Gicc(GiccAffinity {
                    proximity: u32_at(2),
                    uid: u32_at(6),
                    flags: u32_at(10),
                    clock_domain: u32_at(14),
                }),
                5 | 6 if matches!(s.u8(3), Some(0 | 1)) => {
                    let device = if s.u8(3) == Some(0) {
                        DeviceHandle::Acpi {
                            hid: s.array::<8>(8).unwrap_or([0; 8]),
                            uid: u32_at(16),
                        }
                    } else {
                        DeviceHandle::Pci {
                            segment: s.u16(8).unwrap_or(0),
                            bus: s.u8(10).unwrap_or(0),
                            devfn: s.u8(11).unwrap_or(0),
                        }
                    };
                    let g = GenericInitiatorAffinity {
                        proximity: u32_at(4),
                        device,
                        flags: u32_at(24),
                    };
                    if kind == 6 {
                        SratEntry::GenericPort(g)
                    } else {
                        SratEntry::GenericInitiator(g)
                    }
                }
                _ => SratEntry::Other {
                    kind,
                    body: s.0[2..].to_vec(),
                },
            });
            off += len;
        }
        Ok((header, Srat { entries }))
    }
}

/// Every device of every node: in the topology's
/// [`affinity_order`](Topology::affinity_order), then the unlisted ones
/// with nodes in id order: (node id, device name).
fn devices(t: &Topology) -> impl Iterator<Item = (u32, &str)> + '_ {
    ordered(
        t,
        t.nodes()
            .iter()
            .flat_map(|n| n.devices.iter().map(move |d| (n.id, d.as_str()))),
    )
}

/// Every generic port of every node, ordered as [`devices`].
fn ports(t: &Topology) -> impl Iterator<Item = (u32, &str)> + '_ {
    ordered(
        t,
        t.nodes()
            .iter()
            .flat_map(|n| n.ports.iter().map(move |d| (n.id, d.as_str()))),
    )
}

/// `named` sorted (stably) by the position of each name in the
/// topology's affinity order, unlisted names last.
fn ordered<'a>(
    t: &'a Topology,
    named: impl Iterator<Item = (u32, &'a str)>,
) -> impl Iterator<Item = (u32, &'a str)> + 'a {
    let order = t.affinity_order();
    let mut all: Vec<(u32, &str)> = named.collect();
    if !order.is_empty() {
        // Each listed name once, in order; a name listed twice (one
        // device in two entries) keeps its entries together.
        let mut first: alloc::collections::BTreeMap<&str, usize> = Default::default();
        for (i, name) in order.iter().enumerate() {
            first.entry(name.as_str()).or_insert(i);
        }
        all.sort_by_key(|(_, name)| first.get(name).copied().unwrap_or(usize::MAX));
    }
    all.into_iter()
}

/// The Generic Port entries of a topology (what [`Srat::from_topology`]
/// adds after the Generic Initiators with
/// [`TableOptions::generic_initiators`]), or [`Error::DeviceHandle`] for
/// the first port name [`DeviceHandle::parse`] cannot read.
pub fn generic_ports(t: &Topology) -> Result<Vec<GenericInitiatorAffinity>, Error> {
    handles(ports(t))
}

/// The Generic Initiator entries of a topology (what
/// [`Srat::from_topology`] adds with [`TableOptions::generic_initiators`]),
/// or [`Error::DeviceHandle`] for the first device name
/// [`DeviceHandle::parse`] cannot read.
pub fn generic_initiators(t: &Topology) -> Result<Vec<GenericInitiatorAffinity>, Error> {
    handles(devices(t))
}

/// Named devices as affinity entries (enabled), or the first name that
/// is no device handle.
fn handles<'a>(
    named: impl Iterator<Item = (u32, &'a str)>,
) -> Result<Vec<GenericInitiatorAffinity>, Error> {
    named
        .map(|(proximity, name)| {
            let device = DeviceHandle::parse(name).ok_or_else(|| Error::DeviceHandle {
                node: proximity,
                device: name.into(),
            })?;
            Ok(GenericInitiatorAffinity {
                proximity,
                device,
                flags: GI_ENABLED,
            })
        })
        .collect()
}

fn memory(base: u64, length: u64, proximity: u32, flags: u32) -> SratEntry {
    SratEntry::Memory(MemoryAffinity {
        proximity,
        base,
        length,
        flags,
    })
}

fn put_memory(b: &mut Vec<u8>, m: &MemoryAffinity) {
    b.put_u8(1);
    b.put_u8(40);
    b.put_u32(m.proximity);
    b.put_u16(0);
    b.put_u64(m.base);
    b.put_u64(m.length);
    b.put_u32(0);
    b.put_u32(m.flags);
    b.put_u64(0);
}

/// QEMU 7.2's `build_srat` memory walk (hw/i386/acpi-build.c), with its
/// unsigned wrap-around arithmetic, then the padding entries. `sizes` are
/// the nodes' memory in id order and `ids` their ids (dense from QEMU's
/// syntax; a description may leave gaps, and the proximity domain is the
/// id, as in the processor entries); no nodes: one size, node 0.
fn qemu_memory(
    layout: &MemoryLayout,
    sizes: &[u64],
    ids: &[u32],
    nvdimms: Vec<SratEntry>,
    entries: &mut Vec<SratEntry>,
) {
    let split = layout.split();
    let below_4g = split.below_4g;
    let above_4g_start = split.above_4g_start;
    let first = entries.len();
    let mut next_base = 0u64;
    for (i, &node_mem) in sizes.iter().enumerate() {
        let node = ids.get(i).copied().unwrap_or(0);
        let mut mem_base = next_base;
        let mut mem_len = node_mem;
        next_base = mem_base.wrapping_add(mem_len);

        if mem_base <= HOLE_640K_START && next_base > HOLE_640K_START {
            mem_len = mem_len.wrapping_sub(next_base - HOLE_640K_START);
            if mem_len > 0 {
                entries.push(memory(mem_base, mem_len, node, MEM_ENABLED));
            }
            // A node ending inside the window: the next one starts at 1 MiB.
            if next_base <= HOLE_640K_END {
                next_base = HOLE_640K_END;
                continue;
            }
            mem_base = HOLE_640K_END;
            mem_len = next_base - HOLE_640K_END;
        }

        if mem_base <= below_4g && next_base > below_4g {
            mem_len = mem_len.wrapping_sub(next_base - below_4g);
            if mem_len > 0 {
                entries.push(memory(mem_base, mem_len, node, MEM_ENABLED));
            }
            mem_base = above_4g_start;
            mem_len = next_base - below_4g;
            next_base = mem_base.wrapping_add(mem_len);
        }

        if mem_len > 0 {
            entries.push(memory(mem_base, mem_len, node, MEM_ENABLED));
        }
    }
    entries.extend(nvdimms);
    let mut slots = entries.len() - first;
    while slots < sizes.len() + 2 {
        entries.push(memory(0, 0, 0, 0));
        slots += 1;
    }
}

/// Boot RAM straight from the layout: nodes in id order, ranges in address
/// order.
fn layout_memory(layout: &MemoryLayout, nodes: usize, entries: &mut Vec<SratEntry>) {
    let mut boot: Vec<(u32, u64, u64)> = layout
        .ranges()
        .filter_map(|(r, o)| match o {
            Owner::Boot(n) => Some((n, r.start(), u64::try_from(r.size()).unwrap_or(u64::MAX))),
            Owner::Dimm(_) => None,
        })
        .collect();
    // Stable: address order is kept within a node.
    boot.sort_by_key(|&(n, _, _)| n);
    for (n, base, len) in boot {
        let _ = nodes;
        entries.push(memory(base, len, n, MEM_ENABLED));
    }
}
