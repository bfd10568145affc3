//! `cargo xtask bench [--quick] [--save NAME] [--compare NAME]`: run the
//! criterion benchmarks of `vnuma-benches`, pair each vnuma figure with
//! its baseline, and report them against the project's targets.
//!
//! * Runs `cargo bench -p vnuma-benches` (with `--quick`: short warm-up
//!   and measurement, few samples, so every benchmark runs once, briefly).
//! * Reads criterion's estimates (`<target>/criterion/<group>/<bench>/new/
//!   estimates.json`, the mean, divided by the benchmark's element count
//!   when it declares a throughput, so lookups are per lookup).
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
use std::time::SystemTime;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Criterion arguments for every run: no plots (the plotting backends
/// are not compiled in).
const CRITERION_ARGS: &[&str] = &["--noplot"];

/// Criterion arguments added by `--quick`: each benchmark runs about half
/// a second, with a small bootstrap.
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

/// The benchmark package.
const PACKAGE: &str = "vnuma-benches";

/// What a figure measures.
#[derive(Clone, Copy, Debug)]
enum Unit {
    /// Nanoseconds per address lookup.
    PerLookup,
    /// Nanoseconds per run of the benchmarked routine.
    PerRun,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::PerLookup => "ns/lookup",
            Unit::PerRun => "ns",
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
/// with, and the target. Ids are criterion's `group/function`.
#[derive(Clone, Copy, Debug)]
struct Row {
    bench: &'static str,
    baseline: &'static str,
    unit: Unit,
    target: Target,
}

/// The rows, in report order. The targets are the issue's: ≥ 20× the
/// seed's scan at 4096 ranges, no slower than vm-memory, the largest
/// configuration resolved in the low milliseconds (< 5 ms for resolution
/// of the parsed command line; parse + resolve is reported alongside).
/// The resolve rows' baseline is parsing alone, so their ratio compares
/// the two (for `resolve-only`: parse time / resolve time).
const ROWS: &[Row] = &[
    Row {
        bench: "lookup-4096/vnuma",
        baseline: "lookup-4096/seed",
        unit: Unit::PerLookup,
        target: Target::MinRatio(20.0),
    },
    Row {
        bench: "lookup-4096-4k/vnuma",
        baseline: "lookup-4096-4k/vm-memory",
        unit: Unit::PerLookup,
        target: Target::MinRatio(1.0),
    },
    Row {
        bench: "lookup-q35/vnuma",
        baseline: "lookup-q35/seed",
        unit: Unit::PerLookup,
        target: Target::None,
    },
    Row {
        bench: "lookup-q35-4k/vnuma",
        baseline: "lookup-q35-4k/vm-memory",
        unit: Unit::PerLookup,
        target: Target::MinRatio(1.0),
    },
    Row {
        bench: "resolve-128-nodes/resolve-only",
        baseline: "resolve-128-nodes/parse",
        unit: Unit::PerRun,
        target: Target::MaxNs(5e6),
    },
    Row {
        bench: "resolve-128-nodes/resolve",
        baseline: "resolve-128-nodes/parse",
        unit: Unit::PerRun,
        target: Target::None,
    },
    Row {
        bench: "resolve-q35/resolve",
        baseline: "resolve-q35/parse",
        unit: Unit::PerRun,
        target: Target::None,
    },
];

/// A duration in nanoseconds, shown with a readable unit.
struct Ns(f64);

impl fmt::Display for Ns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        let (value, unit) = if ns < 1e3 {
            (ns, "ns")
        } else if ns < 1e6 {
            (ns / 1e3, "µs")
        } else if ns < 1e9 {
            (ns / 1e6, "ms")
        } else {
            (ns / 1e9, "s")
        };
        let digits = if value < 10.0 {
            2
        } else if value < 100.0 {
            1
        } else {
            0
        };
        write!(f, "{value:.digits$} {unit}")
    }
}

/// The command-line options.
#[derive(Debug, Default)]
struct Options {
    quick: bool,
    save: Option<String>,
    compare: Option<String>,
}

const USAGE: &str = "usage: cargo xtask bench [--quick] [--save NAME] [--compare NAME]";

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

/// A row with its figures.
#[derive(Debug)]
struct Measured {
    row: Row,
    value: f64,
    baseline_value: f64,
}

impl Measured {
    fn ratio(&self) -> f64 {
        self.baseline_value / self.value
    }

    fn met(&self) -> Option<bool> {
        self.row.target.met(self.value, self.ratio())
    }

    fn report(&self) -> ReportRow {
        ReportRow {
            name: self.row.bench.into(),
            value: self.value,
            unit: self.row.unit.as_str().into(),
            baseline: self.row.baseline.into(),
            baseline_value: self.baseline_value,
            ratio: self.ratio(),
            target: self.row.target.to_string(),
            met: self.met(),
        }
    }
}

