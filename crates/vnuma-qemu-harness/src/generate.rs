//! Random plausible command lines for differential testing: machine
//! types, `-smp`, `-m`, memory backends, `-numa node`/`cpu`/`dist`/
//! `hmat-lb`/`hmat-cache`, memory devices and ACPI switches, mostly valid
//! and now and then not. A case is a
//! pure function of the seed and its number.

use std::fmt::Write as _;

/// SplitMix64: small, seedable, good enough for drawing command lines.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Versioned machine types the generator draws from, and whether each
/// still takes `-numa node,mem=` (up to 5.0).
const MACHINES: &[(&str, bool)] = &[
    ("pc-i440fx-1.7", true),
    ("pc-i440fx-2.0", true),
    ("pc-i440fx-2.1", true),
    ("pc-i440fx-3.1", true),
    ("pc-q35-2.4", true),
    ("pc-i440fx-2.10", true),
    ("pc-i440fx-2.11", true),
    ("pc-i440fx-4.2", true),
    ("pc-i440fx-5.0", true),
    ("pc-i440fx-5.1", false),
    ("pc-i440fx-6.1", false),
    ("pc-i440fx-6.2", false),
    ("pc-i440fx-7.1", false),
    ("pc-q35-2.11", true),
    ("pc-q35-4.2", true),
    ("pc-q35-5.0", true),
    ("pc-q35-5.1", false),
    ("pc-q35-6.1", false),
    ("pc-q35-6.2", false),
    ("pc-q35-7.1", false),
];

