//! Host memory for guest NUMA: QEMU's memory backends
//! (`memory-backend-ram`, `-file`, `-memfd`) with their properties, NUMA
//! binding through `mbind`, checks made before anything is mapped, and
//! fast parallel preallocation placed on the right host nodes.
//!
//! Two steps, so that a VMM can validate a whole configuration before it
//! touches host memory:
//!
//! 1. **Plan** ([`BackendPlan::new`] for one backend, [`RamPlan::new`] for
//!    a guest): resolve every property with its default ([`effective`],
//!    which needs no host and also serves reports), and check
//!    everything that can be checked without mapping: QEMU's property
//!    rules, the type's rules (`mem-path`, `align`, page multiples,
//!    `hugetlbsize`), host nodes that exist, have memory and are allowed,
//!    huge page pools with enough pages, room on the file system, the
//!    kernel's overcommit rules. A failure is an [`Error`] naming the
//!    backend, and nothing has been mapped.
//! 2. **Allocate** ([`HostMemoryBackend::allocate`], [`GuestRam::allocate`]):
//!    QEMU's sequence (spec §5.3): map (shared or private, `MAP_NORESERVE`
//!    for `reserve=off`), `MADV_HUGEPAGE` on anonymous and shared memory,
//!    `MADV_MERGEABLE` for `merge`, `MADV_DONTDUMP` without `dump`,
//!    `mbind` for `host-nodes`/`policy`, then preallocation. Every
//!    mapping is owned by a value that unmaps it on drop; a failure part
//!    way through a guest leaves nothing mapped and no file created.
//!
//! ## Should I use this crate?
//!
//! Use it to allocate guest RAM the way QEMU does, from
//! [`vnuma_options::MemoryBackendOptions`] (parsed from QEMU's syntax or
//! built by hand). It does not depend on `vnuma-topology`: guest RAM is
//! described by a [`RamRequest`] of plain values, which the `vnuma` facade
//! builds from a `Topology` (the table on [`RamRequest`] says how).
//!
//! ## Example
//!
//! ```
//! use vnuma_backend::{AllocOptions, BootRam, Defaults, GuestRam, HostInfo, NodeRam, RamPlan, RamRequest};
//! use vnuma_options::MemoryBackendOptions;
//!
//! let host = HostInfo::probe();
//! let req = RamRequest {
//!     ram_size: 8 << 20,
//!     backends: vec![
//!         "memory-backend-ram,id=m0,size=4M,prealloc=on".parse()?,
//!         "memory-backend-memfd,id=m1,size=4M,merge=off".parse()?,
//!     ],
//!     boot: BootRam::Nodes(vec![
//!         NodeRam { node: 0, memdev: Some("m0".into()) },
//!         NodeRam { node: 1, memdev: Some("m1".into()) },
//!     ]),
//!     defaults: Defaults::default(),
//!     thread_contexts: Vec::new(),
//! };
//! let plan = RamPlan::new(&req, &host)?; // every check; nothing mapped
//! let ram = GuestRam::allocate(&plan, AllocOptions::new())?;
//! assert_eq!(ram.regions()[1].offset, 4 << 20);
//! assert!(ram.backend("m0").unwrap().is_preallocated());
//! assert_eq!(
//!     ram.query_memdev()[1].to_qmp_json(),
//!     r#"{"share": true, "reserve": true, "prealloc": false, "host-nodes": [], "size": 4194304, "merge": false, "dump": true, "policy": "default", "id": "m1"}"#
//! );
//!
//! // QEMU's messages, before anything is mapped:
//! let bad: MemoryBackendOptions = "memory-backend-ram,id=m2,size=4M,policy=bind".parse()?;
//! let err = vnuma_backend::BackendPlan::new(&bad, &Defaults::default(), &host).unwrap_err();
//! assert_eq!(err.to_string(), "host-nodes must be set for policy bind");
//! assert_eq!(err.backend(), Some("m2"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Preallocation
//!
//! `MADV_POPULATE_WRITE` (Linux ≥ 5.14), probed on each backend as QEMU
//! does, split across worker threads with QEMU's thread rule (spec §5.4,
//! or [`ThreadRule::Exact`]). Workers of a backend bound to host nodes
//! are pinned to those nodes' CPUs; all backends of a guest preallocate
//! at the same time; progress is reported to a callback on the calling
//! thread and a flag cancels between 32 MiB chunks. A page the kernel
//! cannot supply (no huge page left, a full file system) is an error
//! naming the backend — `MADV_POPULATE_WRITE` reports it as `EFAULT` or
//! `ENOMEM` where touching memory would raise SIGBUS.
//!
//! On kernels without it (`EINVAL`), pages are touched (a byte read and
//! written back). Before that, file and memfd memory that is shared is
//! `fallocate`d (a shortage is then `ENOSPC`, not SIGBUS), and hugetlb
//! pools were checked when planning (globally, and on the bound nodes for
//! `policy=bind`). **Residual risk** on such old kernels: something else
//! taking huge pages or file-system space between the check and the
//! touch, a file system without `fallocate` running full, or hugetlb
//! pages of a node chosen by a `preferred`/`interleave` policy running
//! out, still raises SIGBUS and ends the process, as it does in QEMU.
//! vnuma installs no signal handler: a library cannot own the process's
//! SIGBUS disposition safely.
//!
//! Read-only file backends are populated with `MADV_POPULATE_READ` (QEMU
//! 7.2 crashes on `readonly=on,prealloc=on`).
//!
//! ## Fidelity and deliberate deviations
//!
//! Messages are QEMU 7.2's (checked against `qemu-system-x86_64` 7.2), with
//! these differences:
//!
//! * Sizes of file and memfd backends that are not a multiple of the page
//!   size are refused with QEMU 9.1's `backend '{type}' memory size must
//!   be multiple of {page}`. QEMU 7.2 rounded hugetlbfs files up silently,
//!   refused hugetlb memfds with `failed to resize memfd to {size}:
//!   Invalid argument` and other memfds with `backing store size ... does
//!   not match 'size' option ...`. `memory-backend-ram` sizes are rounded
//!   up to the page size, as in QEMU.
//! * Host nodes that do not exist, have no memory or are outside the
//!   cpuset are found before mapping: `cannot bind memory to host NUMA
//!   nodes: host node {n} does not exist (backend '{id}')` where QEMU
//!   says `...: Invalid argument` after mapping.
//! * Too few huge pages is a planning error naming the backend where QEMU
//!   says `unable to map backing store for guest RAM: Cannot allocate
//!   memory` (or dies of SIGBUS while preallocating).
//! * A memfd with `hugetlbsize` of a size the host has no pool for gives
//!   QEMU's `failed to create memfd with flags 0x{flags}: No such device`
//!   when planning.
//! * `backing store align ... is larger than 'align' option` (device DAX
//!   only), `pmem` and the `-mem-path` temporary file name
//!   (`vnuma_back_mem.{id}.*` instead of `qemu_back_mem.{id}.*`) differ or
//!   are not modelled.
//! * `thread-context` objects (`RamRequest::thread_contexts`) are checked
//!   against the host when planning (`The nodes select no CPUs`,
//!   `Setting CPU affinity failed: Invalid argument`) rather than before
//!   everything else as QEMU does (resolution never touches the host); a
//!   backend's `prealloc-context` runs its preallocation threads on the
//!   context's CPUs.
//!
//! ## Features
//!
//! * `vm-memory`: `GuestRam::guest_memory` (and
//!   `NumaGuestMemory::from_segments` for one backend per zone) hands the
//!   guest RAM to rust-vmm consumers as a `vm_memory::GuestMemoryMmap<B>`
//!   with the caller's bitmap type `B`, each region's node beside it, the
//!   mappings kept alive by the returned `NumaGuestMemory`. `vm-memory`
//!   (0.18) is then a public dependency. Read-only backends are refused
//!   there: vm-memory regions are always writable.
//! * `serde`: `Serialize` for [`Memdev`] (QMP's field names).

