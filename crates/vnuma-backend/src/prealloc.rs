//! Preallocation (spec §5.4): `MADV_POPULATE_WRITE` split across worker
//! threads pinned to the CPUs of the bound host nodes, the backends of a
//! guest one after the other (at most [`MAX_PREALLOC_THREADS`] threads
//! each under QEMU's rule), with progress and cancellation.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::backend::{AllocOptions, HostMemoryBackend, PreallocMethod};
use crate::error::{Errno, Error, ErrorKind, Warning};
use crate::os::{self, madv};
use crate::plan::Source;

/// QEMU's `MAX_MEM_PREALLOC_THREAD_COUNT`.
pub const MAX_PREALLOC_THREADS: usize = 16;

/// Work is checked for cancellation, and progress reported, between
/// chunks of this size (or one page, if larger).
const CHUNK: u64 = 32 << 20;

/// How far preallocation has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Progress {
    /// Bytes preallocated so far.
    pub done: u64,
    /// Bytes to preallocate in all.
    pub total: u64,
}

/// How many threads preallocate one backend.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ThreadRule {
    /// QEMU's rule: min(online CPUs, 16, `prealloc-threads`), then at
    /// most one per page and one per 64 MiB (at least one).
    #[default]
    Qemu,
    /// Exactly this many (at most one per page).
    Exact(NonZeroUsize),
}

/// QEMU's `get_memset_num_threads`.
pub fn qemu_thread_count(
    online_cpus: Option<usize>,
    prealloc_threads: u32,
    page_size: u64,
    pages: u64,
) -> usize {
    let mut n = match online_cpus {
        Some(c) if c > 0 => c
            .min(MAX_PREALLOC_THREADS)
            .min(usize::try_from(prealloc_threads).unwrap_or(usize::MAX)),
        _ => 1,
    };
    n = n.min(usize::try_from(pages).unwrap_or(usize::MAX));
    let by_size = page_size.saturating_mul(pages) / (64 << 20);
    n = n.min(usize::try_from(by_size.max(1)).unwrap_or(usize::MAX));
    n.max(1)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    PopulateWrite,
    PopulateRead,
    Touch,
}

/// One worker's slice of one backend.
struct Unit {
    backend: usize,
    op: Op,
    start: u64,
    len: u64,
    page: u64,
}

struct Shared<'a> {
    done: AtomicU64,
    finished: AtomicUsize,
    abort: AtomicBool,
    cancel: Option<&'a AtomicBool>,
    error: Mutex<Option<Error>>,
    pin_failed: Mutex<Vec<(usize, i32)>>,
}

/// Counts a worker as finished and wakes the reporting thread when
/// dropped (at the worker's end, also by unwinding).
struct Finished<'a>(&'a AtomicUsize, &'a std::thread::Thread);

impl Drop for Finished<'_> {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Release);
        self.1.unpark();
    }
}

/// Starts the worker threads together: each checks in and waits; the
/// spawning thread opens the gate once all have checked in.
#[derive(Default)]
struct Gate {
    /// (workers checked in, open)
    state: Mutex<(usize, bool)>,
    changed: std::sync::Condvar,
}

impl Gate {
    /// A worker: check in, then wait for the gate to open. A poisoned
    /// lock (nothing can panic while holding it) lets the worker go.
    fn check_in(&self) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.0 += 1;
        self.changed.notify_all();
        while !state.1 {
            match self.changed.wait(state) {
                Ok(g) => state = g,
                Err(_) => return,
            }
        }
    }

    /// The spawning thread: wait until `workers` have checked in, then
    /// open the gate.
    fn open_after(&self, workers: usize) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        while state.0 < workers {
            match self.changed.wait(state) {
                Ok(g) => state = g,
                Err(_) => return,
            }
        }
        state.1 = true;
        self.changed.notify_all();
    }
}

