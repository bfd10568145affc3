//! Guest RAM for rust-vmm consumers (feature `vm-memory`): a
//! `vm_memory::GuestMemoryMmap<B>` with the **caller's** bitmap type `B`
//! (cloud-hypervisor's `AtomicBitmap`, `()` for none), whose regions point
//! into the backends' mappings, with each region's NUMA node kept beside
//! the memory rather than inside the bitmap type.
//!
//! `vm-memory` is a public dependency of this module: its types
//! (`GuestMemoryMmap`, `GuestRegionMmap`, `GuestAddress`, the `Bitmap`
//! traits) appear in the API, so the `vm-memory` minor version this crate
//! is built against (0.18) is the one the caller must use.
//!
//! # Lifetime of the mappings
//!
//! vm-memory's regions built over an existing mapping do not own it, and a
//! `GuestMemoryMmap<B>` has no room for an owner other than the bitmap
//! (which is the caller's). So the hand-off is a [`NumaGuestMemory`],
//! which owns the memory *and* the backends (through `Arc`s): borrow the
//! memory with [`NumaGuestMemory::memory`], or take it by value with
//! [`NumaGuestMemory::into_parts`] (which hands back a [`KeepMapped`]
//! guard that must outlive it, hence `unsafe`) or
//! [`NumaGuestMemory::into_static`] (the mappings are never unmapped; for
//! VMMs whose guest memory lives as long as the process).
//!
//! # Read-only backends
//!
//! vm-memory has no read-only regions: its safe `write_slice` on a mapping
//! made with `PROT_READ` dies of SIGSEGV. A backend with `readonly=on` is
//! therefore refused ([`ErrorKind::Placement`]); read such a backend with
//! [`HostMemoryBackend::read_at`].
//!
//! # Concurrency
//!
//! Guest memory is shared with the guest's vCPUs and between VMM threads.
//! vm-memory reaches it only through volatile accessors (`VolatileSlice`,
//! `Bytes`), never through Rust references; vnuma's own safe accessors
//! (`HostMemoryBackend::write_at`/`read_at`) copy with byte-sized relaxed
//! atomics, so two threads racing on the same bytes through them see some
//! interleaving of bytes and never undefined behaviour. No `&[u8]` or
//! `&mut [u8]` into a mapping is ever created by safe code.

use std::sync::Arc;

use vm_memory::bitmap::{Bitmap, NewBitmap};
use vm_memory::{FileOffset, GuestAddress, GuestMemoryMmap, GuestMemoryRegion, GuestRegionMmap};

use crate::backend::HostMemoryBackend;
use crate::compose::GuestRam;
use crate::error::{Error, ErrorKind};
use crate::os;
use crate::plan::Source;

/// Where a stretch of boot RAM appears in guest-physical address space.
/// The facade builds these from the topology (`vnuma::gpa_segments`;
/// e.g. q35 with 4 GiB: `[0, 2G) → 0`, `[2G, 4G) → 4G`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GpaSegment {
    /// Start in boot RAM (RAM-offset space).
    pub ram_offset: u64,
    /// Bytes.
    pub len: u64,
    /// Guest-physical address of its first byte.
    pub guest_address: u64,
}

/// A stretch of one backend placed at a guest address, for VMMs that map
/// one backend per memory zone (the facade's `Vm::segments` gives them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BackendSegment {
    /// Offset in the backend's mapping.
    pub offset: u64,
    /// Bytes.
    pub len: u64,
    /// Guest-physical address of its first byte.
    pub guest_address: u64,
    /// The NUMA node (`None` without NUMA).
    pub node: Option<u32>,
}

/// One region of a [`NumaGuestMemory`]: where it is and whose it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeRegion {
    /// Guest-physical address of its first byte.
    pub guest_address: u64,
    /// Bytes.
    pub len: u64,
    /// The NUMA node (`None` without NUMA).
    pub node: Option<u32>,
    /// The backend's object id.
    pub backend: String,
    /// Offset in the backend's mapping.
    pub offset: u64,
}

/// Keeps backends mapped. Returned by [`NumaGuestMemory::into_parts`];
/// dropping it unmaps the memory once no other owner (a `GuestRam`, an
/// `Arc` the caller holds) is left.
#[derive(Clone, Debug)]
pub struct KeepMapped {
    backends: Vec<Arc<HostMemoryBackend>>,
}

impl KeepMapped {
    /// The backends kept mapped.
    pub fn backends(&self) -> &[Arc<HostMemoryBackend>] {
        &self.backends
    }
}

/// Guest memory for rust-vmm consumers, with each region's node beside
/// it: a `GuestMemoryMmap<B>` with the caller's bitmap type, and the
/// backends it points into, kept mapped while this value (or what
/// [`into_parts`](Self::into_parts) returns) lives.
#[derive(Debug)]
pub struct NumaGuestMemory<B: Bitmap = ()> {
    memory: GuestMemoryMmap<B>,
    regions: Vec<NodeRegion>,
    keep: KeepMapped,
}

fn placement(reason: impl Into<String>) -> Error {
    Error::new(
        ErrorKind::Placement {
            reason: reason.into(),
        },
        None,
    )
}

