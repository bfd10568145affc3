//! Preallocation of 2 GiB by vnuma against the kernel's limit at the same
//! thread count, measured in pairs.
//!
//! The raw baseline is written with libc here, on purpose not with
//! vnuma's own OS module: `mmap` of a fresh anonymous mapping, the same
//! transparent-huge-page advice as vnuma's (`MADV_HUGEPAGE`, or
//! `MADV_NOHUGEPAGE` for the rows without THP), then
//! `MADV_POPULATE_WRITE` by as many threads as vnuma uses, each over its
//! contiguous share. So it needs `unsafe`: this is the only place outside
//! `src/os.rs` that has it, and each block says why it is sound.
//!
//! Pairs (rows `prealloc/2GiB/vnuma-<pair>` and `prealloc/2GiB/raw-<pair>`):
//!
//! * `control`: raw against raw (both rows are the raw `1t` run), the
//!   check of the method: its ratio must come out at 1;
//! * `1t`, `2t`: THP advised;
//! * `1t-nothp`: THP off (4 KiB pages);
//! * `hugetlb-1t`, `hugetlb-2t`: 2 MiB hugetlbfs pages, when the process
//!   may reserve a pool (root): it raises `/proc/sys/vm/nr_hugepages`,
//!   mounts a private hugetlbfs, and puts both back afterwards; otherwise
//!   the pairs are skipped with a note. A pool's pages stay with the
//!   guest between runs (the balloon does not take them back), so these
//!   pairs are the quiet ones: `hugetlb-2t` compares vnuma's worker
//!   threads with the raw ones without the host's noise.
//!
//! Method (not criterion's: its benchmarks run one after another, so the
//! host's state drifts between a row and its baseline): a warm-up round
//! that touches and frees 2 GiB with every row first, then `ROUNDS`
//! rounds. A round runs every pair once, in an order shuffled every
//! round, and a pair runs its two rows back to back, vnuma first every
//! other round, after an untimed lead-in run of its raw row: so both
//! timed runs follow a run that freed the same kind of memory (without
//! it, the first run of a pair, which followed another pair's run, was
//! often 2–4× slower than the second on a loaded machine, and the
//! control pair's interval was [0.54, 3.84] instead of [0.98, 1.06] in
//! 20 rounds). On a virtual machine whose balloon takes freed memory
//! back, a run that happens to get pages the host has taken back pays
//! for the host faulting them in again (2–4× slower, at random); the
//! host's load drifts too. Each round gives one ratio raw time / vnuma
//! time, and `cargo xtask bench` reports the median ratio with its
//! confidence interval: a drift hits both halves of a pair alike, and a
//! slow run lands in the tails of the ratios instead of in a median.
//! The hugetlb pairs run in a second phase, with the pool reserved only
//! then (a pool holds 2 GiB of the host's memory aside). Each run maps,
//! advises and populates; unmapping is outside the measurement, and the
//! next run starts at once (waiting for the guest to hand the freed
//! memory back to the host, `VNUMA_PREALLOC_SETTLE=balloon`, made every
//! run pay for the host more often and widened the spread).
//!
//! The result is written to `<target>/vnuma-prealloc.json` (every sample
//! of every row in ns, in round order, and which side ran first) for
//! `cargo xtask bench`, and a summary printed. Arguments: `--quick` (6
//! rounds instead of 40); criterion's arguments, which `cargo xtask
//! bench` passes to every suite, are ignored. Knobs: see [`Knobs`].
#![allow(unsafe_code)]

use std::fmt::Write as _;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use vnuma_backend::{AllocOptions, BackendPlan, Defaults, HostInfo, HostMemoryBackend, ThreadRule};
use vnuma_options::MemoryBackendOptions;

