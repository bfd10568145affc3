//! Errors and warnings. `Display` is QEMU 7.2's text where QEMU has one;
//! every error also names the backend it concerns ([`Error::backend`]).

use std::fmt;

use crate::os::strerror;

/// An errno value, carried as the [`std::io::Error`] it is. `Display` is
/// the C library's text (`Invalid argument`), as QEMU prints it after a
/// message; as an error it is the `source()` of the [`ErrorKind`]s that
/// have one, and its own `source()` is the `std::io::Error`, so a caller
/// walking the chain finds the OS error (`raw_os_error`, `kind`).
pub struct Errno(std::io::Error);

impl Errno {
    /// The error of errno value `code`.
    pub fn new(code: i32) -> Self {
        Errno(std::io::Error::from_raw_os_error(code))
    }

    /// The raw value.
    pub fn raw(&self) -> i32 {
        self.0.raw_os_error().unwrap_or(0)
    }

    /// The same error as a `std::io::Error`.
    pub fn io_error(&self) -> &std::io::Error {
        &self.0
    }
}

impl Clone for Errno {
    fn clone(&self) -> Self {
        Errno::new(self.raw())
    }
}

impl PartialEq for Errno {
    fn eq(&self, other: &Self) -> bool {
        self.raw() == other.raw()
    }
}

impl Eq for Errno {}

impl std::hash::Hash for Errno {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.raw().hash(state);
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Errno").field(&self.raw()).finish()
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&strerror(self.raw()))
    }
}

impl std::error::Error for Errno {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

impl From<Errno> for std::io::Error {
    fn from(e: Errno) -> Self {
        e.0
    }
}

/// A size written the way QEMU's `size_to_str` writes page sizes
/// (`4 KiB`, `2 MiB`, `1 GiB`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HumanSize(pub u64);

impl fmt::Display for HumanSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
        let v = self.0;
        // QEMU switches to the next unit from 1000 of the current one on.
        let mut i = 0;
        while i + 1 < SUFFIXES.len() && (v >> (10 * i)) >= 1000 {
            i += 1;
        }
        let div = 1u64 << (10 * i);
        if v % div == 0 {
            write!(f, "{} {}B", v / div, SUFFIXES[i])
        } else {
            // %0.3g of the quotient.
            let q = v as f64 / div as f64;
            let s = if q >= 100.0 {
                format!("{q:.0}")
            } else if q >= 10.0 {
                format!("{q:.1}")
            } else if q >= 1.0 {
                format!("{q:.2}")
            } else {
                format!("{q:.3}")
            };
            let s = if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                s
            };
            write!(f, "{s} {}B", SUFFIXES[i])
        }
    }
}

/// Why a host node cannot be bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostNodeProblem {
    /// `/sys/devices/system/node/node{N}` does not exist (or is offline).
    Missing,
    /// The node exists but has no memory.
    NoMemory,
    /// The process's cpuset does not allow it (`Mems_allowed`).
    NotAllowed,
}

impl fmt::Display for HostNodeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HostNodeProblem::Missing => "does not exist",
            HostNodeProblem::NoMemory => "has no memory",
            HostNodeProblem::NotAllowed => "is not in this process's allowed memory nodes",
        })
    }
}