/// One row of `vnuma-bench.json`, in the order the fields are written.
#[derive(Debug, Serialize, Deserialize)]
struct ReportRow {
    /// The vnuma benchmark (`group/function`).
    name: String,
    /// Its mean, in `unit`.
    value: f64,
    /// `ns/lookup` or `ns` (per run).
    unit: String,
    /// The baseline benchmark.
    baseline: String,
    /// The baseline's mean, in `unit`.
    baseline_value: f64,
    /// `baseline_value / value`.
    ratio: f64,
    /// The target, as the table shows it (`—` for none).
    target: String,
    /// Whether the target is met (`null` without a target).
    met: Option<bool>,
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

/// The mean of benchmark `id` in ns, per element if the benchmark
/// declares an element throughput. Results older than `since` are stale
/// (the benchmark did not run this time) and refused.
fn figure(criterion: &Path, id: &str, since: SystemTime) -> Result<f64, String> {
    let dir = criterion.join(id).join("new");
    let estimates = dir.join("estimates.json");
    let modified = std::fs::metadata(&estimates)
        .and_then(|m| m.modified())
        .map_err(|e| format!("no result for {id} ({}: {e})", estimates.display()))?;
    if modified < since {
        return Err(format!(
            "{id} did not run (its result is from an earlier run)"
        ));
    }
    let mean = read_json::<Value>(&estimates)?["mean"]["point_estimate"]
        .as_f64()
        .ok_or_else(|| format!("{}: no mean.point_estimate", estimates.display()))?;
    let benchmark: Value = read_json(&dir.join("benchmark.json"))?;
    let elements = benchmark["throughput"]["Elements"].as_f64().unwrap_or(1.0);
    Ok(mean / elements.max(1.0))
}

/// Runs criterion; `Err` if cargo could not run or a benchmark failed.
fn run_criterion(root: &Path, criterion: &Path, quick: bool) -> Result<(), String> {
    let mut args = vec!["bench", "-p", PACKAGE, "--"];
    args.extend_from_slice(CRITERION_ARGS);
    if quick {
        args.extend_from_slice(QUICK_ARGS);
    }
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
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
            println!("{}", rule.join("  "));
        }
    }
}

fn print_report(measured: &[Measured]) {
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
    for m in measured {
        cells.push(vec![
            m.row.bench.to_string(),
            Ns(m.value).to_string(),
            m.row.baseline.to_string(),
            Ns(m.baseline_value).to_string(),
            format!("{:.2}×", m.ratio()),
            m.row.target.to_string(),
            match m.met() {
                None => "—".into(),
                Some(true) => "yes".into(),
                Some(false) => "NO".into(),
            },
        ]);
    }
    println!();
    print_table(&cells);
    println!();
    println!(
        "Lookup figures are per lookup; ratio = baseline / vnuma (bigger is better for vnuma);"
    );
    println!("the resolve rows' baseline is parsing alone (ratio = parse time / the row's time).");
}

/// Prints each figure's change against a saved report.
fn print_comparison(name: &str, saved: &[ReportRow], measured: &[Measured]) {
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
    for m in measured {
        let old = saved.iter().find(|r| r.name == m.row.bench);
        let old_value = old.map(|r| r.value);
        let old_ratio = old.map(|r| r.ratio);
        cells.push(vec![
            m.row.bench.to_string(),
            old_value.map_or("—".into(), |v| Ns(v).to_string()),
            Ns(m.value).to_string(),
            old_value.filter(|&v| v > 0.0).map_or("—".into(), |v| {
                format!("{:+.1}%", (m.value / v - 1.0) * 100.0)
            }),
            old_ratio.map_or("—".into(), |r| format!("{r:.2}×")),
            format!("{:.2}×", m.ratio()),
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
    let since = SystemTime::now() - std::time::Duration::from_secs(2);
    run_criterion(&root, &criterion, options.quick)?;

    let measured = ROWS
        .iter()
        .map(|&row| {
            Ok(Measured {
                row,
                value: figure(&criterion, row.bench, since)?,
                baseline_value: figure(&criterion, row.baseline, since)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    print_report(&measured);

    let rows: Vec<ReportRow> = measured.iter().map(Measured::report).collect();
    let text = serde_json::to_string_pretty(&rows).map_err(|e| e.to_string())? + "\n";
    let report = target.join("vnuma-bench.json");
    std::fs::write(&report, &text).map_err(|e| format!("{}: {e}", report.display()))?;
    println!("wrote {}", report.display());
    if let Some(name) = &options.save {
        let path = saved_path(name);
        std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("saved as {}", path.display());
    }
    if let Some((name, saved)) = compare {
        print_comparison(name, &saved, &measured);
    }

    let unmet: Vec<&str> = measured
        .iter()
        .filter(|m| m.met() == Some(false))
        .map(|m| m.row.bench)
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
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(Ns(12.345).to_string(), "12.3 ns");
        assert_eq!(Ns(1_500.0).to_string(), "1.50 µs");
        assert_eq!(Ns(250_000.0).to_string(), "250 µs");
        assert_eq!(Ns(3.2e6).to_string(), "3.20 ms");
        assert_eq!(Target::MaxNs(10e6).to_string(), "< 10.0 ms");
        assert_eq!(Target::MinRatio(20.0).to_string(), "≥ 20×");
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
}
