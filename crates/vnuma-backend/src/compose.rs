//! Guest RAM: the backends of a guest, planned together and composed at
//! their nodes' RAM offsets (spec §3.4), or the machine's one default RAM
//! backend.

use std::sync::Arc;

use vnuma_options::{BackendKind, FileBackendOptions, MemoryBackendOptions};

use crate::backend::{AllocOptions, HostMemoryBackend};
use crate::effective::Defaults;
use crate::error::{Error, ErrorKind, Warning};
use crate::host::HostInfo;
use crate::plan::BackendPlan;
use crate::prealloc;
use crate::report::Memdev;

/// A NUMA node's share of boot RAM.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeRam {
    /// The node id.
    pub node: u32,
    /// Its backend (`-numa node,memdev=`); `None` for a memory-less node.
    pub memdev: Option<String>,
}

/// The machine's own RAM backend, for guests whose nodes do not name
/// backends (no NUMA, automatic NUMA, legacy `mem=`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DefaultRam {
    /// Its id: the machine's default RAM id (`pc.ram`).
    pub id: String,
    /// `-mem-path`: a file or directory to back it.
    pub mem_path: Option<String>,
    /// If `-mem-path` cannot be used, fall back to anonymous memory with a
    /// [`Warning::MemPathFallback`], unless `prealloc` is on (the 2016
    /// behaviour). QEMU 7.2 has no fallback: it fails.
    pub mem_path_fallback: bool,
}

impl DefaultRam {
    /// The default RAM backend `id` (`pc.ram`) without `-mem-path`.
    pub fn new(id: impl Into<String>) -> Self {
        DefaultRam {
            id: id.into(),
            mem_path: None,
            mem_path_fallback: false,
        }
    }
}

/// How boot RAM is made up.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum BootRam {
    /// Per-node backends, placed in node-id order at the sum of the sizes
    /// of the lower nodes' backends (nodes without a backend take no
    /// space).
    Nodes(Vec<NodeRam>),
    /// `-machine memory-backend=`: one backend holds all of it.
    Backend(String),
    /// The machine's default RAM backend.
    Default(DefaultRam),
}

/// Everything needed to plan a guest's RAM, as plain values. The `vnuma`
/// facade builds it from a `vnuma_topology::Topology`:
///
/// | field | from the topology |
/// | --- | --- |
/// | `ram_size` | `ram_size()` |
/// | `backends` | `backends()` |
/// | `boot` | `Nodes` from `nodes()` (id, memdev) if `uses_memdevs()`; else `Backend` if `memory_backend()`; else `Default` with `machine().default_ram_id` and `mem_path()` |
/// | `defaults` | `mem_merge()`, `dump_guest_core()`, `mem_prealloc()`, `cpu_topology()`'s boot CPU count |
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RamRequest {
    /// Boot RAM size in bytes.
    pub ram_size: u64,
    /// Every memory-backend object, in command-line order (including
    /// those no node uses: QEMU allocates them all).
    pub backends: Vec<MemoryBackendOptions>,
    /// How boot RAM is made up.
    pub boot: BootRam,
    /// Property defaults from the machine.
    pub defaults: Defaults,
    /// `thread-context` objects backends preallocate in
    /// (`prealloc-context`); QEMU creates them before any backend.
    pub thread_contexts: Vec<vnuma_options::ThreadContextOptions>,
}

/// One piece of boot RAM: a backend at an offset of the RAM-offset space.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RamRegion {
    /// The NUMA node, if the guest has NUMA.
    pub node: Option<u32>,
    /// Offset in boot RAM.
    pub offset: u64,
    /// Bytes (the backend's size).
    pub size: u64,
    /// Index of the backend in [`RamPlan::backends`] /
    /// [`GuestRam::backends`].
    pub backend: usize,
}

/// A guest's RAM, planned and checked; nothing is mapped yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RamPlan {
    ram_size: u64,
    backends: Vec<BackendPlan>,
    regions: Vec<RamRegion>,
    default_ram: Option<usize>,
    fallback: Option<BackendPlan>,
    warnings: Vec<Warning>,
}

