//! Preallocation of 2 GiB by vnuma against the kernel's limit at the same
//! thread count, measured interleaved.
//!
//! The raw baseline is written with libc here, on purpose not with
//! vnuma's own OS module: `mmap` of a fresh anonymous mapping, the same
//! transparent-huge-page advice as vnuma's (`MADV_HUGEPAGE`, or
//! `MADV_NOHUGEPAGE` for the rows without THP), then
//! `MADV_POPULATE_WRITE` by as many threads as vnuma uses, each over its
//! contiguous share. So it needs `unsafe`: this is the only place outside
//! `src/os.rs` that has it, and each block says why it is sound.
//!
//! Rows (names `prealloc/2GiB/<row>`):
//!
//! * `vnuma-1t` / `raw-1t`, `vnuma-2t` / `raw-2t`: THP advised;
//! * `vnuma-1t-nothp` / `raw-1t-nothp`: THP off (4 KiB pages);
//! * `vnuma-hugetlb-1t` / `raw-hugetlb-1t`: 2 MiB hugetlbfs pages, when
//!   the process may reserve a pool (root): it raises
//!   `/proc/sys/vm/nr_hugepages`, mounts a private hugetlbfs, and puts
//!   both back afterwards; otherwise the rows are skipped with a note.
//!
//! Method (not criterion's: its benchmarks run one after another, so the
//! host's state drifts between a row and its baseline): a warm-up round
//! that touches and frees 2 GiB with every row first, then `ROUNDS`
//! rounds, each running every row once, in an order shuffled every round
//! (interleaved, with no row always first or always after the same
//! neighbour). The hugetlb rows run in a second phase, with the pool
//! reserved only then: a pool holds 2 GiB of the host's memory aside,
//! and the row after a hugetlb run would otherwise pay for reclaiming
//! memory. Each run maps, advises and populates; unmapping is outside
//! the measurement. The result is
//! written to `<target>/vnuma-prealloc.json` (every sample of every row,
//! in ns) for `cargo xtask bench`, which reports medians and spreads, and
//! printed. Arguments: `--quick` (3 rounds instead of 9); criterion's
//! arguments, which `cargo xtask bench` passes to every suite, are
//! ignored.
#![allow(unsafe_code)]

use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use vnuma_backend::{AllocOptions, BackendPlan, Defaults, HostInfo, HostMemoryBackend, ThreadRule};
use vnuma_options::MemoryBackendOptions;

const SIZE: usize = 2 << 30;
const HUGE: usize = 2 << 20;
const ROUNDS: usize = 9;
const QUICK_ROUNDS: usize = 3;

/// A raw mapping of SIZE bytes, unmapped on drop.
struct Raw(*mut libc::c_void);

impl Drop for Raw {
    fn drop(&mut self) {
        // SAFETY: `self.0` is a mapping of SIZE bytes made by `raw()`, used
        // by nothing else.
        unsafe { libc::munmap(self.0, SIZE) };
    }
}

/// How the raw baseline maps its memory.
#[derive(Clone, Copy)]
enum RawKind {
    Thp,
    NoThp,
    Hugetlb,
}

/// Map SIZE bytes, advise as `kind` says and populate them with `threads`
/// threads, each over a contiguous share (huge-page aligned).
fn raw(kind: RawKind, threads: usize) -> Raw {
    let flags = match kind {
        RawKind::Hugetlb => libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_HUGETLB,
        RawKind::Thp | RawKind::NoThp => libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
    };
    // SAFETY: a fresh private anonymous mapping at an address the kernel
    // chooses; it replaces nothing.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            flags,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED, "mmap");
    let r = Raw(p);
    let advice = match kind {
        RawKind::Thp => Some(libc::MADV_HUGEPAGE),
        RawKind::NoThp => Some(libc::MADV_NOHUGEPAGE),
        RawKind::Hugetlb => None,
    };
    if let Some(advice) = advice {
        // SAFETY: advice over the whole mapping we own; it invalidates
        // nothing anything relies on.
        unsafe { libc::madvise(p, SIZE, advice) };
    }
    let share = (SIZE / threads).div_ceil(HUGE) * HUGE;
    let base = p as usize;
    let populate = |start: usize| {
        let len = share.min(SIZE - start);
        // SAFETY: populating (writing zeros to not yet touched pages of)
        // a part of the mapping we own and nothing else reads.
        let rc = unsafe {
            libc::madvise(
                (base + start) as *mut libc::c_void,
                len,
                libc::MADV_POPULATE_WRITE,
            )
        };
        assert_eq!(rc, 0, "populate");
    };
    if threads == 1 {
        populate(0);
    } else {
        std::thread::scope(|s| {
            for start in (0..SIZE).step_by(share) {
                s.spawn(move || populate(start));
            }
        });
    }
    r
}

