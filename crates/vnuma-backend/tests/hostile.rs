//! Faults and other people's data (issue 17): nothing destructive on a
//! failure path, memory refused before mapping when the host cannot give
//! it, preallocation bounded in threads, a panicking callback stopping
//! the work, huge pages for real (as root).
mod common;

use std::num::NonZeroUsize;
use std::sync::atomic::AtomicBool;

use common::*;
use vnuma_backend::{
    AllocOptions, BackendPlan, ErrorKind, GuestRam, HostMemoryBackend, MemoryLimit, RamPlan,
    ThreadRule,
};
use vnuma_options::MemoryBackendOptions;

const MIB: u64 = 1 << 20;

fn request(objects: &[String]) -> vnuma_backend::RamRequest {
    let backends: Vec<MemoryBackendOptions> = objects.iter().map(|o| o.parse().unwrap()).collect();
    vnuma_backend::RamRequest {
        ram_size: backends.iter().map(|b| b.size).sum(),
        boot: vnuma_backend::BootRam::Nodes(
            backends
                .iter()
                .enumerate()
                .map(|(i, b)| vnuma_backend::NodeRam {
                    node: i as u32,
                    memdev: Some(b.id.clone()),
                })
                .collect(),
        ),
        backends,
        defaults: defaults(),
        thread_contexts: Vec::new(),
    }
}

#[test]
fn discard_data_spares_the_file_when_another_backend_fails() {
    let _g = map_lock();
    let s = Scratch::new("discard");
    let path = s.str("live.ram");
    let data: Vec<u8> = (0..4 * MIB as u32).map(|i| (i % 253) as u8 + 1).collect();
    std::fs::write(&path, &data).unwrap();
    let objects = [
        format!("memory-backend-file,id=m0,size=4M,mem-path={path},share=on,discard-data=on"),
        "memory-backend-ram,id=m1,size=8M,prealloc=on".to_owned(),
    ];
    let plan = RamPlan::new(&request(&objects), &host()).unwrap();
    // m1's preallocation fails (cancelled before it starts): m0 was
    // mapped, never fully set up, and must not discard the file.
    let cancel = AtomicBool::new(true);
    let e = GuestRam::allocate(&plan, AllocOptions::new().cancel_flag(&cancel)).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Cancelled { .. }), "{e}");
    assert!(
        std::fs::read(&path).unwrap() == data,
        "discard-data ran on a failure path"
    );

    // A clean teardown of a set-up guest discards, as QEMU does...
    let ram = GuestRam::allocate(&plan, AllocOptions::new().discard_data(false)).unwrap();
    drop(ram);
    assert!(std::fs::read(&path).unwrap() == data, "discard_data(false)");
    let ram = GuestRam::allocate(&plan, AllocOptions::new()).unwrap();
    drop(ram);
    assert!(std::fs::read(&path).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn preallocation_beyond_host_memory_is_refused_before_mapping() {
    let mut host = host();
    host.memory_limits = vec![
        MemoryLimit {
            what: "MemAvailable + SwapFree".into(),
            available: 64 * MIB,
        },
        MemoryLimit {
            what: "cgroup /vm memory.max".into(),
            available: 24 * MIB,
        },
    ];
    // memfd (shared) and anonymous memory, each fitting alone, not
    // together: the guest's plan refuses, naming the numbers.
    let objects = [
        "memory-backend-memfd,id=m0,size=16M,prealloc=on".to_owned(),
        "memory-backend-ram,id=m1,size=16M,prealloc=on".to_owned(),
    ];
    let e = RamPlan::new(&request(&objects), &host).unwrap_err();
    assert_eq!(
        e.to_string(),
        "not enough memory to preallocate memory backend 'm1': preallocated backends need 33554432 bytes, cgroup /vm memory.max leaves 25165824 bytes"
    );
    // One backend alone, too big for the host.
    let big: MemoryBackendOptions = "memory-backend-memfd,id=m0,size=128M,prealloc=on"
        .parse()
        .unwrap();
    let e = BackendPlan::new(&big, &defaults(), &host).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::NotEnoughMemory { needed, .. } if *needed == 128 * MIB));
    // Without prealloc nothing is made resident up front: accepted.
    let lazy: MemoryBackendOptions = "memory-backend-memfd,id=m0,size=128M".parse().unwrap();
    BackendPlan::new(&lazy, &defaults(), &host).unwrap();
}

