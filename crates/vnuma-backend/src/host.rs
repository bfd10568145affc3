//! What the host offers: NUMA nodes and their CPUs, huge page pools, the
//! page size, overcommit settings. [`HostInfo::probe`] reads it from
//! `/sys` and `/proc`; the fields are public so that a VMM (or a test) can
//! describe another host and plan against it.

use std::fs;
use std::path::Path;

use crate::os;

/// One huge page pool (`/sys/kernel/mm/hugepages/hugepages-{kB}kB`, or a
/// node's under `/sys/devices/system/node/node{N}/hugepages`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct HugePagePool {
    /// Page size in bytes.
    pub page_size: u64,
    /// `nr_hugepages`.
    pub total: u64,
    /// `free_hugepages`.
    pub free: u64,
    /// `resv_hugepages`: free pages already promised to mappings (global
    /// pools only).
    pub reserved: u64,
    /// `surplus_hugepages`.
    pub surplus: u64,
    /// `nr_overcommit_hugepages` (global pools only).
    pub overcommit: u64,
}

impl HugePagePool {
    /// Pages a new mapping can still get: free and not reserved, plus the
    /// surplus pages the kernel may still create.
    pub fn available(&self) -> u64 {
        self.free
            .saturating_sub(self.reserved)
            .saturating_add(self.overcommit.saturating_sub(self.surplus))
    }
}

/// One host NUMA node.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct HostNode {
    /// Node id.
    pub id: u16,
    /// Whether it has memory (`/sys/devices/system/node/has_memory`).
    pub has_memory: bool,
    /// Its CPUs (`cpulist`), ascending.
    pub cpus: Vec<u32>,
    /// Its huge page pools.
    pub hugepage_pools: Vec<HugePagePool>,
}

/// A limit on the memory this process can make resident: the host's
/// available memory, or a cgroup v2 `memory.max`/`memory.high`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MemoryLimit {
    /// What the limit is, for messages (`MemAvailable + SwapFree`,
    /// `cgroup /user.slice memory.max`).
    pub what: String,
    /// Bytes still available under it.
    pub available: u64,
}

/// The host facts planning checks against.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HostInfo {
    /// The base page size.
    pub page_size: u64,
    /// Online CPUs (QEMU's prealloc thread rule uses it); `None` if
    /// unknown, which means one thread.
    pub online_cpus: Option<usize>,
    /// How many CPU ids the kernel can have (`nr_cpu_ids`: the highest id
    /// of `/sys/devices/system/cpu/possible` plus one); CPU masks are
    /// sized from it (at most 8192, Linux's largest `NR_CPUS`). `None`:
    /// sized from the CPUs named, at least 1024.
    pub possible_cpus: Option<usize>,
    /// How many node ids the kernel can have (the highest id of
    /// `/sys/devices/system/node/possible` plus one); node masks are
    /// sized from it (at most 1024, Linux's largest `MAX_NUMNODES`).
    pub possible_nodes: Option<usize>,
    /// The online NUMA nodes; empty on a kernel without NUMA.
    pub nodes: Vec<HostNode>,
    /// Nodes this process may allocate from (`Mems_allowed_list`);
    /// `None` if unknown (not checked).
    pub mems_allowed: Option<Vec<u16>>,
    /// Global huge page pools, by page size.
    pub hugepage_pools: Vec<HugePagePool>,
    /// The default huge page size (`Hugepagesize` in `/proc/meminfo`).
    pub default_hugepage_size: Option<u64>,
    /// `/proc/sys/vm/overcommit_memory`.
    pub overcommit_memory: Option<u32>,
    /// RAM plus swap in bytes: the largest private mapping the kernel's
    /// heuristic overcommit (mode 0) accepts.
    pub commit_heuristic_limit: Option<u64>,
    /// What bounds the memory preallocation can make resident: the
    /// host's `MemAvailable` plus free swap, and the `memory.max` and
    /// `memory.high` of this process's cgroup v2 and its ancestors (less
    /// their `memory.current`). Empty: not checked.
    pub memory_limits: Vec<MemoryLimit>,
}

/// At most this many CPU ids are read from one cpulist (a bound on
/// allocation for malformed input).
const MAX_CPUS: usize = 1 << 16;

