//! The backend oracle: seeded inputs, the regression inputs, and the
//! committed corpus, in a test process of their own and one test
//! function. The oracle checks this process's address space
//! (`/proc/self/maps`) after unmapping; any other test running in the
//! same process (another allocation, a test thread's stack) could map
//! the range just freed and fail it spuriously, as it did once next to
//! the pipeline tests.

use arbitrary::{Arbitrary, Unstructured};
use vnuma_fuzz::{backend, Rng};

fn seeded() {
    let mut rng = Rng::new(4);
    let mut n = 0;
    for _ in 0..200 {
        let data = rng.bytes(32);
        let mut u = Unstructured::new(&data);
        if let Ok(input) = backend::Input::arbitrary(&mut u) {
            backend::check(&input);
            n += 1;
        }
    }
    assert!(n > 100);
}

/// Found by `cargo xtask fuzz run backend`: LeakSanitizer reported 32
/// bytes from `__cxa_thread_atexit_impl` for the first input that
/// preallocated with worker threads. Cause: glibc registers a
/// thread-local destructor list once per process on the first thread
/// spawn, which is not a per-input leak; the oracle now spawns a thread
/// once before the first input. The input (a 13-byte artifact) must
/// allocate, preallocate and unmap cleanly.
fn first_thread_spawn_is_not_a_leak() {
    let data = [
        0x08, 0x00, 0x28, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0x80, 0x81, 0x85, 0x81,
    ];
    let mut u = Unstructured::new(&data);
    let input = backend::Input::arbitrary(&mut u).unwrap();
    backend::check(&input);
}

fn corpus() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join("backend");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    for path in files {
        let data = std::fs::read(&path).unwrap();
        if let Ok(input) = backend::Input::arbitrary_take_rest(Unstructured::new(&data)) {
            backend::check(&input);
        }
    }
}

/// One test function, so no other test thread starts while a check runs.
#[test]
fn backend_oracle() {
    first_thread_spawn_is_not_a_leak();
    seeded();
    corpus();
}