/// What is wrong. `Display` is QEMU 7.2's text where QEMU has one; the
/// checks vnuma adds have their own text, which names the backend.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A property value QEMU's setters refuse (`size=0`,
    /// `prealloc-threads=0`, a host node ≥ 128, `hugetlbsize=0`), from
    /// `MemoryBackendOptions::validate`.
    #[error("{0}")]
    Property(#[from] vnuma_options::Error),
    /// `prealloc=on` with `reserve=off`.
    #[error("'prealloc=on' and 'reserve=off' are incompatible")]
    PreallocWithoutReserve,
    /// `mbind` failed.
    #[error("cannot bind memory to host NUMA nodes: {errno}")]
    Bind {
        /// What the kernel said.
        #[source]
        errno: Errno,
    },
    /// A host node that cannot be bound to, found before mapping (QEMU
    /// finds it when `mbind` fails with `Invalid argument`).
    #[error(
        "cannot bind memory to host NUMA nodes: host node {node} {problem} (backend '{backend}')"
    )]
    HostNode {
        /// The backend.
        backend: String,
        /// The node.
        node: u16,
        /// Why.
        problem: HostNodeProblem,
    },
    /// Preallocation failed (`Bad address` when the memory cannot be
    /// provided, `Cannot allocate memory`, ...).
    #[error("qemu_prealloc_mem: preallocating memory failed: {errno}")]
    Prealloc {
        /// What the kernel said.
        #[source]
        errno: Errno,
    },
    /// Preallocation was cancelled through the cancellation flag.
    #[error("preallocation of memory backend '{backend}' cancelled")]
    Cancelled {
        /// The backend being preallocated.
        backend: String,
    },
    /// Anonymous memory could not be mapped (`memory-backend-ram`).
    #[error("cannot set up guest memory '{name}': {errno}")]
    SetupGuestMemory {
        /// The memory region name (the backend id).
        name: String,
        /// What the kernel said.
        #[source]
        errno: Errno,
    },
    /// A file or memfd could not be mapped.
    #[error("unable to map backing store for guest RAM: {errno}")]
    MapBackingStore {
        /// What the kernel said.
        #[source]
        errno: Errno,
    },
    /// `mem-path` cannot be opened or created.
    #[error("can't open backing store {path} for guest RAM: {errno}")]
    OpenBackingStore {
        /// `mem-path` as given.
        path: String,
        /// Why.
        #[source]
        errno: Errno,
    },
    /// An existing non-empty file shorter than the backend.
    #[error("backing store size 0x{file_size:x} does not match 'size' option 0x{size:x}")]
    BackingStoreSize {
        /// The file's size.
        file_size: u64,
        /// The backend size rounded up to the base page size.
        size: u64,
    },
    /// QEMU 10.0's form of [`ErrorKind::BackingStoreSize`], which counts
    /// `offset` in (memory-backend-file `offset`, QEMU 8.2).
    #[error("{name} backing store size 0x{file_size:x} is too small for 'size' option 0x{size:x} plus 'offset' option 0x{offset:x}")]
    BackingStoreTooSmall {
        /// The backend's id.
        name: String,
        /// The file's size.
        file_size: u64,
        /// The backend size rounded up to the base page size.
        size: u64,
        /// `offset`.
        offset: u64,
    },
    /// `offset` not a multiple of the file's page size.
    #[error("offset 0x{offset:x} must be multiples of page size 0x{page_size:x}")]
    OffsetNotPageMultiple {
        /// `offset`.
        offset: u64,
        /// The file's page size.
        page_size: u64,
    },
    /// `align` not a multiple of the page size.
    #[error("alignment 0x{align:x} must be multiples of page size 0x{page_size:x}")]
    AlignNotPageMultiple {
        /// `align`.
        align: u64,
        /// The mapping's page size.
        page_size: u64,
    },
    /// `align` not a power of two.
    #[error("alignment 0x{align:x} must be a power of two")]
    AlignNotPowerOfTwo {
        /// `align`.
        align: u64,
    },
    /// A file backend smaller than one page.
    #[error("memory size 0x{size:x} must be equal to or larger than page size 0x{page_size:x}")]
    SizeBelowPageSize {
        /// The size.
        size: u64,
        /// The page size.
        page_size: u64,
    },
    /// The size of a file or memfd backend is not a multiple of its page
    /// size (QEMU ≥ 9.1's text; 7.2 rounded hugetlbfs files up silently
    /// and failed memfds with `failed to resize memfd` or `backing store
    /// size ... does not match`).
    #[error("backend '{qom_type}' memory size must be multiple of {page_size}")]
    SizeNotPageMultiple {
        /// The backend type.
        qom_type: &'static str,
        /// The page size.
        page_size: HumanSize,
    },
    /// `hugetlbsize` not a power of two.
    #[error("Hugepage size must be a power of 2")]
    HugepageSizeNotPowerOfTwo,
    /// `memfd_create` failed (or would: no pool of that page size gives
    /// `No such device`).
    #[error("failed to create memfd with flags 0x{flags:x}: {errno}")]
    MemfdCreate {
        /// The `memfd_create` flags QEMU passes.
        flags: u32,
        /// Why.
        #[source]
        errno: Errno,
    },
    /// `ftruncate` of the memfd failed.
    #[error("failed to resize memfd to {size}: {errno}")]
    MemfdResize {
        /// The size.
        size: u64,
        /// Why.
        #[source]
        errno: Errno,
    },
    /// Sealing the memfd failed.
    #[error("failed to add seals 0x{seals:x}: {errno}")]
    MemfdSeal {
        /// The seals.
        seals: u32,
        /// Why.
        #[source]
        errno: Errno,
    },
    /// `reserve=off` where the kernel never overcommits.
    #[error("Skipping reservation of swap space is not supported: \"/proc/sys/vm/overcommit_memory\" is \"2\"")]
    NoReserveUnsupported,
    /// Not enough huge pages for a backend that reserves or preallocates
    /// them (QEMU fails later: `unable to map backing store for guest
    /// RAM: Cannot allocate memory`, or a SIGBUS while preallocating).
    #[error("memory backend '{backend}' needs {needed} huge pages of {page_size}, but {where_} has {available} available")]
    HugePagesShort {
        /// The backend.
        backend: String,
        /// The huge page size.
        page_size: HumanSize,
        /// Pages needed.
        needed: u64,
        /// Pages available.
        available: u64,
        /// Which pool: `the host` or `host nodes 0-1`.
        where_: String,
    },
    /// Preallocating the guest's memory would take more memory than the
    /// host (or this process's cgroup) can give: QEMU would go on and be
    /// killed by the OOM killer; vnuma refuses before mapping anything.
    #[error("not enough memory to preallocate memory backend '{backend}': preallocated backends need {needed} bytes, {limit} leaves {available} bytes")]
    NotEnoughMemory {
        /// The backend whose preallocation crosses the limit.
        backend: String,
        /// Bytes the preallocated backends need (up to this one).
        needed: u64,
        /// Bytes the limit leaves.
        available: u64,
        /// The limit (`MemAvailable + SwapFree`, `cgroup /machine.slice memory.max`).
        limit: String,
    },
    /// Not enough room on the file system of `mem-path` to preallocate a
    /// shared file backend.
    #[error("memory backend '{backend}' needs {needed} bytes in {path}, but its file system has {available} bytes available")]
    NoRoom {
        /// The backend.
        backend: String,
        /// The directory or file.
        path: String,
        /// Bytes needed.
        needed: u64,
        /// Bytes available.
        available: u64,
    },
    /// A backend used by two consumers (nodes, `-machine memory-backend`).
    #[error("memory backend {id} can't be used multiple times.")]
    UsedMultipleTimes {
        /// The backend id.
        id: String,
    },
    /// A `thread-context` whose `node-affinity` names no host node with
    /// CPUs.
    #[error("The nodes select no CPUs")]
    NodesSelectNoCpus,
    /// A `thread-context` whose `cpu-affinity` names no online host CPU
    /// (QEMU's `sched_setaffinity` fails).
    #[error("Setting CPU affinity failed: Invalid argument")]
    CpuAffinityFailed,
    /// A node or the machine names a backend that does not exist.
    #[error("memory backend '{id}' not found")]
    UnknownBackend {
        /// The id.
        id: String,
    },
    /// A backend object has the default RAM backend's id.
    #[error("object name '{id}' is reserved for the default RAM backend, it can't be used for any other purposes. Change the object's 'id' to something else")]
    ReservedDefaultRamId {
        /// The id (`pc.ram`).
        id: String,
    },
    /// The node backends do not add up to the RAM size.
    #[error("total memory for NUMA nodes (0x{sum:x}) should equal RAM size (0x{ram_size:x})")]
    RamSizeMismatch {
        /// Sum of the node backends.
        sum: u64,
        /// RAM size.
        ram_size: u64,
    },
    /// `-machine memory-backend` of another size than the RAM.
    #[error("Machine memory size does not match the size of the memory backend")]
    MachineBackendSize,
    /// Guest-physical placement for `vm-memory` that does not fit the
    /// RAM (a segment outside it, overlapping addresses).
    #[error("invalid guest memory placement: {reason}")]
    Placement {
        /// What is wrong.
        reason: String,
    },
}