/// One plausible random command line; case `k` of seed `seed` is the same
/// whatever N is.
pub fn generate(seed: u64, k: u64) -> Vec<String> {
    let mut r =
        Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    r.next();
    let mut a: Vec<String> = Vec::new();
    fn push(a: &mut Vec<String>, opt: &str, val: String) {
        a.push(opt.to_string());
        a.push(val);
    }

    // Machine type, and whether `mem=` is still allowed.
    let hmat = r.chance(15);
    let (machine, old) = match r.below(100) {
        0..=29 => (None, false),
        30..=44 => (Some("pc".to_string()), false),
        45..=64 => (Some("q35".to_string()), false),
        _ => {
            let (m, old) = *r.pick(MACHINES);
            (Some(m.to_string()), old)
        }
    };
    match (&machine, hmat) {
        (Some(m), true) if r.chance(50) => push(&mut a, "-M", format!("{m},hmat=on")),
        (Some(m), true) => {
            push(&mut a, "-M", m.clone());
            push(&mut a, "-machine", "hmat=on".into());
        }
        (Some(m), false) => push(&mut a, "-M", m.clone()),
        (None, true) => push(&mut a, "-machine", "hmat=on".into()),
        (None, false) => {}
    }

    // -smp: the generator's guess at the CPU count and socket count.
    let sockets = *r.pick(&[1u64, 1, 2, 2, 3, 4]);
    let dies = if r.chance(10) { 2 } else { 1 };
    let cores = *r.pick(&[1u64, 1, 2, 2, 3, 4, 6]);
    let threads = *r.pick(&[1u64, 1, 1, 1, 2, 2, 3]);
    let maxcpus = sockets * dies * cores * threads;
    let (max_cpus, socket_count) = match r.below(100) {
        0..=14 => (1, 1),
        15..=39 => {
            let n = r.range(1, 8);
            push(&mut a, "-smp", n.to_string());
            (n, n)
        }
        40..=59 => {
            let n = sockets * r.range(1, 3);
            push(&mut a, "-smp", format!("{n},sockets={sockets}"));
            (n, sockets)
        }
        60..=94 => {
            let cpus = if r.chance(35) {
                r.range(1, maxcpus)
            } else {
                maxcpus
            };
            let mut s = format!("cpus={cpus},sockets={sockets}");
            if dies > 1 {
                let _ = write!(s, ",dies={dies}");
            }
            let _ = write!(s, ",cores={cores},threads={threads}");
            if cpus < maxcpus || r.chance(20) {
                let _ = write!(s, ",maxcpus={maxcpus}");
            }
            if r.chance(5) {
                // Occasionally inconsistent.
                let _ = write!(s, ",maxcpus={}", maxcpus + 1);
            }
            push(&mut a, "-smp", s);
            (maxcpus, sockets)
        }
        _ => {
            let n = sockets * cores;
            push(
                &mut a,
                "-machine",
                format!("smp.cpus={n},smp.sockets={sockets}"),
            );
            (n, sockets)
        }
    };

    // Nodes and their memory.
    let nodes = if r.chance(10) { 0 } else { r.range(1, 6) };
    let ids: Vec<u64> = if r.chance(20) {
        // Sparse or shuffled explicit ids.
        let mut pool: Vec<u64> = (0..nodes + 3).collect();
        let mut ids = Vec::new();
        for _ in 0..nodes {
            let i = r.below(pool.len() as u64) as usize;
            ids.push(pool.swap_remove(i));
        }
        ids
    } else {
        (0..nodes).collect()
    };
    let explicit_ids = ids.iter().enumerate().any(|(i, &id)| id != i as u64) || r.chance(40);
    let mem_style = match r.below(100) {
        _ if nodes == 0 => 0,
        0..=84 => 0,         // memdev
        85..=89 => 2,        // no memory on any node
        90..=99 if old => 1, // mem=
        90..=92 => 1,        // mem= on a machine that refuses it
        _ => 0,
    };
    let mut sizes: Vec<u64> = ids
        .iter()
        .map(|_| {
            if mem_style == 0 && r.chance(10) {
                0
            } else {
                *r.pick(&[64u64, 100, 128, 128, 256, 256, 512, 1000, 1536, 3072])
            }
        })
        .collect();
    // Keep the guest's RAM (address space only: nothing touches it) small.
    while sizes.iter().sum::<u64>() > 4096 {
        let big = sizes.iter().copied().max().unwrap_or(0);
        if let Some(s) = sizes.iter_mut().find(|s| **s == big) {
            *s = 256;
        }
    }
    let total: u64 = sizes.iter().sum();
    let slots = r.chance(10);
    let m = match r.below(100) {
        _ if nodes == 0 || mem_style == 2 => Some(*r.pick(&[128u64, 256, 512])),
        0..=84 => Some(total),
        85..=92 => Some(total + 128),
        93..=96 => Some(total.saturating_sub(64).max(64)),
        _ => None,
    };
    if let Some(m) = m {
        let mut v = match r.below(10) {
            0 => format!("size={m}M"),
            1 => m.to_string(),
            2 if m % 1024 == 0 => format!("{}G", m / 1024),
            _ => format!("{m}M"),
        };
        if slots {
            let _ = write!(v, ",slots=2,maxmem={}M", m + 1024);
        }
        push(&mut a, "-m", v);
    }
    if r.chance(5) {
        let below = *r.pick(&["1G", "1536M", "2G", "3G"]);
        push(&mut a, "-machine", format!("max-ram-below-4g={below}"));
    }
    if mem_style == 0 {
        for (i, &size) in sizes.iter().enumerate() {
            if size > 0 {
                push(
                    &mut a,
                    "-object",
                    format!("memory-backend-ram,id=m{i},size={size}M"),
                );
            }
        }
        if r.chance(3) {
            push(
                &mut a,
                "-object",
                "memory-backend-ram,id=spare,size=64M".into(),
            );
        }
    }

    // CPU placement: default, cpus= ranges, or -numa cpu.
    let cpu_style = if nodes == 0 { 0 } else { r.below(100) };
    let mut node_cpus: Vec<Vec<String>> = vec![Vec::new(); ids.len()];
    if (35..75).contains(&cpu_style) {
        let partial = r.chance(20);
        let limit = if partial {
            max_cpus.div_ceil(2)
        } else {
            max_cpus
        };
        let mut next = 0;
        for (i, cpus) in node_cpus.iter_mut().enumerate() {
            if next >= limit {
                break;
            }
            let left = limit - next;
            let take = if i + 1 == ids.len() {
                left
            } else {
                r.range(0, left)
            };
            if take == 0 {
                continue;
            }
            let last = next + take - 1;
            if take > 2 && r.chance(15) {
                // Two ranges for one node.
                let mid = next + take / 2;
                cpus.push(format!("{next}-{}", mid - 1));
                cpus.push(if mid == last {
                    mid.to_string()
                } else {
                    format!("{mid}-{last}")
                });
            } else if take == 1 {
                cpus.push(next.to_string());
            } else {
                cpus.push(format!("{next}-{last}"));
            }
            next = last + 1;
        }
        if r.chance(5) && ids.len() > 1 {
            // A CPU in two nodes, or one beyond maxcpus.
            let extra = if r.chance(50) { 0 } else { max_cpus };
            node_cpus[ids.len() - 1].push(extra.to_string());
        }
    }
    for (i, &id) in ids.iter().enumerate() {
        let mut s = String::from("node");
        if explicit_ids {
            let _ = write!(s, ",nodeid={id}");
        }
        match mem_style {
            0 if sizes[i] > 0 => {
                let _ = write!(s, ",memdev=m{i}");
            }
            1 => {
                let _ = write!(s, ",mem={}M", sizes[i]);
            }
            _ => {}
        }
        for c in &node_cpus[i] {
            let _ = write!(s, ",cpus={c}");
        }
        if hmat && i > 0 && r.chance(60) {
            let _ = write!(s, ",initiator={}", ids[0]);
        }
        push(&mut a, "-numa", s);
    }
    if cpu_style >= 75 {
        for socket in 0..socket_count {
            if r.chance(10) {
                continue;
            }
            let node = ids[r.below(ids.len() as u64) as usize];
            let mut s = format!("cpu,node-id={node},socket-id={socket}");
            if dies > 1 && r.chance(50) {
                let _ = write!(s, ",die-id={}", r.below(dies));
            }
            if r.chance(15) {
                let _ = write!(s, ",core-id={}", r.below(cores));
                if threads > 1 && r.chance(50) {
                    let _ = write!(s, ",thread-id={}", r.below(threads));
                }
            }
            push(&mut a, "-numa", s);
        }
    }

    // Distances.
    if ids.len() > 1 && r.chance(35) {
        let asymmetric = r.chance(20);
        let incomplete = r.chance(20);
        for (i, &src) in ids.iter().enumerate() {
            for &dst in &ids[i + 1..] {
                if incomplete && r.chance(40) {
                    continue;
                }
                let val = r.range(11, 40);
                push(
                    &mut a,
                    "-numa",
                    format!("dist,src={src},dst={dst},val={val}"),
                );
                if asymmetric || r.chance(30) {
                    let back = if asymmetric { r.range(11, 40) } else { val };
                    push(
                        &mut a,
                        "-numa",
                        format!("dist,src={dst},dst={src},val={back}"),
                    );
                }
            }
        }
        if r.chance(10) {
            push(
                &mut a,
                "-numa",
                format!("dist,src={0},dst={0},val=10", ids[0]),
            );
        }
        if r.chance(5) {
            let val = *r.pick(&[9u64, 20, 256]);
            push(
                &mut a,
                "-numa",
                format!("dist,src={},dst={},val={val}", ids[0], ids[ids.len() - 1]),
            );
        }
    }

    // HMAT.
    if hmat && !ids.is_empty() && r.chance(70) {
        let init = ids[0];
        for &target in &ids {
            if r.chance(80) {
                let lat = r.range(1, 200) * 5;
                push(
                    &mut a,
                    "-numa",
                    format!("hmat-lb,initiator={init},target={target},hierarchy=memory,data-type=access-latency,latency={lat}"),
                );
            }
            if r.chance(50) {
                let bw = *r.pick(&["200M", "1G", "10G", "65534M"]);
                push(
                    &mut a,
                    "-numa",
                    format!("hmat-lb,initiator={init},target={target},hierarchy=memory,data-type=access-bandwidth,bandwidth={bw}"),
                );
            }
        }
        if r.chance(40) {
            let node = *r.pick(&ids);
            let level = r.range(1, 3);
            let assoc = *r.pick(&["none", "direct", "complex"]);
            let policy = *r.pick(&["none", "write-back", "write-through"]);
            push(
                &mut a,
                "-numa",
                format!("hmat-cache,node-id={node},size=10K,level={level},associativity={assoc},policy={policy},line=8"),
            );
        }
    }
    let base = Base {
        ram_mb: m.unwrap_or(128),
        slots,
        ids: &ids,
    };
    devices_and_acpi(seed, k, &base, &mut a);
    a
}

