//! Memory devices cold-plugged into the device-memory window: DIMMs
//! (`pc-dimm`, `nvdimm`) and virtio memory devices (`virtio-mem`,
//! `virtio-pmem`), with QEMU 7.2's slot and address assignment and its
//! checks, in its order.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use vnuma_ranges::Range;

use crate::error::{Error, ErrorKind};

const MIB: u64 = 1 << 20;

/// What kind of memory device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum MemoryDeviceKind {
    /// A DIMM of RAM (`pc-dimm`).
    Dimm,
    /// A DIMM of persistent memory (`nvdimm`); its region is the backend
    /// less the label area, aligned down.
    Nvdimm {
        /// Bytes of the label area at the end of the backend.
        label_size: u64,
    },
    /// A virtio-mem device: a region of `size` bytes of which
    /// `requested_size` are to be plugged, in blocks.
    VirtioMem {
        /// Bytes the guest is asked to plug.
        requested_size: u64,
        /// The block size (a power of two).
        block_size: u64,
    },
    /// A virtio-pmem device: persistent memory, on no node.
    VirtioPmem,
}

impl MemoryDeviceKind {
    /// Whether the device is a DIMM (it takes a slot).
    pub const fn is_dimm(self) -> bool {
        matches!(
            self,
            MemoryDeviceKind::Dimm | MemoryDeviceKind::Nvdimm { .. }
        )
    }
}

/// A memory device of a guest, as described (cold-plugged in order).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MemoryDeviceConfig {
    /// The device's id.
    pub id: Option<String>,
    /// The kind.
    pub kind: MemoryDeviceKind,
    /// The backend holding it, by id; `None` is QEMU's `'memdev' property
    /// must be set`.
    pub backend: Option<String>,
    /// The backend's size in bytes.
    pub backend_size: u64,
    /// Alignment of the device in guest-physical space (a power of two:
    /// the backend's page size or the block size).
    pub align: u64,
    /// Its node (default 0).
    pub node: Option<u32>,
    /// A fixed guest-physical address; `None` takes the first place that
    /// fits in the window.
    pub addr: Option<u64>,
    /// A DIMM slot; `None` takes the first free one.
    pub slot: Option<i64>,
}

impl MemoryDeviceConfig {
    /// A device of `kind` on a backend of `backend_size` bytes, aligned to
    /// 2 MiB, on node 0, placed first-fit.
    pub fn new(kind: MemoryDeviceKind, backend: impl Into<String>, backend_size: u64) -> Self {
        MemoryDeviceConfig {
            id: None,
            kind,
            backend: Some(backend.into()),
            backend_size,
            align: 2 * MIB,
            node: None,
            addr: None,
            slot: None,
        }
    }

    /// The device with an id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The device on `node`.
    pub fn node(mut self, node: u32) -> Self {
        self.node = Some(node);
        self
    }

    /// The device at a fixed address.
    pub fn at(mut self, addr: u64) -> Self {
        self.addr = Some(addr);
        self
    }
}

/// A memory device as plugged.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PlacedDevice {
    /// As described.
    pub config: MemoryDeviceConfig,
    /// Its guest-physical range.
    pub range: Range,
    /// Its DIMM slot.
    pub slot: Option<u32>,
    /// Its node (`None` for virtio-pmem).
    pub node: Option<u32>,
}

impl PlacedDevice {
    /// Bytes the device adds to its node in `info numa` (`plugged`):
    /// DIMMs their size, virtio-mem what is plugged (nothing at boot),
    /// virtio-pmem its size (on node 0, as QEMU 7.2 counts it).
    pub fn plugged(&self) -> u64 {
        match self.config.kind {
            MemoryDeviceKind::VirtioMem { .. } => 0,
            _ => u64::try_from(self.range.size()).unwrap_or(u64::MAX),
        }
    }
}

/// What plugging needs to know about the machine.
pub(crate) struct Machine<'a> {
    /// An x86 board (ACPI needed for DIMMs).
    pub(crate) x86: bool,
    /// An aarch64 `virt` board: whether it has the ACPI GED device
    /// (firmware and ACPI) that memory hotplug needs.
    pub(crate) virt_ged: Option<bool>,
    pub(crate) acpi: bool,
    pub(crate) nvdimm: bool,
    pub(crate) ram_slots: u64,
    pub(crate) window: Option<Range>,
    /// `maxmem - ram`.
    pub(crate) device_space: u64,
    /// Node count (0 without NUMA).
    pub(crate) nodes: &'a [u32],
    /// Backends already in use (by nodes or the machine).
    pub(crate) busy: Vec<String>,
    /// QEMU 10.0's messages where they differ from 7.2's.
    pub(crate) qemu_10: bool,
    /// Backends with `prealloc=on`.
    pub(crate) preallocated: Vec<String>,
}