/// Parse a kernel list such as `0-3,8,10-11` into ascending ids; `None`
/// if malformed or absurdly large.
pub(crate) fn parse_list(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?),
            None => {
                let v = part.trim().parse::<u32>().ok()?;
                (v, v)
            }
        };
        if b < a || (b - a) as usize >= MAX_CPUS || out.len() + ((b - a) as usize) >= MAX_CPUS {
            return None;
        }
        out.extend(a..=b);
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

fn read_trim(path: &Path) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim().to_owned())
}

fn read_u64(path: &Path) -> Option<u64> {
    read_trim(path)?.parse().ok()
}

fn read_pools(dir: &Path) -> Vec<HugePagePool> {
    let mut pools = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return pools;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(kb) = name
            .strip_prefix("hugepages-")
            .and_then(|s| s.strip_suffix("kB"))
            .and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        let p = e.path();
        let get = |f: &str| read_u64(&p.join(f)).unwrap_or(0);
        pools.push(HugePagePool {
            page_size: kb.saturating_mul(1024),
            total: get("nr_hugepages"),
            free: get("free_hugepages"),
            reserved: get("resv_hugepages"),
            surplus: get("surplus_hugepages"),
            overcommit: get("nr_overcommit_hugepages"),
        });
    }
    pools.sort_by_key(|p| p.page_size);
    pools
}

fn meminfo_kb(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kb| kb.saturating_mul(1024))
}

/// The cgroup v2 memory limits of the cgroup named in `proc_self_cgroup`
/// (the text of `/proc/self/cgroup`, whose `0::/path` line is the v2
/// one) and its ancestors, under the cgroup2 mount `root`: each
/// `memory.max` and `memory.high` that is not `max`, less the level's
/// `memory.current`. Absent files (no memory controller, cgroup v1) are
/// no limit.
pub(crate) fn cgroup_limits(root: &Path, proc_self_cgroup: &str) -> Vec<MemoryLimit> {
    let mut out = Vec::new();
    let Some(path) = proc_self_cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .map(str::trim)
    else {
        return out;
    };
    let mut level = Some(Path::new(path));
    // Bounded: a path has few components; never more than 64 levels.
    for _ in 0..64 {
        let Some(rel) = level else { break };
        let dir = root.join(rel.strip_prefix("/").unwrap_or(rel));
        let current = read_u64(&dir.join("memory.current")).unwrap_or(0);
        for file in ["memory.max", "memory.high"] {
            if let Some(limit) = read_u64(&dir.join(file)) {
                out.push(MemoryLimit {
                    what: format!("cgroup {} {file}", rel.display()),
                    available: limit.saturating_sub(current),
                });
            }
        }
        level = rel.parent();
    }
    out
}

impl HostInfo {
    /// Read the host's facts from `/sys` and `/proc`. Never fails:
    /// whatever cannot be read is left empty or `None` (and then not
    /// checked, or checked as absent for nodes).
    pub fn probe() -> HostInfo {
        let node_root = Path::new("/sys/devices/system/node");
        let online = read_trim(&node_root.join("online"))
            .and_then(|s| parse_list(&s))
            .unwrap_or_default();
        let with_memory = read_trim(&node_root.join("has_memory")).and_then(|s| parse_list(&s));
        let nodes = online
            .iter()
            .filter_map(|&id| u16::try_from(id).ok())
            .map(|id| {
                let dir = node_root.join(format!("node{id}"));
                HostNode {
                    id,
                    has_memory: with_memory
                        .as_ref()
                        .is_none_or(|m| m.contains(&u32::from(id))),
                    cpus: read_trim(&dir.join("cpulist"))
                        .and_then(|s| parse_list(&s))
                        .unwrap_or_default(),
                    hugepage_pools: read_pools(&dir.join("hugepages")),
                }
            })
            .collect();
        let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
        let mems_allowed = status
            .lines()
            .find_map(|l| l.strip_prefix("Mems_allowed_list:"))
            .and_then(parse_list)
            .map(|v| {
                v.into_iter()
                    .filter_map(|n| u16::try_from(n).ok())
                    .collect()
            });
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let commit_heuristic_limit = meminfo_kb(&meminfo, "MemTotal")
            .map(|t| t.saturating_add(meminfo_kb(&meminfo, "SwapTotal").unwrap_or(0)));
        let mut memory_limits: Vec<MemoryLimit> = meminfo_kb(&meminfo, "MemAvailable")
            .map(|a| MemoryLimit {
                what: "MemAvailable + SwapFree".into(),
                available: a.saturating_add(meminfo_kb(&meminfo, "SwapFree").unwrap_or(0)),
            })
            .into_iter()
            .collect();
        memory_limits.extend(cgroup_limits(
            Path::new("/sys/fs/cgroup"),
            &fs::read_to_string("/proc/self/cgroup").unwrap_or_default(),
        ));
        HostInfo {
            page_size: os::page_size(),
            online_cpus: os::online_cpus(),
            possible_cpus: read_trim(Path::new("/sys/devices/system/cpu/possible"))
                .and_then(|s| parse_list(&s))
                .and_then(|v| v.last().map(|&m| m as usize + 1)),
            possible_nodes: read_trim(&node_root.join("possible"))
                .and_then(|s| parse_list(&s))
                .and_then(|v| v.last().map(|&m| m as usize + 1)),
            nodes,
            mems_allowed,
            hugepage_pools: read_pools(Path::new("/sys/kernel/mm/hugepages")),
            default_hugepage_size: meminfo_kb(&meminfo, "Hugepagesize"),
            overcommit_memory: read_trim(Path::new("/proc/sys/vm/overcommit_memory"))
                .and_then(|s| s.parse().ok()),
            commit_heuristic_limit,
            memory_limits,
        }
    }

