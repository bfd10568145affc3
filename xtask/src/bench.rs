//! `cargo xtask bench [--quick] [--prealloc] [--save NAME] [--compare NAME]`:
//! run the benchmarks, pair each vnuma figure with its baseline, and
//! report them against the project's targets.
//!
//! * Runs the criterion benchmarks: `cargo bench -p vnuma-benches`
//!   (lookups, parsing, resolution, ACPI tables), then `cargo bench -p
//!   vnuma-backend --bench prealloc`, not criterion: preallocation and the
//!   raw `MADV_POPULATE_WRITE` limit at the same thread count, in paired
//!   rounds after a warm-up round (each round runs a row and its baseline
//!   back to back), written to `<target>/vnuma-prealloc.json` (see
//!   [`PREALLOC_ROWS`]). With `--quick`, the first gets a short warm-up
//!   and measurement and few samples; the second runs 6 rounds instead
//!   of 40. `--prealloc` runs the second alone and reports its rows.
//! * Reads criterion's estimates (`<target>/criterion/<group>/<bench>/new/
//!   estimates.json`): the mean, divided by the benchmark's element count
//!   when it declares one (lookups are per lookup); for preallocation
//!   medians and spreads, because filling memory is very noisy on a
//!   virtual machine whose balloon driver hands free pages back to the
//!   host (whoever fills memory next waits, at random, for the host to
//!   supply it).
//! * Runs the end-to-end comparison with QEMU 7.2 (between the two) when
//!   `qemu-system-x86_64` is installed (not criterion: whole processes),
//!   see [`e2e`]; the vnuma side runs in an optimised helper
//!   (`benches/examples/e2e.rs`).
//! * Prints one table (benchmark, vnuma's figure, baseline and its figure,
//!   ratio baseline/vnuma — bigger is better for vnuma —, target, met) and
//!   writes the same rows to `<target>/vnuma-bench.json`.
//! * `--save NAME` copies that file to `<target>/vnuma-bench-NAME.json`;
//!   `--compare NAME` prints each figure's change against that file.
//!
//! `<target>` is cargo's target directory as `cargo metadata` reports it,
//! so `CARGO_TARGET_DIR` and `build.target-dir` are respected.
//! Unmet targets are reported, not failed on: timings on a shared machine
//! are too noisy to gate on.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Criterion arguments for every run: no plots (the plotting backends
/// are not compiled in).
const CRITERION_ARGS: &[&str] = &["--noplot"];

/// Criterion arguments `--quick` adds to runs whose benchmarks take the
/// command line's sampling: each benchmark runs about half a second,
/// with a small bootstrap.
const QUICK_ARGS: &[&str] = &[
    "--warm-up-time",
    "0.1",
    "--measurement-time",
    "0.3",
    "--sample-size",
    "10",
    "--nresamples",
    "1000",
];

/// Criterion arguments `--quick` adds to runs whose groups fix their own
/// sampling (the preallocation group: 10 flat samples in 8 s): criterion's
/// quick mode, which doubles the iteration count from 1 until two
/// successive measurements agree (at most the group's measurement time).
const QUICK_MODE_ARGS: &[&str] = &["--quick", "--nresamples", "1000"];

/// One `cargo bench` invocation.
#[derive(Clone, Copy, Debug)]
struct Suite {
    package: &'static str,
    /// `--bench` target, or every benchmark of the package.
    bench: Option<&'static str>,
    /// Criterion arguments added by `--quick`.
    quick: &'static [&'static str],
    /// Whether it fills much memory, and so runs after the end-to-end
    /// rows: the host takes the memory back for a while afterwards, and
    /// whoever fills memory meanwhile is slowed down at random.
    fills_memory: bool,
}

/// The criterion runs, in order (those that fill memory after the
/// end-to-end rows).
const SUITES: &[Suite] = &[
    Suite {
        package: "vnuma-benches",
        bench: None,
        quick: QUICK_ARGS,
        fills_memory: false,
    },
    Suite {
        package: "vnuma-backend",
        bench: Some("prealloc"),
        quick: QUICK_MODE_ARGS,
        fills_memory: true,
    },
];

/// The package of the end-to-end helper, and its name (an example).
const E2E_PACKAGE: &str = "vnuma-benches";
const E2E_EXAMPLE: &str = "e2e";

/// What a figure measures.
#[derive(Clone, Copy, Debug)]
enum Unit {
    /// Nanoseconds per address lookup.
    PerLookup,
    /// Nanoseconds per run of the benchmarked routine.
    PerRun,
    /// Nanoseconds per run of a routine that fills memory (shown with its
    /// throughput, from the benchmark's byte count).
    FillRun,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::PerLookup => "ns/lookup",
            Unit::PerRun | Unit::FillRun => "ns",
        }
    }
}

/// Which of criterion's estimates a row reports.
#[derive(Clone, Copy, Debug)]
enum Stat {
    Mean,
    Median,
}

impl Stat {
    fn as_str(self) -> &'static str {
        match self {
            Stat::Mean => "mean",
            Stat::Median => "median",
        }
    }
}

/// A goal a row is held to.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// Reported only.
    None,
    /// `baseline / vnuma` at least this.
    MinRatio(f64),
    /// vnuma's figure below this many nanoseconds.
    MaxNs(f64),
}

impl Target {
    /// Whether `value` (ns) and `ratio` meet the target; `None` when there
    /// is nothing to meet.
    fn met(self, value: f64, ratio: f64) -> Option<bool> {
        match self {
            Target::None => None,
            Target::MinRatio(min) => Some(ratio >= min),
            Target::MaxNs(max) => Some(value < max),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Target::None => f.write_str("—"),
            Target::MinRatio(min) => write!(f, "≥ {min}×"),
            Target::MaxNs(max) => write!(f, "< {}", Ns(max)),
        }
    }
}

/// One row of the report: a vnuma benchmark, the baseline it is compared
/// with, and the target. Ids are criterion's `group/function` (a function
/// id may hold `/`).
#[derive(Clone, Copy, Debug)]
struct Row {
    bench: &'static str,
    baseline: &'static str,
    unit: Unit,
    stat: Stat,
    target: Target,
}

/// The rows, in report order. The targets are the issue's: ≥ 20× the
/// seed's scan at 4096 ranges, no slower than vm-memory, the largest
/// configuration resolved in the low milliseconds (< 5 ms for resolution
/// of the parsed command line; parse + resolve is reported alongside),
/// its ACPI tables built in the low milliseconds (< 5 ms), and
/// preallocation at 0.95 of the raw limit or better (same thread count).
///
/// * The parse rows' baseline is one pass over the same argv that finds
///   every `,` and `=` (ratio = scan / parse; ≥ 0.05 means the parse is
///   within 20× of the scan); a typical 4-node q35 parses in < 3 µs.
/// * The resolve rows' baseline is parsing alone, so their ratio compares
///   the two (for `resolve-only`: parse time / resolve time).
/// * The tables row's baseline is a copy (clone) of the tables it emits:
///   the least any emitter of the same bytes does; ratio = copy / build.
/// * The preallocation rows are not criterion's: see [`PREALLOC_ROWS`].
const ROWS: &[Row] = &[
    Row {
        bench: "lookup-4096/vnuma",
        baseline: "lookup-4096/seed",
        unit: Unit::PerLookup,
        stat: Stat::Mean,
        target: Target::MinRatio(20.0),
    },
    Row {
        bench: "lookup-4096-4k/vnuma",
        baseline: "lookup-4096-4k/vm-memory",
        unit: Unit::PerLookup,
        stat: Stat::Mean,
        target: Target::MinRatio(1.0),
    },
    Row {
        bench: "lookup-q35/vnuma",
        baseline: "lookup-q35/seed",
        unit: Unit::PerLookup,
        stat: Stat::Mean,
        target: Target::None,
    },
    Row {
        bench: "lookup-q35-4k/vnuma",
        baseline: "lookup-q35-4k/vm-memory",
        unit: Unit::PerLookup,
        stat: Stat::Mean,
        target: Target::MinRatio(1.0),
    },
    Row {
        bench: "resolve-128-nodes/resolve-only",
        baseline: "resolve-128-nodes/parse",
        unit: Unit::PerRun,
        stat: Stat::Mean,
        target: Target::MaxNs(5e6),
    },
    Row {
        bench: "resolve-128-nodes/resolve",
        baseline: "resolve-128-nodes/parse",
        unit: Unit::PerRun,
        stat: Stat::Mean,
        target: Target::None,
    },
    Row {
        bench: "parse/largest",
        baseline: "parse/scan-baseline",
        unit: Unit::PerRun,
        stat: Stat::Median,
        target: Target::MinRatio(0.05),
    },
    Row {
        bench: "parse/typical-q35",
        baseline: "parse/typical-q35-scan",
        unit: Unit::PerRun,
        stat: Stat::Median,
        target: Target::MaxNs(3e3),
    },
    Row {
        bench: "resolve-q35/resolve",
        baseline: "resolve-q35/parse",
        unit: Unit::PerRun,
        stat: Stat::Mean,
        target: Target::None,
    },
    Row {
        bench: "repeated-flags-1mb/resolve",
        baseline: "repeated-flags-1mb/copy",
        unit: Unit::PerRun,
        stat: Stat::Mean,
        target: Target::None,
    },
    Row {
        bench: "tables-128-nodes/build",
        baseline: "tables-128-nodes/copy",
        unit: Unit::PerRun,
        stat: Stat::Mean,
        target: Target::MaxNs(5e6),
    },
];