fn align_up(v: u64, align: u64) -> Option<u64> {
    v.checked_add(align - 1).map(|x| x / align * align)
}

/// Plug every device in order, as QEMU 7.2 creates them.
pub(crate) fn plug_all(
    m: &mut Machine<'_>,
    devices: &[MemoryDeviceConfig],
) -> Result<Vec<PlacedDevice>, Error> {
    let mut placed: Vec<PlacedDevice> = Vec::with_capacity(devices.len());
    for (i, d) in devices.iter().enumerate() {
        let p = plug(m, &placed, d).map_err(|kind| Error::in_device(kind, i))?;
        if let Some(b) = &d.backend {
            m.busy.push(b.clone());
        }
        placed.push(p);
    }
    Ok(placed)
}

fn plug(
    m: &Machine<'_>,
    placed: &[PlacedDevice],
    d: &MemoryDeviceConfig,
) -> Result<PlacedDevice, ErrorKind> {
    let dimm = d.kind.is_dimm();
    if dimm && m.x86 && !m.acpi {
        return Err(ErrorKind::MemoryHotplugNoAcpi);
    }
    if dimm && m.virt_ged == Some(false) {
        return Err(crate::virt::VirtError::MissingAcpiGed.into());
    }
    if matches!(d.kind, MemoryDeviceKind::Nvdimm { .. }) && !m.nvdimm && m.virt_ged.is_some() {
        return Err(crate::virt::VirtError::NvdimmNotEnabled.into());
    }
    if matches!(d.kind, MemoryDeviceKind::Nvdimm { .. }) && !m.nvdimm {
        return Err(ErrorKind::NvdimmNotEnabled);
    }
    let slot = if dimm {
        Some(free_slot(m, placed, d.slot)?)
    } else {
        None
    };
    let Some(backend) = &d.backend else {
        return Err(ErrorKind::MemdevNotSet);
    };
    let align = d.align.max(1);
    if !align.is_power_of_two() {
        return Err(ErrorKind::DeviceAlignment { align });
    }
    let size = match d.kind {
        MemoryDeviceKind::Nvdimm { label_size } => {
            let pmem = d.backend_size.saturating_sub(label_size) / align * align;
            if pmem == 0 {
                return Err(ErrorKind::NvdimmTooSmall {
                    memdev: backend.clone(),
                    size: d.backend_size,
                    label: label_size,
                    align,
                });
            }
            pmem
        }
        _ => d.backend_size,
    };
    let align = match d.kind {
        MemoryDeviceKind::VirtioMem { block_size, .. } => align.max(block_size),
        _ => align,
    };
    let range = free_addr(m, placed, d, align, size)?;

    // Realize: a DIMM checks its node before its backend, virtio-mem the
    // other way round (QEMU 7.2's pc_dimm_realize, virtio_mem_device_realize).
    let busy = m.busy.iter().any(|b| b == backend)
        || placed
            .iter()
            .any(|p| p.config.backend.as_ref() == Some(backend));
    let busy_error = || {
        let memdev = backend.clone();
        if matches!(d.kind, MemoryDeviceKind::VirtioMem { .. }) {
            ErrorKind::VirtioMemdevBusy { memdev }
        } else {
            ErrorKind::MemdevBusy { memdev }
        }
    };
    if busy && !dimm {
        return Err(busy_error());
    }
    // QEMU 10.0's virtio-mem preallocates what it plugs (its own
    // `prealloc=on`) and refuses a preallocated backend.
    if m.qemu_10
        && matches!(d.kind, MemoryDeviceKind::VirtioMem { .. })
        && m.preallocated.iter().any(|b| b == backend)
    {
        return Err(ErrorKind::VirtioMemdevPrealloc {
            memdev: backend.clone(),
        });
    }
    let node = d.node.unwrap_or(0);
    let count = m.nodes.len() as u32;
    let bad_node = if count > 0 {
        !m.nodes.contains(&node)
    } else {
        node > 0
    };
    if bad_node && !matches!(d.kind, MemoryDeviceKind::VirtioPmem) {
        return Err(if dimm {
            ErrorKind::DimmNode { node, nodes: count }
        } else {
            ErrorKind::VirtioMemNodeRange { node, nodes: count }
        });
    }
    if busy {
        return Err(busy_error());
    }
    if let MemoryDeviceKind::VirtioMem {
        requested_size,
        block_size,
    } = d.kind
    {
        if block_size == 0 || requested_size % block_size != 0 {
            return Err(ErrorKind::VirtioMemRequestedSize { block_size });
        }
    }
    Ok(PlacedDevice {
        config: d.clone(),
        range,
        slot,
        node: (!matches!(d.kind, MemoryDeviceKind::VirtioPmem)).then_some(node),
    })
}

