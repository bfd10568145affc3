//! The scenarios the vnuma benchmarks measure: command lines, guest range
//! sets and query addresses.
//!
//! They live in a library (not in the benchmark files) so that
//! `cargo test` checks them: every command line resolves, every range set
//! is disjoint, every query address is inside a range, the largest
//! configuration's tables build. The benchmarks (`benches/lookup.rs`,
//! `benches/resolve.rs`, `benches/tables.rs`) and the end-to-end helper
//! (`examples/e2e.rs`) only time them, and `cargo xtask bench` pairs each
//! vnuma figure with its baseline.
//!
//! Everything here is deterministic: query addresses come from a seeded
//! xorshift generator, so two runs measure the same work.

use std::fmt::Write as _;

use vnuma_options::CommandLine;
use vnuma_ranges::{Range, RangeMap};
use vnuma_topology::layout::MemoryLayout;

mod seed_index;
pub use seed_index::SeedIndex;

const KIB: u64 = 1 << 10;
const GIB: u64 = 1 << 30;

/// Size of the small regions used to compare with vm-memory, which needs
/// real host mappings behind every region.
pub const SMALL_REGION: u64 = 4 * KIB;

/// How many query addresses each lookup benchmark cycles through (one
/// benchmark iteration looks all of them up).
pub const QUERIES: usize = 1024;

/// Seed of the query-address generator.
pub const QUERY_SEED: u64 = 0x5eed_7a3b_91c4_d2e1;

/// A seeded xorshift64* generator: enough to spread query addresses, and
/// the same sequence on every run and machine.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (0 is replaced, xorshift must not be 0).
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `[0, bound)` (`bound > 0`; the tiny modulo bias does not
    /// matter for spreading addresses).
    pub fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "empty bound");
        self.next_u64() % bound
    }
}

/// One guest-physical range and the node that owns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    /// First address.
    pub start: u64,
    /// Length in bytes (never 0).
    pub len: u64,
    /// Owning node.
    pub node: u16,
}

/// A set of disjoint regions sorted by start address, with the number of
/// nodes they belong to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionSet {
    /// The regions, sorted by `start`, disjoint.
    pub regions: Vec<Region>,
    /// Node count (every region's node is below it).
    pub nodes: u16,
}

impl RegionSet {
    /// `nodes × per_node` regions of 1 GiB every 2 GiB, dealt to the nodes
    /// round robin (region `i` belongs to node `i % nodes`), as DIMMs
    /// plugged node after node would be. `many(128, 32)` is the
    /// 4096-range scenario.
    pub fn many(nodes: u16, per_node: u32) -> RegionSet {
        let count = u64::from(nodes) * u64::from(per_node);
        let regions = (0..count)
            .map(|i| Region {
                start: i * 2 * GIB,
                len: GIB,
                node: (i % u64::from(nodes)) as u16,
            })
            .collect();
        RegionSet { regions, nodes }
    }

    /// The boot-RAM ranges of a memory layout.
    pub fn from_layout(layout: &MemoryLayout) -> RegionSet {
        let regions = layout
            .ranges()
            .map(|(r, owner)| Region {
                start: r.start(),
                // Boot RAM never reaches 2^64, so the size fits.
                len: u64::try_from(r.size()).expect("range below 2^64"),
                node: u16::try_from(owner.node()).expect("QEMU node ids fit u16"),
            })
            .collect();
        RegionSet {
            regions,
            nodes: u16::try_from(layout.node_count()).expect("QEMU node counts fit u16"),
        }
    }

    /// The same start addresses and nodes, each region cut to at most
    /// `len` bytes (vm-memory needs a host mapping per region).
    pub fn shrunk(&self, len: u64) -> RegionSet {
        RegionSet {
            regions: self
                .regions
                .iter()
                .map(|r| Region {
                    len: r.len.min(len),
                    ..*r
                })
                .collect(),
            nodes: self.nodes,
        }
    }

