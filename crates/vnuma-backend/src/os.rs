//! The operating-system calls, and the only place with `unsafe`.
//!
//! Host memory for a guest cannot be had without raw system calls: `mmap`
//! and `munmap`, `madvise`, `mbind`, `memfd_create`, `fstatfs`/`statvfs`,
//! `fcntl` seals, `fallocate`, `sched_setaffinity`, and the touch loop
//! that preallocates pages on kernels without `MADV_POPULATE_WRITE`. This
//! module wraps each of them in a safe function or in [`Mapping`], a value
//! that owns one mapping and unmaps it on drop, so that the rest of the
//! crate (and every other crate of the workspace) stays free of `unsafe`.
//! Every `unsafe` block carries a `// SAFETY:` comment.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU8, Ordering};

/// `MPOL_*` modes and flags of the kernel's `mbind` ABI (the libc crate
/// does not have them all).
pub(crate) mod mpol {
    pub(crate) const DEFAULT: i32 = 0;
    pub(crate) const PREFERRED: i32 = 1;
    pub(crate) const BIND: i32 = 2;
    pub(crate) const INTERLEAVE: i32 = 3;
    /// Linux ≥ 5.15.
    pub(crate) const PREFERRED_MANY: i32 = 5;
    pub(crate) const MF_STRICT: u32 = 1;
    pub(crate) const MF_MOVE: u32 = 2;
}

/// `memfd_create` flags.
pub(crate) mod mfd {
    pub(crate) const CLOEXEC: u32 = 1;
    pub(crate) const ALLOW_SEALING: u32 = 2;
    pub(crate) const HUGETLB: u32 = 4;
    pub(crate) const HUGE_SHIFT: u32 = 26;
}

/// `madvise` advice values used here.
pub(crate) mod madv {
    pub(crate) const REMOVE: i32 = libc::MADV_REMOVE;
    pub(crate) const DONTDUMP: i32 = libc::MADV_DONTDUMP;
    pub(crate) const MERGEABLE: i32 = libc::MADV_MERGEABLE;
    pub(crate) const HUGEPAGE: i32 = libc::MADV_HUGEPAGE;
    /// Linux ≥ 5.14.
    pub(crate) const POPULATE_READ: i32 = 22;
    /// Linux ≥ 5.14.
    pub(crate) const POPULATE_WRITE: i32 = 23;
}

/// `statfs` magic of hugetlbfs.
pub(crate) const HUGETLBFS_MAGIC: i64 = 0x9584_58f6;

/// An errno value.
pub(crate) type Errno = i32;

/// The calling thread's errno.
fn errno() -> Errno {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The C library's text for `errno` (`Invalid argument`), as QEMU prints
/// it.
pub(crate) fn strerror(errno: Errno) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for its whole length, which is what we
    // pass; the XSI `strerror_r` (libc links `__xpg_strerror_r`) writes a
    // NUL-terminated string of at most that many bytes and nothing else.
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {errno}");
    }
    match CStr::from_bytes_until_nul(&buf) {
        Ok(s) => s.to_string_lossy().into_owned(),
        Err(_) => format!("Unknown error {errno}"),
    }
}

/// Base pages asked about per `mincore` call by [`Mapping::resident_pages`].
pub(crate) const MINCORE_WINDOW: usize = 1 << 16;

/// The base page size of the host.
pub(crate) fn page_size() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(v).ok().filter(|&v| v > 0).unwrap_or(4096)
}

/// Online CPUs (`sysconf(_SC_NPROCESSORS_ONLN)`), as QEMU counts them
/// for its prealloc thread rule; `None` if unknown.
pub(crate) fn online_cpus() -> Option<usize> {
    // SAFETY: sysconf only reads a configuration value.
    let v = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(v).ok().filter(|&v| v > 0)
}

/// What `statfs` says about a file system: its type and block size.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FsInfo {
    /// `f_type`.
    pub(crate) fs_type: i64,
    /// `f_bsize`: the huge page size on hugetlbfs.
    pub(crate) block_size: u64,
}

