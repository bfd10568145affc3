//! The `backend` target: small allocations (at most 2 MiB each) with
//! arbitrary properties through planning and allocation. Never a crash;
//! after the backend is dropped, nothing of it is left mapped.

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use vnuma_backend::{AllocOptions, BackendPlan, Defaults, HostInfo, HostMemoryBackend};
use vnuma_options::{
    BackendKind, FileBackendOptions, HostMemPolicy, IdRange, MemfdBackendOptions,
    MemoryBackendOptions,
};

/// One backend's properties.
#[derive(Arbitrary, Clone, Debug)]
pub struct Input {
    kind: u8,
    /// Size in KiB (0..=2048).
    kib: u16,
    flags: [Option<bool>; 6],
    policy: Option<u8>,
    /// Bind to host node 0 (the only node this target may use).
    node0: bool,
    threads: Option<u8>,
    align_kib: Option<u8>,
}

fn host() -> &'static HostInfo {
    static HOST: OnceLock<HostInfo> = OnceLock::new();
    HOST.get_or_init(HostInfo::probe)
}

/// Whether any line of `/proc/self/maps` overlaps `[start, end)`.
fn mapped(start: usize, end: usize) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    maps.lines().any(|line| {
        let range = line.split_whitespace().next().unwrap_or("");
        let Some((a, b)) = range.split_once('-') else {
            return false;
        };
        let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16)) else {
            return false;
        };
        a < end && start < b
    })
}

impl Input {
    fn options(&self) -> MemoryBackendOptions {
        let size = u64::from(self.kib % 2049) * 1024;
        let kind = match self.kind % 3 {
            0 => BackendKind::Ram,
            1 => BackendKind::Memfd(MemfdBackendOptions {
                hugetlb: None,
                hugetlbsize: None,
                seal: self.flags[5],
            }),
            _ => BackendKind::File(FileBackendOptions {
                mem_path: std::env::temp_dir().display().to_string(),
                align: self.align_kib.map(|k| u64::from(k) * 1024),
                discard_data: self.flags[5],
                pmem: None,
                readonly: None,
                ..FileBackendOptions::default()
            }),
        };
        let mut b = MemoryBackendOptions::new("fz", kind, size);
        b.share = self.flags[0];
        b.reserve = self.flags[1];
        b.merge = self.flags[2];
        b.dump = self.flags[3];
        b.prealloc = self.flags[4];
        b.policy = self.policy.map(|p| HostMemPolicy::ALL[usize::from(p) % 4]);
        if self.node0 {
            b.host_nodes = vec![IdRange::single(0)];
        }
        b.prealloc_threads = self.threads.map(|t| u32::from(t % 5));
        b
    }
}

/// Spawn one scoped thread before the first input. The first thread a
/// process spawns makes glibc register a thread-local destructor list for
/// good (32 bytes from `__cxa_thread_atexit_impl`); LeakSanitizer reported
/// it as a leak of the first input that preallocates with worker threads
/// (regression test `first_thread_spawn_is_not_a_leak` in `tests/backend.rs`).
fn warm_up_threads() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| std::thread::scope(|s| drop(s.spawn(|| ()))));
}

/// Plan and allocate, then drop and check nothing stayed mapped.
pub fn check(input: &Input) {
    // The mapping checks read this process's address space: a second
    // check running at once (tests run in parallel) could map the range
    // this one just unmapped.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    warm_up_threads();
    let opts = input.options();
    let Ok(plan) = BackendPlan::new(&opts, &Defaults::default(), host()) else {
        return;
    };
    if let Ok((backend, _)) = HostMemoryBackend::allocate(&plan, AllocOptions::new()) {
        let start = backend.as_ptr() as usize;
        let end = start + backend.len();
        assert!(mapped(start, end), "{opts}: allocated but not mapped");
        drop(backend);
        assert!(!mapped(start, end), "{opts}: still mapped after drop");
    }
}