/// The preallocation rows: vnuma and the raw limit at the same thread
/// count and page kind, from `<target>/vnuma-prealloc.json` (written by
/// the paired `prealloc` bench of vnuma-backend). Each round of that
/// bench runs a row and its baseline back to back, so the figure held to
/// the target is the paired one: the median over rounds of raw time /
/// vnuma time, with the distribution-free 95% confidence interval of that
/// median ([`median_ci`]). Verdict: met if the interval's lower bound is
/// ≥ [`PREALLOC_TARGET`], not met if its upper bound is below it,
/// undecided otherwise. The medians of each side and their spreads
/// (min – max) are shown alongside. A pair missing from the file (the
/// hugetlb rows without a pool, the control with
/// `VNUMA_PREALLOC_CONTROL=0`) is left out; the file's notes say why.
const PREALLOC_ROWS: &[(&str, &str, Target)] = &[
    (
        "prealloc/2GiB/vnuma-control",
        "prealloc/2GiB/raw-control",
        Target::None,
    ),
    (
        "prealloc/2GiB/vnuma-1t",
        "prealloc/2GiB/raw-1t",
        Target::MinRatio(PREALLOC_TARGET),
    ),
    (
        "prealloc/2GiB/vnuma-2t",
        "prealloc/2GiB/raw-2t",
        Target::MinRatio(PREALLOC_TARGET),
    ),
    (
        "prealloc/2GiB/vnuma-1t-nothp",
        "prealloc/2GiB/raw-1t-nothp",
        Target::MinRatio(PREALLOC_TARGET),
    ),
    (
        "prealloc/2GiB/vnuma-hugetlb-1t",
        "prealloc/2GiB/raw-hugetlb-1t",
        Target::MinRatio(PREALLOC_TARGET),
    ),
    (
        "prealloc/2GiB/vnuma-hugetlb-2t",
        "prealloc/2GiB/raw-hugetlb-2t",
        Target::MinRatio(PREALLOC_TARGET),
    ),
];

/// The preallocation target: vnuma's throughput at least this share of
/// the raw limit's at the same thread count.
const PREALLOC_TARGET: f64 = 0.95;

/// The confidence level of the preallocation rows' intervals.
const PREALLOC_LEVEL: f64 = 0.95;

/// What the paired preallocation bench writes (the fields after
/// `samples_ns` are absent from files written before the bench paired
/// its runs).
#[derive(Debug, Deserialize)]
struct PreallocReport {
    bytes: f64,
    rounds: usize,
    notes: Vec<String>,
    samples_ns: std::collections::BTreeMap<String, Vec<f64>>,
    /// Whether index `i` of a row and of its baseline are one pair.
    #[serde(default)]
    paired: bool,
    /// Whether each pair was preceded by an untimed run of its raw row.
    #[serde(default)]
    lead_in: bool,
    /// What the bench did between runs.
    #[serde(default)]
    settle: Option<String>,
    /// Per vnuma row, whether it ran first in each round.
    #[serde(default)]
    vnuma_first: std::collections::BTreeMap<String, Vec<bool>>,
}

/// A confidence interval of a median.
#[derive(Clone, Copy, Debug, PartialEq)]
struct MedianCi {
    lo: f64,
    hi: f64,
    /// The probability that the interval holds the true median (at least
    /// the level asked for, unless there are too few samples for it).
    coverage: f64,
}

/// The distribution-free confidence interval of the median of `samples`
/// (independent draws of one distribution): with the samples sorted
/// `x(1) ≤ … ≤ x(n)`, the interval `[x(k), x(n+1−k)]` misses the true
/// median only if at most `k−1` samples fall on one side of it, which
/// has probability `2·P(B ≤ k−1)` for `B ~ Binomial(n, ½)`. `k` is the
/// largest for which the coverage `1 − 2·P(B ≤ k−1)` is still at least
/// `level`; with too few samples for `level` (n ≤ 5 for 95%) it is 1,
/// the interval is `[min, max]` and `coverage` says how sure it is.
/// Non-finite samples are ignored; `None` without any.
fn median_ci(samples: &[f64], level: f64) -> Option<MedianCi> {
    let mut s: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n == 0 {
        return None;
    }
    // P(B = j) in log space, so C(n, j) cannot overflow whatever n.
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0f64; // ln C(n, j)
    let mut tail = ln_half_n.exp(); // P(B ≤ j)
    let mut k = 1;
    let mut coverage = 1.0 - 2.0 * tail;
    // k = j + 1 misses with probability 2·P(B ≤ j); it needs k ≤ n + 1 − k.
    for j in 1..n {
        if 2 * (j + 1) > n + 1 {
            break;
        }
        ln_choose += ((n - j + 1) as f64).ln() - (j as f64).ln();
        tail += (ln_choose + ln_half_n).exp();
        let cov = 1.0 - 2.0 * tail;
        if cov < level {
            break;
        }
        k = j + 1;
        coverage = cov;
    }
    Some(MedianCi {
        lo: s[k - 1],
        hi: s[n - k],
        coverage,
    })
}

/// The verdict on `ci` against a ratio target `min`: met if the whole
/// interval is at or above it, not met if the whole interval is below,
/// undecided (`None`) otherwise.
fn verdict(ci: &MedianCi, min: f64) -> Option<bool> {
    if ci.lo >= min {
        Some(true)
    } else if ci.hi < min {
        Some(false)
    } else {
        None
    }
}

/// The preallocation rows and notes from `report` (see [`PREALLOC_ROWS`]).
fn prealloc_rows(report: &PreallocReport) -> (Vec<ReportRow>, Vec<String>) {
    let mut rows = Vec::new();
    let mut notes = report.notes.clone();
    for &(bench, baseline, target) in PREALLOC_ROWS {
        let (Some(v), Some(b)) = (
            report.samples_ns.get(bench),
            report.samples_ns.get(baseline),
        ) else {
            continue;
        };
        if v.is_empty() || b.is_empty() {
            continue;
        }
        let (value, base) = (median(v), median(b));
        let mut row = ReportRow {
            name: bench.into(),
            value,
            unit: Unit::FillRun.as_str().into(),
            baseline: baseline.into(),
            baseline_value: base,
            ratio: base / value,
            target: target.to_string(),
            met: target.met(value, base / value),
            stat: Stat::Median.as_str().into(),
            bytes: Some(report.bytes),
            runs: Some(v.len()),
            value_range: Some(spread(v)),
            baseline_range: Some(spread(b)),
            qemu: None,
            notes: Vec::new(),
            ratio_ci: None,
            ratio_ci_coverage: None,
        };
        if report.paired && v.len() == b.len() {
            let ratios: Vec<f64> = b.iter().zip(v).map(|(b, v)| b / v).collect();
            row.ratio = median(&ratios);
            if let Some(ci) = median_ci(&ratios, PREALLOC_LEVEL) {
                row.ratio_ci = Some([ci.lo, ci.hi]);
                row.ratio_ci_coverage = Some(ci.coverage);
                if let Target::MinRatio(min) = target {
                    row.met = verdict(&ci, min);
                }
            }
            if let Some(first) = report.vnuma_first.get(bench) {
                let side = |f: bool| {
                    let r: Vec<f64> = ratios
                        .iter()
                        .zip(first)
                        .filter(|&(_, &vf)| vf == f)
                        .map(|(r, _)| *r)
                        .collect();
                    format!("{} ({})", ratio_cell(median(&r)), runs(r.len()))
                };
                row.notes.push(format!(
                    "median ratio with vnuma first {}, with raw first {}",
                    side(true),
                    side(false)
                ));
            }
        }
        rows.push(row);
    }
    if report.paired {
        let lead_in = if report.lead_in {
            "an untimed lead-in run of its raw row, then "
        } else {
            ""
        };
        notes.push(format!(
            "prealloc: {} paired rounds after a warm-up round; each round runs every pair in a shuffled order, a pair {lead_in}its two rows back to back (vnuma first every other round); hugetlb rows in a second phase with the pool reserved",
            report.rounds
        ));
    } else {
        notes.push(format!(
            "prealloc: {} interleaved rounds after a warm-up round (not paired: ratios of medians, no interval)",
            report.rounds
        ));
    }
    if let Some(settle) = &report.settle {
        notes.push(format!("prealloc between runs: {settle}"));
    }
    (rows, notes)
}