mod backend;
mod compose;
mod effective;
pub mod error;
#[cfg(feature = "vm-memory")]
#[path = "vm_memory.rs"]
mod guest_memory;
mod host;
mod mask;
mod os;
mod plan;
mod prealloc;
mod report;
/// rust-vmm's `vm-memory` (0.18), a public dependency with feature
/// `vm-memory`: re-exported so that callers name the same version.
#[cfg(feature = "vm-memory")]
pub use ::vm_memory;

pub use backend::{AllocOptions, HostMemoryBackend, PreallocMethod};
pub use compose::{BootRam, DefaultRam, GuestRam, NodeRam, RamPlan, RamRegion, RamRequest};
pub use effective::{effective, Defaults, Effective};
pub use error::{Errno, Error, ErrorKind, HostNodeProblem, HumanSize, Warning};
#[cfg(feature = "vm-memory")]
pub use guest_memory::{BackendSegment, GpaSegment, KeepMapped, NodeRegion, NumaGuestMemory};
pub use host::{HostInfo, HostNode, HugePagePool, MemoryLimit};
pub use plan::{BackendPlan, FileOpen, Source};
pub use prealloc::{
    cancel_on_signals, cancel_signal, qemu_thread_count, Progress, ThreadRule,
    MAX_PREALLOC_THREADS, MAX_PREALLOC_THREADS_AT_ONCE,
};
pub use report::Memdev;
