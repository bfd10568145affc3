//! A driver for profiling and A/B-timing the parser:
//! `cargo build --release -p vnuma-benches --example parse_profile`, then
//! `valgrind --tool=callgrind target/release/examples/parse_profile largest 3`
//! for instruction counts, or run it directly for wall-clock figures
//! (median and range of `runs` parses, and of the byte-scan baseline over
//! the same argv). Copy the binary aside before a change and run both
//! in turn to compare two versions on the same machine at the same time.

use std::hint::black_box;
use std::time::Instant;

use vnuma_benches::{largest_argv, scan_separators, typical_argv};
use vnuma_options::CommandLine;

fn stats(mut ns: Vec<f64>) -> (f64, f64, f64) {
    ns.sort_by(f64::total_cmp);
    (ns[ns.len() / 2], ns[0], ns[ns.len() - 1])
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "largest".into());
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    let (argv, inner) = match which.as_str() {
        "typical" => (typical_argv(), 1000),
        _ => (largest_argv(), 1),
    };
    let mut parse = Vec::new();
    let mut scan = Vec::new();
    let mut found = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        for _ in 0..inner {
            black_box(scan_separators(black_box(&argv), &mut found));
        }
        scan.push(t.elapsed().as_nanos() as f64 / f64::from(inner));
        let t = Instant::now();
        for _ in 0..inner {
            let cl = CommandLine::parse(black_box(&argv)).expect("parses");
            black_box(cl);
        }
        parse.push(t.elapsed().as_nanos() as f64 / f64::from(inner));
    }
    let (pm, plo, phi) = stats(parse);
    let (sm, slo, shi) = stats(scan);
    println!(
        "{which}: parse median {pm:.0} ns [{plo:.0} – {phi:.0}], scan median {sm:.0} ns [{slo:.0} – {shi:.0}], parse/scan {:.1}×",
        pm / sm
    );
}
