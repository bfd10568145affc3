//! `cargo xtask fuzz run <target> [--time S] [--sanitizer address|none]`,
//! `cargo xtask fuzz smoke`, `cargo xtask fuzz cmin <target>`,
//! `cargo xtask fuzz coverage [target]`, `cargo xtask fuzz list`.
//!
//! Runs the targets in `fuzz/` with cargo-fuzz (libFuzzer) on the nightly
//! toolchain, installing cargo-fuzz (and for `coverage` the nightly
//! `llvm-tools`) when missing.
//!
//! Corpora: `fuzz/corpus/<target>/` is the small minimized corpus kept in
//! git (seeds for every run, for `cargo test`'s `fuzz/tests/corpus.rs`
//! and for `coverage`); a run writes what it finds to
//! `<target dir>/fuzz-corpus/<target>/` (not committed), with the
//! readable seeds of `fuzz/seeds/<target>/` materialized there first for
//! the targets that take raw bytes. `cmin` merges both into a minimized
//! `fuzz/corpus/<target>/` (libFuzzer's `-set_cover_merge=1`: the
//! fewest inputs with the same features).
//!
//! Sanitizer: AddressSanitizer by default (the backend target runs
//! vnuma-backend's unsafe code); `--sanitizer none` runs the safe targets
//! at full speed. Only the raw-byte `options` target is built with
//! comparison tracing; the structure-aware ones run about 1.5 times as
//! fast without it (`run` only: `smoke` keeps one build for every target).
//!
//! `coverage` builds the targets with coverage instrumentation, runs each
//! over its committed corpus, merges the profiles and reports line
//! coverage per library crate (`llvm-cov export`): a table, and
//! `<target dir>/fuzz-coverage.json` as `{"crate": {"lines": N,
//! "covered": M}}`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The fuzz targets, and whether their seeds are raw-byte inputs.
const TARGETS: &[(&str, bool)] = &[
    ("options", true),
    ("pipeline", false),
    ("swarm", false),
    ("ranges", false),
    ("description", false),
    ("backend", false),
];

/// Seconds each target runs in `smoke`.
const SMOKE_SECONDS: u64 = 20;

/// The crates whose coverage `coverage` reports (their `src/` lines).
const COVERED_CRATES: &[&str] = &[
    "vnuma-options",
    "vnuma-ranges",
    "vnuma-topology",
    "vnuma-tables",
    "vnuma-backend",
    "vnuma",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Cargo's target directory (`CARGO_TARGET_DIR` or `<root>/target`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: {cmd:?}");
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{cmd:?} failed ({s})")),
        Err(e) => Err(format!("cannot run {cmd:?}: {e}")),
    }
}

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn ensure_tools() -> Result<(), String> {
    if !succeeds("cargo", &["+nightly", "--version"]) {
        run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))?;
    }
    if !succeeds("cargo", &["+nightly", "fuzz", "--version"]) {
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    Ok(())
}

/// The committed corpus of `target`.
fn committed_corpus(target: &str) -> PathBuf {
    root().join("fuzz").join("corpus").join(target)
}

/// The working corpus of `target` (created), with the readable seeds of
/// a raw-bytes target written into it as corpus files: mode byte 0 (one
/// option text) and 1 (an argv, arguments separated by NUL).
fn working_corpus(target: &str, raw_seeds: bool) -> Result<PathBuf, String> {
    let corpus = target_dir().join("fuzz-corpus").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
    if !raw_seeds {
        return Ok(corpus);
    }
    let seeds = root().join("fuzz").join("seeds").join(target);
    let Ok(entries) = std::fs::read_dir(&seeds) else {
        return Ok(corpus);
    };
    let mut n = 0;
    for entry in entries.flatten() {
        let text = std::fs::read_to_string(entry.path()).map_err(|e| e.to_string())?;
        for line in text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            for (mode, body) in [
                (0u8, line.to_string()),
                (1u8, line.split_whitespace().collect::<Vec<_>>().join("\0")),
            ] {
                let mut data = vec![mode];
                data.extend_from_slice(body.as_bytes());
                std::fs::write(corpus.join(format!("seed-{n}")), data)
                    .map_err(|e| e.to_string())?;
                n += 1;
            }
        }
    }
    Ok(corpus)
}