    /// A host node by id.
    pub fn node(&self, id: u16) -> Option<&HostNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The global huge page pool of `page_size`.
    pub fn hugepage_pool(&self, page_size: u64) -> Option<&HugePagePool> {
        self.hugepage_pools
            .iter()
            .find(|p| p.page_size == page_size)
    }

    /// The CPUs of `nodes`, ascending, without duplicates.
    pub fn cpus_of(&self, nodes: &[u16]) -> Vec<u32> {
        let mut cpus: Vec<u32> = nodes
            .iter()
            .filter_map(|&n| self.node(n))
            .flat_map(|n| n.cpus.iter().copied())
            .collect();
        cpus.sort_unstable();
        cpus.dedup();
        cpus
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists() {
        assert_eq!(
            parse_list("0-3,8,10-11\n"),
            Some(vec![0, 1, 2, 3, 8, 10, 11])
        );
        assert_eq!(parse_list(""), Some(vec![]));
        assert_eq!(parse_list("3-1"), None);
        assert_eq!(parse_list("0-4294967295"), None);
        assert_eq!(parse_list("x"), None);
    }

    #[test]
    fn pool_availability() {
        let p = HugePagePool {
            page_size: 2 << 20,
            total: 10,
            free: 6,
            reserved: 2,
            surplus: 1,
            overcommit: 3,
        };
        assert_eq!(p.available(), 6);
    }

    #[test]
    fn cgroup_v2_limits() {
        let root = std::env::temp_dir().join(format!("vnuma-cgroup-{}", std::process::id()));
        let leaf = root.join("machine.slice/vm");
        fs::create_dir_all(&leaf).unwrap();
        fs::write(root.join("machine.slice/memory.max"), "max\n").unwrap();
        fs::write(root.join("machine.slice/memory.high"), "4294967296\n").unwrap();
        fs::write(root.join("machine.slice/memory.current"), "1073741824\n").unwrap();
        fs::write(leaf.join("memory.max"), "1073741824\n").unwrap();
        fs::write(leaf.join("memory.current"), "1048576\n").unwrap();
        // memory.high absent in the leaf; nothing at the root.
        let limits = cgroup_limits(&root, "0::/machine.slice/vm\n");
        fs::remove_dir_all(&root).unwrap();
        assert_eq!(
            limits,
            [
                MemoryLimit {
                    what: "cgroup /machine.slice/vm memory.max".into(),
                    available: (1 << 30) - (1 << 20),
                },
                MemoryLimit {
                    what: "cgroup /machine.slice memory.high".into(),
                    available: 3 << 30,
                },
            ]
        );
        // cgroup v1 only, or no cgroup file: no limits.
        assert!(cgroup_limits(Path::new("/nonexistent"), "1:memory:/x\n").is_empty());
        assert!(cgroup_limits(Path::new("/nonexistent"), "0::/\n").is_empty());
    }

    #[test]
    fn probe_this_host() {
        let h = HostInfo::probe();
        assert!(h.page_size >= 4096);
        assert!(h.node(0).is_some(), "this test host has node 0");
        assert!(!h.cpus_of(&[0]).is_empty());
    }
}
