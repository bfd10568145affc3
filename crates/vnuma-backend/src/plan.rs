//! Planning one backend: every property resolved, every check that can be
//! made without mapping memory made. [`BackendPlan::new`] touches nothing
//! on the host (it reads `/sys`, `/proc` through [`HostInfo`] and looks at
//! `mem-path` with `stat`/`statfs`/`statvfs`).

use std::path::{Path, PathBuf};

use vnuma_options::{BackendKind, HostMemPolicy, MemoryBackendOptions};

use crate::effective::{effective, Defaults, Effective};
use crate::error::{Errno, Error, ErrorKind, HostNodeProblem, HumanSize, Warning};
use crate::host::HostInfo;
use crate::mask::{IdSet, MAX_CPUS, MAX_NODES};
use crate::os::{self, mfd, mpol};
use crate::report::Memdev;

/// How `mem-path` is used.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileOpen {
    /// An existing file of this many bytes (0: it is extended).
    Existing {
        /// Its size now.
        len: u64,
    },
    /// A file that does not exist yet: created (and extended), removed
    /// again if the guest's allocation fails.
    Create,
    /// A directory: a temporary file is created in it and unlinked at
    /// once (as QEMU does for hugetlbfs mounts).
    TempInDirectory,
}

/// Where a backend's memory comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// Anonymous memory (`memory-backend-ram`).
    Anonymous,
    /// A file (`memory-backend-file`).
    File {
        /// `mem-path`.
        path: PathBuf,
        /// How it is opened.
        open: FileOpen,
        /// `readonly`.
        readonly: bool,
        /// `discard-data`.
        discard_data: bool,
        /// Whether the file system is hugetlbfs.
        hugetlbfs: bool,
        /// `offset`: where in the file the mapping starts.
        offset: u64,
    },
    /// A memfd (`memory-backend-memfd`).
    Memfd {
        /// The `memfd_create` flags (as QEMU computes them).
        flags: u32,
        /// `hugetlb`.
        hugetlb: bool,
        /// `seal`: F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL.
        seal: bool,
    },
}

/// The `mbind` call a backend needs.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct BindPlan {
    pub(crate) mode: i32,
    /// The node mask, sized from the host's possible nodes (and room
    /// for the `maxnode` quirk bit).
    pub(crate) mask: IdSet,
    /// QEMU's `maxnode + 1` (one more than the highest node + 1, for the
    /// kernel quirk that drops the last node).
    pub(crate) maxnode: u64,
}

/// One backend, planned: properties resolved with their defaults, the page
/// size found, the checks done. Nothing is mapped until
/// [`crate::HostMemoryBackend::allocate`] (or
/// [`crate::GuestRam::allocate`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackendPlan {
    /// The properties with their defaults (id, size, share, ...).
    pub(crate) props: Effective,
    pub(crate) qom_type: &'static str,
    pub(crate) map_len: u64,
    pub(crate) page_size: u64,
    pub(crate) align: u64,
    pub(crate) source: Source,
    pub(crate) bind: Option<BindPlan>,
    pub(crate) node_cpus: Vec<u32>,
    /// `node_cpus` as the affinity mask preallocation threads get, sized
    /// from the host's possible CPUs; `None`: not pinned.
    pub(crate) cpu_mask: Option<IdSet>,
    pub(crate) online_cpus: Option<usize>,
    pub(crate) warnings: Vec<Warning>,
    /// Bytes of memory preallocation makes newly resident (0 without
    /// `prealloc`, for hugetlb pages, which their pools account, and
    /// for files on disk, whose pages the kernel can write back).
    pub(crate) prealloc_ram: u64,
    /// The release whose messages the checks at mapping time use.
    pub(crate) release: vnuma_options::Syntax,
}