fn raw_seeds(target: &str) -> Result<bool, String> {
    TARGETS
        .iter()
        .find(|(t, _)| *t == target)
        .map(|&(_, raw)| raw)
        .ok_or_else(|| format!("unknown fuzz target `{target}` (targets: {})", names()))
}

/// `cargo +nightly fuzz <sub> --fuzz-dir fuzz --features libfuzzer`.
fn cargo_fuzz(sub: &str, sanitizer: &str) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root()).args([
        "+nightly",
        "fuzz",
        sub,
        "--fuzz-dir",
        "fuzz",
        "--features",
        "libfuzzer",
        "--sanitizer",
        sanitizer,
    ]);
    cmd
}

/// Fuzz `target` for `seconds`. `fast`: build the structure-aware targets
/// without comparison tracing (`run`); `smoke` keeps one build for all.
fn fuzz_run(target: &str, seconds: u64, sanitizer: &str, fast: bool) -> Result<(), String> {
    let raw = raw_seeds(target)?;
    ensure_tools()?;
    let corpus = working_corpus(target, raw)?;
    let committed = committed_corpus(target);
    let mut cmd = cargo_fuzz("run", sanitizer);
    if fast && !raw {
        // Structure-aware targets draw their values through `arbitrary`,
        // so comparison tracing (which helps libFuzzer guess the bytes a
        // raw-byte parser compares against) buys little and costs about
        // a third of each execution.
        cmd.arg("--no-trace-compares");
    }
    cmd.arg(target).arg(&corpus);
    if committed.is_dir() {
        cmd.arg(&committed);
    }
    let regressions = root().join("fuzz").join("regressions").join(target);
    if regressions.is_dir() {
        cmd.arg(&regressions);
    }
    cmd.args([
        "--",
        &format!("-max_total_time={seconds}"),
        "-print_final_stats=1",
        "-max_len=4096",
    ]);
    if fast && !raw && sanitizer == "none" {
        // The speed mode: libFuzzer's own bookkeeping dominates a run of
        // these oracles (collecting hit-count features over every
        // counter, then trying to shrink inputs that hit the same ones).
        // Edges alone, and no shrinking, take the pipeline target from
        // about 11,000 to 21,000 runs a second on one core here; `cmin`
        // minimizes by edges as well.
        cmd.args(["-use_counters=0", "-reduce_inputs=0"]);
    }
    run(&mut cmd)
}

/// Merge the working corpus and the committed one into a minimized
/// committed corpus.
fn fuzz_cmin(target: &str) -> Result<(), String> {
    let raw = raw_seeds(target)?;
    ensure_tools()?;
    let corpus = working_corpus(target, raw)?;
    let committed = committed_corpus(target);
    let merged = target_dir().join("fuzz-cmin").join(target);
    let _ = std::fs::remove_dir_all(&merged);
    std::fs::create_dir_all(&merged).map_err(|e| format!("{}: {e}", merged.display()))?;
    let mut cmd = cargo_fuzz("run", "none");
    if !raw {
        // The same build as `run`'s (see there).
        cmd.arg("--no-trace-compares");
    }
    cmd.arg(target).arg(&merged).arg(&corpus);
    if committed.is_dir() {
        cmd.arg(&committed);
    }
    // By edges, not hit counts: a corpus a third the size with the same
    // lines covered (see `fuzz_run`).
    run(cmd.args([
        "--",
        "-set_cover_merge=1",
        "-use_counters=0",
        "-max_len=4096",
    ]))?;
    let _ = std::fs::remove_dir_all(&committed);
    std::fs::create_dir_all(&committed).map_err(|e| format!("{}: {e}", committed.display()))?;
    let mut n = 0;
    for entry in std::fs::read_dir(&merged).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        std::fs::copy(entry.path(), committed.join(entry.file_name()))
            .map_err(|e| e.to_string())?;
        n += 1;
    }
    eprintln!("xtask: {n} inputs in {}", committed.display());
    Ok(())
}

