//! Memory is bounded by the input (issue 17, problem 1): a 1 MB argument
//! of repeated short-form flags, each of which QEMU warns about with the
//! whole option as its location, must not cost memory in proportion to
//! (flags × argument). A counting global allocator measures the peak of
//! live heap bytes while the whole pipeline runs; no timing is involved
//! (the speed is a benchmark row: `benches/benches/hostile.rs`).
//!
//! One test per file: the allocator counts every thread of this binary.

// A global allocator cannot be written without `unsafe`; this test
// binary's is a counting shim over the system allocator. It lives in
// vnuma-backend, the one crate where `unsafe` is allowed.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to the system allocator unchanged and
// only updates counters.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's arguments.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Peak live heap bytes while `f` runs, above what was live before.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed) - base)
}

#[test]
fn a_megabyte_of_repeated_flags_costs_a_small_multiple_of_itself() {
    const FLAG: &str = ",prealloc";
    let n = (1 << 20) / FLAG.len();
    let mut arg = String::from("memory-backend-ram,id=a,size=4K");
    arg.push_str(&FLAG.repeat(n));
    let input = arg.len();
    let argv = vec!["-m".to_string(), "4K".into(), "-object".into(), arg];

    // Through the facade: options, topology, report, every warning.
    let (res, peak) = peak_during(|| {
        let vm = vnuma::Vm::from_args(&argv);
        let vm = vm.map_err(|e| e.to_string())?;
        let json = vm.report().to_json();
        Ok::<_, String>((vm.topology().warnings().len(), json.len()))
    });
    let warnings = res.map(|(w, _)| w);
    // Every flag warns, as in QEMU.
    assert!(warnings.as_ref().is_ok_and(|w| *w >= n), "{warnings:?}");
    // Before the fix each warning held a copy of the whole argument:
    // n × 1 MB ≈ 116 GB. Now: the argument once, plus a fixed amount per
    // warning (its item, its kind): a small multiple of the input.
    assert!(
        peak < 64 * input,
        "peak {peak} bytes for a {input}-byte argument ({}×)",
        peak / input
    );

    // The options layer alone.
    let (cl, peak) = peak_during(|| vnuma::options::CommandLine::parse(&argv));
    let cl = cl.expect("parses");
    assert_eq!(cl.warnings().len(), n);
    assert!(
        peak < 48 * input,
        "options: peak {peak} ({}×)",
        peak / input
    );
}