/// The check of an existing, non-empty file against the backend: it must
/// hold `size` (rounded to the base page) from `offset` on; the message is
/// the release's.
pub(crate) fn backing_store_check(
    id: &str,
    file_size: u64,
    size: u64,
    offset: u64,
    release: vnuma_options::Syntax,
) -> Option<ErrorKind> {
    let needed = u128::from(size) + u128::from(offset);
    if file_size == 0 || u128::from(file_size) >= needed {
        return None;
    }
    Some(if release >= vnuma_options::Syntax::Qemu100 {
        ErrorKind::BackingStoreTooSmall {
            name: id.into(),
            file_size,
            size,
            offset,
        }
    } else {
        ErrorKind::BackingStoreSize { file_size, size }
    })
}

/// QEMU's `QEMU_VMALLOC_ALIGN` on x86-64: anonymous RAM starts on a 2 MiB
/// boundary so that transparent huge pages can back it.
const ANON_ALIGN: u64 = 2 << 20;

fn round_up(v: u64, to: u64) -> Option<u64> {
    v.checked_next_multiple_of(to)
}

impl BackendPlan {
    /// Plan `opts` on `host`, with `defaults` for unset properties.
    ///
    /// Checks, in QEMU's order where QEMU has one: the property values
    /// (`MemoryBackendOptions::validate`), `prealloc` against `reserve`,
    /// the type's own rules (`mem-path` opened or creatable, backing
    /// store size, `align`, page size and page multiples, `hugetlbsize`
    /// and its pool), `policy` against `host-nodes`; then what QEMU finds
    /// only while mapping or later: host nodes that do not exist, have no
    /// memory or are not allowed, too few free huge pages, too little
    /// room for a shared file that is preallocated, sizes the kernel's
    /// overcommit rule refuses.
    pub fn new(
        opts: &MemoryBackendOptions,
        defaults: &Defaults,
        host: &HostInfo,
    ) -> Result<BackendPlan, Error> {
        let id = opts.id.as_str();
        let err = |kind| Error::at(id, kind);
        opts.validate().map_err(|e| err(ErrorKind::Property(e)))?;
        opts.check_alloc()
            .map_err(|e| err(ErrorKind::Property(e)))?;
        let qom_type = opts.qom_type();
        let props = effective(opts, defaults);
        let Effective {
            share,
            reserve,
            prealloc,
            policy,
            ..
        } = props;
        let host_nodes = &props.host_nodes;
        if prealloc && !reserve {
            return Err(err(ErrorKind::PreallocWithoutReserve));
        }
        let host_page = host.page_size.max(1);
        let mut warnings = Vec::new();

        // The type's allocation rules.
        let mut in_memory_fs = false;
        let (source, page_size, map_len, align) = match &opts.kind {
            BackendKind::Ram => {
                let map_len = round_up(opts.size, host_page).ok_or_else(|| {
                    err(ErrorKind::SetupGuestMemory {
                        name: id.into(),
                        errno: Errno::new(libc::ENOMEM),
                    })
                })?;
                (Source::Anonymous, host_page, map_len, ANON_ALIGN)
            }
            BackendKind::File(f) => {
                let readonly = f.readonly.unwrap_or(false);
                let path = PathBuf::from(&f.mem_path);
                let open_err = |errno: i32| {
                    err(ErrorKind::OpenBackingStore {
                        path: printable_path(&f.mem_path),
                        errno: Errno::new(errno),
                    })
                };
                // A NUL byte (possible in JSON) cannot reach open(2); QEMU
                // would use its modified-UTF-8 bytes as the name.
                if f.mem_path.contains('\0') {
                    return Err(open_err(libc::EINVAL));
                }
                let (open, fs_dir) = inspect_mem_path(&f.mem_path).map_err(open_err)?;
                let fsinfo = os::statfs(&fs_dir).map_err(open_err)?;
                let page_size = if fsinfo.is_hugetlbfs() {
                    fsinfo.block_size
                } else {
                    host_page
                };
                let rounded = round_up(opts.size, host_page).ok_or_else(|| {
                    err(ErrorKind::MapBackingStore {
                        errno: Errno::new(libc::ENOMEM),
                    })
                })?;
                let offset = f.offset.unwrap_or(0);
                if let FileOpen::Existing { len } = open {
                    if let Some(kind) =
                        backing_store_check(id, len, rounded, offset, defaults.release)
                    {
                        return Err(err(kind));
                    }
                }
                let align = f.align.unwrap_or(0);
                if align % page_size != 0 {
                    return Err(err(ErrorKind::AlignNotPageMultiple { align, page_size }));
                }
                if align != 0 && !align.is_power_of_two() {
                    return Err(err(ErrorKind::AlignNotPowerOfTwo { align }));
                }
                if offset % page_size != 0 {
                    return Err(err(ErrorKind::OffsetNotPageMultiple { offset, page_size }));
                }
                if rounded < page_size {
                    return Err(err(ErrorKind::SizeBelowPageSize {
                        size: rounded,
                        page_size,
                    }));
                }
                if opts.size % page_size != 0 {
                    return Err(err(ErrorKind::SizeNotPageMultiple {
                        qom_type,
                        page_size: HumanSize(page_size),
                    }));
                }
                // What QEMU's mmap answers for a FIFO, a socket, or a
                // directory opened read-only (QEMU opens the directory
                // itself then): ENODEV. vnuma says so before opening
                // anything, so that a FIFO never blocks `open`.
                if not_mappable(&f.mem_path, readonly) {
                    return Err(err(ErrorKind::MapBackingStore {
                        errno: Errno::new(libc::ENODEV),
                    }));
                }
                in_memory_fs = matches!(fsinfo.fs_type, TMPFS_MAGIC | RAMFS_MAGIC);
                let source = Source::File {
                    path,
                    open,
                    readonly,
                    discard_data: f.discard_data.unwrap_or(false),
                    hugetlbfs: fsinfo.is_hugetlbfs(),
                    offset,
                };
                (source, page_size, opts.size, align.max(page_size))
            }
            // POSIX shared memory that QEMU unlinks at once: an unsealed
            // memfd is the same memory without a name to clean up.
            BackendKind::Shm => (
                Source::Memfd {
                    flags: mfd::CLOEXEC,
                    hugetlb: false,
                    seal: false,
                },
                host_page,
                round_up(opts.size, host_page).ok_or_else(|| {
                    err(ErrorKind::SetupGuestMemory {
                        name: id.into(),
                        errno: Errno::new(libc::ENOMEM),
                    })
                })?,
                ANON_ALIGN,
            ),
            BackendKind::Memfd(m) => {
                let hugetlb = m.hugetlb.unwrap_or(false);
                let seal = m.seal.unwrap_or(true);
                let hsize = m.hugetlbsize.unwrap_or(0);
                if hsize != 0 && !hsize.is_power_of_two() {
                    return Err(err(ErrorKind::HugepageSizeNotPowerOfTwo));
                }
                let mut flags = mfd::CLOEXEC;
                if seal {
                    flags |= mfd::ALLOW_SEALING;
                }
                if hugetlb {
                    flags |= mfd::HUGETLB;
                }
                if hsize != 0 {
                    flags |= hsize.trailing_zeros() << mfd::HUGE_SHIFT;
                }
                let page_size = if hugetlb {
                    let size = if hsize != 0 {
                        hsize
                    } else {
                        host.default_hugepage_size.unwrap_or(0)
                    };
                    if size == 0 || host.hugepage_pool(size).is_none() {
                        // What memfd_create answers without such a pool.
                        return Err(err(ErrorKind::MemfdCreate {
                            flags,
                            errno: Errno::new(libc::ENODEV),
                        }));
                    }
                    size
                } else {
                    host_page
                };
                if opts.size % page_size != 0 {
                    return Err(err(ErrorKind::SizeNotPageMultiple {
                        qom_type,
                        page_size: HumanSize(page_size),
                    }));
                }
                let align = if hugetlb { page_size } else { ANON_ALIGN };
                (
                    Source::Memfd {
                        flags,
                        hugetlb,
                        seal,
                    },
                    page_size,
                    opts.size,
                    align,
                )
            }
        };
        if usize::try_from(map_len)
            .ok()
            .and_then(|l| l.checked_add(usize::try_from(align).ok()?))
            .is_none_or(|t| t > isize::MAX as usize)
        {
            return Err(map_error(id, &source, libc::ENOMEM));
        }

        // The NUMA policy (QEMU checks it after mapping; nothing here
        // depends on the mapping). The rule itself is vnuma-options'.
        opts.check_policy()
            .map_err(|e| err(ErrorKind::Property(e)))?;
        let bind = match (host_nodes.last(), policy) {
            (None, _) | (_, HostMemPolicy::Default) => None,
            (Some(&highest), policy) => {
                let room = host
                    .possible_nodes
                    .unwrap_or(0)
                    .max(usize::from(highest) + 2);
                let mut mask = IdSet::with_room(room, MAX_NODES);
                for &n in host_nodes {
                    if mask.insert(usize::from(n)).is_err() {
                        return Err(err(ErrorKind::HostNode {
                            backend: id.into(),
                            node: n,
                            problem: HostNodeProblem::Missing,
                        }));
                    }
                }
                let mode = match policy {
                    HostMemPolicy::Preferred if host_nodes.len() > 1 => mpol::PREFERRED_MANY,
                    HostMemPolicy::Preferred => mpol::PREFERRED,
                    HostMemPolicy::Bind => mpol::BIND,
                    HostMemPolicy::Interleave => mpol::INTERLEAVE,
                    HostMemPolicy::Default => mpol::DEFAULT,
                };
                Some(BindPlan {
                    mode,
                    mask,
                    maxnode: u64::from(highest) + 2,
                })
            }
        };
        if bind.is_some() {
            for &node in host_nodes {
                let problem = match host.node(node) {
                    None => Some(HostNodeProblem::Missing),
                    Some(n) if !n.has_memory => Some(HostNodeProblem::NoMemory),
                    Some(_) => match &host.mems_allowed {
                        Some(allowed) if !allowed.contains(&node) => {
                            Some(HostNodeProblem::NotAllowed)
                        }
                        _ => None,
                    },
                };
                if let Some(problem) = problem {
                    return Err(err(ErrorKind::HostNode {
                        backend: id.into(),
                        node,
                        problem,
                    }));
                }
            }
        }

        // Resources.
        let hugetlb = match &source {
            Source::File { hugetlbfs, .. } => *hugetlbfs,
            Source::Memfd { hugetlb, .. } => *hugetlb,
            Source::Anonymous => false,
        };
        let readonly = matches!(source, Source::File { readonly: true, .. });
        if hugetlb && (reserve || prealloc) {
            check_hugepages(
                id, &source, map_len, page_size, prealloc, policy, host_nodes, host,
            )?;
        }
        if let Source::File {
            path,
            open,
            hugetlbfs: false,
            ..
        } = &source
        {
            if share && !readonly {
                let existing = match open {
                    FileOpen::Existing { len } => (*len).min(map_len),
                    _ => 0,
                };
                let needed = map_len - existing;
                let dir = if matches!(open, FileOpen::TempInDirectory) {
                    path.clone()
                } else {
                    parent_dir(path)
                };
                if let Ok(available) = os::statvfs_available(&dir) {
                    if needed > available {
                        let path = path.display().to_string();
                        if prealloc {
                            return Err(err(ErrorKind::NoRoom {
                                backend: id.into(),
                                path,
                                needed,
                                available,
                            }));
                        }
                        warnings.push(Warning::MayRunOutOfRoom {
                            backend: id.into(),
                            path,
                            needed,
                            available,
                        });
                    }
                }
            }
        }
        // The kernel's accounting of private writable (and shared
        // anonymous) memory.
        let accountable = !hugetlb
            && !readonly
            && match &source {
                Source::Anonymous => true,
                Source::File { .. } | Source::Memfd { .. } => !share,
            };
        if accountable {
            match host.overcommit_memory {
                Some(2) if !reserve => return Err(err(ErrorKind::NoReserveUnsupported)),
                Some(0) if reserve => {
                    if let Some(limit) = host.commit_heuristic_limit {
                        if map_len > limit {
                            return Err(map_error(id, &source, libc::ENOMEM));
                        }
                    }
                }
                _ => {}
            }
        }

        let prealloc_ram = if !prealloc || hugetlb || readonly {
            0
        } else {
            match &source {
                Source::Anonymous | Source::Memfd { .. } => map_len,
                Source::File { open, .. } if in_memory_fs => match open {
                    FileOpen::Existing { len } => map_len - (*len).min(map_len),
                    _ => map_len,
                },
                Source::File { .. } => 0,
            }
        };
        check_memory(std::iter::once((id, prealloc_ram)), host)?;

        let node_cpus = if bind.is_some() {
            host.cpus_of(host_nodes)
        } else {
            Vec::new()
        };
        let cpu_mask = cpu_mask(&node_cpus, host);
        Ok(BackendPlan {
            prealloc_ram,
            release: defaults.release,
            props,
            qom_type,
            map_len,
            page_size,
            align,
            source,
            bind,
            node_cpus,
            cpu_mask,
            online_cpus: host.online_cpus,
            warnings,
        })
    }