#[test]
fn a_panicking_progress_callback_stops_preallocation() {
    let _g = map_lock();
    let o: MemoryBackendOptions = "memory-backend-ram,id=m0,size=1G".parse().unwrap();
    let plan = BackendPlan::new(&o, &defaults(), &host()).unwrap();
    let (b, _) = HostMemoryBackend::allocate(&plan, AllocOptions::new()).unwrap();
    let mut calls = 0;
    let mut progress = |_| {
        calls += 1;
        panic!("callback fails");
    };
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        b.prealloc(
            AllocOptions::new()
                .prealloc_threads(ThreadRule::Exact(NonZeroUsize::new(1).unwrap()))
                .progress(&mut progress),
        )
    }));
    assert!(r.is_err(), "the panic goes on to the caller");
    assert_eq!(calls, 1);
    // The worker stopped at its next chunk instead of faulting in all of
    // it (before: the whole gigabyte, then the panic).
    let resident = b.resident_bytes().unwrap();
    assert!(
        resident < b.len() as u64,
        "{resident} of {} resident",
        b.len()
    );
    assert!(!b.is_preallocated());
}

fn threads_now() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap()
}

#[test]
fn backends_are_preallocated_one_at_a_time() {
    let _g = map_lock();
    let objects: Vec<String> = (0..24)
        .map(|i| format!("memory-backend-ram,id=m{i},size=8M,prealloc=on"))
        .collect();
    let plan = RamPlan::new(&request(&objects), &host()).unwrap();
    let base = threads_now();
    let mut most = 0;
    let mut progress = |_| most = most.max(threads_now());
    let ram = GuestRam::allocate(
        &plan,
        AllocOptions::new()
            .prealloc_threads(ThreadRule::Exact(NonZeroUsize::new(4).unwrap()))
            .progress(&mut progress),
    )
    .unwrap();
    assert!(ram.backends().iter().all(|b| b.is_preallocated()));
    // Before: 24 × 4 = 96 threads at once. Now 4 per backend, one
    // backend at a time (slack for other tests' threads).
    assert!(most <= base + 4 + 8, "{most} threads (base {base})");
}

#[test]
fn resident_bytes_of_a_huge_reserve_off_mapping() {
    let _g = map_lock();
    // 1 TiB with reserve=off: mincore is asked in windows (before: a
    // 256 MiB buffer, one byte per page).
    let o: MemoryBackendOptions = "memory-backend-ram,id=m0,size=1T,reserve=off"
        .parse()
        .unwrap();
    let mut h = host();
    h.memory_limits.clear();
    let Ok(plan) = BackendPlan::new(&o, &defaults(), &h) else {
        eprintln!("skipping: this host refuses a 1 TiB reserve=off plan");
        return;
    };
    let Ok((b, _)) = HostMemoryBackend::allocate(&plan, AllocOptions::new()) else {
        eprintln!("skipping: this host cannot map 1 TiB of address space");
        return;
    };
    b.write_at(0, b"x").unwrap();
    b.write_at((1 << 40) - 1, b"y").unwrap();
    let r = b.resident_bytes().unwrap();
    assert!((2 * 4096..=8 * MIB).contains(&r), "{r}");
}

/// A small pool of 2 MiB huge pages reserved for one test, and a
/// hugetlbfs mount; the previous pool size is restored on drop.
struct HugePool {
    previous: u64,
    mount: Mount,
}

const NR_HUGEPAGES: &str = "/proc/sys/vm/nr_hugepages";