/// A generated property value as a JSON number: decimal, `0x` hex, or a
/// size with a `K`/`M`/`G` suffix.
fn number(v: &str) -> Option<u64> {
    if let Some(hex) = v.strip_prefix("0x") {
        return u64::from_str_radix(hex, 16).ok();
    }
    let (digits, shift) = match v.as_bytes().last() {
        Some(b'K') => (&v[..v.len() - 1], 10),
        Some(b'M') => (&v[..v.len() - 1], 20),
        Some(b'G') => (&v[..v.len() - 1], 30),
        _ => (v, 0),
    };
    digits.parse::<u64>().ok().map(|n| n << shift)
}

/// What the memory devices of a generated line need to know of the rest.
struct Base<'a> {
    /// `-m` in MiB (128 when not given).
    ram_mb: u64,
    /// `-m` already has `slots=2,maxmem=<ram + 1 GiB>`.
    slots: bool,
    /// The node ids.
    ids: &'a [u64],
}

/// Memory devices (`pc-dimm`, `nvdimm`, `virtio-mem-pci`,
/// `virtio-pmem-pci`, keyval or JSON) and ACPI switches, appended to
/// about a third of the lines. They are drawn from a stream of their own,
/// so the rest of a line is what earlier versions of the generator drew
/// for the same seed and number.
fn devices_and_acpi(seed: u64, k: u64, base: &Base<'_>, a: &mut Vec<String>) {
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ k.wrapping_mul(0x2545_f491_4f6c_dd1d)
        ^ 0xd1e5);
    r.next();
    if !r.chance(35) {
        return;
    }
    fn push(a: &mut Vec<String>, opt: &str, val: String) {
        a.push(opt.to_string());
        a.push(val);
    }
    match r.below(100) {
        0..=7 => a.push("-no-acpi".into()),
        8..=15 => push(a, "-machine", "acpi=off".into()),
        16..=18 => push(a, "-machine", "acpi=on".into()),
        _ => {}
    }
    let n = r.range(1, 3);
    let mut nvdimm_on = false;
    if !base.slots || r.chance(50) {
        let slots = r.range(1, 6);
        let maxmem = base.ram_mb + *r.pick(&[512u64, 1024, 2048, 4096]);
        push(a, "-m", format!("slots={slots},maxmem={maxmem}M"));
    }
    for i in 0..n {
        let kind = match r.below(100) {
            0..=49 => "pc-dimm",
            50..=69 => "virtio-mem-pci",
            70..=84 => "nvdimm",
            _ => "virtio-pmem-pci",
        };
        if kind == "nvdimm" && !nvdimm_on && r.chance(85) {
            push(a, "-machine", "nvdimm=on".into());
            nvdimm_on = true;
        }
        let size = *r.pick(&["128M", "256M", "256M", "512M", "1G", "3M", "1028K"]);
        let backend = match r.below(100) {
            0..=79 => format!("memory-backend-ram,id=dev{i},size={size}"),
            _ => format!("memory-backend-memfd,id=dev{i},size={size}"),
        };
        push(a, "-object", backend);
        let memdev = if r.chance(3) && !base.ids.is_empty() {
            // A backend a node already uses (when it has one), or none.
            "m0".to_string()
        } else {
            format!("dev{i}")
        };
        let mut props: Vec<(&str, String)> = vec![("id", format!("md{i}")), ("memdev", memdev)];
        if kind != "virtio-pmem-pci" {
            match r.below(100) {
                0..=69 if !base.ids.is_empty() => {
                    props.push(("node", r.pick(base.ids).to_string()));
                }
                70..=79 => props.push(("node", (base.ids.len() as u64 + r.below(2)).to_string())),
                _ => {}
            }
        }
        let dimm = kind == "pc-dimm" || kind == "nvdimm";
        if dimm && r.chance(15) {
            props.push(("slot", r.below(4).to_string()));
        }
        if r.chance(10) {
            let addr = *r.pick(&[
                0x1_0000_0000u64,
                0x1_4000_0000,
                0x1_8000_0000,
                0x2_0000_0000,
            ]);
            props.push((if dimm { "addr" } else { "memaddr" }, format!("{addr:#x}")));
        }
        if kind == "nvdimm" && r.chance(30) {
            props.push(("label-size", "128K".into()));
        }
        if kind == "virtio-mem-pci" && r.chance(40) {
            props.push((
                "requested-size",
                (*r.pick(&["0", "64M", "128M", "3M"])).into(),
            ));
        }
        if r.chance(10) {
            let members: Vec<String> = std::iter::once(("driver", kind.to_string()))
                .chain(props)
                .map(|(k, v)| match number(&v) {
                    Some(n) if k != "id" && k != "memdev" => format!("\"{k}\":{n}"),
                    _ => format!("\"{k}\":\"{v}\""),
                })
                .collect();
            push(a, "-device", format!("{{{}}}", members.join(",")));
        } else {
            let mut text = kind.to_string();
            for (k, v) in props {
                let _ = write!(text, ",{k}={v}");
            }
            push(a, "-device", text);
        }
    }
}
