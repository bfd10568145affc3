//! One allocated backend: the mapping, its file, QEMU's allocation
//! sequence (spec §5.3).

use std::fs::{File, OpenOptions};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Errno, Error, ErrorKind, HumanSize, Warning};
use crate::os::{self, madv, mpol, MapRequest, Mapping, Prot};
use crate::plan::{map_error, BackendPlan, Source};
use crate::prealloc::{self, Progress, ThreadRule};
use crate::report::Memdev;

/// How to allocate: what QEMU does not let the user choose.
pub struct AllocOptions<'a> {
    pub(crate) thp: bool,
    pub(crate) best_effort_bind: bool,
    pub(crate) threads: ThreadRule,
    pub(crate) cancel: Option<&'a AtomicBool>,
    pub(crate) progress: Option<&'a mut dyn FnMut(Progress)>,
    pub(crate) method: PreallocMethod,
    pub(crate) discard_data: bool,
    pub(crate) keep_created_files: bool,
}

impl std::fmt::Debug for AllocOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AllocOptions")
            .field("thp", &self.thp)
            .field("best_effort_bind", &self.best_effort_bind)
            .field("threads", &self.threads)
            .field("cancel", &self.cancel)
            .field("progress", &self.progress.is_some())
            .field("method", &self.method)
            .field("discard_data", &self.discard_data)
            .field("keep_created_files", &self.keep_created_files)
            .finish()
    }
}

/// How preallocation faults pages in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PreallocMethod {
    /// `MADV_POPULATE_WRITE` where the kernel has it (Linux ≥ 5.14,
    /// probed on every backend as QEMU does), else touching pages.
    #[default]
    Auto,
    /// Touch one byte per page (read it, write it back), as on kernels
    /// without `MADV_POPULATE_WRITE`. File-backed shared memory is
    /// `fallocate`d first, hugetlb pools were checked when planning; see
    /// the crate docs for the risk that remains.
    Touch,
}

impl Default for AllocOptions<'_> {
    fn default() -> Self {
        AllocOptions {
            thp: true,
            best_effort_bind: false,
            threads: ThreadRule::Qemu,
            cancel: None,
            progress: None,
            method: PreallocMethod::Auto,
            discard_data: true,
            keep_created_files: true,
        }
    }
}

impl<'a> AllocOptions<'a> {
    /// The defaults: transparent huge pages advised, binding failures are
    /// errors, QEMU's thread rule, no progress, no cancellation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Advise transparent huge pages (`MADV_HUGEPAGE`) on anonymous and
    /// shared-memory RAM (default on).
    pub fn transparent_huge_pages(mut self, on: bool) -> Self {
        self.thp = on;
        self
    }

    /// For containers: where `mbind` is refused with `EPERM`, carry on
    /// unbound and return a [`Warning::BindRefused`] instead of failing.
    pub fn best_effort_bind(mut self, on: bool) -> Self {
        self.best_effort_bind = on;
        self
    }

    /// How many preallocation threads per backend (default: QEMU's rule).
    pub fn prealloc_threads(mut self, rule: ThreadRule) -> Self {
        self.threads = rule;
        self
    }

    /// Stop preallocating when `flag` becomes true (checked between
    /// chunks of at most 32 MiB); the allocation then fails with
    /// [`ErrorKind::Cancelled`] and leaves nothing mapped.
    pub fn cancel_flag(mut self, flag: &'a AtomicBool) -> Self {
        self.cancel = Some(flag);
        self
    }

    /// Call `f` with the bytes preallocated so far, from the calling
    /// thread, as the work proceeds (after each chunk, or when woken by a
    /// worker that finished one, at least every 50 ms while workers
    /// run), never twice with the same figure, and with the total at the
    /// end.
    pub fn progress(mut self, f: &'a mut dyn FnMut(Progress)) -> Self {
        self.progress = Some(f);
        self
    }

    /// How pages are faulted in (default: [`PreallocMethod::Auto`]).
    pub fn prealloc_method(mut self, method: PreallocMethod) -> Self {
        self.method = method;
        self
    }

