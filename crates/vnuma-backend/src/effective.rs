//! A backend's effective properties: what it has once QEMU's defaults are
//! applied to the properties left unset. Written once, pure (no host
//! access), used by planning ([`crate::BackendPlan::new`]) and by reports
//! of configurations that are not allocated (the `vnuma` facade's
//! `query-memdev`).

use vnuma_options::{BackendKind, HostMemPolicy, MemoryBackendOptions};

use crate::report::Memdev;

/// What a property takes when the backend object leaves it unset: values
/// that come from the machine and `-smp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Defaults {
    /// `merge` (`-machine mem-merge`, default on).
    pub merge: bool,
    /// `dump` (`-machine dump-guest-core`, default on).
    pub dump: bool,
    /// `prealloc` (`-mem-prealloc` makes it on for every backend).
    pub prealloc: bool,
    /// `prealloc-threads`: the number of boot vCPUs (`-smp cpus`).
    pub prealloc_threads: u32,
    /// The QEMU release whose messages the checks use where they differ
    /// (a file shorter than the backend: 7.2's `does not match`, 10.0's
    /// `is too small for 'size' option … plus 'offset' option …`).
    pub release: vnuma_options::Syntax,
}

impl Default for Defaults {
    /// QEMU's machine defaults with one vCPU.
    fn default() -> Self {
        Defaults {
            merge: true,
            dump: true,
            prealloc: false,
            prealloc_threads: 1,
            release: vnuma_options::Syntax::Qemu72,
        }
    }
}

/// The properties every memory backend has, with QEMU 7.2's defaults
/// applied (see [`effective`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Effective {
    /// The object id.
    pub id: String,
    /// `size` in bytes, as given.
    pub size: u64,
    /// `share` (default off; on for `memory-backend-memfd` and `-shm`).
    pub share: bool,
    /// `reserve` (default on).
    pub reserve: bool,
    /// `merge` (default: the machine's `mem-merge`).
    pub merge: bool,
    /// `dump` (default: the machine's `dump-guest-core`).
    pub dump: bool,
    /// `prealloc` (default: `-mem-prealloc`).
    pub prealloc: bool,
    /// `prealloc-threads` (default: the number of boot vCPUs).
    pub prealloc_threads: u32,
    /// `host-nodes`, ascending, without duplicates.
    pub host_nodes: Vec<u16>,
    /// `policy` (default `default`).
    pub policy: HostMemPolicy,
}

/// `opts`' properties with QEMU 7.2's defaults: `merge`, `dump` from the
/// machine, `prealloc` from `-mem-prealloc`, `prealloc-threads` from
/// `-smp` (all in `defaults`), `share` on for memfd and off otherwise,
/// `reserve` on, `policy` `default`. Checks nothing: that is
/// [`MemoryBackendOptions::validate`]'s and [`crate::BackendPlan::new`]'s.
///
/// ```
/// use vnuma_backend::{effective, Defaults};
/// let b = "memory-backend-memfd,id=m0,size=4M,host-nodes=1,host-nodes=0,policy=bind".parse()?;
/// let e = effective(&b, &Defaults { merge: false, ..Defaults::default() });
/// assert!(e.share && e.reserve && !e.merge && e.dump && !e.prealloc);
/// assert_eq!(e.host_nodes, [0, 1]);
/// assert_eq!(
///     e.memdev().to_qmp_json(),
///     r#"{"share": true, "reserve": true, "prealloc": false, "host-nodes": [0, 1], "size": 4194304, "merge": false, "dump": true, "policy": "bind", "id": "m0"}"#
/// );
/// # Ok::<(), vnuma_options::Error>(())
/// ```
pub fn effective(opts: &MemoryBackendOptions, defaults: &Defaults) -> Effective {
    Effective {
        id: opts.id.clone(),
        size: opts.size,
        share: opts.share.unwrap_or(matches!(
            opts.kind,
            BackendKind::Memfd(_) | BackendKind::Shm
        )),
        reserve: opts.reserve.unwrap_or(true),
        merge: opts.merge.unwrap_or(defaults.merge),
        dump: opts.dump.unwrap_or(defaults.dump),
        prealloc: opts.prealloc.unwrap_or(defaults.prealloc),
        prealloc_threads: opts.prealloc_threads.unwrap_or(defaults.prealloc_threads),
        host_nodes: opts.host_node_ids(),
        policy: opts.policy.unwrap_or(HostMemPolicy::Default),
    }
}

impl Effective {
    /// The backend's `query-memdev` entry.
    pub fn memdev(&self) -> Memdev {
        Memdev {
            id: Some(self.id.clone()),
            size: self.size,
            merge: self.merge,
            dump: self.dump,
            prealloc: self.prealloc,
            share: self.share,
            reserve: Some(self.reserve),
            host_nodes: self.host_nodes.clone(),
            policy: self.policy,
        }
    }
}