    /// The object id.
    pub fn id(&self) -> &str {
        &self.props.id
    }

    /// The QOM type (`memory-backend-ram`).
    pub fn qom_type(&self) -> &'static str {
        self.qom_type
    }

    /// `size` as given.
    pub fn size(&self) -> u64 {
        self.props.size
    }

    /// Bytes that will be mapped (`size` rounded up to the base page size
    /// for `memory-backend-ram`, as QEMU does).
    pub fn mapped_len(&self) -> u64 {
        self.map_len
    }

    /// The page size of the mapping (the huge page size on hugetlbfs and
    /// for hugetlb memfds).
    pub fn page_size(&self) -> u64 {
        self.page_size
    }

    /// `share`, with the type's default (on for memfd).
    pub fn share(&self) -> bool {
        self.props.share
    }

    /// `reserve`.
    pub fn reserve(&self) -> bool {
        self.props.reserve
    }

    /// `merge`, with the machine's default.
    pub fn merge(&self) -> bool {
        self.props.merge
    }

    /// `dump`, with the machine's default.
    pub fn dump(&self) -> bool {
        self.props.dump
    }

    /// `prealloc`, with `-mem-prealloc`'s default.
    pub fn prealloc(&self) -> bool {
        self.props.prealloc
    }

    /// `prealloc-threads`, with the vCPU count as default.
    pub fn prealloc_threads(&self) -> u32 {
        self.props.prealloc_threads
    }

    /// `host-nodes`, ascending.
    pub fn host_nodes(&self) -> &[u16] {
        &self.props.host_nodes
    }

    /// `policy`.
    pub fn policy(&self) -> HostMemPolicy {
        self.props.policy
    }

    /// Where the memory comes from.
    pub fn source(&self) -> &Source {
        &self.source
    }

    /// The CPUs of the bound host nodes, where preallocation threads run.
    pub fn node_cpus(&self) -> &[u32] {
        &self.node_cpus
    }

    /// Preallocate on these host CPUs (a `thread-context`'s) instead.
    pub(crate) fn pin_prealloc(&mut self, cpus: Vec<u32>, host: &HostInfo) {
        self.cpu_mask = cpu_mask(&cpus, host);
        self.node_cpus = cpus;
    }

    /// Warnings found while planning.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Every property with its default.
    pub fn properties(&self) -> &Effective {
        &self.props
    }

    /// The `query-memdev` entry this backend will have.
    pub fn memdev(&self) -> Memdev {
        self.props.memdev()
    }

    /// Whether transparent huge pages can back it (anonymous or shared
    /// memory that is not hugetlb).
    pub(crate) fn thp_candidate(&self) -> bool {
        match &self.source {
            Source::Anonymous => true,
            Source::Memfd { hugetlb, .. } => !hugetlb,
            Source::File { .. } => false,
        }
    }
}