impl FsInfo {
    pub(crate) fn is_hugetlbfs(&self) -> bool {
        self.fs_type == HUGETLBFS_MAGIC
    }
}

fn fs_info_from(buf: &libc::statfs) -> FsInfo {
    FsInfo {
        // f_type is a signed long of the kernel; the magic is compared as
        // the unsigned 32-bit value it is.
        #[allow(clippy::unnecessary_cast)]
        fs_type: (buf.f_type as i64) & 0xffff_ffff,
        #[allow(clippy::unnecessary_cast)]
        block_size: (buf.f_bsize as u64).max(1),
    }
}

/// `fstatfs` on an open file.
pub(crate) fn fstatfs(fd: BorrowedFd<'_>) -> Result<FsInfo, Errno> {
    let mut buf = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `buf` is a valid, writable `statfs`; the fd is open for the
    // duration of the borrow.
    let rc = unsafe { libc::fstatfs(fd.as_raw_fd(), buf.as_mut_ptr()) };
    if rc != 0 {
        return Err(errno());
    }
    // SAFETY: fstatfs succeeded and filled the structure (it was zeroed
    // before, so every byte is initialised either way).
    Ok(fs_info_from(unsafe { &buf.assume_init() }))
}

/// `statfs` on a path.
pub(crate) fn statfs(path: &std::path::Path) -> Result<FsInfo, Errno> {
    let c = path_cstring(path)?;
    let mut buf = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: `c` is a NUL-terminated path, `buf` a writable `statfs`.
    let rc = unsafe { libc::statfs(c.as_ptr(), buf.as_mut_ptr()) };
    if rc != 0 {
        return Err(errno());
    }
    // SAFETY: statfs succeeded; the buffer was zeroed before in any case.
    Ok(fs_info_from(unsafe { &buf.assume_init() }))
}

/// Free bytes for an unprivileged writer on the file system of `path`
/// (`statvfs`: `f_bavail × f_frsize`).
pub(crate) fn statvfs_available(path: &std::path::Path) -> Result<u64, Errno> {
    let c = path_cstring(path)?;
    let mut buf = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a NUL-terminated path, `buf` a writable `statvfs`.
    let rc = unsafe { libc::statvfs(c.as_ptr(), buf.as_mut_ptr()) };
    if rc != 0 {
        return Err(errno());
    }
    // SAFETY: statvfs succeeded; the buffer was zeroed before in any case.
    let b = unsafe { buf.assume_init() };
    #[allow(clippy::unnecessary_cast)]
    Ok((b.f_bavail as u64).saturating_mul(b.f_frsize as u64))
}

fn path_cstring(path: &std::path::Path) -> Result<CString, Errno> {
    use std::os::unix::ffi::OsStrExt;
    CString::new(path.as_os_str().as_bytes()).map_err(|_| libc::EINVAL)
}

/// `memfd_create(name, flags)`.
pub(crate) fn memfd_create(name: &str, flags: u32) -> Result<OwnedFd, Errno> {
    let c = CString::new(name).map_err(|_| libc::EINVAL)?;
    // SAFETY: `c` is a NUL-terminated string; the call only creates a file.
    let fd = unsafe { libc::memfd_create(c.as_ptr(), flags) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: memfd_create returned a new descriptor that nothing else
    // owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `fcntl(F_ADD_SEALS)`.
pub(crate) fn add_seals(fd: BorrowedFd<'_>, seals: i32) -> Result<(), Errno> {
    // SAFETY: F_ADD_SEALS takes an int argument and touches no memory of
    // ours; the fd is open for the duration of the borrow.
    let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) };
    if rc < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// `fcntl(F_GET_SEALS)`.
pub(crate) fn get_seals(fd: BorrowedFd<'_>) -> Result<i32, Errno> {
    // SAFETY: F_GET_SEALS takes no argument and touches no memory of ours.
    let rc = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GET_SEALS) };
    if rc < 0 {
        Err(errno())
    } else {
        Ok(rc)
    }
}

