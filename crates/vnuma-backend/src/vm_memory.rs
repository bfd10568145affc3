//! Guest RAM for rust-vmm consumers (feature `vm-memory`): a
//! `vm_memory::GuestMemoryMmap` whose regions point into the backends'
//! mappings and know their NUMA node.

use std::sync::Arc;

use vm_memory::bitmap::{Bitmap, NewBitmap, WithBitmapSlice};
use vm_memory::{FileOffset, GuestAddress, GuestMemoryMmap, GuestRegionMmap};

use crate::backend::HostMemoryBackend;
use crate::compose::GuestRam;
use crate::error::{Error, ErrorKind};
use crate::os;
use crate::plan::Source;

/// Where a stretch of boot RAM appears in guest-physical address space.
/// The facade builds these from `vnuma_topology::layout::MemoryLayout`
/// (e.g. q35 with 4 GiB: `[0, 2G) → 0`, `[2G, 4G) → 4G`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GpaSegment {
    /// Start in boot RAM (RAM-offset space).
    pub ram_offset: u64,
    /// Bytes.
    pub len: u64,
    /// Guest-physical address of its first byte.
    pub guest_address: u64,
}

/// The bitmap type of the regions vnuma hands out: it wraps a dirty
/// bitmap `B` (`()` for none) and carries the region's NUMA node and a
/// reference to the backend, which keeps the host mapping alive for as
/// long as any region (or a clone of the memory) exists.
#[derive(Clone, Debug)]
pub struct NodeBitmap<B = ()> {
    inner: B,
    node: Option<u32>,
    backend: Arc<HostMemoryBackend>,
}

impl<B> NodeBitmap<B> {
    /// The region's NUMA node (`None` without NUMA).
    pub fn node(&self) -> Option<u32> {
        self.node
    }

    /// The backend the region belongs to.
    pub fn backend(&self) -> &Arc<HostMemoryBackend> {
        &self.backend
    }

    /// The wrapped dirty bitmap.
    pub fn inner(&self) -> &B {
        &self.inner
    }
}

impl<'a, B: WithBitmapSlice<'a>> WithBitmapSlice<'a> for NodeBitmap<B> {
    type S = B::S;
}

impl<B: Bitmap> Bitmap for NodeBitmap<B> {
    fn mark_dirty(&self, offset: usize, len: usize) {
        self.inner.mark_dirty(offset, len)
    }

    fn dirty_at(&self, offset: usize) -> bool {
        self.inner.dirty_at(offset)
    }

    fn slice_at(&self, offset: usize) -> <Self as WithBitmapSlice<'_>>::S {
        self.inner.slice_at(offset)
    }
}

/// The NUMA node of a region from [`GuestRam::guest_memory`] (`None`
/// without NUMA). Same as `MmapRegion::bitmap(region).node()`; the
/// `GuestMemoryRegion::bitmap` method gives the dirty-bitmap slice instead.
pub fn region_node<B: Bitmap>(region: &GuestRegionMmap<NodeBitmap<B>>) -> Option<u32> {
    std::ops::Deref::deref(region).bitmap().node()
}

fn placement(reason: impl Into<String>) -> Error {
    Error::new(
        ErrorKind::Placement {
            reason: reason.into(),
        },
        None,
    )
}

impl GuestRam {
    /// The guest's boot RAM as a `GuestMemoryMmap`, one region per piece
    /// of a backend inside a segment, each with its node
    /// ([`region_node`]). Regions reference the mappings
    /// without copying; the mappings stay alive while any region does.
    /// File and memfd regions carry their file and offset (for
    /// vhost-user).
    pub fn guest_memory<B: NewBitmap>(
        &self,
        segments: &[GpaSegment],
    ) -> Result<GuestMemoryMmap<NodeBitmap<B>>, Error> {
        let mut out = Vec::new();
        for s in segments {
            let end = s
                .ram_offset
                .checked_add(s.len)
                .filter(|&e| e <= self.ram_size())
                .ok_or_else(|| {
                    placement(format!(
                        "segment at RAM offset 0x{:x} of 0x{:x} bytes is outside the RAM (0x{:x} bytes)",
                        s.ram_offset,
                        s.len,
                        self.ram_size()
                    ))
                })?;
            for r in self.regions() {
                let start = s.ram_offset.max(r.offset);
                let stop = end.min(r.offset + r.size);
                if start >= stop {
                    continue;
                }
                let b = &self.backends()[r.backend];
                let within = start - r.offset;
                let len = stop - start;
                let (Ok(off), Ok(ulen)) = (usize::try_from(within), usize::try_from(len)) else {
                    return Err(placement("region does not fit the address space"));
                };
                let file_offset = match b.plan().source() {
                    Source::Anonymous => None,
                    _ => b
                        .file()
                        .map(|f| FileOffset::from_arc(Arc::clone(f), within)),
                };
                let bitmap = NodeBitmap {
                    inner: B::with_len(ulen),
                    node: r.node,
                    backend: Arc::clone(b),
                };
                let region = os::vm_region(bitmap, off, ulen, file_offset).map_err(|e| {
                    placement(format!("RAM offset 0x{start:x} cannot start a region: {e}"))
                })?;
                let guest = s
                    .guest_address
                    .checked_add(start - s.ram_offset)
                    .ok_or_else(|| placement("a segment overflows the guest address space"))?;
                let g = GuestRegionMmap::new(region, GuestAddress(guest)).ok_or_else(|| {
                    placement(format!(
                        "region at 0x{guest:x} overflows the guest address space"
                    ))
                })?;
                out.push(g);
            }
        }
        out.sort_by_key(|g| g.start_addr());
        GuestMemoryMmap::from_regions(out).map_err(|e| placement(e.to_string()))
    }
}

use vm_memory::GuestMemoryRegion as _;
