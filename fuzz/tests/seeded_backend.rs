//! The backend oracle, seeded, under `cargo test`, in a test binary of its
//! own: it checks this process's address space (a mapping gone after
//! drop), which another test's large allocations could reuse at once.

use arbitrary::{Arbitrary, Unstructured};
use vnuma_fuzz::Rng;

#[test]
fn backend_seeded() {
    let mut rng = Rng::new(4);
    let mut n = 0;
    for _ in 0..200 {
        let data = rng.bytes(32);
        let mut u = Unstructured::new(&data);
        if let Ok(input) = vnuma_fuzz::backend::Input::arbitrary(&mut u) {
            vnuma_fuzz::backend::check(&input);
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
#[test]
fn backend_first_thread_spawn_is_not_a_leak() {
    let data = [
        0x08, 0x00, 0x28, 0x00, 0x00, 0x00, 0xfe, 0xff, 0xff, 0x80, 0x81, 0x85, 0x81,
    ];
    let mut u = Unstructured::new(&data);
    let input = vnuma_fuzz::backend::Input::arbitrary(&mut u).unwrap();
    vnuma_fuzz::backend::check(&input);
}