/// An error: what ([`ErrorKind`], whose `Display` is QEMU's text) and the
/// memory backend it concerns. `Display` prints only the message, as
/// QEMU does; [`Error::display_with_backend`] prefixes the backend.
///
/// `source()` is the kind's: the [`Errno`] (and behind it the
/// `std::io::Error`) when the kernel refused something, the
/// `vnuma_options::Error` of a property QEMU's setters refuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error(Box<Inner>);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.kind, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.0.kind)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    backend: Option<String>,
}

impl Error {
    /// An error about `backend` (an object id), or about the whole guest
    /// RAM when `None`.
    pub fn new(kind: ErrorKind, backend: Option<&str>) -> Self {
        Error(Box::new(Inner {
            kind,
            backend: backend.map(str::to_owned),
        }))
    }

    pub(crate) fn at(backend: &str, kind: ErrorKind) -> Self {
        Error::new(kind, Some(backend))
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The backend (object id) the error concerns, if any.
    pub fn backend(&self) -> Option<&str> {
        self.0.backend.as_deref()
    }

    /// The errno behind the error, if the kernel gave one.
    pub fn errno(&self) -> Option<Errno> {
        match &self.0.kind {
            ErrorKind::Bind { errno }
            | ErrorKind::Prealloc { errno }
            | ErrorKind::SetupGuestMemory { errno, .. }
            | ErrorKind::MapBackingStore { errno }
            | ErrorKind::OpenBackingStore { errno, .. }
            | ErrorKind::MemfdCreate { errno, .. }
            | ErrorKind::MemfdResize { errno, .. }
            | ErrorKind::MemfdSeal { errno, .. } => Some(errno.clone()),
            _ => None,
        }
    }

    /// `memory backend '{id}': {message}` (or just the message).
    pub fn display_with_backend(&self) -> impl fmt::Display + '_ {
        WithBackend(self)
    }
}