impl Shared<'_> {
    fn fail(&self, e: Error) {
        self.abort.store(true, Ordering::Relaxed);
        if let Ok(mut slot) = self.error.lock() {
            if slot.is_none() {
                *slot = Some(e);
            }
        }
    }
}

/// Decide how each backend is faulted in: QEMU probes
/// `MADV_POPULATE_WRITE` on the first page and touches pages if the
/// kernel answers `EINVAL`.
fn method(b: &HostMemoryBackend, wanted: PreallocMethod) -> Result<Op, Error> {
    let m = b.mapping();
    let page = usize::try_from(b.page_size())
        .unwrap_or(usize::MAX)
        .min(m.len());
    let err = |e: i32| {
        Error::at(
            b.id(),
            ErrorKind::Prealloc {
                errno: Errno::new(e),
            },
        )
    };
    let populate = if m.writable() {
        madv::POPULATE_WRITE
    } else {
        madv::POPULATE_READ
    };
    let op = match wanted {
        PreallocMethod::Touch => Op::Touch,
        _ => match m.madvise(0, page, populate) {
            Ok(()) if m.writable() => Op::PopulateWrite,
            Ok(()) => Op::PopulateRead,
            Err(libc::EINVAL) => Op::Touch,
            Err(e) => return Err(err(e)),
        },
    };
    if op == Op::Touch {
        // Touching file pages the file system cannot supply raises
        // SIGBUS; allocate the blocks first so that a shortage is an
        // error instead.
        if let (Some(fd), true) = (b.file_fd(), b.plan().share()) {
            if !matches!(b.plan().source(), Source::File { readonly: true, .. }) {
                match os::fallocate(fd, 0, b.len() as u64) {
                    Ok(()) | Err(libc::EOPNOTSUPP) => {}
                    Err(e) => return Err(err(e)),
                }
            }
        }
    }
    Ok(op)
}

fn do_chunk(b: &HostMemoryBackend, op: Op, off: u64, len: u64, page: u64) -> Result<(), i32> {
    let m = b.mapping();
    let off = usize::try_from(off).map_err(|_| libc::EINVAL)?;
    let len = usize::try_from(len).map_err(|_| libc::EINVAL)?;
    match op {
        Op::PopulateWrite => m.madvise(off, len, madv::POPULATE_WRITE),
        Op::PopulateRead => m.madvise(off, len, madv::POPULATE_READ),
        Op::Touch => m.touch(off, len, usize::try_from(page).map_err(|_| libc::EINVAL)?),
    }
}

fn work(
    unit: &Unit,
    backends: &[&HostMemoryBackend],
    shared: &Shared<'_>,
    mut after_chunk: impl FnMut(),
) {
    let b = backends[unit.backend];
    let chunk = (CHUNK / unit.page).max(1) * unit.page;
    let mut off = unit.start;
    let end = unit.start + unit.len;
    while off < end {
        if shared.abort.load(Ordering::Relaxed) {
            return;
        }
        if shared.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            shared.fail(Error::at(
                b.id(),
                ErrorKind::Cancelled {
                    backend: b.id().into(),
                },
            ));
            return;
        }
        let len = chunk.min(end - off);
        if let Err(e) = do_chunk(b, unit.op, off, len, unit.page) {
            shared.fail(Error::at(
                b.id(),
                ErrorKind::Prealloc {
                    errno: Errno::new(e),
                },
            ));
            return;
        }
        shared.done.fetch_add(len, Ordering::Relaxed);
        after_chunk();
        off += len;
    }
}

/// At most this many preallocation threads run at once whatever
/// [`ThreadRule::Exact`] asks (QEMU's own rule stays at
/// [`MAX_PREALLOC_THREADS`] per backend); backends are preallocated one
/// after the other, so this is also the cap for the whole guest.
pub const MAX_PREALLOC_THREADS_AT_ONCE: usize = 64;