/// The nightly toolchain's `llvm-tools` binary `name`, installing the
/// component when missing.
fn llvm_tool(name: &str) -> Result<PathBuf, String> {
    let find = || -> Option<PathBuf> {
        let out = Command::new("rustc")
            .args(["+nightly", "--print", "sysroot"])
            .output()
            .ok()?;
        let sysroot = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let rustlib = sysroot.join("lib").join("rustlib");
        std::fs::read_dir(&rustlib)
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin").join(name))
            .find(|p| p.is_file())
    };
    if let Some(p) = find() {
        return Ok(p);
    }
    run(Command::new("rustup").args(["component", "add", "llvm-tools", "--toolchain", "nightly"]))?;
    find().ok_or_else(|| format!("{name} not found in the nightly toolchain's llvm-tools"))
}

/// The crate a source file belongs to (`crates/<name>/src/...`).
fn crate_of(file: &str) -> Option<&str> {
    let rest = &file[file.rfind("/crates/")? + "/crates/".len()..];
    let (name, path) = rest.split_once('/')?;
    path.starts_with("src/").then_some(name)
}

/// Lines and covered lines per crate from `llvm-cov export -summary-only`.
fn coverage_by_crate(export: &serde_json::Value) -> BTreeMap<String, (u64, u64)> {
    let mut out = BTreeMap::new();
    let files = export["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["files"].as_array())
        .flatten();
    for f in files {
        let Some(name) = f["filename"].as_str().and_then(crate_of) else {
            continue;
        };
        if !COVERED_CRATES.contains(&name) {
            continue;
        }
        let lines = &f["summary"]["lines"];
        let e = out.entry(name.to_string()).or_insert((0, 0));
        e.0 += lines["count"].as_u64().unwrap_or(0);
        e.1 += lines["covered"].as_u64().unwrap_or(0);
    }
    out
}

fn fuzz_coverage(only: Option<&str>) -> Result<(), String> {
    let targets: Vec<&str> = match only {
        Some(t) => {
            raw_seeds(t)?;
            vec![t]
        }
        None => TARGETS.iter().map(|(t, _)| *t).collect(),
    };
    ensure_tools()?;
    let profdata_tool = llvm_tool("llvm-profdata")?;
    let cov_tool = llvm_tool("llvm-cov")?;
    let mut profiles = Vec::new();
    let mut binaries = Vec::new();
    for t in &targets {
        let corpus = committed_corpus(t);
        if !corpus.is_dir() {
            return Err(format!("no committed corpus {}", corpus.display()));
        }
        let mut cmd = Command::new("cargo");
        cmd.current_dir(root()).args([
            "+nightly",
            "fuzz",
            "coverage",
            "--fuzz-dir",
            "fuzz",
            "--features",
            "libfuzzer",
            t,
        ]);
        run(cmd.arg(&corpus))?;
        profiles.push(
            root()
                .join("fuzz")
                .join("coverage")
                .join(t)
                .join("coverage.profdata"),
        );
        binaries.push(find_coverage_binary(t)?);
    }
    let merged = target_dir().join("fuzz-coverage.profdata");
    run(Command::new(&profdata_tool)
        .args(["merge", "-sparse", "-o"])
        .arg(&merged)
        .args(&profiles))?;
    let mut cmd = Command::new(&cov_tool);
    cmd.args(["export", "-summary-only", "-format=text"])
        .arg(format!("-instr-profile={}", merged.display()))
        .arg(&binaries[0]);
    for b in &binaries[1..] {
        cmd.arg("-object").arg(b);
    }
    eprintln!("xtask: {cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run llvm-cov: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "llvm-cov failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let export: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("llvm-cov output: {e}"))?;
    let by_crate = coverage_by_crate(&export);
    let json: BTreeMap<&str, serde_json::Value> = by_crate
        .iter()
        .map(|(k, &(lines, covered))| {
            (
                k.as_str(),
                serde_json::json!({ "lines": lines, "covered": covered }),
            )
        })
        .collect();
    let path = target_dir().join("fuzz-coverage.json");
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n";
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!(
        "line coverage from the committed corpora of: {}",
        targets.join(", ")
    );
    println!("{:<16} {:>7} {:>8} {:>7}", "crate", "lines", "covered", "%");
    for (name, (lines, covered)) in &by_crate {
        let pct = if *lines == 0 {
            0.0
        } else {
            100.0 * *covered as f64 / *lines as f64
        };
        println!("{name:<16} {lines:>7} {covered:>8} {pct:>6.1}%");
    }
    println!("wrote {}", path.display());
    Ok(())
}

/// The coverage-instrumented binary of `target` that `cargo fuzz
/// coverage` built (`<target dir>/<triple>/coverage/<triple>/release/`).
fn find_coverage_binary(target: &str) -> Result<PathBuf, String> {
    let base = target_dir();
    for triple in std::fs::read_dir(&base)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let cov = triple.path().join("coverage");
        let Ok(inner) = std::fs::read_dir(&cov) else {
            continue;
        };
        for t in inner.flatten() {
            let bin = t.path().join("release").join(target);
            if bin.is_file() {
                return Ok(bin);
            }
        }
    }
    Err(format!(
        "no coverage binary for {target} under {}",
        base.display()
    ))
}