const TMPFS_MAGIC: i64 = 0x0102_1994;
const RAMFS_MAGIC: i64 = 0x8584_58f6;

/// The memory that preallocating `backends` (id, bytes made resident, in
/// the order they are preallocated) needs, against every limit of the
/// host ([`HostInfo::memory_limits`]). A deliberate deviation from QEMU,
/// which goes on and is killed by the OOM killer (or by its cgroup) part
/// way; the error names the first backend that crosses a limit.
pub(crate) fn check_memory<'a>(
    backends: impl IntoIterator<Item = (&'a str, u64)>,
    host: &HostInfo,
) -> Result<(), Error> {
    if host.memory_limits.is_empty() {
        return Ok(());
    }
    let mut needed = 0u64;
    for (id, bytes) in backends {
        if bytes == 0 {
            continue;
        }
        needed = needed.saturating_add(bytes);
        if let Some(limit) = host
            .memory_limits
            .iter()
            .filter(|l| needed > l.available)
            .min_by_key(|l| l.available)
        {
            return Err(Error::at(
                id,
                ErrorKind::NotEnoughMemory {
                    backend: id.into(),
                    needed,
                    available: limit.available,
                    limit: limit.what.clone(),
                },
            ));
        }
    }
    Ok(())
}

/// The mapping error QEMU gives for the backend's type.
pub(crate) fn map_error(id: &str, source: &Source, errno: i32) -> Error {
    let kind = match source {
        Source::Anonymous => ErrorKind::SetupGuestMemory {
            name: id.into(),
            errno: Errno::new(errno),
        },
        _ => ErrorKind::MapBackingStore {
            errno: Errno::new(errno),
        },
    };
    Error::at(id, kind)
}