    /// `count` addresses drawn uniformly from the bytes the regions
    /// cover (a region is hit in proportion to its size), all inside a
    /// region: lookups never miss.
    pub fn queries(&self, count: usize, seed: u64) -> Vec<u64> {
        // Cumulative ends of the regions in "covered bytes" space.
        let mut ends = Vec::with_capacity(self.regions.len());
        let mut total = 0u64;
        for r in &self.regions {
            total += r.len;
            ends.push(total);
        }
        let mut rng = XorShift::new(seed);
        (0..count)
            .map(|_| {
                let at = rng.below(total);
                let i = ends.partition_point(|&end| end <= at);
                let region = &self.regions[i];
                let before = ends[i] - region.len;
                region.start + (at - before)
            })
            .collect()
    }

    /// vnuma's index: a [`RangeMap`] from range to node.
    pub fn range_map(&self) -> RangeMap<u16> {
        let mut map = RangeMap::with_capacity(self.regions.len());
        for r in &self.regions {
            let range = Range::from_start_len(r.start, r.len).expect("non-empty region");
            map.insert(range, r.node).expect("disjoint regions");
        }
        map
    }

    /// The 2016 seed's index: per node a list of inclusive ranges,
    /// scanned node by node.
    pub fn seed_index(&self) -> SeedIndex {
        let mut index = SeedIndex::new(self.nodes);
        for r in &self.regions {
            index.set(r.start, r.len, r.node);
        }
        index
    }

    /// The `(start, len)` pairs, for `GuestMemoryMmap::from_ranges`.
    pub fn start_len(&self) -> Vec<(u64, usize)> {
        self.regions
            .iter()
            .map(|r| (r.start, usize::try_from(r.len).expect("region fits usize")))
            .collect()
    }
}

/// Node count of the largest configuration (QEMU's `MAX_NODES`).
pub const LARGEST_NODES: u16 = 128;

/// CPU count of the largest configuration (q35's `max_cpus`).
pub const LARGEST_CPUS: u32 = 288;

/// The largest configuration QEMU 7.2 accepts on q35, as argv (without
/// the program name):
///
/// * `-machine q35,hmat=on`, `-smp 288,sockets=8,cores=18,threads=2`
///   (q35's 288-CPU limit), `-m 128G`;
/// * 128 nodes, each with a 1 GiB `memory-backend-ram` and 2 or 3 CPUs
///   (`cpus=` spreads the 288 CPUs evenly);
/// * the full distance matrix: one `-numa dist` per ordered pair of
///   distinct nodes (128 × 127 = 16 256 options, asymmetric by design so
///   that nothing is filled in);
/// * HMAT: from initiator 0, an access-latency and an access-bandwidth
///   entry to every node, and a level-1 memory-side cache on every node
///   (which needs both entries for the node first).
pub fn largest_argv() -> Vec<String> {
    let nodes = u32::from(LARGEST_NODES);
    let mut argv: Vec<String> = Vec::new();
    let mut push = |a: &str, b: String| {
        argv.push(a.to_owned());
        argv.push(b);
    };
    push("-machine", "q35,hmat=on".into());
    push(
        "-smp",
        format!("{LARGEST_CPUS},sockets=8,cores=18,threads=2"),
    );
    push("-m", format!("{nodes}G"));
    for n in 0..nodes {
        push("-object", format!("memory-backend-ram,id=m{n},size=1G"));
    }
    for n in 0..nodes {
        let first = n * LARGEST_CPUS / nodes;
        let last = (n + 1) * LARGEST_CPUS / nodes - 1;
        push(
            "-numa",
            format!("node,nodeid={n},memdev=m{n},cpus={first}-{last}"),
        );
    }
    for src in 0..nodes {
        for dst in 0..nodes {
            if src != dst {
                push(
                    "-numa",
                    format!(
                        "dist,src={src},dst={dst},val={}",
                        largest_distance(src, dst)
                    ),
                );
            }
        }
    }
    for n in 0..nodes {
        // Latencies in ns (multiples of 10: one base for the table),
        // bandwidths in GiB/s (1..=8 GiB: 4 significant bits).
        let latency = 10 * (10 + n % 16);
        let bandwidth = (1 + u64::from(n % 8)) * GIB;
        push(
            "-numa",
            format!(
                "hmat-lb,initiator=0,target={n},hierarchy=memory,\
                 data-type=access-latency,latency={latency}"
            ),
        );
        push(
            "-numa",
            format!(
                "hmat-lb,initiator=0,target={n},hierarchy=memory,\
                 data-type=access-bandwidth,bandwidth={bandwidth}"
            ),
        );
        push(
            "-numa",
            format!(
                "hmat-cache,node-id={n},size=10K,level=1,\
                 associativity=direct,policy=write-back,line=64"
            ),
        );
    }
    argv
}