    /// Honour `discard-data=on` when a fully set-up backend is dropped
    /// (default on, as QEMU). Off for callers that only check a
    /// configuration and must never destroy the contents of a file they
    /// did not create (`vnuma --allocate`). Whatever this says,
    /// `discard-data` never applies on a failure path.
    pub fn discard_data(mut self, on: bool) -> Self {
        self.discard_data = on;
        self
    }

    /// Keep a `mem-path` file that allocation created once the backend is
    /// dropped (default on, as QEMU). Off: the file is removed on drop,
    /// as it is on failure.
    pub fn keep_created_files(mut self, on: bool) -> Self {
        self.keep_created_files = on;
        self
    }
}

/// Removes a file vnuma created unless the allocation it belongs to
/// succeeded.
#[derive(Debug)]
pub(crate) struct CreatedFile {
    path: PathBuf,
    keep: AtomicBool,
}

impl Drop for CreatedFile {
    fn drop(&mut self) {
        if !self.keep.load(Ordering::Relaxed) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// One memory backend with its memory mapped: the mapping is unmapped,
/// and its file closed, when the value is dropped (after `MADV_REMOVE`
/// with `discard-data=on`, only for a backend whose allocation completed:
/// never on a failure path, so that a failing guest never destroys the
/// data of a file it did not create).
#[derive(Debug)]
pub struct HostMemoryBackend {
    // Field order matters: the mapping goes before the file.
    mapping: Mapping,
    plan: BackendPlan,
    file: Option<Arc<File>>,
    created: Option<CreatedFile>,
    preallocated: AtomicBool,
    /// Set once the allocation this backend belongs to completed (and
    /// the caller wants `discard-data` honoured): only then does drop
    /// discard the file's data.
    discard_on_drop: AtomicBool,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary file in `dir`, unlinked at once (QEMU's
/// `qemu_back_mem.{name}.XXXXXX` and unlink).
fn temp_file(dir: &Path, name: &str) -> Result<File, i32> {
    let sanitized: String = name
        .chars()
        .map(|c| if c == '/' { '_' } else { c })
        .collect();
    let pid = std::process::id();
    for _ in 0..100 {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = dir.join(format!("vnuma_back_mem.{sanitized}.{pid:x}{n:x}{nanos:x}"));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&p)
        {
            Ok(f) => {
                let _ = std::fs::remove_file(&p);
                return Ok(f);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.raw_os_error().unwrap_or(libc::EIO)),
        }
    }
    Err(libc::EEXIST)
}

/// How many times the open/create race is retried (another process
/// removing the file between our `open` and our `O_CREAT | O_EXCL`, or
/// creating it in between): QEMU retries forever, which spins on a
/// dangling symbolic link.
const OPEN_RETRIES: usize = 64;

/// QEMU's `file_ram_open`: use an existing file, create a missing one, or
/// a temporary file in a directory.
///
/// Differences from QEMU, none of which changes a configuration QEMU
/// accepts: an existing file is opened with `O_NONBLOCK` (a FIFO would
/// block `open` forever; planning refuses FIFOs, and this covers one
/// that appeared since); a new file is created with `O_NOFOLLOW` (with
/// `O_EXCL` a symbolic link is never followed anyway); the open/create
/// race is retried [`OPEN_RETRIES`] times, and a dangling symbolic link,
/// which QEMU spins on, is `ENOENT`.
fn open_mem_path(
    path: &Path,
    name: &str,
    readonly: bool,
) -> Result<(File, Option<CreatedFile>), i32> {
    for _ in 0..OPEN_RETRIES {
        match OpenOptions::new()
            .read(true)
            .write(!readonly)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
        {
            Ok(f) => return Ok((f, None)),
            Err(e) => {
                let errno = e.raw_os_error().unwrap_or(libc::EIO);
                if errno == libc::ENOENT {
                    match OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create_new(true)
                        .custom_flags(libc::O_NOFOLLOW)
                        .mode(0o644)
                        .open(path)
                    {
                        Ok(f) => {
                            return Ok((
                                f,
                                Some(CreatedFile {
                                    path: path.to_path_buf(),
                                    keep: AtomicBool::new(false),
                                }),
                            ))
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                            if std::fs::symlink_metadata(path)
                                .is_ok_and(|m| m.file_type().is_symlink())
                                && std::fs::metadata(path).is_err()
                            {
                                // A dangling symbolic link: open says
                                // ENOENT, create says EEXIST, forever.
                                return Err(libc::ENOENT);
                            }
                            continue;
                        }
                        Err(e) => return Err(e.raw_os_error().unwrap_or(libc::EIO)),
                    }
                } else if errno == libc::EISDIR {
                    return temp_file(path, name).map(|f| (f, None));
                } else if errno != libc::EINTR {
                    return Err(errno);
                }
            }
        }
    }
    Err(libc::ENOENT)
}

impl HostMemoryBackend {
    /// Allocate one backend: map it, apply `merge`, `dump` and the NUMA
    /// policy, preallocate if asked (QEMU's order, spec §5.3). On error
    /// nothing stays mapped and a file it created is removed.
    pub fn allocate(
        plan: &BackendPlan,
        opts: AllocOptions<'_>,
    ) -> Result<(HostMemoryBackend, Vec<Warning>), Error> {
        let mut opts = opts;
        let mut warnings = plan.warnings.clone();
        let b = Self::map(plan, &opts, &mut warnings)?;
        if plan.props.prealloc {
            prealloc::run(&[&b], &mut opts, &mut warnings)?;
        }
        b.set_up(&opts);
        Ok((b, warnings))
    }

    /// Steps 1–5 of QEMU's sequence (everything but preallocation).
    pub(crate) fn map(
        plan: &BackendPlan,
        opts: &AllocOptions<'_>,
        warnings: &mut Vec<Warning>,
    ) -> Result<HostMemoryBackend, Error> {
        let id = plan.props.id.as_str();
        let err = |kind| Error::at(id, kind);
        let mut file = None;
        let mut created = None;
        let mut page_size = plan.page_size;
        let len =
            usize::try_from(plan.map_len).map_err(|_| map_error(id, &plan.source, libc::ENOMEM))?;
        let align =
            usize::try_from(plan.align).map_err(|_| map_error(id, &plan.source, libc::ENOMEM))?;
        let mut prot = Prot::ReadWrite;
        let mut map_offset = 0;
        match &plan.source {
            Source::Anonymous => {}
            Source::File {
                path,
                readonly,
                offset,
                ..
            } => {
                map_offset = *offset;
                let (f, c) = open_mem_path(path, id, *readonly).map_err(|e| {
                    err(ErrorKind::OpenBackingStore {
                        path: crate::plan::printable_path(&path.to_string_lossy()),
                        errno: Errno::new(e),
                    })
                })?;
                created = c;
                let file_type = f.metadata().map(|m| m.file_type()).ok();
                {
                    use std::os::unix::fs::FileTypeExt;
                    // What QEMU's mmap answers for these (a FIFO or
                    // socket that appeared since planning; a directory
                    // opened read-only).
                    if file_type.is_some_and(|t| t.is_fifo() || t.is_socket() || t.is_dir()) {
                        return Err(err(ErrorKind::MapBackingStore {
                            errno: Errno::new(libc::ENODEV),
                        }));
                    }
                }
                let regular = file_type.is_some_and(|t| t.is_file());
                // The file system decides the page size (a file may have
                // changed since planning).
                if let Ok(fs) = os::fstatfs(f.as_fd()) {
                    if fs.is_hugetlbfs() {
                        page_size = fs.block_size;
                    }
                }
                if plan.map_len % page_size != 0 {
                    return Err(err(ErrorKind::SizeNotPageMultiple {
                        qom_type: plan.qom_type,
                        page_size: HumanSize(page_size),
                    }));
                }
                let file_len = f.metadata().map(|m| m.len()).unwrap_or(0);
                let rounded = plan
                    .props
                    .size
                    .checked_next_multiple_of(os::page_size())
                    .unwrap_or(u64::MAX);
                if let Some(kind) =
                    crate::plan::backing_store_check(id, file_len, rounded, *offset, plan.release)
                {
                    return Err(err(kind));
                }
                if file_len == 0 {
                    match f.set_len(plan.map_len.saturating_add(*offset)) {
                        Ok(()) => {}
                        // QEMU only prints ftruncate's error and goes on
                        // to mmap, whose error it reports (`/dev/null`:
                        // No such device; device DAX maps).
                        Err(_) if !regular => {}
                        Err(e) => {
                            return Err(err(ErrorKind::MapBackingStore {
                                errno: Errno::new(e.raw_os_error().unwrap_or(libc::EIO)),
                            }))
                        }
                    }
                }
                if *readonly {
                    prot = Prot::Read;
                }
                file = Some(f);
            }
            Source::Memfd { flags, seal, .. } => {
                let fd = os::memfd_create("memory-backend-memfd", *flags).map_err(|e| {
                    err(ErrorKind::MemfdCreate {
                        flags: *flags,
                        errno: Errno::new(e),
                    })
                })?;
                let f = File::from(fd);
                f.set_len(plan.map_len).map_err(|e| {
                    err(ErrorKind::MemfdResize {
                        size: plan.props.size,
                        errno: Errno::new(e.raw_os_error().unwrap_or(libc::EIO)),
                    })
                })?;
                if *seal {
                    let seals = libc::F_SEAL_GROW | libc::F_SEAL_SHRINK | libc::F_SEAL_SEAL;
                    os::add_seals(f.as_fd(), seals).map_err(|e| {
                        err(ErrorKind::MemfdSeal {
                            seals: seals as u32,
                            errno: Errno::new(e),
                        })
                    })?;
                }
                file = Some(f);
            }
        }
        let mapping = Mapping::new(&MapRequest {
            len,
            align: align.max(usize::try_from(page_size).unwrap_or(4096)),
            prot,
            shared: plan.props.share,
            noreserve: !plan.props.reserve,
            fd: file.as_ref().map(|f| f.as_fd()),
            offset: map_offset,
        })
        .map_err(|e| map_error(id, &plan.source, e))?;
        let mut plan = plan.clone();
        plan.page_size = page_size;
        let b = HostMemoryBackend {
            mapping,
            plan,
            file: file.map(Arc::new),
            created,
            preallocated: AtomicBool::new(false),
            discard_on_drop: AtomicBool::new(false),
        };
        let plan = &b.plan;
        // QEMU advises huge pages on every RAM block (errors ignored).
        if opts.thp && plan.thp_candidate() {
            let _ = b.mapping.madvise(0, len, madv::HUGEPAGE);
        }
        // madvise errors are ignored, as QEMU ignores them (KSM or
        // core-dump filtering may be compiled out).
        if plan.props.merge {
            let _ = b.mapping.madvise(0, len, madv::MERGEABLE);
        }
        if !plan.props.dump {
            let _ = b.mapping.madvise(0, len, madv::DONTDUMP);
        }
        if let Some(bind) = &plan.bind {
            let flags = mpol::MF_STRICT | mpol::MF_MOVE;
            let mut r = b
                .mapping
                .mbind(bind.mode, bind.mask.words(), bind.maxnode, flags);
            if r == Err(libc::EINVAL) && bind.mode == mpol::PREFERRED_MANY {
                // Linux < 5.15: prefer the first node only.
                r = b
                    .mapping
                    .mbind(mpol::PREFERRED, bind.mask.words(), bind.maxnode, flags);
                if r.is_ok() {
                    warnings.push(Warning::PreferredManyUnavailable {
                        backend: id.into(),
                        node: plan.props.host_nodes.first().copied().unwrap_or(0),
                    });
                }
            }
            match r {
                Ok(()) => {}
                Err(libc::EPERM) if opts.best_effort_bind => {
                    warnings.push(Warning::BindRefused {
                        backend: id.into(),
                        errno: Errno::new(libc::EPERM),
                    });
                }
                Err(e) => {
                    return Err(err(ErrorKind::Bind {
                        errno: Errno::new(e),
                    }))
                }
            }
        }
        Ok(b)
    }

    /// Preallocate now (QEMU: setting `prealloc=on` on an allocated
    /// backend), with QEMU's thread rule unless `opts` says otherwise.
    pub fn prealloc(&self, opts: AllocOptions<'_>) -> Result<Vec<Warning>, Error> {
        let mut opts = opts;
        let mut warnings = Vec::new();
        prealloc::run(&[self], &mut opts, &mut warnings)?;
        Ok(warnings)
    }

    /// The allocation this backend belongs to completed: keep a file it
    /// created (if asked), and arm `discard-data` for a clean teardown.
    pub(crate) fn set_up(&self, opts: &AllocOptions<'_>) {
        if let Some(c) = &self.created {
            c.keep.store(opts.keep_created_files, Ordering::Relaxed);
        }
        if opts.discard_data {
            self.discard_on_drop.store(true, Ordering::Relaxed);
        }
    }

    /// The `mem-path` file this allocation created, if it created one
    /// (a file that did not exist before; not a temporary file in a
    /// directory, which is unlinked at once).
    pub fn created_file(&self) -> Option<&Path> {
        self.created.as_ref().map(|c| c.path.as_path())
    }

    pub(crate) fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    pub(crate) fn file_fd(&self) -> Option<BorrowedFd<'_>> {
        self.file.as_ref().map(|f| f.as_fd())
    }

    pub(crate) fn mark_preallocated(&self) {
        self.preallocated.store(true, Ordering::Relaxed);
    }

    /// The plan it was made from (with the page size the file system
    /// reported).
    pub fn plan(&self) -> &BackendPlan {
        &self.plan
    }

    /// The object id.
    pub fn id(&self) -> &str {
        &self.plan.props.id
    }

    /// Host address of the first byte.
    pub fn as_ptr(&self) -> *mut u8 {
        self.mapping.as_ptr()
    }

    /// Bytes mapped.
    pub fn len(&self) -> usize {
        self.mapping.len()
    }

    /// Always false: a backend has at least one page.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The mapping's page size.
    pub fn page_size(&self) -> u64 {
        self.plan.page_size
    }

    /// The backing file (memfd or `mem-path`), for VMMs that share guest
    /// memory with other processes (vhost-user).
    pub fn file(&self) -> Option<&Arc<File>> {
        self.file.as_ref()
    }

    /// The memfd's seals (`fcntl(F_GET_SEALS)`: `F_SEAL_*` bits), if it is
    /// a file that supports sealing.
    pub fn seals(&self) -> Option<i32> {
        self.file_fd().and_then(|fd| os::get_seals(fd).ok())
    }

    /// Whether the whole backend was preallocated.
    pub fn is_preallocated(&self) -> bool {
        self.preallocated.load(Ordering::Relaxed)
    }

    /// Bytes now resident in memory (`mincore`).
    pub fn resident_bytes(&self) -> Result<u64, Errno> {
        self.mapping
            .resident_pages()
            .map(|p| (p as u64).saturating_mul(os::page_size()))
            .map_err(Errno::new)
    }

    /// Copy `data` into the backend at `offset`: `EACCES` on a read-only
    /// backend (`readonly=on`; never a signal), `EINVAL` out of range.
    ///
    /// Safe to call from several threads at once, also on the same bytes:
    /// the copy is made of byte-sized relaxed atomic stores, so racing
    /// writers leave some interleaving of their bytes, never undefined
    /// behaviour. For bulk or guest-visible access use vm-memory's
    /// volatile accessors (feature `vm-memory`).
    pub fn write_at(&self, offset: u64, data: &[u8]) -> Result<(), Errno> {
        let off = usize::try_from(offset).map_err(|_| Errno::new(libc::EINVAL))?;
        self.mapping.write(off, data).map_err(Errno::new)
    }

    /// Copy bytes from the backend at `offset` into `buf` (`EINVAL` out of
    /// range), with byte-sized relaxed atomic loads, like
    /// [`write_at`](Self::write_at).
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Errno> {
        let off = usize::try_from(offset).map_err(|_| Errno::new(libc::EINVAL))?;
        self.mapping.read(off, buf).map_err(Errno::new)
    }

    /// Its `query-memdev` entry (`prealloc` is true once preallocated).
    pub fn memdev(&self) -> Memdev {
        let mut m = self.plan.memdev();
        m.prealloc |= self.is_preallocated();
        m
    }
}

impl Drop for HostMemoryBackend {
    fn drop(&mut self) {
        // `discard-data` is for the clean teardown of a backend that was
        // fully set up; a failure anywhere in the guest's allocation (or
        // a cancellation) leaves the file's data alone.
        if let (
            Source::File {
                discard_data: true, ..
            },
            true,
        ) = (
            &self.plan.source,
            self.discard_on_drop.load(Ordering::Relaxed),
        ) {
            let _ = self.mapping.madvise(0, self.mapping.len(), madv::REMOVE);
        }
    }
}