/// A duration in nanoseconds, shown with a readable unit.
struct Ns(f64);

impl fmt::Display for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let (value, unit) = if ns.abs() < 1e3 {
            (ns, "ns")
        } else if ns.abs() < 1e6 {
            (ns / 1e3, "µs")
        } else if ns.abs() < 1e9 {
            (ns / 1e6, "ms")
        } else {
            (ns / 1e9, "s")
        };
        let digits = if value.abs() < 10.0 {
            2
        } else if value.abs() < 100.0 {
            1
        } else {
            0
        };
        write!(f, "{value:.digits$} {unit}")
    }
}

/// `[min, max]` shown as `[a – b]` in one unit (the larger one's), so the
/// spread reads at a glance.
struct Range([f64; 2]);

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [lo, hi] = self.0;
        write!(f, "[{} – {}]", Ns(lo), Ns(hi))
    }
}

/// Throughput of `bytes` in `ns`, in GiB/s.
fn gib_per_s(bytes: f64, ns: f64) -> f64 {
    bytes / (ns * 1e-9) / f64::from(1u32 << 30)
}

/// The median of `samples` (the mean of the middle two for an even
/// count); NaN when empty.
fn median(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// `[min, max]` of `samples` (NaN when empty).
fn spread(samples: &[f64]) -> [f64; 2] {
    let min = samples.iter().copied().reduce(f64::min).unwrap_or(f64::NAN);
    let max = samples.iter().copied().reduce(f64::max).unwrap_or(f64::NAN);
    [min, max]
}

/// The command-line options.
#[derive(Debug, Default)]
struct Options {
    quick: bool,
    /// Only the preallocation bench and its rows.
    prealloc: bool,
    save: Option<String>,
    compare: Option<String>,
}

const USAGE: &str =
    "usage: cargo xtask bench [--quick] [--prealloc] [--save NAME] [--compare NAME]";

impl Options {
    fn parse(args: &[String]) -> Result<Options, String> {
        let mut options = Options::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = |flag: &str| {
                args.next()
                    .filter(|v| !v.is_empty() && !v.starts_with('-'))
                    .cloned()
                    .ok_or_else(|| format!("{flag} needs a NAME"))
            };
            match arg.as_str() {
                "--quick" => options.quick = true,
                "--prealloc" => options.prealloc = true,
                "--save" => options.save = Some(value("--save")?),
                "--compare" => options.compare = Some(value("--compare")?),
                other => return Err(format!("unknown argument `{other}`")),
            }
        }
        for name in options.save.iter().chain(&options.compare) {
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            {
                return Err(format!(
                    "`{name}`: a NAME is letters, digits, `-`, `_` and `.`"
                ));
            }
        }
        Ok(options)
    }
}

/// A figure read from criterion.
#[derive(Clone, Copy, Debug)]
struct Figure {
    /// The estimate in ns (per element for element throughputs).
    ns: f64,
    /// Bytes per run, for byte throughputs.
    bytes: Option<f64>,
}

/// One row of `vnuma-bench.json`, in the order the fields are written.
/// The fields after `met` are optional, so reports saved before they
/// existed still load for `--compare`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct ReportRow {
    /// The vnuma benchmark (`group/function`, or `e2e/...`).
    name: String,
    /// Its figure (see `stat`), in `unit`.
    value: f64,
    /// `ns/lookup` or `ns` (per run).
    unit: String,
    /// The baseline.
    baseline: String,
    /// The baseline's figure, in `unit`.
    baseline_value: f64,
    /// `baseline_value / value`.
    ratio: f64,
    /// The target, as the table shows it (`—` for none).
    target: String,
    /// Whether the target is met (`null` without a target).
    met: Option<bool>,
    /// Which estimate `value` and `baseline_value` are: `mean` or
    /// `median`.
    #[serde(default = "mean")]
    stat: String,
    /// Bytes each run fills (preallocation rows), for the throughput.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    bytes: Option<f64>,
    /// End-to-end rows: the runs behind `value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    runs: Option<usize>,
    /// End-to-end rows: `[min, max]` of vnuma's runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    value_range: Option<[f64; 2]>,
    /// End-to-end rows: `[min, max]` of the paired differences behind
    /// `baseline_value`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    baseline_range: Option<[f64; 2]>,
    /// End-to-end rows: QEMU's two sets of runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    qemu: Option<QemuRuns>,
    /// How the row was measured where it departs from the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    /// Paired rows (preallocation): the confidence interval of `ratio`,
    /// the median of the per-round ratios (see [`median_ci`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ratio_ci: Option<[f64; 2]>,
    /// Paired rows: the probability that `ratio_ci` holds the true median.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ratio_ci_coverage: Option<f64>,
}

fn mean() -> String {
    "mean".into()
}

/// QEMU's runs behind an end-to-end row: the configuration measured and
/// the reference subtracted from it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct QemuRuns {
    /// `qemu-system-x86_64 --version`'s first line.
    version: String,
    /// `tcg` or `kvm`.
    accel: String,
    /// What is timed (`start to exit`, `start to QMP answer`).
    timed: String,
    measured: Runs,
    reference: Runs,
    /// vnuma's runs (`value` is their median).
    vnuma: Runs,
}

/// A set of runs, in ns.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Runs {
    /// What distinguishes the set (`with -numa`, `prealloc=on`, ...).
    label: String,
    median: f64,
    min: f64,
    max: f64,
    samples: Vec<f64>,
}

impl Runs {
    fn new(label: &str, samples: Vec<f64>) -> Runs {
        let [min, max] = spread(&samples);
        Runs {
            label: label.into(),
            median: median(&samples),
            min,
            max,
            samples,
        }
    }
}

impl ReportRow {
    /// A criterion row with its figures.
    fn from_criterion(row: &Row, value: Figure, baseline: Figure) -> ReportRow {
        let ratio = baseline.ns / value.ns;
        ReportRow {
            name: row.bench.into(),
            value: value.ns,
            unit: row.unit.as_str().into(),
            baseline: row.baseline.into(),
            baseline_value: baseline.ns,
            ratio,
            target: row.target.to_string(),
            met: row.target.met(value.ns, ratio),
            stat: row.stat.as_str().into(),
            bytes: match row.unit {
                Unit::FillRun => value.bytes,
                Unit::PerLookup | Unit::PerRun => None,
            },
            runs: None,
            value_range: None,
            baseline_range: None,
            qemu: None,
            notes: Vec::new(),
            ratio_ci: None,
            ratio_ci_coverage: None,
        }
    }

    /// vnuma's cell: the figure, its throughput and its spread where
    /// known.
    fn value_cell(&self) -> String {
        let mut cell = Ns(self.value).to_string();
        if let Some(bytes) = self.bytes {
            cell += &format!(" ({:.2} GiB/s)", gib_per_s(bytes, self.value));
        }
        if let Some(range) = self.value_range {
            cell += &format!(" {}", Range(range));
        }
        cell
    }

    /// The ratio's cell, with its confidence interval where known.
    fn ratio_cell(&self) -> String {
        match self.ratio_ci {
            Some([lo, hi]) => format!(
                "{} [{} – {}]",
                ratio_cell(self.ratio),
                ratio_cell(lo).trim_end_matches('×'),
                ratio_cell(hi)
            ),
            None => ratio_cell(self.ratio),
        }
    }