impl HugePool {
    fn reserve(pages: u64) -> Option<HugePool> {
        // Only root can write /proc/sys/vm/nr_hugepages.
        let previous: u64 = std::fs::read_to_string(NR_HUGEPAGES)
            .ok()?
            .trim()
            .parse()
            .ok()?;
        if std::fs::write(NR_HUGEPAGES, format!("{}", previous + pages)).is_err() {
            eprintln!("skipping: cannot write {NR_HUGEPAGES} (not root?)");
            return None;
        }
        let restore = || {
            let _ = std::fs::write(NR_HUGEPAGES, previous.to_string());
        };
        if free_2m_hugepages() < pages {
            restore();
            eprintln!("skipping: the kernel could not reserve {pages} huge pages");
            return None;
        }
        let Some(mount) = Mount::new("hugetlbfs", "pagesize=2M") else {
            restore();
            return None;
        };
        Some(HugePool { previous, mount })
    }
}

impl Drop for HugePool {
    fn drop(&mut self) {
        let _ = std::fs::write(NR_HUGEPAGES, self.previous.to_string());
    }
}

static HUGE_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn hugetlbfs_and_hugetlb_memfd_for_real() {
    let _h = HUGE_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let _g = map_lock();
    let Some(pool) = HugePool::reserve(4) else {
        return;
    };
    // A file in the hugetlbfs mount: the page size comes from the mount.
    let path = pool.mount.path().join("guest.ram");
    let o: MemoryBackendOptions = format!(
        "memory-backend-file,id=m0,size=4M,mem-path={},share=on,prealloc=on",
        path.display()
    )
    .parse()
    .unwrap();
    let plan = BackendPlan::new(&o, &defaults(), &host()).unwrap();
    assert_eq!(plan.page_size(), 2 * MIB);
    let (b, _) = HostMemoryBackend::allocate(&plan, AllocOptions::new()).unwrap();
    assert!(b.is_preallocated());
    assert_eq!(smaps(b.as_ptr()).size_kb, 4 * 1024);
    drop(b);
    std::fs::remove_file(&path).unwrap();

    // A hugetlb memfd, preallocated: its pages come out of the pool.
    let free_before = free_2m_hugepages();
    let o: MemoryBackendOptions =
        "memory-backend-memfd,id=m1,size=4M,hugetlb=on,hugetlbsize=2M,prealloc=on"
            .parse()
            .unwrap();
    let plan = BackendPlan::new(&o, &defaults(), &host()).unwrap();
    let (b, _) = HostMemoryBackend::allocate(&plan, AllocOptions::new()).unwrap();
    assert!(b.is_preallocated());
    assert_eq!(
        free_before - free_2m_hugepages(),
        2,
        "two huge pages in use"
    );
    drop(b);

    // More than the pool: refused when planning, nothing mapped.
    let o: MemoryBackendOptions =
        "memory-backend-memfd,id=m2,size=64M,hugetlb=on,hugetlbsize=2M,prealloc=on"
            .parse()
            .unwrap();
    let e = BackendPlan::new(&o, &defaults(), &host()).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::HugePagesShort { .. }), "{e}");
    drop(pool);
}

#[test]
fn hand_built_host_cpu_ids_are_bounded() {
    let _g = map_lock();
    // A HostInfo described by hand with an absurd CPU id on node 0: the
    // affinity mask is sized from the host's possible CPUs (at most
    // 8192), never by the largest id (before: 512 MiB for u32::MAX).
    let mut h = host();
    let Some(node0) = h.nodes.iter_mut().find(|n| n.id == 0) else {
        eprintln!("skipping: no host node 0");
        return;
    };
    node0.cpus.push(u32::MAX);
    h.possible_cpus = None;
    let o: MemoryBackendOptions =
        "memory-backend-ram,id=m0,size=8M,host-nodes=0,policy=bind,prealloc=on"
            .parse()
            .unwrap();
    let plan = BackendPlan::new(&o, &defaults(), &h).unwrap();
    assert_eq!(plan.node_cpus().last(), Some(&u32::MAX));
    let (b, _) = HostMemoryBackend::allocate(&plan, AllocOptions::new()).unwrap();
    assert!(b.is_preallocated());
}
