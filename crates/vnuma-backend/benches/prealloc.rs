//! Preallocation of a 2 GiB `memory-backend-ram` by vnuma with one and two
//! threads, against the raw baseline: `mmap` + `MADV_HUGEPAGE` +
//! `MADV_POPULATE_WRITE` over a fresh anonymous mapping, with libc.
//!
//! The baseline is written with raw libc calls here, on purpose not with
//! vnuma's own OS module, so it needs `unsafe`; this is the only place
//! outside `src/os.rs` that has it, and each block says why it is sound.
//!
//! Ids: `prealloc/2GiB/vnuma-1t`, `prealloc/2GiB/vnuma-2t`,
//! `prealloc/2GiB/raw-populate`. Each iteration maps, advises and
//! populates 2 GiB; unmapping happens outside the measurement.
#![allow(unsafe_code)]

use std::num::NonZeroUsize;
use std::time::Duration;

use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use vnuma_backend::{AllocOptions, BackendPlan, Defaults, HostInfo, HostMemoryBackend, ThreadRule};
use vnuma_options::MemoryBackendOptions;

const SIZE: usize = 2 << 30;

/// A raw anonymous mapping, unmapped on drop.
struct Raw(*mut libc::c_void);

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a mapping of SIZE bytes made by `raw()`, used
        // by nothing else.
        unsafe { libc::munmap(self.0, SIZE) };
    }
}

fn raw() -> Raw {
    // SAFETY: a fresh private anonymous mapping at an address the kernel
    // chooses; it replaces nothing.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED, "mmap");
    let r = Raw(p);
    // SAFETY: advice over the whole mapping we own; neither call
    // invalidates memory anything relies on.
    unsafe {
        libc::madvise(p, SIZE, libc::MADV_HUGEPAGE);
        assert_eq!(
            libc::madvise(p, SIZE, libc::MADV_POPULATE_WRITE),
            0,
            "populate"
        );
    }
    r
}

fn bench(c: &mut Criterion) {
    let host = HostInfo::probe();
    let opts: MemoryBackendOptions = "memory-backend-ram,id=bench,size=2G,prealloc=on,merge=off"
        .parse()
        .expect("options");
    let plan = BackendPlan::new(&opts, &Defaults::default(), &host).expect("plan");
    let mut g = c.benchmark_group("prealloc");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Bytes(SIZE as u64));
    for threads in [1usize, 2] {
        let rule = ThreadRule::Exact(NonZeroUsize::new(threads).expect("non-zero"));
        g.bench_function(format!("2GiB/vnuma-{threads}t"), |b| {
            b.iter_batched(
                || (),
                |()| {
                    HostMemoryBackend::allocate(&plan, AllocOptions::new().prealloc_threads(rule))
                        .expect("allocate")
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.bench_function("2GiB/raw-populate", |b| {
        b.iter_batched(|| (), |()| raw(), BatchSize::PerIteration)
    });
    g.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