/// `fallocate(fd, 0, offset, len)`: allocate the file's blocks (pages on
/// tmpfs and hugetlbfs) so that touching them later cannot fail with
/// SIGBUS; fails with ENOSPC instead.
pub(crate) fn fallocate(fd: BorrowedFd<'_>, offset: u64, len: u64) -> Result<(), Errno> {
    let off = libc::off_t::try_from(offset).map_err(|_| libc::EFBIG)?;
    let len = libc::off_t::try_from(len).map_err(|_| libc::EFBIG)?;
    loop {
        // SAFETY: fallocate touches no memory of ours; the fd is open.
        let rc = unsafe { libc::fallocate(fd.as_raw_fd(), 0, off, len) };
        if rc == 0 {
            return Ok(());
        }
        let e = errno();
        if e != libc::EINTR {
            return Err(e);
        }
    }
}

/// Pin the calling thread to `cpus` (`sched_setaffinity(0, ...)`), a
/// mask sized from the host's possible CPUs.
pub(crate) fn pin_current_thread(cpus: &crate::mask::IdSet) -> Result<(), Errno> {
    let words = cpus.words();
    let bytes = std::mem::size_of_val(words);
    // SAFETY: the mask buffer is readable for `bytes` bytes; pid 0 is the
    // calling thread; the call only changes scheduling.
    let rc = unsafe { libc::syscall(libc::SYS_sched_setaffinity, 0, bytes, words.as_ptr()) };
    if rc != 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

/// Memory protection of a mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prot {
    /// `PROT_READ`.
    Read,
    /// `PROT_READ | PROT_WRITE`.
    ReadWrite,
}

/// How to map.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MapRequest<'a> {
    /// Bytes to map (> 0).
    pub(crate) len: usize,
    /// Alignment of the start address (a power of two, at least the base
    /// page size).
    pub(crate) align: usize,
    pub(crate) prot: Prot,
    /// `MAP_SHARED` rather than `MAP_PRIVATE`.
    pub(crate) shared: bool,
    /// `MAP_NORESERVE`.
    pub(crate) noreserve: bool,
    /// The file to map, or anonymous memory.
    pub(crate) fd: Option<BorrowedFd<'a>>,
    /// Offset into the file.
    pub(crate) offset: u64,
}

/// One memory mapping, owned: unmapped when dropped.
#[derive(Debug)]
pub(crate) struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
    writable: bool,
}

