//! Address → node lookup: vnuma against the 2016 seed's per-node list scan
//! and against vm-memory's address → region lookup.
//!
//! Benchmark ids are `<scenario>/<implementation>`; `cargo xtask bench`
//! pairs them (see `xtask/src/bench.rs`):
//!
//! * `lookup-4096/{vnuma,seed}`: 128 nodes × 32 ranges of 1 GiB;
//! * `lookup-4096-4k/{vnuma,vm-memory}`: the same start addresses, 4 KiB
//!   each (vm-memory maps every region);
//! * `lookup-q35/{vnuma,seed}`: a q35 VM with four 4 GiB nodes
//!   (`MemoryLayout::node_of`);
//! * `lookup-q35-4k/{vnuma,vm-memory}`: its ranges' start addresses,
//!   4 KiB each.
//!
//! One iteration looks up [`QUERIES`] addresses, drawn uniformly from the
//! covered bytes; the throughput is set so that results are per lookup.

// criterion's macros generate undocumented items (`benches`, `main`).
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use vm_memory::{GuestAddress, GuestMemoryBackend, GuestMemoryMmap, GuestMemoryRegion};
use vnuma_benches::{typical_layout, RegionSet, QUERIES, QUERY_SEED, SMALL_REGION};

/// A group whose results are per lookup.
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(QUERIES as u64));
    g
}

/// Time `lookup` over every query address. `lookup` answers a token of
/// what it found (a node, a region start) so that nothing is optimised
/// away; monomorphised, so no call overhead is added.
fn bench_lookup<F>(g: &mut BenchmarkGroup<'_, WallTime>, id: &str, queries: &[u64], lookup: F)
where
    F: Fn(u64) -> Option<u64>,
{
    // Every query is inside a region: a miss would be a broken scenario.
    assert!(
        queries.iter().all(|&a| lookup(a).is_some()),
        "{id}: a query missed"
    );
    g.bench_function(id, |b| {
        b.iter(|| {
            let mut acc = 0u64;
            for &a in black_box(queries) {
                acc ^= lookup(a).unwrap_or(u64::MAX);
            }
            acc
        });
    });
}

/// vnuma's `RangeMap::get` and vm-memory's `find_region` over `set`'s
/// start addresses cut to 4 KiB (vm-memory needs a real mapping per
/// region).
fn vnuma_and_vm_memory(g: &mut BenchmarkGroup<'_, WallTime>, set: &RegionSet) {
    let small = set.shrunk(SMALL_REGION);
    let queries = small.queries(QUERIES, QUERY_SEED);
    let map = small.range_map();
    bench_lookup(g, "vnuma", &queries, |a| map.get(a).map(|&n| n.into()));
    let ranges: Vec<(GuestAddress, usize)> = small
        .start_len()
        .into_iter()
        .map(|(start, len)| (GuestAddress(start), len))
        .collect();
    let mem = GuestMemoryMmap::<()>::from_ranges(&ranges).expect("map the small regions");
    bench_lookup(g, "vm-memory", &queries, |a| {
        mem.find_region(GuestAddress(a)).map(|r| r.start_addr().0)
    });
}

fn lookup_4096(c: &mut Criterion) {
    let set = RegionSet::many(128, 32);
    let queries = set.queries(QUERIES, QUERY_SEED);
    let mut g = group(c, "lookup-4096");
    let map = set.range_map();
    bench_lookup(&mut g, "vnuma", &queries, |a| map.get(a).map(|&n| n.into()));
    let seed = set.seed_index();
    bench_lookup(&mut g, "seed", &queries, |a| {
        seed.get_node(a).ok().map(Into::into)
    });
    g.finish();
    let mut g = group(c, "lookup-4096-4k");
    vnuma_and_vm_memory(&mut g, &set);
    g.finish();
}

fn lookup_q35(c: &mut Criterion) {
    let layout = typical_layout();
    let set = RegionSet::from_layout(&layout);
    let queries = set.queries(QUERIES, QUERY_SEED);
    let mut g = group(c, "lookup-q35");
    // vnuma here is the layout's own index, as a VMM would call it.
    bench_lookup(&mut g, "vnuma", &queries, |a| {
        layout.node_of(a).map(Into::into)
    });
    let seed = set.seed_index();
    bench_lookup(&mut g, "seed", &queries, |a| {
        seed.get_node(a).ok().map(Into::into)
    });
    g.finish();
    let mut g = group(c, "lookup-q35-4k");
    vnuma_and_vm_memory(&mut g, &set);
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(40)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = lookup_4096, lookup_q35
}
criterion_main!(benches);