const SIZE: usize = 2 << 30;
const HUGE: usize = 2 << 20;
const ROUNDS: usize = 40;
const QUICK_ROUNDS: usize = 6;

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
        // Every thread waits until all exist: creating a thread maps its
        // stack, which takes the address space's lock for writing, and a
        // populate holds it for reading from start to end. Without the
        // barrier the second thread was usually created only after the
        // first had populated its whole share, so "2 threads" ran one
        // after the other (median as slow as 1 thread, minimum half).
        let barrier = std::sync::Barrier::new(SIZE.div_ceil(share));
        let barrier = &barrier;
        std::thread::scope(|s| {
            for start in (0..SIZE).step_by(share) {
                s.spawn(move || {
                    barrier.wait();
                    populate(start)
                });
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
    /// Time one run (ns); the memory is freed after the clock stops,
    /// then the next run waits as `settle` says.
    fn time(&self, settle: Settle) -> f64 {
        let ns = match self {
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
        };
        settle.wait();
        ns
    }
}

/// The free-page-reporting counter of the guest kernels this runs on
/// (KiB handed back to the host so far); absent on most kernels.
const REPORTED_KIB: &str = "/sys/module/page_reporting/parameters/reported_kib";

/// What happens between two runs, after the memory of the first is freed.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Settle {
    /// Nothing: the next run starts at once.
    None,
    /// Wait until the guest has stopped handing free pages back to the
    /// host (the counter at [`REPORTED_KIB`] unchanged for `quiet_ms`),
    /// at most `max_ms`; without the counter, sleep `quiet_ms`.
    Balloon { quiet_ms: u64, max_ms: u64 },
    /// Sleep this long.
    Sleep(u64),
}

impl Settle {
    fn parse(text: &str) -> Option<Settle> {
        match text {
            "none" => Some(Settle::None),
            "balloon" => Some(Settle::BALLOON),
            _ => text
                .strip_prefix("sleep:")
                .and_then(|ms| ms.parse().ok())
                .map(Settle::Sleep),
        }
    }

    const BALLOON: Settle = Settle::Balloon {
        quiet_ms: 300,
        max_ms: 5_000,
    };

    fn describe(self) -> String {
        match self {
            Settle::None => "none: each run starts as soon as the last one freed its memory".into(),
            Settle::Balloon { quiet_ms, max_ms } => {
                if std::fs::metadata(REPORTED_KIB).is_ok() {
                    format!(
                        "balloon: after each run, wait until the guest has reported no free page to the host for {quiet_ms} ms (at most {max_ms} ms)"
                    )
                } else {
                    format!("balloon: no free-page-reporting counter here, {quiet_ms} ms pause after each run")
                }
            }
            Settle::Sleep(ms) => format!("sleep: {ms} ms pause after each run"),
        }
    }

    fn wait(self) {
        match self {
            Settle::None => {}
            Settle::Sleep(ms) => std::thread::sleep(Duration::from_millis(ms)),
            Settle::Balloon { quiet_ms, max_ms } => {
                let read = || {
                    std::fs::read_to_string(REPORTED_KIB)
                        .ok()
                        .and_then(|s| s.trim().parse::<u64>().ok())
                };
                let Some(mut last) = read() else {
                    std::thread::sleep(Duration::from_millis(quiet_ms));
                    return;
                };
                let start = Instant::now();
                let mut quiet_since = Instant::now();
                let step = Duration::from_millis(20);
                while start.elapsed() < Duration::from_millis(max_ms) {
                    std::thread::sleep(step);
                    let now = read().unwrap_or(last);
                    if now != last {
                        last = now;
                        quiet_since = Instant::now();
                    } else if quiet_since.elapsed() >= Duration::from_millis(quiet_ms) {
                        return;
                    }
                }
            }
        }
    }
}

/// A vnuma row and its raw baseline, run back to back every round.
struct Pair {
    /// `1t`, `2t-nothp`, ...: the rows are `vnuma-<name>` and `raw-<name>`.
    name: String,
    vnuma: Run,
    raw: Run,
}

/// The samples of one pair, in round order: index `i` of `vnuma`, `raw`
/// and `vnuma_first` belong to the same round.
#[derive(Default)]
struct PairSamples {
    vnuma: Vec<f64>,
    raw: Vec<f64>,
    vnuma_first: Vec<bool>,
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
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// A JSON string literal of `s`.
fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The report for `cargo xtask bench`: every sample of every row in ns,
/// in round order (index `i` of a vnuma row and of its raw row are one
/// pair), and which of the two ran first in each round.
fn write_report(path: &Path, knobs: &Knobs, pairs: &[(String, PairSamples)], notes: &[String]) {
    let mut out = String::from("{\n");
    let _ = writeln!(out, "  \"bytes\": {SIZE},");
    let _ = writeln!(out, "  \"rounds\": {},", knobs.rounds);
    let _ = writeln!(out, "  \"warmup_rounds\": 1,");
    let _ = writeln!(out, "  \"paired\": true,");
    let _ = writeln!(out, "  \"lead_in\": {},", knobs.lead_in);
    let _ = writeln!(out, "  \"settle\": {},", json_str(&knobs.settle.describe()));
    let list: Vec<String> = notes.iter().map(|n| json_str(n)).collect();
    let _ = writeln!(out, "  \"notes\": [{}],", list.join(", "));
    out.push_str("  \"samples_ns\": {\n");
    let mut lines = Vec::new();
    for (name, p) in pairs {
        for (side, samples) in [("vnuma", &p.vnuma), ("raw", &p.raw)] {
            let list: Vec<String> = samples.iter().map(|s| format!("{s:.0}")).collect();
            lines.push(format!(
                "    \"prealloc/2GiB/{side}-{name}\": [{}]",
                list.join(", ")
            ));
        }
    }
    out.push_str(&lines.join(",\n"));
    out.push_str("\n  },\n  \"vnuma_first\": {\n");
    let lines: Vec<String> = pairs
        .iter()
        .map(|(name, p)| {
            let list: Vec<&str> = p
                .vnuma_first
                .iter()
                .map(|&f| if f { "true" } else { "false" })
                .collect();
            format!("    \"prealloc/2GiB/vnuma-{name}\": [{}]", list.join(", "))
        })
        .collect();
    out.push_str(&lines.join(",\n"));
    out.push_str("\n  }\n}\n");
    std::fs::write(path, out).expect("write the report");
}

/// xorshift64: the seeded generator of the pair orders.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Run `pairs` in paired rounds: one warm-up run of every row (touching
/// and freeing the memory), then `rounds` rounds. A round runs every pair
/// once, in an order shuffled per round (seeded, so every run of the
/// bench uses the same orders), and a pair runs its vnuma row and its raw
/// row back to back, vnuma first in every other round (so with an even
/// number of rounds each side runs first equally often), after an
/// untimed run of its raw row if `lead_in`. A drift of the
/// host (its balloon, other work on the cores) then falls on both halves
/// of a pair alike, and the ratio of the two cancels it.
fn paired(
    pairs: &[Pair],
    rounds: usize,
    settle: Settle,
    lead_in: bool,
    seed: &mut u64,
) -> Vec<PairSamples> {
    for p in pairs {
        p.vnuma.time(settle);
        p.raw.time(settle);
    }
    let mut samples: Vec<PairSamples> = pairs.iter().map(|_| PairSamples::default()).collect();
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    for round in 0..rounds {
        // Fisher-Yates.
        for k in (1..order.len()).rev() {
            order.swap(k, (next(seed) % (k as u64 + 1)) as usize);
        }
        for &i in &order {
            let p = &pairs[i];
            if lead_in {
                p.raw.time(settle);
            }
            let vnuma_first = (round + i) % 2 == 0;
            let (v, r) = if vnuma_first {
                let v = p.vnuma.time(settle);
                (v, p.raw.time(settle))
            } else {
                let r = p.raw.time(settle);
                (p.vnuma.time(settle), r)
            };
            let s = &mut samples[i];
            s.vnuma.push(v);
            s.raw.push(r);
            s.vnuma_first.push(vnuma_first);
        }
    }
    samples
}

/// The bench's knobs (environment variables, since `cargo xtask bench`
/// passes criterion's arguments only): `VNUMA_PREALLOC_ROUNDS` (a
/// positive count), `VNUMA_PREALLOC_SETTLE` (`none`, the default;
/// `balloon`; `sleep:MS`: see [`Settle`]), `VNUMA_PREALLOC_CONTROL=0`
/// (leave out the `control` pair: raw against raw, whose ratio must
/// straddle 1), `VNUMA_PREALLOC_LEAD_IN=0` (no untimed lead-in run before
/// each pair), `VNUMA_PREALLOC_PAIRS=2t,control,...` (only these pairs).
struct Knobs {
    rounds: usize,
    settle: Settle,
    control: bool,
    lead_in: bool,
    only: Option<Vec<String>>,
}

impl Knobs {
    fn from_env(quick: bool) -> Knobs {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let rounds = var("VNUMA_PREALLOC_ROUNDS")
            .map(|v| {
                v.parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .expect("VNUMA_PREALLOC_ROUNDS: a positive count")
            })
            .unwrap_or(if quick { QUICK_ROUNDS } else { ROUNDS });
        let settle = var("VNUMA_PREALLOC_SETTLE")
            .map(|v| Settle::parse(&v).expect("VNUMA_PREALLOC_SETTLE: balloon, none or sleep:MS"))
            .unwrap_or(Settle::None);
        let control = var("VNUMA_PREALLOC_CONTROL").is_none_or(|v| v != "0");
        let lead_in = var("VNUMA_PREALLOC_LEAD_IN").is_none_or(|v| v != "0");
        let only = var("VNUMA_PREALLOC_PAIRS").map(|v| v.split(',').map(String::from).collect());
        Knobs {
            rounds,
            settle,
            control,
            lead_in,
            only,
        }
    }

    fn wants(&self, pair: &str) -> bool {
        self.only
            .as_ref()
            .is_none_or(|o| o.iter().any(|p| p == pair))
    }
}

/// The first line of `path`, trimmed, if it can be read.
fn first_line(path: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.lines().next()?.trim().to_string())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let knobs = Knobs::from_env(quick);
    let mut notes = Vec::new();
    // What the rows depend on: without a THP advice the kernel's mode
    // decides (under `always` the -nothp vnuma row, which advises
    // nothing, would get huge pages); the load says who else ran.
    if let Some(thp) = first_line("/sys/kernel/mm/transparent_hugepage/enabled") {
        notes.push(format!("transparent huge pages: {thp}"));
    }
    let load_before = first_line("/proc/loadavg");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let host = HostInfo::probe();
    let anon = plan(
        "memory-backend-ram,id=bench,size=2G,prealloc=on,merge=off",
        &host,
    );
    let mut pairs: Vec<Pair> = Vec::new();
    if knobs.control {
        pairs.push(Pair {
            name: "control".into(),
            vnuma: Run::Raw(RawKind::Thp, 1),
            raw: Run::Raw(RawKind::Thp, 1),
        });
    }
    for (thp, suffix) in [(true, ""), (false, "-nothp")] {
        let counts: &[usize] = if thp { &[1, 2] } else { &[1] };
        for &n in counts {
            let kind = if thp { RawKind::Thp } else { RawKind::NoThp };
            pairs.push(Pair {
                name: format!("{n}t{suffix}"),
                vnuma: Run::Vnuma {
                    plan: anon.clone(),
                    threads: n,
                    thp,
                },
                raw: Run::Raw(kind, n),
            });
        }
    }
    pairs.retain(|p| knobs.wants(&p.name));
    // Phase 1: anonymous memory, without a huge page pool holding 2 GiB
    // of the host's memory aside.
    let mut samples = paired(&pairs, knobs.rounds, knobs.settle, knobs.lead_in, &mut seed);
    // Phase 2: hugetlbfs, with the pool reserved only for its duration.
    let pool = if knobs.wants("hugetlb-1t") || knobs.wants("hugetlb-2t") {
        HugetlbPool::reserve()
    } else {
        Err("not asked for (VNUMA_PREALLOC_PAIRS)".into())
    };
    match pool {
        Ok(pool) => {
            let text = format!(
                "memory-backend-file,id=bench,size=2G,prealloc=on,merge=off,mem-path={}",
                pool.mount.display()
            );
            let host = HostInfo::probe();
            let huge_plan = plan(&text, &host);
            let mut huge: Vec<Pair> = [1, 2]
                .map(|n| Pair {
                    name: format!("hugetlb-{n}t"),
                    vnuma: Run::Vnuma {
                        plan: huge_plan.clone(),
                        threads: n,
                        thp: true,
                    },
                    raw: Run::Raw(RawKind::Hugetlb, n),
                })
                .into();
            huge.retain(|p| knobs.wants(&p.name));
            // Huge pages go back to the pool, not to the host: no wait.
            samples.extend(paired(
                &huge,
                knobs.rounds,
                Settle::None,
                knobs.lead_in,
                &mut seed,
            ));
            pairs.extend(huge);
            drop(pool);
        }
        Err(why) => notes.push(format!("hugetlb rows skipped: {why}")),
    }
    let named: Vec<(String, PairSamples)> =
        pairs.iter().map(|p| p.name.clone()).zip(samples).collect();
    println!("settle: {}", knobs.settle.describe());
    for (name, p) in &named {
        for (side, s) in [("vnuma", &p.vnuma), ("raw", &p.raw)] {
            let lo = s.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = s.iter().copied().fold(0.0, f64::max);
            let med = median(s);
            println!(
                "prealloc/2GiB/{:<18} median {:>8.1} ms  [{:.1} – {:.1}]  {:.2} GiB/s",
                format!("{side}-{name}"),
                med / 1e6,
                lo / 1e6,
                hi / 1e6,
                SIZE as f64 / (1u64 << 30) as f64 / (med / 1e9)
            );
        }
        let ratios: Vec<f64> = p.raw.iter().zip(&p.vnuma).map(|(r, v)| r / v).collect();
        let [first, second]: [Vec<f64>; 2] = [true, false].map(|f| {
            ratios
                .iter()
                .zip(&p.vnuma_first)
                .filter(|(_, &vf)| vf == f)
                .map(|(r, _)| *r)
                .collect()
        });
        println!(
            "  paired raw/vnuma: median {:.3} over {} rounds (vnuma first {:.3}, raw first {:.3})",
            median(&ratios),
            ratios.len(),
            median(&first),
            median(&second)
        );
    }
    if let (Some(before), Some(after)) = (load_before, first_line("/proc/loadavg")) {
        notes.push(format!(
            "load average (/proc/loadavg) before: {before}; after: {after}"
        ));
    }
    for n in &notes {
        println!("note: {n}");
    }
    let path = target_dir().join("vnuma-prealloc.json");
    write_report(&path, &knobs, &named, &notes);
    println!("wrote {}", path.display());
}