fn names() -> String {
    TARGETS
        .iter()
        .map(|(t, _)| *t)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The value after `flag` in `args`, if the flag is there.
fn flag_value<'a>(args: &'a [String], flag: &str) -> Result<Option<&'a str>, String> {
    match args.iter().position(|a| a == flag) {
        Some(i) => args
            .get(i + 1)
            .map(|s| Some(s.as_str()))
            .ok_or_else(|| format!("{flag} needs a value")),
        None => Ok(None),
    }
}

fn usage() -> String {
    format!(
        "usage: cargo xtask fuzz run <target> [--time S] [--sanitizer address|none] | smoke | cmin <target> | coverage [target] | list  (targets: {})",
        names()
    )
}

fn dispatch(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("run") => {
            let target = args.get(1).ok_or_else(usage)?;
            let seconds = match flag_value(args, "--time")? {
                Some(s) => s
                    .parse()
                    .map_err(|_| "--time needs a number of seconds".to_string())?,
                None => 60,
            };
            let sanitizer = flag_value(args, "--sanitizer")?.unwrap_or("address");
            if !matches!(sanitizer, "address" | "none") {
                return Err(format!("--sanitizer {sanitizer}: address or none"));
            }
            fuzz_run(target, seconds, sanitizer, true)
        }
        Some("smoke") => TARGETS
            .iter()
            .try_for_each(|(t, _)| fuzz_run(t, SMOKE_SECONDS, "address", false)),
        Some("cmin") => fuzz_cmin(args.get(1).ok_or_else(usage)?),
        Some("coverage") => fuzz_coverage(args.get(1).map(String::as_str)),
        Some("list") => {
            println!("{}", names());
            Ok(())
        }
        _ => Err(usage()),
    }
}

/// Entry point: `args` are the words after `fuzz`.
pub(crate) fn main(args: &[String]) -> ExitCode {
    match dispatch(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_of_source_files() {
        assert_eq!(
            crate_of("/w/crates/vnuma-options/src/grammar.rs"),
            Some("vnuma-options")
        );
        assert_eq!(crate_of("/w/crates/vnuma/tests/x.rs"), None);
        assert_eq!(crate_of("/w/fuzz/src/pipeline.rs"), None);
    }

    #[test]
    fn coverage_is_summed_per_crate() {
        let export = serde_json::json!({"data": [{"files": [
            {"filename": "/w/crates/vnuma-ranges/src/lib.rs",
             "summary": {"lines": {"count": 10, "covered": 7}}},
            {"filename": "/w/crates/vnuma-ranges/src/map.rs",
             "summary": {"lines": {"count": 5, "covered": 5}}},
            {"filename": "/w/fuzz/src/ranges.rs",
             "summary": {"lines": {"count": 50, "covered": 50}}}
        ]}]});
        let by = coverage_by_crate(&export);
        assert_eq!(by.get("vnuma-ranges"), Some(&(15, 12)));
        assert_eq!(by.len(), 1);
    }

    #[test]
    fn every_target_has_a_committed_corpus() {
        for (t, _) in TARGETS {
            let dir = committed_corpus(t);
            let n = std::fs::read_dir(&dir).map_or(0, |d| d.count());
            assert!(n > 0, "{} is empty", dir.display());
        }
    }
}