    /// The verdict's cell: `yes`, `NO`, `undecided` (a paired row whose
    /// interval straddles its target), `—` (no target).
    fn met_cell(&self) -> &'static str {
        match self.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None if self.ratio_ci.is_some() && self.target != Target::None.to_string() => {
                "undecided"
            }
            None => "—",
        }
    }

    /// The baseline's cell, likewise.
    fn baseline_cell(&self) -> String {
        let mut cell = Ns(self.baseline_value).to_string();
        if let Some(bytes) = self.bytes {
            cell += &format!(" ({:.2} GiB/s)", gib_per_s(bytes, self.baseline_value));
        }
        if let Some(range) = self.baseline_range {
            cell += &format!(" {}", Range(range));
        }
        cell
    }
}

/// The workspace root (xtask lives one level below it).
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// Cargo's target directory for the workspace, as `cargo metadata` says.
fn target_dir(root: &Path) -> Result<PathBuf, String> {
    let output = Command::new(cargo())
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cannot read cargo metadata's output: {e}"))?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata gave no target_directory".into())
}

/// A JSON file, read as `T`.
fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Where criterion keeps benchmark `id` (`group/function`, the function
/// id possibly holding `/`): `<group>/<function>` with the function id
/// made safe as criterion does (`/` and the like become `_`).
fn criterion_dir(criterion: &Path, id: &str) -> PathBuf {
    let (group, function) = id.split_once('/').unwrap_or((id, ""));
    let safe: String = function
        .chars()
        .map(|c| if "?\"/\\*<>:|^".contains(c) { '_' } else { c })
        .collect();
    criterion.join(group).join(safe)
}

/// Benchmark `id`'s `stat` in ns, per element if the benchmark declares
/// an element throughput, with its byte count if it declares bytes.
/// Results older than `since` are stale (the benchmark did not run this
/// time) and refused.
fn figure(criterion: &Path, id: &str, stat: Stat, since: SystemTime) -> Result<Figure, String> {
    let dir = criterion_dir(criterion, id).join("new");
    let estimates = dir.join("estimates.json");
    let modified = std::fs::metadata(&estimates)
        .and_then(|m| m.modified())
        .map_err(|e| format!("no result for {id} ({}: {e})", estimates.display()))?;
    if modified < since {
        return Err(format!(
            "{id} did not run (its result is from an earlier run)"
        ));
    }
    let ns = read_json::<Value>(&estimates)?[stat.as_str()]["point_estimate"]
        .as_f64()
        .ok_or_else(|| {
            format!(
                "{}: no {}.point_estimate",
                estimates.display(),
                stat.as_str()
            )
        })?;
    let benchmark: Value = read_json(&dir.join("benchmark.json"))?;
    let elements = benchmark["throughput"]["Elements"].as_f64().unwrap_or(1.0);
    Ok(Figure {
        ns: ns / elements.max(1.0),
        bytes: benchmark["throughput"]["Bytes"].as_f64(),
    })
}

/// The `cargo` arguments that run `suite`.
fn suite_args(suite: &Suite, quick: bool) -> Vec<&'static str> {
    let mut args = vec!["bench", "-p", suite.package];
    if let Some(bench) = suite.bench {
        args.extend(["--bench", bench]);
    }
    args.push("--");
    args.extend_from_slice(CRITERION_ARGS);
    if quick {
        args.extend_from_slice(suite.quick);
    }
    args
}

