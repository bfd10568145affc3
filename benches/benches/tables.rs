//! ACPI table emission for the largest configuration: SRAT, SLIT and HMAT
//! of a resolved topology and its memory layout, against copying the
//! emitted bytes as the baseline (the least any emitter producing the
//! same owned tables has to do).
//!
//! Benchmark ids (paired by `cargo xtask bench`):
//!
//! * `tables-128-nodes/build`: `vnuma_tables::build` with the default
//!   options for `vnuma_benches::largest_argv` (288 CPUs, 128 nodes, the
//!   full distance matrix, HMAT), resolved once before timing;
//! * `tables-128-nodes/copy`: a clone of the tables `build` returns (three
//!   allocations and a copy of their bytes).

// criterion's macros generate undocumented items (`benches`, `main`).
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use vnuma_benches::{largest_argv, resolve_or_panic};
use vnuma_tables::TableOptions;
use vnuma_topology::layout::MemoryLayout;

fn tables_largest(c: &mut Criterion) {
    let topology = resolve_or_panic(&largest_argv());
    let layout = MemoryLayout::new(&topology);
    let opts = TableOptions::default();
    let tables = vnuma_tables::build(&topology, &layout, &opts)
        .expect("builds")
        .expect("NUMA is on");
    let mut g = c.benchmark_group("tables-128-nodes");
    g.bench_function("build", |b| {
        b.iter(|| {
            vnuma_tables::build(black_box(&topology), black_box(&layout), black_box(&opts))
                .expect("builds")
        });
    });
    g.bench_function("copy", |b| b.iter(|| black_box(&tables).clone()));
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = tables_largest
}
criterion_main!(benches);
