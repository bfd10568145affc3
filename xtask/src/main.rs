//! `cargo xtask <command>`: project automation that needs nothing but
//! cargo.
//!
//! * `ci`: the checks `.ci/run` makes (format, clippy, tests, docs).
//! * `bench [--quick] [--prealloc] [--save NAME] [--compare NAME]`: the benchmarks,
//!   each vnuma figure against its baseline and target (see `bench.rs`).
//! * `fuzz run <target> [--time S] [--sanitizer address|none] | smoke |
//!   cmin <target> | coverage [target] | list`: the cargo-fuzz targets in
//!   `fuzz/`, their committed corpora and their coverage (see `fuzz.rs`).
//! * `qemu-diff [--corpus options|topology|tables|devices|virt|all|FILE] [--update]
//!   [--only ID,...] [--generate N --seed S] [--qemu PATH]`: every case
//!   through QEMU 7.2 or 10.0 (the binary's version picks vnuma's profile
//!   and the `qemu72`/`qemu100` folder; `virt` runs under
//!   `qemu-system-aarch64`) and vnuma, disagreements
//!   reported; `--update` captures the golden
//!   data (see `qemu_diff.rs`; the QEMU side is `vnuma-qemu-harness`).

mod bench;
mod fuzz;
mod qemu_diff;

use std::process::{Command, ExitCode};

/// A cargo invocation and the environment it runs with.
type Step = (
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

/// The checks, in order.
const CI_STEPS: &[Step] = &[
    (&["fmt", "--all", "--check"], &[]),
    (
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    ),
    (
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    ),
    (&["test", "--workspace"], &[]),
    (
        &[
            "test",
            "-p",
            "vnuma-topology",
            "--all-features",
            "--test",
            "seed",
            "--test",
            "config",
        ],
        &[],
    ),
    (
        &["doc", "--workspace", "--no-deps", "--all-features"],
        &[("RUSTDOCFLAGS", "-D warnings")],
    ),
];

fn ci() -> ExitCode {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    for (args, env) in CI_STEPS {
        eprintln!("xtask: cargo {}", args.join(" "));
        let status = Command::new(&cargo)
            .args(*args)
            .envs(env.iter().copied())
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => {
                eprintln!("xtask: `cargo {}` failed ({s})", args.join(" "));
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("xtask: cannot run cargo: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("bench") => bench::run(&args[1..]),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some("qemu-diff") => qemu_diff::main(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask ci\n       cargo xtask bench [--quick] [--prealloc] [--save NAME] [--compare NAME]\n       cargo xtask fuzz run <target> [--time S] [--sanitizer address|none] | smoke | cmin <target> | coverage [target] | list\n       cargo xtask qemu-diff [--corpus NAME|all|FILE] [--update] [--only ID,...] [--generate N --seed S]");
            ExitCode::FAILURE
        }
    }
}