/// QEMU's `pc_dimm_get_free_slot`.
fn free_slot(
    m: &Machine<'_>,
    placed: &[PlacedDevice],
    hint: Option<i64>,
) -> Result<u32, ErrorKind> {
    if m.ram_slots == 0 {
        return Err(ErrorKind::NoSlots);
    }
    let busy = |s: u64| placed.iter().any(|p| p.slot.map(u64::from) == Some(s));
    match hint.filter(|&h| h != -1) {
        Some(h) => {
            if h < 0 || h as u64 >= m.ram_slots {
                return Err(ErrorKind::SlotRange {
                    slot: h,
                    max: m.ram_slots - 1,
                });
            }
            if busy(h as u64) {
                return Err(ErrorKind::SlotBusy { slot: h });
            }
            Ok(h as u32)
        }
        None => (0..m.ram_slots)
            .find(|&s| !busy(s))
            .map(|s| s as u32)
            .ok_or(ErrorKind::NoFreeSlots),
    }
}

/// QEMU 7.2's `memory_device_get_free_addr`.
fn free_addr(
    m: &Machine<'_>,
    placed: &[PlacedDevice],
    d: &MemoryDeviceConfig,
    align: u64,
    size: u64,
) -> Result<Range, ErrorKind> {
    let Some(window) = m.window else {
        return Err(if m.qemu_10 {
            ErrorKind::DeviceMemoryNotPrepared
        } else {
            ErrorKind::DeviceMemoryDisabled
        });
    };
    let base = window.start();
    let window_size = u64::try_from(window.size()).unwrap_or(u64::MAX);
    if align_up(base, align) != Some(base) {
        return Err(ErrorKind::DeviceAlignment { align });
    }
    let used: u64 = placed
        .iter()
        .map(|p| u64::try_from(p.range.size()).unwrap_or(u64::MAX))
        .fold(0, u64::saturating_add);
    if used.saturating_add(size) > m.device_space {
        return Err(ErrorKind::DeviceSpace {
            used,
            total: m.device_space,
        });
    }
    let hint = d.addr.filter(|&a| a != 0);
    if let Some(h) = hint {
        if align_up(h, align) != Some(h) {
            return Err(ErrorKind::DeviceAddrAlign { align });
        }
    }
    // QEMU 10.0 holds a virtio-mem backend's size to the backend's own
    // alignment here and to the block size when the device realizes
    // (7.2: to the block size here).
    match d.kind {
        MemoryDeviceKind::VirtioMem { block_size, .. } if m.qemu_10 => {
            let backend_align = d.align.max(1);
            if size % backend_align != 0 {
                return Err(ErrorKind::DeviceSizeAlign {
                    align: backend_align,
                });
            }
            if block_size != 0 && size % block_size != 0 {
                return Err(ErrorKind::VirtioMemdevBlockSize { block_size });
            }
        }
        _ => {
            if size % align != 0 {
                return Err(ErrorKind::DeviceSizeAlign { align });
            }
        }
    }
    let out_of_window = || ErrorKind::DeviceOutsideWindow {
        addr: hint.unwrap_or(0),
        size,
        base,
        window: window_size,
    };
    let mut new_addr = match hint {
        Some(h) => {
            let fits = Range::from_start_len(h, size)
                .ok()
                .is_some_and(|r| window.intersection(&r) == Some(r));
            if !fits {
                return Err(out_of_window());
            }
            h
        }
        None => base,
    };
    let mut by_addr: Vec<&PlacedDevice> = placed.iter().collect();
    by_addr.sort_by_key(|p| p.range.start());
    for p in by_addr {
        let overlaps = Range::from_start_len(new_addr, size)
            .ok()
            .is_some_and(|r| r.overlaps(&p.range));
        if overlaps {
            if hint.is_some() {
                return Err(ErrorKind::DeviceConflict {
                    id: p.config.id.clone().unwrap_or_else(|| "(unnamed)".into()),
                });
            }
            let end = p.range.end().ok_or(ErrorKind::DeviceFragmented)?;
            new_addr = align_up(end, align).ok_or(ErrorKind::DeviceFragmented)?;
        }
    }
    match Range::from_start_len(new_addr, size) {
        Ok(r) if window.intersection(&r) == Some(r) => Ok(r),
        _ => Err(ErrorKind::DeviceFragmented),
    }
}

/// `devices[i]`.
pub(crate) fn path(i: usize) -> String {
    format!("devices[{i}]")
}