/// The parse baseline: one pass over every byte of `argv` that finds each
/// `,` and `=` (the least any parser of QEMU's option syntax does),
/// recording their positions (byte offsets into the arguments laid end to
/// end, one separator byte between them) in `found`, which is cleared
/// first and reused between runs so the baseline does not time an
/// allocation. Returns how many it found.
///
/// A byte loop: on these short arguments (20–90 bytes) it measured faster
/// than finding the separators 64 bytes at a time through a bit mask.
pub fn scan_separators(argv: &[String], found: &mut Vec<u32>) -> usize {
    found.clear();
    let mut base = 0u32;
    for arg in argv {
        for (i, &b) in arg.as_bytes().iter().enumerate() {
            if b == b',' || b == b'=' {
                found.push(base.wrapping_add(i as u32));
            }
        }
        base = base.wrapping_add(arg.len() as u32 + 1);
    }
    found.len()
}

/// The distance the largest configuration gives `src → dst` (distinct):
/// growing with how far apart the ids are, and one more going down than
/// going up, so the matrix is asymmetric.
pub fn largest_distance(src: u32, dst: u32) -> u8 {
    let gap = src.abs_diff(dst).min(100);
    let value = 20 + gap + u32::from(src > dst);
    u8::try_from(value).expect("distance below 256")
}