/// Preallocate `backends` one after the other, in order (as QEMU does,
/// each with its own threads). On error or cancellation the first error
/// is returned (the caller drops, and so unmaps, everything). A progress
/// callback that panics stops the workers at their next chunk, and the
/// panic goes on from here.
pub(crate) fn run(
    backends: &[&HostMemoryBackend],
    opts: &mut AllocOptions<'_>,
    warnings: &mut Vec<Warning>,
) -> Result<(), Error> {
    let mut plans = Vec::with_capacity(backends.len());
    let mut total = 0u64;
    for b in backends {
        let plan = b.plan();
        let page = plan.page_size().max(1);
        let len = b.len() as u64;
        let pages = len.div_ceil(page);
        let op = method(b, opts.method)?;
        let n = match opts.threads {
            ThreadRule::Qemu => {
                qemu_thread_count(plan.online_cpus, plan.prealloc_threads(), page, pages)
            }
            ThreadRule::Exact(n) => n
                .get()
                .min(MAX_PREALLOC_THREADS_AT_ONCE)
                .min(usize::try_from(pages).unwrap_or(usize::MAX)),
        }
        .max(1) as u64;
        plans.push((op, n, page, len, pages));
        total += len;
    }
    let shared = Shared {
        done: AtomicU64::new(0),
        finished: AtomicUsize::new(0),
        abort: AtomicBool::new(false),
        cancel: opts.cancel,
        error: Mutex::new(None),
        pin_failed: Mutex::new(Vec::new()),
    };
    let me = std::thread::current();
    let wake_per_chunk = opts.progress.is_some();
    let mut last_reported = None;
    let panicked: std::cell::Cell<Option<Box<dyn std::any::Any + Send>>> =
        std::cell::Cell::new(None);
    let mut report = |done: u64, shared: &Shared<'_>| {
        if last_reported != Some(done) && !shared.abort.load(Ordering::Relaxed) {
            last_reported = Some(done);
            if let Some(p) = opts.progress.as_mut() {
                let call = std::panic::AssertUnwindSafe(|| p(Progress { done, total }));
                if let Err(payload) = std::panic::catch_unwind(call) {
                    shared.abort.store(true, Ordering::Relaxed);
                    panicked.set(Some(payload));
                }
            }
        }
    };
    for (i, &(op, n, page, len, pages)) in plans.iter().enumerate() {
        if shared.abort.load(Ordering::Relaxed) {
            break;
        }
        // Pages split evenly; the first (pages mod n) threads take one
        // more.
        let (per, extra) = (pages / n, pages % n);
        let mut units = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        let mut start = 0u64;
        for t in 0..n {
            let p = per + u64::from(t < extra);
            let ulen = (p * page).min(len.saturating_sub(start));
            if ulen > 0 {
                units.push(Unit {
                    backend: i,
                    op,
                    start,
                    len: ulen,
                    page,
                });
            }
            start += p * page;
        }
        let pinned = backends[i].plan().cpu_mask.is_some();
        if units.len() == 1 && !pinned {
            // One thread and no pinning: inline, as QEMU does.
            work(&units[0], backends, &shared, || {
                report(shared.done.load(Ordering::Relaxed), &shared)
            });
            continue;
        }
        shared.finished.store(0, Ordering::Release);
        // The workers start together, once every one runs: a thread
        // starting up maps memory (its stack, its signal stack), which
        // takes the address space's lock for writing, and a populating
        // worker holds that lock for reading chunk by chunk, so a worker
        // that starts while another already populates waits for that
        // one's chunk at each such step and starts late (with 1 GiB
        // chunks, two workers ran one after the other).
        let gate = Gate::default();
        std::thread::scope(|s| {
            let mut inline = Vec::new();
            for u in &units {
                let shared = &shared;
                let gate = &gate;
                let me = me.clone();
                let spawned = std::thread::Builder::new()
                    .name("vnuma-prealloc".into())
                    .spawn_scoped(s, move || {
                        // Counted as finished however it ends, so the
                        // reporting loop below cannot wait forever for a
                        // worker that panicked.
                        let _finished = Finished(&shared.finished, &me);
                        gate.check_in();
                        if let Some(cpus) = &backends[u.backend].plan().cpu_mask {
                            if let Err(e) = os::pin_current_thread(cpus) {
                                if let Ok(mut v) = shared.pin_failed.lock() {
                                    v.push((u.backend, e));
                                }
                            }
                        }
                        // Wake the reporting thread after each chunk only
                        // if there is someone to report to: on a machine
                        // with as many CPUs as workers, each wake-up
                        // takes a CPU from a worker.
                        work(u, backends, shared, || {
                            if wake_per_chunk {
                                me.unpark()
                            }
                        });
                    });
                if spawned.is_err() {
                    inline.push(u);
                }
            }
            let spawned = units.len() - inline.len();
            gate.open_after(spawned);
            for u in inline {
                work(u, backends, &shared, || {});
            }
            while shared.finished.load(Ordering::Acquire) < spawned {
                std::thread::park_timeout(Duration::from_millis(50));
                report(shared.done.load(Ordering::Relaxed), &shared);
            }
        });
    }
    if let Some(payload) = panicked.take() {
        std::panic::resume_unwind(payload);
    }
    let error = shared.error.lock().ok().and_then(|mut e| e.take());
    if let Some(e) = error {
        return Err(e);
    }
    report(total, &shared);
    if let Some(payload) = panicked.take() {
        std::panic::resume_unwind(payload);
    }
    if let Ok(v) = shared.pin_failed.into_inner() {
        let mut seen: Vec<usize> = Vec::new();
        for (b, e) in v {
            if !seen.contains(&b) {
                seen.push(b);
                warnings.push(Warning::AffinityNotSet {
                    backend: backends[b].id().into(),
                    errno: Errno::new(e),
                });
            }
        }
    }
    for b in backends {
        b.mark_preallocated();
    }
    Ok(())
}