impl RamPlan {
    /// Plan every backend (in command-line order, so the first error is
    /// QEMU's) and their composition: each node's backend used once
    /// (`memory backend m0 can't be used multiple times.`), the default
    /// RAM id not taken by an object, sizes adding up.
    pub fn new(req: &RamRequest, host: &HostInfo) -> Result<RamPlan, Error> {
        let mut backends = Vec::with_capacity(req.backends.len() + 1);
        let mut warnings = Vec::new();
        let mut contexts = Vec::with_capacity(req.thread_contexts.len());
        for tc in &req.thread_contexts {
            contexts.push((tc.id.as_str(), crate::plan::thread_context_cpus(tc, host)?));
        }
        for opts in &req.backends {
            let mut p = BackendPlan::new(opts, &req.defaults, host)?;
            let ctx = opts.prealloc_context.as_deref();
            if let Some((_, cpus)) = contexts.iter().find(|(id, _)| Some(*id) == ctx) {
                p.pin_prealloc(cpus.clone(), host);
            }
            warnings.extend(p.warnings().iter().cloned());
            backends.push(p);
        }
        // Together, the preallocated backends must fit in what the host
        // and this process's cgroup can give (each alone was checked).
        crate::plan::check_memory(backends.iter().map(|b| (b.id(), b.prealloc_ram)), host)?;
        let find = |id: &str| {
            backends
                .iter()
                .position(|b| b.id() == id)
                .ok_or_else(|| Error::at(id, ErrorKind::UnknownBackend { id: id.into() }))
        };
        let mut regions = Vec::new();
        let mut default_ram = None;
        let mut fallback = None;
        match &req.boot {
            BootRam::Nodes(nodes) => {
                let mut nodes: Vec<&NodeRam> = nodes.iter().collect();
                nodes.sort_by_key(|n| n.node);
                let mut used = vec![false; backends.len()];
                let mut offset = 0u64;
                for n in nodes {
                    let Some(id) = &n.memdev else { continue };
                    let i = find(id)?;
                    if std::mem::replace(&mut used[i], true) {
                        return Err(Error::at(
                            id,
                            ErrorKind::UsedMultipleTimes { id: id.clone() },
                        ));
                    }
                    let size = backends[i].size();
                    regions.push(RamRegion {
                        node: Some(n.node),
                        offset,
                        size,
                        backend: i,
                    });
                    offset = offset.saturating_add(size);
                }
                if offset != req.ram_size {
                    return Err(Error::new(
                        ErrorKind::RamSizeMismatch {
                            sum: offset,
                            ram_size: req.ram_size,
                        },
                        None,
                    ));
                }
            }
            BootRam::Backend(id) => {
                let i = find(id)?;
                if backends[i].size() != req.ram_size {
                    return Err(Error::at(id, ErrorKind::MachineBackendSize));
                }
                regions.push(RamRegion {
                    node: None,
                    offset: 0,
                    size: req.ram_size,
                    backend: i,
                });
            }
            BootRam::Default(d) => {
                if backends.iter().any(|b| b.id() == d.id) {
                    return Err(Error::at(
                        &d.id,
                        ErrorKind::ReservedDefaultRamId { id: d.id.clone() },
                    ));
                }
                let ram = MemoryBackendOptions::new(d.id.clone(), BackendKind::Ram, req.ram_size);
                let anon = BackendPlan::new(&ram, &req.defaults, host)?;
                let plan = match &d.mem_path {
                    None => anon,
                    Some(path) => {
                        let file = MemoryBackendOptions::new(
                            d.id.clone(),
                            BackendKind::File(FileBackendOptions {
                                mem_path: path.clone(),
                                ..FileBackendOptions::default()
                            }),
                            req.ram_size,
                        );
                        match BackendPlan::new(&file, &req.defaults, host) {
                            Ok(p) => {
                                if d.mem_path_fallback && !req.defaults.prealloc {
                                    fallback = Some(anon);
                                }
                                p
                            }
                            Err(e) if d.mem_path_fallback && !req.defaults.prealloc => {
                                warnings.push(Warning::MemPathFallback { error: e });
                                anon
                            }
                            Err(e) => return Err(e),
                        }
                    }
                };
                warnings.extend(plan.warnings().iter().cloned());
                default_ram = Some(backends.len());
                regions.push(RamRegion {
                    node: None,
                    offset: 0,
                    size: req.ram_size,
                    backend: backends.len(),
                });
                backends.push(plan);
            }
        }
        Ok(RamPlan {
            ram_size: req.ram_size,
            backends,
            regions,
            default_ram,
            fallback,
            warnings,
        })
    }

