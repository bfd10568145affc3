//! From argv to a validated topology: `CommandLine::parse` followed by
//! `vnuma_topology::resolve`, against parsing alone as the baseline (so
//! the report shows what resolution adds to reading the options).
//!
//! Benchmark ids (paired by `cargo xtask bench`):
//!
//! * `resolve-128-nodes/{resolve,resolve-only,parse}`: parse + resolve,
//!   resolve of an already parsed command line, and parse alone, of the
//!   largest configuration q35
//!   accepts: 288 CPUs, 128 nodes with backends, the full 128 × 128
//!   distance matrix and HMAT (see `vnuma_benches::largest_argv`);
//! * `resolve-q35/{resolve,resolve-only,parse}`: a typical 4-node VM.
//! * `parse/{largest,typical-q35}`: `CommandLine::parse` of the same two
//!   command lines, each against its baseline
//!   `parse/{scan-baseline,typical-q35-scan}`, one pass over the same argv
//!   that finds every `,` and `=` (`vnuma_benches::scan_separators`).
//! * `repeated-flags-1mb/{resolve,copy}`: parse + resolve of one 1 MiB
//!   `-object` argument of 116,508 short-form flags (`,prealloc`), each
//!   of which warns (issue 17: this was quadratic), against a copy of the
//!   argv (the least a reader of the bytes does). Its memory bound is the
//!   counting-allocator test `crates/vnuma/tests/bounded_memory.rs`.

// criterion's macros generate undocumented items (`benches`, `main`).
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use vnuma_benches::{largest_argv, resolve_or_panic, scan_separators, typical_argv};
use vnuma_options::CommandLine;

/// Benchmark parse + resolve and parse alone of `argv` in group `name`.
fn bench_argv(c: &mut Criterion, name: &str, argv: &[String], flat: bool) {
    // Refuse to time a configuration QEMU would reject.
    resolve_or_panic(argv);
    let mut g = c.benchmark_group(name);
    if flat {
        // Milliseconds per iteration: linear sampling would need
        // thousands of them.
        g.sampling_mode(SamplingMode::Flat);
    }
    g.bench_function("resolve", |b| {
        b.iter(|| {
            let cl = CommandLine::parse(black_box(argv)).expect("parses");
            vnuma_topology::resolve(&cl).expect("resolves")
        });
    });
    let parsed = CommandLine::parse(argv).expect("parses");
    g.bench_function("resolve-only", |b| {
        b.iter(|| vnuma_topology::resolve(black_box(&parsed)).expect("resolves"));
    });
    g.bench_function("parse", |b| {
        b.iter(|| CommandLine::parse(black_box(argv)).expect("parses"));
    });
    g.finish();
}

/// The parser against the least any parser of this syntax does: one pass
/// over the same bytes finding every `,` and `=`.
fn parse(c: &mut Criterion) {
    let largest = largest_argv();
    let typical = typical_argv();
    let mut g = c.benchmark_group("parse");
    g.bench_function("largest", |b| {
        b.iter(|| CommandLine::parse(black_box(&largest)).expect("parses"));
    });
    let mut found = Vec::new();
    g.bench_function("scan-baseline", |b| {
        b.iter(|| scan_separators(black_box(&largest), &mut found));
    });
    g.bench_function("typical-q35", |b| {
        b.iter(|| CommandLine::parse(black_box(&typical)).expect("parses"));
    });
    g.bench_function("typical-q35-scan", |b| {
        b.iter(|| scan_separators(black_box(&typical), &mut found));
    });
    g.finish();
}

fn resolve_largest(c: &mut Criterion) {
    bench_argv(c, "resolve-128-nodes", &largest_argv(), true);
}

fn resolve_typical(c: &mut Criterion) {
    bench_argv(c, "resolve-q35", &typical_argv(), false);
}

fn resolve_repeated_flags(c: &mut Criterion) {
    const FLAG: &str = ",prealloc";
    let mut arg = String::from("memory-backend-ram,id=a,size=4K");
    arg.push_str(&FLAG.repeat((1 << 20) / FLAG.len()));
    let argv: Vec<String> = vec!["-m".into(), "4K".into(), "-object".into(), arg];
    resolve_or_panic(&argv);
    let mut g = c.benchmark_group("repeated-flags-1mb");
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("resolve", |b| {
        b.iter(|| {
            let cl = CommandLine::parse(black_box(&argv)).expect("parses");
            vnuma_topology::resolve(&cl).expect("resolves")
        });
    });
    g.bench_function("copy", |b| b.iter(|| black_box(&argv).clone()));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = parse, resolve_largest, resolve_typical, resolve_repeated_flags
}
criterion_main!(benches);