/// Runs criterion; `Err` if cargo could not run or a benchmark failed.
fn run_criterion(root: &Path, criterion: &Path, suite: &Suite, quick: bool) -> Result<(), String> {
    let args = suite_args(suite, quick);
    eprintln!("xtask: cargo {}", args.join(" "));
    let status = Command::new(cargo())
        .args(&args)
        .current_dir(root)
        // Where criterion writes, whatever the bench's working directory.
        .env("CRITERION_HOME", criterion)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

/// The end-to-end comparison with QEMU 7.2: whole `qemu-system-x86_64`
/// processes against vnuma in-process, medians and spreads of several
/// runs.
///
/// * `e2e/numa-128-nodes`: the largest configuration
///   (`vnuma_benches::largest_argv`). QEMU runs it with `-S -nodefaults
///   -display none` and QMP on a unix socket (`vnuma-qemu-harness`'s
///   client) and quits over QMP as soon as it has answered
///   `qmp_capabilities` (so the machine, ACPI tables included,
///   was built); the figure is the median time from start to exit with
///   the `-numa` options minus the median without them (runs interleaved,
///   the spread is that of the paired differences). TCG refuses APIC ids
///   of 255 and more (`-smp 288`), so when it does and `/dev/kvm` can be
///   opened the runs use `-accel kvm`; without `-numa`, QEMU maps the
///   128 GiB as one `pc.ram`, which a host with less memory refuses under
///   heuristic overcommit, and then the reference uses `-m 4G` (mapping
///   untouched memory costs the same whatever its size). vnuma's figure
///   is parse + resolve + layout + ACPI tables of the same argv
///   (`Vm::from_args`, `Vm::acpi_tables`), in an optimised build.
/// * `e2e/prealloc-2GiB`: a 2 GiB `memory-backend-ram` as the machine's
///   RAM (`vnuma_benches::prealloc_argv`). QEMU's figure is the median
///   time from start to QMP's answer with `prealloc=on` minus with
///   `prealloc=off` (TCG); vnuma's is `Vm::from_args(..)?.allocate(..)`
///   with `prealloc=on`. Untimed warm-up rounds come first, then the
///   three kinds of run take turns, in rotating order, so none always
///   runs first after the host took memory back.
///
/// These rows run before the criterion benchmarks that fill memory (see
/// [`Suite::fills_memory`]).
mod e2e {
    use super::*;
    use vnuma_qemu_harness::capture::normalise_stderr;
    use vnuma_qemu_harness::deviation;
    use vnuma_qemu_harness::qmp::{Launch, Qmp, QmpError};

    /// QEMU's binary.
    pub(super) use vnuma_qemu_harness::qmp::QEMU;
    /// Limit of one QEMU run (filling 2 GiB on a host that takes pages
    /// back can take seconds).
    const TIMEOUT: Duration = Duration::from_secs(120);
    /// `-m` of the reference run when QEMU cannot map the whole RAM as
    /// one `pc.ram`.
    const REFERENCE_MEMORY: &str = "4G";

    /// How many runs each figure is the median of.
    #[derive(Clone, Copy, Debug)]
    pub(super) struct Counts {
        numa_qemu: usize,
        numa_vnuma: usize,
        prealloc: usize,
        /// Untimed rounds (QEMU with `prealloc=on`, then vnuma) before
        /// the preallocation runs.
        prealloc_warm_up: usize,
    }

    impl Counts {
        pub(super) fn new(quick: bool) -> Counts {
            if quick {
                Counts {
                    numa_qemu: 1,
                    numa_vnuma: 3,
                    prealloc: 1,
                    prealloc_warm_up: 1,
                }
            } else {
                // Filling memory is the noisiest: more runs for its medians.
                Counts {
                    numa_qemu: 5,
                    numa_vnuma: 11,
                    prealloc: 11,
                    prealloc_warm_up: 3,
                }
            }
        }
    }

    /// One QEMU run's times, in ns from spawning the process.
    #[derive(Clone, Copy, Debug)]
    pub(super) struct Timing {
        /// Until QMP answered `qmp_capabilities`.
        pub(super) answered: f64,
        /// Until the process exited (after `quit`).
        pub(super) exited: f64,
    }

    /// QEMU's first error line in `stderr` (warnings skipped, else the
    /// last line), without the program name.
    pub(super) fn first_error(stderr: &str) -> String {
        let lines = normalise_stderr(stderr, QEMU);
        let strip = |l: &str| l.strip_prefix("qemu: ").unwrap_or(l).trim().to_string();
        deviation::first_error(&lines)
            .map(|l| strip(&l))
            .or_else(|| {
                lines
                    .iter()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(|l| strip(l))
            })
            .unwrap_or_else(|| "no message".into())
    }

    /// Runs QEMU once with `accel` and `args`, quitting as soon as QMP
    /// answers.
    pub(super) fn qemu_once(accel: &str, args: &[String]) -> Result<Timing, String> {
        let start = Instant::now();
        let launch = Launch {
            accel,
            timeout: TIMEOUT,
            ..Launch::new(args)
        };
        let mut qmp = Qmp::start(&launch)?;
        let outcome = qmp.handshake().map_err(|e| match e {
            QmpError::Timeout => format!("no QMP answer within {} s", TIMEOUT.as_secs()),
            QmpError::Closed => "QEMU exited before answering".to_string(),
            QmpError::Error(error) => format!("qmp_capabilities failed: {error}"),
        });
        let answered = start.elapsed();
        if outcome.is_ok() {
            qmp.quit();
        }
        let exit = qmp.finish();
        let exited = start.elapsed();
        match outcome {
            Ok(()) if exit.status == 0 && !exit.timed_out => Ok(Timing {
                answered: answered.as_nanos() as f64,
                exited: exited.as_nanos() as f64,
            }),
            Ok(()) if exit.timed_out => {
                Err(format!("QEMU did not exit within {} s", TIMEOUT.as_secs()))
            }
            Ok(()) => Err(format!(
                "QEMU exit status {}: {}",
                exit.status,
                first_error(&exit.stderr)
            )),
            Err(e) if exit.stderr.trim().is_empty() => Err(e),
            Err(e) => Err(format!("{e}: {}", first_error(&exit.stderr))),
        }
    }

    /// `qemu-system-x86_64 --version`'s first line; `None` when QEMU
    /// cannot be run.
    pub(super) fn qemu_version() -> Option<String> {
        vnuma_qemu_harness::qmp::qemu_version(QEMU)
    }

    /// Whether KVM can be used (`/dev/kvm` opens for reading and writing).
    fn kvm_usable() -> bool {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok()
    }

    /// `argv` without its `-numa` options (each with its value).
    pub(super) fn without_numa(argv: &[String]) -> Vec<String> {
        let mut out = Vec::with_capacity(argv.len());
        let mut words = argv.iter();
        while let Some(word) = words.next() {
            if word == "-numa" {
                words.next();
            } else {
                out.push(word.clone());
            }
        }
        out
    }

    /// `argv` with the value of every `-m` replaced by `size`.
    pub(super) fn with_memory(argv: &[String], size: &str) -> Vec<String> {
        let mut out = argv.to_vec();
        for i in 1..out.len() {
            if out[i - 1] == "-m" {
                out[i] = size.to_string();
            }
        }
        out
    }

    /// The optimised helper that times vnuma (`benches/examples/e2e.rs`).
    pub(super) struct Helper(PathBuf);

    impl Helper {
        /// Builds it (`cargo build --release`, sharing the criterion
        /// runs' build).
        pub(super) fn build(root: &Path, target: &Path) -> Result<Helper, String> {
            let args = [
                "build",
                "--release",
                "-q",
                "-p",
                E2E_PACKAGE,
                "--example",
                E2E_EXAMPLE,
            ];
            eprintln!("xtask: cargo {}", args.join(" "));
            let status = Command::new(cargo())
                .args(args)
                .current_dir(root)
                .status()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            if !status.success() {
                return Err(format!("`cargo {}` failed ({status})", args.join(" ")));
            }
            Ok(Helper(target.join("release").join("examples").join(
                format!("{E2E_EXAMPLE}{}", std::env::consts::EXE_SUFFIX),
            )))
        }

        /// Its output lines for `args`.
        fn lines(&self, args: &[&str]) -> Result<Vec<String>, String> {
            let output = Command::new(&self.0)
                .args(args)
                .output()
                .map_err(|e| format!("cannot run {}: {e}", self.0.display()))?;
            if !output.status.success() {
                return Err(format!(
                    "`{E2E_EXAMPLE} {}` failed: {}",
                    args.join(" "),
                    String::from_utf8_lossy(&output.stderr).trim()
                ));
            }
            Ok(String::from_utf8_lossy(&output.stdout)
                .lines()
                .map(String::from)
                .collect())
        }

        /// Its timings (ns) for `args`.
        fn samples(&self, args: &[&str]) -> Result<Vec<f64>, String> {
            self.lines(args)?
                .iter()
                .map(|l| {
                    l.parse::<f64>()
                        .map_err(|_| format!("`{E2E_EXAMPLE} {}` printed `{l}`", args.join(" ")))
                })
                .collect()
        }
    }

    /// What an end-to-end row is made of.
    struct Parts<'a> {
        name: &'a str,
        baseline: &'a str,
        vnuma: Vec<f64>,
        version: &'a str,
        accel: &'a str,
        timed: &'a str,
        measured: Runs,
        reference: Runs,
        notes: Vec<String>,
    }

    /// The row: vnuma's median against the difference of QEMU's medians
    /// (ratio QEMU / vnuma, no target).
    fn row(parts: Parts<'_>) -> ReportRow {
        let vnuma = Runs::new("vnuma", parts.vnuma);
        let value = vnuma.median;
        let baseline_value = parts.measured.median - parts.reference.median;
        let differences: Vec<f64> = parts
            .measured
            .samples
            .iter()
            .zip(&parts.reference.samples)
            .map(|(m, r)| m - r)
            .collect();
        ReportRow {
            name: parts.name.into(),
            value,
            unit: Unit::PerRun.as_str().into(),
            baseline: parts.baseline.into(),
            baseline_value,
            ratio: baseline_value / value,
            target: Target::None.to_string(),
            met: None,
            stat: Stat::Median.as_str().into(),
            bytes: None,
            runs: Some(vnuma.samples.len()),
            value_range: Some([vnuma.min, vnuma.max]),
            baseline_range: Some(spread(&differences)),
            qemu: Some(QemuRuns {
                version: parts.version.into(),
                accel: parts.accel.into(),
                timed: parts.timed.into(),
                measured: parts.measured,
                reference: parts.reference,
                vnuma,
            }),
            notes: parts.notes,
            ratio_ci: None,
            ratio_ci_coverage: None,
        }
    }

    /// `e2e/numa-128-nodes`.
    pub(super) fn numa(
        helper: &Helper,
        counts: Counts,
        version: &str,
    ) -> Result<ReportRow, String> {
        let argv = helper.lines(&["argv", "largest"])?;
        let mut notes = Vec::new();
        // A first run of each kind checks that QEMU starts (and warms the
        // caches); its time is not kept.
        let mut accel = "tcg";
        if let Err(tcg) = qemu_once(accel, &argv) {
            if !kvm_usable() {
                return Err(format!(
                    "QEMU refuses the largest configuration under TCG ({tcg}) and /dev/kvm cannot be opened"
                ));
            }
            accel = "kvm";
            qemu_once(accel, &argv).map_err(|kvm| {
                format!("QEMU refuses the largest configuration: TCG: {tcg}; KVM: {kvm}")
            })?;
            notes.push(format!(
                "QEMU runs with -accel kvm: TCG refuses the configuration ({tcg})"
            ));
        }
        let mut reference = without_numa(&argv);
        if let Err(full) = qemu_once(accel, &reference) {
            let smaller = with_memory(&reference, REFERENCE_MEMORY);
            qemu_once(accel, &smaller).map_err(|small| {
                format!("QEMU refuses the configuration without -numa: {full}; with -m {REFERENCE_MEMORY}: {small}")
            })?;
            notes.push(format!(
                "QEMU's reference run (no -numa) uses -m {REFERENCE_MEMORY}: with -m 128G it maps all RAM as one pc.ram, which this host refuses ({full})"
            ));
            reference = smaller;
        }
        let (mut with, mut without) = (Vec::new(), Vec::new());
        for _ in 0..counts.numa_qemu {
            with.push(qemu_once(accel, &argv)?.exited);
            without.push(qemu_once(accel, &reference)?.exited);
        }
        let vnuma = helper.samples(&["numa", &counts.numa_vnuma.to_string()])?;
        Ok(row(Parts {
            name: "e2e/numa-128-nodes",
            baseline: "qemu: -numa − none",
            vnuma,
            version,
            accel,
            timed: "start to exit",
            measured: Runs::new("with -numa", with),
            reference: Runs::new("without -numa", without),
            notes,
        }))
    }

    /// `e2e/prealloc-2GiB`.
    pub(super) fn prealloc(
        helper: &Helper,
        counts: Counts,
        version: &str,
    ) -> Result<ReportRow, String> {
        let on = helper.lines(&["argv", "prealloc-on"])?;
        let off = helper.lines(&["argv", "prealloc-off"])?;
        let accel = "tcg";
        // Untimed rounds first: the first checks that QEMU starts; all
        // take the cost of the host handing memory back to this machine,
        // which whoever fills 2 GiB first after a pause pays.
        for _ in 0..counts.prealloc_warm_up {
            qemu_once(accel, &on)?;
            helper.samples(&["prealloc", "1"])?;
        }
        let (mut with, mut without, mut vnuma) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..counts.prealloc {
            for turn in 0..3 {
                match (i + turn) % 3 {
                    0 => with.push(qemu_once(accel, &on)?.answered),
                    1 => without.push(qemu_once(accel, &off)?.answered),
                    _ => vnuma.extend(helper.samples(&["prealloc", "1"])?),
                }
            }
        }
        Ok(row(Parts {
            name: "e2e/prealloc-2GiB",
            baseline: "qemu: prealloc=on − off",
            vnuma,
            version,
            accel,
            timed: "start to QMP answer",
            measured: Runs::new("prealloc=on", with),
            reference: Runs::new("prealloc=off", without),
            notes: Vec::new(),
        }))
    }
}

