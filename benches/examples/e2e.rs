//! The vnuma side of `cargo xtask bench`'s end-to-end rows against QEMU,
//! timed in an optimised build (`cargo build --release -p vnuma-benches
//! --example e2e`; xtask itself is a debug build). It prints one item per
//! line, so xtask needs no parser:
//!
//! * `e2e argv largest|prealloc-on|prealloc-off`: the configuration's
//!   arguments (`vnuma_benches::largest_argv`, `prealloc_argv`), one per
//!   line, for xtask to hand to QEMU;
//! * `e2e numa RUNS`: nanoseconds of each of RUNS runs of the whole
//!   in-process pipeline QEMU's `-numa` handling is compared with, for the
//!   largest configuration: parse, resolve, lay out
//!   (`vnuma::Vm::from_args`) and build the ACPI tables
//!   (`Vm::acpi_tables`), after one untimed warm-up run;
//! * `e2e prealloc RUNS`: nanoseconds of each of RUNS runs of
//!   `Vm::from_args(prealloc_argv(true))?.allocate(AllocOptions::new())`,
//!   that is resolving and allocating a preallocated 2 GiB backend; the
//!   unmapping is not timed.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

use vnuma::backend::AllocOptions;
use vnuma_benches::{largest_argv, prealloc_argv, PREALLOC_SIZE};

const USAGE: &str =
    "usage: e2e argv largest|prealloc-on|prealloc-off | e2e numa RUNS | e2e prealloc RUNS";

fn numa(argv: &[String]) -> Result<u128, String> {
    let start = Instant::now();
    let vm = vnuma::Vm::from_args(black_box(argv)).map_err(|e| e.to_string())?;
    let tables = vm.acpi_tables().map_err(|e| e.to_string())?;
    let elapsed = start.elapsed().as_nanos();
    if tables.is_none() {
        return Err("the largest configuration has no NUMA tables".into());
    }
    black_box(tables);
    Ok(elapsed)
}

fn prealloc(argv: &[String]) -> Result<u128, String> {
    let start = Instant::now();
    let vm = vnuma::Vm::from_args(black_box(argv)).map_err(|e| e.to_string())?;
    let ram = vm
        .allocate(AllocOptions::new())
        .map_err(|e| e.to_string())?;
    let elapsed = start.elapsed().as_nanos();
    let backend = ram.backend("m").ok_or("no backend `m`")?;
    if !backend.is_preallocated() || ram.ram_size() != PREALLOC_SIZE {
        return Err("the backend was not preallocated".into());
    }
    drop(ram);
    Ok(elapsed)
}

fn run(args: &[String]) -> Result<(), String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let runs = |n: &str| {
        n.parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("`{n}`: RUNS is a positive number"))
    };
    match words.as_slice() {
        ["argv", name] => {
            let argv = match *name {
                "largest" => largest_argv(),
                "prealloc-on" => prealloc_argv(true),
                "prealloc-off" => prealloc_argv(false),
                other => return Err(format!("unknown configuration `{other}`")),
            };
            for arg in argv {
                println!("{arg}");
            }
        }
        ["numa", n] => {
            let n = runs(n)?;
            let argv = largest_argv();
            numa(&argv)?;
            for _ in 0..n {
                println!("{}", numa(&argv)?);
            }
        }
        ["prealloc", n] => {
            let n = runs(n)?;
            let argv = prealloc_argv(true);
            for _ in 0..n {
                println!("{}", prealloc(&argv)?);
            }
        }
        _ => return Err(USAGE.into()),
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("e2e: {e}");
            ExitCode::FAILURE
        }
    }
}