struct WithBackend<'a>(&'a Error);

impl fmt::Display for WithBackend<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.backend() {
            Some(b) => write!(f, "memory backend '{b}': {}", self.0.kind()),
            None => write!(f, "{}", self.0.kind()),
        }
    }
}

/// Something that went differently than asked but did not stop the
/// allocation. Library code never prints: the caller decides.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// Best-effort binding (for containers): `mbind` was refused, the
    /// memory is not bound.
    BindRefused {
        /// The backend.
        backend: String,
        /// What the kernel said (`Operation not permitted`).
        errno: Errno,
    },
    /// Several preferred nodes on a kernel without
    /// `MPOL_PREFERRED_MANY` (Linux < 5.15): only the first is preferred.
    PreferredManyUnavailable {
        /// The backend.
        backend: String,
        /// The node that is preferred.
        node: u16,
    },
    /// `-mem-path` could not be used for the default RAM backend; it is
    /// anonymous memory instead (the 2016 behaviour, without
    /// `-mem-prealloc`).
    MemPathFallback {
        /// Why the file could not be used.
        error: Error,
    },
    /// A shared file backend's file system may not have room for all of
    /// it; the guest can fail later when it touches memory.
    MayRunOutOfRoom {
        /// The backend.
        backend: String,
        /// The file or directory.
        path: String,
        /// Bytes the backend may need.
        needed: u64,
        /// Bytes available now.
        available: u64,
    },
    /// Preallocation workers could not be pinned to the CPUs of the bound
    /// host nodes; they ran unpinned.
    AffinityNotSet {
        /// The backend.
        backend: String,
        /// What the kernel said.
        errno: Errno,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::BindRefused { backend, errno } => write!(
                f,
                "cannot bind memory to host NUMA nodes: {errno} (memory backend '{backend}' is not bound)"
            ),
            Warning::PreferredManyUnavailable { backend, node } => write!(
                f,
                "the host kernel has no MPOL_PREFERRED_MANY: memory backend '{backend}' prefers only host node {node}"
            ),
            Warning::MemPathFallback { error } => write!(f, "{error}"),
            Warning::MayRunOutOfRoom {
                backend,
                path,
                needed,
                available,
            } => write!(
                f,
                "memory backend '{backend}' may need {needed} bytes in {path}, but its file system has {available} bytes available"
            ),
            Warning::AffinityNotSet { backend, errno } => write!(
                f,
                "preallocation threads of memory backend '{backend}' could not be pinned to the CPUs of its host nodes: {errno}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_as_qemu_prints_them() {
        for (v, s) in [
            (4096, "4 KiB"),
            (64 << 10, "64 KiB"),
            (2 << 20, "2 MiB"),
            (1 << 30, "1 GiB"),
            (512, "512 B"),
            (1000 << 10, "0.977 MiB"),
            (1536 << 10, "1.5 MiB"),
        ] {
            assert_eq!(HumanSize(v).to_string(), s);
        }
    }

    #[test]
    fn errno_text() {
        assert_eq!(Errno::new(libc::EINVAL).to_string(), "Invalid argument");
        assert_eq!(Errno::new(libc::EFAULT).to_string(), "Bad address");
    }
}