/// The end-to-end rows, and notes on what was skipped.
fn end_to_end(root: &Path, target: &Path, quick: bool) -> (Vec<ReportRow>, Vec<String>) {
    let mut notes = Vec::new();
    let Some(version) = e2e::qemu_version() else {
        notes.push(format!(
            "{} not found: the end-to-end rows against QEMU are skipped",
            e2e::QEMU
        ));
        return (Vec::new(), notes);
    };
    if !version.contains("version 7.2") {
        notes.push(format!(
            "the end-to-end rows compare with {version}, not QEMU 7.2"
        ));
    }
    let helper = match e2e::Helper::build(root, target) {
        Ok(h) => h,
        Err(e) => {
            notes.push(format!("end-to-end rows skipped: {e}"));
            return (Vec::new(), notes);
        }
    };
    let counts = e2e::Counts::new(quick);
    let mut rows = Vec::new();
    type Measure = fn(&e2e::Helper, e2e::Counts, &str) -> Result<ReportRow, String>;
    let measures: [(&str, Measure); 2] = [
        ("e2e/numa-128-nodes", e2e::numa),
        ("e2e/prealloc-2GiB", e2e::prealloc),
    ];
    for (name, measure) in measures {
        eprintln!("xtask: {name} against {}", e2e::QEMU);
        match measure(&helper, counts, &version) {
            Ok(row) => rows.push(row),
            Err(e) => notes.push(format!("{name} skipped: {e}")),
        }
    }
    (rows, notes)
}

/// Prints `cells` (a header row first) as a table with aligned columns.
fn print_table(cells: &[Vec<String>]) {
    let columns = cells.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            cells
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (i, row) in cells.iter().enumerate() {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| {
                let pad = w - cell.chars().count();
                format!("{cell}{}", " ".repeat(pad))
            })
            .collect();
        println!("{}", line.join("  ").trim_end());
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
            println!("{}", rule.join("  "));
        }
    }
}

/// The legend printed under the table.
const LEGEND: &[&str] = &[
    "Criterion rows: means (lookups per lookup), prealloc rows: medians; ratio = baseline / vnuma,",
    "bigger is better for vnuma.",
    "* parse: the baseline is one pass over the same argv finding every `,` and `=`, the",
    "  least any parser of the syntax does (ratio = scan / parse; ≥ 0.05: within 20× of it).",
    "* resolve: the baseline is parsing alone (ratio = parse time / the row's time).",
    "* tables-128-nodes: SRAT + SLIT + HMAT of the largest configuration, resolved beforehand;",
    "  the baseline clones the emitted tables, the least any emitter of those bytes does",
    "  (ratio = copy time / build time).",
    "* prealloc: 2 GiB per run, medians [min – max]; the baseline is mmap + the same THP advice",
    "  (MADV_HUGEPAGE, or MADV_NOHUGEPAGE for -nothp; MAP_HUGETLB for -hugetlb) +",
    "  MADV_POPULATE_WRITE with libc on the same number of threads, the kernel's limit. Paired:",
    "  each round runs vnuma and raw back to back; ratio = median over rounds of raw time / vnuma",
    "  time [95% confidence interval of that median, distribution-free]; target ≥ 0.95: met if",
    "  the interval's lower end is ≥ 0.95, NO if its upper end is < 0.95, else undecided.",
    "  control: raw against raw in the same pairing, which should straddle 1.",
    "* e2e (end to end against QEMU, whole processes): medians [min – max]; QEMU's figure is",
    "  its median with the option minus its median without, its range that of the paired",
    "  differences; ratio = QEMU / vnuma. numa-128-nodes: vnuma parses, resolves, lays out and",
    "  builds the ACPI tables of the largest argv in-process; QEMU starts with -S and quits over",
    "  QMP (start to exit). prealloc-2GiB: vnuma resolves and allocates a prealloc=on 2 GiB",
    "  memory-backend-ram; QEMU from start to QMP's answer, prealloc=on minus off.",
];

/// `n run(s)`.
fn runs(n: usize) -> String {
    format!("{n} run{}", if n == 1 { "" } else { "s" })
}

/// A ratio with three significant digits for small ones.
fn ratio_cell(ratio: f64) -> String {
    if ratio.abs() < 0.1 {
        format!("{ratio:.3}×")
    } else {
        format!("{ratio:.2}×")
    }
}

fn print_report(rows: &[ReportRow], notes: &[String]) {
    let mut cells = vec![[
        "benchmark",
        "vnuma",
        "baseline",
        "baseline value",
        "ratio",
        "target",
        "met",
    ]
    .map(String::from)
    .to_vec()];
    for r in rows {
        cells.push(vec![
            r.name.clone(),
            r.value_cell(),
            r.baseline.clone(),
            r.baseline_cell(),
            r.ratio_cell(),
            r.target.clone(),
            r.met_cell().into(),
        ]);
    }
    println!();
    print_table(&cells);
    println!();
    for line in LEGEND {
        println!("{line}");
    }
    for r in rows.iter().filter(|r| r.ratio_ci.is_some()) {
        for note in &r.notes {
            println!("{}: {note}", r.name);
        }
    }
    for r in rows {
        if let Some(q) = &r.qemu {
            println!();
            println!(
                "{}: {}, -accel {}, {} each ({}):",
                r.name,
                q.version,
                q.accel,
                runs(q.measured.samples.len()),
                q.timed
            );
            for set in [&q.measured, &q.reference] {
                println!(
                    "  {:<19} {} {}",
                    format!("QEMU {}", set.label),
                    Ns(set.median),
                    Range([set.min, set.max])
                );
            }
            println!(
                "  {:<19} {}",
                format!("vnuma, {}", runs(r.runs.unwrap_or(0))),
                r.value_cell()
            );
            for note in &r.notes {
                println!("  note: {note}");
            }
        }
    }
    for note in notes {
        println!();
        println!("note: {note}");
    }
}

/// Prints each figure's change against a saved report.
fn print_comparison(name: &str, saved: &[ReportRow], rows: &[ReportRow]) {
    let mut cells = vec![[
        "benchmark",
        "saved",
        "now",
        "change",
        "ratio saved",
        "ratio now",
    ]
    .map(String::from)
    .to_vec()];
    for r in rows {
        let old = saved
            .iter()
            .find(|s| s.name == r.name && s.baseline == r.baseline);
        let old_value = old.map(|s| s.value);
        let old_ratio = old.map(|s| s.ratio);
        cells.push(vec![
            r.name.clone(),
            old_value.map_or("—".into(), |v| Ns(v).to_string()),
            Ns(r.value).to_string(),
            old_value.filter(|&v| v > 0.0).map_or("—".into(), |v| {
                format!("{:+.1}%", (r.value / v - 1.0) * 100.0)
            }),
            old_ratio.map_or("—".into(), ratio_cell),
            ratio_cell(r.ratio),
        ]);
    }
    println!();
    println!("Against `{name}` (change of vnuma's figure: negative is faster):");
    print_table(&cells);
}