/// One row: what it runs.
enum Run {
    Vnuma {
        plan: Box<BackendPlan>,
        threads: usize,
        thp: bool,
    },
    Raw(RawKind, usize),
}

impl Run {
    /// Time one run (ns); the memory is freed after the clock stops.
    fn time(&self) -> f64 {
        match self {
            Run::Vnuma { plan, threads, thp } => {
                let opts = AllocOptions::new()
                    .prealloc_threads(thread_rule(*threads))
                    .transparent_huge_pages(*thp);
                let t = Instant::now();
                let b = HostMemoryBackend::allocate(plan, opts).expect("allocate");
                let ns = t.elapsed().as_nanos() as f64;
                drop(b);
                ns
            }
            Run::Raw(kind, threads) => {
                let t = Instant::now();
                let r = raw(*kind, *threads);
                let ns = t.elapsed().as_nanos() as f64;
                drop(r);
                ns
            }
        }
    }
}

fn plan(text: &str, host: &HostInfo) -> Box<BackendPlan> {
    let opts: MemoryBackendOptions = text.parse().expect("options");
    Box::new(BackendPlan::new(&opts, &Defaults::default(), host).expect("plan"))
}

fn thread_rule(n: usize) -> ThreadRule {
    ThreadRule::Exact(NonZeroUsize::new(n).expect("non-zero"))
}

/// A hugetlbfs pool of at least SIZE bytes of 2 MiB pages and a private
/// mount, both undone on drop.
struct HugetlbPool {
    old_pages: u64,
    mount: PathBuf,
}

const NR_HUGEPAGES: &str = "/proc/sys/vm/nr_hugepages";

impl HugetlbPool {
    fn reserve() -> Result<HugetlbPool, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root: cannot reserve a huge page pool".into());
        }
        let read = || -> Result<u64, String> {
            std::fs::read_to_string(NR_HUGEPAGES)
                .map_err(|e| format!("{NR_HUGEPAGES}: {e}"))?
                .trim()
                .parse::<u64>()
                .map_err(|e| format!("{NR_HUGEPAGES}: {e}"))
        };
        let old_pages = read()?;
        let free =
            std::fs::read_to_string("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages")
                .ok()
                .and_then(|s| s.trim().parse::<u64>().ok())
                .unwrap_or(0);
        let need = (SIZE / HUGE) as u64;
        let want = old_pages + need.saturating_sub(free);
        std::fs::write(NR_HUGEPAGES, want.to_string())
            .map_err(|e| format!("{NR_HUGEPAGES}: {e}"))?;
        let mount =
            std::env::temp_dir().join(format!("vnuma-bench-hugetlbfs-{}", std::process::id()));
        // Restores the pool if anything below fails; the mount is set once
        // it exists.
        let mut pool = HugetlbPool {
            old_pages,
            mount: PathBuf::new(),
        };
        let got = read()?;
        if got < want {
            return Err(format!(
                "the kernel reserved {got} of {want} 2 MiB pages (memory too fragmented)"
            ));
        }
        std::fs::create_dir_all(&mount).map_err(|e| format!("{}: {e}", mount.display()))?;
        let ok = Command::new("mount")
            .args(["-t", "hugetlbfs", "-o", "pagesize=2M", "none"])
            .arg(&mount)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = std::fs::remove_dir(&mount);
            return Err("cannot mount hugetlbfs".into());
        }
        pool.mount = mount;
        Ok(pool)
    }
}

impl Drop for HugetlbPool {
    fn drop(&mut self) {
        if !self.mount.as_os_str().is_empty() {
            let _ = Command::new("umount").arg(&self.mount).status();
            let _ = std::fs::remove_dir(&self.mount);
        }
        let _ = std::fs::write(NR_HUGEPAGES, self.old_pages.to_string());
    }
}