/// `mem-path` for a message: control characters (a NUL from JSON)
/// escaped, so that nothing raw reaches a terminal.
pub(crate) fn printable_path(path: &str) -> String {
    if path.chars().any(char::is_control) {
        path.chars()
            .flat_map(|c| {
                let escaped = c.is_control().then(|| c.escape_default());
                let plain = (!c.is_control()).then_some(c);
                escaped.into_iter().flatten().chain(plain)
            })
            .collect()
    } else {
        path.to_owned()
    }
}

/// Whether `mem-path` names something QEMU opens but cannot map (its
/// mmap fails with ENODEV): a FIFO, a socket, or a directory when
/// `readonly=on` (QEMU then opens the directory itself instead of
/// creating a file in it). Character and block devices are left to the
/// kernel: device DAX (`/dev/dax0.0`) maps, `/dev/null` does not.
fn not_mappable(mem_path: &str, readonly: bool) -> bool {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::metadata(mem_path) {
        Ok(md) => {
            let t = md.file_type();
            t.is_fifo() || t.is_socket() || (readonly && t.is_dir())
        }
        Err(_) => false,
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// How `mem-path` will be opened, and the directory whose file system
/// holds it; errors are the errno QEMU's open would see.
fn inspect_mem_path(mem_path: &str) -> Result<(FileOpen, PathBuf), i32> {
    let path = Path::new(mem_path);
    match std::fs::metadata(path) {
        Ok(md) if md.is_dir() => Ok((FileOpen::TempInDirectory, path.to_path_buf())),
        Ok(md) => Ok((FileOpen::Existing { len: md.len() }, parent_dir(path))),
        Err(e) => {
            let errno = e.raw_os_error().unwrap_or(libc::EIO);
            if errno != libc::ENOENT {
                return Err(errno);
            }
            // open(O_CREAT) of a name ending in '/' fails with EISDIR.
            if mem_path.ends_with('/') {
                return Err(libc::EISDIR);
            }
            let dir = parent_dir(path);
            match std::fs::metadata(&dir) {
                Ok(md) if md.is_dir() => Ok((FileOpen::Create, dir)),
                Ok(_) => Err(libc::ENOTDIR),
                Err(e) => Err(e.raw_os_error().unwrap_or(libc::ENOENT)),
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_hugepages(
    id: &str,
    source: &Source,
    map_len: u64,
    page_size: u64,
    prealloc: bool,
    policy: HostMemPolicy,
    host_nodes: &[u16],
    host: &HostInfo,
) -> Result<(), Error> {
    let mut needed = map_len / page_size;
    if let Source::File {
        open: FileOpen::Existing { len },
        ..
    } = source
    {
        // Pages of an existing hugetlbfs file are already allocated (or
        // reserved) up to its size.
        needed = needed.saturating_sub(len / page_size);
    }
    if needed == 0 {
        return Ok(());
    }
    let short = |available: u64, where_: String| {
        Error::at(
            id,
            ErrorKind::HugePagesShort {
                backend: id.into(),
                page_size: HumanSize(page_size),
                needed,
                available,
                where_,
            },
        )
    };
    let global = host.hugepage_pool(page_size).map_or(0, |p| p.available());
    if global < needed {
        return Err(short(global, "the host".into()));
    }
    if prealloc && policy == HostMemPolicy::Bind {
        // Bound memory must come from the bound nodes' pools; without
        // MADV_POPULATE_WRITE a shortfall there would be a SIGBUS.
        let on_nodes: u64 = host_nodes
            .iter()
            .filter_map(|&n| host.node(n))
            .filter_map(|n| n.hugepage_pools.iter().find(|p| p.page_size == page_size))
            .map(|p| p.available())
            .sum();
        if on_nodes < needed {
            let list = host_nodes
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(",");
            return Err(short(on_nodes, format!("host nodes {list}")));
        }
    }
    Ok(())
}

/// The affinity mask of preallocation threads pinned to `cpus` (`None`:
/// not pinned). The kernel wants at least nr_cpu_ids bits; CPUs past the
/// host's possible ones (a hand-built HostInfo) cannot be pinned to and
/// are left out; if all are, the kernel refuses the empty mask and
/// preallocation runs unpinned with a warning.
fn cpu_mask(cpus: &[u32], host: &HostInfo) -> Option<IdSet> {
    cpus.last().map(|&max| {
        let room = host
            .possible_cpus
            .unwrap_or_else(|| (max as usize + 1).max(1024));
        let mut mask = IdSet::with_room(room, MAX_CPUS);
        for &c in cpus {
            let _ = mask.insert(c as usize);
        }
        mask
    })
}

/// The host CPUs a `thread-context` runs its threads on, with QEMU's
/// errors when there are none.
pub(crate) fn thread_context_cpus(
    tc: &vnuma_options::ThreadContextOptions,
    host: &HostInfo,
) -> Result<Vec<u32>, Error> {
    let online = host.cpus_of(&host.nodes.iter().map(|n| n.id).collect::<Vec<_>>());
    if !tc.node_affinity.is_empty() {
        let nodes: Vec<u16> = tc.node_affinity.iter().flat_map(|r| r.iter()).collect();
        let cpus = host.cpus_of(&nodes);
        if cpus.is_empty() {
            return Err(Error::new(ErrorKind::NodesSelectNoCpus, None));
        }
        return Ok(cpus);
    }
    if !tc.cpu_affinity.is_empty() {
        let mut cpus: Vec<u32> = tc
            .cpu_affinity
            .iter()
            .flat_map(|r| r.iter())
            .map(u32::from)
            .filter(|c| online.binary_search(c).is_ok())
            .collect();
        cpus.dedup();
        if cpus.is_empty() {
            return Err(Error::new(ErrorKind::CpuAffinityFailed, None));
        }
        return Ok(cpus);
    }
    Ok(online)
}