    /// Boot RAM size.
    pub fn ram_size(&self) -> u64 {
        self.ram_size
    }

    /// Every backend: the objects in command-line order, then the default
    /// RAM backend if the machine creates one.
    pub fn backends(&self) -> &[BackendPlan] {
        &self.backends
    }

    /// Boot RAM pieces in offset order.
    pub fn regions(&self) -> &[RamRegion] {
        &self.regions
    }

    /// Warnings found while planning.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// `query-memdev` as it will be once allocated (every backend,
    /// including the default RAM backend).
    pub fn query_memdev(&self) -> Vec<Memdev> {
        self.backends.iter().map(BackendPlan::memdev).collect()
    }
}

/// A guest's RAM, allocated: every backend mapped, bound and
/// preallocated, and the boot RAM regions. Dropping it unmaps everything
/// (memory handed to `vm-memory` stays mapped until those regions are
/// dropped too).
#[derive(Debug)]
pub struct GuestRam {
    ram_size: u64,
    backends: Vec<Arc<HostMemoryBackend>>,
    regions: Vec<RamRegion>,
    warnings: Vec<Warning>,
}

impl GuestRam {
    /// Allocate `plan`: map every backend in order (QEMU's steps 1–5 for
    /// each), then preallocate all that ask for it at the same time. On
    /// any error nothing stays mapped and no file created here is left.
    pub fn allocate(plan: &RamPlan, opts: AllocOptions<'_>) -> Result<GuestRam, Error> {
        let mut opts = opts;
        let mut warnings = plan.warnings.clone();
        let mut backends = Vec::with_capacity(plan.backends.len());
        for (i, p) in plan.backends.iter().enumerate() {
            match HostMemoryBackend::map(p, &opts, &mut warnings) {
                Ok(b) => backends.push(b),
                Err(e) if Some(i) == plan.default_ram => match &plan.fallback {
                    Some(anon) => {
                        warnings.push(Warning::MemPathFallback { error: e });
                        backends.push(HostMemoryBackend::map(anon, &opts, &mut warnings)?);
                    }
                    None => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
        let to_prealloc: Vec<&HostMemoryBackend> =
            backends.iter().filter(|b| b.plan().prealloc()).collect();
        if !to_prealloc.is_empty() {
            prealloc::run(&to_prealloc, &mut opts, &mut warnings)?;
        }
        for b in &backends {
            b.set_up(&opts);
        }
        Ok(GuestRam {
            ram_size: plan.ram_size,
            backends: backends.into_iter().map(Arc::new).collect(),
            regions: plan.regions.clone(),
            warnings,
        })
    }

    /// Boot RAM size.
    pub fn ram_size(&self) -> u64 {
        self.ram_size
    }

    /// Every backend, in [`RamPlan::backends`] order.
    pub fn backends(&self) -> &[Arc<HostMemoryBackend>] {
        &self.backends
    }

    /// A backend by id.
    pub fn backend(&self, id: &str) -> Option<&Arc<HostMemoryBackend>> {
        self.backends.iter().find(|b| b.id() == id)
    }

    /// Boot RAM pieces in offset order.
    pub fn regions(&self) -> &[RamRegion] {
        &self.regions
    }

    /// The region holding RAM offset `offset`, and the host address of
    /// that byte.
    pub fn host_address(&self, offset: u64) -> Option<(&RamRegion, *mut u8)> {
        let i = self
            .regions
            .partition_point(|r| r.offset + r.size <= offset);
        let r = self.regions.get(i).filter(|r| r.offset <= offset)?;
        let b = &self.backends[r.backend];
        let within = usize::try_from(offset - r.offset).ok()?;
        (within < b.len()).then(|| (r, b.as_ptr().wrapping_add(within)))
    }

    /// Warnings from planning and allocation, in order.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// QMP `query-memdev`: every backend, including the default RAM
    /// backend (`pc.ram`).
    pub fn query_memdev(&self) -> Vec<Memdev> {
        self.backends.iter().map(|b| b.memdev()).collect()
    }
}
