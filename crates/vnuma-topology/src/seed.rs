//! The 2016 seed's NUMA rules ([`crate::resolve::Profile::Seed2016`]).
//!
//! Differences from QEMU 7.2 (spec §9): only `-numa node` exists (its
//! fields `nodeid`, `cpus`, `mem`, `memdev`); `mem=` is accepted on every
//! machine without a warning; `memdev` must be on every node or none; CPUs
//! are collected per node and a CPU in two nodes is reported after all
//! options; when no node has memory, RAM is split in 8 MiB-aligned shares
//! with the rest on the last node; when no node lists a CPU, CPU `i` goes
//! to its socket modulo the node count; CPUs in no node go to node 0 with
//! the seed's warnings; no distances, no HMAT.
//!
//! Deviation: a suffix-less `mem=` too large for MiB wraps in the seed;
//! vnuma keeps QEMU 7.2's reading of it.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use vnuma_options::NumaOptions;

use core::fmt;

use crate::error::{Error, ErrorKind, Warning, WarningKind};
use crate::resolve::{default_node, find_backend, Ctx, NumaOutcome};
use crate::topology::{Hmat, Node};

const ALIGN: u64 = 8 << 20;

/// What only the 2016 seed rejects. `Display` is the seed's text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// A CPU listed in several nodes.
    #[error("CPU(s) present in multiple NUMA nodes: {cpus}")]
    CpuInMultipleNodes {
        /// Space-separated CPU indexes.
        cpus: String,
    },
    /// A `-numa` type or member the seed did not have.
    #[error("Invalid parameter '{key}'")]
    InvalidParameter {
        /// The type or key.
        key: String,
    },
    /// `mem=` and `memdev=` on one node.
    #[error("qemu: cannot specify both mem= and memdev=")]
    MemAndMemdev,
    /// `memdev` on some nodes only.
    #[error("qemu: memdev option must be specified for either all or no nodes")]
    MemdevAllOrNone,
    /// A backend used twice.
    #[error("memory backend {id} is used multiple times. Each -numa option must use a different memdev value.")]
    BackendUsedTwice {
        /// The backend.
        id: String,
    },
}

/// What only the 2016 seed warns about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SeedWarning {
    /// CPUs in no node (`0 1 2`).
    CpusNotPresent {
        /// Space-separated indexes.
        list: String,
    },
    /// The line after it.
    PartialMapping,
}

impl fmt::Display for SeedWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SeedWarning::CpusNotPresent { list } => {
                write!(f, "CPU(s) not present in any NUMA nodes: {list}")
            }
            SeedWarning::PartialMapping => {
                f.write_str("All CPU(s) up to maxcpus should be described in NUMA config")
            }
        }
    }
}

fn seed(e: SeedError) -> ErrorKind {
    ErrorKind::Seed(e)
}

struct SeedNode {
    present: bool,
    mem: u64,
    memdev: Option<String>,
    cpus: Vec<bool>,
}

fn enumerate(cpus: &[bool]) -> String {
    let mut s = String::new();
    for (i, _) in cpus.iter().enumerate().filter(|(_, &c)| c) {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&alloc::format!("{i}"));
    }
    s
}