/// A typical 4-node VM: q35, 16 CPUs in 4 sockets, 16 GiB in four 4 GiB
/// backends (so node 0 straddles the PCI hole), one socket per node and
/// the upper triangle of the distance matrix.
pub fn typical_argv() -> Vec<String> {
    let mut argv: Vec<String> = [
        "-machine",
        "q35",
        "-smp",
        "16,sockets=4,cores=4",
        "-m",
        "16G",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for n in 0..4 {
        argv.push("-object".into());
        argv.push(format!("memory-backend-ram,id=m{n},size=4G"));
    }
    for n in 0..4 {
        argv.push("-numa".into());
        argv.push(format!(
            "node,nodeid={n},memdev=m{n},cpus={}-{}",
            4 * n,
            4 * n + 3
        ));
    }
    for src in 0..4u32 {
        for dst in src + 1..4 {
            argv.push("-numa".into());
            argv.push(format!(
                "dist,src={src},dst={dst},val={}",
                11 * (dst - src) + 10
            ));
        }
    }
    argv
}

/// Parse and resolve `argv`, panicking with vnuma's message if QEMU
/// would refuse it (the benchmarks call this once, before timing).
pub fn resolve_or_panic(argv: &[String]) -> vnuma_topology::Topology {
    let cl = CommandLine::parse(argv).unwrap_or_else(|e| panic!("{}", describe(argv, &e)));
    vnuma_topology::resolve(&cl).unwrap_or_else(|e| panic!("{}", describe(argv, &e)))
}

fn describe(argv: &[String], e: &dyn std::fmt::Display) -> String {
    let mut s = String::new();
    let _ = write!(s, "{e} (argv of {} words)", argv.len());
    s
}

/// Size of the backend the preallocation comparisons fill.
pub const PREALLOC_SIZE: u64 = 2 * GIB;

/// One 2 GiB `memory-backend-ram` as the machine's RAM, preallocated
/// (`prealloc=on`) or not, as argv: the configuration `cargo xtask bench`
/// gives QEMU and vnuma to compare their preallocation end to end.
pub fn prealloc_argv(prealloc: bool) -> Vec<String> {
    let prealloc = if prealloc { "on" } else { "off" };
    [
        "-m".to_owned(),
        "2G".to_owned(),
        "-object".to_owned(),
        format!("memory-backend-ram,id=m,size=2G,prealloc={prealloc}"),
        "-machine".to_owned(),
        "memory-backend=m".to_owned(),
    ]
    .into()
}

/// The memory layout of the typical 4-node VM.
pub fn typical_layout() -> MemoryLayout {
    MemoryLayout::new(&resolve_or_panic(&typical_argv()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_configuration_resolves() {
        let argv = largest_argv();
        let numa = argv.iter().filter(|a| *a == "-numa").count();
        // 128 nodes + 16 256 distances + 3 × 128 HMAT options.
        assert_eq!(numa, 128 + 128 * 127 + 3 * 128);
        let t = resolve_or_panic(&argv);
        assert_eq!(t.nodes().len(), 128);
        assert_eq!(t.cpus().len(), 288);
        assert!(t.hmat_enabled());
        assert_eq!(t.hmat().caches.len(), 128);
        assert_eq!(t.hmat().lb.len(), 2);
        assert!(t.nodes().iter().all(|n| n.mem == GIB && n.has_cpu));
        assert_eq!(t.distance(3, 5), Some(22));
        assert_eq!(t.distance(5, 3), Some(23));
        assert_eq!(t.distance(7, 7), Some(10));
        for node in 0..128u16 {
            let cpus = t.node_cpus(u32::from(node)).count();
            assert!((2..=3).contains(&cpus), "node {node}: {cpus} CPUs");
        }
    }

    #[test]
    fn largest_configuration_has_tables() {
        let t = resolve_or_panic(&largest_argv());
        let layout = MemoryLayout::new(&t);
        let tables = vnuma_tables::build(&t, &layout, &vnuma_tables::TableOptions::default())
            .expect("builds")
            .expect("NUMA is on");
        let names: Vec<&str> = tables.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["SRAT", "SLIT", "HMAT"]);
        // SLIT: header, locality count, one byte per pair of nodes.
        assert_eq!(tables.slit.as_ref().unwrap().len(), 36 + 8 + 128 * 128);
        assert!(tables.srat.len() > 128 * 40, "a memory affinity per node");
    }

    #[test]
    fn prealloc_configuration_plans() {
        for prealloc in [false, true] {
            let vm = vnuma::Vm::from_args(prealloc_argv(prealloc)).expect("resolves");
            assert_eq!(vm.topology().ram_size(), PREALLOC_SIZE);
            let ram = vm.ram_request();
            assert_eq!(ram.backends.len(), 1);
            assert_eq!(ram.backends[0].size, PREALLOC_SIZE);
            assert_eq!(ram.backends[0].prealloc, Some(prealloc));
        }
    }

    #[test]
    fn typical_configuration_resolves() {
        let t = resolve_or_panic(&typical_argv());
        assert_eq!(t.nodes().len(), 4);
        assert_eq!(t.distance(0, 3), Some(43));
        assert_eq!(t.distance(3, 0), Some(43));
        let layout = MemoryLayout::new(&t);
        let set = RegionSet::from_layout(&layout);
        // Node 0: [0, 640K), [1M, 2G), [4G, 6G); nodes 1-3 above.
        assert_eq!(set.regions.len(), 6);
        assert_eq!(set.regions[2].start, 4 * GIB);
        assert_eq!(
            set.regions.iter().map(|r| r.len).sum::<u64>(),
            16 * GIB - 384 * KIB
        );
    }

    fn check_queries(set: &RegionSet) {
        let map = set.range_map();
        let seed = set.seed_index();
        for a in set.queries(QUERIES, QUERY_SEED) {
            let node = *map.get(a).expect("query inside a region");
            assert_eq!(seed.get_node(a).unwrap(), node);
        }
    }

    #[test]
    fn queries_hit_and_indexes_agree() {
        let many = RegionSet::many(128, 32);
        assert_eq!(many.regions.len(), 4096);
        check_queries(&many);
        check_queries(&many.shrunk(SMALL_REGION));
        let typical = RegionSet::from_layout(&typical_layout());
        check_queries(&typical);
        check_queries(&typical.shrunk(SMALL_REGION));
    }

    #[test]
    fn layout_and_region_set_agree() {
        let layout = typical_layout();
        let set = RegionSet::from_layout(&layout);
        let map = set.range_map();
        for a in set.queries(QUERIES, 7) {
            assert_eq!(layout.node_of(a), map.get(a).copied().map(u32::from));
        }
    }

    #[test]
    fn queries_spread_over_the_regions() {
        let set = RegionSet::many(128, 32);
        let map = set.range_map();
        let mut hit = [false; 128];
        for a in set.queries(QUERIES, QUERY_SEED) {
            hit[usize::from(*map.get(a).unwrap())] = true;
        }
        assert!(hit.iter().all(|&h| h), "every node is queried");
    }
}