fn run_bench(options: &Options) -> Result<ExitCode, String> {
    let root = workspace_root();
    let target = target_dir(&root)?;
    let criterion = target.join("criterion");
    let saved_path = |name: &str| target.join(format!("vnuma-bench-{name}.json"));
    // Read the comparison first: it fails early, and `--save` with the
    // same name must not overwrite it before it is read.
    let compare = options
        .compare
        .as_deref()
        .map(|name| read_json::<Vec<ReportRow>>(&saved_path(name)).map(|rows| (name, rows)))
        .transpose()?;

    // File times have coarse granularity on some file systems.
    let since = SystemTime::now() - Duration::from_secs(2);
    let (e2e_rows, notes) = if options.prealloc {
        (Vec::new(), Vec::new())
    } else {
        for suite in SUITES.iter().filter(|s| !s.fills_memory) {
            run_criterion(&root, &criterion, suite, options.quick)?;
        }
        end_to_end(&root, &target, options.quick)
    };
    for suite in SUITES.iter().filter(|s| s.fills_memory) {
        run_criterion(&root, &criterion, suite, options.quick)?;
    }
    let prealloc_path = target.join("vnuma-prealloc.json");
    let fresh = std::fs::metadata(&prealloc_path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= since);
    if !fresh {
        return Err(format!(
            "{} was not written by this run",
            prealloc_path.display()
        ));
    }
    let (prealloc, prealloc_notes) = prealloc_rows(&read_json(&prealloc_path)?);
    let mut notes = notes;
    notes.extend(prealloc_notes);
    let mut rows = ROWS
        .iter()
        .filter(|_| !options.prealloc)
        .map(|row| {
            Ok(ReportRow::from_criterion(
                row,
                figure(&criterion, row.bench, row.stat, since)?,
                figure(&criterion, row.baseline, row.stat, since)?,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    rows.extend(prealloc);
    rows.extend(e2e_rows);
    print_report(&rows, &notes);

    let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())? + "\n";
    let report = target.join("vnuma-bench.json");
    std::fs::write(&report, &text).map_err(|e| format!("{}: {e}", report.display()))?;
    println!();
    println!("wrote {}", report.display());
    if let Some(name) = &options.save {
        let path = saved_path(name);
        std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("saved as {}", path.display());
    }
    if let Some((name, saved)) = compare {
        print_comparison(name, &saved, &rows);
    }

    let unmet: Vec<&str> = rows
        .iter()
        .filter(|r| r.met == Some(false))
        .map(|r| r.name.as_str())
        .collect();
    if !unmet.is_empty() {
        println!();
        println!("targets not met: {}", unmet.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// `cargo xtask bench` with the arguments after `bench`.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let options = match Options::parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("xtask bench: {e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match run_bench(&options) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask bench: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_string()).collect()
    }

    #[test]
    fn options() {
        let o = Options::parse(&args(&["--quick", "--save", "a", "--compare", "b"])).unwrap();
        assert!(o.quick);
        assert_eq!(o.save.as_deref(), Some("a"));
        assert_eq!(o.compare.as_deref(), Some("b"));
        assert!(Options::parse(&args(&["--save"])).is_err());
        assert!(Options::parse(&args(&["--save", "--quick"])).is_err());
        assert!(Options::parse(&args(&["--save", "../x"])).is_err());
        assert!(Options::parse(&args(&["--fast"])).is_err());
        assert!(Options::parse(&args(&["--prealloc"])).unwrap().prealloc);
        assert!(!o.prealloc);
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(Ns(12.345).to_string(), "12.3 ns");
        assert_eq!(Ns(1_500.0).to_string(), "1.50 µs");
        assert_eq!(Ns(250_000.0).to_string(), "250 µs");
        assert_eq!(Ns(3.2e6).to_string(), "3.20 ms");
        assert_eq!(Ns(-42e6).to_string(), "-42.0 ms");
        assert_eq!(Target::MaxNs(10e6).to_string(), "< 10.0 ms");
        assert_eq!(Target::MinRatio(20.0).to_string(), "≥ 20×");
        assert_eq!(Target::MinRatio(0.9).to_string(), "≥ 0.9×");
        assert_eq!(Range([1.5e6, 2.5e6]).to_string(), "[1.50 ms – 2.50 ms]");
        assert!((gib_per_s(2.0 * f64::from(1u32 << 30), 0.5e9) - 4.0).abs() < 1e-9);
        assert_eq!(ratio_cell(0.0114), "0.011×");
        assert_eq!(ratio_cell(69.93), "69.93×");
        assert_eq!(runs(1), "1 run");
        assert_eq!(runs(7), "7 runs");
    }

    #[test]
    fn targets() {
        assert_eq!(Target::MinRatio(20.0).met(10.0, 25.0), Some(true));
        assert_eq!(Target::MinRatio(1.0).met(10.0, 0.9), Some(false));
        assert_eq!(Target::MaxNs(10e6).met(9e6, 0.5), Some(true));
        assert_eq!(Target::MaxNs(10e6).met(11e6, 2.0), Some(false));
        assert_eq!(Target::None.met(1.0, 1.0), None);
    }

    #[test]
    fn rows_pair_benchmarks_of_one_group() {
        for row in ROWS {
            let group = |id: &str| id.split('/').next().unwrap().to_string();
            assert_eq!(group(row.bench), group(row.baseline), "{row:?}");
            assert_ne!(row.bench, row.baseline);
        }
    }

    #[test]
    fn every_row_comes_from_a_suite() {
        // Groups of `vnuma-benches` and of the backend's prealloc bench.
        let groups = [
            "lookup-4096",
            "lookup-4096-4k",
            "lookup-q35",
            "lookup-q35-4k",
            "parse",
            "resolve-128-nodes",
            "resolve-q35",
            "repeated-flags-1mb",
            "tables-128-nodes",
            "prealloc",
        ];
        for row in ROWS {
            let group = row.bench.split('/').next().unwrap();
            assert!(groups.contains(&group), "{row:?}");
        }
    }

    #[test]
    fn criterion_directories() {
        let c = Path::new("/c");
        assert_eq!(
            criterion_dir(c, "lookup-4096/vnuma"),
            Path::new("/c/lookup-4096/vnuma")
        );
        assert_eq!(
            criterion_dir(c, "prealloc/2GiB/vnuma-1t"),
            Path::new("/c/prealloc/2GiB_vnuma-1t")
        );
    }

    #[test]
    fn suites_run_what_the_issue_says() {
        let prealloc = &SUITES[1];
        assert_eq!(
            suite_args(prealloc, false).join(" "),
            "bench -p vnuma-backend --bench prealloc -- --noplot"
        );
        assert_eq!(
            suite_args(prealloc, true).join(" "),
            "bench -p vnuma-backend --bench prealloc -- --noplot --quick --nresamples 1000"
        );
        assert!(suite_args(&SUITES[0], false)
            .join(" ")
            .starts_with("bench -p vnuma-benches -- "));
    }

    #[test]
    fn medians_and_spreads() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(spread(&[3.0, -1.0, 2.0]), [-1.0, 3.0]);
        let runs = Runs::new("x", vec![5.0, 1.0, 3.0]);
        assert_eq!((runs.median, runs.min, runs.max), (3.0, 1.0, 5.0));
    }

    #[test]
    fn median_intervals_are_the_order_statistics_of_the_binomial() {
        let ints = |n: usize| (1..=n).map(|i| i as f64).rev().collect::<Vec<_>>();
        // n = 9: [x(2), x(8)], coverage 1 − 2·10/512.
        let ci = median_ci(&ints(9), 0.95).unwrap();
        assert_eq!((ci.lo, ci.hi), (2.0, 8.0));
        assert!((ci.coverage - (1.0 - 20.0 / 512.0)).abs() < 1e-12);
        // The textbook 95% intervals: n = 20 → [x(6), x(15)], n = 30 →
        // [x(10), x(21)], n = 40 → [x(14), x(27)].
        for (n, lo, hi) in [(20, 6.0, 15.0), (30, 10.0, 21.0), (40, 14.0, 27.0)] {
            let ci = median_ci(&ints(n), 0.95).unwrap();
            assert_eq!((ci.lo, ci.hi), (lo, hi), "n = {n}");
            assert!(ci.coverage >= 0.95 && ci.coverage < 0.97, "{ci:?}");
        }
        // n = 20, P(B ≤ 5) = 21700 / 2^20.
        let ci = median_ci(&ints(20), 0.95).unwrap();
        assert!((ci.coverage - (1.0 - 2.0 * 21700.0 / 1048576.0)).abs() < 1e-12);
        // Too few for 95%: min – max, with the coverage it has.
        let ci = median_ci(&[3.0, 1.0, 2.0, 5.0, 4.0], 0.95).unwrap();
        assert_eq!((ci.lo, ci.hi), (1.0, 5.0));
        assert!((ci.coverage - (1.0 - 2.0 / 32.0)).abs() < 1e-12);
        let ci = median_ci(&[7.0], 0.95).unwrap();
        assert_eq!((ci.lo, ci.hi, ci.coverage), (7.0, 7.0, 0.0));
        // Non-finite samples are dropped; none at all gives none.
        let ci = median_ci(&[f64::NAN, 1.0, f64::INFINITY, 2.0], 0.5).unwrap();
        assert_eq!((ci.lo, ci.hi), (1.0, 2.0));
        assert_eq!(median_ci(&[], 0.95), None);
        assert_eq!(median_ci(&[f64::NAN], 0.95), None);
        // Large n: no overflow, the interval narrows around the middle.
        let ci = median_ci(&ints(2001), 0.95).unwrap();
        assert!(
            ci.lo > 950.0 && ci.lo < 1001.0 && ci.hi > 1001.0 && ci.hi < 1052.0,
            "{ci:?}"
        );
    }

    #[test]
    fn verdicts_need_the_whole_interval() {
        let ci = |lo, hi| MedianCi {
            lo,
            hi,
            coverage: 0.95,
        };
        assert_eq!(verdict(&ci(0.95, 1.2), 0.95), Some(true));
        assert_eq!(verdict(&ci(0.80, 0.949), 0.95), Some(false));
        assert_eq!(verdict(&ci(0.90, 1.01), 0.95), None);
    }

    #[test]
    fn prealloc_rows_pair_the_rounds() {
        let text = r#"{"bytes": 2147483648, "rounds": 6, "notes": ["n"], "paired": true, "lead_in": true,
            "settle": "none",
            "samples_ns": {
              "prealloc/2GiB/vnuma-1t": [100, 100, 400, 100, 100, 100],
              "prealloc/2GiB/raw-1t":   [101, 102, 400, 103, 104, 105],
              "prealloc/2GiB/vnuma-2t": [100, 100, 100, 100, 100, 100],
              "prealloc/2GiB/raw-2t":   [80, 85, 90, 70, 400, 88],
              "prealloc/2GiB/vnuma-1t-nothp": [100, 100, 100, 100, 100, 100],
              "prealloc/2GiB/raw-1t-nothp":   [80, 120, 90, 110, 99, 101]},
            "vnuma_first": {"prealloc/2GiB/vnuma-1t": [true, false, true, false, true, false]}}"#;
        let report: PreallocReport = serde_json::from_str(text).unwrap();
        let (rows, notes) = prealloc_rows(&report);
        assert_eq!(rows.len(), 3);
        // Paired ratios 1.01 1.02 1 1.03 1.04 1.05: median 1.025, the
        // interval [1, 1.05] (n = 6, 96.9%), all ≥ 0.95: met.
        let r = &rows[0];
        assert!((r.ratio - 1.025).abs() < 1e-9, "{}", r.ratio);
        assert_eq!(r.ratio_ci, Some([1.0, 1.05]));
        assert_eq!(r.met, Some(true));
        assert_eq!(r.met_cell(), "yes");
        assert_eq!(r.ratio_cell(), "1.02× [1.00 – 1.05×]");
        assert_eq!(
            r.notes,
            ["median ratio with vnuma first 1.01× (3 runs), with raw first 1.03× (3 runs)"]
        );
        // Ratios 0.7 – 0.9 and one outlier (4.0): six rounds give only
        // min – max, which straddles the target: undecided.
        assert_eq!(rows[1].ratio_ci, Some([0.7, 4.0]));
        assert_eq!(rows[1].met, None);
        // An outlier on one side decides nothing: [0.8, 1.2] straddles.
        assert_eq!(rows[2].met, None);
        assert_eq!(rows[2].met_cell(), "undecided");
        assert!(notes
            .iter()
            .any(|n| n.contains("6 paired rounds") && n.contains("lead-in")));
        assert!(notes.iter().any(|n| n == "prealloc between runs: none"));

        // Enough rounds all below the target: not met.
        let v = vec![100.0; 12];
        let b: Vec<f64> = (0..12).map(|i| 80.0 + i as f64).collect();
        let report = PreallocReport {
            bytes: 1.0,
            rounds: 12,
            notes: Vec::new(),
            samples_ns: [
                ("prealloc/2GiB/vnuma-2t".to_string(), v),
                ("prealloc/2GiB/raw-2t".to_string(), b),
            ]
            .into(),
            paired: true,
            lead_in: false,
            settle: None,
            vnuma_first: Default::default(),
        };
        let (rows, _) = prealloc_rows(&report);
        assert_eq!(rows[0].met, Some(false));
        assert_eq!(rows[0].met_cell(), "NO");

        // Files of the unpaired bench: ratios of medians, no interval.
        let old = r#"{"bytes": 1, "rounds": 3, "notes": [], "samples_ns": {
            "prealloc/2GiB/vnuma-1t": [100, 200, 300], "prealloc/2GiB/raw-1t": [90, 190, 290]}}"#;
        let (rows, _) = prealloc_rows(&serde_json::from_str(old).unwrap());
        assert!((rows[0].ratio - 0.95).abs() < 1e-9);
        assert_eq!((rows[0].ratio_ci, rows[0].met), (None, Some(true)));
    }

    #[test]
    fn qemu_argv_variants() {
        let argv = args(&[
            "-m",
            "128G",
            "-object",
            "memory-backend-ram,id=m0,size=1G",
            "-numa",
            "node,memdev=m0",
            "-numa",
            "dist,src=0,dst=0,val=10",
            "-smp",
            "2",
        ]);
        let plain = e2e::without_numa(&argv);
        assert_eq!(
            plain,
            args(&[
                "-m",
                "128G",
                "-object",
                "memory-backend-ram,id=m0,size=1G",
                "-smp",
                "2"
            ])
        );
        assert_eq!(e2e::with_memory(&plain, "4G")[1], "4G");
        assert_eq!(e2e::with_memory(&plain, "4G")[2..], plain[2..]);
    }

    #[test]
    fn qemu_errors_skip_warnings() {
        let stderr = "qemu-system-x86_64: -accel kvm: warning: too many CPUs\n\
                      qemu-system-x86_64: cannot set up guest memory 'pc.ram': Cannot allocate memory\n";
        assert_eq!(
            e2e::first_error(stderr),
            "cannot set up guest memory 'pc.ram': Cannot allocate memory"
        );
        assert_eq!(
            e2e::first_error("qemu-system-x86_64: warning: only this\n"),
            "warning: only this"
        );
        assert_eq!(e2e::first_error(""), "no message");
    }

    #[test]
    fn qemu_runs_when_installed() {
        if e2e::qemu_version().is_none() {
            return;
        }
        let t = e2e::qemu_once("tcg", &args(&["-m", "128M"])).unwrap();
        assert!(0.0 < t.answered && t.answered <= t.exited);
        let e = e2e::qemu_once("tcg", &args(&["-M", "no-such-machine"])).unwrap_err();
        assert!(e.contains("unsupported machine type"), "{e}");
    }

    #[test]
    fn reports_load_old_and_new_rows() {
        // A row as reports before the optional fields wrote it.
        let old = r#"[{"name":"lookup-4096/vnuma","value":30.9,"unit":"ns/lookup",
            "baseline":"lookup-4096/seed","baseline_value":2143.4,"ratio":69.3,
            "target":"≥ 20×","met":true}]"#;
        let rows: Vec<ReportRow> = serde_json::from_str(old).unwrap();
        assert_eq!(rows[0].stat, "mean");
        assert!(rows[0].qemu.is_none() && rows[0].notes.is_empty());

        let row = Row {
            bench: "prealloc/2GiB/vnuma-1t",
            baseline: "prealloc/2GiB/raw-populate",
            unit: Unit::FillRun,
            stat: Stat::Median,
            target: Target::MinRatio(0.9),
        };
        let bytes = Some(f64::from(1u32 << 31));
        let r = ReportRow::from_criterion(
            &row,
            Figure { ns: 400e6, bytes },
            Figure { ns: 380e6, bytes },
        );
        assert_eq!(r.met, Some(true));
        assert!((r.ratio - 0.95).abs() < 1e-9);
        assert_eq!(r.value_cell(), "400 ms (5.00 GiB/s)");
        let text = serde_json::to_string(&[&r]).unwrap();
        assert!(text.contains(r#""stat":"median""#), "{text}");
        assert!(!text.contains("qemu"), "{text}");
        let back: Vec<ReportRow> = serde_json::from_str(&text).unwrap();
        assert_eq!(back[0].bytes, bytes);
    }
}