/// For programs (not libraries): handle SIGINT and SIGTERM by setting
/// the returned flag, to pass to [`AllocOptions::cancel_flag`], so that
/// an interrupted preallocation stops at its next chunk, unmaps
/// everything and removes the files it created. The handler acts once
/// (a second signal kills the process as usual); [`cancel_signal`] says
/// which signal arrived.
///
/// ```no_run
/// let cancel = vnuma_backend::cancel_on_signals()?;
/// let opts = vnuma_backend::AllocOptions::new().cancel_flag(cancel);
/// # let _ = opts;
/// # Ok::<(), vnuma_backend::Errno>(())
/// ```
pub fn cancel_on_signals() -> Result<&'static AtomicBool, Errno> {
    os::install_cancel_handlers().map_err(Errno::new)?;
    Ok(&os::SIGNAL_CANCEL)
}

/// The signal ([`libc::SIGINT`], [`libc::SIGTERM`]) that set the flag of
/// [`cancel_on_signals`], if one did.
pub fn cancel_signal() -> Option<i32> {
    match os::SIGNAL_NUMBER.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qemu_rule() {
        const M: u64 = 1 << 20;
        // min(cpus, 16, threads)
        assert_eq!(qemu_thread_count(Some(32), 64, 4096, (4 << 30) / 4096), 16);
        assert_eq!(qemu_thread_count(Some(2), 8, 4096, (4 << 30) / 4096), 2);
        assert_eq!(qemu_thread_count(Some(8), 3, 4096, (4 << 30) / 4096), 3);
        // one per 64 MiB
        assert_eq!(qemu_thread_count(Some(8), 8, 4096, (100 * M) / 4096), 1);
        assert_eq!(qemu_thread_count(Some(8), 8, 4096, (128 * M) / 4096), 2);
        // not more than pages
        assert_eq!(qemu_thread_count(Some(8), 8, 1 << 30, 2), 2);
        // unknown CPU count: one
        assert_eq!(qemu_thread_count(None, 8, 4096, 1 << 20), 1);
    }
}