pub(crate) fn numa(ctx: &Ctx<'_>, warnings: &mut Vec<Warning>) -> Result<NumaOutcome, Error> {
    let max_cpus = ctx.max_cpus as usize;
    let mut nodes: Vec<SeedNode> = (0..128)
        .map(|_| SeedNode {
            present: false,
            mem: 0,
            memdev: None,
            cpus: Vec::new(),
        })
        .collect();
    let mut count = 0u32;
    let mut max_nodeid = 0u32;
    let mut have_memdevs: Option<bool> = None;
    for arg in ctx.cl.numa() {
        let loc = &arg.location;
        let at = |kind: ErrorKind| crate::resolve::option_error(kind, loc);
        let parsed = arg.result.as_ref().map_err(|e| Error::from(e.clone()))?;
        warnings.extend(parsed.warnings.iter().cloned().map(Warning::from));
        let node = match &parsed.value {
            NumaOptions::Node(node) => node,
            other => {
                return Err(at(seed(SeedError::InvalidParameter {
                    key: other.type_name().into(),
                })))
            }
        };
        if node.initiator.is_some() {
            return Err(at(seed(SeedError::InvalidParameter {
                key: "initiator".into(),
            })));
        }
        let nodenr = node.nodeid.map_or(count, u32::from);
        if nodenr >= 128 {
            return Err(at(ErrorKind::MaxNodes { node: nodenr }));
        }
        let n = &mut nodes[nodenr as usize];
        if n.present {
            return Err(at(ErrorKind::DuplicateNode {
                node: nodenr as u16,
            }));
        }
        for cpu in node.cpus.iter().flat_map(|r| r.iter()) {
            if u32::from(cpu) >= ctx.max_cpus {
                return Err(at(ErrorKind::CpuIndexTooLarge {
                    cpu,
                    max_cpus: ctx.max_cpus,
                }));
            }
            if n.cpus.is_empty() {
                n.cpus = vec![false; max_cpus];
            }
            n.cpus[usize::from(cpu)] = true;
        }
        if node.mem.is_some() && node.memdev.is_some() {
            return Err(at(seed(SeedError::MemAndMemdev)));
        }
        let uses = *have_memdevs.get_or_insert(node.memdev.is_some());
        if node.memdev.is_some() != uses {
            return Err(at(seed(SeedError::MemdevAllOrNone)));
        }
        if let Some(mem) = node.mem {
            n.mem = mem;
        }
        if let Some(name) = &node.memdev {
            let b = find_backend(ctx.backends, name)
                .ok_or_else(|| at(ErrorKind::MemdevAmbiguous { name: name.clone() }))?;
            n.mem = b.size;
            n.memdev = Some(b.id.clone());
        }
        n.present = true;
        max_nodeid = max_nodeid.max(nodenr + 1);
        count += 1;
    }
    for id in (0..max_nodeid).rev() {
        if !nodes[id as usize].present {
            return Err(ErrorKind::NodeIdMissing { node: id as u16 }.into());
        }
    }
    let n = count as usize;
    let mut slot_node = vec![None; ctx.slots.len()];
    if n > 0 {
        if nodes[..n].iter().all(|node| node.mem == 0) {
            let mut used = 0u64;
            for node in &mut nodes[..n - 1] {
                node.mem = (ctx.ram_size / n as u64) & !(ALIGN - 1);
                used += node.mem;
            }
            nodes[n - 1].mem = ctx.ram_size - used;
        }
        let sum = nodes[..n]
            .iter()
            .fold(0u64, |s, node| s.wrapping_add(node.mem));
        if sum != ctx.ram_size {
            return Err(ErrorKind::TotalMemory {
                sum,
                ram: ctx.ram_size,
            }
            .into());
        }
        if nodes[..n].iter().all(|node| !node.cpus.contains(&true)) {
            for slot in ctx.slots {
                let node = default_node(&ctx.model.default_cpu_node, slot, count);
                let cpus = &mut nodes[usize::from(node)].cpus;
                if cpus.is_empty() {
                    *cpus = vec![false; max_cpus];
                }
                cpus[slot.index as usize] = true;
            }
        }
        // A CPU in two nodes: the seed reports what the node shares with
        // all nodes before it.
        let mut seen = vec![false; max_cpus];
        for node in &nodes[..n] {
            if node.cpus.is_empty() {
                continue;
            }
            if seen.iter().zip(&node.cpus).any(|(a, b)| *a && *b) {
                let both: Vec<bool> = seen.iter().zip(&node.cpus).map(|(a, b)| *a && *b).collect();
                return Err(Error::new(seed(SeedError::CpuInMultipleNodes {
                    cpus: enumerate(&both),
                })));
            }
            for (s, c) in seen.iter_mut().zip(&node.cpus) {
                *s |= *c;
            }
        }
        if seen.contains(&false) {
            let missing: Vec<bool> = seen.iter().map(|s| !s).collect();
            warnings.push(Warning::new(
                WarningKind::Seed(SeedWarning::CpusNotPresent {
                    list: enumerate(&missing),
                }),
                None,
            ));
            warnings.push(Warning::new(
                WarningKind::Seed(SeedWarning::PartialMapping),
                None,
            ));
        }
        for (i, slot) in slot_node.iter_mut().enumerate() {
            let node = nodes[..n]
                .iter()
                .position(|node| node.cpus.get(i) == Some(&true))
                .unwrap_or(0);
            *slot = Some(node as u16);
        }
        // memory_region_allocate_system_memory: each backend once.
        if have_memdevs == Some(true) {
            let mut used: Vec<&str> = Vec::new();
            for node in &nodes[..n] {
                if let Some(id) = node.memdev.as_deref() {
                    if used.contains(&id) {
                        return Err(Error::new(seed(SeedError::BackendUsedTwice {
                            id: id.into(),
                        })));
                    }
                    used.push(id);
                }
            }
        }
    }
    Ok(NumaOutcome {
        nodes: nodes[..n]
            .iter()
            .enumerate()
            .map(|(id, node)| Node {
                id: id as u32,
                mem: node.mem,
                memdev: node.memdev.clone(),
                zones: Vec::new(),
                initiator: None,
                has_cpu: false,
                devices: Vec::new(),
                ports: Vec::new(),
            })
            .collect(),
        slot_node,
        distances: None,
        hmat: Hmat::default(),
    })
}