/// Cargo's target directory (where `cargo xtask bench` looks).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return dir.into();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .expect("cargo metadata");
    let text = String::from_utf8_lossy(&out.stdout);
    // `"target_directory":"..."` (no escapes in the paths this runs on).
    let key = "\"target_directory\":\"";
    let start = text.find(key).expect("target_directory") + key.len();
    let end = start + text[start..].find('"').expect("end of target_directory");
    PathBuf::from(&text[start..end])
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn write_report(path: &Path, rounds: usize, rows: &[(String, Vec<f64>)], notes: &[String]) {
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"bytes\": {SIZE},");
    let _ = writeln!(out, "  \"rounds\": {rounds},");
    let _ = writeln!(out, "  \"warmup_rounds\": 1,");
    out.push_str("  \"notes\": [");
    for (i, n) in notes.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        let _ = write!(
            out,
            "{sep}\"{}\"",
            n.replace('\\', "\\\\").replace('"', "\\\"")
        );
    }
    out.push_str("],\n  \"samples_ns\": {\n");
    for (i, (name, samples)) in rows.iter().enumerate() {
        let list: Vec<String> = samples.iter().map(|s| format!("{s:.0}")).collect();
        let comma = if i + 1 < rows.len() { "," } else { "" };
        let _ = writeln!(
            out,
            "    \"prealloc/2GiB/{name}\": [{}]{comma}",
            list.join(", ")
        );
    }
    out.push_str("  }\n}\n");
    std::fs::write(path, out).expect("write the report");
}

/// Run `rows` interleaved: one warm-up run of each (touching and freeing
/// the memory), then `rounds` rounds, each running every row once in an
/// order shuffled per round (seeded, so every run of the bench uses the
/// same orders): no row always runs first, nor always after the same
/// neighbour (after a row that freed huge pages, or 4 KiB pages, the next
/// one finds memory in a different state). Returns each row's samples.
fn interleaved(rows: &[(String, Run)], rounds: usize, seed: &mut u64) -> Vec<Vec<f64>> {
    for (_, run) in rows {
        run.time();
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); rows.len()];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    for _ in 0..rounds {
        // Fisher-Yates with xorshift64.
        for k in (1..order.len()).rev() {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            order.swap(k, (*seed % (k as u64 + 1)) as usize);
        }
        for &i in &order {
            samples[i].push(rows[i].1.time());
        }
    }
    samples
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { QUICK_ROUNDS } else { ROUNDS };
    let mut notes = Vec::new();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let host = HostInfo::probe();
    let anon = plan(
        "memory-backend-ram,id=bench,size=2G,prealloc=on,merge=off",
        &host,
    );
    let mut rows: Vec<(String, Run)> = Vec::new();
    for (thp, suffix) in [(true, ""), (false, "-nothp")] {
        let counts: &[usize] = if thp { &[1, 2] } else { &[1] };
        for &n in counts {
            rows.push((
                format!("vnuma-{n}t{suffix}"),
                Run::Vnuma {
                    plan: anon.clone(),
                    threads: n,
                    thp,
                },
            ));
            let kind = if thp { RawKind::Thp } else { RawKind::NoThp };
            rows.push((format!("raw-{n}t{suffix}"), Run::Raw(kind, n)));
        }
    }
    // Phase 1: anonymous memory, without a huge page pool holding 2 GiB
    // of the host's memory aside.
    let mut samples = interleaved(&rows, rounds, &mut seed);
    // Phase 2: hugetlbfs, with the pool reserved only for its duration.
    match HugetlbPool::reserve() {
        Ok(pool) => {
            let text = format!(
                "memory-backend-file,id=bench,size=2G,prealloc=on,merge=off,mem-path={}",
                pool.mount.display()
            );
            let host = HostInfo::probe();
            let huge = vec![
                (
                    "vnuma-hugetlb-1t".to_string(),
                    Run::Vnuma {
                        plan: plan(&text, &host),
                        threads: 1,
                        thp: true,
                    },
                ),
                ("raw-hugetlb-1t".to_string(), Run::Raw(RawKind::Hugetlb, 1)),
            ];
            samples.extend(interleaved(&huge, rounds, &mut seed));
            rows.extend(huge);
            drop(pool);
        }
        Err(why) => notes.push(format!("hugetlb rows skipped: {why}")),
    }
    let named: Vec<(String, Vec<f64>)> = rows.iter().map(|(n, _)| n.clone()).zip(samples).collect();
    for (name, s) in &named {
        let lo = s.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = s.iter().copied().fold(0.0, f64::max);
        let med = median(s);
        println!(
            "prealloc/2GiB/{name:<18} median {:>8.1} ms  [{:.1} – {:.1}]  {:.2} GiB/s",
            med / 1e6,
            lo / 1e6,
            hi / 1e6,
            SIZE as f64 / (1u64 << 30) as f64 / (med / 1e9)
        );
    }
    for n in &notes {
        println!("note: {n}");
    }
    let path = target_dir().join("vnuma-prealloc.json");
    write_report(&path, rounds, &named, &notes);
    println!("wrote {}", path.display());
}
