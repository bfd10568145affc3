//! `cargo xtask fuzz run <target> [--time S]`, `cargo xtask fuzz smoke`,
//! `cargo xtask fuzz list`.
//!
//! Runs the targets in `fuzz/` with cargo-fuzz (libFuzzer, AddressSanitizer)
//! on the nightly toolchain, installing cargo-fuzz when it is missing. The
//! readable seeds in `fuzz/seeds/<target>/` are turned into corpus files
//! first (one input a line) for the targets that take raw bytes.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The fuzz targets, and whether their seeds are raw-byte inputs.
const TARGETS: &[(&str, bool)] = &[
    ("options", true),
    ("pipeline", false),
    ("ranges", false),
    ("backend", false),
];

/// Seconds each target runs in `smoke`.
const SMOKE_SECONDS: u64 = 20;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("xtask: {cmd:?}");
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("{cmd:?} failed ({s})")),
        Err(e) => Err(format!("cannot run {cmd:?}: {e}")),
    }
}

fn ensure_tools() -> Result<(), String> {
    let nightly = Command::new("cargo")
        .args(["+nightly", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !nightly {
        run(Command::new("rustup").args([
            "toolchain",
            "install",
            "nightly",
            "--profile",
            "minimal",
        ]))?;
    }
    let have_fuzz = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !have_fuzz {
        run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    Ok(())
}

/// Write each seed line of a raw-bytes target as a corpus file: mode byte
/// 0 (one option text) and 1 (an argv, arguments separated by NUL).
fn materialize_seeds(target: &str) -> Result<PathBuf, String> {
    let corpus = root().join("fuzz").join("corpus").join(target);
    std::fs::create_dir_all(&corpus).map_err(|e| format!("{}: {e}", corpus.display()))?;
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

fn fuzz_run(target: &str, seconds: u64) -> Result<(), String> {
    let Some(&(_, raw_seeds)) = TARGETS.iter().find(|(t, _)| *t == target) else {
        return Err(format!(
            "unknown fuzz target `{target}` (targets: {})",
            names()
        ));
    };
    ensure_tools()?;
    let corpus = if raw_seeds {
        materialize_seeds(target)?
    } else {
        let c = root().join("fuzz").join("corpus").join(target);
        std::fs::create_dir_all(&c).map_err(|e| e.to_string())?;
        c
    };
    run(Command::new("cargo")
        .current_dir(root())
        .args([
            "+nightly",
            "fuzz",
            "run",
            "--fuzz-dir",
            "fuzz",
            "--features",
            "libfuzzer",
            target,
        ])
        .arg(&corpus)
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-print_final_stats=1",
            "-max_len=4096",
        ]))
}

fn names() -> String {
    TARGETS
        .iter()
        .map(|(t, _)| *t)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Entry point: `args` are the words after `fuzz`.
pub(crate) fn main(args: &[String]) -> ExitCode {
    let result = match args.first().map(String::as_str) {
        Some("run") => {
            let Some(target) = args.get(1) else {
                eprintln!(
                    "usage: cargo xtask fuzz run <target> [--time SECONDS]  (targets: {})",
                    names()
                );
                return ExitCode::FAILURE;
            };
            let seconds = match args.iter().position(|a| a == "--time") {
                Some(i) => match args.get(i + 1).and_then(|s| s.parse().ok()) {
                    Some(s) => s,
                    None => {
                        eprintln!("--time needs a number of seconds");
                        return ExitCode::FAILURE;
                    }
                },
                None => 60,
            };
            fuzz_run(target, seconds)
        }
        Some("smoke") => TARGETS
            .iter()
            .try_for_each(|(t, _)| fuzz_run(t, SMOKE_SECONDS)),
        Some("list") => {
            println!("{}", names());
            Ok(())
        }
        _ => Err(format!(
            "usage: cargo xtask fuzz run <target> [--time S] | smoke | list  (targets: {})",
            names()
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}