// SAFETY: a Mapping is an address range the process owns; nothing in it
// is tied to the creating thread. Access to the memory goes through
// methods that take the kernel's view (madvise, mbind) or, for the touch
// loop, through volatile accesses on disjoint page ranges that callers
// hand to distinct threads.
unsafe impl Send for Mapping {}
// SAFETY: see Send; the shared methods never create Rust references to
// the memory.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Map `req.len` bytes aligned to `req.align`: reserve `len + align`
    /// bytes of address space (PROT_NONE, no memory), map the real thing
    /// over the aligned part with MAP_FIXED, and give back the rest.
    pub(crate) fn new(req: &MapRequest<'_>) -> Result<Mapping, Errno> {
        let page = usize::try_from(page_size()).unwrap_or(4096);
        if req.len == 0 || !req.align.is_power_of_two() {
            return Err(libc::EINVAL);
        }
        let align = req.align.max(page);
        let total = req.len.checked_add(align).ok_or(libc::ENOMEM)?;
        if total > isize::MAX as usize {
            return Err(libc::ENOMEM);
        }
        // SAFETY: an anonymous PROT_NONE reservation at an address the
        // kernel chooses; it cannot overlap anything we own.
        let guard = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if guard == libc::MAP_FAILED {
            return Err(errno());
        }
        let base = guard as usize;
        let start = (base + align - 1) & !(align - 1);
        let prot = match req.prot {
            Prot::Read => libc::PROT_READ,
            Prot::ReadWrite => libc::PROT_READ | libc::PROT_WRITE,
        };
        let mut flags = libc::MAP_FIXED;
        flags |= if req.shared {
            libc::MAP_SHARED
        } else {
            libc::MAP_PRIVATE
        };
        if req.noreserve {
            flags |= libc::MAP_NORESERVE;
        }
        let (fd, offset) = match req.fd {
            Some(fd) => (
                fd.as_raw_fd(),
                match libc::off_t::try_from(req.offset) {
                    Ok(o) => o,
                    Err(_) => {
                        // SAFETY: unmapping the reservation made above,
                        // which nothing else uses.
                        unsafe { libc::munmap(guard, total) };
                        return Err(libc::EINVAL);
                    }
                },
            ),
            None => {
                flags |= libc::MAP_ANONYMOUS;
                (-1, 0)
            }
        };
        // SAFETY: MAP_FIXED at `start`, which lies with its whole length
        // inside our own reservation [base, base + total), so nothing
        // else is replaced.
        let p = unsafe { libc::mmap(start as *mut libc::c_void, req.len, prot, flags, fd, offset) };
        if p == libc::MAP_FAILED {
            let e = errno();
            // SAFETY: unmapping our own reservation.
            unsafe { libc::munmap(guard, total) };
            return Err(e);
        }
        // Give back the unused head and tail of the reservation.
        let head = start - base;
        if head > 0 {
            // SAFETY: [base, start) is part of our reservation, not of the
            // new mapping.
            unsafe { libc::munmap(guard, head) };
        }
        let end = start + req.len;
        let tail = base + total - end;
        if tail > 0 {
            // SAFETY: [end, base + total) is part of our reservation, not
            // of the new mapping.
            unsafe { libc::munmap(end as *mut libc::c_void, tail) };
        }
        match NonNull::new(start as *mut u8) {
            Some(ptr) => Ok(Mapping {
                ptr,
                len: req.len,
                writable: req.prot == Prot::ReadWrite,
            }),
            None => Err(libc::ENOMEM),
        }
    }

    /// The start address.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// The length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether it is mapped writable.
    pub(crate) fn writable(&self) -> bool {
        self.writable
    }

    fn check(&self, off: usize, len: usize) -> Result<(), Errno> {
        match off.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(libc::EINVAL),
        }
    }

    /// `madvise` over `[off, off + len)` of the mapping.
    pub(crate) fn madvise(&self, off: usize, len: usize, advice: i32) -> Result<(), Errno> {
        self.check(off, len)?;
        loop {
            // SAFETY: the range lies inside our mapping (checked above);
            // the advice values used by this crate do not invalidate
            // memory other code relies on (MADV_REMOVE is issued only on
            // drop, when no one can use the memory any more).
            let rc = unsafe { libc::madvise(self.ptr.as_ptr().add(off).cast(), len, advice) };
            if rc == 0 {
                return Ok(());
            }
            let e = errno();
            // MADV_POPULATE_* may be interrupted and is restartable.
            if e != libc::EINTR {
                return Err(e);
            }
        }
    }

    /// `mbind` over the whole mapping.
    pub(crate) fn mbind(
        &self,
        mode: i32,
        nodemask: &[u64],
        maxnode: u64,
        flags: u32,
    ) -> Result<(), Errno> {
        let bits = (nodemask.len() as u64).saturating_mul(64);
        if maxnode > bits + 1 {
            return Err(libc::EINVAL);
        }
        let mask = if nodemask.is_empty() {
            std::ptr::null()
        } else {
            nodemask.as_ptr()
        };
        // SAFETY: the range is our mapping; the kernel reads at most
        // `maxnode - 1` bits of the node mask, which the check above
        // keeps inside `nodemask`.
        let rc = unsafe {
            libc::syscall(
                libc::SYS_mbind,
                self.ptr.as_ptr(),
                self.len,
                mode,
                mask,
                maxnode,
                flags,
            )
        };
        if rc != 0 {
            Err(errno())
        } else {
            Ok(())
        }
    }

    /// Fault in `[off, off + len)` by touching one byte per `page`: read
    /// it and write the same value back (or only read, on a read-only
    /// mapping).
    ///
    /// On file-backed memory a page the file system cannot supply raises
    /// SIGBUS, which kills the process: callers use this only where that
    /// cannot happen (anonymous memory, blocks already `fallocate`d,
    /// checked hugetlb pools) and prefer `MADV_POPULATE_WRITE`.
    pub(crate) fn touch(&self, off: usize, len: usize, page: usize) -> Result<(), Errno> {
        self.check(off, len)?;
        if page == 0 {
            return Err(libc::EINVAL);
        }
        let mut o = off;
        let end = off + len;
        while o < end {
            // SAFETY: `o` is inside the mapping (o < end <= self.len), so
            // the pointer is valid for a one-byte volatile access; the
            // mapping is readable. We never form a Rust reference, and
            // prealloc workers own disjoint ranges.
            unsafe {
                let p = self.ptr.as_ptr().add(o);
                let v = std::ptr::read_volatile(p);
                if self.writable {
                    std::ptr::write_volatile(p, v);
                }
            }
            o = match o.checked_add(page) {
                Some(n) => n,
                None => break,
            };
        }
        Ok(())
    }

    /// Pages of the mapping resident in memory (`mincore`), for reports
    /// and tests. Memory is bounded: the mapping is asked about in
    /// windows of [`MINCORE_WINDOW`] pages, one small buffer reused (a
    /// 4 TiB `reserve=off` mapping costs 64 KiB, not 1 GiB).
    pub(crate) fn resident_pages(&self) -> Result<usize, Errno> {
        let page = usize::try_from(page_size()).unwrap_or(4096);
        let pages = self.len.div_ceil(page);
        let mut vec = vec![0u8; pages.min(MINCORE_WINDOW)];
        let mut resident = 0;
        let mut first = 0;
        while first < pages {
            let n = (pages - first).min(MINCORE_WINDOW);
            let off = first * page;
            let len = (n * page).min(self.len - off);
            // SAFETY: `[off, off + len)` is inside our mapping (off <
            // self.len, len clipped to its end); `vec` has at least `n`
            // bytes, one per base page of that range, which is what
            // mincore writes.
            let rc =
                unsafe { libc::mincore(self.ptr.as_ptr().add(off).cast(), len, vec.as_mut_ptr()) };
            if rc != 0 {
                return Err(errno());
            }
            resident += vec[..n].iter().filter(|b| **b & 1 != 0).count();
            first += n;
        }
        Ok(resident)
    }

    /// Copy `data` into the mapping at `off` (for callers that fill guest
    /// memory, and tests).
    pub(crate) fn write(&self, off: usize, data: &[u8]) -> Result<(), Errno> {
        self.check(off, data.len())?;
        if !self.writable {
            return Err(libc::EACCES);
        }
        let base = self.ptr.as_ptr().wrapping_add(off);
        for (i, &b) in data.iter().enumerate() {
            // SAFETY: `base + i` is inside our writable mapping (checked
            // above), which stays mapped while `self` lives; a `u8` is
            // always aligned. Every access safe code makes to mapped
            // bytes is a byte-sized atomic (or vm-memory's volatile
            // access), so racing calls are not data races.
            let a = unsafe { AtomicU8::from_ptr(base.add(i)) };
            a.store(b, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Copy from the mapping at `off` into `buf` (byte-sized relaxed
    /// atomic loads: see [`Mapping::write`]).
    pub(crate) fn read(&self, off: usize, buf: &mut [u8]) -> Result<(), Errno> {
        self.check(off, buf.len())?;
        let base = self.ptr.as_ptr().wrapping_add(off);
        for (i, b) in buf.iter_mut().enumerate() {
            // SAFETY: `base + i` is inside our readable mapping (checked
            // above) and stays mapped while `self` lives; accesses to it
            // from safe code are atomic (see `write`).
            let a = unsafe { AtomicU8::from_ptr(base.add(i)) };
            *b = a.load(Ordering::Relaxed);
        }
        Ok(())
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: we own the mapping [ptr, ptr + len) and nothing can use
        // it after drop.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// A `vm_memory::MmapRegion` with bitmap `bitmap` over `[off, off + len)`
/// of `mapping`. The region does not own the memory: the caller keeps the
/// mapping alive for as long as the region is used (vm_memory.rs holds an
/// `Arc` of its backend beside every region it hands out).
#[cfg(feature = "vm-memory")]
pub(crate) fn vm_region<B: vm_memory::bitmap::Bitmap>(
    mapping: &Mapping,
    plan: &crate::plan::BackendPlan,
    bitmap: B,
    off: usize,
    len: usize,
    file_offset: Option<vm_memory::FileOffset>,
) -> Result<vm_memory::MmapRegion<B>, vm_memory::mmap::MmapRegionError> {
    if off.checked_add(len).is_none_or(|e| e > mapping.len()) || len == 0 {
        return Err(vm_memory::mmap::MmapRegionError::InvalidPointer);
    }
    let prot = if mapping.writable() {
        libc::PROT_READ | libc::PROT_WRITE
    } else {
        libc::PROT_READ
    };
    let mut flags = if plan.share() {
        libc::MAP_SHARED
    } else {
        libc::MAP_PRIVATE
    };
    if !plan.reserve() {
        flags |= libc::MAP_NORESERVE;
    }
    let mut builder = vm_memory::mmap::MmapRegionBuilder::new_with_bitmap(len, bitmap)
        .with_mmap_prot(prot)
        .with_mmap_flags(flags);
    if let Some(fo) = file_offset {
        builder = builder.with_file_offset(fo);
    }
    // SAFETY: [ptr + off, ptr + off + len) lies inside the live mapping
    // (checked above), which is what `with_raw_mmap_pointer` requires when
    // the region is built; keeping it mapped afterwards is the caller's
    // duty (see above). The MmapRegion never unmaps a raw pointer.
    let builder = unsafe { builder.with_raw_mmap_pointer(mapping.as_ptr().wrapping_add(off)) };
    builder.build()
}

/// Set by the SIGINT/SIGTERM handler [`install_cancel_handlers`] installs.
pub(crate) static SIGNAL_CANCEL: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);
/// The signal that set [`SIGNAL_CANCEL`].
pub(crate) static SIGNAL_NUMBER: std::sync::atomic::AtomicI32 =
    std::sync::atomic::AtomicI32::new(0);

extern "C" fn on_cancel_signal(sig: libc::c_int) {
    // Only atomic stores: async-signal-safe.
    SIGNAL_NUMBER.store(sig, std::sync::atomic::Ordering::SeqCst);
    SIGNAL_CANCEL.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// Handle SIGINT and SIGTERM by setting [`SIGNAL_CANCEL`] once; the
/// handler resets itself (`SA_RESETHAND`), so a second signal acts as
/// if there were none (the process dies).
pub(crate) fn install_cancel_handlers() -> Result<(), Errno> {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: an all-zero sigaction is a valid value (empty mask, no
        // flags, SIG_DFL), filled in below before use.
        let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
        sa.sa_sigaction = on_cancel_signal as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = libc::SA_RESETHAND | libc::SA_RESTART;
        // SAFETY: `sa` is initialised; the handler only stores to
        // atomics, which is async-signal-safe; the old action is not
        // wanted (null).
        let rc = unsafe { libc::sigaction(sig, &sa, std::ptr::null_mut()) };
        if rc != 0 {
            return Err(errno());
        }
    }
    Ok(())
}