impl<B: NewBitmap> NumaGuestMemory<B> {
    /// Regions over stretches of backends, each at its guest address with
    /// its node. Fails, mapping nothing, on a read-only backend, a stretch
    /// outside its backend, overlapping guest ranges, or an address past
    /// 2^64.
    pub fn from_segments<'a, I>(segments: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (&'a Arc<HostMemoryBackend>, BackendSegment)>,
    {
        let mut out = Vec::new();
        let mut regions = Vec::new();
        let mut keep: Vec<Arc<HostMemoryBackend>> = Vec::new();
        for (b, s) in segments {
            if !b.mapping().writable() {
                return Err(placement(format!(
                    "backend '{}' is read-only and vm-memory regions are always writable",
                    b.id()
                )));
            }
            let in_range = s
                .offset
                .checked_add(s.len)
                .is_some_and(|e| e <= b.len() as u64);
            let (Ok(off), Ok(len)) = (usize::try_from(s.offset), usize::try_from(s.len)) else {
                return Err(placement("region does not fit the address space"));
            };
            if !in_range || len == 0 {
                return Err(placement(format!(
                    "0x{:x} bytes at offset 0x{:x} are not inside backend '{}' (0x{:x} bytes)",
                    s.len,
                    s.offset,
                    b.id(),
                    b.len()
                )));
            }
            let file_offset = match b.plan().source() {
                Source::Anonymous => None,
                _ => b
                    .file()
                    .map(|f| FileOffset::from_arc(Arc::clone(f), s.offset)),
            };
            let region = os::vm_region(
                b.mapping(),
                b.plan(),
                B::with_len(len),
                off,
                len,
                file_offset,
            )
            .map_err(|e| {
                placement(format!(
                    "offset 0x{:x} of backend '{}' cannot start a region: {e}",
                    s.offset,
                    b.id()
                ))
            })?;
            let g =
                GuestRegionMmap::new(region, GuestAddress(s.guest_address)).ok_or_else(|| {
                    placement(format!(
                        "region at 0x{:x} overflows the guest address space",
                        s.guest_address
                    ))
                })?;
            out.push(g);
            regions.push(NodeRegion {
                guest_address: s.guest_address,
                len: s.len,
                node: s.node,
                backend: b.id().to_string(),
                offset: s.offset,
            });
            if !keep.iter().any(|k| Arc::ptr_eq(k, b)) {
                keep.push(Arc::clone(b));
            }
        }
        out.sort_by_key(|g| g.start_addr());
        regions.sort_by_key(|r| r.guest_address);
        let memory = GuestMemoryMmap::from_regions(out).map_err(|e| placement(e.to_string()))?;
        Ok(NumaGuestMemory {
            memory,
            regions,
            keep: KeepMapped { backends: keep },
        })
    }
}

impl<B: Bitmap> NumaGuestMemory<B> {
    /// The guest memory, borrowed (the mappings stay alive meanwhile).
    pub fn memory(&self) -> &GuestMemoryMmap<B> {
        &self.memory
    }

    /// Every region with its node, in guest-address order (the same order
    /// as the regions of [`memory`](Self::memory)).
    pub fn regions(&self) -> &[NodeRegion] {
        &self.regions
    }

    /// The node of a guest-physical address (`None` outside guest RAM or
    /// without NUMA); O(log n).
    pub fn node_of(&self, addr: GuestAddress) -> Option<u32> {
        let i = self
            .regions
            .partition_point(|r| r.guest_address <= addr.0)
            .checked_sub(1)?;
        let r = &self.regions[i];
        (addr.0 - r.guest_address < r.len)
            .then_some(r.node)
            .flatten()
    }

    /// The guest memory by value, and the guard that keeps it mapped.
    ///
    /// # Safety
    ///
    /// The returned [`KeepMapped`] must outlive the memory, every clone of
    /// it and every region or `Arc<MmapRegion>` taken from it (the
    /// regions do not own their mappings; used after the last owner of a
    /// backend is dropped they would point at unmapped memory). Keep the
    /// guard next to the memory in the VMM's memory manager.
    // An `unsafe fn` only states the contract above; it has no unsafe block.
    #[allow(unsafe_code)]
    pub unsafe fn into_parts(self) -> (GuestMemoryMmap<B>, KeepMapped) {
        (self.memory, self.keep)
    }

    /// The guest memory by value, for a VMM whose guest memory lives as
    /// long as the process: the backends are never unmapped (their
    /// `Arc`s are leaked, as `Box::leak` does).
    pub fn into_static(self) -> GuestMemoryMmap<B> {
        std::mem::forget(self.keep);
        self.memory
    }
}

impl GuestRam {
    /// The guest's boot RAM as guest memory with the caller's bitmap
    /// type: one region per piece of a backend inside a segment, each
    /// with its node. Regions reference the mappings without copying.
    /// File and memfd regions carry their file and offset (for
    /// vhost-user). Read-only backends are refused.
    pub fn guest_memory<B: NewBitmap>(
        &self,
        segments: &[GpaSegment],
    ) -> Result<NumaGuestMemory<B>, Error> {
        let mut parts = Vec::new();
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
                let guest = s
                    .guest_address
                    .checked_add(start - s.ram_offset)
                    .ok_or_else(|| placement("a segment overflows the guest address space"))?;
                parts.push((
                    &self.backends()[r.backend],
                    BackendSegment {
                        offset: start - r.offset,
                        len: stop - start,
                        guest_address: guest,
                        node: r.node,
                    },
                ));
            }
        }
        NumaGuestMemory::from_segments(parts)
    }
}
