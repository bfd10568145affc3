//! A driver for profiling and A/B-timing resolution (parsing done
//! beforehand): `cargo build --release -p vnuma-benches --example
//! resolve_profile`, then run it (`largest` or `typical`, and a run count)
//! for the median and range of `runs` resolutions, or under
//! `valgrind --tool=callgrind` for instruction counts. Copy the binary
//! aside before a change and run both in turn to compare two versions.

use std::hint::black_box;
use std::time::Instant;

use vnuma_benches::{largest_argv, typical_argv};
use vnuma_options::CommandLine;

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_else(|| "largest".into());
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(9).max(1);
    let (argv, inner) = match which.as_str() {
        "typical" => (typical_argv(), 1000),
        _ => (largest_argv(), 10),
    };
    let cl = CommandLine::parse(&argv).expect("parses");
    let mut ns = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        for _ in 0..inner {
            black_box(vnuma_topology::resolve(black_box(&cl)).expect("resolves"));
        }
        ns.push(t.elapsed().as_nanos() as f64 / f64::from(inner));
    }
    ns.sort_by(f64::total_cmp);
    println!(
        "{which}: resolve {:.1} µs median [{:.1} – {:.1}] over {runs} runs of {inner}",
        ns[ns.len() / 2] / 1e3,
        ns[0] / 1e3,
        ns[ns.len() - 1] / 1e3
    );
}
